/* mero-test-cluster.c: several merod processes on one private bus. */
#include "mero-test-cluster.h"

#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>
#include <sys/types.h>

#include "mero-test-bus.h"

#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
/* Joining dials the inviter and waits for the join to be accepted. */
#define JOIN_TIMEOUT_MS 30000

typedef struct {
  char *root;
  gint64 time_us;
  guint count;
} RootRecord;

struct _MeroTestCluster {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *tmp;
  MeroTestNode *nodes[MERO_TEST_CLUSTER_MAX_NODES];
  GHashTable *roots[MERO_TEST_CLUSTER_MAX_NODES];  /* context id -> RootRecord */
  guint n_nodes;
  guint subscription;
  MeroTestStateChangedFunc func;
  gpointer func_data;
  gboolean quiet;
};

/* Running nodes of every live cluster, for the fatal-signal handler: a
 * failed assertion aborts the test without its teardown, and merod
 * children would outlive it (holding ports and the test's stdout, so
 * that meson waits for them).  Plain ints: read in a signal handler. */
#define MAX_LIVE_PIDS 32
static volatile sig_atomic_t live_pids[MAX_LIVE_PIDS];
static gboolean handlers_installed;

static void
kill_live_nodes (int signum)
{
  for (guint i = 0; i < MAX_LIVE_PIDS; i++)
    if (live_pids[i] > 0)
      kill ((pid_t) live_pids[i], SIGKILL);
  signal (signum, SIG_DFL);
  raise (signum);
}

static void
install_handlers (void)
{
  const int fatal[] = { SIGABRT, SIGTERM, SIGINT, SIGSEGV, SIGBUS, SIGTRAP };

  if (handlers_installed)
    return;
  handlers_installed = TRUE;
  for (gsize i = 0; i < G_N_ELEMENTS (fatal); i++)
    {
      struct sigaction action = { 0 };

      action.sa_handler = kill_live_nodes;
      sigemptyset (&action.sa_mask);
      action.sa_flags = SA_RESETHAND;
      sigaction (fatal[i], &action, NULL);
    }
}

static void
track_pid (GPid pid, gboolean live)
{
  for (guint i = 0; i < MAX_LIVE_PIDS; i++)
    if (live ? live_pids[i] == 0 : live_pids[i] == pid)
      {
        live_pids[i] = live ? pid : 0;
        return;
      }
}

static void
root_record_free (gpointer data)
{
  RootRecord *record = data;

  g_free (record->root);
  g_free (record);
}

static void
on_state_changed (GDBusConnection *connection, const char *sender, const char *path,
                  const char *iface, const char *name, GVariant *parameters, gpointer user_data)
{
  MeroTestCluster *cluster = user_data;
  gint64 now = g_get_monotonic_time ();
  const char *context_id;
  const char *root_hash;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ssas)")))
    return;
  g_variant_get (parameters, "(&s&s@as)", &context_id, &root_hash, NULL);
  for (guint i = 0; i < cluster->n_nodes; i++)
    {
      MeroTestNode *node = cluster->nodes[i];
      RootRecord *record;

      if (g_strcmp0 (node->unique_name, sender) != 0)
        continue;
      record = g_hash_table_lookup (cluster->roots[i], context_id);
      if (record == NULL)
        {
          record = g_new0 (RootRecord, 1);
          g_hash_table_insert (cluster->roots[i], g_strdup (context_id), record);
        }
      g_free (record->root);
      record->root = g_strdup (root_hash);
      record->time_us = now;
      record->count++;
      if (cluster->func != NULL)
        cluster->func (node, context_id, root_hash, now, cluster->func_data);
    }
}

MeroTestCluster *
mero_test_cluster_new (void)
{
  MeroTestCluster *cluster = g_new0 (MeroTestCluster, 1);

  install_handlers ();
  mero_test_bus_up (&cluster->bus, &cluster->connection);
  cluster->tmp = mero_test_make_tmpdir ("merod-cluster");
  cluster->subscription = g_dbus_connection_signal_subscribe (
      cluster->connection, NULL, NODE_IFACE, "StateChanged", NODE_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_state_changed, cluster, NULL);
  return cluster;
}

static void
node_free (MeroTestNode *node)
{
  g_free (node->label);
  g_free (node->home);
  g_free (node->bus_name);
  g_free (node->peer_id);
  g_free (node->unique_name);
  g_free (node);
}

void
mero_test_cluster_free (MeroTestCluster *cluster)
{
  if (cluster == NULL)
    return;
  for (guint i = 0; i < cluster->n_nodes; i++)
    {
      MeroTestNode *node = cluster->nodes[i];

      if (node->daemon != NULL)
        {
          int status;

          /* A clean stop where possible: the next test's nodes must not
           * find RocksDB locks or half-written files of this one. */
          mero_test_daemon_send_signal (node->daemon, SIGTERM);
          mero_test_daemon_wait_exit (node->daemon, MERO_TEST_TIMEOUT_MS, &status);
          track_pid (node->pid, FALSE);
          mero_test_daemon_free (node->daemon);
        }
      g_hash_table_unref (cluster->roots[i]);
      node_free (node);
    }
  g_dbus_connection_signal_unsubscribe (cluster->connection, cluster->subscription);
  mero_test_bus_down (&cluster->bus, &cluster->connection);
  mero_test_remove_tree (cluster->tmp);
  g_free (cluster->tmp);
  g_free (cluster);
}

GDBusConnection *
mero_test_cluster_get_connection (MeroTestCluster *cluster)
{
  return cluster->connection;
}

void
mero_test_cluster_set_state_changed_func (MeroTestCluster *cluster,
                                          MeroTestStateChangedFunc func, gpointer user_data)
{
  cluster->func = func;
  cluster->func_data = user_data;
}

void
mero_test_cluster_set_verbose (MeroTestCluster *cluster, gboolean verbose)
{
  cluster->quiet = !verbose;
}

static int
run_program (const char *program, const char *const *args, guint timeout_ms, char **out,
             char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  int status = -1;

  g_ptr_array_add (argv, (gpointer) program);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_assert_true (
      mero_test_run_sync ((const char *const *) argv->pdata, NULL, timeout_ms, out, err, &status));
  return status;
}

void
mero_test_node_config_set (MeroTestNode *node, const char *key, const char *value)
{
  mero_test_config_set (node->home, key, value);
}

MeroTestNode *
mero_test_cluster_add_node (MeroTestCluster *cluster, const char *label, guint heartbeat_secs)
{
  MeroTestNode *node;

  g_assert_cmpuint (cluster->n_nodes, <, MERO_TEST_CLUSTER_MAX_NODES);
  node = g_new0 (MeroTestNode, 1);
  node->label = g_strdup (label);
  node->home = g_build_filename (cluster->tmp, label, NULL);
  node->bus_name = g_strdup_printf ("network.calimero.Test.%s", label);
  node->index = cluster->n_nodes;
  node->peer_id = mero_test_home_init (node->home, (const char *[]) {
      "dbus.name", node->bus_name, "debug.test_hooks", "true", NULL });
  g_assert_true (g_str_has_prefix (node->peer_id, "12D3KooW"));
  if (heartbeat_secs > 0)
    {
      g_autofree char *secs = g_strdup_printf ("%u", heartbeat_secs);

      mero_test_node_config_set (node, "sync.heartbeat_interval_secs", secs);
    }
  cluster->nodes[cluster->n_nodes] = node;
  cluster->roots[cluster->n_nodes] =
      g_hash_table_new_full (g_str_hash, g_str_equal, g_free, root_record_free);
  cluster->n_nodes++;
  return node;
}

static char *
name_owner (GDBusConnection *connection, const char *name)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", name), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL);
  char *owner = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  return owner;
}

void
mero_test_node_start (MeroTestCluster *cluster, MeroTestNode *node)
{
  g_autoptr (GError) error = NULL;
  const char *args[] = { "run", "--home", node->home, NULL };
  /* Context events are info and debug messages, which GLib writes to
   * stdout only when asked: a failing test shows what each node did. */
  const char *env[] = { cluster->quiet ? "G_MESSAGES_DEBUG=" : "G_MESSAGES_DEBUG=merod", NULL };

  g_assert_null (node->daemon);
  node->daemon = mero_test_daemon_spawn_merged (args, env, &error);
  g_assert_no_error (error);
  node->pid = mero_test_daemon_get_pid (node->daemon);
  track_pid (node->pid, TRUE);
  if (!mero_test_daemon_wait_for_stderr (node->daemon, "ready: ", MERO_TEST_TIMEOUT_MS))
    g_error ("node %s did not become ready:\n%s", node->label,
             mero_test_daemon_get_stderr (node->daemon));
  g_assert_true (
      mero_test_wait_for_name (cluster->connection, node->bus_name, MERO_TEST_TIMEOUT_MS));
  g_free (node->unique_name);
  node->unique_name = name_owner (cluster->connection, node->bus_name);
  g_assert_nonnull (node->unique_name);
}

void
mero_test_node_stop (MeroTestCluster *cluster, MeroTestNode *node)
{
  int status = -1;

  g_assert_nonnull (node->daemon);
  mero_test_daemon_send_signal (node->daemon, SIGTERM);
  g_assert_true (mero_test_daemon_wait_exit (node->daemon, MERO_TEST_TIMEOUT_MS, &status));
  track_pid (node->pid, FALSE);
  node->pid = 0;
  if (status != 0)
    g_error ("node %s exited with %d:\n%s", node->label, status,
             mero_test_daemon_get_stderr (node->daemon));
  g_clear_pointer (&node->daemon, mero_test_daemon_free);
  g_clear_pointer (&node->unique_name, g_free);
}

void
mero_test_cluster_dump_logs (MeroTestCluster *cluster)
{
  for (guint i = 0; i < cluster->n_nodes; i++)
    if (cluster->nodes[i]->daemon != NULL)
      g_printerr ("==== node %s (%s) ====\n%s\n", cluster->nodes[i]->label,
                  cluster->nodes[i]->peer_id,
                  mero_test_daemon_get_stderr (cluster->nodes[i]->daemon));
}

GVariant *
mero_test_node_call (MeroTestCluster *cluster, MeroTestNode *node, const char *method,
                     GVariant *parameters, const GVariantType *reply_type, GError **error)
{
  gboolean join = g_str_equal (method, "JoinContext");

  return g_dbus_connection_call_sync (cluster->connection, node->bus_name, NODE_PATH,
                                      NODE_IFACE, method, parameters, reply_type,
                                      G_DBUS_CALL_FLAGS_NO_AUTO_START,
                                      join ? JOIN_TIMEOUT_MS : MERO_TEST_TIMEOUT_MS, NULL, error);
}

char *
mero_test_node_kv (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
                   const char *method, const char *args_json, GError **error)
{
  g_autoptr (GVariant) reply =
      mero_test_node_call (cluster, node, "Call",
                           g_variant_new ("(sss)", context_id, method, args_json),
                           G_VARIANT_TYPE ("(s)"), error);
  char *result = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(s)", &result);
  return result;
}

void
mero_test_node_kv_set (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
                       const char *key, const char *value_json)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\",\"value\":%s}", key, value_json);
  g_autofree char *result = mero_test_node_kv (cluster, node, context_id, "set", args, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (result, ==, "null");
}

/* kv sets in flight in mero_test_node_kv_fill. */
#define FILL_WINDOW 64u

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  const char *context_id, *prefix;
  guint count, sent, done, failed;
  GError *first_error;
} KvFill;

static void kv_fill_send (KvFill *fill);

static void
on_kv_fill_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  KvFill *fill = user_data;
  GError *error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source),
                                                              result, &error);

  fill->done++;
  if (reply == NULL)
    {
      fill->failed++;
      if (fill->first_error == NULL)
        fill->first_error = error;
      else
        g_error_free (error);
    }
  if (fill->sent < fill->count)
    kv_fill_send (fill);
}

static void
kv_fill_send (KvFill *fill)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s%05u\",\"value\":%u}", fill->prefix,
                                           fill->sent, fill->sent);

  fill->sent++;
  g_dbus_connection_call (fill->cluster->connection, fill->node->bus_name, NODE_PATH,
                          NODE_IFACE, "Call",
                          g_variant_new ("(sss)", fill->context_id, "set", args),
                          G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NO_AUTO_START,
                          MERO_TEST_TIMEOUT_MS, NULL, on_kv_fill_done, fill);
}

static gboolean
kv_fill_finished (gpointer data)
{
  KvFill *fill = data;

  return fill->done == fill->count;
}

void
mero_test_node_kv_fill (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
                        const char *prefix, guint count, guint timeout_ms)
{
  KvFill fill = { cluster, node, context_id, prefix, count, 0, 0, 0, NULL };

  for (guint i = 0; i < FILL_WINDOW && fill.sent < count; i++)
    kv_fill_send (&fill);
  if (!mero_test_wait_until (kv_fill_finished, &fill, timeout_ms))
    g_error ("node %s: %u of %u writes done within %u ms", node->label, fill.done, count,
             timeout_ms);
  g_assert_no_error (fill.first_error);
  g_assert_cmpuint (fill.failed, ==, 0);
}

GVariant *
mero_test_node_info (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply =
      mero_test_node_call (cluster, node, "GetContextInfo", g_variant_new ("(s)", context_id),
                           G_VARIANT_TYPE ("(a{sv})"), &error);

  g_assert_no_error (error);
  return g_variant_get_child_value (reply, 0);
}

char *
mero_test_node_root (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id)
{
  g_autoptr (GVariant) info = mero_test_node_info (cluster, node, context_id);
  char *root = NULL;

  g_assert_true (g_variant_lookup (info, "root_hash", "s", &root));
  return root;
}

const char *
mero_test_node_last_root (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id,
                          gint64 *time_us, guint *count)
{
  RootRecord *record = g_hash_table_lookup (cluster->roots[node->index], context_id);

  if (time_us != NULL)
    *time_us = record != NULL ? record->time_us : 0;
  if (count != NULL)
    *count = record != NULL ? record->count : 0;
  return record != NULL ? record->root : NULL;
}

static char *
http_address (MeroTestCluster *cluster, MeroTestNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      cluster->connection, node->bus_name, NODE_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", NODE_IFACE, "HttpAddress"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_autoptr (GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return g_variant_dup_string (value, NULL);
}

char *
mero_test_node_listen_address (MeroTestCluster *cluster, MeroTestNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      mero_test_cluster_get_connection (cluster), node->bus_name, "/network/calimero/Node1",
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "network.calimero.Node1", "ListenAddresses"),
      G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_autoptr (GVariant) value = NULL;
  g_autofree const char **addrs = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  addrs = g_variant_get_strv (value, NULL);
  g_assert_nonnull (addrs[0]);
  return g_strdup (addrs[0]);
}

guint64
mero_test_node_metric (MeroTestCluster *cluster, MeroTestNode *node, const char *series)
{
  g_autofree char *base = http_address (cluster, node);
  g_autofree char *url = g_strconcat (base, "/metrics", NULL);
  g_autoptr (SoupSession) session =
      soup_session_new_with_options ("timeout", MERO_TEST_TIMEOUT_MS / 1000, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_cmpstr (base, !=, "");
  body = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_OK);
  text = g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
  lines = g_strsplit (text, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], series) && lines[i][strlen (series)] == ' ')
      return g_ascii_strtoull (lines[i] + strlen (series) + 1, NULL, 10);
  return 0;
}

int
mero_test_node_meroctl (MeroTestNode *node, const char *const *args, char **out, char **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "--name");
  g_ptr_array_add (argv, node->bus_name);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  /* Long enough for a join, which dials the inviter. */
  return run_program (mero_test_meroctl_path (), (const char *const *) argv->pdata,
                      JOIN_TIMEOUT_MS, out, err);
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *const *nodes;
  const char *context_id;
  char *root;
} Converge;

/* Every node of the set lists every other as a member. */
static gboolean
members_complete (gpointer data)
{
  Converge *w = data;

  for (gsize i = 0; w->nodes[i] != NULL; i++)
    {
      g_autoptr (GVariant) info = mero_test_node_info (w->cluster, w->nodes[i], w->context_id);
      g_autofree const char **members = NULL;

      if (!g_variant_lookup (info, "members", "^a&s", &members))
        return FALSE;
      for (gsize j = 0; w->nodes[j] != NULL; j++)
        if (!g_strv_contains (members, w->nodes[j]->peer_id))
          return FALSE;
    }
  return TRUE;
}

void
mero_test_cluster_join_context (MeroTestCluster *cluster, MeroTestNode *creator,
                                const char *context_id, MeroTestNode *const *joiners)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  Converge w = { cluster, NULL, NULL, NULL };

  g_ptr_array_add (all, creator);
  for (gsize i = 0; joiners[i] != NULL; i++)
    {
      g_autoptr (GVariant) invited = mero_test_node_call (
          cluster, creator, "InviteToContext",
          g_variant_new ("(ssu)", context_id, joiners[i]->peer_id, 0), G_VARIANT_TYPE ("(s)"),
          &error);
      g_autoptr (GVariant) joined = NULL;
      const char *invitation;
      const char *joined_id;

      g_assert_no_error (error);
      g_variant_get (invited, "(&s)", &invitation);
      g_assert_true (g_str_has_prefix (invitation, "mero-invite1:"));
      joined = mero_test_node_call (cluster, joiners[i], "JoinContext",
                                    g_variant_new ("(s)", invitation), G_VARIANT_TYPE ("(s)"),
                                    &error);
      g_assert_no_error (error);
      g_variant_get (joined, "(&s)", &joined_id);
      g_assert_cmpstr (joined_id, ==, context_id);
      g_ptr_array_add (all, joiners[i]);
    }
  g_ptr_array_add (all, NULL);
  w.nodes = (MeroTestNode *const *) all->pdata;
  w.context_id = context_id;
  g_assert_true (mero_test_wait_until (members_complete, &w, JOIN_TIMEOUT_MS));
}

char *
mero_test_cluster_share_context (MeroTestCluster *cluster, MeroTestNode *creator,
                                 MeroTestNode *const *joiners)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created =
      mero_test_node_call (cluster, creator, "CreateContext", g_variant_new ("(s)", "kv"),
                           G_VARIANT_TYPE ("(ss)"), &error);
  char *context_id = NULL;

  g_assert_no_error (error);
  g_variant_get (created, "(ss)", &context_id, NULL);
  mero_test_cluster_join_context (cluster, creator, context_id, joiners);
  return context_id;
}

static gboolean
roots_equal (gpointer data)
{
  Converge *w = data;
  g_autofree char *first = NULL;

  for (gsize i = 0; w->nodes[i] != NULL; i++)
    {
      g_autofree char *root = mero_test_node_root (w->cluster, w->nodes[i], w->context_id);

      if (root[0] == '\0' || (first != NULL && !g_str_equal (first, root)))
        return FALSE;
      if (first == NULL)
        first = g_steal_pointer (&root);
    }
  g_free (w->root);
  w->root = g_steal_pointer (&first);
  return TRUE;
}

char *
mero_test_cluster_wait_converged (MeroTestCluster *cluster, MeroTestNode *const *nodes,
                                  const char *context_id, guint timeout_ms)
{
  Converge w = { cluster, nodes, context_id, NULL };

  if (!mero_test_wait_until (roots_equal, &w, timeout_ms))
    {
      g_free (w.root);
      return NULL;
    }
  return w.root;
}
