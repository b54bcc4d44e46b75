/* mero-server-jsonrpc.c: JSON-RPC 2.0 over POST /jsonrpc.
 *
 * Single requests and batches (at most MERO_SERVER_MAX_JSONRPC_BATCH).
 * Errors follow the specification: -32700 parse error, -32600 invalid
 * request, -32601 method not found, -32602 invalid params; the node's
 * own errors are -32001… (see below) with error.data.code the admin
 * API's code.  Transport
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

/* Application errors (the spec leaves -32000..-32099 to servers): one per
 * contexts error, so clients can tell them apart; error.data.code carries
 * the same stable code as the admin API. */
#define JSONRPC_SERVER_ERROR -32000
#define JSONRPC_UNKNOWN_CONTEXT -32001
#define JSONRPC_NOT_ALLOWED -32002
#define JSONRPC_NO_KEY -32003
#define JSONRPC_PEER_UNAVAILABLE -32004
#define JSONRPC_NOT_READY -32005

/* Returns the result (transfer full), or NULL with *code, *message
 * (transfer full) and maybe *data (the stable code) set. */
typedef JsonNode *(*MethodFunc) (MeroServer *server, JsonNode *params, int *code,
                                 char **message, const char **data);

/* The object params of @params, NULL after setting invalid params. */
static JsonObject *
object_params (JsonNode *params, const char *method, int *code, char **message)
{
  if (params == NULL || !JSON_NODE_HOLDS_OBJECT (params))
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = g_strdup_printf ("%s takes an object of parameters", method);
      return NULL;
    }
  return json_node_get_object (params);
}

static const char *
string_param (JsonObject *params, const char *name)
{
  JsonNode *node = json_object_get_member (params, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (node);
}

static JsonNode *
contexts_failure (GError *error, int *code, char **message, const char **data)
{
  g_autoptr (GError) normalized = mero_contexts_error_normalize (error);

  mero_server_contexts_error_status (normalized, data);
  switch (normalized->code)
    {
    case MERO_CONTEXTS_ERROR_INVALID_ARGUMENT:
    case MERO_CONTEXTS_ERROR_INVITATION:
      *code = JSONRPC_INVALID_PARAMS;
      break;
    case MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT:
      *code = JSONRPC_UNKNOWN_CONTEXT;
      break;
    case MERO_CONTEXTS_ERROR_NOT_ALLOWED:
      *code = JSONRPC_NOT_ALLOWED;
      break;
    case MERO_CONTEXTS_ERROR_NO_KEY:
      *code = JSONRPC_NO_KEY;
      break;
    case MERO_CONTEXTS_ERROR_PEER:
      *code = JSONRPC_PEER_UNAVAILABLE;
      break;
    default:
      *code = JSONRPC_SERVER_ERROR;
      break;
    }
  *message = g_strdup (normalized->message);
  return NULL;
}

static gboolean
contexts_open (MeroServer *server, int *code, char **message, const char **data)
{
  if (server->contexts != NULL)
    return TRUE;
  *code = JSONRPC_NOT_READY;
  *message = g_strdup ("the node's contexts are not open");
  *data = "not-ready";
  return FALSE;
}

/* execute {contextId, method, argsJson}: the D-Bus Call of the context's
 * application (same checks and limits: mero_contexts_call).  argsJson is
 * the arguments as JSON text, or the arguments object itself; absent is
 * {}.  The result is the method's JSON result. */
static JsonNode *
method_execute (MeroServer *server, JsonNode *params, int *code, char **message,
                const char **data)
{
  JsonObject *object = object_params (params, "execute", code, message);
  const char *context_id, *method;
  JsonNode *args;
  g_autofree char *args_text = NULL;
  g_autofree char *result = NULL;
  g_autoptr (JsonParser) parser = NULL;
  GError *error = NULL;

  if (object == NULL)
    return NULL;
  context_id = string_param (object, "contextId");
  method = string_param (object, "method");
  args = json_object_get_member (object, "argsJson");
  if (context_id == NULL || method == NULL)
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = g_strdup ("execute needs the strings contextId and method");
      return NULL;
    }
  if (args == NULL)
    args_text = g_strdup ("{}");
  else if (JSON_NODE_HOLDS_VALUE (args) && json_node_get_value_type (args) == G_TYPE_STRING)
    args_text = g_strdup (json_node_get_string (args));
  else if (JSON_NODE_HOLDS_OBJECT (args))
    args_text = json_to_string (args, FALSE);
  else
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = g_strdup ("argsJson must be JSON text or an object");
      return NULL;
    }
  if (!contexts_open (server, code, message, data))
    return NULL;
  result = mero_contexts_call (server->contexts, context_id, method, args_text, &error);
  if (result == NULL)
    return contexts_failure (error, code, message, data);
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, result, -1, &error))
    return contexts_failure (error, code, message, data);
  return json_node_copy (json_parser_get_root (parser));
}

/* sync_status {contextId}: the context's root, heads, counts and the
 * peers on its topic (GetContextInfo). */
static JsonNode *
method_sync_status (MeroServer *server, JsonNode *params, int *code, char **message,
                    const char **data)
{
  JsonObject *object = object_params (params, "sync_status", code, message);
  const char *context_id;
  g_autoptr (GVariant) info = NULL;
  GError *error = NULL;

  if (object == NULL)
    return NULL;
  context_id = string_param (object, "contextId");
  if (context_id == NULL)
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = g_strdup ("sync_status needs the string contextId");
      return NULL;
    }
  if (!contexts_open (server, code, message, data))
    return NULL;
  info = mero_contexts_info (server->contexts, context_id, &error);
  if (info == NULL)
    return contexts_failure (error, code, message, data);
  g_variant_ref_sink (info);
  return json_gvariant_serialize (info);
}

static JsonNode *
method_node_info (MeroServer *server, JsonNode *params, int *code, char **message,
                  const char **data)
{
  /* No parameters, but an empty object or array is what generic clients
   * send, so only non-empty ones are refused. */
  if (params != NULL
      && ((JSON_NODE_HOLDS_OBJECT (params) && json_object_get_size (json_node_get_object (params)) > 0)
          || (JSON_NODE_HOLDS_ARRAY (params)
              && json_array_get_length (json_node_get_array (params)) > 0)))
    {
      *code = JSONRPC_INVALID_PARAMS;
      *message = g_strdup ("node_info takes no parameters");
      return NULL;
    }
  return mero_server_node_info (server);
}

static const struct {
  const char *name;
  MethodFunc func;
} methods[] = {
  { "node_info", method_node_info },
  { "execute", method_execute },
  { "sync_status", method_sync_status },
};

static JsonNode *
make_response_data (JsonNode *id, JsonNode *result, int code, const char *message,
                    const char *data)
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
      if (data != NULL)
        {
          json_builder_set_member_name (builder, "data");
          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "code");
          json_builder_add_string_value (builder, data);
          json_builder_end_object (builder);
        }
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

static JsonNode *
make_response (JsonNode *id, JsonNode *result, int code, const char *message)
{
  return make_response_data (id, result, code, message, NULL);
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

/* (transfer full) the response to one request, NULL for a notification. */
static JsonNode *
handle_one (MeroServer *server, JsonNode *request)
{
  JsonObject *object;
  JsonNode *id = NULL;
  JsonNode *params;
  const char *method;
  int code = 0;
  g_autofree char *message = NULL;
  const char *data = NULL;
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
  for (gsize i = 0; i < G_N_ELEMENTS (methods); i++)
    if (g_str_equal (methods[i].name, method))
      {
        result = methods[i].func (server, params, &code, &message, &data);
        break;
      }
  if (result == NULL && message == NULL)
    message = g_strdup ("method not found");
  /* A notification gets no answer, not even an error (JSON-RPC 2.0 §4.1). */
  if (id == NULL)
    return NULL;
  return make_response_data (id, result, code, message, data);
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
  if (size == 0 || !g_utf8_validate (data, size, NULL) || !mero_server_json_nesting_ok (data, size)
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
