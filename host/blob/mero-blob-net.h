/* mero-blob-net.h: blobs over the network (/calimero/blob/, the
 * blob-share plugin), both sides, on the main thread.
 *
 * Serving: the NodeClient hands this every inbound /calimero/blob/
 * stream; members of our groups and others draw from separate stream
 * slots (the NodeClient's bounds), and each stream runs one responder
 * session of the plugin, whose requests the host authorises here:
 * Ed25519 signature of the requester's own identity over (blob id,
 * context id, timestamp), timestamp within MERO_BLOB_NET_REQUEST_WINDOW_US
 * of our clock, requester a current member of the context or the blob
 * public to that context (mero_blob_manager_set_public; such requests
 * from non-members are counted in mero_blob_serve_public_total).
 * Refusals are counted in mero_blob_serve_refused_total{reason}.
 *
 * Fetching (mero-blob-fetch.h): a blob not held here is fetched from
 * providers (those the caller names first, then what the provider lookup
 * finds; by default the context's connected members), its chunks
 * verified before they are written, resumed from the chunks already
 * verified.
 *
 * Known limit: the plugin's blob access is synchronous, so reading a
 * served chunk (at most BLOB_SHARE_MAX_RANGE per pump), hashing a
 * received one, and the recheck of a resumed partial run on the main
 * thread; the received chunk's write runs on the partial's writer thread
 * (mero-blob-partial.c) and the final commit on the committer's. */
#pragma once

#include <gio/gio.h>
#include <mero-sdk.h>

#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-provider-lookup.h"
#include "node/mero-contexts.h"
#include "node/mero-identity.h"
#include "node/mero-node-client.h"
#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

#define MERO_BLOB_NET_PREFIX "/calimero/blob/"
#define MERO_BLOB_NET_PROTOCOL "/calimero/blob/1"
/* Streams open to one provider over all fetches at once: a provider
 * serves a peer MERO_NODE_MAX_INBOUND_PER_PEER (8) and resets more as
 * busy, so further sessions wait here instead. */
#define MERO_BLOB_NET_STREAMS_PER_PEER 6
/* A fetch's first request (the probe for size and chunk hashes) asks for
 * the blob along with them when it is at most this many chunks and
 * nothing is there to resume from. */
#define MERO_BLOB_NET_PROBE_CHUNKS 1
/* A request signed further than this from our clock is refused. */
#define MERO_BLOB_NET_REQUEST_WINDOW_US (G_GINT64_CONSTANT (300) * G_USEC_PER_SEC)
/* Watchdog of one served stream, whatever the plugin's deadlines. */
#define MERO_BLOB_NET_SERVE_DEADLINE_MS 180000u
#define MERO_BLOB_NET_REFUSED_METRIC "mero_blob_serve_refused_total"
/* Requests of non-members let in because the blob is public to the context. */
#define MERO_BLOB_NET_PUBLIC_METRIC "mero_blob_serve_public_total"

typedef struct _MeroBlobNet MeroBlobNet;

typedef struct {
  MeroBlobManager *blobs;                    /* borrowed, outlive the service */
  MeroNodeClient *client;
  MeroContexts *contexts;
  const MeroIdentity *identity;
  const MeroLoadedSyncProtocol *protocol;    /* blob-share; NULL: not loaded */
  MeroMetrics *metrics;                      /* NULL = default */
  /* Test hooks ([debug] test_hooks): serve at most this many chunks
   * (0: no limit), then fail; serve chunks without checking them. */
  guint debug_serve_max_chunks;
  gboolean debug_serve_unverified;
} MeroBlobNetConfig;

/* Progress of a fetch: verified bytes on disk of @total, providers
 * serving now.  @blob_id is the base58 id. */
typedef void (*MeroBlobFetchProgressFunc) (const char *blob_id, guint64 done, guint64 total,
                                           guint providers, gpointer user_data);
/* A fetched blob was committed (e.g. to announce it as a provider). */
typedef void (*MeroBlobFetchedFunc) (const guint8 context_id[32], const guint8 blob_id[32],
                                     gpointer user_data);

/* Installs itself as the NodeClient's blob stream handler. */
MeroBlobNet *mero_blob_net_new (const MeroBlobNetConfig *config);
void mero_blob_net_free (MeroBlobNet *net);   /* NULL-safe; fails pending fetches */

/* Where fetches find providers (default: the context's connected
 * members).  @lookup NULL restores the default. */
void mero_blob_net_set_provider_lookup (MeroBlobNet *net, MeroBlobProviderLookup lookup,
                                        gpointer lookup_data);
void mero_blob_net_set_progress_func (MeroBlobNet *net, MeroBlobFetchProgressFunc func,
                                      gpointer user_data);
void mero_blob_net_set_fetched_func (MeroBlobNet *net, MeroBlobFetchedFunc func,
                                     gpointer user_data);

/* The host side of the SDK's MeroBlobAccess (for the plugin's host
 * services table). */
const MeroBlobAccess *mero_blob_net_access_get (void);

G_END_DECLS
