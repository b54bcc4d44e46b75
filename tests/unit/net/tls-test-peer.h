/* tls-test-peer.h: libp2p TLS identities from fixed seeds for the unit
 * tests and the fuzz target (libsodium signing in place of the node
 * identity; the certificate key itself comes from GnuTLS). */
#pragma once

#include <glib.h>
#include <sodium.h>
#include <string.h>

#include "net/core/mero-tls.h"
#include "net/mero-key-codec.h"

/* 2026-11-25, a fixed wall clock for certificate validity. */
#define TLS_TEST_NOW_UNIX G_GINT64_CONSTANT (1795600000)

typedef struct
{
  guint8 identity_pk[crypto_sign_PUBLICKEYBYTES];
  guint8 identity_sk[crypto_sign_SECRETKEYBYTES];
  guint8 key_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  MeroPeerId *peer_id;
  gboolean corrupt_signature; /* sign, then flip a bit */
} TlsTestIdentity;

static inline void
tls_test_sign (const guint8 *message, gsize len, guint8 signature[64], gpointer user_data)
{
  TlsTestIdentity *id = user_data;

  crypto_sign_detached (signature, NULL, message, len, id->identity_sk);
  if (id->corrupt_signature)
    signature[7] ^= 0x20;
}

static inline void
tls_test_identity_init (TlsTestIdentity *id, guint8 identity_byte)
{
  guint8 seed[32];

  g_assert (sodium_init () >= 0);
  memset (id, 0, sizeof *id);
  memset (seed, identity_byte, sizeof seed);
  crypto_sign_seed_keypair (id->identity_pk, id->identity_sk, seed);
  mero_key_codec_encode_ed25519_public (id->identity_pk, id->key_pb);
  id->peer_id = mero_peer_id_new_from_ed25519 (id->identity_pk);
}

static inline void
tls_test_identity_clear (TlsTestIdentity *id)
{
  g_clear_pointer (&id->peer_id, mero_peer_id_free);
  sodium_memzero (id->identity_sk, sizeof id->identity_sk);
}

/* Credentials for @id, optionally broken with @flags. */
static inline MeroTlsCredentials *
tls_test_credentials (TlsTestIdentity *id, MeroTlsCertFlags flags, gint64 now_unix)
{
  g_autoptr(GError) error = NULL;
  MeroTlsCredentials *creds = mero_tls_credentials_new_full (id->key_pb, sizeof id->key_pb,
                                                             tls_test_sign, id, now_unix, flags,
                                                             &error);

  g_assert_no_error (error);
  return creds;
}
