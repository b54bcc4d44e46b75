/* test-mdns.c: two real merod processes find each other with mDNS.
 *
 * The test runs in a network namespace it makes itself (mero-test-netns:
 * `unshare -rn`, loopback with multicast), so no multicast leaves it.
 * With network.mdns=true and no bootstrap peers, each node must find the
 * other and they must connect (one listens on 0.0.0.0 and must be
 * announced at 127.0.0.1, the namespace's only address); with network.mdns=false neither may open
 * UDP 5353 (checked in /proc/net/udp) and they stay alone.  Without a
 * namespace every test is skipped with the reason. */
#include <gio/gio.h>
#include <signal.h>
#include <string.h>

#include "mero-test-daemon.h"
#include "mero-test-netns.h"

/* Found within ~1 s (the first query goes out at start); generous for a
 * loaded machine. */
#define DISCOVERY_TIMEOUT_MS 20000
/* How long two nodes with mDNS off are watched (interval 1 s). */
#define QUIET_MS 3000

static char *netns_skip;

/* A home on loopback, kernel-chosen ports, no bootstrap; its PeerId. */
static char *
make_home (const char *tmp, const char *name, gboolean mdns, const char *listen,
           char **home_out)
{
  g_autofree char *home = g_build_filename (tmp, name, NULL);
  char *peer_id = mero_test_home_init (home, (const char *[]) {
      "network.listen_multiaddrs", listen, "network.mdns", mdns ? "true" : "false",
      "network.mdns_interval_secs", "1", NULL });

  *home_out = g_steal_pointer (&home);
  return peer_id;
}

static MeroTestDaemon *
start (const char *home)
{
  g_autoptr (GError) error = NULL;
  const char *args[] = { "run", "--home", home, "--bus=none", NULL };
  const char *env[] = { "G_MESSAGES_DEBUG=merod merod-net", NULL };
  MeroTestDaemon *daemon = mero_test_daemon_spawn_merged (args, env, &error);

  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  return daemon;
}

/* Sockets bound to UDP 5353 (0x14E9) in this namespace. */
static guint
udp_5353_sockets (void)
{
  guint n = 0;
  const char *files[] = { "/proc/net/udp", "/proc/net/udp6" };

  for (guint f = 0; f < G_N_ELEMENTS (files); f++)
    {
      g_autofree char *text = NULL;
      g_auto (GStrv) lines = NULL;

      if (!g_file_get_contents (files[f], &text, NULL, NULL))
        continue;
      lines = g_strsplit (text, "\n", -1);
      for (guint i = 1; lines[i] != NULL; i++)
        {
          g_auto (GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " ", -1);
          guint k = 0;

          /* "sl local_address ..." with runs of spaces: the 2nd non-empty field. */
          for (guint j = 0; fields[j] != NULL; j++)
            if (fields[j][0] != '\0' && ++k == 2)
              {
                if (g_str_has_suffix (fields[j], ":14E9"))
                  n++;
                break;
              }
        }
    }
  return n;
}

static gboolean
never (gpointer data)
{
  return FALSE;
}

static void
test_nodes_find_each_other (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *home_a = NULL;
  g_autofree char *home_b = NULL;
  g_autofree char *id_a = NULL;
  g_autofree char *id_b = NULL;
  g_autofree char *a_sees_b = NULL;
  g_autofree char *b_sees_a = NULL;
  g_autoptr (MeroTestDaemon) a = NULL;
  g_autoptr (MeroTestDaemon) b = NULL;
  gint64 started;

  if (netns_skip != NULL)
    {
      g_test_skip (netns_skip);
      return;
    }
  tmp = mero_test_make_tmpdir ("merod-mdns");
  /* A listens on the wildcard, which in this namespace means loopback
   * only: it must announce 127.0.0.1, never 0.0.0.0. */
  id_a = make_home (tmp, "a", TRUE, "/ip4/0.0.0.0/tcp/0;", &home_a);
  id_b = make_home (tmp, "b", TRUE, "/ip4/127.0.0.1/tcp/0;", &home_b);
  a = start (home_a);
  g_assert_true (mero_test_daemon_wait_for_stderr (a, "mDNS discovery on UDP 5353",
                                                   MERO_TEST_TIMEOUT_MS));
  g_assert_cmpuint (udp_5353_sockets (), >=, 1);
  started = g_get_monotonic_time ();
  b = start (home_b);

  a_sees_b = g_strdup_printf ("peer %s joined at", id_b);
  b_sees_a = g_strdup_printf ("peer %s joined at", id_a);
  g_assert_true (mero_test_daemon_wait_for_stderr (a, a_sees_b, DISCOVERY_TIMEOUT_MS));
  g_assert_true (mero_test_daemon_wait_for_stderr (b, b_sees_a, DISCOVERY_TIMEOUT_MS));
  g_test_message ("connected %.2f s after the second node started",
                  (double) (g_get_monotonic_time () - started) / G_USEC_PER_SEC);
  /* It was mDNS (there is no bootstrap peer): one of them dialed the
   * other because it found it. */
  g_assert_true (strstr (mero_test_daemon_get_stderr (a), "found by mDNS, dialing") != NULL ||
                 strstr (mero_test_daemon_get_stderr (b), "found by mDNS, dialing") != NULL);
  /* B learnt A's wildcard listener as the interface's own address. */
  {
    g_autofree char *a_at_lo = g_strdup_printf ("mDNS: peer %s at /ip4/127.0.0.1/tcp/", id_a);

    g_assert_true (mero_test_daemon_wait_for_stderr (b, a_at_lo, DISCOVERY_TIMEOUT_MS));
    g_assert_null (strstr (mero_test_daemon_get_stderr (b), "/ip4/0.0.0.0"));
  }
  mero_test_daemon_stop (b);
  mero_test_daemon_stop (a);
  mero_test_remove_tree (tmp);
}

static void
test_mdns_off (void)
{
  g_autofree char *tmp = NULL;
  g_autofree char *home_a = NULL;
  g_autofree char *home_b = NULL;
  g_autofree char *id_a = NULL;
  g_autofree char *id_b = NULL;
  g_autoptr (MeroTestDaemon) a = NULL;
  g_autoptr (MeroTestDaemon) b = NULL;

  if (netns_skip != NULL)
    {
      g_test_skip (netns_skip);
      return;
    }
  tmp = mero_test_make_tmpdir ("merod-mdns");
  id_a = make_home (tmp, "a", FALSE, "/ip4/127.0.0.1/tcp/0;", &home_a);
  id_b = make_home (tmp, "b", FALSE, "/ip4/127.0.0.1/tcp/0;", &home_b);
  a = start (home_a);
  b = start (home_b);
  g_assert_cmpuint (udp_5353_sockets (), ==, 0);
  g_assert_false (mero_test_wait_until (never, NULL, QUIET_MS));
  g_assert_null (strstr (mero_test_daemon_get_stderr (a), "joined at"));
  g_assert_null (strstr (mero_test_daemon_get_stderr (b), "joined at"));
  g_assert_null (strstr (mero_test_daemon_get_stderr (a), "mDNS discovery on"));
  g_assert_cmpuint (udp_5353_sockets (), ==, 0);
  mero_test_daemon_stop (b);
  mero_test_daemon_stop (a);
  mero_test_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  netns_skip = mero_test_netns_enter (argv);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mdns/nodes-find-each-other", test_nodes_find_each_other);
  g_test_add_func ("/mdns/off", test_mdns_off);
  return g_test_run ();
}
