/* mero-test-cluster.h: several real merod processes on one private D-Bus
 * bus, each owning its own well-known name (merod's dbus.name), for the
 * multi-node integration tests and benchmarks.
 *
 * Nodes listen on 127.0.0.1 with kernel-chosen ports (HTTP and libp2p),
 * mDNS off, test hooks on.  Every StateChanged signal on the bus is
 * recorded per node and context (last root, when it arrived, how many),
 * so a test can wait for convergence without polling the nodes.  Every
 * wait is bounded. */
#pragma once

#include <gio/gio.h>

#include "mero-test-daemon.h"

G_BEGIN_DECLS

#define MERO_TEST_CLUSTER_MAX_NODES 8

typedef struct {
  char *label;        /* "a", "b", … */
  char *home;
  char *bus_name;     /* network.calimero.Test.<label>.<pid> */
  char *peer_id;
  char *unique_name;  /* the name's owner while running, else NULL */
  MeroTestDaemon *daemon;
  GPid pid;           /* while running, else 0 */
  guint index;
} MeroTestNode;

typedef struct _MeroTestCluster MeroTestCluster;

/* Called for every StateChanged of a cluster node, at arrival
 * (@time_us: monotonic). */
typedef void (*MeroTestStateChangedFunc) (MeroTestNode *node, const char *context_id,
                                          const char *root_hash, gint64 time_us,
                                          gpointer user_data);

/* Brings up the private bus (its address becomes DBUS_SESSION_BUS_ADDRESS
 * for merod and meroctl) and a temporary directory. */
MeroTestCluster *mero_test_cluster_new (void);
/* Stops running nodes (SIGTERM, then kill), the bus, removes the tree. */
void mero_test_cluster_free (MeroTestCluster *cluster);
GDBusConnection *mero_test_cluster_get_connection (MeroTestCluster *cluster);
void mero_test_cluster_set_state_changed_func (MeroTestCluster *cluster,
                                               MeroTestStateChangedFunc func,
                                               gpointer user_data);

/* Whether nodes started from now on log at debug level (the default:
 * TRUE, so a failing test shows what each node did).  A benchmark turns
 * it off: logging costs time, and a node that logs faster than this
 * process reads its pipe blocks while a synchronous call waits for it. */
void mero_test_cluster_set_verbose (MeroTestCluster *cluster, gboolean verbose);

/* `merod init` of a new home @label and the loopback configuration;
 * @heartbeat_secs: sync.heartbeat_interval_secs (0: the default). */
MeroTestNode *mero_test_cluster_add_node (MeroTestCluster *cluster, const char *label,
                                          guint heartbeat_secs);
void mero_test_node_config_set (MeroTestNode *node, const char *key, const char *value);
/* Runs merod and waits for its ready line and its bus name. */
void mero_test_node_start (MeroTestCluster *cluster, MeroTestNode *node);
/* SIGTERM and a clean exit (status 0) within the timeout. */
void mero_test_node_stop (MeroTestCluster *cluster, MeroTestNode *node);

/* Writes every running node's output so far to stderr, under its label:
 * what a failing test shows before it aborts. */
void mero_test_cluster_dump_logs (MeroTestCluster *cluster);

/* A method of network.calimero.Node1 on @node; NULL with @error set on
 * failure. */
GVariant *mero_test_node_call (MeroTestCluster *cluster, MeroTestNode *node,
                               const char *method, GVariant *parameters,
                               const GVariantType *reply_type, GError **error);
/* Call(@context_id, @method, @args_json): the JSON result or NULL. */
char *mero_test_node_kv (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
                         const char *method, const char *args_json, GError **error);
/* kv set {"key": @key, "value": @value_json}, asserted to succeed. */
void mero_test_node_kv_set (MeroTestCluster *cluster, MeroTestNode *node,
                            const char *context_id, const char *key, const char *value_json);
/* @count kv sets {"key": "<@prefix><i, 5 digits>", "value": i} on @node,
 * a window of them in flight (each its own delta, broadcast as usual);
 * asserted to all succeed within @timeout_ms. */
void mero_test_node_kv_fill (MeroTestCluster *cluster, MeroTestNode *node,
                             const char *context_id, const char *prefix, guint count,
                             guint timeout_ms);
/* GetContextInfo, asserted to succeed (a{sv}). */
GVariant *mero_test_node_info (MeroTestCluster *cluster, MeroTestNode *node,
                               const char *context_id);
/* "root_hash" of GetContextInfo. */
char *mero_test_node_root (MeroTestCluster *cluster, MeroTestNode *node,
                           const char *context_id);
/* The last StateChanged root of @node for @context_id (NULL: none yet),
 * when it arrived and how many have arrived. */
const char *mero_test_node_last_root (MeroTestCluster *cluster, MeroTestNode *node,
                                      const char *context_id, gint64 *time_us, guint *count);

/* The value of the metric line that starts with @series (name and
 * labels exactly as /metrics prints them, e.g.
 * "mero_node_stream_requests_total{protocol=\"…\",result=\"ok\"}") in
 * @node's GET /metrics; 0 when absent. */
guint64 mero_test_node_metric (MeroTestCluster *cluster, MeroTestNode *node,
                               const char *series);

/* (transfer full) @node's first listen multiaddr (ends in /p2p/<PeerId>),
 * read from its ListenAddresses property. */
char *mero_test_node_listen_address (MeroTestCluster *cluster, MeroTestNode *node);

/* Runs meroctl --name <node's name> @args… within the timeout and
 * returns its exit status. */
int mero_test_node_meroctl (MeroTestNode *node, const char *const *args, char **out,
                            char **err);

/* @creator creates a kv context and invites every node of @joiners (NULL
 * terminated; each invitation bound to the joiner's PeerId) which joins;
 * returns once every member lists every other as a member.  (transfer
 * full) the context id. */
char *mero_test_cluster_share_context (MeroTestCluster *cluster, MeroTestNode *creator,
                                       MeroTestNode *const *joiners);
/* The invitation and join part of mero_test_cluster_share_context, for
 * a context @creator made (and filled) before. */
void mero_test_cluster_join_context (MeroTestCluster *cluster, MeroTestNode *creator,
                                     const char *context_id, MeroTestNode *const *joiners);
/* Waits until every node of @nodes (NULL terminated) has the same
 * non-empty root for @context_id, by GetContextInfo; returns it (transfer
 * full) or NULL on timeout. */
char *mero_test_cluster_wait_converged (MeroTestCluster *cluster, MeroTestNode *const *nodes,
                                        const char *context_id, guint timeout_ms);

G_END_DECLS
