/* mero-state-gc.c: bounded tombstone collection. */
#include <string.h>

#include "context/state/mero-state-index.h"
#include "context/state/mero-state-private.h"

static gboolean
mero_key_id_is_zero (const guint8 *id)
{
  static const guint8 zero[MERO_ENTITY_ID_LEN] = { 0 };

  return memcmp (id, zero, MERO_ENTITY_ID_LEN) == 0;
}

static gboolean
has_index_entries (MeroState *state, const guint8 id[MERO_ENTITY_ID_LEN], gboolean *has,
                   GError **error)
{
  g_autoptr (GArray) kids = g_array_new (FALSE, FALSE, sizeof (MeroEntityChildHash));

  if (!mero_state_read_index (state, id, FALSE, kids, error))
    return FALSE;
  *has = kids->len > 0;
  return TRUE;
}

gboolean
mero_state_gc (MeroState *state, guint64 now_ms, guint64 retention_ms, guint max_visit,
               GBytes **cursor, guint *removed, GError **error)
{
  MeroKey prefix = mero_key_prefix_state (state->ctx);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (state->store, NULL, &prefix);
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (state->store);
  /* Plugin indexes drop what the GC removes, in its batch. */
  g_autoptr (MeroStateIndexCommit) ixc = NULL;
  g_autoptr (GBytes) next = NULL;
  gboolean ok;
  guint visited = 0;
  MeroHlc frontier, newest;

  *removed = 0;
  if (!mero_state_collected_frontier (state, &frontier, error))
    return FALSE;
  newest = frontier;
  if (*cursor != NULL)
    {
      MeroKey from;

      if (!mero_key_from_bytes (&from, MERO_COLUMN_STATE, g_bytes_get_data (*cursor, NULL),
                                g_bytes_get_size (*cursor)))
        g_clear_pointer (cursor, g_bytes_unref);
      ok = *cursor != NULL ? mero_store_iter_seek (it, &from) : mero_store_iter_first (it);
    }
  else
    ok = mero_store_iter_first (it);

  for (; ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);
      g_autoptr (GBytes) v = NULL;
      g_autoptr (MeroEntity) e = NULL;
      gboolean busy = FALSE;
      MeroKey key;

      if (visited++ >= max_visit)
        {
          next = g_bytes_new (k, klen);
          break;
        }
      /* Entity records only (not indexes, buckets, the frontier record). */
      if (klen != 2 * MERO_ENTITY_ID_LEN || mero_key_id_is_zero (k + MERO_ENTITY_ID_LEN))
        continue;
      v = mero_store_iter_value (it);
      e = mero_entity_decode (g_bytes_get_data (v, NULL), g_bytes_get_size (v), error);
      if (e == NULL)
        return FALSE;
      if (!e->has_parent || e->crdt_type == MERO_CRDT_BUCKET || mero_entity_is_self_live (e)
          || mero_hlc_physical_ms (&e->deleted_at) + retention_ms > now_ms)
        continue;
      /* A live child under it would come back if the entity were revived;
       * keep the tombstone until the subtree is empty. */
      if (!has_index_entries (state, e->id, &busy, error))
        return FALSE;
      if (busy)
        continue;
      key = mero_key_state (state->ctx, e->id);
      mero_store_batch_delete (batch, &key);
      if (ixc == NULL)
        ixc = mero_state_index_commit_new (state, batch);
      if (!mero_state_index_commit_record (ixc, e, NULL, error))
        return FALSE;
      (*removed)++;
      if (mero_hlc_compare (&e->deleted_at, &newest) > 0)
        newest = e->deleted_at;
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  /* The frontier moves in the batch that collects: a crash cannot leave a
   * tombstone gone without the rule that stands in for it (mero-state.h). */
  if (mero_hlc_compare (&newest, &frontier) > 0)
    {
      MeroKey fkey = mero_state_collected_key (state);
      guint8 enc[MERO_HLC_ENCODED_LEN];

      mero_hlc_encode (&newest, enc);
      mero_store_batch_put (batch, &fkey, enc, sizeof enc);
    }
  /* The indexes' writes join the batch before it commits. */
  mero_state_index_commit_finish (ixc);
  if (mero_store_batch_count (batch) > 0 && !mero_store_batch_commit (batch, error))
    return FALSE;
  state->frontier = newest;
  g_clear_pointer (cursor, g_bytes_unref);
  *cursor = g_steal_pointer (&next);
  return TRUE;
}
