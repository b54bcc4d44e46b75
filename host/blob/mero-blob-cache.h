/* mero-blob-cache.h: whole blobs kept in memory for GetBlobBytes (sans-IO).
 *
 * Entries carry their last-accessed time; callers pass the monotonic time
 * (@now_us) so the rules are tested without a clock.  Evictions, each
 * counted in mero_blob_cache_evictions_total{reason}:
 *   reason="age"     idle longer than max_age_secs (checked on every call)
 *   reason="count"   more than max_entries: least recently used first
 *   reason="memory"  more than max_bytes in all: least recently used first
 * A blob larger than max_bytes is never cached.  Thread-safe. */
#pragma once

#include <glib.h>

#include "blob/mero-blob-tree.h"
#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

#define MERO_BLOB_CACHE_EVICTIONS_METRIC "mero_blob_cache_evictions_total"

typedef struct _MeroBlobCache MeroBlobCache;

/* @metrics NULL = the default registry. */
MeroBlobCache *mero_blob_cache_new (guint max_age_secs, guint max_entries, guint64 max_bytes,
                                    MeroMetrics *metrics);
void mero_blob_cache_free (MeroBlobCache *cache);

/* (transfer full) the cached bytes, refreshing the entry's access time; NULL if absent. */
GBytes *mero_blob_cache_get (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN],
                             gint64 now_us);
/* Adds or refreshes @id -> @bytes, then evicts down to the limits. */
void mero_blob_cache_put (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN],
                          GBytes *bytes, gint64 now_us);
/* Drops @id (a deleted blob); not an eviction. */
void mero_blob_cache_remove (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN]);
/* Evicts entries idle too long; returns how many. */
guint mero_blob_cache_expire (MeroBlobCache *cache, gint64 now_us);

guint mero_blob_cache_count (MeroBlobCache *cache);
guint64 mero_blob_cache_bytes (MeroBlobCache *cache);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobCache, mero_blob_cache_free)

G_END_DECLS
