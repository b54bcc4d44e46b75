/* tee-samples.h: reading the TDX samples of ../shared/reference/tee-samples
 * (public data of other projects, never copied into this repository) for
 * the tee tests and the benchmark.  MERO_TEE_SAMPLES_DIR names the folder. */
#pragma once

#include <json-glib/json-glib.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

typedef struct {
  char *name;
  GBytes *quote;
  GBytes *collateral;
  int64_t now;
  JsonObject *json;           /* the case as cases.json has it */
} TeeSample;

/* The samples folder, or NULL (and the test is skipped with the reason)
 * when MERO_TEE_SAMPLES_DIR is unset or absent. */
const char *tee_samples_dir (void);

/* Every case of cases.json (TeeSample *), then the time cases with their
 * base's quote and collateral when @time_cases. */
GPtrArray *tee_samples_load (gboolean time_cases);
TeeSample *tee_samples_find (GPtrArray *samples, const char *name);

/* Runs the tee-tdx core on @sample at @now (the sample's own if 0). */
gboolean tee_sample_verify (const TeeSample *sample, int64_t now, MeroTeeVerdict *verdict,
                            GError **error);
gboolean tee_verify_bytes (const uint8_t *quote, size_t quote_len, const uint8_t *collateral,
                           size_t collateral_len, int64_t now, MeroTeeVerdict *verdict,
                           GError **error);

/* Lowercase hex of @len bytes (transfer full). */
char *tee_hex (const uint8_t *data, size_t len);

G_END_DECLS
