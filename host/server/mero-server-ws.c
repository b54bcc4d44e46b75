/* mero-server-ws.c: GET /ws, node events and execute over a WebSocket
 * (libsoup 3's server WebSocket; the upgrade steals the connection from
 * the one-request-per-connection model of mero-server.c).
 *
 * Client → server, one JSON object per text message:
 *   {"type":"subscribe","contextIds":[…]}    context events of these contexts
 *   {"type":"unsubscribe","contextIds":[…]}  ([] or absent: all of them)
 *   {"type":"execute","id":…,"contextId","method","argsJson"}  as JSON-RPC execute
 *   {"type":"ping"}                          → {"type":"pong"} (browsers cannot
 *                                              send WebSocket pings)
 * Server → client:
 *   {"type":"hello","peerId"}                once, on connect
 *   {"type":"event","event":"state-changed","seq":n,"data":{…}}
 *       events without a context (peer-joined, …) go to every client, events
 *       of a context only to its subscribers
 *   {"type":"subscribed","contextIds":[…]}, {"type":"result","id","result"},
 *   {"type":"error","id","error":{"code","message"}}
 * libsoup pings every MERO_SERVER_WS_KEEPALIVE_SECS and answers pings.
 *
 * Bounded sending: the socket's send buffer is fixed at
 * MERO_SERVER_WS_SNDBUF_BYTES, and an event is handed to libsoup only
 * while the socket is writable; otherwise it waits in the client's subscription
 * queue (MERO_SERVER_WS_MAX_QUEUED) and a writability source resumes.  A
 * client that lets the queue overflow is closed and counted in
 * mero_http_ws_disconnects_total{reason="slow"}; the node never waits. */
#define G_LOG_DOMAIN "merod"
#include <string.h>
#include <sys/socket.h>

#include "metrics/mero-metrics.h"
#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"

#define WS_DISCONNECTS_HELP "WebSocket clients cut off by the server, by reason."

typedef struct {
  MeroServerWs *ws;
  SoupWebsocketConnection *connection;
  GSocket *socket;                      /* nullable: libsoup hid it */
  MeroNodeEventsSubscription *subscription;
  GHashTable *contexts;                 /* subscribed context ids (set) */
  GSource *writable;                    /* waiting for the socket, or NULL */
  gboolean closing;
} WsClient;

struct _MeroServerWs {
  MeroServer *server;
  GPtrArray *clients;                   /* WsClient* */
};

static void
update_gauge (MeroServerWs *ws)
{
  mero_metrics_gauge_set (NULL, MERO_HTTP_WS_CLIENTS_NAME, NULL, ws->clients->len, NULL);
  mero_metrics_set_help (NULL, MERO_HTTP_WS_CLIENTS_NAME, "Connected WebSocket clients.", NULL);
}

static void
send_node (WsClient *client, JsonNode *node)
{
  g_autofree char *text = json_to_string (node, FALSE);

  if (soup_websocket_connection_get_state (client->connection) == SOUP_WEBSOCKET_STATE_OPEN)
    soup_websocket_connection_send_text (client->connection, text);
}

static void
send_object (WsClient *client, JsonObject *object)
{
  g_autoptr (JsonNode) node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  send_node (client, node);
}

static void
client_cut_off (WsClient *client, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  if (client->closing)
    return;
  client->closing = TRUE;
  mero_server_count (MERO_HTTP_WS_DISCONNECTS_NAME, labels, WS_DISCONNECTS_HELP);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "ws-client-cut-off", "MESSAGE",
                    "WebSocket client cut off: %s", reason);
  soup_websocket_connection_close (client->connection, SOUP_WEBSOCKET_CLOSE_POLICY_VIOLATION,
                                   reason);
  /* A client too slow to read our close frame is not waited for. */
  if (client->socket != NULL)
    g_socket_shutdown (client->socket, TRUE, TRUE, NULL);
}

/* TRUE if @event goes to @client: events without a context go to all. */
static gboolean
client_wants (WsClient *client, const MeroNodeEvent *event, JsonNode **data)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  const char *context_id = NULL;

  if (!json_parser_load_from_data (parser, event->data, -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root != NULL && JSON_NODE_HOLDS_OBJECT (root))
    context_id = json_object_get_string_member_with_default (json_node_get_object (root),
                                                             "context_id", NULL);
  if (context_id != NULL && !g_hash_table_contains (client->contexts, context_id))
    return FALSE;
  *data = json_node_copy (root);
  return TRUE;
}

static gboolean on_writable (GSocket *socket, GIOCondition condition, gpointer user_data);

/* Hands queued events to libsoup while the socket takes them. */
static void
client_pump (WsClient *client)
{
  MeroNodeEvent *event;

  if (client->closing)
    return;
  /* Checked first: an overflow is reported while we wait for the socket. */
  if (mero_node_events_subscription_is_overflowed (client->subscription))
    {
      client_cut_off (client, "slow");
      return;
    }
  if (client->writable != NULL)
    return;
  for (;;)
    {
      JsonNode *data = NULL;
      JsonObject *message;

      if (client->socket != NULL
          && (g_socket_condition_check (client->socket, G_IO_OUT) & G_IO_OUT) == 0)
        {
          client->writable = g_socket_create_source (client->socket, G_IO_OUT, NULL);
          g_source_set_callback (client->writable, G_SOURCE_FUNC (on_writable), client, NULL);
          g_source_set_static_name (client->writable, "mero-server-ws-writable");
          g_source_attach (client->writable, NULL);
          return;
        }
      event = mero_node_events_subscription_pop (client->subscription);
      if (event == NULL)
        return;
      if (client_wants (client, event, &data))
        {
          message = json_object_new ();
          json_object_set_string_member (message, "type", "event");
          json_object_set_string_member (message, "event", event->type);
          json_object_set_int_member (message, "seq", (gint64) event->seq);
          json_object_set_member (message, "data", data);
          send_object (client, message);
        }
      mero_node_event_free (event);
    }
}

static gboolean
on_writable (GSocket *socket, GIOCondition condition, gpointer user_data)
{
  WsClient *client = user_data;

  g_clear_pointer (&client->writable, g_source_unref);
  client_pump (client);
  return G_SOURCE_REMOVE;
}

static void
on_events (MeroNodeEventsSubscription *subscription, gpointer user_data)
{
  client_pump (user_data);
}

static void
send_error (WsClient *client, JsonNode *id, const char *code, const char *message)
{
  JsonObject *reply = json_object_new ();
  JsonObject *error = json_object_new ();

  json_object_set_string_member (reply, "type", "error");
  if (id != NULL)
    json_object_set_member (reply, "id", json_node_copy (id));
  json_object_set_string_member (error, "code", code);
  json_object_set_string_member (error, "message", message);
  json_object_set_object_member (reply, "error", error);
  send_object (client, reply);
}

/* The context ids of a (un)subscribe, NULL after answering an error. */
static JsonArray *
context_ids (WsClient *client, JsonObject *request, gboolean required)
{
  JsonNode *node = json_object_get_member (request, "contextIds");

  if (node == NULL && !required)
    return NULL;
  if (node == NULL || !JSON_NODE_HOLDS_ARRAY (node))
    {
      send_error (client, NULL, "invalid-argument", "contextIds must be an array of strings");
      return NULL;
    }
  for (guint i = 0; i < json_array_get_length (json_node_get_array (node)); i++)
    {
      JsonNode *item = json_array_get_element (json_node_get_array (node), i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        {
          send_error (client, NULL, "invalid-argument", "contextIds must be an array of strings");
          return NULL;
        }
    }
  return json_node_get_array (node);
}

static void
send_subscribed (WsClient *client)
{
  JsonObject *reply = json_object_new ();
  JsonArray *ids = json_array_new ();
  g_autoptr (GList) keys = g_hash_table_get_keys (client->contexts);

  keys = g_list_sort (keys, (GCompareFunc) g_strcmp0);
  for (GList *l = keys; l != NULL; l = l->next)
    json_array_add_string_element (ids, l->data);
  json_object_set_string_member (reply, "type", "subscribed");
  json_object_set_array_member (reply, "contextIds", ids);
  send_object (client, reply);
}

static void
handle_subscribe (WsClient *client, JsonObject *request, gboolean subscribe)
{
  JsonArray *ids = context_ids (client, request, subscribe);
  guint n = ids != NULL ? json_array_get_length (ids) : 0;

  if (ids == NULL && subscribe)
    return;
  if (!subscribe && n == 0)
    g_hash_table_remove_all (client->contexts);
  for (guint i = 0; i < n; i++)
    {
      const char *id = json_array_get_string_element (ids, i);

      if (!subscribe)
        g_hash_table_remove (client->contexts, id);
      else if (g_hash_table_size (client->contexts) >= MERO_SERVER_WS_MAX_SUBSCRIPTIONS)
        {
          send_error (client, NULL, "too-many-subscriptions",
                      "a WebSocket client may follow at most "
                      G_STRINGIFY (MERO_SERVER_WS_MAX_SUBSCRIPTIONS) " contexts");
          return;
        }
      else
        g_hash_table_add (client->contexts, g_strdup (id));
    }
  send_subscribed (client);
}

static void
handle_execute (WsClient *client, JsonObject *request)
{
  MeroServer *server = client->ws->server;
  JsonNode *id = json_object_get_member (request, "id");
  const char *context_id = json_object_get_string_member_with_default (request, "contextId",
                                                                       NULL);
  const char *method = json_object_get_string_member_with_default (request, "method", NULL);
  JsonNode *args = json_object_get_member (request, "argsJson");
  g_autofree char *args_text = NULL;
  g_autofree char *result = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  GError *error = NULL;
  JsonObject *reply;

  if (context_id == NULL || method == NULL)
    {
      send_error (client, id, "invalid-argument", "execute needs contextId and method strings");
      return;
    }
  if (args == NULL)
    args_text = g_strdup ("{}");
  else if (JSON_NODE_HOLDS_VALUE (args) && json_node_get_value_type (args) == G_TYPE_STRING)
    args_text = g_strdup (json_node_get_string (args));
  else if (JSON_NODE_HOLDS_OBJECT (args))
    args_text = json_to_string (args, FALSE);
  else
    {
      send_error (client, id, "invalid-argument", "argsJson must be JSON text or an object");
      return;
    }
  if (server->contexts == NULL)
    {
      send_error (client, id, "not-ready", "the node's contexts are not open");
      return;
    }
  result = mero_contexts_call (server->contexts, context_id, method, args_text, &error);
  if (result == NULL || !json_parser_load_from_data (parser, result, -1, &error))
    {
      g_autoptr (GError) normalized = mero_contexts_error_normalize (error);
      const char *code = NULL;

      mero_server_contexts_error_status (normalized, &code);
      send_error (client, id, code, normalized->message);
      return;
    }
  reply = json_object_new ();
  json_object_set_string_member (reply, "type", "result");
  if (id != NULL)
    json_object_set_member (reply, "id", json_node_copy (id));
  json_object_set_member (reply, "result", json_node_copy (json_parser_get_root (parser)));
  send_object (client, reply);
}

static void
on_message (SoupWebsocketConnection *connection, gint type, GBytes *message, gpointer user_data)
{
  WsClient *client = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gsize size = 0;
  const char *data = g_bytes_get_data (message, &size);
  JsonObject *request;
  const char *kind;

  if (type != SOUP_WEBSOCKET_DATA_TEXT || !g_utf8_validate (data, size, NULL)
      || !mero_server_json_nesting_ok (data, size)
      || !json_parser_load_from_data (parser, data, size, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      send_error (client, NULL, "invalid-json", "messages are JSON objects in text frames");
      return;
    }
  request = json_node_get_object (json_parser_get_root (parser));
  kind = json_object_get_string_member_with_default (request, "type", "");
  if (g_str_equal (kind, "subscribe"))
    handle_subscribe (client, request, TRUE);
  else if (g_str_equal (kind, "unsubscribe"))
    handle_subscribe (client, request, FALSE);
  else if (g_str_equal (kind, "execute"))
    handle_execute (client, request);
  else if (g_str_equal (kind, "ping"))
    {
      JsonObject *reply = json_object_new ();

      json_object_set_string_member (reply, "type", "pong");
      send_object (client, reply);
    }
  else
    send_error (client, json_object_get_member (request, "id"), "unknown-type",
                "type must be subscribe, unsubscribe, execute or ping");
}

static void
client_free (WsClient *client)
{
  if (client->writable != NULL)
    {
      g_source_destroy (client->writable);
      g_source_unref (client->writable);
    }
  g_signal_handlers_disconnect_by_data (client->connection, client);
  mero_node_events_subscription_free (client->subscription);
  g_hash_table_unref (client->contexts);
  g_clear_object (&client->socket);
  g_object_unref (client->connection);
  g_free (client);
}

static void
on_closed (SoupWebsocketConnection *connection, gpointer user_data)
{
  WsClient *client = user_data;
  MeroServerWs *ws = client->ws;

  g_ptr_array_remove_fast (ws->clients, client);
  update_gauge (ws);
}

/* Runs before the upgrade, through the route table (after the early
 * handler's token and Origin checks): refuses what is not a WebSocket
 * handshake and more clients than the bound.  Leaves the status unset to
 * let libsoup upgrade. */
void
mero_server_ws_check (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  SoupMessageHeaders *request = soup_server_message_get_request_headers (msg);

  if (!soup_message_headers_header_contains (request, "Upgrade", "websocket"))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "websocket-required",
                               "this endpoint speaks WebSocket only");
      return;
    }
  if (server->ws->clients->len >= MERO_SERVER_WS_MAX_CLIENTS)
    {
      mero_server_count (MERO_HTTP_WS_DISCONNECTS_NAME, "reason=\"too-many\"",
                         WS_DISCONNECTS_HELP);
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too-many-clients",
                               "too many WebSocket clients");
      return;
    }
  /* The upgrade answer says "Connection: Upgrade", not our "close". */
  soup_message_headers_remove (soup_server_message_get_response_headers (msg), "Connection");
}

static void
on_websocket (SoupServer *soup, SoupServerMessage *msg, const char *path,
              SoupWebsocketConnection *connection, gpointer user_data)
{
  MeroServerWs *ws = user_data;
  WsClient *client = g_new0 (WsClient, 1);
  GSocket *socket = mero_server_message_get_socket (msg);
  JsonObject *hello = json_object_new ();

  client->ws = ws;
  client->connection = g_object_ref (connection);
  client->socket = socket != NULL ? g_object_ref (socket) : NULL;
  /* A fixed send buffer (no autotuning up to megabytes): what a client
   * that stops reading can hold in the kernel is bounded too. */
  if (socket != NULL
      && !g_socket_set_option (socket, SOL_SOCKET, SO_SNDBUF, MERO_SERVER_WS_SNDBUF_BYTES, NULL))
    g_debug ("WebSocket client: cannot set SO_SNDBUF");
  client->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  client->subscription = mero_node_events_subscribe (ws->server->events,
                                                     MERO_SERVER_WS_MAX_QUEUED, on_events,
                                                     client);
  soup_websocket_connection_set_keepalive_interval (connection,
                                                    MERO_SERVER_WS_KEEPALIVE_SECS);
  soup_websocket_connection_set_max_incoming_payload_size (connection,
                                                           MERO_SERVER_MAX_BODY_BYTES);
  g_signal_connect (connection, "message", G_CALLBACK (on_message), client);
  g_signal_connect (connection, "closed", G_CALLBACK (on_closed), client);
  g_ptr_array_add (ws->clients, client);
  update_gauge (ws);
  mero_server_count (MERO_HTTP_WS_CONNECTIONS_NAME, NULL,
                     "WebSocket connections upgraded on /ws.");
  json_object_set_string_member (hello, "type", "hello");
  json_object_set_string_member (hello, "peerId", ws->server->peer_id);
  send_object (client, hello);
}

MeroServerWs *
mero_server_ws_new (MeroServer *server, SoupServer *soup)
{
  MeroServerWs *ws = g_new0 (MeroServerWs, 1);

  ws->server = server;
  ws->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  soup_server_add_websocket_handler (soup, MERO_SERVER_WS_PATH, NULL, NULL, on_websocket, ws,
                                     NULL);
  update_gauge (ws);
  return ws;
}

void
mero_server_ws_close_all (MeroServerWs *ws)
{
  if (ws == NULL)
    return;
  for (guint i = 0; i < ws->clients->len; i++)
    {
      WsClient *client = g_ptr_array_index (ws->clients, i);

      client->closing = TRUE;
      soup_websocket_connection_close (client->connection, SOUP_WEBSOCKET_CLOSE_GOING_AWAY,
                                       "the node is stopping");
    }
}

void
mero_server_ws_free (MeroServerWs *ws)
{
  if (ws == NULL)
    return;
  g_ptr_array_unref (ws->clients);
  mero_metrics_gauge_set (NULL, MERO_HTTP_WS_CLIENTS_NAME, NULL, 0, NULL);
  g_free (ws);
}
