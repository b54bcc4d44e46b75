/* mero-server-token.h: the bearer token of the HTTP server.
 *
 * <home>/http.token holds 32 random bytes as 64 lowercase hex digits and
 * a newline, mode 0600.  `merod init` creates it (the server too, on a
 * start that finds it missing) and it is kept afterwards, so tools configured with it keep working across
 * restarts; delete the file to rotate the token.  A token file that is
 * group- or world-accessible, not a regular file or not 64 hex digits is
 * refused, as identity.key is. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_SERVER_TOKEN_FILE_NAME "http.token"
#define MERO_SERVER_TOKEN_BYTES 32

/* (transfer full) the token as 64 hex digits, creating the file first if
 * it does not exist. */
char *mero_server_token_load_or_create (const char *home, GError **error);

/* Constant-time comparison of the token a client sent with ours. */
gboolean mero_server_token_equal (const char *expected, const char *presented);

G_END_DECLS
