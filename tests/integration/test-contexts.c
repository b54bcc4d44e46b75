/* test-contexts.c: three real merod processes share a kv context.
 *
 * The nodes run on 127.0.0.1 (kernel-chosen ports) and own distinct
 * well-known names on one private bus (merod's dbus.name); the test drives
 * them over D-Bus and through meroctl.  Checked: A creates a context and
 * invites B (over D-Bus, invitation bound to B's PeerId) and C (with
 * meroctl); a write on any node reaches all and all three roots are equal
 * within 2 s of the write (measured from the StateChanged signals, for a
 * write on each node); every meroctl command against the live nodes;
 * concurrent writes of one key on all three nodes converge to one value.
 * Every wait is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"

/* The bound: a write is visible with equal roots everywhere in
 * 2 s. */
#define CONVERGE_BOUND_US (2 * G_USEC_PER_SEC)
/* How long the test waits before it calls a convergence lost (the bound
 * above is asserted separately). */
#define CONVERGE_TIMEOUT_MS 20000

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b, *c;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", 0);
  f->b = mero_test_cluster_add_node (f->cluster, "b", 0);
  f->c = mero_test_cluster_add_node (f->cluster, "c", 0);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
  mero_test_node_start (f->cluster, f->c);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

typedef struct {
  Fixture *f;
  const char *context_id;
  const char *root;
} SignalWait;

/* Every node's last StateChanged for the context carries @root. */
static gboolean
all_signalled (gpointer data)
{
  SignalWait *w = data;
  MeroTestNode *nodes[] = { w->f->a, w->f->b, w->f->c };

  for (gsize i = 0; i < G_N_ELEMENTS (nodes); i++)
    if (g_strcmp0 (mero_test_node_last_root (w->f->cluster, nodes[i], w->context_id, NULL, NULL),
                   w->root)
        != 0)
      return FALSE;
  return TRUE;
}

/* kv set on @writer, then the time until all three nodes signalled the
 * writer's new root; asserts the roots by GetContextInfo too. */
static gint64
write_and_measure (Fixture *f, MeroTestNode *writer, const char *context_id, const char *key,
                   const char *value_json)
{
  MeroTestNode *nodes[] = { f->a, f->b, f->c };
  gint64 start = g_get_monotonic_time ();
  gint64 last = 0;
  g_autofree char *root = NULL;
  SignalWait w = { f, context_id, NULL };

  mero_test_node_kv_set (f->cluster, writer, context_id, key, value_json);
  root = mero_test_node_root (f->cluster, writer, context_id);
  g_assert_cmpstr (root, !=, "");
  w.root = root;
  g_assert_true (mero_test_wait_until (all_signalled, &w, CONVERGE_TIMEOUT_MS));
  for (gsize i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      g_autofree char *now = mero_test_node_root (f->cluster, nodes[i], context_id);
      gint64 at;

      mero_test_node_last_root (f->cluster, nodes[i], context_id, &at, NULL);
      last = MAX (last, at);
      g_assert_cmpstr (now, ==, root);
    }
  return last - start;
}

static char *
kv_get (Fixture *f, MeroTestNode *node, const char *context_id, const char *key)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", key);
  char *value = mero_test_node_kv (f->cluster, node, context_id, "get", args, &error);

  g_assert_no_error (error);
  return value;
}

/* "key": "value" of a one-line JSON object printed by meroctl --json. */
static char *
json_member (const char *json, const char *key)
{
  g_autofree char *pattern = g_strdup_printf ("\"%s\":\"", key);
  const char *start = strstr (json, pattern);

  g_assert_nonnull (start);
  start += strlen (pattern);
  return g_strndup (start, strcspn (start, "\""));
}

/* meroctl watch as a child whose stderr and stdout are read as it runs. */
typedef struct {
  GSubprocess *process;
  GString *out;
  GString *err;
  GDataInputStream *err_lines;
  GCancellable *cancellable;
  gboolean exited;
  gboolean ok;
} Watcher;

static void
on_watch_err_line (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Watcher *w = user_data;
  g_autofree char *line =
      g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source), result, NULL, NULL);

  if (line == NULL)
    return;
  g_string_append_printf (w->err, "%s\n", line);
  g_data_input_stream_read_line_async (w->err_lines, G_PRIORITY_DEFAULT, w->cancellable,
                                       on_watch_err_line, w);
}

static void
on_watch_exit (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Watcher *w = user_data;

  w->ok = g_subprocess_wait_check_finish (G_SUBPROCESS (source), result, NULL);
  w->exited = TRUE;
}

static gboolean
watcher_ready (gpointer data)
{
  Watcher *w = data;

  return strstr (w->err->str, "watching") != NULL;
}

static gboolean
watcher_done (gpointer data)
{
  Watcher *w = data;
  GInputStream *stdout_pipe = g_subprocess_get_stdout_pipe (w->process);
  char buffer[4096];
  gssize n;

  /* The child prints at most a few lines: poll its stdout without
   * blocking until it exits. */
  while (g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (stdout_pipe))
         && (n = g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (stdout_pipe),
                                                           buffer, sizeof buffer, NULL, NULL))
                > 0)
    g_string_append_len (w->out, buffer, n);
  return w->exited;
}

static void
watcher_start (Watcher *w, MeroTestNode *node, const char *context_id)
{
  g_autoptr (GError) error = NULL;
  const char *argv[] = { mero_test_meroctl_path (), "--name", node->bus_name, "--json", "watch",
                         "--context", context_id, "--count", "1", NULL };

  w->out = g_string_new (NULL);
  w->err = g_string_new (NULL);
  w->cancellable = g_cancellable_new ();
  w->process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE
                                            | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
  g_assert_no_error (error);
  w->err_lines = g_data_input_stream_new (g_subprocess_get_stderr_pipe (w->process));
  g_data_input_stream_read_line_async (w->err_lines, G_PRIORITY_DEFAULT, w->cancellable,
                                       on_watch_err_line, w);
  g_subprocess_wait_check_async (w->process, w->cancellable, on_watch_exit, w);
  g_assert_true (mero_test_wait_until (watcher_ready, w, MERO_TEST_TIMEOUT_MS));
}

static void
watcher_clear (Watcher *w)
{
  if (!w->exited)
    g_subprocess_force_exit (w->process);
  g_cancellable_cancel (w->cancellable);
  /* Let the cancelled reads finish before their buffers go. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_clear_object (&w->err_lines);
  g_clear_object (&w->process);
  g_clear_object (&w->cancellable);
  g_string_free (w->out, TRUE);
  g_string_free (w->err, TRUE);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *member;
  gboolean present;
} MemberWait;

static gboolean
member_is (gpointer data)
{
  MemberWait *w = data;
  g_autoptr (GVariant) info = mero_test_node_info (w->f->cluster, w->node, w->context_id);
  g_autofree const char **members = NULL;

  g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
  return g_strv_contains (members, w->member) == w->present;
}

typedef struct {
  Fixture *f;
  const char *context_id;
  const char *key;
  const char *value;
} ValueWait;

static gboolean
all_have_value (gpointer data)
{
  ValueWait *w = data;
  MeroTestNode *nodes[] = { w->f->a, w->f->b, w->f->c };

  for (gsize i = 0; i < G_N_ELEMENTS (nodes); i++)
    {
      g_autofree char *value = kv_get (w->f, nodes[i], w->context_id, w->key);

      if (g_strcmp0 (value, w->value) != 0)
        return FALSE;
    }
  return TRUE;
}

static void
test_three_nodes (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL;
  g_autoptr (GVariant) invited = NULL;
  g_autoptr (GVariant) joined = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *context_id = NULL;
  g_autofree char *group_id = NULL;
  g_autofree char *invitation_c = NULL;
  g_autofree char *other_context = NULL;
  g_autofree char *root = NULL;
  MeroTestNode *writers[] = { NULL, NULL, NULL };
  MeroTestNode *all[] = { f->a, f->b, f->c, NULL };
  const char *invitation_b;
  Watcher watcher = { 0 };

  /* A creates (D-Bus) and invites B, bound to B's PeerId. */
  created = mero_test_node_call (f->cluster, f->a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(ss)", &context_id, &group_id);
  g_assert_cmpuint (strlen (group_id), ==, 64);
  invited = mero_test_node_call (f->cluster, f->a, "InviteToContext",
                                 g_variant_new ("(ssu)", context_id, f->b->peer_id, 0),
                                 G_VARIANT_TYPE ("(s)"), &error);
  g_assert_no_error (error);
  g_variant_get (invited, "(&s)", &invitation_b);
  g_assert_true (g_str_has_prefix (invitation_b, "mero-invite1:"));
  /* Bound to B: C cannot use it. */
  {
    g_autoptr (GVariant) refused =
        mero_test_node_call (f->cluster, f->c, "JoinContext",
                             g_variant_new ("(s)", invitation_b), G_VARIANT_TYPE ("(s)"), &error);

    g_assert_null (refused);
    g_assert_nonnull (error);
    g_clear_error (&error);
  }
  joined = mero_test_node_call (f->cluster, f->b, "JoinContext",
                                g_variant_new ("(s)", invitation_b), G_VARIANT_TYPE ("(s)"),
                                &error);
  g_assert_no_error (error);
  {
    const char *joined_id;

    g_variant_get (joined, "(&s)", &joined_id);
    g_assert_cmpstr (joined_id, ==, context_id);
  }

  /* C through meroctl: invite (for anyone, 10 minutes) and join. */
  g_assert_cmpint (mero_test_node_meroctl (f->a,
                                           (const char *[]) { "context", "invite", context_id,
                                                              "--expiry", "600", NULL },
                                           &out, &err),
                   ==, 0);
  invitation_c = g_strdup (g_strstrip (out));
  g_clear_pointer (&out, g_free);
  g_assert_true (g_str_has_prefix (invitation_c, "mero-invite1:"));
  g_assert_cmpint (
      mero_test_node_meroctl (f->c, (const char *[]) { "context", "join", invitation_c, NULL },
                              &out, &err),
      ==, 0);
  g_assert_nonnull (strstr (out, context_id));
  g_clear_pointer (&out, g_free);
  {
    MemberWait w = { f, f->a, context_id, f->c->peer_id, TRUE };

    g_assert_true (mero_test_wait_until (member_is, &w, CONVERGE_TIMEOUT_MS));
    w.member = f->b->peer_id;
    g_assert_true (mero_test_wait_until (member_is, &w, CONVERGE_TIMEOUT_MS));
  }

  /* Writes on any node reach all (the first ones also let the gossip
   * mesh settle before the timed writes). */
  {
    ValueWait w = { f, context_id, "from-a", "\"1\"" };

    mero_test_node_kv_set (f->cluster, f->a, context_id, "from-a", "\"1\"");
    g_assert_true (mero_test_wait_until (all_have_value, &w, CONVERGE_TIMEOUT_MS));
    mero_test_node_kv_set (f->cluster, f->c, context_id, "from-c", "\"3\"");
    w.key = "from-c";
    w.value = "\"3\"";
    g_assert_true (mero_test_wait_until (all_have_value, &w, CONVERGE_TIMEOUT_MS));
    /* B writes through meroctl. */
    g_assert_cmpint (mero_test_node_meroctl (
                         f->b,
                         (const char *[]) { "call", context_id, "set",
                                            "{\"key\":\"from-b\",\"value\":\"2\"}", NULL },
                         &out, &err),
                     ==, 0);
    g_assert_cmpstr (g_strstrip (out), ==, "null");
    g_clear_pointer (&out, g_free);
    w.key = "from-b";
    w.value = "\"2\"";
    g_assert_true (mero_test_wait_until (all_have_value, &w, CONVERGE_TIMEOUT_MS));
  }
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_TIMEOUT_MS);
  g_assert_nonnull (root);

  /* The measured bound: a write on each node, all roots equal ≤ 2 s. */
  writers[0] = f->a;
  writers[1] = f->b;
  writers[2] = f->c;
  for (guint round = 0; round < 2; round++)
    for (gsize i = 0; i < G_N_ELEMENTS (writers); i++)
      {
        g_autofree char *key = g_strdup_printf ("timed-%s-%u", writers[i]->label, round);
        gint64 took = write_and_measure (f, writers[i], context_id, key, "42");

        g_test_message ("write on %s: all three roots equal after %.1f ms", writers[i]->label,
                        took / 1000.0);
        g_assert_cmpint (took, <=, CONVERGE_BOUND_US);
      }

  /* meroctl watch on C sees A's next write. */
  watcher_start (&watcher, f->c, context_id);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "watched", "true");
  g_assert_true (mero_test_wait_until (watcher_done, &watcher, CONVERGE_TIMEOUT_MS));
  g_assert_true (watcher.ok);
  {
    g_autofree char *a_root = mero_test_node_root (f->cluster, f->a, context_id);
    g_autofree char *watched_root = json_member (watcher.out->str, "root_hash");

    g_assert_cmpstr (watched_root, ==, a_root);
    g_assert_nonnull (strstr (watcher.out->str, context_id));
  }
  watcher_clear (&watcher);

  /* meroctl get, info, list, sync, group list, peers, create. */
  g_assert_cmpint (mero_test_node_meroctl (f->c,
                                           (const char *[]) { "call", context_id, "get",
                                                              "{\"key\":\"from-a\"}", NULL },
                                           &out, &err),
                   ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, "\"1\"");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&root, g_free);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_TIMEOUT_MS);
  g_assert_nonnull (root);
  g_assert_cmpint (
      mero_test_node_meroctl (f->c, (const char *[]) { "context", "info", context_id, NULL },
                              &out, &err),
      ==, 0);
  g_assert_nonnull (strstr (out, root));
  g_assert_nonnull (strstr (out, f->a->peer_id));
  g_assert_nonnull (strstr (out, group_id));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (mero_test_node_meroctl (f->b, (const char *[]) { "--json", "context", "info",
                                                                   context_id, NULL },
                                           &out, &err),
                   ==, 0);
  {
    g_autofree char *json_root = json_member (out, "root_hash");

    g_assert_cmpstr (json_root, ==, root);
  }
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      mero_test_node_meroctl (f->b, (const char *[]) { "context", "sync", context_id, NULL },
                              &out, &err),
      ==, 0);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      mero_test_node_meroctl (f->a, (const char *[]) { "group", "list", NULL }, &out, &err), ==,
      0);
  g_assert_nonnull (strstr (out, group_id));
  g_assert_nonnull (strstr (out, f->c->peer_id));
  g_assert_nonnull (strstr (out, context_id));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (mero_test_node_meroctl (f->a, (const char *[]) { "peers", NULL }, &out, &err),
                   ==, 0);
  g_assert_nonnull (strstr (out, f->b->peer_id));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (mero_test_node_meroctl (f->a, (const char *[]) { "--json", "context", "create",
                                                                   NULL },
                                           &out, &err),
                   ==, 0);
  other_context = json_member (out, "context_id");
  g_assert_cmpstr (other_context, !=, context_id);
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (
      mero_test_node_meroctl (f->a, (const char *[]) { "context", "list", NULL }, &out, &err),
      ==, 0);
  g_assert_nonnull (strstr (out, context_id));
  g_assert_nonnull (strstr (out, other_context));
  g_clear_pointer (&out, g_free);
  /* Errors: an unknown context, bad JSON (nothing sent). */
  g_assert_cmpint (mero_test_node_meroctl (
                       f->a, (const char *[]) { "context", "info", "NoSuchContext", NULL }, &out,
                       &err),
                   ==, 1);
  g_assert_cmpstr (err, !=, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mero_test_node_meroctl (
                       f->a, (const char *[]) { "call", context_id, "set", "{oops", NULL }, &out,
                       &err),
                   ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* C leaves (meroctl): A and B drop it from the members, C forgets the
   * context. */
  g_assert_cmpint (
      mero_test_node_meroctl (f->c, (const char *[]) { "context", "leave", context_id, NULL },
                              &out, &err),
      ==, 0);
  g_clear_pointer (&out, g_free);
  {
    MemberWait w = { f, f->a, context_id, f->c->peer_id, FALSE };

    g_assert_true (mero_test_wait_until (member_is, &w, CONVERGE_TIMEOUT_MS));
    w.node = f->b;
    g_assert_true (mero_test_wait_until (member_is, &w, CONVERGE_TIMEOUT_MS));
  }
  g_assert_cmpint (
      mero_test_node_meroctl (f->c, (const char *[]) { "context", "list", NULL }, &out, &err),
      ==, 0);
  g_assert_null (strstr (out, context_id));
}

typedef struct {
  guint pending;
  GError *error;
} Pending;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *p = user_data;
  g_autoptr (GVariant) reply =
      g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                     p->error == NULL ? &p->error : NULL);

  p->pending--;
}

static gboolean
none_pending (gpointer data)
{
  Pending *p = data;

  return p->pending == 0;
}

static void
test_concurrent_same_key (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, f->c, NULL };
  MeroTestNode *all[] = { f->a, f->b, f->c, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  const char *values[] = { "\"from-a\"", "\"from-b\"", "\"from-c\"" };

  /* Let every node hear from every other once before the race. */
  for (gsize i = 0; all[i] != NULL; i++)
    {
      g_autofree char *key = g_strdup_printf ("warm-%s", all[i]->label);
      ValueWait w = { f, context_id, key, "0" };

      mero_test_node_kv_set (f->cluster, all[i], context_id, key, "0");
      g_assert_true (mero_test_wait_until (all_have_value, &w, CONVERGE_TIMEOUT_MS));
    }

  for (guint round = 0; round < 3; round++)
    {
      Pending p = { 0, NULL };
      g_autofree char *key = g_strdup_printf ("contested-%u", round);
      g_autofree char *root = NULL;
      g_autofree char *winner = NULL;

      /* All three calls leave before any answer is read. */
      for (gsize i = 0; all[i] != NULL; i++)
        {
          g_autofree char *args =
              g_strdup_printf ("{\"key\":\"%s\",\"value\":%s}", key, values[i]);

          g_dbus_connection_call (mero_test_cluster_get_connection (f->cluster),
                                  all[i]->bus_name, "/network/calimero/Node1",
                                  "network.calimero.Node1", "Call",
                                  g_variant_new ("(sss)", context_id, "set", args),
                                  G_VARIANT_TYPE ("(s)"), G_DBUS_CALL_FLAGS_NONE,
                                  MERO_TEST_TIMEOUT_MS, NULL, on_call_done, &p);
          p.pending++;
        }
      g_assert_true (mero_test_wait_until (none_pending, &p, MERO_TEST_TIMEOUT_MS + 1000));
      g_assert_no_error (p.error);

      root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CONVERGE_TIMEOUT_MS);
      g_assert_nonnull (root);
      winner = kv_get (f, f->a, context_id, key);
      g_assert_true (g_strv_contains (values, winner));
      for (gsize i = 0; all[i] != NULL; i++)
        {
          g_autofree char *value = kv_get (f, all[i], context_id, key);

          g_assert_cmpstr (value, ==, winner);
        }
      g_test_message ("round %u: %s won, root %s", round, winner, root);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/contexts/three-nodes", test_three_nodes);
  ADD ("/contexts/concurrent-same-key", test_concurrent_same_key);
#undef ADD
  return g_test_run ();
}
