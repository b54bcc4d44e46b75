/* mero-sync-manager.h: the SyncManager (DESIGN §1, §5, §9).
 *
 * On the main loop, it consumes the node's sync-trigger queue (a member
 * subscribed to a context topic, a member's HashHeartbeat whose root
 * differs from ours, a join, SyncContext / `meroctl context sync`) and
 * its own periodic tick (sync.interval_secs, jittered), and runs state
 * syncs with other members of the context:
 *
 *   1. /calimero/stream/sync/1: each side sends a handshake (root hash,
 *      DAG heads, entity count, tree depth).  Equal roots: done.
 *   2. Every loaded SYNC_PROTOCOL plugin's cost() is asked and the
 *      cheapest applicable one runs on its own stream protocol id (the
 *      handshake again as first frame, then the plugin's bytes); on
 *      failure the next one runs, then the next peer.
 *
 * Peers: members only (see mero_sync_select_peers); a non-member's
 * stream on any sync protocol is reset and counted
 * (mero_sync_refusals_total{reason="non_member"}).  Scheduling, back-off
 * and the watchdog are mero-sync-sched.h's; what happened is kept in
 * mero-sync-history.h (the "sync" entry of a context's info) and counted
 * through a SyncMetricsCollector (mero-sync-metrics.h). */
#pragma once

#include <glib.h>

#include "node/mero-contexts.h"
#include "node/mero-node-client.h"
#include "plugin/mero-plugin-registry.h"
#include "sync/mero-sync-metrics.h"

G_BEGIN_DECLS

/* Inbound sync streams served at once, in all and per peer; more are
 * reset and counted (reason "busy"). */
#define MERO_SYNC_MAX_RESPONDERS 16u
#define MERO_SYNC_MAX_RESPONDERS_PER_PEER 4u
/* The handshake frame of an inbound stream must arrive within this
 * (reason "silent"); the session's own deadlines take over after it. */
#define MERO_SYNC_FIRST_FRAME_MS 5000u

typedef struct {
  MeroNodeClient *client;          /* borrowed, outlives the manager */
  MeroContexts *contexts;          /* borrowed */
  MeroPluginRegistry *registry;    /* borrowed: its SYNC_PROTOCOL plugins */
  MeroMetrics *metrics;            /* NULL: default */
  const char *self_peer_id;
  guint interval_secs;             /* periodic sync; 0: none */
  /* sync.protocols: plugin names, the only ones used, tried in this
   * order where applicable; NULL or empty: all, the cheapest first. */
  const char *const *protocols;
  guint32 seed;                    /* of the jitter */
} MeroSyncManagerConfig;

typedef struct _MeroSyncManager MeroSyncManager;

/* Installs itself as @client's stream handler and sync notifier and as
 * the contexts' info extra. */
MeroSyncManager *mero_sync_manager_new (const MeroSyncManagerConfig *config);
/* Ends every session (counted as failed "stopping"), uninstalls itself.
 * NULL-safe. */
void mero_sync_manager_free (MeroSyncManager *manager);

/* (transfer full) the stream protocols it serves: the handshake's and
 * every loaded plugin's. */
GStrv mero_sync_manager_protocols (MeroSyncManager *manager);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncManager, mero_sync_manager_free)

G_END_DECLS
