/* mero-server.h: the node's HTTP server (libsoup 3, main loop).
 *
 * Routes: the table in mero-server.c (admin API: node status, contexts,
 * groups, events; /metrics; JSON-RPC 2.0 at /jsonrpc), the same rows as
 * README.md's "HTTP API" table (checked by tests/unit/server).
 *
 * Auth: with trust_loopback, clients on a loopback address (127.0.0.0/8,
 * ::1) are served without a token; every other client must send
 * "Authorization: Bearer <token>" with the token from <home>/http.token
 * (see mero-server-token.h), or gets 401.  The bounds a client can hit
 * are in mero-server-limits.h; every request is counted in
 * mero_http_requests_total{path,status}.
 *
 * Started after the store is open; stopped (no new connections, event
 * streams closed) before the store closes.  The bound addresses are
 * written to <home>/http.address, one URL a line, and removed on stop. */
#pragma once

#include <gio/gio.h>

#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-providers.h"
#include "net/transport/mero-network.h"
#include "node/mero-contexts.h"
#include "node/mero-node-events.h"
#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

#define MERO_SERVER_ADDRESS_FILE_NAME "http.address"

typedef struct {
  const char *listen;            /* server.listen: ADDRESS:PORT items, ";"-separated */
  const char *config_file;       /* named in errors about server.listen */
  gboolean trust_loopback;
  const char *home;
  const char *peer_id;
  const char *version;
  gint64 started_us;             /* g_get_monotonic_time () at node start, for uptime */
  MeroPluginRegistry *registry;  /* borrowed; outlives the server */
  MeroNodeEvents *events;        /* borrowed; outlives the server */
  MeroNetwork *network;          /* borrowed, nullable (network off); outlives the server */
  const char *const *p2p_addresses; /* bound listen multiaddrs with /p2p/; copied; nullable */
  MeroBlobManager *blobs;        /* borrowed, nullable; outlives the server (blob endpoints) */
  struct _MeroBlobNet *blob_net; /* borrowed, nullable: POST /admin-api/blobs/{id}/fetch */
  MeroContexts *contexts;        /* borrowed; outlives the server */
  const guint8 *public_key;      /* 32-byte Ed25519 of the node; copied; nullable */
  /* Blob providers (host/blob/mero-blob-providers.h): borrowed, nullable;
   * outlives the server (GET /admin-api/blobs/{id}/providers, and PUT
   * /admin-api/blobs?context= announces). */
  MeroBlobProviders *providers;
} MeroServerOptions;

typedef struct _MeroServer MeroServer;

/* Copies what it needs from @options except the borrowed pointers. */
MeroServer *mero_server_new (const MeroServerOptions *options);
/* Loads or creates the token, binds every address (port 0: a free one)
 * and writes http.address.  Binding does not block. */
gboolean mero_server_start (MeroServer *server, GError **error);
/* The node is started (GET /admin-api/ready answers 200) or not (503). */
void mero_server_set_ready (MeroServer *server, gboolean ready);
/* (transfer none) NULL-terminated URLs ("http://127.0.0.1:2528") of the
 * bound listeners, in server.listen order; empty before start. */
const char *const *mero_server_get_urls (MeroServer *server);
/* Stops listening, sends event-stream clients a final "shutdown" event
 * and closes them (bounded by MERO_SERVER_SHUTDOWN_FLUSH_MS), removes
 * http.address.  Iterates the thread-default main context.  Idempotent. */
void mero_server_stop (MeroServer *server);
/* Stops first; NULL-safe. */
void mero_server_free (MeroServer *server);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroServer, mero_server_free)

G_END_DECLS
