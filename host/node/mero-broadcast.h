/* mero-broadcast.h: the node protocol's messages (sdk/proto/mero-broadcast.proto)
 * as plain C values, with bounded decoders.
 *
 * Pure codec: no I/O, no crypto.  Decoders check every count and id size
 * against the MERO_BROADCAST_* bounds below and fail with
 * MERO_BROADCAST_ERROR_* (the reason is what the node counts); payloads
 * that are signed elsewhere (delta envelopes, group ops) are carried as
 * the exact bytes received.
 *
 * Stream frames are `uvarint length || message`, at most
 * MERO_STREAM_FRAME_MAX bytes of message (DESIGN §7). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BROADCAST_ID_LEN 32
/* A gossip message is at most 1 MiB (the network's publish cap); a delta
 * envelope inside it leaves room for the rest. */
#define MERO_BROADCAST_MAX_SIZE (1024u * 1024u + 4096u)
/* What gossip carries at most (the network's publish cap). */
#define MERO_BROADCAST_GOSSIP_MAX (1024u * 1024u)
#define MERO_BROADCAST_MAX_HEADS 64u
#define MERO_BROADCAST_MAX_OPS 64u
#define MERO_BROADCAST_MAX_MEMBERS 256u

#define MERO_STREAM_FRAME_MAX (8u * 1024u * 1024u)
#define MERO_STREAM_MAX_IDS 1024u
#define MERO_STREAM_MAX_BLOBS 1024u
#define MERO_STREAM_MAX_KEYS 256u
#define MERO_STREAM_SEALED_LEN 80u
#define MERO_STREAM_MAX_REASON 256u

#define MERO_BROADCAST_ERROR (mero_broadcast_error_quark ())
GQuark mero_broadcast_error_quark (void);

typedef enum {
  MERO_BROADCAST_ERROR_MALFORMED = 1,  /* not the protobuf, or no variant */
  MERO_BROADCAST_ERROR_TOO_LARGE,      /* message or a count over its bound */
  MERO_BROADCAST_ERROR_BAD_ID,         /* an id that is not 32 bytes */
  MERO_BROADCAST_ERROR_UNKNOWN_VARIANT, /* only fields this version does not know (a newer
                                         * node's variant): not the sender's fault */
} MeroBroadcastError;

/* The metric label of an error of this domain ("malformed", …). */
const char *mero_broadcast_error_reason (const GError *error);

typedef enum {
  MERO_BROADCAST_STATE_DELTA = 1,
  MERO_BROADCAST_HASH_HEARTBEAT,
  MERO_BROADCAST_GROUP_OP,
  MERO_BROADCAST_GROUP_HEARTBEAT,
  MERO_BROADCAST_GROUP_DELTA,
  MERO_BROADCAST_GROUP_NOTIFICATION,
  MERO_BROADCAST_TEE_ANNOUNCE,        /* payload: a TeeAnnounce, verbatim */
  MERO_BROADCAST_BLOB_PROVIDERS,      /* payload: a BlobProviderRecord, verbatim */
  MERO_BROADCAST_TEE_REFUSAL,         /* payload: a TeeRefusal, verbatim */
} MeroBroadcastKind;

typedef struct {
  MeroBroadcastKind kind;
  /* STATE_DELTA, HASH_HEARTBEAT: the context; GROUP_*: the group (not
   * for GROUP_OP: the op names its group). */
  guint8 id[MERO_BROADCAST_ID_LEN];
  GBytes *payload;          /* STATE_DELTA: envelope; GROUP_OP: the op */
  GArray *heads;            /* guint8[32]: heads (deltas or ops) */
  gboolean has_root;
  guint8 root[MERO_BROADCAST_ID_LEN];
  guint32 n_ops;            /* GROUP_HEARTBEAT */
  GPtrArray *ops;           /* GROUP_DELTA: GBytes */
  guint8 op_id[MERO_BROADCAST_ID_LEN];   /* GROUP_NOTIFICATION */
  GArray *added, *removed, *changed;     /* GROUP_NOTIFICATION, guint8[32] */
} MeroBroadcast;

/* (transfer full) an empty message of @kind; arrays allocated, empty. */
MeroBroadcast *mero_broadcast_new (MeroBroadcastKind kind);
void mero_broadcast_free (MeroBroadcast *msg);   /* NULL-safe */
/* Encodes; the caller keeps within the bounds (programmer error otherwise). */
GBytes *mero_broadcast_encode (const MeroBroadcast *msg);
MeroBroadcast *mero_broadcast_decode (const guint8 *data, gsize len, GError **error);

typedef enum {
  MERO_STREAM_DELTA_REQUEST = 1,
  MERO_STREAM_DELTA_RESPONSE,
  MERO_STREAM_GROUP_OPS_REQUEST,
  MERO_STREAM_GROUP_OPS_RESPONSE,
  MERO_STREAM_KEY_REQUEST,
  MERO_STREAM_KEY_RESPONSE,
  MERO_STREAM_ERROR,
} MeroStreamKind;

typedef struct {
  guint8 key_id[MERO_BROADCAST_ID_LEN];
  guint8 sealed[MERO_STREAM_SEALED_LEN];
} MeroStreamSealedKey;

typedef struct {
  MeroStreamKind kind;
  guint8 id[MERO_BROADCAST_ID_LEN];  /* context (DELTA_*) or group (GROUP_*, KEY_*) */
  GArray *ids;        /* DELTA_REQUEST ids, DELTA_RESPONSE not_found, KEY_REQUEST key_ids */
  GArray *have;       /* DELTA_REQUEST */
  GArray *heads;      /* DELTA_RESPONSE, GROUP_OPS_* */
  gboolean want_heads;
  guint32 max_depth;  /* DELTA_REQUEST: ancestor levels walked, 0 = unbounded */
  GPtrArray *blobs;   /* GBytes: DELTA_RESPONSE envelopes, GROUP_OPS_* ops */
  gboolean has_root;
  guint8 root[MERO_BROADCAST_ID_LEN];
  GArray *keys;       /* MeroStreamSealedKey, KEY_RESPONSE */
  char *reason;       /* ERROR */
} MeroStreamMsg;

MeroStreamMsg *mero_stream_msg_new (MeroStreamKind kind);
void mero_stream_msg_free (MeroStreamMsg *msg);
GBytes *mero_stream_msg_encode (const MeroStreamMsg *msg);
MeroStreamMsg *mero_stream_msg_decode (const guint8 *data, gsize len, GError **error);

/* Frames: (transfer full) `uvarint len || @message`. */
GBytes *mero_stream_frame (GBytes *message);
/* Takes one whole frame off the front of @buffer.  TRUE with *message set
 * when one is complete; TRUE with *message NULL when more bytes are
 * needed; FALSE (TOO_LARGE, MALFORMED) when the length prefix is over
 * MERO_STREAM_FRAME_MAX or not a uvarint: the stream is unusable. */
gboolean mero_stream_frame_pop (GByteArray *buffer, GBytes **message, GError **error);

/* Helpers for guint8[32] arrays. */
GArray *mero_id_array_new (void);
void mero_id_array_add (GArray *ids, const guint8 id[MERO_BROADCAST_ID_LEN]);
const guint8 *mero_id_array_get (const GArray *ids, guint i);
gboolean mero_id_array_contains (const GArray *ids, const guint8 id[MERO_BROADCAST_ID_LEN]);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBroadcast, mero_broadcast_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroStreamMsg, mero_stream_msg_free)

G_END_DECLS
