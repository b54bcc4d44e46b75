/* mero-noise.h: Noise XX for libp2p (noise/README.md; reference §2.3),
 * both roles, sans-IO.
 *
 *   Noise_XX_25519_ChaChaPoly_SHA256, empty prologue:
 *     -> e                 (initiator, empty payload)
 *     <- e, ee, s, es      (responder's identity payload)
 *     -> s, se             (initiator's identity payload)
 *
 * Every message, in the handshake and after it, travels in a frame with a
 * 2-byte big-endian length.  Keys are inputs: the host generates the
 * static and ephemeral X25519 keys and signs the payload with the node's
 * identity (mero_noise_payload_encode()), so this core needs neither
 * randomness nor the identity's secret.
 *
 * The host feeds received bytes with mero_noise_recv(), which appends any
 * decrypted transport plaintext to the caller's array; it sends what
 * mero_noise_pull_send() returns; once ESTABLISHED it encrypts with
 * mero_noise_write().  Any failure (bad frame, tag, signature, peer) is
 * final: the state becomes FAILED and every later call reports it. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"
#include "net/core/mero-noise-payload.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_NOISE_PROTOCOL_ID "/noise"
#define MERO_NOISE_PROTOCOL_NAME "Noise_XX_25519_ChaChaPoly_SHA256"
#define MERO_NOISE_X25519_KEY_LEN 32

typedef enum {
  MERO_NOISE_ROLE_INITIATOR,
  MERO_NOISE_ROLE_RESPONDER,
} MeroNoiseRole;

typedef enum {
  MERO_NOISE_STATE_HANDSHAKING,
  MERO_NOISE_STATE_ESTABLISHED,
  MERO_NOISE_STATE_FAILED,
} MeroNoiseState;

typedef struct
{
  guint8 static_private_key[MERO_NOISE_X25519_KEY_LEN];
  guint8 ephemeral_private_key[MERO_NOISE_X25519_KEY_LEN];
  /* Our encoded handshake payload, signed over the public half of
   * static_private_key.  Copied (ref'd). */
  GBytes *payload;
  /* (nullable) the peer we dialed: any other identity fails the handshake. */
  const MeroPeerId *expected_peer;
  /* (nullable) libp2p uses an empty prologue; set only for test vectors. */
  const guint8 *prologue;
  gsize prologue_len;
} MeroNoiseConfig;

typedef struct _MeroNoise MeroNoise;

/* Writes the X25519 public key of @private_key into @public_key. */
void mero_noise_public_key (const guint8 private_key[MERO_NOISE_X25519_KEY_LEN],
                            guint8 public_key[MERO_NOISE_X25519_KEY_LEN]);

/* The initiator's first message is ready to pull at once.  The private
 * keys are copied and wiped from the session when it is freed. */
MeroNoise *mero_noise_new (MeroNoiseRole role, const MeroNoiseConfig *config);
/* Wipes the keys; NULL-safe. */
void mero_noise_free (MeroNoise *self);

/* Processes @data (any split of the byte stream).  Transport plaintext is
 * appended to @plaintext.  Returns FALSE with @error once the session has
 * failed. */
gboolean mero_noise_recv (MeroNoise    *self,
                          const guint8 *data,
                          gsize         len,
                          GByteArray   *plaintext,
                          GError      **error);

/* (transfer full) (nullable) framed bytes to send, or NULL if none. */
GBytes *mero_noise_pull_send (MeroNoise *self);

/* TRUE if pull_send would return something. */
gboolean mero_noise_wants_send (const MeroNoise *self);

/* Encrypts @data (any length) into as many frames as needed; only once
 * ESTABLISHED. */
gboolean mero_noise_write (MeroNoise    *self,
                           const guint8 *data,
                           gsize         len,
                           GError      **error);

/* Like mero_noise_write() but appends the frames to @out instead of the
 * queue pull_send() empties, so a caller that owns the socket buffer
 * saves a copy of every byte.  Only while wants_send() is FALSE, so
 * frames stay in order. */
gboolean mero_noise_write_into (MeroNoise    *self,
                                const guint8 *data,
                                gsize         len,
                                GByteArray   *out,
                                GError      **error);

MeroNoiseState mero_noise_get_state (const MeroNoise *self);

/* (transfer none) (nullable) the verified remote peer, once its payload
 * arrived (the responder's during msg 2, the initiator's in msg 3). */
const MeroPeerId *mero_noise_get_remote_peer (const MeroNoise *self);

/* (transfer none) stream muxers the remote listed in its payload (empty
 * if none), valid once the remote peer is known. */
const char *const *mero_noise_get_remote_stream_muxers (const MeroNoise *self);

/* The handshake hash (channel binding), valid once ESTABLISHED. */
const guint8 *mero_noise_get_handshake_hash (const MeroNoise *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNoise, mero_noise_free)

G_END_DECLS
