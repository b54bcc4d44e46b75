/* mero-tls-der.c: strict DER TLV reader. */
#include "net/core/mero-tls-der.h"

void
mero_der_reader_init (MeroDerReader *r, const guint8 *data, gsize len)
{
  r->p = data;
  r->len = data != NULL ? len : 0;
}

void
mero_der_reader_enter (MeroDerReader *r, const MeroDerItem *item)
{
  mero_der_reader_init (r, item->value, item->len);
}

gboolean
mero_der_at_end (const MeroDerReader *r)
{
  return r->len == 0;
}

guint8
mero_der_peek_tag (const MeroDerReader *r)
{
  return r->len > 0 ? r->p[0] : 0;
}

gboolean
mero_der_next (MeroDerReader *r, MeroDerItem *item)
{
  gsize pos = 0, len;

  if (r->len < 2)
    return FALSE;
  item->tag = r->p[pos++];
  /* High tag numbers (low five bits all set) never occur in what we read. */
  if ((item->tag & 0x1f) == 0x1f)
    return FALSE;
  len = r->p[pos++];
  if (len & 0x80)
    {
      guint n = len & 0x7f;

      /* 0x80 is BER's indefinite length; more than 4 bytes is absurd here. */
      if (n == 0 || n > 4 || r->len - pos < n)
        return FALSE;
      /* Shortest form: no leading zero byte, and long form only >= 128. */
      if (r->p[pos] == 0)
        return FALSE;
      len = 0;
      for (guint i = 0; i < n; i++)
        len = (len << 8) | r->p[pos++];
      if (len < 0x80)
        return FALSE;
    }
  if (len > r->len - pos)
    return FALSE;
  item->value = r->p + pos;
  item->len = len;
  item->raw = r->p;
  item->raw_len = pos + len;
  r->p += item->raw_len;
  r->len -= item->raw_len;
  return TRUE;
}

gboolean
mero_der_expect (MeroDerReader *r, guint8 tag, MeroDerItem *item)
{
  return mero_der_next (r, item) && item->tag == tag;
}
