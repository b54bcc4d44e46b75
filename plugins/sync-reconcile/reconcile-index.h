/* reconcile-index.h: what sync-reconcile keeps in the store per context
 * (the plugin state index of SDK ABI 1.2), so a session costs the
 * difference and not the state.
 *
 * The set reconciled is one version item per stored entity record,
 * tombstones included (reconcile_version_item).  A record changes only
 * through a commit, and the host shows each commit's records to
 * reconcile_index_update (old, new) inside that commit's batch, so the
 * index is exactly the set of the committed state:
 *   'S' || u32 index  -> coded symbol index (sum[24] || checksum u64 LE ||
 *                        count i64 LE), for index < RECONCILE_INDEX_SYMBOLS;
 *                        absent = the zero symbol
 *   'I' || u64 hash   -> the entity id of the item with that keyed hash
 *                        (the key the peer's RESULT names, and what a
 *                        decoded local item is looked up by)
 * A change costs about 2 ln(RECONCILE_INDEX_SYMBOLS) ~ 17 symbol updates
 * per version removed or added, plus the 'I' record.
 *
 * Why a prefix of 4,096 symbols: a difference of d versions decodes from
 * ~1.45 d symbols, so 4,096 cover about 2,800 differing versions (1,400
 * entities edited on one side), the sessions the protocol is for; a
 * larger one extends past the prefix from the whole set, read once per
 * session (O(n), as before the index).  The prefix costs 4,096 x 48 bytes
 * = 192 KB per context whatever n, and the 'I' records ~75 bytes per
 * entity record with the host's key prefix. */
#pragma once

#include "reconcile-core.h"
#include "riblt.h"

G_BEGIN_DECLS

/* Change with the layout, the item or RECONCILE_INDEX_SYMBOLS: an index
 * of another version is rebuilt when the host opens the context. */
#define RECONCILE_INDEX_VERSION 1u
#define RECONCILE_INDEX_SYMBOLS 4096u

#define RECONCILE_SYMBOL_KEY_LEN 5u
#define RECONCILE_ITEM_KEY_LEN 9u
#define RECONCILE_SYMBOL_RECORD_LEN (RIBLT_ITEM_SIZE + 16u)

/* The item hash key of context @ctx. */
void reconcile_context_key (const uint8_t ctx[32], uint8_t key[16]);
/* The item of one version (24 bytes, RIBLT_ITEM_SIZE): id[0..12) || the
 * top 6 bytes of the newest of its updated / deleted / cleared times (BE)
 * || sha256(id || own_hash || the six HLC halves)[0..6).  The id prefix
 * lets the decoding side pair the two versions of one entity, and the
 * time guess which one wins, so that usually only that one crosses the
 * wire (reconcile-responder.c).  96 id bits do not collide among any
 * number of entities a context holds (2^-56 at 10^8), and 48 hash bits
 * separate two versions of one entity made in the same time unit.  24
 * rather than 32 bytes: the symbols are most of the session's bytes. */
#define RECONCILE_ITEM_ID_LEN 12u
#define RECONCILE_ITEM_TIME_LEN 6u
G_STATIC_ASSERT (RECONCILE_ITEM_ID_LEN + RECONCILE_ITEM_TIME_LEN < RIBLT_ITEM_SIZE);
void reconcile_version_item (const MeroStateEntity *e, uint8_t out[RIBLT_ITEM_SIZE]);

void reconcile_symbol_key (uint32_t index, uint8_t key[RECONCILE_SYMBOL_KEY_LEN]);
void reconcile_item_key (uint64_t hash, uint8_t key[RECONCILE_ITEM_KEY_LEN]);
void reconcile_symbol_encode (const RibltSymbol *sym, uint8_t out[RECONCILE_SYMBOL_RECORD_LEN]);
gboolean reconcile_symbol_decode (const uint8_t *data, size_t len, RibltSymbol *out);

/* The vtable's index_update and index_rebuild. */
gboolean reconcile_index_update (const ReconcileConfig *config, const uint8_t ctx[32],
                                 MeroIndexBatch *batch, const MeroStateEntity *old_e,
                                 const MeroStateEntity *new_e, GError **error);
gboolean reconcile_index_rebuild (const ReconcileConfig *config, const uint8_t ctx[32],
                                  MeroStateHandle *state, MeroIndexBatch *batch, GError **error);

/* Every stored entity record of @state (tombstones included), from one
 * read view. */
typedef gboolean (*ReconcileRecordFunc) (const MeroStateEntity *e, void *data, GError **error);
gboolean reconcile_for_each_record (const MeroStateAccess *sa, MeroStateHandle *state,
                                    ReconcileRecordFunc func, void *data, GError **error);

/* Sessions: does @state hold this plugin's index at RECONCILE_INDEX_VERSION
 * (FALSE, no error, on a host without indexes)? */
gboolean reconcile_index_usable (const ReconcileConfig *config, MeroStateHandle *state,
                                 GError **error);
/* The stored prefix (RECONCILE_INDEX_SYMBOLS symbols) into @out. */
gboolean reconcile_index_load_prefix (const ReconcileConfig *config, MeroStateHandle *state,
                                      RibltSymbol *out, GError **error);
/* The entity id of the stored item with keyed hash @hash. */
gboolean reconcile_index_find (const ReconcileConfig *config, MeroStateHandle *state,
                               uint64_t hash, uint8_t id[32], gboolean *found, GError **error);

G_END_DECLS
