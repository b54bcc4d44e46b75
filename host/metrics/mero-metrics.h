/* mero-metrics.h: counters and gauges keyed by (name, labels), rendered in
 * the Prometheus text exposition format.
 *
 * Everything that drops, rejects or counts something in the host reports it
 * here (DESIGN §3.5: nothing is lost silently).  One process-wide default
 * instance serves the daemon; tests make their own so they can assert exact
 * values without seeing each other's updates.
 *
 * Names follow Prometheus: [a-zA-Z_:][a-zA-Z0-9_:]*.  Labels are a
 * pre-rendered set such as `protocol="hash",peer="x"` (or NULL / "" for
 * none); they are parsed, checked and put in canonical (sorted) order, so
 * `a="1",b="2"` and `b="2",a="1"` are the same series.  A name is either a
 * counter or a gauge, never both.
 *
 * Rejected updates (bad name, bad labels, type clash) return FALSE with a
 * MERO_METRICS_ERROR and are themselves counted in
 * mero_metrics_rejected_total, so even a caller that passes error = NULL
 * does not lose them silently.
 *
 * Thread-safety: every function may be called from any thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_METRICS_ERROR (mero_metrics_error_quark ())
GQuark mero_metrics_error_quark (void);

typedef enum {
  MERO_METRICS_ERROR_INVALID_NAME = 1,
  MERO_METRICS_ERROR_INVALID_LABELS = 2,
  MERO_METRICS_ERROR_TYPE_MISMATCH = 3,  /* name already used with the other type */
} MeroMetricsError;

typedef enum {
  MERO_METRIC_TYPE_COUNTER = 1,
  MERO_METRIC_TYPE_GAUGE = 2,
} MeroMetricType;

/* Counter of rejected updates, kept in every instance. */
#define MERO_METRICS_REJECTED_NAME "mero_metrics_rejected_total"

typedef struct _MeroMetrics MeroMetrics;

/* (transfer full) a new, empty registry. */
MeroMetrics *mero_metrics_new (void);
MeroMetrics *mero_metrics_ref (MeroMetrics *metrics);
/* NULL-safe. */
void mero_metrics_unref (MeroMetrics *metrics);

/* (transfer none) the process-wide instance; never freed. */
MeroMetrics *mero_metrics_get_default (void);

/* In all functions below, @metrics NULL means the default instance. */

/* Adds @delta to a counter (created at 0); saturates at G_MAXUINT64. */
gboolean mero_metrics_counter_add (MeroMetrics *metrics, const char *name, const char *labels,
                                   guint64 delta, GError **error);
gboolean mero_metrics_gauge_set (MeroMetrics *metrics, const char *name, const char *labels,
                                 double value, GError **error);
gboolean mero_metrics_gauge_add (MeroMetrics *metrics, const char *name, const char *labels,
                                 double delta, GError **error);
/* Optional # HELP text for a metric family (@help: one line, copied). */
gboolean mero_metrics_set_help (MeroMetrics *metrics, const char *name, const char *help,
                                GError **error);

/* Read accessor (mostly for tests): the current value of one series.
 * Returns FALSE if the series does not exist (or @labels do not parse).
 * Counters are returned as double; use mero_metrics_get_counter for the
 * exact integer. */
gboolean mero_metrics_lookup (MeroMetrics *metrics, const char *name, const char *labels,
                              MeroMetricType *out_type, double *out_value);
/* 0 if the counter does not exist. */
guint64 mero_metrics_get_counter (MeroMetrics *metrics, const char *name, const char *labels);

/* (transfer full) Prometheus text exposition format 0.0.4: families
 * sorted by name, each with `# HELP` (if set) and `# TYPE`, then its series
 * sorted by canonical label set. */
char *mero_metrics_render (MeroMetrics *metrics);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMetrics, mero_metrics_unref)

G_END_DECLS
