/* mero-server.c: lifecycle, listening, auth and body limits, routing and
 * request counting of the HTTP server.
 *
 * Connections: merod owns its listening sockets (MeroAcceptor: full
 * backlog, bounded accepts per wakeup, back-off when accept() fails for
 * lack of descriptors) and hands each accepted connection to libsoup with
 * soup_server_accept_iostream(), and every response says
 * "Connection: close".  Two faults of libsoup 3.2 (Debian 12's, which we
 * build against) are the reason:
 *  - a kept-alive connection that the client closes while it is idle is
 *    never closed: libsoup reads the EOF, fails the waiting message and
 *    leaves the socket open, in CLOSE-WAIT, for good (one descriptor per
 *    request served with keep-alive; fixed upstream in 3.3.0).  Requests
 *    refused from the early handler did not leak because reject() steals
 *    the connection and closes it itself;
 *  - its listener stops accepting for good after one failed accept()
 *    (EMFILE), and listens with a backlog of 10.
 * A SoupServer with no listener of its own ends each connection after its
 * response (libsoup keeps connections alive only for its listeners), so a
 * served connection is closed by us as soon as its response is written.
 * One TCP handshake per request on an admin API is cheap; a descriptor per
 * request is not. */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#include "config/mero-config.h"
#include "metrics/mero-metrics.h"
#include "net/mero-acceptor.h"
#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"
#include "server/mero-server-token.h"

#define REQUESTS_HELP "HTTP requests answered, by path class and status."

static void
handle_health (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_health (server, msg);
}

static void
handle_node (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_node (server, msg);
}

static void
handle_plugins (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_plugins (server, msg);
}

static void
handle_peers (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_peers (server, msg);
}

static void
handle_events (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_sse_handle (server->sse, msg);
}

static void
handle_metrics (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_metrics (server, msg);
}

static void
handle_jsonrpc (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_jsonrpc (server, msg);
}

/* PUT|GET /admin-api/blobs and GET|HEAD|DELETE /admin-api/blobs/{id}
 * (mero-server-blobs.c reads the id from the path itself). */
static void
handle_blobs (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  GUri *uri = soup_server_message_get_uri (msg);

  mero_server_handle_blobs (server, msg, uri != NULL ? g_uri_get_path (uri) : NULL);
}

static void
handle_tee_info (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_tee_info (server, msg);
}

static void
handle_tee_attest (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_tee_attest (server, msg);
}

static void
handle_tee_fleet_join (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  mero_server_handle_tee_fleet_join (server, msg);
}

/* Every route of the server, the one table README.md's route table is
 * checked against (tests/unit/test-server-routes.c).  "{name}" matches one
 * non-empty path segment, handed to the handler in order.  The label is
 * the path class in metrics (bounded cardinality); a path matched by
 * several rows (one per method) shares it. */
static const MeroServerRoute routes[] = {
  { "GET", "/admin-api/health", "health", handle_health },
  { "GET", "/admin-api/ready", "ready", mero_server_handle_ready },
  { "GET", "/admin-api/node", "node", handle_node },
  { "GET", "/admin-api/identity", "identity", mero_server_handle_identity },
  { "GET", "/admin-api/network/status", "network", mero_server_handle_network_status },
  { "GET", "/admin-api/plugins", "plugins", handle_plugins },
  { "GET", "/admin-api/peers", "peers", handle_peers },
  { "GET", "/admin-api/events", "events", handle_events },
  { "GET", "/admin-api/contexts", "contexts", mero_server_handle_contexts_list },
  { "POST", "/admin-api/contexts", "contexts", mero_server_handle_contexts_create },
  { "POST", "/admin-api/contexts/join", "contexts-join", mero_server_handle_contexts_join },
  { "GET", "/admin-api/contexts/{id}", "context", mero_server_handle_context_get },
  { "DELETE", "/admin-api/contexts/{id}", "context", mero_server_handle_context_delete },
  { "POST", "/admin-api/contexts/{id}/invite", "context-invite",
    mero_server_handle_context_invite },
  { "POST", "/admin-api/contexts/{id}/leave", "context-leave", mero_server_handle_context_leave },
  { "POST", "/admin-api/contexts/{id}/sync", "context-sync", mero_server_handle_context_sync },
  { "POST", "/admin-api/contexts/{id}/resync", "context-resync",
    mero_server_handle_context_resync },
  { "GET", "/admin-api/contexts/{id}/members", "context-members",
    mero_server_handle_context_members },
  { "GET", "/admin-api/groups", "groups", mero_server_handle_groups_list },
  { "GET", "/admin-api/groups/{id}", "group", mero_server_handle_group_get },
  { "GET", "/admin-api/groups/{id}/members", "group-members", mero_server_handle_group_members },
  { "DELETE", "/admin-api/groups/{id}/members/{peer}", "group-member",
    mero_server_handle_group_remove_member },
  { "GET", "/sse", "sse", handle_events },
  { "GET", "/ws", "ws", mero_server_ws_check },
  { "GET", "/admin-api/blobs", "blobs", handle_blobs },
  { "PUT", "/admin-api/blobs", "blobs", handle_blobs },
  { "GET", "/admin-api/blobs/{id}", "blobs", handle_blobs },
  { "GET", "/admin-api/blobs/{id}/providers", "blob-providers",
    mero_server_handle_blob_providers },
  { "DELETE", "/admin-api/blobs/{id}", "blobs", handle_blobs },
  { "POST", "/admin-api/blobs/{id}/fetch", "blob-fetch", mero_server_handle_blob_fetch },
  { "GET", "/admin-api/tee/info", "tee_info", handle_tee_info },
  { "POST", "/admin-api/tee/attest", "tee_attest", handle_tee_attest },
  { "POST", "/admin-api/tee/fleet-join", "tee_fleet_join", handle_tee_fleet_join },
  { "GET", "/admin-dashboard", "dashboard", mero_server_handle_dashboard },
  { "GET", "/metrics", "metrics", handle_metrics },
  { "POST", "/jsonrpc", "jsonrpc", handle_jsonrpc },
};

const MeroServerRoute *
mero_server_get_routes (gsize *n_routes)
{
  *n_routes = G_N_ELEMENTS (routes);
  return routes;
}

/* TRUE if @path matches @pattern; its "{…}" segments go to @args
 * (NULL-terminated, at most MERO_SERVER_MAX_ROUTE_ARGS, owned by the
 * caller). */
static gboolean
match_pattern (const char *pattern, const char *path, GStrv *args)
{
  g_auto (GStrv) want = g_strsplit (pattern, "/", -1);
  g_auto (GStrv) have = g_strsplit (path, "/", -1);
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (g_free);
  guint i;

  for (i = 0; want[i] != NULL && have[i] != NULL; i++)
    {
      if (want[i][0] == '{')
        {
          if (have[i][0] == '\0')
            return FALSE;
          g_ptr_array_add (values, g_uri_unescape_string (have[i], NULL));
          if (g_ptr_array_index (values, values->len - 1) == NULL)
            return FALSE;
        }
      else if (!g_str_equal (want[i], have[i]))
        {
          return FALSE;
        }
    }
  if (want[i] != NULL || have[i] != NULL)
    return FALSE;
  g_ptr_array_add (values, NULL);
  *args = (GStrv) g_ptr_array_free (g_steal_pointer (&values), FALSE);
  return TRUE;
}

/* The row for @path and @method (NULL if none; then *path_known says
 * whether another method would have matched, and *allow lists them). */
static const MeroServerRoute *
find_route (const char *path, const char *method, GStrv *args, gboolean *path_known,
            GString *allow)
{
  *path_known = FALSE;
  if (path == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (routes); i++)
    {
      g_auto (GStrv) values = NULL;

      if (!match_pattern (routes[i].pattern, path, &values))
        continue;
      if (method != NULL
          && (g_str_equal (method, routes[i].method)
              || (g_str_equal (method, "HEAD") && g_str_equal (routes[i].method, "GET"))))
        {
          *args = g_steal_pointer (&values);
          return &routes[i];
        }
      *path_known = TRUE;
      if (allow != NULL)
        g_string_append_printf (allow, "%s%s", allow->len > 0 ? ", " : "", routes[i].method);
    }
  return NULL;
}

/* The metrics label of @msg's path. */
static const char *
label_for_message (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *path = uri != NULL ? g_uri_get_path (uri) : NULL;

  for (gsize i = 0; path != NULL && i < G_N_ELEMENTS (routes); i++)
    {
      g_auto (GStrv) values = NULL;

      if (match_pattern (routes[i].pattern, path, &values))
        return routes[i].label;
    }
  return "other";
}

char *
mero_server_hex (const guint8 *data, gsize len)
{
  GString *text = g_string_sized_new (len * 2);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (text, "%02x", data[i]);
  return g_string_free (text, FALSE);
}

void
mero_server_count (const char *name, const char *labels, const char *help)
{
  mero_metrics_counter_add (NULL, name, labels, 1, NULL);
  mero_metrics_set_help (NULL, name, help, NULL);
}

void
mero_server_reply_json (SoupServerMessage *msg, guint status, JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  gsize length = 0;
  char *text;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, &length);
  soup_server_message_set_status (msg, status, NULL);
  soup_server_message_set_response (msg, "application/json", SOUP_MEMORY_TAKE, text, length);
}

void
mero_server_reply_error (SoupServerMessage *msg, guint status, const char *code,
                         const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, status, root);
}

#define SOCKET_KEY "mero-server-socket"
#define HEADERS_TIMER_KEY "mero-server-headers-timer"

static void
destroy_timer (gpointer data)
{
  g_source_destroy (data);
  g_source_unref (data);
}

/* A client that connected and has not sent its request headers in time:
 * shut its socket down, libsoup then fails the request and closes it. */
static gboolean
on_headers_timeout (gpointer data)
{
  GSocket *socket = data;

  if (!g_socket_is_closed (socket))
    {
      mero_server_count (MERO_HTTP_HEADERS_TIMEOUTS_NAME, NULL,
                         "HTTP connections closed for not sending their request headers within "
                         "the time limit.");
      g_debug ("HTTP client sent no request within %d s: connection closed",
               MERO_SERVER_HEADERS_TIMEOUT_SECS);
      g_socket_shutdown (socket, TRUE, TRUE, NULL);
    }
  return G_SOURCE_REMOVE;
}

/* The timer lives on the remote address libsoup hands back on each
 * message (and drops with the connection); the headers are in. */
static void
cancel_headers_timer (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (remote != NULL)
    g_object_set_data (G_OBJECT (remote), HEADERS_TIMER_KEY, NULL);
}

static gboolean
is_trusted_peer (MeroServer *server, SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  if (!server->trust_loopback || !G_IS_INET_SOCKET_ADDRESS (remote))
    return FALSE;
  return g_inet_address_get_is_loopback (
      g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
}

/* NULL when the request carries no bearer token. */
static const char *
bearer_token (SoupServerMessage *msg)
{
  const char *value = soup_message_headers_get_one (
      soup_server_message_get_request_headers (msg), "Authorization");

  if (value == NULL || g_ascii_strncasecmp (value, "Bearer ", 7) != 0)
    return NULL;
  value += 7;
  while (*value == ' ')
    value++;
  return value;
}

static void
on_rejected_closed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_io_stream_close_finish (G_IO_STREAM (source), result, NULL);
}

static void
on_rejection_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GIOStream) stream = user_data;

  /* A client that went away meanwhile changes nothing: close either way. */
  g_output_stream_write_all_finish (G_OUTPUT_STREAM (source), result, NULL, NULL);
  g_io_stream_close_async (stream, G_PRIORITY_DEFAULT, NULL, on_rejected_closed, NULL);
}

/* Answers from the early handler and closes the connection without
 * reading the body: libsoup would otherwise read the whole body (however
 * large, or chunked without end) before sending any response.  The
 * connection is taken from libsoup, so the request is counted here. */
static void
reject (SoupServerMessage *msg, guint status, const char *code, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *body = NULL;
  g_autofree char *labels = NULL;
  GString *response;
  GIOStream *stream;
  gsize length;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "error");
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "code");
  json_builder_add_string_value (builder, code);
  json_builder_set_member_name (builder, "message");
  json_builder_add_string_value (builder, message);
  json_builder_end_object (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  body = json_generator_to_data (generator, &length);

  response = g_string_new (NULL);
  g_string_append_printf (response, "HTTP/1.1 %u %s\r\n", status, soup_status_get_phrase (status));
  if (status == SOUP_STATUS_UNAUTHORIZED)
    g_string_append (response, "WWW-Authenticate: Bearer realm=\"merod\"\r\n");
  g_string_append_printf (response,
                          "Content-Type: application/json\r\nContent-Length: %" G_GSIZE_FORMAT
                          "\r\nConnection: close\r\n\r\n%s",
                          length, body);

  labels = g_strdup_printf ("path=\"%s\",status=\"%u\"", label_for_message (msg), status);
  mero_server_count (MERO_HTTP_REQUESTS_NAME, labels, REQUESTS_HELP);

  stream = soup_server_message_steal_connection (msg);
  {
    gsize size = response->len;
    g_autoptr (GBytes) bytes = g_string_free_to_bytes (response);

    /* write_all_async needs the buffer until it completes: it lives as
     * long as the stream. */
    g_object_set_data_full (G_OBJECT (stream), "mero-rejection", g_bytes_ref (bytes),
                            (GDestroyNotify) g_bytes_unref);
    g_output_stream_write_all_async (g_io_stream_get_output_stream (stream),
                                     g_bytes_get_data (bytes, NULL), size, G_PRIORITY_DEFAULT,
                                     NULL, on_rejection_written, stream);
  }
}

/* Runs once the headers are in, before any body is read: requests that
 * are not allowed or too large never cost more than their headers. */
static void
on_early_request (SoupServer *soup, SoupServerMessage *msg, const char *path,
                  GHashTable *query, gpointer user_data)
{
  MeroServer *server = user_data;
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  cancel_headers_timer (msg);
  if (server->stopped)
    {
      reject (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "stopping", "the node is stopping");
      return;
    }
  if (!is_trusted_peer (server, msg))
    {
      const char *token = bearer_token (msg);

      if (!mero_server_token_equal (server->token, token))
        {
          mero_server_count (MERO_HTTP_AUTH_REJECTED_NAME,
                             token == NULL ? "reason=\"missing\"" : "reason=\"invalid\"",
                             "HTTP requests refused for a missing or wrong bearer token.");
          reject (msg, SOUP_STATUS_UNAUTHORIZED, "unauthorized",
                  token == NULL ? "this client must send Authorization: Bearer <token> "
                                  "(the token is in http.token in the node's home)"
                                : "the bearer token is not this node's");
          return;
        }
    }

  /* A browser says where the page that sends a request came from.  A
   * page of another site must not drive the node (with trust_loopback
   * it needs no token, and a text/plain POST needs no CORS preflight);
   * the dashboard is served by the node itself, so its Origin is ours.
   * Clients that are not browsers send no Origin. */
  {
    const char *origin = soup_message_headers_get_one (headers, "Origin");
    const char *host = soup_message_headers_get_one (headers, "Host");

    if (origin != NULL)
      {
        g_autofree char *own = g_strdup_printf ("http://%s", host != NULL ? host : "");

        if (!g_str_equal (origin, own))
          {
            mero_server_count (MERO_HTTP_AUTH_REJECTED_NAME, "reason=\"origin\"",
                               "HTTP requests refused for a missing or wrong bearer token, or "
                               "from a page of another origin.");
            reject (msg, SOUP_STATUS_FORBIDDEN, "origin-not-allowed",
                    "requests from pages of another origin are refused");
            return;
          }
      }
  }

  if (mero_server_blobs_is_upload (msg))
    {
      guint status;
      const char *code;
      g_autofree char *message = NULL;

      /* Its own body limit (blob.max_size_mb), body streamed to disk. */
      if (!mero_server_blobs_begin_upload (server, msg, &status, &code, &message))
        reject (msg, status, code, message);
      return;
    }
  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      break;
    case SOUP_ENCODING_CONTENT_LENGTH:
      if (soup_message_headers_get_content_length (headers) > MERO_SERVER_MAX_BODY_BYTES)
        {
          g_autofree char *message = g_strdup_printf ("request bodies are limited to %d bytes",
                                                      MERO_SERVER_MAX_BODY_BYTES);

          reject (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body-too-large", message);
        }
      break;
    default:
      /* A chunked body's size is only known once it is read. */
      reject (msg, SOUP_STATUS_LENGTH_REQUIRED, "length-required",
              "request bodies need a Content-Length");
      break;
    }
}

static void
on_request (SoupServer *soup, SoupServerMessage *msg, const char *path, GHashTable *query,
            gpointer user_data)
{
  MeroServer *server = user_data;
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GString) allow = g_string_new (NULL);
  g_auto (GStrv) args = NULL;
  gboolean path_known = FALSE;
  const MeroServerRoute *route = find_route (path, method, &args, &path_known, allow);

  if (route == NULL && !path_known)
    {
      mero_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "not-found", "no such endpoint");
      return;
    }
  if (route == NULL)
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    allow->str);
      mero_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                               "method not allowed on this endpoint");
      return;
    }
  route->handler (server, msg, (const char *const *) args);
}

static void
count_request (SoupServerMessage *msg, const char *status)
{
  g_autofree char *labels = g_strdup_printf ("path=\"%s\",status=\"%s\"",
                                             label_for_message (msg), status);

  mero_server_count (MERO_HTTP_REQUESTS_NAME, labels, REQUESTS_HELP);
}

static void
on_request_finished (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  char status[16];

  g_snprintf (status, sizeof status, "%u", soup_server_message_get_status (msg));
  count_request (msg, status);
}

static void
on_request_aborted (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  count_request (msg, "aborted");
}

/* libsoup closes each connection after its response (see the top of this
 * file); saying so keeps clients from sending a next request on it. */
static void
on_request_started (SoupServer *soup, SoupServerMessage *msg, gpointer user_data)
{
  soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Connection",
                                "close");
}

GSocket *
mero_server_message_get_socket (SoupServerMessage *msg)
{
  GSocket *socket = soup_server_message_get_socket (msg);
  GSocketAddress *remote;

  if (socket != NULL)
    return socket;
  remote = soup_server_message_get_remote_address (msg);
  return remote != NULL ? g_object_get_data (G_OBJECT (remote), SOCKET_KEY) : NULL;
}

static void
on_accepted (GSocketConnection *connection, gpointer user_data)
{
  MeroServer *server = user_data;
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr (GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr (GError) error = NULL;

  if (local == NULL || remote == NULL)
    {
      /* The client is already gone (ENOTCONN). */
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
      return;
    }
  /* libsoup hides the GSocket of a stream it is given but hands the
   * remote address back on each message: the event stream finds the
   * socket to shut down there. */
  g_object_set_data_full (G_OBJECT (remote), SOCKET_KEY, g_object_ref (socket), g_object_unref);
  {
    GSource *timer = g_timeout_source_new_seconds (MERO_SERVER_HEADERS_TIMEOUT_SECS);

    g_source_set_callback (timer, on_headers_timeout, g_object_ref (socket), g_object_unref);
    g_source_set_static_name (timer, "mero-server-headers-timeout");
    g_source_attach (timer, NULL);
    g_object_set_data_full (G_OBJECT (remote), HEADERS_TIMER_KEY, timer, destroy_timer);
  }
  if (!soup_server_accept_iostream (server->soup, G_IO_STREAM (connection), local, remote,
                                    &error))
    {
      g_debug ("HTTP connection not taken: %s", error->message);
      g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
    }
}

MeroServer *
mero_server_new (const MeroServerOptions *options)
{
  MeroServer *server;

  g_return_val_if_fail (options != NULL, NULL);
  g_return_val_if_fail (options->listen != NULL && options->home != NULL, NULL);
  g_return_val_if_fail (options->peer_id != NULL && options->version != NULL, NULL);
  g_return_val_if_fail (options->events != NULL, NULL);

  server = g_new0 (MeroServer, 1);
  server->listen = g_strdup (options->listen);
  server->config_file = g_strdup (options->config_file != NULL ? options->config_file
                                                               : MERO_CONFIG_FILE_NAME);
  server->trust_loopback = options->trust_loopback;
  server->home = g_strdup (options->home);
  server->peer_id = g_strdup (options->peer_id);
  server->version = g_strdup (options->version);
  server->started_us = options->started_us;
  server->registry = options->registry;
  server->contexts = options->contexts;
  server->events = options->events;
  server->network = options->network;
  server->blobs = options->blobs;
  server->providers = options->providers;
  server->blob_net = options->blob_net;
  server->public_key_hex = options->public_key != NULL
                               ? mero_server_hex (options->public_key, 32)
                               : g_strdup ("");
  server->p2p_addresses = options->p2p_addresses != NULL
                              ? g_strdupv ((char **) options->p2p_addresses)
                              : g_new0 (char *, 1);
  server->address_file = g_build_filename (options->home, MERO_SERVER_ADDRESS_FILE_NAME, NULL);
  server->urls = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (server->urls, NULL);
  server->acceptors = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_acceptor_free);
  server->alive = g_cancellable_new ();

  return server;
}

static char *
url_for_socket (GSocket *socket, GError **error)
{
  g_autoptr (GSocketAddress) local = g_socket_get_local_address (socket, error);
  GInetSocketAddress *inet;
  g_autofree char *host = NULL;

  if (local == NULL)
    return NULL;
  inet = G_INET_SOCKET_ADDRESS (local);
  host = g_inet_address_to_string (g_inet_socket_address_get_address (inet));
  if (g_inet_socket_address_get_address (inet) != NULL
      && g_inet_address_get_family (g_inet_socket_address_get_address (inet))
             == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("http://[%s]:%u", host, g_inet_socket_address_get_port (inet));
  return g_strdup_printf ("http://%s:%u", host, g_inet_socket_address_get_port (inet));
}

/* Binds one ADDRESS:PORT, starts accepting on it and records its URL. */
static gboolean
listen_one (MeroServer *server, const char *item, GError **error)
{
  g_autofree char *host = NULL;
  guint16 port = 0;
  g_autoptr (GInetAddress) address = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autoptr (GSocket) socket = NULL;
  char *url;

  if (!mero_config_parse_host_port (item, &host, &port))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “server.listen”: invalid value “%s”: expected ADDRESS:PORT"),
                   server->config_file, item);
      return FALSE;
    }
  address = g_inet_address_new_from_string (host);
  socket_address = g_inet_socket_address_new (address, port);
  socket = mero_acceptor_listen (socket_address, &local_error);
  if (socket == NULL)
    {
      g_set_error (error, G_IO_ERROR, local_error->code,
                   _("Cannot listen on %s (key “server.listen” in %s): %s"), item,
                   server->config_file, local_error->message);
      return FALSE;
    }
  url = url_for_socket (socket, error);
  if (url == NULL)
    return FALSE;
  g_ptr_array_insert (server->urls, server->urls->len - 1, url);
  g_ptr_array_add (server->acceptors,
                   mero_acceptor_new (socket, NULL, "HTTP", NULL, MERO_HTTP_ACCEPT_ERRORS_NAME,
                                      "HTTP connections whose accept() failed, by reason "
                                      "(emfile: the descriptor limit).",
                                      on_accepted, server));
  return TRUE;
}

static gboolean
write_address_file (MeroServer *server, GError **error)
{
  g_autofree char *joined = g_strjoinv ("\n", (char **) server->urls->pdata);
  g_autofree char *contents = g_strconcat (joined, "\n", NULL);
  g_autoptr (GError) local_error = NULL;

  if (!g_file_set_contents_full (server->address_file, contents, -1,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0644, &local_error))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write %s: %s"),
                   server->address_file, local_error->message);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_server_start (MeroServer *server, GError **error)
{
  g_auto (GStrv) items = NULL;
  g_autofree char *header = NULL;
  guint n_items = 0;

  g_return_val_if_fail (server != NULL, FALSE);
  g_return_val_if_fail (server->soup == NULL && !server->stopped, FALSE);

  server->token = mero_server_token_load_or_create (server->home, error);
  if (server->token == NULL)
    return FALSE;

  header = g_strdup_printf ("merod/%s", server->version);
  server->soup = soup_server_new ("server-header", header, NULL);
  soup_server_add_early_handler (server->soup, NULL, on_early_request, server, NULL);
  soup_server_add_handler (server->soup, NULL, on_request, server, NULL);
  g_signal_connect (server->soup, "request-finished", G_CALLBACK (on_request_finished), server);
  g_signal_connect (server->soup, "request-aborted", G_CALLBACK (on_request_aborted), server);
  g_signal_connect (server->soup, "request-started", G_CALLBACK (on_request_started), server);
  server->sse = mero_server_sse_new (server);
  /* /ws has its own libsoup handler (the upgrade); it gets the same
   * early checks (auth, limits) and the route table's handler first. */
  soup_server_add_early_handler (server->soup, MERO_SERVER_WS_PATH, on_early_request, server,
                                 NULL);
  soup_server_add_handler (server->soup, MERO_SERVER_WS_PATH, on_request, server, NULL);
  server->ws = mero_server_ws_new (server, server->soup);

  items = g_strsplit (server->listen, ";", -1);
  for (gsize i = 0; items[i] != NULL; i++)
    {
      g_strstrip (items[i]);
      if (items[i][0] == '\0')
        continue;
      if (++n_items > MERO_SERVER_MAX_LISTEN)
        {
          g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                       _("%s: key “server.listen”: at most %d addresses"), server->config_file,
                       MERO_SERVER_MAX_LISTEN);
          return FALSE;
        }
      if (!listen_one (server, items[i], error))
        return FALSE;
    }
  if (server->urls->len <= 1)
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “server.listen”: no address to listen on"), server->config_file);
      return FALSE;
    }
  return write_address_file (server, error);
}

void
mero_server_set_ready (MeroServer *server, gboolean ready)
{
  g_return_if_fail (server != NULL);
  server->ready = ready;
}

const char *const *
mero_server_get_urls (MeroServer *server)
{
  g_return_val_if_fail (server != NULL, NULL);
  return (const char *const *) server->urls->pdata;
}

void
mero_server_stop (MeroServer *server)
{
  g_return_if_fail (server != NULL);

  if (server->stopped)
    return;
  server->stopped = TRUE;
  server->ready = FALSE;
  g_cancellable_cancel (server->alive);
  if (server->soup == NULL)
    return;
  /* Requests arriving while the event streams drain get 503
   * (on_early_request); then the listeners close and libsoup closes the
   * connections. */
  mero_server_sse_close_all (server->sse);
  mero_server_ws_close_all (server->ws);
  g_ptr_array_set_size (server->acceptors, 0);
  soup_server_disconnect (server->soup);
  if (server->urls->len > 1 && g_unlink (server->address_file) != 0)
    g_debug ("removing %s: %s", server->address_file, g_strerror (errno));
}

void
mero_server_free (MeroServer *server)
{
  if (server == NULL)
    return;
  mero_server_stop (server);
  if (server->soup != NULL)
    g_signal_handlers_disconnect_by_data (server->soup, server);
  g_clear_object (&server->soup);
  g_clear_pointer (&server->sse, mero_server_sse_free);
  g_clear_pointer (&server->ws, mero_server_ws_free);
  if (server->token != NULL)
    memset (server->token, 0, strlen (server->token));
  g_free (server->token);
  g_ptr_array_unref (server->urls);
  g_ptr_array_unref (server->acceptors);
  g_free (server->address_file);
  g_clear_object (&server->alive);
  g_free (server->listen);
  g_free (server->config_file);
  g_free (server->home);
  g_free (server->peer_id);
  g_free (server->public_key_hex);
  g_free (server->version);
  g_strfreev (server->p2p_addresses);
  g_free (server);
}
