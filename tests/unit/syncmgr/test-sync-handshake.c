/* test-sync-handshake.c: the /calimero/stream/sync/1 codec, the history a
 * context's info shows and the Prometheus SyncMetricsCollector.  Also writes the fuzz seeds when
 * MERO_WRITE_SEEDS names a directory. */
#include <string.h>

#include "sync/mero-sync-handshake.h"
#include "sync/mero-sync-history.h"
#include "sync/mero-sync-metrics.h"

static const guint8 ctx[32] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };

static MeroSyncHello *
sample (guint n_heads)
{
  MeroSyncHello *h = mero_sync_hello_new (ctx);

  memset (h->root_hash, 0xab, 32);
  for (guint i = 0; i < n_heads; i++)
    {
      guint8 head[32];

      memset (head, (int) i, 32);
      mero_sync_hello_add_head (h, head);
    }
  h->entity_count = 100000;
  h->max_depth = 7;
  return h;
}

static void
write_seed (const char *name, GBytes *bytes)
{
  const char *dir = g_getenv ("MERO_WRITE_SEEDS");
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
}

static void
test_round_trip (void)
{
  g_autoptr (MeroSyncHello) h = sample (3);
  g_autoptr (GBytes) bytes = mero_sync_hello_encode (h);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroSyncHello) back = mero_sync_hello_decode (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes), &error);
  MeroSyncHandshake sdk;

  g_assert_no_error (error);
  g_assert_cmpmem (back->context_id, 32, ctx, 32);
  g_assert_cmpmem (back->root_hash, 32, h->root_hash, 32);
  g_assert_cmpuint (back->heads->len, ==, 3);
  g_assert_cmpmem (back->heads->data, 96, h->heads->data, 96);
  g_assert_cmpuint (back->entity_count, ==, 100000);
  g_assert_cmpuint (back->max_depth, ==, 7);
  g_assert_null (back->refusal);
  mero_sync_hello_to_sdk (back, &sdk);
  g_assert_cmpuint (sdk.struct_size, ==, sizeof sdk);
  g_assert_cmpuint (sdk.n_heads, ==, 3);
  g_assert_true (sdk.heads == (const uint8_t *) back->heads->data);
  write_seed ("three-heads", bytes);
}

static void
test_refusal (void)
{
  g_autoptr (MeroSyncHello) h = mero_sync_hello_new_refusal (ctx, "not a member");
  g_autoptr (GBytes) bytes = mero_sync_hello_encode (h);
  g_autoptr (MeroSyncHello) back = mero_sync_hello_decode (g_bytes_get_data (bytes, NULL),
                                                          g_bytes_get_size (bytes), NULL);

  g_assert_nonnull (back);
  g_assert_cmpstr (back->refusal, ==, "not a member");
  write_seed ("refusal", bytes);
}

/* A peer's refusal of invalid UTF-8 just under the byte bound: repairing it
 * turns each bad byte into U+FFFD (three bytes), and what comes out must
 * still be valid, under the bound, and survive its own encoding (the fuzz
 * target found the repaired string three times over the bound). */
static void
test_refusal_repaired_within_bound (void)
{
  g_autoptr (MeroSyncHello) h = mero_sync_hello_new (ctx);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) again = NULL;
  g_autoptr (MeroSyncHello) back = NULL;
  g_autoptr (MeroSyncHello) back2 = NULL;
  g_autoptr (MeroSyncHello) local = NULL;

  h->refusal = g_malloc (MERO_SYNC_HANDSHAKE_MAX_REFUSAL);
  memset (h->refusal, 0xa9, MERO_SYNC_HANDSHAKE_MAX_REFUSAL - 1);
  h->refusal[MERO_SYNC_HANDSHAKE_MAX_REFUSAL - 1] = '\0';
  bytes = mero_sync_hello_encode (h);
  back = mero_sync_hello_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), NULL);
  g_assert_nonnull (back);
  g_assert_true (g_utf8_validate (back->refusal, -1, NULL));
  g_assert_cmpuint (strlen (back->refusal), <, MERO_SYNC_HANDSHAKE_MAX_REFUSAL);
  g_assert_cmpuint (strlen (back->refusal), >=, MERO_SYNC_HANDSHAKE_MAX_REFUSAL - 3);
  again = mero_sync_hello_encode (back);
  back2 = mero_sync_hello_decode (g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
  g_assert_nonnull (back2);
  g_assert_cmpstr (back2->refusal, ==, back->refusal);
  write_seed ("refusal-invalid-utf8", bytes);

  /* Our own refusals are bounded the same way. */
  local = mero_sync_hello_new_refusal (ctx, h->refusal);
  g_assert_true (g_utf8_validate (local->refusal, -1, NULL));
  g_assert_cmpuint (strlen (local->refusal), <, MERO_SYNC_HANDSHAKE_MAX_REFUSAL);
}

static void
test_bounds (void)
{
  g_autoptr (MeroSyncHello) most = sample (MERO_SYNC_HANDSHAKE_MAX_HEADS);
  g_autoptr (GBytes) bytes = mero_sync_hello_encode (most);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroSyncHello) back = NULL;
  g_autoptr (GByteArray) more = NULL;
  guint8 extra_head[2 + 32] = { 0x1a, 32 };   /* heads (field 3), 32 bytes */
  guint8 short_ctx[2 + 31] = { 0x0a, 31 };    /* context_id (field 1), 31 bytes */
  g_autofree guint8 *huge = g_malloc0 (MERO_SYNC_HANDSHAKE_MAX_BYTES + 1);

  /* The largest legal handshake fits the byte bound and decodes. */
  g_assert_cmpuint (g_bytes_get_size (bytes), <=, MERO_SYNC_HANDSHAKE_MAX_BYTES);
  back = mero_sync_hello_decode (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                 &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->heads->len, ==, MERO_SYNC_HANDSHAKE_MAX_HEADS);

  /* One head more is refused. */
  more = g_byte_array_new ();
  g_byte_array_append (more, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_byte_array_append (more, extra_head, sizeof extra_head);
  g_clear_pointer (&back, mero_sync_hello_free);
  back = mero_sync_hello_decode (more->data, more->len, &error);
  g_assert_null (back);
  g_assert_error (error, MERO_SYNC_HANDSHAKE_ERROR, MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE);
  g_assert_cmpstr (mero_sync_handshake_error_reason (error), ==, "too_large");
  g_clear_error (&error);

  g_assert_null (mero_sync_hello_decode (short_ctx, sizeof short_ctx, &error));
  g_assert_error (error, MERO_SYNC_HANDSHAKE_ERROR, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null (mero_sync_hello_decode (huge, MERO_SYNC_HANDSHAKE_MAX_BYTES + 1, &error));
  g_assert_error (error, MERO_SYNC_HANDSHAKE_ERROR, MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (mero_sync_hello_decode ((const guint8 *) "\xff\xff", 2, &error));
  g_assert_error (error, MERO_SYNC_HANDSHAKE_ERROR, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED);
}

static void
test_history (void)
{
  g_autoptr (MeroSyncHistory) history = mero_sync_history_new ();
  g_autoptr (GVariant) empty = NULL, v = NULL, peers = NULL, first = NULL;
  const char *s = NULL;
  guint32 failures = 0;

  empty = g_variant_ref_sink (mero_sync_history_to_variant (history, "ctx"));
  g_assert_cmpuint (g_variant_n_children (empty), ==, 0);

  mero_sync_history_record (history, "ctx", "peerA", "sync-hash", "failed", TRUE, 10, 5000);
  mero_sync_history_record (history, "ctx", "peerA", "sync-levelwise", "failed", TRUE, 20, 5000);
  mero_sync_history_record (history, "ctx", "peerB", "sync-hash", "ok", FALSE, 30, 7000);
  v = g_variant_ref_sink (mero_sync_history_to_variant (history, "ctx"));
  g_assert_true (g_variant_lookup (v, "last_result", "&s", &s));
  g_assert_cmpstr (s, ==, "ok");
  g_assert_true (g_variant_lookup (v, "last_peer", "&s", &s));
  g_assert_cmpstr (s, ==, "peerB");
  g_assert_true (g_variant_lookup (v, "failures", "u", &failures));
  g_assert_cmpuint (failures, ==, 0);
  peers = g_variant_lookup_value (v, "peers", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_cmpuint (g_variant_n_children (peers), ==, 2);
  /* Most recent first; peerA keeps its own consecutive failures. */
  first = g_variant_get_child_value (peers, 1);
  g_assert_true (g_variant_lookup (first, "peer", "&s", &s));
  g_assert_cmpstr (s, ==, "peerA");
  g_assert_true (g_variant_lookup (first, "failures", "u", &failures));
  g_assert_cmpuint (failures, ==, 2);
  g_assert_true (g_variant_lookup (first, "last_protocol", "&s", &s));
  g_assert_cmpstr (s, ==, "sync-levelwise");

  /* Peers that keep failing are tried last; the others keep their order. */
  {
    char *order[] = { (char *) "peerA", (char *) "peerC", (char *) "peerB", NULL };

    g_assert_cmpuint (mero_sync_history_peer_failures (history, "ctx", "peerA"), ==, 2);
    g_assert_cmpuint (mero_sync_history_peer_failures (history, "ctx", "peerC"), ==, 0);
    mero_sync_history_order_peers (history, "ctx", order);
    g_assert_cmpstr (order[0], ==, "peerC");
    g_assert_cmpstr (order[1], ==, "peerB");
    g_assert_cmpstr (order[2], ==, "peerA");
  }

  /* Bounded: the least recently synced peer is forgotten. */
  for (guint i = 0; i < MERO_SYNC_HISTORY_MAX_PEERS + 3; i++)
    {
      g_autofree char *p = g_strdup_printf ("p%u", i);

      mero_sync_history_record (history, "ctx", p, "sync-hash", "ok", FALSE, 40 + i, 1);
    }
  g_clear_pointer (&v, g_variant_unref);
  g_clear_pointer (&peers, g_variant_unref);
  v = g_variant_ref_sink (mero_sync_history_to_variant (history, "ctx"));
  peers = g_variant_lookup_value (v, "peers", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_cmpuint (g_variant_n_children (peers), ==, MERO_SYNC_HISTORY_MAX_PEERS);
}

static void
test_prometheus (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (MeroSyncMetricsCollector) c = mero_sync_metrics_prometheus_new (metrics);
  MeroSyncSessionStats stats = { .messages_sent = 3, .messages_received = 4, .bytes_sent = 100,
                                 .bytes_received = 200, .round_trips = 2,
                                 .entities_transferred = 7 };
  g_autofree char *text = NULL;

  c->selected (c, "sync-hash");
  c->session_ended (c, "sync-hash", "ok", &stats, 0.07);
  c->session_ended (c, "sync-hash", "failed", NULL, 40.0);
  c->handshake_done (c, 0.004);
  c->refused (c, "handshake", "non_member");
  c->failed (c, "sync-hash", "stream_reset");
#define GET(name, labels) mero_metrics_get_counter (metrics, name, labels)
  g_assert_cmpuint (GET ("mero_sync_selections_total", "protocol=\"sync-hash\""), ==, 1);
  g_assert_cmpuint (GET ("mero_sync_sessions_total", "protocol=\"sync-hash\",result=\"ok\""),
                    ==, 1);
  g_assert_cmpuint (
      GET ("mero_sync_sessions_total", "protocol=\"sync-hash\",result=\"failed\""), ==, 1);
  g_assert_cmpuint (GET ("mero_sync_bytes_sent_total", "protocol=\"sync-hash\""), ==, 100);
  g_assert_cmpuint (GET ("mero_sync_bytes_received_total", "protocol=\"sync-hash\""), ==, 200);
  g_assert_cmpuint (GET ("mero_sync_messages_sent_total", "protocol=\"sync-hash\""), ==, 3);
  g_assert_cmpuint (GET ("mero_sync_round_trips_total", "protocol=\"sync-hash\""), ==, 2);
  g_assert_cmpuint (GET ("mero_sync_entities_transferred_total", "protocol=\"sync-hash\""), ==,
                    7);
  /* Cumulative buckets: 0.07 s falls in le=0.1 and above, 40 s only in
   * le=120 and +Inf. */
  g_assert_cmpuint (
      GET ("mero_sync_duration_seconds_bucket", "protocol=\"sync-hash\",le=\"0.05\""), ==, 0);
  g_assert_cmpuint (
      GET ("mero_sync_duration_seconds_bucket", "protocol=\"sync-hash\",le=\"0.1\""), ==, 1);
  g_assert_cmpuint (
      GET ("mero_sync_duration_seconds_bucket", "protocol=\"sync-hash\",le=\"120\""), ==, 2);
  g_assert_cmpuint (
      GET ("mero_sync_duration_seconds_bucket", "protocol=\"sync-hash\",le=\"+Inf\""), ==, 2);
  g_assert_cmpuint (GET ("mero_sync_duration_seconds_count", "protocol=\"sync-hash\""), ==, 2);
  g_assert_cmpuint (GET ("mero_sync_handshake_duration_seconds_bucket", "le=\"0.01\""), ==, 1);
  g_assert_cmpuint (
      GET ("mero_sync_refusals_total", "protocol=\"handshake\",reason=\"non_member\""), ==, 1);
  g_assert_cmpuint (
      GET ("mero_sync_failures_total", "protocol=\"sync-hash\",reason=\"stream_reset\""), ==,
      1);
#undef GET
  text = mero_metrics_render (metrics);
  g_assert_nonnull (strstr (text, "mero_sync_duration_seconds_sum{protocol=\"sync-hash\"} 40.07"));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, MERO_METRICS_REJECTED_NAME, NULL), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync-handshake/round-trip", test_round_trip);
  g_test_add_func ("/sync-handshake/refusal", test_refusal);
  g_test_add_func ("/sync-handshake/refusal-repaired-within-bound",
                   test_refusal_repaired_within_bound);
  g_test_add_func ("/sync-handshake/bounds", test_bounds);
  g_test_add_func ("/sync-history/records", test_history);
  g_test_add_func ("/sync-metrics/prometheus", test_prometheus);
  return g_test_run ();
}
