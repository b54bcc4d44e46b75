/* Unit tests for the multiformats unsigned varint. */
#include "net/core/mero-varint.h"

#include "net-test-util.h"

typedef struct
{
  guint64 value;
  const char *hex;
} Vector;

/* From the multiformats/unsigned-varint README. */
static const Vector vectors[] = {
  { 1, "01" },
  { 127, "7f" },
  { 128, "8001" },
  { 255, "ff01" },
  { 300, "ac02" },
  { 16384, "808001" },
  { MERO_VARINT_MAX_VALUE, "ffffffffffffffff7f" },
};

static void
test_varint_vectors (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (vectors); i++)
    {
      g_autoptr(GBytes) want = net_test_hex (vectors[i].hex);
      guint8 buf[MERO_VARINT_MAX_BYTES];
      gsize n = mero_varint_encode (vectors[i].value, buf);
      guint64 value = 0;
      gsize consumed = 0;

      g_assert_cmpmem (buf, n, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
      g_assert_cmpuint (mero_varint_size (vectors[i].value), ==, n);
      g_assert_cmpint (mero_varint_decode (buf, n, &value, &consumed), ==, MERO_VARINT_OK);
      g_assert_cmpuint (value, ==, vectors[i].value);
      g_assert_cmpuint (consumed, ==, n);
    }
}

static void
test_varint_need_more (void)
{
  const guint8 partial[] = { 0x80, 0x80 };
  guint64 value = 42;

  g_assert_cmpint (mero_varint_decode (partial, 0, &value, NULL), ==, MERO_VARINT_NEED_MORE);
  g_assert_cmpint (mero_varint_decode (partial, 1, &value, NULL), ==, MERO_VARINT_NEED_MORE);
  g_assert_cmpint (mero_varint_decode (partial, 2, &value, NULL), ==, MERO_VARINT_NEED_MORE);
  g_assert_cmpuint (value, ==, 42);
}

static void
test_varint_trailing_bytes (void)
{
  const guint8 data[] = { 0xac, 0x02, 0xff };
  guint64 value = 0;
  gsize consumed = 0;

  g_assert_cmpint (mero_varint_decode (data, sizeof data, &value, &consumed), ==, MERO_VARINT_OK);
  g_assert_cmpuint (value, ==, 300);
  g_assert_cmpuint (consumed, ==, 2);
}

static void
test_varint_rejects (void)
{
  /* Non-minimal encodings of 1 and 0. */
  const guint8 padded_one[] = { 0x81, 0x00 };
  const guint8 padded_zero[] = { 0x80, 0x80, 0x00 };
  /* Ten bytes, or nine with the continuation bit: beyond 63 bits. */
  const guint8 too_long[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
  const guint8 nine_cont[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80 };

  g_assert_cmpint (mero_varint_decode (padded_one, sizeof padded_one, NULL, NULL), ==, MERO_VARINT_INVALID);
  g_assert_cmpint (mero_varint_decode (padded_zero, sizeof padded_zero, NULL, NULL), ==, MERO_VARINT_INVALID);
  g_assert_cmpint (mero_varint_decode (too_long, sizeof too_long, NULL, NULL), ==, MERO_VARINT_INVALID);
  g_assert_cmpint (mero_varint_decode (nine_cont, sizeof nine_cont, NULL, NULL), ==, MERO_VARINT_INVALID);
}

static void
test_varint_limited (void)
{
  const guint8 two[] = { 0x80, 0x08 };          /* 1024 */
  const guint8 three[] = { 0x80, 0x80, 0x01 };  /* 16384: three bytes */
  guint64 value = 0;

  g_assert_cmpint (mero_varint_decode_limited (two, 2, 2, &value, NULL), ==, MERO_VARINT_OK);
  g_assert_cmpuint (value, ==, 1024);
  g_assert_cmpint (mero_varint_decode_limited (three, 3, 2, NULL, NULL), ==, MERO_VARINT_INVALID);
  /* A two-byte prefix that still continues is already invalid, not "more". */
  g_assert_cmpint (mero_varint_decode_limited (three, 2, 2, NULL, NULL), ==, MERO_VARINT_INVALID);
  g_assert_cmpint (mero_varint_decode_limited (three, 1, 2, NULL, NULL), ==, MERO_VARINT_NEED_MORE);
}

static void
test_varint_roundtrip_all_sizes (void)
{
  for (guint shift = 0; shift < 63; shift++)
    {
      guint64 values[] = { G_GUINT64_CONSTANT (1) << shift, (G_GUINT64_CONSTANT (1) << shift) - 1 };

      for (gsize i = 0; i < G_N_ELEMENTS (values); i++)
        {
          guint8 buf[MERO_VARINT_MAX_BYTES];
          gsize n = mero_varint_encode (values[i], buf);
          guint64 value = 0;
          gsize consumed = 0;

          g_assert_cmpint (mero_varint_decode (buf, n, &value, &consumed), ==, MERO_VARINT_OK);
          g_assert_cmpuint (value, ==, values[i]);
          g_assert_cmpuint (consumed, ==, n);
          if (n > 1)
            g_assert_cmpint (mero_varint_decode (buf, n - 1, NULL, NULL), ==, MERO_VARINT_NEED_MORE);
        }
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/varint/vectors", test_varint_vectors);
  g_test_add_func ("/net/varint/need-more", test_varint_need_more);
  g_test_add_func ("/net/varint/trailing-bytes", test_varint_trailing_bytes);
  g_test_add_func ("/net/varint/rejects", test_varint_rejects);
  g_test_add_func ("/net/varint/limited", test_varint_limited);
  g_test_add_func ("/net/varint/roundtrip", test_varint_roundtrip_all_sizes);
  return g_test_run ();
}
