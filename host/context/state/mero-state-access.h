/* mero-state-access.h: the SDK's MeroStateAccess over a context's state.
 *
 * A MeroStateHandle wraps one MeroState (and, for the DAG heads, the
 * context's MeroDeltaStore when there is one) so that sync protocol
 * plugins read and merge the real state engine through the same table in
 * the node and in the in-memory sync simulator (tests/unit/sync).
 *
 * Merges keep the CRDT rules: a received entity becomes an Add at its
 * updated_at (which only wins if newer), a DeleteRef at its deleted_at and
 * a Clear at its cleared_at, so merging is commutative and idempotent and
 * never a raw overwrite.  The receiver's created_at of an entity it learns
 * by sync is the sender's updated_at (created_at is not in any hash).
 *
 * Not thread-safe, like MeroState: use on the thread that applies the
 * context's deltas. */
#pragma once

#include <mero-sdk.h>

#include "context/delta/mero-delta-store.h"
#include "context/state/mero-state.h"

G_BEGIN_DECLS

/* The host's table (static, ABI 1.2 layout). */
const MeroStateAccess *mero_state_access_get (void);

/* @state (and @ds, may be NULL: no DAG heads) are borrowed and must
 * outlive the handle. */
MeroStateHandle *mero_state_handle_new (MeroState *state, MeroDeltaStore *ds);
void mero_state_handle_free (MeroStateHandle *handle);
/* TRUE once a snapshot writer begun on @handle (with a delta store) has
 * committed: state and the boundary heads the peer announced with the
 * verified boundary root were written in one batch, so the delta store's
 * heads and root are that boundary now. */
gboolean mero_state_handle_snapshot_installed (MeroStateHandle *handle);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStateHandle, mero_state_handle_free)

G_END_DECLS
