/* test-sync.c: the SyncManager between real merod processes.
 *
 * Checked: two members that diverged on purpose (SkipNextBroadcasts makes
 * a write local only; heartbeats every hour and no later delta, so no
 * delta fetch can repair it) converge by a state sync within a couple of
 * sync intervals, through sync-hash or sync-levelwise, and /metrics shows
 * mero_sync_sessions_total{protocol=<plugin>,result="ok"} grew; a peer
 * that is a member of none of our groups cannot open any sync stream
 * (the handshake's or a plugin's): each is reset and counted in
 * mero_sync_refusals_total{reason="non_member"}; after a sync that leaves
 * a node at the root its peer announced, the peer's heads are checkpoints
 * and a delta citing the never-broadcast one applies without a fetch.
 * Every wait is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"
#include "mero-test-net-node.h"

#define LONG_HEARTBEAT_SECS 3600
#define SYNC_INTERVAL_SECS "2"
/* Two jittered intervals, with room for a loaded machine. */
#define CONVERGE_MS 12000
#define WAIT_MS 10000
#define SETTLE_MS 1000
/* An operator's request starts at once (the manager's idle wake-up is 10 s). */
#define OPERATOR_MS 3000
#define SESSIONS_OK(p) "mero_sync_sessions_total{protocol=\"" p "\",result=\"ok\"}"
#define DELTA_FETCHED \
  "mero_node_stream_requests_total{protocol=\"/calimero/stream/delta/1\",result=\"ok\"}"
#define SESSIONS_FAILED(p) "mero_sync_sessions_total{protocol=\"" p "\",result=\"failed\"}"
#define SELECTED(p) "mero_sync_selections_total{protocol=\"" p "\"}"
#define REFUSED(p) "mero_sync_refusals_total{protocol=\"" p "\",reason=\"non_member\"}"

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
} Fixture;

/* @data: sync.interval_secs (NULL: SYNC_INTERVAL_SECS). */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  const char *interval = data != NULL ? data : SYNC_INTERVAL_SECS;

  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", LONG_HEARTBEAT_SECS);
  f->b = mero_test_cluster_add_node (f->cluster, "b", LONG_HEARTBEAT_SECS);
  mero_test_node_config_set (f->a, "sync.interval_secs", interval);
  mero_test_node_config_set (f->b, "sync.interval_secs", interval);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *key;
  const char *value;
} ValueWait;

static gboolean
has_value (gpointer data)
{
  ValueWait *w = data;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", w->key);
  g_autoptr (GError) error = NULL;
  g_autofree char *value = mero_test_node_kv (w->f->cluster, w->node, w->context_id, "get",
                                              args, &error);

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
      g_error ("node %s: %s never became %s", node->label, key, value);
    }
}

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

static guint64
sessions_ok (Fixture *f, MeroTestNode *node)
{
  return mero_test_node_metric (f->cluster, node, SESSIONS_OK ("sync-hash"))
         + mero_test_node_metric (f->cluster, node, SESSIONS_OK ("sync-levelwise"));
}

/* @name{protocol="sync-hash"} + {protocol="sync-levelwise"} on both nodes. */
static guint64
metric_sum (Fixture *f, const char *name)
{
  static const char *const protocols[] = { "sync-hash", "sync-levelwise" };
  MeroTestNode *nodes[] = { f->a, f->b };
  guint64 sum = 0;

  for (guint i = 0; i < G_N_ELEMENTS (nodes); i++)
    for (guint j = 0; j < G_N_ELEMENTS (protocols); j++)
      {
        g_autofree char *series = g_strdup_printf ("%s{protocol=\"%s\"}", name, protocols[j]);

        sum += mero_test_node_metric (f->cluster, nodes[i], series);
      }
  return sum;
}

static void
test_diverged_members_converge (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skip_a = NULL, skip_b = NULL;
  guint64 before;

  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0", WAIT_MS);
  settle (SETTLE_MS);

  /* Each writes one key the other never hears of. */
  skip_a = mero_test_node_call (f->cluster, f->a, "SkipNextBroadcasts",
                                g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  skip_b = mero_test_node_call (f->cluster, f->b, "SkipNextBroadcasts",
                                g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  before = sessions_ok (f, f->a) + sessions_ok (f, f->b);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "only_a", "1");
  mero_test_node_kv_set (f->cluster, f->b, context_id, "only_b", "2");

  wait_value (f, f->b, context_id, "only_a", "1", CONVERGE_MS);
  wait_value (f, f->a, context_id, "only_b", "2", CONVERGE_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_MS);
  g_assert_nonnull (root);
  g_assert_cmpuint (sessions_ok (f, f->a) + sessions_ok (f, f->b), >, before);
  /* The selections and the traffic of the sessions are counted too. */
  g_assert_cmpuint (metric_sum (f, "mero_sync_selections_total"), >, 0);
  g_assert_cmpuint (metric_sum (f, "mero_sync_bytes_sent_total"), >, 0);
  g_assert_cmpuint (metric_sum (f, "mero_sync_round_trips_total"), >, 0);

  /* meroctl shows the last sync in the context's info. */
  {
    const char *args[] = { "context", "info", context_id, NULL };
    g_autofree char *out = NULL, *err = NULL;

    g_assert_cmpint (mero_test_node_meroctl (f->b, args, &out, &err), ==, 0);
    g_assert_nonnull (strstr (out, "Last sync"));
    g_assert_nonnull (strstr (out, "last_result"));
  }

  /* The info shows the last sync. */
  {
    g_autoptr (GVariant) info = mero_test_node_info (f->cluster, f->b, context_id);
    g_autoptr (GVariant) sync = g_variant_lookup_value (info, "sync", G_VARIANT_TYPE_VARDICT);
    const char *result = NULL;

    g_assert_nonnull (sync);
    g_assert_true (g_variant_lookup (sync, "last_result", "&s", &result));
    if (!g_str_equal (result, "ok") && !g_str_equal (result, "in_sync"))
      g_error ("node b: last sync %s", g_variant_print (sync, TRUE));
  }
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
} MetricWait;

static gboolean
has_checkpoint (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, "mero_delta_checkpoints_total") > 0;
}

/* B gets A's never-broadcast delta by state sync; its root then equals
 * the root A announced with that delta as head, so the head becomes a
 * checkpoint: A's next delta, citing it, applies at B without fetching
 * it. */
static void
test_checkpoint_after_sync (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skip = NULL;
  MetricWait mw = { f, f->b };
  guint64 fetched;

  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0", WAIT_MS);
  settle (SETTLE_MS);
  /* Nothing of what follows may need a delta fetch (a HashHeartbeat A
   * sends after the sync names "lost" as its head: known here only as a
   * checkpoint). */
  fetched = mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED);
  skip = mero_test_node_call (f->cluster, f->a, "SkipNextBroadcasts",
                              g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "lost", "1");
  wait_value (f, f->b, context_id, "lost", "1", CONVERGE_MS);
  if (!mero_test_wait_until (has_checkpoint, &mw, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node b: no checkpoint after the sync");
    }
  mero_test_node_kv_set (f->cluster, f->a, context_id, "after", "2");
  wait_value (f, f->b, context_id, "after", "2", WAIT_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_MS);
  g_assert_nonnull (root);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED), ==, fetched);
}

/* With sync-fail loaded (cheapest, always fails), the next protocol still
 * converges the members: selected first, failed and counted, then
 * sync-hash or sync-levelwise. */
static void
test_fallback (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skip = NULL;
  guint64 before;

  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0", WAIT_MS);
  settle (SETTLE_MS);
  skip = mero_test_node_call (f->cluster, f->a, "SkipNextBroadcasts",
                              g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  before = sessions_ok (f, f->a) + sessions_ok (f, f->b);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "lost", "1");
  wait_value (f, f->b, context_id, "lost", "1", CONVERGE_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_MS);
  g_assert_nonnull (root);
  g_assert_cmpuint (sessions_ok (f, f->a) + sessions_ok (f, f->b), >, before);
  g_assert_cmpuint (
      mero_test_node_metric (f->cluster, f->a, SELECTED ("sync-fail"))
          + mero_test_node_metric (f->cluster, f->b, SELECTED ("sync-fail")), >, 0);
  g_assert_cmpuint (
      mero_test_node_metric (f->cluster, f->a, SESSIONS_FAILED ("sync-fail"))
          + mero_test_node_metric (f->cluster, f->b, SESSIONS_FAILED ("sync-fail")), >, 0);
  g_assert_cmpuint (
      mero_test_node_metric (f->cluster, f->a, SESSIONS_OK ("sync-fail"))
          + mero_test_node_metric (f->cluster, f->b, SESSIONS_OK ("sync-fail")), ==, 0);
}

typedef struct {
  Fixture *f;
  const char *context_id;
  guint64 sessions;
} SessionsWait;

static guint64
b_sessions (Fixture *f, const char *context_id)
{
  g_autoptr (GVariant) info = mero_test_node_info (f->cluster, f->b, context_id);
  g_autoptr (GVariant) sync = g_variant_lookup_value (info, "sync", G_VARIANT_TYPE_VARDICT);
  guint64 n = 0;

  if (sync != NULL)
    g_variant_lookup (sync, "sessions", "t", &n);
  return n;
}

static gboolean
b_synced_again (gpointer data)
{
  SessionsWait *w = data;

  return b_sessions (w->f, w->context_id) > w->sessions;
}

/* No periodic sync within the test: `meroctl context sync` alone makes
 * B's sync manager run a session at once. */
static void
test_operator_request (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  const char *args[] = { "context", "sync", context_id, NULL };
  g_autofree char *out = NULL, *err = NULL;
  SessionsWait w = { f, context_id, 0 };

  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0", WAIT_MS);
  settle (SETTLE_MS);
  w.sessions = b_sessions (f, context_id);
  g_assert_cmpint (mero_test_node_meroctl (f->b, args, &out, &err), ==, 0);
  if (!mero_test_wait_until (b_synced_again, &w, OPERATOR_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node b: no sync session after meroctl context sync");
    }
}

/* ---- a non-member ------------------------------------------------------- */

typedef struct {
  MeroTestNetNode node;
  gboolean connected;
  guint opened, failed, reset, closed;
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
      if (event->request_id != 0)
        o->opened++;
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
    default:
      break;
    }
  mero_net_event_free (event);
}

static gboolean
outsider_connected (gpointer data)
{
  return ((Outsider *) data)->connected;
}

static gboolean
outsider_all_ended (gpointer data)
{
  Outsider *o = data;

  return o->reset + o->failed + o->closed >= 3;
}

static void
test_non_member_refused (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *address = mero_test_node_listen_address (f->cluster, f->a);
  g_autoptr (GError) error = NULL;
  static const char *const protocols[] = { "/calimero/stream/sync/1",
                                           "/calimero/stream/hash/1",
                                           "/calimero/stream/levelwise/1" };
  Outsider o = { 0 };

  /* A is a member of a group: the outsider is refused all the same. */
  g_assert_nonnull (context_id);
  mero_test_net_node_start (&o.node, 0xc1, "outsiders", on_outsider_event, &o);
  g_assert_true (mero_network_dial (o.node.net, address, &error));
  g_assert_no_error (error);
  g_assert_true (mero_test_wait_until (outsider_connected, &o, WAIT_MS));
  for (guint i = 0; i < G_N_ELEMENTS (protocols); i++)
    mero_network_open_stream (o.node.net, f->a->peer_id, protocols[i]);
  if (!mero_test_wait_until (outsider_all_ended, &o, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("the outsider's sync streams were not refused (opened %u, reset %u)", o.opened,
               o.reset);
    }
  /* Reset, never answered or closed as a finished exchange. */
  g_assert_cmpuint (o.closed, ==, 0);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, REFUSED ("handshake")), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, REFUSED ("sync-hash")), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, REFUSED ("sync-levelwise")), ==, 1);
  mero_test_net_node_stop (&o.node);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sync/diverged-members-converge", Fixture, NULL, fixture_set_up,
              test_diverged_members_converge, fixture_tear_down);
  g_test_add ("/sync/checkpoint-after-sync", Fixture, NULL, fixture_set_up,
              test_checkpoint_after_sync, fixture_tear_down);
  g_test_add ("/sync/non-member-refused", Fixture, NULL, fixture_set_up,
              test_non_member_refused, fixture_tear_down);
  g_test_add ("/sync/operator-request", Fixture, "3600", fixture_set_up, test_operator_request,
              fixture_tear_down);
  /* Only where the meson test loads sync-fail (integration-sync-fallback). */
  if (g_getenv ("MERO_TEST_SYNC_FALLBACK") != NULL)
    g_test_add ("/sync/fallback", Fixture, NULL, fixture_set_up, test_fallback,
                fixture_tear_down);
  return g_test_run ();
}
