/* tee-tdx-sgx-ext.h: the Intel SGX extension of a PCK certificate
 * (OID 1.2.840.113741.1.13.1): the platform's TCB, PCE ID and FMSPC. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

#define TDX_SGX_TCB_COMPONENTS 16

typedef struct {
  uint8_t comp_svn[TDX_SGX_TCB_COMPONENTS];
  uint16_t pcesvn;
  uint8_t cpusvn[16];
  uint8_t pceid[2];
  uint8_t fmspc[6];
} TdxSgxExtension;

/* Parses the DER value of the extension with a bounded walker;
 * MERO_TEE_ERROR_MALFORMED if a required entry is missing or malformed. */
gboolean tdx_sgx_ext_parse (const uint8_t *der, size_t len, TdxSgxExtension *out,
                            GError **error);

G_END_DECLS
