/* tee-core.h: "test-tee", a TEE verifier for a simple signed quote format.
 *
 *   offset  size  field
 *   0       4     magic "MTQ1"
 *   4       1     tcb_status (MeroTeeTcbStatus)
 *   5       1     measurement_len (<= 48)
 *   6       48    measurement, zero-padded
 *   54      64    report_data
 *   118     32    HMAC-SHA256 over bytes 0..117 with TEST_TEE_KEY
 *
 * A real verifier checks a vendor certificate chain; this one checks a MAC
 * with a key the tests share, which exercises every error path of the
 * vtable (MALFORMED, SIGNATURE, REPORT_DATA, POLICY) with real crypto. */
#pragma once

#include <mero-sdk.h>

#define TEST_TEE_MAGIC "MTQ1"
#define TEST_TEE_KEY "merod test-tee key"
#define TEST_TEE_SIGNED_LEN 118
#define TEST_TEE_QUOTE_LEN (TEST_TEE_SIGNED_LEN + 32)
#define TEST_TEE_QUOTE_FORMAT "test-tee"

gboolean test_tee_init (const MeroHostServices *host, void **plugin_data, GError **error);
void test_tee_finalize (void *plugin_data);
gboolean test_tee_verify (void *plugin_data, const uint8_t *quote, size_t quote_len,
                          const uint8_t *expected_report_data, size_t report_data_len,
                          MeroTeeVerdict *verdict, GError **error);

extern const MeroTeeVerifierVTable test_tee_vtable;
