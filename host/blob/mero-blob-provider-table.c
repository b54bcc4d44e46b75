/* mero-blob-provider-table.c: the bounded provider table and the
 * announce rate limiter (sans-IO). */
#include "blob/mero-blob-provider-table.h"

#include <string.h>

#include "blob/mero-blob-provider-record.h"

#define ID_LEN MERO_BLOB_PROVIDER_TABLE_ID_LEN

static guint
id_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);   /* ids are hashes: any 4 bytes will do */
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID_LEN) == 0;
}

/* ---- table ---- */

void
mero_blob_provider_limits_init (MeroBlobProviderLimits *limits)
{
  limits->max_per_blob = 16;
  limits->max_per_context = 8192;
  limits->max_total = 65536;
  limits->max_contexts = 1024;
  limits->ttl_ms = 60 * 60 * 1000;
}

typedef struct _CtxEntry CtxEntry;
typedef struct _BlobEntry BlobEntry;

typedef struct {
  CtxEntry *ctx;
  BlobEntry *blob;
  char *peer;
  guint64 size;
  gint64 at_ms;
  GList link_all;    /* in table->all, oldest arrival first */
  GList link_ctx;    /* in ctx->order */
  GList link_blob;   /* in blob->providers */
} Entry;

struct _BlobEntry {
  guint8 id[ID_LEN];
  GQueue providers;  /* Entry */
};

struct _CtxEntry {
  guint8 id[ID_LEN];
  GHashTable *blobs; /* id → BlobEntry */
  GQueue order;      /* Entry, oldest arrival first */
};

struct _MeroBlobProviderTable {
  MeroBlobProviderLimits limits;
  GHashTable *contexts;   /* id → CtxEntry */
  GQueue all;
};

static void
blob_entry_free (BlobEntry *b)
{
  g_free (b);
}

static void
ctx_entry_free (CtxEntry *c)
{
  g_hash_table_unref (c->blobs);
  g_free (c);
}

MeroBlobProviderTable *
mero_blob_provider_table_new (const MeroBlobProviderLimits *limits)
{
  MeroBlobProviderTable *t = g_new0 (MeroBlobProviderTable, 1);

  if (limits != NULL)
    t->limits = *limits;
  else
    mero_blob_provider_limits_init (&t->limits);
  t->contexts = g_hash_table_new_full (id_hash, id_equal, NULL, (GDestroyNotify) ctx_entry_free);
  g_queue_init (&t->all);
  return t;
}

static void
entry_remove (MeroBlobProviderTable *t, Entry *e)
{
  CtxEntry *c = e->ctx;
  BlobEntry *b = e->blob;

  g_queue_unlink (&t->all, &e->link_all);
  g_queue_unlink (&c->order, &e->link_ctx);
  g_queue_unlink (&b->providers, &e->link_blob);
  g_free (e->peer);
  g_free (e);
  if (b->providers.length == 0)
    g_hash_table_remove (c->blobs, b->id);   /* frees b */
  if (c->order.length == 0)
    g_hash_table_remove (t->contexts, c->id);
}

void
mero_blob_provider_table_free (MeroBlobProviderTable *t)
{
  if (t == NULL)
    return;
  while (t->all.head != NULL)
    entry_remove (t, t->all.head->data);
  g_hash_table_unref (t->contexts);
  g_free (t);
}

static gboolean
expired (const MeroBlobProviderTable *t, gint64 at_ms, gint64 now_ms)
{
  return at_ms + (gint64) t->limits.ttl_ms <= now_ms;
}

MeroBlobProviderAdd
mero_blob_provider_table_add (MeroBlobProviderTable *t, const guint8 context[32],
                              const guint8 blob[32], const char *peer, guint64 size,
                              gint64 at_ms, gint64 now_ms, guint *evicted)
{
  CtxEntry *c;
  BlobEntry *b;
  Entry *e;
  guint n_evicted = 0;

  g_return_val_if_fail (t != NULL && context != NULL && blob != NULL && peer != NULL, 0);

  if (evicted != NULL)
    *evicted = 0;
  if (expired (t, at_ms, now_ms))
    return MERO_BLOB_PROVIDER_EXPIRED;
  c = g_hash_table_lookup (t->contexts, context);
  b = c != NULL ? g_hash_table_lookup (c->blobs, blob) : NULL;
  for (GList *l = b != NULL ? b->providers.head : NULL; l != NULL; l = l->next)
    {
      e = l->data;
      if (g_strcmp0 (e->peer, peer) != 0)
        continue;
      if (e->at_ms >= at_ms)
        return MERO_BLOB_PROVIDER_STALE;
      e->at_ms = at_ms;
      e->size = size;
      /* A refreshed entry is the newest arrival again. */
      g_queue_unlink (&t->all, &e->link_all);
      g_queue_push_tail_link (&t->all, &e->link_all);
      g_queue_unlink (&c->order, &e->link_ctx);
      g_queue_push_tail_link (&c->order, &e->link_ctx);
      return MERO_BLOB_PROVIDER_REFRESHED;
    }
  /* Room first, oldest first: in the blob (by record time), in the
   * context, in all, then a whole context when there are too many. */
  if (b != NULL && b->providers.length >= t->limits.max_per_blob)
    {
      Entry *oldest = NULL;

      for (GList *l = b->providers.head; l != NULL; l = l->next)
        if (oldest == NULL || ((Entry *) l->data)->at_ms < oldest->at_ms)
          oldest = l->data;
      if (oldest->at_ms > at_ms)
        return MERO_BLOB_PROVIDER_STALE;   /* every kept one is newer */
      if (b->providers.length == 1)
        b = NULL, c = c->order.length == 1 ? NULL : c;
      entry_remove (t, oldest);
      n_evicted++;
    }
  while (c != NULL && c->order.length >= t->limits.max_per_context)
    {
      Entry *oldest = c->order.head->data;

      if (oldest->blob == b && b->providers.length == 1)
        b = NULL;
      if (c->order.length == 1)
        c = NULL, b = NULL;
      entry_remove (t, oldest);
      n_evicted++;
    }
  while (t->all.length >= t->limits.max_total && t->all.head != NULL)
    {
      Entry *oldest = t->all.head->data;

      if (oldest->ctx == c && c->order.length == 1)
        c = NULL, b = NULL;
      else if (oldest->blob == b && b->providers.length == 1)
        b = NULL;
      entry_remove (t, oldest);
      n_evicted++;
    }
  if (c == NULL && g_hash_table_size (t->contexts) >= t->limits.max_contexts)
    {
      /* The context whose newest entry is oldest goes whole. */
      GHashTableIter iter;
      CtxEntry *victim = NULL, *other;

      g_hash_table_iter_init (&iter, t->contexts);
      while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
        if (victim == NULL
            || ((Entry *) other->order.tail->data)->at_ms
                   < ((Entry *) victim->order.tail->data)->at_ms)
          victim = other;
      while (victim != NULL && victim->order.length > 0)
        {
          gboolean last = victim->order.length == 1;

          entry_remove (t, victim->order.head->data);
          n_evicted++;
          if (last)
            break;
        }
    }
  if (c == NULL)
    {
      c = g_new0 (CtxEntry, 1);
      memcpy (c->id, context, ID_LEN);
      c->blobs = g_hash_table_new_full (id_hash, id_equal, NULL,
                                        (GDestroyNotify) blob_entry_free);
      g_queue_init (&c->order);
      g_hash_table_insert (t->contexts, c->id, c);
    }
  if (b == NULL)
    {
      b = g_new0 (BlobEntry, 1);
      memcpy (b->id, blob, ID_LEN);
      g_queue_init (&b->providers);
      g_hash_table_insert (c->blobs, b->id, b);
    }
  e = g_new0 (Entry, 1);
  e->ctx = c;
  e->blob = b;
  e->peer = g_strdup (peer);
  e->size = size;
  e->at_ms = at_ms;
  e->link_all.data = e;
  e->link_ctx.data = e;
  e->link_blob.data = e;
  g_queue_push_tail_link (&t->all, &e->link_all);
  g_queue_push_tail_link (&c->order, &e->link_ctx);
  g_queue_push_tail_link (&b->providers, &e->link_blob);
  if (evicted != NULL)
    *evicted = n_evicted;
  return MERO_BLOB_PROVIDER_ADDED;
}

static void
provider_entry_free (MeroBlobProviderEntry *e)
{
  g_free (e->peer);
  g_free (e);
}

static gint
by_time_desc (gconstpointer a, gconstpointer b)
{
  const MeroBlobProviderEntry *x = *(MeroBlobProviderEntry *const *) a;
  const MeroBlobProviderEntry *y = *(MeroBlobProviderEntry *const *) b;

  if (x->at_ms != y->at_ms)
    return x->at_ms > y->at_ms ? -1 : 1;
  return g_strcmp0 (x->peer, y->peer);   /* a stable order for ties */
}

GPtrArray *
mero_blob_provider_table_lookup (MeroBlobProviderTable *t, const guint8 context[32],
                                 const guint8 blob[32], gint64 now_ms)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) provider_entry_free);
  CtxEntry *c = g_hash_table_lookup (t->contexts, context);
  BlobEntry *b = c != NULL ? g_hash_table_lookup (c->blobs, blob) : NULL;
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();

  for (GList *l = b != NULL ? b->providers.head : NULL; l != NULL; l = l->next)
    {
      Entry *e = l->data;
      MeroBlobProviderEntry *copy;

      if (expired (t, e->at_ms, now_ms))
        {
          g_ptr_array_add (gone, e);
          continue;
        }
      copy = g_new0 (MeroBlobProviderEntry, 1);
      copy->peer = g_strdup (e->peer);
      copy->size = e->size;
      copy->at_ms = e->at_ms;
      g_ptr_array_add (out, copy);
    }
  for (guint i = 0; i < gone->len; i++)
    entry_remove (t, g_ptr_array_index (gone, i));
  g_ptr_array_sort (out, by_time_desc);
  return out;
}

guint
mero_blob_provider_table_forget_peer (MeroBlobProviderTable *t, const guint8 context[32],
                                      const char *peer)
{
  CtxEntry *c = g_hash_table_lookup (t->contexts, context);
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();

  for (GList *l = c != NULL ? c->order.head : NULL; l != NULL; l = l->next)
    if (g_strcmp0 (((Entry *) l->data)->peer, peer) == 0)
      g_ptr_array_add (gone, l->data);
  for (guint i = 0; i < gone->len; i++)
    entry_remove (t, g_ptr_array_index (gone, i));
  return gone->len;
}

guint
mero_blob_provider_table_expire (MeroBlobProviderTable *t, gint64 now_ms)
{
  g_autoptr (GPtrArray) gone = g_ptr_array_new ();

  for (GList *l = t->all.head; l != NULL; l = l->next)
    if (expired (t, ((Entry *) l->data)->at_ms, now_ms))
      g_ptr_array_add (gone, l->data);
  for (guint i = 0; i < gone->len; i++)
    entry_remove (t, g_ptr_array_index (gone, i));
  return gone->len;
}

guint
mero_blob_provider_table_size (MeroBlobProviderTable *t)
{
  return t->all.length;
}

guint
mero_blob_provider_table_context_size (MeroBlobProviderTable *t, const guint8 context[32])
{
  CtxEntry *c = g_hash_table_lookup (t->contexts, context);

  return c != NULL ? c->order.length : 0;
}

/* ---- announce queue ---- */

void
mero_blob_announce_limits_init (MeroBlobAnnounceLimits *limits)
{
  limits->coalesce_ms = 50;
  limits->per_context_burst = 4;
  limits->per_context_every_ms = 500;
  limits->total_burst = 16;
  limits->total_every_ms = 100;
  limits->max_pending_per_context = 4096;
  limits->max_pending_total = 16384;
  limits->max_contexts = 1024;
}

/* A token bucket in integer milliseconds of credit: each token costs
 * @every ms, at most @burst tokens are saved up. */
typedef struct {
  gint64 credit_ms;
  gint64 last_ms;
} Bucket;

static void
bucket_refill (Bucket *b, guint burst, guint every, gint64 now_ms)
{
  gint64 cap = (gint64) burst * every;

  if (now_ms > b->last_ms)
    b->credit_ms = MIN (cap, b->credit_ms + (now_ms - b->last_ms));
  b->last_ms = MAX (b->last_ms, now_ms);
}

/* When the bucket has a token (now or later). */
static gint64
bucket_ready_ms (const Bucket *b, guint every)
{
  return b->credit_ms >= every ? b->last_ms : b->last_ms + (every - b->credit_ms);
}

static gboolean
bucket_full (const Bucket *b, guint burst, guint every)
{
  return b->credit_ms >= (gint64) burst * every;
}

typedef struct {
  guint8 id[ID_LEN];
  GArray *held;        /* MeroBlobHeld, in push order */
  GHashTable *waiting; /* blob ids in @held (keys point into a copy) */
  gint64 first_ms;     /* when the oldest of @held was pushed */
  Bucket bucket;
} Pending;

struct _MeroBlobAnnounceQueue {
  MeroBlobAnnounceLimits limits;
  GHashTable *contexts;  /* id → Pending */
  guint pending;
  Bucket total;
};

static void
pending_free (Pending *p)
{
  g_array_unref (p->held);
  g_hash_table_unref (p->waiting);
  g_free (p);
}

MeroBlobAnnounceQueue *
mero_blob_announce_queue_new (const MeroBlobAnnounceLimits *limits)
{
  MeroBlobAnnounceQueue *q = g_new0 (MeroBlobAnnounceQueue, 1);

  if (limits != NULL)
    q->limits = *limits;
  else
    mero_blob_announce_limits_init (&q->limits);
  q->contexts = g_hash_table_new_full (id_hash, id_equal, NULL, (GDestroyNotify) pending_free);
  q->total.credit_ms = (gint64) q->limits.total_burst * q->limits.total_every_ms;
  q->total.last_ms = G_MININT64 / 2;
  return q;
}

void
mero_blob_announce_queue_free (MeroBlobAnnounceQueue *q)
{
  if (q == NULL)
    return;
  g_hash_table_unref (q->contexts);
  g_free (q);
}

gboolean
mero_blob_announce_queue_push (MeroBlobAnnounceQueue *q, const guint8 context[32],
                               const guint8 blob[32], guint64 size, gint64 now_ms)
{
  Pending *p = g_hash_table_lookup (q->contexts, context);
  MeroBlobHeld h = { .size = size };

  if (p != NULL && g_hash_table_contains (p->waiting, blob))
    return TRUE;
  if (q->pending >= q->limits.max_pending_total
      || (p != NULL && p->held->len >= q->limits.max_pending_per_context))
    return FALSE;
  if (p == NULL)
    {
      if (g_hash_table_size (q->contexts) >= q->limits.max_contexts)
        {
          /* Make room with a context that waits for nothing. */
          GHashTableIter iter;
          Pending *idle = NULL;

          g_hash_table_iter_init (&iter, q->contexts);
          while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &idle))
            if (idle->held->len == 0)
              {
                g_hash_table_iter_remove (&iter);
                break;
              }
          if (g_hash_table_size (q->contexts) >= q->limits.max_contexts)
            return FALSE;
        }
      p = g_new0 (Pending, 1);
      memcpy (p->id, context, ID_LEN);
      p->held = g_array_new (FALSE, TRUE, sizeof (MeroBlobHeld));
      p->waiting = g_hash_table_new_full (id_hash, id_equal, g_free, NULL);
      p->bucket.credit_ms = (gint64) q->limits.per_context_burst * q->limits.per_context_every_ms;
      p->bucket.last_ms = now_ms;
      g_hash_table_insert (q->contexts, p->id, p);
    }
  if (p->held->len == 0)
    p->first_ms = now_ms;
  memcpy (h.id, blob, ID_LEN);
  g_array_append_val (p->held, h);
  g_hash_table_add (p->waiting, g_memdup2 (blob, ID_LEN));
  q->pending++;
  return TRUE;
}

/* When @p's batch may go, ignoring the node's bucket (-1: nothing waits). */
static gint64
pending_ready_ms (MeroBlobAnnounceQueue *q, Pending *p, gint64 now_ms)
{
  gint64 at;

  if (p->held->len == 0)
    return -1;
  bucket_refill (&p->bucket, q->limits.per_context_burst, q->limits.per_context_every_ms, now_ms);
  at = p->held->len >= MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS ? now_ms
                                                           : p->first_ms + q->limits.coalesce_ms;
  return MAX (at, bucket_ready_ms (&p->bucket, q->limits.per_context_every_ms));
}

gint64
mero_blob_announce_queue_next_ms (MeroBlobAnnounceQueue *q, gint64 now_ms)
{
  GHashTableIter iter;
  Pending *p;
  gint64 best = -1;

  g_hash_table_iter_init (&iter, q->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    {
      gint64 at = pending_ready_ms (q, p, now_ms);

      if (at >= 0 && (best < 0 || at < best))
        best = at;
    }
  if (best < 0)
    return -1;
  bucket_refill (&q->total, q->limits.total_burst, q->limits.total_every_ms, now_ms);
  return MAX (MAX (best, bucket_ready_ms (&q->total, q->limits.total_every_ms)), now_ms);
}

gboolean
mero_blob_announce_queue_pop (MeroBlobAnnounceQueue *q, gint64 now_ms, guint8 context[32],
                              GArray **held)
{
  GHashTableIter iter;
  Pending *p, *best = NULL;
  guint n;

  *held = NULL;
  bucket_refill (&q->total, q->limits.total_burst, q->limits.total_every_ms, now_ms);
  if (bucket_ready_ms (&q->total, q->limits.total_every_ms) > now_ms)
    return FALSE;
  g_hash_table_iter_init (&iter, q->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &p))
    {
      gint64 at = pending_ready_ms (q, p, now_ms);

      if (at < 0)
        {
          /* Forgotten once its bucket is full again: it cannot gain by it. */
          if (bucket_full (&p->bucket, q->limits.per_context_burst,
                           q->limits.per_context_every_ms))
            g_hash_table_iter_remove (&iter);
          continue;
        }
      /* Among those ready, the one waiting longest goes first. */
      if (at <= now_ms && (best == NULL || p->first_ms < best->first_ms))
        best = p;
    }
  if (best == NULL)
    return FALSE;
  n = MIN (best->held->len, MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS);
  *held = g_array_sized_new (FALSE, TRUE, sizeof (MeroBlobHeld), n);
  g_array_append_vals (*held, best->held->data, n);
  for (guint i = 0; i < n; i++)
    g_hash_table_remove (best->waiting, g_array_index (best->held, MeroBlobHeld, i).id);
  g_array_remove_range (best->held, 0, n);
  /* The rest keep first_ms: they waited long enough already. */
  q->pending -= n;
  best->bucket.credit_ms -= q->limits.per_context_every_ms;
  q->total.credit_ms -= q->limits.total_every_ms;
  memcpy (context, best->id, ID_LEN);
  return TRUE;
}

guint
mero_blob_announce_queue_pending (MeroBlobAnnounceQueue *q)
{
  return q->pending;
}
