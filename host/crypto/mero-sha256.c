#include "crypto/mero-sha256.h"

#include <gnutls/crypto.h>

struct _MeroSha256 {
  gnutls_hash_hd_t hd;
};

void
mero_sha256 (const void *data, gsize len, guint8 out[MERO_SHA256_LEN])
{
  /* gnutls_hash_fast only fails on an unknown algorithm or out of memory;
   * neither is recoverable for a caller that needs the digest. */
  if (gnutls_hash_fast (GNUTLS_DIG_SHA256, data, len, out) < 0)
    g_error ("gnutls_hash_fast(SHA256) failed");
}

MeroSha256 *
mero_sha256_new (void)
{
  MeroSha256 *ctx = g_new0 (MeroSha256, 1);

  if (gnutls_hash_init (&ctx->hd, GNUTLS_DIG_SHA256) < 0)
    g_error ("gnutls_hash_init(SHA256) failed");
  return ctx;
}

void
mero_sha256_update (MeroSha256 *ctx, const void *data, gsize len)
{
  g_return_if_fail (ctx != NULL);
  if (len > 0)
    gnutls_hash (ctx->hd, data, len);
}

void
mero_sha256_finish (MeroSha256 *ctx, guint8 out[MERO_SHA256_LEN])
{
  g_return_if_fail (ctx != NULL);
  /* gnutls_hash_output also resets the state, so @ctx can be reused. */
  gnutls_hash_output (ctx->hd, out);
}

void
mero_sha256_free (MeroSha256 *ctx)
{
  if (ctx == NULL)
    return;
  gnutls_hash_deinit (ctx->hd, NULL);
  g_free (ctx);
}
