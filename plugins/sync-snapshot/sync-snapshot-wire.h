/* sync-snapshot-wire.h: the messages of /calimero/stream/snapshot/1 and
 * their bounded codec (hand-written, big-endian, length-prefixed).
 *
 *   frame    = u32 body_len (<= SYNC_SNAPSHOT_MAX_FRAME) || body
 *   body     = u8 type || ...
 *   OPEN     (initiator -> responder) = nothing
 *   BOUNDARY (responder -> initiator, answers OPEN)
 *            = root[32] || u32 n_heads || n_heads x head[32]
 *              the root and DAG heads of the responder's read view: the
 *              state every page comes from
 *   NEXT     (initiator -> responder) = u8 has_cursor || cursor[32]
 *              the page after entity id @cursor (none: the first)
 *   PAGE     (responder -> initiator, answers NEXT)
 *            = u8 more || u32 n || u32 raw_len || zstd(raw_len bytes)
 *              raw = n x entity, ids ascending, after the cursor
 *   DONE     (initiator -> responder) = nothing: committed
 *   entity   = id[32] || parent[32] || u8 crdt_type
 *              || 4 x (u64 time || u64 node): created, updated, deleted, cleared
 *              || u32 data_len || data
 *
 * Every count and length is checked against the bytes that remain and a
 * named bound before anything is allocated; the decompressed size is
 * declared, bounded and must match exactly. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Bounds a peer can reach (each refusal is counted with its reason). */
#define SYNC_SNAPSHOT_MAX_PAGE_ENTITIES 4096u
/* Raw bytes of one page: the responder stops a page at
 * SYNC_SNAPSHOT_PAGE_BUDGET, so one more entity of the largest size fits. */
#define SYNC_SNAPSHOT_PAGE_BUDGET (4u * 1024 * 1024)
#define SYNC_SNAPSHOT_MAX_DATA (256u * 1024)
#define SYNC_SNAPSHOT_ENTITY_HEAD (32 + 32 + 1 + 4 * 16 + 4)
#define SYNC_SNAPSHOT_MAX_PAGE_RAW \
  (SYNC_SNAPSHOT_PAGE_BUDGET + SYNC_SNAPSHOT_ENTITY_HEAD + SYNC_SNAPSHOT_MAX_DATA)
/* A compressed page can be slightly larger than its raw bytes. */
#define SYNC_SNAPSHOT_MAX_FRAME (SYNC_SNAPSHOT_MAX_PAGE_RAW + 64u * 1024)
#define SYNC_SNAPSHOT_MAX_HEADS 4096u

typedef enum {
  SYNC_SNAPSHOT_MSG_OPEN = 1,
  SYNC_SNAPSHOT_MSG_BOUNDARY = 2,
  SYNC_SNAPSHOT_MSG_NEXT = 3,
  SYNC_SNAPSHOT_MSG_PAGE = 4,
  SYNC_SNAPSHOT_MSG_DONE = 5,
} SyncSnapshotMsgType;

typedef struct {
  SyncSnapshotMsgType type;
  /* BOUNDARY */
  uint8_t root[32];
  uint8_t *heads;                 /* n_heads x 32, owned */
  size_t n_heads;
  /* NEXT */
  gboolean has_cursor;
  uint8_t cursor[32];
  /* PAGE: entities whose data points into @raw */
  gboolean more;
  MeroStateEntity *entities;      /* owned */
  size_t n_entities;
  uint8_t *raw;                   /* owned, decompressed page */
  size_t raw_len;
} SyncSnapshotMsg;

void sync_snapshot_msg_clear (SyncSnapshotMsg *m);

typedef enum {
  SYNC_SNAPSHOT_DECODE_NEED_MORE = 0,
  SYNC_SNAPSHOT_DECODE_MSG = 1,
  SYNC_SNAPSHOT_DECODE_ERROR = -1,
} SyncSnapshotDecode;

/* Decodes the first frame of @buf.  On MSG, *consumed bytes were used and
 * @out filled (clear it after); on ERROR, *reason is a metric label
 * ("frame-too-large", "malformed", "too-many-entities", ...) and @error
 * says what. */
SyncSnapshotDecode sync_snapshot_wire_decode (const uint8_t *buf, size_t len, size_t *consumed,
                                              SyncSnapshotMsg *out, const char **reason,
                                              GError **error);

GBytes *sync_snapshot_wire_encode_empty (SyncSnapshotMsgType type);
GBytes *sync_snapshot_wire_encode_boundary (const uint8_t root[32], const uint8_t *heads,
                                            size_t n_heads);
GBytes *sync_snapshot_wire_encode_next (const uint8_t *cursor);
/* Encodes the first entities of @entities that fit SYNC_SNAPSHOT_PAGE_BUDGET
 * (at least one); *n_used says how many.  @more: further entities follow
 * in the state (the responder also sets it when the budget cut the page). */
GBytes *sync_snapshot_wire_encode_page (const MeroStateEntity *entities, size_t n, gboolean more,
                                        size_t *n_used);

G_END_DECLS
