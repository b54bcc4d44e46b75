/* mero-broadcast.c: bounded codec of the node protocol's messages. */
#include "node/mero-broadcast.h"

#include <string.h>

#include "mero-broadcast.pb-c.h"

G_DEFINE_QUARK (mero-broadcast-error-quark, mero_broadcast_error)

#define ID_LEN MERO_BROADCAST_ID_LEN

const char *
mero_broadcast_error_reason (const GError *error)
{
  if (error == NULL || error->domain != MERO_BROADCAST_ERROR)
    return "other";
  switch ((MeroBroadcastError) error->code)
    {
    case MERO_BROADCAST_ERROR_MALFORMED:
      return "malformed";
    case MERO_BROADCAST_ERROR_TOO_LARGE:
      return "too_large";
    case MERO_BROADCAST_ERROR_BAD_ID:
      return "bad_id";
    case MERO_BROADCAST_ERROR_UNKNOWN_VARIANT:
      return "unknown_variant";
    default:
      return "other";
    }
}

GArray *
mero_id_array_new (void)
{
  return g_array_new (FALSE, FALSE, ID_LEN);
}

void
mero_id_array_add (GArray *ids, const guint8 id[ID_LEN])
{
  g_array_append_vals (ids, id, 1);
}

const guint8 *
mero_id_array_get (const GArray *ids, guint i)
{
  return (const guint8 *) ids->data + (gsize) i * ID_LEN;
}

gboolean
mero_id_array_contains (const GArray *ids, const guint8 id[ID_LEN])
{
  for (guint i = 0; ids != NULL && i < ids->len; i++)
    if (memcmp (mero_id_array_get (ids, i), id, ID_LEN) == 0)
      return TRUE;
  return FALSE;
}

/* ---- encoding helpers: views into caller-owned memory ---- */

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (uint8_t *) data };
  return b;
}

static ProtobufCBinaryData
bin_bytes (GBytes *bytes)
{
  gsize len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  return bin (data, len);
}

/* (transfer container) views of each id in @ids. */
static ProtobufCBinaryData *
bin_ids (const GArray *ids, size_t *n)
{
  ProtobufCBinaryData *out;

  *n = ids != NULL ? ids->len : 0;
  out = g_new0 (ProtobufCBinaryData, *n + 1);
  for (guint i = 0; i < *n; i++)
    out[i] = bin (mero_id_array_get (ids, i), ID_LEN);
  return out;
}

static ProtobufCBinaryData *
bin_blobs (const GPtrArray *blobs, size_t *n)
{
  ProtobufCBinaryData *out;

  *n = blobs != NULL ? blobs->len : 0;
  out = g_new0 (ProtobufCBinaryData, *n + 1);
  for (guint i = 0; i < *n; i++)
    out[i] = bin_bytes (g_ptr_array_index (blobs, i));
  return out;
}

static GBytes *
pack (const ProtobufCMessage *message)
{
  gsize len = protobuf_c_message_get_packed_size (message);
  guint8 *buf = g_malloc (len > 0 ? len : 1);

  protobuf_c_message_pack (message, buf);
  return g_bytes_new_take (buf, len);
}

/* ---- decoding helpers ---- */

static gboolean
fail (GError **error, MeroBroadcastError code, const char *what)
{
  g_set_error (error, MERO_BROADCAST_ERROR, code, "%s", what);
  return FALSE;
}

static gboolean
take_id (const ProtobufCBinaryData *b, guint8 out[ID_LEN], GError **error)
{
  if (b->len != ID_LEN)
    return fail (error, MERO_BROADCAST_ERROR_BAD_ID, "an id is not 32 bytes");
  memcpy (out, b->data, ID_LEN);
  return TRUE;
}

static gboolean
take_ids (const ProtobufCBinaryData *b, size_t n, guint max, GArray *out, GError **error)
{
  if (n > max)
    return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "too many ids");
  for (size_t i = 0; i < n; i++)
    {
      guint8 id[ID_LEN];

      if (!take_id (&b[i], id, error))
        return FALSE;
      mero_id_array_add (out, id);
    }
  return TRUE;
}

static gboolean
take_blobs (const ProtobufCBinaryData *b, size_t n, guint max, GPtrArray *out, GError **error)
{
  if (n > max)
    return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "too many items");
  for (size_t i = 0; i < n; i++)
    {
      if (b[i].len == 0)
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "an empty item");
      g_ptr_array_add (out, g_bytes_new (b[i].data, b[i].len));
    }
  return TRUE;
}

static gboolean
take_root (const ProtobufCBinaryData *b, gboolean *has, guint8 out[ID_LEN], GError **error)
{
  *has = b->len != 0;
  return b->len == 0 || take_id (b, out, error);
}

/* ---- BroadcastMessage ---- */

MeroBroadcast *
mero_broadcast_new (MeroBroadcastKind kind)
{
  MeroBroadcast *msg = g_new0 (MeroBroadcast, 1);

  msg->kind = kind;
  msg->heads = mero_id_array_new ();
  msg->ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  msg->added = mero_id_array_new ();
  msg->removed = mero_id_array_new ();
  msg->changed = mero_id_array_new ();
  return msg;
}

void
mero_broadcast_free (MeroBroadcast *msg)
{
  if (msg == NULL)
    return;
  g_clear_pointer (&msg->payload, g_bytes_unref);
  g_array_unref (msg->heads);
  g_ptr_array_unref (msg->ops);
  g_array_unref (msg->added);
  g_array_unref (msg->removed);
  g_array_unref (msg->changed);
  g_free (msg);
}

GBytes *
mero_broadcast_encode (const MeroBroadcast *msg)
{
  Mero__Node__BroadcastMessage bm = MERO__NODE__BROADCAST_MESSAGE__INIT;
  Mero__Node__StateDelta sd = MERO__NODE__STATE_DELTA__INIT;
  Mero__Node__HashHeartbeat hb = MERO__NODE__HASH_HEARTBEAT__INIT;
  Mero__Node__GroupStateHeartbeat gh = MERO__NODE__GROUP_STATE_HEARTBEAT__INIT;
  Mero__Node__GroupGovernanceDelta gd = MERO__NODE__GROUP_GOVERNANCE_DELTA__INIT;
  Mero__Node__GroupMutationNotification gn = MERO__NODE__GROUP_MUTATION_NOTIFICATION__INIT;
  g_autofree ProtobufCBinaryData *heads = NULL, *ops = NULL, *added = NULL, *removed = NULL,
                                 *changed = NULL;
  size_t n_heads = 0;

  g_return_val_if_fail (msg != NULL, NULL);

  heads = bin_ids (msg->heads, &n_heads);
  switch (msg->kind)
    {
    case MERO_BROADCAST_STATE_DELTA:
      sd.context_id = bin (msg->id, ID_LEN);
      sd.envelope = bin_bytes (msg->payload);
      sd.heads = heads;
      sd.n_heads = n_heads;
      if (msg->has_root)
        sd.root_hash = bin (msg->root, ID_LEN);
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_STATE_DELTA;
      bm.state_delta = &sd;
      break;
    case MERO_BROADCAST_HASH_HEARTBEAT:
      hb.context_id = bin (msg->id, ID_LEN);
      hb.heads = heads;
      hb.n_heads = n_heads;
      if (msg->has_root)
        hb.root_hash = bin (msg->root, ID_LEN);
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_HASH_HEARTBEAT;
      bm.hash_heartbeat = &hb;
      break;
    case MERO_BROADCAST_GROUP_OP:
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_SIGNED_GROUP_OP;
      bm.signed_group_op = bin_bytes (msg->payload);
      break;
    case MERO_BROADCAST_TEE_ANNOUNCE:
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_TEE_ANNOUNCE;
      bm.tee_announce = bin_bytes (msg->payload);
      break;
    case MERO_BROADCAST_BLOB_PROVIDERS:
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_BLOB_PROVIDERS;
      bm.blob_providers = bin_bytes (msg->payload);
      break;
    case MERO_BROADCAST_TEE_REFUSAL:
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_TEE_REFUSAL;
      bm.tee_refusal = bin_bytes (msg->payload);
      break;
    case MERO_BROADCAST_GROUP_HEARTBEAT:
      gh.group_id = bin (msg->id, ID_LEN);
      gh.heads = heads;
      gh.n_heads = n_heads;
      gh.n_ops = msg->n_ops;
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_STATE_HEARTBEAT;
      bm.group_state_heartbeat = &gh;
      break;
    case MERO_BROADCAST_GROUP_DELTA:
      gd.group_id = bin (msg->id, ID_LEN);
      ops = bin_blobs (msg->ops, &gd.n_ops);
      gd.ops = ops;
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_GOVERNANCE_DELTA;
      bm.group_governance_delta = &gd;
      break;
    case MERO_BROADCAST_GROUP_NOTIFICATION:
      gn.group_id = bin (msg->id, ID_LEN);
      gn.op_id = bin (msg->op_id, ID_LEN);
      added = bin_ids (msg->added, &gn.n_added);
      removed = bin_ids (msg->removed, &gn.n_removed);
      changed = bin_ids (msg->changed, &gn.n_changed);
      gn.added = added;
      gn.removed = removed;
      gn.changed = changed;
      bm.payload_case = MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_MUTATION_NOTIFICATION;
      bm.group_mutation_notification = &gn;
      break;
    default:
      g_return_val_if_reached (NULL);
    }
  return pack (&bm.base);
}

static gboolean
decode_broadcast (const Mero__Node__BroadcastMessage *bm, MeroBroadcast *msg, GError **error)
{
  switch (bm->payload_case)
    {
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_STATE_DELTA:
      {
        const Mero__Node__StateDelta *sd = bm->state_delta;

        msg->kind = MERO_BROADCAST_STATE_DELTA;
        if (sd->envelope.len == 0)
          return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "a state delta without envelope");
        msg->payload = g_bytes_new (sd->envelope.data, sd->envelope.len);
        return take_id (&sd->context_id, msg->id, error)
               && take_ids (sd->heads, sd->n_heads, MERO_BROADCAST_MAX_HEADS, msg->heads, error)
               && take_root (&sd->root_hash, &msg->has_root, msg->root, error);
      }
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_HASH_HEARTBEAT:
      {
        const Mero__Node__HashHeartbeat *hb = bm->hash_heartbeat;

        msg->kind = MERO_BROADCAST_HASH_HEARTBEAT;
        return take_id (&hb->context_id, msg->id, error)
               && take_ids (hb->heads, hb->n_heads, MERO_BROADCAST_MAX_HEADS, msg->heads, error)
               && take_root (&hb->root_hash, &msg->has_root, msg->root, error);
      }
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_SIGNED_GROUP_OP:
      msg->kind = MERO_BROADCAST_GROUP_OP;
      if (bm->signed_group_op.len == 0)
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "an empty group op");
      msg->payload = g_bytes_new (bm->signed_group_op.data, bm->signed_group_op.len);
      return TRUE;
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_TEE_ANNOUNCE:
      msg->kind = MERO_BROADCAST_TEE_ANNOUNCE;
      if (bm->tee_announce.len == 0)
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "an empty TEE announce");
      msg->payload = g_bytes_new (bm->tee_announce.data, bm->tee_announce.len);
      return TRUE;
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_BLOB_PROVIDERS:
      msg->kind = MERO_BROADCAST_BLOB_PROVIDERS;
      if (bm->blob_providers.len == 0)
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "an empty blob provider record");
      msg->payload = g_bytes_new (bm->blob_providers.data, bm->blob_providers.len);
      return TRUE;
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_TEE_REFUSAL:
      msg->kind = MERO_BROADCAST_TEE_REFUSAL;
      if (bm->tee_refusal.len == 0)
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "an empty TEE refusal");
      msg->payload = g_bytes_new (bm->tee_refusal.data, bm->tee_refusal.len);
      return TRUE;
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_STATE_HEARTBEAT:
      {
        const Mero__Node__GroupStateHeartbeat *gh = bm->group_state_heartbeat;

        msg->kind = MERO_BROADCAST_GROUP_HEARTBEAT;
        msg->n_ops = gh->n_ops;
        return take_id (&gh->group_id, msg->id, error)
               && take_ids (gh->heads, gh->n_heads, MERO_BROADCAST_MAX_HEADS, msg->heads, error);
      }
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_GOVERNANCE_DELTA:
      {
        const Mero__Node__GroupGovernanceDelta *gd = bm->group_governance_delta;

        msg->kind = MERO_BROADCAST_GROUP_DELTA;
        return take_id (&gd->group_id, msg->id, error)
               && take_blobs (gd->ops, gd->n_ops, MERO_BROADCAST_MAX_OPS, msg->ops, error);
      }
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD_GROUP_MUTATION_NOTIFICATION:
      {
        const Mero__Node__GroupMutationNotification *gn = bm->group_mutation_notification;

        msg->kind = MERO_BROADCAST_GROUP_NOTIFICATION;
        return take_id (&gn->group_id, msg->id, error) && take_id (&gn->op_id, msg->op_id, error)
               && take_ids (gn->added, gn->n_added, MERO_BROADCAST_MAX_MEMBERS, msg->added, error)
               && take_ids (gn->removed, gn->n_removed, MERO_BROADCAST_MAX_MEMBERS, msg->removed,
                            error)
               && take_ids (gn->changed, gn->n_changed, MERO_BROADCAST_MAX_MEMBERS, msg->changed,
                            error);
      }
    case MERO__NODE__BROADCAST_MESSAGE__PAYLOAD__NOT_SET:
    default:
      if (bm->base.n_unknown_fields > 0)
        return fail (error, MERO_BROADCAST_ERROR_UNKNOWN_VARIANT,
                     "a broadcast message of a variant this version does not know");
      return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "a broadcast message without payload");
    }
}

MeroBroadcast *
mero_broadcast_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Node__BroadcastMessage *bm;
  g_autoptr (MeroBroadcast) msg = NULL;
  gboolean ok;

  if (len > MERO_BROADCAST_MAX_SIZE)
    {
      fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "broadcast message too large");
      return NULL;
    }
  bm = mero__node__broadcast_message__unpack (NULL, len, data);
  if (bm == NULL)
    {
      fail (error, MERO_BROADCAST_ERROR_MALFORMED, "not a broadcast message");
      return NULL;
    }
  msg = mero_broadcast_new (MERO_BROADCAST_STATE_DELTA);
  ok = decode_broadcast (bm, msg, error);
  mero__node__broadcast_message__free_unpacked (bm, NULL);
  return ok ? g_steal_pointer (&msg) : NULL;
}

/* ---- StreamMessage ---- */

MeroStreamMsg *
mero_stream_msg_new (MeroStreamKind kind)
{
  MeroStreamMsg *msg = g_new0 (MeroStreamMsg, 1);

  msg->kind = kind;
  msg->ids = mero_id_array_new ();
  msg->have = mero_id_array_new ();
  msg->heads = mero_id_array_new ();
  msg->blobs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  msg->keys = g_array_new (FALSE, FALSE, sizeof (MeroStreamSealedKey));
  return msg;
}

void
mero_stream_msg_free (MeroStreamMsg *msg)
{
  if (msg == NULL)
    return;
  g_array_unref (msg->ids);
  g_array_unref (msg->have);
  g_array_unref (msg->heads);
  g_ptr_array_unref (msg->blobs);
  g_array_unref (msg->keys);
  g_free (msg->reason);
  g_free (msg);
}

GBytes *
mero_stream_msg_encode (const MeroStreamMsg *msg)
{
  Mero__Node__StreamMessage sm = MERO__NODE__STREAM_MESSAGE__INIT;
  Mero__Node__DeltaRequest dq = MERO__NODE__DELTA_REQUEST__INIT;
  Mero__Node__DeltaResponse dr = MERO__NODE__DELTA_RESPONSE__INIT;
  Mero__Node__GroupOpsRequest gq = MERO__NODE__GROUP_OPS_REQUEST__INIT;
  Mero__Node__GroupOpsResponse gr = MERO__NODE__GROUP_OPS_RESPONSE__INIT;
  Mero__Node__KeyRequest kq = MERO__NODE__KEY_REQUEST__INIT;
  Mero__Node__KeyResponse kr = MERO__NODE__KEY_RESPONSE__INIT;
  Mero__Node__StreamError se = MERO__NODE__STREAM_ERROR__INIT;
  g_autofree ProtobufCBinaryData *ids = NULL, *have = NULL, *heads = NULL, *blobs = NULL;
  g_autofree Mero__Node__SealedKey *keys = NULL;
  g_autofree Mero__Node__SealedKey **key_ptrs = NULL;
  size_t n_ids, n_have, n_heads, n_blobs;

  g_return_val_if_fail (msg != NULL, NULL);

  ids = bin_ids (msg->ids, &n_ids);
  have = bin_ids (msg->have, &n_have);
  heads = bin_ids (msg->heads, &n_heads);
  blobs = bin_blobs (msg->blobs, &n_blobs);
  switch (msg->kind)
    {
    case MERO_STREAM_DELTA_REQUEST:
      dq.context_id = bin (msg->id, ID_LEN);
      dq.ids = ids;
      dq.n_ids = n_ids;
      dq.have = have;
      dq.n_have = n_have;
      dq.want_heads = msg->want_heads;
      dq.max_depth = msg->max_depth;
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_DELTA_REQUEST;
      sm.delta_request = &dq;
      break;
    case MERO_STREAM_DELTA_RESPONSE:
      dr.context_id = bin (msg->id, ID_LEN);
      dr.envelopes = blobs;
      dr.n_envelopes = n_blobs;
      dr.not_found = ids;
      dr.n_not_found = n_ids;
      dr.heads = heads;
      dr.n_heads = n_heads;
      if (msg->has_root)
        dr.root_hash = bin (msg->root, ID_LEN);
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_DELTA_RESPONSE;
      sm.delta_response = &dr;
      break;
    case MERO_STREAM_GROUP_OPS_REQUEST:
      gq.group_id = bin (msg->id, ID_LEN);
      gq.heads = heads;
      gq.n_heads = n_heads;
      gq.ops = blobs;
      gq.n_ops = n_blobs;
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_GROUP_OPS_REQUEST;
      sm.group_ops_request = &gq;
      break;
    case MERO_STREAM_GROUP_OPS_RESPONSE:
      gr.group_id = bin (msg->id, ID_LEN);
      gr.heads = heads;
      gr.n_heads = n_heads;
      gr.ops = blobs;
      gr.n_ops = n_blobs;
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_GROUP_OPS_RESPONSE;
      sm.group_ops_response = &gr;
      break;
    case MERO_STREAM_KEY_REQUEST:
      kq.group_id = bin (msg->id, ID_LEN);
      kq.key_ids = ids;
      kq.n_key_ids = n_ids;
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_KEY_REQUEST;
      sm.key_request = &kq;
      break;
    case MERO_STREAM_KEY_RESPONSE:
      kr.group_id = bin (msg->id, ID_LEN);
      keys = g_new0 (Mero__Node__SealedKey, msg->keys->len + 1);
      key_ptrs = g_new0 (Mero__Node__SealedKey *, msg->keys->len + 1);
      for (guint i = 0; i < msg->keys->len; i++)
        {
          const MeroStreamSealedKey *k = &g_array_index (msg->keys, MeroStreamSealedKey, i);

          mero__node__sealed_key__init (&keys[i]);
          keys[i].key_id = bin (k->key_id, ID_LEN);
          keys[i].sealed = bin (k->sealed, MERO_STREAM_SEALED_LEN);
          key_ptrs[i] = &keys[i];
        }
      kr.keys = key_ptrs;
      kr.n_keys = msg->keys->len;
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_KEY_RESPONSE;
      sm.key_response = &kr;
      break;
    case MERO_STREAM_ERROR:
      se.reason = msg->reason != NULL ? msg->reason : (char *) "";
      sm.body_case = MERO__NODE__STREAM_MESSAGE__BODY_ERROR;
      sm.error = &se;
      break;
    default:
      g_return_val_if_reached (NULL);
    }
  return pack (&sm.base);
}

static gboolean
decode_stream (const Mero__Node__StreamMessage *sm, MeroStreamMsg *msg, GError **error)
{
  switch (sm->body_case)
    {
    case MERO__NODE__STREAM_MESSAGE__BODY_DELTA_REQUEST:
      {
        const Mero__Node__DeltaRequest *dq = sm->delta_request;

        msg->kind = MERO_STREAM_DELTA_REQUEST;
        msg->want_heads = dq->want_heads;
        msg->max_depth = dq->max_depth;
        return take_id (&dq->context_id, msg->id, error)
               && take_ids (dq->ids, dq->n_ids, MERO_STREAM_MAX_IDS, msg->ids, error)
               && take_ids (dq->have, dq->n_have, MERO_STREAM_MAX_IDS, msg->have, error);
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_DELTA_RESPONSE:
      {
        const Mero__Node__DeltaResponse *dr = sm->delta_response;

        msg->kind = MERO_STREAM_DELTA_RESPONSE;
        return take_id (&dr->context_id, msg->id, error)
               && take_blobs (dr->envelopes, dr->n_envelopes, MERO_STREAM_MAX_BLOBS, msg->blobs,
                              error)
               && take_ids (dr->not_found, dr->n_not_found, MERO_STREAM_MAX_IDS, msg->ids, error)
               && take_ids (dr->heads, dr->n_heads, MERO_STREAM_MAX_IDS, msg->heads, error)
               && take_root (&dr->root_hash, &msg->has_root, msg->root, error);
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_GROUP_OPS_REQUEST:
      {
        const Mero__Node__GroupOpsRequest *gq = sm->group_ops_request;

        msg->kind = MERO_STREAM_GROUP_OPS_REQUEST;
        return take_id (&gq->group_id, msg->id, error)
               && take_ids (gq->heads, gq->n_heads, MERO_STREAM_MAX_IDS, msg->heads, error)
               && take_blobs (gq->ops, gq->n_ops, MERO_STREAM_MAX_BLOBS, msg->blobs, error);
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_GROUP_OPS_RESPONSE:
      {
        const Mero__Node__GroupOpsResponse *gr = sm->group_ops_response;

        msg->kind = MERO_STREAM_GROUP_OPS_RESPONSE;
        return take_id (&gr->group_id, msg->id, error)
               && take_ids (gr->heads, gr->n_heads, MERO_STREAM_MAX_IDS, msg->heads, error)
               && take_blobs (gr->ops, gr->n_ops, MERO_STREAM_MAX_BLOBS, msg->blobs, error);
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_KEY_REQUEST:
      {
        const Mero__Node__KeyRequest *kq = sm->key_request;

        msg->kind = MERO_STREAM_KEY_REQUEST;
        return take_id (&kq->group_id, msg->id, error)
               && take_ids (kq->key_ids, kq->n_key_ids, MERO_STREAM_MAX_KEYS, msg->ids, error);
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_KEY_RESPONSE:
      {
        const Mero__Node__KeyResponse *kr = sm->key_response;

        msg->kind = MERO_STREAM_KEY_RESPONSE;
        if (!take_id (&kr->group_id, msg->id, error))
          return FALSE;
        if (kr->n_keys > MERO_STREAM_MAX_KEYS)
          return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "too many keys");
        for (size_t i = 0; i < kr->n_keys; i++)
          {
            MeroStreamSealedKey k;

            if (!take_id (&kr->keys[i]->key_id, k.key_id, error))
              return FALSE;
            if (kr->keys[i]->sealed.len != MERO_STREAM_SEALED_LEN)
              return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "a sealed key of a wrong size");
            memcpy (k.sealed, kr->keys[i]->sealed.data, MERO_STREAM_SEALED_LEN);
            g_array_append_val (msg->keys, k);
          }
        return TRUE;
      }
    case MERO__NODE__STREAM_MESSAGE__BODY_ERROR:
      msg->kind = MERO_STREAM_ERROR;
      if (sm->error->reason != NULL && strlen (sm->error->reason) > MERO_STREAM_MAX_REASON)
        return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "error reason too long");
      if (sm->error->reason != NULL && !g_utf8_validate (sm->error->reason, -1, NULL))
        return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "error reason not UTF-8");
      msg->reason = g_strdup (sm->error->reason != NULL ? sm->error->reason : "");
      return TRUE;
    case MERO__NODE__STREAM_MESSAGE__BODY__NOT_SET:
    default:
      return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "a stream message without body");
    }
}

MeroStreamMsg *
mero_stream_msg_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Node__StreamMessage *sm;
  g_autoptr (MeroStreamMsg) msg = NULL;
  gboolean ok;

  if (len > MERO_STREAM_FRAME_MAX)
    {
      fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "stream message too large");
      return NULL;
    }
  sm = mero__node__stream_message__unpack (NULL, len, data);
  if (sm == NULL)
    {
      fail (error, MERO_BROADCAST_ERROR_MALFORMED, "not a stream message");
      return NULL;
    }
  msg = mero_stream_msg_new (MERO_STREAM_ERROR);
  ok = decode_stream (sm, msg, error);
  mero__node__stream_message__free_unpacked (sm, NULL);
  return ok ? g_steal_pointer (&msg) : NULL;
}

/* ---- frames ---- */

GBytes *
mero_stream_frame (GBytes *message)
{
  gsize len = g_bytes_get_size (message);
  GByteArray *out = g_byte_array_sized_new (len + 10);
  guint64 v = len;

  g_return_val_if_fail (len <= MERO_STREAM_FRAME_MAX, NULL);
  do
    {
      guint8 b = v & 0x7f;

      v >>= 7;
      if (v != 0)
        b |= 0x80;
      g_byte_array_append (out, &b, 1);
    }
  while (v != 0);
  g_byte_array_append (out, g_bytes_get_data (message, NULL), len);
  return g_byte_array_free_to_bytes (out);
}

gboolean
mero_stream_frame_pop (GByteArray *buffer, GBytes **message, GError **error)
{
  guint64 len = 0;
  guint shift = 0, i;

  *message = NULL;
  for (i = 0; i < buffer->len; i++)
    {
      guint8 b = buffer->data[i];

      /* 8 MiB needs 4 bytes; a fifth byte is already too large. */
      if (i >= 4)
        return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "stream frame too large");
      len |= (guint64) (b & 0x7f) << shift;
      shift += 7;
      if ((b & 0x80) == 0)
        break;
    }
  if (i == buffer->len)
    return TRUE;   /* length prefix incomplete */
  if (i > 0 && buffer->data[i] == 0)
    return fail (error, MERO_BROADCAST_ERROR_MALFORMED, "non-minimal frame length");
  if (len > MERO_STREAM_FRAME_MAX)
    return fail (error, MERO_BROADCAST_ERROR_TOO_LARGE, "stream frame too large");
  if (buffer->len - (i + 1) < len)
    return TRUE;
  *message = g_bytes_new (buffer->data + i + 1, len);
  g_byte_array_remove_range (buffer, 0, i + 1 + (guint) len);
  return TRUE;
}
