/* Fuzz target: a yamux session fed arbitrary bytes.  Byte 0 picks the
 * role and chunk size; between chunks the session is driven as a host
 * would (read streams, write back, pull output), so the application paths
 * run on fuzzer-shaped state too.  Memory must stay bounded: the receive
 * buffers by the window, the control queue by its backlog limit. */
#include "fuzz-target.h"
#include "net/core/mero-yamux.h"

static void
drive (MeroYamuxSession *s, GArray *events, gint64 now)
{
  g_autoptr(GByteArray) out = g_byte_array_new ();

  for (guint i = 0; i < events->len; i++)
    {
      const MeroYamuxEvent *ev = &g_array_index (events, MeroYamuxEvent, i);
      guint8 buf[4096];
      gsize n;

      switch (ev->type)
        {
        case MERO_YAMUX_EVENT_STREAM_DATA:
          n = mero_yamux_stream_read (s, ev->stream_id, buf, sizeof buf);
          if (n > 0)
            mero_yamux_stream_write (s, ev->stream_id, buf, n, NULL);
          break;
        case MERO_YAMUX_EVENT_STREAM_CLOSED:
          mero_yamux_stream_close (s, ev->stream_id, NULL);
          break;
        case MERO_YAMUX_EVENT_STREAM_OPENED:
          if (ev->stream_id % 7 == 0)
            mero_yamux_stream_reset (s, ev->stream_id);
          break;
        case MERO_YAMUX_EVENT_STREAM_ACKED:
        case MERO_YAMUX_EVENT_STREAM_RESET:
        case MERO_YAMUX_EVENT_PING:
        case MERO_YAMUX_EVENT_GOAWAY:
        default:
          break;
        }
    }
  g_array_set_size (events, 0);
  mero_yamux_session_handle_deadline (s, now, NULL);
  mero_yamux_session_pull_send (s, out, 100000);
  g_assert_cmpuint (out->len, <=, 100000);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MeroYamuxSession) s = NULL;
  g_autoptr(GArray) events = g_array_new (FALSE, FALSE, sizeof (MeroYamuxEvent));
  gsize chunk;
  gint64 now = 0;

  if (size < 1)
    return 0;
  s = mero_yamux_session_new ((data[0] & 1) ? MERO_YAMUX_ROLE_CLIENT : MERO_YAMUX_ROLE_SERVER);
  mero_yamux_session_set_max_streams (s, 8);
  chunk = (gsize) (data[0] >> 1) * 3 + 1;

  /* Our own activity, so ACKs and window updates have something to match. */
  mero_yamux_session_ping (s, now, NULL);
  for (int i = 0; i < 2; i++)
    {
      guint32 id = mero_yamux_session_open_stream (s, NULL);

      if (id != 0)
        mero_yamux_stream_write (s, id, data, size, NULL);
    }

  for (gsize pos = 1; pos < size;)
    {
      gsize n = MIN (chunk, size - pos);

      now += 1000;
      if (!mero_yamux_session_recv (s, data + pos, n, now, events, NULL))
        {
          g_autoptr(GByteArray) out = g_byte_array_new ();

          /* After a failure the GoAway must still come out. */
          mero_yamux_session_pull_send (s, out, G_MAXSIZE);
          break;
        }
      pos += n;
      drive (s, events, now);
    }
  return 0;
}
