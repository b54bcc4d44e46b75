/* mero-byte-queue.h: a FIFO of byte runs kept as GBytes references.
 *
 * The node's stream writes wait here until yamux takes them.  Queuing a
 * reference instead of appending to one growing buffer means a blob
 * chunk's bytes are not copied (or the buffer regrown to megabytes) on
 * their way from the node to yamux: the queue holds what the node handed
 * over, sliced where yamux stopped. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct
{
  GQueue runs;     /* GBytes, oldest first */
  gsize head_off;  /* bytes of the oldest run already taken */
  gsize len;       /* bytes waiting, over all runs */
} MeroByteQueue;

void mero_byte_queue_init (MeroByteQueue *q);
void mero_byte_queue_clear (MeroByteQueue *q);

/* Queues @bytes from @offset on (a reference, no copy). */
void mero_byte_queue_push (MeroByteQueue *q, GBytes *bytes, gsize offset);

/* The oldest waiting bytes, contiguous (NULL and 0 when empty). */
const guint8 *mero_byte_queue_peek (const MeroByteQueue *q, gsize *len);

/* Drops the first @n waiting bytes (at most what peek returned). */
void mero_byte_queue_consume (MeroByteQueue *q, gsize n);

static inline gsize
mero_byte_queue_get_length (const MeroByteQueue *q)
{
  return q->len;
}

/* What a run costs besides its bytes (its GBytes and list link, rounded
 * up), so that bounding get_cost() bounds memory even when the writes
 * are tiny. */
#define MERO_BYTE_QUEUE_RUN_COST 128u

/* The memory the queue holds: its bytes and each run's overhead. */
static inline gsize
mero_byte_queue_get_cost (const MeroByteQueue *q)
{
  return q->len + (gsize) q->runs.length * MERO_BYTE_QUEUE_RUN_COST;
}

G_END_DECLS
