/* mero-base32.c: RFC 4648 base32 without padding (multibase 'b'). */
#include "net/mero-base32.h"

#include <string.h>

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

char *
mero_base32_encode (const guint8 *data, gsize len)
{
  GString *out = g_string_sized_new (len * 8 / 5 + 2);
  guint32 buffer = 0;
  guint bits = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  for (gsize i = 0; i < len; i++)
    {
      buffer = (buffer << 8) | data[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          g_string_append_c (out, alphabet[(buffer >> bits) & 31]);
        }
    }
  if (bits > 0)
    g_string_append_c (out, alphabet[(buffer << (5 - bits)) & 31]);
  return g_string_free (out, FALSE);
}

GBytes *
mero_base32_decode (const char *text)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  guint32 buffer = 0;
  guint bits = 0;

  g_return_val_if_fail (text != NULL, NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      char c = g_ascii_tolower (*p);
      const char *hit = strchr (alphabet, c);

      if (c == '\0' || hit == NULL)
        return NULL;
      buffer = (buffer << 5) | (guint32) (hit - alphabet);
      bits += 5;
      if (bits >= 8)
        {
          guint8 byte;

          bits -= 8;
          byte = (buffer >> bits) & 0xff;
          g_byte_array_append (out, &byte, 1);
        }
    }
  /* Canonical text leaves fewer than 5 zero bits over. */
  if (bits >= 5 || (buffer & ((1u << bits) - 1)) != 0)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
