/* test-tee-cli.c: `merod tee verify` and `merod plugins` as an operator
 * runs them: the real merod, the real plugins from the build tree, and the
 * reference TDX samples (read from MERO_TEE_SAMPLES_DIR, never copied). */
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "mero-test-daemon.h"
#include "mero-test-fs.h"

#define CASE_A_QUOTE "dcap-qvl/tdx_quote"
#define CASE_A_COLLATERAL "dcap-qvl/tdx_quote_collateral.json"
#define CASE_A_NOW "1751328000"
#define CASE_A_MRTD \
  "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7"

typedef struct {
  char *tmp;
  char *home;
  const char *samples;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *samples = g_getenv ("MERO_TEE_SAMPLES_DIR");

  f->tmp = mero_test_make_tmpdir ("tee-cli");
  f->home = g_build_filename (f->tmp, "home", NULL);
  g_free (mero_test_home_init (f->home, NULL));
  f->samples = samples != NULL && g_file_test (samples, G_FILE_TEST_IS_DIR) ? samples : NULL;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mero_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->home);
}

static char *
sample (Fixture *f, const char *name)
{
  return g_build_filename (f->samples, name, NULL);
}

static int
tee_verify (Fixture *f, const char *quote, const char *collateral, const char *at,
            gboolean json, char **out, char **err)
{
  const char *args[] = { "tee", "verify", quote, collateral, "--home", f->home,
                         at != NULL ? "--at" : NULL, at, json ? "--json" : NULL, NULL };

  if (at == NULL && json)
    args[6] = "--json";
  return mero_test_run_merod (args, NULL, out, err);
}

#define SKIP_WITHOUT_SAMPLES()                                                          \
  if (f->samples == NULL)                                                               \
    {                                                                                   \
      g_test_skip ("MERO_TEE_SAMPLES_DIR (../shared/reference/tee-samples) is absent"); \
      return;                                                                           \
    }

static void
test_plugins_listed (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "plugins", "--home", f->home, NULL },
                                        NULL, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  g_assert_true (g_regex_match_simple ("^tee-tdx +tee-verifier +\\S+ +loaded", out,
                                       G_REGEX_MULTILINE, 0));
  g_assert_true (g_regex_match_simple ("^tee-mock +tee-verifier +\\S+ +loaded", out,
                                       G_REGEX_MULTILINE, 0));
}

static void
test_verified (Fixture *f, gconstpointer data)
{
  g_autofree char *quote = NULL, *collateral = NULL, *out = NULL, *json = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  SKIP_WITHOUT_SAMPLES ();
  quote = sample (f, CASE_A_QUOTE);
  collateral = sample (f, CASE_A_COLLATERAL);
  g_assert_cmpint (tee_verify (f, quote, collateral, CASE_A_NOW, FALSE, &out, NULL), ==, 0);
  g_test_message ("%s", out);
  g_assert_nonnull (strstr (out, "verified: yes"));
  g_assert_nonnull (strstr (out, "status: UpToDate"));
  g_assert_nonnull (strstr (out, "mrtd: " CASE_A_MRTD));
  g_assert_nonnull (strstr (out, "fmspc: B0C06F000000"));

  g_assert_cmpint (tee_verify (f, quote, collateral, CASE_A_NOW, TRUE, &json, NULL), ==, 0);
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_true (json_object_get_boolean_member (o, "verified"));
  g_assert_cmpstr (json_object_get_string_member (o, "verifier"), ==, "tee-tdx");
  g_assert_cmpstr (json_object_get_string_member (o, "mrtd"), ==, CASE_A_MRTD);
  g_assert_false (json_object_get_boolean_member (o, "mock"));
}

/* A directory of collateral: the document of the quote's FMSPC is used
 * (case B's is one of several in the folder); a hex quote file is read. */
static void
test_collateral_directory (Fixture *f, gconstpointer data)
{
  g_autofree char *quote = NULL, *dir = NULL, *out = NULL;

  SKIP_WITHOUT_SAMPLES ();
  quote = sample (f, "dcap-qvl/near_quote_hex.txt");
  dir = sample (f, "dcap-qvl");
  g_assert_cmpint (tee_verify (f, quote, dir, "1757894400", FALSE, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "fmspc: 20A06F000000"));
}

/* Without a collateral argument, the home's tee.collateral_dir is used:
 * relative to the home by default (absent here: bad usage), or as set. */
static void
test_collateral_dir_key (Fixture *f, gconstpointer data)
{
  g_autofree char *quote = NULL, *dir = NULL, *out = NULL, *err = NULL;

  SKIP_WITHOUT_SAMPLES ();
  quote = sample (f, CASE_A_QUOTE);
  dir = sample (f, "dcap-qvl");
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "verify", quote, "--home",
                                                           f->home, "--at", CASE_A_NOW, NULL },
                                        NULL, NULL, &err),
                   ==, 2);
  g_assert_nonnull (strstr (err, "tee-collateral"));
  mero_test_config_set (f->home, "tee.collateral_dir", dir);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "verify", quote, "--home",
                                                           f->home, "--at", CASE_A_NOW, NULL },
                                        NULL, &out, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, "mrtd: " CASE_A_MRTD));
}

static void
test_refused (Fixture *f, gconstpointer data)
{
  g_autofree char *quote = NULL, *collateral = NULL, *quote_d = NULL, *collateral_d = NULL;
  g_autofree char *err = NULL, *err2 = NULL, *json = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *o;

  SKIP_WITHOUT_SAMPLES ();
  quote = sample (f, CASE_A_QUOTE);
  collateral = sample (f, CASE_A_COLLATERAL);
  /* One second after the TCB info's nextUpdate. */
  g_assert_cmpint (tee_verify (f, quote, collateral, "1752920164", FALSE, NULL, &err), ==, 1);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, "quote refused: TCB info expired"));

  /* Case D: valid signatures, no TCB level for the platform. */
  quote_d = sample (f, "dcap-qvl/tdx_quote_outdated");
  collateral_d = sample (f, "dcap-qvl/tdx_quote_outdated_collateral.json");
  g_assert_cmpint (tee_verify (f, quote_d, collateral_d, "1772323200", TRUE, &json, &err2), ==,
                   1);
  g_assert_true (json_parser_load_from_data (parser, json, -1, NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_false (json_object_get_boolean_member (o, "verified"));
  g_assert_nonnull (strstr (json_object_get_string_member (o, "reason"), "TcbNotSupported"));
}

static void
test_bad_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *missing = g_build_filename (f->tmp, "no-such-quote", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "--home", f->home, NULL },
                                        NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "verify", missing, "--home",
                                                           f->home, NULL },
                                        NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "attest", "a", "b", "--home",
                                                           f->home, NULL },
                                        NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "verify", "a", "b", "c",
                                                           "--home", f->home, NULL },
                                        NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "tee", "verify", "a", "b", "--at",
                                                           "soon", "--home", f->home, NULL },
                                        NULL, NULL, NULL), ==, 2);
  g_assert_cmpint (tee_verify (f, missing, f->tmp, NULL, FALSE, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, "cannot read the quote"));
}

/* A mock quote: refused until tee.accept_mock=true, then accepted and
 * shown as mock; a garbage file is refused (no verifier handles it). */
static void
test_mock (Fixture *f, gconstpointer data)
{
  g_autofree char *quote = g_build_filename (f->tmp, "mock.quote", NULL);
  g_autofree char *junk = g_build_filename (f->tmp, "junk.quote", NULL);
  g_autofree char *err = NULL, *err2 = NULL, *err3 = NULL, *out = NULL, *value = NULL;
  uint8_t bytes[256] = { 0 };

  memcpy (bytes, "MOCK_TDX_QUOTE_V1", 17);
  memset (bytes + 17, 0xab, 64);
  g_assert_true (g_file_set_contents (quote, (const char *) bytes, sizeof bytes, NULL));
  g_assert_true (g_file_set_contents (junk, "\x01\x02\x03", 3, NULL));

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "get", "tee.accept_mock",
                                                           "--home", f->home, NULL },
                                        NULL, &value, NULL), ==, 0);
  g_assert_cmpstr (g_strstrip (value), ==, "false");
  g_assert_cmpint (tee_verify (f, quote, f->tmp, NULL, FALSE, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "tee.accept_mock is false"));

  mero_test_config_set (f->home, "tee.accept_mock", "true");
  g_assert_cmpint (tee_verify (f, quote, f->tmp, NULL, FALSE, &out, &err2), ==, 0);
  g_test_message ("%s%s", out, err2);
  g_assert_nonnull (strstr (out, "verifier: tee-mock"));
  g_assert_nonnull (strstr (out, "status: Mock"));
  g_assert_nonnull (strstr (out, "mock: true"));
  g_assert_nonnull (strstr (out, "report_data: abababab"));
  g_assert_nonnull (strstr (err2, "MOCK quote accepted"));

  g_assert_cmpint (tee_verify (f, junk, f->tmp, NULL, FALSE, NULL, &err3), ==, 1);
  g_assert_nonnull (strstr (err3, "no loaded TEE verifier handles"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/tee-cli/plugins-listed", test_plugins_listed);
  ADD ("/tee-cli/verified", test_verified);
  ADD ("/tee-cli/collateral-directory", test_collateral_directory);
  ADD ("/tee-cli/collateral-dir-key", test_collateral_dir_key);
  ADD ("/tee-cli/refused", test_refused);
  ADD ("/tee-cli/bad-usage", test_bad_usage);
  ADD ("/tee-cli/mock", test_mock);
#undef ADD
  return g_test_run ();
}
