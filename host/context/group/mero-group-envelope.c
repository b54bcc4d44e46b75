/* mero-group-envelope.c: group key ids and sealed envelopes. */
#include "context/group/mero-group-envelope.h"

#include <string.h>

#include <sodium.h>

#include "crypto/mero-sha256.h"

#define KEY_ID_DOMAIN "mero/key-id/v1"

G_STATIC_ASSERT (MERO_GROUP_SEALED_LEN == MERO_GROUP_GROUP_KEY_LEN + crypto_box_SEALBYTES);

void
mero_group_key_id (const guint8 key[MERO_GROUP_GROUP_KEY_LEN], guint8 out[MERO_GROUP_ID_LEN])
{
  guint8 buf[sizeof KEY_ID_DOMAIN - 1 + MERO_GROUP_GROUP_KEY_LEN];

  memcpy (buf, KEY_ID_DOMAIN, sizeof KEY_ID_DOMAIN - 1);
  memcpy (buf + sizeof KEY_ID_DOMAIN - 1, key, MERO_GROUP_GROUP_KEY_LEN);
  mero_sha256 (buf, sizeof buf, out);
  sodium_memzero (buf, sizeof buf);
}

void
mero_group_key_generate (guint8 key[MERO_GROUP_GROUP_KEY_LEN], guint8 key_id[MERO_GROUP_ID_LEN])
{
  randombytes_buf (key, MERO_GROUP_GROUP_KEY_LEN);
  mero_group_key_id (key, key_id);
}

gboolean
mero_group_member_key_valid (const guint8 member[MERO_GROUP_KEY_LEN])
{
  guint8 x25519[crypto_box_PUBLICKEYBYTES];

  return crypto_sign_ed25519_pk_to_curve25519 (x25519, member) == 0;
}

gboolean
mero_group_envelope_seal (const guint8 member[MERO_GROUP_KEY_LEN],
                          const guint8 key[MERO_GROUP_GROUP_KEY_LEN], MeroGroupEnvelope *out,
                          GError **error)
{
  guint8 x25519[crypto_box_PUBLICKEYBYTES];

  if (crypto_sign_ed25519_pk_to_curve25519 (x25519, member) != 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "member key is not a valid Ed25519 public key");
      return FALSE;
    }
  memcpy (out->member, member, MERO_GROUP_KEY_LEN);
  crypto_box_seal (out->sealed, key, MERO_GROUP_GROUP_KEY_LEN, x25519);
  return TRUE;
}

gboolean
mero_group_envelope_open (const MeroGroupEnvelope *envelope,
                          const guint8 secret_key[MERO_GROUP_SECRET_LEN],
                          const guint8 key_id[MERO_GROUP_ID_LEN],
                          guint8 key_out[MERO_GROUP_GROUP_KEY_LEN], GError **error)
{
  guint8 x_pk[crypto_box_PUBLICKEYBYTES];
  guint8 x_sk[crypto_box_SECRETKEYBYTES];
  guint8 key[MERO_GROUP_GROUP_KEY_LEN];
  guint8 id[MERO_GROUP_ID_LEN];
  int rc;

  if (crypto_sign_ed25519_pk_to_curve25519 (x_pk, secret_key + 32) != 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_ENVELOPES,
                   "own key does not convert to X25519");
      return FALSE;
    }
  crypto_sign_ed25519_sk_to_curve25519 (x_sk, secret_key);
  rc = crypto_box_seal_open (key, envelope->sealed, MERO_GROUP_SEALED_LEN, x_pk, x_sk);
  sodium_memzero (x_sk, sizeof x_sk);
  if (rc != 0)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_ENVELOPES,
                   "key envelope does not open with this key");
      return FALSE;
    }
  mero_group_key_id (key, id);
  if (sodium_memcmp (id, key_id, MERO_GROUP_ID_LEN) != 0)
    {
      sodium_memzero (key, sizeof key);
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_BAD_ENVELOPES,
                   "key envelope holds a key that does not match its key id");
      return FALSE;
    }
  memcpy (key_out, key, MERO_GROUP_GROUP_KEY_LEN);
  sodium_memzero (key, sizeof key);
  return TRUE;
}
