/* mero-blob-meta.h: a blob's record in the store's blobs column (sans-IO).
 *
 * Key: the blob id.  Value (little-endian, version 1):
 *   u8 version | u8 flags | u32 chunk_size | u64 size | u32 refcount
 *   | i64 created_us | i64 accessed_us | u64 n_leaves | n_leaves * 32 leaf hashes
 *   | [size bytes of the blob itself, if flags has MERO_BLOB_META_FLAG_INLINE]
 * Times are wall-clock microseconds.  A blob of at most
 * MERO_BLOB_INLINE_MAX bytes keeps its bytes in its record instead of a
 * file (README "Blobs" says why).  Decoding checks every length and that
 * the leaves hash to the id, so a damaged record is never trusted; inline
 * bytes are checked against their leaf by each read, as a file's are. */
#pragma once

#include <glib.h>

#include "blob/mero-blob-tree.h"

G_BEGIN_DECLS

#define MERO_BLOB_META_VERSION 1
#define MERO_BLOB_META_HEADER_LEN 42
#define MERO_BLOB_META_FLAG_INLINE 0x01
/* Largest blob stored inline (one chunk, so one leaf). */
#define MERO_BLOB_INLINE_MAX ((gsize) 16 * 1024)
G_STATIC_ASSERT (MERO_BLOB_INLINE_MAX <= MERO_BLOB_CHUNK_SIZE);

typedef struct {
  guint8 id[MERO_BLOB_ID_LEN];
  guint64 size;
  guint32 refcount;
  gint64 created_us;
  gint64 accessed_us;
  guint64 n_leaves;
  GBytes *leaves;            /* n_leaves * 32 bytes; NULL in a header-only decode */
  gboolean is_inline;        /* the bytes are in the record, not in a file */
  GBytes *data;              /* an inline blob's bytes, unverified; NULL in a
                              * header-only decode and for a file blob */
} MeroBlobMeta;

GBytes *mero_blob_meta_encode (const MeroBlobMeta *meta);
/* Fills @meta (whose leaves and data the caller then owns:
 * mero_blob_meta_clear).  @with_leaves FALSE reads only the header (list,
 * info), skipping the root check. */
gboolean mero_blob_meta_decode (const guint8 id[MERO_BLOB_ID_LEN], GBytes *value,
                                gboolean with_leaves, MeroBlobMeta *meta, GError **error);
void mero_blob_meta_clear (MeroBlobMeta *meta);
/* A copy of @meta's header fields for callers (leaves and data NULL). */
MeroBlobMeta mero_blob_meta_header (const MeroBlobMeta *meta);

/* Leaf hash @index of @meta (which must hold its leaves). */
const guint8 *mero_blob_meta_leaf (const MeroBlobMeta *meta, guint64 index);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MeroBlobMeta, mero_blob_meta_clear)

G_END_DECLS
