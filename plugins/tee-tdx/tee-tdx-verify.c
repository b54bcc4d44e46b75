/* tee-tdx-verify.c: see tee-tdx-verify.h.
 *
 * Order of the checks: parse; pick the collateral of the PCK certificate's
 * FMSPC; the collateral's own validity windows (so an expired TCB info is
 * reported as such even when a CRL expired earlier); the signing chains,
 * CRLs and collateral signatures; the PCK chain and its revocation; the QE
 * report, its binding of the attestation key and the quote signature; the
 * QE identity; the TCB level and module identity; the TD attributes; the
 * caller's report data. */
#include "tee-tdx-verify.h"

#include <gnutls/crypto.h>
#include <string.h>

#include "tee-tdx-collateral.h"
#include "tee-tdx-quote.h"
#include "tee-tdx-sgx-ext.h"
#include "tee-tdx-tcb.h"
#include "tee-tdx-x509.h"

#define SGX_EXTENSION_OID "1.2.840.113741.1.13.1"

/* Subject CNs of Intel's certificates, by role. */
static const char *const tcb_signing_cn[] = { "Intel SGX TCB Signing", NULL };
static const char *const pck_ca_cn[] = { "Intel SGX PCK Platform CA", "Intel SGX PCK Processor CA",
                                         NULL };
static const char *const pck_leaf_cn[] = { "Intel SGX PCK Certificate", NULL };
#define SGX_EXTENSION_MAX_LEN 4096

/* Everything one verification holds, released in one place. */
typedef struct {
  TdxChain pck_chain;
  TdxChain tcb_chain;
  TdxChain qe_chain;
  TdxChain pck_crl_chain;
  gnutls_x509_crl_t root_crl;
  gnutls_x509_crl_t pck_crl;
  TdxCollateral *collateral;
  TdxTcbResult tcb;
} Verification;

static void
verification_clear (Verification *v)
{
  tdx_chain_clear (&v->pck_chain);
  tdx_chain_clear (&v->tcb_chain);
  tdx_chain_clear (&v->qe_chain);
  tdx_chain_clear (&v->pck_crl_chain);
  if (v->root_crl != NULL)
    gnutls_x509_crl_deinit (v->root_crl);
  if (v->pck_crl != NULL)
    gnutls_x509_crl_deinit (v->pck_crl);
  g_clear_pointer (&v->collateral, tdx_collateral_free);
  tdx_tcb_result_clear (&v->tcb);
}

static gboolean
read_sgx_extension (gnutls_x509_crt_t leaf, TdxSgxExtension *ext, GError **error)
{
  uint8_t buf[SGX_EXTENSION_MAX_LEN];
  size_t size = sizeof buf;
  unsigned int critical = 0;

  for (unsigned int i = 0;; i++)
    {
      char oid[128];
      size_t oid_size = sizeof oid;
      int rc = gnutls_x509_crt_get_extension_info (leaf, i, oid, &oid_size, &critical);

      if (rc < 0)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                       "PCK certificate has no SGX extension");
          return FALSE;
        }
      if (g_str_equal (oid, SGX_EXTENSION_OID))
        {
          if (gnutls_x509_crt_get_extension_data (leaf, i, buf, &size) < 0)
            {
              g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                           "PCK certificate SGX extension is unreadable or too long");
              return FALSE;
            }
          return tdx_sgx_ext_parse (buf, size, ext, error);
        }
    }
}

/* The first document whose TCB info is for @fmspc. */
static TdxCollateral *
pick_collateral (const MeroTeeVerifyInput *input, const uint8_t fmspc[6], GError **error)
{
  g_autoptr (GError) first_error = NULL;

  for (size_t i = 0; i < input->n_collateral; i++)
    {
      const MeroTeeCollateral *doc = &input->collateral[i];
      g_autoptr (GError) local = NULL;
      TdxCollateral *c = tdx_collateral_parse (doc->data, doc->len, &local);

      if (c == NULL)
        {
          if (first_error == NULL)
            first_error = g_steal_pointer (&local);
          continue;
        }
      if (memcmp (c->tcb_info.fmspc, fmspc, 6) == 0)
        return c;
      tdx_collateral_free (c);
    }
  /* One document that does not parse is reported as such. */
  if (input->n_collateral == 1 && first_error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return NULL;
    }
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
               "no collateral for FMSPC %02X%02X%02X%02X%02X%02X among %zu document(s)",
               fmspc[0], fmspc[1], fmspc[2], fmspc[3], fmspc[4], fmspc[5], input->n_collateral);
  return NULL;
}

static gboolean
check_dates (int64_t now, int64_t issue, int64_t next, const char *what, GError **error)
{
  if (now < issue)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   "%s issueDate is in the future (issued %" G_GINT64_FORMAT
                   ", now %" G_GINT64_FORMAT ")",
                   what, issue, now);
      return FALSE;
    }
  if (now >= next)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
                   "%s expired (nextUpdate %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT ")",
                   what, next, now);
      return FALSE;
    }
  return TRUE;
}

/* The signing certificate's revocation on the root CA CRL, and its
 * signature over the exact collateral text. */
static gboolean
check_signed_text (Verification *v, TdxChain *chain, const char *text, const uint8_t sig[64],
                   const char *what, GError **error)
{
  g_autofree char *cert_what = g_strdup_printf ("%s signing certificate", what);

  if (!tdx_check_common_name (chain->certs[0], tcb_signing_cn, cert_what, error) ||
      !tdx_check_not_revoked (chain->certs[0], v->root_crl, cert_what, error))
    return FALSE;
  if (!tdx_ecdsa_verify_cert (chain->certs[0], (const uint8_t *) text, strlen (text), sig))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE, "%s signature is invalid",
                   what);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_collateral (Verification *v, int64_t now, GError **error)
{
  TdxCollateral *c = v->collateral;
  TdxChain *qe_chain = &v->qe_chain;

  if (!check_dates (now, c->tcb_info.issue_date, c->tcb_info.next_update, "TCB info", error) ||
      !check_dates (now, c->qe_identity.issue_date, c->qe_identity.next_update, "QE identity",
                    error))
    return FALSE;
  if (!tdx_chain_import_verify (&v->tcb_chain, c->tcb_info_issuer_chain,
                                strlen (c->tcb_info_issuer_chain), 2, now,
                                "TCB info issuer chain", error))
    return FALSE;
  /* The root CA CRL is signed by the pinned root, which that chain ends in. */
  if (!tdx_crl_import_verify (&v->root_crl, g_bytes_get_data (c->root_ca_crl, NULL),
                              g_bytes_get_size (c->root_ca_crl), v->tcb_chain.certs[1], now,
                              "root CA CRL", error))
    return FALSE;
  /* Intel signs both with the same TCB signing chain: the same bytes are
   * not verified twice (ECDSA is most of the time spent here). */
  if (g_str_equal (c->qe_identity_issuer_chain, c->tcb_info_issuer_chain))
    qe_chain = &v->tcb_chain;
  else if (!tdx_chain_import_verify (qe_chain, c->qe_identity_issuer_chain,
                                     strlen (c->qe_identity_issuer_chain), 2, now,
                                     "QE identity issuer chain", error))
    return FALSE;
  return check_signed_text (v, &v->tcb_chain, c->tcb_info_text, c->tcb_info_signature,
                            "TCB info", error) &&
         check_signed_text (v, qe_chain, c->qe_identity_text, c->qe_identity_signature,
                            "QE identity", error);
}

static gboolean
same_issuer (gnutls_x509_crt_t leaf, gnutls_x509_crt_t ca)
{
  gnutls_datum_t issuer = { NULL, 0 }, subject = { NULL, 0 };
  gboolean same = FALSE;

  if (gnutls_x509_crt_get_raw_issuer_dn (leaf, &issuer) >= 0 &&
      gnutls_x509_crt_get_raw_dn (ca, &subject) >= 0)
    same = issuer.size == subject.size && memcmp (issuer.data, subject.data, issuer.size) == 0;
  gnutls_free (issuer.data);
  gnutls_free (subject.data);
  return same;
}

static gboolean
check_pck_chain (Verification *v, int64_t now, GError **error)
{
  TdxCollateral *c = v->collateral;

  if (!tdx_chain_verify (&v->pck_chain, now, "PCK certificate chain", error) ||
      !tdx_check_common_name (v->pck_chain.certs[0], pck_leaf_cn, "PCK certificate", error) ||
      !tdx_check_common_name (v->pck_chain.certs[1], pck_ca_cn, "PCK CA certificate", error) ||
      !tdx_check_not_revoked (v->pck_chain.certs[1], v->root_crl, "PCK CA certificate", error))
    return FALSE;
  /* The PCK CRL comes with its own issuer chain: it must verify, be the
   * CA that issued the leaf, and have signed the CRL. */
  if (!tdx_chain_import (&v->pck_crl_chain, c->pck_crl_issuer_chain,
                         strlen (c->pck_crl_issuer_chain), 2, "PCK CRL issuer chain", error))
    return FALSE;
  /* Usually the tail of the PCK chain just verified: not verified twice. */
  if (!(gnutls_x509_crt_equals (v->pck_crl_chain.certs[0], v->pck_chain.certs[1]) &&
        gnutls_x509_crt_equals (v->pck_crl_chain.certs[1], v->pck_chain.certs[2])) &&
      !tdx_chain_verify (&v->pck_crl_chain, now, "PCK CRL issuer chain", error))
    return FALSE;
  if (!same_issuer (v->pck_chain.certs[0], v->pck_crl_chain.certs[0]))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "PCK CRL is for another CA than the one that issued the PCK certificate");
      return FALSE;
    }
  return tdx_crl_import_verify (&v->pck_crl, g_bytes_get_data (c->pck_crl, NULL),
                                g_bytes_get_size (c->pck_crl), v->pck_crl_chain.certs[0], now,
                                "PCK CRL", error) &&
         tdx_check_not_revoked (v->pck_chain.certs[0], v->pck_crl, "PCK certificate", error);
}

/* The QE report is signed by the PCK key and binds the attestation key:
 * its report data is SHA-256(attestation key ‖ QE auth data) ‖ 32 zeros. */
static gboolean
check_qe_report (Verification *v, const TdxQuote *q, GError **error)
{
  static const uint8_t zero[32] = { 0 };
  const uint8_t *report_data = q->qe_report + TDX_QE_REPORT_DATA_OFF;
  uint8_t digest[32];
  gnutls_hash_hd_t hash = NULL;

  if (!tdx_ecdsa_verify_cert (v->pck_chain.certs[0], q->qe_report, TDX_QE_REPORT_LEN,
                              q->qe_report_signature))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "QE report signature is invalid (not signed by the PCK key)");
      return FALSE;
    }
  if (gnutls_hash_init (&hash, GNUTLS_DIG_SHA256) < 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED, "SHA-256 is unavailable");
      return FALSE;
    }
  gnutls_hash (hash, q->attestation_key, TDX_ECDSA_KEY_LEN);
  gnutls_hash (hash, q->qe_auth_data, q->qe_auth_data_len);
  gnutls_hash_deinit (hash, digest);
  if (memcmp (digest, report_data, 32) != 0 || memcmp (report_data + 32, zero, 32) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "QE report data does not bind the attestation key (hash mismatch)");
      return FALSE;
    }
  if (!tdx_ecdsa_verify_raw_key (q->attestation_key, q->signed_region, q->signed_len,
                                 q->signature))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "quote signature is invalid");
      return FALSE;
    }
  return TRUE;
}

static gboolean
masked_equal (const uint8_t *a, const uint8_t *b, const uint8_t *mask, size_t n)
{
  for (size_t i = 0; i < n; i++)
    if ((a[i] & mask[i]) != (b[i] & mask[i]))
      return FALSE;
  return TRUE;
}

/* The QE report against Intel's TD QE identity; returns its TCB level. */
static const TdxTcbLevel *
check_qe_identity (const TdxQeIdentity *id, const TdxQuote *q, GError **error)
{
  const uint8_t *r = q->qe_report;
  uint16_t isvsvn = tdx_read_u16 (r + TDX_QE_ISVSVN_OFF);

  if (!masked_equal (r + TDX_QE_MISCSELECT_OFF, id->miscselect, id->miscselect_mask, 4) ||
      !masked_equal (r + TDX_QE_ATTRIBUTES_OFF, id->attributes, id->attributes_mask, 16) ||
      memcmp (r + TDX_QE_MRSIGNER_OFF, id->mrsigner, 32) != 0 ||
      tdx_read_u16 (r + TDX_QE_ISVPRODID_OFF) != id->isvprodid)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "QE identity mismatch: the quoting enclave is not Intel's TD QE");
      return NULL;
    }
  for (guint i = 0; i < id->levels->len; i++)
    {
      const TdxTcbLevel *level = g_ptr_array_index (id->levels, i);

      if (isvsvn >= level->isvsvn)
        return level;
    }
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
               "TcbNotSupported: no QE identity level matches QE ISVSVN %u", isvsvn);
  return NULL;
}

/* dcap-qvl's TD policy: no debug unless allowed, no reserved bit,
 * SEPT_VE_DISABLE set, and no service TD binding (TD 1.5). */
static gboolean
check_td_attributes (const TdxQuote *q, uint32_t flags, GError **error)
{
  static const uint8_t zero[48] = { 0 };
  uint64_t attrs = (uint64_t) tdx_read_u32 (q->td_attributes) |
                   ((uint64_t) tdx_read_u32 (q->td_attributes + 4) << 32);
  const char *why = NULL;

  if ((attrs & TDX_TD_ATTR_DEBUG) && !(flags & MERO_TEE_VERIFY_ALLOW_DEBUG))
    why = "the TD runs in debug mode";
  else if (attrs & ~TDX_TD_ATTR_KNOWN)
    why = "a reserved TD attribute bit is set";
  else if (!(attrs & TDX_TD_ATTR_SEPT_VE_DISABLE))
    why = "SEPT_VE_DISABLE is not set";
  else if (q->mrservicetd != NULL && memcmp (q->mrservicetd, zero, sizeof zero) != 0)
    why = "MRSERVICETD is not zero";
  if (why != NULL)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY, "TD attributes refused: %s",
                   why);
      return FALSE;
    }
  return TRUE;
}

#define VERDICT_HAS(v, member) \
  ((v)->struct_size >= G_STRUCT_OFFSET (MeroTeeVerdict, member) + sizeof ((v)->member))

static void
fill_verdict (MeroTeeVerdict *out, const TdxQuote *q, const TdxSgxExtension *pck,
              const Verification *v, uint32_t qe_status)
{
  if (VERDICT_HAS (out, report_data))
    {
      out->tcb_status = v->tcb.status;
      memcpy (out->measurement, q->mrtd, TDX_MEASUREMENT_LEN);
      out->measurement_len = TDX_MEASUREMENT_LEN;
      memcpy (out->report_data, q->report_data, TDX_REPORT_DATA_LEN);
    }
  if (!VERDICT_HAS (out, advisory_ids))
    return;
  for (guint i = 0; i < 4; i++)
    memcpy (out->rtmr[i], q->rtmr[i], TDX_MEASUREMENT_LEN);
  memcpy (out->fmspc, pck->fmspc, sizeof out->fmspc);
  memcpy (out->tee_tcb_svn, q->tee_tcb_svn, sizeof out->tee_tcb_svn);
  out->flags = (q->td_attributes[0] & 1) ? MERO_TEE_VERDICT_DEBUG : 0;
  out->platform_status = v->tcb.platform_status;
  out->qe_status = qe_status;
  out->module_status = v->tcb.module_status;
  out->tcb_evaluation_data_number = v->collateral->tcb_info.tcb_evaluation_data_number;
  g_strlcpy (out->module_identity, v->tcb.module_identity, sizeof out->module_identity);
  out->advisory_ids[0] = '\0';
  for (guint i = 0; v->tcb.advisory_ids != NULL && i < v->tcb.advisory_ids->len; i++)
    {
      if (i > 0)
        g_strlcat (out->advisory_ids, ",", sizeof out->advisory_ids);
      g_strlcat (out->advisory_ids, g_ptr_array_index (v->tcb.advisory_ids, i),
                 sizeof out->advisory_ids);
    }
}

static gboolean
verify_steps (Verification *v, const MeroTeeVerifyInput *input, MeroTeeVerdict *verdict,
              GError **error)
{
  TdxQuote q;
  TdxSgxExtension pck;
  const TdxTcbLevel *qe_level;
  int64_t now = input->now_unix;

  if (!tdx_quote_parse (input->quote, input->quote_len, &q, error) ||
      !tdx_chain_import (&v->pck_chain, q.pck_chain_pem, q.pck_chain_pem_len, 3,
                         "PCK certificate chain", error) ||
      !read_sgx_extension (v->pck_chain.certs[0], &pck, error))
    return FALSE;
  v->collateral = pick_collateral (input, pck.fmspc, error);
  if (v->collateral == NULL || !check_collateral (v, now, error) ||
      !check_pck_chain (v, now, error) || !check_qe_report (v, &q, error))
    return FALSE;

  qe_level = check_qe_identity (&v->collateral->qe_identity, &q, error);
  if (qe_level == NULL)
    return FALSE;
  if (memcmp (v->collateral->tcb_info.pceid, pck.pceid, 2) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "TCB info is for another PCE ID than the PCK certificate's");
      return FALSE;
    }
  if (!tdx_tcb_evaluate (&q, &pck, &v->collateral->tcb_info, &v->tcb, error))
    return FALSE;
  tdx_tcb_result_add_advisories (&v->tcb, qe_level->advisory_ids);
  tdx_tcb_fold_qe (&v->tcb, qe_level->status);
  if (v->tcb.status == MERO_TEE_TCB_REVOKED)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "TCB status Revoked (platform %s, QE %s, module %s)",
                   mero_tee_tcb_status_to_string (v->tcb.platform_status),
                   mero_tee_tcb_status_to_string (qe_level->status),
                   mero_tee_tcb_status_to_string (v->tcb.module_status));
      return FALSE;
    }
  if (!check_td_attributes (&q, input->flags, error))
    return FALSE;
  if (input->expected_report_data != NULL &&
      (input->report_data_len > TDX_REPORT_DATA_LEN ||
       memcmp (input->expected_report_data, q.report_data, input->report_data_len) != 0))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA,
                   "quote report data does not bind the expected value");
      return FALSE;
    }
  fill_verdict (verdict, &q, &pck, v, qe_level->status);
  return TRUE;
}

gboolean
tdx_verify (const MeroTeeVerifyInput *input, MeroTeeVerdict *verdict, GError **error)
{
  Verification v;
  gboolean ok;

  g_return_val_if_fail (input != NULL && verdict != NULL, FALSE);
  memset (&v, 0, sizeof v);
  ok = verify_steps (&v, input, verdict, error);
  verification_clear (&v);
  return ok;
}
