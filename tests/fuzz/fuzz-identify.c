/* fuzz-identify.c: the identify decoder, then encode and merge what it
 * accepted (a push onto itself), which must never fail. */
#include <glib.h>

#include "fuzz-target.h"
#include "net/core/mero-identify.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(MeroIdentifyInfo) info = mero_identify_info_decode (data, size, NULL);
  g_autoptr(MeroIdentifyInfo) copy = NULL;
  g_autoptr(GBytes) enc = NULL;

  if (info == NULL)
    return 0;
  enc = mero_identify_info_encode (info);
  copy = mero_identify_info_decode (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), NULL);
  g_assert (copy != NULL);
  mero_identify_info_merge_push (copy, info);
  return 0;
}
