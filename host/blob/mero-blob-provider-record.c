/* mero-blob-provider-record.c: codec and signature of provider records
 * and of the blob-have messages. */
#include "blob/mero-blob-provider-record.h"

#include <sodium.h>
#include <string.h>

#include "mero-blob-providers.pb-c.h"

#define ID_LEN MERO_BLOB_PROVIDER_ID_LEN

G_DEFINE_QUARK (mero-blob-provider-error-quark, mero_blob_provider_error)

const char *
mero_blob_provider_error_reason (const GError *error)
{
  if (error == NULL || error->domain != MERO_BLOB_PROVIDER_ERROR)
    return "other";
  switch ((MeroBlobProviderError) error->code)
    {
    case MERO_BLOB_PROVIDER_ERROR_MALFORMED:
      return "malformed";
    case MERO_BLOB_PROVIDER_ERROR_TOO_LARGE:
      return "too_large";
    case MERO_BLOB_PROVIDER_ERROR_BAD_ID:
      return "bad_id";
    case MERO_BLOB_PROVIDER_ERROR_BAD_SIGNATURE:
      return "bad_signature";
    default:
      return "other";
    }
}

static gboolean
fail (GError **error, MeroBlobProviderError code, const char *what)
{
  g_set_error_literal (error, MERO_BLOB_PROVIDER_ERROR, code, what);
  return FALSE;
}

static GBytes *
pack (const ProtobufCMessage *message)
{
  gsize len = protobuf_c_message_get_packed_size (message);
  guint8 *buf = g_malloc (len > 0 ? len : 1);

  protobuf_c_message_pack (message, buf);
  return g_bytes_new_take (buf, len);
}

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (uint8_t *) data };
  return b;
}

static gboolean
take_id (const ProtobufCBinaryData *b, guint8 out[ID_LEN], GError **error)
{
  if (b->len != ID_LEN)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_BAD_ID, "an id is not 32 bytes");
  memcpy (out, b->data, ID_LEN);
  return TRUE;
}

/* ---- records ---- */

MeroBlobProviderRecord *
mero_blob_provider_record_new (void)
{
  MeroBlobProviderRecord *record = g_new0 (MeroBlobProviderRecord, 1);

  record->blobs = g_array_new (FALSE, TRUE, sizeof (MeroBlobHeld));
  return record;
}

void
mero_blob_provider_record_free (MeroBlobProviderRecord *record)
{
  if (record == NULL)
    return;
  g_array_unref (record->blobs);
  g_free (record);
}

static void
put_u64 (GByteArray *out, guint64 v)
{
  guint8 b[8];

  for (guint i = 0; i < 8; i++)
    b[i] = (guint8) (v >> (56 - 8 * i));
  g_byte_array_append (out, b, 8);
}

/* The exact bytes signed (see the .proto), never a re-encoding. */
static GByteArray *
signing_bytes (const MeroBlobProviderRecord *record)
{
  GByteArray *out = g_byte_array_new ();
  guint8 n[4];
  guint32 count = record->blobs->len;

  g_byte_array_append (out, (const guint8 *) MERO_BLOB_PROVIDER_DOMAIN,
                       strlen (MERO_BLOB_PROVIDER_DOMAIN));
  g_byte_array_append (out, record->context_id, ID_LEN);
  g_byte_array_append (out, record->member, ID_LEN);
  put_u64 (out, record->timestamp_ms);
  n[0] = (guint8) (count >> 24), n[1] = (guint8) (count >> 16), n[2] = (guint8) (count >> 8);
  n[3] = (guint8) count;
  g_byte_array_append (out, n, 4);
  for (guint i = 0; i < count; i++)
    {
      const MeroBlobHeld *h = &g_array_index (record->blobs, MeroBlobHeld, i);

      g_byte_array_append (out, h->id, ID_LEN);
      put_u64 (out, h->size);
    }
  return out;
}

void
mero_blob_provider_record_sign (MeroBlobProviderRecord *record, const guint8 secret_key[64])
{
  g_autoptr (GByteArray) msg = NULL;

  g_return_if_fail (record != NULL && secret_key != NULL);

  crypto_sign_ed25519_sk_to_pk (record->member, secret_key);
  msg = signing_bytes (record);
  crypto_sign_detached (record->signature, NULL, msg->data, msg->len, secret_key);
}

gboolean
mero_blob_provider_record_verify (const MeroBlobProviderRecord *record, GError **error)
{
  g_autoptr (GByteArray) msg = signing_bytes (record);

  if (crypto_sign_verify_detached (record->signature, msg->data, msg->len, record->member) != 0)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_BAD_SIGNATURE,
                 "the provider record's signature does not verify");
  return TRUE;
}

GBytes *
mero_blob_provider_record_encode (const MeroBlobProviderRecord *record)
{
  Mero__Providers__BlobProviderRecord r = MERO__PROVIDERS__BLOB_PROVIDER_RECORD__INIT;
  g_autofree Mero__Providers__BlobHeld *held = NULL;
  g_autofree Mero__Providers__BlobHeld **ptrs = NULL;

  g_return_val_if_fail (record != NULL, NULL);
  g_return_val_if_fail (record->blobs->len <= MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS, NULL);

  held = g_new0 (Mero__Providers__BlobHeld, record->blobs->len + 1);
  ptrs = g_new0 (Mero__Providers__BlobHeld *, record->blobs->len + 1);
  for (guint i = 0; i < record->blobs->len; i++)
    {
      const MeroBlobHeld *h = &g_array_index (record->blobs, MeroBlobHeld, i);

      mero__providers__blob_held__init (&held[i]);
      held[i].blob_id = bin (h->id, ID_LEN);
      held[i].size = h->size;
      ptrs[i] = &held[i];
    }
  r.context_id = bin (record->context_id, ID_LEN);
  r.member = bin (record->member, ID_LEN);
  r.timestamp_ms = record->timestamp_ms;
  r.blobs = ptrs;
  r.n_blobs = record->blobs->len;
  r.signature = bin (record->signature, MERO_BLOB_PROVIDER_SIG_LEN);
  return pack (&r.base);
}

static gboolean
decode_record (const Mero__Providers__BlobProviderRecord *r, MeroBlobProviderRecord *record,
               GError **error)
{
  if (!take_id (&r->context_id, record->context_id, error)
      || !take_id (&r->member, record->member, error))
    return FALSE;
  if (r->signature.len != MERO_BLOB_PROVIDER_SIG_LEN)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "a signature is not 64 bytes");
  memcpy (record->signature, r->signature.data, MERO_BLOB_PROVIDER_SIG_LEN);
  if (r->n_blobs == 0)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "a provider record names no blob");
  if (r->n_blobs > MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_TOO_LARGE, "a provider record names too many blobs");
  record->timestamp_ms = r->timestamp_ms;
  for (size_t i = 0; i < r->n_blobs; i++)
    {
      MeroBlobHeld h = { .size = r->blobs[i]->size };

      if (!take_id (&r->blobs[i]->blob_id, h.id, error))
        return FALSE;
      g_array_append_val (record->blobs, h);
    }
  return TRUE;
}

MeroBlobProviderRecord *
mero_blob_provider_record_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Providers__BlobProviderRecord *r;
  g_autoptr (MeroBlobProviderRecord) record = NULL;
  gboolean ok;

  if (len > MERO_BLOB_PROVIDER_RECORD_MAX_SIZE)
    {
      fail (error, MERO_BLOB_PROVIDER_ERROR_TOO_LARGE, "a provider record is too large");
      return NULL;
    }
  r = mero__providers__blob_provider_record__unpack (NULL, len, data);
  if (r == NULL)
    {
      fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "not a provider record");
      return NULL;
    }
  record = mero_blob_provider_record_new ();
  ok = decode_record (r, record, error);
  mero__providers__blob_provider_record__free_unpacked (r, NULL);
  return ok ? g_steal_pointer (&record) : NULL;
}

/* ---- blob-have ---- */

void
mero_blob_have_clear (MeroBlobHave *have)
{
  g_clear_pointer (&have->error, g_free);
}

GBytes *
mero_blob_have_encode (const MeroBlobHave *have)
{
  g_return_val_if_fail (have != NULL, NULL);

  if (have->is_request)
    {
      Mero__Providers__BlobHaveRequest q = MERO__PROVIDERS__BLOB_HAVE_REQUEST__INIT;

      q.context_id = bin (have->context_id, ID_LEN);
      q.blob_id = bin (have->blob_id, ID_LEN);
      return pack (&q.base);
    }
  else
    {
      Mero__Providers__BlobHaveResponse a = MERO__PROVIDERS__BLOB_HAVE_RESPONSE__INIT;

      g_return_val_if_fail (have->error == NULL
                              || strlen (have->error) <= MERO_BLOB_PROVIDER_MAX_REASON,
                            NULL);
      a.have = have->have;
      a.size = have->size;
      a.error = have->error != NULL ? have->error : (char *) "";
      return pack (&a.base);
    }
}

gboolean
mero_blob_have_decode (const guint8 *data, gsize len, gboolean is_request, MeroBlobHave *out,
                       GError **error)
{
  memset (out, 0, sizeof *out);
  out->is_request = is_request;
  if (len > MERO_BLOB_PROVIDER_HAVE_MAX_SIZE)
    return fail (error, MERO_BLOB_PROVIDER_ERROR_TOO_LARGE, "a blob-have message is too large");
  if (is_request)
    {
      Mero__Providers__BlobHaveRequest *q
          = mero__providers__blob_have_request__unpack (NULL, len, data);
      gboolean ok;

      if (q == NULL)
        return fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "not a blob-have request");
      ok = take_id (&q->context_id, out->context_id, error)
           && take_id (&q->blob_id, out->blob_id, error);
      mero__providers__blob_have_request__free_unpacked (q, NULL);
      return ok;
    }
  else
    {
      Mero__Providers__BlobHaveResponse *a
          = mero__providers__blob_have_response__unpack (NULL, len, data);
      gboolean ok = TRUE;

      if (a == NULL)
        return fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "not a blob-have response");
      if (a->error != NULL && a->error[0] != '\0')
        {
          if (strlen (a->error) > MERO_BLOB_PROVIDER_MAX_REASON)
            ok = fail (error, MERO_BLOB_PROVIDER_ERROR_TOO_LARGE, "a refusal reason too long");
          else if (!g_utf8_validate (a->error, -1, NULL))
            ok = fail (error, MERO_BLOB_PROVIDER_ERROR_MALFORMED, "a refusal reason not UTF-8");
          else
            out->error = g_strdup (a->error);
        }
      out->have = a->have && out->error == NULL;
      out->size = out->have ? a->size : 0;
      mero__providers__blob_have_response__free_unpacked (a, NULL);
      return ok;
    }
}
