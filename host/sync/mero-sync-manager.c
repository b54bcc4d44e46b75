/* mero-sync-manager.c: triggers, scheduling and the initiator side of the
 * SyncManager (see mero-sync-manager.h). */
#define G_LOG_DOMAIN "merod"
#include "sync/mero-sync-manager-private.h"

#include <string.h>

#include "net/mero-base58.h"
#include "node/mero-broadcast.h"

typedef enum {
  STAGE_HANDSHAKE,
  STAGE_PROTOCOL,
} Stage;

typedef struct {
  guint8 root[32];
  guint64 count;
} CountCache;

struct _Run {
  MeroSyncManager *mgr;
  char *ctx_b58;
  guint8 ctx_id[32];
  GStrv peers;
  guint peer_i;
  Stage stage;
  guint64 request_id;       /* stream being opened, 0 if none */
  Link *link;               /* the open stream */
  MeroSyncHello *local;
  MeroSyncHello *remote;
  MeroSyncHandshake local_sdk, remote_sdk;
  MeroDeltaStore *ds;
  MeroStateHandle *state;
  GArray *order;            /* protocol indices, cheapest first */
  guint order_i;
  MeroSyncDriver *driver;
  gint64 started_us, handshake_started_us, protocol_started_us, started_real_us;
  const char *protocol;     /* name of the last protocol tried */
  gboolean any_failure;
  gboolean refused;
  /* The local state is to be replaced (fresh, or an operator resync):
   * StateDeltas wait in the context's DeltaBuffer until the run ends. */
  gboolean buffering;
};

static void schedule_wake (MeroSyncManager *mgr, gint64 at);
static void try_peer (Run *run);
static void try_protocol (Run *run);

/* ---- helpers ------------------------------------------------------------ */

const char *
mero_sync_protocol_label (const MeroLoadedSyncProtocol *p)
{
  return p != NULL ? p->info->name : "handshake";
}

const MeroLoadedSyncProtocol *
mero_sync_protocol_by_id (MeroSyncManager *mgr, const char *protocol_id)
{
  for (guint i = 0; i < mgr->protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (mgr->protocols, i);

      if (g_strcmp0 (p->vtable->protocol_id, protocol_id) == 0)
        return p;
    }
  return NULL;
}

MeroSyncHello *
mero_sync_local_hello (MeroSyncManager *mgr, const char *context_id, MeroDeltaStore **ds_out,
                       MeroStateHandle **state_out)
{
  MeroDeltaStore *ds = mero_contexts_get_delta_store (mgr->contexts, context_id);
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (MeroSyncHello) hello = NULL;
  g_autoptr (MeroStateHandle) state = NULL;
  g_autoptr (GBytes) id = NULL;
  const guint8 *heads;
  guint n = 0;
  MeroStateLayout layout = { .struct_size = sizeof layout };
  uint64_t count = 0;

  if (ds == NULL)
    return NULL;
  id = mero_base58_decode (context_id);
  if (id == NULL || g_bytes_get_size (id) != 32)
    return NULL;
  hello = mero_sync_hello_new (g_bytes_get_data (id, NULL));
  mero_delta_store_root (ds, hello->root_hash);
  heads = mero_delta_store_heads (ds, &n);
  for (guint i = 0; i < n && i < MERO_SYNC_HANDSHAKE_MAX_HEADS; i++)
    mero_sync_hello_add_head (hello, heads + (gsize) i * 32);
  state = mero_state_handle_new (mero_delta_store_get_state (ds), ds);
  {
    CountCache *cached = g_hash_table_lookup (mgr->counts, context_id);

    if (cached != NULL && memcmp (cached->root, hello->root_hash, 32) == 0)
      hello->entity_count = cached->count;
    else if (sa->count_entities (state, &count, NULL))
      {
        if (cached == NULL && g_hash_table_size (mgr->counts) < MERO_SYNC_MAX_CONTEXTS)
          {
            cached = g_new0 (CountCache, 1);
            g_hash_table_insert (mgr->counts, g_strdup (context_id), cached);
          }
        if (cached != NULL)
          {
            memcpy (cached->root, hello->root_hash, 32);
            cached->count = count;
          }
        hello->entity_count = count;
      }
  }
  sa->get_layout (state, &layout);
  hello->max_depth = layout.max_depth;
  *ds_out = ds;
  *state_out = g_steal_pointer (&state);
  return g_steal_pointer (&hello);
}

void
mero_sync_link_send (Link *link, GBytes *message)
{
  g_autoptr (GBytes) frame = mero_stream_frame (message);

  mero_node_client_stream_write (link->mgr->client, link->stream, frame);
}

void
mero_sync_link_free (Link *link)
{
  if (link == NULL)
    return;
  if (link->silence != NULL)
    {
      g_source_destroy (link->silence);
      g_source_unref (link->silence);
    }
  mero_sync_driver_free (link->driver);
  mero_state_handle_free (link->state);
  mero_sync_hello_free (link->local);
  mero_sync_hello_free (link->remote);
  g_free (link->peer);
  g_free (link->ctx_b58);
  g_byte_array_unref (link->inbuf);
  mero_net_stream_unref (link->stream);
  g_free (link);
}

/* ---- runs (the initiator side) ------------------------------------------ */

static Link *
link_new (MeroSyncManager *mgr, MeroNetStream *stream, Run *run,
          const MeroLoadedSyncProtocol *protocol)
{
  Link *link = g_new0 (Link, 1);

  link->mgr = mgr;
  link->stream = mero_net_stream_ref (stream);
  link->run = run;
  link->protocol = protocol;
  link->inbuf = g_byte_array_new ();
  g_hash_table_insert (mgr->links, link->stream, link);
  return link;
}

/* Ends the run's stream: closed after a whole exchange, else reset. */
static void
run_drop_link (Run *run, gboolean clean)
{
  Link *link = g_steal_pointer (&run->link);

  if (link == NULL)
    return;
  if (clean)
    mero_node_client_stream_close (run->mgr->client, link->stream);
  else
    mero_node_client_stream_reset (run->mgr->client, link->stream);
  g_hash_table_remove (run->mgr->links, link->stream);   /* frees it */
}

/* Ends the DeltaBuffer of a replacing run: what arrived meanwhile is
 * replayed in (hlc, id) order, onto the snapshot (its boundary heads are
 * checkpoints by now) or, after a failure, onto the state as it is. */
static void
run_stop_buffering (Run *run)
{
  g_autoptr (GError) error = NULL;

  if (!run->buffering)
    return;
  run->buffering = FALSE;
  if (!mero_contexts_set_sync_active (run->mgr->contexts, run->ctx_b58, FALSE, &error))
    g_debug ("context %s: no DeltaBuffer to replay: %s", run->ctx_b58, error->message);
}

static void
run_free (Run *run)
{
  run_stop_buffering (run);
  if (run->request_id != 0)
    g_hash_table_remove (run->mgr->opening, &run->request_id);
  run_drop_link (run, FALSE);
  mero_sync_driver_free (run->driver);
  mero_state_handle_free (run->state);
  mero_sync_hello_free (run->local);
  mero_sync_hello_free (run->remote);
  if (run->order != NULL)
    g_array_unref (run->order);
  g_strfreev (run->peers);
  g_free (run->ctx_b58);
  g_free (run);
}

static void
run_finish (Run *run, MeroSyncResult result)
{
  MeroSyncManager *mgr = run->mgr;
  const char *peer = run->peers != NULL && run->peer_i < g_strv_length (run->peers)
                         ? run->peers[run->peer_i]
                         : (run->peers != NULL && run->peers[0] != NULL ? run->peers[0] : NULL);
  gint64 now = g_get_monotonic_time ();

  g_log_structured (G_LOG_DOMAIN,
                    mero_sync_result_is_benign (result) ? G_LOG_LEVEL_DEBUG : G_LOG_LEVEL_INFO,
                    "MERO_EVENT", "sync-finished", "MERO_CONTEXT", run->ctx_b58, "MESSAGE",
                    "context %s: sync with %s: %s (%s, %" G_GINT64_FORMAT " ms)", run->ctx_b58,
                    peer != NULL ? peer : "nobody", mero_sync_result_to_string (result),
                    run->protocol != NULL ? run->protocol : "no protocol",
                    (now - run->started_us) / 1000);
  mero_sync_history_record (mgr->history, run->ctx_b58, peer, run->protocol,
                            mero_sync_result_to_string (result),
                            !mero_sync_result_is_benign (result), run->started_real_us,
                            now - run->started_us);
  if ((result == MERO_SYNC_RESULT_OK || result == MERO_SYNC_RESULT_IN_SYNC) && peer != NULL)
    mero_contexts_sync_finished (mgr->contexts, run->ctx_b58, peer,
                                 result == MERO_SYNC_RESULT_OK);
  mero_sync_sched_finish (mgr->sched, run->ctx_b58, result, now);
  g_hash_table_remove (mgr->runs, run->ctx_b58);   /* frees it */
  if (!mgr->stopping)
    schedule_wake (mgr, now);
}

/* The run's stream or state went away under it. */
static gboolean
run_state_gone (Run *run)
{
  return mero_contexts_get_delta_store (run->mgr->contexts, run->ctx_b58) != run->ds;
}

static void
next_peer (Run *run)
{
  run_drop_link (run, FALSE);
  g_clear_pointer (&run->remote, mero_sync_hello_free);
  g_clear_pointer (&run->order, g_array_unref);
  run->order_i = 0;
  run->peer_i++;
  try_peer (run);
}

static gboolean
open_stream (Run *run, const char *protocol)
{
  MeroSyncManager *mgr = run->mgr;
  guint64 id = mero_node_client_open_stream (mgr->client, run->peers[run->peer_i], protocol);
  guint64 *key;

  if (id == 0)
    return FALSE;
  run->request_id = id;
  key = g_new (guint64, 1);
  *key = id;
  g_hash_table_insert (mgr->opening, key, run);
  return TRUE;
}

static void
try_peer (Run *run)
{
  if (run->peers[run->peer_i] == NULL)
    {
      run_finish (run, run->any_failure ? MERO_SYNC_RESULT_FAILED
                       : run->refused   ? MERO_SYNC_RESULT_REFUSED
                                        : MERO_SYNC_RESULT_NO_PEER);
      return;
    }
  run->stage = STAGE_HANDSHAKE;
  run->handshake_started_us = g_get_monotonic_time ();
  if (!open_stream (run, MERO_SYNC_STREAM_PROTOCOL))
    run_finish (run, MERO_SYNC_RESULT_NO_PEER);
}

static void
driver_write (GBytes *data, gpointer user_data)
{
  Run *run = user_data;

  if (run->link != NULL)
    mero_node_client_stream_write (run->mgr->client, run->link->stream, data);
}

static void
driver_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason,
            const char *message, gpointer user_data)
{
  Run *run = user_data;
  MeroSyncManager *mgr = run->mgr;
  MeroSyncSessionStats stats;
  gboolean done = status == MERO_SYNC_STATUS_DONE;

  mero_sync_driver_get_stats (driver, &stats);
  mgr->collector->session_ended (mgr->collector, run->protocol, done ? "ok" : "failed", &stats,
                                 (double) (g_get_monotonic_time () - run->protocol_started_us)
                                     / G_USEC_PER_SEC);
  run_drop_link (run, done);
  /* Allowed from inside its callback (mero-sync-session.h); before the
   * state handle its session may use. */
  run->driver = NULL;
  mero_sync_driver_free (driver);
  if (done && mero_state_handle_snapshot_installed (run->state) && !run_state_gone (run))
    {
      /* A snapshot committed its boundary: the root the writer verified
       * against the one the peer announced with these heads, written in
       * the same batch, so the delta store holds exactly that pair now
       * (the boundary may be newer than the handshake's).  Copied: marking
       * checkpoints changes the heads. */
      g_autofree guint8 *heads = NULL;
      guint8 root[32];
      guint n = 0;
      const guint8 *current = mero_delta_store_heads (run->ds, &n);

      heads = g_memdup2 (current, (gsize) n * 32);
      mero_delta_store_root (run->ds, root);
      mero_contexts_state_synced (mgr->contexts, run->ctx_b58, root, heads, n);
      run_finish (run, MERO_SYNC_RESULT_OK);
      return;
    }
  if (done)
    {
      mero_contexts_state_synced (mgr->contexts, run->ctx_b58, run->remote->root_hash,
                                  (const guint8 *) run->remote->heads->data,
                                  run->remote->heads->len);
      run_finish (run, MERO_SYNC_RESULT_OK);
      return;
    }
  mgr->collector->failed (mgr->collector, run->protocol, reason != NULL ? reason : "protocol");
  g_info ("context %s: %s with %s failed: %s", run->ctx_b58, run->protocol,
          run->peers[run->peer_i], message != NULL ? message : "?");
  run->any_failure = TRUE;
  run->order_i++;
  try_protocol (run);
}

static void
try_protocol (Run *run)
{
  const MeroLoadedSyncProtocol *p;

  if (run->order_i >= run->order->len)
    {
      next_peer (run);
      return;
    }
  p = g_ptr_array_index (run->mgr->protocols, g_array_index (run->order, guint, run->order_i));
  run->protocol = p->info->name;
  run->stage = STAGE_PROTOCOL;
  run->mgr->collector->selected (run->mgr->collector, p->info->name);
  if (!open_stream (run, p->vtable->protocol_id))
    next_peer (run);
}

static gboolean
replaces_state (Run *run)
{
  static const guint8 zero_root[32];

  return memcmp (run->local->root_hash, zero_root, 32) == 0
         || (run->local_sdk.flags & MERO_SYNC_HANDSHAKE_RESYNC) != 0;
}

/* The peer's handshake: stop, or pick the protocols to try. */
static void
on_handshake (Run *run, MeroSyncHello *remote)
{
  MeroSyncManager *mgr = run->mgr;
  g_autofree guint64 *costs = NULL;

  run_drop_link (run, TRUE);
  mgr->collector->handshake_done (mgr->collector,
                                  (double) (g_get_monotonic_time () - run->handshake_started_us)
                                      / G_USEC_PER_SEC);
  if (remote->refusal != NULL)
    {
      g_info ("context %s: %s refused to sync: %s", run->ctx_b58, run->peers[run->peer_i],
              remote->refusal);
      mero_sync_hello_free (remote);
      run->refused = TRUE;
      next_peer (run);
      return;
    }
  run->remote = remote;
  if (memcmp (run->remote->context_id, run->ctx_id, 32) != 0)
    {
      mgr->collector->failed (mgr->collector, "handshake", "wrong_context");
      run->any_failure = TRUE;
      next_peer (run);
      return;
    }
  if (memcmp (run->remote->root_hash, run->local->root_hash, 32) == 0)
    {
      run_finish (run, MERO_SYNC_RESULT_IN_SYNC);
      return;
    }
  mero_sync_hello_to_sdk (run->remote, &run->remote_sdk);
  costs = g_new (guint64, MAX (mgr->protocols->len, 1));
  for (guint i = 0; i < mgr->protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (mgr->protocols, i);

      costs[i] = p->vtable->cost != NULL
                     ? p->vtable->cost (p->plugin_data, &run->local_sdk, &run->remote_sdk)
                     : MERO_SYNC_COST_NOT_APPLICABLE;
    }
  run->order = mgr->configured_order
                   ? mero_sync_select_protocols_in_order (costs, mgr->protocols->len)
                   : mero_sync_select_protocols (costs, mgr->protocols->len);
  run->order_i = 0;
  if (run->order->len == 0)
    {
      run_finish (run, MERO_SYNC_RESULT_NO_PROTOCOL);
      return;
    }
  /* A fresh state (or one the operator gave up) is replaced, not merged:
   * a live delta could not apply to it (its parents are history we are
   * not fetching) and would be lost under the snapshot, so deltas wait
   * for the run's end. */
  if (!run->buffering && replaces_state (run))
    {
      g_autoptr (GError) error = NULL;

      if (mero_contexts_set_sync_active (mgr->contexts, run->ctx_b58, TRUE, &error))
        run->buffering = TRUE;
      else
        g_info ("context %s: deltas not buffered during the sync: %s", run->ctx_b58,
                error->message);
    }
  try_protocol (run);
}

gboolean
mero_sync_run_opened (MeroSyncManager *mgr, guint64 request_id, MeroNetStream *stream)
{
  Run *run = g_hash_table_lookup (mgr->opening, &request_id);
  g_autoptr (GBytes) hello = NULL;
  g_autoptr (GError) error = NULL;

  if (run == NULL)
    return FALSE;
  g_hash_table_remove (mgr->opening, &request_id);
  run->request_id = 0;
  if (run_state_gone (run))
    {
      mero_node_client_stream_reset (mgr->client, stream);
      run_finish (run, MERO_SYNC_RESULT_FAILED);
      return TRUE;
    }
  run->link = link_new (mgr, stream, run,
                        run->stage == STAGE_PROTOCOL
                            ? g_ptr_array_index (mgr->protocols,
                                                 g_array_index (run->order, guint, run->order_i))
                            : NULL);
  /* The handshake first, on either stream: on a protocol's stream it
   * tells the responder which context and which state we start from. */
  hello = mero_sync_hello_encode (run->local);
  mero_sync_link_send (run->link, hello);
  if (run->stage == STAGE_HANDSHAKE)
    return TRUE;
  {
    MeroSyncSessionParams params = { .struct_size = sizeof params };

    params.role = MERO_SYNC_ROLE_INITIATOR;
    memcpy (params.context_id, run->ctx_id, 32);
    params.peer_id = run->peers[run->peer_i];
    params.local = &run->local_sdk;
    params.remote = &run->remote_sdk;
    params.state = run->state;
    params.now_us = g_get_monotonic_time ();
    run->protocol_started_us = params.now_us;
    run->driver = mero_sync_driver_new (run->link->protocol, &params, driver_write, driver_end,
                                        run, &error);
    if (run->driver == NULL)
      {
        mgr->collector->failed (mgr->collector, run->protocol, "session_new");
        g_info ("context %s: %s: %s", run->ctx_b58, run->protocol, error->message);
        run_drop_link (run, FALSE);
        run->any_failure = TRUE;
        run->order_i++;
        try_protocol (run);
        return TRUE;
      }
    mero_sync_driver_start (run->driver);
  }
  return TRUE;
}

gboolean
mero_sync_run_open_failed (MeroSyncManager *mgr, guint64 request_id, const char *message)
{
  Run *run = g_hash_table_lookup (mgr->opening, &request_id);

  if (run == NULL)
    return FALSE;
  g_hash_table_remove (mgr->opening, &request_id);
  run->request_id = 0;
  mgr->collector->failed (mgr->collector, run->stage == STAGE_PROTOCOL ? run->protocol
                                                                       : "handshake",
                          "open_failed");
  g_info ("context %s: cannot open a sync stream to %s: %s", run->ctx_b58,
          run->peers[run->peer_i], message);
  run->any_failure = TRUE;
  if (run->stage == STAGE_PROTOCOL)
    {
      run->order_i++;
      try_protocol (run);
    }
  else
    next_peer (run);
  return TRUE;
}

void
mero_sync_run_data (Link *link, GBytes *bytes)
{
  Run *run = link->run;
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GError) error = NULL;
  MeroSyncHello *remote;

  if (run->stage == STAGE_PROTOCOL)
    {
      if (run->driver != NULL)
        mero_sync_driver_feed (run->driver, g_bytes_get_data (bytes, NULL),
                               g_bytes_get_size (bytes));
      return;
    }
  g_byte_array_append (link->inbuf, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  if (link->inbuf->len > MERO_SYNC_HANDSHAKE_MAX_BYTES + 8
      || !mero_stream_frame_pop (link->inbuf, &message, &error))
    {
      run->mgr->collector->failed (run->mgr->collector, "handshake", "too_large");
      run->any_failure = TRUE;
      next_peer (run);
      return;
    }
  if (message == NULL)
    return;
  remote = mero_sync_hello_decode (g_bytes_get_data (message, NULL), g_bytes_get_size (message),
                                   &error);
  if (remote == NULL)
    {
      run->mgr->collector->failed (run->mgr->collector, "handshake",
                                   mero_sync_handshake_error_reason (error));
      run->any_failure = TRUE;
      next_peer (run);
      return;
    }
  on_handshake (run, remote);
}

void
mero_sync_run_ended (Link *link, gboolean reset)
{
  Run *run = link->run;

  if (run->stage == STAGE_PROTOCOL && run->driver != NULL)
    {
      mero_sync_driver_stream_ended (run->driver, reset);
      return;
    }
  run->mgr->collector->failed (run->mgr->collector, "handshake",
                               reset ? "stream_reset" : "stream_closed");
  run->any_failure = TRUE;
  next_peer (run);
}

static gboolean
is_member (const char *peer, gpointer user_data)
{
  Run *run = user_data;

  return mero_contexts_context_has_member (run->mgr->contexts, run->ctx_b58, peer)
         && mero_node_client_is_connected (run->mgr->client, peer);
}

static void
run_start (MeroSyncManager *mgr, const char *context_id, const char *hint)
{
  Run *run = g_new0 (Run, 1);
  g_auto (GStrv) members = NULL, topic = NULL;

  run->mgr = mgr;
  run->ctx_b58 = g_strdup (context_id);
  run->started_us = g_get_monotonic_time ();
  run->started_real_us = g_get_real_time ();
  g_hash_table_insert (mgr->runs, run->ctx_b58, run);
  run->local = mero_sync_local_hello (mgr, context_id, &run->ds, &run->state);
  if (run->local == NULL)
    {
      /* Left, or its key not here yet: forgotten until the periodic scan
       * finds its state again. */
      run->peers = g_new0 (char *, 1);
      run_finish (run, MERO_SYNC_RESULT_NO_PEER);
      mero_sync_sched_remove (mgr->sched, context_id);
      mero_sync_history_forget (mgr->history, context_id);
      g_hash_table_remove (mgr->counts, context_id);
      return;
    }
  memcpy (run->ctx_id, run->local->context_id, 32);
  mero_sync_hello_to_sdk (run->local, &run->local_sdk);
  /* Our own side only: the flag never goes on the wire. */
  if (g_hash_table_remove (mgr->resyncs, context_id))
    {
      run->local_sdk.flags |= MERO_SYNC_HANDSHAKE_RESYNC;
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "sync-resync",
                        "MERO_CONTEXT", context_id, "MESSAGE",
                        "context %s: resync asked by the operator: the state is replaced by a "
                        "member's", context_id);
    }
  members = mero_contexts_context_member_peers (mgr->contexts, context_id);
  topic = mero_contexts_context_topic_peers (mgr->contexts, context_id);
  /* A member whose last sessions failed is asked after the others. */
  mero_sync_history_order_peers (mgr->history, context_id, members);
  mero_sync_history_order_peers (mgr->history, context_id, topic);
  run->peers = mero_sync_select_peers (hint, (const char *const *) members,
                                       (const char *const *) topic, is_member, run, mgr->self_id);
  try_peer (run);
}

/* ---- the wake-up: triggers, watchdog, starts ---------------------------- */

static gboolean
on_wake (gpointer user_data)
{
  MeroSyncManager *mgr = user_data;
  gint64 now = g_get_monotonic_time ();
  g_auto (GStrv) ids = mero_contexts_list_synced_ids (mgr->contexts);
  g_auto (GStrv) expired = NULL;
  char *ctx = NULL, *peer = NULL;
  gboolean by_operator = FALSE, resync = FALSE;

  g_clear_pointer (&mgr->wake, g_source_unref);
  for (guint i = 0; ids[i] != NULL; i++)
    mero_sync_sched_add (mgr->sched, ids[i], now);
  while (mero_node_client_pop_sync (mgr->client, &ctx, &peer, &by_operator, &resync))
    {
      /* Taken by the context's next session (see run_start). */
      if (resync && g_hash_table_size (mgr->resyncs) < MERO_SYNC_MAX_CONTEXTS)
        g_hash_table_add (mgr->resyncs, g_strdup (ctx));
      mero_sync_sched_trigger (mgr->sched, ctx, peer,
                               by_operator ? MERO_SYNC_TRIGGER_REQUEST : MERO_SYNC_TRIGGER_PEER,
                               now);
      g_clear_pointer (&ctx, g_free);
      g_clear_pointer (&peer, g_free);
    }
  /* Watchdog: a wedged session fails; its context backs off. */
  expired = mero_sync_sched_expired (mgr->sched, now);
  for (guint i = 0; expired[i] != NULL; i++)
    {
      Run *run = g_hash_table_lookup (mgr->runs, expired[i]);

      if (run == NULL)
        {
          mero_sync_sched_finish (mgr->sched, expired[i], MERO_SYNC_RESULT_TIMEOUT, now);
          continue;
        }
      mgr->collector->failed (mgr->collector, run->protocol != NULL ? run->protocol
                                                                    : "handshake",
                              "watchdog");
      if (run->driver != NULL && run->protocol != NULL)
        {
          MeroSyncSessionStats stats;

          mero_sync_driver_get_stats (run->driver, &stats);
          mgr->collector->session_ended (mgr->collector, run->protocol, "timeout", &stats,
                                         (double) (now - run->protocol_started_us)
                                             / G_USEC_PER_SEC);
        }
      g_warning ("context %s: sync session wedged past its deadline, failed by the watchdog",
                 run->ctx_b58);
      run_finish (run, MERO_SYNC_RESULT_TIMEOUT);
    }
  while (!mgr->stopping && mero_sync_sched_next (mgr->sched, now, &ctx, &peer, NULL))
    {
      if (g_hash_table_contains (mgr->runs, ctx))
        mero_sync_sched_finish (mgr->sched, ctx, MERO_SYNC_RESULT_IN_SYNC, now);
      else
        run_start (mgr, ctx, peer);
      g_clear_pointer (&ctx, g_free);
      g_clear_pointer (&peer, g_free);
    }
  if (mgr->wake == NULL && !mgr->stopping)
    schedule_wake (mgr, mero_sync_sched_next_wakeup (mgr->sched, g_get_monotonic_time ()));
  return G_SOURCE_REMOVE;
}

/* Wakes at @at (monotonic us) or earlier if already armed sooner. */
static void
schedule_wake (MeroSyncManager *mgr, gint64 at)
{
  gint64 now = g_get_monotonic_time ();
  gint64 current = mgr->wake != NULL ? g_source_get_ready_time (mgr->wake) : G_MAXINT64;

  if (at == G_MAXINT64)
    at = now + MERO_SYNC_MIN_INTERVAL_US * 10;   /* new contexts are found here too */
  if (mgr->wake != NULL)
    {
      if (current <= at)
        return;
      g_source_destroy (mgr->wake);
      g_clear_pointer (&mgr->wake, g_source_unref);
    }
  mgr->wake = g_timeout_source_new (0);
  g_source_set_ready_time (mgr->wake, MAX (at, now));
  g_source_set_callback (mgr->wake, on_wake, mgr, NULL);
  g_source_attach (mgr->wake, NULL);
}

static void
on_trigger_queued (gpointer data)
{
  schedule_wake (data, g_get_monotonic_time ());
}

static GVariant *
info_extra (const char *context_id, gpointer data)
{
  MeroSyncManager *mgr = data;

  return mero_sync_history_to_variant (mgr->history, context_id);
}

/* ---- life ---------------------------------------------------------------- */

static void
opening_free (gpointer key)
{
  g_free (key);
}

/* sync.protocols: the loaded protocols it names, in its order; a name
 * that is no loaded sync protocol is warned about (a typo, a disabled or
 * missing plugin) and skipped. */
static GPtrArray *
configured_protocols (GPtrArray *loaded, const char *const *names)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; names[i] != NULL; i++)
    {
      const MeroLoadedSyncProtocol *found = NULL;

      for (guint j = 0; j < loaded->len && found == NULL; j++)
        {
          const MeroLoadedSyncProtocol *p = g_ptr_array_index (loaded, j);

          if (g_strcmp0 (p->info->name, names[i]) == 0)
            found = p;
        }
      if (found == NULL)
        g_warning ("sync.protocols: %s is not a loaded sync protocol, left out", names[i]);
      else if (!g_ptr_array_find (out, found, NULL))
        g_ptr_array_add (out, (gpointer) found);
    }
  return out;
}

MeroSyncManager *
mero_sync_manager_new (const MeroSyncManagerConfig *config)
{
  MeroSyncManager *mgr = g_new0 (MeroSyncManager, 1);

  mgr->client = config->client;
  mgr->contexts = config->contexts;
  mgr->registry = config->registry;
  mgr->self_id = g_strdup (config->self_peer_id);
  mgr->sched = mero_sync_sched_new ((gint64) config->interval_secs * G_USEC_PER_SEC,
                                    MERO_SYNC_MIN_INTERVAL_US, MERO_SYNC_MAX_CONCURRENT,
                                    config->seed);
  mgr->history = mero_sync_history_new ();
  mgr->collector = mero_sync_metrics_prometheus_new (config->metrics);
  mgr->protocols = config->registry != NULL
                       ? mero_plugin_registry_get_sync_protocols (config->registry)
                       : g_ptr_array_new ();
  /* key-share (key/1) is run by the contexts when they need a group key,
   * never selected for a state sync nor answered here. */
  for (guint i = mgr->protocols->len; i > 0; i--)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (mgr->protocols, i - 1);

      /* Nor blob-share (/calimero/blob/1): the blob fetch runs it. */
      if (g_strcmp0 (p->vtable->protocol_id, MERO_STREAM_PROTOCOL_KEY) == 0
          || g_str_has_prefix (p->vtable->protocol_id, "/calimero/blob/"))
        g_ptr_array_remove_index (mgr->protocols, i - 1);
    }
  if (config->protocols != NULL && config->protocols[0] != NULL)
    {
      g_autoptr (GPtrArray) loaded = g_steal_pointer (&mgr->protocols);

      mgr->protocols = configured_protocols (loaded, config->protocols);
      mgr->configured_order = TRUE;
    }
  mgr->runs = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) run_free);
  mgr->links = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                      (GDestroyNotify) mero_sync_link_free);
  mgr->opening = g_hash_table_new_full (g_int64_hash, g_int64_equal, opening_free, NULL);
  mgr->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  mgr->resyncs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  mero_node_client_set_stream_handler (mgr->client, &mero_sync_stream_handler, mgr);
  mero_node_client_set_sync_notify (mgr->client, on_trigger_queued, mgr);
  mero_contexts_set_info_extra (mgr->contexts, info_extra, mgr);
  mero_contexts_set_state_sync (mgr->contexts, TRUE);
  for (guint i = 0; i < mgr->protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (mgr->protocols, i);

      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "sync-protocol",
                        "MESSAGE", "sync protocol %s on %s", p->info->name,
                        p->vtable->protocol_id);
    }
  schedule_wake (mgr, g_get_monotonic_time ());
  return mgr;
}

void
mero_sync_manager_free (MeroSyncManager *manager)
{
  GHashTableIter iter;
  Run *run;

  if (manager == NULL)
    return;
  manager->stopping = TRUE;
  mero_node_client_set_stream_handler (manager->client, NULL, NULL);
  mero_node_client_set_sync_notify (manager->client, NULL, NULL);
  mero_contexts_set_info_extra (manager->contexts, NULL, NULL);
  mero_contexts_set_state_sync (manager->contexts, FALSE);
  if (manager->wake != NULL)
    {
      g_source_destroy (manager->wake);
      g_clear_pointer (&manager->wake, g_source_unref);
    }
  g_hash_table_iter_init (&iter, manager->runs);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &run))
    manager->collector->failed (manager->collector,
                                run->protocol != NULL ? run->protocol : "handshake", "stopping");
  g_hash_table_remove_all (manager->runs);
  g_hash_table_remove_all (manager->links);
  g_hash_table_unref (manager->runs);
  g_hash_table_unref (manager->links);
  g_hash_table_unref (manager->opening);
  g_hash_table_unref (manager->counts);
  g_hash_table_unref (manager->resyncs);
  g_ptr_array_unref (manager->protocols);
  mero_sync_metrics_collector_free (manager->collector);
  mero_sync_history_free (manager->history);
  mero_sync_sched_free (manager->sched);
  g_free (manager->self_id);
  g_free (manager);
}

GStrv
mero_sync_manager_protocols (MeroSyncManager *manager)
{
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  g_strv_builder_add (b, MERO_SYNC_STREAM_PROTOCOL);
  for (guint i = 0; i < manager->protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (manager->protocols, i);

      if (p->vtable->protocol_id != NULL)
        g_strv_builder_add (b, p->vtable->protocol_id);
    }
  return g_strv_builder_end (b);
}
