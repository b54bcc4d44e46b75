/* mero-multistream.c: multistream-select 1.0 state machines. */
#include "net/core/mero-multistream.h"

#include <string.h>

#include "net/core/mero-varint.h"

G_DEFINE_QUARK (mero-multistream-error-quark, mero_multistream_error)

#define NA "na"
#define LS "ls"

struct _MeroMultistream
{
  gboolean initiator;
  GStrv protocols;
  GStrv prefixes;
  guint proposal;      /* initiator: index of the id awaiting an answer */
  gboolean header_seen;
  guint rounds;        /* responder: lines answered so far */
  MeroMultistreamState state;
  char *agreed;
  GByteArray *rx;      /* received, not yet parsed */
  GByteArray *tx;      /* to send */
  GBytes *leftover;
};

static gboolean
is_valid_line (const char *text, gsize len)
{
  /* The newline is part of the counted length, hence MAX_LINE - 1. */
  return len > 0 && len < MERO_MULTISTREAM_MAX_LINE &&
         memchr (text, '\n', len) == NULL && memchr (text, '\0', len) == NULL &&
         g_utf8_validate (text, (gssize) len, NULL);
}

gboolean
mero_multistream_encode_line (GByteArray *out, const char *text)
{
  gsize len;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (text != NULL, FALSE);

  len = strlen (text);
  if (!is_valid_line (text, len))
    return FALSE;
  mero_varint_append (out, len + 1);
  g_byte_array_append (out, (const guint8 *) text, (guint) len);
  g_byte_array_append (out, (const guint8 *) "\n", 1);
  return TRUE;
}

static gboolean
all_valid (const char *const *list, guint max)
{
  guint n = 0;

  for (; list != NULL && list[n] != NULL; n++)
    if (!is_valid_line (list[n], strlen (list[n])))
      return FALSE;
  return n <= max;
}

static MeroMultistream *
multistream_new (gboolean initiator)
{
  MeroMultistream *self = g_new0 (MeroMultistream, 1);

  self->initiator = initiator;
  self->rx = g_byte_array_new ();
  self->tx = g_byte_array_new ();
  self->state = MERO_MULTISTREAM_STATE_NEGOTIATING;
  return self;
}

MeroMultistream *
mero_multistream_new_initiator (const char *const *protocols)
{
  MeroMultistream *self;

  g_return_val_if_fail (protocols != NULL && protocols[0] != NULL, NULL);
  g_return_val_if_fail (all_valid (protocols, MERO_MULTISTREAM_MAX_ROUNDS), NULL);

  self = multistream_new (TRUE);
  self->protocols = g_strdupv ((char **) protocols);
  /* js pipelines header and first proposal in one write; so do we, which
   * saves a round trip with every responder. */
  mero_multistream_encode_line (self->tx, MERO_MULTISTREAM_PROTOCOL_ID);
  mero_multistream_encode_line (self->tx, self->protocols[0]);
  return self;
}

MeroMultistream *
mero_multistream_new_responder (const char *const *protocols,
                                const char *const *prefixes)
{
  MeroMultistream *self;

  g_return_val_if_fail (protocols != NULL, NULL);
  g_return_val_if_fail (all_valid (protocols, G_MAXUINT), NULL);
  g_return_val_if_fail (all_valid (prefixes, G_MAXUINT), NULL);

  self = multistream_new (FALSE);
  self->protocols = g_strdupv ((char **) protocols);
  self->prefixes = prefixes != NULL ? g_strdupv ((char **) prefixes) : g_new0 (char *, 1);
  return self;
}

void
mero_multistream_free (MeroMultistream *self)
{
  if (self == NULL)
    return;
  g_strfreev (self->protocols);
  g_strfreev (self->prefixes);
  g_free (self->agreed);
  g_byte_array_unref (self->rx);
  g_byte_array_unref (self->tx);
  g_clear_pointer (&self->leftover, g_bytes_unref);
  g_free (self);
}

static gboolean
fail (MeroMultistream *self, GError **error, MeroMultistreamError code, const char *format, ...) G_GNUC_PRINTF (4, 5);

static gboolean
fail (MeroMultistream *self, GError **error, MeroMultistreamError code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  self->state = MERO_MULTISTREAM_STATE_FAILED;
  g_set_error_literal (error, MERO_MULTISTREAM_ERROR, code, message);
  return FALSE;
}

static gboolean
responder_supports (MeroMultistream *self, const char *line)
{
  if (g_strv_contains ((const char *const *) self->protocols, line))
    return TRUE;
  for (guint i = 0; self->prefixes[i] != NULL; i++)
    if (g_str_has_prefix (line, self->prefixes[i]))
      return TRUE;
  return FALSE;
}

static void
append_ls_answer (MeroMultistream *self)
{
  g_autoptr(GByteArray) body = g_byte_array_new ();

  /* js: uvarint(total) || (uvarint(len) id '\n')* || '\n'. */
  for (guint i = 0; self->protocols[i] != NULL; i++)
    mero_multistream_encode_line (body, self->protocols[i]);
  g_byte_array_append (body, (const guint8 *) "\n", 1);
  mero_varint_append (self->tx, body->len);
  g_byte_array_append (self->tx, body->data, body->len);
}

static gboolean
agree (MeroMultistream *self, const char *line)
{
  self->agreed = g_strdup (line);
  self->state = MERO_MULTISTREAM_STATE_AGREED;
  return TRUE;
}

static gboolean
handle_responder_line (MeroMultistream *self, const char *line, GError **error)
{
  if (++self->rounds > MERO_MULTISTREAM_MAX_ROUNDS)
    return fail (self, error, MERO_MULTISTREAM_ERROR_TOO_MANY_ROUNDS,
                 "Peer sent more than %d multistream lines without agreeing",
                 MERO_MULTISTREAM_MAX_ROUNDS);

  if (g_str_equal (line, MERO_MULTISTREAM_PROTOCOL_ID))
    {
      self->header_seen = TRUE;
      mero_multistream_encode_line (self->tx, MERO_MULTISTREAM_PROTOCOL_ID);
      return TRUE;
    }
  if (!self->header_seen)
    return fail (self, error, MERO_MULTISTREAM_ERROR_PROTOCOL,
                 "Expected the multistream header, got “%s”", line);

  if (responder_supports (self, line))
    {
      mero_multistream_encode_line (self->tx, line);
      return agree (self, line);
    }
  if (g_str_equal (line, LS))
    append_ls_answer (self);
  else
    mero_multistream_encode_line (self->tx, NA);
  return TRUE;
}

static gboolean
handle_initiator_line (MeroMultistream *self, const char *line, GError **error)
{
  const char *proposed = self->protocols[self->proposal];

  if (!self->header_seen)
    {
      self->header_seen = TRUE;
      /* js takes a first line that is not the header as the answer. */
      if (g_str_equal (line, MERO_MULTISTREAM_PROTOCOL_ID))
        return TRUE;
    }

  if (g_str_equal (line, proposed))
    return agree (self, line);
  if (!g_str_equal (line, NA))
    return fail (self, error, MERO_MULTISTREAM_ERROR_PROTOCOL,
                 "Unexpected answer “%s” to proposal “%s”", line, proposed);

  self->proposal++;
  if (self->protocols[self->proposal] == NULL)
    return fail (self, error, MERO_MULTISTREAM_ERROR_NOT_SUPPORTED,
                 "Peer supports none of the %u proposed protocols", self->proposal);
  mero_multistream_encode_line (self->tx, self->protocols[self->proposal]);
  return TRUE;
}

/* Parses one message at self->rx[*pos]; *line is NULL when it is not
 * complete yet. */
static gboolean
next_line (MeroMultistream *self, gsize *pos, char **line, GError **error)
{
  const guint8 *data = self->rx->data + *pos;
  gsize avail = self->rx->len - *pos;
  guint64 len = 0;
  gsize n = 0;

  *line = NULL;
  switch (mero_varint_decode_limited (data, avail, MERO_MULTISTREAM_MAX_VARINT_BYTES, &len, &n))
    {
    case MERO_VARINT_NEED_MORE:
      return TRUE;
    case MERO_VARINT_INVALID:
      return fail (self, error, MERO_MULTISTREAM_ERROR_LINE_TOO_LONG,
                   "Malformed or over-long multistream length prefix");
    case MERO_VARINT_OK:
    default:
      break;
    }

  if (len < 2 || len > MERO_MULTISTREAM_MAX_LINE)
    return fail (self, error, len < 2 ? MERO_MULTISTREAM_ERROR_PROTOCOL : MERO_MULTISTREAM_ERROR_LINE_TOO_LONG,
                 "Multistream line of %" G_GUINT64_FORMAT " bytes is out of bounds", len);
  if (avail - n < len)
    return TRUE;
  if (data[n + len - 1] != '\n' ||
      !is_valid_line ((const char *) data + n, (gsize) len - 1))
    return fail (self, error, MERO_MULTISTREAM_ERROR_PROTOCOL, "Malformed multistream line");

  *line = g_strndup ((const char *) data + n, (gsize) len - 1);
  *pos += n + (gsize) len;
  return TRUE;
}

gboolean
mero_multistream_recv (MeroMultistream *self,
                       const guint8    *data,
                       gsize            len,
                       GError         **error)
{
  gsize pos = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);
  g_return_val_if_fail (self->state != MERO_MULTISTREAM_STATE_AGREED, FALSE);

  if (self->state == MERO_MULTISTREAM_STATE_FAILED)
    {
      g_set_error_literal (error, MERO_MULTISTREAM_ERROR, MERO_MULTISTREAM_ERROR_FAILED,
                           "Negotiation already failed");
      return FALSE;
    }

  /* Unparsed bytes stay below one maximal message while negotiating, so
   * rx holds at most that plus the caller's chunk. */
  g_byte_array_append (self->rx, data, (guint) len);
  while (self->state == MERO_MULTISTREAM_STATE_NEGOTIATING)
    {
      g_autofree char *line = NULL;
      gboolean ok;

      if (!next_line (self, &pos, &line, error))
        return FALSE;
      if (line == NULL)
        break;
      ok = self->initiator ? handle_initiator_line (self, line, error)
                           : handle_responder_line (self, line, error);
      if (!ok)
        return FALSE;
    }

  if (self->state == MERO_MULTISTREAM_STATE_AGREED)
    {
      self->leftover = g_bytes_new (self->rx->data + pos, self->rx->len - pos);
      g_byte_array_set_size (self->rx, 0);
    }
  else
    {
      g_byte_array_remove_range (self->rx, 0, (guint) pos);
    }
  return TRUE;
}

GBytes *
mero_multistream_pull_send (MeroMultistream *self)
{
  GBytes *out;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->tx->len == 0)
    return NULL;
  out = g_byte_array_free_to_bytes (g_steal_pointer (&self->tx));
  self->tx = g_byte_array_new ();
  return out;
}

MeroMultistreamState
mero_multistream_get_state (const MeroMultistream *self)
{
  g_return_val_if_fail (self != NULL, MERO_MULTISTREAM_STATE_FAILED);
  return self->state;
}

const char *
mero_multistream_get_protocol (const MeroMultistream *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->agreed;
}

GBytes *
mero_multistream_steal_leftover (MeroMultistream *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (self->state == MERO_MULTISTREAM_STATE_AGREED, NULL);

  if (self->leftover == NULL)
    return g_bytes_new (NULL, 0);
  return g_steal_pointer (&self->leftover);
}
