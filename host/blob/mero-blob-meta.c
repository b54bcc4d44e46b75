/* mero-blob-meta.c: encode and check blob records. */
#include "blob/mero-blob-meta.h"

#include <string.h>

#include "blob/mero-blob-error.h"

static void
put_u32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static void
put_u64 (guint8 *p, guint64 v)
{
  v = GUINT64_TO_LE (v);
  memcpy (p, &v, 8);
}

static guint32
get_u32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v;

  memcpy (&v, p, 8);
  return GUINT64_FROM_LE (v);
}

GBytes *
mero_blob_meta_encode (const MeroBlobMeta *meta)
{
  gsize leaves_len = meta->n_leaves * MERO_BLOB_HASH_LEN;
  guint8 *buf;

  g_return_val_if_fail (meta->leaves != NULL && g_bytes_get_size (meta->leaves) == leaves_len,
                        NULL);

  buf = g_malloc (MERO_BLOB_META_HEADER_LEN + leaves_len);
  buf[0] = MERO_BLOB_META_VERSION;
  buf[1] = 0;
  put_u32 (buf + 2, (guint32) MERO_BLOB_CHUNK_SIZE);
  put_u64 (buf + 6, meta->size);
  put_u32 (buf + 14, meta->refcount);
  put_u64 (buf + 18, (guint64) meta->created_us);
  put_u64 (buf + 26, (guint64) meta->accessed_us);
  put_u64 (buf + 34, meta->n_leaves);
  memcpy (buf + MERO_BLOB_META_HEADER_LEN, g_bytes_get_data (meta->leaves, NULL), leaves_len);
  return g_bytes_new_take (buf, MERO_BLOB_META_HEADER_LEN + leaves_len);
}

gboolean
mero_blob_meta_decode (const guint8 id[MERO_BLOB_ID_LEN], GBytes *value, gboolean with_leaves,
                       MeroBlobMeta *meta, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (value, &len);
  guint8 root[MERO_BLOB_ID_LEN], id_copy[MERO_BLOB_ID_LEN];

  /* @id may point into @meta (decode into the record one already holds). */
  memcpy (id_copy, id, MERO_BLOB_ID_LEN);
  id = id_copy;
  memset (meta, 0, sizeof *meta);
  memcpy (meta->id, id, MERO_BLOB_ID_LEN);
  if (len < MERO_BLOB_META_HEADER_LEN || p[0] != MERO_BLOB_META_VERSION
      || get_u32 (p + 2) != MERO_BLOB_CHUNK_SIZE)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob record: unknown version or chunk size");
      return FALSE;
    }
  meta->size = get_u64 (p + 6);
  meta->refcount = get_u32 (p + 14);
  meta->created_us = (gint64) get_u64 (p + 18);
  meta->accessed_us = (gint64) get_u64 (p + 26);
  meta->n_leaves = get_u64 (p + 34);
  if (meta->size > G_MAXINT64 || meta->n_leaves != mero_blob_chunk_count (meta->size)
      || (len - MERO_BLOB_META_HEADER_LEN) / MERO_BLOB_HASH_LEN != meta->n_leaves
      || (len - MERO_BLOB_META_HEADER_LEN) % MERO_BLOB_HASH_LEN != 0)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob record: size and leaf count disagree");
      return FALSE;
    }
  if (!with_leaves)
    return TRUE;
  mero_blob_tree_root (p + MERO_BLOB_META_HEADER_LEN, meta->n_leaves, root);
  if (memcmp (root, id, MERO_BLOB_ID_LEN) != 0)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob record: its chunk hashes do not add up to the blob id");
      return FALSE;
    }
  meta->leaves = g_bytes_new_from_bytes (value, MERO_BLOB_META_HEADER_LEN,
                                         meta->n_leaves * MERO_BLOB_HASH_LEN);
  return TRUE;
}

void
mero_blob_meta_clear (MeroBlobMeta *meta)
{
  g_clear_pointer (&meta->leaves, g_bytes_unref);
}

const guint8 *
mero_blob_meta_leaf (const MeroBlobMeta *meta, guint64 index)
{
  g_return_val_if_fail (meta->leaves != NULL && index < meta->n_leaves, NULL);
  return (const guint8 *) g_bytes_get_data (meta->leaves, NULL) + index * MERO_BLOB_HASH_LEN;
}
