/* mero-multiaddr.c: multiaddr codec.
 *
 * Text input is converted to binary and then goes through the same
 * validator as binary input, so both directions accept exactly the same
 * set of addresses and the text form printed is canonical. */
#include "net/core/mero-multiaddr.h"

#include <arpa/inet.h>
#include <string.h>

#include "net/core/mero-varint.h"
#include "net/mero-base58.h"

G_DEFINE_QUARK (mero-multiaddr-error-quark, mero_multiaddr_error)

typedef enum {
  VALUE_IP4,
  VALUE_IP6,
  VALUE_PORT,
  VALUE_DNS,
  VALUE_P2P,
} ValueKind;

typedef struct
{
  MeroMultiaddrProto code;
  const char *name;
  ValueKind kind;
} ProtoInfo;

static const ProtoInfo protocols[] = {
  { MERO_MULTIADDR_PROTO_IP4, "ip4", VALUE_IP4 },
  { MERO_MULTIADDR_PROTO_TCP, "tcp", VALUE_PORT },
  { MERO_MULTIADDR_PROTO_IP6, "ip6", VALUE_IP6 },
  { MERO_MULTIADDR_PROTO_DNS, "dns", VALUE_DNS },
  { MERO_MULTIADDR_PROTO_DNS4, "dns4", VALUE_DNS },
  { MERO_MULTIADDR_PROTO_DNS6, "dns6", VALUE_DNS },
  { MERO_MULTIADDR_PROTO_DNSADDR, "dnsaddr", VALUE_DNS },
  { MERO_MULTIADDR_PROTO_UDP, "udp", VALUE_PORT },
  { MERO_MULTIADDR_PROTO_P2P, "p2p", VALUE_P2P },
};

/* Multihash codes a PeerId may use (peer-ids.md). */
#define MULTIHASH_IDENTITY 0x00
#define MULTIHASH_SHA2_256 0x12
#define SHA2_256_LEN 32

typedef struct
{
  MeroMultiaddrProto code;
  gsize value_offset;
  gsize value_len;
} Component;

struct _MeroMultiaddr
{
  GBytes *bytes;
  GArray *components; /* of Component */
};

static const ProtoInfo *
find_by_code (guint64 code)
{
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if ((guint64) protocols[i].code == code)
      return &protocols[i];
  return NULL;
}

static const ProtoInfo *
find_by_name (const char *name)
{
  /* "ipfs" is the name p2p had before 2018; peers and configs still use it. */
  if (g_str_equal (name, "ipfs"))
    return find_by_code (MERO_MULTIADDR_PROTO_P2P);
  for (gsize i = 0; i < G_N_ELEMENTS (protocols); i++)
    if (g_str_equal (protocols[i].name, name))
      return &protocols[i];
  return NULL;
}

/* --- binary validation ------------------------------------------------- */

static gboolean
check_multihash (const guint8 *data, gsize len, GError **error)
{
  guint64 code = 0;
  guint64 digest_len = 0;
  gsize n1 = 0;
  gsize n2 = 0;

  if (mero_varint_decode (data, len, &code, &n1) != MERO_VARINT_OK ||
      mero_varint_decode (data + n1, len - n1, &digest_len, &n2) != MERO_VARINT_OK ||
      digest_len != len - n1 - n2)
    {
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE,
                           "p2p value is not a well-formed multihash");
      return FALSE;
    }
  if (code == MULTIHASH_IDENTITY ||
      (code == MULTIHASH_SHA2_256 && digest_len == SHA2_256_LEN))
    return TRUE;

  g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE,
               "p2p multihash code 0x%" G_GINT64_MODIFIER "x with %" G_GUINT64_FORMAT
               " bytes is not a PeerId", code, digest_len);
  return FALSE;
}

static gboolean
check_dns (const guint8 *data, gsize len, GError **error)
{
  /* The text form has no escaping, so a name must not contain '/' and must
   * be printable as UTF-8 without NULs. */
  if (len == 0 || len > MERO_MULTIADDR_MAX_DNS_NAME ||
      memchr (data, '/', len) != NULL || memchr (data, '\0', len) != NULL ||
      !g_utf8_validate ((const char *) data, (gssize) len, NULL))
    {
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE,
                           "Invalid DNS name");
      return FALSE;
    }
  return TRUE;
}

static gsize
fixed_size (ValueKind kind)
{
  switch (kind)
    {
    case VALUE_IP4:
      return 4;
    case VALUE_IP6:
      return 16;
    case VALUE_PORT:
      return 2;
    case VALUE_DNS:
    case VALUE_P2P:
    default:
      return 0;
    }
}

static gboolean
parse_component (const guint8 *data,
                 gsize         len,
                 gsize        *pos,
                 Component    *comp,
                 GError      **error)
{
  guint64 code = 0;
  gsize n = 0;
  const ProtoInfo *info;
  gsize value_len;

  switch (mero_varint_decode (data + *pos, len - *pos, &code, &n))
    {
    case MERO_VARINT_OK:
      break;
    case MERO_VARINT_NEED_MORE:
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TRUNCATED,
                           "Multiaddr ends inside a protocol code");
      return FALSE;
    case MERO_VARINT_INVALID:
    default:
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE,
                           "Malformed protocol code varint");
      return FALSE;
    }
  *pos += n;

  info = find_by_code (code);
  if (info == NULL)
    {
      g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL,
                   "Unsupported multiaddr protocol code %" G_GUINT64_FORMAT, code);
      return FALSE;
    }

  value_len = fixed_size (info->kind);
  if (value_len == 0)
    {
      guint64 announced = 0;

      if (mero_varint_decode (data + *pos, len - *pos, &announced, &n) != MERO_VARINT_OK)
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TRUNCATED,
                       "Missing or malformed length of the %s value", info->name);
          return FALSE;
        }
      *pos += n;
      if (announced > len - *pos)
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TRUNCATED,
                       "%s value runs past the end of the multiaddr", info->name);
          return FALSE;
        }
      value_len = (gsize) announced;
    }
  else if (value_len > len - *pos)
    {
      g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TRUNCATED,
                   "%s value runs past the end of the multiaddr", info->name);
      return FALSE;
    }

  if (info->kind == VALUE_DNS && !check_dns (data + *pos, value_len, error))
    return FALSE;
  if (info->kind == VALUE_P2P)
    {
      if (value_len > MERO_MULTIADDR_MAX_P2P_BYTES)
        {
          g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE,
                               "p2p value too long for a PeerId");
          return FALSE;
        }
      if (!check_multihash (data + *pos, value_len, error))
        return FALSE;
    }

  comp->code = info->code;
  comp->value_offset = *pos;
  comp->value_len = value_len;
  *pos += value_len;
  return TRUE;
}

MeroMultiaddr *
mero_multiaddr_new_from_bytes (const guint8 *data, gsize len, GError **error)
{
  g_autoptr(GArray) components = NULL;
  MeroMultiaddr *self;
  gsize pos = 0;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (len == 0)
    {
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_SYNTAX,
                           "Empty multiaddr");
      return NULL;
    }
  if (len > MERO_MULTIADDR_MAX_BYTES)
    {
      g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE,
                   "Multiaddr of %" G_GSIZE_FORMAT " bytes exceeds %d", len,
                   MERO_MULTIADDR_MAX_BYTES);
      return NULL;
    }

  components = g_array_new (FALSE, FALSE, sizeof (Component));
  while (pos < len)
    {
      Component comp;

      if (components->len >= MERO_MULTIADDR_MAX_COMPONENTS)
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE,
                       "Multiaddr has more than %d components", MERO_MULTIADDR_MAX_COMPONENTS);
          return NULL;
        }
      if (!parse_component (data, len, &pos, &comp, error))
        return NULL;
      g_array_append_val (components, comp);
    }

  self = g_new0 (MeroMultiaddr, 1);
  self->bytes = g_bytes_new (data, len);
  self->components = g_steal_pointer (&components);
  return self;
}

void
mero_multiaddr_free (MeroMultiaddr *self)
{
  if (self == NULL)
    return;
  g_bytes_unref (self->bytes);
  g_array_unref (self->components);
  g_free (self);
}

/* --- text ---------------------------------------------------------------- */

static gboolean
parse_port (const char *text, guint8 out[2])
{
  guint value = 0;
  gsize len = strlen (text);

  /* Canonical decimal only, so text -> binary -> text is the identity. */
  if (len == 0 || len > 5 || (len > 1 && text[0] == '0'))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isdigit (text[i]))
        return FALSE;
      value = value * 10 + (guint) (text[i] - '0');
    }
  if (value > G_MAXUINT16)
    return FALSE;
  out[0] = (guint8) (value >> 8);
  out[1] = (guint8) value;
  return TRUE;
}

static gboolean
encode_value (const ProtoInfo *info, const char *value, GByteArray *out, GError **error)
{
  switch (info->kind)
    {
    case VALUE_IP4:
      {
        guint8 addr[4];

        if (inet_pton (AF_INET, value, addr) != 1)
          break;
        g_byte_array_append (out, addr, sizeof addr);
        return TRUE;
      }
    case VALUE_IP6:
      {
        guint8 addr[16];

        if (inet_pton (AF_INET6, value, addr) != 1)
          break;
        g_byte_array_append (out, addr, sizeof addr);
        return TRUE;
      }
    case VALUE_PORT:
      {
        guint8 port[2];

        if (!parse_port (value, port))
          break;
        g_byte_array_append (out, port, sizeof port);
        return TRUE;
      }
    case VALUE_DNS:
      {
        gsize len = strlen (value);

        /* Validated with the binary form; here only bound the copy. */
        if (len > MERO_MULTIADDR_MAX_DNS_NAME)
          break;
        mero_varint_append (out, len);
        g_byte_array_append (out, (const guint8 *) value, (guint) len);
        return TRUE;
      }
    case VALUE_P2P:
      {
        g_autoptr(GBytes) mh = NULL;
        gsize mh_len = 0;

        /* base58 decoding is quadratic: refuse what cannot be a PeerId
         * before doing it. */
        if (strlen (value) > MERO_MULTIADDR_MAX_P2P_TEXT)
          break;
        mh = mero_base58_decode (value);
        if (mh == NULL || g_bytes_get_size (mh) == 0 ||
            g_bytes_get_size (mh) > MERO_MULTIADDR_MAX_P2P_BYTES)
          break;
        mh_len = g_bytes_get_size (mh);
        mero_varint_append (out, mh_len);
        g_byte_array_append (out, g_bytes_get_data (mh, NULL), (guint) mh_len);
        return TRUE;
      }
    default:
      break;
    }

  g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_BAD_VALUE,
               "Invalid %s value", info->name);
  return FALSE;
}

MeroMultiaddr *
mero_multiaddr_new_from_string (const char *text, GError **error)
{
  g_auto(GStrv) parts = NULL;
  g_autoptr(GByteArray) bin = NULL;
  gsize text_len;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  text_len = strlen (text);
  if (text_len > MERO_MULTIADDR_MAX_TEXT)
    {
      g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE,
                   "Multiaddr text longer than %d characters", MERO_MULTIADDR_MAX_TEXT);
      return NULL;
    }
  if (text[0] != '/' || text_len < 2)
    {
      g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_SYNTAX,
                           "A multiaddr starts with '/' and names at least one protocol");
      return NULL;
    }

  parts = g_strsplit (text + 1, "/", -1);
  bin = g_byte_array_new ();
  for (gsize i = 0; parts[i] != NULL; i += 2)
    {
      const ProtoInfo *info;

      if (i / 2 >= MERO_MULTIADDR_MAX_COMPONENTS)
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_TOO_LARGE,
                       "Multiaddr has more than %d components", MERO_MULTIADDR_MAX_COMPONENTS);
          return NULL;
        }
      if (parts[i][0] == '\0')
        {
          g_set_error_literal (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_SYNTAX,
                               "Empty component in multiaddr");
          return NULL;
        }
      info = find_by_name (parts[i]);
      if (info == NULL)
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL,
                       "Unsupported multiaddr protocol “%s”", parts[i]);
          return NULL;
        }
      if (parts[i + 1] == NULL || parts[i + 1][0] == '\0')
        {
          g_set_error (error, MERO_MULTIADDR_ERROR, MERO_MULTIADDR_ERROR_SYNTAX,
                       "Protocol %s has no value", info->name);
          return NULL;
        }
      mero_varint_append (bin, info->code);
      if (!encode_value (info, parts[i + 1], bin, error))
        return NULL;
    }

  return mero_multiaddr_new_from_bytes (bin->data, bin->len, error);
}

char *
mero_multiaddr_to_string (const MeroMultiaddr *self)
{
  GString *out;
  const guint8 *data;

  g_return_val_if_fail (self != NULL, NULL);

  data = g_bytes_get_data (self->bytes, NULL);
  out = g_string_new (NULL);
  for (guint i = 0; i < self->components->len; i++)
    {
      const Component *comp = &g_array_index (self->components, Component, i);
      const guint8 *value = data + comp->value_offset;
      const ProtoInfo *info = find_by_code (comp->code);

      g_string_append_printf (out, "/%s/", info->name);
      switch (info->kind)
        {
        case VALUE_IP4:
        case VALUE_IP6:
          {
            char buf[INET6_ADDRSTRLEN];

            inet_ntop (info->kind == VALUE_IP4 ? AF_INET : AF_INET6, value, buf, sizeof buf);
            g_string_append (out, buf);
            break;
          }
        case VALUE_PORT:
          g_string_append_printf (out, "%u", ((guint) value[0] << 8) | value[1]);
          break;
        case VALUE_DNS:
          g_string_append_len (out, (const char *) value, (gssize) comp->value_len);
          break;
        case VALUE_P2P:
          {
            g_autofree char *b58 = mero_base58_encode (value, comp->value_len);

            g_string_append (out, b58);
            break;
          }
        default:
          g_assert_not_reached ();
        }
    }
  return g_string_free (out, FALSE);
}

GBytes *
mero_multiaddr_get_bytes (const MeroMultiaddr *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->bytes;
}

guint
mero_multiaddr_get_n_components (const MeroMultiaddr *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->components->len;
}

MeroMultiaddrProto
mero_multiaddr_get_component (const MeroMultiaddr *self,
                              guint                index,
                              const guint8       **value,
                              gsize               *value_len)
{
  const Component *comp;

  g_return_val_if_fail (self != NULL, 0);
  g_return_val_if_fail (index < self->components->len, 0);

  comp = &g_array_index (self->components, Component, index);
  if (value != NULL)
    *value = (const guint8 *) g_bytes_get_data (self->bytes, NULL) + comp->value_offset;
  if (value_len != NULL)
    *value_len = comp->value_len;
  return comp->code;
}
