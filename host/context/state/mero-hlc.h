/* mero-hlc.h: hybrid logical clock (DESIGN §8).
 *
 * A timestamp is (time, node).  time packs the physical clock in
 * milliseconds since the Unix epoch (upper 48 bits) with a logical counter
 * (lower 16 bits), so plain integer comparison orders timestamps and a
 * counter overflow simply carries into the millisecond.  node is the first
 * 8 bytes (big-endian) of sha256 of the writer's public key and breaks ties
 * between different writers, so the order is total and the same on every
 * replica.
 *
 * The clock itself is sans-IO: the caller passes the physical time. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_HLC_COUNTER_BITS 16
/* Remote timestamps further ahead of our physical clock are refused. */
#define MERO_HLC_MAX_DRIFT_MS G_GINT64_CONSTANT (5000)
/* Encoded size: time and node, both big-endian. */
#define MERO_HLC_ENCODED_LEN 16

typedef struct {
  guint64 time;   /* (physical_ms << 16) | counter */
  guint64 node;
} MeroHlc;

typedef struct {
  MeroHlc last;   /* last timestamp issued or observed */
} MeroHlcClock;

#define MERO_HLC_ERROR (mero_hlc_error_quark ())
GQuark mero_hlc_error_quark (void);

typedef enum {
  MERO_HLC_ERROR_FUTURE = 1,   /* remote timestamp too far ahead */
} MeroHlcError;

static inline guint64
mero_hlc_physical_ms (const MeroHlc *ts)
{
  return ts->time >> MERO_HLC_COUNTER_BITS;
}

/* <0, 0, >0 as @a orders before, equal to, after @b. */
int mero_hlc_compare (const MeroHlc *a, const MeroHlc *b);
gboolean mero_hlc_is_zero (const MeroHlc *ts);

void mero_hlc_clock_init (MeroHlcClock *clock, guint64 node);
/* node id for a writer key: first 8 bytes of sha256(public key), big-endian. */
guint64 mero_hlc_node_from_key (const guint8 *public_key, gsize len);

/* A new timestamp, strictly after every one issued or observed so far.
 * @physical_ms: wall clock now. */
MeroHlc mero_hlc_clock_now (MeroHlcClock *clock, guint64 physical_ms);

/* Observes a remote timestamp so that later local ones order after it.
 * Refuses (MERO_HLC_ERROR_FUTURE) one more than MERO_HLC_MAX_DRIFT_MS ahead
 * of @physical_ms, leaving the clock unchanged. */
gboolean mero_hlc_clock_observe (MeroHlcClock *clock, const MeroHlc *remote,
                                 guint64 physical_ms, GError **error);

void mero_hlc_encode (const MeroHlc *ts, guint8 out[MERO_HLC_ENCODED_LEN]);
MeroHlc mero_hlc_decode (const guint8 in[MERO_HLC_ENCODED_LEN]);

G_END_DECLS
