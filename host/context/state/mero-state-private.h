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
  /* The newest deleted_at among the tombstones this replica collected
   * (zero: none), cached from its record (mero_state_collected_key). */
  gboolean frontier_loaded;
  MeroHlc frontier;
  /* Attached plugin state indexes (MeroStateIndex *, mero-state-index.h):
   * every commit shows them the entity records it writes or removes. */
  GPtrArray *indexes;
};

typedef struct _MeroStateIndex MeroStateIndex;
void mero_state_index_free (MeroStateIndex *idx);

/* STATE: ctx || 0^32 (the all-zero id is reserved, no entity has it):
 * the collection frontier, an encoded MeroHlc.  Written by the GC in the
 * batch that removes the tombstones. */
MeroKey mero_state_collected_key (MeroState *state);
gboolean mero_state_collected_frontier (MeroState *state, MeroHlc *out, GError **error);

#define MERO_STATE_BUCKET_CACHE_MAX (1u << 16)

/* Buckets live in their own key space.  A bucket id is a sha256 anyone
 * can compute, and an Add may name any 32-byte id: were buckets stored
 * under the entity keys, an author could create an entity with the id of
 * a collection's future bucket and make every later Add under that
 * collection fail on the replicas that saw the squatter first (and pass
 * on the others).  So an entity and a bucket with the same 32 bytes are
 * two different nodes: entity records and indexes use the keys below
 * with a zero or absent suffix, bucket records and indexes use suffixes
 * no entity key has, and no delta can name a bucket at all.
 *
 *   entity record   STATE: ctx || id
 *   entity index    STATE: ctx || id || 0^32
 *   bucket record   STATE: ctx || id || 0^31 || 0x01
 *   bucket index    STATE: ctx || id || 0^31 || 0x02
 *
 * (Bumped MERO_STATE_FORMAT, see mero-state.h.) */
MeroKey mero_state_bucket_key (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN]);

/* The committed bucket @id, through the bucket cache; *out (transfer
 * full) NULL if absent. */
gboolean mero_state_load_bucket (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN],
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
MeroKey mero_state_index_key (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                              gboolean bucket);

/* Appends the committed child index of @parent (an entity, or a bucket
 * when @bucket) (MeroEntityChildHash, in id order). */
gboolean mero_state_read_index (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                                gboolean bucket, GArray *out, GError **error);
