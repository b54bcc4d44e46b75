/* mero-tee-verify.h: verifying a TEE quote with the loaded verifiers.
 *
 * The host's part: reading the operator's collateral (a file, or every
 * *.json of a directory), picking the verifier whose format the quote is
 * in, passing it the time and tee.accept_mock, and rendering the verdict.
 * The cryptography stays in the plugins. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

/* Bounds on what the node reads as collateral. */
#define MERO_TEE_COLLATERAL_MAX_FILES 64
#define MERO_TEE_COLLATERAL_MAX_BYTES (1024 * 1024)
#define MERO_TEE_QUOTE_MAX_BYTES (64 * 1024)

/* Collateral documents (GBytes *) from a file, or from every *.json of a
 * directory in name order.  A missing directory gives an empty array; a
 * file over the bound or an unreadable one is an error. */
GPtrArray *mero_tee_collateral_load (const char *path, GError **error);

/* A quote file: binary, or hex text (whitespace around it ignored). */
GBytes *mero_tee_quote_load (const char *path, GError **error);

/* The first loaded verifier whose handles_quote() accepts @quote (one
 * without handles_quote never is picked); NULL with MERO_TEE_ERROR_FAILED. */
const MeroLoadedTeeVerifier *mero_tee_pick_verifier (MeroPluginRegistry *registry,
                                                     GBytes *quote, GError **error);

/* Runs @verifier's verify_at() with @collateral (GBytes *), @now (UNIX
 * seconds) and @flags (MERO_TEE_VERIFY_*).  @verdict is zeroed first. */
gboolean mero_tee_verify_quote (const MeroLoadedTeeVerifier *verifier, GBytes *quote,
                                GPtrArray *collateral, int64_t now, uint32_t flags,
                                MeroTeeVerdict *verdict, GError **error);

/* The verdict as JSON ({"verified":true,...}) or, with @reason, the
 * refusal ({"verified":false,"reason":...}).  (transfer full) */
char *mero_tee_verdict_to_json (const char *verifier, const MeroTeeVerdict *verdict,
                                const char *reason);
/* The verdict as "key: value" lines.  (transfer full) */
char *mero_tee_verdict_to_text (const char *verifier, const MeroTeeVerdict *verdict);

G_END_DECLS
