/* Fuzz target: the peer store's inputs (node/mero-peer-store.h).  The
 * first byte picks one: 0, a persisted record (a damaged store); else,
 * newline-separated addresses as a peer's identify listenAddrs or an
 * invitation would bring them.  Whatever is kept must be dialable, within
 * the bounds, and survive its own record unchanged. */
#include <string.h>

#include "fuzz-target.h"
#include "node/mero-peer-store.h"

#define PEER "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"

static void
check_round_trip (MeroPeerStore *store)
{
  g_autoptr (GBytes) record = mero_peer_store_encode_peer (store, PEER);
  g_autoptr (MeroPeerStore) again = mero_peer_store_new (0);
  g_autoptr (GBytes) record_again = NULL;
  g_auto (GStrv) addrs = mero_peer_store_lookup (store, PEER);
  gsize len = 0;
  const guint8 *data;

  g_assert (g_strv_length (addrs) <= MERO_PEER_STORE_MAX_ADDRESSES);
  for (guint i = 0; addrs[i] != NULL; i++)
    g_assert (mero_peer_store_address_is_dialable (addrs[i]));
  if (record == NULL)
    return;
  data = g_bytes_get_data (record, &len);
  g_assert (mero_peer_store_load_peer (again, PEER, data, len));
  record_again = mero_peer_store_encode_peer (again, PEER);
  g_assert (record_again != NULL && g_bytes_equal (record, record_again));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (0);

  if (size < 1 || size > 4096)
    return 0;
  if (data[0] == 0)
    mero_peer_store_load_peer (store, PEER, data + 1, size - 1);
  else
    {
      g_autofree char *text = g_strndup ((const char *) data + 1, size - 1);
      g_auto (GStrv) lines = g_strsplit (text, "\n", 64);

      for (guint i = 0; lines[i] != NULL; i++)
        mero_peer_store_learn (store, PEER, lines[i], 1000 + i);
    }
  check_round_trip (store);
  return 0;
}
