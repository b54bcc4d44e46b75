/* tee-mock-core.h: the mock quote format of upstream Calimero
 * (`merod run --mock-tee`): "MOCK_TDX_QUOTE_V1" ‖ report data (64) ‖ zero
 * padding to 256 bytes.  It proves nothing; a mock quote is accepted only
 * when the host passes MERO_TEE_VERIFY_ACCEPT_MOCK (tee.accept_mock=true),
 * and every such verdict carries MERO_TEE_VERDICT_MOCK and is logged. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

#define TEE_MOCK_MAGIC "MOCK_TDX_QUOTE_V1"
#define TEE_MOCK_MAGIC_LEN 17
#define TEE_MOCK_REPORT_DATA_LEN 64
#define TEE_MOCK_QUOTE_LEN 256

gboolean tee_mock_handles_quote (const uint8_t *quote, size_t len);

/* Builds a mock quote binding @report_data (64 bytes) into out[256]. */
void tee_mock_build_quote (const uint8_t report_data[64], uint8_t out[TEE_MOCK_QUOTE_LEN]);

/* Checks the format and the flags and fills @verdict: status Mock, all-zero
 * measurements, the report data.  @host (may be NULL) gets the log line. */
gboolean tee_mock_verify (const MeroHostServices *host, const MeroTeeVerifyInput *input,
                          MeroTeeVerdict *verdict, GError **error);

G_END_DECLS
