/* Unit tests for multistream-select, with the reference's byte vectors
 * (§2.1) for both roles and an in-memory loopback. */
#include "net/core/mero-multistream.h"

#include "net-test-util.h"

#define HDR "13 2f6d756c746973747265616d2f312e302e30 0a"
#define NOISE "07 2f6e6f697365 0a"
#define TLS "0b 2f746c732f312e302e30 0a"
#define YAMUX "0d 2f79616d75782f312e302e30 0a"
#define IPFS_ID "0f 2f697066732f69642f312e302e30 0a"
#define PING "11 2f697066732f70696e672f312e302e30 0a"
#define MESHSUB "0f 2f6d6573687375622f312e312e30 0a"
#define NA "03 6e61 0a"

static const char *const security[] = { "/noise", NULL };

static void
assert_pull (MeroMultistream *ms, const char *hex)
{
  g_autoptr(GBytes) out = mero_multistream_pull_send (ms);

  if (hex == NULL)
    {
      g_assert_null (out);
      return;
    }
  g_assert_nonnull (out);
  net_test_assert_bytes (g_bytes_get_data (out, NULL), g_bytes_get_size (out), hex);
}

static void
feed_hex (MeroMultistream *ms, const char *hex, GError **error)
{
  g_autoptr(GBytes) in = net_test_hex (hex);

  mero_multistream_recv (ms, g_bytes_get_data (in, NULL), g_bytes_get_size (in), error);
}

static void
test_ms_encode_vectors (void)
{
  static const struct { const char *id; const char *hex; } lines[] = {
    { "/noise", NOISE }, { "/tls/1.0.0", TLS }, { "/yamux/1.0.0", YAMUX },
    { "/ipfs/id/1.0.0", IPFS_ID }, { "/ipfs/ping/1.0.0", PING },
    { "/meshsub/1.1.0", MESHSUB }, { "na", NA }, { "/multistream/1.0.0", HDR },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (lines); i++)
    {
      g_autoptr(GByteArray) out = g_byte_array_new ();

      g_assert_true (mero_multistream_encode_line (out, lines[i].id));
      net_test_assert_bytes (out->data, out->len, lines[i].hex);
    }
}

static void
test_ms_initiator_pipelined (void)
{
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (security);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) leftover = NULL;

  /* Header and first proposal in one write, as js does. */
  assert_pull (ms, HDR NOISE);
  assert_pull (ms, NULL);
  g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_NEGOTIATING);

  /* The answer, followed in the same chunk by the first Noise bytes. */
  feed_hex (ms, HDR NOISE "0020 aabb", &error);
  g_assert_no_error (error);
  g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_AGREED);
  g_assert_cmpstr (mero_multistream_get_protocol (ms), ==, "/noise");
  leftover = mero_multistream_steal_leftover (ms);
  net_test_assert_bytes (g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover), "0020aabb");
  assert_pull (ms, NULL);
}

static void
test_ms_initiator_fallback (void)
{
  static const char *const protos[] = { "/tls/1.0.0", "/noise", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (protos);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) leftover = NULL;

  assert_pull (ms, HDR TLS);
  feed_hex (ms, HDR NA, &error);
  g_assert_no_error (error);
  assert_pull (ms, NOISE);
  feed_hex (ms, NOISE, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (mero_multistream_get_protocol (ms), ==, "/noise");
  leftover = mero_multistream_steal_leftover (ms);
  g_assert_cmpuint (g_bytes_get_size (leftover), ==, 0);
}

static void
test_ms_initiator_all_refused (void)
{
  static const char *const protos[] = { "/tls/1.0.0", "/noise", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (protos);
  g_autoptr(GError) error = NULL;

  g_assert_nonnull (mero_multistream_pull_send (ms));
  feed_hex (ms, HDR NA NA, &error);
  g_assert_error (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_NOT_SUPPORTED);
  g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_FAILED);
  g_clear_error (&error);
  feed_hex (ms, NA, &error);
  g_assert_error (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_FAILED);
}

static void
test_ms_initiator_no_header (void)
{
  /* js takes a first line that is not the header as the answer. */
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (security);
  g_autoptr(GError) error = NULL;

  feed_hex (ms, NOISE, &error);
  g_assert_no_error (error);
  g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_AGREED);
}

static void
test_ms_initiator_wrong_answer (void)
{
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (security);
  g_autoptr(GError) error = NULL;

  feed_hex (ms, HDR TLS, &error);
  g_assert_error (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_PROTOCOL);
}

static void
test_ms_responder_one_byte_at_a_time (void)
{
  static const char *const protos[] = { "/yamux/1.0.0", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (protos, NULL);
  g_autoptr(GBytes) in = net_test_hex (HDR YAMUX "000100");
  g_autoptr(GByteArray) sent = g_byte_array_new ();
  g_autoptr(GBytes) leftover = NULL;
  const guint8 *data = g_bytes_get_data (in, NULL);
  gsize i;

  /* js responder: nothing is sent before a line was read. */
  assert_pull (ms, NULL);
  for (i = 0; i < g_bytes_get_size (in); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) out = NULL;

      g_assert_true (mero_multistream_recv (ms, data + i, 1, &error));
      g_assert_no_error (error);
      out = mero_multistream_pull_send (ms);
      if (out != NULL)
        g_byte_array_append (sent, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
      if (mero_multistream_get_state (ms) == MERO_MULTISTREAM_STATE_AGREED)
        break;
    }
  net_test_assert_bytes (sent->data, sent->len, HDR YAMUX);
  g_assert_cmpstr (mero_multistream_get_protocol (ms), ==, "/yamux/1.0.0");
  /* Agreement came with the last byte of the proposal; the rest is the
   * caller's, who still holds it. */
  g_assert_cmpuint (i + 1, ==, g_bytes_get_size (in) - 3);
  leftover = mero_multistream_steal_leftover (ms);
  g_assert_cmpuint (g_bytes_get_size (leftover), ==, 0);
}

static void
test_ms_responder_na_ls (void)
{
  static const char *const protos[] = { "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (protos, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) leftover = NULL;

  /* Several messages in one chunk; the answer comes in one piece. */
  feed_hex (ms, HDR MESHSUB "03 6c73 0a", &error);
  g_assert_no_error (error);
  /* ls: uvarint(total) || each id as a line || '\n' (js handle.js). */
  assert_pull (ms, HDR NA "23" IPFS_ID PING "0a");
  feed_hex (ms, PING "0102", &error);
  g_assert_no_error (error);
  assert_pull (ms, PING);
  g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_AGREED);
  leftover = mero_multistream_steal_leftover (ms);
  net_test_assert_bytes (g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover), "0102");
}

static void
test_ms_responder_prefix (void)
{
  static const char *const protos[] = { "/ipfs/id/1.0.0", NULL };
  static const char *const prefixes[] = { "/calimero/stream/", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (protos, prefixes);
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  mero_multistream_encode_line (in, "/multistream/1.0.0");
  mero_multistream_encode_line (in, "/calimero/stream/hash/1");
  g_assert_true (mero_multistream_recv (ms, in->data, in->len, &error));
  g_assert_cmpstr (mero_multistream_get_protocol (ms), ==, "/calimero/stream/hash/1");
}

static void
test_ms_responder_needs_header (void)
{
  g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (security, NULL);
  g_autoptr(GError) error = NULL;

  feed_hex (ms, NOISE, &error);
  g_assert_error (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_PROTOCOL);
}

static void
test_ms_responder_too_many_rounds (void)
{
  g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (security, NULL);
  g_autoptr(GByteArray) in = g_byte_array_new ();
  g_autoptr(GError) error = NULL;

  mero_multistream_encode_line (in, "/multistream/1.0.0");
  for (int i = 0; i < MERO_MULTISTREAM_MAX_ROUNDS; i++)
    mero_multistream_encode_line (in, "/nope");
  g_assert_false (mero_multistream_recv (ms, in->data, in->len, &error));
  g_assert_error (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_TOO_MANY_ROUNDS);
}

static void
test_ms_line_limits (void)
{
  g_autofree char *longest = g_strnfill (MERO_MULTISTREAM_MAX_LINE - 1, 'a');
  g_autofree char *too_long = g_strnfill (MERO_MULTISTREAM_MAX_LINE, 'a');
  g_autoptr(GByteArray) out = g_byte_array_new ();
  static const char *const malformed[] = {
    "808001",               /* three-byte varint */
    "8108",                 /* 1025 bytes announced */
    "01 0a",                /* empty line */
    "03 6e61 78",           /* no trailing newline */
    "04 6e0a61 0a",         /* newline inside */
    "03 ff61 0a",           /* not UTF-8 */
    "8100",                 /* non-minimal varint */
  };

  g_assert_true (mero_multistream_encode_line (out, longest));
  g_assert_cmpuint (out->len, ==, 2 + MERO_MULTISTREAM_MAX_LINE);
  g_assert_false (mero_multistream_encode_line (out, too_long));
  g_assert_false (mero_multistream_encode_line (out, ""));
  g_assert_false (mero_multistream_encode_line (out, "a\nb"));

  {
    /* The longest line is accepted, as an unsupported proposal. */
    g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (security, NULL);
    g_autoptr(GByteArray) in = g_byte_array_new ();
    g_autoptr(GError) error = NULL;

    mero_multistream_encode_line (in, "/multistream/1.0.0");
    mero_multistream_encode_line (in, longest);
    g_assert_true (mero_multistream_recv (ms, in->data, in->len, &error));
    g_assert_no_error (error);
    assert_pull (ms, HDR NA);
  }

  for (gsize i = 0; i < G_N_ELEMENTS (malformed); i++)
    {
      g_autoptr(MeroMultistream) ms = mero_multistream_new_responder (security, NULL);
      g_autoptr(GError) error = NULL;

      feed_hex (ms, HDR, &error);
      g_assert_no_error (error);
      feed_hex (ms, malformed[i], &error);
      if (error == NULL)
        g_error ("malformed line %s accepted", malformed[i]);
      g_assert_cmpint (mero_multistream_get_state (ms), ==, MERO_MULTISTREAM_STATE_FAILED);
    }
}

/* Runs both roles against each other, delivering @chunk bytes at a time;
 * the initiator sends application data only after agreement, and the
 * responder must find it as leftover or as later input. */
static void
loopback (gsize chunk)
{
  static const char *const offer[] = { "/tls/1.0.0", "/yamux/1.0.0", NULL };
  static const char *const accept[] = { "/yamux/1.0.0", "/noise", NULL };
  g_autoptr(MeroMultistream) ini = mero_multistream_new_initiator (offer);
  g_autoptr(MeroMultistream) resp = mero_multistream_new_responder (accept, NULL);
  g_autoptr(GByteArray) to_resp = g_byte_array_new ();
  g_autoptr(GByteArray) to_ini = g_byte_array_new ();
  g_autoptr(GByteArray) resp_app = g_byte_array_new ();
  gboolean app_sent = FALSE;

  for (int round = 0; round < 10000; round++)
    {
      g_autoptr(GBytes) a = NULL;
      g_autoptr(GBytes) b = NULL;
      gsize n;

      if (mero_multistream_get_state (ini) == MERO_MULTISTREAM_STATE_NEGOTIATING &&
          (a = mero_multistream_pull_send (ini)) != NULL)
        g_byte_array_append (to_resp, g_bytes_get_data (a, NULL), (guint) g_bytes_get_size (a));
      if ((b = mero_multistream_pull_send (resp)) != NULL)
        g_byte_array_append (to_ini, g_bytes_get_data (b, NULL), (guint) g_bytes_get_size (b));

      if (mero_multistream_get_state (ini) == MERO_MULTISTREAM_STATE_AGREED && !app_sent)
        {
          g_byte_array_append (to_resp, (const guint8 *) "APP", 3);
          app_sent = TRUE;
        }

      n = MIN (chunk, to_resp->len);
      if (n > 0)
        {
          if (mero_multistream_get_state (resp) == MERO_MULTISTREAM_STATE_NEGOTIATING)
            {
              g_assert_true (mero_multistream_recv (resp, to_resp->data, n, NULL));
              if (mero_multistream_get_state (resp) == MERO_MULTISTREAM_STATE_AGREED)
                {
                  g_autoptr(GBytes) left = mero_multistream_steal_leftover (resp);

                  g_byte_array_append (resp_app, g_bytes_get_data (left, NULL), (guint) g_bytes_get_size (left));
                }
            }
          else
            {
              g_byte_array_append (resp_app, to_resp->data, (guint) n);
            }
          g_byte_array_remove_range (to_resp, 0, (guint) n);
        }

      n = MIN (chunk, to_ini->len);
      if (n > 0 && mero_multistream_get_state (ini) == MERO_MULTISTREAM_STATE_NEGOTIATING)
        {
          g_assert_true (mero_multistream_recv (ini, to_ini->data, n, NULL));
          g_byte_array_remove_range (to_ini, 0, (guint) n);
        }

      if (resp_app->len == 3)
        break;
    }

  g_assert_cmpstr (mero_multistream_get_protocol (ini), ==, "/yamux/1.0.0");
  g_assert_cmpstr (mero_multistream_get_protocol (resp), ==, "/yamux/1.0.0");
  g_assert_cmpmem (resp_app->data, resp_app->len, "APP", 3);
}

static void
test_ms_loopback (void)
{
  for (gsize chunk = 1; chunk <= 64; chunk++)
    loopback (chunk);
  loopback (G_MAXSIZE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/multistream/encode-vectors", test_ms_encode_vectors);
  g_test_add_func ("/net/multistream/initiator/pipelined", test_ms_initiator_pipelined);
  g_test_add_func ("/net/multistream/initiator/fallback", test_ms_initiator_fallback);
  g_test_add_func ("/net/multistream/initiator/all-refused", test_ms_initiator_all_refused);
  g_test_add_func ("/net/multistream/initiator/no-header", test_ms_initiator_no_header);
  g_test_add_func ("/net/multistream/initiator/wrong-answer", test_ms_initiator_wrong_answer);
  g_test_add_func ("/net/multistream/responder/one-byte-at-a-time", test_ms_responder_one_byte_at_a_time);
  g_test_add_func ("/net/multistream/responder/na-ls", test_ms_responder_na_ls);
  g_test_add_func ("/net/multistream/responder/prefix", test_ms_responder_prefix);
  g_test_add_func ("/net/multistream/responder/needs-header", test_ms_responder_needs_header);
  g_test_add_func ("/net/multistream/responder/too-many-rounds", test_ms_responder_too_many_rounds);
  g_test_add_func ("/net/multistream/line-limits", test_ms_line_limits);
  g_test_add_func ("/net/multistream/loopback", test_ms_loopback);
  return g_test_run ();
}
