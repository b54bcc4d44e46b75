/* mero-node-transport.h: what the contexts manager needs from the network.
 *
 * The manager (mero-contexts.h) decides; a transport carries.  The node's
 * transport is the NodeClient over the libp2p network
 * (mero-node-client.h); unit tests plug in an in-memory one that links
 * several managers directly, so every decision is tested without
 * sockets. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_STREAM_PROTOCOL_DELTA "/calimero/stream/delta/1"
#define MERO_STREAM_PROTOCOL_GROUP "/calimero/stream/group/1"
#define MERO_STREAM_PROTOCOL_KEY "/calimero/stream/key/1"
/* "Do you hold this blob?" (host/blob/mero-blob-providers.c) */
#define MERO_STREAM_PROTOCOL_BLOB_HAVE "/calimero/stream/blob-have/1"

/* @response (transfer none) is one StreamMessage, or NULL with @error. */
typedef void (*MeroNodeResponseFunc) (GBytes *response, const GError *error, gpointer user_data);

typedef struct {
  void (*subscribe) (gpointer self, const char *topic);
  void (*unsubscribe) (gpointer self, const char *topic);
  void (*publish) (gpointer self, const char *topic, GBytes *data);
  /* One request/response exchange with @peer_id over @protocol.  With
   * @addresses (multiaddrs ending in /p2p/<peer_id>) the peer is dialled
   * first if it is not connected.  @done is called exactly once, later
   * (never from inside the call). */
  void (*request) (gpointer self, const char *peer_id, const char *const *addresses,
                   const char *protocol, GBytes *request, MeroNodeResponseFunc done,
                   gpointer user_data);
  /* (transfer full) peers subscribed to @topic. */
  GStrv (*topic_peers) (gpointer self, const char *topic);
  /* A sync of @context_id (base58) with @peer_id (may be NULL) is wanted:
   * the sync-trigger queue (ctx_sync_tx) the sync manager will consume. */
  void (*sync_requested) (gpointer self, const char *context_id, const char *peer_id);
  /* The same, asked by an operator (SyncContext, `meroctl context sync`):
   * the sync manager starts it without waiting for a back-off or its
   * minimum interval.  NULL: sync_requested is used. */
  void (*sync_requested_by_operator) (gpointer self, const char *context_id,
                                      const char *peer_id);
  /* The operator asked to replace the local state of @context_id by a
   * member's (ResyncContext, `meroctl context sync --resync`): the sync
   * manager's next session sets MERO_SYNC_HANDSHAKE_RESYNC.  NULL: not
   * supported. */
  void (*resync_requested) (gpointer self, const char *context_id, const char *peer_id);
  /* The gossip message @peer_id relayed on @topic is invalid (its payload
   * is no BroadcastMessage): gossipsub's validation result "reject", which
   * costs the relaying peer its score (P4).  NULL: not reported. */
  void (*reject_message) (gpointer self, const char *peer_id, const char *topic);
} MeroNodeTransport;

G_END_DECLS
