/* tee-samples.c: see tee-samples.h. */
#include "tee-samples.h"

#include <string.h>

#include "tee-tdx-collateral.h"
#include "tee-tdx-verify.h"

const char *
tee_samples_dir (void)
{
  const char *dir = g_getenv ("MERO_TEE_SAMPLES_DIR");

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    return NULL;
  return dir;
}

static void
sample_free (gpointer p)
{
  TeeSample *s = p;

  g_free (s->name);
  g_bytes_unref (s->quote);
  g_bytes_unref (s->collateral);
  json_object_unref (s->json);
  g_free (s);
}

static GBytes *
read_file (const char *dir, const char *name, gboolean hex)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;
  size_t len;
  uint8_t *buf;

  g_assert_true (g_file_get_contents (path, &text, &len, &error));
  if (!hex)
    return g_bytes_new_take (g_steal_pointer (&text), len);
  g_strstrip (text);
  len = strlen (text);
  g_assert_cmpuint (len % 2, ==, 0);
  buf = g_malloc (len / 2);
  g_assert_true (tdx_hex_decode (text, buf, len / 2));
  return g_bytes_new_take (buf, len / 2);
}

static TeeSample *
sample_new (const char *dir, JsonObject *c, JsonObject *base)
{
  TeeSample *s = g_new0 (TeeSample, 1);
  JsonObject *files = base != NULL ? base : c;

  s->name = g_strdup (json_object_get_string_member (c, "name"));
  s->quote = read_file (dir, json_object_get_string_member (files, "quote"),
                        g_str_equal (json_object_get_string_member (files, "quote_encoding"),
                                     "hex"));
  s->collateral = read_file (dir, json_object_get_string_member (files, "collateral"), FALSE);
  s->now = json_object_get_int_member (c, "now_unix");
  s->json = json_object_ref (c);
  return s;
}

TeeSample *
tee_samples_find (GPtrArray *samples, const char *name)
{
  for (guint i = 0; i < samples->len; i++)
    {
      TeeSample *s = g_ptr_array_index (samples, i);

      if (g_str_equal (s->name, name))
        return s;
    }
  return NULL;
}

GPtrArray *
tee_samples_load (gboolean time_cases)
{
  const char *dir = tee_samples_dir ();
  g_autofree char *path = g_build_filename (dir, "cases.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  GPtrArray *samples = g_ptr_array_new_with_free_func (sample_free);
  JsonObject *root;
  JsonArray *cases;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  root = json_node_get_object (json_parser_get_root (parser));
  cases = json_object_get_array_member (root, "cases");
  for (guint i = 0; i < json_array_get_length (cases); i++)
    g_ptr_array_add (samples, sample_new (dir, json_array_get_object_element (cases, i), NULL));
  if (time_cases)
    {
      JsonArray *tc = json_object_get_array_member (root, "time_cases");

      for (guint i = 0; i < json_array_get_length (tc); i++)
        {
          JsonObject *c = json_array_get_object_element (tc, i);
          const char *base_name = json_object_get_string_member (c, "base");
          JsonObject *base = NULL;

          for (guint j = 0; j < json_array_get_length (cases); j++)
            if (g_str_equal (json_object_get_string_member (
                                 json_array_get_object_element (cases, j), "name"),
                             base_name))
              base = json_array_get_object_element (cases, j);
          g_assert_nonnull (base);
          g_ptr_array_add (samples, sample_new (dir, c, base));
        }
    }
  return samples;
}

gboolean
tee_verify_bytes (const uint8_t *quote, size_t quote_len, const uint8_t *collateral,
                  size_t collateral_len, int64_t now, MeroTeeVerdict *verdict, GError **error)
{
  MeroTeeCollateral doc = { collateral, collateral_len, "sample" };
  MeroTeeVerifyInput input = {
    .struct_size = sizeof input,
    .quote = quote,
    .quote_len = quote_len,
    .collateral = &doc,
    .n_collateral = 1,
    .now_unix = now,
  };

  memset (verdict, 0, sizeof *verdict);
  verdict->struct_size = sizeof *verdict;
  return tdx_verify (&input, verdict, error);
}

gboolean
tee_sample_verify (const TeeSample *s, int64_t now, MeroTeeVerdict *verdict, GError **error)
{
  size_t ql, cl;
  const uint8_t *q = g_bytes_get_data (s->quote, &ql);
  const uint8_t *c = g_bytes_get_data (s->collateral, &cl);

  return tee_verify_bytes (q, ql, c, cl, now != 0 ? now : s->now, verdict, error);
}

char *
tee_hex (const uint8_t *data, size_t len)
{
  char *out = g_malloc (2 * len + 1);

  for (size_t i = 0; i < len; i++)
    g_snprintf (out + 2 * i, 3, "%02x", data[i]);
  out[2 * len] = '\0';
  return out;
}
