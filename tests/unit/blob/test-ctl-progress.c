/* test-ctl-progress.c: the text of meroctl's progress line (bar, bytes,
 * rate, ETA) from integer inputs.  Sizes come from g_format_size, which
 * puts a no-break space (U+00A0, "\302\240") before the unit. */
#include "ctl-progress.h"

static void
test_bar (void)
{
  /* 8 MiB of 32 MiB after 2 s: 4 MiB/s, 6 s left, a quarter of the bar. */
  g_autofree char *line = ctl_progress_format ("uploaded", 8u << 20, 32u << 20,
                                               2 * G_USEC_PER_SEC, TRUE);

  g_assert_cmpstr (line, ==,
                   "uploaded [######------------------]  25% 8.0\302\240MiB / 32.0\302\240MiB, 4.0\302\240MiB/s, "
                   "ETA 6 s");
}

static void
test_plain_and_unknown_total (void)
{
  g_autofree char *plain = ctl_progress_format ("downloaded", 1u << 20, 1u << 20,
                                                G_USEC_PER_SEC, FALSE);
  g_autofree char *pipe = ctl_progress_format ("uploaded", 3u << 20, 0, G_USEC_PER_SEC, TRUE);
  g_autofree char *start = ctl_progress_format ("uploaded", 0, 100, 0, TRUE);

  g_assert_cmpstr (plain, ==, "downloaded 100% 1.0\302\240MiB / 1.0\302\240MiB, 1.0\302\240MiB/s");
  g_assert_cmpstr (pipe, ==, "uploaded 3.0\302\240MiB, 3.0\302\240MiB/s");
  g_assert_cmpstr (start, ==, "uploaded [------------------------]   0% 0 bytes / 100 bytes, 0 bytes/s");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/ctl/progress/bar", test_bar);
  g_test_add_func ("/ctl/progress/plain", test_plain_and_unknown_total);
  return g_test_run ();
}
