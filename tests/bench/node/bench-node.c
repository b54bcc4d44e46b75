/* bench-node.c: three merod nodes sharing a kv context against the gossip
 * they ride on, measured in the same run.
 *
 *   bench-node [WRITES] [SECONDS] [MESSAGE_BYTES]
 *     WRITES: one-at-a-time writes for the latency figures (default 200)
 *     SECONDS: length of each throughput phase (default 3)
 *     MESSAGE_BYTES: gossip baseline message size (default 560: the
 *       signed, encrypted StateDelta of one small kv set measured 531-568
 *       bytes on the wire)
 *
 * Node figures: three real merod processes on 127.0.0.1 and one private
 * bus; A creates the context and invites B and C, which join (so A is the
 * hub, B and C dialled it).
 *   write-to-visible latency: a kv set sent to A over D-Bus, until both B
 *     and C have emitted StateChanged with A's new root (signal arrival in
 *     this process); one write at a time; p50/p99.
 *   sustained writes/s: for SECONDS, every node keeps WINDOW kv sets in
 *     flight (different keys); the rate is writes / time until all three
 *     roots are equal after the last write returned.
 * Gossip baseline: the same star (B and C dial A) of three MeroNetwork
 * instances in this process, one topic, MESSAGE_BYTES messages published
 * by A: one at a time until both B and C received it (p50/p99), and a
 * window-limited burst (msg/s at the slower receiver).
 * Ratios: node/gossip latency (how much context machinery costs per
 * write) and gossip/node throughput. */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "mero-test-cluster.h"
#include "mero-test-net-node.h"
#include "mero-test-stats.h"
#include "net/transport/mero-network.h"

#define TOPIC "bench-node"
#define HEADER_LEN 16
#define MESH_WAIT_US (20 * G_USEC_PER_SEC)
#define GOSSIP_WINDOW 64
/* Writes in flight per node in the throughput phase. */
#define NODE_WINDOW 8
#define CONVERGE_TIMEOUT_MS 60000

/* ---- gossip baseline -------------------------------------------------- */

typedef struct {
  MeroTestNetNode base;  /* first: what mero_test_net_node_start fills */
  guint64 received;   /* distinct messages */
  guint64 last_seq;
} GossipNode;

static void
on_gossip_event (MeroNetEvent *event, gpointer data)
{
  GossipNode *node = data;

  if (event->type == MERO_NET_EVENT_MESSAGE && g_bytes_get_size (event->data) >= HEADER_LEN)
    {
      guint64 seq;

      memcpy (&seq, g_bytes_get_data (event->data, NULL), 8);
      node->received++;
      node->last_seq = seq;
    }
  mero_net_event_free (event);
}

static guint64
min_received (GossipNode *nodes)
{
  return MIN (nodes[1].received, nodes[2].received);
}

static void
gossip_publish (GossipNode *a, gsize size, guint64 seq)
{
  g_autofree guint8 *buf = g_malloc0 (size);
  g_autoptr (GBytes) data = NULL;
  g_autoptr (GError) error = NULL;
  gint64 now = g_get_monotonic_time ();

  memcpy (buf, &seq, 8);
  memcpy (buf + 8, &now, 8);
  data = g_bytes_new_take (g_steal_pointer (&buf), size);
  if (!mero_network_publish (a->base.net, TOPIC, data, &error))
    g_error ("publish: %s", error->message);
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

typedef struct {
  gint64 p50, p99;
  double per_sec;
  guint64 missing;
} Figures;

static void
run_gossip (guint writes, double secs, gsize size, Figures *out)
{
  GossipNode nodes[3] = { 0 };
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  guint tick = g_timeout_add (2, wake, NULL);
  guint64 seq = 0, published, start_recv;
  gint64 until, start, end;

  for (guint i = 0; i < 3; i++)
    mero_test_net_node_start (&nodes[i].base, (guint8) (0x60 + i), TOPIC, on_gossip_event,
                              &nodes[i]);
  /* The star of the node run: B and C dial A. */
  for (guint i = 1; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *addr =
          g_strdup_printf ("%s/p2p/%s", nodes[0].base.addrs[0], nodes[0].base.peer_id);

      if (!mero_network_dial (nodes[i].base.net, addr, &error))
        g_error ("dial: %s", error->message);
    }
  until = g_get_monotonic_time () + MESH_WAIT_US;
  while (mero_network_get_topic_peer_count (nodes[0].base.net, TOPIC) < 2
         || mero_network_get_topic_peer_count (nodes[1].base.net, TOPIC) < 1
         || mero_network_get_topic_peer_count (nodes[2].base.net, TOPIC) < 1)
    {
      if (g_get_monotonic_time () > until)
        g_error ("the gossip star did not form");
      g_main_context_iteration (NULL, TRUE);
    }

  /* One at a time: until both B and C have it. */
  for (guint i = 0; i < writes; i++)
    {
      guint64 want = min_received (nodes) + 1;
      gint64 t0 = g_get_monotonic_time (), latency;

      gossip_publish (&nodes[0], size, seq++);
      until = t0 + 5 * G_USEC_PER_SEC;
      while (min_received (nodes) < want && g_get_monotonic_time () < until)
        g_main_context_iteration (NULL, TRUE);
      if (min_received (nodes) < want)
        {
          out->missing++;
          continue;
        }
      latency = g_get_monotonic_time () - t0;
      g_array_append_val (samples, latency);
    }
  mero_test_sort_i64 (samples);
  out->p50 = mero_test_percentile_i64 (samples, 0.5);
  out->p99 = mero_test_percentile_i64 (samples, 0.99);

  /* Burst: at most GOSSIP_WINDOW in flight to the slower receiver. */
  start_recv = min_received (nodes);
  published = 0;
  start = g_get_monotonic_time ();
  end = start + (gint64) (secs * G_USEC_PER_SEC);
  while (g_get_monotonic_time () < end)
    {
      while (published - (min_received (nodes) - start_recv) < GOSSIP_WINDOW
             && g_get_monotonic_time () < end)
        {
          gossip_publish (&nodes[0], size, seq++);
          published++;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  until = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  while (min_received (nodes) - start_recv < published && g_get_monotonic_time () < until)
    g_main_context_iteration (NULL, TRUE);
  end = g_get_monotonic_time ();
  out->per_sec = (min_received (nodes) - start_recv) / ((end - start) / (double) G_USEC_PER_SEC);
  out->missing += published - (min_received (nodes) - start_recv);
  for (guint i = 0; i < 3; i++)
    mero_test_net_node_stop (&nodes[i].base);
  g_source_remove (tick);
}

/* ---- three merod ------------------------------------------------------ */

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *nodes[3];
  const char *context_id;
} NodeBench;

typedef struct {
  NodeBench *b;
  const char *root;
} RootWait;

static gboolean
b_and_c_have (gpointer data)
{
  RootWait *w = data;

  for (guint i = 1; i < 3; i++)
    if (g_strcmp0 (mero_test_node_last_root (w->b->cluster, w->b->nodes[i], w->b->context_id,
                                             NULL, NULL),
                   w->root)
        != 0)
      return FALSE;
  return TRUE;
}

typedef struct {
  NodeBench *b;
  guint count;
} CountWait;

static gboolean
a_signalled (gpointer data)
{
  CountWait *w = data;
  guint count;

  mero_test_node_last_root (w->b->cluster, w->b->nodes[0], w->b->context_id, NULL, &count);
  return count >= w->count;
}

static void
node_latency (NodeBench *b, guint writes, Figures *out)
{
  g_autoptr (GArray) samples = g_array_new (FALSE, FALSE, sizeof (gint64));

  for (guint i = 0; i < writes; i++)
    {
      g_autofree char *key = g_strdup_printf ("latency-%05u", i);
      g_autofree char *value = g_strdup_printf ("%u", i);
      CountWait signalled = { b, 0 };
      RootWait visible = { b, NULL };
      gint64 t0, at_b, at_c, latency;

      mero_test_node_last_root (b->cluster, b->nodes[0], b->context_id, NULL, &signalled.count);
      signalled.count++;
      t0 = g_get_monotonic_time ();
      mero_test_node_kv_set (b->cluster, b->nodes[0], b->context_id, key, value);
      /* A's own StateChanged names the root B and C must reach. */
      if (!mero_test_wait_until (a_signalled, &signalled, MERO_TEST_TIMEOUT_MS))
        g_error ("A emitted no StateChanged for its write");
      visible.root =
          mero_test_node_last_root (b->cluster, b->nodes[0], b->context_id, NULL, NULL);
      if (!mero_test_wait_until (b_and_c_have, &visible, MERO_TEST_TIMEOUT_MS))
        {
          out->missing++;
          continue;
        }
      mero_test_node_last_root (b->cluster, b->nodes[1], b->context_id, &at_b, NULL);
      mero_test_node_last_root (b->cluster, b->nodes[2], b->context_id, &at_c, NULL);
      latency = MAX (at_b, at_c) - t0;
      g_array_append_val (samples, latency);
    }
  mero_test_sort_i64 (samples);
  out->p50 = mero_test_percentile_i64 (samples, 0.5);
  out->p99 = mero_test_percentile_i64 (samples, 0.99);
}

typedef struct {
  NodeBench *b;
  guint node;
  guint in_flight[3];
  guint64 done, failed, next_key;
} Writers;

static void write_next (Writers *w, guint node);

static void
on_write_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gpointer *slot = user_data;
  Writers *w = slot[0];
  guint node = GPOINTER_TO_UINT (slot[1]);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result, &error);

  g_free (slot);
  w->in_flight[node]--;
  if (reply == NULL)
    {
      if (w->failed++ == 0)
        g_printerr ("a write failed: %s\n", error->message);
    }
  else
    w->done++;
}

static void
write_next (Writers *w, guint node)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"burst-%s-%06" G_GUINT64_FORMAT "\","
                                           "\"value\":%" G_GUINT64_FORMAT "}",
                                           w->b->nodes[node]->label, w->next_key, w->next_key);
  gpointer *slot = g_new (gpointer, 2);

  w->next_key++;
  slot[0] = w;
  slot[1] = GUINT_TO_POINTER (node);
  w->in_flight[node]++;
  g_dbus_connection_call (mero_test_cluster_get_connection (w->b->cluster),
                          w->b->nodes[node]->bus_name, "/network/calimero/Node1",
                          "network.calimero.Node1", "Call",
                          g_variant_new ("(sss)", w->b->context_id, "set", args),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS,
                          NULL, on_write_done, slot);
}

static gboolean
none_in_flight (gpointer data)
{
  Writers *w = data;

  return w->in_flight[0] + w->in_flight[1] + w->in_flight[2] == 0;
}

static gboolean
all_roots_equal (gpointer data)
{
  NodeBench *b = data;
  g_autofree char *first = NULL;

  /* Polls GetContextInfo: the signals may lag a little behind. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *root = mero_test_node_root (b->cluster, b->nodes[i], b->context_id);

      if (first == NULL)
        first = g_steal_pointer (&root);
      else if (!g_str_equal (first, root))
        return FALSE;
    }
  return TRUE;
}

static void
node_throughput (NodeBench *b, double secs, Figures *out, double *commit_rate)
{
  Writers w = { b, 0, { 0 }, 0, 0, 0 };
  gint64 start = g_get_monotonic_time ();
  gint64 end = start + (gint64) (secs * G_USEC_PER_SEC), committed, converged;

  while (g_get_monotonic_time () < end)
    {
      for (guint i = 0; i < 3; i++)
        while (w.in_flight[i] < NODE_WINDOW)
          write_next (&w, i);
      g_main_context_iteration (NULL, TRUE);
    }
  if (!mero_test_wait_until (none_in_flight, &w, CONVERGE_TIMEOUT_MS))
    g_error ("writes did not return");
  committed = g_get_monotonic_time ();
  if (!mero_test_wait_until (all_roots_equal, b, CONVERGE_TIMEOUT_MS))
    g_error ("the three nodes did not converge after the burst");
  converged = g_get_monotonic_time ();
  *commit_rate = w.done / ((committed - start) / (double) G_USEC_PER_SEC);
  out->per_sec = w.done / ((converged - start) / (double) G_USEC_PER_SEC);
  out->missing = w.failed;
}

static void
run_nodes (guint writes, double secs, Figures *latency, Figures *throughput,
           double *commit_rate)
{
  NodeBench b = { 0 };
  MeroTestNode *joiners[3];
  g_autofree char *context_id = NULL;

  b.cluster = mero_test_cluster_new ();
  mero_test_cluster_set_verbose (b.cluster, FALSE);
  for (guint i = 0; i < 3; i++)
    {
      const char *labels[] = { "a", "b", "c" };

      b.nodes[i] = mero_test_cluster_add_node (b.cluster, labels[i], 0);
      mero_test_node_start (b.cluster, b.nodes[i]);
    }
  joiners[0] = b.nodes[1];
  joiners[1] = b.nodes[2];
  joiners[2] = NULL;
  context_id = mero_test_cluster_share_context (b.cluster, b.nodes[0], joiners);
  b.context_id = context_id;
  /* Warm up: every node writes once and everything converges. */
  for (guint i = 0; i < 3; i++)
    mero_test_node_kv_set (b.cluster, b.nodes[i], context_id, b.nodes[i]->label, "0");
  if (!mero_test_wait_until (all_roots_equal, &b, CONVERGE_TIMEOUT_MS))
    g_error ("the warm-up writes did not converge");

  node_latency (&b, writes, latency);
  node_throughput (&b, secs, throughput, commit_rate);
  mero_test_cluster_free (b.cluster);
}

int
main (int argc, char **argv)
{
  guint writes = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 200;
  double secs = argc > 2 ? g_ascii_strtod (argv[2], NULL) : 3.0;
  gsize size = argc > 3 ? (gsize) g_ascii_strtoull (argv[3], NULL, 10) : 560;
  Figures gossip = { 0 }, latency = { 0 }, throughput = { 0 };
  double commit_rate = 0;

  if (writes == 0)
    writes = 200;
  if (secs <= 0)
    secs = 3.0;
  size = MAX (size, HEADER_LEN);

  run_gossip (writes, secs, size, &gossip);
  run_nodes (writes, secs, &latency, &throughput, &commit_rate);

  printf ("3 nodes on 127.0.0.1, star (B and C joined A); %u one-at-a-time writes, %.1f s "
          "bursts\n",
          writes, secs);
  printf ("gossip only  (%" G_GSIZE_FORMAT " B msgs, A publishes): publish-to-both-received "
          "p50 %7.3f ms p99 %7.3f ms | burst %8.0f msg/s | %" G_GUINT64_FORMAT " lost\n",
          size, gossip.p50 / 1000.0, gossip.p99 / 1000.0, gossip.per_sec, gossip.missing);
  printf ("merod kv set (on A, seen on B and C):  write-to-visible p50 %7.3f ms p99 %7.3f ms | "
          "%" G_GUINT64_FORMAT " not seen\n",
          latency.p50 / 1000.0, latency.p99 / 1000.0, latency.missing);
  printf ("merod kv sets on all 3 nodes (%u in flight each): %8.0f writes/s converged "
          "(%8.0f/s committed) | %" G_GUINT64_FORMAT " failed\n",
          NODE_WINDOW, throughput.per_sec, commit_rate, throughput.missing);
  printf ("ratio node/gossip latency: p50 %.1fx, p99 %.1fx; gossip/node throughput %.1fx\n",
          (double) latency.p50 / (double) gossip.p50, (double) latency.p99 / (double) gossip.p99,
          gossip.per_sec / throughput.per_sec);
  return latency.missing == 0 && throughput.missing == 0 && gossip.missing == 0 ? 0 : 1;
}
