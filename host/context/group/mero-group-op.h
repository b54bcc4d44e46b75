/* mero-group-op.h: one signed group operation (SignedGroupOpV1).
 *
 * Wire: the protobuf message of sdk/proto/mero-group.proto.  Signature and
 * id never depend on that encoding: both are over the explicit byte string
 *
 *   "mero/group-op/v1" || group_id[32] || u32 n_parents || parents[32]*n
 *   || signer[32] || u64 nonce || u64 timestamp_ms || u8 kind || body
 *
 * (integers big-endian; parents sorted ascending and unique).  Bodies:
 *   CREATE_GROUP      key_id[32] || envelope || u32 len || metadata
 *   ADD_MEMBER        member[32] || u8 role || u32 caps || key_id[32] || envelope
 *   REMOVE_MEMBER     member[32] || key_id[32] || u32 n || envelope*n
 *   LEAVE             (empty)
 *   SET_ROLE          member[32] || u8 role
 *   SET_CAPABILITIES  member[32] || u32 caps
 *   REGISTER_CONTEXT  context[32] || application[32]
 *   DETACH_CONTEXT    context[32]
 *   ROTATE_KEY        key_id[32] || u32 n || envelope*n
 *   JOIN              u32 len || invitation signing bytes || invitation signature[64]
 *   SET_METADATA      u32 len || metadata
 *   SET_TEE_POLICY    policy (mero_group_tee_policy_put)
 *   ADMIT_TEE         member[32] || quote_hash[32] || key_id[32] || envelope
 * where envelope = member[32] || sealed[80], envelope lists sorted by
 * member and unique.  Kinds 12-13 were appended (issue 14): the
 * layout of the older kinds and their ids are unchanged.  op id = sha256(those bytes); the Ed25519 signature
 * is over them too. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-tee-policy.h"
#include "context/group/mero-group-types.h"

G_BEGIN_DECLS

typedef struct {
  guint8 member[MERO_GROUP_KEY_LEN];
  guint8 sealed[MERO_GROUP_SEALED_LEN];
} MeroGroupEnvelope;

/* Invitation signing bytes:
 *   "mero/group-invitation/v1" || group_id[32] || inviter[32] || u8 role
 *   || u64 expiry_ms || nonce[32] || u8 has_invitee || invitee[32]? */
typedef struct {
  guint8 group_id[MERO_GROUP_ID_LEN];
  guint8 inviter[MERO_GROUP_KEY_LEN];
  guint8 role;
  guint64 expiry_ms;
  guint8 nonce[MERO_GROUP_NONCE_LEN];
  gboolean has_invitee;
  guint8 invitee[MERO_GROUP_KEY_LEN];
  guint8 signature[MERO_GROUP_SIG_LEN];
} MeroGroupInvitation;

typedef struct {
  guint8 group_id[MERO_GROUP_ID_LEN];
  GArray *parents;              /* guint8[32] elements, sorted, unique */
  guint8 signer[MERO_GROUP_KEY_LEN];
  guint64 nonce;
  guint64 timestamp_ms;
  MeroGroupOpKind kind;

  /* Body; which fields count depends on kind (see the layout above). */
  guint8 member[MERO_GROUP_KEY_LEN];
  guint8 role;
  guint32 capabilities;
  guint8 key_id[MERO_GROUP_ID_LEN];
  GArray *envelopes;            /* MeroGroupEnvelope */
  guint8 context_id[MERO_GROUP_ID_LEN];
  guint8 application_id[MERO_GROUP_ID_LEN];
  GBytes *metadata;             /* never NULL; may be empty */
  MeroGroupInvitation invitation;
  /* SET_TEE_POLICY only (NULL otherwise): every op is kept in memory by
   * the DAG, so the ~3 KiB policy is not carried by the others. */
  MeroGroupTeePolicy *tee_policy;
  guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN];    /* ADMIT_TEE */

  guint8 signature[MERO_GROUP_SIG_LEN];
  guint8 id[MERO_GROUP_ID_LEN]; /* valid after sign or decode */
} MeroGroupOp;

/* (transfer full) an op of @kind with empty parents, envelopes, metadata. */
MeroGroupOp *mero_group_op_new (MeroGroupOpKind kind);
void mero_group_op_free (MeroGroupOp *op);   /* NULL-safe */

void mero_group_op_add_parent (MeroGroupOp *op, const guint8 parent[MERO_GROUP_ID_LEN]);
void mero_group_op_add_envelope (MeroGroupOp *op, const MeroGroupEnvelope *envelope);

/* Sorts parents and envelopes (dropping duplicates), sets signer from
 * @secret_key (libsodium Ed25519, 64 bytes), signs and computes the id. */
void mero_group_op_sign (MeroGroupOp *op, const guint8 secret_key[MERO_GROUP_SECRET_LEN]);
/* Checks the signature over the signing bytes (and the invitation's own
 * signature for JOIN).  Errors: BAD_SIGNATURE, INVITATION_FORGED. */
gboolean mero_group_op_verify (const MeroGroupOp *op, GError **error);

/* (transfer full) the exact signed bytes. */
GBytes *mero_group_op_signing_bytes (const MeroGroupOp *op);

/* (transfer full) the protobuf encoding. */
GBytes *mero_group_op_encode (const MeroGroupOp *op);
/* Decodes and checks the shape of an encoded SignedGroupOpV1 (sizes,
 * bounds, sort order), computes its id.  Does not verify the signature.
 * Errors: TOO_LARGE, MALFORMED. */
MeroGroupOp *mero_group_op_decode (const guint8 *data, gsize len, GError **error);

/* Invitations. */
GBytes *mero_group_invitation_signing_bytes (const MeroGroupInvitation *invitation);
/* Sets inviter from @secret_key and signs. */
void mero_group_invitation_sign (MeroGroupInvitation *invitation,
                                 const guint8 secret_key[MERO_GROUP_SECRET_LEN]);
gboolean mero_group_invitation_verify (const MeroGroupInvitation *invitation, GError **error);
/* sha256 of the signing bytes: what "used" remembers. */
void mero_group_invitation_id (const MeroGroupInvitation *invitation,
                               guint8 out[MERO_GROUP_ID_LEN]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGroupOp, mero_group_op_free)

G_END_DECLS
