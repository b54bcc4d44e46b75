/* mero-node-plugins.c: the registry's search path minus disabled plugins. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-plugins.h"

#include <string.h>

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

guint
mero_node_load_plugins (MeroPluginRegistry *registry, const char *const *disabled,
                        GPtrArray *skipped)
{
  g_auto (GStrv) dirs = NULL;
  guint loaded = 0;

  g_return_val_if_fail (registry != NULL, 0);

  if (disabled == NULL || disabled[0] == NULL)
    return mero_plugin_registry_load_path (registry, NULL);

  /* Disabled plugins are skipped before their metadata is even read, so a
   * broken plugin can be switched off from the config. */
  dirs = mero_plugin_registry_default_search_path ();
  for (gsize d = 0; dirs != NULL && dirs[d] != NULL; d++)
    {
      g_autoptr (GDir) dir = g_dir_open (dirs[d], 0, NULL);
      g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
      const char *entry;

      while (dir != NULL && (entry = g_dir_read_name (dir)) != NULL)
        if (g_str_has_suffix (entry, ".plugin"))
          g_ptr_array_add (files, g_strdup (entry));
      g_ptr_array_sort (files, compare_strings);

      for (guint i = 0; i < files->len; i++)
        {
          const char *file = g_ptr_array_index (files, i);
          g_autofree char *name = g_strndup (file, strlen (file) - strlen (".plugin"));
          g_autofree char *path = g_build_filename (dirs[d], file, NULL);
          g_autoptr (GError) error = NULL;

          if (g_strv_contains (disabled, name))
            {
              g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "plugin-disabled",
                                "MERO_PLUGIN", name, "MESSAGE",
                                "plugin %s is disabled by [plugins] disabled", name);
              if (skipped != NULL)
                g_ptr_array_add (skipped, g_steal_pointer (&path));
              continue;
            }
          /* The registry records and logs the failure itself. */
          if (mero_plugin_registry_load_file (registry, path, &error))
            loaded++;
        }
    }
  return loaded;
}
