/* hello.c: a third-party plugin built out of tree against the installed
 * SDK, with nothing but <mero-sdk.h> and pkg-config.  A TEE verifier for
 * the trivial quote format "hello:" || report data (up to 64 bytes). */
#include <string.h>

#include <mero-sdk.h>

#define HELLO_PREFIX "hello:"

typedef struct {
  const MeroHostServices *host;
} Hello;

static gboolean
hello_verify (void *plugin_data, const uint8_t *quote, size_t quote_len,
              const uint8_t *expected_report_data, size_t report_data_len,
              MeroTeeVerdict *verdict, GError **error)
{
  Hello *hello = plugin_data;
  size_t prefix_len = strlen (HELLO_PREFIX);
  size_t data_len;

  hello->host->counter_add (hello->host, "hello_verify_calls_total", NULL, 1);

  if (quote == NULL || quote_len < prefix_len || quote_len - prefix_len > 64 ||
      memcmp (quote, HELLO_PREFIX, prefix_len) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED, "not a hello quote");
      return FALSE;
    }
  data_len = quote_len - prefix_len;
  if (expected_report_data != NULL &&
      (report_data_len != data_len ||
       memcmp (expected_report_data, quote + prefix_len, data_len) != 0))
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA,
                   "hello quote binds other report data");
      return FALSE;
    }
  memset (verdict->report_data, 0, sizeof verdict->report_data);
  memcpy (verdict->report_data, quote + prefix_len, data_len);
  verdict->tcb_status = MERO_TEE_TCB_UNKNOWN;
  verdict->measurement_len = 0;
  return TRUE;
}

static const MeroTeeVerifierVTable hello_vtable = {
  .struct_size = sizeof (MeroTeeVerifierVTable),
  .quote_format = "hello",
  .verify = hello_verify,
};

static gboolean
hello_init (const MeroHostServices *host, void **plugin_data, GError **error G_GNUC_UNUSED)
{
  Hello *hello = g_new0 (Hello, 1);

  hello->host = host;
  mero_plugin_log (host, MERO_LOG_LEVEL_INFO, "hello", "hello from out of tree (SDK %s)",
                   MERO_SDK_VERSION_STRING);
  *plugin_data = hello;
  return TRUE;
}

static void
hello_finalize (void *plugin_data)
{
  g_free (plugin_data);
}

MERO_PLUGIN_DEFINE (hello, MERO_PLUGIN_KIND_TEE_VERIFIER, "hello", "0.0.1", "CC0-1.0",
                    &hello_vtable, hello_init, hello_finalize);
