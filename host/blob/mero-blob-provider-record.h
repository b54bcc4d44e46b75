/* mero-blob-provider-record.h: the signed statement "member M of context
 * C holds blobs B1..Bn (sizes S1..Sn) as of time T", and the two messages
 * of /calimero/stream/blob-have/1 (sdk/proto/mero-blob-providers.proto).
 *
 * Pure codec plus Ed25519 (libsodium): no I/O, no clock.  Decoders check
 * every id size and count against the bounds below and fail with
 * MERO_BLOB_PROVIDER_ERROR_*, whose reason names are the labels the node
 * counts drops under. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BLOB_PROVIDER_ID_LEN 32
#define MERO_BLOB_PROVIDER_SIG_LEN 64
/* Blobs one record names at most: 128 × ~45 bytes stays far below the
 * gossip cap, and a burst of uploads still needs few records. */
#define MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS 128u
/* A record or a have message is never larger than this (bytes). */
#define MERO_BLOB_PROVIDER_RECORD_MAX_SIZE (16u * 1024u)
#define MERO_BLOB_PROVIDER_HAVE_MAX_SIZE 512u
#define MERO_BLOB_PROVIDER_MAX_REASON 128u
#define MERO_BLOB_PROVIDER_DOMAIN "mero/blob-provider/v1"

#define MERO_BLOB_PROVIDER_ERROR (mero_blob_provider_error_quark ())
GQuark mero_blob_provider_error_quark (void);

typedef enum {
  MERO_BLOB_PROVIDER_ERROR_MALFORMED = 1,  /* not the protobuf, empty, bad UTF-8 */
  MERO_BLOB_PROVIDER_ERROR_TOO_LARGE,      /* bytes or a count over its bound */
  MERO_BLOB_PROVIDER_ERROR_BAD_ID,         /* an id or key that is not 32 bytes */
  MERO_BLOB_PROVIDER_ERROR_BAD_SIGNATURE,
} MeroBlobProviderError;

/* The metric label of an error of this domain ("malformed", …). */
const char *mero_blob_provider_error_reason (const GError *error);

typedef struct {
  guint8 id[MERO_BLOB_PROVIDER_ID_LEN];
  guint64 size;
} MeroBlobHeld;

typedef struct {
  guint8 context_id[MERO_BLOB_PROVIDER_ID_LEN];
  guint8 member[MERO_BLOB_PROVIDER_ID_LEN];    /* Ed25519 public key */
  guint64 timestamp_ms;
  GArray *blobs;                                /* MeroBlobHeld */
  guint8 signature[MERO_BLOB_PROVIDER_SIG_LEN];
} MeroBlobProviderRecord;

/* (transfer full) an empty, unsigned record. */
MeroBlobProviderRecord *mero_blob_provider_record_new (void);
void mero_blob_provider_record_free (MeroBlobProviderRecord *record);   /* NULL-safe */
/* Sets member and signature from the 64-byte libsodium secret key. */
void mero_blob_provider_record_sign (MeroBlobProviderRecord *record, const guint8 secret_key[64]);
/* BAD_SIGNATURE unless member signed exactly these fields. */
gboolean mero_blob_provider_record_verify (const MeroBlobProviderRecord *record, GError **error);
/* The caller keeps within the bounds (programmer error otherwise). */
GBytes *mero_blob_provider_record_encode (const MeroBlobProviderRecord *record);
MeroBlobProviderRecord *mero_blob_provider_record_decode (const guint8 *data, gsize len,
                                                          GError **error);

typedef struct {
  gboolean is_request;
  guint8 context_id[MERO_BLOB_PROVIDER_ID_LEN];  /* request */
  guint8 blob_id[MERO_BLOB_PROVIDER_ID_LEN];     /* request */
  gboolean have;                                 /* response */
  guint64 size;                                  /* response, when have */
  char *error;                                   /* response: refused (nullable) */
} MeroBlobHave;

void mero_blob_have_clear (MeroBlobHave *have);
GBytes *mero_blob_have_encode (const MeroBlobHave *have);
/* @is_request says which of the two messages @data must be. */
gboolean mero_blob_have_decode (const guint8 *data, gsize len, gboolean is_request,
                                MeroBlobHave *out, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroBlobProviderRecord, mero_blob_provider_record_free)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (MeroBlobHave, mero_blob_have_clear)

G_END_DECLS
