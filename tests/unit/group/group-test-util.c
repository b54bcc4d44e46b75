/* group-test-util.c: identities and op builders for the group tests. */
#include "group-test-util.h"

#include <string.h>

#include <sodium.h>

void
test_identity (TestIdentity *id, guint32 seed)
{
  guint8 s[crypto_sign_SEEDBYTES] = { 0 };

  memcpy (s, &seed, sizeof seed);
  s[31] = 0x5a;
  crypto_sign_seed_keypair (id->pk, id->sk, s);
}

static void
seal_to_cut (MeroGroupOp *op, const MeroGroupState *cut, const guint8 *except,
             guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  g_autoptr (GArray) members = mero_group_state_members (cut);
  guint8 key[MERO_GROUP_GROUP_KEY_LEN];

  mero_group_key_generate (key, op->key_id);
  for (guint i = 0; i < members->len; i++)
    {
      const guint8 *m = (const guint8 *) members->data + i * MERO_GROUP_KEY_LEN;
      MeroGroupEnvelope e;

      if (except != NULL && memcmp (m, except, MERO_GROUP_KEY_LEN) == 0)
        continue;
      g_assert_true (mero_group_envelope_seal (m, key, &e, NULL));
      mero_group_op_add_envelope (op, &e);
    }
  if (key_out != NULL)
    memcpy (key_out, key, sizeof key);
}

MeroGroupOp *
test_op_create (const TestIdentity *owner, guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_CREATE_GROUP);
  guint8 key[MERO_GROUP_GROUP_KEY_LEN];
  MeroGroupEnvelope e;

  mero_group_key_generate (key, op->key_id);
  g_assert_true (mero_group_envelope_seal (owner->pk, key, &e, NULL));
  mero_group_op_add_envelope (op, &e);
  if (key_out != NULL)
    memcpy (key_out, key, sizeof key);
  return op;
}

MeroGroupOp *
test_op_add (const guint8 member[MERO_GROUP_KEY_LEN], MeroGroupRole role, guint32 caps,
             const guint8 key[MERO_GROUP_GROUP_KEY_LEN])
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_ADD_MEMBER);
  MeroGroupEnvelope e;

  memcpy (op->member, member, MERO_GROUP_KEY_LEN);
  op->role = role;
  op->capabilities = caps;
  mero_group_key_id (key, op->key_id);
  g_assert_true (mero_group_envelope_seal (member, key, &e, NULL));
  mero_group_op_add_envelope (op, &e);
  return op;
}

MeroGroupOp *
test_op_remove (const MeroGroupState *cut, const guint8 member[MERO_GROUP_KEY_LEN],
                guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_REMOVE_MEMBER);

  memcpy (op->member, member, MERO_GROUP_KEY_LEN);
  seal_to_cut (op, cut, member, key_out);
  return op;
}

MeroGroupOp *
test_op_rotate (const MeroGroupState *cut, guint8 key_out[MERO_GROUP_GROUP_KEY_LEN])
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_ROTATE_KEY);

  seal_to_cut (op, cut, NULL, key_out);
  return op;
}

MeroGroupOp *
test_op_member (MeroGroupOpKind kind, const guint8 member[MERO_GROUP_KEY_LEN], guint8 role,
                guint32 caps)
{
  MeroGroupOp *op = mero_group_op_new (kind);

  if (member != NULL)
    memcpy (op->member, member, MERO_GROUP_KEY_LEN);
  op->role = role;
  op->capabilities = caps;
  return op;
}

MeroGroupOp *
test_op_context (MeroGroupOpKind kind, guint8 ctx_fill, guint8 app_fill)
{
  MeroGroupOp *op = mero_group_op_new (kind);

  memset (op->context_id, ctx_fill, MERO_GROUP_ID_LEN);
  memset (op->application_id, app_fill, MERO_GROUP_ID_LEN);
  return op;
}

GBytes *
test_sign (MeroGroupOp *op, const TestIdentity *signer, const guint8 group[MERO_GROUP_ID_LEN],
           const guint8 *parents, guint n_parents, guint64 nonce, guint64 ts)
{
  memcpy (op->group_id, group, MERO_GROUP_ID_LEN);
  g_array_set_size (op->parents, 0);
  for (guint i = 0; i < n_parents; i++)
    mero_group_op_add_parent (op, parents + i * MERO_GROUP_ID_LEN);
  op->nonce = nonce;
  op->timestamp_ms = ts;
  mero_group_op_sign (op, signer->sk);
  return mero_group_op_encode (op);
}

GBytes *
test_author (MeroGroupDag *dag, MeroGroupOp *op, const TestIdentity *signer)
{
  mero_group_dag_author (dag, op, signer->sk, 1000);
  return mero_group_op_encode (op);
}

void
test_receive (MeroGroupDag *dag, GBytes *op, MeroGroupReceiveResult expect, int expect_error)
{
  g_autoptr (GError) error = NULL;
  MeroGroupReceiveResult result = 0;
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (op, &len);
  guint8 before[32], after[32];
  guint n_ops = mero_group_dag_n_ops (dag), n_pending = mero_group_dag_n_pending (dag);
  gboolean ok;

  mero_group_state_digest (mero_group_dag_state (dag), before);
  ok = mero_group_dag_receive (dag, data, len, 1000, &result, NULL, &error);
  if (expect_error != 0)
    {
      g_assert_false (ok);
      g_assert_error (error, MERO_GROUP_ERROR, expect_error);
      /* A refused op changes nothing. */
      mero_group_state_digest (mero_group_dag_state (dag), after);
      g_assert_cmpmem (before, 32, after, 32);
      g_assert_cmpuint (n_ops, ==, mero_group_dag_n_ops (dag));
      g_assert_cmpuint (n_pending, ==, mero_group_dag_n_pending (dag));
      return;
    }
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpint (result, ==, expect);
}

void
test_state_digest (const MeroGroupState *state, guint8 out[MERO_GROUP_ID_LEN])
{
  mero_group_state_digest (state, out);
}

char *
test_hex (const guint8 *data, gsize len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
  return g_string_free (s, FALSE);
}
