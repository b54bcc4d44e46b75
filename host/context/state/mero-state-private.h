/* mero-state-private.h: shared between the state engine's files. */
#pragma once

#include "context/state/mero-state.h"

struct _MeroState {
  MeroStore *store;
  guint8 ctx[MERO_ENTITY_ID_LEN];
};

/* Appends the committed child index of @parent (MeroEntityChildHash).
 * The _in variant reuses @it, an iterator over the context's state (or
 * over @parent's children), for many scans without making an iterator
 * each time. */
gboolean mero_state_scan_index_in (MeroState *state, MeroStoreIter *it,
                                   const guint8 parent[MERO_ENTITY_ID_LEN], GArray *out,
                                   GError **error);
gboolean mero_state_scan_index (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                                GArray *out, GError **error);
