/* broken-init-fails: an init that refuses to start. */
#include "echo-core.h"

#define REFUSAL "refusing to start: no licence for broken-init-fails"

static gboolean
refuse_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  host->counter_add (host, "mero_test_init_fails_init_total", NULL, 1);
  g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_FAILED, REFUSAL);
  return FALSE;
}

static const MeroPluginDescriptor descriptor = {
  .abi_major = MERO_PLUGIN_ABI_MAJOR,
  .abi_minor = MERO_PLUGIN_ABI_MINOR,
  .struct_size = sizeof (MeroPluginDescriptor),
  .kind = MERO_PLUGIN_KIND_SYNC_PROTOCOL,
  .name = "broken-init-fails",
  .version = "0.1.0",
  .license = "Apache-2.0",
  .vtable = &test_echo_vtable,
  .init = refuse_init,
  .finalize = test_echo_finalize,
};

MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void);
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *
mero_plugin_get_descriptor (void)
{
  return &descriptor;
}
