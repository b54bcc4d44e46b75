/* mero-home.c: creating and recognising a node home. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-home.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "config/mero-config.h"
#include "node/mero-home-lock.h"

gboolean
mero_home_is_fresh (const char *home)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  g_return_val_if_fail (home != NULL, FALSE);

  if (!g_file_test (home, G_FILE_TEST_EXISTS))
    return TRUE;
  dir = g_dir_open (home, 0, NULL);
  if (dir == NULL)
    return FALSE;
  /* A lone lock file is what a first run leaves when it dies before
   * writing anything else; that home is still fresh. */
  while ((name = g_dir_read_name (dir)) != NULL)
    if (!g_str_equal (name, MERO_HOME_LOCK_FILE_NAME))
      return FALSE;
  return TRUE;
}

char *
mero_home_identity_path (const char *home)
{
  g_return_val_if_fail (home != NULL, NULL);

  return g_build_filename (home, MERO_IDENTITY_FILE_NAME, NULL);
}

MeroIdentity *
mero_home_init (const char *home, gboolean force, GError **error)
{
  g_autofree char *config_path = NULL;
  g_autofree char *identity_path = NULL;
  g_autoptr (MeroIdentity) identity = NULL;

  g_return_val_if_fail (home != NULL, NULL);

  if (g_mkdir_with_parents (home, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the home directory %s: %s"), home, g_strerror (errsv));
      return NULL;
    }
  config_path = mero_config_path_for_home (home);
  identity_path = mero_home_identity_path (home);
  if (!force && g_file_test (config_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("The home %s is already initialised (%s exists); use --force to rewrite "
                     "the configuration"),
                   home, config_path);
      return NULL;
    }

  if (g_file_test (identity_path, G_FILE_TEST_EXISTS))
    {
      identity = mero_identity_load (identity_path, error);
      if (identity == NULL)
        return NULL;
    }
  else
    {
      identity = mero_identity_generate ();
      if (!mero_identity_save (identity, identity_path, error))
        return NULL;
    }
  if (!mero_config_write_default (config_path, TRUE, error))
    return NULL;
  return g_steal_pointer (&identity);
}
