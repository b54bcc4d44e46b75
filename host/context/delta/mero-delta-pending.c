#include "context/delta/mero-delta-pending.h"

#include <string.h>

#include "context/delta/mero-delta-error.h"
#include "context/state/mero-entity.h"

typedef struct {
  guint8 id[32];
  GHashTable *missing;   /* set of parent ids (owned) */
  guint64 received_ms;
  GList *link;           /* in arrival */
} Entry;

struct _MeroDeltaPending {
  GHashTable *entries;   /* id -> Entry (owned); key is entry->id */
  GHashTable *waiters;   /* parent id (owned) -> GPtrArray of Entry (borrowed) */
  GQueue arrival;        /* Entry, oldest first */
};

static void
entry_free (Entry *e)
{
  g_hash_table_unref (e->missing);
  g_free (e);
}

MeroDeltaPending *
mero_delta_pending_new (void)
{
  MeroDeltaPending *p = g_new0 (MeroDeltaPending, 1);

  p->entries = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                      (GDestroyNotify) entry_free);
  p->waiters = g_hash_table_new_full (mero_id_hash, mero_id_equal, g_free,
                                      (GDestroyNotify) g_ptr_array_unref);
  g_queue_init (&p->arrival);
  return p;
}

void
mero_delta_pending_free (MeroDeltaPending *pending)
{
  if (pending == NULL)
    return;
  g_queue_clear (&pending->arrival);
  g_hash_table_unref (pending->waiters);
  g_hash_table_unref (pending->entries);
  g_free (pending);
}

guint
mero_delta_pending_count (MeroDeltaPending *pending)
{
  return g_hash_table_size (pending->entries);
}

gboolean
mero_delta_pending_contains (MeroDeltaPending *pending, const guint8 id[32])
{
  return g_hash_table_contains (pending->entries, id);
}

/* Does any pending ancestor reachable from @missing equal @id?  Visits
 * each pending entry at most once, so at most MERO_DELTA_PENDING_MAX. */
static gboolean
reaches (MeroDeltaPending *p, const guint8 id[32], const guint8 *missing, guint n_missing)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (mero_id_hash, mero_id_equal);
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();

  for (guint i = 0; i < n_missing; i++)
    g_ptr_array_add (stack, (gpointer) (missing + (gsize) i * 32));
  while (stack->len > 0)
    {
      const guint8 *cur = g_ptr_array_steal_index_fast (stack, stack->len - 1);
      Entry *e;
      GHashTableIter it;
      gpointer k;

      if (memcmp (cur, id, 32) == 0)
        return TRUE;
      e = g_hash_table_lookup (p->entries, cur);
      if (e == NULL || !g_hash_table_add (seen, e->id))
        continue;
      g_hash_table_iter_init (&it, e->missing);
      while (g_hash_table_iter_next (&it, &k, NULL))
        g_ptr_array_add (stack, k);
    }
  return FALSE;
}

gboolean
mero_delta_pending_add (MeroDeltaPending *pending, const guint8 id[32], const guint8 *missing,
                        guint n_missing, guint64 received_ms, GError **error)
{
  Entry *e;

  g_return_val_if_fail (!mero_delta_pending_contains (pending, id), FALSE);
  if (reaches (pending, id, missing, n_missing))
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_CYCLE,
                   "delta would be its own ancestor");
      return FALSE;
    }
  e = g_new0 (Entry, 1);
  memcpy (e->id, id, 32);
  e->received_ms = received_ms;
  e->missing = g_hash_table_new_full (mero_id_hash, mero_id_equal, g_free, NULL);
  for (guint i = 0; i < n_missing; i++)
    {
      const guint8 *m = missing + (gsize) i * 32;
      GPtrArray *w;

      if (!g_hash_table_add (e->missing, g_memdup2 (m, 32)))
        continue;
      w = g_hash_table_lookup (pending->waiters, m);
      if (w == NULL)
        {
          w = g_ptr_array_new ();
          g_hash_table_insert (pending->waiters, g_memdup2 (m, 32), w);
        }
      g_ptr_array_add (w, e);
    }
  g_hash_table_insert (pending->entries, e->id, e);
  g_queue_push_tail (&pending->arrival, e);
  e->link = pending->arrival.tail;
  return TRUE;
}

void
mero_delta_pending_remove (MeroDeltaPending *pending, const guint8 id[32])
{
  Entry *e = g_hash_table_lookup (pending->entries, id);
  GHashTableIter it;
  gpointer k;

  if (e == NULL)
    return;
  g_hash_table_iter_init (&it, e->missing);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      GPtrArray *w = g_hash_table_lookup (pending->waiters, k);

      if (w == NULL)
        continue;
      g_ptr_array_remove_fast (w, e);
      if (w->len == 0)
        g_hash_table_remove (pending->waiters, k);
    }
  g_queue_delete_link (&pending->arrival, e->link);
  g_hash_table_remove (pending->entries, id);
}

static int
arrival_cmp (gconstpointer a, gconstpointer b)
{
  const Entry *x = *(Entry *const *) a;
  const Entry *y = *(Entry *const *) b;

  return x->received_ms < y->received_ms ? -1 : x->received_ms > y->received_ms;
}

GPtrArray *
mero_delta_pending_resolve (MeroDeltaPending *pending, const guint8 parent[32])
{
  GPtrArray *ready = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) w = NULL;
  gpointer orig_key = NULL;

  if (!g_hash_table_steal_extended (pending->waiters, parent, &orig_key, (gpointer *) &w))
    return ready;
  g_free (orig_key);
  g_ptr_array_sort (w, arrival_cmp);
  for (guint i = 0; i < w->len; i++)
    {
      Entry *e = g_ptr_array_index (w, i);

      g_hash_table_remove (e->missing, parent);
      if (g_hash_table_size (e->missing) == 0)
        g_ptr_array_add (ready, g_bytes_new (e->id, 32));
    }
  return ready;
}

gboolean
mero_delta_pending_oldest (MeroDeltaPending *pending, guint8 id[32], guint64 *received_ms)
{
  const Entry *e = g_queue_peek_head (&pending->arrival);

  if (e == NULL)
    return FALSE;
  memcpy (id, e->id, 32);
  *received_ms = e->received_ms;
  return TRUE;
}

static int
bytes_cmp (gconstpointer a, gconstpointer b)
{
  return g_bytes_compare (*(GBytes *const *) a, *(GBytes *const *) b);
}

GPtrArray *
mero_delta_pending_missing (MeroDeltaPending *pending)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GHashTableIter it;
  gpointer k;

  g_hash_table_iter_init (&it, pending->waiters);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_hash_table_contains (pending->entries, k))
      g_ptr_array_add (out, g_bytes_new (k, 32));
  g_ptr_array_sort (out, bytes_cmp);
  return out;
}
