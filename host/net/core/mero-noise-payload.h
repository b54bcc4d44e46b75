/* mero-noise-payload.h: the libp2p Noise handshake payload
 * (noise/README.md §Handshake payload; reference §2.3).
 *
 *   NoiseHandshakePayload { identity_key = 1; identity_sig = 2;
 *                           extensions = 4 { stream_muxers = 2; … } }
 *
 * identity_sig is the identity key's signature over
 * "noise-libp2p-static-key:" || the sender's static X25519 public key,
 * which binds the Noise session to the libp2p identity.  Only Ed25519
 * identities can be verified here. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_NOISE_STATIC_KEY_LEN 32
#define MERO_NOISE_SIGNATURE_PREFIX "noise-libp2p-static-key:"
#define MERO_NOISE_SIGNATURE_PREFIX_LEN 24
#define MERO_NOISE_SIGNING_MESSAGE_LEN (MERO_NOISE_SIGNATURE_PREFIX_LEN + MERO_NOISE_STATIC_KEY_LEN)

#define MERO_NOISE_ERROR (mero_noise_error_quark ())
GQuark mero_noise_error_quark (void);

typedef enum {
  MERO_NOISE_ERROR_MALFORMED,        /* bad frame or handshake message, bad protobuf */
  MERO_NOISE_ERROR_FRAME_TOO_LARGE,  /* above MERO_NOISE_MAX_* */
  MERO_NOISE_ERROR_DECRYPT,          /* authentication tag did not verify */
  MERO_NOISE_ERROR_BAD_KEY,          /* DH gave a low-order result */
  MERO_NOISE_ERROR_UNSUPPORTED_KEY,  /* identity key type we cannot verify */
  MERO_NOISE_ERROR_BAD_SIGNATURE,    /* identity_sig does not verify */
  MERO_NOISE_ERROR_PEER_MISMATCH,    /* identity is not the peer we dialed */
  MERO_NOISE_ERROR_NONCE_EXHAUSTED,  /* 2^64-1 messages: the session must end */
  MERO_NOISE_ERROR_STATE,            /* call not valid in this state */
  MERO_NOISE_ERROR_FAILED,           /* the session failed earlier */
} MeroNoiseError;

/* Writes "noise-libp2p-static-key:" || @static_public_key into @out: the
 * bytes the identity key must sign. */
void mero_noise_signing_message (const guint8 static_public_key[MERO_NOISE_STATIC_KEY_LEN],
                                 guint8 out[MERO_NOISE_SIGNING_MESSAGE_LEN]);

/* (transfer full) the encoded payload.  @stream_muxers (nullable, at most
 * MERO_NOISE_MAX_STREAM_MUXERS) goes into extensions; NULL or empty sends
 * no extensions at all, which makes js negotiate the muxer with
 * multistream-select. */
GBytes *mero_noise_payload_encode (const guint8       *identity_key,
                                   gsize               identity_key_len,
                                   const guint8       *identity_sig,
                                   gsize               identity_sig_len,
                                   const char *const  *stream_muxers);

/* Decodes @buf, checks identity_sig against @remote_static_key and
 * returns the sender's PeerId (transfer full), or NULL with @error.
 * @stream_muxers (optional out, transfer full) receives the muxers the
 * sender offered (an empty vector if none). */
MeroPeerId *mero_noise_payload_verify (const guint8  *buf,
                                       gsize          len,
                                       const guint8   remote_static_key[MERO_NOISE_STATIC_KEY_LEN],
                                       GStrv         *stream_muxers,
                                       GError       **error);

G_END_DECLS
