/* mero-peer-id.h: libp2p PeerIds (peer-ids.md; interop reference §2).
 *
 * A PeerId is the multihash of the peer's PublicKey protobuf: the identity
 * multihash (00 <len> <protobuf>) when the protobuf is at most 42 bytes,
 * as every Ed25519 key is, else sha2-256 (12 20 <digest>).  Its text form
 * is base58btc of those bytes without a multibase prefix ("12D3KooW…" for
 * Ed25519).  Parsing also accepts the CIDv1 form: multibase 'b' (base32)
 * of <0x01 version> <0x72 libp2p-key codec> <multihash>. */
#pragma once

#include <glib.h>

#include "net/mero-key-codec.h"

G_BEGIN_DECLS

/* The largest multihash we accept: identity of a 42-byte key. */
#define MERO_PEER_ID_MAX_LEN (2 + 42)
#define MERO_PEER_ID_MAX_INLINE_KEY 42

#define MERO_PEER_ID_ERROR (mero_peer_id_error_quark ())
GQuark mero_peer_id_error_quark (void);

typedef enum {
  MERO_PEER_ID_ERROR_INVALID = 1,
} MeroPeerIdError;

typedef struct _MeroPeerId MeroPeerId;

MeroPeerId *mero_peer_id_new_from_public_key (const guint8 *protobuf, gsize len);
MeroPeerId *mero_peer_id_new_from_ed25519 (const guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN]);
/* Validates @bytes as an identity or sha2-256 multihash. */
MeroPeerId *mero_peer_id_new_from_multihash (const guint8 *bytes, gsize len, GError **error);
/* base58btc multihash or CIDv1 (base32). */
MeroPeerId *mero_peer_id_parse (const char *text, GError **error);

MeroPeerId *mero_peer_id_copy (const MeroPeerId *peer_id);
void mero_peer_id_free (MeroPeerId *peer_id);
gboolean mero_peer_id_equal (const MeroPeerId *a, const MeroPeerId *b);

/* The multihash bytes; owned by @peer_id. */
const guint8 *mero_peer_id_get_bytes (const MeroPeerId *peer_id, gsize *len);
/* (transfer full) base58btc text. */
char *mero_peer_id_to_string (const MeroPeerId *peer_id);
/* (transfer full) CIDv1 text ("b…"). */
char *mero_peer_id_to_cid_string (const MeroPeerId *peer_id);
/* TRUE and the key when the id inlines an Ed25519 public key. */
gboolean mero_peer_id_get_ed25519_public_key (const MeroPeerId *peer_id,
                                              guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPeerId, mero_peer_id_free)

G_END_DECLS
