/* tee-plugin.c: entry point and descriptor of test-tee (see tee-core.h). */
#include "tee-core.h"

MERO_PLUGIN_DEFINE (test_tee, MERO_PLUGIN_KIND_TEE_VERIFIER, "test-tee", "1.0.0",
                    "Apache-2.0", &test_tee_vtable, test_tee_init, test_tee_finalize);
