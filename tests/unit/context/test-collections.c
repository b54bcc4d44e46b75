/* Collections and the kv application: semantics on one replica and
 * merge of concurrent changes between two. */
#include <string.h>

#include "context-test-util.h"
#include "context/state/mero-collections.h"

typedef struct {
  TestClock clock;
  TestReplica *a;
  TestReplica *b;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->clock.now_ms = 1700000000000;
  f->a = test_replica_new (1, &f->clock, NULL);
  f->b = test_replica_new (2, &f->clock, NULL);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  test_replica_free (f->a);
  test_replica_free (f->b);
}

static GBytes *
commit_list (TestReplica *r, const MeroHlc *ts, MeroActionList *list)
{
  g_autoptr (GError) error = NULL;
  GBytes *env = NULL;

  mero_delta_store_commit_local (r->ds, ts, mero_action_list_actions (list),
                                 mero_action_list_len (list), &env, NULL, &error);
  g_assert_no_error (error);
  return env;
}

/* Creates a collection under the root on @r and ships it to @other. */
static void
create (Fixture *f, TestReplica *r, TestReplica *other, const char *name, MeroCrdtType type,
        guint8 id[32])
{
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (GBytes) env = NULL;
  MeroHlc ts = mero_delta_store_next_hlc (r->ds);

  mero_entity_entry_id (test_context_id, (const guint8 *) name, strlen (name), id);
  mero_collection_create (list, test_context_id, id, type, NULL, 0);
  env = commit_list (r, &ts, list);
  g_assert_cmpint (test_replica_receive (other, env), ==, MERO_DELTA_OUTCOME_APPLIED);
}

static void
assert_same_root (Fixture *f)
{
  g_autofree char *ra = test_root_hex (f->a);
  g_autofree char *rb = test_root_hex (f->b);

  g_assert_cmpstr (ra, ==, rb);
}

static void
test_lww (Fixture *f, gconstpointer data)
{
  g_autoptr (MeroActionList) la = mero_action_list_new ();
  g_autoptr (MeroActionList) lb = mero_action_list_new ();
  g_autoptr (GBytes) ea = NULL;
  g_autoptr (GBytes) eb = NULL;
  g_autoptr (GBytes) va = NULL;
  g_autoptr (GBytes) vb = NULL;
  g_autoptr (GError) error = NULL;
  guint8 reg[32];
  MeroHlc ta, tb;

  create (f, f->a, f->b, "reg", MERO_CRDT_LWW, reg);
  /* Concurrent writes; b's clock is later, so b wins everywhere. */
  ta = mero_delta_store_next_hlc (f->a->ds);
  f->clock.now_ms += 10;
  tb = mero_delta_store_next_hlc (f->b->ds);
  mero_lww_set (la, reg, (const guint8 *) "from a", 6);
  mero_lww_set (lb, reg, (const guint8 *) "from b", 6);
  ea = commit_list (f->a, &ta, la);
  eb = commit_list (f->b, &tb, lb);
  test_replica_receive (f->a, eb);
  test_replica_receive (f->b, ea);
  mero_lww_get (mero_delta_store_get_state (f->a->ds), reg, &va, &error);
  mero_lww_get (mero_delta_store_get_state (f->b->ds), reg, &vb, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (va, NULL), g_bytes_get_size (va), "from b", 6);
  g_assert_true (g_bytes_equal (va, vb));
  assert_same_root (f);
}

static GBytes *
map_op (TestReplica *r, const guint8 map[32], const char *key, const char *value)
{
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (GError) error = NULL;
  MeroHlc ts = mero_delta_store_next_hlc (r->ds);

  if (value != NULL)
    mero_map_set (list, map, (const guint8 *) key, strlen (key), (const guint8 *) value,
                  strlen (value), &error);
  else
    mero_map_remove (list, map, (const guint8 *) key, strlen (key));
  g_assert_no_error (error);
  return commit_list (r, &ts, list);
}

static char *
map_get (TestReplica *r, const guint8 map[32], const char *key)
{
  g_autoptr (GBytes) v = NULL;
  g_autoptr (GError) error = NULL;

  mero_map_get (mero_delta_store_get_state (r->ds), map, (const guint8 *) key, strlen (key), &v,
                &error);
  g_assert_no_error (error);
  return v != NULL ? g_strndup (g_bytes_get_data (v, NULL), g_bytes_get_size (v)) : NULL;
}

static void
test_map (Fixture *f, gconstpointer data)
{
  guint8 map[32];
  g_autoptr (GBytes) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL;
  g_autoptr (GPtrArray) entries = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *x = NULL, *y = NULL, *z = NULL, *w = NULL;

  create (f, f->a, f->b, "map", MERO_CRDT_MAP, map);
  /* Same key written concurrently: one entity (same id), later HLC wins. */
  e1 = map_op (f->a, map, "k", "a1");
  f->clock.now_ms += 5;
  e2 = map_op (f->b, map, "k", "b1");
  test_replica_receive (f->a, e2);
  test_replica_receive (f->b, e1);
  x = map_get (f->a, map, "k");
  y = map_get (f->b, map, "k");
  g_assert_cmpstr (x, ==, "b1");
  g_assert_cmpstr (y, ==, "b1");
  assert_same_root (f);

  /* Remove on a concurrent with a later set on b: the set wins. */
  e3 = map_op (f->a, map, "k", NULL);
  f->clock.now_ms += 5;
  e4 = map_op (f->b, map, "k", "b2");
  test_replica_receive (f->a, e4);
  test_replica_receive (f->b, e3);
  z = map_get (f->a, map, "k");
  w = map_get (f->b, map, "k");
  g_assert_cmpstr (z, ==, "b2");
  g_assert_cmpstr (w, ==, "b2");
  assert_same_root (f);

  mero_map_entries (mero_delta_store_get_state (f->a->ds), map, &entries, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (entries->len, ==, 1);
}

static void
test_set (Fixture *f, gconstpointer data)
{
  guint8 set[32];
  g_autoptr (MeroActionList) l1 = mero_action_list_new ();
  g_autoptr (MeroActionList) l2 = mero_action_list_new ();
  g_autoptr (MeroActionList) l3 = mero_action_list_new ();
  g_autoptr (GBytes) e1 = NULL, e2 = NULL, e3 = NULL;
  g_autoptr (GError) error = NULL;
  gboolean in_a = FALSE, in_b = FALSE;
  MeroHlc ts;

  create (f, f->a, f->b, "set", MERO_CRDT_SET, set);
  ts = mero_delta_store_next_hlc (f->a->ds);
  mero_set_add (l1, set, (const guint8 *) "x", 1, &error);
  mero_set_add (l1, set, (const guint8 *) "y", 1, &error);
  g_assert_no_error (error);
  e1 = commit_list (f->a, &ts, l1);
  test_replica_receive (f->b, e1);
  /* b removes x, a later re-adds it concurrently: the add is later. */
  ts = mero_delta_store_next_hlc (f->b->ds);
  mero_set_remove (l2, set, (const guint8 *) "x", 1);
  e2 = commit_list (f->b, &ts, l2);
  f->clock.now_ms += 3;
  ts = mero_delta_store_next_hlc (f->a->ds);
  mero_set_add (l3, set, (const guint8 *) "x", 1, &error);
  e3 = commit_list (f->a, &ts, l3);
  test_replica_receive (f->a, e2);
  test_replica_receive (f->b, e3);
  mero_set_contains (mero_delta_store_get_state (f->a->ds), set, (const guint8 *) "x", 1, &in_a,
                     &error);
  mero_set_contains (mero_delta_store_get_state (f->b->ds), set, (const guint8 *) "x", 1, &in_b,
                     &error);
  g_assert_no_error (error);
  g_assert_true (in_a && in_b);
  mero_set_contains (mero_delta_store_get_state (f->b->ds), set, (const guint8 *) "z", 1, &in_b,
                     &error);
  g_assert_false (in_b);
  assert_same_root (f);
}

static GBytes *
counter_op (TestReplica *r, const guint8 counter[32], gint64 amount, GError **error)
{
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  MeroHlc ts = mero_delta_store_next_hlc (r->ds);

  if (!mero_counter_add (list, mero_delta_store_get_state (r->ds), counter, r->pk, amount, error))
    return NULL;
  return commit_list (r, &ts, list);
}

static gint64
counter_value (TestReplica *r, const guint8 counter[32])
{
  g_autoptr (GError) error = NULL;
  gint64 v = 0;

  mero_counter_value (mero_delta_store_get_state (r->ds), counter, &v, &error);
  g_assert_no_error (error);
  return v;
}

static void
test_counters (Fixture *f, gconstpointer data)
{
  guint8 g[32], pn[32];
  g_autoptr (GError) error = NULL;
  GBytes *envs[6];
  guint n = 0;

  create (f, f->a, f->b, "g", MERO_CRDT_GCOUNTER, g);
  create (f, f->a, f->b, "pn", MERO_CRDT_PNCOUNTER, pn);
  envs[n++] = counter_op (f->a, g, 3, &error);
  envs[n++] = counter_op (f->a, g, 2, &error);
  envs[n++] = counter_op (f->b, g, 4, &error);
  g_assert_no_error (error);
  g_assert_null (counter_op (f->b, g, -1, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_INVALID_ACTION);
  g_clear_error (&error);
  envs[n++] = counter_op (f->a, pn, 5, &error);
  envs[n++] = counter_op (f->b, pn, -2, &error);
  envs[n++] = counter_op (f->b, pn, -1, &error);
  g_assert_no_error (error);
  /* Deliver everything both ways, duplicates included. */
  for (guint i = 0; i < n; i++)
    {
      test_replica_receive (f->a, envs[i]);
      test_replica_receive (f->b, envs[i]);
    }
  g_assert_cmpint (counter_value (f->a, g), ==, 9);
  g_assert_cmpint (counter_value (f->b, g), ==, 9);
  g_assert_cmpint (counter_value (f->a, pn), ==, 2);
  g_assert_cmpint (counter_value (f->b, pn), ==, 2);
  assert_same_root (f);
  for (guint i = 0; i < n; i++)
    g_bytes_unref (envs[i]);
}

static char *
vector_dump (TestReplica *r, const guint8 vec[32])
{
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GError) error = NULL;
  GString *s = g_string_new (NULL);

  mero_vector_items (mero_delta_store_get_state (r->ds), vec, &items, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < items->len; i++)
    {
      const MeroVectorItem *it = g_ptr_array_index (items, i);

      g_string_append_len (s, g_bytes_get_data (it->value, NULL), (gssize) g_bytes_get_size (it->value));
    }
  return g_string_free (s, FALSE);
}

static GBytes *
vector_insert (TestReplica *r, const guint8 vec[32], guint index, const char *value,
               guint8 id[32])
{
  g_autoptr (MeroActionList) list = mero_action_list_new ();
  g_autoptr (GError) error = NULL;
  MeroHlc ts = mero_delta_store_next_hlc (r->ds);

  mero_vector_insert (list, mero_delta_store_get_state (r->ds), vec, index, &ts, 0,
                      (const guint8 *) value, strlen (value), id, &error);
  g_assert_no_error (error);
  return commit_list (r, &ts, list);
}

static void
test_vector (Fixture *f, gconstpointer data)
{
  guint8 vec[32], id[32], idc[32];
  g_autoptr (GBytes) e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL, e6 = NULL;
  g_autoptr (MeroActionList) rm = mero_action_list_new ();
  g_autofree char *da = NULL, *db = NULL, *d2 = NULL;
  MeroHlc ts;

  create (f, f->a, f->b, "vec", MERO_CRDT_VECTOR, vec);
  e1 = vector_insert (f->a, vec, 0, "x", id);
  e2 = vector_insert (f->a, vec, 1, "z", id);
  e3 = vector_insert (f->a, vec, 1, "y", id);
  test_replica_receive (f->b, e1);
  test_replica_receive (f->b, e2);
  test_replica_receive (f->b, e3);
  da = vector_dump (f->b, vec);
  g_assert_cmpstr (da, ==, "xyz");
  g_clear_pointer (&da, g_free);
  /* Concurrent inserts at the same place: same order on both. */
  e4 = vector_insert (f->a, vec, 1, "A", id);
  e5 = vector_insert (f->b, vec, 1, "B", idc);
  test_replica_receive (f->a, e5);
  test_replica_receive (f->b, e4);
  da = vector_dump (f->a, vec);
  db = vector_dump (f->b, vec);
  g_assert_cmpstr (da, ==, db);
  g_assert_true (g_str_equal (da, "xAByz") || g_str_equal (da, "xBAyz"));
  assert_same_root (f);
  /* Insert between the two concurrent ones still works, and removal. */
  g_bytes_unref (vector_insert (f->a, vec, 2, "m", id));
  ts = mero_delta_store_next_hlc (f->a->ds);
  mero_vector_remove (rm, idc);
  e6 = commit_list (f->a, &ts, rm);
  d2 = vector_dump (f->a, vec);
  g_assert_cmpuint (strlen (d2), ==, 5);
  g_assert_null (strchr (d2, 'B'));
  g_assert_nonnull (strchr (d2, 'm'));
}

static void
test_position_between (void)
{
  g_autoptr (GBytes) lo = NULL;
  g_autoptr (GBytes) hi = NULL;

  lo = mero_vector_position_between (NULL, NULL);
  hi = mero_vector_position_between (lo, NULL);
  g_assert_cmpint (g_bytes_compare (lo, hi), <, 0);
  /* Many inserts at the front and between neighbours stay ordered. */
  for (guint i = 0; i < 200; i++)
    {
      GBytes *mid = mero_vector_position_between (lo, hi);

      g_assert_cmpint (g_bytes_compare (lo, mid), <, 0);
      g_assert_cmpint (g_bytes_compare (mid, hi), <, 0);
      if (i % 2)
        {
          g_bytes_unref (hi);
          hi = mid;
        }
      else
        {
          g_bytes_unref (lo);
          lo = mid;
        }
    }
  g_assert_cmpuint (g_bytes_get_size (lo), <, MERO_VECTOR_MAX_POSITION);
}

static void
test_kv (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) env = NULL;
  g_autoptr (GBytes) v = NULL;
  g_autoptr (JsonNode) json = NULL;
  g_autoptr (JsonNode) back = NULL;
  g_autofree char *dump = NULL;
  gboolean removed = FALSE;
  guint64 len = 0;
  guint cleared = 0;
  guint64 applied;
  const char *names[] = { "alpha", "beta", "gamma" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (GBytes) e = NULL;

      mero_kv_set (f->a->ds, names[i], (const guint8 *) names[i], strlen (names[i]), &e, &error);
      g_assert_no_error (error);
      g_assert_nonnull (e);
      test_replica_receive (f->b, e);
    }
  /* One delta per state-changing call. */
  applied = mero_metrics_get_counter (f->a->metrics, "mero_delta_applied_total", NULL);
  g_assert_cmpuint (applied, ==, 3);
  mero_kv_get (f->b->ds, "beta", &v, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (v, NULL), g_bytes_get_size (v), "beta", 4);
  mero_kv_len (f->b->ds, &len, &error);
  g_assert_cmpuint (len, ==, 3);

  json = json_from_string ("{\"n\": [1, 2, {\"x\": true}]}", &error);
  g_assert_no_error (error);
  mero_kv_set_json (f->a->ds, "doc", json, &env, &error);
  g_assert_no_error (error);
  test_replica_receive (f->b, env);
  g_clear_pointer (&env, g_bytes_unref);
  mero_kv_get_json (f->b->ds, "doc", &back, &error);
  g_assert_no_error (error);
  g_assert_true (json_node_equal (json, back));

  mero_kv_remove (f->b->ds, "absent", &removed, &env, &error);
  g_assert_no_error (error);
  g_assert_false (removed);
  g_assert_null (env);
  mero_kv_remove (f->b->ds, "alpha", &removed, &env, &error);
  g_assert_true (removed);
  test_replica_receive (f->a, env);
  g_clear_pointer (&env, g_bytes_unref);
  dump = test_kv_dump (f->a);
  g_assert_null (strstr (dump, "alpha="));
  g_assert_nonnull (strstr (dump, "beta=beta;"));

  mero_kv_set (f->a->ds, "", (const guint8 *) "x", 1, NULL, &error);
  g_assert_error (error, MERO_KV_ERROR, MERO_KV_ERROR_INVALID_KEY);
  g_clear_error (&error);

  applied = mero_metrics_get_counter (f->b->metrics, "mero_delta_applied_total", NULL);
  mero_kv_clear (f->b->ds, &cleared, &env, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cleared, ==, 3);
  g_assert_cmpuint (mero_metrics_get_counter (f->b->metrics, "mero_delta_applied_total", NULL),
                    ==, applied + 1);
  test_replica_receive (f->a, env);
  mero_kv_len (f->a->ds, &len, &error);
  g_assert_cmpuint (len, ==, 0);
  g_clear_pointer (&env, g_bytes_unref);
  mero_kv_clear (f->a->ds, &cleared, &env, &error);
  g_assert_null (env);
  assert_same_root (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/collections/lww", test_lww);
  ADD ("/collections/map", test_map);
  ADD ("/collections/set", test_set);
  ADD ("/collections/counters", test_counters);
  ADD ("/collections/vector", test_vector);
  ADD ("/collections/kv", test_kv);
  g_test_add_func ("/collections/vector-position", test_position_between);
  return g_test_run ();
}
