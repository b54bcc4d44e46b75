/* Unit tests for the identify codec: a message encoded by js-libp2p's
 * own Identify codec (@libp2p/identify 3.0.39), round trips, bounds,
 * the peer check and push merging. */
#include "net/core/mero-identify.h"

#include "net-test-util.h"

/* js Identify.encode of: protocolVersion "ipfs/0.1.0", agentVersion
 * "js-peer/0.1.0 js-libp2p/2.8.8 node/20.20.2", publicKey of the
 * reference's demo-a key, listenAddrs /ip4/127.0.0.1/tcp/4001 and
 * /ip6/::1/tcp/1234, observedAddr /ip4/127.0.0.1/tcp/50000, protocols
 * /ipfs/id/1.0.0 /ipfs/id/push/1.0.0 /ipfs/ping/1.0.0. */
#define JS_IDENTIFY \
  "2a0a697066732f302e312e30322a6a732d706565722f302e312e30206a732d6c69627032702f322e382e38206e6f" \
  "64652f32302e32302e320a24080112200a621ca84d2c621eebbfc8b469c6e1f2d0c04853575dea10092cdf0022b5" \
  "e26e1208047f000001060fa1121429000000000000000000000000000000010604d22208047f00000106c3501a0e" \
  "2f697066732f69642f312e302e301a132f697066732f69642f707573682f312e302e301a102f697066732f70696e" \
  "672f312e302e30"
#define DEMO_A_PEER "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM"

static MeroIdentifyInfo *
decode_hex (const char *hex, GError **error)
{
  g_autoptr(GBytes) b = net_test_hex (hex);

  return mero_identify_info_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), error);
}

static char *
addr_text (MeroIdentifyInfo *info, guint i)
{
  return mero_multiaddr_to_string (g_ptr_array_index (info->listen_addrs, i));
}

static void
test_decode_js (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroIdentifyInfo) info = decode_hex (JS_IDENTIFY, &error);
  g_autoptr(MeroPeerId) peer = mero_peer_id_parse (DEMO_A_PEER, NULL);
  g_autoptr(MeroPeerId) other = NULL;
  g_autofree char *a0 = NULL;
  g_autofree char *a1 = NULL;
  g_autofree char *observed = NULL;
  guint8 pk[32] = { 9 };
  const char *const protocols[] = { "/ipfs/id/1.0.0", "/ipfs/id/push/1.0.0", "/ipfs/ping/1.0.0",
                                    NULL };

  g_assert_no_error (error);
  g_assert_cmpstr (info->protocol_version, ==, "ipfs/0.1.0");
  g_assert_cmpstr (info->agent_version, ==, "js-peer/0.1.0 js-libp2p/2.8.8 node/20.20.2");
  g_assert_cmpuint (info->listen_addrs->len, ==, 2);
  a0 = addr_text (info, 0);
  a1 = addr_text (info, 1);
  g_assert_cmpstr (a0, ==, "/ip4/127.0.0.1/tcp/4001");
  g_assert_cmpstr (a1, ==, "/ip6/::1/tcp/1234");
  observed = mero_multiaddr_to_string (info->observed_addr);
  g_assert_cmpstr (observed, ==, "/ip4/127.0.0.1/tcp/50000");
  g_assert_cmpstrv (info->protocols, protocols);
  g_assert_true (mero_identify_info_verify_peer (info, peer, &error));
  g_assert_no_error (error);
  other = mero_peer_id_new_from_ed25519 (pk);
  g_assert_false (mero_identify_info_verify_peer (info, other, &error));
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_PEER_MISMATCH);
}

static void
test_roundtrip (void)
{
  g_autoptr(MeroIdentifyInfo) info = mero_identify_info_new ();
  g_autoptr(MeroIdentifyInfo) back = NULL;
  g_autoptr(GBytes) enc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a0 = NULL;
  const char *const protocols[] = { "/ipfs/id/1.0.0", "/ipfs/ping/1.0.0", NULL };

  info->public_key = net_test_hex ("080112200a621ca84d2c621eebbfc8b469c6e1f2d0c04853575dea10092cdf0022b5e26e");
  g_ptr_array_add (info->listen_addrs, mero_multiaddr_new_from_string ("/ip4/127.0.0.1/tcp/2428", NULL));
  g_strfreev (info->protocols);
  info->protocols = g_strdupv ((GStrv) protocols);
  info->agent_version = g_strdup ("merod/0.1.0");
  info->protocol_version = g_strdup ("ipfs/0.1.0");
  enc = mero_identify_info_encode (info);
  back = mero_identify_info_decode (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back->public_key, info->public_key));
  g_assert_cmpstrv (back->protocols, protocols);
  a0 = addr_text (back, 0);
  g_assert_cmpstr (a0, ==, "/ip4/127.0.0.1/tcp/2428");
  g_assert_null (back->observed_addr);
  g_assert_cmpstr (back->agent_version, ==, "merod/0.1.0");
}

static void
test_bounds (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) big = g_byte_array_new ();
  g_autoptr(GByteArray) many = g_byte_array_new ();
  g_autoptr(GByteArray) longver = g_byte_array_new ();
  MeroIdentifyInfo *info;

  /* Larger than js's 8192-byte limit. */
  g_byte_array_set_size (big, MERO_IDENTIFY_MAX_MESSAGE + 1);
  memset (big->data, 0, big->len);
  g_assert_null (mero_identify_info_decode (big->data, big->len, &error));
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* Too many protocols. */
  for (guint i = 0; i <= MERO_IDENTIFY_MAX_PROTOCOLS; i++)
    g_byte_array_append (many, (const guint8 *) "\x1a\x02/a", 4);
  g_assert_null (mero_identify_info_decode (many->data, many->len, &error));
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* An agentVersion beyond the bound. */
  g_byte_array_append (longver, (const guint8 *) "\x32\x81\x02", 3);
  for (guint i = 0; i < 257; i++)
    g_byte_array_append (longver, (const guint8 *) "x", 1);
  g_assert_null (mero_identify_info_decode (longver->data, longver->len, &error));
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE);
  g_clear_error (&error);

  /* A protocol with a newline cannot be a protocol id. */
  info = decode_hex ("1a 03 2f610a", &error);
  g_assert_null (info);
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Garbage. */
  g_assert_null (decode_hex ("ff ff ff", &error));
  g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_MALFORMED);
  g_clear_error (&error);

  /* Unknown listen addresses are skipped, not fatal; an empty message
   * is valid (a push that changes nothing) but has no key. */
  info = decode_hex ("12 03 ffffff 12 08 047f000001060fa1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (info->listen_addrs->len, ==, 1);
  g_assert_cmpuint (info->n_skipped_addrs, ==, 1);
  mero_identify_info_free (info);
  info = mero_identify_info_decode ((const guint8 *) "", 0, &error);
  g_assert_no_error (error);
  {
    g_autoptr(MeroPeerId) peer = mero_peer_id_parse (DEMO_A_PEER, NULL);

    g_assert_false (mero_identify_info_verify_peer (info, peer, &error));
    g_assert_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_NO_PUBLIC_KEY);
  }
  mero_identify_info_free (info);
  mero_identify_info_free (NULL);
}

static void
test_push_merge (void)
{
  g_autoptr(MeroIdentifyInfo) base = decode_hex (JS_IDENTIFY, NULL);
  g_autoptr(MeroIdentifyInfo) push = mero_identify_info_new ();
  g_autofree char *a0 = NULL;
  const char *const protocols[] = { "/meshsub/1.1.0", NULL };

  /* A push with only protocols leaves everything else alone. */
  g_strfreev (push->protocols);
  push->protocols = g_strdupv ((GStrv) protocols);
  mero_identify_info_merge_push (base, push);
  g_assert_cmpstrv (base->protocols, protocols);
  g_assert_cmpuint (base->listen_addrs->len, ==, 2);
  g_assert_nonnull (base->public_key);
  g_assert_cmpstr (base->agent_version, ==, "js-peer/0.1.0 js-libp2p/2.8.8 node/20.20.2");

  g_ptr_array_add (push->listen_addrs, mero_multiaddr_new_from_string ("/ip4/10.0.0.1/tcp/1", NULL));
  push->agent_version = g_strdup ("new");
  mero_identify_info_merge_push (base, push);
  g_assert_cmpuint (base->listen_addrs->len, ==, 1);
  a0 = addr_text (base, 0);
  g_assert_cmpstr (a0, ==, "/ip4/10.0.0.1/tcp/1");
  g_assert_cmpstr (base->agent_version, ==, "new");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/identify/decode-js", test_decode_js);
  g_test_add_func ("/net/identify/roundtrip", test_roundtrip);
  g_test_add_func ("/net/identify/bounds", test_bounds);
  g_test_add_func ("/net/identify/push-merge", test_push_merge);
  return g_test_run ();
}
