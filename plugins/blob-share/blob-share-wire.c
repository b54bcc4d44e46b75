/* blob-share-wire.c: see blob-share-wire.h. */
#include "blob-share-wire.h"

#include <string.h>

void
blob_msg_clear (BlobMsg *m)
{
  g_clear_pointer (&m->leaves, g_bytes_unref);
  g_clear_pointer (&m->data, g_bytes_unref);
  g_clear_pointer (&m->reason, g_free);
}

static void
put_u32 (GByteArray *out, uint32_t v)
{
  uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (out, b, 4);
}

static void
put_u64 (GByteArray *out, uint64_t v)
{
  put_u32 (out, (uint32_t) (v >> 32));
  put_u32 (out, (uint32_t) v);
}

static uint32_t
get_u32 (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
get_u64 (const uint8_t *p)
{
  return (uint64_t) get_u32 (p) << 32 | get_u32 (p + 4);
}

/* The frame's length, so its buffer is allocated once at its size: a
 * chunk appended to a growing array went through a 512 KiB allocation
 * (the next power of two) for each 256 KiB chunk. */
static gsize
frame_len (const BlobMsg *m)
{
  switch (m->type)
    {
    case BLOB_MSG_REQUEST:
      return 5 + BLOB_WIRE_REQUEST_LEN;
    case BLOB_MSG_HEADER:
      return 5 + 12 + (m->leaves != NULL ? g_bytes_get_size (m->leaves) : 0);
    case BLOB_MSG_CHUNK:
      return 5 + 8 + (m->data != NULL ? g_bytes_get_size (m->data) : 0);
    case BLOB_MSG_ERROR:
      return 5 + 1 + (m->reason != NULL ? MIN (strlen (m->reason), BLOB_WIRE_REASON_MAX) : 0);
    default:
      return 5;
    }
}

GBytes *
blob_wire_encode (const BlobMsg *m)
{
  GByteArray *out = g_byte_array_sized_new ((guint) frame_len (m));
  uint8_t type = (uint8_t) m->type;

  put_u32 (out, 0);   /* patched below */
  g_byte_array_append (out, &type, 1);
  switch (m->type)
    {
    case BLOB_MSG_REQUEST:
      {
        uint8_t version = BLOB_WIRE_VERSION;

        g_byte_array_append (out, &version, 1);
        g_byte_array_append (out, m->context_id, 32);
        g_byte_array_append (out, m->blob_id, 32);
        put_u64 (out, m->first);
        put_u32 (out, m->count);
        g_byte_array_append (out, &m->flags, 1);
        put_u64 (out, (uint64_t) m->timestamp_us);
        g_byte_array_append (out, m->signer, 32);
        g_byte_array_append (out, m->signature, 64);
        break;
      }
    case BLOB_MSG_HEADER:
      {
        gsize n = m->leaves != NULL ? g_bytes_get_size (m->leaves) : 0;

        put_u64 (out, m->size);
        put_u32 (out, (uint32_t) (n / 32));
        if (n > 0)
          g_byte_array_append (out, g_bytes_get_data (m->leaves, NULL), (guint) n);
        break;
      }
    case BLOB_MSG_CHUNK:
      put_u64 (out, m->index);
      if (m->data != NULL && g_bytes_get_size (m->data) > 0)
        g_byte_array_append (out, g_bytes_get_data (m->data, NULL),
                             (guint) g_bytes_get_size (m->data));
      break;
    case BLOB_MSG_END:
      break;
    case BLOB_MSG_ERROR:
      {
        gsize n = m->reason != NULL ? MIN (strlen (m->reason), BLOB_WIRE_REASON_MAX) : 0;

        g_byte_array_append (out, &m->code, 1);
        if (n > 0)
          g_byte_array_append (out, (const uint8_t *) m->reason, (guint) n);
        break;
      }
    default:
      g_assert_not_reached ();
    }
  {
    uint32_t len = out->len - 4;

    out->data[0] = (uint8_t) (len >> 24);
    out->data[1] = (uint8_t) (len >> 16);
    out->data[2] = (uint8_t) (len >> 8);
    out->data[3] = (uint8_t) len;
  }
  return g_byte_array_free_to_bytes (out);
}

GBytes *
blob_wire_encode_chunk_header (uint64_t index, size_t len)
{
  GByteArray *out = g_byte_array_sized_new (BLOB_WIRE_CHUNK_HEADER_LEN);
  uint8_t type = BLOB_MSG_CHUNK;

  g_return_val_if_fail (len <= BLOB_WIRE_CHUNK_MAX, NULL);
  put_u32 (out, (uint32_t) (1 + 8 + len));
  g_byte_array_append (out, &type, 1);
  put_u64 (out, index);
  return g_byte_array_free_to_bytes (out);
}

static BlobDecode
fail (const char **reason, const char *label, GError **error, const char *message)
{
  *reason = label;
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "blob frame: %s", message);
  return BLOB_DECODE_ERROR;
}

BlobDecode
blob_wire_decode (const uint8_t *data, size_t len, size_t *used, BlobMsg *out,
                  const char **reason, GError **error)
{
  uint32_t flen;
  const uint8_t *p;
  size_t n;

  memset (out, 0, sizeof *out);
  *used = 0;
  if (len < 4)
    return BLOB_DECODE_NEED_MORE;
  flen = get_u32 (data);
  if (flen > BLOB_WIRE_FRAME_MAX)
    return fail (reason, "too_large", error, "longer than the bound");
  if (flen < 1)
    return fail (reason, "malformed", error, "empty");
  if (len - 4 < flen)
    return BLOB_DECODE_NEED_MORE;
  p = data + 5;
  n = flen - 1;
  out->type = data[4];
  switch (out->type)
    {
    case BLOB_MSG_REQUEST:
      if (n != BLOB_WIRE_REQUEST_LEN)
        return fail (reason, "malformed", error, "request of the wrong length");
      if (p[0] != BLOB_WIRE_VERSION)
        return fail (reason, "malformed", error, "unknown request version");
      memcpy (out->context_id, p + 1, 32);
      memcpy (out->blob_id, p + 33, 32);
      out->first = get_u64 (p + 65);
      out->count = get_u32 (p + 73);
      out->flags = p[77];
      out->timestamp_us = (int64_t) get_u64 (p + 78);
      memcpy (out->signer, p + 86, 32);
      memcpy (out->signature, p + 118, 64);
      break;
    case BLOB_MSG_HEADER:
      {
        uint32_t n_leaves;

        if (n < 12)
          return fail (reason, "malformed", error, "short header");
        out->size = get_u64 (p);
        n_leaves = get_u32 (p + 8);
        if (n_leaves > BLOB_WIRE_MAX_LEAVES)
          return fail (reason, "too_large", error, "too many leaves");
        if (n != 12 + (size_t) n_leaves * 32)
          return fail (reason, "malformed", error, "header of the wrong length");
        if (n_leaves > 0)
          out->leaves = g_bytes_new (p + 12, (gsize) n_leaves * 32);
        break;
      }
    case BLOB_MSG_CHUNK:
      if (n < 8)
        return fail (reason, "malformed", error, "short chunk");
      if (n - 8 > BLOB_WIRE_CHUNK_MAX)
        return fail (reason, "too_large", error, "chunk over the chunk size");
      out->index = get_u64 (p);
      /* Borrowed, not copied: see blob_wire_decode(). */
      out->data = g_bytes_new_static (p + 8, n - 8);
      break;
    case BLOB_MSG_END:
      if (n != 0)
        return fail (reason, "malformed", error, "end with a payload");
      break;
    case BLOB_MSG_ERROR:
      if (n < 1 || n - 1 > BLOB_WIRE_REASON_MAX)
        return fail (reason, "malformed", error, "error of the wrong length");
      if (!g_utf8_validate ((const char *) p + 1, (gssize) (n - 1), NULL))
        return fail (reason, "malformed", error, "error reason not UTF-8");
      out->code = p[0];
      out->reason = g_strndup ((const char *) p + 1, n - 1);
      if (strlen (out->reason) != n - 1)
        {
          blob_msg_clear (out);
          return fail (reason, "malformed", error, "error reason with a NUL");
        }
      break;
    default:
      return fail (reason, "unknown_type", error, "unknown frame type");
    }
  *used = 4 + flen;
  return BLOB_DECODE_OK;
}
