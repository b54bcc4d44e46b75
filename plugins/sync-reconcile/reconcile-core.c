/* reconcile-core.c: see reconcile-core.h.  The session, its input and
 * deadlines, and what both roles share; the roles are in
 * reconcile-initiator.c and reconcile-responder.c, the local set in
 * reconcile-set.c. */
#include "reconcile-session.h"

#include <string.h>

void
reconcile_count (ReconcileSession *s, const char *metric, const char *reason)
{
  g_autofree char *labels = NULL;

  if (s->config.host == NULL || s->config.host->counter_add == NULL)
    return;
  labels = g_strdup_printf ("protocol=\"%s\",reason=\"%s\"", s->config.protocol_label, reason);
  s->config.host->counter_add (s->config.host, metric, labels, 1);
}

gboolean
reconcile_fail (ReconcileSession *s, GError **error, int code, const char *reason,
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
      reconcile_count (s, "mero_sync_failures_total", reason);
      /* Info, not warning: a peer can cause it at will. */
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                       "%s session failed (%s): %s",
                       s->role == MERO_SYNC_ROLE_INITIATOR ? "initiator" : "responder", reason,
                       msg);
    }
  g_set_error_literal (error, MERO_SYNC_ERROR, code, msg);
  return FALSE;
}

gboolean
reconcile_refuse (ReconcileSession *s, GError **error, const char *reason, const char *what)
{
  reconcile_count (s, "mero_sync_refusals_total", reason);
  return reconcile_fail (s, error, MERO_SYNC_ERROR_LIMIT, reason, "refused: %s", what);
}

gboolean
reconcile_state_failed (ReconcileSession *s, GError **error, GError *cause)
{
  return reconcile_fail (s, error, MERO_SYNC_ERROR_STATE, "state", "state access: %s",
                         cause != NULL ? cause->message : "failed");
}

G_STATIC_ASSERT (RECONCILE_SYMBOL_WIRE_BYTES == RECONCILE_WIRE_SYMBOL_BYTES);

uint32_t
reconcile_first_batch (uint64_t n_local, uint64_t n_remote)
{
  /* The difference is at most both sets: tiny sets need no more than
   * about 1.5 symbols per item of both (plus the small-d overhead). */
  uint64_t cap = 2 * (n_local + n_remote) + 8;

  return (uint32_t) MIN ((uint64_t) RECONCILE_FIRST_BATCH, cap);
}

uint64_t
reconcile_cost (const ReconcileConfig *config, const MeroSyncHandshake *local,
                const MeroSyncHandshake *remote)
{
  uint64_t d, symbols;

  (void) config;
  if (memcmp (local->root_hash, remote->root_hash, 32) == 0)
    return 0;
  if (local->entity_count > RECONCILE_MAX_SET || remote->entity_count > RECONCILE_MAX_SET)
    return MERO_SYNC_COST_NOT_APPLICABLE;
  /* Estimated bytes of the comparison (the differing entities themselves
   * cost every protocol the same): coded symbols for the difference the
   * tree protocols' cost assumes too, at least the first batch.  Not n:
   * the cost does not grow with the state. */
  d = MIN ((uint64_t) RECONCILE_COST_DIFFERENCES, local->entity_count + remote->entity_count + 1);
  symbols = MAX ((uint64_t) reconcile_first_batch (local->entity_count, remote->entity_count),
                 d * 3 / 2);
  /* Plus the wanted keys and five frame headers. */
  return symbols * RECONCILE_SYMBOL_WIRE_BYTES + d * 8 + 5 * 16;
}

ReconcileSession *
reconcile_session_new (const ReconcileConfig *config, const MeroSyncSessionParams *params,
                       GError **error)
{
  ReconcileSession *s;
  const MeroStateAccess *sa = config->host != NULL ? config->host->state : NULL;

  if (sa == NULL || !MERO_STATE_ACCESS_HAS (sa, writer_free) || params->state == NULL
      || params->local == NULL || params->remote == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "%s needs the ABI 1.1 state access, a state and both handshakes",
                   config->name);
      return NULL;
    }
  s = g_new0 (ReconcileSession, 1);
  s->config = *config;
  s->sa = sa;
  s->state = params->state;
  s->role = params->role;
  memcpy (s->ctx, params->context_id, 32);
  reconcile_context_key (s->ctx, s->key);
  s->inbuf = g_byte_array_new ();
  g_queue_init (&s->outq);
  s->received = g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_entity_free);
  s->wants = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  s->session_deadline = params->now_us + RECONCILE_SESSION_TIMEOUT_US;
  s->idle_deadline = params->now_us + RECONCILE_IDLE_TIMEOUT_US;
  s->n_remote = params->remote->entity_count;

  /* Nothing to do when the roots already agree (both sides see it). */
  if (memcmp (params->local->root_hash, params->remote->root_hash, 32) == 0)
    s->status = MERO_SYNC_STATUS_DONE;
  else if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      if (!reconcile_initiator_start (s, params->local->entity_count,
                                     params->remote->entity_count, error))
        {
          reconcile_session_free (s);
          return NULL;
        }
    }
  else
    s->phase = RECONCILE_MSG_SYMBOLS;
  return s;
}

static gboolean
collect_one (const MeroStateEntity *e, void *data, GError **error)
{
  uint8_t item[RIBLT_ITEM_SIZE];

  (void) error;
  reconcile_version_item (e, item);
  g_byte_array_append (data, item, RIBLT_ITEM_SIZE);
  return TRUE;
}

gboolean
reconcile_collect_items (const MeroHostServices *host, MeroStateHandle *state,
                         const uint8_t context_id[32], GByteArray *out, GError **error)
{
  (void) context_id;
  if (host == NULL || host->state == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED, "no state access");
      return FALSE;
    }
  return reconcile_for_each_record (host->state, state, collect_one, out, error);
}

void
reconcile_session_free (ReconcileSession *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->inbuf);
  g_queue_clear_full (&s->outq, (GDestroyNotify) g_bytes_unref);
  riblt_decoder_free (s->decoder);
  riblt_encoder_free (s->encoder);
  g_free (s->prefix);
  reconcile_set_clear (&s->set);
  g_ptr_array_unref (s->received);
  g_array_unref (s->wants);
  g_free (s);
}

void
reconcile_queue_msg (ReconcileSession *s, const ReconcileMsg *m)
{
  GByteArray *out = g_byte_array_new ();

  reconcile_msg_encode (m, out);
  s->stats.messages_sent++;
  s->stats.bytes_sent += out->len;
  g_queue_push_tail (&s->outq, g_byte_array_free_to_bytes (out));
}

void
reconcile_queue_entities (ReconcileSession *s, uint8_t type, uint32_t symbols_used, GArray *wants,
                          GPtrArray *entities)
{
  guint i = 0;

  do
    {
      g_autoptr (ReconcileMsg) m = reconcile_msg_new (type);
      size_t bytes = 0;
      uint64_t sent;

      m->symbols_used = symbols_used;
      if (wants != NULL && i == 0)
        g_array_append_vals (m->wants, wants->data, wants->len);
      while (i < entities->len && m->entities->len < RECONCILE_MAX_ENTITIES_PER_MESSAGE
             && (m->entities->len == 0 || bytes < RECONCILE_FRAME_BUDGET))
        {
          ReconcileEntity *e = entities->pdata[i++];

          bytes += reconcile_entity_wire_size (&e->e);
          g_ptr_array_add (m->entities, reconcile_entity_new (&e->e));
        }
      m->more = i < entities->len;
      sent = s->stats.bytes_sent;
      reconcile_queue_msg (s, m);
      /* What the (compressed) entities took of the frame. */
      if (m->entities->len > 0)
        s->entity_bytes += s->stats.bytes_sent - sent - reconcile_msg_overhead (m);
    }
  while (i < entities->len);
}

ReconcileEntity *
reconcile_local_entity (ReconcileSession *s, const uint8_t id[32], GError **error)
{
  MeroStateEntity e = { .struct_size = sizeof e };
  gboolean found = FALSE;

  if (!s->sa->get_entity (s->state, id, &e, &found, error) || !found)
    return NULL;
  return reconcile_entity_new (&e);
}

gboolean
reconcile_merge_all (ReconcileSession *s, GPtrArray *entities, GError **error)
{
  MeroStateWriter *w = s->sa->writer_new (s->state);
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GPtrArray) todo = g_ptr_array_new ();
  gboolean ok = TRUE, progress = TRUE;

  for (guint i = 0; i < entities->len; i++)
    g_ptr_array_add (todo, entities->pdata[i]);
  /* Parents before children: an entity whose parent is further on in the
   * message is refused and retried in the next pass; a pass that merges
   * nothing ends it (at most the logical depth of passes). */
  while (ok && progress && todo->len > 0)
    {
      g_autoptr (GPtrArray) refused = g_ptr_array_new ();

      progress = FALSE;
      for (guint i = 0; ok && i < todo->len; i++)
        {
          const ReconcileEntity *we = todo->pdata[i];

          if (s->sa->writer_merge (w, &we->e, &local_error))
            {
              progress = TRUE;
              continue;
            }
          if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED))
            {
              g_ptr_array_add (refused, todo->pdata[i]);
              g_clear_error (&local_error);
              continue;
            }
          ok = FALSE;
        }
      g_ptr_array_unref (todo);
      todo = g_steal_pointer (&refused);
    }
  /* Still refused (unknown parent, bad type, moved): counted and skipped;
   * the next session sees it again as a difference. */
  for (guint i = 0; ok && i < todo->len; i++)
    {
      reconcile_count (s, "mero_sync_refusals_total", "merge_refused");
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_DEBUG, s->config.name,
                       "entity not merged: the state refused it");
    }
  if (ok)
    ok = s->sa->writer_commit (w, NULL, &local_error);
  s->sa->writer_free (w);
  if (!ok)
    return reconcile_state_failed (s, error, local_error);
  s->stats.entities_transferred += entities->len;
  return TRUE;
}

static gboolean
same_version (const MeroStateEntity *a, const MeroStateEntity *b)
{
  return a->updated_at == b->updated_at && a->updated_node == b->updated_node
         && a->deleted_at == b->deleted_at && a->deleted_node == b->deleted_node
         && a->cleared_at == b->cleared_at && a->cleared_node == b->cleared_node
         && a->data_len == b->data_len
         && (a->data_len == 0 || memcmp (a->data, b->data, a->data_len) == 0);
}

gboolean
reconcile_merge_backs (ReconcileSession *s, GPtrArray *received, GHashTable *seen, GPtrArray *out,
                       GError **error)
{
  for (guint i = 0; i < received->len; i++)
    {
      const ReconcileEntity *got = received->pdata[i];
      g_autoptr (GError) local_error = NULL;
      ReconcileEntity *mine;

      if (g_hash_table_contains (seen, got->e.id))
        continue;
      mine = reconcile_local_entity (s, got->e.id, &local_error);
      if (local_error != NULL)
        return reconcile_state_failed (s, error, local_error);
      /* Not there: the merge was refused; nothing to send back. */
      if (mine == NULL)
        continue;
      if (same_version (&mine->e, &got->e))
        {
          reconcile_entity_free (mine);
          continue;
        }
      g_hash_table_add (seen, mine->e.id);
      g_ptr_array_add (out, mine);
    }
  return TRUE;
}

gboolean
reconcile_session_recv (ReconcileSession *s, const uint8_t *data, size_t len, int64_t now_us,
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
  if (s->stats.bytes_received > RECONCILE_MAX_BYTES_PER_SESSION)
    return reconcile_refuse (s, error, "bytes", "over RECONCILE_MAX_BYTES_PER_SESSION");
  s->idle_deadline = now_us + RECONCILE_IDLE_TIMEOUT_US;
  g_byte_array_append (s->inbuf, data, (guint) len);
  while (s->status == MERO_SYNC_STATUS_RUNNING && s->inbuf->len >= 4)
    {
      uint32_t blen = (uint32_t) s->inbuf->data[0] << 24 | (uint32_t) s->inbuf->data[1] << 16
                      | (uint32_t) s->inbuf->data[2] << 8 | s->inbuf->data[3];
      g_autoptr (ReconcileMsg) m = NULL;
      g_autoptr (GError) local_error = NULL;
      gboolean ok;

      if (blen > RECONCILE_MAX_FRAME)
        return reconcile_refuse (s, error, "frame", "frame over RECONCILE_MAX_FRAME");
      if (s->inbuf->len - 4 < blen)
        break;
      m = reconcile_msg_decode (s->inbuf->data + 4, blen, &local_error);
      g_byte_array_remove_range (s->inbuf, 0, 4 + blen);
      if (m == NULL)
        {
          if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
            return reconcile_refuse (s, error, "message", local_error->message);
          return reconcile_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "%s",
                                 local_error->message);
        }
      s->stats.messages_received++;
      /* The symbols are answered by MORE or, once decoded, RESULT. */
      if (m->type != s->phase
          && !(s->phase == RECONCILE_MSG_MORE && m->type == RECONCILE_MSG_RESULT))
        return reconcile_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                               "message type %u out of order (expected %u)", m->type,
                               s->phase);
      ok = s->role == MERO_SYNC_ROLE_INITIATOR ? reconcile_initiator_handle (s, m, error)
                                               : reconcile_responder_handle (s, m, error);
      if (!ok)
        return FALSE;
    }
  return TRUE;
}

GBytes *
reconcile_session_pull_send (ReconcileSession *s)
{
  return g_queue_pop_head (&s->outq);
}

int64_t
reconcile_session_next_deadline (ReconcileSession *s)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return MERO_SYNC_NO_DEADLINE;
  return MIN (s->session_deadline, s->idle_deadline);
}

gboolean
reconcile_session_handle_deadline (ReconcileSession *s, int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return TRUE;
  if (now_us >= s->session_deadline)
    return reconcile_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "timeout",
                           "session over RECONCILE_SESSION_TIMEOUT_US");
  if (now_us >= s->idle_deadline)
    return reconcile_fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "idle",
                           "peer silent for RECONCILE_IDLE_TIMEOUT_US");
  return TRUE;
}

MeroSyncStatus
reconcile_session_status (ReconcileSession *s)
{
  return s->status;
}

void
reconcile_session_get_stats (ReconcileSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}

void
reconcile_session_get_symbols (ReconcileSession *s, uint64_t *symbols, uint64_t *used,
                               uint64_t *entity_bytes)
{
  *symbols = s->symbols;
  *entity_bytes = s->entity_bytes;
  *used = s->decoder != NULL ? riblt_decoder_symbols_used (s->decoder) : 0;
}
