/* sync-hash-responder.c: answering requests (see sync-hash-core.h). */
#include "sync-hash-session.h"

#include <string.h>

static gboolean
answer_node (SyncHashSession *s, const SyncHashNode *node, SyncHashAnswer *a, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (node->path_len == 0 || node->path_len == SYNC_HASH_PATH_LOGICAL)
    {
      MeroStateEntity e = { .struct_size = sizeof e };
      gboolean found = FALSE;

      if (!s->sa->get_entity (s->state, node->owner, &e, &found, &local_error))
        return sync_hash_state_failed (s, error, local_error);
      if (found && !sync_hash_node_is_root (s, node))
        {
          SyncHashEntity *we = sync_hash_entity_new (&e);

          a->has_entity = TRUE;
          a->entity = *we;
          g_free (we);
        }
    }
  if (node->path_len != SYNC_HASH_PATH_LOGICAL && node->path_len > s->layout.bucket_levels)
    return sync_hash_refuse (s, error, "bad_node", "node path deeper than the bucket levels");
  if (!sync_hash_node_children (s, node, &a->form, a->children, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
        return sync_hash_refuse (s, error, "children", local_error->message);
      return sync_hash_state_failed (s, error, local_error);
    }
  return TRUE;
}

static size_t
answer_size (const SyncHashAnswer *a)
{
  return 6 + (a->has_entity ? sync_hash_entity_wire_size (&a->entity.e) : 0)
         + (size_t) a->children->len * 64;
}

gboolean
sync_hash_responder_handle (SyncHashSession *s, SyncHashMsg *m, GError **error)
{
  g_autoptr (SyncHashMsg) reply = sync_hash_msg_new (SYNC_HASH_MSG_REPLY);
  size_t bytes = 0;

  if (m->type == SYNC_HASH_MSG_DONE)
    {
      s->status = MERO_SYNC_STATUS_DONE;
      return TRUE;
    }
  if (m->type != SYNC_HASH_MSG_REQUEST)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "responder got message type %u", m->type);
  if (++s->requests > SYNC_HASH_MAX_REQUESTS_PER_SESSION)
    return sync_hash_refuse (s, error, "requests", "over SYNC_HASH_MAX_REQUESTS_PER_SESSION");
  if (s->entities + m->push->len > SYNC_HASH_MAX_ENTITIES_PER_SESSION)
    return sync_hash_refuse (s, error, "entities", "over SYNC_HASH_MAX_ENTITIES_PER_SESSION");
  /* Each protocol asks for its own kind of node only: a levelwise walk
   * of a huge collection is not something a sync-hash peer may ask for. */
  for (guint i = 0; i < m->nodes->len; i++)
    if ((g_array_index (m->nodes, SyncHashNode, i).path_len == SYNC_HASH_PATH_LOGICAL)
        != s->config.levelwise)
      return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                             "request for a node of the other protocol");
  if (!sync_hash_merge_all (s, m->push, reply->root, error))
    return FALSE;
  for (guint i = 0; i < m->nodes->len; i++)
    {
      SyncHashAnswer *a = sync_hash_answer_new ();
      SyncHashNode node = g_array_index (m->nodes, SyncHashNode, i);

      g_ptr_array_add (reply->answers, a);
      if (!answer_node (s, &node, a, error))
        return FALSE;
      bytes += answer_size (a);
      /* A node with a single child: answer the child too (and so on), so
       * a path through single-child nodes costs no round trip. */
      for (guint depth = 0; depth < SYNC_HASH_MAX_CHAIN && a->children->len == 1
                            && a->form != SYNC_HASH_FORM_NONE && bytes < SYNC_HASH_REPLY_BUDGET;
           depth++)
        {
          SyncHashNode child;

          sync_hash_chained_node (s, &node, a, &child);
          node = child;
          a->chain = sync_hash_answer_new ();
          a = a->chain;
          if (!answer_node (s, &node, a, error))
            return FALSE;
          bytes += answer_size (a);
        }
      /* The rest is asked again in the next request. */
      if (bytes >= SYNC_HASH_REPLY_BUDGET)
        break;
    }
  sync_hash_queue_msg (s, reply);
  return TRUE;
}
