/* mero-sync-manager-private.h: shared by mero-sync-manager.c (triggers,
 * scheduling, the initiator side) and mero-sync-responder.c (inbound
 * streams). */
#pragma once

#include "context/state/mero-state-access.h"
#include "sync/mero-sync-handshake.h"
#include "sync/mero-sync-history.h"
#include "sync/mero-sync-manager.h"
#include "sync/mero-sync-sched.h"
#include "sync/mero-sync-session.h"

G_BEGIN_DECLS

typedef struct _Run Run;
typedef struct _Link Link;

struct _MeroSyncManager {
  MeroNodeClient *client;
  MeroContexts *contexts;
  MeroPluginRegistry *registry;
  char *self_id;
  MeroSyncSched *sched;
  MeroSyncHistory *history;
  MeroSyncMetricsCollector *collector;
  GPtrArray *protocols;      /* const MeroLoadedSyncProtocol * */
  /* sync.protocols set: @protocols is that list, tried in its order. */
  gboolean configured_order;
  GHashTable *runs;          /* context b58 → Run (our sessions) */
  GHashTable *links;         /* MeroNetStream * → Link (every sync stream) */
  GHashTable *opening;       /* request id (guint64 *) → Run */
  GSource *wake;
  /* context b58 → CountCache: counting entities scans the context's keys,
   * so a handshake reuses the count while the root is the same. */
  GHashTable *counts;
  /* Contexts whose next session is an operator resync (context b58). */
  GHashTable *resyncs;
  guint responders;
  gboolean stopping;
};

/* One sync stream: ours (run != NULL) or a peer's (responder). */
struct _Link {
  MeroSyncManager *mgr;
  MeroNetStream *stream;
  Run *run;
  const MeroLoadedSyncProtocol *protocol;   /* NULL: the handshake */
  GByteArray *inbuf;
  /* Responder side only. */
  char *peer;
  char *ctx_b58;
  MeroSyncHello *local, *remote;
  MeroStateHandle *state;
  MeroDeltaStore *ds;
  MeroSyncDriver *driver;
  GSource *silence;          /* until the handshake; then the session's watchdog */
  gint64 started_us;
};

/* mero-sync-manager.c */
/* (transfer full) what we know of @context_id now, NULL without a state. */
MeroSyncHello *mero_sync_local_hello (MeroSyncManager *mgr, const char *context_id,
                                      MeroDeltaStore **ds_out, MeroStateHandle **state_out);
const MeroLoadedSyncProtocol *mero_sync_protocol_by_id (MeroSyncManager *mgr,
                                                        const char *protocol_id);
const char *mero_sync_protocol_label (const MeroLoadedSyncProtocol *p);
void mero_sync_link_free (Link *link);
/* Frames @message on @link's stream. */
void mero_sync_link_send (Link *link, GBytes *message);

/* mero-sync-responder.c */
extern const MeroNodeStreamHandler mero_sync_stream_handler;
void mero_sync_responder_inbound (MeroSyncManager *mgr, MeroNetStream *stream);
void mero_sync_responder_data (Link *link, GBytes *bytes);
void mero_sync_responder_ended (Link *link, gboolean reset);

/* mero-sync-manager.c: initiator side events. */
gboolean mero_sync_run_opened (MeroSyncManager *mgr, guint64 request_id, MeroNetStream *stream);
gboolean mero_sync_run_open_failed (MeroSyncManager *mgr, guint64 request_id,
                                    const char *message);
void mero_sync_run_data (Link *link, GBytes *bytes);
void mero_sync_run_ended (Link *link, gboolean reset);

G_END_DECLS
