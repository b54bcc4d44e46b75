/* Unit tests for the network → node event channel: FIFO order, the 80 %
 * warning, back-pressure (has_room and the room notification), counted
 * drops when full, and delivery on a consumer main context from another
 * thread. */
#include "net/mero-event-channel.h"

static guint n_channel_warnings;

/* Counts our warnings instead of aborting on them (g_test_init makes
 * warnings fatal), and passes everything else on. */
static GLogWriterOutput
writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer user_data)
{
  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE") && (level & G_LOG_LEVEL_WARNING) &&
        strstr (fields[i].value, "event channel") != NULL)
      {
        n_channel_warnings++;
        return G_LOG_WRITER_HANDLED;
      }
  return g_log_writer_default (level, fields, n_fields, user_data);
}

static void
test_fifo_backpressure_drop (void)
{
  g_autoptr(MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr(MeroEventChannel) ch = mero_event_channel_new (10, g_free, metrics);
  guint warnings_before = n_channel_warnings;

  /* Slack is capped at half the capacity (5) for a tiny channel: room
   * means 5 more fit. */
  for (guint i = 0; i < 6; i++)
    {
      g_assert_true (mero_event_channel_has_room (ch));
      g_assert_true (mero_event_channel_push (ch, g_strdup_printf ("%u", i)));
    }
  g_assert_false (mero_event_channel_has_room (ch));
  for (guint i = 6; i < 10; i++)
    g_assert_true (mero_event_channel_push (ch, g_strdup_printf ("%u", i)));
  /* Warned once at 80 %, not again at 90 or 100 %. */
  g_assert_cmpuint (n_channel_warnings - warnings_before, ==, 1);
  /* Full: the next one is dropped, freed, counted and logged. */
  g_assert_false (mero_event_channel_push (ch, g_strdup ("x")));
  g_assert_cmpuint (mero_event_channel_get_dropped (ch), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, MERO_EVENT_CHANNEL_DROPPED_METRIC, NULL), ==, 1);
  g_assert_cmpuint (mero_event_channel_get_length (ch), ==, 10);
  for (guint i = 0; i < 10; i++)
    {
      g_autofree char *item = mero_event_channel_pop (ch);
      g_autofree char *want = g_strdup_printf ("%u", i);

      g_assert_cmpstr (item, ==, want);
    }
  g_assert_null (mero_event_channel_pop (ch));
}

static gboolean
room_cb (gpointer data)
{
  guint *n = data;

  (*n)++;
  return G_SOURCE_REMOVE;
}

static void
test_room_notify (void)
{
  g_autoptr(MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr(MeroEventChannel) ch = mero_event_channel_new (10, g_free, metrics);
  g_autoptr(GMainContext) producer = g_main_context_new ();
  guint notified = 0;

  mero_event_channel_set_room_notify (ch, producer, room_cb, &notified);
  for (guint i = 0; i < 8; i++)
    mero_event_channel_push (ch, g_strdup ("e"));
  g_assert_false (mero_event_channel_has_room (ch));
  /* 7 left: still no room for the slack of 5. */
  g_free (mero_event_channel_pop (ch));
  while (g_main_context_iteration (producer, FALSE))
    ;
  g_assert_cmpuint (notified, ==, 0);
  for (guint i = 0; i < 2; i++)
    g_free (mero_event_channel_pop (ch));
  for (guint i = 0; i < 10 && notified == 0; i++)
    g_main_context_iteration (producer, FALSE);
  g_assert_cmpuint (notified, ==, 1);
  g_assert_true (mero_event_channel_has_room (ch));
}

typedef struct
{
  MeroEventChannel *ch;
  guint n;
} Producer;

static gpointer
produce (gpointer data)
{
  Producer *p = data;

  for (guint i = 0; i < p->n; i++)
    {
      /* Back-pressure: wait (bounded) for room rather than drop. */
      for (guint spin = 0; !mero_event_channel_has_room (p->ch) && spin < 100000; spin++)
        g_usleep (100);
      g_assert_true (mero_event_channel_push (p->ch, GUINT_TO_POINTER (i + 1)));
    }
  return NULL;
}

static void
consume (gpointer item, gpointer user_data)
{
  guint *next = user_data;

  g_assert_cmpuint (GPOINTER_TO_UINT (item), ==, *next + 1);
  (*next)++;
}

static void
test_cross_thread_delivery (void)
{
  g_autoptr(MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr(MeroEventChannel) ch = mero_event_channel_new (MERO_EVENT_CHANNEL_DEFAULT_CAPACITY,
                                                           NULL, metrics);
  g_autoptr(GMainContext) consumer = g_main_context_new ();
  Producer p = { ch, 5000 };
  GThread *thread;
  guint next = 0;
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  mero_event_channel_attach (ch, consumer, consume, &next);
  thread = g_thread_new ("producer", produce, &p);
  while (next < p.n && g_get_monotonic_time () < deadline)
    g_main_context_iteration (consumer, TRUE);
  g_thread_join (thread);
  g_assert_cmpuint (next, ==, p.n);
  g_assert_cmpuint (mero_event_channel_get_dropped (ch), ==, 0);
  mero_event_channel_detach (ch);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_log_set_writer_func (writer, NULL, NULL);
  g_test_add_func ("/net/event-channel/fifo-backpressure-drop", test_fifo_backpressure_drop);
  g_test_add_func ("/net/event-channel/room-notify", test_room_notify);
  g_test_add_func ("/net/event-channel/cross-thread", test_cross_thread_delivery);
  return g_test_run ();
}
