/* test-store-modules.c: the built store plugins load as modules, their
 * .plugin files agree with their descriptors, and a store works through
 * the dlopen()ed vtable.  Finds them through MERO_PLUGIN_DIR (set by the
 * test environment to the build tree). */
#include <string.h>

#include <gmodule.h>

#include "store-test-util.h"

/* The .plugin file named @name in MERO_PLUGIN_DIR, or NULL. */
static char *
find_metadata (const char *name)
{
  const char *env = g_getenv ("MERO_PLUGIN_DIR");
  g_auto (GStrv) dirs = NULL;
  g_autofree char *file = g_strconcat (name, ".plugin", NULL);

  if (env == NULL)
    return NULL;
  dirs = g_strsplit (env, G_SEARCHPATH_SEPARATOR_S, -1);
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      char *path = g_build_filename (dirs[i], file, NULL);
      if (g_file_test (path, G_FILE_TEST_IS_REGULAR))
        return path;
      g_free (path);
    }
  return NULL;
}

static void
test_module (gconstpointer data)
{
  const char *name = data;
  g_autofree char *metadata = find_metadata (name);
  g_autoptr (GKeyFile) kf = g_key_file_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *module_name = NULL, *module_path = NULL, *dir = NULL, *db = NULL;
  g_autofree char *tmp = NULL;
  g_autofree char *kind = NULL, *version = NULL, *kf_name = NULL;
  MeroPluginGetDescriptorFunc get_descriptor = NULL;
  const MeroPluginDescriptor *desc;
  const MeroStorageBackendVTable *vtable;
  void *plugin_data = NULL;
  GModule *module;
  MeroStore *store;
  MeroKey key;
  g_autoptr (GBytes) value = NULL;

  if (metadata == NULL)
    {
      g_test_skip ("MERO_PLUGIN_DIR does not lead to the built plugins");
      return;
    }
  g_assert_true (g_key_file_load_from_file (kf, metadata, G_KEY_FILE_NONE, &error));
  g_assert_no_error (error);
  kf_name = g_key_file_get_string (kf, "Plugin", "Name", &error);
  kind = g_key_file_get_string (kf, "Plugin", "Kind", &error);
  version = g_key_file_get_string (kf, "Plugin", "Version", &error);
  module_name = g_key_file_get_string (kf, "Plugin", "Module", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (kf_name, ==, name);
  g_assert_cmpstr (kind, ==, "storage-backend");

  dir = g_path_get_dirname (metadata);
  module_path = g_build_filename (dir, module_name, NULL);
  module = g_module_open (module_path, G_MODULE_BIND_LOCAL);
  g_assert_nonnull (module);
  g_assert_true (g_module_symbol (module, MERO_PLUGIN_ENTRY_SYMBOL, (gpointer *) &get_descriptor));
  desc = get_descriptor ();
  g_assert_cmpuint (desc->abi_major, ==, MERO_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (desc->struct_size, ==, sizeof (MeroPluginDescriptor));
  g_assert_cmpuint (desc->kind, ==, MERO_PLUGIN_KIND_STORAGE_BACKEND);
  g_assert_cmpstr (desc->name, ==, name);
  g_assert_cmpstr (desc->version, ==, version);
  vtable = desc->vtable;
  g_assert_cmpuint (vtable->struct_size, ==, sizeof (MeroStorageBackendVTable));
  if (desc->init != NULL)
    g_assert_true (desc->init (NULL, &plugin_data, &error));

  tmp = mero_test_make_tmpdir ("mero-store-test");
  db = g_build_filename (tmp, "db", NULL);
  store = mero_store_open (vtable, plugin_data, db, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mero_key_config (&key, "through.module"));
  g_assert_true (mero_store_put (store, &key, (const guint8 *) "yes", 3, &error));
  g_assert_true (mero_store_get (store, &key, &value, &error));
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value), "yes", 3);
  /* The value is ours: drop it before the module goes away. */
  g_clear_pointer (&value, g_bytes_unref);
  mero_store_close (store);
  if (desc->finalize != NULL)
    desc->finalize (plugin_data);
  g_module_close (module);

  mero_test_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/store/modules/store-rocksdb", "store-rocksdb", test_module);
  g_test_add_data_func ("/store/modules/store-memory", "store-memory", test_module);
  return g_test_run ();
}
