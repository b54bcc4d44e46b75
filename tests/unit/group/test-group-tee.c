/* test-group-tee.c: TEE admission in group governance (issue 14 item 4):
 * the policy rule against verifier verdicts, the SET_TEE_POLICY and
 * ADMIT_TEE ops (codec, canonical form, authorization, replay guard, key
 * delivery), and that an admitted node is read-only.
 *
 * MERO_GROUP_TEE_WRITE_SEEDS=DIR writes the encoded new ops there (the
 * seeds of tests/fuzz/corpus/group-op were made that way). */
#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-limits.h"
#include "context/group/mero-group-tee-policy.h"
#include "crypto/mero-sha256.h"
#include "group-test-util.h"

#define OK MERO_GROUP_RECEIVE_ACCEPTED
#define M MERO_GROUP_TEE_MEASUREMENT_LEN

/* ---- policy evaluation (no DAG) ---- */

static void
policy_allowing (MeroGroupTeePolicy *p, guint8 mrtd_fill)
{
  memset (p, 0, sizeof *p);
  p->n_mrtds = 1;
  memset (p->mrtds[0], mrtd_fill, M);
  p->tcb_statuses = 1u << MERO_TEE_TCB_UP_TO_DATE;
}

static void
verdict_for (MeroTeeVerdict *v, const guint8 member[32], guint8 mrtd_fill, guint32 status)
{
  guint8 nonce[32];

  memset (v, 0, sizeof *v);
  v->struct_size = sizeof *v;
  v->tcb_status = status;
  memset (v->measurement, mrtd_fill, M);
  v->measurement_len = M;
  memset (nonce, 0x5a, sizeof nonce);
  mero_group_tee_report_data (nonce, member, v->report_data);
  if (status == MERO_TEE_TCB_MOCK)
    v->flags |= MERO_TEE_VERDICT_MOCK;
}

static void
expect_result (const MeroGroupTeePolicy *p, const MeroTeeVerdict *v, const guint8 member[32],
               MeroGroupTeeAdmitResult want, const char *why_contains)
{
  g_autofree char *why = NULL;
  MeroGroupTeeAdmitResult got = mero_group_tee_policy_evaluate (p, v, member, &why);

  g_assert_cmpstr (mero_group_tee_admit_reason (got), ==, mero_group_tee_admit_reason (want));
  if (why_contains != NULL)
    g_assert_nonnull (strstr (why, why_contains));
  else
    g_assert_null (why);
}

static void
test_policy_evaluate (void)
{
  TestIdentity node, other;
  MeroGroupTeePolicy p;
  MeroTeeVerdict v;
  guint8 key_hash[32];

  test_identity (&node, 10);
  test_identity (&other, 11);
  policy_allowing (&p, 0x11);

  verdict_for (&v, node.pk, 0x11, MERO_TEE_TCB_UP_TO_DATE);
  /* report data = nonce || sha256(member key) */
  mero_sha256 (node.pk, 32, key_hash);
  g_assert_cmpmem (v.report_data + 32, 32, key_hash, 32);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_OK, NULL);
  expect_result (NULL, &v, node.pk, MERO_GROUP_TEE_ADMIT_NO_POLICY, "no TEE admission policy");
  /* bound to another key */
  expect_result (&p, &v, other.pk, MERO_GROUP_TEE_ADMIT_KEY_BINDING, "not bound");
  /* wrong MRTD, named in the reason */
  verdict_for (&v, node.pk, 0x22, MERO_TEE_TCB_UP_TO_DATE);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, "MRTD 222222");
  /* TCB status outside the accepted set, then accepted once listed */
  verdict_for (&v, node.pk, 0x11, MERO_TEE_TCB_OUT_OF_DATE);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_TCB_NOT_ACCEPTED, "OutOfDate");
  p.tcb_statuses |= 1u << MERO_TEE_TCB_OUT_OF_DATE;
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_OK, NULL);
  /* mock: only with accept_mock; the MRTD still has to be allowed */
  verdict_for (&v, node.pk, 0x11, MERO_TEE_TCB_MOCK);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED, "mock");
  p.accept_mock = TRUE;
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_OK, NULL);
  verdict_for (&v, node.pk, 0x33, MERO_TEE_TCB_MOCK);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, "MRTD 3333");
  /* a pinned RTMR must match; unpinned ones are not looked at */
  verdict_for (&v, node.pk, 0x11, MERO_TEE_TCB_UP_TO_DATE);
  memset (v.rtmr[0], 0x77, M);
  memset (v.rtmr[3], 0x99, M);
  p.rtmr_mask = 1u << 2;
  memset (p.rtmrs[2], 0x44, M);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_RTMR_MISMATCH, "RTMR2");
  memset (v.rtmr[2], 0x44, M);
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_OK, NULL);
  /* a measurement of another length never matches */
  v.measurement_len = 32;
  expect_result (&p, &v, node.pk, MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, "not allowed");
}

/* ---- ops ---- */

static MeroGroupOp *
op_policy (guint8 first_fill, guint8 second_fill, gboolean accept_mock, guint8 rtmr_mask)
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_SET_TEE_POLICY);

  op->tee_policy->n_mrtds = 2;
  memset (op->tee_policy->mrtds[0], first_fill, M);
  memset (op->tee_policy->mrtds[1], second_fill, M);
  op->tee_policy->tcb_statuses = (1u << MERO_TEE_TCB_UP_TO_DATE) | (1u << MERO_TEE_TCB_SW_HARDENING_NEEDED);
  op->tee_policy->rtmr_mask = rtmr_mask;
  for (guint r = 0; r < MERO_GROUP_TEE_RTMRS; r++)
    memset (op->tee_policy->rtmrs[r], 0xc0 + r, M);
  op->tee_policy->accept_mock = accept_mock;
  return op;
}

static MeroGroupOp *
op_admit (const guint8 member[32], guint8 quote_fill, const guint8 key[32])
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_ADMIT_TEE);
  MeroGroupEnvelope e;

  memcpy (op->member, member, 32);
  memset (op->quote_hash, quote_fill, sizeof op->quote_hash);
  mero_group_key_id (key, op->key_id);
  g_assert_true (mero_group_envelope_seal (member, key, &e, NULL));
  mero_group_op_add_envelope (op, &e);
  return op;
}

static void
write_seed (const char *name, GBytes *enc)
{
  const char *dir = g_getenv ("MERO_GROUP_TEE_WRITE_SEEDS");
  g_autofree char *path = NULL;

  if (dir == NULL)
    return;
  path = g_build_filename (dir, name, NULL);
  g_assert_true (g_file_set_contents (path, g_bytes_get_data (enc, NULL),
                                      (gssize) g_bytes_get_size (enc), NULL));
}

static MeroGroupOp *
roundtrip (GBytes *enc)
{
  g_autoptr (GError) error = NULL;
  MeroGroupOp *back = mero_group_op_decode (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc),
                                            &error);

  g_assert_no_error (error);
  g_assert_true (mero_group_op_verify (back, &error));
  g_assert_no_error (error);
  return back;
}

static void
test_op_codec (void)
{
  TestIdentity owner, node;
  guint8 group[32], parent[32], key[32];
  g_autoptr (MeroGroupOp) policy = op_policy (0x22, 0x11, TRUE, (1u << 1) | (1u << 3));
  g_autoptr (MeroGroupOp) admit = NULL;
  g_autoptr (GBytes) enc = NULL, enc2 = NULL;
  g_autoptr (MeroGroupOp) back = NULL, back2 = NULL;

  test_identity (&owner, 1);
  test_identity (&node, 10);
  memset (group, 0xab, 32);
  memset (parent, 0x01, 32);
  memset (key, 0x42, 32);

  enc = test_sign (policy, &owner, group, parent, 1, 2, 100);
  write_seed ("set-tee-policy", enc);
  back = roundtrip (enc);
  g_assert_cmpmem (back->id, 32, policy->id, 32);
  g_assert_cmpint (back->kind, ==, MERO_GROUP_OP_SET_TEE_POLICY);
  /* signing sorted the MRTDs: one policy, one encoding */
  g_assert_cmpuint (back->tee_policy->n_mrtds, ==, 2);
  g_assert_cmpuint (back->tee_policy->mrtds[0][0], ==, 0x11);
  g_assert_cmpuint (back->tee_policy->mrtds[1][0], ==, 0x22);
  g_assert_cmpuint (back->tee_policy->rtmr_mask, ==, (1u << 1) | (1u << 3));
  g_assert_cmpuint (back->tee_policy->rtmrs[3][0], ==, 0xc3);
  g_assert_cmpuint (back->tee_policy->rtmrs[0][0], ==, 0);  /* unpinned slots carry nothing */
  g_assert_true (back->tee_policy->accept_mock);
  g_assert_cmpmem (back->tee_policy, sizeof *back->tee_policy, policy->tee_policy,
                   sizeof *policy->tee_policy);

  admit = op_admit (node.pk, 0x77, key);
  enc2 = test_sign (admit, &owner, group, parent, 1, 3, 100);
  write_seed ("admit-tee", enc2);
  back2 = roundtrip (enc2);
  g_assert_cmpmem (back2->id, 32, admit->id, 32);
  g_assert_cmpint (back2->kind, ==, MERO_GROUP_OP_ADMIT_TEE);
  g_assert_cmpmem (back2->member, 32, node.pk, 32);
  g_assert_cmpuint (back2->quote_hash[31], ==, 0x77);
  g_assert_cmpuint (back2->envelopes->len, ==, 1);

  /* the signature covers the policy: a changed policy does not verify */
  back->tee_policy->accept_mock = FALSE;
  g_assert_false (mero_group_op_verify (back, NULL));
  back2->quote_hash[0] ^= 1;
  g_assert_false (mero_group_op_verify (back2, NULL));
}

/* Hand-built protobufs the decoder must refuse (field numbers of
 * sdk/proto/mero-group.proto; header fields valid). */
static GBytes *
with_header (const guint8 *body, gsize body_len)
{
  GByteArray *b = g_byte_array_new ();
  guint8 fixed[32] = { 0 }, sig[64] = { 0 };
  guint8 tag;

  tag = 0x0a; g_byte_array_append (b, &tag, 1); tag = 32; g_byte_array_append (b, &tag, 1);
  g_byte_array_append (b, fixed, 32);                      /* group_id */
  tag = 0x1a; g_byte_array_append (b, &tag, 1); tag = 32; g_byte_array_append (b, &tag, 1);
  g_byte_array_append (b, fixed, 32);                      /* signer */
  tag = 0xf2; g_byte_array_append (b, &tag, 1); tag = 0x01; g_byte_array_append (b, &tag, 1);
  tag = 64; g_byte_array_append (b, &tag, 1);
  g_byte_array_append (b, sig, 64);                        /* signature (30) */
  tag = 0xaa; g_byte_array_append (b, &tag, 1); tag = 0x01; g_byte_array_append (b, &tag, 1);
  g_assert_cmpuint (body_len, <, 0x80);
  tag = (guint8) body_len; g_byte_array_append (b, &tag, 1);
  g_byte_array_append (b, body, (guint) body_len);         /* set_tee_policy (21) */
  return g_byte_array_free_to_bytes (b);
}

static void
expect_malformed (const guint8 *body, gsize len, const char *what)
{
  g_autoptr (GBytes) enc = with_header (body, len);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroGroupOp) op = mero_group_op_decode (g_bytes_get_data (enc, NULL),
                                                     g_bytes_get_size (enc), &error);

  g_assert_null (op);
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
  g_assert_nonnull (strstr (error->message, what));
}

static void
test_op_malformed (void)
{
  guint8 body[120];
  gsize n;
  g_autoptr (GBytes) ok = NULL;
  g_autoptr (MeroGroupOp) op = NULL;

  /* empty policy decodes (nothing allowed) */
  ok = with_header (NULL, 0);
  op = mero_group_op_decode (g_bytes_get_data (ok, NULL), g_bytes_get_size (ok), NULL);
  g_assert_nonnull (op);
  g_assert_cmpint (op->kind, ==, MERO_GROUP_OP_SET_TEE_POLICY);
  g_assert_cmpuint (op->tee_policy->n_mrtds, ==, 0);

  /* an MRTD of 47 bytes */
  body[0] = 0x0a; body[1] = 47; memset (body + 2, 1, 47);
  expect_malformed (body, 49, "MRTD size");
  /* two MRTDs out of order */
  body[0] = 0x0a; body[1] = 48; memset (body + 2, 2, 48);
  body[50] = 0x0a; body[51] = 48; memset (body + 52, 1, 48);
  expect_malformed (body, 100, "not sorted");
  /* unknown TCB status bit (bit 10 = Mock is not a policy status) */
  body[0] = 0x10; body[1] = 0x80; body[2] = 0x08;
  expect_malformed (body, 3, "TCB status bits");
  /* one RTMR slot only */
  body[0] = 0x1a; body[1] = 0;
  expect_malformed (body, 2, "neither empty nor four");
  /* four slots, none pinned */
  n = 0;
  for (int r = 0; r < 4; r++)
    {
      body[n++] = 0x1a;
      body[n++] = 0;
    }
  expect_malformed (body, n, "none pinned");
}

/* ---- rules on a DAG ---- */

typedef struct {
  guint8 group[32];
  TestIdentity owner, member, node, node2;
  MeroMetrics *metrics;
  MeroGroupDag *dag;
  guint8 key0[32];
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) op = NULL;
  g_autoptr (GBytes) enc = NULL;

  memset (f->group, 0xab, 32);
  test_identity (&f->owner, 1);
  test_identity (&f->member, 2);
  test_identity (&f->node, 10);
  test_identity (&f->node2, 11);
  f->metrics = mero_metrics_new ();
  f->dag = mero_group_dag_open (NULL, f->group, f->metrics, NULL);
  op = test_op_create (&f->owner, f->key0);
  enc = test_sign (op, &f->owner, f->group, NULL, 0, 1, 100);
  test_receive (f->dag, enc, OK, 0);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  mero_group_dag_free (f->dag);
  mero_metrics_unref (f->metrics);
}

static GBytes *
do_op (Fixture *f, MeroGroupOp *op_in, const TestIdentity *signer, int error)
{
  g_autoptr (MeroGroupOp) op = op_in;
  GBytes *enc = test_author (f->dag, op, signer);

  test_receive (f->dag, enc, OK, error);
  return enc;
}

#define DO(f, op, signer, error) g_bytes_unref (do_op (f, op, signer, error))

static void
test_admission_rules (Fixture *f, gconstpointer data)
{
  const MeroGroupState *s = mero_group_dag_state (f->dag);
  guint8 before[32], after[32], quote[32];

  DO (f, test_op_add (f->member.pk, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_ALL, f->key0),
      &f->owner, 0);
  /* no policy yet: nobody can be admitted */
  DO (f, op_admit (f->node.pk, 0x77, f->key0), &f->owner, MERO_GROUP_ERROR_NO_TEE_POLICY);
  g_assert_null (mero_group_state_tee_policy (s));
  /* only admins set the policy, even members holding every capability */
  DO (f, op_policy (0x11, 0x12, TRUE, 0), &f->member, MERO_GROUP_ERROR_UNAUTHORIZED);
  mero_group_state_digest (s, before);
  DO (f, op_policy (0x11, 0x12, TRUE, 0), &f->owner, 0);
  mero_group_state_digest (mero_group_dag_state (f->dag), after);
  g_assert_false (memcmp (before, after, 32) == 0);  /* the policy is part of the state */
  s = mero_group_dag_state (f->dag);
  g_assert_nonnull (mero_group_state_tee_policy (s));
  g_assert_true (mero_group_state_tee_policy (s)->accept_mock);
  g_assert_cmpuint (mero_group_state_tee_policy (s)->n_mrtds, ==, 2);

  /* only admins admit */
  DO (f, op_admit (f->node.pk, 0x77, f->key0), &f->member, MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, op_admit (f->node.pk, 0x77, f->key0), &f->owner, 0);
  s = mero_group_dag_state (f->dag);
  memset (quote, 0x77, 32);
  g_assert_true (mero_group_state_tee_quote_admitted (s, quote));
  g_assert_cmpuint (mero_group_state_member (s, f->node.pk)->role, ==, MERO_GROUP_ROLE_READ_ONLY);
  g_assert_cmpuint (mero_group_state_capabilities (s, f->node.pk), ==, 0);
  g_assert_false (mero_group_state_can_write (s, f->node.pk));

  /* the same quote never admits twice (replay), a member is not re-admitted */
  DO (f, op_admit (f->node2.pk, 0x77, f->key0), &f->owner, MERO_GROUP_ERROR_QUOTE_REUSED);
  DO (f, op_admit (f->node.pk, 0x78, f->key0), &f->owner, MERO_GROUP_ERROR_ALREADY_MEMBER);
  /* the envelope must carry the current key to the admitted node itself */
  {
    g_autoptr (MeroGroupOp) wrong = op_admit (f->node2.pk, 0x79, f->key0);
    memcpy (wrong->member, f->member.pk, 32);
    DO (f, g_steal_pointer (&wrong), &f->owner, MERO_GROUP_ERROR_ALREADY_MEMBER);
  }
  {
    guint8 other_key[32];
    memset (other_key, 0x99, 32);
    DO (f, op_admit (f->node2.pk, 0x79, other_key), &f->owner, MERO_GROUP_ERROR_BAD_ENVELOPES);
  }

  /* read-only: every op but LEAVE is refused, including TEE ops */
  DO (f, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 1), &f->node,
      MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, op_policy (0x11, 0x13, TRUE, 0), &f->node, MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, op_admit (f->node2.pk, 0x80, f->key0), &f->node, MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, test_op_add (f->node2.pk, MERO_GROUP_ROLE_READ_ONLY, 0, f->key0), &f->node,
      MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, mero_group_op_new (MERO_GROUP_OP_ROTATE_KEY), &f->node, MERO_GROUP_ERROR_UNAUTHORIZED);
  DO (f, mero_group_op_new (MERO_GROUP_OP_LEAVE), &f->node, 0);
  g_assert_null (mero_group_state_member (mero_group_dag_state (f->dag), f->node.pk));
}

/* The admitted node's own DAG, fed the same ops, opens the envelope: it
 * holds the group key, as a node added by ADD_MEMBER does. */
static void
test_admitted_node_gets_key (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (GBytes) policy = NULL, admit = NULL;
  MeroGroupDag *node_dag = mero_group_dag_open (NULL, f->group, metrics, NULL);
  g_autoptr (GPtrArray) ops = NULL;
  guint8 key_id[32], key[32];

  g_assert_true (mero_group_dag_set_identity (node_dag, f->node.sk, NULL));
  policy = do_op (f, op_policy (0x11, 0x12, FALSE, 1), &f->owner, 0);
  admit = do_op (f, op_admit (f->node.pk, 0x77, f->key0), &f->owner, 0);
  ops = mero_group_dag_ops_for_peer (f->dag, NULL, 0, 64);
  g_assert_false (mero_group_dag_current_key (node_dag, key_id, key));
  for (guint i = 0; i < ops->len; i++)
    test_receive (node_dag, g_ptr_array_index (ops, i), OK, 0);
  g_assert_true (mero_group_dag_current_key (node_dag, key_id, key));
  g_assert_cmpmem (key, 32, f->key0, 32);
  g_assert_false (mero_group_state_can_write (mero_group_dag_state (node_dag), f->node.pk));
  mero_group_dag_free (node_dag);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/group/tee/policy-evaluate", test_policy_evaluate);
  g_test_add_func ("/group/tee/op-codec", test_op_codec);
  g_test_add_func ("/group/tee/op-malformed", test_op_malformed);
  g_test_add ("/group/tee/admission-rules", Fixture, NULL, setup, test_admission_rules, teardown);
  g_test_add ("/group/tee/admitted-node-gets-key", Fixture, NULL, setup,
              test_admitted_node_gets_key, teardown);
  return g_test_run ();
}
