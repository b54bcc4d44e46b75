/* sync-reconcile's state index (plugins/sync-reconcile/reconcile-index.h,
 * SDK ABI 1.2) kept by the real state engine on the memory store: after
 * random writes, deletes (tombstones), concurrent versions, Clears, sync
 * merges, tombstone collection and a snapshot wipe, the index the commits
 * maintained incrementally is byte for byte the one a rebuild from
 * scratch writes, and its prefix is the coded symbols of the set of
 * entity versions.  A session with the index reads no whole state and
 * gives the same result as one without.  MERO_TEST_SEED=<n> replays. */
#include <string.h>

#include "context/state/mero-state-access.h"
#include "context/state/mero-state-index.h"
#include "reconcile-core.h"
#include "reconcile-index.h"
#include "sync-sim.h"

const MeroPluginDescriptor *mero_plugin_sync_reconcile_get_descriptor (void);

/* Every record of the index: plugin key (hex) -> value (hex). */
static gboolean
dump_one (const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len, void *data)
{
  GString *out = data;

  for (size_t i = 0; i < key_len; i++)
    g_string_append_printf (out, "%02x", key[i]);
  g_string_append_c (out, ' ');
  for (size_t i = 0; i < value_len; i++)
    g_string_append_printf (out, "%02x", value[i]);
  g_string_append_c (out, '\n');
  return TRUE;
}

static char *
dump_index (SyncSimProtocol *p, SyncSimReplica *r)
{
  const MeroStateAccess *sa = mero_state_access_get ();
  GString *out = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  const uint8_t none = 0;

  g_assert_true (sa->index_scan (sync_sim_replica_handle (r), p->descriptor->name, &none, 0,
                                 dump_one, out, &error));
  g_assert_no_error (error);
  return g_string_free (out, FALSE);
}

typedef struct {
  uint8_t key[16];
  RibltEncoder *enc;
  GArray *hashes;             /* uint64_t */
  GArray *ids;                /* 32 bytes each */
} Expected;

static gboolean
expect_one (const MeroStateEntity *e, void *data, GError **error)
{
  Expected *x = data;
  uint8_t item[RIBLT_ITEM_SIZE];
  uint64_t h;

  (void) error;
  reconcile_version_item (e, item);
  riblt_encoder_apply (x->enc, item, 1);
  h = riblt_item_hash (x->key, item);
  g_array_append_val (x->hashes, h);
  g_array_append_vals (x->ids, e->id, 1);
  return TRUE;
}

/* The index equals (1) the coded symbols and item records of the state's
 * set, computed here from every entity record, and (2) byte for byte what
 * a rebuild from scratch writes. */
static void
assert_index_fresh (SyncSimProtocol *p, SyncSimReplica *r)
{
  const ReconcileConfig *config = p->plugin_data;
  MeroStateHandle *h = sync_sim_replica_handle (r);
  MeroState *state = sync_sim_replica_state (r);
  g_autoptr (GError) error = NULL;
  g_autofree RibltSymbol *stored = g_new0 (RibltSymbol, RECONCILE_INDEX_SYMBOLS);
  g_autoptr (RibltEncoder) enc = NULL;
  g_autoptr (GArray) hashes = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, 32);
  g_autofree char *incremental = NULL;
  g_autofree char *scratch = NULL;
  g_autoptr (MeroStoreBatch) batch = NULL;
  Expected x = { .hashes = hashes, .ids = ids };
  guint n_items = 0;

  g_assert_true (reconcile_index_usable (config, h, &error));
  g_assert_no_error (error);
  reconcile_context_key (sync_sim_context_id, x.key);
  enc = riblt_encoder_new (x.key);
  x.enc = enc;
  g_assert_true (reconcile_for_each_record (config->host->state, h, expect_one, &x, &error));
  g_assert_no_error (error);
  riblt_encoder_extend (enc, RECONCILE_INDEX_SYMBOLS);
  g_assert_true (reconcile_index_load_prefix (config, h, stored, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < RECONCILE_INDEX_SYMBOLS; i++)
    {
      const RibltSymbol *want = &riblt_encoder_symbols (enc)[i];

      g_assert_cmpmem (stored[i].sum, RIBLT_ITEM_SIZE, want->sum, RIBLT_ITEM_SIZE);
      g_assert_cmpuint (stored[i].checksum, ==, want->checksum);
      g_assert_cmpint (stored[i].count, ==, want->count);
    }
  for (guint i = 0; i < hashes->len; i++)
    {
      uint8_t id[32];
      gboolean found = FALSE;

      g_assert_true (reconcile_index_find (config, h, g_array_index (hashes, uint64_t, i), id,
                                           &found, &error));
      g_assert_no_error (error);
      g_assert_true (found);
      g_assert_cmpmem (id, 32, ids->data + i * 32, 32);
    }

  /* (2): dropped and rebuilt from scratch, the records are the same. */
  incremental = dump_index (p, r);
  for (const char *c = incremental; *c != '\0'; c++)
    n_items += g_str_has_prefix (c, "49") && (c == incremental || c[-1] == '\n');
  g_assert_cmpuint (n_items, ==, hashes->len);
  batch = mero_store_batch_new (mero_state_get_store (state));
  g_assert_true (mero_state_indexes_queue_drop (state, batch, &error));
  g_assert_true (mero_store_batch_commit (batch, &error));
  g_assert_false (reconcile_index_usable (config, h, &error));
  g_assert_true (mero_state_indexes_ensure (state, &error));
  g_assert_no_error (error);
  scratch = dump_index (p, r);
  g_assert_cmpstr (incremental, ==, scratch);
}

static void
apply_clear (SyncSimReplica *r, GRand *rand)
{
  MeroState *state = sync_sim_replica_state (r);
  g_autoptr (GPtrArray) kids = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStateTxn) txn = NULL;
  g_autoptr (MeroStoreBatch) batch = NULL;
  MeroAction a = { .kind = MERO_ACTION_CLEAR };
  MeroHlc ts = { .time = G_GUINT64_CONSTANT (1) << 62, .node = 0xc };
  guint8 root[32];
  const MeroEntity *c = NULL;

  g_assert_true (mero_state_live_children (state, sync_sim_context_id, &kids, &error));
  for (guint i = 0; i < kids->len && c == NULL; i++)
    if (((MeroEntity *) kids->pdata[i])->crdt_type == MERO_CRDT_MAP)
      c = kids->pdata[(i + g_rand_int_range (rand, 0, (gint32) kids->len)) % kids->len];
  if (c == NULL || c->crdt_type != MERO_CRDT_MAP)
    return;
  memcpy (a.id, c->id, 32);
  txn = mero_state_txn_new (state);
  batch = mero_store_batch_new (mero_state_get_store (state));
  g_assert_true (mero_state_txn_apply (txn, &a, &ts, &error));
  g_assert_no_error (error);
  g_assert_true (mero_state_txn_finish (txn, batch, root, &error));
  g_assert_true (mero_store_batch_commit (batch, &error));
  g_assert_no_error (error);
}

static void
collect_tombstones (SyncSimReplica *r)
{
  g_autoptr (GError) error = NULL;
  GBytes *cursor = NULL;
  guint removed = 0;

  /* Everything deleted is past a retention of zero at the end of time. */
  do
    g_assert_true (mero_state_gc (sync_sim_replica_state (r), G_MAXUINT64 / 2, 0, 1000, &cursor,
                                  &removed, &error));
  while (cursor != NULL);
  g_assert_no_error (error);
}

static void
test_incremental_equals_scratch (void)
{
  guint32 seed = sync_sim_seed (1207);

  for (guint round = 0; round < 4; round++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (seed + round);
      g_autoptr (SyncSimProtocol) p =
        sync_sim_protocol_new (mero_plugin_sync_reconcile_get_descriptor (), NULL);
      g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
      g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
      SyncSimShape shape = { .n_common = 200 + g_rand_int_range (rand, 0, 800),
                             .n_diverge = g_rand_int_range (rand, 0, 150),
                             .n_concurrent = g_rand_int_range (rand, 0, 30),
                             .max_depth = 1 + g_rand_int_range (rand, 0, 4),
                             .n_collections = 1 + g_rand_int_range (rand, 0, 6),
                             .pct_delete = g_rand_int_range (rand, 0, 60),
                             .pct_update = 30 };
      SyncSimResult res;

      g_test_message ("seed %u round %u (replay with MERO_TEST_SEED=%u)", seed, round, seed);
      /* Attached before the first write: every record goes through
       * index_update (round 0 attaches A after populating: a rebuild). */
      if (round != 0)
        sync_sim_replica_attach_index (a, p);
      sync_sim_replica_attach_index (b, p);
      sync_sim_populate (a, b, &shape, rand);
      if (round == 0)
        sync_sim_replica_attach_index (a, p);
      assert_index_fresh (p, a);
      assert_index_fresh (p, b);
      apply_clear (a, rand);
      assert_index_fresh (p, a);
      /* Merges of the peer's versions go through the same commits. */
      g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
      g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
      assert_index_fresh (p, a);
      assert_index_fresh (p, b);
      collect_tombstones (b);
      assert_index_fresh (p, b);
    }
}

/* A snapshot install over a wiped state drops the index with the state
 * and rebuilds it once after the commit. */
static void
test_snapshot_rebuilds (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (77));
  g_autoptr (SyncSimProtocol) p =
    sync_sim_protocol_new (mero_plugin_sync_reconcile_get_descriptor (), NULL);
  g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
  g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
  SyncSimShape shape = { .n_common = 300, .n_diverge = 40, .max_depth = 2, .n_collections = 3,
                         .pct_delete = 30, .pct_update = 30 };
  const MeroStateAccess *sa = mero_state_access_get ();
  MeroStateHandle *ha = sync_sim_replica_handle (a), *hb = sync_sim_replica_handle (b);
  g_autoptr (GError) error = NULL;
  MeroStateReadView *view;
  MeroSnapshotWriter *w;
  g_autofree MeroStateEntity *page = g_new0 (MeroStateEntity, 64);
  uint8_t root[32], cursor[32];
  const uint8_t *heads = NULL;
  size_t n_heads = 0;
  gboolean resumed = FALSE, more = TRUE, first = TRUE;

  sync_sim_replica_attach_index (a, p);
  sync_sim_replica_attach_index (b, p);
  sync_sim_populate (a, b, &shape, rand);
  /* B replaces its state by A's (an operator resync). */
  view = sa->read_view_new (ha, &error);
  g_assert_no_error (error);
  sa->read_view_boundary (view, root, &heads, &n_heads);
  w = sa->snapshot_begin (hb, root, TRUE, cursor, &resumed, &error);
  g_assert_no_error (error);
  while (more)
    {
      size_t n = 0;

      for (guint i = 0; i < 64; i++)
        page[i].struct_size = sizeof page[i];
      g_assert_true (sa->read_view_page (view, first ? NULL : cursor, page, 64, &n, &more,
                                         &error));
      if (n == 0)
        break;
      g_assert_true (sa->snapshot_put_page (w, page, n, &error));
      g_assert_no_error (error);
      memcpy (cursor, page[n - 1].id, 32);
      first = FALSE;
    }
  g_assert_true (sa->snapshot_commit (w, heads, n_heads, &error));
  g_assert_no_error (error);
  sa->snapshot_free (w);
  sa->read_view_free (view);
  assert_index_fresh (p, b);
}

/* The same divergent replicas reconciled with and without the index: the
 * same converged state and the same bytes on the wire. */
static void
test_same_result (void)
{
  /* Not g_autofree: on an array it frees only the first element. */
  char *dumps[2] = { NULL, NULL };
  guint64 bytes[2] = { 0, 0 };

  for (guint indexed = 0; indexed < 2; indexed++)
    {
      g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (4242));
      g_autoptr (SyncSimProtocol) p =
        sync_sim_protocol_new (mero_plugin_sync_reconcile_get_descriptor (), NULL);
      g_autoptr (SyncSimReplica) a = sync_sim_replica_new (0xa);
      g_autoptr (SyncSimReplica) b = sync_sim_replica_new (0xb);
      SyncSimShape shape = { .n_common = 3000, .n_diverge = 60, .n_concurrent = 10,
                             .max_depth = 3, .n_collections = 5, .pct_delete = 20,
                             .pct_update = 30 };
      SyncSimResult res;
      guint8 ra[32], rb[32];

      if (indexed)
        {
          sync_sim_replica_attach_index (a, p);
          sync_sim_replica_attach_index (b, p);
        }
      sync_sim_populate (a, b, &shape, rand);
      g_assert_true (sync_sim_run (p, a, b, rand, G_MAXUINT64, &res));
      g_assert_cmpint (res.initiator, ==, MERO_SYNC_STATUS_DONE);
      sync_sim_replica_root (a, ra);
      sync_sim_replica_root (b, rb);
      g_assert_cmpmem (ra, 32, rb, 32);
      dumps[indexed] = sync_sim_dump_live (a, NULL);
      bytes[indexed] = res.bytes_to_initiator + res.bytes_to_responder;
      g_test_message ("indexed %u: %" G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT " bytes, %"
                      G_GUINT64_FORMAT " round trips, %" G_GUINT64_FORMAT " entities", indexed,
                      res.bytes_to_responder, res.bytes_to_initiator, res.round_trips,
                      res.entities);
      if (indexed)
        {
          assert_index_fresh (p, a);
          assert_index_fresh (p, b);
        }
    }
  g_assert_cmpstr (dumps[0], ==, dumps[1]);
  g_free (dumps[0]);
  g_free (dumps[1]);
  /* The same symbols go on the wire either way. */
  g_assert_cmpuint (bytes[0], ==, bytes[1]);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sync/reconcile-index/incremental-equals-scratch",
                   test_incremental_equals_scratch);
  g_test_add_func ("/sync/reconcile-index/snapshot-rebuilds", test_snapshot_rebuilds);
  g_test_add_func ("/sync/reconcile-index/same-result", test_same_result);
  return g_test_run ();
}
