/* mero-test-daemon.c: bounded helpers around GSubprocess for the tests. */
#include "mero-test-daemon.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>

struct _MeroTestDaemon {
  GSubprocess *process;
  GDataInputStream *stderr_lines;
  GString *stderr_text;
  GCancellable *cancellable;
  gboolean stderr_done;
  gboolean exited;
};

static const char *
required_env (const char *name)
{
  const char *value = g_getenv (name);

  if (value == NULL)
    g_error ("%s is not set; run the tests through meson test", name);
  return value;
}

const char *
mero_test_merod_path (void)
{
  return required_env ("MERO_TEST_MEROD");
}

const char *
mero_test_meroctl_path (void)
{
  return required_env ("MERO_TEST_MEROCTL");
}

static GSubprocessLauncher *
make_launcher (GSubprocessFlags flags, const char *const *envp)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  for (gsize i = 0; envp != NULL && envp[i] != NULL; i++)
    {
      const char *eq = strchr (envp[i], '=');
      g_autofree char *name = NULL;

      g_assert_nonnull (eq);
      name = g_strndup (envp[i], eq - envp[i]);
      g_subprocess_launcher_setenv (launcher, name, eq + 1, TRUE);
    }
  return launcher;
}

static gboolean
on_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* Iterates the default context until *done or @timeout_ms. */
static gboolean
iterate_until (const gboolean *done, guint timeout_ms)
{
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, NULL);
  while (!*done && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return *done;
}

typedef struct {
  gboolean done;
  char *out;
  char *err;
  GError *error;
} CommunicateResult;

static void
on_communicated (GObject *source, GAsyncResult *result, gpointer user_data)
{
  CommunicateResult *r = user_data;

  g_subprocess_communicate_utf8_finish (G_SUBPROCESS (source), result, &r->out, &r->err,
                                        &r->error);
  r->done = TRUE;
}

static int
exit_status_of (GSubprocess *process)
{
  if (g_subprocess_get_if_exited (process))
    return g_subprocess_get_exit_status (process);
  if (g_subprocess_get_if_signaled (process))
    return 128 + g_subprocess_get_term_sig (process);
  return -1;
}

static void
on_waited (GObject *source, GAsyncResult *result, gpointer user_data)
{
  gboolean *done = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (source), result, NULL);
  *done = TRUE;
}

gboolean
mero_test_run_sync (const char *const *argv, const char *const *envp, guint timeout_ms,
                    char **out, char **err, int *exit_status)
{
  g_autoptr (GSubprocessLauncher) launcher =
      make_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, envp);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  CommunicateResult r = { 0 };

  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (process, NULL, NULL, on_communicated, &r);
  if (!iterate_until (&r.done, timeout_ms))
    {
      g_subprocess_force_exit (process);
      /* Let the pending communicate finish before r goes out of scope. */
      while (!r.done)
        g_main_context_iteration (NULL, TRUE);
      g_free (r.out);
      g_free (r.err);
      g_clear_error (&r.error);
      g_test_message ("%s timed out after %u ms", argv[0], timeout_ms);
      return FALSE;
    }
  g_assert_no_error (r.error);
  /* communicate returns once the pipes close; the exit status needs the
   * child reaped too, which is just as bounded. */
  {
    gboolean waited = FALSE;

    g_subprocess_wait_async (process, NULL, on_waited, &waited);
    if (!iterate_until (&waited, timeout_ms))
      {
        g_subprocess_force_exit (process);
        while (!waited)
          g_main_context_iteration (NULL, TRUE);
        g_free (r.out);
        g_free (r.err);
        return FALSE;
      }
  }
  if (exit_status != NULL)
    *exit_status = exit_status_of (process);
  if (out != NULL)
    *out = g_steal_pointer (&r.out);
  if (err != NULL)
    *err = g_steal_pointer (&r.err);
  g_free (r.out);
  g_free (r.err);
  return TRUE;
}

static void read_next_line (MeroTestDaemon *daemon);

static void
on_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  gsize len;
  g_autofree char *line =
      g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (source), result, &len,
                                                 &error);
  MeroTestDaemon *daemon;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  daemon = user_data;
  if (line == NULL)
    {
      daemon->stderr_done = TRUE;
      return;
    }
  /* Keep the test log useful: echo what the daemon said. */
  g_test_message ("merod: %s", line);
  g_string_append (daemon->stderr_text, line);
  g_string_append_c (daemon->stderr_text, '\n');
  read_next_line (daemon);
}

static void
read_next_line (MeroTestDaemon *daemon)
{
  g_data_input_stream_read_line_async (daemon->stderr_lines, G_PRIORITY_DEFAULT,
                                       daemon->cancellable, on_line, daemon);
}

static MeroTestDaemon *
spawn_daemon (const char *const *args, const char *const *envp, gboolean merge_stdout,
              GError **error)
{
  g_autoptr (GSubprocessLauncher) launcher = make_launcher (
      merge_stdout ? G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE
                   : G_SUBPROCESS_FLAGS_STDERR_PIPE,
      envp);
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  GSubprocess *process;
  MeroTestDaemon *daemon;

  g_ptr_array_add (argv, (gpointer) mero_test_merod_path ());
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);

  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (process == NULL)
    return NULL;
  daemon = g_new0 (MeroTestDaemon, 1);
  daemon->process = process;
  daemon->stderr_text = g_string_new (NULL);
  daemon->cancellable = g_cancellable_new ();
  daemon->stderr_lines = g_data_input_stream_new (
      merge_stdout ? g_subprocess_get_stdout_pipe (process) : g_subprocess_get_stderr_pipe (process));
  read_next_line (daemon);
  return daemon;
}

MeroTestDaemon *
mero_test_daemon_spawn (const char *const *args, const char *const *envp, GError **error)
{
  return spawn_daemon (args, envp, FALSE, error);
}

MeroTestDaemon *
mero_test_daemon_spawn_merged (const char *const *args, const char *const *envp,
                               GError **error)
{
  return spawn_daemon (args, envp, TRUE, error);
}

static gboolean
stderr_contains (MeroTestDaemon *daemon, const char *needle)
{
  return strstr (daemon->stderr_text->str, needle) != NULL;
}

gboolean
mero_test_daemon_wait_for_stderr (MeroTestDaemon *daemon, const char *needle, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean timed_out = FALSE;
  GSource *timer = g_timeout_source_new (timeout_ms);

  g_source_set_callback (timer, on_timeout, &timed_out, NULL);
  g_source_attach (timer, NULL);
  while (!stderr_contains (daemon, needle) && !daemon->stderr_done && !timed_out
         && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timer);
  g_source_unref (timer);
  return stderr_contains (daemon, needle);
}

const char *
mero_test_daemon_get_stderr (MeroTestDaemon *daemon)
{
  return daemon->stderr_text->str;
}

GPid
mero_test_daemon_get_pid (MeroTestDaemon *daemon)
{
  const char *id = g_subprocess_get_identifier (daemon->process);

  return id != NULL ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

void
mero_test_daemon_send_signal (MeroTestDaemon *daemon, int signum)
{
  g_subprocess_send_signal (daemon->process, signum);
}

gboolean
mero_test_daemon_wait_exit (MeroTestDaemon *daemon, guint timeout_ms, int *exit_status)
{
  gboolean done = FALSE;

  if (!daemon->exited)
    {
      g_subprocess_wait_async (daemon->process, NULL, on_waited, &done);
      if (!iterate_until (&done, timeout_ms))
        {
          /* on_waited still points at done: finish it before returning. */
          g_subprocess_force_exit (daemon->process);
          while (!done)
            g_main_context_iteration (NULL, TRUE);
          daemon->exited = TRUE;
          return FALSE;
        }
      daemon->exited = TRUE;
      /* Drain what the child wrote last. */
      iterate_until (&daemon->stderr_done, timeout_ms);
    }
  if (exit_status != NULL)
    *exit_status = exit_status_of (daemon->process);
  return TRUE;
}

void
mero_test_daemon_free (MeroTestDaemon *daemon)
{
  if (daemon == NULL)
    return;
  if (!daemon->exited)
    {
      g_subprocess_force_exit (daemon->process);
      g_subprocess_wait (daemon->process, NULL, NULL);
    }
  g_cancellable_cancel (daemon->cancellable);
  /* The cancelled read completes from the main context. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_object_unref (daemon->stderr_lines);
  g_object_unref (daemon->cancellable);
  g_object_unref (daemon->process);
  g_string_free (daemon->stderr_text, TRUE);
  g_free (daemon);
}

typedef struct {
  gboolean appeared;
} NameWatch;

static void
on_name_appeared (GDBusConnection *connection, const char *name, const char *owner,
                  gpointer user_data)
{
  NameWatch *watch = user_data;

  watch->appeared = TRUE;
}

gboolean
mero_test_wait_for_name (GDBusConnection *connection, const char *name, guint timeout_ms)
{
  NameWatch watch = { 0 };
  guint id = g_bus_watch_name_on_connection (connection, name, G_BUS_NAME_WATCHER_FLAGS_NONE,
                                             on_name_appeared, NULL, &watch, NULL);

  iterate_until (&watch.appeared, timeout_ms);
  g_bus_unwatch_name (id);
  return watch.appeared;
}

static gboolean
on_poll_tick (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

gboolean
mero_test_wait_until (MeroTestPredicate predicate, gpointer user_data, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  GSource *tick = g_timeout_source_new (MERO_TEST_POLL_MS);
  gboolean done;

  /* The tick only wakes the loop so a polling predicate is re-checked. */
  g_source_set_callback (tick, on_poll_tick, NULL, NULL);
  g_source_attach (tick, NULL);
  while (!(done = predicate (user_data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (tick);
  g_source_unref (tick);
  return done;
}

int
mero_test_run_merod (const char *const *args, const char *const *envp, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status = -1;

  g_ptr_array_add (argv, (gpointer) mero_test_merod_path ());
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (mero_test_run_sync ((const char *const *) argv->pdata, envp,
                                     MERO_TEST_TIMEOUT_MS, out, err, &status));
  return status;
}

void
mero_test_config_set (const char *home, const char *key, const char *value)
{
  g_autofree char *err = NULL;
  int status = -1;

  if (!mero_test_run_sync ((const char *[]) { mero_test_merod_path (), "config", "set",
                                              "--home", home, key, value, NULL },
                           NULL, MERO_TEST_TIMEOUT_MS, NULL, &err, &status)
      || status != 0)
    g_error ("merod config set %s %s: %s", key, value, err != NULL ? err : "timed out");
}

char *
mero_test_home_init (const char *home, const char *const *settings)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status = -1;

  if (!mero_test_run_sync ((const char *[]) { mero_test_merod_path (), "init", "--home", home,
                                              NULL },
                           NULL, MERO_TEST_TIMEOUT_MS, &out, &err, &status)
      || status != 0)
    g_error ("merod init --home %s: %s", home, err != NULL ? err : "timed out");
  mero_test_config_set (home, "server.listen", "127.0.0.1:0");
  mero_test_config_set (home, "network.listen_multiaddrs", "/ip4/127.0.0.1/tcp/0;");
  mero_test_config_set (home, "network.mdns", "false");
  for (gsize i = 0; settings != NULL && settings[i] != NULL; i += 2)
    {
      g_assert_nonnull (settings[i + 1]);
      mero_test_config_set (home, settings[i], settings[i + 1]);
    }
  return g_strstrip (g_steal_pointer (&out));
}

void
mero_test_daemon_stop (MeroTestDaemon *daemon)
{
  int status = -1;

  mero_test_daemon_send_signal (daemon, SIGTERM);
  g_assert_true (mero_test_daemon_wait_exit (daemon, MERO_TEST_TIMEOUT_MS, &status));
  g_assert_cmpint (status, ==, 0);
}
