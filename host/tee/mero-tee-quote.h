/* mero-tee-quote.h: producing this node's own attestation quote.
 *
 * A TDX guest asks the kernel through configfs-tsm
 * (/sys/kernel/config/tsm/report, Linux 6.7+): create an entry, write
 * the 64 report data bytes to inblob, read the quote from outblob.  A
 * machine without it cannot attest and is told so.  For tests (and
 * tee-mock with tee.accept_mock=true) the node builds a mock quote:
 * "MOCK_TDX_QUOTE_V1" || report data[64] || zero padding to 256 bytes. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_TEE_TSM_REPORT_DIR "/sys/kernel/config/tsm/report"
#define MERO_TEE_MOCK_MAGIC "MOCK_TDX_QUOTE_V1"
#define MERO_TEE_MOCK_QUOTE_LEN 256
#define MERO_TEE_REPORT_DATA_LEN 64

/* (transfer full) the mock quote binding @report_data. */
GBytes *mero_tee_quote_mock (const guint8 report_data[MERO_TEE_REPORT_DATA_LEN]);

/* Whether @tsm_dir (NULL: MERO_TEE_TSM_REPORT_DIR) exists. */
gboolean mero_tee_quote_tsm_available (const char *tsm_dir);

/* (transfer full) a quote from configfs-tsm under @tsm_dir (NULL: the
 * default).  NOT_SUPPORTED, naming the path, where the machine has none. */
GBytes *mero_tee_quote_tsm (const char *tsm_dir,
                            const guint8 report_data[MERO_TEE_REPORT_DATA_LEN], GError **error);

/* The report data @quote carries, read at its place in the format
 * (tee-mock's; TDX v4, and v5 with a TD 1.0 or 1.5 body) without
 * verifying anything: a node announcing a quote made elsewhere takes the
 * nonce from it.  MERO_TEE_QUOTE_ERROR_FORMAT when it is neither. */
#define MERO_TEE_QUOTE_ERROR (mero_tee_quote_error_quark ())
typedef enum {
  MERO_TEE_QUOTE_ERROR_FORMAT,
} MeroTeeQuoteError;
GQuark mero_tee_quote_error_quark (void);
gboolean mero_tee_quote_report_data (GBytes *quote, guint8 out[MERO_TEE_REPORT_DATA_LEN],
                                     GError **error);

/* (transfer full) the quote in @hex (even length, at most @max_bytes
 * decoded), as D-Bus and HTTP carry it; NULL with FORMAT otherwise. */
GBytes *mero_tee_quote_from_hex (const char *hex, gsize max_bytes, GError **error);

G_END_DECLS
