#include "mero-test-fs.h"

#include <glib/gstdio.h>

char *
mero_test_make_tmpdir (const char *prefix)
{
  g_autoptr (GError) error = NULL;
  /* g_dir_make_tmp() replaces the six X of its template with random
   * characters; callers give only the readable part. */
  g_autofree char *template_ = g_strconcat (prefix, "-XXXXXX", NULL);
  char *dir = g_dir_make_tmp (template_, &error);

  g_assert_no_error (error);
  return dir;
}

void
mero_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  if (!g_file_test (path, G_FILE_TEST_IS_DIR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK))
    {
      g_unlink (path);
      return;
    }
  dir = g_dir_open (path, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      mero_test_remove_tree (child);
    }
  g_rmdir (path);
}
