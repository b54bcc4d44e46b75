/* Fuzz target: the TDX quote parser of plugins/tee-tdx (a quote is peer
 * input: a node asking to be admitted sends it), and the DER walker of the
 * PCK certificate's SGX extension on the same bytes.  Whatever parses must
 * lie inside the input with the lengths the layout fixes.  Seeds in
 * tests/fuzz/corpus/tee-tdx-quote, made by gen-tee-tdx-quote-seeds.py
 * (synthetic quotes, not the reference samples). */
#include <string.h>

#include "fuzz-target.h"
#include "tee-tdx-quote.h"
#include "tee-tdx-sgx-ext.h"

static void
assert_inside (const uint8_t *data, size_t size, const void *p, size_t n)
{
  const uint8_t *q = p;

  g_assert_true (q >= data && n <= size && (size_t) (q - data) <= size - n);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  TdxQuote q;
  TdxSgxExtension ext;

  if (tdx_quote_parse (data, size, &q, NULL))
    {
      g_assert_true (q.version == 4 || q.version == 5);
      g_assert_true (q.signed_len == 632 || q.signed_len == 638 || q.signed_len == 702);
      assert_inside (data, size, q.signed_region, q.signed_len);
      assert_inside (data, size, q.report_data, TDX_REPORT_DATA_LEN);
      assert_inside (data, size, q.signature, TDX_ECDSA_SIG_LEN);
      assert_inside (data, size, q.attestation_key, TDX_ECDSA_KEY_LEN);
      assert_inside (data, size, q.qe_report, TDX_QE_REPORT_LEN);
      assert_inside (data, size, q.qe_report_signature, TDX_ECDSA_SIG_LEN);
      assert_inside (data, size, q.qe_auth_data, q.qe_auth_data_len);
      assert_inside (data, size, q.pck_chain_pem, q.pck_chain_pem_len);
      g_assert_true (tdx_quote_looks_like (data, size));
    }
  (void) tdx_sgx_ext_parse (data, size, &ext, NULL);
  return 0;
}
