/* Fuzz target: length-prefixed frame decoding.  The first byte picks the
 * chunk size so splits are explored too; every split must yield the same
 * frames as feeding everything at once. */
#include "fuzz-target.h"
#include "net/core/mero-lp-frame.h"

#define FUZZ_MAX_PAYLOAD 4096

static GPtrArray *
decode (const guint8 *data, gsize len, gsize chunk, gboolean *failed)
{
  g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (FUZZ_MAX_PAYLOAD);
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize pos = 0;

  *failed = FALSE;
  while (pos < len)
    {
      gsize end = MIN (len, pos + chunk);

      while (pos < end)
        {
          GBytes *frame = NULL;
          gsize used = 0;

          if (!mero_lp_decoder_feed (dec, data + pos, end - pos, &used, &frame, NULL))
            {
              *failed = TRUE;
              return frames;
            }
          g_assert_cmpuint (used, >, 0);
          pos += used;
          if (frame != NULL)
            {
              g_assert_cmpuint (g_bytes_get_size (frame), <=, FUZZ_MAX_PAYLOAD);
              g_ptr_array_add (frames, frame);
            }
        }
    }
  return frames;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GPtrArray) whole = NULL;
  g_autoptr(GPtrArray) split = NULL;
  gboolean failed_whole;
  gboolean failed_split;

  if (size < 1)
    return 0;
  whole = decode (data + 1, size - 1, G_MAXSIZE, &failed_whole);
  split = decode (data + 1, size - 1, (gsize) (data[0] % 16) + 1, &failed_split);
  g_assert_cmpint (failed_whole, ==, failed_split);
  g_assert_cmpuint (whole->len, ==, split->len);
  for (guint i = 0; i < whole->len; i++)
    g_assert_true (g_bytes_equal (whole->pdata[i], split->pdata[i]));
  return 0;
}
