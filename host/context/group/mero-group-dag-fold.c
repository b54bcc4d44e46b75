/* mero-group-dag-fold.c: the deterministic (depth, id) order of a DAG's
 * ops, the current state folded over it with checkpoints, and the state of
 * any cut. */
#include "context/group/mero-group-dag-private.h"

#include <string.h>

#include "context/group/mero-group-limits.h"
#include "crypto/mero-sha256.h"

#define INTERVAL MERO_GROUP_CHECKPOINT_INTERVAL

static int
node_cmp (const MeroGroupNode *a, const MeroGroupNode *b)
{
  if (a->depth != b->depth)
    return a->depth < b->depth ? -1 : 1;
  return memcmp (a->id, b->id, MERO_GROUP_ID_LEN);
}

/* Applies @node to @state if the rules pass there. */
static gboolean
fold_step (MeroGroupState *state, const MeroGroupNode *node, MeroGroupMutation *mutation)
{
  if (!mero_group_state_check (state, node->op, FALSE, NULL))
    return FALSE;
  mero_group_state_apply (state, node->op, mutation);
  return TRUE;
}

void
mero_group_dag_fold_init (MeroGroupDag *dag)
{
  dag->order = g_ptr_array_new ();
  dag->checkpoints = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_group_state_free);
  g_ptr_array_add (dag->checkpoints, mero_group_state_new ());
  dag->state = mero_group_state_new ();
}

/* Before folding position @pos: keep a copy every INTERVAL positions. */
static void
maybe_checkpoint (MeroGroupDag *dag, guint pos)
{
  if (pos % INTERVAL == 0 && pos / INTERVAL == dag->checkpoints->len)
    g_ptr_array_add (dag->checkpoints, mero_group_state_copy (dag->state));
}

static guint
find_position (MeroGroupDag *dag, const MeroGroupNode *node)
{
  guint lo = 0, hi = dag->order->len;

  while (lo < hi)
    {
      guint mid = lo + (hi - lo) / 2;
      if (node_cmp (g_ptr_array_index (dag->order, mid), node) < 0)
        lo = mid + 1;
      else
        hi = mid;
    }
  return lo;
}

void
mero_group_dag_fold_insert (MeroGroupDag *dag, MeroGroupNode *node)
{
  guint pos = find_position (dag, node);
  guint k;

  g_ptr_array_insert (dag->order, (gint) pos, node);
  for (guint i = pos; i < dag->order->len; i++)
    {
      MeroGroupNode *n = g_ptr_array_index (dag->order, i);
      n->position = i;
      /* @node is no ancestor of anything after it. */
      if (i > pos)
        n->closed = FALSE;
    }

  if (pos == dag->order->len - 1)
    {
      maybe_checkpoint (dag, pos);
      node->effective = fold_step (dag->state, node, NULL);
      return;
    }

  /* Sorted before already folded ops: checkpoints at or before @pos still
   * hold (they cover positions < k*INTERVAL <= pos); refold from the last. */
  k = MIN (pos / INTERVAL, dag->checkpoints->len - 1);
  g_ptr_array_set_size (dag->checkpoints, k + 1);
  mero_group_state_free (dag->state);
  dag->state = mero_group_state_copy (g_ptr_array_index (dag->checkpoints, k));
  for (guint i = k * INTERVAL; i < dag->order->len; i++)
    {
      MeroGroupNode *n = g_ptr_array_index (dag->order, i);
      maybe_checkpoint (dag, i);
      n->effective = fold_step (dag->state, n, NULL);
    }
}

MeroGroupState *
mero_group_dag_fold_cut (MeroGroupDag *dag, const guint8 *ids, guint n)
{
  guint total = dag->order->len;
  /* in[p]: the op at position p is in the cut.  Parents always sit at
   * lower positions, so one flag per position is all the walk needs. */
  g_autofree guint8 *in = g_malloc0 (total + 1);
  MeroGroupState *state;
  guint first_out = 0, k;

  for (guint i = 0; i < n; i++)
    {
      MeroGroupNode *node = g_hash_table_lookup (dag->nodes, ids + i * MERO_GROUP_ID_LEN);
      g_return_val_if_fail (node != NULL, NULL);
      in[node->position] = 1;
    }
  /* Walk down the order: parents sit at lower positions, so one pass
   * from the top marks the whole causal past.  A closed op has every
   * lower position as an ancestor: the rest of the walk is known. */
  for (guint j = total; j > 0; j--)
    {
      MeroGroupNode *node = g_ptr_array_index (dag->order, j - 1);

      if (!in[j - 1])
        continue;
      if (node->closed)
        {
          memset (in, 1, j);
          break;
        }
      for (guint i = 0; i < node->op->parents->len; i++)
        in[node->parents[i]->position] = 1;
    }

  /* Start from the latest checkpoint whose whole prefix lies in the cut. */
  while (first_out < total && in[first_out])
    first_out++;
  k = MIN (first_out / INTERVAL, dag->checkpoints->len - 1);
  state = mero_group_state_copy (g_ptr_array_index (dag->checkpoints, k));
  for (guint i = k * INTERVAL; i < total; i++)
    if (in[i])
      fold_step (state, g_ptr_array_index (dag->order, i), NULL);
  return state;
}
