/* test-server-routes.c: README.md's table of HTTP routes is the server's
 * route table, row for row and in order (so neither can change without
 * the other). */
#include <glib.h>
#include <string.h>

#include "server/mero-server-private.h"

static void
test_readme_matches (void)
{
  g_autofree char *readme_path = g_build_filename (g_getenv ("MERO_SOURCE_ROOT"), "README.md",
                                                   NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GPtrArray) rows = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GRegex) row = g_regex_new ("^\\| (GET|POST|PUT|DELETE) \\| `([^`]+)` \\|", 0, 0,
                                        NULL);
  const MeroServerRoute *routes;
  gsize n_routes = 0;

  g_assert_true (g_file_get_contents (readme_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr (GMatchInfo) match = NULL;

      if (g_regex_match (row, lines[i], 0, &match))
        {
          g_autofree char *method = g_match_info_fetch (match, 1);
          g_autofree char *path = g_match_info_fetch (match, 2);

          g_ptr_array_add (rows, g_strdup_printf ("%s %s", method, path));
        }
    }
  routes = mero_server_get_routes (&n_routes);
  for (gsize i = 0; i < MAX (n_routes, rows->len); i++)
    {
      g_autofree char *server = i < n_routes ? g_strdup_printf ("%s %s", routes[i].method,
                                                                routes[i].pattern)
                                             : g_strdup ("(none)");
      const char *documented = i < rows->len ? g_ptr_array_index (rows, i) : "(none)";

      g_test_message ("route %" G_GSIZE_FORMAT ": server %s, README %s", i, server, documented);
      g_assert_cmpstr (server, ==, documented);
    }
  g_assert_cmpuint (n_routes, >, 10);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/server/routes/readme", test_readme_matches);
  return g_test_run ();
}
