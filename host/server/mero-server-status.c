/* mero-server-status.c: GET /admin-api/ready, /admin-api/identity and
 * /admin-api/network/status.
 *
 *   ready            {"ready":true} once the node said it is started;
 *                    503 {"error":{"code":"not-ready"}} before (and the
 *                    early handler answers 503 "stopping" while it stops)
 *   identity         {"peer_id","public_key" (hex Ed25519),"listen_addresses"}
 *   network/status   {"enabled","listen_addresses","connected_peers",
 *                     "contexts"} */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-private.h"

void
mero_server_handle_ready (MeroServer *server, SoupServerMessage *msg, const char *const *args)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  if (!server->ready)
    {
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not-ready",
                               "the node is still starting");
      return;
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ready");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

static void
add_listen_addresses (MeroServer *server, JsonBuilder *builder)
{
  json_builder_set_member_name (builder, "listen_addresses");
  json_builder_begin_array (builder);
  for (gsize i = 0; server->p2p_addresses[i] != NULL; i++)
    json_builder_add_string_value (builder, server->p2p_addresses[i]);
  json_builder_end_array (builder);
}

void
mero_server_handle_identity (MeroServer *server, SoupServerMessage *msg,
                             const char *const *args)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, server->peer_id);
  json_builder_set_member_name (builder, "public_key");
  json_builder_add_string_value (builder, server->public_key_hex);
  add_listen_addresses (server, builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

void
mero_server_handle_network_status (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) peers = NULL;

  if (server->network != NULL)
    peers = mero_network_list_peers (server->network);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "enabled");
  json_builder_add_boolean_value (builder, server->network != NULL);
  add_listen_addresses (server, builder);
  json_builder_set_member_name (builder, "connected_peers");
  json_builder_add_int_value (builder, peers != NULL ? peers->len : 0);
  json_builder_set_member_name (builder, "contexts");
  json_builder_add_int_value (builder,
                              server->contexts != NULL ? mero_contexts_count (server->contexts)
                                                       : 0);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}
