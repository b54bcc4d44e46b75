/* mero-delta-body.h: the content-addressed part of a delta
 * (DeltaBody in sdk/proto/mero-delta.proto). */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-limits.h"
#include "context/state/mero-state.h"

G_BEGIN_DECLS

typedef struct _MeroDeltaBody MeroDeltaBody;

/* Encodes once; the returned bytes are the delta (id = sha256 of them).
 * NULL with MERO_DELTA_ERROR_TOO_LARGE past a bound. */
GBytes *mero_delta_body_encode (const guint8 *parents, guint n_parents, const MeroHlc *hlc,
                                const MeroAction *actions, guint n_actions, GError **error);

/* Decodes and checks bounds and field sizes (MALFORMED, TOO_LARGE).
 * Duplicate parents are malformed. */
MeroDeltaBody *mero_delta_body_decode (const guint8 *bytes, gsize len, GError **error);
void mero_delta_body_free (MeroDeltaBody *body);

guint mero_delta_body_n_parents (const MeroDeltaBody *body);
const guint8 *mero_delta_body_parent (const MeroDeltaBody *body, guint i);  /* 32 bytes */
const MeroHlc *mero_delta_body_hlc (const MeroDeltaBody *body);
guint mero_delta_body_n_actions (const MeroDeltaBody *body);
/* Borrowed; data points into @body. */
const MeroAction *mero_delta_body_action (const MeroDeltaBody *body, guint i);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDeltaBody, mero_delta_body_free)

G_END_DECLS
