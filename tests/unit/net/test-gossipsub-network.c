/* A simulated gossipsub network: N routers on a random graph exchanging
 * RPCs through an in-memory scheduler, with integer time and fixed seeds,
 * so every run is the same. */
#include "test-gossipsub-util.h"

#define TOPIC "net-topic"
#define MAX_NODES 24

typedef struct
{
  guint n;
  MeroGossipsubRouter *r[MAX_NODES];
  MeroPeerId *id[MAX_NODES];
  gboolean link[MAX_NODES][MAX_NODES];
  GPtrArray *delivered[MAX_NODES]; /* MeroGossipsubDelivery */
  gint64 now;
} Net;

static Net *
net_new (guint n, const MeroGossipsubConfig *config, guint64 seed)
{
  Net *net = g_new0 (Net, 1);

  g_assert_cmpuint (n, <=, MAX_NODES);
  net->n = n;
  for (guint i = 0; i < n; i++)
    {
      net->r[i] = gs_test_router (config, (guint8) (0x20 + i), seed * 1000 + i, 0);
      net->id[i] = mero_peer_id_copy (mero_gossipsub_router_get_peer_id (net->r[i]));
      net->delivered[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_gossipsub_delivery_free);
    }
  return net;
}

static void
net_free (Net *net)
{
  for (guint i = 0; i < net->n; i++)
    {
      mero_gossipsub_router_free (net->r[i]);
      mero_peer_id_free (net->id[i]);
      g_ptr_array_unref (net->delivered[i]);
    }
  g_free (net);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Net, net_free)

static void
net_connect (Net *net, guint a, guint b)
{
  if (a == b || net->link[a][b])
    return;
  net->link[a][b] = net->link[b][a] = TRUE;
  /* a dialled b. */
  g_assert_true (mero_gossipsub_router_add_peer (net->r[a], net->id[b], TRUE, net->now));
  g_assert_true (mero_gossipsub_router_add_peer (net->r[b], net->id[a], FALSE, net->now));
}

static void
net_disconnect (Net *net, guint a, guint b)
{
  net->link[a][b] = net->link[b][a] = FALSE;
  mero_gossipsub_router_remove_peer (net->r[a], net->id[b]);
  mero_gossipsub_router_remove_peer (net->r[b], net->id[a]);
}

/* A ring (so the graph is connected) plus @extra random links per node. */
static void
net_connect_random (Net *net, guint extra, guint32 seed)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (seed);

  for (guint i = 0; i < net->n; i++)
    net_connect (net, i, (i + 1) % net->n);
  for (guint i = 0; i < net->n; i++)
    for (guint k = 0; k < extra; k++)
      net_connect (net, i, (guint) g_rand_int_range (rand, 0, (gint32) net->n));
}

static guint
net_index (Net *net, const MeroPeerId *peer)
{
  for (guint i = 0; i < net->n; i++)
    if (mero_peer_id_equal (net->id[i], peer))
      return i;
  g_assert_not_reached ();
}

/* Moves RPCs until every router is quiet. */
static void
net_pump (Net *net)
{
  gboolean busy = TRUE;
  guint rounds = 0;

  while (busy)
    {
      busy = FALSE;
      g_assert_cmpuint (++rounds, <, 10000);
      for (guint i = 0; i < net->n; i++)
        {
          GBytes *wire;
          MeroPeerId *to = NULL;

          while ((wire = mero_gossipsub_router_pull_rpc (net->r[i], &to)) != NULL)
            {
              guint j = net_index (net, to);
              g_autoptr(GError) error = NULL;

              busy = TRUE;
              g_assert_true (net->link[i][j]);
              g_assert_true (mero_gossipsub_router_receive (net->r[j], net->id[i],
                                                            g_bytes_get_data (wire, NULL),
                                                            g_bytes_get_size (wire), net->now,
                                                            &error));
              g_assert_no_error (error);
              g_clear_pointer (&to, mero_peer_id_free);
              g_bytes_unref (wire);
            }
        }
    }
  for (guint i = 0; i < net->n; i++)
    {
      MeroGossipsubDelivery *d;

      while ((d = mero_gossipsub_router_pull_delivery (net->r[i])) != NULL)
        g_ptr_array_add (net->delivered[i], d);
    }
}

/* Advances time one second at a time, running due heartbeats. */
static void
net_run (Net *net, guint seconds)
{
  for (guint s = 0; s < seconds; s++)
    {
      net->now += SEC;
      for (guint i = 0; i < net->n; i++)
        {
          g_assert_cmpint (mero_gossipsub_router_next_deadline (net->r[i]), <=, net->now);
          mero_gossipsub_router_handle_deadline (net->r[i], net->now);
          g_assert_cmpint (mero_gossipsub_router_next_deadline (net->r[i]), >, net->now);
        }
      net_pump (net);
    }
}

static void
net_subscribe_all (Net *net, const char *topic)
{
  for (guint i = 0; i < net->n; i++)
    g_assert_true (mero_gossipsub_router_subscribe (net->r[i], topic, net->now, NULL));
  net_pump (net);
}

static guint
net_degree (Net *net, guint i)
{
  guint d = 0;

  for (guint j = 0; j < net->n; j++)
    d += net->link[i][j];
  return d;
}

static guint
mesh_size (Net *net, guint i, const char *topic)
{
  g_autoptr(GPtrArray) mesh = mero_gossipsub_router_get_mesh_peers (net->r[i], topic);

  return mesh->len;
}

/* How many times node @i got the message with @id. */
static guint
times_delivered (Net *net, guint i, GBytes *id)
{
  guint n = 0;

  for (guint k = 0; k < net->delivered[i]->len; k++)
    n += g_bytes_equal (((MeroGossipsubDelivery *) g_ptr_array_index (net->delivered[i], k))->id, id);
  return n;
}

static GBytes *
net_publish (Net *net, guint i, const char *topic, const char *data)
{
  g_autoptr(GError) error = NULL;
  GBytes *id = mero_gossipsub_router_publish (net->r[i], topic, (const guint8 *) data, strlen (data),
                                              net->now, &error);

  g_assert_no_error (error);
  net_pump (net);
  return id;
}

static void
assert_mesh_converged (Net *net, const char *topic)
{
  for (guint i = 0; i < net->n; i++)
    {
      guint m = mesh_size (net, i, topic);

      g_assert_cmpuint (m, <=, MERO_GOSSIPSUB_DEFAULT_D_HI);
      g_assert_cmpuint (m, >=, MIN (MERO_GOSSIPSUB_DEFAULT_D_LO, net_degree (net, i)));
    }
}

/* Every message reaches every subscriber exactly once, whether sent by
 * flood publish or through the mesh alone, and the mesh stays within
 * [D_lo, D_hi]. */
static void
run_delivery (gboolean flood_publish, guint64 seed)
{
  MeroGossipsubConfig config;
  g_autoptr(Net) net = NULL;
  guint64 duplicates = 0;

  mero_gossipsub_config_init (&config);
  config.flood_publish = flood_publish;
  net = net_new (20, &config, seed);
  net_connect_random (net, 6, (guint32) seed);
  net_subscribe_all (net, TOPIC);
  net_run (net, 5);
  assert_mesh_converged (net, TOPIC);

  for (guint p = 0; p < net->n; p++)
    {
      g_autofree char *data = g_strdup_printf ("message %u", p);
      g_autoptr(GBytes) id = net_publish (net, p, TOPIC, data);

      for (guint i = 0; i < net->n; i++)
        g_assert_cmpuint (times_delivered (net, i, id), ==, i == p ? 0 : 1);
    }
  for (guint i = 0; i < net->n; i++)
    {
      MeroGossipsubDelivery *d = g_ptr_array_index (net->delivered[i], 0);

      g_assert_cmpuint (net->delivered[i]->len, ==, net->n - 1);
      g_assert_cmpstr (d->topic, ==, TOPIC);
      duplicates += gs_test_drops (net->r[i], MERO_GOSSIPSUB_DROP_DUPLICATE);
      /* Honest peers produce no invalid or lost messages. */
      for (guint k = MERO_GOSSIPSUB_DROP_RPC_MALFORMED; k <= MERO_GOSSIPSUB_DROP_SEND_QUEUE_FULL; k++)
        if (k != MERO_GOSSIPSUB_DROP_DUPLICATE)
          g_assert_cmpuint (gs_test_drops (net->r[i], k), ==, 0);
    }
  /* Redundant paths exist, and the seen cache removed what they carried. */
  g_assert_cmpuint (duplicates, >, 0);

  /* Meshes stay in range while time passes, and gossip about old
   * messages delivers nothing twice. */
  net_run (net, 10);
  assert_mesh_converged (net, TOPIC);
  for (guint i = 0; i < net->n; i++)
    g_assert_cmpuint (net->delivered[i]->len, ==, net->n - 1);
}

static void
test_delivery_flood (void)
{
  run_delivery (TRUE, 1);
  run_delivery (TRUE, 2);
}

static void
test_delivery_mesh (void)
{
  run_delivery (FALSE, 3);
  run_delivery (FALSE, 4);
}

/* A well connected node (all 20 peers) is grafted by many; its mesh is
 * trimmed back into [D_lo, D_hi] and the others' meshes are refilled. */
static void
test_mesh_converges (void)
{
  g_autoptr(Net) net = net_new (MAX_NODES, NULL, 5);

  for (guint i = 0; i < net->n; i++)
    for (guint j = i + 1; j < net->n; j++)
      net_connect (net, i, j);
  net_subscribe_all (net, TOPIC);
  net_run (net, 3);
  assert_mesh_converged (net, TOPIC);
  for (guint i = 0; i < net->n; i++)
    g_assert_cmpuint (mesh_size (net, i, TOPIC), >=, MERO_GOSSIPSUB_DEFAULT_D_LO);
}

/* A peer that unsubscribes is PRUNEd from meshes and gets nothing more;
 * when it rejoins, the backoffs keep it out of the meshes it left until
 * they end, and then it is grafted and receives again. */
static void
test_unsubscribe (void)
{
  g_autoptr(Net) net = net_new (4, NULL, 6);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GBytes) back = NULL;
  guint rejoined_at = 0;

  for (guint i = 0; i < net->n; i++)
    for (guint j = i + 1; j < net->n; j++)
      net_connect (net, i, j);
  net_subscribe_all (net, TOPIC);
  net_run (net, 2);
  g_assert_cmpuint (mesh_size (net, 0, TOPIC), ==, 3);

  before = net_publish (net, 1, TOPIC, "before");
  g_assert_cmpuint (times_delivered (net, 3, before), ==, 1);

  mero_gossipsub_router_unsubscribe (net->r[3], TOPIC, net->now);
  net_pump (net);
  for (guint i = 0; i < 3; i++)
    {
      g_auto(GStrv) topics = mero_gossipsub_router_get_peer_topics (net->r[i], net->id[3]);

      g_assert_cmpuint (mesh_size (net, i, TOPIC), ==, 2);
      g_assert_cmpuint (g_strv_length (topics), ==, 0);
      /* Node 3's PRUNE asked for the unsubscribe backoff. */
      g_assert_true (mero_gossipsub_router_in_backoff (net->r[i], TOPIC, net->id[3], net->now));
    }
  after = net_publish (net, 1, TOPIC, "after");
  g_assert_cmpuint (times_delivered (net, 3, after), ==, 0);
  g_assert_cmpuint (gs_test_drops (net->r[3], MERO_GOSSIPSUB_DROP_NOT_SUBSCRIBED), ==, 0);
  g_assert_cmpuint (times_delivered (net, 0, after), ==, 1);

  /* Rejoin at once: node 3 must not GRAFT the peers it PRUNEd for the
   * 10 s backoff + 1 heartbeat. */
  g_assert_true (mero_gossipsub_router_subscribe (net->r[3], TOPIC, net->now, NULL));
  net_pump (net);
  g_assert_cmpuint (mesh_size (net, 3, TOPIC), ==, 0);
  for (guint s = 1; s <= 15 && rejoined_at == 0; s++)
    {
      net_run (net, 1);
      for (guint i = 0; i < 3; i++)
        g_assert_cmpuint (gs_test_drops (net->r[i], MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF), ==, 0);
      if (mesh_size (net, 3, TOPIC) > 0)
        rejoined_at = s;
    }
  g_assert_cmpuint (rejoined_at, ==, MERO_GOSSIPSUB_DEFAULT_UNSUBSCRIBE_BACKOFF_S + 1);
  back = net_publish (net, 1, TOPIC, "back");
  g_assert_cmpuint (times_delivered (net, 3, back), ==, 1);
}

/* D = D_lo = D_hi = 1 and no flood publish: node 0, connected to 1 and
 * 2, keeps one of them in its mesh and PRUNEs the other, which then
 * misses 0's message and gets it through IHAVE/IWANT at the next
 * heartbeat, exactly once. */
static void
test_gossip_repair (void)
{
  MeroGossipsubConfig config;
  g_autoptr(Net) net = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autoptr(GPtrArray) mesh = NULL;
  guint inside, outside;

  mero_gossipsub_config_init (&config);
  config.flood_publish = FALSE;
  config.d = config.d_lo = config.d_hi = 1;
  net = net_new (3, &config, 7);
  net_connect (net, 0, 1);
  net_connect (net, 0, 2);
  net_subscribe_all (net, TOPIC);
  net_run (net, 2);
  mesh = mero_gossipsub_router_get_mesh_peers (net->r[0], TOPIC);
  g_assert_cmpuint (mesh->len, ==, 1);
  inside = net_index (net, g_ptr_array_index (mesh, 0));
  outside = inside == 1 ? 2 : 1;
  g_assert_cmpuint (mesh_size (net, outside, TOPIC), ==, 0);

  id = net_publish (net, 0, TOPIC, "repair me");
  g_assert_cmpuint (times_delivered (net, inside, id), ==, 1);
  g_assert_cmpuint (times_delivered (net, outside, id), ==, 0);

  net_run (net, 1);
  g_assert_cmpuint (times_delivered (net, outside, id), ==, 1);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (net->r[0])->iwant_replies, ==, 1);

  /* Later gossip about it is ignored (already seen): no second copy. */
  net_run (net, 3);
  g_assert_cmpuint (times_delivered (net, outside, id), ==, 1);
  g_assert_cmpuint (mero_gossipsub_router_get_stats (net->r[0])->iwant_replies, ==, 1);
}

/* A peer that leaves is dropped from meshes; the hole is refilled at the
 * next heartbeat. */
static void
test_disconnect (void)
{
  g_autoptr(Net) net = net_new (8, NULL, 8);
  g_autoptr(GBytes) id = NULL;

  for (guint i = 0; i < net->n; i++)
    for (guint j = i + 1; j < net->n; j++)
      net_connect (net, i, j);
  net_subscribe_all (net, TOPIC);
  net_run (net, 2);
  for (guint j = 1; j < net->n; j++)
    net_disconnect (net, 0, j);
  for (guint i = 1; i < net->n; i++)
    {
      g_autoptr(GPtrArray) mesh = mero_gossipsub_router_get_mesh_peers (net->r[i], TOPIC);

      for (guint k = 0; k < mesh->len; k++)
        g_assert_false (mero_peer_id_equal (g_ptr_array_index (mesh, k), net->id[0]));
    }
  net_run (net, 1);
  assert_mesh_converged (net, TOPIC);
  id = net_publish (net, 1, TOPIC, "still here");
  for (guint i = 2; i < net->n; i++)
    g_assert_cmpuint (times_delivered (net, i, id), ==, 1);
  g_assert_cmpuint (times_delivered (net, 0, id), ==, 0);
}

/* Same seeds, same run: the stats of two runs are identical. */
static void
test_deterministic (void)
{
  MeroGossipsubStats stats[2][10];

  for (guint run = 0; run < 2; run++)
    {
      g_autoptr(Net) net = net_new (10, NULL, 9);

      net_connect_random (net, 3, 9);
      net_subscribe_all (net, TOPIC);
      net_run (net, 3);
      for (guint p = 0; p < net->n; p++)
        g_bytes_unref (net_publish (net, p, TOPIC, "same"));
      net_run (net, 3);
      for (guint i = 0; i < net->n; i++)
        stats[run][i] = *mero_gossipsub_router_get_stats (net->r[i]);
    }
  g_assert_cmpmem (stats[0], sizeof stats[0], stats[1], sizeof stats[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/net/gossipsub-network/delivery-flood", test_delivery_flood);
  g_test_add_func ("/net/gossipsub-network/delivery-mesh", test_delivery_mesh);
  g_test_add_func ("/net/gossipsub-network/mesh-converges", test_mesh_converges);
  g_test_add_func ("/net/gossipsub-network/unsubscribe", test_unsubscribe);
  g_test_add_func ("/net/gossipsub-network/gossip-repair", test_gossip_repair);
  g_test_add_func ("/net/gossipsub-network/disconnect", test_disconnect);
  g_test_add_func ("/net/gossipsub-network/deterministic", test_deterministic);
  return g_test_run ();
}
