/* test-tee-admission.c: the admission of attested read-only nodes in
 * memory, with the real tee-mock verifier core: a node's mock quote
 * (built by the host, checked against the plugin's format), its signed
 * TeeAnnounce, the admin's judgement and ADMIT_TEE op on a real group
 * DAG, the node's own DAG opening the key; and each refusal with its
 * reason (replayed quote, wrong MRTD, mock without accept_mock, a quote
 * bound to another key, no policy, wrong nonce, forged announce). */
#include <string.h>

#include <gio/gio.h>
#include <sodium.h>

#include "context/group/mero-group-dag.h"
#include "context/group/mero-group-envelope.h"
#include "crypto/mero-sha256.h"
#include "tee-mock-core.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-quote.h"
#include "tee/mero-tee-refusal.h"

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
} Identity;

static void
identity (Identity *id, guint8 seed_fill)
{
  guint8 seed[32];

  memset (seed, seed_fill, sizeof seed);
  crypto_sign_seed_keypair (id->pk, id->sk, seed);
}

/* A node's announce: mock quote over nonce || sha256(bound_to), signed by
 * @node. */
static MeroTeeAnnounce *
announce_for (const Identity *node, const guint8 group[32], const guint8 bound_to[32],
              guint8 nonce_fill)
{
  MeroTeeAnnounce *a = mero_tee_announce_new ();
  guint8 report_data[64];

  memcpy (a->group_id, group, 32);
  memset (a->nonce, nonce_fill, 32);
  mero_group_tee_report_data (a->nonce, bound_to, report_data);
  g_bytes_unref (a->quote);
  a->quote = mero_tee_quote_mock (report_data);
  a->timestamp_ms = 5000;
  mero_tee_announce_sign (a, node->sk);
  return a;
}

/* What an admin runs: tee-mock's verify (as mero_tee_verify_quote would)
 * with the node's tee.accept_mock, then the judgement. */
static MeroGroupTeeAdmitResult
judge (MeroGroupDag *dag, const MeroTeeAnnounce *a, gboolean node_accepts_mock, char **why)
{
  MeroTeeVerifyInput in = { 0 };
  MeroTeeVerdict verdict = { 0 };
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  in.struct_size = sizeof in;
  in.flags = node_accepts_mock ? MERO_TEE_VERIFY_ACCEPT_MOCK : 0;
  in.quote = g_bytes_get_data (a->quote, &len);
  in.quote_len = len;
  verdict.struct_size = sizeof verdict;
  g_assert_true (tee_mock_handles_quote (in.quote, in.quote_len));
  if (!tee_mock_verify (NULL, &in, &verdict, &error))
    g_assert_nonnull (error);
  return mero_tee_admission_judge (mero_group_dag_state (dag), a, error == NULL ? &verdict : NULL,
                                   error, why);
}

static void
expect (MeroGroupDag *dag, const MeroTeeAnnounce *a, gboolean accept_mock,
        MeroGroupTeeAdmitResult want, const char *why_contains)
{
  g_autofree char *why = NULL;
  MeroGroupTeeAdmitResult got = judge (dag, a, accept_mock, &why);

  g_assert_cmpstr (mero_group_tee_admit_reason (got), ==, mero_group_tee_admit_reason (want));
  if (why_contains != NULL)
    {
      g_test_message ("refused: %s (%s)", mero_group_tee_admit_reason (got), why);
      g_assert_nonnull (strstr (why, why_contains));
    }
}

static GBytes *
author (MeroGroupDag *dag, MeroGroupOp *op, const Identity *signer)
{
  g_autoptr (GError) error = NULL;
  MeroGroupReceiveResult result = 0;
  GBytes *enc;

  mero_group_dag_author (dag, op, signer->sk, 1000);
  enc = mero_group_op_encode (op);
  g_assert_true (mero_group_dag_receive (dag, g_bytes_get_data (enc, NULL), g_bytes_get_size (enc),
                                         1000, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (result, ==, MERO_GROUP_RECEIVE_ACCEPTED);
  return enc;
}

static void
set_policy (MeroGroupDag *dag, const Identity *owner, guint8 mrtd_fill, gboolean accept_mock)
{
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_SET_TEE_POLICY);

  op->tee_policy->n_mrtds = 1;
  memset (op->tee_policy->mrtds[0], mrtd_fill, MERO_GROUP_TEE_MEASUREMENT_LEN);
  op->tee_policy->tcb_statuses = 1u << MERO_TEE_TCB_UP_TO_DATE;
  op->tee_policy->accept_mock = accept_mock;
  g_bytes_unref (author (dag, op, owner));
  mero_group_op_free (op);
}

static void
test_mock_quote_format (void)
{
  guint8 rd[64], plugin_quote[TEE_MOCK_QUOTE_LEN];
  g_autoptr (GBytes) q = NULL;

  for (guint i = 0; i < 64; i++)
    rd[i] = (guint8) i;
  q = mero_tee_quote_mock (rd);
  tee_mock_build_quote (rd, plugin_quote);
  g_assert_cmpmem (g_bytes_get_data (q, NULL), g_bytes_get_size (q), plugin_quote,
                   sizeof plugin_quote);
  /* Where there is no configfs-tsm the node says so, naming the path. */
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GBytes) none = mero_tee_quote_tsm ("/nonexistent/tsm/report", rd, &error);
    g_assert_null (none);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
    g_assert_nonnull (strstr (error->message, "/nonexistent/tsm/report"));
  }
}

static void
test_announce_codec (void)
{
  Identity node;
  guint8 group[32];
  g_autoptr (MeroTeeAnnounce) a = NULL, back = NULL;
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GError) error = NULL;
  const char *dir = g_getenv ("MERO_TEE_ANNOUNCE_WRITE_SEED");

  identity (&node, 7);
  memset (group, 0xab, 32);
  a = announce_for (&node, group, node.pk, 1);
  enc = mero_tee_announce_encode (a);
  if (dir != NULL)
    g_assert_true (g_file_set_contents (dir, g_bytes_get_data (enc, NULL),
                                        (gssize) g_bytes_get_size (enc), NULL));
  back = mero_tee_announce_decode (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), &error);
  g_assert_no_error (error);
  g_assert_true (mero_tee_announce_verify (back));
  g_assert_cmpmem (back->member, 32, node.pk, 32);
  g_assert_true (g_bytes_equal (back->quote, a->quote));
  g_assert_cmpuint (back->timestamp_ms, ==, 5000);
  /* every signed field is covered */
  back->timestamp_ms++;
  g_assert_false (mero_tee_announce_verify (back));
  back->timestamp_ms--;
  back->nonce[3] ^= 1;
  g_assert_false (mero_tee_announce_verify (back));
  back->nonce[3] ^= 1;
  back->group_id[0] ^= 1;
  g_assert_false (mero_tee_announce_verify (back));

  /* bounds: truncations never decode into something else, a quote over
   * the bound is TOO_LARGE, an empty one MALFORMED */
  for (gsize n = 0; n < g_bytes_get_size (enc); n++)
    {
      g_autoptr (MeroTeeAnnounce) t = mero_tee_announce_decode (g_bytes_get_data (enc, NULL), n,
                                                                NULL);
      g_assert_null (t);
    }
  {
    g_autoptr (GBytes) big_enc = NULL;
    g_autoptr (GError) big_error = NULL;
    g_autoptr (MeroTeeAnnounce) big_back = NULL;
    g_bytes_unref (a->quote);
    a->quote = g_bytes_new_take (g_malloc0 (MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES + 1),
                                 MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES + 1);
    big_enc = mero_tee_announce_encode (a);
    big_back = mero_tee_announce_decode (g_bytes_get_data (big_enc, NULL),
                                         g_bytes_get_size (big_enc), &big_error);
    g_assert_null (big_back);
    g_assert_error (big_error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE);
  }
  {
    g_autoptr (GBytes) empty_enc = NULL;
    g_autoptr (GError) empty_error = NULL;
    g_autoptr (MeroTeeAnnounce) empty_back = NULL;
    g_bytes_unref (a->quote);
    a->quote = g_bytes_new (NULL, 0);
    empty_enc = mero_tee_announce_encode (a);
    empty_back = mero_tee_announce_decode (g_bytes_get_data (empty_enc, NULL),
                                           g_bytes_get_size (empty_enc), &empty_error);
    g_assert_null (empty_back);
    g_assert_error (empty_error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
  }
}

static void
test_admission_flow (void)
{
  Identity owner, node, node2, other;
  guint8 group[32], key[32], key_id[32];
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (MeroMetrics) node_metrics = mero_metrics_new ();
  MeroGroupDag *dag, *node_dag;
  g_autoptr (MeroTeeAnnounce) a = NULL, wrong_key = NULL, replay = NULL, wrong_nonce = NULL;
  g_autoptr (MeroTeeAnnounce) forged = NULL, other_group = NULL;
  g_autoptr (MeroGroupOp) create = mero_group_op_new (MERO_GROUP_OP_CREATE_GROUP);
  g_autoptr (MeroGroupOp) admit = NULL;
  g_autoptr (GPtrArray) ops = NULL;
  g_autoptr (GError) error = NULL;
  MeroGroupEnvelope e;

  identity (&owner, 1);
  identity (&node, 10);
  identity (&node2, 11);
  identity (&other, 12);
  memset (group, 0xab, 32);
  dag = mero_group_dag_open (NULL, group, metrics, NULL);
  g_assert_true (mero_group_dag_set_identity (dag, owner.sk, NULL));
  mero_group_key_generate (key, create->key_id);
  g_assert_true (mero_group_envelope_seal (owner.pk, key, &e, NULL));
  mero_group_op_add_envelope (create, &e);
  memcpy (create->group_id, group, 32);
  create->nonce = 1;
  create->timestamp_ms = 100;
  mero_group_op_sign (create, owner.sk);
  {
    g_autoptr (GBytes) enc = mero_group_op_encode (create);
    MeroGroupReceiveResult r = 0;
    g_assert_true (mero_group_dag_receive (dag, g_bytes_get_data (enc, NULL),
                                           g_bytes_get_size (enc), 1000, &r, NULL, NULL));
  }

  a = announce_for (&node, group, node.pk, 1);
  /* no policy yet */
  expect (dag, a, TRUE, MERO_GROUP_TEE_ADMIT_NO_POLICY, "no TEE admission policy");
  /* the policy allows only another MRTD (tee-mock attests all zeros) */
  set_policy (dag, &owner, 0x11, TRUE);
  expect (dag, a, TRUE, MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, "is not allowed by the policy");
  /* allowing the mock MRTD, but this node does not accept mock quotes:
   * the verifier refuses and says why */
  set_policy (dag, &owner, 0x00, TRUE);
  expect (dag, a, FALSE, MERO_GROUP_TEE_ADMIT_VERIFIER_REFUSED, "the verifier refused");
  /* the node accepts mock, the policy does not */
  set_policy (dag, &owner, 0x00, FALSE);
  expect (dag, a, TRUE, MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED, "does not accept mock");
  set_policy (dag, &owner, 0x00, TRUE);
  /* a quote bound to another key, announced by this node */
  wrong_key = announce_for (&node, group, other.pk, 2);
  expect (dag, wrong_key, TRUE, MERO_GROUP_TEE_ADMIT_KEY_BINDING, "not bound");
  /* the report data must carry the announced nonce */
  wrong_nonce = announce_for (&node, group, node.pk, 3);
  memset (wrong_nonce->nonce, 4, 32);
  mero_tee_announce_sign (wrong_nonce, node.sk);
  expect (dag, wrong_nonce, TRUE, MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH, "nonce");
  /* an announce someone else signed, or for another group */
  forged = announce_for (&node, group, node.pk, 1);
  memcpy (forged->member, node2.pk, 32);
  expect (dag, forged, TRUE, MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE, "not signed");
  other_group = announce_for (&node, group, node.pk, 1);
  other_group->group_id[0] ^= 1;
  mero_tee_announce_sign (other_group, node.sk);
  expect (dag, other_group, TRUE, MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE, "another group");

  /* admitted */
  expect (dag, a, TRUE, MERO_GROUP_TEE_ADMIT_OK, NULL);
  admit = mero_tee_admission_build_op (mero_group_dag_state (dag), a, key, &error);
  g_assert_no_error (error);
  g_bytes_unref (author (dag, admit, &owner));
  g_assert_cmpuint (mero_group_state_member (mero_group_dag_state (dag), node.pk)->role, ==,
                    MERO_GROUP_ROLE_READ_ONLY);
  g_assert_false (mero_group_state_can_write (mero_group_dag_state (dag), node.pk));
  /* again: already a member; the same quote announced by another node:
   * replayed */
  expect (dag, a, TRUE, MERO_GROUP_TEE_ADMIT_ALREADY_MEMBER, "already a member");
  replay = announce_for (&node2, group, node.pk, 1);
  g_bytes_unref (replay->quote);
  replay->quote = g_bytes_ref (a->quote);
  mero_tee_announce_sign (replay, node2.sk);
  expect (dag, replay, TRUE, MERO_GROUP_TEE_ADMIT_REPLAYED, "already admitted");

  /* the node's own DAG, fed the group's ops, holds the key */
  node_dag = mero_group_dag_open (NULL, group, node_metrics, NULL);
  g_assert_true (mero_group_dag_set_identity (node_dag, node.sk, NULL));
  ops = mero_group_dag_ops_for_peer (dag, NULL, 0, 64);
  for (guint i = 0; i < ops->len; i++)
    {
      GBytes *op = g_ptr_array_index (ops, i);
      MeroGroupReceiveResult r = 0;
      g_assert_true (mero_group_dag_receive (node_dag, g_bytes_get_data (op, NULL),
                                             g_bytes_get_size (op), 1000, &r, NULL, NULL));
    }
  g_assert_true (mero_group_dag_current_key (node_dag, key_id, key));
  {
    guint8 owner_key[32], owner_key_id[32];
    g_assert_true (mero_group_dag_current_key (dag, owner_key_id, owner_key));
    g_assert_cmpmem (key, 32, owner_key, 32);
  }
  mero_group_dag_free (node_dag);
  mero_group_dag_free (dag);
}

static void
test_announce_schedule (void)
{
  guint64 elapsed = 0;
  guint attempts = 0;
  gint64 d;

  g_assert_cmpint (mero_tee_announce_next_delay_ms (1, 0), ==, MERO_TEE_ANNOUNCE_FIRST_RETRY_MS);
  g_assert_cmpint (mero_tee_announce_next_delay_ms (2, 1000), ==,
                   2 * MERO_TEE_ANNOUNCE_FIRST_RETRY_MS);
  g_assert_cmpint (mero_tee_announce_next_delay_ms (50, 1000), ==, MERO_TEE_ANNOUNCE_MAX_RETRY_MS);
  /* bounded: the whole schedule ends at GIVE_UP, never beyond it */
  while ((d = mero_tee_announce_next_delay_ms (attempts + 1, elapsed)) >= 0)
    {
      g_assert_cmpint (d, >, 0);
      g_assert_cmpint (d, <=, MERO_TEE_ANNOUNCE_MAX_RETRY_MS);
      elapsed += (guint64) d;
      attempts++;
      g_assert_cmpuint (attempts, <, 1000);
    }
  g_assert_cmpuint (elapsed, ==, MERO_TEE_ANNOUNCE_GIVE_UP_MS);
}

/* The admin's refusal: codec, what the signature covers, bounds, which
 * reasons are definitive, and the rate limit. */
static void
test_refusal_codec (void)
{
  Identity admin, other;
  g_autoptr (MeroTeeRefusal) r = mero_tee_refusal_new ();
  g_autoptr (MeroTeeRefusal) back = NULL;
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GError) error = NULL;
  const char *seed = g_getenv ("MERO_TEE_REFUSAL_WRITE_SEED");

  identity (&admin, 3);
  identity (&other, 4);
  memset (r->group_id, 0xab, 32);
  memset (r->member, 0x11, 32);
  memset (r->quote_hash, 0x22, 32);
  r->reason = MERO_GROUP_TEE_ADMIT_REPLAYED;
  g_free (r->message);
  r->message = g_strdup ("this quote already admitted a node");
  r->timestamp_ms = 7000;
  mero_tee_refusal_sign (r, admin.sk);
  g_assert_cmpmem (r->admin, 32, admin.pk, 32);
  enc = mero_tee_refusal_encode (r);
  if (seed != NULL)
    g_assert_true (g_file_set_contents (seed, g_bytes_get_data (enc, NULL),
                                        (gssize) g_bytes_get_size (enc), NULL));
  back = mero_tee_refusal_decode (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), &error);
  g_assert_no_error (error);
  g_assert_true (mero_tee_refusal_verify (back));
  g_assert_cmpint (back->reason, ==, MERO_GROUP_TEE_ADMIT_REPLAYED);
  g_assert_cmpstr (back->message, ==, r->message);
  g_assert_cmpuint (back->timestamp_ms, ==, 7000);
  /* every signed field is covered; another key's signature is forged */
#define FLIP(field)                                  \
  do                                                 \
    {                                                \
      back->field[5] ^= 1;                           \
      g_assert_false (mero_tee_refusal_verify (back)); \
      back->field[5] ^= 1;                           \
    }                                                \
  while (0)
  FLIP (group_id);
  FLIP (admin);
  FLIP (member);
  FLIP (quote_hash);
  FLIP (message);
  FLIP (signature);
#undef FLIP
  back->reason = MERO_GROUP_TEE_ADMIT_KEY_BINDING;
  g_assert_false (mero_tee_refusal_verify (back));
  back->reason = MERO_GROUP_TEE_ADMIT_REPLAYED;
  back->timestamp_ms++;
  g_assert_false (mero_tee_refusal_verify (back));
  back->timestamp_ms--;
  g_assert_true (mero_tee_refusal_verify (back));
  memcpy (back->admin, other.pk, 32);
  g_assert_false (mero_tee_refusal_verify (back));

  /* truncations never decode */
  for (gsize n = 0; n < g_bytes_get_size (enc); n++)
    {
      g_autoptr (MeroTeeRefusal) t = mero_tee_refusal_decode (g_bytes_get_data (enc, NULL), n,
                                                              NULL);
      g_assert_null (t);
    }
  /* no "OK" refusal, no unknown reason; a long message is cut on signing
   * (at a character boundary), a longer one on the wire refused */
  {
    g_autoptr (GBytes) e2 = NULL, e3 = NULL;
    g_autoptr (GError) err2 = NULL, err3 = NULL;
    g_autoptr (MeroTeeRefusal) b2 = NULL, b3 = NULL;
    GString *long_message = g_string_new (NULL);

    r->reason = MERO_GROUP_TEE_ADMIT_OK;
    e2 = mero_tee_refusal_encode (r);
    b2 = mero_tee_refusal_decode (g_bytes_get_data (e2, NULL), g_bytes_get_size (e2), &err2);
    g_assert_null (b2);
    g_assert_error (err2, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
    r->reason = MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED;
    for (guint i = 0; i < 200; i++)
      g_string_append (long_message, "é");
    g_free (r->message);
    r->message = g_string_free (long_message, FALSE);
    e3 = mero_tee_refusal_encode (r);
    b3 = mero_tee_refusal_decode (g_bytes_get_data (e3, NULL), g_bytes_get_size (e3), &err3);
    g_assert_null (b3);
    g_assert_error (err3, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED);
    mero_tee_refusal_sign (r, admin.sk);
    g_assert_cmpuint (strlen (r->message), ==, MERO_TEE_REFUSAL_MESSAGE_MAX);
    g_assert_true (g_utf8_validate (r->message, -1, NULL));
  }

  g_assert_true (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_REPLAYED));
  g_assert_true (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_KEY_BINDING));
  g_assert_true (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH));
  g_assert_false (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED));
  g_assert_false (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED));
  g_assert_false (mero_tee_refusal_is_definitive (MERO_GROUP_TEE_ADMIT_VERIFIER_REFUSED));
}

static void
test_refusal_limiter (void)
{
  g_autoptr (MeroTeeRefusalLimiter) l = mero_tee_refusal_limiter_new ();
  guint8 member[32] = { 1 }, quote[32] = { 2 };

  g_assert_true (mero_tee_refusal_limiter_allow (l, member, quote,
                                                 MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, 1000));
  /* the same again within the interval: no; another reason: news */
  g_assert_false (mero_tee_refusal_limiter_allow (l, member, quote,
                                                  MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, 1500));
  g_assert_true (mero_tee_refusal_limiter_allow (l, member, quote,
                                                 MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED, 1500));
  g_assert_true (mero_tee_refusal_limiter_allow (
    l, member, quote, MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, 1000 + MERO_TEE_REFUSAL_INTERVAL_MS));
  /* the table is bounded: new keys are refused while it is full of
   * recent ones, and allowed once those have aged out */
  for (guint i = 0; i < 2 * MERO_TEE_REFUSAL_LIMITER_SIZE; i++)
    {
      gboolean ok;

      member[1] = (guint8) i;
      member[2] = (guint8) (i >> 8);
      ok = mero_tee_refusal_limiter_allow (l, member, quote, MERO_GROUP_TEE_ADMIT_REPLAYED, 20000);
      g_assert_true (ok == (i < MERO_TEE_REFUSAL_LIMITER_SIZE - 1));
    }
  member[1] = member[2] = 0xff;
  g_assert_true (mero_tee_refusal_limiter_allow (l, member, quote, MERO_GROUP_TEE_ADMIT_REPLAYED,
                                                 20000 + MERO_TEE_REFUSAL_INTERVAL_MS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/tee/admission/mock-quote-format", test_mock_quote_format);
  g_test_add_func ("/tee/admission/announce-codec", test_announce_codec);
  g_test_add_func ("/tee/admission/flow", test_admission_flow);
  g_test_add_func ("/tee/admission/announce-schedule", test_announce_schedule);
  g_test_add_func ("/tee/admission/refusal-codec", test_refusal_codec);
  g_test_add_func ("/tee/admission/refusal-limiter", test_refusal_limiter);
  return g_test_run ();
}
