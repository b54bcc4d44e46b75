/* mero-network-private.h: state shared by the network thread's files:
 * mero-network.c (API, thread, listen, dial, commands, peer table) and
 * mero-net-conn.c (one socket driven through a MeroConnection). */
#pragma once

#include <gio/gio.h>

#include "net/core/mero-connection.h"
#include "net/mero-event-channel.h"
#include "net/transport/mero-network.h"

G_BEGIN_DECLS

struct _MeroNetStream
{
  gatomicrefcount ref;
  guint64 conn_id;
  guint32 stream_id;
  gboolean inbound;
  char *peer_id;
  char *protocol;
};

MeroNetStream *mero_net_stream_new (guint64 conn_id, guint32 stream_id, gboolean inbound,
                                    const char *peer_id, const char *protocol);

typedef struct _NetConn NetConn;
typedef struct _NetPubsub NetPubsub;
typedef struct _NetMdns NetMdns;

/* What the node thread may read about one topic (under the lock). */
typedef struct
{
  GStrv mesh;      /* our mesh peers; NULL unless we are subscribed */
  guint n_peers;   /* connected peers subscribed to it */
} NetTopicView;

void net_topic_view_free (NetTopicView *view);

struct _MeroNetwork
{
  /* Immutable after start (read by both threads), except the stream
   * protocols, prefixes and local identify: network thread only. */
  const MeroIdentity *identity;
  GStrv listen_config;
  guint max_connections;
  gint64 dial_timeout_us;
  gint64 ping_interval_us;
  gint64 gossip_stall_us;
  char *agent_version;
  GStrv stream_protocols;
  GStrv stream_prefixes;
  gboolean inline_muxer;
  gboolean mdns_enabled;
  gint64 mdns_query_interval_us;
  MeroNetSecurity security;
  MeroMetrics *metrics;
  MeroEventChannel *events;
  GStrv listen_addrs;        /* bound, set before start() returns */

  /* Network thread only. */
  GThread *thread;
  GMainContext *context;
  GMainLoop *loop;
  GPtrArray *acceptors;      /* MeroAcceptor*, one per listen address */
  GSource *stats_source;     /* folds per-connection counters into metrics */
  GSocketClient *client;
  guint8 static_private[32]; /* one Noise static key per node run */
  GBytes *noise_payload;     /* signed over its public half */
  MeroTlsCredentials *tls_credentials; /* one certificate per node run; NULL: no TLS */
  MeroIdentifyInfo *local_identify;
  GHashTable *conns;         /* id → NetConn */
  guint64 next_conn_id;
  GHashTable *dials;         /* pending dial cancellables (GCancellable*) */
  gboolean reading_paused;   /* the event channel is full */
  NetPubsub *pubsub;         /* the gossipsub router and its streams */
  NetMdns *mdns;             /* NULL unless mDNS is on and its socket opened */

  /* Command queue, node → network. */
  GAsyncQueue *commands;
  GSource *command_source;

  /* Start-up handshake and the peer table, both threads. */
  GMutex lock;
  GCond cond;
  gboolean started;
  GError *start_error;
  GHashTable *peers;         /* peer id text → MeroNetPeerInfo */
  guint64 next_request_id;
  gboolean stopped;
  GHashTable *topic_view;    /* topic → NetTopicView, replaced whole */
};

/* mero-network.c */
void net_emit (MeroNetwork *self, MeroNetEvent *event);
void net_peer_connected (MeroNetwork *self, const char *peer_id, const char *address);
void net_peer_identified (MeroNetwork *self, const char *peer_id, const MeroIdentifyInfo *info);
void net_peer_rtt (MeroNetwork *self, const char *peer_id, gint64 rtt_us);
/* @peer_id's gossipsub score, as of the last heartbeat; @has FALSE: it
 * left the router (its stream failed), no score to show. */
void net_peer_gossip_score (MeroNetwork *self, const char *peer_id, gboolean has, double score);
void net_peer_disconnected (MeroNetwork *self, const char *peer_id);
NetConn *net_find_conn_by_peer (MeroNetwork *self, const char *peer_id);

/* mero-net-conn.c */
/* Creates the connection and adds it to self->conns, which owns it. */
NetConn *net_conn_new (MeroNetwork *self, GSocketConnection *connection, MeroConnectionRole role,
                       const MeroPeerId *expected_peer);
void net_conn_free (gpointer data);
guint64 net_conn_get_id (const NetConn *conn);
/* The peer once the connection is up, else NULL. */
const char *net_conn_get_peer_id (const NetConn *conn);
/* A dialled connection that is not up by @deadline (monotonic µs) is
 * closed, and the dial fails with "timed out". */
void net_conn_set_dial_deadline (NetConn *conn, gint64 deadline);
/* Starts a stream; STREAM_OPENED/STREAM_FAILED with @request_id follows. */
void net_conn_open_stream (NetConn *conn, const char *protocol, guint64 request_id);
void net_conn_stream_write (NetConn *conn, guint32 stream_id, GBytes *data);
void net_conn_stream_close (NetConn *conn, guint32 stream_id);
void net_conn_stream_reset (NetConn *conn, guint32 stream_id);
/* (transfer full) the remote IP address as text, or NULL if unknown. */
char *net_conn_get_remote_ip (const NetConn *conn);
/* TRUE if we dialled it (gossipsub lets outbound peers into a full mesh). */
gboolean net_conn_is_outbound (const NetConn *conn);
/* TRUE once identify listed /meshsub/1.1.0. */
gboolean net_conn_speaks_gossip (const NetConn *conn);
/* Opens our outbound /meshsub stream; its id, or 0 if the connection
 * cannot open streams.  Its events go to the pubsub, not the node. */
guint32 net_conn_open_gossip_stream (NetConn *conn);
/* Queues @frame on gossip stream @stream_id.  FALSE, with nothing
 * queued, when the stream is gone or the frame would take its backlog
 * past MERO_NET_STREAM_MAX_PENDING_WRITE (the peer reads slower than we
 * publish); the caller counts the drop. */
gboolean net_conn_gossip_write (NetConn *conn, guint32 stream_id, GBytes *frame);
/* Our stream protocols or identify changed: the connection takes the
 * network's new lists; with @push it tells the peer (identify push). */
void net_conn_update_protocols (NetConn *conn, gboolean push);
/* TRUE once closed (it is freed from an idle). */
gboolean net_conn_is_closed (const NetConn *conn);
/* TRUE once the peer sent a byte (a dialer speaks first). */
gboolean net_conn_has_heard (const NetConn *conn);
/* TRUE for an inbound connection still in its security/muxer handshake. */
gboolean net_conn_is_pending_inbound (const NetConn *conn);
/* Adds what the connection counted since the last call to the metrics
 * (cheap when nothing changed; called periodically and at close). */
void net_conn_fold_stats (NetConn *conn);
/* Reading stopped for back-pressure; resume now. */
void net_conn_resume (NetConn *conn);
/* GoAway and flush what can be flushed without waiting. */
void net_conn_shutdown (NetConn *conn);
/* The same, with @reason in the log and the PEER_DISCONNECTED event. */
void net_conn_close_for (NetConn *conn, const char *reason);

G_END_DECLS
