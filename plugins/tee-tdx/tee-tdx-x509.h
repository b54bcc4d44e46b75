/* tee-tdx-x509.h: certificate chains, CRLs and raw ECDSA signatures with
 * GnuTLS, every validity judged at the caller's "now" (never the clock). */
#pragma once

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

#define TDX_CHAIN_MAX_CERTS 4

typedef struct {
  gnutls_x509_crt_t certs[TDX_CHAIN_MAX_CERTS];  /* leaf first, pinned root last */
  guint n_certs;
} TdxChain;

void tdx_chain_clear (TdxChain *chain);

/* Imports a PEM chain of exactly @n_expected certificates (no checks). */
gboolean tdx_chain_import (TdxChain *chain, const char *pem, size_t pem_len, guint n_expected,
                           const char *what, GError **error);
/* Checks that the chain ends in the pinned Intel SGX Root CA, every
 * signature up to it and every validity window at @now. */
gboolean tdx_chain_verify (TdxChain *chain, int64_t now, const char *what, GError **error);

/* Both: imports a PEM chain of exactly @n_expected certificates whose last one
 * is the pinned Intel SGX Root CA, verifies every signature up to it and
 * every validity window at @now.  @what names the chain in messages. */
gboolean tdx_chain_import_verify (TdxChain *chain, const char *pem, size_t pem_len,
                                  guint n_expected, int64_t now, const char *what,
                                  GError **error);

/* Imports a DER CRL, checks it was signed by @issuer, that the issuer
 * names match and that @now is in [thisUpdate, nextUpdate). */
gboolean tdx_crl_import_verify (gnutls_x509_crl_t *crl, const uint8_t *der, size_t len,
                                gnutls_x509_crt_t issuer, int64_t now, const char *what,
                                GError **error);

/* MERO_TEE_ERROR_SIGNATURE if @cert is on @crl. */
gboolean tdx_check_not_revoked (gnutls_x509_crt_t cert, gnutls_x509_crl_t crl,
                                const char *cert_what, GError **error);

/* MERO_TEE_ERROR_SIGNATURE unless @cert's subject CN is one of @names
 * (NULL-terminated): Intel's certificates each have one role. */
gboolean tdx_check_common_name (gnutls_x509_crt_t cert, const char *const *names,
                                const char *what, GError **error);

/* ECDSA-P256-SHA256 over @msg with a raw r‖s signature. */
gboolean tdx_ecdsa_verify_cert (gnutls_x509_crt_t cert, const uint8_t *msg, size_t len,
                                const uint8_t sig[64]);
gboolean tdx_ecdsa_verify_raw_key (const uint8_t key[64], const uint8_t *msg, size_t len,
                                   const uint8_t sig[64]);

G_END_DECLS
