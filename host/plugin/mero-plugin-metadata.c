/* mero-plugin-metadata.c: see mero-plugin-metadata.h. */
#include "plugin/mero-plugin-metadata.h"

#include <string.h>

#include "plugin/mero-plugin-registry.h"

void
mero_plugin_metadata_free (MeroPluginMetadata *metadata)
{
  if (metadata == NULL)
    return;
  g_free (metadata->file);
  g_free (metadata->name);
  g_free (metadata->version);
  g_free (metadata->description);
  g_free (metadata->module_file);
  g_free (metadata);
}

MeroPluginKind
mero_plugin_kind_from_string (const char *string)
{
  static const MeroPluginKind kinds[] = {
    MERO_PLUGIN_KIND_SYNC_PROTOCOL,
    MERO_PLUGIN_KIND_STORAGE_BACKEND,
    MERO_PLUGIN_KIND_TEE_VERIFIER,
  };

  for (size_t i = 0; string != NULL && i < G_N_ELEMENTS (kinds); i++)
    if (strcmp (string, mero_plugin_kind_to_string (kinds[i])) == 0)
      return kinds[i];
  return MERO_PLUGIN_KIND_INVALID;
}

gboolean
mero_plugin_name_is_valid (const char *name)
{
  size_t len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > MERO_PLUGIN_NAME_MAX_LEN)
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!(g_ascii_islower (name[i]) || g_ascii_isdigit (name[i]) || name[i] == '-'))
      return FALSE;
  return TRUE;
}

/* A required, non-empty string key. */
static char *
get_required (GKeyFile *keyfile, const char *file, const char *key, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autofree char *value = g_key_file_get_string (keyfile, MERO_PLUGIN_METADATA_GROUP, key,
                                                  &local_error);

  if (value == NULL || value[0] == '\0')
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: missing or empty key “%s” in group [%s]", file, key,
                   MERO_PLUGIN_METADATA_GROUP);
      return NULL;
    }
  return g_steal_pointer (&value);
}

MeroPluginMetadata *
mero_plugin_metadata_load (const char *file, GError **error)
{
  g_autoptr (GKeyFile) keyfile = g_key_file_new ();
  g_autoptr (MeroPluginMetadata) metadata = g_new0 (MeroPluginMetadata, 1);
  g_autoptr (GError) local_error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *kind = NULL;
  g_autofree char *module = NULL;
  g_autofree char *dir = NULL;
  gsize length = 0;

  g_return_val_if_fail (file != NULL, NULL);

  metadata->file = g_strdup (file);
  if (!g_file_get_contents (file, &contents, &length, &local_error))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA, "%s: %s", file,
                   local_error->message);
      return NULL;
    }
  if (length > MERO_PLUGIN_METADATA_MAX_BYTES)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: larger than %d bytes, not a plugin description", file,
                   MERO_PLUGIN_METADATA_MAX_BYTES);
      return NULL;
    }
  if (!g_key_file_load_from_data (keyfile, contents, length, G_KEY_FILE_NONE, &local_error))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: not a valid keyfile: %s", file, local_error->message);
      return NULL;
    }
  if (!g_key_file_has_group (keyfile, MERO_PLUGIN_METADATA_GROUP))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: missing group [%s]", file, MERO_PLUGIN_METADATA_GROUP);
      return NULL;
    }

  if ((metadata->name = get_required (keyfile, file, "Name", error)) == NULL ||
      (kind = get_required (keyfile, file, "Kind", error)) == NULL ||
      (metadata->version = get_required (keyfile, file, "Version", error)) == NULL ||
      (metadata->description = get_required (keyfile, file, "Description", error)) == NULL ||
      (module = get_required (keyfile, file, "Module", error)) == NULL)
    return NULL;

  if (!mero_plugin_name_is_valid (metadata->name))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: key “Name”: “%s” is not a plugin name ([a-z0-9-], 1 to %d chars)",
                   file, metadata->name, MERO_PLUGIN_NAME_MAX_LEN);
      return NULL;
    }
  metadata->kind = mero_plugin_kind_from_string (kind);
  if (metadata->kind == MERO_PLUGIN_KIND_INVALID)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_KIND,
                   "%s: key “Kind”: unknown plugin kind “%s” (this host knows sync-protocol, "
                   "storage-backend, tee-verifier)", file, kind);
      return NULL;
    }
  /* Only a bare file name: a .plugin file must not be able to point the
   * loader at a module outside its own (vetted) directory. */
  if (strchr (module, '/') != NULL || strcmp (module, ".") == 0 || strcmp (module, "..") == 0)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_METADATA,
                   "%s: key “Module”: “%s” must be a file name in the same directory", file,
                   module);
      return NULL;
    }

  dir = g_path_get_dirname (file);
  metadata->module_file = g_build_filename (dir, module, NULL);
  return g_steal_pointer (&metadata);
}
