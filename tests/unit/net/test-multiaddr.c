/* Unit tests for the multiaddr codec, with the reference's vectors (§2.9). */
#include "net/core/mero-multiaddr.h"

#include "net-test-util.h"

#define PEER_ID "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM"
#define PEER_MH "0024080112200a621ca84d2c621eebbfc8b469c6e1f2d0c04853575dea10092cdf0022b5e26e"

typedef struct
{
  const char *text;
  const char *hex;
  const char *canonical; /* NULL: same as text */
} Vector;

static const Vector vectors[] = {
  { "/ip4/127.0.0.1/tcp/4001/p2p/" PEER_ID, "04 7f000001 06 0fa1 a503 26 " PEER_MH, NULL },
  { "/ip6/::1/tcp/4001", "29 00000000000000000000000000000001 06 0fa1", NULL },
  { "/ipfs/" PEER_ID, "a503 26 " PEER_MH, "/p2p/" PEER_ID },
  { "/ip4/1.2.3.4/udp/443", "04 01020304 9102 01bb", NULL },
  { "/dns4/example.com/tcp/443", "36 0b 6578616d706c652e636f6d 06 01bb", NULL },
  { "/dns6/a.b/tcp/0", "37 03 612e62 06 0000", NULL },
  { "/dns/x/udp/65535", "35 01 78 9102 ffff", NULL },
  { "/dnsaddr/bootstrap.libp2p.io", "38 13 626f6f7473747261702e6c69627032702e696f", NULL },
  { "/ip6/2001:db8::8a2e:370:7334/tcp/1", "29 20010db80000000000008a2e03707334 06 0001", NULL },
  { "/ip6/0:0::1/udp/1", "29 00000000000000000000000000000001 9102 0001", "/ip6/::1/udp/1" },
};

static void
test_multiaddr_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      const Vector *v = &vectors[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) want = net_test_hex (v->hex);
      g_autoptr(MeroMultiaddr) from_text = mero_multiaddr_new_from_string (v->text, &error);
      g_autoptr(MeroMultiaddr) from_bin = NULL;
      g_autofree char *text = NULL;
      g_autofree char *text2 = NULL;

      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (mero_multiaddr_get_bytes (from_text), want));

      from_bin = mero_multiaddr_new_from_bytes (g_bytes_get_data (want, NULL), g_bytes_get_size (want), &error);
      g_assert_no_error (error);
      text = mero_multiaddr_to_string (from_bin);
      text2 = mero_multiaddr_to_string (from_text);
      g_assert_cmpstr (text, ==, v->canonical != NULL ? v->canonical : v->text);
      g_assert_cmpstr (text2, ==, text);
    }
}

static void
test_multiaddr_components (void)
{
  g_autoptr(MeroMultiaddr) ma = mero_multiaddr_new_from_string ("/ip4/127.0.0.1/tcp/4001/p2p/" PEER_ID, NULL);
  const guint8 *value = NULL;
  gsize len = 0;

  g_assert_nonnull (ma);
  g_assert_cmpuint (mero_multiaddr_get_n_components (ma), ==, 3);
  g_assert_cmpint (mero_multiaddr_get_component (ma, 0, &value, &len), ==, MERO_MULTIADDR_PROTO_IP4);
  net_test_assert_bytes (value, len, "7f000001");
  g_assert_cmpint (mero_multiaddr_get_component (ma, 1, &value, &len), ==, MERO_MULTIADDR_PROTO_TCP);
  net_test_assert_bytes (value, len, "0fa1");
  g_assert_cmpint (mero_multiaddr_get_component (ma, 2, &value, &len), ==, MERO_MULTIADDR_PROTO_P2P);
  net_test_assert_bytes (value, len, PEER_MH);
}

typedef struct
{
  const char *input;
  int code;
} BadText;

static void
test_multiaddr_bad_text (void)
{
  static const BadText bad[] = {
    { "", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/", MERO_MULTIADDR_ERROR_SYNTAX },
    { "ip4/1.2.3.4", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/ip4", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/ip4/", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/ip4/1.2.3.4/", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/ip4/1.2.3.4//tcp/1", MERO_MULTIADDR_ERROR_SYNTAX },
    { "/ip4/1.2.3", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/ip4/256.1.1.1", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/ip4/01.2.3.4", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/ip4/::1", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/ip6/1.2.3.4", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/ip6/::1%eth0", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/tcp/65536", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/tcp/-1", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/tcp/080", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/tcp/80x", MERO_MULTIADDR_ERROR_BAD_VALUE },
    { "/quic/1", MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL },
    { "/ip4/1.2.3.4/tcp/1/garbage", MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL },
    { "/p2p/0OIl", MERO_MULTIADDR_ERROR_BAD_VALUE },
    /* Valid base58, but not a multihash. */
    { "/p2p/3mJr7AoUXx2Wqd", MERO_MULTIADDR_ERROR_BAD_VALUE },
    /* sha2-256 code with a 3-byte digest: 12 03 010203. */
    { "/p2p/32s2F3p", MERO_MULTIADDR_ERROR_BAD_VALUE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MeroMultiaddr) ma = mero_multiaddr_new_from_string (bad[i].input, &error);

      if (ma != NULL || !g_error_matches (error, MERO_MULTIADDR_ERROR, bad[i].code))
        g_error ("“%s”: expected error %d, got %s", bad[i].input, bad[i].code,
                 error != NULL ? error->message : "success");
    }
}

static void
test_multiaddr_long_text (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) text = g_string_new (NULL);
  g_autoptr(MeroMultiaddr) ma = NULL;
  g_autofree char *long_name = g_strnfill (MERO_MULTIADDR_MAX_DNS_NAME + 1, 'a');

  for (int i = 0; i <= MERO_MULTIADDR_MAX_COMPONENTS; i++)
    g_string_append (text, "/tcp/1");
  ma = mero_multiaddr_new_from_string (text->str, &error);
  g_assert_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE);
  g_clear_error (&error);

  g_string_printf (text, "/dns/%s", long_name);
  ma = mero_multiaddr_new_from_string (text->str, &error);
  g_assert_null (ma);
  g_assert_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE);
}

typedef struct
{
  const char *hex;
  int code;
} BadBinary;

static void
test_multiaddr_bad_binary (void)
{
  static const BadBinary bad[] = {
    { "", MERO_MULTIADDR_ERROR_SYNTAX },
    /* Trailing garbage after a valid address. */
    { "04 7f000001 06 0fa1 04", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "04 7f000001 06 0fa1 00", MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL },
    { "04 7f0000", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "06 0f", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "29 0000", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "9901", MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL },
    { "80", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "8400 7f000001", MERO_MULTIADDR_ERROR_BAD_VALUE },   /* non-minimal code varint */
    { "a503 26 0024", MERO_MULTIADDR_ERROR_TRUNCATED },    /* p2p length past the end */
    { "a503", MERO_MULTIADDR_ERROR_TRUNCATED },
    { "a503 03 120101", MERO_MULTIADDR_ERROR_BAD_VALUE },  /* sha2-256, 1-byte digest */
    { "a503 03 000201", MERO_MULTIADDR_ERROR_BAD_VALUE },  /* digest length mismatch */
    { "a503 02 5000", MERO_MULTIADDR_ERROR_BAD_VALUE },    /* not a PeerId hash */
    { "36 00", MERO_MULTIADDR_ERROR_BAD_VALUE },           /* empty name */
    { "36 03 612f62", MERO_MULTIADDR_ERROR_BAD_VALUE },    /* '/' in a name */
    { "36 02 ff61", MERO_MULTIADDR_ERROR_BAD_VALUE },      /* not UTF-8 */
    { "36 02 0061", MERO_MULTIADDR_ERROR_BAD_VALUE },      /* NUL */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GBytes) bytes = net_test_hex (bad[i].hex);
      g_autoptr(MeroMultiaddr) ma = mero_multiaddr_new_from_bytes (g_bytes_get_data (bytes, NULL),
                                                                   g_bytes_get_size (bytes), &error);

      if (ma != NULL || !g_error_matches (error, MERO_MULTIADDR_ERROR, bad[i].code))
        g_error ("%s: expected error %d, got %s", bad[i].hex, bad[i].code,
                 error != NULL ? error->message : "success");
    }
}

static void
test_multiaddr_sha256_peer (void)
{
  /* An RSA-style PeerId (sha2-256 multihash, "Qm..." in base58). */
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bin = net_test_hex ("a503 22 1220 "
                                        "0000000000000000000000000000000000000000000000000000000000000000");
  g_autoptr(MeroMultiaddr) ma = mero_multiaddr_new_from_bytes (g_bytes_get_data (bin, NULL),
                                                               g_bytes_get_size (bin), &error);
  g_autofree char *text = NULL;
  g_autoptr(MeroMultiaddr) back = NULL;

  g_assert_no_error (error);
  text = mero_multiaddr_to_string (ma);
  g_assert_true (g_str_has_prefix (text, "/p2p/Qm"));
  back = mero_multiaddr_new_from_string (text, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (mero_multiaddr_get_bytes (back), bin));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/multiaddr/vectors", test_multiaddr_vectors);
  g_test_add_func ("/net/multiaddr/components", test_multiaddr_components);
  g_test_add_func ("/net/multiaddr/bad-text", test_multiaddr_bad_text);
  g_test_add_func ("/net/multiaddr/long-text", test_multiaddr_long_text);
  g_test_add_func ("/net/multiaddr/bad-binary", test_multiaddr_bad_binary);
  g_test_add_func ("/net/multiaddr/sha256-peer", test_multiaddr_sha256_peer);
  return g_test_run ();
}
