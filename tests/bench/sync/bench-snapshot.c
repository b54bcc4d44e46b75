/* bench-snapshot: a fresh joiner of a context built by n writes (the
 * key-value application on RocksDB, one delta per write), measured in one
 * run two ways: the sync-snapshot session onto a fresh replica (in-memory
 * transport of the simulator, real stores on both sides, the responder's
 * paging and zstd included) against replaying the whole history (the
 * delta store's receive_many of the n deltas, in their order).  Both end
 * with the writer's root, checked.
 *
 * Target (issue 11): n = 100,000: snapshot >= 10x faster than the replay
 * and <= 5 s.
 *
 * Arguments: [n] (default 100000). */
#include <stdio.h>
#include <string.h>

#include "context-test-util.h"
#include "context/kv/mero-kv.h"
#include "context/state/mero-state-access.h"
#include "mero-test-fs.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_snapshot_get_descriptor (void);

#define TARGET_N 100000u
#define TARGET_RATIO 10.0
#define TARGET_SECONDS 5.0
/* receive_many takes the history in slices of this many envelopes, as a
 * node fetching it from a peer would. */
#define REPLAY_SLICE 4096u

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : TARGET_N;
  g_autofree char *tmp = mero_test_make_tmpdir ("mero-bench-snapshot");
  g_autofree char *dir_w = g_build_filename (tmp, "writer", NULL);
  g_autofree char *dir_s = g_build_filename (tmp, "snapshot", NULL);
  g_autofree char *dir_r = g_build_filename (tmp, "replay", NULL);
  TestClock clock = { 1700000000000 };
  g_autoptr (GPtrArray) history = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (
    mero_plugin_sync_snapshot_get_descriptor (), NULL);
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261207);
  TestReplica *w, *s, *r;
  g_autofree char *root_w = NULL;
  g_autofree char *root_s = NULL;
  g_autofree char *root_r = NULL;
  SyncSimResult res;
  gint64 t0;
  double t_build, t_snapshot, t_replay, ratio;
  gboolean met;

  w = test_replica_new (1, &clock, dir_w);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *k = g_strdup_printf ("key-%u", i);
      g_autofree char *v = g_strdup_printf ("value-%u-%u", i, i * 2654435761u);
      g_autoptr (GError) error = NULL;
      GBytes *env = NULL;

      mero_kv_set (w->ds, k, (const guint8 *) v, strlen (v), &env, &error);
      g_assert_no_error (error);
      g_ptr_array_add (history, env);
      clock.now_ms++;
    }
  t_build = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  root_w = test_root_hex (w);
  printf ("context built by %u writes in %.2f s\n", n, t_build);
  fflush (stdout);

  /* Snapshot join. */
  s = test_replica_new (2, &clock, dir_s);
  {
    g_autoptr (MeroStateHandle) hs = mero_state_handle_new (mero_delta_store_get_state (s->ds),
                                                            s->ds);
    g_autoptr (MeroStateHandle) hw = mero_state_handle_new (mero_delta_store_get_state (w->ds),
                                                            w->ds);

    t0 = g_get_monotonic_time ();
    g_assert_true (sync_sim_run_handles (p, test_context_id, hs, hw, rand, G_MAXUINT64, &res));
    t_snapshot = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
  }
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  root_s = test_root_hex (s);
  g_assert_cmpstr (root_s, ==, root_w);
  printf ("snapshot join: %.3f s (%" G_GUINT64_FORMAT " bytes to the joiner, %" G_GUINT64_FORMAT
          " round trips)\n", t_snapshot, res.bytes_to_initiator, res.round_trips);
  fflush (stdout);

  /* History replay. */
  r = test_replica_new (3, &clock, dir_r);
  {
    g_autofree MeroDeltaOutcome *outcomes = g_new0 (MeroDeltaOutcome, REPLAY_SLICE);
    guint accepted = 0;

    t0 = g_get_monotonic_time ();
    for (guint i = 0; i < history->len; i += REPLAY_SLICE)
      {
        guint k = MIN (REPLAY_SLICE, history->len - i);

        accepted += mero_delta_store_receive_many (r->ds, (GBytes *const *) history->pdata + i, k,
                                                   outcomes, NULL);
      }
    t_replay = (double) (g_get_monotonic_time () - t0) / G_USEC_PER_SEC;
    g_assert_cmpuint (accepted, ==, n);
  }
  root_r = test_root_hex (r);
  g_assert_cmpstr (root_r, ==, root_w);
  printf ("history replay (receive_many): %.3f s\n", t_replay);

  ratio = t_replay / MAX (t_snapshot, 1e-9);
  met = ratio >= TARGET_RATIO && t_snapshot <= TARGET_SECONDS;
  printf ("snapshot %.1fx faster than replay\n", ratio);
  if (n == TARGET_N)
    printf ("target: n = %u: snapshot >= %.0fx faster than replay and <= %.0f s: %s\n", n,
            TARGET_RATIO, TARGET_SECONDS, met ? "met" : "MISSED");
  test_replica_free (r);
  test_replica_free (s);
  test_replica_free (w);
  mero_test_remove_tree (tmp);
  return 0;
}
