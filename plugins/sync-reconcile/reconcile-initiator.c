/* reconcile-initiator.c: the initiator's side of sync-reconcile (see
 * reconcile-core.h): streams coded symbols of its set, merges the
 * responder's versions, sends the wanted ones and its merge-backs. */
#include "reconcile-session.h"

#include <string.h>

static gboolean
queue_symbols (ReconcileSession *s, uint32_t n, GError **error)
{
  g_autoptr (ReconcileMsg) m = reconcile_msg_new (RECONCILE_MSG_SYMBOLS);
  g_autoptr (GError) local_error = NULL;
  const RibltSymbol *local = reconcile_local_symbols (s, (size_t) s->symbols + n, &local_error);

  if (local == NULL)
    return reconcile_state_failed (s, error, local_error);
  m->first_index = (uint32_t) s->symbols;
  g_array_append_vals (m->symbols, local + s->symbols, n);
  s->symbols += n;
  reconcile_queue_msg (s, m);
  return TRUE;
}

gboolean
reconcile_initiator_start (ReconcileSession *s, uint64_t n_local, uint64_t n_remote,
                           GError **error)
{
  if (!queue_symbols (s, reconcile_first_batch (n_local, n_remote), error))
    return FALSE;
  s->phase = RECONCILE_MSG_MORE;
  return TRUE;
}

/* RESULT frames: the responder's versions (merged now) and the keys of
 * ours it wants (sent with our merge-backs after the last frame). */
static gboolean
handle_result (ReconcileSession *s, ReconcileMsg *m, GError **error)
{
  g_autoptr (GPtrArray) out = NULL;
  g_autoptr (GHashTable) seen = NULL;

  s->phase = RECONCILE_MSG_RESULT;
  if (s->wants->len + m->wants->len > RECONCILE_MAX_DIFFERENCES
      || s->received->len + m->entities->len > RECONCILE_MAX_DIFFERENCES)
    return reconcile_refuse (s, error, "differences", "over RECONCILE_MAX_DIFFERENCES");
  if (!reconcile_merge_all (s, m->entities, error))
    return FALSE;
  g_array_append_vals (s->wants, m->wants->data, m->wants->len);
  g_ptr_array_extend_and_steal (s->received, g_steal_pointer (&m->entities));
  m->entities = g_ptr_array_new ();
  if (m->more)
    return TRUE;

  s->stats.round_trips++;
  out = g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_entity_free);
  seen = reconcile_id_table_new ();
  for (guint i = 0; i < s->wants->len; i++)
    {
      uint64_t key = g_array_index (s->wants, uint64_t, i);
      g_autoptr (GError) local_error = NULL;
      ReconcileEntity *e;
      uint8_t id[32];
      gboolean found = FALSE;

      if (!reconcile_local_find (s, key, id, &found, &local_error))
        return reconcile_state_failed (s, error, local_error);
      /* A key we do not hold (any more): a version the RESULT's merge
       * just replaced (the merge-backs below send what we have now, if
       * the peer lacks it), or a peer that decoded garbage; nothing to
       * send for it. */
      if (!found || g_hash_table_contains (seen, id))
        continue;
      e = reconcile_local_entity (s, id, &local_error);
      if (local_error != NULL)
        return reconcile_state_failed (s, error, local_error);
      if (e == NULL)
        continue;
      /* The same with the whole set (built before the merge): only the
       * version asked for is sent as wanted. */
      {
        uint8_t item[RIBLT_ITEM_SIZE];

        reconcile_version_item (&e->e, item);
        if (riblt_item_hash (s->key, item) != key)
          {
            reconcile_entity_free (e);
            continue;
          }
      }
      g_hash_table_add (seen, e->e.id);
      g_ptr_array_add (out, e);
    }
  if (!reconcile_merge_backs (s, s->received, seen, out, error))
    return FALSE;
  g_ptr_array_set_size (s->received, 0);
  reconcile_queue_entities (s, RECONCILE_MSG_ENTITIES, 0, NULL, out);
  s->phase = RECONCILE_MSG_FIN;
  return TRUE;
}

gboolean
reconcile_initiator_handle (ReconcileSession *s, ReconcileMsg *m, GError **error)
{
  switch (m->type)
    {
    case RECONCILE_MSG_MORE:
      /* MORE or RESULT may answer the symbols. */
      s->stats.round_trips++;
      if (m->n_more == 0 || m->n_more > RECONCILE_MAX_SYMBOLS_PER_MESSAGE
          || s->symbols + m->n_more > RECONCILE_MAX_SYMBOLS_PER_SESSION)
        return reconcile_refuse (s, error, "symbols", "over RECONCILE_MAX_SYMBOLS_PER_SESSION");
      return queue_symbols (s, m->n_more, error);
    case RECONCILE_MSG_FIN:
      if (s->received->len + m->entities->len > RECONCILE_MAX_DIFFERENCES)
        return reconcile_refuse (s, error, "differences", "over RECONCILE_MAX_DIFFERENCES");
      if (!reconcile_merge_all (s, m->entities, error))
        return FALSE;
      if (!m->more)
        {
          s->stats.round_trips++;
          s->status = MERO_SYNC_STATUS_DONE;
        }
      return TRUE;
    default:
      return handle_result (s, m, error);
    }
}
