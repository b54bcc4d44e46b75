/* test-network-tls.c: TLS 1.3 on the network thread over real TCP on
 * 127.0.0.1.  A network that speaks only TLS is dialed by one that
 * prefers Noise (fallback after `na`), refuses a dial that names another
 * peer, and survives a client with a badly signed certificate and one that
 * sends garbage records: each closes with the reason and counts in
 * mero_net_security_failures_total{protocol="tls"}, and a good peer still
 * connects afterwards.  Every wait is bounded. */
#include <gio/gio.h>
#include <sodium.h>
#include <string.h>

#include "net/core/mero-connection.h"
#include "net/core/mero-multistream.h"
#include "net/transport/mero-network.h"
#include "noise-test-peer.h"
#include "tls-test-peer.h"

#define WAIT_US (10 * G_USEC_PER_SEC)
#define TLS_FAILURES "mero_net_security_failures_total"
#define TLS_LABELS "protocol=\"tls\""

typedef struct
{
  MeroMetrics *metrics;
  MeroIdentity *identity;
  MeroNetwork *net;
  GPtrArray *events; /* MeroNetEvent */
  char *peer_id;
  GStrv addrs;
} Node;

static void
on_event (MeroNetEvent *event, gpointer data)
{
  Node *node = data;

  g_ptr_array_add (node->events, event);
}

static void
node_start (Node *node, guint8 seed_byte, MeroNetSecurity security)
{
  guint8 seed[32];
  const char *listen_addrs[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  memset (node, 0, sizeof *node);
  memset (seed, seed_byte, sizeof seed);
  node->metrics = mero_metrics_new ();
  node->identity = mero_identity_new_from_seed (seed);
  node->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  node->events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  config.listen_addrs = listen_addrs;
  config.ping_interval_us = 200 * 1000;
  config.dial_timeout_us = 5 * G_USEC_PER_SEC;
  config.metrics = node->metrics;
  config.security = security;
  node->net = mero_network_new (&config, node->identity);
  g_assert_true (mero_network_start (node->net, g_main_context_default (), on_event, node, &error));
  g_assert_no_error (error);
  node->addrs = mero_network_get_listen_addrs (node->net);
}

static void
node_stop (Node *node)
{
  g_clear_pointer (&node->net, mero_network_free);
  g_clear_pointer (&node->events, g_ptr_array_unref);
  g_clear_pointer (&node->identity, mero_identity_free);
  g_clear_pointer (&node->peer_id, g_free);
  g_clear_pointer (&node->addrs, g_strfreev);
  g_clear_pointer (&node->metrics, mero_metrics_unref);
}

static MeroNetEvent *
find (Node *node, MeroNetEventType type, guint skip)
{
  for (guint i = 0; i < node->events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (node->events, i);

      if (ev->type == type && skip-- == 0)
        return ev;
    }
  return NULL;
}

static MeroNetEvent *
wait_for (Node *node, MeroNetEventType type, guint skip)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_US;
  MeroNetEvent *ev;

  while ((ev = find (node, type, skip)) == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  return ev;
}

/* The counter is bumped on the network thread when it closes the
 * connection: poll it, bounded. */
static guint64
wait_counter (Node *node, guint64 want)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_US;
  guint64 n;

  while ((n = mero_metrics_get_counter (node->metrics, TLS_FAILURES, TLS_LABELS)) < want &&
         g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE) || (g_usleep (1000), TRUE);
  return n;
}

static GSocket *
raw_connect (Node *to)
{
  g_auto(GStrv) parts = g_strsplit (to->addrs[0], "/", -1);
  g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) sa = g_inet_socket_address_new (lo, (guint16) atoi (parts[4]));
  g_autoptr(GError) error = NULL;
  GSocket *sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                &error);

  g_assert_no_error (error);
  g_assert_true (g_socket_connect (sock, sa, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_timeout (sock, 1);
  return sock;
}

/* Reads until the peer closes the socket; TRUE if it did within WAIT_US. */
static gboolean
read_until_eof (GSocket *sock, GByteArray *got)
{
  gint64 deadline = g_get_monotonic_time () + WAIT_US;

  while (g_get_monotonic_time () < deadline)
    {
      guint8 buf[4096];
      gssize n = g_socket_receive (sock, (gchar *) buf, sizeof buf, NULL, NULL);

      if (n == 0)
        return TRUE;
      if (n > 0 && got != NULL)
        g_byte_array_append (got, buf, (guint) n);
      if (n < 0 && !g_socket_condition_timed_wait (sock, G_IO_IN, 100000, NULL, NULL))
        continue;
    }
  return FALSE;
}

/* A TLS-only network is dialed by a Noise-first one: /noise gets `na`,
 * /tls/1.0.0 is agreed, yamux in ALPN. */
static void
test_fallback_to_tls (void)
{
  Node a, b;
  g_autofree char *addr = NULL;
  MeroNetEvent *ev;

  node_start (&a, 0x2a, MERO_NET_SECURITY_TLS_ONLY);
  node_start (&b, 0x2b, MERO_NET_SECURITY_NOISE_FIRST);
  addr = g_strdup_printf ("%s/p2p/%s", a.addrs[0], a.peer_id);
  g_assert_true (mero_network_dial (b.net, addr, NULL));
  ev = wait_for (&b, MERO_NET_EVENT_PEER_CONNECTED, 0);
  g_assert_nonnull (ev);
  g_assert_cmpstr (ev->peer_id, ==, a.peer_id);
  g_assert_cmpstr (ev->message, ==, "tls, yamux agreed in alpn");
  ev = wait_for (&a, MERO_NET_EVENT_PEER_CONNECTED, 0);
  g_assert_nonnull (ev);
  g_assert_cmpstr (ev->peer_id, ==, b.peer_id);
  g_assert_nonnull (wait_for (&b, MERO_NET_EVENT_PEER_IDENTIFIED, 0));
  g_assert_nonnull (wait_for (&b, MERO_NET_EVENT_PING, 0));
  g_assert_nonnull (wait_for (&a, MERO_NET_EVENT_PING, 0));
  g_assert_cmpuint (mero_metrics_get_counter (a.metrics, TLS_FAILURES, TLS_LABELS), ==, 0);
  node_stop (&a);
  node_stop (&b);
}

/* b dials a's address with c's id over TLS: a's certificate names a. */
static void
test_wrong_peer (void)
{
  Node a, b, c;
  g_autofree char *addr = NULL;
  MeroNetEvent *ev;

  node_start (&a, 0x3a, MERO_NET_SECURITY_TLS_ONLY);
  node_start (&b, 0x3b, MERO_NET_SECURITY_TLS_ONLY);
  node_start (&c, 0x3c, MERO_NET_SECURITY_TLS_ONLY);
  addr = g_strdup_printf ("%s/p2p/%s", a.addrs[0], c.peer_id);
  g_assert_true (mero_network_dial (b.net, addr, NULL));
  ev = wait_for (&b, MERO_NET_EVENT_DIAL_FAILED, 0);
  g_assert_nonnull (ev);
  g_test_message ("dial failed: %s", ev->message);
  g_assert_nonnull (strstr (ev->message, "tls: "));
  g_assert_nonnull (strstr (ev->message, "not the"));
  g_assert_null (find (&b, MERO_NET_EVENT_PEER_CONNECTED, 0));
  g_assert_cmpuint (wait_counter (&b, 1), ==, 1);
  node_stop (&a);
  node_stop (&b);
  node_stop (&c);
}

/* A client whose certificate's libp2p signature is wrong, then one that
 * sends garbage: a refuses both, counts both, and still serves b. */
static void
test_bad_clients (void)
{
  Node a, b;
  NoiseTestPeer noise;
  TlsTestIdentity id;
  g_autoptr(MeroTlsCredentials) creds = NULL;
  g_autoptr(MeroConnection) core = NULL;
  g_autoptr(GArray) events = mero_connection_events_new ();
  g_autoptr(GSocket) sock = NULL;
  g_autoptr(GByteArray) raw = g_byte_array_new ();
  g_autofree char *addr = NULL;
  MeroConnectionConfig config = { 0 };
  gint64 deadline;

  node_start (&a, 0x4a, MERO_NET_SECURITY_TLS_ONLY);

  /* 1. A real TLS client (our core over a plain socket) with a broken
   *    certificate. */
  noise_test_peer_init (&noise, 0x4c, 0x11, 0x22, 0x11, NULL);
  tls_test_identity_init (&id, 0x4c);
  id.corrupt_signature = TRUE;
  creds = tls_test_credentials (&id, MERO_TLS_CERT_FLAGS_NONE, g_get_real_time () / G_USEC_PER_SEC);
  config.noise = noise.config;
  config.tls_credentials = creds;
  config.security = MERO_CONNECTION_SECURITY_TLS_ONLY;
  config.now_unix = g_get_real_time () / G_USEC_PER_SEC;
  core = mero_connection_new (MERO_CONNECTION_ROLE_DIALER, &config, g_get_monotonic_time ());
  sock = raw_connect (&a);
  deadline = g_get_monotonic_time () + WAIT_US;
  while (mero_connection_get_state (core) != MERO_CONNECTION_STATE_CLOSED &&
         g_get_monotonic_time () < deadline)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();
      guint8 buf[4096];
      gssize n;

      if (mero_connection_pull_send (core, out, G_MAXSIZE) > 0)
        g_assert_cmpint (g_socket_send (sock, (gchar *) out->data, out->len, NULL, NULL), ==,
                         (gssize) out->len);
      n = g_socket_receive (sock, (gchar *) buf, sizeof buf, NULL, NULL);
      if (n == 0)
        break;
      if (n > 0)
        mero_connection_recv (core, buf, (gsize) n, g_get_monotonic_time (), events, NULL);
    }
  g_test_message ("bad client closed: %s", mero_connection_get_close_reason (core));
  /* The server told us why with an alert before closing. */
  g_assert_cmpint (mero_connection_get_state (core), ==, MERO_CONNECTION_STATE_CLOSED);
  g_assert_nonnull (strstr (mero_connection_get_close_reason (core), "alert"));
  g_assert_cmpuint (wait_counter (&a, 1), ==, 1);
  g_clear_object (&sock);

  /* 2. Garbage where the ClientHello should be. */
  sock = raw_connect (&a);
  mero_multistream_encode_line (raw, "/multistream/1.0.0");
  mero_multistream_encode_line (raw, MERO_TLS_PROTOCOL_ID);
  g_byte_array_append (raw, (const guint8 *) "GET / HTTP/1.1\r\n\r\n", 18);
  g_assert_cmpint (g_socket_send (sock, (gchar *) raw->data, raw->len, NULL, NULL), ==,
                   (gssize) raw->len);
  g_byte_array_set_size (raw, 0);
  g_assert_true (read_until_eof (sock, raw));
  g_assert_cmpuint (wait_counter (&a, 2), ==, 2);
  g_clear_object (&sock);

  /* 3. a still serves a good peer. */
  node_start (&b, 0x4b, MERO_NET_SECURITY_TLS_FIRST);
  addr = g_strdup_printf ("%s/p2p/%s", a.addrs[0], a.peer_id);
  g_assert_true (mero_network_dial (b.net, addr, NULL));
  g_assert_nonnull (wait_for (&a, MERO_NET_EVENT_PEER_CONNECTED, 0));
  g_assert_cmpstr (wait_for (&b, MERO_NET_EVENT_PEER_CONNECTED, 0)->message, ==,
                   "tls, yamux agreed in alpn");
  g_assert_cmpuint (mero_metrics_get_counter (a.metrics, TLS_FAILURES, TLS_LABELS), ==, 2);

  noise_test_peer_clear (&noise);
  tls_test_identity_clear (&id);
  node_stop (&a);
  node_stop (&b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert (sodium_init () >= 0);
  g_test_add_func ("/net/network-tls/fallback", test_fallback_to_tls);
  g_test_add_func ("/net/network-tls/wrong-peer", test_wrong_peer);
  g_test_add_func ("/net/network-tls/bad-clients", test_bad_clients);
  return g_test_run ();
}
