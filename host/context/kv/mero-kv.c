#include "context/kv/mero-kv.h"

#include <string.h>

G_DEFINE_QUARK (mero-kv-error-quark, mero_kv_error)

void
mero_kv_map_id (const guint8 context_id[MERO_ENTITY_ID_LEN], guint8 out[MERO_ENTITY_ID_LEN])
{
  mero_entity_entry_id (context_id, (const guint8 *) "kv", 2, out);
}

static gboolean
key_check (const char *key, GError **error)
{
  gsize len = key != NULL ? strlen (key) : 0;

  if (len == 0 || len > MERO_COLLECTION_MAX_KEY || !g_utf8_validate (key, (gssize) len, NULL))
    {
      g_set_error (error, MERO_KV_ERROR, MERO_KV_ERROR_INVALID_KEY,
                   "keys are 1..%d bytes of UTF-8", MERO_COLLECTION_MAX_KEY);
      return FALSE;
    }
  return TRUE;
}

static gboolean
commit (MeroDeltaStore *ds, const MeroHlc *ts, MeroActionList *list, GBytes **envelope,
        GError **error)
{
  return mero_delta_store_commit_local (ds, ts, mero_action_list_actions (list),
                                        mero_action_list_len (list), envelope, NULL, error);
}

gboolean
mero_kv_set (MeroDeltaStore *ds, const char *key, const guint8 *value, gsize len,
             GBytes **envelope, GError **error)
{
  MeroState *state = mero_delta_store_get_state (ds);
  const guint8 *ctx = mero_state_context_id (state);
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (MeroEntity) map = NULL;
  guint8 map_id[MERO_ENTITY_ID_LEN];
  MeroHlc ts;

  if (envelope != NULL)
    *envelope = NULL;
  if (!key_check (key, error))
    return FALSE;
  mero_kv_map_id (ctx, map_id);
  if (!mero_state_get_entity (state, map_id, &map, error))
    return FALSE;
  /* Concurrent first writers each add the map: same id, same data. */
  if (map == NULL)
    mero_collection_create (list, ctx, map_id, MERO_CRDT_MAP, NULL, 0);
  if (!mero_map_set (list, map_id, (const guint8 *) key, strlen (key), value, len, error))
    return FALSE;
  ts = mero_delta_store_next_hlc (ds);
  return commit (ds, &ts, list, envelope, error);
}

gboolean
mero_kv_set_json (MeroDeltaStore *ds, const char *key, JsonNode *value, GBytes **envelope,
                  GError **error)
{
  g_autofree char *text = NULL;

  if (value == NULL)
    {
      g_set_error (error, MERO_KV_ERROR, MERO_KV_ERROR_INVALID_JSON, "no JSON value");
      return FALSE;
    }
  text = json_to_string (value, FALSE);
  return mero_kv_set (ds, key, (const guint8 *) text, strlen (text), envelope, error);
}

gboolean
mero_kv_get (MeroDeltaStore *ds, const char *key, GBytes **value, GError **error)
{
  MeroState *state = mero_delta_store_get_state (ds);
  guint8 map_id[MERO_ENTITY_ID_LEN];

  *value = NULL;
  if (!key_check (key, error))
    return FALSE;
  mero_kv_map_id (mero_state_context_id (state), map_id);
  return mero_map_get (state, map_id, (const guint8 *) key, strlen (key), value, error);
}

gboolean
mero_kv_get_json (MeroDeltaStore *ds, const char *key, JsonNode **value, GError **error)
{
  g_autoptr (GBytes) raw = NULL;
  g_autofree char *text = NULL;
  g_autoptr (GError) local = NULL;

  *value = NULL;
  if (!mero_kv_get (ds, key, &raw, error))
    return FALSE;
  if (raw == NULL)
    return TRUE;
  text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  *value = json_from_string (text, &local);
  if (*value == NULL)
    {
      g_set_error (error, MERO_KV_ERROR, MERO_KV_ERROR_INVALID_JSON, "value of %s: %s", key,
                   local != NULL ? local->message : "empty");
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_kv_remove (MeroDeltaStore *ds, const char *key, gboolean *removed, GBytes **envelope,
                GError **error)
{
  MeroState *state = mero_delta_store_get_state (ds);
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (GBytes) cur = NULL;
  guint8 map_id[MERO_ENTITY_ID_LEN];
  MeroHlc ts;

  *removed = FALSE;
  if (envelope != NULL)
    *envelope = NULL;
  if (!mero_kv_get (ds, key, &cur, error))
    return FALSE;
  if (cur == NULL)
    return TRUE;
  mero_kv_map_id (mero_state_context_id (state), map_id);
  mero_map_remove (list, map_id, (const guint8 *) key, strlen (key));
  ts = mero_delta_store_next_hlc (ds);
  if (!commit (ds, &ts, list, envelope, error))
    return FALSE;
  *removed = TRUE;
  return TRUE;
}

gboolean
mero_kv_entries (MeroDeltaStore *ds, GPtrArray **entries, GError **error)
{
  MeroState *state = mero_delta_store_get_state (ds);
  guint8 map_id[MERO_ENTITY_ID_LEN];

  mero_kv_map_id (mero_state_context_id (state), map_id);
  return mero_map_entries (state, map_id, entries, error);
}

gboolean
mero_kv_len (MeroDeltaStore *ds, guint64 *len, GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;

  if (!mero_kv_entries (ds, &entries, error))
    return FALSE;
  *len = entries->len;
  return TRUE;
}

gboolean
mero_kv_clear (MeroDeltaStore *ds, guint *removed, GBytes **envelope, GError **error)
{
  MeroState *state = mero_delta_store_get_state (ds);
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (GPtrArray) entries = NULL;
  guint8 map_id[MERO_ENTITY_ID_LEN];
  MeroHlc ts;

  *removed = 0;
  if (envelope != NULL)
    *envelope = NULL;
  if (!mero_kv_entries (ds, &entries, error))
    return FALSE;
  if (entries->len == 0)
    return TRUE;
  /* One Clear action, whatever the size: it deletes every entry written
   * at or before its timestamp, on every replica, including entries that
   * reach a replica after it; entries written later (concurrently, with a
   * later timestamp) survive, as they would a per-key remove. */
  mero_kv_map_id (mero_state_context_id (state), map_id);
  mero_action_list_add (list, MERO_ACTION_CLEAR, map_id, NULL, 0, NULL, 0);
  ts = mero_delta_store_next_hlc (ds);
  if (!commit (ds, &ts, list, envelope, error))
    return FALSE;
  *removed = entries->len;
  return TRUE;
}
