/* mero-sync-protocol.h: vtable of a SYNC_PROTOCOL plugin.
 *
 * A sync protocol is a sans-IO state machine (DESIGN §3): the host feeds
 * it the bytes that arrived on its stream together with the current time,
 * pulls the bytes it wants to send, and calls it back at its next
 * deadline.  It never touches sockets, clocks or randomness itself (time
 * comes in as arguments; randomness through MeroHostServices).
 *
 * The SyncManager asks every loaded protocol for its cost on a handshake
 * and runs the cheapest applicable one, falling back to the next on
 * failure. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include <mero-sdk/mero-host-services.h>

G_BEGIN_DECLS

/* Returned by cost() when the protocol cannot serve this handshake. */
#define MERO_SYNC_COST_NOT_APPLICABLE UINT64_MAX

/* A deadline of "none". */
#define MERO_SYNC_NO_DEADLINE INT64_MAX

/* What the two sides know of a context when they start (DESIGN §9). */
typedef struct {
  uint32_t struct_size;
  uint32_t reserved;
  uint8_t root_hash[32];      /* all zero = uninitialised */
  const uint8_t *heads;       /* n_heads * 32 bytes */
  size_t n_heads;
  uint64_t entity_count;
  uint32_t max_depth;
  uint32_t reserved2;
  /* ABI 1.1 (present if struct_size covers it): MeroSyncHandshakeFlags
   * the host sets on its own side, never sent to the peer. */
  uint64_t flags;
} MeroSyncHandshake;

typedef enum {
  /* The operator asked to replace this node's state by a peer's
   * (an explicit resync): a snapshot is applicable although the local
   * root is not all-zero. */
  MERO_SYNC_HANDSHAKE_RESYNC = 1 << 0,
} MeroSyncHandshakeFlags;

/* True if the handshake @h is large enough to contain @member. */
#define MERO_SYNC_HANDSHAKE_HAS(h, member) \
  ((h)->struct_size >= G_STRUCT_OFFSET (MeroSyncHandshake, member) + sizeof ((h)->member))

typedef enum {
  MERO_SYNC_ROLE_INITIATOR = 0,
  MERO_SYNC_ROLE_RESPONDER = 1,
} MeroSyncRole;

typedef enum {
  MERO_SYNC_STATUS_RUNNING = 0,
  MERO_SYNC_STATUS_DONE = 1,
  MERO_SYNC_STATUS_FAILED = 2,
} MeroSyncStatus;

typedef struct {
  uint32_t struct_size;
  uint32_t role;              /* MeroSyncRole */
  uint8_t context_id[32];
  const char *peer_id;        /* base58 PeerId of the remote side */
  const MeroSyncHandshake *local;
  const MeroSyncHandshake *remote;
  MeroStateHandle *state;     /* use with host->state */
  int64_t now_us;             /* session start, monotonic */
  /* ABI 1.1 (MERO_SYNC_SESSION_PARAMS_HAS), key-share sessions: the
   * handle to use with host->keys (NULL for state syncs).  An initiator's
   * context_id holds the group id and key_ids the n_key_ids x 32 bytes of
   * the key ids it asks for; a responder learns both from the request. */
  MeroKeyHandle *keys;
  const uint8_t *key_ids;
  size_t n_key_ids;
  /* ABI 1.2 (MERO_SYNC_SESSION_PARAMS_HAS), blob sessions
   * (/calimero/blob/): the handle to use with host->blobs (NULL for other
   * sessions).  An initiator asks for @blob_id in @context_id, chunks
   * [chunk_first, chunk_first + chunk_count) (a count of 0 asks for the
   * header only), with the size and leaf hashes first if blob_flags has
   * MERO_BLOB_SESSION_WANT_LEAVES; a responder learns all of it from the
   * request. */
  MeroBlobHandle *blobs;
  uint8_t blob_id[32];
  uint64_t chunk_first;
  uint64_t chunk_count;
  uint32_t blob_flags;        /* MeroBlobSessionFlags */
  uint32_t reserved3;
} MeroSyncSessionParams;

/* ABI 1.2: flags of a blob session. */
typedef enum {
  MERO_BLOB_SESSION_WANT_LEAVES = 1 << 0,
  /* With a chunk_count > 0 from chunk 0: the chunks come only if they are
   * the whole blob, else the header alone. A fetch's first request asks
   * for a small blob whole without the cost of a chunk it may refuse. */
  MERO_BLOB_SESSION_WHOLE_IF_FITS = 1 << 1,
} MeroBlobSessionFlags;

#define MERO_SYNC_SESSION_PARAMS_HAS(p, member) \
  ((p)->struct_size >= G_STRUCT_OFFSET (MeroSyncSessionParams, member) + sizeof ((p)->member))

typedef struct _MeroSyncSession MeroSyncSession;

typedef struct {
  uint64_t messages_sent;
  uint64_t messages_received;
  uint64_t bytes_sent;
  uint64_t bytes_received;
  uint64_t round_trips;
  uint64_t entities_transferred;
} MeroSyncSessionStats;

typedef struct _MeroSyncProtocolVTable MeroSyncProtocolVTable;

struct _MeroSyncProtocolVTable {
  uint32_t struct_size;
  uint32_t reserved;

  /* Stream protocol id, e.g. "/calimero/stream/hash/1". */
  const char *protocol_id;

  /* Relative cost of syncing from @local to @remote (lower is cheaper),
   * or MERO_SYNC_COST_NOT_APPLICABLE.  Pure: no side effects. */
  uint64_t (*cost) (void *plugin_data, const MeroSyncHandshake *local,
                    const MeroSyncHandshake *remote);

  MeroSyncSession *(*session_new) (void *plugin_data, const MeroSyncSessionParams *params,
                                   GError **error);
  /* Bytes from the peer; may be any split of the stream. */
  gboolean (*recv) (MeroSyncSession *session, const uint8_t *data, size_t len, int64_t now_us,
                    GError **error);
  /* Next bytes to write, (transfer full), or NULL when there are none. */
  GBytes *(*pull_send) (MeroSyncSession *session);
  /* Monotonic time (us) at which handle_deadline must be called, or
   * MERO_SYNC_NO_DEADLINE. */
  int64_t (*next_deadline) (MeroSyncSession *session);
  gboolean (*handle_deadline) (MeroSyncSession *session, int64_t now_us, GError **error);
  MeroSyncStatus (*status) (MeroSyncSession *session);
  void (*get_stats) (MeroSyncSession *session, MeroSyncSessionStats *out);
  /* NULL-safe. */
  void (*session_free) (MeroSyncSession *session);

  /* ---- ABI 1.2: a per-context index of the state (check with
   * MERO_SYNC_PROTOCOL_VTABLE_HAS; all three or none) ---------------------
   *
   * What a protocol's sessions need from the whole state (sync-reconcile:
   * the first coded symbols of its set) kept in the store and updated in
   * the same write batch as the state, so a session costs the difference,
   * not the state.  The records live in the plugin's key range (the index
   * members of MeroStateAccess).  When the host opens a context whose
   * index is missing or of another index_version, it clears the range and
   * calls index_rebuild once; after that it calls index_update for every
   * entity record a commit writes or removes, inside that commit. */
  uint32_t index_version;     /* 0: no index; change it when the layout changes */
  uint32_t reserved2;
  /* @old_entity / @new_entity: the committed record before and the one
   * the commit writes (NULL: created / removed; full_hash and child_ids
   * are not filled).  Updates go into @batch.  Deterministic; fails only
   * on a store error (the commit fails with it). */
  gboolean (*index_update) (void *plugin_data, const uint8_t context_id[32],
                            MeroIndexBatch *batch, const MeroStateEntity *old_entity,
                            const MeroStateEntity *new_entity, GError **error);
  /* The whole index of @state into @batch (the range is empty). */
  gboolean (*index_rebuild) (void *plugin_data, const uint8_t context_id[32],
                             MeroStateHandle *state, MeroIndexBatch *batch, GError **error);
  /* ---- end of ABI 1.2 state index ---- */
};

/* True if the vtable @v is large enough to contain @member. */
#define MERO_SYNC_PROTOCOL_VTABLE_HAS(v, member) \
  ((v)->struct_size >= G_STRUCT_OFFSET (MeroSyncProtocolVTable, member) + sizeof ((v)->member))

G_END_DECLS
