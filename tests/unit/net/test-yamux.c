/* Unit tests for the yamux session: two sessions in memory, with the
 * byte stream cut into arbitrary chunks, plus hand-made hostile frames. */
#include "net/core/mero-yamux.h"

#include "net-test-util.h"

typedef struct
{
  MeroYamuxSession *client;
  MeroYamuxSession *server;
  GArray *client_events;
  GArray *server_events;
  gsize chunk;
  gint64 now;
} Pair;

static Pair *
pair_new (gsize chunk)
{
  Pair *p = g_new0 (Pair, 1);

  p->client = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
  p->server = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);
  p->client_events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  p->server_events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  p->chunk = chunk;
  p->now = 1000;
  return p;
}

static void
pair_free (Pair *p)
{
  mero_yamux_session_free (p->client);
  mero_yamux_session_free (p->server);
  g_array_unref (p->client_events);
  g_array_unref (p->server_events);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pair, pair_free)

/* Moves what @from has to send into @to, @chunk bytes per recv call. */
static gboolean
transfer (Pair *p, MeroYamuxSession *from, MeroYamuxSession *to, GArray *events)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();

  mero_yamux_session_pull_send (from, wire, G_MAXSIZE);
  for (gsize pos = 0; pos < wire->len;)
    {
      gsize n = MIN (p->chunk, wire->len - pos);
      g_autoptr(GError) error = NULL;

      mero_yamux_session_recv (to, wire->data + pos, n, p->now, events, &error);
      g_assert_no_error (error);
      pos += n;
    }
  return wire->len > 0;
}

static void
pump (Pair *p)
{
  gboolean moved;

  do
    {
      moved = transfer (p, p->client, p->server, p->server_events);
      moved |= transfer (p, p->server, p->client, p->client_events);
    }
  while (moved);
}

static guint
count_events (GArray *events, MeroYamuxEventType type, guint32 id)
{
  guint n = 0;

  for (guint i = 0; i < events->len; i++)
    {
      const MeroYamuxEvent *ev = &g_array_index (events, MeroYamuxEvent, i);

      if (ev->type == type && ev->stream_id == id)
        n++;
    }
  return n;
}

static GBytes *
read_all (MeroYamuxSession *s, guint32 id)
{
  GByteArray *out = g_byte_array_new ();
  guint8 buf[1000];
  gsize n;

  while ((n = mero_yamux_stream_read (s, id, buf, sizeof buf)) > 0)
    g_byte_array_append (out, buf, (guint) n);
  return g_byte_array_free_to_bytes (out);
}

static void
write_all (MeroYamuxSession *s, guint32 id, const char *text)
{
  g_autoptr(GError) error = NULL;
  gssize n = mero_yamux_stream_write (s, id, (const guint8 *) text, strlen (text), &error);

  g_assert_no_error (error);
  g_assert_cmpint (n, ==, (gssize) strlen (text));
}

/* Client and server exchange a request and a reply and half-close. */
static void
exchange (gsize chunk)
{
  g_autoptr(Pair) p = pair_new (chunk);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) got = NULL;
  guint32 id = mero_yamux_session_open_stream (p->client, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (id, ==, 1);
  write_all (p->client, id, "hello");
  g_assert_true (mero_yamux_stream_close (p->client, id, &error));
  pump (p);

  g_assert_cmpuint (count_events (p->server_events, MERO_YAMUX_EVENT_STREAM_OPENED, id), ==, 1);
  g_assert_cmpuint (count_events (p->server_events, MERO_YAMUX_EVENT_STREAM_CLOSED, id), ==, 1);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_STREAM_ACKED, id), ==, 1);
  got = read_all (p->server, id);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "hello", 5);
  g_clear_pointer (&got, g_bytes_unref);

  /* Half-closed: the server can still answer. */
  write_all (p->server, id, "world");
  g_assert_true (mero_yamux_stream_close (p->server, id, &error));
  pump (p);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_STREAM_CLOSED, id), ==, 1);
  got = read_all (p->client, id);
  g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), "world", 5);

  /* Closed both ways and drained: both sides forget the stream. */
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->client), ==, 0);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->server), ==, 0);

  /* Writing to a closed stream is refused. */
  g_assert_cmpint (mero_yamux_stream_write (p->client, id, (const guint8 *) "x", 1, &error), ==, -1);
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_INVALID_STREAM);
}

static void
test_yamux_exchange (void)
{
  static const gsize chunks[] = { 1, 2, 5, 11, 12, 13, 24, 4096, G_MAXSIZE };

  for (gsize i = 0; i < G_N_ELEMENTS (chunks); i++)
    exchange (chunks[i]);
}

static void
test_yamux_wire_vectors (void)
{
  g_autoptr(MeroYamuxSession) client = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
  g_autoptr(MeroYamuxSession) server = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GBytes) ping = net_test_hex ("00 02 0001 00000000 0000002a");
  g_autoptr(GError) error = NULL;

  g_assert_false (mero_yamux_session_wants_send (client));
  /* Opening: Window Update + SYN, delta 0 (as js). */
  g_assert_cmpuint (mero_yamux_session_open_stream (client, &error), ==, 1);
  g_assert_true (mero_yamux_session_wants_send (client));
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 01 0001 00000001 00000000");

  /* Accepting: Window Update + ACK. */
  g_assert_true (mero_yamux_session_recv (server, out->data, out->len, 0, events, &error));
  g_byte_array_set_size (out, 0);
  mero_yamux_session_pull_send (server, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 01 0002 00000001 00000000");

  /* Server streams are even. */
  g_byte_array_set_size (out, 0);
  g_assert_cmpuint (mero_yamux_session_open_stream (server, &error), ==, 2);
  mero_yamux_session_pull_send (server, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 01 0001 00000002 00000000");

  /* Ping SYN is answered by Ping ACK with the same opaque value. */
  g_byte_array_set_size (out, 0);
  g_assert_true (mero_yamux_session_recv (client, g_bytes_get_data (ping, NULL), 12, 0, events, &error));
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 02 0002 00000000 0000002a");

  /* Data frame, then the FIN alone on a Window Update: js drops the
   * payload of a Data frame that carries FIN (tests/interop). */
  g_byte_array_set_size (out, 0);
  write_all (client, 1, "hi");
  mero_yamux_stream_close (client, 1, &error);
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len,
                         "00 00 0000 00000001 00000002 6869  00 01 0004 00000001 00000000");
  g_byte_array_set_size (out, 0);

  /* GoAway normal. */
  mero_yamux_session_go_away (client, MERO_YAMUX_GOAWAY_NORMAL);
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 03 0000 00000000 00000000");
}

static void
test_yamux_window (void)
{
  const gsize total = 1024 * 1024 + 123;
  g_autoptr(Pair) p = pair_new (G_MAXSIZE);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *data = g_malloc (total);
  g_autoptr(GByteArray) received = g_byte_array_new ();
  gsize written = 0;
  guint32 id;

  for (gsize i = 0; i < total; i++)
    data[i] = (guint8) (i * 7 + (i >> 11));
  id = mero_yamux_session_open_stream (p->client, &error);

  /* Without reads on the far side, exactly one window gets through. */
  while (written < total)
    {
      gssize n = mero_yamux_stream_write (p->client, id, data + written, total - written, &error);

      g_assert_no_error (error);
      if (n == 0)
        break;
      written += (gsize) n;
      pump (p);
    }
  g_assert_cmpuint (mero_yamux_stream_get_readable (p->server, id), ==, MERO_YAMUX_INITIAL_WINDOW);
  g_assert_false (mero_yamux_session_wants_send (p->client));

  /* Reading returns credit; the transfer completes. */
  while (received->len < total)
    {
      guint8 buf[10000];
      gsize n = mero_yamux_stream_read (p->server, id, buf, sizeof buf);

      g_byte_array_append (received, buf, (guint) n);
      if (written < total)
        {
          gssize w = mero_yamux_stream_write (p->client, id, data + written, total - written, &error);

          g_assert_no_error (error);
          written += (gsize) w;
        }
      pump (p);
      g_assert_cmpuint (mero_yamux_stream_get_readable (p->server, id), <=, MERO_YAMUX_INITIAL_WINDOW);
    }
  g_assert_cmpmem (received->data, received->len, data, total);
}

/* Credit goes back once MERO_YAMUX_CREDIT_BATCH bytes were read, not
 * before: exactly one Window Update carrying exactly that credit. */
static void
test_yamux_credit_batch (void)
{
  g_autoptr(Pair) p = pair_new (G_MAXSIZE);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *data = g_malloc0 (MERO_YAMUX_INITIAL_WINDOW);
  g_autofree guint8 *buf = g_malloc (MERO_YAMUX_CREDIT_BATCH);
  guint32 id = mero_yamux_session_open_stream (p->client, &error);
  char expected[64];

  g_assert_no_error (error);
  g_assert_cmpint (mero_yamux_stream_write (p->client, id, data, MERO_YAMUX_INITIAL_WINDOW, &error),
                   ==, MERO_YAMUX_INITIAL_WINDOW);
  pump (p);
  g_assert_false (mero_yamux_session_wants_send (p->client));

  g_assert_cmpuint (mero_yamux_stream_read (p->server, id, buf, MERO_YAMUX_CREDIT_BATCH - 1), ==,
                    MERO_YAMUX_CREDIT_BATCH - 1);
  g_assert_false (mero_yamux_session_wants_send (p->server));
  g_assert_cmpuint (mero_yamux_stream_read (p->server, id, buf, 1), ==, 1);
  mero_yamux_session_pull_send (p->server, out, G_MAXSIZE);
  g_snprintf (expected, sizeof expected, "00 01 0000 %08x %08x", id, MERO_YAMUX_CREDIT_BATCH);
  net_test_assert_bytes (out->data, out->len, expected);
}

static void
test_yamux_frame_size (void)
{
  /* Data frames stay within js's 64 KiB (header included). */
  g_autoptr(MeroYamuxSession) client = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree guint8 *data = g_malloc0 (100000);
  guint32 id = mero_yamux_session_open_stream (client, NULL);

  g_assert_cmpint (mero_yamux_stream_write (client, id, data, 100000, NULL), ==, 100000);
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  /* SYN, a 65536-byte frame, then the rest. */
  g_assert_cmpuint (out->len, ==, 12 + 65536 + 12 + (100000 - MERO_YAMUX_MAX_DATA_PAYLOAD));
  net_test_assert_bytes (out->data + 12, 12, "00 00 0000 00000001 0000fff4");

  /* A small budget yields only whole frames. */
  {
    g_autoptr(MeroYamuxSession) c2 = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
    g_autoptr(GByteArray) o2 = g_byte_array_new ();
    guint32 id2 = mero_yamux_session_open_stream (c2, NULL);

    mero_yamux_stream_write (c2, id2, data, 100, NULL);
    g_assert_cmpuint (mero_yamux_session_pull_send (c2, o2, 12), ==, 12);
    g_assert_cmpuint (mero_yamux_session_pull_send (c2, o2, 12), ==, 0);
    g_assert_cmpuint (mero_yamux_session_pull_send (c2, o2, 22), ==, 22);
    net_test_assert_bytes (o2->data + 12, 12, "00 00 0000 00000001 0000000a");
  }
}

static void
feed_hex_expect (MeroYamuxSession *s, const char *hex, MeroYamuxError code)
{
  g_autoptr(GBytes) in = net_test_hex (hex);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  g_autoptr(GError) error = NULL;

  g_assert_false (mero_yamux_session_recv (s, g_bytes_get_data (in, NULL), g_bytes_get_size (in), 0,
                                           events, &error));
  g_assert_error (error, MERO_YAMUX_ERROR, (gint) code);
}

static void
assert_goaway_sent (MeroYamuxSession *s, const char *code_hex)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autofree char *want = g_strdup_printf ("00 03 0000 00000000 %s", code_hex);

  mero_yamux_session_pull_send (s, out, G_MAXSIZE);
  g_assert_cmpuint (out->len, >=, 12);
  net_test_assert_bytes (out->data + out->len - 12, 12, want);
}

static void
test_yamux_flood (void)
{
  g_autoptr(MeroYamuxSession) server = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  g_autoptr(GError) error = NULL;

  /* Open stream 1 and send the whole window: fine. */
  {
    g_autoptr(GBytes) open = net_test_hex ("00 01 0001 00000001 00000000  00 00 0000 00000001 00040000");
    g_autofree guint8 *window = g_malloc0 (MERO_YAMUX_INITIAL_WINDOW);

    g_assert_true (mero_yamux_session_recv (server, g_bytes_get_data (open, NULL), g_bytes_get_size (open),
                                            0, events, &error));
    g_assert_true (mero_yamux_session_recv (server, window, MERO_YAMUX_INITIAL_WINDOW, 0, events, &error));
    g_assert_no_error (error);
  }
  /* One byte more is a protocol error, reported with a GoAway. */
  feed_hex_expect (server, "00 00 0000 00000001 00000001 00", MERO_YAMUX_ERROR_FLOW_CONTROL);
  assert_goaway_sent (server, "00000001");
  /* The session stays failed. */
  feed_hex_expect (server, "00 02 0001 00000000 00000001", MERO_YAMUX_ERROR_FLOW_CONTROL);
  g_assert_cmpuint (mero_yamux_session_open_stream (server, &error), ==, 0);
  g_assert_nonnull (error);
}

static void
test_yamux_flood_single_frame (void)
{
  g_autoptr(MeroYamuxSession) server = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);

  /* SYN with a 256 KiB + 1 data frame: refused at the header, before any
   * payload is buffered. */
  feed_hex_expect (server, "00 00 0001 00000001 00040001", MERO_YAMUX_ERROR_FLOW_CONTROL);
}

static void
test_yamux_too_many_streams (void)
{
  g_autoptr(Pair) p = pair_new (7);
  g_autoptr(GError) error = NULL;
  guint32 ids[3];

  mero_yamux_session_set_max_streams (p->server, 2);
  for (int i = 0; i < 3; i++)
    {
      ids[i] = mero_yamux_session_open_stream (p->client, &error);
      g_assert_no_error (error);
      write_all (p->client, ids[i], "x");
    }
  pump (p);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->server), ==, 2);
  g_assert_cmpuint (count_events (p->server_events, MERO_YAMUX_EVENT_STREAM_OPENED, ids[2]), ==, 0);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_STREAM_RESET, ids[2]), ==, 1);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_STREAM_ACKED, ids[1]), ==, 1);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->client), ==, 2);
  /* The refusal is counted by reason. */
  g_assert_cmpuint (mero_yamux_session_get_stats (p->server)->streams_refused_limit, ==, 1);
  g_assert_cmpuint (mero_yamux_session_get_stats (p->server)->streams_refused_going_away, ==, 0);

  /* Our own outbound limit. */
  mero_yamux_session_set_max_streams (p->client, 2);
  g_assert_cmpuint (mero_yamux_session_open_stream (p->client, &error), ==, 0);
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_STREAM_LIMIT);
}

static void
test_yamux_ack_backlog (void)
{
  g_autoptr(MeroYamuxSession) client = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < MERO_YAMUX_MAX_ACK_BACKLOG; i++)
    g_assert_cmpuint (mero_yamux_session_open_stream (client, NULL), !=, 0);
  g_assert_cmpuint (mero_yamux_session_open_stream (client, &error), ==, 0);
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_STREAM_LIMIT);
}

static void
test_yamux_ping (void)
{
  g_autoptr(Pair) p = pair_new (3);
  g_autoptr(GError) error = NULL;
  const MeroYamuxEvent *ev;

  g_assert_cmpint (mero_yamux_session_next_deadline (p->client), ==, G_MAXINT64);
  g_assert_true (mero_yamux_session_ping (p->client, 1000, &error));
  g_assert_cmpint (mero_yamux_session_next_deadline (p->client), ==, 1000 + MERO_YAMUX_PING_TIMEOUT_US);
  transfer (p, p->client, p->server, p->server_events);
  p->now = 3500;
  transfer (p, p->server, p->client, p->client_events);
  g_assert_cmpuint (p->client_events->len, ==, 1);
  ev = &g_array_index (p->client_events, MeroYamuxEvent, 0);
  g_assert_cmpint (ev->type, ==, MERO_YAMUX_EVENT_PING);
  g_assert_cmpint (ev->rtt_us, ==, 2500);
  g_assert_cmpint (mero_yamux_session_next_deadline (p->client), ==, G_MAXINT64);

  /* Nothing is outstanding now: another ACK is a protocol error. */
  feed_hex_expect (p->client, "00 02 0002 00000000 00000001", MERO_YAMUX_ERROR_PROTOCOL);
  assert_goaway_sent (p->client, "00000001");
}

static void
test_yamux_ping_timeout (void)
{
  g_autoptr(MeroYamuxSession) client = mero_yamux_session_new (MERO_YAMUX_ROLE_CLIENT);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();

  g_assert_true (mero_yamux_session_ping (client, 0, &error));
  mero_yamux_session_pull_send (client, out, G_MAXSIZE);
  net_test_assert_bytes (out->data, out->len, "00 02 0001 00000000 00000001");
  g_assert_true (mero_yamux_session_handle_deadline (client, MERO_YAMUX_PING_TIMEOUT_US - 1, &error));
  g_assert_false (mero_yamux_session_handle_deadline (client, MERO_YAMUX_PING_TIMEOUT_US, &error));
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_PING_TIMEOUT);
}

static void
test_yamux_keepalive (void)
{
  g_autoptr(Pair) p = pair_new (G_MAXSIZE);
  g_autoptr(GError) error = NULL;

  mero_yamux_session_set_keepalive (p->client, MERO_YAMUX_KEEPALIVE_INTERVAL_US, 0);
  g_assert_cmpint (mero_yamux_session_next_deadline (p->client), ==, MERO_YAMUX_KEEPALIVE_INTERVAL_US);
  g_assert_true (mero_yamux_session_handle_deadline (p->client, 5, &error));
  g_assert_false (mero_yamux_session_wants_send (p->client));
  p->now = MERO_YAMUX_KEEPALIVE_INTERVAL_US;
  g_assert_true (mero_yamux_session_handle_deadline (p->client, p->now, &error));
  g_assert_true (mero_yamux_session_wants_send (p->client));
  p->now += 40;
  pump (p);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_PING, 0), ==, 1);
  g_assert_cmpint (mero_yamux_session_next_deadline (p->client), ==, p->now + MERO_YAMUX_KEEPALIVE_INTERVAL_US);
}

static void
test_yamux_goaway (void)
{
  g_autoptr(Pair) p = pair_new (5);
  g_autoptr(GError) error = NULL;
  guint32 id = mero_yamux_session_open_stream (p->client, &error);

  pump (p);
  mero_yamux_session_go_away (p->client, MERO_YAMUX_GOAWAY_NORMAL);
  pump (p);
  g_assert_cmpuint (count_events (p->server_events, MERO_YAMUX_EVENT_GOAWAY, 0), ==, 1);

  /* No new streams either way; existing ones keep working. */
  g_assert_cmpuint (mero_yamux_session_open_stream (p->server, &error), ==, 0);
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_SESSION_CLOSED);
  g_clear_error (&error);
  g_assert_cmpuint (mero_yamux_session_open_stream (p->client, &error), ==, 0);
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_SESSION_CLOSED);
  g_clear_error (&error);
  write_all (p->server, id, "still here");
  pump (p);
  g_assert_cmpuint (mero_yamux_stream_get_readable (p->client, id), ==, 10);

  /* A SYN arriving after our GoAway is refused with RST. */
  {
    g_autoptr(GBytes) syn = net_test_hex ("00 01 0001 00000004 00000000");
    g_autoptr(GByteArray) out = g_byte_array_new ();

    g_assert_true (mero_yamux_session_recv (p->client, g_bytes_get_data (syn, NULL), 12, 0,
                                            p->client_events, &error));
    mero_yamux_session_pull_send (p->client, out, G_MAXSIZE);
    net_test_assert_bytes (out->data, out->len, "00 01 0008 00000004 00000000");
    g_assert_cmpuint (mero_yamux_session_get_stats (p->client)->streams_refused_going_away, ==, 1);
    g_assert_cmpuint (mero_yamux_session_get_stats (p->client)->streams_refused_limit, ==, 0);
  }
}

static void
test_yamux_reset (void)
{
  g_autoptr(Pair) p = pair_new (1);
  g_autoptr(GError) error = NULL;
  guint32 id = mero_yamux_session_open_stream (p->client, &error);

  write_all (p->client, id, "doomed");
  pump (p);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->server), ==, 1);
  mero_yamux_stream_reset (p->server, id);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->server), ==, 0);
  pump (p);
  g_assert_cmpuint (count_events (p->client_events, MERO_YAMUX_EVENT_STREAM_RESET, id), ==, 1);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (p->client), ==, 0);

  /* Late data for a forgotten stream is skipped, not an error. */
  {
    g_autoptr(GBytes) late = net_test_hex ("00 00 0000 00000001 00000003 616263");

    g_assert_true (mero_yamux_session_recv (p->server, g_bytes_get_data (late, NULL),
                                            g_bytes_get_size (late), 0, p->server_events, &error));
    g_assert_cmpuint (mero_yamux_session_get_n_streams (p->server), ==, 0);
  }
}

/* Zero-length DATA frames open, pad and close a stream that never holds
 * a byte until late: every read of it copies nothing from a buffer never
 * allocated (memcpy from NULL was UBSan's undefined behaviour, caught by
 * the sanitizer build: meson setup -Db_sanitize=address,undefined). */
static void
test_yamux_zero_length_frames (void)
{
  g_autoptr(MeroYamuxSession) s = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  g_autoptr(GError) error = NULL;
  guint8 buf[16];

  {
    /* SYN as a DATA frame of length 0, then an empty DATA frame. */
    g_autoptr(GBytes) open = net_test_hex ("00 00 0001 00000001 00000000  00 00 0000 00000001 00000000");

    g_assert_true (mero_yamux_session_recv (s, g_bytes_get_data (open, NULL),
                                            g_bytes_get_size (open), 0, events, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (count_events (events, MERO_YAMUX_EVENT_STREAM_OPENED, 1), ==, 1);
  g_assert_cmpuint (mero_yamux_stream_get_readable (s, 1), ==, 0);
  g_assert_cmpuint (mero_yamux_stream_read (s, 1, buf, sizeof buf), ==, 0);
  g_assert_cmpuint (mero_yamux_stream_read (s, 1, NULL, 0), ==, 0);
  g_assert_cmpuint (mero_yamux_session_get_n_streams (s), ==, 1);

  /* Then two bytes, read, and a FIN on an empty frame. */
  {
    g_autoptr(GBytes) rest = net_test_hex ("00 00 0000 00000001 00000002 6869  00 00 0004 00000001 00000000");

    g_assert_true (mero_yamux_session_recv (s, g_bytes_get_data (rest, NULL),
                                            g_bytes_get_size (rest), 0, events, &error));
    g_assert_no_error (error);
  }
  g_assert_cmpuint (mero_yamux_stream_read (s, 1, buf, sizeof buf), ==, 2);
  g_assert_cmpmem (buf, 2, "hi", 2);
  g_assert_cmpuint (count_events (events, MERO_YAMUX_EVENT_STREAM_CLOSED, 1), ==, 1);
  g_assert_cmpuint (mero_yamux_stream_read (s, 1, buf, sizeof buf), ==, 0);
}

static void
test_yamux_bad_frames (void)
{
  static const struct { MeroYamuxRole role; const char *hex; MeroYamuxError code; } bad[] = {
    { MERO_YAMUX_ROLE_SERVER, "01 00 0001 00000001 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* version */
    { MERO_YAMUX_ROLE_SERVER, "00 04 0000 00000000 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* type */
    { MERO_YAMUX_ROLE_SERVER, "00 01 0001 00000002 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* parity */
    { MERO_YAMUX_ROLE_CLIENT, "00 01 0001 00000001 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* parity */
    { MERO_YAMUX_ROLE_SERVER, "00 01 0001 00000000 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* id 0 */
    { MERO_YAMUX_ROLE_SERVER, "00 02 0001 00000001 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* ping on stream */
    { MERO_YAMUX_ROLE_SERVER, "00 02 0003 00000000 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* ping flags */
    { MERO_YAMUX_ROLE_SERVER, "00 03 0000 00000001 00000000", MERO_YAMUX_ERROR_PROTOCOL }, /* goaway on stream */
    { MERO_YAMUX_ROLE_SERVER, "00 01 0001 00000001 00000000 00 01 0001 00000001 00000000",
      MERO_YAMUX_ERROR_PROTOCOL },                                                         /* SYN twice */
    { MERO_YAMUX_ROLE_SERVER, "00 01 0005 00000001 00000000 00 00 0000 00000001 00000001 61",
      MERO_YAMUX_ERROR_PROTOCOL },                                                         /* data after FIN */
    { MERO_YAMUX_ROLE_SERVER, "00 01 0001 00000001 ffffffff", MERO_YAMUX_ERROR_FLOW_CONTROL }, /* window overflow */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(MeroYamuxSession) s = mero_yamux_session_new (bad[i].role);

      feed_hex_expect (s, bad[i].hex, bad[i].code);
      assert_goaway_sent (s, "00000001");
    }
}

static void
test_yamux_control_backlog (void)
{
  /* A peer that pings while we never pull gets cut off. */
  g_autoptr(MeroYamuxSession) s = mero_yamux_session_new (MERO_YAMUX_ROLE_SERVER);
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  g_autoptr(GBytes) ping = net_test_hex ("00 02 0001 00000000 00000007");
  g_autoptr(GError) error = NULL;
  guint i;

  for (i = 0; i < 100000; i++)
    if (!mero_yamux_session_recv (s, g_bytes_get_data (ping, NULL), 12, 0, events, &error))
      break;
  g_assert_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_NOT_READING);
  g_assert_cmpuint (i, ==, MERO_YAMUX_MAX_CONTROL_BACKLOG / MERO_YAMUX_HEADER_SIZE);
}

/* Many streams in both directions at once, random chunking of the byte
 * stream (fixed seed, so the run is deterministic), every byte checked. */
static void
test_yamux_many_streams (void)
{
  enum { N_STREAMS = 20, PER_STREAM = 20000 };
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(Pair) p = pair_new (1);
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *payload = g_malloc (PER_STREAM);
  guint32 ids[N_STREAMS];
  gsize sent_c[N_STREAMS] = { 0 };
  gsize sent_s[N_STREAMS] = { 0 };
  GByteArray *got_c[N_STREAMS];
  GByteArray *got_s[N_STREAMS];
  gboolean done = FALSE;

  for (gsize i = 0; i < PER_STREAM; i++)
    payload[i] = (guint8) g_rand_int (rand);
  for (int i = 0; i < N_STREAMS; i++)
    {
      ids[i] = mero_yamux_session_open_stream (p->client, &error);
      g_assert_no_error (error);
      got_c[i] = g_byte_array_new ();
      got_s[i] = g_byte_array_new ();
    }

  for (int round = 0; round < 100000 && !done; round++)
    {
      done = TRUE;
      p->chunk = (gsize) g_rand_int_range (rand, 1, 3000);
      for (int i = 0; i < N_STREAMS; i++)
        {
          guint8 buf[4096];
          gsize n;
          gsize want = (gsize) g_rand_int_range (rand, 1, 5000);

          if (sent_c[i] < PER_STREAM)
            sent_c[i] += (gsize) mero_yamux_stream_write (p->client, ids[i], payload + sent_c[i],
                                                          MIN (want, PER_STREAM - sent_c[i]), NULL);
          /* The server echoes only once the stream reached it. */
          if (sent_s[i] < PER_STREAM && count_events (p->server_events, MERO_YAMUX_EVENT_STREAM_OPENED, ids[i]) > 0)
            sent_s[i] += (gsize) mero_yamux_stream_write (p->server, ids[i], payload + sent_s[i],
                                                          MIN (want, PER_STREAM - sent_s[i]), NULL);
          n = mero_yamux_stream_read (p->server, ids[i], buf, sizeof buf);
          g_byte_array_append (got_s[i], buf, (guint) n);
          n = mero_yamux_stream_read (p->client, ids[i], buf, sizeof buf);
          g_byte_array_append (got_c[i], buf, (guint) n);
          if (got_s[i]->len < PER_STREAM || got_c[i]->len < PER_STREAM)
            done = FALSE;
        }
      pump (p);
    }

  g_assert_true (done);
  for (int i = 0; i < N_STREAMS; i++)
    {
      g_assert_cmpmem (got_s[i]->data, got_s[i]->len, payload, PER_STREAM);
      g_assert_cmpmem (got_c[i]->data, got_c[i]->len, payload, PER_STREAM);
      g_byte_array_unref (got_c[i]);
      g_byte_array_unref (got_s[i]);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/yamux/exchange", test_yamux_exchange);
  g_test_add_func ("/net/yamux/wire-vectors", test_yamux_wire_vectors);
  g_test_add_func ("/net/yamux/window", test_yamux_window);
  g_test_add_func ("/net/yamux/many-streams", test_yamux_many_streams);
  g_test_add_func ("/net/yamux/credit-batch", test_yamux_credit_batch);
  g_test_add_func ("/net/yamux/frame-size", test_yamux_frame_size);
  g_test_add_func ("/net/yamux/flood", test_yamux_flood);
  g_test_add_func ("/net/yamux/flood-single-frame", test_yamux_flood_single_frame);
  g_test_add_func ("/net/yamux/too-many-streams", test_yamux_too_many_streams);
  g_test_add_func ("/net/yamux/ack-backlog", test_yamux_ack_backlog);
  g_test_add_func ("/net/yamux/ping", test_yamux_ping);
  g_test_add_func ("/net/yamux/ping-timeout", test_yamux_ping_timeout);
  g_test_add_func ("/net/yamux/keepalive", test_yamux_keepalive);
  g_test_add_func ("/net/yamux/goaway", test_yamux_goaway);
  g_test_add_func ("/net/yamux/reset", test_yamux_reset);
  g_test_add_func ("/net/yamux/zero-length-frames", test_yamux_zero_length_frames);
  g_test_add_func ("/net/yamux/bad-frames", test_yamux_bad_frames);
  g_test_add_func ("/net/yamux/control-backlog", test_yamux_control_backlog);
  return g_test_run ();
}
