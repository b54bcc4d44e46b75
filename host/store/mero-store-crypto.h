/* mero-store-crypto.h: encryption of values at rest.
 *
 * Values are sealed with XChaCha20-Poly1305-IETF (libsodium).  The
 * associated data binds the column and the key bytes, so a value copied
 * or moved to another key (or column) no longer opens: the façade reports
 * MERO_STORE_ERROR_CORRUPT.  Keys stay plaintext so ordering and range
 * scans work.
 *
 * Sealed value:  nonce[24] || ciphertext || tag[16]
 *   nonce = random prefix[16] chosen per open || 64-bit big-endian counter,
 *   unique without a getrandom() call per write (XChaCha's 192-bit nonce
 *   makes a random 128-bit prefix safe across opens).
 *   AD    = "mero/store/value/v1" || column (1 byte) || key bytes
 *
 * The store key comes either from a passphrase through Argon2id
 * (crypto_pwhash, ALG_ARGON2ID13) or from a key file holding 32 raw bytes
 * or 64 hex digits (optionally followed by one newline); any other size is
 * refused, as is a file that group or others may access.
 *
 * An encrypted store carries one plaintext record in the META column
 * under the reserved key 0x00 "crypto" (mero_store_crypto_record_key()):
 *   magic "MSEC" | format u8 | kdf u8 | aead u8 | 0 u8
 *   | opslimit u64be | memlimit u64be | salt[16]        (40-byte header)
 *   | nonce[24] | check[48]
 * check seals 32 zero bytes with AD "mero/store/keycheck/v1" || header,
 * so a wrong key (or tampered parameters) is detected at open, before
 * anything is written.  On reopen the stored Argon2id parameters are used,
 * whatever the options say.
 *
 * Key material lives in sodium_malloc()ed memory and is wiped when no
 * longer needed. */
#pragma once

#include <glib.h>

#include "store/mero-store-keys.h"

G_BEGIN_DECLS

typedef struct _MeroStoreCrypto MeroStoreCrypto;

typedef enum {
  MERO_STORE_KDF_ARGON2ID13 = 1, /* passphrase */
  MERO_STORE_KDF_KEY_FILE = 2,   /* the key file's 32 bytes, used as is */
} MeroStoreKdf;

#define MERO_STORE_CRYPTO_KEY_BYTES 32
#define MERO_STORE_CRYPTO_SALT_BYTES 16
#define MERO_STORE_CRYPTO_NONCE_BYTES 24
#define MERO_STORE_CRYPTO_TAG_BYTES 16
/* Bytes a sealed value has on top of its plaintext. */
#define MERO_STORE_CRYPTO_OVERHEAD (MERO_STORE_CRYPTO_NONCE_BYTES + MERO_STORE_CRYPTO_TAG_BYTES)
/* Upper bound on the Argon2id memory limit we accept, from options or from
 * a stored record: a corrupted record must not make open allocate
 * unbounded memory. */
#define MERO_STORE_CRYPTO_MEMLIMIT_CAP (G_GUINT64_CONSTANT (4) << 30)

/* The reserved META key of the crypto record. */
MeroKey mero_store_crypto_record_key (void);

/* Key material from a passphrase (copied; derivation happens in unlock or
 * setup, once the salt is known). */
MeroStoreCrypto *mero_store_crypto_new_passphrase (const char *passphrase, GError **error);
/* Key material from a key file, read and vetted now. */
MeroStoreCrypto *mero_store_crypto_new_key_file (const char *path, GError **error);
/* Wipes the key; NULL-safe. */
void mero_store_crypto_free (MeroStoreCrypto *crypto);

/* For an existing encrypted store: parses @record, derives the key with
 * the stored parameters and checks it.  MERO_STORE_ERROR_WRONG_KEY if it
 * does not match, MERO_STORE_ERROR_CORRUPT if the record is malformed. */
gboolean mero_store_crypto_unlock (MeroStoreCrypto *crypto, const guint8 *record,
                                   gsize record_len, GError **error);
/* For a new store: picks a salt, derives the key (@ops_limit/@mem_limit
 * 0 = crypto_pwhash_*_MODERATE; ignored for key files) and returns the
 * record to store (transfer full), or NULL with @error. */
GBytes *mero_store_crypto_setup (MeroStoreCrypto *crypto, guint64 ops_limit,
                                 guint64 mem_limit, GError **error);

/* Seals @plain for (@column, @key) into @out, which must hold
 * @plain_len + MERO_STORE_CRYPTO_OVERHEAD bytes.  Thread-safe. */
void mero_store_crypto_seal (MeroStoreCrypto *crypto, MeroColumn column, const guint8 *key,
                             gsize key_len, const guint8 *plain, gsize plain_len,
                             guint8 *out);
/* Opens a sealed value; (transfer full) plaintext, or NULL with
 * MERO_STORE_ERROR_CORRUPT.  Thread-safe. */
GBytes *mero_store_crypto_open (MeroStoreCrypto *crypto, MeroColumn column, const guint8 *key,
                                gsize key_len, const guint8 *sealed, gsize sealed_len,
                                GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStoreCrypto, mero_store_crypto_free)

G_END_DECLS
