/* mero-server-private.h: what the handler files of host/server share. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "node/mero-contexts.h"
#include "server/mero-server.h"

G_BEGIN_DECLS

#define MERO_HTTP_REQUESTS_NAME "mero_http_requests_total"
#define MERO_HTTP_AUTH_REJECTED_NAME "mero_http_auth_rejected_total"
#define MERO_HTTP_SSE_CLIENTS_NAME "mero_http_sse_clients"
#define MERO_HTTP_SSE_DISCONNECTS_NAME "mero_http_sse_disconnects_total"
#define MERO_HTTP_ACCEPT_ERRORS_NAME "mero_http_accept_errors_total"
#define MERO_HTTP_HEADERS_TIMEOUTS_NAME "mero_http_headers_timeouts_total"
#define MERO_HTTP_WS_CLIENTS_NAME "mero_http_ws_clients"
#define MERO_HTTP_WS_CONNECTIONS_NAME "mero_http_ws_connections_total"
#define MERO_HTTP_WS_DISCONNECTS_NAME "mero_http_ws_disconnects_total"

#define MERO_SERVER_WS_PATH "/ws"

typedef struct _MeroServerSse MeroServerSse;
typedef struct _MeroServerWs MeroServerWs;

/* @args: the "{…}" segments of the route's pattern, unescaped, in order. */
typedef void (*MeroServerHandler) (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args);

typedef struct {
  const char *method;
  const char *pattern;          /* "/admin-api/contexts/{id}" */
  const char *label;            /* path class in metrics */
  MeroServerHandler handler;
} MeroServerRoute;

/* (transfer none) every route of the server, in matching order. */
const MeroServerRoute *mero_server_get_routes (gsize *n_routes);

struct _MeroServer {
  char *listen;
  char *config_file;
  gboolean trust_loopback;
  char *home;
  char *peer_id;
  char *public_key_hex;
  char *version;
  gint64 started_us;
  MeroPluginRegistry *registry;
  MeroNodeEvents *events;
  MeroNetwork *network;         /* nullable */
  MeroContexts *contexts;       /* nullable until set */
  gboolean ready;               /* the node said it is started */
  GStrv p2p_addresses;
  MeroBlobManager *blobs;       /* nullable */
  MeroBlobProviders *providers; /* nullable */
  struct _MeroBlobNet *blob_net; /* nullable */

  char *token;
  char *address_file;
  GPtrArray *urls;              /* char*, NULL-terminated */
  GPtrArray *acceptors;         /* MeroAcceptor*, one per listen address */
  SoupServer *soup;
  MeroServerSse *sse;
  MeroServerWs *ws;
  gboolean stopped;
  GCancellable *alive;          /* cancelled at stop, for requests still waiting */
};

/* Adds 1 to a counter of the default registry and gives it @help (the
 * registry takes help only for existing families). */
void mero_server_count (const char *name, const char *labels, const char *help);

/* (transfer none) (nullable) the socket of @msg's connection (libsoup
 * does not show it for connections it was handed). */
GSocket *mero_server_message_get_socket (SoupServerMessage *msg);

/* (transfer full) lower-case hex of @data. */
char *mero_server_hex (const guint8 *data, gsize len);

/* Replies with @node serialised as JSON (application/json). */
void mero_server_reply_json (SoupServerMessage *msg, guint status, JsonNode *node);
/* Replies {"error":{"code":@code,"message":@message}} with @status. */
void mero_server_reply_error (SoupServerMessage *msg, guint status, const char *code,
                              const char *message);

/* (transfer full) {"peer_id",…} as for GET /admin-api/node and node_info. */
JsonNode *mero_server_node_info (MeroServer *server);

void mero_server_handle_health (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_node (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_plugins (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_peers (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_metrics (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_jsonrpc (MeroServer *server, SoupServerMessage *msg);
/* mero-server-tee.c */
void mero_server_handle_tee_info (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_tee_attest (MeroServer *server, SoupServerMessage *msg);
void mero_server_handle_tee_fleet_join (MeroServer *server, SoupServerMessage *msg);

/* Blobs (mero-server-blobs.c).  An upload is recognised and set up in
 * the early handler (its own body limit, streamed body); begin_upload
 * FALSE: reject with @status, @code, @message (transfer full). */
gboolean mero_server_blobs_is_upload (SoupServerMessage *msg);
gboolean mero_server_blobs_begin_upload (MeroServer *server, SoupServerMessage *msg,
                                         guint *status, const char **code, char **message);
void mero_server_handle_blobs (MeroServer *server, SoupServerMessage *msg, const char *path);
/* Blob providers (mero-server-blob-providers.c): GET
 * /admin-api/blobs/{id}/providers?context_id=…, and the context a PUT
 * names (?context= or ?context_id=): FALSE with a 400 reply when it is
 * not a context id, TRUE with *has = FALSE when none is named. */
void mero_server_handle_blob_providers (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args);
gboolean mero_server_blobs_query_context (SoupServerMessage *msg, gboolean *has,
                                          guint8 context[32]);
/* POST /admin-api/blobs/{id}/fetch {"context_id", "providers"?}. */
void mero_server_handle_blob_fetch (MeroServer *server, SoupServerMessage *msg,
                                    const char *const *args);

/* Node status (mero-server-status.c). */
void mero_server_handle_ready (MeroServer *server, SoupServerMessage *msg,
                               const char *const *args);
void mero_server_handle_identity (MeroServer *server, SoupServerMessage *msg,
                                  const char *const *args);
void mero_server_handle_network_status (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args);

/* Contexts and groups (mero-server-contexts.c). */
void mero_server_handle_contexts_list (MeroServer *server, SoupServerMessage *msg,
                                       const char *const *args);
void mero_server_handle_contexts_create (MeroServer *server, SoupServerMessage *msg,
                                         const char *const *args);
void mero_server_handle_contexts_join (MeroServer *server, SoupServerMessage *msg,
                                       const char *const *args);
void mero_server_handle_context_get (MeroServer *server, SoupServerMessage *msg,
                                     const char *const *args);
void mero_server_handle_context_delete (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args);
void mero_server_handle_context_invite (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args);
void mero_server_handle_context_leave (MeroServer *server, SoupServerMessage *msg,
                                       const char *const *args);
void mero_server_handle_context_sync (MeroServer *server, SoupServerMessage *msg,
                                      const char *const *args);
void mero_server_handle_context_resync (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args);
void mero_server_handle_context_members (MeroServer *server, SoupServerMessage *msg,
                                         const char *const *args);
void mero_server_handle_groups_list (MeroServer *server, SoupServerMessage *msg,
                                     const char *const *args);
void mero_server_handle_group_get (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args);
void mero_server_handle_group_members (MeroServer *server, SoupServerMessage *msg,
                                       const char *const *args);
void mero_server_handle_group_remove_member (MeroServer *server, SoupServerMessage *msg,
                                             const char *const *args);

/* GET /admin-dashboard (mero-server-dashboard.c). */
void mero_server_handle_dashboard (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args);

/* WebSocket (mero-server-ws.c): registers the upgrade handler of /ws. */
MeroServerWs *mero_server_ws_new (MeroServer *server, SoupServer *soup);
/* The route's own handler: refuses what may not upgrade. */
void mero_server_ws_check (MeroServer *server, SoupServerMessage *msg, const char *const *args);
void mero_server_ws_close_all (MeroServerWs *ws);
void mero_server_ws_free (MeroServerWs *ws);

/* JSON bodies (mero-server-json.c). */
/* TRUE if @data nests arrays and objects at most MERO_SERVER_MAX_JSON_DEPTH
 * deep (json-glib parses recursively). */
gboolean mero_server_json_nesting_ok (const char *data, gsize size);
/* (transfer none) the request body of @msg parsed into @parser as an
 * object; an empty body is an empty object.  NULL after replying 400
 * "invalid-json". */
JsonObject *mero_server_read_json_object (SoupServerMessage *msg, JsonParser *parser);
/* Replies the MERO_CONTEXTS_ERROR (after mero_contexts_error_normalize) of
 * @error (taken) with its status and stable code. */
void mero_server_reply_contexts_error (SoupServerMessage *msg, GError *error);
/* The status and stable code of a normalised contexts error. */
guint mero_server_contexts_error_status (const GError *error, const char **code);

/* Event streams (mero-server-sse.c). */
MeroServerSse *mero_server_sse_new (MeroServer *server);
void mero_server_sse_handle (MeroServerSse *sse, SoupServerMessage *msg);
/* Final event, bounded flush, then the remaining sockets are shut down. */
void mero_server_sse_close_all (MeroServerSse *sse);
void mero_server_sse_free (MeroServerSse *sse);

G_END_DECLS
