/* sync-snapshot-session.h: the session state and helpers shared by the
 * initiator (sync-snapshot-initiator.c) and the responder
 * (sync-snapshot-responder.c).  Private to the plugin. */
#pragma once

#include "sync-snapshot-core.h"
#include "sync-snapshot-wire.h"

G_BEGIN_DECLS

struct _SyncSnapshotSession {
  SyncSnapshotConfig config;
  const MeroStateAccess *sa;
  MeroStateHandle *state;
  MeroSyncRole role;
  MeroSyncStatus status;
  MeroSyncSessionStats stats;
  gboolean resync;

  GByteArray *inbuf;
  GQueue outq;                  /* GBytes, whole frames */
  int64_t session_deadline;
  int64_t idle_deadline;
  uint64_t pages;               /* pages sent or received */

  /* Responder. */
  MeroStateReadView *view;
  MeroStateEntity *page_buf;    /* SYNC_SNAPSHOT_PAGE_ENTITIES */

  /* Initiator. */
  MeroSnapshotWriter *writer;
  gboolean have_boundary;
  uint8_t *heads;               /* the boundary's, n_heads x 32 */
  size_t n_heads;
};

void sync_snapshot_count (SyncSnapshotSession *s, const char *metric, const char *reason);
/* Ends the session: counted in mero_sync_failures_total{reason}, logged,
 * and reported through @error.  Returns FALSE for the caller to return. */
gboolean sync_snapshot_fail (SyncSnapshotSession *s, GError **error, int code,
                             const char *reason, const char *format, ...) G_GNUC_PRINTF (5, 6);
gboolean sync_snapshot_refuse (SyncSnapshotSession *s, GError **error, const char *reason,
                               const char *what);
gboolean sync_snapshot_state_failed (SyncSnapshotSession *s, GError **error, GError *cause);
void sync_snapshot_queue (SyncSnapshotSession *s, GBytes *frame);

/* sync-snapshot-initiator.c */
gboolean sync_snapshot_initiator_handle (SyncSnapshotSession *s, SyncSnapshotMsg *m,
                                         GError **error);
/* sync-snapshot-responder.c */
gboolean sync_snapshot_responder_handle (SyncSnapshotSession *s, SyncSnapshotMsg *m,
                                         GError **error);

G_END_DECLS
