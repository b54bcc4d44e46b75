/* mero-identity.c: Ed25519 identity, its file and its PeerId. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-identity.h"

#include "crypto/mero-secret-file.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

G_DEFINE_QUARK (mero-identity-error-quark, mero_identity_error)

struct _MeroIdentity {
  /* libsodium's 64-byte secret key is seed || public key. */
  guint8 secret_key[crypto_sign_SECRETKEYBYTES];
  guint8 public_key[crypto_sign_PUBLICKEYBYTES];
  MeroPeerId *peer_id;
};

MeroIdentity *
mero_identity_new_from_seed (const guint8 seed[MERO_ED25519_SEED_LEN])
{
  MeroIdentity *identity;

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
  identity = g_new0 (MeroIdentity, 1);
  crypto_sign_seed_keypair (identity->public_key, identity->secret_key, seed);
  identity->peer_id = mero_peer_id_new_from_ed25519 (identity->public_key);
  return identity;
}

void
mero_identity_copy_seed (const MeroIdentity *identity, guint8 seed[MERO_ED25519_SEED_LEN])
{
  g_return_if_fail (identity != NULL && seed != NULL);

  /* libsodium keeps the seed as the first half of its secret key. */
  memcpy (seed, identity->secret_key, MERO_ED25519_SEED_LEN);
}

MeroIdentity *
mero_identity_generate (void)
{
  guint8 seed[MERO_ED25519_SEED_LEN];
  MeroIdentity *identity;

  if (sodium_init () < 0)
    g_error ("libsodium failed to initialise");
  randombytes_buf (seed, sizeof seed);
  identity = mero_identity_new_from_seed (seed);
  sodium_memzero (seed, sizeof seed);
  return identity;
}

MeroIdentity *
mero_identity_load (const char *path, GError **error)
{
  /* One byte more than a valid file, to notice trailing garbage. */
  guint8 contents[MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN + 1];
  guint8 seed[MERO_ED25519_SEED_LEN];
  guint8 public_key[MERO_ED25519_PUBLIC_KEY_LEN];
  g_autoptr (GError) local_error = NULL;
  MeroIdentity *identity;
  gssize len;

  g_return_val_if_fail (path != NULL, NULL);

  len = mero_secret_file_read (path, contents, sizeof contents, &local_error);
  if (len < 0)
    {
      gboolean permissions =
          g_error_matches (local_error, MERO_SECRET_FILE_ERROR,
                           MERO_SECRET_FILE_ERROR_PERMISSIONS);

      g_set_error (error, MERO_IDENTITY_ERROR,
                   permissions ? MERO_IDENTITY_ERROR_PERMISSIONS : MERO_IDENTITY_ERROR_IO,
                   _("Identity file: %s"), local_error->message);
      return NULL;
    }
  if (!mero_key_codec_decode_ed25519_private (contents, (gsize) len, seed, public_key,
                                              &local_error))
    {
      sodium_memzero (contents, sizeof contents);
      g_set_error (error, MERO_IDENTITY_ERROR, MERO_IDENTITY_ERROR_MALFORMED,
                   _("Identity file %s is not a libp2p Ed25519 private key: %s"), path,
                   local_error->message);
      return NULL;
    }
  sodium_memzero (contents, sizeof contents);
  identity = mero_identity_new_from_seed (seed);
  sodium_memzero (seed, sizeof seed);
  return identity;
}

gboolean
mero_identity_save (const MeroIdentity *identity, const char *path, GError **error)
{
  guint8 buf[MERO_ED25519_PRIVATE_KEY_PROTOBUF_LEN];
  g_autoptr (GError) local_error = NULL;
  gboolean ok;

  g_return_val_if_fail (identity != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  mero_key_codec_encode_ed25519_private (identity->secret_key, identity->public_key, buf);
  /* The temp file is created with 0600 before any byte is written, so the
   * key is never visible with wider permissions, and the rename makes the
   * replacement atomic. */
  ok = g_file_set_contents_full (path, (const char *) buf, sizeof buf,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &local_error);
  sodium_memzero (buf, sizeof buf);
  if (!ok)
    {
      g_set_error (error, MERO_IDENTITY_ERROR, MERO_IDENTITY_ERROR_IO,
                   _("Cannot write identity file %s: %s"), path, local_error->message);
      return FALSE;
    }
  return TRUE;
}

void
mero_identity_free (MeroIdentity *identity)
{
  if (identity == NULL)
    return;
  sodium_memzero (identity->secret_key, sizeof identity->secret_key);
  mero_peer_id_free (identity->peer_id);
  g_free (identity);
}

const MeroPeerId *
mero_identity_get_peer_id (const MeroIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);

  return identity->peer_id;
}

const guint8 *
mero_identity_get_public_key (const MeroIdentity *identity)
{
  g_return_val_if_fail (identity != NULL, NULL);

  return identity->public_key;
}

void
mero_identity_sign (const MeroIdentity *identity, const guint8 *message, gsize len,
                    guint8 signature[MERO_ED25519_SIGNATURE_LEN])
{
  g_return_if_fail (identity != NULL);
  g_return_if_fail (message != NULL || len == 0);

  crypto_sign_detached (signature, NULL, message, len, identity->secret_key);
}
