/* mero-contexts-net.c: what the manager says and hears on gossip:
 * publishing, heartbeats, routing the six BroadcastMessage variants,
 * receiving deltas (one, or a batch from a catch-up answer). */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "net/mero-base58.h"

#define MISMATCH_METRIC "mero_node_root_mismatch_total"
#define APPLIED_METRIC "mero_node_deltas_received_total"
/* The HashHeartbeat after applying remote deltas waits this long, so a
 * burst of deltas costs one heartbeat, not one per delta. */
#define HEARTBEAT_COALESCE_MS 100
/* Bytes of ops one GroupGovernanceDelta carries (gossip takes 1 MiB). */
#define MERO_NETWORK_PUBLISH_BUDGET (512u * 1024u)

void
mero_contexts_publish (MeroContexts *self, const char *topic, const MeroBroadcast *msg)
{
  g_autoptr (GBytes) data = mero_broadcast_encode (msg);

  if (self->closed)
    return;
  self->transport->publish (self->transport_data, topic, data);
}

void
mero_contexts_publish_hash_heartbeat (MeroContexts *self, Ctx *ctx)
{
  MeroBroadcast *msg;
  guint n = 0;
  const guint8 *heads;

  if (ctx->ds == NULL)
    return;
  heads = mero_delta_store_heads (ctx->ds, &n);
  if (n == 0)
    return;   /* uninitialised: nothing to compare */
  msg = mero_broadcast_new (MERO_BROADCAST_HASH_HEARTBEAT);
  memcpy (msg->id, ctx->id, ID_LEN);
  g_array_append_vals (msg->heads, heads, MIN (n, MERO_BROADCAST_MAX_HEADS));
  msg->has_root = TRUE;
  mero_delta_store_root (ctx->ds, msg->root);
  mero_contexts_publish (self, ctx->b58, msg);
  mero_broadcast_free (msg);
}

void
mero_contexts_publish_group_heartbeat (MeroContexts *self, Group *group)
{
  MeroBroadcast *msg = mero_broadcast_new (MERO_BROADCAST_GROUP_HEARTBEAT);
  g_autoptr (GArray) heads = mero_group_dag_heads (group->dag);

  memcpy (msg->id, group->id, ID_LEN);
  g_array_append_vals (msg->heads, heads->data, MIN (heads->len, MERO_BROADCAST_MAX_HEADS));
  msg->n_ops = mero_group_dag_n_ops (group->dag);
  mero_contexts_publish (self, group->topic, msg);
  mero_broadcast_free (msg);
}

static gboolean
on_heartbeat_soon (gpointer user_data)
{
  Ctx *ctx = user_data;

  ctx->heartbeat_soon = 0;
  mero_contexts_publish_hash_heartbeat (ctx->self, ctx);
  return G_SOURCE_REMOVE;
}

void
mero_contexts_schedule_hash_heartbeat (MeroContexts *self, Ctx *ctx)
{
  if (ctx->heartbeat_soon == 0 && !self->closed)
    ctx->heartbeat_soon = g_timeout_add (HEARTBEAT_COALESCE_MS, on_heartbeat_soon, ctx);
}

void
mero_contexts_heartbeat (MeroContexts *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Ctx *ctx = value;

      if (ctx->ds != NULL)
        mero_delta_store_expire (ctx->ds);
      mero_contexts_publish_hash_heartbeat (self, ctx);
    }
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Group *group = value;

      mero_group_dag_expire_pending (group->dag, mero_contexts_now_ms ());
      mero_contexts_publish_group_heartbeat (self, group);
    }
}

/* ---- deltas ---- */

static void
buffer_envelope (MeroContexts *self, Ctx *ctx, GBytes *envelope, const char *peer)
{
  Buffered *b;

  if (ctx->buffered->len >= MERO_CONTEXTS_BUFFER_MAX)
    {
      g_ptr_array_remove_index (ctx->buffered, 0);
      mero_contexts_count_drop (self, "buffer_full");
    }
  b = g_new0 (Buffered, 1);
  b->envelope = g_bytes_ref (envelope);
  b->peer = g_strdup (peer);
  g_ptr_array_add (ctx->buffered, b);
}

/* One envelope from @peer (NULL: from the store or a replay without
 * origin).  Returns through counters and state; never fails loudly. */
MeroDeltaOutcome
mero_contexts_receive_one (MeroContexts *self, Ctx *ctx, GBytes *envelope, const char *peer)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (envelope, &len);
  MeroDeltaOutcome outcome = 0;
  g_autoptr (GError) error = NULL;

  if (ctx->ds == NULL)
    {
      buffer_envelope (self, ctx, envelope, peer);
      return 0;
    }
  ctx->unknown_cut = FALSE;
  ctx->unknown_key = FALSE;
  if (mero_delta_store_receive (ctx->ds, data, len, &outcome, &error))
    {
      if (outcome == MERO_DELTA_OUTCOME_APPLIED)
        mero_metrics_counter_add (self->metrics, APPLIED_METRIC, NULL, 1, NULL);
      return outcome;
    }
  if (ctx->unknown_cut)
    {
      /* Governance the author saw and we have not: keep it, fetch ops. */
      buffer_envelope (self, ctx, envelope, peer);
      if (peer != NULL)
        mero_contexts_fetch_group (self, ctx->group, peer, NULL, NULL, NULL, NULL);
      return 0;
    }
  if (g_error_matches (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_UNKNOWN_KEY) && ctx->unknown_key)
    {
      buffer_envelope (self, ctx, envelope, peer);
      if (peer != NULL)
        mero_contexts_fetch_keys (self, ctx, peer, ctx->missing_key);
      return 0;
    }
  g_debug ("context %s: delta from %s refused: %s", ctx->b58, peer ? peer : "?", error->message);
  mero_contexts_count_drop (self, g_error_matches (error, MERO_DELTA_ERROR,
                                                   MERO_DELTA_ERROR_UNAUTHORIZED)
                                      ? "delta_unauthorized"
                                      : "delta_invalid");
  return 0;
}

/* A catch-up answer: opened in parallel and applied in one batch by the
 * DeltaStore; the few refused for a missing key or unknown governance
 * go through receive_one, which keeps them and fetches what they need. */
gboolean
mero_contexts_receive_batch (MeroContexts *self, Ctx *ctx, GPtrArray *blobs, const char *peer)
{
  g_autofree MeroDeltaOutcome *outcomes = NULL;
  g_autofree GError **errors = NULL;
  gboolean applied = FALSE;

  if (ctx->ds == NULL || blobs->len < 2)
    {
      for (guint i = 0; i < blobs->len; i++)
        if (mero_contexts_receive_one (self, ctx, g_ptr_array_index (blobs, i), peer)
            == MERO_DELTA_OUTCOME_APPLIED)
          applied = TRUE;
      return applied;
    }
  outcomes = g_new0 (MeroDeltaOutcome, blobs->len);
  errors = g_new0 (GError *, blobs->len);
  mero_delta_store_receive_many (ctx->ds, (GBytes *const *) blobs->pdata, blobs->len, outcomes,
                                 errors);
  for (guint i = 0; i < blobs->len; i++)
    {
      if (outcomes[i] == MERO_DELTA_OUTCOME_APPLIED)
        {
          applied = TRUE;
          mero_metrics_counter_add (self->metrics, APPLIED_METRIC, NULL, 1, NULL);
        }
      if (errors[i] == NULL)
        continue;
      if (g_error_matches (errors[i], MERO_DELTA_ERROR, MERO_DELTA_ERROR_UNKNOWN_KEY)
          || g_error_matches (errors[i], MERO_DELTA_ERROR, MERO_DELTA_ERROR_UNAUTHORIZED))
        {
          if (mero_contexts_receive_one (self, ctx, g_ptr_array_index (blobs, i), peer)
              == MERO_DELTA_OUTCOME_APPLIED)
            applied = TRUE;
        }
      else
        {
          g_debug ("context %s: fetched delta refused: %s", ctx->b58, errors[i]->message);
          mero_contexts_count_drop (self, "delta_invalid");
        }
      g_clear_error (&errors[i]);
    }
  return applied;
}

static gboolean
id_unknown (Ctx *ctx, const guint8 *id)
{
  gboolean applied = FALSE;

  return mero_delta_store_is_applied (ctx->ds, id, &applied, NULL) && !applied
         && !mero_delta_store_is_pending (ctx->ds, id);
}

/* Fetches what is still missing then: the parents pending deltas wait
 * for, and those of @heads still unknown; from @peer if it is a member,
 * else from the member that last announced what we lack. */
gboolean
mero_contexts_fetch_missing (MeroContexts *self, Ctx *ctx, const char *peer,
                             const GArray *heads, guint depth)
{
  g_autoptr (GArray) ids = mero_id_array_new ();
  g_autoptr (GPtrArray) missing = NULL;
  g_autofree char *target = NULL;

  if (ctx->ds == NULL)
    return FALSE;
  target = mero_contexts_pick_member (ctx, peer, NULL);
  if (target == NULL)
    {
      g_debug ("context %s: no member to fetch missing deltas from (%s is none)", ctx->b58,
               peer != NULL ? peer : "?");
      return FALSE;
    }
  missing = mero_delta_store_missing_parents (ctx->ds);
  for (guint i = 0; i < missing->len && ids->len < MERO_STREAM_MAX_IDS; i++)
    mero_id_array_add (ids, g_bytes_get_data (g_ptr_array_index (missing, i), NULL));
  for (guint i = 0; heads != NULL && i < heads->len && ids->len < MERO_STREAM_MAX_IDS; i++)
    if (id_unknown (ctx, mero_id_array_get (heads, i))
        && !mero_id_array_contains (ids, mero_id_array_get (heads, i)))
      mero_id_array_add (ids, mero_id_array_get (heads, i));
  if (ids->len == 0)
    return FALSE;
  mero_contexts_fetch_deltas (self, ctx, target, NULL, ids, depth);
  return TRUE;
}

static gboolean
on_fetch_grace (gpointer user_data)
{
  Ctx *ctx = user_data;
  g_autoptr (GArray) heads = g_steal_pointer (&ctx->deferred_ids);
  g_autofree char *peer = g_steal_pointer (&ctx->deferred_peer);

  ctx->deferred_source = 0;
  mero_contexts_fetch_missing (ctx->self, ctx, peer, heads, ctx->deferred_depth);
  return G_SOURCE_REMOVE;
}

/* Concurrent writers' deltas cross on gossip: a parent missing now, or a
 * head a heartbeat names, usually arrives within milliseconds.  Fetch
 * only what is still missing after fetch_grace_ms (the deepest depth
 * asked for meanwhile, from the last peer that pointed at it). */
static void
fetch_soon (MeroContexts *self, Ctx *ctx, const char *peer, const GArray *heads, guint depth)
{
  if (self->fetch_grace_ms == 0)
    {
      mero_contexts_fetch_missing (self, ctx, peer, heads, depth);
      return;
    }
  if (ctx->deferred_ids == NULL)
    {
      ctx->deferred_ids = mero_id_array_new ();
      ctx->deferred_depth = depth;
    }
  else if (depth == 0 || (ctx->deferred_depth != 0 && depth > ctx->deferred_depth))
    ctx->deferred_depth = depth;
  for (guint i = 0; heads != NULL && i < heads->len
                    && ctx->deferred_ids->len < MERO_STREAM_MAX_IDS;
       i++)
    if (!mero_id_array_contains (ctx->deferred_ids, mero_id_array_get (heads, i)))
      mero_id_array_add (ctx->deferred_ids, mero_id_array_get (heads, i));
  g_free (ctx->deferred_peer);
  ctx->deferred_peer = g_strdup (peer);
  if (ctx->deferred_source == 0)
    ctx->deferred_source = g_timeout_add (self->fetch_grace_ms, on_fetch_grace, ctx);
}

static void
after_receive (MeroContexts *self, Ctx *ctx, gboolean applied, const char *peer)
{
  if (ctx->ds == NULL)
    return;
  if (applied)
    {
      guint8 before[ID_LEN];

      memcpy (before, ctx->root, ID_LEN);
      mero_contexts_report_state (self, ctx);
      /* Tell the others where we are now, so a peer that missed a delta
       * notices (seed: a HashHeartbeat right after applying). */
      if (memcmp (before, ctx->root, ID_LEN) != 0)
        mero_contexts_schedule_hash_heartbeat (self, ctx);
    }
  if (peer != NULL && mero_delta_store_pending_count (ctx->ds) > 0)
    {
      /* A member that forwards a delta we cannot apply yet has its parents. */
      if (mero_contexts_group_has_peer (ctx->group, peer))
        mero_contexts_note_announcer (ctx, peer);
      fetch_soon (self, ctx, peer, NULL, MERO_CONTEXTS_DEPTH_PARENTS);
    }
}

void
mero_contexts_receive_envelope (MeroContexts *self, Ctx *ctx, GBytes *envelope,
                                const char *peer, gboolean replay)
{
  MeroDeltaOutcome outcome = mero_contexts_receive_one (self, ctx, envelope, peer);

  if (!replay)
    after_receive (self, ctx, outcome == MERO_DELTA_OUTCOME_APPLIED, peer);
}

void
mero_contexts_replay (MeroContexts *self, Ctx *ctx)
{
  g_autoptr (GPtrArray) items = NULL;
  gboolean applied = FALSE;
  const char *peer = NULL;

  if (ctx->ds == NULL || ctx->buffered->len == 0)
    return;
  items = g_steal_pointer (&ctx->buffered);
  ctx->buffered = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_contexts_buffered_free);
  for (guint i = 0; i < items->len; i++)
    {
      Buffered *b = g_ptr_array_index (items, i);

      if (mero_contexts_receive_one (self, ctx, b->envelope, b->peer) == MERO_DELTA_OUTCOME_APPLIED)
        applied = TRUE;
      if (b->peer != NULL)
        peer = b->peer;
    }
  after_receive (self, ctx, applied, peer);
}

/* ---- gossip ---- */

/* @relay sent us the heartbeat, @author signed it. */
static void
on_hash_heartbeat (MeroContexts *self, Ctx *ctx, const MeroBroadcast *msg, const char *relay,
                   const char *author)
{
  const char *peer;
  g_autoptr (GArray) unknown = mero_id_array_new ();
  guint n = 0;
  const guint8 *heads;
  guint8 root[ID_LEN];
  gboolean pending_named = FALSE;

  if (ctx->ds == NULL)
    return;
  /* Only a current member's heads are worth a fetch (or a sync): anyone
   * else could name heads that do not exist, over and over.  The member
   * must be the author: any subscriber relays what it hears, a member
   * a non-member's heartbeat too. */
  if (author == NULL || !mero_contexts_group_has_peer (ctx->group, author))
    {
      mero_contexts_count_drop (self, "non_member_heartbeat");
      return;
    }
  /* Asked: the relay when it is a member too (connected, and it had the
   * heartbeat from the author), else the author. */
  peer = mero_contexts_group_has_peer (ctx->group, relay) ? relay : author;
  for (guint i = 0; i < msg->heads->len; i++)
    {
      const guint8 *head = mero_id_array_get (msg->heads, i);

      if (id_unknown (ctx, head))
        mero_id_array_add (unknown, head);
      else if (mero_delta_store_is_pending (ctx->ds, head))
        pending_named = TRUE;
    }
  /* A head we hold but cannot apply (its ancestry is missing) is as much
   * a reason to fetch as one we never saw: an earlier fetch may have
   * failed, and nothing else would ask again. */
  if (unknown->len > 0 || pending_named)
    {
      mero_contexts_note_announcer (ctx, peer);
      fetch_soon (self, ctx, peer, unknown, MERO_CONTEXTS_DEPTH_HEADS);
      return;
    }
  heads = mero_delta_store_heads (ctx->ds, &n);
  mero_delta_store_root (ctx->ds, root);
  if (msg->has_root && n == msg->heads->len
      && memcmp (heads, msg->heads->data, (gsize) n * ID_LEN) == 0
      && memcmp (root, msg->root, ID_LEN) != 0)
    {
      g_autofree char *theirs = mero_base58_encode (msg->root, ID_LEN);
      g_autofree char *ours = mero_base58_encode (root, ID_LEN);

      /* Same deltas, different state: the engine is not deterministic. */
      /* A warning, not a critical: a peer's claim must never be able to
       * stop a node run with fatal criticals. */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "root-mismatch",
                        "MERO_CONTEXT", ctx->b58, "MESSAGE",
                        "context %s: same heads as %s but root %s here and %s there "
                        "(non-determinism)",
                        ctx->b58, peer, ours, theirs);
      mero_metrics_counter_add (self->metrics, MISMATCH_METRIC, NULL, 1, NULL);
      /* Only a state sync repairs this; the sync manager debounces it.  A
       * root that differs while heads differ too is the DAG still
       * catching up (fetched above, or the peer fetches ours): a state
       * sync for each such heartbeat cost a fifth of the converged write
       * rate of three busy nodes (node-contexts), and the periodic pull
       * (sync.interval_secs) still covers history that no fetch finds. */
      self->transport->sync_requested (self->transport_data, ctx->b58, peer);
    }
}

static void
on_group_heartbeat (MeroContexts *self, Group *group, const MeroBroadcast *msg, const char *peer)
{
  g_autoptr (GPtrArray) theirs_lack = NULL;
  gint64 now = g_get_monotonic_time ();

  for (guint i = 0; i < msg->heads->len; i++)
    if (!mero_group_dag_has_op (group->dag, mero_id_array_get (msg->heads, i)))
      {
        mero_contexts_fetch_group (self, group, peer, NULL, NULL, NULL, NULL);
        return;
      }
  /* We know all its heads: if it lacks some of ours, push them as one
   * GroupGovernanceDelta (at most once a second per group; a peer that
   * needs more catches up by stream on our next heartbeat). */
  if (now - group->pushed_us < G_USEC_PER_SEC)
    return;
  theirs_lack = mero_group_dag_ops_for_peer (group->dag, (const guint8 *) msg->heads->data,
                                             msg->heads->len, MERO_BROADCAST_MAX_OPS);
  if (theirs_lack->len > 0)
    {
      MeroBroadcast *delta = mero_broadcast_new (MERO_BROADCAST_GROUP_DELTA);
      gsize bytes = 0;

      memcpy (delta->id, group->id, ID_LEN);
      for (guint i = 0; i < theirs_lack->len; i++)
        {
          bytes += g_bytes_get_size (g_ptr_array_index (theirs_lack, i));
          if (bytes > MERO_NETWORK_PUBLISH_BUDGET && delta->ops->len > 0)
            break;
          g_ptr_array_add (delta->ops, g_bytes_ref (g_ptr_array_index (theirs_lack, i)));
        }
      group->pushed_us = now;
      mero_contexts_publish (self, group->topic, delta);
      mero_broadcast_free (delta);
    }
}

static void
on_notification (MeroContexts *self, Group *group, const MeroBroadcast *msg, const char *peer)
{
  /* The notification is a hint, never trusted: what counts is our own
   * DAG once it holds the op. */
  if (!mero_group_dag_has_op (group->dag, msg->op_id))
    {
      mero_contexts_fetch_group (self, group, peer, NULL, NULL, NULL, NULL);
      return;
    }
  mero_contexts_group_changed (self, group);
}

/* During a snapshot sync: checked (signature, key, id) but not applied. */
static void
buffer_for_sync (MeroContexts *self, Ctx *ctx, GBytes *envelope)
{
  MeroHlc hlc;
  guint8 id[ID_LEN];
  g_autoptr (GError) error = NULL;

  if (!mero_delta_store_peek (ctx->ds, g_bytes_get_data (envelope, NULL),
                              g_bytes_get_size (envelope), &hlc, id, &error))
    {
      mero_contexts_count_drop (self, "delta_invalid");
      return;
    }
  mero_delta_buffer_push (ctx->sync_buffer, envelope, &hlc, id);
}

/* A message no subscriber should have relayed: gossipsub rejects it, so
 * the relay's score pays (P4) as it would in js-libp2p's validator. */
static void
reject (MeroContexts *self, const char *from_peer, const char *topic)
{
  if (self->transport->reject_message != NULL)
    self->transport->reject_message (self->transport_data, from_peer, topic);
}

void
mero_contexts_handle_message (MeroContexts *self, const char *topic, const char *from_peer,
                              const char *author, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroBroadcast) msg = NULL;
  Ctx *ctx = NULL;
  Group *group = NULL;

  if (self->closed)
    return;
  msg = mero_broadcast_decode (data, len, &error);
  if (msg == NULL)
    {
      mero_contexts_count_drop (self, mero_broadcast_error_reason (error));
      /* A newer node's variant is no fault of whoever relayed it. */
      if (!g_error_matches (error, MERO_BROADCAST_ERROR, MERO_BROADCAST_ERROR_UNKNOWN_VARIANT))
        reject (self, from_peer, topic);
      return;
    }
  switch (msg->kind)
    {
    case MERO_BROADCAST_STATE_DELTA:
    case MERO_BROADCAST_HASH_HEARTBEAT:
      ctx = mero_contexts_lookup_id (self, msg->id);
      if (ctx == NULL)
        {
          mero_contexts_count_drop (self, "unknown_context");
          return;
        }
      if (g_strcmp0 (topic, ctx->b58) != 0)
        {
          mero_contexts_count_drop (self, "wrong_topic");
          return;
        }
      if (msg->kind == MERO_BROADCAST_STATE_DELTA && ctx->sync_buffer != NULL && ctx->ds != NULL)
        buffer_for_sync (self, ctx, msg->payload);
      else if (msg->kind == MERO_BROADCAST_STATE_DELTA)
        mero_contexts_receive_envelope (self, ctx, msg->payload, from_peer, FALSE);
      else
        on_hash_heartbeat (self, ctx, msg, from_peer, author);
      return;
    case MERO_BROADCAST_GROUP_OP:
      {
        g_autoptr (MeroGroupOp) op = mero_group_op_decode (g_bytes_get_data (msg->payload, NULL),
                                                           g_bytes_get_size (msg->payload),
                                                           NULL);

        group = op != NULL ? mero_contexts_group_lookup (self, op->group_id) : NULL;
        if (op == NULL)
          mero_contexts_count_drop (self, "group_op_malformed");
        else if (group == NULL)
          mero_contexts_count_drop (self, "unknown_group");
        else if (g_strcmp0 (topic, group->topic) != 0)
          mero_contexts_count_drop (self, "wrong_topic");
        else
          mero_contexts_group_receive (self, group, msg->payload, from_peer, NULL);
        return;
      }
    case MERO_BROADCAST_TEE_ANNOUNCE:
      mero_contexts_tee_on_announce (self, topic, from_peer, msg->payload);
      return;
    case MERO_BROADCAST_BLOB_PROVIDERS:
      if (self->blob_record == NULL)
        mero_contexts_count_drop (self, "blob_providers_unhandled");
      else
        self->blob_record (self->blob_data, topic, from_peer, msg->payload);
      return;
    case MERO_BROADCAST_TEE_REFUSAL:
      mero_contexts_tee_on_refusal (self, topic, from_peer, msg->payload);
      return;
    case MERO_BROADCAST_GROUP_HEARTBEAT:
    case MERO_BROADCAST_GROUP_DELTA:
    case MERO_BROADCAST_GROUP_NOTIFICATION:
      group = mero_contexts_group_lookup (self, msg->id);
      if (group == NULL)
        {
          mero_contexts_count_drop (self, "unknown_group");
          return;
        }
      if (g_strcmp0 (topic, group->topic) != 0)
        {
          mero_contexts_count_drop (self, "wrong_topic");
          return;
        }
      if (msg->kind == MERO_BROADCAST_GROUP_HEARTBEAT)
        on_group_heartbeat (self, group, msg, from_peer);
      else if (msg->kind == MERO_BROADCAST_GROUP_NOTIFICATION)
        on_notification (self, group, msg, from_peer);
      else
        for (guint i = 0; i < msg->ops->len; i++)
          mero_contexts_group_receive (self, group, g_ptr_array_index (msg->ops, i), from_peer,
                                       NULL);
      return;
    default:
      mero_contexts_count_drop (self, "malformed");
      reject (self, from_peer, topic);
      return;
    }
}

void
mero_contexts_peer_subscribed (MeroContexts *self, const char *peer_id, const char *topic)
{
  Ctx *ctx;
  GHashTableIter iter;
  Group *group;

  if (self->closed)
    return;
  /* A peer joining one of our group topics hears our heads and catches
   * up from them; on a context topic, our root and heads. */
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &group))
    if (g_str_equal (group->topic, topic))
      {
        mero_contexts_publish_group_heartbeat (self, group);
        return;
      }
  ctx = g_hash_table_lookup (self->contexts, topic);
  if (ctx != NULL)
    {
      mero_contexts_publish_hash_heartbeat (self, ctx);
      /* A sync with a non-member would get nothing, and its trigger (one
       * per context in the queue) would stand in for a member's. */
      if (mero_contexts_group_has_peer (ctx->group, peer_id))
        self->transport->sync_requested (self->transport_data, ctx->b58, peer_id);
    }
}
