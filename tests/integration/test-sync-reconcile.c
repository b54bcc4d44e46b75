/* test-sync-reconcile.c: sync-reconcile between real merod processes.
 *
 * Checked: two members sharing a context of ENTRIES keys diverge on
 * purpose (SkipNextBroadcasts makes each write local only; heartbeats
 * every hour and no later delta, so no delta fetch can repair it): A
 * writes a key of its own and removes a shared one (a tombstone), B
 * writes a key of its own, and both write the same key differently.  At
 * that size the SyncManager's cost() ranking picks sync-reconcile (its
 * cost does not grow with the state; levelwise's does, sync-hash's is
 * higher still, sync-snapshot is only for a fresh state), so the next
 * periodic session runs it: both end with equal roots and equal entries
 * (the removed key gone on both, the key written twice holding the later
 * write), and /metrics shows
 * mero_sync_selections_total{protocol="sync-reconcile"} and
 * mero_sync_sessions_total{protocol="sync-reconcile",result="ok"}.  With
 * sync.protocols = "sync-hash;sync-reconcile" the same divergence is
 * repaired by sync-hash, tried first though it costs more: sync-reconcile
 * is selected only after a failed sync-hash, sync-levelwise (not listed)
 * never.
 * Every wait is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"

#define LONG_HEARTBEAT_SECS 3600
#define SYNC_INTERVAL_SECS "2"
/* Enough that sync-reconcile is cheaper than sync-levelwise (about 300,
 * README "sync-reconcile"), few enough to write in a second or two. */
#define ENTRIES 400u
#define FILL_MS 15000
/* Two jittered intervals, with room for a loaded machine. */
#define CONVERGE_MS 12000
#define WAIT_MS 10000
#define SETTLE_MS 1000
#define RECONCILE_OK "mero_sync_sessions_total{protocol=\"sync-reconcile\",result=\"ok\"}"
#define RECONCILE_SELECTED "mero_sync_selections_total{protocol=\"sync-reconcile\"}"
#define HASH_OK "mero_sync_sessions_total{protocol=\"sync-hash\",result=\"ok\"}"
#define HASH_FAILED "mero_sync_sessions_total{protocol=\"sync-hash\",result=\"failed\"}"
#define LEVELWISE_SELECTED "mero_sync_selections_total{protocol=\"sync-levelwise\"}"
/* The key A removes while diverged (written by the fill). */
#define REMOVED_KEY "k00012"

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
} Fixture;

/* Nodes log at info level only: a node logging each of the fill's writes
 * at debug level would block on its pipe (see test-sync-snapshot.c).
 * @data: sync.protocols of both (NULL: unset). */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  mero_test_cluster_set_verbose (f->cluster, FALSE);
  f->a = mero_test_cluster_add_node (f->cluster, "a", LONG_HEARTBEAT_SECS);
  f->b = mero_test_cluster_add_node (f->cluster, "b", LONG_HEARTBEAT_SECS);
  mero_test_node_config_set (f->a, "sync.interval_secs", SYNC_INTERVAL_SECS);
  mero_test_node_config_set (f->b, "sync.interval_secs", SYNC_INTERVAL_SECS);
  if (data != NULL)
    {
      mero_test_node_config_set (f->a, "sync.protocols", data);
      mero_test_node_config_set (f->b, "sync.protocols", data);
    }
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

static char *
kv_get (Fixture *f, MeroTestNode *node, const char *context_id, const char *key)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", key);
  g_autoptr (GError) error = NULL;
  char *value = mero_test_node_kv (f->cluster, node, context_id, "get", args, &error);

  g_assert_no_error (error);
  return value;
}

static gboolean
has_value (gpointer data)
{
  ValueWait *w = data;
  g_autofree char *value = kv_get (w->f, w->node, w->context_id, w->key);

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
on_both (Fixture *f, const char *series)
{
  return mero_test_node_metric (f->cluster, f->a, series)
         + mero_test_node_metric (f->cluster, f->b, series);
}

static void
skip_broadcasts (Fixture *f, MeroTestNode *node, const char *context_id, guint n)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = mero_test_node_call (f->cluster, node, "SkipNextBroadcasts",
                                                    g_variant_new ("(su)", context_id, n),
                                                    NULL, &error);

  g_assert_no_error (error);
}

static void
kv_remove (Fixture *f, MeroTestNode *node, const char *context_id, const char *key)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", key);
  g_autoptr (GError) error = NULL;
  g_autofree char *removed = mero_test_node_kv (f->cluster, node, context_id, "remove", args,
                                                &error);

  g_assert_no_error (error);
  g_assert_cmpstr (removed, ==, "true");
}

/* A context A and B share, ENTRIES keys written on A and gossiped to B;
 * returns its id once both have the same root. */
static char *
share_filled (Fixture *f)
{
  MeroTestNode *joiners[] = { f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, NULL };
  char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *last_key = g_strdup_printf ("k%05u", ENTRIES - 1);
  g_autofree char *last_value = g_strdup_printf ("%u", ENTRIES - 1);
  g_autofree char *root = NULL;

  mero_test_node_kv_fill (f->cluster, f->a, context_id, "k", ENTRIES, FILL_MS);
  wait_value (f, f->b, context_id, last_key, last_value, WAIT_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_MS);
  g_assert_nonnull (root);
  settle (SETTLE_MS);
  return context_id;
}

/* Diverges A and B (a key each, a removed key, a key both write) and
 * waits until they agree again on roots and entries. */
static void
diverge_and_converge (Fixture *f, const char *context_id)
{
  MeroTestNode *all[] = { f->a, f->b, NULL };
  g_autofree char *root = NULL, *entries_a = NULL, *entries_b = NULL, *gone = NULL;
  g_autoptr (GError) error = NULL;

  /* Diverge: every write below stays on its node. */
  skip_broadcasts (f, f->a, context_id, 3);
  skip_broadcasts (f, f->b, context_id, 2);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "only_a", "1");
  kv_remove (f, f->a, context_id, REMOVED_KEY);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "both", "\"a\"");
  mero_test_node_kv_set (f->cluster, f->b, context_id, "only_b", "2");
  /* B writes last: its write is the later one. */
  mero_test_node_kv_set (f->cluster, f->b, context_id, "both", "\"b\"");

  wait_value (f, f->b, context_id, "only_a", "1", CONVERGE_MS);
  wait_value (f, f->a, context_id, "only_b", "2", CONVERGE_MS);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_MS);
  if (root == NULL)
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("the roots did not converge after the sync");
    }
  /* The tombstone reached B; the later write won on both. */
  gone = kv_get (f, f->b, context_id, REMOVED_KEY);
  g_assert_cmpstr (gone, ==, "null");
  wait_value (f, f->a, context_id, "both", "\"b\"", WAIT_MS);
  wait_value (f, f->b, context_id, "both", "\"b\"", WAIT_MS);
  /* Equal entries, not only equal roots. */
  entries_a = mero_test_node_kv (f->cluster, f->a, context_id, "entries", "{}", &error);
  g_assert_no_error (error);
  entries_b = mero_test_node_kv (f->cluster, f->b, context_id, "entries", "{}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (entries_a, ==, entries_b);
  g_assert_null (strstr (entries_a, "\"" REMOVED_KEY "\""));
  g_assert_nonnull (strstr (entries_a, "\"only_a\""));
  g_assert_nonnull (strstr (entries_a, "\"only_b\""));
}

static void
test_diverged_members_reconcile (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = share_filled (f);
  guint64 ok_before = on_both (f, RECONCILE_OK);
  guint64 selected_before = on_both (f, RECONCILE_SELECTED);

  diverge_and_converge (f, context_id);
  /* By sync-reconcile, selected by its cost. */
  g_assert_cmpuint (on_both (f, RECONCILE_SELECTED), >, selected_before);
  g_assert_cmpuint (on_both (f, RECONCILE_OK), >, ok_before);
}

/* sync.protocols = "sync-hash;sync-reconcile": its order, not the cost. */
static void
test_configured_order (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = share_filled (f);
  guint64 ok_before = on_both (f, HASH_OK);

  diverge_and_converge (f, context_id);
  g_assert_cmpuint (on_both (f, HASH_OK), >, ok_before);
  /* sync-reconcile only ever after a failed sync-hash (none, mostly),
   * sync-levelwise (not listed) never. */
  g_assert_cmpuint (on_both (f, RECONCILE_SELECTED), <=, on_both (f, HASH_FAILED));
  g_assert_cmpuint (on_both (f, LEVELWISE_SELECTED), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/sync-reconcile/diverged-members-reconcile", Fixture, NULL, fixture_set_up,
              test_diverged_members_reconcile, fixture_tear_down);
  g_test_add ("/sync-reconcile/configured-order", Fixture, "sync-hash;sync-reconcile",
              fixture_set_up, test_configured_order, fixture_tear_down);
  return g_test_run ();
}
