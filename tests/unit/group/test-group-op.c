/* test-group-op.c: op encoding, ids, signatures, decoder bounds,
 * invitations, envelopes and the wire payloads. */
#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-limits.h"
#include "context/group/mero-group-wire.h"
#include "crypto/mero-sha256.h"
#include "group-test-util.h"
#include "mero-group.pb-c.h"

static const guint8 group_id[MERO_GROUP_ID_LEN] = { 0x42, 1, 2, 3 };

static MeroGroupOp *
decode_bytes (GBytes *b, GError **error)
{
  gsize len = 0;
  const guint8 *d = g_bytes_get_data (b, &len);
  return mero_group_op_decode (d, len, error);
}

static void
test_roundtrip (void)
{
  TestIdentity owner;
  guint8 parent[32];
  g_autoptr (MeroGroupOp) op = NULL;
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GBytes) enc2 = NULL;
  g_autoptr (MeroGroupOp) back = NULL;
  g_autoptr (GError) error = NULL;

  test_identity (&owner, 1);
  memset (parent, 7, sizeof parent);
  op = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 0x11, 0x22);
  enc = test_sign (op, &owner, group_id, parent, 1, 5, 1234);
  back = decode_bytes (enc, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back->id, 32, op->id, 32);
  g_assert_cmpmem (back->signer, 32, owner.pk, 32);
  g_assert_cmpuint (back->nonce, ==, 5);
  g_assert_cmpuint (back->timestamp_ms, ==, 1234);
  g_assert_cmpint (back->kind, ==, MERO_GROUP_OP_REGISTER_CONTEXT);
  g_assert_true (mero_group_op_verify (back, &error));
  enc2 = mero_group_op_encode (back);
  g_assert_true (g_bytes_equal (enc, enc2));
}

/* The id covers the explicit signing bytes, not the protobuf: an encoding
 * with an unknown field decodes to the same id and still verifies. */
static void
test_id_independent_of_encoding (void)
{
  TestIdentity owner;
  guint8 parent[32] = { 1 };
  g_autoptr (MeroGroupOp) op = test_op_member (MERO_GROUP_OP_SET_ROLE, parent, 1, 0);
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GByteArray) padded = g_byte_array_new ();
  const guint8 unknown_field[] = { 0xa0, 0x06, 0x01 }; /* field 100, varint 1 */
  g_autoptr (MeroGroupOp) back = NULL;
  g_autoptr (GError) error = NULL;

  test_identity (&owner, 1);
  enc = test_sign (op, &owner, group_id, parent, 1, 1, 1);
  g_byte_array_append (padded, g_bytes_get_data (enc, NULL), g_bytes_get_size (enc));
  g_byte_array_append (padded, unknown_field, sizeof unknown_field);
  back = mero_group_op_decode (padded->data, padded->len, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back->id, 32, op->id, 32);
  g_assert_true (mero_group_op_verify (back, NULL));
}

static void
test_signing_bytes_layout (void)
{
  TestIdentity owner;
  guint8 parent[32];
  g_autoptr (MeroGroupOp) op = test_op_context (MERO_GROUP_OP_DETACH_CONTEXT, 0x33, 0);
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GBytes) sb = NULL;
  const guint8 *b;
  guint8 id[32];

  test_identity (&owner, 9);
  memset (parent, 0xee, 32);
  enc = test_sign (op, &owner, group_id, parent, 1, 0x0102030405060708ull, 0x1122334455667788ull);
  sb = mero_group_op_signing_bytes (op);
  b = g_bytes_get_data (sb, NULL);
  g_assert_cmpuint (g_bytes_get_size (sb), ==, 16 + 32 + 4 + 32 + 32 + 8 + 8 + 1 + 32);
  g_assert_cmpmem (b, 16, "mero/group-op/v1", 16);
  g_assert_cmpmem (b + 16, 32, group_id, 32);
  g_assert_cmpmem (b + 48, 4, "\0\0\0\1", 4);
  g_assert_cmpmem (b + 52, 32, parent, 32);
  g_assert_cmpmem (b + 84, 32, owner.pk, 32);
  g_assert_cmpmem (b + 116, 8, "\1\2\3\4\5\6\7\10", 8);
  g_assert_cmpuint (b[132], ==, MERO_GROUP_OP_DETACH_CONTEXT);
  mero_sha256 (b, g_bytes_get_size (sb), id);
  g_assert_cmpmem (id, 32, op->id, 32);
}

static void
test_forged (void)
{
  TestIdentity owner, other;
  guint8 parent[32] = { 9 };
  g_autoptr (MeroGroupOp) op = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 2);
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GError) error = NULL;

  test_identity (&owner, 1);
  test_identity (&other, 2);
  enc = test_sign (op, &owner, group_id, parent, 1, 1, 1);
  /* Claim another signer. */
  memcpy (op->signer, other.pk, 32);
  g_assert_false (mero_group_op_verify (op, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_SIGNATURE);
  g_clear_error (&error);
  /* Change a signed field. */
  memcpy (op->signer, owner.pk, 32);
  op->nonce++;
  g_assert_false (mero_group_op_verify (op, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_SIGNATURE);
}

static void
expect_malformed (const Mero__Group__SignedGroupOpV1 *msg, int code)
{
  gsize len = mero__group__signed_group_op_v1__get_packed_size (msg);
  g_autofree guint8 *buf = g_malloc (len + 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroGroupOp) op = NULL;

  mero__group__signed_group_op_v1__pack (msg, buf);
  op = mero_group_op_decode (buf, len, &error);
  g_assert_null (op);
  g_assert_error (error, MERO_GROUP_ERROR, code);
  g_assert_nonnull (strstr (error->message, "group"));
}

static void
test_malformed (void)
{
  guint8 g[32] = { 1 }, s[32] = { 2 }, sig[64] = { 3 }, p1[32] = { 5 }, p2[32] = { 4 };
  guint8 big[MERO_GROUP_METADATA_MAX_BYTES + 1] = { 0 };
  ProtobufCBinaryData parents[2] = { { 32, p1 }, { 32, p2 } };
  Mero__Group__SignedGroupOpV1 msg = MERO__GROUP__SIGNED_GROUP_OP_V1__INIT;
  Mero__Group__OpSetRole role = MERO__GROUP__OP_SET_ROLE__INIT;
  Mero__Group__OpSetMetadata meta = MERO__GROUP__OP_SET_METADATA__INIT;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *huge = g_malloc0 (MERO_GROUP_OP_MAX_BYTES + 1);
  const guint8 garbage[] = { 0xff, 0xff, 0xff };

  msg.group_id = (ProtobufCBinaryData) { 32, g };
  msg.signer = (ProtobufCBinaryData) { 32, s };
  msg.signature = (ProtobufCBinaryData) { 64, sig };
  role.member = (ProtobufCBinaryData) { 32, s };
  role.role = 1;
  msg.op_case = MERO__GROUP__SIGNED_GROUP_OP_V1__OP_SET_ROLE;
  msg.set_role = &role;

  /* no operation */
  msg.op_case = MERO__GROUP__SIGNED_GROUP_OP_V1__OP__NOT_SET;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  msg.op_case = MERO__GROUP__SIGNED_GROUP_OP_V1__OP_SET_ROLE;
  /* short group id, signer, signature */
  msg.group_id.len = 31;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  msg.group_id.len = 32;
  msg.signature.len = 63;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  msg.signature.len = 64;
  /* unknown role */
  role.role = 7;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  role.role = 1;
  /* parents out of order */
  msg.n_parents = 2;
  msg.parents = parents;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  parents[0].len = 31;
  expect_malformed (&msg, MERO_GROUP_ERROR_MALFORMED);
  msg.n_parents = 0;
  /* metadata over its bound */
  meta.metadata = (ProtobufCBinaryData) { sizeof big, big };
  msg.op_case = MERO__GROUP__SIGNED_GROUP_OP_V1__OP_SET_METADATA;
  msg.set_metadata = &meta;
  expect_malformed (&msg, MERO_GROUP_ERROR_TOO_LARGE);

  g_assert_null (mero_group_op_decode (huge, MERO_GROUP_OP_MAX_BYTES + 1, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_assert_null (mero_group_op_decode (garbage, sizeof garbage, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
  g_clear_error (&error);
  g_assert_null (mero_group_op_decode (NULL, 0, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
}

static void
test_invitation (void)
{
  TestIdentity inviter, other;
  MeroGroupInvitation inv = { 0 };
  g_autoptr (GError) error = NULL;
  guint8 id1[32], id2[32];

  test_identity (&inviter, 1);
  test_identity (&other, 2);
  memcpy (inv.group_id, group_id, 32);
  inv.role = MERO_GROUP_ROLE_MEMBER;
  inv.expiry_ms = 5000;
  memset (inv.nonce, 3, 32);
  mero_group_invitation_sign (&inv, inviter.sk);
  g_assert_cmpmem (inv.inviter, 32, inviter.pk, 32);
  g_assert_true (mero_group_invitation_verify (&inv, &error));
  mero_group_invitation_id (&inv, id1);
  inv.expiry_ms = 6000;
  g_assert_false (mero_group_invitation_verify (&inv, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_INVITATION_FORGED);
  mero_group_invitation_id (&inv, id2);
  g_assert_true (memcmp (id1, id2, 32) != 0);
}

static void
test_envelope (void)
{
  TestIdentity a, b;
  guint8 key[32], key_id[32], out[32], other_id[32];
  MeroGroupEnvelope e;
  g_autoptr (GError) error = NULL;
  guint8 bad[32];

  test_identity (&a, 1);
  test_identity (&b, 2);
  mero_group_key_generate (key, key_id);
  /* key id = sha256("mero/key-id/v1" || key) */
  {
    guint8 buf[14 + 32], expect[32];
    memcpy (buf, "mero/key-id/v1", 14);
    memcpy (buf + 14, key, 32);
    mero_sha256 (buf, sizeof buf, expect);
    g_assert_cmpmem (expect, 32, key_id, 32);
  }
  g_assert_true (mero_group_envelope_seal (a.pk, key, &e, &error));
  g_assert_true (mero_group_envelope_open (&e, a.sk, key_id, out, &error));
  g_assert_cmpmem (out, 32, key, 32);
  g_assert_false (mero_group_envelope_open (&e, b.sk, key_id, out, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_ENVELOPES);
  g_clear_error (&error);
  memset (other_id, 0, 32);
  g_assert_false (mero_group_envelope_open (&e, a.sk, other_id, out, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_ENVELOPES);
  g_clear_error (&error);
  /* Not a point on the curve: refused before sealing anything. */
  memset (bad, 0xff, 32);
  g_assert_false (mero_group_envelope_seal (bad, key, &e, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
}

static void
test_wire (void)
{
  g_autoptr (GArray) heads = g_array_new (FALSE, FALSE, 32);
  g_autoptr (GArray) back = NULL;
  g_autoptr (GBytes) hb = NULL;
  g_autoptr (GBytes) delta = NULL;
  g_autoptr (GBytes) note = NULL;
  g_autoptr (GPtrArray) ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) ops_back = NULL;
  g_autoptr (MeroGroupMutation) m = mero_group_mutation_new ();
  g_autoptr (MeroGroupMutation) m_back = NULL;
  g_autoptr (GError) error = NULL;
  guint8 gid[32], op_id[32] = { 9 }, h[32];
  g_autoptr (GPtrArray) too_many = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  Mero__Group__GroupGovernanceDelta big = MERO__GROUP__GROUP_GOVERNANCE_DELTA__INIT;
  g_autofree ProtobufCBinaryData *items = g_new0 (ProtobufCBinaryData, MERO_GROUP_DELTA_MAX_OPS + 1);
  g_autofree guint8 *buf = NULL;
  gsize len;

  memset (h, 1, 32);
  g_array_append_vals (heads, h, 1);
  memset (h, 2, 32);
  g_array_append_vals (heads, h, 1);
  hb = mero_group_heartbeat_encode (group_id, heads);
  g_assert_true (mero_group_heartbeat_decode (g_bytes_get_data (hb, NULL), g_bytes_get_size (hb),
                                              gid, &back, &error));
  g_assert_cmpmem (gid, 32, group_id, 32);
  g_assert_cmpmem (back->data, 64, heads->data, 64);

  g_ptr_array_add (ops, g_bytes_new ("abc", 3));
  delta = mero_group_delta_encode (group_id, ops);
  g_assert_true (mero_group_delta_decode (g_bytes_get_data (delta, NULL), g_bytes_get_size (delta),
                                          gid, &ops_back, &error));
  g_assert_cmpuint (ops_back->len, ==, 1);
  g_assert_true (g_bytes_equal (g_ptr_array_index (ops_back, 0), g_ptr_array_index (ops, 0)));

  /* A batch over the bound is refused as a whole. */
  big.group_id = (ProtobufCBinaryData) { 32, (guint8 *) group_id };
  for (guint i = 0; i <= MERO_GROUP_DELTA_MAX_OPS; i++)
    items[i] = (ProtobufCBinaryData) { 3, (guint8 *) "abc" };
  big.n_ops = MERO_GROUP_DELTA_MAX_OPS + 1;
  big.ops = items;
  len = mero__group__group_governance_delta__get_packed_size (&big);
  buf = g_malloc (len);
  mero__group__group_governance_delta__pack (&big, buf);
  g_clear_pointer (&ops_back, g_ptr_array_unref);
  g_assert_false (mero_group_delta_decode (buf, len, gid, &ops_back, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE);
  g_clear_error (&error);

  g_array_append_vals (m->added, h, 1);
  g_array_append_vals (m->removed, op_id, 1);
  note = mero_group_notification_encode (group_id, op_id, m);
  g_assert_true (mero_group_notification_decode (g_bytes_get_data (note, NULL),
                                                 g_bytes_get_size (note), gid, h, &m_back, &error));
  g_assert_cmpmem (h, 32, op_id, 32);
  g_assert_cmpuint (m_back->added->len, ==, 1);
  g_assert_cmpuint (m_back->removed->len, ==, 1);
  g_assert_cmpuint (m_back->changed->len, ==, 0);
  g_assert_false (mero_group_heartbeat_decode ((const guint8 *) "\xff", 1, gid, &back, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/group/op/roundtrip", test_roundtrip);
  g_test_add_func ("/group/op/id-independent-of-encoding", test_id_independent_of_encoding);
  g_test_add_func ("/group/op/signing-bytes-layout", test_signing_bytes_layout);
  g_test_add_func ("/group/op/forged", test_forged);
  g_test_add_func ("/group/op/malformed", test_malformed);
  g_test_add_func ("/group/op/invitation", test_invitation);
  g_test_add_func ("/group/op/envelope", test_envelope);
  g_test_add_func ("/group/wire", test_wire);
  return g_test_run ();
}
