/* mero-byte-queue.c: see mero-byte-queue.h. */
#include "net/transport/mero-byte-queue.h"

void
mero_byte_queue_init (MeroByteQueue *q)
{
  g_queue_init (&q->runs);
  q->head_off = 0;
  q->len = 0;
}

void
mero_byte_queue_clear (MeroByteQueue *q)
{
  g_queue_clear_full (&q->runs, (GDestroyNotify) g_bytes_unref);
  q->head_off = 0;
  q->len = 0;
}

void
mero_byte_queue_push (MeroByteQueue *q, GBytes *bytes, gsize offset)
{
  gsize size = g_bytes_get_size (bytes);

  g_return_if_fail (offset <= size);
  if (offset == size)
    return;
  /* The head's offset is kept apart, so a run pushed with an offset
   * becomes a slice (no copy) unless it is the only run. */
  if (offset > 0 && q->runs.length > 0)
    g_queue_push_tail (&q->runs, g_bytes_new_from_bytes (bytes, offset, size - offset));
  else
    {
      if (q->runs.length == 0)
        q->head_off = offset;
      g_queue_push_tail (&q->runs, g_bytes_ref (bytes));
    }
  q->len += size - offset;
}

const guint8 *
mero_byte_queue_peek (const MeroByteQueue *q, gsize *len)
{
  GBytes *head = q->runs.head != NULL ? q->runs.head->data : NULL;
  gsize size;
  const guint8 *data;

  if (head == NULL)
    {
      *len = 0;
      return NULL;
    }
  data = g_bytes_get_data (head, &size);
  *len = size - q->head_off;
  return data + q->head_off;
}

void
mero_byte_queue_consume (MeroByteQueue *q, gsize n)
{
  while (n > 0)
    {
      GBytes *head = g_queue_peek_head (&q->runs);
      gsize left;

      g_return_if_fail (head != NULL);
      left = g_bytes_get_size (head) - q->head_off;
      if (n < left)
        {
          q->head_off += n;
          q->len -= n;
          return;
        }
      g_bytes_unref (g_queue_pop_head (&q->runs));
      q->head_off = 0;
      q->len -= left;
      n -= left;
    }
}
