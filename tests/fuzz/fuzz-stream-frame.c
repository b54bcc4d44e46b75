/* Fuzz target: the `uvarint length || message` frame decoder of the
 * /calimero/stream/ protocols, fed in chunks whose sizes come from the
 * input itself.  Frames come out whole, never over MERO_STREAM_FRAME_MAX;
 * after an error nothing more is read; each frame's message goes through
 * the stream message decoder. */
#include "fuzz-target.h"
#include "node/mero-broadcast.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  size_t pos = 0;

  while (pos < size)
    {
      /* The first byte of each step picks the chunk size (1..64). */
      size_t chunk = MIN ((size_t) (data[pos] % 64) + 1, size - pos - 1);
      gboolean ok = TRUE;

      pos++;
      g_byte_array_append (buffer, data + pos, chunk);
      pos += chunk;
      for (;;)
        {
          g_autoptr (GBytes) message = NULL;
          g_autoptr (GError) error = NULL;

          ok = mero_stream_frame_pop (buffer, &message, &error);
          if (!ok)
            {
              g_assert (error != NULL);
              break;
            }
          if (message == NULL)
            break;
          g_assert (g_bytes_get_size (message) <= MERO_STREAM_FRAME_MAX);
          {
            g_autoptr (MeroStreamMsg) msg = mero_stream_msg_decode (
                g_bytes_get_data (message, NULL), g_bytes_get_size (message), NULL);
          }
        }
      if (!ok)
        break;
      if (chunk == 0)
        break;
    }
  return 0;
}
