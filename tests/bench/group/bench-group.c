/* bench-group.c: applying N group ops from a cold start, against the raw
 * Ed25519 verification rate measured in the same run (target: >= 0.5x).
 *
 *   bench-group [N]     default 10000
 *
 * The ops are authored beforehand (not timed): a group with 50 members,
 * then a mix of context registrations/detachments, capability and role
 * changes, metadata, and a key rotation (50 envelopes) every 500 ops,
 * signed by several members.  Three runs, each on a fresh DAG fed every
 * op's encoding through mero_group_dag_receive (decode, signature check,
 * authorization at the cut, fold, persistence):
 *   linear      every op cites the current heads (store: RocksDB, new dir)
 *   memory      the same ops, no store
 *   concurrent  5% of ops cite a cut 8 ops old, so they sort before ops
 *               already folded and force a refold from a checkpoint (RocksDB)
 * Raw verification: crypto_sign_verify_detached over N messages of the
 * size of an op's signing bytes. */
#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "context/group/mero-group-dag.h"
#include "context/group/mero-group-envelope.h"
#include "store-rocksdb-core.h"

#include "mero-test-fs.h"

#define N_MEMBERS 50
#define ROTATE_EVERY 500
#define CONCURRENT_EVERY 20
#define CONCURRENT_LAG 8

typedef struct {
  guint8 pk[32];
  guint8 sk[64];
} Identity;

static GBytes *
sign_and_apply (MeroGroupDag *gen, MeroGroupOp *op_in, const Identity *who, const GArray *cut,
                guint64 *nonce)
{
  g_autoptr (MeroGroupOp) op = op_in;
  g_autoptr (GError) error = NULL;
  GBytes *enc;

  if (cut == NULL)
    mero_group_dag_author (gen, op, who->sk, 1000);
  else
    {
      memcpy (op->group_id, mero_group_dag_group_id (gen), 32);
      for (guint i = 0; i < cut->len; i++)
        mero_group_op_add_parent (op, (const guint8 *) cut->data + i * 32);
      op->nonce = ++*nonce;
      op->timestamp_ms = 1000;
      mero_group_op_sign (op, who->sk);
    }
  if (cut == NULL)
    *nonce = op->nonce;
  enc = mero_group_op_encode (op);
  if (!mero_group_dag_receive (gen, g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), 0, NULL,
                               NULL, &error))
    g_error ("authoring op: %s", error->message);
  return enc;
}

static MeroGroupOp *
rotate_op (MeroGroupDag *gen)
{
  g_autoptr (GArray) members = mero_group_state_members (mero_group_dag_state (gen));
  MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_ROTATE_KEY);
  guint8 key[32];

  mero_group_key_generate (key, op->key_id);
  for (guint i = 0; i < members->len; i++)
    {
      MeroGroupEnvelope e;
      mero_group_envelope_seal ((const guint8 *) members->data + i * 32, key, &e, NULL);
      mero_group_op_add_envelope (op, &e);
    }
  return op;
}

/* Authors @n ops; with @concurrent, every CONCURRENT_EVERY-th op is signed
 * by the owner on a cut CONCURRENT_LAG ops old. */
static GPtrArray *
author_ops (guint n, gboolean concurrent, const guint8 group[32])
{
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (MeroGroupDag) gen = mero_group_dag_open (NULL, group, metrics, NULL);
  GPtrArray *ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) past = g_ptr_array_new_with_free_func ((GDestroyNotify) g_array_unref);
  Identity ids[N_MEMBERS];
  guint64 nonces[N_MEMBERS] = { 0 };
  guint8 key[32];
  guint ctx_next = 0, ctx_live = 0;

  for (guint i = 0; i < N_MEMBERS; i++)
    crypto_sign_keypair (ids[i].pk, ids[i].sk);
  {
    MeroGroupOp *create = mero_group_op_new (MERO_GROUP_OP_CREATE_GROUP);
    MeroGroupEnvelope e;
    mero_group_key_generate (key, create->key_id);
    mero_group_envelope_seal (ids[0].pk, key, &e, NULL);
    mero_group_op_add_envelope (create, &e);
    g_ptr_array_add (ops, sign_and_apply (gen, create, &ids[0], NULL, &nonces[0]));
  }
  for (guint i = 1; i < N_MEMBERS && ops->len < n; i++)
    {
      MeroGroupOp *add = mero_group_op_new (MERO_GROUP_OP_ADD_MEMBER);
      MeroGroupEnvelope e;
      memcpy (add->member, ids[i].pk, 32);
      add->role = i < 5 ? MERO_GROUP_ROLE_ADMIN : MERO_GROUP_ROLE_MEMBER;
      add->capabilities = MERO_GROUP_CAP_CREATE_CONTEXT | MERO_GROUP_CAP_MANAGE_APPLICATION;
      memcpy (add->key_id, mero_group_state_key_id (mero_group_dag_state (gen)), 32);
      mero_group_envelope_seal (ids[i].pk, key, &e, NULL);
      mero_group_op_add_envelope (add, &e);
      g_ptr_array_add (ops, sign_and_apply (gen, add, &ids[0], NULL, &nonces[0]));
    }
  while (ops->len < n)
    {
      guint k = ops->len;
      guint signer = 5 + k % (N_MEMBERS - 5);
      MeroGroupOp *op;

      g_ptr_array_add (past, mero_group_dag_heads (gen));
      if (concurrent && k % CONCURRENT_EVERY == 0 && past->len > CONCURRENT_LAG)
        {
          op = mero_group_op_new (MERO_GROUP_OP_SET_METADATA);
          g_bytes_unref (op->metadata);
          op->metadata = g_bytes_new (&k, sizeof k);
          g_ptr_array_add (ops, sign_and_apply (gen, op, &ids[0],
                                                g_ptr_array_index (past, past->len - 1 - CONCURRENT_LAG),
                                                &nonces[0]));
          continue;
        }
      if (k % ROTATE_EVERY == 0)
        {
          g_ptr_array_add (ops, sign_and_apply (gen, rotate_op (gen), &ids[1], NULL, &nonces[1]));
          continue;
        }
      switch (k % 4)
        {
        case 0:
        case 1:
          if (ctx_live < 1000)
            {
              op = mero_group_op_new (MERO_GROUP_OP_REGISTER_CONTEXT);
              memcpy (op->context_id, &ctx_next, sizeof ctx_next);
              op->application_id[0] = (guint8) k;
              ctx_next++;
              ctx_live++;
              break;
            }
          G_GNUC_FALLTHROUGH;
        case 2:
          if (ctx_live > 0)
            {
              guint victim = ctx_next - ctx_live;
              op = mero_group_op_new (MERO_GROUP_OP_DETACH_CONTEXT);
              memcpy (op->context_id, &victim, sizeof victim);
              ctx_live--;
              break;
            }
          G_GNUC_FALLTHROUGH;
        default:
          op = mero_group_op_new (MERO_GROUP_OP_SET_CAPABILITIES);
          memcpy (op->member, ids[5 + (k / 4) % (N_MEMBERS - 5)].pk, 32);
          op->capabilities = MERO_GROUP_CAP_CREATE_CONTEXT | MERO_GROUP_CAP_MANAGE_APPLICATION
                             | ((k / 4) % 2 ? MERO_GROUP_CAP_INVITE : 0);
          signer = 1 + k % 4;
          break;
        }
      g_ptr_array_add (ops, sign_and_apply (gen, op, &ids[signer], NULL, &nonces[signer]));
    }
  return ops;
}

static double
apply_all (GPtrArray *ops, const guint8 group[32], gboolean with_store, guint8 digest[32])
{
  g_autofree char *dir = mero_test_make_tmpdir ("mero-bench-group");
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  MeroStore *store = NULL;
  MeroGroupDag *dag;
  gint64 t0, t1;

  if (with_store)
    {
      store = mero_store_open (&mero_store_rocksdb_vtable, NULL, dir, NULL, &error);
      if (store == NULL)
        g_error ("store: %s", error->message);
    }
  t0 = g_get_monotonic_time ();
  dag = mero_group_dag_open (store, group, metrics, &error);
  for (guint i = 0; i < ops->len; i++)
    {
      GBytes *b = g_ptr_array_index (ops, i);
      if (!mero_group_dag_receive (dag, g_bytes_get_data (b, NULL), g_bytes_get_size (b), 0, NULL,
                                   NULL, &error))
        g_error ("op %u: %s", i, error->message);
    }
  t1 = g_get_monotonic_time ();
  if (mero_group_dag_n_ops (dag) != ops->len)
    g_error ("applied %u of %u ops", mero_group_dag_n_ops (dag), ops->len);
  mero_group_state_digest (mero_group_dag_state (dag), digest);
  mero_group_dag_free (dag);
  mero_store_close (store);
  mero_test_remove_tree (dir);
  return (t1 - t0) / 1e6;
}

static double
verify_rate (guint n)
{
  guint8 pk[32], sk[64], msg[200], sig[64];
  gint64 t0, t1;
  guint ok = 0;

  crypto_sign_keypair (pk, sk);
  randombytes_buf (msg, sizeof msg);
  crypto_sign_detached (sig, NULL, msg, sizeof msg, sk);
  t0 = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    ok += crypto_sign_verify_detached (sig, msg, sizeof msg, pk) == 0;
  t1 = g_get_monotonic_time ();
  if (ok != n)
    g_error ("verification failed");
  return n / ((t1 - t0) / 1e6);
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 10000;
  guint8 group[32], d1[32], d2[32], d3[32];
  g_autoptr (GPtrArray) linear = NULL;
  g_autoptr (GPtrArray) conc = NULL;
  double raw, t_linear, t_memory, t_conc;

  if (sodium_init () < 0)
    return 1;
  randombytes_buf (group, sizeof group);
  linear = author_ops (n, FALSE, group);
  conc = author_ops (n, TRUE, group);

  raw = verify_rate (n);
  t_linear = apply_all (linear, group, TRUE, d1);
  t_memory = apply_all (linear, group, FALSE, d2);
  t_conc = apply_all (conc, group, TRUE, d3);
  raw = (raw + verify_rate (n)) / 2;   /* before and after, against drift */
  if (memcmp (d1, d2, 32) != 0)
    g_error ("store and memory runs disagree");

  printf ("raw Ed25519 verify: %.0f/s\n", raw);
  printf ("apply %u ops, cold start, RocksDB:  %.3f s = %.0f ops/s = %.2fx verify rate\n", n,
          t_linear, n / t_linear, n / t_linear / raw);
  printf ("apply %u ops, cold start, memory:   %.3f s = %.0f ops/s = %.2fx verify rate\n", n,
          t_memory, n / t_memory, n / t_memory / raw);
  printf ("apply %u ops, 5%% concurrent, RocksDB: %.3f s = %.0f ops/s = %.2fx verify rate\n", n,
          t_conc, n / t_conc, n / t_conc / raw);
  printf ("target: >= 0.50x (linear, RocksDB): %s\n", n / t_linear / raw >= 0.5 ? "met" : "MISSED");
  return 0;
}
