/* ctl-http.c: meroctl info, plugins and peers over the node's admin API
 * (--url), for a node that is not on this machine's bus. */
#include "ctl-commands.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>

#include "mero-build-config.h"

/* Admin API answers are small; a larger one is not from a node. */
#define MAX_HTTP_REPLY_BYTES (4 * 1024 * 1024)

static void
print_peer_row (const char *peer_id, const char *address, const char *score,
                const char *protocols)
{
  g_print ("%-52s %-28s %8s %s\n", peer_id, address, score, protocols);
}

/* The peer's gossip_score with one decimal, "-" while it has none. */
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

/* GET @path of the node at @url; the parsed JSON object or NULL with a
 * message printed. */
static JsonObject *
http_get_object (const char *url, const char *token, const char *path, JsonParser *parser)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", CTL_CALL_TIMEOUT_MS / 1000, "user-agent", "meroctl/" MERO_VERSION, NULL);
  g_autofree char *full = g_strconcat (url, g_str_has_suffix (url, "/") ? path + 1 : path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", full);
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  JsonNode *root;
  guint status;

  if (msg == NULL)
    {
      g_printerr (_("meroctl: invalid URL “%s”\n"), url);
      return NULL;
    }
  if (token != NULL && token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  body = soup_session_send_and_read (session, msg, NULL, &error);
  if (body == NULL)
    {
      g_printerr (_("meroctl: no node answers at %s: %s\n"), url, error->message);
      return NULL;
    }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      g_printerr (_("meroctl: the node at %s refused the request: pass its token with --token "
                    "or %s (the token is in http.token in the node's home)\n"),
                  url, MERO_TOKEN_ENV);
      return NULL;
    }
  if (status != SOUP_STATUS_OK || g_bytes_get_size (body) > MAX_HTTP_REPLY_BYTES
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      g_bytes_get_size (body), NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_printerr (_("meroctl: unexpected answer from %s (HTTP %u)\n"), full, status);
      return NULL;
    }
  return json_node_get_object (root);
}

static const char *
member_string (JsonObject *object, const char *name)
{
  const char *value = json_object_get_string_member_with_default (object, name, "");

  return value != NULL ? value : "";
}

static int
command_info_http (const char *url, const char *token, const CtlOptions *options)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *info = http_get_object (url, token, "/admin-api/node", parser);

  if (info == NULL)
    return CTL_EXIT_FAILED;
  if (options->json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      /* The keys and order of the D-Bus mode's output. */
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "peer_id");
      json_builder_add_string_value (builder, member_string (info, "peer_id"));
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, member_string (info, "version"));
      json_builder_set_member_name (builder, "home");
      json_builder_add_string_value (builder, member_string (info, "home"));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      ctl_print_json_node (root);
      return CTL_EXIT_OK;
    }
  g_print ("%s: %s\n", _("PeerId"), member_string (info, "peer_id"));
  g_print ("%s: %s\n", _("Version"), member_string (info, "version"));
  g_print ("%s: %s\n", _("Home"), member_string (info, "home"));
  return 0;
}

static int
command_plugins_http (const char *url, const char *token, const CtlOptions *options)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *reply = http_get_object (url, token, "/admin-api/plugins", parser);
  JsonArray *plugins;
  JsonNode *member;

  if (reply == NULL)
    return CTL_EXIT_FAILED;
  member = json_object_get_member (reply, "plugins");
  plugins = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
  if (options->json)
    {
      GVariantBuilder builder;
      g_autoptr (GVariant) list = NULL;

      /* ListPlugins' shape: (name, kind, version, file, status). */
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssss)"));
      for (guint i = 0; plugins != NULL && i < json_array_get_length (plugins); i++)
        {
          JsonNode *node = json_array_get_element (plugins, i);
          JsonObject *plugin;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          plugin = json_node_get_object (node);
          g_variant_builder_add (&builder, "(sssss)", member_string (plugin, "name"),
                                 member_string (plugin, "kind"), member_string (plugin, "version"),
                                 member_string (plugin, "file"), member_string (plugin, "status"));
        }
      list = g_variant_ref_sink (g_variant_builder_end (&builder));
      ctl_print_json_variant (list);
      return CTL_EXIT_OK;
    }
  if (plugins == NULL || json_array_get_length (plugins) == 0)
    {
      g_print ("%s\n", _("(none)"));
      return CTL_EXIT_OK;
    }
  g_print ("%-20s %-16s %-10s %-9s %s\n", _("NAME"), _("KIND"), _("VERSION"), _("STATUS"),
           _("FILE"));
  for (guint i = 0; plugins != NULL && i < json_array_get_length (plugins); i++)
    {
      JsonNode *node = json_array_get_element (plugins, i);
      JsonObject *plugin;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      plugin = json_node_get_object (node);
      g_print ("%-20s %-16s %-10s %-9s %s\n", member_string (plugin, "name"),
               member_string (plugin, "kind"), member_string (plugin, "version"),
               member_string (plugin, "status"), member_string (plugin, "file"));
    }
  return 0;
}

static int
command_peers_http (const char *url, const char *token, const CtlOptions *options)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *reply = http_get_object (url, token, "/admin-api/peers", parser);
  JsonNode *member;
  JsonArray *listen;
  JsonArray *peers;

  if (reply == NULL)
    return CTL_EXIT_FAILED;
  member = json_object_get_member (reply, "peers");
  peers = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
  if (options->json)
    {
      GVariantBuilder builder;
      g_autoptr (GVariant) list = NULL;

      /* ListPeers' shape: (peer_id, address, protocols). */
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssas)"));
      for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
        {
          JsonNode *node = json_array_get_element (peers, i);
          GVariantBuilder protocols;
          JsonArray *list_of;
          JsonObject *peer;

          if (!JSON_NODE_HOLDS_OBJECT (node))
            continue;
          peer = json_node_get_object (node);
          g_variant_builder_init (&protocols, G_VARIANT_TYPE_STRING_ARRAY);
          member = json_object_get_member (peer, "protocols");
          list_of = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member)
                                                                     : NULL;
          for (guint j = 0; list_of != NULL && j < json_array_get_length (list_of); j++)
            {
              const char *protocol = json_array_get_string_element (list_of, j);

              if (protocol != NULL)
                g_variant_builder_add (&protocols, "s", protocol);
            }
          g_variant_builder_add (&builder, "(ssas)", member_string (peer, "peer_id"),
                                 member_string (peer, "address"), &protocols);
        }
      list = g_variant_ref_sink (g_variant_builder_end (&builder));
      ctl_print_json_variant (list);
      return CTL_EXIT_OK;
    }
  member = json_object_get_member (reply, "listen_addresses");
  listen = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
  for (guint i = 0; listen != NULL && i < json_array_get_length (listen); i++)
    {
      JsonNode *node = json_array_get_element (listen, i);

      if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
        g_print ("%s: %s\n", _("Listening on"), json_node_get_string (node));
    }
  member = json_object_get_member (reply, "peers");
  peers = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
  if (peers == NULL || json_array_get_length (peers) == 0)
    {
      g_print ("%s\n", _("(none)"));
      return CTL_EXIT_OK;
    }
  print_peer_row (_("PEER ID"), _("ADDRESS"), _("SCORE"), _("PROTOCOLS"));
  for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
    {
      JsonNode *node = json_array_get_element (peers, i);
      g_autoptr (GString) protocols = g_string_new (NULL);
      g_autofree char *score = NULL;
      JsonObject *peer;
      JsonArray *list;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        continue;
      peer = json_node_get_object (node);
      member = json_object_get_member (peer, "protocols");
      list = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member)
                                                              : NULL;
      for (guint j = 0; list != NULL && j < json_array_get_length (list); j++)
        {
          JsonNode *item = json_array_get_element (list, j);

          if (!JSON_NODE_HOLDS_VALUE (item) || json_node_get_value_type (item) != G_TYPE_STRING)
            continue;
          if (protocols->len > 0)
            g_string_append_c (protocols, ' ');
          g_string_append (protocols, json_node_get_string (item));
        }
      score = score_text (peer);
      print_peer_row (member_string (peer, "peer_id"), member_string (peer, "address"), score,
                      protocols->str);
    }
  return 0;
}

int
ctl_http_run (const char *command, const char *url, const char *token,
              const CtlOptions *options)
{
  if (g_str_equal (command, "info"))
    return command_info_http (url, token, options);
  if (g_str_equal (command, "peers"))
    return command_peers_http (url, token, options);
  return command_plugins_http (url, token, options);
}
