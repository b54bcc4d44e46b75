/* test-node-smoke.c: two real merod processes share a context (issue 6).
 *
 * Both own their own name (dbus.name) on one private bus (GTestDBus).
 * A creates a kv context and writes a key before anybody else is in it;
 * B joins with A's invitation (B dials A from the addresses in it);
 * B then sees A's history (sealed under the group key from before the
 * join: B fetches it from A as a member), A's later write, and A sees
 * B's write; both roots end equal and B emits StateChanged.  Errors have
 * D-Bus names; joining through an inviter that is gone fails at once and
 * leaves no context behind.  Only
 * 127.0.0.1, kernel-chosen ports, every wait bounded. */
#include <gio/gio.h>
#include <libsoup/soup.h>
#include <signal.h>
#include <string.h>

#include "mero-test-bus.h"
#include "mero-test-daemon.h"

#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
#define NAME_A "network.calimero.NodeA"
#define NAME_B "network.calimero.NodeB"
#define WAIT_MS 20000

typedef struct {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *tmp;
  guint state_changed_b;   /* StateChanged from B */
  guint subscription;
} Fixture;

static void
on_state_changed (GDBusConnection *connection, const char *sender, const char *path,
                  const char *iface, const char *name, GVariant *parameters, gpointer user_data)
{
  Fixture *f = user_data;
  g_autofree char *owner = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      connection, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
      "GetNameOwner", g_variant_new ("(s)", NAME_B), G_VARIANT_TYPE ("(s)"),
      G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);

  if (reply != NULL)
    g_variant_get (reply, "(s)", &owner);
  if (g_strcmp0 (owner, sender) == 0)
    f->state_changed_b++;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  mero_test_bus_up (&f->bus, &f->connection);
  f->tmp = mero_test_make_tmpdir ("merod-smoke");
  f->subscription = g_dbus_connection_signal_subscribe (
      f->connection, NULL, NODE_IFACE, "StateChanged", NODE_PATH, NULL,
      G_DBUS_SIGNAL_FLAGS_NONE, on_state_changed, f, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_dbus_connection_signal_unsubscribe (f->connection, f->subscription);
  mero_test_bus_down (&f->bus, &f->connection);
  mero_test_remove_tree (f->tmp);
  g_free (f->tmp);
}

static MeroTestDaemon *
start_node (Fixture *f, const char *name, const char *bus_name)
{
  g_autofree char *home = g_build_filename (f->tmp, name, NULL);
  g_autoptr (GError) error = NULL;
  const char *env[] = { "G_MESSAGES_DEBUG=merod", NULL };
  MeroTestDaemon *daemon;

  g_free (mero_test_home_init (home, (const char *[]) {
      "dbus.name", bus_name, "sync.heartbeat_interval_secs", "1", NULL }));
  daemon = mero_test_daemon_spawn_merged ((const char *[]) { "run", "--home", home, NULL }, env,
                                          &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  return daemon;
}

static GVariant *
call (Fixture *f, const char *name, const char *method, GVariant *args, const char *type,
      GError **error)
{
  return g_dbus_connection_call_sync (f->connection, name, NODE_PATH, NODE_IFACE, method, args,
                                      G_VARIANT_TYPE (type), G_DBUS_CALL_FLAGS_NONE,
                                      MERO_TEST_TIMEOUT_MS, NULL, error);
}

static char *
kv (Fixture *f, const char *name, const char *ctx, const char *method, const char *args,
    GError **error)
{
  g_autoptr (GVariant) reply = call (f, name, "Call", g_variant_new ("(sss)", ctx, method, args),
                                     "(s)", error);
  char *result = NULL;

  if (reply != NULL)
    g_variant_get (reply, "(s)", &result);
  return result;
}

typedef struct {
  Fixture *f;
  const char *name;
  const char *ctx;
  const char *key;
  const char *expect;
} KvWait;

static gboolean
kv_has (gpointer data)
{
  KvWait *w = data;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", w->key);
  g_autofree char *got = kv (w->f, w->name, w->ctx, "get", args, NULL);

  return g_strcmp0 (got, w->expect) == 0;
}

static char *
root_of (Fixture *f, const char *name, const char *ctx)
{
  g_autoptr (GVariant) reply = call (f, name, "GetContextInfo", g_variant_new ("(s)", ctx),
                                     "(a{sv})", NULL);
  g_autoptr (GVariant) info = NULL;
  char *root = NULL;

  if (reply == NULL)
    return NULL;
  info = g_variant_get_child_value (reply, 0);
  g_variant_lookup (info, "root_hash", "s", &root);
  return root;
}

typedef struct {
  Fixture *f;
  const char *ctx;
} RootWait;

static gboolean
roots_equal (gpointer data)
{
  RootWait *w = data;
  g_autofree char *a = root_of (w->f, NAME_A, w->ctx);
  g_autofree char *b = root_of (w->f, NAME_B, w->ctx);

  return a != NULL && b != NULL && a[0] != '\0' && g_str_equal (a, b);
}

static gboolean
state_changed_seen (gpointer data)
{
  return ((Fixture *) data)->state_changed_b > 0;
}

/* GET /metrics of the node owning @name (its HttpAddress property). */
static char *
metrics_of (Fixture *f, const char *name)
{
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      f->connection, name, NODE_PATH, "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", NODE_IFACE, "HttpAddress"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL);
  g_autoptr (GVariant) value = NULL;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autofree char *url = NULL;

  g_assert_nonnull (reply);
  g_variant_get (reply, "(v)", &value);
  url = g_strconcat (g_variant_get_string (value, NULL), "/metrics", NULL);
  msg = soup_message_new ("GET", url);
  body = soup_session_send_and_read (session, msg, NULL, NULL);
  g_assert_nonnull (body);
  return g_strndup (g_bytes_get_data (body, NULL), g_bytes_get_size (body));
}

static void
test_two_nodes_share_a_context (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroTestDaemon) a = start_node (f, "a", NAME_A);
  g_autoptr (MeroTestDaemon) b = start_node (f, "b", NAME_B);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL, invited = NULL, joined = NULL;
  const char *ctx = NULL, *group = NULL, *invitation = NULL, *joined_ctx = NULL;
  g_autofree char *r1 = NULL, *r2 = NULL, *r3 = NULL;
  KvWait w = { f, NAME_B, NULL, NULL, NULL };
  RootWait rw = { f, NULL };

  created = call (f, NAME_A, "CreateContext", g_variant_new ("(s)", "kv"), "(ss)", &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &ctx, &group);
  g_assert_cmpuint (strlen (group), ==, 64);

  /* History from before B exists in the group. */
  r1 = kv (f, NAME_A, ctx, "set", "{\"key\":\"early\",\"value\":1}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (r1, ==, "null");

  invited = call (f, NAME_A, "InviteToContext", g_variant_new ("(ssu)", ctx, "", 0u), "(s)",
                  &error);
  g_assert_no_error (error);
  g_variant_get (invited, "(&s)", &invitation);
  g_assert_true (g_str_has_prefix (invitation, "mero-invite1:"));

  joined = call (f, NAME_B, "JoinContext", g_variant_new ("(s)", invitation), "(s)", &error);
  g_assert_no_error (error);
  g_variant_get (joined, "(&s)", &joined_ctx);
  g_assert_cmpstr (joined_ctx, ==, ctx);

  w.ctx = ctx;
  w.key = "early";
  w.expect = "1";
  g_assert_true (mero_test_wait_until (kv_has, &w, WAIT_MS));

  r2 = kv (f, NAME_A, ctx, "set", "{\"key\":\"k\",\"value\":\"from A\"}", &error);
  g_assert_no_error (error);
  w.key = "k";
  w.expect = "\"from A\"";
  g_assert_true (mero_test_wait_until (kv_has, &w, WAIT_MS));

  r3 = kv (f, NAME_B, ctx, "set", "{\"key\":\"b\",\"value\":[2]}", &error);
  g_assert_no_error (error);
  w.name = NAME_A;
  w.key = "b";
  w.expect = "[2]";
  g_assert_true (mero_test_wait_until (kv_has, &w, WAIT_MS));

  rw.ctx = ctx;
  g_assert_true (mero_test_wait_until (roots_equal, &rw, WAIT_MS));
  /* Signals are dispatched by the loop, which the waits above may not
   * have had to run. */
  g_assert_true (mero_test_wait_until (state_changed_seen, f, WAIT_MS));

  /* Errors carry names clients can match. */
  {
    g_autofree char *none = kv (f, NAME_A, "1111", "get", "{\"key\":\"k\"}", &error);
    g_autofree char *remote = NULL;

    g_assert_null (none);
    g_assert_nonnull (error);
    remote = g_dbus_error_get_remote_error (error);
    g_assert_cmpstr (remote, ==, "network.calimero.Node1.Error.UnknownContext");
    g_clear_error (&error);
  }
  {
    g_autofree char *bad = kv (f, NAME_A, ctx, "set", "{\"key\":\"\",\"value\":1}", &error);
    g_autofree char *remote = NULL;

    g_assert_null (bad);
    g_assert_nonnull (error);
    remote = g_dbus_error_get_remote_error (error);
    g_assert_cmpstr (remote, ==, "network.calimero.Node1.Error.InvalidArgument");
    g_clear_error (&error);
  }

  /* A lists B among the context's peers and members. */
  {
    g_autoptr (GVariant) prop = g_dbus_connection_call_sync (
        f->connection, NAME_B, NODE_PATH, "org.freedesktop.DBus.Properties", "Get",
        g_variant_new ("(ss)", NODE_IFACE, "PeerId"), G_VARIANT_TYPE ("(v)"),
        G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL);
    g_autoptr (GVariant) value = NULL;
    g_autoptr (GVariant) reply = call (f, NAME_A, "GetContextInfo", g_variant_new ("(s)", ctx),
                                       "(a{sv})", &error);
    g_autoptr (GVariant) info = NULL;
    g_autofree const char **peers = NULL, **members = NULL;

    g_assert_no_error (error);
    g_variant_get (prop, "(v)", &value);
    info = g_variant_get_child_value (reply, 0);
    g_assert_true (g_variant_lookup (info, "peers", "^a&s", &peers));
    g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
    g_assert_true (g_strv_contains (peers, g_variant_get_string (value, NULL)));
    g_assert_true (g_strv_contains (members, g_variant_get_string (value, NULL)));
    g_assert_cmpuint (g_strv_length ((char **) members), ==, 2);
  }

  /* The node protocol's counters are on GET /metrics. */
  {
    g_autofree char *text = metrics_of (f, NAME_A);

    g_assert_nonnull (strstr (text, "mero_node_stream_requests_total{protocol=\"/calimero/stream/"));
    g_assert_nonnull (strstr (text, "mero_node_connected_peers 1"));
  }

  /* An invitation whose inviter is gone fails soon, with a name, and
   * leaves nothing behind. */
  {
    g_autoptr (GVariant) created2 = NULL, invited2 = NULL, listed = NULL, joined2 = NULL;
    const char *ctx2 = NULL, *group2 = NULL, *invitation2 = NULL;
    g_autofree char *remote = NULL;
    gint64 t0;

    created2 = call (f, NAME_A, "CreateContext", g_variant_new ("(s)", "kv"), "(ss)", &error);
    g_assert_no_error (error);
    g_variant_get (created2, "(&s&s)", &ctx2, &group2);
    invited2 = call (f, NAME_A, "InviteToContext", g_variant_new ("(ssu)", ctx2, "", 0u), "(s)",
                     &error);
    g_assert_no_error (error);
    g_variant_get (invited2, "(&s)", &invitation2);
    mero_test_daemon_stop (a);
    t0 = g_get_monotonic_time ();
    joined2 = call (f, NAME_B, "JoinContext", g_variant_new ("(s)", invitation2), "(s)", &error);
    g_assert_null (joined2);
    g_assert_nonnull (error);
    remote = g_dbus_error_get_remote_error (error);
    g_assert_cmpstr (remote, ==, "network.calimero.Node1.Error.Peer");
    g_clear_error (&error);
    g_assert_cmpint (g_get_monotonic_time () - t0, <, 12 * G_USEC_PER_SEC);
    listed = call (f, NAME_B, "ListContexts", NULL, "(aa{sv})", &error);
    g_assert_no_error (error);
    {
      g_autoptr (GVariant) contexts = g_variant_get_child_value (listed, 0);

      g_assert_cmpuint (g_variant_n_children (contexts), ==, 1);
    }
  }

  mero_test_daemon_stop (b);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/node-smoke/two-nodes-share-a-context", Fixture, NULL, fixture_set_up,
              test_two_nodes_share_a_context, fixture_tear_down);
  return g_test_run ();
}
