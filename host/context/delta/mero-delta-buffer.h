/* mero-delta-buffer.h: deltas received while a snapshot sync runs.
 *
 * A bounded FIFO: a push past the bound is refused and counted
 * (mero_delta_buffer_dropped_total), never silently lost.  Entries keep
 * the whole envelope, so they can be verified and decrypted on replay
 * (upstream lesson 5).  Draining hands them back in (hlc, id) order, the
 * same on every replica (upstream lesson 4). */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-limits.h"
#include "context/state/mero-hlc.h"
#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

typedef struct _MeroDeltaBuffer MeroDeltaBuffer;

/* @capacity 0 = MERO_DELTA_BUFFER_MAX; @metrics NULL = default instance. */
MeroDeltaBuffer *mero_delta_buffer_new (guint capacity, MeroMetrics *metrics);
void mero_delta_buffer_free (MeroDeltaBuffer *buffer);

/* FALSE (and counted) when full.  @envelope is referenced. */
gboolean mero_delta_buffer_push (MeroDeltaBuffer *buffer, GBytes *envelope, const MeroHlc *hlc,
                                 const guint8 id[MERO_DELTA_ID_LEN]);
guint mero_delta_buffer_len (MeroDeltaBuffer *buffer);
guint64 mero_delta_buffer_dropped (MeroDeltaBuffer *buffer);
/* Empties the buffer: envelopes (GBytes, transfer full) in (hlc, id)
 * order; an id pushed twice comes out once. */
GPtrArray *mero_delta_buffer_drain (MeroDeltaBuffer *buffer);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDeltaBuffer, mero_delta_buffer_free)

G_END_DECLS
