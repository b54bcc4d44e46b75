/* fuzz-noise.c: Noise frames and the handshake payload decoder.
 *
 * The first byte picks what the rest is fed to:
 *   0: mero_noise_payload_verify() (protobuf, key, signature);
 *   1: a responder waiting for message 1 (then message 3);
 *   2: an initiator that sent message 1 and waits for message 2;
 *   3: an established session's transport frames. */
#include <glib.h>

#include "fuzz-target.h"
#include "noise-test-peer.h"

static void
feed (MeroNoise *noise, const uint8_t *data, size_t size)
{
  g_autoptr(GByteArray) plain = g_byte_array_new ();
  g_autoptr(GBytes) out = NULL;

  /* Two halves, so partial frames across calls are exercised too. */
  if (mero_noise_recv (noise, data, size / 2, plain, NULL))
    mero_noise_recv (noise, data + size / 2, size - size / 2, plain, NULL);
  out = mero_noise_pull_send (noise);
}

static MeroNoise *
established_responder (NoiseTestPeer *pi, NoiseTestPeer *pr)
{
  g_autoptr(MeroNoise) ini = mero_noise_new (MERO_NOISE_ROLE_INITIATOR, &pi->config);
  g_autoptr(MeroNoise) res = mero_noise_new (MERO_NOISE_ROLE_RESPONDER, &pr->config);
  g_autoptr(GByteArray) plain = g_byte_array_new ();

  for (guint i = 0; i < 3; i++)
    {
      MeroNoise *from = i % 2 == 0 ? ini : res;
      MeroNoise *to = i % 2 == 0 ? res : ini;
      g_autoptr(GBytes) out = mero_noise_pull_send (from);

      g_assert (mero_noise_recv (to, g_bytes_get_data (out, NULL), g_bytes_get_size (out), plain,
                                 NULL));
    }
  return g_steal_pointer (&res);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  NoiseTestPeer pi, pr;
  guint8 spub[32], spriv[32];

  if (size < 1)
    return 0;
  noise_test_peer_init (&pi, 0x01, 0x11, 0x33, 0x11, NULL);
  noise_test_peer_init (&pr, 0x02, 0x22, 0x44, 0x22, NULL);
  switch (data[0] % 4)
    {
    case 0:
      {
        g_auto(GStrv) muxers = NULL;
        MeroPeerId *peer;

        memset (spriv, 0x11, sizeof spriv);
        mero_noise_public_key (spriv, spub);
        peer = mero_noise_payload_verify (data + 1, size - 1, spub, &muxers, NULL);
        mero_peer_id_free (peer);
      }
      break;
    case 1:
      {
        g_autoptr(MeroNoise) res = mero_noise_new (MERO_NOISE_ROLE_RESPONDER, &pr.config);

        feed (res, data + 1, size - 1);
      }
      break;
    case 2:
      {
        g_autoptr(MeroNoise) ini = mero_noise_new (MERO_NOISE_ROLE_INITIATOR, &pi.config);

        feed (ini, data + 1, size - 1);
      }
      break;
    default:
      {
        g_autoptr(MeroNoise) res = established_responder (&pi, &pr);

        feed (res, data + 1, size - 1);
      }
      break;
    }
  noise_test_peer_clear (&pi);
  noise_test_peer_clear (&pr);
  return 0;
}
