/* mero-blob-manager-private.h: what the files of host/blob share. */
#pragma once

#include "blob/mero-blob-cache.h"
#include "blob/mero-blob-commit.h"
#include "blob/mero-blob-manager.h"

G_BEGIN_DECLS

struct _MeroBlobManager {
  gatomicrefcount ref;          /* writers, readers and partials hold one */
  GMutex close_lock;
  gboolean closed;              /* set by mero_blob_manager_free: no new changes */
  MeroStore *store;
  char *dir;
  guint64 max_size;
  gboolean fsync;
  guint64 cache_max_bytes;
  MeroMetrics *metrics;
  MeroBlobCommitter *committer;
  MeroBlobCache *cache;
  GThreadPool *workers;
};

/* A caller blocked until the committer is done with its change. */
typedef struct {
  GMutex lock;
  GCond cond;
  gboolean done;
  MeroBlobMeta result;
  GError *error;
} MeroBlobWaiter;

/* MeroBlobCommitDone for a MeroBlobWaiter (initialised by the caller). */
void mero_blob_waiter_done (const MeroBlobMeta *meta, const GError *error, gpointer data);
/* Waits, clears the waiter, and reports the change's outcome. */
gboolean mero_blob_waiter_wait (MeroBlobWaiter *waiter, MeroBlobMeta *out, GError **error);
/* MeroBlobCommitDone for a GTask (a MeroBlobMeta copy as its pointer result). */
void mero_blob_manager_task_done (const MeroBlobMeta *meta, const GError *error, gpointer data);

/* The committer's operations, refused with MERO_BLOB_ERROR_CLOSED (@done
 * called at once; @tmp_path removed) once the manager is closed.  A
 * @tmp_path of at most MERO_BLOB_INLINE_MAX bytes is read in and removed:
 * the blob is kept inline. */
void mero_blob_manager_commit_add (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN],
                                   const char *tmp_path, guint64 size, GBytes *leaves,
                                   MeroBlobCommitDone done, gpointer user_data);
/* Same for a small blob kept in its record (@data at most MERO_BLOB_INLINE_MAX bytes). */
void mero_blob_manager_commit_add_inline (MeroBlobManager *manager,
                                          const guint8 id[MERO_BLOB_ID_LEN], GBytes *data,
                                          GBytes *leaves, MeroBlobCommitDone done,
                                          gpointer user_data);
void mero_blob_manager_commit_delete (MeroBlobManager *manager,
                                      const guint8 id[MERO_BLOB_ID_LEN],
                                      MeroBlobCommitDone done, gpointer user_data);
void mero_blob_manager_commit_touch (MeroBlobManager *manager,
                                     const guint8 id[MERO_BLOB_ID_LEN], gint64 now_us);

G_END_DECLS
