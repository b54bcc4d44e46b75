/* mero-noise.c: the Noise XX handshake and transport framing. */
#include "net/core/mero-noise.h"

#include <sodium.h>
#include <string.h>

#include "net/core/mero-noise-symmetric.h"

#define FRAME_HEADER 2

typedef enum {
  STEP_WRITE_MSG1, /* initiator, done in new() */
  STEP_READ_MSG1,  /* responder */
  STEP_READ_MSG2,  /* initiator */
  STEP_READ_MSG3,  /* responder */
  STEP_TRANSPORT,
} Step;

struct _MeroNoise
{
  MeroNoiseRole role;
  MeroNoiseState state;
  Step step;
  MeroNoiseSymmetric ss;
  guint8 s_priv[MERO_NOISE_X25519_KEY_LEN];
  guint8 s_pub[MERO_NOISE_X25519_KEY_LEN];
  guint8 e_priv[MERO_NOISE_X25519_KEY_LEN];
  guint8 e_pub[MERO_NOISE_X25519_KEY_LEN];
  guint8 re[MERO_NOISE_X25519_KEY_LEN];
  guint8 rs[MERO_NOISE_X25519_KEY_LEN];
  GBytes *payload;
  MeroPeerId *expected_peer;
  MeroPeerId *remote_peer;
  GStrv remote_muxers;
  MeroNoiseCipher send;
  MeroNoiseCipher recv;
  guint8 handshake_hash[MERO_NOISE_HASH_LEN];
  GByteArray *rx;  /* one partial frame at most */
  GByteArray *tx;  /* framed bytes waiting to be pulled */
  GError *failure; /* why the session failed, repeated to later calls */
};

void
mero_noise_public_key (const guint8 private_key[MERO_NOISE_X25519_KEY_LEN],
                       guint8 public_key[MERO_NOISE_X25519_KEY_LEN])
{
  crypto_scalarmult_base (public_key, private_key);
}

static gboolean
fail (MeroNoise *self, GError **error, MeroNoiseError code, const char *format, ...)
  G_GNUC_PRINTF (4, 5);

static gboolean
fail (MeroNoise *self, GError **error, MeroNoiseError code, const char *format, ...)
{
  va_list args;

  va_start (args, format);
  g_clear_error (&self->failure);
  self->failure = g_error_new_valist (MERO_NOISE_ERROR, code, format, args);
  va_end (args);
  self->state = MERO_NOISE_STATE_FAILED;
  /* Nothing more may go out on a failed session. */
  g_byte_array_set_size (self->tx, 0);
  g_byte_array_set_size (self->rx, 0);
  if (error != NULL)
    *error = g_error_copy (self->failure);
  return FALSE;
}

static gboolean
failed (MeroNoise *self, GError **error)
{
  if (error != NULL)
    *error = g_error_new (MERO_NOISE_ERROR, MERO_NOISE_ERROR_FAILED,
                          "noise session failed earlier: %s", self->failure->message);
  return FALSE;
}

/* MixKey(DH(priv, pub)); a low-order @pub gives an all-zero result, which
 * libsodium reports and we refuse. */
static gboolean
mix_dh (MeroNoise *self, const guint8 *priv, const guint8 *pub, GError **error)
{
  guint8 shared[MERO_NOISE_X25519_KEY_LEN];

  if (crypto_scalarmult (shared, priv, pub) != 0)
    return fail (self, error, MERO_NOISE_ERROR_BAD_KEY, "peer sent a low-order X25519 key");
  mero_noise_symmetric_mix_key (&self->ss, shared, sizeof shared);
  sodium_memzero (shared, sizeof shared);
  return TRUE;
}

static void
queue_frame (MeroNoise *self, const guint8 *data, gsize len)
{
  guint8 hdr[FRAME_HEADER] = { (guint8) (len >> 8), (guint8) len };

  g_assert (len <= MERO_NOISE_MAX_FRAME);
  g_byte_array_append (self->tx, hdr, FRAME_HEADER);
  g_byte_array_append (self->tx, data, (guint) len);
}

static void
write_ephemeral (MeroNoise *self, GByteArray *msg)
{
  g_byte_array_append (msg, self->e_pub, sizeof self->e_pub);
  mero_noise_symmetric_mix_hash (&self->ss, self->e_pub, sizeof self->e_pub);
}

static gboolean
write_payload (MeroNoise *self, GByteArray *msg, GBytes *payload, GError **error)
{
  gsize len = 0;
  const guint8 *data = payload != NULL ? g_bytes_get_data (payload, &len) : NULL;

  if (!mero_noise_symmetric_encrypt_and_hash (&self->ss, data != NULL ? data : (const guint8 *) "",
                                              len, msg))
    return fail (self, error, MERO_NOISE_ERROR_NONCE_EXHAUSTED, "handshake nonce exhausted");
  if (msg->len > MERO_NOISE_MAX_HANDSHAKE_MESSAGE)
    return fail (self, error, MERO_NOISE_ERROR_FRAME_TOO_LARGE,
                 "our handshake message would be %u bytes (at most %u)", msg->len,
                 MERO_NOISE_MAX_HANDSHAKE_MESSAGE);
  queue_frame (self, msg->data, msg->len);
  return TRUE;
}

static void
split (MeroNoise *self)
{
  MeroNoiseCipher c1, c2;

  mero_noise_symmetric_split (&self->ss, &c1, &c2);
  self->send = self->role == MERO_NOISE_ROLE_INITIATOR ? c1 : c2;
  self->recv = self->role == MERO_NOISE_ROLE_INITIATOR ? c2 : c1;
  memcpy (self->handshake_hash, self->ss.h, sizeof self->handshake_hash);
  sodium_memzero (&c1, sizeof c1);
  sodium_memzero (&c2, sizeof c2);
  sodium_memzero (&self->ss, sizeof self->ss);
  sodium_memzero (self->e_priv, sizeof self->e_priv);
  sodium_memzero (self->s_priv, sizeof self->s_priv);
  self->step = STEP_TRANSPORT;
  self->state = MERO_NOISE_STATE_ESTABLISHED;
}

MeroNoise *
mero_noise_new (MeroNoiseRole role, const MeroNoiseConfig *config)
{
  MeroNoise *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (config->payload != NULL, NULL);

  self = g_new0 (MeroNoise, 1);
  self->role = role;
  self->state = MERO_NOISE_STATE_HANDSHAKING;
  self->rx = g_byte_array_new ();
  self->tx = g_byte_array_new ();
  self->payload = g_bytes_ref (config->payload);
  if (config->expected_peer != NULL)
    self->expected_peer = mero_peer_id_copy (config->expected_peer);
  memcpy (self->s_priv, config->static_private_key, sizeof self->s_priv);
  memcpy (self->e_priv, config->ephemeral_private_key, sizeof self->e_priv);
  mero_noise_public_key (self->s_priv, self->s_pub);
  mero_noise_public_key (self->e_priv, self->e_pub);

  mero_noise_symmetric_init (&self->ss, MERO_NOISE_PROTOCOL_NAME);
  /* MixHash(prologue) runs even for libp2p's empty prologue. */
  mero_noise_symmetric_mix_hash (&self->ss, config->prologue, config->prologue_len);

  if (role == MERO_NOISE_ROLE_INITIATOR)
    {
      g_autoptr(GByteArray) msg = g_byte_array_new ();

      /* -> e, with an empty payload (the initiator's identity would be
       * unencrypted here, so libp2p sends it in msg 3). */
      write_ephemeral (self, msg);
      g_assert (write_payload (self, msg, NULL, NULL));
      self->step = STEP_READ_MSG2;
    }
  else
    {
      self->step = STEP_READ_MSG1;
    }
  return self;
}

void
mero_noise_free (MeroNoise *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->payload, g_bytes_unref);
  g_clear_pointer (&self->expected_peer, mero_peer_id_free);
  g_clear_pointer (&self->remote_peer, mero_peer_id_free);
  g_clear_pointer (&self->remote_muxers, g_strfreev);
  g_clear_pointer (&self->rx, g_byte_array_unref);
  g_clear_pointer (&self->tx, g_byte_array_unref);
  g_clear_error (&self->failure);
  sodium_memzero (self, sizeof *self);
  g_free (self);
}

/* Reads "s" (encrypted static key) and the identity payload that
 * follows it, and checks the identity. */
static gboolean
read_static_and_payload (MeroNoise *self, const guint8 *msg, gsize len, GError **error)
{
  g_autoptr(GByteArray) rs = g_byte_array_new ();
  g_autoptr(GByteArray) payload = g_byte_array_new ();
  g_autoptr(GError) local_error = NULL;
  g_autoptr(MeroPeerId) peer = NULL;
  g_auto(GStrv) muxers = NULL;
  const gsize s_len = MERO_NOISE_X25519_KEY_LEN + MERO_NOISE_TAG_LEN;
  gboolean initiator = self->role == MERO_NOISE_ROLE_INITIATOR;

  if (len < s_len + MERO_NOISE_TAG_LEN)
    return fail (self, error, MERO_NOISE_ERROR_MALFORMED,
                 "handshake message %d too short (%zu bytes)", initiator ? 2 : 3, len);
  if (!mero_noise_symmetric_decrypt_and_hash (&self->ss, msg, s_len, rs))
    return fail (self, error, MERO_NOISE_ERROR_DECRYPT,
                 "cannot decrypt the peer's static key (handshake message %d)", initiator ? 2 : 3);
  memcpy (self->rs, rs->data, sizeof self->rs);
  /* initiator: es = DH(e, rs); responder: se = DH(e, rs). */
  if (!mix_dh (self, self->e_priv, self->rs, error))
    return FALSE;
  if (!mero_noise_symmetric_decrypt_and_hash (&self->ss, msg + s_len, len - s_len, payload))
    return fail (self, error, MERO_NOISE_ERROR_DECRYPT,
                 "cannot decrypt the peer's handshake payload");
  peer = mero_noise_payload_verify (payload->data, payload->len, self->rs, &muxers, &local_error);
  if (peer == NULL)
    return fail (self, error, (MeroNoiseError) local_error->code, "%s", local_error->message);
  if (self->expected_peer != NULL && !mero_peer_id_equal (peer, self->expected_peer))
    {
      g_autofree char *got = mero_peer_id_to_string (peer);
      g_autofree char *want = mero_peer_id_to_string (self->expected_peer);

      return fail (self, error, MERO_NOISE_ERROR_PEER_MISMATCH,
                   "peer authenticated as %s, expected %s", got, want);
    }
  self->remote_peer = g_steal_pointer (&peer);
  self->remote_muxers = g_steal_pointer (&muxers);
  return TRUE;
}

static gboolean
handle_handshake (MeroNoise *self, const guint8 *msg, gsize len, GError **error)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();
  g_autoptr(GByteArray) ignored = g_byte_array_new ();

  switch (self->step)
    {
    case STEP_READ_MSG1:
      /* -> e; a payload here would be unauthenticated, but the spec
       * lets it be present, so it is read and ignored. */
      if (len < MERO_NOISE_X25519_KEY_LEN)
        return fail (self, error, MERO_NOISE_ERROR_MALFORMED,
                     "handshake message 1 too short (%zu bytes)", len);
      memcpy (self->re, msg, sizeof self->re);
      mero_noise_symmetric_mix_hash (&self->ss, self->re, sizeof self->re);
      mero_noise_symmetric_decrypt_and_hash (&self->ss, msg + MERO_NOISE_X25519_KEY_LEN,
                                             len - MERO_NOISE_X25519_KEY_LEN, ignored);
      /* <- e, ee, s, es */
      write_ephemeral (self, out);
      if (!mix_dh (self, self->e_priv, self->re, error))
        return FALSE;
      if (!mero_noise_symmetric_encrypt_and_hash (&self->ss, self->s_pub, sizeof self->s_pub, out))
        return fail (self, error, MERO_NOISE_ERROR_NONCE_EXHAUSTED, "handshake nonce exhausted");
      if (!mix_dh (self, self->s_priv, self->re, error))
        return FALSE;
      if (!write_payload (self, out, self->payload, error))
        return FALSE;
      self->step = STEP_READ_MSG3;
      return TRUE;

    case STEP_READ_MSG2:
      /* <- e, ee, s, es */
      if (len < MERO_NOISE_X25519_KEY_LEN)
        return fail (self, error, MERO_NOISE_ERROR_MALFORMED,
                     "handshake message 2 too short (%zu bytes)", len);
      memcpy (self->re, msg, sizeof self->re);
      mero_noise_symmetric_mix_hash (&self->ss, self->re, sizeof self->re);
      if (!mix_dh (self, self->e_priv, self->re, error))
        return FALSE;
      if (!read_static_and_payload (self, msg + MERO_NOISE_X25519_KEY_LEN,
                                    len - MERO_NOISE_X25519_KEY_LEN, error))
        return FALSE;
      /* -> s, se */
      if (!mero_noise_symmetric_encrypt_and_hash (&self->ss, self->s_pub, sizeof self->s_pub, out))
        return fail (self, error, MERO_NOISE_ERROR_NONCE_EXHAUSTED, "handshake nonce exhausted");
      if (!mix_dh (self, self->s_priv, self->re, error))
        return FALSE;
      if (!write_payload (self, out, self->payload, error))
        return FALSE;
      split (self);
      return TRUE;

    case STEP_READ_MSG3:
      /* -> s, se */
      if (!read_static_and_payload (self, msg, len, error))
        return FALSE;
      split (self);
      return TRUE;

    case STEP_WRITE_MSG1:
    case STEP_TRANSPORT:
    default:
      g_assert_not_reached ();
    }
}

static gboolean
handle_frame (MeroNoise *self, const guint8 *frame, gsize len, GByteArray *plaintext,
              GError **error)
{
  guint start;

  if (self->step != STEP_TRANSPORT)
    {
      if (len > MERO_NOISE_MAX_HANDSHAKE_MESSAGE)
        return fail (self, error, MERO_NOISE_ERROR_FRAME_TOO_LARGE,
                     "handshake message of %zu bytes (at most %u)", len,
                     MERO_NOISE_MAX_HANDSHAKE_MESSAGE);
      return handle_handshake (self, frame, len, error);
    }
  if (len < MERO_NOISE_TAG_LEN)
    return fail (self, error, MERO_NOISE_ERROR_MALFORMED,
                 "transport frame of %zu bytes is shorter than its tag", len);
  start = plaintext->len;
  g_byte_array_set_size (plaintext, start + (guint) (len - MERO_NOISE_TAG_LEN));
  if (!mero_noise_cipher_decrypt (&self->recv, (const guint8 *) "", 0, frame, len,
                                  plaintext->data + start))
    {
      g_byte_array_set_size (plaintext, start);
      return fail (self, error, MERO_NOISE_ERROR_DECRYPT,
                   "transport frame failed authentication (nonce %" G_GUINT64_FORMAT ")",
                   self->recv.n);
    }
  return TRUE;
}

gboolean
mero_noise_recv (MeroNoise    *self,
                 const guint8 *data,
                 gsize         len,
                 GByteArray   *plaintext,
                 GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (plaintext != NULL, FALSE);

  if (self->state == MERO_NOISE_STATE_FAILED)
    return failed (self, error);

  while (len > 0)
    {
      gsize need, take;

      /* Fast path: whole frames straight from @data, no copy. */
      if (self->rx->len == 0 && len >= FRAME_HEADER)
        {
          gsize flen = (gsize) data[0] << 8 | data[1];

          if (len >= FRAME_HEADER + flen)
            {
              if (!handle_frame (self, data + FRAME_HEADER, flen, plaintext, error))
                return FALSE;
              data += FRAME_HEADER + flen;
              len -= FRAME_HEADER + flen;
              continue;
            }
        }
      need = FRAME_HEADER;
      if (self->rx->len >= FRAME_HEADER)
        need += (gsize) self->rx->data[0] << 8 | self->rx->data[1];
      take = MIN (len, need - self->rx->len);
      g_byte_array_append (self->rx, data, (guint) take);
      data += take;
      len -= take;
      if (self->rx->len == FRAME_HEADER)
        {
          gsize flen = (gsize) self->rx->data[0] << 8 | self->rx->data[1];

          /* Refuse an oversized handshake message before buffering it. */
          if (self->step != STEP_TRANSPORT && flen > MERO_NOISE_MAX_HANDSHAKE_MESSAGE)
            return fail (self, error, MERO_NOISE_ERROR_FRAME_TOO_LARGE,
                         "handshake message of %zu bytes (at most %u)", flen,
                         MERO_NOISE_MAX_HANDSHAKE_MESSAGE);
          if (flen > 0)
            continue;
        }
      if (self->rx->len >= FRAME_HEADER &&
          self->rx->len == FRAME_HEADER + ((gsize) self->rx->data[0] << 8 | self->rx->data[1]))
        {
          g_autoptr(GByteArray) frame = g_steal_pointer (&self->rx);

          self->rx = g_byte_array_new ();
          if (!handle_frame (self, frame->data + FRAME_HEADER, frame->len - FRAME_HEADER,
                             plaintext, error))
            return FALSE;
        }
    }
  return TRUE;
}

GBytes *
mero_noise_pull_send (MeroNoise *self)
{
  GBytes *out;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->tx->len == 0)
    return NULL;
  out = g_byte_array_free_to_bytes (g_steal_pointer (&self->tx));
  self->tx = g_byte_array_new ();
  return out;
}

gboolean
mero_noise_wants_send (const MeroNoise *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->tx->len > 0;
}

gboolean
mero_noise_write_into (MeroNoise    *self,
                       const guint8 *data,
                       gsize         len,
                       GByteArray   *out,
                       GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (self->state == MERO_NOISE_STATE_FAILED)
    return failed (self, error);
  if (self->state != MERO_NOISE_STATE_ESTABLISHED)
    {
      g_set_error (error, MERO_NOISE_ERROR, MERO_NOISE_ERROR_STATE,
                   "cannot write before the noise handshake completed");
      return FALSE;
    }
  while (len > 0)
    {
      gsize chunk = MIN (len, MERO_NOISE_MAX_PLAINTEXT);
      gsize flen = chunk + MERO_NOISE_TAG_LEN;
      guint start = out->len;

      g_byte_array_set_size (out, start + FRAME_HEADER + (guint) flen);
      out->data[start] = (guint8) (flen >> 8);
      out->data[start + 1] = (guint8) flen;
      if (!mero_noise_cipher_encrypt (&self->send, (const guint8 *) "", 0, data, chunk,
                                      out->data + start + FRAME_HEADER))
        {
          g_byte_array_set_size (out, start);
          return fail (self, error, MERO_NOISE_ERROR_NONCE_EXHAUSTED,
                       "transport nonce exhausted: the session must be replaced");
        }
      data += chunk;
      len -= chunk;
    }
  return TRUE;
}

gboolean
mero_noise_write (MeroNoise    *self,
                  const guint8 *data,
                  gsize         len,
                  GError      **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return mero_noise_write_into (self, data, len, self->tx, error);
}

MeroNoiseState
mero_noise_get_state (const MeroNoise *self)
{
  g_return_val_if_fail (self != NULL, MERO_NOISE_STATE_FAILED);

  return self->state;
}

const MeroPeerId *
mero_noise_get_remote_peer (const MeroNoise *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->remote_peer;
}

const char *const *
mero_noise_get_remote_stream_muxers (const MeroNoise *self)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (self != NULL, none);

  return self->remote_muxers != NULL ? (const char *const *) self->remote_muxers : none;
}

const guint8 *
mero_noise_get_handshake_hash (const MeroNoise *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->handshake_hash;
}
