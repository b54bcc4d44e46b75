/* Fuzz target: a peer's SyncHandshake (/calimero/stream/sync/1 and the
 * first frame of every sync protocol stream, sync/mero-sync-handshake.h).
 * Whatever decodes is within the bounds and survives its own encoding
 * unchanged. */
#include <string.h>

#include "fuzz-target.h"
#include "sync/mero-sync-handshake.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (MeroSyncHello) hello = mero_sync_hello_decode (data, size, NULL);
  g_autoptr (MeroSyncHello) again = NULL;
  g_autoptr (GBytes) encoded = NULL;

  if (hello == NULL)
    return 0;
  g_assert (hello->heads->len <= MERO_SYNC_HANDSHAKE_MAX_HEADS);
  g_assert (hello->refusal == NULL || strlen (hello->refusal) < MERO_SYNC_HANDSHAKE_MAX_REFUSAL);
  encoded = mero_sync_hello_encode (hello);
  g_assert (g_bytes_get_size (encoded) <= MERO_SYNC_HANDSHAKE_MAX_BYTES);
  again = mero_sync_hello_decode (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded),
                                  NULL);
  g_assert (again != NULL);
  g_assert (memcmp (again->context_id, hello->context_id, 32) == 0);
  g_assert (memcmp (again->root_hash, hello->root_hash, 32) == 0);
  g_assert (again->heads->len == hello->heads->len);
  g_assert (hello->heads->len == 0
            || memcmp (again->heads->data, hello->heads->data, (gsize) hello->heads->len * 32)
                   == 0);
  g_assert (again->entity_count == hello->entity_count);
  g_assert (again->max_depth == hello->max_depth);
  g_assert (g_strcmp0 (again->refusal, hello->refusal) == 0);
  return 0;
}
