/* test-network.c: two real merod processes find each other over libp2p.
 *
 * Node A runs without D-Bus (--bus=none) and reports its listen multiaddr
 * in its ready line; node B owns network.calimero.Node1 on a private bus
 * (GTestDBus) and has A in network.bootstrap.  Checked: both list each
 * other with identify protocols (B over D-Bus ListPeers, A over
 * /admin-api/peers), PeerConnected/PeerDisconnected on B, B's back-off
 * redial after A restarts on the same port, `meroctl peers` and `merod
 * peers`, and a bootstrap entry with the wrong /p2p/ id refused while the
 * node keeps running.  network.security: a node that speaks only TLS is
 * reached by a default node (Noise first, then TLS) and refused by a
 * Noise-only one, which keeps running.  Only 127.0.0.1, every port chosen by the kernel
 * (A's restart reuses the port it got), every wait bounded. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#include "mero-test-bus.h"
#include "mero-test-daemon.h"

#define NODE_NAME "network.calimero.Node1"
#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
/* B's first redial comes 1 s ± 20 % after A left, the next 2 s later:
 * A, restarted at once, is back well within this. */
#define REDIAL_TIMEOUT_MS 15000

typedef struct {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *tmp;
  GPtrArray *signals;  /* "connected <peer>" / "disconnected <peer>" */
  guint subscription;
} Fixture;

static void
on_peer_signal (GDBusConnection *connection, const char *sender, const char *path,
                const char *iface, const char *name, GVariant *parameters, gpointer user_data)
{
  Fixture *f = user_data;
  const char *peer_id;
  const char *detail;

  g_variant_get (parameters, "(&s&s)", &peer_id, &detail);
  g_ptr_array_add (f->signals,
                   g_strdup_printf ("%s %s",
                                    g_str_equal (name, "PeerConnected") ? "connected"
                                                                        : "disconnected",
                                    peer_id));
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  mero_test_bus_up (&f->bus, &f->connection);
  f->tmp = mero_test_make_tmpdir ("merod-net");
  f->signals = g_ptr_array_new_with_free_func (g_free);
  f->subscription = g_dbus_connection_signal_subscribe (
      f->connection, NULL, NODE_IFACE, NULL, NODE_PATH, NULL, G_DBUS_SIGNAL_FLAGS_NONE,
      on_peer_signal, f, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_dbus_connection_signal_unsubscribe (f->connection, f->subscription);
  mero_test_bus_down (&f->bus, &f->connection);
  mero_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_ptr_array_unref (f->signals);
}

static int
run_tool (const char *program, const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status = -1;

  g_ptr_array_add (argv, (gpointer) program);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (mero_test_run_sync ((const char *const *) argv->pdata, NULL,
                                     MERO_TEST_TIMEOUT_MS, out, err, &status));
  return status;
}

/* A fresh home on loopback with kernel-chosen ports; returns its PeerId. */
static char *
make_home (Fixture *f, const char *name, char **home_out)
{
  *home_out = g_build_filename (f->tmp, name, NULL);
  return mero_test_home_init (*home_out, NULL);
}

static MeroTestDaemon *
start (const char *home, gboolean on_bus)
{
  g_autoptr (GError) error = NULL;
  const char *with_bus[] = { "run", "--home", home, NULL };
  const char *without_bus[] = { "run", "--home", home, "--bus=none", NULL };
  /* Peers joining and leaving are info-level, which GLib writes to
   * stdout only when asked. */
  const char *env[] = { "G_MESSAGES_DEBUG=merod", NULL };
  MeroTestDaemon *daemon =
      mero_test_daemon_spawn_merged (on_bus ? with_bus : without_bus, env, &error);

  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  return daemon;
}

/* The multiaddr after "P2P " in the ready line. */
static char *
ready_multiaddr (MeroTestDaemon *daemon)
{
  const char *text = strstr (mero_test_daemon_get_stderr (daemon), "P2P /");
  gsize len;

  g_assert_nonnull (text);
  text += strlen ("P2P ");
  len = strcspn (text, " \n");
  return g_strndup (text, len);
}

typedef struct {
  Fixture *f;
  const char *peer_id;
  gboolean with_protocols;
} PeerWait;

/* B (the node on the bus) lists @peer_id, with identify's protocols. */
static gboolean
bus_node_lists_peer (gpointer data)
{
  PeerWait *w = data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      w->f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, "ListPeers", NULL,
      G_VARIANT_TYPE ("(a(ssas))"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL);
  g_autoptr (GVariantIter) iter = NULL;
  const char *peer_id;
  const char *address;
  g_autofree const char **protocols = NULL;
  gboolean found = FALSE;

  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(a(ssas))", &iter);
  while (!found && g_variant_iter_next (iter, "(&s&s^a&s)", &peer_id, &address, &protocols))
    {
      found = g_str_equal (peer_id, w->peer_id) && g_str_has_prefix (address, "/ip4/127.0.0.1/")
              && (!w->with_protocols
                  || g_strv_contains ((const char *const *) protocols, "/ipfs/id/1.0.0"));
      g_clear_pointer (&protocols, g_free);
    }
  return found;
}

typedef struct {
  Fixture *f;
  const char *signal;
  guint count;
} SignalWait;

static gboolean
signal_seen (gpointer data)
{
  SignalWait *w = data;
  guint n = 0;

  for (guint i = 0; i < w->f->signals->len; i++)
    if (g_str_equal (g_ptr_array_index (w->f->signals, i), w->signal))
      n++;
  return n >= w->count;
}

typedef struct {
  const char *home;
  const char *peer_id;
} HttpPeerWait;

/* `merod peers --home` lists @peer_id (and so does GET /admin-api/peers). */
static gboolean
merod_peers_lists (gpointer data)
{
  HttpPeerWait *w = data;
  g_autofree char *out = NULL;
  int status = run_tool (mero_test_merod_path (),
                         (const char *[]) { "peers", "--home", w->home, NULL }, &out, NULL);

  return status == 0 && strstr (out, w->peer_id) != NULL && strstr (out, "/ipfs/ping/1.0.0");
}

/* The SCORE column of @peer_id's row in a peers table: a number. */
static gboolean
row_has_score (const char *out, const char *peer_id, double *score)
{
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto (GStrv) cols = NULL;
      char *end = NULL;

      if (!g_str_has_prefix (lines[i], peer_id))
        continue;
      cols = g_strsplit_set (lines[i], " ", -1);
      /* peer id, address, score: skip the padding between them. */
      for (guint c = 1, n = 0; cols[c] != NULL; c++)
        if (cols[c][0] != '\0' && ++n == 2)
          {
            *score = g_ascii_strtod (cols[c], &end);
            return end != cols[c] && *end == '\0';
          }
    }
  return FALSE;
}

/* `merod peers --home` shows @peer_id's gossip score, not negative. */
static gboolean
merod_peers_scores (gpointer data)
{
  HttpPeerWait *w = data;
  g_autofree char *out = NULL;
  double score = -1;
  int status = run_tool (mero_test_merod_path (),
                         (const char *[]) { "peers", "--home", w->home, NULL }, &out, NULL);

  return status == 0 && strstr (out, "SCORE") != NULL && row_has_score (out, w->peer_id, &score) &&
         score >= 0;
}

/* B's ListPeerScores (D-Bus) has @peer_id, and meroctl peers shows it. */
static gboolean
bus_node_scores_peer (gpointer data)
{
  PeerWait *w = data;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      w->f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, "ListPeerScores", NULL,
      G_VARIANT_TYPE ("(a{sd})"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL);
  g_autoptr (GVariant) scores = NULL;
  g_autofree char *out = NULL;
  double score = -1, shown = -1;

  if (reply == NULL)
    return FALSE;
  scores = g_variant_get_child_value (reply, 0);
  if (!g_variant_lookup (scores, w->peer_id, "d", &score) || score < 0)
    return FALSE;
  if (run_tool (mero_test_meroctl_path (), (const char *[]) { "peers", NULL }, &out, NULL) != 0 ||
      !row_has_score (out, w->peer_id, &shown) || shown < 0)
    return FALSE;
  g_clear_pointer (&out, g_free);
  /* --json: ListPeers' rows with the score appended. */
  g_assert_cmpint (run_tool (mero_test_meroctl_path (), (const char *[]) { "--json", "peers", NULL },
                             &out, NULL),
                   ==, 0);
  {
    g_autoptr (JsonParser) parser = json_parser_new ();
    JsonArray *rows;
    gboolean found = FALSE;

    g_assert_true (json_parser_load_from_data (parser, out, -1, NULL));
    rows = json_node_get_array (json_parser_get_root (parser));
    for (guint i = 0; i < json_array_get_length (rows); i++)
      {
        JsonArray *row = json_array_get_array_element (rows, i);

        if (g_strcmp0 (json_array_get_string_element (row, 0), w->peer_id) != 0)
          continue;
        g_assert_cmpuint (json_array_get_length (row), ==, 4);
        g_assert_cmpfloat (json_array_get_double_element (row, 3), >=, 0);
        found = TRUE;
      }
    g_assert_true (found);
  }
  return TRUE;
}

static void
test_bootstrap_and_redial (Fixture *f, gconstpointer data)
{
  g_autofree char *home_a = NULL;
  g_autofree char *home_b = NULL;
  g_autofree char *peer_a = make_home (f, "a", &home_a);
  g_autofree char *peer_b = make_home (f, "b", &home_b);
  g_autoptr (MeroTestDaemon) a = start (home_a, FALSE);
  g_autoptr (MeroTestDaemon) b = NULL;
  g_autoptr (MeroTestDaemon) a2 = NULL;
  g_autofree char *addr_a = ready_multiaddr (a);
  g_autofree char *bootstrap = g_strconcat (addr_a, ";", NULL);
  g_autofree char *transport_a = NULL;
  g_autofree char *listen_a = NULL;
  g_autofree char *out = NULL;
  g_autofree char *left = g_strdup_printf ("peer %s left", peer_a);
  g_autofree char *connected_a = g_strdup_printf ("connected %s", peer_a);
  g_autofree char *disconnected_a = g_strdup_printf ("disconnected %s", peer_a);
  g_autoptr (GVariant) listen_prop = NULL;
  g_autoptr (GError) error = NULL;
  PeerWait b_sees_a = { f, peer_a, TRUE };
  HttpPeerWait a_sees_b = { home_a, peer_b };
  HttpPeerWait b_sees_a_http = { home_b, peer_a };
  SignalWait first_connect = { f, connected_a, 1 };
  SignalWait disconnect = { f, disconnected_a, 1 };
  SignalWait second_connect = { f, connected_a, 2 };

  g_assert_true (g_str_has_prefix (addr_a, "/ip4/127.0.0.1/tcp/"));
  g_assert_true (g_str_has_suffix (addr_a, peer_a));
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (a), "libp2p listening on"));

  mero_test_config_set (home_b, "network.bootstrap", bootstrap);
  b = start (home_b, TRUE);
  g_assert_true (mero_test_wait_for_name (f->connection, NODE_NAME, MERO_TEST_TIMEOUT_MS));

  /* B's ListenAddresses: its own bound address ending in its PeerId. */
  listen_prop = g_dbus_connection_call_sync (
      f->connection, NODE_NAME, NODE_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", NODE_IFACE, "ListenAddresses"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GVariant) value = NULL;
    g_autofree const char **addrs = NULL;

    g_variant_get (listen_prop, "(v)", &value);
    addrs = g_variant_get_strv (value, NULL);
    g_assert_nonnull (addrs[0]);
    g_assert_true (g_str_has_prefix (addrs[0], "/ip4/127.0.0.1/tcp/"));
    g_assert_true (g_str_has_suffix (addrs[0], peer_b));
  }

  /* Each lists the other, with identify's protocols. */
  g_assert_true (mero_test_wait_until (bus_node_lists_peer, &b_sees_a, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (merod_peers_lists, &a_sees_b, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (merod_peers_lists, &b_sees_a_http, MERO_TEST_TIMEOUT_MS));
  /* Each scores the other (gossipsub v1.1), visible in every report. */
  g_assert_true (mero_test_wait_until (bus_node_scores_peer, &b_sees_a, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (merod_peers_scores, &a_sees_b, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (signal_seen, &first_connect, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_daemon_wait_for_stderr (b, "speaking", MERO_TEST_TIMEOUT_MS));

  /* meroctl over D-Bus (B) and over HTTP (A). */
  g_assert_cmpint (run_tool (mero_test_meroctl_path (), (const char *[]) { "peers", NULL }, &out,
                             NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, peer_a));
  g_assert_nonnull (strstr (out, "/ipfs/id/1.0.0"));
  g_clear_pointer (&out, g_free);
  {
    g_autofree char *address_file = g_build_filename (home_a, "http.address", NULL);
    g_autofree char *urls = NULL;
    g_auto (GStrv) lines = NULL;

    g_assert_true (g_file_get_contents (address_file, &urls, NULL, NULL));
    lines = g_strsplit (urls, "\n", 2);
    g_assert_cmpint (run_tool (mero_test_meroctl_path (),
                               (const char *[]) { "--url", lines[0], "peers", NULL }, &out,
                               NULL),
                     ==, 0);
    g_assert_nonnull (strstr (out, peer_b));
    g_assert_nonnull (strstr (out, addr_a));
    g_clear_pointer (&out, g_free);
  }

  /* A leaves: B sees it go and starts redialling. */
  mero_test_daemon_stop (a);
  g_assert_true (mero_test_daemon_wait_for_stderr (b, left, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (signal_seen, &disconnect, MERO_TEST_TIMEOUT_MS));

  /* A comes back on the port B has in its bootstrap list. */
  transport_a = g_strndup (addr_a, strstr (addr_a, "/p2p/") - addr_a);
  listen_a = g_strconcat (transport_a, ";", NULL);
  mero_test_config_set (home_a, "network.listen_multiaddrs", listen_a);
  a2 = start (home_a, FALSE);
  g_assert_true (mero_test_wait_until (signal_seen, &second_connect, REDIAL_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (bus_node_lists_peer, &b_sees_a, MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (merod_peers_lists, &a_sees_b, MERO_TEST_TIMEOUT_MS));

  mero_test_daemon_stop (b);
  mero_test_daemon_stop (a2);
}

static void
test_wrong_peer_id (Fixture *f, gconstpointer data)
{
  g_autofree char *home_a = NULL;
  g_autofree char *home_c = NULL;
  g_autofree char *home_x = NULL;
  g_autofree char *peer_a = make_home (f, "a", &home_a);
  g_autofree char *peer_c = make_home (f, "c", &home_c);
  /* A real PeerId, just not A's. */
  g_autofree char *peer_x = make_home (f, "x", &home_x);
  g_autoptr (MeroTestDaemon) a = start (home_a, FALSE);
  g_autoptr (MeroTestDaemon) c = NULL;
  g_autofree char *addr_a = ready_multiaddr (a);
  g_autofree char *transport_a = g_strndup (addr_a, strstr (addr_a, "/p2p/") - addr_a);
  g_autofree char *wrong = g_strdup_printf ("%s/p2p/%s;", transport_a, peer_x);
  g_autofree char *out = NULL;

  mero_test_config_set (home_c, "network.bootstrap", wrong);
  c = start (home_c, FALSE);
  g_assert_true (mero_test_daemon_wait_for_stderr (c, "dial failed", MERO_TEST_TIMEOUT_MS));
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (c), peer_x));
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (c), "next attempt in"));

  /* C keeps running and is connected to nobody. */
  g_assert_cmpint (run_tool (mero_test_merod_path (),
                             (const char *[]) { "peers", "--home", home_c, NULL }, &out, NULL),
                   ==, 0);
  g_assert_null (strstr (out, peer_a));
  g_assert_null (strstr (out, peer_x));
  mero_test_daemon_stop (c);
  mero_test_daemon_stop (a);
  g_assert_null (strstr (mero_test_daemon_get_stderr (c), "joined"));
}

static void
test_tls_only (Fixture *f, gconstpointer data)
{
  g_autofree char *home_a = NULL;
  g_autofree char *home_b = NULL;
  g_autofree char *home_n = NULL;
  g_autofree char *peer_a = make_home (f, "a", &home_a);
  g_autofree char *peer_b = make_home (f, "b", &home_b);
  g_autofree char *peer_n = make_home (f, "n", &home_n);
  g_autoptr (MeroTestDaemon) a = NULL;
  g_autoptr (MeroTestDaemon) b = NULL;
  g_autoptr (MeroTestDaemon) n = NULL;
  g_autofree char *addr_a = NULL;
  g_autofree char *bootstrap = NULL;
  g_autofree char *joined = g_strdup_printf ("peer %s joined", peer_a);
  g_autofree char *out = NULL;

  mero_test_config_set (home_a, "network.security", "tls");
  mero_test_config_set (home_n, "network.security", "noise");
  a = start (home_a, FALSE);
  addr_a = ready_multiaddr (a);
  bootstrap = g_strconcat (addr_a, ";", NULL);

  /* B proposes /noise, A answers na, B falls back to /tls/1.0.0. */
  mero_test_config_set (home_b, "network.bootstrap", bootstrap);
  b = start (home_b, FALSE);
  g_assert_true (mero_test_daemon_wait_for_stderr (b, joined, MERO_TEST_TIMEOUT_MS));
  g_assert_cmpint (run_tool (mero_test_merod_path (),
                             (const char *[]) { "peers", "--home", home_b, NULL }, &out, NULL),
                   ==, 0);
  g_assert_nonnull (strstr (out, peer_a));
  g_clear_pointer (&out, g_free);

  /* N offers only Noise: A refuses it, N logs the failed dial and runs on. */
  mero_test_config_set (home_n, "network.bootstrap", bootstrap);
  n = start (home_n, FALSE);
  g_assert_true (mero_test_daemon_wait_for_stderr (n, "dial failed", MERO_TEST_TIMEOUT_MS));
  g_assert_cmpint (run_tool (mero_test_merod_path (),
                             (const char *[]) { "peers", "--home", home_n, NULL }, &out, NULL),
                   ==, 0);
  g_assert_null (strstr (out, peer_a));
  mero_test_daemon_stop (n);
  mero_test_daemon_stop (b);
  mero_test_daemon_stop (a);
  g_assert_null (strstr (mero_test_daemon_get_stderr (n), "joined"));
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (a), peer_b));
}

static void
test_peers_without_node (Fixture *f, gconstpointer data)
{
  g_autofree char *home = NULL;
  g_autofree char *peer = make_home (f, "idle", &home);
  g_autofree char *err = NULL;

  g_assert_cmpint (run_tool (mero_test_merod_path (),
                             (const char *[]) { "peers", "--home", home, NULL }, NULL, &err),
                   ==, 1);
  g_assert_nonnull (strstr (err, "No node is running"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/network/bootstrap-and-redial", test_bootstrap_and_redial);
  ADD ("/network/wrong-peer-id", test_wrong_peer_id);
  ADD ("/network/tls-only", test_tls_only);
  ADD ("/network/peers-without-node", test_peers_without_node);
#undef ADD
  return g_test_run ();
}
