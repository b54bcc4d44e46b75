/* mero-lp-frame.c: incremental length-prefixed framing. */
#include "net/core/mero-lp-frame.h"

#include <string.h>

#include "net/core/mero-varint.h"

G_DEFINE_QUARK (mero-lp-frame-error-quark, mero_lp_frame_error)

struct _MeroLpDecoder
{
  gsize max_payload;
  /* Bytes of the length prefix seen so far; it is at most 9 bytes. */
  guint8 prefix[MERO_VARINT_MAX_BYTES];
  gsize prefix_len;
  gboolean have_length;
  gsize want;          /* payload length once have_length */
  GByteArray *payload; /* grows as bytes arrive, never beyond want */
  gboolean failed;
};

gboolean
mero_lp_frame_encode (GByteArray   *out,
                      const guint8 *payload,
                      gsize         len,
                      gsize         max_payload,
                      GError      **error)
{
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (payload != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len > max_payload || len > MERO_LP_FRAME_MAX_PAYLOAD)
    {
      g_set_error (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_TOO_LARGE,
                   "Frame of %" G_GSIZE_FORMAT " bytes exceeds the maximum of %" G_GSIZE_FORMAT,
                   len, MIN (max_payload, (gsize) MERO_LP_FRAME_MAX_PAYLOAD));
      return FALSE;
    }
  mero_varint_append (out, len);
  if (len > 0)
    g_byte_array_append (out, payload, (guint) len);
  return TRUE;
}

MeroLpDecoder *
mero_lp_decoder_new (gsize max_payload)
{
  MeroLpDecoder *self;

  g_return_val_if_fail (max_payload <= MERO_LP_FRAME_MAX_PAYLOAD, NULL);

  self = g_new0 (MeroLpDecoder, 1);
  self->max_payload = max_payload;
  self->payload = g_byte_array_new ();
  return self;
}

void
mero_lp_decoder_free (MeroLpDecoder *self)
{
  if (self == NULL)
    return;
  g_byte_array_unref (self->payload);
  g_free (self);
}

gboolean
mero_lp_decoder_is_idle (const MeroLpDecoder *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return !self->failed && self->prefix_len == 0 && !self->have_length;
}

static GBytes *
take_frame (MeroLpDecoder *self)
{
  GBytes *frame = g_byte_array_free_to_bytes (g_steal_pointer (&self->payload));

  self->payload = g_byte_array_new ();
  self->prefix_len = 0;
  self->have_length = FALSE;
  self->want = 0;
  return frame;
}

/* Reads length-prefix bytes one at a time, so a prefix split across
 * chunks is handled the same as a whole one. */
static gboolean
feed_prefix (MeroLpDecoder *self,
             const guint8  *data,
             gsize          len,
             gsize         *used,
             GError       **error)
{
  *used = 0;
  while (!self->have_length && *used < len)
    {
      guint64 value = 0;
      MeroVarintResult r;

      self->prefix[self->prefix_len++] = data[(*used)++];
      r = mero_varint_decode (self->prefix, self->prefix_len, &value, NULL);
      if (r == MERO_VARINT_NEED_MORE)
        continue;
      if (r == MERO_VARINT_INVALID)
        {
          g_set_error_literal (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_BAD_LENGTH,
                               "Malformed frame length prefix");
          return FALSE;
        }
      if (value > self->max_payload)
        {
          g_set_error (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_TOO_LARGE,
                       "Peer announced a frame of %" G_GUINT64_FORMAT " bytes, maximum is %" G_GSIZE_FORMAT,
                       value, self->max_payload);
          return FALSE;
        }
      self->have_length = TRUE;
      self->want = (gsize) value;
    }
  return TRUE;
}

gboolean
mero_lp_decoder_feed (MeroLpDecoder *self,
                      const guint8  *data,
                      gsize          len,
                      gsize         *consumed,
                      GBytes       **frame,
                      GError       **error)
{
  gsize used = 0;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (consumed != NULL, FALSE);
  g_return_val_if_fail (frame != NULL && *frame == NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  *consumed = 0;
  if (self->failed)
    {
      g_set_error_literal (error, MERO_LP_FRAME_ERROR, MERO_LP_FRAME_ERROR_BAD_LENGTH,
                           "Frame decoder already failed");
      return FALSE;
    }

  if (!self->have_length)
    {
      if (!feed_prefix (self, data, len, &used, error))
        {
          self->failed = TRUE;
          *consumed = used;
          return FALSE;
        }
      if (!self->have_length)
        {
          *consumed = used;
          return TRUE;
        }
    }

  {
    gsize missing = self->want - self->payload->len;
    gsize take = MIN (missing, len - used);

    if (take > 0)
      g_byte_array_append (self->payload, data + used, (guint) take);
    used += take;
  }

  *consumed = used;
  if (self->payload->len == self->want)
    *frame = take_frame (self);
  return TRUE;
}
