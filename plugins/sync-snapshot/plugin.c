/* plugin.c: sync-snapshot's descriptor and vtable (logic in sync-snapshot-core.c). */
#include <mero-sdk.h>

#include "sync-snapshot-core.h"

static gboolean
sync_snapshot_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  SyncSnapshotConfig *config = g_new0 (SyncSnapshotConfig, 1);

  config->host = host;
  config->name = "sync-snapshot";
  *plugin_data = config;
  return TRUE;
}

static void
sync_snapshot_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

static uint64_t
sync_snapshot_vt_cost (void *plugin_data, const MeroSyncHandshake *local,
                       const MeroSyncHandshake *remote)
{
  return sync_snapshot_cost (plugin_data, local, remote);
}

static MeroSyncSession *
sync_snapshot_vt_session_new (void *plugin_data, const MeroSyncSessionParams *params,
                              GError **error)
{
  return (MeroSyncSession *) sync_snapshot_session_new (plugin_data, params, error);
}

static gboolean
sync_snapshot_vt_recv (MeroSyncSession *session, const uint8_t *data, size_t len,
                       int64_t now_us, GError **error)
{
  return sync_snapshot_session_recv ((SyncSnapshotSession *) session, data, len, now_us, error);
}

static GBytes *
sync_snapshot_vt_pull_send (MeroSyncSession *session)
{
  return sync_snapshot_session_pull_send ((SyncSnapshotSession *) session);
}

static int64_t
sync_snapshot_vt_next_deadline (MeroSyncSession *session)
{
  return sync_snapshot_session_next_deadline ((SyncSnapshotSession *) session);
}

static gboolean
sync_snapshot_vt_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  return sync_snapshot_session_handle_deadline ((SyncSnapshotSession *) session, now_us, error);
}

static MeroSyncStatus
sync_snapshot_vt_status (MeroSyncSession *session)
{
  return sync_snapshot_session_status ((SyncSnapshotSession *) session);
}

static void
sync_snapshot_vt_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  sync_snapshot_session_get_stats ((SyncSnapshotSession *) session, out);
}

static void
sync_snapshot_vt_session_free (MeroSyncSession *session)
{
  sync_snapshot_session_free ((SyncSnapshotSession *) session);
}

static const MeroSyncProtocolVTable sync_snapshot_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/snapshot/1",
  .cost = sync_snapshot_vt_cost,
  .session_new = sync_snapshot_vt_session_new,
  .recv = sync_snapshot_vt_recv,
  .pull_send = sync_snapshot_vt_pull_send,
  .next_deadline = sync_snapshot_vt_next_deadline,
  .handle_deadline = sync_snapshot_vt_handle_deadline,
  .status = sync_snapshot_vt_status,
  .get_stats = sync_snapshot_vt_get_stats,
  .session_free = sync_snapshot_vt_session_free,
};

MERO_PLUGIN_DEFINE (sync_snapshot, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "sync-snapshot",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &sync_snapshot_vtable,
                    sync_snapshot_init, sync_snapshot_finalize);
