/* mero-delta-error.h: why a delta was refused.  Each reason is its own
 * code (and its own metric label, see mero_delta_error_reason). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_DELTA_ERROR (mero_delta_error_quark ())
GQuark mero_delta_error_quark (void);

typedef enum {
  MERO_DELTA_ERROR_MALFORMED = 1,   /* does not decode, wrong field sizes */
  MERO_DELTA_ERROR_TOO_LARGE,       /* body, envelope or a list over its bound */
  MERO_DELTA_ERROR_WRONG_CONTEXT,   /* envelope names another context */
  MERO_DELTA_ERROR_BAD_SIGNATURE,
  MERO_DELTA_ERROR_UNKNOWN_KEY,     /* key id is not one we hold */
  MERO_DELTA_ERROR_DECRYPT,         /* AEAD does not authenticate */
  MERO_DELTA_ERROR_ID_MISMATCH,     /* sha256(body) differs from the claimed id */
  MERO_DELTA_ERROR_CYCLE,           /* a delta (transitively) its own parent */
  MERO_DELTA_ERROR_UNAUTHORIZED,    /* the authorize hook said no */
  MERO_DELTA_ERROR_FUTURE,          /* HLC more than 5 s ahead */
  MERO_DELTA_ERROR_REJECTED,        /* an action does not apply (see message) */
  MERO_DELTA_ERROR_NO_SIGNING_KEY,  /* local mutation without an author key */
} MeroDeltaError;

/* Metric label for @code ("malformed", "bad_signature", ...). */
const char *mero_delta_error_reason (int code);

G_END_DECLS
