/* mero-gossipsub-heartbeat.c: the once-a-second maintenance of
 * gossipsub-v1.0 §heartbeat: keep each mesh within [D_lo, D_hi], expire
 * fanout, advertise recent ids (IHAVE) to D_lazy peers outside the mesh,
 * age the caches and backoffs; and the v1.1 scoring part: prune negative
 * peers, keep the best and D_out outbound peers when trimming, graft
 * opportunistically, penalise broken IWANT promises, hand peers still
 * graylisted to the host, and decay the scores. */
#include "net/core/mero-gossipsub-router-private.h"

#include <string.h>

/* Spec gossip_factor: gossip goes to at least this share of the
 * eligible peers when that is more than D_lazy. */
#define GOSSIP_FACTOR_PERCENT 25u

void
mero_gossipsub_mesh_fill (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GPtrArray) candidates = NULL;
  guint want;

  if (g_hash_table_size (topic->mesh) >= self->config.d)
    return;
  want = self->config.d - g_hash_table_size (topic->mesh);
  candidates = mero_gossipsub_sorted_peers (topic->peers);
  mero_gossipsub_shuffle (self, candidates);
  for (guint i = 0; i < candidates->len && want > 0; i++)
    {
      GossipPeer *p = g_ptr_array_index (candidates, i);

      if (g_hash_table_contains (topic->mesh, p->key) ||
          mero_gossipsub_topic_in_backoff (self, topic, p->key, now, TRUE) ||
          mero_gossipsub_peer_score (self, p, now) < 0)
        continue;
      mero_gossipsub_mesh_add (self, topic, p, now);
      mero_gossipsub_queue_graft (self, p, topic->name);
      want--;
    }
}

static void
prune_peer (MeroGossipsubRouter *self, GossipTopic *topic, GossipPeer *p, gint64 now)
{
  mero_gossipsub_mesh_remove (self, topic, p, now);
  mero_gossipsub_topic_add_backoff (self, topic, p->key, now, self->config.prune_backoff_s);
  mero_gossipsub_queue_prune (self, p, topic->name, self->config.prune_backoff_s);
}

typedef struct
{
  GossipPeer *peer;
  double score;
  guint order; /* position after the shuffle */
} ScoredPeer;

/* Best first; ties keep the shuffled order (the index breaks them). */
static gint
compare_scored (gconstpointer a, gconstpointer b)
{
  const ScoredPeer *pa = a, *pb = b;

  if (pa->score != pb->score)
    return pa->score > pb->score ? -1 : 1;
  return pa->order < pb->order ? -1 : pa->order > pb->order;
}

/* (transfer full) the peers of @table shuffled then sorted by score,
 * best first. */
static GArray *
scored_peers (MeroGossipsubRouter *self, GHashTable *table, gint64 now)
{
  g_autoptr(GPtrArray) peers = mero_gossipsub_sorted_peers (table);
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (ScoredPeer), peers->len);

  mero_gossipsub_shuffle (self, peers);
  for (guint i = 0; i < peers->len; i++)
    {
      ScoredPeer sp = { g_ptr_array_index (peers, i), 0, i };

      sp.score = mero_gossipsub_peer_score (self, sp.peer, now);
      g_array_append_val (out, sp);
    }
  g_array_sort (out, compare_scored);
  return out;
}

static void
swap_scored (GArray *peers, guint i, guint j)
{
  ScoredPeer tmp = g_array_index (peers, ScoredPeer, i);

  g_array_index (peers, ScoredPeer, i) = g_array_index (peers, ScoredPeer, j);
  g_array_index (peers, ScoredPeer, j) = tmp;
}

/* v1.1 oversubscription: keep the D_score best, fill up to D at random,
 * and make sure D_out of the kept peers are outbound ones. */
static void
mesh_trim (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GArray) mesh = scored_peers (self, topic->mesh, now);
  guint d = self->config.d, keep = MIN (self->config.d_score, d);
  guint outbound = 0;

  /* Shuffle the rest, beyond the best D_score. */
  for (guint i = mesh->len; i > keep + 1; i--)
    swap_scored (mesh, i - 1, keep + (guint) g_rand_int_range (self->rand, 0, (gint32) (i - keep)));
  for (guint i = 0; i < d && i < mesh->len; i++)
    if (g_array_index (mesh, ScoredPeer, i).peer->outbound)
      outbound++;
  /* Too few outbound among the kept: swap outbound peers from beyond D
   * for the last inbound ones kept. */
  for (guint j = d; j < mesh->len && outbound < self->config.d_out; j++)
    {
      if (!g_array_index (mesh, ScoredPeer, j).peer->outbound)
        continue;
      for (guint i = d; i-- > 0;)
        if (!g_array_index (mesh, ScoredPeer, i).peer->outbound)
          {
            swap_scored (mesh, i, j);
            outbound++;
            break;
          }
    }
  for (guint i = d; i < mesh->len; i++)
    prune_peer (self, topic, g_array_index (mesh, ScoredPeer, i).peer, now);
}

/* Spec: a peer whose score went negative leaves the mesh. */
static void
mesh_prune_negative (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GPtrArray) mesh = mero_gossipsub_sorted_peers (topic->mesh);

  for (guint i = 0; i < mesh->len; i++)
    {
      GossipPeer *p = g_ptr_array_index (mesh, i);

      if (mero_gossipsub_peer_score (self, p, now) < 0)
        prune_peer (self, topic, p, now);
    }
}

/* Grafts non-negative peers from @candidates (already in order) that
 * pass @filter until @want are added. */
static guint
graft_some (MeroGossipsubRouter *self, GossipTopic *topic, GArray *candidates, guint want,
            gboolean outbound_only, double above, gint64 now)
{
  guint added = 0;

  for (guint i = 0; i < candidates->len && added < want; i++)
    {
      const ScoredPeer *sp = &g_array_index (candidates, ScoredPeer, i);

      if (g_hash_table_contains (topic->mesh, sp->peer->key) || sp->score < 0 ||
          sp->score <= above || (outbound_only && !sp->peer->outbound) ||
          mero_gossipsub_topic_in_backoff (self, topic, sp->peer->key, now, TRUE))
        continue;
      mero_gossipsub_mesh_add (self, topic, sp->peer, now);
      mero_gossipsub_queue_graft (self, sp->peer, topic->name);
      added++;
    }
  return added;
}

/* v1.1: a mesh of at least D_lo keeps D_out outbound peers (peers an
 * attacker cannot make us dial). */
static void
mesh_fill_outbound (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  GHashTableIter iter;
  GossipPeer *p;
  guint outbound = 0;
  g_autoptr(GArray) candidates = NULL;

  g_hash_table_iter_init (&iter, topic->mesh);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (p->outbound)
      outbound++;
  if (outbound >= self->config.d_out)
    return;
  candidates = scored_peers (self, topic->peers, now);
  graft_some (self, topic, candidates, self->config.d_out - outbound, TRUE, -1, now);
}

/* v1.1 opportunistic grafting: a mesh whose median score is low takes
 * peers scoring above the median, so that a mesh taken over by
 * mediocre peers recovers. */
static void
mesh_graft_opportunistic (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GArray) mesh = NULL;
  g_autoptr(GArray) candidates = NULL;
  double median;

  if (g_hash_table_size (topic->mesh) <= 1)
    return;
  mesh = scored_peers (self, topic->mesh, now);
  median = g_array_index (mesh, ScoredPeer, mesh->len / 2).score;
  if (median >= self->config.thresholds.opportunistic_graft_threshold)
    return;
  candidates = scored_peers (self, topic->peers, now);
  /* Any order among the better ones: shuffled, not best first, as js. */
  for (guint i = candidates->len; i > 1; i--)
    swap_scored (candidates, i - 1, (guint) g_rand_int_range (self->rand, 0, (gint32) i));
  self->stats.opportunistic_grafts +=
    graft_some (self, topic, candidates, self->config.opportunistic_graft_peers, FALSE, median, now);
}

/* IHAVE for the topic's cached ids to peers outside @exclude (the mesh
 * or fanout, which receive the messages themselves). */
static void
emit_gossip (MeroGossipsubRouter *self, GossipTopic *topic, GHashTable *exclude, gint64 now)
{
  g_autoptr(GPtrArray) ids = mero_gossipsub_mcache_get_gossip_ids (self->mcache, topic->name);
  g_autoptr(GPtrArray) all = NULL;
  g_autoptr(GPtrArray) eligible = NULL;
  guint n;

  if (ids->len == 0)
    return;
  all = mero_gossipsub_sorted_peers (topic->peers);
  eligible = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    {
      GossipPeer *p = g_ptr_array_index (all, i);

      if (!g_hash_table_contains (exclude, p->key) &&
          mero_gossipsub_peer_score (self, p, now) >= self->config.thresholds.gossip_threshold)
        g_ptr_array_add (eligible, p);
    }
  n = MAX (self->config.d_lazy, eligible->len * GOSSIP_FACTOR_PERCENT / 100);
  mero_gossipsub_shuffle (self, eligible);
  /* Spec: shuffle the ids too, so that a truncated IHAVE still covers
   * the cache fairly over heartbeats. */
  mero_gossipsub_shuffle (self, ids);
  for (guint i = 0; i < eligible->len && i < n; i++)
    mero_gossipsub_queue_ihave (self, g_ptr_array_index (eligible, i), topic->name, ids);
}

static void
maintain_fanout (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GPtrArray) candidates = NULL;

  GHashTableIter iter;
  GossipPeer *p;
  double publish_threshold = self->config.thresholds.publish_threshold;

  if (topic->fanout_last_publish + self->config.fanout_ttl_us <= now)
    {
      g_hash_table_remove_all (topic->fanout);
      topic->fanout_active = FALSE;
      return;
    }
  g_hash_table_iter_init (&iter, topic->fanout);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (mero_gossipsub_peer_score (self, p, now) < publish_threshold)
      g_hash_table_iter_remove (&iter);
  candidates = mero_gossipsub_sorted_peers (topic->peers);
  mero_gossipsub_shuffle (self, candidates);
  for (guint i = 0; i < candidates->len && g_hash_table_size (topic->fanout) < self->config.d; i++)
    {
      p = g_ptr_array_index (candidates, i);
      if (mero_gossipsub_peer_score (self, p, now) >= publish_threshold)
        g_hash_table_insert (topic->fanout, p->key, p);
    }
  emit_gossip (self, topic, topic->fanout, now);
}

static void
expire_backoff (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  GHashTableIter iter;
  gint64 *expiry;
  gint64 slack = MERO_GOSSIPSUB_BACKOFF_SLACK_HEARTBEATS * self->config.heartbeat_interval_us;

  g_hash_table_iter_init (&iter, topic->backoff);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &expiry))
    if (*expiry + slack <= now)
      g_hash_table_iter_remove (&iter);
}

static gint
compare_topics (gconstpointer a, gconstpointer b)
{
  return strcmp ((*(GossipTopic *const *) a)->name, (*(GossipTopic *const *) b)->name);
}

/* IWANTs not answered within the follow-up time: one behaviour penalty
 * per broken promise (spec P7). */
static void
check_promises (MeroGossipsubRouter *self, gint64 now)
{
  GHashTableIter iter;
  GossipPromise *promise;

  g_hash_table_iter_init (&iter, self->promises);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &promise))
    {
      GossipPeer *p;

      if (promise->expiry > now)
        continue;
      p = g_hash_table_lookup (self->peers, promise->peer_key);
      if (p != NULL)
        {
          mero_gossipsub_score_add_penalty (self->score, p->score, 1);
          self->stats.broken_promises++;
        }
      g_hash_table_iter_remove (&iter);
    }
}

/* A peer still below the graylist threshold a heartbeat after it fell
 * there (its RPCs ignored meanwhile) goes to the host to disconnect.
 * Looked at before the decay, so that one decay step cannot let a
 * flooder off. */
static void
check_graylist (MeroGossipsubRouter *self, gint64 now)
{
  g_autoptr(GPtrArray) peers = mero_gossipsub_sorted_peers (self->peers);

  for (guint i = 0; i < peers->len; i++)
    {
      GossipPeer *p = g_ptr_array_index (peers, i);

      if (!mero_gossipsub_check_graylist (self, p, now))
        {
          p->graylisted = FALSE;
          continue;
        }
      if (!p->disconnect_queued)
        {
          p->disconnect_queued = TRUE;
          mero_gossipsub_score_hold (self->score, p->score);
          self->stats.peers_disconnect_score++;
          g_queue_push_tail (&self->disconnects, mero_peer_id_copy (p->id));
        }
    }
}

void
mero_gossipsub_heartbeat (MeroGossipsubRouter *self, gint64 now)
{
  gboolean opportunistic;

  g_autoptr(GPtrArray) topics = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      GossipPeer *p = value;

      p->ihave_received = 0;
      p->iwant_asked = 0;
      p->iwant_replies = 0;
    }
  check_promises (self, now);
  check_graylist (self, now);
  self->heartbeat_ticks++;
  opportunistic = self->config.opportunistic_graft_ticks > 0 &&
                  self->heartbeat_ticks % self->config.opportunistic_graft_ticks == 0;

  /* In name order, so that PRNG draws do not depend on hash order. */
  g_hash_table_iter_init (&iter, self->topics);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (topics, value);
  g_ptr_array_sort (topics, compare_topics);
  for (guint i = 0; i < topics->len; i++)
    {
      GossipTopic *t = g_ptr_array_index (topics, i);

      expire_backoff (self, t, now);
      if (t->subscribed)
        {
          mesh_prune_negative (self, t, now);
          if (g_hash_table_size (t->mesh) < self->config.d_lo)
            mero_gossipsub_mesh_fill (self, t, now);
          if (g_hash_table_size (t->mesh) > self->config.d_hi)
            mesh_trim (self, t, now);
          if (g_hash_table_size (t->mesh) >= self->config.d_lo)
            mesh_fill_outbound (self, t, now);
          if (opportunistic)
            mesh_graft_opportunistic (self, t, now);
          emit_gossip (self, t, t->mesh, now);
        }
      else if (t->fanout_active)
        {
          maintain_fanout (self, t, now);
        }
    }

  mero_gossipsub_score_refresh (self->score, now);
  mero_gossipsub_seen_expire (self->seen, now);
  mero_gossipsub_mcache_shift (self->mcache);
  mero_gossipsub_topic_collect (self);
}
