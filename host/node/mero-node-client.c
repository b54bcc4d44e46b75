/* mero-node-client.c: NodeClient over the libp2p network. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-client.h"

#include <glib/gi18n.h>
#include <string.h>

#include "node/mero-broadcast.h"

#define STREAMS_METRIC "mero_node_streams_dropped_total"
#define PEERS_METRIC "mero_node_connected_peers"
#define QUEUED_METRIC "mero_node_requests_queued_total"

typedef struct {
  MeroNodeClient *client;
  guint64 request_id;        /* 0 until the stream is asked for */
  char *peer;
  GStrv addresses;
  char *protocol;
  GBytes *request;
  MeroNodeResponseFunc done;
  gpointer done_data;
  MeroNetStream *stream;
  GByteArray *buffer;
  guint timeout;
  gboolean waiting_connect;
  guint dials_left;          /* while waiting_connect: dials not failed yet */
  gboolean queued;           /* waits for one of the peer's request slots */
} Request;

typedef struct {
  MeroNodeClient *client;
  MeroNetStream *stream;
  GByteArray *buffer;
  gboolean answered;
  gboolean member;           /* holds a member's slot, else a non-member's */
  gboolean heard;            /* some request bytes arrived */
  guint timeout;
} Inbound;

typedef struct {
  char *context_id;
  char *peer_id;
  gboolean by_operator;
  gboolean resync;
} SyncTrigger;

struct _MeroNodeClient {
  MeroNetwork *network;
  MeroMetrics *metrics;
  MeroContexts *contexts;
  GHashTable *connected;     /* peer id → connection count (GUINT) */
  GPtrArray *requests;       /* Request, in flight */
  GHashTable *inbound;       /* MeroNetStream* → Inbound */
  guint inbound_members;     /* of those, in members' slots */
  guint inbound_others;      /* in the non-members' share */
  GQueue sync_queue;         /* SyncTrigger */
  /* Our topics → the peers subscribed to each (peer id set), from
   * SUBSCRIBED/UNSUBSCRIBED; only topics we are in, so peers cannot grow
   * it with topics of their own. */
  GHashTable *topics;
  const MeroNodeStreamHandler *handler;
  gpointer handler_data;
  const MeroNodeStreamHandler *blob_handler;
  gpointer blob_handler_data;
  void (*sync_notify) (gpointer data);
  gpointer sync_notify_data;
  gboolean stopping;         /* queued requests are not started any more */
};

static void
count_stream_drop (MeroNodeClient *client, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  mero_metrics_counter_add (client->metrics, STREAMS_METRIC, labels, 1, NULL);
}

static void
inbound_free (Inbound *in)
{
  if (in->member)
    in->client->inbound_members--;
  else
    in->client->inbound_others--;
  if (in->timeout != 0)
    g_source_remove (in->timeout);
  mero_net_stream_unref (in->stream);
  g_byte_array_unref (in->buffer);
  g_free (in);
}

static void
sync_trigger_free (SyncTrigger *t)
{
  g_free (t->context_id);
  g_free (t->peer_id);
  g_free (t);
}

MeroNodeClient *
mero_node_client_new (MeroNetwork *network, MeroMetrics *metrics)
{
  MeroNodeClient *client = g_new0 (MeroNodeClient, 1);

  client->network = network;
  client->metrics = mero_metrics_ref (metrics != NULL ? metrics : mero_metrics_get_default ());
  client->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->requests = g_ptr_array_new ();
  client->inbound = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                           (GDestroyNotify) inbound_free);
  g_queue_init (&client->sync_queue);
  client->topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                          (GDestroyNotify) g_hash_table_unref);
  return client;
}

static void request_finish (Request *req, GBytes *response, GError *error);

void
mero_node_client_free (MeroNodeClient *client)
{
  if (client == NULL)
    return;
  client->contexts = NULL;
  client->stopping = TRUE;
  while (client->requests->len > 0)
    request_finish (g_ptr_array_index (client->requests, 0), NULL,
                    g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                         _("The node is stopping")));
  g_ptr_array_unref (client->requests);
  g_hash_table_unref (client->inbound);
  g_hash_table_unref (client->connected);
  g_hash_table_unref (client->topics);
  g_queue_clear_full (&client->sync_queue, (GDestroyNotify) sync_trigger_free);
  mero_metrics_unref (client->metrics);
  g_free (client);
}

void
mero_node_client_set_contexts (MeroNodeClient *client, MeroContexts *contexts)
{
  client->contexts = contexts;
}

/* ---- requests ---- */

static void request_start (Request *req);

/* Requests to @peer that hold one of its slots (dialling, opening or
 * open). */
static guint
requests_active_to (MeroNodeClient *client, const char *peer)
{
  guint n = 0;

  for (guint i = 0; i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (!req->queued && g_str_equal (req->peer, peer))
        n++;
    }
  return n;
}

/* Starts the oldest request queued for @peer, if a slot is free. */
static void
start_queued_to (MeroNodeClient *client, const char *peer)
{
  if (client->network == NULL || client->stopping
      || requests_active_to (client, peer) >= MERO_NODE_MAX_REQUESTS_PER_PEER)
    return;
  for (guint i = 0; i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (req->queued && g_str_equal (req->peer, peer))
        {
          req->queued = FALSE;
          request_start (req);
          return;
        }
    }
}

static void
request_free (Request *req)
{
  if (req->timeout != 0)
    g_source_remove (req->timeout);
  if (req->stream != NULL)
    mero_net_stream_unref (req->stream);
  g_free (req->peer);
  g_strfreev (req->addresses);
  g_free (req->protocol);
  g_bytes_unref (req->request);
  g_byte_array_unref (req->buffer);
  g_free (req);
}

/* Completes @req once: removes it, then calls back (which may start new
 * requests). */
static void
request_finish (Request *req, GBytes *response, GError *error)
{
  MeroNodeClient *client = req->client;
  MeroNodeResponseFunc done = req->done;
  gpointer data = req->done_data;
  g_autofree char *peer = g_strdup (req->peer);
  gboolean held_slot = !req->queued;

  g_ptr_array_remove (client->requests, req);
  if (req->stream != NULL && client->network != NULL)
    {
      if (response != NULL)
        mero_network_stream_close (client->network, req->stream);
      else
        mero_network_stream_reset (client->network, req->stream);
    }
  request_free (req);
  if (held_slot)
    start_queued_to (client, peer);
  done (response, error, data);
  if (error != NULL)
    g_error_free (error);
}

static gboolean
on_request_timeout (gpointer user_data)
{
  Request *req = user_data;

  req->timeout = 0;
  request_finish (req, NULL,
                  g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("%s did not answer on %s in time"), req->peer, req->protocol));
  return G_SOURCE_REMOVE;
}

static void
request_open (Request *req)
{
  req->waiting_connect = FALSE;
  req->request_id = mero_network_open_stream (req->client->network, req->peer, req->protocol);
}

static gboolean
fail_later (gpointer user_data)
{
  Request *req = user_data;

  request_finish (req, NULL,
                  g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                               _("No network to reach %s"), req->peer));
  return G_SOURCE_REMOVE;
}

static void
transport_request (gpointer self, const char *peer_id, const char *const *addresses,
                   const char *protocol, GBytes *request, MeroNodeResponseFunc done,
                   gpointer user_data)
{
  MeroNodeClient *client = self;
  Request *req = g_new0 (Request, 1);

  req->client = client;
  req->peer = g_strdup (peer_id);
  req->addresses = g_strdupv ((char **) addresses);
  req->protocol = g_strdup (protocol);
  req->request = g_bytes_ref (request);
  req->done = done;
  req->done_data = user_data;
  req->buffer = g_byte_array_new ();
  g_ptr_array_add (client->requests, req);
  if (client->network == NULL || client->requests->len > MERO_NODE_MAX_REQUESTS)
    {
      if (client->network != NULL)
        count_stream_drop (client, "too_many_requests");
      g_idle_add (fail_later, req);
      return;
    }
  /* The timeout runs from here: a queued request waits within it. */
  req->timeout = g_timeout_add (MERO_NODE_REQUEST_TIMEOUT_MS, on_request_timeout, req);
  if (requests_active_to (client, peer_id) > MERO_NODE_MAX_REQUESTS_PER_PEER)
    {
      req->queued = TRUE;
      mero_metrics_counter_add (client->metrics, QUEUED_METRIC, NULL, 1, NULL);
      return;
    }
  request_start (req);
}

/* Dials the peer if needed, then opens the request's stream. */
static void
request_start (Request *req)
{
  MeroNodeClient *client = req->client;
  const char *peer_id = req->peer;
  const char *const *addresses = (const char *const *) req->addresses;

  if (!g_hash_table_contains (client->connected, peer_id) && addresses != NULL
      && addresses[0] != NULL)
    {
      req->waiting_connect = TRUE;
      for (guint i = 0; addresses[i] != NULL; i++)
        {
          g_autoptr (GError) error = NULL;

          if (mero_network_dial (client->network, addresses[i], &error))
            req->dials_left++;
          else
            g_debug ("cannot dial %s: %s", addresses[i], error->message);
        }
      if (req->dials_left == 0)
        {
          g_source_remove (req->timeout);
          req->timeout = 0;
          g_idle_add (fail_later, req);
        }
      return;
    }
  request_open (req);
}

static Request *
request_by_id (MeroNodeClient *client, guint64 id)
{
  for (guint i = 0; i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (id != 0 && req->request_id == id)
        return req;
    }
  return NULL;
}

static Request *
request_by_stream (MeroNodeClient *client, MeroNetStream *stream)
{
  for (guint i = 0; i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (req->stream == stream)
        return req;
    }
  return NULL;
}

static void
request_data (Request *req, GBytes *data)
{
  g_autoptr (GBytes) message = NULL;
  GError *error = NULL;

  g_byte_array_append (req->buffer, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  if (!mero_stream_frame_pop (req->buffer, &message, &error))
    {
      count_stream_drop (req->client, "bad_frame");
      request_finish (req, NULL, error);
      return;
    }
  if (message != NULL)
    request_finish (req, message, NULL);
}

/* ---- inbound streams ---- */

static gboolean
on_inbound_timeout (gpointer user_data)
{
  Inbound *in = user_data;
  MeroNodeClient *client = in->client;

  in->timeout = 0;
  count_stream_drop (client, in->heard ? "request_timeout" : "silent");
  g_debug ("inbound %s stream from %s reset: %s", mero_net_stream_get_protocol (in->stream),
           mero_net_stream_get_peer_id (in->stream),
           in->heard ? "request not complete in time" : "no request bytes in time");
  mero_network_stream_reset (client->network, in->stream);
  g_hash_table_remove (client->inbound, in->stream);
  return G_SOURCE_REMOVE;
}

/* The peer closed its side before a whole request arrived: it gets an
 * error frame and our close (not silence), and the stream is gone here. */
static void
inbound_truncated (MeroNodeClient *client, Inbound *in)
{
  g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);
  g_autoptr (GBytes) body = NULL, frame = NULL;

  count_stream_drop (client, "truncated");
  g_debug ("inbound %s stream from %s closed after %u bytes, before a whole request",
           mero_net_stream_get_protocol (in->stream), mero_net_stream_get_peer_id (in->stream),
           in->buffer->len);
  err->reason = g_strdup ("truncated request");
  body = mero_stream_msg_encode (err);
  frame = mero_stream_frame (body);
  mero_network_stream_write (client->network, in->stream, frame);
  mero_network_stream_close (client->network, in->stream);
  g_hash_table_remove (client->inbound, in->stream);
}

static void
inbound_data (MeroNodeClient *client, Inbound *in, GBytes *data)
{
  g_autoptr (GBytes) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) response = NULL, frame = NULL;

  if (in->answered)
    return;
  if (!in->heard && g_bytes_get_size (data) > 0)
    {
      /* Past the silence bound: the whole request now has the longer one. */
      in->heard = TRUE;
      g_source_remove (in->timeout);
      in->timeout = g_timeout_add (MERO_NODE_INBOUND_TIMEOUT_MS, on_inbound_timeout, in);
    }
  g_byte_array_append (in->buffer, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
  if (in->buffer->len > MERO_NODE_MAX_REQUEST_BYTES + 8)
    {
      count_stream_drop (client, "request_too_large");
      mero_network_stream_reset (client->network, in->stream);
      g_hash_table_remove (client->inbound, in->stream);
      return;
    }
  if (!mero_stream_frame_pop (in->buffer, &message, &error))
    {
      count_stream_drop (client, "bad_frame");
      mero_network_stream_reset (client->network, in->stream);
      g_hash_table_remove (client->inbound, in->stream);
      return;
    }
  if (message == NULL)
    return;
  in->answered = TRUE;
  if (client->contexts == NULL)
    {
      count_stream_drop (client, "not_ready");
      mero_network_stream_reset (client->network, in->stream);
      g_hash_table_remove (client->inbound, in->stream);
      return;
    }
  response = mero_contexts_serve (client->contexts, mero_net_stream_get_peer_id (in->stream),
                                  mero_net_stream_get_protocol (in->stream),
                                  g_bytes_get_data (message, NULL), g_bytes_get_size (message));
  frame = mero_stream_frame (response);
  mero_network_stream_write (client->network, in->stream, frame);
  mero_network_stream_close (client->network, in->stream);
  g_hash_table_remove (client->inbound, in->stream);
}

/* ---- events ---- */

static guint
inbound_of_peer (MeroNodeClient *client, const char *peer)
{
  GHashTableIter iter;
  Inbound *in;
  guint n = 0;

  g_hash_table_iter_init (&iter, client->inbound);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &in))
    if (g_strcmp0 (mero_net_stream_get_peer_id (in->stream), peer) == 0)
      n++;
  return n;
}

static void
on_stream_opened (MeroNodeClient *client, const MeroNetEvent *event)
{
  const char *peer;
  gboolean member;

  if (event->request_id != 0)
    {
      Request *req = request_by_id (client, event->request_id);
      g_autoptr (GBytes) frame = NULL;

      if (req == NULL)
        {
          if ((client->handler == NULL
               || !client->handler->opened (client->handler_data, event->request_id,
                                            event->stream))
              && (client->blob_handler == NULL
                  || !client->blob_handler->opened (client->blob_handler_data,
                                                    event->request_id, event->stream)))
            mero_network_stream_reset (client->network, event->stream);
          return;
        }
      req->stream = mero_net_stream_ref (event->stream);
      frame = mero_stream_frame (req->request);
      mero_network_stream_write (client->network, req->stream, frame);
      return;
    }
  if (client->blob_handler != NULL
      && g_str_has_prefix (mero_net_stream_get_protocol (event->stream), MERO_NODE_BLOB_PREFIX))
    {
      /* Blob streams: admitted (with the same slot rules) and served there. */
      client->blob_handler->inbound (client->blob_handler_data, event->stream);
      return;
    }
  if (!g_str_has_prefix (mero_net_stream_get_protocol (event->stream), MERO_NODE_STREAM_PREFIX))
    {
      count_stream_drop (client, "refused");
      mero_network_stream_reset (client->network, event->stream);
      return;
    }
  if (client->handler != NULL
      && client->handler->owns (client->handler_data,
                                mero_net_stream_get_protocol (event->stream)))
    {
      /* The sync layer admits (members only) and bounds its own streams. */
      client->handler->inbound (client->handler_data, event->stream);
      return;
    }
  peer = mero_net_stream_get_peer_id (event->stream);
  member = client->contexts != NULL && mero_contexts_peer_is_member (client->contexts, peer);
  if (member ? (client->inbound_members >= MERO_NODE_MAX_INBOUND_STREAMS
                || inbound_of_peer (client, peer) >= MERO_NODE_MAX_INBOUND_PER_PEER)
             : (client->inbound_others >= MERO_NODE_MAX_INBOUND_NON_MEMBERS
                || inbound_of_peer (client, peer) >= MERO_NODE_MAX_INBOUND_PER_NON_MEMBER))
    {
      count_stream_drop (client, member ? "busy" : "non_member_busy");
      mero_network_stream_reset (client->network, event->stream);
      return;
    }
  {
    Inbound *in = g_new0 (Inbound, 1);

    in->client = client;
    in->stream = mero_net_stream_ref (event->stream);
    in->buffer = g_byte_array_new ();
    in->member = member;
    if (member)
      client->inbound_members++;
    else
      client->inbound_others++;
    in->timeout = g_timeout_add (MERO_NODE_INBOUND_FIRST_BYTES_MS, on_inbound_timeout, in);
    g_hash_table_insert (client->inbound, in->stream, in);
  }
}

static void
on_peer_connected (MeroNodeClient *client, const char *peer)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (client->connected, peer));

  g_hash_table_insert (client->connected, g_strdup (peer), GUINT_TO_POINTER (n + 1));
  mero_metrics_gauge_set (client->metrics, PEERS_METRIC, NULL,
                          g_hash_table_size (client->connected), NULL);
  for (guint i = 0; i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (req->waiting_connect && g_str_equal (req->peer, peer))
        request_open (req);
    }
}

static void
on_peer_disconnected (MeroNodeClient *client, const char *peer)
{
  guint n = GPOINTER_TO_UINT (g_hash_table_lookup (client->connected, peer));

  if (n <= 1)
    g_hash_table_remove (client->connected, peer);
  else
    g_hash_table_insert (client->connected, g_strdup (peer), GUINT_TO_POINTER (n - 1));
  mero_metrics_gauge_set (client->metrics, PEERS_METRIC, NULL,
                          g_hash_table_size (client->connected), NULL);
}

/* Requests waiting for a peer none of whose addresses could be dialled
 * fail now rather than at their timeout. */
static void
on_dial_failed (MeroNodeClient *client, const MeroNetEvent *event)
{
  for (guint i = 0; event->address != NULL && i < client->requests->len; i++)
    {
      Request *req = g_ptr_array_index (client->requests, i);

      if (!req->waiting_connect || req->addresses == NULL
          || !g_strv_contains ((const char *const *) req->addresses, event->address)
          || req->dials_left == 0 || --req->dials_left > 0)
        continue;
      request_finish (req, NULL,
                      g_error_new (G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE,
                                   _("Cannot reach %s: %s"), req->peer,
                                   event->message != NULL ? event->message : "?"));
      i--;   /* the array shrank */
    }
}

void
mero_node_client_handle_event (MeroNodeClient *client, const MeroNetEvent *event)
{
  Request *req;
  Inbound *in;

  switch (event->type)
    {
    case MERO_NET_EVENT_PEER_CONNECTED:
      on_peer_connected (client, event->peer_id);
      break;
    case MERO_NET_EVENT_PEER_DISCONNECTED:
      on_peer_disconnected (client, event->peer_id);
      break;
    case MERO_NET_EVENT_STREAM_OPENED:
      on_stream_opened (client, event);
      break;
    case MERO_NET_EVENT_DIAL_FAILED:
      on_dial_failed (client, event);
      break;
    case MERO_NET_EVENT_STREAM_FAILED:
      req = request_by_id (client, event->request_id);
      if (req == NULL
          && (client->handler == NULL
              || !client->handler->open_failed (client->handler_data, event->request_id,
                                                event->message != NULL ? event->message : "?"))
          && client->blob_handler != NULL)
        client->blob_handler->open_failed (client->blob_handler_data, event->request_id,
                                           event->message != NULL ? event->message : "?");
      if (req != NULL)
        request_finish (req, NULL,
                        g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, _("%s refused %s: %s"),
                                     req->peer, req->protocol,
                                     event->message != NULL ? event->message : "?"));
      break;
    case MERO_NET_EVENT_STREAM_DATA:
      in = g_hash_table_lookup (client->inbound, event->stream);
      if (in != NULL)
        {
          inbound_data (client, in, event->data);
          break;
        }
      req = request_by_stream (client, event->stream);
      if (req != NULL)
        request_data (req, event->data);
      else if ((client->handler == NULL
                || !client->handler->data (client->handler_data, event->stream, event->data))
               && client->blob_handler != NULL)
        client->blob_handler->data (client->blob_handler_data, event->stream, event->data);
      break;
    case MERO_NET_EVENT_STREAM_CLOSED:
    case MERO_NET_EVENT_STREAM_RESET:
      in = g_hash_table_lookup (client->inbound, event->stream);
      if (in != NULL && event->type == MERO_NET_EVENT_STREAM_CLOSED)
        {
          inbound_truncated (client, in);   /* unanswered: the request never completed */
          break;
        }
      if (in != NULL)
        {
          g_hash_table_remove (client->inbound, event->stream);
          break;
        }
      req = request_by_stream (client, event->stream);
      if (req == NULL
          && (client->handler == NULL
              || !client->handler->ended (client->handler_data, event->stream,
                                          event->type == MERO_NET_EVENT_STREAM_RESET))
          && client->blob_handler != NULL)
        client->blob_handler->ended (client->blob_handler_data, event->stream,
                                     event->type == MERO_NET_EVENT_STREAM_RESET);
      if (req != NULL)
        request_finish (req, NULL,
                        g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                                     _("%s closed %s without an answer"), req->peer,
                                     req->protocol));
      break;
    case MERO_NET_EVENT_MESSAGE:
      if (client->contexts != NULL && event->data != NULL)
        mero_contexts_handle_message (client->contexts, event->topic, event->peer_id,
                                      event->author, g_bytes_get_data (event->data, NULL),
                                      g_bytes_get_size (event->data));
      break;
    case MERO_NET_EVENT_SUBSCRIBED:
      {
        GHashTable *peers = g_hash_table_lookup (client->topics, event->topic);

        if (peers != NULL)
          g_hash_table_add (peers, g_strdup (event->peer_id));
      }
      if (client->contexts != NULL)
        mero_contexts_peer_subscribed (client->contexts, event->peer_id, event->topic);
      break;
    case MERO_NET_EVENT_UNSUBSCRIBED:
      {
        GHashTable *peers = g_hash_table_lookup (client->topics, event->topic);

        if (peers != NULL)
          g_hash_table_remove (peers, event->peer_id);
      }
      break;
    default:
      break;
    }
}

/* ---- the rest of the transport ---- */

static void
transport_subscribe (gpointer self, const char *topic)
{
  MeroNodeClient *client = self;
  g_autoptr (GError) error = NULL;

  if (client->network != NULL && !mero_network_subscribe (client->network, topic, &error))
    {
      g_warning ("cannot subscribe to %s: %s", topic, error->message);
      return;
    }
  if (!g_hash_table_contains (client->topics, topic))
    g_hash_table_insert (client->topics, g_strdup (topic),
                         g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL));
}

static void
transport_unsubscribe (gpointer self, const char *topic)
{
  MeroNodeClient *client = self;

  if (client->network != NULL)
    mero_network_unsubscribe (client->network, topic, NULL);
  g_hash_table_remove (client->topics, topic);
}

static void
transport_publish (gpointer self, const char *topic, GBytes *data)
{
  MeroNodeClient *client = self;
  g_autoptr (GError) error = NULL;

  if (client->network != NULL && !mero_network_publish (client->network, topic, data, &error))
    {
      count_stream_drop (client, "publish_refused");
      g_warning ("cannot publish on %s: %s", topic, error->message);
    }
}

static void
transport_reject_message (gpointer self, const char *peer_id, const char *topic)
{
  MeroNodeClient *client = self;
  g_autoptr (GError) error = NULL;

  /* Counted by the network (mero_gossip_messages_rejected_total). */
  if (client->network != NULL
      && !mero_network_reject_message (client->network, peer_id, topic, &error))
    g_debug ("cannot reject a message on %s: %s", topic, error->message);
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

/* Peers subscribed to @topic (not only our mesh peers), sorted. */
static GStrv
transport_topic_peers (gpointer self, const char *topic)
{
  MeroNodeClient *client = self;
  GHashTable *peers = g_hash_table_lookup (client->topics, topic);
  g_autoptr (GPtrArray) list = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer peer;

  g_auto (GStrv) mesh = client->network != NULL
                          ? mero_network_get_mesh_peers (client->network, topic)
                          : NULL;

  if (peers != NULL)
    {
      g_hash_table_iter_init (&iter, peers);
      while (g_hash_table_iter_next (&iter, &peer, NULL))
        g_ptr_array_add (list, g_strdup (peer));
    }
  /* A peer that announced the topic before we joined it is known to the
   * router, which has it in our mesh by now. */
  for (guint i = 0; mesh != NULL && mesh[i] != NULL; i++)
    if (peers == NULL || !g_hash_table_contains (peers, mesh[i]))
      g_ptr_array_add (list, g_strdup (mesh[i]));
  g_ptr_array_sort (list, compare_strings);
  g_ptr_array_add (list, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&list), FALSE);
}

static void
queue_sync (MeroNodeClient *client, const char *context_id, const char *peer_id,
            gboolean by_operator, gboolean resync)
{
  SyncTrigger *t;

  for (GList *l = client->sync_queue.head; l != NULL; l = l->next)
    if (g_str_equal (((SyncTrigger *) l->data)->context_id, context_id))
      {
        ((SyncTrigger *) l->data)->by_operator |= by_operator;
        ((SyncTrigger *) l->data)->resync |= resync;
        return;
      }
  if (client->sync_queue.length >= MERO_NODE_SYNC_QUEUE_MAX)
    {
      count_stream_drop (client, "sync_queue_full");
      return;
    }
  t = g_new0 (SyncTrigger, 1);
  t->context_id = g_strdup (context_id);
  t->peer_id = g_strdup (peer_id);
  t->by_operator = by_operator;
  t->resync = resync;
  g_queue_push_tail (&client->sync_queue, t);
  if (client->sync_notify != NULL)
    client->sync_notify (client->sync_notify_data);
}

static void
transport_sync_requested (gpointer self, const char *context_id, const char *peer_id)
{
  queue_sync (self, context_id, peer_id, FALSE, FALSE);
}

static void
transport_sync_requested_by_operator (gpointer self, const char *context_id, const char *peer_id)
{
  queue_sync (self, context_id, peer_id, TRUE, FALSE);
}

static void
transport_resync_requested (gpointer self, const char *context_id, const char *peer_id)
{
  queue_sync (self, context_id, peer_id, TRUE, TRUE);
}

gboolean
mero_node_client_pop_sync (MeroNodeClient *client, char **context_id, char **peer_id,
                           gboolean *by_operator, gboolean *resync)
{
  SyncTrigger *t = g_queue_pop_head (&client->sync_queue);

  if (t == NULL)
    return FALSE;
  if (by_operator != NULL)
    *by_operator = t->by_operator;
  if (resync != NULL)
    *resync = t->resync;
  *context_id = g_steal_pointer (&t->context_id);
  if (peer_id != NULL)
    *peer_id = g_steal_pointer (&t->peer_id);
  sync_trigger_free (t);
  return TRUE;
}

guint
mero_node_client_sync_queue_length (MeroNodeClient *client)
{
  return client->sync_queue.length;
}

guint
mero_node_client_peer_count (MeroNodeClient *client)
{
  return g_hash_table_size (client->connected);
}

guint
mero_node_client_topic_peer_count (MeroNodeClient *client, const char *topic)
{
  g_auto (GStrv) peers = transport_topic_peers (client, topic);

  return g_strv_length (peers);
}

void
mero_node_client_set_stream_handler (MeroNodeClient *client,
                                     const MeroNodeStreamHandler *handler, gpointer data)
{
  client->handler = handler;
  client->handler_data = data;
}

void
mero_node_client_set_blob_handler (MeroNodeClient *client, const MeroNodeStreamHandler *handler,
                                   gpointer data)
{
  client->blob_handler = handler;
  client->blob_handler_data = data;
}

guint64
mero_node_client_open_stream (MeroNodeClient *client, const char *peer_id, const char *protocol)
{
  if (client->network == NULL)
    return 0;
  return mero_network_open_stream (client->network, peer_id, protocol);
}

void
mero_node_client_stream_write (MeroNodeClient *client, MeroNetStream *stream, GBytes *data)
{
  if (client->network != NULL)
    mero_network_stream_write (client->network, stream, data);
}

void
mero_node_client_stream_close (MeroNodeClient *client, MeroNetStream *stream)
{
  if (client->network != NULL)
    mero_network_stream_close (client->network, stream);
}

void
mero_node_client_stream_reset (MeroNodeClient *client, MeroNetStream *stream)
{
  if (client->network != NULL)
    mero_network_stream_reset (client->network, stream);
}

gboolean
mero_node_client_is_connected (MeroNodeClient *client, const char *peer_id)
{
  return g_hash_table_contains (client->connected, peer_id);
}

void
mero_node_client_set_sync_notify (MeroNodeClient *client, void (*func) (gpointer data),
                                  gpointer data)
{
  client->sync_notify = func;
  client->sync_notify_data = data;
}

static const MeroNodeTransport client_transport = {
  .subscribe = transport_subscribe,
  .unsubscribe = transport_unsubscribe,
  .publish = transport_publish,
  .request = transport_request,
  .topic_peers = transport_topic_peers,
  .sync_requested = transport_sync_requested,
  .sync_requested_by_operator = transport_sync_requested_by_operator,
  .resync_requested = transport_resync_requested,
  .reject_message = transport_reject_message,
};

const MeroNodeTransport *
mero_node_client_transport (void)
{
  return &client_transport;
}
