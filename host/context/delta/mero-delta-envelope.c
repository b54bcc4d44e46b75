#include "context/delta/mero-delta-envelope.h"

#include <string.h>

#include <sodium.h>

#include "context/delta/mero-delta-error.h"
#include "crypto/mero-sha256.h"
#include "mero-delta.pb-c.h"

#define KEY_ID_DOMAIN "mero/key-id/v1"
#define SIGN_DOMAIN "mero/delta/v1"
#define PREFIX_LEN (sizeof SIGN_DOMAIN - 1 + 4 * 32 + 4)

G_STATIC_ASSERT (MERO_DELTA_NONCE_LEN == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
G_STATIC_ASSERT (MERO_DELTA_KEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
G_STATIC_ASSERT (MERO_DELTA_SIGNATURE_LEN == crypto_sign_BYTES);
G_STATIC_ASSERT (MERO_DELTA_SECRET_KEY_LEN == crypto_sign_SECRETKEYBYTES);

void
mero_delta_key_id (const guint8 key[MERO_DELTA_KEY_LEN], guint8 out[MERO_DELTA_ID_LEN])
{
  g_autoptr (MeroSha256) ctx = mero_sha256_new ();

  mero_sha256_update (ctx, KEY_ID_DOMAIN, sizeof KEY_ID_DOMAIN - 1);
  mero_sha256_update (ctx, key, MERO_DELTA_KEY_LEN);
  mero_sha256_finish (ctx, out);
}

static void
build_prefix (guint8 out[PREFIX_LEN], const guint8 *ctx, const guint8 *author,
              const guint8 *delta_id, const guint8 *key_id, guint32 cipher)
{
  guint8 *p = out;
  guint32 be = GUINT32_TO_BE (cipher);

  memcpy (p, SIGN_DOMAIN, sizeof SIGN_DOMAIN - 1), p += sizeof SIGN_DOMAIN - 1;
  memcpy (p, ctx, 32), p += 32;
  memcpy (p, author, 32), p += 32;
  memcpy (p, delta_id, 32), p += 32;
  memcpy (p, key_id, 32), p += 32;
  memcpy (p, &be, 4);
}

/* The signed message; see the header. */
static GByteArray *
build_signed (const guint8 prefix[PREFIX_LEN], const guint8 *nonce, const guint8 *ct,
              gsize ct_len, const guint8 *heads, guint n_heads)
{
  GByteArray *msg = g_byte_array_sized_new (PREFIX_LEN + 24 + 32 + 4 + n_heads * 32);
  guint8 ct_hash[32];
  guint32 be = GUINT32_TO_BE (n_heads);

  mero_sha256 (ct, ct_len, ct_hash);
  g_byte_array_append (msg, prefix, PREFIX_LEN);
  g_byte_array_append (msg, nonce, MERO_DELTA_NONCE_LEN);
  g_byte_array_append (msg, ct_hash, sizeof ct_hash);
  g_byte_array_append (msg, (const guint8 *) &be, 4);
  if (n_heads > 0)
    g_byte_array_append (msg, heads, n_heads * 32);
  return msg;
}

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (guint8 *) data };
  return b;
}

GBytes *
mero_delta_envelope_seal (const guint8 context_id[MERO_DELTA_ID_LEN],
                          const guint8 author_sk[MERO_DELTA_SECRET_KEY_LEN],
                          const guint8 key[MERO_DELTA_KEY_LEN],
                          const guint8 key_id[MERO_DELTA_ID_LEN],
                          const guint8 *governance_heads, guint n_heads, GBytes *body,
                          guint8 delta_id[MERO_DELTA_ID_LEN], GError **error)
{
  Mero__Delta__V1__DeltaEnvelope env = MERO__DELTA__V1__DELTA_ENVELOPE__INIT;
  g_autofree ProtobufCBinaryData *heads = g_new0 (ProtobufCBinaryData, MAX (n_heads, 1));
  guint8 author[MERO_DELTA_AUTHOR_LEN];
  guint8 nonce[MERO_DELTA_NONCE_LEN];
  guint8 prefix[PREFIX_LEN];
  guint8 sig[MERO_DELTA_SIGNATURE_LEN];
  gsize body_len = 0;
  const guint8 *body_data = g_bytes_get_data (body, &body_len);
  g_autofree guint8 *ct = NULL;
  unsigned long long ct_len = 0;
  g_autoptr (GByteArray) msg = NULL;
  gsize size;
  guint8 *buf;

  if (body_len > MERO_DELTA_MAX_BODY || n_heads > MERO_DELTA_MAX_GOVERNANCE_HEADS)
    {
      g_set_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE,
                   "body of %" G_GSIZE_FORMAT " bytes or %u governance heads over bound",
                   body_len, n_heads);
      return NULL;
    }
  crypto_sign_ed25519_sk_to_pk (author, author_sk);
  mero_sha256 (body_data, body_len, delta_id);
  randombytes_buf (nonce, sizeof nonce);
  build_prefix (prefix, context_id, author, delta_id, key_id,
                MERO_DELTA_CIPHER_XCHACHA20POLY1305);
  ct = g_malloc (body_len + crypto_aead_xchacha20poly1305_ietf_ABYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt (ct, &ct_len, body_data, body_len, prefix,
                                              sizeof prefix, NULL, nonce, key);
  msg = build_signed (prefix, nonce, ct, ct_len, governance_heads, n_heads);
  crypto_sign_detached (sig, NULL, msg->data, msg->len, author_sk);

  for (guint i = 0; i < n_heads; i++)
    heads[i] = bin (governance_heads + (gsize) i * 32, 32);
  env.context_id = bin (context_id, 32);
  env.author = bin (author, sizeof author);
  env.delta_id = bin (delta_id, 32);
  env.key_id = bin (key_id, 32);
  env.cipher = MERO_DELTA_CIPHER_XCHACHA20POLY1305;
  env.nonce = bin (nonce, sizeof nonce);
  env.ciphertext = bin (ct, ct_len);
  env.n_governance_heads = n_heads;
  env.governance_heads = heads;
  env.signature = bin (sig, sizeof sig);
  size = mero__delta__v1__delta_envelope__get_packed_size (&env);
  buf = g_malloc (size);
  mero__delta__v1__delta_envelope__pack (&env, buf);
  return g_bytes_new_take (buf, size);
}

void
mero_delta_opened_free (MeroDeltaOpened *opened)
{
  if (opened == NULL)
    return;
  g_free (opened->governance_heads);
  if (opened->body != NULL)
    g_bytes_unref (opened->body);
  g_free (opened);
}

static void
envelope_free (Mero__Delta__V1__DeltaEnvelope *e)
{
  if (e != NULL)
    mero__delta__v1__delta_envelope__free_unpacked (e, NULL);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Mero__Delta__V1__DeltaEnvelope, envelope_free)

static void *
err (GError **error, int code, const char *msg)
{
  g_set_error (error, MERO_DELTA_ERROR, code, "delta envelope: %s", msg);
  return NULL;
}

static gboolean
sizes_ok (const Mero__Delta__V1__DeltaEnvelope *e)
{
  if (e->context_id.len != 32 || e->author.len != 32 || e->delta_id.len != 32
      || e->key_id.len != 32 || e->nonce.len != MERO_DELTA_NONCE_LEN
      || e->signature.len != MERO_DELTA_SIGNATURE_LEN
      || e->ciphertext.len < crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return FALSE;
  for (gsize i = 0; i < e->n_governance_heads; i++)
    if (e->governance_heads[i].len != 32)
      return FALSE;
  return TRUE;
}

MeroDeltaOpened *
mero_delta_envelope_open (const guint8 *bytes, gsize len,
                          const guint8 context_id[MERO_DELTA_ID_LEN],
                          MeroDeltaKeyLookupFunc lookup, gpointer user_data, GError **error)
{
  g_autoptr (Mero__Delta__V1__DeltaEnvelope) e = NULL;
  g_autoptr (MeroDeltaOpened) out = NULL;
  g_autoptr (GByteArray) msg = NULL;
  g_autofree guint8 *heads = NULL;
  g_autofree guint8 *plain = NULL;
  unsigned long long plain_len = 0;
  guint8 prefix[PREFIX_LEN];
  guint8 id[MERO_DELTA_ID_LEN];
  const guint8 *key;

  if (len > MERO_DELTA_MAX_ENVELOPE)
    return err (error, MERO_DELTA_ERROR_TOO_LARGE, "over the size bound");
  e = mero__delta__v1__delta_envelope__unpack (NULL, len, bytes);
  if (e == NULL)
    return err (error, MERO_DELTA_ERROR_MALFORMED, "not a DeltaEnvelope");
  if (e->n_governance_heads > MERO_DELTA_MAX_GOVERNANCE_HEADS
      || e->ciphertext.len > MERO_DELTA_MAX_BODY + crypto_aead_xchacha20poly1305_ietf_ABYTES)
    return err (error, MERO_DELTA_ERROR_TOO_LARGE, "body or governance heads over bound");
  if (!sizes_ok (e))
    return err (error, MERO_DELTA_ERROR_MALFORMED, "field of the wrong size");
  if (e->cipher != MERO_DELTA_CIPHER_XCHACHA20POLY1305)
    return err (error, MERO_DELTA_ERROR_MALFORMED, "unknown cipher");
  if (memcmp (e->context_id.data, context_id, 32) != 0)
    return err (error, MERO_DELTA_ERROR_WRONG_CONTEXT, "for another context");

  heads = g_malloc (MAX (e->n_governance_heads, 1) * 32);
  for (gsize i = 0; i < e->n_governance_heads; i++)
    memcpy (heads + i * 32, e->governance_heads[i].data, 32);
  build_prefix (prefix, e->context_id.data, e->author.data, e->delta_id.data, e->key_id.data,
                e->cipher);
  msg = build_signed (prefix, e->nonce.data, e->ciphertext.data, e->ciphertext.len, heads,
                      (guint) e->n_governance_heads);
  if (crypto_sign_verify_detached (e->signature.data, msg->data, msg->len, e->author.data) != 0)
    return err (error, MERO_DELTA_ERROR_BAD_SIGNATURE, "signature does not verify");

  key = lookup != NULL ? lookup (e->key_id.data, user_data) : NULL;
  if (key == NULL)
    return err (error, MERO_DELTA_ERROR_UNKNOWN_KEY, "encrypted with a key we do not hold");
  plain = g_malloc (e->ciphertext.len);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt (plain, &plain_len, NULL, e->ciphertext.data,
                                                  e->ciphertext.len, prefix, sizeof prefix,
                                                  e->nonce.data, key) != 0)
    return err (error, MERO_DELTA_ERROR_DECRYPT, "body does not decrypt");
  mero_sha256 (plain, plain_len, id);
  if (memcmp (id, e->delta_id.data, 32) != 0)
    return err (error, MERO_DELTA_ERROR_ID_MISMATCH, "sha256 of the body is not the delta id");

  out = g_new0 (MeroDeltaOpened, 1);
  memcpy (out->context_id, e->context_id.data, 32);
  memcpy (out->author, e->author.data, 32);
  memcpy (out->delta_id, id, 32);
  memcpy (out->key_id, e->key_id.data, 32);
  out->n_governance_heads = (guint) e->n_governance_heads;
  out->governance_heads = g_steal_pointer (&heads);
  out->body = g_bytes_new_take (g_steal_pointer (&plain), plain_len);
  return g_steal_pointer (&out);
}
