/* mero-blob-tree.c: chunking and the hash tree of a blob (sans-IO). */
#include "blob/mero-blob-tree.h"

#include <string.h>

#include "crypto/mero-sha256.h"

guint64
mero_blob_chunk_count (guint64 size)
{
  return size == 0 ? 1 : (size + MERO_BLOB_CHUNK_SIZE - 1) / MERO_BLOB_CHUNK_SIZE;
}

gsize
mero_blob_chunk_len (guint64 size, guint64 index)
{
  guint64 start = index * MERO_BLOB_CHUNK_SIZE;

  if (start >= size)
    return 0;
  return (gsize) MIN ((guint64) MERO_BLOB_CHUNK_SIZE, size - start);
}

void
mero_blob_leaf_hash (const void *chunk, gsize len, guint8 out[MERO_BLOB_HASH_LEN])
{
  static const guint8 leaf_prefix = 0x00;
  g_autoptr (MeroSha256) sha = mero_sha256_new ();

  mero_sha256_update (sha, &leaf_prefix, 1);
  mero_sha256_update (sha, chunk, len);
  mero_sha256_finish (sha, out);
}

static void
node_hash (const guint8 left[MERO_BLOB_HASH_LEN], const guint8 right[MERO_BLOB_HASH_LEN],
           guint8 out[MERO_BLOB_HASH_LEN])
{
  guint8 buf[1 + 2 * MERO_BLOB_HASH_LEN];

  buf[0] = 0x01;
  memcpy (buf + 1, left, MERO_BLOB_HASH_LEN);
  memcpy (buf + 1 + MERO_BLOB_HASH_LEN, right, MERO_BLOB_HASH_LEN);
  mero_sha256 (buf, sizeof buf, out);
}

/* Recursion depth is log2 of the leaf count (at most 64). */
void
mero_blob_tree_root (const guint8 *leaves, guint64 n_leaves, guint8 out[MERO_BLOB_ID_LEN])
{
  guint64 k = 1;
  guint8 left[MERO_BLOB_HASH_LEN], right[MERO_BLOB_HASH_LEN];

  g_return_if_fail (leaves != NULL && n_leaves >= 1);

  if (n_leaves == 1)
    {
      memcpy (out, leaves, MERO_BLOB_HASH_LEN);
      return;
    }
  while (k * 2 < n_leaves)
    k *= 2;
  mero_blob_tree_root (leaves, k, left);
  mero_blob_tree_root (leaves + k * MERO_BLOB_HASH_LEN, n_leaves - k, right);
  node_hash (left, right, out);
}

struct _MeroBlobChunker {
  MeroSha256 *sha;         /* over the current chunk, 0x00 already fed */
  gsize in_chunk;          /* bytes of the current chunk so far */
  guint64 size;
  GByteArray *leaves;
};

static void
start_chunk (MeroBlobChunker *chunker)
{
  static const guint8 leaf_prefix = 0x00;

  mero_sha256_update (chunker->sha, &leaf_prefix, 1);
  chunker->in_chunk = 0;
}

static void
end_chunk (MeroBlobChunker *chunker)
{
  guint8 leaf[MERO_BLOB_HASH_LEN];

  mero_sha256_finish (chunker->sha, leaf);
  g_byte_array_append (chunker->leaves, leaf, sizeof leaf);
}

MeroBlobChunker *
mero_blob_chunker_new (void)
{
  MeroBlobChunker *chunker = g_new0 (MeroBlobChunker, 1);

  chunker->sha = mero_sha256_new ();
  chunker->leaves = g_byte_array_new ();
  start_chunk (chunker);
  return chunker;
}

void
mero_blob_chunker_feed (MeroBlobChunker *chunker, const void *data, gsize len)
{
  const guint8 *p = data;

  g_return_if_fail (chunker != NULL && chunker->sha != NULL);

  while (len > 0)
    {
      gsize take = MIN (len, MERO_BLOB_CHUNK_SIZE - chunker->in_chunk);

      mero_sha256_update (chunker->sha, p, take);
      chunker->in_chunk += take;
      chunker->size += take;
      p += take;
      len -= take;
      if (chunker->in_chunk == MERO_BLOB_CHUNK_SIZE)
        {
          end_chunk (chunker);
          start_chunk (chunker);
        }
    }
}

guint64
mero_blob_chunker_size (const MeroBlobChunker *chunker)
{
  return chunker->size;
}

GBytes *
mero_blob_chunker_finish (MeroBlobChunker *chunker, guint8 id[MERO_BLOB_ID_LEN],
                          guint64 *n_leaves)
{
  guint64 n;

  g_return_val_if_fail (chunker != NULL && chunker->sha != NULL, NULL);

  /* A partial last chunk, or the single empty chunk of an empty blob. */
  if (chunker->in_chunk > 0 || chunker->size == 0)
    end_chunk (chunker);
  g_clear_pointer (&chunker->sha, mero_sha256_free);
  n = chunker->leaves->len / MERO_BLOB_HASH_LEN;
  mero_blob_tree_root (chunker->leaves->data, n, id);
  if (n_leaves != NULL)
    *n_leaves = n;
  return g_byte_array_free_to_bytes (g_steal_pointer (&chunker->leaves));
}

void
mero_blob_chunker_free (MeroBlobChunker *chunker)
{
  if (chunker == NULL)
    return;
  g_clear_pointer (&chunker->sha, mero_sha256_free);
  if (chunker->leaves != NULL)
    g_byte_array_unref (chunker->leaves);
  g_free (chunker);
}
