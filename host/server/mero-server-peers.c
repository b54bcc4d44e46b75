/* mero-server-peers.c: GET /admin-api/peers, the libp2p side of the node.
 *
 *   {"listen_addresses": ["/ip4/…/tcp/2428/p2p/12D3KooW…", …],
 *    "peers": [{"peer_id", "address", "connections", "protocols": […],
 *               "agent_version", "rtt_ms", "gossip_score"}, …]}   sorted by peer_id
 *
 * gossip_score is the peer's gossipsub v1.1 score at the network's last
 * heartbeat (null until the peer joined the router); below -80 (the
 * graylist threshold) its gossip is ignored and it is disconnected.
 *
 * The list is as long as the network's connection limit at most, so the
 * reply is bounded without paging. */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-private.h"

static int
compare_peer_info (gconstpointer a, gconstpointer b)
{
  const MeroNetPeerInfo *pa = *(MeroNetPeerInfo *const *) a;
  const MeroNetPeerInfo *pb = *(MeroNetPeerInfo *const *) b;

  return g_strcmp0 (pa->peer_id, pb->peer_id);
}

static void
add_peer (JsonBuilder *builder, const MeroNetPeerInfo *info)
{
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, info->peer_id != NULL ? info->peer_id : "");
  json_builder_set_member_name (builder, "address");
  json_builder_add_string_value (builder, info->address != NULL ? info->address : "");
  json_builder_set_member_name (builder, "connections");
  json_builder_add_int_value (builder, info->n_connections);
  json_builder_set_member_name (builder, "protocols");
  json_builder_begin_array (builder);
  for (gsize i = 0; info->protocols != NULL && info->protocols[i] != NULL; i++)
    json_builder_add_string_value (builder, info->protocols[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "agent_version");
  if (info->agent_version != NULL)
    json_builder_add_string_value (builder, info->agent_version);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "rtt_ms");
  if (info->rtt_us >= 0)
    json_builder_add_double_value (builder, (double) info->rtt_us / 1000.0);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "gossip_score");
  if (info->has_gossip_score)
    json_builder_add_double_value (builder, info->gossip_score);
  else
    json_builder_add_null_value (builder);
  json_builder_end_object (builder);
}

void
mero_server_handle_peers (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) peers = NULL;

  if (server->network != NULL)
    {
      peers = mero_network_list_peers (server->network);
      g_ptr_array_sort (peers, compare_peer_info);
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "listen_addresses");
  json_builder_begin_array (builder);
  for (gsize i = 0; server->p2p_addresses[i] != NULL; i++)
    json_builder_add_string_value (builder, server->p2p_addresses[i]);
  json_builder_end_array (builder);
  json_builder_set_member_name (builder, "peers");
  json_builder_begin_array (builder);
  for (guint i = 0; peers != NULL && i < peers->len; i++)
    add_peer (builder, g_ptr_array_index (peers, i));
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}
