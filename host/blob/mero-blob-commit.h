/* mero-blob-commit.h: the one thread that changes blob records.
 *
 * Every change to the blobs column (add, delete, access time) goes through
 * this queue, so refcounts need no lock and an add never races a delete of
 * the same blob.  Changes that arrive together are committed together
 * (group commit): their files are renamed into place and synced to disk
 * in one pass (one syncfs; file by file for one or two), and their
 * records written in one store batch, whose write-ahead log is synced
 * once if it holds inline blobs (their bytes are in the record); only
 * then is each caller told.  The log sync runs on a second thread, so
 * the next batch is applied while the previous one syncs (one sync may
 * cover several batches); callers are told in commit order.  With fsync on disks where one sync costs
 * milliseconds, this is what lets thousands of small adds a second be
 * acknowledged durably. */
#pragma once

#include <glib.h>

#include "blob/mero-blob-meta.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

/* Most changes committed in one batch (bounds the memory of a batch). */
#define MERO_BLOB_COMMIT_MAX_BATCH 4096u

typedef struct _MeroBlobCommitter MeroBlobCommitter;

/* Called on the committer's sync thread once the change is durable (or failed):
 * @meta is the record after it (no leaves; refcount 0 = removed), @error
 * NULL on success. */
typedef void (*MeroBlobCommitDone) (const MeroBlobMeta *meta, const GError *error,
                                    gpointer user_data);

MeroBlobCommitter *mero_blob_committer_new (MeroStore *store, const char *dir, gboolean fsync);
/* Commits what is queued, then stops the thread.  NULL-safe. */
void mero_blob_committer_free (MeroBlobCommitter *committer);

/* Adds one reference to blob @id whose bytes are in the file @tmp_path
 * (taken over: renamed into place or removed) with @leaves (n * 32 bytes). */
void mero_blob_committer_add (MeroBlobCommitter *committer, const guint8 id[MERO_BLOB_ID_LEN],
                              const char *tmp_path, guint64 size, GBytes *leaves,
                              MeroBlobCommitDone done, gpointer user_data);
/* Same for a blob of at most MERO_BLOB_INLINE_MAX bytes kept in its
 * record: @data is its bytes (one chunk, hashed by the caller into
 * @leaves). */
void mero_blob_committer_add_inline (MeroBlobCommitter *committer,
                                     const guint8 id[MERO_BLOB_ID_LEN], GBytes *data,
                                     GBytes *leaves, MeroBlobCommitDone done,
                                     gpointer user_data);
/* Drops one reference; at 0 the record and the file go.  NOT_FOUND if absent. */
void mero_blob_committer_delete (MeroBlobCommitter *committer,
                                 const guint8 id[MERO_BLOB_ID_LEN], MeroBlobCommitDone done,
                                 gpointer user_data);
/* Records a read at @now_us (wall clock); nobody waits for it. */
void mero_blob_committer_touch (MeroBlobCommitter *committer, const guint8 id[MERO_BLOB_ID_LEN],
                                gint64 now_us);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobCommitter, mero_blob_committer_free)

G_END_DECLS
