/* mero-server-dashboard.c: GET /admin-dashboard, the one static page of
 * data/dashboard, read from $MERO_DASHBOARD_DIR (the build tree's, under
 * `meson devenv` and in tests) or the installed data directory. */
#define G_LOG_DOMAIN "merod"
#include "mero-build-config.h"
#include "server/mero-server-private.h"

#define DASHBOARD_FILE "admin-dashboard.html"
/* The page is a few tens of KiB; a larger file is not ours. */
#define DASHBOARD_MAX_BYTES (1024 * 1024)

void
mero_server_handle_dashboard (MeroServer *server, SoupServerMessage *msg,
                              const char *const *args)
{
  const char *dir = g_getenv ("MERO_DASHBOARD_DIR");
  g_autofree char *path = g_build_filename (dir != NULL && dir[0] != '\0' ? dir
                                                                           : MERO_DASHBOARD_DIR,
                                            DASHBOARD_FILE, NULL);
  g_autoptr (GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  if (!g_file_get_contents (path, &contents, &length, &error) || length > DASHBOARD_MAX_BYTES)
    {
      g_autofree char *message = g_strdup_printf (
          "the dashboard is not installed at %s (set MERO_DASHBOARD_DIR to the source tree's "
          "data/dashboard, or run under meson devenv)",
          path);

      g_free (contents);
      mero_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "no-dashboard", message);
      return;
    }
  /* Nothing but this node: no other origin's scripts, frames or fetches. */
  soup_message_headers_replace (headers, "Content-Security-Policy",
                                "default-src 'self'; script-src 'unsafe-inline'; "
                                "style-src 'unsafe-inline'; connect-src 'self'; "
                                "frame-ancestors 'none'");
  soup_message_headers_replace (headers, "Cache-Control", "no-cache");
  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/html; charset=utf-8", SOUP_MEMORY_TAKE, contents,
                                    length);
}
