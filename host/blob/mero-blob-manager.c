/* mero-blob-manager.c: the BlobManager API over files, records and cache. */
#define _GNU_SOURCE
#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-manager-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-cache.h"
#include "blob/mero-blob-commit.h"
#include "blob/mero-blob-files.h"
#include "net/mero-base58.h"

/* Read size when adding from a stream.  Below glibc's mmap threshold
 * (128 KiB), so the buffer of each of thousands of small adds comes from
 * the heap instead of an mmap/munmap pair with fresh zeroed pages. */
#define ADD_READ_SIZE ((gsize) 64 * 1024)
/* Once an input proves larger than that, whole chunks per read: fewer
 * system calls per byte for large files. */
#define ADD_READ_SIZE_LARGE MERO_BLOB_CHUNK_SIZE

/* A large add starts the write-back of every this many bytes as it goes,
 * so the sync before its acknowledgement has little left to write. */
#define WRITE_BACK_STEP ((guint64) 8 * 1024 * 1024)

/* A writer keeps the first MERO_BLOB_INLINE_MAX bytes in memory and
 * opens its file in tmp/ only once the blob proves larger: a small blob
 * never touches the file system (its bytes go into its record). */
struct _MeroBlobWriter {
  MeroBlobManager *manager;
  guint64 written_back;   /* bytes whose write-back was started */
  int fd;                 /* -1 while the bytes fit in @small */
  char *tmp_path;
  GByteArray *small;      /* the bytes so far while no file is open */
  gboolean handed_over;   /* committed (or being): no more writes */
  MeroBlobChunker *chunker;
};

struct _MeroBlobReader {
  MeroBlobManager *manager;
  MeroBlobMeta meta;
  int fd;
  guint64 offset, pos, end;
};

G_DEFINE_QUARK (mero-blob-error-quark, mero_blob_error)

gboolean
mero_blob_id_parse (const char *text, guint8 id[32], GError **error)
{
  g_autoptr (GBytes) bytes = text != NULL ? mero_base58_decode (text) : NULL;

  if (bytes == NULL || g_bytes_get_size (bytes) != MERO_BLOB_ID_LEN)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                   _("“%s” is not a blob id (base58 of 32 bytes)"), text != NULL ? text : "");
      return FALSE;
    }
  memcpy (id, g_bytes_get_data (bytes, NULL), MERO_BLOB_ID_LEN);
  return TRUE;
}

char *
mero_blob_id_to_string (const guint8 id[32])
{
  return mero_base58_encode (id, MERO_BLOB_ID_LEN);
}

static void
not_found (GError **error, const guint8 *id)
{
  g_autofree char *text = mero_blob_id_to_string (id);

  g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND, _("No blob %s"), text);
}

typedef struct {
  void (*func) (gpointer data);
  gpointer data;
} Job;

static void
run_job (gpointer job_ptr, gpointer unused)
{
  Job *job = job_ptr;

  job->func (job->data);
  g_free (job);
}

static void
push_job (MeroBlobManager *self, void (*func) (gpointer), gpointer data)
{
  Job *job = g_new (Job, 1);

  job->func = func;
  job->data = data;
  g_thread_pool_push (self->workers, job, NULL);
}

MeroBlobManager *
mero_blob_manager_new (MeroStore *store, const MeroBlobManagerOptions *options, GError **error)
{
  MeroBlobManager *self;

  g_return_val_if_fail (store != NULL && options != NULL && options->dir != NULL, NULL);

  if (!mero_blob_files_prepare (options->dir, error))
    return NULL;
  self = g_new0 (MeroBlobManager, 1);
  g_atomic_ref_count_init (&self->ref);
  g_mutex_init (&self->close_lock);
  self->store = store;
  self->dir = g_strdup (options->dir);
  self->max_size = options->max_size;
  self->fsync = options->fsync;
  self->cache_max_bytes = options->cache_max_bytes;
  self->metrics = options->metrics != NULL ? mero_metrics_ref (options->metrics) : NULL;
  self->cache = mero_blob_cache_new (options->cache_max_age_secs, options->cache_max_entries,
                                     options->cache_max_bytes, self->metrics);
  self->committer = mero_blob_committer_new (store, self->dir, options->fsync);
  self->workers = g_thread_pool_new (run_job, NULL, MERO_BLOB_WORKERS, FALSE, NULL);
  mero_metrics_set_help (self->metrics, MERO_BLOB_CORRUPT_METRIC,
                         "Blob chunks refused because they do not match their hash, by source",
                         NULL);
  mero_metrics_set_help (self->metrics, MERO_BLOB_REFUSED_METRIC,
                         "Blob adds refused, by reason (too_large)", NULL);
  return self;
}

MeroBlobManager *
mero_blob_manager_ref (MeroBlobManager *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
mero_blob_manager_unref (MeroBlobManager *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  mero_blob_cache_free (self->cache);
  mero_metrics_unref (self->metrics);
  g_mutex_clear (&self->close_lock);
  g_free (self->dir);
  g_free (self);
}

void
mero_blob_manager_free (MeroBlobManager *self)
{
  if (self == NULL)
    return;
  /* Workers first: their commits go to the committer, which drains last.
   * Changes arriving after this (a write still on a thread of an upload
   * the server dropped) fail CLOSED. */
  g_thread_pool_free (self->workers, FALSE, TRUE);
  g_mutex_lock (&self->close_lock);
  self->closed = TRUE;
  g_mutex_unlock (&self->close_lock);
  g_clear_pointer (&self->committer, mero_blob_committer_free);
  self->store = NULL;
  mero_blob_manager_unref (self);
}

static void
refuse_closed (const guint8 *id, MeroBlobCommitDone done, gpointer user_data)
{
  g_autoptr (GError) error = NULL;
  MeroBlobMeta meta = { 0 };

  memcpy (meta.id, id, MERO_BLOB_ID_LEN);
  error = g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED, "The node is stopping");
  if (done != NULL)
    done (&meta, error, user_data);
}

void
mero_blob_manager_commit_add (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                              const char *tmp_path, guint64 size, GBytes *leaves,
                              MeroBlobCommitDone done, gpointer user_data)
{
  gboolean closed;
  g_autofree char *contents = NULL;
  gsize len = 0;

  /* A small blob received into a file (a transfer's partial file) is
   * kept inline like any other small blob. */
  if (size <= MERO_BLOB_INLINE_MAX && g_file_get_contents (tmp_path, &contents, &len, NULL)
      && len == size)
    {
      g_autoptr (GBytes) data = g_bytes_new_take (g_steal_pointer (&contents), len);

      g_unlink (tmp_path);
      mero_blob_manager_commit_add_inline (self, id, data, leaves, done, user_data);
      return;
    }
  g_mutex_lock (&self->close_lock);
  closed = self->closed;
  if (closed)
    g_unlink (tmp_path);
  else
    mero_blob_committer_add (self->committer, id, tmp_path, size, leaves, done, user_data);
  g_mutex_unlock (&self->close_lock);
  if (closed)
    refuse_closed (id, done, user_data);
}

void
mero_blob_manager_commit_add_inline (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                     GBytes *data, GBytes *leaves, MeroBlobCommitDone done,
                                     gpointer user_data)
{
  gboolean closed;

  g_mutex_lock (&self->close_lock);
  closed = self->closed;
  if (!closed)
    mero_blob_committer_add_inline (self->committer, id, data, leaves, done, user_data);
  g_mutex_unlock (&self->close_lock);
  if (closed)
    refuse_closed (id, done, user_data);
}

void
mero_blob_manager_commit_delete (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                 MeroBlobCommitDone done, gpointer user_data)
{
  gboolean closed;

  g_mutex_lock (&self->close_lock);
  closed = self->closed;
  if (!closed)
    mero_blob_committer_delete (self->committer, id, done, user_data);
  g_mutex_unlock (&self->close_lock);
  if (closed)
    refuse_closed (id, done, user_data);
}

void
mero_blob_manager_commit_touch (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                gint64 now_us)
{
  g_mutex_lock (&self->close_lock);
  if (!self->closed)
    mero_blob_committer_touch (self->committer, id, now_us);
  g_mutex_unlock (&self->close_lock);
}

const char *
mero_blob_manager_get_dir (MeroBlobManager *self)
{
  return self->dir;
}

guint64
mero_blob_manager_get_max_size (MeroBlobManager *self)
{
  return self->max_size;
}

MeroBlobCache *
mero_blob_manager_get_cache (MeroBlobManager *self)
{
  return self->cache;
}

/* ---- committing, blocking or not ---- */

void
mero_blob_waiter_done (const MeroBlobMeta *meta, const GError *error, gpointer data)
{
  MeroBlobWaiter *w = data;

  g_mutex_lock (&w->lock);
  w->result = *meta;
  w->error = error != NULL ? g_error_copy (error) : NULL;
  w->done = TRUE;
  g_cond_signal (&w->cond);
  g_mutex_unlock (&w->lock);
}

gboolean
mero_blob_waiter_wait (MeroBlobWaiter *w, MeroBlobMeta *out, GError **error)
{
  g_mutex_lock (&w->lock);
  while (!w->done)
    g_cond_wait (&w->cond, &w->lock);
  g_mutex_unlock (&w->lock);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  if (w->error != NULL)
    {
      g_propagate_error (error, w->error);
      return FALSE;
    }
  if (out != NULL)
    *out = w->result;
  return TRUE;
}

void
mero_blob_manager_task_done (const MeroBlobMeta *meta, const GError *error, gpointer data)
{
  GTask *task = data;

  if (error != NULL)
    g_task_return_error (task, g_error_copy (error));
  else
    g_task_return_pointer (task, g_memdup2 (meta, sizeof *meta), g_free);
  g_object_unref (task);
}

/* ---- writer ---- */

MeroBlobWriter *
mero_blob_writer_new (MeroBlobManager *manager, GError **error)
{
  g_autoptr (MeroBlobWriter) writer = g_new0 (MeroBlobWriter, 1);

  writer->manager = mero_blob_manager_ref (manager);
  writer->fd = -1;
  writer->small = g_byte_array_new ();
  writer->chunker = mero_blob_chunker_new ();
  return g_steal_pointer (&writer);
}

/* The blob outgrew memory: from now on it is written to a file. */
static gboolean
writer_open_file (MeroBlobWriter *writer, GError **error)
{
  writer->fd = mero_blob_files_open_tmp (writer->manager->dir, &writer->tmp_path, error);
  if (writer->fd < 0)
    return FALSE;
  if (!mero_blob_files_write_all (writer->fd, writer->small->data, writer->small->len, error))
    return FALSE;
  g_clear_pointer (&writer->small, g_byte_array_unref);
  return TRUE;
}

gboolean
mero_blob_writer_write (MeroBlobWriter *writer, const void *data, gsize len, GError **error)
{
  MeroBlobManager *m = writer->manager;

  g_return_val_if_fail (!writer->handed_over, FALSE);

  if (mero_blob_chunker_size (writer->chunker) + len > m->max_size)
    {
      mero_metrics_counter_add (m->metrics, MERO_BLOB_REFUSED_METRIC, "reason=\"too_large\"", 1,
                                NULL);
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE,
                   _("The blob is larger than the limit of %llu bytes (blob.max_size_mb)"),
                   (unsigned long long) m->max_size);
      return FALSE;
    }
  if (writer->fd < 0 && writer->small->len + len <= MERO_BLOB_INLINE_MAX)
    {
      mero_blob_chunker_feed (writer->chunker, data, len);
      g_byte_array_append (writer->small, data, (guint) len);
      return TRUE;
    }
  if (writer->fd < 0 && !writer_open_file (writer, error))
    return FALSE;
  mero_blob_chunker_feed (writer->chunker, data, len);
  if (!mero_blob_files_write_all (writer->fd, data, len, error))
    return FALSE;
  if (m->fsync && mero_blob_chunker_size (writer->chunker) - writer->written_back >= WRITE_BACK_STEP)
    {
      guint64 size = mero_blob_chunker_size (writer->chunker);

      /* Asynchronous: only queues the pages for writing. */
      sync_file_range (writer->fd, (off_t) writer->written_back,
                       (off_t) (size - writer->written_back), SYNC_FILE_RANGE_WRITE);
      writer->written_back = size;
    }
  return TRUE;
}

guint64
mero_blob_writer_size (MeroBlobWriter *writer)
{
  return mero_blob_chunker_size (writer->chunker);
}

/* Hands the file to the committer; @done gets the outcome. */
static gboolean
writer_hand_over (MeroBlobWriter *writer, MeroBlobCommitDone done, gpointer done_data,
                  GError **error)
{
  guint8 id[MERO_BLOB_ID_LEN];
  g_autoptr (GBytes) leaves = NULL;
  guint64 size = mero_blob_chunker_size (writer->chunker);
  int fd = writer->fd;

  writer->handed_over = TRUE;
  if (fd < 0)
    {
      g_autoptr (GBytes) data = g_byte_array_free_to_bytes (g_steal_pointer (&writer->small));

      leaves = mero_blob_chunker_finish (writer->chunker, id, NULL);
      mero_blob_manager_commit_add_inline (writer->manager, id, data, leaves, done, done_data);
      mero_metrics_counter_add (writer->manager->metrics, MERO_BLOB_ADDED_METRIC, NULL, 1, NULL);
      return TRUE;
    }
  writer->fd = -1;
  if (close (fd) != 0)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO, "Cannot write %s: %s",
                   writer->tmp_path, g_strerror (errno));
      return FALSE;
    }
  leaves = mero_blob_chunker_finish (writer->chunker, id, NULL);
  mero_blob_manager_commit_add (writer->manager, id, writer->tmp_path, size, leaves, done,
                                done_data);
  /* The committer owns the file now. */
  g_clear_pointer (&writer->tmp_path, g_free);
  mero_metrics_counter_add (writer->manager->metrics, MERO_BLOB_ADDED_METRIC, NULL, 1, NULL);
  return TRUE;
}

gboolean
mero_blob_writer_commit (MeroBlobWriter *writer, MeroBlobMeta *info, GError **error)
{
  MeroBlobWaiter w = { 0 };

  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  if (!writer_hand_over (writer, mero_blob_waiter_done, &w, error))
    {
      g_mutex_clear (&w.lock);
      g_cond_clear (&w.cond);
      return FALSE;
    }
  return mero_blob_waiter_wait (&w, info, error);
}

void
mero_blob_writer_commit_async (MeroBlobWriter *writer, MeroBlobManager *manager,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (MeroBlobWriter) owned = writer;
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  GError *error = NULL;

  g_task_set_task_data (task, manager, NULL);
  if (!writer_hand_over (owned, mero_blob_manager_task_done, task, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
    }
}

void
mero_blob_writer_free (MeroBlobWriter *writer)
{
  if (writer == NULL)
    return;
  if (writer->fd >= 0)
    close (writer->fd);
  if (writer->tmp_path != NULL)
    g_unlink (writer->tmp_path);
  g_free (writer->tmp_path);
  if (writer->small != NULL)
    g_byte_array_unref (writer->small);
  mero_blob_chunker_free (writer->chunker);
  mero_blob_manager_unref (writer->manager);
  g_free (writer);
}

/* ---- adding from streams ---- */

static MeroBlobWriter *
write_stream (MeroBlobManager *self, GInputStream *in, MeroBlobProgress progress,
              gpointer progress_data, GCancellable *cancellable, GError **error)
{
  g_autoptr (MeroBlobWriter) writer = mero_blob_writer_new (self, error);
  g_autofree guint8 *buf = g_malloc (ADD_READ_SIZE);
  gsize size = ADD_READ_SIZE;

  if (writer == NULL)
    return NULL;
  for (;;)
    {
      gsize got = 0;

      /* read_all: full buffers per write, whatever the source's pieces. */
      if (!g_input_stream_read_all (in, buf, size, &got, cancellable, error))
        return NULL;
      if (got == 0)
        break;
      if (!mero_blob_writer_write (writer, buf, got, error))
        return NULL;
      if (progress != NULL)
        progress (mero_blob_writer_size (writer), progress_data);
      if (got < size)
        break;
      if (size == ADD_READ_SIZE)
        {
          size = ADD_READ_SIZE_LARGE;
          buf = g_realloc (buf, size);
        }
    }
  return g_steal_pointer (&writer);
}

gboolean
mero_blob_manager_add_stream (MeroBlobManager *self, GInputStream *in,
                              MeroBlobProgress progress, gpointer progress_data,
                              GCancellable *cancellable, MeroBlobMeta *info, GError **error)
{
  g_autoptr (MeroBlobWriter) writer = write_stream (self, in, progress, progress_data,
                                                    cancellable, error);

  return writer != NULL && mero_blob_writer_commit (writer, info, error);
}

typedef struct {
  MeroBlobManager *manager;
  GTask *task;
  GInputStream *in;
  char *path;
} AddJob;

static void
add_job_run (gpointer data)
{
  AddJob *job = data;
  GError *error = NULL;
  g_autoptr (MeroBlobWriter) writer = NULL;

  if (job->in == NULL)
    {
      g_autoptr (GFile) file = g_file_new_for_path (job->path);

      job->in = G_INPUT_STREAM (g_file_read (file, g_task_get_cancellable (job->task), &error));
    }
  if (job->in != NULL)
    writer = write_stream (job->manager, job->in, NULL, NULL, g_task_get_cancellable (job->task),
                           &error);
  if (writer != NULL && writer_hand_over (writer, mero_blob_manager_task_done, job->task, &error))
    job->task = NULL;          /* task_done returns it */
  if (job->task != NULL)
    {
      g_task_return_error (job->task, error);
      g_object_unref (job->task);
    }
  g_clear_object (&job->in);
  g_free (job->path);
  g_free (job);
}

static void
add_async (MeroBlobManager *self, GInputStream *in, const char *path, GCancellable *cancellable,
           GAsyncReadyCallback callback, gpointer user_data)
{
  AddJob *job = g_new0 (AddJob, 1);

  job->manager = self;
  job->task = g_task_new (NULL, cancellable, callback, user_data);
  job->in = in != NULL ? g_object_ref (in) : NULL;
  job->path = g_strdup (path);
  push_job (self, add_job_run, job);
}

void
mero_blob_manager_add_stream_async (MeroBlobManager *self, GInputStream *in,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  add_async (self, in, NULL, cancellable, callback, user_data);
}

void
mero_blob_manager_add_fd_async (MeroBlobManager *self, int fd, GCancellable *cancellable,
                                GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GInputStream) in = g_unix_input_stream_new (fd, TRUE);

  add_async (self, in, NULL, cancellable, callback, user_data);
}

void
mero_blob_manager_add_file_async (MeroBlobManager *self, const char *path,
                                  GCancellable *cancellable, GAsyncReadyCallback callback,
                                  gpointer user_data)
{
  add_async (self, NULL, path, cancellable, callback, user_data);
}

gboolean
mero_blob_manager_add_finish (MeroBlobManager *self, GAsyncResult *result, MeroBlobMeta *info,
                              GError **error)
{
  g_autofree MeroBlobMeta *meta = g_task_propagate_pointer (G_TASK (result), error);

  if (meta == NULL)
    return FALSE;
  if (info != NULL)
    *info = *meta;
  return TRUE;
}

/* ---- records ---- */

static gboolean
load_meta (MeroBlobManager *self, const guint8 *id, gboolean with_leaves, MeroBlobMeta *meta,
           GError **error)
{
  MeroKey key = mero_key_blob (id);
  g_autoptr (GBytes) value = NULL;

  if (self->closed)
    {
      g_set_error_literal (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED, "The node is stopping");
      return FALSE;
    }
  if (!mero_store_get (self->store, &key, &value, error))
    return FALSE;
  if (value == NULL)
    {
      not_found (error, id);
      return FALSE;
    }
  return mero_blob_meta_decode (id, value, with_leaves, meta, error);
}

gboolean
mero_blob_manager_info (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                        MeroBlobMeta *info, GError **error)
{
  return load_meta (self, id, FALSE, info, error);
}

GArray *
mero_blob_manager_list (MeroBlobManager *self, GError **error)
{
  MeroKey prefix = mero_key_prefix_column (MERO_COLUMN_BLOBS);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (self->store, NULL, &prefix);
  g_autoptr (GArray) out = g_array_new (FALSE, TRUE, sizeof (MeroBlobMeta));

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len;
      const guint8 *key = mero_store_iter_key (it, &len);
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      MeroBlobMeta meta;

      if (len != MERO_BLOB_ID_LEN)
        continue;
      if (!mero_blob_meta_decode (key, value, FALSE, &meta, error))
        return NULL;
      g_array_append_val (out, meta);
    }
  if (!mero_store_iter_check (it, error))
    return NULL;
  return g_steal_pointer (&out);
}

GBytes *
mero_blob_manager_get_leaves (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                              GError **error)
{
  g_auto (MeroBlobMeta) meta = { 0 };

  if (!load_meta (self, id, TRUE, &meta, error))
    return NULL;
  return g_bytes_ref (meta.leaves);
}

/* ---- reading ---- */

static int
open_blob_file (MeroBlobManager *self, const guint8 *id, GError **error)
{
  g_autofree char *path = mero_blob_files_path (self->dir, id);
  int fd = open (path, O_RDONLY | O_CLOEXEC);

  if (fd < 0)
    {
      g_autofree char *text = mero_blob_id_to_string (id);

      g_set_error (error, MERO_BLOB_ERROR,
                   errno == ENOENT ? MERO_BLOB_ERROR_CORRUPT : MERO_BLOB_ERROR_IO,
                   _("Blob %s: cannot open its file %s: %s"), text, path, g_strerror (errno));
    }
  return fd;
}

MeroBlobReader *
mero_blob_reader_open (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN], guint64 offset,
                       guint64 length, GError **error)
{
  g_autoptr (MeroBlobReader) reader = g_new0 (MeroBlobReader, 1);

  reader->manager = mero_blob_manager_ref (self);
  reader->fd = -1;
  if (!load_meta (self, id, TRUE, &reader->meta, error))
    return NULL;
  if (length == G_MAXUINT64 && offset <= reader->meta.size)
    length = reader->meta.size - offset;
  if (offset > reader->meta.size || length > reader->meta.size - offset)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE,
                   _("Range %llu+%llu lies outside the blob of %llu bytes"),
                   (unsigned long long) offset, (unsigned long long) length,
                   (unsigned long long) reader->meta.size);
      return NULL;
    }
  if (!reader->meta.is_inline)
    {
      reader->fd = open_blob_file (self, id, error);
      if (reader->fd < 0)
        return NULL;
    }
  reader->offset = reader->pos = offset;
  reader->end = offset + length;
  mero_blob_manager_commit_touch (self, id, g_get_real_time ());
  return g_steal_pointer (&reader);
}

guint64
mero_blob_reader_get_blob_size (MeroBlobReader *reader)
{
  return reader->meta.size;
}

guint64
mero_blob_reader_get_length (MeroBlobReader *reader)
{
  return reader->end - reader->offset;
}

static GBytes *
read_verified_chunk (MeroBlobManager *self, int fd, const MeroBlobMeta *meta, guint64 index,
                     GError **error)
{
  GError *local = NULL;
  GBytes *chunk = NULL;

  /* An inline blob's bytes came with its record; they are checked like a
   * chunk read from a file. */
  if (!meta->is_inline)
    chunk = mero_blob_files_read_chunk (fd, meta, index, &local);
  else if (mero_blob_files_check_chunk (meta, index, g_bytes_get_data (meta->data, NULL),
                                        g_bytes_get_size (meta->data), &local))
    chunk = g_bytes_ref (meta->data);

  if (chunk == NULL && g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT))
    {
      mero_metrics_counter_add (self->metrics, MERO_BLOB_CORRUPT_METRIC, "source=\"disk\"", 1,
                                NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "blob-corrupt",
                        "MESSAGE", "%s", local->message);
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return chunk;
}

GBytes *
mero_blob_reader_next (MeroBlobReader *reader, GError **error)
{
  guint64 index, chunk_start, from, to;
  g_autoptr (GBytes) chunk = NULL;

  if (reader->pos >= reader->end)
    return NULL;
  index = reader->pos / MERO_BLOB_CHUNK_SIZE;
  chunk_start = index * MERO_BLOB_CHUNK_SIZE;
  chunk = read_verified_chunk (reader->manager, reader->fd, &reader->meta, index, error);
  if (chunk == NULL)
    return NULL;
  from = reader->pos - chunk_start;
  to = MIN (reader->end - chunk_start, g_bytes_get_size (chunk));
  reader->pos = chunk_start + to;
  return g_bytes_new_from_bytes (chunk, from, to - from);
}

static void
reader_next_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  GError *error = NULL;
  GBytes *piece = mero_blob_reader_next (data, &error);

  if (error != NULL)
    g_task_return_error (task, error);
  else if (piece == NULL)
    g_task_return_pointer (task, g_bytes_new (NULL, 0), (GDestroyNotify) g_bytes_unref);
  else
    g_task_return_pointer (task, piece, (GDestroyNotify) g_bytes_unref);
}

void
mero_blob_reader_next_async (MeroBlobReader *reader, GCancellable *cancellable,
                             GAsyncReadyCallback callback, gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_task_data (task, reader, NULL);
  g_task_run_in_thread (task, reader_next_thread);
}

GBytes *
mero_blob_reader_next_finish (MeroBlobReader *reader, GAsyncResult *result, GError **error)
{
  g_autoptr (GBytes) piece = g_task_propagate_pointer (G_TASK (result), error);

  /* The end travels as an empty piece: NULL would read as an error. */
  if (piece == NULL || g_bytes_get_size (piece) == 0)
    return NULL;
  return g_steal_pointer (&piece);
}

void
mero_blob_reader_free (MeroBlobReader *reader)
{
  if (reader == NULL)
    return;
  if (reader->fd >= 0)
    close (reader->fd);
  mero_blob_meta_clear (&reader->meta);
  mero_blob_manager_unref (reader->manager);
  g_free (reader);
}

gboolean
mero_blob_manager_read (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                        guint64 offset, guint64 length, GOutputStream *out,
                        MeroBlobProgress progress, gpointer progress_data,
                        GCancellable *cancellable, GError **error)
{
  g_autoptr (MeroBlobReader) reader = mero_blob_reader_open (self, id, offset, length, error);
  guint64 done = 0;

  if (reader == NULL)
    return FALSE;
  for (;;)
    {
      GError *local = NULL;
      g_autoptr (GBytes) piece = mero_blob_reader_next (reader, &local);

      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      if (piece == NULL)
        return TRUE;
      if (!g_output_stream_write_all (out, g_bytes_get_data (piece, NULL),
                                      g_bytes_get_size (piece), NULL, cancellable, error))
        return FALSE;
      done += g_bytes_get_size (piece);
      if (progress != NULL)
        progress (done, progress_data);
    }
}

typedef struct {
  guint8 id[MERO_BLOB_ID_LEN];
  guint64 offset, length;
  int fd;
} ReadToFd;

static void
read_to_fd_free (ReadToFd *data)
{
  if (data->fd >= 0)
    close (data->fd);
  g_free (data);
}

static void
read_to_fd_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  ReadToFd *data = task_data;
  g_autoptr (GOutputStream) out = g_unix_output_stream_new (data->fd, TRUE);
  MeroBlobManager *self = g_object_get_data (G_OBJECT (task), "mero-blob-manager");
  GError *error = NULL;
  g_autoptr (MeroBlobReader) reader = NULL;
  guint64 *written = g_new0 (guint64, 1);

  data->fd = -1;    /* the stream closes it */
  reader = mero_blob_reader_open (self, data->id, data->offset, data->length, &error);
  while (reader != NULL && error == NULL)
    {
      g_autoptr (GBytes) piece = mero_blob_reader_next (reader, &error);

      if (piece == NULL)
        break;
      if (!g_output_stream_write_all (out, g_bytes_get_data (piece, NULL),
                                      g_bytes_get_size (piece), NULL, cancellable, &error))
        break;
      *written += g_bytes_get_size (piece);
    }
  if (error == NULL)
    g_output_stream_close (out, cancellable, &error);
  if (error != NULL)
    {
      g_free (written);
      g_task_return_error (task, error);
    }
  else
    g_task_return_pointer (task, written, g_free);
}

void
mero_blob_manager_read_to_fd_async (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                    guint64 offset, guint64 length, int fd,
                                    GCancellable *cancellable, GAsyncReadyCallback callback,
                                    gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ReadToFd *data = g_new0 (ReadToFd, 1);

  memcpy (data->id, id, MERO_BLOB_ID_LEN);
  data->offset = offset;
  data->length = length;
  data->fd = fd;
  g_object_set_data_full (G_OBJECT (task), "mero-blob-manager", mero_blob_manager_ref (self),
                          (GDestroyNotify) mero_blob_manager_unref);
  g_task_set_task_data (task, data, (GDestroyNotify) read_to_fd_free);
  g_task_run_in_thread (task, read_to_fd_thread);
}

gboolean
mero_blob_manager_read_finish (MeroBlobManager *self, GAsyncResult *result, guint64 *written,
                               GError **error)
{
  g_autofree guint64 *n = g_task_propagate_pointer (G_TASK (result), error);

  if (n == NULL)
    return FALSE;
  if (written != NULL)
    *written = *n;
  return TRUE;
}

GBytes *
mero_blob_manager_read_chunk (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                              guint64 index, GError **error)
{
  g_auto (MeroBlobMeta) meta = { 0 };
  int fd;
  GBytes *chunk;

  if (!load_meta (self, id, TRUE, &meta, error))
    return NULL;
  if (index >= meta.n_leaves)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE,
                   _("Chunk %llu lies outside a blob of %llu chunks"),
                   (unsigned long long) index, (unsigned long long) meta.n_leaves);
      return NULL;
    }
  if (meta.is_inline)
    return read_verified_chunk (self, -1, &meta, index, error);
  fd = open_blob_file (self, id, error);
  if (fd < 0)
    return NULL;
  chunk = read_verified_chunk (self, fd, &meta, index, error);
  close (fd);
  return chunk;
}

/* ---- GetBlobBytes ---- */

GBytes *
mero_blob_manager_get_bytes (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                             GError **error)
{
  GBytes *cached = mero_blob_cache_get (self->cache, id, g_get_monotonic_time ());
  g_autoptr (MeroBlobReader) reader = NULL;
  g_autoptr (GByteArray) all = NULL;
  g_autoptr (GBytes) bytes = NULL;
  GError *local = NULL;

  if (cached != NULL)
    return cached;
  reader = mero_blob_reader_open (self, id, 0, G_MAXUINT64, error);
  if (reader == NULL)
    return NULL;
  if (reader->meta.size > self->cache_max_bytes)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE,
                   _("The blob of %llu bytes is larger than the blob cache "
                     "(blob.cache_max_mb); read it as a stream instead"),
                   (unsigned long long) reader->meta.size);
      return NULL;
    }
  all = g_byte_array_sized_new ((guint) MIN (reader->meta.size, G_MAXUINT));
  for (;;)
    {
      g_autoptr (GBytes) piece = mero_blob_reader_next (reader, &local);

      if (local != NULL)
        {
          g_propagate_error (error, local);
          return NULL;
        }
      if (piece == NULL)
        break;
      g_byte_array_append (all, g_bytes_get_data (piece, NULL), g_bytes_get_size (piece));
    }
  bytes = g_byte_array_free_to_bytes (g_steal_pointer (&all));
  mero_blob_cache_put (self->cache, id, bytes, g_get_monotonic_time ());
  return g_steal_pointer (&bytes);
}

static void
get_bytes_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  MeroBlobManager *self = g_object_get_data (G_OBJECT (task), "mero-blob-manager");
  GError *error = NULL;
  GBytes *bytes = mero_blob_manager_get_bytes (self, task_data, &error);

  if (bytes == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, bytes, (GDestroyNotify) g_bytes_unref);
}

void
mero_blob_manager_get_bytes_async (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                   GCancellable *cancellable, GAsyncReadyCallback callback,
                                   gpointer user_data)
{
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_object_set_data_full (G_OBJECT (task), "mero-blob-manager", mero_blob_manager_ref (self),
                          (GDestroyNotify) mero_blob_manager_unref);
  g_task_set_task_data (task, g_memdup2 (id, MERO_BLOB_ID_LEN), g_free);
  g_task_run_in_thread (task, get_bytes_thread);
}

GBytes *
mero_blob_manager_get_bytes_finish (MeroBlobManager *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- deleting ---- */

typedef struct {
  MeroBlobManager *manager;
  GTask *task;
  MeroBlobWaiter *waiter;
} DeleteCall;

static void
delete_done (const MeroBlobMeta *meta, const GError *error, gpointer data)
{
  DeleteCall *call = data;

  if (error == NULL && meta->refcount == 0)
    mero_blob_cache_remove (call->manager->cache, meta->id);
  if (call->waiter != NULL)
    mero_blob_waiter_done (meta, error, call->waiter);
  else
    mero_blob_manager_task_done (meta, error, call->task);
  g_free (call);
}

gboolean
mero_blob_manager_delete (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                          guint32 *refcount, GError **error)
{
  MeroBlobWaiter w = { 0 };
  DeleteCall *call = g_new0 (DeleteCall, 1);
  MeroBlobMeta after;

  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  call->manager = self;
  call->waiter = &w;
  mero_blob_manager_commit_delete (self, id, delete_done, call);
  if (!mero_blob_waiter_wait (&w, &after, error))
    return FALSE;
  if (refcount != NULL)
    *refcount = after.refcount;
  return TRUE;
}

void
mero_blob_manager_delete_async (MeroBlobManager *self, const guint8 id[MERO_BLOB_ID_LEN],
                                GAsyncReadyCallback callback, gpointer user_data)
{
  DeleteCall *call = g_new0 (DeleteCall, 1);

  call->manager = self;
  call->task = g_task_new (NULL, NULL, callback, user_data);
  mero_blob_manager_commit_delete (self, id, delete_done, call);
}

gboolean
mero_blob_manager_delete_finish (MeroBlobManager *self, GAsyncResult *result, guint32 *refcount,
                                 GError **error)
{
  g_autofree MeroBlobMeta *meta = g_task_propagate_pointer (G_TASK (result), error);

  if (meta == NULL)
    return FALSE;
  if (refcount != NULL)
    *refcount = meta->refcount;
  return TRUE;
}
