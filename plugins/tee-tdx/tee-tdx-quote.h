/* tee-tdx-quote.h: bounded parser of Intel TDX DCAP quotes, v4 and v5.
 *
 * Every field is a pointer into the caller's buffer, which must outlive the
 * parsed quote.  Only declared lengths are trusted, each checked against
 * what is left; bytes after the signature data (padding) are ignored, as
 * Intel's QVL does. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

#define TDX_QUOTE_HEADER_LEN 48
#define TDX_QUOTE_BODY_DESCRIPTOR_LEN 6     /* v5: body_type u16, body_size u32 */
#define TDX_TD10_BODY_LEN 584
#define TDX_TD15_BODY_LEN 648
#define TDX_ECDSA_SIG_LEN 64                /* raw r‖s */
#define TDX_ECDSA_KEY_LEN 64                /* raw x‖y */
#define TDX_QE_REPORT_LEN 384
#define TDX_MEASUREMENT_LEN 48
#define TDX_REPORT_DATA_LEN 64
#define TDX_TEE_TYPE 0x00000081u
#define TDX_ATT_KEY_ECDSA_P256 2
#define TDX_CERT_DATA_QE_REPORT 6
#define TDX_CERT_DATA_PCK_CHAIN 5
#define TDX_BODY_TYPE_TD10 2
#define TDX_BODY_TYPE_TD15 3
/* The smallest buffer that can hold a header, a TD 1.0 body, the signature
 * data length and the fixed part of the signature data. */
#define TDX_QUOTE_MIN_LEN (TDX_QUOTE_HEADER_LEN + TDX_TD10_BODY_LEN + 4 + TDX_ECDSA_SIG_LEN + \
                           TDX_ECDSA_KEY_LEN + 2 + 4)

extern const uint8_t tdx_intel_qe_vendor_id[16];

typedef struct {
  uint16_t version;                 /* 4 or 5 */
  uint16_t body_type;               /* TDX_BODY_TYPE_TD10 or _TD15 */
  size_t signed_len;                /* the quote signature covers quote[0..signed_len) */
  const uint8_t *signed_region;

  /* TD report body */
  const uint8_t *tee_tcb_svn;       /* 16 */
  const uint8_t *mrseam;            /* 48 */
  const uint8_t *mrsignerseam;      /* 48 */
  const uint8_t *seam_attributes;   /* 8 */
  const uint8_t *td_attributes;     /* 8, u64 LE */
  const uint8_t *mrtd;              /* 48 */
  const uint8_t *rtmr[4];           /* 48 each */
  const uint8_t *report_data;       /* 64 */
  const uint8_t *tee_tcb_svn2;      /* 16, TD 1.5 only, else NULL */
  const uint8_t *mrservicetd;       /* 48, TD 1.5 only, else NULL */

  /* signature data */
  const uint8_t *signature;         /* 64 */
  const uint8_t *attestation_key;   /* 64 */
  const uint8_t *qe_report;         /* 384 */
  const uint8_t *qe_report_signature; /* 64 */
  const uint8_t *qe_auth_data;
  size_t qe_auth_data_len;
  const char *pck_chain_pem;        /* not NUL-terminated: use the length */
  size_t pck_chain_pem_len;         /* without trailing NUL bytes */
} TdxQuote;

/* TRUE if @data starts like a TDX quote (version 4/5, TEE type TDX). */
gboolean tdx_quote_looks_like (const uint8_t *data, size_t len);

/* Parses @data into *out; MERO_TEE_ERROR_MALFORMED saying which field does
 * not fit otherwise.  Reads nothing outside data[0..len). */
gboolean tdx_quote_parse (const uint8_t *data, size_t len, TdxQuote *out, GError **error);

/* QE report fields (offsets in the 384-byte SGX report). */
#define TDX_QE_MISCSELECT_OFF 16
#define TDX_QE_ATTRIBUTES_OFF 48
#define TDX_QE_MRSIGNER_OFF 128
#define TDX_QE_ISVPRODID_OFF 256
#define TDX_QE_ISVSVN_OFF 258
#define TDX_QE_REPORT_DATA_OFF 320

static inline uint16_t
tdx_read_u16 (const uint8_t *p)
{
  return (uint16_t) (p[0] | (p[1] << 8));
}

static inline uint32_t
tdx_read_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] | ((uint32_t) p[1] << 8) | ((uint32_t) p[2] << 16) |
         ((uint32_t) p[3] << 24);
}

G_END_DECLS
