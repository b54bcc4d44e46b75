/* mero-group-dag.h: one group's signed op DAG, its pending ops, and the
 * state every replica derives from it.
 *
 * Deterministic order.  Every op has depth = 0 for CREATE_GROUP, else
 * 1 + the largest depth of its parents.  The ops of a set are folded in
 * (depth, op id) order: a topological order that depends only on each
 * op's own causal past, so the order of a causal past is the restriction
 * of the order of the whole DAG.
 *
 * Authorization at the causal cut, forward-only.  An op is accepted into
 * the DAG only if mero_group_state_check(at_cut = TRUE) passes against
 * the state of its causal past (the fold of its ancestors): what its
 * signer saw.  Refused ops are not stored (every replica refuses them,
 * since the verdict depends only on the op and its ancestors).  In the
 * fold of a set, an accepted op takes effect only if the rules still pass
 * at its position, so a concurrent op can revoke authority but never
 * grant it: of two admins removing each other, the removal that sorts
 * first wins and the other has no effect; an admin removed concurrently
 * with adding someone keeps the add only if the add sorts first.  Every
 * replica holding the same op set computes the same state, whatever the
 * arrival order.
 *
 * Incremental.  An op that sorts last (the usual case: it cites all
 * heads) is one rule check and one apply.  One that sorts earlier (a
 * concurrent op from a lagging replica) refolds from the nearest full
 * state checkpoint (every MERO_GROUP_CHECKPOINT_INTERVAL positions).  The
 * state of a cut other than the current heads is folded from the latest
 * checkpoint whose prefix lies inside the cut, and cached (a cut's state
 * never changes).
 *
 * Pending: an op whose parents are not all known waits (at most
 * MERO_GROUP_PENDING_MAX, for MERO_GROUP_PENDING_MAX_AGE_MS); its unknown
 * parents are reported by mero_group_dag_missing().  Pending ops live in
 * memory only; a restart forgets them and catch-up fetches them again.
 *
 * Keys: with an identity set, envelopes sealed to it are opened when their
 * op is accepted and the keys kept (in the store, GROUP column) by key id.
 * A LEAVE does not rotate the key (the leaver would learn the new one);
 * the node follows it with a ROTATE_KEY.  A member added concurrently
 * with a rotation receives the key by the next rotation or key-share.
 *
 * Drops are counted in mero_group_ops_dropped_total{reason=...}.
 * Not thread-safe: one thread (the node's main loop) owns a DAG. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-op.h"
#include "context/group/mero-group-state.h"
#include "metrics/mero-metrics.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

#define MERO_GROUP_DROPPED_METRIC "mero_group_ops_dropped_total"

typedef struct _MeroGroupDag MeroGroupDag;

typedef enum {
  MERO_GROUP_RECEIVE_ACCEPTED = 1,  /* stored and folded (with any pending ops it unblocked) */
  MERO_GROUP_RECEIVE_PENDING,       /* waiting for parents: see mero_group_dag_missing() */
  MERO_GROUP_RECEIVE_DUPLICATE,     /* already known (stored or pending) */
} MeroGroupReceiveResult;

/* Opens the DAG of @group_id kept in @store (empty if the store has none
 * of it).  @store may be NULL for a memory-only DAG; @metrics NULL means
 * the default registry.  Both are referenced/borrowed: @store must outlive
 * the DAG. */
MeroGroupDag *mero_group_dag_open (MeroStore *store, const guint8 group_id[MERO_GROUP_ID_LEN],
                                   MeroMetrics *metrics, GError **error);
void mero_group_dag_free (MeroGroupDag *dag);   /* NULL-safe */

/* The local member's Ed25519 secret key (copied), to open envelopes.
 * Ops accepted before the call are scanned too. */
gboolean mero_group_dag_set_identity (MeroGroupDag *dag, const guint8 secret_key[MERO_GROUP_SECRET_LEN],
                                      GError **error);

/* Takes one encoded SignedGroupOpV1 from anyone.  FALSE with an error when
 * it is refused (malformed, too large, forged, unauthorized at its cut,
 * pending full, store failure); nothing changes then.  @mutation (may be
 * NULL) receives whose membership changed in the current state. */
gboolean mero_group_dag_receive (MeroGroupDag *dag, const guint8 *data, gsize len, gint64 now_ms,
                                 MeroGroupReceiveResult *result, MeroGroupMutation *mutation,
                                 GError **error);
/* Drops pending ops older than MERO_GROUP_PENDING_MAX_AGE_MS; returns how many. */
guint mero_group_dag_expire_pending (MeroGroupDag *dag, gint64 now_ms);

/* Fills in group id, parents (the current heads, at most
 * MERO_GROUP_OP_MAX_PARENTS), nonce (above any this signer used), and a
 * timestamp (max of @now_ms and the parents'), then signs @op.  The caller
 * still passes the encoding to mero_group_dag_receive(). */
void mero_group_dag_author (MeroGroupDag *dag, MeroGroupOp *op,
                            const guint8 secret_key[MERO_GROUP_SECRET_LEN], gint64 now_ms);

/* Queries. */
const guint8 *mero_group_dag_group_id (MeroGroupDag *dag);
/* (transfer none) the state of every accepted op. */
const MeroGroupState *mero_group_dag_state (MeroGroupDag *dag);
/* (transfer full) the state at the cut given by @heads (n ids): the fold
 * of @heads and their ancestors.  UNKNOWN_CUT if one is not known here
 * (the caller should buffer and fetch).  n = 0 is the empty state. */
MeroGroupState *mero_group_dag_state_at (MeroGroupDag *dag, const guint8 *heads, guint n_heads,
                                         GError **error);
/* Was @member a member with write rights (admin or member role) at the
 * cut @heads?  FALSE with UNKNOWN_CUT when the cut is not known. */
gboolean mero_group_dag_can_write_at (MeroGroupDag *dag, const guint8 member[MERO_GROUP_KEY_LEN],
                                      const guint8 *heads, guint n_heads, gboolean *out_can_write,
                                      GError **error);
/* (transfer container) guint8[32] ids, sorted. */
GArray *mero_group_dag_heads (MeroGroupDag *dag);
/* (transfer container) parents of pending ops that are neither known nor
 * pending, sorted, at most MERO_GROUP_MISSING_MAX. */
GArray *mero_group_dag_missing (MeroGroupDag *dag);
guint mero_group_dag_n_ops (MeroGroupDag *dag);
guint mero_group_dag_n_pending (MeroGroupDag *dag);
gboolean mero_group_dag_has_op (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN]);
/* (transfer full) the encoding of a stored op as received, or NULL. */
GBytes *mero_group_dag_get_op (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN]);
/* Did the op take effect in the current fold (FALSE if superseded by a
 * concurrent op, or unknown)? */
gboolean mero_group_dag_op_effective (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN]);
/* (transfer container) GBytes* encodings of the ops a peer whose heads are
 * @heads lacks, parents first, at most @max_ops. */
GPtrArray *mero_group_dag_ops_for_peer (MeroGroupDag *dag, const guint8 *heads, guint n_heads,
                                        guint max_ops);
/* The group key for @key_id, if this node could open it. */
gboolean mero_group_dag_key (MeroGroupDag *dag, const guint8 key_id[MERO_GROUP_ID_LEN],
                             guint8 key_out[MERO_GROUP_GROUP_KEY_LEN]);
/* The current key id (of the state) and, when this node holds it, the key. */
gboolean mero_group_dag_current_key (MeroGroupDag *dag, guint8 key_id_out[MERO_GROUP_ID_LEN],
                                     guint8 key_out[MERO_GROUP_GROUP_KEY_LEN]);

/* (transfer container) guint8[32] ids of every group with ops in @store. */
GArray *mero_group_list_groups (MeroStore *store, GError **error);
/* (transfer container) the groups of @store in which @member is currently
 * a member ("the groups of this node"). */
GArray *mero_group_list_member_groups (MeroStore *store, const guint8 member[MERO_GROUP_KEY_LEN],
                                       GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGroupDag, mero_group_dag_free)

G_END_DECLS
