/* test-store-keys.c: typed key layouts and bounds. */
#include <string.h>

#include "store/mero-store-keys.h"

static void
test_column_names (void)
{
  const char *const *names = mero_column_names ();
  static const char *const expected[] = {
    "meta", "config", "identity", "state", "delta", "blobs", "application", "alias", "group",
    "generic",
  };

  G_STATIC_ASSERT (G_N_ELEMENTS (expected) == MERO_N_COLUMNS);
  for (guint i = 0; i < MERO_N_COLUMNS; i++)
    {
      g_assert_cmpstr (names[i], ==, expected[i]);
      g_assert_cmpstr (mero_column_name ((MeroColumn) i), ==, expected[i]);
    }
  g_assert_null (names[MERO_N_COLUMNS]);
}

static void
fill (guint8 id[32], guint8 base)
{
  for (guint i = 0; i < 32; i++)
    id[i] = (guint8) (base + i);
}

static void
test_layouts (void)
{
  guint8 a[32], b[32], expect[MERO_KEY_MAX];
  MeroKey k, p_peers;

  fill (a, 0x10);
  fill (b, 0x80);

  g_assert_true (mero_key_meta (&k, "ab"));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_META);
  g_assert_cmpmem (k.bytes, k.len, "\x01" "ab", 3);

  k = mero_key_context_meta (a);
  g_assert_cmpint (k.column, ==, MERO_COLUMN_META);
  expect[0] = 0x02;
  memcpy (expect + 1, a, 32);
  g_assert_cmpmem (k.bytes, k.len, expect, 33);

  g_assert_true (mero_key_config (&k, "p2p.port"));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_CONFIG);
  g_assert_cmpmem (k.bytes, k.len, "p2p.port", 8);

  g_assert_true (mero_key_identity (&k, "node"));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_IDENTITY);
  g_assert_cmpmem (k.bytes, k.len, "node", 4);

  memcpy (expect, a, 32);
  memcpy (expect + 32, b, 32);
  k = mero_key_state (a, b);
  g_assert_cmpint (k.column, ==, MERO_COLUMN_STATE);
  g_assert_cmpmem (k.bytes, k.len, expect, 64);
  k = mero_key_delta (a, b);
  g_assert_cmpint (k.column, ==, MERO_COLUMN_DELTA);
  g_assert_cmpmem (k.bytes, k.len, expect, 64);

  k = mero_key_blob (a);
  g_assert_cmpint (k.column, ==, MERO_COLUMN_BLOBS);
  g_assert_cmpmem (k.bytes, k.len, a, 32);
  k = mero_key_application (a);
  g_assert_cmpint (k.column, ==, MERO_COLUMN_APPLICATION);
  g_assert_cmpmem (k.bytes, k.len, a, 32);

  g_assert_true (mero_key_alias (&k, 3, a, "me"));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_ALIAS);
  expect[0] = 3;
  memcpy (expect + 1, a, 32);
  memcpy (expect + 33, "me", 2);
  g_assert_cmpmem (k.bytes, k.len, expect, 35);

  g_assert_true (mero_key_group (&k, a, 9, (const guint8 *) "\x00\xff", 2));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_GROUP);
  memcpy (expect, a, 32);
  expect[32] = 9;
  expect[33] = 0;
  expect[34] = 0xff;
  g_assert_cmpmem (k.bytes, k.len, expect, 35);
  g_assert_true (mero_key_group (&k, a, 9, NULL, 0));
  g_assert_cmpuint (k.len, ==, 33);

  g_assert_true (mero_key_generic (&k, a, (const guint8 *) "frag", 4));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_GENERIC);
  memcpy (expect + 32, "frag", 4);
  g_assert_cmpmem (k.bytes, k.len, expect, 36);

  /* The peer store's records: META 0x05 || PeerId multihash, bounded. */
  g_assert_true (mero_key_peer (&k, a, 32));
  g_assert_cmpint (k.column, ==, MERO_COLUMN_META);
  expect[0] = MERO_KEY_META_TAG_PEER;
  memcpy (expect + 1, a, 32);
  g_assert_cmpmem (k.bytes, k.len, expect, 33);
  p_peers = mero_key_prefix_peers ();
  g_assert_true (mero_key_has_prefix (&k, &p_peers));
  g_assert_false (mero_key_peer (&k, a, 0));
  g_assert_false (mero_key_peer (&k, expect, MERO_KEY_PEER_MAX + 1));
}

static void
test_prefixes (void)
{
  guint8 a[32], b[32];
  MeroKey k, p;

  fill (a, 1);
  fill (b, 2);
  k = mero_key_state (a, b);
  p = mero_key_prefix_state (a);
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_state (b);
  g_assert_false (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_deltas (a); /* same bytes, other column */
  g_assert_false (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_column (MERO_COLUMN_STATE);
  g_assert_true (mero_key_has_prefix (&k, &p));
  g_assert_cmpuint (p.len, ==, 0);

  g_assert_true (mero_key_meta (&k, "x"));
  p = mero_key_prefix_meta_names ();
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_context_metas ();
  g_assert_false (mero_key_has_prefix (&k, &p));
  k = mero_key_context_meta (a);
  g_assert_true (mero_key_has_prefix (&k, &p));

  g_assert_true (mero_key_alias (&k, 4, a, "n"));
  p = mero_key_prefix_aliases (4);
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_aliases (5);
  g_assert_false (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_aliases_in_scope (4, a);
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_aliases_in_scope (4, b);
  g_assert_false (mero_key_has_prefix (&k, &p));

  g_assert_true (mero_key_group (&k, a, 7, (const guint8 *) "s", 1));
  p = mero_key_prefix_group (a);
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_group_record (a, 7);
  g_assert_true (mero_key_has_prefix (&k, &p));
  p = mero_key_prefix_group_record (a, 8);
  g_assert_false (mero_key_has_prefix (&k, &p));

  g_assert_true (mero_key_generic (&k, a, (const guint8 *) "s", 1));
  p = mero_key_prefix_generic (a);
  g_assert_true (mero_key_has_prefix (&k, &p));
}

static void
test_bounds (void)
{
  guint8 a[32], buf[MERO_KEY_MAX + 1];
  char name[MERO_KEY_MAX + 2];
  MeroKey k, before;

  fill (a, 0);
  memset (buf, 'x', sizeof buf);

  /* meta: 1 tag byte + name. */
  memset (name, 'n', sizeof name);
  name[MERO_KEY_MAX - 1] = '\0';
  g_assert_true (mero_key_meta (&k, name));
  g_assert_cmpuint (k.len, ==, MERO_KEY_MAX);
  name[MERO_KEY_MAX - 1] = 'n';
  name[MERO_KEY_MAX] = '\0';
  g_assert_true (mero_key_meta (&before, "keep"));
  k = before;
  g_assert_false (mero_key_meta (&k, name));
  g_assert_true (mero_key_equal (&k, &before)); /* untouched on refusal */

  /* config/identity: the whole key is the name. */
  g_assert_true (mero_key_config (&k, name));
  g_assert_cmpuint (k.len, ==, MERO_KEY_MAX);
  name[MERO_KEY_MAX] = 'n';
  name[MERO_KEY_MAX + 1] = '\0';
  g_assert_false (mero_key_config (&k, name));
  g_assert_false (mero_key_identity (&k, name));

  /* Names: non-empty UTF-8. */
  g_assert_false (mero_key_config (&k, ""));
  g_assert_false (mero_key_config (&k, NULL));
  g_assert_false (mero_key_config (&k, "\xff\xfe"));
  g_assert_true (mero_key_config (&k, "caf\xc3\xa9"));

  /* alias: 33 fixed bytes. */
  memset (name, 'a', sizeof name);
  name[MERO_KEY_MAX - 33] = '\0';
  g_assert_true (mero_key_alias (&k, 1, a, name));
  g_assert_cmpuint (k.len, ==, MERO_KEY_MAX);
  name[MERO_KEY_MAX - 33] = 'a';
  name[MERO_KEY_MAX - 32] = '\0';
  g_assert_false (mero_key_alias (&k, 1, a, name));

  /* group: 33 fixed bytes; generic: 32. */
  g_assert_true (mero_key_group (&k, a, 1, buf, MERO_KEY_MAX - 33));
  g_assert_false (mero_key_group (&k, a, 1, buf, MERO_KEY_MAX - 32));
  g_assert_true (mero_key_generic (&k, a, buf, MERO_KEY_MAX - 32));
  g_assert_cmpuint (k.len, ==, MERO_KEY_MAX);
  g_assert_false (mero_key_generic (&k, a, buf, MERO_KEY_MAX - 31));

  /* Raw keys. */
  g_assert_true (mero_key_from_bytes (&k, MERO_COLUMN_BLOBS, buf, MERO_KEY_MAX));
  g_assert_false (mero_key_from_bytes (&k, MERO_COLUMN_BLOBS, buf, MERO_KEY_MAX + 1));
  g_assert_false (mero_key_from_bytes (&k, MERO_N_COLUMNS, buf, 1));
  /* The META column's reserved tag is out of reach. */
  g_assert_false (mero_key_from_bytes (&k, MERO_COLUMN_META, (const guint8 *) "\x00x", 2));
  g_assert_true (mero_key_from_bytes (&k, MERO_COLUMN_CONFIG, (const guint8 *) "\x00x", 2));
}

/* Byte order is the natural order of the fixed-width fields. */
static void
test_order (void)
{
  guint8 ctx[32] = { 0 }, e1[32] = { 0 }, e2[32] = { 0 };
  MeroKey k1, k2;

  e1[31] = 0xff;
  e2[30] = 0x01;
  k1 = mero_key_state (ctx, e1);
  k2 = mero_key_state (ctx, e2);
  g_assert_cmpint (memcmp (k1.bytes, k2.bytes, k1.len), <, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/store/keys/column-names", test_column_names);
  g_test_add_func ("/store/keys/layouts", test_layouts);
  g_test_add_func ("/store/keys/prefixes", test_prefixes);
  g_test_add_func ("/store/keys/bounds", test_bounds);
  g_test_add_func ("/store/keys/order", test_order);
  return g_test_run ();
}
