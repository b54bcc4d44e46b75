/* mero-gossipsub-message.h: one gossipsub message and the StrictSign
 * policy, byte-exact with js-libp2p (reference §2.8).
 *
 * Signing covers "libp2p-pubsub:" || Message{from=1, data=2, seqno=3,
 * topic=4} encoded canonically (ascending fields, absent ones left out,
 * no signature or key).  The signature itself comes from the host (the
 * node identity signs mero_gossipsub_message_signing_bytes()); this core
 * verifies, and computes js's message id: PublicKey protobuf of the
 * author || seqno. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_GOSSIPSUB_SIGN_PREFIX "libp2p-pubsub:"
#define MERO_GOSSIPSUB_SEQNO_LEN 8

#define MERO_GOSSIPSUB_ERROR (mero_gossipsub_error_quark ())
GQuark mero_gossipsub_error_quark (void);

typedef enum {
  MERO_GOSSIPSUB_ERROR_MALFORMED,     /* not an RPC protobuf, or a bad field */
  MERO_GOSSIPSUB_ERROR_TOO_LARGE,     /* beyond a MERO_GOSSIPSUB_MAX_* bound */
  MERO_GOSSIPSUB_ERROR_INVALID_SEQNO, /* missing or not 8 bytes */
  MERO_GOSSIPSUB_ERROR_NO_SIGNATURE,
  MERO_GOSSIPSUB_ERROR_INVALID_FROM,  /* not a PeerId multihash */
  MERO_GOSSIPSUB_ERROR_INVALID_KEY,   /* key does not match from, or unusable */
  MERO_GOSSIPSUB_ERROR_BAD_SIGNATURE,
  MERO_GOSSIPSUB_ERROR_NO_TOPIC,
} MeroGossipsubError;

typedef struct
{
  GBytes *from;      /* (nullable) PeerId multihash of the author */
  GBytes *data;      /* (nullable) */
  GBytes *seqno;     /* (nullable) 8 bytes under StrictSign */
  char *topic;       /* (nullable) required by validation */
  GBytes *signature; /* (nullable) */
  GBytes *key;       /* (nullable) PublicKey protobuf */
} MeroGossipsubMessage;

MeroGossipsubMessage *mero_gossipsub_message_new (void);
/* NULL-safe. */
void mero_gossipsub_message_free (MeroGossipsubMessage *msg);
/* (transfer full) a copy sharing the immutable GBytes fields. */
MeroGossipsubMessage *mero_gossipsub_message_copy (const MeroGossipsubMessage *msg);

/* (transfer full) the bytes the author signs. */
GBytes *mero_gossipsub_message_signing_bytes (const MeroGossipsubMessage *msg);

/* (transfer full) the whole Message protobuf (fields 1-6 as present). */
GBytes *mero_gossipsub_message_encode (const MeroGossipsubMessage *msg);

/* StrictSign checks as js makes them: seqno of 8 bytes, a signature,
 * from a valid PeerId, key (if present) equal to the key inlined in from,
 * a key to verify with (Ed25519 only), and the signature.  A topic is
 * required too. */
gboolean mero_gossipsub_message_verify_strict_sign (const MeroGossipsubMessage *msg,
                                                    GError                   **error);

/* (transfer full) js's StrictSign message id (author's PublicKey
 * protobuf || seqno), or NULL if the message has no usable author key
 * or seqno. */
GBytes *mero_gossipsub_message_id (const MeroGossipsubMessage *msg);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroGossipsubMessage, mero_gossipsub_message_free)

G_END_DECLS
