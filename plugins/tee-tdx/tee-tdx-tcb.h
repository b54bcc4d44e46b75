/* tee-tdx-tcb.h: the TCB status of a TDX platform from Intel's TCB info,
 * with Intel's rules (QVL), not dcap-qvl's where they differ:
 *  - with a TDX module of major version > 0, TDX components 0 and 1 are
 *    judged by the module identity "TDX_%02X", not by the TCB level;
 *  - statuses combine by Intel's table (OutOfDate over ConfigurationNeeded
 *    gives OutOfDateConfigurationNeeded), not by maximum severity;
 *  - TD 1.5 quotes get the "TD relaunch advised" check. */
#pragma once

#include <mero-sdk.h>

#include "tee-tdx-collateral.h"
#include "tee-tdx-quote.h"
#include "tee-tdx-sgx-ext.h"

G_BEGIN_DECLS

typedef struct {
  uint32_t status;            /* combined MeroTeeTcbStatus */
  uint32_t platform_status;   /* the TCB level's own status */
  uint32_t module_status;     /* UpToDate when the module has no identity */
  char module_identity[16];   /* "TDX_01", or "" for major version 0 */
  GPtrArray *advisory_ids;    /* char *, union without duplicates */
} TdxTcbResult;

void tdx_tcb_result_clear (TdxTcbResult *result);

/* Adds @ids (NULL-terminated) to @result's advisory ids, skipping ones
 * already there. */
void tdx_tcb_result_add_advisories (TdxTcbResult *result, char *const *ids);

/* Finds the TCB level and module status of @quote on the platform of
 * @pck; MERO_TEE_ERROR_POLICY with the reason when no level matches
 * ("TcbNotSupported") or the module does not match its identity. */
gboolean tdx_tcb_evaluate (const TdxQuote *quote, const TdxSgxExtension *pck,
                           const TdxTcbInfo *info, TdxTcbResult *result, GError **error);

/* Folds the QE identity's status into result->status (Intel's rules). */
void tdx_tcb_fold_qe (TdxTcbResult *result, uint32_t qe_status);

G_END_DECLS
