/* store-rocksdb-core.c: the RocksDB backend (design in the header). */
#include "store-rocksdb-core.h"

#include <errno.h>
#include <string.h>

#define DEFAULT_CF "default"
#define BLOOM_BITS_PER_KEY 10.0

typedef struct {
  const MeroHostServices *host;
} PluginData;

struct _MeroBackendDb {
  rocksdb_t *db;
  rocksdb_options_t *options;
  rocksdb_readoptions_t *read_options;
  rocksdb_writeoptions_t *write_options;
  /* Every family the database has, as RocksDB wants them all open and
   * all handles destroyed before close. */
  rocksdb_column_family_handle_t **handles;
  gsize n_handles;
  rocksdb_column_family_handle_t **columns; /* index = column id, into handles */
  gsize n_columns;
  const MeroHostServices *host;
  char *path;
};

struct _MeroBackendBatch {
  MeroBackendDb *db;
  rocksdb_writebatch_t *batch;
};

struct _MeroBackendSnapshot {
  const rocksdb_snapshot_t *snapshot;
  rocksdb_readoptions_t *read_options;
};

struct _MeroBackendIter {
  rocksdb_iterator_t *iter;
  rocksdb_readoptions_t *read_options;
  /* RocksDB keeps pointers to the bounds, not copies. */
  guint8 *lower;
  gsize lower_len;
  guint8 *upper;
  gsize upper_len;
};

/* Maps a RocksDB status string to our error codes and frees it. */
static void
set_rocksdb_error (GError **error, const char *path, const char *what, char *err)
{
  gint code = MERO_STORE_ERROR_FAILED;

  /* The C API only gives strings.  Lock failures are IO errors that name
   * the LOCK file ("While lock file: <path>/LOCK: ..." or "lock hold by
   * current process ... <path>/LOCK: ..."). */
  if (strstr (err, "/LOCK") != NULL && (strstr (err, "lock") != NULL))
    code = MERO_STORE_ERROR_LOCKED;
  else if (g_str_has_prefix (err, "Corruption"))
    code = MERO_STORE_ERROR_CORRUPT;
  else if (g_str_has_prefix (err, "IO error"))
    code = MERO_STORE_ERROR_IO;

  if (code == MERO_STORE_ERROR_LOCKED)
    g_set_error (error, MERO_STORE_ERROR, code,
                 "The database %s is in use by another process or handle (%s)", path, err);
  else
    g_set_error (error, MERO_STORE_ERROR, code, "RocksDB %s failed on %s: %s", what, path, err);
  rocksdb_free (err);
}

/* Through the host when loaded as a plugin, else GLib's log. */
static void
log_close_failure (const MeroHostServices *host, const char *path, const char *why)
{
  if (host != NULL)
    mero_plugin_log (host, MERO_LOG_LEVEL_WARNING, "store-rocksdb",
                     "Flushing %s on close failed: %s", path, why);
  else
    g_warning ("Flushing %s on close failed: %s", path, why);
}

gboolean
mero_store_rocksdb_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  PluginData *data = g_new0 (PluginData, 1);

  data->host = host;
  *plugin_data = data;
  return TRUE;
}

void
mero_store_rocksdb_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

rocksdb_options_t *
mero_store_rocksdb_options_new (guint64 cache_bytes, gboolean create)
{
  rocksdb_options_t *options = rocksdb_options_create ();
  rocksdb_block_based_table_options_t *table = rocksdb_block_based_options_create ();
  rocksdb_cache_t *cache;

  rocksdb_options_set_create_if_missing (options, create ? 1 : 0);
  rocksdb_options_set_create_missing_column_families (options, 1);
  rocksdb_options_increase_parallelism (options, (int) MAX (2, g_get_num_processors ()));
  /* Keep the info log from growing without bound in a long-lived node. */
  rocksdb_options_set_max_log_file_size (options, 4 << 20);
  rocksdb_options_set_keep_log_file_num (options, 4);

  cache = rocksdb_cache_create_lru (cache_bytes != 0 ? cache_bytes
                                                     : MERO_STORE_ROCKSDB_DEFAULT_CACHE_BYTES);
  rocksdb_block_based_options_set_block_cache (table, cache);
  /* Point reads of absent keys (the common "is it there?" check of the
   * delta store) skip SST files with a bloom filter. */
  rocksdb_block_based_options_set_filter_policy (table,
                                                 rocksdb_filterpolicy_create_bloom (
                                                     BLOOM_BITS_PER_KEY));
  rocksdb_options_set_block_based_table_factory (options, table);
  /* The factory holds its own copies (and a reference to the cache). */
  rocksdb_block_based_options_destroy (table);
  rocksdb_cache_destroy (cache);
  return options;
}

static void
db_free (MeroBackendDb *db)
{
  for (gsize i = 0; i < db->n_handles; i++)
    if (db->handles[i] != NULL)
      rocksdb_column_family_handle_destroy (db->handles[i]);
  if (db->db != NULL)
    rocksdb_close (db->db);
  if (db->options != NULL)
    rocksdb_options_destroy (db->options);
  if (db->read_options != NULL)
    rocksdb_readoptions_destroy (db->read_options);
  if (db->write_options != NULL)
    rocksdb_writeoptions_destroy (db->write_options);
  g_free (db->handles);
  g_free (db->columns);
  g_free (db->path);
  g_free (db);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBackendDb, db_free)

/* Names to open: "default", the requested columns, then any other family
 * already in the database (RocksDB refuses to open without them all). */
static GPtrArray *
family_names (const rocksdb_options_t *options, const char *path, const char *const *columns,
              size_t n_columns)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  char *err = NULL;
  size_t n_existing = 0;
  char **existing;

  g_ptr_array_add (names, g_strdup (DEFAULT_CF));
  for (size_t i = 0; i < n_columns; i++)
    g_ptr_array_add (names, g_strdup (columns[i]));

  /* Fails when the database does not exist yet; then there is nothing
   * extra to open. */
  existing = rocksdb_list_column_families (options, path, &n_existing, &err);
  if (err != NULL)
    {
      /* The C API returns a (empty) malloc()ed array even on failure. */
      if (existing != NULL)
        rocksdb_list_column_families_destroy (existing, n_existing);
      rocksdb_free (err);
      return names;
    }
  for (size_t i = 0; i < n_existing; i++)
    {
      gboolean known = FALSE;
      for (guint j = 0; j < names->len && !known; j++)
        known = g_str_equal (existing[i], g_ptr_array_index (names, j));
      if (!known)
        g_ptr_array_add (names, g_strdup (existing[i]));
    }
  rocksdb_list_column_families_destroy (existing, n_existing);
  return names;
}

static MeroBackendDb *
rdb_open (void *plugin_data, const char *path, const char *const *columns, size_t n_columns,
          const MeroBackendOpenOptions *options, GError **error)
{
  PluginData *data = plugin_data;
  g_autoptr (MeroBackendDb) db = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree const rocksdb_options_t **cf_options = NULL;
  guint32 flags = options != NULL ? options->flags : MERO_BACKEND_OPEN_CREATE;
  guint64 cache_bytes = options != NULL ? options->cache_bytes : 0;
  char *err = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (columns != NULL && n_columns > 0, NULL);

  for (size_t i = 0; i < n_columns; i++)
    if (columns[i] == NULL || g_str_equal (columns[i], DEFAULT_CF))
      {
        g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                     "Column %" G_GSIZE_FORMAT " has no usable name", i);
        return NULL;
      }

  if ((flags & MERO_BACKEND_OPEN_CREATE)
      && g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved = errno;
      g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_IO, "Cannot create %s: %s", path,
                   g_strerror (saved));
      return NULL;
    }

  db = g_new0 (MeroBackendDb, 1);
  db->path = g_strdup (path);
  db->host = data != NULL ? data->host : NULL;
  db->options = mero_store_rocksdb_options_new (cache_bytes,
                                                (flags & MERO_BACKEND_OPEN_CREATE) != 0);
  db->read_options = rocksdb_readoptions_create ();
  db->write_options = rocksdb_writeoptions_create ();
  rocksdb_writeoptions_set_sync (db->write_options,
                                 (flags & MERO_BACKEND_OPEN_SYNC_WRITES) ? 1 : 0);

  names = family_names (db->options, path, columns, n_columns);
  cf_options = g_new (const rocksdb_options_t *, names->len);
  for (guint i = 0; i < names->len; i++)
    cf_options[i] = db->options;
  db->n_handles = names->len;
  db->handles = g_new0 (rocksdb_column_family_handle_t *, names->len);

  db->db = rocksdb_open_column_families (db->options, path, (int) names->len,
                                         (const char *const *) names->pdata, cf_options,
                                         db->handles, &err);
  if (err != NULL)
    {
      /* On failure RocksDB hands out no handles. */
      memset (db->handles, 0, names->len * sizeof (rocksdb_column_family_handle_t *));
      set_rocksdb_error (error, path, "open", err);
      return NULL;
    }

  /* names[0] is "default", names[1 + i] is column i. */
  db->n_columns = n_columns;
  db->columns = g_new (rocksdb_column_family_handle_t *, n_columns);
  for (size_t i = 0; i < n_columns; i++)
    db->columns[i] = db->handles[1 + i];
  return g_steal_pointer (&db);
}

static gboolean
rdb_flush (MeroBackendDb *db, GError **error)
{
  rocksdb_flushoptions_t *fo;
  char *err = NULL;

  g_return_val_if_fail (db != NULL, FALSE);

  fo = rocksdb_flushoptions_create ();
  rocksdb_flushoptions_set_wait (fo, 1);
  for (gsize i = 0; i < db->n_handles && err == NULL; i++)
    rocksdb_flush_cf (db->db, fo, db->handles[i], &err);
  rocksdb_flushoptions_destroy (fo);
  if (err == NULL)
    rocksdb_flush_wal (db->db, 1, &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, db->path, "flush", err);
      return FALSE;
    }
  return TRUE;
}

/* Every open starts a new WAL, and RocksDB deletes a WAL only once every
 * column family's log number has moved past it, which happens on a flush.
 * A session that wrote nothing flushes nothing, so each start would leave
 * one more empty *.log behind and later opens would get slower.  A put and
 * delete of a sentinel in the "default" family (unused by the store) gives
 * the closing flush something to write; RocksDB then advances the log
 * number of every empty family and purges the old WALs. */
static void
retire_empty_wals (MeroBackendDb *db)
{
  static const char sentinel[] = "\0mero-wal-retire";
  char *err = NULL;

  rocksdb_put_cf (db->db, db->write_options, db->handles[0], sentinel, sizeof sentinel - 1,
                  "", 0, &err);
  if (err == NULL)
    rocksdb_delete_cf (db->db, db->write_options, db->handles[0], sentinel,
                       sizeof sentinel - 1, &err);
  if (err != NULL)
    {
      log_close_failure (db->host, db->path, err);
      rocksdb_free (err);
    }
}

static void
rdb_close (MeroBackendDb *db)
{
  g_autoptr (GError) error = NULL;

  if (db == NULL)
    return;
  retire_empty_wals (db);
  if (!rdb_flush (db, &error))
    log_close_failure (db->host, db->path, error->message);
  db_free (db);
}

static inline gboolean
column_ok (MeroBackendDb *db, uint32_t column)
{
  return db != NULL && column < db->n_columns;
}

static gboolean
rdb_get (MeroBackendDb *db, MeroBackendSnapshot *snapshot, uint32_t column, const uint8_t *key,
         size_t key_len, GBytes **value, GError **error)
{
  char *data;
  size_t len = 0;
  char *err = NULL;

  g_return_val_if_fail (column_ok (db, column), FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  *value = NULL;
  /* Not rocksdb_get_pinned_cf: a pinned slice refers to the block cache
   * and memtables, and callers may keep a value after closing the
   * database.  rocksdb_get_cf's malloc()ed copy is handed out as is. */
  data = rocksdb_get_cf (db->db, snapshot != NULL ? snapshot->read_options : db->read_options,
                         db->columns[column], (const char *) key, key_len, &len, &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, db->path, "get", err);
      return FALSE;
    }
  if (data == NULL)
    return TRUE;
  *value = g_bytes_new_with_free_func (data, len, rocksdb_free, data);
  return TRUE;
}

static gboolean
rdb_put (MeroBackendDb *db, uint32_t column, const uint8_t *key, size_t key_len,
         const uint8_t *value, size_t value_len, GError **error)
{
  char *err = NULL;

  g_return_val_if_fail (column_ok (db, column), FALSE);

  rocksdb_put_cf (db->db, db->write_options, db->columns[column], (const char *) key, key_len,
                  (const char *) value, value_len, &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, db->path, "put", err);
      return FALSE;
    }
  return TRUE;
}

static gboolean
rdb_delete (MeroBackendDb *db, uint32_t column, const uint8_t *key, size_t key_len,
            GError **error)
{
  char *err = NULL;

  g_return_val_if_fail (column_ok (db, column), FALSE);

  rocksdb_delete_cf (db->db, db->write_options, db->columns[column], (const char *) key, key_len,
                     &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, db->path, "delete", err);
      return FALSE;
    }
  return TRUE;
}

static MeroBackendBatch *
rdb_batch_new (MeroBackendDb *db)
{
  MeroBackendBatch *batch;

  g_return_val_if_fail (db != NULL, NULL);

  batch = g_new0 (MeroBackendBatch, 1);
  batch->db = db;
  batch->batch = rocksdb_writebatch_create ();
  return batch;
}

static void
rdb_batch_put (MeroBackendBatch *batch, uint32_t column, const uint8_t *key, size_t key_len,
               const uint8_t *value, size_t value_len)
{
  g_return_if_fail (batch != NULL && column_ok (batch->db, column));

  rocksdb_writebatch_put_cf (batch->batch, batch->db->columns[column], (const char *) key,
                             key_len, (const char *) value, value_len);
}

static void
rdb_batch_delete (MeroBackendBatch *batch, uint32_t column, const uint8_t *key, size_t key_len)
{
  g_return_if_fail (batch != NULL && column_ok (batch->db, column));

  rocksdb_writebatch_delete_cf (batch->batch, batch->db->columns[column], (const char *) key,
                                key_len);
}

static gboolean
rdb_batch_commit (MeroBackendDb *db, MeroBackendBatch *batch, GError **error)
{
  char *err = NULL;

  g_return_val_if_fail (db != NULL && batch != NULL && batch->db == db, FALSE);

  rocksdb_write (db->db, db->write_options, batch->batch, &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, db->path, "batch write", err);
      return FALSE;
    }
  return TRUE;
}

static void
rdb_batch_free (MeroBackendBatch *batch)
{
  if (batch == NULL)
    return;
  rocksdb_writebatch_destroy (batch->batch);
  g_free (batch);
}

static MeroBackendSnapshot *
rdb_snapshot_new (MeroBackendDb *db)
{
  MeroBackendSnapshot *snapshot;

  g_return_val_if_fail (db != NULL, NULL);

  snapshot = g_new0 (MeroBackendSnapshot, 1);
  snapshot->snapshot = rocksdb_create_snapshot (db->db);
  snapshot->read_options = rocksdb_readoptions_create ();
  rocksdb_readoptions_set_snapshot (snapshot->read_options, snapshot->snapshot);
  return snapshot;
}

static void
rdb_snapshot_free (MeroBackendDb *db, MeroBackendSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  rocksdb_readoptions_destroy (snapshot->read_options);
  rocksdb_release_snapshot (db->db, snapshot->snapshot);
  g_free (snapshot);
}

static MeroBackendIter *
rdb_iter_new (MeroBackendDb *db, MeroBackendSnapshot *snapshot, uint32_t column,
              const uint8_t *lower, size_t lower_len, const uint8_t *upper, size_t upper_len)
{
  MeroBackendIter *iter;

  g_return_val_if_fail (column_ok (db, column), NULL);

  iter = g_new0 (MeroBackendIter, 1);
  iter->read_options = rocksdb_readoptions_create ();
  if (snapshot != NULL)
    rocksdb_readoptions_set_snapshot (iter->read_options, snapshot->snapshot);
  if (lower != NULL)
    {
      iter->lower = g_malloc (lower_len + 1);
      memcpy (iter->lower, lower, lower_len);
      iter->lower_len = lower_len;
      rocksdb_readoptions_set_iterate_lower_bound (iter->read_options, (const char *) iter->lower,
                                                   lower_len);
    }
  if (upper != NULL)
    {
      iter->upper = g_malloc (upper_len + 1);
      memcpy (iter->upper, upper, upper_len);
      iter->upper_len = upper_len;
      rocksdb_readoptions_set_iterate_upper_bound (iter->read_options, (const char *) iter->upper,
                                                   upper_len);
    }
  iter->iter = rocksdb_create_iterator_cf (db->db, iter->read_options, db->columns[column]);
  return iter;
}

static void
rdb_iter_seek_first (MeroBackendIter *iter)
{
  g_return_if_fail (iter != NULL);
  /* With a lower bound set, SeekToFirst lands on it. */
  rocksdb_iter_seek_to_first (iter->iter);
}

static void
rdb_iter_seek (MeroBackendIter *iter, const uint8_t *key, size_t key_len)
{
  g_return_if_fail (iter != NULL);

  /* Never position below the range, whatever RocksDB's own clamping. */
  if (iter->lower != NULL)
    {
      gsize n = MIN (key_len, iter->lower_len);
      int cmp = n > 0 ? memcmp (key, iter->lower, n) : 0;
      if (cmp < 0 || (cmp == 0 && key_len < iter->lower_len))
        {
          key = iter->lower;
          key_len = iter->lower_len;
        }
    }
  rocksdb_iter_seek (iter->iter, (const char *) key, key_len);
}

static gboolean
rdb_iter_valid (MeroBackendIter *iter)
{
  g_return_val_if_fail (iter != NULL, FALSE);
  return rocksdb_iter_valid (iter->iter) != 0;
}

static void
rdb_iter_next (MeroBackendIter *iter)
{
  g_return_if_fail (iter != NULL);
  rocksdb_iter_next (iter->iter);
}

static const uint8_t *
rdb_iter_key (MeroBackendIter *iter, size_t *len)
{
  g_return_val_if_fail (iter != NULL, NULL);
  return (const uint8_t *) rocksdb_iter_key (iter->iter, len);
}

static const uint8_t *
rdb_iter_value (MeroBackendIter *iter, size_t *len)
{
  g_return_val_if_fail (iter != NULL, NULL);
  return (const uint8_t *) rocksdb_iter_value (iter->iter, len);
}

static gboolean
rdb_iter_check (MeroBackendIter *iter, GError **error)
{
  char *err = NULL;

  g_return_val_if_fail (iter != NULL, FALSE);

  rocksdb_iter_get_error (iter->iter, &err);
  if (err != NULL)
    {
      set_rocksdb_error (error, "(iterator)", "iteration", err);
      return FALSE;
    }
  return TRUE;
}

static void
rdb_iter_free (MeroBackendIter *iter)
{
  if (iter == NULL)
    return;
  /* The iterator before its read options, which it refers to. */
  rocksdb_iter_destroy (iter->iter);
  rocksdb_readoptions_destroy (iter->read_options);
  g_free (iter->lower);
  g_free (iter->upper);
  g_free (iter);
}

const MeroStorageBackendVTable mero_store_rocksdb_vtable = {
  .struct_size = sizeof (MeroStorageBackendVTable),
  .open = rdb_open,
  .close = rdb_close,
  .flush = rdb_flush,
  .get = rdb_get,
  .put = rdb_put,
  .delete_key = rdb_delete,
  .batch_new = rdb_batch_new,
  .batch_put = rdb_batch_put,
  .batch_delete = rdb_batch_delete,
  .batch_commit = rdb_batch_commit,
  .batch_free = rdb_batch_free,
  .snapshot_new = rdb_snapshot_new,
  .snapshot_free = rdb_snapshot_free,
  .iter_new = rdb_iter_new,
  .iter_seek_first = rdb_iter_seek_first,
  .iter_seek = rdb_iter_seek,
  .iter_valid = rdb_iter_valid,
  .iter_next = rdb_iter_next,
  .iter_key = rdb_iter_key,
  .iter_value = rdb_iter_value,
  .iter_check = rdb_iter_check,
  .iter_free = rdb_iter_free,
};
