/* mero-delta-store.c: the DAG bookkeeping around the state engine. */
#include "context/delta/mero-delta-store.h"

#include <string.h>

#include <sodium.h>

#include "context/delta/mero-delta-body.h"
#include "context/delta/mero-delta-pending.h"
#include "context/state/mero-state-snapshot.h"

/* The DAG record's first byte is the context state format (mero-state.h). */
#define META_VERSION MERO_STATE_FORMAT
#define RECORD_APPLIED 1
#define RECORD_PENDING 2
/* A head a state sync made ours (mero_delta_store_add_checkpoints): its
 * effects are in the state, its envelope is not here. */
#define RECORD_CHECKPOINT 3
#define RECORD_HEADER (1 + 8)

typedef struct {
  guint8 b[MERO_DELTA_ID_LEN];
} Id;

/* A head and its delta's timestamp: local commits cite the oldest first. */
typedef struct {
  Id id;
  MeroHlc hlc;
} Head;

struct _MeroDeltaStore {
  MeroStore *store;
  guint8 ctx[MERO_DELTA_ID_LEN];
  MeroState *state;
  guint8 key[MERO_DELTA_KEY_LEN];
  guint8 key_id[MERO_DELTA_ID_LEN];
  gboolean can_write;
  guint8 sk[MERO_DELTA_SECRET_KEY_LEN];
  guint max_pending;
  guint64 max_age_ms;
  MeroDeltaAuthorizeFunc authorize;
  gpointer authorize_data;
  MeroDeltaClockFunc clock;
  gpointer clock_data;
  MeroMetrics *metrics;
  MeroDeltaKeyLookupFunc key_lookup;
  gpointer key_lookup_data;
  MeroHlcClock hlc;
  GArray *heads;          /* Head, sorted by id, at most MERO_DELTA_MAX_HEADS */
  GArray *head_ids;       /* Id, the ids of @heads (mero_delta_store_heads) */
  GPtrArray *merges;      /* GBytes: merge deltas not yet taken by the node */
  GThreadPool *pool;      /* receive_many's envelope openers (lazy) */
  guint64 retention_ms;
  /* Debug guard against concurrent use (the store is not thread-safe). */
  gint busy;
  GArray *gov_heads;      /* Id */
  guint8 root[MERO_HASH_LEN];
  MeroDeltaPending *pending;
};

/* The store is not thread-safe: the node serialises every call for one
 * context (on its main thread).  Two calls running at once would
 * interleave read-modify-writes of the DAG record and the child indexes;
 * catch that in checked builds rather than corrupt state silently. */
#ifndef G_DISABLE_CHECKS
#define ENTER(ds)                                                                  \
  G_STMT_START {                                                                   \
    if (!g_atomic_int_compare_and_exchange (&(ds)->busy, 0, 1))                   \
      g_critical ("%s: MeroDeltaStore used by two threads at once (not thread-safe)", \
                  G_STRFUNC);                                                      \
  } G_STMT_END
#define LEAVE(ds) g_atomic_int_set (&(ds)->busy, 0)
#else
#define ENTER(ds) G_STMT_START { } G_STMT_END
#define LEAVE(ds) G_STMT_START { } G_STMT_END
#endif

static guint64
now_ms (MeroDeltaStore *ds)
{
  if (ds->clock != NULL)
    return ds->clock (ds->clock_data);
  return (guint64) (g_get_real_time () / 1000);
}

static void
count (MeroDeltaStore *ds, const char *name, const char *reason)
{
  g_autofree char *labels = reason != NULL ? g_strdup_printf ("reason=\"%s\"", reason) : NULL;

  mero_metrics_counter_add (ds->metrics, name, labels, 1, NULL);
}

static gboolean
reject (MeroDeltaStore *ds, GError **error)
{
  int code = (error != NULL && *error != NULL && (*error)->domain == MERO_DELTA_ERROR)
               ? (*error)->code : 0;

  count (ds, "mero_delta_rejected_total", mero_delta_error_reason (code));
  return FALSE;
}

static const guint8 *
lookup_key (const guint8 key_id[MERO_DELTA_ID_LEN], gpointer user_data)
{
  MeroDeltaStore *ds = user_data;

  if (memcmp (key_id, ds->key_id, MERO_DELTA_ID_LEN) == 0)
    return ds->key;
  /* Older (or newer) keys of the context: the node's key ring. */
  return ds->key_lookup != NULL ? ds->key_lookup (key_id, ds->key_lookup_data) : NULL;
}

static int
id_cmp (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, MERO_DELTA_ID_LEN);
}

/* ---- persisted records ------------------------------------------------ */

/* DAG record (format MERO_STATE_FORMAT):
 *   version || clock hlc[16] || n (u32 BE) || n x (head id[32] || hlc[16]) */
#define HEAD_ENCODED_LEN (MERO_DELTA_ID_LEN + MERO_HLC_ENCODED_LEN)

static void
heads_changed (MeroDeltaStore *ds)
{
  g_array_set_size (ds->head_ids, ds->heads->len);
  for (guint i = 0; i < ds->heads->len; i++)
    g_array_index (ds->head_ids, Id, i) = g_array_index (ds->heads, Head, i).id;
}

static GBytes *
meta_encode (MeroDeltaStore *ds)
{
  GByteArray *buf = g_byte_array_sized_new (1 + MERO_HLC_ENCODED_LEN + 4
                                            + ds->heads->len * HEAD_ENCODED_LEN);
  guint8 v = META_VERSION;
  guint8 hlc[MERO_HLC_ENCODED_LEN];
  guint32 n = GUINT32_TO_BE (ds->heads->len);

  mero_hlc_encode (&ds->hlc.last, hlc);
  g_byte_array_append (buf, &v, 1);
  g_byte_array_append (buf, hlc, sizeof hlc);
  g_byte_array_append (buf, (const guint8 *) &n, 4);
  for (guint i = 0; i < ds->heads->len; i++)
    {
      const Head *h = &g_array_index (ds->heads, Head, i);

      mero_hlc_encode (&h->hlc, hlc);
      g_byte_array_append (buf, h->id.b, MERO_DELTA_ID_LEN);
      g_byte_array_append (buf, hlc, sizeof hlc);
    }
  return g_byte_array_free_to_bytes (buf);
}

static gboolean
meta_load (MeroDeltaStore *ds, GError **error)
{
  MeroKey key = mero_key_context_dag (ds->ctx);
  g_autoptr (GBytes) v = NULL;
  const guint8 *p;
  gsize len = 0;
  guint32 n;

  if (!mero_store_get (ds->store, &key, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  p = g_bytes_get_data (v, &len);
  if (len >= 1 && p[0] != META_VERSION)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_FORMAT,
                   "the context's state was stored in format %u; this build reads format %u "
                   "(remove the context's data and sync it again)",
                   p[0], META_VERSION);
      return FALSE;
    }
  if (len < 1 + MERO_HLC_ENCODED_LEN + 4)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT, "bad delta DAG record");
      return FALSE;
    }
  {
    /* Only the time: the node part is ours, from the author key. */
    MeroHlc stored = mero_hlc_decode (p + 1);

    ds->hlc.last.time = stored.time;
  }
  memcpy (&n, p + 1 + MERO_HLC_ENCODED_LEN, 4);
  n = GUINT32_FROM_BE (n);
  if ((gsize) n * HEAD_ENCODED_LEN != len - (1 + MERO_HLC_ENCODED_LEN + 4))
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT, "bad delta DAG heads");
      return FALSE;
    }
  p += 1 + MERO_HLC_ENCODED_LEN + 4;
  for (guint32 i = 0; i < n; i++, p += HEAD_ENCODED_LEN)
    {
      Head h;

      memcpy (h.id.b, p, MERO_DELTA_ID_LEN);
      h.hlc = mero_hlc_decode (p + MERO_DELTA_ID_LEN);
      g_array_append_val (ds->heads, h);
    }
  heads_changed (ds);
  return TRUE;
}

static void
record_put (MeroStoreBatch *batch, MeroDeltaStore *ds, const guint8 *id, guint8 status,
            guint64 received_ms, const guint8 *env, gsize env_len)
{
  MeroKey key = mero_key_delta (ds->ctx, id);
  g_autofree guint8 *buf = g_malloc (RECORD_HEADER + env_len);
  guint64 be = GUINT64_TO_BE (received_ms);

  buf[0] = status;
  memcpy (buf + 1, &be, 8);
  memcpy (buf + RECORD_HEADER, env, env_len);
  mero_store_batch_put (batch, &key, buf, RECORD_HEADER + env_len);
}

/* *status 0 if absent. */
static gboolean
record_get (MeroDeltaStore *ds, const guint8 *id, guint8 *status, guint64 *received_ms,
            GBytes **envelope, GError **error)
{
  MeroKey key = mero_key_delta (ds->ctx, id);
  g_autoptr (GBytes) v = NULL;
  const guint8 *p;
  gsize len = 0;
  guint64 be;

  *status = 0;
  if (!mero_store_get (ds->store, &key, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  p = g_bytes_get_data (v, &len);
  if (len < RECORD_HEADER)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT, "bad delta record");
      return FALSE;
    }
  *status = p[0];
  memcpy (&be, p + 1, 8);
  if (received_ms != NULL)
    *received_ms = GUINT64_FROM_BE (be);
  if (envelope != NULL)
    *envelope = g_bytes_new_from_bytes (v, RECORD_HEADER, len - RECORD_HEADER);
  return TRUE;
}

gboolean
mero_delta_store_is_applied (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN],
                             gboolean *applied, GError **error)
{
  guint8 status = 0;

  if (!record_get (ds, id, &status, NULL, NULL, error))
    return FALSE;
  *applied = status == RECORD_APPLIED || status == RECORD_CHECKPOINT;
  return TRUE;
}

/* ---- applying ----------------------------------------------------------- */

/* Index of @id in the sorted @heads, or where it would go. */
static guint
heads_find (GArray *heads, const guint8 *id, gboolean *found)
{
  guint lo = 0, hi = heads->len;

  *found = FALSE;
  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = memcmp (g_array_index (heads, Head, mid).id.b, id, MERO_DELTA_ID_LEN);

      if (cmp == 0)
        {
          *found = TRUE;
          return mid;
        }
      if (cmp < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

static int
head_age_cmp (gconstpointer a, gconstpointer b)
{
  const Head *x = a, *y = b;
  int c = mero_hlc_compare (&x->hlc, &y->hlc);

  return c != 0 ? c : memcmp (x->id.b, y->id.b, MERO_DELTA_ID_LEN);
}

/* The parents leave the heads and @id joins them.  Past
 * MERO_DELTA_MAX_HEADS (a peer can open any number of concurrent
 * branches) the oldest head is forgotten: it stays applied, this replica
 * only stops citing it; *dropped counts those. */
static void
heads_advance (GArray *heads, const guint8 *parents, guint n_parents, const guint8 *id,
               const MeroHlc *ts, guint *dropped)
{
  gboolean found = FALSE;
  guint at;
  Head h;

  *dropped = 0;
  for (guint i = 0; i < n_parents; i++)
    {
      at = heads_find (heads, parents + (gsize) i * 32, &found);
      if (found)
        g_array_remove_index (heads, at);
    }
  at = heads_find (heads, id, &found);
  if (!found)
    {
      memcpy (h.id.b, id, MERO_DELTA_ID_LEN);
      h.hlc = *ts;
      g_array_insert_val (heads, at, h);
    }
  while (heads->len > MERO_DELTA_MAX_HEADS)
    {
      guint oldest = 0;

      for (guint i = 1; i < heads->len; i++)
        if (head_age_cmp (&g_array_index (heads, Head, i),
                          &g_array_index (heads, Head, oldest)) < 0)
          oldest = i;
      g_array_remove_index (heads, oldest);
      (*dropped)++;
    }
}

/* Deltas being applied together: their actions go through one state
 * txn (read-your-writes, hashes recomputed once at the end) and their
 * records, the heads, clock and root through one store batch, so a batch
 * of received deltas costs one commit.  Nothing reaches the store or the
 * in-memory DAG until stage_commit; a stage whose stage_apply failed must
 * be dropped whole (stage_clear). */
typedef struct {
  MeroStateTxn *txn;
  MeroStoreBatch *batch;
  GArray *heads;            /* working copy of ds->heads */
  guint dropped;
  guint applied;
  guint64 max_time;
} Stage;

static void
stage_init (MeroDeltaStore *ds, Stage *st)
{
  memset (st, 0, sizeof *st);
  st->txn = mero_state_txn_new (ds->state);
  st->batch = mero_store_batch_new (ds->store);
  st->heads = g_array_copy (ds->heads);
}

static void
stage_clear (Stage *st)
{
  g_clear_pointer (&st->txn, mero_state_txn_free);
  g_clear_pointer (&st->batch, mero_store_batch_free);
  g_clear_pointer (&st->heads, g_array_unref);
}

/* Stages one delta whose parents are all applied (or staged before it). */
static gboolean
stage_apply (MeroDeltaStore *ds, Stage *st, const guint8 *id, const guint8 *parents,
             guint n_parents, const MeroHlc *ts, const MeroAction *actions, guint n_actions,
             const guint8 *env, gsize env_len, guint64 received_ms, gboolean was_pending,
             GError **error)
{
  g_autoptr (GError) local = NULL;
  guint dropped = 0;

  for (guint i = 0; i < n_actions; i++)
    if (!mero_state_txn_apply (st->txn, &actions[i], ts, &local))
      {
        g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_REJECTED,
                     "action %u of the delta: %s", i, local->message);
        return FALSE;
      }
  record_put (st->batch, ds, id, RECORD_APPLIED, received_ms, env, env_len);
  if (was_pending)
    {
      MeroKey pending_key = mero_key_delta_pending (ds->ctx, id);

      mero_store_batch_delete (st->batch, &pending_key);
    }
  heads_advance (st->heads, parents, n_parents, id, ts, &dropped);
  st->dropped += dropped;
  st->applied++;
  st->max_time = MAX (st->max_time, ts->time);
  return TRUE;
}

static gboolean
stage_commit (MeroDeltaStore *ds, Stage *st, GError **error)
{
  g_autoptr (GBytes) meta = NULL;
  MeroKey meta_key = mero_key_context_dag (ds->ctx);
  guint8 root[MERO_HASH_LEN];
  guint stale;

  if (!mero_state_txn_finish (st->txn, st->batch, root, error))
    return FALSE;
  g_array_unref (ds->heads);
  ds->heads = g_steal_pointer (&st->heads);
  heads_changed (ds);
  /* Local writes after these must order after them, however they arrived
   * (directly or by cascade); their distance to our clock was checked on
   * receipt. */
  if (st->max_time > ds->hlc.last.time)
    ds->hlc.last.time = st->max_time;
  meta = meta_encode (ds);
  mero_store_batch_put (st->batch, &meta_key, g_bytes_get_data (meta, NULL),
                        g_bytes_get_size (meta));
  if (!mero_store_batch_commit (st->batch, error))
    {
      /* Roll the in-memory heads and clock back: the store has not changed. */
      g_array_set_size (ds->heads, 0);
      if (!meta_load (ds, NULL))
        g_warning ("delta DAG record unreadable after a failed commit");
      heads_changed (ds);
      return FALSE;
    }
  memcpy (ds->root, root, MERO_HASH_LEN);
  mero_metrics_counter_add (ds->metrics, "mero_delta_applied_total", NULL, st->applied, NULL);
  if (st->dropped > 0)
    mero_metrics_counter_add (ds->metrics, "mero_delta_heads_dropped_total", NULL, st->dropped,
                              NULL);
  stale = mero_state_txn_stale_ignored (st->txn);
  if (stale > 0)
    mero_metrics_counter_add (ds->metrics, "mero_delta_stale_actions_ignored_total", NULL, stale,
                              NULL);
  return TRUE;
}

/* Applies one delta whose parents are all applied: state, record, pending
 * marker, heads, clock and root in one batch.  Nothing changes on error. */
static gboolean
apply_delta (MeroDeltaStore *ds, const guint8 *id, const guint8 *parents, guint n_parents,
             const MeroHlc *ts, const MeroAction *actions, guint n_actions, const guint8 *env,
             gsize env_len, guint64 received_ms, gboolean was_pending, GError **error)
{
  Stage st;
  gboolean ok;

  stage_init (ds, &st);
  ok = stage_apply (ds, &st, id, parents, n_parents, ts, actions, n_actions, env, env_len,
                    received_ms, was_pending, error)
       && stage_commit (ds, &st, error);
  stage_clear (&st);
  return ok;
}

/* Drops a pending delta (and its stored record). */
static void
drop_pending (MeroDeltaStore *ds, const guint8 *id, const char *reason)
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (ds->store);
  MeroKey rk = mero_key_delta (ds->ctx, id);
  MeroKey pk = mero_key_delta_pending (ds->ctx, id);
  g_autoptr (GError) error = NULL;

  mero_store_batch_delete (batch, &rk);
  mero_store_batch_delete (batch, &pk);
  if (!mero_store_batch_commit (batch, &error))
    g_warning ("dropping a pending delta: %s", error->message);
  mero_delta_pending_remove (ds->pending, id);
  count (ds, "mero_delta_pending_evicted_total", reason);
  g_info ("pending delta %02x%02x%02x%02x… dropped: %s", id[0], id[1], id[2], id[3], reason);
}

static gboolean
open_envelope (MeroDeltaStore *ds, const guint8 *env, gsize len, MeroDeltaOpened **opened,
               MeroDeltaBody **body, GError **error)
{
  g_autoptr (MeroDeltaOpened) o = mero_delta_envelope_open (env, len, ds->ctx, lookup_key, ds,
                                                            error);
  g_autoptr (MeroDeltaBody) b = NULL;

  if (o == NULL)
    return FALSE;
  b = mero_delta_body_decode (g_bytes_get_data (o->body, NULL), g_bytes_get_size (o->body), error);
  if (b == NULL)
    return FALSE;
  *opened = g_steal_pointer (&o);
  *body = g_steal_pointer (&b);
  return TRUE;
}

/* Applies @body now (@st NULL) or stages it in @st. */
static gboolean
apply_body (MeroDeltaStore *ds, Stage *st, const guint8 *id, MeroDeltaBody *body,
            const guint8 *env, gsize env_len, guint64 received_ms, gboolean was_pending,
            GError **error)
{
  guint n_parents = mero_delta_body_n_parents (body);
  guint n_actions = mero_delta_body_n_actions (body);
  g_autofree guint8 *parents = g_malloc (MAX (n_parents, 1) * 32);
  g_autofree MeroAction *actions = g_new (MeroAction, MAX (n_actions, 1));

  for (guint i = 0; i < n_parents; i++)
    memcpy (parents + (gsize) i * 32, mero_delta_body_parent (body, i), 32);
  for (guint i = 0; i < n_actions; i++)
    actions[i] = *mero_delta_body_action (body, i);
  if (st != NULL)
    return stage_apply (ds, st, id, parents, n_parents, mero_delta_body_hlc (body), actions,
                        n_actions, env, env_len, received_ms, was_pending, error);
  return apply_delta (ds, id, parents, n_parents, mero_delta_body_hlc (body), actions, n_actions,
                      env, env_len, received_ms, was_pending, error);
}

/* Applies a pending delta that misses nothing any more; FALSE (and the
 * delta dropped, counted) if it does not apply. */
static gboolean
apply_pending (MeroDeltaStore *ds, const guint8 *id)
{
  g_autoptr (GBytes) env = NULL;
  g_autoptr (MeroDeltaOpened) o = NULL;
  g_autoptr (MeroDeltaBody) body = NULL;
  g_autoptr (GError) error = NULL;
  guint8 status = 0;
  guint64 received = 0;

  if (!record_get (ds, id, &status, &received, &env, &error) || status != RECORD_PENDING
      || !open_envelope (ds, g_bytes_get_data (env, NULL), g_bytes_get_size (env), &o, &body,
                         &error)
      || !apply_body (ds, NULL, id, body, g_bytes_get_data (env, NULL), g_bytes_get_size (env),
                      received, TRUE, &error))
    {
      g_warning ("pending delta not applied: %s",
                 error != NULL ? error->message : "record missing");
      drop_pending (ds, id, "rejected");
      return FALSE;
    }
  mero_delta_pending_remove (ds->pending, id);
  return TRUE;
}

/* Applies the pending deltas released by @applied, breadth first. */
static void
cascade (MeroDeltaStore *ds, const guint8 *applied)
{
  g_autoptr (GQueue) todo = g_queue_new ();

  g_queue_push_tail (todo, g_bytes_new (applied, 32));
  while (!g_queue_is_empty (todo))
    {
      g_autoptr (GBytes) done = g_queue_pop_head (todo);
      g_autoptr (GPtrArray) ready = mero_delta_pending_resolve (ds->pending,
                                                                g_bytes_get_data (done, NULL));

      for (guint i = 0; i < ready->len; i++)
        if (apply_pending (ds, g_bytes_get_data (g_ptr_array_index (ready, i), NULL)))
          g_queue_push_tail (todo, g_bytes_ref (g_ptr_array_index (ready, i)));
    }
}

static void
evict (MeroDeltaStore *ds)
{
  guint64 now = now_ms (ds);
  guint8 id[32];
  guint64 received;

  while (mero_delta_pending_oldest (ds->pending, id, &received))
    {
      if (mero_delta_pending_count (ds->pending) > ds->max_pending)
        drop_pending (ds, id, "capacity");
      else if (received + ds->max_age_ms < now)
        drop_pending (ds, id, "age");
      else
        break;
    }
}

void
mero_delta_store_expire (MeroDeltaStore *ds)
{
  ENTER (ds);
  evict (ds);
  LEAVE (ds);
}

/* The checks of an opened delta that need no DAG state: cycle, author,
 * clock. */
static gboolean
check_opened (MeroDeltaStore *ds, MeroDeltaOpened *o, MeroDeltaBody *body, guint64 now,
              GError **error)
{
  const guint8 *id = o->delta_id;
  guint n_parents = mero_delta_body_n_parents (body);

  for (guint i = 0; i < n_parents; i++)
    if (memcmp (mero_delta_body_parent (body, i), id, 32) == 0)
      {
        g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_CYCLE, "delta is its own parent");
        return FALSE;
      }
  if (ds->authorize != NULL)
    {
      g_autoptr (GError) why = NULL;

      if (!ds->authorize (ds->ctx, o->author, o->governance_heads, o->n_governance_heads,
                          ds->authorize_data, &why))
        {
          g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_UNAUTHORIZED,
                       "unauthorized: %s", why != NULL ? why->message : "refused");
          return FALSE;
        }
    }
  {
    g_autoptr (GError) local = NULL;
    MeroHlcClock probe = ds->hlc;

    if (!mero_hlc_clock_observe (&probe, mero_delta_body_hlc (body), now, &local))
      {
        g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_FUTURE, "%s", local->message);
        return FALSE;
      }
  }
  return TRUE;
}

static gboolean
receive_opened (MeroDeltaStore *ds, const guint8 *env, gsize len, MeroDeltaOpened *o,
                MeroDeltaBody *body, MeroDeltaOutcome *outcome, GError **error)
{
  const guint8 *id = o->delta_id;
  guint n_parents = mero_delta_body_n_parents (body);
  g_autofree guint8 *missing = g_malloc (MAX (n_parents, 1) * 32);
  guint n_missing = 0;
  guint8 status = 0;
  guint64 now = now_ms (ds);

  if (!check_opened (ds, o, body, now, error))
    return FALSE;
  if (!record_get (ds, id, &status, NULL, NULL, error))
    return FALSE;
  if (status != 0)
    {
      *outcome = MERO_DELTA_OUTCOME_DUPLICATE;
      return TRUE;
    }
  for (guint i = 0; i < n_parents; i++)
    {
      const guint8 *p = mero_delta_body_parent (body, i);
      gboolean applied = FALSE;

      if (!mero_delta_store_is_applied (ds, p, &applied, error))
        return FALSE;
      if (!applied)
        memcpy (missing + (gsize) n_missing++ * 32, p, 32);
    }
  if (n_missing == 0)
    {
      if (!apply_body (ds, NULL, id, body, env, len, now, FALSE, error))
        return FALSE;
      *outcome = MERO_DELTA_OUTCOME_APPLIED;
      cascade (ds, id);
      return TRUE;
    }
  if (!mero_delta_pending_add (ds->pending, id, missing, n_missing, now, error))
    return FALSE;
  {
    g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (ds->store);
    MeroKey pk = mero_key_delta_pending (ds->ctx, id);
    guint64 be = GUINT64_TO_BE (now);

    record_put (batch, ds, id, RECORD_PENDING, now, env, len);
    mero_store_batch_put (batch, &pk, (const guint8 *) &be, 8);
    if (!mero_store_batch_commit (batch, error))
      {
        mero_delta_pending_remove (ds->pending, id);
        return FALSE;
      }
  }
  *outcome = MERO_DELTA_OUTCOME_PENDING;
  evict (ds);
  return TRUE;
}

gboolean
mero_delta_store_receive (MeroDeltaStore *ds, const guint8 *envelope, gsize len,
                          MeroDeltaOutcome *outcome, GError **error)
{
  g_autoptr (MeroDeltaOpened) o = NULL;
  g_autoptr (MeroDeltaBody) body = NULL;

  g_return_val_if_fail (ds != NULL && outcome != NULL, FALSE);
  ENTER (ds);
  evict (ds);
  if (!open_envelope (ds, envelope, len, &o, &body, error)
      || !receive_opened (ds, envelope, len, o, body, outcome, error))
    {
      LEAVE (ds);
      return reject (ds, error);
    }
  LEAVE (ds);
  return TRUE;
}

/* ---- receiving many ------------------------------------------------------ */

/* Opening (verify, decrypt, decode) is pure and is a large share of a
 * received delta's time: receive_many hands it to worker threads that
 * run ahead of the calling thread, which applies delta i as soon as it is
 * open (opening it itself when no worker has claimed it yet), so the
 * crypto of later deltas overlaps the storage work of earlier ones.
 * Everything that touches the DAG or the store stays on the calling
 * thread. */
typedef struct {
  const guint8 *env;
  gsize len;
  MeroDeltaOpened *o;
  MeroDeltaBody *body;
  GError *error;
  gint opened;              /* atomic: set once o/body/error are final */
} OpenJob;

typedef struct {
  MeroDeltaStore *ds;
  OpenJob *jobs;
  guint n;
  gint next;                /* atomic: next job to claim */
  guint workers_left;
  GMutex lock;
  GCond cond;               /* a job opened, or a worker left */
} OpenWork;

/* Claims and opens one job; FALSE when none is left. */
static gboolean
open_one (OpenWork *w)
{
  guint i = (guint) g_atomic_int_add (&w->next, 1);
  OpenJob *j;

  if (i >= w->n)
    return FALSE;
  j = &w->jobs[i];
  open_envelope (w->ds, j->env, j->len, &j->o, &j->body, &j->error);
  g_mutex_lock (&w->lock);
  g_atomic_int_set (&j->opened, 1);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return TRUE;
}

static void
open_worker (gpointer data, gpointer user_data)
{
  OpenWork *w = data;

  while (open_one (w))
    ;
  g_mutex_lock (&w->lock);
  w->workers_left--;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

static void
open_start (MeroDeltaStore *ds, OpenWork *w, OpenJob *jobs, guint n)
{
  guint helpers = 0;

  memset (w, 0, sizeof *w);
  w->ds = ds;
  w->jobs = jobs;
  w->n = n;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  if (n >= 8)
    {
      if (ds->pool == NULL)
        ds->pool = g_thread_pool_new (open_worker, NULL,
                                      (gint) CLAMP (g_get_num_processors (), 2, 4) - 1, FALSE,
                                      NULL);
      helpers = (guint) g_thread_pool_get_max_threads (ds->pool);
    }
  w->workers_left = helpers;
  for (guint i = 0; i < helpers; i++)
    g_thread_pool_push (ds->pool, w, NULL);
}

/* Job @i, opened (by us if need be). */
static OpenJob *
open_wait (OpenWork *w, guint i)
{
  while (!g_atomic_int_get (&w->jobs[i].opened))
    {
      if (open_one (w))
        continue;
      /* Every job is claimed: a worker is finishing @i. */
      g_mutex_lock (&w->lock);
      while (!g_atomic_int_get (&w->jobs[i].opened))
        g_cond_wait (&w->cond, &w->lock);
      g_mutex_unlock (&w->lock);
    }
  return &w->jobs[i];
}

/* Opens what is left and waits for the workers: @w's memory is ours. */
static void
open_finish (OpenWork *w)
{
  while (open_one (w))
    ;
  g_mutex_lock (&w->lock);
  while (w->workers_left > 0)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
}

static void
set_outcome_error (MeroDeltaStore *ds, GError **errors, guint i, GError *error)
{
  g_autoptr (GError) e = error;

  reject (ds, &e);
  if (errors != NULL)
    errors[i] = g_steal_pointer (&e);
}

/* Are all parents of @body applied, or staged in @staged? */
static gboolean
parents_ready (MeroDeltaStore *ds, MeroDeltaBody *body, GHashTable *staged, gboolean *ready,
               GError **error)
{
  *ready = TRUE;
  for (guint i = 0; i < mero_delta_body_n_parents (body); i++)
    {
      const guint8 *p = mero_delta_body_parent (body, i);
      gboolean applied = FALSE;

      if (g_hash_table_contains (staged, p))
        continue;
      if (!mero_delta_store_is_applied (ds, p, &applied, error))
        return FALSE;
      if (!applied)
        {
          *ready = FALSE;
          return TRUE;
        }
    }
  return TRUE;
}

/* Deltas staged in one txn and batch at most: bounds the memory of one
 * stage (the txn overlay and the batch) whatever the caller passes. */
#define STAGE_MAX 256

static guint receive_chunk (MeroDeltaStore *ds, GBytes *const *envelopes, guint n,
                            MeroDeltaOutcome *outcomes, GError **errors);

guint
mero_delta_store_receive_many (MeroDeltaStore *ds, GBytes *const *envelopes, guint n,
                               MeroDeltaOutcome *outcomes, GError **errors)
{
  guint accepted = 0;

  g_return_val_if_fail (ds != NULL && (envelopes != NULL || n == 0) && outcomes != NULL, 0);
  ENTER (ds);
  for (guint at = 0; at < n; at += STAGE_MAX)
    accepted += receive_chunk (ds, envelopes + at, MIN (STAGE_MAX, n - at), outcomes + at,
                               errors != NULL ? errors + at : NULL);
  LEAVE (ds);
  return accepted;
}

static guint
receive_chunk (MeroDeltaStore *ds, GBytes *const *envelopes, guint n,
               MeroDeltaOutcome *outcomes, GError **errors)
{
  g_autofree OpenJob *jobs = NULL;
  g_autofree gboolean *final = NULL;   /* outcome or error settled for good */
  OpenWork work;
  g_autoptr (GHashTable) staged = NULL;
  g_autoptr (GArray) applied = g_array_new (FALSE, FALSE, sizeof (guint));
  gboolean poisoned = FALSE;
  guint64 now;
  guint accepted = 0;
  Stage st;

  evict (ds);
  now = now_ms (ds);
  jobs = g_new0 (OpenJob, MAX (n, 1));
  final = g_new0 (gboolean, MAX (n, 1));
  for (guint i = 0; i < n; i++)
    {
      outcomes[i] = 0;
      jobs[i].env = g_bytes_get_data (envelopes[i], &jobs[i].len);
    }
  open_start (ds, &work, jobs, n);

  /* Stage, in order, every delta whose parents are applied or staged
   * before it; the others (pending, or refused) take the one-by-one path
   * after the stage commits, exactly as n receive calls would. */
  staged = g_hash_table_new (mero_id_hash, mero_id_equal);
  stage_init (ds, &st);
  for (guint i = 0; i < n && !poisoned; i++)
    {
      OpenJob *j = open_wait (&work, i);
      GError *error = NULL;
      gboolean ready = FALSE;
      guint8 status = 0;

      if (j->error != NULL || !check_opened (ds, j->o, j->body, now, &error))
        {
          set_outcome_error (ds, errors, i, j->error != NULL ? g_steal_pointer (&j->error) : error);
          final[i] = TRUE;
          continue;
        }
      if (g_hash_table_contains (staged, j->o->delta_id))
        {
          outcomes[i] = MERO_DELTA_OUTCOME_DUPLICATE;
          continue;
        }
      if (!record_get (ds, j->o->delta_id, &status, NULL, NULL, &error)
          || !parents_ready (ds, j->body, staged, &ready, &error))
        {
          set_outcome_error (ds, errors, i, error);
          final[i] = TRUE;
          continue;
        }
      if (status != 0)
        {
          outcomes[i] = MERO_DELTA_OUTCOME_DUPLICATE;
          final[i] = TRUE;
          continue;
        }
      if (!ready)
        continue;
      if (!apply_body (ds, &st, j->o->delta_id, j->body, j->env, j->len, now, FALSE, &error))
        {
          /* The stage holds part of this delta: drop it whole; everything
           * not settled goes the one-by-one way (which refuses this one
           * with its error). */
          g_clear_error (&error);
          poisoned = TRUE;
          break;
        }
      g_hash_table_add (staged, j->o->delta_id);
      g_array_append_val (applied, i);
    }
  /* After a poisoned stage some jobs are not reached yet. */
  open_finish (&work);
  if (poisoned)
    g_array_set_size (applied, 0);
  else if (applied->len > 0)
    {
      GError *error = NULL;

      if (stage_commit (ds, &st, &error))
        for (guint k = 0; k < applied->len; k++)
          {
            outcomes[g_array_index (applied, guint, k)] = MERO_DELTA_OUTCOME_APPLIED;
            final[g_array_index (applied, guint, k)] = TRUE;
          }
      else
        {
          for (guint k = 0; k < applied->len; k++)
            {
              set_outcome_error (ds, errors, g_array_index (applied, guint, k),
                                 g_error_copy (error));
              final[g_array_index (applied, guint, k)] = TRUE;
            }
          g_clear_error (&error);
          g_array_set_size (applied, 0);
        }
    }
  stage_clear (&st);
  for (guint k = 0; k < applied->len; k++)
    cascade (ds, jobs[g_array_index (applied, guint, k)].o->delta_id);
  for (guint i = 0; i < n; i++)
    {
      GError *error = NULL;

      if (!final[i] && jobs[i].error != NULL)
        set_outcome_error (ds, errors, i, g_steal_pointer (&jobs[i].error));
      else if (!final[i])
        {
          outcomes[i] = 0;
          if (!receive_opened (ds, jobs[i].env, jobs[i].len, jobs[i].o, jobs[i].body,
                               &outcomes[i], &error))
            set_outcome_error (ds, errors, i, error);
        }
      if (outcomes[i] != 0)
        accepted++;
      g_clear_pointer (&jobs[i].o, mero_delta_opened_free);
      g_clear_pointer (&jobs[i].body, mero_delta_body_free);
      g_clear_error (&jobs[i].error);
    }
  return accepted;
}

gboolean
mero_delta_store_peek (MeroDeltaStore *ds, const guint8 *envelope, gsize len, MeroHlc *hlc,
                       guint8 id[MERO_DELTA_ID_LEN], GError **error)
{
  g_autoptr (MeroDeltaOpened) o = NULL;
  g_autoptr (MeroDeltaBody) body = NULL;

  if (!open_envelope (ds, envelope, len, &o, &body, error))
    return FALSE;
  *hlc = *mero_delta_body_hlc (body);
  memcpy (id, o->delta_id, MERO_DELTA_ID_LEN);
  return TRUE;
}

MeroHlc
mero_delta_store_next_hlc (MeroDeltaStore *ds)
{
  return mero_hlc_clock_now (&ds->hlc, now_ms (ds));
}

/* The @n oldest heads by (hlc, id), sorted by id. */
static guint8 *
oldest_heads (MeroDeltaStore *ds, guint n)
{
  g_autoptr (GArray) by_age = g_array_copy (ds->heads);
  guint8 *out;

  g_array_sort (by_age, head_age_cmp);
  g_array_set_size (by_age, n);
  g_array_sort (by_age, id_cmp);   /* Head starts with its id */
  out = g_malloc (MAX (n, 1) * MERO_DELTA_ID_LEN);
  for (guint i = 0; i < n; i++)
    memcpy (out + (gsize) i * MERO_DELTA_ID_LEN, g_array_index (by_age, Head, i).id.b,
            MERO_DELTA_ID_LEN);
  return out;
}

static gboolean seal_and_apply (MeroDeltaStore *ds, const guint8 *parents, guint n_parents,
                                const MeroHlc *ts, const MeroAction *actions, guint n_actions,
                                GBytes **envelope, guint8 id[MERO_DELTA_ID_LEN], GError **error);

/* A local delta must cite every head: its actions were computed on a
 * state that includes them all, and a receiver applies it only after its
 * parents, so a head left out could reach a peer after a delta that
 * depends on it (an entry under a map that head created, say).  While
 * there are more heads than MERO_DELTA_MAX_PARENTS, the oldest
 * MERO_DELTA_MAX_PARENTS are first merged by an action-less delta (kept
 * in ds->merges for the node to broadcast, and served to peers like any
 * other), so concurrent branches fold into one head at the next commit. */
static gboolean
merge_heads (MeroDeltaStore *ds, const MeroHlc *ts, GError **error)
{
  /* Bounded: each round removes MERO_DELTA_MAX_PARENTS - 1 heads. */
  while (ds->heads->len > MERO_DELTA_MAX_PARENTS)
    {
      g_autofree guint8 *parents = oldest_heads (ds, MERO_DELTA_MAX_PARENTS);
      GBytes *env = NULL;
      guint8 id[MERO_DELTA_ID_LEN];

      if (!seal_and_apply (ds, parents, MERO_DELTA_MAX_PARENTS, ts, NULL, 0, &env, id, error))
        return FALSE;
      /* Bounded if the node never takes them: they stay stored and
       * served to peers that fetch them. */
      if (ds->merges->len >= MERO_DELTA_MAX_HEADS)
        g_ptr_array_remove_index (ds->merges, 0);
      g_ptr_array_add (ds->merges, env);
      count (ds, "mero_delta_merges_total", NULL);
    }
  return TRUE;
}

static gboolean
seal_and_apply (MeroDeltaStore *ds, const guint8 *parents, guint n_parents, const MeroHlc *ts,
                const MeroAction *actions, guint n_actions, GBytes **envelope,
                guint8 id[MERO_DELTA_ID_LEN], GError **error)
{
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GBytes) env = NULL;

  body = mero_delta_body_encode (parents, n_parents, ts, actions, n_actions, error);
  if (body == NULL)
    return FALSE;
  env = mero_delta_envelope_seal (ds->ctx, ds->sk, ds->key, ds->key_id,
                                  (const guint8 *) ds->gov_heads->data, ds->gov_heads->len, body,
                                  id, error);
  if (env == NULL)
    return FALSE;
  if (!apply_delta (ds, id, parents, n_parents, ts, actions, n_actions,
                    g_bytes_get_data (env, NULL), g_bytes_get_size (env), now_ms (ds), FALSE,
                    error))
    return FALSE;
  *envelope = g_steal_pointer (&env);
  return TRUE;
}

static gboolean
commit_local (MeroDeltaStore *ds, const MeroHlc *ts, const MeroAction *actions, guint n_actions,
              GBytes **envelope, guint8 delta_id[MERO_DELTA_ID_LEN], GError **error)
{
  g_autofree guint8 *parents = NULL;
  g_autoptr (GBytes) env = NULL;
  guint8 id[MERO_DELTA_ID_LEN];
  guint n_parents;

  if (!ds->can_write)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_NO_SIGNING_KEY,
                   "this replica has no author key");
      return FALSE;
    }
  /* Refuse what the encoder would refuse before merging anything. */
  if (n_actions > MERO_DELTA_MAX_ACTIONS)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "%u actions exceed %d", n_actions, MERO_DELTA_MAX_ACTIONS);
      return FALSE;
    }
  if (!merge_heads (ds, ts, error))
    return FALSE;
  n_parents = ds->heads->len;
  parents = oldest_heads (ds, n_parents);
  if (!seal_and_apply (ds, parents, n_parents, ts, actions, n_actions, &env, id, error))
    return FALSE;
  if (delta_id != NULL)
    memcpy (delta_id, id, MERO_DELTA_ID_LEN);
  if (envelope != NULL)
    *envelope = g_steal_pointer (&env);
  return TRUE;
}

GPtrArray *
mero_delta_store_take_merges (MeroDeltaStore *ds)
{
  GPtrArray *out = g_steal_pointer (&ds->merges);

  ds->merges = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  return out;
}

gboolean
mero_delta_store_commit_local (MeroDeltaStore *ds, const MeroHlc *ts, const MeroAction *actions,
                               guint n_actions, GBytes **envelope,
                               guint8 delta_id[MERO_DELTA_ID_LEN], GError **error)
{
  gboolean ok;

  g_return_val_if_fail (ds != NULL && ts != NULL, FALSE);
  ENTER (ds);
  ok = commit_local (ds, ts, actions, n_actions, envelope, delta_id, error);
  LEAVE (ds);
  return ok;
}

gboolean
mero_delta_store_gc (MeroDeltaStore *ds, guint max_visit, GBytes **cursor, guint *removed,
                     GError **error)
{
  gboolean ok;

  g_return_val_if_fail (ds != NULL && cursor != NULL && removed != NULL, FALSE);
  ENTER (ds);
  ok = mero_state_gc (ds->state, MAX (now_ms (ds), mero_hlc_physical_ms (&ds->hlc.last)),
                      ds->retention_ms, max_visit != 0 ? max_visit : MERO_STATE_GC_MAX_VISIT,
                      cursor, removed, error);
  LEAVE (ds);
  return ok;
}

void
mero_delta_store_set_governance_heads (MeroDeltaStore *ds, const guint8 *heads, guint n)
{
  g_return_if_fail (n <= MERO_DELTA_MAX_GOVERNANCE_HEADS);
  g_array_set_size (ds->gov_heads, 0);
  g_array_append_vals (ds->gov_heads, heads, n);
}

/* ---- open / accessors -------------------------------------------------- */

typedef struct {
  guint8 id[32];
  guint64 received_ms;
} PendingMarker;

static int
marker_cmp (gconstpointer a, gconstpointer b)
{
  const PendingMarker *x = a, *y = b;

  if (x->received_ms != y->received_ms)
    return x->received_ms < y->received_ms ? -1 : 1;
  return memcmp (x->id, y->id, 32);
}

static gboolean
load_pending (MeroDeltaStore *ds, GPtrArray *ready, GError **error)
{
  MeroKey prefix = mero_key_prefix_deltas_pending (ds->ctx);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (ds->store, NULL, &prefix);
  g_autoptr (GArray) markers = g_array_new (FALSE, FALSE, sizeof (PendingMarker));

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);
      g_autoptr (GBytes) v = mero_store_iter_value (it);
      PendingMarker m;
      guint64 be = 0;

      if (klen != 1 + 64 || g_bytes_get_size (v) != 8)
        continue;
      memcpy (m.id, k + 33, 32);
      memcpy (&be, g_bytes_get_data (v, NULL), 8);
      m.received_ms = GUINT64_FROM_BE (be);
      g_array_append_val (markers, m);
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  g_array_sort (markers, marker_cmp);
  for (guint i = 0; i < markers->len; i++)
    {
      const PendingMarker *m = &g_array_index (markers, PendingMarker, i);
      g_autoptr (GBytes) env = NULL;
      g_autoptr (MeroDeltaOpened) o = NULL;
      g_autoptr (MeroDeltaBody) body = NULL;
      g_autoptr (GError) local = NULL;
      g_autofree guint8 *missing = NULL;
      guint n_missing = 0;
      guint8 status = 0;

      if (!record_get (ds, m->id, &status, NULL, &env, error))
        return FALSE;
      if (status != RECORD_PENDING
          || !open_envelope (ds, g_bytes_get_data (env, NULL), g_bytes_get_size (env), &o, &body,
                             &local))
        {
          drop_pending (ds, m->id, "unreadable");
          continue;
        }
      missing = g_malloc (MAX (mero_delta_body_n_parents (body), 1) * 32);
      for (guint j = 0; j < mero_delta_body_n_parents (body); j++)
        {
          gboolean applied = FALSE;

          if (!mero_delta_store_is_applied (ds, mero_delta_body_parent (body, j), &applied, error))
            return FALSE;
          if (!applied)
            memcpy (missing + (gsize) n_missing++ * 32, mero_delta_body_parent (body, j), 32);
        }
      if (!mero_delta_pending_add (ds->pending, m->id, missing, n_missing, m->received_ms,
                                   &local))
        drop_pending (ds, m->id, "cycle");
      /* A crash between a parent's commit and the cascade leaves a delta
       * whose parents are all applied: it is applied once loading ends. */
      else if (n_missing == 0)
        g_ptr_array_add (ready, g_bytes_new (m->id, 32));
    }
  return TRUE;
}

MeroDeltaStore *
mero_delta_store_open (MeroStore *store, const guint8 context_id[MERO_DELTA_ID_LEN],
                       const MeroDeltaStoreConfig *config, GError **error)
{
  g_autoptr (MeroDeltaStore) ds = NULL;
  g_autoptr (GPtrArray) ready = NULL;
  gboolean snapshot_recovered = FALSE;

  g_return_val_if_fail (store != NULL && context_id != NULL, NULL);
  g_return_val_if_fail (config != NULL && config->context_key != NULL, NULL);
  ds = g_new0 (MeroDeltaStore, 1);
  ds->store = store;
  memcpy (ds->ctx, context_id, MERO_DELTA_ID_LEN);
  ds->state = mero_state_new (store, context_id);
  memcpy (ds->key, config->context_key, MERO_DELTA_KEY_LEN);
  mero_delta_key_id (ds->key, ds->key_id);
  if (config->author_sk != NULL)
    {
      ds->can_write = TRUE;
      memcpy (ds->sk, config->author_sk, MERO_DELTA_SECRET_KEY_LEN);
    }
  ds->max_pending = config->max_pending != 0 ? config->max_pending : MERO_DELTA_PENDING_MAX;
  ds->max_age_ms = config->pending_max_age_ms != 0 ? config->pending_max_age_ms
                                                   : MERO_DELTA_PENDING_MAX_AGE_MS;
  ds->authorize = config->authorize;
  ds->authorize_data = config->authorize_data;
  ds->key_lookup = config->key_lookup;
  ds->key_lookup_data = config->key_lookup_data;
  ds->clock = config->clock;
  ds->clock_data = config->clock_data;
  ds->metrics = config->metrics != NULL ? mero_metrics_ref (config->metrics) : NULL;
  ds->heads = g_array_new (FALSE, FALSE, sizeof (Head));
  ds->head_ids = g_array_new (FALSE, FALSE, sizeof (Id));
  ds->merges = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  ds->retention_ms = config->tombstone_retention_ms != 0 ? config->tombstone_retention_ms
                                                         : MERO_STATE_TOMBSTONE_RETENTION_MS;
  ds->gov_heads = g_array_new (FALSE, FALSE, sizeof (Id));
  ds->pending = mero_delta_pending_new ();
  if (ds->can_write)
    {
      guint8 pk[32];

      crypto_sign_ed25519_sk_to_pk (pk, ds->sk);
      mero_hlc_clock_init (&ds->hlc, mero_hlc_node_from_key (pk, sizeof pk));
    }
  ready = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  /* A snapshot cut by a crash left its marker: drop its staging so the
   * next session starts it again (mero-state-snapshot.h). */
  if (!mero_state_snapshot_recover (ds->state, &snapshot_recovered, error))
    return NULL;
  if (snapshot_recovered)
    {
      g_message ("context state: a snapshot sync was cut by a crash; its staging is dropped "
                 "and the snapshot restarts");
      mero_metrics_counter_add (ds->metrics, "mero_sync_snapshot_crash_recoveries_total", NULL,
                                1, NULL);
    }
  if (!meta_load (ds, error) || !mero_state_root_hash (ds->state, ds->root, error)
      || !load_pending (ds, ready, error))
    return NULL;
  for (guint i = 0; i < ready->len; i++)
    {
      const guint8 *id = g_bytes_get_data (g_ptr_array_index (ready, i), NULL);

      if (mero_delta_pending_contains (ds->pending, id) && apply_pending (ds, id))
        cascade (ds, id);
    }
  return g_steal_pointer (&ds);
}

void
mero_delta_store_free (MeroDeltaStore *ds)
{
  if (ds == NULL)
    return;
  /* Idle: receive_many waits for its jobs before returning. */
  if (ds->pool != NULL)
    g_thread_pool_free (ds->pool, TRUE, TRUE);
  sodium_memzero (ds->sk, sizeof ds->sk);
  sodium_memzero (ds->key, sizeof ds->key);
  mero_delta_pending_free (ds->pending);
  g_array_unref (ds->heads);
  g_array_unref (ds->head_ids);
  g_ptr_array_unref (ds->merges);
  g_array_unref (ds->gov_heads);
  mero_metrics_unref (ds->metrics);
  mero_state_free (ds->state);
  g_free (ds);
}

void
mero_delta_store_set_context_key (MeroDeltaStore *ds, const guint8 key[MERO_DELTA_KEY_LEN])
{
  g_return_if_fail (ds != NULL && key != NULL);
  memcpy (ds->key, key, MERO_DELTA_KEY_LEN);
  mero_delta_key_id (ds->key, ds->key_id);
}

MeroState *
mero_delta_store_get_state (MeroDeltaStore *ds)
{
  return ds->state;
}

gboolean
mero_delta_store_reload_root (MeroDeltaStore *ds, GError **error)
{
  return mero_state_root_hash (ds->state, ds->root, error);
}

void
mero_delta_store_root (MeroDeltaStore *ds, guint8 out[MERO_HASH_LEN])
{
  memcpy (out, ds->root, MERO_HASH_LEN);
}

static gint
head_cmp (gconstpointer a, gconstpointer b)
{
  return memcmp (((const Head *) a)->id.b, ((const Head *) b)->id.b, MERO_DELTA_ID_LEN);
}

void
mero_delta_store_queue_snapshot_heads (MeroDeltaStore *ds, MeroStoreBatch *batch,
                                       const guint8 *heads, gsize n_heads)
{
  MeroKey meta_key = mero_key_context_dag (ds->ctx);
  GArray *ours = ds->heads;
  g_autoptr (GBytes) meta = NULL;

  /* The boundary heads replace ours; their timestamps are not known (we
   * do not have those deltas), zero orders them first for local commits. */
  ds->heads = g_array_sized_new (FALSE, TRUE, sizeof (Head), (guint) n_heads);
  for (gsize i = 0; i < n_heads; i++)
    {
      Head h = { 0 };

      memcpy (h.id.b, heads + i * MERO_DELTA_ID_LEN, MERO_DELTA_ID_LEN);
      g_array_append_val (ds->heads, h);
    }
  g_array_sort (ds->heads, head_cmp);
  meta = meta_encode (ds);
  g_array_unref (ds->heads);
  ds->heads = ours;
  mero_store_batch_put (batch, &meta_key, g_bytes_get_data (meta, NULL), g_bytes_get_size (meta));
}

gboolean
mero_delta_store_snapshot_installed (MeroDeltaStore *ds, GError **error)
{
  g_array_set_size (ds->heads, 0);
  if (!meta_load (ds, error))
    return FALSE;
  heads_changed (ds);
  return mero_state_root_hash (ds->state, ds->root, error);
}

const guint8 *
mero_delta_store_heads (MeroDeltaStore *ds, guint *n)
{
  *n = ds->head_ids->len;
  return (const guint8 *) ds->head_ids->data;
}

guint
mero_delta_store_pending_count (MeroDeltaStore *ds)
{
  return mero_delta_pending_count (ds->pending);
}

gboolean
mero_delta_store_is_pending (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN])
{
  return mero_delta_pending_contains (ds->pending, id);
}

GPtrArray *
mero_delta_store_missing_parents (MeroDeltaStore *ds)
{
  return mero_delta_pending_missing (ds->pending);
}

gboolean
mero_delta_store_get_envelope (MeroDeltaStore *ds, const guint8 id[MERO_DELTA_ID_LEN],
                               GBytes **envelope, GError **error)
{
  guint8 status = 0;

  *envelope = NULL;
  if (!record_get (ds, id, &status, NULL, envelope, error))
    return FALSE;
  /* A checkpoint has no envelope to serve. */
  if (status == RECORD_CHECKPOINT)
    g_clear_pointer (envelope, g_bytes_unref);
  return TRUE;
}

gboolean
mero_delta_store_add_checkpoints (MeroDeltaStore *ds, const guint8 *heads, guint n_heads,
                                  const guint8 peer_root[MERO_HASH_LEN], guint *added,
                                  GError **error)
{
  g_autoptr (MeroStoreBatch) batch = NULL;
  g_autoptr (GArray) working = NULL;
  g_autoptr (GArray) released = g_array_new (FALSE, FALSE, MERO_DELTA_ID_LEN);
  g_autoptr (GBytes) meta = NULL;
  MeroKey meta_key = mero_key_context_dag (ds->ctx);
  const MeroHlc unknown = { 0 };
  guint dropped = 0, total_dropped = 0;
  gboolean ok = TRUE;

  *added = 0;
  ENTER (ds);
  if (!mero_state_root_hash (ds->state, ds->root, error))
    {
      LEAVE (ds);
      return FALSE;
    }
  /* Only a state equal to the one the peer announced with these heads
   * holds their effects; anything else would skip history we lack. */
  if (memcmp (ds->root, peer_root, MERO_HASH_LEN) != 0 || n_heads == 0)
    {
      LEAVE (ds);
      return TRUE;
    }
  batch = mero_store_batch_new (ds->store);
  working = g_array_copy (ds->heads);
  for (guint i = 0; ok && i < MIN (n_heads, MERO_DELTA_MAX_HEADS); i++)
    {
      const guint8 *id = heads + (gsize) i * MERO_DELTA_ID_LEN;
      guint8 status = 0;

      if (!record_get (ds, id, &status, NULL, NULL, error))
        ok = FALSE;
      else if (status == RECORD_APPLIED || status == RECORD_CHECKPOINT)
        continue;
      else
        {
          if (status == RECORD_PENDING)
            {
              MeroKey pending_key = mero_key_delta_pending (ds->ctx, id);

              mero_store_batch_delete (batch, &pending_key);
            }
          record_put (batch, ds, id, RECORD_CHECKPOINT, now_ms (ds), (const guint8 *) "", 0);
          /* Its time is unknown: the oldest, should heads overflow. */
          heads_advance (working, NULL, 0, id, &unknown, &dropped);
          total_dropped += dropped;
          g_array_append_vals (released, id, 1);
        }
    }
  if (!ok || released->len == 0)
    {
      LEAVE (ds);
      return ok;
    }
  g_array_unref (ds->heads);
  ds->heads = g_steal_pointer (&working);
  heads_changed (ds);
  meta = meta_encode (ds);
  mero_store_batch_put (batch, &meta_key, g_bytes_get_data (meta, NULL), g_bytes_get_size (meta));
  if (!mero_store_batch_commit (batch, error))
    {
      g_array_set_size (ds->heads, 0);
      if (!meta_load (ds, NULL))
        g_warning ("delta DAG record unreadable after a failed commit");
      heads_changed (ds);
      LEAVE (ds);
      return FALSE;
    }
  mero_metrics_counter_add (ds->metrics, "mero_delta_checkpoints_total", NULL, released->len,
                            NULL);
  if (total_dropped > 0)
    mero_metrics_counter_add (ds->metrics, "mero_delta_heads_dropped_total", NULL, total_dropped,
                              NULL);
  for (guint i = 0; i < released->len; i++)
    {
      const guint8 *id = (const guint8 *) released->data + (gsize) i * MERO_DELTA_ID_LEN;

      mero_delta_pending_remove (ds->pending, id);
      /* Deltas that waited for it apply now. */
      cascade (ds, id);
    }
  *added = released->len;
  LEAVE (ds);
  return TRUE;
}
