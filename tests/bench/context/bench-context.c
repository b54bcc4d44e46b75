/* bench-context.c: the state engine on RocksDB.
 *
 *   bench-context [N_DELTAS [MAX_ENTITIES]]   defaults: 20000, 1000000
 *   (MERO_BENCH_CPU_TIME=1: CPU time instead of wall time, see now_s)
 *
 * 1. Throughput, in one run: raw RocksDB puts/s (the backend's options,
 *    16-byte keys, 100-byte values, one put per write) against deltas
 *    received and applied per second (verify, decrypt, recompute id,
 *    decode, apply, one batch commit) with 1 and 10 map-set actions each,
 *    one receive per delta and receive_many by 100 (worker threads open
 *    the envelopes, one batch commit per 100 deltas),
 *    plus the crypto-only share (envelope open alone) and, as the storage
 *    floor, raw RocksDB write batches of as many puts as one such delta
 *    commits; and the engine alone (state txn, hashing, one batch commit,
 *    no crypto, no DAG records) against raw batches of its size, the fair
 *    measure of the engine; and the engine again with sync-reconcile's
 *    state index attached (its stored symbol prefix kept in the same
 *    batches), the write-path price of that index.
 * 2. Cost of updating one entity of a map holding 1k, 100k and 1M
 *    entities (population through large transactions, then timed
 *    single-update commits): one child index read per level, so it must
 *    stay flat with the count (modulo RocksDB block cache misses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rocksdb/c.h>
#include <sodium.h>

#include "context-test-util.h"
#include "context/state/mero-state-access.h"
#include "context/state/mero-state-index.h"
#include "plugin/mero-host-services.h"
#include "context/state/mero-collections.h"
#include "store-rocksdb-core.h"

const MeroPluginDescriptor *mero_plugin_sync_reconcile_get_descriptor (void);

/* MERO_BENCH_CPU_TIME=1: every figure (baselines included) in process
 * CPU time (all threads, RocksDB's background ones too) rather than wall
 * time, for a loaded or shared machine where wall-clock rates swing. */
static double
now_s (void)
{
  static int cpu = -1;

  if (cpu < 0)
    cpu = g_strcmp0 (g_getenv ("MERO_BENCH_CPU_TIME"), "1") == 0;
  if (cpu)
    {
      struct timespec ts;

      clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
      return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
    }
  return (double) g_get_monotonic_time () / 1e6;
}

static double
raw_puts_per_s (guint n)
{
  g_autofree char *dir = mero_test_make_tmpdir ("mero-context-test");
  rocksdb_options_t *options = mero_store_rocksdb_options_new (0, TRUE);
  rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
  char *err = NULL;
  rocksdb_t *db = rocksdb_open (options, dir, &err);
  guint8 key[16], value[100];
  double t0, dt;

  if (err != NULL)
    g_error ("rocksdb_open: %s", err);
  randombytes_buf (value, sizeof value);
  t0 = now_s ();
  for (guint i = 0; i < n; i++)
    {
      guint32 be = GUINT32_TO_BE (i);

      randombytes_buf (key, 12);
      memcpy (key + 12, &be, 4);
      rocksdb_put (db, wo, (const char *) key, sizeof key, (const char *) value, sizeof value,
                   &err);
      if (err != NULL)
        g_error ("rocksdb_put: %s", err);
    }
  dt = now_s () - t0;
  rocksdb_close (db);
  rocksdb_writeoptions_destroy (wo);
  rocksdb_options_destroy (options);
  mero_test_remove_tree (dir);
  return n / dt;
}

/* Write batches of @per puts (64..96-byte keys, 120-byte values). */
static double
raw_batches_per_s (guint n, guint per)
{
  g_autofree char *dir = mero_test_make_tmpdir ("mero-context-test");
  rocksdb_options_t *options = mero_store_rocksdb_options_new (0, TRUE);
  rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
  rocksdb_writebatch_t *batch = rocksdb_writebatch_create ();
  char *err = NULL;
  rocksdb_t *db = rocksdb_open (options, dir, &err);
  guint8 key[96], value[120];
  double t0, dt;

  if (err != NULL)
    g_error ("rocksdb_open: %s", err);
  randombytes_buf (value, sizeof value);
  t0 = now_s ();
  for (guint i = 0; i < n; i++)
    {
      rocksdb_writebatch_clear (batch);
      for (guint j = 0; j < per; j++)
        {
          randombytes_buf (key, sizeof key);
          rocksdb_writebatch_put (batch, (const char *) key, j % 2 ? 96 : 64,
                                  (const char *) value, j % 2 ? 32 : sizeof value);
        }
      rocksdb_write (db, wo, batch, &err);
      if (err != NULL)
        g_error ("rocksdb_write: %s", err);
    }
  dt = now_s () - t0;
  rocksdb_writebatch_destroy (batch);
  rocksdb_close (db);
  rocksdb_writeoptions_destroy (wo);
  rocksdb_options_destroy (options);
  mero_test_remove_tree (dir);
  return n / dt;
}

/* @n envelopes of @per actions each (map sets of fresh keys). */
static GPtrArray *
produce (TestClock *clock, guint n, guint per)
{
  g_autoptr (TestReplica) src = test_replica_new (100 + per, clock, NULL);
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint8 map[32];

  mero_kv_map_id (test_context_id, map);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (MeroActionList) list = mero_action_list_new ();
      g_autoptr (GError) error = NULL;
      MeroHlc ts = mero_delta_store_next_hlc (src->ds);
      GBytes *env = NULL;

      if (i == 0)
        mero_collection_create (list, test_context_id, map, MERO_CRDT_MAP, NULL, 0);
      for (guint j = 0; j < per; j++)
        {
          g_autofree char *k = g_strdup_printf ("key-%u-%u", i, j);

          mero_map_set (list, map, (const guint8 *) k, strlen (k),
                        (const guint8 *) "value-of-some-length-0123456789", 31, &error);
        }
      mero_delta_store_commit_local (src->ds, &ts, mero_action_list_actions (list),
                                     mero_action_list_len (list), &env, NULL, &error);
      g_assert_no_error (error);
      clock->now_ms++;
      g_ptr_array_add (out, env);
    }
  return out;
}

/* The engine without crypto: @n state txns of @per map sets of fresh keys
 * (the actions a received delta carries), each hashed and committed in
 * one batch as apply_delta does, minus the DAG records.  *puts gets the
 * mean batch size, for the raw-batch baseline of the same size. */
/* With @index, sync-reconcile's state index (its stored prefix of coded
 * symbols, SDK 1.2 plugin state index) is attached, so every commit also
 * updates it in the same batch: the write-path price of a session that
 * costs the difference rather than the state. */
static double
engine_per_s (guint n, guint per, gboolean index, double *puts)
{
  g_autofree char *dir = mero_test_make_tmpdir ("mero-context-test");
  g_autoptr (GError) error = NULL;
  MeroStore *store = mero_store_open (&mero_store_rocksdb_vtable, NULL, dir, NULL, &error);
  g_autoptr (MeroState) state = mero_state_new (store, test_context_id);
  const MeroPluginDescriptor *reconcile = mero_plugin_sync_reconcile_get_descriptor ();
  MeroHostServices *host = NULL;
  void *plugin_data = NULL;
  guint8 map[32];
  guint64 total = 0;
  double t0, dt;

  g_assert_no_error (error);
  if (index)
    {
      host = mero_host_services_new (reconcile->name, reconcile->kind, NULL,
                                     mero_state_access_get ());
      g_assert_true (reconcile->init (host, &plugin_data, &error));
      g_assert_no_error (error);
      g_assert_true (mero_state_index_attach (state, reconcile->name, reconcile->vtable,
                                              plugin_data, &error));
      g_assert_no_error (error);
    }
  mero_kv_map_id (test_context_id, map);
  t0 = now_s ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (MeroStateTxn) txn = mero_state_txn_new (state);
      g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (store);
      MeroHlc ts = { ((guint64) i + 1) << 16, 1 };
      guint8 root[32];

      if (i == 0)
        {
          MeroAction m = { 0 };

          m.kind = MERO_ACTION_ADD;
          memcpy (m.id, map, 32);
          memcpy (m.parent, test_context_id, 32);
          m.crdt_type = MERO_CRDT_MAP;
          mero_state_txn_apply (txn, &m, &ts, &error);
          g_assert_no_error (error);
        }
      for (guint j = 0; j < per; j++)
        {
          MeroAction a = { 0 };
          g_autofree char *k = g_strdup_printf ("key-%u-%u", i, j);

          a.kind = MERO_ACTION_ADD;
          mero_entity_entry_id (map, (const guint8 *) k, strlen (k), a.id);
          memcpy (a.parent, map, 32);
          a.crdt_type = MERO_CRDT_LWW;
          a.data = (const guint8 *) "value-of-some-length-0123456789";
          a.data_len = 31;
          mero_state_txn_apply (txn, &a, &ts, &error);
          g_assert_no_error (error);
        }
      mero_state_txn_finish (txn, batch, root, &error);
      g_assert_no_error (error);
      total += mero_store_batch_count (batch);
      mero_store_batch_commit (batch, &error);
      g_assert_no_error (error);
    }
  dt = now_s () - t0;
  *puts = (double) total / n;
  g_clear_pointer (&state, mero_state_free);
  if (index)
    {
      reconcile->finalize (plugin_data);
      mero_host_services_free (host);
    }
  mero_store_close (store);
  mero_test_remove_tree (dir);
  return n / dt;
}

static const guint8 *
lookup (const guint8 *key_id, gpointer data)
{
  return test_context_key;
}

static void
throughput (guint n)
{
  TestClock clock = { 1700000000000 };
  double raw = raw_puts_per_s (n * 10);

  printf ("%-44s %10s %10s %10s\n", "(per second, measured in this run)", "rate", "x raw put",
          "x raw batch");
  printf ("%-44s %10.0f %10.2f %10s\n", "raw RocksDB puts (one put per write)", raw, 1.0, "");
  for (guint per = 1; per <= 10; per += 9)
    {
      g_autoptr (GPtrArray) envs = produce (&clock, n, per);
      g_autofree char *dir = mero_test_make_tmpdir ("mero-context-test");
      g_autoptr (TestReplica) dst = test_replica_new (7, &clock, dir);
      double t0, dt, crypto, engine, indexed, puts = 0, index_puts = 0, floor, floor_delta,
          many = 0;
      g_autofree char *l1 = NULL, *l2 = NULL, *l3 = NULL, *l4 = NULL, *l5 = NULL, *l6 = NULL;
      g_autofree char *l7 = NULL;

      t0 = now_s ();
      for (guint i = 0; i < envs->len; i++)
        {
          GBytes *e = g_ptr_array_index (envs, i);
          g_autoptr (MeroDeltaOpened) o = mero_delta_envelope_open (
            g_bytes_get_data (e, NULL), g_bytes_get_size (e), test_context_id, lookup, NULL, NULL);

          g_assert_nonnull (o);
        }
      crypto = now_s () - t0;
      t0 = now_s ();
      for (guint i = 0; i < envs->len; i++)
        g_assert_cmpint (test_replica_receive (dst, g_ptr_array_index (envs, i)), ==,
                         MERO_DELTA_OUTCOME_APPLIED);
      dt = now_s () - t0;
      test_replica_free (g_steal_pointer (&dst));
      mero_test_remove_tree (dir);

      /* The same envelopes through mero_delta_store_receive_many, 100 at
       * a time (opened on worker threads, applied in one batch each). */
      {
        g_autofree char *dir2 = mero_test_make_tmpdir ("mero-context-test");
        g_autoptr (TestReplica) dst2 = test_replica_new (8, &clock, dir2);
        const guint chunk = 100;
        g_autofree MeroDeltaOutcome *outcomes = g_new0 (MeroDeltaOutcome, chunk);

        t0 = now_s ();
        for (guint i = 0; i < envs->len; i += chunk)
          {
            guint m = MIN (chunk, envs->len - i);

            g_assert_cmpuint (mero_delta_store_receive_many (dst2->ds, (GBytes **) envs->pdata + i,
                                                             m, outcomes, NULL), ==, m);
            for (guint k = 0; k < m; k++)
              g_assert_cmpint (outcomes[k], ==, MERO_DELTA_OUTCOME_APPLIED);
          }
        many = now_s () - t0;
        test_replica_free (g_steal_pointer (&dst2));
        mero_test_remove_tree (dir2);
      }

      engine = engine_per_s (n, per, FALSE, &puts);
      indexed = engine_per_s (n, per, TRUE, &index_puts);
      floor = raw_batches_per_s (n, (guint) (puts + 0.5));
      /* A received delta's batch also carries its record, the pending
       * marker delete and the DAG record. */
      floor_delta = raw_batches_per_s (n, (guint) (puts + 0.5) + 3);

      l1 = g_strdup_printf ("envelope open alone (verify+decrypt), %u act", per);
      l2 = g_strdup_printf ("raw batches of %u puts", (guint) (puts + 0.5) + 3);
      l3 = g_strdup_printf ("deltas received+applied, %u action(s)", per);
      l4 = g_strdup_printf ("raw batches of %u puts", (guint) (puts + 0.5));
      l5 = g_strdup_printf ("engine alone (txn+hash+commit), %u act", per);
      printf ("%-44s %10.0f %10.2f %10s\n", l1, n / crypto, (n / crypto) / raw, "");
      printf ("%-44s %10.0f %10.2f %10.2f\n", l2, floor_delta, floor_delta / raw, 1.0);
      l6 = g_strdup_printf ("  same, receive_many by 100, %u action(s)", per);
      printf ("%-44s %10.0f %10.2f %10.2f\n", l3, n / dt, (n / dt) / raw, (n / dt) / floor_delta);
      printf ("%-44s %10.0f %10.2f %10s\n", l6, n / many, (n / many) / raw, "");
      printf ("%-44s %10.0f %10.2f %10.2f\n", l4, floor, floor / raw, 1.0);
      printf ("%-44s %10.0f %10.2f %10.2f\n", l5, engine, engine / raw, engine / floor);
      l7 = g_strdup_printf ("  same + sync-reconcile index (%.0f puts)", index_puts);
      printf ("%-44s %10.0f %10.2f %10.2f   (%.2fx the engine alone)\n", l7, indexed,
              indexed / raw, indexed / floor, indexed / engine);
    }
  printf ("ceiling for received deltas: envelope open alone / raw puts (above)\n");
}

static void
commit_txn (MeroStore *store, MeroStateTxn *txn)
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (store);
  g_autoptr (GError) error = NULL;
  guint8 root[32];

  mero_state_txn_finish (txn, batch, root, &error);
  g_assert_no_error (error);
  mero_store_batch_commit (batch, &error);
  g_assert_no_error (error);
}

static void
entry_id (guint i, guint8 id[32])
{
  guint8 map[32];
  guint32 be = GUINT32_TO_BE (i);

  mero_kv_map_id (test_context_id, map);
  mero_entity_entry_id (map, (const guint8 *) &be, 4, id);
}

static void
update_cost (guint max_entities)
{
  const guint sizes[] = { 1000, 100000, 1000000 };
  g_autofree char *dir = mero_test_make_tmpdir ("mero-context-test");
  g_autoptr (GError) error = NULL;
  MeroStore *store = mero_store_open (&mero_store_rocksdb_vtable, NULL, dir, NULL, &error);
  g_autoptr (MeroState) state = mero_state_new (store, test_context_id);
  guint8 map[32];
  guint have = 0;
  guint64 t = 1;

  g_assert_no_error (error);
  mero_kv_map_id (test_context_id, map);
  for (guint s = 0; s < G_N_ELEMENTS (sizes) && sizes[s] <= max_entities; s++)
    {
      const guint rounds = 2000;
      double t0, dt, pop0 = now_s ();

      /* Populate in transactions of up to 100k adds. */
      while (have < sizes[s])
        {
          g_autoptr (MeroStateTxn) txn = mero_state_txn_new (state);
          guint end = MIN (sizes[s], have + 100000);

          for (; have < end; have++)
            {
              MeroAction a = { 0 };
              MeroHlc ts = { (t++) << 16, 1 };

              a.kind = MERO_ACTION_ADD;
              if (have == 0)
                {
                  memcpy (a.id, map, 32);
                  memcpy (a.parent, test_context_id, 32);
                  a.crdt_type = MERO_CRDT_MAP;
                  mero_state_txn_apply (txn, &a, &ts, &error);
                  g_assert_no_error (error);
                }
              entry_id (have, a.id);
              memcpy (a.parent, map, 32);
              a.crdt_type = MERO_CRDT_LWW;
              a.data = (const guint8 *) "initial-value";
              a.data_len = 13;
              mero_state_txn_apply (txn, &a, &ts, &error);
              g_assert_no_error (error);
            }
          commit_txn (store, txn);
        }
      mero_store_flush (store, NULL);
      t0 = now_s ();
      for (guint r = 0; r < rounds; r++)
        {
          g_autoptr (MeroStateTxn) txn = mero_state_txn_new (state);
          MeroAction a = { 0 };
          MeroHlc ts = { (t++) << 16, 1 };
          guint32 pick = g_random_int_range (0, (gint32) have);

          a.kind = MERO_ACTION_UPDATE;
          entry_id (pick, a.id);
          a.data = (const guint8 *) &ts;
          a.data_len = sizeof ts;
          mero_state_txn_apply (txn, &a, &ts, &error);
          g_assert_no_error (error);
          commit_txn (store, txn);
        }
      dt = now_s () - t0;
      printf ("update one entity among %8u: %7.1f us (%.0f updates/s; populated in %.1f s)\n",
              have, dt / rounds * 1e6, rounds / dt, now_s () - t0 + t0 - pop0 - dt);
    }
  g_clear_pointer (&state, mero_state_free);
  mero_store_close (store);
  mero_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) strtoul (argv[1], NULL, 10) : 20000;
  guint max_entities = argc > 2 ? (guint) strtoul (argv[2], NULL, 10) : 1000000;

  g_assert_cmpint (sodium_init (), >=, 0);
  throughput (n);
  update_cost (max_entities);
  return 0;
}
