/* store-test-util.h: helpers shared by the store tests. */
#pragma once

#include <glib.h>

#include "mero-test-fs.h"
#include "store/mero-store.h"

G_BEGIN_DECLS

typedef struct {
  const char *name;                       /* path component: "rocksdb", "memory" */
  const MeroStorageBackendVTable *vtable;
  gboolean persistent;                    /* reopening a path finds the data */
} TestBackend;

extern const TestBackend test_backend_rocksdb;
extern const TestBackend test_backend_memory;


/* Every record of the database at @path, read straight from the backend
 * (ciphertext as stored), one line per record: "column key-hex value-hex". */
char *test_dump_backend (const TestBackend *backend, const char *path);

/* TRUE if any file under @dir contains @needle. */
gboolean test_dir_contains (const char *dir, const guint8 *needle, gsize needle_len);

/* A 32-byte id whose bytes are all @fill except the last, @last. */
void test_id (guint8 id[32], guint8 fill, guint8 last);

G_END_DECLS
