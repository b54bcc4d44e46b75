/* mero-group-dag-store.c: a group's ops and opened keys in the GROUP
 * column.
 *
 *   group[32] || 0x01 || op id[32]  ->  u32 depth (BE) || encoded op
 *   group[32] || 0x02 || key id[32] ->  key[32]   (only keys this node opened)
 *
 * Ops are stored only after they passed every check, so loading trusts
 * them (no signature re-verification) and folds them in (depth, id)
 * order, which the depth prefix gives without walking the DAG. */
#include "context/group/mero-group-dag-private.h"

#include <string.h>

#define REC_OP 0x01
#define REC_KEY 0x02

gboolean
mero_group_dag_store_op (MeroGroupDag *dag, MeroGroupNode *node, GError **error)
{
  MeroKey key;
  g_autoptr (GByteArray) value = NULL;
  guint8 depth[4] = { node->depth >> 24, node->depth >> 16, node->depth >> 8, node->depth };
  g_autoptr (GError) local = NULL;

  if (dag->store == NULL)
    return TRUE;
  mero_key_group (&key, dag->group_id, REC_OP, node->id, MERO_GROUP_ID_LEN);
  value = g_byte_array_sized_new (4 + g_bytes_get_size (node->encoded));
  g_byte_array_append (value, depth, 4);
  g_byte_array_append (value, g_bytes_get_data (node->encoded, NULL),
                       g_bytes_get_size (node->encoded));
  if (!mero_store_put (dag->store, &key, value->data, value->len, &local))
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_STORE, "storing group op: %s",
                   local->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_group_dag_store_key (MeroGroupDag *dag, const guint8 key_id[MERO_GROUP_ID_LEN],
                          const guint8 key[MERO_GROUP_GROUP_KEY_LEN], GError **error)
{
  MeroKey k;
  g_autoptr (GError) local = NULL;

  if (dag->store == NULL)
    return TRUE;
  mero_key_group (&k, dag->group_id, REC_KEY, key_id, MERO_GROUP_ID_LEN);
  if (!mero_store_put (dag->store, &k, key, MERO_GROUP_GROUP_KEY_LEN, &local))
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_STORE, "storing group key: %s",
                   local->message);
      return FALSE;
    }
  return TRUE;
}

static int
node_ptr_cmp (gconstpointer a, gconstpointer b)
{
  const MeroGroupNode *x = *(MeroGroupNode *const *) a;
  const MeroGroupNode *y = *(MeroGroupNode *const *) b;

  if (x->depth != y->depth)
    return x->depth < y->depth ? -1 : 1;
  return memcmp (x->id, y->id, MERO_GROUP_ID_LEN);
}

static gboolean
corrupt (GError **error, const char *what)
{
  g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_STORE, "stored group op %s", what);
  return FALSE;
}

static gboolean
load_ops (MeroGroupDag *dag, GPtrArray *loaded, GError **error)
{
  MeroKey prefix = mero_key_prefix_group_record (dag->group_id, REC_OP);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (dag->store, NULL, &prefix);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      gsize len = 0;
      const guint8 *v = g_bytes_get_data (value, &len);
      g_autoptr (GError) local = NULL;
      MeroGroupNode *node;
      MeroGroupOp *op;

      if (len < 4)
        return corrupt (error, "is truncated");
      op = mero_group_op_decode (v + 4, len - 4, &local);
      if (op == NULL)
        return corrupt (error, local->message);
      node = g_new0 (MeroGroupNode, 1);
      node->op = op;
      memcpy (node->id, op->id, MERO_GROUP_ID_LEN);
      node->depth = ((guint32) v[0] << 24) | ((guint32) v[1] << 16) | ((guint32) v[2] << 8) | v[3];
      node->encoded = g_bytes_new_from_bytes (value, 4, len - 4);
      g_ptr_array_add (loaded, node);
    }
  return mero_store_iter_check (it, error);
}

static gboolean
load_keys (MeroGroupDag *dag, GError **error)
{
  MeroKey prefix = mero_key_prefix_group_record (dag->group_id, REC_KEY);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (dag->store, NULL, &prefix);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);

      if (klen != 2 * MERO_GROUP_ID_LEN + 1 || g_bytes_get_size (value) != MERO_GROUP_GROUP_KEY_LEN)
        return corrupt (error, "key record has a bad size");
      g_hash_table_insert (dag->keys, g_memdup2 (k + MERO_GROUP_ID_LEN + 1, MERO_GROUP_ID_LEN),
                           g_memdup2 (g_bytes_get_data (value, NULL), MERO_GROUP_GROUP_KEY_LEN));
    }
  return mero_store_iter_check (it, error);
}

gboolean
mero_group_dag_store_load (MeroGroupDag *dag, GError **error)
{
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func (mero_group_node_free);

  if (dag->store == NULL)
    return TRUE;
  if (!load_ops (dag, loaded, error) || !load_keys (dag, error))
    return FALSE;
  g_ptr_array_sort (loaded, node_ptr_cmp);
  for (guint i = 0; i < loaded->len; i++)
    {
      MeroGroupNode *node = g_ptr_array_index (loaded, i);
      const GArray *parents = node->op->parents;
      guint64 *max;

      node->closed = mero_group_dag_is_current_heads (dag, (const guint8 *) parents->data,
                                                      parents->len);
      for (guint j = 0; j < parents->len; j++)
        {
          const guint8 *pid = (const guint8 *) parents->data + j * MERO_GROUP_ID_LEN;
          if (!g_hash_table_contains (dag->nodes, pid))
            return corrupt (error, "cites a parent that is not stored");
          g_hash_table_remove (dag->heads, pid);
        }
      g_ptr_array_index (loaded, i) = NULL;
      mero_group_node_link (dag, node);
      g_hash_table_insert (dag->nodes, node->id, node);
      g_hash_table_add (dag->heads, node->id);
      mero_group_dag_fold_insert (dag, node);
      max = g_hash_table_lookup (dag->max_nonce, node->op->signer);
      if (max == NULL || *max < node->op->nonce)
        g_hash_table_insert (dag->max_nonce, g_memdup2 (node->op->signer, MERO_GROUP_ID_LEN),
                             g_memdup2 (&node->op->nonce, sizeof (guint64)));
    }
  return TRUE;
}

GArray *
mero_group_list_groups (MeroStore *store, GError **error)
{
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, MERO_GROUP_ID_LEN);
  MeroKey prefix = mero_key_prefix_column (MERO_COLUMN_GROUP);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, NULL, &prefix);
  gboolean ok = mero_store_iter_first (it);

  /* One entry per group: after each, seek past every key of that group. */
  while (ok)
    {
      gsize len = 0;
      const guint8 *k = mero_store_iter_key (it, &len);
      guint8 next[MERO_GROUP_ID_LEN];
      MeroKey seek;
      int i;

      if (len < MERO_GROUP_ID_LEN)
        {
          ok = mero_store_iter_next (it);
          continue;
        }
      g_array_append_vals (out, k, 1);
      memcpy (next, k, MERO_GROUP_ID_LEN);
      for (i = MERO_GROUP_ID_LEN - 1; i >= 0 && ++next[i] == 0; i--)
        ;
      if (i < 0)
        break;
      seek = mero_key_prefix_group (next);
      ok = mero_store_iter_seek (it, &seek);
    }
  if (!mero_store_iter_check (it, error))
    return NULL;
  return g_steal_pointer (&out);
}

GArray *
mero_group_list_member_groups (MeroStore *store, const guint8 member[MERO_GROUP_KEY_LEN],
                               GError **error)
{
  g_autoptr (GArray) groups = mero_group_list_groups (store, error);
  g_autoptr (GArray) out = g_array_new (FALSE, FALSE, MERO_GROUP_ID_LEN);
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();

  if (groups == NULL)
    return NULL;
  for (guint i = 0; i < groups->len; i++)
    {
      const guint8 *gid = (const guint8 *) groups->data + i * MERO_GROUP_ID_LEN;
      g_autoptr (MeroGroupDag) dag = mero_group_dag_open (store, gid, metrics, error);

      if (dag == NULL)
        return NULL;
      if (mero_group_state_member (mero_group_dag_state (dag), member) != NULL)
        g_array_append_vals (out, gid, 1);
    }
  return g_steal_pointer (&out);
}
