/* mero-node-client.h: the NodeClient façade over the libp2p network
 * (DESIGN §1): subscribe/unsubscribe context and group topics, publish
 * (StateDelta, group ops, heartbeats), request/response exchanges over
 * the /calimero/stream/ protocols (client and server side), peer counts
 * (global and per topic), and the sync-trigger queue (ctx_sync_tx) the
 * sync manager will consume.
 *
 * It is the MeroNodeTransport of the node's MeroContexts, and it routes
 * network events to it: gossip messages, peers subscribing, inbound
 * streams.  Main thread only. */
#pragma once

#include <glib.h>

#include "metrics/mero-metrics.h"
#include "net/transport/mero-network.h"
#include "node/mero-contexts.h"
#include "node/mero-node-transport.h"

G_BEGIN_DECLS

/* Prefix of the stream protocols the node serves. */
#define MERO_NODE_STREAM_PREFIX "/calimero/stream/"
/* One request/response exchange may take this long (dial included). */
#define MERO_NODE_REQUEST_TIMEOUT_MS 15000u
/* Inbound streams served at once to members of our groups, in all and
 * per peer; more are reset and counted (reason "busy"). */
#define MERO_NODE_MAX_INBOUND_STREAMS 64u
#define MERO_NODE_MAX_INBOUND_PER_PEER 8u
/* Peers that are members of none of our groups (a joiner asking for
 * group ops, or anyone else) draw from a small share of their own, so
 * they can never take the members' slots; more are reset and counted
 * (reason "non_member_busy"). */
#define MERO_NODE_MAX_INBOUND_NON_MEMBERS 8u
#define MERO_NODE_MAX_INBOUND_PER_NON_MEMBER 1u
/* The first bytes of an inbound request must arrive within
 * FIRST_BYTES_MS (a requester writes at once; reason "silent"), then the
 * whole request within TIMEOUT_MS and MAX_REQUEST_BYTES (reasons
 * "request_timeout", "request_too_large"), or the stream is reset: idle
 * or huge requests cannot pin a slot. */
#define MERO_NODE_INBOUND_FIRST_BYTES_MS 2000u
#define MERO_NODE_INBOUND_TIMEOUT_MS 15000u
#define MERO_NODE_MAX_REQUEST_BYTES (1024u * 1024u)
/* Outbound requests in flight; more fail at once. */
#define MERO_NODE_MAX_REQUESTS 256u
/* Requests open to one peer at once; more wait in order (within their
 * timeout). A peer serves us MERO_NODE_MAX_INBOUND_PER_PEER requests at
 * once and resets the rest as busy: we stay under that, leaving room for
 * the peer's other uses of our slots. */
#define MERO_NODE_MAX_REQUESTS_PER_PEER (MERO_NODE_MAX_INBOUND_PER_PEER / 2)
/* Sync triggers waiting (deduplicated by context); more are dropped. */
#define MERO_NODE_SYNC_QUEUE_MAX 256u

typedef struct _MeroNodeClient MeroNodeClient;

/* @network (borrowed, nullable: everything is local) must outlive it. */
MeroNodeClient *mero_node_client_new (MeroNetwork *network, MeroMetrics *metrics);
void mero_node_client_free (MeroNodeClient *client);   /* NULL-safe */

/* The transport vtable; its data is the client. */
const MeroNodeTransport *mero_node_client_transport (void);
/* Where inbound gossip and requests go (borrowed, nullable). */
void mero_node_client_set_contexts (MeroNodeClient *client, MeroContexts *contexts);
/* Every network event, in order (called by the node's network side). */
void mero_node_client_handle_event (MeroNodeClient *client, const MeroNetEvent *event);

guint mero_node_client_peer_count (MeroNodeClient *client);
guint mero_node_client_topic_peer_count (MeroNodeClient *client, const char *topic);

/* Sync triggers: FALSE when the queue is empty.  (transfer full)
 * @by_operator (nullable): TRUE if an operator asked for it; @resync
 * (nullable): TRUE if the operator asked to replace the local state by a
 * peer's (ResyncContext). */
gboolean mero_node_client_pop_sync (MeroNodeClient *client, char **context_id, char **peer_id,
                                    gboolean *by_operator, gboolean *resync);
guint mero_node_client_sync_queue_length (MeroNodeClient *client);

/* Streams of whole sessions (the sync layer, host/sync): the protocols
 * @owns accepts are not request/response.  Their inbound streams go to
 * @inbound (which admits or resets them), outbound ones opened with
 * mero_node_client_open_stream to @opened/@open_failed, and their data
 * and ends to @data/@ended (which return FALSE for a stream they do not
 * know). */
typedef struct {
  gboolean (*owns) (gpointer data, const char *protocol);
  void (*inbound) (gpointer data, MeroNetStream *stream);
  gboolean (*opened) (gpointer data, guint64 request_id, MeroNetStream *stream);
  gboolean (*open_failed) (gpointer data, guint64 request_id, const char *message);
  gboolean (*data) (gpointer data, MeroNetStream *stream, GBytes *bytes);
  gboolean (*ended) (gpointer data, MeroNetStream *stream, gboolean reset);
} MeroNodeStreamHandler;

/* @handler (static) and @data borrowed; NULL unsets. */
void mero_node_client_set_stream_handler (MeroNodeClient *client,
                                          const MeroNodeStreamHandler *handler, gpointer data);
/* Prefix of the blob protocols (/calimero/blob/1): their inbound streams
 * go to the blob handler (host/blob/mero-blob-net.c), which keeps the
 * same member/non-member slot bounds as the streams served here; its
 * outbound streams, data and ends are offered to it after the sync
 * layer's handler.  @handler (static) and @data borrowed; NULL unsets. */
#define MERO_NODE_BLOB_PREFIX "/calimero/blob/"
void mero_node_client_set_blob_handler (MeroNodeClient *client,
                                        const MeroNodeStreamHandler *handler, gpointer data);
/* Opens an outbound stream to the connected @peer_id: the id the
 * handler's opened/open_failed get, 0 when there is no network. */
guint64 mero_node_client_open_stream (MeroNodeClient *client, const char *peer_id,
                                      const char *protocol);
void mero_node_client_stream_write (MeroNodeClient *client, MeroNetStream *stream, GBytes *data);
void mero_node_client_stream_close (MeroNodeClient *client, MeroNetStream *stream);
void mero_node_client_stream_reset (MeroNodeClient *client, MeroNetStream *stream);
gboolean mero_node_client_is_connected (MeroNodeClient *client, const char *peer_id);
/* @func(@data) runs whenever a sync trigger is queued, from inside the
 * queueing call: it should only schedule work. */
void mero_node_client_set_sync_notify (MeroNodeClient *client, void (*func) (gpointer data),
                                       gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeClient, mero_node_client_free)

G_END_DECLS
