/* mero-state-txn.c: applying actions and recomputing hashes bottom-up. */
#include <string.h>

#include "context/state/mero-state-index.h"
#include "context/state/mero-state-private.h"

/* One parent's child index as it will be after this txn (read your
 * writes): loaded once, edited in place, written once by finish. */
typedef struct {
  guint8 parent[MERO_ENTITY_ID_LEN];
  gboolean bucket;          /* the index of a bucket (own key space) */
  GArray *kids;             /* MeroEntityChildHash, sorted by id */
  gboolean changed;
} TxnIndex;

static void
txn_index_free (TxnIndex *idx)
{
  g_array_unref (idx->kids);
  g_free (idx);
}

struct _MeroStateTxn {
  MeroState *state;
  /* Entities and buckets are distinct nodes even with equal ids (see
   * mero-state-private.h), so each has its own tables. */
  GHashTable *cache;        /* id -> MeroEntity (owned); key is entity->id */
  GHashTable *bcache;       /* bucket id -> bucket MeroEntity (owned) */
  GHashTable *dirty;        /* MeroEntity to recompute (borrowed from cache) */
  GHashTable *modified;     /* MeroEntity whose record changed: written */
  GPtrArray *levels[MERO_ENTITY_MAX_PHYS_DEPTH + 1];  /* dirty by phys depth */
  GHashTable *indexes;      /* parent id (in the value) -> TxnIndex */
  GHashTable *bindexes;     /* bucket id -> TxnIndex */
  guint64 horizon_ms;       /* extra horizon (mero_state_txn_set_horizon) */
  guint stale_ignored;
};

void
mero_state_txn_set_horizon (MeroStateTxn *txn, guint64 horizon_ms)
{
  txn->horizon_ms = horizon_ms;
}

guint
mero_state_txn_stale_ignored (MeroStateTxn *txn)
{
  return txn->stale_ignored;
}

/* Could an upsert at @ts have met a tombstone this replica collected?
 * (ts at or before the newest deleted_at collected, or before an explicit
 * horizon.)  The collection frontier is read once per state, lazily: only
 * upserts that meet no live target ask. */
static gboolean
is_stale (MeroStateTxn *txn, const MeroHlc *ts, gboolean *stale, GError **error)
{
  MeroHlc frontier;

  if (!mero_state_collected_frontier (txn->state, &frontier, error))
    return FALSE;
  *stale = mero_hlc_physical_ms (ts) < txn->horizon_ms
           || (!mero_hlc_is_zero (&frontier) && mero_hlc_compare (ts, &frontier) <= 0);
  return TRUE;
}

/* A stale upsert: ignored, the same on every replica whether or not a
 * tombstone it would have met is still there (mero-state.h). */
static gboolean
ignore_stale (MeroStateTxn *txn)
{
  txn->stale_ignored++;
  return TRUE;
}

MeroStateTxn *
mero_state_txn_new (MeroState *state)
{
  MeroStateTxn *txn = g_new0 (MeroStateTxn, 1);

  txn->state = state;
  txn->cache = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                      (GDestroyNotify) mero_entity_free);
  txn->bcache = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                       (GDestroyNotify) mero_entity_free);
  txn->dirty = g_hash_table_new (NULL, NULL);
  txn->modified = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (txn->levels); i++)
    txn->levels[i] = g_ptr_array_new ();
  txn->indexes = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                        (GDestroyNotify) txn_index_free);
  txn->bindexes = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                         (GDestroyNotify) txn_index_free);
  return txn;
}

void
mero_state_txn_free (MeroStateTxn *txn)
{
  if (txn == NULL)
    return;
  for (guint i = 0; i < G_N_ELEMENTS (txn->levels); i++)
    g_ptr_array_unref (txn->levels[i]);
  g_hash_table_unref (txn->dirty);
  g_hash_table_unref (txn->modified);
  g_hash_table_unref (txn->indexes);
  g_hash_table_unref (txn->bindexes);
  g_hash_table_unref (txn->cache);
  g_hash_table_unref (txn->bcache);
  g_free (txn);
}

/* Borrowed entity (or bucket, when @bucket) from the overlay or the
 * store; *out NULL if absent. */
static gboolean
txn_load_node (MeroStateTxn *txn, const guint8 id[MERO_ENTITY_ID_LEN], gboolean bucket,
               MeroEntity **out, GError **error)
{
  GHashTable *table = bucket ? txn->bcache : txn->cache;
  MeroEntity *e = g_hash_table_lookup (table, id);

  if (e == NULL)
    {
      if (!(bucket ? mero_state_load_bucket (txn->state, id, &e, error)
                   : mero_state_get_entity (txn->state, id, &e, error)))
        return FALSE;
      if (e != NULL)
        g_hash_table_insert (table, e->id, e);
    }
  *out = e;
  return TRUE;
}

static gboolean
txn_load (MeroStateTxn *txn, const guint8 id[MERO_ENTITY_ID_LEN], MeroEntity **out,
          GError **error)
{
  return txn_load_node (txn, id, FALSE, out, error);
}

static gboolean
is_bucket (const MeroEntity *e)
{
  return e->crdt_type == MERO_CRDT_BUCKET;
}

/* Is @e's physical parent a bucket?  Every entity but the root sits in a
 * leaf bucket; a bucket's physical parent is its holder (an entity) at
 * level 1 and the bucket above otherwise. */
static gboolean
phys_parent_is_bucket (const MeroEntity *e)
{
  if (!is_bucket (e))
    return TRUE;
  return memcmp (e->phys_parent, e->parent, MERO_ENTITY_ID_LEN) != 0;
}

static void
txn_mark_dirty (MeroStateTxn *txn, MeroEntity *e)
{
  if (g_hash_table_add (txn->dirty, e))
    g_ptr_array_add (txn->levels[e->phys_depth], e);
}

/* @e's record changed: write it, and recompute it and its ancestors. */
static void
txn_mark_modified (MeroStateTxn *txn, MeroEntity *e)
{
  g_hash_table_add (txn->modified, e);
  txn_mark_dirty (txn, e);
}

static MeroEntity *
txn_insert_new (MeroStateTxn *txn, MeroEntity *e)
{
  GHashTable *indexes = is_bucket (e) ? txn->bindexes : txn->indexes;

  g_hash_table_insert (is_bucket (e) ? txn->bcache : txn->cache, e->id, e);
  /* A node that did not exist has no child index record: neither a bucket
   * (never deleted once written) nor an entity (collected only once its
   * index is empty) leaves one behind.  Saves the point read (a miss,
   * through every level's bloom filter) of each new node's index. */
  if (!g_hash_table_contains (indexes, e->id))
    {
      TxnIndex *idx = g_new0 (TxnIndex, 1);

      memcpy (idx->parent, e->id, MERO_ENTITY_ID_LEN);
      idx->bucket = is_bucket (e);
      idx->kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));
      g_hash_table_insert (indexes, idx->parent, idx);
    }
  txn_mark_modified (txn, e);
  return e;
}

static gboolean
txn_ensure_root (MeroStateTxn *txn, GError **error)
{
  MeroEntity *root = NULL;

  if (!txn_load (txn, txn->state->ctx, &root, error))
    return FALSE;
  if (root == NULL)
    {
      root = mero_entity_new ();
      memcpy (root->id, txn->state->ctx, MERO_ENTITY_ID_LEN);
      root->crdt_type = MERO_CRDT_RECORD;
      txn_insert_new (txn, root);
    }
  return TRUE;
}

/* The bucket at @level (1-based) above @child_id under @holder. */
static gboolean
txn_ensure_bucket (MeroStateTxn *txn, MeroEntity *holder, const guint8 *above, guint level,
                   const guint8 child_id[MERO_ENTITY_ID_LEN], MeroEntity **out, GError **error)
{
  guint8 id[MERO_ENTITY_ID_LEN];
  MeroEntity *b = NULL;

  mero_entity_bucket_id (holder->id, child_id, level, id);
  if (!txn_load_node (txn, id, TRUE, &b, error))
    return FALSE;
  if (b == NULL)
    {
      const MeroEntity *phys = above != NULL ? g_hash_table_lookup (txn->bcache, above) : holder;

      b = mero_entity_new ();
      memcpy (b->id, id, MERO_ENTITY_ID_LEN);
      memcpy (b->parent, holder->id, MERO_ENTITY_ID_LEN);
      memcpy (b->phys_parent, phys->id, MERO_ENTITY_ID_LEN);
      b->has_parent = TRUE;
      b->crdt_type = MERO_CRDT_BUCKET;
      b->depth = holder->depth;
      b->phys_depth = phys->phys_depth + 1;
      txn_insert_new (txn, b);
    }
  *out = b;
  return TRUE;
}

/* A child written at or before its parent's last Clear is deleted by it,
 * whenever it arrives (mero-state.h). */
static void
apply_cleared (MeroStateTxn *txn, MeroEntity *e, const MeroEntity *parent)
{
  if (parent == NULL || mero_hlc_is_zero (&parent->cleared_at)
      || mero_hlc_compare (&e->updated_at, &parent->cleared_at) > 0
      || mero_hlc_compare (&e->deleted_at, &parent->cleared_at) >= 0)
    return;
  e->deleted_at = parent->cleared_at;
  txn_mark_modified (txn, e);
}

static gboolean
check_target (const MeroEntity *e, GError **error)
{
  if (!e->has_parent || e->crdt_type == MERO_CRDT_BUCKET)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "actions may not target the root or a bucket");
      return FALSE;
    }
  return TRUE;
}

static gboolean
txn_add (MeroStateTxn *txn, const MeroAction *a, const MeroHlc *ts, GError **error)
{
  MeroEntity *parent = NULL;
  MeroEntity *e = NULL;
  MeroEntity *b1 = NULL;   /* the bucket above, while walking down */
  MeroEntity *b2 = NULL;

  static const guint8 zero[MERO_ENTITY_ID_LEN] = { 0 };

  if (a->crdt_type >= MERO_CRDT_N_TYPES || a->crdt_type == MERO_CRDT_BUCKET
      || memcmp (a->id, txn->state->ctx, MERO_ENTITY_ID_LEN) == 0
      || memcmp (a->id, zero, MERO_ENTITY_ID_LEN) == 0
      || memcmp (a->id, a->parent, MERO_ENTITY_ID_LEN) == 0)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "Add with crdt type %u, root, zero or self-parented id", a->crdt_type);
      return FALSE;
    }
  if (!txn_ensure_root (txn, error) || !txn_load (txn, a->parent, &parent, error))
    return FALSE;
  if (parent == NULL || (parent->has_parent && !mero_entity_is_self_live (parent)))
    {
      gboolean stale = FALSE;

      if (!is_stale (txn, ts, &stale, error))
        return FALSE;
      if (stale)
        return ignore_stale (txn);
    }
  if (parent == NULL)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_UNKNOWN_PARENT,
                   "Add under an unknown parent");
      return FALSE;
    }
  if (parent->crdt_type == MERO_CRDT_BUCKET)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "Add under a bucket");
      return FALSE;
    }
  if (parent->depth + 1 > MERO_ENTITY_MAX_DEPTH)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_DEEP,
                   "Add deeper than %d", MERO_ENTITY_MAX_DEPTH);
      return FALSE;
    }
  if (!txn_load (txn, a->id, &e, error))
    return FALSE;
  if (e != NULL && !check_target (e, error))
    return FALSE;
  if (e == NULL || !mero_entity_is_self_live (e))
    {
      gboolean stale = FALSE;

      if (!is_stale (txn, ts, &stale, error))
        return FALSE;
      if (stale)
        return ignore_stale (txn);
    }
  if (e != NULL)
    {
      if (memcmp (e->parent, a->parent, MERO_ENTITY_ID_LEN) != 0)
        {
          g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                       "Add would move an existing entity to another parent");
          return FALSE;
        }
      if (mero_hlc_compare (ts, &e->updated_at) >= 0)
        {
          mero_entity_set_data (e, a->data, a->data_len);
          e->crdt_type = a->crdt_type;
          e->updated_at = *ts;
          txn_mark_modified (txn, e);
          apply_cleared (txn, e, parent);
        }
      return TRUE;
    }
  for (guint level = 1; level <= MERO_ENTITY_BUCKET_LEVELS; level++)
    {
      if (!txn_ensure_bucket (txn, parent, b1 != NULL ? b1->id : NULL, level, a->id, &b2, error))
        return FALSE;
      b1 = b2;
    }
  e = mero_entity_new ();
  memcpy (e->id, a->id, MERO_ENTITY_ID_LEN);
  memcpy (e->parent, a->parent, MERO_ENTITY_ID_LEN);
  memcpy (e->phys_parent, b2->id, MERO_ENTITY_ID_LEN);
  e->has_parent = TRUE;
  e->crdt_type = a->crdt_type;
  e->depth = parent->depth + 1;
  e->phys_depth = b2->phys_depth + 1;
  e->created_at = *ts;
  e->updated_at = *ts;
  mero_entity_set_data (e, a->data, a->data_len);
  txn_insert_new (txn, e);
  apply_cleared (txn, e, parent);
  return TRUE;
}

static gboolean txn_index (MeroStateTxn *txn, const guint8 parent[MERO_ENTITY_ID_LEN],
                           gboolean bucket, TxnIndex **out, GError **error);

static void
clear_one (MeroStateTxn *txn, MeroEntity *c, const MeroHlc *ts)
{
  if (mero_entity_is_self_live (c) && mero_hlc_compare (&c->updated_at, ts) <= 0)
    {
      c->deleted_at = *ts;
      txn_mark_modified (txn, c);
    }
}

/* The live children of the entity whose buckets start at @id (@level 0:
 * the entity itself), through the txn's view of the indexes. */
static gboolean
clear_walk (MeroStateTxn *txn, const guint8 id[MERO_ENTITY_ID_LEN], guint level,
            const MeroHlc *ts, GError **error)
{
  TxnIndex *idx = NULL;
  g_autoptr (GArray) kids = NULL;

  if (!txn_index (txn, id, level > 0, &idx, error))
    return FALSE;
  /* A copy: loading may not touch it, but the walk must not depend on it. */
  kids = g_array_copy (idx->kids);
  for (guint i = 0; i < kids->len; i++)
    {
      const guint8 *child = g_array_index (kids, MeroEntityChildHash, i).id;
      MeroEntity *c = NULL;

      if (level < MERO_ENTITY_BUCKET_LEVELS)
        {
          if (!clear_walk (txn, child, level + 1, ts, error))
            return FALSE;
          continue;
        }
      if (!txn_load (txn, child, &c, error))
        return FALSE;
      if (c != NULL)
        clear_one (txn, c, ts);
    }
  return TRUE;
}

/* Clear: O(live children) once, then O(1) per later write (apply_cleared). */
static gboolean
txn_clear (MeroStateTxn *txn, const MeroAction *a, const MeroHlc *ts, GError **error)
{
  MeroEntity *e = NULL;
  GHashTableIter it;
  gpointer v;

  if (!txn_load (txn, a->id, &e, error))
    return FALSE;
  /* Unknown: collected or never there; nothing live under it. */
  if (e == NULL)
    return TRUE;
  if (!check_target (e, error))
    return FALSE;
  if (mero_hlc_compare (ts, &e->cleared_at) <= 0)
    return TRUE;
  e->cleared_at = *ts;
  txn_mark_modified (txn, e);
  if (!clear_walk (txn, e->id, 0, ts, error))
    return FALSE;
  /* Children this txn added are not in the indexes until finish. */
  g_hash_table_iter_init (&it, txn->cache);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      MeroEntity *c = v;

      if (c->has_parent && memcmp (c->parent, e->id, MERO_ENTITY_ID_LEN) == 0)
        clear_one (txn, c, ts);
    }
  return TRUE;
}

gboolean
mero_state_txn_apply (MeroStateTxn *txn, const MeroAction *a, const MeroHlc *ts, GError **error)
{
  MeroEntity *e = NULL;

  g_return_val_if_fail (txn != NULL && a != NULL && ts != NULL, FALSE);
  if (a->data_len > MERO_ENTITY_MAX_DATA)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_LARGE,
                   "entity data of %" G_GSIZE_FORMAT " bytes exceeds %d", a->data_len,
                   MERO_ENTITY_MAX_DATA);
      return FALSE;
    }
  switch (a->kind)
    {
    case MERO_ACTION_ADD:
      return txn_add (txn, a, ts, error);
    case MERO_ACTION_UPDATE:
      if (memcmp (a->id, txn->state->ctx, MERO_ENTITY_ID_LEN) == 0)
        {
          g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                       "actions may not target the root or a bucket");
          return FALSE;
        }
      if (!txn_load (txn, a->id, &e, error))
        return FALSE;
      if (e == NULL || !mero_entity_is_self_live (e))
        {
          gboolean stale = FALSE;

          if (!is_stale (txn, ts, &stale, error))
            return FALSE;
          if (stale)
            return ignore_stale (txn);
        }
      if (e == NULL)
        {
          g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_UNKNOWN_ENTITY,
                       "Update of an unknown entity");
          return FALSE;
        }
      if (!check_target (e, error))
        return FALSE;
      if (mero_hlc_compare (ts, &e->updated_at) >= 0)
        {
          MeroEntity *parent = NULL;

          mero_entity_set_data (e, a->data, a->data_len);
          e->updated_at = *ts;
          txn_mark_modified (txn, e);
          if (!txn_load (txn, e->parent, &parent, error))
            return FALSE;
          apply_cleared (txn, e, parent);
        }
      return TRUE;
    case MERO_ACTION_CLEAR:
      return txn_clear (txn, a, ts, error);
    case MERO_ACTION_DELETE_REF:
      if (!txn_load (txn, a->id, &e, error))
        return FALSE;
      /* Unknown: already collected (dead) or never existed; either way
       * there is nothing live to remove. */
      if (e == NULL)
        return TRUE;
      if (!check_target (e, error))
        return FALSE;
      if (mero_hlc_compare (ts, &e->deleted_at) > 0)
        {
          e->deleted_at = *ts;
          txn_mark_modified (txn, e);
        }
      return TRUE;
    default:
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "unknown action kind %d", a->kind);
      return FALSE;
    }
}

static gboolean
txn_index (MeroStateTxn *txn, const guint8 parent[MERO_ENTITY_ID_LEN], gboolean bucket,
           TxnIndex **out, GError **error)
{
  GHashTable *table = bucket ? txn->bindexes : txn->indexes;
  TxnIndex *idx = g_hash_table_lookup (table, parent);

  if (idx == NULL)
    {
      g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));

      if (!mero_state_read_index (txn->state, parent, bucket, kids, error))
        return FALSE;
      /* Written sorted by us; a record that is not would break the
       * binary search below, so put it back in order once. */
      mero_entity_children_sort ((MeroEntityChildHash *) (void *) kids->data, kids->len);
      idx = g_new0 (TxnIndex, 1);
      memcpy (idx->parent, parent, MERO_ENTITY_ID_LEN);
      idx->bucket = bucket;
      idx->kids = g_steal_pointer (&kids);
      g_hash_table_insert (table, idx->parent, idx);
    }
  *out = idx;
  return TRUE;
}

/* Index of @child in @kids, or where it would be inserted (*found FALSE). */
static guint
kids_find (GArray *kids, const guint8 child[MERO_ENTITY_ID_LEN], gboolean *found)
{
  guint lo = 0, hi = kids->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      int cmp = memcmp (g_array_index (kids, MeroEntityChildHash, mid).id, child,
                        MERO_ENTITY_ID_LEN);

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
  *found = FALSE;
  return lo;
}

static gboolean
txn_set_child (MeroStateTxn *txn, const guint8 parent[MERO_ENTITY_ID_LEN], gboolean bucket,
               const guint8 child[MERO_ENTITY_ID_LEN], gboolean present,
               const guint8 hash[MERO_HASH_LEN], GError **error)
{
  TxnIndex *idx = NULL;
  gboolean found = FALSE;
  guint at;

  if (!txn_index (txn, parent, bucket, &idx, error))
    return FALSE;
  at = kids_find (idx->kids, child, &found);
  if (present)
    {
      MeroEntityChildHash c;

      if (found)
        {
          MeroEntityChildHash *cur = &g_array_index (idx->kids, MeroEntityChildHash, at);

          if (memcmp (cur->full_hash, hash, MERO_HASH_LEN) == 0)
            return TRUE;
          memcpy (cur->full_hash, hash, MERO_HASH_LEN);
        }
      else
        {
          memcpy (c.id, child, MERO_ENTITY_ID_LEN);
          memcpy (c.full_hash, hash, MERO_HASH_LEN);
          g_array_insert_val (idx->kids, at, c);
        }
    }
  else if (found)
    g_array_remove_index (idx->kids, at);
  else
    return TRUE;
  idx->changed = TRUE;
  return TRUE;
}

static gboolean
txn_recompute (MeroStateTxn *txn, MeroEntity *e, GError **error)
{
  gboolean is_root = !e->has_parent;
  gboolean bucket = is_bucket (e);
  gboolean live = is_root || bucket || mero_entity_is_self_live (e);
  gboolean phys_bucket;
  guint8 full[MERO_HASH_LEN] = { 0 };
  MeroEntity *phys = NULL;

  if (live)
    {
      TxnIndex *idx = NULL;

      if (!txn_index (txn, e->id, bucket, &idx, error))
        return FALSE;
      /* An empty bucket weighs nothing: replicas that never made it or
       * emptied it agree. */
      if (bucket && idx->kids->len == 0)
        live = FALSE;
      else
        mero_entity_full_hash (e->own_hash, (MeroEntityChildHash *) (void *) idx->kids->data,
                               idx->kids->len, full);
    }
  if (is_root)
    {
      memcpy (e->full_hash, full, MERO_HASH_LEN);
      g_hash_table_add (txn->modified, e);
      return TRUE;
    }
  /* Something under (or in) @e changed, so its hash did: no comparison
   * with the old one, which is not kept outside the parent's index. */
  phys_bucket = phys_parent_is_bucket (e);
  if (!txn_set_child (txn, e->phys_parent, phys_bucket, e->id, live, full, error))
    return FALSE;
  if (!txn_load_node (txn, e->phys_parent, phys_bucket, &phys, error))
    return FALSE;
  /* A collected ancestor: the subtree is detached and dead already. */
  if (phys != NULL)
    txn_mark_dirty (txn, phys);
  return TRUE;
}

gboolean
mero_state_txn_finish (MeroStateTxn *txn, MeroStoreBatch *batch, guint8 root[MERO_HASH_LEN],
                       GError **error)
{
  GHashTableIter it;
  gpointer k, v;
  MeroEntity *r = NULL;
  MeroStateIndexCommit *ixc;

  /* Deepest first: a parent is recomputed after all its changed children. */
  for (gint d = MERO_ENTITY_MAX_PHYS_DEPTH; d >= 0; d--)
    for (guint i = 0; i < txn->levels[d]->len; i++)
      if (!txn_recompute (txn, g_ptr_array_index (txn->levels[d], i), error))
        return FALSE;
  ixc = mero_state_index_commit_new (txn->state, batch);
  g_hash_table_iter_init (&it, txn->modified);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      const MeroEntity *e = k;
      MeroKey key = is_bucket (e) ? mero_state_bucket_key (txn->state, e->id)
                                  : mero_key_state (txn->state->ctx, e->id);
      g_autoptr (GBytes) rec = mero_entity_encode (e);

      mero_store_batch_put (batch, &key, g_bytes_get_data (rec, NULL), g_bytes_get_size (rec));
      /* Plugin indexes see each entity record as it was committed and as
       * this batch writes it (mero-state-index.h): one point read, only
       * when an index is attached. */
      if (ixc != NULL && !is_bucket (e))
        {
          g_autoptr (MeroEntity) old = NULL;

          if (!mero_state_get_entity (txn->state, e->id, &old, error)
              || !mero_state_index_commit_record (ixc, old, e, error))
            {
              mero_state_index_commit_free (ixc);
              return FALSE;
            }
        }
    }
  mero_state_index_commit_finish (ixc);
  mero_state_index_commit_free (ixc);
  for (guint t = 0; t < 2; t++)
    {
      g_hash_table_iter_init (&it, t == 0 ? txn->indexes : txn->bindexes);
      while (g_hash_table_iter_next (&it, NULL, &v))
        {
          const TxnIndex *idx = v;
          MeroKey key;

          if (!idx->changed)
            continue;
          key = mero_state_index_key (txn->state, idx->parent, idx->bucket);
          if (idx->kids->len > 0)
            mero_store_batch_put (batch, &key, (const guint8 *) idx->kids->data,
                                  idx->kids->len * sizeof (MeroEntityChildHash));
          else
            mero_store_batch_delete (batch, &key);
        }
    }
  if (!txn_load (txn, txn->state->ctx, &r, error))
    return FALSE;
  if (r == NULL)
    memset (root, 0, MERO_HASH_LEN);
  else
    memcpy (root, r->full_hash, MERO_HASH_LEN);
  return TRUE;
}
