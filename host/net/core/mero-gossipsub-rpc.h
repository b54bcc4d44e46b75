/* mero-gossipsub-rpc.h: the gossipsub RPC (subscriptions, messages,
 * IHAVE/IWANT/GRAFT/PRUNE/IDONTWANT) with bounded decoding.
 *
 * Each RPC travels as `uvarint(len) || RPC` on a peer's own outbound
 * stream (mero-lp-frame with MERO_GOSSIPSUB_MAX_RPC_SIZE).  Decoding
 * rejects the whole RPC if any MERO_GOSSIPSUB_MAX_* bound is exceeded;
 * unknown fields are skipped, as js requires. */
#pragma once

#include <glib.h>

#include "net/core/mero-gossipsub-message.h"

G_BEGIN_DECLS

#define MERO_GOSSIPSUB_PROTOCOL_V11 "/meshsub/1.1.0"
#define MERO_GOSSIPSUB_PROTOCOL_V10 "/meshsub/1.0.0"

typedef struct
{
  gboolean subscribe;
  char *topic;
} MeroGossipsubSubscription;

typedef struct
{
  char *topic;
  GPtrArray *message_ids; /* GBytes */
} MeroGossipsubIHave;

typedef struct
{
  char *topic;
  gboolean has_backoff;
  guint64 backoff_s;
} MeroGossipsubPrune;

typedef struct
{
  GPtrArray *subscriptions; /* MeroGossipsubSubscription */
  GPtrArray *messages;      /* MeroGossipsubMessage */
  GPtrArray *ihave;         /* MeroGossipsubIHave */
  GPtrArray *iwant;         /* GBytes message ids */
  GPtrArray *graft;         /* char * topics */
  GPtrArray *prune;         /* MeroGossipsubPrune */
  GPtrArray *idontwant;     /* GBytes message ids */
} MeroGossipsubRpc;

MeroGossipsubRpc *mero_gossipsub_rpc_new (void);
/* NULL-safe. */
void mero_gossipsub_rpc_free (MeroGossipsubRpc *rpc);

/* Helpers that append owned copies. */
void mero_gossipsub_rpc_add_subscription (MeroGossipsubRpc *rpc, gboolean subscribe, const char *topic);
void mero_gossipsub_rpc_add_prune (MeroGossipsubRpc *rpc, const char *topic, gboolean has_backoff,
                                   guint64 backoff_s);

/* (transfer full) the RPC protobuf (without length prefix). */
GBytes *mero_gossipsub_rpc_encode (const MeroGossipsubRpc *rpc);

/* (transfer full) the decoded RPC, or NULL with @error. */
MeroGossipsubRpc *mero_gossipsub_rpc_decode (const guint8 *data, gsize len, GError **error);

/* Total message ids an RPC carries in IHAVE, IWANT and IDONTWANT. */
guint mero_gossipsub_rpc_count_ids (const MeroGossipsubRpc *rpc);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubRpc, mero_gossipsub_rpc_free)

G_END_DECLS
