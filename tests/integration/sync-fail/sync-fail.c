/* sync-fail.c: a SYNC_PROTOCOL plugin for the fallback test: the cheapest
 * of all for differing roots (cost 0), and every session it makes fails
 * at once, so the SyncManager must go on with the next protocol. */
#include <string.h>

#include <mero-sdk.h>

struct _MeroSyncSession {
  int unused;
};

static gboolean
fail_init (const MeroHostServices *host G_GNUC_UNUSED, void **plugin_data,
           GError **error G_GNUC_UNUSED)
{
  *plugin_data = NULL;
  return TRUE;
}

static void
fail_finalize (void *plugin_data G_GNUC_UNUSED)
{
}

static uint64_t
fail_cost (void *plugin_data G_GNUC_UNUSED, const MeroSyncHandshake *local,
           const MeroSyncHandshake *remote)
{
  return memcmp (local->root_hash, remote->root_hash, 32) == 0 ? MERO_SYNC_COST_NOT_APPLICABLE
                                                                : 0;
}

static MeroSyncSession *
fail_session_new (void *plugin_data G_GNUC_UNUSED,
                  const MeroSyncSessionParams *params G_GNUC_UNUSED, GError **error G_GNUC_UNUSED)
{
  return g_new0 (MeroSyncSession, 1);
}

static gboolean
fail_recv (MeroSyncSession *s G_GNUC_UNUSED, const uint8_t *data G_GNUC_UNUSED,
           size_t len G_GNUC_UNUSED, int64_t now_us G_GNUC_UNUSED, GError **error)
{
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_FAILED, "sync-fail always fails");
  return FALSE;
}

static GBytes *
fail_pull_send (MeroSyncSession *s G_GNUC_UNUSED)
{
  return NULL;
}

static int64_t
fail_next_deadline (MeroSyncSession *s G_GNUC_UNUSED)
{
  return MERO_SYNC_NO_DEADLINE;
}

static gboolean
fail_handle_deadline (MeroSyncSession *s G_GNUC_UNUSED, int64_t now_us G_GNUC_UNUSED,
                      GError **error G_GNUC_UNUSED)
{
  return TRUE;
}

static MeroSyncStatus
fail_status (MeroSyncSession *s G_GNUC_UNUSED)
{
  return MERO_SYNC_STATUS_FAILED;
}

static void
fail_get_stats (MeroSyncSession *s G_GNUC_UNUSED, MeroSyncSessionStats *out)
{
  memset (out, 0, sizeof *out);
}

static void
fail_session_free (MeroSyncSession *s)
{
  g_free (s);
}

static const MeroSyncProtocolVTable fail_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/fail/1",
  .cost = fail_cost,
  .session_new = fail_session_new,
  .recv = fail_recv,
  .pull_send = fail_pull_send,
  .next_deadline = fail_next_deadline,
  .handle_deadline = fail_handle_deadline,
  .status = fail_status,
  .get_stats = fail_get_stats,
  .session_free = fail_session_free,
};

MERO_PLUGIN_DEFINE (sync_fail, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "sync-fail", "0.0.1",
                    "Apache-2.0", &fail_vtable, fail_init, fail_finalize);
