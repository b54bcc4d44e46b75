/* test-sync-sched.c: the SyncManager's decisions with integer time
 * (sync/mero-sync-sched.h): debounce, one session per context, the
 * concurrency bound, periodic jittered ticks, back-off on failures only,
 * explicit requests, the watchdog, peer and protocol choice. */
#include "sync/mero-sync-sched.h"

#define S G_USEC_PER_SEC
#define INTERVAL (10 * S)

static gboolean
next (MeroSyncSched *sched, gint64 now, char **ctx, char **peer)
{
  return mero_sync_sched_next (sched, now, ctx, peer, NULL);
}

static void
test_debounce_and_one_session (void)
{
  g_autoptr (MeroSyncSched) sched = mero_sync_sched_new (0, MERO_SYNC_MIN_INTERVAL_US, 4, 1);
  g_autofree char *ctx = NULL, *peer = NULL;
  char *other = NULL;

  mero_sync_sched_trigger (sched, "c1", "p1", MERO_SYNC_TRIGGER_PEER, 0);
  mero_sync_sched_trigger (sched, "c1", "p2", MERO_SYNC_TRIGGER_PEER, 0);
  g_assert_true (next (sched, 0, &ctx, &peer));
  g_assert_cmpstr (ctx, ==, "c1");
  g_assert_cmpstr (peer, ==, "p2");   /* merged: the latest hint */
  /* Running: a new trigger waits for the end, and then the minimum
   * interval since the start. */
  mero_sync_sched_trigger (sched, "c1", "p3", MERO_SYNC_TRIGGER_PEER, 1);
  g_assert_false (next (sched, 2, &other, NULL));
  mero_sync_sched_finish (sched, "c1", MERO_SYNC_RESULT_OK, 100);
  g_assert_false (next (sched, 100, &other, NULL));
  g_assert_cmpint (mero_sync_sched_next_wakeup (sched, 100), ==, MERO_SYNC_MIN_INTERVAL_US);
  g_assert_true (next (sched, MERO_SYNC_MIN_INTERVAL_US, &other, NULL));
  g_assert_cmpstr (other, ==, "c1");
  g_free (other);
}

static void
test_concurrency_bound (void)
{
  g_autoptr (MeroSyncSched) sched = mero_sync_sched_new (0, 0, 2, 1);
  char *ctx = NULL;

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *id = g_strdup_printf ("c%u", i);

      mero_sync_sched_trigger (sched, id, NULL, MERO_SYNC_TRIGGER_PEER, 0);
    }
  g_assert_true (next (sched, 0, &ctx, NULL));
  g_clear_pointer (&ctx, g_free);
  g_assert_true (next (sched, 0, &ctx, NULL));
  g_clear_pointer (&ctx, g_free);
  g_assert_false (next (sched, 0, &ctx, NULL));
  g_assert_cmpuint (mero_sync_sched_running (sched), ==, 2);
  mero_sync_sched_finish (sched, "c0", MERO_SYNC_RESULT_IN_SYNC, 1);
  g_assert_true (next (sched, 1, &ctx, NULL));
  g_assert_cmpstr (ctx, ==, "c2");   /* ties by id: deterministic */
  g_free (ctx);
}

static void
test_periodic_jitter (void)
{
  g_autoptr (MeroSyncSched) a = mero_sync_sched_new (INTERVAL, 0, 4, 1);
  g_autoptr (MeroSyncSched) b = mero_sync_sched_new (INTERVAL, 0, 4, 2);
  gint64 wa, wb;
  char *ctx = NULL;
  MeroSyncTrigger why = MERO_SYNC_TRIGGER_PEER;

  mero_sync_sched_add (a, "c", 0);
  mero_sync_sched_add (b, "c", 0);
  wa = mero_sync_sched_next_wakeup (a, 0);
  wb = mero_sync_sched_next_wakeup (b, 0);
  /* Within ±20 % of the interval, and not the same for two seeds. */
  g_assert_cmpint (wa, >=, INTERVAL - INTERVAL * MERO_SYNC_JITTER_PCT / 100);
  g_assert_cmpint (wa, <=, INTERVAL + INTERVAL * MERO_SYNC_JITTER_PCT / 100);
  g_assert_cmpint (wa, !=, wb);
  g_assert_false (next (a, wa - 1, &ctx, NULL));
  g_assert_true (mero_sync_sched_next (a, wa, &ctx, NULL, &why));
  g_assert_cmpint (why, ==, MERO_SYNC_TRIGGER_TICK);
  g_free (ctx);
  /* The next tick counts from the end of the session. */
  mero_sync_sched_finish (a, "c", MERO_SYNC_RESULT_IN_SYNC, wa + S);
  g_assert_cmpint (mero_sync_sched_next_wakeup (a, wa + S), >=,
                   wa + S + INTERVAL - INTERVAL * MERO_SYNC_JITTER_PCT / 100);
}

static void
test_backoff (void)
{
  g_autoptr (MeroSyncSched) sched = mero_sync_sched_new (0, 0, 4, 1);
  char *ctx = NULL;
  gint64 now = 0;

  /* Benign outcomes never back off. */
  mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_PEER, now);
  g_assert_true (next (sched, now, &ctx, NULL));
  g_clear_pointer (&ctx, g_free);
  mero_sync_sched_finish (sched, "c", MERO_SYNC_RESULT_NO_PEER, now);
  g_assert_cmpuint (mero_sync_sched_failures (sched, "c"), ==, 0);
  g_assert_cmpint (mero_sync_sched_backoff_until (sched, "c"), ==, 0);

  /* Failures double the wait up to the cap. */
  for (gint64 expect = MERO_SYNC_BACKOFF_FIRST_US, i = 1; i <= 12; i++)
    {
      mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_PEER, now);
      g_assert_true (next (sched, now, &ctx, NULL));
      g_clear_pointer (&ctx, g_free);
      mero_sync_sched_finish (sched, "c", MERO_SYNC_RESULT_FAILED, now);
      g_assert_cmpuint (mero_sync_sched_failures (sched, "c"), ==, (guint) i);
      g_assert_cmpint (mero_sync_sched_backoff_until (sched, "c"), ==, now + expect);
      mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_PEER, now);
      g_assert_false (next (sched, now + expect - 1, &ctx, NULL));
      now += expect;
      expect = MIN (expect * 2, MERO_SYNC_BACKOFF_MAX_US);
    }
  g_assert_cmpint (mero_sync_sched_backoff_until (sched, "c"), ==, now);

  /* An operator's request does not wait for the back-off. */
  g_assert_true (next (sched, now, &ctx, NULL));
  g_clear_pointer (&ctx, g_free);
  mero_sync_sched_finish (sched, "c", MERO_SYNC_RESULT_FAILED, now);
  mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_PEER, now);
  g_assert_false (next (sched, now + 1, &ctx, NULL));
  mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_REQUEST, now + 1);
  g_assert_true (next (sched, now + 1, &ctx, NULL));
  g_clear_pointer (&ctx, g_free);
  /* A success clears it all. */
  mero_sync_sched_finish (sched, "c", MERO_SYNC_RESULT_OK, now + 2);
  g_assert_cmpuint (mero_sync_sched_failures (sched, "c"), ==, 0);
  g_assert_cmpint (mero_sync_sched_backoff_until (sched, "c"), ==, 0);
}

static void
test_watchdog (void)
{
  g_autoptr (MeroSyncSched) sched = mero_sync_sched_new (0, 0, 4, 1);
  g_auto (GStrv) none = NULL, wedged = NULL;
  char *ctx = NULL;

  mero_sync_sched_trigger (sched, "c", NULL, MERO_SYNC_TRIGGER_PEER, 0);
  g_assert_true (next (sched, 0, &ctx, NULL));
  g_free (ctx);
  g_assert_cmpint (mero_sync_sched_next_wakeup (sched, 0), ==, MERO_SYNC_SESSION_DEADLINE_US);
  none = mero_sync_sched_expired (sched, MERO_SYNC_SESSION_DEADLINE_US - 1);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  wedged = mero_sync_sched_expired (sched, MERO_SYNC_SESSION_DEADLINE_US);
  g_assert_cmpuint (g_strv_length (wedged), ==, 1);
  g_assert_cmpstr (wedged[0], ==, "c");
  mero_sync_sched_finish (sched, "c", MERO_SYNC_RESULT_TIMEOUT, MERO_SYNC_SESSION_DEADLINE_US);
  g_assert_cmpuint (mero_sync_sched_running (sched), ==, 0);
  g_assert_cmpuint (mero_sync_sched_failures (sched, "c"), ==, 1);
}

static gboolean
member_set (const char *peer, gpointer user_data)
{
  return g_strv_contains (user_data, peer);
}

static void
test_select_peers (void)
{
  const char *members_set[] = { "m1", "m2", "m3", "m4", "self", NULL };
  const char *members[] = { "m2", "m1", NULL };
  const char *topic[] = { "outsider", "m1", "m3", "m4", NULL };
  g_auto (GStrv) peers = NULL, hinted = NULL, outsider = NULL;

  peers = mero_sync_select_peers (NULL, members, topic, member_set, members_set, "self");
  /* Members first, then the members among the topic peers; at most
   * MERO_SYNC_MAX_PEERS_PER_SESSION; never the outsider. */
  g_assert_cmpuint (g_strv_length (peers), ==, MERO_SYNC_MAX_PEERS_PER_SESSION);
  g_assert_cmpstr (peers[0], ==, "m2");
  g_assert_cmpstr (peers[1], ==, "m1");
  g_assert_cmpstr (peers[2], ==, "m3");
  hinted = mero_sync_select_peers ("m4", members, topic, member_set, members_set, "self");
  g_assert_cmpstr (hinted[0], ==, "m4");
  outsider = mero_sync_select_peers ("outsider", NULL, (const char *[]) { "self", NULL },
                                     member_set, members_set, "self");
  g_assert_cmpuint (g_strv_length (outsider), ==, 0);
}

static void
test_select_protocols (void)
{
  const guint64 costs[] = { 500, MERO_SYNC_COST_NOT_APPLICABLE, 10, 500, 0 };
  g_autoptr (GArray) order = mero_sync_select_protocols (costs, G_N_ELEMENTS (costs));
  g_autoptr (GArray) none = mero_sync_select_protocols (
      (const guint64[]) { MERO_SYNC_COST_NOT_APPLICABLE }, 1);

  /* Cheapest first (a snapshot plugin answers a fresh node's handshake
   * with the lowest cost), ties in load order, the inapplicable left out. */
  g_assert_cmpuint (order->len, ==, 4);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, 4);
  g_assert_cmpuint (g_array_index (order, guint, 1), ==, 2);
  g_assert_cmpuint (g_array_index (order, guint, 2), ==, 0);
  g_assert_cmpuint (g_array_index (order, guint, 3), ==, 3);
  g_assert_cmpuint (none->len, ==, 0);
}

/* sync.protocols: the operator's order, the inapplicable left out. */
static void
test_select_protocols_in_order (void)
{
  const guint64 costs[] = { 500, MERO_SYNC_COST_NOT_APPLICABLE, 10, 500, 0 };
  g_autoptr (GArray) order = mero_sync_select_protocols_in_order (costs, G_N_ELEMENTS (costs));

  g_assert_cmpuint (order->len, ==, 4);
  g_assert_cmpuint (g_array_index (order, guint, 0), ==, 0);
  g_assert_cmpuint (g_array_index (order, guint, 1), ==, 2);
  g_assert_cmpuint (g_array_index (order, guint, 2), ==, 3);
  g_assert_cmpuint (g_array_index (order, guint, 3), ==, 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync-sched/debounce-one-session", test_debounce_and_one_session);
  g_test_add_func ("/sync-sched/concurrency-bound", test_concurrency_bound);
  g_test_add_func ("/sync-sched/periodic-jitter", test_periodic_jitter);
  g_test_add_func ("/sync-sched/backoff", test_backoff);
  g_test_add_func ("/sync-sched/watchdog", test_watchdog);
  g_test_add_func ("/sync-sched/select-peers", test_select_peers);
  g_test_add_func ("/sync-sched/select-protocols", test_select_protocols);
  g_test_add_func ("/sync-sched/select-protocols-in-order", test_select_protocols_in_order);
  return g_test_run ();
}
