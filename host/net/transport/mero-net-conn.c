/* mero-net-conn.c: one TCP connection on the network thread, driven
 * through the sans-IO MeroConnection: socket bytes in, events out to the
 * node, socket bytes out, one timer for the core's deadlines and our
 * periodic ping. */
#define G_LOG_DOMAIN "merod-net"
#include "net/transport/mero-network-private.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sodium.h>

#include "net/core/mero-lp-frame.h"
#include "net/transport/mero-byte-queue.h"
#include "net/transport/mero-network-pubsub.h"

typedef struct
{
  MeroNetStream *handle;
  guint64 request_id;     /* outbound: the node's request, until opened */
  /* Node writes yamux has not taken yet, held as the node's own GBytes:
   * a blob's megabytes wait here without being copied or regrown. */
  MeroByteQueue pending;
  gboolean close_pending; /* close once pending is written */
  gboolean local_closed;  /* our FIN went to the core */
  gboolean remote_closed; /* emit STREAM_CLOSED once drained */
  gboolean closed_emitted;
  /* A /meshsub stream: ours to the pubsub, never shown to the node. */
  gboolean gossip;
  MeroLpDecoder *decoder; /* gossip: RPC frames, MERO_GOSSIPSUB_MAX_RPC_SIZE */
} NetStream;

struct _NetConn
{
  MeroNetwork *net;
  guint64 id;
  MeroConnectionRole role;
  GSocketConnection *connection;
  GSocket *socket;
  MeroConnection *core;
  char *address;          /* remote, as a multiaddr */
  char *peer_id;          /* once secured */
  gboolean announced;     /* PEER_CONNECTED emitted */
  GSource *read_source;
  GSource *write_source;
  GSource *timer_source;
  GSource *free_source;   /* frees us after close, from the loop */
  GByteArray *out;        /* bytes pulled from the core, not yet sent */
  gsize out_off;          /* from here: a partial send moves nothing */
  guint8 *read_buf;       /* MERO_NET_READ_CHUNK, reused by every read */
  GHashTable *streams;    /* yamux id → NetStream (app streams) */
  gint64 next_ping;
  gboolean dead;          /* socket closed; freed from an idle */
  gboolean speaks_gossip; /* identify listed /meshsub/1.1.0 */
  /* Dialled: the dial's timeout runs on through the security and muxer
   * handshake, so a peer that accepts TCP and then stays silent fails
   * the dial in time (0: only the core's own handshake limit). */
  gint64 dial_deadline;
  /* What net_conn_fold_stats() has added to the metrics so far. */
  MeroConnectionStats reported;
  gboolean heard;         /* the peer sent at least one byte */
  guint64 dial_timeouts;  /* 0 or 1: the dial deadline ended the handshake */
  guint64 dial_timeouts_reported;
};

static void conn_drive (NetConn *conn);
static void conn_close (NetConn *conn, const char *reason);

/* Bytes queued on @s and not yet taken by yamux. */
static gsize
pending_len (const NetStream *s)
{
  return mero_byte_queue_get_length (&s->pending);
}

/* What queuing @len more bytes would hold, compared with
 * MERO_NET_STREAM_MAX_PENDING_WRITE: the bytes and each write's
 * overhead, so many tiny writes are bounded too. */
static gsize
pending_cost_with (const NetStream *s, gsize len)
{
  return mero_byte_queue_get_cost (&s->pending) + len + MERO_BYTE_QUEUE_RUN_COST;
}

static NetStream *
net_stream_new (void)
{
  NetStream *s = g_new0 (NetStream, 1);

  mero_byte_queue_init (&s->pending);
  return s;
}

static void
net_stream_free (gpointer data)
{
  NetStream *s = data;

  g_clear_pointer (&s->handle, mero_net_stream_unref);
  mero_byte_queue_clear (&s->pending);
  g_clear_pointer (&s->decoder, mero_lp_decoder_free);
  g_free (s);
}

guint64
net_conn_get_id (const NetConn *conn)
{
  return conn->id;
}

static char *
address_to_multiaddr (GSocketAddress *address)
{
  GInetAddress *inet;
  g_autofree char *ip = NULL;

  if (!G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  ip = g_inet_address_to_string (inet);
  return g_strdup_printf ("/%s/%s/tcp/%u",
                          g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "ip6" : "ip4",
                          ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

static MeroNetEvent *
event_new (NetConn *conn, MeroNetEventType type)
{
  MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);

  ev->type = type;
  ev->peer_id = g_strdup (conn->peer_id);
  ev->address = g_strdup (conn->address);
  ev->inbound = conn->role == MERO_CONNECTION_ROLE_LISTENER;
  return ev;
}

static void
stream_event (NetConn *conn, NetStream *s, MeroNetEventType type, GBytes *data)
{
  MeroNetEvent *ev;

  if (s->gossip)
    {
      g_clear_pointer (&data, g_bytes_unref);
      return;
    }
  ev = event_new (conn, type);
  ev->stream = mero_net_stream_ref (s->handle);
  ev->protocol = g_strdup (s->handle->protocol);
  ev->inbound = s->handle->inbound;
  ev->data = data;
  net_emit (conn->net, ev);
}

/* Moves app stream data to the node while the channel has room; what
 * stays in yamux holds back the peer through its window. */
typedef struct
{
  guint32 stream_id;
  GBytes *rpc; /* NULL: the stream sent a bad frame */
} GossipFrame;

static void
gossip_frame_clear (gpointer data)
{
  g_clear_pointer (&((GossipFrame *) data)->rpc, g_bytes_unref);
}

/* Reads a /meshsub stream into whole RPC frames; the pubsub gets them
 * after the walk over conn->streams, since it may reset streams. */
static void
read_gossip_stream (NetConn *conn, NetStream *s, GArray *frames)
{
  g_autofree guint8 *buf = g_malloc (MERO_NET_STREAM_DATA_CHUNK);
  gsize n;

  while ((n = mero_connection_stream_read (conn->core, s->handle->stream_id, buf,
                                           MERO_NET_STREAM_DATA_CHUNK)) > 0)
    {
      gsize off = 0;

      while (off < n)
        {
          g_autoptr(GError) error = NULL;
          GossipFrame frame = { s->handle->stream_id, NULL };
          gsize used = 0;

          if (!mero_lp_decoder_feed (s->decoder, buf + off, n - off, &used, &frame.rpc, &error))
            {
              g_debug ("meshsub stream from %s: %s", conn->peer_id, error->message);
              g_array_append_val (frames, frame);
              return;
            }
          off += used;
          if (frame.rpc != NULL)
            g_array_append_val (frames, frame);
          else if (used == 0)
            break;
        }
    }
}

/* A stream closed both ways whose last bytes and STREAM_CLOSED reached
 * the node is done here: without this, every cleanly closed stream stayed
 * in conn->streams for the connection's life, and each socket read walked
 * them all (a 1 GiB blob fetch left ~250 behind). */
static gboolean
stream_finished (const NetStream *s)
{
  return !s->gossip && s->local_closed && s->closed_emitted;
}

static void
deliver_stream_data (NetConn *conn)
{
  GHashTableIter iter;
  gpointer value;
  g_autoptr(GArray) frames = g_array_new (FALSE, FALSE, sizeof (GossipFrame));

  g_array_set_clear_func (frames, gossip_frame_clear);
  g_hash_table_iter_init (&iter, conn->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NetStream *s = value;

      if (s->handle == NULL)
        continue;
      if (s->gossip)
        {
          /* Gated like app data: a full channel holds the peer back. */
          if (mero_event_channel_has_room (conn->net->events))
            read_gossip_stream (conn, s, frames);
          continue;
        }
      while (mero_event_channel_has_room (conn->net->events))
        {
          g_autofree guint8 *buf = g_malloc (MERO_NET_STREAM_DATA_CHUNK);
          gsize n = mero_connection_stream_read (conn->core, s->handle->stream_id, buf,
                                                 MERO_NET_STREAM_DATA_CHUNK);

          if (n == 0)
            break;
          stream_event (conn, s, MERO_NET_EVENT_STREAM_DATA,
                        g_bytes_new_take (g_realloc (g_steal_pointer (&buf), n), n));
        }
      if (s->remote_closed && !s->closed_emitted &&
          mero_event_channel_has_room (conn->net->events))
        {
          s->closed_emitted = TRUE;
          stream_event (conn, s, MERO_NET_EVENT_STREAM_CLOSED, NULL);
        }
      if (stream_finished (s))
        g_hash_table_iter_remove (&iter);
    }
  for (guint i = 0; i < frames->len && !conn->dead; i++)
    {
      GossipFrame *f = &g_array_index (frames, GossipFrame, i);

      if (!g_hash_table_contains (conn->streams, GUINT_TO_POINTER (f->stream_id)))
        continue;
      if (f->rpc == NULL || !net_pubsub_receive (conn->net->pubsub, conn, f->rpc))
        {
          mero_metrics_counter_add (conn->net->metrics, "mero_net_gossip_streams_reset_total",
                                    NULL, 1, NULL);
          net_conn_stream_reset (conn, f->stream_id);
          net_pubsub_stream_gone (conn->net->pubsub, conn, f->stream_id);
        }
    }
}

static void
handle_core_events (NetConn *conn, GArray *events)
{
  for (guint i = 0; i < events->len; i++)
    {
      MeroConnectionEvent *ev = &g_array_index (events, MeroConnectionEvent, i);
      NetStream *s = g_hash_table_lookup (conn->streams, GUINT_TO_POINTER (ev->stream_id));

      switch (ev->type)
        {
        case MERO_CONNECTION_EVENT_SECURED:
          conn->peer_id = mero_peer_id_to_string (mero_connection_get_remote_peer (conn->core));
          break;
        case MERO_CONNECTION_EVENT_READY:
          {
            MeroNetEvent *out = event_new (conn, MERO_NET_EVENT_PEER_CONNECTED);

            gboolean tls = g_strcmp0 (mero_connection_get_security (conn->core),
                                      MERO_TLS_PROTOCOL_ID) == 0;

            if (mero_connection_get_muxer_inlined (conn->core))
              out->message = g_strdup (tls ? "tls, yamux agreed in alpn" : "yamux inlined in noise");
            else
              out->message = g_strdup (tls ? "tls, yamux via multistream-select"
                                           : "yamux via multistream-select");
            conn->announced = TRUE;
            net_peer_connected (conn->net, conn->peer_id, conn->address);
            g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-joined",
                              "MERO_PEER", conn->peer_id, "MESSAGE", "peer %s joined (%s, %s)",
                              conn->peer_id, conn->address,
                              conn->role == MERO_CONNECTION_ROLE_DIALER ? "outbound" : "inbound");
            net_emit (conn->net, out);
          }
          break;
        case MERO_CONNECTION_EVENT_IDENTIFIED:
          {
            const MeroIdentifyInfo *info = mero_connection_get_remote_identify (conn->core);
            MeroNetEvent *out = event_new (conn, MERO_NET_EVENT_PEER_IDENTIFIED);

            net_peer_identified (conn->net, conn->peer_id, info);
            if (info->protocols != NULL &&
                g_strv_contains ((const char *const *) info->protocols,
                                 MERO_GOSSIPSUB_PROTOCOL_ID))
              {
                conn->speaks_gossip = TRUE;
                net_pubsub_peer_supports (conn->net->pubsub, conn);
              }
            out->protocols = g_strdupv (info->protocols);
            out->message = g_strdup (info->agent_version);
            /* Its listenAddrs (already bounded by the identify core): what
             * the node's peer store redials after a restart. */
            if (info->listen_addrs->len > 0)
              {
                g_autoptr (GStrvBuilder) addrs = g_strv_builder_new ();

                for (guint a = 0; a < info->listen_addrs->len; a++)
                  {
                    g_autofree char *text =
                        mero_multiaddr_to_string (g_ptr_array_index (info->listen_addrs, a));

                    if (text != NULL)
                      g_strv_builder_add (addrs, text);
                  }
                out->addresses = g_strv_builder_end (addrs);
              }
            net_emit (conn->net, out);
          }
          break;
        case MERO_CONNECTION_EVENT_PING:
          {
            MeroNetEvent *out = event_new (conn, MERO_NET_EVENT_PING);

            out->rtt_us = ev->rtt_us;
            net_peer_rtt (conn->net, conn->peer_id, ev->rtt_us);
            net_emit (conn->net, out);
          }
          break;
        case MERO_CONNECTION_EVENT_PING_FAILED:
          mero_metrics_counter_add (conn->net->metrics, "mero_net_pings_failed_total", NULL, 1, NULL);
          g_debug ("ping to %s failed: %s", conn->peer_id, ev->message);
          break;
        case MERO_CONNECTION_EVENT_STREAM_OPENED:
          if (ev->inbound)
            {
              s = net_stream_new ();
              if (g_strcmp0 (ev->protocol, MERO_GOSSIPSUB_PROTOCOL_ID) == 0)
                {
                  s->gossip = TRUE;
                  s->decoder = mero_lp_decoder_new (MERO_GOSSIPSUB_MAX_RPC_SIZE);
                }
              g_hash_table_insert (conn->streams, GUINT_TO_POINTER (ev->stream_id), s);
            }
          if (s == NULL)
            {
              mero_connection_stream_reset (conn->core, ev->stream_id);
              break;
            }
          s->handle = mero_net_stream_new (conn->id, ev->stream_id, ev->inbound, conn->peer_id,
                                           ev->protocol);
          if (s->gossip)
            {
              /* The peer's stream is read-only for us; answer with ours. */
              if (ev->inbound)
                net_pubsub_peer_supports (conn->net->pubsub, conn);
              else
                net_pubsub_stream_opened (conn->net->pubsub, conn, ev->stream_id);
              break;
            }
          {
            MeroNetEvent *out = event_new (conn, MERO_NET_EVENT_STREAM_OPENED);

            out->stream = mero_net_stream_ref (s->handle);
            out->protocol = g_strdup (ev->protocol);
            out->inbound = ev->inbound;
            out->request_id = s->request_id;
            net_emit (conn->net, out);
          }
          break;
        case MERO_CONNECTION_EVENT_STREAM_REFUSED:
          if (s != NULL && s->gossip)
            {
              g_hash_table_remove (conn->streams, GUINT_TO_POINTER (ev->stream_id));
              net_pubsub_stream_gone (conn->net->pubsub, conn, ev->stream_id);
            }
          else if (s != NULL)
            {
              MeroNetEvent *out = event_new (conn, MERO_NET_EVENT_STREAM_FAILED);

              out->request_id = s->request_id;
              out->protocol = g_strdup (ev->protocol);
              out->message = g_strdup (ev->message);
              net_emit (conn->net, out);
              g_hash_table_remove (conn->streams, GUINT_TO_POINTER (ev->stream_id));
            }
          break;
        case MERO_CONNECTION_EVENT_STREAM_DATA:
          /* Read below, in deliver_stream_data. */
          break;
        case MERO_CONNECTION_EVENT_STREAM_CLOSED:
          if (s != NULL)
            s->remote_closed = TRUE;
          break;
        case MERO_CONNECTION_EVENT_STREAM_RESET:
          if (s != NULL && s->handle != NULL)
            stream_event (conn, s, MERO_NET_EVENT_STREAM_RESET, NULL);
          g_hash_table_remove (conn->streams, GUINT_TO_POINTER (ev->stream_id));
          net_pubsub_stream_gone (conn->net->pubsub, conn, ev->stream_id);
          break;
        case MERO_CONNECTION_EVENT_CLOSED:
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "connection-closing",
                            "MESSAGE", "connection %s (%s) closing: %s",
                            conn->peer_id != NULL ? conn->peer_id : "(unknown peer)",
                            conn->address, ev->message);
          break;
        default:
          break;
        }
    }
  deliver_stream_data (conn);
}

/* Writes node data the yamux queues did not take before. */
static void
flush_stream_writes (NetConn *conn)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, conn->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NetStream *s = value;
      gssize n;

      if (s->handle == NULL || (pending_len (s) == 0 && !s->close_pending))
        continue;
      /* Run by run, until yamux takes less than it was offered. */
      while (pending_len (s) > 0)
        {
          gsize len;
          const guint8 *data = mero_byte_queue_peek (&s->pending, &len);

          n = mero_connection_stream_write (conn->core, s->handle->stream_id, data, len, NULL);
          if (n > 0)
            mero_byte_queue_consume (&s->pending, (gsize) n);
          if (n < 0 || (gsize) n < len)
            break;
        }
      if (pending_len (s) == 0 && s->close_pending)
        {
          s->close_pending = FALSE;
          s->local_closed = TRUE;
          mero_connection_stream_close (conn->core, s->handle->stream_id, NULL);
          if (stream_finished (s))
            g_hash_table_iter_remove (&iter);
        }
    }
}

static gboolean
on_writable (GSocket *socket, GIOCondition condition, gpointer data)
{
  NetConn *conn = data;

  g_clear_pointer (&conn->write_source, g_source_unref);
  conn_drive (conn);
  return G_SOURCE_REMOVE;
}

/* Sends what the core has; returns FALSE if the socket failed. */
static gboolean
flush_socket (NetConn *conn)
{
  flush_stream_writes (conn);
  for (guint round = 0; round < 64; round++)
    {
      g_autoptr(GError) error = NULL;
      gssize sent;

      if (conn->out->len == 0 &&
          mero_connection_pull_send (conn->core, conn->out, MERO_NET_SEND_BATCH) == 0)
        return TRUE;
      sent = g_socket_send (conn->socket, (const char *) conn->out->data + conn->out_off,
                            conn->out->len - conn->out_off, NULL, &error);
      if (sent < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;
      if (sent < 0)
        {
          conn_close (conn, error->message);
          return FALSE;
        }
      conn->out_off += (gsize) sent;
      if (conn->out_off == conn->out->len)
        {
          g_byte_array_set_size (conn->out, 0);
          conn->out_off = 0;
        }
      flush_stream_writes (conn);
    }
  /* Socket full (or a long burst): continue when it is writable. */
  if (conn->write_source == NULL)
    {
      conn->write_source = g_socket_create_source (conn->socket, G_IO_OUT, NULL);
      g_source_set_callback (conn->write_source, G_SOURCE_FUNC (on_writable), conn, NULL);
      g_source_attach (conn->write_source, conn->net->context);
    }
  return TRUE;
}

static void
schedule_timer (NetConn *conn)
{
  gint64 deadline = mero_connection_next_deadline (conn->core);

  if (conn->dial_deadline > 0 &&
      mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_HANDSHAKING)
    deadline = MIN (deadline, conn->dial_deadline);
  if (mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_READY &&
      conn->net->ping_interval_us > 0)
    deadline = MIN (deadline, conn->next_ping);
  g_source_set_ready_time (conn->timer_source, deadline == G_MAXINT64 ? -1 : deadline);
}

/* After any activity: send, close if the core is done, re-arm. */
static void
conn_drive (NetConn *conn)
{
  if (conn->dead)
    return;
  if (!flush_socket (conn))
    return;
  if (mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_CLOSED &&
      conn->out->len == 0 && !mero_connection_wants_send (conn->core))
    {
      conn_close (conn, mero_connection_get_close_reason (conn->core));
      return;
    }
  schedule_timer (conn);
}

static gboolean
on_timer (gpointer data)
{
  NetConn *conn = data;
  g_autoptr(GArray) events = mero_connection_events_new ();
  gint64 now = g_get_monotonic_time ();

  if (conn->dial_deadline > 0 && now >= conn->dial_deadline &&
      mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_HANDSHAKING)
    {
      conn->dial_timeouts = 1;
      conn_close (conn, "timed out during the security/muxer handshake");
      return G_SOURCE_REMOVE;
    }
  if (conn->net->ping_interval_us > 0 && now >= conn->next_ping &&
      mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_READY)
    {
      guint8 payload[MERO_PING_PAYLOAD_LEN];

      randombytes_buf (payload, sizeof payload);
      /* Busy means the previous ping is still out: its timeout counts. */
      mero_connection_ping (conn->core, payload, now, NULL);
      conn->next_ping = now + conn->net->ping_interval_us;
    }
  mero_connection_handle_deadline (conn->core, now, events);
  handle_core_events (conn, events);
  conn_drive (conn);
  return G_SOURCE_CONTINUE;
}

static gboolean
timer_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  g_source_set_ready_time (source, -1);
  return callback (data);
}

static GSourceFuncs timer_funcs = { NULL, NULL, timer_dispatch, NULL, NULL, NULL };

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  NetConn *conn = data;
  g_autoptr(GArray) events = mero_connection_events_new ();
  g_autoptr(GError) error = NULL;
  gssize n;

  /* Back-pressure: the node is behind, so stop reading until the
   * channel drains; TCP then slows the peer down. */
  if (!mero_event_channel_has_room (conn->net->events))
    {
      conn->net->reading_paused = TRUE;
      g_clear_pointer (&conn->read_source, g_source_unref);
      return G_SOURCE_REMOVE;
    }
  n = g_socket_receive (socket, (char *) conn->read_buf, MERO_NET_READ_CHUNK, NULL, &error);
  if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    return G_SOURCE_CONTINUE;
  if (n <= 0)
    {
      g_clear_pointer (&conn->read_source, g_source_unref);
      conn_close (conn, n == 0 ? "connection closed by peer" : error->message);
      return G_SOURCE_REMOVE;
    }
  conn->heard = TRUE;
  mero_connection_recv (conn->core, conn->read_buf, (gsize) n, g_get_monotonic_time (), events,
                        NULL);
  handle_core_events (conn, events);
  conn_drive (conn);
  return conn->dead ? G_SOURCE_REMOVE : G_SOURCE_CONTINUE;
}

static void
attach_reader (NetConn *conn)
{
  if (conn->read_source != NULL || conn->dead)
    return;
  conn->read_source = g_socket_create_source (conn->socket, G_IO_IN | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (conn->read_source, G_SOURCE_FUNC (on_readable), conn, NULL);
  g_source_attach (conn->read_source, conn->net->context);
}

void
net_conn_set_dial_deadline (NetConn *conn, gint64 deadline)
{
  conn->dial_deadline = deadline;
  if (!conn->dead)
    schedule_timer (conn);
}

void
net_conn_update_protocols (NetConn *conn, gboolean push)
{
  MeroNetwork *net = conn->net;

  if (conn->dead)
    return;
  if (!mero_connection_set_local_protocols (conn->core,
                                            (const char *const *) net->stream_protocols,
                                            (const char *const *) net->stream_prefixes,
                                            net->local_identify, push))
    return;
  if (push && mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_READY)
    mero_metrics_counter_add (net->metrics, "mero_net_identify_pushes_total", NULL, 1, NULL);
  conn_drive (conn);
}

void
net_conn_resume (NetConn *conn)
{
  deliver_stream_data (conn);
  attach_reader (conn);
  conn_drive (conn);
}

NetConn *
net_conn_new (MeroNetwork *net, GSocketConnection *connection, MeroConnectionRole role,
              const MeroPeerId *expected_peer)
{
  NetConn *conn = g_new0 (NetConn, 1);
  MeroConnectionConfig config = { 0 };
  g_autoptr(GSocketAddress) remote = NULL;
  g_autoptr(MeroMultiaddr) remote_ma = NULL;
  gint64 now = g_get_monotonic_time ();

  conn->net = net;
  conn->id = ++net->next_conn_id;
  conn->role = role;
  conn->connection = g_object_ref (connection);
  conn->socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (conn->socket, FALSE);
  g_socket_set_timeout (conn->socket, 0);
  /* We coalesce writes ourselves (one send per wakeup of everything the
   * core has); Nagle would hold a lone small frame back until the peer's
   * delayed ACK, ~40 ms on Linux: the p99 of one-at-a-time gossip. */
  if (!g_socket_set_option (conn->socket, IPPROTO_TCP, TCP_NODELAY, 1, NULL))
    g_debug ("TCP_NODELAY not set on a connection");
  remote = g_socket_connection_get_remote_address (connection, NULL);
  conn->address = remote != NULL ? address_to_multiaddr (remote) : NULL;
  if (conn->address == NULL)
    conn->address = g_strdup ("(unknown)");
  remote_ma = mero_multiaddr_new_from_string (conn->address, NULL);
  conn->out = g_byte_array_new ();
  conn->read_buf = g_malloc (MERO_NET_READ_CHUNK);
  conn->streams = g_hash_table_new_full (NULL, NULL, NULL, net_stream_free);
  conn->next_ping = now + net->ping_interval_us;

  memcpy (config.noise.static_private_key, net->static_private, 32);
  randombytes_buf (config.noise.ephemeral_private_key, 32);
  config.noise.payload = net->noise_payload;
  config.noise.expected_peer = expected_peer;
  config.local_identify = net->local_identify;
  config.remote_addr = remote_ma;
  config.app_protocols = (const char *const *) net->stream_protocols;
  config.app_prefixes = (const char *const *) net->stream_prefixes;
  config.inline_muxer = net->inline_muxer;
  config.tls_credentials = net->tls_credentials;
  config.security = (MeroConnectionSecurity) net->security;
  if (net->tls_credentials == NULL)
    config.security = MERO_CONNECTION_SECURITY_NOISE_ONLY;
  config.now_unix = g_get_real_time () / G_USEC_PER_SEC;
  conn->core = mero_connection_new (role, &config, now);
  sodium_memzero (&config.noise, sizeof config.noise);

  conn->timer_source = g_source_new (&timer_funcs, sizeof (GSource));
  g_source_set_callback (conn->timer_source, on_timer, conn, NULL);
  g_source_attach (conn->timer_source, net->context);
  /* Owned by the network from here on (freed by free_later). */
  g_hash_table_insert (net->conns, &conn->id, conn);
  attach_reader (conn);
  conn_drive (conn);
  return conn;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

void
net_conn_free (gpointer data)
{
  NetConn *conn = data;

  destroy_source (&conn->read_source);
  destroy_source (&conn->write_source);
  destroy_source (&conn->timer_source);
  destroy_source (&conn->free_source);
  if (conn->connection != NULL)
    g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);
  g_clear_object (&conn->connection);
  g_clear_pointer (&conn->core, mero_connection_free);
  g_clear_pointer (&conn->streams, g_hash_table_unref);
  g_clear_pointer (&conn->out, g_byte_array_unref);
  g_free (conn->read_buf);
  g_free (conn->address);
  g_free (conn->peer_id);
  g_free (conn);
}

static gboolean
free_later (gpointer data)
{
  NetConn *conn = data;

  /* This source is being dispatched: GLib drops it when we return. */
  g_clear_pointer (&conn->free_source, g_source_unref);
  g_hash_table_remove (conn->net->conns, &conn->id);
  return G_SOURCE_REMOVE;
}

static void
add_counter (MeroNetwork *net, const char *name, const char *labels, guint64 now,
             guint64 before, const char *help)
{
  if (now <= before)
    return;
  mero_metrics_counter_add (net->metrics, name, labels, now - before, NULL);
  mero_metrics_set_help (net->metrics, name, help, NULL);
}

/* Label values of MeroMultistreamError, in its order. */
static const char *const negotiation_reasons[] = {
  [MERO_MULTISTREAM_ERROR_PROTOCOL] = "malformed",
  [MERO_MULTISTREAM_ERROR_LINE_TOO_LONG] = "line-too-long",
  [MERO_MULTISTREAM_ERROR_NOT_SUPPORTED] = "not-supported",
  [MERO_MULTISTREAM_ERROR_TOO_MANY_ROUNDS] = "too-many-rounds",
  [MERO_MULTISTREAM_ERROR_FAILED] = "failed",
};
G_STATIC_ASSERT (G_N_ELEMENTS (negotiation_reasons)
                 == G_N_ELEMENTS (((MeroConnectionStats *) NULL)->security_negotiation_failures));

void
net_conn_fold_stats (NetConn *conn)
{
  const MeroConnectionStats *now = mero_connection_get_stats (conn->core);
  MeroConnectionStats *was = &conn->reported;
  MeroNetwork *net = conn->net;
  const char *direction = conn->role == MERO_CONNECTION_ROLE_DIALER ? "direction=\"outbound\""
                                                                     : "direction=\"inbound\"";

  if (memcmp (now, was, sizeof *now) == 0 && conn->dial_timeouts == conn->dial_timeouts_reported)
    return;
  add_counter (net, MERO_NET_STREAMS_REFUSED_METRIC, "reason=\"ping-limit\"", now->streams_refused,
               was->streams_refused, "Inbound streams refused, by reason.");
  add_counter (net, MERO_NET_STREAMS_REFUSED_METRIC, "reason=\"stream-limit\"",
               now->yamux_refused_limit, was->yamux_refused_limit,
               "Inbound streams refused, by reason.");
  add_counter (net, MERO_NET_STREAMS_REFUSED_METRIC, "reason=\"going-away\"",
               now->yamux_refused_going_away, was->yamux_refused_going_away,
               "Inbound streams refused, by reason.");
  add_counter (net, "mero_net_streams_failed_total", NULL, now->streams_failed,
               was->streams_failed, "Streams whose negotiation failed or that sent bad data.");
  add_counter (net, "mero_net_identify_failures_total", NULL, now->identify_failures,
               was->identify_failures, "Identify exchanges that failed or came late.");
  if (now->security_failures > was->security_failures)
    {
      const char *security = mero_connection_get_security (conn->core);

      add_counter (net, "mero_net_security_failures_total",
                   g_strcmp0 (security, MERO_TLS_PROTOCOL_ID) == 0 ? "protocol=\"tls\""
                                                                   : "protocol=\"noise\"",
                   now->security_failures, was->security_failures,
                   "Noise or TLS handshakes or records that failed.");
    }
  for (guint i = 0; i < G_N_ELEMENTS (negotiation_reasons); i++)
    if (now->security_negotiation_failures[i] > was->security_negotiation_failures[i])
      {
        g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", negotiation_reasons[i]);

        add_counter (net, MERO_NET_SECURITY_NEGOTIATION_FAILURES_METRIC, labels,
                     now->security_negotiation_failures[i], was->security_negotiation_failures[i],
                     "Connections whose first bytes were not a libp2p security negotiation we "
                     "could agree on, by reason.");
      }
  add_counter (net, MERO_NET_HANDSHAKE_TIMEOUTS_METRIC, direction,
               now->handshake_timeouts + conn->dial_timeouts,
               was->handshake_timeouts + conn->dial_timeouts_reported,
               "Connections closed because their security/muxer handshake did not finish in "
               "time, by direction.");
  *was = *now;
  conn->dial_timeouts_reported = conn->dial_timeouts;
}

gboolean
net_conn_is_closed (const NetConn *conn)
{
  return conn->dead;
}

gboolean
net_conn_has_heard (const NetConn *conn)
{
  return conn->heard;
}

gboolean
net_conn_is_pending_inbound (const NetConn *conn)
{
  return !conn->dead && conn->role == MERO_CONNECTION_ROLE_LISTENER
         && mero_connection_get_state (conn->core) == MERO_CONNECTION_STATE_HANDSHAKING;
}

/* Ends the connection: tells the node, and frees it from an idle (we may
 * be inside one of its own callbacks). */
static void
conn_close (NetConn *conn, const char *reason)
{
  GHashTableIter iter;
  gpointer value;

  if (conn->dead)
    return;
  conn->dead = TRUE;
  destroy_source (&conn->read_source);
  destroy_source (&conn->write_source);
  destroy_source (&conn->timer_source);
  g_io_stream_close (G_IO_STREAM (conn->connection), NULL, NULL);

  net_conn_fold_stats (conn);
  g_hash_table_iter_init (&iter, conn->streams);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NetStream *s = value;

      if (s->handle != NULL)
        stream_event (conn, s, MERO_NET_EVENT_STREAM_RESET, NULL);
      else if (s->request_id != 0 && !s->gossip)
        {
          MeroNetEvent *ev = event_new (conn, MERO_NET_EVENT_STREAM_FAILED);

          ev->request_id = s->request_id;
          ev->message = g_strdup ("connection closed");
          net_emit (conn->net, ev);
        }
    }
  net_pubsub_conn_closed (conn->net->pubsub, conn);
  if (conn->announced)
    {
      MeroNetEvent *ev = event_new (conn, MERO_NET_EVENT_PEER_DISCONNECTED);

      ev->message = g_strdup (reason != NULL ? reason : "closed");
      net_peer_disconnected (conn->net, conn->peer_id);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-left", "MERO_PEER",
                        conn->peer_id, "MESSAGE", "peer %s left (%s): %s", conn->peer_id,
                        conn->address, ev->message);
      net_emit (conn->net, ev);
    }
  else
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "connection-failed",
                        "MESSAGE", "connection with %s failed before it was ready: %s",
                        conn->address, reason != NULL ? reason : "closed");
      /* A dial the node asked for ends here: say so. */
      if (conn->role == MERO_CONNECTION_ROLE_DIALER)
        {
          MeroNetEvent *ev = event_new (conn, MERO_NET_EVENT_DIAL_FAILED);

          ev->message = g_strdup (reason != NULL ? reason : "closed");
          net_emit (conn->net, ev);
        }
    }
  conn->free_source = g_idle_source_new ();
  g_source_set_priority (conn->free_source, G_PRIORITY_HIGH);
  g_source_set_callback (conn->free_source, free_later, conn, NULL);
  g_source_attach (conn->free_source, conn->net->context);
}

void
net_conn_open_stream (NetConn *conn, const char *protocol, guint64 request_id)
{
  g_autoptr(GError) error = NULL;
  guint32 id = mero_connection_open_stream (conn->core, protocol, &error);
  NetStream *s;

  if (id == 0)
    {
      MeroNetEvent *ev = event_new (conn, MERO_NET_EVENT_STREAM_FAILED);

      ev->request_id = request_id;
      ev->protocol = g_strdup (protocol);
      ev->message = g_strdup (error->message);
      net_emit (conn->net, ev);
      return;
    }
  s = net_stream_new ();
  s->request_id = request_id;
  g_hash_table_insert (conn->streams, GUINT_TO_POINTER (id), s);
  conn_drive (conn);
}

void
net_conn_stream_write (NetConn *conn, guint32 stream_id, GBytes *data)
{
  NetStream *s = g_hash_table_lookup (conn->streams, GUINT_TO_POINTER (stream_id));
  gsize len, taken = 0;
  const guint8 *bytes = g_bytes_get_data (data, &len);

  if (s == NULL || s->handle == NULL)
    return;
  if (pending_cost_with (s, len) > MERO_NET_STREAM_MAX_PENDING_WRITE)
    {
      mero_metrics_counter_add (conn->net->metrics, "mero_net_stream_writes_dropped_total", NULL,
                                1, NULL);
      g_warning ("stream %s to %s: peer not reading, %" G_GSIZE_FORMAT " bytes queued; stream reset",
                 s->handle->protocol, conn->peer_id, pending_len (s));
      stream_event (conn, s, MERO_NET_EVENT_STREAM_RESET, NULL);
      mero_connection_stream_reset (conn->core, stream_id);
      g_hash_table_remove (conn->streams, GUINT_TO_POINTER (stream_id));
      conn_drive (conn);
      return;
    }
  /* Nothing queued before it: yamux takes what fits straight from the
   * node's bytes, and pending keeps a reference to the rest. */
  if (pending_len (s) == 0 && !s->close_pending)
    {
      gssize n = mero_connection_stream_write (conn->core, stream_id, bytes, len, NULL);

      if (n > 0)
        taken = (gsize) n;
    }
  mero_byte_queue_push (&s->pending, data, taken);
  conn_drive (conn);
}

void
net_conn_stream_close (NetConn *conn, guint32 stream_id)
{
  NetStream *s = g_hash_table_lookup (conn->streams, GUINT_TO_POINTER (stream_id));

  if (s == NULL || s->handle == NULL)
    return;
  s->close_pending = TRUE;
  conn_drive (conn);
}

void
net_conn_stream_reset (NetConn *conn, guint32 stream_id)
{
  if (g_hash_table_lookup (conn->streams, GUINT_TO_POINTER (stream_id)) == NULL)
    return;
  mero_connection_stream_reset (conn->core, stream_id);
  g_hash_table_remove (conn->streams, GUINT_TO_POINTER (stream_id));
  conn_drive (conn);
}

void
net_conn_close_for (NetConn *conn, const char *reason)
{
  if (conn->dead)
    return;
  mero_connection_close (conn->core);
  flush_socket (conn);
  conn_close (conn, reason);
}

void
net_conn_shutdown (NetConn *conn)
{
  net_conn_close_for (conn, "network stopped");
}

const char *
net_conn_get_peer_id (const NetConn *conn)
{
  return conn->dead || !conn->announced ? NULL : conn->peer_id;
}

char *
net_conn_get_remote_ip (const NetConn *conn)
{
  g_auto(GStrv) parts = NULL;

  /* conn->address is "/ip4/<ip>/tcp/<port>" or "/ip6/<ip>/tcp/<port>". */
  if (conn->address == NULL || conn->address[0] != '/')
    return NULL;
  parts = g_strsplit (conn->address, "/", 4);
  if (g_strv_length (parts) < 3 || !g_str_has_prefix (parts[1], "ip"))
    return NULL;
  return g_strdup (parts[2]);
}

gboolean
net_conn_is_outbound (const NetConn *conn)
{
  return conn->role == MERO_CONNECTION_ROLE_DIALER;
}

gboolean
net_conn_speaks_gossip (const NetConn *conn)
{
  return conn->speaks_gossip;
}

guint32
net_conn_open_gossip_stream (NetConn *conn)
{
  g_autoptr(GError) error = NULL;
  guint32 id;
  NetStream *s;

  if (conn->dead)
    return 0;
  id = mero_connection_open_stream (conn->core, MERO_GOSSIPSUB_PROTOCOL_ID, &error);
  if (id == 0)
    {
      g_debug ("meshsub stream to %s: %s", conn->peer_id, error->message);
      return 0;
    }
  s = net_stream_new ();
  s->gossip = TRUE;
  s->decoder = mero_lp_decoder_new (MERO_GOSSIPSUB_MAX_RPC_SIZE);
  g_hash_table_insert (conn->streams, GUINT_TO_POINTER (id), s);
  conn_drive (conn);
  return id;
}

gboolean
net_conn_gossip_write (NetConn *conn, guint32 stream_id, GBytes *frame)
{
  NetStream *s = g_hash_table_lookup (conn->streams, GUINT_TO_POINTER (stream_id));
  gsize len = g_bytes_get_size (frame);

  if (conn->dead || s == NULL || !s->gossip || s->handle == NULL)
    return FALSE;
  /* Whole frames only, so the stream keeps its framing: a frame that
   * does not fit is left out and the stream (and peer) stay. */
  if (pending_cost_with (s, len) > MERO_NET_STREAM_MAX_PENDING_WRITE)
    return FALSE;
  mero_byte_queue_push (&s->pending, frame, 0);
  conn_drive (conn);
  return TRUE;
}
