/* test-blob-tree.c: blob ids and leaves against vectors computed
 * independently (tests/data/gen-blob-tree-vectors.py, Python hashlib),
 * and the record codec. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "blob/mero-blob-error.h"
#include "blob/mero-blob-meta.h"
#include "blob/mero-blob-tree.h"

static guint8 *
case_data (gsize size)
{
  guint8 *d = g_malloc (MAX (size, 1));

  for (gsize i = 0; i < size; i++)
    d[i] = (guint8) ((i * 31 + 7) & 0xff);
  return d;
}

static char *
hex (const guint8 *b, gsize len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", b[i]);
  return g_string_free (s, FALSE);
}

static JsonObject *
load_vectors (JsonParser *parser)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "blob-tree-vectors.json",
                                                 NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

/* The chunker, fed in uneven pieces that straddle chunk boundaries, gives
 * the vectors' leaves and id; the tree over the vectors' leaves gives the id. */
static void
test_vectors (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *root = load_vectors (parser);
  JsonArray *cases = json_object_get_array_member (root, "cases");

  g_assert_cmpint (json_object_get_int_member (root, "chunk_size"), ==, MERO_BLOB_CHUNK_SIZE);
  g_assert_cmpuint (json_array_get_length (cases), >=, 10);
  for (guint c = 0; c < json_array_get_length (cases); c++)
    {
      JsonObject *tc = json_array_get_object_element (cases, c);
      gsize size = (gsize) json_object_get_int_member (tc, "size");
      JsonArray *want_leaves = json_object_get_array_member (tc, "leaves");
      g_autofree guint8 *data = case_data (size);
      g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
      g_autoptr (GBytes) leaves = NULL;
      guint8 id[MERO_BLOB_ID_LEN], id2[MERO_BLOB_ID_LEN];
      g_autofree char *id_hex = NULL;
      guint64 n = 0;
      gsize pos = 0, step = 1;

      while (pos < size)
        {
          gsize take = MIN (step, size - pos);

          mero_blob_chunker_feed (chunker, data + pos, take);
          pos += take;
          step = step * 7 + 13;
        }
      leaves = mero_blob_chunker_finish (chunker, id, &n);
      g_assert_cmpuint (n, ==, json_array_get_length (want_leaves));
      g_assert_cmpuint (n, ==, mero_blob_chunk_count (size));
      for (guint i = 0; i < n; i++)
        {
          g_autofree char *leaf = hex ((const guint8 *) g_bytes_get_data (leaves, NULL) + 32 * i,
                                       32);

          g_assert_cmpstr (leaf, ==, json_array_get_string_element (want_leaves, i));
        }
      id_hex = hex (id, sizeof id);
      g_assert_cmpstr (id_hex, ==, json_object_get_string_member (tc, "id"));
      mero_blob_tree_root (g_bytes_get_data (leaves, NULL), n, id2);
      g_assert_cmpmem (id, 32, id2, 32);
    }
}

static void
test_chunk_bounds (void)
{
  g_assert_cmpuint (mero_blob_chunk_count (0), ==, 1);
  g_assert_cmpuint (mero_blob_chunk_count (MERO_BLOB_CHUNK_SIZE), ==, 1);
  g_assert_cmpuint (mero_blob_chunk_count (MERO_BLOB_CHUNK_SIZE + 1), ==, 2);
  g_assert_cmpuint (mero_blob_chunk_len (MERO_BLOB_CHUNK_SIZE + 1, 1), ==, 1);
  g_assert_cmpuint (mero_blob_chunk_len (MERO_BLOB_CHUNK_SIZE + 1, 0), ==, MERO_BLOB_CHUNK_SIZE);
  g_assert_cmpuint (mero_blob_chunk_len (0, 0), ==, 0);
}

/* A record round-trips; one whose leaves do not hash to its key, or whose
 * size disagrees with its leaf count, is refused. */
static void
test_meta (void)
{
  g_autofree guint8 *data = case_data (3 * MERO_BLOB_CHUNK_SIZE + 5);
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_auto (MeroBlobMeta) meta = { 0 }, back = { 0 }, bad = { 0 };
  g_autoptr (GBytes) encoded = NULL, damaged = NULL;
  g_autoptr (GError) error = NULL;
  guint8 *copy;
  gsize len;

  mero_blob_chunker_feed (chunker, data, 3 * MERO_BLOB_CHUNK_SIZE + 5);
  meta.leaves = mero_blob_chunker_finish (chunker, meta.id, &meta.n_leaves);
  meta.size = 3 * MERO_BLOB_CHUNK_SIZE + 5;
  meta.refcount = 3;
  meta.created_us = 1000;
  meta.accessed_us = 2000;
  encoded = mero_blob_meta_encode (&meta);
  g_assert_true (mero_blob_meta_decode (meta.id, encoded, TRUE, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back.size, ==, meta.size);
  g_assert_cmpuint (back.refcount, ==, 3);
  g_assert_cmpint (back.created_us, ==, 1000);
  g_assert_cmpint (back.accessed_us, ==, 2000);
  g_assert_true (g_bytes_equal (back.leaves, meta.leaves));

  copy = g_bytes_unref_to_data (g_bytes_ref (encoded), &len);
  copy[MERO_BLOB_META_HEADER_LEN + 40] ^= 1;
  damaged = g_bytes_new_take (copy, len);
  g_assert_false (mero_blob_meta_decode (meta.id, damaged, TRUE, &bad, &error));
  g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  g_clear_error (&error);
  mero_blob_meta_clear (&bad);
  {
    g_autoptr (GBytes) cut = g_bytes_new_from_bytes (encoded, 0, len - 32);

    g_assert_false (mero_blob_meta_decode (meta.id, cut, FALSE, &bad, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
  }
}

/* An inline record carries the blob's bytes after its one leaf; a record
 * cut short, an inline blob over the limit and an unknown flag are
 * refused. */
static void
test_meta_inline (void)
{
  gsize size = 3000;
  g_autofree guint8 *data = case_data (size);
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_auto (MeroBlobMeta) meta = { 0 }, back = { 0 }, head = { 0 }, bad = { 0 };
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GError) error = NULL;
  gsize len;
  guint8 *copy;

  mero_blob_chunker_feed (chunker, data, size);
  meta.leaves = mero_blob_chunker_finish (chunker, meta.id, &meta.n_leaves);
  meta.size = size;
  meta.refcount = 1;
  meta.is_inline = TRUE;
  meta.data = g_bytes_new (data, size);
  encoded = mero_blob_meta_encode (&meta);
  g_assert_cmpuint (g_bytes_get_size (encoded), ==,
                    MERO_BLOB_META_HEADER_LEN + MERO_BLOB_HASH_LEN + size);
  g_assert_true (mero_blob_meta_decode (meta.id, encoded, TRUE, &back, &error));
  g_assert_no_error (error);
  g_assert_true (back.is_inline);
  g_assert_true (g_bytes_equal (back.data, meta.data));
  g_assert_true (g_bytes_equal (back.leaves, meta.leaves));
  g_assert_true (mero_blob_meta_decode (meta.id, encoded, FALSE, &head, &error));
  g_assert_true (head.is_inline);
  g_assert_null (head.data);
  g_assert_cmpuint (head.size, ==, size);

  {
    g_autoptr (GBytes) cut = g_bytes_new_from_bytes (encoded, 0, g_bytes_get_size (encoded) - 1);

    g_assert_false (mero_blob_meta_decode (meta.id, cut, FALSE, &bad, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
    g_clear_error (&error);
  }
  copy = g_bytes_unref_to_data (g_bytes_ref (encoded), &len);
  copy[1] = 0x02;
  {
    g_autoptr (GBytes) flagged = g_bytes_new (copy, len);

    g_assert_false (mero_blob_meta_decode (meta.id, flagged, TRUE, &bad, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
    g_clear_error (&error);
  }
  /* An inline flag on a size beyond the inline limit. */
  copy[1] = MERO_BLOB_META_FLAG_INLINE;
  {
    guint64 big = GUINT64_TO_LE ((guint64) MERO_BLOB_INLINE_MAX + 1);
    g_autoptr (GBytes) oversize = NULL;

    memcpy (copy + 6, &big, 8);
    oversize = g_bytes_new (copy, len);
    g_assert_false (mero_blob_meta_decode (meta.id, oversize, FALSE, &bad, &error));
    g_assert_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT);
    g_clear_error (&error);
  }
  g_free (copy);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blob/tree/vectors", test_vectors);
  g_test_add_func ("/blob/meta/inline", test_meta_inline);
  g_test_add_func ("/blob/tree/chunk-bounds", test_chunk_bounds);
  g_test_add_func ("/blob/meta/codec", test_meta);
  return g_test_run ();
}
