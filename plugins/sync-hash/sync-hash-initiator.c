/* sync-hash-initiator.c: walking the tree against the responder's
 * answers (see sync-hash-core.h). */
#include "sync-hash-session.h"

#include <string.h>

static int
hlc_cmp (uint64_t ta, uint64_t na, uint64_t tb, uint64_t nb)
{
  if (ta != tb)
    return ta < tb ? -1 : 1;
  if (na != nb)
    return na < nb ? -1 : 1;
  return 0;
}

static gboolean
records_differ (const MeroStateEntity *a, const MeroStateEntity *b)
{
  return hlc_cmp (a->updated_at, a->updated_node, b->updated_at, b->updated_node) != 0
         || hlc_cmp (a->deleted_at, a->deleted_node, b->deleted_at, b->deleted_node) != 0
         || hlc_cmp (a->cleared_at, a->cleared_node, b->cleared_at, b->cleared_node) != 0
         || a->crdt_type != b->crdt_type || a->data_len != b->data_len
         || (a->data_len > 0 && memcmp (a->data, b->data, a->data_len) != 0);
}

/* Dead after merging @l (may be NULL) and @r: the later write against
 * the later delete, a delete winning a tie. */
static gboolean
merged_dead (const MeroStateEntity *l, const MeroStateEntity *r)
{
  const MeroStateEntity *u = r, *d = r;

  if (l != NULL && hlc_cmp (l->updated_at, l->updated_node, r->updated_at, r->updated_node) > 0)
    u = l;
  if (l != NULL && hlc_cmp (l->deleted_at, l->deleted_node, r->deleted_at, r->deleted_node) > 0)
    d = l;
  return hlc_cmp (u->updated_at, u->updated_node, d->deleted_at, d->deleted_node) <= 0;
}

static void
frontier_add (SyncHashSession *s, const uint8_t owner[32], const uint8_t *path, size_t path_len,
              int extra_slot)
{
  SyncHashNode *n = g_new0 (SyncHashNode, 1);

  sync_hash_node_make (s, owner, path, path_len, extra_slot, n);
  g_queue_push_tail (&s->frontier, n);
}

static void
push_add (SyncHashSession *s, const MeroStateEntity *e)
{
  g_ptr_array_add (s->push, sync_hash_entity_new (e));
  s->push_bytes += sync_hash_entity_wire_size (e);
}

/* Sends the next request: the frontier (up to the bound) and the pushes
 * (up to the budget); or, with nothing left, checks the roots. */
static gboolean
initiator_next (SyncHashSession *s, GError **error)
{
  g_autoptr (SyncHashMsg) req = sync_hash_msg_new (SYNC_HASH_MSG_REQUEST);
  size_t push_bytes = 0;
  guint n_push = 0;

  g_array_set_size (s->in_flight, 0);
  while (s->in_flight->len < SYNC_HASH_MAX_NODES_PER_REQUEST && !g_queue_is_empty (&s->frontier))
    {
      SyncHashNode *n = g_queue_pop_head (&s->frontier);

      g_array_append_val (s->in_flight, *n);
      g_free (n);
    }
  while (n_push < s->push->len && n_push < SYNC_HASH_MAX_PUSH_PER_MESSAGE
         && (n_push == 0 || push_bytes < SYNC_HASH_PUSH_BUDGET))
    push_bytes += sync_hash_entity_wire_size (&((SyncHashEntity *) s->push->pdata[n_push++])->e);

  if (s->in_flight->len == 0 && n_push == 0)
    {
      uint8_t root[32];
      g_autoptr (GError) local_error = NULL;

      if (!s->sa->get_root_hash (s->state, root, &local_error))
        return sync_hash_state_failed (s, error, local_error);
      if (memcmp (root, s->remote_root, 32) == 0)
        {
          g_autoptr (SyncHashMsg) done = sync_hash_msg_new (SYNC_HASH_MSG_DONE);

          memcpy (done->root, root, 32);
          sync_hash_queue_msg (s, done);
          s->status = MERO_SYNC_STATUS_DONE;
          return TRUE;
        }
      if (++s->pass > SYNC_HASH_MAX_PASSES)
        return sync_hash_fail (s, error, MERO_SYNC_ERROR_FAILED, "roots_differ",
                               "roots still differ after %u passes", SYNC_HASH_MAX_PASSES);
      frontier_add (s, s->ctx, NULL, 0, -1);
      return initiator_next (s, error);
    }

  g_array_append_vals (req->nodes, s->in_flight->data, s->in_flight->len);
  for (guint i = 0; i < n_push; i++)
    g_ptr_array_add (req->push, s->push->pdata[i]);
  /* The request holds them now. */
  g_ptr_array_set_free_func (s->push, NULL);
  g_ptr_array_remove_range (s->push, 0, n_push);
  g_ptr_array_set_free_func (s->push, (GDestroyNotify) sync_hash_entity_free);
  s->push_bytes -= push_bytes;
  s->stats.entities_transferred += n_push;
  sync_hash_queue_msg (s, req);
  s->awaiting_reply = TRUE;
  return TRUE;
}

static void
diff_add (const SyncHashSession *s, GArray *diff, const uint8_t owner[32], const uint8_t *path,
          size_t path_len, int extra_slot)
{
  SyncHashNode n;

  sync_hash_node_make (s, owner, path, path_len, extra_slot, &n);
  g_array_append_val (diff, n);
}

/* The children of one node whose hashes differ, or that one side only
 * has, into @diff. */
static void
compare_children (SyncHashSession *s, const SyncHashNode *node, const SyncHashAnswer *a,
                  GArray *local, uint8_t local_form, GArray *diff)
{
  guint i = 0, j = 0;

  if (a->form == SYNC_HASH_FORM_BUCKETS && local_form == SYNC_HASH_FORM_BUCKETS)
    {
      const uint8_t *rh[256] = { NULL }, *lh[256] = { NULL };

      for (i = 0; i < a->children->len; i++)
        {
          const SyncHashChild *c = &g_array_index (a->children, SyncHashChild, i);

          rh[c->slot] = c->hash;
        }
      for (i = 0; i < local->len; i++)
        {
          const SyncHashChild *c = &g_array_index (local, SyncHashChild, i);

          lh[c->slot] = c->hash;
        }
      for (guint slot = 0; slot < s->layout.bucket_fanout && slot < 256; slot++)
        if ((rh[slot] != NULL || lh[slot] != NULL)
            && (rh[slot] == NULL || lh[slot] == NULL || memcmp (rh[slot], lh[slot], 32) != 0))
          diff_add (s, diff, node->owner, node->path, node->path_len, (int) slot);
      return;
    }
  /* Entity children, both sorted by id: a merge join. */
  while (i < a->children->len || j < local->len)
    {
      const SyncHashChild *r = i < a->children->len
                                 ? &g_array_index (a->children, SyncHashChild, i) : NULL;
      const SyncHashChild *l = j < local->len ? &g_array_index (local, SyncHashChild, j) : NULL;
      int cmp = r == NULL ? 1 : l == NULL ? -1 : memcmp (r->id, l->id, 32);

      if (cmp == 0)
        {
          if (memcmp (r->hash, l->hash, 32) != 0)
            diff_add (s, diff, r->id, NULL, 0, -1);
          i++;
          j++;
        }
      else if (cmp < 0)
        {
          diff_add (s, diff, r->id, NULL, 0, -1);
          i++;
        }
      else
        {
          diff_add (s, diff, l->id, NULL, 0, -1);
          j++;
        }
    }
}

/* One answer (and its chain): merge, push, and queue what differs below. */
static gboolean
process_answer (SyncHashSession *s, const SyncHashNode *node, SyncHashAnswer *a,
                GPtrArray *to_merge, GError **error)
{
  g_autoptr (GArray) local = g_array_new (FALSE, FALSE, sizeof (SyncHashChild));
  g_autoptr (GArray) diff = g_array_new (FALSE, FALSE, sizeof (SyncHashNode));
  g_autoptr (GError) local_error = NULL;
  gboolean entity_node = node->path_len == 0 || node->path_len == SYNC_HASH_PATH_LOGICAL;
  SyncHashNode next;
  uint8_t local_form = 0;

  if (!entity_node && a->has_entity)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "entity record in the answer for a bucket");
  if (a->has_entity && memcmp (a->entity.e.id, node->owner, 32) != 0)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "answer carries another entity than was asked");
  if (a->chain != NULL && (a->children->len != 1 || a->form == SYNC_HASH_FORM_NONE))
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "chained answer after a node without a single child");
  if (entity_node && !sync_hash_node_is_root (s, node))
    {
      MeroStateEntity l = { .struct_size = sizeof l };
      gboolean found = FALSE;

      if (!s->sa->get_entity (s->state, node->owner, &l, &found, &local_error))
        return sync_hash_state_failed (s, error, local_error);
      if (found && (!a->has_entity || records_differ (&l, &a->entity.e)))
        push_add (s, &l);
      if (a->has_entity)
        g_ptr_array_add (to_merge, &a->entity);
      /* Nothing under a dead entity counts; once both sides merged they
       * agree it is dead. */
      if (a->has_entity ? merged_dead (found ? &l : NULL, &a->entity.e)
                        : (!found || merged_dead (NULL, &l)))
        return TRUE;
    }
  if (!sync_hash_node_children (s, node, &local_form, local, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
        return sync_hash_fail (s, error, MERO_SYNC_ERROR_LIMIT, "children", "%s",
                               local_error->message);
      return sync_hash_state_failed (s, error, local_error);
    }
  if (a->form != SYNC_HASH_FORM_NONE && a->form != local_form)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "children of another form than the node has");
  compare_children (s, node, a, local, local_form, diff);
  if (a->chain != NULL)
    sync_hash_chained_node (s, node, a, &next);
  for (guint i = 0; i < diff->len; i++)
    {
      const SyncHashNode *d = &g_array_index (diff, SyncHashNode, i);

      /* Answered already in this reply: go on down without a round trip. */
      if (a->chain != NULL && memcmp (d, &next, sizeof next) == 0)
        {
          if (!process_answer (s, d, a->chain, to_merge, error))
            return FALSE;
        }
      else
        g_queue_push_tail (&s->frontier, g_memdup2 (d, sizeof *d));
    }
  return TRUE;
}

gboolean
sync_hash_initiator_handle (SyncHashSession *s, SyncHashMsg *m, GError **error)
{
  g_autoptr (GPtrArray) to_merge = g_ptr_array_new ();
  guint n;

  if (m->type != SYNC_HASH_MSG_REPLY || !s->awaiting_reply)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "initiator got an unexpected message (type %u)", m->type);
  n = m->answers->len;
  if (n > s->in_flight->len || (n == 0 && s->in_flight->len > 0))
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "%u answers to %u nodes", n, s->in_flight->len);
  s->awaiting_reply = FALSE;
  s->stats.round_trips++;
  memcpy (s->remote_root, m->root, 32);

  /* Unanswered nodes go back to the front, in order. */
  for (guint i = s->in_flight->len; i > n; i--)
    {
      SyncHashNode *copy = g_memdup2 (&g_array_index (s->in_flight, SyncHashNode, i - 1),
                                      sizeof (SyncHashNode));

      g_queue_push_head (&s->frontier, copy);
    }

  for (guint i = 0; i < n; i++)
    if (!process_answer (s, &g_array_index (s->in_flight, SyncHashNode, i), m->answers->pdata[i],
                         to_merge, error))
      return FALSE;

  if (s->entities + to_merge->len > SYNC_HASH_MAX_ENTITIES_PER_SESSION)
    return sync_hash_refuse (s, error, "entities", "over SYNC_HASH_MAX_ENTITIES_PER_SESSION");
  if (!sync_hash_merge_all (s, to_merge, NULL, error))
    return FALSE;
  if (s->stats.round_trips >= SYNC_HASH_MAX_REQUESTS_PER_SESSION)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_LIMIT, "requests",
                           "over SYNC_HASH_MAX_REQUESTS_PER_SESSION round trips");
  return initiator_next (s, error);
}

gboolean
sync_hash_initiator_start (SyncHashSession *s, GError **error)
{
  s->pass = 1;
  frontier_add (s, s->ctx, NULL, 0, -1);
  return initiator_next (s, error);
}
