/* mero-plugin-vet.h: decides whether a plugin file is safe to read or load.
 *
 * Rules (for both the .plugin file and the module):
 *  - the path must exist (else MERO_PLUGIN_ERROR_NOT_FOUND);
 *  - lstat(): it must be a regular file or a symbolic link; anything else
 *    (directory, FIFO, socket, device) is MERO_PLUGIN_ERROR_UNSAFE_FILE
 *    without ever being opened, so a FIFO cannot block the loader;
 *  - stat() (following links, as distributions symlink modules): the
 *    final target must also be a regular file;
 *  - the target must not be group- or world-writable, and must be owned by
 *    root or by the user running merod: anyone else could replace the code
 *    we are about to run (UNSAFE_FILE).
 * Directory permissions are not checked: the search path is the
 * administrator's choice (MERO_PLUGIN_DIR or the installed directory), and
 * between this check and dlopen the file is trusted to stay what it was. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* @what names the file in messages ("metadata", "module"). */
gboolean mero_plugin_vet_file (const char *path, const char *what, GError **error);

G_END_DECLS
