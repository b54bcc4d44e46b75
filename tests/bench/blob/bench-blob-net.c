/* bench-blob-net.c: blobs from node A to node B through two real merod
 * processes on loopback, next to raw TCP and BitTorrent in the same run.
 *
 *   bench-blob-net [MIB [SMALL]]   defaults: 1024 MiB, 10000 small blobs
 *   (or MERO_BENCH_BLOB_MIB / MERO_BENCH_BLOB_SMALL; e.g. 64 and 500 for
 *   a quick pass)
 *
 * 1. Baselines: iperf3 over 127.0.0.1 (raw TCP, one stream, 3 s), and the
 *    same file over BitTorrent with Debian's aria2 + opentracker +
 *    mktorrent (recipe: ../shared/reference/baselines.md): time from the
 *    leecher's start to its exit, bytes checked by SHA-256.  A tool that
 *    is not installed is reported "baseline unavailable" and skipped.
 * 2. For network.security=noise, then tls: two fresh nodes share a kv
 *    context; A adds the file (AddBlob, option context); B calls FetchBlob
 *    (it returns once the blob is verified and committed on B) while this
 *    process samples both nodes' VmRSS every 20 ms; then B's copy is read
 *    back (GetBlob into a file) and its SHA-256 compared.  Figures: MB/s
 *    of the FetchBlob call, and each node's peak RSS during it above its
 *    RSS just before (target <= 64 MiB).  Without FetchBlob on the bus
 *    (the method is not there yet) the line reads "unavailable".  Also
 *    each node's CPU seconds per GiB moved, in total and by thread (robust
 *    where MB/s is not: the machine may be shared); MERO_BENCH_PERF=PREFIX
 *    records both nodes with `perf record -g` during the transfer.
 * 3. SMALL distinct 4 KiB blobs: added on A over D-Bus (AddBlob, each
 *    from its own memfd, WINDOW calls in flight): blobs/s; then fetched
 *    by B with WINDOW FetchBlob calls in flight: blobs/s; then SMALL more
 *    added with AddBlobs, BATCH memfds per call (WINDOW blobs in flight):
 *    the bulk path, where the bus costs one round trip per BATCH.
 * Targets: >= 400 MB/s and >= 2x aria2; >= 10,000 adds/s (the local add
 * path alone is bench-blob's figure; this one includes D-Bus and fd
 * passing); >= 2,000 fetches/s. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mero-test-cluster.h"
#include "mero-test-fs.h"

#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
#define SMALL_SIZE 4096
/* Calls in flight; the bus allows 128 pending replies per connection. */
#define WINDOW 100
#define RSS_SAMPLE_MS 20
#define CALL_TIMEOUT_MS (600 * 1000)
#define TOOL_TIMEOUT_US (300 * G_USEC_PER_SEC)
#define TARGET_MBPS 400.0
#define TARGET_RSS_MIB 64.0
#define TARGET_ADDS 10000.0
#define TARGET_FETCHES 2000.0

static double
now_s (void)
{
  return (double) g_get_monotonic_time () / G_USEC_PER_SEC;
}

static const char *
yes_no (gboolean met)
{
  return met ? "yes" : "no";
}

static guint
env_or_arg (int argc, char **argv, int index, const char *env, guint fallback)
{
  const char *text = argc > index ? argv[index] : g_getenv (env);

  return text != NULL && atoi (text) > 0 ? (guint) atoi (text) : fallback;
}

static guint16
free_port (void)
{
  struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
  socklen_t len = sizeof addr;
  int fd = socket (AF_INET, SOCK_STREAM, 0);
  guint16 port;

  g_assert_cmpint (bind (fd, (struct sockaddr *) &addr, sizeof addr), ==, 0);
  g_assert_cmpint (getsockname (fd, (struct sockaddr *) &addr, &len), ==, 0);
  port = ntohs (addr.sin_port);
  close (fd);
  return port;
}

static char *
sha256_file (const char *path)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (1 << 20);
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  ssize_t n;

  if (fd < 0)
    return NULL;
  while ((n = read (fd, buf, 1 << 20)) > 0)
    g_checksum_update (sum, buf, n);
  close (fd);
  return g_strdup (g_checksum_get_string (sum));
}

static void
write_file (const char *path, guint64 mib)
{
  g_autofree guint8 *buf = g_malloc (1024 * 1024);
  FILE *f = fopen (path, "wb");
  guint32 x = 424242;

  g_assert_nonnull (f);
  for (guint64 m = 0; m < mib; m++)
    {
      for (guint i = 0; i < 1024 * 1024; i += 4)
        {
          x = x * 1103515245u + 12345u;
          memcpy (buf + i, &x, 4);
        }
      g_assert_cmpuint (fwrite (buf, 1, 1024 * 1024, f), ==, 1024 * 1024);
    }
  g_assert_cmpint (fclose (f), ==, 0);
}

/* ---- child processes ---------------------------------------------------- */

static GPid
spawn_bg (const char *const *argv, const char *cwd)
{
  g_autoptr (GError) error = NULL;
  GPid pid = 0;

  if (!g_spawn_async (cwd, (char **) argv, NULL,
                      G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL
                        | G_SPAWN_STDERR_TO_DEV_NULL,
                      NULL, NULL, &pid, &error))
    {
      printf ("  cannot start %s: %s\n", argv[0], error->message);
      return 0;
    }
  return pid;
}

/* Waits up to @timeout_us for @pid; kills it if still running.  TRUE if it
 * exited with status 0 in time. */
static gboolean
wait_pid (GPid pid, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  int status = 0;

  while (g_get_monotonic_time () < deadline)
    {
      pid_t got = waitpid (pid, &status, WNOHANG);

      if (got == pid)
        return WIFEXITED (status) && WEXITSTATUS (status) == 0;
      g_usleep (10 * 1000);
    }
  kill (pid, SIGKILL);
  waitpid (pid, &status, 0);
  return FALSE;
}

static void
stop_pid (GPid pid)
{
  int status;

  if (pid <= 0)
    return;
  kill (pid, SIGTERM);
  if (!wait_pid (pid, 5 * G_USEC_PER_SEC))
    return;
  (void) status;
}

static gboolean
run_sync (const char *const *argv, const char *cwd, char **out)
{
  g_autoptr (GError) error = NULL;
  int status;

  if (!g_spawn_sync (cwd, (char **) argv, NULL,
                     G_SPAWN_SEARCH_PATH | (out == NULL ? G_SPAWN_STDOUT_TO_DEV_NULL : 0),
                     NULL, NULL, out, NULL, &status, &error)
      || !g_spawn_check_wait_status (status, &error))
    {
      printf ("  %s failed: %s\n", argv[0], error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
have_tool (const char *tool)
{
  g_autofree char *path = g_find_program_in_path (tool);

  if (path == NULL)
    printf ("baseline unavailable: %s not installed\n", tool);
  return path != NULL;
}

/* ---- baselines ---------------------------------------------------------- */

/* Raw loopback TCP, one stream, MB/s (0: unavailable). */
static double
bench_iperf (void)
{
  g_autofree char *port = NULL;
  g_autofree char *out = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root, *end, *sum;
  GPid server;
  double mbps;

  if (!have_tool ("iperf3"))
    return 0;
  port = g_strdup_printf ("%u", free_port ());
  server = spawn_bg ((const char *[]) { "iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", port,
                                        NULL }, NULL);
  if (server == 0)
    return 0;
  /* The server needs a moment to listen; retry the client a few times. */
  for (guint attempt = 0; attempt < 50; attempt++)
    {
      g_clear_pointer (&out, g_free);
      if (g_spawn_sync (NULL, (char **) (const char *[]) { "iperf3", "-c", "127.0.0.1", "-p", port,
                                                           "-t", "3", "-J", NULL },
                        NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out,
                        NULL, NULL, NULL)
          && out != NULL && strstr (out, "\"sum_received\"") != NULL)
        break;
      g_usleep (100 * 1000);
    }
  stop_pid (server);
  if (out == NULL || !json_parser_load_from_data (parser, out, -1, NULL))
    {
      printf ("baseline unavailable: iperf3 gave no result\n");
      return 0;
    }
  root = json_node_get_object (json_parser_get_root (parser));
  end = json_object_get_object_member (root, "end");
  sum = end != NULL ? json_object_get_object_member (end, "sum_received") : NULL;
  if (sum == NULL)
    {
      printf ("baseline unavailable: iperf3 gave no result\n");
      return 0;
    }
  mbps = json_object_get_double_member (sum, "bits_per_second") / 8 / 1e6;
  printf ("raw TCP (iperf3, 1 stream, 3 s):     %8.0f MB/s\n", mbps);
  return mbps;
}

static gboolean
wait_tcp_port (guint16 port, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;

  while (g_get_monotonic_time () < deadline)
    {
      struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int fd = socket (AF_INET, SOCK_STREAM, 0);
      gboolean ok = connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0;

      close (fd);
      if (ok)
        return TRUE;
      g_usleep (20 * 1000);
    }
  return FALSE;
}

/* Asks the tracker's /scrape for @hash (40 hex digits) until it counts
 * one complete peer (bencoded "completei1e"). */
static gboolean
wait_seeder (guint16 port, const char *hash, gint64 timeout_us)
{
  gint64 deadline = g_get_monotonic_time () + timeout_us;
  GString *request = g_string_new ("GET /scrape?info_hash=");

  for (guint i = 0; i + 1 < 41 && hash[i] != '\0'; i += 2)
    g_string_append_printf (request, "%%%c%c", hash[i], hash[i + 1]);
  g_string_append (request, " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n");
  while (g_get_monotonic_time () < deadline)
    {
      struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons (port),
                                  .sin_addr.s_addr = htonl (INADDR_LOOPBACK) };
      int fd = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      char reply[4096];
      gsize got = 0;
      ssize_t n;

      if (connect (fd, (struct sockaddr *) &addr, sizeof addr) == 0
          && write (fd, request->str, request->len) == (ssize_t) request->len)
        while (got < sizeof reply - 1 && (n = read (fd, reply + got, sizeof reply - 1 - got)) > 0)
          got += (gsize) n;
      close (fd);
      reply[got] = '\0';
      if (memmem (reply, got, "completei1e", strlen ("completei1e")) != NULL)
        {
          g_string_free (request, TRUE);
          return TRUE;
        }
      g_usleep (50 * 1000);
    }
  g_string_free (request, TRUE);
  return FALSE;
}

/* The file over BitTorrent, seeder to leecher on 127.0.0.1: MB/s (0:
 * unavailable or failed). */
static double
bench_aria2 (const char *tmp, const char *file, const char *want_sha, guint64 bytes)
{
  g_autofree char *dir = g_build_filename (tmp, "bt", NULL);
  g_autofree char *seed = g_build_filename (dir, "seed", NULL);
  g_autofree char *leech = g_build_filename (dir, "leech", NULL);
  g_autofree char *seed_file = g_build_filename (seed, "blob.bin", NULL);
  g_autofree char *leech_file = g_build_filename (leech, "blob.bin", NULL);
  g_autofree char *torrent = g_build_filename (dir, "blob.torrent", NULL);
  g_autofree char *whitelist = g_build_filename (dir, "whitelist.txt", NULL);
  g_autofree char *show = NULL, *announce = NULL, *tracker_port = NULL, *seed_port = NULL;
  g_autofree char *leech_port = NULL, *got_sha = NULL, *hash = NULL;
  const char *line;
  GPid tracker = 0, seeder = 0, leecher;
  double start, secs, mbps = 0;
  guint16 tport = free_port ();
  gboolean ok;

  if (!have_tool ("aria2c") || !have_tool ("opentracker") || !have_tool ("mktorrent"))
    return 0;
  g_mkdir_with_parents (seed, 0755);
  g_mkdir_with_parents (leech, 0755);
  /* Everyone may read the tracker's directory: it drops to nobody. */
  g_chmod (tmp, 0755);
  g_chmod (dir, 0755);
  if (link (file, seed_file) != 0)
    g_assert_true (run_sync ((const char *[]) { "cp", file, seed_file, NULL }, NULL, NULL));
  announce = g_strdup_printf ("http://127.0.0.1:%u/announce", tport);
  if (!run_sync ((const char *[]) { "mktorrent", "-a", announce, "-l", "20", "-o", torrent,
                                    seed_file, NULL }, dir, NULL)
      || !run_sync ((const char *[]) { "aria2c", "-S", torrent, NULL }, dir, &show))
    return 0;
  line = strstr (show, "Info Hash: ");
  if (line == NULL)
    {
      printf ("baseline unavailable: aria2c -S printed no info hash\n");
      return 0;
    }
  hash = g_strndup (line + strlen ("Info Hash: "), 40);
  g_assert_true (g_file_set_contents (whitelist, hash, -1, NULL));
  g_chmod (whitelist, 0644);
  tracker_port = g_strdup_printf ("%u", tport);
  tracker = spawn_bg (getuid () == 0
                        ? (const char *[]) { "opentracker", "-i", "127.0.0.1", "-p", tracker_port,
                                             "-P", tracker_port, "-d", dir, "-u", "nobody", "-w",
                                             "whitelist.txt", NULL }
                        : (const char *[]) { "opentracker", "-i", "127.0.0.1", "-p", tracker_port,
                                             "-P", tracker_port, "-d", dir, "-w",
                                             "whitelist.txt", NULL },
                      dir);
  if (tracker == 0 || !wait_tcp_port (tport, 5 * G_USEC_PER_SEC))
    {
      printf ("baseline unavailable: opentracker did not start\n");
      stop_pid (tracker);
      return 0;
    }
  seed_port = g_strdup_printf ("%u", free_port ());
  leech_port = g_strdup_printf ("%u", free_port ());
  seeder = spawn_bg ((const char *[]) { "aria2c", "--enable-dht=false", "--bt-enable-lpd=false",
                                        "--enable-peer-exchange=false", "-d", seed,
                                        "--seed-ratio=0.0", "--listen-port", seed_port,
                                        "--check-integrity=true", torrent, NULL },
                     dir);
  /* The seeder announces once it has checked its copy: wait until the
   * tracker counts it, so the leecher's first announce finds it. */
  if (!wait_seeder (tport, hash, TOOL_TIMEOUT_US))
    printf ("  (the tracker never listed the seeder; timing anyway)\n");
  start = now_s ();
  leecher = spawn_bg ((const char *[]) { "aria2c", "--enable-dht=false", "--bt-enable-lpd=false",
                                         "--enable-peer-exchange=false", "-d", leech,
                                         "--seed-time=0", "--listen-port", leech_port,
                                         torrent, NULL },
                      dir);
  ok = leecher != 0 && wait_pid (leecher, TOOL_TIMEOUT_US);
  secs = now_s () - start;
  stop_pid (seeder);
  stop_pid (tracker);
  got_sha = ok ? sha256_file (leech_file) : NULL;
  if (!ok || g_strcmp0 (got_sha, want_sha) != 0)
    printf ("baseline unavailable: aria2 transfer failed (%s)\n",
            ok ? "bytes differ" : "leecher did not finish");
  else
    {
      mbps = (double) bytes / 1e6 / secs;
      printf ("BitTorrent (aria2 + opentracker):    %8.0f MB/s   (%.2f s, SHA-256 checked)\n",
              mbps, secs);
    }
  g_unlink (leech_file);
  g_unlink (seed_file);
  return mbps;
}

/* ---- merod ---------------------------------------------------------------- */

static guint64
rss_kib (GPid pid, const char *field)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *text = NULL;
  const char *line;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return 0;
  line = strstr (text, field);
  return line != NULL ? g_ascii_strtoull (line + strlen (field), NULL, 10) : 0;
}

typedef struct {
  GPid pid[2];
  guint64 peak_kib[2];
} RssSampler;

static gboolean
sample_rss (gpointer data)
{
  RssSampler *s = data;

  for (guint i = 0; i < 2; i++)
    s->peak_kib[i] = MAX (s->peak_kib[i], rss_kib (s->pid[i], "VmRSS:"));
  return G_SOURCE_CONTINUE;
}

/* Adds the utime + stime of the /proc stat file @path to @ticks under
 * @name, or under the thread's comm if @name is NULL. */
static void
add_ticks (GHashTable *ticks, const char *path, const char *name)
{
  g_autofree char *text = NULL;
  const char *open, *close;
  g_autofree char *comm = NULL;
  unsigned long utime = 0, stime = 0;
  gpointer old;

  if (!g_file_get_contents (path, &text, NULL, NULL))
    return;
  open = strchr (text, '(');
  close = strrchr (text, ')');
  if (open == NULL || close == NULL || close < open)
    return;
  comm = name != NULL ? g_strdup (name) : g_strndup (open + 1, close - open - 1);
  /* After ") ": state ppid pgrp session tty tpgid flags minflt cminflt
   * majflt cmajflt utime stime (fields 3..15 of proc(5)). */
  if (sscanf (close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime)
      != 2)
    return;
  old = g_hash_table_lookup (ticks, comm);
  g_hash_table_replace (ticks, g_steal_pointer (&comm),
                        GSIZE_TO_POINTER (GPOINTER_TO_SIZE (old) + utime + stime));
}

/* CPU time of one node by thread name (comm), in clock ticks, summed over
 * /proc/PID/task: wall-clock MB/s is noisy on a shared machine, CPU
 * seconds per GiB is not, and the split shows which thread pays. */
static GHashTable *
cpu_by_thread (GPid pid)
{
  g_autofree char *dir_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, NULL);
  GHashTable *ticks = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *whole = g_strdup_printf ("/proc/%d/stat", pid);
  const char *tid;

  /* The process as a whole, threads that have exited included, under a
   * name no thread has. */
  add_ticks (ticks, whole, "(total)");

  while (dir != NULL && (tid = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir_path, tid, "stat", NULL);

      add_ticks (ticks, path, NULL);
    }
  return ticks;
}

/* Prints CPU seconds per GiB moved for one node, in total and by thread
 * (threads that exited during the run are not counted). */
static double
print_cpu (const char *who, GHashTable *before, GHashTable *after, guint64 bytes)
{
  double hz = (double) sysconf (_SC_CLK_TCK), per_gib = (double) (1u << 30) / bytes;
  double total = 0, threads = 0;
  GString *split = g_string_new (NULL);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, after);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gsize then = GPOINTER_TO_SIZE (g_hash_table_lookup (before, key));
      gsize now = GPOINTER_TO_SIZE (value);
      double secs = (now > then ? now - then : 0) / hz * per_gib;

      if (g_strcmp0 (key, "(total)") == 0)
        {
          total = secs;
          continue;
        }
      threads += secs;
      if (secs >= 0.05)
        g_string_append_printf (split, " %s %.2f", (const char *) key, secs);
    }
  /* Threads that started and ended within the transfer. */
  if (total - threads >= 0.05)
    g_string_append_printf (split, " exited %.2f", total - threads);
  printf ("  CPU %s: %.2f s per GiB (by thread:%s)\n", who, total, split->str);
  g_string_free (split, TRUE);
  return total;
}

typedef struct {
  gboolean done;
  GVariant *reply;
  GError *error;
} Call;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer data)
{
  Call *c = data;

  c->reply = g_dbus_connection_call_with_unix_fd_list_finish (G_DBUS_CONNECTION (source), NULL,
                                                              result, &c->error);
  c->done = TRUE;
}

static gboolean
is_missing_method (const GError *error)
{
  g_autofree char *name = g_dbus_error_get_remote_error (error);

  return g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_UNKNOWN_METHOD)
         || g_strcmp0 (name, "org.freedesktop.DBus.Error.UnknownMethod") == 0;
}

static GVariant *
call_fd (MeroTestCluster *cluster, MeroTestNode *node, const char *method, GVariant *args,
         int fd, const char *reply_type, GError **error)
{
  g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();

  g_assert_cmpint (g_unix_fd_list_append (list, fd, NULL), ==, 0);
  return g_dbus_connection_call_with_unix_fd_list_sync (
      mero_test_cluster_get_connection (cluster), node->bus_name, NODE_PATH, NODE_IFACE, method,
      args, G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, list, NULL,
      NULL, error);
}

static void
fetch_async (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
             const char *blob_id, GAsyncReadyCallback callback, gpointer data)
{
  g_dbus_connection_call_with_unix_fd_list (
      mero_test_cluster_get_connection (cluster), node->bus_name, NODE_PATH, NODE_IFACE,
      "FetchBlob", g_variant_new ("(ss@a{sv})", context_id, blob_id, g_variant_new ("a{sv}", NULL)),
      G_VARIANT_TYPE ("(t)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, NULL, NULL, callback, data);
}

static char *
add_fd (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id, int fd)
{
  g_autoptr (GError) error = NULL;
  GVariantDict opts;
  g_autoptr (GVariant) reply = NULL;
  char *id = NULL;

  g_variant_dict_init (&opts, NULL);
  g_variant_dict_insert (&opts, "context", "s", context_id);
  reply = call_fd (cluster, node, "AddBlob",
                   g_variant_new ("(h@a{sv})", 0, g_variant_dict_end (&opts)), fd, "(st)",
                   &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(st)", &id, NULL);
  return id;
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
  char *context_id;
} Pair;

static void
pair_up (Pair *p, const char *security)
{
  p->cluster = mero_test_cluster_new ();
  mero_test_cluster_set_verbose (p->cluster, FALSE);
  p->a = mero_test_cluster_add_node (p->cluster, "a", 0);
  p->b = mero_test_cluster_add_node (p->cluster, "b", 0);
  mero_test_node_config_set (p->a, "network.security", security);
  mero_test_node_config_set (p->b, "network.security", security);
  mero_test_node_start (p->cluster, p->a);
  mero_test_node_start (p->cluster, p->b);
  p->context_id = mero_test_cluster_share_context (p->cluster, p->a,
                                                   (MeroTestNode *[]) { p->b, NULL });
}

static void
pair_down (Pair *p)
{
  mero_test_cluster_free (p->cluster);
  g_free (p->context_id);
}

/* With MERO_BENCH_PERF=PREFIX, `perf record -g` of both nodes during the
 * transfer into PREFIX-SECURITY.data (0: not asked for or not started). */
static GPid
perf_start (const Pair *p, const char *security)
{
  const char *prefix = g_getenv ("MERO_BENCH_PERF");
  g_autofree char *out = NULL, *pids = NULL;
  GPid pid = 0;

  if (prefix == NULL || *prefix == '\0')
    return 0;
  out = g_strdup_printf ("%s-%s.data", prefix, security);
  pids = g_strdup_printf ("%d,%d", p->a->pid, p->b->pid);
  if (!g_spawn_async (NULL, (char *[]) { "perf", "record", "-q", "-g", "-F", "1999", "-o", out,
                                         "-p", pids, NULL },
                      NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                      NULL))
    return 0;
  g_usleep (300 * 1000); /* perf attaches before the transfer starts */
  return pid;
}

static void
perf_stop (GPid pid)
{
  if (pid == 0)
    return;
  kill (pid, SIGINT);
  waitpid (pid, NULL, 0);
  g_spawn_close_pid (pid);
}

/* 1 GiB (MIB) A -> B: MB/s, 0 if FetchBlob is missing or failed. */
static double
bench_merod_transfer (Pair *p, const char *security, const char *tmp, const char *file,
                      const char *want_sha, guint64 bytes)
{
  g_autofree char *copy = g_build_filename (tmp, "fetched", NULL);
  g_autofree char *id = NULL, *got_sha = NULL;
  RssSampler s = { .pid = { p->a->pid, p->b->pid } };
  guint64 idle[2];
  Call c = { 0 };
  double start, secs, mbps, above[2];
  GHashTable *cpu_before[2] = { NULL, NULL }, *cpu_after[2] = { NULL, NULL };
  GPid perf;
  guint source;
  int fd;

  fd = open (file, O_RDONLY | O_CLOEXEC);
  start = now_s ();
  id = add_fd (p->cluster, p->a, p->context_id, fd);
  close (fd);
  printf ("  %s: AddBlob on A: %.0f MB/s\n", security, (double) bytes / 1e6 / (now_s () - start));

  for (guint i = 0; i < 2; i++)
    idle[i] = s.peak_kib[i] = rss_kib (s.pid[i], "VmRSS:");
  perf = perf_start (p, security);
  source = g_timeout_add (RSS_SAMPLE_MS, sample_rss, &s);
  for (guint i = 0; i < 2; i++)
    cpu_before[i] = cpu_by_thread (s.pid[i]);
  start = now_s ();
  fetch_async (p->cluster, p->b, p->context_id, id, on_call_done, &c);
  while (!c.done)
    g_main_context_iteration (NULL, TRUE);
  secs = now_s () - start;
  for (guint i = 0; i < 2; i++)
    cpu_after[i] = cpu_by_thread (s.pid[i]);
  perf_stop (perf);
  g_source_remove (source);
  sample_rss (&s);
  if (c.error != NULL)
    {
      if (is_missing_method (c.error))
        printf ("merod transfer (%s): unavailable (FetchBlob missing)\n", security);
      else
        printf ("merod transfer (%s): failed: %s\n", security, c.error->message);
      g_error_free (c.error);
      for (guint i = 0; i < 2; i++)
        {
          g_hash_table_unref (cpu_before[i]);
          g_hash_table_unref (cpu_after[i]);
        }
      return 0;
    }
  g_variant_unref (c.reply);

  /* B's copy, read back and hashed (FetchBlob already verified every chunk). */
  fd = open (copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) reply = call_fd (p->cluster, p->b, "GetBlob",
                                          g_variant_new ("(shtt)", id, 0, 0, 0), fd, "(t)",
                                          &error);
    g_assert_no_error (error);
  }
  close (fd);
  got_sha = sha256_file (copy);
  g_unlink (copy);
  mbps = (double) bytes / 1e6 / secs;
  for (guint i = 0; i < 2; i++)
    above[i] = (double) (s.peak_kib[i] - MIN (idle[i], s.peak_kib[i])) / 1024;
  printf ("merod transfer (%s):%*s%8.0f MB/s   (%.2f s; bytes on B %s)\n", security,
          (int) (16 - strlen (security)), "", mbps, secs,
          g_strcmp0 (got_sha, want_sha) == 0 ? "match" : "DIFFER");
  printf ("  peak RSS above idle: A %.1f MiB, B %.1f MiB (idle %.1f / %.1f MiB; VmHWM %.1f / "
          "%.1f MiB); target <= %.0f MiB met: %s\n",
          above[0], above[1], idle[0] / 1024.0, idle[1] / 1024.0,
          rss_kib (s.pid[0], "VmHWM:") / 1024.0, rss_kib (s.pid[1], "VmHWM:") / 1024.0,
          TARGET_RSS_MIB, yes_no (MAX (above[0], above[1]) <= TARGET_RSS_MIB));
  printf ("  CPU A+B: %.2f s per GiB\n",
          print_cpu ("A (provider)", cpu_before[0], cpu_after[0], bytes)
              + print_cpu ("B (fetcher)", cpu_before[1], cpu_after[1], bytes));
  for (guint i = 0; i < 2; i++)
    {
      g_hash_table_unref (cpu_before[i]);
      g_hash_table_unref (cpu_after[i]);
    }
  return g_strcmp0 (got_sha, want_sha) == 0 ? mbps : 0;
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  const char *context_id;
  GPtrArray *ids;
  guint next, pending, failed, missing;
  guint n;
  char *first_error;
} Many;

static int
small_memfd (guint seed)
{
  guint8 data[SMALL_SIZE];
  int fd = memfd_create ("blob", MFD_CLOEXEC);

  for (guint i = 0; i < SMALL_SIZE; i += 4)
    {
      guint32 v = (seed + 1) * 2654435761u ^ (i * 40503u);

      memcpy (data + i, &v, 4);
    }
  g_assert_cmpint (write (fd, data, SMALL_SIZE), ==, SMALL_SIZE);
  lseek (fd, 0, SEEK_SET);
  return fd;
}

static void add_next (Many *m);

static void
on_small_added (GObject *source, GAsyncResult *result, gpointer data)
{
  Many *m = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), NULL, result, &error);
  char *id = NULL;

  m->pending--;
  if (reply == NULL)
    {
      m->failed++;
      if (m->first_error == NULL)
        m->first_error = g_strdup (error->message);
    }
  else
    {
      g_variant_get (reply, "(st)", &id, NULL);
      g_ptr_array_add (m->ids, id);
    }
  add_next (m);
}

static void
add_next (Many *m)
{
  while (m->next < m->n && m->pending < WINDOW)
    {
      g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();
      GVariantDict opts;
      int fd = small_memfd (m->next);

      g_unix_fd_list_append (list, fd, NULL);
      close (fd);
      g_variant_dict_init (&opts, NULL);
      g_variant_dict_insert (&opts, "context", "s", m->context_id);
      m->next++;
      m->pending++;
      g_dbus_connection_call_with_unix_fd_list (
          mero_test_cluster_get_connection (m->cluster), m->node->bus_name, NODE_PATH,
          NODE_IFACE, "AddBlob", g_variant_new ("(h@a{sv})", 0, g_variant_dict_end (&opts)),
          G_VARIANT_TYPE ("(st)"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, list, NULL,
          on_small_added, m);
    }
}

static void fetch_next (Many *m);

static void
on_small_fetched (GObject *source, GAsyncResult *result, gpointer data)
{
  Many *m = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), NULL, result, &error);

  m->pending--;
  if (reply == NULL)
    {
      if (is_missing_method (error))
        m->missing++;
      else
        m->failed++;
      if (m->first_error == NULL)
        m->first_error = g_strdup (error->message);
    }
  fetch_next (m);
}

static void
fetch_next (Many *m)
{
  /* One missing-method answer settles it: stop issuing calls. */
  while (m->missing == 0 && m->next < m->n && m->pending < WINDOW)
    {
      m->pending++;
      fetch_async (m->cluster, m->node, m->context_id, g_ptr_array_index (m->ids, m->next++),
                   on_small_fetched, m);
    }
}

/* ---- AddBlobs: BATCH descriptors per call ---- */

#define BATCH 16

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  guint next, n, pending, added, failed;
  char *first_error;
} Batches;

static void batch_next (Batches *b);

static void
on_batch_added (GObject *source, GAsyncResult *result, gpointer data)
{
  Batches *b = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_with_unix_fd_list_finish (
      G_DBUS_CONNECTION (source), NULL, result, &error);

  b->pending--;
  if (reply == NULL)
    {
      b->failed += BATCH;
      if (b->first_error == NULL)
        b->first_error = g_strdup (error->message);
    }
  else
    {
      g_autoptr (GVariant) results = g_variant_get_child_value (reply, 0);

      for (gsize i = 0; i < g_variant_n_children (results); i++)
        {
          const char *id, *message;
          guint64 size;

          g_variant_get_child (results, i, "(&st&s)", &id, &size, &message);
          if (*message == '\0')
            b->added++;
          else
            b->failed++;
        }
    }
  batch_next (b);
}

static void
batch_next (Batches *b)
{
  /* WINDOW blobs in flight, as with AddBlob. */
  while (b->next < b->n && b->pending * BATCH < WINDOW)
    {
      g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();
      GVariantBuilder handles;
      guint count = MIN (BATCH, b->n - b->next);

      g_variant_builder_init (&handles, G_VARIANT_TYPE ("ah"));
      for (guint i = 0; i < count; i++)
        {
          /* Seeds past the AddBlob phase's: new blobs, not references. */
          int fd = small_memfd (1000000 + b->next++);

          g_variant_builder_add (&handles, "h", g_unix_fd_list_append (list, fd, NULL));
          close (fd);
        }
      b->pending++;
      g_dbus_connection_call_with_unix_fd_list (
          mero_test_cluster_get_connection (b->cluster), b->node->bus_name, NODE_PATH,
          NODE_IFACE, "AddBlobs",
          g_variant_new ("(@ah@a{sv})", g_variant_builder_end (&handles),
                         g_variant_new ("a{sv}", NULL)),
          G_VARIANT_TYPE ("(a(sts))"), G_DBUS_CALL_FLAGS_NONE, CALL_TIMEOUT_MS, list, NULL,
          on_batch_added, b);
    }
}

static void
bench_merod_batched_adds (Pair *p, guint n)
{
  Batches b = { .cluster = p->cluster, .node = p->a, .n = n };
  gint64 deadline = g_get_monotonic_time () + (gint64) CALL_TIMEOUT_MS * 1000;
  double start = now_s (), secs;

  batch_next (&b);
  while ((b.pending > 0 || b.next < b.n) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  secs = now_s () - start;
  if (b.failed > 0 || b.pending > 0)
    printf ("merod batched adds: %u of %u failed or timed out (first: %s)\n",
            b.failed + b.pending * BATCH, n, b.first_error);
  printf ("merod small adds on A (D-Bus AddBlobs, %u per call, %u in flight): %u x %d B: "
          "%8.0f blobs/s; target >= %.0f/s met: %s\n",
          BATCH, WINDOW, n, SMALL_SIZE, b.added / secs, TARGET_ADDS,
          yes_no (b.added == n && b.added / secs >= TARGET_ADDS));
  g_free (b.first_error);
}

static void
bench_merod_small (Pair *p, guint n)
{
  Many m = { .cluster = p->cluster, .node = p->a, .context_id = p->context_id, .n = n };
  double start, secs;
  gint64 deadline;

  m.ids = g_ptr_array_new_with_free_func (g_free);
  start = now_s ();
  deadline = g_get_monotonic_time () + (gint64) CALL_TIMEOUT_MS * 1000;
  add_next (&m);
  while ((m.pending > 0 || m.next < m.n) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  secs = now_s () - start;
  if (m.failed > 0 || m.pending > 0)
    printf ("merod small adds: %u of %u failed or timed out (first: %s)\n", m.failed + m.pending,
            n, m.first_error);
  printf ("merod small adds on A (D-Bus AddBlob, %u in flight): %u x %d B: %8.0f blobs/s; "
          "target >= %.0f/s met: %s\n",
          WINDOW, n, SMALL_SIZE, m.ids->len / secs, TARGET_ADDS,
          yes_no (m.ids->len == n && m.ids->len / secs >= TARGET_ADDS));

  m.node = p->b;
  m.n = m.ids->len;
  m.next = m.pending = m.failed = 0;
  g_clear_pointer (&m.first_error, g_free);
  start = now_s ();
  deadline = g_get_monotonic_time () + (gint64) CALL_TIMEOUT_MS * 1000;
  fetch_next (&m);
  while ((m.pending > 0 || (m.missing == 0 && m.next < m.n)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  secs = now_s () - start;
  if (m.missing > 0)
    printf ("merod small fetches: unavailable (FetchBlob missing)\n");
  else
    {
      if (m.failed > 0 || m.pending > 0)
        printf ("merod small fetches: %u of %u failed or timed out (first: %s)\n",
                m.failed + m.pending, m.n, m.first_error);
      printf ("merod small fetches by B (FetchBlob, %u in flight): %8.0f blobs/s; "
              "target >= %.0f/s met: %s\n",
              WINDOW, (m.n - m.failed) / secs, TARGET_FETCHES,
              yes_no (m.failed == 0 && m.pending == 0 && (m.n - m.failed) / secs >= TARGET_FETCHES));
    }
  g_free (m.first_error);
  g_ptr_array_unref (m.ids);
}

int
main (int argc, char **argv)
{
  guint mib = env_or_arg (argc, argv, 1, "MERO_BENCH_BLOB_MIB", 1024);
  guint small = env_or_arg (argc, argv, 2, "MERO_BENCH_BLOB_SMALL", 10000);
  g_autofree char *tmp = mero_test_make_tmpdir ("bench-blob-net");
  g_autofree char *file = g_build_filename (tmp, "blob.bin", NULL);
  g_autofree char *sha = NULL;
  guint64 bytes = (guint64) mib * 1024 * 1024;
  double tcp, bt, merod[2] = { 0 };
  const char *securities[] = { "noise", "tls" };

  signal (SIGPIPE, SIG_IGN);
  setvbuf (stdout, NULL, _IOLBF, 0);
  printf ("blob transfer benchmark: %u MiB, %u small blobs (same run, 127.0.0.1)\n", mib, small);
  write_file (file, mib);
  sha = sha256_file (file);

  tcp = bench_iperf ();
  bt = bench_aria2 (tmp, file, sha, bytes);

  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    {
      Pair p = { 0 };

      pair_up (&p, securities[i]);
      merod[i] = bench_merod_transfer (&p, securities[i], tmp, file, sha, bytes);
      if (i == 0)
        {
          bench_merod_small (&p, small);
          bench_merod_batched_adds (&p, small);
        }
      pair_down (&p);
    }

  printf ("summary:\n");
  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    {
      if (merod[i] <= 0)
        {
          printf ("  merod %-5s: unavailable\n", securities[i]);
          continue;
        }
      printf ("  merod %-5s: %.0f MB/s; target >= %.0f MB/s met: %s", securities[i], merod[i],
              TARGET_MBPS, yes_no (merod[i] >= TARGET_MBPS));
      if (bt > 0)
        printf ("; %.2fx aria2, target >= 2x met: %s", merod[i] / bt, yes_no (merod[i] >= 2 * bt));
      if (tcp > 0)
        printf ("; %.2f of raw TCP", merod[i] / tcp);
      printf ("\n");
    }
  if (bt > 0 && tcp > 0)
    printf ("  aria2: %.0f MB/s, %.2f of raw TCP\n", bt, bt / tcp);
  mero_test_remove_tree (tmp);
  return 0;
}
