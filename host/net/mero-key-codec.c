/* mero-key-codec.c: hand-written canonical libp2p key protobufs. */
#include "net/mero-key-codec.h"

#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (mero-key-codec-error-quark, mero_key_codec_error)

/* Field 1 (Type, varint) and field 2 (Data, length-delimited) tags. */
#define TAG_TYPE 0x08
#define TAG_DATA 0x12

void
mero_key_codec_encode_ed25519_public (const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                      guint8 out[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN])
{
  out[0] = TAG_TYPE;
  out[1] = MERO_KEY_TYPE_ED25519;
  out[2] = TAG_DATA;
  out[3] = MERO_ED25519_PUBLIC_KEY_LEN;
  memcpy (out + 4, public_key, MERO_ED25519_PUBLIC_KEY_LEN);
}

void
mero_key_codec_encode_ed25519_private (const guint8 seed[MERO_ED25519_SEED_LEN],
                                       const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                       guint8 out[MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN])
{
  out[0] = TAG_TYPE;
  out[1] = MERO_KEY_TYPE_ED25519;
  out[2] = TAG_DATA;
  out[3] = MERO_ED25519_SEED_LEN + MERO_ED25519_PUBLIC_KEY_LEN;
  memcpy (out + 4, seed, MERO_ED25519_SEED_LEN);
  memcpy (out + 4 + MERO_ED25519_SEED_LEN, public_key, MERO_ED25519_PUBLIC_KEY_LEN);
}

/* Reads a minimal varint of at most 4 bytes (key sizes stay far below). */
static gboolean
read_varint (const guint8 *buf, gsize len, gsize *pos, guint32 *value)
{
  guint32 v = 0;

  for (guint shift = 0; shift < 28; shift += 7)
    {
      guint8 b;

      if (*pos >= len)
        return FALSE;
      b = buf[(*pos)++];
      v |= (guint32) (b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        {
          /* A trailing zero group means a non-minimal encoding. */
          if (b == 0 && shift > 0)
            return FALSE;
          *value = v;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
mero_key_codec_decode_public (const guint8 *buf, gsize len, MeroKeyType *type,
                              const guint8 **data, gsize *data_len, GError **error)
{
  gsize pos = 0;
  guint32 key_type;
  guint32 n;

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);

  if (pos >= len || buf[pos++] != TAG_TYPE || !read_varint (buf, len, &pos, &key_type)
      || pos >= len || buf[pos++] != TAG_DATA || !read_varint (buf, len, &pos, &n)
      || n != len - pos)
    {
      g_set_error_literal (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MALFORMED,
                           "key is not a canonical libp2p key protobuf");
      return FALSE;
    }
  if (key_type > MERO_KEY_TYPE_ECDSA)
    {
      g_set_error (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_UNSUPPORTED,
                   "unknown key type %u", key_type);
      return FALSE;
    }
  if (key_type == MERO_KEY_TYPE_ED25519 && n != MERO_ED25519_PUBLIC_KEY_LEN)
    {
      g_set_error (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MALFORMED,
                   "Ed25519 public key has %u bytes, expected 32", n);
      return FALSE;
    }
  *type = (MeroKeyType) key_type;
  *data = buf + pos;
  *data_len = n;
  return TRUE;
}

gboolean
mero_key_codec_decode_ed25519_private (const guint8 *buf, gsize len,
                                       guint8 seed[MERO_ED25519_SEED_LEN],
                                       guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                       GError **error)
{
  guint8 derived_pk[crypto_sign_PUBLICKEYBYTES];
  guint8 sk[crypto_sign_SECRETKEYBYTES];

  g_return_val_if_fail (buf != NULL || len == 0, FALSE);

  if (len != MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN || buf[0] != TAG_TYPE || buf[2] != TAG_DATA
      || buf[3] != MERO_ED25519_SEED_LEN + MERO_ED25519_PUBLIC_KEY_LEN)
    {
      g_set_error_literal (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MALFORMED,
                           "not a 68-byte libp2p Ed25519 PrivateKey protobuf");
      return FALSE;
    }
  if (buf[1] != MERO_KEY_TYPE_ED25519)
    {
      g_set_error (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_UNSUPPORTED,
                   "key type %u is not Ed25519", buf[1]);
      return FALSE;
    }
  crypto_sign_seed_keypair (derived_pk, sk, buf + 4);
  sodium_memzero (sk, sizeof sk);
  if (sodium_memcmp (derived_pk, buf + 4 + MERO_ED25519_SEED_LEN, sizeof derived_pk) != 0)
    {
      g_set_error_literal (error, MERO_KEY_CODEC_ERROR, MERO_KEY_CODEC_ERROR_MISMATCH,
                           "the public key does not belong to the private key");
      return FALSE;
    }
  memcpy (seed, buf + 4, MERO_ED25519_SEED_LEN);
  memcpy (public_key, derived_pk, MERO_ED25519_PUBLIC_KEY_LEN);
  return TRUE;
}
