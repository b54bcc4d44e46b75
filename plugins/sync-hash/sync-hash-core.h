/* sync-hash-core.h: the sans-IO sessions of the sync-hash protocol (and of
 * its breadth-first variant, sync-levelwise).
 *
 * Merkle comparison down the physical entity tree (entities and the
 * bucket levels under each, MeroStateAccess).  The initiator keeps a
 * frontier of nodes whose hashes differ and asks for ALL of them in one
 * request; the responder answers each with the node's entity record (for
 * an entity node) and the hashes of its live children.  The initiator
 * merges the records through the host's CRDT writer, queues its own
 * version of every entity that differs (or that only it has) for the next
 * request, and puts the children whose hashes differ (or that only one
 * side has) in the next frontier.  So a round trip covers one level of the
 * tree, and both sides end equal: the responder merges what the initiator
 * pushes, the initiator what the responder answers.  A child only one side
 * has is still asked for, because the other side may hold its tombstone.
 *
 * When the frontier and the push queue are empty the initiator compares
 * its root with the responder's (carried by every reply); equal: it sends
 * DONE.  Otherwise it starts a new pass from the root, at most
 * SYNC_HASH_MAX_PASSES times (a merge refused for ordering, or a concurrent
 * local write, can leave a pass short).
 *
 * Levelwise mode asks for the logical children of every differing entity
 * directly (the responder walks its bucket levels): one logical level per
 * round trip for wide shallow trees, at the price of every child hash of a
 * differing entity on the wire.
 *
 * Every message is merged with one writer committed at its end: a session
 * cut anywhere leaves each side with whole messages applied (consistent
 * hashes) and a retry converges. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Per-session bounds (each refusal counted with its reason in
 * mero_sync_refusals_total{protocol,reason}). */
#define SYNC_HASH_MAX_REQUESTS_PER_SESSION 4096u
#define SYNC_HASH_MAX_ENTITIES_PER_SESSION 2000000u
#define SYNC_HASH_MAX_BYTES_PER_SESSION (G_GUINT64_CONSTANT (1) << 30)
#define SYNC_HASH_SESSION_TIMEOUT_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)
#define SYNC_HASH_IDLE_TIMEOUT_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)
#define SYNC_HASH_MAX_PASSES 3u
/* Soft budgets of one message (a single answer may exceed them). */
#define SYNC_HASH_REPLY_BUDGET (2u * 1024 * 1024)
#define SYNC_HASH_PUSH_BUDGET (2u * 1024 * 1024)
/* Differing paths sync_hash_cost assumes. */
#define SYNC_HASH_COST_PATHS 256u
/* Levelwise: logical children of one entity in one answer. */
#define SYNC_LEVELWISE_MAX_CHILDREN 65536u

typedef struct {
  const MeroHostServices *host;
  const char *name;           /* plugin name, log domain */
  const char *protocol_label; /* the plugin name ("sync-hash", "sync-levelwise"): metric label, as the SyncManager labels */
  gboolean levelwise;
} SyncHashConfig;

typedef struct _SyncHashSession SyncHashSession;

uint64_t sync_hash_cost (const SyncHashConfig *config, const MeroSyncHandshake *local,
                         const MeroSyncHandshake *remote);

SyncHashSession *sync_hash_session_new (const SyncHashConfig *config,
                                        const MeroSyncSessionParams *params, GError **error);
gboolean sync_hash_session_recv (SyncHashSession *s, const uint8_t *data, size_t len,
                                 int64_t now_us, GError **error);
GBytes *sync_hash_session_pull_send (SyncHashSession *s);
int64_t sync_hash_session_next_deadline (SyncHashSession *s);
gboolean sync_hash_session_handle_deadline (SyncHashSession *s, int64_t now_us, GError **error);
MeroSyncStatus sync_hash_session_status (SyncHashSession *s);
void sync_hash_session_get_stats (SyncHashSession *s, MeroSyncSessionStats *out);
void sync_hash_session_free (SyncHashSession *s);

G_END_DECLS
