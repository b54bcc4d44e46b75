/* Unit tests for the ping client: echo, RTT, split echoes, mismatch,
 * timeouts, and the three-failures rule. */
#include "net/core/mero-ping.h"

#include <string.h>

static void
payload (guint8 out[32], guint8 v)
{
  memset (out, v, 32);
}

static void
test_echo_rtt (void)
{
  g_autoptr(MeroPingClient) c = mero_ping_client_new ();
  g_autoptr(GError) error = NULL;
  guint8 p[32];
  gint64 rtt = 0;

  payload (p, 7);
  g_assert_cmpint (mero_ping_client_next_deadline (c), ==, G_MAXINT64);
  g_assert_true (mero_ping_client_start (c, p, 1000, &error));
  g_assert_false (mero_ping_client_start (c, p, 1000, &error));
  g_assert_error (error, MERO_PING_ERROR, MERO_PING_ERROR_BUSY);
  g_clear_error (&error);
  g_assert_cmpint (mero_ping_client_next_deadline (c), ==, 1000 + MERO_PING_TIMEOUT_US);
  /* The echo may come in pieces. */
  g_assert_cmpint (mero_ping_client_recv (c, p, 10, 2000, &rtt, &error), ==, MERO_PING_RESULT_PENDING);
  g_assert_cmpint (mero_ping_client_recv (c, p + 10, 22, 3500, &rtt, &error), ==, MERO_PING_RESULT_OK);
  g_assert_no_error (error);
  g_assert_cmpint (rtt, ==, 2500);
  g_assert_cmpint (mero_ping_client_get_last_rtt (c), ==, 2500);
  g_assert_false (mero_ping_client_is_outstanding (c));
  /* A second ping on the same stream. */
  payload (p, 8);
  g_assert_true (mero_ping_client_start (c, p, 10000, &error));
  g_assert_cmpint (mero_ping_client_recv (c, p, 32, 10100, &rtt, &error), ==, MERO_PING_RESULT_OK);
  g_assert_cmpint (rtt, ==, 100);
}

static void
test_failures_close (void)
{
  g_autoptr(MeroPingClient) c = mero_ping_client_new ();
  guint8 p[32], wrong[32];
  gint64 now = 0;

  payload (p, 1);
  payload (wrong, 2);
  /* 1: mismatch. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (mero_ping_client_start (c, p, now, NULL));
    g_assert_cmpint (mero_ping_client_recv (c, wrong, 32, now, NULL, &error), ==,
                     MERO_PING_RESULT_FAILED);
    g_assert_error (error, MERO_PING_ERROR, MERO_PING_ERROR_MISMATCH);
  }
  g_assert_cmpuint (mero_ping_client_get_failures (c), ==, 1);
  /* 2: timeout. */
  {
    g_autoptr(GError) error = NULL;

    g_assert_true (mero_ping_client_start (c, p, now, NULL));
    g_assert_true (mero_ping_client_handle_deadline (c, now + MERO_PING_TIMEOUT_US - 1, &error));
    g_assert_false (mero_ping_client_handle_deadline (c, now + MERO_PING_TIMEOUT_US, &error));
    g_assert_error (error, MERO_PING_ERROR, MERO_PING_ERROR_TIMEOUT);
  }
  g_assert_false (mero_ping_client_is_dead (c));
  /* 3: the stream failed. */
  g_assert_true (mero_ping_client_start (c, p, now, NULL));
  mero_ping_client_fail (c);
  g_assert_cmpuint (mero_ping_client_get_failures (c), ==, 3);
  g_assert_true (mero_ping_client_is_dead (c));
}

static void
test_success_resets (void)
{
  g_autoptr(MeroPingClient) c = mero_ping_client_new ();
  guint8 p[32];

  payload (p, 3);
  mero_ping_client_fail (c);
  mero_ping_client_fail (c);
  g_assert_true (mero_ping_client_start (c, p, 0, NULL));
  g_assert_cmpint (mero_ping_client_recv (c, p, 32, 5, NULL, NULL), ==, MERO_PING_RESULT_OK);
  g_assert_cmpuint (mero_ping_client_get_failures (c), ==, 0);
}

static void
test_unexpected_and_overlong (void)
{
  g_autoptr(MeroPingClient) c = mero_ping_client_new ();
  g_autoptr(GError) error = NULL;
  guint8 p[40];

  memset (p, 4, sizeof p);
  g_assert_cmpint (mero_ping_client_recv (c, p, 1, 0, NULL, &error), ==, MERO_PING_RESULT_FAILED);
  g_assert_error (error, MERO_PING_ERROR, MERO_PING_ERROR_UNEXPECTED);
  g_clear_error (&error);
  g_assert_true (mero_ping_client_start (c, p, 0, NULL));
  g_assert_cmpint (mero_ping_client_recv (c, p, 40, 0, NULL, &error), ==, MERO_PING_RESULT_FAILED);
  g_assert_error (error, MERO_PING_ERROR, MERO_PING_ERROR_MISMATCH);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/ping/echo-rtt", test_echo_rtt);
  g_test_add_func ("/net/ping/three-failures", test_failures_close);
  g_test_add_func ("/net/ping/success-resets", test_success_resets);
  g_test_add_func ("/net/ping/unexpected-overlong", test_unexpected_and_overlong);
  return g_test_run ();
}
