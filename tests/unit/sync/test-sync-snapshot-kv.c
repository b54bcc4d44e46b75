/* sync-snapshot onto replicas kept by real delta stores (the built-in
 * key-value application on RocksDB): the fresh joiner ends with the
 * responder's entries, root and DAG heads, written in the snapshot's one
 * batch; a snapshot cut by a crash is found at reopen (the delta store
 * opens the context), its staging dropped, the state fresh, and the next
 * snapshot converges; the shipped module, loaded as the node loads it,
 * does the same. */
#include <string.h>

#include "context-test-util.h"
#include "mero-test-fs.h"
#include "context/kv/mero-kv.h"
#include "context/state/mero-state-access.h"
#include "context/state/mero-state-snapshot.h"
#include "plugin/mero-plugin-registry.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_snapshot_get_descriptor (void);

static void
write_keys (TestReplica *r, TestClock *clock, guint n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *k = g_strdup_printf ("key-%u", i);
      g_autofree char *v = g_strdup_printf ("value-%u", i * 7);
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) env = NULL;

      mero_kv_set (r->ds, k, (const guint8 *) v, strlen (v), &env, &error);
      g_assert_no_error (error);
      clock->now_ms++;
    }
}

static void
assert_same_heads (TestReplica *a, TestReplica *b)
{
  guint na = 0, nb = 0;
  const guint8 *ha = mero_delta_store_heads (a->ds, &na);
  const guint8 *hb = mero_delta_store_heads (b->ds, &nb);

  g_assert_cmpuint (nb, >, 0);
  g_assert_cmpmem (ha, (gsize) na * 32, hb, (gsize) nb * 32);
}

static void
run_snapshot (SyncSimProtocol *p, TestReplica *a, TestReplica *b)
{
  g_autoptr (MeroStateHandle) ha = mero_state_handle_new (mero_delta_store_get_state (a->ds),
                                                          a->ds);
  g_autoptr (MeroStateHandle) hb = mero_state_handle_new (mero_delta_store_get_state (b->ds),
                                                          b->ds);
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (17));
  g_autofree char *ka = NULL;
  g_autofree char *kb = NULL;
  g_autofree char *ra = NULL;
  g_autofree char *rb = NULL;
  SyncSimResult res;

  g_assert_true (sync_sim_run_handles (p, test_context_id, ha, hb, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (res.responder, ==, MERO_SYNC_STATUS_DONE);
  ka = test_kv_dump (a);
  kb = test_kv_dump (b);
  g_assert_cmpstr (ka, ==, kb);
  ra = test_root_hex (a);
  rb = test_root_hex (b);
  g_assert_cmpstr (ra, ==, rb);
  assert_same_heads (a, b);
}

static void
test_fresh_joiner (void)
{
  g_autofree char *tmp = mero_test_make_tmpdir ("mero-snapshot-kv");
  g_autofree char *dir_a = g_build_filename (tmp, "a", NULL);
  g_autofree char *dir_b = g_build_filename (tmp, "b", NULL);
  TestClock clock = { 1700000000000 };
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, dir_a);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, dir_b);
  g_autofree char *ka = NULL;
  g_autofree char *kb = NULL;

  write_keys (b, &clock, 3000);
  run_snapshot (p, a, b);
  /* Root and heads were committed, not only cached: a restart keeps them. */
  test_replica_reopen (a, &clock);
  ka = test_kv_dump (a);
  kb = test_kv_dump (b);
  g_assert_cmpstr (ka, ==, kb);
  assert_same_heads (a, b);
  test_replica_free (g_steal_pointer (&a));
  test_replica_free (g_steal_pointer (&b));
  mero_test_remove_tree (tmp);
}

static void
test_crash_at_reopen (void)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autofree char *tmp = mero_test_make_tmpdir ("mero-snapshot-kv");
  g_autofree char *dir_a = g_build_filename (tmp, "a", NULL);
  g_autofree char *dir_b = g_build_filename (tmp, "b", NULL);
  TestClock clock = { 1700000000000 };
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, dir_a);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, dir_b);
  g_autoptr (GError) error = NULL;
  MeroStateEntity page[256];
  guint8 root[32], cursor[32], zero[32] = { 0 }, now[32];
  const guint8 *heads;
  gsize n_heads, n = 0;
  gboolean more = FALSE, resumed = FALSE, in_progress = FALSE;

  write_keys (b, &clock, 1000);
  {
    g_autoptr (MeroStateHandle) ha = mero_state_handle_new (mero_delta_store_get_state (a->ds),
                                                            a->ds);
    g_autoptr (MeroStateHandle) hb = mero_state_handle_new (mero_delta_store_get_state (b->ds),
                                                            b->ds);
    MeroStateReadView *view = sa->read_view_new (hb, &error);
    MeroSnapshotWriter *w;

    g_assert_no_error (error);
    sa->read_view_boundary (view, root, &heads, &n_heads);
    w = sa->snapshot_begin (ha, root, FALSE, cursor, &resumed, &error);
    g_assert_no_error (error);
    g_assert_true (sa->read_view_page (view, NULL, page, G_N_ELEMENTS (page), &n, &more, &error));
    g_assert_true (sa->snapshot_put_page (w, page, n, &error));
    g_assert_no_error (error);
    /* The process dies here: no commit, no abort. */
    sa->snapshot_free (w);
    sa->read_view_free (view);
  }
  test_replica_reopen (a, &clock);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics,
                                              "mero_sync_snapshot_crash_recoveries_total", NULL),
                    ==, 1);
  g_assert_true (mero_state_snapshot_in_progress (mero_delta_store_get_state (a->ds),
                                                  &in_progress, &error));
  g_assert_false (in_progress);
  mero_delta_store_root (a->ds, now);
  g_assert_cmpmem (now, 32, zero, 32);
  run_snapshot (p, a, b);
  test_replica_free (g_steal_pointer (&a));
  test_replica_free (g_steal_pointer (&b));
  mero_test_remove_tree (tmp);
}

/* The shipped module as the node loads it (MERO_PLUGIN_DIR, the
 * registry's init with the host services and state access). */
static void
test_loaded_module (void)
{
  g_autoptr (MeroPluginRegistry) registry = mero_plugin_registry_new ();
  g_autoptr (GPtrArray) sync = NULL;
  TestClock clock = { 1700000000000 };
  guint ran = 0;

  mero_plugin_registry_set_state_access (registry, mero_state_access_get ());
  mero_plugin_registry_load_path (registry, NULL);
  sync = mero_plugin_registry_get_sync_protocols (registry);
  for (guint i = 0; i < sync->len; i++)
    {
      const MeroLoadedSyncProtocol *lp = g_ptr_array_index (sync, i);
      g_autoptr (SyncSimProtocol) p = NULL;
      g_autoptr (TestReplica) a = NULL;
      g_autoptr (TestReplica) b = NULL;

      if (!g_str_equal (lp->info->name, "sync-snapshot"))
        continue;
      g_assert_true (g_str_has_suffix (lp->info->module_file, ".so"));
      p = sync_sim_protocol_wrap (lp->vtable, lp->plugin_data);
      a = test_replica_new (3, &clock, NULL);
      b = test_replica_new (4, &clock, NULL);
      write_keys (b, &clock, 500);
      run_snapshot (p, a, b);
      ran++;
    }
  g_assert_cmpuint (ran, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync-snapshot-kv/fresh-joiner", test_fresh_joiner);
  g_test_add_func ("/sync-snapshot-kv/crash-at-reopen", test_crash_at_reopen);
  g_test_add_func ("/sync-snapshot-kv/loaded-module", test_loaded_module);
  return g_test_run ();
}
