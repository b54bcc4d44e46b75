/* mero-contexts-private.h: the manager's internals, shared by its files
 * (mero-contexts.c: registry, groups, keys, create/leave/remove;
 * mero-contexts-info.c: lists and info; mero-contexts-call.c: Call;
 * mero-contexts-net.c: gossip, heartbeats; mero-contexts-streams.c:
 * catch-up over streams, both sides; mero-invitation.c: invitations). */
#pragma once

#include <gio/gio.h>

#include "context/delta/mero-delta-buffer.h"
#include "context/delta/mero-delta-store.h"
#include "context/group/mero-group-dag.h"
#include "node/mero-broadcast.h"
#include "node/mero-contexts.h"
#include "node/mero-contexts-tee.h"

G_BEGIN_DECLS

#define ID_LEN 32
/* Envelopes kept per context while they cannot be applied yet (no key,
 * governance cut unknown); beyond it the oldest is dropped and counted. */
#define MERO_CONTEXTS_BUFFER_MAX 4096u
/* Rounds of one catch-up session with one peer. */
#define MERO_CONTEXTS_FETCH_ROUNDS 64u
/* Deltas / ops one stream response carries at most. */
#define MERO_CONTEXTS_SERVE_MAX 512u
#define MERO_CONTEXTS_SERVE_MAX_BYTES (6u * 1024u * 1024u)
/* Ancestor levels asked for with a missing parent (usually one delta
 * concurrent gossip has not brought yet) and with heads a heartbeat
 * announced (a peer that fell behind); later rounds go deeper. */
#define MERO_CONTEXTS_DEPTH_PARENTS 8u
#define MERO_CONTEXTS_DEPTH_HEADS 64u
/* Members remembered per context as having announced heads we lack
 * (heartbeat or delta), most recent last: where a failed fetch is tried
 * again.  Only current members get in, so the set cannot be flooded. */
#define MERO_CONTEXTS_ANNOUNCERS_MAX 8u
/* Back-off of a failed delta fetch: first retry after RETRY_FIRST_MS,
 * doubling up to RETRY_MAX_MS, for as long as a pending delta may wait
 * (MERO_DELTA_PENDING_MAX_AGE_MS) after the first failure. */
#define MERO_CONTEXTS_RETRY_FIRST_MS 200u
#define MERO_CONTEXTS_RETRY_MAX_MS 5000u

#define DROPPED_METRIC "mero_node_messages_dropped_total"

typedef struct _Group Group;
typedef struct _Ctx Ctx;

struct _Group {
  MeroContexts *self;
  guint8 id[ID_LEN];
  char *hex;
  char *topic;
  MeroGroupDag *dag;
  GHashTable *keys;          /* key id (32, owned) → key (32, owned) */
  gboolean ops_fetching;     /* a group catch-up is in flight */
  guint ops_rounds;
  gboolean was_member;       /* to notice our own removal */
  gint64 pushed_us;          /* last GroupGovernanceDelta we published */
  GHashTable *known_members; /* PeerIds last reported (set); NULL: not yet */
};

typedef struct {
  GBytes *envelope;
  char *peer;
} Buffered;

struct _Ctx {
  MeroContexts *self;
  guint8 id[ID_LEN];
  char *b58;
  Group *group;
  char *application;
  MeroDeltaStore *ds;        /* NULL until the group key is held */
  GMutex lock;               /* key lookups may come from the store's workers */
  GPtrArray *buffered;       /* Buffered */
  guint skip_broadcasts;
  guint8 root[ID_LEN];       /* last root reported through state_changed */
  /* Set by the callbacks during one receive. */
  gboolean unknown_cut;
  gboolean unknown_key;
  guint8 missing_key[ID_LEN];
  gboolean fetching;         /* a delta catch-up is in flight */
  guint fetch_depth;         /* of the session in flight */
  guint deferred_source;     /* grace timer before fetching (fetch_grace_ms) */
  GArray *deferred_ids;      /* heads to fetch then, if still unknown */
  char *deferred_peer;
  guint deferred_depth;
  GPtrArray *announcers;     /* member peer ids (owned), MERO_CONTEXTS_ANNOUNCERS_MAX */
  GSource *retry_source;     /* armed after a failed fetch */
  guint retry_delay_ms;      /* of the next retry; 0: no failure since the last success */
  gint64 retry_since_ms;     /* first failure of the current run (monotonic ms) */
  GArray *retry_ids;         /* ids the failed fetches asked for */
  char *retry_failed_peer;   /* the member that failed last */
  gboolean refetch;
  guint rounds;
  gint64 key_requested_us;
  guint heartbeat_soon;      /* GSource of the coalesced post-apply heartbeat */
  MeroDeltaBuffer *sync_buffer;  /* non-NULL while a snapshot sync runs */
  gboolean left_topic;       /* unsubscribed after our removal */
  GBytes *gc_cursor;         /* where the tombstone sweep resumes */
  gboolean gc_done;          /* swept in the current round */
};

struct _MeroContexts {
  gint refs;                 /* pending requests hold one */
  gboolean closed;
  const MeroLoadedSyncProtocol *key_share;   /* key/1, both directions; NULL: not loaded */
  gboolean key_share_warned;
  MeroStore *store;
  MeroMetrics *metrics;
  guint8 sk[64];
  guint8 pk[ID_LEN];
  char *peer_id;
  const MeroNodeTransport *transport;
  gpointer transport_data;
  MeroContextsStateFunc state_changed;
  gpointer state_changed_data;
  MeroContextsMemberFunc member_changed;
  gpointer member_changed_data;
  MeroContextsSyncFunc sync_finished;
  gpointer sync_finished_data;
  const char *const *(*listen_addresses) (gpointer data);
  gpointer listen_addresses_data;
  void (*remember_peer) (gpointer data, const char *peer_id, const char *const *addresses);
  GStrv (*reach_peer) (gpointer data, const char *peer_id);
  gpointer peer_store_data;
  GHashTable *groups;        /* hex → Group */
  GHashTable *contexts;      /* b58 → Ctx */
  guint heartbeat_source;
  guint fetch_grace_ms;
  guint64 tombstone_retention_ms;
  guint gc_source;           /* every gc.interval_secs */
  guint gc_idle;             /* a sweep in progress */
  guint gc_removed;
  GPtrArray *joins;          /* GTask of joins in flight */
  GVariant *(*info_extra) (const char *context_id, gpointer data);
  gpointer info_extra_data;
  /* mero-contexts-tee.c */
  gboolean (*tee_verify) (gpointer data, GBytes *quote, MeroTeeVerdict *verdict, GError **error);
  gpointer tee_verify_data;
  gboolean tee_accept_mock;
  GPtrArray *state_index_protocols;  /* (nullable) const MeroLoadedSyncProtocol * */
  GPtrArray *tee_announcers; /* TeeAnnouncer, one per group being joined */
  struct _MeroTeeRefusalLimiter *tee_refusal_limiter;   /* refusals this admin sent */
  /* A sync manager runs (mero_contexts_set_state_sync): a fresh joiner
   * gets the state by a state sync, not by fetching the whole history. */
  gboolean state_sync;
  /* Blob providers (mero_contexts_set_blob_providers): their records on
   * context topics and the blob-have protocol go there. */
  void (*blob_record) (gpointer data, const char *topic, const char *from_peer, GBytes *payload);
  GBytes *(*blob_serve) (gpointer data, const char *peer_id, const guint8 *request, gsize len);
  gpointer blob_data;
};

/* mero-contexts.c */
void mero_contexts_buffered_free (Buffered *b);
/* mero-contexts-sync.c: TRUE when @ctx is fresh and a sync manager runs,
 * so its state comes by a state sync (a snapshot) with the heads as
 * checkpoints, and fetching its history would only repeat it. */
gboolean mero_contexts_joins_by_state_sync (MeroContexts *self, Ctx *ctx);
/* UNKNOWN_CONTEXT when @context_id (base58) is not one of ours. */
Ctx *mero_contexts_lookup_text (MeroContexts *self, const char *context_id, GError **error);
/* (transfer full) base58, "" for the all-zero (uninitialised) root. */
char *mero_contexts_root_text (const guint8 root[ID_LEN]);
MeroContexts *mero_contexts_ref (MeroContexts *self);
void mero_contexts_unref (MeroContexts *self);
void mero_contexts_count_drop (MeroContexts *self, const char *reason);
gint64 mero_contexts_now_ms (void);
Ctx *mero_contexts_lookup_id (MeroContexts *self, const guint8 id[ID_LEN]);
Group *mero_contexts_group_lookup (MeroContexts *self, const guint8 id[ID_LEN]);
Group *mero_contexts_group_ensure (MeroContexts *self, const guint8 id[ID_LEN], GError **error);
Ctx *mero_contexts_ctx_add (MeroContexts *self, const guint8 id[ID_LEN], Group *group,
                            const char *application, GError **error);
/* After any accepted group op: keys, delta stores, subscriptions, replay. */
void mero_contexts_group_changed (MeroContexts *self, Group *group);
/* Receives one encoded op from @peer (NULL: local); TRUE if accepted/dup. */
gboolean mero_contexts_group_receive (MeroContexts *self, Group *group, GBytes *op,
                                      const char *peer, gboolean *accepted);
gboolean mero_contexts_author (MeroContexts *self, Group *group, MeroGroupOp *op, GError **error);
const guint8 *mero_contexts_key_lookup (const guint8 key_id[ID_LEN], gpointer user_data);
void mero_contexts_key_store (MeroContexts *self, Group *group, const guint8 key_id[ID_LEN],
                              const guint8 key[ID_LEN]);
void mero_contexts_report_state (MeroContexts *self, Ctx *ctx);
char *mero_contexts_peer_of_key (const guint8 pk[ID_LEN]);
/* TRUE if @peer (a PeerId text, nullable) is a current member of @group:
 * a member's key is its node identity key, so one parse and one hash
 * lookup. */
gboolean mero_contexts_group_has_peer (Group *group, const char *peer);
gboolean mero_contexts_key_of_peer (const char *peer_id, guint8 pk[ID_LEN]);

/* Undoes what a failed join added (the context and/or group it created). */
void mero_contexts_join_undo (MeroContexts *self, const guint8 ctx_id[ID_LEN], gboolean context,
                              const guint8 group_id[ID_LEN], gboolean group);

/* mero-contexts-peers.c */
/* TRUE if @ctx has no other member; else starts redialling them and
 * fails with MERO_CONTEXTS_ERROR_PEER naming the addresses tried (for
 * when none of them is connected). */
gboolean mero_contexts_check_members_reachable (MeroContexts *self, Ctx *ctx, GError **error);

/* mero-contexts-gc.c */
gboolean mero_contexts_on_gc_timer (gpointer user_data);

/* mero-contexts-net.c */
void mero_contexts_publish (MeroContexts *self, const char *topic, const MeroBroadcast *msg);
void mero_contexts_receive_envelope (MeroContexts *self, Ctx *ctx, GBytes *envelope,
                                     const char *peer, gboolean replay);
void mero_contexts_replay (MeroContexts *self, Ctx *ctx);
/* One envelope from @peer: applied, pending, or kept while its key or
 * governance is fetched (0 then, or when refused and counted). */
MeroDeltaOutcome mero_contexts_receive_one (MeroContexts *self, Ctx *ctx, GBytes *envelope,
                                            const char *peer);
/* A catch-up answer's envelopes; TRUE if any applied. */
gboolean mero_contexts_receive_batch (MeroContexts *self, Ctx *ctx, GPtrArray *blobs,
                                      const char *peer);
/* A delta fetch from @peer asking for @ids failed (no answer, refused,
 * undecodable): tried again with back-off against another member that
 * announced what we lack.  _succeeded ends the back-off. */
void mero_contexts_fetch_failed (MeroContexts *self, Ctx *ctx, const char *peer,
                                 const GArray *ids);
void mero_contexts_fetch_succeeded (MeroContexts *self, Ctx *ctx);
/* Remembers @peer (a current member) as one that announced heads @ctx lacks. */
void mero_contexts_note_announcer (Ctx *ctx, const char *peer);
/* (transfer full) @peer if it is a member and not @avoid, else the most
 * recent announcer that is both; NULL if there is none. */
char *mero_contexts_pick_member (Ctx *ctx, const char *peer, const char *avoid);
/* Fetches from the member @peer (or an announcer) the parents pending
 * deltas wait for and those of @heads still unknown; FALSE if nothing
 * was missing or no member could be asked. */
gboolean mero_contexts_fetch_missing (MeroContexts *self, Ctx *ctx, const char *peer,
                                      const GArray *heads, guint depth);
/* Drops the retry state of @ctx (on free). */
void mero_contexts_retry_clear (Ctx *ctx);

/* mero-contexts-streams.c */
/* @depth: ancestor levels the peer walks below @ids (0 = unbounded). */
void mero_contexts_fetch_deltas (MeroContexts *self, Ctx *ctx, const char *peer,
                                 const char *const *addresses, const GArray *ids, guint depth);
void mero_contexts_fetch_group (MeroContexts *self, Group *group, const char *peer,
                                const char *const *addresses, GPtrArray *extra_ops,
                                MeroNodeResponseFunc then, gpointer then_data);
void mero_contexts_fetch_keys (MeroContexts *self, Ctx *ctx, const char *peer,
                               const guint8 key_id[ID_LEN]);
void mero_contexts_publish_hash_heartbeat (MeroContexts *self, Ctx *ctx);
/* A HashHeartbeat shortly (coalesces bursts of applied remote deltas). */
void mero_contexts_schedule_hash_heartbeat (MeroContexts *self, Ctx *ctx);
void mero_contexts_publish_group_heartbeat (MeroContexts *self, Group *group);

G_END_DECLS
