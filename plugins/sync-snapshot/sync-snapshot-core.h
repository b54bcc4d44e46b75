/* sync-snapshot-core.h: the sans-IO sessions of the snapshot protocol.
 *
 * A whole state moves onto a fresh node (all-zero root) or onto one whose
 * operator asked for a resync (MERO_SYNC_HANDSHAKE_RESYNC): never as a
 * merge between two live states, which the other protocols do.
 *
 * The initiator OPENs; the responder takes a consistent read view of its
 * state (a store snapshot through MeroStateAccess.read_view_new, so its
 * own writes during the session do not tear the pages) and answers with
 * the view's BOUNDARY: root and DAG heads.  The initiator begins the
 * host's snapshot writer on that root, which resumes from the last staged
 * page when a cut session with the same boundary left one, and asks for
 * pages after its cursor (NEXT), one zstd-compressed PAGE per round trip.
 * Each page is staged by the host in one batch with the cursor.  After
 * the last page the writer builds the state, checks its root against the
 * boundary root and only then commits it together with the boundary
 * heads; a mismatch (a tampered page, a wrong announced root) commits
 * nothing and drops the staging.  The initiator then sends DONE.
 *
 * StateDeltas that arrive during the session are the host's business
 * (its DeltaBuffer replays them after the commit). */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Per-session bounds (each refusal counted with its reason in
 * mero_sync_refusals_total{protocol="sync-snapshot",reason}). */
#define SYNC_SNAPSHOT_MAX_PAGES_PER_SESSION 100000u
#define SYNC_SNAPSHOT_MAX_ENTITIES_PER_SESSION 10000000u
#define SYNC_SNAPSHOT_MAX_BYTES_PER_SESSION (G_GUINT64_CONSTANT (4) << 30)
#define SYNC_SNAPSHOT_SESSION_TIMEOUT_US (G_GINT64_CONSTANT (900) * G_USEC_PER_SEC)
#define SYNC_SNAPSHOT_IDLE_TIMEOUT_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)
/* Entities the responder reads for one page (the page may carry fewer
 * when their bytes reach SYNC_SNAPSHOT_PAGE_BUDGET). */
#define SYNC_SNAPSHOT_PAGE_ENTITIES 2048u
/* cost() of an applicable snapshot: below any merge protocol's, so a
 * fresh node always takes a snapshot. */
#define SYNC_SNAPSHOT_COST 1u

typedef struct {
  const MeroHostServices *host;
  const char *name;             /* plugin name, log domain */
} SyncSnapshotConfig;

typedef struct _SyncSnapshotSession SyncSnapshotSession;

uint64_t sync_snapshot_cost (const SyncSnapshotConfig *config, const MeroSyncHandshake *local,
                             const MeroSyncHandshake *remote);

SyncSnapshotSession *sync_snapshot_session_new (const SyncSnapshotConfig *config,
                                                const MeroSyncSessionParams *params,
                                                GError **error);
gboolean sync_snapshot_session_recv (SyncSnapshotSession *s, const uint8_t *data, size_t len,
                                     int64_t now_us, GError **error);
GBytes *sync_snapshot_session_pull_send (SyncSnapshotSession *s);
int64_t sync_snapshot_session_next_deadline (SyncSnapshotSession *s);
gboolean sync_snapshot_session_handle_deadline (SyncSnapshotSession *s, int64_t now_us,
                                                GError **error);
MeroSyncStatus sync_snapshot_session_status (SyncSnapshotSession *s);
void sync_snapshot_session_get_stats (SyncSnapshotSession *s, MeroSyncSessionStats *out);
/* A writer neither committed nor aborted keeps its staging: a retry with
 * the same boundary resumes from the last staged page. */
void sync_snapshot_session_free (SyncSnapshotSession *s);

G_END_DECLS
