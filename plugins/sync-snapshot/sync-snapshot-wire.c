/* sync-snapshot-wire.c: see sync-snapshot-wire.h. */
#include "sync-snapshot-wire.h"

#include <string.h>

#include <zstd.h>

/* Fast level: pages are compressed on the responder's main loop. */
#define COMPRESSION_LEVEL 1

static const uint8_t zero_cursor[32];

void
sync_snapshot_msg_clear (SyncSnapshotMsg *m)
{
  g_free (m->heads);
  g_free (m->entities);
  g_free (m->raw);
  memset (m, 0, sizeof *m);
}

static void
put_u32 (GByteArray *b, uint32_t v)
{
  uint32_t be = GUINT32_TO_BE (v);

  g_byte_array_append (b, (const uint8_t *) &be, 4);
}

static void
put_u64 (GByteArray *b, uint64_t v)
{
  uint64_t be = GUINT64_TO_BE (v);

  g_byte_array_append (b, (const uint8_t *) &be, 8);
}

static uint32_t
get_u32 (const uint8_t *p)
{
  uint32_t be;

  memcpy (&be, p, 4);
  return GUINT32_FROM_BE (be);
}

static uint64_t
get_u64 (const uint8_t *p)
{
  uint64_t be;

  memcpy (&be, p, 8);
  return GUINT64_FROM_BE (be);
}

/* A frame with its length filled in at the end. */
static GByteArray *
frame_start (SyncSnapshotMsgType type)
{
  GByteArray *b = g_byte_array_new ();
  uint8_t t = (uint8_t) type;

  put_u32 (b, 0);
  g_byte_array_append (b, &t, 1);
  return b;
}

static GBytes *
frame_finish (GByteArray *b)
{
  uint32_t be = GUINT32_TO_BE (b->len - 4);

  memcpy (b->data, &be, 4);
  return g_byte_array_free_to_bytes (b);
}

GBytes *
sync_snapshot_wire_encode_empty (SyncSnapshotMsgType type)
{
  return frame_finish (frame_start (type));
}

GBytes *
sync_snapshot_wire_encode_boundary (const uint8_t root[32], const uint8_t *heads, size_t n_heads)
{
  GByteArray *b = frame_start (SYNC_SNAPSHOT_MSG_BOUNDARY);

  n_heads = MIN (n_heads, SYNC_SNAPSHOT_MAX_HEADS);
  g_byte_array_append (b, root, 32);
  put_u32 (b, (uint32_t) n_heads);
  if (n_heads > 0)
    g_byte_array_append (b, heads, (guint) (n_heads * 32));
  return frame_finish (b);
}

GBytes *
sync_snapshot_wire_encode_next (const uint8_t *cursor)
{
  static const uint8_t zero[32];
  GByteArray *b = frame_start (SYNC_SNAPSHOT_MSG_NEXT);
  uint8_t has = cursor != NULL ? 1 : 0;

  g_byte_array_append (b, &has, 1);
  g_byte_array_append (b, cursor != NULL ? cursor : zero, 32);
  return frame_finish (b);
}

static void
entity_encode (GByteArray *b, const MeroStateEntity *e)
{
  uint8_t t = (uint8_t) e->crdt_type;

  g_byte_array_append (b, e->id, 32);
  g_byte_array_append (b, e->parent_id, 32);
  g_byte_array_append (b, &t, 1);
  put_u64 (b, e->created_at);
  put_u64 (b, e->created_node);
  put_u64 (b, e->updated_at);
  put_u64 (b, e->updated_node);
  put_u64 (b, e->deleted_at);
  put_u64 (b, e->deleted_node);
  put_u64 (b, e->cleared_at);
  put_u64 (b, e->cleared_node);
  put_u32 (b, (uint32_t) e->data_len);
  if (e->data_len > 0)
    g_byte_array_append (b, e->data, (guint) e->data_len);
}

GBytes *
sync_snapshot_wire_encode_page (const MeroStateEntity *entities, size_t n, gboolean more,
                                size_t *n_used)
{
  g_autoptr (GByteArray) raw = g_byte_array_new ();
  GByteArray *b = frame_start (SYNC_SNAPSHOT_MSG_PAGE);
  size_t used = 0, bound, written;
  uint8_t more_byte;

  n = MIN (n, SYNC_SNAPSHOT_MAX_PAGE_ENTITIES);
  while (used < n && (used == 0 || raw->len < SYNC_SNAPSHOT_PAGE_BUDGET))
    entity_encode (raw, &entities[used++]);
  more_byte = more || used < n ? 1 : 0;
  g_byte_array_append (b, &more_byte, 1);
  put_u32 (b, (uint32_t) used);
  put_u32 (b, raw->len);
  bound = ZSTD_compressBound (raw->len);
  g_byte_array_set_size (b, (guint) (b->len + bound));
  written = ZSTD_compress (b->data + b->len - bound, bound, raw->data, raw->len,
                           COMPRESSION_LEVEL);
  /* Compressing bytes we made into a buffer of the bound cannot fail. */
  g_assert (!ZSTD_isError (written));
  g_byte_array_set_size (b, (guint) (b->len - bound + written));
  *n_used = used;
  return frame_finish (b);
}

static SyncSnapshotDecode
bad (const char **reason, GError **error, const char *why, const char *what)
{
  *reason = why;
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "snapshot frame: %s", what);
  return SYNC_SNAPSHOT_DECODE_ERROR;
}

static SyncSnapshotDecode
decode_page (const uint8_t *p, size_t len, SyncSnapshotMsg *out, const char **reason,
             GError **error)
{
  uint32_t n, raw_len;
  unsigned long long declared;
  size_t got, off = 0;

  if (len < 9 || p[0] > 1)
    return bad (reason, error, "malformed", "bad page header");
  out->more = p[0] == 1;
  n = get_u32 (p + 1);
  raw_len = get_u32 (p + 5);
  p += 9;
  len -= 9;
  /* An empty page only ends a snapshot (a resume after the last page). */
  if ((n == 0 && out->more) || n > SYNC_SNAPSHOT_MAX_PAGE_ENTITIES)
    return bad (reason, error, "too-many-entities", "page entity count out of range");
  if (raw_len > SYNC_SNAPSHOT_MAX_PAGE_RAW || raw_len < (size_t) n * SYNC_SNAPSHOT_ENTITY_HEAD)
    return bad (reason, error, "page-too-large", "page raw size out of range");
  declared = ZSTD_getFrameContentSize (p, len);
  if (declared != raw_len)
    return bad (reason, error, "malformed", "compressed size does not match the page");
  out->raw = g_malloc (MAX (raw_len, 1));
  got = ZSTD_decompress (out->raw, raw_len, p, len);
  if (ZSTD_isError (got) || got != raw_len)
    return bad (reason, error, "malformed", "page does not decompress");
  out->raw_len = raw_len;
  out->entities = g_new0 (MeroStateEntity, n);
  for (uint32_t i = 0; i < n; i++)
    {
      MeroStateEntity *e = &out->entities[i];
      const uint8_t *q = out->raw + off;
      uint32_t dl;

      if (raw_len - off < SYNC_SNAPSHOT_ENTITY_HEAD)
        return bad (reason, error, "malformed", "truncated entity");
      e->struct_size = sizeof *e;
      memcpy (e->id, q, 32);
      memcpy (e->parent_id, q + 32, 32);
      e->crdt_type = q[64];
      e->created_at = get_u64 (q + 65);
      e->created_node = get_u64 (q + 73);
      e->updated_at = get_u64 (q + 81);
      e->updated_node = get_u64 (q + 89);
      e->deleted_at = get_u64 (q + 97);
      e->deleted_node = get_u64 (q + 105);
      e->cleared_at = get_u64 (q + 113);
      e->cleared_node = get_u64 (q + 121);
      dl = get_u32 (q + 129);
      off += SYNC_SNAPSHOT_ENTITY_HEAD;
      if (dl > SYNC_SNAPSHOT_MAX_DATA)
        return bad (reason, error, "data-too-large", "entity data over the bound");
      if (dl > raw_len - off)
        return bad (reason, error, "malformed", "truncated entity data");
      e->data = dl > 0 ? out->raw + off : NULL;
      e->data_len = dl;
      off += dl;
      if (i > 0 && memcmp (e->id, out->entities[i - 1].id, 32) <= 0)
        return bad (reason, error, "out-of-order", "page ids not ascending");
    }
  if (off != raw_len)
    return bad (reason, error, "malformed", "trailing bytes in a page");
  out->n_entities = n;
  return SYNC_SNAPSHOT_DECODE_MSG;
}

SyncSnapshotDecode
sync_snapshot_wire_decode (const uint8_t *buf, size_t len, size_t *consumed,
                           SyncSnapshotMsg *out, const char **reason, GError **error)
{
  SyncSnapshotDecode r = SYNC_SNAPSHOT_DECODE_MSG;
  uint32_t body_len;
  const uint8_t *p;

  memset (out, 0, sizeof *out);
  *consumed = 0;
  *reason = NULL;
  if (len < 4)
    return SYNC_SNAPSHOT_DECODE_NEED_MORE;
  body_len = get_u32 (buf);
  if (body_len == 0 || body_len > SYNC_SNAPSHOT_MAX_FRAME)
    return bad (reason, error, "frame-too-large", "frame length out of range");
  if (len - 4 < body_len)
    return SYNC_SNAPSHOT_DECODE_NEED_MORE;
  p = buf + 4;
  out->type = p[0];
  switch (out->type)
    {
    case SYNC_SNAPSHOT_MSG_OPEN:
    case SYNC_SNAPSHOT_MSG_DONE:
      if (body_len != 1)
        r = bad (reason, error, "malformed", "unexpected body");
      break;
    case SYNC_SNAPSHOT_MSG_BOUNDARY:
      {
        uint32_t n;

        if (body_len < 1 + 32 + 4)
          {
            r = bad (reason, error, "malformed", "short boundary");
            break;
          }
        memcpy (out->root, p + 1, 32);
        n = get_u32 (p + 33);
        if (n > SYNC_SNAPSHOT_MAX_HEADS)
          r = bad (reason, error, "too-many-heads", "boundary heads over the bound");
        else if ((size_t) body_len != 1 + 32 + 4 + (size_t) n * 32)
          r = bad (reason, error, "malformed", "boundary length");
        else
          {
            out->n_heads = n;
            out->heads = n > 0 ? g_memdup2 (p + 37, (gsize) n * 32) : NULL;
          }
        break;
      }
    case SYNC_SNAPSHOT_MSG_NEXT:
      /* One encoding per message: no cursor is sent as zeros. */
      if (body_len != 1 + 1 + 32 || p[1] > 1
          || (p[1] == 0 && memcmp (p + 2, zero_cursor, 32) != 0))
        r = bad (reason, error, "malformed", "bad next");
      else
        {
          out->has_cursor = p[1] == 1;
          memcpy (out->cursor, p + 2, 32);
        }
      break;
    case SYNC_SNAPSHOT_MSG_PAGE:
      r = decode_page (p + 1, body_len - 1, out, reason, error);
      break;
    default:
      r = bad (reason, error, "unknown-type", "unknown message type");
      break;
    }
  if (r != SYNC_SNAPSHOT_DECODE_MSG)
    {
      sync_snapshot_msg_clear (out);
      return r;
    }
  *consumed = 4 + (size_t) body_len;
  return r;
}
