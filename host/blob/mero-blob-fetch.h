/* mero-blob-fetch.h: fetching one blob from the network (the driver
 * around the sans-IO MeroBlobSched).
 *
 * A blob already held returns at once (no network, no reference added).
 * Otherwise: providers are the ones named by the caller, then those the
 * provider lookup finds.  They are asked in turn for the blob's size and
 * leaf hashes (checked against the id) until one answers; the partial is
 * opened (resumed: chunks already verified are not asked for again), and
 * the missing chunk ranges are spread over every provider within the
 * scheduler's bounds.  A provider that serves a corrupt chunk, refuses,
 * or does not hold the blob is dropped and its ranges go to the others.
 * Complete: committed with one reference.  Concurrent fetches of one
 * blob share the transfer.
 *
 * Errors (MERO_BLOB_ERROR): NOT_FOUND (no provider holds it, or none
 * reachable), TOO_LARGE (over blob.max_size), CORRUPT (nobody served it
 * intact), REFUSED (every provider refused), TIMED_OUT, CLOSED. */
#pragma once

#include "blob/mero-blob-net.h"

G_BEGIN_DECLS

/* @context_id, @blob_id: base58.  @providers (nullable): PeerIds to try
 * first. */
void mero_blob_net_fetch_async (MeroBlobNet *net, const char *context_id, const char *blob_id,
                                const char *const *providers, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data);
gboolean mero_blob_net_fetch_finish (MeroBlobNet *net, GAsyncResult *result, guint64 *size,
                                     GError **error);

G_END_DECLS
