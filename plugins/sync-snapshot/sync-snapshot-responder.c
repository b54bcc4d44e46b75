/* sync-snapshot-responder.c: serves the boundary and the pages of one
 * consistent read view. */
#include "sync-snapshot-session.h"

static gboolean
handle_open (SyncSnapshotSession *s, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  uint8_t root[32];
  const uint8_t *heads = NULL;
  size_t n_heads = 0;

  if (s->view != NULL)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "second OPEN");
  /* The view pins the store snapshot, root and heads of this instant:
   * every page of the session comes from it. */
  s->view = s->sa->read_view_new (s->state, &local_error);
  if (s->view == NULL)
    return sync_snapshot_state_failed (s, error, local_error);
  s->page_buf = g_new0 (MeroStateEntity, SYNC_SNAPSHOT_PAGE_ENTITIES);
  s->sa->read_view_boundary (s->view, root, &heads, &n_heads);
  if (n_heads > SYNC_SNAPSHOT_MAX_HEADS)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_LIMIT, "heads",
                               "%" G_GSIZE_FORMAT " DAG heads, over SYNC_SNAPSHOT_MAX_HEADS",
                               n_heads);
  sync_snapshot_queue (s, sync_snapshot_wire_encode_boundary (root, heads, n_heads));
  return TRUE;
}

static gboolean
handle_next (SyncSnapshotSession *s, const SyncSnapshotMsg *m, GError **error)
{
  g_autoptr (GError) local_error = NULL;
  size_t n = 0, used = 0;
  gboolean more = FALSE;

  if (s->view == NULL)
    return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                               "NEXT before OPEN");
  if (++s->pages > SYNC_SNAPSHOT_MAX_PAGES_PER_SESSION)
    return sync_snapshot_refuse (s, error, "pages", "over SYNC_SNAPSHOT_MAX_PAGES_PER_SESSION");
  if (!s->sa->read_view_page (s->view, m->has_cursor ? m->cursor : NULL, s->page_buf,
                              SYNC_SNAPSHOT_PAGE_ENTITIES, &n, &more, &local_error))
    return sync_snapshot_state_failed (s, error, local_error);
  sync_snapshot_queue (s, sync_snapshot_wire_encode_page (s->page_buf, n, more, &used));
  s->stats.entities_transferred += used;
  s->stats.round_trips++;
  return TRUE;
}

gboolean
sync_snapshot_responder_handle (SyncSnapshotSession *s, SyncSnapshotMsg *m, GError **error)
{
  switch (m->type)
    {
    case SYNC_SNAPSHOT_MSG_OPEN:
      return handle_open (s, error);
    case SYNC_SNAPSHOT_MSG_NEXT:
      return handle_next (s, m, error);
    case SYNC_SNAPSHOT_MSG_DONE:
      if (s->view == NULL)
        return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                                   "DONE before OPEN");
      s->status = MERO_SYNC_STATUS_DONE;
      return TRUE;
    case SYNC_SNAPSHOT_MSG_BOUNDARY:
    case SYNC_SNAPSHOT_MSG_PAGE:
    default:
      return sync_snapshot_fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                                 "initiator sent a responder's message (type %u)", m->type);
    }
}
