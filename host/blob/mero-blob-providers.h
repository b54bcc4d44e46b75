/* mero-blob-providers.h: which members of a context hold a blob (issue
 * 13, "Providers"; README "Blob providers").
 *
 * - announce: this node holds a blob in a context: queued, coalesced and
 *   rate-limited (MeroBlobAnnounceQueue), then published on the
 *   context's topic as a BlobProviderRecord signed with the node's
 *   identity key (which is its member key).
 * - records heard on gossip are checked (decodes within bounds, right
 *   topic, time window, author a current member, signature) and kept in
 *   the bounded MeroBlobProviderTable; every drop is counted in
 *   mero_blob_provider_records_dropped_total{reason}.
 * - lookup (a MeroBlobProviderLookup): the members known to hold the
 *   blob, connected ones first, most recent first; when none is known it
 *   asks the context's connected members over
 *   /calimero/stream/blob-have/1 (at most MERO_BLOB_PROVIDERS_QUERY_PEERS
 *   of them, at most MERO_BLOB_PROVIDERS_QUERY_TIMEOUT_MS) and returns
 *   those that say yes.
 * - serve: answers blob-have requests of the context's current members
 *   (others: an error, counted in
 *   mero_blob_provider_queries_dropped_total{reason}).
 *
 * Main thread only. */
#pragma once

#include <glib.h>

#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-provider-lookup.h"
#include "blob/mero-blob-provider-table.h"
#include "metrics/mero-metrics.h"
#include "node/mero-contexts.h"
#include "node/mero-node-transport.h"

G_BEGIN_DECLS

/* Records older than this (or newer than now + FUTURE) are refused:
 * a replayed old record cannot renew a provider that left. */
#define MERO_BLOB_PROVIDERS_MAX_AGE_MS (10 * 60 * 1000)
#define MERO_BLOB_PROVIDERS_MAX_FUTURE_MS (30 * 1000)
/* A lookup that finds no record asks at most this many members, and
 * answers after this long whoever has not answered. */
#define MERO_BLOB_PROVIDERS_QUERY_PEERS 8u
#define MERO_BLOB_PROVIDERS_QUERY_TIMEOUT_MS 5000u
/* Lookups asking the network at once; more wait in order (up to
 * MAX_WAITING, then answer from the table only, counted as "busy"). */
#define MERO_BLOB_PROVIDERS_MAX_LOOKUPS 64u
#define MERO_BLOB_PROVIDERS_MAX_WAITING 4096u
/* Expired table entries are swept this often. */
#define MERO_BLOB_PROVIDERS_EXPIRE_INTERVAL_S 60u

typedef struct _MeroBlobProviders MeroBlobProviders;

typedef struct {
  MeroContexts *contexts;                /* borrowed, outlives the providers */
  const MeroNodeTransport *transport;    /* borrowed, static */
  gpointer transport_data;
  /* Whether @peer_id is connected now (nullable: ask the topic's peers). */
  gboolean (*is_connected) (gpointer data, const char *peer_id);
  gpointer is_connected_data;
  MeroBlobManager *blobs;                /* borrowed, nullable: holds nothing */
  MeroMetrics *metrics;                  /* NULL: default */
  const guint8 *secret_key;              /* 64-byte Ed25519 (libsodium layout), copied */
  const MeroBlobProviderLimits *limits;  /* NULL: defaults */
  const MeroBlobAnnounceLimits *announce_limits;   /* NULL: defaults */
} MeroBlobProvidersConfig;

MeroBlobProviders *mero_blob_providers_new (const MeroBlobProvidersConfig *config);
/* NULL-safe.  Lookups in flight answer with what they have first. */
void mero_blob_providers_free (MeroBlobProviders *providers);

/* This node holds @blob_id (@size bytes) for @context_id: announced to
 * the context's members soon (coalesced with other announces).  A
 * context this node is not a member of, or a full queue, is counted in
 * mero_blob_provider_announces_total{result} and otherwise ignored. */
void mero_blob_providers_announce (MeroBlobProviders *providers, const guint8 context_id[32],
                                   const guint8 blob_id[32], guint64 size);

/* Of type MeroBlobProviderLookup; @lookup_data is the MeroBlobProviders. */
void mero_blob_providers_lookup (gpointer lookup_data, const guint8 context_id[32],
                                 const guint8 blob_id[32], MeroBlobProvidersFound found,
                                 gpointer found_data);

/* For mero_contexts_set_blob_providers (@data: the MeroBlobProviders). */
void mero_blob_providers_on_record (gpointer data, const char *topic, const char *from_peer,
                                    GBytes *payload);
GBytes *mero_blob_providers_serve_have (gpointer data, const char *peer_id,
                                        const guint8 *request, gsize len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobProviders, mero_blob_providers_free)

G_END_DECLS
