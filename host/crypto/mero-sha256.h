/* mero-sha256.h: SHA-256 through GnuTLS.
 *
 * GnuTLS rather than libsodium: its SHA-256 uses the CPU's SHA extensions
 * and is about 5x faster here, and hashing is on every hot path (entity
 * hashes, delta ids, op ids). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_SHA256_LEN 32

typedef struct _MeroSha256 MeroSha256;

/* One-shot digest of @len bytes. */
void mero_sha256 (const void *data, gsize len, guint8 out[MERO_SHA256_LEN]);

/* Incremental hashing. */
MeroSha256 *mero_sha256_new (void);
void mero_sha256_update (MeroSha256 *ctx, const void *data, gsize len);
/* Writes the digest and resets @ctx for reuse. */
void mero_sha256_finish (MeroSha256 *ctx, guint8 out[MERO_SHA256_LEN]);
void mero_sha256_free (MeroSha256 *ctx);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroSha256, mero_sha256_free)

G_END_DECLS
