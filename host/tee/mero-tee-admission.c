/* mero-tee-admission.c: TeeAnnounce codec and signature, the admin's
 * admission decision and op, the re-announce schedule. */
#include "tee/mero-tee-admission.h"

#include <string.h>

#include <sodium.h>

#include "context/group/mero-group-envelope.h"
#include "crypto/mero-sha256.h"
#include "mero-group.pb-c.h"

#define ANNOUNCE_DOMAIN "mero/tee-announce/v1"
/* The protobuf around a maximal quote: ids, nonce, signature, tags. */
#define ANNOUNCE_MAX_BYTES (MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES + 512)

MeroTeeAnnounce *
mero_tee_announce_new (void)
{
  MeroTeeAnnounce *a = g_new0 (MeroTeeAnnounce, 1);

  a->quote = g_bytes_new (NULL, 0);
  return a;
}

void
mero_tee_announce_free (MeroTeeAnnounce *announce)
{
  if (announce == NULL)
    return;
  g_bytes_unref (announce->quote);
  g_free (announce);
}

void
mero_tee_quote_hash (GBytes *quote, guint8 out[MERO_GROUP_TEE_QUOTE_HASH_LEN])
{
  gsize len = 0;
  const guint8 *data = g_bytes_get_data (quote, &len);

  mero_sha256 (data, len, out);
}

static void
signing_bytes (const MeroTeeAnnounce *a, guint8 out[MERO_SHA256_LEN])
{
  g_autoptr (MeroSha256) h = mero_sha256_new ();
  guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN], ts[8];

  for (int i = 0; i < 8; i++)
    ts[i] = (guint8) (a->timestamp_ms >> (56 - 8 * i));
  mero_tee_quote_hash (a->quote, quote_hash);
  mero_sha256_update (h, ANNOUNCE_DOMAIN, strlen (ANNOUNCE_DOMAIN));
  mero_sha256_update (h, a->group_id, MERO_GROUP_ID_LEN);
  mero_sha256_update (h, a->member, MERO_GROUP_KEY_LEN);
  mero_sha256_update (h, a->nonce, MERO_GROUP_TEE_NONCE_LEN);
  mero_sha256_update (h, ts, sizeof ts);
  mero_sha256_update (h, quote_hash, sizeof quote_hash);
  mero_sha256_finish (h, out);
}

void
mero_tee_announce_sign (MeroTeeAnnounce *announce, const guint8 secret_key[MERO_GROUP_SECRET_LEN])
{
  guint8 digest[MERO_SHA256_LEN];

  g_return_if_fail (announce != NULL && secret_key != NULL);
  crypto_sign_ed25519_sk_to_pk (announce->member, secret_key);
  signing_bytes (announce, digest);
  crypto_sign_detached (announce->signature, NULL, digest, sizeof digest, secret_key);
}

gboolean
mero_tee_announce_verify (const MeroTeeAnnounce *announce)
{
  guint8 digest[MERO_SHA256_LEN];

  g_return_val_if_fail (announce != NULL, FALSE);
  signing_bytes (announce, digest);
  return crypto_sign_verify_detached (announce->signature, digest, sizeof digest,
                                      announce->member) == 0;
}

static ProtobufCBinaryData
bin (const guint8 *data, gsize len)
{
  ProtobufCBinaryData b = { len, (guint8 *) data };
  return b;
}

GBytes *
mero_tee_announce_encode (const MeroTeeAnnounce *announce)
{
  Mero__Group__TeeAnnounce msg = MERO__GROUP__TEE_ANNOUNCE__INIT;
  gsize quote_len = 0;
  const guint8 *quote = g_bytes_get_data (announce->quote, &quote_len);
  gsize len;
  guint8 *out;

  msg.group_id = bin (announce->group_id, MERO_GROUP_ID_LEN);
  msg.member = bin (announce->member, MERO_GROUP_KEY_LEN);
  msg.nonce = bin (announce->nonce, MERO_GROUP_TEE_NONCE_LEN);
  msg.quote = bin (quote, quote_len);
  msg.timestamp_ms = announce->timestamp_ms;
  msg.signature = bin (announce->signature, MERO_GROUP_SIG_LEN);
  len = mero__group__tee_announce__get_packed_size (&msg);
  out = g_malloc (len);
  mero__group__tee_announce__pack (&msg, out);
  return g_bytes_new_take (out, len);
}

static gboolean
take (guint8 *dst, ProtobufCBinaryData src, gsize len, const char *what, GError **error)
{
  if (src.len != len)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE announce: %s", what);
      return FALSE;
    }
  memcpy (dst, src.data, len);
  return TRUE;
}

MeroTeeAnnounce *
mero_tee_announce_decode (const guint8 *data, gsize len, GError **error)
{
  Mero__Group__TeeAnnounce *msg;
  g_autoptr (MeroTeeAnnounce) a = NULL;
  gboolean ok;

  g_return_val_if_fail (data != NULL || len == 0, NULL);
  if (len > ANNOUNCE_MAX_BYTES)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_TOO_LARGE,
                   "TEE announce of %zu bytes (max %d)", len, ANNOUNCE_MAX_BYTES);
      return NULL;
    }
  msg = mero__group__tee_announce__unpack (NULL, len, data);
  if (msg == NULL)
    {
      g_set_error (error, MERO_GROUP_ERROR, MERO_GROUP_ERROR_MALFORMED,
                   "malformed TEE announce: not a TeeAnnounce protobuf");
      return NULL;
    }
  a = mero_tee_announce_new ();
  ok = take (a->group_id, msg->group_id, MERO_GROUP_ID_LEN, "group id size", error)
       && take (a->member, msg->member, MERO_GROUP_KEY_LEN, "member size", error)
       && take (a->nonce, msg->nonce, MERO_GROUP_TEE_NONCE_LEN, "nonce size", error)
       && take (a->signature, msg->signature, MERO_GROUP_SIG_LEN, "signature size", error);
  if (ok && (msg->quote.len == 0 || msg->quote.len > MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES))
    {
      g_set_error (error, MERO_GROUP_ERROR,
                   msg->quote.len == 0 ? MERO_GROUP_ERROR_MALFORMED : MERO_GROUP_ERROR_TOO_LARGE,
                   "TEE announce quote of %zu bytes (1..%d)", msg->quote.len,
                   MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES);
      ok = FALSE;
    }
  if (ok)
    {
      g_bytes_unref (a->quote);
      a->quote = g_bytes_new (msg->quote.data, msg->quote.len);
      a->timestamp_ms = msg->timestamp_ms;
    }
  mero__group__tee_announce__free_unpacked (msg, NULL);
  return ok ? g_steal_pointer (&a) : NULL;
}

static MeroGroupTeeAdmitResult
refuse (MeroGroupTeeAdmitResult result, char **why, const char *what)
{
  if (why != NULL)
    *why = g_strdup (what);
  return result;
}

MeroGroupTeeAdmitResult
mero_tee_admission_judge (const MeroGroupState *state, const MeroTeeAnnounce *announce,
                          const MeroTeeVerdict *verdict, const GError *verifier_error, char **why)
{
  const MeroGroupTeePolicy *policy;
  guint8 quote_hash[MERO_GROUP_TEE_QUOTE_HASH_LEN];

  g_return_val_if_fail (state != NULL && announce != NULL, MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE);

  if (!mero_group_state_is_created (state)
      || memcmp (mero_group_state_group_id (state), announce->group_id, MERO_GROUP_ID_LEN) != 0)
    return refuse (MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE, why, "the announce is for another group");
  if (!mero_tee_announce_verify (announce))
    return refuse (MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE, why,
                   "the announce is not signed by the key it names");
  policy = mero_group_state_tee_policy (state);
  if (policy == NULL)
    return refuse (MERO_GROUP_TEE_ADMIT_NO_POLICY, why, "the group has no TEE admission policy");
  if (mero_group_state_member (state, announce->member) != NULL)
    return refuse (MERO_GROUP_TEE_ADMIT_ALREADY_MEMBER, why, "the node is already a member");
  mero_tee_quote_hash (announce->quote, quote_hash);
  if (mero_group_state_tee_quote_admitted (state, quote_hash))
    return refuse (MERO_GROUP_TEE_ADMIT_REPLAYED, why, "this quote already admitted a node");
  if (verifier_error != NULL || verdict == NULL)
    {
      if (why != NULL)
        *why = g_strdup_printf ("the verifier refused the quote: %s",
                                verifier_error != NULL ? verifier_error->message : "no verdict");
      return MERO_GROUP_TEE_ADMIT_VERIFIER_REFUSED;
    }
  if (memcmp (verdict->report_data, announce->nonce, MERO_GROUP_TEE_NONCE_LEN) != 0)
    return refuse (MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH, why,
                   "the quote's report data does not carry the announced nonce");
  return mero_group_tee_policy_evaluate (policy, verdict, announce->member, why);
}

MeroGroupOp *
mero_tee_admission_build_op (const MeroGroupState *state, const MeroTeeAnnounce *announce,
                             const guint8 key[MERO_GROUP_GROUP_KEY_LEN], GError **error)
{
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_ADMIT_TEE);
  MeroGroupEnvelope e;

  g_return_val_if_fail (state != NULL && announce != NULL && key != NULL, NULL);
  memcpy (op->member, announce->member, MERO_GROUP_KEY_LEN);
  mero_tee_quote_hash (announce->quote, op->quote_hash);
  memcpy (op->key_id, mero_group_state_key_id (state), MERO_GROUP_ID_LEN);
  if (!mero_group_envelope_seal (announce->member, key, &e, error))
    return NULL;
  mero_group_op_add_envelope (op, &e);
  return g_steal_pointer (&op);
}

gint64
mero_tee_announce_next_delay_ms (guint attempt, guint64 elapsed_ms)
{
  gint64 delay = MERO_TEE_ANNOUNCE_FIRST_RETRY_MS;

  if (elapsed_ms >= MERO_TEE_ANNOUNCE_GIVE_UP_MS)
    return -1;
  for (guint i = 1; i < attempt && delay < MERO_TEE_ANNOUNCE_MAX_RETRY_MS; i++)
    delay *= 2;
  delay = MIN (delay, MERO_TEE_ANNOUNCE_MAX_RETRY_MS);
  return MIN (delay, (gint64) (MERO_TEE_ANNOUNCE_GIVE_UP_MS - elapsed_ms));
}
