/* mero-noise-payload.c: encode and verify the libp2p Noise payload. */
#include "net/core/mero-noise-payload.h"

#include <sodium.h>
#include <string.h>

#include "net/mero-key-codec.h"
#include "noise-payload.pb-c.h"

G_DEFINE_QUARK (mero-noise-error-quark, mero_noise_error)

#define ED25519_SIGNATURE_LEN 64

static void
payload_free (NoiseHandshakePayload *msg)
{
  if (msg != NULL)
    noise_handshake_payload__free_unpacked (msg, NULL);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (NoiseHandshakePayload, payload_free)

void
mero_noise_signing_message (const guint8 static_public_key[MERO_NOISE_STATIC_KEY_LEN],
                            guint8 out[MERO_NOISE_SIGNING_MESSAGE_LEN])
{
  memcpy (out, MERO_NOISE_SIGNATURE_PREFIX, MERO_NOISE_SIGNATURE_PREFIX_LEN);
  memcpy (out + MERO_NOISE_SIGNATURE_PREFIX_LEN, static_public_key, MERO_NOISE_STATIC_KEY_LEN);
}

GBytes *
mero_noise_payload_encode (const guint8      *identity_key,
                           gsize              identity_key_len,
                           const guint8      *identity_sig,
                           gsize              identity_sig_len,
                           const char *const *stream_muxers)
{
  NoiseHandshakePayload msg = NOISE_HANDSHAKE_PAYLOAD__INIT;
  NoiseExtensions ext = NOISE_EXTENSIONS__INIT;
  guint n_muxers = stream_muxers != NULL ? g_strv_length ((GStrv) stream_muxers) : 0;
  guint8 *buf;
  gsize len;

  g_return_val_if_fail (identity_key != NULL && identity_sig != NULL, NULL);
  g_return_val_if_fail (n_muxers <= MERO_NOISE_MAX_STREAM_MUXERS, NULL);

  msg.identity_key.data = (guint8 *) identity_key;
  msg.identity_key.len = identity_key_len;
  msg.identity_sig.data = (guint8 *) identity_sig;
  msg.identity_sig.len = identity_sig_len;
  if (n_muxers > 0)
    {
      ext.n_stream_muxers = n_muxers;
      ext.stream_muxers = (char **) stream_muxers;
      msg.extensions = &ext;
    }
  len = noise_handshake_payload__get_packed_size (&msg);
  buf = g_malloc (len);
  noise_handshake_payload__pack (&msg, buf);
  return g_bytes_new_take (buf, len);
}

MeroPeerId *
mero_noise_payload_verify (const guint8  *buf,
                           gsize          len,
                           const guint8   remote_static_key[MERO_NOISE_STATIC_KEY_LEN],
                           GStrv         *stream_muxers,
                           GError       **error)
{
  g_autoptr(NoiseHandshakePayload) msg = NULL;
  g_autoptr(GError) local_error = NULL;
  guint8 signed_msg[MERO_NOISE_SIGNING_MESSAGE_LEN];
  MeroKeyType type;
  const guint8 *key;
  gsize key_len;

  msg = noise_handshake_payload__unpack (NULL, len, buf);
  if (msg == NULL)
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_MALFORMED,
                   "handshake payload is not a valid protobuf");
      return NULL;
    }
  if (!mero_key_codec_decode_public (msg->identity_key.data, msg->identity_key.len, &type, &key,
                                     &key_len, &local_error))
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_MALFORMED,
                   "handshake identity_key: %s", local_error->message);
      return NULL;
    }
  if (type != MERO_KEY_TYPE_ED25519 || key_len != crypto_sign_PUBLICKEYBYTES)
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_UNSUPPORTED_KEY,
                   "handshake identity key type %d is not supported (Ed25519 only)", type);
      return NULL;
    }
  mero_noise_signing_message (remote_static_key, signed_msg);
  if (msg->identity_sig.len != ED25519_SIGNATURE_LEN ||
      crypto_sign_verify_detached (msg->identity_sig.data, signed_msg, sizeof signed_msg, key) != 0)
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_BAD_SIGNATURE,
                   "handshake identity_sig does not sign the peer's static key");
      return NULL;
    }
  if (msg->extensions != NULL && msg->extensions->n_stream_muxers > MERO_NOISE_MAX_STREAM_MUXERS)
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_MALFORMED,
                   "handshake offers %zu stream muxers (at most %u)",
                   msg->extensions->n_stream_muxers, MERO_NOISE_MAX_STREAM_MUXERS);
      return NULL;
    }
  if (stream_muxers != NULL)
    {
      g_autoptr(GStrvBuilder) b = g_strv_builder_new ();

      for (gsize i = 0; msg->extensions != NULL && i < msg->extensions->n_stream_muxers; i++)
        g_strv_builder_add (b, msg->extensions->stream_muxers[i]);
      *stream_muxers = g_strv_builder_end (b);
    }
  return mero_peer_id_new_from_public_key (msg->identity_key.data, msg->identity_key.len);
}
