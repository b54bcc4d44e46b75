/* mero-gossipsub-receive.c: one inbound RPC, in js's order:
 * subscriptions, then messages, then control. */
#include "net/core/mero-gossipsub-router-private.h"

#include <string.h>

gboolean
mero_gossipsub_check_graylist (MeroGossipsubRouter *self, GossipPeer *peer, gint64 now)
{
  if (mero_gossipsub_peer_score (self, peer, now) >= self->config.thresholds.graylist_threshold)
    return FALSE;
  if (!peer->graylisted)
    {
      peer->graylisted = TRUE;
      self->stats.peers_graylisted++;
    }
  return TRUE;
}

static void
handle_subscription (MeroGossipsubRouter *self, GossipPeer *peer, const MeroGossipsubSubscription *sub,
                     gint64 now)
{
  GossipTopic *t;

  if (sub->topic[0] == '\0')
    return;
  if (!sub->subscribe)
    {
      g_hash_table_remove (peer->topics, sub->topic);
      t = mero_gossipsub_topic_lookup (self, sub->topic);
      if (t != NULL)
        {
          g_hash_table_remove (t->peers, peer->key);
          mero_gossipsub_mesh_remove (self, t, peer, now);
          g_hash_table_remove (t->fanout, peer->key);
        }
      return;
    }
  if (g_hash_table_contains (peer->topics, sub->topic))
    return;
  if (g_hash_table_size (peer->topics) >= MERO_GOSSIPSUB_MAX_TOPICS_PER_PEER)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_PEER_TOPICS);
      return;
    }
  t = mero_gossipsub_topic_ensure (self, sub->topic);
  if (t == NULL)
    return;
  g_hash_table_add (peer->topics, g_strdup (sub->topic));
  g_hash_table_insert (t->peers, peer->key, peer);
}

static MeroGossipsubDrop
drop_for_error (const GError *error)
{
  switch (error->code)
    {
    case MERO_GOSSIPSUB_ERROR_NO_TOPIC:
      return MERO_GOSSIPSUB_DROP_NO_TOPIC;
    case MERO_GOSSIPSUB_ERROR_INVALID_SEQNO:
      return MERO_GOSSIPSUB_DROP_INVALID_SEQNO;
    case MERO_GOSSIPSUB_ERROR_NO_SIGNATURE:
      return MERO_GOSSIPSUB_DROP_NO_SIGNATURE;
    case MERO_GOSSIPSUB_ERROR_INVALID_FROM:
      return MERO_GOSSIPSUB_DROP_INVALID_FROM;
    case MERO_GOSSIPSUB_ERROR_INVALID_KEY:
      return MERO_GOSSIPSUB_DROP_INVALID_KEY;
    default:
      return MERO_GOSSIPSUB_DROP_BAD_SIGNATURE;
    }
}

void
mero_gossipsub_accept_message (MeroGossipsubRouter *self, GossipPeer *from,
                               const MeroGossipsubMessage *msg, GBytes *id)
{
  GossipTopic *t = mero_gossipsub_topic_lookup (self, msg->topic);
  GHashTableIter iter;
  GossipPeer *p;

  if (!mero_gossipsub_mcache_put (self->mcache, id, msg))
    mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_MCACHE_FULL);

  if (g_queue_get_length (&self->deliveries) >= MERO_GOSSIPSUB_MAX_PENDING_DELIVERIES)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_DELIVERY_QUEUE_FULL);
    }
  else
    {
      MeroGossipsubDelivery *d = g_new0 (MeroGossipsubDelivery, 1);

      d->topic = g_strdup (msg->topic);
      d->author = mero_peer_id_new_from_multihash (g_bytes_get_data (msg->from, NULL),
                                                   g_bytes_get_size (msg->from), NULL);
      d->received_from = mero_peer_id_copy (from->id);
      d->seqno = g_bytes_ref (msg->seqno);
      d->data = msg->data != NULL ? g_bytes_ref (msg->data) : g_bytes_new (NULL, 0);
      d->id = g_bytes_ref (id);
      g_queue_push_tail (&self->deliveries, d);
      self->stats.messages_delivered++;
    }

  /* Forward to the mesh, never back to the peer it came from nor to its
   * author. */
  g_hash_table_iter_init (&iter, t->mesh);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    {
      if (p == from || g_bytes_equal (p->key, msg->from))
        continue;
      if (mero_gossipsub_queue_message (self, p, msg))
        self->stats.messages_forwarded++;
    }
}

/* The message @id arrived: whoever promised it kept the promise. */
static void
keep_promise (MeroGossipsubRouter *self, GBytes *id)
{
  /* Most messages come unasked: skip hashing the id then. */
  if (g_hash_table_size (self->promises) > 0)
    g_hash_table_remove (self->promises, id);
}

/* FALSE: the sender is now graylisted, the rest of its RPC is not read. */
static gboolean
handle_message (MeroGossipsubRouter *self, GossipPeer *peer, const MeroGossipsubMessage *msg,
                gint64 now)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) id = NULL;
  GossipTopic *t;
  gint64 first_seen;

  if (msg->topic == NULL || msg->topic[0] == '\0')
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_NO_TOPIC);
      return TRUE;
    }
  t = mero_gossipsub_topic_lookup (self, msg->topic);
  if (t == NULL || !t->subscribed)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_NOT_SUBSCRIBED);
      return TRUE;
    }
  if (msg->data != NULL && g_bytes_get_size (msg->data) > MERO_GOSSIPSUB_MAX_MESSAGE_DATA)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_OVERSIZE);
      mero_gossipsub_score_invalid_delivery (self->score, peer->score, msg->topic);
      return !mero_gossipsub_check_graylist (self, peer, now);
    }
  /* A duplicate is recognised before its signature is checked (the
   * expensive part).  Only valid messages enter the seen cache, so a
   * forgery sent first cannot shadow the real message with its id. */
  id = mero_gossipsub_message_id (msg);
  if (id != NULL && mero_gossipsub_seen_lookup (self->seen, id, &first_seen))
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_DUPLICATE);
      mero_gossipsub_score_duplicate_delivery (self->score, peer->score, msg->topic, first_seen, now);
      return TRUE;
    }
  if (!mero_gossipsub_message_verify_strict_sign (msg, &error))
    {
      /* Bad signature or StrictSign fields: P4 for the topic, and the
       * sender may be graylisted from here on. */
      mero_gossipsub_count_drop (self, drop_for_error (error));
      mero_gossipsub_score_invalid_delivery (self->score, peer->score, msg->topic);
      return !mero_gossipsub_check_graylist (self, peer, now);
    }
  g_assert (id != NULL); /* a verified message has an author key and seqno */
  mero_gossipsub_mark_seen (self, id, now);
  mero_gossipsub_score_first_delivery (self->score, peer->score, msg->topic);
  keep_promise (self, id);
  mero_gossipsub_accept_message (self, peer, msg, id);
  return TRUE;
}

/* Remembers that @peer owes us message @id (one id per IHAVE, as js). */
static void
expect_promise (MeroGossipsubRouter *self, GossipPeer *peer, GBytes *id, gint64 now)
{
  GossipPromise *promise;

  if (g_hash_table_contains (self->promises, id))
    return;
  if (g_hash_table_size (self->promises) >= MERO_GOSSIPSUB_MAX_PROMISES)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_PROMISES_FULL);
      return;
    }
  promise = g_new (GossipPromise, 1);
  promise->peer_key = g_bytes_ref (peer->key);
  promise->expiry = now + self->config.iwant_followup_us;
  g_hash_table_insert (self->promises, g_bytes_ref (id), promise);
}

static void
handle_ihave (MeroGossipsubRouter *self, GossipPeer *peer, const MeroGossipsubIHave *ih, gint64 now)
{
  GossipTopic *t;
  GBytes *promised = NULL;

  if (++peer->ihave_received > MERO_GOSSIPSUB_MAX_IHAVE_MESSAGES)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_IHAVE_FLOOD);
      return;
    }
  t = ih->topic != NULL ? mero_gossipsub_topic_lookup (self, ih->topic) : NULL;
  if (t == NULL || !t->subscribed)
    return;
  for (guint i = 0; i < ih->message_ids->len; i++)
    {
      GBytes *id = g_ptr_array_index (ih->message_ids, i);

      if (mero_gossipsub_seen_contains (self->seen, id))
        continue;
      if (peer->iwant_asked >= MERO_GOSSIPSUB_MAX_IWANT_PER_HEARTBEAT)
        {
          mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_IHAVE_FLOOD);
          return;
        }
      if (mero_gossipsub_queue_iwant (self, peer, id))
        {
          peer->iwant_asked++;
          if (promised == NULL)
            promised = id;
        }
    }
  if (promised != NULL)
    expect_promise (self, peer, promised, now);
}

static void
handle_iwant (MeroGossipsubRouter *self, GossipPeer *peer, GBytes *id)
{
  const MeroGossipsubMessage *msg;

  if (peer->iwant_replies >= MERO_GOSSIPSUB_MAX_IWANT_REPLIES_PER_HEARTBEAT)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_IWANT_FLOOD);
      return;
    }
  if (mero_gossipsub_mcache_get (self->mcache, id) == NULL)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_IWANT_UNKNOWN);
      return;
    }
  msg = mero_gossipsub_mcache_get_for_peer (self->mcache, id, peer->key,
                                            MERO_GOSSIPSUB_GOSSIP_RETRANSMISSION);
  if (msg == NULL)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_IWANT_FLOOD);
      return;
    }
  peer->iwant_replies++;
  if (mero_gossipsub_queue_message (self, peer, msg))
    self->stats.iwant_replies++;
}

static void
handle_graft (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic, gint64 now)
{
  GossipTopic *t = mero_gossipsub_topic_lookup (self, topic);

  if (t == NULL || !t->subscribed)
    {
      /* js answers a GRAFT for a topic it is not in with a PRUNE too; no
       * backoff state is kept for a topic we do not track. */
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_GRAFT_UNSUBSCRIBED);
      mero_gossipsub_queue_prune (self, peer, topic, self->config.prune_backoff_s);
      return;
    }
  if (g_hash_table_contains (t->mesh, peer->key))
    return;
  if (mero_gossipsub_topic_in_backoff (self, t, peer->key, now, FALSE))
    {
      /* The peer ignored our PRUNE's backoff: PRUNE again and extend it,
       * and penalise it (spec: P7). */
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF);
      mero_gossipsub_score_add_penalty (self->score, peer->score, 1);
      mero_gossipsub_topic_add_backoff (self, t, peer->key, now, self->config.prune_backoff_s);
      mero_gossipsub_queue_prune (self, peer, topic, self->config.prune_backoff_s);
      return;
    }
  if (mero_gossipsub_peer_score (self, peer, now) < 0)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_GRAFT_NEGATIVE_SCORE);
      mero_gossipsub_topic_add_backoff (self, t, peer->key, now, self->config.prune_backoff_s);
      mero_gossipsub_queue_prune (self, peer, topic, self->config.prune_backoff_s);
      return;
    }
  /* v1.1: a full mesh still takes peers we dialled (an attacker cannot
   * make us dial it), so eclipsing through inbound GRAFTs fails. */
  if (g_hash_table_size (t->mesh) >= self->config.d_hi && !peer->outbound)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_GRAFT_MESH_FULL);
      mero_gossipsub_topic_add_backoff (self, t, peer->key, now, self->config.prune_backoff_s);
      mero_gossipsub_queue_prune (self, peer, topic, self->config.prune_backoff_s);
      return;
    }
  mero_gossipsub_mesh_add (self, t, peer, now);
}

static void
handle_prune (MeroGossipsubRouter *self, GossipPeer *peer, const MeroGossipsubPrune *prune, gint64 now)
{
  GossipTopic *t = mero_gossipsub_topic_lookup (self, prune->topic);

  if (t == NULL)
    return;
  mero_gossipsub_mesh_remove (self, t, peer, now);
  /* A v1.0 peer names no backoff: apply the default one. */
  mero_gossipsub_topic_add_backoff (self, t, peer->key, now,
                                    prune->has_backoff ? prune->backoff_s : self->config.prune_backoff_s);
}

void
mero_gossipsub_handle_rpc (MeroGossipsubRouter *self, GossipPeer *from, MeroGossipsubRpc *rpc,
                           gint64 now)
{
  gboolean gossip_ok;

  for (guint i = 0; i < rpc->subscriptions->len; i++)
    handle_subscription (self, from, g_ptr_array_index (rpc->subscriptions, i), now);
  for (guint i = 0; i < rpc->messages->len; i++)
    if (!handle_message (self, from, g_ptr_array_index (rpc->messages, i), now))
      {
        /* Graylisted by what it just sent: the rest is not verified. */
        self->stats.rpcs_ignored_graylist++;
        return;
      }
  /* Spec gossip threshold: no gossip from peers below it. */
  gossip_ok = rpc->ihave->len + rpc->iwant->len == 0 ||
              mero_gossipsub_peer_score (self, from, now) >= self->config.thresholds.gossip_threshold;
  if (!gossip_ok)
    mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_BELOW_GOSSIP_THRESHOLD);
  for (guint i = 0; gossip_ok && i < rpc->ihave->len; i++)
    handle_ihave (self, from, g_ptr_array_index (rpc->ihave, i), now);
  for (guint i = 0; gossip_ok && i < rpc->iwant->len; i++)
    handle_iwant (self, from, g_ptr_array_index (rpc->iwant, i));
  for (guint i = 0; i < rpc->graft->len; i++)
    handle_graft (self, from, g_ptr_array_index (rpc->graft, i), now);
  for (guint i = 0; i < rpc->prune->len; i++)
    handle_prune (self, from, g_ptr_array_index (rpc->prune, i), now);
  /* IDONTWANT (v1.2) is an optimisation the spec lets us ignore. */
}
