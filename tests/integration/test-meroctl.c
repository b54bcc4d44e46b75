/* test-meroctl.c: the same meroctl scenario over D-Bus (--name) and over
 * HTTP (--url) against two real merod processes (mero-test-cluster): empty
 * lists print "(none)", create, call with --args-file FILE and "-" (a
 * value too large for a comfortable command line), info, invite/join,
 * sync, watch (a change made over D-Bus is printed; an unknown --context
 * fails), remove-member, delete; usage errors name the unknown command or
 * the missing argument.  --json info is the same document either way.
 * Every run of meroctl is bounded (MERO_TEST_TIMEOUT_MS). */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "mero-test-cluster.h"

typedef enum { MODE_DBUS, MODE_URL } Mode;

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
  Mode mode;
} Fixture;

static char *
http_url (MeroTestNode *node)
{
  g_autofree char *file = g_build_filename (node->home, "http.address", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", 2);
  return g_strdup (lines[0]);
}

typedef struct {
  gboolean done;
  char *out, *err;
  GError *error;
} Run;

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Run *run = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &run->out, &run->err,
                                        &run->error);
  run->done = TRUE;
}

static gboolean
run_done (gpointer data)
{
  return ((Run *) data)->done;
}

/* (transfer full) argv for meroctl on @node in the fixture's mode. */
static GPtrArray *
ctl_argv (Fixture *f, MeroTestNode *node, const char *const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (argv, g_strdup (mero_test_meroctl_path ()));
  if (f->mode == MODE_URL)
    {
      g_ptr_array_add (argv, g_strdup ("--url"));
      g_ptr_array_add (argv, http_url (node));
    }
  else
    {
      g_ptr_array_add (argv, g_strdup ("--name"));
      g_ptr_array_add (argv, g_strdup (node->bus_name));
    }
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, g_strdup (args[i]));
  g_ptr_array_add (argv, NULL);
  return argv;
}

/* Runs meroctl @args on @node with @input on stdin; returns its status. */
static int
ctl (Fixture *f, MeroTestNode *node, const char *input, char **out, char **err,
     const char *const *args)
{
  g_autoptr (GPtrArray) argv = ctl_argv (f, node, args);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocess) process = g_subprocess_newv (
      (const char *const *) argv->pdata,
      G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE
          | G_SUBPROCESS_FLAGS_STDERR_PIPE,
      &error);
  Run run = { 0 };
  int status;

  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, input != NULL ? input : "", NULL,
                                       on_communicated, &run);
  if (!mero_test_wait_until (run_done, &run, MERO_TEST_TIMEOUT_MS))
    {
      g_subprocess_force_exit (process);
      g_assert_true (mero_test_wait_until (run_done, &run, MERO_TEST_TIMEOUT_MS));
      g_assert_not_reached ();
    }
  g_assert_no_error (run.error);
  status = g_subprocess_get_exit_status (process);
  g_test_message ("meroctl %s -> %d\n%s%s", args[0], status, run.out, run.err);
  if (out != NULL)
    *out = g_steal_pointer (&run.out);
  if (err != NULL)
    *err = g_steal_pointer (&run.err);
  g_free (run.out);
  g_free (run.err);
  return status;
}

#define CTL(f, node, input, out, err, ...) \
  ctl (f, node, input, out, err, (const char *const[]) { __VA_ARGS__, NULL })

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->mode = GPOINTER_TO_INT (data);
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", 0);
  f->b = mero_test_cluster_add_node (f->cluster, "b", 0);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (g_test_failed ())
    mero_test_cluster_dump_logs (f->cluster);
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

/* The line of @text that starts with @label, after it (transfer full). */
static char *
labelled (const char *text, const char *label)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], label))
      return g_strdup (lines[i] + strlen (label));
  g_assert_not_reached ();
}

typedef struct {
  GSubprocess *process;
  GDataInputStream *err;
  gboolean watching;
  gboolean exited;
} Watcher;

static void
on_watch_exited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Watcher *watcher = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  watcher->exited = TRUE;
}

static gboolean
watcher_ready (gpointer data)
{
  Watcher *watcher = data;
  g_autofree char *line = g_data_input_stream_read_line_utf8 (watcher->err, NULL, NULL, NULL);

  return line != NULL && strstr (line, "watching") != NULL;
}

static gboolean
watcher_exited (gpointer data)
{
  return ((Watcher *) data)->exited;
}

static void
test_scenario (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *context_id = NULL, *invitation = NULL;
  g_autofree char *args_path = NULL, *big = NULL, *args = NULL;
  g_autoptr (GString) value = g_string_new (NULL);

  /* Empty lists say so. */
  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "context", "list"), ==, 0);
  g_assert_cmpstr (out, ==, "(none)\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "group", "list"), ==, 0);
  g_assert_cmpstr (out, ==, "(none)\n");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "peers"), ==, 0);
  g_assert_nonnull (strstr (out, "(none)\n"));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "plugins"), ==, 0);
  g_assert_nonnull (strstr (out, "store-rocksdb"));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "context", "create"), ==, 0);
  context_id = labelled (out, "Context: ");
  g_clear_pointer (&out, g_free);

  /* A 200 KiB value (more than Linux allows in one argument, 128 KiB) from
   * a file, read back with the arguments from stdin. */
  for (guint i = 0; i < 200 * 1024 / 16; i++)
    g_string_append (value, "0123456789abcdef");
  args = g_strdup_printf ("{\"key\":\"big\",\"value\":\"%s\"}", value->str);
  big = g_strdup_printf ("\"%s\"", value->str);
  args_path = g_build_filename (g_get_tmp_dir (), "meroctl-args-XXXXXX", NULL);
  {
    int fd = g_mkstemp (args_path);

    g_assert_cmpint (fd, >=, 0);
    close (fd);
  }
  g_assert_true (g_file_set_contents (args_path, args, -1, NULL));
  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "call", context_id, "set", "--args-file",
                        args_path),
                   ==, 0);
  g_clear_pointer (&out, g_free);
  g_unlink (args_path);
  g_assert_cmpint (CTL (f, f->a, "{\"key\":\"big\"}", &out, NULL, "call", context_id, "get",
                        "--args-file", "-"),
                   ==, 0);
  g_strstrip (out);
  g_assert_true (g_str_equal (out, big));
  g_clear_pointer (&out, g_free);
  {
    g_autofree char *seen = mero_test_node_kv (f->cluster, f->a, context_id, "get",
                                               "{\"key\":\"big\"}", NULL);

    g_assert_true (g_str_equal (seen, big));
  }

  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "context", "info", context_id), ==, 0);
  g_assert_nonnull (strstr (out, "Root hash: "));
  g_assert_nonnull (strstr (out, f->a->peer_id));
  g_clear_pointer (&out, g_free);

  g_assert_cmpint (CTL (f, f->a, NULL, &out, NULL, "context", "invite", context_id, "--invitee",
                        f->b->peer_id),
                   ==, 0);
  invitation = g_strstrip (g_steal_pointer (&out));
  g_assert_cmpint (CTL (f, f->b, NULL, &out, NULL, "context", "join", invitation), ==, 0);
  g_assert_nonnull (strstr (out, context_id));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (CTL (f, f->b, NULL, NULL, NULL, "context", "sync", context_id), ==, 0);

  /* watch: an unknown context fails at once; a change made over D-Bus
   * reaches a watcher of the context. */
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "watch", "--context",
                        "4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi", "--count", "1"),
                   ==, 1);
  g_clear_pointer (&err, g_free);
  {
    g_autoptr (GPtrArray) argv = ctl_argv (
        f, f->a, (const char *const[]) { "watch", "--context", context_id, "--count", "1", NULL });
    g_autoptr (GError) error = NULL;
    Watcher watcher = { 0 };
    g_autofree char *line = NULL;

    watcher.process = g_subprocess_newv ((const char *const *) argv->pdata,
                                         G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                             | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                                         &error);
    g_assert_no_error (error);
    watcher.err = g_data_input_stream_new (g_subprocess_get_stderr_pipe (watcher.process));
    /* "watching" is printed once the subscription is in place. */
    g_assert_true (watcher_ready (&watcher));
    g_subprocess_wait_async (watcher.process, NULL, on_watch_exited, &watcher);
    mero_test_node_kv_set (f->cluster, f->a, context_id, "w", "1");
    g_assert_true (mero_test_wait_until (watcher_exited, &watcher, MERO_TEST_TIMEOUT_MS));
    g_assert_cmpint (g_subprocess_get_exit_status (watcher.process), ==, 0);
    {
      g_autoptr (GDataInputStream) lines =
          g_data_input_stream_new (g_subprocess_get_stdout_pipe (watcher.process));

      line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, NULL);
    }
    g_assert_nonnull (line);
    g_assert_nonnull (strstr (line, context_id));
    g_object_unref (watcher.err);
    g_object_unref (watcher.process);
  }

  g_assert_cmpint (CTL (f, f->a, NULL, NULL, NULL, "context", "remove-member", context_id,
                        f->b->peer_id),
                   ==, 0);
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, NULL, "context", "delete", context_id), ==, 0);
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "context", "info", context_id), ==, 1);
  g_clear_pointer (&err, g_free);

  /* Usage errors: nothing is sent, exit 2, the message says what. */
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "frobnicate"), ==, 2);
  g_assert_nonnull (strstr (err, "unknown command “frobnicate”"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "context", "frob"), ==, 2);
  g_assert_nonnull (strstr (err, "unknown command “context frob”"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "context"), ==, 2);
  g_assert_nonnull (strstr (err, "missing argument"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (CTL (f, f->a, NULL, NULL, &err, "call", context_id), ==, 2);
  g_assert_nonnull (strstr (err, "missing argument"));
  g_clear_pointer (&err, g_free);
}

/* --json info is one document, the same over D-Bus and HTTP. */
static void
test_json_same (Fixture *f, gconstpointer data)
{
  g_autofree char *dbus = NULL, *http = NULL;

  f->mode = MODE_DBUS;
  g_assert_cmpint (CTL (f, f->a, NULL, &dbus, NULL, "--json", "info"), ==, 0);
  f->mode = MODE_URL;
  g_assert_cmpint (CTL (f, f->a, NULL, &http, NULL, "--json", "info"), ==, 0);
  g_assert_cmpstr (dbus, ==, http);
  g_assert_nonnull (strstr (dbus, f->a->peer_id));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/meroctl/dbus", Fixture, GINT_TO_POINTER (MODE_DBUS), fixture_set_up,
              test_scenario, fixture_tear_down);
  g_test_add ("/meroctl/url", Fixture, GINT_TO_POINTER (MODE_URL), fixture_set_up,
              test_scenario, fixture_tear_down);
  g_test_add ("/meroctl/json-same", Fixture, GINT_TO_POINTER (MODE_DBUS), fixture_set_up,
              test_json_same, fixture_tear_down);
  return g_test_run ();
}
