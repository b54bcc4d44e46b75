/* mero-blob-fetch-sched.c: see mero-blob-fetch-sched.h. */
#include "blob/mero-blob-fetch-sched.h"

#include <string.h>

typedef enum {
  CHUNK_MISSING = 0,
  CHUNK_INFLIGHT = 1,
  CHUNK_HAVE = 2,
} ChunkState;

typedef struct {
  char *peer;
  guint64 inflight;           /* chunks asked and not ended */
  guint ranges;               /* ranges in flight */
  guint failures;
  gboolean dropped;
} Provider;

struct _MeroBlobSched {
  MeroBlobSchedLimits limits;
  guint64 n_chunks, have, inflight;
  guint8 *state;              /* ChunkState per chunk */
  GPtrArray *providers;       /* Provider, in the order added */
  guint turn;                 /* next provider to consider */
  guint64 cursor;             /* where the search for missing chunks starts */
  gint64 deadline_us;
};

void
mero_blob_sched_limits_default (MeroBlobSchedLimits *limits)
{
  limits->range_chunks = 16;
  limits->max_inflight_per_peer = 48;
  limits->max_inflight = 96;
  limits->max_ranges_per_peer = MERO_BLOB_SCHED_MAX_RANGES_PER_PEER;
  limits->max_failures = 2;
  limits->timeout_us = G_GINT64_CONSTANT (30) * 60 * G_USEC_PER_SEC;
}

static void
provider_free (Provider *p)
{
  g_free (p->peer);
  g_free (p);
}

MeroBlobSched *
mero_blob_sched_new (guint64 n_chunks, const MeroBlobSchedLimits *limits, gint64 now_us)
{
  MeroBlobSched *s = g_new0 (MeroBlobSched, 1);

  s->limits = *limits;
  s->limits.range_chunks = MAX (s->limits.range_chunks, 1);
  s->limits.max_inflight_per_peer = MAX (s->limits.max_inflight_per_peer, 1);
  s->limits.max_inflight = MAX (s->limits.max_inflight, 1);
  s->limits.max_ranges_per_peer = MAX (s->limits.max_ranges_per_peer, 1);
  s->n_chunks = n_chunks;
  s->state = g_malloc0 ((gsize) n_chunks);
  s->providers = g_ptr_array_new_with_free_func ((GDestroyNotify) provider_free);
  s->deadline_us = now_us + limits->timeout_us;
  return s;
}

void
mero_blob_sched_free (MeroBlobSched *s)
{
  if (s == NULL)
    return;
  g_ptr_array_unref (s->providers);
  g_free (s->state);
  g_free (s);
}

void
mero_blob_sched_mark_have (MeroBlobSched *s, guint64 index)
{
  if (index >= s->n_chunks || s->state[index] == CHUNK_HAVE)
    return;
  if (s->state[index] == CHUNK_INFLIGHT)
    s->inflight--;
  s->state[index] = CHUNK_HAVE;
  s->have++;
}

static Provider *
find (MeroBlobSched *s, const char *peer)
{
  for (guint i = 0; i < s->providers->len; i++)
    {
      Provider *p = g_ptr_array_index (s->providers, i);

      if (g_strcmp0 (p->peer, peer) == 0)
        return p;
    }
  return NULL;
}

void
mero_blob_sched_add_provider (MeroBlobSched *s, const char *peer)
{
  Provider *p;

  if (peer == NULL || find (s, peer) != NULL)
    return;
  p = g_new0 (Provider, 1);
  p->peer = g_strdup (peer);
  g_ptr_array_add (s->providers, p);
}

/* First missing chunk at or after the cursor, wrapping once. */
static gboolean
first_missing (MeroBlobSched *s, guint64 *out)
{
  for (guint64 k = 0; k < s->n_chunks; k++)
    {
      guint64 i = (s->cursor + k) % s->n_chunks;

      if (s->state[i] == CHUNK_MISSING)
        {
          *out = i;
          return TRUE;
        }
    }
  return FALSE;
}

gboolean
mero_blob_sched_next (MeroBlobSched *s, gint64 now_us, const char **peer, guint64 *first,
                      guint64 *count)
{
  guint64 start, n = 0, room;
  Provider *chosen = NULL;

  if (now_us >= s->deadline_us || s->inflight >= s->limits.max_inflight
      || !first_missing (s, &start))
    return FALSE;
  /* Round robin over the providers with room for a whole range (or what
   * is left of the bound), so the ranges spread. */
  for (guint k = 0; k < s->providers->len; k++)
    {
      Provider *p = g_ptr_array_index (s->providers, (s->turn + k) % s->providers->len);

      if (p->dropped || p->inflight >= s->limits.max_inflight_per_peer
          || p->ranges >= s->limits.max_ranges_per_peer)
        continue;
      chosen = p;
      s->turn = (s->turn + k + 1) % s->providers->len;
      break;
    }
  if (chosen == NULL)
    return FALSE;
  room = MIN ((guint64) s->limits.range_chunks,
              MIN (s->limits.max_inflight_per_peer - chosen->inflight,
                   s->limits.max_inflight - s->inflight));
  while (n < room && start + n < s->n_chunks && s->state[start + n] == CHUNK_MISSING)
    {
      s->state[start + n] = CHUNK_INFLIGHT;
      n++;
    }
  s->inflight += n;
  chosen->inflight += n;
  chosen->ranges++;
  s->cursor = start + n;
  *peer = chosen->peer;
  *first = start;
  *count = n;
  return TRUE;
}

void
mero_blob_sched_chunk_done (MeroBlobSched *s, const char *peer, guint64 index)
{
  Provider *p = find (s, peer);

  if (index >= s->n_chunks || s->state[index] != CHUNK_INFLIGHT)
    return;
  s->state[index] = CHUNK_HAVE;
  s->have++;
  s->inflight--;
  if (p != NULL && p->inflight > 0)
    p->inflight--;
}

void
mero_blob_sched_range_ended (MeroBlobSched *s, const char *peer, guint64 first, guint64 count,
                             MeroBlobRangeOutcome outcome, gint64 now_us)
{
  Provider *p = find (s, peer);

  /* What did not arrive is missing again, for whoever is asked next. */
  for (guint64 i = first; i < first + count && i < s->n_chunks; i++)
    if (s->state[i] == CHUNK_INFLIGHT)
      {
        s->state[i] = CHUNK_MISSING;
        s->inflight--;
        if (p != NULL && p->inflight > 0)
          p->inflight--;
        s->cursor = MIN (s->cursor, i);
      }
  if (p == NULL)
    return;
  if (p->ranges > 0)
    p->ranges--;
  switch (outcome)
    {
    case MERO_BLOB_RANGE_OK:
      p->failures = 0;
      break;
    case MERO_BLOB_RANGE_TRANSIENT:
      if (++p->failures > s->limits.max_failures)
        p->dropped = TRUE;
      break;
    case MERO_BLOB_RANGE_CORRUPT:
    case MERO_BLOB_RANGE_REFUSED:
    default:
      p->dropped = TRUE;
      break;
    }
}

MeroBlobSchedState
mero_blob_sched_state (MeroBlobSched *s, gint64 now_us)
{
  if (s->have == s->n_chunks)
    return MERO_BLOB_SCHED_DONE;
  if (now_us >= s->deadline_us)
    return MERO_BLOB_SCHED_TIMED_OUT;
  /* Nobody left to ask, and nothing in flight that could still land. */
  if (s->inflight == 0 && mero_blob_sched_providers (s) == 0)
    return MERO_BLOB_SCHED_NO_PROVIDER;
  return MERO_BLOB_SCHED_RUNNING;
}

guint64
mero_blob_sched_have_count (MeroBlobSched *s)
{
  return s->have;
}

guint64
mero_blob_sched_inflight (MeroBlobSched *s)
{
  return s->inflight;
}

guint
mero_blob_sched_serving (MeroBlobSched *s)
{
  guint n = 0;

  for (guint i = 0; i < s->providers->len; i++)
    n += ((Provider *) g_ptr_array_index (s->providers, i))->ranges > 0;
  return n;
}

guint
mero_blob_sched_providers (MeroBlobSched *s)
{
  guint n = 0;

  for (guint i = 0; i < s->providers->len; i++)
    n += !((Provider *) g_ptr_array_index (s->providers, i))->dropped;
  return n;
}

gboolean
mero_blob_sched_is_dropped (MeroBlobSched *s, const char *peer)
{
  Provider *p = find (s, peer);

  return p != NULL && p->dropped;
}

gint64
mero_blob_sched_deadline (MeroBlobSched *s)
{
  return s->deadline_us;
}
