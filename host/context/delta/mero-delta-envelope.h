/* mero-delta-envelope.h: a delta as it travels (DeltaEnvelope).
 *
 *   key_id    = sha256 ("mero/key-id/v1" || context key)
 *   delta_id  = sha256 (body bytes)
 *   prefix    = "mero/delta/v1" || context_id || author || delta_id || key_id
 *               || u32be (cipher)
 *   ciphertext = XChaCha20-Poly1305-IETF (body, nonce, AD = prefix)
 *   signature = Ed25519 (prefix || nonce || sha256 (ciphertext)
 *                        || u32be (n heads) || governance heads)
 *
 * The signature is over this explicit concatenation, never over a
 * re-encoding of the protobuf.  Opening checks, in order: sizes and
 * bounds, context, signature, key, decryption, recomputed id (upstream
 * lesson 6): nothing is trusted before the signature verifies, and the id
 * is never taken from the sender. */
#pragma once

#include <glib.h>

#include "context/delta/mero-delta-limits.h"

G_BEGIN_DECLS

void mero_delta_key_id (const guint8 key[MERO_DELTA_KEY_LEN], guint8 out[MERO_DELTA_ID_LEN]);

/* @key_id is normally mero_delta_key_id (@key); tests pass others.
 * @governance_heads: @n_heads x 32 bytes.  Returns the envelope bytes
 * (transfer full); @delta_id gets sha256 (@body). */
GBytes *mero_delta_envelope_seal (const guint8 context_id[MERO_DELTA_ID_LEN],
                                  const guint8 author_sk[MERO_DELTA_SECRET_KEY_LEN],
                                  const guint8 key[MERO_DELTA_KEY_LEN],
                                  const guint8 key_id[MERO_DELTA_ID_LEN],
                                  const guint8 *governance_heads, guint n_heads,
                                  GBytes *body, guint8 delta_id[MERO_DELTA_ID_LEN],
                                  GError **error);

/* Returns the context key for @key_id, or NULL if we hold none. */
typedef const guint8 *(*MeroDeltaKeyLookupFunc) (const guint8 key_id[MERO_DELTA_ID_LEN],
                                                 gpointer user_data);

typedef struct {
  guint8 context_id[MERO_DELTA_ID_LEN];
  guint8 author[MERO_DELTA_AUTHOR_LEN];
  guint8 delta_id[MERO_DELTA_ID_LEN];     /* verified: sha256 (body) */
  guint8 key_id[MERO_DELTA_ID_LEN];
  guint n_governance_heads;
  guint8 *governance_heads;               /* n x 32 */
  GBytes *body;                           /* decrypted, verified */
} MeroDeltaOpened;

/* @context_id: the context we expect (WRONG_CONTEXT otherwise). */
MeroDeltaOpened *mero_delta_envelope_open (const guint8 *bytes, gsize len,
                                           const guint8 context_id[MERO_DELTA_ID_LEN],
                                           MeroDeltaKeyLookupFunc lookup, gpointer user_data,
                                           GError **error);
void mero_delta_opened_free (MeroDeltaOpened *opened);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroDeltaOpened, mero_delta_opened_free)

G_END_DECLS
