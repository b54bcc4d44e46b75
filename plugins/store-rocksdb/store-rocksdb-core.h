/* store-rocksdb-core.h: the RocksDB STORAGE_BACKEND (RocksDB C API).
 *
 * One column family per column (missing ones are created), the WAL on
 * (optionally fsynced on every commit), write batches, snapshots, and
 * iterators bounded in RocksDB itself (iterate_lower/upper_bound), so a
 * range scan never reads past its prefix.  A database held by another
 * process or handle fails with MERO_STORE_ERROR_LOCKED naming the path. */
#pragma once

#include <mero-sdk.h>
#include <rocksdb/c.h>

G_BEGIN_DECLS

/* Block cache when the caller gives no size. */
#define MERO_STORE_ROCKSDB_DEFAULT_CACHE_BYTES (G_GUINT64_CONSTANT (32) << 20)

extern const MeroStorageBackendVTable mero_store_rocksdb_vtable;

/* Plugin init/finalize: the plugin data only remembers the host services
 * for logging.  The vtable also works with NULL plugin data (tests link
 * the backend statically and call open() directly). */
gboolean mero_store_rocksdb_init (const MeroHostServices *host, void **plugin_data,
                                  GError **error);
void mero_store_rocksdb_finalize (void *plugin_data);

/* The options every database is opened with (block cache of @cache_bytes,
 * 0 = default; bloom filters; background parallelism), exposed so the
 * benchmark measures raw RocksDB with exactly the same tuning.
 * (transfer full): free with rocksdb_options_destroy(). */
rocksdb_options_t *mero_store_rocksdb_options_new (guint64 cache_bytes, gboolean create);

G_END_DECLS
