/* mero-sync-session.h: the host adapter that drives one sync protocol
 * session (a plugin's sans-IO MeroSyncSession) over one stream.
 *
 * It feeds the stream's bytes with the monotonic time, pulls what the
 * session wants sent and hands it to @write, arms a GSource at the
 * session's next deadline, and calls @end once when the session is DONE
 * or FAILED (or the host's own bounds are crossed).  Nothing blocks the
 * main loop.  Host bounds per session (besides the plugin's own):
 * MERO_SYNC_SESSION_MAX_BYTES in each direction. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

#define MERO_SYNC_SESSION_MAX_BYTES (G_GUINT64_CONSTANT (1) << 30)

typedef struct _MeroSyncDriver MeroSyncDriver;

/* @data (transfer none): bytes to write to the stream. */
typedef void (*MeroSyncDriverWriteFunc) (GBytes *data, gpointer user_data);
/* The session ended: DONE, or FAILED with @reason (a metric label) and
 * @message.  The driver may be freed from inside. */
typedef void (*MeroSyncDriverEndFunc) (MeroSyncDriver *driver, MeroSyncStatus status,
                                       const char *reason, const char *message,
                                       gpointer user_data);

/* @protocol borrowed (the registry outlives the driver); @params as for
 * session_new (copied where needed by the plugin). */
MeroSyncDriver *mero_sync_driver_new (const MeroLoadedSyncProtocol *protocol,
                                      const MeroSyncSessionParams *params,
                                      MeroSyncDriverWriteFunc write, MeroSyncDriverEndFunc end,
                                      gpointer user_data, GError **error);
/* Sends what the session has to say first (the initiator's request),
 * arms its deadline; may end it at once (roots already equal). */
void mero_sync_driver_start (MeroSyncDriver *driver);
/* Bytes from the peer. */
void mero_sync_driver_feed (MeroSyncDriver *driver, const guint8 *data, gsize len);
/* The peer closed or reset the stream: a session not done fails. */
void mero_sync_driver_stream_ended (MeroSyncDriver *driver, gboolean reset);
/* Fails a running session (watchdog, shutdown); @end is called. */
void mero_sync_driver_abort (MeroSyncDriver *driver, const char *reason, const char *message);
void mero_sync_driver_get_stats (MeroSyncDriver *driver, MeroSyncSessionStats *out);
const MeroLoadedSyncProtocol *mero_sync_driver_get_protocol (MeroSyncDriver *driver);
void mero_sync_driver_free (MeroSyncDriver *driver);   /* NULL-safe; never calls @end */

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncDriver, mero_sync_driver_free)

G_END_DECLS
