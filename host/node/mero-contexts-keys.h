/* mero-contexts-keys.h: group keys sealed for and opened from peers
 * (the MeroKeyAccess services of SDK 1.1).  The handle is the
 * MeroContexts itself. */
#pragma once

#include <mero-sdk.h>

#include "node/mero-contexts.h"

G_BEGIN_DECLS

/* Seals key @key_id of group @group_id to @requester_peer; refused
 * (MERO_SYNC_ERROR_REFUSED) unless it is a current member; *found = FALSE
 * if this node does not hold the key. */
gboolean mero_contexts_key_seal_for_peer (MeroContexts *self, const guint8 group_id[32],
                                          const char *requester_peer, const guint8 key_id[32],
                                          guint8 sealed[MERO_KEY_SEALED_LEN], gboolean *found,
                                          GError **error);
/* Opens @sealed with this node's identity key and installs it as key
 * @key_id of group @group_id, then replays the group's contexts. */
gboolean mero_contexts_key_open_install (MeroContexts *self, const guint8 group_id[32],
                                         const guint8 key_id[32],
                                         const guint8 sealed[MERO_KEY_SEALED_LEN],
                                         GError **error);

const MeroKeyAccess *mero_contexts_key_access_get (void);
MeroKeyHandle *mero_contexts_key_handle (MeroContexts *self);

G_END_DECLS
