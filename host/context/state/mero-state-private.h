/* mero-state-private.h: shared between the state engine's files. */
#pragma once

#include "context/state/mero-state.h"

struct _MeroState {
  MeroStore *store;
  guint8 ctx[MERO_ENTITY_ID_LEN];
};

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
