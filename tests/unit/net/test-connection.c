/* Unit tests for the connection core: a dialer and a listener wired
 * back to back in memory, through multistream, Noise, yamux, identify,
 * ping and application streams, with every split of the byte stream. */
#include <string.h>

#include "net/core/mero-connection.h"

#include "net-test-util.h"
#include "noise-test-peer.h"

static const char *const app_protocols[] = { "/calimero/stream/test/1", NULL };
static const char *const app_prefixes[] = { "/calimero/blob/", NULL };

typedef struct
{
  NoiseTestPeer peer;
  MeroIdentifyInfo *identify;
  MeroConnection *conn;
  GArray *events;
} Side;

typedef struct
{
  Side d; /* dialer */
  Side l; /* listener */
  gint64 now;
  gsize chunk;
} Pair;

static const char *const yamux_muxers[] = { "/yamux/1.0.0", NULL };

static void
side_init (Side *s, MeroConnectionRole role, guint8 id, const MeroPeerId *expected, gint64 now,
           const char *agent, gboolean inline_muxer)
{
  MeroConnectionConfig config = { 0 };
  guint8 key_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  g_autoptr(MeroMultiaddr) remote = mero_multiaddr_new_from_string ("/ip4/127.0.0.1/tcp/40000", NULL);
  const char *const protocols[] = { "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", app_protocols[0], NULL };

  noise_test_peer_init (&s->peer, id, (guint8) (id + 0x10), (guint8) (id + 0x20),
                        (guint8) (id + 0x10), inline_muxer ? yamux_muxers : NULL);
  s->peer.config.expected_peer = expected;
  mero_key_codec_encode_ed25519_public (s->peer.identity_pk, key_pb);
  s->identify = mero_identify_info_new ();
  s->identify->public_key = g_bytes_new (key_pb, sizeof key_pb);
  g_strfreev (s->identify->protocols);
  s->identify->protocols = g_strdupv ((GStrv) protocols);
  s->identify->agent_version = g_strdup (agent);
  s->identify->protocol_version = g_strdup ("ipfs/0.1.0");
  g_ptr_array_add (s->identify->listen_addrs,
                   mero_multiaddr_new_from_string ("/ip4/127.0.0.1/tcp/2428", NULL));
  config.noise = s->peer.config;
  config.local_identify = s->identify;
  config.remote_addr = remote;
  config.app_protocols = app_protocols;
  config.app_prefixes = app_prefixes;
  config.inline_muxer = inline_muxer;
  s->conn = mero_connection_new (role, &config, now);
  s->events = mero_connection_events_new ();
}

static void
side_clear (Side *s)
{
  g_clear_pointer (&s->conn, mero_connection_free);
  g_clear_pointer (&s->identify, mero_identify_info_free);
  g_clear_pointer (&s->events, g_array_unref);
  noise_test_peer_clear (&s->peer);
}

static void
pair_init_full (Pair *p, gsize chunk, gboolean wrong_expectation, gboolean dialer_inline,
                gboolean listener_inline)
{
  NoiseTestPeer listener_keys;

  p->now = 1000000;
  p->chunk = chunk;
  /* The dialer knows whom it dials (or, for the mismatch test, thinks
   * it does). */
  noise_test_peer_init (&listener_keys, wrong_expectation ? 0x0e : 0x02, 0x12, 0x22, 0x12, NULL);
  side_init (&p->l, MERO_CONNECTION_ROLE_LISTENER, 0x02, NULL, p->now, "listener/1",
             listener_inline);
  side_init (&p->d, MERO_CONNECTION_ROLE_DIALER, 0x01, listener_keys.peer_id, p->now, "dialer/1",
             dialer_inline);
  noise_test_peer_clear (&listener_keys);
}

static void
pair_init (Pair *p, gsize chunk, gboolean wrong_expectation)
{
  pair_init_full (p, chunk, wrong_expectation, FALSE, FALSE);
}

static void
pair_clear (Pair *p)
{
  side_clear (&p->d);
  side_clear (&p->l);
}

/* Moves bytes both ways, @chunk at a time, until neither side has
 * anything to send (bounded). */
static void
pump (Pair *p)
{
  for (guint round = 0; round < 100000; round++)
    {
      gboolean moved = FALSE;

      for (guint dir = 0; dir < 2; dir++)
        {
          Side *from = dir == 0 ? &p->d : &p->l;
          Side *to = dir == 0 ? &p->l : &p->d;
          g_autoptr(GByteArray) out = g_byte_array_new ();

          if (mero_connection_pull_send (from->conn, out, p->chunk) > 0)
            {
              moved = TRUE;
              mero_connection_recv (to->conn, out->data, out->len, p->now, to->events, NULL);
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

static void
assert_identified (Side *s, Side *other)
{
  const MeroIdentifyInfo *info = mero_connection_get_remote_identify (s->conn);
  g_autofree char *observed = NULL;

  g_assert_nonnull (find_event (s, MERO_CONNECTION_EVENT_IDENTIFIED));
  g_assert_nonnull (info);
  g_assert_true (g_bytes_equal (info->public_key, other->identify->public_key));
  g_assert_cmpstrv (info->protocols, other->identify->protocols);
  g_assert_cmpstr (info->agent_version, ==, other->identify->agent_version);
  observed = mero_multiaddr_to_string (info->observed_addr);
  g_assert_cmpstr (observed, ==, "/ip4/127.0.0.1/tcp/40000");
}

static void
test_full_stack (void)
{
  const gsize chunks[] = { 1, 5, 64, 1 << 20 };

  for (guint c = 0; c < G_N_ELEMENTS (chunks); c++)
    {
      Pair p;
      g_autoptr(GError) error = NULL;
      const MeroConnectionEvent *ev;
      guint8 ping[32];
      guint32 sid;
      guint8 buf[64];
      gsize n;

      pair_init (&p, chunks[c], FALSE);
      pump (&p);
      for (guint i = 0; i < 2; i++)
        {
          Side *s = i == 0 ? &p.d : &p.l;

          g_assert_cmpint (mero_connection_get_state (s->conn), ==, MERO_CONNECTION_STATE_READY);
          g_assert_nonnull (find_event (s, MERO_CONNECTION_EVENT_SECURED));
          g_assert_nonnull (find_event (s, MERO_CONNECTION_EVENT_READY));
        }
      g_assert_true (mero_peer_id_equal (mero_connection_get_remote_peer (p.d.conn), p.l.peer.peer_id));
      g_assert_true (mero_peer_id_equal (mero_connection_get_remote_peer (p.l.conn), p.d.peer.peer_id));
      assert_identified (&p.d, &p.l);
      assert_identified (&p.l, &p.d);

      /* Ping both ways, twice (a new stream each time, as js does). */
      for (guint round = 0; round < 2; round++)
        for (guint i = 0; i < 2; i++)
          {
            Side *s = i == 0 ? &p.d : &p.l;

            g_array_set_size (s->events, 0);
            memset (ping, (int) (round * 2 + i + 1), sizeof ping);
            g_assert_true (mero_connection_ping (s->conn, ping, p.now, &error));
            g_assert_no_error (error);
            p.now += 1500;
            pump (&p);
            ev = find_event (s, MERO_CONNECTION_EVENT_PING);
            g_assert_nonnull (ev);
            g_assert_cmpint (ev->rtt_us, ==, 1500);
            g_assert_cmpint (mero_connection_get_ping_rtt (s->conn), ==, 1500);
          }

      /* An application stream, dialer → listener, data both ways. */
      g_array_set_size (p.l.events, 0);
      g_array_set_size (p.d.events, 0);
      sid = mero_connection_open_stream (p.d.conn, app_protocols[0], &error);
      g_assert_no_error (error);
      g_assert_cmpuint (sid % 2, ==, 1);
      /* Not writable before the peer agreed. */
      g_assert_cmpint (mero_connection_stream_write (p.d.conn, sid, (const guint8 *) "x", 1,
                                                     &error), ==, -1);
      g_assert_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_INVALID_STREAM);
      g_clear_error (&error);
      pump (&p);
      ev = find_event (&p.d, MERO_CONNECTION_EVENT_STREAM_OPENED);
      g_assert_nonnull (ev);
      g_assert_false (ev->inbound);
      g_assert_cmpint (mero_connection_stream_write (p.d.conn, sid, (const guint8 *) "hi there", 8,
                                                     &error), ==, 8);
      g_assert_true (mero_connection_stream_close (p.d.conn, sid, &error));
      pump (&p);
      ev = find_event (&p.l, MERO_CONNECTION_EVENT_STREAM_OPENED);
      g_assert_nonnull (ev);
      g_assert_true (ev->inbound);
      g_assert_cmpstr (ev->protocol, ==, app_protocols[0]);
      g_assert_cmpuint (ev->stream_id, ==, sid);
      g_assert_nonnull (find_event (&p.l, MERO_CONNECTION_EVENT_STREAM_CLOSED));
      n = mero_connection_stream_read (p.l.conn, sid, buf, sizeof buf);
      g_assert_cmpmem (buf, n, "hi there", 8);
      g_assert_cmpint (mero_connection_stream_write (p.l.conn, sid, (const guint8 *) "back", 4,
                                                     &error), ==, 4);
      pump (&p);
      g_assert_nonnull (find_event (&p.d, MERO_CONNECTION_EVENT_STREAM_DATA));
      n = mero_connection_stream_read (p.d.conn, sid, buf, sizeof buf);
      g_assert_cmpmem (buf, n, "back", 4);

      /* A prefix protocol, listener → dialer (even ids). */
      g_array_set_size (p.d.events, 0);
      sid = mero_connection_open_stream (p.l.conn, "/calimero/blob/7", &error);
      g_assert_cmpuint (sid % 2, ==, 0);
      pump (&p);
      ev = find_event (&p.d, MERO_CONNECTION_EVENT_STREAM_OPENED);
      g_assert_nonnull (ev);
      g_assert_cmpstr (ev->protocol, ==, "/calimero/blob/7");

      /* An unknown protocol is refused with `na`. */
      g_array_set_size (p.d.events, 0);
      sid = mero_connection_open_stream (p.d.conn, "/nobody/1", &error);
      g_assert_cmpuint (sid, !=, 0);
      pump (&p);
      ev = find_event (&p.d, MERO_CONNECTION_EVENT_STREAM_REFUSED);
      g_assert_nonnull (ev);
      g_assert_cmpuint (ev->stream_id, ==, sid);
      g_assert_cmpuint (mero_connection_get_stats (p.d.conn)->streams_failed, ==, 1);

      /* Close: GoAway reaches the peer. */
      g_array_set_size (p.l.events, 0);
      mero_connection_close (p.d.conn);
      pump (&p);
      ev = find_event (&p.l, MERO_CONNECTION_EVENT_CLOSED);
      g_assert_nonnull (ev);
      g_assert_nonnull (strstr (ev->message, "GoAway"));
      pair_clear (&p);
    }
}

static void
test_peer_mismatch (void)
{
  Pair p;
  const MeroConnectionEvent *ev;

  pair_init (&p, 1 << 16, TRUE);
  pump (&p);
  ev = find_event (&p.d, MERO_CONNECTION_EVENT_CLOSED);
  g_assert_nonnull (ev);
  g_assert_nonnull (strstr (ev->message, "expected"));
  g_assert_cmpint (mero_connection_get_state (p.d.conn), ==, MERO_CONNECTION_STATE_CLOSED);
  g_assert_null (find_event (&p.d, MERO_CONNECTION_EVENT_READY));
  pair_clear (&p);
}

static void
test_handshake_timeout (void)
{
  Pair p;

  pair_init (&p, 1 << 16, FALSE);
  /* Nothing is exchanged; the deadline is the handshake timeout. */
  g_assert_cmpint (mero_connection_next_deadline (p.l.conn), ==,
                   p.now + MERO_CONNECTION_HANDSHAKE_TIMEOUT_US);
  mero_connection_handle_deadline (p.l.conn, p.now + MERO_CONNECTION_HANDSHAKE_TIMEOUT_US - 1,
                                   p.l.events);
  g_assert_null (find_event (&p.l, MERO_CONNECTION_EVENT_CLOSED));
  mero_connection_handle_deadline (p.l.conn, p.now + MERO_CONNECTION_HANDSHAKE_TIMEOUT_US,
                                   p.l.events);
  g_assert_nonnull (find_event (&p.l, MERO_CONNECTION_EVENT_CLOSED));
  g_assert_cmpint (mero_connection_next_deadline (p.l.conn), ==, G_MAXINT64);
  g_assert_cmpuint (mero_connection_get_stats (p.l.conn)->handshake_timeouts, ==, 1);
  pair_clear (&p);
}

static void
test_three_failed_pings_close (void)
{
  Pair p;
  guint8 ping[32] = { 0 };
  guint failed = 0;

  pair_init (&p, 1 << 16, FALSE);
  pump (&p);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GByteArray) lost = g_byte_array_new ();

      g_assert_true (mero_connection_ping (p.d.conn, ping, p.now, &error));
      g_assert_no_error (error);
      /* The ping is sent but never answered: its bytes are lost. */
      mero_connection_pull_send (p.d.conn, lost, G_MAXSIZE);
      p.now = mero_connection_next_deadline (p.d.conn);
      mero_connection_handle_deadline (p.d.conn, p.now, p.d.events);
    }
  for (guint i = 0; i < p.d.events->len; i++)
    if (g_array_index (p.d.events, MeroConnectionEvent, i).type == MERO_CONNECTION_EVENT_PING_FAILED)
      failed++;
  g_assert_cmpuint (failed, ==, 3);
  g_assert_cmpuint (mero_connection_get_stats (p.d.conn)->pings_failed, ==, 3);
  g_assert_nonnull (find_event (&p.d, MERO_CONNECTION_EVENT_CLOSED));
  g_assert_cmpint (mero_connection_get_state (p.d.conn), ==, MERO_CONNECTION_STATE_CLOSED);
  pair_clear (&p);
}

#define GARBAGE_HTTP \
  "GET /admin-api/health HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: curl/7.88.1\r\n" \
  "Accept: */*\r\nConnection: keep-alive\r\n\r\n"

static void
test_garbage_security (void)
{
  Pair p;
  g_autoptr(GError) error = NULL;

  pair_init (&p, 1 << 16, FALSE);
  g_assert_false (mero_connection_recv (p.l.conn, (const guint8 *) "\x05hello", 6, p.now,
                                        p.l.events, &error));
  g_assert_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_CLOSED);
  g_assert_nonnull (find_event (&p.l, MERO_CONNECTION_EVENT_CLOSED));
  /* Counted by reason, for mero_net_security_negotiation_failures_total. */
  g_assert_cmpuint (mero_connection_get_stats (p.l.conn)
                        ->security_negotiation_failures[MERO_MULTISTREAM_ERROR_PROTOCOL], ==, 1);
  pair_clear (&p);

  /* An HTTP request where a multistream header belongs: its first byte
   * ('G', 71) reads as a line length, the line is no header. */
  pair_init (&p, 1 << 16, FALSE);
  g_clear_error (&error);
  g_assert_false (mero_connection_recv (p.l.conn, (const guint8 *) GARBAGE_HTTP,
                                        strlen (GARBAGE_HTTP), p.now, p.l.events, &error));
  {
    const MeroConnectionStats *stats = mero_connection_get_stats (p.l.conn);
    guint64 total = 0;

    for (guint i = 0; i < G_N_ELEMENTS (stats->security_negotiation_failures); i++)
      total += stats->security_negotiation_failures[i];
    g_assert_cmpuint (total, ==, 1);
  }
  pair_clear (&p);
}


static void
test_inbound_ping_limit (void)
{
  Pair p;
  g_autoptr(GError) error = NULL;
  guint32 ids[3];
  guint opened = 0;

  pair_init (&p, 1 << 16, FALSE);
  pump (&p);
  g_array_set_size (p.d.events, 0);
  /* Three ping streams the dialer keeps open: the listener serves two. */
  for (guint i = 0; i < 3; i++)
    {
      ids[i] = mero_connection_open_stream (p.d.conn, "/ipfs/ping/1.0.0", &error);
      g_assert_no_error (error);
    }
  pump (&p);
  for (guint i = 0; i < p.d.events->len; i++)
    if (g_array_index (p.d.events, MeroConnectionEvent, i).type == MERO_CONNECTION_EVENT_STREAM_OPENED)
      opened++;
  /* The third is reset right after its echo was queued; the RST, a
   * control frame, overtakes the echo, so the dialer sees a refusal. */
  g_assert_cmpuint (opened, ==, 2);
  g_assert_cmpuint (mero_connection_get_stats (p.l.conn)->streams_refused, ==, 1);
  {
    const MeroConnectionEvent *ev = find_event (&p.d, MERO_CONNECTION_EVENT_STREAM_REFUSED);

    g_assert_nonnull (ev);
    g_assert_cmpuint (ev->stream_id, ==, ids[2]);
  }
  /* The two served ones echo. */
  g_array_set_size (p.d.events, 0);
  g_assert_cmpint (mero_connection_stream_write (p.d.conn, ids[0], (const guint8 *) "0123456789abcdef0123456789abcdef", 32, &error), ==, 32);
  pump (&p);
  {
    guint8 buf[32];

    g_assert_cmpuint (mero_connection_stream_read (p.d.conn, ids[0], buf, sizeof buf), ==, 32);
    g_assert_cmpmem (buf, 32, "0123456789abcdef0123456789abcdef", 32);
  }
  pair_clear (&p);
}


/* Inlined muxer negotiation when both payloads offer yamux; with only
 * one side offering it, multistream-select as before. */
static void
test_inline_muxer (void)
{
  const struct { gboolean d, l, inlined; } cases[] = {
    { TRUE, TRUE, TRUE }, { TRUE, FALSE, FALSE }, { FALSE, TRUE, FALSE },
  };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    for (gsize chunk = 1; chunk <= 4096; chunk *= 64)
      {
        Pair p;
        guint8 ping[32] = { 9 };

        pair_init_full (&p, chunk, FALSE, cases[c].d, cases[c].l);
        pump (&p);
        g_assert_cmpint (mero_connection_get_state (p.d.conn), ==, MERO_CONNECTION_STATE_READY);
        g_assert_cmpint (mero_connection_get_state (p.l.conn), ==, MERO_CONNECTION_STATE_READY);
        g_assert_cmpint (mero_connection_get_muxer_inlined (p.d.conn), ==, cases[c].inlined);
        g_assert_cmpint (mero_connection_get_muxer_inlined (p.l.conn), ==, cases[c].inlined);
        assert_identified (&p.d, &p.l);
        assert_identified (&p.l, &p.d);
        g_assert_true (mero_connection_ping (p.l.conn, ping, p.now, NULL));
        pump (&p);
        g_assert_nonnull (find_event (&p.l, MERO_CONNECTION_EVENT_PING));
        pair_clear (&p);
      }
}

/* Request/answer streams as a blob fetch or a delta fetch uses them:
 * the dialer asks and closes only after the listener's whole answer and
 * FIN were read, the listener closes after answering.  Both sides must
 * forget every such stream (a record kept per stream made a 1 GiB blob
 * fetch leave hundreds behind), whichever side closes last. */
static void
test_closed_streams_forgotten (void)
{
  Pair p;
  g_autoptr(GError) error = NULL;
  guint base_d, base_l;

  pair_init (&p, 1 << 20, FALSE);
  pump (&p);
  base_d = mero_connection_get_n_streams (p.d.conn);
  base_l = mero_connection_get_n_streams (p.l.conn);
  for (guint i = 0; i < 300; i++)
    {
      guint8 buf[64];
      guint32 sid = mero_connection_open_stream (p.d.conn, app_protocols[0], &error);

      g_assert_no_error (error);
      pump (&p);
      g_assert_cmpint (mero_connection_stream_write (p.d.conn, sid, (const guint8 *) "ask", 3,
                                                     &error), ==, 3);
      pump (&p);
      g_assert_cmpuint (mero_connection_stream_read (p.l.conn, sid, buf, sizeof buf), ==, 3);
      g_assert_cmpint (mero_connection_stream_write (p.l.conn, sid, (const guint8 *) "answer", 6,
                                                     &error), ==, 6);
      g_assert_true (mero_connection_stream_close (p.l.conn, sid, &error));
      pump (&p);
      g_assert_cmpuint (mero_connection_stream_read (p.d.conn, sid, buf, sizeof buf), ==, 6);
      /* Odd rounds read once more (seeing the end) before closing. */
      if (i % 2 == 1)
        g_assert_cmpuint (mero_connection_stream_read (p.d.conn, sid, buf, sizeof buf), ==, 0);
      g_assert_true (mero_connection_stream_close (p.d.conn, sid, &error));
      pump (&p);
      mero_connection_stream_read (p.l.conn, sid, buf, sizeof buf);
      g_assert_cmpuint (mero_connection_get_n_streams (p.d.conn), ==, base_d);
      g_assert_cmpuint (mero_connection_get_n_streams (p.l.conn), ==, base_l);
    }
  pair_clear (&p);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/connection/full-stack", test_full_stack);
  g_test_add_func ("/net/connection/peer-mismatch", test_peer_mismatch);
  g_test_add_func ("/net/connection/handshake-timeout", test_handshake_timeout);
  g_test_add_func ("/net/connection/three-failed-pings", test_three_failed_pings_close);
  g_test_add_func ("/net/connection/garbage-security", test_garbage_security);
  g_test_add_func ("/net/connection/inbound-ping-limit", test_inbound_ping_limit);
  g_test_add_func ("/net/connection/inline-muxer", test_inline_muxer);
  g_test_add_func ("/net/connection/closed-streams-forgotten", test_closed_streams_forgotten);
  return g_test_run ();
}
