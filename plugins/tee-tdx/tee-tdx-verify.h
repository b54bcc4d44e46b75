/* tee-tdx-verify.h: offline DCAP verification of a TDX quote, Intel QVL's
 * steps in order (with dcap-qvl's TD attribute checks), at an injected
 * "now".  Sans-IO: bytes in, verdict out; no clock, no network, no files. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* TDATTRIBUTES bits (u64 little-endian). */
#define TDX_TD_ATTR_DEBUG (G_GUINT64_CONSTANT (1) << 0)
#define TDX_TD_ATTR_SEPT_VE_DISABLE (G_GUINT64_CONSTANT (1) << 28)
#define TDX_TD_ATTR_PKS (G_GUINT64_CONSTANT (1) << 30)
#define TDX_TD_ATTR_KL (G_GUINT64_CONSTANT (1) << 31)
#define TDX_TD_ATTR_PERFMON (G_GUINT64_CONSTANT (1) << 63)
#define TDX_TD_ATTR_KNOWN                                                        \
  (TDX_TD_ATTR_DEBUG | TDX_TD_ATTR_SEPT_VE_DISABLE | TDX_TD_ATTR_PKS | TDX_TD_ATTR_KL | \
   TDX_TD_ATTR_PERFMON)

/* Verifies @input (quote, collateral documents, now, flags).  On success
 * fills the members of @verdict its struct_size covers and returns TRUE;
 * otherwise MERO_TEE_ERROR whose message names the failed check. */
gboolean tdx_verify (const MeroTeeVerifyInput *input, MeroTeeVerdict *verdict, GError **error);

G_END_DECLS
