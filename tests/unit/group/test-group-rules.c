/* test-group-rules.c: every authorization rule, allowed and refused;
 * replays, forgeries, invitations, key rotation, concurrent conflicts,
 * cut queries and pending ops. */
#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-limits.h"
#include "group-test-util.h"

#define OK MERO_GROUP_RECEIVE_ACCEPTED

typedef struct {
  guint8 group[32];
  TestIdentity owner, a, b, c, d;
  MeroMetrics *metrics;
  MeroGroupDag *dag;
  guint8 key0[32];
  guint8 create_id[32];
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) op = NULL;
  g_autoptr (GBytes) enc = NULL;

  memset (f->group, 0xab, 32);
  test_identity (&f->owner, 1);
  test_identity (&f->a, 2);
  test_identity (&f->b, 3);
  test_identity (&f->c, 4);
  test_identity (&f->d, 5);
  f->metrics = mero_metrics_new ();
  f->dag = mero_group_dag_open (NULL, f->group, f->metrics, NULL);
  op = test_op_create (&f->owner, f->key0);
  enc = test_sign (op, &f->owner, f->group, NULL, 0, 1, 100);
  memcpy (f->create_id, op->id, 32);
  test_receive (f->dag, enc, OK, 0);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  mero_group_dag_free (f->dag);
  mero_metrics_unref (f->metrics);
}

/* Authors @op as @signer on the current heads and expects @error (0: accepted). */
static void
do_op (Fixture *f, MeroGroupOp *op_in, const TestIdentity *signer, int error)
{
  g_autoptr (MeroGroupOp) op = op_in;
  g_autoptr (GBytes) enc = test_author (f->dag, op, signer);

  test_receive (f->dag, enc, OK, error);
}

static void
add (Fixture *f, const TestIdentity *signer, const TestIdentity *who, MeroGroupRole role,
     guint32 caps, int error)
{
  do_op (f, test_op_add (who->pk, role, caps, f->key0), signer, error);
}

static const MeroGroupState *
state (Fixture *f)
{
  return mero_group_dag_state (f->dag);
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) again = test_op_create (&f->a, NULL);
  g_autoptr (GBytes) enc = test_sign (again, &f->a, f->group, NULL, 0, 1, 100);
  g_autoptr (MeroGroupOp) orphan = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 1);
  g_autoptr (GBytes) enc2 = test_sign (orphan, &f->owner, f->group, NULL, 0, 9, 100);
  guint8 kid[32], key[32];

  g_assert_true (mero_group_state_is_created (state (f)));
  g_assert_cmpmem (mero_group_state_owner (state (f)), 32, f->owner.pk, 32);
  g_assert_cmpuint (mero_group_state_capabilities (state (f), f->owner.pk), ==, MERO_GROUP_CAP_ALL);
  g_assert_true (mero_group_state_can_write (state (f), f->owner.pk));
  test_receive (f->dag, enc, 0, MERO_GROUP_ERROR_CONFLICT);
  test_receive (f->dag, enc2, 0, MERO_GROUP_ERROR_MALFORMED);
  /* No identity set: the key id is known, the key is not. */
  g_assert_false (mero_group_dag_current_key (f->dag, kid, key));
  g_assert_true (mero_group_dag_set_identity (f->dag, f->owner.sk, NULL));
  g_assert_true (mero_group_dag_current_key (f->dag, kid, key));
  g_assert_cmpmem (key, 32, f->key0, 32);
}

static void
test_add_member (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) wrong_key = NULL;
  guint8 other_key[32], other_id[32];

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_INVITE, 0);
  g_assert_cmpuint (mero_group_state_member (state (f), f->a.pk)->role, ==, MERO_GROUP_ROLE_MEMBER);
  /* a lacks MANAGE_MEMBERS */
  add (f, &f->a, &f->b, MERO_GROUP_ROLE_MEMBER, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->a.pk, 0,
                            MERO_GROUP_CAP_INVITE | MERO_GROUP_CAP_MANAGE_MEMBERS), &f->owner, 0);
  /* a may add members, but not admins, nor grant what it lacks */
  add (f, &f->a, &f->b, MERO_GROUP_ROLE_ADMIN, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  add (f, &f->a, &f->b, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_CREATE_CONTEXT,
       MERO_GROUP_ERROR_UNAUTHORIZED);
  add (f, &f->a, &f->b, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_INVITE, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, 0, MERO_GROUP_ERROR_ALREADY_MEMBER);
  /* Envelope under a key that is not the current one. */
  mero_group_key_generate (other_key, other_id);
  wrong_key = test_op_add (f->c.pk, MERO_GROUP_ROLE_MEMBER, 0, other_key);
  do_op (f, g_steal_pointer (&wrong_key), &f->owner, MERO_GROUP_ERROR_BAD_ENVELOPES);
  /* Non-members sign nothing but joins. */
  add (f, &f->c, &f->d, MERO_GROUP_ROLE_MEMBER, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  g_assert_cmpuint (mero_group_state_n_members (state (f)), ==, 3);
}

static void
test_remove_member (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) short_op = NULL;
  guint8 before_key[32];

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_ADMIN, 0, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_MANAGE_MEMBERS, 0);
  add (f, &f->owner, &f->c, MERO_GROUP_ROLE_MEMBER, 0, 0);
  /* the owner cannot be removed, by anyone */
  do_op (f, test_op_remove (state (f), f->owner.pk, NULL), &f->a, MERO_GROUP_ERROR_OWNER_IMMUTABLE);
  /* a member manager cannot remove an admin */
  do_op (f, test_op_remove (state (f), f->a.pk, NULL), &f->b, MERO_GROUP_ERROR_UNAUTHORIZED);
  /* a plain member cannot remove anyone */
  do_op (f, test_op_remove (state (f), f->b.pk, NULL), &f->c, MERO_GROUP_ERROR_UNAUTHORIZED);
  /* the new key must reach exactly the remaining members */
  short_op = test_op_remove (state (f), f->c.pk, NULL);
  g_array_set_size (short_op->envelopes, short_op->envelopes->len - 1);
  do_op (f, g_steal_pointer (&short_op), &f->b, MERO_GROUP_ERROR_BAD_ENVELOPES);
  /* not a member */
  do_op (f, test_op_remove (state (f), f->d.pk, NULL), &f->a, MERO_GROUP_ERROR_NOT_MEMBER);

  memcpy (before_key, mero_group_state_key_id (state (f)), 32);
  do_op (f, test_op_remove (state (f), f->c.pk, NULL), &f->b, 0);
  g_assert_null (mero_group_state_member (state (f), f->c.pk));
  g_assert_true (memcmp (before_key, mero_group_state_key_id (state (f)), 32) != 0);
  do_op (f, test_op_remove (state (f), f->b.pk, NULL), &f->a, 0);
  g_assert_cmpuint (mero_group_state_n_members (state (f)), ==, 2);
}

static void
test_roles (Fixture *f, gconstpointer data)
{
  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_ALL, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, 0, 0);
  /* only admins set roles, whatever the capabilities */
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->b.pk, MERO_GROUP_ROLE_ADMIN, 0), &f->a,
         MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->a.pk, MERO_GROUP_ROLE_ADMIN, 0), &f->owner, 0);
  g_assert_cmpuint (mero_group_state_member (state (f), f->a.pk)->role, ==, MERO_GROUP_ROLE_ADMIN);
  /* The owner is the last admin that cannot go: neither demoted nor removed. */
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->owner.pk, MERO_GROUP_ROLE_MEMBER, 0), &f->a,
         MERO_GROUP_ERROR_OWNER_IMMUTABLE);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->owner.pk, MERO_GROUP_ROLE_MEMBER, 0),
         &f->owner, MERO_GROUP_ERROR_OWNER_IMMUTABLE);
  do_op (f, test_op_member (MERO_GROUP_OP_LEAVE, NULL, 0, 0), &f->owner,
         MERO_GROUP_ERROR_OWNER_IMMUTABLE);
  /* demote a to read-only: it can no longer write, nor use capabilities */
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->a.pk, MERO_GROUP_ROLE_READ_ONLY, 0),
         &f->owner, 0);
  g_assert_false (mero_group_state_can_write (state (f), f->a.pk));
  g_assert_cmpuint (mero_group_state_capabilities (state (f), f->a.pk), ==, 0);
  do_op (f, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 2), &f->a,
         MERO_GROUP_ERROR_UNAUTHORIZED);
  /* read-only members may leave */
  do_op (f, test_op_member (MERO_GROUP_OP_LEAVE, NULL, 0, 0), &f->a, 0);
  g_assert_null (mero_group_state_member (state (f), f->a.pk));
  do_op (f, test_op_member (MERO_GROUP_OP_LEAVE, NULL, 0, 0), &f->a, MERO_GROUP_ERROR_UNAUTHORIZED);
}

static void
test_capabilities (Fixture *f, gconstpointer data)
{
  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_MANAGE_MEMBERS, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, 0, 0);
  add (f, &f->owner, &f->c, MERO_GROUP_ROLE_ADMIN, 0, 0);
  /* a manager grants only what it holds, and never to admins or the owner */
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->b.pk, 0, MERO_GROUP_CAP_INVITE),
         &f->a, MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->b.pk, 0, MERO_GROUP_CAP_MANAGE_MEMBERS),
         &f->a, 0);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->c.pk, 0, 0), &f->a,
         MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->owner.pk, 0, 0), &f->c,
         MERO_GROUP_ERROR_OWNER_IMMUTABLE);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_CAPABILITIES, f->d.pk, 0, 0), &f->c,
         MERO_GROUP_ERROR_NOT_MEMBER);
  g_assert_cmpuint (mero_group_state_capabilities (state (f), f->b.pk), ==,
                    MERO_GROUP_CAP_MANAGE_MEMBERS);
}

static void
test_contexts_metadata_rotate (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) contexts = NULL;
  g_autoptr (MeroGroupOp) meta = mero_group_op_new (MERO_GROUP_OP_SET_METADATA);
  guint8 ctx[32];

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_CREATE_CONTEXT, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_MANAGE_APPLICATION, 0);
  do_op (f, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 2), &f->b, MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 2), &f->a, 0);
  do_op (f, test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 3), &f->a, MERO_GROUP_ERROR_CONFLICT);
  memset (ctx, 1, 32);
  g_assert_cmpuint (mero_group_state_context_application (state (f), ctx)[0], ==, 2);
  do_op (f, test_op_context (MERO_GROUP_OP_DETACH_CONTEXT, 1, 0), &f->a, MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_context (MERO_GROUP_OP_DETACH_CONTEXT, 1, 0), &f->b, 0);
  do_op (f, test_op_context (MERO_GROUP_OP_DETACH_CONTEXT, 1, 0), &f->b, MERO_GROUP_ERROR_CONFLICT);
  contexts = mero_group_state_contexts (state (f));
  g_assert_cmpuint (contexts->len, ==, 0);

  g_bytes_unref (meta->metadata);
  meta->metadata = g_bytes_new_static ("hello", 5);
  do_op (f, g_steal_pointer (&meta), &f->a, MERO_GROUP_ERROR_UNAUTHORIZED);
  meta = mero_group_op_new (MERO_GROUP_OP_SET_METADATA);
  g_bytes_unref (meta->metadata);
  meta->metadata = g_bytes_new_static ("hello", 5);
  do_op (f, g_steal_pointer (&meta), &f->owner, 0);
  g_assert_cmpuint (g_bytes_get_size (mero_group_state_metadata (state (f))), ==, 5);

  do_op (f, test_op_rotate (state (f), NULL), &f->a, MERO_GROUP_ERROR_UNAUTHORIZED);
  do_op (f, test_op_rotate (state (f), NULL), &f->owner, 0);
}

static void
test_replay (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) op = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 5, 5);
  g_autoptr (GBytes) enc = test_author (f->dag, op, &f->owner);
  g_autoptr (MeroGroupOp) op2 = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 6, 6);
  g_autoptr (GBytes) enc2 = NULL;
  g_autoptr (GArray) heads = NULL;

  test_receive (f->dag, enc, OK, 0);
  /* the same op again: a duplicate, no effect */
  test_receive (f->dag, enc, MERO_GROUP_RECEIVE_DUPLICATE, 0);
  /* a new op reusing the nonce (or an older one) is a replay */
  heads = mero_group_dag_heads (f->dag);
  enc2 = test_sign (op2, &f->owner, f->group, (const guint8 *) heads->data, heads->len, op->nonce, 1000);
  test_receive (f->dag, enc2, 0, MERO_GROUP_ERROR_REPLAY);
  g_clear_pointer (&enc2, g_bytes_unref);
  enc2 = test_sign (op2, &f->owner, f->group, (const guint8 *) heads->data, heads->len, 1, 1000);
  test_receive (f->dag, enc2, 0, MERO_GROUP_ERROR_REPLAY);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_GROUP_DROPPED_METRIC,
                                              "reason=\"replay\""), ==, 2);
}

static void
test_forged (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) op = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 5, 5);
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GBytes) bad = NULL;
  g_autoptr (GBytes) other_group = NULL;
  guint8 g2[32];

  mero_group_dag_author (f->dag, op, f->owner.sk, 1000);
  op->signature[10] ^= 1;
  bad = mero_group_op_encode (op);
  test_receive (f->dag, bad, 0, MERO_GROUP_ERROR_BAD_SIGNATURE);
  /* a member's op signed by someone else's key claiming to be the owner */
  memcpy (op->signer, f->owner.pk, 32);
  mero_group_dag_author (f->dag, op, f->a.sk, 1000);
  memcpy (op->signer, f->owner.pk, 32);
  enc = mero_group_op_encode (op);
  test_receive (f->dag, enc, 0, MERO_GROUP_ERROR_BAD_SIGNATURE);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_GROUP_DROPPED_METRIC,
                                              "reason=\"bad_signature\""), ==, 2);
  memset (g2, 1, 32);
  other_group = test_sign (op, &f->owner, g2, f->create_id, 1, 50, 200);
  test_receive (f->dag, other_group, 0, MERO_GROUP_ERROR_WRONG_GROUP);
}

static GBytes *
join (Fixture *f, const TestIdentity *joiner, const MeroGroupInvitation *inv, guint64 ts)
{
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_JOIN);
  g_autoptr (GArray) heads = mero_group_dag_heads (f->dag);

  op->invitation = *inv;
  return test_sign (op, joiner, f->group, (const guint8 *) heads->data, heads->len, 1, ts);
}

static void
make_invitation (Fixture *f, MeroGroupInvitation *inv, const TestIdentity *inviter,
                 MeroGroupRole role, guint64 expiry, const TestIdentity *invitee, guint8 nonce)
{
  memset (inv, 0, sizeof *inv);
  memcpy (inv->group_id, f->group, 32);
  inv->role = role;
  inv->expiry_ms = expiry;
  memset (inv->nonce, nonce, 32);
  if (invitee != NULL)
    {
      inv->has_invitee = TRUE;
      memcpy (inv->invitee, invitee->pk, 32);
    }
  mero_group_invitation_sign (inv, inviter->sk);
}

static void
test_invitation (Fixture *f, gconstpointer data)
{
  MeroGroupInvitation inv;
  g_autoptr (GBytes) j = NULL;

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, MERO_GROUP_CAP_INVITE, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, 0, 0);

  /* valid: a (INVITE) invites anyone as member until t=5000 */
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_MEMBER, 5000, NULL, 1);
  j = join (f, &f->c, &inv, 2000);
  test_receive (f->dag, j, OK, 0);
  g_assert_cmpuint (mero_group_state_member (state (f), f->c.pk)->role, ==, MERO_GROUP_ROLE_MEMBER);
  /* reused by someone else */
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_INVITATION_REUSED);
  /* expired */
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_MEMBER, 1500, NULL, 2);
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_INVITATION_EXPIRED);
  /* forged: role changed after signing */
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_MEMBER, 5000, NULL, 3);
  inv.role = MERO_GROUP_ROLE_ADMIN;
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_INVITATION_FORGED);
  /* b lacks INVITE */
  make_invitation (f, &inv, &f->b, MERO_GROUP_ROLE_MEMBER, 5000, NULL, 4);
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  /* a member may not invite an admin */
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_ADMIN, 5000, NULL, 5);
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  /* named invitee only */
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_MEMBER, 5000, &f->c, 6);
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, 0, MERO_GROUP_ERROR_UNAUTHORIZED);
  make_invitation (f, &inv, &f->a, MERO_GROUP_ROLE_READ_ONLY, 5000, &f->d, 7);
  g_clear_pointer (&j, g_bytes_unref);
  j = join (f, &f->d, &inv, 2000);
  test_receive (f->dag, j, OK, 0);
  g_assert_false (mero_group_state_can_write (state (f), f->d.pk));
}

/* A removed member holds every key up to its removal and none after. */
static void
test_removed_cannot_decrypt (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupDag) a_view = mero_group_dag_open (NULL, f->group, f->metrics, NULL);
  g_autoptr (MeroGroupDag) b_view = mero_group_dag_open (NULL, f->group, f->metrics, NULL);
  g_autoptr (MeroGroupOp) remove = NULL;
  g_autoptr (MeroGroupOp) rotate = NULL;
  g_autoptr (GBytes) enc_remove = NULL;
  g_autoptr (GBytes) enc_rotate = NULL;
  g_autoptr (GPtrArray) all = NULL;
  guint8 new_key[32], later_key[32], kid[32], key[32];

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_MEMBER, 0, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_MEMBER, 0, 0);
  remove = test_op_remove (state (f), f->a.pk, new_key);
  enc_remove = test_author (f->dag, remove, &f->owner);
  test_receive (f->dag, enc_remove, OK, 0);
  rotate = test_op_rotate (state (f), later_key);
  enc_rotate = test_author (f->dag, rotate, &f->owner);
  test_receive (f->dag, enc_rotate, OK, 0);

  g_assert_true (mero_group_dag_set_identity (a_view, f->a.sk, NULL));
  g_assert_true (mero_group_dag_set_identity (b_view, f->b.sk, NULL));
  all = mero_group_dag_ops_for_peer (f->dag, NULL, 0, 1000);
  for (guint i = 0; i < all->len; i++)
    {
      test_receive (a_view, g_ptr_array_index (all, i), OK, 0);
      test_receive (b_view, g_ptr_array_index (all, i), OK, 0);
    }
  /* a had key0 */
  mero_group_key_id (f->key0, kid);
  g_assert_true (mero_group_dag_key (a_view, kid, key));
  g_assert_cmpmem (key, 32, f->key0, 32);
  /* but neither the key of its removal nor any later one */
  g_assert_false (mero_group_dag_current_key (a_view, kid, key));
  mero_group_key_id (new_key, kid);
  g_assert_false (mero_group_dag_key (a_view, kid, key));
  for (guint i = 0; i < remove->envelopes->len; i++)
    g_assert_false (mero_group_envelope_open (&g_array_index (remove->envelopes, MeroGroupEnvelope, i),
                                              f->a.sk, remove->key_id, key, NULL));
  for (guint i = 0; i < rotate->envelopes->len; i++)
    g_assert_false (mero_group_envelope_open (&g_array_index (rotate->envelopes, MeroGroupEnvelope, i),
                                              f->a.sk, rotate->key_id, key, NULL));
  /* b, who stayed, holds both */
  g_assert_true (mero_group_dag_key (b_view, kid, key));
  g_assert_cmpmem (key, 32, new_key, 32);
  g_assert_true (mero_group_dag_current_key (b_view, kid, key));
  g_assert_cmpmem (key, 32, later_key, 32);
}

/* Feeds @ops (GBytes*) in the given order into a fresh replica and
 * returns its state digest. */
static void
replica_digest (Fixture *f, GBytes **ops, guint n, const guint *order, guint8 out[32],
                MeroGroupDag **keep)
{
  g_autoptr (MeroGroupDag) r = mero_group_dag_open (NULL, f->group, f->metrics, NULL);
  g_autoptr (GPtrArray) all = mero_group_dag_ops_for_peer (f->dag, NULL, 0, 10000);

  for (guint i = 0; i < all->len; i++)
    test_receive (r, g_ptr_array_index (all, i), OK, 0);
  for (guint i = 0; i < n; i++)
    {
      MeroGroupReceiveResult res;
      GBytes *b = ops[order[i]];
      g_assert_true (mero_group_dag_receive (r, g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                             1000, &res, NULL, NULL));
    }
  mero_group_state_digest (mero_group_dag_state (r), out);
  if (keep != NULL)
    *keep = g_steal_pointer (&r);
}

static void
test_admins_remove_each_other (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) heads = NULL;
  g_autoptr (MeroGroupOp) x = NULL;
  g_autoptr (MeroGroupOp) y = NULL;
  GBytes *ops[2];
  const guint fwd[] = { 0, 1 }, rev[] = { 1, 0 };
  guint8 d1[32], d2[32];
  g_autoptr (MeroGroupDag) r = NULL;
  const MeroGroupOp *winner;

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_ADMIN, 0, 0);
  add (f, &f->owner, &f->b, MERO_GROUP_ROLE_ADMIN, 0, 0);
  heads = mero_group_dag_heads (f->dag);
  x = test_op_remove (state (f), f->b.pk, NULL);
  y = test_op_remove (state (f), f->a.pk, NULL);
  ops[0] = test_sign (x, &f->a, f->group, (const guint8 *) heads->data, heads->len, 1, 5000);
  ops[1] = test_sign (y, &f->b, f->group, (const guint8 *) heads->data, heads->len, 1, 5000);
  replica_digest (f, ops, 2, fwd, d1, NULL);
  replica_digest (f, ops, 2, rev, d2, &r);
  g_assert_cmpmem (d1, 32, d2, 32);
  /* Same depth: the smaller op id sorts first and wins; the other signer
   * was no longer an admin at its position. */
  winner = memcmp (x->id, y->id, 32) < 0 ? x : y;
  g_assert_true (mero_group_dag_op_effective (r, winner->id));
  g_assert_false (mero_group_dag_op_effective (r, (winner == x ? y : x)->id));
  g_assert_null (mero_group_state_member (mero_group_dag_state (r), winner->member));
  g_assert_nonnull (mero_group_state_member (mero_group_dag_state (r), winner->signer));
  g_assert_cmpmem (mero_group_state_key_id (mero_group_dag_state (r)), 32, winner->key_id, 32);
  g_bytes_unref (ops[0]);
  g_bytes_unref (ops[1]);
}

static void
test_removed_while_adding (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) heads = NULL;
  g_autoptr (MeroGroupOp) rm = NULL;
  g_autoptr (MeroGroupOp) ad = NULL;
  GBytes *ops[2];
  const guint fwd[] = { 0, 1 }, rev[] = { 1, 0 };
  guint8 d1[32], d2[32];
  g_autoptr (MeroGroupDag) r = NULL;
  gboolean add_first;

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_ADMIN, 0, 0);
  heads = mero_group_dag_heads (f->dag);
  rm = test_op_remove (state (f), f->a.pk, NULL);
  ad = test_op_add (f->c.pk, MERO_GROUP_ROLE_MEMBER, 0, f->key0);
  ops[0] = test_sign (rm, &f->owner, f->group, (const guint8 *) heads->data, heads->len, 10, 5000);
  ops[1] = test_sign (ad, &f->a, f->group, (const guint8 *) heads->data, heads->len, 1, 5000);
  replica_digest (f, ops, 2, fwd, d1, NULL);
  replica_digest (f, ops, 2, rev, d2, &r);
  g_assert_cmpmem (d1, 32, d2, 32);
  add_first = memcmp (ad->id, rm->id, 32) < 0;
  g_assert_cmpint (mero_group_state_member (mero_group_dag_state (r), f->c.pk) != NULL, ==, add_first);
  g_assert_null (mero_group_state_member (mero_group_dag_state (r), f->a.pk));
  g_bytes_unref (ops[0]);
  g_bytes_unref (ops[1]);
}

/* Authority comes from the op's causal past, not the receiver's state:
 * a promotion the signer had not seen does not authorize its op. */
static void
test_authorized_at_cut (Fixture *f, gconstpointer data)
{
  g_autoptr (GArray) old_heads = NULL;
  g_autoptr (GArray) mid_heads = NULL;
  g_autoptr (MeroGroupOp) early = NULL;
  g_autoptr (GBytes) enc = NULL;
  g_autoptr (GError) error = NULL;
  gboolean can = FALSE;
  guint8 unknown[32];

  add (f, &f->owner, &f->a, MERO_GROUP_ROLE_READ_ONLY, 0, 0);
  old_heads = mero_group_dag_heads (f->dag);
  do_op (f, test_op_member (MERO_GROUP_OP_SET_ROLE, f->a.pk, MERO_GROUP_ROLE_ADMIN, 0), &f->owner, 0);
  /* a is an admin now, but this op cites the cut where it was read-only */
  early = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 9, 9);
  enc = test_sign (early, &f->a, f->group, (const guint8 *) old_heads->data, old_heads->len, 1, 5000);
  test_receive (f->dag, enc, 0, MERO_GROUP_ERROR_UNAUTHORIZED);

  /* the node's question: was a a writer at cut H? */
  g_assert_true (mero_group_dag_can_write_at (f->dag, f->a.pk, (const guint8 *) old_heads->data,
                                              old_heads->len, &can, &error));
  g_assert_false (can);
  mid_heads = mero_group_dag_heads (f->dag);
  g_assert_true (mero_group_dag_can_write_at (f->dag, f->a.pk, (const guint8 *) mid_heads->data,
                                              mid_heads->len, &can, &error));
  g_assert_true (can);
  do_op (f, test_op_remove (state (f), f->a.pk, NULL), &f->owner, 0);
  g_assert_true (mero_group_dag_can_write_at (f->dag, f->a.pk, (const guint8 *) mid_heads->data,
                                              mid_heads->len, &can, &error));
  g_assert_true (can);
  g_assert_false (mero_group_state_can_write (state (f), f->a.pk));
  memset (unknown, 0x77, 32);
  g_assert_false (mero_group_dag_can_write_at (f->dag, f->a.pk, unknown, 1, &can, &error));
  g_assert_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_UNKNOWN_CUT);
}

static void
test_pending (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) p = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 1);
  g_autoptr (GBytes) enc_p = test_author (f->dag, p, &f->owner);
  g_autoptr (MeroGroupOp) c = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 2, 2);
  g_autoptr (GBytes) enc_c = test_sign (c, &f->owner, f->group, p->id, 1, p->nonce + 1, 1000);
  g_autoptr (GArray) missing = NULL;
  g_autoptr (MeroGroupMutation) m = mero_group_mutation_new ();

  test_receive (f->dag, enc_c, MERO_GROUP_RECEIVE_PENDING, 0);
  test_receive (f->dag, enc_c, MERO_GROUP_RECEIVE_DUPLICATE, 0);
  missing = mero_group_dag_missing (f->dag);
  g_assert_cmpuint (missing->len, ==, 1);
  g_assert_cmpmem (missing->data, 32, p->id, 32);
  test_receive (f->dag, enc_p, OK, 0);
  g_assert_cmpuint (mero_group_dag_n_pending (f->dag), ==, 0);
  g_assert_true (mero_group_dag_has_op (f->dag, c->id));
  g_assert_true (mero_group_dag_op_effective (f->dag, c->id));

  /* Bounded: MERO_GROUP_PENDING_MAX orphans wait, the next is dropped and counted. */
  for (guint i = 0; i <= MERO_GROUP_PENDING_MAX; i++)
    {
      g_autoptr (MeroGroupOp) o = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 3, 3);
      g_autoptr (GBytes) enc = NULL;
      guint8 parent[32];

      memset (parent, 0, 32);
      memcpy (parent, &i, sizeof i);
      parent[31] = 0xee;
      enc = test_sign (o, &f->owner, f->group, parent, 1, 100 + i, 1000);
      test_receive (f->dag, enc, MERO_GROUP_RECEIVE_PENDING,
                    i < MERO_GROUP_PENDING_MAX ? 0 : MERO_GROUP_ERROR_LIMIT);
    }
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_GROUP_DROPPED_METRIC,
                                              "reason=\"pending_full\""), ==, 1);
  g_clear_pointer (&missing, g_array_unref);
  missing = mero_group_dag_missing (f->dag);
  g_assert_cmpuint (missing->len, ==, MERO_GROUP_MISSING_MAX);
  /* Bounded in age too. */
  g_assert_cmpuint (mero_group_dag_expire_pending (f->dag, 1000 + MERO_GROUP_PENDING_MAX_AGE_MS), ==, 0);
  g_assert_cmpuint (mero_group_dag_expire_pending (f->dag, 1001 + MERO_GROUP_PENDING_MAX_AGE_MS), ==,
                    MERO_GROUP_PENDING_MAX);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_GROUP_DROPPED_METRIC,
                                              "reason=\"pending_expired\""), ==, MERO_GROUP_PENDING_MAX);
  g_assert_cmpuint (mero_group_dag_n_pending (f->dag), ==, 0);

  /* Mutation report of an accepted op. */
  {
    g_autoptr (MeroGroupOp) a = test_op_add (f->a.pk, MERO_GROUP_ROLE_MEMBER, 0, f->key0);
    g_autoptr (GBytes) enc = test_author (f->dag, a, &f->owner);
    g_assert_true (mero_group_dag_receive (f->dag, g_bytes_get_data (enc, NULL),
                                           g_bytes_get_size (enc), 1000, NULL, m, NULL));
    g_assert_cmpuint (m->added->len, ==, 1);
    g_assert_cmpmem (m->added->data, 32, f->a.pk, 32);
  }
}

static void
test_timestamp (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroGroupOp) op = test_op_context (MERO_GROUP_OP_REGISTER_CONTEXT, 1, 1);
  /* the create op has timestamp 100 */
  g_autoptr (GBytes) enc = test_sign (op, &f->owner, f->group, f->create_id, 1, 2, 99);

  test_receive (f->dag, enc, 0, MERO_GROUP_ERROR_BAD_TIMESTAMP);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
#define T(path, fn) g_test_add ("/group/rules/" path, Fixture, NULL, setup, fn, teardown)
  T ("create", test_create);
  T ("add-member", test_add_member);
  T ("remove-member", test_remove_member);
  T ("roles", test_roles);
  T ("capabilities", test_capabilities);
  T ("contexts-metadata-rotate", test_contexts_metadata_rotate);
  T ("replay", test_replay);
  T ("forged", test_forged);
  T ("invitation", test_invitation);
  T ("removed-cannot-decrypt", test_removed_cannot_decrypt);
  T ("admins-remove-each-other", test_admins_remove_each_other);
  T ("removed-while-adding", test_removed_while_adding);
  T ("authorized-at-cut", test_authorized_at_cut);
  T ("pending", test_pending);
  T ("timestamp", test_timestamp);
#undef T
  return g_test_run ();
}
