/* blob-share-wire.h: the /calimero/blob/1 frames (sans-IO, private to the
 * plugin).
 *
 * Every frame is `u32 length (big endian) || u8 type || payload`, the
 * length counting type and payload, at most BLOB_WIRE_FRAME_MAX.  Integers
 * are big endian.
 *   REQUEST (1): u8 version (1) | context id 32 | blob id 32 | u64 first
 *                | u32 count | u8 flags | i64 timestamp_us | signer 32
 *                | signature 64                           (182 bytes)
 *   HEADER  (2): u64 size | u32 n_leaves | n_leaves x 32   (leaves only if asked)
 *   CHUNK   (3): u64 index | data (1 .. BLOB_WIRE_CHUNK_MAX bytes; an
 *                empty blob's one chunk is empty)
 *   END     (4): nothing
 *   ERROR   (5): u8 code | reason (UTF-8, at most BLOB_WIRE_REASON_MAX)
 * A decoder refuses any other length, any unknown type or version, and
 * anything over a bound, before it allocates. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

#define BLOB_WIRE_VERSION 1
#define BLOB_WIRE_CHUNK_MAX MERO_BLOB_XFER_CHUNK_LEN
/* 32,768 leaves = blobs up to 8 GiB; the node's own blob.max_size is
 * checked by the host. */
#define BLOB_WIRE_MAX_LEAVES 32768u
#define BLOB_WIRE_REASON_MAX 256u
#define BLOB_WIRE_FRAME_MAX (1u + 12u + BLOB_WIRE_MAX_LEAVES * 32u)
#define BLOB_WIRE_REQUEST_LEN 182u

typedef enum {
  BLOB_MSG_REQUEST = 1,
  BLOB_MSG_HEADER = 2,
  BLOB_MSG_CHUNK = 3,
  BLOB_MSG_END = 4,
  BLOB_MSG_ERROR = 5,
} BlobMsgType;

/* Error codes on the wire. */
typedef enum {
  BLOB_ERR_REFUSED = 1,     /* not authorised (signature, time, membership) */
  BLOB_ERR_NOT_FOUND = 2,   /* this node does not hold the blob */
  BLOB_ERR_BAD_REQUEST = 3, /* range outside the blob or over the bound */
  BLOB_ERR_INTERNAL = 4,    /* a chunk could not be read (damaged here) */
} BlobErrCode;

#define BLOB_REQ_WANT_LEAVES 0x01
/* The range is served only if it is the whole blob (from chunk 0), else
 * the header alone (MERO_BLOB_SESSION_WHOLE_IF_FITS). */
#define BLOB_REQ_WHOLE_IF_FITS 0x02

typedef struct {
  BlobMsgType type;
  /* REQUEST */
  uint8_t context_id[32];
  uint8_t blob_id[32];
  uint64_t first;
  uint32_t count;
  uint8_t flags;
  int64_t timestamp_us;
  uint8_t signer[32];
  uint8_t signature[64];
  /* HEADER */
  uint64_t size;
  GBytes *leaves;            /* NULL: not sent */
  /* CHUNK */
  uint64_t index;
  GBytes *data;
  /* ERROR */
  uint8_t code;
  char *reason;
} BlobMsg;

void blob_msg_clear (BlobMsg *m);

/* Whole frames (transfer full). */
GBytes *blob_wire_encode (const BlobMsg *m);

/* A CHUNK frame's first BLOB_WIRE_CHUNK_HEADER_LEN bytes, for a chunk of
 * @len bytes that follows them on the stream as it is (transfer full):
 * sending the chunk's own bytes after this saves copying each served
 * chunk into a frame.  The bytes are those blob_wire_encode() makes. */
#define BLOB_WIRE_CHUNK_HEADER_LEN 13u
GBytes *blob_wire_encode_chunk_header (uint64_t index, size_t len);

typedef enum {
  BLOB_DECODE_OK = 0,
  BLOB_DECODE_NEED_MORE = 1,
  BLOB_DECODE_ERROR = 2,
} BlobDecode;

/* Decodes the frame at the start of @data.  OK: *used bytes made @out
 * (clear it).  NEED_MORE: no whole frame yet (nothing over the bound is
 * waited for).  ERROR: *reason is a metric label ("too_large",
 * "malformed", "unknown_type"), @error says what.  A CHUNK's data points
 * into @data (no copy of every chunk received): it is valid only while
 * @data is, so use it before @data changes and never keep a reference. */
BlobDecode blob_wire_decode (const uint8_t *data, size_t len, size_t *used, BlobMsg *out,
                             const char **reason, GError **error);

G_END_DECLS
