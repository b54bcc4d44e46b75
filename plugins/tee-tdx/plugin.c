/* plugin.c: tee-tdx's descriptor and vtable (logic in tee-tdx-*.c). */
#include <mero-sdk.h>

#include "tee-tdx-quote.h"
#include "tee-tdx-verify.h"

static gboolean
tee_tdx_handles_quote (void *plugin_data, const uint8_t *quote, size_t quote_len)
{
  return tdx_quote_looks_like (quote, quote_len);
}

/* ABI 1.0 hosts pass neither collateral nor time: nothing can be verified
 * offline without them, so the quote is refused with that reason. */
static gboolean
tee_tdx_verify (void *plugin_data, const uint8_t *quote, size_t quote_len,
                const uint8_t *expected_report_data, size_t report_data_len,
                MeroTeeVerdict *verdict, GError **error)
{
  g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_FAILED,
               "tee-tdx needs the collateral and the time (verify_at, ABI 1.1)");
  return FALSE;
}

static gboolean
tee_tdx_verify_at (void *plugin_data, const MeroTeeVerifyInput *input, MeroTeeVerdict *verdict,
                   GError **error)
{
  return tdx_verify (input, verdict, error);
}

static const MeroTeeVerifierVTable tee_tdx_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
  .quote_format = "tdx",
  .verify = tee_tdx_verify,
  .handles_quote = tee_tdx_handles_quote,
  .verify_at = tee_tdx_verify_at,
};

MERO_PLUGIN_DEFINE (tee_tdx, MERO_PLUGIN_KIND_TEE_VERIFIER, "tee-tdx", MERO_SDK_VERSION_STRING,
                    "Apache-2.0", &tee_tdx_vtable, NULL, NULL);
