/* reconcile-wire.h: the messages of /calimero/stream/reconcile/1 and their
 * bounded codec (hand-written, big-endian, length-prefixed; varint =
 * LEB128, minimal encodings only).
 *
 *   frame    = u32 body_len (<= RECONCILE_MAX_FRAME) || body
 *   body     = u8 type || ...
 *   SYMBOLS  (initiator -> responder) = varint first_index || varint n
 *              || (n > 0: zigzag varint first_count) || n x symbol; the
 *              coded symbols of the initiator's set, in order (first_index
 *              = the symbols sent before); first_count is the whole count
 *              of the first of them (its low byte is its symbol's count)
 *   MORE     (responder -> initiator) = varint n: not decoded yet, send the
 *              next n symbols (sized from an estimate of the difference)
 *   RESULT   (responder -> initiator) = u8 more || varint symbols_used
 *              || varint n_wants || n_wants x u64 key || entities: decoded;
 *              the responder's own versions the initiator lacks, and the
 *              keys (keyed item hashes) of the initiator's versions it wants
 *   ENTITIES (initiator -> responder) = u8 more || entities: the wanted
 *              versions and the initiator's merged versions of entities it
 *              received that differ from what it received
 *   FIN      (responder -> initiator) = u8 more || entities: the
 *              responder's merged versions that differ from what it received
 *   entities = varint n || (n > 0: n x id[32] || zstd(columns,
 *              RECONCILE_ZSTD_LEVEL) to the end of the body); columns =
 *              n x parent[32] || n x u8 crdt_type || six columns of n x u64:
 *              updated time, node, deleted time, node, cleared time, node
 *              (not created: a merge does not read it) || n x varint
 *              data_len || the data, one after the other.  Only the
 *              canonical compression is accepted (the decoder compresses
 *              again and compares).  The ids stay out of zstd: random bytes
 *              it cannot shrink and that cost the rest in its tables
 *   more     = 1 if another frame of the same type follows (entities are
 *              split into frames of about RECONCILE_FRAME_BUDGET), else 0
 *   symbol   = sum[RIBLT_ITEM_SIZE = 24] || u32 checksum (its low 32 bits)
 *              || u8 count (its low 8 bits): what the decoder reads
 *              (riblt.h); the responder unwraps each count around the one
 *              it expects from first_count (reconcile-responder.c)
 *
 * Every count and length is checked against the bytes that remain and a
 * named bound before anything is allocated. */
#pragma once

#include <mero-sdk.h>

#include "riblt.h"

G_BEGIN_DECLS

/* Bounds a peer can reach (each refusal is counted with its reason). */
#define RECONCILE_MAX_FRAME (8u * 1024 * 1024)
#define RECONCILE_MAX_SYMBOLS_PER_MESSAGE 65536u
#define RECONCILE_MAX_WANTS_PER_MESSAGE 262144u
#define RECONCILE_MAX_ENTITIES_PER_MESSAGE 65536u
#define RECONCILE_MAX_DATA (1024u * 1024)
/* Bytes of one coded symbol on the wire. */
#define RECONCILE_WIRE_SYMBOL_BYTES (RIBLT_ITEM_SIZE + 4u + 1u)
/* zstd level of the entities (part of the wire format: see entities). */
#define RECONCILE_ZSTD_LEVEL 9

typedef enum {
  RECONCILE_MSG_SYMBOLS = 1,
  RECONCILE_MSG_MORE = 2,
  RECONCILE_MSG_RESULT = 3,
  RECONCILE_MSG_ENTITIES = 4,
  RECONCILE_MSG_FIN = 5,
} ReconcileMsgType;

/* An entity as carried on the wire; @data is owned. */
typedef struct {
  MeroStateEntity e;          /* e.data points into @data */
  GBytes *data;
} ReconcileEntity;

typedef struct {
  uint8_t type;               /* ReconcileMsgType */
  uint32_t first_index;       /* SYMBOLS */
  GArray *symbols;            /* SYMBOLS: RibltSymbol */
  uint32_t n_more;            /* MORE */
  uint8_t more;               /* RESULT, ENTITIES, FIN: another frame follows */
  uint32_t symbols_used;      /* RESULT */
  GArray *wants;              /* RESULT: uint64_t keys */
  GPtrArray *entities;        /* RESULT, ENTITIES, FIN: ReconcileEntity * */
} ReconcileMsg;

ReconcileMsg *reconcile_msg_new (uint8_t type);
void reconcile_msg_free (ReconcileMsg *msg);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (ReconcileMsg, reconcile_msg_free)

/* Copies @e (and its data) into a new wire entity. */
ReconcileEntity *reconcile_entity_new (const MeroStateEntity *e);
void reconcile_entity_free (ReconcileEntity *entity);
/* Uncompressed size of one entity (the frame budget's measure). */
size_t reconcile_entity_wire_size (const MeroStateEntity *e);

/* Bytes of the frame of @msg (RESULT, ENTITIES or FIN) that are not its
 * entities (headers and wants): for the benchmark's split of the bytes. */
size_t reconcile_msg_overhead (const ReconcileMsg *msg);
/* Appends one whole frame (length prefix included) to @out. */
void reconcile_msg_encode (const ReconcileMsg *msg, GByteArray *out);
/* Decodes one frame body; NULL with MERO_SYNC_ERROR_PROTOCOL or _LIMIT
 * (the message says which bound) on anything malformed. */
ReconcileMsg *reconcile_msg_decode (const uint8_t *body, size_t len, GError **error);

G_END_DECLS
