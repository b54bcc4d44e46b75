/* plugin.c: key-share's descriptor and vtable (logic in key-share-core.c). */
#include <mero-sdk.h>

#include "key-share-core.h"

static gboolean
key_share_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  KeyShareConfig *config = g_new0 (KeyShareConfig, 1);

  config->host = host;
  config->name = "key-share";
  *plugin_data = config;
  return TRUE;
}

static void
key_share_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

static uint64_t
key_share_vt_cost (void *plugin_data, const MeroSyncHandshake *local,
                   const MeroSyncHandshake *remote)
{
  return key_share_cost (plugin_data, local, remote);
}

static MeroSyncSession *
key_share_vt_session_new (void *plugin_data, const MeroSyncSessionParams *params, GError **error)
{
  return (MeroSyncSession *) key_share_session_new (plugin_data, params, error);
}

static gboolean
key_share_vt_recv (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                   GError **error)
{
  return key_share_session_recv ((KeyShareSession *) session, data, len, now_us, error);
}

static GBytes *
key_share_vt_pull_send (MeroSyncSession *session)
{
  return key_share_session_pull_send ((KeyShareSession *) session);
}

static int64_t
key_share_vt_next_deadline (MeroSyncSession *session)
{
  return key_share_session_next_deadline ((KeyShareSession *) session);
}

static gboolean
key_share_vt_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  return key_share_session_handle_deadline ((KeyShareSession *) session, now_us, error);
}

static MeroSyncStatus
key_share_vt_status (MeroSyncSession *session)
{
  return key_share_session_status ((KeyShareSession *) session);
}

static void
key_share_vt_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  key_share_session_get_stats ((KeyShareSession *) session, out);
}

static void
key_share_vt_session_free (MeroSyncSession *session)
{
  key_share_session_free ((KeyShareSession *) session);
}

static const MeroSyncProtocolVTable key_share_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/key/1",
  .cost = key_share_vt_cost,
  .session_new = key_share_vt_session_new,
  .recv = key_share_vt_recv,
  .pull_send = key_share_vt_pull_send,
  .next_deadline = key_share_vt_next_deadline,
  .handle_deadline = key_share_vt_handle_deadline,
  .status = key_share_vt_status,
  .get_stats = key_share_vt_get_stats,
  .session_free = key_share_vt_session_free,
};

MERO_PLUGIN_DEFINE (key_share, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "key-share",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &key_share_vtable, key_share_init,
                    key_share_finalize);
