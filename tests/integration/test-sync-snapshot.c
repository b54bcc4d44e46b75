/* test-sync-snapshot.c: snapshot sync between real merod processes.
 *
 * Checked: a node that joins a context holding ENTRIES entries gets the
 * state by a sync-snapshot session
 * (mero_sync_sessions_total{protocol="sync-snapshot",result="ok"} grows
 * on the joiner, its root and entries equal the creator's), then follows
 * live deltas: a write on the creator is visible on the joiner within
 * LIVE_MS without any delta fetch (the snapshot's boundary heads are
 * checkpoints there).  An operator resync (`meroctl context sync
 * --resync`) replaces a member's diverged state by a peer's: its local
 * only write is gone, its root is the peer's, by a sync-snapshot session.
 * Every wait is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"

#define LONG_HEARTBEAT_SECS 3600
/* Periodic sync out of the way: the join trigger and the operator start
 * the sessions checked here. */
#define LONG_SYNC_INTERVAL "3600"
#define ENTRIES 10000u
/* kv sets in flight while filling the context. */
#define WRITE_WINDOW 64u
#define FILL_MS 40000
#define JOIN_SYNC_MS 20000
#define LIVE_MS 2000
#define WAIT_MS 10000
#define SETTLE_MS 1000
#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
#define SNAPSHOT_OK "mero_sync_sessions_total{protocol=\"sync-snapshot\",result=\"ok\"}"
#define DELTA_FETCHED \
  "mero_node_stream_requests_total{protocol=\"/calimero/stream/delta/1\",result=\"ok\"}"

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
} Fixture;

/* @data non-NULL: nodes log at info level only.  A node that logs each
 * of many writes at debug level blocks on its pipe while this process
 * sits in a synchronous call (the writer thread's calls then time out). */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  mero_test_cluster_set_verbose (f->cluster, data == NULL);
  f->a = mero_test_cluster_add_node (f->cluster, "a", LONG_HEARTBEAT_SECS);
  f->b = mero_test_cluster_add_node (f->cluster, "b", LONG_HEARTBEAT_SECS);
  mero_test_node_config_set (f->a, "sync.interval_secs", LONG_SYNC_INTERVAL);
  mero_test_node_config_set (f->b, "sync.interval_secs", LONG_SYNC_INTERVAL);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

/* ---- filling a context: kv sets over D-Bus, WRITE_WINDOW in flight ---- */

typedef struct {
  GDBusConnection *connection;
  MeroTestNode *node;
  const char *context_id;
  guint sent, done, failed;
  GError *first_error;
} Fill;

static void send_one (Fill *fill);

static void
on_set_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fill *fill = user_data;
  GError *error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  fill->done++;
  if (reply == NULL)
    {
      fill->failed++;
      if (fill->first_error == NULL)
        fill->first_error = error;
      else
        g_error_free (error);
    }
  if (fill->sent < ENTRIES)
    send_one (fill);
}

static void
send_one (Fill *fill)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"k%05u\",\"value\":%u}", fill->sent,
                                           fill->sent);

  fill->sent++;
  g_dbus_connection_call (fill->connection, fill->node->bus_name, NODE_PATH, NODE_IFACE, "Call",
                          g_variant_new ("(sss)", fill->context_id, "set", args),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          MERO_TEST_TIMEOUT_MS, NULL, on_set_done, fill);
}

static gboolean
fill_finished (gpointer data)
{
  return ((Fill *) data)->done == ENTRIES;
}

/* ENTRIES kv sets k00000 … on @node, each its own delta (the history a
 * joiner would otherwise fetch). */
static void
fill_context (Fixture *f, MeroTestNode *node, const char *context_id)
{
  Fill fill = { mero_test_cluster_get_connection (f->cluster), node, context_id, 0, 0, 0, NULL };
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < WRITE_WINDOW && fill.sent < ENTRIES; i++)
    send_one (&fill);
  if (!mero_test_wait_until (fill_finished, &fill, FILL_MS))
    g_error ("node %s: %u of %u writes done within %d ms", node->label, fill.done, ENTRIES,
             FILL_MS);
  g_assert_no_error (fill.first_error);
  g_assert_cmpuint (fill.failed, ==, 0);
  g_test_message ("%u kv sets on %s in %.2f s", ENTRIES, node->label,
                  (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

/* ---- writing on while another node joins -------------------------------- */

/* kv sets on @node (keys w00000 …), one after the other on a thread of
 * its own, so they go on while this thread waits in synchronous calls. */
typedef struct {
  GDBusConnection *connection;
  MeroTestNode *node;
  const char *context_id;
  guint written;
  gint stop;
} Writer;

static gpointer
writer_thread (gpointer data)
{
  Writer *w = data;

  while (!g_atomic_int_get (&w->stop))
    {
      g_autofree char *args = g_strdup_printf ("{\"key\":\"w%05u\",\"value\":%u}",
                                               w->written, w->written);
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
          w->connection, w->node->bus_name, NODE_PATH, NODE_IFACE, "Call",
          g_variant_new ("(sss)", w->context_id, "set", args), G_VARIANT_TYPE ("(s)"),
          G_DBUS_CALL_FLAGS_NO_AUTO_START, MERO_TEST_TIMEOUT_MS, NULL, &error);

      g_assert_no_error (error);
      w->written++;
    }
  return NULL;
}

/* ---- waits ------------------------------------------------------------- */

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
      g_error ("node %s: %s never became %s within %u ms", node->label, key, value, timeout_ms);
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

static char *
kv (Fixture *f, MeroTestNode *node, const char *context_id, const char *method)
{
  g_autoptr (GError) error = NULL;
  char *result = mero_test_node_kv (f->cluster, node, context_id, method, "{}", &error);

  g_assert_no_error (error);
  return result;
}

/* ---- tests ------------------------------------------------------------- */

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  guint64 before;
} SnapshotWait;

static gboolean
snapshot_grew (gpointer data)
{
  SnapshotWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, SNAPSHOT_OK) > w->before;
}


static void
test_join_by_snapshot (Fixture *f, gconstpointer data)
{
  MeroTestNode *none[] = { NULL };
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, none);
  g_autofree char *root = NULL, *len = NULL, *entries_a = NULL, *entries_b = NULL;
  g_autofree char *expected_len = NULL, *last_key = NULL, *last_value = NULL;
  Writer writer = { mero_test_cluster_get_connection (f->cluster), f->a, context_id, 0, 0 };
  GThread *thread;
  SnapshotWait sw = { f, f->b, 0 };
  guint64 snapshots, fetched;
  gint64 written;

  fill_context (f, f->a, context_id);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, SNAPSHOT_OK), ==, 0);
  /* A keeps writing while B joins: deltas reach B while its snapshot
   * runs (buffered, replayed onto it) and the snapshot's boundary is
   * newer than the root A announced in the handshake (its heads must
   * still become checkpoints, or the replayed deltas would fetch). */
  thread = g_thread_new ("writer", writer_thread, &writer);
  mero_test_cluster_join_context (f->cluster, f->a, context_id, joiners);
  if (!mero_test_wait_until (snapshot_grew, &sw, JOIN_SYNC_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node b: no sync-snapshot session after the join");
    }
  g_atomic_int_set (&writer.stop, 1);
  g_thread_join (thread);
  g_test_message ("%u writes on a during the join", writer.written);
  g_assert_cmpuint (writer.written, >, 0);
  expected_len = g_strdup_printf ("%u", ENTRIES + writer.written);
  last_key = g_strdup_printf ("w%05u", writer.written - 1);
  last_value = g_strdup_printf ("%u", writer.written - 1);
  wait_value (f, f->b, context_id, last_key, last_value, WAIT_MS);

  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, JOIN_SYNC_MS);
  if (root == NULL)
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node b never reached node a's root");
    }
  snapshots = mero_test_node_metric (f->cluster, f->b, SNAPSHOT_OK);
  g_assert_cmpuint (snapshots, >=, 1);
  len = kv (f, f->b, context_id, "len");
  g_assert_cmpstr (len, ==, expected_len);
  entries_a = kv (f, f->a, context_id, "entries");
  entries_b = kv (f, f->b, context_id, "entries");
  g_assert_cmpstr (entries_b, ==, entries_a);
  /* Deltas that reached B before its session started (nothing is
   * buffered yet) may have fetched their parents; none after. */
  g_test_message ("delta fetches on b during the join: %" G_GUINT64_FORMAT,
                  mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED));

  /* Live deltas after the join: they cite the boundary heads, which are
   * checkpoints at B, so nothing is fetched. */
  settle (SETTLE_MS);
  fetched = mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED);
  written = g_get_monotonic_time ();
  mero_test_node_kv_set (f->cluster, f->a, context_id, "live", "1");
  wait_value (f, f->b, context_id, "live", "1", LIVE_MS);
  g_test_message ("live write visible on b after %.0f ms",
                  (double) (g_get_monotonic_time () - written) / 1000);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED), ==, fetched);
  g_free (root);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, WAIT_MS);
  g_assert_nonnull (root);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, SNAPSHOT_OK), ==, snapshots);
}

/* B writes a key A never hears of (SkipNextBroadcasts); `meroctl context
 * sync --resync` on B replaces B's state by A's: the key is gone, the
 * roots are equal, by a sync-snapshot session.  A plain sync would merge
 * and keep it. */
static void
test_operator_resync (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  const char *args[] = { "context", "sync", "--resync", context_id, NULL };
  g_autofree char *out = NULL, *err = NULL, *root = NULL, *root_a = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skip = NULL;
  SnapshotWait w = { f, f->b, 0 };

  mero_test_node_kv_set (f->cluster, f->a, context_id, "shared", "0");
  wait_value (f, f->b, context_id, "shared", "0", WAIT_MS);
  settle (SETTLE_MS);
  skip = mero_test_node_call (f->cluster, f->b, "SkipNextBroadcasts",
                              g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  mero_test_node_kv_set (f->cluster, f->b, context_id, "only_b", "1");
  wait_value (f, f->b, context_id, "only_b", "1", WAIT_MS);

  w.before = mero_test_node_metric (f->cluster, f->b, SNAPSHOT_OK);
  g_assert_cmpint (mero_test_node_meroctl (f->b, args, &out, &err), ==, 0);
  if (!mero_test_wait_until (snapshot_grew, &w, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node b: no sync-snapshot session after meroctl context sync --resync");
    }
  wait_value (f, f->b, context_id, "only_b", "null", WAIT_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, WAIT_MS);
  g_assert_nonnull (root);
  root_a = mero_test_node_root (f->cluster, f->a, context_id);
  g_assert_cmpstr (root, ==, root_a);
  {
    g_autofree char *value = NULL;
    g_autoptr (GError) get_error = NULL;

    /* A never had it. */
    value = mero_test_node_kv (f->cluster, f->a, context_id, "get", "{\"key\":\"only_b\"}",
                               &get_error);
    g_assert_no_error (get_error);
    g_assert_cmpstr (value, ==, "null");
  }
  /* And B follows A's live deltas again. */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "after", "2");
  wait_value (f, f->b, context_id, "after", "2", WAIT_MS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sync-snapshot/join", Fixture, "quiet", fixture_set_up, test_join_by_snapshot,
              fixture_tear_down);
  g_test_add ("/sync-snapshot/operator-resync", Fixture, NULL, fixture_set_up,
              test_operator_resync, fixture_tear_down);
  return g_test_run ();
}
