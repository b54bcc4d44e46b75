/* mero-sync-handshake.c: see mero-sync-handshake.h. */
#include "sync/mero-sync-handshake.h"

#include <string.h>

#include "mero-sync.pb-c.h"

G_DEFINE_QUARK (mero-sync-handshake-error-quark, mero_sync_handshake_error)

MeroSyncHello *
mero_sync_hello_new (const guint8 context_id[32])
{
  MeroSyncHello *hello = g_new0 (MeroSyncHello, 1);

  memcpy (hello->context_id, context_id, 32);
  hello->heads = g_array_new (FALSE, FALSE, 32);
  return hello;
}

/* A refusal as valid UTF-8 shorter than MERO_SYNC_HANDSHAKE_MAX_REFUSAL
 * bytes. g_utf8_make_valid() replaces each invalid byte with U+FFFD (three
 * bytes), so a bounded input can come out up to three times longer: cut
 * after repairing, at a character boundary. */
static char *
bounded_refusal (const char *reason)
{
  char *valid = g_utf8_make_valid (reason, -1);
  gsize cut = MERO_SYNC_HANDSHAKE_MAX_REFUSAL - 1;

  if (strlen (valid) <= cut)
    return valid;
  while (cut > 0 && ((guchar) valid[cut] & 0xC0) == 0x80)
    cut--;
  valid[cut] = '\0';
  return valid;
}

MeroSyncHello *
mero_sync_hello_new_refusal (const guint8 context_id[32], const char *reason)
{
  MeroSyncHello *hello = mero_sync_hello_new (context_id);

  hello->refusal = bounded_refusal (reason);
  return hello;
}

void
mero_sync_hello_free (MeroSyncHello *hello)
{
  if (hello == NULL)
    return;
  g_array_unref (hello->heads);
  g_free (hello->refusal);
  g_free (hello);
}

void
mero_sync_hello_add_head (MeroSyncHello *hello, const guint8 head[32])
{
  g_array_append_vals (hello->heads, head, 1);
}

GBytes *
mero_sync_hello_encode (const MeroSyncHello *hello)
{
  Mero__Sync__SyncHandshake m = MERO__SYNC__SYNC_HANDSHAKE__INIT;
  g_autofree ProtobufCBinaryData *heads = NULL;
  gsize len;
  guint8 *buf;

  g_return_val_if_fail (hello->heads->len <= MERO_SYNC_HANDSHAKE_MAX_HEADS, NULL);
  m.context_id = (ProtobufCBinaryData) { 32, (guint8 *) hello->context_id };
  m.root_hash = (ProtobufCBinaryData) { 32, (guint8 *) hello->root_hash };
  heads = g_new0 (ProtobufCBinaryData, MAX (hello->heads->len, 1));
  for (guint i = 0; i < hello->heads->len; i++)
    heads[i] = (ProtobufCBinaryData) { 32, (guint8 *) hello->heads->data + (gsize) i * 32 };
  m.n_heads = hello->heads->len;
  m.heads = heads;
  m.entity_count = hello->entity_count;
  m.max_depth = hello->max_depth;
  m.refusal = hello->refusal != NULL ? hello->refusal : (char *) "";
  len = protobuf_c_message_get_packed_size (&m.base);
  buf = g_malloc (MAX (len, 1));
  protobuf_c_message_pack (&m.base, buf);
  return g_bytes_new_take (buf, len);
}

static gboolean
fail (GError **error, MeroSyncHandshakeError code, const char *what)
{
  g_set_error (error, MERO_SYNC_HANDSHAKE_ERROR, code, "sync handshake: %s", what);
  return FALSE;
}

MeroSyncHello *
mero_sync_hello_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Sync__SyncHandshake *m;
  g_autoptr (MeroSyncHello) hello = NULL;
  gboolean ok = TRUE;

  if (len > MERO_SYNC_HANDSHAKE_MAX_BYTES)
    {
      fail (error, MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE, "message over the size bound");
      return NULL;
    }
  m = mero__sync__sync_handshake__unpack (NULL, len, data);
  if (m == NULL)
    {
      fail (error, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED, "not a SyncHandshake");
      return NULL;
    }
  if (m->context_id.len != 32)
    ok = fail (error, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED, "context id is not 32 bytes");
  else if (m->root_hash.len != 32 && m->root_hash.len != 0)
    ok = fail (error, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED, "root hash is not 32 bytes");
  else if (m->n_heads > MERO_SYNC_HANDSHAKE_MAX_HEADS)
    ok = fail (error, MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE, "too many heads");
  else if (m->refusal != NULL && strlen (m->refusal) >= MERO_SYNC_HANDSHAKE_MAX_REFUSAL)
    ok = fail (error, MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE, "refusal too long");
  for (gsize i = 0; ok && i < m->n_heads; i++)
    if (m->heads[i].len != 32)
      ok = fail (error, MERO_SYNC_HANDSHAKE_ERROR_MALFORMED, "a head is not 32 bytes");
  if (ok)
    {
      hello = mero_sync_hello_new (m->context_id.data);
      if (m->root_hash.len == 32)
        memcpy (hello->root_hash, m->root_hash.data, 32);
      for (gsize i = 0; i < m->n_heads; i++)
        mero_sync_hello_add_head (hello, m->heads[i].data);
      hello->entity_count = m->entity_count;
      hello->max_depth = m->max_depth;
      if (m->refusal != NULL && m->refusal[0] != '\0')
        hello->refusal = bounded_refusal (m->refusal);
    }
  mero__sync__sync_handshake__free_unpacked (m, NULL);
  return g_steal_pointer (&hello);
}

void
mero_sync_hello_to_sdk (const MeroSyncHello *hello, MeroSyncHandshake *out)
{
  memset (out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  memcpy (out->root_hash, hello->root_hash, 32);
  out->heads = (const uint8_t *) hello->heads->data;
  out->n_heads = hello->heads->len;
  out->entity_count = hello->entity_count;
  out->max_depth = hello->max_depth;
}

const char *
mero_sync_handshake_error_reason (const GError *error)
{
  if (error == NULL || error->domain != MERO_SYNC_HANDSHAKE_ERROR)
    return "other";
  return error->code == MERO_SYNC_HANDSHAKE_ERROR_TOO_LARGE ? "too_large" : "malformed";
}
