/* mero-sync-handshake.h: bounded codec of /calimero/stream/sync/1
 * (sdk/proto/mero-sync.proto).
 *
 * A handshake carries what one side knows of a context before a state
 * sync: root hash, DAG heads, entity count and tree depth.  It is also
 * the first frame of every sync protocol stream, naming the context and
 * the initiator's state for the responder's session.  Peer input: every
 * length is checked before anything is kept. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

#define MERO_SYNC_STREAM_PROTOCOL "/calimero/stream/sync/1"
/* Heads one handshake may name (the DeltaStore keeps at most as many). */
#define MERO_SYNC_HANDSHAKE_MAX_HEADS 1024u
/* Bytes of one encoded handshake: 1024 heads fit with room to spare. */
#define MERO_SYNC_HANDSHAKE_MAX_BYTES (64u * 1024u)
#define MERO_SYNC_HANDSHAKE_MAX_REFUSAL 256u

#define MERO_SYNC_HANDSHAKE_ERROR (mero_sync_handshake_error_quark ())
GQuark mero_sync_handshake_error_quark (void);

typedef enum {
  MERO_SYNC_HANDSHAKE_ERROR_MALFORMED = 1,
  MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE,
} MeroSyncHandshakeError;

typedef struct {
  guint8 context_id[32];
  guint8 root_hash[32];
  GArray *heads;              /* guint8[32] each */
  guint64 entity_count;
  guint32 max_depth;
  char *refusal;              /* NULL unless the responder refuses */
} MeroSyncHello;

/* (transfer full) an empty handshake (no heads, zero root). */
MeroSyncHello *mero_sync_hello_new (const guint8 context_id[32]);
void mero_sync_hello_free (MeroSyncHello *hello);   /* NULL-safe */
/* (transfer full) a refusal of @context_id with @reason. */
MeroSyncHello *mero_sync_hello_new_refusal (const guint8 context_id[32], const char *reason);
void mero_sync_hello_add_head (MeroSyncHello *hello, const guint8 head[32]);

/* (transfer full) the message, unframed.  The caller keeps within the
 * bounds (programmer error otherwise). */
GBytes *mero_sync_hello_encode (const MeroSyncHello *hello);
/* Peer input: MALFORMED or TOO_LARGE (then nothing is returned). */
MeroSyncHello *mero_sync_hello_decode (const guint8 *data, gsize len, GError **error);

/* The SDK's view of @hello (pointers into it: valid while it lives). */
void mero_sync_hello_to_sdk (const MeroSyncHello *hello, MeroSyncHandshake *out);
/* "malformed", "too_large" or "other": a metric label. */
const char *mero_sync_handshake_error_reason (const GError *error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSyncHello, mero_sync_hello_free)

G_END_DECLS
