/* mero-yamux.c: yamux session state machine. */
#include "net/core/mero-yamux.h"

#include <string.h>

G_DEFINE_QUARK (mero-yamux-error-quark, mero_yamux_error)

#define YAMUX_VERSION 0

enum {
  TYPE_DATA = 0,
  TYPE_WINDOW_UPDATE = 1,
  TYPE_PING = 2,
  TYPE_GO_AWAY = 3,
};

enum {
  FLAG_SYN = 0x1,
  FLAG_ACK = 0x2,
  FLAG_FIN = 0x4,
  FLAG_RST = 0x8,
};

typedef struct
{
  guint32 id;
  gboolean outbound;
  gboolean acked;        /* outbound: the peer sent ACK */
  guint32 send_window;   /* bytes we may still send */
  guint32 recv_window;   /* bytes the peer may still send */
  guint32 recv_consumed; /* read by the application, not yet credited */
  GByteArray *recv_buf;  /* unread part never longer than the window
                          * we granted; at most twice that in all */
  gsize recv_off;        /* read up to here; compacted lazily (once half
                          * the buffer is read), so a small read does not
                          * move the rest of the window each time */
  GByteArray *send_buf;  /* queued by the application, */
  gsize send_off;        /* from here (compacted lazily, like recv_off) */
  gboolean fin_requested;
  gboolean fin_sent;
  gboolean fin_received;
  gboolean in_ready;
} Stream;

struct _MeroYamuxSession
{
  MeroYamuxRole role;
  guint32 next_id;
  guint max_streams;
  GHashTable *streams; /* id -> Stream */
  guint n_inbound;
  guint n_outbound;
  guint n_unacked;
  GQueue ready;        /* ids of streams with data or a FIN to send */

  GByteArray *ctl;     /* control frames, sent before any data */
  gsize ctl_off;

  /* Frame parser. */
  guint8 hdr[MERO_YAMUX_HEADER_SIZE];
  gsize hdr_len;
  gboolean in_payload;
  guint16 cur_flags;
  guint32 cur_id;
  guint32 cur_remaining;

  GError *failure;
  gboolean goaway_sent;
  gboolean goaway_received;
  MeroYamuxStats stats;

  gboolean ping_outstanding;
  guint32 ping_value;
  gint64 ping_sent_at;
  gint64 keepalive_interval;
  gint64 next_keepalive;
};

static void
stream_free (gpointer data)
{
  Stream *stream = data;

  g_byte_array_unref (stream->recv_buf);
  g_byte_array_unref (stream->send_buf);
  g_free (stream);
}

static Stream *
stream_new (guint32 id, gboolean outbound)
{
  Stream *stream = g_new0 (Stream, 1);

  stream->id = id;
  stream->outbound = outbound;
  stream->send_window = MERO_YAMUX_INITIAL_WINDOW;
  stream->recv_window = MERO_YAMUX_INITIAL_WINDOW;
  stream->recv_buf = g_byte_array_new ();
  stream->send_buf = g_byte_array_new ();
  return stream;
}

MeroYamuxSession *
mero_yamux_session_new (MeroYamuxRole role)
{
  MeroYamuxSession *self = g_new0 (MeroYamuxSession, 1);

  self->role = role;
  self->next_id = role == MERO_YAMUX_ROLE_CLIENT ? 1 : 2;
  self->max_streams = MERO_YAMUX_DEFAULT_MAX_STREAMS;
  self->streams = g_hash_table_new_full (NULL, NULL, NULL, stream_free);
  g_queue_init (&self->ready);
  self->ctl = g_byte_array_new ();
  return self;
}

void
mero_yamux_session_free (MeroYamuxSession *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->streams);
  g_queue_clear (&self->ready);
  g_byte_array_unref (self->ctl);
  g_clear_error (&self->failure);
  g_free (self);
}

void
mero_yamux_session_set_max_streams (MeroYamuxSession *self, guint max_streams)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_streams > 0);
  self->max_streams = max_streams;
}

void
mero_yamux_session_set_keepalive (MeroYamuxSession *self, gint64 interval_us, gint64 now)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (interval_us >= 0);
  self->keepalive_interval = interval_us;
  self->next_keepalive = now + interval_us;
}

/* --- output ------------------------------------------------------------ */

static void
put_header (GByteArray *out, guint8 type, guint16 flags, guint32 id, guint32 length)
{
  guint8 hdr[MERO_YAMUX_HEADER_SIZE] = {
    YAMUX_VERSION, type,
    (guint8) (flags >> 8), (guint8) flags,
    (guint8) (id >> 24), (guint8) (id >> 16), (guint8) (id >> 8), (guint8) id,
    (guint8) (length >> 24), (guint8) (length >> 16), (guint8) (length >> 8), (guint8) length,
  };

  g_byte_array_append (out, hdr, sizeof hdr);
}

static gboolean fail_session (MeroYamuxSession *self, MeroYamuxError code, guint32 goaway_code,
                              GError **error, const char *format, ...) G_GNUC_PRINTF (5, 6);

/* Queues a control frame.  Frames the peer provokes (@peer_triggered) are
 * bounded by MERO_YAMUX_MAX_CONTROL_BACKLOG; ours are not, since the
 * application paces those itself. */
static gboolean
queue_ctl (MeroYamuxSession *self,
           gboolean          peer_triggered,
           guint8            type,
           guint16           flags,
           guint32           id,
           guint32           length,
           GError          **error)
{
  if (peer_triggered &&
      self->ctl->len - self->ctl_off + MERO_YAMUX_HEADER_SIZE > MERO_YAMUX_MAX_CONTROL_BACKLOG)
    return fail_session (self, MERO_YAMUX_ERROR_NOT_READING, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Peer provoked more than %u bytes of unsent control frames",
                         MERO_YAMUX_MAX_CONTROL_BACKLOG);
  put_header (self->ctl, type, flags, id, length);
  return TRUE;
}

static gboolean
fail_session (MeroYamuxSession *self, MeroYamuxError code, guint32 goaway_code,
              GError **error, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  if (self->failure == NULL)
    {
      self->failure = g_error_new_literal (MERO_YAMUX_ERROR, code, message);
      if (!self->goaway_sent)
        {
          /* Tell the peer why, whatever the backlog: it is the last frame. */
          put_header (self->ctl, TYPE_GO_AWAY, 0, 0, goaway_code);
          self->goaway_sent = TRUE;
        }
    }
  if (error != NULL)
    g_propagate_error (error, g_error_copy (self->failure));
  return FALSE;
}

static gboolean
check_alive (MeroYamuxSession *self, GError **error)
{
  if (self->failure == NULL)
    return TRUE;
  if (error != NULL)
    g_propagate_error (error, g_error_copy (self->failure));
  return FALSE;
}

static void
mark_ready (MeroYamuxSession *self, Stream *stream)
{
  if (stream->in_ready)
    return;
  stream->in_ready = TRUE;
  g_queue_push_tail (&self->ready, GUINT_TO_POINTER (stream->id));
}

static void
remove_stream (MeroYamuxSession *self, Stream *stream)
{
  if (stream->outbound)
    {
      self->n_outbound--;
      if (!stream->acked)
        self->n_unacked--;
    }
  else
    {
      self->n_inbound--;
    }
  if (stream->in_ready)
    g_queue_remove (&self->ready, GUINT_TO_POINTER (stream->id));
  g_hash_table_remove (self->streams, GUINT_TO_POINTER (stream->id));
}

/* A stream closed both ways, with nothing left to read, is done. */
static void
maybe_remove (MeroYamuxSession *self, Stream *stream)
{
  if (stream->fin_sent && stream->fin_received && stream->recv_buf->len == stream->recv_off)
    remove_stream (self, stream);
}

static Stream *
lookup (const MeroYamuxSession *self, guint32 id)
{
  return g_hash_table_lookup (self->streams, GUINT_TO_POINTER (id));
}

gboolean
mero_yamux_session_wants_send (const MeroYamuxSession *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->ctl->len > self->ctl_off || (self->failure == NULL && self->ready.length > 0);
}

/* Emits at most one data frame for the stream at the head of the ready
 * queue, so streams take turns.  Returns FALSE when @budget is too small. */
static gboolean
send_one_data_frame (MeroYamuxSession *self, GByteArray *out, gsize budget)
{
  guint32 id = GPOINTER_TO_UINT (g_queue_pop_head (&self->ready));
  Stream *stream = lookup (self, id);
  gsize pending;
  gsize n;
  gboolean fin;

  if (stream == NULL)
    return TRUE;
  stream->in_ready = FALSE;

  pending = stream->send_buf->len - stream->send_off;
  n = MIN (pending, stream->send_window);
  n = MIN (n, MERO_YAMUX_MAX_DATA_PAYLOAD);
  n = MIN (n, budget - MERO_YAMUX_HEADER_SIZE);
  /* FIN always travels alone, on a Window Update after the last data:
   * js (@chainsafe/libp2p-yamux 7) ends the stream's source on a Data
   * frame's FIN before the frame's payload is read, losing it (seen in
   * tests/interop: identify replies arrived as an empty stream). */
  fin = stream->fin_requested && !stream->fin_sent && pending == 0;

  if (n == 0 && !fin)
    {
      /* Blocked on the window: a Window Update puts it back.  Blocked on
       * the budget: keep its turn. */
      if (pending > 0 && stream->send_window > 0)
        {
          stream->in_ready = TRUE;
          g_queue_push_head (&self->ready, GUINT_TO_POINTER (id));
          return FALSE;
        }
      return TRUE;
    }

  if (n > 0)
    {
      put_header (out, TYPE_DATA, 0, id, (guint32) n);
      g_byte_array_append (out, stream->send_buf->data + stream->send_off, (guint) n);
      stream->send_off += n;
      if (stream->send_off == stream->send_buf->len)
        {
          g_byte_array_set_size (stream->send_buf, 0);
          stream->send_off = 0;
        }
      stream->send_window -= (guint32) n;
    }
  else
    {
      /* A bare FIN travels on a Window Update, as js sends it. */
      put_header (out, TYPE_WINDOW_UPDATE, FLAG_FIN, id, 0);
    }

  if (fin)
    {
      stream->fin_sent = TRUE;
      maybe_remove (self, stream);
      return TRUE;
    }
  if ((stream->send_buf->len > stream->send_off && stream->send_window > 0) ||
      stream->fin_requested)
    mark_ready (self, stream);
  return TRUE;
}

gsize
mero_yamux_session_pull_send (MeroYamuxSession *self, GByteArray *out, gsize max)
{
  gsize start;
  gsize n;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (out != NULL, 0);

  start = out->len;
  n = MIN (self->ctl->len - self->ctl_off, max);
  g_byte_array_append (out, self->ctl->data + self->ctl_off, (guint) n);
  self->ctl_off += n;
  if (self->ctl_off == self->ctl->len)
    {
      g_byte_array_set_size (self->ctl, 0);
      self->ctl_off = 0;
    }
  else
    {
      if (self->ctl_off >= MERO_YAMUX_MAX_CONTROL_BACKLOG / 2)
        {
          g_byte_array_remove_range (self->ctl, 0, (guint) self->ctl_off);
          self->ctl_off = 0;
        }
      /* Control frames go first so a SYN always precedes its data. */
      return out->len - start;
    }

  /* After a failure only the GoAway goes out. */
  while (self->failure == NULL && self->ready.length > 0)
    {
      gsize used = out->len - start;

      if (max - used <= MERO_YAMUX_HEADER_SIZE)
        break;
      if (!send_one_data_frame (self, out, max - used))
        break;
    }
  return out->len - start;
}

/* --- input ------------------------------------------------------------- */

static void
push_event (GArray *events, MeroYamuxEventType type, guint32 id, guint32 code, gint64 rtt_us)
{
  MeroYamuxEvent ev = { type, id, code, rtt_us };

  /* One DATA event per stream per batch is enough to say "readable". */
  if (type == MERO_YAMUX_EVENT_STREAM_DATA && events->len > 0)
    {
      const MeroYamuxEvent *last = &g_array_index (events, MeroYamuxEvent, events->len - 1);

      if (last->type == type && last->stream_id == id)
        return;
    }
  g_array_append_val (events, ev);
}

static gboolean
is_peer_parity (const MeroYamuxSession *self, guint32 id)
{
  /* Clients open odd ids, servers even ones. */
  gboolean odd = (id & 1) == 1;

  return self->role == MERO_YAMUX_ROLE_CLIENT ? !odd : odd;
}

static gboolean
handle_syn (MeroYamuxSession *self, guint32 id, GArray *events, GError **error)
{
  if (!is_peer_parity (self, id))
    return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Peer opened stream %u with our parity (both endpoints are %s)", id,
                         self->role == MERO_YAMUX_ROLE_CLIENT ? "clients" : "servers");
  if (lookup (self, id) != NULL)
    return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Peer opened stream %u twice", id);

  if (self->goaway_sent || self->n_inbound >= self->max_streams)
    {
      /* Refused: the frame's payload, if any, is discarded as for any
       * unknown stream. */
      if (self->goaway_sent)
        self->stats.streams_refused_going_away++;
      else
        self->stats.streams_refused_limit++;
      return queue_ctl (self, TRUE, TYPE_WINDOW_UPDATE, FLAG_RST, id, 0, error);
    }

  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), stream_new (id, FALSE));
  self->n_inbound++;
  push_event (events, MERO_YAMUX_EVENT_STREAM_OPENED, id, 0, 0);
  return queue_ctl (self, TRUE, TYPE_WINDOW_UPDATE, FLAG_ACK, id, 0, error);
}

/* FIN and RST apply after the frame's payload. */
static void
handle_end_flags (MeroYamuxSession *self, guint16 flags, guint32 id, GArray *events)
{
  Stream *stream = lookup (self, id);

  if (stream == NULL)
    return;
  if (flags & FLAG_RST)
    {
      remove_stream (self, stream);
      push_event (events, MERO_YAMUX_EVENT_STREAM_RESET, id, 0, 0);
      return;
    }
  if ((flags & FLAG_FIN) && !stream->fin_received)
    {
      stream->fin_received = TRUE;
      push_event (events, MERO_YAMUX_EVENT_STREAM_CLOSED, id, 0, 0);
      maybe_remove (self, stream);
    }
}

static gboolean
handle_stream_frame (MeroYamuxSession *self,
                     guint8            type,
                     guint16           flags,
                     guint32           id,
                     guint32           length,
                     GArray           *events,
                     GError          **error)
{
  Stream *stream;

  if (id == 0)
    return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Stream frame on the session id 0");
  if ((flags & FLAG_SYN) && !handle_syn (self, id, events, error))
    return FALSE;

  stream = lookup (self, id);
  if (stream != NULL && (flags & FLAG_ACK) && stream->outbound && !stream->acked)
    {
      stream->acked = TRUE;
      self->n_unacked--;
      push_event (events, MERO_YAMUX_EVENT_STREAM_ACKED, id, 0, 0);
    }

  if (type == TYPE_WINDOW_UPDATE)
    {
      if (stream != NULL && length > 0)
        {
          if ((guint64) stream->send_window + length > G_MAXUINT32)
            return fail_session (self, MERO_YAMUX_ERROR_FLOW_CONTROL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR,
                                 error, "Window update overflows the send window of stream %u", id);
          stream->send_window += length;
          if (stream->send_buf->len > 0)
            mark_ready (self, stream);
        }
      handle_end_flags (self, flags, id, events);
      return TRUE;
    }

  /* Data. */
  if (stream != NULL && length > 0)
    {
      if (stream->fin_received)
        return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                             "Data on stream %u after its FIN", id);
      if (length > stream->recv_window)
        return fail_session (self, MERO_YAMUX_ERROR_FLOW_CONTROL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                             "Peer sent %u bytes on stream %u with only %u bytes of window",
                             length, id, stream->recv_window);
      stream->recv_window -= length;
    }
  if (length == 0)
    {
      handle_end_flags (self, flags, id, events);
      return TRUE;
    }
  /* Payload follows; bytes for unknown (refused, reset) streams are
   * skipped without being stored. */
  self->in_payload = TRUE;
  self->cur_flags = flags;
  self->cur_id = id;
  self->cur_remaining = length;
  return TRUE;
}

static gboolean
handle_ping (MeroYamuxSession *self, guint16 flags, guint32 id, guint32 value,
             gint64 now, GArray *events, GError **error)
{
  if (id != 0)
    return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Ping on stream %u instead of the session", id);
  /* js checks the flags for equality, not bits; so do we. */
  if (flags == FLAG_SYN)
    return queue_ctl (self, TRUE, TYPE_PING, FLAG_ACK, 0, value, error);
  if (flags == FLAG_ACK && self->ping_outstanding && value == self->ping_value)
    {
      self->ping_outstanding = FALSE;
      push_event (events, MERO_YAMUX_EVENT_PING, 0, 0, now - self->ping_sent_at);
      if (self->keepalive_interval > 0)
        self->next_keepalive = now + self->keepalive_interval;
      return TRUE;
    }
  return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                       "Unexpected ping (flags 0x%x, value %u)", flags, value);
}

static gboolean
handle_header (MeroYamuxSession *self, gint64 now, GArray *events, GError **error)
{
  const guint8 *h = self->hdr;
  guint8 version = h[0];
  guint8 type = h[1];
  guint16 flags = (guint16) ((h[2] << 8) | h[3]);
  guint32 id = ((guint32) h[4] << 24) | ((guint32) h[5] << 16) | ((guint32) h[6] << 8) | h[7];
  guint32 length = ((guint32) h[8] << 24) | ((guint32) h[9] << 16) | ((guint32) h[10] << 8) | h[11];

  if (version != YAMUX_VERSION)
    return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                         "Unsupported yamux version %u", version);

  switch (type)
    {
    case TYPE_DATA:
    case TYPE_WINDOW_UPDATE:
      return handle_stream_frame (self, type, flags, id, length, events, error);
    case TYPE_PING:
      return handle_ping (self, flags, id, length, now, events, error);
    case TYPE_GO_AWAY:
      if (id != 0)
        return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                             "GoAway on stream %u instead of the session", id);
      if (!self->goaway_received)
        {
          self->goaway_received = TRUE;
          push_event (events, MERO_YAMUX_EVENT_GOAWAY, 0, length, 0);
        }
      return TRUE;
    default:
      return fail_session (self, MERO_YAMUX_ERROR_PROTOCOL, MERO_YAMUX_GOAWAY_PROTOCOL_ERROR, error,
                           "Unknown yamux frame type %u", type);
    }
}

static void
take_payload (MeroYamuxSession *self, const guint8 *data, gsize len, GArray *events)
{
  Stream *stream = lookup (self, self->cur_id);

  if (stream != NULL)
    {
      /* Bounded: the window check at the header admitted these bytes. */
      if (stream->recv_off > 0 && stream->recv_off >= stream->recv_buf->len / 2)
        {
          g_byte_array_remove_range (stream->recv_buf, 0, (guint) stream->recv_off);
          stream->recv_off = 0;
        }
      g_byte_array_append (stream->recv_buf, data, (guint) len);
      push_event (events, MERO_YAMUX_EVENT_STREAM_DATA, stream->id, 0, 0);
    }
  self->cur_remaining -= (guint32) len;
  if (self->cur_remaining == 0)
    {
      self->in_payload = FALSE;
      handle_end_flags (self, self->cur_flags, self->cur_id, events);
    }
}

gboolean
mero_yamux_session_recv (MeroYamuxSession *self,
                         const guint8     *data,
                         gsize             len,
                         gint64            now,
                         GArray           *events,
                         GError          **error)
{
  gsize pos = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (events != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_alive (self, error))
    return FALSE;

  while (pos < len)
    {
      if (self->in_payload)
        {
          gsize take = MIN ((gsize) self->cur_remaining, len - pos);

          take_payload (self, data + pos, take, events);
          pos += take;
          continue;
        }

      {
        gsize take = MIN (MERO_YAMUX_HEADER_SIZE - self->hdr_len, len - pos);

        memcpy (self->hdr + self->hdr_len, data + pos, take);
        self->hdr_len += take;
        pos += take;
      }
      if (self->hdr_len < MERO_YAMUX_HEADER_SIZE)
        break;
      self->hdr_len = 0;
      if (!handle_header (self, now, events, error))
        return FALSE;
    }
  return TRUE;
}

/* --- application side --------------------------------------------------- */

guint32
mero_yamux_session_open_stream (MeroYamuxSession *self, GError **error)
{
  guint32 id;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (error == NULL || *error == NULL, 0);

  if (!check_alive (self, error))
    return 0;
  if (self->goaway_sent || self->goaway_received)
    {
      g_set_error_literal (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_SESSION_CLOSED,
                           "Session is going away: no new streams");
      return 0;
    }
  if (self->n_outbound >= self->max_streams || self->n_unacked >= MERO_YAMUX_MAX_ACK_BACKLOG)
    {
      g_set_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_STREAM_LIMIT,
                   "Stream limit reached (%u open, %u awaiting ACK)", self->n_outbound, self->n_unacked);
      return 0;
    }
  if (self->next_id > G_MAXUINT32 - 2)
    {
      g_set_error_literal (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_STREAM_LIMIT,
                           "Stream ids exhausted");
      return 0;
    }

  id = self->next_id;
  self->next_id += 2;
  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), stream_new (id, TRUE));
  self->n_outbound++;
  self->n_unacked++;
  /* js opens with Window Update + SYN and a zero delta. */
  queue_ctl (self, FALSE, TYPE_WINDOW_UPDATE, FLAG_SYN, id, 0, NULL);
  return id;
}

static Stream *
writable_stream (MeroYamuxSession *self, guint32 id, GError **error)
{
  Stream *stream;

  if (!check_alive (self, error))
    return NULL;
  stream = lookup (self, id);
  if (stream == NULL || stream->fin_requested)
    {
      g_set_error (error, MERO_YAMUX_ERROR, MERO_YAMUX_ERROR_INVALID_STREAM,
                   "Stream %u is not open for writing", id);
      return NULL;
    }
  return stream;
}

gssize
mero_yamux_stream_write (MeroYamuxSession *self,
                         guint32           stream_id,
                         const guint8     *data,
                         gsize             len,
                         GError          **error)
{
  Stream *stream;
  gsize take;

  g_return_val_if_fail (self != NULL, -1);
  g_return_val_if_fail (data != NULL || len == 0, -1);
  g_return_val_if_fail (error == NULL || *error == NULL, -1);

  stream = writable_stream (self, stream_id, error);
  if (stream == NULL)
    return -1;

  take = MIN (len, MERO_YAMUX_MAX_STREAM_SEND_QUEUE - (stream->send_buf->len - stream->send_off));
  if (take > 0)
    {
      if (stream->send_off > 0 && stream->send_off >= stream->send_buf->len / 2)
        {
          g_byte_array_remove_range (stream->send_buf, 0, (guint) stream->send_off);
          stream->send_off = 0;
        }
      g_byte_array_append (stream->send_buf, data, (guint) take);
      if (stream->send_window > 0)
        mark_ready (self, stream);
    }
  return (gssize) take;
}

gsize
mero_yamux_stream_read (MeroYamuxSession *self,
                        guint32           stream_id,
                        guint8           *buf,
                        gsize             len)
{
  Stream *stream;
  gsize n;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (buf != NULL || len == 0, 0);

  stream = lookup (self, stream_id);
  if (stream == NULL)
    return 0;

  n = MIN (len, stream->recv_buf->len - stream->recv_off);
  /* A stream that never had data (a zero-length frame opened or closed
   * it) has a NULL buffer, and memcpy from NULL is undefined even for 0
   * bytes (UBSan); the rest still runs (an empty read of a finished
   * stream removes it). */
  if (n > 0)
    memcpy (buf, stream->recv_buf->data + stream->recv_off, n);
  stream->recv_off += n;
  if (stream->recv_off == stream->recv_buf->len)
    {
      g_byte_array_set_size (stream->recv_buf, 0);
      stream->recv_off = 0;
    }

  /* Credit goes back in batches of an eighth of the window (32 KiB):
   * fewer frames than crediting every small read, yet the sender keeps
   * most of its 256 KiB in flight.  Half-window batches let a bulk
   * sender run dry while the reader worked through the other half
   * (bench-noise: ~420 -> ~650 MB/s). */
  stream->recv_consumed += (guint32) n;
  if (stream->recv_consumed >= MERO_YAMUX_CREDIT_BATCH && !stream->fin_received &&
      self->failure == NULL)
    {
      queue_ctl (self, FALSE, TYPE_WINDOW_UPDATE, 0, stream_id, stream->recv_consumed, NULL);
      stream->recv_window += stream->recv_consumed;
      stream->recv_consumed = 0;
    }
  maybe_remove (self, stream);
  return n;
}

gsize
mero_yamux_stream_get_readable (const MeroYamuxSession *self, guint32 stream_id)
{
  Stream *stream;

  g_return_val_if_fail (self != NULL, 0);

  stream = lookup (self, stream_id);
  return stream != NULL ? stream->recv_buf->len - stream->recv_off : 0;
}

gboolean
mero_yamux_stream_close (MeroYamuxSession *self, guint32 stream_id, GError **error)
{
  Stream *stream;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  stream = writable_stream (self, stream_id, error);
  if (stream == NULL)
    return FALSE;
  stream->fin_requested = TRUE;
  mark_ready (self, stream);
  return TRUE;
}

void
mero_yamux_stream_reset (MeroYamuxSession *self, guint32 stream_id)
{
  Stream *stream;

  g_return_if_fail (self != NULL);

  stream = lookup (self, stream_id);
  if (stream == NULL)
    return;
  if (self->failure == NULL)
    queue_ctl (self, FALSE, TYPE_WINDOW_UPDATE, FLAG_RST, stream_id, 0, NULL);
  remove_stream (self, stream);
}

guint
mero_yamux_session_get_n_streams (const MeroYamuxSession *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->streams);
}

const MeroYamuxStats *
mero_yamux_session_get_stats (const MeroYamuxSession *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return &self->stats;
}

gboolean
mero_yamux_session_ping (MeroYamuxSession *self, gint64 now, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_alive (self, error))
    return FALSE;
  if (self->ping_outstanding)
    return TRUE;
  /* The opaque value only has to match; a counter is enough. */
  self->ping_value++;
  self->ping_outstanding = TRUE;
  self->ping_sent_at = now;
  return queue_ctl (self, FALSE, TYPE_PING, FLAG_SYN, 0, self->ping_value, error);
}

void
mero_yamux_session_go_away (MeroYamuxSession *self, MeroYamuxGoAway code)
{
  g_return_if_fail (self != NULL);

  if (self->goaway_sent)
    return;
  self->goaway_sent = TRUE;
  queue_ctl (self, FALSE, TYPE_GO_AWAY, 0, 0, code, NULL);
}

gint64
mero_yamux_session_next_deadline (const MeroYamuxSession *self)
{
  g_return_val_if_fail (self != NULL, G_MAXINT64);

  if (self->failure != NULL)
    return G_MAXINT64;
  if (self->ping_outstanding)
    return self->ping_sent_at + MERO_YAMUX_PING_TIMEOUT_US;
  if (self->keepalive_interval > 0)
    return self->next_keepalive;
  return G_MAXINT64;
}

gboolean
mero_yamux_session_handle_deadline (MeroYamuxSession *self, gint64 now, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_alive (self, error))
    return FALSE;
  if (self->ping_outstanding)
    {
      if (now - self->ping_sent_at >= MERO_YAMUX_PING_TIMEOUT_US)
        return fail_session (self, MERO_YAMUX_ERROR_PING_TIMEOUT, MERO_YAMUX_GOAWAY_NORMAL, error,
                             "Ping unanswered for %d s",
                             (int) (MERO_YAMUX_PING_TIMEOUT_US / G_USEC_PER_SEC));
      return TRUE;
    }
  if (self->keepalive_interval > 0 && now >= self->next_keepalive)
    {
      self->next_keepalive = now + self->keepalive_interval;
      return mero_yamux_session_ping (self, now, error);
    }
  return TRUE;
}
