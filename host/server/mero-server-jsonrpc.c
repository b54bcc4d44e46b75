/* mero-server-jsonrpc.c: JSON-RPC 2.0 over POST /jsonrpc.
 *
 * Single requests and batches (at most MERO_SERVER_MAX_JSONRPC_BATCH).
 * Errors follow the specification: -32700 parse error, -32600 invalid
 * request, -32601 method not found, -32602 invalid params.  Transport
 * status is 200 whenever a JSON-RPC answer is sent, 204 when every
 * request was a notification (no "id").  Methods are a table: a new one
 * is a row and a function. */
#define G_LOG_DOMAIN "merod"
#include <string.h>

#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"

#define JSONRPC_PARSE_ERROR -32700
#define JSONRPC_INVALID_REQUEST -32600
#define JSONRPC_METHOD_NOT_FOUND -32601
#define JSONRPC_INVALID_PARAMS -32602

/* Returns the result (transfer full), or NULL with *code and *message set. */
typedef JsonNode *(*MethodFunc) (MeroServer *server, JsonNode *params, int *code,
                                 const char **message);

static JsonNode *
method_node_info (MeroServer *server, JsonNode *params, int *code, const char **message)
{
  /* No parameters, but an empty object or array is what generic clients
   * send, so only non-empty ones are refused. */
  if (params != NULL
      && ((JSON_NODE_HOLDS_OBJECT (params) && json_object_get_size (json_node_get_object (params)) > 0)
          || (JSON_NODE_HOLDS_ARRAY (params)
              && json_array_get_length (json_node_get_array (params)) > 0)))
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = "node_info takes no parameters";
      return NULL;
    }
  return mero_server_node_info (server);
}

static const struct {
  const char *name;
  MethodFunc func;
} methods[] = {
  { "node_info", method_node_info },
};

static JsonNode *
make_response (JsonNode *id, JsonNode *result, int code, const char *message)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "jsonrpc");
  json_builder_add_string_value (builder, "2.0");
  if (result != NULL)
    {
      json_builder_set_member_name (builder, "result");
      json_builder_add_value (builder, json_node_copy (result));
    }
  else
    {
      json_builder_set_member_name (builder, "error");
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "code");
      json_builder_add_int_value (builder, code);
      json_builder_set_member_name (builder, "message");
      json_builder_add_string_value (builder, message);
      json_builder_end_object (builder);
    }
  json_builder_set_member_name (builder, "id");
  if (id != NULL)
    json_builder_add_value (builder, json_node_copy (id));
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

static gboolean
valid_id (JsonNode *id)
{
  GType type;

  if (JSON_NODE_HOLDS_NULL (id))
    return TRUE;
  if (!JSON_NODE_HOLDS_VALUE (id))
    return FALSE;
  type = json_node_get_value_type (id);
  return type == G_TYPE_STRING || type == G_TYPE_INT64 || type == G_TYPE_DOUBLE;
}

/* json-glib parses recursively: bound the nesting before handing it a
 * client's text, or a megabyte of "[" would exhaust the stack. */
static gboolean
nesting_within_bound (const char *data, gsize size)
{
  guint depth = 0;
  gboolean in_string = FALSE;

  for (gsize i = 0; i < size; i++)
    {
      char c = data[i];

      if (in_string)
        {
          if (c == '\\')
            i++;
          else if (c == '"')
            in_string = FALSE;
          continue;
        }
      if (c == '"')
        in_string = TRUE;
      else if ((c == '[' || c == '{') && ++depth > MERO_SERVER_MAX_JSON_DEPTH)
        return FALSE;
      else if ((c == ']' || c == '}') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* (transfer full) the response to one request, NULL for a notification. */
static JsonNode *
handle_one (MeroServer *server, JsonNode *request)
{
  JsonObject *object;
  JsonNode *id = NULL;
  JsonNode *params;
  const char *method;
  int code = 0;
  const char *message = NULL;
  g_autoptr (JsonNode) result = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (request))
    return make_response (NULL, NULL, JSONRPC_INVALID_REQUEST, "a request must be an object");
  object = json_node_get_object (request);
  if (json_object_has_member (object, "id"))
    {
      id = json_object_get_member (object, "id");
      if (!valid_id (id))
        return make_response (NULL, NULL, JSONRPC_INVALID_REQUEST,
                              "id must be a string, a number or null");
    }
  if (g_strcmp0 (json_object_get_string_member_with_default (object, "jsonrpc", NULL), "2.0")
      != 0)
    return make_response (id, NULL, JSONRPC_INVALID_REQUEST, "jsonrpc must be \"2.0\"");
  method = json_object_get_string_member_with_default (object, "method", NULL);
  if (method == NULL)
    return make_response (id, NULL, JSONRPC_INVALID_REQUEST, "method must be a string");
  params = json_object_get_member (object, "params");
  if (params != NULL && !JSON_NODE_HOLDS_OBJECT (params) && !JSON_NODE_HOLDS_ARRAY (params))
    return make_response (id, NULL, JSONRPC_INVALID_REQUEST,
                          "params must be an object or an array");

  code = JSONRPC_METHOD_NOT_FOUND;
  message = "method not found";
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method))
      {
        result = methods[i].func (server, params, &code, &message);
        break;
      }
  /* A notification gets no answer, not even an error (JSON-RPC 2.0 §4.1). */
  if (id == NULL)
    return NULL;
  return make_response (id, result, code, message);
}

void
mero_server_handle_jsonrpc (MeroServer *server, SoupServerMessage *msg)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  g_autoptr (JsonNode) reply = NULL;
  JsonNode *root;
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  /* The early handler refused larger declared bodies; this also covers a
   * body that is larger than it said. */
  if (size > MERO_SERVER_MAX_BODY_BYTES)
    {
      mero_server_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body-too-large",
                               "request body too large");
      return;
    }
  if (size == 0 || !g_utf8_validate (data, size, NULL) || !nesting_within_bound (data, size)
      || !json_parser_load_from_data (parser, data, size, NULL)
      || json_parser_get_root (parser) == NULL)
    {
      reply = make_response (NULL, NULL, JSONRPC_PARSE_ERROR, "parse error");
      mero_server_reply_json (msg, SOUP_STATUS_OK, reply);
      return;
    }
  root = json_parser_get_root (parser);
  if (JSON_NODE_HOLDS_ARRAY (root))
    {
      JsonArray *requests = json_node_get_array (root);
      guint n = json_array_get_length (requests);
      g_autoptr (JsonArray) responses = NULL;

      if (n == 0 || n > MERO_SERVER_MAX_JSONRPC_BATCH)
        {
          reply = make_response (NULL, NULL, JSONRPC_INVALID_REQUEST,
                                 n == 0 ? "empty batch" : "batch too large");
          mero_server_reply_json (msg, SOUP_STATUS_OK, reply);
          return;
        }
      responses = json_array_sized_new (n);
      for (guint i = 0; i < n; i++)
        {
          JsonNode *response = handle_one (server, json_array_get_element (requests, i));

          if (response != NULL)
            json_array_add_element (responses, response);
        }
      if (json_array_get_length (responses) > 0)
        {
          reply = json_node_new (JSON_NODE_ARRAY);
          json_node_set_array (reply, responses);
        }
    }
  else
    {
      reply = handle_one (server, root);
    }
  if (reply == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_NO_CONTENT, NULL);
      return;
    }
  mero_server_reply_json (msg, SOUP_STATUS_OK, reply);
}
