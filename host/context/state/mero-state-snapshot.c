/* mero-state-snapshot.c: see mero-state-snapshot.h. */
#include "context/state/mero-state-snapshot.h"

#include <string.h>

#include "context/state/mero-state-index.h"
#include "context/state/mero-state-private.h"
#include "store/mero-store-keys.h"

#define MARKER_FRAGMENT "sync-snapshot/marker"
#define PAGE_FRAGMENT "sync-snapshot/page/"
/* marker: boundary root[32] || cursor[32] || has_cursor[1] || resync[1] || n_pages (u32 BE) */
#define MARKER_LEN (32 + 32 + 1 + 1 + 4)
/* staged entity: crdt[1] || id[32] || parent[32] || updated, deleted,
 * cleared (time u64 BE, node u64 BE each) || data_len (u32 BE) || data */
#define STAGED_HEAD_LEN (1 + 32 + 32 + 6 * 8 + 4)

static const guint8 zero_id[MERO_ENTITY_ID_LEN];

struct _MeroStateReadView {
  MeroState *state;
  MeroStoreSnapshot *snapshot;
  guint8 root[32];
  GByteArray *heads;
  /* Keeps the data of the last page alive. */
  GPtrArray *page;
};

struct _MeroSnapshotWriter {
  MeroState *state;
  MeroSnapshotDagHooks hooks;
  gboolean has_hooks;
  guint8 boundary[32];
  guint8 cursor[32];
  gboolean has_cursor;
  gboolean resync;
  guint32 n_pages;
  gboolean finished;          /* committed or aborted */
};

/* ---- keys and records ------------------------------------------------- */

static MeroKey
marker_key (MeroState *state)
{
  MeroKey k;

  mero_key_generic (&k, state->ctx, (const guint8 *) MARKER_FRAGMENT, strlen (MARKER_FRAGMENT));
  return k;
}

static MeroKey
page_key (MeroState *state, guint32 index)
{
  guint8 frag[sizeof PAGE_FRAGMENT - 1 + 4];
  guint32 be = GUINT32_TO_BE (index);
  MeroKey k;

  memcpy (frag, PAGE_FRAGMENT, sizeof PAGE_FRAGMENT - 1);
  memcpy (frag + sizeof PAGE_FRAGMENT - 1, &be, 4);
  mero_key_generic (&k, state->ctx, frag, sizeof frag);
  return k;
}

static MeroKey
page_prefix (MeroState *state)
{
  MeroKey k;

  mero_key_generic (&k, state->ctx, (const guint8 *) PAGE_FRAGMENT, strlen (PAGE_FRAGMENT));
  return k;
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  guint64 be = GUINT64_TO_BE (v);

  g_byte_array_append (b, (const guint8 *) &be, 8);
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 be;

  memcpy (&be, p, 8);
  return GUINT64_FROM_BE (be);
}

static guint32
get_u32 (const guint8 *p)
{
  guint32 be;

  memcpy (&be, p, 4);
  return GUINT32_FROM_BE (be);
}

static void
marker_queue (MeroSnapshotWriter *w, MeroStoreBatch *batch)
{
  MeroKey k = marker_key (w->state);
  guint8 v[MARKER_LEN];
  guint32 be = GUINT32_TO_BE (w->n_pages);

  memcpy (v, w->boundary, 32);
  memcpy (v + 32, w->cursor, 32);
  v[64] = w->has_cursor ? 1 : 0;
  v[65] = w->resync ? 1 : 0;
  memcpy (v + 66, &be, 4);
  mero_store_batch_put (batch, &k, v, sizeof v);
}

/* Queues the deletion of the marker and every staged page. */
static gboolean
staging_queue_drop (MeroState *state, MeroStoreBatch *batch, GError **error)
{
  MeroKey prefix = page_prefix (state);
  MeroKey mk = marker_key (state);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (state->store, NULL, &prefix);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len = 0;
      const guint8 *kb = mero_store_iter_key (it, &len);
      MeroKey k;

      if (mero_key_from_bytes (&k, MERO_COLUMN_GENERIC, kb, len))
        mero_store_batch_delete (batch, &k);
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  mero_store_batch_delete (batch, &mk);
  return TRUE;
}

static gboolean
staging_drop (MeroState *state, GError **error)
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (state->store);

  return staging_queue_drop (state, batch, error) && mero_store_batch_commit (batch, error);
}

/* ---- the responder's read view ----------------------------------------- */

MeroStateReadView *
mero_state_read_view_new (MeroState *state, const guint8 *heads, gsize n_heads, GError **error)
{
  MeroStateReadView *v = g_new0 (MeroStateReadView, 1);

  v->state = state;
  /* Root and heads are read on the thread that applies deltas, at the
   * instant the store snapshot is taken: the three belong together. */
  v->snapshot = mero_store_snapshot_new (state->store);
  v->heads = g_byte_array_new ();
  if (n_heads > 0)
    g_byte_array_append (v->heads, heads, (guint) (n_heads * 32));
  v->page = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_entity_free);
  if (!mero_state_root_hash (state, v->root, error))
    {
      mero_state_read_view_free (v);
      return NULL;
    }
  return v;
}

void
mero_state_read_view_free (MeroStateReadView *v)
{
  if (v == NULL)
    return;
  mero_store_snapshot_free (v->snapshot);
  g_byte_array_unref (v->heads);
  g_ptr_array_unref (v->page);
  g_free (v);
}

void
mero_state_read_view_boundary (MeroStateReadView *v, guint8 root[32], const guint8 **heads,
                               gsize *n_heads)
{
  memcpy (root, v->root, 32);
  *heads = v->heads->data;
  *n_heads = v->heads->len / 32;
}

static void
entity_to_sdk (const MeroEntity *e, MeroStateEntity *out)
{
  gsize len = 0;

  memset (out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->crdt_type = e->crdt_type;
  memcpy (out->id, e->id, 32);
  if (e->has_parent)
    memcpy (out->parent_id, e->parent, 32);
  memcpy (out->own_hash, e->own_hash, 32);
  out->created_at = e->created_at.time;
  out->created_node = e->created_at.node;
  out->updated_at = e->updated_at.time;
  out->updated_node = e->updated_at.node;
  out->deleted_at = e->deleted_at.time;
  out->deleted_node = e->deleted_at.node;
  out->cleared_at = e->cleared_at.time;
  out->cleared_node = e->cleared_at.node;
  out->data = e->data != NULL ? g_bytes_get_data (e->data, &len) : NULL;
  out->data_len = len;
}

gboolean
mero_state_read_view_page (MeroStateReadView *v, const guint8 *cursor, MeroStateEntity *out,
                           gsize max, gsize *n_out, gboolean *more, GError **error)
{
  MeroKey prefix = mero_key_prefix_state (v->state->ctx);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (v->state->store, v->snapshot, &prefix);
  gsize n = 0;
  gboolean ok;

  *n_out = 0;
  *more = FALSE;
  g_ptr_array_set_size (v->page, 0);
  if (cursor != NULL)
    {
      MeroKey from = mero_key_state (v->state->ctx, cursor);

      ok = mero_store_iter_seek (it, &from);
    }
  else
    ok = mero_store_iter_first (it);
  for (; ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);
      g_autoptr (GBytes) value = NULL;
      MeroEntity *e;

      /* Entity records only (mero-state-private.h): indexes and buckets
       * have longer keys, the collection frontier the all-zero id. */
      if (klen != 2 * MERO_ENTITY_ID_LEN || memcmp (k + 32, zero_id, 32) == 0)
        continue;
      if (cursor != NULL && memcmp (k + 32, cursor, 32) <= 0)
        continue;
      if (n == max)
        {
          *more = TRUE;
          break;
        }
      value = mero_store_iter_value (it);
      e = mero_entity_decode (g_bytes_get_data (value, NULL), g_bytes_get_size (value), error);
      if (e == NULL)
        return FALSE;
      g_ptr_array_add (v->page, e);
      entity_to_sdk (e, &out[n++]);
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  *n_out = n;
  return TRUE;
}

/* ---- the initiator's writer ----------------------------------------- */

static gboolean
wipe_state (MeroState *state, MeroStoreBatch *batch, GError **error)
{
  MeroKey prefix = mero_key_prefix_state (state->ctx);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (state->store, NULL, &prefix);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len = 0;
      const guint8 *kb = mero_store_iter_key (it, &len);
      MeroKey k;

      if (mero_key_from_bytes (&k, MERO_COLUMN_STATE, kb, len))
        mero_store_batch_delete (batch, &k);
    }
  return mero_store_iter_check (it, error);
}

static gboolean
marker_load (MeroState *state, guint8 out[MARKER_LEN], gboolean *found, GError **error)
{
  MeroKey k = marker_key (state);
  g_autoptr (GBytes) v = NULL;

  *found = FALSE;
  if (!mero_store_get (state->store, &k, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (g_bytes_get_size (v) != MARKER_LEN)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT, "bad snapshot marker");
      return FALSE;
    }
  memcpy (out, g_bytes_get_data (v, NULL), MARKER_LEN);
  *found = TRUE;
  return TRUE;
}

MeroSnapshotWriter *
mero_state_snapshot_begin (MeroState *state, const MeroSnapshotDagHooks *hooks,
                           const guint8 boundary_root[32], gboolean resync,
                           guint8 resume_cursor[32], gboolean *resumed, GError **error)
{
  g_autoptr (MeroStoreBatch) batch = NULL;
  guint8 marker[MARKER_LEN];
  guint8 root[32];
  gboolean found = FALSE;
  MeroSnapshotWriter *w;

  *resumed = FALSE;
  memset (resume_cursor, 0, 32);
  if (!marker_load (state, marker, &found, error))
    return NULL;
  w = g_new0 (MeroSnapshotWriter, 1);
  w->state = state;
  if (hooks != NULL)
    {
      w->hooks = *hooks;
      w->has_hooks = TRUE;
    }
  memcpy (w->boundary, boundary_root, 32);
  w->resync = resync;
  if (found && memcmp (marker, boundary_root, 32) == 0)
    {
      /* The same boundary as the cut session: go on from its last page. */
      memcpy (w->cursor, marker + 32, 32);
      w->has_cursor = marker[64] != 0;
      w->resync = marker[65] != 0;
      w->n_pages = get_u32 (marker + 66);
      memcpy (resume_cursor, w->cursor, 32);
      *resumed = w->has_cursor;
      return w;
    }
  batch = mero_store_batch_new (state->store);
  /* Another boundary (the peer moved on): the old staging is useless. */
  if (found && !staging_queue_drop (state, batch, error))
    goto fail;
  if (!mero_state_root_hash (state, root, error))
    goto fail;
  if (!found && !mero_hash_is_zero (root))
    {
      if (!resync)
        {
          g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED,
                       "snapshot refused: the state is not fresh and no resync was asked for");
          goto fail;
        }
      /* An operator resync replaces the state: it is wiped together with
       * setting the marker, so a crash leaves a fresh state to restart
       * from, never a half-applied one. */
      if (!wipe_state (state, batch, error)
          || !mero_state_indexes_queue_drop (state, batch, error))
        goto fail;
    }
  marker_queue (w, batch);
  if (!mero_store_batch_commit (batch, error))
    goto fail;
  g_hash_table_remove_all (state->buckets);
  state->frontier_loaded = FALSE;
  return w;

fail:
  g_free (w);
  return NULL;
}

gboolean
mero_state_snapshot_put_page (MeroSnapshotWriter *w, const MeroStateEntity *entities, gsize n,
                              GError **error)
{
  g_autoptr (MeroStoreBatch) batch = NULL;
  g_autoptr (GByteArray) page = NULL;
  MeroKey k;

  if (w->finished)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "snapshot writer finished");
      return FALSE;
    }
  if (n == 0 || n > MERO_STATE_SNAPSHOT_MAX_PAGE_ENTITIES)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                   "snapshot page of %" G_GSIZE_FORMAT " entities (1..%u)", n,
                   MERO_STATE_SNAPSHOT_MAX_PAGE_ENTITIES);
      return FALSE;
    }
  page = g_byte_array_new ();
  for (gsize i = 0; i < n; i++)
    {
      const MeroStateEntity *e = &entities[i];
      const guint8 *prev = i > 0 ? entities[i - 1].id : (w->has_cursor ? w->cursor : NULL);
      guint32 dl = GUINT32_TO_BE ((guint32) e->data_len);
      guint8 t = (guint8) e->crdt_type;

      if (e->struct_size < G_STRUCT_OFFSET (MeroStateEntity, cleared_node) + sizeof (uint64_t))
        {
          g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                       "entity struct of %u bytes is older than ABI 1.1", e->struct_size);
          return FALSE;
        }
      /* In id order, after the cursor: a resumed or repeated page can
       * neither duplicate nor skip entities. */
      if (prev != NULL && memcmp (e->id, prev, 32) <= 0)
        {
          g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                       "snapshot entities out of order");
          return FALSE;
        }
      if (e->data_len > MERO_ENTITY_MAX_DATA || e->crdt_type >= MERO_CRDT_N_TYPES
          || (e->data == NULL && e->data_len > 0))
        {
          g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                       "snapshot entity with a bad type or size");
          return FALSE;
        }
      g_byte_array_append (page, &t, 1);
      g_byte_array_append (page, e->id, 32);
      g_byte_array_append (page, e->parent_id, 32);
      put_u64 (page, e->updated_at);
      put_u64 (page, e->updated_node);
      put_u64 (page, e->deleted_at);
      put_u64 (page, e->deleted_node);
      put_u64 (page, e->cleared_at);
      put_u64 (page, e->cleared_node);
      g_byte_array_append (page, (const guint8 *) &dl, 4);
      if (e->data_len > 0)
        g_byte_array_append (page, e->data, (guint) e->data_len);
    }
  batch = mero_store_batch_new (w->state->store);
  k = page_key (w->state, w->n_pages);
  mero_store_batch_put (batch, &k, page->data, page->len);
  w->n_pages++;
  memcpy (w->cursor, entities[n - 1].id, 32);
  w->has_cursor = TRUE;
  marker_queue (w, batch);
  if (!mero_store_batch_commit (batch, error))
    {
      w->n_pages--;
      return FALSE;
    }
  return TRUE;
}

typedef struct {
  MeroAction add;
  MeroHlc updated, deleted, cleared;
  guint depth;
} Staged;

static gint
staged_by_depth (gconstpointer a, gconstpointer b)
{
  const Staged *x = *(Staged *const *) a, *y = *(Staged *const *) b;

  return x->depth < y->depth ? -1 : x->depth > y->depth;
}

static gboolean
bad_staging (GError **error, const char *what)
{
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "snapshot: %s", what);
  return FALSE;
}

/* Reads every staged page back: entities (Staged*, data pointing into
 * @pages) with their logical depth. */
static gboolean
staging_load (MeroSnapshotWriter *w, GPtrArray *pages, GPtrArray *out, GError **error)
{
  MeroKey prefix = page_prefix (w->state);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (w->state->store, NULL, &prefix);
  g_autoptr (GHashTable) by_id = g_hash_table_new (mero_id_hash, mero_id_equal);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      GBytes *v = mero_store_iter_value (it);
      gsize len = 0;
      const guint8 *p = g_bytes_get_data (v, &len);

      g_ptr_array_add (pages, v);
      while (len > 0)
        {
          Staged *s;
          guint32 dl;

          if (len < STAGED_HEAD_LEN)
            return bad_staging (error, "truncated staged page");
          dl = get_u32 (p + STAGED_HEAD_LEN - 4);
          if (dl > len - STAGED_HEAD_LEN)
            return bad_staging (error, "truncated staged entity");
          s = g_new0 (Staged, 1);
          g_ptr_array_add (out, s);
          s->add.kind = MERO_ACTION_ADD;
          s->add.crdt_type = p[0];
          memcpy (s->add.id, p + 1, 32);
          memcpy (s->add.parent, p + 33, 32);
          s->updated = (MeroHlc) { get_u64 (p + 65), get_u64 (p + 73) };
          s->deleted = (MeroHlc) { get_u64 (p + 81), get_u64 (p + 89) };
          s->cleared = (MeroHlc) { get_u64 (p + 97), get_u64 (p + 105) };
          s->add.data = dl > 0 ? p + STAGED_HEAD_LEN : NULL;
          s->add.data_len = dl;
          g_hash_table_insert (by_id, s->add.id, s);
          p += STAGED_HEAD_LEN + dl;
          len -= STAGED_HEAD_LEN + dl;
        }
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;

  /* Depth from the parent links, so parents are applied first whatever
   * the id order; a chain longer than the depth bound is a loop or too
   * deep, an absent parent an incomplete snapshot. */
  for (guint i = 0; i < out->len; i++)
    {
      Staged *s = g_ptr_array_index (out, i);
      Staged *cur = s;
      guint d = 0, known = 0;

      if (s->depth != 0 || memcmp (s->add.id, w->state->ctx, 32) == 0)
        continue;
      while (memcmp (cur->add.parent, w->state->ctx, 32) != 0)
        {
          if (++d > MERO_ENTITY_MAX_DEPTH)
            return bad_staging (error, "parent chain too deep or looping");
          cur = g_hash_table_lookup (by_id, cur->add.parent);
          if (cur == NULL)
            return bad_staging (error, "entity whose parent is not in the snapshot");
          if (cur->depth != 0)
            {
              known = cur->depth;
              break;
            }
        }
      s->depth = d + (known != 0 ? known : 1);
    }
  g_ptr_array_sort (out, staged_by_depth);
  return TRUE;
}

gboolean
mero_state_snapshot_commit (MeroSnapshotWriter *w, const guint8 *heads, gsize n_heads,
                            GError **error)
{
  g_autoptr (GPtrArray) pages = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) staged = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MeroStoreBatch) batch = NULL;
  MeroStateTxn *txn = NULL;
  guint8 root[MERO_HASH_LEN];
  gboolean ok = FALSE;

  if (w->finished)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "snapshot writer finished");
      return FALSE;
    }
  if (!staging_load (w, pages, staged, error))
    goto out;
  txn = mero_state_txn_new (w->state);
  for (guint i = 0; i < staged->len; i++)
    {
      Staged *s = g_ptr_array_index (staged, i);
      MeroAction a = s->add;

      /* The root is made by the engine and carries no data of its own. */
      if (memcmp (a.id, w->state->ctx, 32) == 0)
        continue;
      if (!mero_state_txn_apply (txn, &a, &s->updated, error))
        goto out;
      if (s->deleted.time != 0)
        {
          a.kind = MERO_ACTION_DELETE_REF;
          if (!mero_state_txn_apply (txn, &a, &s->deleted, error))
            goto out;
        }
      if (s->cleared.time != 0)
        {
          a.kind = MERO_ACTION_CLEAR;
          if (!mero_state_txn_apply (txn, &a, &s->cleared, error))
            goto out;
        }
    }
  batch = mero_store_batch_new (w->state->store);
  if (!mero_state_txn_finish (txn, batch, root, error))
    goto out;
  if (memcmp (root, w->boundary, 32) != 0)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                   "snapshot root differs from the announced boundary root");
      goto out;
    }
  if (w->has_hooks && w->hooks.queue_heads != NULL)
    w->hooks.queue_heads (w->hooks.data, batch, heads, n_heads);
  if (!staging_queue_drop (w->state, batch, error) || !mero_store_batch_commit (batch, error))
    goto out;
  w->finished = TRUE;
  ok = TRUE;
  /* A wiped state's plugin indexes were dropped with it: rebuilt now,
   * once, from the installed state (nothing to do if they were kept in
   * step).  A failure leaves them dropped (sessions read the state). */
  {
    g_autoptr (GError) ix_error = NULL;

    if (!mero_state_indexes_ensure (w->state, &ix_error))
      g_warning ("context state: plugin index not rebuilt: %s", ix_error->message);
  }
  if (w->has_hooks && w->hooks.installed != NULL)
    ok = w->hooks.installed (w->hooks.data, error);

out:
  mero_state_txn_free (txn);
  if (!w->finished)
    {
      /* Nothing reached the state: drop what was staged, so the next
       * session starts over (a page was wrong or the root was). */
      g_autoptr (GError) drop_error = NULL;

      w->finished = TRUE;
      g_clear_pointer (&batch, mero_store_batch_free);
      if (!staging_drop (w->state, &drop_error))
        g_warning ("snapshot staging not dropped: %s", drop_error->message);
    }
  return ok;
}

gboolean
mero_state_snapshot_abort (MeroSnapshotWriter *w, GError **error)
{
  if (w->finished)
    return TRUE;
  w->finished = TRUE;
  return staging_drop (w->state, error);
}

void
mero_state_snapshot_free (MeroSnapshotWriter *w)
{
  g_free (w);
}

gboolean
mero_state_snapshot_in_progress (MeroState *state, gboolean *in_progress, GError **error)
{
  guint8 marker[MARKER_LEN];

  return marker_load (state, marker, in_progress, error);
}

gboolean
mero_state_snapshot_recover (MeroState *state, gboolean *recovered, GError **error)
{
  guint8 marker[MARKER_LEN];
  gboolean found = FALSE;

  *recovered = FALSE;
  if (!marker_load (state, marker, &found, error))
    return FALSE;
  if (!found)
    return TRUE;
  /* Nothing of a snapshot reaches the state before its commit, which
   * removes the marker in the same batch; a resync wiped the state with
   * setting it.  So dropping the staging leaves a fresh (or untouched)
   * state, and the next session starts the snapshot again. */
  if (!staging_drop (state, error))
    return FALSE;
  *recovered = TRUE;
  return TRUE;
}
