/* reconcile-core.h: the sans-IO sessions of the sync-reconcile protocol.
 *
 * Set reconciliation of entity *versions* with a rateless IBLT (riblt.h):
 * each side's set holds one 24-byte item per stored entity record,
 * tombstones included (an id prefix, the newest time and a hash of the
 * version, reconcile-index.h), so an entity the two sides hold in
 * different versions is a difference on both sides.  The items cost nothing on the wire: only
 * coded symbols, about 1.4 per difference, whatever the number of
 * entities.
 *
 *   initiator                                  responder
 *   SYMBOLS [0, first batch)  ---------------> peel against its own set
 *                             <--------------- MORE n   (not decoded yet)
 *   SYMBOLS [sent, sent + n)  ---------------> ...
 *                             <--------------- RESULT: its versions the
 *                                              initiator lacks + the keys
 *                                              of the initiator's it wants
 *   merge; ENTITIES: the wanted ---------------> merge; FIN: its merged
 *   versions + its merged versions that        versions that differ from
 *   differ from the ones received              the ones received
 *                             <--------------- FIN (responder done)
 *   merge (initiator done)
 *
 * The merged-back versions make a pair of versions converge in one
 * session whichever side's is newer: each side sends its own version, and
 * a side whose merge keeps something the received version lacks sends the
 * merged one back.  A merge is a join, so a second merge-back is never
 * needed.  A tombstone one side collected and the other still holds is a
 * difference until that side collects it too (its merge is a no-op: the
 * collection frontier, mero-state.h); it costs a symbol or two, never a
 * wrong state.
 *
 * The first batch is RECONCILE_FIRST_BATCH symbols (about 7 KB): a
 * difference of 160 versions decodes from it 4 times in 5, 150 about 19
 * in 20 (riblt: 1.42-1.46 symbols a version, 1.55 at the 95th percentile
 * at this size; an entity updated on one side is two versions: its old
 * and its new), so up to ~100 scattered edits usually cost two round
 * trips.  If the responder has not decoded it estimates the whole
 * difference from the residual counts of its cells
 * (riblt_decoder_estimate_difference) and asks for the most of: what
 * that needs with a margin; RECONCILE_MORE_RESIDUAL of the part not yet
 * peeled (a difference just past the batch is mostly peeled and needs
 * few more symbols, where the estimate alone is too rough to tell); and
 * 1/RECONCILE_MORE_MIN_GROWTH of what it has, so a low estimate still
 * converges geometrically.  A larger difference usually costs one more
 * round trip, a low estimate a few more.  No
 * estimate of the difference is in the handshake, and a strata estimator
 * in the first message would cost about as many bytes as the batch it
 * would size; a smaller difference pays the fixed batch (tiny states get
 * a smaller one, reconcile_first_batch).
 *
 * Neither side reads its whole state per session: the first
 * RECONCILE_INDEX_SYMBOLS coded symbols of its set and an item -> entity
 * map are kept in the store by the host, in the batch of every state
 * commit (the plugin state index of SDK ABI 1.2, reconcile-index.h), so a
 * session costs O(d log) work and O(d) bytes.  Past the stored prefix, or
 * on a host without the index, the session builds the whole set from
 * every entity record (O(n), as before).
 *
 * Every received message is merged with one writer committed at its end:
 * a session cut anywhere leaves each side with whole messages applied
 * (consistent hashes) and a retry converges. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Coded symbols in the initiator's first message. */
#define RECONCILE_FIRST_BATCH 240u
/* Symbols asked for per estimated difference when the first batch did not
 * decode (about 1.45 needed, the estimate's ~20 % spread on top). */
#define RECONCILE_MORE_MARGIN 1.7
/* ... and at least this share of the estimated items not yet peeled, and
 * 1/RECONCILE_MORE_MIN_GROWTH of the symbols so far.  Measured over 1,100
 * undecoded first batches of 240 symbols (balanced differences of 150 to
 * 250 versions): a difference of 160-180 needs 8-16 more symbols at the
 * median, 30-40 at the 95th percentile, and the follow-up now asks 55-71
 * (it asked at least 120, half the batch, before) with no more fourth
 * round trips than that (none up to 220 versions, 4 % at 250). */
#define RECONCILE_MORE_RESIDUAL 0.7
#define RECONCILE_MORE_MIN_GROWTH 8u
/* Per-session bounds (each refusal counted with its reason in
 * mero_sync_refusals_total{protocol="reconcile",reason}). */
#define RECONCILE_MAX_SYMBOLS_PER_SESSION 131072u
#define RECONCILE_MAX_DIFFERENCES 131072u
#define RECONCILE_MAX_SET (4u * 1024 * 1024)
#define RECONCILE_MAX_BYTES_PER_SESSION (G_GUINT64_CONSTANT (1) << 30)
#define RECONCILE_SESSION_TIMEOUT_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)
#define RECONCILE_IDLE_TIMEOUT_US (G_GINT64_CONSTANT (30) * G_USEC_PER_SEC)
/* Soft budget of one entities frame (a single entity may exceed it). */
#define RECONCILE_FRAME_BUDGET (2u * 1024 * 1024)
/* Differences cost() assumes: the same as the tree protocols' cost
 * (sync-hash assumes 256 differing paths), so the comparison is fair. */
#define RECONCILE_COST_DIFFERENCES 256u
/* Bytes of one coded symbol on the wire (sum, low 32 bits of the
 * checksum, low byte of the count: reconcile-wire.h). */
#define RECONCILE_SYMBOL_WIRE_BYTES 29u

typedef struct {
  const MeroHostServices *host;
  const char *name;           /* plugin name, log domain */
  const char *protocol_label; /* metric label */
} ReconcileConfig;

typedef struct _ReconcileSession ReconcileSession;

uint64_t reconcile_cost (const ReconcileConfig *config, const MeroSyncHandshake *local,
                         const MeroSyncHandshake *remote);
/* Symbols in the first batch for sets of these sizes. */
uint32_t reconcile_first_batch (uint64_t n_local, uint64_t n_remote);

ReconcileSession *reconcile_session_new (const ReconcileConfig *config,
                                         const MeroSyncSessionParams *params, GError **error);
gboolean reconcile_session_recv (ReconcileSession *s, const uint8_t *data, size_t len,
                                 int64_t now_us, GError **error);
GBytes *reconcile_session_pull_send (ReconcileSession *s);
int64_t reconcile_session_next_deadline (ReconcileSession *s);
gboolean reconcile_session_handle_deadline (ReconcileSession *s, int64_t now_us, GError **error);
MeroSyncStatus reconcile_session_status (ReconcileSession *s);
void reconcile_session_get_stats (ReconcileSession *s, MeroSyncSessionStats *out);
/* Coded symbols the session sent or received, (responder) how many the
 * decoder needed, and the wire bytes of the entities it sent: for the
 * benchmark. */
void reconcile_session_get_symbols (ReconcileSession *s, uint64_t *symbols, uint64_t *used,
                                    uint64_t *entity_bytes);
void reconcile_session_free (ReconcileSession *s);

/* The version items of @state (RIBLT_ITEM_SIZE bytes each, appended to
 * @out), as a session of context @context_id builds them: for the
 * benchmark's anchors, which reconcile the same sets. */
gboolean reconcile_collect_items (const MeroHostServices *host, MeroStateHandle *state,
                                  const uint8_t context_id[32], GByteArray *out,
                                  GError **error);

G_END_DECLS
