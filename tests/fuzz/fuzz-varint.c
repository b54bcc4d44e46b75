/* Fuzz target: varint decoding; whatever decodes must re-encode to the
 * same bytes (the decoder accepts only minimal encodings). */
#include <string.h>

#include "fuzz-target.h"
#include "net/core/mero-varint.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (gsize max = 1; max <= MERO_VARINT_MAX_BYTES; max++)
    {
      guint64 value = 0;
      gsize consumed = 0;

      if (mero_varint_decode_limited (data, size, max, &value, &consumed) == MERO_VARINT_OK)
        {
          guint8 buf[MERO_VARINT_MAX_BYTES];
          gsize n = mero_varint_encode (value, buf);

          g_assert_cmpuint (n, ==, consumed);
          g_assert_cmpuint (n, <=, max);
          g_assert_true (memcmp (buf, data, n) == 0);
        }
    }
  return 0;
}
