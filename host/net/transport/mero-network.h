/* mero-network.h: the libp2p network, on its own thread (DESIGN §1, §5).
 *
 * MeroNetwork owns a GThread running its own GMainContext, which holds
 * every socket and every protocol core.  The node talks to it from its
 * own thread: commands (dial, open a stream, write, close, stop) go in
 * through a queue and are carried out on the network thread; everything
 * the network has to say comes out as MeroNetEvent items through the
 * bounded event channel (mero-event-channel.h), delivered on the
 * GMainContext the node passes to mero_network_start().
 *
 * Transport: TCP on IPv4 and IPv6, multistream-select → Noise or TLS 1.3
 * (MeroNetSecurity: Noise preferred by default, both accepted) → yamux,
 * with identify and ping served and used on every connection
 * (host/net/core/mero-connection.h).  Every connection is pinged every
 * ping interval; three failed pings in a row close it.
 *
 * How the node uses it (host/node is not touched by this module):
 *
 *   MeroNetworkConfig cfg = { .listen_addrs = addrs_from_merod_conf,
 *                             .stream_prefixes = (const char *[]) {
 *                               "/calimero/stream/", "/calimero/blob/", NULL } };
 *   net = mero_network_new (&cfg, identity);
 *   if (!mero_network_start (net, g_main_context_default (), on_net_event, node, &error))
 *     ...;
 *   addrs = mero_network_get_listen_addrs (net);  // log them
 *   mero_network_dial (net, "/ip4/…/tcp/2428/p2p/12D3KooW…");
 *   …
 *   mero_network_stop (net); mero_network_free (net);   // on shutdown
 */
#pragma once

#include <glib.h>

#include "metrics/mero-metrics.h"
#include "node/mero-identity.h"

G_BEGIN_DECLS

#define MERO_NET_DEFAULT_PORT 2428
#define MERO_NET_DEFAULT_MAX_CONNECTIONS 128u
#define MERO_NET_DEFAULT_DIAL_TIMEOUT_US (10 * G_USEC_PER_SEC)
/* js's connection monitor interval. */
#define MERO_NET_DEFAULT_PING_INTERVAL_US (10 * G_USEC_PER_SEC)
/* Bytes read from a socket per wakeup (one buffer per connection). */
#define MERO_NET_READ_CHUNK (256u * 1024u)
/* Bytes pulled from the core per socket send. */
#define MERO_NET_SEND_BATCH (256u * 1024u)
/* Bytes of one app stream delivered per STREAM_DATA event. */
#define MERO_NET_STREAM_DATA_CHUNK (64u * 1024u)
/* Bytes the node may have queued on one stream beyond what yamux takes;
 * beyond it the stream is reset (counted): the peer is not reading. */
#define MERO_NET_STREAM_MAX_PENDING_WRITE (8u * 1024u * 1024u)
/* A gossip peer whose stream backlog is full drops our frames (counted);
 * if it stays full this long, without one frame taken, the peer is not
 * reading and its connection is closed (logged, counted). */
#define MERO_NET_DEFAULT_GOSSIP_STALL_US (10 * G_USEC_PER_SEC)
/* How long stop() waits for the thread to wind down before giving up on
 * flushing (the thread is always joined). */
#define MERO_NET_STOP_FLUSH_US (G_USEC_PER_SEC / 2)
/* Inbound connections allowed in their handshake at once; one more closes
 * the oldest of them (counted), so a burst of connections that never speak
 * cannot keep real peers out until the handshake timeout ends them. */
#define MERO_NET_MAX_PENDING_INBOUND 32u
/* How often the counters each connection keeps (refused streams, failed
 * handshakes, …) are added to the metrics while it lives; at close the
 * rest is added at once.  Nothing is counted per frame on the way. */
#define MERO_NET_STATS_FOLD_INTERVAL_MS 1000u

/* Metrics of the transport (README, merod(1)). */
#define MERO_NET_ACCEPT_ERRORS_METRIC "mero_net_accept_errors_total"
#define MERO_NET_INBOUND_EVICTED_METRIC "mero_net_inbound_evicted_total"
#define MERO_NET_SECURITY_NEGOTIATION_FAILURES_METRIC "mero_net_security_negotiation_failures_total"
#define MERO_NET_HANDSHAKE_TIMEOUTS_METRIC "mero_net_handshake_timeouts_total"
#define MERO_NET_STREAMS_REFUSED_METRIC "mero_net_streams_refused_total"

#define MERO_NETWORK_ERROR (mero_network_error_quark ())
GQuark mero_network_error_quark (void);

typedef enum {
  MERO_NETWORK_ERROR_INVALID_ADDRESS, /* not a tcp multiaddr we can use */
  MERO_NETWORK_ERROR_LISTEN,          /* could not listen on an address */
  MERO_NETWORK_ERROR_STATE,           /* started twice, or not started */
  MERO_NETWORK_ERROR_INVALID_TOPIC,   /* empty, too long or not UTF-8 */
  MERO_NETWORK_ERROR_MESSAGE_TOO_LARGE, /* above MERO_NETWORK_MAX_MESSAGE_SIZE */
  MERO_NETWORK_ERROR_INVALID_PROTOCOL,  /* not a /… protocol id we can negotiate */
} MeroNetworkError;

/* Security protocols: the order a dial proposes them in, and which an
 * inbound connection may use (same values as MeroConnectionSecurity). */
typedef enum {
  MERO_NET_SECURITY_NOISE_FIRST, /* /noise, then /tls/1.0.0; accept both */
  MERO_NET_SECURITY_TLS_FIRST,   /* /tls/1.0.0, then /noise; accept both */
  MERO_NET_SECURITY_NOISE_ONLY,
  MERO_NET_SECURITY_TLS_ONLY,
} MeroNetSecurity;

typedef struct
{
  /* Multiaddrs to listen on ("/ip4/127.0.0.1/tcp/0", "/ip6/::1/tcp/2428");
   * NULL: 0.0.0.0 and :: on MERO_NET_DEFAULT_PORT. */
  const char *const *listen_addrs;
  guint max_connections;      /* 0: MERO_NET_DEFAULT_MAX_CONNECTIONS */
  gint64 dial_timeout_us;     /* 0: MERO_NET_DEFAULT_DIAL_TIMEOUT_US */
  gint64 ping_interval_us;    /* 0: default; < 0: never ping */
  const char *agent_version;  /* NULL: "merod/<version>" */
  /* Inbound application streams accepted: exact ids and prefixes. */
  const char *const *stream_protocols;
  const char *const *stream_prefixes;
  guint event_capacity;       /* 0: MERO_EVENT_CHANNEL_DEFAULT_CAPACITY */
  /* By default our Noise payload offers yamux, so peers that do the same
   * (js does) skip the muxer's multistream-select round; TRUE turns the
   * offer off and the muxer is always negotiated with multistream. */
  gboolean disable_inline_muxer;
  MeroMetrics *metrics;       /* NULL: the default instance */
  /* mDNS discovery on UDP 5353 (mero-net-mdns.h): FALSE opens no socket.
   * Found peers come out as PEER_DISCOVERED; the network does not dial
   * them itself. */
  gboolean mdns;
  gint64 mdns_query_interval_us; /* 0: MERO_MDNS_DEFAULT_QUERY_INTERVAL_US */
  gint64 gossip_stall_us;     /* 0: MERO_NET_DEFAULT_GOSSIP_STALL_US */
  MeroNetSecurity security;   /* 0: Noise first, TLS accepted too */
} MeroNetworkConfig;

typedef enum {
  MERO_NET_EVENT_LISTENING_ON,      /* address */
  MERO_NET_EVENT_PEER_CONNECTED,    /* peer_id, address, inbound, message = how yamux was agreed */
  MERO_NET_EVENT_PEER_IDENTIFIED,   /* peer_id, protocols, message = agent version,
                                     * addresses = its identify listenAddrs (may be NULL) */
  MERO_NET_EVENT_PEER_DISCONNECTED, /* peer_id, address, message = reason */
  MERO_NET_EVENT_DIAL_FAILED,       /* address, message */
  MERO_NET_EVENT_PING,              /* peer_id, rtt_us */
  MERO_NET_EVENT_STREAM_OPENED,     /* stream, protocol, request_id (0: inbound) */
  MERO_NET_EVENT_STREAM_FAILED,     /* request_id, peer_id, protocol, message */
  MERO_NET_EVENT_STREAM_DATA,       /* stream, data */
  MERO_NET_EVENT_STREAM_CLOSED,     /* stream: the peer finished writing */
  MERO_NET_EVENT_STREAM_RESET,      /* stream: gone */
  MERO_NET_EVENT_SUBSCRIBED,        /* peer_id, topic: the peer joined a topic */
  MERO_NET_EVENT_UNSUBSCRIBED,      /* peer_id, topic: it left, or disconnected */
  MERO_NET_EVENT_MESSAGE,           /* topic, peer_id (sent it to us), author, data, message_id */
  MERO_NET_EVENT_PEER_DISCOVERED,   /* peer_id, addresses: found by mDNS (new, moved, or again) */
} MeroNetEventType;

typedef struct _MeroNetStream MeroNetStream;

typedef struct
{
  MeroNetEventType type;
  gboolean inbound;
  char *peer_id;
  char *address;
  char *protocol;
  char *message;
  GStrv protocols;
  MeroNetStream *stream;
  GBytes *data;
  guint64 request_id;
  gint64 rtt_us;
  char *topic;
  char *author;       /* MESSAGE: the signed publisher */
  GBytes *message_id; /* MESSAGE: js-compatible id (author key || seqno) */
  GStrv addresses;    /* PEER_DISCOVERED: multiaddrs ending in /p2p/<peer_id>;
                       * PEER_IDENTIFIED: listenAddrs as the peer sent them */
} MeroNetEvent;

void mero_net_event_free (MeroNetEvent *event);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNetEvent, mero_net_event_free)

/* Called on the node's context; @event is (transfer full). */
typedef void (*MeroNetEventFunc) (MeroNetEvent *event, gpointer user_data);

/* A stream handle for the node; immutable, thread-safe refcount. */
MeroNetStream *mero_net_stream_ref (MeroNetStream *stream);
void mero_net_stream_unref (MeroNetStream *stream);
const char *mero_net_stream_get_peer_id (const MeroNetStream *stream);
const char *mero_net_stream_get_protocol (const MeroNetStream *stream);
gboolean mero_net_stream_is_inbound (const MeroNetStream *stream);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNetStream, mero_net_stream_unref)

typedef struct
{
  char *peer_id;
  char *address;      /* of the first connection */
  guint n_connections;
  GStrv protocols;    /* from identify; empty until then */
  char *agent_version;
  gint64 rtt_us;      /* last ping, -1 if none yet */
  /* Its gossipsub v1.1 score at our last heartbeat; only set once it
   * joined our router (has_gossip_score). */
  gboolean has_gossip_score;
  double gossip_score;
} MeroNetPeerInfo;

void mero_net_peer_info_free (MeroNetPeerInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNetPeerInfo, mero_net_peer_info_free)

typedef struct _MeroNetwork MeroNetwork;

/* @identity must outlive the network (it signs each Noise payload). */
MeroNetwork *mero_network_new (const MeroNetworkConfig *config, const MeroIdentity *identity);

/* Starts the thread and listens; returns once every listen address is
 * bound (or one failed).  Events go to @func on @event_context. */
gboolean mero_network_start (MeroNetwork      *self,
                             GMainContext     *event_context,
                             MeroNetEventFunc  func,
                             gpointer          user_data,
                             GError          **error);

/* (transfer full) the bound addresses, with real ports. */
GStrv mero_network_get_listen_addrs (MeroNetwork *self);

/* Queues a dial of a tcp multiaddr (optionally ending in /p2p/<id>, which
 * is then required of the peer).  PEER_CONNECTED or DIAL_FAILED follows. */
gboolean mero_network_dial (MeroNetwork *self, const char *multiaddr, GError **error);

/* Queues opening a stream to a connected peer; returns a request id that
 * STREAM_OPENED or STREAM_FAILED carries. */
guint64 mero_network_open_stream (MeroNetwork *self, const char *peer_id, const char *protocol);

/* Accepts inbound streams for @protocol from now on: an exact id, or
 * with @prefix every id that starts with it.  Works on a started network:
 * new streams on existing connections may use it at once, and when an
 * exact id is added every connected peer is sent an identify push
 * (/ipfs/id/push/1.0.0) with our new protocol list.  Errors are for bad
 * arguments only (a protocol is "/" then up to 255 printable ASCII
 * bytes); past MERO_NETWORK_MAX_STREAM_PROTOCOLS of a kind the network
 * thread refuses it (logged, mero_net_stream_protocols_refused_total). */
#define MERO_NETWORK_MAX_STREAM_PROTOCOLS 32u
gboolean mero_network_add_stream_protocol (MeroNetwork *self, const char *protocol,
                                           gboolean prefix, GError **error);

/* Stream commands; they apply in order on the network thread. */
void mero_network_stream_write (MeroNetwork *self, MeroNetStream *stream, GBytes *data);
void mero_network_stream_close (MeroNetwork *self, MeroNetStream *stream);
void mero_network_stream_reset (MeroNetwork *self, MeroNetStream *stream);

/* (transfer full) MeroNetPeerInfo of every connected peer, by peer id. */
GPtrArray *mero_network_list_peers (MeroNetwork *self);

/* Pubsub.  Topics are 1..MERO_NETWORK_MAX_TOPIC_LEN bytes of UTF-8;
 * errors are for bad arguments only, the rest happens on the network
 * thread.  Our own messages are not delivered back to us (js emitSelf
 * false). */
#define MERO_NETWORK_MAX_TOPIC_LEN 256u
/* Largest message data publish() takes: 1 MiB, as js's default. */
#define MERO_NETWORK_MAX_MESSAGE_SIZE (1024u * 1024u)
gboolean mero_network_subscribe (MeroNetwork *self, const char *topic, GError **error);
gboolean mero_network_unsubscribe (MeroNetwork *self, const char *topic, GError **error);
gboolean mero_network_publish (MeroNetwork *self, const char *topic, GBytes *data,
                               GError **error);
/* The node found the message @peer_id delivered on @topic (the MESSAGE
 * event's peer_id, not its author) invalid, e.g. its payload does not
 * decode: the peer's gossipsub score takes it as an invalid message (P4;
 * 13 in quick succession graylist it).  Errors are for a bad topic only. */
gboolean mero_network_reject_message (MeroNetwork *self, const char *peer_id, const char *topic,
                                      GError **error);
/* (transfer full) peer ids in our mesh for @topic, sorted; a snapshot
 * the network thread refreshes on every heartbeat and membership change. */
GStrv mero_network_get_mesh_peers (MeroNetwork *self, const char *topic);
/* Connected gossipsub peers subscribed to @topic (same snapshot). */
guint mero_network_get_topic_peer_count (MeroNetwork *self, const char *topic);

/* Closes every connection, stops the thread and joins it.  Idempotent. */
void mero_network_stop (MeroNetwork *self);
/* Stops first if needed; NULL-safe. */
void mero_network_free (MeroNetwork *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNetwork, mero_network_free)

G_END_DECLS
