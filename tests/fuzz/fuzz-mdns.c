/* Fuzz target: mDNS datagrams, as the network thread feeds them from
 * UDP 5353.  Anything the DNS decoder accepts must re-encode and decode to
 * the same records; the discovery core must take any datagram within its
 * bounds (peer table, addresses per peer) and keep answering. */
#include <string.h>

#include "fuzz-target.h"
#include "net/core/mero-mdns-message.h"
#include "net/core/mero-mdns.h"

#define PEER "12D3KooWLLQTDZEM2wr3fcUem3uyDnqJZaDsuPkXCcgz2dwDN7Xs"

static void
check_reencode (const MeroDnsMessage *msg)
{
  g_autoptr (GBytes) wire = mero_dns_message_encode (msg, NULL);
  g_autoptr (MeroDnsMessage) back = NULL;

  /* Decoded names always re-encode (escapes make them unambiguous),
   * unless compression pointers made the message larger than 9000
   * bytes once written out, which our encoder compresses again. */
  if (wire == NULL)
    return;
  back = mero_dns_message_decode (g_bytes_get_data (wire, NULL), g_bytes_get_size (wire), NULL);
  g_assert_nonnull (back);
  g_assert_cmpuint (back->questions->len, ==, msg->questions->len);
  g_assert_cmpuint (back->answers->len, ==, msg->answers->len);
  g_assert_cmpuint (back->additionals->len, ==, msg->additionals->len);
  for (guint i = 0; i < msg->answers->len; i++)
    {
      const MeroDnsRecord *a = g_ptr_array_index (msg->answers, i);
      const MeroDnsRecord *b = g_ptr_array_index (back->answers, i);

      g_assert_cmpstr (a->name, ==, b->name);
      g_assert_cmpuint (a->type, ==, b->type);
      g_assert_cmpstr (a->target, ==, b->target);
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static const MeroMdnsConfig config = { .peer_id = PEER, .peer_name = "fuzzpeername",
                                         .max_peers = 8 };
  g_autoptr (MeroMdns) core = mero_mdns_new (&config, NULL);
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_decode (data, size, NULL);
  const char *addrs[] = { "/ip4/127.0.0.1/tcp/4001", NULL };
  MeroMdnsPeer *peer;
  gboolean wants = FALSE;

  if (msg != NULL)
    check_reencode (msg);

  /* Twice, a second apart: the second pass exercises known peers. */
  for (gint64 now = 1000000; now <= 2000000; now += 1000000)
    {
      if (mero_mdns_receive (core, data, size, now, &wants, NULL, NULL) != (msg != NULL))
        g_error ("the core and the decoder disagree about a datagram");
      if (wants)
        {
          g_autoptr (GBytes) resp = mero_mdns_build_response (core, addrs, 1, 0, now);

          g_assert_nonnull (resp);
        }
      while ((peer = mero_mdns_pop_discovered (core)) != NULL)
        {
          g_assert_nonnull (peer->peer_id);
          g_assert_cmpuint (g_strv_length (peer->addrs), >=, 1);
          g_assert_cmpuint (g_strv_length (peer->addrs), <=, MERO_MDNS_MAX_ADDRS_PER_PEER);
          mero_mdns_peer_free (peer);
        }
      g_assert_cmpuint (mero_mdns_get_n_peers (core), <=, 8);
    }
  return 0;
}
