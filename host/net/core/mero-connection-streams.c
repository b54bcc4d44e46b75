/* mero-connection-streams.c: what runs on each yamux stream of a
 * connection: per-stream multistream-select, identify (ask, serve,
 * push), ping (echo and our client stream), and hand-off of application
 * streams to the host. */
#include "net/core/mero-connection-private.h"

#include <string.h>

ConnStream *
conn_stream_new (guint32 id, gboolean inbound, StreamKind kind, const char *protocol)
{
  ConnStream *cs = g_new0 (ConnStream, 1);

  cs->id = id;
  cs->inbound = inbound;
  cs->kind = kind;
  cs->protocol = g_strdup (protocol);
  cs->pending_in = g_byte_array_new ();
  cs->pending_out = g_byte_array_new ();
  return cs;
}

void
conn_stream_free (gpointer data)
{
  ConnStream *cs = data;

  g_clear_pointer (&cs->protocol, g_free);
  g_clear_pointer (&cs->ms, mero_multistream_free);
  g_clear_pointer (&cs->lp, mero_lp_decoder_free);
  g_clear_pointer (&cs->pending_in, g_byte_array_unref);
  g_clear_pointer (&cs->pending_out, g_byte_array_unref);
  g_free (cs);
}

void
conn_streams_forget (MeroConnection *self, ConnStream *cs)
{
  if (cs->kind == KIND_PING_SERVE)
    self->n_ping_serve--;
  if (cs->id == self->identify_stream)
    self->identify_stream = 0;
  if (cs->id == self->ping_stream)
    self->ping_stream = 0;
  g_hash_table_remove (self->streams, GUINT_TO_POINTER (cs->id));
}

/* Writes what the yamux send queue takes; the rest waits in pending_out,
 * and FIN follows it if asked. */
static void
stream_flush (MeroConnection *self, ConnStream *cs)
{
  if (cs->pending_out->len > 0)
    {
      gssize n = mero_yamux_stream_write (self->yamux, cs->id, cs->pending_out->data,
                                          cs->pending_out->len, NULL);

      if (n < 0)
        {
          g_byte_array_set_size (cs->pending_out, 0);
          return;
        }
      g_byte_array_remove_range (cs->pending_out, 0, (guint) n);
    }
  if (cs->pending_out->len == 0 && cs->close_after_pending && !cs->local_closed)
    {
      mero_yamux_stream_close (self->yamux, cs->id, NULL);
      cs->local_closed = TRUE;
    }
}

void
conn_streams_flush (MeroConnection *self)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GPtrArray) done = g_ptr_array_new ();

  if (self->yamux == NULL)
    return;
  g_hash_table_iter_init (&iter, self->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      ConnStream *cs = value;

      if (cs->pending_out->len > 0 || (cs->close_after_pending && !cs->local_closed))
        stream_flush (self, cs);
      /* A built-in stream both sides finished is forgotten here. */
      if (cs->kind != KIND_APP && cs->kind != KIND_NEGOTIATING && cs->local_closed &&
          cs->remote_closed && cs->pending_out->len == 0)
        g_ptr_array_add (done, cs);
    }
  for (guint i = 0; i < done->len; i++)
    conn_streams_forget (self, g_ptr_array_index (done, i));
}

static void
reset_stream (MeroConnection *self, ConnStream *cs)
{
  mero_yamux_stream_reset (self->yamux, cs->id);
  conn_streams_forget (self, cs);
}

static void
serve_identify (MeroConnection *self, ConnStream *cs)
{
  g_autoptr(MeroIdentifyInfo) info = mero_identify_info_new ();
  g_autoptr(GBytes) msg = NULL;

  mero_identify_info_merge_push (info, self->local_identify);
  if (self->remote_addr != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (mero_multiaddr_get_bytes (self->remote_addr), &len);

      g_clear_pointer (&info->observed_addr, mero_multiaddr_free);
      info->observed_addr = mero_multiaddr_new_from_bytes (data, len, NULL);
    }
  msg = mero_identify_info_encode (info);
  /* Our own message always fits: encode caps addresses and protocols. */
  mero_lp_frame_encode (cs->pending_out, g_bytes_get_data (msg, NULL), g_bytes_get_size (msg),
                        MERO_IDENTIFY_MAX_MESSAGE, NULL);
  cs->close_after_pending = TRUE;
  stream_flush (self, cs);
}

/* Returns FALSE if the stream was dropped (cs is then freed). */
static gboolean
identify_message (MeroConnection *self, ConnStream *cs, GBytes *frame, GArray *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroIdentifyInfo) info = NULL;
  const MeroPeerId *peer = mero_connection_get_remote_peer (self);

  info = mero_identify_info_decode (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame), &error);
  if (info == NULL ||
      (cs->kind == KIND_IDENTIFY_ASK && !mero_identify_info_verify_peer (info, peer, &error)) ||
      (cs->kind == KIND_IDENTIFY_PUSH && info->public_key != NULL &&
       !mero_identify_info_verify_peer (info, peer, &error)))
    {
      self->stats.identify_failures++;
      reset_stream (self, cs);
      return FALSE;
    }
  if (cs->kind == KIND_IDENTIFY_ASK || self->remote_identify == NULL)
    {
      g_clear_pointer (&self->remote_identify, mero_identify_info_free);
      self->remote_identify = g_steal_pointer (&info);
    }
  else
    {
      mero_identify_info_merge_push (self->remote_identify, info);
    }
  if (cs->id == self->identify_stream)
    self->identify_stream = 0;
  conn_push_event (events, MERO_CONNECTION_EVENT_IDENTIFIED, cs->id, cs->inbound, cs->protocol, NULL);
  /* One message per stream: anything after it is ignored, and our side
   * closes (we never write on these streams). */
  cs->close_after_pending = TRUE;
  g_clear_pointer (&cs->lp, mero_lp_decoder_free);
  stream_flush (self, cs);
  return TRUE;
}

/* Feeds bytes to a stream whose protocol is agreed.  Returns FALSE if
 * the stream was dropped (cs is then freed). */
static gboolean
stream_bytes (MeroConnection *self, ConnStream *cs, const guint8 *data, gsize len, gint64 now,
              GArray *events)
{
  switch (cs->kind)
    {
    case KIND_APP:
      g_byte_array_append (cs->pending_in, data, (guint) len);
      break;

    case KIND_IDENTIFY_ASK:
    case KIND_IDENTIFY_PUSH:
      while (len > 0 && cs->lp != NULL)
        {
          g_autoptr(GBytes) frame = NULL;
          gsize used = 0;

          if (!mero_lp_decoder_feed (cs->lp, data, len, &used, &frame, NULL))
            {
              self->stats.identify_failures++;
              reset_stream (self, cs);
              return FALSE;
            }
          data += used;
          len -= used;
          if (frame != NULL && !identify_message (self, cs, frame, events))
            return FALSE;
        }
      break;

    case KIND_PING_SERVE:
      g_byte_array_append (cs->pending_out, data, (guint) len);
      stream_flush (self, cs);
      break;

    case KIND_PING_CLIENT:
      {
        g_autoptr(GError) error = NULL;
        gint64 rtt = 0;

        switch (mero_ping_client_recv (self->ping, data, len, now, &rtt, &error))
          {
          case MERO_PING_RESULT_OK:
            {
              MeroConnectionEvent *ev;

              conn_push_event (events, MERO_CONNECTION_EVENT_PING, cs->id, FALSE, NULL, NULL);
              ev = &g_array_index (events, MeroConnectionEvent, events->len - 1);
              ev->rtt_us = rtt;
              /* One ping per stream, as js pings: js's ping handler gives
               * a stream 10 s in all, so a reused one would be reset. */
              cs->kind = KIND_DRAINING;
              self->ping_stream = 0;
              self->ping_agreed = FALSE;
              cs->close_after_pending = TRUE;
              stream_flush (self, cs);
            }
            break;
          case MERO_PING_RESULT_FAILED:
            self->stats.pings_failed++;
            conn_push_event (events, MERO_CONNECTION_EVENT_PING_FAILED, cs->id, FALSE, NULL,
                             error->message);
            reset_stream (self, cs);
            return FALSE;
          case MERO_PING_RESULT_PENDING:
          default:
            break;
          }
      }
      break;

    case KIND_IDENTIFY_SERVE:
    case KIND_DRAINING:
    case KIND_NEGOTIATING:
    default:
      /* The asker has nothing to say on an identify stream, and a drained
       * stream has nothing left for us. */
      break;
    }
  return TRUE;
}

static void
agreed (MeroConnection *self, ConnStream *cs, gint64 now, GArray *events)
{
  const char *protocol = mero_multistream_get_protocol (cs->ms);
  g_autoptr(GBytes) leftover = mero_multistream_steal_leftover (cs->ms);

  g_free (cs->protocol);
  cs->protocol = g_strdup (protocol);
  g_clear_pointer (&cs->ms, mero_multistream_free);

  /* Our own streams are what we opened them for; the peer's are chosen
   * by protocol. */
  if (!cs->inbound)
    {
      cs->kind = cs->push_out ? KIND_IDENTIFY_PUSH_SEND
               : cs->id == self->identify_stream ? KIND_IDENTIFY_ASK
               : cs->id == self->ping_stream ? KIND_PING_CLIENT : KIND_APP;
    }
  else if (g_str_equal (cs->protocol, MERO_IDENTIFY_PROTOCOL_ID))
    {
      cs->kind = KIND_IDENTIFY_SERVE;
    }
  else if (g_str_equal (cs->protocol, MERO_IDENTIFY_PUSH_PROTOCOL_ID))
    {
      cs->kind = KIND_IDENTIFY_PUSH;
    }
  else if (g_str_equal (cs->protocol, MERO_PING_PROTOCOL_ID))
    {
      if (self->n_ping_serve >= MERO_PING_MAX_INBOUND_STREAMS)
        {
          self->stats.streams_refused++;
          reset_stream (self, cs);
          return;
        }
      cs->kind = KIND_PING_SERVE;
      self->n_ping_serve++;
    }
  else
    {
      cs->kind = KIND_APP;
    }

  switch (cs->kind)
    {
    case KIND_IDENTIFY_SERVE:
    case KIND_IDENTIFY_PUSH_SEND:
      /* A push carries the same message as an answer. */
      serve_identify (self, cs);
      break;
    case KIND_IDENTIFY_ASK:
    case KIND_IDENTIFY_PUSH:
      cs->lp = mero_lp_decoder_new (MERO_IDENTIFY_MAX_MESSAGE);
      break;
    case KIND_PING_CLIENT:
      self->ping_agreed = TRUE;
      if (self->ping_payload_pending)
        {
          g_byte_array_append (cs->pending_out, self->ping_payload, MERO_PING_PAYLOAD_LEN);
          self->ping_payload_pending = FALSE;
          stream_flush (self, cs);
        }
      break;
    case KIND_APP:
      conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_OPENED, cs->id, cs->inbound,
                       cs->protocol, NULL);
      break;
    case KIND_PING_SERVE:
    case KIND_DRAINING:
    case KIND_NEGOTIATING:
    default:
      break;
    }
  if (g_bytes_get_size (leftover) > 0 &&
      !stream_bytes (self, cs, g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover), now,
                     events))
    return;
  if (cs->kind == KIND_APP && cs->pending_in->len > 0)
    conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_DATA, cs->id, cs->inbound, cs->protocol,
                     NULL);
}

static void
negotiation_failed (MeroConnection *self, ConnStream *cs, GArray *events, const char *why)
{
  self->stats.streams_failed++;
  if (!cs->inbound && cs->id == self->ping_stream)
    {
      mero_ping_client_fail (self->ping);
      self->stats.pings_failed++;
      conn_push_event (events, MERO_CONNECTION_EVENT_PING_FAILED, cs->id, FALSE, NULL, why);
    }
  else if (!cs->inbound && (cs->id == self->identify_stream || cs->push_out))
    {
      /* A peer without push learns our protocols when it next asks. */
      self->stats.identify_failures++;
    }
  else if (!cs->inbound)
    {
      conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_REFUSED, cs->id, FALSE, cs->protocol,
                       why);
    }
  reset_stream (self, cs);
}

void
conn_stream_input (MeroConnection *self, ConnStream *cs, gint64 now, GArray *events)
{
  guint8 buf[MERO_CONNECTION_STREAM_READ_CHUNK];
  guint32 id = cs->id;

  /* App streams are read by the host; an echo waits until the previous
   * one went out, so a flooding peer meets its own window. */
  while (cs->kind != KIND_APP && !(cs->kind == KIND_PING_SERVE && cs->pending_out->len > 0))
    {
      gsize n = mero_yamux_stream_read (self->yamux, id, buf, sizeof buf);

      if (n == 0)
        break;
      if (cs->kind == KIND_NEGOTIATING)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) out = NULL;
          gboolean ok = mero_multistream_recv (cs->ms, buf, n, &error);

          out = mero_multistream_pull_send (cs->ms);
          if (out != NULL)
            g_byte_array_append (cs->pending_out, g_bytes_get_data (out, NULL),
                                 (guint) g_bytes_get_size (out));
          stream_flush (self, cs);
          if (!ok)
            {
              negotiation_failed (self, cs, events, error->message);
              return;
            }
          if (mero_multistream_get_state (cs->ms) == MERO_MULTISTREAM_STATE_AGREED)
            agreed (self, cs, now, events);
        }
      else if (!stream_bytes (self, cs, buf, n, now, events))
        {
          return;
        }
      /* The handlers may have dropped the stream. */
      if (g_hash_table_lookup (self->streams, GUINT_TO_POINTER (id)) != cs)
        return;
    }
}

void
conn_streams_push_identify (MeroConnection *self)
{
  static const char *const push[] = { MERO_IDENTIFY_PUSH_PROTOCOL_ID, NULL };
  g_autoptr(GBytes) out = NULL;
  ConnStream *cs;
  guint32 id = mero_yamux_session_open_stream (self->yamux, NULL);

  if (id == 0)
    return;
  cs = conn_stream_new (id, FALSE, KIND_NEGOTIATING, MERO_IDENTIFY_PUSH_PROTOCOL_ID);
  cs->push_out = TRUE;
  cs->ms = mero_multistream_new_initiator (push);
  out = mero_multistream_pull_send (cs->ms);
  g_byte_array_append (cs->pending_out, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), cs);
  stream_flush (self, cs);
}

void
conn_streams_on_ready (MeroConnection *self, gint64 now, GArray *events)
{
  static const char *const ask[] = { MERO_IDENTIFY_PROTOCOL_ID, NULL };
  g_autoptr(GBytes) out = NULL;
  ConnStream *cs;
  guint32 id;

  /* Ask the peer who it is, as js does on every connection. */
  id = mero_yamux_session_open_stream (self->yamux, NULL);
  if (id == 0)
    return;
  cs = conn_stream_new (id, FALSE, KIND_NEGOTIATING, MERO_IDENTIFY_PROTOCOL_ID);
  cs->ms = mero_multistream_new_initiator (ask);
  out = mero_multistream_pull_send (cs->ms);
  g_byte_array_append (cs->pending_out, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), cs);
  self->identify_stream = id;
  self->identify_deadline = now + MERO_IDENTIFY_TIMEOUT_US;
  stream_flush (self, cs);
}

void
conn_streams_handle_yamux_event (MeroConnection *self, const MeroYamuxEvent *ev, gint64 now,
                                 GArray *events)
{
  ConnStream *cs = g_hash_table_lookup (self->streams, GUINT_TO_POINTER (ev->stream_id));

  switch (ev->type)
    {
    case MERO_YAMUX_EVENT_STREAM_OPENED:
      cs = conn_stream_new (ev->stream_id, TRUE, KIND_NEGOTIATING, NULL);
      cs->ms = mero_multistream_new_responder ((const char *const *) self->inbound_protocols,
                                               (const char *const *) self->app_prefixes);
      g_hash_table_insert (self->streams, GUINT_TO_POINTER (ev->stream_id), cs);
      break;

    case MERO_YAMUX_EVENT_STREAM_DATA:
      if (cs == NULL)
        break;
      if (cs->kind == KIND_APP)
        conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_DATA, cs->id, cs->inbound,
                         cs->protocol, NULL);
      else
        conn_stream_input (self, cs, now, events);
      break;

    case MERO_YAMUX_EVENT_STREAM_CLOSED:
      if (cs == NULL)
        break;
      cs->remote_closed = TRUE;
      switch (cs->kind)
        {
        case KIND_APP:
          conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_CLOSED, cs->id, cs->inbound,
                           cs->protocol, NULL);
          break;
        case KIND_NEGOTIATING:
          negotiation_failed (self, cs, events, "stream closed during negotiation");
          break;
        case KIND_IDENTIFY_ASK:
        case KIND_IDENTIFY_PUSH:
          if (cs->lp != NULL)
            {
              /* EOF before a whole message. */
              self->stats.identify_failures++;
              reset_stream (self, cs);
            }
          break;
        case KIND_PING_CLIENT:
          mero_ping_client_fail (self->ping);
          self->stats.pings_failed++;
          conn_push_event (events, MERO_CONNECTION_EVENT_PING_FAILED, cs->id, FALSE, NULL,
                           "peer closed the ping stream");
          reset_stream (self, cs);
          break;
        case KIND_PING_SERVE:
        case KIND_IDENTIFY_SERVE:
        case KIND_DRAINING:
        default:
          /* Done once what we still owe them went out. */
          cs->close_after_pending = TRUE;
          stream_flush (self, cs);
          break;
        }
      break;

    case MERO_YAMUX_EVENT_STREAM_RESET:
      if (cs == NULL)
        break;
      if (cs->kind == KIND_APP)
        conn_push_event (events, MERO_CONNECTION_EVENT_STREAM_RESET, cs->id, cs->inbound,
                         cs->protocol, NULL);
      if (cs->kind == KIND_NEGOTIATING || cs->kind == KIND_PING_CLIENT)
        {
          negotiation_failed (self, cs, events, "stream reset by peer");
          break;
        }
      conn_streams_forget (self, cs);
      break;

    case MERO_YAMUX_EVENT_GOAWAY:
      /* The peer takes no new streams; it closes the socket next. */
      conn_fail (self, events, "peer sent GoAway (code %u)", ev->code);
      break;

    case MERO_YAMUX_EVENT_STREAM_ACKED:
    case MERO_YAMUX_EVENT_PING:
    default:
      break;
    }
}
