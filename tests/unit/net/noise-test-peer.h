/* noise-test-peer.h: builds Noise configurations from fixed seeds for
 * the unit tests and fuzz targets (deterministic keys, libsodium signing
 * in place of the node identity). */
#pragma once

#include <glib.h>
#include <sodium.h>
#include <string.h>

#include "net/core/mero-noise.h"
#include "net/mero-key-codec.h"

typedef struct
{
  MeroNoiseConfig config;
  guint8 identity_pk[crypto_sign_PUBLICKEYBYTES];
  guint8 identity_sk[crypto_sign_SECRETKEYBYTES];
  MeroPeerId *peer_id;
} NoiseTestPeer;

/* Every key is 32 copies of one byte, as in tests/interop/gen-noise-kat.mjs.
 * @sign_static: the byte of the X25519 key the signature covers (equal to
 * @static_byte for an honest peer). */
static inline void
noise_test_peer_init (NoiseTestPeer *p, guint8 identity_byte, guint8 static_byte,
                      guint8 ephemeral_byte, guint8 sign_static, const char *const *muxers)
{
  guint8 seed[32], spub[32], spriv[32], msg[MERO_NOISE_SIGNING_MESSAGE_LEN];
  guint8 key_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  guint8 sig[crypto_sign_BYTES];

  g_assert (sodium_init () >= 0);
  memset (p, 0, sizeof *p);
  memset (seed, identity_byte, sizeof seed);
  crypto_sign_seed_keypair (p->identity_pk, p->identity_sk, seed);
  memset (p->config.static_private_key, static_byte, 32);
  memset (p->config.ephemeral_private_key, ephemeral_byte, 32);
  memset (spriv, sign_static, sizeof spriv);
  mero_noise_public_key (spriv, spub);
  mero_noise_signing_message (spub, msg);
  crypto_sign_detached (sig, NULL, msg, sizeof msg, p->identity_sk);
  mero_key_codec_encode_ed25519_public (p->identity_pk, key_pb);
  p->config.payload = mero_noise_payload_encode (key_pb, sizeof key_pb, sig, sizeof sig, muxers);
  p->peer_id = mero_peer_id_new_from_ed25519 (p->identity_pk);
}

static inline void
noise_test_peer_clear (NoiseTestPeer *p)
{
  g_clear_pointer (&p->config.payload, g_bytes_unref);
  g_clear_pointer (&p->peer_id, mero_peer_id_free);
}
