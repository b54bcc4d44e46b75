/* Unit tests for one gossipsub router driven by hand-built RPCs from
 * fake peers: js-exact publishing, validation drops, flood limits,
 * GRAFT/PRUNE backoff and fanout. */
#include "net/core/mero-lp-frame.h"

#include "test-gossipsub-util.h"

#define TOPIC "mero-topic"

/* From tests/interop/gen-gossipsub-vector.mjs (js 14.1.2 signs the
 * message itself; see test-gossipsub.c): author seed 0x03 × 32. */
#define JS_SEQNO G_GUINT64_CONSTANT (0x75ac68dc745b8b27)
#define JS_MESSAGE \
  "0a26002408011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1120c68656c6c6f20" \
  "676f737369701a0875ac68dc745b8b27220a6d65726f2d746f7069632a4074aa311f7889859a46cc3aa579763e2e0473" \
  "b77ca5017eec1b8f56322ffd41532255681c31fa9065bb508d4142a1fa20c14efac733fcb79df4cecf1f2c24320a3224" \
  "08011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
#define JS_ID \
  "08011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d175ac68dc745b8b27"

/* Our publish produces byte for byte the message js builds for the same
 * author, seqno, topic and data, and js's message id. */
static void
test_publish_like_js (void)
{
  MeroGossipsubConfig config;
  guint8 seed[MERO_ED25519_SEED_LEN];
  g_autoptr(MeroGossipsubRouter) r = NULL;
  g_autoptr(MeroPeerId) peer = gs_test_peer_id (0x44);
  g_autoptr(GBytes) id = NULL;
  g_autoptr(MeroGossipsubRpc) out = NULL;
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GError) error = NULL;

  mero_gossipsub_config_init (&config);
  gs_test_seed (seed, 0x03);
  r = mero_gossipsub_router_new (&config, seed, JS_SEQNO, 1, 0);
  g_assert_true (mero_gossipsub_router_add_peer (r, peer, TRUE, 0));
  gs_test_feed_subscribe (r, peer, TOPIC, TRUE, 0);

  id = mero_gossipsub_router_publish (r, TOPIC, (const guint8 *) "hello gossip", 12, 0, &error);
  g_assert_no_error (error);
  net_test_assert_bytes (g_bytes_get_data (id, NULL), g_bytes_get_size (id), JS_ID);

  out = gs_test_drain_for (r, peer);
  g_assert_cmpuint (out->messages->len, ==, 1);
  encoded = mero_gossipsub_message_encode (g_ptr_array_index (out->messages, 0));
  net_test_assert_bytes (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), JS_MESSAGE);
  g_assert_true (mero_gossipsub_message_verify_strict_sign (g_ptr_array_index (out->messages, 0), NULL));
  g_assert_cmpuint (mero_gossipsub_router_get_stats (r)->messages_published, ==, 1);
}

/* js's own RPC (its subscription and a message it signed) fed as it
 * arrives from a js peer: delivered once, with js's message id. */
#define JS_RPC \
  "0a0e0801120a6d65726f2d746f70696312b4010a26002408011220ed4928c628d1c2c6eae90338905995612959273a5c" \
  "63f93636c14614ac8737d1120c68656c6c6f20676f737369701a0875ac68dc745b8b27220a6d65726f2d746f7069632a" \
  "4074aa311f7889859a46cc3aa579763e2e0473b77ca5017eec1b8f56322ffd41532255681c31fa9065bb508d4142a1fa" \
  "20c14efac733fcb79df4cecf1f2c24320a322408011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636" \
  "c14614ac8737d1"

static void
test_receive_js (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) js = gs_test_peer_id (0x03);
  g_autoptr(GBytes) wire = net_test_hex (JS_RPC);
  g_autoptr(MeroGossipsubDelivery) d = NULL;
  g_auto(GStrv) topics = NULL;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, js, FALSE, 0));
  for (guint i = 0; i < 2; i++)
    g_assert_true (mero_gossipsub_router_receive (r, js, g_bytes_get_data (wire, NULL),
                                                  g_bytes_get_size (wire), 0, NULL));
  topics = mero_gossipsub_router_get_peer_topics (r, js);
  g_assert_cmpstrv (topics, ((const char *[]) { TOPIC, NULL }));
  d = mero_gossipsub_router_pull_delivery (r);
  g_assert_nonnull (d);
  net_test_assert_bytes (g_bytes_get_data (d->id, NULL), g_bytes_get_size (d->id), JS_ID);
  g_assert_true (mero_peer_id_equal (d->author, js));
  g_assert_null (mero_gossipsub_router_pull_delivery (r));
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_DUPLICATE), ==, 1);
}

/* A valid message on TOPIC by the author with seed @fill (a router of
 * its own signs it). */
static MeroGossipsubMessage *
signed_message (guint8 fill, const char *topic, const char *data)
{
  g_autoptr(MeroGossipsubRouter) author = gs_test_router (NULL, fill, 1, 0);
  g_autoptr(MeroPeerId) sink = gs_test_peer_id (0xee);
  g_autoptr(MeroGossipsubRpc) out = NULL;
  g_autoptr(GBytes) id = NULL;

  g_assert_true (mero_gossipsub_router_add_peer (author, sink, TRUE, 0));
  gs_test_feed_subscribe (author, sink, topic, TRUE, 0);
  id = mero_gossipsub_router_publish (author, topic, (const guint8 *) data, strlen (data), 0, NULL);
  g_assert_nonnull (id);
  out = gs_test_drain_for (author, sink);
  g_assert_cmpuint (out->messages->len, ==, 1);
  return mero_gossipsub_message_copy (g_ptr_array_index (out->messages, 0));
}

static void
feed_message (MeroGossipsubRouter *r, const MeroPeerId *peer, const MeroGossipsubMessage *msg)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();

  g_ptr_array_add (rpc->messages, mero_gossipsub_message_copy (msg));
  gs_test_feed (r, peer, rpc, 0);
}

static GBytes *
flip_byte (GBytes *b, gsize at)
{
  gsize len;
  guint8 *copy = g_memdup2 (g_bytes_get_data (b, &len), g_bytes_get_size (b));

  copy[at % len] ^= 0x01;
  return g_bytes_new_take (copy, len);
}

/* Subscribed router R, a fake peer F that sends us messages. */
static void
test_validation_drops (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroGossipsubMessage) good = signed_message (0x05, TOPIC, "good");
  g_autoptr(MeroGossipsubMessage) other = signed_message (0x06, TOPIC, "other");
  g_autoptr(MeroGossipsubDelivery) d = NULL;

  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));

  /* Bad signature. */
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_bytes_unref (m->signature);
    m->signature = flip_byte (good->signature, 7);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 1);
  }
  /* Tampered data under the original signature. */
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_bytes_unref (m->data);
    m->data = g_bytes_new_static ("evil", 4);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 2);
  }
  /* Missing signature, seqno, from; short seqno. */
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_clear_pointer (&m->signature, g_bytes_unref);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_NO_SIGNATURE), ==, 1);
  }
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_clear_pointer (&m->seqno, g_bytes_unref);
    feed_message (r, f, m);
    g_bytes_unref (g_steal_pointer (&m->signature));
    m->signature = g_bytes_ref (good->signature);
    m->seqno = g_bytes_new_static ("1234567", 7);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_INVALID_SEQNO), ==, 2);
  }
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_clear_pointer (&m->from, g_bytes_unref);
    feed_message (r, f, m);
    m->from = g_bytes_new_static ("\x00\x24\x08", 3); /* truncated identity multihash */
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_INVALID_FROM), ==, 2);
  }
  /* Forged from: another author's id with the real signer's key, and
   * with no key at all (the signature then fails under from's key). */
  {
    g_autoptr(MeroGossipsubMessage) m = mero_gossipsub_message_copy (good);

    g_bytes_unref (m->from);
    m->from = g_bytes_ref (other->from);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_INVALID_KEY), ==, 1);
    g_clear_pointer (&m->key, g_bytes_unref);
    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BAD_SIGNATURE), ==, 3);
  }
  /* Nothing invalid was delivered, and none of it shadows the real
   * message: it is delivered once, its duplicate dropped. */
  g_assert_null (mero_gossipsub_router_pull_delivery (r));
  feed_message (r, f, good);
  feed_message (r, f, good);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_DUPLICATE), ==, 1);
  d = mero_gossipsub_router_pull_delivery (r);
  g_assert_nonnull (d);
  g_assert_cmpstr (d->topic, ==, TOPIC);
  g_assert_true (g_bytes_equal (d->seqno, good->seqno));
  g_assert_cmpmem (g_bytes_get_data (d->data, NULL), g_bytes_get_size (d->data), "good", 4);
  g_assert_true (mero_peer_id_equal (d->received_from, f));
  {
    g_autoptr(MeroPeerId) author = gs_test_peer_id (0x05);

    g_assert_true (mero_peer_id_equal (d->author, author));
  }
  g_assert_null (mero_gossipsub_router_pull_delivery (r));

  /* A topic we are not in. */
  {
    g_autoptr(MeroGossipsubMessage) m = signed_message (0x05, "elsewhere", "x");

    feed_message (r, f, m);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_NOT_SUBSCRIBED), ==, 1);
  }
}

/* Data above 1 MiB: our publish refuses it, and an RPC carrying it is
 * rejected whole; both counted. */
static void
test_oversize (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autofree guint8 *big = g_malloc0 (MERO_GOSSIPSUB_MAX_MESSAGE_DATA + 1);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) id = NULL;
  g_autoptr(MeroGossipsubMessage) m = signed_message (0x05, TOPIC, "x");
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
  g_autoptr(GBytes) wire = NULL;

  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  id = mero_gossipsub_router_publish (r, TOPIC, big, MERO_GOSSIPSUB_MAX_MESSAGE_DATA + 1, 0, &error);
  g_assert_null (id);
  g_assert_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_OVERSIZE), ==, 1);
  g_clear_error (&error);

  g_bytes_unref (m->data);
  m->data = g_bytes_new (big, MERO_GOSSIPSUB_MAX_MESSAGE_DATA + 1);
  g_ptr_array_add (rpc->messages, g_steal_pointer (&m));
  wire = mero_gossipsub_rpc_encode (rpc);
  g_assert_false (mero_gossipsub_router_receive (r, f, g_bytes_get_data (wire, NULL),
                                                 g_bytes_get_size (wire), 0, &error));
  g_assert_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_RPC_TOO_LARGE), ==, 1);
  g_clear_error (&error);

  /* Exactly 1 MiB is fine. */
  g_clear_pointer (&id, g_bytes_unref);
  id = mero_gossipsub_router_publish (r, TOPIC, big, MERO_GOSSIPSUB_MAX_MESSAGE_DATA, 0, &error);
  g_assert_no_error (error);

  /* Garbage and unknown peers are refused and counted. */
  g_assert_false (mero_gossipsub_router_receive (r, f, (const guint8 *) "\xff\xff\xff", 3, 0, NULL));
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_RPC_MALFORMED), ==, 1);
  {
    g_autoptr(MeroPeerId) stranger = gs_test_peer_id (0x77);

    g_assert_false (mero_gossipsub_router_receive (r, stranger, (const guint8 *) "", 0, 0, NULL));
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_UNKNOWN_PEER), ==, 1);
  }
}

static GBytes *
message_id_of (const MeroGossipsubMessage *m)
{
  return mero_gossipsub_message_id (m);
}

/* IHAVE/IWANT bounds: IHAVEs per heartbeat, IWANT retransmissions,
 * unknown ids, and the send queue of a peer that never reads. */
static void
test_flood_limits (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroGossipsubMessage) m = signed_message (0x05, TOPIC, "cached");
  g_autoptr(GBytes) id = message_id_of (m);

  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  mero_gossipsub_rpc_free (gs_test_drain_for (r, NULL));

  /* 11 IHAVEs in one heartbeat, each with one unseen id: 10 are
   * answered with IWANT, the 11th is a flood. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(MeroGossipsubRpc) out = NULL;

    for (guint i = 0; i < MERO_GOSSIPSUB_MAX_IHAVE_MESSAGES + 1; i++)
      {
        MeroGossipsubIHave *ih = g_new0 (MeroGossipsubIHave, 1);
        guint8 fake[44] = { 0 };

        fake[0] = (guint8) i;
        ih->topic = g_strdup (TOPIC);
        ih->message_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
        g_ptr_array_add (ih->message_ids, g_bytes_new (fake, sizeof fake));
        g_ptr_array_add (rpc->ihave, ih);
      }
    gs_test_feed (r, f, rpc, 0);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_IHAVE_FLOOD), ==, 1);
    out = gs_test_drain_for (r, f);
    g_assert_cmpuint (out->iwant->len, ==, MERO_GOSSIPSUB_MAX_IHAVE_MESSAGES);
  }

  /* The peer gives us a message, then asks for it 4 times: answered
   * MERO_GOSSIPSUB_GOSSIP_RETRANSMISSION times.  An unknown id is
   * counted too. */
  feed_message (r, f, m);
  g_assert_cmpuint (gs_test_count_deliveries (r), ==, 1);
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(MeroGossipsubRpc) out = NULL;

    for (guint i = 0; i < MERO_GOSSIPSUB_GOSSIP_RETRANSMISSION + 1; i++)
      g_ptr_array_add (rpc->iwant, g_bytes_ref (id));
    g_ptr_array_add (rpc->iwant, g_bytes_new_static ("nope", 4));
    gs_test_feed (r, f, rpc, 0);
    out = gs_test_drain_for (r, f);
    g_assert_cmpuint (out->messages->len, ==, MERO_GOSSIPSUB_GOSSIP_RETRANSMISSION);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_IWANT_FLOOD), ==, 1);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_IWANT_UNKNOWN), ==, 1);
  }

  /* A peer that never reads: its queue stops at the bound. */
  gs_test_feed_subscribe (r, f, TOPIC, TRUE, 0);
  for (guint i = 0; i < MERO_GOSSIPSUB_MAX_PEER_QUEUE_MESSAGES + 5; i++)
    {
      g_autoptr(GBytes) pid = mero_gossipsub_router_publish (r, TOPIC, (const guint8 *) "q", 1, 0, NULL);

      g_assert_nonnull (pid);
    }
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_SEND_QUEUE_FULL), ==, 5);
  {
    g_autoptr(MeroGossipsubRpc) out = gs_test_drain_for (r, f);

    g_assert_cmpuint (out->messages->len, ==, MERO_GOSSIPSUB_MAX_PEER_QUEUE_MESSAGES);
  }

  /* Topics per peer. */
  for (guint i = 0; i < MERO_GOSSIPSUB_MAX_TOPICS_PER_PEER + 3; i++)
    {
      g_autofree char *topic = g_strdup_printf ("t%u", i);

      gs_test_feed_subscribe (r, f, topic, TRUE, 0);
    }
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_PEER_TOPICS), ==, 3 + 1 /* TOPIC */);
  {
    g_auto(GStrv) topics = mero_gossipsub_router_get_peer_topics (r, f);

    g_assert_cmpuint (g_strv_length (topics), ==, MERO_GOSSIPSUB_MAX_TOPICS_PER_PEER);
  }
}

static gboolean
has_graft (const MeroGossipsubRpc *rpc, const char *topic)
{
  for (guint i = 0; i < rpc->graft->len; i++)
    if (g_strcmp0 (g_ptr_array_index (rpc->graft, i), topic) == 0)
      return TRUE;
  return FALSE;
}

static void
prune_from (MeroGossipsubRouter *r, const MeroPeerId *peer, const char *topic, gboolean has_backoff,
            guint64 backoff_s, gint64 now)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();

  mero_gossipsub_rpc_add_prune (rpc, topic, has_backoff, backoff_s);
  gs_test_feed (r, peer, rpc, now);
}

/* A peer's PRUNE backoff keeps us from GRAFTing it until the backoff and
 * one heartbeat of slack have passed; its GRAFT inside the backoff is
 * answered with PRUNE. */
static void
test_prune_backoff (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(GPtrArray) mesh = NULL;
  gint64 now = 0;
  gint64 grafted_at = -1;

  g_assert_true (mero_gossipsub_router_add_peer (r, f, TRUE, now));
  gs_test_feed_subscribe (r, f, TOPIC, TRUE, now);
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, now, NULL));
  {
    g_autoptr(MeroGossipsubRpc) out = gs_test_drain_for (r, f);

    g_assert_true (has_graft (out, TOPIC));
  }
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 1);
  g_clear_pointer (&mesh, g_ptr_array_unref);

  prune_from (r, f, TOPIC, TRUE, 30, now);
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, 0);
  g_assert_true (mero_gossipsub_router_in_backoff (r, TOPIC, f, now));

  /* The peer GRAFTs us anyway at 5 s: PRUNE back, counted. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(MeroGossipsubRpc) out = NULL;
    guint64 backoff = 0;

    g_ptr_array_add (rpc->graft, g_strdup (TOPIC));
    gs_test_feed (r, f, rpc, 5 * SEC);
    out = gs_test_drain_for (r, f);
    g_assert_true (gs_test_has_prune (out, TOPIC, &backoff));
    g_assert_cmpuint (backoff, ==, MERO_GOSSIPSUB_DEFAULT_PRUNE_BACKOFF_S);
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_GRAFT_BACKOFF), ==, 1);
  }

  /* Our heartbeats do not GRAFT it inside the (now extended to 5 + 60 s)
   * backoff plus a heartbeat of slack. */
  for (now = SEC; now <= 80 * SEC; now += SEC)
    {
      g_autoptr(MeroGossipsubRpc) out = NULL;

      mero_gossipsub_router_handle_deadline (r, now);
      out = gs_test_drain_for (r, f);
      if (has_graft (out, TOPIC))
        {
          grafted_at = now;
          break;
        }
    }
  g_assert_cmpint (grafted_at, ==, (5 + 60 + 1) * SEC);

  /* A v1.0 PRUNE without backoff gets the default 60 s. */
  prune_from (r, f, TOPIC, FALSE, 0, now);
  g_assert_true (mero_gossipsub_router_in_backoff (r, TOPIC, f, now + 60 * SEC));
  g_assert_false (mero_gossipsub_router_in_backoff (r, TOPIC, f, now + 61 * SEC));

  /* A GRAFT for a topic we are not in is PRUNEd too. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(MeroGossipsubRpc) out = NULL;

    g_ptr_array_add (rpc->graft, g_strdup ("not-ours"));
    gs_test_feed (r, f, rpc, now);
    out = gs_test_drain_for (r, f);
    g_assert_true (gs_test_has_prune (out, "not-ours", NULL));
    g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_GRAFT_UNSUBSCRIBED), ==, 1);
  }
}

/* Backoffs outlive connections but not without bound: a stream of new
 * identities that PRUNE us fills the table and the excess is counted. */
static void
test_backoff_bound (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  for (guint i = 0; i < MERO_GOSSIPSUB_MAX_BACKOFF_PER_TOPIC + 2; i++)
    {
      guint8 pk[MERO_ED25519_PUBLIC_KEY_LEN] = { 0 };
      g_autoptr(MeroPeerId) p = NULL;

      memcpy (pk, &i, sizeof i);
      p = mero_peer_id_new_from_ed25519 (pk);
      g_assert_true (mero_gossipsub_router_add_peer (r, p, FALSE, 0));
      prune_from (r, p, TOPIC, TRUE, 60, 0);
      mero_gossipsub_router_remove_peer (r, p);
    }
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_BACKOFF_FULL), ==, 2);
}

/* Inbound GRAFTs stop at D_hi; outbound peers still get in (v1.1). */
static void
test_graft_mesh_full (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(GPtrArray) mesh = NULL;
  guint n = MERO_GOSSIPSUB_DEFAULT_D_HI + 2;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  for (guint i = 0; i < n; i++)
    {
      g_autoptr(MeroPeerId) p = gs_test_peer_id ((guint8) (0x10 + i));
      g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
      gboolean outbound = i == n - 1;

      g_assert_true (mero_gossipsub_router_add_peer (r, p, outbound, 0));
      mero_gossipsub_rpc_add_subscription (rpc, TRUE, TOPIC);
      g_ptr_array_add (rpc->graft, g_strdup (TOPIC));
      gs_test_feed (r, p, rpc, 0);
    }
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, MERO_GOSSIPSUB_DEFAULT_D_HI + 1);
  g_assert_cmpuint (gs_test_drops (r, MERO_GOSSIPSUB_DROP_GRAFT_MESH_FULL), ==, 1);
  g_clear_pointer (&mesh, g_ptr_array_unref);

  /* The heartbeat trims an oversubscribed mesh to D. */
  mero_gossipsub_router_handle_deadline (r, SEC);
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, MERO_GOSSIPSUB_DEFAULT_D);
}

/* Without flood publish, a topic we only publish to goes to D fanout
 * peers, which expire fanout_ttl after the last publish; subscribing
 * turns fanout peers into the mesh. */
static void
test_fanout (void)
{
  MeroGossipsubConfig config;
  g_autoptr(MeroGossipsubRouter) r = NULL;
  g_autoptr(GPtrArray) peers = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_peer_id_free);
  g_autoptr(GPtrArray) fanout = NULL;
  g_autoptr(GPtrArray) mesh = NULL;
  g_autoptr(GBytes) id = NULL;
  guint receivers = 0;
  gint64 now = 0;

  mero_gossipsub_config_init (&config);
  config.flood_publish = FALSE;
  r = gs_test_router (&config, 0x01, 7, 0);
  for (guint i = 0; i < 9; i++)
    {
      MeroPeerId *p = gs_test_peer_id ((guint8) (0x10 + i));

      g_ptr_array_add (peers, p);
      g_assert_true (mero_gossipsub_router_add_peer (r, p, TRUE, 0));
      gs_test_feed_subscribe (r, p, TOPIC, TRUE, 0);
    }
  id = mero_gossipsub_router_publish (r, TOPIC, (const guint8 *) "f", 1, 0, NULL);
  g_assert_nonnull (id);
  fanout = mero_gossipsub_router_get_fanout_peers (r, TOPIC);
  g_assert_cmpuint (fanout->len, ==, MERO_GOSSIPSUB_DEFAULT_D);
  g_clear_pointer (&fanout, g_ptr_array_unref);
  {
    MeroPeerId *to = NULL;
    GBytes *wire;

    while ((wire = mero_gossipsub_router_pull_rpc (r, &to)) != NULL)
      {
        g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL),
                                                                     g_bytes_get_size (wire), NULL);

        receivers += rpc->messages->len;
        g_bytes_unref (wire);
        g_clear_pointer (&to, mero_peer_id_free);
      }
  }
  g_assert_cmpuint (receivers, ==, MERO_GOSSIPSUB_DEFAULT_D);

  /* Kept while we keep publishing within the TTL... */
  for (now = SEC; now <= 30 * SEC; now += SEC)
    mero_gossipsub_router_handle_deadline (r, now);
  fanout = mero_gossipsub_router_get_fanout_peers (r, TOPIC);
  g_assert_cmpuint (fanout->len, ==, MERO_GOSSIPSUB_DEFAULT_D);
  g_clear_pointer (&fanout, g_ptr_array_unref);
  /* ...and gone fanout_ttl after the last publish. */
  for (; now <= 61 * SEC; now += SEC)
    mero_gossipsub_router_handle_deadline (r, now);
  fanout = mero_gossipsub_router_get_fanout_peers (r, TOPIC);
  g_assert_cmpuint (fanout->len, ==, 0);
  g_clear_pointer (&fanout, g_ptr_array_unref);

  /* Publish again, then subscribe: the fanout becomes the mesh. */
  g_clear_pointer (&id, g_bytes_unref);
  id = mero_gossipsub_router_publish (r, TOPIC, (const guint8 *) "g", 1, now, NULL);
  fanout = mero_gossipsub_router_get_fanout_peers (r, TOPIC);
  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, now, NULL));
  mesh = mero_gossipsub_router_get_mesh_peers (r, TOPIC);
  g_assert_cmpuint (mesh->len, ==, MERO_GOSSIPSUB_DEFAULT_D);
  for (guint i = 0; i < fanout->len; i++)
    g_assert_true (mero_peer_id_equal (g_ptr_array_index (fanout, i), g_ptr_array_index (mesh, i)));
  g_clear_pointer (&fanout, g_ptr_array_unref);
  fanout = mero_gossipsub_router_get_fanout_peers (r, TOPIC);
  g_assert_cmpuint (fanout->len, ==, 0);
}

/* Our first RPC to a new peer carries our subscriptions; unsubscribing
 * PRUNEs the mesh with the unsubscribe backoff. */
static void
test_subscribe_announce (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroGossipsubRpc) out = NULL;
  g_autoptr(MeroGossipsubRpc) out2 = NULL;
  guint64 backoff = 0;
  MeroGossipsubSubscription *s;

  g_assert_true (mero_gossipsub_router_subscribe (r, "a", 0, NULL));
  g_assert_true (mero_gossipsub_router_subscribe (r, "b", 0, NULL));
  g_assert_false (mero_gossipsub_router_subscribe (r, "", 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  g_assert_false (mero_gossipsub_router_add_peer (r, f, FALSE, 0));
  out = gs_test_drain_for (r, f);
  g_assert_cmpuint (out->subscriptions->len, ==, 2);

  /* The peer joins "a" and GRAFTs us; we leave "a". */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();

    mero_gossipsub_rpc_add_subscription (rpc, TRUE, "a");
    g_ptr_array_add (rpc->graft, g_strdup ("a"));
    gs_test_feed (r, f, rpc, 0);
  }
  mero_gossipsub_router_unsubscribe (r, "a", 0);
  g_assert_false (mero_gossipsub_router_is_subscribed (r, "a"));
  out2 = gs_test_drain_for (r, f);
  g_assert_cmpuint (out2->subscriptions->len, ==, 1);
  s = g_ptr_array_index (out2->subscriptions, 0);
  g_assert_false (s->subscribe);
  g_assert_cmpstr (s->topic, ==, "a");
  g_assert_true (gs_test_has_prune (out2, "a", &backoff));
  g_assert_cmpuint (backoff, ==, MERO_GOSSIPSUB_DEFAULT_UNSUBSCRIBE_BACKOFF_S);

  /* Removing the peer forgets it everywhere. */
  mero_gossipsub_router_remove_peer (r, f);
  {
    g_auto(GStrv) topics = mero_gossipsub_router_get_peer_topics (r, f);

    g_assert_cmpuint (g_strv_length (topics), ==, 0);
  }
  g_assert_null (mero_gossipsub_router_pull_rpc (r, NULL));
  g_assert_null (mero_gossipsub_router_pull_frame (r, NULL));
  g_assert_cmpstr (mero_gossipsub_drop_to_string (MERO_GOSSIPSUB_DROP_IWANT_FLOOD), ==, "iwant_flood");
}

/* pull_frame writes what a js peer reads: uvarint(len) || RPC. */
static void
test_pull_frame (void)
{
  g_autoptr(MeroGossipsubRouter) r = gs_test_router (NULL, 0x01, 1, 0);
  g_autoptr(MeroPeerId) f = gs_test_peer_id (0x02);
  g_autoptr(MeroPeerId) to = NULL;
  g_autoptr(GBytes) frame = NULL;
  g_autoptr(GBytes) payload = NULL;
  g_autoptr(MeroLpDecoder) dec = mero_lp_decoder_new (MERO_GOSSIPSUB_MAX_RPC_SIZE);
  g_autoptr(MeroGossipsubRpc) rpc = NULL;
  gsize consumed = 0;

  g_assert_true (mero_gossipsub_router_subscribe (r, TOPIC, 0, NULL));
  g_assert_true (mero_gossipsub_router_add_peer (r, f, TRUE, 0));
  frame = mero_gossipsub_router_pull_frame (r, &to);
  g_assert_true (mero_peer_id_equal (to, f));
  g_assert_true (mero_lp_decoder_feed (dec, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                       &consumed, &payload, NULL));
  g_assert_cmpuint (consumed, ==, g_bytes_get_size (frame));
  g_assert_nonnull (payload);
  rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (payload, NULL), g_bytes_get_size (payload), NULL);
  g_assert_cmpuint (rpc->subscriptions->len, ==, 1);
  /* js's first RPC is `0a <len> 08 01 12 <len> topic`; so is ours. */
  net_test_assert_bytes (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                         "10 0a0e 0801 120a 6d65726f2d746f706963");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/net/gossipsub-router/publish-like-js", test_publish_like_js);
  g_test_add_func ("/net/gossipsub-router/receive-js", test_receive_js);
  g_test_add_func ("/net/gossipsub-router/validation-drops", test_validation_drops);
  g_test_add_func ("/net/gossipsub-router/oversize", test_oversize);
  g_test_add_func ("/net/gossipsub-router/flood-limits", test_flood_limits);
  g_test_add_func ("/net/gossipsub-router/prune-backoff", test_prune_backoff);
  g_test_add_func ("/net/gossipsub-router/backoff-bound", test_backoff_bound);
  g_test_add_func ("/net/gossipsub-router/graft-mesh-full", test_graft_mesh_full);
  g_test_add_func ("/net/gossipsub-router/fanout", test_fanout);
  g_test_add_func ("/net/gossipsub-router/subscribe-announce", test_subscribe_announce);
  g_test_add_func ("/net/gossipsub-router/pull-frame", test_pull_frame);
  return g_test_run ();
}
