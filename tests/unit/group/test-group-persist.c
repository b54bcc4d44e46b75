/* test-group-persist.c: a group's DAG, state and opened keys survive a
 * reopen of a RocksDB store; listing groups and this node's groups. */
#include <string.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "group-test-util.h"
#include "store-memory-core.h"
#include "store-rocksdb-core.h"

#include "mero-test-fs.h"

static GBytes *
author (MeroGroupDag *dag, MeroGroupOp *op_in, const TestIdentity *who)
{
  g_autoptr (MeroGroupOp) op = op_in;
  GBytes *enc = test_author (dag, op, who);

  test_receive (dag, enc, MERO_GROUP_RECEIVE_ACCEPTED, 0);
  return enc;
}

static void
fill_group (MeroGroupDag *dag, const TestIdentity *owner, const TestIdentity *a,
            const TestIdentity *b, guint8 key0[32])
{
  g_autoptr (MeroGroupOp) create = test_op_create (owner, key0);
  g_autoptr (GBytes) enc = test_sign (create, owner, mero_group_dag_group_id (dag), NULL, 0, 1, 10);

  test_receive (dag, enc, MERO_GROUP_RECEIVE_ACCEPTED, 0);
  g_bytes_unref (author (dag, test_op_add (a->pk, MERO_GROUP_ROLE_ADMIN, 0, key0), owner));
  g_bytes_unref (author (dag, test_op_add (b->pk, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_CREATE_CONTEXT, key0), owner));
  for (guint i = 0; i < 200; i++)
    g_bytes_unref (author (dag, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, (guint8) i,
                                                 (guint8) (i / 7)), i % 2 ? b : a));
}

static void
test_reopen (void)
{
  g_autofree char *dir = mero_test_make_tmpdir ("mero-group-test");
  g_autofree char *path = g_build_filename (dir, "db", NULL);
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  TestIdentity owner, a, b, c;
  guint8 group[32], group2[32], key0[32], key2[32], digest[32], digest2[32], kid[32], key[32];
  g_autoptr (GArray) heads = NULL;
  g_autoptr (GArray) heads2 = NULL;
  g_autoptr (GArray) groups = NULL;
  g_autoptr (GArray) mine = NULL;
  g_autoptr (GError) error = NULL;
  guint n_ops;

  test_identity (&owner, 1);
  test_identity (&a, 2);
  test_identity (&b, 3);
  test_identity (&c, 4);
  memset (group, 0x10, 32);
  memset (group2, 0x20, 32);
  {
    g_autoptr (MeroStore) store = mero_store_open (&mero_store_rocksdb_vtable, NULL, path, NULL, &error);
    g_autoptr (MeroGroupDag) dag = NULL;
    g_autoptr (MeroGroupDag) dag2 = NULL;
    g_autoptr (MeroGroupOp) rm = NULL;

    g_assert_no_error (error);
    dag = mero_group_dag_open (store, group, metrics, &error);
    g_assert_no_error (error);
    g_assert_true (mero_group_dag_set_identity (dag, b.sk, &error));
    fill_group (dag, &owner, &a, &b, key0);
    rm = test_op_remove (mero_group_dag_state (dag), a.pk, key2);
    g_bytes_unref (author (dag, g_steal_pointer (&rm), &owner));
    mero_group_state_digest (mero_group_dag_state (dag), digest);
    heads = mero_group_dag_heads (dag);
    n_ops = mero_group_dag_n_ops (dag);

    /* a second group in which b is not a member */
    dag2 = mero_group_dag_open (store, group2, metrics, &error);
    g_assert_no_error (error);
    fill_group (dag2, &c, &a, &owner, key);
  }
  {
    g_autoptr (MeroStore) store = mero_store_open (&mero_store_rocksdb_vtable, NULL, path, NULL, &error);
    g_autoptr (MeroGroupDag) dag = NULL;

    g_assert_no_error (error);
    dag = mero_group_dag_open (store, group, metrics, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (mero_group_dag_n_ops (dag), ==, n_ops);
    mero_group_state_digest (mero_group_dag_state (dag), digest2);
    g_assert_cmpmem (digest, 32, digest2, 32);
    heads2 = mero_group_dag_heads (dag);
    g_assert_cmpmem (heads->data, heads->len * 32, heads2->data, heads2->len * 32);
    /* keys opened before the restart are still there, without the identity */
    g_assert_true (mero_group_dag_current_key (dag, kid, key));
    g_assert_cmpmem (key, 32, key2, 32);
    mero_group_key_id (key0, kid);
    g_assert_true (mero_group_dag_key (dag, kid, key));
    /* and the DAG goes on */
    g_bytes_unref (author (dag, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 0xfe, 1), &b));
    g_assert_cmpuint (mero_group_dag_n_ops (dag), ==, n_ops + 1);

    groups = mero_group_list_groups (store, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (groups->len, ==, 2);
    g_assert_cmpmem (groups->data, 32, group, 32);
    g_assert_cmpmem (groups->data + 32, 32, group2, 32);
    mine = mero_group_list_member_groups (store, b.pk, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (mine->len, ==, 1);
    g_assert_cmpmem (mine->data, 32, group, 32);
  }
  mero_test_remove_tree (dir);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/group/persist/rocksdb-reopen", test_reopen);
  return g_test_run ();
}
