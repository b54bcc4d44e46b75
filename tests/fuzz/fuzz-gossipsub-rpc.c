/* fuzz-gossipsub-rpc.c: the gossipsub RPC decoder; whatever it accepts
 * must re-encode and decode again, and every message must survive
 * StrictSign verification and id computation (valid or not). */
#include <glib.h>

#include "fuzz-target.h"
#include "net/core/mero-gossipsub-rpc.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_decode (data, size, NULL);
  g_autoptr(MeroGossipsubRpc) again = NULL;
  g_autoptr(GBytes) wire = NULL;

  if (rpc == NULL)
    return 0;
  for (guint i = 0; i < rpc->messages->len; i++)
    {
      MeroGossipsubMessage *m = g_ptr_array_index (rpc->messages, i);
      g_autoptr(GBytes) id = mero_gossipsub_message_id (m);

      mero_gossipsub_message_verify_strict_sign (m, NULL);
    }
  wire = mero_gossipsub_rpc_encode (rpc);
  again = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), NULL);
  g_assert (again != NULL);
  g_assert (again->messages->len == rpc->messages->len);
  g_assert (mero_gossipsub_rpc_count_ids (again) == mero_gossipsub_rpc_count_ids (rpc));
  return 0;
}
