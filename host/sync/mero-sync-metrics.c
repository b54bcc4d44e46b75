/* mero-sync-metrics.c: the Prometheus SyncMetricsCollector. */
#include "sync/mero-sync-metrics.h"

typedef struct {
  MeroSyncMetricsCollector base;
  MeroMetrics *metrics;
} Prometheus;

static void
add (Prometheus *p, const char *name, const char *labels, guint64 n)
{
  mero_metrics_counter_add (p->metrics, name, labels, n, NULL);
}

static void
prom_selected (MeroSyncMetricsCollector *self, const char *protocol)
{
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\"", protocol);

  add ((Prometheus *) self, "mero_sync_selections_total", labels, 1);
}

/* One observation of histogram @name (series @name_bucket{le}, _sum,
 * _count) with the extra labels @labels (may be ""). */
static void
observe (Prometheus *p, const char *name, const char *labels, double value)
{
  static const double bounds[] = { MERO_SYNC_DURATION_BUCKETS };
  const char *sep = labels[0] != '\0' ? "," : "";
  g_autofree char *bucket = g_strdup_printf ("%s_bucket", name);
  g_autofree char *count = g_strdup_printf ("%s_count", name);
  g_autofree char *sum = g_strdup_printf ("%s_sum", name);

  /* Cumulative buckets, as Prometheus histograms are. */
  for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      g_autofree char *le = g_strdup_printf ("%s%sle=\"%g\"", labels, sep, bounds[i]);

      add (p, bucket, le, value <= bounds[i] ? 1 : 0);
    }
  {
    g_autofree char *inf = g_strdup_printf ("%s%sle=\"+Inf\"", labels, sep);

    add (p, bucket, inf, 1);
  }
  add (p, count, labels, 1);
  mero_metrics_gauge_add (p->metrics, sum, labels, value, NULL);
}

static void
prom_session_ended (MeroSyncMetricsCollector *self, const char *protocol, const char *result,
                    const MeroSyncSessionStats *stats, double duration_secs)
{
  Prometheus *p = (Prometheus *) self;
  g_autofree char *by_result = g_strdup_printf ("protocol=\"%s\",result=\"%s\"", protocol, result);
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\"", protocol);

  add (p, "mero_sync_sessions_total", by_result, 1);
  if (stats != NULL)
    {
      add (p, "mero_sync_bytes_sent_total", labels, stats->bytes_sent);
      add (p, "mero_sync_bytes_received_total", labels, stats->bytes_received);
      add (p, "mero_sync_messages_sent_total", labels, stats->messages_sent);
      add (p, "mero_sync_messages_received_total", labels, stats->messages_received);
      add (p, "mero_sync_round_trips_total", labels, stats->round_trips);
      add (p, "mero_sync_entities_transferred_total", labels, stats->entities_transferred);
    }
  observe (p, "mero_sync_duration_seconds", labels, duration_secs);
}

static void
prom_handshake_done (MeroSyncMetricsCollector *self, double secs)
{
  observe ((Prometheus *) self, "mero_sync_handshake_duration_seconds", "", secs);
}

static void
prom_refused (MeroSyncMetricsCollector *self, const char *protocol, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", protocol, reason);

  add ((Prometheus *) self, "mero_sync_refusals_total", labels, 1);
}

static void
prom_failed (MeroSyncMetricsCollector *self, const char *protocol, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", protocol, reason);

  add ((Prometheus *) self, "mero_sync_failures_total", labels, 1);
}

static void
prom_free (MeroSyncMetricsCollector *self)
{
  Prometheus *p = (Prometheus *) self;

  mero_metrics_unref (p->metrics);
  g_free (p);
}

MeroSyncMetricsCollector *
mero_sync_metrics_prometheus_new (MeroMetrics *metrics)
{
  Prometheus *p = g_new0 (Prometheus, 1);

  p->base.selected = prom_selected;
  p->base.session_ended = prom_session_ended;
  p->base.handshake_done = prom_handshake_done;
  p->base.refused = prom_refused;
  p->base.failed = prom_failed;
  p->base.free = prom_free;
  p->metrics = mero_metrics_ref (metrics != NULL ? metrics : mero_metrics_get_default ());
  return &p->base;
}

void
mero_sync_metrics_collector_free (MeroSyncMetricsCollector *self)
{
  if (self != NULL)
    self->free (self);
}
