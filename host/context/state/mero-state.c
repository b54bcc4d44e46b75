/* mero-state.c: the state object and committed reads. */
#include "context/state/mero-state.h"

#include <string.h>

#include "context/state/mero-state-private.h"

G_DEFINE_QUARK (mero-state-error-quark, mero_state_error)

/* The child index record is the array itself, byte for byte. */
G_STATIC_ASSERT (sizeof (MeroEntityChildHash) == MERO_ENTITY_ID_LEN + MERO_HASH_LEN);

MeroState *
mero_state_new (MeroStore *store, const guint8 ctx[MERO_ENTITY_ID_LEN])
{
  MeroState *state;

  g_return_val_if_fail (store != NULL && ctx != NULL, NULL);
  state = g_new0 (MeroState, 1);
  state->store = store;
  memcpy (state->ctx, ctx, MERO_ENTITY_ID_LEN);
  state->buckets = g_hash_table_new_full (mero_id_hash, mero_id_equal, NULL,
                                          (GDestroyNotify) mero_entity_free);
  state->indexes = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_state_index_free);
  return state;
}

void
mero_state_free (MeroState *state)
{
  if (state == NULL)
    return;
  g_hash_table_unref (state->buckets);
  g_ptr_array_unref (state->indexes);
  g_free (state);
}

const guint8 *
mero_state_context_id (MeroState *state)
{
  return state->ctx;
}

MeroStore *
mero_state_get_store (MeroState *state)
{
  return state->store;
}

gboolean
mero_state_get_entity (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], MeroEntity **out,
                       GError **error)
{
  MeroKey key = mero_key_state (state->ctx, id);
  g_autoptr (GBytes) value = NULL;
  gsize len = 0;
  const guint8 *bytes;

  *out = NULL;
  if (!mero_store_get (state->store, &key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  bytes = g_bytes_get_data (value, &len);
  *out = mero_entity_decode (bytes, len, error);
  return *out != NULL;
}

static const guint8 *
suffix (guint8 tag)
{
  /* 0: entity index (all zero), 1: bucket record, 2: bucket index. */
  static const guint8 tags[3][MERO_ENTITY_ID_LEN] = {
    { 0 }, { [MERO_ENTITY_ID_LEN - 1] = 1 }, { [MERO_ENTITY_ID_LEN - 1] = 2 },
  };

  return tags[tag];
}

MeroKey
mero_state_collected_key (MeroState *state)
{
  return mero_key_state (state->ctx, suffix (0));
}

gboolean
mero_state_collected_frontier (MeroState *state, MeroHlc *out, GError **error)
{
  if (!state->frontier_loaded)
    {
      MeroKey key = mero_state_collected_key (state);
      g_autoptr (GBytes) v = NULL;

      if (!mero_store_get (state->store, &key, &v, error))
        return FALSE;
      memset (&state->frontier, 0, sizeof state->frontier);
      if (v != NULL && g_bytes_get_size (v) != MERO_HLC_ENCODED_LEN)
        {
          g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT,
                       "collection frontier record of %" G_GSIZE_FORMAT " bytes",
                       g_bytes_get_size (v));
          return FALSE;
        }
      if (v != NULL)
        state->frontier = mero_hlc_decode (g_bytes_get_data (v, NULL));
      state->frontier_loaded = TRUE;
    }
  *out = state->frontier;
  return TRUE;
}

MeroKey
mero_state_bucket_key (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN])
{
  return mero_key_state_child (state->ctx, id, suffix (1));
}

gboolean
mero_state_load_bucket (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], MeroEntity **out,
                        GError **error)
{
  const MeroEntity *cached = g_hash_table_lookup (state->buckets, id);
  MeroKey key;
  g_autoptr (GBytes) value = NULL;
  gsize len = 0;
  const guint8 *bytes;

  *out = NULL;
  if (cached != NULL)
    {
      *out = mero_entity_copy (cached);
      return TRUE;
    }
  key = mero_state_bucket_key (state, id);
  if (!mero_store_get (state->store, &key, &value, error))
    return FALSE;
  if (value == NULL)
    return TRUE;
  bytes = g_bytes_get_data (value, &len);
  *out = mero_entity_decode (bytes, len, error);
  if (*out == NULL)
    return FALSE;
  if ((*out)->crdt_type != MERO_CRDT_BUCKET)
    {
      g_clear_pointer (out, mero_entity_free);
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT,
                   "a bucket record holds another kind of entity");
      return FALSE;
    }
    {
      MeroEntity *copy = mero_entity_copy (*out);

      if (g_hash_table_size (state->buckets) >= MERO_STATE_BUCKET_CACHE_MAX)
        g_hash_table_remove_all (state->buckets);
      g_hash_table_insert (state->buckets, copy->id, copy);
    }
  return TRUE;
}

gboolean
mero_state_root_hash (MeroState *state, guint8 out[MERO_HASH_LEN], GError **error)
{
  g_autoptr (MeroEntity) root = NULL;

  if (!mero_state_get_entity (state, state->ctx, &root, error))
    return FALSE;
  if (root == NULL)
    memset (out, 0, MERO_HASH_LEN);
  else
    memcpy (out, root->full_hash, MERO_HASH_LEN);
  return TRUE;
}

gboolean
mero_state_entity_is_live (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], gboolean *live,
                           GError **error)
{
  guint8 cur[MERO_ENTITY_ID_LEN];

  memcpy (cur, id, MERO_ENTITY_ID_LEN);
  *live = FALSE;
  /* Bounded: depth is capped when entities are added. */
  for (guint hop = 0; hop <= MERO_ENTITY_MAX_DEPTH; hop++)
    {
      g_autoptr (MeroEntity) e = NULL;

      if (!mero_state_get_entity (state, cur, &e, error))
        return FALSE;
      if (e == NULL)
        return TRUE;
      if (!e->has_parent)
        {
          *live = TRUE;   /* reached the root */
          return TRUE;
        }
      if (!mero_entity_is_self_live (e))
        return TRUE;
      memcpy (cur, e->parent, MERO_ENTITY_ID_LEN);
    }
  return TRUE;
}

MeroKey
mero_state_index_key (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN], gboolean bucket)
{
  return mero_key_state_child (state->ctx, parent, suffix (bucket ? 2 : 0));
}

gboolean
mero_state_read_index (MeroState *state, const guint8 parent[MERO_ENTITY_ID_LEN],
                       gboolean bucket, GArray *out, GError **error)
{
  MeroKey key = mero_state_index_key (state, parent, bucket);
  g_autoptr (GBytes) v = NULL;
  gsize len = 0;
  const guint8 *p;

  if (!mero_store_get (state->store, &key, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  p = g_bytes_get_data (v, &len);
  if (len % sizeof (MeroEntityChildHash) != 0)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT,
                   "child index record of %" G_GSIZE_FORMAT " bytes", len);
      return FALSE;
    }
  g_array_append_vals (out, p, len / sizeof (MeroEntityChildHash));
  return TRUE;
}

static gboolean
collect_live (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], guint level,
              GPtrArray *out, GError **error)
{
  g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));

  if (!mero_state_read_index (state, id, level > 0, kids, error))
    return FALSE;
  for (guint i = 0; i < kids->len; i++)
    {
      const MeroEntityChildHash *c = &g_array_index (kids, MeroEntityChildHash, i);

      if (level < MERO_ENTITY_BUCKET_LEVELS)
        {
          if (!collect_live (state, c->id, level + 1, out, error))
            return FALSE;
        }
      else
        {
          MeroEntity *e = NULL;

          if (!mero_state_get_entity (state, c->id, &e, error))
            return FALSE;
          if (e == NULL)
            {
              g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT,
                           "child index names a missing entity");
              return FALSE;
            }
          g_ptr_array_add (out, e);
        }
    }
  return TRUE;
}

static int
entity_cmp (gconstpointer a, gconstpointer b)
{
  return memcmp ((*(MeroEntity *const *) a)->id, (*(MeroEntity *const *) b)->id,
                 MERO_ENTITY_ID_LEN);
}

gboolean
mero_state_live_children (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], GPtrArray **out,
                          GError **error)
{
  g_autoptr (GPtrArray) arr = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_entity_free);

  if (!collect_live (state, id, 0, arr, error))
    return FALSE;
  /* Buckets group by leading nibbles but each index is in bucket-id
   * order, so the walk is not in entity-id order; sort for a documented
   * order. */
  g_ptr_array_sort (arr, entity_cmp);
  *out = g_steal_pointer (&arr);
  return TRUE;
}
