/* test-stream-abuse.c: peers that are members of none of a node's groups
 * cannot take the node's stream capacity from its members, and a request
 * cut short is answered, not left hanging.
 *
 * Checked, with real merod processes on one private bus and in-process
 * libp2p nodes with fresh keys as the outsiders (all on loopback):
 * - 8 outsiders each open 8 silent /calimero/stream/delta/1 streams to
 *   member A (64: all of A's slots before).  Member B, which missed a
 *   delta (SkipNextBroadcasts on A, heartbeats every hour), fetches it
 *   from A within 2 s; A refused all but one stream per outsider
 *   (reason "non_member_busy") and reset those it kept once they stayed
 *   silent for the short bound (reason "silent").
 * - An outsider that sends half a request and then closes its side gets
 *   an error frame and A's close, three times in a row on one connection
 *   (so the slot is released each time); A counts each ("truncated"). */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"
#include "mero-test-net-node.h"
#include "node/mero-broadcast.h"
#include "node/mero-node-transport.h"

#define N_OUTSIDERS 8
#define STREAMS_EACH 8
/* What the issue asks of a member's catch-up while outsiders hold streams. */
#define CATCH_UP_MS 2000
#define WAIT_MS 10000
#define LONG_HEARTBEAT_SECS 3600
#define SETTLE_MS 1000
#define TRUNCATED_ROUNDS 3
#define DROPPED(reason) "mero_node_streams_dropped_total{reason=\"" reason "\"}"

typedef struct {
  MeroTestNetNode node;
  gboolean connected;
  guint opened;          /* our streams the peer accepted (negotiated) */
  guint failed;          /* could not be opened */
  guint reset;           /* reset by the peer */
  guint closed;          /* the peer closed its side */
  GPtrArray *streams;    /* MeroNetStream, held */
  GByteArray *answer;    /* everything the peer wrote to us */
  GBytes *first_write;   /* written on each stream at once, then closed (NULL: silent) */
} Outsider;

static void
on_outsider_event (MeroNetEvent *event, gpointer user_data)
{
  Outsider *o = user_data;

  switch (event->type)
    {
    case MERO_NET_EVENT_PEER_CONNECTED:
      o->connected = TRUE;
      break;
    case MERO_NET_EVENT_STREAM_OPENED:
      if (event->request_id == 0)
        break;
      o->opened++;
      g_ptr_array_add (o->streams, mero_net_stream_ref (event->stream));
      if (o->first_write != NULL)
        {
          mero_network_stream_write (o->node.net, event->stream, o->first_write);
          mero_network_stream_close (o->node.net, event->stream);
        }
      break;
    case MERO_NET_EVENT_STREAM_FAILED:
      o->failed++;
      break;
    case MERO_NET_EVENT_STREAM_RESET:
      o->reset++;
      break;
    case MERO_NET_EVENT_STREAM_CLOSED:
      o->closed++;
      break;
    case MERO_NET_EVENT_STREAM_DATA:
      g_byte_array_append (o->answer, g_bytes_get_data (event->data, NULL),
                           g_bytes_get_size (event->data));
      break;
    default:
      break;
    }
  mero_net_event_free (event);
}

static void
outsider_start (Outsider *o, guint8 seed_byte, const char *address)
{
  g_autoptr (GError) error = NULL;

  o->streams = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_stream_unref);
  o->answer = g_byte_array_new ();
  mero_test_net_node_start (&o->node, seed_byte, "outsiders", on_outsider_event, o);
  g_assert_true (mero_network_dial (o->node.net, address, &error));
  g_assert_no_error (error);
}

static void
outsider_stop (Outsider *o)
{
  mero_test_net_node_stop (&o->node);
  g_clear_pointer (&o->streams, g_ptr_array_unref);
  g_clear_pointer (&o->answer, g_byte_array_unref);
  g_clear_pointer (&o->first_write, g_bytes_unref);
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
  Outsider outsiders[N_OUTSIDERS];
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", LONG_HEARTBEAT_SECS);
  f->b = mero_test_cluster_add_node (f->cluster, "b", LONG_HEARTBEAT_SECS);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < N_OUTSIDERS; i++)
    if (f->outsiders[i].streams != NULL)
      outsider_stop (&f->outsiders[i]);
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

typedef struct {
  Fixture *f;
  guint n;
  guint streams;   /* each outsider's streams settled (opened or failed) */
} OutsidersWait;

static gboolean
outsiders_connected (gpointer data)
{
  OutsidersWait *w = data;

  for (guint i = 0; i < w->n; i++)
    if (!w->f->outsiders[i].connected)
      return FALSE;
  return TRUE;
}

static gboolean
outsiders_opened (gpointer data)
{
  OutsidersWait *w = data;

  for (guint i = 0; i < w->n; i++)
    if (w->f->outsiders[i].opened + w->f->outsiders[i].failed < w->streams)
      return FALSE;
  return TRUE;
}

static gboolean
outsiders_all_reset (gpointer data)
{
  OutsidersWait *w = data;

  for (guint i = 0; i < w->n; i++)
    if (w->f->outsiders[i].reset + w->f->outsiders[i].failed < w->streams)
      return FALSE;
  return TRUE;
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *key;
  const char *value;   /* JSON */
} ValueWait;

static gboolean
has_value (gpointer data)
{
  ValueWait *w = data;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", w->key);
  g_autoptr (GError) error = NULL;
  g_autofree char *value = mero_test_node_kv (w->f->cluster, w->node, w->context_id, "get", args,
                                              &error);

  g_assert_no_error (error);
  return g_strcmp0 (value, w->value) == 0;
}

static void
wait_value (Fixture *f, MeroTestNode *node, const char *context_id, const char *key,
            const char *value, guint timeout_ms)
{
  ValueWait w = { f, node, context_id, key, value };

  if (!mero_test_wait_until (has_value, &w, timeout_ms))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node %s did not have %s=%s within %u ms", node->label, key, value, timeout_ms);
    }
}

/* Runs the main loop (reading the nodes' output) for @ms. */
static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (20 * 1000);
    }
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *series;
  guint64 value;
} MetricWait;

static gboolean
metric_reached (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, w->series) >= w->value;
}

static void
test_member_served_past_outsiders (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *address = mero_test_node_listen_address (f->cluster, f->a);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skipped = NULL;
  OutsidersWait ow = { f, N_OUTSIDERS, STREAMS_EACH };
  MetricWait silent = { f, f->a, DROPPED ("silent"), N_OUTSIDERS };
  gint64 start, took_us;

  /* B has heard from A once, and the join's background traffic is over
   * (see test-contexts-recovery's lost-parent test). */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0", WAIT_MS);
  settle (SETTLE_MS);

  for (guint i = 0; i < N_OUTSIDERS; i++)
    outsider_start (&f->outsiders[i], 0xa1 + i, address);
  g_assert_true (mero_test_wait_until (outsiders_connected, &ow, WAIT_MS));
  for (guint i = 0; i < N_OUTSIDERS; i++)
    for (guint s = 0; s < STREAMS_EACH; s++)
      mero_network_open_stream (f->outsiders[i].node.net, f->a->peer_id,
                                MERO_STREAM_PROTOCOL_DELTA);
  g_assert_true (mero_test_wait_until (outsiders_opened, &ow, WAIT_MS));

  /* A stores "lost" without publishing it; "after" names it as parent,
   * so B must fetch it from A over a stream, now. */
  skipped = mero_test_node_call (f->cluster, f->a, "SkipNextBroadcasts",
                                 g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "lost", "1");
  start = g_get_monotonic_time ();
  mero_test_node_kv_set (f->cluster, f->a, context_id, "after", "2");
  wait_value (f, f->b, context_id, "lost", "1", CATCH_UP_MS);
  took_us = g_get_monotonic_time () - start;
  g_test_message ("B caught up in %" G_GINT64_FORMAT " ms with %u outsider streams asked for",
                  took_us / 1000, N_OUTSIDERS * STREAMS_EACH);

  /* One stream per outsider was kept (the non-members' share), the rest
   * refused and counted; the kept ones go once they stayed silent. */
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, DROPPED ("non_member_busy")), ==,
                    N_OUTSIDERS * (STREAMS_EACH - 1));
  g_assert_true (mero_test_wait_until (metric_reached, &silent, WAIT_MS));
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, DROPPED ("silent")), ==,
                    N_OUTSIDERS);
  g_assert_true (mero_test_wait_until (outsiders_all_reset, &ow, WAIT_MS));
}

static gboolean
answered (gpointer data)
{
  Outsider *o = data;

  return o->closed + o->reset >= o->opened && o->opened > 0;
}

static void
test_truncated_request (Fixture *f, gconstpointer data)
{
  g_autofree char *address = mero_test_node_listen_address (f->cluster, f->a);
  Outsider *o = &f->outsiders[0];
  OutsidersWait ow = { f, 1, 0 };
  /* A frame announcing 100 bytes, and 10 of them. */
  static const guint8 partial[] = { 100, 0x0a, 0x20, 1, 2, 3, 4, 5, 6, 7, 8 };

  outsider_start (o, 0xb1, address);
  o->first_write = g_bytes_new_static (partial, sizeof partial);
  g_assert_true (mero_test_wait_until (outsiders_connected, &ow, WAIT_MS));
  for (guint round = 0; round < TRUNCATED_ROUNDS; round++)
    {
      g_autoptr (GBytes) frame = NULL;
      g_autoptr (MeroStreamMsg) msg = NULL;
      g_autoptr (GError) error = NULL;

      g_byte_array_set_size (o->answer, 0);
      o->closed = o->reset = o->opened = o->failed = 0;
      mero_network_open_stream (o->node.net, f->a->peer_id, MERO_STREAM_PROTOCOL_DELTA);
      if (!mero_test_wait_until (answered, o, WAIT_MS))
        {
          mero_test_cluster_dump_logs (f->cluster);
          g_error ("round %u: the truncated request was neither answered nor closed "
                   "(opened %u, failed %u)", round, o->opened, o->failed);
        }
      /* An error frame, then A's close (not a reset: the peer learns why). */
      g_assert_cmpuint (o->closed, ==, 1);
      g_assert_true (mero_stream_frame_pop (o->answer, &frame, &error));
      g_assert_no_error (error);
      g_assert_nonnull (frame);
      msg = mero_stream_msg_decode (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                    &error);
      g_assert_no_error (error);
      g_assert_cmpint (msg->kind, ==, MERO_STREAM_ERROR);
      g_assert_cmpstr (msg->reason, ==, "truncated request");
    }
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, DROPPED ("truncated")), ==,
                    TRUNCATED_ROUNDS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/stream-abuse/member-served-past-outsiders", Fixture, NULL, fixture_set_up,
              test_member_served_past_outsiders, fixture_tear_down);
  g_test_add ("/stream-abuse/truncated-request", Fixture, NULL, fixture_set_up,
              test_truncated_request, fixture_tear_down);
  return g_test_run ();
}
