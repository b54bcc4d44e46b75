/* mero-peers-report.c: `merod peers` over the node's admin API. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-peers-report.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "mero-build-config.h"
#include "server/mero-server-token.h"
#include "server/mero-server.h"

/* The first URL of <home>/http.address, or NULL with an error saying no
 * node runs there. */
static char *
read_node_url (const char *home, GError **error)
{
  g_autofree char *path = g_build_filename (home, MERO_SERVER_ADDRESS_FILE_NAME, NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   _("No node is running in %s (no %s; a node with server.enabled=false "
                     "answers only on D-Bus: use meroctl peers)"),
                   home, path);
      return NULL;
    }
  lines = g_strsplit (contents, "\n", 2);
  g_strstrip (lines[0]);
  if (lines[0][0] == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, _("%s is empty"), path);
      return NULL;
    }
  return g_strdup (lines[0]);
}

static char *
read_token (const char *home)
{
  g_autofree char *path = g_build_filename (home, MERO_SERVER_TOKEN_FILE_NAME, NULL);
  char *token = NULL;

  if (!g_file_get_contents (path, &token, NULL, NULL))
    return NULL;
  return g_strstrip (token);
}

static JsonObject *
fetch_peers (const char *home, const char *url, JsonParser *parser, GError **error)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", MERO_PEERS_REPORT_TIMEOUT_SECS, "user-agent", "merod/" MERO_VERSION, NULL);
  g_autofree char *full = g_strconcat (url, "/admin-api/peers", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", full);
  g_autofree char *token = read_token (home);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) local_error = NULL;
  JsonNode *root;
  guint status;

  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("Invalid address “%s” in the home's http.address"), url);
      return NULL;
    }
  if (token != NULL && token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  body = soup_session_send_and_read (session, msg, NULL, &local_error);
  if (body == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   _("No node is running in %s: nobody answers at %s (%s)"), home, url,
                   local_error->message);
      return NULL;
    }
  status = soup_message_get_status (msg);
  if (status != SOUP_STATUS_OK || g_bytes_get_size (body) > MERO_PEERS_REPORT_MAX_BYTES
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      g_bytes_get_size (body), NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("Unexpected answer from %s (HTTP %u)"), full, status);
      return NULL;
    }
  return json_node_get_object (root);
}

static const char *
string_member (JsonObject *object, const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

/* The strings of @object.@name joined by @separator. */
static char *
join_strings (JsonObject *object, const char *name, const char *separator)
{
  JsonNode *member = json_object_get_member (object, name);
  JsonArray *array = member != NULL && JSON_NODE_HOLDS_ARRAY (member)
                         ? json_node_get_array (member) : NULL;
  GString *out = g_string_new (NULL);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      JsonNode *item = json_array_get_element (array, i);

      if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
        continue;
      if (out->len > 0)
        g_string_append (out, separator);
      g_string_append (out, json_node_get_string (item));
    }
  return g_string_free (out, FALSE);
}

/* The peer's gossip score with one decimal, or "-" before it has one. */
static char *
score_text (JsonObject *peer)
{
  JsonNode *node = json_object_get_member (peer, "gossip_score");

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      (json_node_get_value_type (node) != G_TYPE_DOUBLE &&
       json_node_get_value_type (node) != G_TYPE_INT64))
    return g_strdup ("-");
  return g_strdup_printf ("%.1f", json_node_get_double (node));
}

gboolean
mero_peers_report_print (const char *home, GError **error)
{
  g_autofree char *url = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *reply;
  JsonNode *member;
  JsonArray *peers;
  g_autofree char *listen = NULL;

  g_return_val_if_fail (home != NULL, FALSE);

  url = read_node_url (home, error);
  if (url == NULL)
    return FALSE;
  reply = fetch_peers (home, url, parser, error);
  if (reply == NULL)
    return FALSE;
  listen = join_strings (reply, "listen_addresses", "\n  ");
  g_print ("%s:\n  %s\n", _("Listening on"), listen[0] != '\0' ? listen : _("(network off)"));
  member = json_object_get_member (reply, "peers");
  peers = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
  g_print ("%-52s %-28s %8s %s\n", _("PEER ID"), _("ADDRESS"), _("SCORE"), _("PROTOCOLS"));
  for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
    {
      JsonNode *node = json_array_get_element (peers, i);
      g_autofree char *protocols = NULL;
      g_autofree char *score = NULL;
      JsonObject *peer;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      peer = json_node_get_object (node);
      protocols = join_strings (peer, "protocols", " ");
      score = score_text (peer);
      g_print ("%-52s %-28s %8s %s\n", string_member (peer, "peer_id"),
               string_member (peer, "address"), score, protocols);
    }
  return TRUE;
}
