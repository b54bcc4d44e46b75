/* mero-gossipsub-router-private.h: the router's state, shared by its
 * files (router: lifecycle and local calls; receive: inbound RPCs;
 * heartbeat: mesh maintenance and gossip; queue: per-peer output). */
#pragma once

#include "net/core/mero-gossipsub-mcache.h"
#include "net/core/mero-gossipsub-router.h"
#include "net/core/mero-gossipsub-rpc.h"
#include "net/core/mero-gossipsub-seen.h"

G_BEGIN_DECLS

typedef struct
{
  MeroPeerId *id;
  GBytes *key;        /* multihash bytes: the key of every per-peer table */
  gboolean outbound;
  GHashTable *topics; /* char * (owned) set: what the peer subscribed to */

  /* Output waiting for pull_rpc: subscriptions and control in @out_ctl,
   * messages in @out_msgs (MeroGossipsubMessage, owned). */
  MeroGossipsubRpc *out_ctl;
  GQueue out_msgs;
  gsize out_bytes;   /* data bytes in out_msgs */
  guint out_ids;     /* message ids in out_ctl (IHAVE + IWANT) */
  gboolean pending;  /* in the router's pending queue */

  /* Per-heartbeat budgets against floods. */
  guint ihave_received;
  guint iwant_asked;
  guint iwant_replies;

  MeroGossipsubPeerScore *score; /* owned by the router's score */
  gboolean graylisted;           /* below the graylist threshold when last looked at */
  gboolean disconnect_queued;    /* handed to the host for disconnection */
} GossipPeer;

typedef struct
{
  char *name;
  gboolean subscribed;
  GHashTable *peers;   /* key GBytes -> GossipPeer (borrowed): subscribed peers */
  GHashTable *mesh;    /* key GBytes -> GossipPeer (borrowed) */
  GHashTable *fanout;  /* key GBytes -> GossipPeer (borrowed) */
  gboolean fanout_active;     /* we published here without subscribing */
  gint64 fanout_last_publish;
  GHashTable *backoff; /* key GBytes (owned) -> gint64 * expiry (owned) */
} GossipTopic;

struct _MeroGossipsubRouter
{
  MeroGossipsubConfig config;
  guint8 secret_key[64]; /* libsodium Ed25519 secret key (seed || public) */
  MeroPeerId *self_id;
  GBytes *self_id_bytes;
  GBytes *self_key_pb;   /* PublicKey protobuf, sent as `key` */
  guint64 next_seqno;
  GRand *rand;
  gint64 next_heartbeat;

  GHashTable *peers;  /* key GBytes -> GossipPeer (owned) */
  GHashTable *topics; /* name -> GossipTopic (owned) */
  GQueue pending;     /* GossipPeer with output, in turn */
  GQueue deliveries;  /* MeroGossipsubDelivery */

  MeroGossipsubSeen *seen;
  MeroGossipsubMcache *mcache;
  guint64 seen_evicted_seen; /* seen evictions already counted */
  MeroGossipsubStats stats;

  MeroGossipsubScore *score;
  GHashTable *promises;  /* message id (owned) -> GossipPromise (owned) */
  GQueue disconnects;    /* MeroPeerId (owned): graylisted at a heartbeat */
  guint64 heartbeat_ticks;
  /* The latest time a call brought: remove_peer takes none, and the
   * score it retains expires from then. */
  gint64 last_now;
};

/* We sent @peer_key an IWANT for a message it announced: it must send it
 * by @expiry or get a behaviour penalty. */
typedef struct
{
  GBytes *peer_key;
  gint64 expiry;
} GossipPromise;

static inline double
mero_gossipsub_peer_score (const MeroGossipsubRouter *self, const GossipPeer *peer, gint64 now)
{
  return mero_gossipsub_score_get (self->score, peer->score, now);
}

/* Mesh membership goes through these so that the score sees each GRAFT
 * and PRUNE (P1, P3, P3b). */
static inline void
mero_gossipsub_mesh_add (MeroGossipsubRouter *self, GossipTopic *topic, GossipPeer *peer, gint64 now)
{
  g_hash_table_insert (topic->mesh, peer->key, peer);
  mero_gossipsub_score_graft (self->score, peer->score, topic->name, now);
}

static inline void
mero_gossipsub_mesh_remove (MeroGossipsubRouter *self, GossipTopic *topic, GossipPeer *peer,
                            gint64 now)
{
  if (g_hash_table_remove (topic->mesh, peer->key))
    mero_gossipsub_score_prune (self->score, peer->score, topic->name, now);
}

static inline void
mero_gossipsub_count_drop (MeroGossipsubRouter *self, MeroGossipsubDrop drop)
{
  self->stats.drops[drop]++;
}

/* Records @id as seen; an entry the full cache pushed out early is
 * counted as a drop. */
static inline void
mero_gossipsub_mark_seen (MeroGossipsubRouter *self, GBytes *id, gint64 now)
{
  guint64 evicted;

  mero_gossipsub_seen_add (self->seen, id, now);
  evicted = mero_gossipsub_seen_get_evicted (self->seen);
  self->stats.drops[MERO_GOSSIPSUB_DROP_SEEN_EVICTED] += evicted - self->seen_evicted_seen;
  self->seen_evicted_seen = evicted;
}

/* Topics */
GossipTopic *mero_gossipsub_topic_lookup (MeroGossipsubRouter *self, const char *name);
/* NULL (counted) when MERO_GOSSIPSUB_MAX_TOPICS are tracked. */
GossipTopic *mero_gossipsub_topic_ensure (MeroGossipsubRouter *self, const char *name);
/* Frees topics nobody uses any more. */
void mero_gossipsub_topic_collect (MeroGossipsubRouter *self);
gboolean mero_gossipsub_topic_in_backoff (const MeroGossipsubRouter *self, GossipTopic *topic,
                                          GBytes *peer_key, gint64 now, gboolean with_slack);
/* Clamps @backoff_s to MERO_GOSSIPSUB_MAX_BACKOFF_S; never shortens. */
void mero_gossipsub_topic_add_backoff (MeroGossipsubRouter *self, GossipTopic *topic,
                                       GBytes *peer_key, gint64 now, guint64 backoff_s);
/* (transfer container) the peers of @table sorted by key, so that
 * choices depend only on the PRNG seed, not on hash table order. */
GPtrArray *mero_gossipsub_sorted_peers (GHashTable *table);
void mero_gossipsub_shuffle (MeroGossipsubRouter *self, GPtrArray *peers);

/* Output (mero-gossipsub-queue.c).  Each drops and counts what does not
 * fit the peer's queue bounds. */
void mero_gossipsub_queue_subscription (MeroGossipsubRouter *self, GossipPeer *peer,
                                        const char *topic, gboolean subscribe);
void mero_gossipsub_queue_graft (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic);
void mero_gossipsub_queue_prune (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic,
                                 guint64 backoff_s);
/* Takes ids from @ids (GBytes) up to the peer's id budget. */
void mero_gossipsub_queue_ihave (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic,
                                 GPtrArray *ids);
gboolean mero_gossipsub_queue_iwant (MeroGossipsubRouter *self, GossipPeer *peer, GBytes *id);
gboolean mero_gossipsub_queue_message (MeroGossipsubRouter *self, GossipPeer *peer,
                                       const MeroGossipsubMessage *msg);
GBytes *mero_gossipsub_queue_pull (MeroGossipsubRouter *self, MeroPeerId **peer);
void mero_gossipsub_queue_clear (MeroGossipsubRouter *self, GossipPeer *peer);

/* Inbound (mero-gossipsub-receive.c). */
void mero_gossipsub_handle_rpc (MeroGossipsubRouter *self, GossipPeer *from,
                                MeroGossipsubRpc *rpc, gint64 now);
/* TRUE if @peer is below the graylist threshold; counts it the first
 * time it is. */
gboolean mero_gossipsub_check_graylist (MeroGossipsubRouter *self, GossipPeer *peer, gint64 now);
/* Delivers, caches and forwards a message already known valid and new. */
void mero_gossipsub_accept_message (MeroGossipsubRouter *self, GossipPeer *from,
                                    const MeroGossipsubMessage *msg, GBytes *id);

/* Heartbeat (mero-gossipsub-heartbeat.c). */
void mero_gossipsub_heartbeat (MeroGossipsubRouter *self, gint64 now);
/* GRAFTs up to D - |mesh| peers of @topic not in backoff. */
void mero_gossipsub_mesh_fill (MeroGossipsubRouter *self, GossipTopic *topic, gint64 now);

G_END_DECLS
