/* key-share-wire.c: see key-share-wire.h. */
#include "key-share-wire.h"

#include <string.h>

/* Protobuf wire types. */
#define WT_VARINT 0
#define WT_I64 1
#define WT_LEN 2
#define WT_I32 5
/* A uvarint is at most 10 bytes. */
#define UVARINT_MAX 10u

void
key_share_msg_clear (KeyShareMsg *m)
{
  g_clear_pointer (&m->key_ids, g_free);
  g_clear_pointer (&m->sealed, g_free);
  g_clear_pointer (&m->reason, g_free);
  m->n_keys = 0;
}

static void
put_uvarint (GByteArray *out, uint64_t v)
{
  uint8_t b[UVARINT_MAX];
  guint n = 0;

  do
    {
      b[n] = (uint8_t) (v & 0x7f);
      v >>= 7;
      if (v != 0)
        b[n] |= 0x80;
      n++;
    }
  while (v != 0);
  g_byte_array_append (out, b, n);
}

static void
put_bytes (GByteArray *out, guint field, const uint8_t *data, size_t len)
{
  put_uvarint (out, (uint64_t) field << 3 | WT_LEN);
  put_uvarint (out, len);
  g_byte_array_append (out, data, (guint) len);
}

/* Wraps @body as StreamMessage field @kind, then frames it. */
static GBytes *
frame (KeyShareMsgKind kind, GByteArray *body)
{
  g_autoptr (GByteArray) msg = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();

  put_bytes (msg, kind, body->data, body->len);
  put_uvarint (out, msg->len);
  g_byte_array_append (out, msg->data, msg->len);
  return g_byte_array_free_to_bytes (out);
}

GBytes *
key_share_wire_encode_request (const uint8_t group_id[32], const uint8_t *key_ids,
                               size_t n_key_ids)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();

  put_bytes (body, 1, group_id, KEY_SHARE_ID_LEN);
  for (size_t i = 0; i < n_key_ids; i++)
    put_bytes (body, 2, key_ids + i * KEY_SHARE_ID_LEN, KEY_SHARE_ID_LEN);
  return frame (KEY_SHARE_MSG_REQUEST, body);
}

GBytes *
key_share_wire_encode_response (const uint8_t group_id[32], const KeyShareSealed *sealed,
                                size_t n)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();

  put_bytes (body, 1, group_id, KEY_SHARE_ID_LEN);
  for (size_t i = 0; i < n; i++)
    {
      g_autoptr (GByteArray) one = g_byte_array_new ();

      put_bytes (one, 1, sealed[i].key_id, KEY_SHARE_ID_LEN);
      put_bytes (one, 2, sealed[i].sealed, MERO_KEY_SEALED_LEN);
      put_bytes (body, 2, one->data, one->len);
    }
  return frame (KEY_SHARE_MSG_RESPONSE, body);
}

GBytes *
key_share_wire_encode_error (const char *reason)
{
  g_autoptr (GByteArray) body = g_byte_array_new ();
  size_t len = strlen (reason);

  /* proto3 leaves an empty string out. */
  if (len > 0)
    put_bytes (body, 1, (const uint8_t *) reason, MIN (len, KEY_SHARE_MAX_REASON));
  return frame (KEY_SHARE_MSG_ERROR, body);
}

/* ---- decoding ---- */

typedef struct {
  const uint8_t *p;
  size_t left;
} Reader;

static gboolean
get_uvarint (Reader *r, uint64_t *out)
{
  uint64_t v = 0;

  for (guint i = 0; i < UVARINT_MAX; i++)
    {
      uint8_t b;

      if (r->left == 0)
        return FALSE;
      b = *r->p++;
      r->left--;
      if (i == UVARINT_MAX - 1 && b > 1)
        return FALSE;
      v |= (uint64_t) (b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0)
        {
          *out = v;
          return TRUE;
        }
    }
  return FALSE;
}

/* One field: its number, wire type, and for WT_LEN its bytes; other wire
 * types are skipped over. */
static gboolean
get_field (Reader *r, guint *field, guint *wt, const uint8_t **data, size_t *len)
{
  uint64_t tag, v;

  if (!get_uvarint (r, &tag) || (tag >> 3) == 0 || (tag >> 3) > G_MAXUINT32)
    return FALSE;
  *field = (guint) (tag >> 3);
  *wt = (guint) (tag & 7);
  *data = NULL;
  *len = 0;
  switch (*wt)
    {
    case WT_VARINT:
      return get_uvarint (r, &v);
    case WT_I64:
    case WT_I32:
      {
        size_t n = *wt == WT_I64 ? 8 : 4;

        if (r->left < n)
          return FALSE;
        r->p += n;
        r->left -= n;
        return TRUE;
      }
    case WT_LEN:
      if (!get_uvarint (r, &v) || v > r->left)
        return FALSE;
      *data = r->p;
      *len = (size_t) v;
      r->p += v;
      r->left -= v;
      return TRUE;
    default:
      return FALSE;
    }
}

static KeyShareDecode
fail (const char **reason, GError **error, const char *why, const char *what)
{
  *reason = why;
  g_set_error_literal (error, MERO_SYNC_ERROR,
                       g_str_equal (why, "malformed") ? MERO_SYNC_ERROR_PROTOCOL
                                                      : MERO_SYNC_ERROR_LIMIT,
                       what);
  return KEY_SHARE_DECODE_ERROR;
}

static gboolean
take_id (const uint8_t *data, size_t len, uint8_t out[KEY_SHARE_ID_LEN])
{
  if (len != KEY_SHARE_ID_LEN)
    return FALSE;
  memcpy (out, data, KEY_SHARE_ID_LEN);
  return TRUE;
}

static KeyShareDecode
decode_request (const uint8_t *data, size_t len, KeyShareMsg *out, const char **reason,
                GError **error)
{
  Reader r = { data, len };
  gboolean have_group = FALSE;

  out->key_ids = g_malloc (KEY_SHARE_MAX_KEYS * KEY_SHARE_ID_LEN);
  while (r.left > 0)
    {
      guint field, wt;
      const uint8_t *d;
      size_t n;

      if (!get_field (&r, &field, &wt, &d, &n))
        return fail (reason, error, "malformed", "a key request field is cut or invalid");
      if (field == 1 && wt == WT_LEN)
        {
          if (!take_id (d, n, out->group_id))
            return fail (reason, error, "malformed", "a group id that is not 32 bytes");
          have_group = TRUE;
        }
      else if (field == 2 && wt == WT_LEN)
        {
          if (out->n_keys == KEY_SHARE_MAX_KEYS)
            return fail (reason, error, "too-many-keys", "over KEY_SHARE_MAX_KEYS key ids");
          if (!take_id (d, n, out->key_ids + out->n_keys * KEY_SHARE_ID_LEN))
            return fail (reason, error, "malformed", "a key id that is not 32 bytes");
          out->n_keys++;
        }
    }
  if (!have_group)
    return fail (reason, error, "malformed", "a key request without a group id");
  return KEY_SHARE_DECODE_OK;
}

static KeyShareDecode
decode_response (const uint8_t *data, size_t len, KeyShareMsg *out, const char **reason,
                 GError **error)
{
  Reader r = { data, len };
  gboolean have_group = FALSE;

  out->sealed = g_new0 (KeyShareSealed, KEY_SHARE_MAX_KEYS);
  while (r.left > 0)
    {
      guint field, wt;
      const uint8_t *d;
      size_t n;

      if (!get_field (&r, &field, &wt, &d, &n))
        return fail (reason, error, "malformed", "a key response field is cut or invalid");
      if (field == 1 && wt == WT_LEN)
        {
          if (!take_id (d, n, out->group_id))
            return fail (reason, error, "malformed", "a group id that is not 32 bytes");
          have_group = TRUE;
        }
      else if (field == 2 && wt == WT_LEN)
        {
          Reader k = { d, n };
          KeyShareSealed *one;
          gboolean have_id = FALSE, have_sealed = FALSE;

          if (out->n_keys == KEY_SHARE_MAX_KEYS)
            return fail (reason, error, "too-many-keys", "over KEY_SHARE_MAX_KEYS sealed keys");
          one = &out->sealed[out->n_keys];
          while (k.left > 0)
            {
              guint kf, kwt;
              const uint8_t *kd;
              size_t kn;

              if (!get_field (&k, &kf, &kwt, &kd, &kn))
                return fail (reason, error, "malformed", "a sealed key field is cut or invalid");
              if (kf == 1 && kwt == WT_LEN)
                {
                  if (!take_id (kd, kn, one->key_id))
                    return fail (reason, error, "malformed", "a key id that is not 32 bytes");
                  have_id = TRUE;
                }
              else if (kf == 2 && kwt == WT_LEN)
                {
                  if (kn != MERO_KEY_SEALED_LEN)
                    return fail (reason, error, "malformed", "a sealed key of a wrong size");
                  memcpy (one->sealed, kd, MERO_KEY_SEALED_LEN);
                  have_sealed = TRUE;
                }
            }
          if (!have_id || !have_sealed)
            return fail (reason, error, "malformed", "a sealed key without id or box");
          out->n_keys++;
        }
    }
  if (!have_group)
    return fail (reason, error, "malformed", "a key response without a group id");
  return KEY_SHARE_DECODE_OK;
}

static KeyShareDecode
decode_error (const uint8_t *data, size_t len, KeyShareMsg *out, const char **reason,
              GError **error)
{
  Reader r = { data, len };

  out->reason = g_strdup ("");
  while (r.left > 0)
    {
      guint field, wt;
      const uint8_t *d;
      size_t n;

      if (!get_field (&r, &field, &wt, &d, &n))
        return fail (reason, error, "malformed", "an error field is cut or invalid");
      if (field == 1 && wt == WT_LEN)
        {
          if (n > KEY_SHARE_MAX_REASON)
            return fail (reason, error, "too-large", "an error reason over KEY_SHARE_MAX_REASON");
          if (!g_utf8_validate ((const char *) d, (gssize) n, NULL))
            return fail (reason, error, "malformed", "an error reason that is not UTF-8");
          g_free (out->reason);
          out->reason = g_strndup ((const char *) d, n);
        }
    }
  return KEY_SHARE_DECODE_OK;
}

KeyShareDecode
key_share_wire_decode (const uint8_t *data, size_t len, size_t *used, KeyShareMsg *out,
                       const char **reason, GError **error)
{
  Reader r = { data, len };
  uint64_t flen;
  Reader m;
  gboolean have_body = FALSE;
  KeyShareDecode res = KEY_SHARE_DECODE_OK;

  memset (out, 0, sizeof *out);
  *reason = NULL;
  if (!get_uvarint (&r, &flen))
    {
      if (len >= UVARINT_MAX)
        return fail (reason, error, "malformed", "a frame length that is not a uvarint");
      return KEY_SHARE_DECODE_NEED_MORE;
    }
  if (flen > KEY_SHARE_FRAME_MAX)
    return fail (reason, error, "too-large", "a frame over KEY_SHARE_FRAME_MAX");
  if (flen > r.left)
    return KEY_SHARE_DECODE_NEED_MORE;
  *used = (len - r.left) + (size_t) flen;
  m.p = r.p;
  m.left = (size_t) flen;
  while (m.left > 0)
    {
      guint field, wt;
      const uint8_t *d;
      size_t n;

      if (!get_field (&m, &field, &wt, &d, &n))
        {
          res = fail (reason, error, "malformed", "a stream message field is cut or invalid");
          break;
        }
      if (wt != WT_LEN || field < KEY_SHARE_MSG_REQUEST || field > KEY_SHARE_MSG_ERROR)
        continue;   /* another protocol's message: caught below if alone */
      /* One body per message (a oneof written twice is not ours). */
      if (have_body)
        {
          res = fail (reason, error, "malformed", "a stream message with two bodies");
          break;
        }
      have_body = TRUE;
      out->kind = field;
      res = field == KEY_SHARE_MSG_REQUEST    ? decode_request (d, n, out, reason, error)
            : field == KEY_SHARE_MSG_RESPONSE ? decode_response (d, n, out, reason, error)
                                              : decode_error (d, n, out, reason, error);
      if (res != KEY_SHARE_DECODE_OK)
        break;
    }
  if (res == KEY_SHARE_DECODE_OK && !have_body)
    res = fail (reason, error, "malformed", "a stream message without a key-share body");
  if (res != KEY_SHARE_DECODE_OK)
    key_share_msg_clear (out);
  return res;
}
