/* mero-contexts-tee.c: the TEE admission policy of a context's group:
 * parsing what an operator gives, authoring the signed op, and showing
 * the policy in GetContextInfo. */
#include "node/mero-contexts-tee.h"

#include <string.h>

#include <glib/gi18n.h>

#include "node/mero-contexts-private.h"

static gboolean
parse_measurement (const char *hex, guint8 out[MERO_GROUP_TEE_MEASUREMENT_LEN], const char *what,
                   GError **error)
{
  if (hex == NULL || strlen (hex) != 2 * MERO_GROUP_TEE_MEASUREMENT_LEN)
    goto bad;
  for (guint i = 0; i < MERO_GROUP_TEE_MEASUREMENT_LEN; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto bad;
      out[i] = (guint8) (hi << 4 | lo);
    }
  return TRUE;
bad:
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("%s must be %d hex digits: “%s”"), what, 2 * MERO_GROUP_TEE_MEASUREMENT_LEN,
               hex != NULL ? hex : "");
  return FALSE;
}

static gboolean
parse_status (const char *name, guint32 *mask, GError **error)
{
  for (guint32 s = 0; s < 32; s++)
    if ((MERO_GROUP_TEE_TCB_ALL_REAL & (1u << s)) != 0 && s != MERO_TEE_TCB_UNKNOWN
        && g_strcmp0 (mero_tee_tcb_status_to_string (s), name) == 0)
      {
        *mask |= 1u << s;
        return TRUE;
      }
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("Unknown TCB status “%s”"), name);
  return FALSE;
}

gboolean
mero_contexts_set_tee_policy (MeroContexts *self, const char *context_id, const char *const *mrtds,
                              const char *const *tcb_statuses, const char *const *rtmrs,
                              gboolean accept_mock, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_SET_TEE_POLICY);
  MeroGroupTeePolicy *p = op->tee_policy;
  guint n_rtmrs = rtmrs != NULL ? g_strv_length ((char **) rtmrs) : 0;

  if (ctx == NULL)
    return FALSE;
  if (mrtds != NULL && g_strv_length ((char **) mrtds) > MERO_GROUP_TEE_POLICY_MAX_MRTDS)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("A TEE policy allows at most %d MRTDs"), MERO_GROUP_TEE_POLICY_MAX_MRTDS);
      return FALSE;
    }
  for (guint i = 0; mrtds != NULL && mrtds[i] != NULL; i++)
    if (!parse_measurement (mrtds[i], p->mrtds[p->n_mrtds++], "MRTD", error))
      return FALSE;
  for (guint i = 0; tcb_statuses != NULL && tcb_statuses[i] != NULL; i++)
    if (!parse_status (tcb_statuses[i], &p->tcb_statuses, error))
      return FALSE;
  if (n_rtmrs != 0 && n_rtmrs != MERO_GROUP_TEE_RTMRS)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("Give no RTMRs or exactly four (empty for unchecked)"));
      return FALSE;
    }
  for (guint r = 0; r < n_rtmrs; r++)
    if (rtmrs[r][0] != '\0')
      {
        if (!parse_measurement (rtmrs[r], p->rtmrs[r], "RTMR", error))
          return FALSE;
        p->rtmr_mask |= (guint8) (1u << r);
      }
  p->accept_mock = accept_mock;
  if (!mero_contexts_author (self, ctx->group, op, error))
    {
      g_prefix_error (error, _("Cannot set the TEE policy: "));
      return FALSE;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "tee-policy-set", "MERO_GROUP",
                    ctx->group->hex, "MESSAGE",
                    "group %s: TEE admission policy set (%u MRTDs, accept_mock=%s)",
                    ctx->group->hex, p->n_mrtds, accept_mock ? "true" : "false");
  return TRUE;
}

static char *
hex_of (const guint8 *data, gsize len)
{
  char *out = g_malloc (2 * len + 1);

  for (gsize i = 0; i < len; i++)
    g_snprintf (out + 2 * i, 3, "%02x", data[i]);
  return out;
}

GVariant *
mero_contexts_tee_policy_variant (const MeroGroupTeePolicy *p)
{
  GVariantBuilder b, mrtds, statuses, rtmrs;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_init (&mrtds, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_init (&statuses, G_VARIANT_TYPE_STRING_ARRAY);
  g_variant_builder_init (&rtmrs, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < p->n_mrtds; i++)
    g_variant_builder_add_value (&mrtds, g_variant_new_take_string (
                                           hex_of (p->mrtds[i], MERO_GROUP_TEE_MEASUREMENT_LEN)));
  for (guint32 s = 0; s < 32; s++)
    if ((p->tcb_statuses & (1u << s)) != 0)
      g_variant_builder_add (&statuses, "s", mero_tee_tcb_status_to_string (s));
  for (guint r = 0; p->rtmr_mask != 0 && r < MERO_GROUP_TEE_RTMRS; r++)
    g_variant_builder_add_value (&rtmrs, (p->rtmr_mask & (1u << r)) != 0
                                           ? g_variant_new_take_string (hex_of (
                                               p->rtmrs[r], MERO_GROUP_TEE_MEASUREMENT_LEN))
                                           : g_variant_new_string (""));
  g_variant_builder_add (&b, "{sv}", "mrtds", g_variant_builder_end (&mrtds));
  g_variant_builder_add (&b, "{sv}", "tcb_statuses", g_variant_builder_end (&statuses));
  g_variant_builder_add (&b, "{sv}", "rtmrs", g_variant_builder_end (&rtmrs));
  g_variant_builder_add (&b, "{sv}", "accept_mock", g_variant_new_boolean (p->accept_mock));
  return g_variant_builder_end (&b);
}
