/* mero-mdns-message.c: DNS message codec for mDNS (see the header). */
#include "net/core/mero-mdns-message.h"

#include <string.h>

G_DEFINE_QUARK (mero-dns-error-quark, mero_dns_error)

/* Names remembered for compression while encoding one message; later
 * names simply are not compressed against more than this. */
#define ENCODE_MAX_SUFFIXES 64u
/* A pointer carries a 14-bit offset. */
#define POINTER_MAX_OFFSET 0x3fffu

static void
question_free (gpointer data)
{
  MeroDnsQuestion *q = data;

  g_free (q->name);
  g_free (q);
}

static void
record_free (gpointer data)
{
  MeroDnsRecord *r = data;

  g_free (r->name);
  g_free (r->target);
  g_clear_pointer (&r->txt, g_ptr_array_unref);
  g_clear_pointer (&r->raw, g_bytes_unref);
  g_free (r);
}

MeroDnsMessage *
mero_dns_message_new (void)
{
  MeroDnsMessage *self = g_new0 (MeroDnsMessage, 1);

  self->questions = g_ptr_array_new_with_free_func (question_free);
  self->answers = g_ptr_array_new_with_free_func (record_free);
  self->authorities = g_ptr_array_new_with_free_func (record_free);
  self->additionals = g_ptr_array_new_with_free_func (record_free);
  return self;
}

void
mero_dns_message_free (MeroDnsMessage *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->questions);
  g_ptr_array_unref (self->answers);
  g_ptr_array_unref (self->authorities);
  g_ptr_array_unref (self->additionals);
  g_free (self);
}

gboolean
mero_dns_message_is_response (const MeroDnsMessage *self)
{
  return (self->flags & MERO_DNS_FLAG_RESPONSE) != 0;
}

MeroDnsQuestion *
mero_dns_message_add_question (MeroDnsMessage *self, const char *name, guint16 type)
{
  MeroDnsQuestion *q = g_new0 (MeroDnsQuestion, 1);

  q->name = g_strdup (name);
  q->type = type;
  q->klass = MERO_DNS_CLASS_IN;
  g_ptr_array_add (self->questions, q);
  return q;
}

MeroDnsRecord *
mero_dns_message_add_record (MeroDnsMessage *self, GPtrArray *section, const char *name,
                             guint16 type, guint32 ttl)
{
  MeroDnsRecord *r = g_new0 (MeroDnsRecord, 1);

  r->name = g_strdup (name);
  r->type = type;
  r->klass = MERO_DNS_CLASS_IN;
  r->ttl = ttl;
  g_ptr_array_add (section, r);
  return r;
}

void
mero_dns_record_add_txt (MeroDnsRecord *record, const guint8 *data, gsize len)
{
  g_return_if_fail (len <= 255);

  if (record->txt == NULL)
    record->txt = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_ptr_array_add (record->txt, g_bytes_new (data, len));
}

gboolean
mero_dns_name_equal (const char *a, const char *b)
{
  return g_ascii_strcasecmp (a, b) == 0;
}

/* --- decoding --- */

typedef struct
{
  const guint8 *data;
  gsize len;
  gsize pos;
} Reader;

static gboolean
truncated (GError **error, const char *what)
{
  g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TRUNCATED, "message ends inside %s", what);
  return FALSE;
}

static gboolean
read_u16 (Reader *r, guint16 *value, GError **error)
{
  if (r->len - r->pos < 2)
    return truncated (error, "a 16-bit field");
  *value = (guint16) (r->data[r->pos] << 8 | r->data[r->pos + 1]);
  r->pos += 2;
  return TRUE;
}

static gboolean
read_u32 (Reader *r, guint32 *value, GError **error)
{
  if (r->len - r->pos < 4)
    return truncated (error, "a 32-bit field");
  *value = (guint32) r->data[r->pos] << 24 | (guint32) r->data[r->pos + 1] << 16 |
           (guint32) r->data[r->pos + 2] << 8 | r->data[r->pos + 3];
  r->pos += 4;
  return TRUE;
}

static void
append_label (GString *out, const guint8 *label, gsize len)
{
  if (out->len > 0)
    g_string_append_c (out, '.');
  for (gsize i = 0; i < len; i++)
    {
      guint8 c = label[i];

      if (c == '.' || c == '\\' || c <= 0x20 || c >= 0x7f)
        g_string_append_printf (out, "\\%03u", c);
      else
        g_string_append_c (out, (char) c);
    }
}

/* Reads the name at r->pos (leaving r->pos after its in-line part).
 * Each pointer must point before the start of the labels it continues,
 * so the positions visited strictly decrease and cannot loop. */
static char *
read_name (Reader *r, GError **error)
{
  g_autoptr (GString) out = g_string_new (NULL);
  gsize p = r->pos;
  gsize limit = r->pos;
  gboolean jumped = FALSE;
  guint pointers = 0;
  gsize wire = 1; /* the final zero octet */

  for (;;)
    {
      guint8 b;

      if (p >= r->len)
        {
          truncated (error, "a name");
          return NULL;
        }
      b = r->data[p];
      if ((b & 0xc0) == 0xc0)
        {
          gsize target;

          if (p + 1 >= r->len)
            {
              truncated (error, "a name pointer");
              return NULL;
            }
          target = (gsize) (b & 0x3f) << 8 | r->data[p + 1];
          if (!jumped)
            r->pos = p + 2;
          jumped = TRUE;
          if (target >= limit)
            {
              g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME,
                           "name pointer to %" G_GSIZE_FORMAT " does not point backwards",
                           target);
              return NULL;
            }
          if (++pointers > MERO_DNS_MAX_POINTERS)
            {
              g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME,
                           "more than %u name pointers", MERO_DNS_MAX_POINTERS);
              return NULL;
            }
          limit = target;
          p = target;
          continue;
        }
      if ((b & 0xc0) != 0)
        {
          g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME,
                       "label type 0x%02x is not supported", b & 0xc0);
          return NULL;
        }
      if (b == 0)
        {
          if (!jumped)
            r->pos = p + 1;
          return g_string_free (g_steal_pointer (&out), FALSE);
        }
      if (r->len - p - 1 < b)
        {
          truncated (error, "a label");
          return NULL;
        }
      wire += 1u + b;
      if (wire > MERO_DNS_MAX_NAME)
        {
          g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                       "name longer than %u octets", MERO_DNS_MAX_NAME);
          return NULL;
        }
      append_label (out, r->data + p + 1, b);
      p += 1u + b;
    }
}

static MeroDnsQuestion *
read_question (Reader *r, GError **error)
{
  g_autofree char *name = read_name (r, error);
  guint16 type, klass;
  MeroDnsQuestion *q;

  if (name == NULL || !read_u16 (r, &type, error) || !read_u16 (r, &klass, error))
    return NULL;
  q = g_new0 (MeroDnsQuestion, 1);
  q->name = g_steal_pointer (&name);
  q->type = type;
  q->klass = klass & ~MERO_DNS_CLASS_TOP_BIT;
  q->unicast_response = (klass & MERO_DNS_CLASS_TOP_BIT) != 0;
  return q;
}

static gboolean
bad_rdata (GError **error, const char *type, guint16 len)
{
  g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_RDATA,
               "%s record with %u bytes of data", type, len);
  return FALSE;
}

/* Decodes the data of @rec, which spans [r->pos, r->pos + len). */
static gboolean
read_rdata (Reader *r, MeroDnsRecord *rec, guint16 len, GError **error)
{
  gsize end = r->pos + len;

  switch (rec->type)
    {
    case MERO_DNS_TYPE_A:
    case MERO_DNS_TYPE_AAAA:
      if (len != (rec->type == MERO_DNS_TYPE_A ? 4 : 16))
        return bad_rdata (error, rec->type == MERO_DNS_TYPE_A ? "A" : "AAAA", len);
      memcpy (rec->address, r->data + r->pos, len);
      break;
    case MERO_DNS_TYPE_PTR:
    case MERO_DNS_TYPE_SRV:
      {
        /* The name must end inside the data; read it against the whole
         * message, since it may point anywhere before itself. */
        Reader sub = { r->data, end, r->pos };

        if (rec->type == MERO_DNS_TYPE_SRV)
          {
            if (len < 7)
              return bad_rdata (error, "SRV", len);
            read_u16 (&sub, &rec->priority, NULL);
            read_u16 (&sub, &rec->weight, NULL);
            read_u16 (&sub, &rec->port, NULL);
          }
        rec->target = read_name (&sub, error);
        if (rec->target == NULL)
          {
            g_prefix_error (error, "%s data: ", rec->type == MERO_DNS_TYPE_PTR ? "PTR" : "SRV");
            return FALSE;
          }
        if (sub.pos != end)
          return bad_rdata (error, rec->type == MERO_DNS_TYPE_PTR ? "PTR" : "SRV", len);
      }
      break;
    case MERO_DNS_TYPE_TXT:
      {
        gsize p = r->pos;

        rec->txt = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
        while (p < end)
          {
            guint8 n = r->data[p];

            if (end - p - 1 < n)
              return bad_rdata (error, "TXT", len);
            if (rec->txt->len >= MERO_DNS_MAX_TXT_STRINGS)
              {
                g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                             "TXT record with more than %u strings", MERO_DNS_MAX_TXT_STRINGS);
                return FALSE;
              }
            g_ptr_array_add (rec->txt, g_bytes_new (r->data + p + 1, n));
            p += 1u + n;
          }
      }
      break;
    default:
      rec->raw = g_bytes_new (r->data + r->pos, len);
      break;
    }
  r->pos = end;
  return TRUE;
}

static MeroDnsRecord *
read_record (Reader *r, GError **error)
{
  g_autofree char *name = read_name (r, error);
  guint16 type, klass, rdlength;
  guint32 ttl;
  MeroDnsRecord *rec;

  if (name == NULL || !read_u16 (r, &type, error) || !read_u16 (r, &klass, error) ||
      !read_u32 (r, &ttl, error) || !read_u16 (r, &rdlength, error))
    return NULL;
  if (r->len - r->pos < rdlength)
    {
      truncated (error, "record data");
      return NULL;
    }
  rec = g_new0 (MeroDnsRecord, 1);
  rec->name = g_steal_pointer (&name);
  rec->type = type;
  rec->klass = klass & ~MERO_DNS_CLASS_TOP_BIT;
  rec->cache_flush = (klass & MERO_DNS_CLASS_TOP_BIT) != 0;
  rec->ttl = ttl;
  if (!read_rdata (r, rec, rdlength, error))
    {
      g_prefix_error (error, "record %s: ", rec->name);
      record_free (rec);
      return NULL;
    }
  return rec;
}

MeroDnsMessage *
mero_dns_message_decode (const guint8 *data, gsize len, GError **error)
{
  g_autoptr (MeroDnsMessage) msg = NULL;
  Reader r = { data, len, 0 };
  guint16 counts[4];
  GPtrArray *sections[3];
  guint total = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > MERO_DNS_MAX_MESSAGE)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                   "message of %" G_GSIZE_FORMAT " bytes (at most %u)", len, MERO_DNS_MAX_MESSAGE);
      return NULL;
    }
  msg = mero_dns_message_new ();
  if (!read_u16 (&r, &msg->id, error) || !read_u16 (&r, &msg->flags, error))
    return NULL;
  for (guint i = 0; i < 4; i++)
    {
      if (!read_u16 (&r, &counts[i], error))
        return NULL;
      total += counts[i];
    }
  if (total > MERO_DNS_MAX_RECORDS)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                   "%u questions and records (at most %u)", total, MERO_DNS_MAX_RECORDS);
      return NULL;
    }
  for (guint i = 0; i < counts[0]; i++)
    {
      MeroDnsQuestion *q = read_question (&r, error);

      if (q == NULL)
        return NULL;
      g_ptr_array_add (msg->questions, q);
    }
  sections[0] = msg->answers;
  sections[1] = msg->authorities;
  sections[2] = msg->additionals;
  for (guint s = 0; s < 3; s++)
    for (guint i = 0; i < counts[s + 1]; i++)
      {
        MeroDnsRecord *rec = read_record (&r, error);

        if (rec == NULL)
          return NULL;
        g_ptr_array_add (sections[s], rec);
      }
  return g_steal_pointer (&msg);
}

/* --- encoding --- */

typedef struct
{
  GByteArray *out;
  /* Uncompressed wire form of each name suffix written so far and where
   * it starts. */
  GPtrArray *suffixes; /* GBytes */
  GArray *offsets;     /* gsize */
} Writer;

static void
put_u16 (GByteArray *out, guint16 v)
{
  guint8 b[2] = { (guint8) (v >> 8), (guint8) v };

  g_byte_array_append (out, b, 2);
}

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint8 b[4] = { (guint8) (v >> 24), (guint8) (v >> 16), (guint8) (v >> 8), (guint8) v };

  g_byte_array_append (out, b, 4);
}

/* Text form → uncompressed wire labels (with the final zero octet). */
static GByteArray *
parse_name (const char *name, GError **error)
{
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  const char *p = name;

  while (*p != '\0')
    {
      guint8 label[MERO_DNS_MAX_LABEL + 1];
      gsize n = 0;

      while (*p != '\0' && *p != '.')
        {
          guint8 c;

          if (*p == '\\' && g_ascii_isdigit (p[1]) && g_ascii_isdigit (p[2]) &&
              g_ascii_isdigit (p[3]))
            {
              guint v = (guint) (p[1] - '0') * 100 + (guint) (p[2] - '0') * 10 + (guint) (p[3] - '0');

              if (v > 255)
                break;
              c = (guint8) v;
              p += 4;
            }
          else if (*p == '\\' && p[1] != '\0')
            {
              c = (guint8) p[1];
              p += 2;
            }
          else
            {
              c = (guint8) *p++;
            }
          if (n >= MERO_DNS_MAX_LABEL)
            {
              n = MERO_DNS_MAX_LABEL + 1;
              break;
            }
          label[n++] = c;
        }
      if (n == 0 || n > MERO_DNS_MAX_LABEL || (*p != '\0' && *p != '.'))
        {
          g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME,
                       "“%s” is not a valid DNS name", name);
          return NULL;
        }
      g_byte_array_append (wire, (guint8[]) { (guint8) n }, 1);
      g_byte_array_append (wire, label, (guint) n);
      if (*p == '.')
        {
          p++;
          if (*p == '\0')
            {
              g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_BAD_NAME,
                           "“%s” has an empty label", name);
              return NULL;
            }
        }
    }
  g_byte_array_append (wire, (guint8[]) { 0 }, 1);
  if (wire->len > MERO_DNS_MAX_NAME)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                   "name “%s” is longer than %u octets", name, MERO_DNS_MAX_NAME);
      return NULL;
    }
  return g_steal_pointer (&wire);
}

/* Writes @name, pointing at an earlier identical suffix where there is
 * one.  Suffixes match byte for byte (not case-insensitively), so the
 * names read back are exactly the names written. */
static gboolean
put_name (Writer *w, const char *name, GError **error)
{
  g_autoptr (GByteArray) wire = parse_name (name, error);
  gsize i = 0;

  if (wire == NULL)
    return FALSE;
  while (wire->data[i] != 0)
    {
      const guint8 *suffix = wire->data + i;
      gsize suffix_len = wire->len - i;

      for (guint s = 0; s < w->suffixes->len; s++)
        {
          GBytes *known = g_ptr_array_index (w->suffixes, s);

          if (g_bytes_get_size (known) == suffix_len &&
              memcmp (g_bytes_get_data (known, NULL), suffix, suffix_len) == 0)
            {
              put_u16 (w->out, (guint16) (0xc000u | g_array_index (w->offsets, gsize, s)));
              return TRUE;
            }
        }
      if (w->out->len <= POINTER_MAX_OFFSET && w->suffixes->len < ENCODE_MAX_SUFFIXES)
        {
          gsize at = w->out->len;

          g_ptr_array_add (w->suffixes, g_bytes_new (suffix, suffix_len));
          g_array_append_val (w->offsets, at);
        }
      g_byte_array_append (w->out, wire->data + i, 1u + wire->data[i]);
      i += 1u + wire->data[i];
    }
  g_byte_array_append (w->out, (guint8[]) { 0 }, 1);
  return TRUE;
}

static gboolean
put_record (Writer *w, const MeroDnsRecord *rec, GError **error)
{
  gsize length_at;
  gsize rdlen;

  if (!put_name (w, rec->name, error))
    return FALSE;
  put_u16 (w->out, rec->type);
  put_u16 (w->out, (guint16) (rec->klass | (rec->cache_flush ? MERO_DNS_CLASS_TOP_BIT : 0)));
  put_u32 (w->out, rec->ttl);
  length_at = w->out->len;
  put_u16 (w->out, 0);
  switch (rec->type)
    {
    case MERO_DNS_TYPE_A:
      g_byte_array_append (w->out, rec->address, 4);
      break;
    case MERO_DNS_TYPE_AAAA:
      g_byte_array_append (w->out, rec->address, 16);
      break;
    case MERO_DNS_TYPE_SRV:
      put_u16 (w->out, rec->priority);
      put_u16 (w->out, rec->weight);
      put_u16 (w->out, rec->port);
      G_GNUC_FALLTHROUGH;
    case MERO_DNS_TYPE_PTR:
      if (!put_name (w, rec->target != NULL ? rec->target : "", error))
        return FALSE;
      break;
    case MERO_DNS_TYPE_TXT:
      for (guint i = 0; rec->txt != NULL && i < rec->txt->len; i++)
        {
          gsize n;
          const guint8 *s = g_bytes_get_data (g_ptr_array_index (rec->txt, i), &n);

          g_byte_array_append (w->out, (guint8[]) { (guint8) n }, 1);
          g_byte_array_append (w->out, s, (guint) n);
        }
      break;
    default:
      if (rec->raw != NULL)
        {
          gsize n;
          const guint8 *s = g_bytes_get_data (rec->raw, &n);

          if (n > G_MAXUINT16)
            {
              g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                           "record data of %" G_GSIZE_FORMAT " bytes", n);
              return FALSE;
            }
          g_byte_array_append (w->out, s, (guint) n);
        }
      break;
    }
  rdlen = w->out->len - length_at - 2;
  if (rdlen > G_MAXUINT16)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                   "record data of %" G_GSIZE_FORMAT " bytes", rdlen);
      return FALSE;
    }
  w->out->data[length_at] = (guint8) (rdlen >> 8);
  w->out->data[length_at + 1] = (guint8) rdlen;
  return TRUE;
}

GBytes *
mero_dns_message_encode (const MeroDnsMessage *self, GError **error)
{
  g_autoptr (GByteArray) out = g_byte_array_new ();
  g_autoptr (GPtrArray) suffixes = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GArray) offsets = g_array_new (FALSE, FALSE, sizeof (gsize));
  Writer w = { out, suffixes, offsets };
  const GPtrArray *sections[3] = { self->answers, self->authorities, self->additionals };

  g_return_val_if_fail (self != NULL, NULL);

  if (self->questions->len + self->answers->len + self->authorities->len +
      self->additionals->len > MERO_DNS_MAX_RECORDS)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE, "too many records");
      return NULL;
    }
  put_u16 (out, self->id);
  put_u16 (out, self->flags);
  put_u16 (out, (guint16) self->questions->len);
  for (guint s = 0; s < 3; s++)
    put_u16 (out, (guint16) sections[s]->len);
  for (guint i = 0; i < self->questions->len; i++)
    {
      const MeroDnsQuestion *q = g_ptr_array_index (self->questions, i);

      if (!put_name (&w, q->name, error))
        return NULL;
      put_u16 (out, q->type);
      put_u16 (out, (guint16) (q->klass | (q->unicast_response ? MERO_DNS_CLASS_TOP_BIT : 0)));
    }
  for (guint s = 0; s < 3; s++)
    for (guint i = 0; i < sections[s]->len; i++)
      if (!put_record (&w, g_ptr_array_index (sections[s], i), error))
        return NULL;
  if (out->len > MERO_DNS_MAX_MESSAGE)
    {
      g_set_error (error, MERO_DNS_ERROR, MERO_DNS_ERROR_TOO_LARGE,
                   "message of %u bytes (at most %u)", out->len, MERO_DNS_MAX_MESSAGE);
      return NULL;
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}
