/* mero-gossipsub-router.h: gossipsub v1.1 as a sans-IO state machine
 * (gossipsub-v1.0.md, -v1.1.md; reference §2.8).
 *
 * The host feeds it peer events (connected with the connection's
 * direction, disconnected), each RPC a peer sent (already de-framed from
 * `uvarint(len) || RPC` with mero-lp-frame, MERO_GOSSIPSUB_MAX_RPC_SIZE),
 * local calls (subscribe, unsubscribe, publish) and the time; it yields
 * per-peer RPCs to frame and write on our outbound stream to that peer,
 * messages to deliver, and its next deadline (the 1 s heartbeat).
 *
 * Nothing in here reads a clock or draws randomness: time is @now
 * (monotonic microseconds, never decreasing), the peer choices of the
 * heartbeat come from a PRNG seeded by the host, and seqnos count up from
 * a host-chosen start.  The start must differ across restarts (libp2p-3's
 * gossipsub uses Date.now() * 1e6; wall-clock microseconds * 1000 does
 * too): a restarted node that reused seqnos would have its new messages
 * dropped as duplicates by every peer's seen cache for two minutes.  Own messages are
 * signed with StrictSign using the Ed25519 identity seed given at
 * creation, so the router is the message's author.
 *
 * Peers are scored as gossipsub v1.1 says (mero-gossipsub-score.h): a
 * peer below the gossip threshold gets no IHAVE and its IHAVE/IWANT are
 * ignored, below the publish threshold it gets none of our own messages,
 * below the graylist threshold every RPC it sends is dropped before it
 * is decoded, and a peer still graylisted at a heartbeat is handed to
 * the host to disconnect (pull_disconnect).  Mesh maintenance prunes
 * negative peers, keeps the D_score best and D_out outbound peers when
 * trimming, and grafts opportunistically when the mesh's median score is
 * low.
 *
 * Not implemented: peer exchange in PRUNE (js runs with doPX off; the
 * accept-PX threshold is kept in the thresholds for when it is),
 * IDONTWANT (v1.2; decoded and ignored, which the spec allows), and
 * StrictNoSign.  Messages for topics we are not subscribed to are
 * dropped, not relayed. */
#pragma once

#include <glib.h>

#include "net/core/mero-gossipsub-limits.h"
#include "net/core/mero-gossipsub-message.h"
#include "net/core/mero-gossipsub-score.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

typedef struct
{
  guint d, d_lo, d_hi, d_lazy;
  guint history_length; /* mcache windows kept */
  guint history_gossip; /* windows advertised in IHAVE */
  gint64 heartbeat_interval_us;
  gint64 fanout_ttl_us;
  gint64 seen_ttl_us;
  guint prune_backoff_s;
  guint unsubscribe_backoff_s;
  /* Own messages go to every peer subscribed to the topic, not only the
   * mesh or fanout (v1.1 and js default). */
  gboolean flood_publish;
  /* v1.1 mesh quotas: peers kept by score when trimming, and outbound
   * peers the mesh keeps (js Dscore = 4, Dout = 2). */
  guint d_score, d_out;
  /* Every this many heartbeats, a mesh whose median score is below the
   * opportunistic graft threshold takes up to this many better peers
   * (js: 60 ticks, 2 peers). */
  guint opportunistic_graft_ticks;
  guint opportunistic_graft_peers;
  /* A peer that does not send a message it announced (IHAVE) within
   * this long after our IWANT gets a behaviour penalty (js 3 s). */
  gint64 iwant_followup_us;
  MeroGossipsubScoreParams score;
  MeroGossipsubScoreThresholds thresholds;
} MeroGossipsubConfig;

/* Fills @config with the spec and js defaults. */
void mero_gossipsub_config_init (MeroGossipsubConfig *config);

/* Why something a peer sent (or we would have sent) was dropped; each
 * has a counter in MeroGossipsubStats.drops. */
typedef enum {
  MERO_GOSSIPSUB_DROP_RPC_MALFORMED,    /* undecodable RPC */
  MERO_GOSSIPSUB_DROP_RPC_TOO_LARGE,    /* RPC beyond a codec bound, e.g. data > 1 MiB */
  MERO_GOSSIPSUB_DROP_UNKNOWN_PEER,     /* RPC from a peer never added */
  MERO_GOSSIPSUB_DROP_TOO_MANY_PEERS,   /* add_peer beyond MERO_GOSSIPSUB_MAX_PEERS */
  MERO_GOSSIPSUB_DROP_PEER_TOPICS,      /* subscription beyond MAX_TOPICS_PER_PEER */
  MERO_GOSSIPSUB_DROP_TOPICS,           /* subscription beyond MAX_TOPICS */
  MERO_GOSSIPSUB_DROP_NOT_SUBSCRIBED,   /* message for a topic we are not in */
  MERO_GOSSIPSUB_DROP_DUPLICATE,        /* message id in the seen cache */
  MERO_GOSSIPSUB_DROP_NO_TOPIC,
  MERO_GOSSIPSUB_DROP_INVALID_SEQNO,
  MERO_GOSSIPSUB_DROP_NO_SIGNATURE,
  MERO_GOSSIPSUB_DROP_INVALID_FROM,
  MERO_GOSSIPSUB_DROP_INVALID_KEY,
  MERO_GOSSIPSUB_DROP_BAD_SIGNATURE,
  MERO_GOSSIPSUB_DROP_OVERSIZE,         /* message data > MERO_GOSSIPSUB_MAX_MESSAGE_DATA */
  MERO_GOSSIPSUB_DROP_SEND_QUEUE_FULL,  /* message not queued to a slow peer */
  MERO_GOSSIPSUB_DROP_CONTROL_QUEUE_FULL, /* control/subscription not queued */
  MERO_GOSSIPSUB_DROP_IHAVE_FLOOD,      /* IHAVE beyond MAX_IHAVE_MESSAGES per heartbeat */
  MERO_GOSSIPSUB_DROP_IWANT_FLOOD,      /* IWANT beyond reply or retransmission limits */
  MERO_GOSSIPSUB_DROP_IWANT_UNKNOWN,    /* IWANT for an id not in the mcache */
  MERO_GOSSIPSUB_DROP_GRAFT_UNSUBSCRIBED, /* GRAFT for a topic we are not in: PRUNEd */
  MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF,    /* GRAFT inside its backoff: PRUNEd again */
  MERO_GOSSIPSUB_DROP_GRAFT_MESH_FULL,  /* inbound GRAFT with |mesh| >= D_hi: PRUNEd */
  MERO_GOSSIPSUB_DROP_DELIVERY_QUEUE_FULL, /* the host did not pull deliveries */
  MERO_GOSSIPSUB_DROP_MCACHE_FULL,      /* delivered but not cached for gossip */
  MERO_GOSSIPSUB_DROP_SEEN_EVICTED,     /* seen entry dropped before its TTL */
  MERO_GOSSIPSUB_DROP_BACKOFF_FULL,     /* backoff not recorded: table full */
  MERO_GOSSIPSUB_DROP_BELOW_GOSSIP_THRESHOLD, /* IHAVE/IWANT from a peer below it */
  MERO_GOSSIPSUB_DROP_GRAFT_NEGATIVE_SCORE,   /* GRAFT from a negative peer: PRUNEd */
  MERO_GOSSIPSUB_DROP_PROMISES_FULL,    /* IWANT promise not tracked: table full */
  MERO_GOSSIPSUB_N_DROPS
} MeroGossipsubDrop;

/* Stable snake_case name, for metrics labels and logs. */
const char *mero_gossipsub_drop_to_string (MeroGossipsubDrop drop);

typedef struct
{
  guint64 rpcs_received;
  guint64 rpcs_sent;
  guint64 messages_published;
  guint64 messages_delivered;
  guint64 messages_forwarded; /* copies queued to peers, own ones included */
  guint64 iwant_replies;
  /* Scoring. */
  guint64 peers_graylisted;     /* times a peer fell below the graylist threshold */
  guint64 rpcs_ignored_graylist; /* RPCs (or their rest) dropped undecoded: sender graylisted */
  guint64 peers_disconnect_score; /* peers handed to pull_disconnect */
  guint64 broken_promises;      /* IWANTs not answered in time (P7) */
  guint64 opportunistic_grafts;
  guint64 messages_rejected;    /* reported invalid by the application (P4) */
  guint64 drops[MERO_GOSSIPSUB_N_DROPS];
} MeroGossipsubStats;

/* A message for the host: valid, first seen, on a topic we are in. */
typedef struct
{
  char *topic;
  MeroPeerId *author;       /* the signed `from` */
  MeroPeerId *received_from; /* the peer that sent it to us */
  GBytes *seqno;
  GBytes *data;
  GBytes *id;               /* js message id */
} MeroGossipsubDelivery;

/* NULL-safe. */
void mero_gossipsub_delivery_free (MeroGossipsubDelivery *delivery);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubDelivery, mero_gossipsub_delivery_free)

typedef struct _MeroGossipsubRouter MeroGossipsubRouter;

/* @identity_seed is the Ed25519 seed of our node identity; @first_seqno
 * the seqno of our first message; @rng_seed seeds the heartbeat's peer
 * choices.  The first heartbeat is due one interval after @now. */
MeroGossipsubRouter *mero_gossipsub_router_new (const MeroGossipsubConfig *config,
                                                const guint8 identity_seed[MERO_ED25519_SEED_LEN],
                                                guint64 first_seqno,
                                                guint64 rng_seed,
                                                gint64 now);
/* NULL-safe. */
void mero_gossipsub_router_free (MeroGossipsubRouter *self);

/* (transfer none) our PeerId. */
const MeroPeerId *mero_gossipsub_router_get_peer_id (const MeroGossipsubRouter *self);

/* A gossipsub stream pair is up with @peer.  @outbound: we dialled the
 * connection (v1.1 lets outbound peers into a full mesh).  Our
 * subscriptions are queued for it.  FALSE (counted) if the peer is
 * already known or MERO_GOSSIPSUB_MAX_PEERS are. */
gboolean mero_gossipsub_router_add_peer (MeroGossipsubRouter *self, const MeroPeerId *peer,
                                         gboolean outbound, gint64 now);
/* Forgets @peer, its subscriptions, mesh places and queued output. */
void mero_gossipsub_router_remove_peer (MeroGossipsubRouter *self, const MeroPeerId *peer);

/* @peer's IP address as text ("192.0.2.1", "2001:db8::1"), for the IP
 * colocation factor (P6).  NULL: unknown.  No-op for an unknown peer. */
void mero_gossipsub_router_set_peer_ip (MeroGossipsubRouter *self, const MeroPeerId *peer,
                                        const char *ip);
/* @peer's score at @now.  FALSE if the peer is not in the router. */
gboolean mero_gossipsub_router_get_peer_score (const MeroGossipsubRouter *self,
                                               const MeroPeerId *peer, gint64 now, double *score);
/* The score a departed peer would start with if it came back (0: none). */
double mero_gossipsub_router_get_retained_score (const MeroGossipsubRouter *self,
                                                 const MeroPeerId *peer);
/* The application found a message @peer delivered on @topic invalid
 * (its payload does not decode, say): P4 for @peer, as a message with a
 * bad signature.  No-op for an unknown peer or a topic we are not in. */
void mero_gossipsub_router_reject_message (MeroGossipsubRouter *self, const MeroPeerId *peer,
                                           const char *topic, gint64 now);
/* (transfer full) the next peer whose score was still below the
 * graylist threshold at a heartbeat, or NULL.  The host closes its
 * connection; the router keeps ignoring it until it is removed. */
MeroPeerId *mero_gossipsub_router_pull_disconnect (MeroGossipsubRouter *self);

/* Handles one RPC from @peer.  Returns FALSE with @error when the RPC as
 * a whole is unusable (undecodable, beyond a bound, unknown peer); the
 * drop is counted and the host may close the stream.  Invalid messages
 * inside a good RPC are dropped and counted without failing it.  An RPC
 * from a graylisted peer is dropped undecoded and counted, and is not
 * an error (js ignores such peers' RPCs too). */
gboolean mero_gossipsub_router_receive (MeroGossipsubRouter *self, const MeroPeerId *peer,
                                        const guint8 *data, gsize len, gint64 now, GError **error);

/* Joins @topic: announces it to every peer and GRAFTs up to D of them
 * (fanout peers first).  FALSE with @error for an unusable topic name. */
gboolean mero_gossipsub_router_subscribe (MeroGossipsubRouter *self, const char *topic, gint64 now,
                                          GError **error);
/* Leaves @topic: announces it and PRUNEs the mesh with the unsubscribe
 * backoff.  A no-op for a topic we are not in. */
void mero_gossipsub_router_unsubscribe (MeroGossipsubRouter *self, const char *topic, gint64 now);

/* Signs and sends @data on @topic.  Returns the message id (transfer
 * full), or NULL with @error (bad topic, data above
 * MERO_GOSSIPSUB_MAX_MESSAGE_DATA).  Succeeds with no peers, as the
 * message then still serves gossip. */
GBytes *mero_gossipsub_router_publish (MeroGossipsubRouter *self, const char *topic,
                                       const guint8 *data, gsize len, gint64 now, GError **error);

/* Runs the heartbeat if it is due. */
void mero_gossipsub_router_handle_deadline (MeroGossipsubRouter *self, gint64 now);
gint64 mero_gossipsub_router_next_deadline (const MeroGossipsubRouter *self);

/* (transfer full) the next RPC to send (protobuf, without the length
 * prefix) and its peer in *@peer (transfer full), or NULL when nothing
 * is queued.  A peer with a long queue gets several RPCs in turn. */
GBytes *mero_gossipsub_router_pull_rpc (MeroGossipsubRouter *self, MeroPeerId **peer);
/* The same, framed for the wire: `uvarint(len) || RPC`, ready to write on
 * our outbound /meshsub stream to *@peer. */
GBytes *mero_gossipsub_router_pull_frame (MeroGossipsubRouter *self, MeroPeerId **peer);

/* (transfer full) the next delivered message, or NULL. */
MeroGossipsubDelivery *mero_gossipsub_router_pull_delivery (MeroGossipsubRouter *self);

const MeroGossipsubStats *mero_gossipsub_router_get_stats (const MeroGossipsubRouter *self);

/* Introspection for the host (NetworkClient "mesh peers") and tests. */
gboolean mero_gossipsub_router_is_subscribed (const MeroGossipsubRouter *self, const char *topic);
/* (transfer full) MeroPeerId copies, sorted by id bytes. */
GPtrArray *mero_gossipsub_router_get_mesh_peers (const MeroGossipsubRouter *self, const char *topic);
GPtrArray *mero_gossipsub_router_get_fanout_peers (const MeroGossipsubRouter *self, const char *topic);
/* (transfer full) topics @peer told us it is subscribed to, sorted. */
GStrv mero_gossipsub_router_get_peer_topics (const MeroGossipsubRouter *self, const MeroPeerId *peer);
/* TRUE while @peer may not be GRAFTed to @topic by us. */
gboolean mero_gossipsub_router_in_backoff (const MeroGossipsubRouter *self, const char *topic,
                                           const MeroPeerId *peer, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubRouter, mero_gossipsub_router_free)

G_END_DECLS
