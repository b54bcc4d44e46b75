/* broken-missing-method: a vtable without pull_send. */
#include "echo-core.h"

static const MeroSyncProtocolVTable incomplete_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = TEST_ECHO_PROTOCOL_ID,
  .cost = test_echo_cost,
  .session_new = test_echo_session_new,
  .recv = test_echo_recv,
  .pull_send = NULL,
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
  .name = "broken-missing-method",
  .version = "0.1.0",
  .license = "Apache-2.0",
  .vtable = &incomplete_vtable,
  .init = test_echo_init,
  .finalize = test_echo_finalize,
};

MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void);
MERO_PLUGIN_EXPORT const MeroPluginDescriptor *
mero_plugin_get_descriptor (void)
{
  return &descriptor;
}
