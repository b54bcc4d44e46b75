/* plugin.c: blob-share's descriptor and vtable (logic in blob-share-core.c). */
#include <mero-sdk.h>

#include "blob-share-core.h"

static gboolean
blob_share_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  BlobShareConfig *config = g_new0 (BlobShareConfig, 1);

  config->host = host;
  config->name = "blob-share";
  *plugin_data = config;
  return TRUE;
}

static void
blob_share_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

static uint64_t
blob_share_vt_cost (void *plugin_data, const MeroSyncHandshake *local,
                   const MeroSyncHandshake *remote)
{
  return blob_share_cost (plugin_data, local, remote);
}

static MeroSyncSession *
blob_share_vt_session_new (void *plugin_data, const MeroSyncSessionParams *params, GError **error)
{
  return (MeroSyncSession *) blob_share_session_new (plugin_data, params, error);
}

static gboolean
blob_share_vt_recv (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                   GError **error)
{
  return blob_share_session_recv ((BlobShareSession *) session, data, len, now_us, error);
}

static GBytes *
blob_share_vt_pull_send (MeroSyncSession *session)
{
  return blob_share_session_pull_send ((BlobShareSession *) session);
}

static int64_t
blob_share_vt_next_deadline (MeroSyncSession *session)
{
  return blob_share_session_next_deadline ((BlobShareSession *) session);
}

static gboolean
blob_share_vt_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  return blob_share_session_handle_deadline ((BlobShareSession *) session, now_us, error);
}

static MeroSyncStatus
blob_share_vt_status (MeroSyncSession *session)
{
  return blob_share_session_status ((BlobShareSession *) session);
}

static void
blob_share_vt_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  blob_share_session_get_stats ((BlobShareSession *) session, out);
}

static void
blob_share_vt_session_free (MeroSyncSession *session)
{
  blob_share_session_free ((BlobShareSession *) session);
}

static const MeroSyncProtocolVTable blob_share_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/blob/1",
  .cost = blob_share_vt_cost,
  .session_new = blob_share_vt_session_new,
  .recv = blob_share_vt_recv,
  .pull_send = blob_share_vt_pull_send,
  .next_deadline = blob_share_vt_next_deadline,
  .handle_deadline = blob_share_vt_handle_deadline,
  .status = blob_share_vt_status,
  .get_stats = blob_share_vt_get_stats,
  .session_free = blob_share_vt_session_free,
};

MERO_PLUGIN_DEFINE (blob_share, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "blob-share",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &blob_share_vtable, blob_share_init,
                    blob_share_finalize);
