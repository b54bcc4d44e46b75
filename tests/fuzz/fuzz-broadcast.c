/* Fuzz target: the node's gossip and stream message decoders
 * (BroadcastMessage, StreamMessage, ContextInvitation-free).
 *
 * Whatever decodes must stay within its bounds and re-encode to bytes that
 * decode to the same message (same kind, ids, counts). */
#include <string.h>

#include "fuzz-target.h"
#include "node/mero-broadcast.h"

static void
check_broadcast (const uint8_t *data, size_t size)
{
  g_autoptr (MeroBroadcast) msg = mero_broadcast_decode (data, size, NULL);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (MeroBroadcast) back = NULL;

  if (msg == NULL)
    return;
  g_assert (msg->heads->len <= MERO_BROADCAST_MAX_HEADS);
  g_assert (msg->ops->len <= MERO_BROADCAST_MAX_OPS);
  g_assert (msg->added->len <= MERO_BROADCAST_MAX_MEMBERS);
  again = mero_broadcast_encode (msg);
  back = mero_broadcast_decode (g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
  g_assert (back != NULL);
  g_assert (back->kind == msg->kind);
  g_assert (memcmp (back->id, msg->id, MERO_BROADCAST_ID_LEN) == 0);
  g_assert (back->heads->len == msg->heads->len);
  g_assert (back->ops->len == msg->ops->len);
  g_assert ((back->payload == NULL) == (msg->payload == NULL));
  g_assert (back->payload == NULL || g_bytes_equal (back->payload, msg->payload));
}

static void
check_stream (const uint8_t *data, size_t size)
{
  g_autoptr (MeroStreamMsg) msg = mero_stream_msg_decode (data, size, NULL);
  g_autoptr (GBytes) again = NULL;
  g_autoptr (MeroStreamMsg) back = NULL;

  if (msg == NULL)
    return;
  g_assert (msg->ids->len <= MERO_STREAM_MAX_IDS && msg->blobs->len <= MERO_STREAM_MAX_BLOBS);
  g_assert (msg->keys->len <= MERO_STREAM_MAX_KEYS);
  again = mero_stream_msg_encode (msg);
  back = mero_stream_msg_decode (g_bytes_get_data (again, NULL), g_bytes_get_size (again), NULL);
  g_assert (back != NULL);
  g_assert (back->kind == msg->kind);
  g_assert (back->ids->len == msg->ids->len && back->blobs->len == msg->blobs->len);
  g_assert (back->keys->len == msg->keys->len);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  check_broadcast (data, size);
  check_stream (data, size);
  return 0;
}
