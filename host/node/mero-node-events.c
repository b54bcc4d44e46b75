/* mero-node-events.c: bounded fan-out of node events to subscribers. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-events.h"

#include <string.h>

#include "metrics/mero-metrics.h"

struct _MeroNodeEvents {
  GMutex lock;
  guint64 next_seq;
  GList *subscriptions;         /* MeroNodeEventsSubscription*, under lock */
};

struct _MeroNodeEventsSubscription {
  MeroNodeEvents *events;       /* borrowed: subscriptions die first */
  GMainContext *context;
  MeroNodeEventsNotify notify;
  gpointer user_data;
  guint max_queued;

  /* Under events->lock: */
  GQueue queue;                 /* MeroNodeEvent* */
  gboolean overflowed;
  GSource *wakeup;              /* pending notification, NULL if none */
};

void
mero_node_event_free (MeroNodeEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->type);
  g_free (event->data);
  g_free (event);
}

static MeroNodeEvent *
event_copy (const MeroNodeEvent *event)
{
  MeroNodeEvent *copy = g_new0 (MeroNodeEvent, 1);

  copy->seq = event->seq;
  copy->type = g_strdup (event->type);
  copy->data = g_strdup (event->data);
  copy->time_us = event->time_us;
  return copy;
}

MeroNodeEvents *
mero_node_events_new (void)
{
  MeroNodeEvents *events = g_new0 (MeroNodeEvents, 1);

  g_mutex_init (&events->lock);
  events->next_seq = 1;
  return events;
}

void
mero_node_events_free (MeroNodeEvents *events)
{
  if (events == NULL)
    return;
  /* A live subscription would point at freed memory. */
  g_return_if_fail (events->subscriptions == NULL);
  g_mutex_clear (&events->lock);
  g_free (events);
}

/* The registry takes help text only for existing families. */
static void
count_dropped (const char *labels, guint64 n)
{
  mero_metrics_counter_add (NULL, MERO_NODE_EVENTS_DROPPED_NAME, labels, n, NULL);
  mero_metrics_set_help (NULL, MERO_NODE_EVENTS_DROPPED_NAME,
                         "Node events not delivered, by reason.", NULL);
}

static gboolean
valid_type (const char *type)
{
  if (type[0] == '\0')
    return FALSE;
  for (const char *p = type; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      return FALSE;
  return TRUE;
}

static gboolean
on_wakeup (gpointer user_data)
{
  MeroNodeEventsSubscription *subscription = user_data;

  g_mutex_lock (&subscription->events->lock);
  g_clear_pointer (&subscription->wakeup, g_source_unref);
  g_mutex_unlock (&subscription->events->lock);
  /* Last: the callback may free the subscription. */
  subscription->notify (subscription, subscription->user_data);
  return G_SOURCE_REMOVE;
}

/* Under the lock. */
static void
schedule_wakeup (MeroNodeEventsSubscription *subscription)
{
  if (subscription->wakeup != NULL)
    return;
  subscription->wakeup = g_idle_source_new ();
  g_source_set_priority (subscription->wakeup, G_PRIORITY_DEFAULT);
  g_source_set_callback (subscription->wakeup, on_wakeup, subscription, NULL);
  g_source_set_static_name (subscription->wakeup, "mero-node-events-wakeup");
  g_source_attach (subscription->wakeup, subscription->context);
}

gboolean
mero_node_events_publish (MeroNodeEvents *events, const char *type, const char *data_json)
{
  MeroNodeEvent event = { 0 };
  guint64 dropped = 0;

  g_return_val_if_fail (events != NULL, FALSE);
  g_return_val_if_fail (type != NULL && data_json != NULL, FALSE);

  if (!valid_type (type) || strlen (data_json) > MERO_NODE_EVENTS_MAX_DATA)
    {
      count_dropped ("reason=\"invalid\"", 1);
      g_warning ("node event “%.64s” refused: bad type or data over %d bytes", type,
                 MERO_NODE_EVENTS_MAX_DATA);
      return FALSE;
    }
  event.type = (char *) type;
  event.data = (char *) data_json;
  event.time_us = g_get_real_time ();

  g_mutex_lock (&events->lock);
  event.seq = events->next_seq++;
  for (GList *l = events->subscriptions; l != NULL; l = l->next)
    {
      MeroNodeEventsSubscription *subscription = l->data;

      if (subscription->overflowed)
        {
          dropped++;
          continue;
        }
      if (subscription->queue.length >= subscription->max_queued)
        {
          /* The consumer learns of it and cuts its client off; a gap in
           * a stream is worse than a clean disconnect. */
          subscription->overflowed = TRUE;
          dropped++;
          schedule_wakeup (subscription);
          continue;
        }
      g_queue_push_tail (&subscription->queue, event_copy (&event));
      schedule_wakeup (subscription);
    }
  g_mutex_unlock (&events->lock);

  mero_metrics_counter_add (NULL, MERO_NODE_EVENTS_PUBLISHED_NAME, NULL, 1, NULL);
  mero_metrics_set_help (NULL, MERO_NODE_EVENTS_PUBLISHED_NAME,
                         "Node events published on the in-process event bus.", NULL);
  if (dropped > 0)
    count_dropped ("reason=\"slow-subscriber\"", dropped);
  return TRUE;
}

MeroNodeEventsSubscription *
mero_node_events_subscribe (MeroNodeEvents *events, guint max_queued,
                            MeroNodeEventsNotify notify, gpointer user_data)
{
  MeroNodeEventsSubscription *subscription;

  g_return_val_if_fail (events != NULL, NULL);
  g_return_val_if_fail (notify != NULL, NULL);

  subscription = g_new0 (MeroNodeEventsSubscription, 1);
  subscription->events = events;
  subscription->context = g_main_context_ref_thread_default ();
  subscription->notify = notify;
  subscription->user_data = user_data;
  subscription->max_queued = max_queued > 0 ? max_queued : MERO_NODE_EVENTS_MAX_QUEUED;
  g_queue_init (&subscription->queue);

  g_mutex_lock (&events->lock);
  events->subscriptions = g_list_prepend (events->subscriptions, subscription);
  g_mutex_unlock (&events->lock);
  return subscription;
}

MeroNodeEvent *
mero_node_events_subscription_pop (MeroNodeEventsSubscription *subscription)
{
  MeroNodeEvent *event;

  g_return_val_if_fail (subscription != NULL, NULL);

  g_mutex_lock (&subscription->events->lock);
  event = g_queue_pop_head (&subscription->queue);
  g_mutex_unlock (&subscription->events->lock);
  return event;
}

gboolean
mero_node_events_subscription_is_overflowed (MeroNodeEventsSubscription *subscription)
{
  gboolean overflowed;

  g_return_val_if_fail (subscription != NULL, FALSE);

  g_mutex_lock (&subscription->events->lock);
  overflowed = subscription->overflowed;
  g_mutex_unlock (&subscription->events->lock);
  return overflowed;
}

void
mero_node_events_subscription_free (MeroNodeEventsSubscription *subscription)
{
  MeroNodeEvents *events;

  if (subscription == NULL)
    return;
  events = subscription->events;
  g_mutex_lock (&events->lock);
  events->subscriptions = g_list_remove (events->subscriptions, subscription);
  if (subscription->wakeup != NULL)
    {
      g_source_destroy (subscription->wakeup);
      g_clear_pointer (&subscription->wakeup, g_source_unref);
    }
  g_mutex_unlock (&events->lock);
  g_queue_clear_full (&subscription->queue, (GDestroyNotify) mero_node_event_free);
  g_main_context_unref (subscription->context);
  g_free (subscription);
}
