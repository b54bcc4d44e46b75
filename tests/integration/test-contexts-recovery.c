/* test-contexts-recovery.c: three real merod processes recover what they
 * missed and keep a removed member out.
 *
 * Checked, on one private bus with distinct dbus.name per node and
 * loopback libp2p: a late joiner catches up the whole history; a node
 * restarted while the others keep writing catches up; a delta whose
 * parent was never broadcast (SkipNextBroadcasts on A; heartbeats every
 * hour, so only fetching the missing parent can repair it) reaches B and
 * C; a removed member, once it has seen its removal, refuses to write
 * (so nothing of it reaches the others) and does not see their writes
 * after the key rotation.  Every wait is bounded. */
#include <gio/gio.h>
#include <string.h>

#include "mero-test-cluster.h"

#define CATCH_UP_TIMEOUT_MS 30000
/* How long a node is watched for something that must not happen. */
#define ABSENCE_WINDOW_MS 1500
#define LONG_HEARTBEAT_SECS 3600
#define SETTLE_MS 1000
#define DELTA_FETCHED \
  "mero_node_stream_requests_total{protocol=\"/calimero/stream/delta/1\",result=\"ok\"}"
#define DELTA_SERVED \
  "mero_node_stream_requests_total{protocol=\"/calimero/stream/delta/1\",result=\"served\"}"
#define SHORT_HEARTBEAT_SECS 1

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b, *c;
} Fixture;

static void
fixture_set_up (Fixture *f, guint heartbeat_secs)
{
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", heartbeat_secs);
  f->b = mero_test_cluster_add_node (f->cluster, "b", heartbeat_secs);
  f->c = mero_test_cluster_add_node (f->cluster, "c", heartbeat_secs);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
  mero_test_node_start (f->cluster, f->c);
}

static void
set_up_short (Fixture *f, gconstpointer data)
{
  fixture_set_up (f, SHORT_HEARTBEAT_SECS);
}

static void
set_up_long (Fixture *f, gconstpointer data)
{
  fixture_set_up (f, LONG_HEARTBEAT_SECS);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

static char *
kv (Fixture *f, MeroTestNode *node, const char *context_id, const char *method,
    const char *args)
{
  g_autoptr (GError) error = NULL;
  char *result = mero_test_node_kv (f->cluster, node, context_id, method, args, &error);

  g_assert_no_error (error);
  return result;
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *key;
  const char *value;   /* JSON; "null": absent */
} ValueWait;

static gboolean
has_value (gpointer data)
{
  ValueWait *w = data;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", w->key);
  g_autofree char *value = kv (w->f, w->node, w->context_id, "get", args);

  return g_strcmp0 (value, w->value) == 0;
}

/* Fails the test if @node's @key ever differs from @value (JSON) within
 * the window. */
static void
assert_stays (Fixture *f, MeroTestNode *node, const char *context_id, const char *key,
              const char *value)
{
  gint64 end = g_get_monotonic_time () + ABSENCE_WINDOW_MS * 1000;
  ValueWait w = { f, node, context_id, key, value };

  while (g_get_monotonic_time () < end)
    {
      if (!has_value (&w))
        {
          mero_test_cluster_dump_logs (f->cluster);
          g_error ("node %s: %s is no longer %s", node->label, key, value);
        }
      /* Keep reading the nodes' output while the window runs. */
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (50 * 1000);
    }
}

/* Runs the main loop (reading the nodes' output) for @ms. */
static void
settle (guint ms)
{
  gint64 end = g_get_monotonic_time () + (gint64) ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      while (g_main_context_iteration (NULL, FALSE))
        ;
      g_usleep (20 * 1000);
    }
}

static void
wait_value (Fixture *f, MeroTestNode *node, const char *context_id, const char *key,
            const char *value)
{
  ValueWait w = { f, node, context_id, key, value };

  if (!mero_test_wait_until (has_value, &w, CATCH_UP_TIMEOUT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("node %s never had %s=%s", node->label, key, value);
    }
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  guint len;
} LenWait;

static gboolean
has_len (gpointer data)
{
  LenWait *w = data;
  g_autofree char *len = kv (w->f, w->node, w->context_id, "len", "{}");

  return g_ascii_strtoull (len, NULL, 10) == w->len;
}

static void
write_keys (Fixture *f, MeroTestNode *const *writers, const char *context_id,
            const char *prefix, guint first, guint n)
{
  for (guint i = first; i < first + n; i++)
    {
      g_autofree char *key = g_strdup_printf ("%s-%03u", prefix, i);
      g_autofree char *value = g_strdup_printf ("%u", i);
      MeroTestNode *writer = writers[i % g_strv_length ((char **) writers)];

      mero_test_node_kv_set (f->cluster, writer, context_id, key, value);
    }
}

static void
test_late_joiner_and_restart (Fixture *f, gconstpointer data)
{
  MeroTestNode *first[] = { f->b, NULL };
  MeroTestNode *ab[] = { f->a, f->b, NULL };
  MeroTestNode *all[] = { f->a, f->b, f->c, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, first);
  g_autofree char *root = NULL;
  g_autofree char *bootstrap = NULL;
  g_autofree char *addr_a = NULL;
  g_autofree char *out = NULL;
  LenWait len = { f, f->c, context_id, 20 };

  /* History before C exists in the context: 20 writes by A and B. */
  write_keys (f, ab, context_id, "early", 0, 20);
  root = mero_test_cluster_wait_converged (f->cluster, ab, context_id, CATCH_UP_TIMEOUT_MS);
  g_assert_nonnull (root);
  g_clear_pointer (&root, g_free);

  /* C joins late (meroctl invite on A, D-Bus join on C) and catches up
   * all of it. */
  g_assert_cmpint (mero_test_node_meroctl (f->a,
                                           (const char *[]) { "context", "invite", context_id,
                                                              "--invitee", f->c->peer_id, NULL },
                                           &out, NULL),
                   ==, 0);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) joined = mero_test_node_call (
        f->cluster, f->c, "JoinContext", g_variant_new ("(s)", g_strstrip (out)),
        G_VARIANT_TYPE ("(s)"), &error);

    g_assert_no_error (error);
  }
  g_assert_true (mero_test_wait_until (has_len, &len, CATCH_UP_TIMEOUT_MS));
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CATCH_UP_TIMEOUT_MS);
  g_assert_nonnull (root);
  g_clear_pointer (&root, g_free);
  wait_value (f, f->c, context_id, "early-000", "0");
  wait_value (f, f->c, context_id, "early-019", "19");

  /* C goes down while A and B keep writing, comes back (with A as its
   * bootstrap peer), and catches up while writes continue. */
  write_keys (f, all, context_id, "mid", 0, 6);
  mero_test_node_stop (f->cluster, f->c);
  write_keys (f, ab, context_id, "mid", 6, 10);
  addr_a = mero_test_node_listen_address (f->cluster, f->a);
  bootstrap = g_strconcat (addr_a, ";", NULL);
  mero_test_node_config_set (f->c, "network.bootstrap", bootstrap);
  mero_test_node_start (f->cluster, f->c);
  write_keys (f, ab, context_id, "mid", 16, 4);
  len.len = 40;
  if (!mero_test_wait_until (has_len, &len, CATCH_UP_TIMEOUT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("restarted C did not catch up");
    }
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CATCH_UP_TIMEOUT_MS);
  g_assert_nonnull (root);
  wait_value (f, f->c, context_id, "mid-015", "15");
  /* And C writes again, reaching the others. */
  mero_test_node_kv_set (f->cluster, f->c, context_id, "back", "true");
  wait_value (f, f->a, context_id, "back", "true");
  wait_value (f, f->b, context_id, "back", "true");
}

static void
test_lost_parent_fetched (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, f->c, NULL };
  MeroTestNode *all[] = { f->a, f->b, f->c, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) skipped = NULL;
  guint64 fetched_b, fetched_c, served_a;

  /* Everyone has heard from A once.  Then the network settles: a join
   * catches up from the inviter in the background and B and C answer
   * every delta they apply with a HashHeartbeat; either, still under way
   * when A commits "lost", would legitimately bring it to them by
   * another path than the parent fetch under test.  Nothing in the node
   * says "idle", so the test gives that traffic a generous second. */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "warm", "0");
  wait_value (f, f->b, context_id, "warm", "0");
  wait_value (f, f->c, context_id, "warm", "0");
  settle (SETTLE_MS);

  /* A stores "lost" but does not publish it. */
  skipped = mero_test_node_call (f->cluster, f->a, "SkipNextBroadcasts",
                                 g_variant_new ("(su)", context_id, 1), NULL, &error);
  g_assert_no_error (error);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "lost", "1");
  assert_stays (f, f->b, context_id, "lost", "null");
  assert_stays (f, f->c, context_id, "lost", "null");

  /* A's next delta names "lost" as its parent: B and C fetch it from A
   * over /calimero/stream/delta/1 (no heartbeat comes within the test). */
  fetched_b = mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED);
  fetched_c = mero_test_node_metric (f->cluster, f->c, DELTA_FETCHED);
  served_a = mero_test_node_metric (f->cluster, f->a, DELTA_SERVED);
  mero_test_node_kv_set (f->cluster, f->a, context_id, "after", "2");
  wait_value (f, f->b, context_id, "after", "2");
  wait_value (f, f->b, context_id, "lost", "1");
  wait_value (f, f->c, context_id, "after", "2");
  wait_value (f, f->c, context_id, "lost", "1");
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, DELTA_FETCHED), >, fetched_b);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->c, DELTA_FETCHED), >, fetched_c);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, DELTA_SERVED), >=, served_a + 2);
  root = mero_test_cluster_wait_converged (f->cluster, all, context_id, CATCH_UP_TIMEOUT_MS);
  g_assert_nonnull (root);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *member;
} MemberGone;

static gboolean
member_gone (gpointer data)
{
  MemberGone *w = data;
  g_autoptr (GVariant) info = mero_test_node_info (w->f->cluster, w->node, w->context_id);
  g_autofree const char **members = NULL;

  g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
  return !g_strv_contains (members, w->member);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
} CanWrite;

/* @node no longer may write the context (or has dropped it). */
static gboolean
cannot_write (gpointer data)
{
  CanWrite *w = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = mero_test_node_call (w->f->cluster, w->node, "GetContextInfo",
                                                    g_variant_new ("(s)", w->context_id),
                                                    G_VARIANT_TYPE ("(a{sv})"), &error);
  g_autoptr (GVariant) info = NULL;
  gboolean can_write = TRUE;

  if (reply == NULL)
    return TRUE;
  info = g_variant_get_child_value (reply, 0);
  g_assert_true (g_variant_lookup (info, "can_write", "b", &can_write));
  return !can_write;
}

/* "key_id" of @group_id in @node's ListGroups ("" if it is not there). */
static char *
group_key_id (Fixture *f, MeroTestNode *node, const char *group_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = mero_test_node_call (f->cluster, node, "ListGroups", NULL,
                                                    G_VARIANT_TYPE ("(aa{sv})"), &error);
  g_autoptr (GVariant) groups = NULL;
  GVariantIter iter;
  GVariant *group;
  char *key_id = NULL;

  g_assert_no_error (error);
  groups = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, groups);
  while (key_id == NULL && (group = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = NULL;

      if (g_variant_lookup (group, "group_id", "&s", &id) && g_str_equal (id, group_id))
        g_assert_true (g_variant_lookup (group, "key_id", "s", &key_id));
      g_variant_unref (group);
    }
  return key_id != NULL ? key_id : g_strdup ("");
}

static void
test_removed_member (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[] = { f->b, f->c, NULL };
  MeroTestNode *ab[] = { f->a, f->b, NULL };
  g_autofree char *context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *root_ab = NULL;
  g_autofree char *root_c = NULL;
  g_autofree char *evil = NULL;
  g_autoptr (GError) error = NULL;
  MemberGone gone = { f, f->a, context_id, f->c->peer_id };

  /* C is a full member first: its writes arrive. */
  mero_test_node_kv_set (f->cluster, f->c, context_id, "before", "\"c\"");
  wait_value (f, f->a, context_id, "before", "\"c\"");
  wait_value (f, f->b, context_id, "before", "\"c\"");

  /* A (the admin) removes C with meroctl; A and B agree C is out. */
  g_assert_cmpint (mero_test_node_meroctl (f->a,
                                           (const char *[]) { "context", "remove-member",
                                                              context_id, f->c->peer_id, NULL },
                                           &out, &err),
                   ==, 0);
  g_assert_true (mero_test_wait_until (member_gone, &gone, CATCH_UP_TIMEOUT_MS));
  gone.node = f->b;
  g_assert_true (mero_test_wait_until (member_gone, &gone, CATCH_UP_TIMEOUT_MS));

  /* C learns of its removal (the op reaches it, or it is left out of
   * the rotated key).  A delta C signed before that would cite the old
   * governance and be accepted everywhere, by design (README: replicas
   * must not split on arrival order); from here on C refuses to write. */
  {
    CanWrite w = { f, f->c, context_id };

    g_assert_true (mero_test_wait_until (cannot_write, &w, CATCH_UP_TIMEOUT_MS));
  }
  evil = mero_test_node_kv (f->cluster, f->c, context_id, "set",
                            "{\"key\":\"evil\",\"value\":\"c\"}", &error);
  g_assert_null (evil);
  g_assert_nonnull (error);
  g_test_message ("C's write after removal: %s", error->message);
  g_clear_error (&error);

  /* A writes after the rotation: B reads it, C does not. */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "secret", "\"ab\"");
  wait_value (f, f->b, context_id, "secret", "\"ab\"");
  assert_stays (f, f->a, context_id, "evil", "null");
  assert_stays (f, f->b, context_id, "evil", "null");
  {
    g_autofree char *seen = mero_test_node_kv (f->cluster, f->c, context_id, "get",
                                               "{\"key\":\"secret\"}", &error);

    /* C may have dropped the context altogether; if it still answers, it
     * has not got the new value. */
    if (seen != NULL)
      g_assert_cmpstr (seen, ==, "null");
    g_clear_error (&error);
  }
  root_ab = mero_test_cluster_wait_converged (f->cluster, ab, context_id, CATCH_UP_TIMEOUT_MS);
  g_assert_nonnull (root_ab);
  {
    g_autoptr (GVariant) info = mero_test_node_call (f->cluster, f->c, "GetContextInfo",
                                                     g_variant_new ("(s)", context_id),
                                                     G_VARIANT_TYPE ("(a{sv})"), &error);

    if (info != NULL)
      {
        g_autoptr (GVariant) dict = g_variant_get_child_value (info, 0);
        gboolean can_write = TRUE;

        g_assert_true (g_variant_lookup (dict, "root_hash", "s", &root_c));
        g_assert_cmpstr (root_c, !=, root_ab);
        g_assert_true (g_variant_lookup (dict, "can_write", "b", &can_write));
        g_assert_false (can_write);
      }
    g_clear_error (&error);
  }
  /* The key A and B use now is one C does not hold. */
  {
    g_autofree char *group_id = NULL;
    g_autofree char *key_a = NULL;
    g_autofree char *key_b = NULL;
    g_autofree char *key_c = NULL;
    g_autoptr (GVariant) info = mero_test_node_info (f->cluster, f->a, context_id);

    g_assert_true (g_variant_lookup (info, "group_id", "s", &group_id));
    key_a = group_key_id (f, f->a, group_id);
    key_b = group_key_id (f, f->b, group_id);
    key_c = group_key_id (f, f->c, group_id);
    g_assert_cmpstr (key_a, !=, "");
    g_assert_cmpstr (key_a, ==, key_b);
    g_assert_cmpstr (key_c, !=, key_a);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/contexts/late-joiner-and-restart", Fixture, NULL, set_up_short,
              test_late_joiner_and_restart, fixture_tear_down);
  g_test_add ("/contexts/lost-parent-fetched", Fixture, NULL, set_up_long,
              test_lost_parent_fetched, fixture_tear_down);
  g_test_add ("/contexts/removed-member", Fixture, NULL, set_up_long, test_removed_member,
              fixture_tear_down);
  return g_test_run ();
}
