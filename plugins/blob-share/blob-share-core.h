/* blob-share-core.h: the sans-IO sessions of /calimero/blob/1.
 *
 * One session is one request on one stream.  The initiator (the node
 * fetching) sends a REQUEST naming the context, the blob and a chunk
 * range, signed by the host with this node's identity; the responder has
 * the host authorise it (signature, time window, current membership),
 * answers with a HEADER (size, and the leaf hashes if asked), streams the
 * range's chunks in order and ends with END, or answers ERROR.  The
 * initiator hands the leaves and each chunk to the host, which verifies
 * them before anything touches the disk; a chunk that fails is refused,
 * counted, and ends the session (the host's fetch drops that provider and
 * asks another).  Bounds: frames (blob-share-wire.h), chunks per request
 * (BLOB_SHARE_MAX_RANGE, which is also what one session has in flight),
 * the time to the request, between frames and for the whole session.
 *
 * It is not a state sync: cost() is never applicable; the host runs it
 * for blob fetches only. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Chunks one request may ask for (4 MiB): a responder refuses more. */
#define BLOB_SHARE_MAX_RANGE 16u
/* Responder: the request must arrive within this time. */
#define BLOB_SHARE_REQUEST_TIMEOUT_US (G_GINT64_CONSTANT (10) * G_USEC_PER_SEC)
/* Initiator: at most this long without a frame, and in all. */
#define BLOB_SHARE_IDLE_TIMEOUT_US (G_GINT64_CONSTANT (15) * G_USEC_PER_SEC)
#define BLOB_SHARE_SESSION_TIMEOUT_US (G_GINT64_CONSTANT (120) * G_USEC_PER_SEC)

/* Metrics (through the host). */
#define BLOB_SHARE_REQUESTS_METRIC "mero_blob_requests_total"
#define BLOB_SHARE_SERVED_METRIC "mero_blob_chunks_served_total"
#define BLOB_SHARE_RECEIVED_METRIC "mero_blob_chunks_received_total"
#define BLOB_SHARE_REFUSED_METRIC "mero_blob_fetch_refused_total"
#define BLOB_SHARE_FAILURES_METRIC "mero_blob_fetch_failures_total"

typedef struct {
  const MeroHostServices *host;
  const char *name;             /* plugin name, log domain */
} BlobShareConfig;

typedef struct _BlobShareSession BlobShareSession;

uint64_t blob_share_cost (const BlobShareConfig *config, const MeroSyncHandshake *local,
                          const MeroSyncHandshake *remote);

BlobShareSession *blob_share_session_new (const BlobShareConfig *config,
                                          const MeroSyncSessionParams *params, GError **error);
gboolean blob_share_session_recv (BlobShareSession *s, const uint8_t *data, size_t len,
                                  int64_t now_us, GError **error);
GBytes *blob_share_session_pull_send (BlobShareSession *s);
int64_t blob_share_session_next_deadline (BlobShareSession *s);
gboolean blob_share_session_handle_deadline (BlobShareSession *s, int64_t now_us,
                                             GError **error);
MeroSyncStatus blob_share_session_status (BlobShareSession *s);
void blob_share_session_get_stats (BlobShareSession *s, MeroSyncSessionStats *out);
void blob_share_session_free (BlobShareSession *s);

G_END_DECLS
