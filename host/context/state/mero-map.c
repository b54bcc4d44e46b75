/* mero-map.c: map, set (a map with empty values) and counter slots. */
#include <string.h>

#include "context/state/mero-collections.h"

void
mero_map_entry_free (MeroMapEntry *entry)
{
  if (entry == NULL)
    return;
  g_bytes_unref (entry->key);
  g_bytes_unref (entry->value);
  g_free (entry);
}

static gboolean
key_ok (gsize key_len, GError **error)
{
  if (key_len > MERO_COLLECTION_MAX_KEY)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_LARGE,
                   "key of %" G_GSIZE_FORMAT " bytes exceeds %d", key_len,
                   MERO_COLLECTION_MAX_KEY);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_map_set (MeroActionList *list, const guint8 map[MERO_ENTITY_ID_LEN], const guint8 *key,
              gsize key_len, const guint8 *value, gsize value_len, GError **error)
{
  guint8 id[MERO_ENTITY_ID_LEN];
  g_autofree guint8 *data = NULL;
  guint32 be = GUINT32_TO_BE ((guint32) key_len);

  if (!key_ok (key_len, error))
    return FALSE;
  if (value_len > MERO_ENTITY_MAX_DATA - 4 - key_len)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_LARGE,
                   "value of %" G_GSIZE_FORMAT " bytes too large", value_len);
      return FALSE;
    }
  mero_entity_entry_id (map, key, key_len, id);
  data = g_malloc (4 + key_len + value_len + 1);
  memcpy (data, &be, 4);
  if (key_len > 0)
    memcpy (data + 4, key, key_len);
  if (value_len > 0)
    memcpy (data + 4 + key_len, value, value_len);
  mero_action_list_add (list, MERO_ACTION_ADD, id, map, MERO_CRDT_LWW, data,
                        4 + key_len + value_len);
  return TRUE;
}

void
mero_map_remove (MeroActionList *list, const guint8 map[MERO_ENTITY_ID_LEN], const guint8 *key,
                 gsize key_len)
{
  guint8 id[MERO_ENTITY_ID_LEN];

  mero_entity_entry_id (map, key, key_len, id);
  mero_action_list_add (list, MERO_ACTION_DELETE_REF, id, NULL, 0, NULL, 0);
}

/* Splits entry data; FALSE if it is not an entry. */
static gboolean
entry_decode (GBytes *data, GBytes **key, GBytes **value)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (data, &len);
  guint32 be;
  gsize klen;

  if (len < 4)
    return FALSE;
  memcpy (&be, p, 4);
  klen = GUINT32_FROM_BE (be);
  if (klen > len - 4)
    return FALSE;
  if (key != NULL)
    *key = g_bytes_new_from_bytes (data, 4, klen);
  if (value != NULL)
    *value = g_bytes_new_from_bytes (data, 4 + klen, len - 4 - klen);
  return TRUE;
}

gboolean
mero_map_get (MeroState *state, const guint8 map[MERO_ENTITY_ID_LEN], const guint8 *key,
              gsize key_len, GBytes **value, GError **error)
{
  guint8 id[MERO_ENTITY_ID_LEN];
  g_autoptr (GBytes) data = NULL;

  *value = NULL;
  mero_entity_entry_id (map, key, key_len, id);
  if (!mero_lww_get (state, id, &data, error))
    return FALSE;
  if (data != NULL && !entry_decode (data, NULL, value))
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT, "not a map entry");
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_map_entries (MeroState *state, const guint8 map[MERO_ENTITY_ID_LEN], GPtrArray **entries,
                  GError **error)
{
  g_autoptr (GPtrArray) kids = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_map_entry_free);
  gboolean live = FALSE;

  if (!mero_state_entity_is_live (state, map, &live, error))
    return FALSE;
  if (live && !mero_state_live_children (state, map, &kids, error))
    return FALSE;
  for (guint i = 0; kids != NULL && i < kids->len; i++)
    {
      const MeroEntity *e = g_ptr_array_index (kids, i);
      MeroMapEntry *entry = g_new0 (MeroMapEntry, 1);

      if (!entry_decode (e->data, &entry->key, &entry->value))
        {
          g_free (entry);
          continue;   /* not an entry of ours (another writer's nested collection) */
        }
      g_ptr_array_add (out, entry);
    }
  *entries = g_steal_pointer (&out);
  return TRUE;
}

gboolean
mero_set_add (MeroActionList *list, const guint8 set[MERO_ENTITY_ID_LEN], const guint8 *elem,
              gsize len, GError **error)
{
  return mero_map_set (list, set, elem, len, NULL, 0, error);
}

void
mero_set_remove (MeroActionList *list, const guint8 set[MERO_ENTITY_ID_LEN], const guint8 *elem,
                 gsize len)
{
  mero_map_remove (list, set, elem, len);
}

gboolean
mero_set_contains (MeroState *state, const guint8 set[MERO_ENTITY_ID_LEN], const guint8 *elem,
                   gsize len, gboolean *contains, GError **error)
{
  g_autoptr (GBytes) v = NULL;

  if (!mero_map_get (state, set, elem, len, &v, error))
    return FALSE;
  *contains = v != NULL;
  return TRUE;
}

static void
slot_key (const guint8 writer[32], gboolean negative, guint8 out[33])
{
  memcpy (out, writer, 32);
  out[32] = negative ? '-' : '+';
}

static gboolean
slot_total (GBytes *value, guint64 *total)
{
  guint64 be;

  if (value == NULL)
    {
      *total = 0;
      return TRUE;
    }
  if (g_bytes_get_size (value) != 8)
    return FALSE;
  memcpy (&be, g_bytes_get_data (value, NULL), 8);
  *total = GUINT64_FROM_BE (be);
  return TRUE;
}

gboolean
mero_counter_add (MeroActionList *list, MeroState *state, const guint8 counter[MERO_ENTITY_ID_LEN],
                  const guint8 writer[32], gint64 amount, GError **error)
{
  g_autoptr (MeroEntity) c = NULL;
  g_autoptr (GBytes) cur = NULL;
  guint8 key[33];
  guint64 total = 0;
  guint64 be;
  guint64 magnitude = amount < 0 ? (guint64) (-(amount + 1)) + 1 : (guint64) amount;

  if (!mero_state_get_entity (state, counter, &c, error))
    return FALSE;
  if (c == NULL || (c->crdt_type != MERO_CRDT_GCOUNTER && c->crdt_type != MERO_CRDT_PNCOUNTER))
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION, "not a counter");
      return FALSE;
    }
  if (amount < 0 && c->crdt_type == MERO_CRDT_GCOUNTER)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "a grow-only counter cannot decrease");
      return FALSE;
    }
  if (amount == 0)
    return TRUE;
  slot_key (writer, amount < 0, key);
  if (!mero_map_get (state, counter, key, sizeof key, &cur, error))
    return FALSE;
  if (!slot_total (cur, &total) || total > G_MAXUINT64 - magnitude)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION,
                   "counter slot overflows or is corrupt");
      return FALSE;
    }
  be = GUINT64_TO_BE (total + magnitude);
  return mero_map_set (list, counter, key, sizeof key, (const guint8 *) &be, 8, error);
}

gboolean
mero_counter_value (MeroState *state, const guint8 counter[MERO_ENTITY_ID_LEN], gint64 *value,
                    GError **error)
{
  g_autoptr (GPtrArray) entries = NULL;
  gint64 sum = 0;

  if (!mero_map_entries (state, counter, &entries, error))
    return FALSE;
  for (guint i = 0; i < entries->len; i++)
    {
      const MeroMapEntry *e = g_ptr_array_index (entries, i);
      guint64 total = 0;

      if (g_bytes_get_size (e->key) != 33 || !slot_total (e->value, &total))
        continue;
      if (((const guint8 *) g_bytes_get_data (e->key, NULL))[32] == '-')
        sum -= (gint64) total;
      else
        sum += (gint64) total;
    }
  *value = sum;
  return TRUE;
}
