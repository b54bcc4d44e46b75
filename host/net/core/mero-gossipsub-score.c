/* mero-gossipsub-score.c: the counters of gossipsub v1.1 peer scoring and
 * the score computed from them (js compute-score.js, peer-score.js). */
#include "net/core/mero-gossipsub-score.h"

#include <string.h>

typedef struct
{
  gboolean in_mesh;
  gint64 graft_time;
  double first_message_deliveries;
  double mesh_message_deliveries;
  double mesh_failure_penalty;
  double invalid_message_deliveries;
} TopicStats;

struct _MeroGossipsubPeerScore
{
  GBytes *key;
  gboolean connected;
  gboolean held;         /* not decayed: being disconnected */
  gint64 expire;         /* retained until, once disconnected */
  GHashTable *topics;    /* char * (owned) → TopicStats (owned) */
  char *ip;              /* NULL: unknown */
  gboolean ip_exempt;    /* whitelisted: P6 skipped without a lookup */
  double behaviour_penalty;
};

struct _MeroGossipsubScore
{
  MeroGossipsubScoreParams params;
  GHashTable *peers;     /* key GBytes → MeroGossipsubPeerScore (owned), connected or retained */
  GHashTable *ips;       /* ip → GUINT connected peers on it */
  guint n_retained;
  gint64 next_decay;
};

void
mero_gossipsub_score_params_init (MeroGossipsubScoreParams *params)
{
  g_return_if_fail (params != NULL);

  *params = (MeroGossipsubScoreParams) {
    .topic = {
      .topic_weight = MERO_GOSSIPSUB_SCORE_TOPIC_WEIGHT,
      .time_in_mesh_weight = MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_WEIGHT,
      .time_in_mesh_quantum_us = MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_QUANTUM_US,
      .time_in_mesh_cap = MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_CAP,
      .first_message_deliveries_weight = MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_WEIGHT,
      .first_message_deliveries_decay = MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_DECAY,
      .first_message_deliveries_cap = MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_CAP,
      .mesh_message_deliveries_weight = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_WEIGHT,
      .mesh_message_deliveries_decay = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_DECAY,
      .mesh_message_deliveries_cap = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_CAP,
      .mesh_message_deliveries_threshold = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_THRESHOLD,
      .mesh_message_deliveries_window_us = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_WINDOW_US,
      .mesh_message_deliveries_activation_us = MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_ACTIVATION_US,
      .mesh_failure_penalty_weight = MERO_GOSSIPSUB_SCORE_MESH_FAILURE_WEIGHT,
      .mesh_failure_penalty_decay = MERO_GOSSIPSUB_SCORE_MESH_FAILURE_DECAY,
      .invalid_message_deliveries_weight = MERO_GOSSIPSUB_SCORE_INVALID_WEIGHT,
      .invalid_message_deliveries_decay = MERO_GOSSIPSUB_SCORE_INVALID_DECAY,
    },
    .topic_score_cap = MERO_GOSSIPSUB_SCORE_TOPIC_CAP,
    .ip_colocation_factor_weight = MERO_GOSSIPSUB_SCORE_IP_COLOCATION_WEIGHT,
    .ip_colocation_factor_threshold = MERO_GOSSIPSUB_SCORE_IP_COLOCATION_THRESHOLD,
    .ip_colocation_whitelist_loopback = TRUE,
    .behaviour_penalty_weight = MERO_GOSSIPSUB_SCORE_BEHAVIOUR_WEIGHT,
    .behaviour_penalty_threshold = MERO_GOSSIPSUB_SCORE_BEHAVIOUR_THRESHOLD,
    .behaviour_penalty_decay = MERO_GOSSIPSUB_SCORE_BEHAVIOUR_DECAY,
    .decay_interval_us = MERO_GOSSIPSUB_SCORE_DECAY_INTERVAL_US,
    .decay_to_zero = MERO_GOSSIPSUB_SCORE_DECAY_TO_ZERO,
    .retain_score_us = MERO_GOSSIPSUB_SCORE_RETAIN_US,
  };
}

void
mero_gossipsub_score_thresholds_init (MeroGossipsubScoreThresholds *thresholds)
{
  g_return_if_fail (thresholds != NULL);

  *thresholds = (MeroGossipsubScoreThresholds) {
    .gossip_threshold = MERO_GOSSIPSUB_SCORE_GOSSIP_THRESHOLD,
    .publish_threshold = MERO_GOSSIPSUB_SCORE_PUBLISH_THRESHOLD,
    .graylist_threshold = MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD,
    .accept_px_threshold = MERO_GOSSIPSUB_SCORE_ACCEPT_PX_THRESHOLD,
    .opportunistic_graft_threshold = MERO_GOSSIPSUB_SCORE_OPPORTUNISTIC_GRAFT_THRESHOLD,
  };
}

static void
peer_score_free (gpointer data)
{
  MeroGossipsubPeerScore *p = data;

  g_bytes_unref (p->key);
  g_hash_table_unref (p->topics);
  g_free (p->ip);
  g_free (p);
}

MeroGossipsubScore *
mero_gossipsub_score_new (const MeroGossipsubScoreParams *params, gint64 now)
{
  MeroGossipsubScore *self;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (params->decay_interval_us > 0, NULL);
  g_return_val_if_fail (params->topic.time_in_mesh_quantum_us > 0, NULL);

  self = g_new0 (MeroGossipsubScore, 1);
  self->params = *params;
  self->peers = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, NULL, peer_score_free);
  self->ips = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->next_decay = now + params->decay_interval_us;
  return self;
}

void
mero_gossipsub_score_free (MeroGossipsubScore *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->peers);
  g_hash_table_unref (self->ips);
  g_free (self);
}

/* --- P6 bookkeeping --- */

static gboolean
ip_is_loopback (const char *ip)
{
  return g_str_has_prefix (ip, "127.") || strcmp (ip, "::1") == 0 ||
         g_str_has_prefix (ip, "::ffff:127.");
}

static void
ip_count (MeroGossipsubScore *self, const char *ip, gint delta)
{
  guint n;

  if (ip == NULL)
    return;
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->ips, ip));
  if (delta < 0 && n <= 1)
    g_hash_table_remove (self->ips, ip);
  else
    g_hash_table_insert (self->ips, g_strdup (ip), GUINT_TO_POINTER (delta < 0 ? n - 1 : n + 1));
}

/* --- peers --- */

MeroGossipsubPeerScore *
mero_gossipsub_score_add_peer (MeroGossipsubScore *self, GBytes *key, gint64 now)
{
  MeroGossipsubPeerScore *p;

  g_return_val_if_fail (self != NULL && key != NULL, NULL);
  (void) now;

  p = g_hash_table_lookup (self->peers, key);
  if (p != NULL)
    {
      /* Retained, or added twice: either way it is connected now. */
      if (!p->connected)
        self->n_retained--;
      p->connected = TRUE;
      p->held = FALSE;
      return p;
    }
  p = g_new0 (MeroGossipsubPeerScore, 1);
  p->key = g_bytes_ref (key);
  p->connected = TRUE;
  p->topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_hash_table_insert (self->peers, p->key, p);
  return p;
}

/* The retained peer that would expire first, or NULL. */
static MeroGossipsubPeerScore *
first_to_expire (MeroGossipsubScore *self)
{
  GHashTableIter iter;
  MeroGossipsubPeerScore *p, *best = NULL;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (!p->connected && (best == NULL || p->expire < best->expire))
      best = p;
  return best;
}

void
mero_gossipsub_score_remove_peer (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer, gint64 now)
{
  GHashTableIter iter;
  gpointer name;

  g_return_if_fail (self != NULL && peer != NULL && peer->connected);

  g_hash_table_iter_init (&iter, peer->topics);
  while (g_hash_table_iter_next (&iter, &name, NULL))
    mero_gossipsub_score_prune (self, peer, name, now);

  if (self->params.retain_score_us <= 0)
    {
      ip_count (self, peer->ip, -1);
      g_hash_table_remove (self->peers, peer->key);
      return;
    }
  if (self->n_retained >= MERO_GOSSIPSUB_SCORE_MAX_RETAINED)
    {
      MeroGossipsubPeerScore *oldest;

      /* Only a bad score is worth keeping at someone else's expense. */
      if (mero_gossipsub_score_get (self, peer, now) >= 0)
        {
          ip_count (self, peer->ip, -1);
          g_hash_table_remove (self->peers, peer->key);
          return;
        }
      oldest = first_to_expire (self);
      if (oldest != NULL)
        {
          g_hash_table_remove (self->peers, oldest->key);
          self->n_retained--;
        }
    }
  /* P6 counts connected peers only; the IP stays with the counters so a
   * reconnect from elsewhere is counted where it comes from. */
  ip_count (self, peer->ip, -1);
  g_clear_pointer (&peer->ip, g_free);
  peer->connected = FALSE;
  peer->expire = now + self->params.retain_score_us;
  self->n_retained++;
}

void
mero_gossipsub_score_set_ip (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer, const char *ip)
{
  g_return_if_fail (self != NULL && peer != NULL);

  if (ip != NULL && strlen (ip) > MERO_GOSSIPSUB_SCORE_MAX_IP_LEN)
    ip = NULL;
  if (g_strcmp0 (peer->ip, ip) == 0)
    return;
  ip_count (self, peer->ip, -1);
  g_free (peer->ip);
  peer->ip = g_strdup (ip);
  peer->ip_exempt = ip != NULL && self->params.ip_colocation_whitelist_loopback && ip_is_loopback (ip);
  ip_count (self, peer->ip, +1);
}

static TopicStats *
topic_stats (MeroGossipsubPeerScore *peer, const char *topic, gboolean create)
{
  TopicStats *ts = g_hash_table_lookup (peer->topics, topic);

  if (ts != NULL || !create)
    return ts;
  if (g_hash_table_size (peer->topics) >= MERO_GOSSIPSUB_SCORE_MAX_TOPICS_PER_PEER)
    return NULL;
  ts = g_new0 (TopicStats, 1);
  g_hash_table_insert (peer->topics, g_strdup (topic), ts);
  return ts;
}

void
mero_gossipsub_score_graft (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                            const char *topic, gint64 now)
{
  TopicStats *ts;

  g_return_if_fail (self != NULL && peer != NULL && topic != NULL);
  ts = topic_stats (peer, topic, TRUE);
  if (ts == NULL || ts->in_mesh)
    return;
  ts->in_mesh = TRUE;
  ts->graft_time = now;
}

static gboolean
deliveries_active (const MeroGossipsubTopicScoreParams *tp, const TopicStats *ts, gint64 now)
{
  return ts->in_mesh && now - ts->graft_time > tp->mesh_message_deliveries_activation_us;
}

void
mero_gossipsub_score_prune (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                            const char *topic, gint64 now)
{
  const MeroGossipsubTopicScoreParams *tp = &self->params.topic;
  TopicStats *ts;

  g_return_if_fail (self != NULL && peer != NULL && topic != NULL);
  ts = topic_stats (peer, topic, FALSE);
  if (ts == NULL || !ts->in_mesh)
    return;
  /* P3b: the deficit it had when it left sticks, so that a peer cannot
   * shed its P3 penalty by being pruned. */
  if (deliveries_active (tp, ts, now) &&
      ts->mesh_message_deliveries < tp->mesh_message_deliveries_threshold)
    {
      double deficit = tp->mesh_message_deliveries_threshold - ts->mesh_message_deliveries;

      ts->mesh_failure_penalty += deficit * deficit;
    }
  ts->in_mesh = FALSE;
}

void
mero_gossipsub_score_first_delivery (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                     const char *topic)
{
  const MeroGossipsubTopicScoreParams *tp = &self->params.topic;
  TopicStats *ts;

  ts = topic_stats (peer, topic, TRUE);
  if (ts == NULL)
    return;
  ts->first_message_deliveries =
    MIN (ts->first_message_deliveries + 1, tp->first_message_deliveries_cap);
  if (ts->in_mesh)
    ts->mesh_message_deliveries =
      MIN (ts->mesh_message_deliveries + 1, tp->mesh_message_deliveries_cap);
}

void
mero_gossipsub_score_duplicate_delivery (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                         const char *topic, gint64 first_seen_us, gint64 now)
{
  const MeroGossipsubTopicScoreParams *tp = &self->params.topic;
  TopicStats *ts = topic_stats (peer, topic, FALSE);

  /* A mesh peer that forwards a message a moment after another one did
   * is still doing its job. */
  if (ts == NULL || !ts->in_mesh || now - first_seen_us > tp->mesh_message_deliveries_window_us)
    return;
  ts->mesh_message_deliveries =
    MIN (ts->mesh_message_deliveries + 1, tp->mesh_message_deliveries_cap);
}

void
mero_gossipsub_score_invalid_delivery (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                       const char *topic)
{
  TopicStats *ts = topic_stats (peer, topic, TRUE);

  /* A peer whose topic table is full (a node in very many topics) would
   * otherwise forge for free on the rest: there it is misbehaviour. */
  if (ts != NULL)
    ts->invalid_message_deliveries += 1;
  else
    mero_gossipsub_score_add_penalty (self, peer, 1);
}

void
mero_gossipsub_score_add_penalty (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                  double count)
{
  (void) self;
  peer->behaviour_penalty += count;
}

void
mero_gossipsub_score_hold (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer)
{
  (void) self;
  peer->held = TRUE;
}

/* --- the score --- */

static double
topic_score (const MeroGossipsubTopicScoreParams *tp, const TopicStats *ts, gint64 now)
{
  double score = 0;

  if (ts->in_mesh)
    {
      double p1 = (double) (now - ts->graft_time) / (double) tp->time_in_mesh_quantum_us;

      score += MIN (p1, tp->time_in_mesh_cap) * tp->time_in_mesh_weight;
    }
  score += MIN (ts->first_message_deliveries, tp->first_message_deliveries_cap) *
           tp->first_message_deliveries_weight;
  if (deliveries_active (tp, ts, now) &&
      ts->mesh_message_deliveries < tp->mesh_message_deliveries_threshold)
    {
      double deficit = tp->mesh_message_deliveries_threshold - ts->mesh_message_deliveries;

      score += deficit * deficit * tp->mesh_message_deliveries_weight;
    }
  score += ts->mesh_failure_penalty * tp->mesh_failure_penalty_weight;
  score += ts->invalid_message_deliveries * ts->invalid_message_deliveries *
           tp->invalid_message_deliveries_weight;
  return score * tp->topic_weight;
}

double
mero_gossipsub_score_get (const MeroGossipsubScore *self, const MeroGossipsubPeerScore *peer,
                          gint64 now)
{
  const MeroGossipsubScoreParams *params;
  GHashTableIter iter;
  gpointer value;
  double score = 0;

  g_return_val_if_fail (self != NULL && peer != NULL, 0);
  params = &self->params;

  g_hash_table_iter_init (&iter, peer->topics);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    score += topic_score (&params->topic, value, now);
  if (params->topic_score_cap > 0 && score > params->topic_score_cap)
    score = params->topic_score_cap;

  if (peer->ip != NULL && !peer->ip_exempt && params->ip_colocation_factor_weight != 0)
    {
      double n = GPOINTER_TO_UINT (g_hash_table_lookup (self->ips, peer->ip));

      if (n > params->ip_colocation_factor_threshold)
        {
          double surplus = n - params->ip_colocation_factor_threshold;

          score += surplus * surplus * params->ip_colocation_factor_weight;
        }
    }

  if (peer->behaviour_penalty > params->behaviour_penalty_threshold)
    {
      double excess = peer->behaviour_penalty - params->behaviour_penalty_threshold;

      score += excess * excess * params->behaviour_penalty_weight;
    }
  return score;
}

double
mero_gossipsub_score_get_retained (const MeroGossipsubScore *self, GBytes *key)
{
  const MeroGossipsubPeerScore *p;

  g_return_val_if_fail (self != NULL && key != NULL, 0);
  p = g_hash_table_lookup (self->peers, key);
  if (p == NULL || p->connected)
    return 0;
  /* Time in mesh does not count while away (it left every mesh). */
  return mero_gossipsub_score_get (self, p, p->expire);
}

/* --- decay --- */

static double
decay (double value, double factor, double to_zero)
{
  value *= factor;
  return value < to_zero ? 0 : value;
}

static void
decay_peer (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer)
{
  const MeroGossipsubTopicScoreParams *tp = &self->params.topic;
  double z = self->params.decay_to_zero;
  GHashTableIter iter;
  TopicStats *ts;

  g_hash_table_iter_init (&iter, peer->topics);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ts))
    {
      ts->first_message_deliveries =
        decay (ts->first_message_deliveries, tp->first_message_deliveries_decay, z);
      ts->mesh_message_deliveries =
        decay (ts->mesh_message_deliveries, tp->mesh_message_deliveries_decay, z);
      ts->mesh_failure_penalty = decay (ts->mesh_failure_penalty, tp->mesh_failure_penalty_decay, z);
      ts->invalid_message_deliveries =
        decay (ts->invalid_message_deliveries, tp->invalid_message_deliveries_decay, z);
    }
  peer->behaviour_penalty = decay (peer->behaviour_penalty, self->params.behaviour_penalty_decay, z);
}

void
mero_gossipsub_score_refresh (MeroGossipsubScore *self, gint64 now)
{
  GHashTableIter iter;
  MeroGossipsubPeerScore *p;

  g_return_if_fail (self != NULL);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    if (!p->connected && p->expire <= now)
      {
        g_hash_table_iter_remove (&iter);
        self->n_retained--;
      }

  /* One decay per interval elapsed, however late the heartbeat runs;
   * a host asleep for hours decays at most a bounded number of times
   * (counters are 0 by then anyway). */
  for (guint i = 0; i < MERO_GOSSIPSUB_SCORE_MAX_DECAYS_PER_REFRESH && self->next_decay <= now; i++)
    {
      g_hash_table_iter_init (&iter, self->peers);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
        if (p->connected && !p->held)
          decay_peer (self, p);
      self->next_decay += self->params.decay_interval_us;
    }
  if (self->next_decay <= now)
    self->next_decay = now + self->params.decay_interval_us;
}
