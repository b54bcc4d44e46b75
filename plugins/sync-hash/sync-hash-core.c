/* sync-hash-core.c: see sync-hash-core.h. */
#include "sync-hash-core.h"

#include <string.h>

#include "sync-hash-wire.h"

/* Local children are read from the host in pages of this many. */
#define LIST_PAGE 256u

struct _SyncHashSession {
  SyncHashConfig config;
  const MeroStateAccess *sa;
  MeroStateHandle *state;
  MeroStateLayout layout;
  MeroSyncRole role;
  uint8_t ctx[32];
  MeroSyncStatus status;
  MeroSyncSessionStats stats;

  GByteArray *inbuf;
  GQueue outq;                  /* GBytes, whole frames */

  int64_t session_deadline;
  int64_t idle_deadline;
  uint64_t requests;            /* responder: requests served */
  uint64_t entities;            /* entities received and merged */

  /* Initiator. */
  GQueue frontier;              /* SyncHashNode *, next nodes to ask for */
  GArray *in_flight;            /* SyncHashNode asked in the outstanding request */
  gboolean awaiting_reply;
  GPtrArray *push;              /* SyncHashEntity *, own versions for the next request */
  size_t push_bytes;
  guint pass;
  uint8_t remote_root[32];
};

static void frontier_add (SyncHashSession *s, const uint8_t owner[32], const uint8_t *path,
                          size_t path_len, int extra_slot);
static gboolean initiator_next (SyncHashSession *s, GError **error);
static void chained_node (const SyncHashSession *s, const SyncHashNode *node,
                          const SyncHashAnswer *a, SyncHashNode *out);

/* ---- failures, refusals, metrics ---------------------------------------- */

static void
count (SyncHashSession *s, const char *metric, const char *reason)
{
  g_autofree char *labels = NULL;

  if (s->config.host == NULL || s->config.host->counter_add == NULL)
    return;
  labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", s->config.protocol_label, reason);
  s->config.host->counter_add (s->config.host, metric, labels, 1);
}

/* Ends the session: counted in mero_sync_failures_total{reason}, logged,
 * and reported through @error.  Returns FALSE for the caller to return. */
static gboolean
session_fail (SyncHashSession *s, GError **error, int code, const char *reason,
              const char *format, ...) G_GNUC_PRINTF (5, 6);

static gboolean
session_fail (SyncHashSession *s, GError **error, int code, const char *reason,
              const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (s->status == MERO_SYNC_STATUS_RUNNING)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      count (s, "mero_sync_failures_total", reason);
      /* Info, not warning: a peer can cause it at will. */
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                       "%s session failed (%s): %s",
                       s->role == MERO_SYNC_ROLE_INITIATOR ? "initiator" : "responder", reason,
                       msg);
    }
  g_set_error_literal (error, MERO_SYNC_ERROR, code, msg);
  return FALSE;
}

/* A peer's message over a bound: refused (counted separately with its
 * reason), and the session ends. */
static gboolean
session_refuse (SyncHashSession *s, GError **error, const char *reason, const char *what)
{
  count (s, "mero_sync_refusals_total", reason);
  return session_fail (s, error, MERO_SYNC_ERROR_LIMIT, reason, "refused: %s", what);
}

static gboolean
state_failed (SyncHashSession *s, GError **error, GError *cause)
{
  return session_fail (s, error, MERO_SYNC_ERROR_STATE, "state", "state access: %s",
                       cause != NULL ? cause->message : "failed");
}

/* ---- cost ---------------------------------------------------------------- */

uint64_t
sync_hash_cost (const SyncHashConfig *config, const MeroSyncHandshake *local,
                const MeroSyncHandshake *remote)
{
  uint64_t n = MAX (local->entity_count, remote->entity_count);
  uint64_t levels = 1;

  if (memcmp (local->root_hash, remote->root_hash, 32) == 0)
    return 0;
  /* Estimated bytes.  Levelwise sends every child hash of each differing
   * entity: about 64 bytes per entity of the larger side. */
  if (config->levelwise)
    return n > SYNC_LEVELWISE_MAX_CHILDREN ? MERO_SYNC_COST_NOT_APPLICABLE : 64 * (n + 1);
  /* Merkle: a fanout of child hashes (33 bytes each) per bucket level of
   * every differing path, for up to SYNC_HASH_COST_PATHS paths (the number
   * of differences is not in the handshake), times the logical depth.  So
   * levelwise is the cheaper below about 10,000 entities, this above. */
  for (uint64_t m = n; m > 16; m /= 16)
    levels++;
  return 16 * 33 * (levels + 1) * MIN (n + 1, SYNC_HASH_COST_PATHS)
         * (MAX (remote->max_depth, local->max_depth) + 1);
}

/* ---- setup --------------------------------------------------------------- */

SyncHashSession *
sync_hash_session_new (const SyncHashConfig *config, const MeroSyncSessionParams *params,
                       GError **error)
{
  SyncHashSession *s;
  const MeroStateAccess *sa = config->host != NULL ? config->host->state : NULL;

  if (sa == NULL || !MERO_STATE_ACCESS_HAS (sa, writer_free) || params->state == NULL
      || params->local == NULL || params->remote == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "%s needs the ABI 1.1 state access, a state and both handshakes",
                   config->name);
      return NULL;
    }
  s = g_new0 (SyncHashSession, 1);
  s->config = *config;
  s->sa = sa;
  s->state = params->state;
  s->role = params->role;
  memcpy (s->ctx, params->context_id, 32);
  sa->get_layout (s->state, &s->layout);
  s->inbuf = g_byte_array_new ();
  g_queue_init (&s->outq);
  g_queue_init (&s->frontier);
  s->in_flight = g_array_new (FALSE, FALSE, sizeof (SyncHashNode));
  s->push = g_ptr_array_new_with_free_func ((GDestroyNotify) sync_hash_entity_free);
  s->session_deadline = params->now_us + SYNC_HASH_SESSION_TIMEOUT_US;
  s->idle_deadline = params->now_us + SYNC_HASH_IDLE_TIMEOUT_US;
  memcpy (s->remote_root, params->remote->root_hash, 32);

  /* Nothing to do when the roots already agree (both sides see it). */
  if (memcmp (params->local->root_hash, params->remote->root_hash, 32) == 0)
    s->status = MERO_SYNC_STATUS_DONE;
  else if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      /* The first request is ready to pull at once. */
      s->pass = 1;
      frontier_add (s, s->ctx, NULL, 0, -1);
      if (!initiator_next (s, error))
        {
          sync_hash_session_free (s);
          return NULL;
        }
    }
  return s;
}

void
sync_hash_session_free (SyncHashSession *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->inbuf);
  g_queue_clear_full (&s->outq, (GDestroyNotify) g_bytes_unref);
  g_queue_clear_full (&s->frontier, g_free);
  g_array_unref (s->in_flight);
  g_ptr_array_unref (s->push);
  g_free (s);
}

/* ---- output -------------------------------------------------------------- */

static void
queue_msg (SyncHashSession *s, const SyncHashMsg *m)
{
  GByteArray *out = g_byte_array_new ();

  sync_hash_msg_encode (m, out);
  s->stats.messages_sent++;
  s->stats.bytes_sent += out->len;
  g_queue_push_tail (&s->outq, g_byte_array_free_to_bytes (out));
}

GBytes *
sync_hash_session_pull_send (SyncHashSession *s)
{
  return g_queue_pop_head (&s->outq);
}

/* ---- reading local children --------------------------------------------- */

static gboolean
node_is_root_entity (const SyncHashSession *s, const SyncHashNode *n)
{
  return memcmp (n->owner, s->ctx, 32) == 0;
}

/* Appends every live child of the physical node @owner/@path (all pages). */
static gboolean
list_all (SyncHashSession *s, const uint8_t owner[32], const uint8_t *path, size_t path_len,
          GArray *out, size_t limit, GError **error)
{
  MeroStateChild page[LIST_PAGE];
  uint8_t after[32];
  gboolean first = TRUE, more = TRUE;

  while (more)
    {
      size_t n = 0;

      if (!s->sa->list_children (s->state, owner, path, path_len, first ? NULL : after, page,
                                 LIST_PAGE, &n, &more, error))
        return FALSE;
      for (size_t i = 0; i < n; i++)
        {
          SyncHashChild c = { 0 };

          if (out->len >= limit)
            {
              g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                           "more than %" G_GSIZE_FORMAT " children under one node", limit);
              return FALSE;
            }
          memcpy (c.id, page[i].id, 32);
          memcpy (c.hash, page[i].full_hash, 32);
          c.slot = (uint8_t) page[i].slot;
          g_array_append_val (out, c);
        }
      if (n > 0)
        memcpy (after, page[n - 1].id, 32);
      first = FALSE;
      if (n == 0)
        break;
    }
  return TRUE;
}

/* The logical children of @owner: every bucket level walked depth first
 * (levelwise). */
static gboolean
walk_logical (SyncHashSession *s, const uint8_t owner[32], uint8_t *path, size_t path_len,
              GArray *out, GError **error)
{
  g_autoptr (GArray) level = g_array_new (FALSE, FALSE, sizeof (SyncHashChild));

  if (!list_all (s, owner, path, path_len, level, SYNC_LEVELWISE_MAX_CHILDREN, error))
    return FALSE;
  for (guint i = 0; i < level->len; i++)
    {
      const SyncHashChild *c = &g_array_index (level, SyncHashChild, i);

      if (path_len < s->layout.bucket_levels)
        {
          path[path_len] = c->slot;
          if (!walk_logical (s, owner, path, path_len + 1, out, error))
            return FALSE;
          continue;
        }
      if (out->len >= SYNC_LEVELWISE_MAX_CHILDREN)
        {
          g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                       "more than %u logical children", SYNC_LEVELWISE_MAX_CHILDREN);
          return FALSE;
        }
      g_array_append_val (out, *c);
    }
  return TRUE;
}

static gint
child_id_cmp (gconstpointer a, gconstpointer b)
{
  return memcmp (((const SyncHashChild *) a)->id, ((const SyncHashChild *) b)->id, 32);
}

/* The children of @node as they go on the wire: @form and @out. */
static gboolean
node_children (SyncHashSession *s, const SyncHashNode *node, uint8_t *form, GArray *out,
               GError **error)
{
  if (node->path_len == SYNC_HASH_PATH_LOGICAL)
    {
      uint8_t path[SYNC_HASH_MAX_PATH] = { 0 };

      *form = SYNC_HASH_FORM_ENTITIES;
      if (!walk_logical (s, node->owner, path, 0, out, error))
        return FALSE;
      /* Buckets come in bucket-id order: sort for the merge join. */
      g_array_sort (out, child_id_cmp);
      return TRUE;
    }
  *form = node->path_len < s->layout.bucket_levels ? SYNC_HASH_FORM_BUCKETS
                                                   : SYNC_HASH_FORM_ENTITIES;
  return list_all (s, node->owner, node->path, node->path_len, out,
                   SYNC_HASH_MAX_CHILDREN_PER_NODE, error);
}

/* ---- responder ----------------------------------------------------------- */

/* Merges @pushes with one writer: all of the message or nothing. */
static gboolean
merge_all (SyncHashSession *s, GPtrArray *entities, uint8_t root[32], GError **error)
{
  MeroStateWriter *w = s->sa->writer_new (s->state);
  g_autoptr (GError) local_error = NULL;
  gboolean ok = TRUE;

  for (guint i = 0; ok && i < entities->len; i++)
    {
      const SyncHashEntity *we = entities->pdata[i];

      if (!s->sa->writer_merge (w, &we->e, &local_error))
        {
          /* One entity refused (unknown parent, bad type, moved): counted
           * and skipped; the root check at the end of the pass catches
           * what it leaves out. */
          if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED))
            {
              count (s, "mero_sync_refusals_total", "merge_refused");
              mero_plugin_log (s->config.host, MERO_LOG_LEVEL_DEBUG, s->config.name,
                               "entity not merged: %s", local_error->message);
              g_clear_error (&local_error);
              continue;
            }
          ok = FALSE;
        }
    }
  if (ok)
    ok = s->sa->writer_commit (w, root, &local_error);
  s->sa->writer_free (w);
  if (!ok)
    return state_failed (s, error, local_error);
  s->entities += entities->len;
  s->stats.entities_transferred += entities->len;
  return TRUE;
}

static gboolean
answer_node (SyncHashSession *s, const SyncHashNode *node, SyncHashAnswer *a, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (node->path_len == 0 || node->path_len == SYNC_HASH_PATH_LOGICAL)
    {
      MeroStateEntity e = { .struct_size = sizeof e };
      gboolean found = FALSE;

      if (!s->sa->get_entity (s->state, node->owner, &e, &found, &local_error))
        return state_failed (s, error, local_error);
      if (found && !node_is_root_entity (s, node))
        {
          SyncHashEntity *we = sync_hash_entity_new (&e);

          a->has_entity = TRUE;
          a->entity = *we;
          g_free (we);
        }
    }
  if (node->path_len != SYNC_HASH_PATH_LOGICAL && node->path_len > s->layout.bucket_levels)
    return session_refuse (s, error, "bad_node", "node path deeper than the bucket levels");
  if (!node_children (s, node, &a->form, a->children, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
        return session_refuse (s, error, "children", local_error->message);
      return state_failed (s, error, local_error);
    }
  return TRUE;
}

static size_t
answer_size (const SyncHashAnswer *a)
{
  return 6 + (a->has_entity ? sync_hash_entity_wire_size (&a->entity.e) : 0)
         + (size_t) a->children->len * 64;
}

static gboolean
responder_handle (SyncHashSession *s, SyncHashMsg *m, GError **error)
{
  g_autoptr (SyncHashMsg) reply = sync_hash_msg_new (SYNC_HASH_MSG_REPLY);
  size_t bytes = 0;

  if (m->type == SYNC_HASH_MSG_DONE)
    {
      s->status = MERO_SYNC_STATUS_DONE;
      return TRUE;
    }
  if (m->type != SYNC_HASH_MSG_REQUEST)
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "responder got message type %u", m->type);
  if (++s->requests > SYNC_HASH_MAX_REQUESTS_PER_SESSION)
    return session_refuse (s, error, "requests", "over SYNC_HASH_MAX_REQUESTS_PER_SESSION");
  if (s->entities + m->push->len > SYNC_HASH_MAX_ENTITIES_PER_SESSION)
    return session_refuse (s, error, "entities", "over SYNC_HASH_MAX_ENTITIES_PER_SESSION");
  /* Each protocol asks for its own kind of node only: a levelwise walk
   * of a huge collection is not something a sync-hash peer may ask for. */
  for (guint i = 0; i < m->nodes->len; i++)
    if ((g_array_index (m->nodes, SyncHashNode, i).path_len == SYNC_HASH_PATH_LOGICAL)
        != s->config.levelwise)
      return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                           "request for a node of the other protocol");
  if (!merge_all (s, m->push, reply->root, error))
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

          chained_node (s, &node, a, &child);
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
  queue_msg (s, reply);
  return TRUE;
}

/* ---- initiator ----------------------------------------------------------- */

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

/* The node @extra_slot (-1: none) under @owner/@path, or in levelwise
 * mode the entity @owner with its logical children. */
static void
node_make (const SyncHashSession *s, const uint8_t owner[32], const uint8_t *path,
           size_t path_len, int extra_slot, SyncHashNode *n)
{
  memset (n, 0, sizeof *n);
  memcpy (n->owner, owner, 32);
  if (s->config.levelwise)
    {
      n->path_len = SYNC_HASH_PATH_LOGICAL;
      return;
    }
  if (path_len > 0)
    memcpy (n->path, path, path_len);
  n->path_len = (uint8_t) path_len;
  if (extra_slot >= 0)
    n->path[n->path_len++] = (uint8_t) extra_slot;
}

static void
frontier_add (SyncHashSession *s, const uint8_t owner[32], const uint8_t *path, size_t path_len,
              int extra_slot)
{
  SyncHashNode *n = g_new0 (SyncHashNode, 1);

  node_make (s, owner, path, path_len, extra_slot, n);
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
        return state_failed (s, error, local_error);
      if (memcmp (root, s->remote_root, 32) == 0)
        {
          g_autoptr (SyncHashMsg) done = sync_hash_msg_new (SYNC_HASH_MSG_DONE);

          memcpy (done->root, root, 32);
          queue_msg (s, done);
          s->status = MERO_SYNC_STATUS_DONE;
          return TRUE;
        }
      if (++s->pass > SYNC_HASH_MAX_PASSES)
        return session_fail (s, error, MERO_SYNC_ERROR_FAILED, "roots_differ",
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
  queue_msg (s, req);
  s->awaiting_reply = TRUE;
  return TRUE;
}

static void
diff_add (const SyncHashSession *s, GArray *diff, const uint8_t owner[32], const uint8_t *path,
          size_t path_len, int extra_slot)
{
  SyncHashNode n;

  node_make (s, owner, path, path_len, extra_slot, &n);
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

/* The node a chained answer after @a (for @node) is about: its only child. */
static void
chained_node (const SyncHashSession *s, const SyncHashNode *node, const SyncHashAnswer *a,
              SyncHashNode *out)
{
  const SyncHashChild *c = &g_array_index (a->children, SyncHashChild, 0);

  if (a->form == SYNC_HASH_FORM_BUCKETS)
    node_make (s, node->owner, node->path, node->path_len, c->slot, out);
  else
    node_make (s, c->id, NULL, 0, -1, out);
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
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "entity record in the answer for a bucket");
  if (a->has_entity && memcmp (a->entity.e.id, node->owner, 32) != 0)
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "answer carries another entity than was asked");
  if (a->chain != NULL && (a->children->len != 1 || a->form == SYNC_HASH_FORM_NONE))
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "chained answer after a node without a single child");
  if (entity_node && !node_is_root_entity (s, node))
    {
      MeroStateEntity l = { .struct_size = sizeof l };
      gboolean found = FALSE;

      if (!s->sa->get_entity (s->state, node->owner, &l, &found, &local_error))
        return state_failed (s, error, local_error);
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
  if (!node_children (s, node, &local_form, local, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
        return session_fail (s, error, MERO_SYNC_ERROR_LIMIT, "children", "%s",
                             local_error->message);
      return state_failed (s, error, local_error);
    }
  if (a->form != SYNC_HASH_FORM_NONE && a->form != local_form)
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "children of another form than the node has");
  compare_children (s, node, a, local, local_form, diff);
  if (a->chain != NULL)
    chained_node (s, node, a, &next);
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

static gboolean
initiator_handle (SyncHashSession *s, SyncHashMsg *m, GError **error)
{
  g_autoptr (GPtrArray) to_merge = g_ptr_array_new ();
  guint n;

  if (m->type != SYNC_HASH_MSG_REPLY || !s->awaiting_reply)
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                         "initiator got an unexpected message (type %u)", m->type);
  n = m->answers->len;
  if (n > s->in_flight->len || (n == 0 && s->in_flight->len > 0))
    return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
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
    return session_refuse (s, error, "entities", "over SYNC_HASH_MAX_ENTITIES_PER_SESSION");
  if (!merge_all (s, to_merge, NULL, error))
    return FALSE;
  if (s->stats.round_trips >= SYNC_HASH_MAX_REQUESTS_PER_SESSION)
    return session_fail (s, error, MERO_SYNC_ERROR_LIMIT, "requests",
                         "over SYNC_HASH_MAX_REQUESTS_PER_SESSION round trips");
  return initiator_next (s, error);
}

/* ---- input --------------------------------------------------------------- */

gboolean
sync_hash_session_recv (SyncHashSession *s, const uint8_t *data, size_t len, int64_t now_us,
                        GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    {
      if (len == 0)
        return TRUE;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                   "bytes after the session ended");
      return FALSE;
    }
  s->stats.bytes_received += len;
  if (s->stats.bytes_received > SYNC_HASH_MAX_BYTES_PER_SESSION)
    return session_refuse (s, error, "bytes", "over SYNC_HASH_MAX_BYTES_PER_SESSION");
  s->idle_deadline = now_us + SYNC_HASH_IDLE_TIMEOUT_US;
  g_byte_array_append (s->inbuf, data, (guint) len);
  while (s->status == MERO_SYNC_STATUS_RUNNING && s->inbuf->len >= 4)
    {
      uint32_t blen = (uint32_t) s->inbuf->data[0] << 24 | (uint32_t) s->inbuf->data[1] << 16
                      | (uint32_t) s->inbuf->data[2] << 8 | s->inbuf->data[3];
      g_autoptr (SyncHashMsg) m = NULL;
      g_autoptr (GError) local_error = NULL;
      gboolean ok;

      if (blen > SYNC_HASH_MAX_FRAME)
        return session_refuse (s, error, "frame", "frame over SYNC_HASH_MAX_FRAME");
      if (s->inbuf->len - 4 < blen)
        break;
      m = sync_hash_msg_decode (s->inbuf->data + 4, blen, &local_error);
      g_byte_array_remove_range (s->inbuf, 0, 4 + blen);
      if (m == NULL)
        {
          if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
            return session_refuse (s, error, "message", local_error->message);
          return session_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "%s",
                               local_error->message);
        }
      s->stats.messages_received++;
      ok = s->role == MERO_SYNC_ROLE_INITIATOR ? initiator_handle (s, m, error)
                                               : responder_handle (s, m, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

/* ---- time and status ----------------------------------------------------- */

int64_t
sync_hash_session_next_deadline (SyncHashSession *s)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return MERO_SYNC_NO_DEADLINE;
  return MIN (s->session_deadline, s->idle_deadline);
}

gboolean
sync_hash_session_handle_deadline (SyncHashSession *s, int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return TRUE;
  if (now_us >= s->session_deadline)
    return session_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "timeout",
                         "session over SYNC_HASH_SESSION_TIMEOUT_US");
  if (now_us >= s->idle_deadline)
    return session_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "idle",
                         "peer silent for SYNC_HASH_IDLE_TIMEOUT_US");
  return TRUE;
}

MeroSyncStatus
sync_hash_session_status (SyncHashSession *s)
{
  return s->status;
}

void
sync_hash_session_get_stats (SyncHashSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}
