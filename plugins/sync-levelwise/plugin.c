/* plugin.c: sync-levelwise's descriptor and vtable.  The logic is the
 * sync-hash core in its breadth-first mode (plugins/sync-hash/sync-hash-core.h):
 * one logical level of the tree per round trip, for wide shallow trees. */
#include <mero-sdk.h>

#include "sync-hash-core.h"

static gboolean
sync_levelwise_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  SyncHashConfig *config = g_new0 (SyncHashConfig, 1);

  config->host = host;
  config->name = "sync-levelwise";
  config->protocol_label = "sync-levelwise";
  config->levelwise = TRUE;
  *plugin_data = config;
  return TRUE;
}

static void
sync_levelwise_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

static uint64_t
sync_levelwise_vt_cost (void *plugin_data, const MeroSyncHandshake *local,
                   const MeroSyncHandshake *remote)
{
  return sync_hash_cost (plugin_data, local, remote);
}

static MeroSyncSession *
sync_levelwise_vt_session_new (void *plugin_data, const MeroSyncSessionParams *params, GError **error)
{
  return (MeroSyncSession *) sync_hash_session_new (plugin_data, params, error);
}

static gboolean
sync_levelwise_vt_recv (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                   GError **error)
{
  return sync_hash_session_recv ((SyncHashSession *) session, data, len, now_us, error);
}

static GBytes *
sync_levelwise_vt_pull_send (MeroSyncSession *session)
{
  return sync_hash_session_pull_send ((SyncHashSession *) session);
}

static int64_t
sync_levelwise_vt_next_deadline (MeroSyncSession *session)
{
  return sync_hash_session_next_deadline ((SyncHashSession *) session);
}

static gboolean
sync_levelwise_vt_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  return sync_hash_session_handle_deadline ((SyncHashSession *) session, now_us, error);
}

static MeroSyncStatus
sync_levelwise_vt_status (MeroSyncSession *session)
{
  return sync_hash_session_status ((SyncHashSession *) session);
}

static void
sync_levelwise_vt_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  sync_hash_session_get_stats ((SyncHashSession *) session, out);
}

static void
sync_levelwise_vt_session_free (MeroSyncSession *session)
{
  sync_hash_session_free ((SyncHashSession *) session);
}

static const MeroSyncProtocolVTable sync_levelwise_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/levelwise/1",
  .cost = sync_levelwise_vt_cost,
  .session_new = sync_levelwise_vt_session_new,
  .recv = sync_levelwise_vt_recv,
  .pull_send = sync_levelwise_vt_pull_send,
  .next_deadline = sync_levelwise_vt_next_deadline,
  .handle_deadline = sync_levelwise_vt_handle_deadline,
  .status = sync_levelwise_vt_status,
  .get_stats = sync_levelwise_vt_get_stats,
  .session_free = sync_levelwise_vt_session_free,
};

MERO_PLUGIN_DEFINE (sync_levelwise, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "sync-levelwise",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &sync_levelwise_vtable, sync_levelwise_init,
                    sync_levelwise_finalize);
