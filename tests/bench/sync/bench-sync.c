/* bench-sync: bytes and round trips of each sync protocol plugin against
 * the flat comparison baseline (every child hash of a wide map sent once,
 * 64 bytes per child), measured in one run of the in-memory simulator
 * (tests/unit/sync/sync-sim.h): two replicas with n entities in one map
 * and d scattered differences (half made on each side: updates, adds and
 * deletes).  Every session must end with equal roots.
 *
 * Target (issue 11): at n = 100,000 and d = 100, sync-hash or
 * sync-levelwise within 200 KB and 8 round trips.
 *
 * Arguments: [max n] (default 100000). */
#include <stdio.h>
#include <string.h>

#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_hash_get_descriptor (void);
const MeroPluginDescriptor *mero_plugin_sync_levelwise_get_descriptor (void);

#define TARGET_N 100000u
#define TARGET_D 100u
#define TARGET_BYTES (200u * 1024)
#define TARGET_ROUND_TRIPS 8u
#define SEED 20261207u

typedef struct {
  const char *name;
  const MeroPluginDescriptor *(*get) (void);
} Proto;

int
main (int argc, char **argv)
{
  static const Proto protos[] = {
    { "sync-hash", mero_plugin_sync_hash_get_descriptor },
    { "sync-levelwise", mero_plugin_sync_levelwise_get_descriptor },
  };
  static const guint ns[] = { 1000, 100000 };
  static const guint ds[] = { 10, 100, 1000 };
  guint max_n = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : TARGET_N;
  gboolean target_seen = FALSE, target_met = FALSE;

  printf ("%-16s %7s %5s %12s %12s %9s %6s\n", "protocol", "n", "d", "bytes", "flat bytes",
          "x flat", "RTs");
  for (guint ni = 0; ni < G_N_ELEMENTS (ns); ni++)
    for (guint di = 0; di < G_N_ELEMENTS (ds); di++)
      {
        guint n = ns[ni], d = ds[di];
        SyncSimShape shape = { .n_common = n, .n_diverge = d / 2, .max_depth = 2,
                               .n_collections = 1, .pct_delete = 10, .pct_update = 50 };
        guint64 flat = 0;

        if (n > max_n)
          continue;
        for (guint pi = 0; pi < G_N_ELEMENTS (protos); pi++)
          {
            g_autoptr (GRand) rand = g_rand_new_with_seed (SEED + n + d);
            g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (protos[pi].get (), NULL);
            g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
            g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
            MeroSyncHandshake ha = { .struct_size = sizeof ha };
            MeroSyncHandshake hb = { .struct_size = sizeof hb };
            SyncSimResult res;
            guint8 ra[32], rb[32];
            guint n_live = 0;
            guint64 bytes;

            sync_sim_populate (a, b, &shape, rand);
            g_free (sync_sim_dump_live (b, &n_live));
            /* The flat baseline: the responder sends (id, hash) of every
             * child of the map once. */
            flat = 64 * (guint64) n_live;
            sync_sim_replica_root (a, ha.root_hash);
            sync_sim_replica_root (b, hb.root_hash);
            ha.entity_count = hb.entity_count = n_live;
            if (p->vtable->cost (p->plugin_data, &ha, &hb) == MERO_SYNC_COST_NOT_APPLICABLE)
              {
                printf ("%-16s %7u %5u %12s %12" G_GUINT64_FORMAT " %9s %6s\n", protos[pi].name,
                        n, d, "n/a", flat, "", "");
                continue;
              }
            g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
            g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
            sync_sim_replica_root (a, ra);
            sync_sim_replica_root (b, rb);
            g_assert_cmpmem (ra, 32, rb, 32);
            bytes = res.bytes_to_responder + res.bytes_to_initiator;
            printf ("%-16s %7u %5u %12" G_GUINT64_FORMAT " %12" G_GUINT64_FORMAT " %9.4f %6"
                    G_GUINT64_FORMAT "\n", protos[pi].name, n, d, bytes, flat,
                    (double) bytes / (double) flat, res.round_trips);
            fflush (stdout);
            if (n == TARGET_N && d == TARGET_D)
              {
                target_seen = TRUE;
                if (bytes <= TARGET_BYTES && res.round_trips <= TARGET_ROUND_TRIPS)
                  target_met = TRUE;
              }
          }
        printf ("%-16s %7u %5u %12s %12" G_GUINT64_FORMAT " %9.4f %6u\n", "flat baseline", n, d,
                "", flat, 1.0, 1);
      }
  if (target_seen)
    printf ("target: n = %u, d = %u: sync-hash or sync-levelwise <= %u KB and <= %u round "
            "trips: %s\n", TARGET_N, TARGET_D, TARGET_BYTES / 1024, TARGET_ROUND_TRIPS,
            target_met ? "met" : "MISSED");
  return 0;
}
