/* tee-tdx-collateral.h: the collateral of a TDX quote, read from dcap-qvl's
 * QuoteCollateralV3 JSON: issuer chains (PEM), CRLs (DER as hex), and the
 * TCB info and TD QE identity as the exact signed JSON text with their raw
 * r‖s signatures.  json-glib reads fields; the signed texts are kept as
 * received and never re-serialised. */
#pragma once

#include <mero-sdk.h>

#include "tee-tdx-sgx-ext.h"

G_BEGIN_DECLS

#define TDX_TDX_TCB_COMPONENTS 16
/* Bounds on what a collateral document may carry. */
#define TDX_COLLATERAL_MAX_LEVELS 256
#define TDX_COLLATERAL_MAX_IDENTITIES 32
#define TDX_COLLATERAL_MAX_ADVISORIES 64

typedef struct {
  uint8_t sgx_svn[TDX_SGX_TCB_COMPONENTS];
  uint16_t pcesvn;
  uint8_t tdx_svn[TDX_TDX_TCB_COMPONENTS];
  uint16_t isvsvn;            /* QE identity and module identity levels */
  uint32_t status;            /* MeroTeeTcbStatus */
  char **advisory_ids;        /* NULL-terminated, may be empty */
} TdxTcbLevel;

typedef struct {
  char *id;                   /* e.g. "TDX_01" */
  uint8_t mrsigner[48];
  uint8_t attributes[8];
  uint8_t attributes_mask[8];
  GPtrArray *levels;          /* TdxTcbLevel *, isvsvn only */
} TdxModuleIdentity;

typedef struct {
  int64_t issue_date;
  int64_t next_update;
  uint8_t fmspc[6];
  uint8_t pceid[2];
  uint32_t tcb_evaluation_data_number;
  uint8_t module_mrsigner[48];
  uint8_t module_attributes[8];
  uint8_t module_attributes_mask[8];
  GPtrArray *module_identities; /* TdxModuleIdentity * */
  GPtrArray *levels;            /* TdxTcbLevel * */
} TdxTcbInfo;

typedef struct {
  int64_t issue_date;
  int64_t next_update;
  uint32_t tcb_evaluation_data_number;
  uint8_t miscselect[4];
  uint8_t miscselect_mask[4];
  uint8_t attributes[16];
  uint8_t attributes_mask[16];
  uint8_t mrsigner[32];
  uint16_t isvprodid;
  GPtrArray *levels;            /* TdxTcbLevel *, isvsvn only */
} TdxQeIdentity;

typedef struct {
  char *pck_crl_issuer_chain;
  GBytes *root_ca_crl;
  GBytes *pck_crl;
  char *tcb_info_issuer_chain;
  char *tcb_info_text;          /* exactly the signed bytes */
  uint8_t tcb_info_signature[64];
  char *qe_identity_issuer_chain;
  char *qe_identity_text;       /* exactly the signed bytes */
  uint8_t qe_identity_signature[64];
  TdxTcbInfo tcb_info;
  TdxQeIdentity qe_identity;
} TdxCollateral;

void tdx_collateral_free (TdxCollateral *collateral);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TdxCollateral, tdx_collateral_free)

/* Parses one collateral document (MERO_TEE_ERROR_MALFORMED naming the
 * field otherwise).  Nothing is verified here. */
TdxCollateral *tdx_collateral_parse (const uint8_t *data, size_t len, GError **error);

/* Decodes exactly @n bytes of hex (either case) from @hex. */
gboolean tdx_hex_decode (const char *hex, uint8_t *out, size_t n);

G_END_DECLS
