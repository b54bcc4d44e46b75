/* test-tee-admission.c: the TEE admission policy between real merod
 * processes (issue 14 item 4): the group admin sets it with meroctl (a
 * signed SET_TEE_POLICY group op), the other member receives the op and
 * shows the same policy in GetContextInfo; a non-admin member's attempt
 * is refused with its reason, and bad input is refused before anything is
 * signed. */
#include <string.h>

#include "mero-test-cluster.h"
#include "mero-test-daemon.h"

#define ZERO_MRTD "000000000000000000000000000000000000000000000000" \
                  "000000000000000000000000000000000000000000000000"
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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tee/admission/policy-between-nodes", test_policy_between_nodes);
  return g_test_run ();
}
