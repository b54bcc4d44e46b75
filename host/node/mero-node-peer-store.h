/* mero-node-peer-store.h: the peer store (mero-peer-store.h) bound to the
 * node's store.
 *
 * Loaded once at start from the META column (key peer(multihash), see
 * mero-store-keys.h); every change after that is written back in one
 * batch MERO_NODE_PEER_STORE_FLUSH_DELAY_MS after the first change of a
 * burst, so identify pushes and reconnect storms do not each cost a
 * write; _free writes what is left.  Exposes mero_peer_store_peers (gauge)
 * and mero_peer_store_evictions_total. */
#pragma once

#include <glib.h>

#include "metrics/mero-metrics.h"
#include "node/mero-peer-store.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

#define MERO_NODE_PEER_STORE_FLUSH_DELAY_MS 2000u

typedef struct _MeroNodePeerStore MeroNodePeerStore;

/* @store is borrowed and must outlive the result; @max_peers as in
 * mero_peer_store_new; @metrics NULL: the default instance.  Records that
 * do not decode are deleted (logged). */
MeroNodePeerStore *mero_node_peer_store_new (MeroStore *store, guint max_peers,
                                             MeroMetrics *metrics, GError **error);
/* Writes pending changes, then frees; NULL-safe. */
void mero_node_peer_store_free (MeroNodePeerStore *self);

/* As mero_peer_store_learn, with the wall clock; schedules a write. */
gboolean mero_node_peer_store_learn (MeroNodePeerStore *self, const char *peer_id,
                                     const char *address);
/* (transfer full) as mero_peer_store_lookup. */
GStrv mero_node_peer_store_lookup (MeroNodePeerStore *self, const char *peer_id);
/* Writes pending changes now. */
gboolean mero_node_peer_store_flush (MeroNodePeerStore *self, GError **error);
/* (transfer none) the core, for counts. */
MeroPeerStore *mero_node_peer_store_get_core (MeroNodePeerStore *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodePeerStore, mero_node_peer_store_free)

G_END_DECLS
