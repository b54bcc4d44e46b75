/* mero-storage-backend.h: vtable of a STORAGE_BACKEND plugin.
 *
 * A backend is an ordered key-value store with named column families,
 * atomic write batches, forward iterators over a key range, and
 * point-in-time snapshots.  The host's store façade (typed keys,
 * encryption at rest) sits on top; backends see opaque bytes.
 *
 * Column families are addressed by index into the @columns array given to
 * open(); the backend creates missing ones.
 *
 * Threading: a database handle may be used from several threads at once
 * (the host runs large batches on a worker pool); batches, iterators and
 * snapshots are used by one thread at a time. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef struct _MeroBackendDb MeroBackendDb;
typedef struct _MeroBackendBatch MeroBackendBatch;
typedef struct _MeroBackendIter MeroBackendIter;
typedef struct _MeroBackendSnapshot MeroBackendSnapshot;

typedef struct {
  uint32_t struct_size;
  uint32_t flags;             /* MeroBackendOpenFlags */
  /* Size hint for the backend's block cache; 0 = backend default. */
  uint64_t cache_bytes;
} MeroBackendOpenOptions;

typedef enum {
  MERO_BACKEND_OPEN_CREATE = 1 << 0,   /* create the database if missing */
  MERO_BACKEND_OPEN_SYNC_WRITES = 1 << 1, /* fsync the WAL on every commit */
} MeroBackendOpenFlags;

typedef struct _MeroStorageBackendVTable MeroStorageBackendVTable;

struct _MeroStorageBackendVTable {
  uint32_t struct_size;
  uint32_t reserved;

  /* @path is a directory the backend owns (the memory backend ignores it).
   * @columns: @n_columns names, index = column id used below.
   * Returns (transfer full) handle or NULL with @error set
   * (MERO_STORE_ERROR_LOCKED if another process holds it). */
  MeroBackendDb *(*open) (void *plugin_data, const char *path, const char *const *columns,
                          size_t n_columns, const MeroBackendOpenOptions *options,
                          GError **error);
  /* Flushes and closes.  NULL-safe. */
  void (*close) (MeroBackendDb *db);
  /* Persist everything written so far (memtables and WAL). */
  gboolean (*flush) (MeroBackendDb *db, GError **error);

  /* Point read.  On success returns TRUE; *value is (transfer full) or NULL
   * when the key is absent.  @snapshot may be NULL (latest). */
  gboolean (*get) (MeroBackendDb *db, MeroBackendSnapshot *snapshot, uint32_t column,
                   const uint8_t *key, size_t key_len, GBytes **value, GError **error);
  gboolean (*put) (MeroBackendDb *db, uint32_t column, const uint8_t *key, size_t key_len,
                   const uint8_t *value, size_t value_len, GError **error);
  gboolean (*delete_key) (MeroBackendDb *db, uint32_t column, const uint8_t *key,
                          size_t key_len, GError **error);

  /* Write batches: applied atomically by batch_commit, which does not free. */
  MeroBackendBatch *(*batch_new) (MeroBackendDb *db);
  void (*batch_put) (MeroBackendBatch *batch, uint32_t column, const uint8_t *key,
                     size_t key_len, const uint8_t *value, size_t value_len);
  void (*batch_delete) (MeroBackendBatch *batch, uint32_t column, const uint8_t *key,
                        size_t key_len);
  gboolean (*batch_commit) (MeroBackendDb *db, MeroBackendBatch *batch, GError **error);
  void (*batch_free) (MeroBackendBatch *batch);

  /* Snapshots: a consistent read view until freed. */
  MeroBackendSnapshot *(*snapshot_new) (MeroBackendDb *db);
  void (*snapshot_free) (MeroBackendDb *db, MeroBackendSnapshot *snapshot);

  /* Forward iterator over [lower, upper) of one column (either bound may
   * be NULL).  Starts before the first key: call iter_seek or
   * iter_seek_first.  Key/value pointers are valid until the next move. */
  MeroBackendIter *(*iter_new) (MeroBackendDb *db, MeroBackendSnapshot *snapshot,
                                uint32_t column, const uint8_t *lower, size_t lower_len,
                                const uint8_t *upper, size_t upper_len);
  void (*iter_seek_first) (MeroBackendIter *iter);
  void (*iter_seek) (MeroBackendIter *iter, const uint8_t *key, size_t key_len);
  gboolean (*iter_valid) (MeroBackendIter *iter);
  void (*iter_next) (MeroBackendIter *iter);
  const uint8_t *(*iter_key) (MeroBackendIter *iter, size_t *len);
  const uint8_t *(*iter_value) (MeroBackendIter *iter, size_t *len);
  /* FALSE with @error set if iteration stopped because of an error. */
  gboolean (*iter_check) (MeroBackendIter *iter, GError **error);
  void (*iter_free) (MeroBackendIter *iter);
};

G_END_DECLS
