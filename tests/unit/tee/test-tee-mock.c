/* test-tee-mock.c: the mock quote format and its tee.accept_mock gate. */
#include <string.h>

#include "tee-mock-core.h"

typedef struct {
  MeroHostServices host;
  GPtrArray *lines;
  GHashTable *counters;       /* "name{labels}" -> count */
} LogCapture;

static void
capture_counter (const MeroHostServices *host, const char *name, const char *labels,
                 uint64_t delta)
{
  LogCapture *capture = (LogCapture *) host;
  char *key = g_strdup_printf ("%s{%s}", name, labels != NULL ? labels : "");

  g_hash_table_insert (capture->counters, key,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (capture->counters,
                                                                                 key)) +
                                         (guint) delta));
}

static guint
counter (LogCapture *capture, const char *key)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (capture->counters, key));
}

static void
capture_log (const MeroHostServices *host, MeroLogLevel level, const char *domain,
             const char *message)
{
  LogCapture *capture = (LogCapture *) host;

  g_ptr_array_add (capture->lines, g_strdup (message));
}

static gboolean
verify (LogCapture *capture, const uint8_t *quote, size_t len, uint32_t flags,
        const uint8_t *expected, MeroTeeVerdict *v, GError **error)
{
  MeroTeeVerifyInput input = {
    .struct_size = sizeof input,
    .flags = flags,
    .quote = quote,
    .quote_len = len,
    .expected_report_data = expected,
    .report_data_len = expected != NULL ? 64 : 0,
  };

  memset (v, 0, sizeof *v);
  v->struct_size = sizeof *v;
  return tee_mock_verify (&capture->host, &input, v, error);
}

static void
test_mock (void)
{
  LogCapture capture = { .host = { .struct_size = sizeof (MeroHostServices),
                                    .log = capture_log,
                                    .counter_add = capture_counter } };
  uint8_t report_data[64], quote[TEE_MOCK_QUOTE_LEN], other[64];
  MeroTeeVerdict v;

  capture.lines = g_ptr_array_new_with_free_func (g_free);
  capture.counters = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < 64; i++)
    report_data[i] = (uint8_t) i, other[i] = (uint8_t) (i + 1);
  tee_mock_build_quote (report_data, quote);
  g_assert_true (tee_mock_handles_quote (quote, sizeof quote));
  g_assert_false (tee_mock_handles_quote ((const uint8_t *) "\x04\x00", 2));

  /* Without tee.accept_mock: refused, with the reason. */
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (verify (&capture, quote, sizeof quote, 0, NULL, &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY);
    g_assert_nonnull (strstr (error->message, "tee.accept_mock"));
  }
  /* With it: accepted, marked and logged as mock every time. */
  for (guint round = 0; round < 2; round++)
    {
      guint logged = capture.lines->len;

      g_assert_true (verify (&capture, quote, sizeof quote, MERO_TEE_VERIFY_ACCEPT_MOCK,
                             report_data, &v, NULL));
      g_assert_cmpuint (v.tcb_status, ==, MERO_TEE_TCB_MOCK);
      g_assert_cmpuint (v.flags & MERO_TEE_VERDICT_MOCK, ==, MERO_TEE_VERDICT_MOCK);
      g_assert_cmpmem (v.report_data, 64, report_data, 64);
      g_assert_cmpuint (capture.lines->len, ==, logged + 1);
      g_assert_nonnull (strstr (g_ptr_array_index (capture.lines, logged), "MOCK"));
    }
  /* Bound to other report data, padding not zero, wrong length: refused. */
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (verify (&capture, quote, sizeof quote, MERO_TEE_VERIFY_ACCEPT_MOCK, other,
                            &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA);
  }
  {
    g_autoptr (GError) error = NULL;

    quote[200] = 1;
    g_assert_false (verify (&capture, quote, sizeof quote, MERO_TEE_VERIFY_ACCEPT_MOCK, NULL,
                            &v, &error));
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED);
    quote[200] = 0;
  }
  for (size_t n = 0; n < sizeof quote; n++)
    {
      g_autofree uint8_t *cut = g_memdup2 (quote, n);
      g_autoptr (GError) error = NULL;

      g_assert_false (verify (&capture, cut, n, MERO_TEE_VERIFY_ACCEPT_MOCK, NULL, &v, &error));
    }
  /* Every verdict counted, refusals by reason. */
  g_assert_cmpuint (counter (&capture, "mero_tee_quotes_total{verifier=\"mock\",result=\"mock\"}"),
                    ==, 2);
  g_assert_cmpuint (counter (&capture, "mero_tee_quotes_total{verifier=\"mock\",result=\"refused\","
                                       "reason=\"mock_not_accepted\"}"),
                    ==, 1);
  g_assert_cmpuint (counter (&capture, "mero_tee_quotes_total{verifier=\"mock\",result=\"refused\","
                                       "reason=\"report_data\"}"),
                    ==, 1);
  g_assert_cmpuint (counter (&capture, "mero_tee_quotes_total{verifier=\"mock\",result=\"refused\","
                                       "reason=\"malformed\"}"),
                    ==, 1 + TEE_MOCK_QUOTE_LEN);
  g_hash_table_unref (capture.counters);
  g_ptr_array_unref (capture.lines);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tee-mock/accept-mock", test_mock);
  return g_test_run ();
}
