/* test-peer-id.c: base58/base32, libp2p key protobufs and PeerIds against
 * the vectors of ../shared/reference/libp2p-interop.md §2 and peer-ids.md. */
#include <sodium.h>
#include <string.h>

#include "net/mero-base32.h"
#include "net/mero-base58.h"
#include "net/mero-key-codec.h"
#include "net/mero-peer-id.h"
#include "node/mero-identity.h"

static GBytes *
hex (const char *text)
{
  gsize len = strlen (text) / 2;
  guint8 *buf = g_malloc (len + 1);  /* never NULL, even for "" */

  g_assert_cmpint (sodium_hex2bin (buf, len, text, strlen (text), NULL, NULL, NULL), ==, 0);
  return g_bytes_new_take (buf, len);
}

static void
test_base58_vectors (void)
{
  static const struct {
    const char *hex;
    const char *b58;
  } vectors[] = {
    { "", "" },
    { "00", "1" },
    { "0000", "11" },
    { "61", "2g" },
    { "626262", "a3gV" },
    { "68656c6c6f20776f726c64", "StV1DL6CwTryKyV" },
    { "00000000000000000000", "1111111111" },
    { "000111d38e5fc9071ffcd20b4a763cc9ae4f252bb4e48fd66a835e252ada93ff480d6dd43dc62a641155a5",
      "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr (GBytes) raw = hex (vectors[i].hex);
      g_autofree char *encoded = mero_base58_encode (g_bytes_get_data (raw, NULL),
                                                     g_bytes_get_size (raw));
      g_autoptr (GBytes) decoded = mero_base58_decode (vectors[i].b58);

      g_assert_cmpstr (encoded, ==, vectors[i].b58);
      g_assert_nonnull (decoded);
      g_assert_true (g_bytes_equal (decoded, raw));
    }
  g_assert_null (mero_base58_decode ("0OIl"));
  g_assert_null (mero_base58_decode ("abc!"));
}

static void
test_base58_roundtrip_random (void)
{
  for (guint n = 0; n < 200; n++)
    {
      guint8 buf[64];
      gsize len = n % sizeof buf;
      g_autofree char *text = NULL;
      g_autoptr (GBytes) back = NULL;

      randombytes_buf (buf, len);
      /* Leading zeros are the tricky part. */
      if (n % 3 == 0 && len > 2)
        buf[0] = buf[1] = 0;
      text = mero_base58_encode (buf, len);
      back = mero_base58_decode (text);
      g_assert_nonnull (back);
      g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), buf, len);
    }
}

static void
test_base32 (void)
{
  /* RFC 4648 §10, lower case, padding removed. */
  static const struct {
    const char *plain;
    const char *b32;
  } vectors[] = {
    { "", "" },         { "f", "my" },          { "fo", "mzxq" },
    { "foo", "mzxw6" }, { "foob", "mzxw6yq" }, { "fooba", "mzxw6ytb" },
    { "foobar", "mzxw6ytboi" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autofree char *encoded = mero_base32_encode ((const guint8 *) vectors[i].plain,
                                                     strlen (vectors[i].plain));
      g_autoptr (GBytes) decoded = mero_base32_decode (vectors[i].b32);

      g_assert_cmpstr (encoded, ==, vectors[i].b32);
      g_assert_cmpmem (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded),
                       vectors[i].plain, strlen (vectors[i].plain));
    }
  g_assert_null (mero_base32_decode ("mzxw6y1"));
  /* Non-zero trailing bits are not canonical. */
  g_assert_null (mero_base32_decode ("mz"));
}

/* Interop reference §2: seed = SHA-256("demo-a"). */
static void
test_demo_vector (void)
{
  g_autoptr (GBytes) seed = hex ("7300d2df8b84c630a1885d88357f86660a1cc3c1d2ce706fe2f968906c19e21b");
  g_autoptr (GBytes) expected_pb =
      hex ("080112200a621ca84d2c621eebbfc8b469c6e1f2d0c04853575dea10092cdf0022b5e26e");
  guint8 digest[crypto_hash_sha256_BYTES];
  guint8 pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  g_autoptr (MeroIdentity) identity = NULL;
  const MeroPeerId *peer_id;
  g_autofree char *text = NULL;
  const guint8 *mh;
  gsize mh_len;

  crypto_hash_sha256 (digest, (const guint8 *) "demo-a", 6);
  g_assert_cmpmem (digest, sizeof digest, g_bytes_get_data (seed, NULL), 32);

  identity = mero_identity_new_from_seed (g_bytes_get_data (seed, NULL));
  mero_key_codec_encode_ed25519_public (mero_identity_get_public_key (identity), pb);
  g_assert_cmpmem (pb, sizeof pb, g_bytes_get_data (expected_pb, NULL), 36);

  peer_id = mero_identity_get_peer_id (identity);
  mh = mero_peer_id_get_bytes (peer_id, &mh_len);
  g_assert_cmpuint (mh_len, ==, 38);
  g_assert_cmpuint (mh[0], ==, 0x00);
  g_assert_cmpuint (mh[1], ==, 0x24);
  g_assert_cmpmem (mh + 2, 36, pb, 36);

  text = mero_peer_id_to_string (peer_id);
  g_assert_cmpstr (text, ==, "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM");
}

/* peer-ids.md's own Ed25519 vector. */
static void
test_spec_vector (void)
{
  g_autoptr (GBytes) pb =
      hex ("080112201ed1e8fae2c4a144b8be8fd4b47bf3d3b34b871c3cacf6010f0e42d474fce27e");
  g_autoptr (MeroPeerId) peer_id =
      mero_peer_id_new_from_public_key (g_bytes_get_data (pb, NULL), g_bytes_get_size (pb));
  g_autofree char *text = mero_peer_id_to_string (peer_id);
  g_autoptr (MeroPeerId) parsed = NULL;
  g_autoptr (GError) error = NULL;
  guint8 key[32];

  g_assert_cmpstr (text, ==, "12D3KooWBtg3aaRMjxwedh83aGiUkwSxDwUZkzuJcfaqUmo7R3pq");
  parsed = mero_peer_id_parse (text, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (parsed, peer_id));
  g_assert_true (mero_peer_id_get_ed25519_public_key (parsed, key));
  g_assert_cmpmem (key, 32, (const guint8 *) g_bytes_get_data (pb, NULL) + 4, 32);
}

static void
test_cid_forms (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroPeerId) b58 =
      mero_peer_id_parse ("12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM", &error);
  g_autofree char *cid = NULL;
  g_autoptr (MeroPeerId) from_cid = NULL;
  g_autoptr (MeroPeerId) rsa_b58 = NULL;
  g_autoptr (MeroPeerId) rsa_cid = NULL;

  g_assert_no_error (error);
  cid = mero_peer_id_to_cid_string (b58);
  g_assert_true (g_str_has_prefix (cid, "bafz"));
  from_cid = mero_peer_id_parse (cid, &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (b58, from_cid));

  /* peer-ids.md: the same sha2-256 id in both text forms. */
  rsa_b58 = mero_peer_id_parse ("QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", &error);
  g_assert_no_error (error);
  rsa_cid = mero_peer_id_parse ("bafzbeie5745rpv2m6tjyuugywy4d5ewrqgqqhfnf445he3omzpjbx5xqxe",
                                &error);
  g_assert_no_error (error);
  g_assert_true (mero_peer_id_equal (rsa_b58, rsa_cid));
}

static void
test_sha256_for_large_keys (void)
{
  /* An RSA-sized PublicKey protobuf is hashed, not inlined. */
  guint8 pb[300] = { 0x08, 0x00, 0x12, 0xa8, 0x02 };
  g_autoptr (MeroPeerId) peer_id = mero_peer_id_new_from_public_key (pb, sizeof pb);
  g_autofree char *text = mero_peer_id_to_string (peer_id);
  const guint8 *mh;
  gsize len;

  mh = mero_peer_id_get_bytes (peer_id, &len);
  g_assert_cmpuint (len, ==, 34);
  g_assert_cmpuint (mh[0], ==, 0x12);
  g_assert_cmpuint (mh[1], ==, 0x20);
  g_assert_true (g_str_has_prefix (text, "Qm"));
}

static void
test_parse_rejects (void)
{
  static const char *const bad[] = {
    "", "hello", "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78Lvk",
    "12D3KooWAWu1uid2Pn3GSDgo88Ay4HootV9CcVSoKygq9Z78LvkM1", "Qm0000",
    "bafzaaaa", "b!!!!",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MeroPeerId) peer_id = mero_peer_id_parse (bad[i], &error);

      g_assert_null (peer_id);
      g_assert_error (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID);
    }
}

static void
test_key_codec (void)
{
  guint8 seed[32], pk[32], sk[64], pb[68], seed2[32], pk2[32];
  const guint8 *data;
  gsize data_len;
  MeroKeyType type;
  g_autoptr (GError) error = NULL;

  randombytes_buf (seed, sizeof seed);
  crypto_sign_seed_keypair (pk, sk, seed);
  mero_key_codec_encode_ed25519_private (seed, pk, pb);
  g_assert_cmpmem (pb, 4, "\x08\x01\x12\x40", 4);
  g_assert_true (mero_key_codec_decode_ed25519_private (pb, sizeof pb, seed2, pk2, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (seed, 32, seed2, 32);
  g_assert_cmpmem (pk, 32, pk2, 32);

  /* A public half that does not match the seed. */
  pb[67] ^= 1;
  g_assert_false (mero_key_codec_decode_ed25519_private (pb, sizeof pb, seed2, pk2, &error));
  g_assert_error (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MISMATCH);
  g_clear_error (&error);
  g_assert_false (mero_key_codec_decode_ed25519_private (pb, 67, seed2, pk2, &error));
  g_assert_error (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MALFORMED);
  g_clear_error (&error);

  mero_key_codec_encode_ed25519_public (pk, pb);
  g_assert_true (mero_key_codec_decode_public (pb, 36, &type, &data, &data_len, &error));
  g_assert_cmpint (type, ==, MERO_KEY_TYPE_ED25519);
  g_assert_cmpuint (data_len, ==, 32);
  g_assert_cmpmem (data, 32, pk, 32);
  /* Trailing bytes, a truncated key and a non-minimal varint are refused. */
  g_assert_false (mero_key_codec_decode_public (pb, 35, &type, &data, &data_len, NULL));
  {
    guint8 long_varint[] = { 0x08, 0x81, 0x00, 0x12, 0x00 };

    g_assert_false (mero_key_codec_decode_public (long_varint, sizeof long_varint, &type, &data,
                                                  &data_len, NULL));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);

  g_test_add_func ("/base58/vectors", test_base58_vectors);
  g_test_add_func ("/base58/roundtrip-random", test_base58_roundtrip_random);
  g_test_add_func ("/base32/rfc4648", test_base32);
  g_test_add_func ("/key-codec/ed25519", test_key_codec);
  g_test_add_func ("/peer-id/demo-vector", test_demo_vector);
  g_test_add_func ("/peer-id/spec-vector", test_spec_vector);
  g_test_add_func ("/peer-id/cid", test_cid_forms);
  g_test_add_func ("/peer-id/sha256", test_sha256_for_large_keys);
  g_test_add_func ("/peer-id/parse-rejects", test_parse_rejects);
  return g_test_run ();
}
