/* tee-tdx-quote.c: the TDX quote layout (see tee-tdx-quote.h).
 *
 * A cursor walks the buffer; every take checks the remaining length first,
 * so a truncated or lying quote fails with the name of the field that does
 * not fit instead of reading past the end. */
#include "tee-tdx-quote.h"

#include <string.h>

const uint8_t tdx_intel_qe_vendor_id[16] = {
  0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9,
  0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07,
};

typedef struct {
  const uint8_t *data;
  size_t len;
  size_t pos;
} Cursor;

static gboolean
take (Cursor *c, size_t n, const uint8_t **out, const char *what, GError **error)
{
  if (n > c->len - c->pos)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "quote truncated: %s needs %zu bytes at offset %zu, %zu left", what, n, c->pos,
                   c->len - c->pos);
      return FALSE;
    }
  *out = c->data + c->pos;
  c->pos += n;
  return TRUE;
}

static gboolean
take_u16 (Cursor *c, uint16_t *out, const char *what, GError **error)
{
  const uint8_t *p;

  if (!take (c, 2, &p, what, error))
    return FALSE;
  *out = tdx_read_u16 (p);
  return TRUE;
}

static gboolean
take_u32 (Cursor *c, uint32_t *out, const char *what, GError **error)
{
  const uint8_t *p;

  if (!take (c, 4, &p, what, error))
    return FALSE;
  *out = tdx_read_u32 (p);
  return TRUE;
}

gboolean
tdx_quote_looks_like (const uint8_t *data, size_t len)
{
  uint16_t version;

  if (data == NULL || len < TDX_QUOTE_HEADER_LEN)
    return FALSE;
  version = tdx_read_u16 (data);
  return (version == 4 || version == 5) && tdx_read_u32 (data + 4) == TDX_TEE_TYPE;
}

static gboolean
parse_header (Cursor *c, TdxQuote *q, GError **error)
{
  const uint8_t *h;
  uint16_t key_type;

  if (!take (c, TDX_QUOTE_HEADER_LEN, &h, "header", error))
    return FALSE;
  q->version = tdx_read_u16 (h);
  key_type = tdx_read_u16 (h + 2);
  if (q->version != 4 && q->version != 5)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "unsupported quote version %u (4 and 5 are)", q->version);
      return FALSE;
    }
  if (key_type != TDX_ATT_KEY_ECDSA_P256)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "unsupported attestation key type %u (2 = ECDSA P-256 is)", key_type);
      return FALSE;
    }
  if (tdx_read_u32 (h + 4) != TDX_TEE_TYPE)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "TEE type 0x%08x is not TDX (0x81)", tdx_read_u32 (h + 4));
      return FALSE;
    }
  if (memcmp (h + 12, tdx_intel_qe_vendor_id, sizeof tdx_intel_qe_vendor_id) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "unknown QE vendor ID (not Intel's quoting enclave)");
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_body (Cursor *c, TdxQuote *q, GError **error)
{
  const uint8_t *b;
  size_t body_len = TDX_TD10_BODY_LEN;

  q->body_type = TDX_BODY_TYPE_TD10;
  if (q->version == 5)
    {
      uint32_t body_size;

      if (!take_u16 (c, &q->body_type, "body type", error) ||
          !take_u32 (c, &body_size, "body size", error))
        return FALSE;
      if (q->body_type == TDX_BODY_TYPE_TD10)
        body_len = TDX_TD10_BODY_LEN;
      else if (q->body_type == TDX_BODY_TYPE_TD15)
        body_len = TDX_TD15_BODY_LEN;
      else
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                       "unsupported v5 body type %u (2 = TD 1.0 and 3 = TD 1.5 are)",
                       q->body_type);
          return FALSE;
        }
      if (body_size != body_len)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                       "v5 body type %u declares %u bytes, not %zu", q->body_type, body_size,
                       body_len);
          return FALSE;
        }
    }
  if (!take (c, body_len, &b, "TD report body", error))
    return FALSE;
  q->tee_tcb_svn = b;
  q->mrseam = b + 16;
  q->mrsignerseam = b + 64;
  q->seam_attributes = b + 112;
  q->td_attributes = b + 120;
  q->mrtd = b + 136;
  for (guint i = 0; i < 4; i++)
    q->rtmr[i] = b + 328 + i * TDX_MEASUREMENT_LEN;
  q->report_data = b + 520;
  q->tee_tcb_svn2 = q->body_type == TDX_BODY_TYPE_TD15 ? b + 584 : NULL;
  q->mrservicetd = q->body_type == TDX_BODY_TYPE_TD15 ? b + 600 : NULL;
  q->signed_region = c->data;
  q->signed_len = c->pos;
  return TRUE;
}

static gboolean
parse_signature_data (Cursor *outer, TdxQuote *q, GError **error)
{
  uint32_t sig_data_len, cert_size, pem_size;
  uint16_t cert_type, auth_len, inner_type;
  const uint8_t *sig_data, *pem;
  Cursor c;

  if (!take_u32 (outer, &sig_data_len, "signature data length", error) ||
      !take (outer, sig_data_len, &sig_data, "signature data", error))
    return FALSE;
  c = (Cursor) { sig_data, sig_data_len, 0 };
  if (!take (&c, TDX_ECDSA_SIG_LEN, &q->signature, "quote signature", error) ||
      !take (&c, TDX_ECDSA_KEY_LEN, &q->attestation_key, "attestation key", error) ||
      !take_u16 (&c, &cert_type, "certification data type", error) ||
      !take_u32 (&c, &cert_size, "certification data size", error))
    return FALSE;
  if (cert_type != TDX_CERT_DATA_QE_REPORT)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "certification data type %u is not 6 (QE report)", cert_type);
      return FALSE;
    }
  if (cert_size > c.len - c.pos)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "quote truncated: certification data declares %u bytes, %zu left", cert_size,
                   c.len - c.pos);
      return FALSE;
    }
  /* From here on the certification data bounds every field. */
  c.len = c.pos + cert_size;
  if (!take (&c, TDX_QE_REPORT_LEN, &q->qe_report, "QE report", error) ||
      !take (&c, TDX_ECDSA_SIG_LEN, &q->qe_report_signature, "QE report signature", error) ||
      !take_u16 (&c, &auth_len, "QE auth data size", error) ||
      !take (&c, auth_len, &q->qe_auth_data, "QE auth data", error) ||
      !take_u16 (&c, &inner_type, "PCK certification data type", error) ||
      !take_u32 (&c, &pem_size, "PCK certification data size", error))
    return FALSE;
  q->qe_auth_data_len = auth_len;
  if (inner_type != TDX_CERT_DATA_PCK_CHAIN)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "PCK certification data type %u is not 5 (PCK certificate chain)", inner_type);
      return FALSE;
    }
  if (!take (&c, pem_size, &pem, "PCK certificate chain", error))
    return FALSE;
  /* The declared size counts the chain's trailing NUL. */
  while (pem_size > 0 && pem[pem_size - 1] == '\0')
    pem_size--;
  q->pck_chain_pem = (const char *) pem;
  q->pck_chain_pem_len = pem_size;
  return TRUE;
}

gboolean
tdx_quote_parse (const uint8_t *data, size_t len, TdxQuote *out, GError **error)
{
  Cursor c = { data, len, 0 };

  memset (out, 0, sizeof *out);
  if (data == NULL || len < TDX_QUOTE_MIN_LEN)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "quote truncated: %zu bytes, a TDX quote has at least %d", data ? len : 0,
                   TDX_QUOTE_MIN_LEN);
      return FALSE;
    }
  return parse_header (&c, out, error) && parse_body (&c, out, error) &&
         parse_signature_data (&c, out, error);
}
