/* plugin.c: tee-mock's descriptor and vtable (logic in tee-mock-core.c). */
#include <mero-sdk.h>

#include "tee-mock-core.h"

static gboolean
tee_mock_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  *plugin_data = (void *) host;
  return TRUE;
}

static gboolean
tee_mock_vt_handles_quote (void *plugin_data, const uint8_t *quote, size_t quote_len)
{
  return tee_mock_handles_quote (quote, quote_len);
}

/* ABI 1.0 hosts cannot say tee.accept_mock=true: refused. */
static gboolean
tee_mock_vt_verify (void *plugin_data, const uint8_t *quote, size_t quote_len,
                    const uint8_t *expected_report_data, size_t report_data_len,
                    MeroTeeVerdict *verdict, GError **error)
{
  MeroTeeVerifyInput input = {
    .struct_size = sizeof input,
    .flags = 0,
    .quote = quote,
    .quote_len = quote_len,
    .expected_report_data = expected_report_data,
    .report_data_len = report_data_len,
  };

  return tee_mock_verify (plugin_data, &input, verdict, error);
}

static gboolean
tee_mock_vt_verify_at (void *plugin_data, const MeroTeeVerifyInput *input,
                       MeroTeeVerdict *verdict, GError **error)
{
  return tee_mock_verify (plugin_data, input, verdict, error);
}

static const MeroTeeVerifierVTable tee_mock_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
  .quote_format = "mock",
  .verify = tee_mock_vt_verify,
  .handles_quote = tee_mock_vt_handles_quote,
  .verify_at = tee_mock_vt_verify_at,
};

MERO_PLUGIN_DEFINE (tee_mock, MERO_PLUGIN_KIND_TEE_VERIFIER, "tee-mock", MERO_SDK_VERSION_STRING,
                    "Apache-2.0", &tee_mock_vtable, tee_mock_init, NULL);
