/* mero-group-tee-policy.c: TEE admission policy, its canonical bytes and
 * its evaluation against a verifier's verdict. */
#include "context/group/mero-group-tee-policy.h"

#include <stdlib.h>
#include <string.h>

#include "crypto/mero-sha256.h"

#define M MERO_GROUP_TEE_MEASUREMENT_LEN

const char *
mero_group_tee_admit_reason (MeroGroupTeeAdmitResult result)
{
  switch (result)
    {
    case MERO_GROUP_TEE_ADMIT_OK:
      return "ok";
    case MERO_GROUP_TEE_ADMIT_NO_POLICY:
      return "no_policy";
    case MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED:
      return "mock_not_accepted";
    case MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED:
      return "mrtd_not_allowed";
    case MERO_GROUP_TEE_ADMIT_TCB_NOT_ACCEPTED:
      return "tcb_not_accepted";
    case MERO_GROUP_TEE_ADMIT_RTMR_MISMATCH:
      return "rtmr_mismatch";
    case MERO_GROUP_TEE_ADMIT_KEY_BINDING:
      return "key_binding";
    case MERO_GROUP_TEE_ADMIT_REPLAYED:
      return "replayed";
    case MERO_GROUP_TEE_ADMIT_ALREADY_MEMBER:
      return "already_member";
    case MERO_GROUP_TEE_ADMIT_VERIFIER_REFUSED:
      return "verifier_refused";
    case MERO_GROUP_TEE_ADMIT_NONCE_MISMATCH:
      return "nonce_mismatch";
    case MERO_GROUP_TEE_ADMIT_BAD_ANNOUNCE:
      return "bad_announce";
    default:
      return "unknown";
    }
}

void
mero_group_tee_report_data (const guint8 nonce[MERO_GROUP_TEE_NONCE_LEN],
                            const guint8 member[MERO_GROUP_KEY_LEN], guint8 out[64])
{
  memcpy (out, nonce, MERO_GROUP_TEE_NONCE_LEN);
  mero_sha256 (member, MERO_GROUP_KEY_LEN, out + MERO_GROUP_TEE_NONCE_LEN);
}

static MeroGroupTeeAdmitResult
refuse (MeroGroupTeeAdmitResult result, char **why, const char *format, ...) G_GNUC_PRINTF (3, 4);

static MeroGroupTeeAdmitResult
refuse (MeroGroupTeeAdmitResult result, char **why, const char *format, ...)
{
  va_list ap;

  if (why != NULL)
    {
      va_start (ap, format);
      *why = g_strdup_vprintf (format, ap);
      va_end (ap);
    }
  return result;
}

MeroGroupTeeAdmitResult
mero_group_tee_policy_evaluate (const MeroGroupTeePolicy *policy, const MeroTeeVerdict *verdict,
                                const guint8 member[MERO_GROUP_KEY_LEN], char **why)
{
  guint8 key_hash[32];
  gboolean mock;
  gboolean allowed = FALSE;

  g_return_val_if_fail (verdict != NULL && member != NULL, MERO_GROUP_TEE_ADMIT_NO_POLICY);

  if (policy == NULL)
    return refuse (MERO_GROUP_TEE_ADMIT_NO_POLICY, why, "the group has no TEE admission policy");
  /* The binding first: a quote for another key says nothing about this
   * node, whatever it measures. */
  mero_sha256 (member, MERO_GROUP_KEY_LEN, key_hash);
  if (memcmp (verdict->report_data + MERO_GROUP_TEE_NONCE_LEN, key_hash, sizeof key_hash) != 0)
    return refuse (MERO_GROUP_TEE_ADMIT_KEY_BINDING, why,
                   "the quote's report data is not bound to this member key");
  mock = verdict->tcb_status == MERO_TEE_TCB_MOCK || (verdict->flags & MERO_TEE_VERDICT_MOCK) != 0;
  if (mock && !policy->accept_mock)
    return refuse (MERO_GROUP_TEE_ADMIT_MOCK_NOT_ACCEPTED, why,
                   "mock quote and the policy does not accept mock");
  if (!mock && (verdict->tcb_status >= 32 || (policy->tcb_statuses & (1u << verdict->tcb_status)) == 0))
    return refuse (MERO_GROUP_TEE_ADMIT_TCB_NOT_ACCEPTED, why,
                   "TCB status %s is not accepted by the policy",
                   mero_tee_tcb_status_to_string (verdict->tcb_status));
  for (guint i = 0; i < policy->n_mrtds && !allowed; i++)
    allowed = verdict->measurement_len == M && memcmp (policy->mrtds[i], verdict->measurement, M) == 0;
  if (!allowed)
    {
      g_autoptr (GString) hex = g_string_new (NULL);
      for (gsize i = 0; i < MIN (verdict->measurement_len, (gsize) M); i++)
        g_string_append_printf (hex, "%02x", verdict->measurement[i]);
      return refuse (MERO_GROUP_TEE_ADMIT_MRTD_NOT_ALLOWED, why,
                     "MRTD %s is not allowed by the policy", hex->str);
    }
  for (guint r = 0; r < MERO_GROUP_TEE_RTMRS; r++)
    if ((policy->rtmr_mask & (1u << r)) != 0 && memcmp (policy->rtmrs[r], verdict->rtmr[r], M) != 0)
      return refuse (MERO_GROUP_TEE_ADMIT_RTMR_MISMATCH, why,
                     "RTMR%u differs from the policy's", r);
  return MERO_GROUP_TEE_ADMIT_OK;
}

static void
put_u32 (GByteArray *b, guint32 v)
{
  guint8 buf[4] = { v >> 24, v >> 16, v >> 8, v };
  g_byte_array_append (b, buf, 4);
}

void
mero_group_tee_policy_put (GByteArray *b, const MeroGroupTeePolicy *policy)
{
  guint8 flag;

  put_u32 (b, policy->n_mrtds);
  for (guint i = 0; i < policy->n_mrtds; i++)
    g_byte_array_append (b, policy->mrtds[i], M);
  put_u32 (b, policy->tcb_statuses);
  g_byte_array_append (b, &policy->rtmr_mask, 1);
  for (guint r = 0; r < MERO_GROUP_TEE_RTMRS; r++)
    if ((policy->rtmr_mask & (1u << r)) != 0)
      g_byte_array_append (b, policy->rtmrs[r], M);
  flag = policy->accept_mock ? 1 : 0;
  g_byte_array_append (b, &flag, 1);
}

static int
cmp_measurement (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, M);
}

void
mero_group_tee_policy_normalize (MeroGroupTeePolicy *policy)
{
  guint out = 0;

  qsort (policy->mrtds, policy->n_mrtds, M, cmp_measurement);
  for (guint i = 0; i < policy->n_mrtds; i++)
    {
      if (out > 0 && memcmp (policy->mrtds[out - 1], policy->mrtds[i], M) == 0)
        continue;
      if (out != i)
        memcpy (policy->mrtds[out], policy->mrtds[i], M);
      out++;
    }
  policy->n_mrtds = out;
  for (guint r = 0; r < MERO_GROUP_TEE_RTMRS; r++)
    if ((policy->rtmr_mask & (1u << r)) == 0)
      memset (policy->rtmrs[r], 0, M);
  policy->rtmr_mask &= (1u << MERO_GROUP_TEE_RTMRS) - 1;
  policy->tcb_statuses &= MERO_GROUP_TEE_TCB_ALL_REAL;
}
