/* mero-blob-files.c: paths, temporary files, verified chunk reads. */
#include "blob/mero-blob-files.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-error.h"

static gboolean
set_errno_error (GError **error, int saved, const char *what, const char *path)
{
  g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO, "%s %s: %s", what, path,
               g_strerror (saved));
  return FALSE;
}

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0700) != 0)
    return set_errno_error (error, errno, "Cannot create", path);
  return TRUE;
}

gboolean
mero_blob_files_prepare (const char *dir, GError **error)
{
  g_autofree char *tmp = g_build_filename (dir, "tmp", NULL);
  g_autofree char *partial = g_build_filename (dir, "partial", NULL);
  g_autoptr (GDir) listing = NULL;
  const char *name;

  if (!make_dir (dir, error) || !make_dir (tmp, error) || !make_dir (partial, error))
    return FALSE;
  /* Nothing in tmp/ was ever acknowledged: an add that crashed. */
  listing = g_dir_open (tmp, 0, error);
  if (listing == NULL)
    return FALSE;
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *path = g_build_filename (tmp, name, NULL);

      g_unlink (path);
    }
  return TRUE;
}

char *
mero_blob_files_shard_dir (const char *dir, const guint8 id[MERO_BLOB_ID_LEN])
{
  char shard[3];

  g_snprintf (shard, sizeof shard, "%02x", id[0]);
  return g_build_filename (dir, shard, NULL);
}

char *
mero_blob_files_path (const char *dir, const guint8 id[MERO_BLOB_ID_LEN])
{
  char hex[2 * MERO_BLOB_ID_LEN + 1];
  char shard[3];

  for (guint i = 0; i < MERO_BLOB_ID_LEN; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", id[i]);
  g_snprintf (shard, sizeof shard, "%02x", id[0]);
  return g_build_filename (dir, shard, hex, NULL);
}

int
mero_blob_files_open_tmp (const char *dir, char **path, GError **error)
{
  g_autofree char *tmpl = g_build_filename (dir, "tmp", "add-XXXXXX", NULL);
  int fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0)
    {
      set_errno_error (error, errno, "Cannot create", tmpl);
      return -1;
    }
  *path = g_steal_pointer (&tmpl);
  return fd;
}

gboolean
mero_blob_files_write_all (int fd, const void *data, gsize len, GError **error)
{
  const guint8 *p = data;

  while (len > 0)
    {
      ssize_t n = write (fd, p, len);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return set_errno_error (error, errno, "Cannot write", "blob file");
      p += n;
      len -= (gsize) n;
    }
  return TRUE;
}

gboolean
mero_blob_files_sync_path (const char *path, GError **error)
{
  int fd = open (path, O_RDONLY | O_CLOEXEC);
  int saved;

  if (fd < 0)
    return set_errno_error (error, errno, "Cannot open", path);
  if (fsync (fd) != 0)
    {
      saved = errno;
      close (fd);
      return set_errno_error (error, saved, "Cannot sync", path);
    }
  close (fd);
  return TRUE;
}

gboolean
mero_blob_files_check_chunk (const MeroBlobMeta *meta, guint64 index, const void *data,
                             gsize len, GError **error)
{
  guint8 leaf[MERO_BLOB_HASH_LEN];
  g_autofree char *id = NULL;

  g_return_val_if_fail (index < meta->n_leaves, FALSE);

  mero_blob_leaf_hash (data, len, leaf);
  if (len == mero_blob_chunk_len (meta->size, index)
      && memcmp (leaf, mero_blob_meta_leaf (meta, index), MERO_BLOB_HASH_LEN) == 0)
    return TRUE;
  id = mero_blob_id_to_string (meta->id);
  g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
               "Blob %s is corrupt on disk: chunk %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
               " does not match its hash; refusing to return it",
               id, index + 1, meta->n_leaves);
  return FALSE;
}

GBytes *
mero_blob_files_read_chunk (int fd, const MeroBlobMeta *meta, guint64 index, GError **error)
{
  gsize len = mero_blob_chunk_len (meta->size, index);
  g_autofree guint8 *buf = g_malloc (MAX (len, 1));
  gsize done = 0;

  g_return_val_if_fail (index < meta->n_leaves, NULL);

  while (done < len)
    {
      ssize_t n = pread (fd, buf + done, len - done,
                         (off_t) (index * MERO_BLOB_CHUNK_SIZE + done));

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          set_errno_error (error, errno, "Cannot read", "blob file");
          return NULL;
        }
      if (n == 0)
        break;
      done += (gsize) n;
    }
  if (!mero_blob_files_check_chunk (meta, index, buf, done, error))
    return NULL;
  return g_bytes_new_take (g_steal_pointer (&buf), len);
}
