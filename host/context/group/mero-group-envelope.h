/* mero-group-envelope.h: the group key and its sealed envelopes.
 *
 * key id = sha256("mero/key-id/v1" || key).  An envelope is a libsodium
 * sealed box of the key to the member's X25519 key, derived from its
 * Ed25519 key (crypto_sign_ed25519_pk_to_curve25519), so only that member
 * can open it and nothing but the key itself is revealed. */
#pragma once

#include <glib.h>

#include "context/group/mero-group-op.h"

G_BEGIN_DECLS

void mero_group_key_id (const guint8 key[MERO_GROUP_GROUP_KEY_LEN], guint8 out[MERO_GROUP_ID_LEN]);
/* A fresh random key and its id. */
void mero_group_key_generate (guint8 key[MERO_GROUP_GROUP_KEY_LEN], guint8 key_id[MERO_GROUP_ID_LEN]);

/* Seals @key to @member.  FALSE (MALFORMED) if @member is not a usable
 * Ed25519 public key. */
gboolean mero_group_envelope_seal (const guint8 member[MERO_GROUP_KEY_LEN],
                                   const guint8 key[MERO_GROUP_GROUP_KEY_LEN],
                                   MeroGroupEnvelope *out, GError **error);
/* Opens an envelope with the member's Ed25519 secret key and checks the
 * key against @key_id.  FALSE if it is not for this key, or the content
 * does not match @key_id (BAD_ENVELOPES). */
gboolean mero_group_envelope_open (const MeroGroupEnvelope *envelope,
                                   const guint8 secret_key[MERO_GROUP_SECRET_LEN],
                                   const guint8 key_id[MERO_GROUP_ID_LEN],
                                   guint8 key_out[MERO_GROUP_GROUP_KEY_LEN], GError **error);
/* TRUE if @member converts to an X25519 key (a valid Ed25519 point). */
gboolean mero_group_member_key_valid (const guint8 member[MERO_GROUP_KEY_LEN]);

G_END_DECLS
