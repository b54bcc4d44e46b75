/* test-sync-session.c: the host adapter that drives a plugin's sans-IO
 * session (sync/mero-sync-session.h) with a scripted protocol: first
 * bytes sent at start, bytes fed, the session's deadline armed as a
 * GSource on the main loop and handled, a refused byte, a stream ended
 * early and an abort each end the session once, with their reason. */
#include <string.h>

#include "sync/mero-sync-session.h"

#define DEADLINE_US (50 * 1000)
#define LOOP_LIMIT_US (5 * G_USEC_PER_SEC)

struct _MeroSyncSession {
  MeroSyncStatus status;
  GByteArray *in;
  GBytes *out;
  int64_t deadline;
};

static MeroSyncSession *
fake_new (void *plugin_data, const MeroSyncSessionParams *params, GError **error)
{
  MeroSyncSession *s = g_new0 (MeroSyncSession, 1);

  s->in = g_byte_array_new ();
  s->deadline = params->now_us + DEADLINE_US;
  if (params->role == MERO_SYNC_ROLE_INITIATOR)
    s->out = g_bytes_new_static ("hello", 5);
  return s;
}

static gboolean
fake_recv (MeroSyncSession *s, const uint8_t *data, size_t len, int64_t now_us, GError **error)
{
  g_byte_array_append (s->in, data, len);
  if (memchr (data, '!', len) != NULL)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "refused byte");
      return FALSE;
    }
  if (s->in->len >= 4 && memcmp (s->in->data + s->in->len - 4, "done", 4) == 0)
    {
      s->out = g_bytes_new_static ("bye", 3);
      s->status = MERO_SYNC_STATUS_DONE;
    }
  return TRUE;
}

static GBytes *
fake_pull (MeroSyncSession *s)
{
  GBytes *out = s->out;

  s->out = NULL;
  return out;
}

static int64_t
fake_next_deadline (MeroSyncSession *s)
{
  return s->status == MERO_SYNC_STATUS_RUNNING ? s->deadline : MERO_SYNC_NO_DEADLINE;
}

static gboolean
fake_handle_deadline (MeroSyncSession *s, int64_t now_us, GError **error)
{
  if (now_us < s->deadline)
    return TRUE;   /* early: nothing to do */
  s->status = MERO_SYNC_STATUS_FAILED;
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_TIMEOUT, "no answer in time");
  return FALSE;
}

static MeroSyncStatus
fake_status (MeroSyncSession *s)
{
  return s->status;
}

static void
fake_stats (MeroSyncSession *s, MeroSyncSessionStats *out)
{
  memset (out, 0, sizeof *out);
  out->bytes_received = s->in->len;
}

static void
fake_free (MeroSyncSession *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->in);
  if (s->out != NULL)
    g_bytes_unref (s->out);
  g_free (s);
}

static const MeroSyncProtocolVTable fake_vtable = {
  .struct_size = sizeof (MeroSyncProtocolVTable),
  .protocol_id = "/calimero/stream/fake/1",
  .session_new = fake_new,
  .recv = fake_recv,
  .pull_send = fake_pull,
  .next_deadline = fake_next_deadline,
  .handle_deadline = fake_handle_deadline,
  .status = fake_status,
  .get_stats = fake_stats,
  .session_free = fake_free,
};

static const MeroPluginInfo fake_info = { .name = (char *) "fake" };
static const MeroLoadedSyncProtocol fake = { &fake_info, &fake_vtable, NULL };

typedef struct {
  GByteArray *sent;
  guint ends;
  MeroSyncStatus status;
  char *reason;
  MeroSyncDriver *driver;
  gboolean free_in_end;
} Fixture;

static void
on_write (GBytes *data, gpointer user_data)
{
  Fixture *f = user_data;

  g_byte_array_append (f->sent, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static void
on_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason, const char *message,
        gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_true (driver == f->driver);
  f->ends++;
  f->status = status;
  g_free (f->reason);
  f->reason = g_strdup (reason);
  /* What the manager does: free the driver from inside the callback. */
  if (f->free_in_end)
    g_clear_pointer (&f->driver, mero_sync_driver_free);
}

static void
setup (Fixture *f, gconstpointer data)
{
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  g_autoptr (GError) error = NULL;

  f->sent = g_byte_array_new ();
  params.role = MERO_SYNC_ROLE_INITIATOR;
  params.now_us = g_get_monotonic_time ();
  f->driver = mero_sync_driver_new (&fake, &params, on_write, on_end, f, &error);
  g_assert_no_error (error);
  f->free_in_end = GPOINTER_TO_INT (data);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  mero_sync_driver_free (f->driver);
  g_byte_array_unref (f->sent);
  g_free (f->reason);
}

static void
test_done (Fixture *f, gconstpointer data)
{
  MeroSyncSessionStats stats;

  mero_sync_driver_start (f->driver);
  g_assert_cmpmem (f->sent->data, f->sent->len, "hello", 5);
  /* Any split of the stream. */
  mero_sync_driver_feed (f->driver, (const guint8 *) "do", 2);
  g_assert_cmpuint (f->ends, ==, 0);
  mero_sync_driver_get_stats (f->driver, &stats);
  g_assert_cmpuint (stats.bytes_received, ==, 2);
  mero_sync_driver_feed (f->driver, (const guint8 *) "ne", 2);
  /* The last bytes are written before the end is reported. */
  g_assert_cmpmem (f->sent->data, f->sent->len, "hellobye", 8);
  g_assert_cmpuint (f->ends, ==, 1);
  g_assert_cmpint (f->status, ==, MERO_SYNC_STATUS_DONE);
  g_assert_null (f->reason);
  /* Nothing after the end. */
  mero_sync_driver_feed (f->driver, (const guint8 *) "done", 4);
  mero_sync_driver_stream_ended (f->driver, TRUE);
  g_assert_cmpuint (f->ends, ==, 1);
}

static gboolean
on_limit (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_deadline (Fixture *f, gconstpointer data)
{
  gboolean limit = FALSE;
  guint limit_id = g_timeout_add (LOOP_LIMIT_US / 1000, on_limit, &limit);
  gint64 start = g_get_monotonic_time ();

  mero_sync_driver_start (f->driver);
  /* The session's deadline is a GSource on the main loop: nothing blocks. */
  while (f->ends == 0 && !limit)
    g_main_context_iteration (NULL, TRUE);
  g_assert_false (limit);
  g_source_remove (limit_id);
  g_assert_cmpuint (f->ends, ==, 1);
  g_assert_cmpint (f->status, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpstr (f->reason, ==, "deadline");
  g_assert_cmpint (g_get_monotonic_time () - start, >=, DEADLINE_US);
}

static void
test_refused_bytes (Fixture *f, gconstpointer data)
{
  mero_sync_driver_start (f->driver);
  mero_sync_driver_feed (f->driver, (const guint8 *) "x!", 2);
  g_assert_cmpuint (f->ends, ==, 1);
  g_assert_cmpint (f->status, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpstr (f->reason, ==, "protocol");
}

static void
test_stream_ended (Fixture *f, gconstpointer data)
{
  mero_sync_driver_start (f->driver);
  mero_sync_driver_stream_ended (f->driver, FALSE);
  g_assert_cmpuint (f->ends, ==, 1);
  g_assert_cmpint (f->status, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpstr (f->reason, ==, "stream_closed");
}

static void
test_abort (Fixture *f, gconstpointer data)
{
  mero_sync_driver_start (f->driver);
  mero_sync_driver_abort (f->driver, "watchdog", "wedged");
  g_assert_cmpuint (f->ends, ==, 1);
  g_assert_cmpstr (f->reason, ==, "watchdog");
  if (f->driver != NULL)
    {
      mero_sync_driver_abort (f->driver, "watchdog", "again");
      g_assert_cmpuint (f->ends, ==, 1);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn, free_in_end) \
  g_test_add (path, Fixture, GINT_TO_POINTER (free_in_end), setup, fn, teardown)
  ADD ("/sync-session/done", test_done, FALSE);
  ADD ("/sync-session/deadline", test_deadline, FALSE);
  ADD ("/sync-session/deadline-freed-in-end", test_deadline, TRUE);
  ADD ("/sync-session/refused-bytes", test_refused_bytes, TRUE);
  ADD ("/sync-session/stream-ended", test_stream_ended, FALSE);
  ADD ("/sync-session/abort", test_abort, FALSE);
  ADD ("/sync-session/abort-freed-in-end", test_abort, TRUE);
  return g_test_run ();
}
