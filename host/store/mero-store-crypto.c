/* mero-store-crypto.c: value encryption at rest (format in the header). */
#include "store/mero-store-crypto.h"

#include "crypto/mero-secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <mero-sdk.h>

#define RECORD_MAGIC "MSEC"
#define RECORD_MAGIC_LEN 4
#define RECORD_AEAD_XCHACHA20POLY1305 1
#define RECORD_HEADER_LEN (RECORD_MAGIC_LEN + 4 + 8 + 8 + MERO_STORE_CRYPTO_SALT_BYTES)
#define CHECK_PLAIN_LEN 32
#define RECORD_LEN \
  (RECORD_HEADER_LEN + MERO_STORE_CRYPTO_NONCE_BYTES + CHECK_PLAIN_LEN + MERO_STORE_CRYPTO_TAG_BYTES)

#define VALUE_AD_DOMAIN "mero/store/value/v1"
#define CHECK_AD_DOMAIN "mero/store/keycheck/v1"
/* A key file is 32 raw bytes, or 64 hex digits plus an optional "\n". */
#define KEY_FILE_MAX 65

G_STATIC_ASSERT (MERO_STORE_CRYPTO_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
G_STATIC_ASSERT (MERO_STORE_CRYPTO_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
G_STATIC_ASSERT (MERO_STORE_CRYPTO_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES);
G_STATIC_ASSERT (MERO_STORE_CRYPTO_SALT_BYTES == crypto_pwhash_SALTBYTES);

struct _MeroStoreCrypto {
  MeroStoreKdf kdf;
  /* sodium_malloc()ed: guarded pages, wiped by sodium_free. */
  guint8 *key;            /* valid once key_ready */
  char *passphrase;       /* until the key is derived */
  gsize passphrase_len;
  gboolean key_ready;
  guint8 nonce_prefix[16];
  guint64 nonce_counter;  /* atomic */
};

typedef struct {
  guint8 format;
  guint8 kdf;
  guint8 aead;
  guint64 ops_limit;
  guint64 mem_limit;
  guint8 salt[MERO_STORE_CRYPTO_SALT_BYTES];
} RecordHeader;

static void
ensure_sodium (void)
{
  /* sodium_init is idempotent and thread-safe; it only fails if no
   * entropy source exists, in which case nothing here can work. */
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised");
}

MeroKey
mero_store_crypto_record_key (void)
{
  /* Built by hand: mero_key_from_bytes() refuses reserved keys. */
  static const guint8 bytes[] = { MERO_KEY_META_TAG_RESERVED, 'c', 'r', 'y', 'p', 't', 'o' };
  MeroKey key = { .column = MERO_COLUMN_META, .len = sizeof bytes };

  memcpy (key.bytes, bytes, sizeof bytes);
  return key;
}

static MeroStoreCrypto *
crypto_alloc (MeroStoreKdf kdf)
{
  MeroStoreCrypto *crypto;

  ensure_sodium ();
  crypto = g_new0 (MeroStoreCrypto, 1);
  crypto->kdf = kdf;
  crypto->key = sodium_malloc (MERO_STORE_CRYPTO_KEY_BYTES);
  if (crypto->key == NULL)
    g_error ("sodium_malloc failed");
  randombytes_buf (crypto->nonce_prefix, sizeof crypto->nonce_prefix);
  return crypto;
}

void
mero_store_crypto_free (MeroStoreCrypto *crypto)
{
  if (crypto == NULL)
    return;
  sodium_free (crypto->key);
  sodium_free (crypto->passphrase);
  g_free (crypto);
}

static void
forget_passphrase (MeroStoreCrypto *crypto)
{
  sodium_free (crypto->passphrase);
  crypto->passphrase = NULL;
  crypto->passphrase_len = 0;
}

MeroStoreCrypto *
mero_store_crypto_new_passphrase (const char *passphrase, GError **error)
{
  g_autoptr (MeroStoreCrypto) crypto = NULL;
  gsize len;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (passphrase == NULL || passphrase[0] == '\0')
    {
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                           "An empty passphrase cannot encrypt the store");
      return NULL;
    }
  len = strlen (passphrase);
  crypto = crypto_alloc (MERO_STORE_KDF_ARGON2ID13);
  crypto->passphrase = sodium_malloc (len + 1);
  if (crypto->passphrase == NULL)
    g_error ("sodium_malloc failed");
  memcpy (crypto->passphrase, passphrase, len + 1);
  crypto->passphrase_len = len;
  return g_steal_pointer (&crypto);
}

static gboolean
parse_key_file (const char *path, const guint8 *buf, gsize len, guint8 *key, GError **error)
{
  gsize bin_len = 0;

  if (len == MERO_STORE_CRYPTO_KEY_BYTES)
    {
      memcpy (key, buf, MERO_STORE_CRYPTO_KEY_BYTES);
      return TRUE;
    }
  if (len == 2 * MERO_STORE_CRYPTO_KEY_BYTES + 1 && buf[len - 1] == '\n')
    len--;
  if (len == 2 * MERO_STORE_CRYPTO_KEY_BYTES
      && sodium_hex2bin (key, MERO_STORE_CRYPTO_KEY_BYTES, (const char *) buf, len, NULL,
                         &bin_len, NULL) == 0
      && bin_len == MERO_STORE_CRYPTO_KEY_BYTES)
    return TRUE;

  g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
               "Key file %s must hold exactly 32 raw bytes or 64 hex digits", path);
  return FALSE;
}

MeroStoreCrypto *
mero_store_crypto_new_key_file (const char *path, GError **error)
{
  g_autoptr (MeroStoreCrypto) crypto = NULL;
  g_autoptr (GError) local_error = NULL;
  guint8 *buf;
  gssize n;
  gboolean ok;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (path == NULL || path[0] == '\0')
    {
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                           "No key file given");
      return NULL;
    }

  crypto = crypto_alloc (MERO_STORE_KDF_KEY_FILE);
  /* One byte more than the largest valid file, to detect longer ones. */
  buf = sodium_malloc (KEY_FILE_MAX + 1);
  if (buf == NULL)
    g_error ("sodium_malloc failed");
  n = mero_secret_file_read (path, buf, KEY_FILE_MAX + 1, &local_error);
  if (n < 0)
    {
      g_set_error (error, MERO_STORE_ERROR,
                   g_error_matches (local_error, MERO_SECRET_FILE_ERROR,
                                    MERO_SECRET_FILE_ERROR_IO)
                       ? MERO_STORE_ERROR_IO
                       : MERO_STORE_ERROR_INVALID,
                   "Key file: %s", local_error->message);
      ok = FALSE;
    }
  else
    ok = parse_key_file (path, buf, (gsize) n, crypto->key, error);
  sodium_free (buf);
  if (!ok)
    return NULL;
  crypto->key_ready = TRUE;
  return g_steal_pointer (&crypto);
}

static void
header_write (const RecordHeader *h, guint8 *out)
{
  guint64 ops = GUINT64_TO_BE (h->ops_limit);
  guint64 mem = GUINT64_TO_BE (h->mem_limit);

  memcpy (out, RECORD_MAGIC, RECORD_MAGIC_LEN);
  out[4] = h->format;
  out[5] = h->kdf;
  out[6] = h->aead;
  out[7] = 0;
  memcpy (out + 8, &ops, 8);
  memcpy (out + 16, &mem, 8);
  memcpy (out + 24, h->salt, MERO_STORE_CRYPTO_SALT_BYTES);
}

static gboolean
header_read (const guint8 *in, gsize len, RecordHeader *h, GError **error)
{
  guint64 ops, mem;

  if (len != RECORD_LEN || memcmp (in, RECORD_MAGIC, RECORD_MAGIC_LEN) != 0)
    {
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                           "The store's encryption record is malformed");
      return FALSE;
    }
  h->format = in[4];
  h->kdf = in[5];
  h->aead = in[6];
  memcpy (&ops, in + 8, 8);
  memcpy (&mem, in + 16, 8);
  h->ops_limit = GUINT64_FROM_BE (ops);
  h->mem_limit = GUINT64_FROM_BE (mem);
  memcpy (h->salt, in + 24, MERO_STORE_CRYPTO_SALT_BYTES);

  if (h->format != MERO_STORE_FORMAT)
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                   "The store uses format %u; this build reads format %u", h->format,
                   MERO_STORE_FORMAT);
      return FALSE;
    }
  if (h->aead != RECORD_AEAD_XCHACHA20POLY1305
      || (h->kdf != MERO_STORE_KDF_ARGON2ID13 && h->kdf != MERO_STORE_KDF_KEY_FILE))
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                   "The store's encryption record names an unknown cipher (%u) or key source (%u)",
                   h->aead, h->kdf);
      return FALSE;
    }
  if (h->kdf == MERO_STORE_KDF_ARGON2ID13
      && (h->ops_limit < crypto_pwhash_OPSLIMIT_MIN || h->ops_limit > crypto_pwhash_OPSLIMIT_MAX
          || h->mem_limit < crypto_pwhash_MEMLIMIT_MIN
          || h->mem_limit > MERO_STORE_CRYPTO_MEMLIMIT_CAP))
    {
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                           "The store's Argon2id parameters are out of range");
      return FALSE;
    }
  return TRUE;
}

static gboolean
derive_key (MeroStoreCrypto *crypto, const RecordHeader *h, GError **error)
{
  int rc;

  g_assert (crypto->passphrase != NULL);
  rc = crypto_pwhash (crypto->key, MERO_STORE_CRYPTO_KEY_BYTES, crypto->passphrase,
                      crypto->passphrase_len, h->salt, h->ops_limit, (size_t) h->mem_limit,
                      crypto_pwhash_ALG_ARGON2ID13);
  forget_passphrase (crypto);
  if (rc != 0)
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_FAILED,
                   "Argon2id key derivation failed (memory limit %" G_GUINT64_FORMAT " bytes)",
                   h->mem_limit);
      return FALSE;
    }
  crypto->key_ready = TRUE;
  return TRUE;
}

static void
check_ad (const guint8 *header, guint8 *ad)
{
  memcpy (ad, CHECK_AD_DOMAIN, sizeof CHECK_AD_DOMAIN - 1);
  memcpy (ad + sizeof CHECK_AD_DOMAIN - 1, header, RECORD_HEADER_LEN);
}

#define CHECK_AD_LEN (sizeof CHECK_AD_DOMAIN - 1 + RECORD_HEADER_LEN)

gboolean
mero_store_crypto_unlock (MeroStoreCrypto *crypto, const guint8 *record, gsize record_len,
                          GError **error)
{
  guint8 ad[CHECK_AD_LEN];
  guint8 plain[CHECK_PLAIN_LEN];
  RecordHeader h;
  const guint8 *nonce, *check;

  g_return_val_if_fail (crypto != NULL, FALSE);
  g_return_val_if_fail (record != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!header_read (record, record_len, &h, error))
    return FALSE;
  if (h.kdf != crypto->kdf)
    {
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY,
                           h.kdf == MERO_STORE_KDF_ARGON2ID13
                               ? "The store is encrypted with a passphrase, not a key file"
                               : "The store is encrypted with a key file, not a passphrase");
      return FALSE;
    }
  if (crypto->kdf == MERO_STORE_KDF_ARGON2ID13 && !derive_key (crypto, &h, error))
    return FALSE;

  nonce = record + RECORD_HEADER_LEN;
  check = nonce + MERO_STORE_CRYPTO_NONCE_BYTES;
  check_ad (record, ad);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (
          plain, NULL, NULL, check, CHECK_PLAIN_LEN + MERO_STORE_CRYPTO_TAG_BYTES, ad,
          sizeof ad, nonce, crypto->key)
      != 0)
    {
      sodium_memzero (crypto->key, MERO_STORE_CRYPTO_KEY_BYTES);
      crypto->key_ready = FALSE;
      g_set_error_literal (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY,
                           crypto->kdf == MERO_STORE_KDF_ARGON2ID13
                               ? "Wrong passphrase for the encrypted store"
                               : "Wrong key file for the encrypted store");
      return FALSE;
    }
  return TRUE;
}

GBytes *
mero_store_crypto_setup (MeroStoreCrypto *crypto, guint64 ops_limit, guint64 mem_limit,
                         GError **error)
{
  static const guint8 zeros[CHECK_PLAIN_LEN] = { 0 };
  guint8 ad[CHECK_AD_LEN];
  RecordHeader h = { 0 };
  guint8 *record;

  g_return_val_if_fail (crypto != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  h.format = MERO_STORE_FORMAT;
  h.kdf = (guint8) crypto->kdf;
  h.aead = RECORD_AEAD_XCHACHA20POLY1305;
  if (crypto->kdf == MERO_STORE_KDF_ARGON2ID13)
    {
      h.ops_limit = ops_limit != 0 ? ops_limit : crypto_pwhash_OPSLIMIT_MODERATE;
      h.mem_limit = mem_limit != 0 ? mem_limit : crypto_pwhash_MEMLIMIT_MODERATE;
      if (h.ops_limit < crypto_pwhash_OPSLIMIT_MIN || h.ops_limit > crypto_pwhash_OPSLIMIT_MAX
          || h.mem_limit < crypto_pwhash_MEMLIMIT_MIN
          || h.mem_limit > MERO_STORE_CRYPTO_MEMLIMIT_CAP)
        {
          g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                       "Argon2id limits out of range (ops %" G_GUINT64_FORMAT
                       ", memory %" G_GUINT64_FORMAT " bytes)",
                       h.ops_limit, h.mem_limit);
          return NULL;
        }
      randombytes_buf (h.salt, sizeof h.salt);
      if (!derive_key (crypto, &h, error))
        return NULL;
    }

  record = g_malloc (RECORD_LEN);
  header_write (&h, record);
  randombytes_buf (record + RECORD_HEADER_LEN, MERO_STORE_CRYPTO_NONCE_BYTES);
  check_ad (record, ad);
  crypto_aead_xchacha20poly1305_ietf_encrypt (
      record + RECORD_HEADER_LEN + MERO_STORE_CRYPTO_NONCE_BYTES, NULL, zeros, sizeof zeros, ad,
      sizeof ad, NULL, record + RECORD_HEADER_LEN, crypto->key);
  return g_bytes_new_take (record, RECORD_LEN);
}

/* Largest AD: domain, column byte, key. */
#define VALUE_AD_MAX (sizeof VALUE_AD_DOMAIN - 1 + 1 + MERO_KEY_MAX)

static gsize
value_ad (MeroColumn column, const guint8 *key, gsize key_len, guint8 *ad)
{
  gsize off = sizeof VALUE_AD_DOMAIN - 1;

  memcpy (ad, VALUE_AD_DOMAIN, off);
  ad[off++] = (guint8) column;
  memcpy (ad + off, key, key_len);
  return off + key_len;
}

void
mero_store_crypto_seal (MeroStoreCrypto *crypto, MeroColumn column, const guint8 *key,
                        gsize key_len, const guint8 *plain, gsize plain_len, guint8 *out)
{
  guint8 ad[VALUE_AD_MAX];
  gsize ad_len;
  guint64 counter;

  g_return_if_fail (crypto != NULL && crypto->key_ready);
  g_return_if_fail (key_len <= MERO_KEY_MAX);

  counter = GUINT64_TO_BE (__atomic_fetch_add (&crypto->nonce_counter, 1, __ATOMIC_RELAXED));
  memcpy (out, crypto->nonce_prefix, sizeof crypto->nonce_prefix);
  memcpy (out + sizeof crypto->nonce_prefix, &counter, sizeof counter);
  ad_len = value_ad (column, key, key_len, ad);
  crypto_aead_xchacha20poly1305_ietf_encrypt (out + MERO_STORE_CRYPTO_NONCE_BYTES, NULL, plain,
                                              plain_len, ad, ad_len, NULL, out, crypto->key);
}

GBytes *
mero_store_crypto_open (MeroStoreCrypto *crypto, MeroColumn column, const guint8 *key,
                        gsize key_len, const guint8 *sealed, gsize sealed_len, GError **error)
{
  guint8 ad[VALUE_AD_MAX];
  gsize ad_len, plain_len;
  guint8 *plain;

  g_return_val_if_fail (crypto != NULL && crypto->key_ready, NULL);
  g_return_val_if_fail (key_len <= MERO_KEY_MAX, NULL);

  if (sealed_len < MERO_STORE_CRYPTO_OVERHEAD)
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                   "Encrypted value in column %s is truncated (%" G_GSIZE_FORMAT " bytes)",
                   mero_column_name (column), sealed_len);
      return NULL;
    }
  plain_len = sealed_len - MERO_STORE_CRYPTO_OVERHEAD;
  /* +1 so that an empty value still gets a distinct allocation. */
  plain = g_malloc (plain_len + 1);
  ad_len = value_ad (column, key, key_len, ad);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (
          plain, NULL, NULL, sealed + MERO_STORE_CRYPTO_NONCE_BYTES,
          sealed_len - MERO_STORE_CRYPTO_NONCE_BYTES, ad, ad_len, sealed, crypto->key)
      != 0)
    {
      g_free (plain);
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT,
                   "Encrypted value in column %s does not authenticate for its key "
                   "(corrupted, or moved from another key)",
                   mero_column_name (column));
      return NULL;
    }
  return g_bytes_new_take (plain, plain_len);
}
