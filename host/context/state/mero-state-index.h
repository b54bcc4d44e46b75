/* mero-state-index.h: plugin state indexes (SDK ABI 1.2).
 *
 * A SYNC_PROTOCOL plugin that declares an index (index_version,
 * index_update, index_rebuild in its vtable) keeps records of its own
 * about a context's state in the store, so its sessions do not have to
 * read the whole state (sync-reconcile keeps the first coded symbols of
 * its set).  The state engine keeps them in step: every entity record a
 * commit writes or removes is shown to each attached index (old record,
 * new record) and the index's writes go into the same store batch, so
 * state and index commit together or not at all.
 *
 * Layout (GENERIC column, scope = the context id):
 *   version   "state-index/" || tag[8] || 'v'   -> u32 BE index_version
 *   records   "state-index/" || tag[8] || 'r' || plugin key
 * with tag = sha256(plugin name)[0..8).  The version record is written
 * last, in the batch that completes a rebuild: an index without it (never
 * built, or dropped by a wipe) is not maintained and not read; attaching
 * it, or mero_state_indexes_ensure after a snapshot install, rebuilds it
 * once.
 *
 * Not thread-safe, like MeroState. */
#pragma once

#include <mero-sdk.h>

#include "context/state/mero-entity.h"
#include "context/state/mero-state.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

/* Attaches the index of plugin @name (@vtable and @plugin_data borrowed,
 * they must outlive @state) and builds it if the store has none of
 * vtable->index_version: the range is cleared and the plugin's rebuild
 * runs over the whole state (one batch, logged).  A vtable without an
 * index is ignored (TRUE). */
gboolean mero_state_index_attach (MeroState *state, const char *name,
                                  const MeroSyncProtocolVTable *vtable, void *plugin_data,
                                  GError **error);
/* The key range of every plugin index of context @ctx (GENERIC). */
MeroKey mero_state_index_prefix (const guint8 ctx[MERO_ENTITY_ID_LEN]);
/* Number of attached indexes. */
guint mero_state_index_count (MeroState *state);
/* Rebuilds every attached index whose version record is missing (after
 * a wipe, see mero_state_indexes_queue_drop). */
gboolean mero_state_indexes_ensure (MeroState *state, GError **error);
/* Queues in @batch the removal of every attached index (records and
 * version): for writes that bypass the engine (a snapshot wipe). */
gboolean mero_state_indexes_queue_drop (MeroState *state, MeroStoreBatch *batch,
                                        GError **error);

/* The engine's side: @old_e / @new_e (NULL: created / removed) of one
 * entity record in the commit queued in @batch.  Call once per record and
 * commit; @ctx is per commit (NULL-safe free). */
typedef struct _MeroStateIndexCommit MeroStateIndexCommit;
MeroStateIndexCommit *mero_state_index_commit_new (MeroState *state, MeroStoreBatch *batch);
gboolean mero_state_index_commit_record (MeroStateIndexCommit *c, const MeroEntity *old_e,
                                         const MeroEntity *new_e, GError **error);
/* Puts the indexes' writes into the batch (once per record, however
 * often a plugin updated it): call after the last record and before the
 * batch commits.  NULL-safe. */
void mero_state_index_commit_finish (MeroStateIndexCommit *c);
void mero_state_index_commit_free (MeroStateIndexCommit *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStateIndexCommit, mero_state_index_commit_free)

/* The SDK's view of an entity record (full_hash and child_ids empty);
 * data borrowed from @e. */
void mero_state_entity_to_sdk (const MeroEntity *e, MeroStateEntity *out);

/* MeroStateAccess members (mero-state-access.c puts them in its table). */
gboolean mero_state_index_read_version (MeroState *state, const char *plugin, uint32_t *out,
                                        GError **error);
gboolean mero_state_index_read (MeroState *state, const char *plugin, const uint8_t *key,
                                size_t key_len, GBytes **out, GError **error);
gboolean mero_state_index_scan (MeroState *state, const char *plugin, const uint8_t *prefix,
                                size_t prefix_len, MeroIndexScanFunc func, void *data,
                                GError **error);
gboolean mero_index_batch_get (MeroIndexBatch *batch, const uint8_t *key, size_t key_len,
                               GBytes **out, GError **error);
void mero_index_batch_put (MeroIndexBatch *batch, const uint8_t *key, size_t key_len,
                           const uint8_t *value, size_t value_len);
void mero_index_batch_delete (MeroIndexBatch *batch, const uint8_t *key, size_t key_len);

G_END_DECLS
