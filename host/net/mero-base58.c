/* mero-base58.c: base58btc by schoolbook long division.
 *
 * Inputs are tiny (a PeerId is 38 bytes), so the O(n²) big-number
 * conversion is cheaper than anything clever. */
#include "net/mero-base58.h"

#include <string.h>

static const char alphabet[] = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

char *
mero_base58_encode (const guint8 *data, gsize len)
{
  gsize zeros = 0;
  gsize size;
  gsize high;
  g_autofree guint8 *digits = NULL;
  GString *out;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  while (zeros < len && data[zeros] == 0)
    zeros++;

  /* log(256) / log(58) ≈ 1.37, so this many base58 digits always suffice. */
  size = (len - zeros) * 138 / 100 + 1;
  digits = g_malloc0 (size);
  high = size;
  for (gsize i = zeros; i < len; i++)
    {
      guint carry = data[i];
      gsize j = size;

      while (j > 0 && (carry != 0 || j > high))
        {
          j--;
          carry += 256u * digits[j];
          digits[j] = carry % 58;
          carry /= 58;
        }
      high = j;
    }

  out = g_string_sized_new (zeros + size + 1);
  for (gsize i = 0; i < zeros; i++)
    g_string_append_c (out, '1');
  /* The carry loop never leaves a zero at the top, but be explicit: a
   * leading zero digit would decode to an extra byte. */
  while (high < size && digits[high] == 0)
    high++;
  for (gsize i = high; i < size; i++)
    g_string_append_c (out, alphabet[digits[i]]);
  return g_string_free (out, FALSE);
}

static int
alphabet_index (char c)
{
  const char *p = c != '\0' ? strchr (alphabet, c) : NULL;

  return p != NULL ? (int) (p - alphabet) : -1;
}

GBytes *
mero_base58_decode (const char *text)
{
  gsize len;
  gsize zeros = 0;
  gsize size;
  gsize high;
  g_autofree guint8 *bytes = NULL;
  GByteArray *out;

  g_return_val_if_fail (text != NULL, NULL);

  len = strlen (text);
  if (len > MERO_BASE58_MAX_INPUT)
    return NULL;
  while (zeros < len && text[zeros] == '1')
    zeros++;

  /* log(58) / log(256) ≈ 0.733 */
  size = (len - zeros) * 733 / 1000 + 1;
  bytes = g_malloc0 (size);
  high = size;
  for (gsize i = zeros; i < len; i++)
    {
      int v = alphabet_index (text[i]);
      guint carry;
      gsize j = size;

      if (v < 0)
        return NULL;
      carry = (guint) v;
      while (j > 0 && (carry != 0 || j > high))
        {
          j--;
          carry += 58u * bytes[j];
          bytes[j] = carry & 0xff;
          carry >>= 8;
        }
      high = j;
    }

  while (high < size && bytes[high] == 0)
    high++;
  out = g_byte_array_sized_new (zeros + size);
  for (gsize i = 0; i < zeros; i++)
    g_byte_array_append (out, (const guint8 *) "\0", 1);
  g_byte_array_append (out, bytes + high, size - high);
  return g_byte_array_free_to_bytes (out);
}
