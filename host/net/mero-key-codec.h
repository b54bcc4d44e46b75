/* mero-key-codec.h: libp2p key encodings (peer-ids.md; interop ref §2).
 *
 *   message PublicKey  { required KeyType Type = 1; required bytes Data = 2; }
 *   message PrivateKey { required KeyType Type = 1; required bytes Data = 2; }
 *
 * Only Ed25519 keys are produced here, and for them both messages are
 * fixed-size, so they are written and parsed by hand instead of through a
 * protobuf library.  The encoding is the deterministic one libp2p requires
 * (fields in tag order, minimal varints, nothing else), and the parser
 * accepts only that encoding, because PeerIds hash these exact bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MERO_KEY_TYPE_RSA = 0,
  MERO_KEY_TYPE_ED25519 = 1,
  MERO_KEY_TYPE_SECP256K1 = 2,
  MERO_KEY_TYPE_ECDSA = 3,
} MeroKeyType;

#define MERO_ED25519_PUBLIC_KEY_LEN 32
#define MERO_ED25519_SEED_LEN 32
/* 08 01 12 20 <32-byte key> */
#define MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN 36
/* 08 01 12 40 <32-byte seed> <32-byte public key> */
#define MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN 68

#define MERO_KEY_CODEC_ERROR (mero_key_codec_error_quark ())
GQuark mero_key_codec_error_quark (void);

typedef enum {
  MERO_KEY_CODEC_ERROR_MALFORMED = 1,   /* not the canonical protobuf */
  MERO_KEY_CODEC_ERROR_UNSUPPORTED = 2, /* a key type we cannot use */
  MERO_KEY_CODEC_ERROR_MISMATCH = 3,    /* private key's public half is wrong */
} MeroKeyCodecError;

void mero_key_codec_encode_ed25519_public (const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                           guint8 out[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN]);
void mero_key_codec_encode_ed25519_private (const guint8 seed[MERO_ED25519_SEED_LEN],
                                            const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                            guint8 out[MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN]);

/* Parses a PublicKey protobuf.  Sets *type and, for any type, points
 * @data and @data_len into @buf at the key bytes.  Fails on a non-canonical
 * encoding. */
gboolean mero_key_codec_decode_public (const guint8 *buf, gsize len, MeroKeyType *type,
                                       const guint8 **data, gsize *data_len, GError **error);

/* Parses an Ed25519 PrivateKey protobuf and checks that its public half
 * is the one derived from the seed. */
gboolean mero_key_codec_decode_ed25519_private (const guint8 *buf, gsize len,
                                                guint8 seed[MERO_ED25519_SEED_LEN],
                                                guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN],
                                                GError **error);

G_END_DECLS
