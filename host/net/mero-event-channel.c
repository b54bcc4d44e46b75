/* mero-event-channel.c: bounded FIFO with back-pressure between threads. */
#define G_LOG_DOMAIN "merod-net"
#include "net/mero-event-channel.h"

typedef struct
{
  GSource source;
  MeroEventChannel *channel;
} ChannelSource;

struct _MeroEventChannel
{
  gatomicrefcount ref;
  GMutex lock;
  GQueue items;
  guint capacity;
  GDestroyNotify free_item;
  MeroMetrics *metrics;
  guint64 dropped;
  gboolean warned;          /* above the warning level since last below it */
  /* Consumer. */
  GSource *source;          /* ChannelSource on the consumer's context */
  MeroEventChannelFunc func;
  gpointer func_data;
  /* Producer's room notification. */
  GMainContext *room_context;
  GSourceFunc room_func;
  gpointer room_data;
  gboolean room_wanted;
};

static guint
slack (const MeroEventChannel *self)
{
  return MIN (MERO_EVENT_CHANNEL_READ_SLACK, self->capacity / 2);
}

MeroEventChannel *
mero_event_channel_new (guint capacity, GDestroyNotify free_item, MeroMetrics *metrics)
{
  MeroEventChannel *self;

  g_return_val_if_fail (capacity > 0, NULL);

  self = g_new0 (MeroEventChannel, 1);
  g_atomic_ref_count_init (&self->ref);
  g_mutex_init (&self->lock);
  g_queue_init (&self->items);
  self->capacity = capacity;
  self->free_item = free_item;
  self->metrics = metrics != NULL ? mero_metrics_ref (metrics) : NULL;
  return self;
}

MeroEventChannel *
mero_event_channel_ref (MeroEventChannel *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
mero_event_channel_unref (MeroEventChannel *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  mero_event_channel_detach (self);
  g_queue_clear_full (&self->items, self->free_item);
  g_clear_pointer (&self->metrics, mero_metrics_unref);
  g_clear_pointer (&self->room_context, g_main_context_unref);
  g_mutex_clear (&self->lock);
  g_free (self);
}

static void
update_depth (MeroEventChannel *self, guint depth)
{
  mero_metrics_gauge_set (self->metrics, MERO_EVENT_CHANNEL_DEPTH_METRIC, NULL, depth, NULL);
}

gboolean
mero_event_channel_push (MeroEventChannel *self, gpointer item)
{
  guint depth;
  gboolean warn = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  if (self->items.length >= self->capacity)
    {
      self->dropped++;
      g_mutex_unlock (&self->lock);
      mero_metrics_counter_add (self->metrics, MERO_EVENT_CHANNEL_DROPPED_METRIC, NULL, 1, NULL);
      g_warning ("network event channel full (%u items): event dropped", self->capacity);
      if (self->free_item != NULL)
        self->free_item (item);
      return FALSE;
    }
  g_queue_push_tail (&self->items, item);
  depth = self->items.length;
  if (!self->warned && depth * 100 >= self->capacity * MERO_EVENT_CHANNEL_WARN_PERCENT)
    self->warned = warn = TRUE;
  /* Only the first item needs a wakeup: while the queue is not empty
   * the source's prepare() says ready, so the consumer does not block
   * (one eventfd write per batch instead of per event). */
  if (self->source != NULL && depth == 1)
    g_main_context_wakeup (g_source_get_context (self->source));
  g_mutex_unlock (&self->lock);
  if (warn)
    g_warning ("network event channel at %u of %u items: the node is not keeping up; "
               "the network stops reading until it catches up", depth, self->capacity);
  update_depth (self, depth);
  return TRUE;
}

gboolean
mero_event_channel_has_room (MeroEventChannel *self)
{
  gboolean room;

  g_return_val_if_fail (self != NULL, FALSE);

  g_mutex_lock (&self->lock);
  room = self->items.length + slack (self) <= self->capacity;
  if (!room)
    self->room_wanted = TRUE;
  g_mutex_unlock (&self->lock);
  return room;
}

void
mero_event_channel_set_room_notify (MeroEventChannel *self, GMainContext *context,
                                    GSourceFunc func, gpointer user_data)
{
  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  g_clear_pointer (&self->room_context, g_main_context_unref);
  self->room_context = context != NULL ? g_main_context_ref (context) : NULL;
  self->room_func = func;
  self->room_data = user_data;
  g_mutex_unlock (&self->lock);
}

gpointer
mero_event_channel_pop (MeroEventChannel *self)
{
  gpointer item;
  guint depth;
  GMainContext *notify_context = NULL;
  GSourceFunc notify_func = NULL;
  gpointer notify_data = NULL;

  g_return_val_if_fail (self != NULL, NULL);

  g_mutex_lock (&self->lock);
  item = g_queue_pop_head (&self->items);
  depth = self->items.length;
  if (depth * 100 < self->capacity * MERO_EVENT_CHANNEL_WARN_PERCENT / 2)
    self->warned = FALSE;
  /* Wake the producer once half the slack is free again, not on every
   * pop, so it resumes reading in batches. */
  if (self->room_wanted && depth + slack (self) <= self->capacity && self->room_context != NULL)
    {
      self->room_wanted = FALSE;
      notify_context = g_main_context_ref (self->room_context);
      notify_func = self->room_func;
      notify_data = self->room_data;
    }
  g_mutex_unlock (&self->lock);
  if (notify_context != NULL)
    {
      g_main_context_invoke (notify_context, notify_func, notify_data);
      g_main_context_unref (notify_context);
    }
  if (item != NULL)
    update_depth (self, depth);
  return item;
}

static gboolean
source_prepare (GSource *source, gint *timeout)
{
  MeroEventChannel *self = ((ChannelSource *) source)->channel;

  *timeout = -1;
  return mero_event_channel_get_length (self) > 0;
}

static gboolean
source_check (GSource *source)
{
  return mero_event_channel_get_length (((ChannelSource *) source)->channel) > 0;
}

static gboolean
source_dispatch (GSource *source, GSourceFunc callback, gpointer user_data)
{
  MeroEventChannel *self = ((ChannelSource *) source)->channel;
  /* A bounded batch per dispatch keeps the consumer's loop responsive. */
  for (guint i = 0; i < 64; i++)
    {
      gpointer item = mero_event_channel_pop (self);

      if (item == NULL)
        break;
      self->func (item, self->func_data);
    }
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs channel_source_funcs = {
  source_prepare, source_check, source_dispatch, NULL, NULL, NULL,
};

void
mero_event_channel_attach (MeroEventChannel *self, GMainContext *context,
                           MeroEventChannelFunc func, gpointer user_data)
{
  GSource *source;

  g_return_if_fail (self != NULL && func != NULL);
  g_return_if_fail (self->source == NULL);

  source = g_source_new (&channel_source_funcs, sizeof (ChannelSource));
  ((ChannelSource *) source)->channel = self;
  g_source_set_name (source, "mero-event-channel");
  self->func = func;
  self->func_data = user_data;
  g_mutex_lock (&self->lock);
  self->source = source;
  g_mutex_unlock (&self->lock);
  g_source_attach (source, context);
}

void
mero_event_channel_detach (MeroEventChannel *self)
{
  GSource *source;

  g_return_if_fail (self != NULL);

  g_mutex_lock (&self->lock);
  source = g_steal_pointer (&self->source);
  g_mutex_unlock (&self->lock);
  if (source != NULL)
    {
      g_source_destroy (source);
      g_source_unref (source);
    }
}

guint
mero_event_channel_get_length (MeroEventChannel *self)
{
  guint len;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  len = self->items.length;
  g_mutex_unlock (&self->lock);
  return len;
}

guint
mero_event_channel_get_capacity (MeroEventChannel *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->capacity;
}

guint64
mero_event_channel_get_dropped (MeroEventChannel *self)
{
  guint64 dropped;

  g_return_val_if_fail (self != NULL, 0);

  g_mutex_lock (&self->lock);
  dropped = self->dropped;
  g_mutex_unlock (&self->lock);
  return dropped;
}
