/* The state engine against hostile or unlucky peers: bucket-id squatting,
 * many concurrent branches (parent and head bounds), late writes after a
 * tombstone was collected (collection frontier), a clear larger than a
 * delta's action bound, stores of an older format, and receive_many
 * against one receive per envelope.  Each test fails on the engine before
 * its fix. */
#include <string.h>

#include <sodium.h>

#include "context-test-util.h"
#include "context/delta/mero-delta-body.h"
#include "context/state/mero-collections.h"
#include "context/state/mero-state-private.h"
#include "mero-delta.pb-c.h"
#include "mero-test-fs.h"

#define RETENTION_MS 1000

static GBytes *
kv_set (TestReplica *r, const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;
  GBytes *env = NULL;

  mero_kv_set (r->ds, key, (const guint8 *) value, strlen (value), &env, &error);
  g_assert_no_error (error);
  g_assert_nonnull (env);
  return env;
}

static GBytes *
commit1 (TestReplica *r, const MeroAction *a)
{
  g_autoptr (GError) error = NULL;
  GBytes *env = NULL;
  MeroHlc ts = mero_delta_store_next_hlc (r->ds);

  mero_delta_store_commit_local (r->ds, &ts, a, 1, &env, NULL, &error);
  g_assert_no_error (error);
  return env;
}

static void
assert_same (TestReplica *a, TestReplica *b)
{
  g_autofree char *ra = test_root_hex (a);
  g_autofree char *rb = test_root_hex (b);
  g_autofree char *ka = test_kv_dump (a);
  g_autofree char *kb = test_kv_dump (b);

  g_assert_cmpstr (ka, ==, kb);
  g_assert_cmpstr (ra, ==, rb);
}

/* ---- 1. bucket-id squatting -------------------------------------------- */

/* An author adds, under the root, entities whose ids are the bucket ids a
 * kv entry will need (all four levels).  Before buckets had their own key
 * space, the replica that saw the squatter first could not add the entry
 * (its bucket id was taken) and one that saw the entry first refused the
 * squatter's delta ("actions may not target a bucket"): both orders must
 * now apply everything and agree. */
static void
test_bucket_squat (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, NULL);
  g_autoptr (TestReplica) m = test_replica_new (3, &clock, NULL);
  g_autoptr (GPtrArray) squat = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) entry_a = NULL;
  g_autoptr (GBytes) entry_b = NULL;
  g_autoptr (GBytes) value = NULL;
  g_autoptr (GError) error = NULL;
  guint8 map[32], entry[32];

  mero_kv_map_id (test_context_id, map);
  mero_entity_entry_id (map, (const guint8 *) "k", 1, entry);
  for (guint level = 1; level <= MERO_ENTITY_BUCKET_LEVELS; level++)
    {
      MeroAction add = { 0 };

      add.kind = MERO_ACTION_ADD;
      mero_entity_bucket_id (map, entry, level, add.id);
      memcpy (add.parent, test_context_id, 32);
      add.crdt_type = MERO_CRDT_LWW;
      add.data = (const guint8 *) "squat";
      add.data_len = 5;
      g_ptr_array_add (squat, commit1 (m, &add));
    }

  /* a: squatters first, then writes the entry. */
  for (guint i = 0; i < squat->len; i++)
    g_assert_cmpint (test_replica_receive (a, g_ptr_array_index (squat, i)), ==,
                     MERO_DELTA_OUTCOME_APPLIED);
  entry_a = kv_set (a, "k", "from-a");
  /* b: the entry first, then the squatters. */
  entry_b = kv_set (b, "k", "from-b");
  for (guint i = 0; i < squat->len; i++)
    g_assert_cmpint (test_replica_receive (b, g_ptr_array_index (squat, i)), ==,
                     MERO_DELTA_OUTCOME_APPLIED);
  test_replica_receive (a, entry_b);
  test_replica_receive (b, entry_a);
  for (guint i = 0; i < squat->len; i++)
    test_replica_receive (m, g_ptr_array_index (squat, i));
  test_replica_receive (m, entry_a);
  test_replica_receive (m, entry_b);
  assert_same (a, b);
  assert_same (a, m);
  g_assert_true (mero_kv_get (a->ds, "k", &value, &error));
  g_assert_no_error (error);
  g_assert_nonnull (value);
  /* The squatters are plain entities, the entry is in its map. */
  {
    g_autoptr (MeroEntity) e = NULL;
    guint8 b1[32];

    mero_entity_bucket_id (map, entry, 1, b1);
    g_assert_true (mero_state_get_entity (mero_delta_store_get_state (a->ds), b1, &e, &error));
    g_assert_nonnull (e);
    g_assert_cmpuint (e->crdt_type, ==, MERO_CRDT_LWW);
  }
}

/* ---- 2. parents and heads bounds ---------------------------------------- */

/* The entity raw_delta adds its entity under; NULL: the root. */
static const guint8 *raw_parent_entity;

/* A body built by hand, free to exceed every bound; sealed by @sk. */
static GBytes *
raw_delta (const guint8 *sk, const guint8 *parents, guint n_parents, guint64 ms, guint n,
           guint8 id_out[32])
{
  Mero__Delta__V1__DeltaBody pb = MERO__DELTA__V1__DELTA_BODY__INIT;
  Mero__Delta__V1__Action act = MERO__DELTA__V1__ACTION__INIT;
  Mero__Delta__V1__ActionAdd add = MERO__DELTA__V1__ACTION_ADD__INIT;
  Mero__Delta__V1__Action *acts[1] = { &act };
  g_autofree ProtobufCBinaryData *pbin = g_new0 (ProtobufCBinaryData, MAX (n_parents, 1));
  guint8 hlc[MERO_HLC_ENCODED_LEN], key_id[32], eid[32] = { 0 };
  MeroHlc ts = { ms << MERO_HLC_COUNTER_BITS, 77 };
  g_autoptr (GBytes) body = NULL;
  g_autoptr (GError) error = NULL;
  guint8 *buf;
  gsize size;
  GBytes *env;

  for (guint i = 0; i < n_parents; i++)
    {
      pbin[i].data = (guint8 *) parents + (gsize) i * 32;
      pbin[i].len = 32;
    }
  eid[0] = 0xee;
  memcpy (eid + 1, &n, sizeof n);
  mero_hlc_encode (&ts, hlc);
  add.id.data = eid;
  add.id.len = 32;
  add.parent_id.data = (guint8 *) (raw_parent_entity != NULL ? raw_parent_entity
                                                              : test_context_id);
  add.parent_id.len = 32;
  add.crdt_type = MERO_CRDT_LWW;
  act.kind_case = MERO__DELTA__V1__ACTION__KIND_ADD;
  act.add = &add;
  pb.n_parents = n_parents;
  pb.parents = pbin;
  pb.hlc.data = hlc;
  pb.hlc.len = sizeof hlc;
  pb.n_actions = 1;
  pb.actions = acts;
  size = mero__delta__v1__delta_body__get_packed_size (&pb);
  buf = g_malloc (size);
  mero__delta__v1__delta_body__pack (&pb, buf);
  body = g_bytes_new_take (buf, size);
  mero_delta_key_id (test_context_key, key_id);
  env = mero_delta_envelope_seal (test_context_id, sk, test_context_key, key_id, NULL, 0, body,
                                  id_out, &error);
  g_assert_no_error (error);
  return env;
}

static gboolean
heads_contain (TestReplica *r, const guint8 *id)
{
  guint n = 0;
  const guint8 *heads = mero_delta_store_heads (r->ds, &n);

  for (guint i = 0; i < n; i++)
    if (memcmp (heads + (gsize) i * 32, id, 32) == 0)
      return TRUE;
  return FALSE;
}

static const guint8 *
lookup_test_key (const guint8 key_id[32], gpointer user_data)
{
  guint8 mine[32];

  mero_delta_key_id (test_context_key, mine);
  return memcmp (mine, key_id, 32) == 0 ? test_context_key : NULL;
}

static GArray *
parents_of (GBytes *env)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroDeltaOpened) o = NULL;
  g_autoptr (MeroDeltaBody) body = NULL;
  GArray *out = g_array_new (FALSE, FALSE, 32);

  o = mero_delta_envelope_open (g_bytes_get_data (env, NULL), g_bytes_get_size (env),
                                test_context_id, lookup_test_key, NULL, &error);
  g_assert_no_error (error);
  body = mero_delta_body_decode (g_bytes_get_data (o->body, NULL), g_bytes_get_size (o->body),
                                 &error);
  g_assert_no_error (error);
  for (guint i = 0; i < mero_delta_body_n_parents (body); i++)
    g_array_append_vals (out, mero_delta_body_parent (body, i), 1);
  return out;
}

static void
test_many_branches (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, NULL);
  g_autoptr (TestReplica) w = test_replica_new (9, &clock, NULL);   /* the branches' author */
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, 32);
  GRand *rand = g_rand_new_with_seed (4);
  const guint branches = 200;
  guint n = 0;

  /* 200 concurrent branches (parentless deltas), written over 200 ms. */
  for (guint i = 0; i < branches; i++)
    {
      guint8 id[32];

      g_ptr_array_add (all, raw_delta (w->sk, NULL, 0, clock.now_ms - branches + i, i, id));
      g_array_append_vals (ids, id, 1);
    }
  for (guint i = 0; i < branches; i++)
    test_replica_receive (a, g_ptr_array_index (all, branches - 1 - i));
  mero_delta_store_heads (a->ds, &n);
  g_assert_cmpuint (n, ==, branches);

  /* One local commit: the 200 heads are first folded, the oldest 64 at a
   * time, into 3 action-less merge deltas (200 -> 137 -> 74 -> 11), then
   * the commit cites the 11 left: one head, and every head it saw is its
   * ancestor. */
  {
    g_autoptr (GBytes) env = kv_set (a, "merged", "m");
    g_autoptr (GPtrArray) merges = mero_delta_store_take_merges (a->ds);
    g_autoptr (GArray) parents = parents_of (env);
    g_autoptr (GArray) first = NULL;

    g_assert_cmpuint (merges->len, ==, 3);
    g_assert_cmpuint (parents->len, ==, 11);
    first = parents_of (g_ptr_array_index (merges, 0));
    g_assert_cmpuint (first->len, ==, MERO_DELTA_MAX_PARENTS);
    /* Oldest first: exactly the branches written first. */
    for (guint i = 0; i < first->len; i++)
      {
        gboolean found = FALSE;

        for (guint j = 0; j < MERO_DELTA_MAX_PARENTS && !found; j++)
          found = memcmp ((const guint8 *) first->data + (gsize) i * 32,
                          (const guint8 *) ids->data + (gsize) j * 32, 32) == 0;
        g_assert_true (found);
      }
    for (guint i = 0; i < merges->len; i++)
      g_ptr_array_add (all, g_bytes_ref (g_ptr_array_index (merges, i)));
    g_ptr_array_add (all, g_steal_pointer (&env));
    mero_delta_store_heads (a->ds, &n);
    g_assert_cmpuint (n, ==, 1);
    g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_delta_merges_total", NULL), ==,
                      3);
  }
  /* The next commit merges nothing more. */
  {
    g_autoptr (GBytes) env = kv_set (a, "after", "x");
    g_autoptr (GPtrArray) merges = mero_delta_store_take_merges (a->ds);

    g_assert_cmpuint (merges->len, ==, 0);
    g_ptr_array_add (all, g_steal_pointer (&env));
  }

  /* Another replica, everything in a random order: the same single head. */
  for (guint i = all->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
      gpointer t = all->pdata[i - 1];

      all->pdata[i - 1] = all->pdata[j];
      all->pdata[j] = t;
    }
  for (guint i = 0; i < all->len; i++)
    test_replica_receive (b, g_ptr_array_index (all, i));
  assert_same (a, b);
  {
    guint na = 0, nb = 0;
    const guint8 *ha = mero_delta_store_heads (a->ds, &na);
    const guint8 *hb = mero_delta_store_heads (b->ds, &nb);

    g_assert_cmpuint (na, ==, 1);
    g_assert_cmpmem (ha, 32 * na, hb, 32 * nb);
  }
  g_rand_free (rand);
}

static void
test_heads_bound (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) w = test_replica_new (9, &clock, NULL);
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, 32);
  const guint extra = 10;
  guint n = 0;

  for (guint i = 0; i < MERO_DELTA_MAX_HEADS + extra; i++)
    {
      guint8 id[32];
      g_autoptr (GBytes) env = raw_delta (w->sk, NULL, 0, clock.now_ms - 5000 + i, i, id);

      g_array_append_vals (ids, id, 1);
      test_replica_receive (a, env);
    }
  mero_delta_store_heads (a->ds, &n);
  g_assert_cmpuint (n, ==, MERO_DELTA_MAX_HEADS);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_delta_heads_dropped_total", NULL),
                    ==, extra);
  /* The oldest were forgotten (still applied), the newest kept. */
  for (guint i = 0; i < extra; i++)
    {
      gboolean applied = FALSE;

      g_assert_false (heads_contain (a, (const guint8 *) ids->data + (gsize) i * 32));
      g_assert_true (mero_delta_store_is_applied (a->ds, (const guint8 *) ids->data + (gsize) i * 32,
                                                  &applied, NULL));
      g_assert_true (applied);
    }
  g_assert_true (heads_contain (a, (const guint8 *) ids->data + (gsize) (ids->len - 1) * 32));
  /* Survives a reopen. */
  test_replica_reopen (a, &clock);
  mero_delta_store_heads (a->ds, &n);
  g_assert_cmpuint (n, ==, MERO_DELTA_MAX_HEADS);
}

static void
test_too_many_parents (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) w = test_replica_new (9, &clock, NULL);
  g_autoptr (GByteArray) parents = g_byte_array_new ();
  g_autoptr (GBytes) env = NULL;
  g_autoptr (GError) error = NULL;
  MeroDeltaOutcome outcome = 0;
  guint8 id[32];

  for (guint i = 0; i <= MERO_DELTA_MAX_PARENTS; i++)
    {
      guint8 p[32] = { 0x50 };

      memcpy (p + 1, &i, sizeof i);
      g_byte_array_append (parents, p, 32);
    }
  env = raw_delta (w->sk, parents->data, MERO_DELTA_MAX_PARENTS + 1, clock.now_ms, 1, id);
  g_assert_false (mero_delta_store_receive (a->ds, g_bytes_get_data (env, NULL),
                                            g_bytes_get_size (env), &outcome, &error));
  g_assert_error (error, MERO_DELTA_ERROR, MERO_DELTA_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "65 parents"));
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_delta_rejected_total",
                                              "reason=\"too_large\""), ==, 1);
  g_assert_cmpuint (mero_delta_store_pending_count (a->ds), ==, 0);
  /* At the bound it is fine (pending: the parents are unknown). */
  g_clear_pointer (&env, g_bytes_unref);
  env = raw_delta (w->sk, parents->data, MERO_DELTA_MAX_PARENTS, clock.now_ms, 2, id);
  g_assert_cmpint (test_replica_receive (a, env), ==, MERO_DELTA_OUTCOME_PENDING);
}

/* ---- 3. late writes after a tombstone was collected --------------------- */

static void shuffle (GRand *rand, GPtrArray *a);

static TestReplica *
replica_with_retention (guint32 seed, TestClock *clock)
{
  MeroDeltaStoreConfig opts = { 0 };

  opts.tombstone_retention_ms = RETENTION_MS;
  return test_replica_new_with (seed, clock, NULL, &opts);
}

static guint
gc_all (TestReplica *r, guint max_visit)
{
  g_autoptr (GBytes) cursor = NULL;
  guint total = 0;

  for (guint run = 0; run < 10000; run++)
    {
      g_autoptr (GError) error = NULL;
      guint removed = 0;

      g_assert_true (mero_delta_store_gc (r->ds, max_visit, &cursor, &removed, &error));
      g_assert_no_error (error);
      total += removed;
      if (cursor == NULL)
        return total;
    }
  g_assert_not_reached ();
}

/* b updates k while cut off; a deletes k later; c collects the tombstone
 * long after, a never does; then b's update arrives at a and c.  It used
 * to be refused by c (Update of an unknown entity: c's DAG stuck, roots
 * apart) and applied as a no-op by a. */
static void
test_late_update_after_gc (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = replica_with_retention (1, &clock);
  g_autoptr (TestReplica) b = replica_with_retention (2, &clock);
  g_autoptr (TestReplica) c = replica_with_retention (3, &clock);
  g_autoptr (GBytes) d1 = kv_set (a, "k", "1");
  g_autoptr (GBytes) keep = NULL;
  g_autoptr (GBytes) upd = NULL;
  g_autoptr (GBytes) add = NULL;
  g_autoptr (GBytes) del = NULL;
  g_autoptr (GError) error = NULL;
  gboolean removed = FALSE;
  guint8 map[32];
  MeroAction u = { 0 };

  keep = kv_set (a, "keep", "x");
  test_replica_receive (b, d1);
  test_replica_receive (c, d1);
  test_replica_receive (b, keep);
  test_replica_receive (c, keep);
  clock.now_ms += 10;
  /* b, cut off: an explicit Update of k, and a kv set (an Add upsert). */
  mero_kv_map_id (test_context_id, map);
  u.kind = MERO_ACTION_UPDATE;
  mero_entity_entry_id (map, (const guint8 *) "k", 1, u.id);
  /* A map entry's data: key length (u32 BE) || key || value. */
  u.data = (const guint8 *) "\0\0\0\001k2";
  u.data_len = 6;
  upd = commit1 (b, &u);
  add = kv_set (b, "k", "3");
  clock.now_ms += 10;
  g_assert_true (mero_kv_remove (a->ds, "k", &removed, &del, &error));
  g_assert_true (removed);
  test_replica_receive (c, del);
  test_replica_receive (b, del);

  clock.now_ms += 3 * RETENTION_MS;
  g_assert_cmpuint (gc_all (c, 0), >=, 1);
  test_replica_receive (c, upd);
  test_replica_receive (c, add);
  test_replica_receive (a, upd);
  test_replica_receive (a, add);
  g_assert_cmpuint (mero_metrics_get_counter (c->metrics, "mero_delta_stale_actions_ignored_total",
                                              NULL), >=, 2);
  assert_same (a, c);
  /* b wrote before the delete and got it: the delete wins there too. */
  assert_same (a, b);
  {
    g_autofree char *dump = test_kv_dump (a);

    g_assert_cmpstr (dump, ==, "keep=x;");
  }
}

/* Property: replicas r0..r3 write and exchange promptly.  An offline
 * writer p saw every key created, wrote (sets, removes, clears) only
 * before the others started deleting, and its deltas arrive only after
 * the retention period, in a random order per replica, while each replica
 * collects tombstones at its own random moments (r3 never).  All end
 * identical (root, kv, heads), and so does a new member that replays the
 * whole history afterwards (it collected nothing: it must apply all of
 * it, however old). */
/* Writes ignored over all seeds: the rule must have been exercised. */
static guint64 gc_property_ignored;

static void
run_gc_property (guint32 seed)
{
  TestClock clock = { 1700000000000 };
  GRand *rand = g_rand_new_with_seed (seed);
  TestReplica *r[4];
  g_autoptr (TestReplica) p = replica_with_retention (100 + seed, &clock);
  g_autoptr (GPtrArray) late = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) history = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  GBytes *cursors[4] = { NULL };
  static const char *keys[] = { "a", "b", "c", "d", "e", "f" };

  for (guint i = 0; i < 4; i++)
    r[i] = replica_with_retention (10 * seed + i, &clock);

  /* Every key exists everywhere before p goes offline. */
  for (guint k = 0; k < G_N_ELEMENTS (keys); k++)
    {
      g_autoptr (GBytes) env = kv_set (r[0], keys[k], "0");

      g_ptr_array_add (history, g_bytes_ref (env));
      for (guint i = 1; i < 4; i++)
        test_replica_receive (r[i], env);
      test_replica_receive (p, env);
    }
  for (guint step = 0; step < 60; step++)
    {
      /* p writes in the first 20 steps only; nobody deletes until then. */
      gboolean early = step < 20;
      guint who = (guint) g_rand_int_range (rand, 0, early ? 5 : 4);
      gint op = g_rand_int_range (rand, 0, 10);
      const char *key = keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (keys))];
      g_autofree char *val = g_strdup_printf ("%u", step);
      g_autoptr (GBytes) env = NULL;
      g_autoptr (GError) error = NULL;
      TestReplica *w = who < 4 ? r[who] : p;

      clock.now_ms += (guint64) g_rand_int_range (rand, 1, 20);
      if (op < 5 || (early && who < 4))
        env = kv_set (w, key, val);
      else if (op < 9 || who < 4)
        {
          gboolean removed = FALSE;

          g_assert_true (mero_kv_remove (w->ds, key, &removed, &env, &error));
          g_assert_no_error (error);
        }
      else
        {
          /* Only p clears: a later clear would hide every late write
           * (it kills what arrives older than it), so the online
           * replicas only remove keys, one at a time. */
          guint cleared = 0;

          g_assert_true (mero_kv_clear (w->ds, &cleared, &env, &error));
          g_assert_no_error (error);
        }
      if (env == NULL)
        continue;
      g_ptr_array_add (history, g_bytes_ref (env));
      if (who == 4)
        {
          g_ptr_array_add (late, g_steal_pointer (&env));
          continue;
        }
      /* Prompt delivery to the others (p is offline). */
      for (guint i = 0; i < 4; i++)
        if (i != who)
          test_replica_receive (r[i], env);
    }

  clock.now_ms += 2 * RETENTION_MS + (guint64) g_rand_int_range (rand, 0, RETENTION_MS);
  /* Late delivery, a random permutation per replica, with duplicates,
   * interleaved with bounded GC passes at random moments. */
  for (guint i = 0; i < 4; i++)
    {
      g_autoptr (GPtrArray) order = g_ptr_array_new ();   /* borrowed from @late */
      /* r0 collects everything first, r1 at random moments in between,
       * r2 only afterwards, r3 never. */
      gboolean collects = i == 1;

      if (i == 0)
        gc_all (r[i], 0);

      for (guint k = 0; k < late->len; k++)
        g_ptr_array_add (order, g_ptr_array_index (late, k));
      for (guint k = order->len; k > 1; k--)
        {
          guint j = (guint) g_rand_int_range (rand, 0, (gint32) k);
          gpointer t = order->pdata[k - 1];

          order->pdata[k - 1] = order->pdata[j];
          order->pdata[j] = t;
        }
      for (guint k = 0; k < order->len; k++)
        {
          if (collects && g_rand_int_range (rand, 0, 3) == 0)
            {
              g_autoptr (GError) error = NULL;
              guint removed = 0;

              g_assert_true (mero_delta_store_gc (r[i]->ds, (guint) g_rand_int_range (rand, 1, 40),
                                                  &cursors[i], &removed, &error));
            }
          test_replica_receive (r[i], g_ptr_array_index (order, k));
          if (g_rand_int_range (rand, 0, 4) == 0)
            test_replica_receive (r[i], g_ptr_array_index (order, k));
        }
      if (i == 1 || i == 2)
        gc_all (r[i], 0);
      g_assert_cmpuint (mero_delta_store_pending_count (r[i]->ds), ==, 0);
    }
  for (guint i = 1; i < 4; i++)
    assert_same (r[0], r[i]);
  {
    guint n0 = 0, ni = 0;
    const guint8 *h0 = mero_delta_store_heads (r[0]->ds, &n0);

    for (guint i = 1; i < 4; i++)
      {
        const guint8 *hi = mero_delta_store_heads (r[i]->ds, &ni);

        g_assert_cmpmem (h0, 32 * n0, hi, 32 * ni);
      }
  }
  for (guint i = 0; i < 3; i++)
    gc_property_ignored += mero_metrics_get_counter (r[i]->metrics,
                                                     "mero_delta_stale_actions_ignored_total", NULL);
  /* A new member replays the whole history, long after, in a random
   * order: nothing collected there, so nothing is ignored. */
  {
    g_autoptr (TestReplica) fresh = replica_with_retention (1000 + seed, &clock);

    shuffle (rand, history);
    for (guint k = 0; k < history->len; k++)
      test_replica_receive (fresh, g_ptr_array_index (history, k));
    g_assert_cmpuint (mero_delta_store_pending_count (fresh->ds), ==, 0);
    assert_same (r[0], fresh);
    g_assert_cmpuint (mero_metrics_get_counter (fresh->metrics,
                                                "mero_delta_stale_actions_ignored_total", NULL),
                      ==, 0);
  }
  for (guint i = 0; i < 4; i++)
    {
      g_clear_pointer (&cursors[i], g_bytes_unref);
      test_replica_free (r[i]);
    }
  g_rand_free (rand);
}

static void
test_gc_property (void)
{
  guint n_seeds = g_test_slow () ? 200 : 25;

  for (guint32 seed = 1; seed <= n_seeds; seed++)
    {
      g_test_message ("seed %u", seed);
      run_gc_property (seed);
    }
  g_assert_cmpuint (gc_property_ignored, >, 0);
}

/* ---- 4. kv clear of any size: one delta, one Clear action ------------- */

/* 21,000 entries (over the 16,384 actions a delta may carry) written in
 * three deltas, then one clear: a single small delta that empties the map
 * on every replica; an entry written before the clear but delivered after
 * it is deleted too, one written after it survives. */
static void
test_clear_large (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) a = test_replica_new (1, &clock, NULL);
  g_autoptr (TestReplica) b = test_replica_new (2, &clock, NULL);
  g_autoptr (GPtrArray) fill = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GBytes) early = NULL;
  g_autoptr (GBytes) clear = NULL;
  g_autoptr (GBytes) later = NULL;
  g_autoptr (GError) error = NULL;
  guint8 map[32];
  guint64 len = 0;
  guint cleared = 0;
  const guint per_delta = 7000, n_deltas = 3;

  mero_kv_map_id (test_context_id, map);
  for (guint d = 0; d < n_deltas; d++)
    {
      g_autoptr (MeroActionList) list = mero_action_list_new ();
      GBytes *env = NULL;
      MeroHlc ts;

      if (d == 0)
        mero_collection_create (list, test_context_id, map, MERO_CRDT_MAP, NULL, 0);
      for (guint i = 0; i < per_delta; i++)
        {
          g_autofree char *key = g_strdup_printf ("key-%05u", d * per_delta + i);

          g_assert_true (mero_map_set (list, map, (const guint8 *) key, strlen (key),
                                       (const guint8 *) "v", 1, &error));
        }
      ts = mero_delta_store_next_hlc (a->ds);
      g_assert_true (mero_delta_store_commit_local (a->ds, &ts, mero_action_list_actions (list),
                                                    mero_action_list_len (list), &env, NULL,
                                                    &error));
      g_assert_no_error (error);
      g_ptr_array_add (fill, env);
    }
  for (guint i = 0; i < fill->len; i++)
    test_replica_receive (b, g_ptr_array_index (fill, i));
  g_assert_true (mero_kv_len (a->ds, &len, &error));
  g_assert_cmpuint (len, ==, per_delta * n_deltas);
  g_assert_cmpuint (len, >, MERO_DELTA_MAX_ACTIONS);

  /* b writes before the clear; a has not seen it when it clears. */
  clock.now_ms += 5;
  early = kv_set (b, "early", "e");
  clock.now_ms += 5;
  g_assert_true (mero_kv_clear (a->ds, &cleared, &clear, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (cleared, ==, per_delta * n_deltas);
  g_assert_nonnull (clear);
  g_assert_cmpuint (g_bytes_get_size (clear), <, 1024);
  g_assert_true (mero_kv_len (a->ds, &len, &error));
  g_assert_cmpuint (len, ==, 0);
  test_replica_receive (a, early);
  test_replica_receive (b, clear);
  clock.now_ms += 5;
  later = kv_set (b, "later", "l");
  test_replica_receive (a, later);
  assert_same (a, b);
  {
    g_autofree char *dump = test_kv_dump (a);

    g_assert_cmpstr (dump, ==, "later=l;");
  }
  /* A replica that gets the same deltas with the clear first agrees. */
  {
    g_autoptr (TestReplica) c = test_replica_new (3, &clock, NULL);

    test_replica_receive (c, clear);     /* pending: its parents are missing */
    test_replica_receive (c, later);
    test_replica_receive (c, early);
    for (guint i = fill->len; i > 0; i--)
      test_replica_receive (c, g_ptr_array_index (fill, i - 1));
    g_assert_cmpuint (mero_delta_store_pending_count (c->ds), ==, 0);
    assert_same (a, c);
  }
}

/* ---- 6. receive_many is n receives ------------------------------------- */

static void
shuffle (GRand *rand, GPtrArray *a)
{
  for (guint i = a->len; i > 1; i--)
    {
      guint j = (guint) g_rand_int_range (rand, 0, (gint32) i);
      gpointer t = a->pdata[i - 1];

      a->pdata[i - 1] = a->pdata[j];
      a->pdata[j] = t;
    }
}

/* Deltas of three writers that saw some of each other's (a DAG with
 * merges), duplicates, a forged signature and a delta whose action does
 * not apply, in a random order: receive_many in random chunks and one
 * receive per envelope must accept and refuse the same envelopes (with
 * the same error codes) and end with the same root, kv, heads, pending
 * set and metrics.  Only PENDING may become APPLIED (a parent later in
 * the same call is applied first). */
static void
run_receive_many (guint32 seed)
{
  TestClock clock = { 1700000000000 };
  GRand *rand = g_rand_new_with_seed (seed);
  TestReplica *w[3];
  g_autoptr (TestReplica) x = test_replica_new (50, &clock, NULL);
  g_autoptr (TestReplica) y = test_replica_new (51, &clock, NULL);
  g_autoptr (GPtrArray) all = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GPtrArray) sent = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  static const char *keys[] = { "a", "b", "c", "d", "e" };
  static const char *reasons[] = { "bad_signature", "rejected", "malformed", "future" };

  for (guint i = 0; i < 3; i++)
    w[i] = test_replica_new (60 + i + 3 * seed, &clock, NULL);
  for (guint step = 0; step < 60; step++)
    {
      TestReplica *r = w[g_rand_int_range (rand, 0, 3)];
      const char *key = keys[g_rand_int_range (rand, 0, G_N_ELEMENTS (keys))];
      g_autoptr (GBytes) env = NULL;
      g_autoptr (GError) error = NULL;
      gint op = g_rand_int_range (rand, 0, 10);

      clock.now_ms += 3;
      if (op < 6)
        env = kv_set (r, key, key);
      else if (op < 9)
        {
          gboolean removed = FALSE;

          mero_kv_remove (r->ds, key, &removed, &env, &error);
        }
      else
        {
          guint cleared = 0;

          mero_kv_clear (r->ds, &cleared, &env, &error);
        }
      g_assert_no_error (error);
      if (env == NULL)
        continue;
      g_ptr_array_add (all, g_bytes_ref (env));
      /* Some of it reaches the other writers now. */
      for (guint i = 0; i < 3; i++)
        if (w[i] != r && g_rand_boolean (rand))
          test_replica_receive (w[i], env);
    }
  /* Refusals: a forged signature and an Add under an unknown parent. */
  {
    GBytes *good = g_ptr_array_index (all, 0);
    guint8 *bad = g_memdup2 (g_bytes_get_data (good, NULL), g_bytes_get_size (good));
    static const guint8 nowhere[32] = { 0x99, 0x99 };
    guint8 id[32];

    bad[g_bytes_get_size (good) - 1] ^= 0x01;
    g_ptr_array_add (all, g_bytes_new_take (bad, g_bytes_get_size (good)));
    raw_parent_entity = nowhere;
    g_ptr_array_add (all, raw_delta (w[0]->sk, NULL, 0, clock.now_ms, 1, id));
    raw_parent_entity = NULL;
    g_ptr_array_add (all, g_bytes_new_static ("junk", 4));
  }
  for (guint i = 0; i < all->len; i++)
    {
      g_ptr_array_add (sent, g_bytes_ref (g_ptr_array_index (all, i)));
      if (g_rand_int_range (rand, 0, 5) == 0)
        g_ptr_array_add (sent, g_bytes_ref (g_ptr_array_index (all, i)));
    }
  shuffle (rand, sent);

  for (guint at = 0; at < sent->len;)
    {
      guint want = (guint) g_rand_int_range (rand, 1, 40);
      guint chunk = MIN (want, sent->len - at);
      g_autofree MeroDeltaOutcome *outcomes = g_new0 (MeroDeltaOutcome, chunk);
      g_autofree GError **errors = g_new0 (GError *, chunk);
      guint accepted = mero_delta_store_receive_many (x->ds, (GBytes **) sent->pdata + at, chunk,
                                                      outcomes, errors);
      guint expect_accepted = 0;

      for (guint k = 0; k < chunk; k++)
        {
          GBytes *env = g_ptr_array_index (sent, at + k);
          g_autoptr (GError) error = NULL;
          MeroDeltaOutcome one = 0;
          gboolean ok = mero_delta_store_receive (y->ds, g_bytes_get_data (env, NULL),
                                                  g_bytes_get_size (env), &one, &error);

          if (ok)
            {
              expect_accepted++;
              g_assert_null (errors[k]);
              if (one == MERO_DELTA_OUTCOME_PENDING)
                g_assert_true (outcomes[k] == MERO_DELTA_OUTCOME_PENDING
                               || outcomes[k] == MERO_DELTA_OUTCOME_APPLIED);
              else
                g_assert_cmpint (outcomes[k], ==, one);
            }
          else
            {
              g_assert_cmpint (outcomes[k], ==, 0);
              g_assert_nonnull (errors[k]);
              g_assert_error (errors[k], error->domain, error->code);
            }
          g_clear_error (&errors[k]);
        }
      g_assert_cmpuint (accepted, ==, expect_accepted);
      at += chunk;
    }
  assert_same (x, y);
  {
    guint nx = 0, ny = 0;
    const guint8 *hx = mero_delta_store_heads (x->ds, &nx);
    const guint8 *hy = mero_delta_store_heads (y->ds, &ny);

    g_assert_cmpmem (hx, 32 * nx, hy, 32 * ny);
  }
  g_assert_cmpuint (mero_delta_store_pending_count (x->ds), ==,
                    mero_delta_store_pending_count (y->ds));
  g_assert_cmpuint (mero_metrics_get_counter (x->metrics, "mero_delta_applied_total", NULL), ==,
                    mero_metrics_get_counter (y->metrics, "mero_delta_applied_total", NULL));
  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reasons[i]);

      g_assert_cmpuint (mero_metrics_get_counter (x->metrics, "mero_delta_rejected_total", labels),
                        ==,
                        mero_metrics_get_counter (y->metrics, "mero_delta_rejected_total", labels));
    }
  g_assert_cmpuint (mero_metrics_get_counter (x->metrics, "mero_delta_rejected_total",
                                              "reason=\"rejected\""), >=, 1);
  /* Everything the writers know, the receivers know. */
  for (guint i = 0; i < 3; i++)
    {
      for (guint k = 0; k < all->len - 3; k++)
        {
          g_autoptr (GError) error = NULL;
          MeroDeltaOutcome o = 0;
          GBytes *env = g_ptr_array_index (all, k);

          mero_delta_store_receive (w[i]->ds, g_bytes_get_data (env, NULL),
                                    g_bytes_get_size (env), &o, &error);
          g_assert_no_error (error);
        }
      assert_same (w[i], x);
      test_replica_free (w[i]);
    }
  g_rand_free (rand);
}

/* More envelopes than one stage holds (256), in one call, children
 * before parents for a third of them. */
static void
test_receive_many_large (void)
{
  TestClock clock = { 1700000000000 };
  g_autoptr (TestReplica) w = test_replica_new (70, &clock, NULL);
  g_autoptr (TestReplica) x = test_replica_new (71, &clock, NULL);
  g_autoptr (TestReplica) y = test_replica_new (72, &clock, NULL);
  g_autoptr (GPtrArray) envs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const guint n = 600;
  g_autofree MeroDeltaOutcome *outcomes = g_new0 (MeroDeltaOutcome, n);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%u", i % 97);
      g_autofree char *val = g_strdup_printf ("%u", i);

      clock.now_ms++;
      g_ptr_array_add (envs, kv_set (w, key, val));
    }
  for (guint i = 0; i + 1 < n; i += 3)
    {
      gpointer t = envs->pdata[i];

      envs->pdata[i] = envs->pdata[i + 1];
      envs->pdata[i + 1] = t;
    }
  g_assert_cmpuint (mero_delta_store_receive_many (x->ds, (GBytes **) envs->pdata, n, outcomes,
                                                   NULL), ==, n);
  for (guint i = 0; i < n; i++)
    test_replica_receive (y, g_ptr_array_index (envs, i));
  assert_same (x, y);
  assert_same (x, w);
  g_assert_cmpuint (mero_delta_store_pending_count (x->ds), ==, 0);
  g_assert_cmpuint (mero_metrics_get_counter (x->metrics, "mero_delta_applied_total", NULL), ==,
                    n);
}

static void
test_receive_many (void)
{
  guint n_seeds = g_test_slow () ? 100 : 12;

  for (guint32 seed = 1; seed <= n_seeds; seed++)
    {
      g_test_message ("seed %u", seed);
      run_receive_many (seed);
    }
}

/* ---- 5. stores of an older format --------------------------------------- */

static void
test_old_format (void)
{
  g_autofree char *tmp = mero_test_make_tmpdir ("mero-state-format");
  g_autofree char *dir = g_build_filename (tmp, "db", NULL);
  TestClock clock = { 1700000000000 };
  TestReplica *a = test_replica_new (1, &clock, dir);
  g_autoptr (GBytes) env = kv_set (a, "k", "v");
  g_autoptr (GBytes) rec = NULL;
  g_autoptr (GError) error = NULL;
  MeroKey key = mero_key_context_dag (test_context_id);
  MeroDeltaStoreConfig cfg = { 0 };
  guint8 *bytes;

  /* Rewrite the DAG record as a format-1 build wrote it. */
  g_assert_true (mero_store_get (a->store, &key, &rec, &error));
  g_assert_nonnull (rec);
  g_assert_cmpuint (((const guint8 *) g_bytes_get_data (rec, NULL))[0], ==, MERO_STATE_FORMAT);
  bytes = g_memdup2 (g_bytes_get_data (rec, NULL), g_bytes_get_size (rec));
  bytes[0] = 1;
  g_assert_true (mero_store_put (a->store, &key, bytes, g_bytes_get_size (rec), &error));
  g_free (bytes);
  g_clear_pointer (&a->ds, mero_delta_store_free);

  cfg.context_key = test_context_key;
  g_assert_null (mero_delta_store_open (a->store, test_context_id, &cfg, &error));
  g_assert_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "format 1"));
  g_test_message ("%s", error->message);
  /* Nothing was changed by the refusal: put the byte back, it opens. */
  g_clear_error (&error);
  {
    g_autoptr (GBytes) cur = NULL;
    guint8 *fixed;

    g_assert_true (mero_store_get (a->store, &key, &cur, &error));
    fixed = g_memdup2 (g_bytes_get_data (cur, NULL), g_bytes_get_size (cur));
    fixed[0] = MERO_STATE_FORMAT;
    g_assert_true (mero_store_put (a->store, &key, fixed, g_bytes_get_size (cur), &error));
    g_free (fixed);
  }
  test_replica_reopen (a, &clock);
  {
    g_autofree char *dump = test_kv_dump (a);

    g_assert_cmpstr (dump, ==, "k=v;");
  }
  test_replica_free (a);
  mero_test_remove_tree (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/hardening/bucket-squat", test_bucket_squat);
  g_test_add_func ("/hardening/many-branches", test_many_branches);
  g_test_add_func ("/hardening/heads-bound", test_heads_bound);
  g_test_add_func ("/hardening/too-many-parents", test_too_many_parents);
  g_test_add_func ("/hardening/late-update-after-gc", test_late_update_after_gc);
  g_test_add_func ("/hardening/gc-property", test_gc_property);
  g_test_add_func ("/hardening/clear-large", test_clear_large);
  g_test_add_func ("/hardening/old-format", test_old_format);
  g_test_add_func ("/hardening/receive-many", test_receive_many);
  g_test_add_func ("/hardening/receive-many-large", test_receive_many_large);
  return g_test_run ();
}
