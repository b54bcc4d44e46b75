/* mero-plugin-vet.c: see mero-plugin-vet.h. */
#include "plugin/mero-plugin-vet.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mero-sdk.h>

static const char *
file_type_name (mode_t mode)
{
  if (S_ISDIR (mode))
    return "a directory";
  if (S_ISFIFO (mode))
    return "a FIFO";
  if (S_ISSOCK (mode))
    return "a socket";
  if (S_ISCHR (mode) || S_ISBLK (mode))
    return "a device";
  return "not a regular file";
}

gboolean
mero_plugin_vet_file (const char *path, const char *what, GError **error)
{
  struct stat link_st, st;

  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (what != NULL, FALSE);

  if (lstat (path, &link_st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, MERO_PLUGIN_ERROR,
                   saved_errno == ENOENT ? MERO_PLUGIN_ERROR_NOT_FOUND
                                         : MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file cannot be inspected: %s", path, what,
                   g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (link_st.st_mode) && !S_ISLNK (link_st.st_mode))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file is %s", path, what, file_type_name (link_st.st_mode));
      return FALSE;
    }
  if (stat (path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, MERO_PLUGIN_ERROR,
                   saved_errno == ENOENT ? MERO_PLUGIN_ERROR_NOT_FOUND
                                         : MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file is a symbolic link whose target cannot be inspected: %s", path,
                   what, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file is a symbolic link to %s", path, what,
                   file_type_name (st.st_mode));
      return FALSE;
    }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file is %s-writable (mode %04o)", path, what,
                   (st.st_mode & S_IWOTH) != 0 ? "world" : "group",
                   (unsigned) (st.st_mode & 07777));
      return FALSE;
    }
  if (st.st_uid != 0 && st.st_uid != geteuid ())
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_UNSAFE_FILE,
                   "%s: %s file is owned by uid %u, neither root nor the running user", path,
                   what, (unsigned) st.st_uid);
      return FALSE;
    }
  return TRUE;
}
