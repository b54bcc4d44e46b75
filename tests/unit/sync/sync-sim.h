/* sync-sim.h: the deterministic in-memory sync simulator.
 *
 * Replicas are real state engines (MeroState on the store-memory
 * backend) behind the host's MeroStateAccess; protocols are the real
 * plugins (their descriptors linked statically), driven through their
 * SDK vtables exactly as the node drives them.  Time is an integer the
 * simulator advances; all randomness comes from one seeded GRand, so a
 * run replays from its seed (MERO_TEST_SEED). */
#pragma once

#include <mero-sdk.h>

#include "context/state/mero-state.h"
#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

extern const guint8 sync_sim_context_id[32];

typedef struct _SyncSimReplica SyncSimReplica;

SyncSimReplica *sync_sim_replica_new (guint64 writer_node);
void sync_sim_replica_free (SyncSimReplica *r);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncSimReplica, sync_sim_replica_free)
/* A replica with a copy of @r's store (every record, indexes included)
 * and entities; no index attached (sync_sim_replica_attach_index finds
 * the copied one current). */
SyncSimReplica *sync_sim_replica_clone (SyncSimReplica *r);
MeroState *sync_sim_replica_state (SyncSimReplica *r);
void sync_sim_replica_root (SyncSimReplica *r, guint8 out[32]);
/* The replica's MeroStateHandle (for sessions made by hand). */
MeroStateHandle *sync_sim_replica_handle (SyncSimReplica *r);

/* What sync_sim_populate builds: a shared history, then edits each
 * replica makes on its own. */
typedef struct {
  guint n_common;        /* entities both replicas have */
  guint n_diverge;       /* edits on each replica alone */
  guint n_concurrent;    /* common entities updated on both at the same time */
  guint max_depth;       /* of the collections (1: everything under one map) */
  guint n_collections;
  guint pct_delete;      /* of the divergent edits; the rest are adds and updates */
  guint pct_update;
} SyncSimShape;

void sync_sim_populate (SyncSimReplica *a, SyncSimReplica *b, const SyncSimShape *shape,
                        GRand *rand);

typedef struct {
  const MeroPluginDescriptor *descriptor;
  const MeroSyncProtocolVTable *vtable;
  MeroHostServices *host;
  void *plugin_data;
} SyncSimProtocol;

SyncSimProtocol *sync_sim_protocol_new (const MeroPluginDescriptor *descriptor,
                                        MeroMetrics *metrics);
/* A protocol someone else initialised (a module the plugin registry
 * loaded): borrowed, never finalized here. */
SyncSimProtocol *sync_sim_protocol_wrap (const MeroSyncProtocolVTable *vtable,
                                         void *plugin_data);
void sync_sim_protocol_free (SyncSimProtocol *p);
/* Attaches @p's state index (SDK ABI 1.2; nothing if it has none) to
 * @r's state: from then on every commit keeps it in step, as in the node.
 * @p must outlive @r. */
void sync_sim_replica_attach_index (SyncSimReplica *r, SyncSimProtocol *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncSimProtocol, sync_sim_protocol_free)

typedef struct {
  guint64 bytes_to_responder;
  guint64 bytes_to_initiator;
  guint64 round_trips;
  guint64 entities;
  MeroSyncStatus initiator;
  MeroSyncStatus responder;
  gboolean cut;
} SyncSimResult;

/* One session between @initiator and @responder, bytes shuttled in
 * random splits.  @cut_after: deliver at most this many bytes in all,
 * then drop both sessions mid-stream (peer gone); G_MAXUINT64: no cut.
 * Returns FALSE if a session did not end (bounded steps). */
gboolean sync_sim_run (SyncSimProtocol *p, SyncSimReplica *initiator,
                       SyncSimReplica *responder, GRand *rand, guint64 cut_after,
                       SyncSimResult *out);

/* The same between any two state handles of context @context_id (e.g.
 * over delta stores). */
gboolean sync_sim_run_handles (SyncSimProtocol *p, const guint8 context_id[32],
                               MeroStateHandle *initiator, MeroStateHandle *responder,
                               GRand *rand, guint64 cut_after, SyncSimResult *out);

/* Called before each shuttle step (@step from 0): writes made here land
 * between the sessions' messages, as concurrent local writes would. */
typedef void (*SyncSimStepFunc) (guint step, gpointer data);

gboolean sync_sim_run_full (SyncSimProtocol *p, const guint8 context_id[32],
                            MeroStateHandle *initiator, MeroStateHandle *responder,
                            GRand *rand, guint64 cut_after, SyncSimStepFunc step_func,
                            gpointer step_data, SyncSimResult *out);

/* "id parent data" of every live entity, depth first: equal on equal
 * replicas. */
char *sync_sim_dump_live (SyncSimReplica *r, guint *n_live);
/* The root equals the root of a fresh replica holding only @r's live
 * entities (nothing half-applied, hashes consistent). */
gboolean sync_sim_is_consistent (SyncSimReplica *r);

/* MERO_TEST_SEED if set, else @fallback. */
guint32 sync_sim_seed (guint32 fallback);

G_END_DECLS
