/* fuzz-connection.c: a listening MeroConnection fed hostile bytes.
 *
 * First byte even: the raw socket bytes (security negotiation and the
 * Noise handshake).  Odd: this target dials the listener properly with
 * the cores (multistream /noise, Noise XX, multistream /yamux/1.0.0) and
 * then sends the rest of the input, encrypted, as yamux bytes, so the
 * fuzzer reaches yamux, per-stream negotiation, identify, identify push,
 * ping echo and application streams. */
#include <glib.h>

#include "fuzz-target.h"
#include "net/core/mero-connection.h"
#include "net/core/mero-multistream.h"
#include "noise-test-peer.h"

static const char *const app_protocols[] = { "/calimero/stream/fuzz/1", NULL };
static const char *const app_prefixes[] = { "/calimero/blob/", NULL };

/* Moves the listener's output out; returns it (for the handshake). */
static GByteArray *
drain (MeroConnection *conn)
{
  GByteArray *out = g_byte_array_new ();

  mero_connection_pull_send (conn, out, G_MAXSIZE);
  return out;
}

static void
feed (MeroConnection *conn, const guint8 *data, gsize len, GArray *events)
{
  mero_connection_recv (conn, data, len, 1000, events, NULL);
}

/* Dials @conn; returns the established Noise session, or NULL. */
static MeroNoise *
dial (MeroConnection *conn, NoiseTestPeer *me, GArray *events)
{
  static const char *const noise_ids[] = { "/noise", NULL };
  static const char *const yamux_ids[] = { "/yamux/1.0.0", NULL };
  g_autoptr(MeroMultistream) ms = mero_multistream_new_initiator (noise_ids);
  g_autoptr(MeroMultistream) mux = NULL;
  g_autoptr(MeroNoise) noise = NULL;
  g_autoptr(GBytes) out = mero_multistream_pull_send (ms);
  g_autoptr(GByteArray) back = NULL;
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) leftover = NULL;

  feed (conn, g_bytes_get_data (out, NULL), g_bytes_get_size (out), events);
  back = drain (conn);
  if (!mero_multistream_recv (ms, back->data, back->len, NULL) ||
      mero_multistream_get_state (ms) != MERO_MULTISTREAM_STATE_AGREED)
    return NULL;
  noise = mero_noise_new (MERO_NOISE_ROLE_INITIATOR, &me->config);
  for (guint i = 0; i < 2; i++)
    {
      g_autoptr(GBytes) hs = mero_noise_pull_send (noise);

      if (hs != NULL)
        feed (conn, g_bytes_get_data (hs, NULL), g_bytes_get_size (hs), events);
      g_clear_pointer (&back, g_byte_array_unref);
      back = drain (conn);
      if (back->len > 0 && !mero_noise_recv (noise, back->data, back->len, plain, NULL))
        return NULL;
    }
  if (mero_noise_get_state (noise) != MERO_NOISE_STATE_ESTABLISHED)
    return NULL;
  mux = mero_multistream_new_initiator (yamux_ids);
  g_clear_pointer (&out, g_bytes_unref);
  out = mero_multistream_pull_send (mux);
  mero_noise_write (noise, g_bytes_get_data (out, NULL), g_bytes_get_size (out), NULL);
  g_clear_pointer (&out, g_bytes_unref);
  out = mero_noise_pull_send (noise);
  feed (conn, g_bytes_get_data (out, NULL), g_bytes_get_size (out), events);
  g_clear_pointer (&back, g_byte_array_unref);
  back = drain (conn);
  if (!mero_noise_recv (noise, back->data, back->len, plain, NULL) ||
      !mero_multistream_recv (mux, plain->data, plain->len, NULL) ||
      mero_multistream_get_state (mux) != MERO_MULTISTREAM_STATE_AGREED)
    return NULL;
  return g_steal_pointer (&noise);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  NoiseTestPeer listener_keys, dialer_keys;
  g_autoptr(MeroIdentifyInfo) identify = mero_identify_info_new ();
  g_autoptr(MeroConnection) conn = NULL;
  g_autoptr(GArray) events = mero_connection_events_new ();
  g_autoptr(GByteArray) out = NULL;
  MeroConnectionConfig config = { 0 };

  if (size < 1)
    return 0;
  noise_test_peer_init (&listener_keys, 0x02, 0x22, 0x44, 0x22, NULL);
  noise_test_peer_init (&dialer_keys, 0x01, 0x11, 0x33, 0x11, NULL);
  config.noise = listener_keys.config;
  config.local_identify = identify;
  config.app_protocols = app_protocols;
  config.app_prefixes = app_prefixes;
  conn = mero_connection_new (MERO_CONNECTION_ROLE_LISTENER, &config, 1000);

  if (data[0] % 2 == 0)
    {
      feed (conn, data + 1, (size - 1) / 2, events);
      feed (conn, data + 1 + (size - 1) / 2, size - 1 - (size - 1) / 2, events);
    }
  else
    {
      g_autoptr(MeroNoise) noise = dial (conn, &dialer_keys, events);

      g_assert (noise != NULL);
      mero_noise_write (noise, data + 1, size - 1, NULL);
      for (guint i = 0; i < 1000; i++)
        {
          g_autoptr(GBytes) frames = mero_noise_pull_send (noise);

          if (frames == NULL)
            break;
          feed (conn, g_bytes_get_data (frames, NULL), g_bytes_get_size (frames), events);
        }
    }
  /* Read app streams the way a host would, and let timers fire. */
  for (guint i = 0; i < events->len; i++)
    {
      MeroConnectionEvent *ev = &g_array_index (events, MeroConnectionEvent, i);
      guint8 buf[256];

      if (ev->type == MERO_CONNECTION_EVENT_STREAM_DATA)
        mero_connection_stream_read (conn, ev->stream_id, buf, sizeof buf);
    }
  mero_connection_handle_deadline (conn, 1000 + 60 * G_USEC_PER_SEC, events);
  out = drain (conn);
  noise_test_peer_clear (&listener_keys);
  noise_test_peer_clear (&dialer_keys);
  return 0;
}
