/* test-interop-stability.c: one connection between our network and a
 * real js-libp2p 2.8.8 peer (js-peer.mjs) stays up for 30 s, in both
 * dial directions and with both security protocols, all at once (four
 * of our networks, four js processes: the wall time stays near 35 s):
 *
 *   c-dials-js: we dial js (with Noise, the muxer inlined in its handshake);
 *   js-dials-c: js dials us (muxer negotiated with multistream-select).
 *
 * For each: js's connection monitor (a ping every 10 s, so three rounds)
 * and our pings (every 5 s) all pass, neither side sees a disconnect,
 * js's gossipsub score on our side is never negative, and gossip still
 * flows at the end: at ~27 s each side publishes
 * N_LATE messages that the other receives exactly once.  At 15 s we
 * start serving a new stream protocol: js learns it from our identify
 * push (/ipfs/id/push/1.0.0).
 *
 * The security protocol is a parameter of the case: noise and tls
 * (js runs only that encrypter, and so do we, so both directions use it;
 * with TLS 1.3, yamux is agreed in ALPN).  Exits 77 (skip) without
 * tests/interop/node_modules (`npm ci --prefix tests/interop`). */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "net/transport/mero-network.h"
#include "mero-test-js-peer.h"

#define TOPIC "merod-stability"
#define STAY_S 30
/* Both sides publish this long after the connection opened. */
#define LATE_MS 27000
#define N_LATE 3
#define OUR_PING_INTERVAL_US (5 * G_USEC_PER_SEC)
/* Halfway, we start serving this protocol: js hears it by identify push. */
#define LATE_PROTOCOL "/merod/stability/late/1"
#define LATE_PROTOCOL_MS 15000
#define TOTAL_TIMEOUT_US ((STAY_S + 30) * G_USEC_PER_SEC)

static char *interop_dir;

typedef struct
{
  const char *name;
  const char *security;
  gboolean we_dial;
  MeroIdentity *identity;
  MeroMetrics *metrics;
  char *peer_id;
  MeroNetwork *net;
  GPtrArray *net_events;  /* MeroNetEvent */
  MeroTestJsPeer js;
  char *js_peer;
  gboolean dialed;
  gint64 connected_at;    /* PEER_CONNECTED, monotonic µs */
  gboolean published;
  gboolean added_protocol;
  /* Our events when js said "done": a js that finishes before the other
   * cases stops a second later, and that disconnect is not a failure. */
  guint events_at_done;
  /* js's gossipsub score on our side, polled: a well-behaved peer is
   * never penalised. */
  gboolean js_scored;
  double js_min_score;
  gint64 next_score_poll;
} Case;

static void
on_net_event (MeroNetEvent *event, gpointer data)
{
  Case *c = data;

  if (event->type == MERO_NET_EVENT_PEER_CONNECTED && c->connected_at == 0)
    c->connected_at = g_get_monotonic_time ();
  g_ptr_array_add (c->net_events, event);
}

static JsonObject *
find_js (Case *c, const char *event)
{
  for (guint i = 0; i < c->js.events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (c->js.events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), event) == 0)
        return o;
    }
  return NULL;
}

/* Our events of @type until js said "done". */
static guint
count_net (Case *c, MeroNetEventType type)
{
  guint n = 0;
  guint end = c->events_at_done > 0 ? c->events_at_done : c->net_events->len;

  for (guint i = 0; i < end; i++)
    if (((MeroNetEvent *) g_ptr_array_index (c->net_events, i))->type == type)
      n++;
  return n;
}

static void
case_start (Case *c, const char *name, gboolean we_dial, guint8 seed_byte, const char *security)
{
  guint8 seed[32];
  const char *listen[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) addrs = NULL;

  memset (c, 0, sizeof *c);
  c->name = name;
  c->security = security;
  c->we_dial = we_dial;
  memset (seed, seed_byte, sizeof seed);
  c->identity = mero_identity_new_from_seed (seed);
  c->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (c->identity));
  c->metrics = mero_metrics_new ();
  c->net_events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  mero_test_js_peer_init (&c->js, name);
  config.listen_addrs = listen;
  config.ping_interval_us = OUR_PING_INTERVAL_US;
  config.metrics = c->metrics;
  /* Only the protocol under test, so nothing else can carry the case. */
  config.security = g_strcmp0 (security, "tls") == 0 ? MERO_NET_SECURITY_TLS_ONLY
                                                      : MERO_NET_SECURITY_NOISE_ONLY;
  c->net = mero_network_new (&config, c->identity);
  g_assert_true (mero_network_start (c->net, g_main_context_default (), on_net_event, c, &error));
  g_assert_no_error (error);
  g_assert_true (mero_network_subscribe (c->net, TOPIC, &error));
  g_assert_no_error (error);
  addrs = mero_network_get_listen_addrs (c->net);

  g_ptr_array_add (argv, g_strdup ("node"));
  g_ptr_array_add (argv, g_strdup ("js-peer.mjs"));
  if (we_dial)
    g_ptr_array_add (argv, g_strdup ("--listen"));
  else
    {
      g_ptr_array_add (argv, g_strdup ("--dial"));
      g_ptr_array_add (argv, g_strdup_printf ("%s/p2p/%s", addrs[0], c->peer_id));
    }
  /* Only a non-default security protocol is passed: js-peer.mjs runs
   * noise without the option. */
  if (g_strcmp0 (security, "noise") != 0)
    {
      g_ptr_array_add (argv, g_strdup ("--security"));
      g_ptr_array_add (argv, g_strdup (security));
    }
  g_ptr_array_add (argv, g_strdup ("--identify-push"));
  g_ptr_array_add (argv, g_strdup ("--stay"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", STAY_S + 2));
  g_ptr_array_add (argv, g_strdup ("--pings"));
  g_ptr_array_add (argv, g_strdup ("2"));
  g_ptr_array_add (argv, g_strdup ("--topic"));
  g_ptr_array_add (argv, g_strdup (TOPIC));
  g_ptr_array_add (argv, g_strdup ("--publish"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", N_LATE));
  g_ptr_array_add (argv, g_strdup ("--tag"));
  g_ptr_array_add (argv, g_strdup ("js-late"));
  g_ptr_array_add (argv, g_strdup ("--publish-delay"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", LATE_MS));
  g_ptr_array_add (argv, NULL);
  mero_test_js_peer_spawn (&c->js, interop_dir, (const char *const *) argv->pdata);
}

static void
case_clear (Case *c)
{
  mero_test_js_peer_clear (&c->js);
  g_clear_pointer (&c->net, mero_network_free);
  g_clear_pointer (&c->net_events, g_ptr_array_unref);
  g_clear_pointer (&c->identity, mero_identity_free);
  g_clear_pointer (&c->metrics, mero_metrics_unref);
  g_clear_pointer (&c->peer_id, g_free);
  g_clear_pointer (&c->js_peer, g_free);
}

/* Advances one case: dial once js listens, publish late.  TRUE once js
 * has said "done" (or exited). */
static gboolean
case_step (Case *c)
{
  JsonObject *o;

  if (c->js_peer == NULL && (o = find_js (c, "listening")) != NULL)
    c->js_peer = g_strdup (json_object_get_string_member (o, "peerId"));
  if (c->we_dial && !c->dialed && c->js_peer != NULL)
    {
      JsonArray *addrs = json_object_get_array_member (find_js (c, "listening"), "addrs");
      /* js lists its addresses with /p2p/<id>. */
      const char *addr = json_array_get_string_element (addrs, 0);
      g_autoptr(GError) error = NULL;

      g_assert_true (mero_network_dial (c->net, addr, &error));
      g_assert_no_error (error);
      c->dialed = TRUE;
    }
  if (!c->added_protocol && c->connected_at != 0 &&
      g_get_monotonic_time () >= c->connected_at + LATE_PROTOCOL_MS * (gint64) 1000)
    {
      g_autoptr(GError) error = NULL;

      g_assert_true (mero_network_add_stream_protocol (c->net, LATE_PROTOCOL, FALSE, &error));
      g_assert_no_error (error);
      c->added_protocol = TRUE;
    }
  if (!c->published && c->connected_at != 0 &&
      g_get_monotonic_time () >= c->connected_at + LATE_MS * (gint64) 1000)
    {
      for (guint i = 0; i < N_LATE; i++)
        {
          g_autofree char *text = g_strdup_printf ("c-late-%u", i);
          g_autoptr(GBytes) data = g_bytes_new (text, strlen (text));
          g_autoptr(GError) error = NULL;

          g_assert_true (mero_network_publish (c->net, TOPIC, data, &error));
          g_assert_no_error (error);
        }
      c->published = TRUE;
    }
  if (c->js_peer != NULL && g_get_monotonic_time () >= c->next_score_poll)
    {
      g_autoptr(GPtrArray) peers = mero_network_list_peers (c->net);

      c->next_score_poll = g_get_monotonic_time () + G_USEC_PER_SEC / 2;
      for (guint i = 0; i < peers->len; i++)
        {
          const MeroNetPeerInfo *info = g_ptr_array_index (peers, i);

          if (g_strcmp0 (info->peer_id, c->js_peer) != 0 || !info->has_gossip_score)
            continue;
          c->js_min_score = c->js_scored ? MIN (c->js_min_score, info->gossip_score)
                                         : info->gossip_score;
          c->js_scored = TRUE;
        }
    }
  if (c->events_at_done == 0 && find_js (c, "done") != NULL)
    c->events_at_done = c->net_events->len;
  return c->events_at_done > 0 || c->js.eof;
}

static guint
count_js_messages (Case *c, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < c->js.events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (c->js.events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "message") == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "data", ""), data) == 0 &&
          g_strcmp0 (json_object_get_string_member_with_default (o, "from", ""), c->peer_id) == 0)
        n++;
    }
  return n;
}

static guint
count_net_messages (Case *c, const char *data)
{
  guint n = 0;

  for (guint i = 0; i < c->net_events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (c->net_events, i);

      if (ev->type == MERO_NET_EVENT_MESSAGE && g_strcmp0 (ev->author, c->js_peer) == 0 &&
          g_bytes_get_size (ev->data) == strlen (data) &&
          memcmp (g_bytes_get_data (ev->data, NULL), data, strlen (data)) == 0)
        n++;
    }
  return n;
}

static void
case_check (Case *c)
{
  JsonObject *done = find_js (c, "done");
  guint our_pings = count_net (c, MERO_NET_EVENT_PING);

  g_test_message ("%s: js done %s, our pings %u, disconnects seen by us %u", c->name,
                  done != NULL ? "yes" : "no", our_pings,
                  count_net (c, MERO_NET_EVENT_PEER_DISCONNECTED));
  g_assert_nonnull (done);
  g_assert_nonnull (c->js_peer);
  g_test_message ("%s: js's lowest gossip score %.2f", c->name, c->js_min_score);
  g_assert_true (c->js_scored);
  g_assert_cmpfloat (c->js_min_score, >=, 0);
  g_assert_cmpuint (count_net (c, MERO_NET_EVENT_PEER_CONNECTED), ==, 1);
  /* The connection runs the security protocol of the case. */
  for (guint i = 0; i < c->net_events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (c->net_events, i);

      if (ev->type == MERO_NET_EVENT_PEER_CONNECTED)
        g_assert_cmpint (g_str_has_prefix (ev->message, "tls,"), ==,
                         g_strcmp0 (c->security, "tls") == 0);
    }
  g_assert_cmpuint (count_net (c, MERO_NET_EVENT_PEER_DISCONNECTED), ==, 0);
  g_assert_cmpuint (count_net (c, MERO_NET_EVENT_DIAL_FAILED), ==, 0);
  /* js: the one connection never dropped, its monitor's pings passed. */
  g_assert_cmpint (json_object_get_int_member (done, "disconnects"), ==, 0);
  g_assert_cmpint (json_object_get_int_member (done, "connections"), ==, 1);
  g_assert_false (json_object_get_null_member (done, "monitorRtt"));
  g_assert_null (find_js (c, "ping-failed"));
  g_assert_null (find_js (c, "publish-failed"));
  /* Ours: one every 5 s over >= 30 s, none failed. */
  g_assert_cmpuint (our_pings, >=, STAY_S * G_USEC_PER_SEC / OUR_PING_INTERVAL_US - 1);
  g_assert_cmpuint (mero_metrics_get_counter (c->metrics, "mero_net_pings_failed_total", NULL), ==,
                    0);
  /* js learnt our new protocol from our identify push (it never asks
   * again by itself): a later identify of us lists it. */
  {
    gboolean pushed = FALSE;

    for (guint i = 0; i < c->js.events->len && !pushed; i++)
      {
        JsonObject *o = g_ptr_array_index (c->js.events, i);
        JsonArray *protocols;

        if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "identify") != 0 ||
            g_strcmp0 (json_object_get_string_member_with_default (o, "peer", ""), c->peer_id) != 0)
          continue;
        protocols = json_object_get_array_member (o, "protocols");
        for (guint k = 0; protocols != NULL && k < json_array_get_length (protocols); k++)
          if (g_strcmp0 (json_array_get_string_element (protocols, k), LATE_PROTOCOL) == 0)
            pushed = TRUE;
      }
    g_assert_true (pushed);
    g_assert_cmpuint (mero_metrics_get_counter (c->metrics, "mero_net_identify_pushes_total",
                                                NULL), ==, 1);
  }
  /* Gossip still flows at the end, exactly once each way. */
  for (guint i = 0; i < N_LATE; i++)
    {
      g_autofree char *ours = g_strdup_printf ("c-late-%u", i);
      g_autofree char *theirs = g_strdup_printf ("js-late-msg-%u", i);

      g_assert_cmpuint (count_js_messages (c, ours), ==, 1);
      g_assert_cmpuint (count_net_messages (c, theirs), ==, 1);
    }
}

/* Security protocols both sides run; each in both directions, the four
 * cases at once. */
static const char *const securities[] = { "noise", "tls" };
#define N_CASES (2 * G_N_ELEMENTS (securities))

static void
test_stability (void)
{
  Case cases[N_CASES];
  char *names[N_CASES];
  gint64 deadline = g_get_monotonic_time () + TOTAL_TIMEOUT_US;
  gboolean all_done = FALSE;

  for (guint i = 0; i < N_CASES; i++)
    {
      const char *security = securities[i / 2];
      gboolean we_dial = i % 2 == 0;

      names[i] = g_strdup_printf ("%s/%s", security, we_dial ? "c-dials-js" : "js-dials-c");
      case_start (&cases[i], names[i], we_dial, (guint8) (0x31 + i), security);
    }
  while (!all_done && g_get_monotonic_time () < deadline)
    {
      all_done = TRUE;
      for (guint i = 0; i < N_CASES; i++)
        all_done &= case_step (&cases[i]);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (5000);
    }
  /* Every side stays connected through js's final report. */
  for (guint i = 0; i < N_CASES; i++)
    case_check (&cases[i]);
  for (guint i = 0; i < N_CASES; i++)
    {
      case_clear (&cases[i]);
      g_free (names[i]);
    }
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
  g_test_add_func ("/interop/stability/noise-and-tls", test_stability);
  return g_test_run ();
}
