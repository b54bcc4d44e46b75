/* meroctl.c: client of a running merod, over D-Bus or HTTP.
 *
 *   meroctl [--bus=session|system] [--name=BUSNAME] [--json] COMMAND
 *     info                                  PeerId, version, home
 *     plugins                               the node's plugins
 *     peers                                 connected libp2p peers
 *     context create [APPLICATION]          a new context (default app: kv)
 *     context list                          contexts this node has joined
 *     context info CONTEXT                  root hash, heads, members, peers
 *     context invite CONTEXT [--invitee PEERID] [--expiry SECONDS]
 *     context join INVITATION               join with an invitation
 *     context leave CONTEXT
 *     context delete CONTEXT                leave and drop the local state
 *     context remove-member CONTEXT PEERID  (admin) and rotate the key
 *     context sync CONTEXT [--resync]       catch up from peers now (--resync:
 *                                           replace the state by a member's)
 *     call CONTEXT METHOD [JSON | --args-file FILE|-]  run the application
 *                                           (kv: set, get, remove, entries,
 *                                           len, clear)
 *     group list                            groups this node belongs to
 *     watch [--context CONTEXT] [--count N] StateChanged signals, one a line
 *     blob upload FILE... [--context CONTEXT [--public]]  store files; prints
 *                                           the blob id (several files: "ID  FILE"
 *                                           each, up to 16 per D-Bus call;
 *                                           --public: anyone naming CONTEXT may
 *                                           fetch it)
 *     blob download ID FILE                 write a blob into FILE
 *     blob list | info ID | delete ID       the node's blobs
 *     blob providers ID --context CONTEXT   members known to hold it (or that say so)
 *     tee info | attest NONCE | fleet-join … | policy CONTEXT …   TEE attestation (D-Bus only)
 *   meroctl --url URL [--token T] COMMAND   the same over the admin API, JSON-RPC
 *     and the event stream (the token also from MERO_TOKEN; needed for a
 *     non-loopback node)
 *
 * --name (or MERO_DBUS_NAME) picks the node by its well-known bus name
 * (merod's dbus.name), so several nodes can share one bus.  --json prints
 * one JSON document per line instead of text.
 *
 * Exit status: 0 success, 1 no node or a failed call (the node's message
 * on stderr), 2 bad usage (nothing was sent). */
#define G_LOG_DOMAIN "meroctl"

#include <glib/gi18n.h>
#include <locale.h>

#include "ctl-commands.h"
#include "dbus/mero-dbus-service.h"
#include "mero-build-config.h"

#define MERO_DBUS_NAME_ENV "MERO_DBUS_NAME"

static const char *const commands[] = { "info", "plugins", "peers", "context",
                                        "call", "group", "watch", "blob", "tee", NULL };

static int
run_command (MeroDBusNode1 *node, const char *url, const char *token,
             const CtlOptions *options, const char *command, char **args)
{
  g_autoptr (CtlClient) client = node != NULL ? ctl_client_new_dbus (node)
                                              : ctl_client_new_http (url, token);
  gboolean no_args = args[0] == NULL;

  if (g_str_equal (command, "context"))
    return ctl_context (client, options, args);
  if (g_str_equal (command, "call"))
    return ctl_call (client, options, args);
  if (g_str_equal (command, "group"))
    return ctl_group (client, options, args);
  if (g_str_equal (command, "blob"))
    return node != NULL ? ctl_blob (node, options, args)
                        : ctl_blob_http (options, url, token, args);
  if (g_str_equal (command, "tee"))
    {
      if (node == NULL)
        return ctl_usage_error (_("“tee” talks D-Bus only; run it without --url"));
      return ctl_tee (node, options, args);
    }
  if (!no_args)
    {
      g_autofree char *message =
          g_strdup_printf (_("“%s” takes no arguments"), command);

      return ctl_usage_error (message);
    }
  if (g_str_equal (command, "watch"))
    return ctl_watch (node, client, url, token, options);
  if (node == NULL)
    return ctl_http_run (command, url, token, options);
  if (g_str_equal (command, "info"))
    return ctl_info (node, options);
  if (g_str_equal (command, "peers"))
    return ctl_peers (node, options);
  return ctl_plugins (node, options);
}

int
main (int argc, char **argv)
{
  g_autofree char *bus = NULL;
  g_autofree char *name = NULL;
  g_autofree char *url = NULL;
  g_autofree char *token = NULL;
  CtlOptions options = { .expiry_secs = -1 };
  const GOptionEntry entries[] = {
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus,
      N_("D-Bus bus of the node: session or system (default: session)"), N_("BUS") },
    { "name", 0, 0, G_OPTION_ARG_STRING, &name,
      N_("Well-known bus name of the node (its dbus.name; default: $MERO_DBUS_NAME or "
         "network.calimero.Node1)"),
      N_("BUSNAME") },
    /* The spelling merod.conf's dbus.name comment uses. */
    { "dbus-name", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_STRING, &name, NULL, NULL },
    { "json", 0, 0, G_OPTION_ARG_NONE, &options.json,
      N_("Print JSON (one document per line) instead of text"), NULL },
    { "invitee", 0, 0, G_OPTION_ARG_STRING, &options.invitee,
      N_("context invite: only this PeerId may use the invitation"), N_("PEERID") },
    { "expiry", 0, 0, G_OPTION_ARG_INT64, &options.expiry_secs,
      N_("context invite: the invitation expires after SECONDS (default: one day)"),
      N_("SECONDS") },
    { "context", 0, 0, G_OPTION_ARG_STRING, &options.watch_context,
      N_("watch: only this context's changes; blob upload: the context the blob is shared in; "
         "blob providers: the context asked"),
      N_("CONTEXT") },
    { "public", 0, 0, G_OPTION_ARG_NONE, &options.blob_public,
      N_("blob upload: make the blob public to the --context (served to non-members that "
         "name it)"),
      NULL },
    { "resync", 0, 0, G_OPTION_ARG_NONE, &options.resync,
      N_("context sync: replace this node's state by a member's (a snapshot) instead of "
         "merging"),
      NULL },
    { "count", 0, 0, G_OPTION_ARG_INT64, &options.count,
      N_("watch: exit after N changes (default: until interrupted)"), N_("N") },
    { "args-file", 0, 0, G_OPTION_ARG_FILENAME, &options.args_file,
      N_("call: read the JSON arguments from FILE (- for stdin) instead of the command line"),
      N_("FILE") },
    { "url", 0, 0, G_OPTION_ARG_STRING, &url,
      N_("Talk to the node's HTTP server at URL (e.g. http://127.0.0.1:2528) instead of D-Bus "
         "(every command)"),
      N_("URL") },
    { "token", 0, 0, G_OPTION_ARG_STRING, &token,
      N_("Bearer token for --url (default: $MERO_TOKEN); needed unless the node trusts this "
         "client's loopback address"),
      N_("TOKEN") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDBusNode1) node = NULL;
  g_autofree char *owner = NULL;
  GBusType bus_type = G_BUS_TYPE_SESSION;
  const char *localedir = g_getenv ("MERO_LOCALEDIR");
  const char *bus_name;
  int status;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : MERO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (
      N_("info | plugins | peers | context … | call CONTEXT METHOD [JSON] | group list | watch | "
         "blob …"));
  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context,
                                _("Control a running merod node over D-Bus or, with --url, "
                                  "over HTTP."));
  g_option_context_set_description (
      context,
      _("Commands:\n"
        "  info                                   PeerId, version, home\n"
        "  plugins                                the node's plugins\n"
        "  peers                                  connected libp2p peers\n"
        "  context create [APPLICATION]           a new context (default: kv)\n"
        "  context list                           contexts this node has joined\n"
        "  context info CONTEXT                   root hash, heads, members, peers\n"
        "  context invite CONTEXT [--invitee PEERID] [--expiry SECONDS]\n"
        "  context join INVITATION\n"
        "  context leave CONTEXT\n"
        "  context delete CONTEXT                 leave and drop the local state\n"
        "  context remove-member CONTEXT PEERID\n"
        "  context sync CONTEXT                   catch up from the context's peers now\n"
        "  call CONTEXT METHOD [JSON]             e.g. call CTX set '{\"key\":\"k\",\"value\":1}'\n"
        "  call CONTEXT METHOD --args-file FILE|- the arguments from a file or stdin\n"
        "  group list                             groups this node belongs to\n"
        "  watch [--context CONTEXT] [--count N]  print state changes as they happen\n"
        "  blob upload FILE... [--context CONTEXT [--public]]\n"
        "                                         store files, print their blob ids\n"
        "  blob download ID FILE                  write a blob into FILE\n"
        "  blob list | info ID | delete ID        the node's blobs\n"
        "  tee info | attest | fleet-join | policy  TEE attestation and admission (D-Bus)\n"
        "\n"
        "Exit status: 0 success, 1 no node or a failed call, 2 bad usage."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("meroctl: %s\n", error->message);
      status = CTL_EXIT_USAGE;
      goto out;
    }
  if (g_strcmp0 (bus, "system") == 0)
    bus_type = G_BUS_TYPE_SYSTEM;
  else if (bus != NULL && g_strcmp0 (bus, "session") != 0)
    {
      g_printerr (_("meroctl: invalid value “%s” for --bus: expected session or system\n"), bus);
      status = CTL_EXIT_USAGE;
      goto out;
    }
  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      status = ctl_usage_error (_("missing argument: a command"));
      goto out;
    }
  if (!g_strv_contains (commands, argv[1]))
    {
      g_autofree char *message = g_strdup_printf (
          _("unknown command “%s” (expected info, plugins, peers, context, call, group, "
            "watch, blob or tee)"),
          argv[1]);

      status = ctl_usage_error (message);
      goto out;
    }

  if (url != NULL)
    {
      status = run_command (NULL, url, token != NULL ? token : g_getenv (MERO_TOKEN_ENV),
                            &options, argv[1], argv + 2);
      goto out;
    }

  bus_name = name != NULL ? name : g_getenv (MERO_DBUS_NAME_ENV);
  if (bus_name == NULL || bus_name[0] == '\0')
    bus_name = MERO_DBUS_NAME;
  if (!g_dbus_is_name (bus_name) || g_dbus_is_unique_name (bus_name))
    {
      g_autofree char *message =
          g_strdup_printf (_("“%s” is not a well-known D-Bus name"), bus_name);

      status = ctl_usage_error (message);
      goto out;
    }
  node = mero_dbus_node1_proxy_new_for_bus_sync (bus_type, G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START,
                                                 bus_name, MERO_DBUS_PATH, NULL, &error);
  if (node == NULL)
    {
      status = ctl_print_error (error);
      goto out;
    }
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (node), CTL_CALL_TIMEOUT_MS);
  owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (node));
  if (owner == NULL)
    {
      g_printerr (_("meroctl: no node is running on the %s bus (nobody owns %s)\n"),
                  bus_type == G_BUS_TYPE_SYSTEM ? "system" : "session", bus_name);
      status = CTL_EXIT_FAILED;
      goto out;
    }
  status = run_command (node, NULL, NULL, &options, argv[1], argv + 2);

out:
  g_free (options.invitee);
  g_free (options.watch_context);
  g_free (options.args_file);
  return status;
}
