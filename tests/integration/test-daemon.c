/* test-daemon.c: real merod processes on a private D-Bus (GTestDBus).
 *
 * Covers `merod init`, `merod run` (D-Bus name, properties, ListPlugins,
 * meroctl, SIGTERM → exit 0, restart, second instance refused, name
 * already taken), broken configs (exit 2 naming file and key),
 * `merod config get/set`, the identity and HTTP token file modes, and the
 * German translation.  Every wait is bounded (MERO_TEST_TIMEOUT_MS).
 *
 * Homes made by `merod init` get free ports; a first run on a missing home
 * uses the default ports 2428/2528 and mDNS, so the binary re-executes
 * itself in a network namespace of its own (mero-test-netns) where those
 * collide with nothing on the machine; without one, those tests skip. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include "mero-test-bus.h"
#include "mero-test-daemon.h"
#include "mero-test-netns.h"
#include "net/mero-peer-id.h"
#include "node/mero-node.h"
#include "plugin/mero-plugin-registry.h"
#include "store/mero-store.h"

#define NODE_NAME "network.calimero.Node1"
#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"

/* Why the tests that run merod on an uninitialised home cannot run (no
 * network namespace), or NULL. */
static char *netns_skip;

static gboolean
skip_without_netns (void)
{
  if (netns_skip == NULL)
    return FALSE;
  g_test_skip (netns_skip);
  return TRUE;
}

/* The 64 hex digits of <home>/http.token, checking its mode is 0600. */
static char *
read_token (const char *home)
{
  g_autofree char *path = g_build_filename (home, "http.token", NULL);
  g_autofree char *token = NULL;
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_get_contents (path, &token, NULL, NULL));
  g_strstrip (token);
  g_assert_cmpuint (strlen (token), ==, 64);
  for (const char *p = token; *p != '\0'; p++)
    g_assert_true (g_ascii_isxdigit (*p));
  return g_steal_pointer (&token);
}

typedef struct {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *tmp;
  char *home;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  mero_test_bus_up (&f->bus, &f->connection);
  f->tmp = mero_test_make_tmpdir ("merod-it");
  f->home = g_build_filename (f->tmp, "home", NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mero_test_bus_down (&f->bus, &f->connection);
  mero_test_remove_tree (f->tmp);
  g_free (f->home);
  g_free (f->tmp);
}

/* `merod init` on free ports (mero_test_home_init); the PeerId it printed. */
static char *
init_home (Fixture *f)
{
  return mero_test_home_init (f->home, NULL);
}

static MeroTestDaemon *
start_node (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  MeroTestDaemon *daemon =
      mero_test_daemon_spawn ((const char *[]) { "run", "--home", f->home, NULL }, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_for_name (f->connection, NODE_NAME, MERO_TEST_TIMEOUT_MS));
  return daemon;
}

static void
stop_node (MeroTestDaemon *daemon)
{
  mero_test_daemon_stop (daemon);
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (daemon), "stopped"));
}

static char *
get_string_property (Fixture *f, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      f->connection, NODE_NAME, NODE_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", NODE_IFACE, name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_autoptr (GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return g_variant_dup_string (value, NULL);
}

/* Opens the node's store in this process, through the same plugin, after
 * the node exited: what the node wrote must be there. */
static char *
read_store_owner (Fixture *f)
{
  g_autoptr (MeroPluginRegistry) registry = mero_plugin_registry_new ();
  g_autoptr (GError) error = NULL;
  const MeroLoadedStorageBackend *backend;
  g_autofree char *path = g_build_filename (f->home, "data", NULL);
  MeroStoreOptions options = { 0 };
  g_autoptr (MeroStore) store = NULL;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (MeroPeerId) owner = NULL;
  MeroKey key;

  mero_plugin_registry_load_path (registry, NULL);
  backend = mero_plugin_registry_get_storage_backend (registry, "store-rocksdb", &error);
  g_assert_no_error (error);
  store = mero_store_open (backend->vtable, backend->plugin_data, path, &options, &error);
  g_assert_no_error (error);
  g_assert_true (mero_key_identity (&key, MERO_STORE_PEER_ID_KEY));
  g_assert_true (mero_store_get (store, &key, &value, &error));
  g_assert_no_error (error);
  g_assert_nonnull (value);
  owner = mero_peer_id_new_from_multihash (g_bytes_get_data (value, NULL),
                                           g_bytes_get_size (value), &error);
  g_assert_no_error (error);
  /* The store must be closed before the registry unloads its plugin. */
  g_clear_pointer (&store, mero_store_close);
  return mero_peer_id_to_string (owner);
}

static void
test_init (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *key = g_build_filename (f->home, "identity.key", NULL);
  g_autofree char *conf = g_build_filename (f->home, "merod.conf", NULL);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *token = NULL;
  GStatBuf st;

  g_assert_true (g_str_has_prefix (peer_id, "12D3KooW"));
  g_assert_cmpuint (strlen (peer_id), ==, 52);
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 0777, ==, 0600);
  g_assert_true (g_file_test (conf, G_FILE_TEST_IS_REGULAR));
  /* The HTTP token is there before the node ever ran. */
  token = read_token (f->home);

  /* A second init refuses; --force keeps the identity and the token. */
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "init", "--home", f->home, NULL }, NULL,
                                        NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "--force"));
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "init", "--home", f->home, "--force",
                                        NULL }, NULL, &out, NULL), ==, 0);
  g_strstrip (out);
  g_assert_cmpstr (out, ==, peer_id);
  {
    g_autofree char *kept = read_token (f->home);

    g_assert_cmpstr (kept, ==, token);
  }
}

static void
test_run_dbus (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autoptr (MeroTestDaemon) daemon = start_node (f);
  g_autofree char *prop_peer = get_string_property (f, "PeerId");
  g_autofree char *prop_version = get_string_property (f, "Version");
  g_autofree char *prop_home = get_string_property (f, "HomeDir");
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autoptr (GVariantIter) iter = NULL;
  const char *name, *kind, *version, *file, *status;
  guint found = 0;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *store_dir = g_build_filename (f->home, "data", NULL);
  int exit_status = -1;

  g_assert_cmpstr (prop_peer, ==, peer_id);
  g_assert_cmpstr (prop_version, !=, "");
  g_assert_cmpstr (prop_home, ==, f->home);
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (daemon), peer_id));

  reply = g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH, NODE_IFACE,
                                       "ListPlugins", NULL, G_VARIANT_TYPE ("(a(sssss))"),
                                       G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(a(sssss))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&s&s&s)", &name, &kind, &version, &file, &status))
    if (g_str_equal (name, "store-rocksdb") || g_str_equal (name, "store-memory"))
      {
        g_assert_cmpstr (status, ==, "loaded");
        g_assert_cmpstr (kind, ==, "storage-backend");
        g_assert_true (g_file_test (file, G_FILE_TEST_IS_REGULAR));
        found++;
      }
  g_assert_cmpuint (found, ==, 2);

  /* meroctl against the same bus (DBUS_SESSION_BUS_ADDRESS from GTestDBus). */
  g_assert_true (mero_test_run_sync (
      (const char *[]) { mero_test_meroctl_path (), "info", NULL }, NULL, MERO_TEST_TIMEOUT_MS,
      &out, &err, &exit_status));
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (out, peer_id));
  g_assert_nonnull (strstr (out, f->home));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_true (mero_test_run_sync (
      (const char *[]) { mero_test_meroctl_path (), "plugins", NULL }, NULL,
      MERO_TEST_TIMEOUT_MS, &out, &err, &exit_status));
  g_assert_cmpint (exit_status, ==, 0);
  g_assert_nonnull (strstr (out, "store-rocksdb"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A second node on the same home is refused, naming home and pid. */
  {
    g_autofree char *pid = g_strdup_printf ("pid %d", (int) mero_test_daemon_get_pid (daemon));

    exit_status = mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                       NULL }, NULL, NULL, &err);
    g_assert_cmpint (exit_status, ==, 1);
    g_assert_nonnull (strstr (err, "already in use"));
    g_assert_nonnull (strstr (err, f->home));
    g_assert_nonnull (strstr (err, pid));
    g_clear_pointer (&err, g_free);
  }

  stop_node (daemon);
  g_clear_pointer (&daemon, mero_test_daemon_free);
  g_assert_true (g_file_test (store_dir, G_FILE_TEST_IS_DIR));
  {
    g_autofree char *current = g_build_filename (store_dir, "CURRENT", NULL);

    g_assert_true (g_file_test (current, G_FILE_TEST_IS_REGULAR));
  }

  /* What the node wrote survived its exit. */
  {
    g_autofree char *owner = read_store_owner (f);

    g_assert_cmpstr (owner, ==, peer_id);
  }

  /* meroctl without a node says so. */
  g_assert_true (mero_test_run_sync (
      (const char *[]) { mero_test_meroctl_path (), "info", NULL }, NULL, MERO_TEST_TIMEOUT_MS,
      &out, &err, &exit_status));
  g_assert_cmpint (exit_status, ==, 1);
  g_assert_nonnull (strstr (err, "no node"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* The store reopens and the node comes back with the same identity. */
  daemon = start_node (f);
  g_clear_pointer (&prop_peer, g_free);
  prop_peer = get_string_property (f, "PeerId");
  g_assert_cmpstr (prop_peer, ==, peer_id);
  stop_node (daemon);
}

/* The default home ($XDG_DATA_HOME/merod) is initialised on its first
 * run; a --home that was never initialised is refused, naming the fix. */
static void
test_first_run_initialises (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *xdg = g_build_filename (f->tmp, "xdg", NULL);
  g_autofree char *xdg_env = g_strconcat ("XDG_DATA_HOME=", xdg, NULL);
  g_autofree char *home = g_build_filename (xdg, "merod", NULL);
  g_autofree char *key = g_build_filename (home, "identity.key", NULL);
  g_autofree char *prop_peer = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *token = NULL;
  g_autofree char *hint = g_strdup_printf ("merod init --home %s", f->home);

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                        NULL }, NULL, NULL, &err), ==, 2);
  g_assert_nonnull (strstr (err, hint));
  g_assert_false (g_file_test (f->home, G_FILE_TEST_EXISTS));
  if (skip_without_netns ())
    return;
  daemon = mero_test_daemon_spawn ((const char *[]) { "run", NULL },
                                   (const char *[]) { xdg_env, NULL }, &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_for_name (f->connection, NODE_NAME, MERO_TEST_TIMEOUT_MS));
  prop_peer = get_string_property (f, "PeerId");
  g_assert_true (g_file_test (key, G_FILE_TEST_IS_REGULAR));
  g_assert_true (g_str_has_prefix (prop_peer, "12D3KooW"));
  /* Without `merod init`, the server made the HTTP token itself. */
  token = read_token (home);
  stop_node (daemon);
  /* `merod init --force` reports the same PeerId the node used. */
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "init", "--home", home, "--force",
                                        NULL }, NULL, &out, NULL), ==, 0);
  g_strstrip (out);
  g_assert_cmpstr (out, ==, prop_peer);
}

/* merod plugins: the build tree's merod finds the plugins built beside
 * it without MERO_PLUGIN_DIR; with nothing found it says how to point at
 * them and exits 1. */
static void
test_plugins_search (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *empty = g_build_filename (f->tmp, "no-plugins", NULL);
  g_autofree char *env = g_strconcat ("MERO_PLUGIN_DIR=", empty, NULL);

  g_assert_cmpint (g_mkdir_with_parents (empty, 0700), ==, 0);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "plugins", NULL },
                                        (const char *[]) { "MERO_PLUGIN_DIR=", NULL }, &out,
                                        &err),
                   ==, 0);
  g_assert_nonnull (strstr (out, "store-rocksdb"));
  g_assert_nonnull (strstr (out, "loaded"));
  /* Every sync protocol the build makes is listed and loaded, the
   * SyncManager's choices among them (README "State sync"). */
  {
    static const char *const sync_protocols[] = { "sync-hash", "sync-levelwise",
                                                  "sync-reconcile", "sync-snapshot" };
    g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

    for (guint i = 0; i < G_N_ELEMENTS (sync_protocols); i++)
      {
        g_autofree char *prefix = g_strconcat (sync_protocols[i], " ", NULL);
        const char *line = NULL;

        for (guint j = 0; lines[j] != NULL && line == NULL; j++)
          if (g_str_has_prefix (lines[j], prefix))
            line = lines[j];
        if (line == NULL)
          g_error ("merod plugins does not list %s:\n%s", sync_protocols[i], out);
        g_assert_nonnull (strstr (line, "loaded"));
      }
  }
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "plugins", NULL },
                                        (const char *[]) { env, NULL }, &out, &err),
                   ==, 1);
  g_assert_nonnull (strstr (err, "no plugins found"));
  g_assert_nonnull (strstr (err, empty));
  g_assert_nonnull (strstr (err, "MERO_PLUGIN_DIR"));
}

/* config set refuses what run would refuse: an unknown store backend. */
static void
test_config_set_like_run (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "set", "--home", f->home,
                                        "store.backend", "store-nope", NULL },
                                        NULL, NULL, &err),
                   ==, 2);
  g_assert_nonnull (strstr (err, "store-nope"));
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "get", "--home", f->home,
                                        "store.backend", NULL },
                                        NULL, &out, NULL),
                   ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "store-rocksdb");
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "set", "--home", f->home,
                                        "store.backend", "store-memory", NULL },
                                        NULL, NULL, NULL),
                   ==, 0);
}

/* Runs the node with @args (G_MESSAGES_DEBUG unset), creates a context
 * and sets a key over D-Bus, stops it; returns (transfer full) its output. */
static char *
run_and_write (Fixture *f, const char *const *args, gboolean expect_info)
{
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL, set = NULL;
  const char *context_id;
  char *output;

  daemon = mero_test_daemon_spawn_merged (args, (const char *[]) { "G_MESSAGES_DEBUG=", NULL },
                                          &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_for_name (f->connection, NODE_NAME, MERO_TEST_TIMEOUT_MS));
  created = g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH, NODE_IFACE,
                                         "CreateContext", g_variant_new ("(s)", "kv"),
                                         G_VARIANT_TYPE ("(ss)"), G_DBUS_CALL_FLAGS_NONE,
                                         MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &context_id, NULL);
  set = g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, "Call",
                                     g_variant_new ("(sss)", context_id, "set",
                                                    "{\"key\":\"k\",\"value\":1}"),
                                     G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                     MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  if (expect_info)
    g_assert_true (mero_test_daemon_wait_for_stderr (daemon, ": root ", MERO_TEST_TIMEOUT_MS));
  mero_test_daemon_stop (daemon);
  output = g_strdup (mero_test_daemon_get_stderr (daemon));
  g_test_message ("%s", output);
  return output;
}

/* merod run -v (and log.level=info) shows context and delta activity at
 * info level; without it only messages are printed. */
static void
test_verbose (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *quiet = NULL, *verbose = NULL, *configured = NULL;

  quiet = run_and_write (f, (const char *[]) { "run", "--home", f->home, NULL }, FALSE);
  g_assert_nonnull (strstr (quiet, "ready: "));
  g_assert_null (strstr (quiet, ": root "));
  g_assert_null (strstr (quiet, "created in group"));
  verbose = run_and_write (f, (const char *[]) { "run", "--home", f->home, "-v", NULL }, TRUE);
  g_assert_nonnull (strstr (verbose, "created in group"));
  g_assert_nonnull (strstr (verbose, ": root "));
  g_assert_null (strstr (verbose, "DEBUG"));
  mero_test_config_set (f->home, "log.level", "info");
  configured = run_and_write (f, (const char *[]) { "run", "--home", f->home, NULL }, TRUE);
  g_assert_nonnull (strstr (configured, "created in group"));
}

static void
test_name_taken (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autofree char *other = g_build_filename (f->tmp, "other", NULL);
  g_autofree char *err = NULL;

  if (skip_without_netns ())
    return;
  g_free (init_home (f));
  daemon = start_node (f);

  g_free (mero_test_home_init (other, NULL));
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", other, NULL }, NULL,
                                        NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "network.calimero.Node1 is already owned"));
  stop_node (daemon);
}

/* Writes the default config, then replaces the line starting with
 * @prefix by @line (NULL deletes it). */
static char *
break_config (Fixture *f, const char *prefix, const char *line)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *conf = g_build_filename (f->home, "merod.conf", NULL);
  g_autofree char *contents = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  g_autofree char *text = NULL;

  g_assert_true (g_file_get_contents (conf, &contents, NULL, NULL));
  lines = g_strsplit (contents, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      if (g_str_has_prefix (lines[i], prefix))
        {
          if (line != NULL)
            g_string_append_printf (out, "%s\n", line);
          continue;
        }
      g_string_append_printf (out, "%s\n", lines[i]);
    }
  text = g_string_free (out, FALSE);
  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  return g_steal_pointer (&conf);
}

static void
assert_run_fails_on_config (Fixture *f, const char *conf, const char *key, const char *value)
{
  g_autofree char *err = NULL;
  int status = mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none", NULL
                                    }, NULL, NULL, &err);

  g_test_message ("stderr: %s", err);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, conf));
  if (key != NULL)
    g_assert_nonnull (strstr (err, key));
  if (value != NULL)
    g_assert_nonnull (strstr (err, value));
}

static void
test_bad_value (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = break_config (f, "port=", "port=twenty");

  assert_run_fails_on_config (f, conf, "network.port", "twenty");
}

static void
test_missing_key (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = break_config (f, "backend=", NULL);

  assert_run_fails_on_config (f, conf, "store.backend", NULL);
}

static void
test_unparseable (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = break_config (f, "[network]", "[network");

  assert_run_fails_on_config (f, conf, NULL, NULL);
}

static void
test_missing_config (Fixture *f, gconstpointer data)
{
  g_autofree char *conf = break_config (f, "port=", NULL);

  g_assert_cmpint (g_unlink (conf), ==, 0);
  assert_run_fails_on_config (f, conf, NULL, NULL);
}

static void
test_config_get_set (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *conf = g_build_filename (f->home, "merod.conf", NULL);
  g_autofree char *contents = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "--home", f->home, "set",
                                                 "network.port", "2600", NULL },
                              NULL, NULL, NULL),
                   ==, 0);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "--home", f->home, "get",
                                                 "network.port", NULL },
                              NULL, &out, NULL),
                   ==, 0);
  g_assert_cmpstr (out, ==, "2600\n");

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "--home", f->home, "set",
                                                 "network.port", "99999", NULL },
                              NULL, NULL, &err),
                   ==, 2);
  g_assert_nonnull (strstr (err, "network.port"));
  g_assert_nonnull (strstr (err, "99999"));
  g_assert_nonnull (strstr (err, conf));

  g_assert_true (g_file_get_contents (conf, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "port=2600"));
  g_assert_nonnull (strstr (contents, "# TCP port"));
}

static void
test_identity_readable (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *key = g_build_filename (f->home, "identity.key", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_chmod (key, 0644), ==, 0);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                        NULL }, NULL, NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, key));
  g_assert_nonnull (strstr (err, "chmod 600"));
}

static void
test_store_of_other_identity (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autoptr (MeroTestDaemon) daemon = start_node (f);
  g_autofree char *other_home = g_build_filename (f->tmp, "other", NULL);
  g_autofree char *other_key = g_build_filename (other_home, "identity.key", NULL);
  g_autofree char *key = g_build_filename (f->home, "identity.key", NULL);
  g_autofree char *other_peer = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *err = NULL;
  gsize len;

  stop_node (daemon);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "init", "--home", other_home, NULL },
                                        NULL, &other_peer, NULL), ==, 0);
  g_strstrip (other_peer);
  g_assert_true (g_file_get_contents (other_key, &contents, &len, NULL));
  g_assert_true (g_file_set_contents_full (key, contents, len, G_FILE_SET_CONTENTS_CONSISTENT,
                                           0600, NULL));

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                        NULL }, NULL, NULL, &err), ==, 1);
  g_test_message ("stderr: %s", err);
  g_assert_nonnull (strstr (err, "belongs to node"));
  g_assert_nonnull (strstr (err, peer_id));
  g_assert_nonnull (strstr (err, other_peer));
}

static void
test_german (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *err = NULL;
  g_autofree char *localedir = g_strdup (g_getenv ("MERO_LOCALEDIR"));
  g_autofree char *mo = NULL;
  g_autofree char *env_dir = NULL;

  g_assert_nonnull (localedir);
  /* meson's i18n module lays the build tree out like an installed one. */
  mo = g_build_filename (localedir, "de", "LC_MESSAGES", "merod.mo", NULL);
  g_assert_true (g_file_test (mo, G_FILE_TEST_IS_REGULAR));
  env_dir = g_strconcat ("MERO_LOCALEDIR=", localedir, NULL);

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "--home", f->home, "get",
                                        "nope.key", NULL }, (const char *[]) { "LANGUAGE=de",
                                        "LC_ALL=C.UTF-8", env_dir, NULL }, NULL, &err), ==, 2);
  g_test_message ("stderr: %s", err);
  g_assert_nonnull (strstr (err, "unbekannter Schlüssel „nope.key“"));
}

static void
test_passphrase (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *err = NULL;
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  mero_test_config_set (f->home, "store.encryption", "passphrase");

  /* No passphrase in the environment: a clear refusal, nothing created. */
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                        NULL }, (const char *[]) { "MERO_STORE_PASSPHRASE=", NULL },
                                        NULL, &err), ==, 1);
  g_assert_nonnull (strstr (err, "MERO_STORE_PASSPHRASE"));
  g_clear_pointer (&err, g_free);

  daemon = mero_test_daemon_spawn ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                                      NULL },
                                   (const char *[]) { "MERO_STORE_PASSPHRASE=correct horse",
                                                      NULL },
                                   &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  mero_test_daemon_send_signal (daemon, SIGINT);
  g_assert_true (mero_test_daemon_wait_exit (daemon, MERO_TEST_TIMEOUT_MS, &status));
  g_assert_cmpint (status, ==, 0);

  /* The wrong passphrase is refused by the store. */
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--home", f->home, "--bus=none",
                                        NULL }, (const char *[]) { "MERO_STORE_PASSPHRASE=wrong",
                                        NULL }, NULL, &err), ==, 1);
  g_test_message ("stderr: %s", err);
  g_assert_nonnull (strstr (err, "Cannot open the store"));
}

static void
test_plugins (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autofree char *out = NULL;
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *text = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "plugins", "--home", f->home, NULL },
                                        NULL, &out, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "store-rocksdb"));
  g_assert_nonnull (strstr (out, "store-memory"));
  g_assert_nonnull (strstr (out, "loaded"));
  /* The sync protocol plugins load (with the host's state access). */
  g_assert_true (g_regex_match_simple ("sync-hash +sync-protocol +\\S+ +loaded", out, 0, 0));
  g_assert_true (g_regex_match_simple ("sync-levelwise +sync-protocol +\\S+ +loaded", out, 0, 0));
  g_assert_true (g_regex_match_simple ("sync-snapshot +sync-protocol +\\S+ +loaded", out, 0, 0));
  /* key-share runs /calimero/stream/key/1 (group keys), not a state sync. */
  g_assert_true (g_regex_match_simple ("key-share +sync-protocol +\\S+ +loaded", out, 0, 0));
  g_assert_true (g_regex_match_simple ("sync-reconcile +sync-protocol +\\S+ +loaded", out, 0, 0));
  /* blob-share runs /calimero/blob/1 (blob chunks), not a state sync. */
  g_assert_true (g_regex_match_simple ("blob-share +sync-protocol +\\S+ +loaded", out, 0, 0));
  g_clear_pointer (&out, g_free);

  /* A disabled plugin is listed as such and never loaded by the node. */
  mero_test_config_set (f->home, "plugins.disabled", "store-memory");
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "plugins", "--home", f->home, NULL },
                                        NULL, &out, NULL), ==, 0);
  g_assert_true (g_regex_match_simple ("store-memory +\\S+ +\\S+ +disabled", out, 0, 0));

  daemon = start_node (f);
  reply = g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH, NODE_IFACE,
                                       "ListPlugins", NULL, G_VARIANT_TYPE ("(a(sssss))"),
                                       G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL,
                                       &error);
  g_assert_no_error (error);
  text = g_variant_print (reply, FALSE);
  g_test_message ("ListPlugins: %s", text);
  g_assert_true (g_regex_match_simple ("'store-rocksdb', [^)]*'loaded'\\)", text, 0, 0));
  g_assert_true (g_regex_match_simple ("'store-memory', [^)]*'disabled'\\)", text, 0, 0));
  stop_node (daemon);
}

static void
test_memory_backend (Fixture *f, gconstpointer data)
{
  g_autofree char *peer_id = init_home (f);
  g_autoptr (MeroTestDaemon) daemon = NULL;
  g_autofree char *store_dir = g_build_filename (f->home, "data", NULL);

  mero_test_config_set (f->home, "store.backend", "store-memory");
  daemon = start_node (f);
  g_assert_nonnull (strstr (mero_test_daemon_get_stderr (daemon), "(store-memory)"));
  stop_node (daemon);
}

static void
test_version_and_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "--version", NULL }, NULL, &out, NULL),
                                        ==, 0);
  g_assert_true (g_str_has_prefix (out, "merod "));
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "frobnicate", NULL }, NULL, NULL, &err),
                                        ==, 2);
  g_assert_nonnull (strstr (err, "frobnicate"));
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mero_test_run_merod ((const char *[]) { "run", "--bus=taxi", NULL }, NULL, NULL,
                                        &err), ==, 2);
  g_assert_nonnull (strstr (err, "taxi"));
}

int
main (int argc, char **argv)
{
  netns_skip = mero_test_netns_enter (argv);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/daemon/init", test_init);
  ADD ("/daemon/run-dbus", test_run_dbus);
  ADD ("/daemon/first-run-initialises", test_first_run_initialises);
  ADD ("/daemon/plugins-search", test_plugins_search);
  ADD ("/daemon/config-set-like-run", test_config_set_like_run);
  ADD ("/daemon/verbose", test_verbose);
  ADD ("/daemon/name-taken", test_name_taken);
  ADD ("/daemon/config/bad-value", test_bad_value);
  ADD ("/daemon/config/missing-key", test_missing_key);
  ADD ("/daemon/config/unparseable", test_unparseable);
  ADD ("/daemon/config/missing-file", test_missing_config);
  ADD ("/daemon/config/get-set", test_config_get_set);
  ADD ("/daemon/identity-readable", test_identity_readable);
  ADD ("/daemon/i18n-german", test_german);
  ADD ("/daemon/store/passphrase", test_passphrase);
  ADD ("/daemon/store/other-identity", test_store_of_other_identity);
  ADD ("/daemon/store/memory-backend", test_memory_backend);
  ADD ("/daemon/plugins", test_plugins);
  ADD ("/daemon/version-and-usage", test_version_and_usage);
#undef ADD
  return g_test_run ();
}
