/* Unit tests for length-prefixed framing. */
#include "net/core/mero-lp-frame.h"

#include "net-test-util.h"

/* Feeds @data in chunks of @chunk bytes and collects every frame. */
static GPtrArray *
decode_chunked (MeroLpDecoder *dec, const guint8 *data, gsize len, gsize chunk, GError **error)
{
  g_autoptr(GPtrArray) frames = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize pos = 0;

  while (pos < len)
    {
      gsize end = MIN (len, pos + chunk);

      while (pos < end)
        {
          GBytes *frame = NULL;
          gsize used = 0;

          if (!mero_lp_decoder_feed (dec, data + pos, end - pos, &used, &frame, error))
            return NULL;
          pos += used;
          if (frame != NULL)
            g_ptr_array_add (frames, frame);
        }
    }
  return g_steal_pointer (&frames);
}

static void
test_lp_roundtrip_any_split (void)
{
  g_autoptr(GByteArray) wire = g_byte_array_new ();
  g_autofree guint8 *big = g_malloc (300);

  for (guint i = 0; i < 300; i++)
    big[i] = (guint8) i;
  g_assert_true (mero_lp_frame_encode (wire, (const guint8 *) "hello", 5, 1024, NULL));
  g_assert_true (mero_lp_frame_encode (wire, NULL, 0, 1024, NULL));
  g_assert_true (mero_lp_frame_encode (wire, big, 300, 1024, NULL));
  /* 300 needs a two-byte prefix: ac 02. */
  net_test_assert_bytes (wire->data, 9, "0568656c6c6f 00 ac02");

  for (gsize chunk = 1; chunk <= wire->len; chunk++)
    {
      g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (1024);
      g_autoptr(GError) error = NULL;
      g_autoptr(GPtrArray) frames = decode_chunked (dec, wire->data, wire->len, chunk, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (frames->len, ==, 3);
      g_assert_cmpmem (g_bytes_get_data (frames->pdata[0], NULL), g_bytes_get_size (frames->pdata[0]), "hello", 5);
      g_assert_cmpuint (g_bytes_get_size (frames->pdata[1]), ==, 0);
      g_assert_cmpmem (g_bytes_get_data (frames->pdata[2], NULL), g_bytes_get_size (frames->pdata[2]), big, 300);
      g_assert_true (mero_lp_decoder_is_idle (dec));
    }
}

static void
test_lp_too_large (void)
{
  g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (100);
  g_autoptr(GError) error = NULL;
  g_autoptr(GByteArray) out = g_byte_array_new ();
  const guint8 wire[] = { 0x65 }; /* 101 */
  GBytes *frame = NULL;
  gsize used = 0;

  g_assert_false (mero_lp_decoder_feed (dec, wire, sizeof wire, &used, &frame, &error));
  g_assert_error (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_TOO_LARGE);
  g_assert_null (frame);
  g_clear_error (&error);

  /* A failed decoder stays failed: its framing is lost. */
  g_assert_false (mero_lp_decoder_feed (dec, wire, sizeof wire, &used, &frame, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_false (mero_lp_frame_encode (out, (const guint8 *) "x", 1, 0, &error));
  g_assert_error (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_TOO_LARGE);
  g_assert_cmpuint (out->len, ==, 0);
}

static void
test_lp_bad_prefix (void)
{
  g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (100);
  g_autoptr(GError) error = NULL;
  const guint8 wire[] = { 0x85, 0x00 }; /* 5, not minimal */
  GBytes *frame = NULL;
  gsize used = 0;

  g_assert_false (mero_lp_decoder_feed (dec, wire, sizeof wire, &used, &frame, &error));
  g_assert_error (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_BAD_LENGTH);
}

static void
test_lp_partial_not_idle (void)
{
  g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (100);
  const guint8 wire[] = { 0x03, 'a' };
  GBytes *frame = NULL;
  gsize used = 0;

  g_assert_true (mero_lp_decoder_is_idle (dec));
  g_assert_true (mero_lp_decoder_feed (dec, wire, sizeof wire, &used, &frame, NULL));
  g_assert_null (frame);
  g_assert_cmpuint (used, ==, 2);
  g_assert_false (mero_lp_decoder_is_idle (dec));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/lp-frame/roundtrip-any-split", test_lp_roundtrip_any_split);
  g_test_add_func ("/net/lp-frame/too-large", test_lp_too_large);
  g_test_add_func ("/net/lp-frame/bad-prefix", test_lp_bad_prefix);
  g_test_add_func ("/net/lp-frame/partial-not-idle", test_lp_partial_not_idle);
  return g_test_run ();
}
