/* bench-reconcile: sync-reconcile next to sync-hash / sync-levelwise and
 * two anchors from npm on the same version sets, in one run of the
 * in-memory simulator (tests/unit/sync/sync-sim.h).  Two replicas hold n
 * entities in one map with d scattered differences (half made on each
 * side: updates, adds and deletes); every session must end with equal
 * roots.  Per protocol: bytes on the wire (both ways, entities included),
 * round trips, CPU time of each side's session calls; for sync-reconcile
 * also the coded symbols sent and the symbols its decoder needed per
 * differing version.  Anchors (tests/bench/sync/anchors.mjs, node, the
 * test-only packages of tests/interop): negentropy through nostr-tools'
 * nip77 and @peerbit/riblt's symbol count, fed the same version items.
 *
 * Targets (issue 12), at n = 100,000 and d = 100: <= 15 KB (15,000 bytes,
 * not KiB) on the wire,
 * <= 2 round trips, <= 1.6 coded symbols per difference, <= 50 ms of CPU
 * per side; bytes at n = 1,000,000 within 10 % of those at n = 100,000.
 *
 * Arguments: [max n (default 1000000)] [only this d (0: all)] [min n]. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <glib/gstdio.h>

#include "reconcile-core.h"
#include "riblt.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_reconcile_get_descriptor (void);
const MeroPluginDescriptor *mero_plugin_sync_hash_get_descriptor (void);
const MeroPluginDescriptor *mero_plugin_sync_levelwise_get_descriptor (void);

#define TARGET_N 100000u
#define TARGET_D 100u
#define TARGET_BYTES 15000u
#define TARGET_ROUND_TRIPS 2u
#define TARGET_SYMBOLS_PER_DIFF 1.6
#define TARGET_CPU_MS 50.0
#define TARGET_SCALE 0.10
#define SEED 20261207u
/* Replicas up to this size keep the stored prefix from their first write. */
#define INCREMENTAL_MAX_N 100000u

/* ---- CPU time of each side: the real vtable wrapped --------------------- */

static const MeroSyncProtocolVTable *real;
static MeroSyncSession *sessions[2];     /* [role] */
static double cpu_ms[2];
static guint64 symbols_sent, symbols_used, entity_bytes;
static gboolean is_reconcile;

static double
thread_cpu_ms (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return (double) ts.tv_sec * 1e3 + (double) ts.tv_nsec / 1e6;
}

static int
role_of (MeroSyncSession *s)
{
  return s == sessions[MERO_SYNC_ROLE_RESPONDER] ? MERO_SYNC_ROLE_RESPONDER
                                                 : MERO_SYNC_ROLE_INITIATOR;
}

#define TIMED(role, expr)                                                                       \
  do                                                                                            \
    {                                                                                           \
      double t0_ = thread_cpu_ms ();                                                            \
      expr;                                                                                     \
      cpu_ms[role] += thread_cpu_ms () - t0_;                                                   \
    }                                                                                           \
  while (0)

static MeroSyncSession *
w_session_new (void *pd, const MeroSyncSessionParams *params, GError **error)
{
  MeroSyncSession *s = NULL;

  TIMED (params->role, s = real->session_new (pd, params, error));
  sessions[params->role] = s;
  return s;
}

static gboolean
w_recv (MeroSyncSession *s, const uint8_t *data, size_t len, int64_t now, GError **error)
{
  gboolean ok = FALSE;

  TIMED (role_of (s), ok = real->recv (s, data, len, now, error));
  return ok;
}

static GBytes *
w_pull_send (MeroSyncSession *s)
{
  GBytes *b = NULL;

  TIMED (role_of (s), b = real->pull_send (s));
  return b;
}

static int64_t
w_next_deadline (MeroSyncSession *s)
{
  return real->next_deadline (s);
}

static gboolean
w_handle_deadline (MeroSyncSession *s, int64_t now, GError **error)
{
  return real->handle_deadline (s, now, error);
}

static MeroSyncStatus
w_status (MeroSyncSession *s)
{
  return real->status (s);
}

static void
w_get_stats (MeroSyncSession *s, MeroSyncSessionStats *out)
{
  real->get_stats (s, out);
}

static void
w_session_free (MeroSyncSession *s)
{
  if (is_reconcile && s != NULL)
    {
      guint64 sent, used, eb;

      reconcile_session_get_symbols ((ReconcileSession *) s, &sent, &used, &eb);
      entity_bytes += eb;
      if (role_of (s) == MERO_SYNC_ROLE_INITIATOR)
        symbols_sent = sent;
      else
        symbols_used = used;
    }
  TIMED (role_of (s), real->session_free (s));
}

static MeroSyncProtocolVTable wrapped;

static void
wrap (SyncSimProtocol *p, gboolean reconcile)
{
  real = p->vtable;
  wrapped = *real;
  wrapped.session_new = w_session_new;
  wrapped.recv = w_recv;
  wrapped.pull_send = w_pull_send;
  wrapped.next_deadline = w_next_deadline;
  wrapped.handle_deadline = w_handle_deadline;
  wrapped.status = w_status;
  wrapped.get_stats = w_get_stats;
  wrapped.session_free = w_session_free;
  p->vtable = &wrapped;
  memset (sessions, 0, sizeof sessions);
  cpu_ms[0] = cpu_ms[1] = 0;
  symbols_sent = symbols_used = entity_bytes = 0;
  is_reconcile = reconcile;
}

/* ---- anchors ------------------------------------------------------------ */

typedef struct {
  gboolean ok;
  double neg_bytes, neg_rts, neg_cpu_ms, riblt_symbols;
} Anchors;

/* The anchors take 32-byte ids (negentropy's), and @peerbit/riblt hashes
 * only part of one: each of our items as sha256(item), the same sets
 * with uniform ids. */
static void
pad_items (GByteArray *items)
{
  g_autoptr (GByteArray) out = g_byte_array_sized_new (items->len / RIBLT_ITEM_SIZE * 32);

  for (guint i = 0; i + RIBLT_ITEM_SIZE <= items->len; i += RIBLT_ITEM_SIZE)
    {
      g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
      guint8 digest[32];
      gsize len = sizeof digest;

      g_checksum_update (ck, items->data + i, RIBLT_ITEM_SIZE);
      g_checksum_get_digest (ck, digest, &len);
      g_byte_array_append (out, digest, 32);
    }
  g_byte_array_set_size (items, 0);
  g_byte_array_append (items, out->data, out->len);
}

static guint64
difference_size (GByteArray *a, GByteArray *b)
{
  g_autoptr (GHashTable) in_a = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  guint64 d = 0;

  for (guint i = 0; i + 32 <= a->len; i += 32)
    {
      GBytes *k = g_bytes_new (a->data + i, 32);

      g_ptr_array_add (keep, k);
      g_hash_table_add (in_a, k);
    }
  for (guint i = 0; i + 32 <= b->len; i += 32)
    {
      g_autoptr (GBytes) k = g_bytes_new (b->data + i, 32);

      if (!g_hash_table_remove (in_a, k))
        d++;
    }
  return d + g_hash_table_size (in_a);
}

static double
json_number (const char *json, const char *key)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\":", key);
  const char *p = strstr (json, needle);

  return p != NULL ? g_ascii_strtod (p + strlen (needle), NULL) : -1;
}

static Anchors
run_anchors (GByteArray *a, GByteArray *b)
{
  Anchors out = { 0 };
  g_autofree char *dir = g_dir_make_tmp ("bench-reconcile-XXXXXX", NULL);
  g_autofree char *fa = g_build_filename (dir, "a.bin", NULL);
  g_autofree char *fb = g_build_filename (dir, "b.bin", NULL);
  g_autofree char *script = g_build_filename (MERO_SOURCE_ROOT, "tests", "bench", "sync",
                                              "anchors.mjs", NULL);
  g_autofree char *modules = g_build_filename (MERO_SOURCE_ROOT, "tests", "interop",
                                               "node_modules", NULL);
  g_autofree char *sout = NULL;
  g_autofree char *serr = NULL;
  g_autoptr (GError) error = NULL;
  const char *argv[] = { "node", script, modules, fa, fb, NULL };
  int status = 0;

  g_file_set_contents (fa, (const char *) a->data, a->len, NULL);
  g_file_set_contents (fb, (const char *) b->data, b->len, NULL);
  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &sout, &serr,
                     &status, &error)
      || !g_spawn_check_wait_status (status, NULL))
    printf ("  anchors unavailable (%s%s): npm install --prefix tests/interop\n",
            error != NULL ? error->message : "node failed: ", serr != NULL ? serr : "");
  else
    {
      out.ok = TRUE;
      out.neg_bytes = json_number (sout, "negentropy_bytes");
      out.neg_rts = json_number (sout, "negentropy_round_trips");
      out.neg_cpu_ms = json_number (sout, "negentropy_cpu_ms");
      out.riblt_symbols = json_number (sout, "riblt_symbols");
    }
  g_unlink (fa);
  g_unlink (fb);
  g_rmdir (dir);
  return out;
}

/* ---- the runs ----------------------------------------------------------- */

typedef struct {
  guint64 bytes, round_trips;
  double cpu_i, cpu_r;
} Run;

/* sync-reconcile's state index, attached to every replica from its first
 * write (as the node does): never wrapped, outlives every replica. */
static SyncSimProtocol *index_owner;

/* The divergent pair for (n, d), built once and cloned for each protocol
 * (a populate of 1,000,000 entities is most of a row's time). */
static void
populate_pair (guint n, guint d, SyncSimReplica **a, SyncSimReplica **b)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED + n + d);
  SyncSimShape shape = { .n_common = n, .n_diverge = d / 2, .max_depth = 2,
                         .n_collections = 1, .pct_delete = 10, .pct_update = 50 };

  *a = sync_sim_replica_new (0xa);
  *b = sync_sim_replica_new (0xb);
  /* The stored prefix is kept by every commit, outside the session's CPU
   * time.  Above 100,000 entities it is built once after the populate (a
   * rebuild: the same records, tests/unit/sync/test-reconcile-index.c),
   * which keeps a 1,000,000 row to minutes. */
  if (n <= INCREMENTAL_MAX_N)
    {
      sync_sim_replica_attach_index (*a, index_owner);
      sync_sim_replica_attach_index (*b, index_owner);
    }
  sync_sim_populate (*a, *b, &shape, rand);
  sync_sim_replica_attach_index (*a, index_owner);
  sync_sim_replica_attach_index (*b, index_owner);
}

static gboolean
run_one (const MeroPluginDescriptor *desc, gboolean reconcile, guint n, guint d, Run *out,
         SyncSimReplica *a0, SyncSimReplica *b0)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (SEED + n + d + 1);
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (desc, NULL);
  g_autoptr (SyncSimReplica) a = NULL;
  g_autoptr (SyncSimReplica) b = NULL;
  MeroSyncHandshake ha = { .struct_size = sizeof ha }, hb = { .struct_size = sizeof hb };
  SyncSimResult res;
  guint8 ra[32], rb[32];

  ha.entity_count = hb.entity_count = n;
  ha.root_hash[0] = 1;
  if (p->vtable->cost (p->plugin_data, &ha, &hb) == MERO_SYNC_COST_NOT_APPLICABLE)
    return FALSE;
  a = sync_sim_replica_clone (a0);
  b = sync_sim_replica_clone (b0);
  sync_sim_replica_attach_index (a, index_owner);
  sync_sim_replica_attach_index (b, index_owner);
  wrap (p, reconcile);
  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  sync_sim_replica_root (a, ra);
  sync_sim_replica_root (b, rb);
  g_assert_cmpmem (ra, 32, rb, 32);
  out->bytes = res.bytes_to_responder + res.bytes_to_initiator;
  out->round_trips = res.round_trips;
  out->cpu_i = cpu_ms[MERO_SYNC_ROLE_INITIATOR];
  out->cpu_r = cpu_ms[MERO_SYNC_ROLE_RESPONDER];
  return TRUE;
}

static const char *
met (gboolean ok)
{
  return ok ? "met" : "MISSED";
}

int
main (int argc, char **argv)
{
  static const guint ns[] = { 100000, 1000000 };
  static const guint ds[] = { 10, 100, 1000 };
  guint max_n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1000000;
  guint only_d = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 0;
  guint min_n = argc > 3 ? (guint) g_ascii_strtoull (argv[3], NULL, 10) : 0;
  guint64 bytes_at[2][3] = { { 0 } };
  gboolean seen = FALSE;
  Run target = { 0 };
  double target_spd = 0;
  guint64 target_entity_bytes = 0;

  index_owner = sync_sim_protocol_new (mero_plugin_sync_reconcile_get_descriptor (), NULL);
  printf ("%-16s %8s %5s %6s %10s %4s %10s %10s %8s %8s %7s\n", "protocol", "n", "d", "diff",
          "bytes", "RTs", "cpu I ms", "cpu R ms", "symbols", "needed", "per d");
  for (guint ni = 0; ni < G_N_ELEMENTS (ns); ni++)
    for (guint di = 0; di < G_N_ELEMENTS (ds); di++)
      {
        guint n = ns[ni], d = ds[di];
        g_autoptr (GByteArray) ia = g_byte_array_new ();
        g_autoptr (GByteArray) ib = g_byte_array_new ();
        Run rec = { 0 }, other = { 0 };
        guint64 diff, rec_sent, rec_used, rec_entity_bytes;
        Anchors anc;
        const struct {
          const char *name;
          const MeroPluginDescriptor *(*get) (void);
        } trees[] = {
          { "sync-hash", mero_plugin_sync_hash_get_descriptor },
          { "sync-levelwise", mero_plugin_sync_levelwise_get_descriptor },
        };

        g_autoptr (SyncSimReplica) a0 = NULL;
        g_autoptr (SyncSimReplica) b0 = NULL;
        g_autoptr (GError) error = NULL;
        gint64 t0;

        if (n > max_n || n < min_n || (only_d != 0 && d != only_d))
          continue;
        t0 = g_get_monotonic_time ();
        populate_pair (n, d, &a0, &b0);
        fprintf (stderr, "  (n = %u, d = %u: replicas built in %.1f s)\n", n, d,
                 (double) (g_get_monotonic_time () - t0) / 1e6);
        g_assert_true (reconcile_collect_items (index_owner->host, sync_sim_replica_handle (a0),
                                                sync_sim_context_id, ia, &error));
        g_assert_true (reconcile_collect_items (index_owner->host, sync_sim_replica_handle (b0),
                                                sync_sim_context_id, ib, &error));
        g_assert_no_error (error);
        pad_items (ia);
        pad_items (ib);
        run_one (mero_plugin_sync_reconcile_get_descriptor (), TRUE, n, d, &rec, a0, b0);
        rec_sent = symbols_sent;
        rec_used = symbols_used;
        rec_entity_bytes = entity_bytes;
        diff = difference_size (ia, ib);
        printf ("%-16s %8u %5u %6" G_GUINT64_FORMAT " %10" G_GUINT64_FORMAT " %4" G_GUINT64_FORMAT
                " %10.1f %10.1f %8" G_GUINT64_FORMAT " %8" G_GUINT64_FORMAT " %7.3f\n",
                "sync-reconcile", n, d, diff, rec.bytes, rec.round_trips, rec.cpu_i, rec.cpu_r,
                rec_sent, rec_used, diff > 0 ? (double) rec_used / (double) diff : 0.0);
        printf ("%-16s %8s %5s %6s %10" G_GUINT64_FORMAT "  (reconciliation: all but the %"
                G_GUINT64_FORMAT " bytes of differing entities)\n", "", "", "", "",
                rec.bytes - rec_entity_bytes, rec_entity_bytes);
        fflush (stdout);
        bytes_at[ni][di] = rec.bytes;
        if (n == TARGET_N && d == TARGET_D)
          {
            seen = TRUE;
            target = rec;
            target_entity_bytes = rec_entity_bytes;
            target_spd = diff > 0 ? (double) rec_used / (double) diff : 0.0;
          }
        for (guint ti = 0; ti < G_N_ELEMENTS (trees); ti++)
          {
            if (!run_one (trees[ti].get (), FALSE, n, d, &other, a0, b0))
              {
                printf ("%-16s %8u %5u %6s %10s\n", trees[ti].name, n, d, "", "n/a");
                continue;
              }
            printf ("%-16s %8u %5u %6s %10" G_GUINT64_FORMAT " %4" G_GUINT64_FORMAT
                    " %10.1f %10.1f   reconcile x%.3f bytes\n", trees[ti].name, n, d, "",
                    other.bytes, other.round_trips, other.cpu_i, other.cpu_r,
                    (double) rec.bytes / (double) other.bytes);
            fflush (stdout);
          }
        anc = run_anchors (ia, ib);
        if (anc.ok)
          {
            printf ("%-16s %8u %5u %6s %10.0f %4.0f %10.1f %10s   reconcile x%.3f bytes\n",
                    "negentropy (js)", n, d, "", anc.neg_bytes, anc.neg_rts, anc.neg_cpu_ms,
                    "(both)", (double) rec.bytes / anc.neg_bytes);
            printf ("%-16s %8u %5u %6s %10s %4s %10s %10s %8s %8.0f %7.3f  reconcile x%.3f "
                    "symbols\n", "@peerbit/riblt", n, d, "", "", "", "", "", "",
                    anc.riblt_symbols, diff > 0 ? anc.riblt_symbols / (double) diff : 0.0,
                    anc.riblt_symbols > 0 ? (double) rec_used / anc.riblt_symbols : 0.0);
          }
        fflush (stdout);
      }
  if (seen)
    {
      printf ("target n = %u, d = %u: bytes %" G_GUINT64_FORMAT " <= %u: %s\n", TARGET_N,
              TARGET_D, target.bytes, TARGET_BYTES, met (target.bytes <= TARGET_BYTES));
      printf ("  (without the differing entities themselves: %" G_GUINT64_FORMAT " <= %u: %s)\n",
              target.bytes - target_entity_bytes, TARGET_BYTES,
              met (target.bytes - target_entity_bytes <= TARGET_BYTES));
      printf ("target n = %u, d = %u: round trips %" G_GUINT64_FORMAT " <= %u: %s\n", TARGET_N,
              TARGET_D, target.round_trips, TARGET_ROUND_TRIPS,
              met (target.round_trips <= TARGET_ROUND_TRIPS));
      printf ("target n = %u, d = %u: symbols per difference %.3f <= %.1f: %s\n", TARGET_N,
              TARGET_D, target_spd, TARGET_SYMBOLS_PER_DIFF,
              met (target_spd <= TARGET_SYMBOLS_PER_DIFF));
      printf ("target n = %u, d = %u: CPU per side %.1f / %.1f ms <= %.0f: %s\n", TARGET_N,
              TARGET_D, target.cpu_i, target.cpu_r, TARGET_CPU_MS,
              met (target.cpu_i <= TARGET_CPU_MS && target.cpu_r <= TARGET_CPU_MS));
    }
  for (guint di = 0; di < G_N_ELEMENTS (ds); di++)
    if (bytes_at[0][di] > 0 && bytes_at[1][di] > 0)
      {
        double r = (double) bytes_at[1][di] / (double) bytes_at[0][di];

        printf ("target d = %u: bytes at n = 1,000,000 / at 100,000 = %.3f (within %.0f %%): "
                "%s\n", ds[di], r, TARGET_SCALE * 100, met (r >= 1 - TARGET_SCALE
                                                            && r <= 1 + TARGET_SCALE));
      }
  return 0;
}
