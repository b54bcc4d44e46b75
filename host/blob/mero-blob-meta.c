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
  gsize data_len = meta->is_inline ? meta->size : 0;
  guint8 *buf;

  g_return_val_if_fail (meta->leaves != NULL && g_bytes_get_size (meta->leaves) == leaves_len,
                        NULL);
  g_return_val_if_fail (!meta->is_inline || (meta->data != NULL && meta->n_leaves == 1
                                             && meta->size <= MERO_BLOB_INLINE_MAX
                                             && g_bytes_get_size (meta->data) == meta->size),
                        NULL);

  buf = g_malloc (MERO_BLOB_META_HEADER_LEN + leaves_len + data_len);
  buf[0] = MERO_BLOB_META_VERSION;
  buf[1] = meta->is_inline ? MERO_BLOB_META_FLAG_INLINE : 0;
  put_u32 (buf + 2, (guint32) MERO_BLOB_CHUNK_SIZE);
  put_u64 (buf + 6, meta->size);
  put_u32 (buf + 14, meta->refcount);
  put_u64 (buf + 18, (guint64) meta->created_us);
  put_u64 (buf + 26, (guint64) meta->accessed_us);
  put_u64 (buf + 34, meta->n_leaves);
  memcpy (buf + MERO_BLOB_META_HEADER_LEN, g_bytes_get_data (meta->leaves, NULL), leaves_len);
  if (data_len > 0)
    memcpy (buf + MERO_BLOB_META_HEADER_LEN + leaves_len, g_bytes_get_data (meta->data, NULL),
            data_len);
  return g_bytes_new_take (buf, MERO_BLOB_META_HEADER_LEN + leaves_len + data_len);
}

gboolean
mero_blob_meta_decode (const guint8 id[MERO_BLOB_ID_LEN], GBytes *value, gboolean with_leaves,
                       MeroBlobMeta *meta, GError **error)
{
  gsize len;
  const guint8 *p = g_bytes_get_data (value, &len);
  gsize data_len;
  guint8 root[MERO_BLOB_ID_LEN], id_copy[MERO_BLOB_ID_LEN];

  /* @id may point into @meta (decode into the record one already holds). */
  memcpy (id_copy, id, MERO_BLOB_ID_LEN);
  id = id_copy;
  memset (meta, 0, sizeof *meta);
  memcpy (meta->id, id, MERO_BLOB_ID_LEN);
  if (len < MERO_BLOB_META_HEADER_LEN || p[0] != MERO_BLOB_META_VERSION
      || (p[1] & ~MERO_BLOB_META_FLAG_INLINE) != 0 || get_u32 (p + 2) != MERO_BLOB_CHUNK_SIZE)
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
  meta->is_inline = (p[1] & MERO_BLOB_META_FLAG_INLINE) != 0;
  if (meta->is_inline && meta->size > MERO_BLOB_INLINE_MAX)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob record: an inline blob larger than the inline limit");
      return FALSE;
    }
  data_len = meta->is_inline ? meta->size : 0;
  if (meta->size > G_MAXINT64 || meta->n_leaves != mero_blob_chunk_count (meta->size)
      || len - MERO_BLOB_META_HEADER_LEN < data_len
      || (len - MERO_BLOB_META_HEADER_LEN - data_len) / MERO_BLOB_HASH_LEN != meta->n_leaves
      || (len - MERO_BLOB_META_HEADER_LEN - data_len) % MERO_BLOB_HASH_LEN != 0)
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
  if (meta->is_inline)
    meta->data = g_bytes_new_from_bytes (value, MERO_BLOB_META_HEADER_LEN + MERO_BLOB_HASH_LEN,
                                         data_len);
  return TRUE;
}

void
mero_blob_meta_clear (MeroBlobMeta *meta)
{
  g_clear_pointer (&meta->leaves, g_bytes_unref);
  g_clear_pointer (&meta->data, g_bytes_unref);
}

MeroBlobMeta
mero_blob_meta_header (const MeroBlobMeta *meta)
{
  MeroBlobMeta header = *meta;

  header.leaves = NULL;
  header.data = NULL;
  return header;
}

const guint8 *
mero_blob_meta_leaf (const MeroBlobMeta *meta, guint64 index)
{
  g_return_val_if_fail (meta->leaves != NULL && index < meta->n_leaves, NULL);
  return (const guint8 *) g_bytes_get_data (meta->leaves, NULL) + index * MERO_BLOB_HASH_LEN;
}
