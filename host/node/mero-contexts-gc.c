/* mero-contexts-gc.c: the tombstone garbage collector of the node's
 * contexts (seed "Periodic Tasks": GarbageCollector).
 *
 * Every gc.interval_secs a sweep visits each context with its DeltaStore
 * (mero_delta_store_gc: this store's clock and retention, so collection
 * and the retention horizon agree), one bounded pass per main-loop idle
 * so the loop keeps serving between passes; a context whose sweep is not
 * finished resumes from its cursor.  Removing tombstones changes no
 * hash: the root stays what it was. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <string.h>

#define GC_METRIC "mero_node_gc_removed_total"

/* One pass on the next context that has work; FALSE when the sweep is
 * over. */
static gboolean
gc_step (MeroContexts *self, guint *removed_total)
{
  GHashTableIter iter;
  Ctx *ctx;

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ctx))
    {
      guint removed = 0;
      g_autoptr (GError) error = NULL;

      if (ctx->ds == NULL || ctx->gc_done)
        continue;
      if (!mero_delta_store_gc (ctx->ds, 0, &ctx->gc_cursor, &removed, &error))
        {
          g_warning ("context %s: tombstone collection failed: %s", ctx->b58, error->message);
          g_clear_pointer (&ctx->gc_cursor, g_bytes_unref);
          ctx->gc_done = TRUE;
          return TRUE;
        }
      if (removed > 0)
        mero_metrics_counter_add (self->metrics, GC_METRIC, NULL, removed, NULL);
      *removed_total += removed;
      if (ctx->gc_cursor == NULL)
        ctx->gc_done = TRUE;
      return TRUE;
    }
  return FALSE;
}

static void
gc_begin (MeroContexts *self)
{
  GHashTableIter iter;
  Ctx *ctx;

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ctx))
    ctx->gc_done = FALSE;
  self->gc_removed = 0;
}

static gboolean
on_gc_idle (gpointer user_data)
{
  MeroContexts *self = user_data;

  if (gc_step (self, &self->gc_removed))
    return G_SOURCE_CONTINUE;
  self->gc_idle = 0;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "gc-done", "MESSAGE",
                    "tombstone collection: %u removed", self->gc_removed);
  return G_SOURCE_REMOVE;
}

gboolean
mero_contexts_on_gc_timer (gpointer user_data)
{
  MeroContexts *self = user_data;

  /* A sweep still running goes on; the next starts after it. */
  if (self->gc_idle == 0)
    {
      gc_begin (self);
      self->gc_idle = g_idle_add_full (G_PRIORITY_LOW, on_gc_idle, self, NULL);
    }
  return G_SOURCE_CONTINUE;
}

guint
mero_contexts_gc (MeroContexts *self)
{
  guint removed = 0;

  g_return_val_if_fail (self != NULL, 0);

  gc_begin (self);
  while (gc_step (self, &removed))
    ;
  return removed;
}
