/* mero-tee-verify.c: see mero-tee-verify.h. */
#define G_LOG_DOMAIN "merod"
#include "tee/mero-tee-verify.h"

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

static GBytes *
read_bounded (const char *path, gsize max, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  GStatBuf st;

  if (g_stat (path, &st) == 0 && (guint64) st.st_size > max)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   _("%s is larger than %d bytes"), path, (int) max);
      return NULL;
    }
  if (!g_file_get_contents (path, &data, &len, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&data), len);
}

static int
compare_paths (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

GPtrArray *
mero_tee_collateral_load (const char *path, GError **error)
{
  g_autoptr (GPtrArray) docs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      GBytes *doc;

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return g_steal_pointer (&docs);
      doc = read_bounded (path, MERO_TEE_COLLATERAL_MAX_BYTES, error);
      if (doc == NULL)
        return NULL;
      g_ptr_array_add (docs, doc);
      return g_steal_pointer (&docs);
    }
  dir = g_dir_open (path, 0, error);
  if (dir == NULL)
    return NULL;
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".json"))
      g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_ptr_array_sort (names, compare_paths);
  if (names->len > MERO_TEE_COLLATERAL_MAX_FILES)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   _("%s holds %u collateral files, at most %d are read"), path, names->len,
                   MERO_TEE_COLLATERAL_MAX_FILES);
      return NULL;
    }
  for (guint i = 0; i < names->len; i++)
    {
      GBytes *doc = read_bounded (g_ptr_array_index (names, i), MERO_TEE_COLLATERAL_MAX_BYTES,
                                  error);

      if (doc == NULL)
        return NULL;
      g_ptr_array_add (docs, doc);
    }
  return g_steal_pointer (&docs);
}

GBytes *
mero_tee_quote_load (const char *path, GError **error)
{
  g_autoptr (GBytes) raw = read_bounded (path, 2 * MERO_TEE_QUOTE_MAX_BYTES, error);
  g_autofree char *text = NULL;
  gsize len;
  const char *data;
  uint8_t *bin;

  if (raw == NULL)
    return NULL;
  data = g_bytes_get_data (raw, &len);
  text = g_strndup (data, len);
  g_strstrip (text);
  len = strlen (text);
  /* Hex text if it is nothing else; a binary quote has NUL bytes early. */
  if (len == 0 || len % 2 != 0 || strspn (text, "0123456789abcdefABCDEF") != len)
    {
      if (g_bytes_get_size (raw) > MERO_TEE_QUOTE_MAX_BYTES)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                       _("%s is larger than %d bytes"), path, MERO_TEE_QUOTE_MAX_BYTES);
          return NULL;
        }
      return g_steal_pointer (&raw);
    }
  bin = g_malloc (len / 2);
  for (gsize i = 0; i < len / 2; i++)
    bin[i] = (uint8_t) (g_ascii_xdigit_value (text[2 * i]) << 4 |
                        g_ascii_xdigit_value (text[2 * i + 1]));
  return g_bytes_new_take (bin, len / 2);
}

const MeroLoadedTeeVerifier *
mero_tee_pick_verifier (MeroPluginRegistry *registry, GBytes *quote, GError **error)
{
  g_autoptr (GPtrArray) plugins = mero_plugin_registry_list (registry);
  gsize len;
  const uint8_t *data = g_bytes_get_data (quote, &len);
  guint n_verifiers = 0;

  for (guint i = 0; i < plugins->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (plugins, i);
      const MeroLoadedTeeVerifier *verifier;

      if (info->kind != MERO_PLUGIN_KIND_TEE_VERIFIER || info->status != MERO_PLUGIN_STATUS_LOADED)
        continue;
      verifier = mero_plugin_registry_get_tee_verifier (registry, info->name, NULL);
      if (verifier == NULL)
        continue;
      n_verifiers++;
      if (verifier->vtable->handles_quote != NULL && verifier->vtable->verify_at != NULL &&
          verifier->vtable->handles_quote (verifier->plugin_data, data, len))
        return verifier;
    }
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
               n_verifiers == 0 ? _("no TEE verifier plugin is loaded")
                                : _("no loaded TEE verifier handles this quote's format"));
  return NULL;
}

gboolean
mero_tee_verify_quote (const MeroLoadedTeeVerifier *verifier, GBytes *quote,
                       GPtrArray *collateral, int64_t now, uint32_t flags,
                       MeroTeeVerdict *verdict, GError **error)
{
  g_autofree MeroTeeCollateral *docs = g_new0 (MeroTeeCollateral, MAX (collateral->len, 1));
  MeroTeeVerifyInput input = { .struct_size = sizeof input };
  gsize len;

  for (guint i = 0; i < collateral->len; i++)
    docs[i].data = g_bytes_get_data (g_ptr_array_index (collateral, i), &docs[i].len);
  input.flags = flags;
  input.quote = g_bytes_get_data (quote, &len);
  input.quote_len = len;
  input.collateral = docs;
  input.n_collateral = collateral->len;
  input.now_unix = now;
  memset (verdict, 0, sizeof *verdict);
  verdict->struct_size = sizeof *verdict;
  if (verifier->vtable->verify_at == NULL)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   _("TEE verifier %s predates verify_at (SDK 1.1)"), verifier->info->name);
      return FALSE;
    }
  return verifier->vtable->verify_at (verifier->plugin_data, &input, verdict, error);
}

static char *
hex (const uint8_t *data, gsize len)
{
  char *out = g_malloc (2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_snprintf (out + 2 * i, 3, "%02x", data[i]);
  out[2 * len] = '\0';
  return out;
}

/* Lowercase hex for measurements, as upstream Calimero's policies compare
 * them; FMSPC in Intel's uppercase. */
typedef struct {
  const char *key;
  char *value;
} Field;

static GPtrArray *
verdict_fields (const char *verifier, const MeroTeeVerdict *v)
{
  GPtrArray *f = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *fmspc = hex (v->fmspc, sizeof v->fmspc);

#define ADD(k, val)                                     \
  do                                                    \
    {                                                   \
      Field *field = g_new (Field, 1);                  \
      field->key = (k);                                 \
      field->value = (val);                             \
      g_ptr_array_add (f, field);                       \
    }                                                   \
  while (0)
  ADD ("verifier", g_strdup (verifier));
  ADD ("status", g_strdup (mero_tee_tcb_status_to_string (v->tcb_status)));
  ADD ("mock", g_strdup ((v->flags & MERO_TEE_VERDICT_MOCK) ? "true" : "false"));
  ADD ("platform_status", g_strdup (mero_tee_tcb_status_to_string (v->platform_status)));
  ADD ("qe_status", g_strdup (mero_tee_tcb_status_to_string (v->qe_status)));
  ADD ("tdx_module", g_strdup (v->module_identity));
  ADD ("tdx_module_status", g_strdup (mero_tee_tcb_status_to_string (v->module_status)));
  ADD ("advisory_ids", g_strdup (v->advisory_ids));
  ADD ("mrtd", hex (v->measurement, MIN (v->measurement_len, sizeof v->measurement)));
  for (guint i = 0; i < 4; i++)
    {
      static const char *const names[] = { "rtmr0", "rtmr1", "rtmr2", "rtmr3" };

      ADD (names[i], hex (v->rtmr[i], sizeof v->rtmr[i]));
    }
  ADD ("report_data", hex (v->report_data, sizeof v->report_data));
  ADD ("fmspc", g_ascii_strup (fmspc, -1));
  ADD ("tee_tcb_svn", hex (v->tee_tcb_svn, sizeof v->tee_tcb_svn));
  ADD ("tcb_evaluation_data_number", g_strdup_printf ("%u", v->tcb_evaluation_data_number));
  ADD ("debug", g_strdup ((v->flags & MERO_TEE_VERDICT_DEBUG) ? "true" : "false"));
#undef ADD
  return f;
}

static void
fields_free (GPtrArray *fields)
{
  for (guint i = 0; i < fields->len; i++)
    g_free (((Field *) g_ptr_array_index (fields, i))->value);
  g_ptr_array_unref (fields);
}

char *
mero_tee_verdict_to_json (const char *verifier, const MeroTeeVerdict *verdict,
                          const char *reason)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "verified");
  json_builder_add_boolean_value (b, reason == NULL);
  if (reason != NULL)
    {
      json_builder_set_member_name (b, "verifier");
      json_builder_add_string_value (b, verifier != NULL ? verifier : "");
      json_builder_set_member_name (b, "reason");
      json_builder_add_string_value (b, reason);
    }
  else
    {
      GPtrArray *fields = verdict_fields (verifier, verdict);

      for (guint i = 0; i < fields->len; i++)
        {
          Field *field = g_ptr_array_index (fields, i);

          json_builder_set_member_name (b, field->key);
          if (g_str_equal (field->key, "mock") || g_str_equal (field->key, "debug"))
            json_builder_add_boolean_value (b, g_str_equal (field->value, "true"));
          else if (g_str_equal (field->key, "tcb_evaluation_data_number"))
            json_builder_add_int_value (b, verdict->tcb_evaluation_data_number);
          else if (g_str_equal (field->key, "advisory_ids"))
            {
              g_auto (GStrv) ids = g_strsplit (field->value, ",", -1);

              json_builder_begin_array (b);
              for (guint j = 0; ids[j] != NULL; j++)
                if (ids[j][0] != '\0')
                  json_builder_add_string_value (b, ids[j]);
              json_builder_end_array (b);
            }
          else
            json_builder_add_string_value (b, field->value);
        }
      fields_free (fields);
    }
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

char *
mero_tee_verdict_to_text (const char *verifier, const MeroTeeVerdict *verdict)
{
  GPtrArray *fields = verdict_fields (verifier, verdict);
  GString *out = g_string_new (NULL);

  g_string_append (out, "verified: yes\n");
  for (guint i = 0; i < fields->len; i++)
    {
      Field *field = g_ptr_array_index (fields, i);

      g_string_append_printf (out, "%s: %s\n", field->key,
                              field->value[0] != '\0' ? field->value : "-");
    }
  fields_free (fields);
  return g_string_free (out, FALSE);
}
