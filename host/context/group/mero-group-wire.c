/* mero-group-wire.c: heartbeat, governance delta and mutation
 * notification codecs. */
#include "context/group/mero-group-wire.h"

#include <string.h>

#include "context/group/mero-group-limits.h"
#include "mero-group.pb-c.h"

#define ID MERO_GROUP_ID_LEN

static gboolean
fail (GError **error, MeroGroupError code, const char *what)
{
  g_set_error (error, MERO_GROUP_ERROR, code, "malformed group message: %s", what);
  return FALSE;
}

static ProtobufCBinaryData *
ids_to_pb (const GArray *ids)
{
  ProtobufCBinaryData *out = g_new0 (ProtobufCBinaryData, ids->len + 1);

  for (guint i = 0; i < ids->len; i++)
    {
      out[i].len = ID;
      out[i].data = (guint8 *) ids->data + i * ID;
    }
  return out;
}

static gboolean
ids_from_pb (size_t n, const ProtobufCBinaryData *pb, guint max, GArray **out, GError **error)
{
  g_autoptr (GArray) ids = NULL;

  if (n > max)
    return fail (error, MERO_GROUP_ERROR_TOO_LARGE, "too many ids");
  ids = g_array_sized_new (FALSE, FALSE, ID, (guint) n);
  for (size_t i = 0; i < n; i++)
    {
      if (pb[i].len != ID)
        return fail (error, MERO_GROUP_ERROR_MALFORMED, "id size");
      g_array_append_vals (ids, pb[i].data, 1);
    }
  *out = g_steal_pointer (&ids);
  return TRUE;
}

static gboolean
group_from_pb (ProtobufCBinaryData pb, guint8 out[ID], GError **error)
{
  if (pb.len != ID)
    return fail (error, MERO_GROUP_ERROR_MALFORMED, "group id size");
  memcpy (out, pb.data, ID);
  return TRUE;
}

static GBytes *
pack (const ProtobufCMessage *msg)
{
  gsize len = protobuf_c_message_get_packed_size (msg);
  guint8 *out = g_malloc (len);

  protobuf_c_message_pack (msg, out);
  return g_bytes_new_take (out, len);
}

GBytes *
mero_group_heartbeat_encode (const guint8 group_id[MERO_GROUP_ID_LEN], const GArray *heads)
{
  Mero__Group__GroupStateHeartbeat msg = MERO__GROUP__GROUP_STATE_HEARTBEAT__INIT;
  g_autofree ProtobufCBinaryData *pb = NULL;

  g_return_val_if_fail (heads->len <= MERO_GROUP_HEARTBEAT_MAX_HEADS, NULL);
  pb = ids_to_pb (heads);
  msg.group_id.len = ID;
  msg.group_id.data = (guint8 *) group_id;
  msg.n_heads = heads->len;
  msg.heads = pb;
  return pack (&msg.base);
}

gboolean
mero_group_heartbeat_decode (const guint8 *data, gsize len, guint8 group_id_out[MERO_GROUP_ID_LEN],
                             GArray **heads_out, GError **error)
{
  Mero__Group__GroupStateHeartbeat *msg;
  gboolean ok;

  if (len > ID + MERO_GROUP_HEARTBEAT_MAX_HEADS * (ID + 2) + 2)
    return fail (error, MERO_GROUP_ERROR_TOO_LARGE, "heartbeat too large");
  msg = mero__group__group_state_heartbeat__unpack (NULL, len, data);
  if (msg == NULL)
    return fail (error, MERO_GROUP_ERROR_MALFORMED, "not a GroupStateHeartbeat");
  ok = group_from_pb (msg->group_id, group_id_out, error)
       && ids_from_pb (msg->n_heads, msg->heads, MERO_GROUP_HEARTBEAT_MAX_HEADS, heads_out, error);
  mero__group__group_state_heartbeat__free_unpacked (msg, NULL);
  return ok;
}

GBytes *
mero_group_delta_encode (const guint8 group_id[MERO_GROUP_ID_LEN], const GPtrArray *ops)
{
  Mero__Group__GroupGovernanceDelta msg = MERO__GROUP__GROUP_GOVERNANCE_DELTA__INIT;
  g_autofree ProtobufCBinaryData *pb = NULL;

  g_return_val_if_fail (ops->len <= MERO_GROUP_DELTA_MAX_OPS, NULL);
  pb = g_new0 (ProtobufCBinaryData, ops->len + 1);
  for (guint i = 0; i < ops->len; i++)
    {
      gsize n = 0;
      pb[i].data = (guint8 *) g_bytes_get_data (g_ptr_array_index (ops, i), &n);
      pb[i].len = n;
    }
  msg.group_id.len = ID;
  msg.group_id.data = (guint8 *) group_id;
  msg.n_ops = ops->len;
  msg.ops = pb;
  return pack (&msg.base);
}

gboolean
mero_group_delta_decode (const guint8 *data, gsize len, guint8 group_id_out[MERO_GROUP_ID_LEN],
                         GPtrArray **ops_out, GError **error)
{
  Mero__Group__GroupGovernanceDelta *msg;
  g_autoptr (GPtrArray) ops = NULL;
  gboolean ok;

  if (len > MERO_GROUP_DELTA_MAX_BYTES)
    return fail (error, MERO_GROUP_ERROR_TOO_LARGE, "governance delta too large");
  msg = mero__group__group_governance_delta__unpack (NULL, len, data);
  if (msg == NULL)
    return fail (error, MERO_GROUP_ERROR_MALFORMED, "not a GroupGovernanceDelta");
  ok = group_from_pb (msg->group_id, group_id_out, error);
  if (ok && msg->n_ops > MERO_GROUP_DELTA_MAX_OPS)
    ok = fail (error, MERO_GROUP_ERROR_TOO_LARGE, "too many ops in one delta");
  if (ok)
    {
      ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
      for (size_t i = 0; i < msg->n_ops; i++)
        g_ptr_array_add (ops, g_bytes_new (msg->ops[i].data, msg->ops[i].len));
      *ops_out = g_steal_pointer (&ops);
    }
  mero__group__group_governance_delta__free_unpacked (msg, NULL);
  return ok;
}

GBytes *
mero_group_notification_encode (const guint8 group_id[MERO_GROUP_ID_LEN],
                                const guint8 op_id[MERO_GROUP_ID_LEN],
                                const MeroGroupMutation *mutation)
{
  Mero__Group__GroupMutationNotification msg = MERO__GROUP__GROUP_MUTATION_NOTIFICATION__INIT;
  g_autofree ProtobufCBinaryData *added = ids_to_pb (mutation->added);
  g_autofree ProtobufCBinaryData *removed = ids_to_pb (mutation->removed);
  g_autofree ProtobufCBinaryData *changed = ids_to_pb (mutation->changed);

  msg.group_id.len = ID;
  msg.group_id.data = (guint8 *) group_id;
  msg.op_id.len = ID;
  msg.op_id.data = (guint8 *) op_id;
  msg.n_added = mutation->added->len;
  msg.added = added;
  msg.n_removed = mutation->removed->len;
  msg.removed = removed;
  msg.n_changed = mutation->changed->len;
  msg.changed = changed;
  return pack (&msg.base);
}

gboolean
mero_group_notification_decode (const guint8 *data, gsize len,
                                guint8 group_id_out[MERO_GROUP_ID_LEN],
                                guint8 op_id_out[MERO_GROUP_ID_LEN],
                                MeroGroupMutation **mutation_out, GError **error)
{
  Mero__Group__GroupMutationNotification *msg;
  g_autoptr (MeroGroupMutation) m = g_new0 (MeroGroupMutation, 1);
  gboolean ok;

  if (len > 2 * ID + 3 * MERO_GROUP_NOTIFICATION_MAX_IDS * (ID + 2) + 8)
    return fail (error, MERO_GROUP_ERROR_TOO_LARGE, "notification too large");
  msg = mero__group__group_mutation_notification__unpack (NULL, len, data);
  if (msg == NULL)
    return fail (error, MERO_GROUP_ERROR_MALFORMED, "not a GroupMutationNotification");
  ok = group_from_pb (msg->group_id, group_id_out, error)
       && group_from_pb (msg->op_id, op_id_out, error)
       && ids_from_pb (msg->n_added, msg->added, MERO_GROUP_NOTIFICATION_MAX_IDS, &m->added, error)
       && ids_from_pb (msg->n_removed, msg->removed, MERO_GROUP_NOTIFICATION_MAX_IDS, &m->removed,
                       error)
       && ids_from_pb (msg->n_changed, msg->changed, MERO_GROUP_NOTIFICATION_MAX_IDS, &m->changed,
                       error);
  mero__group__group_mutation_notification__free_unpacked (msg, NULL);
  if (!ok)
    return FALSE;
  *mutation_out = g_steal_pointer (&m);
  return TRUE;
}
