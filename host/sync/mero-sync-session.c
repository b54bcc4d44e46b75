/* mero-sync-session.c: see mero-sync-session.h. */
#include "sync/mero-sync-session.h"

#include <string.h>

struct _MeroSyncDriver {
  const MeroLoadedSyncProtocol *protocol;
  MeroSyncSession *session;
  MeroSyncDriverWriteFunc write;
  MeroSyncDriverEndFunc end;
  gpointer user_data;
  GSource *deadline;
  guint64 bytes_in, bytes_out;
  gboolean ended;
};

MeroSyncDriver *
mero_sync_driver_new (const MeroLoadedSyncProtocol *protocol,
                      const MeroSyncSessionParams *params, MeroSyncDriverWriteFunc write,
                      MeroSyncDriverEndFunc end, gpointer user_data, GError **error)
{
  const MeroSyncProtocolVTable *vt = protocol->vtable;
  MeroSyncSession *session;
  MeroSyncDriver *driver;

  /* The registry copied the vtable into a zeroed latest-layout struct;
   * a plugin missing a method is not driven. */
  if (vt->session_new == NULL || vt->recv == NULL || vt->pull_send == NULL
      || vt->next_deadline == NULL || vt->handle_deadline == NULL || vt->status == NULL
      || vt->session_free == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "%s lacks a session method", protocol->info->name);
      return NULL;
    }
  session = vt->session_new (protocol->plugin_data, params, error);
  if (session == NULL)
    {
      if (error != NULL && *error == NULL)
        g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                     "%s made no session", protocol->info->name);
      return NULL;
    }
  driver = g_new0 (MeroSyncDriver, 1);
  driver->protocol = protocol;
  driver->session = session;
  driver->write = write;
  driver->end = end;
  driver->user_data = user_data;
  return driver;
}

static void
disarm (MeroSyncDriver *driver)
{
  if (driver->deadline != NULL)
    {
      g_source_destroy (driver->deadline);
      g_clear_pointer (&driver->deadline, g_source_unref);
    }
}

static void finish (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason,
                    const char *message);
static void pump (MeroSyncDriver *driver);

static gboolean
on_deadline (gpointer user_data)
{
  MeroSyncDriver *driver = user_data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&driver->deadline, g_source_unref);
  if (!driver->protocol->vtable->handle_deadline (driver->session, g_get_monotonic_time (),
                                                  &error))
    {
      finish (driver, MERO_SYNC_STATUS_FAILED, "deadline",
              error != NULL ? error->message : "deadline passed");
      return G_SOURCE_REMOVE;
    }
  pump (driver);
  return G_SOURCE_REMOVE;
}

static void
finish (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason, const char *message)
{
  if (driver->ended)
    return;
  driver->ended = TRUE;
  disarm (driver);
  /* Last call: @end may free the driver. */
  driver->end (driver, status, reason, message, driver->user_data);
}

/* Writes everything the session has queued, then ends it or arms its
 * next deadline. */
static void
pump (MeroSyncDriver *driver)
{
  const MeroSyncProtocolVTable *vt = driver->protocol->vtable;
  MeroSyncStatus status;
  GBytes *out;
  gint64 at;

  if (driver->ended)
    return;
  while ((out = vt->pull_send (driver->session)) != NULL)
    {
      driver->bytes_out += g_bytes_get_size (out);
      driver->write (out, driver->user_data);
      g_bytes_unref (out);
      if (driver->bytes_out > MERO_SYNC_SESSION_MAX_BYTES)
        {
          finish (driver, MERO_SYNC_STATUS_FAILED, "too_many_bytes",
                  "session over MERO_SYNC_SESSION_MAX_BYTES sent");
          return;
        }
    }
  status = vt->status (driver->session);
  if (status != MERO_SYNC_STATUS_RUNNING)
    {
      finish (driver, status, status == MERO_SYNC_STATUS_DONE ? NULL : "protocol",
              status == MERO_SYNC_STATUS_DONE ? NULL : "the protocol session failed");
      return;
    }
  disarm (driver);
  at = vt->next_deadline (driver->session);
  if (at != MERO_SYNC_NO_DEADLINE)
    {
      gint64 wait_us = MAX (at - g_get_monotonic_time (), 0);

      driver->deadline = g_timeout_source_new ((guint) MIN ((wait_us + 999) / 1000, G_MAXUINT));
      g_source_set_callback (driver->deadline, on_deadline, driver, NULL);
      g_source_attach (driver->deadline, NULL);
    }
}

void
mero_sync_driver_start (MeroSyncDriver *driver)
{
  pump (driver);
}

void
mero_sync_driver_feed (MeroSyncDriver *driver, const guint8 *data, gsize len)
{
  g_autoptr (GError) error = NULL;

  if (driver->ended)
    return;
  driver->bytes_in += len;
  if (driver->bytes_in > MERO_SYNC_SESSION_MAX_BYTES)
    {
      finish (driver, MERO_SYNC_STATUS_FAILED, "too_many_bytes",
              "session over MERO_SYNC_SESSION_MAX_BYTES received");
      return;
    }
  if (!driver->protocol->vtable->recv (driver->session, data, len, g_get_monotonic_time (),
                                       &error))
    {
      finish (driver, MERO_SYNC_STATUS_FAILED, "protocol",
              error != NULL ? error->message : "the protocol refused the peer's bytes");
      return;
    }
  pump (driver);
}

void
mero_sync_driver_stream_ended (MeroSyncDriver *driver, gboolean reset)
{
  if (driver->ended)
    return;
  if (driver->protocol->vtable->status (driver->session) == MERO_SYNC_STATUS_DONE)
    finish (driver, MERO_SYNC_STATUS_DONE, NULL, NULL);
  else
    finish (driver, MERO_SYNC_STATUS_FAILED, reset ? "stream_reset" : "stream_closed",
            reset ? "the peer reset the stream" : "the peer closed the stream early");
}

void
mero_sync_driver_abort (MeroSyncDriver *driver, const char *reason, const char *message)
{
  finish (driver, MERO_SYNC_STATUS_FAILED, reason, message);
}

void
mero_sync_driver_get_stats (MeroSyncDriver *driver, MeroSyncSessionStats *out)
{
  memset (out, 0, sizeof *out);
  if (driver->protocol->vtable->get_stats != NULL)
    driver->protocol->vtable->get_stats (driver->session, out);
}

const MeroLoadedSyncProtocol *
mero_sync_driver_get_protocol (MeroSyncDriver *driver)
{
  return driver->protocol;
}

void
mero_sync_driver_free (MeroSyncDriver *driver)
{
  if (driver == NULL)
    return;
  disarm (driver);
  driver->protocol->vtable->session_free (driver->session);
  g_free (driver);
}
