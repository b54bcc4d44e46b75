/* fuzz-tls-cert.c: the libp2p TLS certificate verifier and a TLS server
 * session fed peer bytes.
 *
 * The first byte picks what the rest is fed to:
 *   0: mero_tls_cert_verify() (our DER reader, the SignedKey, GnuTLS
 *      import and signatures), without and with an expected peer;
 *   1: a server session waiting for a ClientHello (records, in two
 *      halves so partial records across calls are exercised too). */
#include <glib.h>

#include "fuzz-target.h"
#include "tls-test-peer.h"

static MeroTlsCredentials *
server_credentials (void)
{
  static MeroTlsCredentials *creds;
  static TlsTestIdentity id;

  /* Key generation is slow; one certificate serves every input. */
  if (creds == NULL)
    {
      tls_test_identity_init (&id, 0x02);
      creds = tls_test_credentials (&id, MERO_TLS_CERT_FLAGS_NONE, TLS_TEST_NOW_UNIX);
    }
  return creds;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  switch (data[0] % 2)
    {
    case 0:
      {
        TlsTestIdentity other;
        MeroPeerId *peer;

        peer = mero_tls_cert_verify (data + 1, size - 1, TLS_TEST_NOW_UNIX, NULL, NULL);
        g_clear_pointer (&peer, mero_peer_id_free);
        tls_test_identity_init (&other, 0x09);
        peer = mero_tls_cert_verify (data + 1, size - 1, TLS_TEST_NOW_UNIX, other.peer_id, NULL);
        g_clear_pointer (&peer, mero_peer_id_free);
        tls_test_identity_clear (&other);
      }
      break;
    case 1:
      {
        MeroTlsConfig config = { 0 };
        g_autoptr(MeroTls) tls = NULL;
        g_autoptr(GByteArray) plain = g_byte_array_new ();
        g_autoptr(GBytes) out = NULL;
        gsize half = (size - 1) / 2;

        config.credentials = server_credentials ();
        config.now_unix = TLS_TEST_NOW_UNIX;
        tls = mero_tls_new (MERO_TLS_ROLE_SERVER, &config, NULL);
        if (mero_tls_recv (tls, data + 1, half, plain, NULL))
          mero_tls_recv (tls, data + 1 + half, size - 1 - half, plain, NULL);
        out = mero_tls_pull_send (tls);
      }
      break;
    default:
      break;
    }
  return 0;
}
