/* mero-blob-manager-private.h: what the files of host/blob share. */
#pragma once

#include "blob/mero-blob-cache.h"
#include "blob/mero-blob-commit.h"
#include "blob/mero-blob-manager.h"

G_BEGIN_DECLS

struct _MeroBlobManager {
  MeroStore *store;
  char *dir;
  guint64 max_size;
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

G_END_DECLS
