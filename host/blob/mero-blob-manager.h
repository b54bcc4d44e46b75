/* mero-blob-manager.h: BlobManager, the node's content-addressed files.
 *
 * Blobs live under a directory (blob.dir, default <home>/blobstore, see
 * mero-blob-files.h) with their records in the store's blobs column
 * (mero-blob-meta.h); ids and chunking in mero-blob-tree.h.  Adding the
 * same bytes twice stores them once and counts two references; delete
 * drops one.  Every read re-hashes the chunks it returns and refuses a
 * damaged one (MERO_BLOB_ERROR_CORRUPT).
 *
 * Threads: hashing and file I/O happen on worker threads, record changes
 * on the committer thread (mero-blob-commit.h).  Functions documented as
 * blocking must not be called on the main thread; the _async ones may,
 * and call back in the thread-default main context of the caller.  info
 * and list read the store only (no file I/O). */
#pragma once

#include <gio/gio.h>

#include "blob/mero-blob-error.h"
#include "blob/mero-blob-meta.h"
#include "metrics/mero-metrics.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

#define MERO_BLOB_ADDED_METRIC "mero_blob_added_total"
#define MERO_BLOB_CORRUPT_METRIC "mero_blob_corrupt_chunks_total"
#define MERO_BLOB_REFUSED_METRIC "mero_blob_refused_total"

/* Worker threads for blob hashing and file I/O. */
#define MERO_BLOB_WORKERS 4

typedef struct {
  const char *dir;
  guint64 max_size;            /* bytes; larger adds fail with TOO_LARGE */
  gboolean fsync;              /* sync files and directories before acknowledging */
  guint cache_max_age_secs;
  guint cache_max_entries;
  guint64 cache_max_bytes;
  MeroMetrics *metrics;        /* NULL = default registry */
} MeroBlobManagerOptions;

typedef struct _MeroBlobManager MeroBlobManager;
typedef struct _MeroBlobWriter MeroBlobWriter;
typedef struct _MeroBlobReader MeroBlobReader;

/* Called on a worker thread with the bytes done so far. */
typedef void (*MeroBlobProgress) (guint64 done, gpointer user_data);

/* @store must outlive the manager.  Blocking (creates the directory). */
MeroBlobManager *mero_blob_manager_new (MeroStore *store, const MeroBlobManagerOptions *options,
                                        GError **error);
/* Closes: waits for pending record changes, then stops taking new ones
 * (they fail with MERO_BLOB_ERROR_CLOSED) and drops the caller's
 * reference.  NULL-safe. */
void mero_blob_manager_free (MeroBlobManager *manager);
/* Writers, readers, partials and work still on a thread hold a reference,
 * so the manager's memory outlives mero_blob_manager_free until they end
 * (an upload's last write may still be running when the node stops). */
MeroBlobManager *mero_blob_manager_ref (MeroBlobManager *manager);
void mero_blob_manager_unref (MeroBlobManager *manager);
const char *mero_blob_manager_get_dir (MeroBlobManager *manager);
guint64 mero_blob_manager_get_max_size (MeroBlobManager *manager);

/* ---- adding ---- */

/* A blob written piece by piece (HTTP uploads, received transfers).
 * Blocking: new, write, commit.  free without commit discards it. */
MeroBlobWriter *mero_blob_writer_new (MeroBlobManager *manager, GError **error);
/* TOO_LARGE once the total passes max_size. */
gboolean mero_blob_writer_write (MeroBlobWriter *writer, const void *data, gsize len,
                                 GError **error);
guint64 mero_blob_writer_size (MeroBlobWriter *writer);
/* Durably adds the blob; @info (may be NULL) receives its record. */
gboolean mero_blob_writer_commit (MeroBlobWriter *writer, MeroBlobMeta *info, GError **error);
/* Same, without blocking; takes @writer over.  Finish with add_finish. */
void mero_blob_writer_commit_async (MeroBlobWriter *writer, MeroBlobManager *manager,
                                    GAsyncReadyCallback callback, gpointer user_data);
void mero_blob_writer_free (MeroBlobWriter *writer);

/* Blocking: reads @in to its end. */
gboolean mero_blob_manager_add_stream (MeroBlobManager *manager, GInputStream *in,
                                       MeroBlobProgress progress, gpointer progress_data,
                                       GCancellable *cancellable, MeroBlobMeta *info,
                                       GError **error);
void mero_blob_manager_add_stream_async (MeroBlobManager *manager, GInputStream *in,
                                         GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
/* @fd is read from its current offset and closed when done (taken over). */
void mero_blob_manager_add_fd_async (MeroBlobManager *manager, int fd,
                                     GCancellable *cancellable, GAsyncReadyCallback callback,
                                     gpointer user_data);
void mero_blob_manager_add_file_async (MeroBlobManager *manager, const char *path,
                                       GCancellable *cancellable, GAsyncReadyCallback callback,
                                       gpointer user_data);
gboolean mero_blob_manager_add_finish (MeroBlobManager *manager, GAsyncResult *result,
                                       MeroBlobMeta *info, GError **error);

/* ---- reading ---- */

/* Header of a blob's record (no leaves); NOT_FOUND if absent. */
gboolean mero_blob_manager_info (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN],
                                 MeroBlobMeta *info, GError **error);
/* (transfer full) every blob's header, in id order: a GArray of MeroBlobMeta. */
GArray *mero_blob_manager_list (MeroBlobManager *manager, GError **error);

/* Verified bytes of [offset, offset + length) in chunk-sized pieces.
 * @length G_MAXUINT64 = to the end.  RANGE if outside the blob.
 * open is blocking (one record read, one open). */
MeroBlobReader *mero_blob_reader_open (MeroBlobManager *manager,
                                       const guint8 id[MERO_BLOB_ID_LEN], guint64 offset,
                                       guint64 length, GError **error);
guint64 mero_blob_reader_get_blob_size (MeroBlobReader *reader);
guint64 mero_blob_reader_get_length (MeroBlobReader *reader);
/* Blocking: the next piece, or NULL at the end (no error) or on error. */
GBytes *mero_blob_reader_next (MeroBlobReader *reader, GError **error);
void mero_blob_reader_next_async (MeroBlobReader *reader, GCancellable *cancellable,
                                  GAsyncReadyCallback callback, gpointer user_data);
GBytes *mero_blob_reader_next_finish (MeroBlobReader *reader, GAsyncResult *result,
                                      GError **error);
void mero_blob_reader_free (MeroBlobReader *reader);

/* Blocking: writes the verified range to @out. */
gboolean mero_blob_manager_read (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN],
                                 guint64 offset, guint64 length, GOutputStream *out,
                                 MeroBlobProgress progress, gpointer progress_data,
                                 GCancellable *cancellable, GError **error);
/* Writes into @fd (taken over, closed when done). */
void mero_blob_manager_read_to_fd_async (MeroBlobManager *manager,
                                         const guint8 id[MERO_BLOB_ID_LEN], guint64 offset,
                                         guint64 length, int fd, GCancellable *cancellable,
                                         GAsyncReadyCallback callback, gpointer user_data);
/* Bytes written. */
gboolean mero_blob_manager_read_finish (MeroBlobManager *manager, GAsyncResult *result,
                                        guint64 *written, GError **error);

/* Chunk-level access for transfers: chunk @index, verified.  Blocking. */
GBytes *mero_blob_manager_read_chunk (MeroBlobManager *manager,
                                      const guint8 id[MERO_BLOB_ID_LEN], guint64 index,
                                      GError **error);
/* (transfer full) the leaf hashes (n * 32 bytes) a receiver checks chunks
 * against; they hash to @id.  Blocking. */
GBytes *mero_blob_manager_get_leaves (MeroBlobManager *manager,
                                      const guint8 id[MERO_BLOB_ID_LEN], GError **error);

/* GetBlobBytes: the whole blob in memory, through the cache.  Blocking;
 * TOO_LARGE for a blob larger than the cache's memory bound. */
GBytes *mero_blob_manager_get_bytes (MeroBlobManager *manager,
                                     const guint8 id[MERO_BLOB_ID_LEN], GError **error);
void mero_blob_manager_get_bytes_async (MeroBlobManager *manager,
                                        const guint8 id[MERO_BLOB_ID_LEN],
                                        GCancellable *cancellable,
                                        GAsyncReadyCallback callback, gpointer user_data);
GBytes *mero_blob_manager_get_bytes_finish (MeroBlobManager *manager, GAsyncResult *result,
                                            GError **error);

/* ---- deleting ---- */

/* Drops one reference; *refcount (may be NULL) gets what is left (0 = gone). */
gboolean mero_blob_manager_delete (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN],
                                   guint32 *refcount, GError **error);
void mero_blob_manager_delete_async (MeroBlobManager *manager,
                                     const guint8 id[MERO_BLOB_ID_LEN],
                                     GAsyncReadyCallback callback, gpointer user_data);
gboolean mero_blob_manager_delete_finish (MeroBlobManager *manager, GAsyncResult *result,
                                          guint32 *refcount, GError **error);

/* ---- public to a context ---- */

/* A blob public to a context is served to any peer that names that
 * context in a signed request, member of it or not (mero-blob-net.h);
 * other blobs only to the context's current members.  Marks are records
 * of their own (GENERIC column: context || "blob-public/" || id, see
 * mero-store-keys.h), not part of the blob's record: marking needs no
 * blob, and deleting a blob's last reference leaves its marks, which is
 * harmless (nothing is served without the blob) but means that adding
 * the same bytes again makes them public again.  A small synchronous
 * store operation each, fine on the main thread; CLOSED once the manager
 * is freed. */
gboolean mero_blob_manager_set_public (MeroBlobManager *manager,
                                       const guint8 context[MERO_KEY_ID_LEN],
                                       const guint8 id[MERO_BLOB_ID_LEN], GError **error);
gboolean mero_blob_manager_clear_public (MeroBlobManager *manager,
                                         const guint8 context[MERO_KEY_ID_LEN],
                                         const guint8 id[MERO_BLOB_ID_LEN], GError **error);
/* *is_public: whether @id is public to @context; FALSE only on a store error. */
gboolean mero_blob_manager_is_public (MeroBlobManager *manager,
                                      const guint8 context[MERO_KEY_ID_LEN],
                                      const guint8 id[MERO_BLOB_ID_LEN], gboolean *is_public,
                                      GError **error);

/* For the node's housekeeping and tests: the GetBlobBytes cache. */
struct _MeroBlobCache *mero_blob_manager_get_cache (MeroBlobManager *manager);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobManager, mero_blob_manager_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobWriter, mero_blob_writer_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobReader, mero_blob_reader_free)

G_END_DECLS
