/* test-interop-gossip-flood.c: a bad-signature flood against our
 * network while a real js-libp2p peer (js-peer.mjs) is connected to it
 * (issue 10, fault 3).
 *
 * The victim is one of our networks on 127.0.0.1, subscribed to TOPIC.
 * The js peer dials it, joins TOPIC and pings it once a second.  Then the
 * attacker, another of our networks, dials the victim, opens a
 * /meshsub/1.1.0 stream of its own and writes RPCs full of messages on
 * TOPIC whose signatures are garbage, as fast as the stream takes them,
 * redialling whenever it is thrown out, for FLOOD_S.
 *
 * The victim must graylist the attacker after a handful of forgeries,
 * ignore the rest of its RPCs without verifying them, disconnect it at
 * the next heartbeat, and, since its score is retained, graylist it again
 * on every reconnect without verifying anything more.  Meanwhile js's
 * pings (and ours to js) stay under 50 ms, js's score on the victim is
 * never negative, and js's gossip still reaches the victim.  Exits 77
 * (skip) without tests/interop/node_modules. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <sodium.h>
#include <string.h>

#include "net/core/mero-gossipsub-message.h"
#include "net/core/mero-gossipsub-rpc.h"
#include "net/core/mero-gossipsub-score.h"
#include "net/core/mero-lp-frame.h"
#include "net/transport/mero-network.h"
#include "mero-test-js-peer.h"

#define TOPIC "merod-flood"
#define FLOOD_S 6
/* Forgeries per RPC, RPCs written per main-loop turn. */
#define MESSAGES_PER_RPC 50
#define RPCS_PER_TURN 4
/* At most one turn of writes per this: ~100 000 forgeries a second, as
 * much as a loopback stream takes without backing up. */
#define WRITE_INTERVAL_US 2000
#define MAX_RTT_MS 50.0
/* The first disconnect must come within this of the first forgery:
 * graylisting is immediate, the disconnect waits for a heartbeat (1 s). */
#define FIRST_DISCONNECT_US (3 * G_USEC_PER_SEC)
#define JS_STAY_S 14
#define JS_PINGS 12
/* js publishes this long after we joined its topic: after the flood. */
#define JS_PUBLISH_DELAY_MS 9000
#define TOTAL_TIMEOUT_US (28 * G_USEC_PER_SEC)

static char *interop_dir;

typedef struct
{
  MeroIdentity *identity;
  MeroMetrics *metrics;
  MeroNetwork *net;
  char *peer_id;
  GStrv addrs;
  GPtrArray *events; /* MeroNetEvent */
} Side;

static void
on_event (MeroNetEvent *event, gpointer data)
{
  g_ptr_array_add (((Side *) data)->events, event);
}

static void
side_start (Side *s, guint8 seed_byte, gint64 ping_interval_us, gboolean subscribe)
{
  guint8 seed[32];
  const char *listen[] = { "/ip4/127.0.0.1/tcp/0", NULL };
  MeroNetworkConfig config = { 0 };
  g_autoptr(GError) error = NULL;

  memset (s, 0, sizeof *s);
  memset (seed, seed_byte, sizeof seed);
  s->identity = mero_identity_new_from_seed (seed);
  s->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (s->identity));
  s->metrics = mero_metrics_new ();
  s->events = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_net_event_free);
  config.listen_addrs = listen;
  config.metrics = s->metrics;
  config.ping_interval_us = ping_interval_us;
  s->net = mero_network_new (&config, s->identity);
  g_assert_true (mero_network_start (s->net, g_main_context_default (), on_event, s, &error));
  g_assert_no_error (error);
  s->addrs = mero_network_get_listen_addrs (s->net);
  if (subscribe)
    {
      g_assert_true (mero_network_subscribe (s->net, TOPIC, &error));
      g_assert_no_error (error);
    }
}

static void
side_clear (Side *s)
{
  g_clear_pointer (&s->net, mero_network_free);
  g_clear_pointer (&s->events, g_ptr_array_unref);
  g_clear_pointer (&s->identity, mero_identity_free);
  g_clear_pointer (&s->metrics, mero_metrics_unref);
  g_clear_pointer (&s->peer_id, g_free);
  g_clear_pointer (&s->addrs, g_strfreev);
}

static guint
count_js (MeroTestJsPeer *js, const char *event)
{
  guint n = 0;

  for (guint i = 0; i < js->events->len; i++)
    if (g_strcmp0 (json_object_get_string_member_with_default (g_ptr_array_index (js->events, i),
                                                               "event", ""), event) == 0)
      n++;
  return n;
}

static JsonObject *
find_js (MeroTestJsPeer *js, const char *event)
{
  for (guint i = 0; i < js->events->len; i++)
    {
      JsonObject *o = g_ptr_array_index (js->events, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), event) == 0)
        return o;
    }
  return NULL;
}

/* One RPC frame of MESSAGES_PER_RPC messages on TOPIC by @author with
 * fresh seqnos and random signatures: each passes every cheap check and
 * fails only the Ed25519 verification. */
static GBytes *
forged_frame (const MeroPeerId *author, guint64 *seqno)
{
  g_autoptr(MeroGossipsubRpc) rpc = mero_gossipsub_rpc_new ();
  g_autoptr(GBytes) rpc_bytes = NULL;
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  gsize id_len;
  const guint8 *id = mero_peer_id_get_bytes (author, &id_len);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < MESSAGES_PER_RPC; i++)
    {
      MeroGossipsubMessage *m = mero_gossipsub_message_new ();
      guint8 sq[MERO_GOSSIPSUB_SEQNO_LEN];
      guint8 sig[64];
      guint64 n = (*seqno)++;

      for (guint k = 0; k < sizeof sq; k++)
        sq[k] = (guint8) (n >> (8 * (sizeof sq - 1 - k)));
      randombytes_buf (sig, sizeof sig);
      m->from = g_bytes_new (id, id_len);
      m->data = g_bytes_new_static ("forged delta", 12);
      m->seqno = g_bytes_new (sq, sizeof sq);
      m->topic = g_strdup (TOPIC);
      m->signature = g_bytes_new (sig, sizeof sig);
      g_ptr_array_add (rpc->messages, m);
    }
  rpc_bytes = mero_gossipsub_rpc_encode (rpc);
  g_assert_true (mero_lp_frame_encode (frame, g_bytes_get_data (rpc_bytes, NULL),
                                       g_bytes_get_size (rpc_bytes), MERO_GOSSIPSUB_MAX_RPC_SIZE,
                                       &error));
  g_assert_no_error (error);
  return g_byte_array_free_to_bytes (g_steal_pointer (&frame));
}

typedef struct
{
  Side victim, attacker;
  MeroTestJsPeer js;
  char *js_peer;
  guint scanned_victim;   /* victim events already looked at */
  guint scanned_attacker;
  /* The attack. */
  gboolean flooding;
  gint64 flood_start, flood_end;
  gboolean connected;     /* attacker ↔ victim */
  MeroNetStream *stream;  /* our forged /meshsub stream, NULL until open */
  guint64 request_id;
  guint64 seqno;
  guint64 forgeries;
  gint64 next_write;
  guint dials;
  guint score_disconnects; /* victim closed the attacker for its score */
  gint64 first_disconnect;
  /* What the victim reports about its peers. */
  double js_min_score;
  gboolean js_scored;
  gint64 next_poll;
  /* js pings whose line arrived while the flood ran. */
  guint js_pings_before, js_pings_during;
  guint js_pings_at_flood_end;
  double our_max_rtt_ms;  /* our pings to js */
} Fixture;

static void
attacker_dial (Fixture *f)
{
  g_autofree char *addr = g_strdup_printf ("%s/p2p/%s", f->victim.addrs[0], f->victim.peer_id);
  g_autoptr(GError) error = NULL;

  g_assert_true (mero_network_dial (f->attacker.net, addr, &error));
  g_assert_no_error (error);
  f->dials++;
}

static void
scan_victim (Fixture *f)
{
  for (; f->scanned_victim < f->victim.events->len; f->scanned_victim++)
    {
      MeroNetEvent *ev = g_ptr_array_index (f->victim.events, f->scanned_victim);

      if (ev->type == MERO_NET_EVENT_PEER_DISCONNECTED &&
          g_strcmp0 (ev->peer_id, f->attacker.peer_id) == 0)
        {
          g_test_message ("victim closed the attacker: %s", ev->message);
          if (ev->message != NULL && strstr (ev->message, "gossip score") != NULL)
            {
              if (f->score_disconnects++ == 0)
                f->first_disconnect = g_get_monotonic_time ();
            }
        }
      if (ev->type == MERO_NET_EVENT_PING && g_strcmp0 (ev->peer_id, f->js_peer) == 0)
        {
          f->our_max_rtt_ms = MAX (f->our_max_rtt_ms, ev->rtt_us / 1000.0);
          g_assert_cmpfloat (ev->rtt_us / 1000.0, <, MAX_RTT_MS);
        }
    }
}

static void
scan_attacker (Fixture *f)
{
  for (; f->scanned_attacker < f->attacker.events->len; f->scanned_attacker++)
    {
      MeroNetEvent *ev = g_ptr_array_index (f->attacker.events, f->scanned_attacker);

      switch (ev->type)
        {
        case MERO_NET_EVENT_PEER_CONNECTED:
          if (g_strcmp0 (ev->peer_id, f->victim.peer_id) == 0)
            {
              f->connected = TRUE;
              f->request_id = mero_network_open_stream (f->attacker.net, f->victim.peer_id,
                                                        "/meshsub/1.1.0");
            }
          break;
        case MERO_NET_EVENT_STREAM_OPENED:
          if (ev->request_id != 0 && ev->request_id == f->request_id)
            f->stream = mero_net_stream_ref (ev->stream);
          break;
        case MERO_NET_EVENT_STREAM_RESET:
        case MERO_NET_EVENT_STREAM_CLOSED:
          /* Reset by the victim, or by our own network when the victim
           * reads slower than we write: a new stream carries on. */
          if (f->stream != NULL && ev->stream == f->stream)
            {
              g_clear_pointer (&f->stream, mero_net_stream_unref);
              if (f->connected)
                f->request_id = mero_network_open_stream (f->attacker.net, f->victim.peer_id,
                                                          "/meshsub/1.1.0");
            }
          break;
        case MERO_NET_EVENT_PEER_DISCONNECTED:
          if (g_strcmp0 (ev->peer_id, f->victim.peer_id) == 0)
            {
              f->connected = FALSE;
              g_clear_pointer (&f->stream, mero_net_stream_unref);
              if (f->flooding)
                attacker_dial (f);
            }
          break;
        case MERO_NET_EVENT_STREAM_FAILED:
          if (ev->request_id == f->request_id && f->connected)
            f->request_id = mero_network_open_stream (f->attacker.net, f->victim.peer_id,
                                                      "/meshsub/1.1.0");
          break;
        case MERO_NET_EVENT_DIAL_FAILED:
          if (f->flooding)
            attacker_dial (f);
          break;
        default:
          break;
        }
    }
}

/* The victim's view of js: its score is never negative. */
static void
poll_scores (Fixture *f)
{
  g_autoptr(GPtrArray) peers = NULL;

  if (g_get_monotonic_time () < f->next_poll)
    return;
  f->next_poll = g_get_monotonic_time () + G_USEC_PER_SEC / 10;
  peers = mero_network_list_peers (f->victim.net);
  for (guint i = 0; i < peers->len; i++)
    {
      const MeroNetPeerInfo *info = g_ptr_array_index (peers, i);

      if (g_strcmp0 (info->peer_id, f->js_peer) == 0 && info->has_gossip_score)
        {
          f->js_min_score = f->js_scored ? MIN (f->js_min_score, info->gossip_score)
                                         : info->gossip_score;
          f->js_scored = TRUE;
        }
    }
}

static gboolean
victim_has_subscriber (Fixture *f, const char *peer)
{
  for (guint i = 0; i < f->victim.events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (f->victim.events, i);

      if (ev->type == MERO_NET_EVENT_SUBSCRIBED && g_strcmp0 (ev->peer_id, peer) == 0)
        return TRUE;
    }
  return FALSE;
}

static guint
victim_messages_from (Fixture *f, const char *author)
{
  guint n = 0;

  for (guint i = 0; i < f->victim.events->len; i++)
    {
      MeroNetEvent *ev = g_ptr_array_index (f->victim.events, i);

      if (ev->type == MERO_NET_EVENT_MESSAGE && g_strcmp0 (ev->author, author) == 0)
        n++;
    }
  return n;
}

static void
step (Fixture *f)
{
  gint64 now = g_get_monotonic_time ();
  JsonObject *o;

  if (f->js_peer == NULL && (o = find_js (&f->js, "listening")) != NULL)
    f->js_peer = g_strdup (json_object_get_string_member (o, "peerId"));
  scan_victim (f);
  scan_attacker (f);
  if (f->js_peer != NULL)
    poll_scores (f);

  /* The attack starts once js is in the victim's topic and pinging. */
  if (!f->flooding && f->flood_start == 0 && f->js_peer != NULL &&
      victim_has_subscriber (f, f->js_peer) && count_js (&f->js, "ping") >= 1)
    {
      f->flooding = TRUE;
      f->js_pings_before = count_js (&f->js, "ping");
      attacker_dial (f);
    }
  if (f->flooding && f->stream != NULL && now >= f->next_write)
    {
      f->next_write = now + WRITE_INTERVAL_US;
      if (f->flood_start == 0)
        f->flood_start = now;
      for (guint i = 0; i < RPCS_PER_TURN; i++)
        {
          g_autoptr(GBytes) frame = forged_frame (mero_identity_get_peer_id (f->attacker.identity),
                                                  &f->seqno);

          mero_network_stream_write (f->attacker.net, f->stream, frame);
          f->forgeries += MESSAGES_PER_RPC;
        }
    }
  if (f->flooding && f->flood_start != 0 && now >= f->flood_start + FLOOD_S * G_USEC_PER_SEC)
    {
      f->flooding = FALSE;
      f->flood_end = now;
      f->js_pings_at_flood_end = count_js (&f->js, "ping");
    }
}

static void
test_bad_signature_flood (void)
{
  Fixture f = { 0 };
  gint64 deadline = g_get_monotonic_time () + TOTAL_TIMEOUT_US;
  g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  guint64 bad_sig, graylisted, ignored, disconnected;
  JsonObject *done;

  /* Our pings to js every second, to watch its RTT through the flood. */
  side_start (&f.victim, 0x61, G_USEC_PER_SEC, TRUE);
  side_start (&f.attacker, 0x62, -1, FALSE);
  mero_test_js_peer_init (&f.js, "js");
  g_ptr_array_add (argv, g_strdup ("node"));
  g_ptr_array_add (argv, g_strdup ("js-peer.mjs"));
  g_ptr_array_add (argv, g_strdup ("--dial"));
  g_ptr_array_add (argv, g_strdup_printf ("%s/p2p/%s", f.victim.addrs[0], f.victim.peer_id));
  g_ptr_array_add (argv, g_strdup ("--stay"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", JS_STAY_S));
  g_ptr_array_add (argv, g_strdup ("--pings"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", JS_PINGS));
  g_ptr_array_add (argv, g_strdup ("--topic"));
  g_ptr_array_add (argv, g_strdup (TOPIC));
  g_ptr_array_add (argv, g_strdup ("--publish"));
  g_ptr_array_add (argv, g_strdup ("1"));
  g_ptr_array_add (argv, g_strdup ("--publish-delay"));
  g_ptr_array_add (argv, g_strdup_printf ("%d", JS_PUBLISH_DELAY_MS));
  g_ptr_array_add (argv, NULL);
  mero_test_js_peer_spawn (&f.js, interop_dir, (const char *const *) argv->pdata);

  while (g_get_monotonic_time () < deadline && find_js (&f.js, "done") == NULL && !f.js.eof)
    {
      step (&f);
      if (!g_main_context_iteration (NULL, FALSE))
        g_usleep (2000);
    }
  scan_victim (&f);
  f.js_pings_during = f.js_pings_at_flood_end - f.js_pings_before;

  bad_sig = mero_metrics_get_counter (f.victim.metrics, "mero_gossipsub_dropped_total",
                                      "reason=\"bad_signature\"");
  graylisted = mero_metrics_get_counter (f.victim.metrics, "mero_gossip_peers_graylisted_total",
                                         NULL);
  ignored = mero_metrics_get_counter (f.victim.metrics, "mero_gossip_rpcs_ignored_total",
                                      "reason=\"graylist\"");
  disconnected = mero_metrics_get_counter (f.victim.metrics, "mero_gossip_peers_disconnected_total",
                                           "reason=\"score\"");
  g_test_message ("forgeries sent %" G_GUINT64_FORMAT ", verified (bad_signature) %" G_GUINT64_FORMAT
                  ", graylisted %" G_GUINT64_FORMAT ", RPCs ignored %" G_GUINT64_FORMAT
                  ", score disconnects %" G_GUINT64_FORMAT " (seen %u), dials %u, js min score %.2f, "
                  "js pings during the flood %u, first disconnect after %.2f s",
                  f.forgeries, bad_sig, graylisted, ignored, disconnected, f.score_disconnects,
                  f.dials, f.js_min_score, f.js_pings_during,
                  (f.first_disconnect - f.flood_start) / 1e6);

  /* The flood ran and was cut off: graylisted, then disconnected within
   * a heartbeat or two, and again on each reconnect. */
  g_assert_cmpint (f.flood_start, >, 0);
  g_assert_cmpuint (f.forgeries, >=, 10000);
  g_assert_cmpuint (f.score_disconnects, >=, 1);
  g_assert_cmpint (f.first_disconnect - f.flood_start, <, FIRST_DISCONNECT_US);
  g_assert_cmpuint (disconnected, ==, f.score_disconnects);
  g_assert_cmpuint (graylisted, >=, disconnected);
  g_assert_cmpuint (ignored, >=, 1);
  /* Almost nothing was verified: 13 forgeries graylist (P4 with the js
   * weights); a reconnect starts graylisted (retained score). */
  g_assert_cmpuint (bad_sig, <=, 2 * 13);
  g_assert_cmpuint (bad_sig, <, f.forgeries / 100);

  /* js: connected throughout, every ping under 50 ms, some during the
   * flood; never penalised; its gossip still gets through. */
  done = find_js (&f.js, "done");
  g_assert_nonnull (done);
  g_assert_cmpint (json_object_get_int_member (done, "disconnects"), ==, 0);
  g_assert_null (find_js (&f.js, "ping-failed"));
  g_assert_cmpuint (f.js_pings_during, >=, FLOOD_S - 2);
  {
    double js_max_rtt_ms = 0;

    for (guint i = 0; i < f.js.events->len; i++)
      {
        JsonObject *o = g_ptr_array_index (f.js.events, i);

        if (g_strcmp0 (json_object_get_string_member_with_default (o, "event", ""), "ping") == 0)
          js_max_rtt_ms = MAX (js_max_rtt_ms, json_object_get_double_member (o, "rtt"));
      }
    g_test_message ("highest ping RTT: js's %.1f ms, ours to js %.1f ms", js_max_rtt_ms,
                    f.our_max_rtt_ms);
    g_assert_cmpfloat (js_max_rtt_ms, <, MAX_RTT_MS);
    g_assert_cmpfloat (f.our_max_rtt_ms, >, 0); /* we did ping js */
    g_assert_cmpfloat (f.our_max_rtt_ms, <, MAX_RTT_MS);
  }
  g_assert_true (f.js_scored);
  g_assert_cmpfloat (f.js_min_score, >=, 0);
  g_assert_cmpuint (victim_messages_from (&f, f.js_peer), ==, 1);
  g_assert_null (find_js (&f.js, "publish-failed"));

  g_clear_pointer (&f.stream, mero_net_stream_unref);
  mero_test_js_peer_clear (&f.js);
  side_clear (&f.attacker);
  side_clear (&f.victim);
  g_free (f.js_peer);
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
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/interop/gossip-flood/bad-signatures", test_bad_signature_flood);
  return g_test_run ();
}
