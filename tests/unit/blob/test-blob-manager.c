/* test-blob-manager.c: BlobManager over a real RocksDB store and a real
 * directory: adds from streams, ranges, damage on disk caught on read,
 * 1,000 concurrent adds, refcounts across a restart, the size limit,
 * GetBlobBytes through the cache, and a partial blob resumed; small
 * blobs kept inline in their records (no file; damage to the record
 * caught on read; refcounts across a restart; none lost when the adding
 * process dies right after its acknowledgements); public marks per
 * context, across a restart. */
#include <fcntl.h>
#include <gio/gio.h>
#include <sys/wait.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-cache.h"
#include "blob/mero-blob-files.h"
#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-partial.h"
#include "mero-test-fs.h"
#include "store-rocksdb-core.h"
#include "store/mero-store-keys.h"

#define TEST_TIMEOUT_US (60 * G_USEC_PER_SEC)

typedef struct {
  char *tmp;
  char *db;
  char *blobs;
  MeroMetrics *metrics;
  MeroStore *store;
  MeroBlobManager *manager;
} Fixture;

static void
open_manager (Fixture *f, guint64 max_size)
{
  g_autoptr (GError) error = NULL;
  MeroBlobManagerOptions options = {
    .dir = f->blobs, .max_size = max_size, .fsync = TRUE, .cache_max_age_secs = 300,
    .cache_max_entries = 100, .cache_max_bytes = 500 * 1024 * 1024, .metrics = f->metrics,
  };

  f->store = mero_store_open (&mero_store_rocksdb_vtable, NULL, f->db, NULL, &error);
  g_assert_no_error (error);
  f->manager = mero_blob_manager_new (f->store, &options, &error);
  g_assert_no_error (error);
}

static void
close_manager (Fixture *f)
{
  g_clear_pointer (&f->manager, mero_blob_manager_free);
  g_clear_pointer (&f->store, mero_store_close);
}

static void
setup (Fixture *f, gconstpointer data)
{
  f->tmp = mero_test_make_tmpdir ("blob");
  f->db = g_build_filename (f->tmp, "db", NULL);
  f->blobs = g_build_filename (f->tmp, "blobstore", NULL);
  f->metrics = mero_metrics_new ();
  open_manager (f, G_MAXUINT64);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  close_manager (f);
  mero_metrics_unref (f->metrics);
  mero_test_remove_tree (f->tmp);
  g_free (f->tmp);
  g_free (f->db);
  g_free (f->blobs);
}

static GBytes *
pattern (gsize len, guint seed)
{
  guint8 *d = g_malloc (MAX (len, 1));
  guint32 x = seed * 2654435761u + 1;

  for (gsize i = 0; i < len; i++)
    {
      x = x * 1103515245u + 12345u;
      d[i] = (guint8) (x >> 16);
    }
  return g_bytes_new_take (d, len);
}

static void
add_bytes (Fixture *f, GBytes *bytes, MeroBlobMeta *info)
{
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_blob_manager_add_stream (f->manager, in, NULL, NULL, NULL, info, &error));
  g_assert_no_error (error);
}

static GBytes *
read_range (Fixture *f, const guint8 *id, guint64 offset, guint64 length, GError **error)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  if (!mero_blob_manager_read (f->manager, id, offset, length, out, NULL, NULL, NULL, error))
    return NULL;
  g_output_stream_close (out, NULL, NULL);
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* Files under the blob directory outside tmp/ and partial/: one per
 * file blob. */
static guint
count_blob_files (Fixture *f)
{
  g_autoptr (GDir) dir = g_dir_open (f->blobs, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *shard = g_build_filename (f->blobs, name, NULL);
      g_autoptr (GDir) sub = NULL;

      if (g_str_equal (name, "tmp") || g_str_equal (name, "partial"))
        continue;
      sub = g_dir_open (shard, 0, NULL);
      while (sub != NULL && g_dir_read_name (sub) != NULL)
        n++;
    }
  return n;
}

/* Bytes come back whole and by range (across chunk boundaries); the id is
 * the tree root over the content; ranges outside the blob are refused. */
static void
test_add_read (Fixture *f, gconstpointer data)
{
  gsize len = 3 * MERO_BLOB_CHUNK_SIZE + 4321;
  g_autoptr (GBytes) bytes = pattern (len, 1);
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_autoptr (GBytes) whole = NULL, part = NULL, want = NULL, leaves = NULL;
  g_autoptr (GError) error = NULL;
  MeroBlobMeta info, again;
  guint8 id[32];

  add_bytes (f, bytes, &info);
  mero_blob_chunker_feed (chunker, g_bytes_get_data (bytes, NULL), len);
  leaves = mero_blob_chunker_finish (chunker, id, NULL);
  g_assert_cmpmem (info.id, 32, id, 32);
  g_assert_cmpuint (info.size, ==, len);
  g_assert_cmpuint (info.refcount, ==, 1);
  g_assert_cmpuint (info.n_leaves, ==, 4);

  whole = read_range (f, id, 0, G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (whole, bytes));
  part = read_range (f, id, MERO_BLOB_CHUNK_SIZE - 10, MERO_BLOB_CHUNK_SIZE + 20, &error);
  g_assert_no_error (error);
  want = g_bytes_new_from_bytes (bytes, MERO_BLOB_CHUNK_SIZE - 10, MERO_BLOB_CHUNK_SIZE + 20);
  g_assert_true (g_bytes_equal (part, want));
  g_assert_null (read_range (f, id, len - 1, 2, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE);
  g_clear_error (&error);

  g_assert_true (mero_blob_manager_info (f->manager, id, &again, &error));
  g_assert_cmpuint (again.size, ==, len);
  g_assert_cmpint (again.accessed_us, >=, again.created_us);
  {
    g_autoptr (GBytes) got = mero_blob_manager_get_leaves (f->manager, id, &error);
    g_assert_true (g_bytes_equal (got, leaves));
  }
  {
    g_autoptr (GBytes) chunk = mero_blob_manager_read_chunk (f->manager, id, 3, &error);
    g_autoptr (GBytes) tail = g_bytes_new_from_bytes (bytes, 3 * MERO_BLOB_CHUNK_SIZE, 4321);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (chunk, tail));
  }
}

/* One byte flipped in the file on disk: the chunk holding it is refused
 * with CORRUPT (counted), the other chunks still read. */
static void
test_corrupt_byte (Fixture *f, gconstpointer data)
{
  gsize len = 2 * MERO_BLOB_CHUNK_SIZE + 100;
  g_autoptr (GBytes) bytes = pattern (len, 2);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  MeroBlobMeta info;
  guint8 byte;
  int fd;

  add_bytes (f, bytes, &info);
  path = mero_blob_files_path (f->blobs, info.id);
  fd = open (path, O_RDWR);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (pread (fd, &byte, 1, MERO_BLOB_CHUNK_SIZE + 77), ==, 1);
  byte ^= 0x20;
  g_assert_cmpint (pwrite (fd, &byte, 1, MERO_BLOB_CHUNK_SIZE + 77), ==, 1);
  close (fd);

  g_assert_null (read_range (f, info.id, 0, G_MAXUINT64, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "chunk 2 of 3"));
  g_clear_error (&error);
  g_assert_null (mero_blob_manager_get_bytes (f->manager, info.id, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_BLOB_CORRUPT_METRIC,
                                              "source=\"disk\""), ==, 2);
  {
    g_autoptr (GBytes) first = read_range (f, info.id, 0, 1000, &error);
    g_autoptr (GBytes) want = g_bytes_new_from_bytes (bytes, 0, 1000);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (first, want));
  }
}

typedef struct {
  guint pending;
  guint failed;
  GHashTable *ids;   /* base58 id -> count */
} Concurrent;

static void
on_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = g_object_get_data (G_OBJECT (result), "fixture");
  Concurrent *c = user_data;
  g_autoptr (GError) error = NULL;
  MeroBlobMeta info;

  (void) f;
  if (mero_blob_manager_add_finish (NULL, result, &info, &error))
    {
      char *text = mero_blob_id_to_string (info.id);

      g_hash_table_replace (c->ids, text,
                            GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (c->ids, text)) + 1));
    }
  else
    c->failed++;
  c->pending--;
}

/* 1,000 adds in flight at once (900 distinct contents, 100 repeats): every
 * add is acknowledged, every blob listed with the right refcount and
 * readable. */
static void
test_concurrent_adds (Fixture *f, gconstpointer data)
{
  Concurrent c = { 0 };
  g_autoptr (GArray) list = NULL;
  g_autoptr (GError) error = NULL;
  gint64 deadline = g_get_monotonic_time () + TEST_TIMEOUT_US;
  guint total_refs = 0;

  c.ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  for (guint i = 0; i < 1000; i++)
    {
      g_autoptr (GBytes) bytes = pattern (1000 + i % 900, i % 900);
      g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);

      c.pending++;
      mero_blob_manager_add_stream_async (f->manager, in, NULL, on_added, &c);
    }
  while (c.pending > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (c.pending, ==, 0);
  g_assert_cmpuint (c.failed, ==, 0);
  g_assert_cmpuint (g_hash_table_size (c.ids), ==, 900);
  list = mero_blob_manager_list (f->manager, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 900);
  for (guint i = 0; i < list->len; i++)
    {
      MeroBlobMeta *m = &g_array_index (list, MeroBlobMeta, i);
      g_autofree char *text = mero_blob_id_to_string (m->id);
      g_autoptr (GBytes) back = read_range (f, m->id, 0, G_MAXUINT64, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (back), ==, m->size);
      g_assert_cmpuint (m->refcount, ==,
                        GPOINTER_TO_UINT (g_hash_table_lookup (c.ids, text)));
      total_refs += m->refcount;
    }
  g_assert_cmpuint (total_refs, ==, 1000);
  g_assert_cmpuint (count_blob_files (f), ==, 0);

  /* Everything acknowledged is still there after a restart. */
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_clear_pointer (&list, g_array_unref);
  list = mero_blob_manager_list (f->manager, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 900);
  total_refs = 0;
  for (guint i = 0; i < list->len; i++)
    {
      MeroBlobMeta *m = &g_array_index (list, MeroBlobMeta, i);
      g_autoptr (GBytes) back = read_range (f, m->id, 0, G_MAXUINT64, &error);

      g_assert_no_error (error);
      g_assert_cmpuint (g_bytes_get_size (back), ==, m->size);
      total_refs += m->refcount;
    }
  g_assert_cmpuint (total_refs, ==, 1000);
  g_hash_table_unref (c.ids);
}

/* Two adds of the same bytes are stored once with refcount 2, which a
 * restart keeps; deletes count down and the second removes file and
 * record. */
static void
test_refcount_restart (Fixture *f, gconstpointer data)
{
  /* Larger than the inline limit: a file blob. */
  g_autoptr (GBytes) bytes = pattern (MERO_BLOB_INLINE_MAX + 5000, 3);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  MeroBlobMeta info;
  guint32 left = 99;

  add_bytes (f, bytes, &info);
  add_bytes (f, bytes, &info);
  g_assert_cmpuint (info.refcount, ==, 2);
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_assert_true (mero_blob_manager_info (f->manager, info.id, &info, &error));
  g_assert_cmpuint (info.refcount, ==, 2);
  path = mero_blob_files_path (f->blobs, info.id);

  mero_blob_manager_delete (f->manager, info.id, &left, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (left, ==, 1);
  g_assert_true (g_file_test (path, G_FILE_TEST_EXISTS));
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_assert_true (mero_blob_manager_delete (f->manager, info.id, &left, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (left, ==, 0);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));
  g_assert_false (mero_blob_manager_info (f->manager, info.id, &info, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (mero_blob_manager_delete (f->manager, info.id, &left, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND);
}

/* A public mark is per (context, blob), persists, and clears. */
static void
test_public_mark (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 ctx[MERO_KEY_ID_LEN], other[MERO_KEY_ID_LEN], id[MERO_BLOB_ID_LEN];
  gboolean is_public = TRUE;

  memset (ctx, 0x11, sizeof ctx);
  memset (other, 0x22, sizeof other);
  memset (id, 0x33, sizeof id);
  g_assert_true (mero_blob_manager_is_public (f->manager, ctx, id, &is_public, &error));
  g_assert_no_error (error);
  g_assert_false (is_public);
  /* No blob needed: the mark is a record of its own. */
  g_assert_true (mero_blob_manager_set_public (f->manager, ctx, id, &error));
  g_assert_no_error (error);
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_assert_true (mero_blob_manager_is_public (f->manager, ctx, id, &is_public, &error));
  g_assert_true (is_public);
  /* Public to one context only. */
  g_assert_true (mero_blob_manager_is_public (f->manager, other, id, &is_public, &error));
  g_assert_false (is_public);
  g_assert_true (mero_blob_manager_clear_public (f->manager, ctx, id, &error));
  g_assert_no_error (error);
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_assert_true (mero_blob_manager_is_public (f->manager, ctx, id, &is_public, &error));
  g_assert_no_error (error);
  g_assert_false (is_public);
}

/* Over max_size: refused, counted, nothing left in tmp/ or the store. */
static void
test_too_large (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (1001, 4);
  g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = NULL;
  g_autofree char *tmp = g_build_filename (f->blobs, "tmp", NULL);
  g_autoptr (GDir) dir = NULL;

  close_manager (f);
  open_manager (f, 1000);
  g_assert_false (mero_blob_manager_add_stream (f->manager, in, NULL, NULL, NULL, NULL, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_BLOB_REFUSED_METRIC,
                                              "reason=\"too_large\""), ==, 1);
  list = mero_blob_manager_list (f->manager, NULL);
  g_assert_cmpuint (list->len, ==, 0);
  dir = g_dir_open (tmp, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
}

/* GetBlobBytes: the first read fills the cache, a delete to 0 empties it. */
static void
test_get_bytes_cache (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (70000, 5);
  g_autoptr (GError) error = NULL;
  MeroBlobCache *cache = mero_blob_manager_get_cache (f->manager);
  MeroBlobMeta info;

  add_bytes (f, bytes, &info);
  g_assert_cmpuint (mero_blob_cache_count (cache), ==, 0);
  {
    g_autoptr (GBytes) got = mero_blob_manager_get_bytes (f->manager, info.id, &error);
    g_assert_true (g_bytes_equal (got, bytes));
  }
  g_assert_cmpuint (mero_blob_cache_count (cache), ==, 1);
  g_assert_cmpuint (mero_blob_cache_bytes (cache), ==, 70000);
  g_assert_true (mero_blob_manager_delete (f->manager, info.id, NULL, &error));
  g_assert_cmpuint (mero_blob_cache_count (cache), ==, 0);
}

/* A partial blob: a corrupt chunk is refused, the received ones survive a
 * close (and one damaged on disk meanwhile is fetched again), and the
 * completed blob is added. */
static void
test_partial_resume (Fixture *f, gconstpointer data)
{
  gsize len = 4 * MERO_BLOB_CHUNK_SIZE + 9;
  g_autoptr (GBytes) bytes = pattern (len, 6);
  const guint8 *d = g_bytes_get_data (bytes, NULL);
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_autoptr (GBytes) leaves = NULL, back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *bad = g_memdup2 (d, MERO_BLOB_CHUNK_SIZE);
  MeroBlobPartial *p;
  MeroBlobMeta info;
  guint8 id[32];

  mero_blob_chunker_feed (chunker, d, len);
  leaves = mero_blob_chunker_finish (chunker, id, NULL);
  p = mero_blob_partial_open (f->manager, id, len, leaves, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mero_blob_partial_missing_count (p), ==, 5);
  g_assert_true (mero_blob_partial_write_chunk (p, 0, d, MERO_BLOB_CHUNK_SIZE, &error));
  g_assert_true (mero_blob_partial_write_chunk (p, 1, d + MERO_BLOB_CHUNK_SIZE,
                                                MERO_BLOB_CHUNK_SIZE, &error));
  g_assert_true (mero_blob_partial_write_chunk (p, 4, d + 4 * MERO_BLOB_CHUNK_SIZE, 9, &error));
  bad[5] ^= 1;
  g_assert_false (mero_blob_partial_write_chunk (p, 2, bad, MERO_BLOB_CHUNK_SIZE, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_BLOB_CORRUPT_METRIC,
                                              "source=\"received\""), ==, 1);
  g_assert_cmpuint (mero_blob_partial_next_missing (p, 0), ==, 2);
  mero_blob_partial_free (p);

  /* Chunk 1 damaged while the transfer was down. */
  {
    g_autofree char *base = mero_blob_files_path (f->blobs, id);
    g_autofree char *hex = g_path_get_basename (base);
    g_autofree char *data_path = g_strdup_printf ("%s/partial/%s.data", f->blobs, hex);
    int fd = open (data_path, O_RDWR);

    g_assert_cmpint (pwrite (fd, "X", 1, MERO_BLOB_CHUNK_SIZE + 3), ==, 1);
    close (fd);
  }
  p = mero_blob_partial_open (f->manager, id, len, leaves, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (mero_blob_partial_missing_count (p), ==, 3);
  g_assert_true (mero_blob_partial_has_chunk (p, 0));
  g_assert_false (mero_blob_partial_has_chunk (p, 1));
  g_assert_true (mero_blob_partial_has_chunk (p, 4));
  for (guint64 i = mero_blob_partial_next_missing (p, 0); i != MERO_BLOB_PARTIAL_DONE;
       i = mero_blob_partial_next_missing (p, i + 1))
    g_assert_true (mero_blob_partial_write_chunk (p, i, d + i * MERO_BLOB_CHUNK_SIZE,
                                                  mero_blob_chunk_len (len, i), &error));
  g_assert_true (mero_blob_partial_commit (p, &info, &error));
  g_assert_no_error (error);
  mero_blob_partial_free (p);
  g_assert_cmpuint (info.refcount, ==, 1);
  back = read_range (f, id, 0, G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
}

/* A writer that outlives the manager (an upload still running when the
 * node stops) fails CLOSED on commit and leaves no file behind. */
static void
test_closed (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *tmp = g_build_filename (f->blobs, "tmp", NULL);
  g_autoptr (GDir) dir = NULL;
  MeroBlobWriter *writer = mero_blob_writer_new (f->manager, &error);

  g_assert_no_error (error);
  g_assert_true (mero_blob_writer_write (writer, "abc", 3, &error));
  close_manager (f);
  g_assert_true (mero_blob_writer_write (writer, "def", 3, &error));
  g_assert_false (mero_blob_writer_commit (writer, NULL, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED);
  mero_blob_writer_free (writer);
  dir = g_dir_open (tmp, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
  open_manager (f, G_MAXUINT64);
}

/* The record of @id as the store holds it. */
static GBytes *
raw_record (Fixture *f, const guint8 *id)
{
  MeroKey key = mero_key_blob (id);
  g_autoptr (GError) error = NULL;
  GBytes *value = NULL;

  g_assert_true (mero_store_get (f->store, &key, &value, &error));
  g_assert_no_error (error);
  g_assert_nonnull (value);
  return value;
}

/* Blobs up to MERO_BLOB_INLINE_MAX have no file, one byte more has one;
 * both read back whole, by range, by chunk, with their leaves, also when
 * written piece by piece across the limit. */
static void
test_inline_limit (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) small = pattern (MERO_BLOB_INLINE_MAX, 7);
  g_autoptr (GBytes) big = pattern (MERO_BLOB_INLINE_MAX + 1, 8);
  g_autoptr (GError) error = NULL;
  g_autofree char *small_path = NULL, *big_path = NULL;
  MeroBlobMeta si, bi;

  add_bytes (f, small, &si);
  small_path = mero_blob_files_path (f->blobs, si.id);
  g_assert_false (g_file_test (small_path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_blob_files (f), ==, 0);
  {
    g_autoptr (GBytes) whole = read_range (f, si.id, 0, G_MAXUINT64, &error);
    g_autoptr (GBytes) part = read_range (f, si.id, 100, 1000, &error);
    g_autoptr (GBytes) want = g_bytes_new_from_bytes (small, 100, 1000);
    g_autoptr (GBytes) chunk = mero_blob_manager_read_chunk (f->manager, si.id, 0, &error);
    g_autoptr (GBytes) leaves = mero_blob_manager_get_leaves (f->manager, si.id, &error);
    g_autoptr (GBytes) cached = mero_blob_manager_get_bytes (f->manager, si.id, &error);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (whole, small));
    g_assert_true (g_bytes_equal (part, want));
    g_assert_true (g_bytes_equal (chunk, small));
    g_assert_true (g_bytes_equal (cached, small));
    g_assert_cmpuint (g_bytes_get_size (leaves), ==, 32);
    g_assert_cmpmem (g_bytes_get_data (leaves, NULL), 32, si.id, 32);
    g_assert_null (mero_blob_manager_read_chunk (f->manager, si.id, 1, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE);
    g_clear_error (&error);
  }

  /* Written in two pieces that together pass the limit: a file. */
  {
    g_autoptr (MeroBlobWriter) writer = mero_blob_writer_new (f->manager, &error);
    gsize half = MERO_BLOB_INLINE_MAX / 2 + 1;
    const guint8 *d = g_bytes_get_data (big, NULL);

    g_assert_no_error (error);
    g_assert_true (mero_blob_writer_write (writer, d, half, &error));
    g_assert_true (mero_blob_writer_write (writer, d + half, MERO_BLOB_INLINE_MAX + 1 - half,
                                           &error));
    g_assert_true (mero_blob_writer_commit (writer, &bi, &error));
    g_assert_no_error (error);
  }
  big_path = mero_blob_files_path (f->blobs, bi.id);
  g_assert_true (g_file_test (big_path, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_blob_files (f), ==, 1);
  {
    g_autoptr (GBytes) whole = read_range (f, bi.id, 0, G_MAXUINT64, &error);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (whole, big));
  }
  {
    g_autoptr (GArray) list = mero_blob_manager_list (f->manager, &error);

    g_assert_no_error (error);
    g_assert_cmpuint (list->len, ==, 2);
  }
}

/* Returns once every change queued so far is committed (the committer
 * takes changes in order). */
static void
drain_committer (Fixture *f)
{
  guint8 absent[32] = { 0xee };
  g_autoptr (GError) error = NULL;

  g_assert_false (mero_blob_manager_delete (f->manager, absent, NULL, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND);
}

/* One byte of an inline blob damaged in its record (written back through
 * the store): every read path refuses it with CORRUPT and counts it;
 * its header (info, list) and leaves still read.  A record whose leaf is
 * damaged is refused as a whole. */
static void
test_inline_corrupt (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (4096, 9);
  g_autoptr (GBytes) record = NULL;
  g_autoptr (GError) error = NULL;
  MeroKey key;
  MeroBlobMeta info, again;
  guint8 *copy;
  gsize len;

  add_bytes (f, bytes, &info);
  record = raw_record (f, info.id);
  g_assert_cmpuint (g_bytes_get_size (record), ==,
                    MERO_BLOB_META_HEADER_LEN + MERO_BLOB_HASH_LEN + 4096);
  copy = g_bytes_unref_to_data (g_bytes_ref (record), &len);
  copy[len - 100] ^= 0x04;
  key = mero_key_blob (info.id);
  g_assert_true (mero_store_put (f->store, &key, copy, len, &error));
  g_assert_no_error (error);

  g_assert_null (read_range (f, info.id, 0, G_MAXUINT64, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_assert_nonnull (strstr (error->message, "chunk 1 of 1"));
  g_clear_error (&error);
  g_assert_null (read_range (f, info.id, 0, 10, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (mero_blob_manager_read_chunk (f->manager, info.id, 0, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (mero_blob_manager_get_bytes (f->manager, info.id, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_cmpuint (mero_metrics_get_counter (f->metrics, MERO_BLOB_CORRUPT_METRIC,
                                              "source=\"disk\""), ==, 4);
  g_assert_true (mero_blob_manager_info (f->manager, info.id, &again, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (again.size, ==, 4096);

  /* The leaf damaged instead: the record no longer adds up to its id.
   * The reads above queued access-time updates; they are written first,
   * so they cannot put an older record back over this one. */
  drain_committer (f);
  copy[len - 100] ^= 0x04;
  copy[MERO_BLOB_META_HEADER_LEN + 3] ^= 0x01;
  g_assert_true (mero_store_put (f->store, &key, copy, len, &error));
  g_assert_null (mero_blob_manager_get_leaves (f->manager, info.id, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  g_assert_null (read_range (f, info.id, 0, G_MAXUINT64, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_free (copy);
}

/* An inline blob added twice has refcount 2 across a restart, never a
 * file; deletes count down to its removal. */
static void
test_inline_refcount_restart (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (4096, 10);
  g_autoptr (GError) error = NULL;
  MeroBlobMeta info;
  guint32 left = 99;

  add_bytes (f, bytes, &info);
  add_bytes (f, bytes, &info);
  g_assert_cmpuint (info.refcount, ==, 2);
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  g_assert_true (mero_blob_manager_info (f->manager, info.id, &info, &error));
  g_assert_cmpuint (info.refcount, ==, 2);
  g_assert_true (mero_blob_manager_delete (f->manager, info.id, &left, &error));
  g_assert_cmpuint (left, ==, 1);
  close_manager (f);
  open_manager (f, G_MAXUINT64);
  {
    g_autoptr (GBytes) back = read_range (f, info.id, 0, G_MAXUINT64, &error);

    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (back, bytes));
  }
  g_assert_true (mero_blob_manager_delete (f->manager, info.id, &left, &error));
  g_assert_cmpuint (left, ==, 0);
  g_assert_false (mero_blob_manager_info (f->manager, info.id, &info, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_cmpuint (count_blob_files (f), ==, 0);
}

/* A small blob received chunk by chunk (a transfer) ends up inline too:
 * it is received in memory (no partial file at any time, nothing to
 * resume), a corrupt chunk is still refused, and no blob file appears. */
static void
test_inline_partial (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (3000, 11);
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_autoptr (GBytes) leaves = NULL, back = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *partial_dir = g_build_filename (f->blobs, "partial", NULL);
  g_autoptr (GDir) dir = NULL;
  MeroBlobPartial *p;
  MeroBlobMeta info;
  guint8 id[32];

  mero_blob_chunker_feed (chunker, g_bytes_get_data (bytes, NULL), 3000);
  leaves = mero_blob_chunker_finish (chunker, id, NULL);
  p = mero_blob_partial_open (f->manager, id, 3000, leaves, &error);
  g_assert_no_error (error);
  dir = g_dir_open (partial_dir, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
  g_clear_pointer (&dir, g_dir_close);
  g_assert_false (mero_blob_partial_exists (f->manager, id));
  {
    g_autofree guint8 *bad = g_memdup2 (g_bytes_get_data (bytes, NULL), 3000);

    bad[100] ^= 1;
    g_assert_false (mero_blob_partial_write_chunk (p, 0, bad, 3000, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
    g_clear_error (&error);
    g_assert_cmpuint (mero_blob_partial_missing_count (p), ==, 1);
  }
  g_assert_true (mero_blob_partial_write_chunk (p, 0, g_bytes_get_data (bytes, NULL), 3000,
                                                &error));
  g_assert_true (mero_blob_partial_has_chunk (p, 0));
  g_assert_true (mero_blob_partial_commit (p, &info, &error));
  g_assert_no_error (error);
  mero_blob_partial_free (p);
  g_assert_cmpuint (info.refcount, ==, 1);
  g_assert_cmpuint (count_blob_files (f), ==, 0);
  dir = g_dir_open (partial_dir, 0, NULL);
  g_assert_null (g_dir_read_name (dir));
  back = read_range (f, id, 0, G_MAXUINT64, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (back, bytes));
}

/* A process that adds small blobs and dies right after the last
 * acknowledgement (no close, no store flush: _exit) loses none of them:
 * the reopened store holds every one, readable, with its refcount. */
static void
test_inline_crash (Fixture *f, gconstpointer data)
{
  const guint n = 300;
  g_autoptr (GArray) list = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;
  pid_t pid;

  close_manager (f);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      Concurrent c = { 0 };
      gint64 deadline = g_get_monotonic_time () + TEST_TIMEOUT_US;

      open_manager (f, G_MAXUINT64);
      c.ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      for (guint i = 0; i < n; i++)
        {
          g_autoptr (GBytes) bytes = pattern (4096, 1000 + i);
          g_autoptr (GInputStream) in = g_memory_input_stream_new_from_bytes (bytes);

          c.pending++;
          mero_blob_manager_add_stream_async (f->manager, in, NULL, on_added, &c);
        }
      while (c.pending > 0 && g_get_monotonic_time () < deadline)
        g_main_context_iteration (NULL, TRUE);
      _exit (c.pending == 0 && c.failed == 0 && g_hash_table_size (c.ids) == n ? 0 : 1);
    }
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status));
  g_assert_cmpint (WEXITSTATUS (status), ==, 0);

  open_manager (f, G_MAXUINT64);
  list = mero_blob_manager_list (f->manager, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GBytes) bytes = pattern (4096, 1000 + i);
      g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
      g_autoptr (GBytes) leaves = NULL, back = NULL;
      MeroBlobMeta info;
      guint8 id[32];

      mero_blob_chunker_feed (chunker, g_bytes_get_data (bytes, NULL), 4096);
      leaves = mero_blob_chunker_finish (chunker, id, NULL);
      g_assert_true (mero_blob_manager_info (f->manager, id, &info, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (info.refcount, ==, 1);
      back = read_range (f, id, 0, G_MAXUINT64, &error);
      g_assert_no_error (error);
      g_assert_true (g_bytes_equal (back, bytes));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  /* The corrupt-chunk tests expect the manager's warning; criticals stay fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
#define ADD(name, fn) g_test_add ("/blob/manager/" name, Fixture, NULL, setup, fn, teardown)
  ADD ("add-read", test_add_read);
  ADD ("corrupt-byte", test_corrupt_byte);
  ADD ("concurrent-adds", test_concurrent_adds);
  ADD ("refcount-restart", test_refcount_restart);
  ADD ("public-mark", test_public_mark);
  ADD ("too-large", test_too_large);
  ADD ("get-bytes-cache", test_get_bytes_cache);
  ADD ("partial-resume", test_partial_resume);
  ADD ("closed", test_closed);
  ADD ("inline-limit", test_inline_limit);
  ADD ("inline-corrupt", test_inline_corrupt);
  ADD ("inline-refcount-restart", test_inline_refcount_restart);
  ADD ("inline-partial", test_inline_partial);
  ADD ("inline-crash", test_inline_crash);
#undef ADD
  return g_test_run ();
}
