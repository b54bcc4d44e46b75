/* test-home-lock.c: one lock holder per home. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "node/mero-home-lock.h"

static void
test_exclusive (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *home = g_dir_make_tmp ("mero-lock-XXXXXX", &error);
  g_autofree char *lock_path = g_build_filename (home, MERO_HOME_LOCK_FILE_NAME, NULL);
  g_autofree char *pid = g_strdup_printf ("pid %ld", (long) getpid ());
  g_autoptr (MeroHomeLock) first = NULL;
  g_autoptr (MeroHomeLock) second = NULL;
  g_autoptr (MeroHomeLock) third = NULL;

  g_assert_no_error (error);
  first = mero_home_lock_acquire (home, &error);
  g_assert_no_error (error);
  g_assert_nonnull (first);

  /* flock locks belong to the open file description, so a second open in
   * the same process conflicts just as another process would. */
  second = mero_home_lock_acquire (home, &error);
  g_assert_null (second);
  g_assert_error (error, MERO_HOME_LOCK_ERROR, MERO_HOME_LOCK_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, home));
  g_assert_nonnull (strstr (error->message, pid));
  g_clear_error (&error);

  g_clear_pointer (&first, mero_home_lock_release);
  third = mero_home_lock_acquire (home, &error);
  g_assert_no_error (error);
  g_assert_nonnull (third);
  g_clear_pointer (&third, mero_home_lock_release);

  g_unlink (lock_path);
  g_rmdir (home);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/home-lock/exclusive", test_exclusive);
  return g_test_run ();
}
