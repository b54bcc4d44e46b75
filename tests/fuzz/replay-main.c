/* replay-main.c: runs every file of a seed corpus directory through the
 * fuzz target, so the seeds are a regression test in builds without
 * libFuzzer (gcc, or -Dfuzzing=false).  A crash or sanitizer report fails
 * the test like any other. */
#include <glib.h>
#include <stdio.h>

#include "fuzz-target.h"

int
main (int argc, char **argv)
{
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;
  guint n = 0;

  if (argc != 2)
    {
      fprintf (stderr, "usage: %s CORPUS-DIR\n", argv[0]);
      return 2;
    }
  dir = g_dir_open (argv[1], 0, &error);
  if (dir == NULL)
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (argv[1], name, NULL);
      g_autofree char *contents = NULL;
      gsize len = 0;

      if (!g_file_get_contents (path, &contents, &len, &error))
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      LLVMFuzzerTestOneInput ((const uint8_t *) contents, len);
      n++;
    }
  if (n == 0)
    {
      fprintf (stderr, "no seeds in %s\n", argv[1]);
      return 1;
    }
  printf ("replayed %u inputs from %s\n", n, argv[1]);
  return 0;
}
