/* bench-blob.c: BlobManager on this machine's disk, in one run.
 *
 *   bench-blob [N [MIB]]     defaults: 10000 blobs of 4 KiB, a 1024 MiB file
 *
 * 1. N distinct 4 KiB blobs added with up to MAX_IN_FLIGHT adds pending
 *    at once, each acknowledged only once durable (fsync on, as merod
 *    runs): blobs per second; target >= 10,000/s.  Also the CPU spent
 *    per add over all threads, which on a shared machine is steadier
 *    than the wall-clock rate.
 * 2. A MIB MiB file: add (read, hash, write, sync) against `cp` + `sync`
 *    of the same file, and get (read, verify every chunk, write to
 *    /dev/null) against `sha256sum` of it: MB/s and the ratios.
 * The file is in the page cache for every contender (written just
 * before), so the figures compare CPU and write paths, not cold reads. */
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "blob/mero-blob-manager.h"
#include "mero-test-fs.h"
#include "store-rocksdb-core.h"

#define SMALL_SIZE 4096
#define MAX_IN_FLIGHT 2048
#define ADDS_TARGET 10000.0

typedef struct {
  guint pending;
  guint failed;
} Adds;

static void
on_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Adds *a = user_data;

  if (!mero_blob_manager_add_finish (NULL, result, NULL, NULL))
    a->failed++;
  a->pending--;
}

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

/* CPU seconds of this process so far, every thread, user and system. */
static double
cpu_s (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (double) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec)
         + (double) (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static double
bench_small_adds (MeroBlobManager *manager, guint n, double *cpu_per_add)
{
  Adds a = { 0 };
  double start = now_s (), cpu_start = cpu_s (), secs;
  guint next = 0;

  while (next < n || a.pending > 0)
    {
      while (next < n && a.pending < MAX_IN_FLIGHT)
        {
          guint8 *data = g_malloc (SMALL_SIZE);
          g_autoptr (GBytes) bytes = NULL;
          g_autoptr (GInputStream) in = NULL;

          for (guint i = 0; i < SMALL_SIZE; i += 4)
            {
              guint32 v = next * 2654435761u + i;

              memcpy (data + i, &v, 4);
            }
          bytes = g_bytes_new_take (data, SMALL_SIZE);
          in = g_memory_input_stream_new_from_bytes (bytes);
          a.pending++;
          next++;
          mero_blob_manager_add_stream_async (manager, in, NULL, on_added, &a);
        }
      g_main_context_iteration (NULL, TRUE);
    }
  secs = now_s () - start;
  *cpu_per_add = (cpu_s () - cpu_start) / n;
  if (a.failed > 0)
    g_error ("%u adds failed", a.failed);
  return n / secs;
}

static double
run_timed (const char *const *argv)
{
  g_autoptr (GError) error = NULL;
  double start = now_s ();
  int status;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    g_error ("%s: %s", argv[0], error->message);
  return now_s () - start;
}

typedef struct {
  gboolean done;
  gboolean ok;
  MeroBlobMeta info;
} Wait;

static void
on_file_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;
  g_autoptr (GError) error = NULL;

  w->ok = mero_blob_manager_add_finish (NULL, result, &w->info, &error);
  if (!w->ok)
    g_error ("add: %s", error->message);
  w->done = TRUE;
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Wait *w = user_data;
  g_autoptr (GError) error = NULL;

  w->ok = mero_blob_manager_read_finish (NULL, result, NULL, &error);
  if (!w->ok)
    g_error ("get: %s", error->message);
  w->done = TRUE;
}

static void
write_file (const char *path, guint64 mib)
{
  g_autofree guint8 *buf = g_malloc (1024 * 1024);
  FILE *f = fopen (path, "wb");
  guint32 x = 12345;

  for (guint64 m = 0; m < mib; m++)
    {
      for (guint i = 0; i < 1024 * 1024; i += 4)
        {
          x = x * 1103515245u + 12345u;
          memcpy (buf + i, &x, 4);
        }
      fwrite (buf, 1, 1024 * 1024, f);
    }
  fclose (f);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  guint64 mib = argc > 2 ? (guint64) atoi (argv[2]) : 1024;
  g_autofree char *tmp = mero_test_make_tmpdir ("bench-blob");
  g_autofree char *db = g_build_filename (tmp, "db", NULL);
  g_autofree char *dir = g_build_filename (tmp, "blobstore", NULL);
  g_autofree char *file = g_build_filename (tmp, "big", NULL);
  g_autofree char *copy = g_build_filename (tmp, "big.copy", NULL);
  g_autoptr (GError) error = NULL;
  MeroBlobManagerOptions options = {
    .dir = dir, .max_size = G_MAXUINT64, .fsync = TRUE, .cache_max_age_secs = 300,
    .cache_max_entries = 100, .cache_max_bytes = 500u * 1024 * 1024,
  };
  MeroStore *store = mero_store_open (&mero_store_rocksdb_vtable, NULL, db, NULL, &error);
  MeroBlobManager *manager;
  double adds, cpu_per_add, t_add, t_get, t_cp, t_sha, mb = (double) mib * 1024 * 1024 / 1e6;
  Wait w = { 0 };
  int null_fd;

  g_assert_no_error (error);
  manager = mero_blob_manager_new (store, &options, &error);
  g_assert_no_error (error);

  adds = bench_small_adds (manager, n, &cpu_per_add);
  printf ("small adds: %u blobs of %d B: %.0f blobs/s (target >= %.0f/s: %s)\n", n, SMALL_SIZE,
          adds, ADDS_TARGET, adds >= ADDS_TARGET ? "met" : "missed");
  /* On a shared machine the wall-clock rate follows the load; the CPU
   * spent per add (all threads, this process) does not. */
  printf ("  CPU per add: %.0f us (all threads), i.e. %.0f adds per CPU-second\n",
          cpu_per_add * 1e6, 1 / cpu_per_add);

  write_file (file, mib);
  t_cp = run_timed ((const char *[]) { "sh", "-c", "cp \"$0\" \"$1\" && sync \"$1\"", file, copy,
                                       NULL });
  t_sha = run_timed ((const char *[]) { "sha256sum", file, NULL });

  {
    double start = now_s ();

    mero_blob_manager_add_file_async (manager, file, NULL, on_file_added, &w);
    while (!w.done)
      g_main_context_iteration (NULL, TRUE);
    t_add = now_s () - start;
  }
  {
    MeroBlobMeta info = w.info;
    double start = now_s ();

    w = (Wait) { 0 };
    null_fd = open ("/dev/null", O_WRONLY);
    mero_blob_manager_read_to_fd_async (manager, info.id, 0, G_MAXUINT64, null_fd, NULL, on_read,
                                        &w);
    while (!w.done)
      g_main_context_iteration (NULL, TRUE);
    t_get = now_s () - start;
  }
  printf ("1 file of %" G_GUINT64_FORMAT " MiB:\n", mib);
  printf ("  add  %8.0f MB/s   cp+sync   %8.0f MB/s   ratio %.2f\n", mb / t_add, mb / t_cp,
          t_cp / t_add);
  printf ("  get  %8.0f MB/s   sha256sum %8.0f MB/s   ratio %.2f\n", mb / t_get, mb / t_sha,
          t_sha / t_get);

  mero_blob_manager_free (manager);
  mero_store_close (store);
  mero_test_remove_tree (tmp);
  return 0;
}
