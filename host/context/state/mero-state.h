/* mero-state.h: the CRDT entity tree of one context, on the store façade.
 *
 * Merge is last-writer-wins per entity with tombstones (DESIGN §8):
 *   Add/Update at ts  applied iff ts >= updated_at (equal HLC = the same
 *                     event of the same writer, so re-applying is a no-op);
 *                     then if updated_at <= parent's cleared_at,
 *                     deleted_at = max (deleted_at, cleared_at);
 *   DeleteRef at ts   deleted_at = max (deleted_at, ts);
 *   Clear at ts       cleared_at = max (cleared_at, ts), and every live
 *                     child with updated_at <= ts gets
 *                     deleted_at = max (deleted_at, ts) (the rule above
 *                     covers the children that are dead or not there yet);
 *   an entity is live iff updated_at > deleted_at (a delete wins a tie) and
 *   its parent is live, so a delete tombstones the subtree by effect and
 *   merge stays commutative whatever order deltas arrive in.
 *
 * The root entity has the context id as its id; it is made by the engine
 * on the first applied action and is always live.  Hashes follow
 * mero-entity-hash.h over the physical tree (buckets included, see
 * mero-entity.h); a bucket counts only while it has a live child.
 *
 * Changes go through a MeroStateTxn: actions are applied to an in-memory
 * overlay, then mero_state_txn_finish() recomputes the hashes of the
 * touched entities and their ancestors only (O(depth) point reads: one
 * child index record per level, see mero-state-private.h)
 * and writes everything into the caller's batch, so state, DAG and root
 * commit together (one batch, never "applied in storage but not in DAG").
 *
 * Collected tombstones (why collecting at different times cannot make
 * replicas diverge).  The GC removes a tombstone
 * MERO_STATE_TOMBSTONE_RETENTION_MS after the delete, at a time each
 * replica picks.  An Add or Update arriving later could then find the
 * tombstone on one replica (and lose to it: its timestamp is not after
 * the delete) and nothing on another (and create the entity, or be
 * refused as an Update of an unknown entity, which left that replica's
 * DAG stuck).  So each replica keeps its collection frontier F, the
 * newest deleted_at it ever collected (one record, moved in the GC's own
 * batch), and an Add or Update at ts <= F whose target (or, for an Add,
 * parent) is absent or dead is a no-op, counted
 * (mero_state_txn_stale_ignored), with the delta accepted into the DAG.
 * A replica that still has the tombstone (deleted at D) agrees:
 *   - ts <= D (the write is older than the delete that was collected, the
 *     case that used to diverge): a no-op on both;
 *   - live targets and deletes merge as usual everywhere (live entities
 *     and their ancestors are never collected);
 *   - a replica that never collected (F zero; e.g. a new member replaying
 *     the whole history, however old) applies every action normally.
 * What is not covered: a write made after a delete (D < ts <= F) or the
 * creation of a brand-new entity with ts <= F, reaching a replica that
 * collected more than the retention period after it was made.  Deltas
 * are expected to spread well within the retention period; a replica cut
 * off for longer must catch up by snapshot sync (roots differ), DESIGN
 * §8/§9.
 *
 * Not thread-safe: a MeroState and its txns belong to the thread that
 * applies the context's deltas (the node serialises each context on its
 * main thread). */
#pragma once

#include <glib.h>

#include "context/state/mero-entity.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

#define MERO_STATE_ERROR (mero_state_error_quark ())
GQuark mero_state_error_quark (void);

typedef enum {
  MERO_STATE_ERROR_CORRUPT = 1,         /* a stored record does not decode */
  MERO_STATE_ERROR_UNKNOWN_PARENT,      /* Add under an entity we do not have */
  MERO_STATE_ERROR_UNKNOWN_ENTITY,      /* Update of an entity we do not have */
  MERO_STATE_ERROR_INVALID_ACTION,      /* root/bucket target, bad type, re-parenting */
  MERO_STATE_ERROR_TOO_DEEP,            /* beyond MERO_ENTITY_MAX_DEPTH */
  MERO_STATE_ERROR_TOO_LARGE,           /* data beyond MERO_ENTITY_MAX_DATA */
  MERO_STATE_ERROR_FORMAT,              /* stored by a build with another layout */
} MeroStateError;

/* Version of the context state's on-disk layout: entity records, child
 * indexes, bucket key space (mero-state-private.h) and the delta DAG
 * record, which carries it.  Bump on any change; a store of another
 * version is refused with MERO_STATE_ERROR_FORMAT, never misread.
 *   1: (implicit) buckets under entity keys; one index record per child,
 *      then one per parent (changed without a bump).
 *   2: one index record per parent; buckets in their own key space; DAG
 *      heads with their timestamps.
 *   3: entity records carry cleared_at (MERO_ACTION_CLEAR). */
#define MERO_STATE_FORMAT 3

typedef enum {
  MERO_ACTION_ADD = 1,
  MERO_ACTION_UPDATE = 2,
  MERO_ACTION_DELETE_REF = 3,
  /* Deletes at ts every child of @id last written at or before ts, also
   * those that arrive later with such a timestamp (the target keeps
   * cleared_at); one action whatever the number of children. */
  MERO_ACTION_CLEAR = 4,
} MeroActionKind;

/* An action; @data is borrowed.  parent and crdt_type are for Add only. */
typedef struct {
  MeroActionKind kind;
  guint8 id[MERO_ENTITY_ID_LEN];
  guint8 parent[MERO_ENTITY_ID_LEN];
  guint8 crdt_type;
  const guint8 *data;
  gsize data_len;
} MeroAction;

typedef struct _MeroState MeroState;
typedef struct _MeroStateTxn MeroStateTxn;

/* @store is borrowed and must outlive the state. */
MeroState *mero_state_new (MeroStore *store, const guint8 ctx[MERO_ENTITY_ID_LEN]);
void mero_state_free (MeroState *state);
const guint8 *mero_state_context_id (MeroState *state);
MeroStore *mero_state_get_store (MeroState *state);

/* Committed root hash; all zero while no action was ever applied. */
gboolean mero_state_root_hash (MeroState *state, guint8 out[MERO_HASH_LEN], GError **error);

/* Committed entity (transfer full), *out NULL if absent. */
gboolean mero_state_get_entity (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN],
                                MeroEntity **out, GError **error);
/* Live: the entity exists, is self-live and so is each ancestor. */
gboolean mero_state_entity_is_live (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN],
                                    gboolean *live, GError **error);
/* The self-live logical children of @id (through its buckets), in id
 * order; (transfer full) array of MeroEntity. */
gboolean mero_state_live_children (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN],
                                   GPtrArray **out, GError **error);

MeroStateTxn *mero_state_txn_new (MeroState *state);
void mero_state_txn_free (MeroStateTxn *txn);
/* Applies one action at @ts.  On error the txn must be dropped (nothing
 * reaches the store until finish). */
gboolean mero_state_txn_apply (MeroStateTxn *txn, const MeroAction *action, const MeroHlc *ts,
                               GError **error);
/* Also treat as stale (see "Collected tombstones" above) the writes whose
 * physical time is below @horizon_ms; 0 (the default) = only the
 * collection frontier counts.  For tests and tools. */
void mero_state_txn_set_horizon (MeroStateTxn *txn, guint64 horizon_ms);
/* Stale actions this txn ignored so far. */
guint mero_state_txn_stale_ignored (MeroStateTxn *txn);
/* Recomputes hashes and queues every change in @batch; @root gets the new
 * root hash. */
gboolean mero_state_txn_finish (MeroStateTxn *txn, MeroStoreBatch *batch,
                                guint8 root[MERO_HASH_LEN], GError **error);

/* Tombstone GC: removes entities dead (self) for longer than
 * @retention_ms at @now_ms that have no live child, visiting at most
 * @max_visit records from *@cursor (opaque, start with NULL; set back to
 * NULL at the end of a full sweep).  Buckets are kept (they weigh nothing
 * in the hash).  Safe: a dead entity is outside every hash already. */
#define MERO_STATE_TOMBSTONE_RETENTION_MS G_GUINT64_CONSTANT (24 * 3600 * 1000)
#define MERO_STATE_GC_MAX_VISIT 10000
/* How often the node runs a pass (DESIGN §8); not used here. */
#define MERO_STATE_GC_INTERVAL_MS G_GUINT64_CONSTANT (12 * 3600 * 1000)
/* Call from the thread that applies this context's deltas. */
gboolean mero_state_gc (MeroState *state, guint64 now_ms, guint64 retention_ms, guint max_visit,
                        GBytes **cursor, guint *removed, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroState, mero_state_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStateTxn, mero_state_txn_free)

G_END_DECLS
