/* test-group-property.c: replicas that receive the same op set, with
 * conflicting concurrent ops, in different orders end in the same state.
 *
 * Each seed builds a random group history on a "master" DAG: authors cite
 * either the current heads or an older random cut (so ops are concurrent,
 * and removals, demotions and grants race), with random signers (some not
 * authorized at their cut) and random targets.  Every op generated, refused
 * ones included, is then delivered to REPLICAS fresh DAGs in independent
 * random orders (out-of-order ops wait as pending).  All must end with the
 * master's op set, heads and state digest (membership, roles,
 * capabilities, contexts, key id, metadata, nonces, redeemed invitations),
 * and agree on the state of a random past cut.
 *
 *   MERO_GROUP_PROPERTY_SEED=n   run only seed n (reproduce a failure)
 *   MERO_GROUP_PROPERTY_SEEDS=n  number of seeds (default 48) */
#include <string.h>

#include <sodium.h>

#include "crypto/mero-sha256.h"
#include "group-test-util.h"

#define N_IDENTITIES 10
#define N_OPS 110
#define REPLICAS 4

typedef struct {
  guint32 seed;
  GRand *rand;
  TestIdentity ids[N_IDENTITIES];
  guint64 nonces[N_IDENTITIES];
  guint8 group[32];
  MeroMetrics *metrics;
  MeroGroupDag *master;
  GPtrArray *ops;          /* GBytes*, every op generated */
  GHashTable *keys;        /* key id -> key, every group key generated */
} World;

static void
remember_key (World *w, const guint8 key[32])
{
  guint8 id[32];

  mero_group_key_id (key, id);
  g_hash_table_insert (w->keys, g_memdup2 (id, 32), g_memdup2 (key, 32));
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 32) == 0;
}

static guint
id_hash (gconstpointer a)
{
  return *(const guint *) a;
}

static const TestIdentity *
pick_identity (World *w, guint *index)
{
  guint i = g_rand_int_range (w->rand, 0, N_IDENTITIES);

  if (index != NULL)
    *index = i;
  return &w->ids[i];
}

/* A random member of @cut (or, one time in eight, anyone). */
static guint
pick_signer (World *w, const MeroGroupState *cut)
{
  for (guint tries = 0; tries < 20; tries++)
    {
      guint i;
      pick_identity (w, &i);
      if (g_rand_int_range (w->rand, 0, 8) == 0 || mero_group_state_member (cut, w->ids[i].pk) != NULL)
        return i;
    }
  return 0;
}

/* Parents: the current heads, or 1-2 random known ops (an older cut). */
static GArray *
pick_parents (World *w)
{
  g_autoptr (GPtrArray) known = mero_group_dag_ops_for_peer (w->master, NULL, 0, 100000);
  GArray *parents;

  if (g_rand_int_range (w->rand, 0, 10) < 6)
    return mero_group_dag_heads (w->master);
  parents = g_array_new (FALSE, FALSE, 32);
  for (guint n = g_rand_int_range (w->rand, 1, 3); n > 0; n--)
    {
      GBytes *b = g_ptr_array_index (known, g_rand_int_range (w->rand, 0, known->len));
      g_autoptr (MeroGroupOp) op = mero_group_op_decode (g_bytes_get_data (b, NULL),
                                                         g_bytes_get_size (b), NULL);
      g_array_append_vals (parents, op->id, 1);
    }
  return parents;
}

static MeroGroupOp *
random_body (World *w, const MeroGroupState *cut, guint signer, guint64 ts)
{
  guint kind = g_rand_int_range (w->rand, 0, 12);
  const TestIdentity *target = pick_identity (w, NULL);
  guint8 role = g_rand_int_range (w->rand, 0, 3);
  guint32 caps = g_rand_int_range (w->rand, 0, 16);
  guint8 key[32];

  switch (kind)
    {
    case 0:
    case 1:
      {
        /* the cut's key, or one time in ten another (a bad envelope) */
        const guint8 *cur = g_hash_table_lookup (w->keys, mero_group_state_key_id (cut));
        if (cur != NULL && g_rand_int_range (w->rand, 0, 10) != 0)
          memcpy (key, cur, 32);
        else
          {
            guint8 unused_id[32];
            mero_group_key_generate (key, unused_id);
          }
        return test_op_add (target->pk, role, caps, key);
      }
    case 2:
      {
        MeroGroupOp *op = test_op_remove (cut, target->pk, key);
        remember_key (w, key);
        return op;
      }
    case 3:
      return test_op_member (MERO_GROUP_OP_LEAVE, NULL, 0, 0);
    case 4:
      return test_op_member (MERO_GROUP_OP_SET_ROLE, target->pk, role, 0);
    case 5:
      return test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, target->pk, 0, caps);
    case 6:
    case 7:
      return test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, g_rand_int_range (w->rand, 0, 12), caps);
    case 8:
      return test_op_context (MERO_GROUP_OP_DETACH_CONTEXT, g_rand_int_range (w->rand, 0, 12), 0);
    case 9:
      {
        MeroGroupOp *op = test_op_rotate (cut, key);
        remember_key (w, key);
        return op;
      }
    case 10:
      {
        MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_JOIN);
        const TestIdentity *inviter = pick_identity (w, NULL);
        MeroGroupInvitation *inv = &op->invitation;

        memcpy (inv->group_id, w->group, 32);
        inv->role = role;
        inv->expiry_ms = ts + g_rand_int_range (w->rand, -5, 40);
        /* few distinct nonces, so invitations get reused */
        memset (inv->nonce, g_rand_int_range (w->rand, 0, 4), 32);
        mero_group_invitation_sign (inv, inviter->sk);
        (void) signer;
        return op;
      }
    default:
      {
        MeroGroupOp *op = mero_group_op_new (MERO_GROUP_OP_SET_METADATA);
        guint8 meta[4] = { caps, role, 0, 1 };
        g_bytes_unref (op->metadata);
        op->metadata = g_bytes_new (meta, sizeof meta);
        return op;
      }
    }
}

/* Two admins (or an admin and a manager) acting against each other on
 * the same cut: the conflicts the rules must settle deterministically. */
static void
conflicting_pair (World *w, guint64 ts)
{
  g_autoptr (GArray) heads = mero_group_dag_heads (w->master);
  g_autoptr (GArray) members = mero_group_state_members (mero_group_dag_state (w->master));
  const MeroGroupState *s = mero_group_dag_state (w->master);
  guint x = 0, y = 0;
  const TestIdentity *ix = NULL, *iy = NULL;

  if (members->len < 3)
    return;
  for (guint i = 0; i < N_IDENTITIES; i++)
    {
      const MeroGroupMember *m = mero_group_state_member (s, w->ids[i].pk);
      if (m == NULL || memcmp (w->ids[i].pk, mero_group_state_owner (s), 32) == 0)
        continue;
      if (ix == NULL)
        ix = &w->ids[(x = i)];
      else if (iy == NULL)
        iy = &w->ids[(y = i)];
    }
  if (ix == NULL || iy == NULL)
    return;
  {
    guint8 k1[32], k2[32];
    g_autoptr (MeroGroupOp) a = test_op_remove (s, iy->pk, k1);
    g_autoptr (MeroGroupOp) b = g_rand_boolean (w->rand)
                                  ? test_op_remove (s, ix->pk, k2)
                                  : test_op_member (MERO_GROUP_OP_SET_ROLE, ix->pk,
                                                    MERO_GROUP_ROLE_READ_ONLY, 0);
    GBytes *ea;
    GBytes *eb;

    remember_key (w, k1);
    if (b->kind == MERO_GROUP_OP_REMOVE_MEMBER)
      remember_key (w, k2);
    ea = test_sign (a, ix, w->group, (const guint8 *) heads->data, heads->len,
                            ++w->nonces[x], ts);
    eb = test_sign (b, iy, w->group, (const guint8 *) heads->data, heads->len,
                            ++w->nonces[y], ts);
    mero_group_dag_receive (w->master, g_bytes_get_data (ea, NULL), g_bytes_get_size (ea), 0,
                            NULL, NULL, NULL);
    mero_group_dag_receive (w->master, g_bytes_get_data (eb, NULL), g_bytes_get_size (eb), 0,
                            NULL, NULL, NULL);
    g_ptr_array_add (w->ops, ea);
    g_ptr_array_add (w->ops, eb);
  }
}

static void
build_history (World *w)
{
  g_autoptr (MeroGroupOp) create = NULL;
  static const guint8 roles[] = { MERO_GROUP_ROLE_ADMIN, MERO_GROUP_ROLE_ADMIN,
                                  MERO_GROUP_ROLE_MEMBER, MERO_GROUP_ROLE_MEMBER };
  static const guint32 caps[] = { 0, 0, MERO_GROUP_CAP_MANAGE_MEMBERS | MERO_GROUP_CAP_INVITE,
                                  MERO_GROUP_CAP_CREATE_CONTEXT };
  guint8 key0[32];
  GBytes *enc;
  guint64 ts = 1000;

  create = test_op_create (&w->ids[0], key0);
  remember_key (w, key0);
  enc = test_sign (create, &w->ids[0], w->group, NULL, 0, ++w->nonces[0], ts);
  test_receive (w->master, enc, MERO_GROUP_RECEIVE_ACCEPTED, 0);
  g_ptr_array_add (w->ops, enc);
  /* a few members to start with, so there is something to fight over */
  for (guint i = 0; i < G_N_ELEMENTS (roles); i++)
    {
      g_autoptr (MeroGroupOp) add = test_op_add (w->ids[i + 1].pk, roles[i], caps[i], key0);
      g_autoptr (GArray) heads = mero_group_dag_heads (w->master);
      enc = test_sign (add, &w->ids[0], w->group, (const guint8 *) heads->data, heads->len,
                       ++w->nonces[0], ts);
      test_receive (w->master, enc, MERO_GROUP_RECEIVE_ACCEPTED, 0);
      g_ptr_array_add (w->ops, enc);
    }

  for (guint n = 0; n < N_OPS; n++)
    {
      g_autoptr (GArray) parents = pick_parents (w);
      g_autoptr (MeroGroupState) cut = mero_group_dag_state_at (w->master, (const guint8 *) parents->data,
                                                                parents->len, NULL);
      guint signer = pick_signer (w, cut);
      g_autoptr (MeroGroupOp) op = NULL;

      ts += g_rand_int_range (w->rand, 0, 5);
      if (g_rand_int_range (w->rand, 0, 12) == 0)
        {
          conflicting_pair (w, ts);
          continue;
        }
      op = random_body (w, cut, signer, ts);
      enc = test_sign (op, &w->ids[signer], w->group, (const guint8 *) parents->data, parents->len,
                       ++w->nonces[signer], ts);
      mero_group_dag_receive (w->master, g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), 0,
                              NULL, NULL, NULL);
      g_ptr_array_add (w->ops, enc);
    }
}

/* Accepted ops that a concurrent op made ineffective, over all seeds:
 * proof that the conflict rules were exercised at all. */
static guint superseded_total;

static guint
count_superseded (World *w)
{
  guint n = 0;

  for (guint i = 0; i < w->ops->len; i++)
    {
      GBytes *b = g_ptr_array_index (w->ops, i);
      g_autoptr (MeroGroupOp) op = mero_group_op_decode (g_bytes_get_data (b, NULL),
                                                         g_bytes_get_size (b), NULL);
      if (mero_group_dag_has_op (w->master, op->id) && !mero_group_dag_op_effective (w->master, op->id))
        n++;
    }
  return n;
}

static void
check_seed (guint32 seed)
{
  World w = { 0 };
  guint8 master_digest[32];
  g_autoptr (GArray) master_heads = NULL;
  g_autoptr (GArray) probe = NULL;
  guint8 probe_digest[32];

  w.seed = seed;
  w.rand = g_rand_new_with_seed (seed);
  for (guint i = 0; i < N_IDENTITIES; i++)
    test_identity (&w.ids[i], 1000 + i);
  memset (w.group, 0, 32);
  memcpy (w.group, &seed, sizeof seed);
  w.metrics = mero_metrics_new ();
  w.master = mero_group_dag_open (NULL, w.group, w.metrics, NULL);
  w.ops = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  w.keys = g_hash_table_new_full (id_hash, id_equal, g_free, g_free);
  build_history (&w);
  mero_group_state_digest (mero_group_dag_state (w.master), master_digest);
  master_heads = mero_group_dag_heads (w.master);
  probe = mero_group_dag_heads (w.master);
  /* a past cut: the parents of a random accepted op */
  {
    GBytes *b = g_ptr_array_index (w.ops, g_rand_int_range (w.rand, 0, w.ops->len));
    g_autoptr (MeroGroupOp) op = mero_group_op_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b), NULL);
    if (op->parents->len > 0 && mero_group_dag_has_op (w.master, (const guint8 *) op->parents->data))
      {
        g_array_set_size (probe, 0);
        g_array_append_vals (probe, op->parents->data, op->parents->len);
      }
  }
  {
    g_autoptr (MeroGroupState) s = mero_group_dag_state_at (w.master, (const guint8 *) probe->data,
                                                            probe->len, NULL);
    mero_group_state_digest (s, probe_digest);
  }

  for (guint r = 0; r < REPLICAS; r++)
    {
      g_autoptr (MeroGroupDag) replica = mero_group_dag_open (NULL, w.group, w.metrics, NULL);
      g_autofree guint *order = g_new (guint, w.ops->len);
      g_autoptr (GArray) heads = NULL;
      g_autoptr (MeroGroupState) s = NULL;
      guint8 digest[32];

      for (guint i = 0; i < w.ops->len; i++)
        order[i] = i;
      for (guint i = w.ops->len; i > 1; i--)
        {
          guint j = g_rand_int_range (w.rand, 0, i);
          guint t = order[i - 1];
          order[i - 1] = order[j];
          order[j] = t;
        }
      for (guint i = 0; i < w.ops->len; i++)
        {
          GBytes *b = g_ptr_array_index (w.ops, order[i]);
          mero_group_dag_receive (replica, g_bytes_get_data (b, NULL), g_bytes_get_size (b), 0,
                                  NULL, NULL, NULL);
        }
      mero_group_state_digest (mero_group_dag_state (replica), digest);
      heads = mero_group_dag_heads (replica);
      if (mero_group_dag_n_ops (replica) != mero_group_dag_n_ops (w.master)
          || mero_group_dag_n_pending (replica) != 0
          || heads->len != master_heads->len
          || memcmp (heads->data, master_heads->data, heads->len * 32) != 0
          || memcmp (digest, master_digest, 32) != 0)
        g_error ("seed %u: replica %u diverged (ops %u vs %u, pending %u); rerun with "
                 "MERO_GROUP_PROPERTY_SEED=%u", seed, r, mero_group_dag_n_ops (replica),
                 mero_group_dag_n_ops (w.master), mero_group_dag_n_pending (replica), seed);
      s = mero_group_dag_state_at (replica, (const guint8 *) probe->data, probe->len, NULL);
      mero_group_state_digest (s, digest);
      if (memcmp (digest, probe_digest, 32) != 0)
        g_error ("seed %u: replica %u disagrees on a past cut", seed, r);
    }
  superseded_total += count_superseded (&w);
  g_test_message ("seed %u: %u ops generated, %u accepted, %u superseded, %u members, %u heads",
                  seed, w.ops->len, mero_group_dag_n_ops (w.master), count_superseded (&w),
                  mero_group_state_n_members (mero_group_dag_state (w.master)), master_heads->len);
  g_ptr_array_unref (w.ops);
  g_hash_table_unref (w.keys);
  mero_group_dag_free (w.master);
  mero_metrics_unref (w.metrics);
  g_rand_free (w.rand);
}

static void
test_convergence (void)
{
  const char *one = g_getenv ("MERO_GROUP_PROPERTY_SEED");
  const char *count = g_getenv ("MERO_GROUP_PROPERTY_SEEDS");
  guint n = count != NULL ? (guint) g_ascii_strtoull (count, NULL, 10) : 48;

  if (one != NULL)
    {
      check_seed ((guint32) g_ascii_strtoull (one, NULL, 10));
      return;
    }
  for (guint s = 1; s <= n; s++)
    check_seed (s);
  g_assert_cmpuint (superseded_total, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/group/property/convergence", test_convergence);
  return g_test_run ();
}
