/* mero-test-stats.h: percentiles of the latency samples benchmarks take. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Sorts @samples (gint64) in ascending order. */
void mero_test_sort_i64 (GArray *samples);
/* The @p-th quantile (0 ≤ @p < 1) of @sorted (gint64, sorted), or -1 if it
 * is empty. */
gint64 mero_test_percentile_i64 (GArray *sorted, double p);

G_END_DECLS
