/* key-share-core.h: the sans-IO sessions of /calimero/stream/key/1.
 *
 * A node that holds deltas sealed under a group key it lacks asks a
 * current member for it: the initiator (requester) sends the group id
 * and the key ids it wants; the responder (server) has the host seal
 * each key it holds to the requester's identity key, and only if the
 * host finds the requester, as the connection authenticated it, among
 * the group's current members; otherwise it answers with an error.  The
 * initiator has the host open each box with the node's own secret and
 * install it.  Sealing and opening are the host's (MeroKeyAccess): this
 * plugin frames, bounds, times out, refuses and counts, and never holds
 * a raw group key.
 *
 * It is not a state sync: cost() is never applicable and the SyncManager
 * never selects it; the node starts an initiator when it needs a key. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* One request and one answer: the whole exchange within this time. */
#define KEY_SHARE_SESSION_TIMEOUT_US (G_GINT64_CONSTANT (10) * G_USEC_PER_SEC)
/* Label of this protocol's series in mero_sync_refusals_total and
 * mero_sync_failures_total. */
#define KEY_SHARE_PROTOCOL_LABEL "key-share"

typedef struct {
  const MeroHostServices *host;
  const char *name;             /* plugin name, log domain */
} KeyShareConfig;

typedef struct _KeyShareSession KeyShareSession;

uint64_t key_share_cost (const KeyShareConfig *config, const MeroSyncHandshake *local,
                         const MeroSyncHandshake *remote);

KeyShareSession *key_share_session_new (const KeyShareConfig *config,
                                        const MeroSyncSessionParams *params, GError **error);
gboolean key_share_session_recv (KeyShareSession *s, const uint8_t *data, size_t len,
                                 int64_t now_us, GError **error);
GBytes *key_share_session_pull_send (KeyShareSession *s);
int64_t key_share_session_next_deadline (KeyShareSession *s);
gboolean key_share_session_handle_deadline (KeyShareSession *s, int64_t now_us, GError **error);
MeroSyncStatus key_share_session_status (KeyShareSession *s);
void key_share_session_get_stats (KeyShareSession *s, MeroSyncSessionStats *out);
/* Keys the initiator installed (0 for a responder). */
guint key_share_session_installed (KeyShareSession *s);
void key_share_session_free (KeyShareSession *s);

G_END_DECLS
