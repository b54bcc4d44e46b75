/* Unit tests for gossipsub v1.1 peer scoring: the score's terms with
 * integer time in memory, then the router acting on it (graylist before
 * verification, disconnect, thresholds, mesh maintenance, opportunistic
 * grafting, IWANT promises, retained scores). */
#include "net/core/mero-gossipsub-score.h"

#include "test-gossipsub-util.h"

#define TOPIC "mero-topic"
#define EPS 1e-9

static GBytes *
key_of (guint8 fill)
{
  guint8 k[8];

  memset (k, fill, sizeof k);
  return g_bytes_new (k, sizeof k);
}

/* Params with every term off, so each test turns on the one it checks. */
static void
params_silent (MeroGossipsubScoreParams *p)
{
  mero_gossipsub_score_params_init (p);
  p->topic.topic_weight = 1;
  p->topic.time_in_mesh_weight = 0;
  p->topic.first_message_deliveries_weight = 0;
  p->topic.mesh_message_deliveries_weight = 0;
  p->topic.mesh_failure_penalty_weight = 0;
  p->topic.invalid_message_deliveries_weight = 0;
  p->topic_score_cap = 0;
  p->ip_colocation_factor_weight = 0;
  p->behaviour_penalty_weight = 0;
}

static void
test_defaults (void)
{
  MeroGossipsubScoreParams p;
  MeroGossipsubScoreThresholds t;

  mero_gossipsub_score_params_init (&p);
  mero_gossipsub_score_thresholds_init (&t);
  /* js-libp2p-gossipsub's values. */
  g_assert_cmpfloat (t.gossip_threshold, ==, -10);
  g_assert_cmpfloat (t.publish_threshold, ==, -50);
  g_assert_cmpfloat (t.graylist_threshold, ==, -80);
  g_assert_cmpfloat (t.accept_px_threshold, ==, 10);
  g_assert_cmpfloat (t.opportunistic_graft_threshold, ==, 20);
  g_assert_cmpfloat (p.topic_score_cap, ==, 10);
  g_assert_cmpfloat (p.ip_colocation_factor_weight, ==, -5);
  g_assert_cmpfloat (p.ip_colocation_factor_threshold, ==, 10);
  g_assert_cmpfloat (p.behaviour_penalty_weight, ==, -10);
  g_assert_cmpfloat (p.behaviour_penalty_decay, ==, 0.2);
  g_assert_cmpint (p.decay_interval_us, ==, SEC);
  g_assert_cmpfloat (p.decay_to_zero, ==, 0.1);
  g_assert_cmpint (p.retain_score_us, ==, G_GINT64_CONSTANT (3600) * SEC);
  g_assert_cmpfloat (p.topic.topic_weight, ==, 0.5);
  g_assert_cmpfloat (p.topic.invalid_message_deliveries_weight, ==, -1);
  g_assert_cmpfloat (p.topic.invalid_message_deliveries_decay, ==, 0.3);
}

/* P1: time in mesh in quanta, capped; gone when pruned. */
static void
test_p1_time_in_mesh (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  params_silent (&p);
  p.topic.time_in_mesh_weight = 2;
  p.topic.time_in_mesh_cap = 100;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 0), ==, 0);
  mero_gossipsub_score_graft (s, peer, TOPIC, 10 * SEC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 15 * SEC), 10, EPS);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 1000 * SEC), 200, EPS);
  mero_gossipsub_score_prune (s, peer, TOPIC, 1000 * SEC);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 1000 * SEC), ==, 0);
}

/* P2: first deliveries count up to the cap and decay; the topic weight
 * and the topic score cap apply. */
static void
test_p2_first_deliveries (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  params_silent (&p);
  p.topic.topic_weight = 0.5;
  p.topic.first_message_deliveries_weight = 1;
  p.topic.first_message_deliveries_cap = 10;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < 4; i++)
    mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), 2, EPS);
  mero_gossipsub_score_refresh (s, SEC); /* 4 → 2 */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, SEC), 1, EPS);
  for (guint i = 0; i < 50; i++)
    mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, SEC), 5, EPS);
  mero_gossipsub_score_free (g_steal_pointer (&s));

  p.topic_score_cap = 3;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < 50; i++)
    mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), 3, EPS);
}

/* P3: a mesh peer delivering below the threshold is penalised by the
 * squared deficit once active; duplicates inside the window count.
 * P3b: the deficit at PRUNE sticks and decays. */
static void
test_p3_mesh_deliveries (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  params_silent (&p);
  p.topic.mesh_message_deliveries_weight = -1;
  p.topic.mesh_message_deliveries_threshold = 4;
  p.topic.mesh_message_deliveries_activation_us = 5 * SEC;
  p.topic.mesh_message_deliveries_window_us = 10000;
  p.topic.mesh_message_deliveries_decay = 0.5;
  p.topic.mesh_failure_penalty_weight = -2;
  p.topic.mesh_failure_penalty_decay = 0.5;
  /* First decay due at 6 s. */
  s = mero_gossipsub_score_new (&p, 5 * SEC);
  peer = mero_gossipsub_score_add_peer (s, k, 0);

  /* Outside the mesh nothing counts toward P3. */
  mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  mero_gossipsub_score_graft (s, peer, TOPIC, 0);
  mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  mero_gossipsub_score_duplicate_delivery (s, peer, TOPIC, 2 * SEC, 2 * SEC + 5000);  /* in window */
  mero_gossipsub_score_duplicate_delivery (s, peer, TOPIC, 2 * SEC, 2 * SEC + 50000); /* late */
  /* Not active yet (5 s in mesh). */
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 5 * SEC), ==, 0);
  /* Active: 2 delivered, deficit 2 → -4. */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 6 * SEC), -4, EPS);
  /* PRUNE: P3 ends, P3b = deficit² = 4 at weight -2. */
  mero_gossipsub_score_prune (s, peer, TOPIC, 6 * SEC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 6 * SEC), -8, EPS);
  mero_gossipsub_score_refresh (s, 6 * SEC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 6 * SEC), -4, EPS);
}

/* P4: squared invalid count with the js weights: 13 invalid messages
 * take a peer below the graylist threshold, 12 do not; decay 0.3. */
static void
test_p4_invalid (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  mero_gossipsub_score_params_init (&p);
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < 12; i++)
    mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), -72, EPS);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 0), >, MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD);
  mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), -84.5, EPS);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 0), <, MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD);
  mero_gossipsub_score_refresh (s, SEC); /* 13 → 3.9 */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, SEC), -3.9 * 3.9 * 0.5, 1e-6);
  /* Positive topic terms cannot outweigh it past the cap. */
  for (guint i = 0; i < 100; i++)
    mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, SEC), <=, 10);
}

/* Beyond the per-peer topic bound, an invalid message costs P7: a peer
 * cannot forge for free on a node in very many topics. */
static void
test_topic_bound (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  params_silent (&p);
  p.topic.invalid_message_deliveries_weight = -1;
  p.behaviour_penalty_weight = -10;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < MERO_GOSSIPSUB_SCORE_MAX_TOPICS_PER_PEER; i++)
    {
      g_autofree char *topic = g_strdup_printf ("t%u", i);

      mero_gossipsub_score_first_delivery (s, peer, topic);
    }
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 0), ==, 0);
  for (guint i = 0; i < 3; i++)
    mero_gossipsub_score_invalid_delivery (s, peer, "one-too-many");
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), -90, EPS);
}

/* P6: more than the threshold peers on one IP are penalised by the
 * squared surplus; loopback is exempt unless the whitelist is off. */
static void
test_p6_ip_colocation (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  MeroGossipsubPeerScore *peers[12];

  mero_gossipsub_score_params_init (&p);
  s = mero_gossipsub_score_new (&p, 0);
  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      g_autoptr(GBytes) k = key_of ((guint8) (i + 1));

      peers[i] = mero_gossipsub_score_add_peer (s, k, 0);
      mero_gossipsub_score_set_ip (s, peers[i], "192.0.2.7");
    }
  /* 12 on one IP, threshold 10: surplus 2 → 4 × -5. */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peers[0], 0), -20, EPS);
  /* One moves elsewhere, one leaves: 10 left, no penalty. */
  mero_gossipsub_score_set_ip (s, peers[1], "198.51.100.1");
  mero_gossipsub_score_remove_peer (s, peers[2], 0);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peers[0], 0), ==, 0);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peers[1], 0), ==, 0);

  /* Loopback: exempt by default. */
  for (guint i = 3; i < G_N_ELEMENTS (peers); i++)
    mero_gossipsub_score_set_ip (s, peers[i], "127.0.0.1");
  mero_gossipsub_score_set_ip (s, peers[0], "127.0.0.1");
  mero_gossipsub_score_set_ip (s, peers[1], "127.0.0.1");
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peers[0], 0), ==, 0);
  mero_gossipsub_score_free (g_steal_pointer (&s));

  p.ip_colocation_whitelist_loopback = FALSE;
  s = mero_gossipsub_score_new (&p, 0);
  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      g_autoptr(GBytes) k = key_of ((guint8) (i + 1));

      peers[i] = mero_gossipsub_score_add_peer (s, k, 0);
      mero_gossipsub_score_set_ip (s, peers[i], "::1");
    }
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peers[5], 0), -20, EPS);
}

/* P7: squared penalty above the threshold, decaying to zero. */
static void
test_p7_behaviour (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  mero_gossipsub_score_params_init (&p);
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  mero_gossipsub_score_add_penalty (s, peer, 3);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), -90, EPS);
  mero_gossipsub_score_refresh (s, SEC); /* 0.6 */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, SEC), -3.6, 1e-6);
  mero_gossipsub_score_refresh (s, 2 * SEC); /* 0.12 */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 2 * SEC), -0.144, 1e-6);
  mero_gossipsub_score_refresh (s, 3 * SEC); /* 0.024 < decay_to_zero */
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 3 * SEC), ==, 0);
}

/* One decay per elapsed interval, not per call. */
static void
test_decay_interval (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  params_silent (&p);
  p.topic.first_message_deliveries_weight = 1;
  p.topic.first_message_deliveries_decay = 0.5;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < 16; i++)
    mero_gossipsub_score_first_delivery (s, peer, TOPIC);
  mero_gossipsub_score_refresh (s, SEC / 2);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), 16, EPS);
  mero_gossipsub_score_refresh (s, SEC);
  mero_gossipsub_score_refresh (s, SEC + 1);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), 8, EPS);
  mero_gossipsub_score_refresh (s, 3 * SEC); /* two intervals */
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 0), 2, EPS);
}

/* A departed peer's counters are kept, undecayed, for retain_score: it
 * comes back with them; after that it starts afresh. */
static void
test_retained (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) k = key_of (1);
  MeroGossipsubPeerScore *peer;

  mero_gossipsub_score_params_init (&p);
  p.retain_score_us = 100 * SEC;
  s = mero_gossipsub_score_new (&p, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 0);
  for (guint i = 0; i < 13; i++)
    mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
  mero_gossipsub_score_remove_peer (s, peer, 0);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get_retained (s, k), -84.5, EPS);
  for (gint64 t = 1; t <= 50; t++)
    mero_gossipsub_score_refresh (s, t * SEC);
  peer = mero_gossipsub_score_add_peer (s, k, 50 * SEC);
  g_assert_cmpfloat_with_epsilon (mero_gossipsub_score_get (s, peer, 50 * SEC), -84.5, EPS);
  g_assert_cmpfloat (mero_gossipsub_score_get_retained (s, k), ==, 0); /* connected again */
  /* Connected, it decays. */
  mero_gossipsub_score_refresh (s, 51 * SEC);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 51 * SEC), >, -10);
  for (guint i = 0; i < 13; i++)
    mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
  mero_gossipsub_score_remove_peer (s, peer, 52 * SEC);
  mero_gossipsub_score_refresh (s, 152 * SEC);
  g_assert_cmpfloat (mero_gossipsub_score_get_retained (s, k), ==, 0);
  peer = mero_gossipsub_score_add_peer (s, k, 152 * SEC);
  g_assert_cmpfloat (mero_gossipsub_score_get (s, peer, 152 * SEC), ==, 0);
}

/* The retention table is bounded; a bad score still evicts. */
static void
test_retained_bound (void)
{
  MeroGossipsubScoreParams p;
  g_autoptr(MeroGossipsubScore) s = NULL;
  g_autoptr(GBytes) bad = key_of (0xff);
  MeroGossipsubPeerScore *peer;

  mero_gossipsub_score_params_init (&p);
  s = mero_gossipsub_score_new (&p, 0);
  for (guint i = 0; i < MERO_GOSSIPSUB_SCORE_MAX_RETAINED + 10; i++)
    {
      guint32 id = GUINT32_TO_BE (i);
      g_autoptr(GBytes) k = g_bytes_new (&id, sizeof id);

      peer = mero_gossipsub_score_add_peer (s, k, i);
      mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
      mero_gossipsub_score_remove_peer (s, peer, i);
    }
  peer = mero_gossipsub_score_add_peer (s, bad, 0);
  for (guint i = 0; i < 20; i++)
    mero_gossipsub_score_invalid_delivery (s, peer, TOPIC);
  mero_gossipsub_score_remove_peer (s, peer, G_USEC_PER_SEC);
  g_assert_cmpfloat (mero_gossipsub_score_get_retained (s, bad), <, -80);
  {
    guint32 first = GUINT32_TO_BE (0);
    g_autoptr(GBytes) k = g_bytes_new (&first, sizeof first);

    /* The one expiring first made room. */
    g_assert_cmpfloat (mero_gossipsub_score_get_retained (s, k), ==, 0);
  }
}

/* --- the router --- */

/* A valid message by the author with seed @fill on @topic. */
static MeroGossipsubMessage *
signed_message (guint8 fill, const char *topic, guint n)
{
  g_autoptr(MeroGossipsubRouter) author = gs_test_router (NULL, fill, 1, 0);
  g_autoptr(MeroPeerId) sink = gs_test_peer_id (0xee);
  g_autoptr(MeroGossipsubRpc) out = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autofree char *data = g_strdup_printf ("message %u", n);

  g_assert_true (mero_gossipsub_router_add_peer (author, sink, TRUE, 0));
  gs_test_feed_subscribe (author, sink, topic, TRUE, 0);
  for (guint i = 0; i <= n; i++)
    {
      g_clear_pointer (&id, g_bytes_unref);
      id = mero_gossipsub_router_publish (author, topic, (const guint8 *) data, strlen (data), 0,
                                          NULL);
      g_clear_pointer (&out, mero_gossipsub_rpc_free);
      out = gs_test_drain_for (author, sink);
    }
  g_assert_cmpuint (out->messages->len, ==, 1);
  return mero_gossipsub_message_copy (g_ptr_array_index (out->messages, 0));
}

/* @msg with its signature broken. */
static MeroGossipsubMessage *
forged (const MeroGossipsubMessage *msg)
{
  MeroGossipsubMessage *m = mero_gossipsub_message_copy (msg);
  gsize len;
  guint8 *sig = g_memdup2 (g_bytes_get_data (m->signature, &len), g_bytes_get_size (m->signature));

  sig[0] ^= 0x01;
  g_bytes_unref (m->signature);
  m->signature = g_bytes_new_take (sig, len);
  return m;
}

static void
feed_messages (MeroGossipsubRouter *r, const MeroPeerId *peer, const MeroGossipsubMessage *msg,
               guint n, gint64 now)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (rpc->messages, mero_gossipsub_message_copy (msg));
  gs_test_feed (r, peer, rpc, now);
}

static void
add_ihave (MeroGossipsubRpc *rpc, const char *topic, GPtrArray *ids)
{
  MeroGossipsubIHave *ih = g_new0 (MeroGossipsubIHave, 1);

  ih->topic = g_strdup (topic);
  ih->message_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < ids->len; i++)
    g_ptr_array_add (ih->message_ids, g_bytes_ref (g_ptr_array_index (ids, i)));
  g_ptr_array_add (rpc->ihave, ih);
}

static double
score_of (MeroGossipsubRouter *r, const MeroPeerId *peer, gint64 now)
{
  double score = G_MAXDOUBLE;

  g_assert_true (mero_gossipsub_router_get_peer_score (r, peer, now, &score));
  return score;
}

/* A bad-signature flood: 13 forgeries graylist the sender, the rest of
 * its RPC and its later RPCs are dropped without verifying a signature;
 * at the heartbeat it is handed over for disconnection, an honest peer
 * is not; its score is retained and it comes back graylisted. */
static void
test_router_graylist_flood (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) attacker = gs_test_peer_id (0x02);
  g_autoptr(MeroPeerId) honest = gs_test_peer_id (0x03);
  g_autoptr(MeroGossipsubMessage) good = signed_message (0x05, TOPIC, 0);
  g_autoptr(MeroGossipsubMessage) bad = forged (good);
  g_autoptr(MeroPeerId) out = NULL;
  const MeroGossipsubStats *stats = mero_gossipsub_router_get_stats (r);

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, attacker, FALSE, 0));
  g_assert_true (mero_gossipsub_router_add_peer (r, honest, FALSE, 0));
  gs_test_feed_subscribe (r, attacker, TOPIC, TRUE, 0);
  gs_test_feed_subscribe (r, honest, TOPIC, TRUE, 0);

  /* One RPC of 500 forgeries: 13 are verified, then it is graylisted. */
  feed_messages (r, attacker, bad, 500, 10);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 13);
  g_assert_cmpuint (stats->peers_graylisted, ==, 1);
  g_assert_cmpuint (stats->rpcs_ignored_graylist, ==, 1);
  g_assert_cmpfloat (score_of (r, attacker, 10), <, MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD);

  /* Later RPCs are not even decoded; a valid message in them is lost. */
  for (guint i = 0; i < 100; i++)
    feed_messages (r, attacker, bad, 10, 20);
  feed_messages (r, attacker, good, 1, 20);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 13);
  g_assert_cmpuint (stats->rpcs_ignored_graylist, ==, 102);
  g_assert_cmpuint (stats->peers_graylisted, ==, 1);
  g_assert_cmpuint (gs_test_count_deliveries (r), ==, 0);

  /* The honest peer's messages still go through. */
  feed_messages (r, honest, good, 1, 30);
  g_assert_cmpuint (gs_test_count_deliveries (r), ==, 1);
  g_assert_cmpfloat (score_of (r, honest, 30), >=, 0);

  g_assert_null (mero_gossipsub_router_pull_disconnect (r));
  mero_gossipsub_router_handle_deadline (r, SEC);
  out = mero_gossipsub_router_pull_disconnect (r);
  g_assert_nonnull (out);
  g_assert_true (mero_peer_id_equal (out, attacker));
  g_assert_null (mero_gossipsub_router_pull_disconnect (r));
  g_assert_cmpuint (stats->peers_disconnect_score, ==, 1);
  /* Not handed over twice while the host closes it. */
  mero_gossipsub_router_handle_deadline (r, 2 * SEC);
  g_assert_null (mero_gossipsub_router_pull_disconnect (r));

  /* Gone and back: its retained score graylists it at once. */
  mero_gossipsub_router_remove_peer (r, attacker);
  g_assert_cmpfloat (mero_gossipsub_router_get_retained_score (r, attacker), <,
                     MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD);
  g_assert_true (mero_gossipsub_router_add_peer (r, attacker, FALSE, 3 * SEC));
  feed_messages (r, attacker, bad, 10, 3 * SEC);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 13);
  g_assert_cmpuint (stats->peers_graylisted, ==, 2);
  mero_gossipsub_router_handle_deadline (r, 4 * SEC);
  g_clear_pointer (&out, mero_peer_id_free);
  out = mero_gossipsub_router_pull_disconnect (r);
  g_assert_nonnull (out);
  g_assert_true (mero_peer_id_equal (out, attacker));
}

/* GRAFTs ignoring our backoff cost P7: the third one graylists. */
static void
test_router_graft_backoff_penalty (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroGossipsubRpc) prune = mero_gossipsub_rpc_new ();
  g_autoptr(MeroGossipsubRpc) graft = mero_gossipsub_rpc_new ();
  g_autoptr(MeroGossipsubRpc) sink = NULL;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  gs_test_feed_subscribe (r, f, TOPIC, TRUE, 0);
  mero_gossipsub_rpc_add_prune (prune, TOPIC, TRUE, 60);
  gs_test_feed (r, f, prune, 0);
  g_ptr_array_add (graft->graft, g_strdup (TOPIC));
  gs_test_feed (r, f, graft, 1);
  g_assert_cmpfloat_with_epsilon (score_of (r, f, 1), -10, EPS);
  gs_test_feed (r, f, graft, 2);
  g_assert_cmpfloat_with_epsilon (score_of (r, f, 2), -40, EPS);
  gs_test_feed (r, f, graft, 3);
  g_assert_cmpfloat_with_epsilon (score_of (r, f, 3), -90, EPS);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF), ==, 3);
  gs_test_feed (r, f, graft, 4);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF), ==, 3);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->rpcs_ignored_graylist, ==, 1);
  sink = gs_test_drain_for (r, f);
}

/* Below the gossip threshold: its IHAVE is ignored and it gets none of
 * ours; below the publish threshold: our messages do not reach it. */
static void
test_router_thresholds (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) low = gs_test_peer_id (0x02);
  g_autoptr(MeroPeerId) ok = gs_test_peer_id (0x03);
  g_autoptr(MeroGossipsubMessage) good = signed_message (0x05, TOPIC, 0);
  g_autoptr(MeroGossipsubMessage) bad = forged (good);
  g_autoptr(MeroGossipsubRpc) ihave = mero_gossipsub_rpc_new ();
  g_autoptr(MeroGossipsubRpc) to_low = NULL;
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) id = NULL;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, low, FALSE, 0));
  g_assert_true (mero_gossipsub_router_add_peer (r, ok, FALSE, 0));
  gs_test_feed_subscribe (r, low, TOPIC, TRUE, 0);
  gs_test_feed_subscribe (r, ok, TOPIC, TRUE, 0);
  /* 11 forgeries: -60.5, below publish (-50), above graylist (-80). */
  feed_messages (r, low, bad, 11, 0);
  g_assert_cmpfloat_with_epsilon (score_of (r, low, 0), -60.5, EPS);
  g_clear_pointer (&to_low, mero_gossipsub_rpc_free);
  to_low = gs_test_drain_for (r, low);

  g_ptr_array_add (ids, g_bytes_new ("unknown-id", 10));
  add_ihave (ihave, TOPIC, ids);
  gs_test_feed (r, low, ihave, 0);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BELOW_GOSSIP_THRESHOLD), ==, 1);
  g_clear_pointer (&to_low, mero_gossipsub_rpc_free);
  to_low = gs_test_drain_for (r, low);
  g_assert_cmpuint (to_low->iwant->len, ==, 0);

  id = mero_gossipsub_router_publish (r, TOPIC, (const guint8 *) "x", 1, 0, NULL);
  g_assert_nonnull (id);
  mero_gossipsub_router_handle_deadline (r, SEC);
  /* The mesh takes non-negative peers only. */
  {
    g_autoptr(GPtrArray) mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);

    for (guint i = 0; i < mesh->len; i++)
      g_assert_false (mero_peer_id_equal (g_ptr_array_index (mesh, i), low));
  }
  {
    MeroPeerId *to = NULL;
    GBytes *wire;
    guint for_low = 0, for_ok = 0;

    while ((wire = mero_gossipsub_router_pull_rpc (r, &to)) != NULL)
      {
        g_autoptr(MeroGossipsubRpc) rpc =
          mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), NULL);

        if (mero_peer_id_equal (to, low))
          for_low += rpc->messages->len + rpc->ihave->len;
        else
          for_ok += rpc->messages->len;
        g_clear_pointer (&to, mero_peer_id_free);
        g_bytes_unref (wire);
      }
    g_assert_cmpuint (for_low, ==, 0);
    g_assert_cmpuint (for_ok, ==, 1);
  }
}

/* A mesh peer whose score turns negative is PRUNEd at the heartbeat. */
static void
test_router_prune_negative (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroGossipsubMessage) good = signed_message (0x05, TOPIC, 0);
  g_autoptr(MeroGossipsubMessage) bad = forged (good);
  g_autoptr(MeroGossipsubRpc) out = NULL;
  g_autoptr(GPtrArray) mesh = NULL;

  g_assert_true (mero_gossipsub_router_add_peer (r, f, TRUE, 0));
  gs_test_feed_subscribe (r, f, TOPIC, TRUE, 0);
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 1);
  g_clear_pointer (&out, mero_gossipsub_rpc_free);
  out = gs_test_drain_for (r, f);
  feed_messages (r, f, bad, 2, 0);
  mero_gossipsub_router_handle_deadline (r, SEC);
  g_clear_pointer (&mesh, g_ptr_array_unref);
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 0);
  g_clear_pointer (&out, mero_gossipsub_rpc_free);
  out = gs_test_drain_for (r, f);
  g_assert_true (gs_test_has_prune (out, TOPIC, NULL));
}

/* Oversubscribed: the D_score best stay, the rest are chosen at random. */
static void
test_router_trim_by_score (void)
{
  MeroGossipsubConfig config;
  g_autoptr(MeroGossipsubRouter) r = NULL;
  MeroPeerId *peers[4];
  g_autoptr(GPtrArray) mesh = NULL;
  g_autoptr(MeroGossipsubRpc) graft = mero_gossipsub_rpc_new ();

  mero_gossipsub_config_init (&config);
  config.d = 2;
  config.d_lo = 1;
  config.d_hi = 3;
  config.d_score = 2;
  config.d_out = 0;
  r = gs_test_router (&config, 0x01, 7, 0);
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_ptr_array_add (graft->graft, g_strdup (TOPIC));
  for (guint i = 0; i < 4; i++)
    {
      peers[i] = gs_test_peer_id ((guint8) (0x10 + i));
      /* Outbound, so a full mesh still takes their GRAFTs. */
      g_assert_true (mero_gossipsub_router_add_peer (r, peers[i], TRUE, 0));
      gs_test_feed_subscribe (r, peers[i], TOPIC, TRUE, 0);
      gs_test_feed (r, peers[i], graft, 0);
    }
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 4);
  /* Peers 2 and 3 deliver first: they score best. */
  for (guint i = 2; i < 4; i++)
    {
      g_autoptr(MeroGossipsubMessage) m = signed_message ((guint8) (0x30 + i), TOPIC, 0);

      feed_messages (r, peers[i], m, 1, 0);
    }
  mero_gossipsub_router_handle_deadline (r, SEC);
  g_clear_pointer (&mesh, g_ptr_array_unref);
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 2);
  for (guint i = 0; i < mesh->len; i++)
    g_assert_true (mero_peer_id_equal (g_ptr_array_index (mesh, i), peers[2]) ||
                   mero_peer_id_equal (g_ptr_array_index (mesh, i), peers[3]));
  for (guint i = 0; i < 4; i++)
    mero_peer_id_free (peers[i]);
}

/* Every opportunistic_graft_ticks heartbeats, a mesh with a median score
 * below the threshold grafts peers scoring above the median. */
static void
test_router_opportunistic_graft (void)
{
  MeroGossipsubConfig config;
  g_autoptr(MeroGossipsubRouter) r = NULL;
  MeroPeerId *peers[3];
  g_autoptr(GPtrArray) mesh = NULL;
  g_autoptr(MeroGossipsubRpc) out = NULL;
  MeroPeerId *outsider = NULL;

  mero_gossipsub_config_init (&config);
  config.d = 2;
  config.d_lo = 1;
  config.d_hi = 3;
  config.d_score = 1;
  config.d_out = 0;
  config.opportunistic_graft_ticks = 2;
  config.opportunistic_graft_peers = 1;
  r = gs_test_router (&config, 0x01, 3, 0);
  for (guint i = 0; i < 3; i++)
    {
      peers[i] = gs_test_peer_id ((guint8) (0x10 + i));
      g_assert_true (mero_gossipsub_router_add_peer (r, peers[i], FALSE, 0));
      gs_test_feed_subscribe (r, peers[i], TOPIC, TRUE, 0);
    }
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 2);
  for (guint i = 0; i < 3 && outsider == NULL; i++)
    if (!mero_peer_id_equal (g_ptr_array_index (mesh, 0), peers[i]) &&
        !mero_peer_id_equal (g_ptr_array_index (mesh, 1), peers[i]))
      outsider = peers[i];
  g_assert_nonnull (outsider);
  /* The first heartbeat is not an opportunistic one. */
  mero_gossipsub_router_handle_deadline (r, SEC);
  for (guint n = 0; n < 20; n++)
    {
      g_autoptr(MeroGossipsubMessage) m = signed_message (0x40, TOPIC, n);

      feed_messages (r, outsider, m, 1, SEC);
    }
  g_clear_pointer (&out, mero_gossipsub_rpc_free);
  out = gs_test_drain_for (r, outsider);
  g_assert_cmpuint (out->graft->len, ==, 0);
  mero_gossipsub_router_handle_deadline (r, 2 * SEC);
  g_clear_pointer (&mesh, g_ptr_array_unref);
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 3);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->opportunistic_grafts, ==, 1);
  g_clear_pointer (&out, mero_gossipsub_rpc_free);
  out = gs_test_drain_for (r, outsider);
  g_assert_cmpuint (out->graft->len, ==, 1);
  for (guint i = 0; i < 3; i++)
    mero_peer_id_free (peers[i]);
}

/* An IHAVE we answer with IWANT is a promise: not kept within the
 * follow-up time, it costs P7; kept, nothing. */
static void
test_router_broken_promise (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) liar = gs_test_peer_id (0x02);
  g_autoptr(MeroPeerId) honest = gs_test_peer_id (0x03);
  g_autoptr(MeroGossipsubMessage) m1 = signed_message (0x05, TOPIC, 1);
  g_autoptr(MeroGossipsubMessage) m2 = signed_message (0x05, TOPIC, 2);
  g_autoptr(GBytes) id1 = mero_gossipsub_message_id (m1);
  g_autoptr(GBytes) id2 = mero_gossipsub_message_id (m2);
  g_autoptr(MeroGossipsubRpc) out = NULL;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, liar, FALSE, 0));
  g_assert_true (mero_gossipsub_router_add_peer (r, honest, FALSE, 0));
  for (guint i = 0; i < 2; i++)
    {
      const MeroPeerId *p = i == 0 ? liar : honest;
      g_autoptr(MeroGossipsubRpc) ihave = mero_gossipsub_rpc_new ();
      g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

      gs_test_feed_subscribe (r, p, TOPIC, TRUE, 0);
      g_ptr_array_add (ids, g_bytes_ref (i == 0 ? id1 : id2));
      add_ihave (ihave, TOPIC, ids);
      gs_test_feed (r, p, ihave, 0);
      g_clear_pointer (&out, mero_gossipsub_rpc_free);
      out = gs_test_drain_for (r, p);
      g_assert_cmpuint (out->iwant->len, ==, 1);
    }
  feed_messages (r, honest, m2, 1, SEC);
  mero_gossipsub_router_handle_deadline (r, SEC);
  mero_gossipsub_router_handle_deadline (r, 2 * SEC);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->broken_promises, ==, 0);
  mero_gossipsub_router_handle_deadline (r, 3 * SEC);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->broken_promises, ==, 1);
  /* Penalty 1 decayed once by the same heartbeat: 0.2² × -10. */
  g_assert_cmpfloat_with_epsilon (score_of (r, liar, 3 * SEC), -0.4, 1e-6);
  g_assert_cmpfloat (score_of (r, honest, 3 * SEC), >=, 0);
}

/* Messages the application rejects count as invalid (P4) for the peer
 * that delivered them: 13 graylist it; unknown topics and peers are
 * ignored. */
static void
test_router_reject_message (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroPeerId) stranger = gs_test_peer_id (0x09);
  g_autoptr(MeroGossipsubMessage) good = signed_message (0x05, TOPIC, 0);

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  mero_gossipsub_router_reject_message (r, f, "not-ours", 0);
  mero_gossipsub_router_reject_message (r, stranger, TOPIC, 0);
  g_assert_cmpfloat (score_of (r, f, 0), ==, 0);
  for (guint i = 0; i < 12; i++)
    mero_gossipsub_router_reject_message (r, f, TOPIC, 0);
  g_assert_cmpfloat_with_epsilon (score_of (r, f, 0), -72, EPS);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->peers_graylisted, ==, 0);
  mero_gossipsub_router_reject_message (r, f, TOPIC, 0);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->messages_rejected, ==, 13);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->peers_graylisted, ==, 1);
  feed_messages (r, f, good, 1, 0);
  g_assert_cmpuint (gs_test_count_deliveries (r), ==, 0);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->rpcs_ignored_graylist, ==, 1);
}

/* P6 through the router: the host's IP reaches the score. */
static void
test_router_ip_colocation (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  MeroPeerId *peers[12];

  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    {
      peers[i] = gs_test_peer_id ((guint8) (0x10 + i));
      g_assert_true (mero_gossipsub_router_add_peer (r, peers[i], FALSE, 0));
      mero_gossipsub_router_set_peer_ip (r, peers[i], i < 11 ? "203.0.113.9" : "127.0.0.1");
    }
  g_assert_cmpfloat_with_epsilon (score_of (r, peers[0], 0), -5, EPS);
  g_assert_cmpfloat (score_of (r, peers[11], 0), ==, 0);
  for (guint i = 0; i < G_N_ELEMENTS (peers); i++)
    mero_peer_id_free (peers[i]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/net/gossipsub-score/defaults", test_defaults);
  g_test_add_func ("/net/gossipsub-score/p1-time-in-mesh", test_p1_time_in_mesh);
  g_test_add_func ("/net/gossipsub-score/p2-first-deliveries", test_p2_first_deliveries);
  g_test_add_func ("/net/gossipsub-score/p3-mesh-deliveries", test_p3_mesh_deliveries);
  g_test_add_func ("/net/gossipsub-score/p4-invalid", test_p4_invalid);
  g_test_add_func ("/net/gossipsub-score/topic-bound", test_topic_bound);
  g_test_add_func ("/net/gossipsub-score/p6-ip-colocation", test_p6_ip_colocation);
  g_test_add_func ("/net/gossipsub-score/p7-behaviour", test_p7_behaviour);
  g_test_add_func ("/net/gossipsub-score/decay-interval", test_decay_interval);
  g_test_add_func ("/net/gossipsub-score/retained", test_retained);
  g_test_add_func ("/net/gossipsub-score/retained-bound", test_retained_bound);
  g_test_add_func ("/net/gossipsub-score/router-graylist-flood", test_router_graylist_flood);
  g_test_add_func ("/net/gossipsub-score/router-graft-backoff-penalty",
                   test_router_graft_backoff_penalty);
  g_test_add_func ("/net/gossipsub-score/router-thresholds", test_router_thresholds);
  g_test_add_func ("/net/gossipsub-score/router-prune-negative", test_router_prune_negative);
  g_test_add_func ("/net/gossipsub-score/router-trim-by-score", test_router_trim_by_score);
  g_test_add_func ("/net/gossipsub-score/router-opportunistic-graft", test_router_opportunistic_graft);
  g_test_add_func ("/net/gossipsub-score/router-broken-promise", test_router_broken_promise);
  g_test_add_func ("/net/gossipsub-score/router-ip-colocation", test_router_ip_colocation);
  g_test_add_func ("/net/gossipsub-score/router-reject-message", test_router_reject_message);
  return g_test_run ();
}
