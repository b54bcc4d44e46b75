/* mero-contexts.h: the NodeManager of contexts and groups (issue 6).
 *
 * Owns, on the main thread, every context this node has joined (its
 * DeltaStore, opened once the group key is held) and every group (its
 * governance DAG and key ring), persisted in the store and reopened at
 * start.  Fed by the network: gossip messages (BroadcastMessage, all six
 * variants), peers subscribing to topics, inbound stream requests; it
 * answers through a MeroNodeTransport, so the same code runs over libp2p
 * and, in unit tests, over memory.
 *
 * Keys: a member's key is its node's Ed25519 identity key (member key ↔
 * PeerId).  A context is sealed with its group's key; the inviter of an
 * accepted JOIN (an admin) rotates the key to the new member set, the
 * owner rotates after a LEAVE, and REMOVE_MEMBER rotates by itself.
 * Older keys come from another member over /calimero/stream/key/1.
 *
 * Drops are counted in mero_node_messages_dropped_total{reason} (gossip)
 * and mero_node_stream_requests_total{protocol,result} (streams). */
#pragma once

#include <gio/gio.h>

#include <mero-sdk.h>

#include "metrics/mero-metrics.h"
#include "context/delta/mero-delta-store.h"
#include "node/mero-node-transport.h"
#include "plugin/mero-plugin-registry.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

#define MERO_CONTEXTS_ERROR (mero_contexts_error_quark ())
GQuark mero_contexts_error_quark (void);

typedef enum {
  MERO_CONTEXTS_ERROR_INVALID_ARGUMENT = 1,
  MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT,
  MERO_CONTEXTS_ERROR_NOT_ALLOWED,     /* not a member, no write right, no capability */
  MERO_CONTEXTS_ERROR_NO_KEY,          /* the group key has not reached this node yet */
  MERO_CONTEXTS_ERROR_INVITATION,      /* malformed, forged, expired, not for us */
  MERO_CONTEXTS_ERROR_PEER,            /* the inviter did not answer usefully */
  MERO_CONTEXTS_ERROR_FAILED,
} MeroContextsError;

/* (transfer full) @error (taken) as a MERO_CONTEXTS_ERROR: errors of the
 * kv, state and JSON modules become INVALID_ARGUMENT, governance refusals
 * NOT_ALLOWED, anything else FAILED (mero-contexts-error.c). */
GError *mero_contexts_error_normalize (GError *error);

#define MERO_CONTEXTS_INVITATION_PREFIX "mero-invite1:"

/* @context_id base58, @root_hash base58 ("" for all-zero), @heads base58. */
typedef void (*MeroContextsStateFunc) (const char *context_id, const char *root_hash,
                                       const char *const *heads, gpointer user_data);

/* A member joined (@joined) or left @group_id, told once per context of
 * ours in that group.  Not told for the members a group has when it is
 * opened, only for changes seen while running. */
typedef void (*MeroContextsMemberFunc) (const char *context_id, const char *group_id,
                                        const char *peer_id, gboolean joined,
                                        gpointer user_data);

/* A catch-up of @context_id from @peer_id ended: nothing more to fetch
 * from it (@changed: its last batch changed the state). */
typedef void (*MeroContextsSyncFunc) (const char *context_id, const char *peer_id,
                                      gboolean changed, gpointer user_data);

typedef struct {
  MeroStore *store;                      /* borrowed */
  MeroMetrics *metrics;                  /* NULL: default */
  const guint8 *secret_key;              /* 64-byte Ed25519 (libsodium layout), copied */
  const MeroNodeTransport *transport;    /* borrowed, static */
  gpointer transport_data;
  MeroContextsStateFunc state_changed;
  gpointer state_changed_data;
  MeroContextsMemberFunc member_changed;     /* nullable */
  gpointer member_changed_data;
  MeroContextsSyncFunc sync_finished;        /* nullable */
  gpointer sync_finished_data;
  guint heartbeat_interval_secs;         /* 0: no periodic heartbeats */
  /* How long a missing parent or an unknown announced head may take to
   * arrive by gossip before it is fetched (0: fetch at once). */
  guint fetch_grace_ms;
  /* Tombstone GC: a sweep every @gc_interval_secs (0: none); tombstones
   * older than @tombstone_retention_ms go (0: the state's default, one
   * day; tests shorten it). */
  guint gc_interval_secs;
  guint64 tombstone_retention_ms;
  /* The listen addresses put into invitations (NULL-terminated, copied
   * at each invite through this callback so they are current). */
  const char *const *(*listen_addresses) (gpointer data);
  gpointer listen_addresses_data;
  /* The node's peer store (NULL: none).  @remember_peer records
   * @addresses (multiaddrs ending in /p2p/<peer_id>, e.g. an inviter's);
   * @reach_peer has the node (re)dial @peer_id from the store and returns
   * (transfer full) the addresses it knows for it (maybe empty). */
  void (*remember_peer) (gpointer data, const char *peer_id, const char *const *addresses);
  GStrv (*reach_peer) (gpointer data, const char *peer_id);
  gpointer peer_store_data;
  /* TEE admission (NULL: this node judges no attestation).  @tee_verify
   * runs the loaded verifier on @quote with the node's collateral, time
   * and tee.accept_mock; @tee_accept_mock also makes this node announce a
   * mock quote where it has no configfs-tsm. */
  gboolean (*tee_verify) (gpointer data, GBytes *quote, MeroTeeVerdict *verdict, GError **error);
  gpointer tee_verify_data;
  gboolean tee_accept_mock;
  /* Sync protocols whose state index (SDK ABI 1.2) every context's state
   * keeps in step (const MeroLoadedSyncProtocol *, borrowed: the
   * registry outlives the contexts); NULL: none. */
  GPtrArray *state_index_protocols;
} MeroContextsConfig;

typedef struct _MeroContexts MeroContexts;

/* Reopens every context and group of the store and subscribes to their
 * topics. */
MeroContexts *mero_contexts_new (const MeroContextsConfig *config, GError **error);
/* Fails the joins in flight ("the node is stopping"), so their callers
 * get an answer while the bus is still there.  NULL-safe. */
void mero_contexts_cancel_joins (MeroContexts *self);
/* Stops everything; pending requests complete into nothing.  NULL-safe. */
void mero_contexts_free (MeroContexts *self);

/* Control (D-Bus). */
gboolean mero_contexts_create (MeroContexts *self, const char *application, char **context_id,
                               char **group_id, GError **error);
/* (transfer floating) aa{sv} / a{sv} / aa{sv}: see network.calimero.Node1.xml. */
GVariant *mero_contexts_list (MeroContexts *self);
GVariant *mero_contexts_info (MeroContexts *self, const char *context_id, GError **error);
GVariant *mero_contexts_list_groups (MeroContexts *self);
char *mero_contexts_invite (MeroContexts *self, const char *context_id, const char *invitee,
                            guint expiry_secs, GError **error);
void mero_contexts_join_async (MeroContexts *self, const char *invitation,
                               GAsyncReadyCallback callback, gpointer user_data);
char *mero_contexts_join_finish (MeroContexts *self, GAsyncResult *result, GError **error);
gboolean mero_contexts_leave (MeroContexts *self, const char *context_id, GError **error);
/* Leaves like mero_contexts_leave and drops the local state even when the
 * group refuses the LEAVE (an owner deleting its own context here; the
 * group's ops stay in the store). */
gboolean mero_contexts_delete (MeroContexts *self, const char *context_id, GError **error);
gboolean mero_contexts_remove_member (MeroContexts *self, const char *context_id,
                                      const char *member, GError **error);
/* (transfer full) the JSON result. */
char *mero_contexts_call (MeroContexts *self, const char *context_id, const char *method,
                          const char *args, GError **error);
/* Asks every connected member for what we miss.  MERO_CONTEXTS_ERROR_PEER
 * when the context has other members but none is connected (their
 * redial is started, the message lists the addresses tried). */
gboolean mero_contexts_sync (MeroContexts *self, const char *context_id, GError **error);
/* Operator resync: the sync manager's next session with a connected
 * member replaces the local state by the member's (a snapshot, the
 * handshake carrying MERO_SYNC_HANDSHAKE_RESYNC); nothing happens when
 * the roots are already equal.  Errors as mero_contexts_sync. */
gboolean mero_contexts_resync (MeroContexts *self, const char *context_id, GError **error);
/* (transfer full) the PeerIds of every other member of our groups, for
 * the node to redial them after a restart. */
GStrv mero_contexts_list_member_peers (MeroContexts *self);
gboolean mero_contexts_skip_broadcasts (MeroContexts *self, const char *context_id, guint count,
                                        GError **error);

/* While a snapshot sync of @context_id runs (the sync manager says so),
 * StateDeltas go to a bounded DeltaBuffer instead of the DeltaStore;
 * ending it replays them in (hlc, id) order. */
gboolean mero_contexts_set_sync_active (MeroContexts *self, const char *context_id,
                                        gboolean active, GError **error);
/* A sync manager runs (TRUE from its start to its end): a join onto a
 * fresh state leaves the state to it instead of fetching the history, and
 * no delta is fetched while a DeltaBuffer is active (the state is being
 * replaced; what a fetch brought then is dropped and counted,
 * mero_node_messages_dropped_total{reason="state_replacing"}). */
void mero_contexts_set_state_sync (MeroContexts *self, gboolean enabled);
/* Publishes the node's sync-finished event for a state sync session that
 * ended in agreement (the SyncManager calls it). */
void mero_contexts_sync_finished (MeroContexts *self, const char *context_id,
                                  const char *peer_id, gboolean changed);

/* Network input: a gossip message on @topic, relayed to us by
 * @from_peer, published and signed by @author (the libp2p message's
 * `from`; NULL if it has none). */
void mero_contexts_handle_message (MeroContexts *self, const char *topic, const char *from_peer,
                                   const char *author, const guint8 *data, gsize len);
void mero_contexts_peer_subscribed (MeroContexts *self, const char *peer_id, const char *topic);
/* TRUE if @peer_id is a current member of any of our groups (what the
 * node client asks before giving an inbound stream a member's slot). */
gboolean mero_contexts_peer_is_member (MeroContexts *self, const char *peer_id);
/* (transfer full) the response StreamMessage to one request (never NULL). */
GBytes *mero_contexts_serve (MeroContexts *self, const char *peer_id, const char *protocol,
                             const guint8 *request, gsize len);
/* Publishes a HashHeartbeat per initialised context and a
 * GroupStateHeartbeat per group (what the periodic timer does). */
void mero_contexts_heartbeat (MeroContexts *self);

/* One whole tombstone sweep now, over every context (what the periodic
 * collector does in idle steps); returns how many were removed. */
guint mero_contexts_gc (MeroContexts *self);

/* For tests and the info: the number of contexts. */
guint mero_contexts_count (MeroContexts *self);

/* For the sync manager (host/sync, mero-contexts-sync.c). */
/* (transfer full) base58 ids of the contexts whose state we hold (key
 * received), sorted. */
GStrv mero_contexts_list_synced_ids (MeroContexts *self);
/* The DeltaStore of @context_id (base58), NULL while there is none (no
 * key yet, unknown context).  Borrowed: valid until the next return to
 * the main loop. */
MeroDeltaStore *mero_contexts_get_delta_store (MeroContexts *self, const char *context_id);
/* TRUE if @peer_id is a current member of the group of @context_id. */
gboolean mero_contexts_context_has_member (MeroContexts *self, const char *context_id,
                                           const char *peer_id);
/* (transfer full) the other members of @context_id's group (PeerIds). */
GStrv mero_contexts_context_member_peers (MeroContexts *self, const char *context_id);
/* (transfer full) the peers subscribed to @context_id's topic. */
GStrv mero_contexts_context_topic_peers (MeroContexts *self, const char *context_id);
/* A state sync of @context_id ended: the root is re-read, reported and
 * announced.  With @peer_root (nullable) and @peer_heads (@n_heads x 32),
 * what the peer announced in its handshake: if our root now equals it,
 * those heads become checkpoints of the DeltaStore
 * (mero_delta_store_add_checkpoints). */
void mero_contexts_state_synced (MeroContexts *self, const char *context_id,
                                 const guint8 *peer_root, const guint8 *peer_heads,
                                 guint n_heads);
/* Extra entries for the info of a context (a{sv}, floating or NULL),
 * added under "sync" (the sync manager's history). */
void mero_contexts_set_info_extra (MeroContexts *self,
                                   GVariant *(*func) (const char *context_id, gpointer data),
                                   gpointer data);

/* The key-share plugin that runs /calimero/stream/key/1 both ways
 * (borrowed: the registry outlives the contexts); NULL: group keys are
 * neither fetched nor served, and the first need of one says so. */
void mero_contexts_set_key_share (MeroContexts *self, const MeroLoadedSyncProtocol *protocol);

/* Blob providers (host/blob/mero-blob-providers.h): @record gets every
 * BlobProviderRecord heard on gossip (payload verbatim, unchecked);
 * @serve answers /calimero/stream/blob-have/1 requests (the response
 * message, transfer full).  NULL unsets; until set, both are dropped
 * and counted. */
/* TRUE if @context_id (base58) is a context of this node. */
gboolean mero_contexts_has_context (MeroContexts *self, const char *context_id);
void mero_contexts_set_blob_providers (
    MeroContexts *self,
    void (*record) (gpointer data, const char *topic, const char *from_peer, GBytes *payload),
    GBytes *(*serve) (gpointer data, const char *peer_id, const guint8 *request, gsize len),
    gpointer data);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroContexts, mero_contexts_free)

G_END_DECLS
