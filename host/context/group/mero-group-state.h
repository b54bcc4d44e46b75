/* mero-group-state.h: the governance state of one group and the rules
 * that decide whether an op may change it.
 *
 * A state is the fold of a set of ops (see mero-group-dag.h for which set
 * and in what order).  mero_group_state_check() is the authorization rule
 * book; mero_group_state_apply() the effect of an op that passed it.
 *
 * Rules (an op that breaks one has no effect):
 *   - every op but CREATE_GROUP and JOIN is signed by a member; its nonce
 *     must exceed the signer's last applied nonce (replays, reuse);
 *   - admins hold every capability; read-only members may only LEAVE;
 *   - ADD_MEMBER: MANAGE_MEMBERS; only admins add admins; a non-admin
 *     grants only capabilities it holds itself;
 *   - REMOVE_MEMBER: admin, or MANAGE_MEMBERS for a non-admin target;
 *     it rotates the key (new key id, envelopes for everyone else);
 *   - SET_ROLE: admin; SET_CAPABILITIES: admin, or MANAGE_MEMBERS for a
 *     non-admin target granting only held capabilities;
 *   - the owner cannot be removed, leave, or have its role or
 *     capabilities changed; the last admin cannot be demoted or removed;
 *   - REGISTER_CONTEXT: CREATE_CONTEXT; DETACH_CONTEXT: MANAGE_APPLICATION;
 *     ROTATE_KEY: MANAGE_MEMBERS; SET_METADATA: admin;
 *   - JOIN: invitation for this group, signed by a member holding INVITE
 *     (admin invitations only from admins), op timestamp <= expiry, signer
 *     = invitee when one is named, each invitation redeemed once.
 *   - SET_TEE_POLICY: admin.  ADMIT_TEE: admin, a policy is set, the
 *     quote hash was never admitted before, the node is not a member;
 *     it joins read-only with no capabilities (envelope as ADD_MEMBER).
 * With @at_cut (the state of the op's own causal past, i.e. what its
 * signer saw) the key material is checked too: an ADD_MEMBER envelope is
 * for the new member under the current key id; ROTATE_KEY / REMOVE_MEMBER
 * envelopes cover exactly the (remaining) members; new member keys are
 * valid Ed25519 points. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-op.h"

G_BEGIN_DECLS

typedef struct _MeroGroupState MeroGroupState;

typedef struct {
  guint8 role;
  guint32 capabilities;
} MeroGroupMember;

/* Whose membership an applied op changed, for GroupMutationNotification.
 * Each array holds guint8[32] member keys. */
typedef struct {
  GArray *added;
  GArray *removed;
  GArray *changed;
} MeroGroupMutation;

MeroGroupMutation *mero_group_mutation_new (void);
void mero_group_mutation_free (MeroGroupMutation *mutation);   /* NULL-safe */
gboolean mero_group_mutation_is_empty (const MeroGroupMutation *mutation);

MeroGroupState *mero_group_state_new (void);
MeroGroupState *mero_group_state_copy (const MeroGroupState *state);
void mero_group_state_free (MeroGroupState *state);   /* NULL-safe */

gboolean mero_group_state_check (const MeroGroupState *state, const MeroGroupOp *op,
                                 gboolean at_cut, GError **error);
/* Applies an op that passed mero_group_state_check(); records member
 * changes in @mutation when it is not NULL. */
void mero_group_state_apply (MeroGroupState *state, const MeroGroupOp *op,
                             MeroGroupMutation *mutation);

/* Member changes between two states, each list sorted. */
void mero_group_state_diff (const MeroGroupState *before, const MeroGroupState *after,
                            MeroGroupMutation *mutation);

/* Queries. */
gboolean mero_group_state_is_created (const MeroGroupState *state);
const guint8 *mero_group_state_owner (const MeroGroupState *state);
const guint8 *mero_group_state_group_id (const MeroGroupState *state);
/* (transfer none) NULL if @member is not a member. */
const MeroGroupMember *mero_group_state_member (const MeroGroupState *state,
                                                const guint8 member[MERO_GROUP_KEY_LEN]);
/* A member whose role is admin or member (read-only members cannot). */
gboolean mero_group_state_can_write (const MeroGroupState *state,
                                     const guint8 member[MERO_GROUP_KEY_LEN]);
/* Effective capabilities (all for admins, none for read-only). */
guint32 mero_group_state_capabilities (const MeroGroupState *state,
                                       const guint8 member[MERO_GROUP_KEY_LEN]);
guint mero_group_state_n_members (const MeroGroupState *state);
/* (transfer container) guint8[32] member keys, sorted. */
GArray *mero_group_state_members (const MeroGroupState *state);
/* (transfer container) pairs: guint8[64] = context id || application id, sorted. */
GArray *mero_group_state_contexts (const MeroGroupState *state);
/* (transfer none) NULL if @context is not registered. */
const guint8 *mero_group_state_context_application (const MeroGroupState *state,
                                                    const guint8 context[MERO_GROUP_ID_LEN]);
const guint8 *mero_group_state_key_id (const MeroGroupState *state);
GBytes *mero_group_state_metadata (const MeroGroupState *state);  /* transfer none */
/* (transfer none) NULL until an admin set one. */
const MeroGroupTeePolicy *mero_group_state_tee_policy (const MeroGroupState *state);
/* Whether an ADMIT_TEE op already used this quote (the replay guard). */
gboolean mero_group_state_tee_quote_admitted (const MeroGroupState *state,
                                              const guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN]);
guint64 mero_group_state_nonce (const MeroGroupState *state, const guint8 signer[MERO_GROUP_KEY_LEN]);
/* sha256 over a canonical rendering of everything above (members,
 * roles, capabilities, contexts, key id, metadata, nonces, redeemed
 * invitations): equal digests mean equal states. */
void mero_group_state_digest (const MeroGroupState *state, guint8 out[MERO_GROUP_ID_LEN]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGroupState, mero_group_state_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGroupMutation, mero_group_mutation_free)

G_END_DECLS
