/* plugin.c: store-rocksdb's descriptor (logic in store-rocksdb-core.c). */
#include <mero-sdk.h>

#include "store-rocksdb-core.h"

MERO_PLUGIN_DEFINE (store_rocksdb, MERO_PLUGIN_KIND_STORAGE_BACKEND, "store-rocksdb",
                    MERO_SDK_VERSION_STRING, "Apache-2.0", &mero_store_rocksdb_vtable,
                    mero_store_rocksdb_init, mero_store_rocksdb_finalize);
