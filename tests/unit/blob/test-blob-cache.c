/* test-blob-cache.c: each eviction rule of the GetBlobBytes cache, with
 * integer time, counted by reason. */
#include <string.h>

#include "blob/mero-blob-cache.h"

#define SEC G_USEC_PER_SEC

static void
make_id (guint8 id[32], guint8 n)
{
  memset (id, 0, 32);
  id[0] = n;
  id[31] = n;
}

static GBytes *
bytes_of (gsize len)
{
  return g_bytes_new_take (g_malloc0 (len), len);
}

static guint64
evictions (MeroMetrics *m, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  return mero_metrics_get_counter (m, MERO_BLOB_CACHE_EVICTIONS_METRIC, labels);
}

/* An entry idle longer than max_age goes; one read in time stays. */
static void
test_age (void)
{
  g_autoptr (MeroMetrics) m = mero_metrics_new ();
  g_autoptr (MeroBlobCache) cache = mero_blob_cache_new (300, 100, 1000000, m);
  g_autoptr (GBytes) b = bytes_of (10);
  guint8 a[32], c[32];

  make_id (a, 1);
  make_id (c, 2);
  mero_blob_cache_put (cache, a, b, 0);
  mero_blob_cache_put (cache, c, b, 0);
  {
    g_autoptr (GBytes) hit = mero_blob_cache_get (cache, c, 200 * SEC);
    g_assert_nonnull (hit);
  }
  g_assert_cmpuint (mero_blob_cache_expire (cache, 300 * SEC), ==, 0);
  g_assert_cmpuint (mero_blob_cache_expire (cache, 300 * SEC + 1), ==, 1);
  g_assert_cmpuint (evictions (m, "age"), ==, 1);
  g_assert_null (mero_blob_cache_get (cache, a, 300 * SEC + 1));
  {
    g_autoptr (GBytes) hit = mero_blob_cache_get (cache, c, 300 * SEC + 1);
    g_assert_nonnull (hit);
  }
  /* get itself expires: 300 s after its last read, c is gone. */
  g_assert_null (mero_blob_cache_get (cache, c, 601 * SEC + 2));
  g_assert_cmpuint (evictions (m, "age"), ==, 2);
  g_assert_cmpuint (evictions (m, "count"), ==, 0);
  g_assert_cmpuint (evictions (m, "memory"), ==, 0);
}

/* Over max_entries, the least recently used goes. */
static void
test_count (void)
{
  g_autoptr (MeroMetrics) m = mero_metrics_new ();
  g_autoptr (MeroBlobCache) cache = mero_blob_cache_new (300, 3, 1000000, m);
  g_autoptr (GBytes) b = bytes_of (10);
  guint8 ids[5][32];

  for (guint i = 0; i < 5; i++)
    make_id (ids[i], (guint8) i);
  for (guint i = 0; i < 3; i++)
    mero_blob_cache_put (cache, ids[i], b, i);
  /* Reading 0 makes 1 the least recently used. */
  g_bytes_unref (mero_blob_cache_get (cache, ids[0], 10));
  mero_blob_cache_put (cache, ids[3], b, 11);
  g_assert_cmpuint (mero_blob_cache_count (cache), ==, 3);
  g_assert_cmpuint (evictions (m, "count"), ==, 1);
  g_assert_null (mero_blob_cache_get (cache, ids[1], 12));
  mero_blob_cache_put (cache, ids[4], b, 13);
  g_assert_null (mero_blob_cache_get (cache, ids[2], 14));
  g_assert_cmpuint (evictions (m, "count"), ==, 2);
  g_assert_cmpuint (evictions (m, "age"), ==, 0);
}

/* Over max_bytes, the least recently used go until it fits; a blob larger
 * than the bound is never cached; remove is not an eviction. */
static void
test_memory (void)
{
  g_autoptr (MeroMetrics) m = mero_metrics_new ();
  g_autoptr (MeroBlobCache) cache = mero_blob_cache_new (300, 100, 1000, m);
  g_autoptr (GBytes) small = bytes_of (300);
  g_autoptr (GBytes) big = bytes_of (700);
  g_autoptr (GBytes) huge = bytes_of (1001);
  guint8 a[32], b[32], c[32], d[32], e[32];

  make_id (a, 1);
  make_id (b, 2);
  make_id (c, 3);
  make_id (d, 4);
  make_id (e, 5);
  mero_blob_cache_put (cache, a, small, 1);
  mero_blob_cache_put (cache, b, small, 2);
  mero_blob_cache_put (cache, c, small, 3);
  g_assert_cmpuint (mero_blob_cache_bytes (cache), ==, 900);
  mero_blob_cache_put (cache, d, big, 4);
  g_assert_cmpuint (evictions (m, "memory"), ==, 2);
  g_assert_cmpuint (mero_blob_cache_bytes (cache), ==, 1000);
  g_assert_null (mero_blob_cache_get (cache, a, 5));
  g_assert_null (mero_blob_cache_get (cache, b, 5));
  mero_blob_cache_put (cache, e, huge, 6);
  g_assert_null (mero_blob_cache_get (cache, e, 6));
  g_assert_cmpuint (mero_blob_cache_count (cache), ==, 2);
  mero_blob_cache_remove (cache, c);
  g_assert_cmpuint (mero_blob_cache_bytes (cache), ==, 700);
  g_assert_cmpuint (evictions (m, "memory"), ==, 2);
  g_assert_cmpuint (evictions (m, "count"), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blob/cache/age", test_age);
  g_test_add_func ("/blob/cache/count", test_count);
  g_test_add_func ("/blob/cache/memory", test_memory);
  return g_test_run ();
}
