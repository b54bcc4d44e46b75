/* mero-group-op-codec.c: SignedGroupOpV1 <-> MeroGroupOp.
 *
 * The decoder is fed peer bytes: it bounds the input before protobuf-c
 * allocates anything, then insists on exact sizes and canonical order
 * (sorted unique parents and envelopes), so one op has one meaning. */
#include "context/group/mero-group-op.h"

#include <string.h>

#include "context/group/mero-group-limits.h"
#include "crypto/mero-sha256.h"
#include "mero-group.pb-c.h"

#define CASE(x) MERO__GROUP__SIGNED_GROUP_OP_V1__OP_##x

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (guint8 *) data };
  return b;
}

static Mero__Group__KeyEnvelope *
envelope_to_pb (const MeroGroupEnvelope *e, Mero__Group__KeyEnvelope *pb)
{
  mero__group__key_envelope__init (pb);
  pb->member = bin (e->member, MERO_GROUP_KEY_LEN);
  pb->sealed = bin (e->sealed, MERO_GROUP_SEALED_LEN);
  return pb;
}

GBytes *
mero_group_op_encode (const MeroGroupOp *op)
{
  Mero__Group__SignedGroupOpV1 msg = MERO__GROUP__SIGNED_GROUP_OP_V1__INIT;
  Mero__Group__OpCreateGroup create = MERO__GROUP__OP_CREATE_GROUP__INIT;
  Mero__Group__OpAddMember add = MERO__GROUP__OP_ADD_MEMBER__INIT;
  Mero__Group__OpRemoveMember remove = MERO__GROUP__OP_REMOVE_MEMBER__INIT;
  Mero__Group__OpLeave leave = MERO__GROUP__OP_LEAVE__INIT;
  Mero__Group__OpSetRole set_role = MERO__GROUP__OP_SET_ROLE__INIT;
  Mero__Group__OpSetCapabilities set_caps = MERO__GROUP__OP_SET_CAPABILITIES__INIT;
  Mero__Group__OpRegisterContext reg = MERO__GROUP__OP_REGISTER_CONTEXT__INIT;
  Mero__Group__OpDetachContext detach = MERO__GROUP__OP_DETACH_CONTEXT__INIT;
  Mero__Group__OpRotateKey rotate = MERO__GROUP__OP_ROTATE_KEY__INIT;
  Mero__Group__OpJoin join = MERO__GROUP__OP_JOIN__INIT;
  Mero__Group__GroupInvitation inv = MERO__GROUP__GROUP_INVITATION__INIT;
  Mero__Group__OpSetMetadata meta = MERO__GROUP__OP_SET_METADATA__INIT;
  Mero__Group__OpSetTeePolicy policy = MERO__GROUP__OP_SET_TEE_POLICY__INIT;
  Mero__Group__OpAdmitTee admit = MERO__GROUP__OP_ADMIT_TEE__INIT;
  ProtobufCBinaryData mrtds[MERO_GROUP_TEE_POLICY_MAX_MRTDS];
  ProtobufCBinaryData rtmrs[MERO_GROUP_TEE_RTMRS];
  g_autofree ProtobufCBinaryData *parents = NULL;
  g_autofree Mero__Group__KeyEnvelope *envs = NULL;
  g_autofree Mero__Group__KeyEnvelope **env_ptrs = NULL;
  gsize meta_len = 0;
  const guint8 *meta_data;
  guint8 *out;
  gsize len;

  g_return_val_if_fail (op != NULL, NULL);
  meta_data = g_bytes_get_data (op->metadata, &meta_len);

  msg.group_id = bin (op->group_id, MERO_GROUP_ID_LEN);
  parents = g_new0 (ProtobufCBinaryData, op->parents->len + 1);
  for (guint i = 0; i < op->parents->len; i++)
    parents[i] = bin ((const guint8 *) op->parents->data + i * MERO_GROUP_ID_LEN,
                      MERO_GROUP_ID_LEN);
  msg.n_parents = op->parents->len;
  msg.parents = parents;
  msg.signer = bin (op->signer, MERO_GROUP_KEY_LEN);
  msg.nonce = op->nonce;
  msg.timestamp_ms = op->timestamp_ms;
  msg.signature = bin (op->signature, MERO_GROUP_SIG_LEN);

  envs = g_new0 (Mero__Group__KeyEnvelope, op->envelopes->len + 1);
  env_ptrs = g_new0 (Mero__Group__KeyEnvelope *, op->envelopes->len + 1);
  for (guint i = 0; i < op->envelopes->len; i++)
    env_ptrs[i] = envelope_to_pb (&g_array_index (op->envelopes, MeroGroupEnvelope, i), &envs[i]);

  switch (op->kind)
    {
    case MERO_GROUP_OP_CREATE_GROUP:
      create.key_id = bin (op->key_id, MERO_GROUP_ID_LEN);
      create.owner_envelope = env_ptrs[0];
      create.metadata = bin (meta_data, meta_len);
      msg.op_case = CASE (CREATE_GROUP);
      msg.create_group = &create;
      break;
    case MERO_GROUP_OP_ADD_MEMBER:
      add.member = bin (op->member, MERO_GROUP_KEY_LEN);
      add.role = op->role;
      add.capabilities = op->capabilities;
      add.key_id = bin (op->key_id, MERO_GROUP_ID_LEN);
      add.envelope = env_ptrs[0];
      msg.op_case = CASE (ADD_MEMBER);
      msg.add_member = &add;
      break;
    case MERO_GROUP_OP_REMOVE_MEMBER:
      remove.member = bin (op->member, MERO_GROUP_KEY_LEN);
      remove.key_id = bin (op->key_id, MERO_GROUP_ID_LEN);
      remove.n_envelopes = op->envelopes->len;
      remove.envelopes = env_ptrs;
      msg.op_case = CASE (REMOVE_MEMBER);
      msg.remove_member = &remove;
      break;
    case MERO_GROUP_OP_LEAVE:
      msg.op_case = CASE (LEAVE);
      msg.leave = &leave;
      break;
    case MERO_GROUP_OP_SET_ROLE:
      set_role.member = bin (op->member, MERO_GROUP_KEY_LEN);
      set_role.role = op->role;
      msg.op_case = CASE (SET_ROLE);
      msg.set_role = &set_role;
      break;
    case MERO_GROUP_OP_SET_CAPABILITIES:
      set_caps.member = bin (op->member, MERO_GROUP_KEY_LEN);
      set_caps.capabilities = op->capabilities;
      msg.op_case = CASE (SET_CAPABILITIES);
      msg.set_capabilities = &set_caps;
      break;
    case MERO_GROUP_OP_REGISTER_CONTEXT:
      reg.context_id = bin (op->context_id, MERO_GROUP_ID_LEN);
      reg.application_id = bin (op->application_id, MERO_GROUP_ID_LEN);
      msg.op_case = CASE (REGISTER_CONTEXT);
      msg.register_context = &reg;
      break;
    case MERO_GROUP_OP_DETACH_CONTEXT:
      detach.context_id = bin (op->context_id, MERO_GROUP_ID_LEN);
      msg.op_case = CASE (DETACH_CONTEXT);
      msg.detach_context = &detach;
      break;
    case MERO_GROUP_OP_ROTATE_KEY:
      rotate.key_id = bin (op->key_id, MERO_GROUP_ID_LEN);
      rotate.n_envelopes = op->envelopes->len;
      rotate.envelopes = env_ptrs;
      msg.op_case = CASE (ROTATE_KEY);
      msg.rotate_key = &rotate;
      break;
    case MERO_GROUP_OP_JOIN:
      inv.group_id = bin (op->invitation.group_id, MERO_GROUP_ID_LEN);
      inv.inviter = bin (op->invitation.inviter, MERO_GROUP_KEY_LEN);
      inv.role = op->invitation.role;
      inv.expiry_ms = op->invitation.expiry_ms;
      inv.nonce = bin (op->invitation.nonce, MERO_GROUP_NONCE_LEN);
      if (op->invitation.has_invitee)
        inv.invitee = bin (op->invitation.invitee, MERO_GROUP_KEY_LEN);
      inv.signature = bin (op->invitation.signature, MERO_GROUP_SIG_LEN);
      join.invitation = &inv;
      msg.op_case = CASE (JOIN);
      msg.join = &join;
      break;
    case MERO_GROUP_OP_SET_METADATA:
      meta.metadata = bin (meta_data, meta_len);
      msg.op_case = CASE (SET_METADATA);
      msg.set_metadata = &meta;
      break;
    case MERO_GROUP_OP_SET_TEE_POLICY:
      for (guint i = 0; i < op->tee_policy->n_mrtds; i++)
        mrtds[i] = bin (op->tee_policy->mrtds[i], MERO_GROUP_TEE_MEASUREMENT_LEN);
      policy.n_mrtds = op->tee_policy->n_mrtds;
      policy.mrtds = mrtds;
      policy.tcb_statuses = op->tee_policy->tcb_statuses;
      /* No pinned RTMR: no entries; otherwise all four, empty = unpinned. */
      for (guint r = 0; r < MERO_GROUP_TEE_RTMRS; r++)
        rtmrs[r] = (op->tee_policy->rtmr_mask & (1u << r)) != 0
                     ? bin (op->tee_policy->rtmrs[r], MERO_GROUP_TEE_MEASUREMENT_LEN)
                     : bin (NULL, 0);
      policy.n_rtmrs = op->tee_policy->rtmr_mask != 0 ? MERO_GROUP_TEE_RTMRS : 0;
      policy.rtmrs = rtmrs;
      policy.accept_mock = op->tee_policy->accept_mock;
      msg.op_case = CASE (SET_TEE_POLICY);
      msg.set_tee_policy = &policy;
      break;
    case MERO_GROUP_OP_ADMIT_TEE:
      admit.member = bin (op->member, MERO_GROUP_KEY_LEN);
      admit.quote_hash = bin (op->quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN);
      admit.key_id = bin (op->key_id, MERO_GROUP_ID_LEN);
      admit.envelope = env_ptrs[0];
      msg.op_case = CASE (ADMIT_TEE);
      msg.admit_tee = &admit;
      break;
    default:
      g_return_val_if_reached (NULL);
    }

  len = mero__group__signed_group_op_v1__get_packed_size (&msg);
  out = g_malloc (len);
  mero__group__signed_group_op_v1__pack (&msg, out);
  return g_bytes_new_take (out, len);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
               "malformed group op: %s", what);
  return FALSE;
}

static gboolean
take_fixed (guint8 *dst, ProtobufCBinaryData src, gsize len, const char *what, GError **error)
{
  if (src.len != len)
    return malformed (error, what);
  memcpy (dst, src.data, len);
  return TRUE;
}

static gboolean
take_envelope (MeroGroupOp *op, const Mero__Group__KeyEnvelope *pb, GError **error)
{
  MeroGroupEnvelope e;

  if (pb == NULL)
    return malformed (error, "missing key envelope");
  if (!take_fixed (e.member, pb->member, MERO_GROUP_KEY_LEN, "envelope member size", error)
      || !take_fixed (e.sealed, pb->sealed, MERO_GROUP_SEALED_LEN, "envelope size", error))
    return FALSE;
  if (op->envelopes->len > 0
      && memcmp (g_array_index (op->envelopes, MeroGroupEnvelope, op->envelopes->len - 1).member,
                 e.member, MERO_GROUP_KEY_LEN) >= 0)
    return malformed (error, "envelopes not sorted by member or duplicated");
  g_array_append_val (op->envelopes, e);
  return TRUE;
}

static gboolean
take_envelopes (MeroGroupOp *op, size_t n, Mero__Group__KeyEnvelope **pbs, GError **error)
{
  if (n > MERO_GROUP_MAX_MEMBERS)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "group op carries %zu key envelopes (max %d)", n, MERO_GROUP_MAX_MEMBERS);
      return FALSE;
    }
  for (size_t i = 0; i < n; i++)
    if (!take_envelope (op, pbs[i], error))
      return FALSE;
  return TRUE;
}

static gboolean
take_role (guint8 *dst, guint32 role, GError **error)
{
  if (role > MERO_GROUP_ROLE_LAST)
    return malformed (error, "unknown role");
  *dst = (guint8) role;
  return TRUE;
}

static gboolean
take_caps (guint32 *dst, guint32 caps, GError **error)
{
  if ((caps & ~MERO_GROUP_CAP_ALL) != 0)
    return malformed (error, "unknown capability bits");
  *dst = caps;
  return TRUE;
}

static gboolean
take_metadata (MeroGroupOp *op, ProtobufCBinaryData src, GError **error)
{
  if (src.len > MERO_GROUP_METADATA_MAX_BYTES)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "group metadata of %zu bytes (max %d)", src.len,
                   MERO_GROUP_METADATA_MAX_BYTES);
      return FALSE;
    }
  g_bytes_unref (op->metadata);
  op->metadata = g_bytes_new (src.data, src.len);
  return TRUE;
}

static gboolean
take_invitation (MeroGroupInvitation *inv, const Mero__Group__GroupInvitation *pb,
                 GError **error)
{
  if (pb == NULL)
    return malformed (error, "join without invitation");
  if (!take_fixed (inv->group_id, pb->group_id, MERO_GROUP_ID_LEN, "invitation group id", error)
      || !take_fixed (inv->inviter, pb->inviter, MERO_GROUP_KEY_LEN, "invitation inviter", error)
      || !take_role (&inv->role, pb->role, error)
      || !take_fixed (inv->nonce, pb->nonce, MERO_GROUP_NONCE_LEN, "invitation nonce", error)
      || !take_fixed (inv->signature, pb->signature, MERO_GROUP_SIG_LEN,
                      "invitation signature", error))
    return FALSE;
  inv->expiry_ms = pb->expiry_ms;
  inv->has_invitee = pb->invitee.len != 0;
  if (inv->has_invitee
      && !take_fixed (inv->invitee, pb->invitee, MERO_GROUP_KEY_LEN, "invitee key", error))
    return FALSE;
  return TRUE;
}

/* Canonical like the rest: MRTDs sorted and unique, RTMRs either absent
 * or all four slots present, only known TCB status bits. */
static gboolean
take_tee_policy (MeroGroupTeePolicy *policy, const Mero__Group__OpSetTeePolicy *pb,
                 GError **error)
{
  if (pb->n_mrtds > MERO_GROUP_TEE_POLICY_MAX_MRTDS)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "TEE policy allows %zu MRTDs (max %d)", pb->n_mrtds,
                   MERO_GROUP_TEE_POLICY_MAX_MRTDS);
      return FALSE;
    }
  for (size_t i = 0; i < pb->n_mrtds; i++)
    {
      if (!take_fixed (policy->mrtds[i], pb->mrtds[i], MERO_GROUP_TEE_MEASUREMENT_LEN,
                       "MRTD size", error))
        return FALSE;
      if (i > 0 && memcmp (policy->mrtds[i - 1], policy->mrtds[i],
                           MERO_GROUP_TEE_MEASUREMENT_LEN) >= 0)
        return malformed (error, "MRTDs not sorted or duplicated");
    }
  policy->n_mrtds = (guint) pb->n_mrtds;
  if ((pb->tcb_statuses & ~MERO_GROUP_TEE_TCB_ALL_REAL) != 0)
    return malformed (error, "unknown TCB status bits");
  policy->tcb_statuses = pb->tcb_statuses;
  if (pb->n_rtmrs != 0 && pb->n_rtmrs != MERO_GROUP_TEE_RTMRS)
    return malformed (error, "RTMR list is neither empty nor four entries");
  for (size_t r = 0; r < pb->n_rtmrs; r++)
    {
      if (pb->rtmrs[r].len == 0)
        continue;
      if (!take_fixed (policy->rtmrs[r], pb->rtmrs[r], MERO_GROUP_TEE_MEASUREMENT_LEN,
                       "RTMR size", error))
        return FALSE;
      policy->rtmr_mask |= (guint8) (1u << r);
    }
  if (pb->n_rtmrs != 0 && policy->rtmr_mask == 0)
    return malformed (error, "four RTMR slots and none pinned");
  policy->accept_mock = pb->accept_mock;
  return TRUE;
}

static gboolean
take_body (MeroGroupOp *op, const Mero__Group__SignedGroupOpV1 *msg, GError **error)
{
  switch (msg->op_case)
    {
    case CASE (CREATE_GROUP):
      op->kind = MERO_GROUP_OP_CREATE_GROUP;
      return take_fixed (op->key_id, msg->create_group->key_id, MERO_GROUP_ID_LEN, "key id", error)
             && take_envelope (op, msg->create_group->owner_envelope, error)
             && take_metadata (op, msg->create_group->metadata, error);
    case CASE (ADD_MEMBER):
      op->kind = MERO_GROUP_OP_ADD_MEMBER;
      return take_fixed (op->member, msg->add_member->member, MERO_GROUP_KEY_LEN, "member", error)
             && take_role (&op->role, msg->add_member->role, error)
             && take_caps (&op->capabilities, msg->add_member->capabilities, error)
             && take_fixed (op->key_id, msg->add_member->key_id, MERO_GROUP_ID_LEN, "key id", error)
             && take_envelope (op, msg->add_member->envelope, error);
    case CASE (REMOVE_MEMBER):
      op->kind = MERO_GROUP_OP_REMOVE_MEMBER;
      return take_fixed (op->member, msg->remove_member->member, MERO_GROUP_KEY_LEN, "member",
                         error)
             && take_fixed (op->key_id, msg->remove_member->key_id, MERO_GROUP_ID_LEN, "key id",
                            error)
             && take_envelopes (op, msg->remove_member->n_envelopes,
                                msg->remove_member->envelopes, error);
    case CASE (LEAVE):
      op->kind = MERO_GROUP_OP_LEAVE;
      return TRUE;
    case CASE (SET_ROLE):
      op->kind = MERO_GROUP_OP_SET_ROLE;
      return take_fixed (op->member, msg->set_role->member, MERO_GROUP_KEY_LEN, "member", error)
             && take_role (&op->role, msg->set_role->role, error);
    case CASE (SET_CAPABILITIES):
      op->kind = MERO_GROUP_OP_SET_CAPABILITIES;
      return take_fixed (op->member, msg->set_capabilities->member, MERO_GROUP_KEY_LEN, "member",
                         error)
             && take_caps (&op->capabilities, msg->set_capabilities->capabilities, error);
    case CASE (REGISTER_CONTEXT):
      op->kind = MERO_GROUP_OP_REGISTER_CONTEXT;
      return take_fixed (op->context_id, msg->register_context->context_id, MERO_GROUP_ID_LEN,
                         "context id", error)
             && take_fixed (op->application_id, msg->register_context->application_id,
                            MERO_GROUP_ID_LEN, "application id", error);
    case CASE (DETACH_CONTEXT):
      op->kind = MERO_GROUP_OP_DETACH_CONTEXT;
      return take_fixed (op->context_id, msg->detach_context->context_id, MERO_GROUP_ID_LEN,
                         "context id", error);
    case CASE (ROTATE_KEY):
      op->kind = MERO_GROUP_OP_ROTATE_KEY;
      return take_fixed (op->key_id, msg->rotate_key->key_id, MERO_GROUP_ID_LEN, "key id", error)
             && take_envelopes (op, msg->rotate_key->n_envelopes, msg->rotate_key->envelopes,
                                error);
    case CASE (JOIN):
      op->kind = MERO_GROUP_OP_JOIN;
      return take_invitation (&op->invitation, msg->join->invitation, error);
    case CASE (SET_METADATA):
      op->kind = MERO_GROUP_OP_SET_METADATA;
      return take_metadata (op, msg->set_metadata->metadata, error);
    case CASE (SET_TEE_POLICY):
      op->kind = MERO_GROUP_OP_SET_TEE_POLICY;
      op->tee_policy = g_new0 (MeroGroupTeePolicy, 1);
      return take_tee_policy (op->tee_policy, msg->set_tee_policy, error);
    case CASE (ADMIT_TEE):
      op->kind = MERO_GROUP_OP_ADMIT_TEE;
      return take_fixed (op->member, msg->admit_tee->member, MERO_GROUP_KEY_LEN, "member", error)
             && take_fixed (op->quote_hash, msg->admit_tee->quote_hash,
                            MERO_GROUP_TEE_QUOTE_HASH_LEN, "quote hash", error)
             && take_fixed (op->key_id, msg->admit_tee->key_id, MERO_GROUP_ID_LEN, "key id", error)
             && take_envelope (op, msg->admit_tee->envelope, error);
    default:
      return malformed (error, "no or unknown operation");
    }
}

static gboolean
take_header (MeroGroupOp *op, const Mero__Group__SignedGroupOpV1 *msg, GError **error)
{
  if (msg->n_parents > MERO_GROUP_OP_MAX_PARENTS)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "group op cites %zu parents (max %d)", msg->n_parents,
                   MERO_GROUP_OP_MAX_PARENTS);
      return FALSE;
    }
  if (!take_fixed (op->group_id, msg->group_id, MERO_GROUP_ID_LEN, "group id size", error)
      || !take_fixed (op->signer, msg->signer, MERO_GROUP_KEY_LEN, "signer size", error)
      || !take_fixed (op->signature, msg->signature, MERO_GROUP_SIG_LEN, "signature size", error))
    return FALSE;
  for (size_t i = 0; i < msg->n_parents; i++)
    {
      if (msg->parents[i].len != MERO_GROUP_ID_LEN)
        return malformed (error, "parent id size");
      if (i > 0 && memcmp (msg->parents[i - 1].data, msg->parents[i].data, MERO_GROUP_ID_LEN) >= 0)
        return malformed (error, "parents not sorted or duplicated");
      g_array_append_vals (op->parents, msg->parents[i].data, 1);
    }
  op->nonce = msg->nonce;
  op->timestamp_ms = msg->timestamp_ms;
  return TRUE;
}

MeroGroupOp *
mero_group_op_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Group__SignedGroupOpV1 *msg;
  g_autoptr (MeroGroupOp) op = NULL;
  g_autoptr (GBytes) signing = NULL;
  gboolean ok;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > MERO_GROUP_OP_MAX_BYTES)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "group op of %zu bytes (max %d)", len, MERO_GROUP_OP_MAX_BYTES);
      return NULL;
    }
  msg = mero__group__signed_group_op_v1__unpack (NULL, len, data);
  if (msg == NULL)
    {
      malformed (error, "not a SignedGroupOpV1 protobuf");
      return NULL;
    }
  op = mero_group_op_new (MERO_GROUP_OP_LEAVE);
  ok = take_header (op, msg, error) && take_body (op, msg, error);
  mero__group__signed_group_op_v1__free_unpacked (msg, NULL);
  if (!ok)
    return NULL;
  signing = mero_group_op_signing_bytes (op);
  mero_sha256 (g_bytes_get_data (signing, NULL), g_bytes_get_size (signing), op->id);
  return g_steal_pointer (&op);
}
