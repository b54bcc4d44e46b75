/* mero-kv.h: the node's built-in key-value application (DESIGN §8).
 *
 * One map under the context's root, id sha256 (root || "entry" || "kv"),
 * string keys (UTF-8, 1..MERO_COLLECTION_MAX_KEY bytes) to byte values;
 * JSON values are stored as their compact text.  Each call that changes
 * state commits exactly one delta (returned in @envelope, may be NULL, for
 * the caller to broadcast); a call that changes nothing (removing an
 * absent key, clearing an empty map) commits none and sets *envelope to
 * NULL.  Used by JSON-RPC `execute` and D-Bus later.
 *
 * Not thread-safe, like the MeroDeltaStore it works on: call it from the
 * thread that owns the context. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "context/delta/mero-delta-store.h"
#include "context/state/mero-collections.h"

G_BEGIN_DECLS

#define MERO_KV_ERROR (mero_kv_error_quark ())
GQuark mero_kv_error_quark (void);

typedef enum {
  MERO_KV_ERROR_INVALID_KEY = 1,
  MERO_KV_ERROR_INVALID_JSON,
  MERO_KV_ERROR_TOO_MANY,      /* no longer raised: clear is one Clear action */
} MeroKvError;

void mero_kv_map_id (const guint8 context_id[MERO_ENTITY_ID_LEN],
                     guint8 out[MERO_ENTITY_ID_LEN]);

gboolean mero_kv_set (MeroDeltaStore *ds, const char *key, const guint8 *value, gsize len,
                      GBytes **envelope, GError **error);
gboolean mero_kv_set_json (MeroDeltaStore *ds, const char *key, JsonNode *value,
                           GBytes **envelope, GError **error);
/* *value (transfer full) NULL when absent. */
gboolean mero_kv_get (MeroDeltaStore *ds, const char *key, GBytes **value, GError **error);
gboolean mero_kv_get_json (MeroDeltaStore *ds, const char *key, JsonNode **value,
                           GError **error);
gboolean mero_kv_remove (MeroDeltaStore *ds, const char *key, gboolean *removed,
                         GBytes **envelope, GError **error);
/* MeroMapEntry array (key without NUL), transfer full, in entry-id order. */
gboolean mero_kv_entries (MeroDeltaStore *ds, GPtrArray **entries, GError **error);
gboolean mero_kv_len (MeroDeltaStore *ds, guint64 *len, GError **error);
gboolean mero_kv_clear (MeroDeltaStore *ds, guint *removed, GBytes **envelope, GError **error);

G_END_DECLS
