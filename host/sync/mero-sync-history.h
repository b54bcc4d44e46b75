/* mero-sync-history.h: what the last syncs did, per context and per peer
 * (shown by `meroctl context info` and D-Bus GetContextInfo).
 *
 * Bounded: MERO_SYNC_HISTORY_MAX_PEERS peers per context (the least
 * recently synced one is forgotten first). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_SYNC_HISTORY_MAX_PEERS 16u

typedef struct _MeroSyncHistory MeroSyncHistory;

MeroSyncHistory *mero_sync_history_new (void);
void mero_sync_history_free (MeroSyncHistory *history);   /* NULL-safe */

/* A session of @context_id with @peer (nullable: none found) ended at
 * @when_real_us (wall clock) after @duration_us, with @protocol
 * (nullable: none ran) and @result (a mero_sync_result_to_string()). */
void mero_sync_history_record (MeroSyncHistory *history, const char *context_id,
                               const char *peer, const char *protocol, const char *result,
                               gboolean failure, gint64 when_real_us, gint64 duration_us);
void mero_sync_history_forget (MeroSyncHistory *history, const char *context_id);
/* Consecutive failures of the last sessions of @context_id with @peer
 * (0 if none recorded): peers that keep failing are tried last. */
guint mero_sync_history_peer_failures (MeroSyncHistory *history, const char *context_id,
                                       const char *peer);
/* Sorts @peers (NULL-terminated, in place) by their consecutive failures
 * with @context_id, fewest first; equal ones keep their order. */
void mero_sync_history_order_peers (MeroSyncHistory *history, const char *context_id,
                                    char **peers);

/* (transfer floating) a{sv} of @context_id, empty if it never synced:
 * last_sync (x, us since the epoch), last_protocol (s), last_result (s),
 * last_duration_ms (t), last_peer (s), failures (u, consecutive),
 * sessions (t), peers (aa{sv}: peer, last_sync, last_protocol,
 * last_result, last_duration_ms, failures). */
GVariant *mero_sync_history_to_variant (MeroSyncHistory *history, const char *context_id);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncHistory, mero_sync_history_free)

G_END_DECLS
