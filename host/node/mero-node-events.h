/* mero-node-events.h: the node's in-process event bus.
 *
 * Subsystems publish small JSON events ("context-created", "peer-joined",
 * …); consumers (the HTTP server's event stream today, WebSocket and
 * D-Bus signals later) subscribe.  A publisher never waits for a
 * consumer: each subscription has its own bounded queue, and when a
 * consumer falls MERO_NODE_EVENTS_MAX_QUEUED events behind, the
 * subscription is marked overflowed, further events for it are dropped
 * and counted (mero_node_events_dropped_total), and the consumer is told
 * so it can disconnect its client.  Nothing blocks the main loop.
 *
 * Thread-safety: publish may be called from any thread.  A subscription
 * is notified on the GMainContext that was thread-default when it was
 * made, and must be read and freed on that thread. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Events one subscriber may lag behind before it is cut off. */
#define MERO_NODE_EVENTS_MAX_QUEUED 256
/* An event's JSON data above this is refused (and counted): events are
 * notifications, not payload carriers. */
#define MERO_NODE_EVENTS_MAX_DATA 65536

#define MERO_NODE_EVENTS_DROPPED_NAME "mero_node_events_dropped_total"
#define MERO_NODE_EVENTS_PUBLISHED_NAME "mero_node_events_published_total"

typedef struct {
  guint64 seq;          /* 1, 2, … per bus, in publish order */
  char *type;           /* [a-z0-9-]+ */
  char *data;           /* JSON text (an object) */
  gint64 time_us;       /* g_get_real_time () at publish */
} MeroNodeEvent;

typedef struct _MeroNodeEvents MeroNodeEvents;
typedef struct _MeroNodeEventsSubscription MeroNodeEventsSubscription;

/* Called on the subscriber's context when its queue went from empty to
 * non-empty, or when it overflowed.  The subscription may be freed from
 * inside. */
typedef void (*MeroNodeEventsNotify) (MeroNodeEventsSubscription *subscription,
                                      gpointer user_data);

MeroNodeEvents *mero_node_events_new (void);
/* Subscriptions must be freed first; NULL-safe. */
void mero_node_events_free (MeroNodeEvents *events);

/* Copies @type and @data_json.  Returns FALSE (and counts the drop) if
 * @type is not [a-z0-9-]+ or @data_json is larger than
 * MERO_NODE_EVENTS_MAX_DATA. */
gboolean mero_node_events_publish (MeroNodeEvents *events, const char *type,
                                   const char *data_json);

/* (transfer full) @max_queued 0 means MERO_NODE_EVENTS_MAX_QUEUED. */
MeroNodeEventsSubscription *mero_node_events_subscribe (MeroNodeEvents *events,
                                                        guint max_queued,
                                                        MeroNodeEventsNotify notify,
                                                        gpointer user_data);
/* (transfer full) the oldest queued event, NULL if none. */
MeroNodeEvent *mero_node_events_subscription_pop (MeroNodeEventsSubscription *subscription);
/* TRUE once events were dropped for this subscriber; it stays so. */
gboolean mero_node_events_subscription_is_overflowed (MeroNodeEventsSubscription *subscription);
/* NULL-safe; drops what is still queued. */
void mero_node_events_subscription_free (MeroNodeEventsSubscription *subscription);

void mero_node_event_free (MeroNodeEvent *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeEvents, mero_node_events_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeEventsSubscription, mero_node_events_subscription_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeEvent, mero_node_event_free)

G_END_DECLS
