/* bench-store.c: put/get throughput, raw RocksDB C API vs. the store
 * façade over the store-rocksdb backend (plaintext and encrypted), in one
 * process and one run.
 *
 *   bench-store [N [ROUNDS]]     defaults: 200000 keys, 3 rounds
 *
 * 16-byte keys, 100-byte values.  Each round: N puts in key order of a
 * pseudo-random key set (so RocksDB sees random insertion order), then N
 * gets in a shuffled order, on a fresh database.  The three variants run
 * interleaved in every round and the median round is reported, so drift
 * of the machine affects all of them alike.  Raw RocksDB uses exactly the
 * backend's options (mero_store_rocksdb_options_new) and default
 * read/write options (no fsync per write), as the backend does by
 * default. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rocksdb/c.h>
#include <sodium.h>

#include <glib/gstdio.h>

#include "store-rocksdb-core.h"
#include "store/mero-store.h"

#include "mero-test-fs.h"

#define KEY_LEN 16
#define VALUE_LEN 100

typedef struct {
  guint n;
  guint8 (*keys)[KEY_LEN];
  guint8 *values;      /* n * VALUE_LEN */
  guint32 *get_order;  /* permutation of 0..n-1 */
} Workload;

typedef struct {
  double put_s;
  double get_s;
} Timing;

typedef enum {
  VARIANT_RAW,
  VARIANT_FACADE,
  VARIANT_FACADE_ENCRYPTED,
  N_VARIANTS
} Variant;

static const char *const variant_names[N_VARIANTS] = {
  "raw RocksDB C API",
  "facade + store-rocksdb",
  "facade + encryption",
};

static void
workload_init (Workload *w, guint n)
{
  GRand *rand = g_rand_new_with_seed (0x6d65726f);

  w->n = n;
  w->keys = g_malloc ((gsize) n * KEY_LEN);
  w->values = g_malloc ((gsize) n * VALUE_LEN);
  w->get_order = g_malloc ((gsize) n * sizeof (guint32));
  for (guint i = 0; i < n; i++)
    {
      /* Unique (index in the last 4 bytes), spread by the random rest. */
      guint32 be = GUINT32_TO_BE (i);
      for (guint j = 0; j < KEY_LEN - 4; j += 4)
        {
          guint32 r = g_rand_int (rand);
          memcpy (&w->keys[i][j], &r, 4);
        }
      memcpy (&w->keys[i][KEY_LEN - 4], &be, 4);
      for (guint j = 0; j < VALUE_LEN; j += 4)
        {
          guint32 r = g_rand_int (rand);
          memcpy (&w->values[(gsize) i * VALUE_LEN + j], &r, MIN (4, VALUE_LEN - j));
        }
      w->get_order[i] = i;
    }
  for (guint i = n - 1; i > 0; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i + 1);
      guint32 t = w->get_order[i];
      w->get_order[i] = w->get_order[j];
      w->get_order[j] = t;
    }
  g_rand_free (rand);
}

static void
workload_clear (Workload *w)
{
  g_free (w->keys);
  g_free (w->values);
  g_free (w->get_order);
}

static void
check_value (const Workload *w, guint i, const void *data, gsize len)
{
  if (data == NULL || len != VALUE_LEN
      || memcmp (data, &w->values[(gsize) i * VALUE_LEN], VALUE_LEN) != 0)
    g_error ("key %u read back wrong", i);
}

static Timing
run_raw (const Workload *w, const char *path)
{
  rocksdb_options_t *options = mero_store_rocksdb_options_new (0, TRUE);
  rocksdb_writeoptions_t *wo = rocksdb_writeoptions_create ();
  rocksdb_readoptions_t *ro = rocksdb_readoptions_create ();
  char *err = NULL;
  rocksdb_t *db = rocksdb_open (options, path, &err);
  Timing t;
  gint64 start;

  if (err != NULL)
    g_error ("rocksdb_open: %s", err);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < w->n; i++)
    {
      rocksdb_put (db, wo, (const char *) w->keys[i], KEY_LEN,
                   (const char *) &w->values[(gsize) i * VALUE_LEN], VALUE_LEN, &err);
      if (err != NULL)
        g_error ("rocksdb_put: %s", err);
    }
  t.put_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  start = g_get_monotonic_time ();
  for (guint k = 0; k < w->n; k++)
    {
      guint i = w->get_order[k];
      size_t len;
      char *v = rocksdb_get (db, ro, (const char *) w->keys[i], KEY_LEN, &len, &err);
      if (err != NULL)
        g_error ("rocksdb_get: %s", err);
      check_value (w, i, v, len);
      rocksdb_free (v);
    }
  t.get_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  rocksdb_close (db);
  rocksdb_readoptions_destroy (ro);
  rocksdb_writeoptions_destroy (wo);
  rocksdb_options_destroy (options);
  return t;
}

static Timing
run_facade (const Workload *w, const char *path, gboolean encrypted)
{
  g_autoptr (GError) error = NULL;
  MeroStoreOptions options = { 0 };
  MeroStore *store;
  Timing t;
  gint64 start;

  if (encrypted)
    {
      /* Key derivation happens at open, outside the timed loops. */
      options.key_source = MERO_STORE_KEY_SOURCE_PASSPHRASE;
      options.passphrase = "bench passphrase";
      options.argon2_ops_limit = crypto_pwhash_OPSLIMIT_MIN;
      options.argon2_mem_limit = crypto_pwhash_MEMLIMIT_MIN;
    }
  store = mero_store_open (&mero_store_rocksdb_vtable, NULL, path, &options, &error);
  if (store == NULL)
    g_error ("mero_store_open: %s", error->message);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < w->n; i++)
    {
      MeroKey key;
      mero_key_from_bytes (&key, MERO_COLUMN_GENERIC, w->keys[i], KEY_LEN);
      if (!mero_store_put (store, &key, &w->values[(gsize) i * VALUE_LEN], VALUE_LEN, &error))
        g_error ("mero_store_put: %s", error->message);
    }
  t.put_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  start = g_get_monotonic_time ();
  for (guint k = 0; k < w->n; k++)
    {
      guint i = w->get_order[k];
      GBytes *v = NULL;
      MeroKey key;
      gsize len;
      const void *data;

      mero_key_from_bytes (&key, MERO_COLUMN_GENERIC, w->keys[i], KEY_LEN);
      if (!mero_store_get (store, &key, &v, &error))
        g_error ("mero_store_get: %s", error->message);
      data = v != NULL ? g_bytes_get_data (v, &len) : NULL;
      check_value (w, i, data, v != NULL ? len : 0);
      g_bytes_unref (v);
    }
  t.get_s = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;

  mero_store_close (store);
  return t;
}

static int
cmp_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;
  return x < y ? -1 : x > y ? 1 : 0;
}

static double
median (double *v, guint n)
{
  qsort (v, n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 200000;
  guint rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree double *put_s = NULL, *get_s = NULL;
  double put_ops[N_VARIANTS], get_ops[N_VARIANTS], all_ops[N_VARIANTS];
  Workload w;

  if (n < 1000 || rounds < 1)
    {
      g_printerr ("usage: %s [N >= 1000 [ROUNDS >= 1]]\n", argv[0]);
      return 2;
    }
  if (sodium_init () < 0)
    g_error ("sodium_init failed");
  dir = mero_test_make_tmpdir ("mero-bench-store");
  if (dir == NULL)
    g_error ("%s", error->message);

  workload_init (&w, n);
  put_s = g_new0 (double, (gsize) N_VARIANTS * rounds);
  get_s = g_new0 (double, (gsize) N_VARIANTS * rounds);
  printf ("store put/get: %u keys of %d bytes, values of %d bytes, %u rounds (median)\n", n,
          KEY_LEN, VALUE_LEN, rounds);

  for (guint r = 0; r < rounds; r++)
    for (guint v = 0; v < N_VARIANTS; v++)
      {
        g_autofree char *path = g_strdup_printf ("%s/r%u-v%u", dir, r, v);
        Timing t = v == VARIANT_RAW ? run_raw (&w, path)
                                    : run_facade (&w, path, v == VARIANT_FACADE_ENCRYPTED);
        put_s[v * rounds + r] = t.put_s;
        get_s[v * rounds + r] = t.get_s;
        mero_test_remove_tree (path);
      }

  for (guint v = 0; v < N_VARIANTS; v++)
    {
      g_autofree double *sum = g_new (double, rounds);
      for (guint r = 0; r < rounds; r++)
        sum[r] = put_s[v * rounds + r] + get_s[v * rounds + r];
      put_ops[v] = n / median (&put_s[v * rounds], rounds);
      get_ops[v] = n / median (&get_s[v * rounds], rounds);
      all_ops[v] = 2.0 * n / median (sum, rounds);
    }

  printf ("\n%-24s %14s %14s %14s %10s\n", "variant", "put ops/s", "get ops/s", "put+get ops/s",
          "vs raw");
  for (guint v = 0; v < N_VARIANTS; v++)
    printf ("%-24s %14.0f %14.0f %14.0f %9.2fx\n", variant_names[v], put_ops[v], get_ops[v],
            all_ops[v], all_ops[v] / all_ops[VARIANT_RAW]);
  printf ("\nfacade/raw ratio: put %.2f, get %.2f, put+get %.2f (target >= 0.80): %s\n",
          put_ops[VARIANT_FACADE] / put_ops[VARIANT_RAW],
          get_ops[VARIANT_FACADE] / get_ops[VARIANT_RAW],
          all_ops[VARIANT_FACADE] / all_ops[VARIANT_RAW],
          all_ops[VARIANT_FACADE] / all_ops[VARIANT_RAW] >= 0.8 ? "met" : "NOT met");

  workload_clear (&w);
  mero_test_remove_tree (dir);
  return 0;
}
