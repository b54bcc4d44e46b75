/* test-connection-tls.c: connections secured with TLS 1.3 instead of
 * Noise, back to back in memory: security selection in both roles
 * (preference, fallback after `na`, forced), early muxer negotiation by
 * ALPN, identify and ping over TLS, and refused handshakes (wrong peer,
 * bad certificate signature, garbage records) closing with the reason. */
#include <string.h>

#include "net/core/mero-connection.h"
#include "net/core/mero-multistream.h"

#include "net-test-util.h"
#include "noise-test-peer.h"
#include "tls-test-peer.h"

static const char *const yamux_muxers[] = { "/yamux/1.0.0", NULL };

typedef struct
{
  NoiseTestPeer noise;
  TlsTestIdentity tls_id;
  MeroTlsCredentials *creds;
  MeroIdentifyInfo *identify;
  MeroConnection *conn;
  GArray *events;
} Side;

typedef struct
{
  MeroConnectionSecurity security;
  gboolean inline_muxer;
  gboolean with_tls;
  gboolean corrupt_cert;
} SideOpts;

/* @id picks both the Noise and the TLS identity (the same Ed25519 key). */
static void
side_init (Side *s, MeroConnectionRole role, guint8 id, const MeroPeerId *expected,
           const SideOpts *opts)
{
  MeroConnectionConfig config = { 0 };

  memset (s, 0, sizeof *s);
  noise_test_peer_init (&s->noise, id, (guint8) (id + 0x10), (guint8) (id + 0x20),
                        (guint8) (id + 0x10), opts->inline_muxer ? yamux_muxers : NULL);
  s->noise.config.expected_peer = expected;
  tls_test_identity_init (&s->tls_id, id);
  s->tls_id.corrupt_signature = opts->corrupt_cert;
  if (opts->with_tls)
    s->creds = tls_test_credentials (&s->tls_id, MERO_TLS_CERT_FLAGS_NONE, TLS_TEST_NOW_UNIX);
  s->identify = mero_identify_info_new ();
  s->identify->public_key = g_bytes_new (s->tls_id.key_pb, sizeof s->tls_id.key_pb);
  s->identify->agent_version = g_strdup (role == MERO_CONNECTION_ROLE_DIALER ? "d/1" : "l/1");
  config.noise = s->noise.config;
  config.local_identify = s->identify;
  config.inline_muxer = opts->inline_muxer;
  config.tls_credentials = s->creds;
  config.security = opts->security;
  config.now_unix = TLS_TEST_NOW_UNIX;
  s->conn = mero_connection_new (role, &config, 1000000);
  s->events = mero_connection_events_new ();
}

static void
side_clear (Side *s)
{
  g_clear_pointer (&s->conn, mero_connection_free);
  g_clear_pointer (&s->creds, mero_tls_credentials_unref);
  g_clear_pointer (&s->identify, mero_identify_info_free);
  g_clear_pointer (&s->events, g_array_unref);
  noise_test_peer_clear (&s->noise);
  tls_test_identity_clear (&s->tls_id);
}

static void
pump (Side *d, Side *l, gsize chunk)
{
  for (guint round = 0; round < 100000; round++)
    {
      gboolean moved = FALSE;

      for (guint dir = 0; dir < 2; dir++)
        {
          Side *from = dir == 0 ? d : l;
          Side *to = dir == 0 ? l : d;
          g_autoptr(GByteArray) out = g_byte_array_new ();

          if (mero_connection_pull_send (from->conn, out, chunk) > 0)
            {
              moved = TRUE;
              mero_connection_recv (to->conn, out->data, out->len, 1000000, to->events, NULL);
            }
        }
      if (!moved)
        return;
    }
  g_assert_not_reached ();
}

static const MeroConnectionEvent *
find_event (Side *s, MeroConnectionEventType type)
{
  for (guint i = 0; i < s->events->len; i++)
    {
      const MeroConnectionEvent *ev = &g_array_index (s->events, MeroConnectionEvent, i);

      if (ev->type == type)
        return ev;
    }
  return NULL;
}

/* Connects a dialer (id 1) to a listener (id 2) and returns the agreed
 * security protocol; both must be READY with each other's identity. */
static void
connect_pair (const SideOpts *dopts, const SideOpts *lopts, gsize chunk, const char *want_security,
              gboolean want_inlined)
{
  Side d, l;
  TlsTestIdentity lid;
  guint8 payload[MERO_PING_PAYLOAD_LEN];
  const MeroIdentifyInfo *info;

  tls_test_identity_init (&lid, 0x02);
  side_init (&l, MERO_CONNECTION_ROLE_LISTENER, 0x02, NULL, lopts);
  side_init (&d, MERO_CONNECTION_ROLE_DIALER, 0x01, lid.peer_id, dopts);
  pump (&d, &l, chunk);
  g_assert_cmpint (mero_connection_get_state (d.conn), ==, MERO_CONNECTION_STATE_READY);
  g_assert_cmpint (mero_connection_get_state (l.conn), ==, MERO_CONNECTION_STATE_READY);
  g_assert_cmpstr (mero_connection_get_security (d.conn), ==, want_security);
  g_assert_cmpstr (mero_connection_get_security (l.conn), ==, want_security);
  g_assert_cmpint (mero_connection_get_muxer_inlined (d.conn), ==, want_inlined);
  g_assert_cmpint (mero_connection_get_muxer_inlined (l.conn), ==, want_inlined);
  g_assert_true (mero_peer_id_equal (mero_connection_get_remote_peer (d.conn), lid.peer_id));
  g_assert_true (mero_peer_id_equal (mero_connection_get_remote_peer (l.conn), d.tls_id.peer_id));
  g_assert_nonnull (find_event (&d, MERO_CONNECTION_EVENT_SECURED));

  /* identify ran both ways over the secured connection. */
  g_assert_nonnull (find_event (&d, MERO_CONNECTION_EVENT_IDENTIFIED));
  g_assert_nonnull (find_event (&l, MERO_CONNECTION_EVENT_IDENTIFIED));
  info = mero_connection_get_remote_identify (d.conn);
  g_assert_cmpstr (info->agent_version, ==, "l/1");
  info = mero_connection_get_remote_identify (l.conn);
  g_assert_cmpstr (info->agent_version, ==, "d/1");

  /* Ping both ways. */
  memset (payload, 0x5a, sizeof payload);
  g_assert_true (mero_connection_ping (d.conn, payload, 1000000, NULL));
  g_assert_true (mero_connection_ping (l.conn, payload, 1000000, NULL));
  pump (&d, &l, chunk);
  g_assert_nonnull (find_event (&d, MERO_CONNECTION_EVENT_PING));
  g_assert_nonnull (find_event (&l, MERO_CONNECTION_EVENT_PING));
  g_assert_cmpuint (mero_connection_get_stats (d.conn)->security_failures, ==, 0);

  side_clear (&d);
  side_clear (&l);
  tls_test_identity_clear (&lid);
}

static void
test_tls_only (void)
{
  SideOpts d = { MERO_CONNECTION_SECURITY_TLS_ONLY, TRUE, TRUE, FALSE };
  SideOpts l = { MERO_CONNECTION_SECURITY_NOISE_FIRST, TRUE, TRUE, FALSE };
  static const gsize chunks[] = { 1, 7, 1500, 65536 };

  for (guint i = 0; i < G_N_ELEMENTS (chunks); i++)
    connect_pair (&d, &l, chunks[i], MERO_TLS_PROTOCOL_ID, TRUE);
  /* Either side without early muxer negotiation: ALPN "libp2p", then
   * multistream-select for yamux inside TLS. */
  d.inline_muxer = FALSE;
  connect_pair (&d, &l, 65536, MERO_TLS_PROTOCOL_ID, FALSE);
  d.inline_muxer = TRUE;
  l.inline_muxer = FALSE;
  connect_pair (&d, &l, 65536, MERO_TLS_PROTOCOL_ID, FALSE);
}

static void
test_selection (void)
{
  SideOpts noise_first = { MERO_CONNECTION_SECURITY_NOISE_FIRST, TRUE, TRUE, FALSE };
  SideOpts tls_first = { MERO_CONNECTION_SECURITY_TLS_FIRST, TRUE, TRUE, FALSE };
  SideOpts noise_only = { MERO_CONNECTION_SECURITY_NOISE_ONLY, TRUE, TRUE, FALSE };
  SideOpts tls_only = { MERO_CONNECTION_SECURITY_TLS_ONLY, TRUE, TRUE, FALSE };
  SideOpts no_tls = { MERO_CONNECTION_SECURITY_NOISE_FIRST, TRUE, FALSE, FALSE };

  /* Noise is preferred by default, and a listener accepts both. */
  connect_pair (&noise_first, &noise_first, 65536, MERO_NOISE_PROTOCOL_ID, TRUE);
  connect_pair (&tls_first, &noise_first, 65536, MERO_TLS_PROTOCOL_ID, TRUE);
  /* The listener refuses the first proposal (`na`): the second is used. */
  connect_pair (&tls_first, &noise_only, 65536, MERO_NOISE_PROTOCOL_ID, TRUE);
  connect_pair (&noise_first, &tls_only, 65536, MERO_TLS_PROTOCOL_ID, TRUE);
  /* Without credentials TLS is neither offered nor accepted. */
  connect_pair (&tls_first, &no_tls, 65536, MERO_NOISE_PROTOCOL_ID, TRUE);
  connect_pair (&no_tls, &tls_first, 65536, MERO_NOISE_PROTOCOL_ID, TRUE);
}

/* Dials and expects the handshake to fail on @failing with @reason_part. */
static void
refused (const SideOpts *dopts, const MeroPeerId *expected, gboolean dialer_fails,
         const char *reason_part)
{
  SideOpts lopts = { MERO_CONNECTION_SECURITY_NOISE_FIRST, TRUE, TRUE, FALSE };
  Side d, l;
  Side *failing;
  const MeroConnectionEvent *closed;

  side_init (&l, MERO_CONNECTION_ROLE_LISTENER, 0x02, NULL, &lopts);
  side_init (&d, MERO_CONNECTION_ROLE_DIALER, 0x01, expected, dopts);
  pump (&d, &l, 65536);
  failing = dialer_fails ? &d : &l;
  g_assert_cmpint (mero_connection_get_state (failing->conn), ==, MERO_CONNECTION_STATE_CLOSED);
  g_assert_cmpint (mero_connection_get_state (d.conn), !=, MERO_CONNECTION_STATE_READY);
  /* A TLS 1.3 client finishes its handshake before the server has checked
   * its certificate (tls.md, "Note for clients"): only the side that
   * verifies is never READY. */
  if (dialer_fails == (expected != NULL))
    g_assert_null (find_event (failing, MERO_CONNECTION_EVENT_READY));
  closed = find_event (failing, MERO_CONNECTION_EVENT_CLOSED);
  g_assert_nonnull (closed);
  g_assert_true (g_str_has_prefix (closed->message, "tls: "));
  if (strstr (closed->message, reason_part) == NULL)
    g_error ("close reason \"%s\" does not mention \"%s\"", closed->message, reason_part);
  g_assert_cmpuint (mero_connection_get_stats (failing->conn)->security_failures, ==, 1);
  side_clear (&d);
  side_clear (&l);
}

static void
test_peer_mismatch (void)
{
  SideOpts d = { MERO_CONNECTION_SECURITY_TLS_ONLY, TRUE, TRUE, FALSE };
  TlsTestIdentity other;

  tls_test_identity_init (&other, 0x0e);
  refused (&d, other.peer_id, TRUE, "not the");
  tls_test_identity_clear (&other);
}

static void
test_bad_signature (void)
{
  SideOpts d = { MERO_CONNECTION_SECURITY_TLS_ONLY, TRUE, TRUE, TRUE };

  /* The listener checks the dialer's certificate and refuses it; the
   * dialer hears of it by the alert. */
  refused (&d, NULL, FALSE, "signature");
  refused (&d, NULL, TRUE, "alert");
}

static void
test_garbage (void)
{
  SideOpts opts = { MERO_CONNECTION_SECURITY_NOISE_FIRST, TRUE, TRUE, FALSE };
  g_autoptr(GByteArray) in = g_byte_array_new ();
  Side l;
  const MeroConnectionEvent *closed;
  static const guint8 junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

  side_init (&l, MERO_CONNECTION_ROLE_LISTENER, 0x02, NULL, &opts);
  /* A dialer that agrees /tls/1.0.0 and then sends a broken ClientHello. */
  mero_multistream_encode_line (in, "/multistream/1.0.0");
  mero_multistream_encode_line (in, MERO_TLS_PROTOCOL_ID);
  g_byte_array_append (in, junk, sizeof junk - 1);
  g_assert_false (mero_connection_recv (l.conn, in->data, in->len, 1000000, l.events, NULL));
  g_assert_cmpint (mero_connection_get_state (l.conn), ==, MERO_CONNECTION_STATE_CLOSED);
  closed = find_event (&l, MERO_CONNECTION_EVENT_CLOSED);
  g_assert_nonnull (closed);
  g_assert_true (g_str_has_prefix (closed->message, "tls: TLS handshake failed"));
  g_assert_cmpuint (mero_connection_get_stats (l.conn)->security_failures, ==, 1);
  side_clear (&l);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/connection-tls/tls-only", test_tls_only);
  g_test_add_func ("/net/connection-tls/selection", test_selection);
  g_test_add_func ("/net/connection-tls/peer-mismatch", test_peer_mismatch);
  g_test_add_func ("/net/connection-tls/bad-signature", test_bad_signature);
  g_test_add_func ("/net/connection-tls/garbage", test_garbage);
  return g_test_run ();
}
