/* mero-gossipsub-seen.h: the seen cache, ids of messages already handled
 * (delivered, forwarded or rejected), so a duplicate is dropped however
 * many peers send it.  Entries live for a fixed TTL (js seenTTL: 2 min),
 * and the cache holds at most a fixed number; when it is full the oldest
 * entry leaves early and is counted, because a duplicate of it would then
 * be handled again. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MeroGossipsubSeen MeroGossipsubSeen;

MeroGossipsubSeen *mero_gossipsub_seen_new (gint64 ttl_us, guint max_entries);
/* NULL-safe. */
void mero_gossipsub_seen_free (MeroGossipsubSeen *self);

/* Records @id at @now.  TRUE if it was new, FALSE if already present
 * (its expiry is not extended, as js does not either). */
gboolean mero_gossipsub_seen_add (MeroGossipsubSeen *self, GBytes *id, gint64 now);
gboolean mero_gossipsub_seen_contains (const MeroGossipsubSeen *self, GBytes *id);
/* The same, with when @id was added in *@added_at (scoring counts mesh
 * peers that forward a message shortly after it was first seen). */
gboolean mero_gossipsub_seen_lookup (const MeroGossipsubSeen *self, GBytes *id, gint64 *added_at);
/* Forgets entries whose TTL ran out by @now. */
void mero_gossipsub_seen_expire (MeroGossipsubSeen *self, gint64 now);
guint mero_gossipsub_seen_get_size (const MeroGossipsubSeen *self);
/* Entries that left before their TTL because the cache was full. */
guint64 mero_gossipsub_seen_get_evicted (const MeroGossipsubSeen *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubSeen, mero_gossipsub_seen_free)

G_END_DECLS
