/* mero-gossipsub-router.c: router lifecycle, peers, topics and the local
 * calls (subscribe, unsubscribe, publish). */
#include "net/core/mero-gossipsub-router-private.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "net/core/mero-lp-frame.h"
#include "net/mero-key-codec.h"

void
mero_gossipsub_config_init (MeroGossipsubConfig *config)
{
  g_return_if_fail (config != NULL);

  *config = (MeroGossipsubConfig) {
    .d = MERO_GOSSIPSUB_DEFAULT_D,
    .d_lo = MERO_GOSSIPSUB_DEFAULT_D_LO,
    .d_hi = MERO_GOSSIPSUB_DEFAULT_D_HI,
    .d_lazy = MERO_GOSSIPSUB_DEFAULT_D_LAZY,
    .history_length = MERO_GOSSIPSUB_DEFAULT_HISTORY_LENGTH,
    .history_gossip = MERO_GOSSIPSUB_DEFAULT_HISTORY_GOSSIP,
    .heartbeat_interval_us = MERO_GOSSIPSUB_DEFAULT_HEARTBEAT_US,
    .fanout_ttl_us = MERO_GOSSIPSUB_DEFAULT_FANOUT_TTL_US,
    .seen_ttl_us = MERO_GOSSIPSUB_DEFAULT_SEEN_TTL_US,
    .prune_backoff_s = MERO_GOSSIPSUB_DEFAULT_PRUNE_BACKOFF_S,
    .unsubscribe_backoff_s = MERO_GOSSIPSUB_DEFAULT_UNSUBSCRIBE_BACKOFF_S,
    .flood_publish = TRUE,
    .d_score = MERO_GOSSIPSUB_DEFAULT_D_SCORE,
    .d_out = MERO_GOSSIPSUB_DEFAULT_D_OUT,
    .opportunistic_graft_ticks = MERO_GOSSIPSUB_DEFAULT_OPPORTUNISTIC_GRAFT_TICKS,
    .opportunistic_graft_peers = MERO_GOSSIPSUB_DEFAULT_OPPORTUNISTIC_GRAFT_PEERS,
    .iwant_followup_us = MERO_GOSSIPSUB_DEFAULT_IWANT_FOLLOWUP_US,
  };
  mero_gossipsub_score_params_init (&config->score);
  mero_gossipsub_score_thresholds_init (&config->thresholds);
}

static const char *const drop_names[MERO_GOSSIPSUB_N_DROPS] = {
  [MERO_GOSSIPSUB_DROP_RPC_MALFORMED] = "rpc_malformed",
  [MERO_GOSSIPSUB_DROP_RPC_TOO_LARGE] = "rpc_too_large",
  [MERO_GOSSIPSUB_DROP_UNKNOWN_PEER] = "unknown_peer",
  [MERO_GOSSIPSUB_DROP_TOO_MANY_PEERS] = "too_many_peers",
  [MERO_GOSSIPSUB_DROP_PEER_TOPICS] = "peer_topics",
  [MERO_GOSSIPSUB_DROP_TOPICS] = "topics",
  [MERO_GOSSIPSUB_DROP_NOT_SUBSCRIBED] = "not_subscribed",
  [MERO_GOSSIPSUB_DROP_DUPLICATE] = "duplicate",
  [MERO_GOSSIPSUB_DROP_NO_TOPIC] = "no_topic",
  [MERO_GOSSIPSUB_DROP_INVALID_SEQNO] = "invalid_seqno",
  [MERO_GOSSIPSUB_DROP_NO_SIGNATURE] = "no_signature",
  [MERO_GOSSIPSUB_DROP_INVALID_FROM] = "invalid_from",
  [MERO_GOSSIPSUB_DROP_INVALID_KEY] = "invalid_key",
  [MERO_GOSSIPSUB_DROP_BAD_SIGNATURE] = "bad_signature",
  [MERO_GOSSIPSUB_DROP_OVERSIZE] = "oversize",
  [MERO_GOSSIPSUB_DROP_SEND_QUEUE_FULL] = "send_queue_full",
  [MERO_GOSSIPSUB_DROP_CONTROL_QUEUE_FULL] = "control_queue_full",
  [MERO_GOSSIPSUB_DROP_IHAVE_FLOOD] = "ihave_flood",
  [MERO_GOSSIPSUB_DROP_IWANT_FLOOD] = "iwant_flood",
  [MERO_GOSSIPSUB_DROP_IWANT_UNKNOWN] = "iwant_unknown",
  [MERO_GOSSIPSUB_DROP_GRAFT_UNSUBSCRIBED] = "graft_unsubscribed",
  [MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF] = "graft_backoff",
  [MERO_GOSSIPSUB_DROP_GRAFT_MESH_FULL] = "graft_mesh_full",
  [MERO_GOSSIPSUB_DROP_DELIVERY_QUEUE_FULL] = "delivery_queue_full",
  [MERO_GOSSIPSUB_DROP_MCACHE_FULL] = "mcache_full",
  [MERO_GOSSIPSUB_DROP_SEEN_EVICTED] = "seen_evicted",
  [MERO_GOSSIPSUB_DROP_BACKOFF_FULL] = "backoff_full",
  [MERO_GOSSIPSUB_DROP_BELOW_GOSSIP_THRESHOLD] = "below_gossip_threshold",
  [MERO_GOSSIPSUB_DROP_GRAFT_NEGATIVE_SCORE] = "graft_negative_score",
  [MERO_GOSSIPSUB_DROP_PROMISES_FULL] = "promises_full",
};

const char *
mero_gossipsub_drop_to_string (MeroGossipsubDrop drop)
{
  g_return_val_if_fail ((guint) drop < MERO_GOSSIPSUB_N_DROPS, "invalid");
  return drop_names[drop];
}

void
mero_gossipsub_delivery_free (MeroGossipsubDelivery *delivery)
{
  if (delivery == NULL)
    return;
  g_free (delivery->topic);
  mero_peer_id_free (delivery->author);
  mero_peer_id_free (delivery->received_from);
  g_clear_pointer (&delivery->seqno, g_bytes_unref);
  g_clear_pointer (&delivery->data, g_bytes_unref);
  g_clear_pointer (&delivery->id, g_bytes_unref);
  g_free (delivery);
}

/* --- peers and topics --- */

static void
gossip_peer_free (gpointer data)
{
  GossipPeer *p = data;

  mero_peer_id_free (p->id);
  g_bytes_unref (p->key);
  /* p->score belongs to the router's score, freed or retained there. */
  g_hash_table_unref (p->topics);
  mero_gossipsub_rpc_free (p->out_ctl);
  g_queue_clear_full (&p->out_msgs, (GDestroyNotify) mero_gossipsub_message_free);
  g_free (p);
}

static GHashTable *
peer_table (void)
{
  return g_hash_table_new (g_bytes_hash, g_bytes_equal);
}

static void
gossip_topic_free (gpointer data)
{
  GossipTopic *t = data;

  g_free (t->name);
  g_hash_table_unref (t->peers);
  g_hash_table_unref (t->mesh);
  g_hash_table_unref (t->fanout);
  g_hash_table_unref (t->backoff);
  g_free (t);
}

GossipTopic *
mero_gossipsub_topic_lookup (MeroGossipsubRouter *self, const char *name)
{
  return g_hash_table_lookup (self->topics, name);
}

GossipTopic *
mero_gossipsub_topic_ensure (MeroGossipsubRouter *self, const char *name)
{
  GossipTopic *t = g_hash_table_lookup (self->topics, name);

  if (t != NULL)
    return t;
  if (g_hash_table_size (self->topics) >= MERO_GOSSIPSUB_MAX_TOPICS)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_TOPICS);
      return NULL;
    }
  t = g_new0 (GossipTopic, 1);
  t->name = g_strdup (name);
  t->peers = peer_table ();
  t->mesh = peer_table ();
  t->fanout = peer_table ();
  t->backoff = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                      g_free);
  g_hash_table_insert (self->topics, t->name, t);
  return t;
}

void
mero_gossipsub_topic_collect (MeroGossipsubRouter *self)
{
  GHashTableIter iter;
  GossipTopic *t;

  g_hash_table_iter_init (&iter, self->topics);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    if (!t->subscribed && !t->fanout_active && g_hash_table_size (t->peers) == 0 &&
        g_hash_table_size (t->mesh) == 0 && g_hash_table_size (t->backoff) == 0)
      g_hash_table_iter_remove (&iter);
}

gboolean
mero_gossipsub_topic_in_backoff (const MeroGossipsubRouter *self, GossipTopic *topic, GBytes *peer_key,
                                 gint64 now, gboolean with_slack)
{
  gint64 *expiry = g_hash_table_lookup (topic->backoff, peer_key);
  gint64 slack = with_slack ? MERO_GOSSIPSUB_BACKOFF_SLACK_HEARTBEATS * self->config.heartbeat_interval_us
                            : 0;

  return expiry != NULL && now < *expiry + slack;
}

void
mero_gossipsub_topic_add_backoff (MeroGossipsubRouter *self, GossipTopic *topic, GBytes *peer_key,
                                  gint64 now, guint64 backoff_s)
{
  gint64 *expiry = g_hash_table_lookup (topic->backoff, peer_key);
  gint64 until = now + (gint64) MIN (backoff_s, MERO_GOSSIPSUB_MAX_BACKOFF_S) * G_USEC_PER_SEC;

  if (expiry == NULL && g_hash_table_size (topic->backoff) >= MERO_GOSSIPSUB_MAX_BACKOFF_PER_TOPIC)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_BACKOFF_FULL);
      return;
    }
  if (expiry == NULL)
    {
      expiry = g_new (gint64, 1);
      *expiry = until;
      g_hash_table_insert (topic->backoff, g_bytes_ref (peer_key), expiry);
    }
  else if (*expiry < until)
    {
      *expiry = until;
    }
}

static gint
compare_peers (gconstpointer a, gconstpointer b)
{
  const GossipPeer *pa = *(GossipPeer *const *) a;
  const GossipPeer *pb = *(GossipPeer *const *) b;

  return g_bytes_compare (pa->key, pb->key);
}

GPtrArray *
mero_gossipsub_sorted_peers (GHashTable *table)
{
  GPtrArray *out = g_ptr_array_sized_new (g_hash_table_size (table));
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, table);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (out, value);
  g_ptr_array_sort (out, compare_peers);
  return out;
}

void
mero_gossipsub_shuffle (MeroGossipsubRouter *self, GPtrArray *peers)
{
  for (guint i = peers->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (self->rand, 0, (gint32) i);
      gpointer tmp = peers->pdata[i - 1];

      peers->pdata[i - 1] = peers->pdata[j];
      peers->pdata[j] = tmp;
    }
}

/* --- lifecycle --- */

static void
gossip_promise_free (gpointer data)
{
  GossipPromise *promise = data;

  g_bytes_unref (promise->peer_key);
  g_free (promise);
}

MeroGossipsubRouter *
mero_gossipsub_router_new (const MeroGossipsubConfig *config,
                           const guint8 identity_seed[MERO_ED25519_SEED_LEN], guint64 first_seqno,
                           guint64 rng_seed, gint64 now)
{
  MeroGossipsubRouter *self;
  guint8 pk[crypto_sign_PUBLICKEYBYTES];
  guint8 pk_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  gsize id_len;
  const guint8 *id;
  guint32 seed_words[2] = { (guint32) rng_seed, (guint32) (rng_seed >> 32) };

  g_return_val_if_fail (config != NULL && identity_seed != NULL, NULL);
  g_return_val_if_fail (config->d_lo <= config->d && config->d <= config->d_hi, NULL);
  g_return_val_if_fail (config->history_gossip >= 1 &&
                        config->history_gossip <= config->history_length, NULL);
  g_return_val_if_fail (config->heartbeat_interval_us > 0, NULL);

  self = g_new0 (MeroGossipsubRouter, 1);
  self->config = *config;
  crypto_sign_seed_keypair (pk, self->secret_key, identity_seed);
  mero_key_codec_encode_ed25519_public (pk, pk_pb);
  self->self_key_pb = g_bytes_new (pk_pb, sizeof pk_pb);
  self->self_id = mero_peer_id_new_from_ed25519 (pk);
  id = mero_peer_id_get_bytes (self->self_id, &id_len);
  self->self_id_bytes = g_bytes_new (id, id_len);
  self->next_seqno = first_seqno;
  self->rand = g_rand_new_with_seed_array (seed_words, G_N_ELEMENTS (seed_words));
  self->next_heartbeat = now + config->heartbeat_interval_us;
  self->last_now = now;
  self->peers = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, NULL, gossip_peer_free);
  self->topics = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, gossip_topic_free);
  g_queue_init (&self->pending);
  g_queue_init (&self->deliveries);
  self->seen = mero_gossipsub_seen_new (config->seen_ttl_us, MERO_GOSSIPSUB_MAX_SEEN);
  self->mcache = mero_gossipsub_mcache_new (config->history_length, config->history_gossip,
                                            MERO_GOSSIPSUB_MAX_MCACHE);
  self->score = mero_gossipsub_score_new (&config->score, now);
  self->promises = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                          gossip_promise_free);
  g_queue_init (&self->disconnects);
  return self;
}

void
mero_gossipsub_router_free (MeroGossipsubRouter *self)
{
  if (self == NULL)
    return;
  sodium_memzero (self->secret_key, sizeof self->secret_key);
  /* Topics borrow peers: free them first. */
  g_hash_table_unref (self->topics);
  g_queue_clear (&self->pending);
  g_hash_table_unref (self->peers);
  mero_gossipsub_score_free (self->score);
  g_hash_table_unref (self->promises);
  g_queue_clear_full (&self->disconnects, (GDestroyNotify) mero_peer_id_free);
  g_queue_clear_full (&self->deliveries, (GDestroyNotify) mero_gossipsub_delivery_free);
  mero_gossipsub_seen_free (self->seen);
  mero_gossipsub_mcache_free (self->mcache);
  g_rand_free (self->rand);
  mero_peer_id_free (self->self_id);
  g_bytes_unref (self->self_id_bytes);
  g_bytes_unref (self->self_key_pb);
  g_free (self);
}

const MeroPeerId *
mero_gossipsub_router_get_peer_id (const MeroGossipsubRouter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->self_id;
}

static GBytes *
peer_key (const MeroPeerId *peer)
{
  gsize len;
  const guint8 *bytes = mero_peer_id_get_bytes (peer, &len);

  return g_bytes_new (bytes, len);
}

gboolean
mero_gossipsub_router_add_peer (MeroGossipsubRouter *self, const MeroPeerId *peer, gboolean outbound,
                                gint64 now)
{
  g_autoptr(GBytes) key = NULL;
  GossipPeer *p;
  GHashTableIter iter;
  GossipTopic *t;

  g_return_val_if_fail (self != NULL && peer != NULL, FALSE);

  self->last_now = MAX (self->last_now, now);
  key = peer_key (peer);
  if (g_hash_table_contains (self->peers, key))
    return FALSE;
  if (g_hash_table_size (self->peers) >= MERO_GOSSIPSUB_MAX_PEERS)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_TOO_MANY_PEERS);
      return FALSE;
    }
  p = g_new0 (GossipPeer, 1);
  p->id = mero_peer_id_copy (peer);
  p->key = g_steal_pointer (&key);
  p->outbound = outbound;
  p->topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  p->out_ctl = mero_gossipsub_rpc_new ();
  g_queue_init (&p->out_msgs);
  /* A peer that comes back takes up its retained score. */
  p->score = mero_gossipsub_score_add_peer (self->score, p->key, now);
  g_hash_table_insert (self->peers, p->key, p);

  /* Our first RPC to a peer carries all our subscriptions, as js's does;
   * the peer is grafted by the next heartbeat once it answers with its
   * own. */
  g_hash_table_iter_init (&iter, self->topics);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    if (t->subscribed)
      mero_gossipsub_queue_subscription (self, p, t->name, TRUE);
  return TRUE;
}

void
mero_gossipsub_router_remove_peer (MeroGossipsubRouter *self, const MeroPeerId *peer)
{
  g_autoptr(GBytes) key = NULL;
  GossipPeer *p;
  GHashTableIter iter;
  GossipTopic *t;

  g_return_if_fail (self != NULL && peer != NULL);

  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  if (p == NULL)
    return;
  g_hash_table_iter_init (&iter, self->topics);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &t))
    {
      g_hash_table_remove (t->peers, key);
      g_hash_table_remove (t->mesh, key);
      g_hash_table_remove (t->fanout, key);
    }
  /* Leaves every mesh there (P3b) and is retained. */
  mero_gossipsub_score_remove_peer (self->score, p->score, self->last_now);
  p->score = NULL;
  mero_gossipsub_queue_clear (self, p);
  g_hash_table_remove (self->peers, key);
  mero_gossipsub_topic_collect (self);
}

/* --- local calls --- */

static gboolean
check_topic_name (const char *topic, GError **error)
{
  if (topic == NULL || topic[0] == '\0' || strlen (topic) > MERO_GOSSIPSUB_MAX_TOPIC_LEN ||
      !g_utf8_validate (topic, -1, NULL))
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_NO_TOPIC,
                   "gossipsub topic must be 1 to %u bytes of UTF-8", MERO_GOSSIPSUB_MAX_TOPIC_LEN);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_gossipsub_router_subscribe (MeroGossipsubRouter *self, const char *topic, gint64 now,
                                 GError **error)
{
  GossipTopic *t;
  GHashTableIter iter;
  GossipPeer *p;
  g_autoptr(GPtrArray) fanout = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  self->last_now = MAX (self->last_now, now);
  if (!check_topic_name (topic, error))
    return FALSE;
  t = mero_gossipsub_topic_ensure (self, topic);
  if (t == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE,
                   "gossipsub already tracks %u topics", MERO_GOSSIPSUB_MAX_TOPICS);
      return FALSE;
    }
  if (t->subscribed)
    return TRUE;
  t->subscribed = TRUE;
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    mero_gossipsub_queue_subscription (self, p, topic, TRUE);

  /* Join (spec): fanout peers become the mesh first, then the mesh is
   * filled up to D. */
  fanout = mero_gossipsub_sorted_peers (t->fanout);
  for (guint i = 0; i < fanout->len && g_hash_table_size (t->mesh) < self->config.d; i++)
    {
      p = g_ptr_array_index (fanout, i);
      if (mero_gossipsub_topic_in_backoff (self, t, p->key, now, TRUE) ||
          mero_gossipsub_peer_score (self, p, now) < 0)
        continue;
      mero_gossipsub_mesh_add (self, t, p, now);
      mero_gossipsub_queue_graft (self, p, topic);
    }
  g_hash_table_remove_all (t->fanout);
  t->fanout_active = FALSE;
  mero_gossipsub_mesh_fill (self, t, now);
  return TRUE;
}

void
mero_gossipsub_router_unsubscribe (MeroGossipsubRouter *self, const char *topic, gint64 now)
{
  GossipTopic *t;
  GHashTableIter iter;
  GossipPeer *p;

  g_return_if_fail (self != NULL && topic != NULL);

  self->last_now = MAX (self->last_now, now);
  t = mero_gossipsub_topic_lookup (self, topic);
  if (t == NULL || !t->subscribed)
    return;
  t->subscribed = FALSE;
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    mero_gossipsub_queue_subscription (self, p, topic, FALSE);
  g_hash_table_iter_init (&iter, t->mesh);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    {
      mero_gossipsub_queue_prune (self, p, topic, self->config.unsubscribe_backoff_s);
      mero_gossipsub_topic_add_backoff (self, t, p->key, now, self->config.unsubscribe_backoff_s);
      mero_gossipsub_score_prune (self->score, p->score, topic, now);
    }
  g_hash_table_remove_all (t->mesh);
}

static void
publish_to_fanout (MeroGossipsubRouter *self, GossipTopic *t, const MeroGossipsubMessage *msg,
                   gint64 now)
{
  GHashTableIter iter;
  GossipPeer *p;

  if (g_hash_table_size (t->fanout) == 0)
    {
      g_autoptr(GPtrArray) candidates = mero_gossipsub_sorted_peers (t->peers);

      mero_gossipsub_shuffle (self, candidates);
      for (guint i = 0; i < candidates->len && g_hash_table_size (t->fanout) < self->config.d; i++)
        {
          p = g_ptr_array_index (candidates, i);
          if (mero_gossipsub_peer_score (self, p, now) >= self->config.thresholds.publish_threshold)
            g_hash_table_insert (t->fanout, p->key, p);
        }
    }
  t->fanout_active = TRUE;
  t->fanout_last_publish = now;
  g_hash_table_iter_init (&iter, t->fanout);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (mero_gossipsub_queue_message (self, p, msg))
      self->stats.messages_forwarded++;
}

GBytes *
mero_gossipsub_router_publish (MeroGossipsubRouter *self, const char *topic, const guint8 *data,
                               gsize len, gint64 now, GError **error)
{
  g_autoptr(MeroGossipsubMessage) msg = NULL;
  g_autoptr(GBytes) signing = NULL;
  g_autoptr(GBytes) id = NULL;
  guint8 seqno[MERO_GOSSIPSUB_SEQNO_LEN];
  guint8 sig[crypto_sign_BYTES];
  GossipTopic *t;
  GHashTable *targets;
  GHashTableIter iter;
  GossipPeer *p;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (data != NULL || len == 0, NULL);

  self->last_now = MAX (self->last_now, now);
  if (!check_topic_name (topic, error))
    return NULL;
  if (len > MERO_GOSSIPSUB_MAX_MESSAGE_DATA)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_OVERSIZE);
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE,
                   "gossipsub message of %zu bytes (at most %u)", len, MERO_GOSSIPSUB_MAX_MESSAGE_DATA);
      return NULL;
    }
  t = mero_gossipsub_topic_ensure (self, topic);
  if (t == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE,
                   "gossipsub already tracks %u topics", MERO_GOSSIPSUB_MAX_TOPICS);
      return NULL;
    }

  /* seqno: big-endian counter, as the spec asks. */
  for (guint i = 0; i < MERO_GOSSIPSUB_SEQNO_LEN; i++)
    seqno[i] = (guint8) (self->next_seqno >> (8 * (MERO_GOSSIPSUB_SEQNO_LEN - 1 - i)));
  self->next_seqno++;

  msg = mero_gossipsub_message_new ();
  msg->from = g_bytes_ref (self->self_id_bytes);
  /* js always sets data, so an empty message still carries field 2. */
  msg->data = g_bytes_new (data, len);
  msg->seqno = g_bytes_new (seqno, sizeof seqno);
  msg->topic = g_strdup (topic);
  msg->key = g_bytes_ref (self->self_key_pb);
  signing = mero_gossipsub_message_signing_bytes (msg);
  crypto_sign_detached (sig, NULL, g_bytes_get_data (signing, NULL), g_bytes_get_size (signing),
                        self->secret_key);
  msg->signature = g_bytes_new (sig, sizeof sig);
  id = mero_gossipsub_message_id (msg);

  mero_gossipsub_mark_seen (self, id, now);
  if (!mero_gossipsub_mcache_put (self->mcache, id, msg))
    mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_MCACHE_FULL);
  self->stats.messages_published++;

  if (self->config.flood_publish)
    targets = t->peers;
  else if (t->subscribed)
    targets = t->mesh;
  else
    {
      publish_to_fanout (self, t, msg, now);
      return g_steal_pointer (&id);
    }
  g_hash_table_iter_init (&iter, targets);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    {
      /* Flood publishing reaches beyond the mesh: only to peers we trust
       * enough (spec publishThreshold). */
      if (targets != t->mesh &&
          mero_gossipsub_peer_score (self, p, now) < self->config.thresholds.publish_threshold)
        continue;
      if (mero_gossipsub_queue_message (self, p, msg))
        self->stats.messages_forwarded++;
    }
  return g_steal_pointer (&id);
}

/* --- host side --- */

gboolean
mero_gossipsub_router_receive (MeroGossipsubRouter *self, const MeroPeerId *peer, const guint8 *data,
                               gsize len, gint64 now, GError **error)
{
  g_autoptr(GBytes) key = NULL;
  g_autoptr(MeroGossipsubRpc) rpc = NULL;
  g_autoptr(GError) local_error = NULL;
  GossipPeer *p;

  g_return_val_if_fail (self != NULL && peer != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  self->last_now = MAX (self->last_now, now);
  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  if (p == NULL)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_UNKNOWN_PEER);
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_MALFORMED,
                   "gossipsub RPC from a peer that was not added");
      return FALSE;
    }
  /* Graylisted: dropped before decoding, let alone verifying
   * signatures, which is what a flood of forgeries costs us. */
  if (mero_gossipsub_check_graylist (self, p, now))
    {
      self->stats.rpcs_ignored_graylist++;
      return TRUE;
    }
  rpc = mero_gossipsub_rpc_decode (data, len, &local_error);
  if (rpc == NULL)
    {
      /* js never sends these; a peer that does is misbehaving (P7). */
      mero_gossipsub_score_add_penalty (self->score, p->score, 1);
      mero_gossipsub_count_drop (self, g_error_matches (local_error, MERO_GOSSIPSUB_ERROR,
                                                        MERO_GOSSIPSUB_ERROR_TOO_LARGE)
                                       ? MERO_GOSSIPSUB_DROP_RPC_TOO_LARGE
                                       : MERO_GOSSIPSUB_DROP_RPC_MALFORMED);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }
  self->stats.rpcs_received++;
  mero_gossipsub_handle_rpc (self, p, rpc, now);
  return TRUE;
}

void
mero_gossipsub_router_handle_deadline (MeroGossipsubRouter *self, gint64 now)
{
  g_return_if_fail (self != NULL);

  self->last_now = MAX (self->last_now, now);
  if (now < self->next_heartbeat)
    return;
  mero_gossipsub_heartbeat (self, now);
  /* A host that fell behind gets one heartbeat, not a burst of them. */
  self->next_heartbeat += self->config.heartbeat_interval_us;
  if (self->next_heartbeat <= now)
    self->next_heartbeat = now + self->config.heartbeat_interval_us;
}

gint64
mero_gossipsub_router_next_deadline (const MeroGossipsubRouter *self)
{
  g_return_val_if_fail (self != NULL, G_MAXINT64);
  return self->next_heartbeat;
}

GBytes *
mero_gossipsub_router_pull_rpc (MeroGossipsubRouter *self, MeroPeerId **peer)
{
  g_return_val_if_fail (self != NULL, NULL);
  return mero_gossipsub_queue_pull (self, peer);
}

GBytes *
mero_gossipsub_router_pull_frame (MeroGossipsubRouter *self, MeroPeerId **peer)
{
  g_autoptr(GBytes) rpc = NULL;
  g_autoptr(GByteArray) frame = NULL;
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (self != NULL, NULL);

  rpc = mero_gossipsub_queue_pull (self, peer);
  if (rpc == NULL)
    return NULL;
  data = g_bytes_get_data (rpc, &len);
  frame = g_byte_array_sized_new ((guint) len + 10);
  /* The queue keeps every RPC under MERO_GOSSIPSUB_MAX_RPC_SIZE. */
  if (!mero_lp_frame_encode (frame, data != NULL ? data : (const guint8 *) "", len,
                             MERO_GOSSIPSUB_MAX_RPC_SIZE, NULL))
    g_assert_not_reached ();
  return g_byte_array_free_to_bytes (g_steal_pointer (&frame));
}

MeroGossipsubDelivery *
mero_gossipsub_router_pull_delivery (MeroGossipsubRouter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_queue_pop_head (&self->deliveries);
}

const MeroGossipsubStats *
mero_gossipsub_router_get_stats (const MeroGossipsubRouter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->stats;
}

gboolean
mero_gossipsub_router_is_subscribed (const MeroGossipsubRouter *self, const char *topic)
{
  GossipTopic *t;

  g_return_val_if_fail (self != NULL && topic != NULL, FALSE);
  t = g_hash_table_lookup (self->topics, topic);
  return t != NULL && t->subscribed;
}

static GPtrArray *
peer_ids_of (GHashTable *table)
{
  g_autoptr(GPtrArray) sorted = mero_gossipsub_sorted_peers (table);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_peer_id_free);

  for (guint i = 0; i < sorted->len; i++)
    g_ptr_array_add (out, mero_peer_id_copy (((GossipPeer *) g_ptr_array_index (sorted, i))->id));
  return out;
}

GPtrArray *
mero_gossipsub_router_get_mesh_peers (const MeroGossipsubRouter *self, const char *topic)
{
  GossipTopic *t;

  g_return_val_if_fail (self != NULL && topic != NULL, NULL);
  t = g_hash_table_lookup (self->topics, topic);
  if (t == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) mero_peer_id_free);
  return peer_ids_of (t->mesh);
}

GPtrArray *
mero_gossipsub_router_get_fanout_peers (const MeroGossipsubRouter *self, const char *topic)
{
  GossipTopic *t;

  g_return_val_if_fail (self != NULL && topic != NULL, NULL);
  t = g_hash_table_lookup (self->topics, topic);
  if (t == NULL)
    return g_ptr_array_new_with_free_func ((GDestroyNotify) mero_peer_id_free);
  return peer_ids_of (t->fanout);
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

GStrv
mero_gossipsub_router_get_peer_topics (const MeroGossipsubRouter *self, const MeroPeerId *peer)
{
  g_autoptr(GBytes) key = NULL;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree const char **names = NULL;
  GossipPeer *p;
  guint n = 0;
  GStrv out;

  g_return_val_if_fail (self != NULL && peer != NULL, NULL);

  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  if (p != NULL)
    {
      names = (const char **) g_hash_table_get_keys_as_array (p->topics, &n);
      for (guint i = 0; i < n; i++)
        g_strv_builder_add (builder, names[i]);
    }
  out = g_strv_builder_end (builder);
  qsort (out, n, sizeof (char *), compare_strings);
  return out;
}

gboolean
mero_gossipsub_router_in_backoff (const MeroGossipsubRouter *self, const char *topic,
                                  const MeroPeerId *peer, gint64 now)
{
  g_autoptr(GBytes) key = NULL;
  GossipTopic *t;

  g_return_val_if_fail (self != NULL && topic != NULL && peer != NULL, FALSE);
  t = g_hash_table_lookup (self->topics, topic);
  if (t == NULL)
    return FALSE;
  key = peer_key (peer);
  return mero_gossipsub_topic_in_backoff (self, t, key, now, TRUE);
}

/* --- scoring --- */

void
mero_gossipsub_router_set_peer_ip (MeroGossipsubRouter *self, const MeroPeerId *peer, const char *ip)
{
  g_autoptr(GBytes) key = NULL;
  GossipPeer *p;

  g_return_if_fail (self != NULL && peer != NULL);
  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  if (p != NULL)
    mero_gossipsub_score_set_ip (self->score, p->score, ip);
}

gboolean
mero_gossipsub_router_get_peer_score (const MeroGossipsubRouter *self, const MeroPeerId *peer,
                                      gint64 now, double *score)
{
  g_autoptr(GBytes) key = NULL;
  GossipPeer *p;

  g_return_val_if_fail (self != NULL && peer != NULL && score != NULL, FALSE);
  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  if (p == NULL)
    return FALSE;
  *score = mero_gossipsub_peer_score (self, p, now);
  return TRUE;
}

double
mero_gossipsub_router_get_retained_score (const MeroGossipsubRouter *self, const MeroPeerId *peer)
{
  g_autoptr(GBytes) key = NULL;

  g_return_val_if_fail (self != NULL && peer != NULL, 0);
  key = peer_key (peer);
  return mero_gossipsub_score_get_retained (self->score, key);
}

void
mero_gossipsub_router_reject_message (MeroGossipsubRouter *self, const MeroPeerId *peer,
                                      const char *topic, gint64 now)
{
  g_autoptr(GBytes) key = NULL;
  GossipPeer *p;
  GossipTopic *t;

  g_return_if_fail (self != NULL && peer != NULL && topic != NULL);
  self->last_now = MAX (self->last_now, now);
  key = peer_key (peer);
  p = g_hash_table_lookup (self->peers, key);
  t = mero_gossipsub_topic_lookup (self, topic);
  if (p == NULL || t == NULL || !t->subscribed)
    return;
  self->stats.messages_rejected++;
  mero_gossipsub_score_invalid_delivery (self->score, p->score, topic);
  /* Counted now if this took it below; its next RPC is ignored anyway. */
  mero_gossipsub_check_graylist (self, p, now);
}

MeroPeerId *
mero_gossipsub_router_pull_disconnect (MeroGossipsubRouter *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_queue_pop_head (&self->disconnects);
}
