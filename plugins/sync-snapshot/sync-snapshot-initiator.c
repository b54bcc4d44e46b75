/* sync-snapshot-initiator.c: stages the pages through the host's
 * snapshot writer and commits once the root matches the boundary. */
#include "sync-snapshot-session.h"

#include <string.h>

static gboolean
handle_boundary (SyncSnapshotSession *s, SyncSnapshotMsg *m, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  uint8_t cursor[32];
  gboolean resumed = FALSE;

  if (s->have_boundary)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                               "second BOUNDARY");
  s->have_boundary = TRUE;
  s->writer = s->sa->snapshot_begin (s->state, m->root, s->resync, cursor, &resumed,
                                     &local_error);
  if (s->writer == NULL)
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED))
        return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_UNSUPPORTED, "not-fresh", "%s",
                                   local_error->message);
      return sync_snapshot_state_failed (s, error, local_error);
    }
  s->heads = g_steal_pointer (&m->heads);
  s->n_heads = m->n_heads;
  if (resumed)
    {
      sync_snapshot_count (s, "mero_sync_snapshot_resumed_total", "cursor");
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                       "resuming a cut snapshot from its last staged page");
    }
  sync_snapshot_queue (s, sync_snapshot_wire_encode_next (resumed ? cursor : NULL));
  return TRUE;
}

static gboolean
handle_page (SyncSnapshotSession *s, SyncSnapshotMsg *m, GError **error)
{
  g_autoptr (GError) local_error = NULL;

  if (s->writer == NULL)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                               "PAGE before BOUNDARY");
  if (++s->pages > SYNC_SNAPSHOT_MAX_PAGES_PER_SESSION)
    return sync_snapshot_refuse (s, error, "pages", "over SYNC_SNAPSHOT_MAX_PAGES_PER_SESSION");
  if (s->stats.entities_transferred + m->n_entities > SYNC_SNAPSHOT_MAX_ENTITIES_PER_SESSION)
    return sync_snapshot_refuse (s, error, "entities",
                                 "over SYNC_SNAPSHOT_MAX_ENTITIES_PER_SESSION");
  s->stats.round_trips++;
  if (m->n_entities > 0
      && !s->sa->snapshot_put_page (s->writer, m->entities, m->n_entities, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL)
          || g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT))
        return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "%s",
                                   local_error->message);
      return sync_snapshot_state_failed (s, error, local_error);
    }
  s->stats.entities_transferred += m->n_entities;
  if (m->more)
    {
      sync_snapshot_queue (s, sync_snapshot_wire_encode_next (
                                m->entities[m->n_entities - 1].id));
      return TRUE;
    }
  /* The last page: the host builds the state, checks the root against the
   * boundary and commits it with the heads, or commits nothing. */
  if (!s->sa->snapshot_commit (s->writer, s->heads, s->n_heads, &local_error))
    {
      if (g_error_matches (local_error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL))
        return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "root-mismatch", "%s",
                                   local_error->message);
      return sync_snapshot_state_failed (s, error, local_error);
    }
  sync_snapshot_queue (s, sync_snapshot_wire_encode_empty (SYNC_SNAPSHOT_MSG_DONE));
  s->status = MERO_SYNC_STATUS_DONE;
  return TRUE;
}

gboolean
sync_snapshot_initiator_handle (SyncSnapshotSession *s, SyncSnapshotMsg *m, GError **error)
{
  switch (m->type)
    {
    case SYNC_SNAPSHOT_MSG_BOUNDARY:
      return handle_boundary (s, m, error);
    case SYNC_SNAPSHOT_MSG_PAGE:
      return handle_page (s, m, error);
    case SYNC_SNAPSHOT_MSG_OPEN:
    case SYNC_SNAPSHOT_MSG_NEXT:
    case SYNC_SNAPSHOT_MSG_DONE:
    default:
      return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                                 "responder sent an initiator's message (type %u)", m->type);
    }
}
