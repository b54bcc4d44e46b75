/* blob-share-fake-host.c: see blob-share-fake-host.h. */
#include "blob-share-fake-host.h"

#include <sodium.h>
#include <string.h>

#include "blob/mero-blob-tree.h"

typedef struct {
  MeroHostServices table;
  FakeBlobHost *host;
} Services;

static FakeBlobHost *
of (MeroBlobHandle *h)
{
  return (FakeBlobHost *) h;
}

static gboolean
fake_authorize (MeroBlobHandle *handle, const char *peer_id, const uint8_t context_id[32],
                const uint8_t blob_id[32], int64_t timestamp_us, const uint8_t signer[32],
                const uint8_t signature[64], GError **error)
{
  FakeBlobHost *h = of (handle);
  uint8_t msg[MERO_BLOB_REQUEST_MESSAGE_LEN];

  mero_blob_request_message (blob_id, context_id, timestamp_us, msg);
  if (g_strcmp0 (peer_id, h->member) != 0 || memcmp (signer, h->member_pk, 32) != 0
      || crypto_sign_verify_detached (signature, msg, sizeof msg, signer) != 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, "not a member");
      return FALSE;
    }
  return TRUE;
}

static gboolean
fake_get_blob (MeroBlobHandle *handle, const uint8_t blob_id[32], uint64_t *size,
               GBytes **leaves, gboolean *found, GError **error)
{
  FakeBlobHost *h = of (handle);

  *found = h->blob != NULL && memcmp (blob_id, h->blob_id, 32) == 0;
  if (*found)
    {
      *size = g_bytes_get_size (h->blob);
      *leaves = g_bytes_ref (h->leaves);
    }
  return TRUE;
}

static GBytes *
fake_read_chunk (MeroBlobHandle *handle, const uint8_t blob_id[32], uint64_t index,
                 GError **error)
{
  FakeBlobHost *h = of (handle);
  gsize size = g_bytes_get_size (h->blob);
  gsize len = mero_blob_chunk_len (size, index);
  guint8 *copy = g_memdup2 ((const guint8 *) g_bytes_get_data (h->blob, NULL)
                                + index * MERO_BLOB_CHUNK_SIZE,
                            MAX (len, 1));

  if ((gint64) index == h->corrupt_chunk && len > 0)
    copy[len / 2] ^= 0x01;
  return g_bytes_new_take (copy, len);
}

static gboolean
fake_sign_request (MeroBlobHandle *handle, const uint8_t context_id[32],
                   const uint8_t blob_id[32], int64_t timestamp_us, uint8_t signer[32],
                   uint8_t signature[64], GError **error)
{
  FakeBlobHost *h = of (handle);
  uint8_t msg[MERO_BLOB_REQUEST_MESSAGE_LEN];

  mero_blob_request_message (blob_id, context_id, timestamp_us, msg);
  memcpy (signer, h->pk, 32);
  crypto_sign_detached (signature, NULL, msg, sizeof msg, h->sk);
  return TRUE;
}

static gboolean
fake_partial_open (MeroBlobHandle *handle, uint64_t size, GBytes *leaves, GError **error)
{
  FakeBlobHost *h = of (handle);
  uint8_t root[32];

  if (size > h->max_size)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT, "too large");
      return FALSE;
    }
  mero_blob_tree_root (g_bytes_get_data (leaves, NULL), mero_blob_chunk_count (size), root);
  if (memcmp (root, h->blob_id, 32) != 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "bad leaves");
      return FALSE;
    }
  if (!h->open)
    {
      h->open = TRUE;
      h->size = size;
      h->n_chunks = mero_blob_chunk_count (size);
      h->want_leaves = g_bytes_ref (leaves);
      h->received = g_malloc0 (MAX (size, 1));
      h->have = g_malloc0 (h->n_chunks);
    }
  return TRUE;
}

static gboolean
fake_write_chunk (MeroBlobHandle *handle, uint64_t index, const uint8_t *data, size_t len,
                  GError **error)
{
  FakeBlobHost *h = of (handle);
  uint8_t leaf[32];

  if (!h->open || index >= h->n_chunks)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "no partial");
      return FALSE;
    }
  mero_blob_leaf_hash (data, len, leaf);
  if (memcmp (leaf, (const uint8_t *) g_bytes_get_data (h->want_leaves, NULL) + index * 32, 32)
      != 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "corrupt");
      return FALSE;
    }
  memcpy (h->received + index * MERO_BLOB_CHUNK_SIZE, data, len);
  if (!h->have[index])
    h->written++;
  h->have[index] = 1;
  return TRUE;
}

static uint64_t
fake_next_missing (MeroBlobHandle *handle, uint64_t from)
{
  FakeBlobHost *h = of (handle);

  for (uint64_t i = from; h->open && i < h->n_chunks; i++)
    if (!h->have[i])
      return i;
  return UINT64_MAX;
}

static gboolean
fake_commit (MeroBlobHandle *handle, GError **error)
{
  FakeBlobHost *h = of (handle);

  if (!h->open || h->written != h->n_chunks)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "missing");
      return FALSE;
    }
  return TRUE;
}

static void
fake_note_failure (MeroBlobHandle *handle, MeroBlobFailure failure, const char *message)
{
  of (handle)->failure = failure;
}

static const MeroBlobAccess fake_access = {
  .struct_size = sizeof (MeroBlobAccess),
  .authorize = fake_authorize,
  .get_blob = fake_get_blob,
  .read_chunk = fake_read_chunk,
  .sign_request = fake_sign_request,
  .partial_open = fake_partial_open,
  .write_chunk = fake_write_chunk,
  .next_missing = fake_next_missing,
  .commit = fake_commit,
  .note_failure = fake_note_failure,
};

static FakeBlobHost *
host_of (const MeroHostServices *table)
{
  return ((const Services *) table)->host;
}

static void
fake_log (const MeroHostServices *host, MeroLogLevel level, const char *domain,
          const char *message)
{
}

static int64_t
fake_now (const MeroHostServices *host)
{
  return host_of (host)->now_us;
}

static void
fake_random (const MeroHostServices *host, uint8_t *buf, size_t len)
{
  randombytes_buf (buf, len);
}

static void
fake_counter_add (const MeroHostServices *host, const char *name, const char *labels,
                  uint64_t delta)
{
  FakeBlobHost *h = host_of (host);
  char *key = g_strdup_printf ("%s{%s}", name, labels != NULL ? labels : "");
  guint64 n = GPOINTER_TO_SIZE (g_hash_table_lookup (h->counters, key));

  g_hash_table_replace (h->counters, key, GSIZE_TO_POINTER (n + delta));
}

static void
fake_gauge_set (const MeroHostServices *host, const char *name, const char *labels,
                double value)
{
}

FakeBlobHost *
fake_blob_host_new (const void *data, gsize len, uint64_t max_size)
{
  FakeBlobHost *h = g_new0 (FakeBlobHost, 1);

  if (sodium_init () < 0)
    g_error ("libsodium");
  h->corrupt_chunk = -1;
  h->member = "member";
  h->max_size = max_size;
  h->counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  h->now_us = 1000;
  crypto_sign_keypair (h->pk, h->sk);
  {
    g_autoptr (MeroBlobChunker) c = mero_blob_chunker_new ();
    guint64 n = 0;

    mero_blob_chunker_feed (c, data, data != NULL ? len : 0);
    h->leaves = mero_blob_chunker_finish (c, h->blob_id, &n);
  }
  if (data != NULL)
    h->blob = g_bytes_new (data, len);
  return h;
}

void
fake_blob_host_free (FakeBlobHost *h)
{
  if (h == NULL)
    return;
  g_clear_pointer (&h->blob, g_bytes_unref);
  g_clear_pointer (&h->leaves, g_bytes_unref);
  g_clear_pointer (&h->want_leaves, g_bytes_unref);
  g_free (h->received);
  g_free (h->have);
  g_hash_table_unref (h->counters);
  g_free (h);
}

MeroHostServices *
fake_blob_host_services (FakeBlobHost *h)
{
  Services *s = g_new0 (Services, 1);

  s->host = h;
  s->table.struct_size = sizeof (MeroHostServices);
  s->table.abi_major = MERO_PLUGIN_ABI_MAJOR;
  s->table.abi_minor = MERO_PLUGIN_ABI_MINOR;
  s->table.host_version = "test";
  s->table.log = fake_log;
  s->table.now_monotonic_us = fake_now;
  s->table.now_real_us = fake_now;
  s->table.random_bytes = fake_random;
  s->table.counter_add = fake_counter_add;
  s->table.gauge_set = fake_gauge_set;
  s->table.blobs = &fake_access;
  return &s->table;
}

guint64
fake_blob_host_counter (FakeBlobHost *h, const char *key)
{
  return GPOINTER_TO_SIZE (g_hash_table_lookup (h->counters, key));
}
