/* Property: N in-process replicas apply random operations and exchange
 * their deltas in random order, with duplicates and delays; once every
 * delta is delivered they hold identical roots, heads, kv contents and
 * counter values.
 *
 * Seeded: every run checks seeds 1..MERO_TEST_SEEDS (default 300); set
 * MERO_TEST_SEED=<n> to replay one seed (its log says which failed). */
#include <stdlib.h>
#include <string.h>

#include "context-test-util.h"
#include "context/state/mero-collections.h"

#define MAX_REPLICAS 5
#define KEY_SPACE 12

typedef struct {
  TestClock clock;
  GRand *rand;
  guint n;
  TestReplica *r[MAX_REPLICAS];
  GPtrArray *inbox[MAX_REPLICAS];   /* GBytes envelopes not yet delivered */
  guint8 counter[32];
  guint produced;
} World;

static void
broadcast (World *w, guint from, GBytes *env)
{
  if (env == NULL)
    return;
  w->produced++;
  for (guint i = 0; i < w->n; i++)
    {
      if (i == from)
        continue;
      g_ptr_array_add (w->inbox[i], g_bytes_ref (env));
      /* Duplicates: the network may deliver twice. */
      if (g_rand_int_range (w->rand, 0, 5) == 0)
        g_ptr_array_add (w->inbox[i], g_bytes_ref (env));
    }
  g_bytes_unref (env);
}

static void
local_op (World *w, guint i)
{
  TestReplica *r = w->r[i];
  g_autoptr (GError) error = NULL;
  g_autofree char *key = g_strdup_printf ("key%d", g_rand_int_range (w->rand, 0, KEY_SPACE));
  g_autofree char *value = g_strdup_printf ("v%u-%u", i, g_rand_int (w->rand) % 1000);
  GBytes *env = NULL;
  gint op = g_rand_int_range (w->rand, 0, 100);

  if (op < 55)
    mero_kv_set (r->ds, key, (const guint8 *) value, strlen (value), &env, &error);
  else if (op < 75)
    {
      gboolean removed;

      mero_kv_remove (r->ds, key, &removed, &env, &error);
    }
  else if (op < 78)
    {
      guint removed;

      mero_kv_clear (r->ds, &removed, &env, &error);
    }
  else
    {
      g_autoptr (MeroActionList) list = mero_action_list_new ();
      MeroHlc ts = mero_delta_store_next_hlc (r->ds);
      gint64 amount = g_rand_int_range (w->rand, -5, 10);

      mero_counter_add (list, mero_delta_store_get_state (r->ds), w->counter, r->pk, amount,
                        &error);
      g_assert_no_error (error);
      if (mero_action_list_len (list) > 0)
        mero_delta_store_commit_local (r->ds, &ts, mero_action_list_actions (list),
                                       mero_action_list_len (list), &env, NULL, &error);
    }
  g_assert_no_error (error);
  broadcast (w, i, env);
}

static void
deliver_one (World *w, guint i)
{
  GPtrArray *in = w->inbox[i];
  guint k;
  g_autoptr (GBytes) env = NULL;

  if (in->len == 0)
    return;
  /* Any queued message, not the oldest: reordering and delay. */
  k = (guint) g_rand_int_range (w->rand, 0, (gint32) in->len);
  env = g_ptr_array_steal_index_fast (in, k);
  test_replica_receive (w->r[i], env);
}

static gint64
counter_of (TestReplica *r, const guint8 counter[32])
{
  g_autoptr (GError) error = NULL;
  gint64 v = 0;

  mero_counter_value (mero_delta_store_get_state (r->ds), counter, &v, &error);
  g_assert_no_error (error);
  return v;
}

static void
run_seed (guint32 seed)
{
  World w = { 0 };
  guint steps;

  w.clock.now_ms = 1700000000000;
  w.rand = g_rand_new_with_seed (seed);
  w.n = (guint) g_rand_int_range (w.rand, 2, MAX_REPLICAS + 1);
  steps = (guint) g_rand_int_range (w.rand, 20, 200);
  for (guint i = 0; i < w.n; i++)
    {
      w.r[i] = test_replica_new (seed * 16 + i, &w.clock, NULL);
      w.inbox[i] = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
    }
  /* A shared PN counter, created by replica 0 and known to everyone. */
  {
    g_autoptr (MeroActionList) list = mero_action_list_new ();
    g_autoptr (GError) error = NULL;
    MeroHlc ts = mero_delta_store_next_hlc (w.r[0]->ds);
    GBytes *env = NULL;

    mero_entity_entry_id (test_context_id, (const guint8 *) "counter", 7, w.counter);
    mero_collection_create (list, test_context_id, w.counter, MERO_CRDT_PNCOUNTER, NULL, 0);
    mero_delta_store_commit_local (w.r[0]->ds, &ts, mero_action_list_actions (list),
                                   mero_action_list_len (list), &env, NULL, &error);
    g_assert_no_error (error);
    for (guint i = 1; i < w.n; i++)
      test_replica_receive (w.r[i], env);
    g_bytes_unref (env);
  }

  for (guint s = 0; s < steps; s++)
    {
      guint i = (guint) g_rand_int_range (w.rand, 0, (gint32) w.n);

      w.clock.now_ms += (guint64) g_rand_int_range (w.rand, 0, 4);
      if (g_rand_int_range (w.rand, 0, 100) < 45)
        local_op (&w, i);
      else
        deliver_one (&w, i);
    }
  /* Deliver the rest, still in random order. */
  for (;;)
    {
      guint left = 0;

      for (guint i = 0; i < w.n; i++)
        left += w.inbox[i]->len;
      if (left == 0)
        break;
      deliver_one (&w, (guint) g_rand_int_range (w.rand, 0, (gint32) w.n));
    }

  {
    g_autofree char *root0 = test_root_hex (w.r[0]);
    g_autofree char *kv0 = test_kv_dump (w.r[0]);
    gint64 c0 = counter_of (w.r[0], w.counter);
    guint nh0;
    const guint8 *h0 = mero_delta_store_heads (w.r[0]->ds, &nh0);

    for (guint i = 0; i < w.n; i++)
      {
        g_autofree char *root = test_root_hex (w.r[i]);
        g_autofree char *kv = test_kv_dump (w.r[i]);
        guint nh;
        const guint8 *h = mero_delta_store_heads (w.r[i]->ds, &nh);

        if (g_strcmp0 (root, root0) != 0 || g_strcmp0 (kv, kv0) != 0)
          g_test_message ("seed %u diverged (replay with MERO_TEST_SEED=%u)", seed, seed);
        g_assert_cmpuint (mero_delta_store_pending_count (w.r[i]->ds), ==, 0);
        g_assert_cmpstr (kv, ==, kv0);
        g_assert_cmpstr (root, ==, root0);
        g_assert_cmpmem (h, nh * 32, h0, nh0 * 32);
        g_assert_cmpint (counter_of (w.r[i], w.counter), ==, c0);
      }
  }
  for (guint i = 0; i < w.n; i++)
    {
      test_replica_free (w.r[i]);
      g_ptr_array_unref (w.inbox[i]);
    }
  g_rand_free (w.rand);
}

static void
test_convergence (void)
{
  const char *one = g_getenv ("MERO_TEST_SEED");
  const char *count = g_getenv ("MERO_TEST_SEEDS");
  guint n = count != NULL ? (guint) strtoul (count, NULL, 10) : 300;

  if (one != NULL)
    {
      run_seed ((guint32) strtoul (one, NULL, 10));
      return;
    }
  for (guint seed = 1; seed <= n; seed++)
    run_seed (seed);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/property/convergence", test_convergence);
  return g_test_run ();
}
