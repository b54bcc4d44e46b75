/* mero-blob-provider-lookup.h: how a blob fetch learns which peers may
 * hold a blob, kept behind one function type so that the source (the
 * context's members, signed provider records, later a DHT) can change
 * without touching the fetch. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Called once, on the main thread, with the PeerIds (char *) found, best
 * first; @peers is owned by the caller of the callback (transfer none). */
typedef void (*MeroBlobProvidersFound) (GPtrArray *peers, gpointer found_data);

/* Looks up providers of @blob_id in @context_id; calls @found exactly
 * once (possibly before returning), with an empty array if none. */
typedef void (*MeroBlobProviderLookup) (gpointer lookup_data, const guint8 context_id[32],
                                        const guint8 blob_id[32], MeroBlobProvidersFound found,
                                        gpointer found_data);

G_END_DECLS
