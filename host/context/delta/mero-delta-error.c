#include "context/delta/mero-delta-error.h"

G_DEFINE_QUARK (mero-delta-error-quark, mero_delta_error)

const char *
mero_delta_error_reason (int code)
{
  switch ((MeroDeltaError) code)
    {
    case MERO_DELTA_ERROR_MALFORMED: return "malformed";
    case MERO_DELTA_ERROR_TOO_LARGE: return "too_large";
    case MERO_DELTA_ERROR_WRONG_CONTEXT: return "wrong_context";
    case MERO_DELTA_ERROR_BAD_SIGNATURE: return "bad_signature";
    case MERO_DELTA_ERROR_UNKNOWN_KEY: return "unknown_key";
    case MERO_DELTA_ERROR_DECRYPT: return "decrypt";
    case MERO_DELTA_ERROR_ID_MISMATCH: return "id_mismatch";
    case MERO_DELTA_ERROR_CYCLE: return "cycle";
    case MERO_DELTA_ERROR_UNAUTHORIZED: return "unauthorized";
    case MERO_DELTA_ERROR_FUTURE: return "future";
    case MERO_DELTA_ERROR_REJECTED: return "rejected";
    case MERO_DELTA_ERROR_NO_SIGNING_KEY: return "no_signing_key";
    default: return "other";
    }
}
