/* test-mdns.c: the DNS codec and the mDNS discovery core, in memory with
 * integer time.
 *
 * The js vectors are what @libp2p/mdns 11 sends (its query.js builds the
 * messages, dns-packet 5 encodes them: no name compression, TXT records
 * in the answer section); they were checked field by field against
 * RFC 1035 §4.1 and the libp2p mDNS spec. */
#include <string.h>

#include "net/core/mero-mdns-message.h"
#include "net/core/mero-mdns.h"
#include "net/mero-peer-id.h"

/* @libp2p/mdns queryLAN(): { questions: [{ name: '_p2p._udp.local', type: 'PTR' }] } */
static const char js_query_hex[] =
  "000000000001000000000000045f703270045f756470056c6f63616c00000c0001";

/* @libp2p/mdns gotQuery() answer for peer name "abcdefghij0123456789"
 * listening on /ip4/127.0.0.1/tcp/40303. */
#define JS_PEER "12D3KooWLLQTDZEM2wr3fcUem3uyDnqJZaDsuPkXCcgz2dwDN7Xs"
static const char js_response_hex[] =
  "000084000000000200000000045f703270045f756470056c6f63616c00000c0001000000780026146162"
  "636465666768696a30313233343536373839045f703270045f756470056c6f63616c0014616263646566"
  "6768696a30313233343536373839045f703270045f756470056c6f63616c000010000100000078005a59"
  "646e73616464723d2f6970342f3132372e302e302e312f7463702f34303330332f7032702f313244334b"
  "6f6f574c4c5154445a454d32777233666355656d337579446e714a5a61447375506b584363677a326477"
  "444e375873";

#define SEC ((gint64) G_USEC_PER_SEC)
#define T0 (1000 * SEC)

static GBytes *
from_hex (const char *hex)
{
  gsize n = strlen (hex) / 2;
  guint8 *out = g_malloc (n);

  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return g_bytes_new_take (out, n);
}

/* A PeerId text from a fixed Ed25519 public key. */
static char *
test_peer (guint8 seed)
{
  guint8 key[MERO_ED25519_PUBLIC_KEY_LEN];
  g_autoptr (MeroPeerId) peer = NULL;

  memset (key, seed, sizeof key);
  peer = mero_peer_id_new_from_ed25519 (key);
  return mero_peer_id_to_string (peer);
}

static MeroMdns *
new_core (const char *peer_id, const char *name, guint max_peers)
{
  MeroMdnsConfig config = { .peer_id = peer_id, .peer_name = name,
                            .query_interval_us = 10 * SEC, .max_peers = max_peers };
  g_autoptr (GError) error = NULL;
  MeroMdns *core = mero_mdns_new (&config, &error);

  g_assert_no_error (error);
  return core;
}

/* A response for @name with one TXT per "dnsaddr=" string in @txts,
 * in the additional section (spec) or the answers (js). */
static GBytes *
make_response (const char *name, guint32 ttl, const char *const *txts, gboolean js_style)
{
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_new ();
  g_autofree char *instance = g_strconcat (name, ".", MERO_MDNS_SERVICE, NULL);
  MeroDnsRecord *ptr;

  msg->flags = MERO_DNS_FLAG_RESPONSE | MERO_DNS_FLAG_AUTHORITATIVE;
  ptr = mero_dns_message_add_record (msg, msg->answers, MERO_MDNS_SERVICE, MERO_DNS_TYPE_PTR, ttl);
  ptr->target = g_strdup (instance);
  for (gsize i = 0; txts[i] != NULL; i++)
    {
      MeroDnsRecord *txt = mero_dns_message_add_record (
          msg, js_style ? msg->answers : msg->additionals, instance, MERO_DNS_TYPE_TXT, ttl);

      mero_dns_record_add_txt (txt, (const guint8 *) txts[i], strlen (txts[i]));
    }
  return mero_dns_message_encode (msg, NULL);
}

static gboolean
feed (MeroMdns *core, GBytes *packet, gint64 now, gboolean *wants_response)
{
  gboolean wants = FALSE;
  gboolean ok = mero_mdns_receive (core, g_bytes_get_data (packet, NULL),
                                   g_bytes_get_size (packet), now, &wants, NULL, NULL);

  if (wants_response != NULL)
    *wants_response = wants;
  return ok;
}

/* --- codec --- */

static void
test_js_query_vector (void)
{
  g_autoptr (GBytes) js = from_hex (js_query_hex);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDnsMessage) msg =
      mero_dns_message_decode (g_bytes_get_data (js, NULL), g_bytes_get_size (js), &error);
  g_autoptr (MeroDnsMessage) ours = mero_dns_message_new ();
  g_autoptr (GBytes) encoded = NULL;
  const MeroDnsQuestion *q;

  g_assert_no_error (error);
  g_assert_false (mero_dns_message_is_response (msg));
  g_assert_cmpuint (msg->questions->len, ==, 1);
  q = g_ptr_array_index (msg->questions, 0);
  g_assert_cmpstr (q->name, ==, "_p2p._udp.local");
  g_assert_cmpuint (q->type, ==, MERO_DNS_TYPE_PTR);
  g_assert_cmpuint (q->klass, ==, MERO_DNS_CLASS_IN);
  g_assert_false (q->unicast_response);

  /* Our query is byte for byte what js sends. */
  mero_dns_message_add_question (ours, MERO_MDNS_SERVICE, MERO_DNS_TYPE_PTR);
  encoded = mero_dns_message_encode (ours, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (encoded, js));
}

static void
test_js_response_vector (void)
{
  g_autoptr (GBytes) js = from_hex (js_response_hex);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDnsMessage) msg =
      mero_dns_message_decode (g_bytes_get_data (js, NULL), g_bytes_get_size (js), &error);
  const MeroDnsRecord *ptr, *txt;
  gsize len;
  const char *s;

  g_assert_no_error (error);
  g_assert_true (mero_dns_message_is_response (msg));
  g_assert_cmpuint (msg->flags, ==, 0x8400);
  g_assert_cmpuint (msg->answers->len, ==, 2);
  g_assert_cmpuint (msg->additionals->len, ==, 0);
  ptr = g_ptr_array_index (msg->answers, 0);
  g_assert_cmpuint (ptr->type, ==, MERO_DNS_TYPE_PTR);
  g_assert_cmpuint (ptr->ttl, ==, 120);
  g_assert_cmpstr (ptr->target, ==, "abcdefghij0123456789._p2p._udp.local");
  txt = g_ptr_array_index (msg->answers, 1);
  g_assert_cmpuint (txt->type, ==, MERO_DNS_TYPE_TXT);
  g_assert_cmpstr (txt->name, ==, "abcdefghij0123456789._p2p._udp.local");
  g_assert_cmpuint (txt->txt->len, ==, 1);
  s = g_bytes_get_data (g_ptr_array_index (txt->txt, 0), &len);
  g_assert_cmpmem (s, len, "dnsaddr=/ip4/127.0.0.1/tcp/40303/p2p/" JS_PEER,
                   strlen ("dnsaddr=/ip4/127.0.0.1/tcp/40303/p2p/" JS_PEER));

  /* Every strict prefix fails cleanly. */
  for (gsize n = 0; n < g_bytes_get_size (js); n++)
    {
      g_autoptr (GError) e = NULL;
      g_autoptr (MeroDnsMessage) m = mero_dns_message_decode (g_bytes_get_data (js, NULL), n, &e);

      g_assert_null (m);
      g_assert_error (e, MERO_DNS_ERROR, MERO_DNS_ERROR_TRUNCATED);
    }
}

static void
test_roundtrip_compression (void)
{
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_new ();
  g_autoptr (MeroDnsMessage) back = NULL;
  g_autoptr (GBytes) wire = NULL;
  g_autoptr (GError) error = NULL;
  MeroDnsRecord *rec;
  const MeroDnsRecord *r;
  gsize uncompressed;
  static const guint8 v6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };

  msg->id = 0x1234;
  msg->flags = MERO_DNS_FLAG_RESPONSE;
  rec = mero_dns_message_add_record (msg, msg->answers, "_p2p._udp.local", MERO_DNS_TYPE_PTR, 120);
  rec->target = g_strdup ("peer1._p2p._udp.local");
  rec = mero_dns_message_add_record (msg, msg->additionals, "peer1._p2p._udp.local",
                                     MERO_DNS_TYPE_SRV, 120);
  rec->priority = 1;
  rec->weight = 2;
  rec->port = 4001;
  rec->target = g_strdup ("Host.local");
  rec = mero_dns_message_add_record (msg, msg->additionals, "host.LOCAL", MERO_DNS_TYPE_A, 120);
  memcpy (rec->address, (guint8[]) { 10, 0, 0, 2 }, 4);
  rec->cache_flush = TRUE;
  rec = mero_dns_message_add_record (msg, msg->additionals, "host.local", MERO_DNS_TYPE_AAAA, 7);
  memcpy (rec->address, v6, 16);
  rec = mero_dns_message_add_record (msg, msg->additionals, "a\\046b\\000.local", 99, 1);
  rec->raw = g_bytes_new_static ("xyz", 3);

  wire = mero_dns_message_encode (msg, &error);
  g_assert_no_error (error);
  /* Without compression the names alone would take: 17 + 23 + 23+12 +
   * 12+12+12 + 13 bytes; with it the message is much shorter. */
  uncompressed = 12 + (17 + 10 + 23) + (23 + 10 + 6 + 12) + (12 + 10 + 4) + (12 + 10 + 16) +
                 (13 + 10 + 3);
  g_assert_cmpuint (g_bytes_get_size (wire), <, uncompressed - 40);

  back = mero_dns_message_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (back->id, ==, 0x1234);
  g_assert_cmpuint (back->answers->len, ==, 1);
  g_assert_cmpuint (back->additionals->len, ==, 4);
  r = g_ptr_array_index (back->answers, 0);
  g_assert_cmpstr (r->target, ==, "peer1._p2p._udp.local");
  r = g_ptr_array_index (back->additionals, 0);
  g_assert_cmpuint (r->port, ==, 4001);
  g_assert_cmpuint (r->priority, ==, 1);
  g_assert_cmpuint (r->weight, ==, 2);
  g_assert_cmpstr (r->target, ==, "Host.local");
  r = g_ptr_array_index (back->additionals, 1);
  g_assert_true (mero_dns_name_equal (r->name, "host.local"));
  g_assert_true (r->cache_flush);
  g_assert_cmpmem (r->address, 4, ((guint8[]) { 10, 0, 0, 2 }), 4);
  r = g_ptr_array_index (back->additionals, 2);
  g_assert_cmpmem (r->address, 16, v6, 16);
  g_assert_cmpuint (r->ttl, ==, 7);
  r = g_ptr_array_index (back->additionals, 3);
  g_assert_cmpstr (r->name, ==, "a\\046b\\000.local");
  g_assert_cmpuint (r->type, ==, 99);
  g_assert_cmpmem (g_bytes_get_data (r->raw, NULL), 3, "xyz", 3);
}

static GError *
decode_error (const guint8 *data, gsize len)
{
  GError *error = NULL;
  MeroDnsMessage *msg = mero_dns_message_decode (data, len, &error);

  g_assert_null (msg);
  g_assert_nonnull (error);
  return error;
}

static void
test_bad_names (void)
{
  /* header: 1 question */
#define HDR 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0
  /* A pointer to itself (offset 12). */
  static const guint8 self_loop[] = { HDR, 0xc0, 12, 0, 12, 0, 1 };
  /* A pointer forwards (to offset 20). */
  static const guint8 forward[] = { HDR, 0xc0, 20, 0, 12, 0, 1, 0, 0, 0, 0 };
  /* Label "a", then a pointer back into itself (offset 12): a loop. */
  static const guint8 inner_loop[] = { HDR, 1, 'a', 0xc0, 12, 0, 12, 0, 1 };
  /* Extended label type 0x40. */
  static const guint8 ext_label[] = { HDR, 0x41, 'a', 0, 0, 12, 0, 1 };
  /* Two questions; the second points at the first (valid). */
  static const guint8 valid_ptr[] = { 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0,
                                      1, 'a', 5, 'l', 'o', 'c', 'a', 'l', 0, 0, 12, 0, 1,
                                      1, 'b', 0xc0, 12, 0, 12, 0, 1 };
  /* A pointer into the 12-byte header would be "backwards" but only
   * leads to garbage; it decodes to whatever labels are there or fails,
   * without reading out of bounds. */
  g_autoptr (GError) e1 = decode_error (self_loop, sizeof self_loop);
  g_autoptr (GError) e2 = decode_error (forward, sizeof forward);
  g_autoptr (GError) e3 = decode_error (inner_loop, sizeof inner_loop);
  g_autoptr (GError) e4 = decode_error (ext_label, sizeof ext_label);
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_decode (valid_ptr, sizeof valid_ptr, &error);

  g_assert_error (e1, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
  g_assert_error (e2, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
  g_assert_error (e3, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
  g_assert_error (e4, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
  g_assert_no_error (error);
  g_assert_cmpstr (((MeroDnsQuestion *) g_ptr_array_index (msg->questions, 0))->name, ==, "a.local");
  g_assert_cmpstr (((MeroDnsQuestion *) g_ptr_array_index (msg->questions, 1))->name, ==, "b.a.local");
#undef HDR
}

static void
test_bounds (void)
{
  g_autoptr (GByteArray) long_name = g_byte_array_new ();
  g_autoptr (GByteArray) chain = g_byte_array_new ();
  g_autoptr (GError) e_long = NULL;
  g_autoptr (GError) e_count = NULL;
  g_autoptr (GError) e_big = NULL;
  g_autoptr (GError) e_enc = NULL;
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_new ();
  g_autofree char *label64 = g_strnfill (64, 'x');
  g_autofree guint8 *huge = g_malloc0 (MERO_DNS_MAX_MESSAGE + 1);
  static const guint8 many[] = { 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0, 0, 0 };
  guint8 hdr[12] = { 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0 };

  /* A 260-octet name: 5 labels of 51 bytes. */
  g_byte_array_append (long_name, hdr, 12);
  for (guint i = 0; i < 5; i++)
    {
      guint8 label[52];

      label[0] = 51;
      memset (label + 1, 'a', 51);
      g_byte_array_append (long_name, label, 52);
    }
  g_byte_array_append (long_name, (guint8[]) { 0, 0, 12, 0, 1 }, 5);
  e_long = decode_error (long_name->data, long_name->len);
  g_assert_error (e_long, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE);

  e_count = decode_error (many, sizeof many);
  g_assert_error (e_count, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE);
  e_big = decode_error (huge, MERO_DNS_MAX_MESSAGE + 1);
  g_assert_error (e_big, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE);

  /* A long chain of valid backward pointers is cut at MERO_DNS_MAX_POINTERS:
   * question i's name is a pointer to question i-1's. */
  hdr[4] = 0;
  hdr[5] = 100;
  g_byte_array_append (chain, hdr, 12);
  g_byte_array_append (chain, (guint8[]) { 1, 'a', 0, 0, 12, 0, 1 }, 7);
  for (guint i = 1; i < 100; i++)
    {
      guint off = 12 + 7 + (i - 2) * 6;

      if (i == 1)
        off = 12;
      g_byte_array_append (chain, (guint8[]) { (guint8) (0xc0 | off >> 8), (guint8) off,
                                               0, 12, 0, 1 }, 6);
    }
  {
    g_autoptr (GError) e = NULL;
    g_autoptr (MeroDnsMessage) m = mero_dns_message_decode (chain->data, chain->len, &e);

    g_assert_null (m);
    g_assert_error (e, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
  }

  /* The encoder refuses what it cannot write. */
  mero_dns_message_add_question (msg, label64, MERO_DNS_TYPE_PTR);
  g_assert_null (mero_dns_message_encode (msg, &e_enc));
  g_assert_error (e_enc, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME);
}

/* --- discovery core --- */

static void
test_query_schedule (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autoptr (GBytes) js = from_hex (js_query_hex);
  g_autoptr (GBytes) q1 = NULL;
  g_autoptr (GBytes) q2 = NULL;
  g_autoptr (GBytes) none = NULL;

  g_assert_cmpint (mero_mdns_next_deadline (core), ==, G_MININT64);
  q1 = mero_mdns_handle_timeout (core, T0);
  g_assert_nonnull (q1);
  g_assert_true (g_bytes_equal (q1, js));
  g_assert_cmpint (mero_mdns_next_deadline (core), ==, T0 + 10 * SEC);
  none = mero_mdns_handle_timeout (core, T0 + 10 * SEC - 1);
  g_assert_null (none);
  q2 = mero_mdns_handle_timeout (core, T0 + 10 * SEC);
  g_assert_nonnull (q2);
  g_assert_cmpint (mero_mdns_next_deadline (core), ==, T0 + 20 * SEC);
  g_assert_cmpuint (mero_mdns_get_stats (core)->queries_sent, ==, 2);
}

static void
test_config_checked (void)
{
  g_autofree char *me = test_peer (1);
  MeroMdnsConfig bad_name = { .peer_id = me, .peer_name = "Upper" };
  MeroMdnsConfig short_name = { .peer_id = me, .peer_name = "abc" };
  MeroMdnsConfig bad_peer = { .peer_id = "not-a-peer", .peer_name = "abcdefghij" };
  g_autoptr (GError) e1 = NULL;
  g_autoptr (GError) e2 = NULL;
  g_autoptr (GError) e3 = NULL;

  g_assert_null (mero_mdns_new (&bad_name, &e1));
  g_assert_null (mero_mdns_new (&short_name, &e2));
  g_assert_null (mero_mdns_new (&bad_peer, &e3));
  g_assert_error (e1, MERO_MDNS_ERROR, MERO_MDNS_ERROR_CONFIG);
  g_assert_error (e2, MERO_MDNS_ERROR, MERO_MDNS_ERROR_CONFIG);
  g_assert_error (e3, MERO_MDNS_ERROR, MERO_MDNS_ERROR_CONFIG);
}

static void
test_js_response_discovers (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autoptr (GBytes) js = from_hex (js_response_hex);
  g_autoptr (MeroMdnsPeer) peer = NULL;
  gboolean wants = TRUE;

  g_assert_true (feed (core, js, T0, &wants));
  g_assert_false (wants);
  peer = mero_mdns_pop_discovered (core);
  g_assert_nonnull (peer);
  g_assert_cmpstr (peer->peer_id, ==, JS_PEER);
  g_assert_cmpuint (g_strv_length (peer->addrs), ==, 1);
  g_assert_cmpstr (peer->addrs[0], ==, "/ip4/127.0.0.1/tcp/40303/p2p/" JS_PEER);
  g_assert_cmpint (peer->expires_at, ==, T0 + 120 * SEC);
  g_assert_null (mero_mdns_pop_discovered (core));
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 1);
  g_assert_cmpuint (mero_mdns_get_stats (core)->responses_received, ==, 1);
}

static gboolean
has_txt (const MeroDnsMessage *msg, const char *expected)
{
  for (guint i = 0; i < msg->additionals->len; i++)
    {
      const MeroDnsRecord *r = g_ptr_array_index (msg->additionals, i);
      gsize len;
      const char *s;

      if (r->type != MERO_DNS_TYPE_TXT)
        continue;
      s = g_bytes_get_data (g_ptr_array_index (r->txt, 0), &len);
      if (len == strlen (expected) && memcmp (s, expected, len) == 0)
        return TRUE;
    }
  return FALSE;
}

static void
test_answers_queries (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autoptr (GBytes) js_query = from_hex (js_query_hex);
  g_autoptr (GBytes) resp = NULL;
  g_autoptr (GBytes) limited = NULL;
  g_autoptr (GBytes) other_iface = NULL;
  g_autoptr (GBytes) later = NULL;
  g_autoptr (GBytes) nothing = NULL;
  g_autoptr (MeroDnsMessage) msg = NULL;
  g_autofree char *txt4 = g_strconcat ("dnsaddr=/ip4/10.0.0.2/tcp/2428/p2p/", me, NULL);
  g_autofree char *txt6 = g_strconcat ("dnsaddr=/ip6/fd00::1/tcp/2428/p2p/", me, NULL);
  const char *addrs[] = { "/ip4/0.0.0.0/tcp/2428", "/ip4/10.0.0.2/tcp/2428", "/ip6/::/tcp/2428",
                          "/ip6/fd00::1/tcp/2428", "/ip4/10.0.0.2/tcp/2428", "garbage", NULL };
  const char *unusable[] = { "/ip4/0.0.0.0/tcp/1", "/ip6/::/tcp/1", NULL };
  const MeroDnsRecord *ptr;
  gboolean wants = FALSE;

  g_assert_true (feed (core, js_query, T0, &wants));
  g_assert_true (wants);
  resp = mero_mdns_build_response (core, addrs, 1, 0, T0);
  g_assert_nonnull (resp);
  msg = mero_dns_message_decode (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp), NULL);
  g_assert_nonnull (msg);
  g_assert_cmpuint (msg->flags, ==, 0x8400);
  g_assert_cmpuint (msg->answers->len, ==, 1);
  ptr = g_ptr_array_index (msg->answers, 0);
  g_assert_cmpstr (ptr->name, ==, "_p2p._udp.local");
  g_assert_cmpstr (ptr->target, ==, "mypeername01._p2p._udp.local");
  g_assert_cmpuint (ptr->ttl, ==, 120);
  /* Only the two usable addresses, once each: never 0.0.0.0 or ::. */
  g_assert_cmpuint (msg->additionals->len, ==, 2);
  g_assert_true (has_txt (msg, txt4));
  g_assert_true (has_txt (msg, txt6));

  /* At most one multicast answer per interface per second. */
  limited = mero_mdns_build_response (core, addrs, 1, 0, T0 + SEC - 1);
  g_assert_null (limited);
  g_assert_cmpuint (mero_mdns_get_stats (core)->responses_rate_limited, ==, 1);
  other_iface = mero_mdns_build_response (core, addrs, 2, 0, T0 + 1);
  g_assert_nonnull (other_iface);
  later = mero_mdns_build_response (core, addrs, 1, 0, T0 + SEC);
  g_assert_nonnull (later);
  nothing = mero_mdns_build_response (core, unusable, 3, 0, T0);
  g_assert_null (nothing);

  /* A legacy unicast answer (RFC 6762 §6.7) carries the query's id and
   * is not held back by the multicast limit. */
  {
    g_autoptr (GBytes) unicast = mero_mdns_build_response (core, addrs, 1, 0x4242, T0 + SEC);
    g_autoptr (MeroDnsMessage) m = NULL;

    g_assert_nonnull (unicast);
    m = mero_dns_message_decode (g_bytes_get_data (unicast, NULL), g_bytes_get_size (unicast),
                                 NULL);
    g_assert_cmpuint (m->id, ==, 0x4242);
    g_assert_cmpuint (m->additionals->len, ==, 2);
  }
}

static void
test_two_cores_find_each_other (void)
{
  g_autofree char *id_a = test_peer (1);
  g_autofree char *id_b = test_peer (2);
  g_autoptr (MeroMdns) a = new_core (id_a, "aaaaaaaaaaaa", 0);
  g_autoptr (MeroMdns) b = new_core (id_b, "bbbbbbbbbbbb", 0);
  g_autoptr (GBytes) query = mero_mdns_handle_timeout (a, T0);
  const char *b_addrs[] = { "/ip4/127.0.0.1/tcp/4002", NULL };
  const char *a_addrs[] = { "/ip4/127.0.0.1/tcp/4001", NULL };
  g_autoptr (GBytes) b_resp = NULL;
  g_autoptr (GBytes) a_resp = NULL;
  g_autoptr (MeroMdnsPeer) found = NULL;
  g_autofree char *expected = g_strconcat ("/ip4/127.0.0.1/tcp/4002/p2p/", id_b, NULL);
  gboolean wants = FALSE;

  /* A's query reaches B and (multicast loop) A itself: both answer. */
  g_assert_true (feed (b, query, T0, &wants));
  g_assert_true (wants);
  g_assert_true (feed (a, query, T0, &wants));
  g_assert_true (wants);
  b_resp = mero_mdns_build_response (b, b_addrs, 1, 0, T0);
  a_resp = mero_mdns_build_response (a, a_addrs, 1, 0, T0);

  /* A learns B; its own looped answer is ignored.  B learns A. */
  g_assert_true (feed (a, b_resp, T0, NULL));
  g_assert_true (feed (a, a_resp, T0, NULL));
  g_assert_cmpuint (mero_mdns_get_stats (a)->own_responses, ==, 1);
  found = mero_mdns_pop_discovered (a);
  g_assert_nonnull (found);
  g_assert_cmpstr (found->peer_id, ==, id_b);
  g_assert_cmpstr (found->addrs[0], ==, expected);
  g_assert_null (mero_mdns_pop_discovered (a));
  g_assert_cmpuint (mero_mdns_get_n_peers (a), ==, 1);

  g_assert_true (feed (b, a_resp, T0, NULL));
  g_clear_pointer (&found, mero_mdns_peer_free);
  found = mero_mdns_pop_discovered (b);
  g_assert_cmpstr (found->peer_id, ==, id_a);
}

static void
test_ignores_self_by_peer_id (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autofree char *txt = g_strconcat ("dnsaddr=/ip4/10.0.0.1/tcp/1/p2p/", me, NULL);
  const char *txts[] = { txt, NULL };
  /* Another peer name (an earlier run of ours), our PeerId. */
  g_autoptr (GBytes) resp = make_response ("earlierrun99", 120, txts, FALSE);

  g_assert_true (feed (core, resp, T0, NULL));
  g_assert_null (mero_mdns_pop_discovered (core));
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 0);
  g_assert_cmpuint (mero_mdns_get_stats (core)->own_responses, ==, 1);
}

static void
test_ttl_expiry_and_goodbye (void)
{
  g_autofree char *me = test_peer (1);
  g_autofree char *other = test_peer (2);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autofree char *txt = g_strconcat ("dnsaddr=/ip4/10.0.0.2/tcp/1/p2p/", other, NULL);
  const char *txts[] = { txt, NULL };
  g_autoptr (GBytes) resp = make_response ("otherpeer01", 120, txts, FALSE);
  g_autoptr (GBytes) long_ttl = make_response ("otherpeer01", 1000000, txts, FALSE);
  g_autoptr (GBytes) goodbye = make_response ("otherpeer01", 0, txts, FALSE);
  g_autoptr (GBytes) query = NULL;

  query = mero_mdns_handle_timeout (core, T0);
  g_assert_true (feed (core, resp, T0, NULL));
  mero_mdns_peer_free (mero_mdns_pop_discovered (core));
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 1);
  /* The query at T0 + 10 s comes before the expiry at T0 + 120 s. */
  g_assert_cmpint (mero_mdns_next_deadline (core), ==, T0 + 10 * SEC);
  g_clear_pointer (&query, g_bytes_unref);
  for (gint64 t = T0 + 10 * SEC; t < T0 + 120 * SEC; t += 10 * SEC)
    {
      g_clear_pointer (&query, g_bytes_unref);
      query = mero_mdns_handle_timeout (core, t);
    }
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 1);
  g_clear_pointer (&query, g_bytes_unref);
  query = mero_mdns_handle_timeout (core, T0 + 120 * SEC);
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 0);
  g_assert_cmpuint (mero_mdns_get_stats (core)->peers_expired, ==, 1);

  /* A huge TTL is believed MERO_MDNS_MAX_TTL_S at most. */
  g_assert_true (feed (core, long_ttl, T0, NULL));
  {
    g_autoptr (MeroMdnsPeer) p = mero_mdns_pop_discovered (core);

    g_assert_cmpint (p->expires_at, ==, T0 + MERO_MDNS_MAX_TTL_S * SEC);
  }
  /* TTL 0 says goodbye. */
  g_assert_true (feed (core, goodbye, T0 + SEC, NULL));
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 0);
  g_assert_cmpuint (mero_mdns_get_stats (core)->peers_goodbye, ==, 1);
  g_assert_null (mero_mdns_pop_discovered (core));
}

static void
test_peer_table_bounded (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 4);
  MeroMdnsPeer *p;
  guint found = 0;

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *id = test_peer ((guint8) (10 + i));
      g_autofree char *name = g_strdup_printf ("peernumber%02u", i);
      g_autofree char *txt = g_strconcat ("dnsaddr=/ip4/10.0.0.2/tcp/1/p2p/", id, NULL);
      const char *txts[] = { txt, NULL };
      g_autoptr (GBytes) resp = make_response (name, 120, txts, i % 2 == 0);

      g_assert_true (feed (core, resp, T0, NULL));
    }
  while ((p = mero_mdns_pop_discovered (core)) != NULL)
    {
      found++;
      mero_mdns_peer_free (p);
    }
  g_assert_cmpuint (found, ==, 4);
  g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 4);
  g_assert_cmpuint (mero_mdns_get_stats (core)->peers_dropped, ==, 2);

  /* Once the old ones expire, there is room again. */
  {
    g_autofree char *id = test_peer (99);
    g_autofree char *txt = g_strconcat ("dnsaddr=/ip4/10.0.0.3/tcp/1/p2p/", id, NULL);
    const char *txts[] = { txt, NULL };
    g_autoptr (GBytes) resp = make_response ("latecomer01", 120, txts, FALSE);

    g_assert_true (feed (core, resp, T0 + 121 * SEC, NULL));
    g_assert_cmpuint (mero_mdns_get_n_peers (core), ==, 1);
    mero_mdns_peer_free (mero_mdns_pop_discovered (core));
  }
}

static void
test_addresses_bounded_and_checked (void)
{
  g_autofree char *me = test_peer (1);
  g_autofree char *other = test_peer (2);
  g_autofree char *third = test_peer (3);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autoptr (GPtrArray) txts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GBytes) resp = NULL;
  g_autoptr (MeroMdnsPeer) peer = NULL;
  const MeroMdnsStats *stats;

  g_ptr_array_add (txts, g_strdup ("dnsaddr=/ip4/999.0.0.1/tcp/1/p2p/x"));   /* invalid */
  g_ptr_array_add (txts, g_strdup ("dnsaddr=/ip4/10.0.0.1/tcp/1"));          /* no /p2p/ */
  g_ptr_array_add (txts, g_strdup ("txtvers=1"));                            /* not ours */
  for (guint i = 0; i < MERO_MDNS_MAX_ADDRS_PER_PEER + 4; i++)
    g_ptr_array_add (txts, g_strdup_printf ("dnsaddr=/ip4/10.0.0.%u/tcp/4001/p2p/%s", i + 1, other));
  g_ptr_array_add (txts, g_strdup_printf ("dnsaddr=/ip4/10.0.1.1/tcp/1/p2p/%s", third));
  g_ptr_array_add (txts, NULL);
  resp = make_response ("otherpeer01", 120, (const char *const *) txts->pdata, TRUE);

  g_assert_true (feed (core, resp, T0, NULL));
  peer = mero_mdns_pop_discovered (core);
  g_assert_nonnull (peer);
  g_assert_cmpstr (peer->peer_id, ==, other);
  g_assert_cmpuint (g_strv_length (peer->addrs), ==, MERO_MDNS_MAX_ADDRS_PER_PEER);
  stats = mero_mdns_get_stats (core);
  g_assert_cmpuint (stats->addrs_dropped, ==, 4);
  /* the bad one, the one without /p2p/, and the other peer's */
  g_assert_cmpuint (stats->addrs_invalid, ==, 3);
}

static void
test_rereport (void)
{
  g_autofree char *me = test_peer (1);
  g_autofree char *other = test_peer (2);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  g_autofree char *txt1 = g_strconcat ("dnsaddr=/ip4/10.0.0.2/tcp/1/p2p/", other, NULL);
  g_autofree char *txt2 = g_strconcat ("dnsaddr=/ip4/10.0.0.2/tcp/2/p2p/", other, NULL);
  const char *first[] = { txt1, NULL };
  const char *moved[] = { txt2, NULL };
  g_autoptr (GBytes) r1 = make_response ("otherpeer01", 120, first, FALSE);
  g_autoptr (GBytes) r2 = make_response ("otherpeer01", 120, moved, FALSE);

  g_assert_true (feed (core, r1, T0, NULL));
  mero_mdns_peer_free (mero_mdns_pop_discovered (core));
  /* The same again: nothing new, until the re-report interval passed. */
  g_assert_true (feed (core, r1, T0 + SEC, NULL));
  g_assert_null (mero_mdns_pop_discovered (core));
  g_assert_true (feed (core, r1, T0 + MERO_MDNS_REREPORT_INTERVAL_US, NULL));
  mero_mdns_peer_free (mero_mdns_pop_discovered (core));
  /* New addresses are reported at once. */
  g_assert_true (feed (core, r2, T0 + MERO_MDNS_REREPORT_INTERVAL_US + 1, NULL));
  {
    g_autoptr (MeroMdnsPeer) p = mero_mdns_pop_discovered (core);

    g_assert_nonnull (p);
    g_assert_true (g_str_has_prefix (p->addrs[0], "/ip4/10.0.0.2/tcp/2/"));
  }
}

static void
test_malformed_counted (void)
{
  g_autofree char *me = test_peer (1);
  g_autoptr (MeroMdns) core = new_core (me, "mypeername01", 0);
  static const guint8 junk[] = { 1, 2, 3 };
  /* A query for another service is ignored, not answered. */
  g_autoptr (MeroDnsMessage) other = mero_dns_message_new ();
  g_autoptr (GBytes) other_wire = NULL;
  g_autoptr (GError) error = NULL;
  gboolean wants = TRUE;

  g_assert_false (mero_mdns_receive (core, junk, sizeof junk, T0, &wants, NULL, &error));
  g_assert_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TRUNCATED);
  g_assert_false (wants);
  g_assert_cmpuint (mero_mdns_get_stats (core)->packets_malformed, ==, 1);

  mero_dns_message_add_question (other, "_http._tcp.local", MERO_DNS_TYPE_PTR);
  other_wire = mero_dns_message_encode (other, NULL);
  g_assert_true (feed (core, other_wire, T0, &wants));
  g_assert_false (wants);
  g_assert_cmpuint (mero_mdns_get_stats (core)->packets_ignored, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/mdns/codec/js-query-vector", test_js_query_vector);
  g_test_add_func ("/mdns/codec/js-response-vector", test_js_response_vector);
  g_test_add_func ("/mdns/codec/roundtrip-compression", test_roundtrip_compression);
  g_test_add_func ("/mdns/codec/bad-names", test_bad_names);
  g_test_add_func ("/mdns/codec/bounds", test_bounds);
  g_test_add_func ("/mdns/core/query-schedule", test_query_schedule);
  g_test_add_func ("/mdns/core/config-checked", test_config_checked);
  g_test_add_func ("/mdns/core/js-response-discovers", test_js_response_discovers);
  g_test_add_func ("/mdns/core/answers-queries", test_answers_queries);
  g_test_add_func ("/mdns/core/two-cores", test_two_cores_find_each_other);
  g_test_add_func ("/mdns/core/ignores-self-by-peer-id", test_ignores_self_by_peer_id);
  g_test_add_func ("/mdns/core/ttl-expiry-goodbye", test_ttl_expiry_and_goodbye);
  g_test_add_func ("/mdns/core/peer-table-bounded", test_peer_table_bounded);
  g_test_add_func ("/mdns/core/addresses-bounded", test_addresses_bounded_and_checked);
  g_test_add_func ("/mdns/core/rereport", test_rereport);
  g_test_add_func ("/mdns/core/malformed-counted", test_malformed_counted);
  return g_test_run ();
}
