/* mero-contexts-error.c: the one mapping of the errors of the modules
 * under the contexts (kv, state, JSON, governance) to MERO_CONTEXTS_ERROR,
 * shared by every control surface (D-Bus, HTTP, JSON-RPC, WebSocket) so
 * that they report the same failure the same way. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts.h"

#include <json-glib/json-glib.h>

#include "context/group/mero-group-types.h"
#include "context/kv/mero-kv.h"
#include "context/state/mero-state.h"

GError *
mero_contexts_error_normalize (GError *error)
{
  MeroContextsError code = MERO_CONTEXTS_ERROR_FAILED;
  GError *mapped;

  if (error->domain == MERO_CONTEXTS_ERROR)
    return error;
  if (error->domain == MERO_KV_ERROR || error->domain == MERO_STATE_ERROR
      || error->domain == JSON_PARSER_ERROR)
    code = MERO_CONTEXTS_ERROR_INVALID_ARGUMENT;
  else if (error->domain == MERO_GROUP_ERROR && error->code != MERO_GROUP_ERROR_STORE)
    code = MERO_CONTEXTS_ERROR_NOT_ALLOWED;
  mapped = g_error_new_literal (MERO_CONTEXTS_ERROR, code, error->message);
  g_error_free (error);
  return mapped;
}
