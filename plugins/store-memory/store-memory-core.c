/* store-memory-core.c: in-memory STORAGE_BACKEND (design in the header). */
#include "store-memory-core.h"

#include <string.h>

typedef struct {
  const guint8 *data;
  gsize len;
} MemKey;

typedef struct {
  guint64 seq;
  GBytes *value; /* NULL: deleted at seq */
} Version;

typedef struct {
  MemKey key;        /* data owned by the entry; the tree's key points here */
  GArray *versions;  /* Version, ascending seq; never empty */
} Entry;

struct _MeroBackendDb {
  GRWLock lock;
  GTree **columns;     /* MemKey * -> Entry * */
  gsize n_columns;
  guint64 seq;         /* last committed sequence number */
  GArray *readers;     /* guint64, sorted: seqs of live snapshots/iterators */
};

struct _MeroBackendSnapshot {
  guint64 seq;
};

typedef struct {
  guint32 column;
  GBytes *key;
  GBytes *value; /* NULL: delete */
} BatchOp;

struct _MeroBackendBatch {
  GArray *ops; /* BatchOp */
};

struct _MeroBackendIter {
  MeroBackendDb *db;
  guint32 column;
  guint64 seq;
  gboolean own_reader;   /* registered seq in db->readers itself */
  GBytes *lower;         /* NULL: unbounded */
  GBytes *upper;
  GBytes *key;           /* current position, NULL when not valid */
  GBytes *value;
};

static int
memkey_compare (gconstpointer a, gconstpointer b)
{
  const MemKey *x = a, *y = b;
  gsize n = MIN (x->len, y->len);
  /* memcmp may not be given NULL, even for 0 bytes. */
  int cmp = n > 0 ? memcmp (x->data, y->data, n) : 0;

  if (cmp != 0)
    return cmp;
  return x->len < y->len ? -1 : x->len > y->len ? 1 : 0;
}

static int
memkey_compare_data (gconstpointer a, gconstpointer b, gpointer user_data)
{
  return memkey_compare (a, b);
}

static void
version_clear (gpointer p)
{
  Version *v = p;

  g_clear_pointer (&v->value, g_bytes_unref);
}

static void
entry_free (gpointer p)
{
  Entry *e = p;

  g_array_unref (e->versions);
  g_free ((gpointer) e->key.data);
  g_free (e);
}

static MeroBackendDb *
mem_open (void *plugin_data, const char *path, const char *const *columns, size_t n_columns,
          const MeroBackendOpenOptions *options, GError **error)
{
  MeroBackendDb *db;

  g_return_val_if_fail (n_columns > 0, NULL);

  db = g_new0 (MeroBackendDb, 1);
  g_rw_lock_init (&db->lock);
  db->n_columns = n_columns;
  db->columns = g_new0 (GTree *, n_columns);
  for (gsize i = 0; i < n_columns; i++)
    db->columns[i] = g_tree_new_full (memkey_compare_data, NULL, NULL, entry_free);
  db->readers = g_array_new (FALSE, FALSE, sizeof (guint64));
  return db;
}

static void
mem_close (MeroBackendDb *db)
{
  if (db == NULL)
    return;
  for (gsize i = 0; i < db->n_columns; i++)
    g_tree_destroy (db->columns[i]);
  g_free (db->columns);
  g_array_unref (db->readers);
  g_rw_lock_clear (&db->lock);
  g_free (db);
}

static gboolean
mem_flush (MeroBackendDb *db, GError **error)
{
  return TRUE;
}

/* Newest version visible at @seq, or NULL. */
static const Version *
entry_visible (const Entry *e, guint64 seq)
{
  for (guint i = e->versions->len; i > 0; i--)
    {
      const Version *v = &g_array_index (e->versions, Version, i - 1);
      if (v->seq <= seq)
        return v;
    }
  return NULL;
}

static void
readers_add (MeroBackendDb *db, guint64 seq)
{
  guint i = db->readers->len;

  /* Readers register the latest seq, so appending keeps the order; the
   * loop only matters for explicit snapshots passed to iterators. */
  while (i > 0 && g_array_index (db->readers, guint64, i - 1) > seq)
    i--;
  g_array_insert_val (db->readers, i, seq);
}

static void
readers_remove (MeroBackendDb *db, guint64 seq)
{
  for (guint i = 0; i < db->readers->len; i++)
    if (g_array_index (db->readers, guint64, i) == seq)
      {
        g_array_remove_index (db->readers, i);
        return;
      }
  g_assert_not_reached ();
}

/* Drops versions no reader can see any more: everything older than the
 * newest version at or below the oldest reader's seq.  A key whose only
 * remaining version is an old deletion disappears. */
static void
entry_prune (MeroBackendDb *db, GTree *tree, Entry *e)
{
  guint64 oldest = db->readers->len > 0 ? g_array_index (db->readers, guint64, 0) : db->seq;
  guint keep_from = 0;

  for (guint i = 0; i < e->versions->len; i++)
    if (g_array_index (e->versions, Version, i).seq <= oldest)
      keep_from = i;
  if (keep_from > 0)
    g_array_remove_range (e->versions, 0, keep_from);
  if (e->versions->len == 1)
    {
      const Version *v = &g_array_index (e->versions, Version, 0);
      if (v->value == NULL && v->seq <= oldest)
        g_tree_remove (tree, &e->key);
    }
}

/* Caller holds the writer lock.  Consumes @value. */
static void
apply_write (MeroBackendDb *db, guint32 column, const guint8 *key, gsize key_len,
             GBytes *value, guint64 seq)
{
  GTree *tree = db->columns[column];
  MemKey probe = { key, key_len };
  Entry *e = g_tree_lookup (tree, &probe);
  Version v = { seq, value };

  if (e == NULL)
    {
      if (value == NULL)
        return; /* deleting an absent key leaves nothing to see */
      e = g_new0 (Entry, 1);
      /* +1: an empty key still gets its own allocation. */
      e->key.data = g_malloc (key_len + 1);
      if (key_len > 0)
        memcpy ((guint8 *) e->key.data, key, key_len);
      e->key.len = key_len;
      e->versions = g_array_new (FALSE, FALSE, sizeof (Version));
      g_array_set_clear_func (e->versions, version_clear);
      g_tree_insert (tree, &e->key, e);
    }
  else
    {
      Version *last = &g_array_index (e->versions, Version, e->versions->len - 1);
      /* Two writes to one key in one batch: the later one wins. */
      if (last->seq == seq)
        {
          g_clear_pointer (&last->value, g_bytes_unref);
          last->value = value;
          entry_prune (db, tree, e);
          return;
        }
    }
  g_array_append_val (e->versions, v);
  entry_prune (db, tree, e);
}

static gboolean
mem_get (MeroBackendDb *db, MeroBackendSnapshot *snapshot, uint32_t column, const uint8_t *key,
         size_t key_len, GBytes **value, GError **error)
{
  MemKey probe = { key, key_len };
  const Entry *e;
  const Version *v = NULL;

  g_return_val_if_fail (db != NULL && column < db->n_columns, FALSE);
  g_return_val_if_fail (value != NULL, FALSE);

  g_rw_lock_reader_lock (&db->lock);
  e = g_tree_lookup (db->columns[column], &probe);
  if (e != NULL)
    v = entry_visible (e, snapshot != NULL ? snapshot->seq : db->seq);
  *value = v != NULL && v->value != NULL ? g_bytes_ref (v->value) : NULL;
  g_rw_lock_reader_unlock (&db->lock);
  return TRUE;
}

static gboolean
mem_put (MeroBackendDb *db, uint32_t column, const uint8_t *key, size_t key_len,
         const uint8_t *value, size_t value_len, GError **error)
{
  GBytes *copy;

  g_return_val_if_fail (db != NULL && column < db->n_columns, FALSE);

  copy = g_bytes_new (value, value_len);
  g_rw_lock_writer_lock (&db->lock);
  db->seq++;
  apply_write (db, column, key, key_len, copy, db->seq);
  g_rw_lock_writer_unlock (&db->lock);
  return TRUE;
}

static gboolean
mem_delete (MeroBackendDb *db, uint32_t column, const uint8_t *key, size_t key_len,
            GError **error)
{
  g_return_val_if_fail (db != NULL && column < db->n_columns, FALSE);

  g_rw_lock_writer_lock (&db->lock);
  db->seq++;
  apply_write (db, column, key, key_len, NULL, db->seq);
  g_rw_lock_writer_unlock (&db->lock);
  return TRUE;
}

static void
batch_op_clear (gpointer p)
{
  BatchOp *op = p;

  g_clear_pointer (&op->key, g_bytes_unref);
  g_clear_pointer (&op->value, g_bytes_unref);
}

static MeroBackendBatch *
mem_batch_new (MeroBackendDb *db)
{
  MeroBackendBatch *batch = g_new0 (MeroBackendBatch, 1);

  batch->ops = g_array_new (FALSE, FALSE, sizeof (BatchOp));
  g_array_set_clear_func (batch->ops, batch_op_clear);
  return batch;
}

static void
mem_batch_put (MeroBackendBatch *batch, uint32_t column, const uint8_t *key, size_t key_len,
               const uint8_t *value, size_t value_len)
{
  BatchOp op = { column, g_bytes_new (key, key_len), g_bytes_new (value, value_len) };

  g_return_if_fail (batch != NULL);
  g_array_append_val (batch->ops, op);
}

static void
mem_batch_delete (MeroBackendBatch *batch, uint32_t column, const uint8_t *key, size_t key_len)
{
  BatchOp op = { column, g_bytes_new (key, key_len), NULL };

  g_return_if_fail (batch != NULL);
  g_array_append_val (batch->ops, op);
}

static gboolean
mem_batch_commit (MeroBackendDb *db, MeroBackendBatch *batch, GError **error)
{
  g_return_val_if_fail (db != NULL && batch != NULL, FALSE);

  /* Check every op before applying any: all or nothing. */
  for (guint i = 0; i < batch->ops->len; i++)
    if (g_array_index (batch->ops, BatchOp, i).column >= db->n_columns)
      {
        g_set_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID,
                     "Batch operation %u names column %u; the database has %" G_GSIZE_FORMAT,
                     i, g_array_index (batch->ops, BatchOp, i).column, db->n_columns);
        return FALSE;
      }

  g_rw_lock_writer_lock (&db->lock);
  db->seq++;
  for (guint i = 0; i < batch->ops->len; i++)
    {
      const BatchOp *op = &g_array_index (batch->ops, BatchOp, i);
      gsize len;
      const guint8 *key = g_bytes_get_data (op->key, &len);

      apply_write (db, op->column, key, len, op->value ? g_bytes_ref (op->value) : NULL,
                   db->seq);
    }
  g_rw_lock_writer_unlock (&db->lock);
  return TRUE;
}

static void
mem_batch_free (MeroBackendBatch *batch)
{
  if (batch == NULL)
    return;
  g_array_unref (batch->ops);
  g_free (batch);
}

static MeroBackendSnapshot *
mem_snapshot_new (MeroBackendDb *db)
{
  MeroBackendSnapshot *snapshot = g_new0 (MeroBackendSnapshot, 1);

  g_rw_lock_writer_lock (&db->lock);
  snapshot->seq = db->seq;
  readers_add (db, snapshot->seq);
  g_rw_lock_writer_unlock (&db->lock);
  return snapshot;
}

static void
mem_snapshot_free (MeroBackendDb *db, MeroBackendSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  g_rw_lock_writer_lock (&db->lock);
  readers_remove (db, snapshot->seq);
  g_rw_lock_writer_unlock (&db->lock);
  g_free (snapshot);
}

static MeroBackendIter *
mem_iter_new (MeroBackendDb *db, MeroBackendSnapshot *snapshot, uint32_t column,
              const uint8_t *lower, size_t lower_len, const uint8_t *upper, size_t upper_len)
{
  MeroBackendIter *iter;

  g_return_val_if_fail (db != NULL && column < db->n_columns, NULL);

  iter = g_new0 (MeroBackendIter, 1);
  iter->db = db;
  iter->column = column;
  if (lower != NULL)
    iter->lower = g_bytes_new (lower, lower_len);
  if (upper != NULL)
    iter->upper = g_bytes_new (upper, upper_len);
  if (snapshot != NULL)
    iter->seq = snapshot->seq;
  else
    {
      /* Like RocksDB: an iterator without a snapshot reads the database as
       * it was when the iterator was made. */
      g_rw_lock_writer_lock (&db->lock);
      iter->seq = db->seq;
      readers_add (db, iter->seq);
      iter->own_reader = TRUE;
      g_rw_lock_writer_unlock (&db->lock);
    }
  return iter;
}

static int
bytes_vs_memkey (GBytes *bytes, const MemKey *key)
{
  MemKey k;

  k.data = g_bytes_get_data (bytes, &k.len);
  return memkey_compare (&k, key);
}

/* Positions on the first visible entry at or after @node.  Caller holds
 * the reader lock. */
static void
iter_settle (MeroBackendIter *iter, GTreeNode *node)
{
  g_clear_pointer (&iter->key, g_bytes_unref);
  g_clear_pointer (&iter->value, g_bytes_unref);

  for (; node != NULL; node = g_tree_node_next (node))
    {
      const Entry *e = g_tree_node_value (node);
      const Version *v;

      if (iter->upper != NULL && bytes_vs_memkey (iter->upper, &e->key) <= 0)
        return;
      v = entry_visible (e, iter->seq);
      if (v != NULL && v->value != NULL)
        {
          iter->key = g_bytes_new (e->key.data, e->key.len);
          iter->value = g_bytes_ref (v->value);
          return;
        }
    }
}

static void
iter_seek_at (MeroBackendIter *iter, const guint8 *key, gsize key_len)
{
  MemKey probe = { key, key_len };

  if (iter->lower != NULL && bytes_vs_memkey (iter->lower, &probe) > 0)
    probe.data = g_bytes_get_data (iter->lower, &probe.len);
  g_rw_lock_reader_lock (&iter->db->lock);
  iter_settle (iter, g_tree_lower_bound (iter->db->columns[iter->column], &probe));
  g_rw_lock_reader_unlock (&iter->db->lock);
}

static void
mem_iter_seek_first (MeroBackendIter *iter)
{
  g_return_if_fail (iter != NULL);

  if (iter->lower != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (iter->lower, &len);
      iter_seek_at (iter, data, len);
      return;
    }
  g_rw_lock_reader_lock (&iter->db->lock);
  iter_settle (iter, g_tree_node_first (iter->db->columns[iter->column]));
  g_rw_lock_reader_unlock (&iter->db->lock);
}

static void
mem_iter_seek (MeroBackendIter *iter, const uint8_t *key, size_t key_len)
{
  g_return_if_fail (iter != NULL);
  iter_seek_at (iter, key, key_len);
}

static gboolean
mem_iter_valid (MeroBackendIter *iter)
{
  g_return_val_if_fail (iter != NULL, FALSE);
  return iter->key != NULL;
}

static void
mem_iter_next (MeroBackendIter *iter)
{
  MemKey probe;
  g_autoptr (GBytes) current = NULL;

  g_return_if_fail (iter != NULL && iter->key != NULL);

  /* Re-find the position by key: the tree may have changed since. */
  current = g_bytes_ref (iter->key);
  probe.data = g_bytes_get_data (current, &probe.len);
  g_rw_lock_reader_lock (&iter->db->lock);
  iter_settle (iter, g_tree_upper_bound (iter->db->columns[iter->column], &probe));
  g_rw_lock_reader_unlock (&iter->db->lock);
}

static const uint8_t *
mem_iter_key (MeroBackendIter *iter, size_t *len)
{
  g_return_val_if_fail (iter != NULL && iter->key != NULL, NULL);
  return g_bytes_get_data (iter->key, len);
}

static const uint8_t *
mem_iter_value (MeroBackendIter *iter, size_t *len)
{
  g_return_val_if_fail (iter != NULL && iter->value != NULL, NULL);
  return g_bytes_get_data (iter->value, len);
}

static gboolean
mem_iter_check (MeroBackendIter *iter, GError **error)
{
  return TRUE;
}

static void
mem_iter_free (MeroBackendIter *iter)
{
  if (iter == NULL)
    return;
  if (iter->own_reader)
    {
      g_rw_lock_writer_lock (&iter->db->lock);
      readers_remove (iter->db, iter->seq);
      g_rw_lock_writer_unlock (&iter->db->lock);
    }
  g_clear_pointer (&iter->lower, g_bytes_unref);
  g_clear_pointer (&iter->upper, g_bytes_unref);
  g_clear_pointer (&iter->key, g_bytes_unref);
  g_clear_pointer (&iter->value, g_bytes_unref);
  g_free (iter);
}

const MeroStorageBackendVTable mero_store_memory_vtable = {
  .struct_size = sizeof (MeroStorageBackendVTable),
  .open = mem_open,
  .close = mem_close,
  .flush = mem_flush,
  .get = mem_get,
  .put = mem_put,
  .delete_key = mem_delete,
  .batch_new = mem_batch_new,
  .batch_put = mem_batch_put,
  .batch_delete = mem_batch_delete,
  .batch_commit = mem_batch_commit,
  .batch_free = mem_batch_free,
  .snapshot_new = mem_snapshot_new,
  .snapshot_free = mem_snapshot_free,
  .iter_new = mem_iter_new,
  .iter_seek_first = mem_iter_seek_first,
  .iter_seek = mem_iter_seek,
  .iter_valid = mem_iter_valid,
  .iter_next = mem_iter_next,
  .iter_key = mem_iter_key,
  .iter_value = mem_iter_value,
  .iter_check = mem_iter_check,
  .iter_free = mem_iter_free,
};
