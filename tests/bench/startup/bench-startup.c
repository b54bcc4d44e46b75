/* bench-startup.c: `merod run` start-to-ready time and idle RSS.
 *
 * For N runs on one initialised home (the first run creating the database
 * is not counted): time from spawn to the "ready" log line on stderr, and
 * VmRSS (with its anonymous and file-backed parts) after ~1 s idle.
 * Baselines in the same run: opening and closing the same RocksDB
 * database with the raw C API in this process (same column families), the
 * RSS that merely loading librocksdb costs, and spawn-to-exit of
 * /bin/true.  Targets (issue 2): ready ≤ 50 ms, idle RSS ≤ 15 MB.
 *
 *   meson test -C build --benchmark --suite startup -v
 *   MERO_BENCH_RUNS=20 to change N. */
#include <gio/gio.h>
#include <rocksdb/c.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "mero-test-daemon.h"

#define DEFAULT_RUNS 10
#define IDLE_WAIT_US (1000 * 1000)
#define TARGET_READY_MS 50.0
#define TARGET_RSS_KB (15 * 1024)

typedef struct {
  guint64 rss_kb, anon_kb, file_kb;
  guint64 pss_kb, private_kb;   /* from smaps_rollup */
} Rss;

/* Pss and Private_* tell what the process costs beyond pages it shares
 * with every other user of the same libraries. */
static void
read_rollup (GPid pid, Rss *rss)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/smaps_rollup", (int) pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return;
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      const char *colon = strchr (lines[i], ':');

      if (colon == NULL)
        continue;
      if (g_str_has_prefix (lines[i], "Pss:"))
        rss->pss_kb = g_ascii_strtoull (colon + 1, NULL, 10);
      else if (g_str_has_prefix (lines[i], "Private_Clean:")
               || g_str_has_prefix (lines[i], "Private_Dirty:"))
        rss->private_kb += g_ascii_strtoull (colon + 1, NULL, 10);
    }
}

static gboolean
read_rss (GPid pid, Rss *rss)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return FALSE;
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      guint64 *slot = NULL;

      if (g_str_has_prefix (lines[i], "VmRSS:"))
        slot = &rss->rss_kb;
      else if (g_str_has_prefix (lines[i], "RssAnon:"))
        slot = &rss->anon_kb;
      else if (g_str_has_prefix (lines[i], "RssFile:"))
        slot = &rss->file_kb;
      if (slot != NULL)
        *slot = g_ascii_strtoull (strchr (lines[i], ':') + 1, NULL, 10);
    }
  read_rollup (pid, rss);
  return TRUE;
}

static int
compare_doubles (gconstpointer a, gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return x < y ? -1 : x > y;
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return g_array_index (values, double, values->len / 2);
}

static void
print_row (const char *what, GArray *values, const char *unit)
{
  double med = median (values);

  printf ("%-38s %9.2f %9.2f %9.2f  %s\n", what, med, g_array_index (values, double, 0),
          g_array_index (values, double, values->len - 1), unit);
}

/* One `merod run`: returns the start-to-ready time in ms, fills @rss. */
static double
run_merod_once (const char *home, Rss *rss)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroTestDaemon) daemon = NULL;
  gint64 start = g_get_monotonic_time ();
  double ready_ms;
  int status = -1;

  daemon = mero_test_daemon_spawn ((const char *[]) { "run", "--home", home, "--bus=none",
                                                      NULL },
                                   NULL, &error);
  g_assert_no_error (error);
  if (!mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS))
    g_error ("merod did not become ready: %s", mero_test_daemon_get_stderr (daemon));
  ready_ms = (g_get_monotonic_time () - start) / 1000.0;

  g_usleep (IDLE_WAIT_US);
  if (rss != NULL)
    g_assert_true (read_rss (mero_test_daemon_get_pid (daemon), rss));
  mero_test_daemon_send_signal (daemon, SIGTERM);
  g_assert_true (mero_test_daemon_wait_exit (daemon, MERO_TEST_TIMEOUT_MS, &status));
  g_assert_cmpint (status, ==, 0);
  return ready_ms;
}

static double
rocksdb_open_close_once (const char *path)
{
  rocksdb_options_t *options = rocksdb_options_create ();
  char *err = NULL;
  size_t n_cf = 0;
  char **cf_names;
  const rocksdb_options_t **cf_options;
  rocksdb_column_family_handle_t **handles;
  rocksdb_t *db;
  gint64 start = g_get_monotonic_time ();
  double ms;

  /* The same database the plugin opened, with all its column families
   * (RocksDB refuses to open a database without them). */
  cf_names = rocksdb_list_column_families (options, path, &n_cf, &err);
  if (err != NULL)
    g_error ("rocksdb_list_column_families: %s", err);
  cf_options = g_new (const rocksdb_options_t *, n_cf);
  handles = g_new0 (rocksdb_column_family_handle_t *, n_cf);
  for (size_t i = 0; i < n_cf; i++)
    cf_options[i] = options;
  db = rocksdb_open_column_families (options, path, (int) n_cf, (const char *const *) cf_names,
                                     cf_options, handles, &err);
  if (err != NULL)
    g_error ("rocksdb_open_column_families: %s", err);
  for (size_t i = 0; i < n_cf; i++)
    rocksdb_column_family_handle_destroy (handles[i]);
  rocksdb_close (db);
  ms = (g_get_monotonic_time () - start) / 1000.0;

  rocksdb_list_column_families_destroy (cf_names, n_cf);
  g_free (cf_options);
  g_free (handles);
  rocksdb_options_destroy (options);
  return ms;
}

static double
true_once (void)
{
  gint64 start = g_get_monotonic_time ();
  int status = -1;

  g_assert_true (mero_test_run_sync ((const char *[]) { "/bin/true", NULL }, NULL,
                                     MERO_TEST_TIMEOUT_MS, NULL, NULL, &status));
  g_assert_cmpint (status, ==, 0);
  return (g_get_monotonic_time () - start) / 1000.0;
}

int
main (int argc, char **argv)
{
  guint runs = DEFAULT_RUNS;
  g_autofree char *tmp = mero_test_make_tmpdir ("merod-bench");
  g_autofree char *home = g_build_filename (tmp, "home", NULL);
  g_autofree char *db_path = g_build_filename (home, "data", NULL);
  g_autoptr (GArray) ready = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rss_total = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rss_anon = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rss_file = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rss_private = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rss_pss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) rocks = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) truth = g_array_new (FALSE, FALSE, sizeof (double));
  Rss self_before = { 0 }, self_after = { 0 };
  double ready_med, rss_med, rocks_med, true_med;

  if (g_getenv ("MERO_BENCH_RUNS") != NULL)
    runs = MAX (1, (guint) g_ascii_strtoull (g_getenv ("MERO_BENCH_RUNS"), NULL, 10));

  /* Free ports: the runs neither collide with a node on this machine nor
   * need 2428/2528. */
  g_free (mero_test_home_init (home, NULL));
  /* Warm-up: creates the database and fills the page cache. */
  run_merod_once (home, NULL);

  for (guint i = 0; i < runs; i++)
    {
      Rss rss = { 0 };
      double ms = run_merod_once (home, &rss);
      double total = rss.rss_kb / 1024.0, anon = rss.anon_kb / 1024.0,
             file = rss.file_kb / 1024.0, priv = rss.private_kb / 1024.0,
             pss = rss.pss_kb / 1024.0;

      g_array_append_val (ready, ms);
      g_array_append_val (rss_total, total);
      g_array_append_val (rss_anon, anon);
      g_array_append_val (rss_file, file);
      g_array_append_val (rss_private, priv);
      g_array_append_val (rss_pss, pss);
    }

  /* librocksdb is already mapped in this process (linked); its pages are
   * touched by the first open, so measure RSS around that. */
  read_rss (getpid (), &self_before);
  for (guint i = 0; i < runs; i++)
    {
      double ms = rocksdb_open_close_once (db_path);

      g_array_append_val (rocks, ms);
    }
  read_rss (getpid (), &self_after);
  for (guint i = 0; i < runs; i++)
    {
      double ms = true_once ();

      g_array_append_val (truth, ms);
    }

  ready_med = median (ready);
  rss_med = median (rss_total);
  rocks_med = median (rocks);
  true_med = median (truth);

  printf ("\nmerod startup benchmark, %u runs (median, min, max)\n\n", runs);
  printf ("%-38s %9s %9s %9s\n", "", "median", "min", "max");
  print_row ("merod run: spawn to ready", ready, "ms");
  print_row ("merod run: idle VmRSS after 1 s", rss_total, "MiB");
  print_row ("  of which RssAnon", rss_anon, "MiB");
  print_row ("  of which RssFile (shared libraries)", rss_file, "MiB");
  print_row ("  private to merod (USS)", rss_private, "MiB");
  print_row ("  proportional share (PSS)", rss_pss, "MiB");
  print_row ("raw RocksDB C API: open+close", rocks, "ms");
  print_row ("spawn to exit of /bin/true", truth, "ms");
  printf ("\nbench process RSS growth from opening RocksDB: %.2f MiB (RssFile %+.2f MiB)\n",
          ((double) self_after.rss_kb - (double) self_before.rss_kb) / 1024.0,
          ((double) self_after.file_kb - (double) self_before.file_kb) / 1024.0);
  printf ("ratios: ready / RocksDB open+close = %.1f, ready / spawn of /bin/true = %.1f\n",
          rocks_med > 0 ? ready_med / rocks_med : 0.0, true_med > 0 ? ready_med / true_med : 0.0);
  printf ("targets: ready <= %.0f ms: %s (%.2f ms); idle RSS <= %d MiB: %s (%.2f MiB)\n",
          TARGET_READY_MS, ready_med <= TARGET_READY_MS ? "met" : "NOT met", ready_med,
          TARGET_RSS_KB / 1024, rss_med * 1024 <= TARGET_RSS_KB ? "met" : "NOT met", rss_med);

  mero_test_remove_tree (tmp);
  return 0;
}
