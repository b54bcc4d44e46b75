/* test-store.c: the store façade suite, run against every backend
 * (/store/rocksdb/... and /store/memory/...). */
#include <string.h>

#include "store-test-util.h"

typedef struct {
  const TestBackend *backend;
  char *dir;
  char *db_path;
  MeroStore *store;
} Fixture;

static MeroStore *
open_plain (Fixture *f, GError **error)
{
  return mero_store_open (f->backend->vtable, NULL, f->db_path, NULL, error);
}

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->backend = data;
  f->dir = mero_test_make_tmpdir ("mero-store-test");
  f->db_path = g_build_filename (f->dir, "db", NULL);
  f->store = open_plain (f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
  g_assert_false (mero_store_is_encrypted (f->store));
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->store, mero_store_close);
  mero_test_remove_tree (f->dir);
  g_free (f->db_path);
  g_free (f->dir);
}

static void
put_str (MeroStore *store, const MeroKey *key, const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_store_put (store, key, (const guint8 *) value, strlen (value), &error));
  g_assert_no_error (error);
}

/* Asserts @key holds @expected (NULL: absent). */
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

static void
assert_snapshot_value (MeroStoreSnapshot *snap, const MeroKey *key, const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = NULL;

  g_assert_true (mero_store_snapshot_get (snap, key, &value, &error));
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

/* Values of every key under @prefix, joined with ",". */
static char *
collect (MeroStore *store, MeroStoreSnapshot *snap, const MeroKey *prefix)
{
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, snap, prefix);
  g_autoptr (GError) error = NULL;
  GString *out = g_string_new (NULL);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      g_autoptr (GBytes) v = mero_store_iter_value (it);
      gsize klen;
      const guint8 *k = mero_store_iter_key (it, &klen);

      g_assert_nonnull (k);
      g_assert_cmpuint (klen, >=, prefix->len);
      g_assert_cmpmem (k, prefix->len, prefix->bytes, prefix->len);
      if (out->len > 0)
        g_string_append_c (out, ',');
      g_string_append_len (out, g_bytes_get_data (v, NULL), (gssize) g_bytes_get_size (v));
    }
  g_assert_true (mero_store_iter_check (it, &error));
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

static void
test_put_get_delete (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 ctx[32], ent[32];
  MeroKey key;

  test_id (ctx, 0x11, 1);
  test_id (ent, 0x22, 2);
  key = mero_key_state (ctx, ent);

  assert_value (f->store, &key, NULL);
  put_str (f->store, &key, "one");
  assert_value (f->store, &key, "one");
  put_str (f->store, &key, "two");
  assert_value (f->store, &key, "two");

  /* Empty values are values, not absence. */
  g_assert_true (mero_store_put (f->store, &key, NULL, 0, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GBytes) value = NULL;
    g_assert_true (mero_store_get (f->store, &key, &value, &error));
    g_assert_nonnull (value);
    g_assert_cmpuint (g_bytes_get_size (value), ==, 0);
  }

  {
    g_autoptr (GBytes) b = g_bytes_new_static ("three", 5);
    g_assert_true (mero_store_put_bytes (f->store, &key, b, &error));
    g_assert_no_error (error);
    assert_value (f->store, &key, "three");
  }

  g_assert_true (mero_store_delete (f->store, &key, &error));
  g_assert_no_error (error);
  assert_value (f->store, &key, NULL);
  /* Deleting an absent key is not an error. */
  g_assert_true (mero_store_delete (f->store, &key, &error));
  g_assert_no_error (error);
  g_assert_true (mero_store_flush (f->store, &error));
  g_assert_no_error (error);
}

static void
test_absent (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = g_bytes_new_static ("x", 1);
  guint8 id[32];
  MeroKey key;

  test_id (id, 0x33, 3);
  key = mero_key_blob (id);
  g_assert_true (mero_store_get (f->store, &key, &value, &error));
  g_assert_no_error (error);
  /* *value is reset, not left at the caller's old pointer. */
  g_assert_null (value);
}

static void
test_batch (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStoreBatch) batch = NULL;
  guint8 ctx[32], a[32], b[32], c[32];
  MeroKey ka, kb, kc;

  test_id (ctx, 0x44, 0);
  test_id (a, 0x01, 1);
  test_id (b, 0x01, 2);
  test_id (c, 0x01, 3);
  ka = mero_key_delta (ctx, a);
  kb = mero_key_delta (ctx, b);
  kc = mero_key_delta (ctx, c);
  put_str (f->store, &kc, "old-c");

  batch = mero_store_batch_new (f->store);
  g_assert_cmpuint (mero_store_batch_count (batch), ==, 0);
  mero_store_batch_put (batch, &ka, (const guint8 *) "a1", 2);
  mero_store_batch_put (batch, &kb, (const guint8 *) "b1", 2);
  mero_store_batch_put (batch, &ka, (const guint8 *) "a2", 2); /* later wins */
  mero_store_batch_delete (batch, &kc);
  g_assert_cmpuint (mero_store_batch_count (batch), ==, 4);

  /* Nothing is visible before commit. */
  assert_value (f->store, &ka, NULL);
  assert_value (f->store, &kb, NULL);
  assert_value (f->store, &kc, "old-c");

  g_assert_true (mero_store_batch_commit (batch, &error));
  g_assert_no_error (error);
  assert_value (f->store, &ka, "a2");
  assert_value (f->store, &kb, "b1");
  assert_value (f->store, &kc, NULL);
}

/* A reader never sees half a batch: every batch writes generation g to
 * all N keys, a reader reads them in a snapshot and must see one g. */
#define ATOMIC_KEYS 16
#define ATOMIC_ROUNDS 300

typedef struct {
  MeroStore *store;
  MeroKey keys[ATOMIC_KEYS];
  gint done;
  guint torn;
  gint reads;   /* atomic */
} AtomicCtx;

static gpointer
atomic_reader (gpointer p)
{
  AtomicCtx *a = p;

  while (!g_atomic_int_get (&a->done))
    {
      g_autoptr (MeroStoreSnapshot) snap = mero_store_snapshot_new (a->store);
      guint32 first = G_MAXUINT32;

      for (guint i = 0; i < ATOMIC_KEYS; i++)
        {
          g_autoptr (GBytes) v = NULL;
          guint32 gen = 0;

          g_assert_true (mero_store_snapshot_get (snap, &a->keys[i], &v, NULL));
          if (v != NULL)
            memcpy (&gen, g_bytes_get_data (v, NULL), sizeof gen);
          if (i == 0)
            first = gen;
          else if (gen != first)
            a->torn++;
        }
      g_atomic_int_inc (&a->reads);
    }
  return NULL;
}

static void
test_batch_atomic (Fixture *f, gconstpointer data)
{
  AtomicCtx a = { .store = f->store };
  GThread *reader;
  guint8 scope[32];

  test_id (scope, 0x55, 5);
  for (guint i = 0; i < ATOMIC_KEYS; i++)
    {
      guint8 frag = (guint8) i;
      g_assert_true (mero_key_generic (&a.keys[i], scope, &frag, 1));
    }

  reader = g_thread_new ("reader", atomic_reader, &a);
  /* Keep writing until the reader has overlapped a good number of
   * commits, however the threads get scheduled. */
  for (guint32 gen = 1; gen <= ATOMIC_ROUNDS || g_atomic_int_get (&a.reads) < 50; gen++)
    {
      g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (f->store);
      g_autoptr (GError) error = NULL;

      for (guint i = 0; i < ATOMIC_KEYS; i++)
        mero_store_batch_put (batch, &a.keys[i], (const guint8 *) &gen, sizeof gen);
      g_assert_true (mero_store_batch_commit (batch, &error));
      g_assert_no_error (error);
    }
  g_atomic_int_set (&a.done, 1);
  g_thread_join (reader);
  g_assert_cmpuint (a.torn, ==, 0);
  g_assert_cmpint (a.reads, >=, 50);
}

static void
test_iter_prefix (Fixture *f, gconstpointer data)
{
  guint8 ctx[32], left[32], right[32], ff[32], ent[32];
  MeroKey key, prefix;
  g_autofree char *got = NULL, *got_left = NULL, *got_right = NULL, *got_ff = NULL;
  g_autofree char *all = NULL;
  /* Inserted out of order: iteration must sort them by entity id. */
  static const guint8 order[] = { 7, 2, 9, 0, 5 };

  test_id (ctx, 0x66, 0x10);
  test_id (left, 0x66, 0x0f);  /* neighbouring prefixes on both sides */
  test_id (right, 0x66, 0x11);
  memset (ff, 0xff, sizeof ff); /* no successor prefix: unbounded above */

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      char v[8];
      test_id (ent, 0, order[i]);
      key = mero_key_state (ctx, ent);
      g_snprintf (v, sizeof v, "e%u", order[i]);
      put_str (f->store, &key, v);
    }
  test_id (ent, 0xff, 0xff);
  key = mero_key_state (left, ent);
  put_str (f->store, &key, "left-last");
  test_id (ent, 0, 0);
  key = mero_key_state (right, ent);
  put_str (f->store, &key, "right-first");
  key = mero_key_state (ff, ent);
  put_str (f->store, &key, "ff");
  /* Same bytes, other column: must not show up in STATE scans. */
  key = mero_key_delta (ctx, ent);
  put_str (f->store, &key, "delta");

  prefix = mero_key_prefix_state (ctx);
  got = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (got, ==, "e0,e2,e5,e7,e9");
  prefix = mero_key_prefix_state (left);
  got_left = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (got_left, ==, "left-last");
  prefix = mero_key_prefix_state (right);
  got_right = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (got_right, ==, "right-first");
  prefix = mero_key_prefix_state (ff);
  got_ff = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (got_ff, ==, "ff");
  prefix = mero_key_prefix_column (MERO_COLUMN_STATE);
  all = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (all, ==, "left-last,e0,e2,e5,e7,e9,right-first,ff");
}

static void
test_iter_seek (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroStoreIter) it = NULL;
  guint8 ctx[32], other[32], ent[32];
  MeroKey key, prefix;
  gsize len;
  const guint8 *k;

  test_id (ctx, 0x77, 7);
  test_id (other, 0x77, 6);
  for (guint8 i = 10; i <= 50; i += 10)
    {
      char v[4];
      test_id (ent, 0, i);
      key = mero_key_delta (ctx, ent);
      g_snprintf (v, sizeof v, "%u", i);
      put_str (f->store, &key, v);
    }
  test_id (ent, 0, 99);
  key = mero_key_delta (other, ent);
  put_str (f->store, &key, "other");

  prefix = mero_key_prefix_deltas (ctx);
  it = mero_store_iter_new (f->store, NULL, &prefix);

  /* Exact hit. */
  test_id (ent, 0, 30);
  key = mero_key_delta (ctx, ent);
  g_assert_true (mero_store_iter_seek (it, &key));
  k = mero_store_iter_key (it, &len);
  g_assert_cmpmem (k, len, key.bytes, key.len);
  /* Between keys: lands on the next one. */
  test_id (ent, 0, 31);
  key = mero_key_delta (ctx, ent);
  g_assert_true (mero_store_iter_seek (it, &key));
  {
    g_autoptr (GBytes) v = mero_store_iter_value (it);
    g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), "40", 2);
  }
  g_assert_true (mero_store_iter_next (it));
  g_assert_false (mero_store_iter_next (it)); /* 50 was last of this prefix */
  g_assert_false (mero_store_iter_next (it)); /* stays done */
  /* Below the prefix (other context sorts first): clamps to its start. */
  test_id (ent, 0, 99);
  key = mero_key_delta (other, ent);
  g_assert_true (mero_store_iter_seek (it, &key));
  {
    g_autoptr (GBytes) v = mero_store_iter_value (it);
    g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), "10", 2);
  }
  /* Past the end. */
  test_id (ent, 0, 51);
  key = mero_key_delta (ctx, ent);
  g_assert_false (mero_store_iter_seek (it, &key));
  g_assert_true (mero_store_iter_check (it, NULL));
}

static void
test_snapshot (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroStoreSnapshot) snap = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *before = NULL, *after = NULL;
  guint8 ctx[32], e1[32], e2[32], e3[32];
  MeroKey k1, k2, k3, prefix;

  test_id (ctx, 0x88, 8);
  test_id (e1, 0, 1);
  test_id (e2, 0, 2);
  test_id (e3, 0, 3);
  k1 = mero_key_state (ctx, e1);
  k2 = mero_key_state (ctx, e2);
  k3 = mero_key_state (ctx, e3);
  put_str (f->store, &k1, "v1");
  put_str (f->store, &k2, "v2");

  snap = mero_store_snapshot_new (f->store);
  put_str (f->store, &k1, "v1-new");
  g_assert_true (mero_store_delete (f->store, &k2, &error));
  put_str (f->store, &k3, "v3");
  {
    g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (f->store);
    mero_store_batch_put (batch, &k2, (const guint8 *) "v2-batch", 8);
    g_assert_true (mero_store_batch_commit (batch, &error));
    g_assert_true (mero_store_delete (f->store, &k2, &error));
  }

  assert_snapshot_value (snap, &k1, "v1");
  assert_snapshot_value (snap, &k2, "v2");
  assert_snapshot_value (snap, &k3, NULL);
  assert_value (f->store, &k1, "v1-new");
  assert_value (f->store, &k2, NULL);
  assert_value (f->store, &k3, "v3");

  prefix = mero_key_prefix_state (ctx);
  before = collect (f->store, snap, &prefix);
  after = collect (f->store, NULL, &prefix);
  g_assert_cmpstr (before, ==, "v1,v2");
  g_assert_cmpstr (after, ==, "v1-new,v3");
}

/* An iterator without a snapshot reads the store as it was when made. */
static void
test_iter_stable (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroStoreIter) it = NULL;
  guint8 scope[32];
  MeroKey a, b, c, prefix;
  guint n = 0;

  test_id (scope, 0x99, 9);
  g_assert_true (mero_key_generic (&a, scope, (const guint8 *) "a", 1));
  g_assert_true (mero_key_generic (&b, scope, (const guint8 *) "b", 1));
  g_assert_true (mero_key_generic (&c, scope, (const guint8 *) "c", 1));
  put_str (f->store, &a, "A");
  put_str (f->store, &c, "C");
  prefix = mero_key_prefix_generic (scope);
  it = mero_store_iter_new (f->store, NULL, &prefix);
  put_str (f->store, &b, "B");
  g_assert_true (mero_store_delete (f->store, &c, NULL));
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    n++;
  g_assert_cmpuint (n, ==, 2);
}

static void
test_columns_distinct (Fixture *f, gconstpointer data)
{
  guint8 id[32];
  MeroKey meta, config, identity, state, delta, ctxmeta, blob, app, alias, group, generic;
  MeroKey alias2;
  g_autofree char *names = NULL;

  test_id (id, 0xaa, 0xaa);
  /* Same name, three columns. */
  g_assert_true (mero_key_meta (&meta, "x"));
  g_assert_true (mero_key_config (&config, "x"));
  g_assert_true (mero_key_identity (&identity, "x"));
  /* Same id bytes everywhere. */
  state = mero_key_state (id, id);
  delta = mero_key_delta (id, id);
  ctxmeta = mero_key_context_meta (id);
  blob = mero_key_blob (id);
  app = mero_key_application (id);
  g_assert_true (mero_key_alias (&alias, 1, id, "x"));
  g_assert_true (mero_key_alias (&alias2, 2, id, "x"));
  g_assert_true (mero_key_group (&group, id, 1, (const guint8 *) "x", 1));
  g_assert_true (mero_key_generic (&generic, id, (const guint8 *) "x", 1));

  put_str (f->store, &meta, "meta");
  put_str (f->store, &config, "config");
  put_str (f->store, &identity, "identity");
  put_str (f->store, &state, "state");
  put_str (f->store, &delta, "delta");
  put_str (f->store, &ctxmeta, "ctxmeta");
  put_str (f->store, &blob, "blob");
  put_str (f->store, &app, "app");
  put_str (f->store, &alias, "alias");
  put_str (f->store, &alias2, "alias2");
  put_str (f->store, &group, "group");
  put_str (f->store, &generic, "generic");

  assert_value (f->store, &meta, "meta");
  assert_value (f->store, &config, "config");
  assert_value (f->store, &identity, "identity");
  assert_value (f->store, &state, "state");
  assert_value (f->store, &delta, "delta");
  assert_value (f->store, &ctxmeta, "ctxmeta");
  assert_value (f->store, &blob, "blob");
  assert_value (f->store, &app, "app");
  assert_value (f->store, &alias, "alias");
  assert_value (f->store, &alias2, "alias2");
  assert_value (f->store, &group, "group");
  assert_value (f->store, &generic, "generic");

  {
    MeroKey p = mero_key_prefix_meta_names ();
    names = collect (f->store, NULL, &p);
    g_assert_cmpstr (names, ==, "meta");
  }
  {
    MeroKey p = mero_key_prefix_context_metas ();
    g_autofree char *s = collect (f->store, NULL, &p);
    g_assert_cmpstr (s, ==, "ctxmeta");
  }
  {
    MeroKey p = mero_key_prefix_aliases_in_scope (2, id);
    g_autofree char *s = collect (f->store, NULL, &p);
    g_assert_cmpstr (s, ==, "alias2");
  }
  {
    MeroKey p = mero_key_prefix_group_record (id, 1);
    g_autofree char *s = collect (f->store, NULL, &p);
    g_assert_cmpstr (s, ==, "group");
  }
}

static void
test_large_values (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) back = NULL;
  gsize size = 8 << 20;
  g_autofree guint8 *big = g_malloc (size);
  guint8 id[32];
  MeroKey key;

  for (gsize i = 0; i < size; i++)
    big[i] = (guint8) (i * 2654435761u >> 13);
  test_id (id, 0xbb, 0xbb);
  key = mero_key_blob (id);
  g_assert_true (mero_store_put (f->store, &key, big, size, &error));
  g_assert_no_error (error);
  g_assert_true (mero_store_get (f->store, &key, &back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (back, NULL), g_bytes_get_size (back), big, size);
}

#define MANY_KEYS 20000

static void
test_many_keys (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStoreIter) it = NULL;
  guint8 ctx[32], ent[32];
  MeroKey key, prefix;
  guint n = 0;
  guint32 prev = 0;

  test_id (ctx, 0xcc, 0xcc);
  memset (ent, 0, sizeof ent);
  for (guint32 base = 0; base < MANY_KEYS; base += 1000)
    {
      g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (f->store);
      for (guint32 i = base; i < base + 1000; i++)
        {
          /* Written in a scrambled order, read back sorted. */
          guint32 id = (i * 7919u) % MANY_KEYS;
          guint32 be = GUINT32_TO_BE (id);
          memcpy (ent + 28, &be, 4);
          key = mero_key_state (ctx, ent);
          mero_store_batch_put (batch, &key, (const guint8 *) &id, sizeof id);
        }
      g_assert_true (mero_store_batch_commit (batch, &error));
      g_assert_no_error (error);
    }

  prefix = mero_key_prefix_state (ctx);
  it = mero_store_iter_new (f->store, NULL, &prefix);
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      g_autoptr (GBytes) v = mero_store_iter_value (it);
      guint32 id;
      memcpy (&id, g_bytes_get_data (v, NULL), sizeof id);
      if (n > 0)
        g_assert_cmpuint (id, ==, prev + 1);
      prev = id;
      n++;
    }
  g_assert_true (mero_store_iter_check (it, NULL));
  g_assert_cmpuint (n, ==, MANY_KEYS);

  for (guint32 id = 0; id < MANY_KEYS; id += 997)
    {
      g_autoptr (GBytes) v = NULL;
      guint32 be = GUINT32_TO_BE (id), got;
      memcpy (ent + 28, &be, 4);
      key = mero_key_state (ctx, ent);
      g_assert_true (mero_store_get (f->store, &key, &v, &error));
      g_assert_nonnull (v);
      memcpy (&got, g_bytes_get_data (v, NULL), sizeof got);
      g_assert_cmpuint (got, ==, id);
    }
}

/* Values are the caller's: they stay valid after the store is closed. */
static void
test_value_outlives_store (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) value = NULL;
  guint8 id[32];
  MeroKey key;

  test_id (id, 0xee, 0xee);
  key = mero_key_blob (id);
  put_str (f->store, &key, "kept after close");
  g_assert_true (mero_store_flush (f->store, &error));
  g_assert_true (mero_store_get (f->store, &key, &value, &error));
  g_assert_no_error (error);
  g_clear_pointer (&f->store, mero_store_close);
  g_assert_cmpmem (g_bytes_get_data (value, NULL), g_bytes_get_size (value), "kept after close",
                   16);
}

/* rocksdb only: the data outlives the handle. */
static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 id[32];
  MeroKey key, cfg;

  test_id (id, 0xdd, 0xdd);
  key = mero_key_application (id);
  g_assert_true (mero_key_config (&cfg, "p2p.port"));
  put_str (f->store, &key, "persisted");
  put_str (f->store, &cfg, "2428");
  g_clear_pointer (&f->store, mero_store_close);

  f->store = open_plain (f, &error);
  g_assert_no_error (error);
  assert_value (f->store, &key, "persisted");
  assert_value (f->store, &cfg, "2428");
  g_assert_false (mero_store_is_encrypted (f->store));
}

static guint
count_wal_files (const char *db_path)
{
  g_autoptr (GDir) dir = g_dir_open (db_path, 0, NULL);
  const char *name;
  guint n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".log"))
      n++;
  return n;
}

/* rocksdb only: opening and closing without writing, again and again,
 * must not pile up write-ahead logs (each open starts a new one). */
static void
test_reopen_no_wal_growth (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  guint8 id[32];
  MeroKey key;

  test_id (id, 0xee, 0xee);
  key = mero_key_application (id);
  put_str (f->store, &key, "written once");
  for (guint i = 0; i < 6; i++)
    {
      g_clear_pointer (&f->store, mero_store_close);
      f->store = open_plain (f, &error);
      g_assert_no_error (error);
    }
  g_clear_pointer (&f->store, mero_store_close);
  g_assert_cmpuint (count_wal_files (f->db_path), <=, 1);
  f->store = open_plain (f, &error);
  g_assert_no_error (error);
  assert_value (f->store, &key, "written once");
}

/* rocksdb only: one handle per database at a time. */
static void
test_locked (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStore) second = open_plain (f, &error);

  g_assert_null (second);
  g_assert_error (error, MERO_STORE_ERROR, MERO_STORE_ERROR_LOCKED);
  g_assert_nonnull (strstr (error->message, f->db_path));
  g_clear_error (&error);

  /* Released on close. */
  g_clear_pointer (&f->store, mero_store_close);
  second = open_plain (f, &error);
  g_assert_no_error (error);
  g_assert_nonnull (second);
}

static void
add_tests (const TestBackend *backend)
{
#define ADD(tname, fn)                                                                  \
  do                                                                                   \
    {                                                                                  \
      g_autofree char *path = g_strdup_printf ("/store/%s/" tname, backend->name);      \
      g_test_add (path, Fixture, backend, fixture_setup, fn, fixture_teardown);        \
    }                                                                                  \
  while (0)

  ADD ("put-get-delete", test_put_get_delete);
  ADD ("absent", test_absent);
  ADD ("batch", test_batch);
  ADD ("batch-atomic", test_batch_atomic);
  ADD ("iter-prefix", test_iter_prefix);
  ADD ("iter-seek", test_iter_seek);
  ADD ("iter-stable", test_iter_stable);
  ADD ("snapshot", test_snapshot);
  ADD ("columns-distinct", test_columns_distinct);
  ADD ("large-values", test_large_values);
  ADD ("many-keys", test_many_keys);
  ADD ("value-outlives-store", test_value_outlives_store);
  if (backend->persistent)
    {
      ADD ("reopen", test_reopen);
      ADD ("locked", test_locked);
      ADD ("reopen-no-wal-growth", test_reopen_no_wal_growth);
    }
#undef ADD
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  add_tests (&test_backend_rocksdb);
  add_tests (&test_backend_memory);
  return g_test_run ();
}
