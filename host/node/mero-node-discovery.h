/* mero-node-discovery.h: which peers found by mDNS the node dials, and
 * when (no I/O, integer time).
 *
 * Each PEER_DISCOVERED event asks "dial now?".  Not if the peer is
 * connected; not while its back-off runs (1 s after the first attempt,
 * doubling up to 5 min, reset when it connects); otherwise one address,
 * the next of its list each attempt, so an unreachable first address
 * does not hide a good second one.  At most
 * MERO_NODE_DISCOVERY_MAX_PEERS peers are tracked; a discovery beyond
 * that (with no slot whose back-off ran out) is dropped and counted. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_NODE_DISCOVERY_MAX_PEERS 64u
#define MERO_NODE_DISCOVERY_BACKOFF_MIN_US G_USEC_PER_SEC
#define MERO_NODE_DISCOVERY_BACKOFF_MAX_US (300 * G_USEC_PER_SEC)

typedef struct _MeroNodeDiscovery MeroNodeDiscovery;

MeroNodeDiscovery *mero_node_discovery_new (void);
void mero_node_discovery_free (MeroNodeDiscovery *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeDiscovery, mero_node_discovery_free)

/* (transfer none, valid until the next call) the address of @addrs to
 * dial now, or NULL. */
const char *mero_node_discovery_next_dial (MeroNodeDiscovery *self,
                                           const char        *peer_id,
                                           const char *const *addrs,
                                           gboolean           connected,
                                           gint64             now);
/* The peer connected (any way): forget its back-off. */
void mero_node_discovery_connected (MeroNodeDiscovery *self, const char *peer_id);
/* Discoveries dropped because the table was full. */
guint64 mero_node_discovery_get_dropped (const MeroNodeDiscovery *self);

G_END_DECLS
