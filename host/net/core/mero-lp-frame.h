/* mero-lp-frame.h: `uvarint(length) || payload` framing, the unit of
 * identify, gossipsub RPCs and our own node protocol streams.
 *
 * The decoder is incremental: feed it whatever the transport delivered,
 * in any split, and it hands out one complete payload at a time.  It holds
 * at most one frame, so its memory is bounded by the maximum it was
 * created with. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

#define MERO_LP_FRAME_ERROR (mero_lp_frame_error_quark ())
GQuark mero_lp_frame_error_quark (void);

typedef enum {
  MERO_LP_FRAME_ERROR_BAD_LENGTH, /* malformed or non-minimal varint */
  MERO_LP_FRAME_ERROR_TOO_LARGE,  /* announced length above the maximum */
} MeroLpFrameError;

/* Appends `uvarint(len) || payload` to @out.  Returns FALSE (and appends
 * nothing) if @len exceeds @max_payload. */
gboolean mero_lp_frame_encode (GByteArray   *out,
                               const guint8 *payload,
                               gsize         len,
                               gsize         max_payload,
                               GError      **error);

typedef struct _MeroLpDecoder MeroLpDecoder;

/* @max_payload is at most MERO_LP_FRAME_MAX_PAYLOAD. */
MeroLpDecoder *mero_lp_decoder_new (gsize max_payload);
void mero_lp_decoder_free (MeroLpDecoder *self);

/* Consumes bytes of @data until one frame is complete or @data runs out;
 * *consumed says how many were used.  When a frame completed, *frame is
 * set (transfer full); call again with the rest of @data for the next.
 * Returns FALSE on a malformed or oversized length; the decoder is then
 * unusable (the stream has lost its framing). */
gboolean mero_lp_decoder_feed (MeroLpDecoder *self,
                               const guint8  *data,
                               gsize          len,
                               gsize         *consumed,
                               GBytes       **frame,
                               GError       **error);

/* TRUE when no partial frame is buffered (a clean place for EOF). */
gboolean mero_lp_decoder_is_idle (const MeroLpDecoder *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroLpDecoder, mero_lp_decoder_free)

G_END_DECLS
