#include "context/state/mero-hlc.h"

static void
test_monotonic (void)
{
  MeroHlcClock clock;
  MeroHlc prev, ts;

  mero_hlc_clock_init (&clock, 42);
  prev = mero_hlc_clock_now (&clock, 1000);
  g_assert_cmpuint (mero_hlc_physical_ms (&prev), ==, 1000);
  g_assert_cmpuint (prev.node, ==, 42);
  /* Same millisecond: the counter advances. */
  ts = mero_hlc_clock_now (&clock, 1000);
  g_assert_cmpint (mero_hlc_compare (&prev, &ts), <, 0);
  g_assert_cmpuint (ts.time & 0xffff, ==, 1);
  /* Physical clock stepping backwards never reorders. */
  prev = ts;
  ts = mero_hlc_clock_now (&clock, 10);
  g_assert_cmpint (mero_hlc_compare (&prev, &ts), <, 0);
  /* Physical clock moving on resets to the wall time. */
  ts = mero_hlc_clock_now (&clock, 2000);
  g_assert_cmpuint (ts.time, ==, (guint64) 2000 << 16);
}

static void
test_counter_overflow_carries (void)
{
  MeroHlcClock clock;
  MeroHlc ts = { 0, 0 };

  mero_hlc_clock_init (&clock, 1);
  for (guint i = 0; i < 70000; i++)
    ts = mero_hlc_clock_now (&clock, 5);
  /* 70000 events in one ms overflow the 16-bit counter into the next ms. */
  g_assert_cmpuint (mero_hlc_physical_ms (&ts), ==, 6);
}

static void
test_observe (void)
{
  MeroHlcClock clock;
  MeroHlc remote = { (guint64) 9000 << 16 | 5, 7 };
  g_autoptr (GError) error = NULL;
  MeroHlc ts;

  mero_hlc_clock_init (&clock, 1);
  g_assert_true (mero_hlc_clock_observe (&clock, &remote, 5000, &error));
  g_assert_no_error (error);
  ts = mero_hlc_clock_now (&clock, 5000);
  g_assert_cmpint (mero_hlc_compare (&remote, &ts), <, 0);

  /* More than 5 s ahead: refused, clock unchanged. */
  MeroHlc far = { (guint64) 20001 << 16, 7 };
  MeroHlc before = clock.last;
  g_assert_false (mero_hlc_clock_observe (&clock, &far, 15000, &error));
  g_assert_error (error, MERO_HLC_ERROR, MERO_HLC_ERROR_FUTURE);
  g_assert_cmpint (mero_hlc_compare (&before, &clock.last), ==, 0);
  g_clear_error (&error);
  /* Exactly 5 s ahead is still accepted. */
  MeroHlc edge = { (guint64) 20000 << 16, 7 };
  g_assert_true (mero_hlc_clock_observe (&clock, &edge, 15000, &error));
  g_assert_no_error (error);
}

static void
test_ties_broken_by_node (void)
{
  MeroHlc a = { 100, 1 }, b = { 100, 2 };
  g_assert_cmpint (mero_hlc_compare (&a, &b), <, 0);
  g_assert_cmpint (mero_hlc_compare (&b, &a), >, 0);
  g_assert_cmpint (mero_hlc_compare (&a, &a), ==, 0);
}

static void
test_encode_roundtrip (void)
{
  MeroHlc ts = { G_GUINT64_CONSTANT (0x0102030405060708), G_GUINT64_CONSTANT (0xa1b2c3d4e5f60718) };
  guint8 buf[MERO_HLC_ENCODED_LEN];
  static const guint8 want[] = { 1, 2, 3, 4, 5, 6, 7, 8, 0xa1, 0xb2, 0xc3, 0xd4, 0xe5, 0xf6, 0x07, 0x18 };

  mero_hlc_encode (&ts, buf);
  g_assert_cmpmem (buf, sizeof buf, want, sizeof want);
  MeroHlc back = mero_hlc_decode (buf);
  g_assert_cmpint (mero_hlc_compare (&ts, &back), ==, 0);
}

static void
test_node_from_key (void)
{
  /* sha256("") = e3b0c44298fc1c14... */
  g_assert_cmpuint (mero_hlc_node_from_key ((const guint8 *) "", 0), ==,
                    G_GUINT64_CONSTANT (0xe3b0c44298fc1c14));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hlc/monotonic", test_monotonic);
  g_test_add_func ("/hlc/counter-overflow", test_counter_overflow_carries);
  g_test_add_func ("/hlc/observe", test_observe);
  g_test_add_func ("/hlc/ties", test_ties_broken_by_node);
  g_test_add_func ("/hlc/encode", test_encode_roundtrip);
  g_test_add_func ("/hlc/node-from-key", test_node_from_key);
  return g_test_run ();
}
