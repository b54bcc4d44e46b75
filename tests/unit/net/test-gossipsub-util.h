/* test-gossipsub-util.h: helpers for the gossipsub router tests: peers
 * from fixed seeds, hand-built RPCs, and draining a router's output. */
#pragma once

#include <sodium.h>
#include <string.h>

#include "net/core/mero-gossipsub-router.h"
#include "net/core/mero-gossipsub-rpc.h"

#include "net-test-util.h"

#define SEC G_USEC_PER_SEC

static inline void
gs_test_seed (guint8 seed[MERO_ED25519_SEED_LEN], guint8 fill)
{
  memset (seed, fill, MERO_ED25519_SEED_LEN);
}

/* The PeerId of the Ed25519 key with seed @fill repeated. */
static inline MeroPeerId *
gs_test_peer_id (guint8 fill)
{
  guint8 seed[MERO_ED25519_SEED_LEN], pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];

  gs_test_seed (seed, fill);
  crypto_sign_seed_keypair (pk, sk, seed);
  return mero_peer_id_new_from_ed25519 (pk);
}

static inline MeroGossipsubRouter *
gs_test_router (const MeroGossipsubConfig *config, guint8 fill, guint64 rng_seed, gint64 now)
{
  MeroGossipsubConfig defaults;
  guint8 seed[MERO_ED25519_SEED_LEN];

  if (config == NULL)
    {
      mero_gossipsub_config_init (&defaults);
      config = &defaults;
    }
  gs_test_seed (seed, fill);
  return mero_gossipsub_router_new (config, seed, (guint64) fill << 32, rng_seed, now);
}

/* Feeds an encoded @rpc from @peer; asserts it is accepted. */
static inline void
gs_test_feed (MeroGossipsubRouter *router, const MeroPeerId *peer, const MeroGossipsubRpc *rpc,
              gint64 now)
{
  g_autoptr(GBytes) wire = mero_gossipsub_rpc_encode (rpc);
  g_autoptr(GError) error = NULL;

  g_assert_true (mero_gossipsub_router_receive (router, peer, g_bytes_get_data (wire, NULL),
                                                g_bytes_get_size (wire), now, &error));
  g_assert_no_error (error);
}

static inline void
gs_test_feed_subscribe (MeroGossipsubRouter *router, const MeroPeerId *peer, const char *topic,
                        gboolean subscribe, gint64 now)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();

  mero_gossipsub_rpc_add_subscription (rpc, subscribe, topic);
  gs_test_feed (router, peer, rpc, now);
}

/* Everything @router queued for @peer, decoded and merged into one RPC;
 * output for other peers is discarded. */
static inline MeroGossipsubRpc *
gs_test_drain_for (MeroGossipsubRouter *router, const MeroPeerId *peer)
{
  MeroGossipsubRpc *all = mero_gossipsub_rpc_new ();
  GBytes *wire;
  MeroPeerId *to = NULL;

  while ((wire = mero_gossipsub_router_pull_rpc (router, &to)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(MeroGossipsubRpc) rpc = NULL;

      g_assert_cmpuint (g_bytes_get_size (wire), <=, MERO_GOSSIPSUB_MAX_RPC_SIZE);
      rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), &error);
      g_assert_no_error (error);
      if (peer != NULL && mero_peer_id_equal (to, peer))
        {
          g_ptr_array_extend_and_steal (all->subscriptions, g_steal_pointer (&rpc->subscriptions));
          rpc->subscriptions = g_ptr_array_new ();
          g_ptr_array_extend_and_steal (all->messages, g_steal_pointer (&rpc->messages));
          rpc->messages = g_ptr_array_new ();
          g_ptr_array_extend_and_steal (all->ihave, g_steal_pointer (&rpc->ihave));
          rpc->ihave = g_ptr_array_new ();
          g_ptr_array_extend_and_steal (all->iwant, g_steal_pointer (&rpc->iwant));
          rpc->iwant = g_ptr_array_new ();
          g_ptr_array_extend_and_steal (all->graft, g_steal_pointer (&rpc->graft));
          rpc->graft = g_ptr_array_new ();
          g_ptr_array_extend_and_steal (all->prune, g_steal_pointer (&rpc->prune));
          rpc->prune = g_ptr_array_new ();
        }
      g_clear_pointer (&to, mero_peer_id_free);
      g_bytes_unref (wire);
    }
  return all;
}

static inline gboolean
gs_test_has_topic (GPtrArray *topics, const char *topic)
{
  for (guint i = 0; i < topics->len; i++)
    if (g_strcmp0 (g_ptr_array_index (topics, i), topic) == 0)
      return TRUE;
  return FALSE;
}

static inline gboolean
gs_test_has_prune (const MeroGossipsubRpc *rpc, const char *topic, guint64 *backoff_s)
{
  for (guint i = 0; i < rpc->prune->len; i++)
    {
      MeroGossipsubPrune *p = g_ptr_array_index (rpc->prune, i);

      if (g_strcmp0 (p->topic, topic) == 0)
        {
          if (backoff_s != NULL)
            *backoff_s = p->has_backoff ? p->backoff_s : 0;
          return TRUE;
        }
    }
  return FALSE;
}

static inline guint64
gs_test_drops (MeroGossipsubRouter *router, MeroGossipsubDrop drop)
{
  return mero_gossipsub_router_get_stats (router)->drops[drop];
}

static inline guint
gs_test_count_deliveries (MeroGossipsubRouter *router)
{
  MeroGossipsubDelivery *d;
  guint n = 0;

  while ((d = mero_gossipsub_router_pull_delivery (router)) != NULL)
    {
      mero_gossipsub_delivery_free (d);
      n++;
    }
  return n;
}
