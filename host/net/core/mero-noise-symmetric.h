/* mero-noise-symmetric.h: the Noise CipherState and SymmetricState
 * (noise spec §5.1, §5.2) for ChaChaPoly and SHA-256, the only suite
 * libp2p uses.  Internal to the Noise core; no I/O. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_NOISE_KEY_LEN 32
#define MERO_NOISE_HASH_LEN 32
#define MERO_NOISE_TAG_LEN 16

typedef struct
{
  guint8 k[MERO_NOISE_KEY_LEN];
  guint64 n;
  gboolean has_key;
} MeroNoiseCipher;

typedef struct
{
  MeroNoiseCipher cipher;
  guint8 ck[MERO_NOISE_HASH_LEN];
  guint8 h[MERO_NOISE_HASH_LEN];
} MeroNoiseSymmetric;

/* Encrypts @len bytes of @pt with @ad into @ct (room for len + 16) and
 * advances the nonce.  FALSE once the nonce space is used up. */
gboolean mero_noise_cipher_encrypt (MeroNoiseCipher *cs, const guint8 *ad, gsize ad_len,
                                    const guint8 *pt, gsize len, guint8 *ct);
/* Decrypts @len bytes of @ct (tag included) into @pt (room for len - 16).
 * FALSE if authentication fails; the nonce advances only on success. */
gboolean mero_noise_cipher_decrypt (MeroNoiseCipher *cs, const guint8 *ad, gsize ad_len,
                                    const guint8 *ct, gsize len, guint8 *pt);

/* InitializeSymmetric with a protocol name of exactly 32 bytes, so that
 * h is the name itself (as for Noise_XX_25519_ChaChaPoly_SHA256). */
void mero_noise_symmetric_init (MeroNoiseSymmetric *ss, const char *protocol_name);
void mero_noise_symmetric_mix_hash (MeroNoiseSymmetric *ss, const guint8 *data, gsize len);
void mero_noise_symmetric_mix_key (MeroNoiseSymmetric *ss, const guint8 *ikm, gsize len);
/* Appends the (possibly encrypted) @pt to @out and mixes it into h. */
gboolean mero_noise_symmetric_encrypt_and_hash (MeroNoiseSymmetric *ss, const guint8 *pt,
                                                gsize len, GByteArray *out);
/* Appends the plaintext of @ct to @out; FALSE if it does not authenticate. */
gboolean mero_noise_symmetric_decrypt_and_hash (MeroNoiseSymmetric *ss, const guint8 *ct,
                                                gsize len, GByteArray *out);
/* Split(): the initiator sends with @c1 and the responder with @c2. */
void mero_noise_symmetric_split (const MeroNoiseSymmetric *ss, MeroNoiseCipher *c1,
                                 MeroNoiseCipher *c2);

/* HKDF of the Noise spec (§4.3) with two outputs, HMAC-SHA256. */
void mero_noise_hkdf2 (const guint8 ck[MERO_NOISE_HASH_LEN], const guint8 *ikm, gsize ikm_len,
                       guint8 out1[MERO_NOISE_HASH_LEN], guint8 out2[MERO_NOISE_HASH_LEN]);

G_END_DECLS
