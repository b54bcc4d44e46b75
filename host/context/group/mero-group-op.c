/* mero-group-op.c: op struct, signing bytes, signatures and ids. */
#include "context/group/mero-group-op.h"

#include <string.h>

#include <sodium.h>

#include "crypto/mero-sha256.h"

#define OP_DOMAIN "mero/group-op/v1"
#define INVITATION_DOMAIN "mero/group-invitation/v1"

G_DEFINE_QUARK (mero-group-error-quark, mero_group_error)

const char *
mero_group_role_name (MeroGroupRole role)
{
  switch (role)
    {
    case MERO_GROUP_ROLE_ADMIN:
      return "admin";
    case MERO_GROUP_ROLE_MEMBER:
      return "member";
    case MERO_GROUP_ROLE_READ_ONLY:
      return "read-only";
    default:
      return "unknown";
    }
}

MeroGroupOp *
mero_group_op_new (MeroGroupOpKind kind)
{
  MeroGroupOp *op = g_new0 (MeroGroupOp, 1);

  op->kind = kind;
  op->parents = g_array_new (FALSE, FALSE, MERO_GROUP_ID_LEN);
  op->envelopes = g_array_new (FALSE, FALSE, sizeof (MeroGroupEnvelope));
  op->metadata = g_bytes_new (NULL, 0);
  if (kind == MERO_GROUP_OP_SET_TEE_POLICY)
    op->tee_policy = g_new0 (MeroGroupTeePolicy, 1);
  return op;
}

void
mero_group_op_free (MeroGroupOp *op)
{
  if (op == NULL)
    return;
  g_array_unref (op->parents);
  g_array_unref (op->envelopes);
  g_bytes_unref (op->metadata);
  g_free (op->tee_policy);
  g_free (op);
}

void
mero_group_op_add_parent (MeroGroupOp *op, const guint8 parent[MERO_GROUP_ID_LEN])
{
  g_return_if_fail (op != NULL && parent != NULL);
  g_array_append_vals (op->parents, parent, 1);
}

void
mero_group_op_add_envelope (MeroGroupOp *op, const MeroGroupEnvelope *envelope)
{
  g_return_if_fail (op != NULL && envelope != NULL);
  g_array_append_vals (op->envelopes, envelope, 1);
}

static void
put_u8 (GByteArray *b, guint8 v)
{
  g_byte_array_append (b, &v, 1);
}

static void
put_u32 (GByteArray *b, guint32 v)
{
  guint8 buf[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, buf, 4);
}

static void
put_u64 (GByteArray *b, guint64 v)
{
  put_u32 (b, (guint32) (v >> 32));
  put_u32 (b, (guint32) v);
}

static void
put_lp (GByteArray *b, const guint8 *data, gsize len)
{
  put_u32 (b, (guint32) len);
  g_byte_array_append (b, data, (guint) len);
}

static void
put_envelope (GByteArray *b, const MeroGroupEnvelope *e)
{
  g_byte_array_append (b, e->member, MERO_GROUP_KEY_LEN);
  g_byte_array_append (b, e->sealed, MERO_GROUP_SEALED_LEN);
}

static void
put_envelopes (GByteArray *b, GArray *envelopes)
{
  put_u32 (b, envelopes->len);
  for (guint i = 0; i < envelopes->len; i++)
    put_envelope (b, &g_array_index (envelopes, MeroGroupEnvelope, i));
}

static void
put_invitation (GByteArray *b, const MeroGroupInvitation *inv)
{
  g_byte_array_append (b, (const guint8 *) INVITATION_DOMAIN, strlen (INVITATION_DOMAIN));
  g_byte_array_append (b, inv->group_id, MERO_GROUP_ID_LEN);
  g_byte_array_append (b, inv->inviter, MERO_GROUP_KEY_LEN);
  put_u8 (b, inv->role);
  put_u64 (b, inv->expiry_ms);
  g_byte_array_append (b, inv->nonce, MERO_GROUP_NONCE_LEN);
  put_u8 (b, inv->has_invitee ? 1 : 0);
  if (inv->has_invitee)
    g_byte_array_append (b, inv->invitee, MERO_GROUP_KEY_LEN);
}

GBytes *
mero_group_invitation_signing_bytes (const MeroGroupInvitation *invitation)
{
  GByteArray *b = g_byte_array_sized_new (160);

  put_invitation (b, invitation);
  return g_byte_array_free_to_bytes (b);
}

static GByteArray *
op_signing_array (const MeroGroupOp *op)
{
  GByteArray *b = g_byte_array_sized_new (256 + op->envelopes->len * 112
                                          + g_bytes_get_size (op->metadata)
                                          + (op->kind == MERO_GROUP_OP_SET_TEE_POLICY
                                             ? sizeof *op->tee_policy : 0));
  gsize meta_len = 0;
  const guint8 *meta = g_bytes_get_data (op->metadata, &meta_len);

  g_byte_array_append (b, (const guint8 *) OP_DOMAIN, strlen (OP_DOMAIN));
  g_byte_array_append (b, op->group_id, MERO_GROUP_ID_LEN);
  put_u32 (b, op->parents->len);
  g_byte_array_append (b, (const guint8 *) op->parents->data, op->parents->len * MERO_GROUP_ID_LEN);
  g_byte_array_append (b, op->signer, MERO_GROUP_KEY_LEN);
  put_u64 (b, op->nonce);
  put_u64 (b, op->timestamp_ms);
  put_u8 (b, (guint8) op->kind);

  switch (op->kind)
    {
    case MERO_GROUP_OP_CREATE_GROUP:
      g_byte_array_append (b, op->key_id, MERO_GROUP_ID_LEN);
      put_envelope (b, &g_array_index (op->envelopes, MeroGroupEnvelope, 0));
      put_lp (b, meta, meta_len);
      break;
    case MERO_GROUP_OP_ADD_MEMBER:
      g_byte_array_append (b, op->member, MERO_GROUP_KEY_LEN);
      put_u8 (b, op->role);
      put_u32 (b, op->capabilities);
      g_byte_array_append (b, op->key_id, MERO_GROUP_ID_LEN);
      put_envelope (b, &g_array_index (op->envelopes, MeroGroupEnvelope, 0));
      break;
    case MERO_GROUP_OP_REMOVE_MEMBER:
      g_byte_array_append (b, op->member, MERO_GROUP_KEY_LEN);
      g_byte_array_append (b, op->key_id, MERO_GROUP_ID_LEN);
      put_envelopes (b, op->envelopes);
      break;
    case MERO_GROUP_OP_LEAVE:
      break;
    case MERO_GROUP_OP_SET_ROLE:
      g_byte_array_append (b, op->member, MERO_GROUP_KEY_LEN);
      put_u8 (b, op->role);
      break;
    case MERO_GROUP_OP_SET_CAPABILITIES:
      g_byte_array_append (b, op->member, MERO_GROUP_KEY_LEN);
      put_u32 (b, op->capabilities);
      break;
    case MERO_GROUP_OP_REGISTER_CONTEXT:
      g_byte_array_append (b, op->context_id, MERO_GROUP_ID_LEN);
      g_byte_array_append (b, op->application_id, MERO_GROUP_ID_LEN);
      break;
    case MERO_GROUP_OP_DETACH_CONTEXT:
      g_byte_array_append (b, op->context_id, MERO_GROUP_ID_LEN);
      break;
    case MERO_GROUP_OP_ROTATE_KEY:
      g_byte_array_append (b, op->key_id, MERO_GROUP_ID_LEN);
      put_envelopes (b, op->envelopes);
      break;
    case MERO_GROUP_OP_JOIN:
      {
        g_autoptr (GByteArray) inv = g_byte_array_new ();
        put_invitation (inv, &op->invitation);
        put_lp (b, inv->data, inv->len);
        g_byte_array_append (b, op->invitation.signature, MERO_GROUP_SIG_LEN);
      }
      break;
    case MERO_GROUP_OP_SET_METADATA:
      put_lp (b, meta, meta_len);
      break;
    case MERO_GROUP_OP_SET_TEE_POLICY:
      mero_group_tee_policy_put (b, op->tee_policy);
      break;
    case MERO_GROUP_OP_ADMIT_TEE:
      g_byte_array_append (b, op->member, MERO_GROUP_KEY_LEN);
      g_byte_array_append (b, op->quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN);
      g_byte_array_append (b, op->key_id, MERO_GROUP_ID_LEN);
      put_envelope (b, &g_array_index (op->envelopes, MeroGroupEnvelope, 0));
      break;
    default:
      g_assert_not_reached ();
    }
  return b;
}

GBytes *
mero_group_op_signing_bytes (const MeroGroupOp *op)
{
  g_return_val_if_fail (op != NULL, NULL);
  return g_byte_array_free_to_bytes (op_signing_array (op));
}

static int
cmp_id (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, MERO_GROUP_ID_LEN);
}

static void
sort_unique (GArray *array, gsize elt)
{
  guint out = 0;

  g_array_sort (array, cmp_id);
  for (guint i = 0; i < array->len; i++)
    {
      const guint8 *cur = (const guint8 *) array->data + i * elt;
      if (out > 0 && memcmp (cur, (const guint8 *) array->data + (out - 1) * elt,
                             MERO_GROUP_ID_LEN) == 0)
        continue;
      if (out != i)
        memmove ((guint8 *) array->data + out * elt, cur, elt);
      out++;
    }
  g_array_set_size (array, out);
}

void
mero_group_op_sign (MeroGroupOp *op, const guint8 secret_key[MERO_GROUP_SECRET_LEN])
{
  g_autoptr (GByteArray) b = NULL;

  g_return_if_fail (op != NULL && secret_key != NULL);
  g_return_if_fail (op->kind != MERO_GROUP_OP_CREATE_GROUP || op->envelopes->len == 1);
  g_return_if_fail (op->kind != MERO_GROUP_OP_ADD_MEMBER || op->envelopes->len == 1);
  g_return_if_fail (op->kind != MERO_GROUP_OP_ADMIT_TEE || op->envelopes->len == 1);
  g_return_if_fail (op->kind != MERO_GROUP_OP_SET_TEE_POLICY || op->tee_policy != NULL);

  if (op->kind == MERO_GROUP_OP_SET_TEE_POLICY)
    mero_group_tee_policy_normalize (op->tee_policy);

  sort_unique (op->parents, MERO_GROUP_ID_LEN);
  sort_unique (op->envelopes, sizeof (MeroGroupEnvelope));
  crypto_sign_ed25519_sk_to_pk (op->signer, secret_key);
  b = op_signing_array (op);
  crypto_sign_detached (op->signature, NULL, b->data, b->len, secret_key);
  mero_sha256 (b->data, b->len, op->id);
}

gboolean
mero_group_op_verify (const MeroGroupOp *op, GError **error)
{
  g_autoptr (GByteArray) b = NULL;

  g_return_val_if_fail (op != NULL, FALSE);
  b = op_signing_array (op);
  if (crypto_sign_verify_detached (op->signature, b->data, b->len, op->signer) != 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_SIGNATURE,
                   "group op signature does not verify for its signer");
      return FALSE;
    }
  if (op->kind == MERO_GROUP_OP_JOIN)
    return mero_group_invitation_verify (&op->invitation, error);
  return TRUE;
}

void
mero_group_invitation_sign (MeroGroupInvitation *invitation,
                            const guint8 secret_key[MERO_GROUP_SECRET_LEN])
{
  g_autoptr (GBytes) b = NULL;

  g_return_if_fail (invitation != NULL && secret_key != NULL);
  crypto_sign_ed25519_sk_to_pk (invitation->inviter, secret_key);
  b = mero_group_invitation_signing_bytes (invitation);
  crypto_sign_detached (invitation->signature, NULL, g_bytes_get_data (b, NULL),
                        g_bytes_get_size (b), secret_key);
}

gboolean
mero_group_invitation_verify (const MeroGroupInvitation *invitation, GError **error)
{
  g_autoptr (GBytes) b = NULL;

  g_return_val_if_fail (invitation != NULL, FALSE);
  b = mero_group_invitation_signing_bytes (invitation);
  if (crypto_sign_verify_detached (invitation->signature, g_bytes_get_data (b, NULL),
                                   g_bytes_get_size (b), invitation->inviter) != 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_INVITATION_FORGED,
                   "invitation signature does not verify for its inviter");
      return FALSE;
    }
  return TRUE;
}

void
mero_group_invitation_id (const MeroGroupInvitation *invitation, guint8 out[MERO_GROUP_ID_LEN])
{
  g_autoptr (GBytes) b = NULL;

  g_return_if_fail (invitation != NULL && out != NULL);
  b = mero_group_invitation_signing_bytes (invitation);
  mero_sha256 (g_bytes_get_data (b, NULL), g_bytes_get_size (b), out);
}
