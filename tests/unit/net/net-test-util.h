/* net-test-util.h: helpers shared by the net core unit tests. */
#pragma once

#include <glib.h>
#include <string.h>

/* Decodes @hex (spaces ignored) into a new GBytes; aborts on bad input,
 * since vectors are written by hand in the tests. */
static inline GBytes *
net_test_hex (const char *hex)
{
  GByteArray *out = g_byte_array_new ();
  int hi = -1;

  for (const char *p = hex; *p != '\0'; p++)
    {
      int v;

      if (*p == ' ')
        continue;
      v = g_ascii_xdigit_value (*p);
      g_assert_cmpint (v, >=, 0);
      if (hi < 0)
        {
          hi = v;
        }
      else
        {
          guint8 b = (guint8) (hi << 4 | v);

          g_byte_array_append (out, &b, 1);
          hi = -1;
        }
    }
  g_assert_cmpint (hi, ==, -1);
  return g_byte_array_free_to_bytes (out);
}

static inline void
net_test_assert_bytes (const guint8 *data, gsize len, const char *hex)
{
  g_autoptr(GBytes) want = net_test_hex (hex);

  g_assert_cmpmem (data, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}
