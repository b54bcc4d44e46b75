/* echo-plugin.c: entry point and descriptor of test-echo (see echo-core.h). */
#include "echo-core.h"

MERO_PLUGIN_DEFINE (test_echo, MERO_PLUGIN_KIND_SYNC_PROTOCOL, "test-echo", "1.0.0",
                    "Apache-2.0", &test_echo_vtable, test_echo_init, test_echo_finalize);
