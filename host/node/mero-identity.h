/* mero-identity.h: the node's Ed25519 identity.
 *
 * File format (<home>/identity.key): the raw libp2p `PrivateKey` protobuf
 * for Ed25519, as every libp2p implementation writes it:
 *   08 01 12 40 <32-byte seed> <32-byte public key>      (68 bytes)
 * The file is created atomically with mode 0600, and a file that group or
 * others may read is refused: the key is the node's whole identity. */
#pragma once

#include <glib.h>

#include "net/mero-key-codec.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_IDENTITY_FILE_NAME "identity.key"
#define MERO_ED25519_SIGNATURE_LEN 64

#define MERO_IDENTITY_ERROR (mero_identity_error_quark ())
GQuark mero_identity_error_quark (void);

typedef enum {
  MERO_IDENTITY_ERROR_IO = 1,
  MERO_IDENTITY_ERROR_PERMISSIONS = 2, /* readable by group or others */
  MERO_IDENTITY_ERROR_MALFORMED = 3,
} MeroIdentityError;

typedef struct _MeroIdentity MeroIdentity;

MeroIdentity *mero_identity_generate (void);
MeroIdentity *mero_identity_new_from_seed (const guint8 seed[MERO_ED25519_SEED_LEN]);
MeroIdentity *mero_identity_load (const char *path, GError **error);
/* Writes atomically (temp file + rename) with mode 0600, replacing @path. */
gboolean mero_identity_save (const MeroIdentity *identity, const char *path, GError **error);
/* Zeroes the secret before freeing; NULL-safe. */
void mero_identity_free (MeroIdentity *identity);

/* Owned by @identity. */
const MeroPeerId *mero_identity_get_peer_id (const MeroIdentity *identity);
const guint8 *mero_identity_get_public_key (const MeroIdentity *identity);
/* Copies the 32-byte Ed25519 seed into @seed, for the signers that need
 * the key itself (the gossipsub router signs StrictSign messages on the
 * network thread); wipe it after use. */
void mero_identity_copy_seed (const MeroIdentity *identity, guint8 seed[MERO_ED25519_SEED_LEN]);
/* Standard Ed25519 over the raw message, as libp2p signs. */
void mero_identity_sign (const MeroIdentity *identity, const guint8 *message, gsize len,
                         guint8 signature[MERO_ED25519_SIGNATURE_LEN]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroIdentity, mero_identity_free)

G_END_DECLS
