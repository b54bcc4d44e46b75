/* test-tee-admission.c: TEE admission between real merod processes
 * (issue 14 item 4).
 *
 * policy-between-nodes: the group admin sets the policy with meroctl (a
 * signed SET_TEE_POLICY group op), the other member receives the op and
 * shows the same policy in GetContextInfo; a non-admin member's attempt
 * is refused with its reason, and bad input is refused before anything is
 * signed.
 *
 * fleet-join: a node with tee-mock (tee.accept_mock=true on both) asks in
 * with meroctl tee fleet-join; while the policy allows another MRTD the
 * admin refuses it (counted as mrtd_not_allowed); once the admin allows
 * the mock MRTD the node's next re-announce is admitted: it is a
 * read-only member, holds the key, reads what the admin wrote, and its
 * write is refused. */
#include <string.h>

#include <libsoup/soup.h>

#include "mero-test-cluster.h"
#include "mero-test-daemon.h"

#define ZERO_MRTD "000000000000000000000000000000000000000000000000" \
                  "000000000000000000000000000000000000000000000000"
#define NONZERO_MRTD "111111111111111111111111111111111111111111111111" \
                     "111111111111111111111111111111111111111111111111"
#define PROPAGATE_TIMEOUT_MS 15000

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  const char *context_id;
} Wait;

static gboolean
has_policy (gpointer user_data)
{
  Wait *w = user_data;
  g_autoptr (GVariant) info = mero_test_node_info (w->cluster, w->node, w->context_id);
  g_autoptr (GVariant) policy = g_variant_lookup_value (info, "tee_policy", G_VARIANT_TYPE_VARDICT);

  return policy != NULL;
}

static GVariant *
policy_of (MeroTestCluster *cluster, MeroTestNode *node, const char *context_id)
{
  g_autoptr (GVariant) info = mero_test_node_info (cluster, node, context_id);

  return g_variant_lookup_value (info, "tee_policy", G_VARIANT_TYPE_VARDICT);
}

static void
test_policy_between_nodes (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 0);
  MeroTestNode *b = mero_test_cluster_add_node (cluster, "b", 0);
  MeroTestNode *joiners[] = { b, NULL };
  g_autofree char *context_id = NULL;
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  g_autoptr (GVariant) before = NULL, on_a = NULL, on_b = NULL;
  g_autofree const char **mrtds = NULL, **statuses = NULL, **rtmrs = NULL;
  gboolean accept_mock = FALSE;
  Wait w;

  mero_test_node_start (cluster, a);
  mero_test_node_start (cluster, b);
  context_id = mero_test_cluster_share_context (cluster, a, joiners);
  before = policy_of (cluster, a, context_id);
  g_assert_null (before);

  /* b is a member, not an admin: refused, with the rule it broke */
  g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=" ZERO_MRTD, "tcb=UpToDate",
                                                                 "accept-mock", NULL },
                                           &out, &err),
                   ==, 1);
  g_assert_nonnull (strstr (err, "only admins set the TEE policy"));
  /* bad input never reaches the group */
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=00", "tcb=UpToDate", NULL },
                                           &out2, &err2),
                   ==, 1);
  g_assert_nonnull (strstr (err2, "MRTD must be 96 hex digits"));
  g_clear_pointer (&err2, g_free);
  g_clear_pointer (&out2, g_free);
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "tcb=Fine", NULL },
                                           &out2, &err2),
                   ==, 1);
  g_assert_nonnull (strstr (err2, "Unknown TCB status"));
  g_assert_null (policy_of (cluster, a, context_id));

  /* the admin sets it; b receives the signed op */
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=" ZERO_MRTD, "tcb=UpToDate",
                                                                 "tcb=SWHardeningNeeded",
                                                                 "rtmrs=," ZERO_MRTD ",,",
                                                                 "accept-mock", NULL },
                                           &out3, &err3),
                   ==, 0);
  g_assert_nonnull (strstr (out3, "TEE admission policy"));
  w.cluster = cluster;
  w.node = b;
  w.context_id = context_id;
  g_assert_true (mero_test_wait_until (has_policy, &w, PROPAGATE_TIMEOUT_MS));
  on_a = policy_of (cluster, a, context_id);
  on_b = policy_of (cluster, b, context_id);
  g_assert_true (g_variant_equal (on_a, on_b));
  g_assert_true (g_variant_lookup (on_b, "mrtds", "^a&s", &mrtds));
  g_assert_cmpuint (g_strv_length ((char **) mrtds), ==, 1);
  g_assert_cmpstr (mrtds[0], ==, ZERO_MRTD);
  g_assert_true (g_variant_lookup (on_b, "tcb_statuses", "^a&s", &statuses));
  g_assert_cmpuint (g_strv_length ((char **) statuses), ==, 2);
  g_assert_cmpstr (statuses[0], ==, "UpToDate");
  g_assert_cmpstr (statuses[1], ==, "SWHardeningNeeded");
  g_assert_true (g_variant_lookup (on_b, "rtmrs", "^a&s", &rtmrs));
  g_assert_cmpuint (g_strv_length ((char **) rtmrs), ==, 4);
  g_assert_cmpstr (rtmrs[0], ==, "");
  g_assert_cmpstr (rtmrs[1], ==, ZERO_MRTD);
  g_assert_true (g_variant_lookup (on_b, "accept_mock", "b", &accept_mock));
  g_assert_true (accept_mock);
  g_clear_pointer (&on_a, g_variant_unref);
  g_clear_pointer (&on_b, g_variant_unref);
  mero_test_cluster_free (cluster);
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  const char *series;
  guint64 at_least;
} WaitMetric;

static gboolean
metric_reached (gpointer user_data)
{
  WaitMetric *w = user_data;

  return mero_test_node_metric (w->cluster, w->node, w->series) >= w->at_least;
}

/* b reads "k" = 1 through its own context (the key reached it). */
static gboolean
reads_value (gpointer user_data)
{
  Wait *w = user_data;
  g_autofree char *value = mero_test_node_kv (w->cluster, w->node, w->context_id, "get",
                                              "{\"key\":\"k\"}", NULL);

  return g_strcmp0 (value, "1") == 0;
}

static void
test_fleet_join (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 1);
  MeroTestNode *b = mero_test_cluster_add_node (cluster, "b", 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL, info = NULL;
  g_autofree char *address = NULL, *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
  g_autofree char *out3 = NULL, *err3 = NULL, *write = NULL;
  const char *context_id, *group_id;
  gboolean can_write = TRUE;
  WaitMetric refused = { cluster, a, "mero_tee_admissions_total{result=\"mrtd_not_allowed\"}", 1 };
  WaitMetric admitted = { cluster, a, "mero_tee_admissions_total{result=\"ok\"}", 1 };
  Wait w = { cluster, b, NULL };

  mero_test_node_config_set (a, "tee.accept_mock", "true");
  mero_test_node_config_set (b, "tee.accept_mock", "true");
  mero_test_node_start (cluster, a);
  mero_test_node_start (cluster, b);
  created = mero_test_node_call (cluster, a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &context_id, &group_id);
  w.context_id = context_id;
  mero_test_node_kv_set (cluster, a, context_id, "k", "1");
  /* a policy that does not allow tee-mock's all-zero MRTD */
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=" NONZERO_MRTD,
                                                                 "tcb=UpToDate", "accept-mock",
                                                                 NULL },
                                           &out, &err),
                   ==, 0);
  address = mero_test_node_listen_address (cluster, a);
  g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "tee", "fleet-join", context_id,
                                                                 group_id, "kv", address, NULL },
                                           &out2, &err2),
                   ==, 0);
  g_assert_true (mero_test_wait_until (metric_reached, &refused, PROPAGATE_TIMEOUT_MS));
  g_assert_cmpuint (mero_test_node_metric (cluster, a, admitted.series), ==, 0);

  /* the admin allows the mock MRTD: b's next re-announce gets in */
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=" ZERO_MRTD,
                                                                 "tcb=UpToDate", "accept-mock",
                                                                 NULL },
                                           &out3, &err3),
                   ==, 0);
  g_assert_true (mero_test_wait_until (metric_reached, &admitted, PROPAGATE_TIMEOUT_MS));
  g_assert_true (mero_test_wait_until (reads_value, &w, PROPAGATE_TIMEOUT_MS));
  info = mero_test_node_info (cluster, b, context_id);
  g_assert_true (g_variant_lookup (info, "can_write", "b", &can_write));
  g_assert_false (can_write);
  write = mero_test_node_kv (cluster, b, context_id, "set", "{\"key\":\"x\",\"value\":2}",
                             &error);
  g_assert_null (write);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "may not write"));
  mero_test_cluster_free (cluster);
}

static gboolean wait_join_state (MeroTestCluster *cluster, MeroTestNode *node, const char *state);

/* The admitting node runs without tee.accept_mock: the verifier refuses
 * the mock quote, whatever the policy says, and the node stays out; the
 * refusal reaches it, and since fresh collateral or another verifier
 * could change it, it goes on announcing. */
static void
test_mock_refused_without_accept_mock (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 1);
  MeroTestNode *b = mero_test_cluster_add_node (cluster, "b", 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL;
  g_autofree char *address = NULL, *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL;
  g_autofree char *value = NULL;
  const char *context_id, *group_id;
  WaitMetric refused = { cluster, a, "mero_tee_admissions_total{result=\"verifier_refused\"}",
                         2 };

  mero_test_node_config_set (b, "tee.accept_mock", "true");
  mero_test_node_start (cluster, a);
  mero_test_node_start (cluster, b);
  created = mero_test_node_call (cluster, a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &context_id, &group_id);
  mero_test_node_kv_set (cluster, a, context_id, "k", "1");
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "policy", context_id,
                                                                 "mrtd=" ZERO_MRTD,
                                                                 "tcb=UpToDate", "accept-mock",
                                                                 NULL },
                                           &out, &err),
                   ==, 0);
  address = mero_test_node_listen_address (cluster, a);
  g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "tee", "fleet-join", context_id,
                                                                 group_id, "kv", address, NULL },
                                           &out2, &err2),
                   ==, 0);
  /* refused on the announce and again on the re-announce */
  g_assert_true (mero_test_wait_until (metric_reached, &refused, PROPAGATE_TIMEOUT_MS));
  g_assert_cmpuint (mero_test_node_metric (cluster, a, "mero_tee_admissions_total{result=\"ok\"}"),
                    ==, 0);
  g_assert_true (wait_join_state (cluster, b, "refused: verifier_refused"));
  value = mero_test_node_kv (cluster, b, context_id, "get", "{\"key\":\"k\"}", NULL);
  g_assert_null (value);
  mero_test_cluster_free (cluster);
}

/* tee info says where quotes come from; tee attest gives a quote bound
 * to the node's key that merod tee verify accepts (mock here); a node
 * with neither configfs-tsm nor tee.accept_mock says it cannot attest. */
static void
test_info_and_attest (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 0);
  MeroTestNode *b = mero_test_cluster_add_node (cluster, "b", 0);
  g_autofree char *out = NULL, *err = NULL, *out2 = NULL, *err2 = NULL, *out3 = NULL, *err3 = NULL;
  g_autofree char *quote_path = NULL, *vout = NULL, *verr = NULL;
  const char *nonce = "0102030405060708091011121314151617181920212223242526272829303132";
  gboolean tsm = g_file_test ("/sys/kernel/config/tsm/report", G_FILE_TEST_IS_DIR);
  int status = -1;

  mero_test_node_config_set (a, "tee.accept_mock", "true");
  mero_test_node_start (cluster, a);
  mero_test_node_start (cluster, b);
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "--json", "tee", "info", NULL },
                                           &out, &err),
                   ==, 0);
  g_assert_nonnull (strstr (out, "\"accept_mock\":true"));
  if (!tsm)
    g_assert_nonnull (strstr (out, "\"quote_source\":\"mock\""));
  g_assert_cmpint (mero_test_node_meroctl (a, (const char *[]) { "tee", "attest", nonce, NULL },
                                           &out2, &err2),
                   ==, 0);
  g_strstrip (out2);
  if (!tsm)
    {
      /* MOCK_TDX_QUOTE_V1 || nonce || sha256(key) || zeros */
      g_assert_true (g_str_has_prefix (out2, "4d4f434b5f5444585f51554f54455f5631"));
      g_assert_nonnull (strstr (out2, nonce));
      quote_path = g_build_filename (a->home, "quote.hex", NULL);
      g_assert_true (g_file_set_contents (quote_path, out2, -1, NULL));
      {
        /* no collateral needed for a mock quote: the (empty) home will do */
        const char *argv[] = { mero_test_merod_path (), "tee", "verify", quote_path, a->home, "--home",
                               a->home, NULL };
        g_autoptr (GError) error = NULL;
        g_assert_true (g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                                     &vout, &verr, &status, &error));
        g_assert_no_error (error);
        if (!g_spawn_check_wait_status (status, NULL))
          g_error ("merod tee verify: %s %s", vout, verr);
        g_assert_nonnull (strstr (vout, nonce));
      }
      /* b has neither: it says so, naming configfs-tsm's path */
      g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "tee", "attest", NULL },
                                               &out3, &err3),
                       ==, 1);
      g_assert_nonnull (strstr (err3, "/sys/kernel/config/tsm/report"));
    }
  mero_test_cluster_free (cluster);
}

/* @method @path on @node's admin API (its first URL of http.address,
 * with its http.token when there is one); returns the body. */
static char *
http (MeroTestNode *node, const char *method, const char *path, const char *body,
      guint *status)
{
  g_autofree char *address_file = g_build_filename (node->home, "http.address", NULL);
  g_autofree char *token_file = g_build_filename (node->home, "http.token", NULL);
  g_autofree char *urls = NULL, *token = NULL, *full = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_get_contents (address_file, &urls, NULL, NULL));
  lines = g_strsplit (urls, "\n", -1);
  full = g_strconcat (lines[0], path, NULL);
  msg = soup_message_new (method, full);
  if (body != NULL)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (body, strlen (body));
      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  if (g_file_get_contents (token_file, &token, NULL, NULL))
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", g_strstrip (token));
      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  reply = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *status = soup_message_get_status (msg);
  return g_strndup (g_bytes_get_data (reply, NULL), g_bytes_get_size (reply));
}

static void
test_http (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 0);
  g_autofree char *info = NULL, *attest = NULL, *join = NULL, *bad = NULL;
  const char *nonce = "0102030405060708091011121314151617181920212223242526272829303132";
  gboolean tsm = g_file_test ("/sys/kernel/config/tsm/report", G_FILE_TEST_IS_DIR);
  guint status = 0;

  mero_test_node_config_set (a, "tee.accept_mock", "true");
  mero_test_node_start (cluster, a);
  info = http (a, "GET", "/admin-api/tee/info", NULL, &status);
  g_assert_cmpuint (status, ==, 200);
  g_assert_nonnull (strstr (info, "\"accept_mock\":true"));
  g_assert_nonnull (strstr (info, "\"member_key\""));
  attest = http (a, "POST", "/admin-api/tee/attest", "{\"nonce\":\"0102030405060708091011121314151617181920212223242526272829303132\"}", &status);
  g_assert_cmpuint (status, ==, 200);
  if (!tsm)
    g_assert_nonnull (strstr (attest, "\"quote\":\"4d4f434b5f5444585f51554f54455f5631"));
  g_assert_nonnull (strstr (attest, nonce));
  /* refused with the reason, nothing announced */
  join = http (a, "POST", "/admin-api/tee/fleet-join", "{\"context_id\":\"x\"}", &status);
  g_assert_cmpuint (status, ==, 400);
  g_assert_nonnull (strstr (join, "Give a context id"));
  bad = http (a, "POST", "/admin-api/tee/attest", "[[[[1]]]]", &status);
  g_assert_cmpuint (status, ==, 400);
  mero_test_cluster_free (cluster);
}

/* meroctl on @node: exit 0 expected, the output dropped. */
static void
meroctl_ok (MeroTestNode *node, const char *const *args)
{
  g_autofree char *out = NULL, *err = NULL;

  if (mero_test_node_meroctl (node, args, &out, &err) != 0)
    g_error ("meroctl %s %s: %s", args[0], args[1], err);
}

/* @node's quote over @nonce (bound to its own key), saved in its home. */
static char *
attest_to_file (MeroTestNode *node, const char *nonce, const char *name)
{
  g_autofree char *out = NULL, *err = NULL;
  char *path = g_build_filename (node->home, name, NULL);

  g_assert_cmpint (mero_test_node_meroctl (node, (const char *[]) { "tee", "attest", nonce, NULL },
                                           &out, &err),
                   ==, 0);
  g_assert_true (g_file_set_contents (path, g_strstrip (out), -1, NULL));
  return path;
}

static void
wait_admissions (MeroTestCluster *cluster, MeroTestNode *admin, const char *result,
                 guint64 at_least)
{
  g_autofree char *series = g_strdup_printf ("mero_tee_admissions_total{result=\"%s\"}", result);
  WaitMetric w = { cluster, admin, series, at_least };

  if (!mero_test_wait_until (metric_reached, &w, PROPAGATE_TIMEOUT_MS))
    g_error ("%s stayed at %" G_GUINT64_FORMAT " (wanted %" G_GUINT64_FORMAT ")", series,
             mero_test_node_metric (cluster, admin, series), at_least);
}

/* The state of @node's (only) fleet-join in TeeInfo, "" without one. */
static char *
join_state (MeroTestCluster *cluster, MeroTestNode *node, gboolean *announcing)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = mero_test_node_call (cluster, node, "TeeInfo", NULL,
                                                    G_VARIANT_TYPE ("(a{sv})"), &error);
  g_autoptr (GVariant) info = NULL, joins = NULL, join = NULL;
  const char *state = "";

  g_assert_no_error (error);
  info = g_variant_get_child_value (reply, 0);
  joins = g_variant_lookup_value (info, "fleet_joins", G_VARIANT_TYPE ("aa{sv}"));
  g_assert_nonnull (joins);
  if (g_variant_n_children (joins) == 0)
    return g_strdup ("");
  g_assert_cmpuint (g_variant_n_children (joins), ==, 1);
  join = g_variant_get_child_value (joins, 0);
  g_assert_true (g_variant_lookup (join, "state", "&s", &state));
  if (announcing != NULL)
    g_assert_true (g_variant_lookup (join, "announcing", "b", announcing));
  return g_strdup (state);
}

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *node;
  const char *state;
} WaitJoin;

static gboolean
join_state_is (gpointer user_data)
{
  WaitJoin *w = user_data;
  g_autofree char *state = join_state (w->cluster, w->node, NULL);

  return g_strcmp0 (state, w->state) == 0;
}

/* Waits until @node shows @state for its fleet-join; returns whether it
 * still announces. */
static gboolean
wait_join_state (MeroTestCluster *cluster, MeroTestNode *node, const char *state)
{
  WaitJoin w = { cluster, node, state };
  gboolean announcing = FALSE;
  g_autofree char *now = NULL;

  if (!mero_test_wait_until (join_state_is, &w, PROPAGATE_TIMEOUT_MS))
    {
      g_autofree char *last = join_state (cluster, node, NULL);
      g_error ("%s: fleet-join state \"%s\", waited for \"%s\"", node->label, last, state);
    }
  now = join_state (cluster, node, &announcing);
  return announcing;
}

/* Issue 14's refusals between real processes, on one cluster: admin a,
 * joiners b and c (tee-mock on all three).  b announces a quote it made
 * (meroctl tee attest, then fleet-join QUOTE_FILE) while the policy
 * allows another MRTD (mrtd_not_allowed), then allows the mock MRTD but
 * not mock quotes (mock_not_accepted), then both: admitted.  c then
 * announces that same quote (replayed) and another quote of b's, bound
 * to b's key (key_binding).  Each is counted by reason on the admin, and
 * the admin's signed refusal reaches the announcing node: TeeInfo (D-Bus,
 * meroctl, HTTP) shows "refused: REASON", and on a definitive one
 * (replayed, key_binding) the node stops announcing. */
static void
test_refusals (void)
{
  MeroTestCluster *cluster = mero_test_cluster_new ();
  MeroTestNode *a = mero_test_cluster_add_node (cluster, "a", 1);
  MeroTestNode *b = mero_test_cluster_add_node (cluster, "b", 1);
  MeroTestNode *c = mero_test_cluster_add_node (cluster, "c", 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = NULL;
  g_autofree char *address = NULL, *q1 = NULL, *q2 = NULL;
  const char *context_id, *group_id;
  const char *n1 = "1111111111111111111111111111111111111111111111111111111111111111";
  const char *n2 = "2222222222222222222222222222222222222222222222222222222222222222";
  Wait w = { cluster, b, NULL };

  mero_test_node_config_set (a, "tee.accept_mock", "true");
  mero_test_node_config_set (b, "tee.accept_mock", "true");
  mero_test_node_config_set (c, "tee.accept_mock", "true");
  mero_test_node_start (cluster, a);
  mero_test_node_start (cluster, b);
  mero_test_node_start (cluster, c);
  if (g_file_test ("/sys/kernel/config/tsm/report", G_FILE_TEST_IS_DIR))
    {
      /* a real TD would announce real quotes, which tee-mock never admits */
      g_test_skip ("configfs-tsm present: the nodes would attest for real");
      mero_test_cluster_free (cluster);
      return;
    }
  created = mero_test_node_call (cluster, a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &context_id, &group_id);
  w.context_id = context_id;
  mero_test_node_kv_set (cluster, a, context_id, "k", "1");
  address = mero_test_node_listen_address (cluster, a);
  q1 = attest_to_file (b, n1, "q1.hex");
  q2 = attest_to_file (b, n2, "q2.hex");

  /* wrong MRTD */
  meroctl_ok (a, (const char *[]) { "tee", "policy", context_id, "mrtd=" NONZERO_MRTD,
                                    "tcb=UpToDate", "accept-mock", NULL });
  meroctl_ok (b, (const char *[]) { "tee", "fleet-join", context_id, group_id, "kv", address, q1,
                                    NULL });
  wait_admissions (cluster, a, "mrtd_not_allowed", 1);
  /* the admin's signed refusal reaches b; the policy may change: b goes on */
  g_assert_true (wait_join_state (cluster, b, "refused: mrtd_not_allowed"));

  /* the MRTD allowed, but not mock quotes */
  meroctl_ok (a, (const char *[]) { "tee", "policy", context_id, "mrtd=" ZERO_MRTD,
                                    "tcb=UpToDate", NULL });
  meroctl_ok (b, (const char *[]) { "tee", "fleet-join", context_id, group_id, "kv", address, q1,
                                    NULL });
  wait_admissions (cluster, a, "mock_not_accepted", 1);
  g_assert_true (wait_join_state (cluster, b, "refused: mock_not_accepted"));

  /* both: b gets in with q1 and reads */
  meroctl_ok (a, (const char *[]) { "tee", "policy", context_id, "mrtd=" ZERO_MRTD,
                                    "tcb=UpToDate", "accept-mock", NULL });
  meroctl_ok (b, (const char *[]) { "tee", "fleet-join", context_id, group_id, "kv", address, q1,
                                    NULL });
  wait_admissions (cluster, a, "ok", 1);
  g_assert_true (mero_test_wait_until (reads_value, &w, PROPAGATE_TIMEOUT_MS));
  g_assert_false (wait_join_state (cluster, b, "admitted"));

  /* c announces the quote that admitted b: replayed */
  meroctl_ok (c, (const char *[]) { "tee", "fleet-join", context_id, group_id, "kv", address, q1,
                                    NULL });
  wait_admissions (cluster, a, "replayed", 1);
  /* definitive: c stops announcing that quote */
  g_assert_false (wait_join_state (cluster, c, "refused: replayed"));
  g_assert_cmpuint (mero_test_node_metric (cluster, c, "mero_tee_refusals_total{event=\"received\","
                                                       "reason=\"replayed\"}"),
                    >=, 1);

  /* c announces a fresh quote of b's, bound to b's key: key_binding */
  meroctl_ok (c, (const char *[]) { "tee", "fleet-join", context_id, group_id, "kv", address, q2,
                                    NULL });
  wait_admissions (cluster, a, "key_binding", 1);
  g_assert_false (wait_join_state (cluster, c, "refused: key_binding"));
  {
    /* the same over meroctl and the admin API, with the admin's sentence */
    g_autofree char *out = NULL, *err = NULL, *body = NULL;
    guint status = 0;

    g_assert_cmpint (mero_test_node_meroctl (c, (const char *[]) { "tee", "info", NULL }, &out,
                                             &err),
                     ==, 0);
    g_assert_nonnull (strstr (out, "refused: key_binding"));
    g_assert_nonnull (strstr (out, "not bound to this member key"));
    body = http (c, "GET", "/admin-api/tee/info", NULL, &status);
    g_assert_cmpuint (status, ==, 200);
    g_assert_nonnull (strstr (body, "\"state\":\"refused: key_binding\""));
    g_assert_nonnull (strstr (body, "\"definitive\":true"));
  }
  g_assert_cmpuint (mero_test_node_metric (cluster, a, "mero_tee_refusals_total{event=\"sent\","
                                                       "reason=\"key_binding\"}"),
                    >=, 1);
  g_assert_cmpuint (mero_test_node_metric (cluster, a, "mero_tee_admissions_total{result=\"ok\"}"),
                    ==, 1);
  w.node = c;
  g_assert_false (reads_value (&w));
  mero_test_cluster_free (cluster);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tee/admission/policy-between-nodes", test_policy_between_nodes);
  g_test_add_func ("/tee/admission/info-and-attest", test_info_and_attest);
  g_test_add_func ("/tee/admission/http", test_http);
  g_test_add_func ("/tee/admission/fleet-join", test_fleet_join);
  g_test_add_func ("/tee/admission/mock-refused-without-accept-mock",
                   test_mock_refused_without_accept_mock);
  g_test_add_func ("/tee/admission/refusals", test_refusals);
  return g_test_run ();
}
