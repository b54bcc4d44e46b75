/* mero-test-stats.c: percentiles for the benchmarks. */
#include "mero-test-stats.h"

static int
cmp_i64 (gconstpointer a, gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

void
mero_test_sort_i64 (GArray *samples)
{
  g_array_sort (samples, cmp_i64);
}

gint64
mero_test_percentile_i64 (GArray *sorted, double p)
{
  guint i;

  if (sorted->len == 0)
    return -1;
  i = (guint) (sorted->len * p);
  return g_array_index (sorted, gint64, MIN (i, sorted->len - 1));
}
