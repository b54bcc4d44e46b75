/* mero-state-private.h: shared between the state engine's files. */
#pragma once

#include "context/state/mero-state.h"

struct _MeroState {
  MeroStore *store;
  guint8 ctx[MERO_ENTITY_ID_LEN];
};

/* Appends the committed child index of @parent (MeroEntityChildHash). */
gboolean mero_state_scan_index (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                                GArray *out, GError **error);
