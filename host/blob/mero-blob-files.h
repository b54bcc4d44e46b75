/* mero-blob-files.h: the blob directory on disk.
 *
 *   <dir>/<first byte hex>/<id hex>   a complete blob, read-only once renamed in
 *   <dir>/tmp/                        adds being written (removed at start)
 *   <dir>/partial/<id hex>.data|.have blobs being received chunk by chunk
 * Blobs of at most MERO_BLOB_INLINE_MAX bytes have no file: their bytes are
 * in their record (mero-blob-meta.h).
 * All functions block: call them on a worker thread. */
#pragma once

#include <glib.h>

#include "blob/mero-blob-meta.h"

G_BEGIN_DECLS

/* Creates the layout and empties tmp/ (leftovers of a crash). */
gboolean mero_blob_files_prepare (const char *dir, GError **error);
/* (transfer full) where the blob @id lives. */
char *mero_blob_files_path (const char *dir, const guint8 id[MERO_BLOB_ID_LEN]);
/* (transfer full) the directory holding it. */
char *mero_blob_files_shard_dir (const char *dir, const guint8 id[MERO_BLOB_ID_LEN]);
/* Opens a new file in tmp/; *path (transfer full) names it. -1 on error. */
int mero_blob_files_open_tmp (const char *dir, char **path, GError **error);
gboolean mero_blob_files_write_all (int fd, const void *data, gsize len, GError **error);
/* fsync of a file or directory by path. */
gboolean mero_blob_files_sync_path (const char *path, GError **error);
/* Checks @len bytes as chunk @index of @meta's blob (length and leaf
 * hash): CORRUPT if they differ.  Also for inline blobs' bytes. */
gboolean mero_blob_files_check_chunk (const MeroBlobMeta *meta, guint64 index, const void *data,
                                      gsize len, GError **error);
/* Reads chunk @index of @meta's blob from @fd and checks it against its
 * leaf hash: a damaged chunk is refused with MERO_BLOB_ERROR_CORRUPT. */
GBytes *mero_blob_files_read_chunk (int fd, const MeroBlobMeta *meta, guint64 index,
                                    GError **error);

G_END_DECLS
