/* load-plugin.c: loads one .plugin file through the real registry and
 * reports the outcome; exit status 0 only if the plugin loaded.  Used by
 * the out-of-tree SDK test.
 *
 *   load-plugin FILE.plugin [QUOTE]
 *
 * For a TEE verifier, QUOTE is then verified too (exit 1 if rejected). */
#include <stdio.h>
#include <string.h>

#include "plugin/mero-plugin-registry.h"

int
main (int argc, char **argv)
{
  g_autoptr (MeroPluginRegistry) registry = NULL;
  g_autoptr (GError) error = NULL;
  const MeroPluginInfo *info;
  g_autofree char *name = NULL;

  if (argc < 2 || argc > 3)
    {
      fprintf (stderr, "usage: %s FILE.plugin [QUOTE]\n", argv[0]);
      return 2;
    }

  registry = mero_plugin_registry_new ();
  (void) mero_plugin_registry_load_file (registry, argv[1], &error);

  /* The record carries the outcome whatever it was. */
  {
    g_autoptr (GPtrArray) list = mero_plugin_registry_list (registry);

    info = list->len == 1 ? g_ptr_array_index (list, 0) : NULL;
  }
  if (info == NULL)
    {
      fprintf (stderr, "%s: no record\n", argv[1]);
      return 1;
    }
  printf ("name=%s kind=%s version=%s status=%s error=%s\n", info->name,
          mero_plugin_kind_to_string (info->kind), info->version != NULL ? info->version : "-",
          mero_plugin_status_to_string (info->status),
          mero_plugin_error_code_to_string (info->error_code));
  if (info->status != MERO_PLUGIN_STATUS_LOADED)
    {
      printf ("message=%s\n", info->error_message != NULL ? info->error_message : "-");
      return 1;
    }

  if (argc == 3 && info->kind == MERO_PLUGIN_KIND_TEE_VERIFIER)
    {
      MeroTeeVerdict verdict = { .struct_size = sizeof verdict };
      const MeroLoadedTeeVerifier *tee;

      name = g_strdup (info->name);
      tee = mero_plugin_registry_get_tee_verifier (registry, name, &error);
      if (tee == NULL ||
          !tee->vtable->verify (tee->plugin_data, (const guint8 *) argv[2], strlen (argv[2]),
                                NULL, 0, &verdict, &error))
        {
          printf ("verify=rejected (%s)\n", error != NULL ? error->message : "?");
          return 1;
        }
      printf ("verify=ok report_data=%s\n", (const char *) verdict.report_data);
    }
  return 0;
}
