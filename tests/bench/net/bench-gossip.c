/* bench-gossip.c: gossipsub between our networks on 127.0.0.1 (C↔C)
 * against js-libp2p gossipsub nodes (js↔js, bench-gossip-js.mjs) in the
 * same run, and the ratios C/js.
 *
 *   bench-gossip [SECONDS [ROUNDS]]   default 2 s per throughput phase,
 *                                     best of 3 rounds
 *
 * Topologies (one MeroNetwork per node, each on its own network thread,
 * real sockets; events to this thread's main context):
 *   2 nodes: a–b, a publishes, b receives;
 *   3 nodes: a line a–b–c (a dials b, b dials c): b receives and relays,
 *            c hears a's messages only through b.
 * For 1 KiB and 64 KiB messages:
 *   throughput: a publishes while fewer than WINDOW messages are in flight
 *     (published, not yet received by every receiver), so the figure is
 *     what the receivers sustain, not how fast a queue fills; msg/s and
 *     MB/s (payload, 10^6 bytes) at the last receiver, and the
 *     publish-to-receive latency of those messages (loaded p50/p99);
 *   latency: one message in flight at a time: p50/p99 publish (the API
 *     call) to receive (the MESSAGE event on the node's context);
 * after 1 s of each size unmeasured (warm-up, as js needs for its JIT).
 * Messages carry their sequence number and send time.  Drops: messages
 * never delivered after a 2 s drain, plus the networks' drop counters
 * (gossip frames, event channel); a case with drops says so.
 * The js side (same topologies, sizes, windows and phases) needs
 * `npm ci --prefix tests/interop`; without it the C figures are printed
 * and the bench fails. */
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>

#include "net/mero-event-channel.h"
#include "mero-test-net-node.h"
#include "mero-test-stats.h"
#include "net/transport/mero-network.h"

#define TOPIC "bench"
#define MAX_NODES 3
#define WAIT_US (20 * G_USEC_PER_SEC)
#define DRAIN_US (2 * G_USEC_PER_SEC)
#define HEADER_LEN 16

typedef struct
{
  MeroTestNetNode base;  /* first: what mero_test_net_node_start fills */
  guint64 received;
  guint64 duplicates;
  guint64 next_seq;   /* the next sequence number expected */
} Node;

typedef struct
{
  Node nodes[MAX_NODES];
  guint n;
  GArray *samples;    /* gint64 µs, at the last node, or NULL */
} Bench;

typedef struct
{
  guint64 msgs;
  double secs;
  gint64 loaded_p50, loaded_p99, p50, p99;
  guint samples;
  guint64 missing;
  guint64 dropped;    /* counted by the networks */
} Result;

static Bench *current;

static void
on_event (MeroNetEvent *event, gpointer data)
{
  Node *node = data;

  if (event->type == MERO_NET_EVENT_MESSAGE && g_bytes_get_size (event->data) >= HEADER_LEN)
    {
      const guint8 *p = g_bytes_get_data (event->data, NULL);
      guint64 seq, sent;

      memcpy (&seq, p, 8);
      memcpy (&sent, p + 8, 8);
      if (seq < node->next_seq)
        node->duplicates++;
      else
        {
          node->next_seq = seq + 1;
          node->received++;
          if (node == &current->nodes[current->n - 1] && current->samples != NULL)
            {
              gint64 latency = g_get_monotonic_time () - (gint64) sent;

              g_array_append_val (current->samples, latency);
            }
        }
    }
  mero_net_event_free (event);
}

static guint64
node_dropped (Node *node)
{
  MeroMetrics *metrics = node->base.metrics;

  return mero_metrics_get_counter (metrics, "mero_net_gossip_frames_dropped_total", NULL) +
         mero_metrics_get_counter (metrics, MERO_EVENT_CHANNEL_DROPPED_METRIC, NULL) +
         mero_metrics_get_counter (metrics, "mero_net_gossip_peers_dropped_total", NULL);
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static gboolean
mesh_formed (Bench *b)
{
  for (guint i = 0; i < b->n; i++)
    {
      g_auto(GStrv) mesh = mero_network_get_mesh_peers (b->nodes[i].base.net, TOPIC);
      guint want = i == 0 || i == b->n - 1 ? 1 : 2;

      if (g_strv_length (mesh) != want)
        return FALSE;
    }
  return TRUE;
}

static guint64
min_received (Bench *b)
{
  guint64 m = G_MAXUINT64;

  for (guint i = 1; i < b->n; i++)
    m = MIN (m, b->nodes[i].received);
  return m;
}

typedef struct
{
  guint64 msgs, published;
  double secs;
  GArray *samples;
} Phase;

/* a publishes for @secs with at most @window messages in flight. */
static Phase
run_phase (Bench *b, gsize size, guint window, double secs, guint64 *seq)
{
  guint8 *buf = g_malloc0 (size);
  guint64 start_seq = *seq, start_recv = min_received (b);
  gint64 start = g_get_monotonic_time ();
  gint64 end = start + (gint64) (secs * G_USEC_PER_SEC), last = start;
  Phase ph = { 0 };

  b->samples = g_array_new (FALSE, FALSE, sizeof (gint64));
  while (g_get_monotonic_time () < end)
    {
      while (*seq - start_seq - (min_received (b) - start_recv) < window &&
             g_get_monotonic_time () < end)
        {
          g_autoptr(GError) error = NULL;
          g_autoptr(GBytes) data = NULL;
          gint64 now = g_get_monotonic_time ();

          memcpy (buf, seq, 8);
          memcpy (buf + 8, &now, 8);
          data = g_bytes_new (buf, size);
          if (!mero_network_publish (b->nodes[0].base.net, TOPIC, data, &error))
            g_error ("publish: %s", error->message);
          (*seq)++;
        }
      g_main_context_iteration (NULL, TRUE);
    }
  {
    gint64 until = g_get_monotonic_time () + DRAIN_US;
    guint64 before = min_received (b);

    while (min_received (b) - start_recv < *seq - start_seq && g_get_monotonic_time () < until)
      {
        g_main_context_iteration (NULL, TRUE);
        if (min_received (b) != before)
          {
            before = min_received (b);
            last = g_get_monotonic_time ();
          }
      }
    if (last < end)
      last = g_get_monotonic_time () < end ? g_get_monotonic_time () : end;
  }
  ph.msgs = min_received (b) - start_recv;
  ph.published = *seq - start_seq;
  ph.secs = (double) (last - start) / G_USEC_PER_SEC;
  mero_test_sort_i64 (b->samples);
  ph.samples = g_steal_pointer (&b->samples);
  g_free (buf);
  return ph;
}

static void
run_c (guint n, const gsize *sizes, guint n_sizes, double secs, Result *out)
{
  Bench b = { .n = n };
  guint64 seq = 0;
  gint64 until;
  guint tick = g_timeout_add (2, wake, NULL);

  current = &b;
  for (guint i = 0; i < n; i++)
    mero_test_net_node_start (&b.nodes[i].base, (guint8) (0x40 + i), TOPIC, on_event, &b.nodes[i]);
  for (guint i = 0; i + 1 < n; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *addr = g_strdup_printf ("%s/p2p/%s", b.nodes[i + 1].base.addrs[0],
                                               b.nodes[i + 1].base.peer_id);

      if (!mero_network_dial (b.nodes[i].base.net, addr, &error))
        g_error ("dial: %s", error->message);
    }
  until = g_get_monotonic_time () + WAIT_US;
  while (!mesh_formed (&b))
    {
      if (g_get_monotonic_time () > until)
        g_error ("the %u-node mesh did not form", n);
      g_main_context_iteration (NULL, TRUE);
    }

  /* Warm-up, not measured, as on the js side (where the JIT needs it). */
  for (guint k = 0; k < n_sizes; k++)
    {
      Phase w = run_phase (&b, sizes[k], 64, 1.0, &seq);

      g_array_unref (w.samples);
    }
  for (guint k = 0; k < n_sizes; k++)
    {
      gsize size = sizes[k];
      guint window = CLAMP ((2u << 20) / size, 8, 256);
      guint64 dropped = 0;
      Phase t, l;

      for (guint i = 0; i < n; i++)
        dropped -= node_dropped (&b.nodes[i]);
      t = run_phase (&b, size, window, secs, &seq);
      l = run_phase (&b, size, 1, MAX (1.0, secs / 2), &seq);
      for (guint i = 0; i < n; i++)
        dropped += node_dropped (&b.nodes[i]);
      out[k].msgs = t.msgs;
      out[k].secs = t.secs;
      out[k].loaded_p50 = mero_test_percentile_i64 (t.samples, 0.5);
      out[k].loaded_p99 = mero_test_percentile_i64 (t.samples, 0.99);
      out[k].p50 = mero_test_percentile_i64 (l.samples, 0.5);
      out[k].p99 = mero_test_percentile_i64 (l.samples, 0.99);
      out[k].samples = l.samples->len;
      out[k].missing = (t.published - t.msgs) + (l.published - l.msgs);
      out[k].dropped = dropped;
      g_array_unref (t.samples);
      g_array_unref (l.samples);
    }
  for (guint i = 1; i < n; i++)
    if (b.nodes[i].duplicates > 0)
      g_error ("node %u received %" G_GUINT64_FORMAT " duplicates", i, b.nodes[i].duplicates);
  for (guint i = 0; i < n; i++)
    mero_test_net_node_stop (&b.nodes[i].base);
  g_source_remove (tick);
  current = NULL;
}

/* Runs bench-gossip-js.mjs; FALSE if node or the packages are missing. */
static gboolean
run_js (double secs, Result js[2][2])
{
  const char *interop = g_getenv ("MERO_INTEROP_DIR");
  const char *bench_dir = g_getenv ("MERO_BENCH_NET_DIR");
  g_autofree char *modules = NULL, *script = NULL, *secs_text = NULL, *out = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;
  guint n = 0;

  if (interop == NULL || bench_dir == NULL)
    return FALSE;
  modules = g_build_filename (interop, "node_modules", NULL);
  if (!g_file_test (modules, G_FILE_TEST_IS_DIR))
    {
      g_printerr ("js baseline: %s missing (npm ci --prefix tests/interop)\n", modules);
      return FALSE;
    }
  script = g_build_filename (bench_dir, "bench-gossip-js.mjs", NULL);
  secs_text = g_strdup_printf ("%g", secs);
  {
    const char *argv[] = { "node", script, interop, secs_text, NULL };

    if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL,
                       &status, &error) ||
        !g_spawn_check_wait_status (status, &error))
      {
        g_printerr ("js baseline failed: %s\n", error->message);
        return FALSE;
      }
  }
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      Result *r;
      guint nodes, size;
      double p50, p99, lp50, lp99, secs_taken;
      guint64 msgs, missing;
      guint samples;

      if (sscanf (lines[i],
                  "{\"nodes\":%u,\"size\":%u,\"msgs\":%" G_GUINT64_FORMAT ",\"secs\":%lf,"
                  "\"loadedP50\":%lf,\"loadedP99\":%lf,\"p50\":%lf,\"p99\":%lf,"
                  "\"samples\":%u,\"missing\":%" G_GUINT64_FORMAT "}",
                  &nodes, &size, &msgs, &secs_taken, &lp50, &lp99, &p50, &p99, &samples,
                  &missing) != 10)
        continue;
      r = &js[nodes == 2 ? 0 : 1][size == 1024 ? 0 : 1];
      r->msgs = msgs;
      r->secs = secs_taken;
      r->loaded_p50 = (gint64) lp50;
      r->loaded_p99 = (gint64) lp99;
      r->p50 = (gint64) p50;
      r->p99 = (gint64) p99;
      r->samples = samples;
      r->missing = missing;
      n++;
    }
  if (n != 4)
    {
      g_printerr ("js baseline: %u of 4 result lines:\n%s\n", n, out);
      return FALSE;
    }
  return TRUE;
}

/* Keeps in @best the highest rate and the lowest latencies seen; drops
 * add up over the rounds (any drop is reported). */
static void
best_of (Result *best, const Result *r, gboolean first)
{
  if (first)
    {
      *best = *r;
      return;
    }
  if (r->msgs / r->secs > best->msgs / best->secs)
    {
      best->msgs = r->msgs;
      best->secs = r->secs;
      best->loaded_p50 = r->loaded_p50;
      best->loaded_p99 = r->loaded_p99;
    }
  if (r->p50 >= 0 && r->p50 < best->p50)
    {
      best->p50 = r->p50;
      best->p99 = r->p99;
      best->samples = r->samples;
    }
  best->missing += r->missing;
  best->dropped += r->dropped;
}

static void
print_result (const char *who, guint nodes, gsize size, const Result *r)
{
  double rate = r->msgs / r->secs;

  printf ("gossip %-2s %u nodes %2" G_GSIZE_FORMAT " KiB: %8.0f msg/s %8.1f MB/s | loaded p50 "
          "%7.2f ms p99 %7.2f ms | one-at-a-time p50 %6.3f ms p99 %6.3f ms (%u samples)",
          who, nodes, size / 1024, rate, rate * size / 1e6, r->loaded_p50 / 1000.0,
          r->loaded_p99 / 1000.0, r->p50 / 1000.0, r->p99 / 1000.0, r->samples);
  if (r->missing > 0 || r->dropped > 0)
    printf (" | DROPS: %" G_GUINT64_FORMAT " never delivered, %" G_GUINT64_FORMAT " counted",
            r->missing, r->dropped);
  else
    printf (" | no drops");
  printf ("\n");
}

int
main (int argc, char **argv)
{
  static const gsize sizes[2] = { 1024, 65536 };
  double secs = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;
  guint rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3;
  Result c[2][2] = { 0 }, js[2][2] = { 0 };
  gboolean have_js = TRUE, ok = TRUE;

  if (secs <= 0)
    secs = 2.0;
  rounds = CLAMP (rounds, 1, 10);
  /* C and js take turns, and each figure is the best of the rounds: on a
   * shared machine, load only ever makes a run slower. */
  for (guint r = 0; r < rounds && have_js; r++)
    {
      Result rc[2][2] = { 0 }, rj[2][2] = { 0 };

      run_c (2, sizes, 2, secs, rc[0]);
      run_c (3, sizes, 2, secs, rc[1]);
      have_js = run_js (secs, rj);
      for (guint t = 0; t < 2; t++)
        for (guint k = 0; k < 2; k++)
          {
            best_of (&c[t][k], &rc[t][k], r == 0);
            if (have_js)
              best_of (&js[t][k], &rj[t][k], r == 0);
          }
    }

  printf ("best of %u rounds (C and js alternating), each of %.1f s throughput + %.1f s "
          "one-at-a-time\n", rounds, secs, MAX (1.0, secs / 2));
  printf ("3 nodes: line a-b-c, c receives a's messages relayed by b; figures at the last node\n");
  for (guint t = 0; t < 2; t++)
    for (guint k = 0; k < 2; k++)
      {
        print_result ("C", t + 2, sizes[k], &c[t][k]);
        if (have_js)
          print_result ("js", t + 2, sizes[k], &js[t][k]);
      }
  if (!have_js)
    {
      printf ("js baseline missing: no ratios\n");
      return 1;
    }
  for (guint t = 0; t < 2; t++)
    for (guint k = 0; k < 2; k++)
      {
        double rc = c[t][k].msgs / c[t][k].secs, rj = js[t][k].msgs / js[t][k].secs;

        printf ("ratio C/js %u nodes %2" G_GSIZE_FORMAT " KiB: msg/s %.1fx, MB/s %.1fx, "
                "one-at-a-time p50 latency %.2fx, p99 %.2fx (below 1: C is faster)\n",
                t + 2, sizes[k] / 1024, rc / rj, rc / rj,
                (double) c[t][k].p50 / (double) js[t][k].p50,
                (double) c[t][k].p99 / (double) js[t][k].p99);
      }
  for (guint t = 0; t < 2; t++)
    {
      double ratio = (c[t][0].msgs / c[t][0].secs) / (js[t][0].msgs / js[t][0].secs);
      gboolean met = ratio >= 10.0;

      printf ("target: C >= 10x js msg/s at 1 KiB, %u nodes: %.1fx %s\n", t + 2, ratio,
              met ? "met" : "MISSED");
    }
  for (guint t = 0; t < 2; t++)
    for (guint k = 0; k < 2; k++)
      printf ("target: p50 <= 1 ms, C %u nodes %2" G_GSIZE_FORMAT " KiB: %.3f ms %s\n", t + 2,
              sizes[k] / 1024, c[t][k].p50 / 1000.0, c[t][k].p50 <= 1000 ? "met" : "MISSED");
  for (guint t = 0; t < 2; t++)
    for (guint k = 0; k < 2; k++)
      if (c[t][k].missing > 0 || c[t][k].dropped > 0)
        ok = FALSE;
  if (!ok)
    printf ("C runs had drops (see above)\n");
  return ok ? 0 : 1;
}
