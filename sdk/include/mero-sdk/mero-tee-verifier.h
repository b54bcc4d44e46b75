/* mero-tee-verifier.h: vtable of a TEE_VERIFIER plugin.
 *
 * Verifies an attestation quote from a specialised node and reports the
 * measurement it attests, so the node can decide whether to admit it.
 *
 * ABI 1.1 appended: the full TCB status list, the verdict's RTMRs, FMSPC,
 * advisory ids and flags, and verify_at(), which takes the collateral and
 * the verification time from the host (a verifier never reads the wall
 * clock and never goes online). */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Append-only.  The order of 0..2 is ABI 1's; 4.. are Intel's statuses. */
typedef enum {
  MERO_TEE_TCB_UP_TO_DATE = 0,
  MERO_TEE_TCB_OUT_OF_DATE = 1,
  MERO_TEE_TCB_REVOKED = 2,
  MERO_TEE_TCB_UNKNOWN = 3,
  /* ABI 1.1 */
  MERO_TEE_TCB_SW_HARDENING_NEEDED = 4,
  MERO_TEE_TCB_CONFIGURATION_NEEDED = 5,
  MERO_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED = 6,
  MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED = 7,
  MERO_TEE_TCB_TD_RELAUNCH_ADVISED = 8,
  MERO_TEE_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED = 9,
  /* A mock quote (no cryptography at all): only with tee.accept_mock. */
  MERO_TEE_TCB_MOCK = 10,
} MeroTeeTcbStatus;

/* Intel's spelling of each status (dcap-qvl and PCS use the same). */
static inline const char *
mero_tee_tcb_status_to_string (uint32_t status)
{
  switch (status)
    {
    case MERO_TEE_TCB_UP_TO_DATE: return "UpToDate";
    case MERO_TEE_TCB_OUT_OF_DATE: return "OutOfDate";
    case MERO_TEE_TCB_REVOKED: return "Revoked";
    case MERO_TEE_TCB_SW_HARDENING_NEEDED: return "SWHardeningNeeded";
    case MERO_TEE_TCB_CONFIGURATION_NEEDED: return "ConfigurationNeeded";
    case MERO_TEE_TCB_CONFIGURATION_AND_SW_HARDENING_NEEDED:
      return "ConfigurationAndSWHardeningNeeded";
    case MERO_TEE_TCB_OUT_OF_DATE_CONFIGURATION_NEEDED: return "OutOfDateConfigurationNeeded";
    case MERO_TEE_TCB_TD_RELAUNCH_ADVISED: return "TDRelaunchAdvised";
    case MERO_TEE_TCB_TD_RELAUNCH_ADVISED_CONFIGURATION_NEEDED:
      return "TDRelaunchAdvisedConfigurationNeeded";
    case MERO_TEE_TCB_MOCK: return "Mock";
    case MERO_TEE_TCB_UNKNOWN:
    default: return "Unknown";
    }
}

/* MeroTeeVerdict.flags (ABI 1.1). */
#define MERO_TEE_VERDICT_MOCK (1u << 0)  /* no cryptographic evidence at all */
#define MERO_TEE_VERDICT_DEBUG (1u << 1) /* the TD runs in debug mode */

#define MERO_TEE_ADVISORY_IDS_MAX 1024   /* bytes of the comma-separated list */

typedef struct {
  uint32_t struct_size;
  uint32_t tcb_status;        /* MeroTeeTcbStatus */
  uint8_t measurement[48];    /* e.g. TDX MRTD; zero-padded */
  size_t measurement_len;
  uint8_t report_data[64];
  /* ABI 1.1 */
  uint8_t rtmr[4][48];        /* TDX RTMR0..3 */
  uint8_t fmspc[6];           /* platform family of the PCK certificate */
  uint8_t tee_tcb_svn[16];
  uint8_t reserved_pad[2];
  uint32_t flags;             /* MERO_TEE_VERDICT_* */
  uint32_t platform_status;   /* MeroTeeTcbStatus of the TCB level alone */
  uint32_t qe_status;         /* MeroTeeTcbStatus of the quoting enclave */
  uint32_t module_status;     /* MeroTeeTcbStatus of the TDX module identity */
  uint32_t tcb_evaluation_data_number;
  char module_identity[16];   /* e.g. "TDX_01"; empty for module major 0 */
  char advisory_ids[MERO_TEE_ADVISORY_IDS_MAX]; /* "INTEL-SA-…,…", NUL-terminated */
} MeroTeeVerdict;

/* One collateral document, as the operator saved it (ABI 1.1).  For TDX:
 * dcap-qvl's QuoteCollateralV3 JSON. */
typedef struct {
  const uint8_t *data;
  size_t len;
  const char *name;           /* where it came from, for messages; may be NULL */
} MeroTeeCollateral;

/* MeroTeeVerifyInput.flags (ABI 1.1). */
#define MERO_TEE_VERIFY_ACCEPT_MOCK (1u << 0) /* tee.accept_mock=true */
#define MERO_TEE_VERIFY_ALLOW_DEBUG (1u << 1) /* accept a TD in debug mode */

typedef struct {
  uint32_t struct_size;
  uint32_t flags;             /* MERO_TEE_VERIFY_* */
  const uint8_t *quote;
  size_t quote_len;
  const uint8_t *expected_report_data; /* NULL: not checked */
  size_t report_data_len;
  const MeroTeeCollateral *collateral; /* the verifier picks what fits */
  size_t n_collateral;
  int64_t now_unix;           /* seconds; every validity window is judged here */
} MeroTeeVerifyInput;

typedef struct _MeroTeeVerifierVTable MeroTeeVerifierVTable;

struct _MeroTeeVerifierVTable {
  uint32_t struct_size;
  uint32_t reserved;

  /* Quote format this verifier handles, e.g. "tdx" or "mock". */
  const char *quote_format;

  /* Verifies @quote.  If @expected_report_data is not NULL the quote must
   * bind exactly those bytes.  Fills @verdict (its struct_size is set by
   * the caller) on success. */
  gboolean (*verify) (void *plugin_data, const uint8_t *quote, size_t quote_len,
                      const uint8_t *expected_report_data, size_t report_data_len,
                      MeroTeeVerdict *verdict, GError **error);

  /* ABI 1.1; may be NULL. */

  /* TRUE if @quote is in this verifier's format (a cheap look at its
   * header), so the host can pick the verifier for a quote. */
  gboolean (*handles_quote) (void *plugin_data, const uint8_t *quote, size_t quote_len);
  /* verify() with the collateral and the time: fills the members of
   * @verdict its struct_size covers.  Refusals are MERO_TEE_ERROR with a
   * message that says which check failed. */
  gboolean (*verify_at) (void *plugin_data, const MeroTeeVerifyInput *input,
                         MeroTeeVerdict *verdict, GError **error);
};

G_END_DECLS
