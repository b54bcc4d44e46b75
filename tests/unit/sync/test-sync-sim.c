/* The sync protocol plugins between replicas of the real state engine, in
 * the deterministic simulator (sync-sim.h): random divergent states (deep
 * and wide trees, tombstones, concurrent updates of one key) end equal
 * after one session, a session cut anywhere leaves both sides consistent
 * and a retry converges, and every bound a peer can reach is refused and
 * counted.  MERO_TEST_SEED=<n> replays one seed. */
#include <string.h>

#include "sync-sim.h"
#include "sync-hash-wire.h"

const MeroPluginDescriptor *mero_plugin_sync_hash_get_descriptor (void);
const MeroPluginDescriptor *mero_plugin_sync_levelwise_get_descriptor (void);

typedef struct {
  const char *name;
  const MeroPluginDescriptor *(*get) (void);
} Proto;

static const Proto protos[] = {
  { "hash", mero_plugin_sync_hash_get_descriptor },
  { "levelwise", mero_plugin_sync_levelwise_get_descriptor },
};

typedef struct {
  const Proto *proto;
  SyncSimShape shape;
  guint32 seed;
} Case;

static void
assert_equal (SyncSimReplica *a, SyncSimReplica *b)
{
  guint8 ra[32], rb[32];
  g_autofree char *da = sync_sim_dump_live (a, NULL);
  g_autofree char *db = sync_sim_dump_live (b, NULL);

  sync_sim_replica_root (a, ra);
  sync_sim_replica_root (b, rb);
  g_assert_cmpstr (da, ==, db);
  g_assert_cmpmem (ra, 32, rb, 32);
}

static void
run_converges (gconstpointer data)
{
  const Case *c = data;
  guint32 seed = sync_sim_seed (c->seed);
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (c->proto->get (), metrics);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
  g_autofree char *before_a = NULL;
  g_autofree char *before_b = NULL;
  SyncSimResult res;
  guint n_live = 0;

  g_test_message ("seed %u (replay with MERO_TEST_SEED=%u)", seed, seed);
  sync_sim_populate (a, b, &c->shape, rand);
  before_a = sync_sim_dump_live (a, &n_live);
  before_b = sync_sim_dump_live (b, NULL);
  /* The case is not trivial: the replicas differ before the session. */
  if (c->shape.n_diverge > 0 || c->shape.n_concurrent > 0)
    g_assert_cmpstr (before_a, !=, before_b);

  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (res.responder, ==, MERO_SYNC_STATUS_DONE);
  assert_equal (a, b);
  g_assert_true (sync_sim_is_consistent (a));
  g_assert_true (sync_sim_is_consistent (b));
  g_test_message ("%s: %u live, %" G_GUINT64_FORMAT " round trips, %" G_GUINT64_FORMAT
                  " + %" G_GUINT64_FORMAT " bytes", c->proto->name, n_live, res.round_trips,
                  res.bytes_to_responder, res.bytes_to_initiator);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_failures_total",
                                              c->proto->name[0] == 'h'
                                                ? "protocol=\"sync-hash\",reason=\"roots_differ\""
                                                : "protocol=\"sync-levelwise\",reason=\"roots_differ\""),
                    ==, 0);
}

/* One side empty: everything flows to it, in either role. */
static void
test_one_side_empty (gconstpointer data)
{
  const Proto *proto = data;

  for (guint initiator_empty = 0; initiator_empty < 2; initiator_empty++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (7));
      g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), NULL);
      g_autoptr (SyncSimReplica) full = sync_sim_replica_new (0xa);
      g_autoptr (SyncSimReplica) empty = sync_sim_replica_new (0xb);
      g_autoptr (SyncSimReplica) scratch = sync_sim_replica_new (0xc);
      SyncSimShape shape = { .n_common = 0, .n_diverge = 600, .max_depth = 3,
                             .n_collections = 0, .pct_delete = 10, .pct_update = 20 };
      SyncSimResult res;
      guint n = 0;

      /* Edits on "full" only ("scratch" takes the other side's). */
      sync_sim_populate (full, scratch, &shape, rand);
      g_free (sync_sim_dump_live (full, &n));
      g_assert_cmpuint (n, >, 100);
      if (initiator_empty)
        g_assert_true (sync_sim_run (p, empty, full, rand, G_MAXUINT64, &res));
      else
        g_assert_true (sync_sim_run (p, full, empty, rand, G_MAXUINT64, &res));
      g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
      assert_equal (full, empty);
    }
}

/* Equal roots: both sessions are done at once, nothing is sent. */
static void
test_equal_roots (gconstpointer data)
{
  const Proto *proto = data;
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (3));
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), NULL);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
  SyncSimShape shape = { .n_common = 300, .max_depth = 2, .n_collections = 4 };
  SyncSimResult res;

  sync_sim_populate (a, b, &shape, rand);
  g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
  g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpuint (res.bytes_to_responder + res.bytes_to_initiator, ==, 0);
}

/* A session cut at a random byte (peer gone, stream truncated) leaves
 * each side consistent, and a retry converges. */
static void
test_cut_and_retry (gconstpointer data)
{
  const Proto *proto = data;
  guint32 seed0 = sync_sim_seed (11);

  for (guint round = 0; round < 12; round++)
    {
      guint32 seed = seed0 + round;
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
      g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), NULL);
      g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
      g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
      SyncSimShape shape = { .n_common = 400, .n_diverge = 150, .n_concurrent = 10,
                             .max_depth = 3, .n_collections = 6, .pct_delete = 15,
                             .pct_update = 30 };
      SyncSimResult full, res;
      guint64 cut;

      g_test_message ("seed %u", seed);
      sync_sim_populate (a, b, &shape, rand);
      /* How long the whole session is, on copies made the same way. */
      {
        g_autoptr (GRand) r2 = g_rand_new_with_seed (seed);
        g_autoptr (SyncSimReplica) a2 = sync_sim_replica_new (0xa);
        g_autoptr (SyncSimReplica) b2 = sync_sim_replica_new (0xb);

        sync_sim_populate (a2, b2, &shape, r2);
        g_assert_true (sync_sim_run (p, a2, b2, r2, G_MAXUINT64, &full));
      }
      cut = (guint64) g_rand_int_range (rand, 1, (gint32) (full.bytes_to_responder
                                                          + full.bytes_to_initiator));
      g_assert_true (sync_sim_run (p, a, b, rand, cut, &res));
      g_assert_true (res.cut);
      g_assert_true (sync_sim_is_consistent (a));
      g_assert_true (sync_sim_is_consistent (b));
      g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
      g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
      assert_equal (a, b);
    }
}

static GBytes *
frame (GByteArray *body)
{
  GByteArray *f = g_byte_array_new ();
  guint32 be = GUINT32_TO_BE (body->len);

  g_byte_array_append (f, (const guint8 *) &be, 4);
  g_byte_array_append (f, body->data, body->len);
  return g_byte_array_free_to_bytes (f);
}

/* A responder fed a request over a bound, or garbage, fails the session
 * and counts the refusal with its reason. */
static void
test_refusals (gconstpointer data)
{
  const Proto *proto = data;
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), metrics);
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (0xa);
  g_autofree char *refused = g_strdup_printf ("protocol=\"sync-%s\",reason=\"message\"", proto->name);
  g_autofree char *too_big = g_strdup_printf ("protocol=\"sync-%s\",reason=\"frame\"", proto->name);
  g_autofree char *bad = g_strdup_printf ("protocol=\"sync-%s\",reason=\"protocol\"", proto->name);
  struct {
    GBytes *bytes;
    const char *labels;
    const char *metric;
  } cases[4];

  {
    /* 4097 nodes: over SYNC_HASH_MAX_NODES_PER_REQUEST. */
    g_autoptr (GByteArray) body = g_byte_array_new ();
    guint8 zero[4] = { 0 };
    guint32 n = GUINT32_TO_BE (SYNC_HASH_MAX_NODES_PER_REQUEST + 1);

    g_byte_array_append (body, (const guint8 *) "\x01", 1);
    g_byte_array_append (body, zero, 4);
    g_byte_array_append (body, (const guint8 *) &n, 4);
    cases[0].bytes = frame (body);
    cases[0].labels = refused;
    cases[0].metric = "mero_sync_refusals_total";
  }
  {
    guint32 be = GUINT32_TO_BE (SYNC_HASH_MAX_FRAME + 1);

    cases[1].bytes = g_bytes_new (&be, 4);
    cases[1].labels = too_big;
    cases[1].metric = "mero_sync_refusals_total";
  }
  {
    g_autoptr (GByteArray) body = g_byte_array_new ();

    g_byte_array_append (body, (const guint8 *) "\x09garbage", 8);
    cases[2].bytes = frame (body);
    cases[2].labels = bad;
    cases[2].metric = "mero_sync_failures_total";
  }
  {
    /* One node of the other protocol's kind (a levelwise walk asked of
     * sync-hash, a physical node of sync-levelwise). */
    g_autoptr (GByteArray) body = g_byte_array_new ();
    guint8 zero[4] = { 0 };
    guint32 one = GUINT32_TO_BE (1);
    guint8 path_len = strcmp (proto->name, "hash") == 0 ? SYNC_HASH_PATH_LOGICAL : 0;

    g_byte_array_append (body, (const guint8 *) "\x01", 1);
    g_byte_array_append (body, zero, 4);
    g_byte_array_append (body, (const guint8 *) &one, 4);
    g_byte_array_append (body, sync_sim_context_id, 32);
    g_byte_array_append (body, &path_len, 1);
    cases[3].bytes = frame (body);
    cases[3].labels = bad;
    cases[3].metric = "mero_sync_failures_total";
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      MeroSyncHandshake local = { .struct_size = sizeof local };
      MeroSyncHandshake remote = { .struct_size = sizeof remote, .root_hash = { 1 } };
      MeroSyncSessionParams params = { .struct_size = sizeof params };
      MeroSyncSession *s;
      g_autoptr (GError) error = NULL;
      gsize len = 0;
      const guint8 *bytes = g_bytes_get_data (cases[i].bytes, &len);
      guint64 before = mero_metrics_get_counter (metrics, cases[i].metric, cases[i].labels);

      params.role = MERO_SYNC_ROLE_RESPONDER;
      memcpy (params.context_id, sync_sim_context_id, 32);
      params.local = &local;
      params.remote = &remote;
      params.state = sync_sim_replica_handle (r);
      s = p->vtable->session_new (p->plugin_data, &params, &error);
      g_assert_no_error (error);
      g_assert_false (p->vtable->recv (s, bytes, len, 1, &error));
      g_assert_nonnull (error);
      g_assert_cmpint (p->vtable->status (s), ==, MERO_SYNC_STATUS_FAILED);
      g_assert_cmpuint (mero_metrics_get_counter (metrics, cases[i].metric, cases[i].labels),
                        ==, before + 1);
      p->vtable->session_free (s);
      g_bytes_unref (cases[i].bytes);
    }
}

/* A pushed entity the state refuses (its parent is unknown) is counted and
 * skipped; the session goes on and answers. */
static void
test_merge_refused (gconstpointer data)
{
  const Proto *proto = data;
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), metrics);
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (0xa);
  g_autofree char *labels = g_strdup_printf ("protocol=\"sync-%s\",reason=\"merge_refused\"",
                                             proto->name);
  g_autoptr (SyncHashMsg) m = sync_hash_msg_new (SYNC_HASH_MSG_REQUEST);
  g_autoptr (GByteArray) wire = g_byte_array_new ();
  g_autoptr (GError) error = NULL;
  MeroStateEntity orphan = { .struct_size = sizeof orphan, .crdt_type = 1 };
  MeroSyncHandshake local = { .struct_size = sizeof local };
  MeroSyncHandshake remote = { .struct_size = sizeof remote, .root_hash = { 1 } };
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  MeroSyncSession *s;
  GBytes *reply;

  memset (orphan.id, 0xaa, 32);
  memset (orphan.parent_id, 0xbb, 32);
  orphan.updated_at = 5u << 16;
  orphan.data = (const uint8_t *) "x";
  orphan.data_len = 1;
  g_ptr_array_add (m->push, sync_hash_entity_new (&orphan));
  sync_hash_msg_encode (m, wire);

  params.role = MERO_SYNC_ROLE_RESPONDER;
  memcpy (params.context_id, sync_sim_context_id, 32);
  params.local = &local;
  params.remote = &remote;
  params.state = sync_sim_replica_handle (r);
  s = p->vtable->session_new (p->plugin_data, &params, &error);
  g_assert_no_error (error);
  g_assert_true (p->vtable->recv (s, wire->data, wire->len, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (p->vtable->status (s), ==, MERO_SYNC_STATUS_RUNNING);
  reply = p->vtable->pull_send (s);
  g_assert_nonnull (reply);
  g_bytes_unref (reply);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_refusals_total", labels), ==, 1);
  p->vtable->session_free (s);
}

/* An initiator whose peer stops answering fails at its idle deadline,
 * counted as "idle". */
static void
test_idle_timeout (gconstpointer data)
{
  const Proto *proto = data;
  g_autoptr (MeroMetrics) metrics = mero_metrics_new ();
  g_autoptr (SyncSimProtocol) p = sync_sim_protocol_new (proto->get (), metrics);
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (0xa);
  g_autofree char *labels = g_strdup_printf ("protocol=\"sync-%s\",reason=\"idle\"", proto->name);
  MeroSyncHandshake local = { .struct_size = sizeof local };
  MeroSyncHandshake remote = { .struct_size = sizeof remote, .root_hash = { 1 } };
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  MeroSyncSession *s;
  g_autoptr (GError) error = NULL;
  GBytes *first;
  gint64 deadline;

  params.role = MERO_SYNC_ROLE_INITIATOR;
  memcpy (params.context_id, sync_sim_context_id, 32);
  params.local = &local;
  params.remote = &remote;
  params.state = sync_sim_replica_handle (r);
  params.now_us = 5000;
  s = p->vtable->session_new (p->plugin_data, &params, &error);
  g_assert_no_error (error);
  first = p->vtable->pull_send (s);
  g_assert_nonnull (first);
  g_bytes_unref (first);
  deadline = p->vtable->next_deadline (s);
  g_assert_cmpint (deadline, >, 5000);
  g_assert_true (p->vtable->handle_deadline (s, deadline - 1, &error));
  g_assert_cmpint (p->vtable->status (s), ==, MERO_SYNC_STATUS_RUNNING);
  g_assert_false (p->vtable->handle_deadline (s, deadline, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_TIMEOUT);
  g_assert_cmpint (p->vtable->status (s), ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpuint (mero_metrics_get_counter (metrics, "mero_sync_failures_total", labels), ==, 1);
  p->vtable->session_free (s);
}

/* cost(): zero when the roots agree; levelwise for small trees and not
 * applicable past SYNC_LEVELWISE_MAX_CHILDREN; sync-hash for big ones. */
static void
test_cost (void)
{
  g_autoptr (SyncSimProtocol) h = sync_sim_protocol_new (protos[0].get (), NULL);
  g_autoptr (SyncSimProtocol) l = sync_sim_protocol_new (protos[1].get (), NULL);
  MeroSyncHandshake a = { .struct_size = sizeof a, .root_hash = { 1 } };
  MeroSyncHandshake b = { .struct_size = sizeof b, .root_hash = { 2 } };
  MeroSyncHandshake same = a;

  same.entity_count = a.entity_count = b.entity_count = 500;
  g_assert_cmpuint (h->vtable->cost (h->plugin_data, &a, &same), ==, 0);
  g_assert_cmpuint (l->vtable->cost (l->plugin_data, &a, &same), ==, 0);
  g_assert_cmpuint (l->vtable->cost (l->plugin_data, &a, &b), <,
                    h->vtable->cost (h->plugin_data, &a, &b));
  a.entity_count = b.entity_count = 60000;
  g_assert_cmpuint (h->vtable->cost (h->plugin_data, &a, &b), <,
                    l->vtable->cost (l->plugin_data, &a, &b));
  b.entity_count = 100000;
  g_assert_cmpuint (l->vtable->cost (l->plugin_data, &a, &b), ==, MERO_SYNC_COST_NOT_APPLICABLE);
  g_assert_cmpuint (h->vtable->cost (h->plugin_data, &a, &b), <, MERO_SYNC_COST_NOT_APPLICABLE);
}

static void
add_cases (const Proto *proto, gboolean slow)
{
  static const struct {
    const char *name;
    SyncSimShape shape;
  } shapes[] = {
    { "tiny", { 1, 2, 0, 1, 0, 20, 30 } },
    { "wide", { 2000, 60, 5, 2, 1, 10, 30 } },
    { "deep", { 1500, 80, 5, 12, 24, 20, 30 } },
    { "tombstones", { 1000, 200, 5, 3, 10, 60, 10 } },
    { "concurrent", { 500, 0, 200, 2, 4, 0, 0 } },
    { "10k", { 10000, 100, 20, 3, 8, 20, 30 } },
  };
  static const SyncSimShape big = { 100000, 100, 20, 2, 1, 20, 30 };

  for (guint i = 0; i < G_N_ELEMENTS (shapes); i++)
    for (guint32 seed = 1; seed <= 3; seed++)
      {
        Case *c;
        g_autofree char *path = NULL;

        /* The 10k case once per protocol in the default run. */
        if (shapes[i].shape.n_common >= 10000 && seed > 1 && !slow)
          continue;
        c = g_new0 (Case, 1);
        path = g_strdup_printf ("/sync/%s/converges/%s/%u", proto->name, shapes[i].name, seed);
        c->proto = proto;
        c->shape = shapes[i].shape;
        c->seed = seed * 7919 + i;
        g_test_add_data_func_full (path, c, run_converges, g_free);
      }
  if (slow && strcmp (proto->name, "hash") == 0)
    {
      Case *c = g_new0 (Case, 1);
      g_autofree char *path = g_strdup_printf ("/sync/%s/converges/100k", proto->name);

      c->proto = proto;
      c->shape = big;
      c->seed = 100000;
      g_test_add_data_func_full (path, c, run_converges, g_free);
    }
}

int
main (int argc, char **argv)
{
  gboolean slow;

  g_test_init (&argc, &argv, NULL);
  slow = g_test_slow () || g_getenv ("MERO_TEST_SLOW") != NULL;
  g_test_add_func ("/sync/cost", test_cost);
  for (guint i = 0; i < G_N_ELEMENTS (protos); i++)
    {
      g_autofree char *empty = g_strdup_printf ("/sync/%s/one-side-empty", protos[i].name);
      g_autofree char *equal = g_strdup_printf ("/sync/%s/equal-roots", protos[i].name);
      g_autofree char *cut = g_strdup_printf ("/sync/%s/cut-and-retry", protos[i].name);
      g_autofree char *refusals = g_strdup_printf ("/sync/%s/refusals", protos[i].name);
      g_autofree char *idle = g_strdup_printf ("/sync/%s/idle-timeout", protos[i].name);
      g_autofree char *refused = g_strdup_printf ("/sync/%s/merge-refused", protos[i].name);

      add_cases (&protos[i], slow);
      g_test_add_data_func (empty, &protos[i], test_one_side_empty);
      g_test_add_data_func (equal, &protos[i], test_equal_roots);
      g_test_add_data_func (cut, &protos[i], test_cut_and_retry);
      g_test_add_data_func (refusals, &protos[i], test_refusals);
      g_test_add_data_func (idle, &protos[i], test_idle_timeout);
      g_test_add_data_func (refused, &protos[i], test_merge_refused);
    }
  return g_test_run ();
}
