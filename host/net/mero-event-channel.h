/* mero-event-channel.h: the bounded network → node event channel
 * (DESIGN §1, §5).
 *
 * A thread-safe FIFO of opaque items with a fixed capacity (default
 * MERO_EVENT_CHANNEL_DEFAULT_CAPACITY).  The producer (the network thread)
 * asks mero_event_channel_has_room() before it reads a socket and, when
 * there is no room, stops reading and waits for the space callback: that
 * is the back-pressure that replaces dropping.  An item pushed into a full
 * channel anyway (one socket read produced more events than the slack)
 * is dropped, counted in mero_net_events_dropped_total and logged.
 * Crossing 80 % of the capacity logs a warning (once per crossing).
 *
 * The consumer attaches the channel to its GMainContext; the callback
 * runs there for each item, in order. */
#pragma once

#include <glib.h>

#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

#define MERO_EVENT_CHANNEL_DEFAULT_CAPACITY 1000u
/* Percent of capacity at which a warning is logged. */
#define MERO_EVENT_CHANNEL_WARN_PERCENT 80u
/* Events one socket read may produce at most before the producer checks
 * again; has_room() keeps this much free. */
#define MERO_EVENT_CHANNEL_READ_SLACK 300u

#define MERO_EVENT_CHANNEL_DROPPED_METRIC "mero_net_events_dropped_total"
#define MERO_EVENT_CHANNEL_DEPTH_METRIC "mero_net_event_channel_depth"

typedef struct _MeroEventChannel MeroEventChannel;

/* Called on the consumer's context with each item (transfer full). */
typedef void (*MeroEventChannelFunc) (gpointer item, gpointer user_data);

/* @capacity >= 2 * MERO_EVENT_CHANNEL_READ_SLACK is advised; @free_item
 * frees items that are dropped or left at the end; @metrics (nullable:
 * the default instance). */
MeroEventChannel *mero_event_channel_new (guint capacity, GDestroyNotify free_item,
                                          MeroMetrics *metrics);
MeroEventChannel *mero_event_channel_ref (MeroEventChannel *self);
/* NULL-safe. */
void mero_event_channel_unref (MeroEventChannel *self);

/* Delivers items to @func on @context (the consumer's), until detached. */
void mero_event_channel_attach (MeroEventChannel *self, GMainContext *context,
                                MeroEventChannelFunc func, gpointer user_data);
void mero_event_channel_detach (MeroEventChannel *self);

/* Producer side.  Takes @item; returns FALSE if it was dropped (full). */
gboolean mero_event_channel_push (MeroEventChannel *self, gpointer item);
/* TRUE if at least MERO_EVENT_CHANNEL_READ_SLACK items fit (capped to the
 * capacity for tiny channels). */
gboolean mero_event_channel_has_room (MeroEventChannel *self);
/* Runs @func on @context once room returns after has_room() said no. */
void mero_event_channel_set_room_notify (MeroEventChannel *self, GMainContext *context,
                                         GSourceFunc func, gpointer user_data);

/* Consumer side without a main context (tests): (transfer full) the
 * oldest item or NULL. */
gpointer mero_event_channel_pop (MeroEventChannel *self);

guint mero_event_channel_get_length (MeroEventChannel *self);
guint mero_event_channel_get_capacity (MeroEventChannel *self);
guint64 mero_event_channel_get_dropped (MeroEventChannel *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroEventChannel, mero_event_channel_unref)

G_END_DECLS
