/* tee-tdx-x509.c: see tee-tdx-x509.h.
 *
 * GnuTLS's verifiers compare times with the wall clock, so they run with
 * time checks disabled and every notBefore/notAfter/thisUpdate/nextUpdate
 * is compared here with the injected "now".  A time equal to the end of a
 * window is outside it (OpenSSL does the same). */
#include "tee-tdx-x509.h"

#include <gnutls/crypto.h>
#include <string.h>

/* SHA-256 of the DER of the Intel SGX Root CA (CN=Intel SGX Root CA, P-256,
 * 2018-05-21..2049-12-31), the only trust anchor of every chain. */
static const uint8_t intel_sgx_root_ca_sha256[32] = {
  0x44, 0xa0, 0x19, 0x6b, 0x2b, 0x99, 0xf8, 0x89, 0xb8, 0xe1, 0x49, 0xe9, 0x5b, 0x80, 0x7a, 0x35,
  0x0e, 0x74, 0x24, 0x96, 0x43, 0x99, 0xe8, 0x85, 0xa7, 0xcb, 0xb8, 0xcc, 0xfa, 0xb6, 0x74, 0xd3,
};

#define TIME_FLAGS (GNUTLS_VERIFY_DISABLE_TIME_CHECKS | GNUTLS_VERIFY_DISABLE_TRUSTED_TIME_CHECKS)

void
tdx_chain_clear (TdxChain *chain)
{
  for (guint i = 0; i < chain->n_certs; i++)
    gnutls_x509_crt_deinit (chain->certs[i]);
  chain->n_certs = 0;
}

static gboolean
is_pinned_root (gnutls_x509_crt_t crt)
{
  gnutls_datum_t der = { NULL, 0 };
  uint8_t digest[32];
  gboolean ok;

  if (gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der) < 0)
    return FALSE;
  ok = gnutls_hash_fast (GNUTLS_DIG_SHA256, der.data, der.size, digest) == 0 &&
       memcmp (digest, intel_sgx_root_ca_sha256, sizeof digest) == 0;
  gnutls_free (der.data);
  return ok;
}

static gboolean
check_window (int64_t now, time_t from, time_t until, const char *what, GError **error)
{
  if (from == (time_t) -1 || until == (time_t) -1)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED, "%s has no validity period",
                   what);
      return FALSE;
    }
  if (now < (int64_t) from)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   "%s is not yet valid (from %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT ")",
                   what, (int64_t) from, now);
      return FALSE;
    }
  if (now >= (int64_t) until)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   "%s expired (at %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT ")", what,
                   (int64_t) until, now);
      return FALSE;
    }
  return TRUE;
}

gboolean
tdx_chain_import (TdxChain *chain, const char *pem, size_t pem_len, guint n_expected,
                  const char *what, GError **error)
{
  gnutls_x509_crt_t *list = NULL;
  unsigned int n = 0;
  gnutls_datum_t data = { (unsigned char *) pem, (unsigned int) pem_len };

  g_return_val_if_fail (n_expected >= 2 && n_expected <= TDX_CHAIN_MAX_CERTS, FALSE);
  tdx_chain_clear (chain);
  if (pem_len > G_MAXUINT ||
      gnutls_x509_crt_list_import2 (&list, &n, &data, GNUTLS_X509_FMT_PEM, 0) < 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "%s: not a PEM certificate chain", what);
      return FALSE;
    }
  if (n > TDX_CHAIN_MAX_CERTS)
    {
      for (unsigned int i = 0; i < n; i++)
        gnutls_x509_crt_deinit (list[i]);
      gnutls_free (list);
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "%s: %u certificates, expected %u", what, n, n_expected);
      return FALSE;
    }
  for (unsigned int i = 0; i < n; i++)
    chain->certs[i] = list[i];
  chain->n_certs = n;
  gnutls_free (list);

  if (n != n_expected)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "%s: %u certificates, expected %u", what, n, n_expected);
      return FALSE;
    }
  return TRUE;
}

gboolean
tdx_chain_verify (TdxChain *chain, int64_t now, const char *what, GError **error)
{
  static const char *const position[] = { "leaf", "intermediate" };
  unsigned int n = chain->n_certs, status = 0;

  g_return_val_if_fail (n >= 2, FALSE);
  if (!is_pinned_root (chain->certs[n - 1]))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "%s does not end in the pinned Intel SGX Root CA", what);
      return FALSE;
    }
  if (gnutls_x509_crt_list_verify (chain->certs, n - 1, &chain->certs[n - 1], 1, NULL, 0,
                                   TIME_FLAGS, &status) < 0 ||
      status != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "%s does not verify up to the Intel SGX Root CA (status 0x%x)", what, status);
      return FALSE;
    }
  for (unsigned int i = 0; i < n; i++)
    {
      g_autofree char *name =
          g_strdup_printf ("%s %s certificate", what,
                           i == n - 1 ? "root" : position[MIN (i, 1u)]);

      if (!check_window (now, gnutls_x509_crt_get_activation_time (chain->certs[i]),
                         gnutls_x509_crt_get_expiration_time (chain->certs[i]), name, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
tdx_chain_import_verify (TdxChain *chain, const char *pem, size_t pem_len, guint n_expected,
                         int64_t now, const char *what, GError **error)
{
  return tdx_chain_import (chain, pem, pem_len, n_expected, what, error) &&
         tdx_chain_verify (chain, now, what, error);
}

static gboolean
same_dn (gnutls_x509_crl_t crl, gnutls_x509_crt_t issuer)
{
  gnutls_datum_t crl_dn = { NULL, 0 }, crt_dn = { NULL, 0 };
  gboolean same;

  if (gnutls_x509_crl_get_raw_issuer_dn (crl, &crl_dn) < 0)
    return FALSE;
  if (gnutls_x509_crt_get_raw_dn (issuer, &crt_dn) < 0)
    {
      gnutls_free (crl_dn.data);
      return FALSE;
    }
  same = crl_dn.size == crt_dn.size && memcmp (crl_dn.data, crt_dn.data, crl_dn.size) == 0;
  gnutls_free (crl_dn.data);
  gnutls_free (crt_dn.data);
  return same;
}

gboolean
tdx_crl_import_verify (gnutls_x509_crl_t *out, const uint8_t *der, size_t len,
                       gnutls_x509_crt_t issuer, int64_t now, const char *what, GError **error)
{
  gnutls_x509_crl_t crl = NULL;
  gnutls_datum_t data = { (unsigned char *) der, (unsigned int) len };
  unsigned int status = 0;

  *out = NULL;
  if (len > G_MAXUINT || gnutls_x509_crl_init (&crl) < 0 ||
      gnutls_x509_crl_import (crl, &data, GNUTLS_X509_FMT_DER) < 0)
    {
      if (crl != NULL)
        gnutls_x509_crl_deinit (crl);
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED, "%s is not a DER CRL", what);
      return FALSE;
    }
  *out = crl;
  if (!same_dn (crl, issuer))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "%s was issued by another CA than the certificate it covers", what);
      return FALSE;
    }
  /* GnuTLS judges thisUpdate/nextUpdate by the wall clock even with time
   * checks disabled; those two bits are dropped (the window is checked
   * below at "now"), every other one still refuses. */
  if (gnutls_x509_crl_verify (crl, &issuer, 1, TIME_FLAGS, &status) < 0)
    status |= GNUTLS_CERT_INVALID | GNUTLS_CERT_SIGNATURE_FAILURE;
  if (status & (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED | GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE))
    status &= ~(unsigned int) (GNUTLS_CERT_REVOCATION_DATA_SUPERSEDED |
                               GNUTLS_CERT_REVOCATION_DATA_ISSUED_IN_FUTURE | GNUTLS_CERT_INVALID);
  if (status != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "%s signature is invalid (status 0x%x)", what, status);
      return FALSE;
    }
  return check_window (now, gnutls_x509_crl_get_this_update (crl),
                       gnutls_x509_crl_get_next_update (crl), what, error);
}

gboolean
tdx_check_not_revoked (gnutls_x509_crt_t cert, gnutls_x509_crl_t crl, const char *cert_what,
                       GError **error)
{
  int rc = gnutls_x509_crt_check_revocation (cert, &crl, 1);

  if (rc != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE, "%s is revoked%s", cert_what,
                   rc < 0 ? " (or its revocation status cannot be read)" : "");
      return FALSE;
    }
  return TRUE;
}

gboolean
tdx_check_common_name (gnutls_x509_crt_t cert, const char *const *names, const char *what,
                       GError **error)
{
  char cn[128];
  size_t size = sizeof cn;

  if (gnutls_x509_crt_get_dn_by_oid (cert, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &size) >= 0 &&
      g_strv_contains (names, cn))
    return TRUE;
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
               "%s is not an Intel certificate for that role (subject CN)", what);
  return FALSE;
}

static gboolean
verify_with_pubkey (gnutls_pubkey_t key, const uint8_t *msg, size_t len, const uint8_t sig[64])
{
  gnutls_datum_t r = { (unsigned char *) sig, 32 }, s = { (unsigned char *) sig + 32, 32 };
  gnutls_datum_t der = { NULL, 0 }, data = { (unsigned char *) msg, (unsigned int) len };
  int rc;

  if (len > G_MAXUINT || gnutls_encode_rs_value (&der, &r, &s) < 0)
    return FALSE;
  rc = gnutls_pubkey_verify_data2 (key, GNUTLS_SIGN_ECDSA_SHA256, 0, &data, &der);
  gnutls_free (der.data);
  return rc >= 0;
}

gboolean
tdx_ecdsa_verify_cert (gnutls_x509_crt_t cert, const uint8_t *msg, size_t len,
                       const uint8_t sig[64])
{
  gnutls_pubkey_t key = NULL;
  gboolean ok;

  if (gnutls_pubkey_init (&key) < 0)
    return FALSE;
  ok = gnutls_pubkey_import_x509 (key, cert, 0) >= 0 &&
       gnutls_pubkey_get_pk_algorithm (key, NULL) == GNUTLS_PK_ECDSA &&
       verify_with_pubkey (key, msg, len, sig);
  gnutls_pubkey_deinit (key);
  return ok;
}

gboolean
tdx_ecdsa_verify_raw_key (const uint8_t key_xy[64], const uint8_t *msg, size_t len,
                          const uint8_t sig[64])
{
  gnutls_pubkey_t key = NULL;
  gnutls_datum_t x = { (unsigned char *) key_xy, 32 }, y = { (unsigned char *) key_xy + 32, 32 };
  gboolean ok;

  if (gnutls_pubkey_init (&key) < 0)
    return FALSE;
  ok = gnutls_pubkey_import_ecc_raw (key, GNUTLS_ECC_CURVE_SECP256R1, &x, &y) >= 0 &&
       verify_with_pubkey (key, msg, len, sig);
  gnutls_pubkey_deinit (key);
  return ok;
}
