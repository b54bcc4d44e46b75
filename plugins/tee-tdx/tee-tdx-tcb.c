/* tee-tdx-tcb.c: see tee-tdx-tcb.h. */
#include "tee-tdx-tcb.h"

#include <string.h>

void
tdx_tcb_result_clear (TdxTcbResult *result)
{
  g_clear_pointer (&result->advisory_ids, g_ptr_array_unref);
}

void
tdx_tcb_result_add_advisories (TdxTcbResult *result, char *const *ids)
{
  if (result->advisory_ids == NULL)
    result->advisory_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; ids != NULL && ids[i] != NULL; i++)
    {
      gboolean seen = FALSE;

      for (guint j = 0; j < result->advisory_ids->len && !seen; j++)
        seen = g_str_equal (g_ptr_array_index (result->advisory_ids, j), ids[i]);
      if (!seen)
        g_ptr_array_add (result->advisory_ids, g_strdup (ids[i]));
    }
}

static gboolean
sgx_level_matches (const TdxTcbLevel *level, const TdxSgxExtension *pck)
{
  for (guint i = 0; i < TDX_SGX_TCB_COMPONENTS; i++)
    if (pck->comp_svn[i] < level->sgx_svn[i])
      return FALSE;
  return pck->pcesvn >= level->pcesvn;
}

/* TDX components against @svn (TEE_TCB_SVN or TEE_TCB_SVN2); 0 and 1
 * belong to the module identity when the module's major version is > 0. */
static gboolean
tdx_level_matches (const TdxTcbLevel *level, const uint8_t *svn, gboolean skip_module)
{
  for (guint i = skip_module ? 2 : 0; i < TDX_TDX_TCB_COMPONENTS; i++)
    if (svn[i] < level->tdx_svn[i])
      return FALSE;
  return TRUE;
}

static const TdxTcbLevel *
module_level (const TdxModuleIdentity *identity, uint8_t module_svn)
{
  for (guint i = 0; i < identity->levels->len; i++)
    {
      const TdxTcbLevel *level = g_ptr_array_index (identity->levels, i);

      if (module_svn >= level->isvsvn)
        return level;
    }
  return NULL;
}

static gboolean
is_out_of_date (uint32_t s)
{
  return s == MERO_TEE_TCB_OUT_OF_DATE || s == MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
}

/* Intel's convergence of the TDX level's status with a module or QE status. */
static uint32_t
fold (uint32_t tdx_status, uint32_t other)
{
  if (other == MERO_TEE_TCB_REVOKED)
    return MERO_TEE_TCB_REVOKED;
  if (other == MERO_TEE_TCB_OUT_OF_DATE)
    {
      if (tdx_status == MERO_TEE_TCB_UP_TO_DATE || tdx_status == MERO_TEE_TCB_SW_HARDENING_NEEDED)
        return MERO_TEE_TCB_OUT_OF_DATE;
      if (tdx_status == MERO_TEE_TCB_CONFIGURATION_NEEDED ||
          tdx_status == MERO_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED)
        return MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED;
    }
  return tdx_status;
}

void
tdx_tcb_fold_qe (TdxTcbResult *result, uint32_t qe_status)
{
  result->status = fold (result->status, qe_status);
}

static const TdxModuleIdentity *
find_module_identity (const TdxTcbInfo *info, const char *id)
{
  for (guint i = 0; i < info->module_identities->len; i++)
    {
      const TdxModuleIdentity *identity = g_ptr_array_index (info->module_identities, i);

      if (g_ascii_strcasecmp (identity->id, id) == 0)
        return identity;
    }
  return NULL;
}

static gboolean
check_module (const TdxQuote *quote, const TdxTcbInfo *info,
              const TdxModuleIdentity **identity_out, TdxTcbResult *result, GError **error)
{
  static const uint8_t zero[8] = { 0 };
  const uint8_t *mrsigner = info->module_mrsigner;
  uint8_t major = quote->tee_tcb_svn[1];

  *identity_out = NULL;
  if (major > 0)
    {
      const TdxModuleIdentity *identity;

      g_snprintf (result->module_identity, sizeof result->module_identity, "TDX_%02X", major);
      identity = find_module_identity (info, result->module_identity);
      if (identity == NULL)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                       "TDX module mismatch: the TCB info has no identity %s",
                       result->module_identity);
          return FALSE;
        }
      mrsigner = identity->mrsigner;
      *identity_out = identity;
    }
  if (memcmp (quote->mrsignerseam, mrsigner, 48) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "TDX module mismatch: MRSIGNERSEAM is not the TCB info's module signer");
      return FALSE;
    }
  /* Intel requires SEAMATTRIBUTES all zero for a production module. */
  if (memcmp (quote->seam_attributes, zero, sizeof zero) != 0)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "TDX module mismatch: SEAMATTRIBUTES is not zero");
      return FALSE;
    }
  return TRUE;
}

gboolean
tdx_tcb_evaluate (const TdxQuote *quote, const TdxSgxExtension *pck, const TdxTcbInfo *info,
                  TdxTcbResult *result, GError **error)
{
  const TdxModuleIdentity *identity;
  const TdxTcbLevel *sgx_level = NULL, *tdx_level = NULL, *mod_level = NULL;
  gboolean skip_module = quote->tee_tcb_svn[1] > 0;
  guint i, first_sgx = 0;

  memset (result->module_identity, 0, sizeof result->module_identity);
  result->module_status = MERO_TEE_TCB_UP_TO_DATE;
  if (!check_module (quote, info, &identity, result, error))
    return FALSE;

  for (i = 0; i < info->levels->len && sgx_level == NULL; i++)
    if (sgx_level_matches (g_ptr_array_index (info->levels, i), pck))
      {
        sgx_level = g_ptr_array_index (info->levels, i);
        first_sgx = i;
      }
  for (i = first_sgx; sgx_level != NULL && i < info->levels->len && tdx_level == NULL; i++)
    {
      const TdxTcbLevel *level = g_ptr_array_index (info->levels, i);

      if (sgx_level_matches (level, pck) &&
          tdx_level_matches (level, quote->tee_tcb_svn, skip_module))
        tdx_level = level;
    }
  if (tdx_level == NULL)
    {
      g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                   "TcbNotSupported: no matching TCB level for the platform's %s components",
                   sgx_level == NULL ? "SGX (PCK certificate)" : "TDX (TEE_TCB_SVN)");
      return FALSE;
    }
  result->platform_status = tdx_level->status;
  result->status = tdx_level->status;
  tdx_tcb_result_add_advisories (result, tdx_level->advisory_ids);

  if (identity != NULL)
    {
      mod_level = module_level (identity, quote->tee_tcb_svn[0]);
      if (mod_level == NULL)
        {
          g_set_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY,
                       "TcbNotSupported: no level of module identity %s matches module SVN %u",
                       result->module_identity, quote->tee_tcb_svn[0]);
          return FALSE;
        }
      result->module_status = mod_level->status;
      tdx_tcb_result_add_advisories (result, mod_level->advisory_ids);
      result->status = fold (result->status, mod_level->status);
    }

  /* TD 1.5: a TD whose platform was updated after launch only needs a
   * relaunch when TEE_TCB_SVN2 (the module it would relaunch on) already
   * reaches the latest level. */
  if (quote->tee_tcb_svn2 != NULL && identity != NULL && info->levels->len > 0 &&
      !is_out_of_date (sgx_level->status) && is_out_of_date (result->status) &&
      result->module_status == MERO_TEE_TCB_OUT_OF_DATE)
    {
      const TdxTcbLevel *latest = g_ptr_array_index (info->levels, 0);
      const TdxTcbLevel *latest_module = g_ptr_array_index (identity->levels, 0);

      if (tdx_level_matches (latest, quote->tee_tcb_svn2, skip_module) &&
          quote->tee_tcb_svn2[0] >= latest_module->isvsvn)
        result->status = result->status == MERO_TEE_TCB_OUT_OF_DATE
                             ? MERO_TEE_TCB_TD_RELAUNCH_ADVISED
                             : MERO_TEE_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED;
    }
  return TRUE;
}
