/* sync-snapshot-core.c: see sync-snapshot-core.h.  The session, its input
 * and deadlines; the roles are in sync-snapshot-initiator.c and
 * sync-snapshot-responder.c. */
#include "sync-snapshot-session.h"

#include <string.h>

static const uint8_t zero_root[32];

void
sync_snapshot_count (SyncSnapshotSession *s, const char *metric, const char *reason)
{
  g_autofree char *labels = NULL;

  if (s->config.host == NULL || s->config.host->counter_add == NULL)
    return;
  labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", s->config.name, reason);
  s->config.host->counter_add (s->config.host, metric, labels, 1);
}

gboolean
sync_snapshot_fail (SyncSnapshotSession *s, GError **error, int code, const char *reason,
                    const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (s->status == MERO_SYNC_STATUS_RUNNING)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      sync_snapshot_count (s, "mero_sync_failures_total", reason);
      /* Info, not warning: a peer can cause it at will. */
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                       "%s session failed (%s): %s",
                       s->role == MERO_SYNC_ROLE_INITIATOR ? "initiator" : "responder", reason,
                       msg);
      /* A peer that sent something wrong: what it staged is not worth
       * resuming from. */
      if (s->writer != NULL && code != MERO_SYNC_ERROR_TIMEOUT)
        {
          g_autoptr (GError) abort_error = NULL;

          if (!s->sa->snapshot_abort (s->writer, &abort_error))
            mero_plugin_log (s->config.host, MERO_LOG_LEVEL_WARNING, s->config.name,
                             "snapshot staging not dropped: %s", abort_error->message);
        }
    }
  g_set_error_literal (error, MERO_SYNC_ERROR, code, msg);
  return FALSE;
}

gboolean
sync_snapshot_refuse (SyncSnapshotSession *s, GError **error, const char *reason,
                      const char *what)
{
  sync_snapshot_count (s, "mero_sync_refusals_total", reason);
  return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_LIMIT, reason, "refused: %s", what);
}

gboolean
sync_snapshot_state_failed (SyncSnapshotSession *s, GError **error, GError *cause)
{
  return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_STATE, "state", "state access: %s",
                             cause != NULL ? cause->message : "failed");
}

void
sync_snapshot_queue (SyncSnapshotSession *s, GBytes *frame)
{
  s->stats.messages_sent++;
  s->stats.bytes_sent += g_bytes_get_size (frame);
  g_queue_push_tail (&s->outq, frame);
}

static gboolean
wants_resync (const MeroSyncHandshake *local)
{
  return MERO_SYNC_HANDSHAKE_HAS (local, flags) && (local->flags & MERO_SYNC_HANDSHAKE_RESYNC);
}

uint64_t
sync_snapshot_cost (const SyncSnapshotConfig *config, const MeroSyncHandshake *local,
                    const MeroSyncHandshake *remote)
{
  (void) config;
  /* Nothing to take from a fresh peer, nothing to do on equal roots. */
  if (memcmp (remote->root_hash, zero_root, 32) == 0
      || memcmp (local->root_hash, remote->root_hash, 32) == 0)
    return MERO_SYNC_COST_NOT_APPLICABLE;
  if (memcmp (local->root_hash, zero_root, 32) == 0 || wants_resync (local))
    return SYNC_SNAPSHOT_COST;
  return MERO_SYNC_COST_NOT_APPLICABLE;
}

SyncSnapshotSession *
sync_snapshot_session_new (const SyncSnapshotConfig *config, const MeroSyncSessionParams *params,
                           GError **error)
{
  SyncSnapshotSession *s;
  const MeroStateAccess *sa = config->host != NULL ? config->host->state : NULL;

  if (sa == NULL || !MERO_STATE_ACCESS_HAS (sa, snapshot_free) || params->state == NULL
      || params->local == NULL || params->remote == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "%s needs the snapshot members of the state access, a state and both "
                   "handshakes", config->name);
      return NULL;
    }
  if (params->role == MERO_SYNC_ROLE_INITIATOR
      && sync_snapshot_cost (config, params->local, params->remote)
           == MERO_SYNC_COST_NOT_APPLICABLE)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "a snapshot goes only onto a fresh state or an operator resync");
      return NULL;
    }
  s = g_new0 (SyncSnapshotSession, 1);
  s->config = *config;
  s->sa = sa;
  s->state = params->state;
  s->role = params->role;
  s->resync = wants_resync (params->local);
  s->inbuf = g_byte_array_new ();
  g_queue_init (&s->outq);
  s->session_deadline = params->now_us + SYNC_SNAPSHOT_SESSION_TIMEOUT_US;
  s->idle_deadline = params->now_us + SYNC_SNAPSHOT_IDLE_TIMEOUT_US;
  if (s->role == MERO_SYNC_ROLE_INITIATOR)
    sync_snapshot_queue (s, sync_snapshot_wire_encode_empty (SYNC_SNAPSHOT_MSG_OPEN));
  return s;
}

void
sync_snapshot_session_free (SyncSnapshotSession *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->inbuf);
  g_queue_clear_full (&s->outq, (GDestroyNotify) g_bytes_unref);
  if (s->view != NULL)
    s->sa->read_view_free (s->view);
  if (s->writer != NULL)
    s->sa->snapshot_free (s->writer);
  g_free (s->page_buf);
  g_free (s->heads);
  g_free (s);
}

gboolean
sync_snapshot_session_recv (SyncSnapshotSession *s, const uint8_t *data, size_t len,
                            int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    {
      if (len == 0)
        return TRUE;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                   "bytes after the session ended");
      return FALSE;
    }
  s->stats.bytes_received += len;
  if (s->stats.bytes_received > SYNC_SNAPSHOT_MAX_BYTES_PER_SESSION)
    return sync_snapshot_refuse (s, error, "bytes", "over SYNC_SNAPSHOT_MAX_BYTES_PER_SESSION");
  s->idle_deadline = now_us + SYNC_SNAPSHOT_IDLE_TIMEOUT_US;
  g_byte_array_append (s->inbuf, data, (guint) len);
  while (s->status == MERO_SYNC_STATUS_RUNNING)
    {
      SyncSnapshotMsg m;
      g_autoptr (GError) local_error = NULL;
      const char *reason = NULL;
      size_t used = 0;
      SyncSnapshotDecode r;
      gboolean ok;

      r = sync_snapshot_wire_decode (s->inbuf->data, s->inbuf->len, &used, &m, &reason,
                                     &local_error);
      if (r == SYNC_SNAPSHOT_DECODE_NEED_MORE)
        break;
      if (r == SYNC_SNAPSHOT_DECODE_ERROR)
        {
          if (strcmp (reason, "malformed") == 0 || strcmp (reason, "unknown-type") == 0
              || strcmp (reason, "out-of-order") == 0)
            return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "%s",
                                       local_error->message);
          return sync_snapshot_refuse (s, error, reason, local_error->message);
        }
      g_byte_array_remove_range (s->inbuf, 0, (guint) used);
      s->stats.messages_received++;
      ok = s->role == MERO_SYNC_ROLE_INITIATOR ? sync_snapshot_initiator_handle (s, &m, error)
                                               : sync_snapshot_responder_handle (s, &m, error);
      sync_snapshot_msg_clear (&m);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

GBytes *
sync_snapshot_session_pull_send (SyncSnapshotSession *s)
{
  return g_queue_pop_head (&s->outq);
}

int64_t
sync_snapshot_session_next_deadline (SyncSnapshotSession *s)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return MERO_SYNC_NO_DEADLINE;
  return MIN (s->session_deadline, s->idle_deadline);
}

gboolean
sync_snapshot_session_handle_deadline (SyncSnapshotSession *s, int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return TRUE;
  if (now_us >= s->session_deadline)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "deadline",
                               "session over SYNC_SNAPSHOT_SESSION_TIMEOUT_US");
  if (now_us >= s->idle_deadline)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "idle",
                               "peer idle for SYNC_SNAPSHOT_IDLE_TIMEOUT_US");
  return TRUE;
}

MeroSyncStatus
sync_snapshot_session_status (SyncSnapshotSession *s)
{
  return s->status;
}

void
sync_snapshot_session_get_stats (SyncSnapshotSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}
