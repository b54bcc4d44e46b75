/* broken-missing-symbol: a complete plugin that forgot to export its entry
 * point (MERO_PLUGIN_STATIC leaves out mero_plugin_get_descriptor). */
#define MERO_PLUGIN_STATIC 1
#include "echo-core.h"

MERO_PLUGIN_DEFINE (broken_missing_symbol, MERO_PLUGIN_KIND_SYNC_PROTOCOL,
                    "broken-missing-symbol", "0.1.0", "Apache-2.0", &test_echo_vtable,
                    test_echo_init, test_echo_finalize);

/* Something is exported, so the module opens fine and only the lookup of
 * the entry symbol fails. */
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptr (void);
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *
mero_plugin_get_descriptr (void)
{
  return mero_plugin_broken_missing_symbol_get_descriptor ();
}
