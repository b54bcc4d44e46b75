/* mero-network-pubsub.h: the gossipsub router on real connections, on the
 * network thread (private to host/net/transport).
 *
 * One router per network.  Per peer we open our own outbound
 * /meshsub/1.1.0 stream and write only on it; the peer's stream to us is
 * read-only (reference §2.8).  The peer joins the router when we start
 * opening our stream, so that the subscriptions js sends on its stream
 * right after identify are not lost; frames for it wait (bounded) until
 * the stream is agreed.  mero-net-conn.c tells us about streams and
 * frames, we tell it what to write. */
#pragma once

#include "net/transport/mero-network-private.h"

G_BEGIN_DECLS

#define MERO_GOSSIPSUB_PROTOCOL_ID "/meshsub/1.1.0"

typedef struct _NetPubsub NetPubsub;

/* On the network thread, once the thread's context is current. */
NetPubsub *net_pubsub_new (MeroNetwork *net);
/* NULL-safe. */
void net_pubsub_free (NetPubsub *self);

/* @conn's peer speaks meshsub (identify said so, or it opened a meshsub
 * stream to us): open our outbound stream unless the peer has one. */
void net_pubsub_peer_supports (NetPubsub *self, NetConn *conn);
/* Our outbound stream @stream_id on @conn was agreed, or failed/reset. */
void net_pubsub_stream_opened (NetPubsub *self, NetConn *conn, guint32 stream_id);
void net_pubsub_stream_gone (NetPubsub *self, NetConn *conn, guint32 stream_id);
/* @conn is closing: its peer leaves the router if it was ours. */
void net_pubsub_conn_closed (NetPubsub *self, NetConn *conn);
/* One de-framed RPC from @conn's peer.  FALSE: unusable (counted by the
 * router); the caller resets the stream. */
gboolean net_pubsub_receive (NetPubsub *self, NetConn *conn, GBytes *rpc);
/* The event channel has room again: hand over held deliveries. */
void net_pubsub_resume (NetPubsub *self);

void net_pubsub_subscribe (NetPubsub *self, const char *topic);
void net_pubsub_unsubscribe (NetPubsub *self, const char *topic);
void net_pubsub_publish (NetPubsub *self, const char *topic, GBytes *data);
/* The node found a message @peer_id delivered on @topic invalid. */
void net_pubsub_reject (NetPubsub *self, const char *peer_id, const char *topic);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (NetPubsub, net_pubsub_free)

G_END_DECLS
