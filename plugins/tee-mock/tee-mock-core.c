/* tee-mock-core.c: see tee-mock-core.h. */
#include "tee-mock-core.h"

#include <string.h>

gboolean
tee_mock_handles_quote (const uint8_t *quote, size_t len)
{
  return quote != NULL && len >= TEE_MOCK_MAGIC_LEN &&
         memcmp (quote, TEE_MOCK_MAGIC, TEE_MOCK_MAGIC_LEN) == 0;
}

void
tee_mock_build_quote (const uint8_t report_data[64], uint8_t out[TEE_MOCK_QUOTE_LEN])
{
  memset (out, 0, TEE_MOCK_QUOTE_LEN);
  memcpy (out, TEE_MOCK_MAGIC, TEE_MOCK_MAGIC_LEN);
  memcpy (out + TEE_MOCK_MAGIC_LEN, report_data, TEE_MOCK_REPORT_DATA_LEN);
}

/* mero_tee_quotes_total{verifier="mock",result,reason}. */
static void
count (const MeroHostServices *host, const char *labels)
{
  if (host != NULL && host->counter_add != NULL)
    host->counter_add (host, "mero_tee_quotes_total", labels, 1);
}

#define VERDICT_HAS(v, member) \
  ((v)->struct_size >= G_STRUCT_OFFSET (MeroTeeVerdict, member) + sizeof ((v)->member))

gboolean
tee_mock_verify (const MeroHostServices *host, const MeroTeeVerifyInput *input,
                 MeroTeeVerdict *verdict, GError **error)
{
  const uint8_t *report_data;

  if (!tee_mock_handles_quote (input->quote, input->quote_len) ||
      input->quote_len != TEE_MOCK_QUOTE_LEN)
    {
      count (host, "verifier=\"mock\",result=\"refused\",reason=\"malformed\"");
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "not a mock quote (" TEE_MOCK_MAGIC " ‖ 64 bytes ‖ zeros, %d bytes)",
                   TEE_MOCK_QUOTE_LEN);
      return FALSE;
    }
  for (size_t i = TEE_MOCK_MAGIC_LEN + TEE_MOCK_REPORT_DATA_LEN; i < input->quote_len; i++)
    if (input->quote[i] != 0)
      {
        count (host, "verifier=\"mock\",result=\"refused\",reason=\"malformed\"");
        g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                     "mock quote padding is not zero at byte %zu", i);
        return FALSE;
      }
  if (!(input->flags & MERO_TEE_VERIFY_ACCEPT_MOCK))
    {
      count (host, "verifier=\"mock\",result=\"refused\",reason=\"mock_not_accepted\"");
      mero_plugin_log (host, MERO_LOG_LEVEL_WARNING, "tee-mock",
                       "mock TDX quote refused: tee.accept_mock is false");
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "mock quote refused: tee.accept_mock is false");
      return FALSE;
    }
  report_data = input->quote + TEE_MOCK_MAGIC_LEN;
  if (input->expected_report_data != NULL &&
      (input->report_data_len > TEE_MOCK_REPORT_DATA_LEN ||
       memcmp (input->expected_report_data, report_data, input->report_data_len) != 0))
    {
      count (host, "verifier=\"mock\",result=\"refused\",reason=\"report_data\"");
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA,
                   "mock quote report data does not bind the expected value");
      return FALSE;
    }
  if (VERDICT_HAS (verdict, report_data))
    {
      verdict->tcb_status = MERO_TEE_TCB_MOCK;
      memset (verdict->measurement, 0, sizeof verdict->measurement);
      verdict->measurement_len = sizeof verdict->measurement;
      memcpy (verdict->report_data, report_data, TEE_MOCK_REPORT_DATA_LEN);
    }
  if (VERDICT_HAS (verdict, advisory_ids))
    {
      memset (verdict->rtmr, 0, sizeof verdict->rtmr);
      memset (verdict->fmspc, 0, sizeof verdict->fmspc);
      memset (verdict->tee_tcb_svn, 0, sizeof verdict->tee_tcb_svn);
      verdict->flags = MERO_TEE_VERDICT_MOCK;
      verdict->platform_status = MERO_TEE_TCB_MOCK;
      verdict->qe_status = MERO_TEE_TCB_MOCK;
      verdict->module_status = MERO_TEE_TCB_MOCK;
      verdict->tcb_evaluation_data_number = 0;
      verdict->module_identity[0] = '\0';
      verdict->advisory_ids[0] = '\0';
    }
  /* Every accepted mock quote is counted and logged: it is no evidence of
   * a TEE. */
  count (host, "verifier=\"mock\",result=\"mock\"");
  mero_plugin_log (host, MERO_LOG_LEVEL_WARNING, "tee-mock",
                   "MOCK TDX quote accepted (tee.accept_mock=true): no attestation at all");
  return TRUE;
}
