/* mero-blob-partial.c: chunk-by-chunk receiving with resume.
 *
 * A chunk is verified (SHA-256 against its leaf) by the caller's thread,
 * then written by the partial's own writer thread: the main loop never
 * waits on the disk (DESIGN §5), and the hash is what tells a corrupt
 * chunk from a good one, so refusing and counting stay synchronous.  The
 * writer writes the chunks in order, marks each in the on-disk bitmap only
 * once its bytes are written (a resume never trusts an unwritten chunk),
 * and runs the commit after the last write.  A write that fails is
 * reported by the next write_chunk and by the commit.  At most
 * WRITER_MAX_QUEUED bytes wait for it; past that, write_chunk waits (the
 * disk is then the bottleneck, and memory stays bounded). */
#define _GNU_SOURCE
#include "blob/mero-blob-partial.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-files.h"
#include "blob/mero-blob-manager-private.h"

#define WRITER_MAX_QUEUED ((gsize) 16 * 1024 * 1024)
/* The writer starts the kernel's writeback of the file every this many
 * bytes written, so the commit's sync at the end (before the fetch is
 * acknowledged) finds little left to write. */
#define WRITER_WRITEBACK_EVERY ((gsize) 8 * 1024 * 1024)

struct _MeroBlobPartial {
  MeroBlobManager *manager;
  guint8 id[MERO_BLOB_ID_LEN];
  guint64 size, n_chunks, missing;
  MeroBlobMeta meta;        /* size and leaves, for chunk checks */
  char *data_path, *have_path;
  int data_fd, have_fd;
  /* A blob of at most MERO_BLOB_INLINE_MAX bytes (one chunk) is received
   * in memory and committed into its record: no files, nothing to resume
   * (a broken transfer of so little just starts again). */
  GByteArray *inline_data;
  GMutex lock;
  guint8 *have;             /* bitmap, one bit per chunk: verified */
  /* File partials: the writer and what it has made durable-ish. */
  GThreadPool *writer;      /* one thread, jobs in order */
  guint8 *disk_have;        /* writer only: the bitmap as on disk */
  gsize unsynced;           /* writer only: bytes written since the last writeback start */
  GCond changed;            /* under lock: queued or jobs went down */
  gsize queued;             /* under lock: chunk bytes waiting */
  guint jobs;               /* under lock: jobs not finished */
  GError *write_error;      /* under lock: the first failed write */
  gboolean committed;       /* the files are the committer's now */
};

typedef struct {
  guint64 index;            /* a chunk write, or */
  GBytes *data;
  MeroBlobCommitDone done;  /* the commit (data NULL) */
  gpointer user_data;
} WriterJob;

static gboolean
io_error (GError **error, const char *what, const char *path)
{
  g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO, "%s %s: %s", what, path,
               g_strerror (errno));
  return FALSE;
}

static gboolean
bit (const guint8 *map, guint64 i)
{
  return (map[i / 8] >> (i % 8)) & 1;
}

/* Keeps only the bits whose chunk on disk still checks out. */
static gboolean
recheck (MeroBlobPartial *p, GError **error)
{
  gsize map_len = (gsize) ((p->n_chunks + 7) / 8);
  ssize_t n = pread (p->have_fd, p->have, map_len, 0);

  if (n < 0)
    return io_error (error, "Cannot read", p->have_path);
  if ((gsize) n < map_len)
    memset (p->have + n, 0, map_len - (gsize) n);
  for (guint64 i = 0; i < p->n_chunks; i++)
    {
      g_autoptr (GBytes) chunk = NULL;

      if (!bit (p->have, i))
        continue;
      chunk = mero_blob_files_read_chunk (p->data_fd, &p->meta, i, NULL);
      if (chunk == NULL)
        p->have[i / 8] &= (guint8) ~(1u << (i % 8));
    }
  p->missing = 0;
  for (guint64 i = 0; i < p->n_chunks; i++)
    p->missing += !bit (p->have, i);
  return TRUE;
}

static void
writer_fail (MeroBlobPartial *p, GError *error)
{
  g_mutex_lock (&p->lock);
  if (p->write_error == NULL)
    p->write_error = error;
  else
    g_error_free (error);
  g_mutex_unlock (&p->lock);
}

static void
writer_write (MeroBlobPartial *p, WriterJob *job)
{
  const guint8 *bytes = g_bytes_get_data (job->data, NULL);
  gsize len = g_bytes_get_size (job->data), done = 0;
  guint64 index = job->index;
  GError *error = NULL;
  guint8 map_byte;

  while (done < len)
    {
      ssize_t n = pwrite (p->data_fd, bytes + done, len - done,
                          (off_t) (index * MERO_BLOB_CHUNK_SIZE + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          io_error (&error, "Cannot write", p->data_path);
          writer_fail (p, error);
          return;
        }
      done += (gsize) n;
    }
  p->unsynced += len;
  if (p->unsynced >= WRITER_WRITEBACK_EVERY)
    {
      /* Starts writeback without waiting for it (a hint: errors show at
       * the commit's sync, which is what makes the blob durable). */
      (void) sync_file_range (p->data_fd, 0, 0, SYNC_FILE_RANGE_WRITE);
      p->unsynced = 0;
    }
  /* Only the writer touches disk_have: no lock for it. */
  p->disk_have[index / 8] |= (guint8) (1u << (index % 8));
  map_byte = p->disk_have[index / 8];
  if (pwrite (p->have_fd, &map_byte, 1, (off_t) (index / 8)) != 1)
    {
      io_error (&error, "Cannot write", p->have_path);
      writer_fail (p, error);
    }
}

static void
writer_commit (MeroBlobPartial *p, WriterJob *job)
{
  static const MeroBlobMeta none;
  g_autoptr (GError) failed = NULL;

  g_mutex_lock (&p->lock);
  if (p->write_error != NULL)
    failed = g_error_copy (p->write_error);
  g_mutex_unlock (&p->lock);
  if (failed != NULL)
    {
      job->done (&none, failed, job->user_data);
      return;
    }
  close (p->data_fd);
  close (p->have_fd);
  p->data_fd = p->have_fd = -1;
  g_unlink (p->have_path);
  /* The committer syncs the file, renames it into place, or drops it if
   * the blob is already there. */
  mero_blob_manager_commit_add (p->manager, p->id, p->data_path, p->size, p->meta.leaves,
                                job->done, job->user_data);
}

static void
writer_run (gpointer data, gpointer user_data)
{
  WriterJob *job = data;
  MeroBlobPartial *p = user_data;
  gsize len = job->data != NULL ? g_bytes_get_size (job->data) : 0;

  if (job->data != NULL)
    writer_write (p, job);
  else
    writer_commit (p, job);
  g_clear_pointer (&job->data, g_bytes_unref);
  g_free (job);
  g_mutex_lock (&p->lock);
  p->queued -= len;
  p->jobs--;
  g_cond_broadcast (&p->changed);
  g_mutex_unlock (&p->lock);
}

/* Waits until the writer has run every job (never long: the queue is
 * bounded). */
static void
writer_drain (MeroBlobPartial *p)
{
  if (p->writer == NULL)
    return;
  g_mutex_lock (&p->lock);
  while (p->jobs > 0)
    g_cond_wait (&p->changed, &p->lock);
  g_mutex_unlock (&p->lock);
}

static void
writer_push (MeroBlobPartial *p, WriterJob *job)
{
  gsize len = job->data != NULL ? g_bytes_get_size (job->data) : 0;

  g_mutex_lock (&p->lock);
  while (len > 0 && p->queued > 0 && p->queued + len > WRITER_MAX_QUEUED)
    g_cond_wait (&p->changed, &p->lock);
  p->queued += len;
  p->jobs++;
  g_mutex_unlock (&p->lock);
  g_thread_pool_push (p->writer, job, NULL);
}

MeroBlobPartial *
mero_blob_partial_open (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN],
                        guint64 size, GBytes *leaves, GError **error)
{
  g_autoptr (MeroBlobPartial) p = NULL;
  g_autofree char *base = NULL, *hex = NULL;
  guint8 root[MERO_BLOB_ID_LEN];

  if (size > manager->max_size)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE,
                   _("The blob is larger than the limit of %llu bytes (blob.max_size_mb)"),
                   (unsigned long long) manager->max_size);
      return NULL;
    }
  if (g_bytes_get_size (leaves) != mero_blob_chunk_count (size) * MERO_BLOB_HASH_LEN)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob chunk list: wrong length for %" G_GUINT64_FORMAT " bytes", size);
      return NULL;
    }
  mero_blob_tree_root (g_bytes_get_data (leaves, NULL), mero_blob_chunk_count (size), root);
  if (memcmp (root, id, MERO_BLOB_ID_LEN) != 0)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "blob chunk list: does not hash to the blob id");
      return NULL;
    }
  p = g_new0 (MeroBlobPartial, 1);
  g_mutex_init (&p->lock);
  g_cond_init (&p->changed);
  p->manager = mero_blob_manager_ref (manager);
  p->data_fd = p->have_fd = -1;
  memcpy (p->id, id, MERO_BLOB_ID_LEN);
  p->size = size;
  p->n_chunks = mero_blob_chunk_count (size);
  memcpy (p->meta.id, id, MERO_BLOB_ID_LEN);
  p->meta.size = size;
  p->meta.n_leaves = p->n_chunks;
  p->meta.leaves = g_bytes_ref (leaves);
  p->have = g_malloc0 ((gsize) ((p->n_chunks + 7) / 8));
  if (size <= MERO_BLOB_INLINE_MAX)
    {
      p->inline_data = g_byte_array_sized_new ((guint) size);
      p->missing = p->n_chunks;
      return g_steal_pointer (&p);
    }
  base = mero_blob_files_path (manager->dir, id);
  hex = g_path_get_basename (base);
  p->data_path = g_strdup_printf ("%s/partial/%s.data", manager->dir, hex);
  p->have_path = g_strdup_printf ("%s/partial/%s.have", manager->dir, hex);
  p->data_fd = open (p->data_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (p->data_fd < 0)
    {
      io_error (error, "Cannot open", p->data_path);
      return NULL;
    }
  p->have_fd = open (p->have_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (p->have_fd < 0)
    {
      io_error (error, "Cannot open", p->have_path);
      return NULL;
    }
  if (ftruncate (p->data_fd, (off_t) size) != 0)
    {
      io_error (error, "Cannot size", p->data_path);
      return NULL;
    }
  if (!recheck (p, error))
    return NULL;
  p->disk_have = g_memdup2 (p->have, (gsize) ((p->n_chunks + 7) / 8));
  p->writer = g_thread_pool_new (writer_run, p, 1, TRUE, error);
  if (p->writer == NULL)
    return NULL;
  return g_steal_pointer (&p);
}

gboolean
mero_blob_partial_write_chunk (MeroBlobPartial *p, guint64 index, const void *data, gsize len,
                               GError **error)
{
  guint8 leaf[MERO_BLOB_HASH_LEN];
  const guint8 *bytes = data;

  if (index >= p->n_chunks)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE,
                   "chunk %" G_GUINT64_FORMAT " of a blob of %" G_GUINT64_FORMAT " chunks",
                   index, p->n_chunks);
      return FALSE;
    }
  mero_blob_leaf_hash (data, len, leaf);
  if (len != mero_blob_chunk_len (p->size, index)
      || memcmp (leaf, mero_blob_meta_leaf (&p->meta, index), MERO_BLOB_HASH_LEN) != 0)
    {
      mero_metrics_counter_add (p->manager->metrics, MERO_BLOB_CORRUPT_METRIC,
                                "source=\"received\"", 1, NULL);
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                   "chunk %" G_GUINT64_FORMAT " does not match its hash", index);
      return FALSE;
    }
  if (p->inline_data != NULL)
    {
      g_mutex_lock (&p->lock);
      if (p->missing > 0)
        {
          g_byte_array_append (p->inline_data, bytes, (guint) len);
          p->have[0] = 1;
          p->missing = 0;
        }
      g_mutex_unlock (&p->lock);
      return TRUE;
    }
  {
    WriterJob *job;

    g_mutex_lock (&p->lock);
    if (p->write_error != NULL)
      {
        g_propagate_error (error, g_error_copy (p->write_error));
        g_mutex_unlock (&p->lock);
        return FALSE;
      }
    if (bit (p->have, index))
      {
        g_mutex_unlock (&p->lock);   /* already in: nothing to write again */
        return TRUE;
      }
    p->have[index / 8] |= (guint8) (1u << (index % 8));
    p->missing--;
    g_mutex_unlock (&p->lock);
    /* Copied: the caller's bytes may live in its input buffer. */
    job = g_new0 (WriterJob, 1);
    job->index = index;
    job->data = g_bytes_new (bytes, len);
    writer_push (p, job);
  }
  return TRUE;
}

gboolean
mero_blob_partial_has_chunk (MeroBlobPartial *p, guint64 index)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);

  return index < p->n_chunks && bit (p->have, index);
}

guint64
mero_blob_partial_next_missing (MeroBlobPartial *p, guint64 from)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);

  for (guint64 i = from; i < p->n_chunks; i++)
    if (!bit (p->have, i))
      return i;
  return MERO_BLOB_PARTIAL_DONE;
}

guint64
mero_blob_partial_missing_count (MeroBlobPartial *p)
{
  g_autoptr (GMutexLocker) locker = g_mutex_locker_new (&p->lock);

  return p->missing;
}

gboolean
mero_blob_partial_commit_start (MeroBlobPartial *p, MeroBlobCommitDone done, gpointer user_data,
                                GError **error)
{
  if (mero_blob_partial_missing_count (p) > 0)
    {
      g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                   "%" G_GUINT64_FORMAT " chunks are still missing",
                   mero_blob_partial_missing_count (p));
      return FALSE;
    }
  if (p->inline_data != NULL)
    {
      g_autoptr (GBytes) data = g_byte_array_free_to_bytes (g_steal_pointer (&p->inline_data));

      mero_blob_manager_commit_add_inline (p->manager, p->id, data, p->meta.leaves, done,
                                           user_data);
      return TRUE;
    }
  {
    /* After the last write, on the writer. */
    WriterJob *job = g_new0 (WriterJob, 1);

    job->done = done;
    job->user_data = user_data;
    p->committed = TRUE;
    writer_push (p, job);
  }
  return TRUE;
}

gboolean
mero_blob_partial_commit (MeroBlobPartial *p, MeroBlobMeta *info, GError **error)
{
  MeroBlobWaiter w = { 0 };

  g_mutex_init (&w.lock);
  g_cond_init (&w.cond);
  if (!mero_blob_partial_commit_start (p, mero_blob_waiter_done, &w, error))
    {
      g_mutex_clear (&w.lock);
      g_cond_clear (&w.cond);
      return FALSE;
    }
  return mero_blob_waiter_wait (&w, info, error);
}

gboolean
mero_blob_partial_exists (MeroBlobManager *manager, const guint8 id[MERO_BLOB_ID_LEN])
{
  g_autofree char *base = mero_blob_files_path (manager->dir, id);
  g_autofree char *hex = g_path_get_basename (base);
  g_autofree char *have_path = g_strdup_printf ("%s/partial/%s.have", manager->dir, hex);

  return g_file_test (have_path, G_FILE_TEST_EXISTS);
}

void
mero_blob_partial_discard (MeroBlobPartial *p)
{
  writer_drain (p);
  if (p->committed)
    return;
  if (p->data_path != NULL)
    g_unlink (p->data_path);
  if (p->have_path != NULL)
    g_unlink (p->have_path);
}

void
mero_blob_partial_free (MeroBlobPartial *p)
{
  if (p == NULL)
    return;
  /* Whatever was verified is written first: a resume keeps it. */
  if (p->writer != NULL)
    g_thread_pool_free (p->writer, FALSE, TRUE);
  if (p->data_fd >= 0)
    close (p->data_fd);
  if (p->have_fd >= 0)
    close (p->have_fd);
  mero_blob_meta_clear (&p->meta);
  if (p->inline_data != NULL)
    g_byte_array_unref (p->inline_data);
  g_free (p->data_path);
  g_free (p->have_path);
  g_free (p->have);
  g_free (p->disk_have);
  g_clear_error (&p->write_error);
  mero_blob_manager_unref (p->manager);
  g_cond_clear (&p->changed);
  g_mutex_clear (&p->lock);
  g_free (p);
}
