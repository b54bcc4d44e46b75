/* mero-sync-sched.h: the SyncManager's decisions, without I/O.
 *
 * Which context syncs when, with which peers first, which protocols in
 * which order, how long a failed context waits, and which session the
 * watchdog fails: all decided here from integer time (monotonic us) and a
 * seeded GRand, so every rule is tested in memory (tests/unit/sync).  The
 * manager (mero-sync-manager.c) feeds it triggers and outcomes and does
 * what it says.
 *
 * Rules:
 * - a context is synced at most once per @min_interval_us (triggers in
 *   between are merged: debounce), one session per context at a time,
 *   at most @max_concurrent sessions in all;
 * - every context gets a periodic trigger every @interval_us, jittered by
 *   up to MERO_SYNC_JITTER_PCT percent so nodes started together do not
 *   sync in lock-step (0: no periodic sync);
 * - a failure (not a benign outcome: in sync, no peer) doubles the
 *   context's back-off from MERO_SYNC_BACKOFF_FIRST_US up to
 *   MERO_SYNC_BACKOFF_MAX_US; a success clears it.  An explicit request
 *   (operator) waits neither for the back-off nor for the minimum interval;
 * - a session running past its deadline is reported by _expired() (the
 *   watchdog) and then counts as a failure. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

#define MERO_SYNC_MAX_CONCURRENT 4u
#define MERO_SYNC_MIN_INTERVAL_US (G_GINT64_CONSTANT (1) * G_USEC_PER_SEC)
#define MERO_SYNC_BACKOFF_FIRST_US (G_GINT64_CONSTANT (2) * G_USEC_PER_SEC)
#define MERO_SYNC_BACKOFF_MAX_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)
/* Handshake + every protocol tried, on every peer tried. */
#define MERO_SYNC_SESSION_DEADLINE_US (G_GINT64_CONSTANT (120) * G_USEC_PER_SEC)
#define MERO_SYNC_JITTER_PCT 20u
/* Contexts the scheduler tracks (one per joined context). */
#define MERO_SYNC_MAX_CONTEXTS 4096u
/* Peers one session tries, in order, before it gives up. */
#define MERO_SYNC_MAX_PEERS_PER_SESSION 3u

typedef enum {
  MERO_SYNC_TRIGGER_TICK = 0,       /* periodic */
  MERO_SYNC_TRIGGER_REQUEST,        /* operator: D-Bus, meroctl, HTTP */
  MERO_SYNC_TRIGGER_PEER,           /* a member subscribed, a heartbeat's root differs, a join */
} MeroSyncTrigger;

typedef enum {
  MERO_SYNC_RESULT_OK = 0,          /* a protocol ran and ended DONE */
  MERO_SYNC_RESULT_IN_SYNC,         /* roots were equal: nothing to do */
  MERO_SYNC_RESULT_NO_PEER,         /* no member to sync with */
  MERO_SYNC_RESULT_NO_PROTOCOL,     /* no loaded protocol applies */
  MERO_SYNC_RESULT_REFUSED,         /* the peer refused the handshake */
  MERO_SYNC_RESULT_FAILED,          /* stream or protocol failure */
  MERO_SYNC_RESULT_TIMEOUT,         /* watchdog */
} MeroSyncResult;

/* "ok", "in_sync", ...: a metric label. */
const char *mero_sync_result_to_string (MeroSyncResult result);
/* Benign outcomes do not count as failures (no back-off). */
gboolean mero_sync_result_is_benign (MeroSyncResult result);

typedef struct _MeroSyncSched MeroSyncSched;

MeroSyncSched *mero_sync_sched_new (gint64 interval_us, gint64 min_interval_us,
                                    guint max_concurrent, guint32 seed);
void mero_sync_sched_free (MeroSyncSched *sched);   /* NULL-safe */

/* Starts tracking @context_id (its first periodic sync is one jittered
 * interval away); FALSE past MERO_SYNC_MAX_CONTEXTS.  Idempotent. */
gboolean mero_sync_sched_add (MeroSyncSched *sched, const char *context_id, gint64 now);
void mero_sync_sched_remove (MeroSyncSched *sched, const char *context_id);
/* A sync of @context_id is wanted, preferably with @peer (nullable).
 * Adds the context if it is not tracked yet. */
void mero_sync_sched_trigger (MeroSyncSched *sched, const char *context_id, const char *peer,
                              MeroSyncTrigger why, gint64 now);

/* The next context to start now, if any (periodic ones become due here):
 * marks it running with deadline @now + MERO_SYNC_SESSION_DEADLINE_US.
 * @peer (transfer full, nullable): the preferred peer. */
gboolean mero_sync_sched_next (MeroSyncSched *sched, gint64 now, char **context_id, char **peer,
                               MeroSyncTrigger *why);
/* The session of @context_id ended with @result. */
void mero_sync_sched_finish (MeroSyncSched *sched, const char *context_id, MeroSyncResult result,
                             gint64 now);
/* Watchdog: (transfer full) the contexts whose session is past its
 * deadline (NULL-terminated, maybe empty).  The caller ends each with
 * MERO_SYNC_RESULT_TIMEOUT. */
GStrv mero_sync_sched_expired (MeroSyncSched *sched, gint64 now);
/* When to call _next/_expired again (G_MAXINT64: nothing pending). */
gint64 mero_sync_sched_next_wakeup (MeroSyncSched *sched, gint64 now);

guint mero_sync_sched_running (MeroSyncSched *sched);
/* For the info and tests: consecutive failures and the back-off end. */
guint mero_sync_sched_failures (MeroSyncSched *sched, const char *context_id);
gint64 mero_sync_sched_backoff_until (MeroSyncSched *sched, const char *context_id);

/* Peer choice: @hint first if it is a member, then @members (connected
 * members of the context, in order), then the members among
 * @topic_peers; no duplicates, never a peer @is_member refuses, never
 * @self_id; at most MERO_SYNC_MAX_PEERS_PER_SESSION.  (transfer full) */
typedef gboolean (*MeroSyncIsMemberFunc) (const char *peer, gpointer user_data);
GStrv mero_sync_select_peers (const char *hint, const char *const *members,
                              const char *const *topic_peers, MeroSyncIsMemberFunc is_member,
                              gpointer user_data, const char *self_id);

/* Protocol order: indices of @costs (n) ascending by cost, ties by
 * index; MERO_SYNC_COST_NOT_APPLICABLE left out.  (transfer full) guint
 * array. */
GArray *mero_sync_select_protocols (const guint64 *costs, guint n);
/* The same, but in index order (an operator's sync.protocols order): the
 * applicable ones only, whatever their costs. */
GArray *mero_sync_select_protocols_in_order (const guint64 *costs, guint n);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncSched, mero_sync_sched_free)

G_END_DECLS
