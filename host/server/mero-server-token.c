/* mero-server-token.c: creating, vetting and comparing http.token. */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-token.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define TOKEN_HEX_LEN (MERO_SERVER_TOKEN_BYTES * 2)

static gboolean
create_token_file (const char *path, GError **error)
{
  guint8 bytes[MERO_SERVER_TOKEN_BYTES];
  char hex[TOKEN_HEX_LEN + 2];
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
  randombytes_buf (bytes, sizeof bytes);
  sodium_bin2hex (hex, sizeof hex, bytes, sizeof bytes);
  sodium_memzero (bytes, sizeof bytes);
  hex[TOKEN_HEX_LEN] = '\n';
  hex[TOKEN_HEX_LEN + 1] = '\0';
  ok = g_file_set_contents_full (path, hex, TOKEN_HEX_LEN + 1, G_FILE_SET_CONTENTS_CONSISTENT,
                                 0600, &local_error);
  sodium_memzero (hex, sizeof hex);
  if (!ok)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot write the HTTP token %s: %s"),
                 path, local_error->message);
  return ok;
}

static gboolean
is_hex_token (const char *text)
{
  if (strlen (text) != TOKEN_HEX_LEN)
    return FALSE;
  for (const char *p = text; *p != '\0'; p++)
    if (!g_ascii_isxdigit (*p))
      return FALSE;
  return TRUE;
}

/* Opened without following links and checked on the descriptor, so what
 * is vetted is what is read. */
static char *
read_token_file (const char *path, GError **error)
{
  int fd = g_open (path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
  struct stat st;
  char buffer[TOKEN_HEX_LEN + 8];
  gssize n;
  int errsv;

  if (fd < 0)
    {
      errsv = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot open the HTTP token %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode) || (st.st_mode & 0077) != 0)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The HTTP token %s must be a regular file readable only by its owner "
                     "(chmod 600)"),
                   path);
      return NULL;
    }
  n = read (fd, buffer, sizeof buffer - 1);
  errsv = errno;
  close (fd);
  if (n < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot read the HTTP token %s: %s"), path, g_strerror (errsv));
      return NULL;
    }
  buffer[n] = '\0';
  g_strstrip (buffer);
  if (!is_hex_token (buffer))
    {
      sodium_memzero (buffer, sizeof buffer);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The HTTP token %s is not %d hexadecimal digits; delete it to get a new "
                     "one"),
                   path, TOKEN_HEX_LEN);
      return NULL;
    }
  {
    char *token = g_ascii_strdown (buffer, -1);

    sodium_memzero (buffer, sizeof buffer);
    return token;
  }
}

char *
mero_server_token_load_or_create (const char *home, GError **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (home != NULL, NULL);

  path = g_build_filename (home, MERO_SERVER_TOKEN_FILE_NAME, NULL);
  if (!g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK)
      && !create_token_file (path, error))
    return NULL;
  return read_token_file (path, error);
}

gboolean
mero_server_token_equal (const char *expected, const char *presented)
{
  g_autofree char *lower = NULL;

  g_return_val_if_fail (expected != NULL, FALSE);

  if (presented == NULL || strlen (presented) != strlen (expected))
    return FALSE;
  lower = g_ascii_strdown (presented, -1);
  return sodium_memcmp (expected, lower, strlen (expected)) == 0;
}
