/* Entity tree hash rules against vectors computed independently
 * (tests/data/gen-entity-hash-vectors.py, Python hashlib). */
#include <json-glib/json-glib.h>
#include <string.h>

#include "context/state/mero-entity-hash.h"

typedef struct {
  guint8 id[32];
  gboolean has_parent;
  guint8 parent[32];
  GBytes *data;
  gboolean deleted;
} TestEntity;

static void
test_entity_clear (gpointer p)
{
  g_bytes_unref (((TestEntity *) p)->data);
}

static GBytes *
hex_decode (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *buf = g_malloc (len + 1);

  for (gsize i = 0; i < len; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      g_assert_true (hi >= 0 && lo >= 0);
      buf[i] = (guint8) (hi << 4 | lo);
    }
  return g_bytes_new_take (buf, len);
}

static void
hex_decode_32 (const char *hex, guint8 out[32])
{
  g_autoptr (GBytes) b = hex_decode (hex);
  g_assert_cmpuint (g_bytes_get_size (b), ==, 32);
  memcpy (out, g_bytes_get_data (b, NULL), 32);
}

static JsonObject *
load_vectors (JsonParser *parser)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data",
                                                 "entity-hash-vectors.json", NULL);
  g_autoptr (GError) error = NULL;

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
full_hash_of (GArray *ents, const TestEntity *e, guint8 out[32])
{
  g_autoptr (GArray) kids = g_array_new (FALSE, TRUE, sizeof (MeroEntityChildHash));
  guint8 own[32];

  for (guint i = 0; i < ents->len; i++)
    {
      const TestEntity *c = &g_array_index (ents, TestEntity, i);
      MeroEntityChildHash ch;

      if (!c->has_parent || c->deleted || memcmp (c->parent, e->id, 32) != 0)
        continue;
      memcpy (ch.id, c->id, 32);
      full_hash_of (ents, c, ch.full_hash);
      g_array_append_val (kids, ch);
    }
  gsize len;
  const guint8 *data = g_bytes_get_data (e->data, &len);
  mero_entity_own_hash (data, len, own);
  mero_entity_full_hash (own, (MeroEntityChildHash *) kids->data, kids->len, out);
}

static void
test_own_hash_vectors (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *own = json_object_get_array_member (load_vectors (parser), "own");

  g_assert_cmpuint (json_array_get_length (own), >=, 4);
  for (guint i = 0; i < json_array_get_length (own); i++)
    {
      JsonObject *v = json_array_get_object_element (own, i);
      g_autoptr (GBytes) data = hex_decode (json_object_get_string_member (v, "data"));
      guint8 want[32], got[32];
      gsize len;
      const guint8 *p = g_bytes_get_data (data, &len);

      hex_decode_32 (json_object_get_string_member (v, "own_hash"), want);
      mero_entity_own_hash (p, len, got);
      g_assert_cmpmem (got, 32, want, 32);
    }
}

static void
test_tree_vectors (void)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonArray *trees = json_object_get_array_member (load_vectors (parser), "trees");

  g_assert_cmpuint (json_array_get_length (trees), >=, 6);
  for (guint t = 0; t < json_array_get_length (trees); t++)
    {
      JsonObject *tree = json_array_get_object_element (trees, t);
      JsonArray *list = json_object_get_array_member (tree, "entities");
      g_autoptr (GArray) ents = g_array_new (FALSE, TRUE, sizeof (TestEntity));
      const TestEntity *root = NULL;
      guint8 want[32], got[32];

      g_array_set_clear_func (ents, test_entity_clear);
      for (guint i = 0; i < json_array_get_length (list); i++)
        {
          JsonObject *o = json_array_get_object_element (list, i);
          TestEntity e = { 0 };

          hex_decode_32 (json_object_get_string_member (o, "id"), e.id);
          if (!json_object_get_null_member (o, "parent"))
            {
              e.has_parent = TRUE;
              hex_decode_32 (json_object_get_string_member (o, "parent"), e.parent);
            }
          e.data = hex_decode (json_object_get_string_member (o, "data"));
          e.deleted = json_object_get_boolean_member (o, "deleted");
          g_array_append_val (ents, e);
        }
      for (guint i = 0; i < ents->len; i++)
        if (!g_array_index (ents, TestEntity, i).has_parent)
          root = &g_array_index (ents, TestEntity, i);
      g_assert_nonnull (root);

      hex_decode_32 (json_object_get_string_member (tree, "root_hash"), want);
      full_hash_of (ents, root, got);
      g_test_message ("tree: %s", json_object_get_string_member (tree, "name"));
      g_assert_cmpmem (got, 32, want, 32);
    }
}

static void
test_children_order_irrelevant (void)
{
  MeroEntityChildHash a[3], b[3];
  guint8 own[32] = { 7 }, ha[32], hb[32];

  for (guint i = 0; i < 3; i++)
    {
      memset (a[i].id, (int) (3 - i), 32);
      memset (a[i].full_hash, (int) (0x10 + i), 32);
    }
  memcpy (b, a, sizeof a);
  /* Reverse b: the hash must not depend on the order given. */
  MeroEntityChildHash tmp = b[0];
  b[0] = b[2];
  b[2] = tmp;
  mero_entity_full_hash (own, a, 3, ha);
  mero_entity_full_hash (own, b, 3, hb);
  g_assert_cmpmem (ha, 32, hb, 32);
  /* ...but it does depend on the children's hashes. */
  b[1].full_hash[0] ^= 1;
  mero_entity_full_hash (own, b, 3, hb);
  g_assert_true (memcmp (ha, hb, 32) != 0);
}

static void
test_zero_hash (void)
{
  guint8 z[32] = { 0 };
  g_assert_true (mero_hash_is_zero (z));
  z[31] = 1;
  g_assert_false (mero_hash_is_zero (z));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/entity-hash/own-vectors", test_own_hash_vectors);
  g_test_add_func ("/entity-hash/tree-vectors", test_tree_vectors);
  g_test_add_func ("/entity-hash/children-order", test_children_order_irrelevant);
  g_test_add_func ("/entity-hash/zero", test_zero_hash);
  return g_test_run ();
}
