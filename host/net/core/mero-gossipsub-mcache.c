/* mero-gossipsub-mcache.c: windows[0] is the newest; each window lists
 * its entries, and one hash table finds any entry by id. */
#include "net/core/mero-gossipsub-mcache.h"

#include <string.h>

typedef struct
{
  GBytes *id;
  MeroGossipsubMessage *msg;
  GHashTable *sent; /* (nullable) peer key GBytes -> IWANT transmissions */
} CacheEntry;

struct _MeroGossipsubMcache
{
  guint history_gossip;
  guint max_messages;
  GPtrArray *windows; /* GPtrArray of CacheEntry, newest first */
  GHashTable *by_id;  /* GBytes (owned by the entry) -> CacheEntry */
  guint64 refused;
};

static void
cache_entry_free (gpointer data)
{
  CacheEntry *e = data;

  g_bytes_unref (e->id);
  mero_gossipsub_message_free (e->msg);
  g_clear_pointer (&e->sent, g_hash_table_unref);
  g_free (e);
}

static GPtrArray *
window_new (void)
{
  return g_ptr_array_new_with_free_func (cache_entry_free);
}

MeroGossipsubMcache *
mero_gossipsub_mcache_new (guint history_length, guint history_gossip, guint max_messages)
{
  MeroGossipsubMcache *self;

  g_return_val_if_fail (history_gossip >= 1 && history_gossip <= history_length, NULL);

  self = g_new0 (MeroGossipsubMcache, 1);
  self->history_gossip = history_gossip;
  self->max_messages = max_messages;
  self->windows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_ptr_array_unref);
  for (guint i = 0; i < history_length; i++)
    g_ptr_array_add (self->windows, window_new ());
  self->by_id = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  return self;
}

void
mero_gossipsub_mcache_free (MeroGossipsubMcache *self)
{
  if (self == NULL)
    return;
  /* The table borrows ids from the entries: drop it first. */
  g_hash_table_unref (self->by_id);
  g_ptr_array_unref (self->windows);
  g_free (self);
}

gboolean
mero_gossipsub_mcache_put (MeroGossipsubMcache *self, GBytes *id, const MeroGossipsubMessage *msg)
{
  CacheEntry *e;

  g_return_val_if_fail (self != NULL && id != NULL && msg != NULL, FALSE);

  if (g_hash_table_contains (self->by_id, id))
    return FALSE;
  if (g_hash_table_size (self->by_id) >= self->max_messages)
    {
      self->refused++;
      return FALSE;
    }
  e = g_new0 (CacheEntry, 1);
  e->id = g_bytes_ref (id);
  e->msg = mero_gossipsub_message_copy (msg);
  g_ptr_array_add (g_ptr_array_index (self->windows, 0), e);
  g_hash_table_insert (self->by_id, e->id, e);
  return TRUE;
}

const MeroGossipsubMessage *
mero_gossipsub_mcache_get (const MeroGossipsubMcache *self, GBytes *id)
{
  CacheEntry *e;

  g_return_val_if_fail (self != NULL && id != NULL, NULL);

  e = g_hash_table_lookup (self->by_id, id);
  return e != NULL ? e->msg : NULL;
}

const MeroGossipsubMessage *
mero_gossipsub_mcache_get_for_peer (MeroGossipsubMcache *self, GBytes *id, GBytes *peer,
                                    guint max_transmissions)
{
  CacheEntry *e;
  guint n;

  g_return_val_if_fail (self != NULL && id != NULL && peer != NULL, NULL);

  e = g_hash_table_lookup (self->by_id, id);
  if (e == NULL)
    return NULL;
  if (e->sent == NULL)
    e->sent = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref, NULL);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (e->sent, peer));
  if (n >= max_transmissions)
    return NULL;
  g_hash_table_insert (e->sent, g_bytes_ref (peer), GUINT_TO_POINTER (n + 1));
  return e->msg;
}

GPtrArray *
mero_gossipsub_mcache_get_gossip_ids (const MeroGossipsubMcache *self, const char *topic)
{
  GPtrArray *ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_return_val_if_fail (self != NULL && topic != NULL, ids);

  for (guint w = 0; w < self->history_gossip; w++)
    {
      GPtrArray *window = g_ptr_array_index (self->windows, w);

      for (guint i = window->len; i > 0; i--)
        {
          CacheEntry *e = g_ptr_array_index (window, i - 1);

          if (e->msg->topic != NULL && strcmp (e->msg->topic, topic) == 0)
            g_ptr_array_add (ids, g_bytes_ref (e->id));
        }
    }
  return ids;
}

void
mero_gossipsub_mcache_shift (MeroGossipsubMcache *self)
{
  GPtrArray *oldest;

  g_return_if_fail (self != NULL);

  oldest = g_ptr_array_index (self->windows, self->windows->len - 1);
  for (guint i = 0; i < oldest->len; i++)
    g_hash_table_remove (self->by_id, ((CacheEntry *) g_ptr_array_index (oldest, i))->id);
  g_ptr_array_remove_index (self->windows, self->windows->len - 1);
  g_ptr_array_insert (self->windows, 0, window_new ());
}

guint
mero_gossipsub_mcache_get_size (const MeroGossipsubMcache *self)
{
  return g_hash_table_size (self->by_id);
}

guint64
mero_gossipsub_mcache_get_refused (const MeroGossipsubMcache *self)
{
  return self->refused;
}
