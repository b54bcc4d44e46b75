/* mero-store.h: the store façade.
 *
 * One ordered key-value database with the column families of DESIGN §10,
 * reached through a STORAGE_BACKEND plugin (store-rocksdb by default,
 * store-memory for tests).  Callers address values with typed keys
 * (mero-store-keys.h), which carry their column so a key can never be used
 * in the wrong one.  Values may be encrypted at rest (mero-store-crypto.h);
 * keys are not, so ordering and range scans keep working.
 *
 * Thread safety: a MeroStore may be used from several threads at once;
 * batches, iterators and snapshots belong to one thread at a time. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "mero-store-keys.h"

G_BEGIN_DECLS

typedef struct _MeroStore MeroStore;
typedef struct _MeroStoreBatch MeroStoreBatch;
typedef struct _MeroStoreIter MeroStoreIter;
typedef struct _MeroStoreSnapshot MeroStoreSnapshot;

typedef enum {
  MERO_STORE_KEY_SOURCE_NONE = 0,       /* plaintext values */
  MERO_STORE_KEY_SOURCE_PASSPHRASE = 1, /* Argon2id(passphrase, salt stored in the db) */
  MERO_STORE_KEY_SOURCE_KEY_FILE = 2,   /* 32 raw bytes, or 64 hex chars, in a file */
} MeroStoreKeySource;

typedef struct {
  MeroStoreKeySource key_source;
  const char *passphrase;    /* for PASSPHRASE */
  const char *key_file;      /* for KEY_FILE */
  gboolean sync_writes;      /* fsync the WAL on every commit */
  guint64 cache_bytes;       /* backend block cache hint; 0 = default */
  /* Argon2id cost used when a passphrase-encrypted store is created
   * (crypto_pwhash opslimit / memlimit in bytes); 0 = libsodium's
   * MODERATE.  Tests set crypto_pwhash_OPSLIMIT_MIN/MEMLIMIT_MIN.  An
   * existing store always uses the parameters stored with it. */
  guint64 argon2_ops_limit;
  guint64 argon2_mem_limit;
} MeroStoreOptions;

/* Opens (creating if needed) the database at @path through @backend.
 * @plugin_data is the backend plugin's data from its init.  @backend must
 * stay valid until the store is closed (the store keeps the pointer).
 * @options may be NULL (plaintext, defaults).
 * Errors: MERO_STORE_ERROR_* (LOCKED, WRONG_KEY, NEEDS_KEY, ...).  On a
 * key error nothing in the database is touched.
 *   - encrypted store, no key                -> NEEDS_KEY
 *   - encrypted store, wrong passphrase/file -> WRONG_KEY
 *   - key given, non-empty plaintext store   -> NOT_ENCRYPTED
 *   - key given, empty store                 -> the store becomes encrypted
 *   - bad key file (size, mode), missing method in @backend -> INVALID
 *
 * Keys passed to any function below must come from the builders of
 * mero-store-keys.h (column in range, reserved META keys refused:
 * programmer errors, checked with g_return_val_if_fail). */
MeroStore *mero_store_open (const MeroStorageBackendVTable *backend, void *plugin_data,
                            const char *path, const MeroStoreOptions *options,
                            GError **error);
/* Flushes and closes; NULL-safe. */
void mero_store_close (MeroStore *store);
gboolean mero_store_flush (MeroStore *store, GError **error);
gboolean mero_store_is_encrypted (MeroStore *store);
/* The path the store was opened at (the backend may keep nothing there). */
const char *mero_store_get_path (MeroStore *store);

/* Point read: TRUE on success, *value (transfer full) NULL if absent.
 * The value stays valid after the store is closed.  A sealed value that
 * does not authenticate for @key fails with MERO_STORE_ERROR_CORRUPT. */
gboolean mero_store_get (MeroStore *store, const MeroKey *key, GBytes **value, GError **error);
gboolean mero_store_put (MeroStore *store, const MeroKey *key, const guint8 *value,
                         gsize value_len, GError **error);
gboolean mero_store_put_bytes (MeroStore *store, const MeroKey *key, GBytes *value,
                               GError **error);
gboolean mero_store_delete (MeroStore *store, const MeroKey *key, GError **error);

/* Atomic batches.  put/delete copy their arguments (values are sealed
 * right away in an encrypted store).  count is the number of operations
 * added so far.  commit applies all of them or none, and does not empty
 * the batch. */
MeroStoreBatch *mero_store_batch_new (MeroStore *store);
void mero_store_batch_put (MeroStoreBatch *batch, const MeroKey *key, const guint8 *value,
                           gsize value_len);
void mero_store_batch_delete (MeroStoreBatch *batch, const MeroKey *key);
guint mero_store_batch_count (MeroStoreBatch *batch);
gboolean mero_store_batch_commit (MeroStoreBatch *batch, GError **error);
void mero_store_batch_free (MeroStoreBatch *batch);

/* Snapshots: a consistent read view. */
MeroStoreSnapshot *mero_store_snapshot_new (MeroStore *store);
gboolean mero_store_snapshot_get (MeroStoreSnapshot *snapshot, const MeroKey *key,
                                  GBytes **value, GError **error);
void mero_store_snapshot_free (MeroStoreSnapshot *snapshot);

/* Iterates the keys of @prefix's column that start with @prefix's bytes,
 * in byte order.  @snapshot may be NULL.  Typical loop:
 *   for (ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it)) ...
 *   if (!mero_store_iter_check (it, error)) ...
 * Decryption failures stop the iteration and are reported by iter_check. */
MeroStoreIter *mero_store_iter_new (MeroStore *store, MeroStoreSnapshot *snapshot,
                                    const MeroKey *prefix);
gboolean mero_store_iter_first (MeroStoreIter *iter);
gboolean mero_store_iter_seek (MeroStoreIter *iter, const MeroKey *key);
gboolean mero_store_iter_next (MeroStoreIter *iter);
/* Key bytes (whole key, prefix included; valid until the iterator next
 * moves) and value (a copy the caller owns) of the current entry. */
const guint8 *mero_store_iter_key (MeroStoreIter *iter, gsize *len);
GBytes *mero_store_iter_value (MeroStoreIter *iter);   /* transfer full */
gboolean mero_store_iter_check (MeroStoreIter *iter, GError **error);
void mero_store_iter_free (MeroStoreIter *iter);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStore, mero_store_close)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStoreBatch, mero_store_batch_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStoreSnapshot, mero_store_snapshot_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStoreIter, mero_store_iter_free)

G_END_DECLS
