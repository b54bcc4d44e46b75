/* broken-short-struct: claims a descriptor that ends before init and finalize. */
#include "echo-core.h"

static const MeroPluginDescriptor descriptor = {
  .abi_major = MERO_PLUGIN_ABI_MAJOR,
  .abi_minor = MERO_PLUGIN_ABI_MINOR,
  .struct_size = G_STRUCT_OFFSET (MeroPluginDescriptor, init),
  .kind = MERO_PLUGIN_KIND_SYNC_PROTOCOL,
  .name = "broken-short-struct",
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
