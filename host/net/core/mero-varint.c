/* mero-varint.c: multiformats unsigned varint. */
#include "net/core/mero-varint.h"

gsize
mero_varint_size (guint64 value)
{
  gsize n = 1;

  while (value >= 0x80)
    {
      value >>= 7;
      n++;
    }
  return n;
}

gsize
mero_varint_encode (guint64 value, guint8 *out)
{
  gsize n = 0;

  g_return_val_if_fail (out != NULL, 0);
  g_return_val_if_fail (value <= MERO_VARINT_MAX_VALUE, 0);

  while (value >= 0x80)
    {
      out[n++] = (guint8) (value | 0x80);
      value >>= 7;
    }
  out[n++] = (guint8) value;
  return n;
}

void
mero_varint_append (GByteArray *out, guint64 value)
{
  guint8 buf[MERO_VARINT_MAX_BYTES];
  gsize n;

  g_return_if_fail (out != NULL);

  n = mero_varint_encode (value, buf);
  g_byte_array_append (out, buf, (guint) n);
}

MeroVarintResult
mero_varint_decode_limited (const guint8 *data,
                            gsize         len,
                            gsize         max_bytes,
                            guint64      *value,
                            gsize        *consumed)
{
  guint64 result = 0;

  g_return_val_if_fail (data != NULL || len == 0, MERO_VARINT_INVALID);
  g_return_val_if_fail (max_bytes >= 1 && max_bytes <= MERO_VARINT_MAX_BYTES,
                        MERO_VARINT_INVALID);

  for (gsize i = 0; i < max_bytes; i++)
    {
      if (i >= len)
        return MERO_VARINT_NEED_MORE;

      result |= (guint64) (data[i] & 0x7f) << (7 * i);
      if ((data[i] & 0x80) == 0)
        {
          /* A final zero byte after others adds nothing: the same value
           * had a shorter encoding, which the spec makes the only one. */
          if (i > 0 && data[i] == 0)
            return MERO_VARINT_INVALID;
          if (value != NULL)
            *value = result;
          if (consumed != NULL)
            *consumed = i + 1;
          return MERO_VARINT_OK;
        }
    }

  /* The continuation bit is still set on the last allowed byte. */
  return MERO_VARINT_INVALID;
}

MeroVarintResult
mero_varint_decode (const guint8 *data,
                    gsize         len,
                    guint64      *value,
                    gsize        *consumed)
{
  return mero_varint_decode_limited (data, len, MERO_VARINT_MAX_BYTES, value, consumed);
}
