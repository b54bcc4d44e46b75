/* mero-state.h: the CRDT entity tree of one context, on the store façade.
 *
 * Merge is last-writer-wins per entity with tombstones (DESIGN §8):
 *   Add/Update at ts  applied iff ts >= updated_at (equal HLC = the same
 *                     event of the same writer, so re-applying is a no-op);
 *   DeleteRef at ts   deleted_at = max (deleted_at, ts);
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
 * commit together (one batch, never "applied in storage but not in DAG"). */
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
} MeroStateError;

typedef enum {
  MERO_ACTION_ADD = 1,
  MERO_ACTION_UPDATE = 2,
  MERO_ACTION_DELETE_REF = 3,
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
