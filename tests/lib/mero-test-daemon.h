/* mero-test-daemon.h: running real merod/meroctl processes from GTest.
 *
 * Every wait is bounded: a helper that runs out of time returns FALSE (or
 * kills the child) instead of hanging the suite.  The binaries come from
 * MERO_TEST_MEROD (set by tests/meson.build) and MERO_TEST_MEROCTL. */
#pragma once

#include <gio/gio.h>

#include "mero-test-fs.h"

G_BEGIN_DECLS

#define MERO_TEST_TIMEOUT_MS 10000

typedef struct _MeroTestDaemon MeroTestDaemon;

/* Path of merod / meroctl; aborts the test if the variable is unset. */
const char *mero_test_merod_path (void);
const char *mero_test_meroctl_path (void);

/* Runs @argv (NULL-terminated; argv[0] is the program) to completion
 * within @timeout_ms, capturing stdout and stderr.  @envp: extra
 * "NAME=value" entries (may be NULL).  Returns FALSE on timeout (the
 * child is killed) or spawn failure.  @exit_status: the exit code, or 128
 * + signal number if it was killed by a signal. */
gboolean mero_test_run_sync (const char *const *argv, const char *const *envp,
                             guint timeout_ms, char **out, char **err, int *exit_status);

/* Runs merod with @args (NULL-terminated, without the program name) to
 * completion within MERO_TEST_TIMEOUT_MS (the test fails if it does not
 * finish); @envp, @out, @err as for mero_test_run_sync.  Returns the
 * exit status. */
int mero_test_run_merod (const char *const *args, const char *const *envp, char **out,
                         char **err);

/* `merod config set --home @home @key @value`; aborts the test, with
 * merod's message, if it fails. */
void mero_test_config_set (const char *home, const char *key, const char *value);

/* `merod init --home @home`, then the settings that keep a test node off
 * everything on the machine (server.listen=127.0.0.1:0,
 * network.listen_multiaddrs=/ip4/127.0.0.1/tcp/0;, network.mdns=false),
 * then @settings: NULL-terminated key, value pairs applied in order (they
 * may override those three; NULL for none).  Returns (transfer full) the
 * PeerId init printed; aborts the test if any step fails. */
char *mero_test_home_init (const char *home, const char *const *settings);

/* Spawns merod with @args (NULL-terminated, without the program name);
 * stderr is collected line by line as the main context runs. */
MeroTestDaemon *mero_test_daemon_spawn (const char *const *args, const char *const *envp,
                                        GError **error);
/* The same, with stdout merged into what the _stderr functions see: GLib
 * writes info and debug messages to stdout. */
MeroTestDaemon *mero_test_daemon_spawn_merged (const char *const *args,
                                               const char *const *envp, GError **error);
/* Runs the default main context until stderr contains @needle. */
gboolean mero_test_daemon_wait_for_stderr (MeroTestDaemon *daemon, const char *needle,
                                           guint timeout_ms);
/* Everything read from stderr so far. */
const char *mero_test_daemon_get_stderr (MeroTestDaemon *daemon);
GPid mero_test_daemon_get_pid (MeroTestDaemon *daemon);
void mero_test_daemon_send_signal (MeroTestDaemon *daemon, int signum);
/* Waits for exit (and for stderr's end); FALSE on timeout. */
gboolean mero_test_daemon_wait_exit (MeroTestDaemon *daemon, guint timeout_ms,
                                     int *exit_status);
/* Sends SIGTERM and fails the test unless merod exits with status 0
 * within MERO_TEST_TIMEOUT_MS. */
void mero_test_daemon_stop (MeroTestDaemon *daemon);
/* Kills a still running child; NULL-safe. */
void mero_test_daemon_free (MeroTestDaemon *daemon);

/* Runs the default main context until @name has an owner on @connection. */
gboolean mero_test_wait_for_name (GDBusConnection *connection, const char *name,
                                  guint timeout_ms);

typedef gboolean (*MeroTestPredicate) (gpointer user_data);

/* Runs the default main context until @predicate is TRUE or @timeout_ms
 * passed; @predicate is checked after every iteration and at least every
 * MERO_TEST_POLL_MS, so it may poll (a D-Bus call, a file). */
#define MERO_TEST_POLL_MS 100
gboolean mero_test_wait_until (MeroTestPredicate predicate, gpointer user_data,
                               guint timeout_ms);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTestDaemon, mero_test_daemon_free)

G_END_DECLS
