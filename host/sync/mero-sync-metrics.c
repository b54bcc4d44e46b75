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

static void
prom_session_ended (MeroSyncMetricsCollector *self, const char *protocol, const char *result,
                    const MeroSyncSessionStats *stats, double duration_secs)
{
  Prometheus *p = (Prometheus *) self;
  static const double bounds[] = { MERO_SYNC_DURATION_BUCKETS };
  g_autofree char *by_result = g_strdup_printf ("protocol=\"%s\",result=\"%s\"", protocol, result);
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\"", protocol);

  add (p, "mero_sync_sessions_total", by_result, 1);
  if (stats != NULL)
    {
      add (p, "mero_sync_bytes_sent_total", labels, stats->bytes_sent);
      add (p, "mero_sync_bytes_received_total", labels, stats->bytes_received);
      add (p, "mero_sync_round_trips_total", labels, stats->round_trips);
      add (p, "mero_sync_entities_transferred_total", labels, stats->entities_transferred);
    }
  /* Cumulative buckets, as Prometheus histograms are. */
  for (guint i = 0; i < G_N_ELEMENTS (bounds); i++)
    {
      g_autofree char *le = g_strdup_printf ("protocol=\"%s\",le=\"%g\"", protocol, bounds[i]);

      add (p, "mero_sync_duration_seconds_bucket", le, duration_secs <= bounds[i] ? 1 : 0);
    }
  {
    g_autofree char *inf = g_strdup_printf ("protocol=\"%s\",le=\"+Inf\"", protocol);

    add (p, "mero_sync_duration_seconds_bucket", inf, 1);
  }
  add (p, "mero_sync_duration_seconds_count", labels, 1);
  mero_metrics_gauge_add (p->metrics, "mero_sync_duration_seconds_sum", labels, duration_secs,
                          NULL);
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
