/* test-store-crypto.c: encryption at rest, against every backend where
 * it applies (/store/<backend>/crypto/...).  Tests that reopen a store
 * need a persistent backend (rocksdb). */
#include <string.h>
#include <sodium.h>

#include <glib/gstdio.h>

#include "store-test-util.h"
#include "store/mero-store-crypto.h"

typedef struct {
  const TestBackend *backend;
  char *dir;
  char *db_path;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->backend = data;
  f->dir = mero_test_make_tmpdir ("mero-store-test");
  f->db_path = g_build_filename (f->dir, "db", NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  mero_test_remove_tree (f->dir);
  g_free (f->db_path);
  g_free (f->dir);
}

/* Fast Argon2id for tests; the stored parameters are what reopen uses. */
static MeroStoreOptions
passphrase_options (const char *passphrase)
{
  MeroStoreOptions o = { 0 };

  o.key_source = MERO_STORE_KEY_SOURCE_PASSPHRASE;
  o.passphrase = passphrase;
  o.argon2_ops_limit = crypto_pwhash_OPSLIMIT_MIN;
  o.argon2_mem_limit = crypto_pwhash_MEMLIMIT_MIN;
  return o;
}

static MeroStoreOptions
key_file_options (const char *path)
{
  MeroStoreOptions o = { 0 };

  o.key_source = MERO_STORE_KEY_SOURCE_KEY_FILE;
  o.key_file = path;
  return o;
}

static MeroStore *
open_store (Fixture *f, const MeroStoreOptions *o, GError **error)
{
  return mero_store_open (f->backend->vtable, NULL, f->db_path, o, error);
}

static void
put_str (MeroStore *store, const MeroKey *key, const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_store_put (store, key, (const guint8 *) value, strlen (value), &error));
  g_assert_no_error (error);
}

static void
assert_value (MeroStore *store, const MeroKey *key, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = NULL;

  g_assert_true (mero_store_get (store, key, &value, &error));
  g_assert_no_error (error);
  if (expected == NULL)
    {
      g_assert_null (value);
      return;
    }
  g_assert_nonnull (value);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value), expected,
                   strlen (expected));
}

static MeroKey
key_n (guint8 n)
{
  guint8 ctx[32], ent[32];

  test_id (ctx, 0x42, 0x42);
  test_id (ent, 0, n);
  return mero_key_state (ctx, ent);
}

static char *
write_key_file (Fixture *f, const char *name, const void *data, gsize len, int mode)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents (path, data, (gssize) len, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (path, mode), ==, 0);
  return path;
}

/* Both backends: everything works the same through an encrypted store. */
static void
test_round_trip (Fixture *f, gconstpointer data)
{
  MeroStoreOptions o = passphrase_options ("correct horse");
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStore) store = open_store (f, &o, &error);
  MeroKey k1 = key_n (1), k2 = key_n (2), k3 = key_n (3);
  guint8 ctx[32];
  MeroKey prefix, meta_all;
  g_autofree guint8 *big = NULL;
  gsize big_len = 3 << 20;
  guint n = 0;

  g_assert_no_error (error);
  g_assert_true (mero_store_is_encrypted (store));

  put_str (store, &k1, "secret one");
  {
    g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (store);
    mero_store_batch_put (batch, &k2, (const guint8 *) "secret two", 10);
    mero_store_batch_put (batch, &k3, (const guint8 *) "", 0);
    g_assert_true (mero_store_batch_commit (batch, &error));
    g_assert_no_error (error);
  }
  assert_value (store, &k1, "secret one");
  assert_value (store, &k2, "secret two");
  assert_value (store, &k3, "");

  {
    g_autoptr (MeroStoreSnapshot) snap = mero_store_snapshot_new (store);
    g_autoptr (GBytes) v = NULL;
    put_str (store, &k1, "changed");
    g_assert_true (mero_store_snapshot_get (snap, &k1, &v, &error));
    g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), "secret one", 10);
  }

  test_id (ctx, 0x42, 0x42);
  prefix = mero_key_prefix_state (ctx);
  {
    g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, NULL, &prefix);
    for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
      {
        g_autoptr (GBytes) v = mero_store_iter_value (it);
        static const char *const expected[] = { "changed", "secret two", "" };
        g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), expected[n],
                         strlen (expected[n]));
        n++;
      }
    g_assert_true (mero_store_iter_check (it, &error));
    g_assert_cmpuint (n, ==, 3);
  }

  /* The crypto record is the store's own: iterating META never shows it. */
  meta_all = mero_key_prefix_column (MERO_COLUMN_META);
  {
    g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, NULL, &meta_all);
    g_assert_false (mero_store_iter_first (it));
    g_assert_true (mero_store_iter_check (it, &error));
    g_assert_no_error (error);
  }

  /* Larger than the façade's stack buffer. */
  big = g_malloc (big_len);
  randombytes_buf (big, big_len);
  g_assert_true (mero_store_put (store, &k3, big, big_len, &error));
  {
    g_autoptr (GBytes) v = NULL;
    g_assert_true (mero_store_get (store, &k3, &v, &error));
    g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), big, big_len);
  }
}

static void
test_passphrase_reopen (Fixture *f, gconstpointer data)
{
  MeroStoreOptions o = passphrase_options ("correct horse");
  MeroStoreOptions other_cost = o;
  g_autoptr (GError) error = NULL;
  MeroStore *store = open_store (f, &o, &error);
  MeroKey k = key_n (1);

  g_assert_no_error (error);
  put_str (store, &k, "kept");
  mero_store_close (store);

  /* Other cost options: the stored parameters still derive the key. */
  other_cost.argon2_ops_limit = 2;
  other_cost.argon2_mem_limit = 64 * 1024;
  store = open_store (f, &other_cost, &error);
  g_assert_no_error (error);
  g_assert_true (mero_store_is_encrypted (store));
  assert_value (store, &k, "kept");
  mero_store_close (store);
}

static void
test_wrong_passphrase (Fixture *f, gconstpointer data)
{
  MeroStoreOptions good = passphrase_options ("correct horse");
  MeroStoreOptions bad = passphrase_options ("battery staple");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  MeroStore *store = open_store (f, &good, &error);
  MeroKey k = key_n (1);

  g_assert_no_error (error);
  put_str (store, &k, "still here");
  mero_store_close (store);
  before = test_dump_backend (f->backend, f->db_path);
  g_assert_cmpstr (before, !=, "");

  store = open_store (f, &bad, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY);
  g_assert_nonnull (strstr (error->message, "passphrase"));
  g_clear_error (&error);

  /* Every record, crypto record included, is exactly as it was. */
  after = test_dump_backend (f->backend, f->db_path);
  g_assert_cmpstr (before, ==, after);

  store = open_store (f, &good, &error);
  g_assert_no_error (error);
  assert_value (store, &k, "still here");
  mero_store_close (store);
}

static void
test_key_file (Fixture *f, gconstpointer data)
{
  guint8 raw[32];
  char hex[65 + 1];
  g_autofree char *raw_path = NULL, *hex_path = NULL, *other_path = NULL;
  MeroStoreOptions o;
  g_autoptr (GError) error = NULL;
  MeroStore *store;
  MeroKey k = key_n (7);
  guint8 other[32];

  randombytes_buf (raw, sizeof raw);
  raw_path = write_key_file (f, "raw.key", raw, sizeof raw, 0600);
  /* The same key as hex, with the newline `openssl rand -hex 32` writes. */
  sodium_bin2hex (hex, sizeof hex, raw, sizeof raw);
  hex[64] = '\n';
  hex[65] = '\0';
  hex_path = write_key_file (f, "hex.key", hex, 65, 0400);

  o = key_file_options (raw_path);
  store = open_store (f, &o, &error);
  g_assert_no_error (error);
  g_assert_true (mero_store_is_encrypted (store));
  put_str (store, &k, "by key file");
  mero_store_close (store);

  if (f->backend->persistent)
    {
      o = key_file_options (hex_path);
      store = open_store (f, &o, &error);
      g_assert_no_error (error);
      assert_value (store, &k, "by key file");
      mero_store_close (store);

      randombytes_buf (other, sizeof other);
      other_path = write_key_file (f, "other.key", other, sizeof other, 0600);
      o = key_file_options (other_path);
      store = open_store (f, &o, &error);
      g_assert_null (store);
      g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY);
      g_clear_error (&error);

      /* A passphrase does not open a key-file store. */
      o = passphrase_options ("whatever");
      store = open_store (f, &o, &error);
      g_assert_null (store);
      g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY);
      g_clear_error (&error);
    }
}

static void
test_key_file_refused (Fixture *f, gconstpointer data)
{
  static const struct {
    const char *name;
    gsize len;
    int mode;
    const char *message_part;
  } cases[] = {
    { "short.key", 31, 0600, "32 raw bytes" },
    { "long.key", 33, 0600, "32 raw bytes" },
    { "hex63.key", 63, 0600, "32 raw bytes" },
    { "hex66.key", 66, 0600, "32 raw bytes" },
    { "nothex.key", 64, 0600, "32 raw bytes" },
    { "empty.key", 0, 0600, "32 raw bytes" },
    { "public.key", 32, 0644, "chmod 600" },
    { "group.key", 32, 0640, "chmod 600" },
  };
  g_autofree char *missing = g_build_filename (f->dir, "missing.key", NULL);
  MeroStoreOptions o;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStore) store = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree guint8 *content = g_malloc0 (cases[i].len + 1);
      g_autofree char *path = NULL;

      /* "nothex" is 64 chars that are not hex digits. */
      memset (content, g_str_equal (cases[i].name, "nothex.key") ? 'z' : 'a', cases[i].len);
      path = write_key_file (f, cases[i].name, content, cases[i].len, cases[i].mode);
      o = key_file_options (path);
      store = open_store (f, &o, &error);
      g_assert_null (store);
      g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_INVALID);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, cases[i].message_part));
      g_clear_error (&error);
    }

  o = key_file_options (missing);
  store = open_store (f, &o, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_IO);
  g_clear_error (&error);

  /* A refused key file does not even create the database. */
  g_assert_false (g_file_test (f->db_path, G_FILE_TEST_EXISTS));
}

static void
test_needs_key (Fixture *f, gconstpointer data)
{
  MeroStoreOptions o = passphrase_options ("correct horse");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  MeroStore *store = open_store (f, &o, &error);
  MeroKey k = key_n (1);

  g_assert_no_error (error);
  put_str (store, &k, "sealed");
  mero_store_close (store);
  before = test_dump_backend (f->backend, f->db_path);

  store = open_store (f, NULL, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_NEEDS_KEY);
  g_clear_error (&error);
  after = test_dump_backend (f->backend, f->db_path);
  g_assert_cmpstr (before, ==, after);
}

static void
test_not_encrypted (Fixture *f, gconstpointer data)
{
  MeroStoreOptions o = passphrase_options ("correct horse");
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  MeroStore *store = open_store (f, NULL, &error);
  MeroKey k = key_n (1);

  g_assert_no_error (error);
  put_str (store, &k, "plain");
  mero_store_close (store);
  before = test_dump_backend (f->backend, f->db_path);

  store = open_store (f, &o, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_NOT_ENCRYPTED);
  g_clear_error (&error);
  after = test_dump_backend (f->backend, f->db_path);
  g_assert_cmpstr (before, ==, after);

  store = open_store (f, NULL, &error);
  g_assert_no_error (error);
  g_assert_false (mero_store_is_encrypted (store));
  assert_value (store, &k, "plain");
  mero_store_close (store);
}

/* Random (incompressible) values must not appear in any file. */
static void
check_plaintext_on_disk (Fixture *f, const MeroStoreOptions *o, gboolean expect_found)
{
  g_autoptr (GError) error = NULL;
  MeroStore *store = open_store (f, o, &error);
  guint8 markers[20][64];

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    {
      MeroKey k = key_n ((guint8) i);
      randombytes_buf (markers[i], sizeof markers[i]);
      g_assert_true (mero_store_put (store, &k, markers[i], sizeof markers[i], &error));
    }
  g_assert_true (mero_store_flush (store, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_true (test_dir_contains (f->db_path, markers[i], sizeof markers[i])
                   == expect_found);
  mero_store_close (store);
  for (guint i = 0; i < G_N_ELEMENTS (markers); i++)
    g_assert_true (test_dir_contains (f->db_path, markers[i], sizeof markers[i])
                   == expect_found);
}

static void
test_no_plaintext_on_disk (Fixture *f, gconstpointer data)
{
  MeroStoreOptions o = passphrase_options ("correct horse");

  check_plaintext_on_disk (f, &o, FALSE);
}

/* The control: the same check does find a plaintext store's values. */
static void
test_plaintext_visible_control (Fixture *f, gconstpointer data)
{
  check_plaintext_on_disk (f, NULL, TRUE);
}

/* A sealed value copied under another key must not open there. */
static void
test_moved_value_corrupt (Fixture *f, gconstpointer data)
{
  const MeroStorageBackendVTable *b = f->backend->vtable;
  MeroStoreOptions o = passphrase_options ("correct horse");
  MeroBackendOpenOptions bo = { sizeof bo, 0, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) sealed = NULL;
  MeroStore *store = open_store (f, &o, &error);
  MeroKey from = key_n (1), to = key_n (2), cfg;
  MeroBackendDb *db;
  guint8 ctx[32];
  MeroKey prefix;

  g_assert_no_error (error);
  put_str (store, &from, "belongs to key 1");
  mero_store_close (store);

  g_assert_true (mero_key_config (&cfg, "x"));
  db = b->open (NULL, f->db_path, mero_column_names (), MERO_N_COLUMNS, &bo, &error);
  g_assert_no_error (error);
  g_assert_true (b->get (db, NULL, from.column, from.bytes, from.len, &sealed, &error));
  g_assert_nonnull (sealed);
  /* Another key in the same column, and the same key bytes in another. */
  g_assert_true (b->put (db, to.column, to.bytes, to.len, g_bytes_get_data (sealed, NULL),
                         g_bytes_get_size (sealed), &error));
  g_assert_true (b->put (db, MERO_COLUMN_DELTA, from.bytes, from.len,
                         g_bytes_get_data (sealed, NULL), g_bytes_get_size (sealed), &error));
  b->close (db);

  store = open_store (f, &o, &error);
  g_assert_no_error (error);
  assert_value (store, &from, "belongs to key 1");
  {
    g_autoptr (GBytes) v = NULL;
    g_assert_false (mero_store_get (store, &to, &v, &error));
    g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT);
    g_assert_null (v);
    g_clear_error (&error);
  }
  {
    MeroKey other_col;
    g_autoptr (GBytes) v = NULL;
    g_assert_true (mero_key_from_bytes (&other_col, MERO_COLUMN_DELTA, from.bytes, from.len));
    g_assert_false (mero_store_get (store, &other_col, &v, &error));
    g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT);
    g_clear_error (&error);
  }
  /* Iteration stops at the bad value and says why. */
  test_id (ctx, 0x42, 0x42);
  prefix = mero_key_prefix_state (ctx);
  {
    g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, NULL, &prefix);
    g_assert_true (mero_store_iter_first (it)); /* key 1: fine */
    g_assert_false (mero_store_iter_next (it)); /* key 2: moved */
    g_assert_false (mero_store_iter_check (it, &error));
    g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT);
    g_clear_error (&error);
  }
  mero_store_close (store);
}

/* A tampered crypto record (here: the Argon2id cost) is caught. */
static void
test_tampered_record (Fixture *f, gconstpointer data)
{
  const MeroStorageBackendVTable *b = f->backend->vtable;
  MeroStoreOptions o = passphrase_options ("correct horse");
  MeroBackendOpenOptions bo = { sizeof bo, 0, 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) record = NULL;
  MeroKey rk = mero_store_crypto_record_key ();
  MeroStore *store = open_store (f, &o, &error);
  MeroBackendDb *db;
  g_autofree guint8 *copy = NULL;
  gsize len;

  g_assert_no_error (error);
  mero_store_close (store);

  db = b->open (NULL, f->db_path, mero_column_names (), MERO_N_COLUMNS, &bo, &error);
  g_assert_true (b->get (db, NULL, rk.column, rk.bytes, rk.len, &record, &error));
  g_assert_nonnull (record);
  copy = g_memdup2 (g_bytes_get_data (record, &len), g_bytes_get_size (record));
  /* Bytes 8..15 are the big-endian opslimit (1 here): still in range, but
   * the key check binds the header, so the changed cost is detected. */
  g_assert_cmpuint (copy[15], ==, 1);
  copy[15] = 2;
  g_assert_true (b->put (db, rk.column, rk.bytes, rk.len, copy, len, &error));
  b->close (db);

  store = open_store (f, &o, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_WRONG_KEY);
  g_clear_error (&error);

  /* Truncated record: corrupt, not a crash. */
  db = b->open (NULL, f->db_path, mero_column_names (), MERO_N_COLUMNS, &bo, &error);
  g_assert_true (b->put (db, rk.column, rk.bytes, rk.len, copy, len / 2, &error));
  b->close (db);
  store = open_store (f, &o, &error);
  g_assert_null (store);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_CORRUPT);
}

static void
add_tests (const TestBackend *backend)
{
#define ADD(tname, fn)                                                                  \
  do                                                                                   \
    {                                                                                  \
      g_autofree char *path = g_strdup_printf ("/store/%s/crypto/" tname, backend->name); \
      g_test_add (path, Fixture, backend, fixture_setup, fn, fixture_teardown);        \
    }                                                                                  \
  while (0)

  ADD ("round-trip", test_round_trip);
  ADD ("key-file", test_key_file);
  ADD ("key-file-refused", test_key_file_refused);
  if (backend->persistent)
    {
      ADD ("passphrase-reopen", test_passphrase_reopen);
      ADD ("wrong-passphrase", test_wrong_passphrase);
      ADD ("needs-key", test_needs_key);
      ADD ("not-encrypted", test_not_encrypted);
      ADD ("no-plaintext-on-disk", test_no_plaintext_on_disk);
      ADD ("plaintext-visible-control", test_plaintext_visible_control);
      ADD ("moved-value-corrupt", test_moved_value_corrupt);
      ADD ("tampered-record", test_tampered_record);
    }
#undef ADD
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  add_tests (&test_backend_rocksdb);
  add_tests (&test_backend_memory);
  return g_test_run ();
}
