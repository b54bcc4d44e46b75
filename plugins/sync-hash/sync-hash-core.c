/* sync-hash-core.c: see sync-hash-core.h.  The session, its input and
 * deadlines, and what both roles share; the roles themselves are in
 * sync-hash-initiator.c and sync-hash-responder.c. */
#include "sync-hash-session.h"

#include <string.h>

void
sync_hash_count (SyncHashSession *s, const char *metric, const char *reason)
{
  g_autofree char *labels = NULL;

  if (s->config.host == NULL || s->config.host->counter_add == NULL)
    return;
  labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", s->config.protocol_label, reason);
  s->config.host->counter_add (s->config.host, metric, labels, 1);
}

gboolean
sync_hash_fail (SyncHashSession *s, GError **error, int code, const char *reason,
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
      sync_hash_count (s, "mero_sync_failures_total", reason);
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
gboolean
sync_hash_refuse (SyncHashSession *s, GError **error, const char *reason, const char *what)
{
  sync_hash_count (s, "mero_sync_refusals_total", reason);
  return sync_hash_fail (s, error, MERO_SYNC_ERROR_LIMIT, reason, "refused: %s", what);
}

gboolean
sync_hash_state_failed (SyncHashSession *s, GError **error, GError *cause)
{
  return sync_hash_fail (s, error, MERO_SYNC_ERROR_STATE, "state", "state access: %s",
                         cause != NULL ? cause->message : "failed");
}

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
      if (!sync_hash_initiator_start (s, error))
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

void
sync_hash_queue_msg (SyncHashSession *s, const SyncHashMsg *m)
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

gboolean
sync_hash_node_is_root (const SyncHashSession *s, const SyncHashNode *n)
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
gboolean
sync_hash_node_children (SyncHashSession *s, const SyncHashNode *node, uint8_t *form, GArray *out,
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

/* Merges @pushes with one writer: all of the message or nothing. */
gboolean
sync_hash_merge_all (SyncHashSession *s, GPtrArray *entities, uint8_t root[32], GError **error)
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
              sync_hash_count (s, "mero_sync_refusals_total", "merge_refused");
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
    return sync_hash_state_failed (s, error, local_error);
  s->entities += entities->len;
  s->stats.entities_transferred += entities->len;
  return TRUE;
}

/* The node @extra_slot (-1: none) under @owner/@path, or in levelwise
 * mode the entity @owner with its logical children. */
void
sync_hash_node_make (const SyncHashSession *s, const uint8_t owner[32], const uint8_t *path,
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

/* The node a chained answer after @a (for @node) is about: its only child. */
void
sync_hash_chained_node (const SyncHashSession *s, const SyncHashNode *node, const SyncHashAnswer *a,
                        SyncHashNode *out)
{
  const SyncHashChild *c = &g_array_index (a->children, SyncHashChild, 0);

  if (a->form == SYNC_HASH_FORM_BUCKETS)
    sync_hash_node_make (s, node->owner, node->path, node->path_len, c->slot, out);
  else
    sync_hash_node_make (s, c->id, NULL, 0, -1, out);
}

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
    return sync_hash_refuse (s, error, "bytes", "over SYNC_HASH_MAX_BYTES_PER_SESSION");
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
        return sync_hash_refuse (s, error, "frame", "frame over SYNC_HASH_MAX_FRAME");
      if (s->inbuf->len - 4 < blen)
        break;
      m = sync_hash_msg_decode (s->inbuf->data + 4, blen, &local_error);
      g_byte_array_remove_range (s->inbuf, 0, 4 + blen);
      if (m == NULL)
        {
          if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
            return sync_hash_refuse (s, error, "message", local_error->message);
          return sync_hash_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "%s",
                                 local_error->message);
        }
      s->stats.messages_received++;
      ok = s->role == MERO_SYNC_ROLE_INITIATOR ? sync_hash_initiator_handle (s, m, error)
                                               : sync_hash_responder_handle (s, m, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

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
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "timeout",
                           "session over SYNC_HASH_SESSION_TIMEOUT_US");
  if (now_us >= s->idle_deadline)
    return sync_hash_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "idle",
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
