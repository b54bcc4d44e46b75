/* mero-noise-symmetric.c: CipherState/SymmetricState for
 * ChaChaPoly + SHA-256.  ChaCha20-Poly1305 comes from libsodium, SHA-256
 * and HMAC from GnuTLS (hardware-accelerated, as in host/crypto). */
#include "net/core/mero-noise-symmetric.h"

#include <gnutls/crypto.h>
#include <sodium.h>
#include <string.h>

/* 4 zero bytes || 64-bit little-endian counter (noise spec §12.3). */
static void
make_nonce (guint64 n, guint8 nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES])
{
  memset (nonce, 0, 4);
  for (guint i = 0; i < 8; i++)
    nonce[4 + i] = (guint8) (n >> (8 * i));
}

gboolean
mero_noise_cipher_encrypt (MeroNoiseCipher *cs, const guint8 *ad, gsize ad_len,
                           const guint8 *pt, gsize len, guint8 *ct)
{
  guint8 nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  unsigned long long clen = 0;

  /* n = 2^64-1 is reserved by the spec: the session must end first. */
  if (cs->n == G_MAXUINT64)
    return FALSE;
  make_nonce (cs->n, nonce);
  crypto_aead_chacha20poly1305_ietf_encrypt (ct, &clen, pt, len, ad, ad_len, NULL, nonce,
                                             cs->k);
  cs->n++;
  return TRUE;
}

gboolean
mero_noise_cipher_decrypt (MeroNoiseCipher *cs, const guint8 *ad, gsize ad_len,
                           const guint8 *ct, gsize len, guint8 *pt)
{
  guint8 nonce[crypto_aead_chacha20poly1305_IETF_NPUBBYTES];
  unsigned long long plen = 0;

  if (cs->n == G_MAXUINT64 || len < MERO_NOISE_TAG_LEN)
    return FALSE;
  make_nonce (cs->n, nonce);
  if (crypto_aead_chacha20poly1305_ietf_decrypt (pt, &plen, NULL, ct, len, ad, ad_len, nonce,
                                                 cs->k) != 0)
    return FALSE;
  cs->n++;
  return TRUE;
}

static void
hmac (const guint8 *key, gsize key_len, const guint8 *data, gsize len,
      guint8 out[MERO_NOISE_HASH_LEN])
{
  int rc = gnutls_hmac_fast (GNUTLS_MAC_SHA256, key, key_len, data, len, out);

  /* Only fails if SHA-256 is missing from GnuTLS, which merod requires. */
  g_assert (rc == 0);
}

void
mero_noise_hkdf2 (const guint8 ck[MERO_NOISE_HASH_LEN], const guint8 *ikm, gsize ikm_len,
                  guint8 out1[MERO_NOISE_HASH_LEN], guint8 out2[MERO_NOISE_HASH_LEN])
{
  guint8 temp[MERO_NOISE_HASH_LEN];
  guint8 buf[MERO_NOISE_HASH_LEN + 1];
  const guint8 one = 0x01;

  hmac (ck, MERO_NOISE_HASH_LEN, ikm, ikm_len, temp);
  hmac (temp, sizeof temp, &one, 1, out1);
  memcpy (buf, out1, MERO_NOISE_HASH_LEN);
  buf[MERO_NOISE_HASH_LEN] = 0x02;
  hmac (temp, sizeof temp, buf, sizeof buf, out2);
  sodium_memzero (temp, sizeof temp);
  sodium_memzero (buf, sizeof buf);
}

void
mero_noise_symmetric_init (MeroNoiseSymmetric *ss, const char *protocol_name)
{
  g_assert (strlen (protocol_name) == MERO_NOISE_HASH_LEN);
  memset (ss, 0, sizeof *ss);
  memcpy (ss->h, protocol_name, MERO_NOISE_HASH_LEN);
  memcpy (ss->ck, ss->h, MERO_NOISE_HASH_LEN);
}

void
mero_noise_symmetric_mix_hash (MeroNoiseSymmetric *ss, const guint8 *data, gsize len)
{
  gnutls_hash_hd_t hd;

  g_assert (gnutls_hash_init (&hd, GNUTLS_DIG_SHA256) == 0);
  gnutls_hash (hd, ss->h, MERO_NOISE_HASH_LEN);
  if (len > 0)
    gnutls_hash (hd, data, len);
  gnutls_hash_deinit (hd, ss->h);
}

void
mero_noise_symmetric_mix_key (MeroNoiseSymmetric *ss, const guint8 *ikm, gsize len)
{
  guint8 ck[MERO_NOISE_HASH_LEN];

  mero_noise_hkdf2 (ss->ck, ikm, len, ck, ss->cipher.k);
  memcpy (ss->ck, ck, sizeof ck);
  sodium_memzero (ck, sizeof ck);
  ss->cipher.n = 0;
  ss->cipher.has_key = TRUE;
}

gboolean
mero_noise_symmetric_encrypt_and_hash (MeroNoiseSymmetric *ss, const guint8 *pt, gsize len,
                                       GByteArray *out)
{
  guint start = out->len;

  if (!ss->cipher.has_key)
    {
      g_byte_array_append (out, pt, (guint) len);
    }
  else
    {
      g_byte_array_set_size (out, start + (guint) len + MERO_NOISE_TAG_LEN);
      if (!mero_noise_cipher_encrypt (&ss->cipher, ss->h, MERO_NOISE_HASH_LEN, pt, len,
                                      out->data + start))
        {
          g_byte_array_set_size (out, start);
          return FALSE;
        }
    }
  mero_noise_symmetric_mix_hash (ss, out->data + start, out->len - start);
  return TRUE;
}

gboolean
mero_noise_symmetric_decrypt_and_hash (MeroNoiseSymmetric *ss, const guint8 *ct, gsize len,
                                       GByteArray *out)
{
  guint start = out->len;

  if (!ss->cipher.has_key)
    {
      g_byte_array_append (out, ct, (guint) len);
    }
  else
    {
      if (len < MERO_NOISE_TAG_LEN)
        return FALSE;
      g_byte_array_set_size (out, start + (guint) (len - MERO_NOISE_TAG_LEN));
      if (!mero_noise_cipher_decrypt (&ss->cipher, ss->h, MERO_NOISE_HASH_LEN, ct, len,
                                      out->data + start))
        {
          g_byte_array_set_size (out, start);
          return FALSE;
        }
    }
  /* h covers the ciphertext, so it is mixed in after decrypting with the
   * old h as associated data. */
  mero_noise_symmetric_mix_hash (ss, ct, len);
  return TRUE;
}

void
mero_noise_symmetric_split (const MeroNoiseSymmetric *ss, MeroNoiseCipher *c1,
                            MeroNoiseCipher *c2)
{
  memset (c1, 0, sizeof *c1);
  memset (c2, 0, sizeof *c2);
  mero_noise_hkdf2 (ss->ck, (const guint8 *) "", 0, c1->k, c2->k);
  c1->has_key = TRUE;
  c2->has_key = TRUE;
}
