/* mero-net-event.c: the values the network hands to the node. */
#include "net/transport/mero-network-private.h"

void
mero_net_event_free (MeroNetEvent *event)
{
  if (event == NULL)
    return;
  g_free (event->peer_id);
  g_free (event->address);
  g_free (event->protocol);
  g_free (event->message);
  g_strfreev (event->protocols);
  g_clear_pointer (&event->stream, mero_net_stream_unref);
  g_clear_pointer (&event->data, g_bytes_unref);
  g_free (event->topic);
  g_free (event->author);
  g_clear_pointer (&event->message_id, g_bytes_unref);
  g_strfreev (event->addresses);
  g_free (event);
}

MeroNetStream *
mero_net_stream_new (guint64 conn_id, guint32 stream_id, gboolean inbound, const char *peer_id,
                     const char *protocol)
{
  MeroNetStream *stream = g_new0 (MeroNetStream, 1);

  g_atomic_ref_count_init (&stream->ref);
  stream->conn_id = conn_id;
  stream->stream_id = stream_id;
  stream->inbound = inbound;
  stream->peer_id = g_strdup (peer_id);
  stream->protocol = g_strdup (protocol);
  return stream;
}

MeroNetStream *
mero_net_stream_ref (MeroNetStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);

  g_atomic_ref_count_inc (&stream->ref);
  return stream;
}

void
mero_net_stream_unref (MeroNetStream *stream)
{
  if (stream == NULL || !g_atomic_ref_count_dec (&stream->ref))
    return;
  g_free (stream->peer_id);
  g_free (stream->protocol);
  g_free (stream);
}

const char *
mero_net_stream_get_peer_id (const MeroNetStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);

  return stream->peer_id;
}

const char *
mero_net_stream_get_protocol (const MeroNetStream *stream)
{
  g_return_val_if_fail (stream != NULL, NULL);

  return stream->protocol;
}

gboolean
mero_net_stream_is_inbound (const MeroNetStream *stream)
{
  g_return_val_if_fail (stream != NULL, FALSE);

  return stream->inbound;
}

void
mero_net_peer_info_free (MeroNetPeerInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->peer_id);
  g_free (info->address);
  g_strfreev (info->protocols);
  g_free (info->agent_version);
  g_free (info);
}
