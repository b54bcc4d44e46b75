/* mero-node.h: a running node, bootstrapped in dependency order.
 *
 *   home lock → (first run: init) → config → identity → plugins
 *   → store (opened on a worker thread, bound to the identity)
 *   → D-Bus name → libp2p network (if network.enabled; bootstrap peers
 *   dialled) → HTTP server (host/server, if server.enabled) → "ready"
 *
 * A store records the PeerId of the node that created it; a store of
 * another identity is refused rather than mixed with this one.
 * Everything after the plugins is asynchronous so the main loop keeps
 * serving signals while the store opens.  Errors carry their domain:
 * MERO_CONFIG_ERROR means a bad or missing configuration (merod exits 2),
 * anything else a runtime failure (exit 1). */
#pragma once

#include <gio/gio.h>

#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-providers.h"
#include "config/mero-config.h"
#include "node/mero-identity.h"
#include "node/mero-node-events.h"
#include "plugin/mero-plugin-registry.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

/* Identity-column record holding the PeerId multihash of the node that
 * created the store (see mero_node_start_async). */
#define MERO_STORE_PEER_ID_KEY "peer-id"

typedef struct _MeroNode MeroNode;

typedef struct {
  const char *home;            /* NULL = mero_config_default_home () */
  /* A missing or empty home is initialised (what the default home gets on
   * its first run); otherwise it is refused with a MERO_CONFIG_ERROR that
   * says to run `merod init --home DIR` first. */
  gboolean init_if_fresh;
  gboolean bus_set;            /* TRUE: @bus overrides [dbus] bus */
  MeroConfigBus bus;
} MeroNodeOptions;

MeroNode *mero_node_new (const MeroNodeOptions *options);
/* Stops the node if it is still running (see mero_node_stop); NULL-safe. */
void mero_node_free (MeroNode *node);

void mero_node_start_async (MeroNode *node, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data);
gboolean mero_node_start_finish (MeroNode *node, GAsyncResult *result, GError **error);

/* Stops the HTTP server (event streams closed), releases the D-Bus name,
 * closes every peer connection and stops the network thread, flushes and closes the store, drops the lock.
 * Safe to call on a node whose start failed or is still pending. */
gboolean mero_node_stop (MeroNode *node, GError **error);

const char *mero_node_get_home (MeroNode *node);
/* NULL before the identity is loaded. */
const MeroIdentity *mero_node_get_identity (MeroNode *node);
const MeroConfig *mero_node_get_config (MeroNode *node);
MeroPluginRegistry *mero_node_get_registry (MeroNode *node);
MeroStore *mero_node_get_store (MeroNode *node);
/* (transfer none) the BlobManager; NULL before the store is open. */
MeroBlobManager *mero_node_get_blobs (MeroNode *node);
/* (transfer none) who holds which blob; NULL until the contexts opened.
 * mero_blob_providers_lookup with it is the provider lookup of blob
 * fetches, mero_blob_providers_announce what a completed fetch calls. */
MeroBlobProviders *mero_node_get_blob_providers (MeroNode *node);
/* (transfer none) the event bus subsystems publish to; lives as long as
 * the node. */
MeroNodeEvents *mero_node_get_events (MeroNode *node);
/* (transfer none) NULL-terminated URLs of the HTTP server; empty when it
 * is disabled or not started. */
const char *const *mero_node_get_http_urls (MeroNode *node);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNode, mero_node_free)

G_END_DECLS
