/* mero-server-json.c: request bodies as JSON, and contexts errors as JSON
 * errors with a stable code and status, for every handler file. */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"

gboolean
mero_server_json_nesting_ok (const char *data, gsize size)
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

JsonObject *
mero_server_read_json_object (SoupServerMessage *msg, JsonParser *parser)
{
  SoupMessageBody *body = soup_server_message_get_request_body (msg);
  g_autoptr (GBytes) bytes = soup_message_body_flatten (body);
  g_autoptr (GError) error = NULL;
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);
  JsonNode *root;

  if (size > MERO_SERVER_MAX_BODY_BYTES)
    {
      mero_server_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body-too-large",
                               "request body too large");
      return NULL;
    }
  if (size == 0)
    data = "{}", size = 2;
  if (!g_utf8_validate (data, size, NULL) || !mero_server_json_nesting_ok (data, size))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-json",
                               "the body is not UTF-8 JSON within the nesting limit");
      return NULL;
    }
  if (!json_parser_load_from_data (parser, data, size, &error))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-json", error->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-json",
                               "the body must be a JSON object");
      return NULL;
    }
  return json_node_get_object (root);
}

guint
mero_server_contexts_error_status (const GError *error, const char **code)
{
  switch (error->domain == MERO_CONTEXTS_ERROR ? error->code : MERO_CONTEXTS_ERROR_FAILED)
    {
    case MERO_CONTEXTS_ERROR_INVALID_ARGUMENT:
      *code = "invalid-argument";
      return SOUP_STATUS_BAD_REQUEST;
    case MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT:
      *code = "unknown-context";
      return SOUP_STATUS_NOT_FOUND;
    case MERO_CONTEXTS_ERROR_NOT_ALLOWED:
      *code = "not-allowed";
      return SOUP_STATUS_FORBIDDEN;
    case MERO_CONTEXTS_ERROR_NO_KEY:
      /* The request is right but the node's state is not there yet. */
      *code = "no-key";
      return SOUP_STATUS_CONFLICT;
    case MERO_CONTEXTS_ERROR_INVITATION:
      *code = "invalid-invitation";
      return SOUP_STATUS_BAD_REQUEST;
    case MERO_CONTEXTS_ERROR_PEER:
      *code = "peer-unavailable";
      return SOUP_STATUS_SERVICE_UNAVAILABLE;
    default:
      *code = "failed";
      return SOUP_STATUS_INTERNAL_SERVER_ERROR;
    }
}

void
mero_server_reply_contexts_error (SoupServerMessage *msg, GError *error)
{
  g_autoptr (GError) normalized = mero_contexts_error_normalize (error);
  const char *code = NULL;
  guint status = mero_server_contexts_error_status (normalized, &code);

  mero_server_reply_error (msg, status, code, normalized->message);
}
