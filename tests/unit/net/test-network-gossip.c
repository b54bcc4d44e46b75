/* Gossipsub over the network thread on 127.0.0.1: three MeroNetwork
 * instances in one process, in a line (a–b–c), subscribe to one topic;
 * messages published on each are delivered exactly once to every other
 * (c's reach a through b's forwarding), never back to the publisher, and
 * unsubscribing stops delivery.  Every wait is bounded. */
#include <gio/gio.h>

#include "net/transport/mero-network.h"

#define TOPIC "gossip-test"
#define WAIT_US (10 * G_USEC_PER_SEC)
#define N_NODES 3

typedef struct
{
  guint event_capacity;    /* 0: default */
  GMainContext *context;   /* for events; NULL: the default context */
  gint64 gossip_stall_us;  /* 0: default */
  MeroMetrics *metrics;
  MeroIdentity *identity;
  MeroNetwork *net;
  GPtrArray *events; /* MeroNetEvent */
  char *peer_id;
  GStrv addrs;
} Node;

static void
on_event (MeroNetEvent *event, gpointer data)
{
  Node *node = data;

  g_ptr_array_add (node->events, event);
}

static void
node_start (Node *node, guint8 seed_byte)
{
  guint8 seed[32];
  const char *listen_addrs[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  memset (seed, seed_byte, sizeof seed);
  node->identity = mero_identity_new_from_seed (seed);
  node->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  node->events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  node->metrics = mero_metrics_new ();
  config.listen_addrs = listen_addrs;
  config.dial_timeout_us = 2 * G_USEC_PER_SEC;
  config.metrics = node->metrics;
  config.event_capacity = node->event_capacity;
  config.gossip_stall_us = node->gossip_stall_us;
  node->net = mero_network_new (&config, node->identity);
  g_assert_true (mero_network_start (node->net,
                                     node->context != NULL ? node->context
                                                           : g_main_context_default (),
                                     on_event, node, &error));
  g_assert_no_error (error);
  node->addrs = mero_network_get_listen_addrs (node->net);
}

static void
node_stop (Node *node)
{
  g_clear_pointer (&node->net, mero_network_free);
  g_clear_pointer (&node->events, g_ptr_array_unref);
  g_clear_pointer (&node->identity, mero_identity_free);
  g_clear_pointer (&node->peer_id, g_free);
  g_clear_pointer (&node->addrs, g_strfreev);
  g_clear_pointer (&node->metrics, mero_metrics_unref);
}

static guint
count_events (Node *node, MeroNetEventType type, const char *peer, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < node->events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (node->events, i);

      if (ev->type != type || (peer != NULL && g_strcmp0 (ev->peer_id, peer) != 0))
        continue;
      if (data != NULL &&
          (ev->data == NULL || g_bytes_get_size (ev->data) != strlen (data) ||
           memcmp (g_bytes_get_data (ev->data, NULL), data, strlen (data)) != 0))
        continue;
      n++;
    }
  return n;
}

typedef gboolean (*Cond) (Node *nodes, gconstpointer arg);

/* Runs the default context until @cond holds or WAIT_US passes. */
static gboolean
wait_until (Node *nodes, Cond cond, gconstpointer arg)
{
  gint64 until = g_get_monotonic_time () + WAIT_US;

  while (!cond (nodes, arg))
    {
      if (g_get_monotonic_time () > until)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  return TRUE;
}

/* Every node sees each neighbour subscribed and has it in its mesh. */
static gboolean
meshes_formed (Node *n, gconstpointer arg)
{
  static const guint neighbours[N_NODES] = { 1, 2, 1 };

  for (guint i = 0; i < N_NODES; i++)
    {
      g_auto(GStrv) mesh = mero_network_get_mesh_peers (n[i].net, TOPIC);

      if (g_strv_length (mesh) != neighbours[i] ||
          mero_network_get_topic_peer_count (n[i].net, TOPIC) != neighbours[i])
        return FALSE;
    }
  return TRUE;
}

typedef struct
{
  guint from;
  const char *data;
} Published;

static gboolean
delivered_to_others (Node *n, gconstpointer arg)
{
  const Published *p = arg;

  for (guint i = 0; i < N_NODES; i++)
    if (i != p->from && count_events (&n[i], MERO_NET_EVENT_MESSAGE, NULL, p->data) == 0)
      return FALSE;
  return TRUE;
}

static gboolean
unsubscribed_seen (Node *n, gconstpointer arg)
{
  return count_events (&n[1], MERO_NET_EVENT_UNSUBSCRIBED, n[2].peer_id, NULL) == 1;
}

static gboolean
delivered_to_b (Node *n, gconstpointer arg)
{
  return count_events (&n[1], MERO_NET_EVENT_MESSAGE, NULL, arg) == 1;
}

static void
publish (Node *node, const char *text)
{
  g_autoptr(GBytes) data = g_bytes_new_static (text, strlen (text));
  g_autoptr(GError) error = NULL;

  g_assert_true (mero_network_publish (node->net, TOPIC, data, &error));
  g_assert_no_error (error);
}

/* Drains the context for @us, so late duplicates would show up. */
static void
settle (gint64 us)
{
  gint64 until = g_get_monotonic_time () + us;

  while (g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
test_line_of_three (void)
{
  Node n[N_NODES] = { 0 };
  g_autoptr(GError) error = NULL;
  char text[64];

  for (guint i = 0; i < N_NODES; i++)
    node_start (&n[i], (guint8) (0x61 + i));
  for (guint i = 0; i < N_NODES; i++)
    {
      g_assert_true (mero_network_subscribe (n[i].net, TOPIC, &error));
      g_assert_no_error (error);
    }
  /* a dials b, c dials b: b sees one inbound and one outbound peer. */
  g_assert_true (mero_network_dial (n[0].net, n[1].addrs[0], &error));
  g_assert_true (mero_network_dial (n[2].net, n[1].addrs[0], &error));
  g_assert_true (wait_until (n, meshes_formed, NULL));
  g_assert_cmpuint (count_events (&n[1], MERO_NET_EVENT_SUBSCRIBED, n[0].peer_id, NULL), ==, 1);
  g_assert_cmpuint (count_events (&n[1], MERO_NET_EVENT_SUBSCRIBED, n[2].peer_id, NULL), ==, 1);

  /* Publish from every node; each message reaches the two others. */
  for (guint round = 0; round < 5; round++)
    for (guint i = 0; i < N_NODES; i++)
      {
        Published p = { i, text };

        g_snprintf (text, sizeof text, "msg %u from %u", round, i);
        publish (&n[i], text);
        g_assert_true (wait_until (n, delivered_to_others, &p));
      }
  settle (300 * 1000);
  for (guint round = 0; round < 5; round++)
    for (guint i = 0; i < N_NODES; i++)
      {
        g_snprintf (text, sizeof text, "msg %u from %u", round, i);
        for (guint j = 0; j < N_NODES; j++)
          g_assert_cmpuint (count_events (&n[j], MERO_NET_EVENT_MESSAGE, NULL, text), ==,
                            i == j ? 0 : 1);
      }
  /* a hears everything from b, its only peer: b's own and c's, which b
   * forwarded; each names its signed author and carries a message id. */
  for (guint i = 0; i < n[0].events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (n[0].events, i);

      if (ev->type != MERO_NET_EVENT_MESSAGE)
        continue;
      g_assert_cmpstr (ev->topic, ==, TOPIC);
      g_assert_cmpstr (ev->peer_id, ==, n[1].peer_id);
      g_assert_nonnull (ev->message_id);
      g_assert_true (g_strcmp0 (ev->author, n[1].peer_id) == 0 ||
                     g_strcmp0 (ev->author, n[2].peer_id) == 0);
    }

  /* c leaves: b hears it, and c gets nothing published afterwards. */
  g_assert_true (mero_network_unsubscribe (n[2].net, TOPIC, &error));
  g_assert_no_error (error);
  g_assert_true (wait_until (n, unsubscribed_seen, NULL));
  publish (&n[0], "after c left");
  g_assert_true (wait_until (n, delivered_to_b, "after c left"));
  settle (300 * 1000);
  g_assert_cmpuint (count_events (&n[2], MERO_NET_EVENT_MESSAGE, NULL, "after c left"), ==, 0);

  for (guint i = 0; i < N_NODES; i++)
    node_stop (&n[i]);
}

/* A subscriber that never reads: b's events go to a context nobody runs,
 * so its small event channel fills and its network stops reading its
 * sockets.  a publishes 64 KiB messages as fast as c (which reads) takes
 * them: b's backlog at a fills (bounded at MERO_NET_STREAM_MAX_PENDING_WRITE),
 * further frames to b are dropped and counted, and after a's stall limit
 * (1 s here) a closes b with the reason; c meanwhile gets every message,
 * in order, exactly once. */
static void
test_peer_not_reading (void)
{
  Node n[3] = { 0 };
  Node *a = &n[0], *b = &n[1], *c = &n[2];
  g_autoptr(GMainContext) nobody = g_main_context_new ();
  g_autoptr(GError) error = NULL;
  guint8 *buf = g_malloc0 (64 * 1024);
  guint published = 0, received = 0, scanned = 0;
  gint64 until;
  MeroNetEvent *closed = NULL;

  a->gossip_stall_us = G_USEC_PER_SEC;
  b->event_capacity = 40;
  b->context = nobody;
  node_start (a, 0x81);
  node_start (b, 0x82);
  node_start (c, 0x83);
  for (guint i = 0; i < 3; i++)
    g_assert_true (mero_network_subscribe (n[i].net, TOPIC, &error));
  g_assert_true (mero_network_dial (b->net, a->addrs[0], &error));
  g_assert_true (mero_network_dial (c->net, a->addrs[0], &error));
  until = g_get_monotonic_time () + WAIT_US;
  for (;;)
    {
      g_auto(GStrv) mesh = mero_network_get_mesh_peers (a->net, TOPIC);
      g_auto(GStrv) mesh_c = mero_network_get_mesh_peers (c->net, TOPIC);

      if (g_strv_length (mesh) == 2 && g_strv_length (mesh_c) == 1)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, until);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }

  /* At most 32 messages (2 MiB) in flight to c; bounded in time. */
  until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (g_get_monotonic_time () < until)
    {
      for (guint i = scanned; i < c->events->len; i++)
        {
          MeroNetEvent *ev = g_ptr_array_index (c->events, i);
          guint32 seq;

          if (ev->type != MERO_NET_EVENT_MESSAGE)
            continue;
          memcpy (&seq, g_bytes_get_data (ev->data, NULL), 4);
          /* In order, exactly once. */
          g_assert_cmpuint (seq, ==, received);
          received++;
        }
      scanned = c->events->len;
      closed = NULL;
      for (guint i = 0; i < a->events->len && closed == NULL; i++)
        {
          MeroNetEvent *ev = g_ptr_array_index (a->events, i);

          if (ev->type == MERO_NET_EVENT_PEER_DISCONNECTED)
            closed = ev;
        }
      /* Keep going a little past the close, so c is seen carrying on. */
      if (closed != NULL && published >= 600)
        break;
      while (published - received < 32)
        {
          g_autoptr(GBytes) data = NULL;

          memcpy (buf, &published, 4);
          data = g_bytes_new (buf, 64 * 1024);
          g_assert_true (mero_network_publish (a->net, TOPIC, data, &error));
          published++;
        }
      g_main_context_iteration (NULL, FALSE);
      g_usleep (200);
    }
  g_assert_nonnull (closed);
  g_test_message ("a closed b after %u messages: %s", published, closed->message);
  g_assert_cmpstr (closed->peer_id, ==, b->peer_id);
  g_assert_nonnull (strstr (closed->message, "gossip peer not reading"));
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_net_gossip_peers_closed_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_net_gossip_frames_dropped_total",
                                              NULL), >, 0);
  /* c: connected throughout, and every message arrives. */
  until = g_get_monotonic_time () + WAIT_US;
  while (count_events (c, MERO_NET_EVENT_MESSAGE, NULL, NULL) < published &&
         g_get_monotonic_time () < until)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  g_assert_cmpuint (count_events (c, MERO_NET_EVENT_MESSAGE, NULL, NULL), ==, published);
  g_assert_cmpuint (count_events (c, MERO_NET_EVENT_PEER_DISCONNECTED, NULL, NULL), ==, 0);
  for (guint i = 0; i < 3; i++)
    node_stop (&n[i]);
  g_free (buf);
}

/* Bad arguments fail at once, before the network thread sees them. */
static gboolean
two_meshed (Node *n, gconstpointer arg)
{
  for (guint i = 0; i < 2; i++)
    {
      g_auto(GStrv) mesh = mero_network_get_mesh_peers (n[i].net, TOPIC);

      if (g_strv_length (mesh) != 1)
        return FALSE;
    }
  return TRUE;
}

static gboolean
a_has_b_message (Node *n, gconstpointer arg)
{
  return count_events (&n[0], MERO_NET_EVENT_MESSAGE, n[1].peer_id, arg) == 1;
}

static gboolean
a_dropped_b (Node *n, gconstpointer arg)
{
  return count_events (&n[0], MERO_NET_EVENT_PEER_DISCONNECTED, n[1].peer_id, NULL) >= 1;
}

/* The node rejects what b sends (mero_network_reject_message, as for a
 * payload that does not decode): after 13, b's score is below the
 * graylist threshold, its gossip is ignored and a disconnects it at the
 * next heartbeat, saying why; the peer table showed b's score until
 * then. */
static void
test_reject_disconnects (void)
{
  Node n[2] = { 0 };
  Node *a = &n[0], *b = &n[1];
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  gboolean scored = FALSE;
  MeroNetEvent *gone = NULL;

  node_start (a, 0x91);
  node_start (b, 0x92);
  for (guint i = 0; i < 2; i++)
    g_assert_true (mero_network_subscribe (n[i].net, TOPIC, &error));
  g_assert_true (mero_network_dial (b->net, a->addrs[0], &error));
  g_assert_true (wait_until (n, two_meshed, NULL));
  publish (b, "payload a cannot use");
  g_assert_true (wait_until (n, a_has_b_message, "payload a cannot use"));
  /* A heartbeat has scored b by now (it is in a's mesh). */
  settle (G_USEC_PER_SEC + G_USEC_PER_SEC / 10);
  peers = mero_network_list_peers (a->net);
  for (guint i = 0; i < peers->len; i++)
    {
      const MeroNetPeerInfo *info = g_ptr_array_index (peers, i);

      if (g_strcmp0 (info->peer_id, b->peer_id) == 0 && info->has_gossip_score)
        {
          g_assert_cmpfloat (info->gossip_score, >=, 0);
          scored = TRUE;
        }
    }
  g_assert_true (scored);

  g_assert_false (mero_network_reject_message (a->net, b->peer_id, "", &error));
  g_assert_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_TOPIC);
  g_clear_error (&error);
  for (guint i = 0; i < 13; i++)
    g_assert_true (mero_network_reject_message (a->net, b->peer_id, TOPIC, &error));
  g_assert_true (wait_until (n, a_dropped_b, NULL));
  for (guint i = 0; i < a->events->len && gone == NULL; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (a->events, i);

      if (ev->type == MERO_NET_EVENT_PEER_DISCONNECTED && g_strcmp0 (ev->peer_id, b->peer_id) == 0)
        gone = ev;
    }
  g_assert_nonnull (strstr (gone->message, "below the graylist threshold"));
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_gossip_messages_rejected_total",
                                              NULL), ==, 13);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_gossip_peers_graylisted_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_gossip_peers_disconnected_total",
                                              "reason=\"score\""), ==, 1);
  node_stop (b);
  node_stop (a);
}

static void
test_bad_arguments (void)
{
  Node node = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) big = NULL;
  g_autofree char *long_topic = g_strnfill (MERO_NETWORK_MAX_TOPIC_LEN + 1, 't');
  guint8 *zeros = g_malloc0 (MERO_NETWORK_MAX_MESSAGE_SIZE + 1);

  big = g_bytes_new_take (zeros, MERO_NETWORK_MAX_MESSAGE_SIZE + 1);
  node_start (&node, 0x71);
  g_assert_false (mero_network_publish (node.net, TOPIC, big, &error));
  g_assert_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_MESSAGE_TOO_LARGE);
  g_clear_error (&error);
  g_assert_false (mero_network_subscribe (node.net, "", &error));
  g_assert_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_TOPIC);
  g_clear_error (&error);
  g_assert_false (mero_network_subscribe (node.net, long_topic, &error));
  g_assert_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_TOPIC);
  g_clear_error (&error);
  /* Exactly 1 MiB is allowed, with nobody to send it to. */
  g_clear_pointer (&big, g_bytes_unref);
  big = g_bytes_new_take (g_malloc0 (MERO_NETWORK_MAX_MESSAGE_SIZE), MERO_NETWORK_MAX_MESSAGE_SIZE);
  g_assert_true (mero_network_publish (node.net, TOPIC, big, &error));
  g_assert_no_error (error);
  node_stop (&node);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/network-gossip/line-of-three", test_line_of_three);
  g_test_add_func ("/net/network-gossip/bad-arguments", test_bad_arguments);
  g_test_add_func ("/net/network-gossip/peer-not-reading", test_peer_not_reading);
  g_test_add_func ("/net/network-gossip/reject-disconnects", test_reject_disconnects);
  return g_test_run ();
}
