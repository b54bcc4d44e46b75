/* mero-state-access.c: see mero-state-access.h. */
#include "context/state/mero-state-access.h"

#include <string.h>

#include "context/state/mero-state-index.h"
#include "context/state/mero-state-private.h"
#include "context/state/mero-state-snapshot.h"

struct _MeroStateHandle {
  MeroState *state;
  MeroDeltaStore *ds;
  /* Keeps the data of the last get_entity alive (the SDK promises the
   * pointers until the next call on the handle). */
  MeroEntity *last;
  /* A snapshot writer begun on this handle committed (its boundary heads
   * are the DAG heads now): what the SyncManager turns into checkpoints. */
  gboolean snapshot_installed;
};

struct _MeroStateWriter {
  MeroStateHandle *handle;
  MeroStateTxn *txn;
  /* Entities added by this writer since its last commit, id -> logical
   * depth: a child merged after its parent in the same batch finds it. */
  GHashTable *added;
  gboolean broken;           /* a failed apply: the txn must be dropped */
};

static const guint8 zero_id[MERO_ENTITY_ID_LEN];

MeroStateHandle *
mero_state_handle_new (MeroState *state, MeroDeltaStore *ds)
{
  MeroStateHandle *h;

  g_return_val_if_fail (state != NULL, NULL);
  h = g_new0 (MeroStateHandle, 1);
  h->state = state;
  h->ds = ds;
  return h;
}

void
mero_state_handle_free (MeroStateHandle *handle)
{
  if (handle == NULL)
    return;
  g_clear_pointer (&handle->last, mero_entity_free);
  g_free (handle);
}

static gboolean
access_root_hash (MeroStateHandle *h, uint8_t out[32], GError **error)
{
  return mero_state_root_hash (h->state, out, error);
}

/* The full hash of a non-root entity lives in its bucket's child index. */
static gboolean
lookup_full_hash (MeroStateHandle *h, const MeroEntity *e, guint8 out[MERO_HASH_LEN],
                  GError **error)
{
  g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));

  memset (out, 0, MERO_HASH_LEN);
  if (!e->has_parent)
    {
      memcpy (out, e->full_hash, MERO_HASH_LEN);
      return TRUE;
    }
  if (!mero_state_read_index (h->state, e->phys_parent, TRUE, kids, error))
    return FALSE;
  for (guint i = 0; i < kids->len; i++)
    if (memcmp (g_array_index (kids, MeroEntityChildHash, i).id, e->id, MERO_ENTITY_ID_LEN) == 0)
      memcpy (out, g_array_index (kids, MeroEntityChildHash, i).full_hash, MERO_HASH_LEN);
  return TRUE;
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

static gboolean
access_get_entity (MeroStateHandle *h, const uint8_t id[32], MeroStateEntity *out,
                   gboolean *found, GError **error)
{
  g_autoptr (MeroEntity) e = NULL;

  *found = FALSE;
  if (!mero_state_get_entity (h->state, id, &e, error))
    return FALSE;
  if (e == NULL)
    return TRUE;
  entity_to_sdk (e, out);
  if (!lookup_full_hash (h, e, out->full_hash, error))
    return FALSE;
  g_clear_pointer (&h->last, mero_entity_free);
  h->last = g_steal_pointer (&e);
  *found = TRUE;
  return TRUE;
}

static gboolean
access_count_entities (MeroStateHandle *h, uint64_t *out, GError **error)
{
  MeroKey prefix = mero_key_prefix_state (h->state->ctx);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (h->state->store, NULL, &prefix);
  guint64 n = 0;

  /* Entity records only: indexes and buckets have longer keys, the
   * collection frontier the all-zero id (mero-state-private.h). */
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);

      if (klen == 2 * MERO_ENTITY_ID_LEN && memcmp (k + MERO_ENTITY_ID_LEN, zero_id, 32) != 0)
        n++;
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  *out = n;
  return TRUE;
}

static void
access_get_layout (MeroStateHandle *h, MeroStateLayout *out)
{
  memset (out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->bucket_levels = MERO_ENTITY_BUCKET_LEVELS;
  out->bucket_fanout = MERO_ENTITY_BUCKET_FANOUT;
  out->max_depth = MERO_ENTITY_MAX_DEPTH;
  out->max_data = MERO_ENTITY_MAX_DATA;
}

/* A child id whose leading nibbles are @path (the engine picks buckets by
 * the child's nibbles). */
static void
path_to_probe (const uint8_t *path, size_t path_len, guint8 probe[MERO_ENTITY_ID_LEN])
{
  memset (probe, 0, MERO_ENTITY_ID_LEN);
  for (size_t i = 0; i < path_len; i++)
    probe[i / 2] |= (guint8) (path[i] << (i % 2 == 0 ? 4 : 0));
}

static gboolean
access_list_children (MeroStateHandle *h, const uint8_t owner[32], const uint8_t *path,
                      size_t path_len, const uint8_t *after, MeroStateChild *out, size_t max,
                      size_t *n_out, gboolean *more, GError **error)
{
  g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));
  guint8 node[MERO_ENTITY_ID_LEN];
  guint8 slot_ids[MERO_ENTITY_BUCKET_FANOUT][MERO_ENTITY_ID_LEN];
  gboolean children_are_buckets = path_len < MERO_ENTITY_BUCKET_LEVELS;
  guint8 probe[MERO_ENTITY_ID_LEN];
  size_t n = 0;

  *n_out = 0;
  *more = FALSE;
  if (path_len > MERO_ENTITY_BUCKET_LEVELS)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                   "node path of %" G_GSIZE_FORMAT " slots, the tree has %d bucket levels",
                   path_len, MERO_ENTITY_BUCKET_LEVELS);
      return FALSE;
    }
  for (size_t i = 0; i < path_len; i++)
    if (path[i] >= MERO_ENTITY_BUCKET_FANOUT)
      {
        g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                     "node path slot %u out of range", path[i]);
        return FALSE;
      }
  path_to_probe (path, path_len, probe);
  if (path_len == 0)
    memcpy (node, owner, MERO_ENTITY_ID_LEN);
  else
    mero_entity_bucket_id (owner, probe, (guint) path_len, node);
  if (!mero_state_read_index (h->state, node, path_len > 0, kids, error))
    return FALSE;
  mero_entity_children_sort ((MeroEntityChildHash *) (void *) kids->data, kids->len);

  /* The index holds bucket ids; a bucket's slot is found by deriving the
   * id of each slot of the next level once. */
  if (children_are_buckets)
    for (guint s = 0; s < MERO_ENTITY_BUCKET_FANOUT; s++)
      {
        guint8 p[MERO_ENTITY_ID_LEN];

        memcpy (p, probe, sizeof p);
        p[path_len / 2] |= (guint8) (s << (path_len % 2 == 0 ? 4 : 0));
        mero_entity_bucket_id (owner, p, (guint) path_len + 1, slot_ids[s]);
      }

  for (guint i = 0; i < kids->len; i++)
    {
      const MeroEntityChildHash *c = &g_array_index (kids, MeroEntityChildHash, i);
      MeroStateChild *o;

      if (after != NULL && memcmp (c->id, after, MERO_ENTITY_ID_LEN) <= 0)
        continue;
      if (n == max)
        {
          *more = TRUE;
          break;
        }
      o = &out[n++];
      memset (o, 0, sizeof *o);
      memcpy (o->id, c->id, 32);
      memcpy (o->full_hash, c->full_hash, 32);
      o->kind = children_are_buckets ? MERO_STATE_NODE_BUCKET : MERO_STATE_NODE_ENTITY;
      if (children_are_buckets)
        for (guint s = 0; s < MERO_ENTITY_BUCKET_FANOUT; s++)
          if (memcmp (slot_ids[s], c->id, MERO_ENTITY_ID_LEN) == 0)
            o->slot = s;
    }
  *n_out = n;
  return TRUE;
}

static gboolean
access_get_dag_heads (MeroStateHandle *h, uint8_t *out, size_t max, size_t *n_out,
                      GError **error)
{
  const guint8 *heads;
  guint n = 0;

  *n_out = 0;
  if (h->ds == NULL)
    return TRUE;
  heads = mero_delta_store_heads (h->ds, &n);
  n = MIN (n, max);
  if (n > 0)
    memcpy (out, heads, (gsize) n * 32);
  *n_out = n;
  return TRUE;
}

static MeroStateWriter *
access_writer_new (MeroStateHandle *h)
{
  MeroStateWriter *w = g_new0 (MeroStateWriter, 1);

  w->handle = h;
  w->txn = mero_state_txn_new (h->state);
  w->added = g_hash_table_new_full (mero_id_hash, mero_id_equal, g_free, NULL);
  return w;
}

static void
access_writer_free (MeroStateWriter *w)
{
  if (w == NULL)
    return;
  mero_state_txn_free (w->txn);
  g_hash_table_unref (w->added);
  g_free (w);
}

static gboolean
refuse (GError **error, const char *what)
{
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, "merge refused: %s", what);
  return FALSE;
}

/* The checks the engine would fail an apply on (which would spoil the
 * whole txn), made first so a bad entity is refused on its own. */
static gboolean
precheck (MeroStateWriter *w, const MeroStateEntity *e, GError **error)
{
  MeroState *state = w->handle->state;
  g_autoptr (MeroEntity) parent = NULL;
  g_autoptr (MeroEntity) current = NULL;
  guint parent_depth = 0;
  gpointer added_depth = NULL;

  if (e->crdt_type >= MERO_CRDT_N_TYPES || e->crdt_type == MERO_CRDT_BUCKET)
    return refuse (error, "bad crdt type");
  if (e->data_len > MERO_ENTITY_MAX_DATA || (e->data == NULL && e->data_len > 0))
    return refuse (error, "data too large");
  if (memcmp (e->id, zero_id, 32) == 0 || memcmp (e->id, e->parent_id, 32) == 0)
    return refuse (error, "zero or self-parented id");
  if (e->updated_at == 0)
    return refuse (error, "no update time");
  if (memcmp (e->parent_id, state->ctx, 32) != 0)
    {
      if (g_hash_table_lookup_extended (w->added, e->parent_id, NULL, &added_depth))
        parent_depth = GPOINTER_TO_UINT (added_depth);
      else
        {
          if (!mero_state_get_entity (state, e->parent_id, &parent, error))
            return FALSE;
          if (parent == NULL)
            return refuse (error, "unknown parent");
          if (parent->crdt_type == MERO_CRDT_BUCKET)
            return refuse (error, "parent is a bucket");
          parent_depth = parent->depth;
        }
    }
  if (parent_depth + 1 > MERO_ENTITY_MAX_DEPTH)
    return refuse (error, "too deep");
  if (!mero_state_get_entity (state, e->id, &current, error))
    return FALSE;
  if (current != NULL && (!current->has_parent
                          || memcmp (current->parent, e->parent_id, 32) != 0))
    return refuse (error, "entity would move to another parent");
  return TRUE;
}

static gboolean
access_writer_merge (MeroStateWriter *w, const MeroStateEntity *e, GError **error)
{
  MeroAction a = { 0 };
  MeroHlc ts;

  if (w->broken)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "writer failed earlier");
      return FALSE;
    }
  if (e->struct_size < G_STRUCT_OFFSET (MeroStateEntity, cleared_node) + sizeof (uint64_t))
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                   "entity struct of %u bytes is older than ABI 1.1", e->struct_size);
      return FALSE;
    }
  /* The root is made by the engine and carries no data of its own. */
  if (memcmp (e->id, w->handle->state->ctx, 32) == 0)
    return TRUE;
  if (!precheck (w, e, error))
    return FALSE;

  a.kind = MERO_ACTION_ADD;
  memcpy (a.id, e->id, 32);
  memcpy (a.parent, e->parent_id, 32);
  a.crdt_type = (guint8) e->crdt_type;
  a.data = e->data;
  a.data_len = e->data_len;
  ts = (MeroHlc) { e->updated_at, e->updated_node };
  if (!mero_state_txn_apply (w->txn, &a, &ts, error))
    goto broken;
  if (e->deleted_at != 0)
    {
      a.kind = MERO_ACTION_DELETE_REF;
      ts = (MeroHlc) { e->deleted_at, e->deleted_node };
      if (!mero_state_txn_apply (w->txn, &a, &ts, error))
        goto broken;
    }
  if (e->cleared_at != 0)
    {
      a.kind = MERO_ACTION_CLEAR;
      ts = (MeroHlc) { e->cleared_at, e->cleared_node };
      if (!mero_state_txn_apply (w->txn, &a, &ts, error))
        goto broken;
    }
  if (!g_hash_table_contains (w->added, e->id))
    {
      guint depth = 1;
      gpointer pd = NULL;
      g_autoptr (MeroEntity) parent = NULL;

      if (g_hash_table_lookup_extended (w->added, e->parent_id, NULL, &pd))
        depth = GPOINTER_TO_UINT (pd) + 1;
      else if (memcmp (e->parent_id, w->handle->state->ctx, 32) != 0)
        {
          if (!mero_state_get_entity (w->handle->state, e->parent_id, &parent, error))
            goto broken;
          depth = parent != NULL ? parent->depth + 1u : 1u;
        }
      g_hash_table_insert (w->added, g_memdup2 (e->id, 32), GUINT_TO_POINTER (depth));
    }
  return TRUE;

broken:
  w->broken = TRUE;
  return FALSE;
}

static gboolean
access_writer_commit (MeroStateWriter *w, uint8_t root_hash[32], GError **error)
{
  g_autoptr (MeroStoreBatch) batch = NULL;
  guint8 root[MERO_HASH_LEN];

  if (w->broken)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "writer failed earlier");
      return FALSE;
    }
  batch = mero_store_batch_new (w->handle->state->store);
  if (!mero_state_txn_finish (w->txn, batch, root, error)
      || (mero_store_batch_count (batch) > 0 && !mero_store_batch_commit (batch, error)))
    {
      w->broken = TRUE;
      return FALSE;
    }
  if (mero_store_batch_count (batch) == 0 && !mero_state_root_hash (w->handle->state, root, error))
    return FALSE;
  /* The delta store caches its root (heartbeats compare it): keep it
   * the committed one. */
  if (w->handle->ds != NULL && !mero_delta_store_reload_root (w->handle->ds, error))
    return FALSE;
  mero_state_txn_free (w->txn);
  w->txn = mero_state_txn_new (w->handle->state);
  g_hash_table_remove_all (w->added);
  if (root_hash != NULL)
    memcpy (root_hash, root, 32);
  return TRUE;
}

static gboolean
access_merge_entity (MeroStateHandle *h, const MeroStateEntity *e, GError **error)
{
  MeroStateWriter *w = access_writer_new (h);
  gboolean ok = access_writer_merge (w, e, error) && access_writer_commit (w, NULL, error);

  access_writer_free (w);
  return ok;
}

static MeroStateReadView *
access_read_view_new (MeroStateHandle *h, GError **error)
{
  const guint8 *heads = NULL;
  guint n = 0;

  if (h->ds != NULL)
    heads = mero_delta_store_heads (h->ds, &n);
  return mero_state_read_view_new (h->state, heads, n, error);
}

static void
queue_heads (gpointer data, MeroStoreBatch *batch, const guint8 *heads, gsize n_heads)
{
  MeroStateHandle *h = data;

  mero_delta_store_queue_snapshot_heads (h->ds, batch, heads, n_heads);
}

static gboolean
heads_installed (gpointer data, GError **error)
{
  MeroStateHandle *h = data;

  /* The batch with state and heads is committed whatever the reload says. */
  h->snapshot_installed = TRUE;
  return mero_delta_store_snapshot_installed (h->ds, error);
}

gboolean
mero_state_handle_snapshot_installed (MeroStateHandle *handle)
{
  return handle != NULL && handle->snapshot_installed;
}

static MeroSnapshotWriter *
access_snapshot_begin (MeroStateHandle *h, const uint8_t boundary_root[32], gboolean resync,
                       uint8_t resume_cursor[32], gboolean *resumed, GError **error)
{
  MeroSnapshotDagHooks hooks = { queue_heads, heads_installed, h };

  g_clear_pointer (&h->last, mero_entity_free);
  return mero_state_snapshot_begin (h->state, h->ds != NULL ? &hooks : NULL, boundary_root,
                                    resync, resume_cursor, resumed, error);
}

static gboolean
access_index_version (MeroStateHandle *h, const char *plugin, uint32_t *out, GError **error)
{
  return mero_state_index_read_version (h->state, plugin, out, error);
}

static gboolean
access_index_get (MeroStateHandle *h, const char *plugin, const uint8_t *key, size_t key_len,
                  GBytes **out, GError **error)
{
  return mero_state_index_read (h->state, plugin, key, key_len, out, error);
}

static gboolean
access_index_scan (MeroStateHandle *h, const char *plugin, const uint8_t *prefix,
                   size_t prefix_len, MeroIndexScanFunc func, void *data, GError **error)
{
  return mero_state_index_scan (h->state, plugin, prefix, prefix_len, func, data, error);
}

static const MeroStateAccess state_access = {
  .struct_size = sizeof (MeroStateAccess),
  .get_root_hash = access_root_hash,
  .get_entity = access_get_entity,
  .merge_entity = access_merge_entity,
  .count_entities = access_count_entities,
  .get_layout = access_get_layout,
  .list_children = access_list_children,
  .get_dag_heads = access_get_dag_heads,
  .writer_new = access_writer_new,
  .writer_merge = access_writer_merge,
  .writer_commit = access_writer_commit,
  .writer_free = access_writer_free,
  .read_view_new = access_read_view_new,
  .read_view_boundary = mero_state_read_view_boundary,
  .read_view_page = mero_state_read_view_page,
  .read_view_free = mero_state_read_view_free,
  .snapshot_begin = access_snapshot_begin,
  .snapshot_put_page = mero_state_snapshot_put_page,
  .snapshot_commit = mero_state_snapshot_commit,
  .snapshot_abort = mero_state_snapshot_abort,
  .snapshot_free = mero_state_snapshot_free,
  /* ABI 1.2: plugin state indexes (mero-state-index.h). */
  .index_version = access_index_version,
  .index_get = access_index_get,
  .index_scan = access_index_scan,
  .index_batch_get = mero_index_batch_get,
  .index_batch_put = mero_index_batch_put,
  .index_batch_delete = mero_index_batch_delete,
};

const MeroStateAccess *
mero_state_access_get (void)
{
  return &state_access;
}
