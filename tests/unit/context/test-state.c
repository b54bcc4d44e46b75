/* The state engine: bucketed hash vectors computed independently
 * (tests/data/gen-state-vectors.py), order independence, bounds, and the
 * tombstone GC. */
#include <json-glib/json-glib.h>
#include <string.h>

#include "context-test-util.h"
#include "context/state/mero-state.h"
#include "store-memory-core.h"

typedef struct {
  MeroStore *store;
  MeroState *state;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  f->store = mero_store_open (&mero_store_memory_vtable, NULL, "memory", NULL, &error);
  g_assert_no_error (error);
  f->state = mero_state_new (f->store, test_context_id);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  mero_state_free (f->state);
  mero_store_close (f->store);
}

static void
hex_to (const char *hex, guint8 *out, gsize len)
{
  g_assert_cmpuint (strlen (hex), ==, 2 * len);
  for (gsize i = 0; i < len; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4
                       | g_ascii_xdigit_value (hex[2 * i + 1]));
}

static GBytes *
hex_bytes (const char *hex)
{
  gsize len = strlen (hex) / 2;
  guint8 *buf = g_malloc (len + 1);

  hex_to (hex, buf, len);
  return g_bytes_new_take (buf, len);
}

/* One vector op as an action; @data keeps the bytes alive. */
static void
op_to_action (JsonObject *op, MeroAction *a, MeroHlc *ts, GBytes **data)
{
  const char *kind = json_object_get_string_member (op, "op");
  JsonArray *t = json_object_get_array_member (op, "ts");

  memset (a, 0, sizeof *a);
  hex_to (json_object_get_string_member (op, "id"), a->id, 32);
  ts->time = (guint64) json_array_get_int_element (t, 0);
  ts->node = (guint64) json_array_get_int_element (t, 1);
  *data = json_object_has_member (op, "data")
            ? hex_bytes (json_object_get_string_member (op, "data")) : g_bytes_new (NULL, 0);
  a->data = g_bytes_get_data (*data, &a->data_len);
  if (g_str_equal (kind, "add"))
    {
      a->kind = MERO_ACTION_ADD;
      hex_to (json_object_get_string_member (op, "parent"), a->parent, 32);
      a->crdt_type = (guint8) json_object_get_int_member (op, "type");
    }
  else if (g_str_equal (kind, "update"))
    a->kind = MERO_ACTION_UPDATE;
  else
    a->kind = MERO_ACTION_DELETE_REF;
}

static void
commit_txn (Fixture *f, MeroStateTxn *txn, guint8 root[32])
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (f->store);
  g_autoptr (GError) error = NULL;

  mero_state_txn_finish (txn, batch, root, &error);
  g_assert_no_error (error);
  mero_store_batch_commit (batch, &error);
  g_assert_no_error (error);
}

/* mode 0: one txn per op; 1: all ops in one txn; 2: adds first, then the
 * other ops in reverse (another causally valid order). */
static void
apply_vector (JsonArray *ops, guint mode, guint8 root[32])
{
  Fixture f;
  g_autoptr (MeroStateTxn) txn = NULL;
  g_autoptr (GPtrArray) order = g_ptr_array_new ();
  guint n = json_array_get_length (ops);

  fixture_setup (&f, NULL);
  for (guint i = 0; i < n; i++)
    if (mode != 2 || g_str_equal (json_object_get_string_member (json_array_get_object_element (ops, i), "op"), "add"))
      g_ptr_array_add (order, json_array_get_object_element (ops, i));
  if (mode == 2)
    for (guint i = n; i-- > 0;)
      if (!g_str_equal (json_object_get_string_member (json_array_get_object_element (ops, i), "op"), "add"))
        g_ptr_array_add (order, json_array_get_object_element (ops, i));

  memset (root, 0, 32);
  for (guint i = 0; i < order->len; i++)
    {
      MeroAction a;
      MeroHlc ts;
      g_autoptr (GBytes) data = NULL;
      g_autoptr (GError) error = NULL;

      if (txn == NULL)
        txn = mero_state_txn_new (f.state);
      op_to_action (g_ptr_array_index (order, i), &a, &ts, &data);
      mero_state_txn_apply (txn, &a, &ts, &error);
      g_assert_no_error (error);
      if (mode != 1)
        {
          commit_txn (&f, txn, root);
          g_clear_pointer (&txn, mero_state_txn_free);
        }
    }
  if (txn != NULL)
    commit_txn (&f, txn, root);
  {
    guint8 stored[32];
    g_autoptr (GError) error = NULL;

    mero_state_root_hash (f.state, stored, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (stored, 32, root, 32);
  }
  fixture_teardown (&f, NULL);
}

static void
test_vectors (void)
{
  g_autofree char *path = g_test_build_filename (G_TEST_DIST, "data", "state-vectors.json", NULL);
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  JsonArray *vectors;
  guint8 ctx[32];

  json_parser_load_from_file (parser, path, &error);
  g_assert_no_error (error);
  hex_to (json_object_get_string_member (json_node_get_object (json_parser_get_root (parser)),
                                         "context_id"), ctx, 32);
  g_assert_cmpmem (ctx, 32, test_context_id, 32);
  vectors = json_object_get_array_member (json_node_get_object (json_parser_get_root (parser)),
                                          "vectors");
  g_assert_cmpuint (json_array_get_length (vectors), >=, 8);
  for (guint v = 0; v < json_array_get_length (vectors); v++)
    {
      JsonObject *vec = json_array_get_object_element (vectors, v);
      guint8 want[32];

      hex_to (json_object_get_string_member (vec, "root_hash"), want, 32);
      for (guint mode = 0; mode < 3; mode++)
        {
          guint8 root[32];

          g_test_message ("vector %s, mode %u", json_object_get_string_member (vec, "name"), mode);
          apply_vector (json_object_get_array_member (vec, "ops"), mode, root);
          g_assert_cmpmem (root, 32, want, 32);
        }
    }
}

static void
id_of (guint8 id[32], guint n)
{
  memset (id, 0, 32);
  id[0] = 0x11;
  id[31] = (guint8) n;
  id[30] = (guint8) (n >> 8);
}

static gboolean
apply1 (Fixture *f, MeroActionKind kind, const guint8 *id, const guint8 *parent, guint64 t,
        GError **error)
{
  g_autoptr (MeroStateTxn) txn = mero_state_txn_new (f->state);
  MeroAction a = { 0 };
  MeroHlc ts = { t << 16, 1 };
  guint8 root[32];

  a.kind = kind;
  memcpy (a.id, id, 32);
  if (parent != NULL)
    memcpy (a.parent, parent, 32);
  a.crdt_type = MERO_CRDT_LWW;
  a.data = (const guint8 *) "x";
  a.data_len = 1;
  if (!mero_state_txn_apply (txn, &a, &ts, error))
    return FALSE;
  commit_txn (f, txn, root);
  return TRUE;
}

static void
test_bounds (Fixture *f, gconstpointer data)
{
  guint8 parent[32];
  guint8 id[32];
  guint8 root_before[32], root_after[32];
  g_autoptr (GError) error = NULL;

  memcpy (parent, test_context_id, 32);
  for (guint d = 1; d <= MERO_ENTITY_MAX_DEPTH; d++)
    {
      id_of (id, d);
      g_assert_true (apply1 (f, MERO_ACTION_ADD, id, parent, d, &error));
      memcpy (parent, id, 32);
    }
  mero_state_root_hash (f->state, root_before, &error);
  id_of (id, 100);
  g_assert_false (apply1 (f, MERO_ACTION_ADD, id, parent, 100, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_TOO_DEEP);
  g_clear_error (&error);

  id_of (parent, 500);
  g_assert_false (apply1 (f, MERO_ACTION_ADD, id, parent, 101, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_UNKNOWN_PARENT);
  g_clear_error (&error);

  g_assert_false (apply1 (f, MERO_ACTION_UPDATE, parent, NULL, 102, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_UNKNOWN_ENTITY);
  g_clear_error (&error);

  /* Buckets and the root are the engine's.  Buckets are not even
   * addressable (their own key space): a bucket's id names no entity. */
  mero_entity_bucket_id (test_context_id, id, 1, id);
  g_assert_false (apply1 (f, MERO_ACTION_UPDATE, id, NULL, 103, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_UNKNOWN_ENTITY);
  g_clear_error (&error);
  g_assert_false (apply1 (f, MERO_ACTION_UPDATE, test_context_id, NULL, 103, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION);
  g_clear_error (&error);
  g_assert_false (apply1 (f, MERO_ACTION_DELETE_REF, test_context_id, NULL, 104, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION);
  g_clear_error (&error);

  /* A DeleteRef of something unknown is a no-op, not an error. */
  id_of (id, 999);
  g_assert_true (apply1 (f, MERO_ACTION_DELETE_REF, id, NULL, 105, &error));
  mero_state_root_hash (f->state, root_after, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (root_before, 32, root_after, 32);
}

static guint
gc_all (Fixture *f, guint64 now_ms, guint max_visit, guint *runs)
{
  g_autoptr (GBytes) cursor = NULL;
  guint total = 0;

  *runs = 0;
  do
    {
      g_autoptr (GError) error = NULL;
      guint removed = 0;

      mero_state_gc (f->state, now_ms, MERO_STATE_TOMBSTONE_RETENTION_MS, max_visit, &cursor,
                     &removed, &error);
      g_assert_no_error (error);
      g_assert_cmpuint (removed, <=, max_visit);
      total += removed;
      (*runs)++;
    }
  while (cursor != NULL);
  return total;
}

static void
test_gc (Fixture *f, gconstpointer data)
{
  guint8 map[32], id[32];
  guint8 root_before[32], root_after[32];
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroEntity) e = NULL;
  guint64 day = MERO_STATE_TOMBSTONE_RETENTION_MS;
  guint runs = 0;

  id_of (map, 0);
  g_assert_true (apply1 (f, MERO_ACTION_ADD, map, test_context_id, 1, &error));
  for (guint i = 1; i <= 50; i++)
    {
      id_of (id, i);
      id[0] = (guint8) i;   /* spread over buckets */
      g_assert_true (apply1 (f, MERO_ACTION_ADD, id, map, 2, &error));
      if (i % 2 == 0)
        g_assert_true (apply1 (f, MERO_ACTION_DELETE_REF, id, NULL, 3, &error));
    }
  mero_state_root_hash (f->state, root_before, &error);

  /* Within the retention period nothing goes. */
  g_assert_cmpuint (gc_all (f, 3 + day - 1, 1000, &runs), ==, 0);
  /* After it, the 25 tombstones go, a few records per run. */
  g_assert_cmpuint (gc_all (f, 4 + day, 7, &runs), ==, 25);
  g_assert_cmpuint (runs, >, 10);
  mero_state_root_hash (f->state, root_after, &error);
  g_assert_cmpmem (root_before, 32, root_after, 32);
  id_of (id, 2);
  id[0] = 2;
  mero_state_get_entity (f->state, id, &e, &error);
  g_assert_no_error (error);
  g_assert_null (e);
  id[0] = 1;
  id[31] = 1;
  mero_state_get_entity (f->state, id, &e, &error);
  g_assert_nonnull (e);
  /* Nothing left to collect. */
  g_assert_cmpuint (gc_all (f, 4 + 2 * day, 1000, &runs), ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/state/vectors", test_vectors);
  g_test_add ("/state/bounds", Fixture, NULL, fixture_setup, test_bounds, fixture_teardown);
  g_test_add ("/state/gc", Fixture, NULL, fixture_setup, test_gc, fixture_teardown);
  return g_test_run ();
}
