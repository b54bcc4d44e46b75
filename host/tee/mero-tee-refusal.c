/* mero-tee-refusal.c: TeeRefusal codec and signature, which refusals are
 * definitive, the admin's rate limit. */
#include "tee/mero-tee-refusal.h"

#include <string.h>

#include <sodium.h>

#include "crypto/mero-sha256.h"
#include "mero-group.pb-c.h"

#define REFUSAL_DOMAIN "mero/tee-refusal/v1"

MeroTeeRefusal *
mero_tee_refusal_new (void)
{
  MeroTeeRefusal *r = g_new0 (MeroTeeRefusal, 1);

  r->message = g_strdup ("");
  return r;
}

void
mero_tee_refusal_free (MeroTeeRefusal *refusal)
{
  if (refusal == NULL)
    return;
  g_free (refusal->message);
  g_free (refusal);
}

static void
put_be (guint8 *out, guint64 v, guint n)
{
  for (guint i = 0; i < n; i++)
    out[i] = (guint8) (v >> (8 * (n - 1 - i)));
}

static void
signing_bytes (const MeroTeeRefusal *r, guint8 out[MERO_SHA256_LEN])
{
  g_autoptr (MeroSha256) h = mero_sha256_new ();
  guint8 reason[4], ts[8], message_hash[MERO_SHA256_LEN];

  put_be (reason, (guint64) r->reason, sizeof reason);
  put_be (ts, r->timestamp_ms, sizeof ts);
  mero_sha256 ((const guint8 *) r->message, strlen (r->message), message_hash);
  mero_sha256_update (h, REFUSAL_DOMAIN, strlen (REFUSAL_DOMAIN));
  mero_sha256_update (h, r->group_id, MERO_GROUP_ID_LEN);
  mero_sha256_update (h, r->admin, MERO_GROUP_KEY_LEN);
  mero_sha256_update (h, r->member, MERO_GROUP_KEY_LEN);
  mero_sha256_update (h, r->quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN);
  mero_sha256_update (h, reason, sizeof reason);
  mero_sha256_update (h, ts, sizeof ts);
  mero_sha256_update (h, message_hash, sizeof message_hash);
  mero_sha256_finish (h, out);
}

void
mero_tee_refusal_sign (MeroTeeRefusal *refusal, const guint8 secret_key[MERO_GROUP_SECRET_LEN])
{
  guint8 digest[MERO_SHA256_LEN];

  g_return_if_fail (refusal != NULL && secret_key != NULL);
  if (strlen (refusal->message) > MERO_TEE_REFUSAL_MESSAGE_MAX)
    {
      const char *end = refusal->message + MERO_TEE_REFUSAL_MESSAGE_MAX;

      /* back to the start of the character the bound cuts */
      while (end > refusal->message && (*end & 0xc0) == 0x80)
        end--;
      refusal->message[end - refusal->message] = '\0';
    }
  crypto_sign_ed25519_sk_to_pk (refusal->admin, secret_key);
  signing_bytes (refusal, digest);
  crypto_sign_detached (refusal->signature, NULL, digest, sizeof digest, secret_key);
}

gboolean
mero_tee_refusal_verify (const MeroTeeRefusal *refusal)
{
  guint8 digest[MERO_SHA256_LEN];

  g_return_val_if_fail (refusal != NULL, FALSE);
  signing_bytes (refusal, digest);
  return crypto_sign_verify_detached (refusal->signature, digest, sizeof digest,
                                      refusal->admin) == 0;
}

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (guint8 *) data };
  return b;
}

GBytes *
mero_tee_refusal_encode (const MeroTeeRefusal *refusal)
{
  Mero__Group__TeeRefusal msg = MERO__GROUP__TEE_REFUSAL__INIT;
  gsize len;
  guint8 *out;

  msg.group_id = bin (refusal->group_id, MERO_GROUP_ID_LEN);
  msg.admin = bin (refusal->admin, MERO_GROUP_KEY_LEN);
  msg.member = bin (refusal->member, MERO_GROUP_KEY_LEN);
  msg.quote_hash = bin (refusal->quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN);
  msg.reason = (guint32) refusal->reason;
  msg.message = refusal->message;
  msg.timestamp_ms = refusal->timestamp_ms;
  msg.signature = bin (refusal->signature, MERO_GROUP_SIG_LEN);
  len = mero__group__tee_refusal__get_packed_size (&msg);
  out = g_malloc (len);
  mero__group__tee_refusal__pack (&msg, out);
  return g_bytes_new_take (out, len);
}

static gboolean
take (guint8 *dst, ProtobufCBinaryData src, gsize len, const char *what, GError **error)
{
  if (src.len != len)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE refusal: %s", what);
      return FALSE;
    }
  memcpy (dst, src.data, len);
  return TRUE;
}

MeroTeeRefusal *
mero_tee_refusal_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Group__TeeRefusal *msg;
  g_autoptr (MeroTeeRefusal) r = NULL;
  gboolean ok;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  if (len > MERO_TEE_REFUSAL_MAX_BYTES)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "TEE refusal of %zu bytes (max %d)", len, MERO_TEE_REFUSAL_MAX_BYTES);
      return NULL;
    }
  /* protobuf-c checks that a string field is UTF-8 */
  msg = mero__group__tee_refusal__unpack (NULL, len, data);
  if (msg == NULL)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE refusal: not a TeeRefusal protobuf");
      return NULL;
    }
  r = mero_tee_refusal_new ();
  ok = take (r->group_id, msg->group_id, MERO_GROUP_ID_LEN, "group id size", error)
       && take (r->admin, msg->admin, MERO_GROUP_KEY_LEN, "admin size", error)
       && take (r->member, msg->member, MERO_GROUP_KEY_LEN, "member size", error)
       && take (r->quote_hash, msg->quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN, "quote hash size",
                error)
       && take (r->signature, msg->signature, MERO_GROUP_SIG_LEN, "signature size", error);
  if (ok && (msg->reason == MERO_GROUP_TEE_ADMIT_OK
             || msg->reason > MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE))
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE refusal: reason %u", msg->reason);
      ok = FALSE;
    }
  if (ok && (msg->message == NULL || strlen (msg->message) > MERO_TEE_REFUSAL_MESSAGE_MAX
             || !g_utf8_validate (msg->message, -1, NULL)))
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE refusal: message (UTF-8, at most %d bytes)",
                   MERO_TEE_REFUSAL_MESSAGE_MAX);
      ok = FALSE;
    }
  if (ok)
    {
      r->reason = (MeroGroupTeeAdmitResult) msg->reason;
      g_free (r->message);
      r->message = g_strdup (msg->message);
      r->timestamp_ms = msg->timestamp_ms;
    }
  mero__group__tee_refusal__free_unpacked (msg, NULL);
  return ok ? g_steal_pointer (&r) : NULL;
}

gboolean
mero_tee_refusal_is_definitive (MeroGroupTeeAdmitResult reason)
{
  return reason == MERO_GROUP_TEE_ADMIT_REPLAYED || reason == MERO_GROUP_TEE_ADMIT_KEY_BINDING
         || reason == MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH;
}

/* ---- the admin's rate limit ---- */

#define LIMITER_KEY_LEN (MERO_GROUP_KEY_LEN + MERO_GROUP_TEE_QUOTE_HASH_LEN + 1)

struct _MeroTeeRefusalLimiter {
  GHashTable *sent;   /* GBytes (member || quote hash || reason) -> gint64* last sent, ms */
};

MeroTeeRefusalLimiter *
mero_tee_refusal_limiter_new (void)
{
  MeroTeeRefusalLimiter *l = g_new0 (MeroTeeRefusalLimiter, 1);

  l->sent = g_hash_table_new_full (g_bytes_hash, g_bytes_equal, (GDestroyNotify) g_bytes_unref,
                                   g_free);
  return l;
}

void
mero_tee_refusal_limiter_free (MeroTeeRefusalLimiter *limiter)
{
  if (limiter == NULL)
    return;
  g_hash_table_unref (limiter->sent);
  g_free (limiter);
}

static gboolean
expired (gpointer key, gpointer value, gpointer user_data)
{
  (void) key;
  return *(gint64 *) user_data - *(gint64 *) value >= MERO_TEE_REFUSAL_INTERVAL_MS;
}

gboolean
mero_tee_refusal_limiter_allow (MeroTeeRefusalLimiter *limiter,
                                const guint8 member[MERO_GROUP_KEY_LEN],
                                const guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN],
                                MeroGroupTeeAdmitResult reason, gint64 now_ms)
{
  guint8 raw[LIMITER_KEY_LEN];
  g_autoptr (GBytes) key = NULL;
  gint64 *last;

  memcpy (raw, member, MERO_GROUP_KEY_LEN);
  memcpy (raw + MERO_GROUP_KEY_LEN, quote_hash, MERO_GROUP_TEE_QUOTE_HASH_LEN);
  raw[LIMITER_KEY_LEN - 1] = (guint8) reason;
  key = g_bytes_new (raw, sizeof raw);
  last = g_hash_table_lookup (limiter->sent, key);
  if (last != NULL && now_ms - *last < MERO_TEE_REFUSAL_INTERVAL_MS)
    return FALSE;
  if (last == NULL && g_hash_table_size (limiter->sent) >= MERO_TEE_REFUSAL_LIMITER_SIZE)
    {
      g_hash_table_foreach_remove (limiter->sent, expired, &now_ms);
      if (g_hash_table_size (limiter->sent) >= MERO_TEE_REFUSAL_LIMITER_SIZE)
        return FALSE;
    }
  last = g_new (gint64, 1);
  *last = now_ms;
  g_hash_table_replace (limiter->sent, g_steal_pointer (&key), last);
  return TRUE;
}
