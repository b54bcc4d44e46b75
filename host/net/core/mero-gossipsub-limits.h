/* mero-gossipsub-limits.h: the router's defaults and the bounds on what a
 * peer can make it hold.  Wire-level bounds (RPC size, ids per RPC, topic
 * length, message data) live with the codec in mero-net-limits.h; these
 * are the router's own.  Defaults that must match js-libp2p-gossipsub
 * (reference §2.8) say so. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* --- defaults (spec = js; reference §2.8) --- */

#define MERO_GOSSIPSUB_DEFAULT_D 6u
#define MERO_GOSSIPSUB_DEFAULT_D_LO 4u
#define MERO_GOSSIPSUB_DEFAULT_D_HI 12u
#define MERO_GOSSIPSUB_DEFAULT_D_LAZY 6u
#define MERO_GOSSIPSUB_DEFAULT_HEARTBEAT_US (1 * G_USEC_PER_SEC)
#define MERO_GOSSIPSUB_DEFAULT_FANOUT_TTL_US (60 * G_USEC_PER_SEC)
#define MERO_GOSSIPSUB_DEFAULT_SEEN_TTL_US (120 * G_USEC_PER_SEC)
#define MERO_GOSSIPSUB_DEFAULT_HISTORY_LENGTH 5u
#define MERO_GOSSIPSUB_DEFAULT_HISTORY_GOSSIP 3u
/* Backoff we ask for in our PRUNEs, and the one we apply when a v1.0
 * peer's PRUNE names none. */
#define MERO_GOSSIPSUB_DEFAULT_PRUNE_BACKOFF_S 60u
/* js sends 10 s in the PRUNEs that leave a topic. */
#define MERO_GOSSIPSUB_DEFAULT_UNSUBSCRIBE_BACKOFF_S 10u
/* js may GRAFT one heartbeat after the backoff ends; we wait that long
 * too, so that our GRAFT never lands inside js's backoff window. */
#define MERO_GOSSIPSUB_BACKOFF_SLACK_HEARTBEATS 1u

/* v1.1 scoring extras (js defaults). */
#define MERO_GOSSIPSUB_DEFAULT_D_SCORE 4u
#define MERO_GOSSIPSUB_DEFAULT_D_OUT 2u
#define MERO_GOSSIPSUB_DEFAULT_OPPORTUNISTIC_GRAFT_TICKS 60u
#define MERO_GOSSIPSUB_DEFAULT_OPPORTUNISTIC_GRAFT_PEERS 2u
#define MERO_GOSSIPSUB_DEFAULT_IWANT_FOLLOWUP_US (3 * G_USEC_PER_SEC)

/* --- bounds on what peers can make us hold --- */

/* Peers one router tracks; add_peer refuses more. */
#define MERO_GOSSIPSUB_MAX_PEERS 1024u
/* Topics one peer may be subscribed to in our view; further SUBSCRIBEs
 * from it are dropped and counted. */
#define MERO_GOSSIPSUB_MAX_TOPICS_PER_PEER 256u
/* Topics the router tracks (ours plus those peers announce). */
#define MERO_GOSSIPSUB_MAX_TOPICS 4096u
/* A PRUNE backoff above this is clamped, so a peer cannot make us keep
 * backoff state (or stay out of its mesh) for days. */
#define MERO_GOSSIPSUB_MAX_BACKOFF_S 3600u
/* Backoff entries per topic.  Entries outlive connections (a peer that
 * reconnects must still wait), so without a cap a stream of new
 * identities sending PRUNEs would grow them; a PRUNE that finds the
 * table full is honoured only by leaving the mesh (counted). */
#define MERO_GOSSIPSUB_MAX_BACKOFF_PER_TOPIC 2048u
/* Seen-cache entries; when full the oldest goes early (counted). */
#define MERO_GOSSIPSUB_MAX_SEEN 65536u
/* Messages in the message cache across all windows; when full the
 * newest is not cached (counted), it is still delivered and forwarded. */
#define MERO_GOSSIPSUB_MAX_MCACHE 8192u
/* Message data bytes queued for one peer before we drop what it cannot
 * take (a peer that never reads). */
#define MERO_GOSSIPSUB_MAX_PEER_QUEUE_BYTES (16u * 1024u * 1024u)
/* Messages queued for one peer; below the codec's per-RPC cap so one
 * pull can always carry the whole queue's count. */
#define MERO_GOSSIPSUB_MAX_PEER_QUEUE_MESSAGES 1000u
/* Control entries (GRAFT, PRUNE, IHAVE) and subscriptions queued for one
 * peer; below the codec's per-RPC cap (MERO_GOSSIPSUB_MAX_CONTROL_ENTRIES). */
#define MERO_GOSSIPSUB_MAX_PEER_QUEUE_CONTROL 512u
#define MERO_GOSSIPSUB_MAX_PEER_QUEUE_SUBSCRIPTIONS 512u
/* IWANT ids queued for one peer (the codec caps ids per RPC at 5000). */
#define MERO_GOSSIPSUB_MAX_PEER_QUEUE_IWANT 2000u
/* One outgoing RPC carries messages up to this many data bytes (then at
 * least one message), well under js's 4 MiB inbound RPC limit. */
#define MERO_GOSSIPSUB_MAX_OUT_RPC_DATA (2u * 1024u * 1024u)
/* Spec: at most 10 IHAVE messages from one peer per heartbeat, and at
 * most 5000 ids (max IHAVE length) gossiped to one peer per heartbeat. */
#define MERO_GOSSIPSUB_MAX_IHAVE_MESSAGES 10u
#define MERO_GOSSIPSUB_MAX_IHAVE_LENGTH 5000u
/* IWANT ids we ask one peer for per heartbeat. */
#define MERO_GOSSIPSUB_MAX_IWANT_PER_HEARTBEAT 5000u
/* Messages we send one peer in answer to IWANTs per heartbeat, and how
 * often one message may be sent to one peer through IWANT (spec:
 * gossip retransmission = 3). */
#define MERO_GOSSIPSUB_MAX_IWANT_REPLIES_PER_HEARTBEAT 500u
#define MERO_GOSSIPSUB_GOSSIP_RETRANSMISSION 3u
/* IWANT promises tracked (one message id per IHAVE we answer); when
 * full, further IWANTs are still sent but not followed up (counted). */
#define MERO_GOSSIPSUB_MAX_PROMISES 8192u
/* Delivered messages waiting for the host to pull them. */
#define MERO_GOSSIPSUB_MAX_PENDING_DELIVERIES 4096u

G_END_DECLS
