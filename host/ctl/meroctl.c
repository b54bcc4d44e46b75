/* meroctl.c: client of a running merod, over D-Bus or HTTP.
 *
 *   meroctl [--bus=session|system] info      PeerId, version, home
 *   meroctl [--bus=session|system] plugins   the node's plugins
 *   meroctl [--bus=session|system] peers     connected libp2p peers
 *   meroctl --url URL [--token T] info|plugins|peers   the same over the admin API
 *     (the token also from MERO_TOKEN; needed for a non-loopback node)
 *
 * Exit status: 0 success, 1 no node or a failed call, 2 bad usage. */
#define G_LOG_DOMAIN "meroctl"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <locale.h>

#include "dbus/mero-dbus-node1-generated.h"
#include "dbus/mero-dbus-service.h"
#include "mero-build-config.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
/* A node that does not answer within this is as good as absent. */
#define CALL_TIMEOUT_MS 10000
#define MERO_TOKEN_ENV "MERO_TOKEN"
/* Admin API answers are small; a larger one is not from a node. */
#define MAX_HTTP_REPLY_BYTES (4 * 1024 * 1024)

static int
print_error (const GError *error)
{
  g_printerr ("meroctl: %s\n", error->message);
  return EXIT_FAILED;
}

static int
command_info (MeroDBusNode1 *node)
{
  g_print ("%s: %s\n", _("PeerId"), mero_dbus_node1_get_peer_id (node));
  g_print ("%s: %s\n", _("Version"), mero_dbus_node1_get_version (node));
  g_print ("%s: %s\n", _("Home"), mero_dbus_node1_get_home_dir (node));
  return 0;
}

static int
command_plugins (MeroDBusNode1 *node)
{
  g_autoptr (GVariant) plugins = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *name, *kind, *version, *file, *status;

  if (!mero_dbus_node1_call_list_plugins_sync (node, &plugins, NULL, &error))
    return print_error (error);
  g_print ("%-20s %-16s %-10s %-9s %s\n", _("NAME"), _("KIND"), _("VERSION"), _("STATUS"),
           _("FILE"));
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &name, &kind, &version, &file, &status))
    g_print ("%-20s %-16s %-10s %-9s %s\n", name, kind, version, status, file);
  return 0;
}

static void
print_peer_row (const char *peer_id, const char *address, const char *protocols)
{
  g_print ("%-52s %-28s %s\n", peer_id, address, protocols);
}

static void
print_peer_header (void)
{
  print_peer_row (_("PEER ID"), _("ADDRESS"), _("PROTOCOLS"));
}

static int
command_peers (MeroDBusNode1 *node)
{
  g_autoptr (GVariant) peers = NULL;
  g_autoptr (GError) error = NULL;
  const char *const *listen = mero_dbus_node1_get_listen_addresses (node);
  GVariantIter iter;
  const char *peer_id, *address;
  g_autofree const char **protocols = NULL;

  if (!mero_dbus_node1_call_list_peers_sync (node, &peers, NULL, &error))
    return print_error (error);
  for (gsize i = 0; listen != NULL && listen[i] != NULL; i++)
    g_print ("%s: %s\n", _("Listening on"), listen[i]);
  print_peer_header ();
  g_variant_iter_init (&iter, peers);
  while (g_variant_iter_next (&iter, "(&s&s^a&s)", &peer_id, &address, &protocols))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) protocols);

      print_peer_row (peer_id, address, joined);
      g_clear_pointer (&protocols, g_free);
    }
  return 0;
}

/* GET @path of the node at @url; the parsed JSON object or NULL with a
 * message printed. */
static JsonObject *
http_get_object (const char *url, const char *token, const char *path, JsonParser *parser)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "timeout", CALL_TIMEOUT_MS / 1000, "user-agent", "meroctl/" MERO_VERSION, NULL);
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
command_info_http (const char *url, const char *token)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *info = http_get_object (url, token, "/admin-api/node", parser);

  if (info == NULL)
    return EXIT_FAILED;
  g_print ("%s: %s\n", _("PeerId"), member_string (info, "peer_id"));
  g_print ("%s: %s\n", _("Version"), member_string (info, "version"));
  g_print ("%s: %s\n", _("Home"), member_string (info, "home"));
  return 0;
}

static int
command_plugins_http (const char *url, const char *token)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *reply = http_get_object (url, token, "/admin-api/plugins", parser);
  JsonArray *plugins;
  JsonNode *member;

  if (reply == NULL)
    return EXIT_FAILED;
  member = json_object_get_member (reply, "plugins");
  plugins = member != NULL && JSON_NODE_HOLDS_ARRAY (member) ? json_node_get_array (member) : NULL;
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
command_peers_http (const char *url, const char *token)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *reply = http_get_object (url, token, "/admin-api/peers", parser);
  JsonNode *member;
  JsonArray *listen;
  JsonArray *peers;

  if (reply == NULL)
    return EXIT_FAILED;
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
  print_peer_header ();
  for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
    {
      JsonNode *node = json_array_get_element (peers, i);
      g_autoptr (GString) protocols = g_string_new (NULL);
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
      print_peer_row (member_string (peer, "peer_id"), member_string (peer, "address"),
                      protocols->str);
    }
  return 0;
}

static gboolean
is_command (const char *name)
{
  return g_strcmp0 (name, "info") == 0 || g_strcmp0 (name, "plugins") == 0
         || g_strcmp0 (name, "peers") == 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *bus = NULL;
  g_autofree char *url = NULL;
  g_autofree char *token = NULL;
  const GOptionEntry entries[] = {
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus,
      N_("D-Bus bus of the node: session or system (default: session)"), N_("BUS") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url,
      N_("Talk to the node's HTTP server at URL (e.g. http://127.0.0.1:2528) instead of D-Bus"),
      N_("URL") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      N_("Bearer token for --url (default: $MERO_TOKEN); needed unless the node trusts this "
         "client's loopback address"),
      N_("TOKEN") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDBusNode1) node = NULL;
  g_autofree char *owner = NULL;
  GBusType bus_type = G_BUS_TYPE_SESSION;
  const char *localedir = g_getenv ("MERO_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : MERO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (N_("info | plugins | peers"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Control a running merod node over D-Bus or, with --url, "
                                  "over HTTP."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("meroctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (g_strcmp0 (bus, "system") == 0)
    bus_type = G_BUS_TYPE_SYSTEM;
  else if (bus != NULL && g_strcmp0 (bus, "session") != 0)
    {
      g_printerr (_("meroctl: invalid value “%s” for --bus: expected session or system\n"), bus);
      return EXIT_USAGE;
    }
  if (argc != 2 || !is_command (argv[1]))
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return EXIT_USAGE;
    }

  if (url != NULL)
    {
      const char *effective_token = token != NULL ? token : g_getenv (MERO_TOKEN_ENV);

      if (g_str_equal (argv[1], "info"))
        return command_info_http (url, effective_token);
      if (g_str_equal (argv[1], "peers"))
        return command_peers_http (url, effective_token);
      return command_plugins_http (url, effective_token);
    }

  node = mero_dbus_node1_proxy_new_for_bus_sync (bus_type, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 MERO_DBUS_NAME, MERO_DBUS_PATH, NULL, &error);
  if (node == NULL)
    return print_error (error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (node), CALL_TIMEOUT_MS);
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (node));
  if (owner == NULL)
    {
      g_printerr (_("meroctl: no node is running on the %s bus (nobody owns %s)\n"),
                  bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session", MERO_DBUS_NAME);
      return EXIT_FAILED;
    }
  if (g_str_equal (argv[1], "info"))
    return command_info (node);
  if (g_str_equal (argv[1], "peers"))
    return command_peers (node);
  return command_plugins (node);
}
