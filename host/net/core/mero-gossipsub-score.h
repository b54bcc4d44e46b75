/* mero-gossipsub-score.h: gossipsub v1.1 peer scoring (gossipsub-v1.1.md
 * §"Peer Scoring"), sans-IO: the router reports what each peer did and
 * feeds the time; the score says what each peer is worth.
 *
 *   score = min(Σ_topic topic_weight · (P1 + P2 + P3 + P3b + P4), topic_score_cap)
 *         + P6 + P7
 *
 * P1 time in mesh, P2 first message deliveries, P3 mesh message delivery
 * deficit, P3b mesh failure penalty, P4 invalid messages, P6 IP
 * colocation, P7 behaviour penalty; P5 (application score) is always 0.
 * Counters decay every decay interval while the peer is connected; a
 * peer's counters outlive its connection for retain_score (not decayed
 * meanwhile, as js does), so a misbehaving peer that reconnects starts
 * where it left.
 *
 * js-libp2p-gossipsub scores only the topics given topic parameters; we
 * apply one set of topic parameters to every topic we are subscribed to
 * (our topics are context ids, not known in advance). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  double topic_weight;
  /* P1 */
  double time_in_mesh_weight;
  gint64 time_in_mesh_quantum_us;
  double time_in_mesh_cap;
  /* P2 */
  double first_message_deliveries_weight;
  double first_message_deliveries_decay;
  double first_message_deliveries_cap;
  /* P3: a mesh peer that delivered fewer than the threshold (decaying
   * count) once active is penalised by the squared deficit. */
  double mesh_message_deliveries_weight;
  double mesh_message_deliveries_decay;
  double mesh_message_deliveries_cap;
  double mesh_message_deliveries_threshold;
  gint64 mesh_message_deliveries_window_us;
  gint64 mesh_message_deliveries_activation_us;
  /* P3b: the squared deficit a peer had when it left the mesh. */
  double mesh_failure_penalty_weight;
  double mesh_failure_penalty_decay;
  /* P4 */
  double invalid_message_deliveries_weight;
  double invalid_message_deliveries_decay;
} MeroGossipsubTopicScoreParams;

typedef struct
{
  MeroGossipsubTopicScoreParams topic;
  double topic_score_cap;   /* 0: no cap */
  /* P6: more than threshold peers on one IP are each penalised by
   * weight · surplus².  Loopback peers are exempt when
   * ip_colocation_whitelist_loopback is set: they run on this host, where
   * test clusters and local tools share 127.0.0.1. */
  double ip_colocation_factor_weight;
  double ip_colocation_factor_threshold;
  gboolean ip_colocation_whitelist_loopback;
  /* P7 */
  double behaviour_penalty_weight;
  double behaviour_penalty_threshold;
  double behaviour_penalty_decay;
  gint64 decay_interval_us;
  double decay_to_zero;     /* a decayed counter below this becomes 0 */
  gint64 retain_score_us;   /* how long a departed peer's counters are kept */
} MeroGossipsubScoreParams;

typedef struct
{
  double gossip_threshold;   /* below: no IHAVE/IWANT to or from the peer */
  double publish_threshold;  /* below: our own messages are not flooded to it */
  double graylist_threshold; /* below: its RPCs are ignored, then it is disconnected */
  double accept_px_threshold; /* PX from peers at or above it only (we do not use PX) */
  double opportunistic_graft_threshold; /* median mesh score below it: graft better peers */
} MeroGossipsubScoreThresholds;

/* --- defaults: js-libp2p-gossipsub's (score/peer-score-params.js,
 * peer-score-thresholds.js) unless said otherwise --- */
#define MERO_GOSSIPSUB_SCORE_TOPIC_WEIGHT 0.5
#define MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_WEIGHT 1.0
#define MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_QUANTUM_US G_USEC_PER_SEC
#define MERO_GOSSIPSUB_SCORE_TIME_IN_MESH_CAP 3600.0
#define MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_WEIGHT 1.0
#define MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_DECAY 0.5
#define MERO_GOSSIPSUB_SCORE_FIRST_DELIVERIES_CAP 2000.0
/* P3 and P3b are off by default (js: -1 with threshold 20): a context
 * topic carries deltas only when its members write, so a quiet context
 * would push every honest mesh peer to -200 and graylist it.  The
 * machinery is there for topics with a known message rate. */
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_WEIGHT 0.0
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_DECAY 0.5
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_CAP 100.0
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_THRESHOLD 20.0
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_WINDOW_US (10 * 1000)
#define MERO_GOSSIPSUB_SCORE_MESH_DELIVERIES_ACTIVATION_US (5 * G_USEC_PER_SEC)
#define MERO_GOSSIPSUB_SCORE_MESH_FAILURE_WEIGHT 0.0
#define MERO_GOSSIPSUB_SCORE_MESH_FAILURE_DECAY 0.5
#define MERO_GOSSIPSUB_SCORE_INVALID_WEIGHT (-1.0)
#define MERO_GOSSIPSUB_SCORE_INVALID_DECAY 0.3
#define MERO_GOSSIPSUB_SCORE_TOPIC_CAP 10.0
#define MERO_GOSSIPSUB_SCORE_IP_COLOCATION_WEIGHT (-5.0)
#define MERO_GOSSIPSUB_SCORE_IP_COLOCATION_THRESHOLD 10.0
#define MERO_GOSSIPSUB_SCORE_BEHAVIOUR_WEIGHT (-10.0)
#define MERO_GOSSIPSUB_SCORE_BEHAVIOUR_THRESHOLD 0.0
#define MERO_GOSSIPSUB_SCORE_BEHAVIOUR_DECAY 0.2
#define MERO_GOSSIPSUB_SCORE_DECAY_INTERVAL_US G_USEC_PER_SEC
#define MERO_GOSSIPSUB_SCORE_DECAY_TO_ZERO 0.1
#define MERO_GOSSIPSUB_SCORE_RETAIN_US (G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC)

#define MERO_GOSSIPSUB_SCORE_GOSSIP_THRESHOLD (-10.0)
#define MERO_GOSSIPSUB_SCORE_PUBLISH_THRESHOLD (-50.0)
#define MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD (-80.0)
#define MERO_GOSSIPSUB_SCORE_ACCEPT_PX_THRESHOLD 10.0
#define MERO_GOSSIPSUB_SCORE_OPPORTUNISTIC_GRAFT_THRESHOLD 20.0

/* --- bounds --- */

/* Departed peers whose counters are retained; when full, a departing
 * peer with a non-negative score is forgotten, a negative one replaces
 * the retained entry that expires first. */
#define MERO_GOSSIPSUB_SCORE_MAX_RETAINED 4096u
/* Topics scored per peer (we score only topics we are subscribed to);
 * an invalid message on a topic beyond them costs P7 instead of P4. */
#define MERO_GOSSIPSUB_SCORE_MAX_TOPICS_PER_PEER 256u
/* Longest IP text kept for P6; a longer one counts as unknown. */
#define MERO_GOSSIPSUB_SCORE_MAX_IP_LEN 64u
/* Decays one refresh applies at most, after a long stall of the host. */
#define MERO_GOSSIPSUB_SCORE_MAX_DECAYS_PER_REFRESH 64u

void mero_gossipsub_score_params_init (MeroGossipsubScoreParams *params);
void mero_gossipsub_score_thresholds_init (MeroGossipsubScoreThresholds *thresholds);

typedef struct _MeroGossipsubScore MeroGossipsubScore;
/* One peer's counters; owned by the score, valid from add_peer until
 * remove_peer. */
typedef struct _MeroGossipsubPeerScore MeroGossipsubPeerScore;

MeroGossipsubScore *mero_gossipsub_score_new (const MeroGossipsubScoreParams *params, gint64 now);
/* NULL-safe. */
void mero_gossipsub_score_free (MeroGossipsubScore *self);

/* @key: the peer's multihash bytes.  Picks up retained counters. */
MeroGossipsubPeerScore *mero_gossipsub_score_add_peer (MeroGossipsubScore *self, GBytes *key,
                                                       gint64 now);
/* The peer left: it leaves every mesh (P3b applies) and its counters are
 * retained for retain_score.  @peer is invalid afterwards. */
void mero_gossipsub_score_remove_peer (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                       gint64 now);
/* The peer's IP address as text (NULL: unknown), for P6. */
void mero_gossipsub_score_set_ip (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                  const char *ip);

void mero_gossipsub_score_graft (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                 const char *topic, gint64 now);
void mero_gossipsub_score_prune (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                 const char *topic, gint64 now);
/* A valid message seen for the first time, from @peer (P2; P3 if in mesh). */
void mero_gossipsub_score_first_delivery (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                          const char *topic);
/* A duplicate of a valid message first validated at @first_seen_us: P3
 * if @peer is in the mesh and it came within the delivery window. */
void mero_gossipsub_score_duplicate_delivery (MeroGossipsubScore *self,
                                              MeroGossipsubPeerScore *peer, const char *topic,
                                              gint64 first_seen_us, gint64 now);
/* An invalid message (P4). */
void mero_gossipsub_score_invalid_delivery (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                            const char *topic);
/* P7: misbehaviour the spec penalises (GRAFT in backoff, IWANT promises
 * not kept, ...). */
void mero_gossipsub_score_add_penalty (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer,
                                       double count);

/* Stops decaying @peer's counters until it leaves and comes back: for a
 * peer being disconnected for its score, so that it returns with the
 * score it was thrown out with, not one a heartbeat kinder. */
void mero_gossipsub_score_hold (MeroGossipsubScore *self, MeroGossipsubPeerScore *peer);

double mero_gossipsub_score_get (const MeroGossipsubScore *self, const MeroGossipsubPeerScore *peer,
                                 gint64 now);
/* The retained score of a departed peer, or 0 if none (tests, reports). */
double mero_gossipsub_score_get_retained (const MeroGossipsubScore *self, GBytes *key);

/* Decays every connected peer's counters once per elapsed decay
 * interval and forgets expired retained peers.  Call from the heartbeat. */
void mero_gossipsub_score_refresh (MeroGossipsubScore *self, gint64 now);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubScore, mero_gossipsub_score_free)

G_END_DECLS
