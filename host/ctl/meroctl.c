/* meroctl.c: client of a running merod, over D-Bus.
 *
 *   meroctl [--bus=session|system] info      PeerId, version, home
 *   meroctl [--bus=session|system] plugins   the node's plugins
 *
 * Exit status: 0 success, 1 no node or a failed call, 2 bad usage. */
#define G_LOG_DOMAIN "meroctl"

#include <glib/gi18n.h>
#include <locale.h>

#include "dbus/mero-dbus-node1-generated.h"
#include "dbus/mero-dbus-service.h"
#include "mero-build-config.h"

#define EXIT_FAILED 1
#define EXIT_USAGE 2
/* A node that does not answer within this is as good as absent. */
#define CALL_TIMEOUT_MS 10000

static int
print_error (const GError *error)
{
  g_printerr ("meroctl: %s\n", error->message);
  return EXIT_FAILED;
}

static int
command_info (MeroDBusNode1 *node)
{
  g_print ("%s: %s\n", _("PeerId"), mero_dbus_node1_get_peer_id (node));
  g_print ("%s: %s\n", _("Version"), mero_dbus_node1_get_version (node));
  g_print ("%s: %s\n", _("Home"), mero_dbus_node1_get_home_dir (node));
  return 0;
}

static int
command_plugins (MeroDBusNode1 *node)
{
  g_autoptr (GVariant) plugins = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *name, *kind, *version, *file, *status;

  if (!mero_dbus_node1_call_list_plugins_sync (node, &plugins, NULL, &error))
    return print_error (error);
  g_print ("%-20s %-16s %-10s %-9s %s\n", _("NAME"), _("KIND"), _("VERSION"), _("STATUS"),
           _("FILE"));
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &name, &kind, &version, &file, &status))
    g_print ("%-20s %-16s %-10s %-9s %s\n", name, kind, version, status, file);
  return 0;
}

int
main (int argc, char **argv)
{
  g_autofree char *bus = NULL;
  const GOptionEntry entries[] = {
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus,
      N_("D-Bus bus of the node: session or system (default: session)"), N_("BUS") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDBusNode1) node = NULL;
  g_autofree char *owner = NULL;
  GBusType bus_type = G_BUS_TYPE_SESSION;
  const char *localedir = g_getenv ("MERO_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : MERO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (N_("info | plugins"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, _("Control a running merod node over D-Bus."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("meroctl: %s\n", error->message);
      return EXIT_USAGE;
    }
  if (g_strcmp0 (bus, "system") == 0)
    bus_type = G_BUS_TYPE_SYSTEM;
  else if (bus != NULL && g_strcmp0 (bus, "session") != 0)
    {
      g_printerr (_("meroctl: invalid value “%s” for --bus: expected session or system\n"), bus);
      return EXIT_USAGE;
    }
  if (argc != 2 || (g_strcmp0 (argv[1], "info") != 0 && g_strcmp0 (argv[1], "plugins") != 0))
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return EXIT_USAGE;
    }

  node = mero_dbus_node1_proxy_new_for_bus_sync (bus_type, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 MERO_DBUS_NAME, MERO_DBUS_PATH, NULL, &error);
  if (node == NULL)
    return print_error (error);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (node), CALL_TIMEOUT_MS);
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (node));
  if (owner == NULL)
    {
      g_printerr (_("meroctl: no node is running on the %s bus (nobody owns %s)\n"),
                  bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session", MERO_DBUS_NAME);
      return EXIT_FAILED;
    }
  if (g_str_equal (argv[1], "info"))
    return command_info (node);
  return command_plugins (node);
}
