/* mero-contexts-keys.c: the group-key services a key-share plugin uses
 * (MeroKeyAccess, SDK 1.1) and the host's own key/1 code shares.  A key
 * leaves the node only sealed to a current member's identity key, and an
 * answer is installed only if it opens with this node's own secret. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <sodium.h>
#include <string.h>

#include "context/group/mero-group-envelope.h"
#include "node/mero-contexts-keys.h"

G_STATIC_ASSERT (MERO_KEY_SEALED_LEN == MERO_GROUP_SEALED_LEN);
G_STATIC_ASSERT (MERO_KEY_ID_LEN == ID_LEN);

gboolean
mero_contexts_key_seal_for_peer (MeroContexts *self, const guint8 group_id[ID_LEN],
                                 const char *requester_peer, const guint8 key_id[ID_LEN],
                                 guint8 sealed[MERO_KEY_SEALED_LEN], gboolean *found,
                                 GError **error)
{
  Group *group = self->closed ? NULL : mero_contexts_group_lookup (self, group_id);
  guint8 pk[ID_LEN];
  Ctx probe = { 0 };
  const guint8 *key;
  MeroGroupEnvelope e;

  *found = FALSE;
  if (group == NULL)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, "unknown group");
      return FALSE;
    }
  /* The member's key is its identity key, so membership and the box's
   * recipient are one and the same check. */
  if (requester_peer == NULL || !mero_contexts_key_of_peer (requester_peer, pk)
      || mero_group_state_member (mero_group_dag_state (group->dag), pk) == NULL)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, "not a member");
      return FALSE;
    }
  probe.group = group;
  key = mero_contexts_key_lookup (key_id, &probe);
  if (key == NULL)
    return TRUE;
  if (!mero_group_envelope_seal (pk, key, &e, error))
    return FALSE;
  memcpy (sealed, e.sealed, MERO_KEY_SEALED_LEN);
  *found = TRUE;
  return TRUE;
}

gboolean
mero_contexts_key_open_install (MeroContexts *self, const guint8 group_id[ID_LEN],
                                const guint8 key_id[ID_LEN],
                                const guint8 sealed[MERO_KEY_SEALED_LEN], GError **error)
{
  Group *group = self->closed ? NULL : mero_contexts_group_lookup (self, group_id);
  MeroGroupEnvelope e;
  guint8 key[ID_LEN];
  GHashTableIter it;
  gpointer value;

  if (group == NULL)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "unknown group");
      return FALSE;
    }
  memcpy (e.member, self->pk, ID_LEN);
  memcpy (e.sealed, sealed, MERO_KEY_SEALED_LEN);
  /* Opens only with our secret, and only to the key @key_id names. */
  if (!mero_group_envelope_open (&e, self->sk, key_id, key, NULL))
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                           "sealed key does not open to this node and key id");
      return FALSE;
    }
  mero_contexts_key_store (self, group, key_id, key);
  sodium_memzero (key, sizeof key);
  /* What waited for the key (in every context of the group) goes now. */
  g_hash_table_iter_init (&it, self->contexts);
  while (g_hash_table_iter_next (&it, NULL, &value))
    {
      Ctx *ctx = value;

      if (ctx->group != group)
        continue;
      ctx->key_requested_us = 0;
      mero_contexts_replay (self, ctx);
    }
  return TRUE;
}

static gboolean
access_seal_for_peer (MeroKeyHandle *keys, const uint8_t group_id[32], const char *requester_peer,
                      const uint8_t key_id[32], uint8_t sealed[MERO_KEY_SEALED_LEN],
                      gboolean *found, GError **error)
{
  return mero_contexts_key_seal_for_peer ((MeroContexts *) keys, group_id, requester_peer,
                                          key_id, sealed, found, error);
}

static gboolean
access_open_install (MeroKeyHandle *keys, const uint8_t group_id[32], const uint8_t key_id[32],
                     const uint8_t sealed[MERO_KEY_SEALED_LEN], GError **error)
{
  return mero_contexts_key_open_install ((MeroContexts *) keys, group_id, key_id, sealed, error);
}

static const MeroKeyAccess key_access = {
  .struct_size = sizeof (MeroKeyAccess),
  .seal_for_peer = access_seal_for_peer,
  .open_install = access_open_install,
};

const MeroKeyAccess *
mero_contexts_key_access_get (void)
{
  return &key_access;
}

MeroKeyHandle *
mero_contexts_key_handle (MeroContexts *self)
{
  return (MeroKeyHandle *) self;
}

void
mero_contexts_set_key_share (MeroContexts *self, const MeroLoadedSyncProtocol *protocol)
{
  self->key_share = protocol;
  self->key_share_warned = FALSE;
}
