/* mero-varint.h: multiformats unsigned varint (LEB128, at most 9 bytes,
 * 63 bits), used by multiaddr, multihash, multistream-select and every
 * length-prefixed libp2p frame.  Decoding is strict: the spec requires the
 * minimal encoding, so a padded one is rejected rather than normalised. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

typedef enum {
  MERO_VARINT_OK,
  MERO_VARINT_NEED_MORE, /* the buffer ends inside the varint */
  MERO_VARINT_INVALID,   /* too long, overflowing, or not minimal */
} MeroVarintResult;

/* Number of bytes mero_varint_encode() writes for @value. */
gsize mero_varint_size (guint64 value);

/* Writes @value (at most MERO_VARINT_MAX_VALUE) into @out, which must hold
 * MERO_VARINT_MAX_BYTES, and returns the number of bytes written. */
gsize mero_varint_encode (guint64 value, guint8 *out);

/* Appends the encoding of @value to @out. */
void mero_varint_append (GByteArray *out, guint64 value);

/* Decodes one varint at the start of @data.  On MERO_VARINT_OK, *value and
 * *consumed are set; otherwise they are left alone. */
MeroVarintResult mero_varint_decode (const guint8 *data,
                                     gsize         len,
                                     guint64      *value,
                                     gsize        *consumed);

/* As mero_varint_decode(), but a varint longer than @max_bytes (which is
 * at most MERO_VARINT_MAX_BYTES) is MERO_VARINT_INVALID, so a protocol that
 * caps its length prefix (multistream: 2 bytes) can say so. */
MeroVarintResult mero_varint_decode_limited (const guint8 *data,
                                             gsize         len,
                                             gsize         max_bytes,
                                             guint64      *value,
                                             gsize        *consumed);

G_END_DECLS
