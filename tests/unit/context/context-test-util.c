#include "context-test-util.h"

#include <string.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "store-memory-core.h"
#include "store-rocksdb-core.h"

const guint8 test_context_id[32] = { 0xc0, 0x01, 0xc0, 0x7e, 0x87 };
const guint8 test_context_key[32] = { 0x6b, 0x65, 0x79 };

guint64
test_clock_now (gpointer clock)
{
  return ((TestClock *) clock)->now_ms;
}

static void
open_ds (TestReplica *r, TestClock *clock)
{
  MeroDeltaStoreConfig cfg = { 0 };
  g_autoptr (GError) error = NULL;

  cfg = r->options;
  cfg.context_key = test_context_key;
  cfg.author_sk = r->sk;
  cfg.clock = test_clock_now;
  cfg.clock_data = clock;
  cfg.metrics = r->metrics;
  r->ds = mero_delta_store_open (r->store, test_context_id, &cfg, &error);
  g_assert_no_error (error);
}

static void
open_store (TestReplica *r)
{
  g_autoptr (GError) error = NULL;

  if (r->dir != NULL)
    r->store = mero_store_open (&mero_store_rocksdb_vtable, NULL, r->dir, NULL, &error);
  else
    r->store = mero_store_open (&mero_store_memory_vtable, NULL, "memory", NULL, &error);
  g_assert_no_error (error);
}

TestReplica *
test_replica_new (guint32 seed, TestClock *clock, const char *rocksdb_dir)
{
  return test_replica_new_with (seed, clock, rocksdb_dir, NULL);
}

TestReplica *
test_replica_new_with (guint32 seed, TestClock *clock, const char *rocksdb_dir,
                       const MeroDeltaStoreConfig *options)
{
  TestReplica *r = g_new0 (TestReplica, 1);
  guint8 sk_seed[32] = { 0 };

  if (options != NULL)
    r->options = *options;
  g_assert_cmpint (sodium_init (), >=, 0);
  memcpy (sk_seed, &seed, sizeof seed);
  sk_seed[31] = 0x5e;
  crypto_sign_seed_keypair (r->pk, r->sk, sk_seed);
  r->metrics = mero_metrics_new ();
  r->dir = g_strdup (rocksdb_dir);
  open_store (r);
  open_ds (r, clock);
  return r;
}

void
test_replica_reopen (TestReplica *r, TestClock *clock)
{
  g_clear_pointer (&r->ds, mero_delta_store_free);
  if (r->dir != NULL)
    {
      g_clear_pointer (&r->store, mero_store_close);
      open_store (r);
    }
  open_ds (r, clock);
}

void
test_replica_free (TestReplica *r)
{
  if (r == NULL)
    return;
  mero_delta_store_free (r->ds);
  mero_store_close (r->store);
  mero_metrics_unref (r->metrics);
  g_free (r->dir);
  g_free (r);
}

MeroDeltaOutcome
test_replica_receive (TestReplica *r, GBytes *env)
{
  g_autoptr (GError) error = NULL;
  MeroDeltaOutcome outcome = 0;

  mero_delta_store_receive (r->ds, g_bytes_get_data (env, NULL), g_bytes_get_size (env),
                            &outcome, &error);
  g_assert_no_error (error);
  return outcome;
}

char *
test_root_hex (TestReplica *r)
{
  guint8 root[32];
  guint8 stored[32];
  g_autoptr (GError) error = NULL;

  mero_delta_store_root (r->ds, root);
  /* The cached root must be the committed one. */
  mero_state_root_hash (mero_delta_store_get_state (r->ds), stored, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (root, 32, stored, 32);
  return g_compute_checksum_for_data (G_CHECKSUM_MD5, root, 32);
}

char *
test_kv_dump (TestReplica *r)
{
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  GString *s = g_string_new (NULL);

  mero_kv_entries (r->ds, &entries, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < entries->len; i++)
    {
      const MeroMapEntry *e = g_ptr_array_index (entries, i);

      g_string_append_len (s, g_bytes_get_data (e->key, NULL), (gssize) g_bytes_get_size (e->key));
      g_string_append_c (s, '=');
      g_string_append_len (s, g_bytes_get_data (e->value, NULL),
                           (gssize) g_bytes_get_size (e->value));
      g_string_append_c (s, ';');
    }
  return g_string_free (s, FALSE);
}

