/* fuzz-gossipsub-router.c: a gossipsub router fed a script of events
 * from the input: RPCs from one of four peers, heartbeats, publishes,
 * peers leaving and coming back (with the score they left with).  Every
 * RPC the router produces must decode within the codec's bounds,
 * whatever it was fed; peers the score hands over for disconnection are
 * removed, as the host does.
 *
 * Input: records of `op(1) len(2, big-endian) payload(len)`; op & 3 is
 * the action (0 RPC, 1 advance time by payload[0] seconds, 2 publish,
 * 3 peer leaves and rejoins), op >> 2 picks the peer. */
#include <glib.h>
#include <string.h>

#include "fuzz-target.h"
#include "net/core/mero-gossipsub-router.h"
#include "net/core/mero-gossipsub-rpc.h"

#define N_PEERS 4

static const char *const topics[] = { "mero-topic", "a", "b" };

static MeroPeerId *
peer_id (guint i)
{
  guint8 pk[MERO_ED25519_PUBLIC_KEY_LEN];

  /* Any 32 bytes make a syntactically valid Ed25519 PeerId. */
  memset (pk, 0x40 + (int) i, sizeof pk);
  return mero_peer_id_new_from_ed25519 (pk);
}

static void
drain (MeroGossipsubRouter *r)
{
  GBytes *wire;
  MeroPeerId *to = NULL;
  MeroGossipsubDelivery *d;

  while ((wire = mero_gossipsub_router_pull_rpc (r, &to)) != NULL)
    {
      g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL),
                                                                   g_bytes_get_size (wire), NULL);

      g_assert (rpc != NULL);
      g_clear_pointer (&to, mero_peer_id_free);
      g_bytes_unref (wire);
    }
  while ((d = mero_gossipsub_router_pull_delivery (r)) != NULL)
    mero_gossipsub_delivery_free (d);
}

/* The host closes graylisted peers; here they come straight back. */
static void
disconnect_graylisted (MeroGossipsubRouter *r, gint64 now)
{
  MeroPeerId *gone;

  while ((gone = mero_gossipsub_router_pull_disconnect (r)) != NULL)
    {
      mero_gossipsub_router_remove_peer (r, gone);
      g_assert (mero_gossipsub_router_add_peer (r, gone, FALSE, now));
      mero_peer_id_free (gone);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  MeroGossipsubConfig config;
  guint8 seed[MERO_ED25519_SEED_LEN];
  g_autoptr(MeroGossipsubRouter) r = NULL;
  MeroPeerId *peers[N_PEERS];
  gint64 now = 0;
  gsize at = 0;

  mero_gossipsub_config_init (&config);
  memset (seed, 0x01, sizeof seed);
  r = mero_gossipsub_router_new (&config, seed, 1, 1, now);
  for (guint i = 0; i < G_N_ELEMENTS (topics); i++)
    g_assert (mero_gossipsub_router_subscribe (r, topics[i], now, NULL));
  for (guint i = 0; i < N_PEERS; i++)
    {
      peers[i] = peer_id (i);
      g_assert (mero_gossipsub_router_add_peer (r, peers[i], i % 2 == 0, now));
      /* P6 counts the two peers on a shared non-loopback address. */
      mero_gossipsub_router_set_peer_ip (r, peers[i], i < 2 ? "192.0.2.1" : "127.0.0.1");
    }

  while (at + 3 <= size)
    {
      guint8 op = data[at];
      gsize len = MIN ((gsize) data[at + 1] << 8 | data[at + 2], size - at - 3);
      const guint8 *payload = data + at + 3;
      MeroPeerId *peer = peers[(op >> 2) % N_PEERS];

      at += 3 + len;
      switch (op & 3)
        {
        case 0:
          mero_gossipsub_router_receive (r, peer, payload, len, now, NULL);
          break;
        case 1:
          now += (len > 0 ? payload[0] : 1) * G_USEC_PER_SEC;
          mero_gossipsub_router_handle_deadline (r, now);
          disconnect_graylisted (r, now);
          break;
        case 2:
          g_bytes_unref (mero_gossipsub_router_publish (r, topics[(op >> 2) % G_N_ELEMENTS (topics)],
                                                        payload, len, now, NULL));
          break;
        default:
          mero_gossipsub_router_remove_peer (r, peer);
          g_assert (mero_gossipsub_router_add_peer (r, peer, FALSE, now));
          break;
        }
      drain (r);
    }
  for (guint i = 0; i < N_PEERS; i++)
    mero_peer_id_free (peers[i]);
  return 0;
}
