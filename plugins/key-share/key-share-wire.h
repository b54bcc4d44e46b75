/* key-share-wire.h: the /calimero/stream/key/1 messages, byte for byte
 * what the host's protobuf codec (sdk/proto/mero-broadcast.proto,
 * StreamMessage with key_request = 5, key_response = 6, error = 7) reads
 * and writes, so nodes with and without this plugin interoperate.  A
 * bounded hand-written subset: frames are `uvarint length || message`,
 * fields are written in field order, unknown fields are skipped, and
 * every count and length a peer controls is capped below.  Private to
 * the plugin. */
#pragma once

#include <mero-sdk.h>

G_BEGIN_DECLS

/* Bounds (the host's MERO_STREAM_MAX_KEYS and MERO_STREAM_MAX_REASON). */
#define KEY_SHARE_MAX_KEYS 256u
#define KEY_SHARE_MAX_REASON 256u
/* A full answer is 256 x 118 bytes; no honest frame comes near this. */
#define KEY_SHARE_FRAME_MAX (64u * 1024u)
#define KEY_SHARE_ID_LEN 32u

typedef enum {
  KEY_SHARE_MSG_REQUEST = 5,
  KEY_SHARE_MSG_RESPONSE = 6,
  KEY_SHARE_MSG_ERROR = 7,
} KeyShareMsgKind;

typedef struct {
  uint8_t key_id[KEY_SHARE_ID_LEN];
  uint8_t sealed[MERO_KEY_SEALED_LEN];
} KeyShareSealed;

typedef struct {
  KeyShareMsgKind kind;
  uint8_t group_id[KEY_SHARE_ID_LEN];
  uint8_t *key_ids;             /* request: n_keys x 32 */
  KeyShareSealed *sealed;       /* response: n_keys */
  size_t n_keys;
  char *reason;                 /* error: UTF-8, at most KEY_SHARE_MAX_REASON bytes */
} KeyShareMsg;

typedef enum {
  KEY_SHARE_DECODE_OK = 0,
  KEY_SHARE_DECODE_NEED_MORE = 1,
  KEY_SHARE_DECODE_ERROR = 2,
} KeyShareDecode;

void key_share_msg_clear (KeyShareMsg *m);

/* Whole frames (transfer full). */
GBytes *key_share_wire_encode_request (const uint8_t group_id[32], const uint8_t *key_ids,
                                       size_t n_key_ids);
GBytes *key_share_wire_encode_response (const uint8_t group_id[32], const KeyShareSealed *sealed,
                                        size_t n);
GBytes *key_share_wire_encode_error (const char *reason);

/* Decodes the frame at the start of @data.  OK: *used bytes make one
 * message in @out (clear it).  NEED_MORE: no whole frame yet.  ERROR:
 * *reason names it for a metric label ("too-large", "malformed",
 * "too-many-keys") and @error says what. */
KeyShareDecode key_share_wire_decode (const uint8_t *data, size_t len, size_t *used,
                                      KeyShareMsg *out, const char **reason, GError **error);

G_END_DECLS
