/* mero-vector.c: an ordered list by fractional positions (see
 * mero-collections.h).  Unlike RGA, ordering needs no tombstones, so a
 * collected tombstone can never reorder live elements. */
#include <string.h>

#include "context/state/mero-collections.h"
#include "crypto/mero-sha256.h"

#define NODE_SUFFIX 9   /* writer node id (8) + a final non-zero byte */

void
mero_vector_item_free (MeroVectorItem *item)
{
  if (item == NULL)
    return;
  g_bytes_unref (item->position);
  g_bytes_unref (item->value);
  g_free (item);
}

GBytes *
mero_vector_position_between (GBytes *a, GBytes *b)
{
  gsize alen = 0, blen = 0;
  const guint8 *ad = a != NULL ? g_bytes_get_data (a, &alen) : NULL;
  const guint8 *bd = b != NULL ? g_bytes_get_data (b, &blen) : NULL;
  GByteArray *out = g_byte_array_new ();
  gboolean bounded = bd != NULL;

  for (gsize i = 0;; i++)
    {
      guint lo = i < alen ? ad[i] : 0;
      guint hi = bounded ? (i < blen ? bd[i] : 0) : 256;
      guint8 digit;

      if (hi > lo + 1)
        {
          digit = (guint8) ((lo + hi) / 2);
          g_byte_array_append (out, &digit, 1);
          break;
        }
      digit = (guint8) lo;
      g_byte_array_append (out, &digit, 1);
      /* Below b's prefix from here on: b no longer bounds the rest. */
      if (hi == lo + 1)
        bounded = FALSE;
    }
  return g_byte_array_free_to_bytes (out);
}

static int
item_cmp (gconstpointer pa, gconstpointer pb)
{
  const MeroVectorItem *a = *(MeroVectorItem *const *) pa;
  const MeroVectorItem *b = *(MeroVectorItem *const *) pb;
  int c = g_bytes_compare (a->position, b->position);

  if (c == 0)
    c = mero_hlc_compare (&a->hlc, &b->hlc);
  return c != 0 ? c : memcmp (a->id, b->id, MERO_ENTITY_ID_LEN);
}

static MeroVectorItem *
item_decode (const MeroEntity *e)
{
  gsize len = 0;
  const guint8 *p = g_bytes_get_data (e->data, &len);
  MeroVectorItem *item;
  guint16 plen;

  if (len < 2)
    return NULL;
  plen = (guint16) (p[0] << 8 | p[1]);
  if (len < 2u + plen + MERO_HLC_ENCODED_LEN)
    return NULL;
  item = g_new0 (MeroVectorItem, 1);
  memcpy (item->id, e->id, MERO_ENTITY_ID_LEN);
  item->position = g_bytes_new_from_bytes (e->data, 2, plen);
  item->hlc = mero_hlc_decode (p + 2 + plen);
  item->value = g_bytes_new_from_bytes (e->data, 2 + plen + MERO_HLC_ENCODED_LEN,
                                        len - 2 - plen - MERO_HLC_ENCODED_LEN);
  return item;
}

gboolean
mero_vector_items (MeroState *state, const guint8 vec[MERO_ENTITY_ID_LEN], GPtrArray **items,
                   GError **error)
{
  g_autoptr (GPtrArray) kids = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_vector_item_free);
  gboolean live = FALSE;

  if (!mero_state_entity_is_live (state, vec, &live, error))
    return FALSE;
  if (live && !mero_state_live_children (state, vec, &kids, error))
    return FALSE;
  for (guint i = 0; kids != NULL && i < kids->len; i++)
    {
      MeroVectorItem *item = item_decode (g_ptr_array_index (kids, i));

      if (item != NULL)
        g_ptr_array_add (out, item);
    }
  g_ptr_array_sort (out, item_cmp);
  *items = g_steal_pointer (&out);
  return TRUE;
}

gboolean
mero_vector_insert (MeroActionList *list, MeroState *state, const guint8 vec[MERO_ENTITY_ID_LEN],
                    guint index, const MeroHlc *ts, guint8 seq, const guint8 *value, gsize len,
                    guint8 id_out[MERO_ENTITY_ID_LEN], GError **error)
{
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GBytes) mid = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  g_autoptr (MeroSha256) h = mero_sha256_new ();
  GBytes *left = NULL;
  GBytes *right = NULL;
  guint8 hlc[MERO_HLC_ENCODED_LEN];
  guint8 suffix[NODE_SUFFIX];
  guint8 id[MERO_ENTITY_ID_LEN];
  guint64 node_be = GUINT64_TO_BE (ts->node);
  gsize plen;
  guint8 plen_be[2];

  if (!mero_vector_items (state, vec, &items, error))
    return FALSE;
  index = MIN (index, items->len);
  if (index > 0)
    left = ((MeroVectorItem *) g_ptr_array_index (items, index - 1))->position;
  /* Equal neighbours (concurrent inserts at one spot) leave no room
   * between them: bound by the next different position instead. */
  for (guint i = index; i < items->len && right == NULL; i++)
    {
      GBytes *p = ((MeroVectorItem *) g_ptr_array_index (items, i))->position;

      if (left == NULL || g_bytes_compare (p, left) > 0)
        right = p;
    }
  mid = mero_vector_position_between (left, right);
  plen = g_bytes_get_size (mid) + NODE_SUFFIX;
  if (plen > MERO_VECTOR_MAX_POSITION)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_LARGE,
                   "vector position would exceed %d bytes", MERO_VECTOR_MAX_POSITION);
      return FALSE;
    }
  memcpy (suffix, &node_be, 8);
  suffix[8] = 1;
  mero_hlc_encode (ts, hlc);
  plen_be[0] = (guint8) (plen >> 8);
  plen_be[1] = (guint8) plen;
  g_byte_array_append (data, plen_be, 2);
  g_byte_array_append (data, g_bytes_get_data (mid, NULL), g_bytes_get_size (mid));
  g_byte_array_append (data, suffix, sizeof suffix);
  g_byte_array_append (data, hlc, sizeof hlc);
  if (len > 0)
    g_byte_array_append (data, value, len);

  mero_sha256_update (h, vec, MERO_ENTITY_ID_LEN);
  mero_sha256_update (h, "element", 7);
  mero_sha256_update (h, hlc, sizeof hlc);
  mero_sha256_update (h, &seq, 1);
  mero_sha256_finish (h, id);
  mero_action_list_add (list, MERO_ACTION_ADD, id, vec, MERO_CRDT_LWW, data->data, data->len);
  if (id_out != NULL)
    memcpy (id_out, id, MERO_ENTITY_ID_LEN);
  return TRUE;
}

void
mero_vector_remove (MeroActionList *list, const guint8 elem[MERO_ENTITY_ID_LEN])
{
  mero_action_list_add (list, MERO_ACTION_DELETE_REF, elem, NULL, 0, NULL, 0);
}
