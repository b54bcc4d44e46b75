/* mero-blob-partial.h: a blob received chunk by chunk (transfers).
 *
 * The receiver learns the blob's size and leaf hashes first (checked here
 * against the id), then writes chunks in any order, from any provider;
 * each is checked against its leaf before it touches the disk, so a
 * corrupt chunk is refused (MERO_BLOB_ERROR_CORRUPT) and can be fetched
 * elsewhere.  The received chunks are remembered in partial/<id>.have; a
 * transfer reopened after a crash or a broken connection re-checks them
 * (a bit may have reached the disk before its chunk) and resumes with
 * the chunks still missing.  All functions block. */
#pragma once

#include "blob/mero-blob-commit.h"
#include "blob/mero-blob-manager.h"

G_BEGIN_DECLS

#define MERO_BLOB_PARTIAL_DONE G_MAXUINT64

typedef struct _MeroBlobPartial MeroBlobPartial;

/* Opens (resuming if its files exist) the partial blob @id of @size bytes
 * with @leaves (n * 32 bytes).  TOO_LARGE over max_size, CORRUPT if the
 * leaves do not hash to @id. */
MeroBlobPartial *mero_blob_partial_open (MeroBlobManager *manager,
                                         const guint8 id[MERO_BLOB_ID_LEN], guint64 size,
                                         GBytes *leaves, GError **error);
/* Checks chunk @index and writes it.  Thread-safe for different chunks. */
gboolean mero_blob_partial_write_chunk (MeroBlobPartial *partial, guint64 index,
                                        const void *data, gsize len, GError **error);
gboolean mero_blob_partial_has_chunk (MeroBlobPartial *partial, guint64 index);
/* First missing chunk at or after @from, or MERO_BLOB_PARTIAL_DONE. */
guint64 mero_blob_partial_next_missing (MeroBlobPartial *partial, guint64 from);
guint64 mero_blob_partial_missing_count (MeroBlobPartial *partial);
/* Adds the complete blob (one reference) and removes the partial files;
 * @partial is spent afterwards (free it). */
gboolean mero_blob_partial_commit (MeroBlobPartial *partial, MeroBlobMeta *info, GError **error);
/* The same without waiting (call it from any thread): hands the file to
 * the committer, which calls @done on its thread once the blob is durable
 * (or failed). FALSE (and @done is not called) if chunks are missing. */
gboolean mero_blob_partial_commit_start (MeroBlobPartial *partial, MeroBlobCommitDone done,
                                         gpointer user_data, GError **error);
/* Whether an earlier transfer of blob @id left chunks to resume from. */
gboolean mero_blob_partial_exists (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN]);
/* Removes the partial files (a transfer given up). */
void mero_blob_partial_discard (MeroBlobPartial *partial);
/* Closes; the files stay for a later resume.  NULL-safe. */
void mero_blob_partial_free (MeroBlobPartial *partial);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobPartial, mero_blob_partial_free)

G_END_DECLS
