/* The sync plugins on the built-in key-value application's state, kept by
 * real delta stores: two replicas written apart (their deltas never
 * exchanged) end with the same entries and root after one session, and
 * the state handle reports the delta store's DAG heads. */
#include <string.h>

#include "context-test-util.h"
#include "context/kv/mero-kv.h"
#include "context/state/mero-state-access.h"
#include "plugin/mero-plugin-registry.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_hash_get_descriptor (void);
const MeroPluginDescriptor *mero_plugin_sync_levelwise_get_descriptor (void);

static void
set (TestReplica *r, const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) env = NULL;

  mero_kv_set (r->ds, key, (const guint8 *) value, strlen (value), &env, &error);
  g_assert_no_error (error);
}

static void
run_kv_with (SyncSimProtocol *p)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, NULL);
  g_autoptr (MeroStateHandle) ha = mero_state_handle_new (mero_delta_store_get_state (a->ds), a->ds);
  g_autoptr (MeroStateHandle) hb = mero_state_handle_new (mero_delta_store_get_state (b->ds), b->ds);
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (5));
  g_autofree char *ra = NULL;
  g_autofree char *rb = NULL;
  g_autofree char *ka = NULL;
  g_autofree char *kb = NULL;
  SyncSimResult res;

  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *k = g_strdup_printf ("key-%u", i);
      g_autofree char *v = g_strdup_printf ("a-%u", i);

      set (a, k, v);
      clock.now_ms++;
    }
  for (guint i = 150; i < 260; i++)
    {
      g_autofree char *k = g_strdup_printf ("key-%u", i);
      g_autofree char *v = g_strdup_printf ("b-%u", i);

      set (b, k, v);
      clock.now_ms++;
    }
  ka = test_kv_dump (a);
  kb = test_kv_dump (b);
  g_assert_cmpstr (ka, !=, kb);
  g_clear_pointer (&ka, g_free);
  g_clear_pointer (&kb, g_free);

  g_assert_true (sync_sim_run_handles (p, test_context_id, ha, hb, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (res.responder, ==, MERO_SYNC_STATUS_DONE);
  ka = test_kv_dump (a);
  kb = test_kv_dump (b);
  g_assert_cmpstr (ka, ==, kb);
  /* b wrote keys 150..199 later: its values win there. */
  g_assert_nonnull (strstr (ka, "key-170=b-170"));
  g_assert_nonnull (strstr (ka, "key-10=a-10"));
  ra = test_root_hex (a);
  rb = test_root_hex (b);
  g_assert_cmpstr (ra, ==, rb);
}

static void
run_kv (gconstpointer data)
{
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (data, NULL);

  run_kv_with (p);
}

/* The shipped modules as the node loads them (MERO_PLUGIN_DIR, the
 * registry's init with the host services and state access). */
static void
test_loaded_modules (void)
{
  g_autoptr (MeroPluginRegistry) registry = mero_plugin_registry_new ();
  g_autoptr (GPtrArray) sync = NULL;
  guint ran = 0;

  mero_plugin_registry_set_state_access (registry, mero_state_access_get ());
  mero_plugin_registry_load_path (registry, NULL);
  sync = mero_plugin_registry_get_sync_protocols (registry);
  for (guint i = 0; i < sync->len; i++)
    {
      const MeroLoadedSyncProtocol *lp = g_ptr_array_index (sync, i);
      g_autoptr (SyncSimProtocol) p = sync_sim_protocol_wrap (lp->vtable, lp->plugin_data);

      if (!g_str_equal (lp->info->name, "sync-hash")
          && !g_str_equal (lp->info->name, "sync-levelwise"))
        continue;
      g_test_message ("module %s", lp->info->module_file);
      g_assert_true (g_str_has_suffix (lp->info->module_file, ".so"));
      run_kv_with (p);
      ran++;
    }
  g_assert_cmpuint (ran, ==, 2);
}

typedef struct {
  TestReplica *writer;
  TestClock *clock;
  guint at_step;
  gboolean written;
} MidWrite;

static void
write_mid_session (guint step, gpointer data)
{
  MidWrite *mw = data;

  if (step != mw->at_step)
    return;
  mw->clock->now_ms++;
  set (mw->writer, "key-3", "written-during-the-session");
  mw->written = TRUE;
}

/* A local write on the responder while the session runs, after the first
 * round trip (for sync-hash into a bucket the initiator already found
 * equal: the first pass ends with roots that differ and a second pass from
 * the root catches it): the session still ends with both sides equal. */
static void
test_write_during_session (gconstpointer data)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, NULL);
  g_autoptr (MeroStateHandle) ha = mero_state_handle_new (mero_delta_store_get_state (a->ds), a->ds);
  g_autoptr (MeroStateHandle) hb = mero_state_handle_new (mero_delta_store_get_state (b->ds), b->ds);
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (data, NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (9));
  MidWrite mw = { b, &clock, 1, FALSE };
  g_autofree char *ka = NULL;
  g_autofree char *kb = NULL;
  SyncSimResult res;

  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *k = g_strdup_printf ("key-%u", i);

      set (a, k, "a");
      set (b, k, "a");
      clock.now_ms++;
    }
  set (a, "only-a", "1");
  set (b, "only-b", "1");
  g_assert_true (sync_sim_run_full (p, test_context_id, ha, hb, rand, G_MAXUINT64,
                                    write_mid_session, &mw, &res));
  /* The simulator steps only while a session runs: the write was made
   * during the session. */
  g_assert_true (mw.written);
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  ka = test_kv_dump (a);
  kb = test_kv_dump (b);
  g_assert_cmpstr (ka, ==, kb);
  g_assert_nonnull (strstr (ka, "key-3=written-during-the-session"));
  g_test_message ("%" G_GUINT64_FORMAT " round trips", res.round_trips);
}

static void
test_dag_heads (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (MeroStateHandle) h = mero_state_handle_new (mero_delta_store_get_state (a->ds), a->ds);
  const MeroStateAccess *sa = mero_state_access_get ();
  g_autoptr (GError) error = NULL;
  const guint8 *expected;
  guint n_expected = 0;
  guint8 heads[4 * 32];
  gsize n = 0;

  set (a, "x", "1");
  expected = mero_delta_store_heads (a->ds, &n_expected);
  g_assert_cmpuint (n_expected, ==, 1);
  g_assert_true (sa->get_dag_heads (h, heads, 4, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, n_expected);
  g_assert_cmpmem (heads, 32 * n, expected, 32 * n_expected);
  /* Bounded by the caller's room. */
  g_assert_true (sa->get_dag_heads (h, heads, 0, &n, &error));
  g_assert_cmpuint (n, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_data_func ("/sync-kv/hash", mero_plugin_sync_hash_get_descriptor (), run_kv);
  g_test_add_data_func ("/sync-kv/levelwise", mero_plugin_sync_levelwise_get_descriptor (),
                        run_kv);
  g_test_add_func ("/sync-kv/dag-heads", test_dag_heads);
  g_test_add_func ("/sync-kv/loaded-modules", test_loaded_modules);
  g_test_add_data_func ("/sync-kv/hash/write-during-session",
                        mero_plugin_sync_hash_get_descriptor (), test_write_during_session);
  g_test_add_data_func ("/sync-kv/levelwise/write-during-session",
                        mero_plugin_sync_levelwise_get_descriptor (), test_write_during_session);
  return g_test_run ();
}
