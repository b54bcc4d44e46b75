/* test-tls.c: the libp2p TLS certificate (our DER reader, verification)
 * and in-memory TLS 1.3 handshakes between two C sessions. */
#include <glib.h>
#include <string.h>

#include "net/core/mero-tls-der.h"
#include "net/core/mero-tls.h"
#include "tls-test-peer.h"

static const char *const yamux_muxers[] = { "/yamux/1.0.0", NULL };

static GBytes *
cert_of (TlsTestIdentity *id, MeroTlsCertFlags flags)
{
  g_autoptr(MeroTlsCredentials) creds = tls_test_credentials (id, flags, TLS_TEST_NOW_UNIX);

  return mero_tls_credentials_get_certificate (creds);
}

static void
test_der_reader (void)
{
  static const guint8 short_form[] = { 0x04, 0x02, 0xaa, 0xbb };
  static const guint8 long_form[] = { 0x04, 0x81, 0x80 };
  static const guint8 non_minimal[] = { 0x04, 0x81, 0x05, 1, 2, 3, 4, 5 };
  static const guint8 leading_zero[] = { 0x04, 0x82, 0x00, 0x90 };
  static const guint8 indefinite[] = { 0x30, 0x80, 0x00, 0x00 };
  static const guint8 high_tag[] = { 0x1f, 0x01, 0x00 };
  static const guint8 overrun[] = { 0x04, 0x05, 0x01 };
  MeroDerReader r;
  MeroDerItem item;
  guint8 big[3 + 0x80] = { 0x04, 0x81, 0x80 };

  mero_der_reader_init (&r, short_form, sizeof short_form);
  g_assert_true (mero_der_expect (&r, MERO_DER_TAG_OCTET_STRING, &item));
  g_assert_cmpuint (item.len, ==, 2);
  g_assert_cmpuint (item.value[1], ==, 0xbb);
  g_assert_cmpuint (item.raw_len, ==, 4);
  g_assert_true (mero_der_at_end (&r));
  g_assert_false (mero_der_next (&r, &item));

  mero_der_reader_init (&r, big, sizeof big);
  g_assert_true (mero_der_next (&r, &item));
  g_assert_cmpuint (item.len, ==, 0x80);
  /* The same header without its 128 bytes overruns. */
  mero_der_reader_init (&r, long_form, sizeof long_form);
  g_assert_false (mero_der_next (&r, &item));

  mero_der_reader_init (&r, non_minimal, sizeof non_minimal);
  g_assert_false (mero_der_next (&r, &item));
  mero_der_reader_init (&r, leading_zero, sizeof leading_zero);
  g_assert_false (mero_der_next (&r, &item));
  mero_der_reader_init (&r, indefinite, sizeof indefinite);
  g_assert_false (mero_der_next (&r, &item));
  mero_der_reader_init (&r, high_tag, sizeof high_tag);
  g_assert_false (mero_der_next (&r, &item));
  mero_der_reader_init (&r, overrun, sizeof overrun);
  g_assert_false (mero_der_next (&r, &item));
}

static void
test_cert_good (void)
{
  TlsTestIdentity id;
  g_autoptr(GBytes) cert = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroPeerId) peer = NULL;
  MeroTlsCertParts parts;
  gsize len;
  const guint8 *der;

  tls_test_identity_init (&id, 0x01);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_NONE);
  der = g_bytes_get_data (cert, &len);

  g_assert_true (mero_tls_cert_parse (der, len, &parts, &error));
  g_assert_no_error (error);
  /* js reads extensions[0] only. */
  g_assert_cmpuint (parts.extension_index, ==, 0);
  g_assert_cmpmem (parts.host_key, parts.host_key_len, id.key_pb, sizeof id.key_pb);
  g_assert_cmpuint (parts.host_signature_len, ==, 64);
  g_assert_true (parts.spki > der && parts.spki + parts.spki_len <= der + len);

  peer = mero_tls_cert_verify (der, len, TLS_TEST_NOW_UNIX, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (peer, id.peer_id));
  g_clear_pointer (&peer, mero_peer_id_free);
  /* The dialed peer, and the edges of the validity period. */
  peer = mero_tls_cert_verify (der, len, TLS_TEST_NOW_UNIX - MERO_TLS_CERT_BACKDATE_SECS,
                               id.peer_id, &error);
  g_assert_no_error (error);
  g_clear_pointer (&peer, mero_peer_id_free);
  peer = mero_tls_cert_verify (der, len, TLS_TEST_NOW_UNIX + MERO_TLS_CERT_LIFETIME_SECS,
                               id.peer_id, &error);
  g_assert_no_error (error);
  g_assert_nonnull (peer);
  tls_test_identity_clear (&id);
}

static void
assert_refused (GBytes *cert, gint64 now, const MeroPeerId *expected, MeroTlsError code,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *der = g_bytes_get_data (cert, &len);
  MeroPeerId *peer = mero_tls_cert_verify (der, len, now, expected, &error);

  g_assert_null (peer);
  g_assert_error (error, MERO_TLS_ERROR, (gint) code);
  g_assert_nonnull (strstr (error->message, message_part));
}

static void
test_cert_wrong_signature (void)
{
  TlsTestIdentity id;
  g_autoptr(GBytes) cert = NULL;

  tls_test_identity_init (&id, 0x02);
  id.corrupt_signature = TRUE;
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_NONE);
  assert_refused (cert, TLS_TEST_NOW_UNIX, NULL, MERO_TLS_ERROR_BAD_SIGNATURE, "signature");
  tls_test_identity_clear (&id);
}

static void
test_cert_peer_mismatch (void)
{
  TlsTestIdentity id, other;
  g_autoptr(GBytes) cert = NULL;

  tls_test_identity_init (&id, 0x03);
  tls_test_identity_init (&other, 0x04);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_NONE);
  assert_refused (cert, TLS_TEST_NOW_UNIX, other.peer_id, MERO_TLS_ERROR_PEER_MISMATCH,
                  "not the");
  tls_test_identity_clear (&id);
  tls_test_identity_clear (&other);
}

static void
test_cert_missing_extension (void)
{
  TlsTestIdentity id;
  g_autoptr(GBytes) cert = NULL;

  tls_test_identity_init (&id, 0x05);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_OMIT_EXTENSION);
  assert_refused (cert, TLS_TEST_NOW_UNIX, NULL, MERO_TLS_ERROR_NO_EXTENSION,
                  "libp2p public key extension");
  g_clear_pointer (&cert, g_bytes_unref);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_UNKNOWN_CRITICAL);
  assert_refused (cert, TLS_TEST_NOW_UNIX, NULL, MERO_TLS_ERROR_UNKNOWN_CRITICAL, "critical");
  tls_test_identity_clear (&id);
}

static void
test_cert_validity (void)
{
  TlsTestIdentity id;
  g_autoptr(GBytes) cert = NULL;

  tls_test_identity_init (&id, 0x06);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_NONE);
  assert_refused (cert, TLS_TEST_NOW_UNIX - MERO_TLS_CERT_BACKDATE_SECS - 1, NULL,
                  MERO_TLS_ERROR_NOT_VALID_NOW, "not valid now");
  assert_refused (cert, TLS_TEST_NOW_UNIX + MERO_TLS_CERT_LIFETIME_SECS + 1, NULL,
                  MERO_TLS_ERROR_NOT_VALID_NOW, "not valid now");
  tls_test_identity_clear (&id);
}

/* Made by js-libp2p (@libp2p/tls 2.2.7 generateCertificate) for the
 * Ed25519 identity with seed 32 x 0x01 at Unix time 1795621055
 * (tests/interop/gen-tls-cert.mjs): ECDSA P-256, empty names, the libp2p
 * extension critical and first. */
static const char js_cert_hex[] =
  "308201773082011da00302010202082308845332355511300a06082a8648ce3d"
  "04030230003020170d3236313132353134333733355a180f3231323631313031"
  "3135333733355a30003059301306072a8648ce3d020106082a8648ce3d030107"
  "0342000440dcd638fe528dc3945a044e2e2a0351396eb96a098a59099b8093f2"
  "d6d6fd32bf44a7d12f25e51b0f29c17c9da17da60d3ba003fae18b46911341a9"
  "0fe43a16a37f307d307b060a2b0601040183a25a01010101ff046a3068042408"
  "0112208a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b4"
  "0f6f5c04404e8ee0d82ace8f16d482d747036014b4f032b44d535b6888218d14"
  "a91e4edaeb75eccf32b6ebb87172db87cbd30f73977f08c84e10b8d49bb34228"
  "b10a2afb0a300a06082a8648ce3d04030203480030450220476a6f0e8c5463e5"
  "223e14c4d8fff2a13866a753948b4fb8263d6588bb25b899022100df922c5c68"
  "8577bf3820724f9d3c635d529b2073648d267c9fc86c1bc93755f9";
#define JS_CERT_NOW G_GINT64_CONSTANT (1795621055)
#define JS_CERT_PEER "12D3KooWK99VoVxNE7XzyBwXEzW7xhK7Gpv85r9F3V3fyKSUKPH5"

static GBytes *
hex_bytes (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *buf = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    buf[i] = (guint8) ((g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (buf, n);
}

static void
test_cert_js (void)
{
  g_autoptr(GBytes) cert = hex_bytes (js_cert_hex);
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroPeerId) want = mero_peer_id_parse (JS_CERT_PEER, &error);
  g_autoptr(MeroPeerId) peer = NULL;
  TlsTestIdentity id, other;
  gsize len;
  const guint8 *der = g_bytes_get_data (cert, &len);

  g_assert_no_error (error);
  peer = mero_tls_cert_verify (der, len, JS_CERT_NOW, want, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (peer, want));
  /* The same identity as our test seed 0x01. */
  tls_test_identity_init (&id, 0x01);
  g_assert_true (mero_peer_id_equal (peer, id.peer_id));
  tls_test_identity_init (&other, 0x02);
  assert_refused (cert, JS_CERT_NOW, other.peer_id, MERO_TLS_ERROR_PEER_MISMATCH, "not the");
  /* js backdates by an hour. */
  assert_refused (cert, JS_CERT_NOW - 2 * 60 * 60, NULL, MERO_TLS_ERROR_NOT_VALID_NOW, "valid");
  tls_test_identity_clear (&id);
  tls_test_identity_clear (&other);
}

/* Every truncation and every single-byte change of a good certificate is
 * refused (or, for a change GnuTLS and DER both tolerate, at least never
 * accepted with another identity), and garbage never crashes. */
static void
test_cert_garbage (void)
{
  TlsTestIdentity id;
  g_autoptr(GBytes) cert = NULL;
  g_autofree guint8 *copy = NULL;
  GRand *rand = g_rand_new_with_seed (42);
  gsize len;
  const guint8 *der;

  tls_test_identity_init (&id, 0x07);
  cert = cert_of (&id, MERO_TLS_CERT_FLAGS_NONE);
  der = g_bytes_get_data (cert, &len);
  copy = g_memdup2 (der, len);
  for (gsize cut = 0; cut < len; cut++)
    {
      g_autoptr(GError) error = NULL;

      g_assert_null (mero_tls_cert_verify (der, cut, TLS_TEST_NOW_UNIX, NULL, &error));
      g_assert_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_MALFORMED_CERTIFICATE);
    }
  for (gsize i = 0; i < len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MeroPeerId) peer = NULL;

      copy[i] ^= 0x01;
      peer = mero_tls_cert_verify (copy, len, TLS_TEST_NOW_UNIX, NULL, &error);
      /* Flips inside the validity dates can still give a valid date: the
       * self-signature catches them.  Nothing modified is ever accepted. */
      g_assert_null (peer);
      g_assert_nonnull (error);
      copy[i] ^= 0x01;
    }
  for (guint round = 0; round < 200; round++)
    {
      guint8 junk[512];
      g_autoptr(GError) error = NULL;

      for (guint i = 0; i < sizeof junk; i++)
        junk[i] = (guint8) g_rand_int (rand);
      junk[0] = 0x30; /* a sequence, to get past the first check */
      g_assert_null (mero_tls_cert_verify (junk, 1 + g_rand_int_range (rand, 0, sizeof junk - 1),
                                           TLS_TEST_NOW_UNIX, NULL, &error));
      g_assert_nonnull (error);
    }
  g_rand_free (rand);
  tls_test_identity_clear (&id);
}

/* --- handshakes --- */

typedef struct
{
  TlsTestIdentity id;
  MeroTlsCredentials *creds;
  MeroTls *tls;
  GByteArray *plain;
  GError *error;
} Side;

static void
side_init (Side *s, guint8 identity_byte, MeroTlsCertFlags flags, gboolean corrupt)
{
  memset (s, 0, sizeof *s);
  tls_test_identity_init (&s->id, identity_byte);
  s->id.corrupt_signature = corrupt;
  s->creds = tls_test_credentials (&s->id, flags, TLS_TEST_NOW_UNIX);
  s->plain = g_byte_array_new ();
}

static void
side_start (Side *s, MeroTlsRole role, const MeroPeerId *expected, const char *const *muxers)
{
  MeroTlsConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  config.credentials = s->creds;
  config.expected_peer = expected;
  config.alpn_muxers = muxers;
  config.now_unix = TLS_TEST_NOW_UNIX;
  s->tls = mero_tls_new (role, &config, &error);
  g_assert_no_error (error);
}

static void
side_clear (Side *s)
{
  g_clear_pointer (&s->tls, mero_tls_free);
  g_clear_pointer (&s->creds, mero_tls_credentials_unref);
  g_clear_pointer (&s->plain, g_byte_array_unref);
  g_clear_error (&s->error);
  tls_test_identity_clear (&s->id);
}

/* Delivers @from's output to @to, @step bytes per call (0: all at once).
 * TRUE if anything moved. */
static gboolean
deliver (Side *from, Side *to, gsize step)
{
  g_autoptr(GBytes) out = mero_tls_pull_send (from->tls);
  gsize len, off = 0;
  const guint8 *data;

  if (out == NULL)
    return FALSE;
  data = g_bytes_get_data (out, &len);
  while (off < len && to->error == NULL)
    {
      gsize n = step == 0 ? len : MIN (step, len - off);

      mero_tls_recv (to->tls, data + off, n, to->plain, &to->error);
      off += n;
    }
  return TRUE;
}

static void
pump (Side *a, Side *b, gsize step)
{
  for (guint round = 0; round < 32; round++)
    {
      gboolean moved = deliver (a, b, step);

      moved |= deliver (b, a, step);
      if (!moved)
        return;
    }
  g_assert_not_reached ();
}

static void
handshake_ok (gsize step, const char *const *client_muxers, const char *const *server_muxers,
              const char *want_alpn)
{
  Side c, s;
  g_autoptr(GByteArray) big = g_byte_array_new ();

  side_init (&c, 0x11, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_init (&s, 0x12, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_start (&c, MERO_TLS_ROLE_CLIENT, s.id.peer_id, client_muxers);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, server_muxers);
  g_assert_true (mero_tls_wants_send (c.tls));
  g_assert_false (mero_tls_wants_send (s.tls));
  pump (&c, &s, step);
  g_assert_no_error (c.error);
  g_assert_no_error (s.error);
  g_assert_cmpint (mero_tls_get_state (c.tls), ==, MERO_TLS_STATE_ESTABLISHED);
  g_assert_cmpint (mero_tls_get_state (s.tls), ==, MERO_TLS_STATE_ESTABLISHED);
  g_assert_true (mero_peer_id_equal (mero_tls_get_remote_peer (c.tls), s.id.peer_id));
  g_assert_true (mero_peer_id_equal (mero_tls_get_remote_peer (s.tls), c.id.peer_id));
  g_assert_cmpstr (mero_tls_get_alpn (c.tls), ==, want_alpn);
  g_assert_cmpstr (mero_tls_get_alpn (s.tls), ==, want_alpn);

  /* Data both ways; 100 KB spans several records. */
  for (guint i = 0; i < 100000; i++)
    {
      guint8 b = (guint8) (i * 7);

      g_byte_array_append (big, &b, 1);
    }
  g_assert_true (mero_tls_write (c.tls, big->data, big->len, NULL));
  g_assert_true (mero_tls_write (s.tls, (const guint8 *) "pong", 4, NULL));
  pump (&c, &s, step);
  g_assert_no_error (c.error);
  g_assert_no_error (s.error);
  g_assert_cmpmem (s.plain->data, s.plain->len, big->data, big->len);
  g_assert_cmpmem (c.plain->data, c.plain->len, "pong", 4);
  side_clear (&c);
  side_clear (&s);
}

static void
test_handshake (void)
{
  /* Both offer yamux: it is agreed in ALPN (js's early negotiation). */
  handshake_ok (0, yamux_muxers, yamux_muxers, "/yamux/1.0.0");
  /* Either side without it: "libp2p", muxer via multistream-select. */
  handshake_ok (0, NULL, yamux_muxers, "libp2p");
  handshake_ok (0, yamux_muxers, NULL, "libp2p");
}

static void
test_handshake_split (void)
{
  handshake_ok (1, yamux_muxers, yamux_muxers, "/yamux/1.0.0");
  handshake_ok (7, NULL, NULL, "libp2p");
}

/* The client's certificate carries a bad signature: the server refuses it
 * with that reason, and the client learns of it from the alert. */
static void
test_handshake_bad_client_signature (void)
{
  Side c, s;

  side_init (&c, 0x21, MERO_TLS_CERT_FLAGS_NONE, TRUE);
  side_init (&s, 0x22, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_start (&c, MERO_TLS_ROLE_CLIENT, s.id.peer_id, NULL);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, NULL);
  pump (&c, &s, 0);
  g_assert_error (s.error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SIGNATURE);
  g_assert_cmpint (mero_tls_get_state (s.tls), ==, MERO_TLS_STATE_FAILED);
  g_assert_null (mero_tls_get_remote_peer (s.tls));
  g_assert_error (c.error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE);
  g_assert_nonnull (strstr (c.error->message, "alert"));
  /* Failure is final. */
  g_clear_error (&s.error);
  g_assert_false (mero_tls_recv (s.tls, (const guint8 *) "x", 1, s.plain, &s.error));
  g_assert_error (s.error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SIGNATURE);
  g_assert_false (mero_tls_write (s.tls, (const guint8 *) "x", 1, NULL));
  side_clear (&c);
  side_clear (&s);
}

/* The server is not who the client dialed: the client aborts. */
static void
test_handshake_peer_mismatch (void)
{
  Side c, s;
  TlsTestIdentity other;

  tls_test_identity_init (&other, 0x33);
  side_init (&c, 0x31, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_init (&s, 0x32, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_start (&c, MERO_TLS_ROLE_CLIENT, other.peer_id, NULL);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, NULL);
  pump (&c, &s, 0);
  g_assert_error (c.error, MERO_TLS_ERROR, MERO_TLS_ERROR_PEER_MISMATCH);
  g_assert_cmpint (mero_tls_get_state (c.tls), ==, MERO_TLS_STATE_FAILED);
  g_assert_cmpint (mero_tls_get_state (s.tls), !=, MERO_TLS_STATE_ESTABLISHED);
  side_clear (&c);
  side_clear (&s);
  tls_test_identity_clear (&other);
}

/* A server without the extension in its certificate. */
static void
test_handshake_missing_extension (void)
{
  Side c, s;

  side_init (&c, 0x41, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_init (&s, 0x42, MERO_TLS_CERT_FLAGS_OMIT_EXTENSION, FALSE);
  side_start (&c, MERO_TLS_ROLE_CLIENT, NULL, NULL);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, NULL);
  pump (&c, &s, 0);
  g_assert_error (c.error, MERO_TLS_ERROR, MERO_TLS_ERROR_NO_EXTENSION);
  side_clear (&c);
  side_clear (&s);
}

static void
test_handshake_garbage (void)
{
  Side s, c;
  static const guint8 junk[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  g_autoptr(GBytes) alert = NULL;

  side_init (&s, 0x51, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, NULL);
  g_assert_false (mero_tls_recv (s.tls, junk, sizeof junk - 1, s.plain, &s.error));
  g_assert_error (s.error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE);
  g_assert_cmpint (mero_tls_get_state (s.tls), ==, MERO_TLS_STATE_FAILED);

  /* Garbage records after an established handshake end the session. */
  side_clear (&s);
  side_init (&c, 0x52, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_init (&s, 0x53, MERO_TLS_CERT_FLAGS_NONE, FALSE);
  side_start (&c, MERO_TLS_ROLE_CLIENT, NULL, NULL);
  side_start (&s, MERO_TLS_ROLE_SERVER, NULL, NULL);
  pump (&c, &s, 0);
  g_assert_cmpint (mero_tls_get_state (s.tls), ==, MERO_TLS_STATE_ESTABLISHED);
  {
    /* An application-data record whose ciphertext is random. */
    guint8 record[5 + 64] = { 0x17, 0x03, 0x03, 0x00, 64 };

    memset (record + 5, 0xa5, 64);
    g_assert_false (mero_tls_recv (s.tls, record, sizeof record, s.plain, &s.error));
    g_assert_error (s.error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE);
    g_assert_cmpuint (s.plain->len, ==, 0);
  }
  side_clear (&c);
  side_clear (&s);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/tls/der-reader", test_der_reader);
  g_test_add_func ("/net/tls/cert/good", test_cert_good);
  g_test_add_func ("/net/tls/cert/wrong-signature", test_cert_wrong_signature);
  g_test_add_func ("/net/tls/cert/peer-mismatch", test_cert_peer_mismatch);
  g_test_add_func ("/net/tls/cert/missing-extension", test_cert_missing_extension);
  g_test_add_func ("/net/tls/cert/validity", test_cert_validity);
  g_test_add_func ("/net/tls/cert/js", test_cert_js);
  g_test_add_func ("/net/tls/cert/garbage", test_cert_garbage);
  g_test_add_func ("/net/tls/handshake", test_handshake);
  g_test_add_func ("/net/tls/handshake/split", test_handshake_split);
  g_test_add_func ("/net/tls/handshake/bad-client-signature", test_handshake_bad_client_signature);
  g_test_add_func ("/net/tls/handshake/peer-mismatch", test_handshake_peer_mismatch);
  g_test_add_func ("/net/tls/handshake/missing-extension", test_handshake_missing_extension);
  g_test_add_func ("/net/tls/handshake/garbage", test_handshake_garbage);
  return g_test_run ();
}
