/* test-interop-mdns.c: merod and a js-libp2p peer with @libp2p/mdns 11
 * (tests/interop/js-mdns-peer.mjs) find each other by mDNS.
 *
 * In a network namespace of the test's own (mero-test-netns), with no
 * bootstrap peers: js must report merod's PeerId and address from
 * merod's mDNS response (merod → js on the wire), and merod must parse
 * js's response ("mDNS: peer <js> at", js → merod) and, since js does
 * not dial what it finds, dial js itself (connected on both sides).
 * Skipped without a namespace, node or tests/interop/node_modules. */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "mero-test-daemon.h"
#include "mero-test-js-peer.h"
#include "mero-test-netns.h"

#define TIMEOUT_MS 20000

static char *skip_reason;
static char *interop_dir;

typedef struct
{
  const char *path;
  const char *needle;
} FileWait;

static gboolean
file_contains (gpointer data)
{
  FileWait *w = data;
  g_autofree char *text = NULL;

  return g_file_get_contents (w->path, &text, NULL, NULL) && strstr (text, w->needle) != NULL;
}

/* The value of "key":"…" in the first line of @path containing @event. */
static char *
json_field (const char *path, const char *event, const char *key)
{
  g_autofree char *text = NULL;
  g_autofree char *pattern = g_strdup_printf ("\"%s\":\"", key);
  const char *line;
  const char *at;
  const char *end;

  if (!g_file_get_contents (path, &text, NULL, NULL) || (line = strstr (text, event)) == NULL)
    return NULL;
  at = strstr (line, pattern);
  if (at == NULL)
    return NULL;
  at += strlen (pattern);
  end = strchr (at, '"');
  return end != NULL ? g_strndup (at, (gsize) (end - at)) : NULL;
}

static void
test_js_and_merod_find_each_other (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *home = NULL;
  g_autofree char *merod_id = NULL;
  g_autofree char *js_out = NULL;
  g_autofree char *js_id = NULL;
  g_autofree char *script = NULL;
  g_autofree char *needle = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroTestDaemon) merod = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) js = NULL;
  const char *env[] = { "G_MESSAGES_DEBUG=merod merod-net", NULL };
  FileWait w;

  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return;
    }
  tmp = mero_test_make_tmpdir ("merod-mdns-js");
  home = g_build_filename (tmp, "merod", NULL);
  merod_id = mero_test_home_init (home, (const char *[]) {
      "network.mdns", "true", "network.mdns_interval_secs", "1", NULL });
  merod = mero_test_daemon_spawn_merged ((const char *[]) { "run", "--home", home, "--bus=none",
                                                            NULL },
                                         env, &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (merod, "ready: ", MERO_TEST_TIMEOUT_MS));

  js_out = g_build_filename (tmp, "js.out", NULL);
  script = g_build_filename (interop_dir, "js-mdns-peer.mjs", NULL);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_subprocess_launcher_set_stdout_file_path (launcher, js_out);
  js = g_subprocess_launcher_spawnv (launcher,
                                     (const char *const[]) { "node", script, "--stay", "30", NULL },
                                     &error);
  g_assert_no_error (error);
  w.path = js_out;
  w.needle = "\"event\":\"listening\"";
  g_assert_true (mero_test_wait_until (file_contains, &w, TIMEOUT_MS));
  js_id = json_field (js_out, "\"event\":\"listening\"", "peerId");
  g_assert_nonnull (js_id);

  /* merod → js: js read merod's response. */
  needle = g_strdup_printf ("\"event\":\"discovered\",\"peer\":\"%s\"", merod_id);
  w.needle = needle;
  g_assert_true (mero_test_wait_until (file_contains, &w, TIMEOUT_MS));
  g_clear_pointer (&needle, g_free);

  /* js → merod: merod read js's response and dialed it. */
  needle = g_strdup_printf ("mDNS: peer %s at /ip4/127.0.0.1/tcp/", js_id);
  g_assert_true (mero_test_daemon_wait_for_stderr (merod, needle, TIMEOUT_MS));
  g_clear_pointer (&needle, g_free);
  needle = g_strdup_printf ("peer %s joined at", js_id);
  g_assert_true (mero_test_daemon_wait_for_stderr (merod, needle, TIMEOUT_MS));
  g_clear_pointer (&needle, g_free);
  needle = g_strdup_printf ("\"event\":\"connected\",\"peer\":\"%s\"", merod_id);
  w.needle = needle;
  g_assert_true (mero_test_wait_until (file_contains, &w, TIMEOUT_MS));

  g_subprocess_send_signal (js, SIGTERM);
  g_subprocess_wait (js, NULL, NULL);
  mero_test_daemon_stop (merod);
  mero_test_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  interop_dir = mero_test_js_interop_dir ("@libp2p/mdns", &skip_reason);
  if (interop_dir != NULL)
    skip_reason = mero_test_netns_enter (argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/interop/mdns/js-and-merod-find-each-other", test_js_and_merod_find_each_other);
  return g_test_run ();
}
