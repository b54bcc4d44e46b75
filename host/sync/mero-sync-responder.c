/* mero-sync-responder.c: the SyncManager's inbound streams (a member's
 * handshake or protocol session) and the stream handler it installs in
 * the NodeClient. */
#define G_LOG_DOMAIN "merod"
#include "sync/mero-sync-manager-private.h"

#include <string.h>

#include "net/mero-base58.h"
#include "node/mero-broadcast.h"

static guint
responders_of_peer (MeroSyncManager *mgr, const char *peer)
{
  GHashTableIter iter;
  Link *link;
  guint n = 0;

  g_hash_table_iter_init (&iter, mgr->links);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &link))
    if (link->run == NULL && g_strcmp0 (link->peer, peer) == 0)
      n++;
  return n;
}

static void
refuse (MeroSyncManager *mgr, MeroNetStream *stream, const char *protocol, const char *reason)
{
  mgr->collector->refused (mgr->collector, protocol, reason);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MERO_EVENT", "sync-refused", "MESSAGE",
                    "%s stream from %s refused: %s", mero_net_stream_get_protocol (stream),
                    mero_net_stream_get_peer_id (stream), reason);
  mero_node_client_stream_reset (mgr->client, stream);
}

/* Ends a responder link: its stream closed (whole exchange) or reset. */
static void
responder_drop (Link *link, gboolean clean)
{
  MeroSyncManager *mgr = link->mgr;

  if (clean)
    mero_node_client_stream_close (mgr->client, link->stream);
  else
    mero_node_client_stream_reset (mgr->client, link->stream);
  mgr->responders--;
  g_hash_table_remove (mgr->links, link->stream);   /* frees it */
}

static gboolean
on_silence (gpointer user_data)
{
  Link *link = user_data;

  g_clear_pointer (&link->silence, g_source_unref);
  link->mgr->collector->refused (link->mgr->collector, mero_sync_protocol_label (link->protocol),
                                 "silent");
  responder_drop (link, FALSE);
  return G_SOURCE_REMOVE;
}

/* The watchdog of a peer's session: MERO_SYNC_SESSION_DEADLINE_US in all,
 * whatever the plugin's own deadlines say. */
static gboolean
on_session_deadline (gpointer user_data)
{
  Link *link = user_data;

  g_clear_pointer (&link->silence, g_source_unref);
  g_warning ("%s session from %s wedged past its deadline, failed by the watchdog",
             link->protocol->info->name, link->peer);
  mero_sync_driver_abort (link->driver, "watchdog", "session past its deadline");
  return G_SOURCE_REMOVE;
}

void
mero_sync_responder_inbound (MeroSyncManager *mgr, MeroNetStream *stream)
{
  const char *protocol = mero_net_stream_get_protocol (stream);
  const char *peer = mero_net_stream_get_peer_id (stream);
  const MeroLoadedSyncProtocol *p = mero_sync_protocol_by_id (mgr, protocol);
  const char *label = mero_sync_protocol_label (p);
  Link *link;

  /* Only members of our groups may open any sync stream; the context's
   * own membership is checked once the handshake names it. */
  if (!mero_contexts_peer_is_member (mgr->contexts, peer))
    {
      refuse (mgr, stream, label, "non_member");
      return;
    }
  if (mgr->stopping || mgr->responders >= MERO_SYNC_MAX_RESPONDERS
      || responders_of_peer (mgr, peer) >= MERO_SYNC_MAX_RESPONDERS_PER_PEER)
    {
      refuse (mgr, stream, label, "busy");
      return;
    }
  link = g_new0 (Link, 1);
  link->mgr = mgr;
  link->stream = mero_net_stream_ref (stream);
  link->protocol = p;
  link->peer = g_strdup (peer);
  link->inbuf = g_byte_array_new ();
  link->started_us = g_get_monotonic_time ();
  link->silence = g_timeout_source_new (MERO_SYNC_FIRST_FRAME_MS);
  g_source_set_callback (link->silence, on_silence, link, NULL);
  g_source_attach (link->silence, NULL);
  mgr->responders++;
  g_hash_table_insert (mgr->links, link->stream, link);
}

static void
driver_write (GBytes *data, gpointer user_data)
{
  Link *link = user_data;

  mero_node_client_stream_write (link->mgr->client, link->stream, data);
}

static void
driver_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason,
            const char *message, gpointer user_data)
{
  Link *link = user_data;
  MeroSyncManager *mgr = link->mgr;
  MeroSyncSessionStats stats;
  gboolean done = status == MERO_SYNC_STATUS_DONE;

  mero_sync_driver_get_stats (driver, &stats);
  mgr->collector->session_ended (mgr->collector, link->protocol->info->name,
                                 done ? "ok" : "failed", &stats,
                                 (double) (g_get_monotonic_time () - link->started_us)
                                     / G_USEC_PER_SEC);
  /* The context's history shows the sessions peers ran with us too. */
  mero_sync_history_record (mgr->history, link->ctx_b58, link->peer, link->protocol->info->name,
                            done ? "ok" : "failed", !done,
                            g_get_real_time () - (g_get_monotonic_time () - link->started_us),
                            g_get_monotonic_time () - link->started_us);
  if (done)
    mero_contexts_state_synced (mgr->contexts, link->ctx_b58, link->remote->root_hash,
                                (const guint8 *) link->remote->heads->data,
                                link->remote->heads->len);
  else
    {
      mgr->collector->failed (mgr->collector, link->protocol->info->name,
                              reason != NULL ? reason : "protocol");
      g_info ("context %s: %s session from %s failed: %s", link->ctx_b58,
              link->protocol->info->name, link->peer, message != NULL ? message : "?");
    }
  /* Freeing the driver from inside its callback is allowed. */
  responder_drop (link, done);
}

/* The first frame (a handshake) arrived: answer it, or start a session. */
static void
on_first_frame (Link *link, GBytes *message)
{
  MeroSyncManager *mgr = link->mgr;
  const char *label = mero_sync_protocol_label (link->protocol);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) answer = NULL;
  g_autofree char *ctx_b58 = NULL;

  link->remote = mero_sync_hello_decode (g_bytes_get_data (message, NULL),
                                         g_bytes_get_size (message), &error);
  if (link->remote == NULL || link->remote->refusal != NULL)
    {
      mgr->collector->refused (mgr->collector, label,
                               link->remote == NULL ? mero_sync_handshake_error_reason (error)
                                                    : "malformed");
      responder_drop (link, FALSE);
      return;
    }
  ctx_b58 = mero_base58_encode (link->remote->context_id, 32);
  /* Only a member of this very context, and only a context we hold. */
  if (!mero_contexts_context_has_member (mgr->contexts, ctx_b58, link->peer))
    {
      mgr->collector->refused (mgr->collector, label, "non_member");
      if (link->protocol == NULL)
        {
          g_autoptr (MeroSyncHello) no =
              mero_sync_hello_new_refusal (link->remote->context_id, "not a member");

          answer = mero_sync_hello_encode (no);
          mero_sync_link_send (link, answer);
        }
      responder_drop (link, link->protocol == NULL);
      return;
    }
  link->ctx_b58 = g_steal_pointer (&ctx_b58);
  link->local = mero_sync_local_hello (mgr, link->ctx_b58, &link->ds, &link->state);
  if (link->local == NULL)
    {
      g_autoptr (MeroSyncHello) no =
          mero_sync_hello_new_refusal (link->remote->context_id, "no state");

      mgr->collector->refused (mgr->collector, label, "no_state");
      if (link->protocol == NULL)
        {
          answer = mero_sync_hello_encode (no);
          mero_sync_link_send (link, answer);
        }
      responder_drop (link, link->protocol == NULL);
      return;
    }
  if (link->protocol == NULL)
    {
      answer = mero_sync_hello_encode (link->local);
      mero_sync_link_send (link, answer);
      responder_drop (link, TRUE);
      return;
    }
  {
    MeroSyncHandshake local_sdk, remote_sdk;
    MeroSyncSessionParams params = { .struct_size = sizeof params };

    mero_sync_hello_to_sdk (link->local, &local_sdk);
    mero_sync_hello_to_sdk (link->remote, &remote_sdk);
    params.role = MERO_SYNC_ROLE_RESPONDER;
    memcpy (params.context_id, link->remote->context_id, 32);
    params.peer_id = link->peer;
    params.local = &local_sdk;
    params.remote = &remote_sdk;
    params.state = link->state;
    params.now_us = g_get_monotonic_time ();
    link->driver = mero_sync_driver_new (link->protocol, &params, driver_write, driver_end, link,
                                         &error);
    if (link->driver == NULL)
      {
        mgr->collector->failed (mgr->collector, label, "session_new");
        g_info ("%s session from %s not started: %s", label, link->peer, error->message);
        responder_drop (link, FALSE);
        return;
      }
    link->silence = g_timeout_source_new ((guint) (MERO_SYNC_SESSION_DEADLINE_US / 1000));
    g_source_set_callback (link->silence, on_session_deadline, link, NULL);
    g_source_attach (link->silence, NULL);
    mero_sync_driver_start (link->driver);
  }
}

void
mero_sync_responder_data (Link *link, GBytes *bytes)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GError) error = NULL;

  if (link->driver != NULL)
    {
      if (mero_contexts_get_delta_store (link->mgr->contexts, link->ctx_b58) != link->ds)
        {
          mero_sync_driver_abort (link->driver, "state_gone", "the context went away");
          return;
        }
      mero_sync_driver_feed (link->driver, g_bytes_get_data (bytes, NULL),
                             g_bytes_get_size (bytes));
      return;
    }
  g_byte_array_append (link->inbuf, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (link->inbuf->len > MERO_SYNC_HANDSHAKE_MAX_BYTES + 8
      || !mero_stream_frame_pop (link->inbuf, &message, &error))
    {
      link->mgr->collector->refused (link->mgr->collector,
                                     mero_sync_protocol_label (link->protocol), "too_large");
      responder_drop (link, FALSE);
      return;
    }
  if (message == NULL)
    return;
  if (link->silence != NULL)
    {
      g_source_destroy (link->silence);
      g_clear_pointer (&link->silence, g_source_unref);
    }
  if (g_bytes_get_size (message) > MERO_SYNC_HANDSHAKE_MAX_BYTES)
    {
      link->mgr->collector->refused (link->mgr->collector,
                                     mero_sync_protocol_label (link->protocol), "too_large");
      responder_drop (link, FALSE);
      return;
    }
  {
    /* Bytes after the handshake belong to the session. */
    g_autoptr (GBytes) rest = g_bytes_new (link->inbuf->data, link->inbuf->len);
    MeroSyncManager *mgr = link->mgr;
    MeroNetStream *stream = link->stream;

    g_byte_array_set_size (link->inbuf, 0);
    on_first_frame (link, message);
    /* The link may be gone (refused, or a session that ended at once). */
    link = g_hash_table_lookup (mgr->links, stream);
    if (link != NULL && link->driver != NULL && g_bytes_get_size (rest) > 0)
      mero_sync_responder_data (link, rest);
  }
}

void
mero_sync_responder_ended (Link *link, gboolean reset)
{
  if (link->driver != NULL)
    {
      mero_sync_driver_stream_ended (link->driver, reset);
      return;
    }
  /* Closed or reset before a whole handshake: counted, gone. */
  link->mgr->collector->refused (link->mgr->collector, mero_sync_protocol_label (link->protocol),
                                 reset ? "reset" : "truncated");
  responder_drop (link, !reset);
}

/* ---- the NodeClient's stream handler ------------------------------------ */

static gboolean
handler_owns (gpointer data, const char *protocol)
{
  MeroSyncManager *mgr = data;

  return g_strcmp0 (protocol, MERO_SYNC_STREAM_PROTOCOL) == 0
         || mero_sync_protocol_by_id (mgr, protocol) != NULL;
}

static void
handler_inbound (gpointer data, MeroNetStream *stream)
{
  mero_sync_responder_inbound (data, stream);
}

static gboolean
handler_opened (gpointer data, guint64 request_id, MeroNetStream *stream)
{
  return mero_sync_run_opened (data, request_id, stream);
}

static gboolean
handler_open_failed (gpointer data, guint64 request_id, const char *message)
{
  return mero_sync_run_open_failed (data, request_id, message);
}

static gboolean
handler_data (gpointer data, MeroNetStream *stream, GBytes *bytes)
{
  MeroSyncManager *mgr = data;
  Link *link = g_hash_table_lookup (mgr->links, stream);

  if (link == NULL)
    return FALSE;
  if (link->run != NULL)
    mero_sync_run_data (link, bytes);
  else
    mero_sync_responder_data (link, bytes);
  return TRUE;
}

static gboolean
handler_ended (gpointer data, MeroNetStream *stream, gboolean reset)
{
  MeroSyncManager *mgr = data;
  Link *link = g_hash_table_lookup (mgr->links, stream);

  if (link == NULL)
    return FALSE;
  if (link->run != NULL)
    mero_sync_run_ended (link, reset);
  else
    mero_sync_responder_ended (link, reset);
  return TRUE;
}

const MeroNodeStreamHandler mero_sync_stream_handler = {
  .owns = handler_owns,
  .inbound = handler_inbound,
  .opened = handler_opened,
  .open_failed = handler_open_failed,
  .data = handler_data,
  .ended = handler_ended,
};
