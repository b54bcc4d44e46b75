/* mero-blob-cache.c: LRU list + hash table; time comes from the caller. */
#include "blob/mero-blob-cache.h"

#include <string.h>

typedef struct {
  guint8 id[MERO_BLOB_ID_LEN];
  GBytes *bytes;
  gint64 accessed_us;
  GList link;              /* in lru: head = least recently used */
} Entry;

struct _MeroBlobCache {
  GMutex lock;
  gint64 max_age_us;
  guint max_entries;
  guint64 max_bytes;
  MeroMetrics *metrics;
  GHashTable *by_id;       /* id -> Entry (owned) */
  GQueue lru;
  guint64 bytes;
};

static guint
id_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, MERO_BLOB_ID_LEN) == 0;
}

static void
entry_free (Entry *entry)
{
  g_bytes_unref (entry->bytes);
  g_free (entry);
}

MeroBlobCache *
mero_blob_cache_new (guint max_age_secs, guint max_entries, guint64 max_bytes,
                     MeroMetrics *metrics)
{
  MeroBlobCache *cache = g_new0 (MeroBlobCache, 1);

  g_mutex_init (&cache->lock);
  cache->max_age_us = (gint64) max_age_secs * G_USEC_PER_SEC;
  cache->max_entries = max_entries;
  cache->max_bytes = max_bytes;
  cache->metrics = metrics != NULL ? mero_metrics_ref (metrics) : NULL;
  cache->by_id = g_hash_table_new_full (id_hash, id_equal, NULL, (GDestroyNotify) entry_free);
  g_queue_init (&cache->lru);
  mero_metrics_set_help (cache->metrics, MERO_BLOB_CACHE_EVICTIONS_METRIC,
                         "Blobs dropped from the GetBlobBytes cache, by reason (age, count, memory)",
                         NULL);
  return cache;
}

void
mero_blob_cache_free (MeroBlobCache *cache)
{
  if (cache == NULL)
    return;
  /* The queue's links live inside the entries, which the table frees:
   * g_queue_clear would hand them to the slice allocator as lists. */
  g_hash_table_unref (cache->by_id);
  mero_metrics_unref (cache->metrics);
  g_mutex_clear (&cache->lock);
  g_free (cache);
}

static void
drop (MeroBlobCache *cache, Entry *entry, const char *reason)
{
  g_queue_unlink (&cache->lru, &entry->link);
  cache->bytes -= g_bytes_get_size (entry->bytes);
  if (reason != NULL)
    {
      g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

      mero_metrics_counter_add (cache->metrics, MERO_BLOB_CACHE_EVICTIONS_METRIC, labels, 1,
                                NULL);
    }
  g_hash_table_remove (cache->by_id, entry->id);
}

static guint
expire_locked (MeroBlobCache *cache, gint64 now_us)
{
  guint n = 0;

  while (cache->lru.head != NULL)
    {
      Entry *oldest = cache->lru.head->data;

      if (now_us - oldest->accessed_us <= cache->max_age_us)
        break;
      drop (cache, oldest, "age");
      n++;
    }
  return n;
}

static void
touch (MeroBlobCache *cache, Entry *entry, gint64 now_us)
{
  entry->accessed_us = now_us;
  g_queue_unlink (&cache->lru, &entry->link);
  g_queue_push_tail_link (&cache->lru, &entry->link);
}

GBytes *
mero_blob_cache_get (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN], gint64 now_us)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  Entry *entry;

  expire_locked (cache, now_us);
  entry = g_hash_table_lookup (cache->by_id, id);
  if (entry == NULL)
    return NULL;
  touch (cache, entry, now_us);
  return g_bytes_ref (entry->bytes);
}

void
mero_blob_cache_put (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN], GBytes *bytes,
                     gint64 now_us)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  Entry *entry;

  expire_locked (cache, now_us);
  if (g_bytes_get_size (bytes) > cache->max_bytes || cache->max_entries == 0)
    return;
  entry = g_hash_table_lookup (cache->by_id, id);
  if (entry != NULL)
    {
      touch (cache, entry, now_us);
      return;
    }
  entry = g_new0 (Entry, 1);
  memcpy (entry->id, id, MERO_BLOB_ID_LEN);
  entry->bytes = g_bytes_ref (bytes);
  entry->accessed_us = now_us;
  entry->link.data = entry;
  g_hash_table_insert (cache->by_id, entry->id, entry);
  g_queue_push_tail_link (&cache->lru, &entry->link);
  cache->bytes += g_bytes_get_size (bytes);
  while (g_hash_table_size (cache->by_id) > cache->max_entries)
    drop (cache, cache->lru.head->data, "count");
  while (cache->bytes > cache->max_bytes)
    drop (cache, cache->lru.head->data, "memory");
}

void
mero_blob_cache_remove (MeroBlobCache *cache, const guint8 id[MERO_BLOB_ID_LEN])
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);
  Entry *entry = g_hash_table_lookup (cache->by_id, id);

  if (entry != NULL)
    drop (cache, entry, NULL);
}

guint
mero_blob_cache_expire (MeroBlobCache *cache, gint64 now_us)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);

  return expire_locked (cache, now_us);
}

guint
mero_blob_cache_count (MeroBlobCache *cache)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);

  return g_hash_table_size (cache->by_id);
}

guint64
mero_blob_cache_bytes (MeroBlobCache *cache)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&cache->lock);

  return cache->bytes;
}
