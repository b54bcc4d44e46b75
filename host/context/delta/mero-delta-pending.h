/* mero-delta-pending.h: the in-memory graph of deltas waiting for parents.
 *
 * Pure bookkeeping on ids (no store, no crypto) so the DAG rules can be
 * tested with arbitrary ids: a delta waits on its missing parents;
 * resolving a parent releases the deltas that waited only on it; adding a
 * delta that would (transitively) wait on itself is a cycle.  Entries keep
 * arrival order so the oldest can be evicted. */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-limits.h"

G_BEGIN_DECLS

typedef struct _MeroDeltaPending MeroDeltaPending;

MeroDeltaPending *mero_delta_pending_new (void);
void mero_delta_pending_free (MeroDeltaPending *pending);

guint mero_delta_pending_count (MeroDeltaPending *pending);
gboolean mero_delta_pending_contains (MeroDeltaPending *pending, const guint8 id[32]);

/* @missing: @n_missing x 32 bytes, parents not applied yet.  Fails with
 * MERO_DELTA_ERROR_CYCLE if @id is among its own (pending) ancestors. */
gboolean mero_delta_pending_add (MeroDeltaPending *pending, const guint8 id[32],
                                 const guint8 *missing, guint n_missing, guint64 received_ms,
                                 GError **error);
void mero_delta_pending_remove (MeroDeltaPending *pending, const guint8 id[32]);

/* @parent was applied: returns the ids (GBytes, transfer full) of the
 * deltas that no longer miss anything, in arrival order.  They stay in the
 * set until removed. */
GPtrArray *mero_delta_pending_resolve (MeroDeltaPending *pending, const guint8 parent[32]);

/* The oldest entry (by arrival); FALSE if empty. */
gboolean mero_delta_pending_oldest (MeroDeltaPending *pending, guint8 id[32],
                                    guint64 *received_ms);

/* Parents some pending delta waits for that are not pending themselves:
 * what to fetch.  GBytes ids, transfer full, sorted. */
GPtrArray *mero_delta_pending_missing (MeroDeltaPending *pending);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDeltaPending, mero_delta_pending_free)

G_END_DECLS
