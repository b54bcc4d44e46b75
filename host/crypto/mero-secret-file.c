#include "crypto/mero-secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (mero-secret-file-error-quark, mero_secret_file_error)

static gssize
read_bounded (int fd, guint8 *buf, gsize max)
{
  gsize got = 0;

  while (got < max)
    {
      gssize n = read (fd, buf + got, max - got);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        return -1;
      if (n == 0)
        break;
      got += (gsize) n;
    }
  return (gssize) got;
}

gssize
mero_secret_file_read (const char *path, guint8 *buf, gsize max, GError **error)
{
  struct stat st;
  gssize n;
  int fd, errsv;

  g_return_val_if_fail (path != NULL, -1);
  g_return_val_if_fail (buf != NULL || max == 0, -1);

  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      errsv = errno;
      if (fd >= 0)
        g_close (fd, NULL);
      g_set_error (error, MERO_SECRET_FILE_ERROR, MERO_SECRET_FILE_ERROR_IO,
                   _("Cannot read %s: %s"), path, g_strerror (errsv));
      return -1;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_close (fd, NULL);
      g_set_error (error, MERO_SECRET_FILE_ERROR, MERO_SECRET_FILE_ERROR_NOT_REGULAR,
                   _("%s is not a regular file"), path);
      return -1;
    }
  /* A secret others can read is no secret: refuse rather than warn. */
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_close (fd, NULL);
      g_set_error (error, MERO_SECRET_FILE_ERROR, MERO_SECRET_FILE_ERROR_PERMISSIONS,
                   _("%s has mode %04o: a secret must not be accessible to group or others; "
                     "run “chmod 600 %s”"),
                   path, (guint) (st.st_mode & 07777), path);
      return -1;
    }
  n = read_bounded (fd, buf, max);
  errsv = errno;
  g_close (fd, NULL);
  if (n < 0)
    g_set_error (error, MERO_SECRET_FILE_ERROR, MERO_SECRET_FILE_ERROR_IO,
                 _("Cannot read %s: %s"), path, g_strerror (errsv));
  return n;
}
