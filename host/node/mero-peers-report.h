/* mero-peers-report.h: `merod peers`, the peers of the node running in a
 * home, without meroctl.
 *
 * The running node writes its HTTP addresses to <home>/http.address; the
 * report asks the first of them for GET /admin-api/peers (loopback, so no
 * token is needed unless server.trust_loopback=false, in which case the
 * token is read from <home>/http.token).  No file, or nobody answering
 * there, means no node runs in that home. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A node that does not answer within this is as good as absent. */
#define MERO_PEERS_REPORT_TIMEOUT_SECS 10
/* The reply is bounded by the connection limit; anything larger is not
 * from a node. */
#define MERO_PEERS_REPORT_MAX_BYTES (4 * 1024 * 1024)

/* Prints the listen addresses and one line per connected peer (peer id,
 * address, gossipsub score, protocols) to stdout. */
gboolean mero_peers_report_print (const char *home, GError **error);

G_END_DECLS
