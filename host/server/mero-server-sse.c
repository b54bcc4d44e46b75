/* mero-server-sse.c: GET /admin-api/events and /sse, node events as
 * server-sent events.  "?context=A,B" (either path) keeps the events of
 * other contexts out; events without a context always come.
 *
 * Each client gets "event: hello" with the peer id, then every node event
 * as "id: <seq>\nevent: <type>\ndata: <json>\n\n", and ": keep-alive"
 * comments when idle.  Events are handed to libsoup only once the
 * previous chunk is written; until then they wait in the client's
 * bounded subscription queue (MERO_SERVER_SSE_MAX_QUEUED).  A client that
 * lets it overflow is cut off (its socket is shut down) and counted in
 * mero_http_sse_disconnects_total{reason="slow"}; the publisher never
 * waits.  At shutdown every client gets "event: shutdown" and the stream
 * ends. */
#define G_LOG_DOMAIN "merod"
#include <string.h>

#include "metrics/mero-metrics.h"
#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"

typedef struct {
  MeroServerSse *sse;
  SoupServerMessage *msg;
  MeroNodeEventsSubscription *subscription;
  guint64 appended;             /* chunks given to libsoup */
  guint64 written;              /* chunks libsoup reported written */
  gboolean completed;           /* final chunk given */
  GHashTable *contexts;         /* /sse?context=…: only these contexts' events; NULL: all */
} SseClient;

struct _MeroServerSse {
  MeroServer *server;
  GPtrArray *clients;           /* SseClient* */
  GSource *keepalive;
};

static void
update_gauge (MeroServerSse *sse)
{
  mero_metrics_gauge_set (NULL, MERO_HTTP_SSE_CLIENTS_NAME, NULL, sse->clients->len, NULL);
  mero_metrics_set_help (NULL, MERO_HTTP_SSE_CLIENTS_NAME, "Connected event-stream clients.",
                         NULL);
}

static void
append_chunk (SseClient *client, char *text)
{
  SoupMessageBody *body = soup_server_message_get_response_body (client->msg);

  soup_message_body_append (body, SOUP_MEMORY_TAKE, text, strlen (text));
  client->appended++;
  soup_server_message_unpause (client->msg);
}

static gboolean
client_idle (SseClient *client)
{
  return client->written == client->appended;
}

/* Forced: the socket is shut down under libsoup, which then fails the
 * message and emits "finished", where the client is freed. */
static void
client_cut_off (SseClient *client, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);
  GSocket *socket = mero_server_message_get_socket (client->msg);

  mero_server_count (MERO_HTTP_SSE_DISCONNECTS_NAME, labels,
                     "Event-stream clients cut off by the server, by reason.");
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "sse-client-cut-off",
                    "MESSAGE", "event-stream client cut off: %s", reason);
  client->completed = TRUE;
  if (socket != NULL)
    g_socket_shutdown (socket, TRUE, TRUE, NULL);
}

/* Events of a context go to a filtered client only if it follows that
 * context; events without one (peers, node) go to every client. */
static gboolean
client_wants (SseClient *client, const MeroNodeEvent *event)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonNode *root;
  const char *context_id;

  if (client->contexts == NULL)
    return TRUE;
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, event->data, -1, NULL))
    return FALSE;
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return TRUE;
  context_id = json_object_get_string_member_with_default (json_node_get_object (root),
                                                           "context_id", NULL);
  return context_id == NULL || g_hash_table_contains (client->contexts, context_id);
}

/* Moves queued events into one chunk, if libsoup has written the last. */
static void
client_pump (SseClient *client)
{
  g_autoptr (GString) chunk = NULL;
  MeroNodeEvent *event;

  if (client->completed)
    return;
  if (mero_node_events_subscription_is_overflowed (client->subscription))
    {
      client_cut_off (client, "slow");
      return;
    }
  if (!client_idle (client))
    return;
  chunk = g_string_new (NULL);
  while ((event = mero_node_events_subscription_pop (client->subscription)) != NULL)
    {
      if (!client_wants (client, event))
        {
          mero_node_event_free (event);
          continue;
        }
      g_string_append_printf (chunk, "id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n",
                              event->seq, event->type, event->data);
      mero_node_event_free (event);
    }
  if (chunk->len > 0)
    append_chunk (client, g_string_free (g_steal_pointer (&chunk), FALSE));
}

static void
on_events (MeroNodeEventsSubscription *subscription, gpointer user_data)
{
  client_pump (user_data);
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  SseClient *client = user_data;

  client->written++;
  client_pump (client);
}

static void
on_finished (SoupServerMessage *msg, gpointer user_data)
{
  SseClient *client = user_data;
  MeroServerSse *sse = client->sse;

  g_ptr_array_remove_fast (sse->clients, client);
  update_gauge (sse);
}

static void
client_free (SseClient *client)
{
  if (client == NULL)
    return;
  g_signal_handlers_disconnect_by_data (client->msg, client);
  mero_node_events_subscription_free (client->subscription);
  g_clear_pointer (&client->contexts, g_hash_table_unref);
  g_object_unref (client->msg);
  g_free (client);
}

static char *
hello_chunk (MeroServer *server)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *data = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, server->peer_id);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, server->version);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, NULL);
  /* retry: clients reconnect after 3 s if the node restarts. */
  return g_strdup_printf ("retry: 3000\nevent: hello\ndata: %s\n\n", data);
}

/* (transfer full) the contexts of "?context=A,B" (NULL: no filter), or
 * NULL after replying 400 for more than the bound. */
static GHashTable *
query_contexts (SoupServerMessage *msg, gboolean *ok)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_autoptr (GHashTable) params = NULL;
  g_auto (GStrv) ids = NULL;
  GHashTable *contexts;
  const char *value;

  *ok = TRUE;
  if (query == NULL)
    return NULL;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  value = params != NULL ? g_hash_table_lookup (params, "context") : NULL;
  if (value == NULL || value[0] == '\0')
    return NULL;
  ids = g_strsplit (value, ",", -1);
  if (g_strv_length (ids) > MERO_SERVER_SSE_MAX_CONTEXTS)
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "too-many-contexts",
                               "an event stream follows at most "
                               G_STRINGIFY (MERO_SERVER_SSE_MAX_CONTEXTS) " contexts");
      *ok = FALSE;
      return NULL;
    }
  contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; ids[i] != NULL; i++)
    if (ids[i][0] != '\0')
      g_hash_table_add (contexts, g_strdup (ids[i]));
  return contexts;
}

void
mero_server_sse_handle (MeroServerSse *sse, SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  g_autoptr (GHashTable) contexts = NULL;
  SseClient *client;
  gboolean ok;

  if (sse->clients->len >= MERO_SERVER_MAX_SSE_CLIENTS)
    {
      mero_server_count (MERO_HTTP_SSE_DISCONNECTS_NAME, "reason=\"too-many\"",
                         "Event-stream clients cut off by the server, by reason.");
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "too-many-streams",
                               "too many event-stream clients");
      return;
    }
  contexts = query_contexts (msg, &ok);
  if (!ok)
    return;
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_message_headers_replace (headers, "Content-Type", "text/event-stream");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  if (g_str_equal (soup_server_message_get_method (msg), "HEAD"))
    return;
  soup_message_headers_set_encoding (headers, SOUP_ENCODING_CHUNKED);
  /* Written chunks are dropped, or a long stream would grow forever. */
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);

  client = g_new0 (SseClient, 1);
  client->sse = sse;
  client->msg = g_object_ref (msg);
  client->contexts = g_steal_pointer (&contexts);
  client->subscription = mero_node_events_subscribe (sse->server->events,
                                                     MERO_SERVER_SSE_MAX_QUEUED, on_events,
                                                     client);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), client);
  g_signal_connect (msg, "finished", G_CALLBACK (on_finished), client);
  g_ptr_array_add (sse->clients, client);
  update_gauge (sse);
  append_chunk (client, hello_chunk (sse->server));
}

static gboolean
on_keepalive (gpointer user_data)
{
  MeroServerSse *sse = user_data;

  /* Only idle streams: a client that is behind needs no more bytes. */
  for (guint i = 0; i < sse->clients->len; i++)
    {
      SseClient *client = g_ptr_array_index (sse->clients, i);

      if (!client->completed && client_idle (client))
        append_chunk (client, g_strdup (": keep-alive\n\n"));
    }
  return G_SOURCE_CONTINUE;
}

MeroServerSse *
mero_server_sse_new (MeroServer *server)
{
  MeroServerSse *sse = g_new0 (MeroServerSse, 1);

  sse->server = server;
  sse->clients = g_ptr_array_new_with_free_func ((GDestroyNotify) client_free);
  sse->keepalive = g_timeout_source_new_seconds (MERO_SERVER_SSE_KEEPALIVE_SECS);
  g_source_set_callback (sse->keepalive, on_keepalive, sse, NULL);
  g_source_set_static_name (sse->keepalive, "mero-server-sse-keepalive");
  g_source_attach (sse->keepalive, NULL);
  update_gauge (sse);
  return sse;
}

static gboolean
on_flush_timeout (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

void
mero_server_sse_close_all (MeroServerSse *sse)
{
  g_autoptr (GSource) timeout = NULL;
  gboolean timed_out = FALSE;

  if (sse == NULL)
    return;
  if (sse->keepalive != NULL)
    {
      g_source_destroy (sse->keepalive);
      g_clear_pointer (&sse->keepalive, g_source_unref);
    }
  for (guint i = 0; i < sse->clients->len; i++)
    {
      SseClient *client = g_ptr_array_index (sse->clients, i);

      if (client->completed)
        continue;
      /* What is still queued (the node's own "node-stopping" among it)
       * goes out ahead of the final event. */
      {
        GString *chunk = g_string_new (NULL);
        MeroNodeEvent *event;

        while ((event = mero_node_events_subscription_pop (client->subscription)) != NULL)
          {
            g_string_append_printf (chunk, "id: %" G_GUINT64_FORMAT "\nevent: %s\ndata: %s\n\n",
                                    event->seq, event->type, event->data);
            mero_node_event_free (event);
          }
        g_string_append (chunk, "event: shutdown\ndata: {}\n\n");
        client->completed = TRUE;
        append_chunk (client, g_string_free (chunk, FALSE));
      }
      soup_message_body_complete (soup_server_message_get_response_body (client->msg));
      soup_server_message_unpause (client->msg);
    }
  timeout = g_timeout_source_new (MERO_SERVER_SHUTDOWN_FLUSH_MS);
  g_source_set_callback (timeout, on_flush_timeout, &timed_out, NULL);
  g_source_attach (timeout, NULL);
  while (sse->clients->len > 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  g_source_destroy (timeout);
  /* Clients that did not read their last event in time. */
  for (guint i = 0; i < sse->clients->len; i++)
    client_cut_off (g_ptr_array_index (sse->clients, i), "shutdown");
}

void
mero_server_sse_free (MeroServerSse *sse)
{
  if (sse == NULL)
    return;
  if (sse->keepalive != NULL)
    {
      g_source_destroy (sse->keepalive);
      g_clear_pointer (&sse->keepalive, g_source_unref);
    }
  g_ptr_array_unref (sse->clients);
  mero_metrics_gauge_set (NULL, MERO_HTTP_SSE_CLIENTS_NAME, NULL, 0, NULL);
  g_free (sse);
}
