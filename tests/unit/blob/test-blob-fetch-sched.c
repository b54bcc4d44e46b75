/* test-blob-fetch-sched.c: the fetch scheduler (sans-IO, integer time):
 * ranges spread over providers within the in-flight bounds, resume from
 * verified chunks, a corrupt or refusing provider dropped and its chunks
 * asked of another, transient failures retried up to the bound, the end
 * states.  With the default limits and the fetch driver's pattern
 * (chunks of concurrent ranges arriving interleaved, new ranges asked
 * for when one ends), a provider never has more ranges (streams) open
 * than it serves a peer at once, and ranges stay whole. */
#include "blob/mero-blob-fetch-sched.h"
#include "node/mero-node-client.h"

static MeroBlobSchedLimits
limits (guint range, guint per_peer, guint total)
{
  MeroBlobSchedLimits l;

  mero_blob_sched_limits_default (&l);
  l.range_chunks = range;
  l.max_inflight_per_peer = per_peer;
  l.max_inflight = total;
  l.timeout_us = 1000;
  return l;
}

/* Completes the range as if every chunk arrived. */
static void
deliver (MeroBlobSched *s, const char *peer, guint64 first, guint64 count, gint64 now)
{
  for (guint64 i = first; i < first + count; i++)
    mero_blob_sched_chunk_done (s, peer, i);
  mero_blob_sched_range_ended (s, peer, first, count, MERO_BLOB_RANGE_OK, now);
}

static void
test_spread_and_bounds (void)
{
  MeroBlobSchedLimits l = limits (4, 4, 6);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (20, &l, 0);
  const char *peer;
  guint64 first, count;

  mero_blob_sched_add_provider (s, "a");
  mero_blob_sched_add_provider (s, "b");
  /* a gets a whole range, b what the total bound leaves. */
  g_assert_true (mero_blob_sched_next (s, 1, &peer, &first, &count));
  g_assert_cmpstr (peer, ==, "a");
  g_assert_cmpuint (first, ==, 0);
  g_assert_cmpuint (count, ==, 4);
  g_assert_true (mero_blob_sched_next (s, 1, &peer, &first, &count));
  g_assert_cmpstr (peer, ==, "b");
  g_assert_cmpuint (first, ==, 4);
  g_assert_cmpuint (count, ==, 2);
  /* Six in flight: nothing more now. */
  g_assert_false (mero_blob_sched_next (s, 1, &peer, &first, &count));
  g_assert_cmpuint (mero_blob_sched_inflight (s), ==, 6);
  g_assert_cmpuint (mero_blob_sched_serving (s), ==, 2);
  deliver (s, "a", 0, 4, 2);
  g_assert_cmpuint (mero_blob_sched_have_count (s), ==, 4);
  /* Room again: the next range goes on from where the last one ended. */
  g_assert_true (mero_blob_sched_next (s, 3, &peer, &first, &count));
  g_assert_cmpuint (first, ==, 6);
  g_assert_cmpuint (count, ==, 4);
  g_assert_cmpint (mero_blob_sched_state (s, 3), ==, MERO_BLOB_SCHED_RUNNING);
}

static void
test_per_peer_bound (void)
{
  MeroBlobSchedLimits l = limits (4, 6, 100);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (100, &l, 0);
  const char *peer;
  guint64 first, count, total = 0;

  mero_blob_sched_add_provider (s, "only");
  while (mero_blob_sched_next (s, 1, &peer, &first, &count))
    total += count;
  /* One provider never has more than its bound in flight. */
  g_assert_cmpuint (total, ==, 6);
}

static void
test_resume_skips_verified (void)
{
  MeroBlobSchedLimits l = limits (8, 64, 64);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (6, &l, 0);
  const char *peer;
  guint64 first, count, asked = 0;

  for (guint64 i = 0; i < 3; i++)
    mero_blob_sched_mark_have (s, i);
  mero_blob_sched_mark_have (s, 4);
  mero_blob_sched_add_provider (s, "a");
  while (mero_blob_sched_next (s, 1, &peer, &first, &count))
    {
      /* Only chunks 3 and 5 are ever asked for. */
      for (guint64 i = first; i < first + count; i++)
        g_assert_true (i == 3 || i == 5);
      asked += count;
      deliver (s, peer, first, count, 1);
    }
  g_assert_cmpuint (asked, ==, 2);
  g_assert_cmpint (mero_blob_sched_state (s, 2), ==, MERO_BLOB_SCHED_DONE);
}

static void
test_corrupt_provider_dropped (void)
{
  MeroBlobSchedLimits l = limits (4, 8, 8);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (4, &l, 0);
  const char *peer;
  guint64 first, count;

  mero_blob_sched_add_provider (s, "bad");
  mero_blob_sched_add_provider (s, "good");
  g_assert_true (mero_blob_sched_next (s, 1, &peer, &first, &count));
  g_assert_cmpstr (peer, ==, "bad");
  /* Chunk 0 arrived, chunk 1 was corrupt. */
  mero_blob_sched_chunk_done (s, "bad", 0);
  mero_blob_sched_range_ended (s, "bad", first, count, MERO_BLOB_RANGE_CORRUPT, 2);
  g_assert_true (mero_blob_sched_is_dropped (s, "bad"));
  g_assert_cmpuint (mero_blob_sched_providers (s), ==, 1);
  /* The rest goes to the other provider, from chunk 1 on. */
  g_assert_true (mero_blob_sched_next (s, 3, &peer, &first, &count));
  g_assert_cmpstr (peer, ==, "good");
  g_assert_cmpuint (first, ==, 1);
  g_assert_cmpuint (count, ==, 3);
  g_assert_false (mero_blob_sched_next (s, 3, &peer, &first, &count));
  deliver (s, "good", 1, 3, 4);
  g_assert_cmpint (mero_blob_sched_state (s, 4), ==, MERO_BLOB_SCHED_DONE);
}

static void
test_transient_retried_then_dropped (void)
{
  MeroBlobSchedLimits l = limits (2, 8, 8);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (2, &l, 0);
  const char *peer;
  guint64 first, count;

  mero_blob_sched_add_provider (s, "flaky");
  for (guint i = 0; i < 3; i++)
    {
      g_assert_true (mero_blob_sched_next (s, 1, &peer, &first, &count));
      g_assert_cmpuint (first, ==, 0);
      g_assert_cmpuint (count, ==, 2);
      g_assert_cmpint (mero_blob_sched_state (s, 1), ==, MERO_BLOB_SCHED_RUNNING);
      mero_blob_sched_range_ended (s, "flaky", first, count, MERO_BLOB_RANGE_TRANSIENT, 1);
    }
  /* The third failure is one too many: nobody is left. */
  g_assert_true (mero_blob_sched_is_dropped (s, "flaky"));
  g_assert_false (mero_blob_sched_next (s, 1, &peer, &first, &count));
  g_assert_cmpint (mero_blob_sched_state (s, 1), ==, MERO_BLOB_SCHED_NO_PROVIDER);
  /* A dropped provider added again stays dropped. */
  mero_blob_sched_add_provider (s, "flaky");
  g_assert_cmpuint (mero_blob_sched_providers (s), ==, 0);
}

static void
test_refused_and_timeout (void)
{
  MeroBlobSchedLimits l = limits (4, 8, 8);
  g_autoptr (MeroBlobSched) s = mero_blob_sched_new (4, &l, 100);
  const char *peer;
  guint64 first, count;

  mero_blob_sched_add_provider (s, "a");
  g_assert_true (mero_blob_sched_next (s, 101, &peer, &first, &count));
  /* In flight at the deadline: timed out, and nothing more handed out. */
  g_assert_cmpint (mero_blob_sched_state (s, 1099), ==, MERO_BLOB_SCHED_RUNNING);
  g_assert_cmpint (mero_blob_sched_state (s, 1100), ==, MERO_BLOB_SCHED_TIMED_OUT);
  mero_blob_sched_range_ended (s, "a", first, count, MERO_BLOB_RANGE_REFUSED, 1100);
  g_assert_true (mero_blob_sched_is_dropped (s, "a"));
  g_assert_cmpuint (mero_blob_sched_inflight (s), ==, 0);
  mero_blob_sched_add_provider (s, "b");
  g_assert_false (mero_blob_sched_next (s, 1100, &peer, &first, &count));
}

typedef struct {
  guint64 first, count, next;
} OpenRange;

/* Asks for ranges as mero-blob-fetch.c's pump does, until none is
 * handed out; checks each against the provider's serve slots. */
static void
pump_ranges (MeroBlobSched *s, GArray *open, guint *max_open, guint64 n_chunks)
{
  const char *peer;
  guint64 first, count;

  while (mero_blob_sched_next (s, 1, &peer, &first, &count))
    {
      OpenRange r = { first, count, first };

      /* Whole ranges, but where the blob ends. */
      if (first + count < n_chunks)
        g_assert_cmpuint (count, ==, 16);
      g_array_append_val (open, r);
      *max_open = MAX (*max_open, open->len);
      /* More would be reset as "busy" by the provider (mero-blob-net.c). */
      g_assert_cmpuint (open->len, <=, MERO_NODE_MAX_INBOUND_PER_PEER);
    }
}

/* The 1100 MiB fetch that failed part-way: with one provider, each range
 * end let the scheduler refill the chunks the other ranges had already
 * delivered with new, ever smaller ranges; up to 13 streams were open to
 * the provider, which resets those past its 8 slots per peer. */
static void
test_streams_per_provider (void)
{
  const guint64 n_chunks = 4400;
  MeroBlobSchedLimits l;
  g_autoptr (MeroBlobSched) s = NULL;
  g_autoptr (GArray) open = g_array_new (FALSE, FALSE, sizeof (OpenRange));
  guint max_open = 0;
  guint64 rounds = 0;

  mero_blob_sched_limits_default (&l);
  s = mero_blob_sched_new (n_chunks, &l, 0);
  mero_blob_sched_add_provider (s, "only");
  pump_ranges (s, open, &max_open, n_chunks);
  /* Every open stream delivers its next chunk in turn (they share the
   * connection); a range ends after its last chunk. */
  while (open->len > 0)
    {
      g_assert_cmpuint (++rounds, <=, n_chunks);
      for (guint i = 0; i < open->len;)
        {
          OpenRange *r = &g_array_index (open, OpenRange, i);

          mero_blob_sched_chunk_done (s, "only", r->next++);
          if (r->next < r->first + r->count)
            {
              i++;
              continue;
            }
          mero_blob_sched_range_ended (s, "only", r->first, r->count, MERO_BLOB_RANGE_OK, 1);
          g_array_remove_index (open, i);
          pump_ranges (s, open, &max_open, n_chunks);
        }
    }
  g_assert_cmpint (mero_blob_sched_state (s, 1), ==, MERO_BLOB_SCHED_DONE);
  g_assert_cmpuint (max_open, ==, 3);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blob/sched/spread-and-bounds", test_spread_and_bounds);
  g_test_add_func ("/blob/sched/per-peer-bound", test_per_peer_bound);
  g_test_add_func ("/blob/sched/resume-skips-verified", test_resume_skips_verified);
  g_test_add_func ("/blob/sched/corrupt-provider-dropped", test_corrupt_provider_dropped);
  g_test_add_func ("/blob/sched/transient-retried-then-dropped",
                   test_transient_retried_then_dropped);
  g_test_add_func ("/blob/sched/refused-and-timeout", test_refused_and_timeout);
  g_test_add_func ("/blob/sched/streams-per-provider", test_streams_per_provider);
  return g_test_run ();
}
