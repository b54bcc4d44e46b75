/* mero-home-lock.c: flock(LOCK_EX | LOCK_NB) on <home>/merod.lock. */
#include "node/mero-home-lock.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

G_DEFINE_QUARK (mero-home-lock-error-quark, mero_home_lock_error)

struct _MeroHomeLock {
  int fd;
  char *path;
};

/* The holder writes its pid right after locking; a reader that comes in
 * between sees an empty file, hence "unknown". */
static char *
read_holder_pid (int fd)
{
  char buf[32] = { 0 };
  ssize_t n = pread (fd, buf, sizeof buf - 1, 0);
  guint64 pid;

  if (n > 0)
    {
      buf[n] = '\0';
      g_strstrip (buf);
      if (g_ascii_string_to_unsigned (buf, 10, 1, G_MAXINT32, &pid, NULL))
        return g_strdup_printf ("%" G_GUINT64_FORMAT, pid);
    }
  return g_strdup (_("unknown"));
}

MeroHomeLock *
mero_home_lock_acquire (const char *home, GError **error)
{
  g_autofree char *path = NULL;
  g_autofree char *pid_text = NULL;
  MeroHomeLock *lock;
  int fd;

  g_return_val_if_fail (home != NULL, NULL);

  path = g_build_filename (home, MERO_HOME_LOCK_FILE_NAME, NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int errsv = errno;

      g_set_error (error, MERO_HOME_LOCK_ERROR, MERO_HOME_LOCK_ERROR_IO,
                   _("Cannot open lock file %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      int errsv = errno;

      if (errsv == EWOULDBLOCK)
        {
          g_autofree char *holder = read_holder_pid (fd);

          g_set_error (error, MERO_HOME_LOCK_ERROR, MERO_HOME_LOCK_ERROR_BUSY,
                       _("The home %s is already in use by another merod (pid %s)"), home,
                       holder);
        }
      else
        {
          g_set_error (error, MERO_HOME_LOCK_ERROR, MERO_HOME_LOCK_ERROR_IO,
                       _("Cannot lock %s: %s"), path, g_strerror (errsv));
        }
      close (fd);
      return NULL;
    }

  pid_text = g_strdup_printf ("%ld\n", (long) getpid ());
  if (ftruncate (fd, 0) != 0
      || pwrite (fd, pid_text, strlen (pid_text), 0) != (ssize_t) strlen (pid_text))
    {
      int errsv = errno;

      g_set_error (error, MERO_HOME_LOCK_ERROR, MERO_HOME_LOCK_ERROR_IO,
                   _("Cannot write lock file %s: %s"), path, g_strerror (errsv));
      close (fd);
      return NULL;
    }

  lock = g_new0 (MeroHomeLock, 1);
  lock->fd = fd;
  lock->path = g_steal_pointer (&path);
  return lock;
}

void
mero_home_lock_release (MeroHomeLock *lock)
{
  if (lock == NULL)
    return;
  /* Empty the pid first so nobody reports a pid that is gone. */
  if (ftruncate (lock->fd, 0) != 0)
    g_debug ("could not empty %s: %s", lock->path, g_strerror (errno));
  flock (lock->fd, LOCK_UN);
  close (lock->fd);
  g_free (lock->path);
  g_free (lock);
}
