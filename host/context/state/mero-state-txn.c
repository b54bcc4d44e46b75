/* mero-state-txn.c: applying actions and recomputing hashes bottom-up. */
#include <string.h>

#include "context/state/mero-state-private.h"

typedef struct {
  gboolean present;
  guint8 hash[MERO_HASH_LEN];
} ChildMod;

struct _MeroStateTxn {
  MeroState *state;
  GHashTable *cache;        /* id -> MeroEntity (owned); key is entity->id */
  GHashTable *dirty;        /* MeroEntity to recompute (borrowed from cache) */
  GHashTable *modified;     /* MeroEntity whose record changed: written */
  GPtrArray *levels[MERO_ENTITY_MAX_PHYS_DEPTH + 1];  /* dirty by phys depth */
  GHashTable *child_mods;   /* parent id (owned) -> GHashTable child id (owned) -> ChildMod */
  MeroStoreIter *iter;      /* over the context's state, during finish only */
};

MeroStateTxn *
mero_state_txn_new (MeroState *state)
{
  MeroStateTxn *txn = g_new0 (MeroStateTxn, 1);

  txn->state = state;
  txn->cache = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                      (GDestroyNotify) mero_entity_free);
  txn->dirty = g_hash_table_new (NULL, NULL);
  txn->modified = g_hash_table_new (NULL, NULL);
  for (guint i = 0; i < G_N_ELEMENTS (txn->levels); i++)
    txn->levels[i] = g_ptr_array_new ();
  txn->child_mods = g_hash_table_new_full (mero_id_hash, mero_id_equal, g_free,
                                           (GDestroyNotify) g_hash_table_unref);
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
  g_hash_table_unref (txn->child_mods);
  g_hash_table_unref (txn->cache);
  mero_store_iter_free (txn->iter);
  g_free (txn);
}

/* Borrowed entity from the overlay or the store; *out NULL if absent. */
static gboolean
txn_load (MeroStateTxn *txn, const guint8 id[MERO_ENTITY_ID_LEN], MeroEntity **out,
          GError **error)
{
  MeroEntity *e = g_hash_table_lookup (txn->cache, id);

  if (e == NULL)
    {
      if (!mero_state_get_entity (txn->state, id, &e, error))
        return FALSE;
      if (e != NULL)
        g_hash_table_insert (txn->cache, e->id, e);
    }
  *out = e;
  return TRUE;
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
  g_hash_table_insert (txn->cache, e->id, e);
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
  if (!txn_load (txn, id, &b, error))
    return FALSE;
  if (b != NULL && b->crdt_type != MERO_CRDT_BUCKET)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "an entity occupies the id of a bucket");
      return FALSE;
    }
  if (b == NULL)
    {
      const MeroEntity *phys = above != NULL ? g_hash_table_lookup (txn->cache, above) : holder;

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

  if (a->crdt_type >= MERO_CRDT_N_TYPES || a->crdt_type == MERO_CRDT_BUCKET
      || memcmp (a->id, txn->state->ctx, MERO_ENTITY_ID_LEN) == 0
      || memcmp (a->id, a->parent, MERO_ENTITY_ID_LEN) == 0)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "Add with crdt type %u, root or self-parented id", a->crdt_type);
      return FALSE;
    }
  if (!txn_ensure_root (txn, error) || !txn_load (txn, a->parent, &parent, error))
    return FALSE;
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
  if (e != NULL)
    {
      if (!check_target (e, error))
        return FALSE;
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
      if (!txn_load (txn, a->id, &e, error))
        return FALSE;
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
          mero_entity_set_data (e, a->data, a->data_len);
          e->updated_at = *ts;
          txn_mark_modified (txn, e);
        }
      return TRUE;
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

static void
txn_set_child (MeroStateTxn *txn, const guint8 parent[MERO_ENTITY_ID_LEN],
               const guint8 child[MERO_ENTITY_ID_LEN], gboolean present,
               const guint8 hash[MERO_HASH_LEN])
{
  GHashTable *mods = g_hash_table_lookup (txn->child_mods, parent);
  ChildMod *mod;

  if (mods == NULL)
    {
      mods = g_hash_table_new_full (mero_id_hash, mero_id_equal, g_free, g_free);
      g_hash_table_insert (txn->child_mods, g_memdup2 (parent, MERO_ENTITY_ID_LEN), mods);
    }
  mod = g_hash_table_lookup (mods, child);
  if (mod == NULL)
    {
      mod = g_new0 (ChildMod, 1);
      g_hash_table_insert (mods, g_memdup2 (child, MERO_ENTITY_ID_LEN), mod);
    }
  mod->present = present;
  if (present)
    memcpy (mod->hash, hash, MERO_HASH_LEN);
}

/* The child index of @id as it will be after this txn. */
static gboolean
txn_children (MeroStateTxn *txn, const guint8 id[MERO_ENTITY_ID_LEN], GArray *out,
              GError **error)
{
  GHashTable *mods = g_hash_table_lookup (txn->child_mods, id);
  g_autoptr (GArray) stored = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));
  GHashTableIter it;
  gpointer k, v;

  if (txn->iter == NULL)
    {
      MeroKey prefix = mero_key_prefix_state (txn->state->ctx);

      txn->iter = mero_store_iter_new (txn->state->store, NULL, &prefix);
    }
  if (!mero_state_scan_index_in (txn->state, txn->iter, id, stored, error))
    return FALSE;
  for (guint i = 0; i < stored->len; i++)
    {
      const MeroEntityChildHash *c = &g_array_index (stored, MeroEntityChildHash, i);

      if (mods == NULL || !g_hash_table_contains (mods, c->id))
        g_array_append_val (out, *c);
    }
  if (mods == NULL)
    return TRUE;
  g_hash_table_iter_init (&it, mods);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const ChildMod *mod = v;
      MeroEntityChildHash c;

      if (!mod->present)
        continue;
      memcpy (c.id, k, MERO_ENTITY_ID_LEN);
      memcpy (c.full_hash, mod->hash, MERO_HASH_LEN);
      g_array_append_val (out, c);
    }
  return TRUE;
}

static gboolean
txn_recompute (MeroStateTxn *txn, MeroEntity *e, GError **error)
{
  gboolean is_root = !e->has_parent;
  gboolean is_bucket = e->crdt_type == MERO_CRDT_BUCKET;
  gboolean live = is_root || is_bucket || mero_entity_is_self_live (e);
  guint8 full[MERO_HASH_LEN] = { 0 };
  MeroEntity *phys = NULL;

  if (live)
    {
      g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));

      if (!txn_children (txn, e->id, kids, error))
        return FALSE;
      /* An empty bucket weighs nothing: replicas that never made it or
       * emptied it agree. */
      if (is_bucket && kids->len == 0)
        live = FALSE;
      else
        mero_entity_full_hash (e->own_hash, (MeroEntityChildHash *) (void *) kids->data,
                               kids->len, full);
    }
  if (is_root)
    {
      memcpy (e->full_hash, full, MERO_HASH_LEN);
      g_hash_table_add (txn->modified, e);
      return TRUE;
    }
  /* Something under (or in) @e changed, so its hash did: no comparison
   * with the old one, which is not kept outside the parent's index. */
  txn_set_child (txn, e->phys_parent, e->id, live, full);
  if (!txn_load (txn, e->phys_parent, &phys, error))
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
  GHashTableIter it, cit;
  gpointer k, v, ck, cv;
  MeroEntity *r = NULL;

  /* Deepest first: a parent is recomputed after all its changed children. */
  for (gint d = MERO_ENTITY_MAX_PHYS_DEPTH; d >= 0; d--)
    for (guint i = 0; i < txn->levels[d]->len; i++)
      if (!txn_recompute (txn, g_ptr_array_index (txn->levels[d], i), error))
        return FALSE;
  /* The read view is not needed past here; callers may close the store
   * before dropping the txn. */
  g_clear_pointer (&txn->iter, mero_store_iter_free);

  g_hash_table_iter_init (&it, txn->modified);
  while (g_hash_table_iter_next (&it, &k, NULL))
    {
      const MeroEntity *e = k;
      MeroKey key = mero_key_state (txn->state->ctx, e->id);
      g_autoptr (GBytes) rec = mero_entity_encode (e);

      mero_store_batch_put (batch, &key, g_bytes_get_data (rec, NULL), g_bytes_get_size (rec));
    }
  g_hash_table_iter_init (&it, txn->child_mods);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      g_hash_table_iter_init (&cit, v);
      while (g_hash_table_iter_next (&cit, &ck, &cv))
        {
          const ChildMod *mod = cv;
          MeroKey key = mero_key_state_child (txn->state->ctx, k, ck);

          if (mod->present)
            mero_store_batch_put (batch, &key, mod->hash, MERO_HASH_LEN);
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
