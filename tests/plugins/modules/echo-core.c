/* echo-core.c: see echo-core.h. */
#include "echo-core.h"

#include <string.h>

#define FRAME_PING 'P'
#define FRAME_PONG 'O'
#define FRAME_BYE 'B'
#define FRAME_HEADER_LEN 2

typedef struct {
  const MeroHostServices *host;
  const char *name;
} EchoPlugin;

struct _MeroSyncSession {
  EchoPlugin *plugin;
  MeroSyncRole role;
  MeroSyncStatus status;
  GByteArray *in;     /* at most one partial frame */
  GByteArray *out;
  uint8_t nonce[TEST_ECHO_NONCE_LEN];   /* initiator: the outstanding ping */
  guint pongs;
  int64_t deadline;
  MeroSyncSessionStats stats;
};

const MeroSyncProtocolVTable test_echo_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
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

gboolean
test_echo_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  EchoPlugin *plugin;

  if (host == NULL || host->abi_major != MERO_PLUGIN_ABI_MAJOR ||
      !MERO_HOST_SERVICES_HAS (host, gauge_set))
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_FAILED,
                   "test-echo needs host services of ABI %d", MERO_PLUGIN_ABI_MAJOR);
      return FALSE;
    }
  plugin = g_new0 (EchoPlugin, 1);
  plugin->host = host;
  plugin->name = "test-echo";
  host->counter_add (host, "mero_test_echo_init_total", NULL, 1);
  host->gauge_set (host, "mero_test_echo_has_state", NULL, host->state != NULL ? 1.0 : 0.0);
  mero_plugin_log (host, MERO_LOG_LEVEL_INFO, plugin->name, "test-echo ready on host %s",
                   host->host_version);
  *plugin_data = plugin;
  return TRUE;
}

void
test_echo_finalize (void *plugin_data)
{
  EchoPlugin *plugin = plugin_data;

  if (plugin == NULL)
    return;
  plugin->host->counter_add (plugin->host, "mero_test_echo_finalize_total", NULL, 1);
  g_free (plugin);
}

uint64_t
test_echo_cost (void *plugin_data, const MeroSyncHandshake *local,
                const MeroSyncHandshake *remote)
{
  if (local == NULL || remote == NULL ||
      memcmp (local->root_hash, remote->root_hash, sizeof local->root_hash) == 0)
    return MERO_SYNC_COST_NOT_APPLICABLE;
  return 10 + remote->entity_count;
}

static void
queue_frame (MeroSyncSession *session, uint8_t type, const uint8_t *payload, uint8_t len)
{
  uint8_t header[FRAME_HEADER_LEN] = { type, len };

  g_byte_array_append (session->out, header, sizeof header);
  if (len > 0)
    g_byte_array_append (session->out, payload, len);
  session->stats.messages_sent++;
  session->stats.bytes_sent += FRAME_HEADER_LEN + len;
}

static void
send_ping (MeroSyncSession *session, int64_t now_us)
{
  const MeroHostServices *host = session->plugin->host;

  host->random_bytes (host, session->nonce, sizeof session->nonce);
  queue_frame (session, FRAME_PING, session->nonce, sizeof session->nonce);
  session->deadline = now_us + TEST_ECHO_TIMEOUT_US;
}

static gboolean
fail (MeroSyncSession *session, GError **error, int code, const char *message)
{
  session->status = MERO_SYNC_STATUS_FAILED;
  session->deadline = MERO_SYNC_NO_DEADLINE;
  g_set_error_literal (error, MERO_SYNC_ERROR, code, message);
  return FALSE;
}

MeroSyncSession *
test_echo_session_new (void *plugin_data, const MeroSyncSessionParams *params, GError **error)
{
  MeroSyncSession *session;
  const char *labels;

  if (params == NULL || params->role > MERO_SYNC_ROLE_RESPONDER)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_FAILED, "bad session parameters");
      return NULL;
    }
  session = g_new0 (MeroSyncSession, 1);
  session->plugin = plugin_data;
  session->role = params->role;
  session->status = MERO_SYNC_STATUS_RUNNING;
  session->in = g_byte_array_new ();
  session->out = g_byte_array_new ();
  if (session->role == MERO_SYNC_ROLE_INITIATOR)
    send_ping (session, params->now_us);
  else
    session->deadline = params->now_us + TEST_ECHO_TIMEOUT_US;
  labels = session->role == MERO_SYNC_ROLE_INITIATOR ? "role=\"initiator\""
                                                     : "role=\"responder\"";
  session->plugin->host->counter_add (session->plugin->host, "mero_test_echo_sessions_total",
                                      labels, 1);
  return session;
}

static gboolean
handle_frame (MeroSyncSession *session, uint8_t type, const uint8_t *payload, uint8_t len,
              int64_t now_us, GError **error)
{
  session->stats.messages_received++;
  if (session->role == MERO_SYNC_ROLE_RESPONDER && type == FRAME_PING &&
      len == TEST_ECHO_NONCE_LEN)
    {
      queue_frame (session, FRAME_PONG, payload, len);
      session->deadline = now_us + TEST_ECHO_TIMEOUT_US;
      return TRUE;
    }
  if (session->role == MERO_SYNC_ROLE_RESPONDER && type == FRAME_BYE && len == 0)
    {
      session->status = MERO_SYNC_STATUS_DONE;
      session->deadline = MERO_SYNC_NO_DEADLINE;
      return TRUE;
    }
  if (session->role == MERO_SYNC_ROLE_INITIATOR && type == FRAME_PONG &&
      len == TEST_ECHO_NONCE_LEN && memcmp (payload, session->nonce, len) == 0)
    {
      session->stats.round_trips++;
      if (++session->pongs < TEST_ECHO_PINGS)
        {
          send_ping (session, now_us);
          return TRUE;
        }
      queue_frame (session, FRAME_BYE, NULL, 0);
      session->status = MERO_SYNC_STATUS_DONE;
      session->deadline = MERO_SYNC_NO_DEADLINE;
      return TRUE;
    }
  return fail (session, error, MERO_SYNC_ERROR_PROTOCOL, "unexpected frame");
}

gboolean
test_echo_recv (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                GError **error)
{
  size_t used = 0;

  if (session->status != MERO_SYNC_STATUS_RUNNING)
    return fail (session, error, MERO_SYNC_ERROR_PROTOCOL, "data after the session ended");

  session->stats.bytes_received += len;
  g_byte_array_append (session->in, data, (guint) len);
  /* A frame is at most 2 + 255 bytes, so the buffer never holds more than
   * one partial frame plus what this call brought. */
  while (session->in->len - used >= FRAME_HEADER_LEN)
    {
      const uint8_t *frame = session->in->data + used;
      uint8_t payload_len = frame[1];

      if (session->in->len - used < (size_t) FRAME_HEADER_LEN + payload_len)
        break;
      if (!handle_frame (session, frame[0], frame + FRAME_HEADER_LEN, payload_len, now_us, error))
        return FALSE;
      used += FRAME_HEADER_LEN + payload_len;
      if (session->status != MERO_SYNC_STATUS_RUNNING && used < session->in->len)
        return fail (session, error, MERO_SYNC_ERROR_PROTOCOL, "data after the last frame");
    }
  g_byte_array_remove_range (session->in, 0, (guint) used);
  return TRUE;
}

GBytes *
test_echo_pull_send (MeroSyncSession *session)
{
  GByteArray *pending;

  if (session->out->len == 0)
    return NULL;
  pending = session->out;
  session->out = g_byte_array_new ();
  return g_byte_array_free_to_bytes (pending);
}

int64_t
test_echo_next_deadline (MeroSyncSession *session)
{
  return session->deadline;
}

gboolean
test_echo_handle_deadline (MeroSyncSession *session, int64_t now_us, GError **error)
{
  /* Called early (timers may fire a little before the deadline): nothing
   * to do yet. */
  if (session->status != MERO_SYNC_STATUS_RUNNING || now_us < session->deadline)
    return TRUE;
  return fail (session, error, MERO_SYNC_ERROR_TIMEOUT,
               session->role == MERO_SYNC_ROLE_INITIATOR ? "no pong before the deadline"
                                                         : "no ping before the deadline");
}

MeroSyncStatus
test_echo_status (MeroSyncSession *session)
{
  return session->status;
}

void
test_echo_get_stats (MeroSyncSession *session, MeroSyncSessionStats *out)
{
  *out = session->stats;
}

void
test_echo_session_free (MeroSyncSession *session)
{
  if (session == NULL)
    return;
  g_byte_array_unref (session->in);
  g_byte_array_unref (session->out);
  g_free (session);
}
