/* Fuzz target: multiaddr from binary and from text.  Anything accepted
 * must print and re-parse to the same binary form. */
#include "fuzz-target.h"
#include "net/core/mero-multiaddr.h"

static void
check_roundtrip (const MeroMultiaddr *ma)
{
  g_autofree char *text = mero_multiaddr_to_string (ma);
  g_autoptr(GError) error = NULL;
  g_autoptr(MeroMultiaddr) back = mero_multiaddr_new_from_string (text, &error);

  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (mero_multiaddr_get_bytes (back), mero_multiaddr_get_bytes (ma)));
  for (guint i = 0; i < mero_multiaddr_get_n_components (ma); i++)
    mero_multiaddr_get_component (ma, i, NULL, NULL);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MeroMultiaddr) bin = mero_multiaddr_new_from_bytes (data, size, NULL);
  g_autofree char *text = g_strndup ((const char *) data, size);
  g_autoptr(MeroMultiaddr) from_text = mero_multiaddr_new_from_string (text, NULL);

  if (bin != NULL)
    check_roundtrip (bin);
  if (from_text != NULL)
    check_roundtrip (from_text);
  return 0;
}
