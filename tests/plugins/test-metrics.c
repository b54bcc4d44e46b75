/* test-metrics.c: the metrics registry (host/metrics). */
#include <string.h>

#include "metrics/mero-metrics.h"

static void
test_counters_and_gauges (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (GError) error = NULL;
  MeroMetricType type = 0;
  double value = 0;

  g_assert_true (mero_metrics_counter_add (metrics, "mero_x_total", NULL, 2, &error));
  g_assert_no_error (error);
  g_assert_true (mero_metrics_counter_add (metrics, "mero_x_total", "", 3, NULL));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_x_total", NULL), ==, 5);
  g_assert_true (mero_metrics_counter_add (metrics, "mero_x_total", G_MAXUINT64 > 0 ? NULL : "",
                                           G_MAXUINT64, NULL));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_x_total", NULL), ==, G_MAXUINT64);

  g_assert_true (mero_metrics_gauge_set (metrics, "mero_g", "a=\"1\"", 1.5, NULL));
  g_assert_true (mero_metrics_gauge_add (metrics, "mero_g", "a=\"1\"", -0.25, NULL));
  g_assert_true (mero_metrics_lookup (metrics, "mero_g", "a=\"1\"", &type, &value));
  g_assert_cmpint (type, ==, MERO_METRIC_TYPE_GAUGE);
  g_assert_cmpfloat (value, ==, 1.25);
  g_assert_false (mero_metrics_lookup (metrics, "mero_g", "a=\"2\"", NULL, NULL));
  g_assert_false (mero_metrics_lookup (metrics, "mero_nope", NULL, NULL, NULL));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_g", "a=\"1\""), ==, 0);
}

static void
test_labels_canonical (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();

  g_assert_true (mero_metrics_counter_add (metrics, "c_total", "b=\"2\",a=\"1\"", 1, NULL));
  g_assert_true (mero_metrics_counter_add (metrics, "c_total", "a=\"1\",b=\"2\",", 1, NULL));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "c_total", "a=\"1\",b=\"2\""), ==, 2);
  g_assert_true (mero_metrics_counter_add (metrics, "c_total", "v=\"q\\\"uo\\\\te\\n\"", 1,
                                           NULL));
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "c_total", "v=\"q\\\"uo\\\\te\\n\""), ==,
                    1);
}

static void
test_rejections (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  const char *bad_labels[] = {
    "a", "a=1", "a=\"1", "a=\"1\"b=\"2\"", "1a=\"x\"", "__reserved=\"x\"", "a=\"\\x\"",
    "a=\"1\",a=\"2\"", "a=\"line\nbreak\"",
  };
  const char *bad_names[] = { "", "1abc", "has space", "dash-name", "ünicode" };
  guint64 rejected = 0;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_labels); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (mero_metrics_counter_add (metrics, "ok_total", bad_labels[i], 1, &error));
      g_assert_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_LABELS);
      rejected++;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (mero_metrics_gauge_set (metrics, bad_names[i], NULL, 1, &error));
      g_assert_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_NAME);
      rejected++;
    }
  {
    g_autoptr (GError) error = NULL;

    g_assert_true (mero_metrics_counter_add (metrics, "typed", NULL, 1, NULL));
    g_assert_false (mero_metrics_gauge_set (metrics, "typed", NULL, 1, &error));
    g_assert_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_TYPE_MISMATCH);
    rejected++;
  }
  /* Even with error = NULL nothing is lost silently. */
  g_assert_false (mero_metrics_counter_add (metrics, NULL, NULL, 1, NULL));
  rejected++;
  g_assert_cmpuint (mero_metrics_get_counter (metrics, MERO_METRICS_REJECTED_NAME, NULL), ==,
                    rejected);
}

static void
test_render (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autofree char *text = NULL;

  g_assert_true (mero_metrics_gauge_set (metrics, "zeta", NULL, 0.5, NULL));
  g_assert_true (mero_metrics_counter_add (metrics, "alpha_total", "peer=\"b\"", 2, NULL));
  g_assert_true (mero_metrics_counter_add (metrics, "alpha_total", "peer=\"a\"", 1, NULL));
  g_assert_true (mero_metrics_set_help (metrics, "alpha_total", "Things \\ counted", NULL));
  g_assert_true (mero_metrics_gauge_set (metrics, "mid", "x=\"1\"", 1.0 / 0.0, NULL));
  g_assert_false (mero_metrics_set_help (metrics, "absent", "x", NULL));

  text = mero_metrics_render (metrics);
  g_assert_cmpstr (text, ==,
                   "# HELP alpha_total Things \\\\ counted\n"
                   "# TYPE alpha_total counter\n"
                   "alpha_total{peer=\"a\"} 1\n"
                   "alpha_total{peer=\"b\"} 2\n"
                   "# TYPE mid gauge\n"
                   "mid{x=\"1\"} +Inf\n"
                   "# TYPE zeta gauge\n"
                   "zeta 0.5\n");
}

static void
test_default_instance (void)
{
  guint64 before = mero_metrics_get_counter (NULL, "mero_test_default_total", NULL);

  g_assert_true (mero_metrics_get_default () == mero_metrics_get_default ());
  g_assert_true (mero_metrics_counter_add (NULL, "mero_test_default_total", NULL, 1, NULL));
  g_assert_cmpuint (mero_metrics_get_counter (mero_metrics_get_default (),
                                              "mero_test_default_total", NULL), ==, before + 1);
  mero_metrics_unref (NULL);
}

#define N_THREADS 8
#define N_ADDS 20000

static gpointer
adder_thread (gpointer data)
{
  MeroMetrics *metrics = data;

  for (int i = 0; i < N_ADDS; i++)
    {
      mero_metrics_counter_add (metrics, "threads_total", i % 2 ? "p=\"odd\"" : "p=\"even\"", 1,
                                NULL);
      mero_metrics_gauge_add (metrics, "threads_gauge", NULL, 1.0, NULL);
      if (i % 1000 == 0)
        g_free (mero_metrics_render (metrics));
    }
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  GThread *threads[N_THREADS];
  double gauge = 0;

  for (int i = 0; i < N_THREADS; i++)
    threads[i] = g_thread_new ("adder", adder_thread, mero_metrics_ref (metrics));
  for (int i = 0; i < N_THREADS; i++)
    g_thread_join (threads[i]);
  for (int i = 0; i < N_THREADS; i++)
    mero_metrics_unref (metrics);

  g_assert_cmpuint (mero_metrics_get_counter (metrics, "threads_total", "p=\"odd\"") +
                        mero_metrics_get_counter (metrics, "threads_total", "p=\"even\""),
                    ==, N_THREADS * N_ADDS);
  g_assert_true (mero_metrics_lookup (metrics, "threads_gauge", NULL, NULL, &gauge));
  g_assert_cmpfloat (gauge, ==, (double) N_THREADS * N_ADDS);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/metrics/counters-and-gauges", test_counters_and_gauges);
  g_test_add_func ("/metrics/labels-canonical", test_labels_canonical);
  g_test_add_func ("/metrics/rejections", test_rejections);
  g_test_add_func ("/metrics/render", test_render);
  g_test_add_func ("/metrics/default-instance", test_default_instance);
  g_test_add_func ("/metrics/threads", test_threads);
  return g_test_run ();
}
