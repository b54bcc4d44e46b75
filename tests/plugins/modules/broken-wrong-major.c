/* broken-wrong-major: built for a future ABI major. */
#include "echo-core.h"

static const MeroPluginDescriptor descriptor = {
  .abi_major = MERO_PLUGIN_ABI_MAJOR + 1,
  .abi_minor = 0,
  .struct_size = sizeof (MeroPluginDescriptor),
  .kind = MERO_PLUGIN_KIND_SYNC_PROTOCOL,
  .name = "broken-wrong-major",
  .version = "0.1.0",
  .license = "Apache-2.0",
  .vtable = &test_echo_vtable,
  .init = test_echo_init,
  .finalize = test_echo_finalize,
};

MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void);
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *
mero_plugin_get_descriptor (void)
{
  return &descriptor;
}
