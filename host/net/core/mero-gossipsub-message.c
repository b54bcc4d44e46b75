/* mero-gossipsub-message.c: canonical encoding, StrictSign verification
 * and js message ids.  The Message encoding is written by hand: signing
 * needs one exact byte layout, and it is four length-delimited fields. */
#include "net/core/mero-gossipsub-message.h"

#include <sodium.h>
#include <string.h>

#include "net/core/mero-varint.h"
#include "net/mero-key-codec.h"

G_DEFINE_QUARK (mero-gossipsub-error-quark, mero_gossipsub_error)

#define ED25519_SIGNATURE_LEN 64

MeroGossipsubMessage *
mero_gossipsub_message_new (void)
{
  return g_new0 (MeroGossipsubMessage, 1);
}

void
mero_gossipsub_message_free (MeroGossipsubMessage *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->from, g_bytes_unref);
  g_clear_pointer (&msg->data, g_bytes_unref);
  g_clear_pointer (&msg->seqno, g_bytes_unref);
  g_clear_pointer (&msg->topic, g_free);
  g_clear_pointer (&msg->signature, g_bytes_unref);
  g_clear_pointer (&msg->key, g_bytes_unref);
  g_free (msg);
}

static GBytes *
ref_or_null (GBytes *b)
{
  return b != NULL ? g_bytes_ref (b) : NULL;
}

MeroGossipsubMessage *
mero_gossipsub_message_copy (const MeroGossipsubMessage *msg)
{
  MeroGossipsubMessage *copy;

  g_return_val_if_fail (msg != NULL, NULL);

  copy = mero_gossipsub_message_new ();
  copy->from = ref_or_null (msg->from);
  copy->data = ref_or_null (msg->data);
  copy->seqno = ref_or_null (msg->seqno);
  copy->topic = g_strdup (msg->topic);
  copy->signature = ref_or_null (msg->signature);
  copy->key = ref_or_null (msg->key);
  return copy;
}

static void
put_field (GByteArray *out, guint field, const guint8 *data, gsize len)
{
  mero_varint_append (out, (guint64) field << 3 | 2);
  mero_varint_append (out, len);
  g_byte_array_append (out, data, (guint) len);
}

static void
put_bytes (GByteArray *out, guint field, GBytes *b)
{
  gsize len;
  const guint8 *data;

  if (b == NULL)
    return;
  data = g_bytes_get_data (b, &len);
  put_field (out, field, data != NULL ? data : (const guint8 *) "", len);
}

static void
encode_signed_part (const MeroGossipsubMessage *msg, GByteArray *out)
{
  put_bytes (out, 1, msg->from);
  put_bytes (out, 2, msg->data);
  put_bytes (out, 3, msg->seqno);
  if (msg->topic != NULL)
    put_field (out, 4, (const guint8 *) msg->topic, strlen (msg->topic));
}

GBytes *
mero_gossipsub_message_signing_bytes (const MeroGossipsubMessage *msg)
{
  GByteArray *out = g_byte_array_new ();

  g_return_val_if_fail (msg != NULL, NULL);

  g_byte_array_append (out, (const guint8 *) MERO_GOSSIPSUB_SIGN_PREFIX,
                       strlen (MERO_GOSSIPSUB_SIGN_PREFIX));
  encode_signed_part (msg, out);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
mero_gossipsub_message_encode (const MeroGossipsubMessage *msg)
{
  GByteArray *out = g_byte_array_new ();

  g_return_val_if_fail (msg != NULL, NULL);

  encode_signed_part (msg, out);
  put_bytes (out, 5, msg->signature);
  put_bytes (out, 6, msg->key);
  return g_byte_array_free_to_bytes (out);
}

/* The author's PublicKey protobuf: inlined in from (identity multihash),
 * else the key field.  NULL if neither. */
static GBytes *
author_key (const MeroGossipsubMessage *msg, GError **error)
{
  g_autoptr(MeroPeerId) author = NULL;
  const guint8 *from;
  gsize from_len;

  if (msg->from == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_FROM,
                   "message has no from");
      return NULL;
    }
  from = g_bytes_get_data (msg->from, &from_len);
  author = mero_peer_id_new_from_multihash (from, from_len, NULL);
  if (author == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_FROM,
                   "message from is not a PeerId");
      return NULL;
    }
  /* Identity multihash: 00 <len> <PublicKey protobuf>. */
  if (from_len >= 2 && from[0] == 0x00)
    {
      g_autoptr(GBytes) inlined = g_bytes_new (from + 2, from_len - 2);

      if (msg->key != NULL && !g_bytes_equal (msg->key, inlined))
        {
          g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_KEY,
                       "message key differs from the key in from");
          return NULL;
        }
      return g_steal_pointer (&inlined);
    }
  if (msg->key == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_KEY,
                   "message from has no inlined key and no key field");
      return NULL;
    }
  {
    g_autoptr(MeroPeerId) of_key = NULL;
    gsize len;
    const guint8 *key = g_bytes_get_data (msg->key, &len);

    of_key = mero_peer_id_new_from_public_key (key, len);
    if (of_key == NULL || !mero_peer_id_equal (of_key, author))
      {
        g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_KEY,
                     "message key does not belong to from");
        return NULL;
      }
  }
  return g_bytes_ref (msg->key);
}

gboolean
mero_gossipsub_message_verify_strict_sign (const MeroGossipsubMessage *msg, GError **error)
{
  g_autoptr(GBytes) key_pb = NULL;
  g_autoptr(GBytes) signed_bytes = NULL;
  g_autoptr(GError) local_error = NULL;
  MeroKeyType type;
  const guint8 *key;
  gsize key_len, sig_len;
  const guint8 *sig;

  g_return_val_if_fail (msg != NULL, FALSE);

  if (msg->topic == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_NO_TOPIC, "message has no topic");
      return FALSE;
    }
  if (msg->seqno == NULL || g_bytes_get_size (msg->seqno) != MERO_GOSSIPSUB_SEQNO_LEN)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_SEQNO,
                   "message seqno missing or not 8 bytes");
      return FALSE;
    }
  if (msg->signature == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_NO_SIGNATURE,
                   "message is not signed");
      return FALSE;
    }
  key_pb = author_key (msg, error);
  if (key_pb == NULL)
    return FALSE;
  if (!mero_key_codec_decode_public (g_bytes_get_data (key_pb, NULL), g_bytes_get_size (key_pb),
                                     &type, &key, &key_len, &local_error) ||
      type != MERO_KEY_TYPE_ED25519 || key_len != crypto_sign_PUBLICKEYBYTES)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_INVALID_KEY,
                   "message author key is not an Ed25519 key we can verify");
      return FALSE;
    }
  signed_bytes = mero_gossipsub_message_signing_bytes (msg);
  sig = g_bytes_get_data (msg->signature, &sig_len);
  if (sig_len != ED25519_SIGNATURE_LEN ||
      crypto_sign_verify_detached (sig, g_bytes_get_data (signed_bytes, NULL),
                                   g_bytes_get_size (signed_bytes), key) != 0)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_BAD_SIGNATURE,
                   "message signature does not verify");
      return FALSE;
    }
  return TRUE;
}

GBytes *
mero_gossipsub_message_id (const MeroGossipsubMessage *msg)
{
  g_autoptr(GBytes) key = NULL;
  GByteArray *out;

  g_return_val_if_fail (msg != NULL, NULL);

  if (msg->seqno == NULL || (key = author_key (msg, NULL)) == NULL)
    return NULL;
  out = g_byte_array_new ();
  g_byte_array_append (out, g_bytes_get_data (key, NULL), (guint) g_bytes_get_size (key));
  g_byte_array_append (out, g_bytes_get_data (msg->seqno, NULL), (guint) g_bytes_get_size (msg->seqno));
  return g_byte_array_free_to_bytes (out);
}
