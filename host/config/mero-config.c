/* mero-config.c: strict loading of merod.conf, `merod init`'s documented
 * default file, and `merod config get/set`. */
#include "config/mero-config.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "config/mero-config-schema.h"

G_DEFINE_QUARK (mero-config-error-quark, mero_config_error)

#define COMMENT_WIDTH 76

char *
mero_config_default_home (void)
{
  return g_build_filename (g_get_user_data_dir (), "merod", NULL);
}

char *
mero_config_path_for_home (const char *home)
{
  g_return_val_if_fail (home != NULL, NULL);

  return g_build_filename (home, MERO_CONFIG_FILE_NAME, NULL);
}

void
mero_config_free (MeroConfig *config)
{
  if (config == NULL)
    return;
  g_free (config->file);
  g_free (config->node_name);
  g_strfreev (config->network_listen);
  g_strfreev (config->network_bootstrap);
  g_strfreev (config->network_listen_multiaddrs);
  g_free (config->store_backend);
  g_free (config->store_path);
  g_free (config->store_key_file);
  g_free (config->tee_collateral_dir);
  g_free (config->blob_dir);
  g_free (config->server_listen);
  g_free (config->dbus_name);
  g_strfreev (config->plugins_disabled);
  g_strfreev (config->sync_protocols);
  g_free (config);
}

static void
append_comment (GString *out, const char *text)
{
  g_auto (GStrv) words = g_strsplit (text, " ", -1);
  gsize line_len = 0;

  for (gsize i = 0; words[i] != NULL; i++)
    {
      if (line_len == 0)
        {
          g_string_append (out, "#");
          line_len = 1;
        }
      else if (line_len + 1 + strlen (words[i]) > COMMENT_WIDTH)
        {
          g_string_append (out, "\n#");
          line_len = 1;
        }
      g_string_append_printf (out, " %s", words[i]);
      line_len += 1 + strlen (words[i]);
    }
  g_string_append_c (out, '\n');
}

/* The node name defaults to the host name, which is what a user sees in
 * `hostname` and so recognises in a list of peers. */
static char *
default_raw_value (const MeroConfigKey *k)
{
  g_autoptr (GKeyFile) kf = NULL;

  if (k->default_value != NULL)
    return g_strdup (k->default_value);
  /* Escaped as a key-file string, whatever the host name holds. */
  kf = g_key_file_new ();
  g_key_file_set_string (kf, "x", "x", g_get_host_name ());
  return g_key_file_get_value (kf, "x", "x", NULL);
}

char *
mero_config_default_contents (void)
{
  GString *out = g_string_new (NULL);
  const char *const *sections = mero_config_schema_sections ();
  gsize n_keys;
  const MeroConfigKey *keys = mero_config_schema_keys (&n_keys);

  append_comment (out, _("merod.conf: configuration of one merod node, in GKeyFile syntax. "
                         "Written by “merod init”; change it with “merod config set "
                         "SECTION.KEY VALUE” or any editor. Lists are separated by “;”."));
  for (gsize s = 0; sections[s] != NULL; s++)
    {
      g_string_append_c (out, '\n');
      append_comment (out, _(mero_config_schema_section_comment (sections[s])));
      g_string_append_printf (out, "[%s]\n", sections[s]);
      for (gsize i = 0; i < n_keys; i++)
        {
          g_autofree char *value = NULL;

          if (!g_str_equal (keys[i].section, sections[s]))
            continue;
          value = default_raw_value (&keys[i]);
          append_comment (out, _(keys[i].comment));
          g_string_append_printf (out, "%s=%s\n", keys[i].key, value);
        }
    }
  return g_string_free (out, FALSE);
}

gboolean
mero_config_write_default (const char *path, gboolean force, GError **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;

  g_return_val_if_fail (path != NULL, FALSE);

  if (!force && g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_IO,
                   _("%s already exists; use --force to replace it"), path);
      return FALSE;
    }
  contents = mero_config_default_contents ();
  if (!g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 &local_error))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_IO, _("Cannot write %s: %s"),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
invalid_value (GError **error, const char *path, const MeroConfigKey *k, const char *value,
               const char *expected)
{
  g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
               _("%s: key “%s.%s”: invalid value “%s”: expected %s"), path, k->section, k->key,
               value, expected);
  return FALSE;
}

static char *
choices_text (const char *const *choices)
{
  g_autofree char *joined = g_strjoinv (", ", (char **) choices);

  return g_strdup_printf (_("one of %s"), joined);
}

/* Reads one key of @kf into @config (may be NULL to only validate). */
static gboolean
read_key (GKeyFile *kf, const char *path, const MeroConfigKey *k, MeroConfig *config,
          GError **error)
{
  gpointer field = config != NULL ? G_STRUCT_MEMBER_P (config, k->offset) : NULL;
  g_autofree char *raw = g_key_file_get_value (kf, k->section, k->key, NULL);
  g_autofree char *expected = NULL;

  g_return_val_if_fail (raw != NULL, FALSE);

  switch (k->type)
    {
    case MERO_CONFIG_TYPE_STRING:
      {
        g_autofree char *value = g_key_file_get_string (kf, k->section, k->key, NULL);

        if (value == NULL)
          return invalid_value (error, path, k, raw, _("a string with valid escapes"));
        if (k->check != NULL && !k->check (value, &expected))
          return invalid_value (error, path, k, value, expected);
        if (field != NULL)
          *(char **) field = g_steal_pointer (&value);
        return TRUE;
      }
    case MERO_CONFIG_TYPE_UINT:
      {
        guint64 n;
        g_autofree char *stripped = g_strstrip (g_strdup (raw));

        if (!g_ascii_string_to_unsigned (stripped, 10, k->min, k->max, &n, NULL))
          {
            expected = g_strdup_printf (_("an integer from %u to %u"), k->min, k->max);
            return invalid_value (error, path, k, raw, expected);
          }
        if (field != NULL)
          *(guint *) field = (guint) n;
        return TRUE;
      }
    case MERO_CONFIG_TYPE_BOOLEAN:
      {
        g_autoptr (GError) local_error = NULL;
        gboolean b = g_key_file_get_boolean (kf, k->section, k->key, &local_error);

        if (local_error != NULL)
          return invalid_value (error, path, k, raw, _("true or false"));
        if (field != NULL)
          *(gboolean *) field = b;
        return TRUE;
      }
    case MERO_CONFIG_TYPE_ENUM:
      {
        g_autofree char *value = g_key_file_get_string (kf, k->section, k->key, NULL);

        for (guint i = 0; value != NULL && k->choices[i] != NULL; i++)
          if (g_str_equal (value, k->choices[i]))
            {
              if (field != NULL)
                *(guint *) field = i;
              return TRUE;
            }
        expected = choices_text (k->choices);
        return invalid_value (error, path, k, raw, expected);
      }
    case MERO_CONFIG_TYPE_LIST:
      {
        g_auto (GStrv) items = g_key_file_get_string_list (kf, k->section, k->key, NULL, NULL);

        if (items == NULL)
          items = g_new0 (char *, 1);
        for (gsize i = 0; items[i] != NULL; i++)
          if (k->check != NULL && !k->check (items[i], &expected))
            return invalid_value (error, path, k, items[i], expected);
        if (field != NULL)
          *(char ***) field = g_steal_pointer (&items);
        return TRUE;
      }
    default:
      g_assert_not_reached ();
    }
}

static gboolean
check_unknown_keys (GKeyFile *kf, const char *path, GError **error)
{
  g_auto (GStrv) groups = g_key_file_get_groups (kf, NULL);

  for (gsize g = 0; groups[g] != NULL; g++)
    {
      g_auto (GStrv) names = g_key_file_get_keys (kf, groups[g], NULL, NULL);

      if (!g_strv_contains (mero_config_schema_sections (), groups[g]))
        {
          g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_UNKNOWN_KEY,
                       _("%s: unknown section [%s]"), path, groups[g]);
          return FALSE;
        }
      for (gsize i = 0; names != NULL && names[i] != NULL; i++)
        if (mero_config_schema_lookup (groups[g], names[i]) == NULL)
          {
            g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_UNKNOWN_KEY,
                         _("%s: unknown key “%s.%s”"), path, groups[g], names[i]);
            return FALSE;
          }
    }
  return TRUE;
}

/* Fills optional keys the file leaves out from the defaults, so every key
 * is read by the same code. */
static void
fill_defaults (GKeyFile *kf)
{
  gsize n_keys;
  const MeroConfigKey *keys = mero_config_schema_keys (&n_keys);

  for (gsize i = 0; i < n_keys; i++)
    if (!keys[i].required && !g_key_file_has_key (kf, keys[i].section, keys[i].key, NULL))
      {
        g_autofree char *value = default_raw_value (&keys[i]);

        g_key_file_set_value (kf, keys[i].section, keys[i].key, value);
      }
}

static MeroConfig *
load_from_keyfile (GKeyFile *kf, const char *path, GError **error)
{
  g_autoptr (MeroConfig) config = g_new0 (MeroConfig, 1);
  gsize n_keys;
  const MeroConfigKey *keys = mero_config_schema_keys (&n_keys);

  if (!check_unknown_keys (kf, path, error))
    return NULL;
  for (gsize i = 0; i < n_keys; i++)
    if (keys[i].required && !g_key_file_has_key (kf, keys[i].section, keys[i].key, NULL))
      {
        g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_MISSING_KEY,
                     _("%s: missing required key “%s.%s” (key “%s” in section [%s])"), path,
                     keys[i].section, keys[i].key, keys[i].key, keys[i].section);
        return NULL;
      }
  fill_defaults (kf);
  for (gsize i = 0; i < n_keys; i++)
    if (!read_key (kf, path, &keys[i], config, error))
      return NULL;

  if (config->store_encryption == MERO_CONFIG_ENCRYPTION_KEY_FILE
      && config->store_key_file[0] == '\0')
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_MISSING_KEY,
                   _("%s: key “store.key_file” must name a file when store.encryption is "
                     "key-file"),
                   path);
      return NULL;
    }
  config->file = g_strdup (path);
  return g_steal_pointer (&config);
}

static GKeyFile *
load_keyfile (const char *path, GKeyFileFlags flags, GError **error)
{
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) local_error = NULL;

  if (!g_key_file_load_from_file (kf, path, flags, &local_error))
    {
      if (g_error_matches (local_error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_NOT_FOUND,
                     _("%s: no such configuration file; run “merod init” first"), path);
      else if (local_error->domain == G_FILE_ERROR)
        g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_IO, _("%s: cannot read: %s"),
                     path, local_error->message);
      else
        g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_PARSE,
                     _("%s: cannot parse: %s"), path, local_error->message);
      return NULL;
    }
  return g_steal_pointer (&kf);
}

MeroConfig *
mero_config_load (const char *path, GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  kf = load_keyfile (path, G_KEY_FILE_NONE, error);
  if (kf == NULL)
    return NULL;
  return load_from_keyfile (kf, path, error);
}

static const MeroConfigKey *
lookup_dotted (const char *path, const char *key, GError **error)
{
  const char *dot = strchr (key, '.');
  g_autofree char *section = NULL;
  const MeroConfigKey *k = NULL;

  if (dot != NULL)
    {
      section = g_strndup (key, dot - key);
      k = mero_config_schema_lookup (section, dot + 1);
    }
  if (k == NULL)
    g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_UNKNOWN_KEY,
                 _("%s: unknown key “%s” (keys are written SECTION.KEY, e.g. network.port)"),
                 path, key);
  return k;
}

char *
mero_config_get_value (const char *path, const char *key, GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (MeroConfig) config = NULL;
  const MeroConfigKey *k;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (key != NULL, NULL);

  k = lookup_dotted (path, key, error);
  if (k == NULL)
    return NULL;
  kf = load_keyfile (path, G_KEY_FILE_NONE, error);
  if (kf == NULL)
    return NULL;
  /* load_from_keyfile fills in defaults, so the answer is what the node
   * would use. */
  config = load_from_keyfile (kf, path, error);
  if (config == NULL)
    return NULL;
  if (k->type == MERO_CONFIG_TYPE_STRING || k->type == MERO_CONFIG_TYPE_ENUM)
    return g_key_file_get_string (kf, k->section, k->key, error);
  return g_key_file_get_value (kf, k->section, k->key, error);
}

gboolean
mero_config_set_value (const char *path, const char *key, const char *value, GError **error)
{
  g_autoptr (GKeyFile) kf = NULL;
  g_autoptr (GKeyFile) check = NULL;
  g_autoptr (MeroConfig) config = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *data = NULL;
  gsize data_len;
  const MeroConfigKey *k;
  gboolean is_new;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  k = lookup_dotted (path, key, error);
  if (k == NULL)
    return FALSE;
  kf = load_keyfile (path, G_KEY_FILE_KEEP_COMMENTS | G_KEY_FILE_KEEP_TRANSLATIONS, error);
  if (kf == NULL)
    return FALSE;

  is_new = !g_key_file_has_key (kf, k->section, k->key, NULL);
  /* Strings are escaped so any text round-trips; every other type is
   * given in its key-file syntax (numbers, true/false, a;b;c). */
  if (k->type == MERO_CONFIG_TYPE_STRING || k->type == MERO_CONFIG_TYPE_ENUM)
    g_key_file_set_string (kf, k->section, k->key, value);
  else
    g_key_file_set_value (kf, k->section, k->key, value);
  if (is_new)
    {
      g_autofree char *comment = g_strconcat (" ", _(k->comment), NULL);

      g_key_file_set_comment (kf, k->section, k->key, comment, NULL);
    }

  data = g_key_file_to_data (kf, &data_len, NULL);
  /* Validate a copy: the loader fills in defaults, which must not end up
   * in the user's file. */
  check = g_key_file_new ();
  if (!g_key_file_load_from_data (check, data, data_len, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “%s”: invalid value “%s”: %s"), path, key, value,
                   local_error->message);
      return FALSE;
    }
  config = load_from_keyfile (check, path, error);
  if (config == NULL)
    return FALSE;
  if (!g_file_set_contents_full (path, data, data_len, G_FILE_SET_CONTENTS_CONSISTENT, 0644,
                                 &local_error))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_IO, _("Cannot write %s: %s"),
                   path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

char *
mero_config_get_store_dir (const MeroConfig *config, const char *home)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (home != NULL, NULL);

  if (g_path_is_absolute (config->store_path))
    return g_strdup (config->store_path);
  return g_build_filename (home, config->store_path, NULL);
}

char *
mero_config_get_blob_dir (const MeroConfig *config, const char *home)
{
  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (home != NULL, NULL);

  if (g_path_is_absolute (config->blob_dir))
    return g_strdup (config->blob_dir);
  return g_build_filename (home, config->blob_dir, NULL);
}

gboolean
mero_config_plugin_is_disabled (const MeroConfig *config, const char *name)
{
  g_return_val_if_fail (config != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  return g_strv_contains ((const char *const *) config->plugins_disabled, name);
}

static const char *const bus_names[] = { "session", "system", "none" };

gboolean
mero_config_parse_host_port (const char *text, char **host, guint16 *port)
{
  const char *colon;
  g_autofree char *name = NULL;
  guint64 number = 0;
  g_autoptr (GInetAddress) address = NULL;

  g_return_val_if_fail (text != NULL, FALSE);

  colon = strrchr (text, ':');
  if (colon == NULL || !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &number, NULL))
    return FALSE;
  name = g_strndup (text, colon - text);
  if (name[0] == '[' && g_str_has_suffix (name, "]"))
    {
      char *inner = g_strndup (name + 1, strlen (name) - 2);

      g_free (name);
      name = inner;
    }
  else if (strchr (name, ':') != NULL)
    {
      /* An IPv6 address needs its brackets, or the port is ambiguous. */
      return FALSE;
    }
  address = g_inet_address_new_from_string (name);
  if (address == NULL)
    return FALSE;
  if (host != NULL)
    *host = g_steal_pointer (&name);
  if (port != NULL)
    *port = (guint16) number;
  return TRUE;
}

const char *
mero_config_bus_to_string (MeroConfigBus bus)
{
  g_return_val_if_fail (bus <= MERO_CONFIG_BUS_NONE, NULL);

  return bus_names[bus];
}

gboolean
mero_config_bus_from_string (const char *text, MeroConfigBus *bus)
{
  for (guint i = 0; i < G_N_ELEMENTS (bus_names); i++)
    if (g_strcmp0 (text, bus_names[i]) == 0)
      {
        *bus = (MeroConfigBus) i;
        return TRUE;
      }
  return FALSE;
}
