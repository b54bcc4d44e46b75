/* Unit tests for the gossipsub message (StrictSign) and RPC codec, with
 * a vector produced by @chainsafe/libp2p-gossipsub 14.1.2's own signing,
 * message id and RPC code (tests/interop/gen-gossipsub-vector.mjs). */
#include <sodium.h>

#include "net/core/mero-gossipsub-rpc.h"

#include "net-test-util.h"

/* Author: Ed25519 seed of 32 bytes 0x03; topic "mero-topic"; data
 * "hello gossip"; seqno as js drew it. */
#define JS_FROM "002408011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
#define JS_SEQNO "75ac68dc745b8b27"
#define JS_KEY "08011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
#define JS_SIGNATURE \
  "74aa311f7889859a46cc3aa579763e2e0473b77ca5017eec1b8f56322ffd41532255681c31fa9065bb508d4142a1fa20" \
  "c14efac733fcb79df4cecf1f2c24320a"
#define JS_MESSAGE \
  "0a26002408011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1120c68656c6c6f20" \
  "676f737369701a0875ac68dc745b8b27220a6d65726f2d746f7069632a4074aa311f7889859a46cc3aa579763e2e0473" \
  "b77ca5017eec1b8f56322ffd41532255681c31fa9065bb508d4142a1fa20c14efac733fcb79df4cecf1f2c24320a3224" \
  "08011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d1"
#define JS_ID \
  "08011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636c14614ac8737d175ac68dc745b8b27"
#define JS_RPC \
  "0a0e0801120a6d65726f2d746f70696312b4010a26002408011220ed4928c628d1c2c6eae90338905995612959273a5c" \
  "63f93636c14614ac8737d1120c68656c6c6f20676f737369701a0875ac68dc745b8b27220a6d65726f2d746f7069632a" \
  "4074aa311f7889859a46cc3aa579763e2e0473b77ca5017eec1b8f56322ffd41532255681c31fa9065bb508d4142a1fa" \
  "20c14efac733fcb79df4cecf1f2c24320a322408011220ed4928c628d1c2c6eae90338905995612959273a5c63f93636" \
  "c14614ac8737d1"

static MeroGossipsubMessage *
js_message_fields (void)
{
  MeroGossipsubMessage *m = mero_gossipsub_message_new ();

  m->from = net_test_hex (JS_FROM);
  m->data = g_bytes_new_static ("hello gossip", 12);
  m->seqno = net_test_hex (JS_SEQNO);
  m->topic = g_strdup ("mero-topic");
  return m;
}

static void
assert_gbytes (GBytes *b, const char *hex)
{
  g_assert_nonnull (b);
  net_test_assert_bytes (g_bytes_get_data (b, NULL), g_bytes_get_size (b), hex);
}

static void
test_decode_js (void)
{
  g_autoptr(GBytes) wire = net_test_hex (JS_RPC);
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL),
                                                               g_bytes_get_size (wire), &error);
  g_autoptr(GBytes) id = NULL;
  MeroGossipsubSubscription *sub;
  MeroGossipsubMessage *m;

  g_assert_no_error (error);
  g_assert_cmpuint (rpc->subscriptions->len, ==, 1);
  sub = g_ptr_array_index (rpc->subscriptions, 0);
  g_assert_true (sub->subscribe);
  g_assert_cmpstr (sub->topic, ==, "mero-topic");
  g_assert_cmpuint (rpc->messages->len, ==, 1);
  m = g_ptr_array_index (rpc->messages, 0);
  assert_gbytes (m->from, JS_FROM);
  assert_gbytes (m->seqno, JS_SEQNO);
  assert_gbytes (m->key, JS_KEY);
  assert_gbytes (m->signature, JS_SIGNATURE);
  g_assert_cmpmem (g_bytes_get_data (m->data, NULL), g_bytes_get_size (m->data), "hello gossip", 12);
  g_assert_true (mero_gossipsub_message_verify_strict_sign (m, &error));
  g_assert_no_error (error);
  id = mero_gossipsub_message_id (m);
  assert_gbytes (id, JS_ID);
}

/* Ed25519 is deterministic: signing the same fields gives js's bytes. */
static void
test_sign_like_js (void)
{
  g_autoptr(MeroGossipsubMessage) m = js_message_fields ();
  g_autoptr(GBytes) to_sign = mero_gossipsub_message_signing_bytes (m);
  g_autoptr(GBytes) encoded = NULL;
  g_autoptr(GBytes) rpc_bytes = NULL;
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
  guint8 seed[32], pk[32], sk[64], sig[64];

  g_assert (sodium_init () >= 0);
  memset (seed, 3, sizeof seed);
  crypto_sign_seed_keypair (pk, sk, seed);
  g_assert_true (g_str_has_prefix (g_bytes_get_data (to_sign, NULL), "libp2p-pubsub:"));
  crypto_sign_detached (sig, NULL, g_bytes_get_data (to_sign, NULL), g_bytes_get_size (to_sign), sk);
  net_test_assert_bytes (sig, sizeof sig, JS_SIGNATURE);
  m->signature = g_bytes_new (sig, sizeof sig);
  m->key = net_test_hex (JS_KEY);
  encoded = mero_gossipsub_message_encode (m);
  assert_gbytes (encoded, JS_MESSAGE);
  g_assert_true (mero_gossipsub_message_verify_strict_sign (m, NULL));

  mero_gossipsub_rpc_add_subscription (rpc, TRUE, "mero-topic");
  g_ptr_array_add (rpc->messages, g_steal_pointer (&m));
  rpc_bytes = mero_gossipsub_rpc_encode (rpc);
  assert_gbytes (rpc_bytes, JS_RPC);
}

static MeroGossipsubMessage *
signed_js_message (void)
{
  MeroGossipsubMessage *m = js_message_fields ();

  m->signature = net_test_hex (JS_SIGNATURE);
  m->key = net_test_hex (JS_KEY);
  return m;
}

static void
expect_invalid (MeroGossipsubMessage *m, MeroGossipsubError code)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (mero_gossipsub_message_verify_strict_sign (m, &error));
  g_assert_error (error, MERO_GOSSIPSUB_ERROR, (gint) code);
  mero_gossipsub_message_free (m);
}

static void
test_strict_sign_rejects (void)
{
  MeroGossipsubMessage *m;
  guint8 other_pk[32];

  m = signed_js_message ();
  g_bytes_unref (m->data);
  m->data = g_bytes_new_static ("hello gossiq", 12);
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_BAD_SIGNATURE);

  m = signed_js_message ();
  g_bytes_unref (m->seqno);
  m->seqno = net_test_hex ("01020304050607");
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_INVALID_SEQNO);

  m = signed_js_message ();
  g_clear_pointer (&m->seqno, g_bytes_unref);
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_INVALID_SEQNO);

  m = signed_js_message ();
  g_clear_pointer (&m->signature, g_bytes_unref);
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_NO_SIGNATURE);

  m = signed_js_message ();
  g_clear_pointer (&m->topic, g_free);
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_NO_TOPIC);

  m = signed_js_message ();
  g_bytes_unref (m->from);
  m->from = net_test_hex ("ff 03 010203");
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_INVALID_FROM);

  /* A key field that is not the key inlined in from. */
  m = signed_js_message ();
  g_bytes_unref (m->key);
  memset (other_pk, 7, sizeof other_pk);
  {
    guint8 pb[36] = { 0x08, 0x01, 0x12, 0x20 };

    memcpy (pb + 4, other_pk, 32);
    m->key = g_bytes_new (pb, sizeof pb);
  }
  expect_invalid (m, MERO_GOSSIPSUB_ERROR_INVALID_KEY);

  /* Without the key field the inlined key still verifies (js too). */
  m = signed_js_message ();
  g_clear_pointer (&m->key, g_bytes_unref);
  g_assert_true (mero_gossipsub_message_verify_strict_sign (m, NULL));
  mero_gossipsub_message_free (m);
}

static void
test_control_roundtrip (void)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
  g_autoptr(MeroGossipsubRpc) back = NULL;
  g_autoptr(GBytes) wire = NULL;
  g_autoptr(GError) error = NULL;
  MeroGossipsubIHave *ih = g_new0 (MeroGossipsubIHave, 1);
  MeroGossipsubPrune *p;

  ih->topic = g_strdup ("t1");
  ih->message_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (ih->message_ids, g_bytes_new_static ("id-1", 4));
  g_ptr_array_add (ih->message_ids, g_bytes_new_static ("id-2", 4));
  g_ptr_array_add (rpc->ihave, ih);
  g_ptr_array_add (rpc->iwant, g_bytes_new_static ("id-3", 4));
  g_ptr_array_add (rpc->graft, g_strdup ("t2"));
  mero_gossipsub_rpc_add_prune (rpc, "t3", TRUE, 60);
  mero_gossipsub_rpc_add_prune (rpc, "t4", FALSE, 0);
  g_ptr_array_add (rpc->idontwant, g_bytes_new_static ("id-4", 4));
  mero_gossipsub_rpc_add_subscription (rpc, FALSE, "t5");
  wire = mero_gossipsub_rpc_encode (rpc);
  back = mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->ihave->len, ==, 1);
  ih = g_ptr_array_index (back->ihave, 0);
  g_assert_cmpstr (ih->topic, ==, "t1");
  g_assert_cmpuint (ih->message_ids->len, ==, 2);
  g_assert_cmpuint (back->iwant->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (back->graft, 0), ==, "t2");
  g_assert_cmpuint (back->prune->len, ==, 2);
  p = g_ptr_array_index (back->prune, 0);
  g_assert_cmpstr (p->topic, ==, "t3");
  g_assert_true (p->has_backoff);
  g_assert_cmpuint (p->backoff_s, ==, 60);
  p = g_ptr_array_index (back->prune, 1);
  g_assert_false (p->has_backoff);
  g_assert_cmpuint (back->idontwant->len, ==, 1);
  g_assert_false (((MeroGossipsubSubscription *) g_ptr_array_index (back->subscriptions, 0))->subscribe);
  g_assert_cmpuint (mero_gossipsub_rpc_count_ids (back), ==, 4);
}

static void
expect_decode_error (GBytes *wire, MeroGossipsubError code)
{
  g_autoptr(GError) error = NULL;

  g_assert_null (mero_gossipsub_rpc_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire),
                                            &error));
  g_assert_error (error, MERO_GOSSIPSUB_ERROR, (gint) code);
}

static void
test_bounds (void)
{
  /* Too many message ids. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(GBytes) wire = NULL;

    for (guint i = 0; i <= MERO_GOSSIPSUB_MAX_IDS; i++)
      g_ptr_array_add (rpc->iwant, g_bytes_new_static ("x", 1));
    wire = mero_gossipsub_rpc_encode (rpc);
    expect_decode_error (wire, MERO_GOSSIPSUB_ERROR_TOO_LARGE);
  }
  /* Message data above 1 MiB. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(GBytes) wire = NULL;
    MeroGossipsubMessage *m = mero_gossipsub_message_new ();

    m->data = g_bytes_new_take (g_malloc0 (MERO_GOSSIPSUB_MAX_MESSAGE_DATA + 1),
                                MERO_GOSSIPSUB_MAX_MESSAGE_DATA + 1);
    m->topic = g_strdup ("t");
    g_ptr_array_add (rpc->messages, m);
    wire = mero_gossipsub_rpc_encode (rpc);
    expect_decode_error (wire, MERO_GOSSIPSUB_ERROR_TOO_LARGE);
  }
  /* A topic longer than the bound. */
  {
    g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
    g_autoptr(GBytes) wire = NULL;
    g_autofree char *topic = g_strnfill (MERO_GOSSIPSUB_MAX_TOPIC_LEN + 1, 'a');

    mero_gossipsub_rpc_add_subscription (rpc, TRUE, topic);
    wire = mero_gossipsub_rpc_encode (rpc);
    expect_decode_error (wire, MERO_GOSSIPSUB_ERROR_TOO_LARGE);
  }
  /* Garbage, and an unknown field that must be skipped. */
  {
    g_autoptr(GBytes) garbage = net_test_hex ("ff ff ff ff");
    g_autoptr(GBytes) unknown = net_test_hex ("7a 02 0102  0a 03 0a 01 74");
    g_autoptr(GError) error = NULL;
    g_autoptr(MeroGossipsubRpc) rpc = NULL;

    expect_decode_error (garbage, MERO_GOSSIPSUB_ERROR_MALFORMED);
    rpc = mero_gossipsub_rpc_decode (g_bytes_get_data (unknown, NULL), g_bytes_get_size (unknown),
                                     &error);
    g_assert_no_error (error);
    g_assert_cmpuint (rpc->subscriptions->len, ==, 1);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/gossipsub/decode-js", test_decode_js);
  g_test_add_func ("/net/gossipsub/sign-like-js", test_sign_like_js);
  g_test_add_func ("/net/gossipsub/strict-sign-rejects", test_strict_sign_rejects);
  g_test_add_func ("/net/gossipsub/control-roundtrip", test_control_roundtrip);
  g_test_add_func ("/net/gossipsub/bounds", test_bounds);
  return g_test_run ();
}
