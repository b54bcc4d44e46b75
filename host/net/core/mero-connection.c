/* mero-connection.c: the layers of one connection (security and muxer
 * negotiation, Noise, yamux) and the public API.  What runs on each
 * stream is in mero-connection-streams.c. */
#include "net/core/mero-connection-private.h"
#include "net/core/mero-noise-symmetric.h"

#include <sodium.h>
#include <string.h>

G_DEFINE_QUARK (mero-connection-error-quark, mero_connection_error)

static const char *const muxer_protocols[] = { MERO_YAMUX_PROTOCOL_ID, NULL };

/* The security protocol ids to propose (dialer, in order) or accept. */
static const char *const *
security_protocols (MeroConnectionSecurity security, gboolean have_tls)
{
  static const char *const noise_tls[] = { MERO_NOISE_PROTOCOL_ID, MERO_TLS_PROTOCOL_ID, NULL };
  static const char *const tls_noise[] = { MERO_TLS_PROTOCOL_ID, MERO_NOISE_PROTOCOL_ID, NULL };
  static const char *const noise_only[] = { MERO_NOISE_PROTOCOL_ID, NULL };
  static const char *const tls_only[] = { MERO_TLS_PROTOCOL_ID, NULL };

  if (!have_tls)
    return noise_only;
  switch (security)
    {
    case MERO_CONNECTION_SECURITY_TLS_FIRST:
      return tls_noise;
    case MERO_CONNECTION_SECURITY_NOISE_ONLY:
      return noise_only;
    case MERO_CONNECTION_SECURITY_TLS_ONLY:
      return tls_only;
    case MERO_CONNECTION_SECURITY_NOISE_FIRST:
    default:
      return noise_tls;
    }
}

static void
event_clear (gpointer data)
{
  MeroConnectionEvent *ev = data;

  g_clear_pointer (&ev->protocol, g_free);
  g_clear_pointer (&ev->message, g_free);
}

GArray *
mero_connection_events_new (void)
{
  GArray *events = g_array_new (FALSE, TRUE, sizeof (MeroConnectionEvent));

  g_array_set_clear_func (events, event_clear);
  return events;
}

void
conn_push_event (GArray *events, MeroConnectionEventType type, guint32 stream_id,
                 gboolean inbound, const char *protocol, const char *message)
{
  MeroConnectionEvent ev = { 0 };

  ev.type = type;
  ev.stream_id = stream_id;
  ev.inbound = inbound;
  ev.protocol = g_strdup (protocol);
  ev.message = g_strdup (message);
  g_array_append_val (events, ev);
}

void
conn_fail (MeroConnection *self, GArray *events, const char *format, ...)
{
  va_list args;

  if (self->state == MERO_CONNECTION_STATE_CLOSED && self->close_reason != NULL)
    return;
  va_start (args, format);
  g_free (self->close_reason);
  self->close_reason = g_strdup_vprintf (format, args);
  va_end (args);
  self->state = MERO_CONNECTION_STATE_CLOSED;
  self->phase = PHASE_DONE;
  conn_push_event (events, MERO_CONNECTION_EVENT_CLOSED, 0, FALSE, NULL, self->close_reason);
}

static GStrv
strv_concat (const char *const *a, const char *const *b)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; a != NULL && a[i] != NULL; i++)
    g_strv_builder_add (builder, a[i]);
  for (guint i = 0; b != NULL && b[i] != NULL; i++)
    g_strv_builder_add (builder, b[i]);
  return g_strv_builder_end (builder);
}

static MeroIdentifyInfo *
identify_copy (const MeroIdentifyInfo *src)
{
  MeroIdentifyInfo *dst = mero_identify_info_new ();

  /* Merging a "push" of everything into an empty info is a deep copy. */
  if (src != NULL)
    mero_identify_info_merge_push (dst, src);
  return dst;
}

static const char *const builtin[] = { MERO_IDENTIFY_PROTOCOL_ID, MERO_IDENTIFY_PUSH_PROTOCOL_ID,
                                       MERO_PING_PROTOCOL_ID, NULL };

MeroConnection *
mero_connection_new (MeroConnectionRole role, const MeroConnectionConfig *config, gint64 now)
{
  MeroConnection *self;

  g_return_val_if_fail (config != NULL && config->noise.payload != NULL, NULL);
  g_return_val_if_fail (config->security != MERO_CONNECTION_SECURITY_TLS_ONLY ||
                        config->tls_credentials != NULL, NULL);
  g_return_val_if_fail (config->app_protocols == NULL ||
                        g_strv_length ((GStrv) config->app_protocols) <= MERO_CONNECTION_MAX_APP_PROTOCOLS,
                        NULL);
  g_return_val_if_fail (config->app_prefixes == NULL ||
                        g_strv_length ((GStrv) config->app_prefixes) <= MERO_CONNECTION_MAX_APP_PROTOCOLS,
                        NULL);

  self = g_new0 (MeroConnection, 1);
  self->role = role;
  self->state = MERO_CONNECTION_STATE_HANDSHAKING;
  self->phase = PHASE_SECURITY;
  self->created = now;
  self->noise_config = config->noise;
  self->noise_config.payload = g_bytes_ref (config->noise.payload);
  if (config->noise.expected_peer != NULL)
    self->noise_config.expected_peer = mero_peer_id_copy (config->noise.expected_peer);
  self->raw_tx = g_byte_array_new ();
  self->plain = g_byte_array_new ();
  self->plain_spare = g_byte_array_new ();
  self->yamux_out = g_byte_array_sized_new (MERO_NOISE_MAX_PLAINTEXT);
  self->yamux_events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  self->local_identify = identify_copy (config->local_identify);
  if (config->remote_addr != NULL)
    {
      gsize len;
      const guint8 *data = g_bytes_get_data (mero_multiaddr_get_bytes (config->remote_addr), &len);

      self->remote_addr = mero_multiaddr_new_from_bytes (data, len, NULL);
    }
  self->app_protocols = strv_concat (config->app_protocols, NULL);
  self->app_prefixes = strv_concat (config->app_prefixes, NULL);
  self->inbound_protocols = strv_concat (builtin, config->app_protocols);
  self->streams = g_hash_table_new_full (NULL, NULL, NULL, conn_stream_free);
  self->ping = mero_ping_client_new ();
  self->inline_muxer = config->inline_muxer;
  if (config->tls_credentials != NULL)
    self->tls_credentials = mero_tls_credentials_ref (config->tls_credentials);
  self->security = config->security;
  self->now_unix = config->now_unix;

  if (role == MERO_CONNECTION_ROLE_DIALER)
    {
      g_autoptr(GBytes) out = NULL;

      self->ms = mero_multistream_new_initiator (security_protocols (self->security,
                                                                     self->tls_credentials != NULL));
      out = mero_multistream_pull_send (self->ms);
      g_byte_array_append (self->raw_tx, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
    }
  else
    {
      self->ms = mero_multistream_new_responder (security_protocols (self->security,
                                                                     self->tls_credentials != NULL),
                                                 NULL);
    }
  return self;
}

gboolean
mero_connection_set_local_protocols (MeroConnection *self, const char *const *app_protocols,
                                     const char *const *app_prefixes,
                                     const MeroIdentifyInfo *local_identify, gboolean push)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if ((app_protocols != NULL &&
       g_strv_length ((GStrv) app_protocols) > MERO_CONNECTION_MAX_APP_PROTOCOLS) ||
      (app_prefixes != NULL &&
       g_strv_length ((GStrv) app_prefixes) > MERO_CONNECTION_MAX_APP_PROTOCOLS))
    return FALSE;
  g_strfreev (self->app_protocols);
  self->app_protocols = strv_concat (app_protocols, NULL);
  g_strfreev (self->app_prefixes);
  self->app_prefixes = strv_concat (app_prefixes, NULL);
  g_strfreev (self->inbound_protocols);
  self->inbound_protocols = strv_concat (builtin, app_protocols);
  mero_identify_info_free (self->local_identify);
  self->local_identify = identify_copy (local_identify);
  if (push && self->state == MERO_CONNECTION_STATE_READY && self->yamux != NULL)
    conn_streams_push_identify (self);
  return TRUE;
}

void
mero_connection_free (MeroConnection *self)
{
  if (self == NULL)
    return;
  g_clear_pointer (&self->noise_config.payload, g_bytes_unref);
  g_clear_pointer ((MeroPeerId **) &self->noise_config.expected_peer, mero_peer_id_free);
  sodium_memzero (&self->noise_config, sizeof self->noise_config);
  g_clear_pointer (&self->ms, mero_multistream_free);
  g_clear_pointer (&self->noise, mero_noise_free);
  g_clear_pointer (&self->tls, mero_tls_free);
  g_clear_pointer (&self->tls_credentials, mero_tls_credentials_unref);
  g_clear_pointer (&self->streams, g_hash_table_unref);
  g_clear_pointer (&self->yamux, mero_yamux_session_free);
  g_clear_pointer (&self->raw_tx, g_byte_array_unref);
  g_clear_pointer (&self->plain, g_byte_array_unref);
  g_clear_pointer (&self->plain_spare, g_byte_array_unref);
  g_clear_pointer (&self->yamux_out, g_byte_array_unref);
  g_clear_pointer (&self->yamux_events, g_array_unref);
  g_clear_pointer (&self->local_identify, mero_identify_info_free);
  g_clear_pointer (&self->remote_addr, mero_multiaddr_free);
  g_clear_pointer (&self->remote_identify, mero_identify_info_free);
  g_clear_pointer (&self->inbound_protocols, g_strfreev);
  g_clear_pointer (&self->app_protocols, g_strfreev);
  g_clear_pointer (&self->app_prefixes, g_strfreev);
  g_clear_pointer (&self->ping, mero_ping_client_free);
  g_clear_pointer (&self->close_reason, g_free);
  g_free (self);
}

/* --- the secure channel: Noise or TLS, whichever was agreed --- */

static void
flush_secure (MeroConnection *self)
{
  g_autoptr(GBytes) out = self->tls != NULL ? mero_tls_pull_send (self->tls)
                                            : mero_noise_pull_send (self->noise);

  if (out != NULL)
    g_byte_array_append (self->raw_tx, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
}

static gboolean
secure_established (const MeroConnection *self)
{
  if (self->tls != NULL)
    return mero_tls_get_state (self->tls) == MERO_TLS_STATE_ESTABLISHED;
  return self->noise != NULL && mero_noise_get_state (self->noise) == MERO_NOISE_STATE_ESTABLISHED;
}

static gboolean
secure_write (MeroConnection *self, const guint8 *data, gsize len, GError **error)
{
  if (self->tls != NULL)
    return mero_tls_write (self->tls, data, len, error);
  return mero_noise_write (self->noise, data, len, error);
}

static gboolean
secure_recv (MeroConnection *self, const guint8 *data, gsize len, GByteArray *plain,
             GError **error)
{
  if (self->tls != NULL)
    return mero_tls_recv (self->tls, data, len, plain, error);
  return mero_noise_recv (self->noise, data, len, plain, error);
}

/* Multistream bytes of the muxer negotiation go out encrypted. */
static void
flush_muxer_ms (MeroConnection *self)
{
  g_autoptr(GBytes) out = mero_multistream_pull_send (self->ms);

  if (out == NULL)
    return;
  /* Cannot fail: the channel is established in PHASE_MUXER. */
  g_assert (secure_write (self, g_bytes_get_data (out, NULL), g_bytes_get_size (out), NULL));
  flush_secure (self);
}

static gboolean plain_in (MeroConnection *self, const guint8 *data, gsize len, gint64 now,
                          GArray *events);

static gboolean
yamux_in (MeroConnection *self, const guint8 *data, gsize len, gint64 now, GArray *events)
{
  g_autoptr(GError) error = NULL;
  gboolean ok;

  g_array_set_size (self->yamux_events, 0);
  ok = mero_yamux_session_recv (self->yamux, data, len, now, self->yamux_events, &error);
  {
    /* Refusals happen only on received SYNs: refreshed once per read. */
    const MeroYamuxStats *yamux_stats = mero_yamux_session_get_stats (self->yamux);

    self->stats.yamux_refused_limit = yamux_stats->streams_refused_limit;
    self->stats.yamux_refused_going_away = yamux_stats->streams_refused_going_away;
  }
  for (guint i = 0; i < self->yamux_events->len && self->phase == PHASE_MUXED; i++)
    conn_streams_handle_yamux_event (self, &g_array_index (self->yamux_events, MeroYamuxEvent, i),
                                     now, events);
  if (!ok)
    {
      conn_fail (self, events, "yamux: %s", error->message);
      return FALSE;
    }
  return self->phase != PHASE_DONE;
}

static void
start_yamux (MeroConnection *self, gint64 now, GArray *events)
{
  g_clear_pointer (&self->ms, mero_multistream_free);
  self->yamux = mero_yamux_session_new (self->role == MERO_CONNECTION_ROLE_DIALER
                                        ? MERO_YAMUX_ROLE_CLIENT : MERO_YAMUX_ROLE_SERVER);
  self->phase = PHASE_MUXED;
  self->state = MERO_CONNECTION_STATE_READY;
  conn_push_event (events, MERO_CONNECTION_EVENT_READY, 0, FALSE, NULL, NULL);
  conn_streams_on_ready (self, now, events);
}

static void
start_muxer_negotiation (MeroConnection *self, gint64 now, GArray *events)
{
  const char *const *remote = NULL;

  g_clear_pointer (&self->ms, mero_multistream_free);
  conn_push_event (events, MERO_CONNECTION_EVENT_SECURED, 0, FALSE, NULL, NULL);
  if (self->tls != NULL)
    {
      /* ALPN agreed on a muxer (we only list yamux when inline_muxer is
       * set), or on "libp2p": multistream-select follows. */
      if (g_strcmp0 (mero_tls_get_alpn (self->tls), MERO_YAMUX_PROTOCOL_ID) == 0)
        {
          self->muxer_inlined = TRUE;
          start_yamux (self, now, events);
          return;
        }
      goto negotiate;
    }
  remote = mero_noise_get_remote_stream_muxers (self->noise);
  /* Both payloads list muxers: the choice is made (js takes the first
   * of the remote's list it supports; yamux is all we speak). */
  if (self->inline_muxer && remote[0] != NULL)
    {
      if (!g_strv_contains (remote, MERO_YAMUX_PROTOCOL_ID))
        {
          conn_fail (self, events, "peer offers no muxer we speak in its Noise payload");
          return;
        }
      self->muxer_inlined = TRUE;
      start_yamux (self, now, events);
      return;
    }
negotiate:
  self->phase = PHASE_MUXER;
  if (self->role == MERO_CONNECTION_ROLE_DIALER)
    {
      self->ms = mero_multistream_new_initiator (muxer_protocols);
      flush_muxer_ms (self);
    }
  else
    {
      self->ms = mero_multistream_new_responder (muxer_protocols, NULL);
    }
}

static gboolean
plain_in (MeroConnection *self, const guint8 *data, gsize len, gint64 now, GArray *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) leftover = NULL;

  if (self->phase == PHASE_MUXED)
    return yamux_in (self, data, len, now, events);
  if (self->phase != PHASE_MUXER)
    return self->phase != PHASE_DONE;

  if (!mero_multistream_recv (self->ms, data, len, &error))
    {
      flush_muxer_ms (self);
      conn_fail (self, events, "muxer negotiation: %s", error->message);
      return FALSE;
    }
  flush_muxer_ms (self);
  if (mero_multistream_get_state (self->ms) != MERO_MULTISTREAM_STATE_AGREED)
    return TRUE;

  leftover = mero_multistream_steal_leftover (self->ms);
  start_yamux (self, now, events);
  if (self->phase == PHASE_MUXED && g_bytes_get_size (leftover) > 0)
    return yamux_in (self, g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover), now,
                     events);
  return self->phase != PHASE_DONE;
}

static gboolean
secure_in (MeroConnection *self, const guint8 *data, gsize len, gint64 now, GArray *events)
{
  g_autoptr(GError) error = NULL;
  gboolean was_handshaking = self->phase == PHASE_HANDSHAKE;
  gboolean ok;

  g_byte_array_set_size (self->plain, 0);
  ok = secure_recv (self, data, len, self->plain, &error);
  /* Also sends the alert a failed TLS handshake leaves. */
  flush_secure (self);
  if (!ok)
    {
      self->stats.security_failures++;
      conn_fail (self, events, "%s: %s", self->tls != NULL ? "tls" : "noise", error->message);
      return FALSE;
    }
  if (was_handshaking && secure_established (self))
    start_muxer_negotiation (self, now, events);
  if (self->phase == PHASE_DONE)
    return FALSE;
  if (self->plain->len == 0)
    return TRUE;
  {
    /* plain_in may re-enter noise (writes); work on a private buffer and
     * keep the other one's memory (no allocation or regrowth per read). */
    GByteArray *plain = g_steal_pointer (&self->plain);
    gboolean in_ok;

    self->plain = self->plain_spare != NULL ? g_steal_pointer (&self->plain_spare)
                                            : g_byte_array_new ();
    in_ok = plain_in (self, plain->data, plain->len, now, events);
    g_byte_array_set_size (plain, 0);
    if (self->plain_spare == NULL && self->plain != NULL)
      self->plain_spare = plain;
    else
      g_byte_array_unref (plain);
    return in_ok;
  }
}

static gboolean
security_in (MeroConnection *self, const guint8 *data, gsize len, gint64 now, GArray *events)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) out = NULL;
  g_autoptr(GBytes) leftover = NULL;
  MeroNoiseRole role;

  if (!mero_multistream_recv (self->ms, data, len, &error))
    {
      out = mero_multistream_pull_send (self->ms);
      if (out != NULL)
        g_byte_array_append (self->raw_tx, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
      /* Anything but a known multistream code counts as malformed. */
      self->stats.security_negotiation_failures
          [error->domain == MERO_MULTISTREAM_ERROR && error->code >= 0
                   && error->code < (int) G_N_ELEMENTS (self->stats.security_negotiation_failures)
               ? error->code
               : MERO_MULTISTREAM_ERROR_PROTOCOL]++;
      conn_fail (self, events, "security negotiation: %s", error->message);
      return FALSE;
    }
  out = mero_multistream_pull_send (self->ms);
  if (out != NULL)
    g_byte_array_append (self->raw_tx, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
  if (mero_multistream_get_state (self->ms) != MERO_MULTISTREAM_STATE_AGREED)
    return TRUE;

  leftover = mero_multistream_steal_leftover (self->ms);
  if (g_strcmp0 (mero_multistream_get_protocol (self->ms), MERO_TLS_PROTOCOL_ID) == 0)
    {
      static const char *const alpn_muxers[] = { MERO_YAMUX_PROTOCOL_ID, NULL };
      MeroTlsConfig tls_config = { 0 };

      tls_config.credentials = self->tls_credentials;
      tls_config.expected_peer = self->noise_config.expected_peer;
      tls_config.alpn_muxers = self->inline_muxer ? alpn_muxers : NULL;
      tls_config.now_unix = self->now_unix;
      self->tls = mero_tls_new (self->role == MERO_CONNECTION_ROLE_DIALER ? MERO_TLS_ROLE_CLIENT
                                                                         : MERO_TLS_ROLE_SERVER,
                                &tls_config, &error);
      if (self->tls == NULL)
        {
          self->stats.security_failures++;
          conn_fail (self, events, "tls: %s", error->message);
          return FALSE;
        }
    }
  else
    {
      role = self->role == MERO_CONNECTION_ROLE_DIALER ? MERO_NOISE_ROLE_INITIATOR
                                                        : MERO_NOISE_ROLE_RESPONDER;
      self->noise = mero_noise_new (role, &self->noise_config);
    }
  /* The Noise keys now live in the Noise session only (or nowhere). */
  sodium_memzero (self->noise_config.static_private_key, sizeof self->noise_config.static_private_key);
  sodium_memzero (self->noise_config.ephemeral_private_key,
                  sizeof self->noise_config.ephemeral_private_key);
  self->phase = PHASE_HANDSHAKE;
  flush_secure (self);
  if (g_bytes_get_size (leftover) > 0)
    return secure_in (self, g_bytes_get_data (leftover, NULL), g_bytes_get_size (leftover), now,
                      events);
  return TRUE;
}

gboolean
mero_connection_recv (MeroConnection *self,
                      const guint8   *data,
                      gsize           len,
                      gint64          now,
                      GArray         *events,
                      GError        **error)
{
  gboolean ok = FALSE;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (events != NULL, FALSE);

  switch (self->phase)
    {
    case PHASE_SECURITY:
      ok = security_in (self, data, len, now, events);
      break;
    case PHASE_HANDSHAKE:
    case PHASE_MUXER:
    case PHASE_MUXED:
      ok = secure_in (self, data, len, now, events);
      break;
    case PHASE_DONE:
    default:
      ok = FALSE;
      break;
    }
  if (!ok || self->phase == PHASE_DONE)
    {
      g_set_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_CLOSED,
                   "connection closed: %s", self->close_reason != NULL ? self->close_reason : "closed");
      return FALSE;
    }
  return TRUE;
}

/* Moves yamux frames into raw_tx, one Noise frame's worth at a time, so
 * raw_tx stays small however much the streams have queued.  With nothing
 * else queued the frame is encrypted (Noise or TLS) straight into
 * @direct (the caller's socket buffer) when it has @room: no copy of each
 * byte through raw_tx (for TLS, through its queue as well).  Returns the
 * bytes put into @direct, via @direct_len. */
static gboolean
refill_from_yamux (MeroConnection *self, GByteArray *direct, gsize room, gsize *direct_len)
{
  GByteArray *chunk = self->yamux_out;
  gboolean ok;

  *direct_len = 0;
  if (self->yamux == NULL || !secure_established (self))
    return FALSE;
  conn_streams_flush (self);
  if (!mero_yamux_session_wants_send (self->yamux))
    return FALSE;
  g_byte_array_set_size (chunk, 0);
  mero_yamux_session_pull_send (self->yamux, chunk, MERO_NOISE_MAX_PLAINTEXT);
  if (chunk->len == 0)
    return FALSE;
  if (self->tls == NULL && direct != NULL && self->raw_tx->len == 0 &&
      !mero_noise_wants_send (self->noise) &&
      room >= (gsize) chunk->len + 2 + MERO_NOISE_TAG_LEN)
    {
      guint before = direct->len;

      ok = mero_noise_write_into (self->noise, chunk->data, chunk->len, direct, NULL);
      *direct_len = direct->len - before;
      return ok;
    }
  if (self->tls != NULL && direct != NULL && self->raw_tx->len == 0 &&
      !mero_tls_wants_send (self->tls) &&
      room >= (gsize) chunk->len + ((gsize) chunk->len / MERO_TLS_MAX_RECORD_PLAINTEXT + 1) *
                                        MERO_TLS_RECORD_OVERHEAD)
    {
      guint before = direct->len;

      ok = mero_tls_write_into (self->tls, chunk->data, chunk->len, direct, NULL);
      *direct_len = direct->len - before;
      return ok;
    }
  if (!secure_write (self, chunk->data, chunk->len, NULL))
    return FALSE;
  flush_secure (self);
  return TRUE;
}

gsize
mero_connection_pull_send (MeroConnection *self, GByteArray *out, gsize max)
{
  gsize written = 0;

  g_return_val_if_fail (self != NULL && out != NULL, 0);

  while (written < max)
    {
      gsize take;

      if (self->raw_tx->len == 0)
        {
          gsize direct = 0;

          if (!refill_from_yamux (self, out, max - written, &direct))
            break;
          written += direct;
          if (direct > 0)
            continue;
        }
      take = MIN (self->raw_tx->len, max - written);
      g_byte_array_append (out, self->raw_tx->data, (guint) take);
      g_byte_array_remove_range (self->raw_tx, 0, (guint) take);
      written += take;
    }
  return written;
}

gboolean
mero_connection_wants_send (MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (self->raw_tx->len > 0)
    return TRUE;
  if (self->yamux == NULL || !secure_established (self))
    return FALSE;
  conn_streams_flush (self);
  return mero_yamux_session_wants_send (self->yamux);
}

gint64
mero_connection_next_deadline (const MeroConnection *self)
{
  gint64 deadline = G_MAXINT64;

  g_return_val_if_fail (self != NULL, G_MAXINT64);

  if (self->phase == PHASE_DONE)
    return G_MAXINT64;
  if (self->state == MERO_CONNECTION_STATE_HANDSHAKING)
    deadline = self->created + MERO_CONNECTION_HANDSHAKE_TIMEOUT_US;
  if (self->yamux != NULL)
    deadline = MIN (deadline, mero_yamux_session_next_deadline (self->yamux));
  deadline = MIN (deadline, mero_ping_client_next_deadline (self->ping));
  if (self->identify_stream != 0)
    deadline = MIN (deadline, self->identify_deadline);
  return deadline;
}

void
mero_connection_handle_deadline (MeroConnection *self, gint64 now, GArray *events)
{
  g_autoptr(GError) error = NULL;

  g_return_if_fail (self != NULL && events != NULL);

  if (self->phase == PHASE_DONE)
    return;
  if (self->state == MERO_CONNECTION_STATE_HANDSHAKING &&
      now >= self->created + MERO_CONNECTION_HANDSHAKE_TIMEOUT_US)
    {
      self->stats.handshake_timeouts++;
      conn_fail (self, events, "handshake not finished within %d s",
                 (int) (MERO_CONNECTION_HANDSHAKE_TIMEOUT_US / G_USEC_PER_SEC));
      return;
    }
  if (self->yamux != NULL && !mero_yamux_session_handle_deadline (self->yamux, now, &error))
    {
      conn_fail (self, events, "yamux: %s", error->message);
      return;
    }
  if (!mero_ping_client_handle_deadline (self->ping, now, &error))
    {
      self->stats.pings_failed++;
      conn_push_event (events, MERO_CONNECTION_EVENT_PING_FAILED, self->ping_stream, FALSE, NULL,
                       error->message);
      g_clear_error (&error);
      /* The stream may hold a late echo: start the next ping afresh. */
      if (self->ping_stream != 0)
        {
          mero_yamux_stream_reset (self->yamux, self->ping_stream);
          g_hash_table_remove (self->streams, GUINT_TO_POINTER (self->ping_stream));
          self->ping_stream = 0;
        }
      if (mero_ping_client_is_dead (self->ping))
        {
          conn_fail (self, events, "%u pings in a row failed", mero_ping_client_get_failures (self->ping));
          mero_yamux_session_go_away (self->yamux, MERO_YAMUX_GOAWAY_NORMAL);
          return;
        }
    }
  if (self->identify_stream != 0 && now >= self->identify_deadline)
    {
      self->stats.identify_failures++;
      mero_yamux_stream_reset (self->yamux, self->identify_stream);
      g_hash_table_remove (self->streams, GUINT_TO_POINTER (self->identify_stream));
      self->identify_stream = 0;
    }
}

static ConnStream *
app_stream (MeroConnection *self, guint32 stream_id, GError **error)
{
  ConnStream *cs = g_hash_table_lookup (self->streams, GUINT_TO_POINTER (stream_id));

  if (cs == NULL || cs->kind != KIND_APP)
    {
      g_set_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_INVALID_STREAM,
                   "stream %u is not an open application stream", stream_id);
      return NULL;
    }
  return cs;
}

static gboolean
check_ready (MeroConnection *self, GError **error)
{
  if (self->phase == PHASE_DONE)
    {
      g_set_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_CLOSED,
                   "connection closed: %s", self->close_reason != NULL ? self->close_reason : "closed");
      return FALSE;
    }
  if (self->state != MERO_CONNECTION_STATE_READY)
    {
      g_set_error (error, MERO_CONNECTION_ERROR, MERO_CONNECTION_ERROR_NOT_READY,
                   "connection is not ready for streams yet");
      return FALSE;
    }
  return TRUE;
}

/* Opens a stream proposing @protocol; what it becomes once agreed is
 * decided by the protocol (mero-connection-streams.c). */
static guint32
open_negotiating_stream (MeroConnection *self, const char *protocol, GError **error)
{
  const char *proposals[] = { protocol, NULL };
  g_autoptr(GBytes) out = NULL;
  ConnStream *cs;
  guint32 id;

  if (!check_ready (self, error))
    return 0;
  id = mero_yamux_session_open_stream (self->yamux, error);
  if (id == 0)
    return 0;
  cs = conn_stream_new (id, FALSE, KIND_NEGOTIATING, protocol);
  cs->ms = mero_multistream_new_initiator (proposals);
  out = mero_multistream_pull_send (cs->ms);
  g_byte_array_append (cs->pending_out, g_bytes_get_data (out, NULL), (guint) g_bytes_get_size (out));
  g_hash_table_insert (self->streams, GUINT_TO_POINTER (id), cs);
  conn_streams_flush (self);
  return id;
}

guint32
mero_connection_open_stream (MeroConnection *self, const char *protocol, GError **error)
{
  g_return_val_if_fail (self != NULL && protocol != NULL, 0);

  return open_negotiating_stream (self, protocol, error);
}

gssize
mero_connection_stream_write (MeroConnection *self, guint32 stream_id, const guint8 *data,
                              gsize len, GError **error)
{
  g_return_val_if_fail (self != NULL, -1);

  if (!check_ready (self, error) || app_stream (self, stream_id, error) == NULL)
    return -1;
  return mero_yamux_stream_write (self->yamux, stream_id, data, len, error);
}

gsize
mero_connection_stream_read (MeroConnection *self, guint32 stream_id, guint8 *buf, gsize len)
{
  ConnStream *cs;
  gsize n = 0;

  g_return_val_if_fail (self != NULL, 0);

  if (self->yamux == NULL || (cs = app_stream (self, stream_id, NULL)) == NULL)
    return 0;
  /* Bytes that arrived together with the negotiation come first. */
  if (cs->pending_in->len > 0)
    {
      n = MIN (len, cs->pending_in->len);
      memcpy (buf, cs->pending_in->data, n);
      g_byte_array_remove_range (cs->pending_in, 0, (guint) n);
    }
  if (n < len)
    n += mero_yamux_stream_read (self->yamux, stream_id, buf + n, len - n);
  if (cs->remote_closed && cs->local_closed && cs->pending_in->len == 0 &&
      mero_yamux_stream_get_readable (self->yamux, stream_id) == 0)
    conn_streams_forget (self, cs);
  return n;
}

gboolean
mero_connection_stream_close (MeroConnection *self, guint32 stream_id, GError **error)
{
  ConnStream *cs;

  g_return_val_if_fail (self != NULL, FALSE);

  if (!check_ready (self, error) || (cs = app_stream (self, stream_id, error)) == NULL)
    return FALSE;
  if (!mero_yamux_stream_close (self->yamux, stream_id, error))
    return FALSE;
  cs->local_closed = TRUE;
  /* The peer's FIN and every byte were already read: nothing will read
   * this stream again, so it is forgotten now (as the read would). */
  if (cs->remote_closed && cs->pending_in->len == 0 &&
      mero_yamux_stream_get_readable (self->yamux, stream_id) == 0)
    conn_streams_forget (self, cs);
  return TRUE;
}

void
mero_connection_stream_reset (MeroConnection *self, guint32 stream_id)
{
  ConnStream *cs;

  g_return_if_fail (self != NULL);

  if (self->yamux == NULL || (cs = app_stream (self, stream_id, NULL)) == NULL)
    return;
  mero_yamux_stream_reset (self->yamux, stream_id);
  conn_streams_forget (self, cs);
}

gboolean
mero_connection_ping (MeroConnection *self, const guint8 payload[MERO_PING_PAYLOAD_LEN],
                      gint64 now, GError **error)
{
  g_return_val_if_fail (self != NULL && payload != NULL, FALSE);

  if (!check_ready (self, error))
    return FALSE;
  if (!mero_ping_client_start (self->ping, payload, now, error))
    return FALSE;
  if (self->ping_stream == 0)
    {
      self->ping_stream = open_negotiating_stream (self, MERO_PING_PROTOCOL_ID, error);
      if (self->ping_stream == 0)
        {
          mero_ping_client_fail (self->ping);
          self->stats.pings_failed++;
          return FALSE;
        }
      self->ping_agreed = FALSE;
    }
  if (self->ping_agreed)
    {
      ConnStream *cs = g_hash_table_lookup (self->streams, GUINT_TO_POINTER (self->ping_stream));

      g_byte_array_append (cs->pending_out, payload, MERO_PING_PAYLOAD_LEN);
      conn_streams_flush (self);
    }
  else
    {
      memcpy (self->ping_payload, payload, MERO_PING_PAYLOAD_LEN);
      self->ping_payload_pending = TRUE;
    }
  return TRUE;
}

void
mero_connection_close (MeroConnection *self)
{
  g_return_if_fail (self != NULL);

  if (self->phase == PHASE_DONE)
    return;
  if (self->yamux != NULL)
    mero_yamux_session_go_away (self->yamux, MERO_YAMUX_GOAWAY_NORMAL);
  g_free (self->close_reason);
  self->close_reason = g_strdup ("closed locally");
  self->state = MERO_CONNECTION_STATE_CLOSED;
  self->phase = PHASE_DONE;
}

MeroConnectionState
mero_connection_get_state (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, MERO_CONNECTION_STATE_CLOSED);

  return self->state;
}

MeroConnectionRole
mero_connection_get_role (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, MERO_CONNECTION_ROLE_DIALER);

  return self->role;
}

const MeroPeerId *
mero_connection_get_remote_peer (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->tls != NULL)
    return mero_tls_get_remote_peer (self->tls);
  return self->noise != NULL ? mero_noise_get_remote_peer (self->noise) : NULL;
}

const char *
mero_connection_get_security (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  if (self->tls != NULL)
    return MERO_TLS_PROTOCOL_ID;
  return self->noise != NULL ? MERO_NOISE_PROTOCOL_ID : NULL;
}

const MeroIdentifyInfo *
mero_connection_get_remote_identify (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->remote_identify;
}

const char *
mero_connection_get_close_reason (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->close_reason;
}

guint
mero_connection_get_n_streams (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->streams);
}

const MeroConnectionStats *
mero_connection_get_stats (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return &self->stats;
}

gboolean
mero_connection_get_muxer_inlined (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->muxer_inlined;
}

gint64
mero_connection_get_ping_rtt (const MeroConnection *self)
{
  g_return_val_if_fail (self != NULL, -1);

  return mero_ping_client_get_last_rtt (self->ping);
}
