/* mero-group-state.c: governance state and its rule book. */
#include "context/group/mero-group-state.h"

#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-envelope.h"
#include "context/group/mero-group-limits.h"
#include "crypto/mero-sha256.h"

#define ID MERO_GROUP_ID_LEN

struct _MeroGroupState {
  gboolean created;
  guint8 group_id[ID];
  guint8 owner[ID];
  guint8 key_id[ID];
  GBytes *metadata;
  guint n_admins;
  GHashTable *members;      /* guint8[32] -> MeroGroupMember */
  GHashTable *contexts;     /* guint8[32] -> guint8[32] application */
  GHashTable *nonces;       /* guint8[32] -> guint64 */
  GHashTable *invitations;  /* guint8[32] redeemed invitation ids (set) */
  MeroGroupTeePolicy *tee_policy;  /* NULL until SET_TEE_POLICY */
  GHashTable *tee_quotes;   /* guint8[32] admitted quote hashes (set) */
};

/* Member keys and context ids are chosen by peers: hash them with SipHash
 * under a per-process random key, so nobody can aim for collisions. */
static guint
id_hash (gconstpointer key)
{
  static guint8 sip_key[crypto_shorthash_KEYBYTES];
  static gsize init = 0;
  guint8 out[crypto_shorthash_BYTES];
  guint h;

  if (g_once_init_enter (&init))
    {
      randombytes_buf (sip_key, sizeof sip_key);
      g_once_init_leave (&init, 1);
    }
  crypto_shorthash (out, key, ID, sip_key);
  memcpy (&h, out, sizeof h);
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID) == 0;
}

static GHashTable *
id_table (void)
{
  return g_hash_table_new_full (id_hash, id_equal, g_free, g_free);
}

static void
table_copy_into (GHashTable *dst, GHashTable *src, gsize value_size)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, src);
  while (g_hash_table_iter_next (&it, &k, &v))
    if (value_size == 0)
      g_hash_table_add (dst, g_memdup2 (k, ID));
    else
      g_hash_table_insert (dst, g_memdup2 (k, ID), g_memdup2 (v, value_size));
}

MeroGroupMutation *
mero_group_mutation_new (void)
{
  MeroGroupMutation *m = g_new0 (MeroGroupMutation, 1);

  m->added = g_array_new (FALSE, FALSE, ID);
  m->removed = g_array_new (FALSE, FALSE, ID);
  m->changed = g_array_new (FALSE, FALSE, ID);
  return m;
}

void
mero_group_mutation_free (MeroGroupMutation *mutation)
{
  if (mutation == NULL)
    return;
  g_clear_pointer (&mutation->added, g_array_unref);
  g_clear_pointer (&mutation->removed, g_array_unref);
  g_clear_pointer (&mutation->changed, g_array_unref);
  g_free (mutation);
}

gboolean
mero_group_mutation_is_empty (const MeroGroupMutation *mutation)
{
  return mutation->added->len == 0 && mutation->removed->len == 0
         && mutation->changed->len == 0;
}

MeroGroupState *
mero_group_state_new (void)
{
  MeroGroupState *s = g_new0 (MeroGroupState, 1);

  s->metadata = g_bytes_new (NULL, 0);
  s->members = id_table ();
  s->contexts = id_table ();
  s->nonces = id_table ();
  s->invitations = g_hash_table_new_full (id_hash, id_equal, g_free, NULL);
  s->tee_quotes = g_hash_table_new_full (id_hash, id_equal, g_free, NULL);
  return s;
}

MeroGroupState *
mero_group_state_copy (const MeroGroupState *state)
{
  MeroGroupState *s = mero_group_state_new ();

  g_return_val_if_fail (state != NULL, s);
  s->created = state->created;
  memcpy (s->group_id, state->group_id, ID);
  memcpy (s->owner, state->owner, ID);
  memcpy (s->key_id, state->key_id, ID);
  g_bytes_unref (s->metadata);
  s->metadata = g_bytes_ref (state->metadata);
  s->n_admins = state->n_admins;
  table_copy_into (s->members, state->members, sizeof (MeroGroupMember));
  table_copy_into (s->contexts, state->contexts, ID);
  table_copy_into (s->nonces, state->nonces, sizeof (guint64));
  table_copy_into (s->invitations, state->invitations, 0);
  table_copy_into (s->tee_quotes, state->tee_quotes, 0);
  if (state->tee_policy != NULL)
    s->tee_policy = g_memdup2 (state->tee_policy, sizeof *state->tee_policy);
  return s;
}

void
mero_group_state_free (MeroGroupState *state)
{
  if (state == NULL)
    return;
  g_bytes_unref (state->metadata);
  g_hash_table_unref (state->members);
  g_hash_table_unref (state->contexts);
  g_hash_table_unref (state->nonces);
  g_hash_table_unref (state->invitations);
  g_hash_table_unref (state->tee_quotes);
  g_free (state->tee_policy);
  g_free (state);
}

static gboolean
refuse (GError **error, MeroGroupError code, const char *what)
{
  g_set_error (error, MERO_GROUP_ERROR, code, "group op refused: %s", what);
  return FALSE;
}

static gboolean
has_cap (const MeroGroupMember *m, guint32 cap)
{
  if (m == NULL || m->role == MERO_GROUP_ROLE_READ_ONLY)
    return FALSE;
  if (m->role == MERO_GROUP_ROLE_ADMIN)
    return TRUE;
  return (m->capabilities & cap) == cap;
}

static guint32
effective_caps (const MeroGroupMember *m)
{
  if (m == NULL || m->role == MERO_GROUP_ROLE_READ_ONLY)
    return 0;
  return m->role == MERO_GROUP_ROLE_ADMIN ? MERO_GROUP_CAP_ALL : m->capabilities;
}

static gboolean
is_admin (const MeroGroupMember *m)
{
  return m != NULL && m->role == MERO_GROUP_ROLE_ADMIN;
}

/* The envelopes cover exactly the members, minus @except if not NULL
 * (both sides are sets of distinct keys, so equal sizes + inclusion). */
static gboolean
envelopes_cover (const MeroGroupState *s, const MeroGroupOp *op, const guint8 *except)
{
  guint expected = g_hash_table_size (s->members) - (except != NULL ? 1 : 0);

  if (op->envelopes->len != expected)
    return FALSE;
  for (guint i = 0; i < op->envelopes->len; i++)
    {
      const guint8 *m = g_array_index (op->envelopes, MeroGroupEnvelope, i).member;
      if (!g_hash_table_contains (s->members, m) || (except != NULL && memcmp (m, except, ID) == 0))
        return FALSE;
    }
  return TRUE;
}

static gboolean
check_target (const MeroGroupState *s, const MeroGroupOp *op, const MeroGroupMember **target,
              GError **error)
{
  *target = g_hash_table_lookup (s->members, op->member);
  if (*target == NULL)
    return refuse (error, MERO_GROUP_ERROR_NOT_MEMBER, "target is not a member");
  if (memcmp (op->member, s->owner, ID) == 0)
    return refuse (error, MERO_GROUP_ERROR_OWNER_IMMUTABLE, "the owner cannot be changed");
  return TRUE;
}

static gboolean
check_join (const MeroGroupState *s, const MeroGroupOp *op, gboolean at_cut, GError **error)
{
  const MeroGroupInvitation *inv = &op->invitation;
  const MeroGroupMember *inviter;
  guint8 inv_id[ID];

  if (g_hash_table_contains (s->members, op->signer))
    return refuse (error, MERO_GROUP_ERROR_ALREADY_MEMBER, "joiner is already a member");
  if (memcmp (inv->group_id, s->group_id, ID) != 0)
    return refuse (error, MERO_GROUP_ERROR_WRONG_GROUP, "invitation is for another group");
  if (op->timestamp_ms > inv->expiry_ms)
    return refuse (error, MERO_GROUP_ERROR_INVITATION_EXPIRED, "invitation expired");
  if (inv->has_invitee && memcmp (inv->invitee, op->signer, ID) != 0)
    return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "invitation names another invitee");
  inviter = g_hash_table_lookup (s->members, inv->inviter);
  if (!has_cap (inviter, MERO_GROUP_CAP_INVITE))
    return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "inviter lacks the invite capability");
  if (inv->role == MERO_GROUP_ROLE_ADMIN && !is_admin (inviter))
    return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins invite admins");
  mero_group_invitation_id (inv, inv_id);
  if (g_hash_table_contains (s->invitations, inv_id))
    return refuse (error, MERO_GROUP_ERROR_INVITATION_REUSED, "invitation already redeemed");
  if (g_hash_table_size (s->members) >= MERO_GROUP_MAX_MEMBERS)
    return refuse (error, MERO_GROUP_ERROR_LIMIT, "group is full");
  if (at_cut && !mero_group_member_key_valid (op->signer))
    return refuse (error, MERO_GROUP_ERROR_MALFORMED, "joiner key is not a valid point");
  return TRUE;
}

static gboolean
check_body (const MeroGroupState *s, const MeroGroupOp *op, const MeroGroupMember *signer,
            gboolean at_cut, GError **error)
{
  const MeroGroupMember *target = NULL;

  switch (op->kind)
    {
    case MERO_GROUP_OP_ADD_MEMBER:
      if (!has_cap (signer, MERO_GROUP_CAP_MANAGE_MEMBERS))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer may not manage members");
      if (op->role == MERO_GROUP_ROLE_ADMIN && !is_admin (signer))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins add admins");
      if ((op->capabilities & ~effective_caps (signer)) != 0)
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "cannot grant capabilities not held");
      if (g_hash_table_contains (s->members, op->member))
        return refuse (error, MERO_GROUP_ERROR_ALREADY_MEMBER, "already a member");
      if (g_hash_table_size (s->members) >= MERO_GROUP_MAX_MEMBERS)
        return refuse (error, MERO_GROUP_ERROR_LIMIT, "group is full");
      if (at_cut
          && (memcmp (g_array_index (op->envelopes, MeroGroupEnvelope, 0).member, op->member, ID) != 0
              || memcmp (op->key_id, s->key_id, ID) != 0))
        return refuse (error, MERO_GROUP_ERROR_BAD_ENVELOPES,
                       "envelope is not the current key for the new member");
      if (at_cut && !mero_group_member_key_valid (op->member))
        return refuse (error, MERO_GROUP_ERROR_MALFORMED, "member key is not a valid point");
      return TRUE;
    case MERO_GROUP_OP_REMOVE_MEMBER:
      if (!check_target (s, op, &target, error))
        return FALSE;
      if (!is_admin (signer)
          && !(has_cap (signer, MERO_GROUP_CAP_MANAGE_MEMBERS) && !is_admin (target)))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer may not remove this member");
      if (is_admin (target) && s->n_admins <= 1)
        return refuse (error, MERO_GROUP_ERROR_LAST_ADMIN, "cannot remove the last admin");
      if (at_cut && !envelopes_cover (s, op, op->member))
        return refuse (error, MERO_GROUP_ERROR_BAD_ENVELOPES,
                       "new key not sealed to exactly the remaining members");
      return TRUE;
    case MERO_GROUP_OP_LEAVE:
      if (memcmp (op->signer, s->owner, ID) == 0)
        return refuse (error, MERO_GROUP_ERROR_OWNER_IMMUTABLE, "the owner cannot leave");
      if (is_admin (signer) && s->n_admins <= 1)
        return refuse (error, MERO_GROUP_ERROR_LAST_ADMIN, "the last admin cannot leave");
      return TRUE;
    case MERO_GROUP_OP_SET_ROLE:
      if (!is_admin (signer))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins set roles");
      if (!check_target (s, op, &target, error))
        return FALSE;
      if (is_admin (target) && op->role != MERO_GROUP_ROLE_ADMIN && s->n_admins <= 1)
        return refuse (error, MERO_GROUP_ERROR_LAST_ADMIN, "cannot demote the last admin");
      return TRUE;
    case MERO_GROUP_OP_SET_CAPABILITIES:
      if (!check_target (s, op, &target, error))
        return FALSE;
      if (!is_admin (signer)
          && !(has_cap (signer, MERO_GROUP_CAP_MANAGE_MEMBERS) && !is_admin (target)
               && (op->capabilities & ~effective_caps (signer)) == 0))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED,
                       "signer may not set these capabilities");
      return TRUE;
    case MERO_GROUP_OP_REGISTER_CONTEXT:
      if (!has_cap (signer, MERO_GROUP_CAP_CREATE_CONTEXT))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer may not create contexts");
      if (g_hash_table_contains (s->contexts, op->context_id))
        return refuse (error, MERO_GROUP_ERROR_CONFLICT, "context already registered");
      if (g_hash_table_size (s->contexts) >= MERO_GROUP_MAX_CONTEXTS)
        return refuse (error, MERO_GROUP_ERROR_LIMIT, "too many contexts");
      return TRUE;
    case MERO_GROUP_OP_DETACH_CONTEXT:
      if (!has_cap (signer, MERO_GROUP_CAP_MANAGE_APPLICATION))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer may not detach contexts");
      if (!g_hash_table_contains (s->contexts, op->context_id))
        return refuse (error, MERO_GROUP_ERROR_CONFLICT, "context not registered");
      return TRUE;
    case MERO_GROUP_OP_ROTATE_KEY:
      if (!has_cap (signer, MERO_GROUP_CAP_MANAGE_MEMBERS))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer may not rotate the key");
      if (at_cut && !envelopes_cover (s, op, NULL))
        return refuse (error, MERO_GROUP_ERROR_BAD_ENVELOPES,
                       "new key not sealed to exactly the members");
      return TRUE;
    case MERO_GROUP_OP_SET_METADATA:
      if (!is_admin (signer))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins set metadata");
      return TRUE;
    case MERO_GROUP_OP_SET_TEE_POLICY:
      if (!is_admin (signer))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins set the TEE policy");
      return TRUE;
    case MERO_GROUP_OP_ADMIT_TEE:
      /* The admin vouches that it verified the quote under the policy;
       * the state keeps what every peer can check: the policy exists,
       * the quote admits once, the key reaches exactly the new member. */
      if (!is_admin (signer))
        return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "only admins admit TEE nodes");
      if (s->tee_policy == NULL)
        return refuse (error, MERO_GROUP_ERROR_NO_TEE_POLICY, "the group has no TEE policy");
      if (g_hash_table_contains (s->tee_quotes, op->quote_hash))
        return refuse (error, MERO_GROUP_ERROR_QUOTE_REUSED, "quote already admitted a node");
      if (g_hash_table_contains (s->members, op->member))
        return refuse (error, MERO_GROUP_ERROR_ALREADY_MEMBER, "already a member");
      if (g_hash_table_size (s->members) >= MERO_GROUP_MAX_MEMBERS)
        return refuse (error, MERO_GROUP_ERROR_LIMIT, "group is full");
      if (at_cut
          && (memcmp (g_array_index (op->envelopes, MeroGroupEnvelope, 0).member, op->member, ID) != 0
              || memcmp (op->key_id, s->key_id, ID) != 0))
        return refuse (error, MERO_GROUP_ERROR_BAD_ENVELOPES,
                       "envelope is not the current key for the admitted node");
      if (at_cut && !mero_group_member_key_valid (op->member))
        return refuse (error, MERO_GROUP_ERROR_MALFORMED, "member key is not a valid point");
      return TRUE;
    default:
      return refuse (error, MERO_GROUP_ERROR_MALFORMED, "unexpected operation");
    }
}

gboolean
mero_group_state_check (const MeroGroupState *state, const MeroGroupOp *op, gboolean at_cut,
                        GError **error)
{
  const MeroGroupMember *signer;
  const guint64 *last_nonce;

  g_return_val_if_fail (state != NULL && op != NULL, FALSE);

  if (op->kind == MERO_GROUP_OP_CREATE_GROUP)
    {
      if (state->created)
        return refuse (error, MERO_GROUP_ERROR_CONFLICT, "group already created");
      if (memcmp (g_array_index (op->envelopes, MeroGroupEnvelope, 0).member, op->signer, ID) != 0)
        return refuse (error, MERO_GROUP_ERROR_BAD_ENVELOPES,
                       "the first key must be sealed to the owner");
      return TRUE;
    }
  if (!state->created)
    return refuse (error, MERO_GROUP_ERROR_UNKNOWN_CUT, "group not created in this cut");
  if (memcmp (op->group_id, state->group_id, ID) != 0)
    return refuse (error, MERO_GROUP_ERROR_WRONG_GROUP, "op is for another group");
  last_nonce = g_hash_table_lookup (state->nonces, op->signer);
  if (last_nonce != NULL && op->nonce <= *last_nonce)
    return refuse (error, MERO_GROUP_ERROR_REPLAY, "nonce not above the signer's last");
  if (op->kind == MERO_GROUP_OP_JOIN)
    return check_join (state, op, at_cut, error);
  signer = g_hash_table_lookup (state->members, op->signer);
  if (signer == NULL)
    return refuse (error, MERO_GROUP_ERROR_UNAUTHORIZED, "signer is not a member");
  return check_body (state, op, signer, at_cut, error);
}

static void
note (GArray *list, const guint8 *member)
{
  if (list != NULL)
    g_array_append_vals (list, member, 1);
}

static void
put_member (MeroGroupState *s, const guint8 *key, guint8 role, guint32 caps)
{
  MeroGroupMember *m = g_hash_table_lookup (s->members, key);

  if (m == NULL)
    {
      m = g_new0 (MeroGroupMember, 1);
      g_hash_table_insert (s->members, g_memdup2 (key, ID), m);
    }
  else if (m->role == MERO_GROUP_ROLE_ADMIN)
    s->n_admins--;
  m->role = role;
  m->capabilities = caps;
  if (role == MERO_GROUP_ROLE_ADMIN)
    s->n_admins++;
}

static void
drop_member (MeroGroupState *s, const guint8 *key)
{
  MeroGroupMember *m = g_hash_table_lookup (s->members, key);

  if (m != NULL && m->role == MERO_GROUP_ROLE_ADMIN)
    s->n_admins--;
  g_hash_table_remove (s->members, key);
}

void
mero_group_state_apply (MeroGroupState *state, const MeroGroupOp *op, MeroGroupMutation *mutation)
{
  MeroGroupState *s = state;
  GArray *added = mutation != NULL ? mutation->added : NULL;
  GArray *removed = mutation != NULL ? mutation->removed : NULL;
  GArray *changed = mutation != NULL ? mutation->changed : NULL;
  const MeroGroupMember *m;

  g_return_if_fail (state != NULL && op != NULL);

  g_hash_table_insert (s->nonces, g_memdup2 (op->signer, ID), g_memdup2 (&op->nonce, sizeof op->nonce));
  switch (op->kind)
    {
    case MERO_GROUP_OP_CREATE_GROUP:
      s->created = TRUE;
      memcpy (s->group_id, op->group_id, ID);
      memcpy (s->owner, op->signer, ID);
      memcpy (s->key_id, op->key_id, ID);
      g_bytes_unref (s->metadata);
      s->metadata = g_bytes_ref (op->metadata);
      put_member (s, op->signer, MERO_GROUP_ROLE_ADMIN, MERO_GROUP_CAP_ALL);
      note (added, op->signer);
      break;
    case MERO_GROUP_OP_ADD_MEMBER:
      put_member (s, op->member, op->role, op->capabilities);
      note (added, op->member);
      break;
    case MERO_GROUP_OP_REMOVE_MEMBER:
      drop_member (s, op->member);
      memcpy (s->key_id, op->key_id, ID);
      note (removed, op->member);
      break;
    case MERO_GROUP_OP_LEAVE:
      drop_member (s, op->signer);
      note (removed, op->signer);
      break;
    case MERO_GROUP_OP_SET_ROLE:
      m = g_hash_table_lookup (s->members, op->member);
      put_member (s, op->member, op->role, m->capabilities);
      note (changed, op->member);
      break;
    case MERO_GROUP_OP_SET_CAPABILITIES:
      m = g_hash_table_lookup (s->members, op->member);
      put_member (s, op->member, m->role, op->capabilities);
      note (changed, op->member);
      break;
    case MERO_GROUP_OP_REGISTER_CONTEXT:
      g_hash_table_insert (s->contexts, g_memdup2 (op->context_id, ID),
                           g_memdup2 (op->application_id, ID));
      break;
    case MERO_GROUP_OP_DETACH_CONTEXT:
      g_hash_table_remove (s->contexts, op->context_id);
      break;
    case MERO_GROUP_OP_ROTATE_KEY:
      memcpy (s->key_id, op->key_id, ID);
      break;
    case MERO_GROUP_OP_JOIN:
      {
        guint8 inv_id[ID];
        mero_group_invitation_id (&op->invitation, inv_id);
        g_hash_table_add (s->invitations, g_memdup2 (inv_id, ID));
        put_member (s, op->signer, op->invitation.role, 0);
        note (added, op->signer);
      }
      break;
    case MERO_GROUP_OP_SET_METADATA:
      g_bytes_unref (s->metadata);
      s->metadata = g_bytes_ref (op->metadata);
      break;
    case MERO_GROUP_OP_SET_TEE_POLICY:
      g_free (s->tee_policy);
      s->tee_policy = g_memdup2 (op->tee_policy, sizeof *op->tee_policy);
      break;
    case MERO_GROUP_OP_ADMIT_TEE:
      g_hash_table_add (s->tee_quotes, g_memdup2 (op->quote_hash, ID));
      put_member (s, op->member, MERO_GROUP_ROLE_READ_ONLY, 0);
      note (added, op->member);
      break;
    default:
      g_return_if_reached ();
    }
}

gboolean
mero_group_state_is_created (const MeroGroupState *state)
{
  return state->created;
}

const guint8 *
mero_group_state_group_id (const MeroGroupState *state)
{
  return state->group_id;
}

const guint8 *
mero_group_state_owner (const MeroGroupState *state)
{
  return state->created ? state->owner : NULL;
}

const MeroGroupMember *
mero_group_state_member (const MeroGroupState *state, const guint8 member[MERO_GROUP_KEY_LEN])
{
  return g_hash_table_lookup (state->members, member);
}

gboolean
mero_group_state_can_write (const MeroGroupState *state, const guint8 member[MERO_GROUP_KEY_LEN])
{
  const MeroGroupMember *m = g_hash_table_lookup (state->members, member);

  return m != NULL && m->role != MERO_GROUP_ROLE_READ_ONLY;
}

guint32
mero_group_state_capabilities (const MeroGroupState *state,
                               const guint8 member[MERO_GROUP_KEY_LEN])
{
  return effective_caps (g_hash_table_lookup (state->members, member));
}

guint
mero_group_state_n_members (const MeroGroupState *state)
{
  return g_hash_table_size (state->members);
}

static int
cmp_id (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID);
}

static GArray *
sorted_keys (GHashTable *table)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, ID, g_hash_table_size (table));
  GHashTableIter it;
  gpointer k;

  g_hash_table_iter_init (&it, table);
  while (g_hash_table_iter_next (&it, &k, NULL))
    g_array_append_vals (out, k, 1);
  g_array_sort (out, cmp_id);
  return out;
}

GArray *
mero_group_state_members (const MeroGroupState *state)
{
  return sorted_keys (state->members);
}

GArray *
mero_group_state_contexts (const MeroGroupState *state)
{
  g_autoptr (GArray) ids = sorted_keys (state->contexts);
  GArray *out = g_array_sized_new (FALSE, FALSE, 2 * ID, ids->len);

  for (guint i = 0; i < ids->len; i++)
    {
      guint8 pair[2 * ID];
      const guint8 *ctx = (const guint8 *) ids->data + i * ID;
      memcpy (pair, ctx, ID);
      memcpy (pair + ID, g_hash_table_lookup (state->contexts, ctx), ID);
      g_array_append_vals (out, pair, 1);
    }
  return out;
}

const guint8 *
mero_group_state_context_application (const MeroGroupState *state,
                                      const guint8 context[MERO_GROUP_ID_LEN])
{
  return g_hash_table_lookup (state->contexts, context);
}

const guint8 *
mero_group_state_key_id (const MeroGroupState *state)
{
  return state->key_id;
}

const MeroGroupTeePolicy *
mero_group_state_tee_policy (const MeroGroupState *state)
{
  return state->tee_policy;
}

gboolean
mero_group_state_tee_quote_admitted (const MeroGroupState *state,
                                     const guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN])
{
  return g_hash_table_contains (state->tee_quotes, quote_hash);
}

GBytes *
mero_group_state_metadata (const MeroGroupState *state)
{
  return state->metadata;
}

guint64
mero_group_state_nonce (const MeroGroupState *state, const guint8 signer[MERO_GROUP_KEY_LEN])
{
  const guint64 *n = g_hash_table_lookup (state->nonces, signer);

  return n != NULL ? *n : 0;
}

static void
hash_u64 (MeroSha256 *h, guint64 v)
{
  guint8 b[8];
  for (int i = 0; i < 8; i++)
    b[i] = (guint8) (v >> (56 - 8 * i));
  mero_sha256_update (h, b, 8);
}

void
mero_group_state_digest (const MeroGroupState *state, guint8 out[MERO_GROUP_ID_LEN])
{
  g_autoptr (MeroSha256) h = mero_sha256_new ();
  g_autoptr (GArray) members = sorted_keys (state->members);
  g_autoptr (GArray) contexts = sorted_keys (state->contexts);
  g_autoptr (GArray) nonces = sorted_keys (state->nonces);
  g_autoptr (GArray) invitations = sorted_keys (state->invitations);
  gsize meta_len = 0;
  const guint8 *meta = g_bytes_get_data (state->metadata, &meta_len);
  const char *domain = "mero/group-state-digest/v1";

  mero_sha256_update (h, domain, strlen (domain));
  hash_u64 (h, state->created);
  mero_sha256_update (h, state->group_id, ID);
  mero_sha256_update (h, state->owner, ID);
  mero_sha256_update (h, state->key_id, ID);
  hash_u64 (h, meta_len);
  mero_sha256_update (h, meta, meta_len);
  hash_u64 (h, members->len);
  for (guint i = 0; i < members->len; i++)
    {
      const guint8 *k = (const guint8 *) members->data + i * ID;
      const MeroGroupMember *m = g_hash_table_lookup (state->members, k);
      mero_sha256_update (h, k, ID);
      hash_u64 (h, ((guint64) m->role << 32) | m->capabilities);
    }
  hash_u64 (h, contexts->len);
  for (guint i = 0; i < contexts->len; i++)
    {
      const guint8 *k = (const guint8 *) contexts->data + i * ID;
      mero_sha256_update (h, k, ID);
      mero_sha256_update (h, g_hash_table_lookup (state->contexts, k), ID);
    }
  hash_u64 (h, nonces->len);
  for (guint i = 0; i < nonces->len; i++)
    {
      const guint8 *k = (const guint8 *) nonces->data + i * ID;
      mero_sha256_update (h, k, ID);
      hash_u64 (h, *(const guint64 *) g_hash_table_lookup (state->nonces, k));
    }
  hash_u64 (h, invitations->len);
  mero_sha256_update (h, invitations->data, invitations->len * ID);
  /* Appended only when set, so a group that never used TEE admission
   * keeps the digest it had before these ops existed. */
  if (state->tee_policy != NULL || g_hash_table_size (state->tee_quotes) > 0)
    {
      g_autoptr (GArray) quotes = sorted_keys (state->tee_quotes);
      g_autoptr (GByteArray) policy = g_byte_array_new ();
      const char *tee = "tee";

      mero_sha256_update (h, tee, strlen (tee));
      if (state->tee_policy != NULL)
        mero_group_tee_policy_put (policy, state->tee_policy);
      hash_u64 (h, policy->len);
      mero_sha256_update (h, policy->data, policy->len);
      hash_u64 (h, quotes->len);
      mero_sha256_update (h, quotes->data, quotes->len * ID);
    }
  mero_sha256_finish (h, out);
}

void
mero_group_state_diff (const MeroGroupState *before, const MeroGroupState *after,
                       MeroGroupMutation *mutation)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, after->members);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      const MeroGroupMember *old = g_hash_table_lookup (before->members, k);
      const MeroGroupMember *now = v;
      if (old == NULL)
        note (mutation->added, k);
      else if (old->role != now->role || old->capabilities != now->capabilities)
        note (mutation->changed, k);
    }
  g_hash_table_iter_init (&it, before->members);
  while (g_hash_table_iter_next (&it, &k, NULL))
    if (!g_hash_table_contains (after->members, k))
      note (mutation->removed, k);
  g_array_sort (mutation->added, cmp_id);
  g_array_sort (mutation->removed, cmp_id);
  g_array_sort (mutation->changed, cmp_id);
}
