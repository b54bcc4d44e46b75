/* test-mdns-dial.c: the node's dial policy for peers found by mDNS
 * (host/node/mero-node-discovery.h), with integer time. */
#include "node/mero-node-discovery.h"

#define SEC ((gint64) G_USEC_PER_SEC)
#define T0 (1000 * SEC)

static const char *const addrs[] = { "/ip4/10.0.0.9/tcp/1/p2p/P", "/ip4/127.0.0.1/tcp/2/p2p/P",
                                     NULL };

static void
test_backoff_and_rotation (void)
{
  g_autoptr (MeroNodeDiscovery) d = mero_node_discovery_new ();

  /* First discovery: dial the first address. */
  g_assert_cmpstr (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0), ==, addrs[0]);
  /* Found again at once (another response): not again within 1 s. */
  g_assert_null (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + SEC - 1));
  /* Then the next address, and the back-off doubles: 2 s, 4 s, ... */
  g_assert_cmpstr (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + SEC), ==, addrs[1]);
  g_assert_null (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + 3 * SEC - 1));
  g_assert_cmpstr (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + 3 * SEC), ==, addrs[0]);
  g_assert_null (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + 7 * SEC - 1));
  /* The back-off stops growing at 5 min. */
  {
    gint64 t = T0 + 7 * SEC;

    for (guint i = 0; i < 20; i++)
      {
        g_assert_nonnull (mero_node_discovery_next_dial (d, "P", addrs, FALSE, t));
        t += MERO_NODE_DISCOVERY_BACKOFF_MAX_US;
      }
  }
  /* Connected: nothing to dial, and the back-off is forgotten. */
  g_assert_null (mero_node_discovery_next_dial (d, "P", addrs, TRUE, T0 + 9999 * SEC));
  g_assert_cmpstr (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + 9999 * SEC), ==,
                   addrs[0]);
  mero_node_discovery_connected (d, "P");
  g_assert_cmpstr (mero_node_discovery_next_dial (d, "P", addrs, FALSE, T0 + 9999 * SEC), ==,
                   addrs[0]);
}

static void
test_table_bounded (void)
{
  g_autoptr (MeroNodeDiscovery) d = mero_node_discovery_new ();

  for (guint i = 0; i < MERO_NODE_DISCOVERY_MAX_PEERS + 3; i++)
    {
      g_autofree char *peer = g_strdup_printf ("peer%u", i);
      const char *got = mero_node_discovery_next_dial (d, peer, addrs, FALSE, T0);

      if (i < MERO_NODE_DISCOVERY_MAX_PEERS)
        g_assert_nonnull (got);
      else
        g_assert_null (got);
    }
  g_assert_cmpuint (mero_node_discovery_get_dropped (d), ==, 3);
  /* Once back-offs ran out, slots are reused. */
  g_assert_nonnull (mero_node_discovery_next_dial (d, "late", addrs, FALSE, T0 + SEC));
  g_assert_cmpuint (mero_node_discovery_get_dropped (d), ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mdns-dial/backoff-and-rotation", test_backoff_and_rotation);
  g_test_add_func ("/mdns-dial/table-bounded", test_table_bounded);
  return g_test_run ();
}
