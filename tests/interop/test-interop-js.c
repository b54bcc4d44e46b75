/* test-interop-js.c: merod's network against a real js-libp2p 2.8.8 peer
 * (js-peer.mjs), over TCP on 127.0.0.1, both directions:
 *
 *   c-dials-js: we dial js, muxer inlined in the Noise handshake;
 *   js-dials-c: js dials us, muxer negotiated with multistream-select.
 *
 * Each checks Noise + yamux come up, identify both ways (js sees our
 * public key and protocols, we see js's), ping both ways (ours every 2 s,
 * js's three), and that the connection stays up for 12 s, long enough
 * for js's connection monitor to ping us at 10 s.  Gossipsub on the same
 * connection: both subscribe to one topic (js with StrictSign, emitSelf
 * false), each publishes N_GOSSIP messages once it sees the other in the
 * topic, and each message is delivered exactly once to the other side
 * with the right author.  A mesh test then puts 3 of our networks and 2
 * js peers in a ring (c0–j0–c1–j1–c2–c0) and checks every message from
 * any of them reaches all four others exactly once, relayed by both
 * kinds of router.  Exits 77 (skip) when
 * tests/interop/node_modules is missing: run `npm ci --prefix tests/interop`. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>

#include "net/core/mero-gossipsub-router.h"
#include "net/mero-key-codec.h"
#include "net/transport/mero-network.h"
#include "mero-test-js-peer.h"

#define OUR_PROTOCOL "/calimero/stream/interop/1"
#define STAY_S 13
#define STEP_TIMEOUT_US (20 * G_USEC_PER_SEC)
#define TOPIC "merod-interop"
#define N_GOSSIP 3

static char *interop_dir;

typedef struct
{
  MeroIdentity *identity;
  char *peer_id;
  char *key_hex;
  MeroNetwork *net;
  GPtrArray *net_events;  /* MeroNetEvent */
  MeroTestJsPeer js;
} Ctx;

static void
on_net_event (MeroNetEvent *event, gpointer data)
{
  Ctx *ctx = data;

  g_ptr_array_add (ctx->net_events, event);
}

static void
ctx_init_full (Ctx *ctx, guint8 seed_byte, gboolean inline_muxer, MeroNetSecurity security)
{
  guint8 seed[32], key_pb[MERO_ED25519_PUBLIC_KEY_PROTOBUF_LEN];
  const char *listen[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  const char *protocols[] = { OUR_PROTOCOL, NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  memset (ctx, 0, sizeof *ctx);
  memset (seed, seed_byte, sizeof seed);
  ctx->identity = mero_identity_new_from_seed (seed);
  ctx->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (ctx->identity));
  mero_key_codec_encode_ed25519_public (mero_identity_get_public_key (ctx->identity), key_pb);
  ctx->key_hex = g_malloc (sizeof key_pb * 2 + 1);
  sodium_bin2hex (ctx->key_hex, sizeof key_pb * 2 + 1, key_pb, sizeof key_pb);
  ctx->net_events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  mero_test_js_peer_init (&ctx->js, NULL);
  config.listen_addrs = listen;
  config.stream_protocols = protocols;
  config.ping_interval_us = 2 * G_USEC_PER_SEC;
  config.disable_inline_muxer = !inline_muxer;
  config.security = security;
  ctx->net = mero_network_new (&config, ctx->identity);
  g_assert_true (mero_network_start (ctx->net, g_main_context_default (), on_net_event, ctx, &error));
  g_assert_no_error (error);
  g_assert_true (mero_network_subscribe (ctx->net, TOPIC, &error));
  g_assert_no_error (error);
}

static void
ctx_init (Ctx *ctx, guint8 seed_byte, gboolean inline_muxer)
{
  ctx_init_full (ctx, seed_byte, inline_muxer, MERO_NET_SECURITY_NOISE_FIRST);
}

static void
ctx_spawn_js (Ctx *ctx, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_ptr_array_add (argv, (gpointer) "node");
  g_ptr_array_add (argv, (gpointer) "js-peer.mjs");
  g_ptr_array_add (argv, (gpointer) "--topic");
  g_ptr_array_add (argv, (gpointer) TOPIC);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  mero_test_js_peer_spawn (&ctx->js, interop_dir, (const char *const *) argv->pdata);
}

static void
ctx_clear (Ctx *ctx)
{
  mero_test_js_peer_clear (&ctx->js);
  g_clear_pointer (&ctx->net, mero_network_free);
  g_clear_pointer (&ctx->net_events, g_ptr_array_unref);
  g_clear_pointer (&ctx->identity, mero_identity_free);
  g_clear_pointer (&ctx->peer_id, g_free);
  g_clear_pointer (&ctx->key_hex, g_free);
}

static JsonObject *
find_js (Ctx *ctx, const char *event, guint skip)
{
  for (guint i = 0; i < ctx->js.events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (ctx->js.events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), event) == 0 &&
          skip-- == 0)
        return o;
    }
  return NULL;
}

static MeroNetEvent *
find_net (Ctx *ctx, MeroNetEventType type, guint skip)
{
  for (guint i = 0; i < ctx->net_events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (ctx->net_events, i);

      if (ev->type == type && skip-- == 0)
        return ev;
    }
  return NULL;
}

static void
iterate_until (gint64 deadline)
{
  if (!g_main_context_iteration (NULL, FALSE))
    g_usleep (2000);
  (void) deadline;
}

static JsonObject *
wait_js (Ctx *ctx, const char *event, guint skip)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  JsonObject *o;

  while ((o = find_js (ctx, event, skip)) == NULL && !ctx->js.eof &&
         g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  if (o == NULL)
    g_test_message ("js event '%s' #%u never came", event, skip + 1);
  return o;
}

static MeroNetEvent *
wait_net (Ctx *ctx, MeroNetEventType type, guint skip)
{
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  MeroNetEvent *ev;

  while ((ev = find_net (ctx, type, skip)) == NULL && g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  return ev;
}

static gboolean
json_array_has (JsonObject *o, const char *member, const char *value)
{
  JsonArray *a = json_object_get_array_member (o, member);

  for (guint i = 0; a != NULL && i < json_array_get_length (a); i++)
    if (g_strcmp0 (json_array_get_string_element (a, i), value) == 0)
      return TRUE;
  return FALSE;
}

static guint
count_js_messages (Ctx *ctx, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < ctx->js.events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (ctx->js.events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "message") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "data", ""), data) == 0)
        {
          g_assert_cmpstr (json_object_get_string_member (o, "topic"), ==, TOPIC);
          g_assert_cmpstr (json_object_get_string_member (o, "from"), ==, ctx->peer_id);
          n++;
        }
    }
  return n;
}

static guint
count_net_messages (Ctx *ctx, const char *js_peer, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < ctx->net_events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (ctx->net_events, i);

      if (ev->type == MERO_NET_EVENT_MESSAGE && g_bytes_get_size (ev->data) == strlen (data) &&
          memcmp (g_bytes_get_data (ev->data, NULL), data, strlen (data)) == 0)
        {
          g_assert_cmpstr (ev->topic, ==, TOPIC);
          g_assert_cmpstr (ev->author, ==, js_peer);
          g_assert_cmpstr (ev->peer_id, ==, js_peer);
          /* js StrictSign id: PublicKey protobuf (36) || seqno (8). */
          g_assert_cmpuint (g_bytes_get_size (ev->message_id), ==, 44);
          n++;
        }
    }
  return n;
}

/* js joins our topic, we publish N_GOSSIP messages and it receives them;
 * its own N_GOSSIP reach us. */
static void
check_gossip (Ctx *ctx, const char *js_peer)
{
  MeroNetEvent *ev;
  gint64 deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  gint64 published_at;
  gboolean all;

  ev = wait_net (ctx, MERO_NET_EVENT_SUBSCRIBED, 0);
  g_assert_nonnull (ev);
  g_assert_cmpstr (ev->peer_id, ==, js_peer);
  g_assert_cmpstr (ev->topic, ==, TOPIC);
  published_at = g_get_monotonic_time ();
  for (guint i = 0; i < N_GOSSIP; i++)
    {
      g_autofree char *text = g_strdup_printf ("c-msg-%u", i);
      g_autoptr(GBytes) data = g_bytes_new (text, strlen (text));
      g_autoptr(GError) error = NULL;

      g_assert_true (mero_network_publish (ctx->net, TOPIC, data, &error));
      g_assert_no_error (error);
    }
  do
    {
      all = TRUE;
      for (guint i = 0; i < N_GOSSIP && all; i++)
        {
          g_autofree char *ours = g_strdup_printf ("c-msg-%u", i);
          g_autofree char *theirs = g_strdup_printf ("js-msg-%u", i);

          all = count_js_messages (ctx, ours) > 0 && count_net_messages (ctx, js_peer, theirs) > 0;
        }
      if (!all)
        iterate_until (deadline);
    }
  while (!all && g_get_monotonic_time () < deadline);
  g_assert_true (all);
  g_test_message ("gossipsub: %u messages each way within %.1f ms of js joining the topic",
                  N_GOSSIP, (g_get_monotonic_time () - published_at) / 1e3);
}

/* Exactly once, checked once js is done and nothing more can come. */
static void
check_gossip_once (Ctx *ctx, const char *js_peer)
{
  for (guint i = 0; i < N_GOSSIP; i++)
    {
      g_autofree char *ours = g_strdup_printf ("c-msg-%u", i);
      g_autofree char *theirs = g_strdup_printf ("js-msg-%u", i);

      g_assert_cmpuint (count_js_messages (ctx, ours), ==, 1);
      g_assert_cmpuint (count_net_messages (ctx, js_peer, theirs), ==, 1);
    }
  g_assert_null (find_js (ctx, "publish-failed", 0));
}

/* Everything after the connection is up, the same in both directions. */
/* @how: the PEER_CONNECTED message, saying which security and how yamux
 * was agreed. */
static void
check_connection (Ctx *ctx, const char *js_peer, const char *how)
{
  MeroNetEvent *ev;
  JsonObject *o;
  gint64 connected_at;

  ev = wait_net (ctx, MERO_NET_EVENT_PEER_CONNECTED, 0);
  g_assert_nonnull (ev);
  g_assert_cmpstr (ev->peer_id, ==, js_peer);
  g_assert_cmpstr (ev->message, ==, how);
  g_test_message ("connected: %s", ev->message);
  connected_at = g_get_monotonic_time ();

  /* We identify js. */
  ev = wait_net (ctx, MERO_NET_EVENT_PEER_IDENTIFIED, 0);
  g_assert_nonnull (ev);
  g_assert_cmpstr (ev->peer_id, ==, js_peer);
  g_assert_true (g_strv_contains ((const char *const *) ev->protocols, "/ipfs/id/1.0.0"));
  g_assert_true (g_strv_contains ((const char *const *) ev->protocols, "/ipfs/ping/1.0.0"));
  g_assert_nonnull (strstr (ev->message, "js-libp2p/2.8.8"));
  g_test_message ("we identified js: agent %s, %u protocols", ev->message,
                  g_strv_length (ev->protocols));

  /* js identifies us: our key and our protocols. */
  o = wait_js (ctx, "identify", 0);
  g_assert_nonnull (o);
  g_assert_cmpstr (json_object_get_string_member (o, "peer"), ==, ctx->peer_id);
  g_assert_cmpstr (json_object_get_string_member (o, "publicKey"), ==, ctx->key_hex);
  g_assert_true (json_array_has (o, "protocols", OUR_PROTOCOL));
  g_assert_true (json_array_has (o, "protocols", "/ipfs/ping/1.0.0"));
  g_assert_true (json_array_has (o, "protocols", "/ipfs/id/1.0.0"));
  g_assert_true (g_str_has_prefix (json_object_get_string_member (o, "agent"), "merod/"));
  g_assert_true (json_array_has (o, "protocols", "/meshsub/1.1.0"));

  check_gossip (ctx, js_peer);

  /* Ping both ways. */
  for (guint i = 0; i < 3; i++)
    {
      o = wait_js (ctx, "ping", i);
      g_assert_nonnull (o);
      g_test_message ("js → merod ping %u: %" G_GINT64_FORMAT " ms", i + 1,
                      json_object_get_int_member (o, "rtt"));
    }
  for (guint i = 0; i < 2; i++)
    {
      ev = wait_net (ctx, MERO_NET_EVENT_PING, i);
      g_assert_nonnull (ev);
      g_test_message ("merod → js ping %u: %" G_GINT64_FORMAT " µs", i + 1, ev->rtt_us);
    }

  /* Stays up: js stops by itself STAY_S after connecting, having seen no
   * disconnect (its connection monitor pinged us at 10 s). */
  o = wait_js (ctx, "done", 0);
  g_assert_nonnull (o);
  g_assert_cmpint (json_object_get_int_member (o, "disconnects"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (o, "connections"), ==, 1);
  /* js's connection monitor (every 10 s) pinged us successfully. */
  g_assert_true (json_object_has_member (o, "monitorRtt"));
  g_assert_false (json_object_get_null_member (o, "monitorRtt"));
  g_test_message ("js connection monitor RTT: %" G_GINT64_FORMAT " ms",
                  json_object_get_int_member (o, "monitorRtt"));
  g_assert_null (find_js (ctx, "ping-failed", 0));
  check_gossip_once (ctx, js_peer);
  g_assert_cmpint (g_get_monotonic_time () - connected_at, >=, 12 * G_USEC_PER_SEC);
  /* Our pings kept working the whole time (one every 2 s). */
  g_assert_nonnull (find_net (ctx, MERO_NET_EVENT_PING, 4));
  ev = find_net (ctx, MERO_NET_EVENT_PEER_DISCONNECTED, 0);
  g_assert_null (ev);
  {
    guint n_pings = 0;

    while (find_net (ctx, MERO_NET_EVENT_PING, n_pings) != NULL)
      n_pings++;
    g_test_message ("connection up %.1f s, %u of our pings answered by js",
                    (g_get_monotonic_time () - connected_at) / 1e6, n_pings);
  }

  /* js stopping is seen here. */
  g_assert_nonnull (wait_net (ctx, MERO_NET_EVENT_PEER_DISCONNECTED, 0));
}

static void
test_c_dials_js (void)
{
  Ctx ctx;
  g_autofree char *stay = g_strdup_printf ("%d", STAY_S);
  const char *args[] = { "--listen", "--stay", stay, "--pings", "3", NULL };
  JsonObject *o;
  JsonArray *addrs;
  g_autoptr(GError) error = NULL;
  const char *js_peer;

  /* js offers yamux in its Noise payload; so do we here. */
  ctx_init (&ctx, 0x51, TRUE);
  ctx_spawn_js (&ctx, args);
  o = wait_js (&ctx, "listening", 0);
  g_assert_nonnull (o);
  js_peer = json_object_get_string_member (o, "peerId");
  addrs = json_object_get_array_member (o, "addrs");
  g_assert_cmpuint (json_array_get_length (addrs), >=, 1);
  /* js lists /ip4/127.0.0.1/tcp/PORT/p2p/ID: the id is checked by Noise. */
  g_assert_true (mero_network_dial (ctx.net, json_array_get_string_element (addrs, 0), &error));
  g_assert_no_error (error);
  check_connection (&ctx, js_peer, "yamux inlined in noise");
  ctx_clear (&ctx);
}

static void
test_js_dials_c (void)
{
  Ctx ctx;
  g_autofree char *stay = g_strdup_printf ("%d", STAY_S);
  g_auto(GStrv) ours = NULL;
  g_autofree char *target = NULL;
  const char *args[] = { "--dial", NULL, "--stay", stay, "--pings", "3", NULL };
  JsonObject *o;

  /* No offer from us: js negotiates yamux with multistream-select. */
  ctx_init (&ctx, 0x52, FALSE);
  ours = mero_network_get_listen_addrs (ctx.net);
  target = g_strdup_printf ("%s/p2p/%s", ours[0], ctx.peer_id);
  args[1] = target;
  ctx_spawn_js (&ctx, args);
  o = wait_js (&ctx, "listening", 0);
  g_assert_nonnull (o);
  check_connection (&ctx, json_object_get_string_member (o, "peerId"),
                    "yamux via multistream-select");
  g_assert_true (find_net (&ctx, MERO_NET_EVENT_PEER_CONNECTED, 0)->inbound);
  ctx_clear (&ctx);
}

/* --- TLS 1.3 (/tls/1.0.0, @libp2p/tls 2.2.7) --- */

/* js speaks only TLS; we dial with our default (Noise first): js answers
 * `na` to /noise and we fall back to /tls/1.0.0.  Both offer yamux in
 * ALPN, so js (the TLS server) agrees on it there. */
static void
test_c_dials_js_tls (void)
{
  Ctx ctx;
  g_autofree char *stay = g_strdup_printf ("%d", STAY_S);
  const char *args[] = { "--listen", "--security", "tls", "--stay", stay, "--pings", "3", NULL };
  JsonObject *o;
  JsonArray *addrs;
  g_autoptr(GError) error = NULL;

  ctx_init_full (&ctx, 0x53, TRUE, MERO_NET_SECURITY_NOISE_FIRST);
  ctx_spawn_js (&ctx, args);
  o = wait_js (&ctx, "listening", 0);
  g_assert_nonnull (o);
  addrs = json_object_get_array_member (o, "addrs");
  g_assert_cmpuint (json_array_get_length (addrs), >=, 1);
  /* The /p2p/ id is checked against js's certificate. */
  g_assert_true (mero_network_dial (ctx.net, json_array_get_string_element (addrs, 0), &error));
  g_assert_no_error (error);
  check_connection (&ctx, json_object_get_string_member (o, "peerId"), "tls, yamux agreed in alpn");
  ctx_clear (&ctx);
}

/* js dials us with TLS only; we accept only TLS and offer no muxer in
 * ALPN, so we pick "libp2p" and yamux is negotiated inside TLS. */
static void
test_js_dials_c_tls (void)
{
  Ctx ctx;
  g_autofree char *stay = g_strdup_printf ("%d", STAY_S);
  g_auto(GStrv) ours = NULL;
  g_autofree char *target = NULL;
  const char *args[] = { "--dial", NULL, "--security", "tls", "--stay", stay, "--pings", "3", NULL };
  JsonObject *o;

  ctx_init_full (&ctx, 0x54, FALSE, MERO_NET_SECURITY_TLS_ONLY);
  ours = mero_network_get_listen_addrs (ctx.net);
  target = g_strdup_printf ("%s/p2p/%s", ours[0], ctx.peer_id);
  args[1] = target;
  ctx_spawn_js (&ctx, args);
  o = wait_js (&ctx, "listening", 0);
  g_assert_nonnull (o);
  check_connection (&ctx, json_object_get_string_member (o, "peerId"),
                    "tls, yamux via multistream-select");
  g_assert_true (find_net (&ctx, MERO_NET_EVENT_PEER_CONNECTED, 0)->inbound);
  ctx_clear (&ctx);
}

/* --- 3 merod + 2 js in one mesh --- */

#define MESH_C 3
#define MESH_JS 2
#define MESH_MSGS 3

static void
ctx_init_js_only (Ctx *ctx)
{
  memset (ctx, 0, sizeof *ctx);
  ctx->net_events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  mero_test_js_peer_init (&ctx->js, NULL);
}

static guint
net_count_data (Ctx *ctx, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < ctx->net_events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (ctx->net_events, i);

      if (ev->type == MERO_NET_EVENT_MESSAGE && g_bytes_get_size (ev->data) == strlen (data) &&
          memcmp (g_bytes_get_data (ev->data, NULL), data, strlen (data)) == 0)
        n++;
    }
  return n;
}

static guint
js_count_data (Ctx *ctx, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < ctx->js.events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (ctx->js.events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "message") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "data", ""), data) == 0)
        n++;
    }
  return n;
}

/* How often each node got the message @data: -1 for its publisher. */
static gboolean
mesh_delivered (Ctx *c, Ctx *j, const char *data, guint publisher, guint want)
{
  for (guint k = 0; k < MESH_C + MESH_JS; k++)
    {
      guint n = k < MESH_C ? net_count_data (&c[k], data) : js_count_data (&j[k - MESH_C], data);

      if (k == publisher ? n != 0 : (want == 0 ? n == 0 : n != want))
        return FALSE;
    }
  return TRUE;
}

static char *
mesh_message (guint publisher, guint i)
{
  return publisher < MESH_C ? g_strdup_printf ("c%u-msg-%u", publisher, i)
                            : g_strdup_printf ("j%u-msg-%u", publisher - MESH_C, i);
}

static gboolean
mesh_all_delivered (Ctx *c, Ctx *j, guint want)
{
  for (guint p = 0; p < MESH_C + MESH_JS; p++)
    for (guint i = 0; i < MESH_MSGS; i++)
      {
        g_autofree char *data = mesh_message (p, i);

        if (!mesh_delivered (c, j, data, p, want))
          return FALSE;
      }
  return TRUE;
}

static gboolean
mesh_formed (Ctx *c)
{
  for (guint k = 0; k < MESH_C; k++)
    {
      g_auto(GStrv) mesh = mero_network_get_mesh_peers (c[k].net, TOPIC);

      if (g_strv_length (mesh) != 2)
        return FALSE;
    }
  return TRUE;
}

static void
test_mesh (void)
{
  Ctx c[MESH_C], j[MESH_JS];
  const char *js_addr[MESH_JS];
  g_autofree char *publish = g_strdup_printf ("%d", MESH_MSGS);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) c0_addrs = NULL;
  g_autofree char *c0_target = NULL;
  guint64 duplicates_before;
  gint64 deadline, published_at;
  g_autofree char *dup_labels =
    g_strdup_printf ("reason=\"%s\"", mero_gossipsub_drop_to_string (MERO_GOSSIPSUB_DROP_DUPLICATE));

  duplicates_before = mero_metrics_get_counter (NULL, "mero_gossipsub_dropped_total", dup_labels);
  for (guint k = 0; k < MESH_C; k++)
    ctx_init (&c[k], (guint8) (0x61 + k), TRUE);
  for (guint k = 0; k < MESH_JS; k++)
    {
      g_autofree char *tag = g_strdup_printf ("j%u", k);
      /* js publishes 3 s after its first peer joins, once meshes formed. */
      const char *args[] = { "--listen", "--stay", "25", "--pings", "0", "--publish", publish,
                             "--tag", tag, "--publish-delay", "3000", NULL };
      JsonObject *o;

      ctx_init_js_only (&j[k]);
      ctx_spawn_js (&j[k], args);
      o = wait_js (&j[k], "listening", 0);
      g_assert_nonnull (o);
      js_addr[k] = json_array_get_string_element (json_object_get_array_member (o, "addrs"), 0);
    }
  /* The ring c0–j0–c1–j1–c2–c0: every message needs relaying, by js and by us. */
  g_assert_true (mero_network_dial (c[0].net, js_addr[0], &error));
  g_assert_true (mero_network_dial (c[1].net, js_addr[0], &error));
  g_assert_true (mero_network_dial (c[1].net, js_addr[1], &error));
  g_assert_true (mero_network_dial (c[2].net, js_addr[1], &error));
  c0_addrs = mero_network_get_listen_addrs (c[0].net);
  c0_target = g_strdup_printf ("%s/p2p/%s", c0_addrs[0], c[0].peer_id);
  g_assert_true (mero_network_dial (c[2].net, c0_target, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  while (!mesh_formed (c) && g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  g_assert_true (mesh_formed (c));
  /* One more heartbeat, so js has grafted its side too. */
  deadline = g_get_monotonic_time () + 1500 * 1000;
  while (g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  published_at = g_get_monotonic_time ();
  for (guint k = 0; k < MESH_C; k++)
    for (guint i = 0; i < MESH_MSGS; i++)
      {
        g_autofree char *text = mesh_message (k, i);
        g_autoptr(GBytes) data = g_bytes_new (text, strlen (text));

        g_assert_true (mero_network_publish (c[k].net, TOPIC, data, &error));
        g_assert_no_error (error);
      }
  deadline = g_get_monotonic_time () + STEP_TIMEOUT_US;
  while (!mesh_all_delivered (c, j, 0) && g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  for (guint p = 0; p < MESH_C + MESH_JS; p++)
    for (guint i = 0; i < MESH_MSGS; i++)
      {
        g_autofree char *data = mesh_message (p, i);

        if (!mesh_delivered (c, j, data, p, 0))
          g_test_message ("%s did not reach everyone", data);
      }
  g_assert_true (mesh_all_delivered (c, j, 0));
  g_test_message ("mesh of %u merod + %u js: %u messages, all delivered everywhere %.1f ms after ours were published",
                  MESH_C, MESH_JS, (MESH_C + MESH_JS) * MESH_MSGS,
                  (g_get_monotonic_time () - published_at) / 1e3);
  /* Late copies would show up now: each arrived exactly once. */
  deadline = g_get_monotonic_time () + 500 * 1000;
  while (g_get_monotonic_time () < deadline)
    iterate_until (deadline);
  g_assert_true (mesh_all_delivered (c, j, 1));
  g_assert_null (find_js (&j[0], "publish-failed", 0));
  g_assert_null (find_js (&j[1], "publish-failed", 0));
  /* In a ring copies meet: the second copy is dropped and counted. */
  g_assert_cmpuint (mero_metrics_get_counter (NULL, "mero_gossipsub_dropped_total", dup_labels), >,
                    duplicates_before);
  for (guint k = 0; k < MESH_JS; k++)
    ctx_clear (&j[k]);
  for (guint k = 0; k < MESH_C; k++)
    ctx_clear (&c[k]);
}

int
main (int argc, char **argv)
{
  g_autofree char *skip_reason = NULL;

  interop_dir = mero_test_js_interop_dir ("libp2p", &skip_reason);
  if (interop_dir == NULL)
    {
      g_print ("SKIP: %s\n", skip_reason);
      return 77;
    }
  g_test_init (&argc, &argv, NULL);
  g_assert (sodium_init () >= 0);
  g_test_add_func ("/interop/js/c-dials-js", test_c_dials_js);
  g_test_add_func ("/interop/js/js-dials-c", test_js_dials_c);
  g_test_add_func ("/interop/js/c-dials-js-tls", test_c_dials_js_tls);
  g_test_add_func ("/interop/js/js-dials-c-tls", test_js_dials_c_tls);
  g_test_add_func ("/interop/js/mesh-3c-2js", test_mesh);
  return g_test_run ();
}
