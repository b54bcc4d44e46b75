/* mero-gossipsub-mcache.h: the gossipsub message cache (gossipsub-v1.0
 * §message cache): the messages of the last history_length heartbeats,
 * in one window per heartbeat.  IHAVE gossip advertises the ids of the
 * newest history_gossip windows; IWANT is answered from all of them.
 * Bounded by a total message count; a message that does not fit is not
 * cached (and counted), which only costs gossip repair for it. */
#pragma once

#include <glib.h>

#include "net/core/mero-gossipsub-message.h"

G_BEGIN_DECLS

typedef struct _MeroGossipsubMcache MeroGossipsubMcache;

/* 1 <= @history_gossip <= @history_length. */
MeroGossipsubMcache *mero_gossipsub_mcache_new (guint history_length, guint history_gossip,
                                                guint max_messages);
/* NULL-safe. */
void mero_gossipsub_mcache_free (MeroGossipsubMcache *self);

/* Caches a copy of @msg under @id in the newest window.  FALSE if the id
 * is already cached or the cache is full. */
gboolean mero_gossipsub_mcache_put (MeroGossipsubMcache *self, GBytes *id,
                                    const MeroGossipsubMessage *msg);
/* (transfer none) the cached message, or NULL. */
const MeroGossipsubMessage *mero_gossipsub_mcache_get (const MeroGossipsubMcache *self, GBytes *id);
/* Like get, for answering an IWANT from @peer (any stable key for the
 * peer): NULL as well once the message was sent to that peer
 * @max_transmissions times this way, so one peer cannot make us resend a
 * message forever. */
const MeroGossipsubMessage *mero_gossipsub_mcache_get_for_peer (MeroGossipsubMcache *self, GBytes *id,
                                                                GBytes *peer,
                                                                guint max_transmissions);
/* (transfer full) GBytes ids of @topic's messages in the gossip windows,
 * newest first. */
GPtrArray *mero_gossipsub_mcache_get_gossip_ids (const MeroGossipsubMcache *self, const char *topic);
/* Opens a new window and forgets the oldest (once per heartbeat). */
void mero_gossipsub_mcache_shift (MeroGossipsubMcache *self);
guint mero_gossipsub_mcache_get_size (const MeroGossipsubMcache *self);
/* Messages refused because the cache was full. */
guint64 mero_gossipsub_mcache_get_refused (const MeroGossipsubMcache *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubMcache, mero_gossipsub_mcache_free)

G_END_DECLS
