/* mero-delta-store.h: the delta DAG of one context (DESIGN §8).
 *
 * A delta is applied once all its parents are; until then it is pending
 * (bounded by count and age, oldest evicted and counted), and the parents
 * it misses are reported so the node can fetch them.  Applying a delta
 * cascades to the pending deltas that waited for it.  A delta's actions,
 * its DAG bookkeeping, the new heads, clock and root commit in ONE store
 * batch (upstream lesson 9), and the root is always computed locally.
 * Everything is persisted: reopening resumes the same heads, pending set
 * and root.
 *
 * Heads: at most MERO_DELTA_MAX_HEADS are kept (past that the oldest is
 * forgotten, counted in mero_delta_heads_dropped_total: still applied, no
 * longer cited); a delta citing more than MERO_DELTA_MAX_PARENTS parents
 * is refused (TOO_LARGE).  A local commit cites every head (its actions
 * were computed on a state that includes them all): while there are more
 * than MERO_DELTA_MAX_PARENTS, it first folds the oldest by (hlc, id)
 * into action-less merge deltas (mero_delta_store_take_merges), so
 * however many concurrent branches there were, one head remains.
 *
 * Collected tombstones: an Add or Update older than the newest tombstone
 * this replica collected, meeting nothing live, is a no-op (the rule in
 * mero-state.h; counted in mero_delta_stale_actions_ignored_total), so
 * replicas that collect at different times agree.  Collect with
 * mero_delta_store_gc() (this store's clock and retention).
 *
 * NOT THREAD-SAFE: one MeroDeltaStore (and its MeroState, and MeroKv
 * calls on it) must be used by one thread at a time; the node serialises
 * the calls of one context on its main thread (upstream lesson 4:
 * read-modify-writes of the index must not interleave).  Checked builds
 * log a critical when two calls overlap. */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-envelope.h"
#include "context/delta/mero-delta-error.h"
#include "context/state/mero-state.h"
#include "metrics/mero-metrics.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

/* Is @author allowed to write this context at @governance_heads (its
 * causal cut)?  Filled in by the node (membership is governance's, not
 * ours).  Return FALSE with @error set to refuse. */
typedef gboolean (*MeroDeltaAuthorizeFunc) (const guint8 context_id[MERO_DELTA_ID_LEN],
                                            const guint8 author[MERO_DELTA_AUTHOR_LEN],
                                            const guint8 *governance_heads, guint n_heads,
                                            gpointer user_data, GError **error);
/* Wall clock in ms since the epoch (tests inject one). */
typedef guint64 (*MeroDeltaClockFunc) (gpointer user_data);

typedef struct {
  const guint8 *context_key;      /* 32 bytes, required (copied) */
  const guint8 *author_sk;        /* 64 bytes Ed25519, NULL: cannot write (copied) */
  guint max_pending;              /* 0 = MERO_DELTA_PENDING_MAX */
  guint64 pending_max_age_ms;     /* 0 = MERO_DELTA_PENDING_MAX_AGE_MS */
  MeroDeltaAuthorizeFunc authorize;   /* NULL = everyone */
  gpointer authorize_data;
  MeroDeltaClockFunc clock;       /* NULL = real time */
  gpointer clock_data;
  MeroMetrics *metrics;           /* NULL = the default instance */
  /* 0 = MERO_STATE_TOMBSTONE_RETENTION_MS: the age at which
   * mero_delta_store_gc() collects tombstones. */
  guint64 tombstone_retention_ms;
  /* Keys of the context other than @context_key (older keys after a
   * rotation, for history); NULL = only @context_key opens envelopes. */
  MeroDeltaKeyLookupFunc key_lookup;
  gpointer key_lookup_data;
} MeroDeltaStoreConfig;

typedef enum {
  MERO_DELTA_OUTCOME_APPLIED = 1,   /* applied (and maybe cascaded) */
  MERO_DELTA_OUTCOME_PENDING,       /* waits for parents: see missing_parents */
  MERO_DELTA_OUTCOME_DUPLICATE,     /* already applied or pending */
} MeroDeltaOutcome;

typedef struct _MeroDeltaStore MeroDeltaStore;

/* @store is borrowed and must outlive the delta store. */
MeroDeltaStore *mero_delta_store_open (MeroStore *store,
                                       const guint8 context_id[MERO_DELTA_ID_LEN],
                                       const MeroDeltaStoreConfig *config, GError **error);
void mero_delta_store_free (MeroDeltaStore *ds);

/* A received envelope.  Errors are MERO_DELTA_ERROR_* (each also counted
 * in mero_delta_rejected_total{reason}); a refused delta changes nothing. */
gboolean mero_delta_store_receive (MeroDeltaStore *ds, const guint8 *envelope, gsize len,
                                   MeroDeltaOutcome *outcome, GError **error);

/* Receives @n envelopes in order, with the same outcomes, errors and
 * metrics as @n calls of mero_delta_store_receive(), but faster: the
 * envelopes are opened (verified, decrypted, decoded) on up to 3 worker
 * threads, and the deltas that can be applied at once go through one
 * state txn and ONE store batch (one commit per up to 256 deltas;
 * hashes of shared ancestors recomputed once).  If one of them does not apply, that batch is dropped
 * and the call falls back to one by one.  @outcomes (n, required) gets
 * each outcome (0 where refused); @errors (n, NULL-initialised, may be
 * NULL) each refusal, transfer full.  Returns the number accepted
 * (applied, pending or duplicate).  The key lookup (see the config) may
 * run on the worker threads. */
guint mero_delta_store_receive_many (MeroDeltaStore *ds, GBytes *const *envelopes, guint n,
                                     MeroDeltaOutcome *outcomes, GError **errors);

/* Local mutation: take a timestamp, build actions with it, commit them as
 * one delta whose parents are the current heads (more than
 * MERO_DELTA_MAX_PARENTS are first merged, see above).  @envelope
 * (transfer full, may be NULL) is what to broadcast. */
MeroHlc mero_delta_store_next_hlc (MeroDeltaStore *ds);
gboolean mero_delta_store_commit_local (MeroDeltaStore *ds, const MeroHlc *ts,
                                        const MeroAction *actions, guint n_actions,
                                        GBytes **envelope, guint8 delta_id[MERO_DELTA_ID_LEN],
                                        GError **error);
/* The action-less merge deltas local commits made since the last call
 * (GBytes envelopes, transfer full, oldest first; usually empty): the
 * node broadcasts them before the commit's envelope.  Peers that miss
 * them fetch them as missing parents like any other delta. */
GPtrArray *mero_delta_store_take_merges (MeroDeltaStore *ds);

/* Governance heads cited by the next local deltas (n x 32, copied). */
void mero_delta_store_set_governance_heads (MeroDeltaStore *ds, const guint8 *heads, guint n);

/* One bounded tombstone GC pass (mero_state_gc) with this store's clock
 * and retention (@max_visit 0 = MERO_STATE_GC_MAX_VISIT).  Use this, not
 * mero_state_gc() with another clock, so collection and the retention
 * horizon agree. */
gboolean mero_delta_store_gc (MeroDeltaStore *ds, guint max_visit, GBytes **cursor,
                              guint *removed, GError **error);
/* Replaces the key local deltas are sealed with (after a group key
 * rotation); envelopes under the old key still open through key_lookup. */
void mero_delta_store_set_context_key (MeroDeltaStore *ds, const guint8 key[MERO_DELTA_KEY_LEN]);

/* Evicts pending deltas older than the age bound (also done on receive). */
void mero_delta_store_expire (MeroDeltaStore *ds);

MeroState *mero_delta_store_get_state (MeroDeltaStore *ds);
/* DAG consistency after a state sync (DESIGN §9): when the local root now
 * equals @peer_root, the root the peer announced together with @heads, those
 * heads become checkpoints: recorded as applied without an envelope (a
 * fetch of one finds nothing here), made heads, and the pending deltas that
 * waited for them apply, so later deltas citing them never fetch history
 * that may exist nowhere any more.  Any other root: nothing changes
 * (*added = 0).  Counted in mero_delta_checkpoints_total. */
gboolean mero_delta_store_add_checkpoints (MeroDeltaStore *ds, const guint8 *heads,
                                           guint n_heads, const guint8 peer_root[MERO_HASH_LEN],
                                           guint *added, GError **error);
/* Re-reads the root from the state after something other than a delta
 * changed it (a state sync merged a peer's entities). */
gboolean mero_delta_store_reload_root (MeroDeltaStore *ds, GError **error);
void mero_delta_store_root (MeroDeltaStore *ds, guint8 out[MERO_HASH_LEN]);
/* Snapshot sync (context/state/mero-state-snapshot.h): queues in @batch
 * the DAG record with @heads (n x 32, the peer's heads at the snapshot's
 * boundary) as the only heads, so they commit with the snapshot's state;
 * once that batch committed, mero_delta_store_snapshot_installed()
 * reloads heads and root.  The SyncManager marks these heads as
 * checkpoints. */
void mero_delta_store_queue_snapshot_heads (MeroDeltaStore *ds, MeroStoreBatch *batch,
                                            const guint8 *heads, gsize n_heads);
gboolean mero_delta_store_snapshot_installed (MeroDeltaStore *ds, GError **error);
/* Sorted heads, @n x 32 bytes, valid until the next change. */
const guint8 *mero_delta_store_heads (MeroDeltaStore *ds, guint *n);
guint mero_delta_store_pending_count (MeroDeltaStore *ds);
gboolean mero_delta_store_is_pending (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN]);
gboolean mero_delta_store_is_applied (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN],
                                      gboolean *applied, GError **error);
/* Parents we wait for and do not have (GBytes, transfer full, sorted). */
GPtrArray *mero_delta_store_missing_parents (MeroDeltaStore *ds);
/* The stored envelope of a delta we hold, to serve a peer's fetch. */
gboolean mero_delta_store_get_envelope (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN],
                                        GBytes **envelope, GError **error);
/* Opens and decodes @envelope without applying it: its (hlc, id) for the
 * DeltaBuffer's replay order. */
gboolean mero_delta_store_peek (MeroDeltaStore *ds, const guint8 *envelope, gsize len,
                                MeroHlc *hlc, guint8 id[MERO_DELTA_ID_LEN], GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDeltaStore, mero_delta_store_free)

G_END_DECLS
