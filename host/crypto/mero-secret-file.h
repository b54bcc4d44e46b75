/* mero-secret-file.h: reading a file that holds a secret (node identity,
 * store key file).
 *
 * One place for the rules, as ssh applies them to private keys: the file
 * must be a regular file that neither group nor others can access, checked
 * with fstat on the descriptor actually read (not on whatever the path
 * named a moment earlier), and it is read with a bound so an unexpectedly
 * large file cannot make us allocate. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_SECRET_FILE_ERROR (mero_secret_file_error_quark ())
GQuark mero_secret_file_error_quark (void);

typedef enum {
  MERO_SECRET_FILE_ERROR_IO = 1,          /* cannot open or read */
  MERO_SECRET_FILE_ERROR_NOT_REGULAR = 2, /* a directory, FIFO, device... */
  MERO_SECRET_FILE_ERROR_PERMISSIONS = 3, /* group or others have access */
} MeroSecretFileError;

/* Reads at most @max bytes of the secret file @path into @buf (which the
 * caller provides, so it can be locked memory, and must wipe).  Pass a
 * @max one larger than the largest valid content to notice longer files.
 * Returns the number of bytes read, or -1 with @error set; the message
 * names the path, and for PERMISSIONS the mode and the chmod fix. */
gssize mero_secret_file_read (const char *path, guint8 *buf, gsize max, GError **error);

G_END_DECLS
