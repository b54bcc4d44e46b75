/* mero-node-network.h: the node's side of the libp2p network.
 *
 * Builds the MeroNetworkConfig from merod.conf (network.listen_multiaddrs,
 * or every network.listen address on network.port; max_connections;
 * dial_timeout_secs; mdns and mdns_interval_secs), starts the network
 * thread with its events delivered on the main context, keeps the
 * bootstrap peers dialled (mero-node-bootstrap.h), dials the peers mDNS
 * finds (mero-node-discovery.h), and turns network events into what an
 * operator sees: peers joining and leaving at info level with their
 * address, their identify protocols, and a callback the node forwards to
 * D-Bus signals and the node event bus.
 *
 * Events arrive one at a time from the bounded event channel; every
 * handler here is O(peers) at most and never blocks, so the channel
 * drains at main-loop speed and back-pressure stays in the network. */
#pragma once

#include <glib.h>

#include "config/mero-config.h"
#include "net/transport/mero-network.h"
#include "node/mero-identity.h"
#include "node/mero-node-peer-store.h"

G_BEGIN_DECLS

typedef struct _MeroNodeNetwork MeroNodeNetwork;

/* @connected: TRUE when @peer_id got its first connection, FALSE when it
 * lost its last one; @detail is the address, or the reason it left. */
typedef void (*MeroNodePeerFunc) (const char *peer_id, gboolean connected, const char *detail,
                                  gpointer user_data);

/* @identity must outlive the result. */
MeroNodeNetwork *mero_node_network_new (const MeroConfig *config, const MeroIdentity *identity);
/* Listens on every configured address, then dials the bootstrap peers.
 * @func (nullable) hears about peers on the thread-default context. */
gboolean mero_node_network_start (MeroNodeNetwork *self, MeroNodePeerFunc func,
                                  gpointer user_data, GError **error);
/* Every network event, after this module's own handling, goes to @func
 * too (the NodeClient: gossip, topics, /calimero/stream/ streams).
 * Inbound streams are reset when no hook is set. */
typedef void (*MeroNodeNetEventFunc) (const MeroNetEvent *event, gpointer user_data);
void mero_node_network_set_event_hook (MeroNodeNetwork *self, MeroNodeNetEventFunc func,
                                       gpointer user_data);
/* Addresses learned from now on go to @peer_store (borrowed, must
 * outlive the network; NULL: none): every outbound connection's address
 * and every identify listenAddrs.  Inbound connections' remote addresses
 * are not kept: their port is the dialler's ephemeral one. */
void mero_node_network_set_peer_store (MeroNodeNetwork *self, MeroNodePeerStore *peer_store);
/* Keeps @peer_id dialled (with the bootstrap back-off) at every address
 * the peer store has for it; (transfer full) those addresses.  Empty
 * without a peer store or before start. */
GStrv mero_node_network_redial_peer (MeroNodeNetwork *self, const char *peer_id);
/* (transfer none) NULL-terminated bound listen multiaddrs ending in
 * /p2p/<our PeerId>; empty before start. */
const char *const *mero_node_network_get_listen_addrs (MeroNodeNetwork *self);
/* (transfer none) the network, for listing peers; NULL before start. */
MeroNetwork *mero_node_network_get_network (MeroNodeNetwork *self);
/* Closes every connection and joins the network thread; idempotent. */
void mero_node_network_stop (MeroNodeNetwork *self);
/* Stops first; NULL-safe. */
void mero_node_network_free (MeroNodeNetwork *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeNetwork, mero_node_network_free)

G_END_DECLS
