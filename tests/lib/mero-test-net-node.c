/* mero-test-net-node.c: an in-process network node for the benchmarks. */
#include "mero-test-net-node.h"

#include <string.h>

#include "net/mero-peer-id.h"

void
mero_test_net_node_start (MeroTestNetNode *node, guint8 seed_byte, const char *topic,
                          MeroNetEventFunc on_event, gpointer user_data)
{
  guint8 seed[MERO_ED25519_SEED_LEN];
  const char *listen[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr (GError) error = NULL;

  memset (seed, seed_byte, sizeof seed);
  node->identity = mero_identity_new_from_seed (seed);
  node->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  node->metrics = mero_metrics_new ();
  config.listen_addrs = listen;
  config.metrics = node->metrics;
  node->net = mero_network_new (&config, node->identity);
  if (!mero_network_start (node->net, g_main_context_default (), on_event, user_data, &error))
    g_error ("starting a network: %s", error->message);
  node->addrs = mero_network_get_listen_addrs (node->net);
  if (!mero_network_subscribe (node->net, topic, &error))
    g_error ("subscribe: %s", error->message);
}

void
mero_test_net_node_stop (MeroTestNetNode *node)
{
  g_clear_pointer (&node->net, mero_network_free);
  g_clear_pointer (&node->identity, mero_identity_free);
  g_clear_pointer (&node->addrs, g_strfreev);
  g_clear_pointer (&node->peer_id, g_free);
  g_clear_pointer (&node->metrics, mero_metrics_unref);
}
