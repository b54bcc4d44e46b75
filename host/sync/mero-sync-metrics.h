/* mero-sync-metrics.h: the SyncMetricsCollector.
 *
 * The manager reports what its sessions did through this interface; the
 * node's implementation (mero_sync_metrics_prometheus) puts it in the
 * MeroMetrics registry served at GET /metrics, with the plugin name as the
 * `protocol` label:
 *   mero_sync_sessions_total{protocol,result}
 *   mero_sync_bytes_sent_total{protocol}, mero_sync_bytes_received_total{protocol}
 *   mero_sync_round_trips_total{protocol}, mero_sync_entities_transferred_total{protocol}
 *   mero_sync_duration_seconds{protocol} (histogram: _bucket{le}, _sum, _count)
 *   mero_sync_messages_sent_total{protocol}, mero_sync_messages_received_total{protocol}
 *   mero_sync_selections_total{protocol}
 *   mero_sync_handshake_duration_seconds (histogram: the handshake phase)
 *   mero_sync_refusals_total{protocol,reason} (the plugins count theirs there
 *   too), mero_sync_failures_total{protocol,reason}
 * (the histogram's series are rendered as counters, _sum as a gauge: the
 * registry has no histogram type). */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

/* Upper bounds (seconds) of the duration histogram's buckets; +Inf too. */
#define MERO_SYNC_DURATION_BUCKETS 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 120.0

typedef struct _MeroSyncMetricsCollector MeroSyncMetricsCollector;

struct _MeroSyncMetricsCollector {
  /* A protocol was chosen for a session (before it runs). */
  void (*selected) (MeroSyncMetricsCollector *self, const char *protocol);
  /* A protocol session ended; @stats may be NULL (it never started). */
  void (*session_ended) (MeroSyncMetricsCollector *self, const char *protocol,
                         const char *result, const MeroSyncSessionStats *stats,
                         double duration_secs);
  /* The handshake phase of one of our sessions took @secs. */
  void (*handshake_done) (MeroSyncMetricsCollector *self, double secs);
  /* A peer's stream of @protocol ("handshake" for /calimero/stream/sync/1)
   * was refused (@reason: label). */
  void (*refused) (MeroSyncMetricsCollector *self, const char *protocol, const char *reason);
  /* A session of @protocol ("handshake" before one runs) failed. */
  void (*failed) (MeroSyncMetricsCollector *self, const char *protocol, const char *reason);
  void (*free) (MeroSyncMetricsCollector *self);
};

/* (transfer full) the Prometheus collector over @metrics (NULL: default). */
MeroSyncMetricsCollector *mero_sync_metrics_prometheus_new (MeroMetrics *metrics);
void mero_sync_metrics_collector_free (MeroSyncMetricsCollector *self);   /* NULL-safe */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncMetricsCollector, mero_sync_metrics_collector_free)

G_END_DECLS
