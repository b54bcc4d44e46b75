/* test-tee-tcb.c: the TCB status rules of tee-tdx on synthetic TCB info,
 * where Intel's QVL and dcap-qvl disagree (no real sample covers these):
 * TDX components 0-1 judged by the module identity, Intel's combination
 * table, the module's and QE's Revoked, the TD relaunch check, and the
 * refusals (no level, no module identity, module signer mismatch). */
#include <string.h>

#include "tee-tdx-tcb.h"

typedef struct {
  TdxTcbInfo info;
  TdxQuote quote;
  TdxSgxExtension pck;
  uint8_t body[TDX_TD15_BODY_LEN];
} Fixture;

static TdxTcbLevel *
level_new (uint8_t sgx, uint16_t pcesvn, uint8_t tdx0, uint8_t tdx2, uint16_t isvsvn,
           MeroTeeTcbStatus status, const char *advisory)
{
  TdxTcbLevel *level = g_new0 (TdxTcbLevel, 1);
  const char *ids[] = { advisory, NULL };

  memset (level->sgx_svn, sgx, sizeof level->sgx_svn);
  level->pcesvn = pcesvn;
  level->tdx_svn[0] = tdx0;
  level->tdx_svn[1] = tdx0 > 0 ? 1 : 0;
  level->tdx_svn[2] = tdx2;
  level->isvsvn = isvsvn;
  level->status = status;
  level->advisory_ids = g_strdupv ((char **) ids);
  return level;
}

static void
level_free (gpointer p)
{
  TdxTcbLevel *level = p;

  g_strfreev (level->advisory_ids);
  g_free (level);
}

static void
identity_free (gpointer p)
{
  TdxModuleIdentity *identity = p;

  g_free (identity->id);
  g_ptr_array_unref (identity->levels);
  g_free (identity);
}

/* A TD 1.0 quote of module major 3, module SVN 3, TDX late microcode 2, on
 * a platform whose SGX components are all 4 and PCE SVN 13; TCB info whose
 * levels want TDX component 0 = 5 (which Intel leaves to the module
 * identity) and component 2 = 2 (UpToDate) or 1 (OutOfDate). */
static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  TdxModuleIdentity *tdx03 = g_new0 (TdxModuleIdentity, 1);

  memset (f, 0, sizeof *f);
  f->body[0] = 3;
  f->body[1] = 3;
  f->body[2] = 2;
  f->quote.version = 4;
  f->quote.tee_tcb_svn = f->body;
  f->quote.mrsignerseam = f->body + 64;
  f->quote.seam_attributes = f->body + 112;
  memset (f->pck.comp_svn, 4, sizeof f->pck.comp_svn);
  f->pck.pcesvn = 13;

  f->info.levels = g_ptr_array_new_with_free_func (level_free);
  g_ptr_array_add (f->info.levels,
                   level_new (4, 13, 5, 2, 0, MERO_TEE_TCB_UP_TO_DATE, NULL));
  g_ptr_array_add (f->info.levels,
                   level_new (4, 13, 5, 1, 0, MERO_TEE_TCB_CONFIGURATION_NEEDED, "INTEL-SA-00001"));
  g_ptr_array_add (f->info.levels, level_new (2, 11, 5, 0, 0, MERO_TEE_TCB_OUT_OF_DATE, NULL));

  tdx03->id = g_strdup ("tdx_03");  /* case-insensitive match */
  tdx03->levels = g_ptr_array_new_with_free_func (level_free);
  g_ptr_array_add (tdx03->levels, level_new (0, 0, 0, 0, 3, MERO_TEE_TCB_UP_TO_DATE, NULL));
  g_ptr_array_add (tdx03->levels,
                   level_new (0, 0, 0, 0, 1, MERO_TEE_TCB_OUT_OF_DATE, "INTEL-SA-00002"));
  f->info.module_identities = g_ptr_array_new_with_free_func (identity_free);
  g_ptr_array_add (f->info.module_identities, tdx03);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_ptr_array_unref (f->info.levels);
  g_ptr_array_unref (f->info.module_identities);
}

static uint32_t
evaluate (Fixture *f, TdxTcbResult *r, GError **error)
{
  memset (r, 0, sizeof *r);
  return tdx_tcb_evaluate (&f->quote, &f->pck, &f->info, r, error) ? r->status : G_MAXUINT32;
}

/* Module major 3, SVN 3: TDX component 0 (3 < 5) is the module identity's
 * to judge, so Intel finds the UpToDate level (dcap-qvl finds none). */
static void
test_module_components_skipped (Fixture *f, gconstpointer data)
{
  TdxTcbResult r;

  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_UP_TO_DATE);
  g_assert_cmpstr (r.module_identity, ==, "TDX_03");
  g_assert_cmpuint (r.module_status, ==, MERO_TEE_TCB_UP_TO_DATE);
  tdx_tcb_result_clear (&r);
}

/* Module OutOfDate over a ConfigurationNeeded level gives Intel's
 * OutOfDateConfigurationNeeded (dcap-qvl's maximum would be OutOfDate);
 * the advisories of both are kept. */
static void
test_combination_table (Fixture *f, gconstpointer data)
{
  TdxTcbResult r;

  f->body[0] = 2;   /* module SVN 2 < 3: the module's OutOfDate level */
  f->body[2] = 1;   /* late microcode 1: the ConfigurationNeeded level */
  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED);
  g_assert_cmpuint (r.platform_status, ==, MERO_TEE_TCB_CONFIGURATION_NEEDED);
  g_assert_cmpuint (r.module_status, ==, MERO_TEE_TCB_OUT_OF_DATE);
  g_assert_cmpuint (r.advisory_ids->len, ==, 2);
  tdx_tcb_result_clear (&r);

  /* The QE folds in by the same rule: OutOfDate raises UpToDate. */
  f->body[0] = 3;
  f->body[2] = 2;
  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_UP_TO_DATE);
  tdx_tcb_fold_qe (&r, MERO_TEE_TCB_OUT_OF_DATE);
  g_assert_cmpuint (r.status, ==, MERO_TEE_TCB_OUT_OF_DATE);
  tdx_tcb_fold_qe (&r, MERO_TEE_TCB_REVOKED);
  g_assert_cmpuint (r.status, ==, MERO_TEE_TCB_REVOKED);
  tdx_tcb_result_clear (&r);
}

static void
test_module_revoked (Fixture *f, gconstpointer data)
{
  TdxModuleIdentity *tdx03 = g_ptr_array_index (f->info.module_identities, 0);
  TdxTcbResult r;

  ((TdxTcbLevel *) g_ptr_array_index (tdx03->levels, 0))->status = MERO_TEE_TCB_REVOKED;
  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_REVOKED);
  tdx_tcb_result_clear (&r);
}

/* TD 1.5: platform out of date only through the module, and TEE_TCB_SVN2
 * (the module a relaunch would get) reaches the latest level. */
static void
test_td_relaunch (Fixture *f, gconstpointer data)
{
  TdxTcbResult r;

  f->body[0] = 2;
  f->quote.tee_tcb_svn2 = f->body + 584;
  f->body[584] = 3;
  f->body[585] = 3;
  f->body[586] = 2;
  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_TD_RELAUNCH_ADVISED);
  tdx_tcb_result_clear (&r);
  /* Without the newer module in TEE_TCB_SVN2 it stays OutOfDate. */
  f->body[584] = 2;
  g_assert_cmpuint (evaluate (f, &r, NULL), ==, MERO_TEE_TCB_OUT_OF_DATE);
  tdx_tcb_result_clear (&r);
}

static void
test_refusals (Fixture *f, gconstpointer data)
{
  TdxTcbResult r;

  {
    g_autoptr (GError) error = NULL;

    f->pck.comp_svn[7] = 1;   /* below every level's SGX component */
    evaluate (f, &r, &error);
    g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY);
    g_assert_nonnull (strstr (error->message, "TcbNotSupported"));
    tdx_tcb_result_clear (&r);
    f->pck.comp_svn[7] = 4;
  }
  {
    g_autoptr (GError) error = NULL;

    f->body[1] = 4;           /* TDX_04: not in the TCB info */
    evaluate (f, &r, &error);
    g_assert_nonnull (strstr (error->message, "no identity TDX_04"));
    tdx_tcb_result_clear (&r);
    f->body[1] = 3;
  }
  {
    g_autoptr (GError) error = NULL;

    f->body[64] = 1;          /* MRSIGNERSEAM is not the identity's signer */
    evaluate (f, &r, &error);
    g_assert_nonnull (strstr (error->message, "MRSIGNERSEAM"));
    tdx_tcb_result_clear (&r);
    f->body[64] = 0;
  }
  {
    g_autoptr (GError) error = NULL;

    f->body[0] = 0;           /* module SVN 0: below every module level */
    evaluate (f, &r, &error);
    g_assert_nonnull (strstr (error->message, "module identity TDX_03"));
    tdx_tcb_result_clear (&r);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/tee-tcb/module-components-skipped", test_module_components_skipped);
  ADD ("/tee-tcb/combination-table", test_combination_table);
  ADD ("/tee-tcb/module-revoked", test_module_revoked);
  ADD ("/tee-tcb/td-relaunch", test_td_relaunch);
  ADD ("/tee-tcb/refusals", test_refusals);
#undef ADD
  return g_test_run ();
}
