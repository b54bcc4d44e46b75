/* mero-invitation.c: invitation strings and joining with one.
 *
 *   "mero-invite1:" + base58 (ContextInvitation)   (sdk/proto/mero-broadcast.proto)
 *
 * The group invitation inside is the governance module's own signing
 * bytes, carried verbatim and parsed back (never re-encoded to verify:
 * the parse is re-encoded and must match byte for byte).  The whole
 * invitation is signed by the inviter under "mero/context-invitation/v1",
 * so nobody can swap the addresses or the context of a valid group
 * invitation. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-invitation.h"

#include "node/mero-contexts-private.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sodium.h>
#include <string.h>

#include "crypto/mero-sha256.h"
#include "mero-broadcast.pb-c.h"
#include "net/mero-base58.h"

#define INVITATION_DOMAIN "mero/context-invitation/v1"
#define GROUP_INVITATION_DOMAIN "mero/group-invitation/v1"
#define DEFAULT_EXPIRY_SECS (24u * 3600u)
/* Addresses carried: enough for a host's v4 and v6, small enough that
 * the string stays under the base58 decoder's bound (MERO_BASE58_MAX_INPUT). */
#define MAX_ADDRESSES 3u
#define MAX_ADDRESS_LEN 160u
#define MAX_ADDRESSES_BYTES 300u

/* A listen address on 0.0.0.0 or :: cannot be dialled from elsewhere:
 * it stands for the host's interface addresses, which are put in its
 * place (others first, loopback last; IPv6 link-local skipped). */
static void
expand_wildcard (const char *address, GPtrArray *out)
{
  gboolean v4 = g_str_has_prefix (address, "/ip4/0.0.0.0/");
  gboolean v6 = g_str_has_prefix (address, "/ip6/::/");
  const char *rest = strchr (address + 5, '/');
  struct ifaddrs *list = NULL;
  g_autoptr (GPtrArray) loopback = g_ptr_array_new_with_free_func (g_free);

  if ((!v4 && !v6) || rest == NULL || getifaddrs (&list) != 0)
    {
      g_ptr_array_add (out, g_strdup (address));
      return;
    }
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      char text[INET6_ADDRSTRLEN];

      if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_UP) == 0)
        continue;
      if (v4 && ifa->ifa_addr->sa_family == AF_INET)
        inet_ntop (AF_INET, &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr, text, sizeof text);
      else if (v6 && ifa->ifa_addr->sa_family == AF_INET6
               && !IN6_IS_ADDR_LINKLOCAL (&((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr))
        inet_ntop (AF_INET6, &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr, text,
                   sizeof text);
      else
        continue;
      g_ptr_array_add ((ifa->ifa_flags & IFF_LOOPBACK) != 0 ? loopback : out,
                       g_strdup_printf ("/%s/%s%s", v4 ? "ip4" : "ip6", text, rest));
    }
  freeifaddrs (list);
  for (guint i = 0; i < loopback->len; i++)
    g_ptr_array_add (out, g_strdup (g_ptr_array_index (loopback, i)));
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (out, b, 4);
}

static GBytes *
context_signing_bytes (const guint8 *group_inv, gsize group_inv_len, const guint8 *group_sig,
                       const guint8 ctx_id[ID_LEN], const char *application,
                       const char *const *addresses, gsize n_addresses)
{
  GByteArray *out = g_byte_array_new ();
  guint8 digest[ID_LEN];

  g_byte_array_append (out, (const guint8 *) INVITATION_DOMAIN, strlen (INVITATION_DOMAIN));
  mero_sha256 (group_inv, group_inv_len, digest);
  g_byte_array_append (out, digest, ID_LEN);
  g_byte_array_append (out, group_sig, 64);
  g_byte_array_append (out, ctx_id, ID_LEN);
  put_u32 (out, strlen (application));
  g_byte_array_append (out, (const guint8 *) application, strlen (application));
  put_u32 (out, n_addresses);
  for (gsize i = 0; i < n_addresses; i++)
    {
      put_u32 (out, strlen (addresses[i]));
      g_byte_array_append (out, (const guint8 *) addresses[i], strlen (addresses[i]));
    }
  return g_byte_array_free_to_bytes (out);
}

char *
mero_contexts_invite (MeroContexts *self, const char *context_id, const char *invitee,
                      guint expiry_secs, GError **error)
{
  Ctx *ctx = context_id != NULL ? g_hash_table_lookup (self->contexts, context_id) : NULL;
  MeroGroupInvitation inv = { 0 };
  const MeroGroupState *state;
  g_autoptr (GBytes) group_bytes = NULL, signing = NULL;
  g_autoptr (GPtrArray) addrs = g_ptr_array_new ();
  g_autoptr (GPtrArray) candidates = g_ptr_array_new_with_free_func (g_free);
  const char *const *all = NULL;
  Mero__Node__ContextInvitation pb = MERO__NODE__CONTEXT_INVITATION__INIT;
  guint8 sig[64];
  g_autofree guint8 *packed = NULL;
  gsize packed_len;
  g_autofree char *b58 = NULL;

  if (ctx == NULL)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT,
                   _("No context “%s” on this node"), context_id != NULL ? context_id : "");
      return NULL;
    }
  state = mero_group_dag_state (ctx->group->dag);
  if ((mero_group_state_capabilities (state, self->pk) & MERO_GROUP_CAP_INVITE) == 0)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NOT_ALLOWED,
                   _("This node may not invite to context %s (no invite capability)"),
                   ctx->b58);
      return NULL;
    }
  memcpy (inv.group_id, ctx->group->id, ID_LEN);
  inv.role = MERO_GROUP_ROLE_MEMBER;
  inv.expiry_ms = (guint64) mero_contexts_now_ms ()
                  + (guint64) (expiry_secs != 0 ? expiry_secs : DEFAULT_EXPIRY_SECS) * 1000;
  randombytes_buf (inv.nonce, sizeof inv.nonce);
  if (invitee != NULL && invitee[0] != '\0')
    {
      if (!mero_contexts_key_of_peer (invitee, inv.invitee))
        {
          g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not an Ed25519 PeerId"), invitee);
          return NULL;
        }
      inv.has_invitee = TRUE;
    }
  mero_group_invitation_sign (&inv, self->sk);
  group_bytes = mero_group_invitation_signing_bytes (&inv);

  if (self->listen_addresses != NULL)
    all = self->listen_addresses (self->listen_addresses_data);
  for (guint i = 0; all != NULL && all[i] != NULL; i++)
    expand_wildcard (all[i], candidates);
  for (guint i = 0, total = 0; i < candidates->len && addrs->len < MAX_ADDRESSES; i++)
    {
      const char *a = g_ptr_array_index (candidates, i);

      if (strlen (a) > MAX_ADDRESS_LEN || total + strlen (a) > MAX_ADDRESSES_BYTES)
        continue;
      total += strlen (a);
      g_ptr_array_add (addrs, (gpointer) a);
    }
  signing = context_signing_bytes (g_bytes_get_data (group_bytes, NULL),
                                   g_bytes_get_size (group_bytes), inv.signature, ctx->id,
                                   ctx->application, (const char *const *) addrs->pdata,
                                   addrs->len);
  crypto_sign_detached (sig, NULL, g_bytes_get_data (signing, NULL), g_bytes_get_size (signing),
                        self->sk);

  pb.group_invitation.data = (guint8 *) g_bytes_get_data (group_bytes, &pb.group_invitation.len);
  pb.group_signature.data = inv.signature;
  pb.group_signature.len = 64;
  pb.context_id.data = ctx->id;
  pb.context_id.len = ID_LEN;
  pb.application = ctx->application;
  pb.addresses = (char **) addrs->pdata;
  pb.n_addresses = addrs->len;
  pb.signature.data = sig;
  pb.signature.len = 64;
  packed_len = mero__node__context_invitation__get_packed_size (&pb);
  packed = g_malloc (packed_len);
  mero__node__context_invitation__pack (&pb, packed);
  b58 = mero_base58_encode (packed, packed_len);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "invitation-created",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE", "invitation to context %s created%s%s",
                    ctx->b58, inv.has_invitee ? " for " : "", inv.has_invitee ? invitee : "");
  return g_strconcat (MERO_CONTEXTS_INVITATION_PREFIX, b58, NULL);
}

typedef MeroInvitation Invitation;

void
mero_invitation_free (MeroInvitation *inv)
{
  if (inv == NULL)
    return;
  g_free (inv->application);
  g_strfreev (inv->addresses);
  g_free (inv->inviter_peer);
  g_free (inv);
}

#define invitation_free mero_invitation_free

static gboolean
bad (GError **error, const char *why)
{
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVITATION,
               _("Invalid invitation: %s"), why);
  return FALSE;
}

/* "mero/group-invitation/v1" || group_id[32] || inviter[32] || u8 role
 * || u64 expiry_ms || nonce[32] || u8 has_invitee || invitee[32]? */
static gboolean
parse_group_invitation (const guint8 *b, gsize len, MeroGroupInvitation *inv, GError **error)
{
  gsize d = strlen (GROUP_INVITATION_DOMAIN), base = d + 32 + 32 + 1 + 8 + 32 + 1;

  if (len < base || memcmp (b, GROUP_INVITATION_DOMAIN, d) != 0)
    return bad (error, "not a group invitation");
  memcpy (inv->group_id, b + d, 32);
  memcpy (inv->inviter, b + d + 32, 32);
  inv->role = b[d + 64];
  inv->expiry_ms = 0;
  for (guint i = 0; i < 8; i++)
    inv->expiry_ms = (inv->expiry_ms << 8) | b[d + 65 + i];
  memcpy (inv->nonce, b + d + 73, 32);
  inv->has_invitee = b[d + 105] != 0;
  if (b[d + 105] > 1 || len != base + (inv->has_invitee ? 32 : 0))
    return bad (error, "a malformed group invitation");
  if (inv->has_invitee)
    memcpy (inv->invitee, b + base, 32);
  return TRUE;
}

MeroInvitation *
mero_invitation_decode (const char *text, GError **error)
{
  g_autoptr (MeroInvitation) inv = g_new0 (MeroInvitation, 1);
  g_autoptr (GBytes) raw = NULL;
  Mero__Node__ContextInvitation *pb = NULL;
  g_autoptr (GBytes) reencoded = NULL, signing = NULL;
  g_autoptr (GError) local = NULL;
  g_autofree char *suffix = NULL;
  gboolean ok = FALSE;

  if (text == NULL || !g_str_has_prefix (text, MERO_CONTEXTS_INVITATION_PREFIX))
    {
      bad (error, _("it does not start with “mero-invite1:”"));
      return NULL;
    }
  raw = mero_base58_decode (text + strlen (MERO_CONTEXTS_INVITATION_PREFIX));
  if (raw == NULL)
    {
      bad (error, _("not base58"));
      return NULL;
    }
  pb = mero__node__context_invitation__unpack (NULL, g_bytes_get_size (raw),
                                               g_bytes_get_data (raw, NULL));
  if (pb == NULL)
    {
      bad (error, _("does not decode"));
      return NULL;
    }
  if (pb->group_signature.len != 64 || pb->signature.len != 64 || pb->context_id.len != ID_LEN
      || pb->n_addresses > MAX_ADDRESSES || pb->application == NULL
      || !g_utf8_validate (pb->application, -1, NULL))
    {
      bad (error, _("wrong field sizes"));
      goto out;
    }
  if (!parse_group_invitation (pb->group_invitation.data, pb->group_invitation.len, &inv->group,
                               error))
    goto out;
  memcpy (inv->group.signature, pb->group_signature.data, 64);
  reencoded = mero_group_invitation_signing_bytes (&inv->group);
  if (g_bytes_get_size (reencoded) != pb->group_invitation.len
      || memcmp (g_bytes_get_data (reencoded, NULL), pb->group_invitation.data,
                 pb->group_invitation.len) != 0)
    {
      bad (error, _("the group invitation does not re-encode"));
      goto out;
    }
  if (!mero_group_invitation_verify (&inv->group, &local))
    {
      bad (error, local->message);
      goto out;
    }
  for (size_t i = 0; i < pb->n_addresses; i++)
    if (pb->addresses[i] == NULL || strlen (pb->addresses[i]) > MAX_ADDRESS_LEN)
      {
        bad (error, _("an address is too long"));
        goto out;
      }
  signing = context_signing_bytes (pb->group_invitation.data, pb->group_invitation.len,
                                   pb->group_signature.data, pb->context_id.data,
                                   pb->application, (const char *const *) pb->addresses,
                                   pb->n_addresses);
  if (crypto_sign_verify_detached (pb->signature.data, g_bytes_get_data (signing, NULL),
                                   g_bytes_get_size (signing), inv->group.inviter)
      != 0)
    {
      bad (error, _("the inviter's signature does not verify"));
      goto out;
    }
  memcpy (inv->context_id, pb->context_id.data, ID_LEN);
  inv->application = g_strdup (pb->application);
  inv->inviter_peer = mero_contexts_peer_of_key (inv->group.inviter);
  suffix = g_strconcat ("/p2p/", inv->inviter_peer, NULL);
  {
    g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

    for (size_t i = 0; i < pb->n_addresses; i++)
      if (g_str_has_suffix (pb->addresses[i], suffix))
        g_strv_builder_add (b, pb->addresses[i]);
    inv->addresses = g_strv_builder_end (b);
  }
  ok = TRUE;
out:
  mero__node__context_invitation__free_unpacked (pb, NULL);
  return ok ? g_steal_pointer (&inv) : NULL;
}

static Invitation *
invitation_parse (MeroContexts *self, const char *text, GError **error)
{
  g_autoptr (MeroInvitation) inv = mero_invitation_decode (text, error);

  if (inv == NULL)
    return NULL;
  if ((guint64) mero_contexts_now_ms () > inv->group.expiry_ms)
    {
      bad (error, _("it has expired"));
      return NULL;
    }
  if (inv->group.has_invitee && memcmp (inv->group.invitee, self->pk, ID_LEN) != 0)
    {
      bad (error, _("it is for another node"));
      return NULL;
    }
  return g_steal_pointer (&inv);
}

/* ---- joining ---- */

typedef struct {
  MeroContexts *self;
  Invitation *inv;
  gboolean new_context;   /* created by this join: undone if it fails */
  gboolean new_group;
  char *invitation_addresses; /* as the invitation had them, for the error */
  gboolean known_elsewhere;   /* the peer store had other addresses of the inviter */
} JoinData;

static void
join_data_free (JoinData *j)
{
  invitation_free (j->inv);
  g_free (j->invitation_addresses);
  mero_contexts_unref (j->self);
  g_free (j);
}

static gboolean
join_task_live (MeroContexts *self, GTask *task)
{
  return !self->closed && g_ptr_array_find (self->joins, task, NULL);
}

static void
join_fail (MeroContexts *self, GTask *task, GError *error)
{
  JoinData *j = g_task_get_task_data (task);

  mero_contexts_join_undo (self, j->inv->context_id, j->new_context, j->inv->group.group_id,
                           j->new_group);
  g_task_return_error (task, error);
  g_ptr_array_remove (self->joins, task);
}

static void
on_join_delivered (GBytes *response, const GError *error, gpointer user_data)
{
  GTask *task = user_data;
  JoinData *j = g_task_get_task_data (task);
  MeroContexts *self = j->self;
  Ctx *ctx;
  g_autoptr (GArray) none = mero_id_array_new ();

  if (!join_task_live (self, task))
    {
      g_object_unref (task);
      return;
    }
  ctx = mero_contexts_lookup_id (self, j->inv->context_id);
  if (ctx == NULL)
    {
      join_fail (self, task, g_error_new (MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_FAILED,
                                          _("The context was left while joining")));
      g_object_unref (task);
      return;
    }
  if (response == NULL)
    /* The JOIN went out on the group topic too; the inviter may still see
     * it there.  The join is ours locally, so it succeeds. */
    g_warning ("context %s: could not hand the join to %s: %s", ctx->b58, j->inv->inviter_peer,
               error != NULL ? error->message : "?");
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-joined",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE", "joined context %s (group %s)%s",
                    ctx->b58, ctx->group->hex,
                    ctx->ds != NULL ? "" : ", waiting for the group key");
  /* History, in the background (StateChanged follows), and a state
   * comparison with the inviter (the sync manager's join trigger); a
   * fresh state with a sync manager takes the state by snapshot, whose
   * heads become checkpoints: the history is not fetched at all. */
  if (!mero_contexts_joins_by_state_sync (self, ctx))
    mero_contexts_fetch_deltas (self, ctx, j->inv->inviter_peer, NULL, none, 0);
  self->transport->sync_requested (self->transport_data, ctx->b58, j->inv->inviter_peer);
  g_task_return_pointer (task, g_strdup (ctx->b58), g_free);
  g_ptr_array_remove (self->joins, task);
  g_object_unref (task);
}

static void
on_join_ops (GBytes *response, const GError *error, gpointer user_data)
{
  GTask *task = user_data;
  JoinData *j = g_task_get_task_data (task);
  MeroContexts *self = j->self;
  Group *group;
  g_autoptr (MeroGroupOp) op = NULL;
  g_autoptr (GError) local = NULL;
  g_autoptr (GPtrArray) extra = NULL;

  if (!join_task_live (self, task))
    {
      g_object_unref (task);
      return;
    }
  group = mero_contexts_group_lookup (self, j->inv->group.group_id);
  if (response == NULL && !j->known_elsewhere)
    {
      /* A node new to the inviter has nothing but the invitation to find
       * it by: say so, the remedy is a fresh invitation. */
      join_fail (self, task,
                 g_error_new (MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_PEER,
                              _("Cannot reach the inviter %s: %s. The invitation's addresses "
                                "(%s) were the only way to find it, as this node knows no "
                                "other address of it; ask for a new invitation if the inviter "
                                "has moved"),
                              j->inv->inviter_peer,
                              error != NULL ? error->message : _("no answer"),
                              j->invitation_addresses));
      g_object_unref (task);
      return;
    }
  if (response == NULL || group == NULL
      || !mero_group_state_is_created (mero_group_dag_state (group->dag)))
    {
      join_fail (self, task,
                 g_error_new (MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_PEER,
                              _("The inviter %s did not hand over the group: %s"),
                              j->inv->inviter_peer,
                              error != NULL ? error->message : _("no answer")));
      g_object_unref (task);
      return;
    }
  /* Redeemed here first: a used or foreign invitation is refused as it
   * would be everywhere. */
  op = mero_group_op_new (MERO_GROUP_OP_JOIN);
  op->invitation = j->inv->group;
  if (!mero_contexts_author (self, group, op, &local))
    {
      join_fail (self, task, g_error_new (MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVITATION,
                                          _("The group refuses this invitation: %s"),
                                          local->message));
      g_object_unref (task);
      return;
    }
  extra = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (extra, mero_group_op_encode (op));
  /* Hand the JOIN to the inviter directly (gossip may not have a mesh
   * yet); its answer carries the key rotation it causes. */
  mero_contexts_fetch_group (self, group, j->inv->inviter_peer,
                             (const char *const *) j->inv->addresses, extra, on_join_delivered,
                             task);
}

void
mero_contexts_join_async (MeroContexts *self, const char *invitation,
                          GAsyncReadyCallback callback, gpointer user_data)
{
  GTask *task = g_task_new (NULL, NULL, callback, user_data);
  GError *error = NULL;
  g_autoptr (MeroInvitation) inv = invitation_parse (self, invitation, &error);
  JoinData *j;
  Group *group;
  Ctx *ctx;

  if (inv == NULL)
    {
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  if (g_strcmp0 (inv->inviter_peer, self->peer_id) == 0)
    {
      g_task_return_new_error (task, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVITATION,
                               _("This node issued the invitation"));
      g_object_unref (task);
      return;
    }
  /* Joining a context this node is already a member of is a no-op (it
   * does not spend the invitation). */
  ctx = mero_contexts_lookup_id (self, inv->context_id);
  if (ctx != NULL
      && mero_group_state_member (mero_group_dag_state (ctx->group->dag), self->pk) != NULL)
    {
      g_task_return_pointer (task, g_strdup (ctx->b58), g_free);
      g_object_unref (task);
      return;
    }
  j = g_new0 (JoinData, 1);
  j->new_group = mero_contexts_group_lookup (self, inv->group.group_id) == NULL;
  j->new_context = mero_contexts_lookup_id (self, inv->context_id) == NULL;
  group = mero_contexts_group_ensure (self, inv->group.group_id, &error);
  ctx = group != NULL ? mero_contexts_ctx_add (self, inv->context_id, group, inv->application,
                                               &error)
                      : NULL;
  if (ctx == NULL)
    {
      mero_contexts_join_undo (self, inv->context_id, FALSE, inv->group.group_id, j->new_group);
      g_free (j);
      g_task_return_error (task, error);
      g_object_unref (task);
      return;
    }
  j->self = mero_contexts_ref (self);
  j->invitation_addresses = inv->addresses != NULL && inv->addresses[0] != NULL
                                ? g_strjoinv (", ", inv->addresses)
                                : g_strdup (_("none"));
  /* The inviter's addresses go to the peer store; what the store knew of
   * it before (it may have moved since the invitation was made) is tried
   * as well. */
  if (self->remember_peer != NULL)
    self->remember_peer (self->peer_store_data, inv->inviter_peer,
                         (const char *const *) inv->addresses);
  if (self->reach_peer != NULL)
    {
      g_auto (GStrv) known = self->reach_peer (self->peer_store_data, inv->inviter_peer);
      g_autoptr (GStrvBuilder) all = g_strv_builder_new ();

      if (inv->addresses != NULL)
        g_strv_builder_addv (all, (const char **) inv->addresses);
      for (guint i = 0; known != NULL && known[i] != NULL; i++)
        if (inv->addresses == NULL
            || !g_strv_contains ((const char *const *) inv->addresses, known[i]))
          {
            g_strv_builder_add (all, known[i]);
            j->known_elsewhere = TRUE;
          }
      g_strfreev (inv->addresses);
      inv->addresses = g_strv_builder_end (all);
    }
  j->inv = g_steal_pointer (&inv);
  g_task_set_task_data (task, j, (GDestroyNotify) join_data_free);
  g_ptr_array_add (self->joins, g_object_ref (task));
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-joining",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE", "joining context %s through %s",
                    ctx->b58, j->inv->inviter_peer);
  mero_contexts_fetch_group (self, group, j->inv->inviter_peer,
                             (const char *const *) j->inv->addresses, NULL, on_join_ops, task);
}

char *
mero_contexts_join_finish (MeroContexts *self, GAsyncResult *result, GError **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}
