/* plugin.c: sync-reconcile's descriptor and vtable.  The logic is in
 * reconcile-core.h (sessions) and riblt.h (the coded symbols). */
#include <mero-sdk.h>

#include "reconcile-core.h"
#include "reconcile-index.h"

static gboolean
sync_reconcile_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  ReconcileConfig *config = g_new0 (ReconcileConfig, 1);

  config->host = host;
  config->name = "sync-reconcile";
  config->protocol_label = "reconcile";
  *plugin_data = config;
  return TRUE;
}

static void
sync_reconcile_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

static uint64_t
sync_reconcile_vt_cost (void *plugin_data, const MeroSyncHandshake *local,
                        const MeroSyncHandshake *remote)
{
  return reconcile_cost (plugin_data, local, remote);
}

static MeroSyncSession *
sync_reconcile_vt_session_new (void *plugin_data, const MeroSyncSessionParams *params,
                               GError **error)
{
  return (MeroSyncSession *) reconcile_session_new (plugin_data, params, error);
}

static gboolean
sync_reconcile_vt_recv (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                        GError **error)
{
  return reconcile_session_recv ((ReconcileSession *) session, data, len, now_us, error);
}

static GBytes *
sync_reconcile_vt_pull_send (MeroSyncSession *session)
{
  return reconcile_session_pull_send ((ReconcileSession *) session);
}

static int64_t
sync_reconcile_vt_next_deadline (MeroSyncSession *session)
{
  return reconcile_session_next_deadline ((ReconcileSession *) session);
}

static gboolean
sync_reconcile_vt_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  return reconcile_session_handle_deadline ((ReconcileSession *) session, now_us, error);
}

static MeroSyncStatus
sync_reconcile_vt_status (MeroSyncSession *session)
{
  return reconcile_session_status ((ReconcileSession *) session);
}

static void
sync_reconcile_vt_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  reconcile_session_get_stats ((ReconcileSession *) session, out);
}

static void
sync_reconcile_vt_session_free (MeroSyncSession *session)
{
  reconcile_session_free ((ReconcileSession *) session);
}

static gboolean
sync_reconcile_vt_index_update (void *plugin_data, const uint8_t context_id[32],
                                MeroIndexBatch *batch, const MeroStateEntity *old_entity,
                                const MeroStateEntity *new_entity, GError **error)
{
  return reconcile_index_update (plugin_data, context_id, batch, old_entity, new_entity, error);
}

static gboolean
sync_reconcile_vt_index_rebuild (void *plugin_data, const uint8_t context_id[32],
                                 MeroStateHandle *state, MeroIndexBatch *batch, GError **error)
{
  return reconcile_index_rebuild (plugin_data, context_id, state, batch, error);
}

static const MeroSyncProtocolVTable sync_reconcile_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/reconcile/1",
  .cost = sync_reconcile_vt_cost,
  .session_new = sync_reconcile_vt_session_new,
  .recv = sync_reconcile_vt_recv,
  .pull_send = sync_reconcile_vt_pull_send,
  .next_deadline = sync_reconcile_vt_next_deadline,
  .handle_deadline = sync_reconcile_vt_handle_deadline,
  .status = sync_reconcile_vt_status,
  .get_stats = sync_reconcile_vt_get_stats,
  .session_free = sync_reconcile_vt_session_free,
  /* ABI 1.2: the stored prefix of coded symbols (reconcile-index.h). */
  .index_version = RECONCILE_INDEX_VERSION,
  .index_update = sync_reconcile_vt_index_update,
  .index_rebuild = sync_reconcile_vt_index_rebuild,
};

MERO_PLUGIN_DEFINE (sync_reconcile, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "sync-reconcile",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &sync_reconcile_vtable,
                    sync_reconcile_init, sync_reconcile_finalize);
