/* mero-host-services.h: what the host gives every plugin at init.
 *
 * Plugins never link the host.  Everything they need from it (logging,
 * time, randomness, metrics, and for sync protocols access to a context's
 * state) reaches them through this table, which the host owns and keeps
 * alive until after the plugin's finalize.
 *
 * ABI rule: like every SDK struct, the table starts with its struct_size
 * and only grows at the end.  A plugin built against a newer minor must
 * check struct_size (MERO_HOST_SERVICES_HAS) before using a member the
 * running host may not have. */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

G_BEGIN_DECLS

/* True if the table @s is large enough to contain @member. */
#define MERO_HOST_SERVICES_HAS(s, member) \
  ((s)->struct_size >= G_STRUCT_OFFSET (MeroHostServices, member) + sizeof ((s)->member))

/* Opaque handle to one context's state, passed to sync sessions. */
typedef struct _MeroStateHandle MeroStateHandle;

/* One entity as a sync protocol sees it (see DESIGN §8).
 * All pointers are owned by the host and valid until the next call
 * on the same MeroStateHandle. */
typedef struct {
  uint32_t struct_size;
  uint32_t crdt_type;
  uint8_t id[32];
  uint8_t parent_id[32];      /* all zero for the root */
  uint8_t own_hash[32];
  uint8_t full_hash[32];
  uint64_t created_at;        /* HLC, 64-bit packed */
  uint64_t updated_at;        /* HLC, 64-bit packed */
  uint64_t deleted_at;        /* 0 unless a tombstone */
  const uint8_t *data;
  size_t data_len;
  const uint8_t *child_ids;   /* n_children * 32 bytes, sorted by id; hosts
                               * of minor >= 1 leave it empty (a map may have
                               * millions): walk children with list_children */
  size_t n_children;
  /* ABI 1.1: the writer half of each HLC (the times above are only its
   * packed time), so a merge breaks ties exactly as the writer's replica
   * did, and the last Clear of the entity's children. */
  uint64_t created_node;
  uint64_t updated_node;
  uint64_t deleted_node;
  uint64_t cleared_at;        /* HLC time of the last Clear; 0 = never */
  uint64_t cleared_node;
} MeroStateEntity;

/* ABI 1.1: a node of the physical Merkle tree.  Every entity's children
 * hang under a few levels of bucket nodes chosen by the child's id, so a
 * node is either an entity or a bucket; the hash of each node covers its
 * live subtree (DESIGN §8).  Nodes are named by the entity that owns them
 * and the slots taken from it: path_len 0 is the entity itself, a bucket
 * has path_len 1..bucket_levels (see MeroStateLayout). */
typedef enum {
  MERO_STATE_NODE_ENTITY = 0,
  MERO_STATE_NODE_BUCKET = 1,
} MeroStateNodeKind;

typedef struct {
  uint8_t id[32];             /* entity id, or the bucket's host-derived id */
  uint8_t full_hash[32];
  uint32_t kind;              /* MeroStateNodeKind */
  uint32_t slot;              /* bucket: its slot under its parent node; entity: 0 */
} MeroStateChild;

/* The shape of the physical tree (fixed for a state format). */
typedef struct {
  uint32_t struct_size;
  uint32_t bucket_levels;     /* bucket levels under every entity */
  uint32_t bucket_fanout;     /* slots per bucket level */
  uint32_t max_depth;         /* logical depth bound (root = 0) */
  uint64_t max_data;          /* bytes of one entity's data */
} MeroStateLayout;

/* A set of merges applied together: nothing reaches the state until
 * commit, and freeing an uncommitted writer drops it (a session cut in the
 * middle of a message leaves the state as it was before the message). */
typedef struct _MeroStateWriter MeroStateWriter;

/* ABI 1.1: snapshot sync (see the snapshot members of MeroStateAccess). */
typedef struct _MeroStateReadView MeroStateReadView;
typedef struct _MeroSnapshotWriter MeroSnapshotWriter;

/* ABI 1.2, plugin state indexes (see the index members of
 * MeroStateAccess): the writes of one index update, which commit in the
 * store batch of the state change that caused them. */
typedef struct _MeroIndexBatch MeroIndexBatch;
/* Longest key a plugin may use in its index. */
#define MERO_INDEX_KEY_MAX 64
typedef gboolean (*MeroIndexScanFunc) (const uint8_t *key, size_t key_len, const uint8_t *value,
                                       size_t value_len, void *data);

/* State access for sync protocol sessions (ABI 1).  Every method returns
 * FALSE and sets @error on failure; "not found" is not a failure
 * (*found = FALSE).  Append-only. */
typedef struct {
  uint32_t struct_size;
  uint32_t reserved;
  gboolean (*get_root_hash) (MeroStateHandle *state, uint8_t out_hash[32], GError **error);
  gboolean (*get_entity) (MeroStateHandle *state, const uint8_t id[32],
                          MeroStateEntity *out, gboolean *found, GError **error);
  /* Merge a peer's entity with the CRDT rules (never a raw overwrite). */
  gboolean (*merge_entity) (MeroStateHandle *state, const MeroStateEntity *entity, GError **error);
  gboolean (*count_entities) (MeroStateHandle *state, uint64_t *out_count, GError **error);

  /* ABI 1.1 (check with MERO_STATE_ACCESS_HAS). */
  void (*get_layout) (MeroStateHandle *state, MeroStateLayout *out);
  /* Children of the node @path_len slots under entity @owner, live only,
   * in id order, with their full hashes: at most @max into @out, starting
   * after child id @after (NULL: from the first).  *n_out = how many were
   * written, *more = TRUE if there are further children.  A node the
   * state does not have has no children (not an error). */
  gboolean (*list_children) (MeroStateHandle *state, const uint8_t owner[32],
                             const uint8_t *path, size_t path_len, const uint8_t *after,
                             MeroStateChild *out, size_t max, size_t *n_out,
                             gboolean *more, GError **error);
  /* Heads of the context's delta DAG: at most @max into @out (32 bytes
   * each), *n_out written; zero heads when the handle has no DAG. */
  gboolean (*get_dag_heads) (MeroStateHandle *state, uint8_t *out, size_t max, size_t *n_out,
                             GError **error);
  MeroStateWriter *(*writer_new) (MeroStateHandle *state);
  /* Merge one entity with the CRDT rules into the writer.  An entity
   * whose parent the state does not have yet is refused
   * (MERO_SYNC_ERROR_REFUSED) and leaves the writer as it was: send parents
   * first.  Any other failure leaves the writer unusable (free it). */
  gboolean (*writer_merge) (MeroStateWriter *writer, const MeroStateEntity *entity,
                            GError **error);
  /* Applies every merge at once (hashes recomputed); the writer stays
   * valid and empty.  *root_hash (may be NULL) gets the new root hash. */
  gboolean (*writer_commit) (MeroStateWriter *writer, uint8_t root_hash[32], GError **error);
  /* NULL-safe; drops what was not committed. */
  void (*writer_free) (MeroStateWriter *writer);

  /* ABI 1.1, snapshot sync (check with MERO_STATE_ACCESS_HAS).
   *
   * Responder: a consistent read view of the whole state (a store
   * snapshot taken at read_view_new, so writes made during a session do
   * not tear its pages) with the root hash and DAG heads of that instant,
   * the boundary the initiator must reach.  read_view_page writes at most
   * @max entities (every stored entity, tombstones included, in id order)
   * after @cursor (NULL: from the first) into @out, *more = TRUE if
   * further entities follow; their data stays valid until the next call
   * on the view. */
  MeroStateReadView *(*read_view_new) (MeroStateHandle *state, GError **error);
  void (*read_view_boundary) (MeroStateReadView *view, uint8_t root_hash[32],
                              const uint8_t **heads, size_t *n_heads);
  gboolean (*read_view_page) (MeroStateReadView *view, const uint8_t *cursor,
                              MeroStateEntity *out, size_t max, size_t *n_out,
                              gboolean *more, GError **error);
  /* NULL-safe. */
  void (*read_view_free) (MeroStateReadView *view);

  /* Initiator: a raw replace of the whole state by the peer's.  Refused
   * (MERO_SYNC_ERROR_REFUSED) unless the state is fresh (all-zero root)
   * or @resync (the operator asked for a resync).  A crash marker is
   * stored while it runs; pages are staged apart from the state and
   * survive a cut session: a begin with the same @boundary_root resumes,
   * *resume_cursor (32 bytes) then holds the id after which the next page
   * must start and *resumed is TRUE.  A marker found when the host opens
   * the context means a crash half-way: the host wipes the staging. */
  MeroSnapshotWriter *(*snapshot_begin) (MeroStateHandle *state,
                                         const uint8_t boundary_root[32], gboolean resync,
                                         uint8_t resume_cursor[32], gboolean *resumed,
                                         GError **error);
  /* Stages @n entities (in id order, after the last staged one) and
   * records @cursor (the last id) with them in one store batch. */
  gboolean (*snapshot_put_page) (MeroSnapshotWriter *writer, const MeroStateEntity *entities,
                                 size_t n, GError **error);
  /* Builds the state from every staged entity, and only if its root
   * equals the boundary root, commits it together with @heads (n x 32,
   * the peer's DAG heads at the boundary, which become the local heads)
   * and the removal of the staging and the marker, in one batch.  On a
   * root mismatch nothing is committed, the staging is dropped and
   * MERO_SYNC_ERROR_PROTOCOL is returned. */
  gboolean (*snapshot_commit) (MeroSnapshotWriter *writer, const uint8_t *heads,
                               size_t n_heads, GError **error);
  /* Drops the staging and the marker (the state stays as it was). */
  gboolean (*snapshot_abort) (MeroSnapshotWriter *writer, GError **error);
  /* NULL-safe; a writer neither committed nor aborted keeps its staging
   * for a resume. */
  void (*snapshot_free) (MeroSnapshotWriter *writer);

  /* ---- ABI 1.2: plugin state indexes (check with MERO_STATE_ACCESS_HAS) --
   *
   * A SYNC_PROTOCOL plugin may keep a per-context index of the state in
   * its own key range of the store, which the host keeps in step with the
   * state: see index_version / index_update / index_rebuild in
   * MeroSyncProtocolVTable.  @plugin is the plugin's name (its
   * descriptor's); keys are the plugin's own bytes (1 to
   * MERO_INDEX_KEY_MAX), which the host prefixes with the context and the
   * plugin, so no plugin reads another's.  The index is only meaningful
   * when index_version gives the plugin's own version: 0 means none (never
   * built, or dropped by a snapshot install until it is rebuilt).
   *
   * Reads on a MeroStateHandle see what is committed. */
  gboolean (*index_version) (MeroStateHandle *state, const char *plugin, uint32_t *out,
                             GError **error);
  /* *out (transfer full) NULL if absent. */
  gboolean (*index_get) (MeroStateHandle *state, const char *plugin, const uint8_t *key,
                         size_t key_len, GBytes **out, GError **error);
  /* Calls @func on every record whose key starts with @prefix, in key
   * order, from one consistent view of the store; stops early when @func
   * returns FALSE. */
  gboolean (*index_scan) (MeroStateHandle *state, const char *plugin, const uint8_t *prefix,
                          size_t prefix_len, MeroIndexScanFunc func, void *data, GError **error);
  /* Inside index_update / index_rebuild only: reads see the batch's own
   * writes first (read your writes), then what is committed. */
  gboolean (*index_batch_get) (MeroIndexBatch *batch, const uint8_t *key, size_t key_len,
                               GBytes **out, GError **error);
  void (*index_batch_put) (MeroIndexBatch *batch, const uint8_t *key, size_t key_len,
                           const uint8_t *value, size_t value_len);
  void (*index_batch_delete) (MeroIndexBatch *batch, const uint8_t *key, size_t key_len);
  /* ---- end of ABI 1.2 plugin state indexes ---- */
} MeroStateAccess;

/* True if the table @s is large enough to contain @member. */
#define MERO_STATE_ACCESS_HAS(s, member) \
  ((s)->struct_size >= G_STRUCT_OFFSET (MeroStateAccess, member) + sizeof ((s)->member))

/* ABI 1.1, group keys for the key-share protocol.  Sealing and opening
 * happen in the host: a plugin handles key ids and sealed boxes, never a
 * raw group key. */
#define MERO_KEY_ID_LEN 32
/* crypto_box_seal of a 32-byte key: 32 + 48. */
#define MERO_KEY_SEALED_LEN 80

/* Opaque handle to the node's groups and keys, passed to sessions. */
typedef struct _MeroKeyHandle MeroKeyHandle;

typedef struct {
  uint32_t struct_size;
  uint32_t reserved;
  /* Responder: seals key @key_id of group @group_id to @requester_peer
   * (the PeerId the connection authenticated) into @sealed.  Refused
   * (MERO_SYNC_ERROR_REFUSED) unless the group is known and the requester
   * is a current member of it; a key this node does not hold is not an
   * error (*found = FALSE). */
  gboolean (*seal_for_peer) (MeroKeyHandle *keys, const uint8_t group_id[32],
                             const char *requester_peer, const uint8_t key_id[32],
                             uint8_t sealed[MERO_KEY_SEALED_LEN], gboolean *found,
                             GError **error);
  /* Initiator: opens @sealed with the node's own identity key and
   * installs it as key @key_id of group @group_id (replaying what waited
   * for it).  A box sealed to anyone else, or for an unknown group, fails
   * with MERO_SYNC_ERROR_PROTOCOL and installs nothing. */
  gboolean (*open_install) (MeroKeyHandle *keys, const uint8_t group_id[32],
                            const uint8_t key_id[32], const uint8_t sealed[MERO_KEY_SEALED_LEN],
                            GError **error);
} MeroKeyAccess;

#define MERO_KEY_ACCESS_HAS(s, member) \
  ((s)->struct_size >= G_STRUCT_OFFSET (MeroKeyAccess, member) + sizeof ((s)->member))

/* ==== ABI 1.2: blob transfer (blob-share, /calimero/blob/1) ==========
 * Kept in one block so that other 1.x additions merge beside it.
 *
 * A blob protocol plugin frames, bounds, times out and counts; the host
 * owns the blob store and the node's identity.  Every chunk a plugin
 * hands to write_chunk is checked by the host against its leaf hash
 * before it touches the disk, and a request is authorised by the host
 * (signature, time window, membership).  All methods are called on the
 * host's main thread. */

/* Chunk size of the blob format (the last chunk may be shorter). */
#define MERO_BLOB_XFER_CHUNK_LEN (256u * 1024u)
#define MERO_BLOB_XFER_ID_LEN 32
#define MERO_BLOB_XFER_SIGNER_LEN 32
#define MERO_BLOB_XFER_SIGNATURE_LEN 64

/* Opaque: the host's blob side of one session. */
typedef struct _MeroBlobHandle MeroBlobHandle;

/* Why an initiator session failed, as the plugin tells the host
 * (note_failure): the host's fetch decides from it whether to try the
 * same provider again or drop it.  Append-only. */
typedef enum {
  MERO_BLOB_FAILURE_NONE = 0,
  MERO_BLOB_FAILURE_PROTOCOL = 1,   /* malformed or out-of-order frames */
  MERO_BLOB_FAILURE_TIMEOUT = 2,    /* a session deadline passed */
  MERO_BLOB_FAILURE_REFUSED = 3,    /* the provider refused the request */
  MERO_BLOB_FAILURE_NOT_FOUND = 4,  /* the provider does not hold the blob */
  MERO_BLOB_FAILURE_CORRUPT = 5,    /* a chunk (or the leaf list) failed its hash */
  MERO_BLOB_FAILURE_TOO_LARGE = 6,  /* the blob is over this node's max size */
  MERO_BLOB_FAILURE_LOCAL = 7,      /* the local store failed */
  MERO_BLOB_FAILURE_BUSY = 8,       /* the provider is serving too much */
} MeroBlobFailure;

typedef struct {
  uint32_t struct_size;
  uint32_t reserved;

  /* -- responder -- */
  /* Checks a request of @peer_id (the PeerId the connection
   * authenticated) for @blob_id in @context_id: @signer must be that
   * peer's identity key, @signature its Ed25519 signature over
   * mero_blob_request_message (), @timestamp_us (wall clock) within the
   * host's window, and the peer a current member of the context (or the
   * blob public to it).  FALSE with MERO_SYNC_ERROR_REFUSED otherwise. */
  gboolean (*authorize) (MeroBlobHandle *blobs, const char *peer_id,
                         const uint8_t context_id[32], const uint8_t blob_id[32],
                         int64_t timestamp_us, const uint8_t signer[32],
                         const uint8_t signature[64], GError **error);
  /* Size and leaf hashes (n x 32 bytes, transfer full) of a local blob;
   * absent is not an error (*found = FALSE). */
  gboolean (*get_blob) (MeroBlobHandle *blobs, const uint8_t blob_id[32], uint64_t *size,
                        GBytes **leaves, gboolean *found, GError **error);
  /* Chunk @index of a local blob, re-verified (transfer full); NULL and
   * @error if it is damaged or unreadable. */
  GBytes *(*read_chunk) (MeroBlobHandle *blobs, const uint8_t blob_id[32], uint64_t index,
                         GError **error);

  /* -- initiator (the handle is bound to one blob being received) -- */
  /* Signs a request with this node's identity key: @signer gets the
   * public key, @signature the signature. */
  gboolean (*sign_request) (MeroBlobHandle *blobs, const uint8_t context_id[32],
                            const uint8_t blob_id[32], int64_t timestamp_us,
                            uint8_t signer[32], uint8_t signature[64], GError **error);
  /* Opens (or resumes, or joins the already open) partial blob of @size
   * bytes with @leaves (n x 32).  MERO_SYNC_ERROR_LIMIT over the host's
   * max blob size, MERO_SYNC_ERROR_PROTOCOL if the leaves do not hash to
   * the id. */
  gboolean (*partial_open) (MeroBlobHandle *blobs, uint64_t size, GBytes *leaves,
                            GError **error);
  /* Verifies chunk @index against its leaf and writes it; a chunk that
   * does not match is refused (MERO_SYNC_ERROR_PROTOCOL) and nothing is
   * written. */
  gboolean (*write_chunk) (MeroBlobHandle *blobs, uint64_t index, const uint8_t *data,
                           size_t len, GError **error);
  /* First chunk not yet verified at or after @from, UINT64_MAX if none
   * (or no partial is open). */
  uint64_t (*next_missing) (MeroBlobHandle *blobs, uint64_t from);
  /* Adds the complete blob (one reference); fails while chunks are
   * missing. */
  gboolean (*commit) (MeroBlobHandle *blobs, GError **error);
  /* Why the session is failing (called once, before its status turns
   * FAILED); @message for logs. */
  void (*note_failure) (MeroBlobHandle *blobs, MeroBlobFailure failure, const char *message);
} MeroBlobAccess;

#define MERO_BLOB_ACCESS_HAS(s, member) \
  ((s)->struct_size >= G_STRUCT_OFFSET (MeroBlobAccess, member) + sizeof ((s)->member))

/* The bytes a blob request signature covers:
 *   "calimero-blob-request/1" || blob_id || context_id || timestamp_us (i64 BE)
 * (23 + 32 + 32 + 8 = 95 bytes into @out). */
#define MERO_BLOB_REQUEST_MESSAGE_LEN 95
static inline void
mero_blob_request_message (const uint8_t blob_id[32], const uint8_t context_id[32],
                           int64_t timestamp_us, uint8_t out[MERO_BLOB_REQUEST_MESSAGE_LEN])
{
  static const char tag[] = "calimero-blob-request/1";
  uint64_t t = (uint64_t) timestamp_us;

  memcpy (out, tag, 23);
  memcpy (out + 23, blob_id, 32);
  memcpy (out + 55, context_id, 32);
  for (int i = 0; i < 8; i++)
    out[87 + i] = (uint8_t) (t >> (56 - 8 * i));
}
/* ==== end of ABI 1.2 blob transfer ==================================== */

typedef enum {
  MERO_LOG_LEVEL_ERROR = 0,
  MERO_LOG_LEVEL_WARNING = 1,
  MERO_LOG_LEVEL_INFO = 2,
  MERO_LOG_LEVEL_DEBUG = 3,
} MeroLogLevel;

typedef struct _MeroHostServices MeroHostServices;

struct _MeroHostServices {
  uint32_t struct_size;
  uint32_t abi_major;          /* the running host's ABI */
  uint32_t abi_minor;
  uint32_t reserved;
  const char *host_version;    /* e.g. "0.1.0" */

  /* Structured log line; @domain is the plugin's name. */
  void (*log) (const MeroHostServices *host, MeroLogLevel level, const char *domain,
               const char *message);

  /* Monotonic and wall clock in microseconds.  Plugins take time only from
   * here so that tests can drive them with integer time. */
  int64_t (*now_monotonic_us) (const MeroHostServices *host);
  int64_t (*now_real_us) (const MeroHostServices *host);

  /* Cryptographically secure random bytes. */
  void (*random_bytes) (const MeroHostServices *host, uint8_t *buf, size_t len);

  /* Metrics: @name is a Prometheus metric name, @labels a pre-rendered
   * label set such as "protocol=\"hash\"" or NULL. */
  void (*counter_add) (const MeroHostServices *host, const char *name, const char *labels,
                       uint64_t delta);
  void (*gauge_set) (const MeroHostServices *host, const char *name, const char *labels,
                     double value);

  /* State access for sync protocols; NULL for other kinds. */
  const MeroStateAccess *state;

  /* Host-private; plugins must not touch it. */
  void *host_data;

  /* ABI 1.1 (check with MERO_HOST_SERVICES_HAS): group keys for
   * SYNC_PROTOCOL plugins; NULL for other kinds. */
  const MeroKeyAccess *keys;

  /* ABI 1.2 (check with MERO_HOST_SERVICES_HAS): blob access for blob
   * protocol plugins (blob-share); NULL for other kinds. */
  const MeroBlobAccess *blobs;
};

G_END_DECLS
