/* main.c: the merod command line.
 *
 *   merod init [--home DIR] [--force]
 *   merod run [--home DIR] [--bus=session|system|none]
 *   merod config get KEY | set KEY VALUE   [--home DIR]
 *   merod plugins [--home DIR]
 *   merod peers [--home DIR]
 *   merod tee verify QUOTE [COLLATERAL_DIR_OR_FILE] [--at UNIX_SECONDS] [--json] [--home DIR]
 *   merod --version
 *
 * Exit status: 0 success or clean stop, 1 runtime failure, 2 bad or
 * missing configuration or bad usage. */
#define G_LOG_DOMAIN "merod"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <sodium.h>
#include <string.h>

#include "config/mero-config.h"
#include "mero-build-config.h"
#include "node/mero-home.h"
#include "node/mero-log.h"
#include "node/mero-node-plugins.h"
#include "node/mero-node.h"
#include "node/mero-peers-report.h"
#include "server/mero-server-token.h"
#include "tee/mero-tee-verify.h"

#define EXIT_RUNTIME 1
#define EXIT_CONFIG 2

typedef int (*CommandFunc) (int argc, char **argv);

static void
setup_i18n (void)
{
  /* MERO_LOCALEDIR lets the build tree's catalogues be used before
   * installation (tests, meson devenv). */
  const char *localedir = g_getenv ("MERO_LOCALEDIR");

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, localedir != NULL ? localedir : MERO_LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

static int
print_error (const GError *error)
{
  g_printerr ("merod: %s\n", error->message);
  return error->domain == MERO_CONFIG_ERROR || error->domain == G_OPTION_ERROR ? EXIT_CONFIG
                                                                                 : EXIT_RUNTIME;
}

static GOptionContext *
command_context (const char *parameter, const char *summary, const GOptionEntry *entries)
{
  GOptionContext *context = g_option_context_new (parameter);

  g_option_context_set_translation_domain (context, GETTEXT_PACKAGE);
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  return context;
}

static gboolean
parse_command (GOptionContext *context, int *argc, char ***argv, int *status)
{
  g_autoptr (GError) error = NULL;

  if (!g_option_context_parse (context, argc, argv, &error))
    {
      *status = print_error (error);
      return FALSE;
    }
  return TRUE;
}

/* merod init ------------------------------------------------------------ */

static int
command_init (int argc, char **argv)
{
  g_autofree char *home = NULL;
  gboolean force = FALSE;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node (default: $XDG_DATA_HOME/merod)"), N_("DIR") },
    { "force", 0, 0, G_OPTION_ARG_NONE, &force,
      N_("Rewrite an existing configuration (the identity is kept)"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context =
      command_context (NULL, _("Create a node home: a documented merod.conf, the node "
                               "identity and the HTTP token. Prints the node's PeerId."),
                       entries);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroIdentity) identity = NULL;
  g_autofree char *peer_id = NULL;
  g_autofree char *token = NULL;
  int status = 0;

  if (!parse_command (context, &argc, &argv, &status))
    return status;
  if (argc > 1)
    {
      g_printerr (_("merod: unexpected argument “%s”\n"), argv[1]);
      return EXIT_CONFIG;
    }
  if (home == NULL)
    home = mero_config_default_home ();
  identity = mero_home_init (home, force, &error);
  if (identity == NULL)
    return print_error (error);
  /* The HTTP token exists from the start, so a client can be configured
   * with it before the node first runs (an existing one is kept). */
  token = mero_server_token_load_or_create (home, &error);
  if (token == NULL)
    return print_error (error);
  sodium_memzero (token, strlen (token));
  peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (identity));
  g_printerr (_("Initialised the node home %s\n"), home);
  g_print ("%s\n", peer_id);
  return 0;
}

/* merod run ------------------------------------------------------------- */

typedef struct {
  GMainLoop *loop;
  int status;
} RunState;

static gboolean
on_signal (gpointer user_data)
{
  RunState *state = user_data;

  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "stopping", "MESSAGE",
                    "stopping on signal");
  g_main_loop_quit (state->loop);
  return G_SOURCE_CONTINUE;
}

static void
on_node_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  RunState *state = user_data;
  g_autoptr (GError) error = NULL;

  if (!mero_node_start_finish (NULL, result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        state->status = print_error (error);
      g_main_loop_quit (state->loop);
    }
}

static GSource *
add_signal (int signum, RunState *state)
{
  GSource *source = g_unix_signal_source_new (signum);

  g_source_set_callback (source, on_signal, state, NULL);
  g_source_attach (source, NULL);
  return source;
}

static int
command_run (int argc, char **argv)
{
  g_autofree char *home = NULL;
  g_autofree char *bus = NULL;
  gboolean verbose = FALSE;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node (default: $XDG_DATA_HOME/merod)"), N_("DIR") },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log peer, context, delta and sync activity (log.level=info)"), NULL },
    { "bus", 0, 0, G_OPTION_ARG_STRING, &bus,
      N_("D-Bus bus to own network.calimero.Node1 on: session, system or none "
         "(default: dbus.bus from merod.conf)"),
      N_("BUS") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      NULL, _("Run the node until SIGINT or SIGTERM. The default home is initialised on its "
              "first run; another --home needs “merod init --home DIR” first."),
      entries);
  MeroNodeOptions options = { 0 };
  g_autoptr (MeroNode) node = NULL;
  g_autoptr (GMainLoop) loop = NULL;
  g_autoptr (GError) error = NULL;
  RunState state = { 0 };
  GSource *sigint;
  GSource *sigterm;

  if (!parse_command (context, &argc, &argv, &state.status))
    return state.status;
  if (argc > 1)
    {
      g_printerr (_("merod: unexpected argument “%s”\n"), argv[1]);
      return EXIT_CONFIG;
    }
  if (bus != NULL)
    {
      if (!mero_config_bus_from_string (bus, &options.bus))
        {
          g_printerr (_("merod: invalid value “%s” for --bus: expected session, system or "
                        "none\n"),
                      bus);
          return EXIT_CONFIG;
        }
      options.bus_set = TRUE;
    }
  options.home = home;
  options.init_if_fresh = home == NULL;
  mero_log_install ();
  if (verbose)
    mero_log_raise_level (MERO_NODE_LOG_INFO);

  loop = g_main_loop_new (NULL, FALSE);
  state.loop = loop;
  sigint = add_signal (SIGINT, &state);
  sigterm = add_signal (SIGTERM, &state);

  node = mero_node_new (&options);
  mero_node_start_async (node, NULL, on_node_started, &state);
  g_main_loop_run (loop);

  g_source_destroy (sigint);
  g_source_unref (sigint);
  g_source_destroy (sigterm);
  g_source_unref (sigterm);
  if (!mero_node_stop (node, &error))
    {
      g_printerr (_("merod: stopping the node: %s\n"), error->message);
      return EXIT_RUNTIME;
    }
  if (state.status == 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "stopped", "MESSAGE",
                      "stopped");
  return state.status;
}

/* merod config ---------------------------------------------------------- */

/* What `merod run` checks beyond the schema, checked by `config set` too:
 * store.backend must name a storage plugin that loads and is not
 * disabled. */
static gboolean
check_value_like_run (const char *path, const char *key, const char *value, GError **error)
{
  g_autoptr (MeroConfig) config = NULL;
  g_autoptr (MeroPluginRegistry) registry = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!g_str_equal (key, "store.backend"))
    return TRUE;
  config = mero_config_load (path, NULL);
  if (config != NULL && mero_config_plugin_is_disabled (config, value))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “store.backend”: the plugin “%s” is listed in plugins.disabled"),
                   path, value);
      return FALSE;
    }
  registry = mero_plugin_registry_new ();
  mero_node_load_plugins (registry,
                          config != NULL ? (const char *const *) config->plugins_disabled : NULL);
  if (mero_plugin_registry_get_storage_backend (registry, value, &local_error) == NULL)
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “store.backend”: cannot use “%s”: %s"), path, value,
                   local_error->message);
      return FALSE;
    }
  return TRUE;
}

static int
command_config (int argc, char **argv)
{
  g_autofree char *home = NULL;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node (default: $XDG_DATA_HOME/merod)"), N_("DIR") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      N_("get SECTION.KEY | set SECTION.KEY VALUE"),
      _("Read or change one key of merod.conf. Values are validated as at start-up; "
        "comments are kept."),
      entries);
  g_autofree char *path = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!parse_command (context, &argc, &argv, &status))
    return status;
  if (home == NULL)
    home = mero_config_default_home ();
  path = mero_config_path_for_home (home);

  if (argc == 3 && g_str_equal (argv[1], "get"))
    {
      g_autofree char *value = mero_config_get_value (path, argv[2], &error);

      if (value == NULL)
        return print_error (error);
      g_print ("%s\n", value);
      return 0;
    }
  if (argc == 4 && g_str_equal (argv[1], "set"))
    {
      if (!check_value_like_run (path, argv[2], argv[3], &error)
          || !mero_config_set_value (path, argv[2], argv[3], &error))
        return print_error (error);
      return 0;
    }
  g_printerr (_("Usage: merod config get SECTION.KEY | set SECTION.KEY VALUE\n"));
  return EXIT_CONFIG;
}

/* merod plugins --------------------------------------------------------- */

static int
command_plugins (int argc, char **argv)
{
  g_autofree char *home = NULL;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node, for [plugins] disabled (default: $XDG_DATA_HOME/merod)"),
      N_("DIR") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      NULL, _("List the plugins in the search path with their kind, version, file and "
              "status, and why each failed plugin was refused. No running node is needed."),
      entries);
  g_autofree char *path = NULL;
  g_autoptr (MeroConfig) config = NULL;
  g_autoptr (MeroPluginRegistry) registry = NULL;
  g_autoptr (GPtrArray) plugins = NULL;
  guint n_loaded = 0;
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!parse_command (context, &argc, &argv, &status))
    return status;
  if (home == NULL)
    home = mero_config_default_home ();
  path = mero_config_path_for_home (home);
  /* Without a home there is nothing disabled; with a broken config the
   * user must hear about it. */
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      config = mero_config_load (path, &error);
      if (config == NULL)
        return print_error (error);
    }

  registry = mero_plugin_registry_new ();
  mero_node_load_plugins (registry,
                          config != NULL ? (const char *const *) config->plugins_disabled : NULL);
  plugins = mero_plugin_registry_list (registry);

  if (plugins->len == 0)
    {
      g_auto (GStrv) search = mero_plugin_registry_default_search_path ();
      g_autofree char *joined = g_strjoinv (":", search);

      g_printerr (_("merod: no plugins found in %s: point MERO_PLUGIN_DIR at the directories "
                    "of the *.plugin files (in a build tree: meson devenv -C BUILD, or "
                    "MERO_PLUGIN_DIR=BUILD/plugins/store-rocksdb:BUILD/plugins/store-memory)\n"),
                  joined);
      return EXIT_RUNTIME;
    }
  g_print ("%-20s %-16s %-10s %-9s %s\n", _("NAME"), _("KIND"), _("VERSION"), _("STATUS"),
           _("FILE"));
  for (guint i = 0; i < plugins->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (plugins, i);

      g_print ("%-20s %-16s %-10s %-9s %s\n", info->name ? info->name : "-",
               mero_plugin_kind_to_string (info->kind), info->version ? info->version : "-",
               mero_plugin_status_to_string (info->status),
               info->module_file ? info->module_file : info->metadata_file);
      if (info->error_message != NULL)
        g_print ("    %s\n", info->error_message);
      n_loaded += info->status == MERO_PLUGIN_STATUS_LOADED;
    }
  if (n_loaded == 0)
    {
      g_printerr (_("merod: no plugin is loaded (see the reasons above)\n"));
      return EXIT_RUNTIME;
    }
  return 0;
}

/* merod peers ----------------------------------------------------------- */

static int
command_peers (int argc, char **argv)
{
  g_autofree char *home = NULL;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node (default: $XDG_DATA_HOME/merod)"), N_("DIR") },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      NULL, _("List the libp2p peers connected to the node running in the home, with their "
              "address and protocols, and the addresses it listens on."),
      entries);
  g_autoptr (GError) error = NULL;
  int status = 0;

  if (!parse_command (context, &argc, &argv, &status))
    return status;
  if (argc > 1)
    {
      g_printerr (_("merod: unexpected argument “%s”\n"), argv[1]);
      return EXIT_CONFIG;
    }
  if (home == NULL)
    home = mero_config_default_home ();
  if (!mero_peers_report_print (home, &error))
    return print_error (error);
  return 0;
}

/* merod tee verify ------------------------------------------------------ */

#define EXIT_REFUSED 1

static int
tee_refused (const char *verifier, const char *reason, gboolean json)
{
  if (json)
    {
      g_autofree char *out = mero_tee_verdict_to_json (verifier, NULL, reason);

      g_print ("%s\n", out);
    }
  g_printerr (_("merod: quote refused: %s\n"), reason);
  return EXIT_REFUSED;
}

static int
command_tee (int argc, char **argv)
{
  g_autofree char *home = NULL;
  gint64 at = -1;
  gboolean json = FALSE;
  const GOptionEntry entries[] = {
    { "home", 0, 0, G_OPTION_ARG_FILENAME, &home,
      N_("Home directory of the node, for [plugins] disabled and tee.accept_mock (default: "
         "$XDG_DATA_HOME/merod)"),
      N_("DIR") },
    { "at", 0, 0, G_OPTION_ARG_INT64, &at,
      N_("Judge every validity window at this time instead of now"), N_("UNIX_SECONDS") },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, N_("Print the verdict as JSON"), NULL },
    { NULL }
  };
  g_autoptr (GOptionContext) context = command_context (
      _("verify QUOTE [COLLATERAL_DIR_OR_FILE]"),
      _("Verify a TEE attestation quote offline with the loaded verifier plugins and print the "
        "verdict. QUOTE is a binary or hex quote file; the collateral is a dcap-qvl "
        "QuoteCollateralV3 JSON file or a directory of them (default: the home's "
        "tee.collateral_dir). Exit status: 0 verified, 1 refused (the reason is printed), 2 "
        "bad usage."),
      entries);
  g_autofree char *path = NULL;
  g_autofree char *collateral_path = NULL;
  g_autoptr (MeroConfig) config = NULL;
  g_autoptr (MeroPluginRegistry) registry = NULL;
  g_autoptr (GBytes) quote = NULL;
  g_autoptr (GPtrArray) collateral = NULL;
  g_autoptr (GError) error = NULL;
  const MeroLoadedTeeVerifier *verifier;
  MeroTeeVerdict verdict;
  uint32_t flags = 0;
  int status = 0;

  if (!parse_command (context, &argc, &argv, &status))
    return status;
  if ((argc != 3 && argc != 4) || !g_str_equal (argv[1], "verify"))
    {
      g_printerr (_("Usage: merod tee verify QUOTE [COLLATERAL_DIR_OR_FILE] [--at UNIX_SECONDS] "
                    "[--json]\n"));
      return EXIT_CONFIG;
    }
  if (at < -1)
    {
      g_printerr (_("merod: --at must be a UNIX time in seconds\n"));
      return EXIT_CONFIG;
    }
  if (home == NULL)
    home = mero_config_default_home ();
  path = mero_config_path_for_home (home);
  if (g_file_test (path, G_FILE_TEST_EXISTS))
    {
      config = mero_config_load (path, &error);
      if (config == NULL)
        return print_error (error);
      if (config->tee_accept_mock)
        flags |= MERO_TEE_VERIFY_ACCEPT_MOCK;
    }
  if (argc == 4)
    collateral_path = g_strdup (argv[3]);
  else if (config != NULL && g_path_is_absolute (config->tee_collateral_dir))
    collateral_path = g_strdup (config->tee_collateral_dir);
  else
    collateral_path = g_build_filename (
        home, config != NULL ? config->tee_collateral_dir : "tee-collateral", NULL);
  quote = mero_tee_quote_load (argv[2], &error);
  if (quote == NULL)
    {
      g_printerr (_("merod: cannot read the quote: %s\n"), error->message);
      return EXIT_CONFIG;
    }
  if (!g_file_test (collateral_path, G_FILE_TEST_EXISTS))
    {
      g_printerr (_("merod: no collateral at %s\n"), collateral_path);
      return EXIT_CONFIG;
    }
  collateral = mero_tee_collateral_load (collateral_path, &error);
  if (collateral == NULL)
    {
      g_printerr (_("merod: cannot read the collateral: %s\n"), error->message);
      return EXIT_CONFIG;
    }

  registry = mero_plugin_registry_new ();
  mero_node_load_plugins (registry,
                          config != NULL ? (const char *const *) config->plugins_disabled : NULL);
  verifier = mero_tee_pick_verifier (registry, quote, &error);
  if (verifier == NULL)
    return tee_refused (NULL, error->message, json);
  if (!mero_tee_verify_quote (verifier, quote, collateral,
                              at >= 0 ? at : g_get_real_time () / G_USEC_PER_SEC, flags, &verdict,
                              &error))
    return tee_refused (verifier->info->name, error->message, json);
  if (verdict.flags & MERO_TEE_VERDICT_MOCK)
    g_printerr (_("merod: MOCK quote accepted (tee.accept_mock=true): it attests nothing\n"));
  {
    g_autofree char *out = json ? mero_tee_verdict_to_json (verifier->info->name, &verdict, NULL)
                                : mero_tee_verdict_to_text (verifier->info->name, &verdict);

    g_print (json ? "%s\n" : "%s", out);
  }
  return 0;
}

/* dispatch -------------------------------------------------------------- */

static const struct {
  const char *name;
  CommandFunc func;
  const char *help;
} commands[] = {
  { "init", command_init, N_("Create a node home and print its PeerId") },
  { "run", command_run, N_("Run the node") },
  { "config", command_config, N_("Read or change merod.conf") },
  { "plugins", command_plugins, N_("List plugins and their status") },
  { "peers", command_peers, N_("List the peers of the running node") },
  { "tee", command_tee, N_("Verify a TEE attestation quote (tee verify)") },
};

static void
print_usage (FILE *out)
{
  fprintf (out, "%s\n", _("Usage: merod COMMAND [OPTIONS]"));
  fprintf (out, "\n%s\n", _("Commands:"));
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    fprintf (out, "  %-10s %s\n", commands[i].name, _(commands[i].help));
  fprintf (out, "\n%s\n", _("Run “merod COMMAND --help” for the options of a command."));
}

int
main (int argc, char **argv)
{
  g_autofree char *prgname = NULL;

  setup_i18n ();
  if (sodium_init () < 0)
    {
      g_printerr ("merod: libsodium failed to initialise\n");
      return EXIT_RUNTIME;
    }

  if (argc < 2)
    {
      print_usage (stderr);
      return EXIT_CONFIG;
    }
  if (g_str_equal (argv[1], "--version") || g_str_equal (argv[1], "version"))
    {
      g_print ("merod %s\n", MERO_VERSION);
      return 0;
    }
  if (g_str_equal (argv[1], "--help") || g_str_equal (argv[1], "-h")
      || g_str_equal (argv[1], "help"))
    {
      print_usage (stdout);
      return 0;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        /* GOption prints "merod run" in --help and errors. */
        prgname = g_strdup_printf ("merod %s", commands[i].name);
        g_set_prgname (prgname);
        argv[1] = argv[0];
        return commands[i].func (argc - 1, argv + 1);
      }
  g_printerr (_("merod: unknown command “%s”\n"), argv[1]);
  print_usage (stderr);
  return EXIT_CONFIG;
}
