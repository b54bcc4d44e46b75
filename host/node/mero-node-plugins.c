/* mero-node-plugins.c: the registry's search path minus disabled plugins. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-plugins.h"

#include "context/state/mero-state-access.h"

guint
mero_node_load_plugins (MeroPluginRegistry *registry, const char *const *disabled)
{
  guint loaded;

  g_return_val_if_fail (registry != NULL, 0);

  mero_plugin_registry_set_disabled (registry, disabled);
  /* Sync protocol plugins walk and merge context state through it. */
  mero_plugin_registry_set_state_access (registry, mero_state_access_get ());
  loaded = mero_plugin_registry_load_path (registry, NULL);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "plugins-loaded", "MESSAGE",
                    "%u plugins loaded", loaded);
  return loaded;
}
