/* mero-sync-sched.c: see mero-sync-sched.h. */
#include "sync/mero-sync-sched.h"

typedef struct {
  char *peer;               /* preferred peer of the pending trigger */
  gboolean pending;
  gboolean explicit;        /* an operator asked: ignores back-off and min interval */
  MeroSyncTrigger why;
  gboolean running;
  gint64 deadline;          /* running: the watchdog's */
  gint64 next_periodic;
  gint64 last_start;        /* G_MININT64: never */
  gint64 backoff_until;
  gint64 backoff_us;        /* next back-off length; 0: no failure since the last success */
  guint failures;           /* consecutive */
} CtxSched;

struct _MeroSyncSched {
  gint64 interval_us;
  gint64 min_interval_us;
  guint max_concurrent;
  GRand *rand;
  GHashTable *contexts;     /* id → CtxSched */
  guint running;
};

const char *
mero_sync_result_to_string (MeroSyncResult result)
{
  switch (result)
    {
    case MERO_SYNC_RESULT_OK:
      return "ok";
    case MERO_SYNC_RESULT_IN_SYNC:
      return "in_sync";
    case MERO_SYNC_RESULT_NO_PEER:
      return "no_peer";
    case MERO_SYNC_RESULT_NO_PROTOCOL:
      return "no_protocol";
    case MERO_SYNC_RESULT_REFUSED:
      return "refused";
    case MERO_SYNC_RESULT_TIMEOUT:
      return "timeout";
    case MERO_SYNC_RESULT_FAILED:
    default:
      return "failed";
    }
}

gboolean
mero_sync_result_is_benign (MeroSyncResult result)
{
  return result == MERO_SYNC_RESULT_OK || result == MERO_SYNC_RESULT_IN_SYNC
         || result == MERO_SYNC_RESULT_NO_PEER;
}

static void
ctx_sched_free (CtxSched *c)
{
  g_free (c->peer);
  g_free (c);
}

MeroSyncSched *
mero_sync_sched_new (gint64 interval_us, gint64 min_interval_us, guint max_concurrent,
                     guint32 seed)
{
  MeroSyncSched *sched = g_new0 (MeroSyncSched, 1);

  sched->interval_us = MAX (interval_us, 0);
  sched->min_interval_us = MAX (min_interval_us, 0);
  sched->max_concurrent = MAX (max_concurrent, 1);
  sched->rand = g_rand_new_with_seed (seed);
  sched->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                           (GDestroyNotify) ctx_sched_free);
  return sched;
}

void
mero_sync_sched_free (MeroSyncSched *sched)
{
  if (sched == NULL)
    return;
  g_hash_table_unref (sched->contexts);
  g_rand_free (sched->rand);
  g_free (sched);
}

/* One interval, shifted by up to ±MERO_SYNC_JITTER_PCT percent. */
static gint64
jittered_interval (MeroSyncSched *sched)
{
  gint64 spread = sched->interval_us * MERO_SYNC_JITTER_PCT / 100;

  if (spread <= 0)
    return sched->interval_us;
  return sched->interval_us - spread
         + (gint64) (g_rand_double (sched->rand) * (double) (2 * spread));
}

static CtxSched *
ensure (MeroSyncSched *sched, const char *context_id, gint64 now)
{
  CtxSched *c = g_hash_table_lookup (sched->contexts, context_id);

  if (c != NULL)
    return c;
  if (g_hash_table_size (sched->contexts) >= MERO_SYNC_MAX_CONTEXTS)
    return NULL;
  c = g_new0 (CtxSched, 1);
  c->last_start = G_MININT64;
  c->next_periodic = sched->interval_us > 0 ? now + jittered_interval (sched) : G_MAXINT64;
  g_hash_table_insert (sched->contexts, g_strdup (context_id), c);
  return c;
}

gboolean
mero_sync_sched_add (MeroSyncSched *sched, const char *context_id, gint64 now)
{
  return ensure (sched, context_id, now) != NULL;
}

void
mero_sync_sched_remove (MeroSyncSched *sched, const char *context_id)
{
  CtxSched *c = g_hash_table_lookup (sched->contexts, context_id);

  if (c != NULL && c->running)
    sched->running--;
  g_hash_table_remove (sched->contexts, context_id);
}

void
mero_sync_sched_trigger (MeroSyncSched *sched, const char *context_id, const char *peer,
                         MeroSyncTrigger why, gint64 now)
{
  CtxSched *c = ensure (sched, context_id, now);

  if (c == NULL)
    return;
  /* Merged with a trigger already waiting: the latest peer hint wins, an
   * explicit request stays explicit. */
  c->pending = TRUE;
  if (peer != NULL)
    {
      g_free (c->peer);
      c->peer = g_strdup (peer);
    }
  if (why == MERO_SYNC_TRIGGER_REQUEST)
    c->explicit = TRUE;
  if (!c->explicit || why == MERO_SYNC_TRIGGER_REQUEST)
    c->why = why;
}

/* When a waiting trigger of @c may start (periodic ones included). */
static gint64
ready_at (MeroSyncSched *sched, CtxSched *c)
{
  gint64 at;

  if (c->running)
    return G_MAXINT64;
  if (!c->pending)
    return c->next_periodic == G_MAXINT64 ? G_MAXINT64
                                          : MAX (c->next_periodic, c->backoff_until);
  if (c->explicit)
    return G_MININT64;
  at = c->last_start == G_MININT64 ? G_MININT64 : c->last_start + sched->min_interval_us;
  return MAX (at, c->backoff_until);
}

gboolean
mero_sync_sched_next (MeroSyncSched *sched, gint64 now, char **context_id, char **peer,
                      MeroSyncTrigger *why)
{
  GHashTableIter iter;
  const char *id, *best_id = NULL;
  CtxSched *c, *best = NULL;
  gint64 best_at = G_MAXINT64;

  if (sched->running >= sched->max_concurrent)
    return FALSE;
  /* The longest-waiting context first, ties by id: deterministic. */
  g_hash_table_iter_init (&iter, sched->contexts);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, (gpointer *) &c))
    {
      gint64 at = ready_at (sched, c);

      if (at > now)
        continue;
      if (best == NULL || at < best_at || (at == best_at && g_strcmp0 (id, best_id) < 0))
        {
          best = c;
          best_id = id;
          best_at = at;
        }
    }
  if (best == NULL)
    return FALSE;
  *context_id = g_strdup (best_id);
  if (peer != NULL)
    *peer = g_steal_pointer (&best->peer);
  else
    g_clear_pointer (&best->peer, g_free);
  if (why != NULL)
    *why = best->pending ? best->why : MERO_SYNC_TRIGGER_TICK;
  best->pending = FALSE;
  best->explicit = FALSE;
  best->running = TRUE;
  best->deadline = now + MERO_SYNC_SESSION_DEADLINE_US;
  best->last_start = now;
  sched->running++;
  return TRUE;
}

void
mero_sync_sched_finish (MeroSyncSched *sched, const char *context_id, MeroSyncResult result,
                        gint64 now)
{
  CtxSched *c = g_hash_table_lookup (sched->contexts, context_id);

  if (c == NULL || !c->running)
    return;
  c->running = FALSE;
  sched->running--;
  if (sched->interval_us > 0)
    c->next_periodic = now + jittered_interval (sched);
  if (mero_sync_result_is_benign (result))
    {
      c->failures = 0;
      c->backoff_us = 0;
      c->backoff_until = 0;
      return;
    }
  c->failures++;
  c->backoff_us = c->backoff_us == 0 ? MERO_SYNC_BACKOFF_FIRST_US
                                     : MIN (c->backoff_us * 2, MERO_SYNC_BACKOFF_MAX_US);
  c->backoff_until = now + c->backoff_us;
}

GStrv
mero_sync_sched_expired (MeroSyncSched *sched, gint64 now)
{
  g_autoptr (GStrvBuilder) out = g_strv_builder_new ();
  GHashTableIter iter;
  const char *id;
  CtxSched *c;

  g_hash_table_iter_init (&iter, sched->contexts);
  while (g_hash_table_iter_next (&iter, (gpointer *) &id, (gpointer *) &c))
    if (c->running && now >= c->deadline)
      g_strv_builder_add (out, id);
  return g_strv_builder_end (out);
}

gint64
mero_sync_sched_next_wakeup (MeroSyncSched *sched, gint64 now)
{
  GHashTableIter iter;
  CtxSched *c;
  gint64 at = G_MAXINT64;

  g_hash_table_iter_init (&iter, sched->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &c))
    {
      if (c->running)
        at = MIN (at, c->deadline);
      else if (sched->running < sched->max_concurrent)
        at = MIN (at, ready_at (sched, c));
    }
  return at == G_MININT64 ? now : at;
}

guint
mero_sync_sched_running (MeroSyncSched *sched)
{
  return sched->running;
}

guint
mero_sync_sched_failures (MeroSyncSched *sched, const char *context_id)
{
  CtxSched *c = g_hash_table_lookup (sched->contexts, context_id);

  return c != NULL ? c->failures : 0;
}

gint64
mero_sync_sched_backoff_until (MeroSyncSched *sched, const char *context_id)
{
  CtxSched *c = g_hash_table_lookup (sched->contexts, context_id);

  return c != NULL ? c->backoff_until : 0;
}

GStrv
mero_sync_select_peers (const char *hint, const char *const *members,
                        const char *const *topic_peers, MeroSyncIsMemberFunc is_member,
                        gpointer user_data, const char *self_id)
{
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  const char *const *lists[2] = { members, topic_peers };

  for (int pass = -1; pass < 2; pass++)
    {
      const char *one[2] = { hint, NULL };
      const char *const *list = pass < 0 ? one : lists[pass];

      for (guint i = 0; list != NULL && list[i] != NULL; i++)
        {
          const char *p = list[i];
          gboolean seen = FALSE;

          if (out->len >= MERO_SYNC_MAX_PEERS_PER_SESSION)
            break;
          if (g_strcmp0 (p, self_id) == 0 || !is_member (p, user_data))
            continue;
          for (guint j = 0; j < out->len && !seen; j++)
            seen = g_str_equal (g_ptr_array_index (out, j), p);
          if (!seen)
            g_ptr_array_add (out, g_strdup (p));
        }
    }
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

GArray *
mero_sync_select_protocols (const guint64 *costs, guint n)
{
  GArray *order = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n; i++)
    {
      guint at = order->len;

      if (costs[i] == MERO_SYNC_COST_NOT_APPLICABLE)
        continue;
      /* Insertion after every index of equal or lower cost: stable. */
      while (at > 0 && costs[g_array_index (order, guint, at - 1)] > costs[i])
        at--;
      g_array_insert_val (order, at, i);
    }
  return order;
}

GArray *
mero_sync_select_protocols_in_order (const guint64 *costs, guint n)
{
  GArray *order = g_array_new (FALSE, FALSE, sizeof (guint));

  for (guint i = 0; i < n; i++)
    if (costs[i] != MERO_SYNC_COST_NOT_APPLICABLE)
      g_array_append_val (order, i);
  return order;
}
