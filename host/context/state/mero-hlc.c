#include "context/state/mero-hlc.h"

#include "crypto/mero-sha256.h"

G_DEFINE_QUARK (mero-hlc-error-quark, mero_hlc_error)

int
mero_hlc_compare (const MeroHlc *a, const MeroHlc *b)
{
  if (a->time != b->time)
    return a->time < b->time ? -1 : 1;
  if (a->node != b->node)
    return a->node < b->node ? -1 : 1;
  return 0;
}

gboolean
mero_hlc_is_zero (const MeroHlc *ts)
{
  return ts->time == 0 && ts->node == 0;
}

void
mero_hlc_clock_init (MeroHlcClock *clock, guint64 node)
{
  clock->last.time = 0;
  clock->last.node = node;
}

guint64
mero_hlc_node_from_key (const guint8 *public_key, gsize len)
{
  guint8 digest[MERO_SHA256_LEN];
  guint64 node = 0;

  mero_sha256 (public_key, len, digest);
  for (guint i = 0; i < 8; i++)
    node = (node << 8) | digest[i];
  return node;
}

MeroHlc
mero_hlc_clock_now (MeroHlcClock *clock, guint64 physical_ms)
{
  guint64 wall = physical_ms << MERO_HLC_COUNTER_BITS;

  /* Physical time moving backwards (NTP step) must not reorder events:
   * keep counting from the last timestamp instead. */
  clock->last.time = MAX (wall, clock->last.time + 1);
  return clock->last;
}

gboolean
mero_hlc_clock_observe (MeroHlcClock *clock, const MeroHlc *remote, guint64 physical_ms,
                        GError **error)
{
  guint64 remote_ms = mero_hlc_physical_ms (remote);

  if (remote_ms > physical_ms && remote_ms - physical_ms > (guint64) MERO_HLC_MAX_DRIFT_MS)
    {
      g_set_error (error, MERO_HLC_ERROR, MERO_HLC_ERROR_FUTURE,
                   "timestamp %" G_GUINT64_FORMAT " ms is %" G_GUINT64_FORMAT
                   " ms ahead of the local clock (limit %" G_GINT64_FORMAT " ms)",
                   remote_ms, remote_ms - physical_ms, MERO_HLC_MAX_DRIFT_MS);
      return FALSE;
    }
  if (remote->time > clock->last.time)
    clock->last.time = remote->time;
  return TRUE;
}

void
mero_hlc_encode (const MeroHlc *ts, guint8 out[MERO_HLC_ENCODED_LEN])
{
  for (guint i = 0; i < 8; i++)
    {
      out[i] = (guint8) (ts->time >> (56 - 8 * i));
      out[8 + i] = (guint8) (ts->node >> (56 - 8 * i));
    }
}

MeroHlc
mero_hlc_decode (const guint8 in[MERO_HLC_ENCODED_LEN])
{
  MeroHlc ts = { 0, 0 };

  for (guint i = 0; i < 8; i++)
    {
      ts.time = (ts.time << 8) | in[i];
      ts.node = (ts.node << 8) | in[8 + i];
    }
  return ts;
}
