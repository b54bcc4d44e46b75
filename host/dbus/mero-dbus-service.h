/* mero-dbus-service.h: the node on D-Bus.
 *
 * Exports network.calimero.Node1 (data/dbus/network.calimero.Node1.xml,
 * code from gdbus-codegen) at /network/calimero/Node1 and owns the
 * well-known name network.calimero.Node1 without queueing: a second node
 * on the same bus is refused instead of waiting for the name.  Later
 * interfaces (contexts, blobs, …) are exported on the same connection
 * through mero_dbus_service_get_connection(). */
#pragma once

#include <gio/gio.h>

#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-providers.h"
#include "net/transport/mero-network.h"
#include "node/mero-contexts.h"
#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

#define MERO_DBUS_NAME "network.calimero.Node1"
#define MERO_DBUS_PATH "/network/calimero/Node1"
/* AddBlobs: file descriptors per call (dbus-daemon's default
 * max_message_unix_fds). */
#define MERO_DBUS_ADD_BLOBS_MAX 16u

#define MERO_DBUS_SERVICE_ERROR (mero_dbus_service_error_quark ())
GQuark mero_dbus_service_error_quark (void);

typedef enum {
  MERO_DBUS_SERVICE_ERROR_NAME_TAKEN = 1,
  MERO_DBUS_SERVICE_ERROR_BUS = 2,
} MeroDBusServiceError;

typedef struct _MeroDBusService MeroDBusService;

/* @registry is borrowed and must outlive the service. */
MeroDBusService *mero_dbus_service_new (GBusType bus_type, const char *peer_id,
                                        const char *version, const char *home_dir,
                                        MeroPluginRegistry *registry);
/* Connects, exports and requests the name; completes once the name is
 * ours (or refused).  Never blocks the main loop. */
void mero_dbus_service_start_async (MeroDBusService *service, GCancellable *cancellable,
                                    GAsyncReadyCallback callback, gpointer user_data);
gboolean mero_dbus_service_start_finish (MeroDBusService *service, GAsyncResult *result,
                                         GError **error);
/* Sets the HttpAddress property (emits PropertiesChanged once exported). */
void mero_dbus_service_set_http_address (MeroDBusService *service, const char *url);
/* The network ListPeers reads (borrowed; NULL: no peers) and the
 * ListenAddresses property (NULL: empty). */
void mero_dbus_service_set_network (MeroDBusService *service, MeroNetwork *network,
                                    const char *const *listen_addrs);
/* Emits PeerConnected / PeerDisconnected once the service is exported;
 * @detail is the address or the reason. */
void mero_dbus_service_emit_peer (MeroDBusService *service, const char *peer_id,
                                  gboolean connected, const char *detail);
/* The well-known name to own (dbus.name; default MERO_DBUS_NAME), so
 * several nodes can share one bus.  Before start only. */
void mero_dbus_service_set_name (MeroDBusService *service, const char *name);
/* Serves the contexts methods (CreateContext … SyncContext, ListGroups)
 * from @contexts (borrowed; NULL: they answer “not ready”);
 * SkipNextBroadcasts only with @test_hooks ([debug] test_hooks). */
void mero_dbus_service_set_contexts (MeroDBusService *service, MeroContexts *contexts,
                                    gboolean test_hooks);
/* Serves the blob methods (AddBlob … GetBlobInfo) from @blobs (borrowed;
 * NULL: they answer NotEnabled). */
void mero_dbus_service_set_blobs (MeroDBusService *service, MeroBlobManager *blobs);
/* Blob providers (borrowed, nullable): FindBlobProviders, and AddBlob
 * with "context" announces through them. */
void mero_dbus_service_set_blob_providers (MeroDBusService *service,
                                           MeroBlobProviders *providers);
struct _MeroBlobNet;
/* FetchBlob goes to @net (borrowed; NULL unsets), which the node creates
 * with its contexts. */
void mero_dbus_service_set_blob_net (MeroDBusService *service, struct _MeroBlobNet *net);
/* BlobFetchProgress. */
void mero_dbus_service_emit_blob_fetch_progress (MeroDBusService *service, const char *blob_id,
                                                 guint64 done, guint64 total, guint providers);
/* Emits StateChanged once exported. */
void mero_dbus_service_emit_state_changed (MeroDBusService *service, const char *context_id,
                                          const char *root_hash, const char *const *heads);
/* NULL until started. */
GDBusConnection *mero_dbus_service_get_connection (MeroDBusService *service);
/* Releases the name, unexports and drops the connection; NULL-safe. */
void mero_dbus_service_free (MeroDBusService *service);

/* (transfer floating) a(ssas) of @network's connected peers (NULL:
 * empty), sorted by peer id. */
GVariant *mero_dbus_service_peers_to_variant (MeroNetwork *network);
/* a{sd}: peer id → gossipsub score, for the peers the router scores. */
GVariant *mero_dbus_service_peer_scores_to_variant (MeroNetwork *network);
/* (transfer floating) a(sssss) of the registry's plugins. */
GVariant *mero_dbus_service_plugins_to_variant (MeroPluginRegistry *registry);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDBusService, mero_dbus_service_free)

G_END_DECLS
