/* sync-echo.c: a third-party SYNC_PROTOCOL plugin built out of tree
 * against the installed SDK, with nothing but <mero-sdk.h> and
 * pkg-config.  A sans-IO session of one round trip (the initiator sends
 * "ping", the responder answers "pong", both are done) whose cost() is
 * the lowest there is for differing roots, so the SyncManager selects
 * it over the tree protocols. */
#include <string.h>

#include <mero-sdk.h>

#define ECHO_PING "ping"
#define ECHO_PONG "pong"
#define ECHO_LEN 4
#define ECHO_TIMEOUT_US (G_GINT64_CONSTANT (10) * G_USEC_PER_SEC)

struct _MeroSyncSession {
  MeroSyncRole role;
  MeroSyncStatus status;
  GBytes *out;
  uint8_t in[ECHO_LEN];
  size_t n_in;
  int64_t deadline;
  MeroSyncSessionStats stats;
};

static gboolean
echo_init (const MeroHostServices *host G_GNUC_UNUSED, void **plugin_data,
           GError **error G_GNUC_UNUSED)
{
  *plugin_data = NULL;
  return TRUE;
}

static void
echo_finalize (void *plugin_data G_GNUC_UNUSED)
{
}

static uint64_t
echo_cost (void *plugin_data G_GNUC_UNUSED, const MeroSyncHandshake *local,
           const MeroSyncHandshake *remote)
{
  return memcmp (local->root_hash, remote->root_hash, 32) == 0 ? 0 : 1;
}

static MeroSyncSession *
echo_session_new (void *plugin_data G_GNUC_UNUSED, const MeroSyncSessionParams *params,
                  GError **error G_GNUC_UNUSED)
{
  MeroSyncSession *s = g_new0 (MeroSyncSession, 1);

  s->role = (MeroSyncRole) params->role;
  s->deadline = params->now_us + ECHO_TIMEOUT_US;
  if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      s->out = g_bytes_new_static (ECHO_PING, ECHO_LEN);
      s->stats.messages_sent = 1;
      s->stats.bytes_sent = ECHO_LEN;
    }
  return s;
}

static gboolean
echo_recv (MeroSyncSession *s, const uint8_t *data, size_t len, int64_t now_us G_GNUC_UNUSED,
           GError **error)
{
  const char *want = s->role == MERO_SYNC_ROLE_INITIATOR ? ECHO_PONG : ECHO_PING;

  if (s->status != MERO_SYNC_STATUS_RUNNING || len > ECHO_LEN - s->n_in)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "unexpected bytes");
      return FALSE;
    }
  memcpy (s->in + s->n_in, data, len);
  s->n_in += len;
  s->stats.bytes_received += len;
  if (s->n_in < ECHO_LEN)
    return TRUE;
  s->stats.messages_received = 1;
  if (memcmp (s->in, want, ECHO_LEN) != 0)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "not %s", want);
      return FALSE;
    }
  if (s->role == MERO_SYNC_ROLE_RESPONDER)
    {
      s->out = g_bytes_new_static (ECHO_PONG, ECHO_LEN);
      s->stats.messages_sent = 1;
      s->stats.bytes_sent = ECHO_LEN;
    }
  else
    s->stats.round_trips = 1;
  s->status = MERO_SYNC_STATUS_DONE;
  return TRUE;
}

static GBytes *
echo_pull_send (MeroSyncSession *s)
{
  GBytes *out = s->out;

  s->out = NULL;
  return out;
}

static int64_t
echo_next_deadline (MeroSyncSession *s)
{
  return s->status == MERO_SYNC_STATUS_RUNNING ? s->deadline : MERO_SYNC_NO_DEADLINE;
}

static gboolean
echo_handle_deadline (MeroSyncSession *s, int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING || now_us < s->deadline)
    return TRUE;
  s->status = MERO_SYNC_STATUS_FAILED;
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_TIMEOUT, "no answer");
  return FALSE;
}

static MeroSyncStatus
echo_status (MeroSyncSession *s)
{
  return s->status;
}

static void
echo_get_stats (MeroSyncSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}

static void
echo_session_free (MeroSyncSession *s)
{
  if (s == NULL)
    return;
  if (s->out != NULL)
    g_bytes_unref (s->out);
  g_free (s);
}

static const MeroSyncProtocolVTable echo_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/echo/1",
  .cost = echo_cost,
  .session_new = echo_session_new,
  .recv = echo_recv,
  .pull_send = echo_pull_send,
  .next_deadline = echo_next_deadline,
  .handle_deadline = echo_handle_deadline,
  .status = echo_status,
  .get_stats = echo_get_stats,
  .session_free = echo_session_free,
};

MERO_PLUGIN_DEFINE (sync_echo, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "sync-echo", "0.0.1",
                    "Apache-2.0", &echo_vtable, echo_init, echo_finalize);
