/* mero-gossipsub-heartbeat.c: the once-a-second maintenance of
 * gossipsub-v1.0 §heartbeat: keep each mesh within [D_lo, D_hi], expire
 * fanout, advertise recent ids (IHAVE) to D_lazy peers outside the mesh,
 * age the caches and backoffs. */
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
          mero_gossipsub_topic_in_backoff (self, topic, p->key, now, TRUE))
        continue;
      g_hash_table_insert (topic->mesh, p->key, p);
      mero_gossipsub_queue_graft (self, p, topic->name);
      want--;
    }
}

static void
mesh_trim (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now)
{
  g_autoptr(GPtrArray) mesh = mero_gossipsub_sorted_peers (topic->mesh);

  mero_gossipsub_shuffle (self, mesh);
  for (guint i = self->config.d; i < mesh->len; i++)
    {
      GossipPeer *p = g_ptr_array_index (mesh, i);

      g_hash_table_remove (topic->mesh, p->key);
      mero_gossipsub_topic_add_backoff (self, topic, p->key, now, self->config.prune_backoff_s);
      mero_gossipsub_queue_prune (self, p, topic->name, self->config.prune_backoff_s);
    }
}

/* IHAVE for the topic's cached ids to peers outside @exclude (the mesh
 * or fanout, which receive the messages themselves). */
static void
emit_gossip (MeroGossipsubRouter *self, GossipTopic *topic, GHashTable *exclude)
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

      if (!g_hash_table_contains (exclude, p->key))
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

  if (topic->fanout_last_publish + self->config.fanout_ttl_us <= now)
    {
      g_hash_table_remove_all (topic->fanout);
      topic->fanout_active = FALSE;
      return;
    }
  candidates = mero_gossipsub_sorted_peers (topic->peers);
  mero_gossipsub_shuffle (self, candidates);
  for (guint i = 0; i < candidates->len && g_hash_table_size (topic->fanout) < self->config.d; i++)
    {
      GossipPeer *p = g_ptr_array_index (candidates, i);

      g_hash_table_insert (topic->fanout, p->key, p);
    }
  emit_gossip (self, topic, topic->fanout);
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

void
mero_gossipsub_heartbeat (MeroGossipsubRouter *self, gint64 now)
{
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
          if (g_hash_table_size (t->mesh) < self->config.d_lo)
            mero_gossipsub_mesh_fill (self, t, now);
          if (g_hash_table_size (t->mesh) > self->config.d_hi)
            mesh_trim (self, t, now);
          emit_gossip (self, t, t->mesh);
        }
      else if (t->fanout_active)
        {
          maintain_fanout (self, t, now);
        }
    }

  mero_gossipsub_seen_expire (self->seen, now);
  mero_gossipsub_mcache_shift (self->mcache);
  mero_gossipsub_topic_collect (self);
}
