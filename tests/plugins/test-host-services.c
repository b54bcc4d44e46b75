/* test-host-services.c: the table a plugin gets (host/plugin). */
#include <string.h>

#include "mero-build-config.h"
#include "plugin/mero-host-services.h"
#include "test-log-capture.h"

static const MeroStateAccess some_state = { .struct_size = sizeof (MeroStateAccess) };

static void
test_table (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (MeroHostServices) host =
      mero_host_services_new ("demo", MERO_PLUGIN_KIND_SYNC_PROTOCOL, metrics, &some_state);
  g_autoptr (MeroHostServices) tee =
      mero_host_services_new ("demo-tee", MERO_PLUGIN_KIND_TEE_VERIFIER, metrics, &some_state);

  g_assert_cmpuint (host->struct_size, ==, sizeof (MeroHostServices));
  g_assert_cmpuint (host->abi_major, ==, MERO_PLUGIN_ABI_MAJOR);
  g_assert_cmpuint (host->abi_minor, ==, MERO_PLUGIN_ABI_MINOR);
  g_assert_cmpstr (host->host_version, ==, MERO_VERSION);
  g_assert_true (MERO_HOST_SERVICES_HAS (host, host_data));
  g_assert_true (host->state == &some_state);
  g_assert_null (tee->state);
  g_assert_cmpstr (mero_host_services_get_plugin_name (host), ==, "demo");
  mero_host_services_free (NULL);
}

static void
test_clocks_and_random (void)
{
  g_autoptr (MeroHostServices) host =
      mero_host_services_new ("demo", MERO_PLUGIN_KIND_TEE_VERIFIER, NULL, NULL);
  int64_t mono = host->now_monotonic_us (host);
  int64_t real = host->now_real_us (host);
  guint8 a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

  g_assert_cmpint (mono, >, 0);
  g_assert_cmpint (host->now_monotonic_us (host), >=, mono);
  /* Any time after 2020 and within a second of GLib's own clock. */
  g_assert_cmpint (real, >, G_GINT64_CONSTANT (1577836800000000));
  g_assert_cmpint (ABS (g_get_real_time () - real), <, G_USEC_PER_SEC);

  host->random_bytes (host, a, sizeof a);
  host->random_bytes (host, b, sizeof b);
  host->random_bytes (host, NULL, 0);
  g_assert_true (memcmp (a, zero, sizeof a) != 0);
  g_assert_true (memcmp (a, b, sizeof a) != 0);
}

static void
test_metrics (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (MeroHostServices) host =
      mero_host_services_new ("demo", MERO_PLUGIN_KIND_STORAGE_BACKEND, metrics, NULL);
  double value = 0;

  test_log_capture_clear ();
  host->counter_add (host, "demo_total", "k=\"v\"", 3);
  host->gauge_set (host, "demo_gauge", NULL, 7.5);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "demo_total", "k=\"v\""), ==, 3);
  g_assert_true (mero_metrics_lookup (metrics, "demo_gauge", NULL, NULL, &value));
  g_assert_cmpfloat (value, ==, 7.5);

  /* A plugin's bad update is refused, logged against it and counted. */
  host->counter_add (host, "bad name", NULL, 1);
  host->gauge_set (host, "demo_total", NULL, 1);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, MERO_METRICS_REJECTED_NAME, NULL), ==, 2);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, "MERO_PLUGIN", "demo"), ==, 2);
}

static void
test_log_levels (void)
{
  g_autoptr (MeroHostServices) host =
      mero_host_services_new ("demo", MERO_PLUGIN_KIND_SYNC_PROTOCOL, NULL, NULL);
  g_autoptr (GPtrArray) records = NULL;
  const struct {
    MeroLogLevel level;
    GLogLevelFlags glib;
    const char *priority;
  } map[] = {
    { MERO_LOG_LEVEL_ERROR, G_LOG_LEVEL_WARNING, "3" },
    { MERO_LOG_LEVEL_WARNING, G_LOG_LEVEL_WARNING, "4" },
    { MERO_LOG_LEVEL_INFO, G_LOG_LEVEL_INFO, "6" },
    { MERO_LOG_LEVEL_DEBUG, G_LOG_LEVEL_DEBUG, "7" },
  };

  test_log_capture_clear ();
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    host->log (host, map[i].level, "demo-sub", "100% %s %n not a format");
  mero_plugin_log (host, MERO_LOG_LEVEL_INFO, NULL, "formatted %d", 42);

  records = test_log_capture_get ();
  g_assert_cmpuint (records->len, ==, G_N_ELEMENTS (map) + 1);
  for (gsize i = 0; i < G_N_ELEMENTS (map); i++)
    {
      const TestLogRecord *r = g_ptr_array_index (records, i);

      g_assert_cmpint (r->level, ==, map[i].glib);
      g_assert_cmpstr (r->priority, ==, map[i].priority);
      g_assert_cmpstr (r->plugin, ==, "demo");
      g_assert_cmpstr (r->domain, ==, MERO_HOST_LOG_DOMAIN_PLUGINS);
      g_assert_cmpstr (r->message, ==, "100% %s %n not a format");
    }
  g_assert_cmpstr (((const TestLogRecord *) g_ptr_array_index (records, 4))->message, ==,
                   "formatted 42");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_log_capture_install ();
  g_test_add_func ("/host-services/table", test_table);
  g_test_add_func ("/host-services/clocks-and-random", test_clocks_and_random);
  g_test_add_func ("/host-services/metrics", test_metrics);
  g_test_add_func ("/host-services/log-levels", test_log_levels);
  return g_test_run ();
}
