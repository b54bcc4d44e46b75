/* plugin.c: store-memory's descriptor (logic in store-memory-core.c). */
#include <mero-sdk.h>

#include "store-memory-core.h"

MERO_PLUGIN_DEFINE (store_memory, MERO_PLUGIN_KIND_STORAGE_BACKEND, "store-memory",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &mero_store_memory_vtable, NULL, NULL);
