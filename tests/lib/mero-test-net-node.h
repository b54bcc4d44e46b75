/* mero-test-net-node.h: one in-process libp2p network on loopback, for
 * the benchmarks that measure gossip without merod (bench-gossip, and
 * bench-node's gossip baseline).
 *
 * A node has a fixed identity from a seed byte (so runs are comparable),
 * its own metrics, listens on 127.0.0.1 with a kernel-chosen port and is
 * subscribed to one topic; events go to the caller's callback. */
#pragma once

#include <glib.h>

#include "metrics/mero-metrics.h"
#include "net/transport/mero-network.h"
#include "node/mero-identity.h"

G_BEGIN_DECLS

typedef struct {
  MeroMetrics *metrics;
  MeroIdentity *identity;
  MeroNetwork *net;
  GStrv addrs;   /* the listen addresses, after start */
  char *peer_id;
} MeroTestNetNode;

/* Starts @node on the default main context, subscribed to @topic; every
 * event goes to @on_event with @user_data.  Aborts the program if the
 * network does not start. */
void mero_test_net_node_start (MeroTestNetNode *node, guint8 seed_byte, const char *topic,
                               MeroNetEventFunc on_event, gpointer user_data);
/* Frees what start made; @node can be started again. */
void mero_test_net_node_stop (MeroTestNetNode *node);

G_END_DECLS
