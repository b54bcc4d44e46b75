/* test-config.c: merod.conf schema, strict loading, config get/set. */
#include <glib/gstdio.h>
#include <string.h>

#include "config/mero-config.h"

typedef struct {
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->dir = g_dir_make_tmp ("mero-config-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, MERO_CONFIG_FILE_NAME, NULL);
  g_assert_true (mero_config_write_default (f->path, FALSE, &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_unlink (f->path);
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

/* Replaces the line starting with @prefix (e.g. "port=") by @line, or
 * deletes it when @line is NULL. */
static void
edit_line (Fixture *f, const char *prefix, const char *line)
{
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  g_autofree char *text = NULL;
  gboolean found = FALSE;

  g_assert_true (g_file_get_contents (f->path, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      if (!found && g_str_has_prefix (lines[i], prefix))
        {
          found = TRUE;
          if (line != NULL)
            g_string_append_printf (out, "%s\n", line);
          continue;
        }
      if (lines[i + 1] != NULL || lines[i][0] != '\0')
        g_string_append_printf (out, "%s\n", lines[i]);
    }
  g_assert_true (found);
  text = g_string_free (out, FALSE);
  g_assert_true (g_file_set_contents (f->path, text, -1, NULL));
}

static void
test_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = mero_config_load (f->path, &error);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_auto (GStrv) groups = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (config->network_port, ==, 2428);
  g_assert_cmpstrv (config->network_listen, ((const char *const[]) { "0.0.0.0", "::", NULL }));
  g_assert_true (config->network_mdns);
  g_assert_cmpuint (config->network_mdns_interval_secs, ==, 10);
  g_assert_cmpuint (config->network_security, ==, 0); /* noise-first */
  g_assert_cmpstr (config->store_backend, ==, "store-rocksdb");
  g_assert_cmpstr (config->store_path, ==, "data");
  g_assert_cmpuint (config->store_encryption, ==, MERO_CONFIG_ENCRYPTION_NONE);
  g_assert_cmpstr (config->server_listen, ==, "127.0.0.1:2528");
  g_assert_cmpuint (config->dbus_bus, ==, MERO_CONFIG_BUS_SESSION);
  g_assert_cmpuint (g_strv_length (config->plugins_disabled), ==, 0);
  g_assert_cmpuint (config->gc_interval_secs, ==, 43200);
  g_assert_nonnull (config->node_name);

  /* Every key is documented by a comment right above it. */
  g_assert_true (g_key_file_load_from_file (kf, f->path, G_KEY_FILE_KEEP_COMMENTS, NULL));
  groups = g_key_file_get_groups (kf, NULL);
  for (gsize g = 0; groups[g] != NULL; g++)
    {
      g_auto (GStrv) keys = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      for (gsize k = 0; keys[k] != NULL; k++)
        {
          g_autofree char *comment = g_key_file_get_comment (kf, groups[g], keys[k], NULL);

          g_assert_nonnull (comment);
          g_assert_cmpuint (strlen (comment), >, 10);
        }
    }
}

static void
assert_bad (Fixture *f, const char *prefix, const char *line, MeroConfigError code,
            const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = NULL;

  edit_line (f, prefix, line);
  config = mero_config_load (f->path, &error);
  g_assert_null (config);
  g_assert_error (error, MERO_CONFIG_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, f->path));
  if (key != NULL)
    g_assert_nonnull (strstr (error->message, key));
  if (value != NULL)
    g_assert_nonnull (strstr (error->message, value));
}

static void
test_bad_values (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *prefix, *line, *key, *value;
  } cases[] = {
    { "port=", "port=abc", "network.port", "abc" },
    { "port=", "port=0", "network.port", "0" },
    { "port=", "port=65536", "network.port", "65536" },
    { "mdns=", "mdns=maybe", "network.mdns", "maybe" },
    { "security=", "security=ssl", "network.security", "ssl" },
    { "mdns_interval_secs=", "mdns_interval_secs=0", "network.mdns_interval_secs", "0" },
    { "listen=0", "listen=0.0.0.0;nowhere;", "network.listen", "nowhere" },
    { "bootstrap=", "bootstrap=/ip4/1.2.3.4/tcp/1", "network.bootstrap", "/ip4/1.2.3.4/tcp/1" },
    { "encryption=", "encryption=rot13", "store.encryption", "rot13" },
    { "backend=", "backend=Store Rocks", "store.backend", "Store Rocks" },
    { "listen=127", "listen=localhost:80", "server.listen", "localhost:80" },
    { "bus=", "bus=taxi", "dbus.bus", "taxi" },
    { "disabled=", "disabled=ok;Bad!;", "plugins.disabled", "Bad!" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_test_message ("case %s", cases[i].line);
      g_assert_true (mero_config_write_default (f->path, TRUE, NULL));
      assert_bad (f, cases[i].prefix, cases[i].line, MERO_CONFIG_ERROR_INVALID_VALUE,
                  cases[i].key, cases[i].value);
    }
}

static void
test_good_values (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = NULL;

  edit_line (f, "bootstrap=",
             "bootstrap=/ip4/127.0.0.1/tcp/4001/p2p/"
             "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM;");
  edit_line (f, "listen=127", "listen=[::1]:2600");
  edit_line (f, "security=", "security=tls");
  config = mero_config_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (config->network_bootstrap), ==, 1);
  g_assert_cmpstr (config->server_listen, ==, "[::1]:2600");
  g_assert_cmpuint (config->network_security, ==, 3); /* MERO_NET_SECURITY_TLS_ONLY */
}

static void
test_missing_key (Fixture *f, gconstpointer data)
{
  assert_bad (f, "name=", NULL, MERO_CONFIG_ERROR_MISSING_KEY, "node.name", NULL);
}

static void
test_optional_key_defaults (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = NULL;

  edit_line (f, "interval_secs=43200", NULL);
  config = mero_config_load (f->path, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (config->gc_interval_secs, ==, 43200);
}

static void
test_unknown_key (Fixture *f, gconstpointer data)
{
  assert_bad (f, "port=", "prot=2428", MERO_CONFIG_ERROR_UNKNOWN_KEY, "network.prot", NULL);
}

static void
test_unparseable (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = NULL;

  g_assert_true (g_file_set_contents (f->path, "[node\nname=x\n", -1, NULL));
  config = mero_config_load (f->path, &error);
  g_assert_null (config);
  g_assert_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_missing_file (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroConfig) config = NULL;

  g_unlink (f->path);
  config = mero_config_load (f->path, &error);
  g_assert_null (config);
  g_assert_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, f->path));
}

static void
test_key_file_needs_path (Fixture *f, gconstpointer data)
{
  assert_bad (f, "encryption=", "encryption=key-file", MERO_CONFIG_ERROR_MISSING_KEY,
              "store.key_file", NULL);
}

static void
test_get_set (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  g_autofree char *name = NULL;

  value = mero_config_get_value (f->path, "network.port", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "2428");

  g_assert_true (mero_config_set_value (f->path, "network.port", "2429", &error));
  g_assert_no_error (error);
  g_clear_pointer (&value, g_free);
  value = mero_config_get_value (f->path, "network.port", &error);
  g_assert_cmpstr (value, ==, "2429");

  /* Strings round-trip with spaces and escapes. */
  g_assert_true (mero_config_set_value (f->path, "node.name", " my node\\1 ", &error));
  g_assert_no_error (error);
  name = mero_config_get_value (f->path, "node.name", &error);
  g_assert_cmpstr (name, ==, " my node\\1 ");

  /* Comments survive. */
  g_assert_true (g_file_get_contents (f->path, &after, NULL, NULL));
  g_assert_nonnull (strstr (after, "# TCP port for libp2p connections"));
  g_assert_nonnull (strstr (after, "port=2429"));

  /* A bad value is refused and the file is untouched. */
  g_assert_true (g_file_get_contents (f->path, &before, NULL, NULL));
  g_assert_false (mero_config_set_value (f->path, "network.port", "http", &error));
  g_assert_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "network.port"));
  g_clear_error (&error);
  g_clear_pointer (&after, g_free);
  g_assert_true (g_file_get_contents (f->path, &after, NULL, NULL));
  g_assert_cmpstr (before, ==, after);

  g_assert_false (mero_config_set_value (f->path, "network.nope", "1", &error));
  g_assert_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_UNKNOWN_KEY);
  g_clear_error (&error);
  g_assert_null (mero_config_get_value (f->path, "port", &error));
  g_assert_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_UNKNOWN_KEY);
}

static void
test_set_missing_optional (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *contents = NULL;

  edit_line (f, "cache_mb=", NULL);
  value = mero_config_get_value (f->path, "store.cache_mb", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "8");
  g_assert_true (mero_config_set_value (f->path, "store.cache_mb", "4", &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (f->path, &contents, NULL, NULL));
  /* A key added by set gets its documentation too. */
  g_assert_nonnull (strstr (contents, "# Block cache"));
  g_assert_nonnull (strstr (contents, "cache_mb=4"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/config/defaults", test_defaults);
  ADD ("/config/bad-values", test_bad_values);
  ADD ("/config/good-values", test_good_values);
  ADD ("/config/missing-key", test_missing_key);
  ADD ("/config/optional-key-defaults", test_optional_key_defaults);
  ADD ("/config/unknown-key", test_unknown_key);
  ADD ("/config/unparseable", test_unparseable);
  ADD ("/config/missing-file", test_missing_file);
  ADD ("/config/key-file-needs-path", test_key_file_needs_path);
  ADD ("/config/get-set", test_get_set);
  ADD ("/config/set-missing-optional", test_set_missing_optional);
#undef ADD
  return g_test_run ();
}
