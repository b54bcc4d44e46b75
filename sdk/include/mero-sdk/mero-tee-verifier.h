/* mero-tee-verifier.h: vtable of a TEE_VERIFIER plugin.
 *
 * Verifies an attestation quote from a specialised node and reports the
 * measurement it attests, so the node can decide whether to admit it. */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

typedef enum {
  MERO_TEE_TCB_UP_TO_DATE = 0,
  MERO_TEE_TCB_OUT_OF_DATE = 1,
  MERO_TEE_TCB_REVOKED = 2,
  MERO_TEE_TCB_UNKNOWN = 3,
} MeroTeeTcbStatus;

typedef struct {
  uint32_t struct_size;
  uint32_t tcb_status;        /* MeroTeeTcbStatus */
  uint8_t measurement[48];    /* e.g. TDX MRTD; zero-padded */
  size_t measurement_len;
  uint8_t report_data[64];
} MeroTeeVerdict;

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
};

G_END_DECLS
