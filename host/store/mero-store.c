/* mero-store.c: the store façade over a STORAGE_BACKEND vtable.
 *
 * The put/get path of a plaintext store is one backend call: keys go down
 * as the MeroKey's own bytes and values come back as the backend's GBytes,
 * so the façade adds no copy and no allocation.  An encrypted store seals
 * into a stack buffer for small values. */
#include "store/mero-store.h"

#include <string.h>

#include "store/mero-store-crypto.h"

/* Values up to this size are sealed on the stack. */
#define SEAL_STACK_MAX 1024

struct _MeroStore {
  const MeroStorageBackendVTable *backend;
  MeroBackendDb *db;
  MeroStoreCrypto *crypto; /* NULL: plaintext */
  char *path;
};

struct _MeroStoreBatch {
  MeroStore *store;
  MeroBackendBatch *batch;
  guint count;
};

struct _MeroStoreSnapshot {
  MeroStore *store;
  MeroBackendSnapshot *snapshot;
};

struct _MeroStoreIter {
  MeroStore *store;
  MeroBackendIter *iter;
  MeroColumn column;
  /* The bounds live here because the backend may refer to them for the
   * iterator's whole life. */
  guint8 lower[MERO_KEY_MAX];
  gsize lower_len;
  guint8 upper[MERO_KEY_MAX];
  gsize upper_len;
  gboolean has_upper;
  gboolean valid;
  GBytes *value;   /* opened value of the current entry (encrypted stores) */
  GError *error;   /* why iteration stopped, if the façade stopped it */
};

static inline gboolean
key_is_valid (const MeroKey *key)
{
  return key != NULL && (guint) key->column < MERO_N_COLUMNS && key->len <= MERO_KEY_MAX
         && !(key->column == MERO_COLUMN_META && key->len > 0
              && key->bytes[0] == MERO_KEY_META_TAG_RESERVED);
}

static gboolean
backend_is_complete (const MeroStorageBackendVTable *b, GError **error)
{
  const char *missing = NULL;

  if (b->struct_size < sizeof (MeroStorageBackendVTable))
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                   "Storage backend vtable is too short (%u bytes, need %zu)", b->struct_size,
                   sizeof (MeroStorageBackendVTable));
      return FALSE;
    }
#define CHECK(m) \
  if (missing == NULL && b->m == NULL) \
    missing = #m;
  CHECK (open) CHECK (close) CHECK (flush) CHECK (get) CHECK (put) CHECK (delete_key)
  CHECK (batch_new) CHECK (batch_put) CHECK (batch_delete) CHECK (batch_commit)
  CHECK (batch_free) CHECK (snapshot_new) CHECK (snapshot_free) CHECK (iter_new)
  CHECK (iter_seek_first) CHECK (iter_seek) CHECK (iter_valid) CHECK (iter_next)
  CHECK (iter_key) CHECK (iter_value) CHECK (iter_check) CHECK (iter_free)
#undef CHECK
  if (missing != NULL)
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                   "Storage backend lacks the method %s", missing);
      return FALSE;
    }
  return TRUE;
}

/* TRUE if no column holds any key (a store a key may still encrypt). */
static gboolean
backend_is_empty (MeroStore *store, gboolean *empty, GError **error)
{
  const MeroStorageBackendVTable *b = store->backend;

  *empty = TRUE;
  for (guint c = 0; c < MERO_N_COLUMNS && *empty; c++)
    {
      MeroBackendIter *it = b->iter_new (store->db, NULL, c, NULL, 0, NULL, 0);
      gboolean ok;

      b->iter_seek_first (it);
      *empty = !b->iter_valid (it);
      ok = b->iter_check (it, error);
      b->iter_free (it);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* Decides plaintext vs encrypted from the crypto record (see
 * mero-store-crypto.h) and @crypto (consumed).  Writes only when a new
 * store becomes encrypted. */
static gboolean
store_setup_crypto (MeroStore *store, MeroStoreCrypto *crypto_in,
                    const MeroStoreOptions *options, GError **error)
{
  g_autoptr (MeroStoreCrypto) crypto = crypto_in;
  g_autoptr (GBytes) record = NULL;
  MeroKey record_key = mero_store_crypto_record_key ();
  const MeroStorageBackendVTable *b = store->backend;
  gboolean empty;

  if (!b->get (store->db, NULL, record_key.column, record_key.bytes, record_key.len, &record,
               error))
    return FALSE;

  if (record != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (record, &len);

      if (crypto == NULL)
        {
          g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_NEEDS_KEY,
                       "The store at %s is encrypted: give its passphrase or key file",
                       store->path);
          return FALSE;
        }
      if (!mero_store_crypto_unlock (crypto, data, len, error))
        {
          g_prefix_error (error, "%s: ", store->path);
          return FALSE;
        }
      store->crypto = g_steal_pointer (&crypto);
      return TRUE;
    }

  if (crypto == NULL)
    return TRUE;

  if (!backend_is_empty (store, &empty, error))
    return FALSE;
  if (!empty)
    {
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_NOT_ENCRYPTED,
                   "The store at %s holds plaintext data; a key can only be given for a new "
                   "store or an encrypted one",
                   store->path);
      return FALSE;
    }

  record = mero_store_crypto_setup (crypto, options->argon2_ops_limit, options->argon2_mem_limit,
                                    error);
  if (record == NULL)
    return FALSE;
  /* The record must be durable before any sealed value is: flush. */
  if (!b->put (store->db, record_key.column, record_key.bytes, record_key.len,
               g_bytes_get_data (record, NULL), g_bytes_get_size (record), error)
      || !b->flush (store->db, error))
    return FALSE;
  store->crypto = g_steal_pointer (&crypto);
  return TRUE;
}

MeroStore *
mero_store_open (const MeroStorageBackendVTable *backend, void *plugin_data, const char *path,
                 const MeroStoreOptions *options, GError **error)
{
  static const MeroStoreOptions defaults = { 0 };
  g_autoptr (MeroStore) store = NULL;
  g_autoptr (MeroStoreCrypto) crypto = NULL;
  MeroBackendOpenOptions open_options = { 0 };

  g_return_val_if_fail (backend != NULL, NULL);
  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (options == NULL)
    options = &defaults;
  if (!backend_is_complete (backend, error))
    return NULL;

  /* Key material first: a bad key file must not even create the db. */
  switch (options->key_source)
    {
    case MERO_STORE_KEY_SOURCE_NONE:
      break;
    case MERO_STORE_KEY_SOURCE_PASSPHRASE:
      crypto = mero_store_crypto_new_passphrase (options->passphrase, error);
      if (crypto == NULL)
        return NULL;
      break;
    case MERO_STORE_KEY_SOURCE_KEY_FILE:
      crypto = mero_store_crypto_new_key_file (options->key_file, error);
      if (crypto == NULL)
        return NULL;
      break;
    default:
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                   "Unknown store key source %d", (int) options->key_source);
      return NULL;
    }

  open_options.struct_size = sizeof open_options;
  open_options.flags = MERO_BACKEND_OPEN_CREATE;
  if (options->sync_writes)
    open_options.flags |= MERO_BACKEND_OPEN_SYNC_WRITES;
  open_options.cache_bytes = options->cache_bytes;

  store = g_new0 (MeroStore, 1);
  store->backend = backend;
  store->path = g_strdup (path);
  store->db = backend->open (plugin_data, path, mero_column_names (), MERO_N_COLUMNS,
                             &open_options, error);
  if (store->db == NULL)
    return NULL;

  if (!store_setup_crypto (store, g_steal_pointer (&crypto), options, error))
    return NULL;
  return g_steal_pointer (&store);
}

void
mero_store_close (MeroStore *store)
{
  if (store == NULL)
    return;
  if (store->db != NULL)
    store->backend->close (store->db);
  mero_store_crypto_free (store->crypto);
  g_free (store->path);
  g_free (store);
}

gboolean
mero_store_flush (MeroStore *store, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  return store->backend->flush (store->db, error);
}

gboolean
mero_store_is_encrypted (MeroStore *store)
{
  g_return_val_if_fail (store != NULL, FALSE);
  return store->crypto != NULL;
}

const char *
mero_store_get_path (MeroStore *store)
{
  g_return_val_if_fail (store != NULL, NULL);
  return store->path;
}

/* Opens a sealed value from the backend, consuming @raw. */
static gboolean
open_value (MeroStore *store, const MeroKey *key, GBytes *raw, GBytes **value, GError **error)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (raw, &len);

  *value = mero_store_crypto_open (store->crypto, key->column, key->bytes, key->len, data, len,
                                   error);
  g_bytes_unref (raw);
  return *value != NULL;
}

static gboolean
store_read (MeroStore *store, MeroBackendSnapshot *snapshot, const MeroKey *key, GBytes **value,
            GError **error)
{
  GBytes *raw = NULL;

  *value = NULL;
  if (!store->backend->get (store->db, snapshot, key->column, key->bytes, key->len, &raw, error))
    return FALSE;
  if (raw == NULL || store->crypto == NULL)
    {
      *value = raw;
      return TRUE;
    }
  return open_value (store, key, raw, value, error);
}

gboolean
mero_store_get (MeroStore *store, const MeroKey *key, GBytes **value, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (key_is_valid (key), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return store_read (store, NULL, key, value, error);
}

gboolean
mero_store_put (MeroStore *store, const MeroKey *key, const guint8 *value, gsize value_len,
                GError **error)
{
  guint8 stack[SEAL_STACK_MAX + MERO_STORE_CRYPTO_OVERHEAD];
  g_autofree guint8 *heap = NULL;
  guint8 *sealed;

  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (key_is_valid (key), FALSE);
  g_return_val_if_fail (value != NULL || value_len == 0, FALSE);

  if (store->crypto == NULL)
    return store->backend->put (store->db, key->column, key->bytes, key->len, value, value_len,
                                error);

  g_return_val_if_fail (value_len <= G_MAXSIZE - MERO_STORE_CRYPTO_OVERHEAD, FALSE);
  sealed = value_len <= SEAL_STACK_MAX
               ? stack
               : (heap = g_malloc (value_len + MERO_STORE_CRYPTO_OVERHEAD));
  mero_store_crypto_seal (store->crypto, key->column, key->bytes, key->len, value, value_len,
                          sealed);
  return store->backend->put (store->db, key->column, key->bytes, key->len, sealed,
                              value_len + MERO_STORE_CRYPTO_OVERHEAD, error);
}

gboolean
mero_store_put_bytes (MeroStore *store, const MeroKey *key, GBytes *value, GError **error)
{
  gsize len;
  const guint8 *data;

  g_return_val_if_fail (value != NULL, FALSE);
  data = g_bytes_get_data (value, &len);
  return mero_store_put (store, key, data, len, error);
}

gboolean
mero_store_delete (MeroStore *store, const MeroKey *key, GError **error)
{
  g_return_val_if_fail (store != NULL, FALSE);
  g_return_val_if_fail (key_is_valid (key), FALSE);

  return store->backend->delete_key (store->db, key->column, key->bytes, key->len, error);
}

/* Batches */

MeroStoreBatch *
mero_store_batch_new (MeroStore *store)
{
  MeroStoreBatch *batch;

  g_return_val_if_fail (store != NULL, NULL);

  batch = g_new0 (MeroStoreBatch, 1);
  batch->store = store;
  batch->batch = store->backend->batch_new (store->db);
  return batch;
}

void
mero_store_batch_put (MeroStoreBatch *batch, const MeroKey *key, const guint8 *value,
                      gsize value_len)
{
  MeroStore *store;
  guint8 stack[SEAL_STACK_MAX + MERO_STORE_CRYPTO_OVERHEAD];
  g_autofree guint8 *heap = NULL;
  guint8 *sealed;

  g_return_if_fail (batch != NULL);
  g_return_if_fail (key_is_valid (key));
  g_return_if_fail (value != NULL || value_len == 0);

  store = batch->store;
  batch->count++;
  if (store->crypto == NULL)
    {
      store->backend->batch_put (batch->batch, key->column, key->bytes, key->len, value,
                                 value_len);
      return;
    }
  g_return_if_fail (value_len <= G_MAXSIZE - MERO_STORE_CRYPTO_OVERHEAD);
  sealed = value_len <= SEAL_STACK_MAX
               ? stack
               : (heap = g_malloc (value_len + MERO_STORE_CRYPTO_OVERHEAD));
  mero_store_crypto_seal (store->crypto, key->column, key->bytes, key->len, value, value_len,
                          sealed);
  store->backend->batch_put (batch->batch, key->column, key->bytes, key->len, sealed,
                             value_len + MERO_STORE_CRYPTO_OVERHEAD);
}

void
mero_store_batch_delete (MeroStoreBatch *batch, const MeroKey *key)
{
  g_return_if_fail (batch != NULL);
  g_return_if_fail (key_is_valid (key));

  batch->count++;
  batch->store->backend->batch_delete (batch->batch, key->column, key->bytes, key->len);
}

guint
mero_store_batch_count (MeroStoreBatch *batch)
{
  g_return_val_if_fail (batch != NULL, 0);
  return batch->count;
}

gboolean
mero_store_batch_commit (MeroStoreBatch *batch, GError **error)
{
  g_return_val_if_fail (batch != NULL, FALSE);
  return batch->store->backend->batch_commit (batch->store->db, batch->batch, error);
}

void
mero_store_batch_free (MeroStoreBatch *batch)
{
  if (batch == NULL)
    return;
  batch->store->backend->batch_free (batch->batch);
  g_free (batch);
}

/* Snapshots */

MeroStoreSnapshot *
mero_store_snapshot_new (MeroStore *store)
{
  MeroStoreSnapshot *snapshot;

  g_return_val_if_fail (store != NULL, NULL);

  snapshot = g_new0 (MeroStoreSnapshot, 1);
  snapshot->store = store;
  snapshot->snapshot = store->backend->snapshot_new (store->db);
  return snapshot;
}

gboolean
mero_store_snapshot_get (MeroStoreSnapshot *snapshot, const MeroKey *key, GBytes **value,
                         GError **error)
{
  g_return_val_if_fail (snapshot != NULL, FALSE);
  g_return_val_if_fail (key_is_valid (key), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  return store_read (snapshot->store, snapshot->snapshot, key, value, error);
}

void
mero_store_snapshot_free (MeroStoreSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  snapshot->store->backend->snapshot_free (snapshot->store->db, snapshot->snapshot);
  g_free (snapshot);
}

/* Iterators */

/* The smallest byte string greater than every string starting with
 * @prefix: drop trailing 0xff bytes and increment the last one.  FALSE if
 * there is none (empty or all-0xff prefix: no upper bound). */
static gboolean
prefix_successor (const guint8 *prefix, gsize len, guint8 *out, gsize *out_len)
{
  while (len > 0 && prefix[len - 1] == 0xff)
    len--;
  if (len == 0)
    return FALSE;
  memcpy (out, prefix, len);
  out[len - 1]++;
  *out_len = len;
  return TRUE;
}

MeroStoreIter *
mero_store_iter_new (MeroStore *store, MeroStoreSnapshot *snapshot, const MeroKey *prefix)
{
  MeroStoreIter *iter;

  g_return_val_if_fail (store != NULL, NULL);
  g_return_val_if_fail (prefix != NULL && (guint) prefix->column < MERO_N_COLUMNS
                            && prefix->len <= MERO_KEY_MAX,
                        NULL);
  g_return_val_if_fail (snapshot == NULL || snapshot->store == store, NULL);

  iter = g_new0 (MeroStoreIter, 1);
  iter->store = store;
  iter->column = prefix->column;
  memcpy (iter->lower, prefix->bytes, prefix->len);
  iter->lower_len = prefix->len;
  iter->has_upper = prefix_successor (prefix->bytes, prefix->len, iter->upper, &iter->upper_len);
  /* The META column's reserved records (tag 0x00) sort first: start the
   * range above them so callers never see them. */
  if (iter->column == MERO_COLUMN_META
      && (iter->lower_len == 0 || iter->lower[0] == MERO_KEY_META_TAG_RESERVED))
    {
      static const guint8 first_public = MERO_KEY_META_TAG_RESERVED + 1;
      if (iter->lower_len == 0)
        {
          iter->lower[0] = first_public;
          iter->lower_len = 1;
        }
      else
        {
          /* A reserved prefix selects nothing: an empty range. */
          iter->lower[0] = first_public;
          iter->lower_len = 1;
          iter->upper[0] = first_public;
          iter->upper_len = 1;
          iter->has_upper = TRUE;
        }
    }
  iter->iter = store->backend->iter_new (store->db, snapshot ? snapshot->snapshot : NULL,
                                         iter->column, iter->lower, iter->lower_len,
                                         iter->has_upper ? iter->upper : NULL,
                                         iter->has_upper ? iter->upper_len : 0);
  return iter;
}

/* Called after every move: opens the value of an encrypted store, so a
 * value that fails to authenticate stops the iteration there. */
static gboolean
iter_settle (MeroStoreIter *iter)
{
  const MeroStorageBackendVTable *b = iter->store->backend;
  const guint8 *key, *value;
  gsize key_len, value_len;

  g_clear_pointer (&iter->value, g_bytes_unref);
  iter->valid = FALSE;
  if (iter->error != NULL || !b->iter_valid (iter->iter))
    return FALSE;
  if (iter->store->crypto != NULL)
    {
      key = b->iter_key (iter->iter, &key_len);
      value = b->iter_value (iter->iter, &value_len);
      iter->value = mero_store_crypto_open (iter->store->crypto, iter->column, key, key_len,
                                            value, value_len, &iter->error);
      if (iter->value == NULL)
        return FALSE;
    }
  iter->valid = TRUE;
  return TRUE;
}

gboolean
mero_store_iter_first (MeroStoreIter *iter)
{
  g_return_val_if_fail (iter != NULL, FALSE);
  if (iter->error != NULL)
    return FALSE;
  iter->store->backend->iter_seek_first (iter->iter);
  return iter_settle (iter);
}

gboolean
mero_store_iter_seek (MeroStoreIter *iter, const MeroKey *key)
{
  const guint8 *target;
  gsize target_len;

  g_return_val_if_fail (iter != NULL, FALSE);
  g_return_val_if_fail (key != NULL && key->column == iter->column && key->len <= MERO_KEY_MAX,
                        FALSE);
  if (iter->error != NULL)
    return FALSE;

  /* Never seek below the range: the bounds are the iterator's contract. */
  target = key->bytes;
  target_len = key->len;
  {
    gsize n = MIN (target_len, iter->lower_len);
    int cmp = memcmp (target, iter->lower, n);
    if (cmp < 0 || (cmp == 0 && target_len < iter->lower_len))
      {
        target = iter->lower;
        target_len = iter->lower_len;
      }
  }
  iter->store->backend->iter_seek (iter->iter, target, target_len);
  return iter_settle (iter);
}

gboolean
mero_store_iter_next (MeroStoreIter *iter)
{
  g_return_val_if_fail (iter != NULL, FALSE);
  if (!iter->valid)
    return FALSE;
  iter->store->backend->iter_next (iter->iter);
  return iter_settle (iter);
}

const guint8 *
mero_store_iter_key (MeroStoreIter *iter, gsize *len)
{
  g_return_val_if_fail (iter != NULL && iter->valid, NULL);
  return iter->store->backend->iter_key (iter->iter, len);
}

GBytes *
mero_store_iter_value (MeroStoreIter *iter)
{
  const guint8 *data;
  gsize len;

  g_return_val_if_fail (iter != NULL && iter->valid, NULL);
  if (iter->value != NULL)
    return g_bytes_ref (iter->value);
  data = iter->store->backend->iter_value (iter->iter, &len);
  return g_bytes_new (data, len);
}

gboolean
mero_store_iter_check (MeroStoreIter *iter, GError **error)
{
  g_return_val_if_fail (iter != NULL, FALSE);
  if (iter->error != NULL)
    {
      g_propagate_error (error, g_error_copy (iter->error));
      return FALSE;
    }
  return iter->store->backend->iter_check (iter->iter, error);
}

void
mero_store_iter_free (MeroStoreIter *iter)
{
  if (iter == NULL)
    return;
  iter->store->backend->iter_free (iter->iter);
  g_clear_pointer (&iter->value, g_bytes_unref);
  g_clear_error (&iter->error);
  g_free (iter);
}
