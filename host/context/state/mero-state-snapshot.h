/* mero-state-snapshot.h: whole-state transfer for snapshot sync.
 *
 * The responder reads a consistent view (a store snapshot) of a context's
 * entity records with the root and DAG heads of the same instant, in
 * pages by id cursor.  The initiator stages the pages it receives apart
 * from the state (GENERIC: ctx || "sync-snapshot/page/" || n, one record
 * per page, with the cursor in the marker record of the same batch), so
 * a cut session resumes from the last staged page.  Commit builds the
 * state from the staged entities with the engine (every hash recomputed,
 * nothing trusted), compares the root with the boundary root the peer
 * announced and only then writes the state, the boundary heads and the
 * removal of the staging and the marker in ONE batch.
 *
 * Crash marker: GENERIC: ctx || "sync-snapshot/marker" exists from begin
 * to commit or abort.  Found when the context is opened
 * (mero_state_snapshot_recover, called by mero_delta_store_open), it
 * means a snapshot was cut by a crash: the staging is dropped and, if it
 * was an operator resync (which wipes the state at begin), the state is
 * fresh, so the next session starts a snapshot from the first page. */
#pragma once

#include <mero-sdk.h>

#include "context/state/mero-state.h"

G_BEGIN_DECLS

/* Entities of one staged page: a bound the writer enforces whatever
 * the protocol's page size. */
#define MERO_STATE_SNAPSHOT_MAX_PAGE_ENTITIES 4096u

typedef struct _MeroStateReadView MeroStateReadView;
typedef struct _MeroSnapshotWriter MeroSnapshotWriter;

/* @heads: n x 32 bytes, copied (the DAG heads matching the committed
 * state now). */
MeroStateReadView *mero_state_read_view_new (MeroState *state, const guint8 *heads, gsize n_heads,
                                             GError **error);
void mero_state_read_view_boundary (MeroStateReadView *view, guint8 root[32],
                                    const guint8 **heads, gsize *n_heads);
gboolean mero_state_read_view_page (MeroStateReadView *view, const guint8 *cursor,
                                    MeroStateEntity *out, gsize max, gsize *n_out,
                                    gboolean *more, GError **error);
void mero_state_read_view_free (MeroStateReadView *view);

/* Called after the writer's batch committed with the boundary heads
 * (to refresh caches such as the delta store's heads and root). */
typedef gboolean (*MeroSnapshotInstalledFunc) (gpointer data, GError **error);
/* Queues the boundary heads (n x 32) in @batch. */
typedef void (*MeroSnapshotQueueHeadsFunc) (gpointer data, MeroStoreBatch *batch,
                                            const guint8 *heads, gsize n_heads);

typedef struct {
  MeroSnapshotQueueHeadsFunc queue_heads;
  MeroSnapshotInstalledFunc installed;
  gpointer data;
} MeroSnapshotDagHooks;

/* See MeroStateAccess.snapshot_begin.  @hooks may be NULL (a state
 * without a DAG, as in the simulator). */
MeroSnapshotWriter *mero_state_snapshot_begin (MeroState *state, const MeroSnapshotDagHooks *hooks,
                                               const guint8 boundary_root[32], gboolean resync,
                                               guint8 resume_cursor[32], gboolean *resumed,
                                               GError **error);
gboolean mero_state_snapshot_put_page (MeroSnapshotWriter *w, const MeroStateEntity *entities,
                                       gsize n, GError **error);
gboolean mero_state_snapshot_commit (MeroSnapshotWriter *w, const guint8 *heads, gsize n_heads,
                                     GError **error);
gboolean mero_state_snapshot_abort (MeroSnapshotWriter *w, GError **error);
void mero_state_snapshot_free (MeroSnapshotWriter *w);

/* At open: a marker left by a crash drops the staging (and the marker);
 * *recovered = TRUE if there was one. */
gboolean mero_state_snapshot_recover (MeroState *state, gboolean *recovered, GError **error);
/* TRUE while a snapshot is staged for this context (marker present). */
gboolean mero_state_snapshot_in_progress (MeroState *state, gboolean *in_progress,
                                          GError **error);

G_END_DECLS
