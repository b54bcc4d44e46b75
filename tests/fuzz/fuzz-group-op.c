/* Fuzz target: SignedGroupOpV1 decoding and everything after it.
 *
 * Whatever decodes must re-encode and decode to the same op id (the id
 * covers the explicit signing bytes, not the protobuf), and must survive
 * signature verification and a full mero_group_dag_receive() on a fresh
 * in-memory DAG of its group.  The same bytes also go through the other
 * governance decoders (heartbeat, governance delta, notification, TEE
 * announce, TEE refusal). */
#include <string.h>

#include "context/group/mero-group-dag.h"
#include "context/group/mero-group-wire.h"
#include "fuzz-target.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-refusal.h"

static void
other_decoders (const uint8_t *data, size_t size)
{
  guint8 group[MERO_GROUP_ID_LEN], op_id[MERO_GROUP_ID_LEN];
  GArray *heads = NULL;
  GPtrArray *ops = NULL;
  MeroGroupMutation *mutation = NULL;

  if (mero_group_heartbeat_decode (data, size, group, &heads, NULL))
    g_array_unref (heads);
  if (mero_group_delta_decode (data, size, group, &ops, NULL))
    g_ptr_array_unref (ops);
  if (mero_group_notification_decode (data, size, group, op_id, &mutation, NULL))
    mero_group_mutation_free (mutation);
  {
    g_autoptr (MeroTeeAnnounce) announce = mero_tee_announce_decode (data, size, NULL);
    if (announce != NULL)
      {
        g_autoptr (GBytes) again = mero_tee_announce_encode (announce);
        g_autoptr (MeroTeeAnnounce) back = mero_tee_announce_decode (
          g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
        g_assert_nonnull (back);
        g_assert_true (g_bytes_equal (back->quote, announce->quote));
        (void) mero_tee_announce_verify (announce);
      }
  }
  {
    g_autoptr (MeroTeeRefusal) refusal = mero_tee_refusal_decode (data, size, NULL);
    if (refusal != NULL)
      {
        g_autoptr (GBytes) again = mero_tee_refusal_encode (refusal);
        g_autoptr (MeroTeeRefusal) back = mero_tee_refusal_decode (
          g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
        g_assert_nonnull (back);
        g_assert_cmpstr (back->message, ==, refusal->message);
        g_assert_cmpint (back->reason, ==, refusal->reason);
        (void) mero_tee_refusal_verify (refusal);
        (void) mero_tee_refusal_is_definitive (refusal->reason);
      }
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroGroupOp) op = mero_group_op_decode (data, size, &error);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (MeroGroupOp) back = NULL;
  g_autoptr (MeroMetrics) metrics = NULL;
  g_autoptr (MeroGroupDag) dag = NULL;

  other_decoders (data, size);
  if (op == NULL)
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MERO_GROUP_ERROR);
      return 0;
    }
  again = mero_group_op_encode (op);
  back = mero_group_op_decode (g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
  g_assert_nonnull (back);
  g_assert_true (memcmp (back->id, op->id, MERO_GROUP_ID_LEN) == 0);
  (void) mero_group_op_verify (op, NULL);

  metrics = mero_metrics_new ();
  dag = mero_group_dag_open (NULL, op->group_id, metrics, NULL);
  (void) mero_group_dag_receive (dag, data, size, 0, NULL, NULL, NULL);
  return 0;
}
