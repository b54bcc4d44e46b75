/* sync-hash-wire.h: the messages of /calimero/stream/hash/1 and their
 * bounded codec (hand-written, big-endian, length-prefixed).
 *
 *   frame    = u32 body_len (<= SYNC_HASH_MAX_FRAME) || body
 *   body     = u8 type || ...
 *   REQUEST  (initiator -> responder)
 *            = u32 n_push || n_push x entity || u32 n_nodes || n_nodes x node
 *   REPLY    (responder -> initiator, one per REQUEST)
 *            = root[32] (after merging the request's pushes)
 *              || u32 n_answers || n_answers x answer
 *              (answers the first n_answers requested nodes, in order)
 *   DONE     (initiator -> responder) = root[32]
 *   node     = owner[32] || u8 path_len || path_len x u8 slot
 *              (path_len SYNC_HASH_PATH_LOGICAL: levelwise, no slots)
 *   answer   = u8 flags (bit 0: entity follows, bit 1: chained answer
 *              follows) || [entity] || u8 form || children || [answer]
 *              A chained answer is the answer for the only child of the
 *              one before it (a bucket chain, or the one entity of a leaf
 *              bucket): a path through single-child nodes costs no extra
 *              round trips.
 *   children = form 0: none
 *              form 1 (buckets): u8 n || n x (u8 slot || hash[32])
 *              form 2 (entities): u32 n || n x (id[32] || hash[32])
 *   entity   = id[32] || parent[32] || u8 crdt_type
 *              || 4 x (u64 time || u64 node): created, updated, deleted, cleared
 *              || u32 data_len || data
 *
 * Buckets are named by slot, not id: a bucket id is derived by the host,
 * so a child bucket costs 33 bytes on the wire instead of 64.  Every
 * count and length is checked against the bytes that remain and a named
 * bound before anything is allocated. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Bounds a peer can reach (each refusal is counted with its reason). */
#define SYNC_HASH_MAX_FRAME (8u * 1024 * 1024)
#define SYNC_HASH_MAX_NODES_PER_REQUEST 4096u
#define SYNC_HASH_MAX_PUSH_PER_MESSAGE 4096u
/* Children of one node in one answer: a leaf bucket holds about
 * n / 65536 entities, so this is reached only past ~4e9 entities in one
 * collection. */
#define SYNC_HASH_MAX_CHILDREN_PER_NODE 65536u
#define SYNC_HASH_MAX_PATH 8u
#define SYNC_HASH_MAX_DATA (1024u * 1024)
/* path_len of a levelwise node: the entity and its logical children,
 * bucket levels walked by the responder (no path bytes follow). */
#define SYNC_HASH_PATH_LOGICAL 0xffu
/* Chained answers after one answer: more than the physical depth of the
 * deepest tree (16 logical levels x 5 physical). */
#define SYNC_HASH_MAX_CHAIN 96u

typedef enum {
  SYNC_HASH_MSG_REQUEST = 1,
  SYNC_HASH_MSG_REPLY = 2,
  SYNC_HASH_MSG_DONE = 3,
} SyncHashMsgType;

typedef enum {
  SYNC_HASH_FORM_NONE = 0,
  SYNC_HASH_FORM_BUCKETS = 1,
  SYNC_HASH_FORM_ENTITIES = 2,
} SyncHashChildForm;

typedef struct {
  uint8_t owner[32];
  uint8_t path_len;
  uint8_t path[SYNC_HASH_MAX_PATH];
} SyncHashNode;

/* An entity as carried on the wire; @data is owned. */
typedef struct {
  MeroStateEntity e;          /* e.data points into @data */
  GBytes *data;
} SyncHashEntity;

typedef struct {
  uint8_t id[32];             /* entity children only */
  uint8_t hash[32];
  uint8_t slot;               /* bucket children only */
} SyncHashChild;

typedef struct _SyncHashAnswer SyncHashAnswer;

struct _SyncHashAnswer {
  gboolean has_entity;
  SyncHashEntity entity;
  uint8_t form;               /* SyncHashChildForm */
  GArray *children;           /* SyncHashChild */
  SyncHashAnswer *chain;      /* the answer for the only child, or NULL */
};

typedef struct {
  uint8_t type;               /* SyncHashMsgType */
  uint8_t root[32];           /* REPLY, DONE */
  GPtrArray *push;            /* REQUEST: SyncHashEntity * */
  GArray *nodes;              /* REQUEST: SyncHashNode */
  GPtrArray *answers;         /* REPLY: SyncHashAnswer * */
} SyncHashMsg;

SyncHashMsg *sync_hash_msg_new (uint8_t type);
void sync_hash_msg_free (SyncHashMsg *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (SyncHashMsg, sync_hash_msg_free)

/* Copies @e (and its data) into a new wire entity. */
SyncHashEntity *sync_hash_entity_new (const MeroStateEntity *e);
void sync_hash_entity_free (SyncHashEntity *entity);
SyncHashAnswer *sync_hash_answer_new (void);
void sync_hash_answer_free (SyncHashAnswer *answer);

/* Encoded size of @e (for budgets). */
size_t sync_hash_entity_wire_size (const MeroStateEntity *e);

/* Appends one whole frame (length prefix included) to @out. */
void sync_hash_msg_encode (const SyncHashMsg *msg, GByteArray *out);
/* Decodes one frame body; NULL with MERO_SYNC_ERROR_PROTOCOL or _LIMIT
 * (the message says which bound) on anything malformed. */
SyncHashMsg *sync_hash_msg_decode (const uint8_t *body, size_t len, GError **error);

G_END_DECLS
