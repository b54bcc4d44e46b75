/* blob-share-fake-host.h: an in-memory host for the blob-share plugin's
 * tests and fuzz target: one blob served (optionally with a damaged
 * chunk), one partial received, real hashing (the host's chunk tree),
 * real Ed25519 request signatures, counters kept by name. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

typedef struct {
  /* Served side. */
  GBytes *blob;                /* NULL: holds nothing */
  uint8_t blob_id[32];
  GBytes *leaves;
  gint64 corrupt_chunk;        /* -1: none; else served with a flipped byte */
  const char *member;          /* the one peer authorised */
  uint8_t member_pk[32];       /* and the key it must sign with */
  /* Received side. */
  uint64_t max_size;
  gboolean open;
  uint64_t size;
  GBytes *want_leaves;
  uint8_t *received;
  guint8 *have;
  uint64_t n_chunks, written;
  MeroBlobFailure failure;
  /* Identity. */
  uint8_t pk[32], sk[64];
  /* Counters: "name{labels}" → count. */
  GHashTable *counters;
  int64_t now_us;
} FakeBlobHost;

/* @data (nullable) the blob it serves; @max_size its receive bound. */
FakeBlobHost *fake_blob_host_new (const void *data, gsize len, uint64_t max_size);
void fake_blob_host_free (FakeBlobHost *h);
/* The services table, with @h as the handle of every session. */
MeroHostServices *fake_blob_host_services (FakeBlobHost *h);
guint64 fake_blob_host_counter (FakeBlobHost *h, const char *key);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (FakeBlobHost, fake_blob_host_free)

G_END_DECLS
