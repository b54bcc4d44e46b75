/* mero-blob-tree.h: how a blob is cut into chunks and named (sans-IO).
 *
 * A blob is cut into MERO_BLOB_CHUNK_SIZE chunks (the last may be
 * shorter; an empty blob is one empty chunk).  Each chunk's leaf hash is
 *   leaf = SHA-256 (0x00 || chunk)
 * and the blob id is the root of the RFC 6962 (Certificate Transparency)
 * Merkle tree over the leaves in order:
 *   MTH({leaf})    = leaf
 *   MTH(L[0..n))   = SHA-256 (0x01 || MTH(L[0..k)) || MTH(L[k..n)))
 * with k the largest power of two below n.  The 0x00/0x01 prefixes keep a
 * leaf from ever being taken for an inner node.  A receiver that holds the
 * leaf list (checked once against the id) verifies every chunk on its own
 * as it arrives, in any order and from any provider; README "Blobs" says
 * why this chunk size and this tree. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BLOB_ID_LEN 32
#define MERO_BLOB_HASH_LEN 32
/* 256 KiB: see README "Blobs". */
#define MERO_BLOB_CHUNK_SIZE ((gsize) 256 * 1024)

/* Chunks of a blob of @size bytes (at least 1). */
guint64 mero_blob_chunk_count (guint64 size);
/* Byte length of chunk @index of a blob of @size bytes. */
gsize mero_blob_chunk_len (guint64 size, guint64 index);

void mero_blob_leaf_hash (const void *chunk, gsize len, guint8 out[MERO_BLOB_HASH_LEN]);
/* Root over @n_leaves (>= 1) consecutive 32-byte leaves. */
void mero_blob_tree_root (const guint8 *leaves, guint64 n_leaves, guint8 out[MERO_BLOB_ID_LEN]);

/* Incremental chunker: feed bytes in any pieces, it hashes each chunk as
 * it completes.  The caller writes the same bytes wherever it likes. */
typedef struct _MeroBlobChunker MeroBlobChunker;

MeroBlobChunker *mero_blob_chunker_new (void);
void mero_blob_chunker_feed (MeroBlobChunker *chunker, const void *data, gsize len);
guint64 mero_blob_chunker_size (const MeroBlobChunker *chunker);
/* Ends the input: writes the id, returns (transfer full) the leaves
 * (n * 32 bytes) and their count.  The chunker is spent afterwards. */
GBytes *mero_blob_chunker_finish (MeroBlobChunker *chunker, guint8 id[MERO_BLOB_ID_LEN],
                                  guint64 *n_leaves);
void mero_blob_chunker_free (MeroBlobChunker *chunker);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobChunker, mero_blob_chunker_free)

G_END_DECLS
