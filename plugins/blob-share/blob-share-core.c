/* blob-share-core.c: see blob-share-core.h. */
#include "blob-share-core.h"

#include <string.h>

#include "blob-share-wire.h"

typedef enum {
  STAGE_REQUEST,   /* responder: waiting for it; initiator: sent, waiting for HEADER */
  STAGE_STREAM,    /* responder: sending chunks; initiator: receiving them */
  STAGE_END,       /* initiator: all chunks in, waiting for END */
  STAGE_OVER,
} Stage;

struct _BlobShareSession {
  const BlobShareConfig *config;
  const MeroHostServices *host;
  const MeroBlobAccess *ba;
  MeroSyncRole role;
  MeroBlobHandle *blobs;
  char *peer;
  uint8_t context_id[32];
  uint8_t blob_id[32];
  uint64_t first, count;       /* the range asked for */
  uint32_t flags;
  Stage stage;
  MeroSyncStatus status;
  GByteArray *inbuf;
  GQueue out;                  /* GBytes frames */
  int64_t started_us, heard_us;
  uint64_t size, n_chunks;
  uint64_t next, end;          /* chunks [next, end) still to send / receive */
  MeroSyncSessionStats stats;
};

static void
count (BlobShareSession *s, const char *metric, const char *label, const char *value)
{
  g_autofree char *labels = label != NULL ? g_strdup_printf ("%s=\"%s\"", label, value) : NULL;

  if (s->host != NULL && s->host->counter_add != NULL)
    s->host->counter_add (s->host, metric, labels, 1);
}

static uint64_t
chunk_count (uint64_t size)
{
  return size == 0 ? 1 : (size + MERO_BLOB_XFER_CHUNK_LEN - 1) / MERO_BLOB_XFER_CHUNK_LEN;
}

/* The end of the chunks [first, first + count) served, the same on both
 * sides: with WHOLE_IF_FITS, none unless they are the whole blob. */
static uint64_t
range_end (uint64_t first, uint64_t count, uint64_t n_chunks, gboolean whole_if_fits)
{
  if (count == 0 || (whole_if_fits && (first != 0 || count < n_chunks)))
    return first;
  return MIN (first + count, n_chunks);
}

static uint64_t
chunk_len (uint64_t size, uint64_t index)
{
  uint64_t start = index * MERO_BLOB_XFER_CHUNK_LEN;

  return MIN (size - start, (uint64_t) MERO_BLOB_XFER_CHUNK_LEN);
}

uint64_t
blob_share_cost (const BlobShareConfig *config, const MeroSyncHandshake *local,
                 const MeroSyncHandshake *remote)
{
  return MERO_SYNC_COST_NOT_APPLICABLE;
}

static void
queue (BlobShareSession *s, const BlobMsg *m)
{
  GBytes *frame = blob_wire_encode (m);

  s->stats.messages_sent++;
  s->stats.bytes_sent += g_bytes_get_size (frame);
  g_queue_push_tail (&s->out, frame);
}

static void
queue_error (BlobShareSession *s, BlobErrCode code, const char *reason)
{
  BlobMsg m = { .type = BLOB_MSG_ERROR, .code = code, .reason = (char *) reason };

  queue (s, &m);
}

BlobShareSession *
blob_share_session_new (const BlobShareConfig *config, const MeroSyncSessionParams *params,
                        GError **error)
{
  const MeroHostServices *host = config->host;
  BlobShareSession *s;

  if (!MERO_SYNC_SESSION_PARAMS_HAS (params, blob_flags) || params->blobs == NULL
      || host == NULL || !MERO_HOST_SERVICES_HAS (host, blobs) || host->blobs == NULL
      || !MERO_BLOB_ACCESS_HAS (host->blobs, note_failure))
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                           "blob-share needs the host's blob access (ABI 1.2)");
      return NULL;
    }
  if (params->role == MERO_SYNC_ROLE_INITIATOR && params->chunk_count > BLOB_SHARE_MAX_RANGE)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                   "at most %u chunks per request", BLOB_SHARE_MAX_RANGE);
      return NULL;
    }
  s = g_new0 (BlobShareSession, 1);
  s->config = config;
  s->host = host;
  s->ba = host->blobs;
  s->role = params->role;
  s->blobs = params->blobs;
  s->peer = g_strdup (params->peer_id);
  s->inbuf = g_byte_array_new ();
  g_queue_init (&s->out);
  s->started_us = s->heard_us = params->now_us;
  s->stage = STAGE_REQUEST;
  s->status = MERO_SYNC_STATUS_RUNNING;
  if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      BlobMsg m = { .type = BLOB_MSG_REQUEST };
      g_autoptr (GError) local = NULL;

      memcpy (s->context_id, params->context_id, 32);
      memcpy (s->blob_id, params->blob_id, 32);
      s->first = params->chunk_first;
      s->count = params->chunk_count;
      s->flags = params->blob_flags;
      memcpy (m.context_id, s->context_id, 32);
      memcpy (m.blob_id, s->blob_id, 32);
      m.first = s->first;
      m.count = (uint32_t) s->count;
      m.flags = ((s->flags & MERO_BLOB_SESSION_WANT_LEAVES) ? BLOB_REQ_WANT_LEAVES : 0)
                | ((s->flags & MERO_BLOB_SESSION_WHOLE_IF_FITS) ? BLOB_REQ_WHOLE_IF_FITS : 0);
      m.timestamp_us = host->now_real_us (host);
      if (!s->ba->sign_request (s->blobs, m.context_id, m.blob_id, m.timestamp_us, m.signer,
                                m.signature, &local))
        {
          g_propagate_prefixed_error (error, g_steal_pointer (&local),
                                      "cannot sign the blob request: ");
          blob_share_session_free (s);
          return NULL;
        }
      queue (s, &m);
    }
  return s;
}

/* Ends the session; an initiator tells the host why first. */
static gboolean
session_fail (BlobShareSession *s, MeroBlobFailure why, const char *refused_reason,
              GError **error, const char *format, ...) G_GNUC_PRINTF (5, 6);

static gboolean
session_fail (BlobShareSession *s, MeroBlobFailure why, const char *refused_reason,
              GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list ap;

  va_start (ap, format);
  message = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      if (refused_reason != NULL)
        count (s, BLOB_SHARE_REFUSED_METRIC, "reason", refused_reason);
      s->ba->note_failure (s->blobs, why, message);
    }
  mero_plugin_log (s->host, MERO_LOG_LEVEL_INFO, s->config->name, "%s session with %s: %s",
                   s->role == MERO_SYNC_ROLE_INITIATOR ? "fetch" : "serve", s->peer, message);
  s->stage = STAGE_OVER;
  s->status = MERO_SYNC_STATUS_FAILED;
  g_set_error (error, MERO_SYNC_ERROR,
               why == MERO_BLOB_FAILURE_TIMEOUT ? MERO_SYNC_ERROR_TIMEOUT
               : why == MERO_BLOB_FAILURE_TOO_LARGE ? MERO_SYNC_ERROR_LIMIT
                                                    : MERO_SYNC_ERROR_PROTOCOL,
               "%s", message);
  return FALSE;
}

/* ---- responder ---- */

/* The answer ends the exchange: the session is DONE once it is sent
 * (an answered refusal is a clean end of the stream, not a failure). */
static void
refuse (BlobShareSession *s, BlobErrCode code, const char *result, const char *reason)
{
  count (s, BLOB_SHARE_REQUESTS_METRIC, "result", result);
  queue_error (s, code, reason);
  s->stage = STAGE_OVER;
  s->status = MERO_SYNC_STATUS_DONE;
}

static gboolean
on_request (BlobShareSession *s, BlobMsg *m, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autoptr (GBytes) leaves = NULL;
  gboolean found = FALSE;
  BlobMsg h = { .type = BLOB_MSG_HEADER };

  memcpy (s->context_id, m->context_id, 32);
  memcpy (s->blob_id, m->blob_id, 32);
  if (!s->ba->authorize (s->blobs, s->peer, m->context_id, m->blob_id, m->timestamp_us,
                         m->signer, m->signature, &local))
    {
      refuse (s, BLOB_ERR_REFUSED, "refused", local->message);
      return TRUE;
    }
  g_clear_error (&local);
  if (!s->ba->get_blob (s->blobs, m->blob_id, &s->size, &leaves, &found, &local) || !found)
    {
      refuse (s, BLOB_ERR_NOT_FOUND, "not_found", "blob not held here");
      return TRUE;
    }
  s->n_chunks = chunk_count (s->size);
  if (m->count > BLOB_SHARE_MAX_RANGE || (m->count > 0 && m->first >= s->n_chunks))
    {
      refuse (s, BLOB_ERR_BAD_REQUEST, "bad_request", "chunk range outside the blob or too long");
      return TRUE;
    }
  s->next = m->first;
  s->end = range_end (m->first, m->count, s->n_chunks, (m->flags & BLOB_REQ_WHOLE_IF_FITS) != 0);
  h.size = s->size;
  if (m->flags & BLOB_REQ_WANT_LEAVES)
    {
      if (g_bytes_get_size (leaves) / 32 > BLOB_WIRE_MAX_LEAVES)
        {
          refuse (s, BLOB_ERR_BAD_REQUEST, "bad_request", "blob too large for this protocol");
          return TRUE;
        }
      h.leaves = leaves;
    }
  count (s, BLOB_SHARE_REQUESTS_METRIC, "result", "served");
  queue (s, &h);
  s->stage = STAGE_STREAM;
  return TRUE;
}

/* ---- initiator ---- */

static gboolean
on_header (BlobShareSession *s, BlobMsg *m, GError **error)
{
  g_autoptr (GError) local = NULL;

  s->size = m->size;
  s->n_chunks = chunk_count (m->size);
  if (s->n_chunks > BLOB_WIRE_MAX_LEAVES)
    return session_fail (s, MERO_BLOB_FAILURE_TOO_LARGE, "too_large", error,
                         "blob of %" G_GUINT64_FORMAT " bytes is over the protocol's bound",
                         m->size);
  if (s->flags & MERO_BLOB_SESSION_WANT_LEAVES)
    {
      if (m->leaves == NULL || g_bytes_get_size (m->leaves) != s->n_chunks * 32)
        return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, "malformed", error,
                             "header without the %" G_GUINT64_FORMAT " leaves asked for",
                             s->n_chunks);
      if (!s->ba->partial_open (s->blobs, m->size, m->leaves, &local))
        {
          gboolean too_large = g_error_matches (local, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT);
          gboolean bad = g_error_matches (local, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);

          return session_fail (s,
                               too_large ? MERO_BLOB_FAILURE_TOO_LARGE
                               : bad     ? MERO_BLOB_FAILURE_CORRUPT
                                         : MERO_BLOB_FAILURE_LOCAL,
                               too_large ? "too_large" : bad ? "corrupt_leaves" : NULL, error,
                               "%s", local->message);
        }
    }
  else if (m->leaves != NULL)
    return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, "malformed", error,
                         "leaves not asked for");
  if (s->count > 0 && s->first >= s->n_chunks)
    return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, "malformed", error,
                         "range outside the blob the peer describes");
  s->next = s->first;
  s->end = range_end (s->first, s->count, s->n_chunks,
                      (s->flags & MERO_BLOB_SESSION_WHOLE_IF_FITS) != 0);
  s->stage = s->next < s->end ? STAGE_STREAM : STAGE_END;
  return TRUE;
}

static gboolean
on_chunk (BlobShareSession *s, BlobMsg *m, GError **error)
{
  g_autoptr (GError) local = NULL;
  gsize len = g_bytes_get_size (m->data);

  /* In order, each once, each of its exact length. */
  if (m->index != s->next || len != chunk_len (s->size, m->index))
    return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, "malformed", error,
                         "chunk %" G_GUINT64_FORMAT " out of order or of the wrong length",
                         m->index);
  if (!s->ba->write_chunk (s->blobs, m->index, g_bytes_get_data (m->data, NULL), len, &local))
    {
      gboolean corrupt = g_error_matches (local, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);

      return session_fail (s, corrupt ? MERO_BLOB_FAILURE_CORRUPT : MERO_BLOB_FAILURE_LOCAL,
                           corrupt ? "corrupt" : NULL, error, "chunk %" G_GUINT64_FORMAT ": %s",
                           m->index, local->message);
    }
  count (s, BLOB_SHARE_RECEIVED_METRIC, NULL, NULL);
  s->stats.entities_transferred++;
  s->next++;
  if (s->next == s->end)
    s->stage = STAGE_END;
  return TRUE;
}

static gboolean
on_peer_error (BlobShareSession *s, BlobMsg *m, GError **error)
{
  MeroBlobFailure why;
  const char *label;

  switch (m->code)
    {
    case BLOB_ERR_REFUSED:
      why = MERO_BLOB_FAILURE_REFUSED, label = "refused";
      break;
    case BLOB_ERR_NOT_FOUND:
      why = MERO_BLOB_FAILURE_NOT_FOUND, label = "not_found";
      break;
    case BLOB_ERR_INTERNAL:
      why = MERO_BLOB_FAILURE_BUSY, label = "provider_error";
      break;
    default:
      why = MERO_BLOB_FAILURE_PROTOCOL, label = "bad_request";
      break;
    }
  count (s, BLOB_SHARE_FAILURES_METRIC, "reason", label);
  return session_fail (s, why, NULL, error, "the provider answered: %s", m->reason);
}

static gboolean
on_message (BlobShareSession *s, BlobMsg *m, GError **error)
{
  if (s->role == MERO_SYNC_ROLE_RESPONDER)
    {
      /* One request; a responder hears nothing after it. */
      if (s->stage != STAGE_REQUEST || m->type != BLOB_MSG_REQUEST)
        {
          count (s, BLOB_SHARE_REQUESTS_METRIC, "result", "malformed");
          return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, NULL, error,
                               "unexpected frame %d", m->type);
        }
      return on_request (s, m, error);
    }
  if (m->type == BLOB_MSG_ERROR)
    return on_peer_error (s, m, error);
  if (s->stage == STAGE_REQUEST && m->type == BLOB_MSG_HEADER)
    return on_header (s, m, error);
  if (s->stage == STAGE_STREAM && m->type == BLOB_MSG_CHUNK)
    return on_chunk (s, m, error);
  if (s->stage == STAGE_END && m->type == BLOB_MSG_END)
    {
      s->stage = STAGE_OVER;
      s->status = MERO_SYNC_STATUS_DONE;
      return TRUE;
    }
  return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, "malformed", error,
                       "unexpected frame %d", m->type);
}

gboolean
blob_share_session_recv (BlobShareSession *s, const uint8_t *data, size_t len, int64_t now_us,
                         GError **error)
{
  size_t off = 0;

  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return len == 0;
  s->heard_us = now_us;
  s->stats.bytes_received += len;
  /* Bounded: at most one frame (and a header's worth) waits here. */
  g_byte_array_append (s->inbuf, data, (guint) len);
  while (s->status == MERO_SYNC_STATUS_RUNNING)
    {
      BlobMsg m;
      const char *reason = NULL;
      size_t used = 0;
      g_autoptr (GError) local = NULL;
      BlobDecode d = blob_wire_decode (s->inbuf->data + off, s->inbuf->len - off, &used, &m,
                                       &reason, &local);
      gboolean ok;

      if (d == BLOB_DECODE_NEED_MORE)
        break;
      if (d == BLOB_DECODE_ERROR)
        {
          if (s->role == MERO_SYNC_ROLE_RESPONDER)
            count (s, BLOB_SHARE_REQUESTS_METRIC, "result", "malformed");
          return session_fail (s, MERO_BLOB_FAILURE_PROTOCOL, reason, error, "%s",
                               local->message);
        }
      off += used;
      s->stats.messages_received++;
      ok = on_message (s, &m, error);
      blob_msg_clear (&m);
      if (!ok)
        return FALSE;
    }
  g_byte_array_remove_range (s->inbuf, 0, (guint) off);
  return TRUE;
}

GBytes *
blob_share_session_pull_send (BlobShareSession *s)
{
  GBytes *b = g_queue_pop_head (&s->out);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) data = NULL;
  uint64_t index;

  if (b != NULL || s->role != MERO_SYNC_ROLE_RESPONDER || s->stage != STAGE_STREAM)
    return b;
  /* Chunks are read one per call, as the host drains them. */
  if (s->next == s->end)
    {
      BlobMsg end = { .type = BLOB_MSG_END };

      queue (s, &end);
      s->stage = STAGE_OVER;
      s->status = MERO_SYNC_STATUS_DONE;
      return g_queue_pop_head (&s->out);
    }
  data = s->ba->read_chunk (s->blobs, s->blob_id, s->next, &error);
  if (data == NULL)
    {
      /* Damaged or unreadable here: the fetcher asks someone else. */
      mero_plugin_log (s->host, MERO_LOG_LEVEL_WARNING, s->config->name,
                       "cannot serve chunk %" G_GUINT64_FORMAT " to %s: %s", s->next, s->peer,
                       error->message);
      count (s, BLOB_SHARE_REQUESTS_METRIC, "result", "internal");
      queue_error (s, BLOB_ERR_INTERNAL, "chunk unreadable");
      /* Answered: the stream closes cleanly, so the chunks sent before
       * reach the fetcher (a reset could drop them in flight). */
      s->stage = STAGE_OVER;
      s->status = MERO_SYNC_STATUS_DONE;
      return g_queue_pop_head (&s->out);
    }
  /* The frame goes out as its header and then the chunk's own bytes:
   * the stream carries the same bytes as one encoded frame, without a
   * copy of each chunk on the serving node's main loop. */
  index = s->next++;
  count (s, BLOB_SHARE_SERVED_METRIC, NULL, NULL);
  s->stats.entities_transferred++;
  s->stats.messages_sent++;
  s->stats.bytes_sent += BLOB_WIRE_CHUNK_HEADER_LEN + g_bytes_get_size (data);
  g_queue_push_tail (&s->out, blob_wire_encode_chunk_header (index, g_bytes_get_size (data)));
  if (g_bytes_get_size (data) > 0)
    g_queue_push_tail (&s->out, g_steal_pointer (&data));
  return g_queue_pop_head (&s->out);
}

int64_t
blob_share_session_next_deadline (BlobShareSession *s)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING)
    return MERO_SYNC_NO_DEADLINE;
  if (s->role == MERO_SYNC_ROLE_RESPONDER)
    return s->stage == STAGE_REQUEST ? s->started_us + BLOB_SHARE_REQUEST_TIMEOUT_US
                                     : MERO_SYNC_NO_DEADLINE;
  return MIN (s->heard_us + BLOB_SHARE_IDLE_TIMEOUT_US,
              s->started_us + BLOB_SHARE_SESSION_TIMEOUT_US);
}

gboolean
blob_share_session_handle_deadline (BlobShareSession *s, int64_t now_us, GError **error)
{
  int64_t at = blob_share_session_next_deadline (s);

  if (at == MERO_SYNC_NO_DEADLINE || now_us < at)
    return TRUE;
  if (s->role == MERO_SYNC_ROLE_RESPONDER)
    count (s, BLOB_SHARE_REQUESTS_METRIC, "result", "timeout");
  return session_fail (s, MERO_BLOB_FAILURE_TIMEOUT, "timeout", error,
                       "no answer within the session's bounds");
}

MeroSyncStatus
blob_share_session_status (BlobShareSession *s)
{
  /* A responder is done once its last frame has been taken. */
  if (s->status != MERO_SYNC_STATUS_RUNNING && s->out.length > 0)
    return MERO_SYNC_STATUS_RUNNING;
  return s->status;
}

void
blob_share_session_get_stats (BlobShareSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}

void
blob_share_session_free (BlobShareSession *s)
{
  if (s == NULL)
    return;
  g_queue_clear_full (&s->out, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (s->inbuf);
  g_free (s->peer);
  g_free (s);
}
