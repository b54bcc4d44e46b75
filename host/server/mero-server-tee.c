/* mero-server-tee.c: the admin API of TEE admission (issue 14 item 4).
 *
 *   GET  /admin-api/tee/info        {"configfs_tsm", "tsm_path", "accept_mock",
 *                                    "can_attest", "quote_source", "can_verify",
 *                                    "member_key"}
 *   POST /admin-api/tee/attest      {"nonce": HEX?} -> {"quote": HEX, "report_data": HEX}
 *   POST /admin-api/tee/fleet-join  {"context_id", "group_id", "application", "address"[, "quote"]} -> {}
 *
 * The same operations as D-Bus TeeInfo, TeeAttest and TeeFleetJoin. */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-private.h"

#include <json-glib/json-glib.h>

#include "node/mero-contexts-tee.h"
#include "server/mero-server-limits.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-quote.h"

/* The bodies are flat objects of strings: anything nested deeper than
 * this is refused before json-glib parses it. */
#define TEE_BODY_MAX_DEPTH 2

static gboolean
flat_enough (const char *data, gsize size)
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
        }
      else if (c == '"')
        in_string = TRUE;
      else if ((c == '{' || c == '[') && ++depth > TEE_BODY_MAX_DEPTH)
        return FALSE;
      else if ((c == '}' || c == ']') && depth > 0)
        depth--;
    }
  return TRUE;
}

/* (transfer full) the request body as a JSON object, or NULL after a 400. */
static JsonObject *
body_object (SoupServerMessage *msg)
{
  g_autoptr (GBytes) bytes = soup_message_body_flatten (soup_server_message_get_request_body (msg));
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  gsize size = 0;
  const char *data = g_bytes_get_data (bytes, &size);

  if (size > MERO_SERVER_MAX_BODY_BYTES)
    {
      mero_server_reply_error (msg, SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, "body-too-large",
                               "request body too large");
      return NULL;
    }
  if (size == 0)
    return json_object_new ();
  if (!g_utf8_validate (data, size, NULL) || !flat_enough (data, size)
      || !json_parser_load_from_data (parser, data, size, NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "bad-request",
                               "the body must be a JSON object");
      return NULL;
    }
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static gboolean
have_contexts (MeroServer *server, SoupServerMessage *msg)
{
  if (server->contexts != NULL)
    return TRUE;
  mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "unavailable",
                           "the node's contexts are not open");
  return FALSE;
}

static void
reply_gerror (SoupServerMessage *msg, const GError *error)
{
  guint status = g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED)
                     ? SOUP_STATUS_NOT_IMPLEMENTED
                     : SOUP_STATUS_BAD_REQUEST;

  mero_server_reply_error (msg, status, status == SOUP_STATUS_NOT_IMPLEMENTED ? "cannot-attest"
                                                                              : "refused",
                           error->message);
}

void
mero_server_handle_tee_info (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (GVariant) info = NULL;
  g_autoptr (JsonNode) root = NULL;

  if (!have_contexts (server, msg))
    return;
  info = g_variant_ref_sink (mero_contexts_tee_info (server->contexts));
  root = json_gvariant_serialize (info);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

static char *
hex_of (const guint8 *data, gsize len)
{
  GString *s = g_string_sized_new (2 * len);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}

void
mero_server_handle_tee_attest (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) quote = NULL;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *quote_hex = NULL, *rd_hex = NULL;
  guint8 report_data[64];
  gsize len = 0;
  const guint8 *data;

  if (!have_contexts (server, msg) || (body = body_object (msg)) == NULL)
    return;
  quote = mero_contexts_tee_attest (server->contexts,
                                    json_object_get_string_member_with_default (body, "nonce", ""),
                                    report_data, &error);
  if (quote == NULL)
    {
      reply_gerror (msg, error);
      return;
    }
  data = g_bytes_get_data (quote, &len);
  quote_hex = hex_of (data, len);
  rd_hex = hex_of (report_data, sizeof report_data);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "quote");
  json_builder_add_string_value (builder, quote_hex);
  json_builder_set_member_name (builder, "report_data");
  json_builder_add_string_value (builder, rd_hex);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

void
mero_server_handle_tee_fleet_join (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonObject) body = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = json_node_init_object (json_node_alloc (), json_object_new ());
  g_autoptr (GBytes) quote = NULL;
  const char *quote_hex;

  if (!have_contexts (server, msg) || (body = body_object (msg)) == NULL)
    return;
  /* Optional: a quote made elsewhere, in hex, announced instead of ours. */
  quote_hex = json_object_get_string_member_with_default (body, "quote", NULL);
  if (quote_hex != NULL
      && (quote = mero_tee_quote_from_hex (quote_hex, MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES,
                                           &error)) == NULL)
    {
      reply_gerror (msg, error);
      return;
    }
  if (!mero_contexts_tee_fleet_join (
          server->contexts, json_object_get_string_member_with_default (body, "context_id", ""),
          json_object_get_string_member_with_default (body, "group_id", ""),
          json_object_get_string_member_with_default (body, "application", "kv"),
          json_object_get_string_member_with_default (body, "address", ""), quote, &error))
    {
      reply_gerror (msg, error);
      return;
    }
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}
