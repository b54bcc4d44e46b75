/* Fuzz target: what a blob-share (/calimero/blob/1) peer sends.
 *  - every frame the decoder accepts re-encodes to the same bytes (the
 *    codec has one encoding per message), and a frame it accepts is
 *    never longer than the bound;
 *  - the input fed to an initiator (fetcher) and to a responder
 *    (provider), in one piece and split in two, never crashes either; an
 *    initiator writes only chunks that match their leaf (the fake host
 *    checks with the real chunk hashes), and a responder serves nothing
 *    to a peer it did not authorise.
 * The host is blob-share-fake-host (real hashing and signatures). */
#include <string.h>

#include "blob-share-core.h"
#include "blob-share-fake-host.h"
#include "blob-share-wire.h"
#include "blob/mero-blob-tree.h"
#include "fuzz-target.h"

const MeroPluginDescriptor *mero_plugin_blob_share_get_descriptor (void);

static void
check_roundtrip (const uint8_t *data, size_t size)
{
  size_t off = 0;

  while (off < size)
    {
      BlobMsg m;
      const char *reason = NULL;
      size_t used = 0;
      g_autoptr (GBytes) again = NULL;

      if (blob_wire_decode (data + off, size - off, &used, &m, &reason, NULL) != BLOB_DECODE_OK)
        return;
      g_assert_cmpuint (used, <=, 4 + BLOB_WIRE_FRAME_MAX);
      again = blob_wire_encode (&m);
      g_assert_cmpmem (g_bytes_get_data (again, NULL), g_bytes_get_size (again), data + off,
                       used);
      blob_msg_clear (&m);
      off += used;
    }
}

static void
run (void *plugin_data, FakeBlobHost *host, MeroSyncRole role, const char *peer,
     const uint8_t *data, size_t size, size_t split)
{
  const MeroSyncProtocolVTable *vt = mero_plugin_blob_share_get_descriptor ()->vtable;
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  guint64 served_before = fake_blob_host_counter (host, "mero_blob_chunks_served_total{}");
  MeroSyncSession *s;
  GBytes *b;

  params.role = role;
  params.peer_id = peer;
  params.now_us = 1;
  params.blobs = (MeroBlobHandle *) host;
  memcpy (params.blob_id, host->blob_id, 32);
  params.chunk_count = 4;
  params.blob_flags = MERO_BLOB_SESSION_WANT_LEAVES;
  s = vt->session_new (plugin_data, &params, NULL);
  g_assert_nonnull (s);
  while ((b = vt->pull_send (s)) != NULL)
    g_bytes_unref (b);
  vt->recv (s, data, split, 2, NULL);
  if (vt->status (s) == MERO_SYNC_STATUS_RUNNING)
    vt->recv (s, data + split, size - split, 3, NULL);
  while ((b = vt->pull_send (s)) != NULL)
    g_bytes_unref (b);
  /* Only the member is ever served. */
  if (role == MERO_SYNC_ROLE_RESPONDER && g_strcmp0 (peer, host->member) != 0)
    g_assert_cmpuint (fake_blob_host_counter (host, "mero_blob_chunks_served_total{}"), ==,
                      served_before);
  /* Every chunk written matched its leaf: the received bytes are the blob's. */
  if (role == MERO_SYNC_ROLE_INITIATOR && host->open)
    for (guint64 i = 0; i < host->n_chunks; i++)
      if (host->have[i])
        {
          gsize len = mero_blob_chunk_len (g_bytes_get_size (host->blob), i);

          g_assert_cmpmem (host->received + i * MERO_BLOB_XFER_CHUNK_LEN, len,
                           (const guint8 *) g_bytes_get_data (host->blob, NULL)
                               + i * MERO_BLOB_XFER_CHUNK_LEN,
                           len);
        }
  vt->handle_deadline (s, G_MAXINT64 - 1, NULL);
  g_assert_cmpint (vt->status (s), !=, MERO_SYNC_STATUS_RUNNING);
  vt->session_free (s);
}

/* The fetcher's partial starts empty for every input. */
static void
reset_received (FakeBlobHost *h)
{
  h->open = FALSE;
  h->written = 0;
  g_clear_pointer (&h->want_leaves, g_bytes_unref);
  g_clear_pointer (&h->received, g_free);
  g_clear_pointer (&h->have, g_free);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static FakeBlobHost *host;
  static MeroHostServices *services;
  static void *plugin_data;

  if (host == NULL)
    {
      const MeroPluginDescriptor *d = mero_plugin_blob_share_get_descriptor ();
      /* A one-chunk blob of 300 bytes (the seeds carry its real leaf and
       * chunk and stay small; the unit test moves multi-chunk blobs). */
      guint8 *blob = g_malloc (300);

      for (gsize i = 0; i < 300; i++)
        blob[i] = (guint8) i;
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      host = fake_blob_host_new (blob, 300, G_MAXUINT64);
      g_free (blob);
      memcpy (host->member_pk, host->pk, 32);
      services = fake_blob_host_services (host);
      d->init (services, &plugin_data, NULL);
    }
  check_roundtrip (data, size);
  for (int pass = 0; pass < 2; pass++)
    {
      size_t split = pass == 0 ? size : size / 2;

      reset_received (host);
      run (plugin_data, host, MERO_SYNC_ROLE_INITIATOR, "provider", data, size, split);
      run (plugin_data, host, MERO_SYNC_ROLE_RESPONDER, "member", data, size, split);
      run (plugin_data, host, MERO_SYNC_ROLE_RESPONDER, "stranger", data, size, split);
    }
  return 0;
}
