/* Fuzz target: invitation strings (mero-invitation.h).  The input is the
 * ContextInvitation protobuf an attacker controls; it is wrapped as
 * "mero-invite1:" + base58 the way a user would paste it.  Decoding must
 * fail cleanly or yield an invitation whose group part re-encodes to the
 * signed bytes and whose addresses all name the inviter. */
#include <string.h>

#include "fuzz-target.h"
#include "net/mero-base58.h"
#include "node/mero-invitation.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *b58 = NULL;
  g_autofree char *text = NULL;
  g_autoptr (MeroInvitation) inv = NULL;

  if (size > 2048)
    return 0;
  b58 = mero_base58_encode (data, size);
  text = g_strconcat ("mero-invite1:", b58, NULL);
  inv = mero_invitation_decode (text, NULL);
  if (inv != NULL)
    {
      g_autofree char *suffix = g_strconcat ("/p2p/", inv->inviter_peer, NULL);

      g_assert (mero_group_invitation_verify (&inv->group, NULL));
      for (guint i = 0; inv->addresses[i] != NULL; i++)
        g_assert (g_str_has_suffix (inv->addresses[i], suffix));
    }
  /* The raw text path too (prefix missing, bad characters). */
  {
    g_autofree char *raw = g_strndup ((const char *) data, MIN (size, 1500));
    g_autoptr (MeroInvitation) other = mero_invitation_decode (raw, NULL);
  }
  return 0;
}
