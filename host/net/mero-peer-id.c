/* mero-peer-id.c: PeerId multihash, base58 and CID forms. */
#include "net/mero-peer-id.h"

#include <sodium.h>
#include <string.h>

#include "net/mero-base32.h"
#include "net/mero-base58.h"

G_DEFINE_QUARK (mero-peer-id-error-quark, mero_peer_id_error)

#define MULTIHASH_IDENTITY 0x00
#define MULTIHASH_SHA2_256 0x12
#define CID_VERSION_1 0x01
#define CID_CODEC_LIBP2P_KEY 0x72

struct _MeroPeerId {
  gsize len;
  guint8 bytes[MERO_PEER_ID_MAX_LEN];
};

MeroPeerId *
mero_peer_id_new_from_public_key (const guint8 *protobuf, gsize len)
{
  MeroPeerId *peer_id;

  g_return_val_if_fail (protobuf != NULL, NULL);

  peer_id = g_new0 (MeroPeerId, 1);
  if (len <= MERO_PEER_ID_MAX_INLINE_KEY)
    {
      peer_id->bytes[0] = MULTIHASH_IDENTITY;
      peer_id->bytes[1] = (guint8) len;
      memcpy (peer_id->bytes + 2, protobuf, len);
      peer_id->len = 2 + len;
    }
  else
    {
      peer_id->bytes[0] = MULTIHASH_SHA2_256;
      peer_id->bytes[1] = crypto_hash_sha256_BYTES;
      crypto_hash_sha256 (peer_id->bytes + 2, protobuf, len);
      peer_id->len = 2 + crypto_hash_sha256_BYTES;
    }
  return peer_id;
}

MeroPeerId *
mero_peer_id_new_from_ed25519 (const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN])
{
  guint8 protobuf[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];

  mero_key_codec_encode_ed25519_public (public_key, protobuf);
  return mero_peer_id_new_from_public_key (protobuf, sizeof protobuf);
}

MeroPeerId *
mero_peer_id_new_from_multihash (const guint8 *bytes, gsize len, GError **error)
{
  MeroPeerId *peer_id;
  gboolean ok;

  g_return_val_if_fail (bytes != NULL || len == 0, NULL);

  /* Both codes and both lengths are < 0x80, so each is a one-byte varint. */
  ok = len >= 2 && bytes[1] == len - 2
       && ((bytes[0] == MULTIHASH_IDENTITY && len - 2 <= MERO_PEER_ID_MAX_INLINE_KEY)
           || (bytes[0] == MULTIHASH_SHA2_256 && len - 2 == crypto_hash_sha256_BYTES));
  if (ok && bytes[0] == MULTIHASH_IDENTITY)
    {
      MeroKeyType type;
      const guint8 *data;
      gsize data_len;

      /* An identity multihash must inline a well-formed public key. */
      ok = mero_key_codec_decode_public (bytes + 2, len - 2, &type, &data, &data_len, NULL);
    }
  if (!ok)
    {
      g_set_error_literal (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID,
                           "not a PeerId multihash (identity or sha2-256)");
      return NULL;
    }

  peer_id = g_new0 (MeroPeerId, 1);
  memcpy (peer_id->bytes, bytes, len);
  peer_id->len = len;
  return peer_id;
}

static MeroPeerId *
parse_cid (const char *text, GError **error)
{
  g_autoptr (GBytes) raw = NULL;
  const guint8 *data;
  gsize len;

  raw = mero_base32_decode (text + 1);
  if (raw == NULL)
    {
      g_set_error_literal (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID,
                           "not valid base32 after the multibase prefix 'b'");
      return NULL;
    }
  data = g_bytes_get_data (raw, &len);
  if (len < 2 || data[0] != CID_VERSION_1 || data[1] != CID_CODEC_LIBP2P_KEY)
    {
      g_set_error_literal (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID,
                           "not a CIDv1 with the libp2p-key codec");
      return NULL;
    }
  return mero_peer_id_new_from_multihash (data + 2, len - 2, error);
}

MeroPeerId *
mero_peer_id_parse (const char *text, GError **error)
{
  g_autoptr (GBytes) raw = NULL;
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (text != NULL, NULL);

  /* peer-ids.md: base58 multihashes start with '1' (identity) or 'Qm'
   * (sha2-256); anything else is read as a multibase CID. */
  if (text[0] == 'b' || text[0] == 'B')
    return parse_cid (text, error);
  if (text[0] != '1' && text[0] != 'Q')
    {
      g_set_error (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID,
                   "“%s” is neither a base58 PeerId nor a base32 CID", text);
      return NULL;
    }
  raw = mero_base58_decode (text);
  if (raw == NULL)
    {
      g_set_error (error, MERO_PEER_ID_ERROR, MERO_PEER_ID_ERROR_INVALID,
                   "“%s” is not valid base58", text);
      return NULL;
    }
  data = g_bytes_get_data (raw, &len);
  return mero_peer_id_new_from_multihash (data, len, error);
}

MeroPeerId *
mero_peer_id_copy (const MeroPeerId *peer_id)
{
  g_return_val_if_fail (peer_id != NULL, NULL);

  return g_memdup2 (peer_id, sizeof *peer_id);
}

void
mero_peer_id_free (MeroPeerId *peer_id)
{
  g_free (peer_id);
}

gboolean
mero_peer_id_equal (const MeroPeerId *a, const MeroPeerId *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);

  return a->len == b->len && memcmp (a->bytes, b->bytes, a->len) == 0;
}

const guint8 *
mero_peer_id_get_bytes (const MeroPeerId *peer_id, gsize *len)
{
  g_return_val_if_fail (peer_id != NULL, NULL);

  if (len != NULL)
    *len = peer_id->len;
  return peer_id->bytes;
}

char *
mero_peer_id_to_string (const MeroPeerId *peer_id)
{
  g_return_val_if_fail (peer_id != NULL, NULL);

  return mero_base58_encode (peer_id->bytes, peer_id->len);
}

char *
mero_peer_id_to_cid_string (const MeroPeerId *peer_id)
{
  guint8 cid[2 + MERO_PEER_ID_MAX_LEN];
  g_autofree char *b32 = NULL;

  g_return_val_if_fail (peer_id != NULL, NULL);

  cid[0] = CID_VERSION_1;
  cid[1] = CID_CODEC_LIBP2P_KEY;
  memcpy (cid + 2, peer_id->bytes, peer_id->len);
  b32 = mero_base32_encode (cid, 2 + peer_id->len);
  return g_strconcat ("b", b32, NULL);
}

gboolean
mero_peer_id_get_ed25519_public_key (const MeroPeerId *peer_id,
                                     guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN])
{
  MeroKeyType type;
  const guint8 *data;
  gsize data_len;

  g_return_val_if_fail (peer_id != NULL, FALSE);

  if (peer_id->bytes[0] != MULTIHASH_IDENTITY
      || !mero_key_codec_decode_public (peer_id->bytes + 2, peer_id->len - 2, &type, &data,
                                        &data_len, NULL)
      || type != MERO_KEY_TYPE_ED25519)
    return FALSE;
  memcpy (public_key, data, MERO_ED25519_PUBLIC_KEY_LEN);
  return TRUE;
}
