#include "context/delta/mero-delta-buffer.h"

#include <string.h>

typedef struct {
  MeroHlc hlc;
  guint8 id[MERO_DELTA_ID_LEN];
  GBytes *envelope;
} Item;

struct _MeroDeltaBuffer {
  guint capacity;
  MeroMetrics *metrics;
  GArray *items;      /* Item, arrival order */
  guint64 dropped;
};

static void
item_clear (gpointer p)
{
  g_bytes_unref (((Item *) p)->envelope);
}

MeroDeltaBuffer *
mero_delta_buffer_new (guint capacity, MeroMetrics *metrics)
{
  MeroDeltaBuffer *b = g_new0 (MeroDeltaBuffer, 1);

  b->capacity = capacity != 0 ? capacity : MERO_DELTA_BUFFER_MAX;
  b->metrics = metrics != NULL ? mero_metrics_ref (metrics) : NULL;
  b->items = g_array_new (FALSE, FALSE, sizeof (Item));
  g_array_set_clear_func (b->items, item_clear);
  return b;
}

void
mero_delta_buffer_free (MeroDeltaBuffer *buffer)
{
  if (buffer == NULL)
    return;
  g_array_unref (buffer->items);
  mero_metrics_unref (buffer->metrics);
  g_free (buffer);
}

gboolean
mero_delta_buffer_push (MeroDeltaBuffer *buffer, GBytes *envelope, const MeroHlc *hlc,
                        const guint8 id[MERO_DELTA_ID_LEN])
{
  Item item;

  if (buffer->items->len >= buffer->capacity)
    {
      buffer->dropped++;
      g_info ("delta buffer full (%u): delta %02x%02x%02x%02x… dropped", buffer->capacity,
              id[0], id[1], id[2], id[3]);
      mero_metrics_counter_add (buffer->metrics, "mero_delta_buffer_dropped_total", NULL, 1,
                                NULL);
      return FALSE;
    }
  item.hlc = *hlc;
  memcpy (item.id, id, MERO_DELTA_ID_LEN);
  item.envelope = g_bytes_ref (envelope);
  g_array_append_val (buffer->items, item);
  return TRUE;
}

guint
mero_delta_buffer_len (MeroDeltaBuffer *buffer)
{
  return buffer->items->len;
}

guint64
mero_delta_buffer_dropped (MeroDeltaBuffer *buffer)
{
  return buffer->dropped;
}

static int
item_cmp (gconstpointer a, gconstpointer b)
{
  const Item *x = a, *y = b;
  int c = mero_hlc_compare (&x->hlc, &y->hlc);

  return c != 0 ? c : memcmp (x->id, y->id, MERO_DELTA_ID_LEN);
}

GPtrArray *
mero_delta_buffer_drain (MeroDeltaBuffer *buffer)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  g_array_sort (buffer->items, item_cmp);
  for (guint i = 0; i < buffer->items->len; i++)
    {
      const Item *it = &g_array_index (buffer->items, Item, i);

      if (i > 0 && item_cmp (it, &g_array_index (buffer->items, Item, i - 1)) == 0)
        continue;
      g_ptr_array_add (out, g_bytes_ref (it->envelope));
    }
  g_array_set_size (buffer->items, 0);
  return out;
}
