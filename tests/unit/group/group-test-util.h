/* group-test-util.h: identities and op builders for the group tests. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-dag.h"
#include "context/group/mero-group-envelope.h"

G_BEGIN_DECLS

typedef struct {
  guint8 pk[MERO_GROUP_KEY_LEN];
  guint8 sk[MERO_GROUP_SECRET_LEN];
} TestIdentity;

/* A deterministic Ed25519 identity from @seed. */
void test_identity (TestIdentity *id, guint32 seed);

/* Bodies (unsigned).  Envelope-carrying builders seal a fresh key (written
 * to @key_out when not NULL) to the right members of @cut. */
MeroGroupOp *test_op_create (const TestIdentity *owner, guint8 key_out[MERO_GROUP_GROUP_KEY_LEN]);
MeroGroupOp *test_op_add (const guint8 member[MERO_GROUP_KEY_LEN], MeroGroupRole role,
                          guint32 caps, const guint8 key[MERO_GROUP_GROUP_KEY_LEN]);
MeroGroupOp *test_op_remove (const MeroGroupState *cut, const guint8 member[MERO_GROUP_KEY_LEN],
                             guint8 key_out[MERO_GROUP_GROUP_KEY_LEN]);
MeroGroupOp *test_op_rotate (const MeroGroupState *cut, guint8 key_out[MERO_GROUP_GROUP_KEY_LEN]);
MeroGroupOp *test_op_member (MeroGroupOpKind kind, const guint8 member[MERO_GROUP_KEY_LEN],
                             guint8 role, guint32 caps);
MeroGroupOp *test_op_context (MeroGroupOpKind kind, guint8 ctx_fill, guint8 app_fill);

/* Signs @op for @group with explicit parents (n ids), nonce and time. */
GBytes *test_sign (MeroGroupOp *op, const TestIdentity *signer, const guint8 group[MERO_GROUP_ID_LEN],
                   const guint8 *parents, guint n_parents, guint64 nonce, guint64 ts);
/* Signs through mero_group_dag_author (current heads, next nonce). */
GBytes *test_author (MeroGroupDag *dag, MeroGroupOp *op, const TestIdentity *signer);

/* Receives and asserts the outcome: ACCEPTED/PENDING/DUPLICATE, or, for
 * @expect_error != 0, that it was refused with that MERO_GROUP_ERROR code. */
void test_receive (MeroGroupDag *dag, GBytes *op, MeroGroupReceiveResult expect, int expect_error);

void test_state_digest (const MeroGroupState *state, guint8 out[MERO_GROUP_ID_LEN]);
char *test_hex (const guint8 *data, gsize len);

G_END_DECLS
