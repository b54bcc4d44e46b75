/* plugin.c: tee-tdx's descriptor and vtable (logic in tee-tdx-*.c). */
#include <mero-sdk.h>

#include "tee-tdx-quote.h"
#include "tee-tdx-verify.h"

/* Every verification is counted, refusals by the kind of check that
 * failed: mero_tee_quotes_total{verifier="tdx",result,reason}. */
static void
count (const MeroHostServices *host, const GError *error)
{
  static const char *const reasons[] = {
    [MERO_TEE_ERROR_FAILED] = "collateral",   /* missing, expired, not yet valid */
    [MERO_TEE_ERROR_MALFORMED] = "malformed",
    [MERO_TEE_ERROR_SIGNATURE] = "signature",
    [MERO_TEE_ERROR_POLICY] = "tcb",
    [MERO_TEE_ERROR_REPORT_DATA] = "report_data",
  };
  g_autofree char *labels = NULL;

  if (host == NULL || host->counter_add == NULL)
    return;
  if (error == NULL)
    labels = g_strdup ("verifier=\"tdx\",result=\"verified\"");
  else
    labels = g_strdup_printf (
        "verifier=\"tdx\",result=\"refused\",reason=\"%s\"",
        error->domain == MERO_TEE_ERROR && error->code > 0 &&
                (size_t) error->code < G_N_ELEMENTS (reasons) && reasons[error->code] != NULL
            ? reasons[error->code]
            : "other");
  host->counter_add (host, "mero_tee_quotes_total", labels, 1);
}

static gboolean
tee_tdx_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  *plugin_data = (void *) host;
  return TRUE;
}

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
  GError *local = NULL;
  gboolean ok = tdx_verify (input, verdict, &local);

  count (plugin_data, local);
  if (local != NULL)
    g_propagate_error (error, local);
  return ok;
}

static const MeroTeeVerifierVTable tee_tdx_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
  .quote_format = "tdx",
  .verify = tee_tdx_verify,
  .handles_quote = tee_tdx_handles_quote,
  .verify_at = tee_tdx_verify_at,
};

MERO_PLUGIN_DEFINE (tee_tdx, MERO_PLUGIN_KIND_TEE_VERIFIER, "tee-tdx", MERO_SDK_VERSION_STRING,
                    "Apache-2.0", &tee_tdx_vtable, tee_tdx_init, NULL);
