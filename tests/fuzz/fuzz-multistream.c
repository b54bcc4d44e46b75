/* Fuzz target: multistream-select, both roles.  Byte 0 picks the role and
 * the chunk size; the rest is what the peer sent. */
#include "fuzz-target.h"
#include "net/core/mero-multistream.h"

static void
run (MeroMultistream *ms, const guint8 *data, gsize len, gsize chunk)
{
  for (gsize pos = 0; pos < len && mero_multistream_get_state (ms) == MERO_MULTISTREAM_STATE_NEGOTIATING;)
    {
      gsize n = MIN (chunk, len - pos);
      g_autoptr(GBytes) out = NULL;

      mero_multistream_recv (ms, data + pos, n, NULL);
      pos += n;
      out = mero_multistream_pull_send (ms);
      if (mero_multistream_get_state (ms) == MERO_MULTISTREAM_STATE_AGREED)
        {
          g_autoptr(GBytes) left = mero_multistream_steal_leftover (ms);

          g_assert_nonnull (mero_multistream_get_protocol (ms));
          g_assert_cmpuint (g_bytes_get_size (left), <=, len);
        }
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const char *const offer[] = { "/noise", "/tls/1.0.0", "/yamux/1.0.0", NULL };
  static const char *const prefixes[] = { "/calimero/stream/", NULL };
  g_autoptr(MeroMultistream) ms = NULL;
  gsize chunk;

  if (size < 1)
    return 0;
  chunk = (gsize) (data[0] >> 1) + 1;
  if (data[0] & 1)
    ms = mero_multistream_new_initiator (offer);
  else
    ms = mero_multistream_new_responder (offer, prefixes);
  run (ms, data + 1, size - 1, chunk);
  return 0;
}
