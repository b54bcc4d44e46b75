/* mero-network.c: the network thread, its command queue, listening and
 * dialing, and the peer table the node can read at any time. */
#define G_LOG_DOMAIN "merod-net"
#include "net/transport/mero-network-private.h"

#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "mero-build-config.h"
#include "net/core/mero-mdns.h"
#include "net/core/mero-ping.h"
#include "net/core/mero-yamux.h"
#include "net/mero-acceptor.h"
#include "net/transport/mero-net-mdns.h"
#include "net/transport/mero-network-pubsub.h"

G_DEFINE_QUARK (mero-network-error-quark, mero_network_error)

/* The public limits are the router's. */
G_STATIC_ASSERT (MERO_NETWORK_MAX_MESSAGE_SIZE == MERO_GOSSIPSUB_MAX_MESSAGE_DATA);
G_STATIC_ASSERT (MERO_NETWORK_MAX_TOPIC_LEN == MERO_GOSSIPSUB_MAX_TOPIC_LEN);
G_STATIC_ASSERT (MERO_NETWORK_MAX_STREAM_PROTOCOLS == MERO_CONNECTION_MAX_APP_PROTOCOLS);

typedef enum {
  CMD_DIAL,
  CMD_OPEN_STREAM,
  CMD_STREAM_WRITE,
  CMD_STREAM_CLOSE,
  CMD_STREAM_RESET,
  CMD_SUBSCRIBE,
  CMD_UNSUBSCRIBE,
  CMD_PUBLISH,
  CMD_REJECT_MESSAGE,
  CMD_ADD_PROTOCOL,
  CMD_ADD_PREFIX,
  CMD_STOP,
} CommandType;

typedef struct
{
  CommandType type;
  char *address;
  char *peer_id;
  char *protocol;
  guint64 request_id;
  MeroNetStream *stream;
  GBytes *data;
} Command;

static void
command_free (Command *cmd)
{
  g_free (cmd->address);
  g_free (cmd->peer_id);
  g_free (cmd->protocol);
  g_clear_pointer (&cmd->stream, mero_net_stream_unref);
  g_clear_pointer (&cmd->data, g_bytes_unref);
  g_free (cmd);
}

void
net_emit (MeroNetwork *self, MeroNetEvent *event)
{
  /* Dropped only past the slack has_room() keeps; counted inside. */
  mero_event_channel_push (self->events, event);
}

/* --- peer table (both threads, under lock) --- */

void
net_peer_connected (MeroNetwork *self, const char *peer_id, const char *address)
{
  MeroNetPeerInfo *info;

  g_mutex_lock (&self->lock);
  info = g_hash_table_lookup (self->peers, peer_id);
  if (info == NULL)
    {
      info = g_new0 (MeroNetPeerInfo, 1);
      info->peer_id = g_strdup (peer_id);
      info->address = g_strdup (address);
      info->protocols = g_new0 (char *, 1);
      info->rtt_us = -1;
      g_hash_table_insert (self->peers, info->peer_id, info);
    }
  info->n_connections++;
  g_mutex_unlock (&self->lock);
}

void
net_peer_identified (MeroNetwork *self, const char *peer_id, const MeroIdentifyInfo *identify)
{
  MeroNetPeerInfo *info;

  g_mutex_lock (&self->lock);
  info = g_hash_table_lookup (self->peers, peer_id);
  if (info != NULL)
    {
      g_strfreev (info->protocols);
      info->protocols = g_strdupv (identify->protocols);
      g_free (info->agent_version);
      info->agent_version = g_strdup (identify->agent_version);
    }
  g_mutex_unlock (&self->lock);
}

void
net_peer_rtt (MeroNetwork *self, const char *peer_id, gint64 rtt_us)
{
  MeroNetPeerInfo *info;

  g_mutex_lock (&self->lock);
  info = g_hash_table_lookup (self->peers, peer_id);
  if (info != NULL)
    info->rtt_us = rtt_us;
  g_mutex_unlock (&self->lock);
}

void
net_peer_gossip_score (MeroNetwork *self, const char *peer_id, gboolean has, double score)
{
  MeroNetPeerInfo *info;

  g_mutex_lock (&self->lock);
  info = g_hash_table_lookup (self->peers, peer_id);
  if (info != NULL)
    {
      info->has_gossip_score = has;
      info->gossip_score = has ? score : 0;
    }
  g_mutex_unlock (&self->lock);
}

void
net_peer_disconnected (MeroNetwork *self, const char *peer_id)
{
  MeroNetPeerInfo *info;

  g_mutex_lock (&self->lock);
  info = g_hash_table_lookup (self->peers, peer_id);
  if (info != NULL && --info->n_connections == 0)
    g_hash_table_remove (self->peers, peer_id);
  g_mutex_unlock (&self->lock);
}

GPtrArray *
mero_network_list_peers (MeroNetwork *self)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_peer_info_free);
  GHashTableIter iter;
  gpointer value;

  g_return_val_if_fail (self != NULL, out);

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const MeroNetPeerInfo *src = value;
      MeroNetPeerInfo *copy = g_new0 (MeroNetPeerInfo, 1);

      copy->peer_id = g_strdup (src->peer_id);
      copy->address = g_strdup (src->address);
      copy->n_connections = src->n_connections;
      copy->protocols = g_strdupv (src->protocols);
      copy->agent_version = g_strdup (src->agent_version);
      copy->rtt_us = src->rtt_us;
      copy->has_gossip_score = src->has_gossip_score;
      copy->gossip_score = src->gossip_score;
      g_ptr_array_add (out, copy);
    }
  g_mutex_unlock (&self->lock);
  return out;
}

NetConn *
net_find_conn_by_peer (MeroNetwork *self, const char *peer_id)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      const char *id = net_conn_get_peer_id (value);

      if (id != NULL && g_str_equal (id, peer_id))
        return value;
    }
  return NULL;
}

/* --- addresses --- */

static gboolean
invalid_address (const char *text, GError **error)
{
  g_set_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_ADDRESS,
               "%s is not an /ip4 or /ip6 …/tcp/PORT[/p2p/ID] address", text);
  return FALSE;
}

/* Parses /ip4|ip6/<addr>/tcp/<port>[/p2p/<id>]. */
static GSocketAddress *
parse_tcp_multiaddr (const char *text, MeroPeerId **peer, GError **error)
{
  g_autoptr(MeroMultiaddr) ma = mero_multiaddr_new_from_string (text, error);
  g_autoptr(GInetAddress) inet = NULL;
  MeroMultiaddrProto proto;
  const guint8 *value;
  gsize len;
  guint n;
  guint16 port;

  if (ma == NULL)
    return NULL;
  n = mero_multiaddr_get_n_components (ma);
  if (n < 2 || n > 3)
    {
      invalid_address (text, error);
      return NULL;
    }
  proto = mero_multiaddr_get_component (ma, 0, &value, &len);
  if (proto == MERO_MULTIADDR_PROTO_IP4 || proto == MERO_MULTIADDR_PROTO_IP6)
    inet = g_inet_address_new_from_bytes (value, proto == MERO_MULTIADDR_PROTO_IP4
                                                 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
  if (inet == NULL || mero_multiaddr_get_component (ma, 1, &value, &len) != MERO_MULTIADDR_PROTO_TCP)
    {
      invalid_address (text, error);
      return NULL;
    }
  port = (guint16) (value[0] << 8 | value[1]);
  if (n == 3)
    {
      if (mero_multiaddr_get_component (ma, 2, &value, &len) != MERO_MULTIADDR_PROTO_P2P)
        {
          invalid_address (text, error);
          return NULL;
        }
      if (peer != NULL && (*peer = mero_peer_id_new_from_multihash (value, len, error)) == NULL)
        return NULL;
    }
  return g_inet_socket_address_new (inet, port);
}

static char *
bound_multiaddr (GSocketAddress *address)
{
  GInetAddress *inet = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address));
  g_autofree char *ip = g_inet_address_to_string (inet);

  return g_strdup_printf ("/%s/%s/tcp/%u",
                          g_inet_address_get_family (inet) == G_SOCKET_FAMILY_IPV6 ? "ip6" : "ip4",
                          ip, g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address)));
}

/* --- listening (network thread) --- */

/* The inbound connection in its handshake to give way first: the oldest
 * of those that have not sent a byte (a libp2p dialer speaks first), else
 * the oldest.  Also counts those in their handshake and the connections
 * not closed yet (closed ones stay in the table until an idle frees them). */
static NetConn *
pick_pending_inbound (MeroNetwork *self, guint *n_pending, guint *n_open)
{
  GHashTableIter iter;
  gpointer value;
  NetConn *oldest = NULL;
  NetConn *oldest_silent = NULL;

  *n_pending = 0;
  *n_open = 0;
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      NetConn *conn = value;

      if (net_conn_is_closed (conn))
        continue;
      (*n_open)++;
      if (!net_conn_is_pending_inbound (conn))
        continue;
      (*n_pending)++;
      /* Ids grow with every connection: the smallest came first. */
      if (oldest == NULL || net_conn_get_id (conn) < net_conn_get_id (oldest))
        oldest = conn;
      if (!net_conn_has_heard (conn)
          && (oldest_silent == NULL || net_conn_get_id (conn) < net_conn_get_id (oldest_silent)))
        oldest_silent = conn;
    }
  return oldest_silent != NULL ? oldest_silent : oldest;
}

/* A new inbound connection: at MERO_NET_MAX_PENDING_INBOUND handshakes or
 * at the connection limit, one still in its handshake gives way (counted)
 * so connections that never speak cannot keep real peers out until they
 * time out; with none to give way, at the limit, the new one is refused. */
static void
on_incoming (GSocketConnection *connection, gpointer data)
{
  MeroNetwork *self = data;
  guint n_pending = 0, n_open = 0;
  NetConn *victim = pick_pending_inbound (self, &n_pending, &n_open);

  if (victim != NULL
      && (n_pending >= MERO_NET_MAX_PENDING_INBOUND || n_open >= self->max_connections))
    {
      mero_metrics_counter_add (self->metrics, MERO_NET_INBOUND_EVICTED_METRIC, NULL, 1, NULL);
      mero_metrics_set_help (self->metrics, MERO_NET_INBOUND_EVICTED_METRIC,
                             "Inbound connections closed in their handshake to make room for "
                             "a new one.", NULL);
      net_conn_close_for (victim, n_pending >= MERO_NET_MAX_PENDING_INBOUND
                                      ? "evicted: too many inbound handshakes at once"
                                      : "evicted: connection limit reached");
      n_open--;
    }
  if (n_open >= self->max_connections)
    {
      mero_metrics_counter_add (self->metrics, "mero_net_connections_refused_total", NULL, 1,
                                NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "connection-refused",
                        "MESSAGE", "inbound connection refused: %u connections is the limit",
                        self->max_connections);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  net_conn_new (self, connection, MERO_CONNECTION_ROLE_LISTENER, NULL);
}

static gboolean
listen_on (MeroNetwork *self, const char *text, GStrvBuilder *bound, GError **error)
{
  g_autoptr(GSocketAddress) address = parse_tcp_multiaddr (text, NULL, error);
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) local = NULL;

  if (address == NULL)
    return FALSE;
  socket = mero_acceptor_listen (address, error);
  if (socket == NULL)
    {
      g_prefix_error (error, "listening on %s: ", text);
      return FALSE;
    }
  local = g_socket_get_local_address (socket, error);
  if (local == NULL)
    return FALSE;
  g_ptr_array_add (self->acceptors,
                   mero_acceptor_new (socket, self->context, "libp2p", self->metrics,
                                      MERO_NET_ACCEPT_ERRORS_METRIC,
                                      "libp2p connections whose accept() failed, by reason "
                                      "(emfile: the descriptor limit).",
                                      on_incoming, self));
  {
    g_autofree char *bound_text = bound_multiaddr (local);

    g_strv_builder_add (bound, bound_text);
  }
  return TRUE;
}

/* --- dialing (network thread) --- */

typedef struct
{
  MeroNetwork *net;
  char *address;
  MeroPeerId *expected;
  gint64 deadline;        /* the dial's timeout, through the handshake */
  GCancellable *cancellable;
  GSource *timeout;
  gboolean timed_out;
} Dial;

static void
dial_free (Dial *dial)
{
  if (dial->timeout != NULL)
    {
      g_source_destroy (dial->timeout);
      g_source_unref (dial->timeout);
    }
  g_free (dial->address);
  g_clear_pointer (&dial->expected, mero_peer_id_free);
  g_clear_object (&dial->cancellable);
  g_free (dial);
}

static void
dial_failed (MeroNetwork *self, const char *address, const char *message)
{
  MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);

  ev->type = MERO_NET_EVENT_DIAL_FAILED;
  ev->address = g_strdup (address);
  ev->message = g_strdup (message);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "dial-failed", "MESSAGE",
                    "dial %s failed: %s", address, message);
  net_emit (self, ev);
}

static gboolean
on_dial_timeout (gpointer data)
{
  Dial *dial = data;

  dial->timed_out = TRUE;
  g_cancellable_cancel (dial->cancellable);
  g_clear_pointer (&dial->timeout, g_source_unref);
  return G_SOURCE_REMOVE;
}

static void
on_connected (GObject *source, GAsyncResult *result, gpointer data)
{
  Dial *dial = data;
  MeroNetwork *self = dial->net;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketConnection) connection =
    g_socket_client_connect_finish (G_SOCKET_CLIENT (source), result, &error);

  g_hash_table_remove (self->dials, dial);
  if (connection == NULL)
    {
      dial_failed (self, dial->address, dial->timed_out ? "timed out" : error->message);
    }
  else if (self->stopped)
    {
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
  else if (g_hash_table_size (self->conns) >= self->max_connections)
    {
      mero_metrics_counter_add (self->metrics, "mero_net_connections_refused_total", NULL, 1, NULL);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      dial_failed (self, dial->address, "connection limit reached");
    }
  else
    {
      NetConn *conn = net_conn_new (self, connection, MERO_CONNECTION_ROLE_DIALER,
                                    dial->expected);

      net_conn_set_dial_deadline (conn, dial->deadline);
    }
  dial_free (dial);
}

static void
start_dial (MeroNetwork *self, const char *text)
{
  g_autoptr(GError) error = NULL;
  MeroPeerId *expected = NULL;
  g_autoptr(GSocketAddress) address = parse_tcp_multiaddr (text, &expected, &error);
  Dial *dial;

  if (address == NULL)
    {
      dial_failed (self, text, error->message);
      return;
    }
  dial = g_new0 (Dial, 1);
  dial->net = self;
  dial->address = g_strdup (text);
  dial->expected = expected;
  dial->cancellable = g_cancellable_new ();
  dial->deadline = g_get_monotonic_time () + self->dial_timeout_us;
  dial->timeout = g_timeout_source_new ((guint) (self->dial_timeout_us / 1000));
  g_source_set_callback (dial->timeout, on_dial_timeout, dial, NULL);
  g_source_attach (dial->timeout, self->context);
  g_hash_table_add (self->dials, dial);
  g_socket_client_connect_async (self->client, G_SOCKET_CONNECTABLE (address), dial->cancellable,
                                 on_connected, dial);
}

/* --- stream protocols (network thread) --- */

/* What identify lists: the built-ins and our exact stream protocols. */
static void
set_identify_protocols (MeroNetwork *self)
{
  g_autoptr(GStrvBuilder) protocols = g_strv_builder_new ();

  g_strv_builder_add (protocols, MERO_IDENTIFY_PROTOCOL_ID);
  g_strv_builder_add (protocols, MERO_IDENTIFY_PUSH_PROTOCOL_ID);
  g_strv_builder_add (protocols, MERO_PING_PROTOCOL_ID);
  g_strv_builder_addv (protocols, (const char **) self->stream_protocols);
  g_strfreev (self->local_identify->protocols);
  self->local_identify->protocols = g_strv_builder_end (protocols);
}

static void
add_stream_protocol (MeroNetwork *self, const char *protocol, gboolean prefix)
{
  GStrv *list = prefix ? &self->stream_prefixes : &self->stream_protocols;
  g_autoptr(GStrvBuilder) builder = NULL;
  GHashTableIter iter;
  gpointer value;

  if (g_strv_contains ((const char *const *) *list, protocol))
    return;
  if (g_strv_length (*list) >= MERO_NETWORK_MAX_STREAM_PROTOCOLS)
    {
      mero_metrics_counter_add (self->metrics, "mero_net_stream_protocols_refused_total", NULL, 1,
                                NULL);
      g_warning ("stream %s %s not added: %u is the limit", prefix ? "prefix" : "protocol",
                 protocol, MERO_NETWORK_MAX_STREAM_PROTOCOLS);
      return;
    }
  builder = g_strv_builder_new ();
  g_strv_builder_addv (builder, (const char **) *list);
  g_strv_builder_add (builder, protocol);
  g_strfreev (*list);
  *list = g_strv_builder_end (builder);
  /* Identify lists exact ids only: a prefix changes nothing a peer sees. */
  if (!prefix)
    set_identify_protocols (self);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "stream-protocol-added",
                    "MESSAGE", "accepting inbound streams for %s%s", protocol,
                    prefix ? "*" : "");
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    net_conn_update_protocols (value, !prefix);
}

/* --- commands (network thread) --- */

static NetConn *
conn_for_stream (MeroNetwork *self, MeroNetStream *stream)
{
  return g_hash_table_lookup (self->conns, &stream->conn_id);
}

static void
run_command (MeroNetwork *self, Command *cmd)
{
  NetConn *conn;

  switch (cmd->type)
    {
    case CMD_DIAL:
      start_dial (self, cmd->address);
      break;
    case CMD_OPEN_STREAM:
      conn = net_find_conn_by_peer (self, cmd->peer_id);
      if (conn != NULL)
        {
          net_conn_open_stream (conn, cmd->protocol, cmd->request_id);
        }
      else
        {
          MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);

          ev->type = MERO_NET_EVENT_STREAM_FAILED;
          ev->peer_id = g_strdup (cmd->peer_id);
          ev->protocol = g_strdup (cmd->protocol);
          ev->request_id = cmd->request_id;
          ev->message = g_strdup ("not connected to that peer");
          net_emit (self, ev);
        }
      break;
    case CMD_STREAM_WRITE:
      if ((conn = conn_for_stream (self, cmd->stream)) != NULL)
        net_conn_stream_write (conn, cmd->stream->stream_id, cmd->data);
      break;
    case CMD_STREAM_CLOSE:
      if ((conn = conn_for_stream (self, cmd->stream)) != NULL)
        net_conn_stream_close (conn, cmd->stream->stream_id);
      break;
    case CMD_STREAM_RESET:
      if ((conn = conn_for_stream (self, cmd->stream)) != NULL)
        net_conn_stream_reset (conn, cmd->stream->stream_id);
      break;
    case CMD_SUBSCRIBE:
      net_pubsub_subscribe (self->pubsub, cmd->protocol);
      break;
    case CMD_UNSUBSCRIBE:
      net_pubsub_unsubscribe (self->pubsub, cmd->protocol);
      break;
    case CMD_PUBLISH:
      net_pubsub_publish (self->pubsub, cmd->protocol, cmd->data);
      break;
    case CMD_REJECT_MESSAGE:
      net_pubsub_reject (self->pubsub, cmd->peer_id, cmd->protocol);
      break;
    case CMD_ADD_PROTOCOL:
    case CMD_ADD_PREFIX:
      add_stream_protocol (self, cmd->protocol, cmd->type == CMD_ADD_PREFIX);
      break;
    case CMD_STOP:
    default:
      g_main_loop_quit (self->loop);
      break;
    }
}

typedef struct
{
  GSource source;
  MeroNetwork *net;
} CommandSource;

static gboolean
command_check (GSource *source)
{
  return g_async_queue_length (((CommandSource *) source)->net->commands) > 0;
}

static gboolean
command_prepare (GSource *source, gint *timeout)
{
  *timeout = -1;
  return command_check (source);
}

static gboolean
command_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  MeroNetwork *self = ((CommandSource *) source)->net;

  /* A bounded batch, so sockets get their turn between batches. */
  for (guint i = 0; i < 256; i++)
    {
      Command *cmd = g_async_queue_try_pop (self->commands);

      if (cmd == NULL)
        break;
      run_command (self, cmd);
      command_free (cmd);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs command_funcs = { command_prepare, command_check, command_dispatch, NULL, NULL,
                                      NULL };

static void
send_command (MeroNetwork *self, Command *cmd)
{
  g_async_queue_push (self->commands, cmd);
  if (self->context != NULL)
    g_main_context_wakeup (self->context);
}

/* The event channel has room again: read and deliver everywhere. */
static gboolean
on_room (gpointer data)
{
  MeroNetwork *self = data;
  GHashTableIter iter;
  gpointer value;

  self->reading_paused = FALSE;
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    net_conn_resume (value);
  net_pubsub_resume (self->pubsub);
  return G_SOURCE_REMOVE;
}

/* --- the thread --- */

G_STATIC_ASSERT ((int) MERO_NET_SECURITY_TLS_ONLY == (int) MERO_CONNECTION_SECURITY_TLS_ONLY);
G_STATIC_ASSERT ((int) MERO_NET_SECURITY_TLS_FIRST == (int) MERO_CONNECTION_SECURITY_TLS_FIRST);

static void
tls_sign (const guint8 *message, gsize len, guint8 signature[MERO_TLS_ED25519_SIGNATURE_LEN],
          gpointer user_data)
{
  mero_identity_sign (user_data, message, len, signature);
}

static void
build_local_identity (MeroNetwork *self)
{
  guint8 static_public[32], message[MERO_NOISE_SIGNING_MESSAGE_LEN];
  guint8 signature[MERO_ED25519_SIGNATURE_LEN];
  guint8 key_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];

  randombytes_buf (self->static_private, sizeof self->static_private);
  mero_noise_public_key (self->static_private, static_public);
  mero_noise_signing_message (static_public, message);
  mero_identity_sign (self->identity, message, sizeof message, signature);
  mero_key_codec_encode_ed25519_public (mero_identity_get_public_key (self->identity), key_pb);
  {
    static const char *const muxers[] = { MERO_YAMUX_PROTOCOL_ID, NULL };

    self->noise_payload = mero_noise_payload_encode (key_pb, sizeof key_pb, signature,
                                                     sizeof signature,
                                                     self->inline_muxer ? muxers : NULL);
  }

  {
    g_autoptr(GError) error = NULL;

    /* The TLS certificate's key is ours for this run only; the identity
     * signs it once.  Without it the node still speaks Noise. */
    self->tls_credentials = mero_tls_credentials_new (key_pb, sizeof key_pb, tls_sign,
                                                      (gpointer) self->identity,
                                                      g_get_real_time () / G_USEC_PER_SEC, &error);
    if (self->tls_credentials == NULL)
      g_warning ("TLS is off: %s", error->message);
  }

  self->local_identify = mero_identify_info_new ();
  self->local_identify->public_key = g_bytes_new (key_pb, sizeof key_pb);
  self->local_identify->protocol_version = g_strdup ("ipfs/0.1.0");
  self->local_identify->agent_version = g_strdup (self->agent_version);
  set_identify_protocols (self);
  for (guint i = 0; self->listen_addrs[i] != NULL; i++)
    {
      MeroMultiaddr *ma = mero_multiaddr_new_from_string (self->listen_addrs[i], NULL);

      if (ma != NULL)
        g_ptr_array_add (self->local_identify->listen_addrs, ma);
    }
}

static gboolean
on_fold_stats (gpointer data)
{
  MeroNetwork *self = data;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    net_conn_fold_stats (value);
  return G_SOURCE_CONTINUE;
}

static gboolean
thread_setup (MeroNetwork *self, GError **error)
{
  g_autoptr(GStrvBuilder) bound = g_strv_builder_new ();

  self->acceptors = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_acceptor_free);
  for (guint i = 0; self->listen_config[i] != NULL; i++)
    if (!listen_on (self, self->listen_config[i], bound, error))
      return FALSE;
  self->listen_addrs = g_strv_builder_end (bound);
  build_local_identity (self);
  self->pubsub = net_pubsub_new (self);
  self->stats_source = g_timeout_source_new (MERO_NET_STATS_FOLD_INTERVAL_MS);
  g_source_set_callback (self->stats_source, on_fold_stats, self, NULL);
  g_source_set_static_name (self->stats_source, "mero-net-fold-stats");
  g_source_attach (self->stats_source, self->context);
  self->client = g_socket_client_new ();
  /* Peers are dialed directly; a system proxy must not see libp2p traffic. */
  g_socket_client_set_enable_proxy (self->client, FALSE);
  if (self->mdns_enabled)
    {
      g_autoptr (GError) mdns_error = NULL;

      /* Discovery is a convenience: the node runs on without it. */
      self->mdns = net_mdns_new (self, self->mdns_query_interval_us, &mdns_error);
      if (self->mdns == NULL)
        g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "mdns-failed",
                          "MESSAGE", "mDNS discovery is off: %s", mdns_error->message);
    }
  for (guint i = 0; self->listen_addrs[i] != NULL; i++)
    {
      MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);

      ev->type = MERO_NET_EVENT_LISTENING_ON;
      ev->address = g_strdup (self->listen_addrs[i]);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "listening", "MESSAGE",
                        "listening on %s", self->listen_addrs[i]);
      net_emit (self, ev);
    }
  return TRUE;
}

static gpointer
thread_main (gpointer data)
{
  MeroNetwork *self = data;
  g_autoptr(GError) error = NULL;
  gboolean ok;
  GHashTableIter iter;
  gpointer value;

  g_main_context_push_thread_default (self->context);
  ok = thread_setup (self, &error);
  g_mutex_lock (&self->lock);
  self->started = TRUE;
  self->start_error = g_steal_pointer (&error);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);

  if (ok)
    g_main_loop_run (self->loop);

  /* Shutdown: no new connections, GoAway to every peer, cancel dials. */
  g_clear_pointer (&self->mdns, net_mdns_free);
  if (self->acceptors != NULL)
    g_ptr_array_set_size (self->acceptors, 0);
  if (self->stats_source != NULL)
    {
      g_source_destroy (self->stats_source);
      g_clear_pointer (&self->stats_source, g_source_unref);
    }
  self->stopped = TRUE;
  g_hash_table_iter_init (&iter, self->dials);
  while (g_hash_table_iter_next (&iter, &value, NULL))
    g_cancellable_cancel (((Dial *) value)->cancellable);
  g_hash_table_iter_init (&iter, self->conns);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    net_conn_shutdown (value);
  /* Let the dial callbacks and idle frees run (bounded in time). */
  {
    gint64 until = g_get_monotonic_time () + MERO_NET_STOP_FLUSH_US;

    while ((g_hash_table_size (self->conns) > 0 || g_hash_table_size (self->dials) > 0) &&
           g_get_monotonic_time () < until)
      g_main_context_iteration (self->context, FALSE);
  }
  g_hash_table_remove_all (self->conns);
  g_clear_pointer (&self->pubsub, net_pubsub_free);
  g_clear_object (&self->client);
  g_clear_pointer (&self->acceptors, g_ptr_array_unref);
  g_main_context_pop_thread_default (self->context);
  return NULL;
}

/* --- public API (node thread) --- */

MeroNetwork *
mero_network_new (const MeroNetworkConfig *config, const MeroIdentity *identity)
{
  static const char *const default_listen[] = { "/ip4/0.0.0.0/tcp/2428", "/ip6/::/tcp/2428", NULL };
  MeroNetwork *self;

  g_return_val_if_fail (config != NULL && identity != NULL, NULL);

  self = g_new0 (MeroNetwork, 1);
  self->identity = identity;
  self->listen_config = g_strdupv ((GStrv) (config->listen_addrs != NULL ? config->listen_addrs
                                                                          : default_listen));
  self->max_connections = config->max_connections > 0 ? config->max_connections
                                                       : MERO_NET_DEFAULT_MAX_CONNECTIONS;
  self->dial_timeout_us = config->dial_timeout_us > 0 ? config->dial_timeout_us
                                                      : MERO_NET_DEFAULT_DIAL_TIMEOUT_US;
  self->ping_interval_us = config->ping_interval_us == 0 ? MERO_NET_DEFAULT_PING_INTERVAL_US
                                                         : config->ping_interval_us;
  self->gossip_stall_us = config->gossip_stall_us > 0 ? config->gossip_stall_us
                                                      : MERO_NET_DEFAULT_GOSSIP_STALL_US;
  self->agent_version = config->agent_version != NULL ? g_strdup (config->agent_version)
                                                      : g_strdup ("merod/" MERO_VERSION);
  {
    /* Gossipsub streams are accepted like app streams (and listed in
     * identify, which is how js learns to open its own), but the
     * transport keeps them for the pubsub. */
    g_autoptr(GStrvBuilder) protocols = g_strv_builder_new ();

    g_strv_builder_add (protocols, MERO_GOSSIPSUB_PROTOCOL_ID);
    if (config->stream_protocols != NULL)
      g_strv_builder_addv (protocols, (const char **) config->stream_protocols);
    self->stream_protocols = g_strv_builder_end (protocols);
  }
  self->stream_prefixes = config->stream_prefixes != NULL
                          ? g_strdupv ((GStrv) config->stream_prefixes) : g_new0 (char *, 1);
  self->inline_muxer = !config->disable_inline_muxer;
  self->mdns_enabled = config->mdns;
  self->mdns_query_interval_us = config->mdns_query_interval_us > 0
                                 ? config->mdns_query_interval_us
                                 : MERO_MDNS_DEFAULT_QUERY_INTERVAL_US;
  self->security = config->security;
  self->metrics = mero_metrics_ref (config->metrics != NULL ? config->metrics
                                                            : mero_metrics_get_default ());
  self->events = mero_event_channel_new (config->event_capacity > 0
                                         ? config->event_capacity
                                         : MERO_EVENT_CHANNEL_DEFAULT_CAPACITY,
                                         (GDestroyNotify) mero_net_event_free, self->metrics);
  self->context = g_main_context_new ();
  self->loop = g_main_loop_new (self->context, FALSE);
  self->conns = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL, net_conn_free);
  self->dials = g_hash_table_new (NULL, NULL);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) mero_net_peer_info_free);
  self->commands = g_async_queue_new_full ((GDestroyNotify) command_free);
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  return self;
}

gboolean
mero_network_start (MeroNetwork *self, GMainContext *event_context, MeroNetEventFunc func,
                    gpointer user_data, GError **error)
{
  g_return_val_if_fail (self != NULL && func != NULL, FALSE);

  if (self->thread != NULL)
    {
      g_set_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_STATE, "network already started");
      return FALSE;
    }
  mero_event_channel_attach (self->events, event_context, (MeroEventChannelFunc) func, user_data);
  mero_event_channel_set_room_notify (self->events, self->context, on_room, self);
  self->command_source = g_source_new (&command_funcs, sizeof (CommandSource));
  ((CommandSource *) self->command_source)->net = self;
  g_source_attach (self->command_source, self->context);
  self->thread = g_thread_new ("mero-net", thread_main, self);

  g_mutex_lock (&self->lock);
  while (!self->started)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  if (self->start_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->start_error));
      mero_network_stop (self);
      return FALSE;
    }
  return TRUE;
}

GStrv
mero_network_get_listen_addrs (MeroNetwork *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return g_strdupv (self->listen_addrs);
}

gboolean
mero_network_dial (MeroNetwork *self, const char *multiaddr, GError **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  Command *cmd;

  g_return_val_if_fail (self != NULL && multiaddr != NULL, FALSE);

  address = parse_tcp_multiaddr (multiaddr, NULL, error);
  if (address == NULL)
    return FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = CMD_DIAL;
  cmd->address = g_strdup (multiaddr);
  send_command (self, cmd);
  return TRUE;
}

guint64
mero_network_open_stream (MeroNetwork *self, const char *peer_id, const char *protocol)
{
  Command *cmd;
  guint64 request_id;

  g_return_val_if_fail (self != NULL && peer_id != NULL && protocol != NULL, 0);

  g_mutex_lock (&self->lock);
  request_id = ++self->next_request_id;
  g_mutex_unlock (&self->lock);
  cmd = g_new0 (Command, 1);
  cmd->type = CMD_OPEN_STREAM;
  cmd->peer_id = g_strdup (peer_id);
  cmd->protocol = g_strdup (protocol);
  cmd->request_id = request_id;
  /* The network thread owns (and frees) cmd from here on. */
  send_command (self, cmd);
  return request_id;
}

static void
stream_command (MeroNetwork *self, CommandType type, MeroNetStream *stream, GBytes *data)
{
  Command *cmd = g_new0 (Command, 1);

  cmd->type = type;
  cmd->stream = mero_net_stream_ref (stream);
  cmd->data = data != NULL ? g_bytes_ref (data) : NULL;
  send_command (self, cmd);
}

gboolean
mero_network_add_stream_protocol (MeroNetwork *self, const char *protocol, gboolean prefix,
                                  GError **error)
{
  gsize len = protocol != NULL ? strlen (protocol) : 0;
  Command *cmd;

  g_return_val_if_fail (self != NULL, FALSE);

  if (len < 2 || len > 256 || protocol[0] != '/')
    goto invalid;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isgraph (protocol[i]))
      goto invalid;
  cmd = g_new0 (Command, 1);
  cmd->type = prefix ? CMD_ADD_PREFIX : CMD_ADD_PROTOCOL;
  cmd->protocol = g_strdup (protocol);
  send_command (self, cmd);
  return TRUE;

invalid:
  g_set_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_PROTOCOL,
               "a stream protocol is \"/\" then up to 255 printable ASCII bytes");
  return FALSE;
}

void
mero_network_stream_write (MeroNetwork *self, MeroNetStream *stream, GBytes *data)
{
  g_return_if_fail (self != NULL && stream != NULL && data != NULL);

  stream_command (self, CMD_STREAM_WRITE, stream, data);
}

void
mero_network_stream_close (MeroNetwork *self, MeroNetStream *stream)
{
  g_return_if_fail (self != NULL && stream != NULL);

  stream_command (self, CMD_STREAM_CLOSE, stream, NULL);
}

void
mero_network_stream_reset (MeroNetwork *self, MeroNetStream *stream)
{
  g_return_if_fail (self != NULL && stream != NULL);

  stream_command (self, CMD_STREAM_RESET, stream, NULL);
}

/* --- pubsub (node thread) --- */

void
net_topic_view_free (NetTopicView *view)
{
  if (view == NULL)
    return;
  g_strfreev (view->mesh);
  g_free (view);
}

static gboolean
check_topic (const char *topic, GError **error)
{
  gsize len = topic != NULL ? strlen (topic) : 0;

  if (len == 0 || len > MERO_NETWORK_MAX_TOPIC_LEN || !g_utf8_validate (topic, (gssize) len, NULL))
    {
      g_set_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_INVALID_TOPIC,
                   "a topic is 1 to %u bytes of UTF-8", MERO_NETWORK_MAX_TOPIC_LEN);
      return FALSE;
    }
  return TRUE;
}

static gboolean
topic_command (MeroNetwork *self, CommandType type, const char *topic, GBytes *data,
               GError **error)
{
  Command *cmd;

  if (!check_topic (topic, error))
    return FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = type;
  cmd->protocol = g_strdup (topic);
  cmd->data = data != NULL ? g_bytes_ref (data) : NULL;
  send_command (self, cmd);
  return TRUE;
}

gboolean
mero_network_subscribe (MeroNetwork *self, const char *topic, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return topic_command (self, CMD_SUBSCRIBE, topic, NULL, error);
}

gboolean
mero_network_unsubscribe (MeroNetwork *self, const char *topic, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return topic_command (self, CMD_UNSUBSCRIBE, topic, NULL, error);
}

gboolean
mero_network_publish (MeroNetwork *self, const char *topic, GBytes *data, GError **error)
{
  g_return_val_if_fail (self != NULL && data != NULL, FALSE);

  if (g_bytes_get_size (data) > MERO_NETWORK_MAX_MESSAGE_SIZE)
    {
      g_set_error (error, MERO_NETWORK_ERROR, MERO_NETWORK_ERROR_MESSAGE_TOO_LARGE,
                   "message of %" G_GSIZE_FORMAT " bytes is above the %u-byte limit",
                   g_bytes_get_size (data), MERO_NETWORK_MAX_MESSAGE_SIZE);
      return FALSE;
    }
  return topic_command (self, CMD_PUBLISH, topic, data, error);
}

gboolean
mero_network_reject_message (MeroNetwork *self, const char *peer_id, const char *topic,
                             GError **error)
{
  Command *cmd;

  g_return_val_if_fail (self != NULL && peer_id != NULL, FALSE);

  if (!check_topic (topic, error))
    return FALSE;
  cmd = g_new0 (Command, 1);
  cmd->type = CMD_REJECT_MESSAGE;
  cmd->peer_id = g_strdup (peer_id);
  cmd->protocol = g_strdup (topic);
  send_command (self, cmd);
  return TRUE;
}

GStrv
mero_network_get_mesh_peers (MeroNetwork *self, const char *topic)
{
  const NetTopicView *view;
  GStrv out;

  g_return_val_if_fail (self != NULL && topic != NULL, NULL);

  g_mutex_lock (&self->lock);
  view = self->topic_view != NULL ? g_hash_table_lookup (self->topic_view, topic) : NULL;
  out = view != NULL && view->mesh != NULL ? g_strdupv (view->mesh) : g_new0 (char *, 1);
  g_mutex_unlock (&self->lock);
  return out;
}

guint
mero_network_get_topic_peer_count (MeroNetwork *self, const char *topic)
{
  const NetTopicView *view;
  guint n;

  g_return_val_if_fail (self != NULL && topic != NULL, 0);

  g_mutex_lock (&self->lock);
  view = self->topic_view != NULL ? g_hash_table_lookup (self->topic_view, topic) : NULL;
  n = view != NULL ? view->n_peers : 0;
  g_mutex_unlock (&self->lock);
  return n;
}

void
mero_network_stop (MeroNetwork *self)
{
  Command *cmd;

  g_return_if_fail (self != NULL);

  if (self->thread == NULL)
    return;
  cmd = g_new0 (Command, 1);
  cmd->type = CMD_STOP;
  send_command (self, cmd);
  g_thread_join (g_steal_pointer (&self->thread));
  mero_event_channel_detach (self->events);
}

void
mero_network_free (MeroNetwork *self)
{
  if (self == NULL)
    return;
  mero_network_stop (self);
  if (self->command_source != NULL)
    {
      g_source_destroy (self->command_source);
      g_source_unref (self->command_source);
    }
  g_clear_pointer (&self->conns, g_hash_table_unref);
  g_clear_pointer (&self->dials, g_hash_table_unref);
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->topic_view, g_hash_table_unref);
  g_clear_pointer (&self->commands, g_async_queue_unref);
  g_clear_pointer (&self->loop, g_main_loop_unref);
  g_clear_pointer (&self->context, g_main_context_unref);
  g_clear_pointer (&self->events, mero_event_channel_unref);
  g_clear_pointer (&self->metrics, mero_metrics_unref);
  g_clear_pointer (&self->noise_payload, g_bytes_unref);
  g_clear_pointer (&self->tls_credentials, mero_tls_credentials_unref);
  g_clear_pointer (&self->local_identify, mero_identify_info_free);
  g_clear_error (&self->start_error);
  sodium_memzero (self->static_private, sizeof self->static_private);
  g_strfreev (self->listen_config);
  g_strfreev (self->listen_addrs);
  g_strfreev (self->stream_protocols);
  g_strfreev (self->stream_prefixes);
  g_free (self->agent_version);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}
