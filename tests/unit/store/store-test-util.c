#define _GNU_SOURCE /* memmem */
/* store-test-util.c: helpers shared by the store tests. */
#include "store-test-util.h"

#include <string.h>

#include <glib/gstdio.h>

#include "mero-test-fs.h"
#include "store-memory-core.h"
#include "store-rocksdb-core.h"

const TestBackend test_backend_rocksdb = { "rocksdb", &mero_store_rocksdb_vtable, TRUE };
const TestBackend test_backend_memory = { "memory", &mero_store_memory_vtable, FALSE };

char *
test_dump_backend (const TestBackend *backend, const char *path)
{
  const MeroStorageBackendVTable *b = backend->vtable;
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new (NULL);
  MeroBackendOpenOptions options = { sizeof options, 0, 0 };
  MeroBackendDb *db;

  db = b->open (NULL, path, mero_column_names (), MERO_N_COLUMNS, &options, &error);
  g_assert_no_error (error);
  for (guint c = 0; c < MERO_N_COLUMNS; c++)
    {
      MeroBackendIter *it = b->iter_new (db, NULL, c, NULL, 0, NULL, 0);
      for (b->iter_seek_first (it); b->iter_valid (it); b->iter_next (it))
        {
          gsize klen, vlen;
          const guint8 *k = b->iter_key (it, &klen);
          const guint8 *v = b->iter_value (it, &vlen);
          g_string_append_printf (out, "%u ", c);
          for (gsize i = 0; i < klen; i++)
            g_string_append_printf (out, "%02x", k[i]);
          g_string_append_c (out, ' ');
          for (gsize i = 0; i < vlen; i++)
            g_string_append_printf (out, "%02x", v[i]);
          g_string_append_c (out, '\n');
        }
      g_assert_true (b->iter_check (it, &error));
      b->iter_free (it);
    }
  b->close (db);
  return g_string_free (out, FALSE);
}

gboolean
test_dir_contains (const char *path, const guint8 *needle, gsize needle_len)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;
  gboolean found = FALSE;

  g_assert_nonnull (dir);
  while (!found && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;
      gsize len;

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        found = test_dir_contains (child, needle, needle_len);
      else if (g_file_get_contents (child, &contents, &len, NULL))
        found = memmem (contents, len, needle, needle_len) != NULL;
    }
  g_dir_close (dir);
  return found;
}

void
test_id (guint8 id[32], guint8 fill, guint8 last)
{
  memset (id, fill, 32);
  id[31] = last;
}
