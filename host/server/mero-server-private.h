/* mero-server-private.h: what the handler files of host/server share. */
#pragma once

#include <json-glib/json-glib.h>
#include <libsoup/soup.h>

#include "server/mero-server.h"

G_BEGIN_DECLS

#define MERO_HTTP_REQUESTS_NAME "mero_http_requests_total"
#define MERO_HTTP_AUTH_REJECTED_NAME "mero_http_auth_rejected_total"
#define MERO_HTTP_SSE_CLIENTS_NAME "mero_http_sse_clients"
#define MERO_HTTP_SSE_DISCONNECTS_NAME "mero_http_sse_disconnects_total"
#define MERO_HTTP_ACCEPT_ERRORS_NAME "mero_http_accept_errors_total"
#define MERO_HTTP_HEADERS_TIMEOUTS_NAME "mero_http_headers_timeouts_total"

typedef struct _MeroServerSse MeroServerSse;

struct _MeroServer {
  char *listen;
  char *config_file;
  gboolean trust_loopback;
  char *home;
  char *peer_id;
  char *version;
  gint64 started_us;
  MeroPluginRegistry *registry;
  MeroNodeEvents *events;
  MeroNetwork *network;         /* nullable */
  GStrv p2p_addresses;
  MeroBlobManager *blobs;       /* nullable */
  struct _MeroContexts *contexts;   /* nullable */

  char *token;
  char *address_file;
  GPtrArray *urls;              /* char*, NULL-terminated */
  GPtrArray *acceptors;         /* MeroAcceptor*, one per listen address */
  SoupServer *soup;
  MeroServerSse *sse;
  gboolean stopped;
};

/* Adds 1 to a counter of the default registry and gives it @help (the
 * registry takes help only for existing families). */
void mero_server_count (const char *name, const char *labels, const char *help);

/* (transfer none) (nullable) the socket of @msg's connection (libsoup
 * does not show it for connections it was handed). */
GSocket *mero_server_message_get_socket (SoupServerMessage *msg);

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

/* Event streams (mero-server-sse.c). */
MeroServerSse *mero_server_sse_new (MeroServer *server);
void mero_server_sse_handle (MeroServerSse *sse, SoupServerMessage *msg);
/* Final event, bounded flush, then the remaining sockets are shut down. */
void mero_server_sse_close_all (MeroServerSse *sse);
void mero_server_sse_free (MeroServerSse *sse);

G_END_DECLS
