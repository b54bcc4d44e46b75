/* tee-core.c: see tee-core.h. */
#include "tee-core.h"

#include <string.h>

typedef struct {
  const MeroHostServices *host;
} TeePlugin;

const MeroTeeVerifierVTable test_tee_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
  .quote_format = TEST_TEE_QUOTE_FORMAT,
  .verify = test_tee_verify,
};

gboolean
test_tee_init (const MeroHostServices *host, void **plugin_data, GError **error)
{
  TeePlugin *plugin = g_new0 (TeePlugin, 1);

  plugin->host = host;
  /* The host must not give state access to a non-sync plugin. */
  host->gauge_set (host, "mero_test_tee_has_state", NULL, host->state != NULL ? 1.0 : 0.0);
  host->counter_add (host, "mero_test_tee_init_total", NULL, 1);
  *plugin_data = plugin;
  return TRUE;
}

void
test_tee_finalize (void *plugin_data)
{
  TeePlugin *plugin = plugin_data;

  if (plugin == NULL)
    return;
  plugin->host->counter_add (plugin->host, "mero_test_tee_finalize_total", NULL, 1);
  g_free (plugin);
}

static gboolean
mac_matches (const uint8_t *quote)
{
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) TEST_TEE_KEY,
                                       strlen (TEST_TEE_KEY));
  guint8 mac[32];
  gsize mac_len = sizeof mac;
  guint8 diff = 0;

  g_hmac_update (hmac, quote, TEST_TEE_SIGNED_LEN);
  g_hmac_get_digest (hmac, mac, &mac_len);
  /* Constant time: do not tell a forger how many bytes were right. */
  for (size_t i = 0; i < sizeof mac; i++)
    diff |= mac[i] ^ quote[TEST_TEE_SIGNED_LEN + i];
  return diff == 0;
}

gboolean
test_tee_verify (void *plugin_data, const uint8_t *quote, size_t quote_len,
                 const uint8_t *expected_report_data, size_t report_data_len,
                 MeroTeeVerdict *verdict, GError **error)
{
  TeePlugin *plugin = plugin_data;
  uint8_t tcb, measurement_len;

  if (quote == NULL || quote_len != TEST_TEE_QUOTE_LEN ||
      memcmp (quote, TEST_TEE_MAGIC, 4) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "not a test-tee quote (%zu bytes)", quote_len);
      return FALSE;
    }
  tcb = quote[4];
  measurement_len = quote[5];
  if (tcb > MERO_TEE_TCB_UNKNOWN || measurement_len > sizeof verdict->measurement)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED,
                   "test-tee quote has an invalid header");
      return FALSE;
    }
  if (!mac_matches (quote))
    {
      plugin->host->counter_add (plugin->host, "mero_test_tee_rejected_total",
                                 "reason=\"signature\"", 1);
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE,
                   "test-tee quote signature does not verify");
      return FALSE;
    }
  if (expected_report_data != NULL)
    {
      uint8_t expected[64] = { 0 };

      if (report_data_len > sizeof expected)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA,
                       "expected report data longer than 64 bytes");
          return FALSE;
        }
      memcpy (expected, expected_report_data, report_data_len);
      if (memcmp (expected, quote + 54, sizeof expected) != 0)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA,
                       "quote does not bind the expected report data");
          return FALSE;
        }
    }
  if (tcb == MERO_TEE_TCB_REVOKED)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY, "TCB is revoked");
      return FALSE;
    }

  verdict->tcb_status = tcb;
  memset (verdict->measurement, 0, sizeof verdict->measurement);
  memcpy (verdict->measurement, quote + 6, measurement_len);
  verdict->measurement_len = measurement_len;
  memcpy (verdict->report_data, quote + 54, sizeof verdict->report_data);
  return TRUE;
}
