/* mero-group-dag.c: receiving ops (verification, pending, cut
 * authorization, acceptance) and the DAG's queries. */
#include "context/group/mero-group-dag-private.h"

#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-envelope.h"
#include "context/group/mero-group-limits.h"
#include "crypto/mero-sha256.h"

#define ID MERO_GROUP_ID_LEN

guint
mero_group_id_hash (gconstpointer key)
{
  guint h;
  memcpy (&h, (const guint8 *) key + 3, sizeof h);
  return h;
}

gboolean
mero_group_id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID) == 0;
}

void
mero_group_node_free (gpointer p)
{
  MeroGroupNode *node = p;

  if (node == NULL)
    return;
  mero_group_op_free (node->op);
  g_bytes_unref (node->encoded);
  g_free (node->parents);
  g_free (node);
}

void
mero_group_node_link (MeroGroupDag *dag, MeroGroupNode *node)
{
  const GArray *parents = node->op->parents;

  node->parents = g_new (MeroGroupNode *, parents->len + 1);
  for (guint i = 0; i < parents->len; i++)
    {
      node->parents[i] = g_hash_table_lookup (dag->nodes, parents->data + i * ID);
      g_assert (node->parents[i] != NULL);
    }
}

static void
pending_free (gpointer p)
{
  MeroGroupPending *pending = p;

  mero_group_op_free (pending->op);
  g_bytes_unref (pending->encoded);
  g_free (pending);
}

static void
drop (MeroGroupDag *dag, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  mero_metrics_counter_add (dag->metrics, MERO_GROUP_DROPPED_METRIC, labels, 1, NULL);
  g_debug ("group op dropped: %s", reason);
}

MeroGroupDag *
mero_group_dag_open (MeroStore *store, const guint8 group_id[MERO_GROUP_ID_LEN],
                     MeroMetrics *metrics, GError **error)
{
  g_autoptr (MeroGroupDag) dag = g_new0 (MeroGroupDag, 1);

  g_return_val_if_fail (group_id != NULL, NULL);
  dag->store = store;
  dag->metrics = metrics != NULL ? mero_metrics_ref (metrics) : mero_metrics_ref (mero_metrics_get_default ());
  memcpy (dag->group_id, group_id, ID);
  dag->nodes = g_hash_table_new_full (mero_group_id_hash, mero_group_id_equal, NULL,
                                      mero_group_node_free);
  dag->heads = g_hash_table_new (mero_group_id_hash, mero_group_id_equal);
  dag->pending = g_hash_table_new_full (mero_group_id_hash, mero_group_id_equal, g_free,
                                        pending_free);
  dag->max_nonce = g_hash_table_new_full (mero_group_id_hash, mero_group_id_equal, g_free, g_free);
  dag->keys = g_hash_table_new_full (mero_group_id_hash, mero_group_id_equal, g_free, g_free);
  dag->cut_cache = g_hash_table_new_full (mero_group_id_hash, mero_group_id_equal, g_free,
                                          (GDestroyNotify) mero_group_state_free);
  g_queue_init (&dag->cut_cache_order);
  mero_group_dag_fold_init (dag);
  if (!mero_group_dag_store_load (dag, error))
    return NULL;
  return g_steal_pointer (&dag);
}

void
mero_group_dag_free (MeroGroupDag *dag)
{
  if (dag == NULL)
    return;
  g_clear_pointer (&dag->order, g_ptr_array_unref);
  g_clear_pointer (&dag->checkpoints, g_ptr_array_unref);
  g_clear_pointer (&dag->state, mero_group_state_free);
  g_clear_pointer (&dag->heads, g_hash_table_unref);
  g_clear_pointer (&dag->nodes, g_hash_table_unref);
  g_clear_pointer (&dag->pending, g_hash_table_unref);
  g_clear_pointer (&dag->max_nonce, g_hash_table_unref);
  if (dag->keys != NULL)
    {
      GHashTableIter it;
      gpointer k, v;
      g_hash_table_iter_init (&it, dag->keys);
      while (g_hash_table_iter_next (&it, &k, &v))
        sodium_memzero (v, MERO_GROUP_GROUP_KEY_LEN);
      g_hash_table_unref (dag->keys);
    }
  g_clear_pointer (&dag->cut_cache, g_hash_table_unref);
  g_queue_clear_full (&dag->cut_cache_order, g_free);
  g_clear_pointer (&dag->metrics, mero_metrics_unref);
  sodium_memzero (dag->secret_key, sizeof dag->secret_key);
  g_free (dag);
}

/* Opens the envelopes of @op addressed to the local identity. */
static gboolean
open_envelopes (MeroGroupDag *dag, const MeroGroupOp *op, GError **error)
{
  guint8 pk[MERO_GROUP_KEY_LEN];

  if (!dag->has_identity)
    return TRUE;
  memcpy (pk, dag->secret_key + 32, MERO_GROUP_KEY_LEN);
  for (guint i = 0; i < op->envelopes->len; i++)
    {
      const MeroGroupEnvelope *e = &g_array_index (op->envelopes, MeroGroupEnvelope, i);
      guint8 key[MERO_GROUP_GROUP_KEY_LEN];

      if (memcmp (e->member, pk, MERO_GROUP_KEY_LEN) != 0
          || g_hash_table_contains (dag->keys, op->key_id))
        continue;
      if (!mero_group_envelope_open (e, dag->secret_key, op->key_id, key, NULL))
        {
          /* A signer sealed garbage to us: the op stands, the key is lost
           * to us until the next rotation. */
          drop (dag, "bad_envelope");
          continue;
        }
      if (!mero_group_dag_store_key (dag, op->key_id, key, error))
        {
          sodium_memzero (key, sizeof key);
          return FALSE;
        }
      g_hash_table_insert (dag->keys, g_memdup2 (op->key_id, ID), g_memdup2 (key, sizeof key));
      sodium_memzero (key, sizeof key);
    }
  return TRUE;
}

gboolean
mero_group_dag_set_identity (MeroGroupDag *dag, const guint8 secret_key[MERO_GROUP_SECRET_LEN],
                             GError **error)
{
  g_return_val_if_fail (dag != NULL && secret_key != NULL, FALSE);
  memcpy (dag->secret_key, secret_key, MERO_GROUP_SECRET_LEN);
  dag->has_identity = TRUE;
  for (guint i = 0; i < dag->order->len; i++)
    if (!open_envelopes (dag, ((MeroGroupNode *) g_ptr_array_index (dag->order, i))->op, error))
      return FALSE;
  return TRUE;
}

static gboolean
parents_known (MeroGroupDag *dag, const MeroGroupOp *op)
{
  for (guint i = 0; i < op->parents->len; i++)
    if (!g_hash_table_contains (dag->nodes, op->parents->data + i * ID))
      return FALSE;
  return TRUE;
}

gboolean
mero_group_dag_is_current_heads (MeroGroupDag *dag, const guint8 *ids, guint n)
{
  if (n != g_hash_table_size (dag->heads))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!g_hash_table_contains (dag->heads, ids + i * ID))
      return FALSE;
  return TRUE;
}

static int
cmp_id (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID);
}

static void
cut_key (const guint8 *ids, guint n, guint8 out[ID])
{
  g_autoptr (GArray) sorted = g_array_sized_new (FALSE, FALSE, ID, n);
  g_autoptr (MeroSha256) h = mero_sha256_new ();

  g_array_append_vals (sorted, ids, n);
  g_array_sort (sorted, cmp_id);
  mero_sha256_update (h, sorted->data, (gsize) n * ID);
  mero_sha256_finish (h, out);
}

/* (transfer none) the state at cut @ids (all known), valid until the
 * next call that changes the DAG or the cache. */
static const MeroGroupState *
cut_state (MeroGroupDag *dag, const guint8 *ids, guint n)
{
  guint8 key[ID];
  MeroGroupState *state;

  if (n > 0 && mero_group_dag_is_current_heads (dag, ids, n))
    return dag->state;
  cut_key (ids, n, key);
  state = g_hash_table_lookup (dag->cut_cache, key);
  if (state != NULL)
    return state;
  state = mero_group_dag_fold_cut (dag, ids, n);
  if (g_queue_get_length (&dag->cut_cache_order) >= MERO_GROUP_CUT_CACHE_MAX)
    {
      g_autofree guint8 *oldest = g_queue_pop_head (&dag->cut_cache_order);
      g_hash_table_remove (dag->cut_cache, oldest);
    }
  g_queue_push_tail (&dag->cut_cache_order, g_memdup2 (key, ID));
  g_hash_table_insert (dag->cut_cache, g_memdup2 (key, ID), state);
  return state;
}

static const char *
reason_for (const GError *error)
{
  if (error == NULL || error->domain != MERO_GROUP_ERROR)
    return "other";
  switch ((MeroGroupError) error->code)
    {
    case MERO_GROUP_ERROR_MALFORMED:
      return "malformed";
    case MERO_GROUP_ERROR_TOO_LARGE:
      return "too_large";
    case MERO_GROUP_ERROR_BAD_SIGNATURE:
    case MERO_GROUP_ERROR_INVITATION_FORGED:
      return "bad_signature";
    case MERO_GROUP_ERROR_WRONG_GROUP:
      return "wrong_group";
    case MERO_GROUP_ERROR_REPLAY:
      return "replay";
    case MERO_GROUP_ERROR_LIMIT:
      return "limit";
    case MERO_GROUP_ERROR_STORE:
      return "store";
    case MERO_GROUP_ERROR_INVITATION_EXPIRED:
    case MERO_GROUP_ERROR_INVITATION_REUSED:
      return "invitation";
    default:
      return "unauthorized";
    }
}

/* Takes ownership of @op and @encoded.  Parents are all known. */
static gboolean
accept_op (MeroGroupDag *dag, MeroGroupOp *op_in, GBytes *encoded_in, GError **error)
{
  g_autoptr (MeroGroupOp) op = op_in;
  g_autoptr (GBytes) encoded = encoded_in;
  const guint8 *parents = (const guint8 *) op->parents->data;
  guint n_parents = op->parents->len;
  guint32 depth = 0;
  guint64 min_ts = 0;
  MeroGroupNode *node;
  guint64 *max;

  if ((op->kind == MERO_GROUP_OP_CREATE_GROUP) != (n_parents == 0))
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed group op: only the group's creation has no parents");
      return FALSE;
    }
  if (op->kind == MERO_GROUP_OP_CREATE_GROUP && g_hash_table_size (dag->nodes) > 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_CONFLICT,
                   "group op refused: group already created");
      return FALSE;
    }
  if (g_hash_table_size (dag->nodes) >= MERO_GROUP_MAX_OPS)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_LIMIT,
                   "group op refused: the group holds %d ops", MERO_GROUP_MAX_OPS);
      return FALSE;
    }
  for (guint i = 0; i < n_parents; i++)
    {
      const MeroGroupNode *p = g_hash_table_lookup (dag->nodes, parents + i * ID);
      depth = MAX (depth, p->depth + 1);
      min_ts = MAX (min_ts, p->op->timestamp_ms);
    }
  if (op->timestamp_ms < min_ts)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_TIMESTAMP,
                   "group op refused: timestamp before its parents'");
      return FALSE;
    }
  if (!mero_group_state_check (cut_state (dag, parents, n_parents), op, TRUE, error))
    return FALSE;

  node = g_new0 (MeroGroupNode, 1);
  memcpy (node->id, op->id, ID);
  node->depth = depth;
  node->closed = mero_group_dag_is_current_heads (dag, parents, n_parents);
  node->op = g_steal_pointer (&op);
  mero_group_node_link (dag, node);
  node->encoded = g_steal_pointer (&encoded);
  if (!mero_group_dag_store_op (dag, node, error))
    {
      mero_group_node_free (node);
      return FALSE;
    }
  g_hash_table_insert (dag->nodes, node->id, node);
  for (guint i = 0; i < n_parents; i++)
    g_hash_table_remove (dag->heads, parents + i * ID);
  g_hash_table_add (dag->heads, node->id);
  mero_group_dag_fold_insert (dag, node);
  max = g_hash_table_lookup (dag->max_nonce, node->op->signer);
  if (max == NULL || *max < node->op->nonce)
    g_hash_table_insert (dag->max_nonce, g_memdup2 (node->op->signer, ID),
                         g_memdup2 (&node->op->nonce, sizeof (guint64)));
  /* The op is in; a key we cannot store is reported but does not undo it. */
  return open_envelopes (dag, node->op, error);
}

/* Accepts every pending op whose parents have arrived, until none is left. */
static void
drain_pending (MeroGroupDag *dag)
{
  gboolean progress = TRUE;

  while (progress && g_hash_table_size (dag->pending) > 0)
    {
      g_autoptr (GPtrArray) ready = g_ptr_array_new_with_free_func (g_free);
      GHashTableIter it;
      gpointer k, v;

      g_hash_table_iter_init (&it, dag->pending);
      while (g_hash_table_iter_next (&it, &k, &v))
        if (parents_known (dag, ((MeroGroupPending *) v)->op))
          g_ptr_array_add (ready, g_memdup2 (k, ID));
      progress = ready->len > 0;
      for (guint i = 0; i < ready->len; i++)
        {
          gpointer key, value;
          MeroGroupPending *p;
          g_autoptr (GError) error = NULL;

          g_hash_table_steal_extended (dag->pending, g_ptr_array_index (ready, i), &key, &value);
          g_free (key);
          p = value;
          if (!accept_op (dag, p->op, p->encoded, &error))
            {
              drop (dag, reason_for (error));
              g_debug ("pending group op refused: %s", error->message);
            }
          g_free (p);
        }
    }
}

gboolean
mero_group_dag_receive (MeroGroupDag *dag, const guint8 *data, gsize len, gint64 now_ms,
                        MeroGroupReceiveResult *result, MeroGroupMutation *mutation,
                        GError **error)
{
  g_autoptr (MeroGroupState) before = NULL;
  g_autoptr (MeroGroupOp) op = NULL;
  GError *local = NULL;

  g_return_val_if_fail (dag != NULL && (data != NULL || len == 0), FALSE);

  op = mero_group_op_decode (data, len, &local);
  if (op == NULL)
    {
      drop (dag, reason_for (local));
      g_propagate_error (error, local);
      return FALSE;
    }
  if (memcmp (op->group_id, dag->group_id, ID) != 0)
    {
      drop (dag, "wrong_group");
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_WRONG_GROUP,
                   "group op is for another group");
      return FALSE;
    }
  if (g_hash_table_contains (dag->nodes, op->id) || g_hash_table_contains (dag->pending, op->id))
    {
      if (result != NULL)
        *result = MERO_GROUP_RECEIVE_DUPLICATE;
      return TRUE;
    }
  /* Nothing is kept or looked up by signer before its signature holds. */
  if (!mero_group_op_verify (op, &local))
    {
      drop (dag, reason_for (local));
      g_propagate_error (error, local);
      return FALSE;
    }
  if (!parents_known (dag, op))
    {
      MeroGroupPending *p;

      if (g_hash_table_size (dag->pending) >= MERO_GROUP_PENDING_MAX)
        {
          drop (dag, "pending_full");
          g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_LIMIT,
                       "group op refused: %d ops already wait for their parents",
                       MERO_GROUP_PENDING_MAX);
          return FALSE;
        }
      p = g_new0 (MeroGroupPending, 1);
      p->encoded = g_bytes_new (data, len);
      p->received_ms = now_ms;
      p->op = g_steal_pointer (&op);
      g_hash_table_insert (dag->pending, g_memdup2 (p->op->id, ID), p);
      if (result != NULL)
        *result = MERO_GROUP_RECEIVE_PENDING;
      return TRUE;
    }
  if (mutation != NULL)
    before = mero_group_state_copy (dag->state);
  if (!accept_op (dag, g_steal_pointer (&op), g_bytes_new (data, len), &local))
    {
      drop (dag, reason_for (local));
      g_propagate_error (error, local);
      return FALSE;
    }
  drain_pending (dag);
  if (mutation != NULL)
    mero_group_state_diff (before, dag->state, mutation);
  if (result != NULL)
    *result = MERO_GROUP_RECEIVE_ACCEPTED;
  return TRUE;
}

guint
mero_group_dag_expire_pending (MeroGroupDag *dag, gint64 now_ms)
{
  GHashTableIter it;
  gpointer v;
  guint n = 0;

  g_hash_table_iter_init (&it, dag->pending);
  while (g_hash_table_iter_next (&it, NULL, &v))
    if (now_ms - ((MeroGroupPending *) v)->received_ms > MERO_GROUP_PENDING_MAX_AGE_MS)
      {
        g_hash_table_iter_remove (&it);
        drop (dag, "pending_expired");
        n++;
      }
  return n;
}

static int
node_ptr_cmp_desc (gconstpointer a, gconstpointer b)
{
  const MeroGroupNode *x = *(MeroGroupNode *const *) a;
  const MeroGroupNode *y = *(MeroGroupNode *const *) b;

  if (x->depth != y->depth)
    return x->depth > y->depth ? -1 : 1;
  return -memcmp (x->id, y->id, ID);
}

void
mero_group_dag_author (MeroGroupDag *dag, MeroGroupOp *op,
                       const guint8 secret_key[MERO_GROUP_SECRET_LEN], gint64 now_ms)
{
  guint8 signer[MERO_GROUP_KEY_LEN];
  const guint64 *max;
  guint64 ts = now_ms > 0 ? (guint64) now_ms : 0;
  guint taken = 0;

  g_return_if_fail (dag != NULL && op != NULL && secret_key != NULL);
  memcpy (signer, secret_key + 32, MERO_GROUP_KEY_LEN);
  memcpy (op->group_id, dag->group_id, ID);
  g_array_set_size (op->parents, 0);
  /* Cite every head; past MERO_GROUP_OP_MAX_PARENTS, the ones that sort
   * last (deepest), which cover the most. */
  {
    g_autoptr (GPtrArray) heads = g_ptr_array_sized_new (g_hash_table_size (dag->heads));
    GHashTableIter it;
    gpointer k;

    g_hash_table_iter_init (&it, dag->heads);
    while (g_hash_table_iter_next (&it, &k, NULL))
      g_ptr_array_add (heads, g_hash_table_lookup (dag->nodes, k));
    g_ptr_array_sort (heads, node_ptr_cmp_desc);
    for (guint i = 0; i < heads->len && taken < MERO_GROUP_OP_MAX_PARENTS; i++, taken++)
      {
        const MeroGroupNode *n = g_ptr_array_index (heads, i);
        mero_group_op_add_parent (op, n->id);
        ts = MAX (ts, n->op->timestamp_ms);
      }
  }
  max = g_hash_table_lookup (dag->max_nonce, signer);
  op->nonce = MAX (max != NULL ? *max : 0, mero_group_state_nonce (dag->state, signer)) + 1;
  op->timestamp_ms = ts;
  mero_group_op_sign (op, secret_key);
}

const guint8 *
mero_group_dag_group_id (MeroGroupDag *dag)
{
  return dag->group_id;
}

const MeroGroupState *
mero_group_dag_state (MeroGroupDag *dag)
{
  return dag->state;
}

static gboolean
cut_known (MeroGroupDag *dag, const guint8 *heads, guint n, GError **error)
{
  for (guint i = 0; i < n; i++)
    if (!g_hash_table_contains (dag->nodes, heads + i * ID))
      {
        g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_UNKNOWN_CUT,
                     "group op %u of the cut is not known here", i);
        return FALSE;
      }
  return TRUE;
}

MeroGroupState *
mero_group_dag_state_at (MeroGroupDag *dag, const guint8 *heads, guint n_heads, GError **error)
{
  g_return_val_if_fail (dag != NULL && (heads != NULL || n_heads == 0), NULL);
  if (!cut_known (dag, heads, n_heads, error))
    return NULL;
  return mero_group_state_copy (cut_state (dag, heads, n_heads));
}

gboolean
mero_group_dag_can_write_at (MeroGroupDag *dag, const guint8 member[MERO_GROUP_KEY_LEN],
                             const guint8 *heads, guint n_heads, gboolean *out_can_write,
                             GError **error)
{
  g_return_val_if_fail (dag != NULL && member != NULL && out_can_write != NULL, FALSE);
  if (!cut_known (dag, heads, n_heads, error))
    return FALSE;
  *out_can_write = mero_group_state_can_write (cut_state (dag, heads, n_heads), member);
  return TRUE;
}

GArray *
mero_group_dag_heads (MeroGroupDag *dag)
{
  GArray *out = g_array_new (FALSE, FALSE, ID);
  GHashTableIter it;
  gpointer k;

  g_hash_table_iter_init (&it, dag->heads);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_array_append_vals (out, k, 1);
  g_array_sort (out, cmp_id);
  return out;
}

GArray *
mero_group_dag_missing (MeroGroupDag *dag)
{
  g_autoptr (GHashTable) seen = g_hash_table_new (mero_group_id_hash, mero_group_id_equal);
  GArray *out = g_array_new (FALSE, FALSE, ID);
  GHashTableIter it;
  gpointer v;

  g_hash_table_iter_init (&it, dag->pending);
  while (g_hash_table_iter_next (&it, NULL, &v))
    {
      const GArray *parents = ((MeroGroupPending *) v)->op->parents;
      for (guint i = 0; i < parents->len; i++)
        {
          const guint8 *pid = (const guint8 *) parents->data + i * ID;
          if (!g_hash_table_contains (dag->nodes, pid) && !g_hash_table_contains (dag->pending, pid)
              && g_hash_table_add (seen, (gpointer) pid))
            g_array_append_vals (out, pid, 1);
        }
    }
  g_array_sort (out, cmp_id);
  if (out->len > MERO_GROUP_MISSING_MAX)
    g_array_set_size (out, MERO_GROUP_MISSING_MAX);
  return out;
}

guint
mero_group_dag_n_ops (MeroGroupDag *dag)
{
  return g_hash_table_size (dag->nodes);
}

guint
mero_group_dag_n_pending (MeroGroupDag *dag)
{
  return g_hash_table_size (dag->pending);
}

gboolean
mero_group_dag_has_op (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN])
{
  return g_hash_table_contains (dag->nodes, id);
}

GBytes *
mero_group_dag_get_op (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN])
{
  MeroGroupNode *node = g_hash_table_lookup (dag->nodes, id);

  return node != NULL ? g_bytes_ref (node->encoded) : NULL;
}

gboolean
mero_group_dag_op_effective (MeroGroupDag *dag, const guint8 id[MERO_GROUP_ID_LEN])
{
  MeroGroupNode *node = g_hash_table_lookup (dag->nodes, id);

  return node != NULL && node->effective;
}

GPtrArray *
mero_group_dag_ops_for_peer (MeroGroupDag *dag, const guint8 *heads, guint n_heads, guint max_ops)
{
  g_autoptr (GHashTable) theirs = g_hash_table_new (mero_group_id_hash, mero_group_id_equal);
  g_autoptr (GPtrArray) stack = g_ptr_array_new ();
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  for (guint i = 0; i < n_heads; i++)
    {
      MeroGroupNode *n = g_hash_table_lookup (dag->nodes, heads + i * ID);
      if (n != NULL && g_hash_table_add (theirs, n->id))
        g_ptr_array_add (stack, n);
    }
  while (stack->len > 0)
    {
      MeroGroupNode *n = g_ptr_array_steal_index_fast (stack, stack->len - 1);
      for (guint i = 0; i < n->op->parents->len; i++)
        {
          MeroGroupNode *p = g_hash_table_lookup (dag->nodes, n->op->parents->data + i * ID);
          if (g_hash_table_add (theirs, p->id))
            g_ptr_array_add (stack, p);
        }
    }
  for (guint i = 0; i < dag->order->len && out->len < max_ops; i++)
    {
      MeroGroupNode *n = g_ptr_array_index (dag->order, i);
      if (!g_hash_table_contains (theirs, n->id))
        g_ptr_array_add (out, g_bytes_ref (n->encoded));
    }
  return out;
}

gboolean
mero_group_dag_key (MeroGroupDag *dag, const guint8 key_id[MERO_GROUP_ID_LEN],
                    guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  const guint8 *key = g_hash_table_lookup (dag->keys, key_id);

  if (key == NULL)
    return FALSE;
  memcpy (key_out, key, MERO_GROUP_GROUP_KEY_LEN);
  return TRUE;
}

gboolean
mero_group_dag_current_key (MeroGroupDag *dag, guint8 key_id_out[MERO_GROUP_ID_LEN],
                            guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  const guint8 *key_id = mero_group_state_key_id (dag->state);

  memcpy (key_id_out, key_id, ID);
  return mero_group_state_is_created (dag->state) && mero_group_dag_key (dag, key_id, key_out);
}
