/* mero-ping.c: ping client state machine. */
#include "net/core/mero-ping.h"

#include <string.h>

G_DEFINE_QUARK (mero-ping-error-quark, mero_ping_error)

struct _MeroPingClient
{
  guint8 sent[MERO_PING_PAYLOAD_LEN];
  guint8 got[MERO_PING_PAYLOAD_LEN];
  gsize n_got;
  gboolean outstanding;
  gint64 started;
  guint failures;
  gint64 last_rtt;
};

MeroPingClient *
mero_ping_client_new (void)
{
  MeroPingClient *self = g_new0 (MeroPingClient, 1);

  self->last_rtt = -1;
  return self;
}

void
mero_ping_client_free (MeroPingClient *self)
{
  g_free (self);
}

gboolean
mero_ping_client_start (MeroPingClient *self,
                        const guint8    payload[MERO_PING_PAYLOAD_LEN],
                        gint64          now,
                        GError        **error)
{
  g_return_val_if_fail (self != NULL && payload != NULL, FALSE);

  if (self->outstanding)
    {
      g_set_error (error, MERO_PING_ERROR, MERO_PING_ERROR_BUSY, "a ping is already outstanding");
      return FALSE;
    }
  memcpy (self->sent, payload, MERO_PING_PAYLOAD_LEN);
  self->n_got = 0;
  self->outstanding = TRUE;
  self->started = now;
  return TRUE;
}

static MeroPingResult
failure (MeroPingClient *self, GError **error, MeroPingError code, const char *message)
{
  self->outstanding = FALSE;
  self->failures++;
  g_set_error_literal (error, MERO_PING_ERROR, code, message);
  return MERO_PING_RESULT_FAILED;
}

MeroPingResult
mero_ping_client_recv (MeroPingClient *self,
                       const guint8   *data,
                       gsize           len,
                       gint64          now,
                       gint64         *rtt_us,
                       GError        **error)
{
  gsize take;

  g_return_val_if_fail (self != NULL, MERO_PING_RESULT_FAILED);
  g_return_val_if_fail (data != NULL || len == 0, MERO_PING_RESULT_FAILED);

  if (!self->outstanding)
    {
      if (len == 0)
        return MERO_PING_RESULT_PENDING;
      return failure (self, error, MERO_PING_ERROR_UNEXPECTED,
                      "ping bytes arrived with no ping outstanding");
    }
  take = MIN (len, MERO_PING_PAYLOAD_LEN - self->n_got);
  memcpy (self->got + self->n_got, data, take);
  self->n_got += take;
  if (take < len)
    return failure (self, error, MERO_PING_ERROR_MISMATCH, "ping echo longer than 32 bytes");
  if (self->n_got < MERO_PING_PAYLOAD_LEN)
    return MERO_PING_RESULT_PENDING;
  if (memcmp (self->got, self->sent, MERO_PING_PAYLOAD_LEN) != 0)
    return failure (self, error, MERO_PING_ERROR_MISMATCH, "ping echo differs from the request");
  self->outstanding = FALSE;
  self->failures = 0;
  self->last_rtt = MAX (now - self->started, 0);
  if (rtt_us != NULL)
    *rtt_us = self->last_rtt;
  return MERO_PING_RESULT_OK;
}

void
mero_ping_client_fail (MeroPingClient *self)
{
  g_return_if_fail (self != NULL);

  self->outstanding = FALSE;
  self->failures++;
}

gboolean
mero_ping_client_is_outstanding (const MeroPingClient *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->outstanding;
}

gint64
mero_ping_client_next_deadline (const MeroPingClient *self)
{
  g_return_val_if_fail (self != NULL, G_MAXINT64);

  return self->outstanding ? self->started + MERO_PING_TIMEOUT_US : G_MAXINT64;
}

gboolean
mero_ping_client_handle_deadline (MeroPingClient *self, gint64 now, GError **error)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!self->outstanding || now < self->started + MERO_PING_TIMEOUT_US)
    return TRUE;
  failure (self, error, MERO_PING_ERROR_TIMEOUT, "ping timed out");
  return FALSE;
}

guint
mero_ping_client_get_failures (const MeroPingClient *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->failures;
}

gboolean
mero_ping_client_is_dead (const MeroPingClient *self)
{
  g_return_val_if_fail (self != NULL, TRUE);

  return self->failures >= MERO_PING_MAX_FAILURES;
}

gint64
mero_ping_client_get_last_rtt (const MeroPingClient *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return self->last_rtt;
}
