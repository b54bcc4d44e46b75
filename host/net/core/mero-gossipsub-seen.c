/* mero-gossipsub-seen.c: a hash set for lookups plus a FIFO for expiry.
 * Insertion times never decrease (time is an input that only moves
 * forward) and the TTL is fixed, so the FIFO is also ordered by expiry
 * and expiring is popping its head. */
#include "net/core/mero-gossipsub-seen.h"

typedef struct
{
  GBytes *id;
  gint64 expires;
} SeenEntry;

struct _MeroGossipsubSeen
{
  gint64 ttl_us;
  guint max_entries;
  GHashTable *ids; /* GBytes (owned by the entry) -> SeenEntry */
  GQueue order;    /* SeenEntry, oldest first */
  guint64 evicted;
};

MeroGossipsubSeen *
mero_gossipsub_seen_new (gint64 ttl_us, guint max_entries)
{
  MeroGossipsubSeen *self;

  g_return_val_if_fail (max_entries > 0, NULL);

  self = g_new0 (MeroGossipsubSeen, 1);
  self->ttl_us = ttl_us;
  self->max_entries = max_entries;
  self->ids = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  g_queue_init (&self->order);
  return self;
}

static void
pop_oldest (MeroGossipsubSeen *self)
{
  SeenEntry *e = g_queue_pop_head (&self->order);

  g_hash_table_remove (self->ids, e->id);
  g_bytes_unref (e->id);
  g_free (e);
}

void
mero_gossipsub_seen_free (MeroGossipsubSeen *self)
{
  if (self == NULL)
    return;
  while (!g_queue_is_empty (&self->order))
    pop_oldest (self);
  g_hash_table_unref (self->ids);
  g_free (self);
}

void
mero_gossipsub_seen_expire (MeroGossipsubSeen *self, gint64 now)
{
  g_return_if_fail (self != NULL);

  while (!g_queue_is_empty (&self->order) &&
         ((SeenEntry *) g_queue_peek_head (&self->order))->expires <= now)
    pop_oldest (self);
}

gboolean
mero_gossipsub_seen_add (MeroGossipsubSeen *self, GBytes *id, gint64 now)
{
  SeenEntry *e;

  g_return_val_if_fail (self != NULL && id != NULL, FALSE);

  mero_gossipsub_seen_expire (self, now);
  if (g_hash_table_contains (self->ids, id))
    return FALSE;
  if (g_queue_get_length (&self->order) >= self->max_entries)
    {
      pop_oldest (self);
      self->evicted++;
    }
  e = g_new0 (SeenEntry, 1);
  e->id = g_bytes_ref (id);
  e->expires = now + self->ttl_us;
  g_queue_push_tail (&self->order, e);
  g_hash_table_insert (self->ids, e->id, e);
  return TRUE;
}

gboolean
mero_gossipsub_seen_contains (const MeroGossipsubSeen *self, GBytes *id)
{
  g_return_val_if_fail (self != NULL && id != NULL, FALSE);

  return g_hash_table_contains (self->ids, id);
}

guint
mero_gossipsub_seen_get_size (const MeroGossipsubSeen *self)
{
  return g_queue_get_length ((GQueue *) &self->order);
}

guint64
mero_gossipsub_seen_get_evicted (const MeroGossipsubSeen *self)
{
  return self->evicted;
}

gboolean
mero_gossipsub_seen_lookup (const MeroGossipsubSeen *self, GBytes *id, gint64 *added_at)
{
  const SeenEntry *e;

  g_return_val_if_fail (self != NULL && id != NULL && added_at != NULL, FALSE);

  e = g_hash_table_lookup (self->ids, id);
  if (e == NULL)
    return FALSE;
  *added_at = e->expires - self->ttl_us;
  return TRUE;
}
