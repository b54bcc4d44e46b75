/* broken-short-vtable: a vtable that ends before session_new. */
#include "echo-core.h"

/* Everything is filled in, but struct_size says the plugin was built
 * against a vtable that ends before session_new. */
static const MeroSyncProtocolVTable short_vtable = {
  .struct_size = G_STRUCT_OFFSET (MeroSyncProtocolVTable, session_new),
  .protocol_id = TEST_ECHO_PROTOCOL_ID,
  .cost = test_echo_cost,
  .session_new = test_echo_session_new,
  .recv = test_echo_recv,
  .pull_send = test_echo_pull_send,
  .next_deadline = test_echo_next_deadline,
  .handle_deadline = test_echo_handle_deadline,
  .status = test_echo_status,
  .get_stats = test_echo_get_stats,
  .session_free = test_echo_session_free,
};

static const MeroPluginDescriptor descriptor = {
  .abi_major = MERO_PLUGIN_ABI_MAJOR,
  .abi_minor = MERO_PLUGIN_ABI_MINOR,
  .struct_size = sizeof (MeroPluginDescriptor),
  .kind = MERO_PLUGIN_KIND_SYNC_PROTOCOL,
  .name = "broken-short-vtable",
  .version = "0.1.0",
  .license = "Apache-2.0",
  .vtable = &short_vtable,
  .init = test_echo_init,
  .finalize = test_echo_finalize,
};

MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void);
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *
mero_plugin_get_descriptor (void)
{
  return &descriptor;
}
