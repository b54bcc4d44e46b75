/* mero-state-private.h: shared between the state engine's files. */
#pragma once

#include "context/state/mero-state.h"

struct _MeroState {
  MeroStore *store;
  guint8 ctx[MERO_ENTITY_ID_LEN];
  /* Committed bucket records, id -> MeroEntity.  A bucket's record never
   * changes once written (its hash lives in its parent's index) and the
   * GC keeps buckets, so a copy read from the store stays true; it saves
   * the point read of each bucket on an update's path, 8 of the ~13 reads
   * of an update two levels down.  Bounded: emptied when full. */
  GHashTable *buckets;
};

#define MERO_STATE_BUCKET_CACHE_MAX (1u << 16)

/* The committed record of @id, through the bucket cache; *out (transfer
 * full) NULL if absent. */
gboolean mero_state_load_entity (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN],
                                 MeroEntity **out, GError **error);

/* The child index of one physical parent is a single record,
 *   STATE: ctx || parent || 0^32  ->  n x (child id[32] || full hash[32])
 * sorted by child id, live children only (absent when there is none).
 * One record per parent rather than one per child: recomputing a level
 * is then one point read, where the per-child layout needed an iterator
 * that stepped over every not-yet-flushed version of the sibling records
 * (all rewritten by earlier updates) and made an apply cost grow with the
 * number of deltas since the last memtable flush.  The pairs are kept in
 * hashing order, so a level's full hash is computed from the record as
 * read.  The all-zero id is reserved for this (Add refuses it). */
MeroKey mero_state_index_key (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN]);

/* Appends the committed child index of @parent (MeroEntityChildHash, in
 * id order). */
gboolean mero_state_read_index (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                                GArray *out, GError **error);
