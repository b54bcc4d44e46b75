/* test-peer-store.c: the persisted peer store (host/node/mero-peer-store.c
 * core in memory, mero-node-peer-store.c over a real RocksDB store that is
 * closed and reopened) and the run-time entries of the bootstrap redial. */
#include <glib.h>
#include <string.h>

#include "mero-test-fs.h"
#include "metrics/mero-metrics.h"
#include "node/mero-node-bootstrap.h"
#include "node/mero-node-peer-store.h"
#include "node/mero-peer-store.h"
#include "store-rocksdb-core.h"

/* Two real PeerIds (Ed25519). */
#define PEER_A "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA"
#define PEER_B "12D3KooWGzh8i7WXDmdEz8CSxo6gnUuM4PrmNNC3pZWH4cP3qnYY"

static char *
peer_name (guint i)
{
  /* Distinct ids are all the core needs; it does not parse them. */
  return g_strdup_printf ("peer-%04u", i);
}

static void
test_refuses_unusable (void)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (0);
  const char *refused[] = {
    "/ip4/0.0.0.0/tcp/2428",            /* every interface, not an address */
    "/ip6/::/tcp/2428",
    "/ip4/127.0.0.1/tcp/0",             /* port 0: not bound yet */
    "/ip4/127.0.0.1/tcp/70000",
    "/ip4/127.0.0.1/udp/2428/quic-v1",  /* not a transport we dial */
    "/ip4/224.0.0.251/tcp/2428",        /* multicast */
    "/ip6/fe80::1/tcp/2428",            /* link-local: needs a zone */
    "/ip4/::1/tcp/2428",                /* family mismatch */
    "/ip4/127.0.0.1/tcp/2428/p2p/" PEER_B, /* another peer's address */
    "ip4/127.0.0.1/tcp/2428",
    "",
  };
  g_autofree char *long_name = g_strnfill (200, 'a');
  g_autofree char *long_host = g_strdup_printf ("/dns4/%s/tcp/1", long_name);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    g_assert_false (mero_peer_store_learn (store, PEER_A, refused[i], 1000));
  g_assert_false (mero_peer_store_learn (store, PEER_A, long_host, 1000));
  g_assert_cmpuint (mero_peer_store_count (store), ==, 0);

  g_assert_true (mero_peer_store_learn (store, PEER_A, "/ip4/127.0.0.1/tcp/4001", 1000));
  g_assert_true (mero_peer_store_learn (store, PEER_A, "/ip6/::1/tcp/4001/p2p/" PEER_A, 1000));
  g_assert_true (mero_peer_store_learn (store, PEER_A, "/dns4/node.example/tcp/4001", 1000));
  g_assert_cmpuint (mero_peer_store_count (store), ==, 1);
}

static void
test_merge (void)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (0);
  g_auto (GStrv) addrs = NULL;

  g_assert_true (mero_peer_store_learn (store, PEER_A, "/ip4/127.0.0.1/tcp/1111", 1000));
  g_assert_true (mero_peer_store_learn (store, PEER_A, "/ip4/127.0.0.1/tcp/2222", 2000));
  /* The same address again, not newer: nothing changes. */
  g_assert_false (mero_peer_store_learn (store, PEER_A, "/ip4/127.0.0.1/tcp/2222", 2000));
  addrs = mero_peer_store_lookup (store, PEER_A);
  g_assert_cmpuint (g_strv_length (addrs), ==, 2);
  g_assert_cmpstr (addrs[0], ==, "/ip4/127.0.0.1/tcp/2222/p2p/" PEER_A);
  g_assert_cmpstr (addrs[1], ==, "/ip4/127.0.0.1/tcp/1111/p2p/" PEER_A);
  g_clear_pointer (&addrs, g_strfreev);

  /* Seen again later (with /p2p/ this time): first again, not doubled. */
  g_assert_true (mero_peer_store_learn (store, PEER_A, "/ip4/127.0.0.1/tcp/1111/p2p/" PEER_A,
                                        3000));
  addrs = mero_peer_store_lookup (store, PEER_A);
  g_assert_cmpuint (g_strv_length (addrs), ==, 2);
  g_assert_cmpstr (addrs[0], ==, "/ip4/127.0.0.1/tcp/1111/p2p/" PEER_A);
  g_assert_cmpint (mero_peer_store_last_seen (store, PEER_A), ==, 3000);
  g_clear_pointer (&addrs, g_strfreev);

  addrs = mero_peer_store_lookup (store, PEER_B);
  g_assert_nonnull (addrs);
  g_assert_null (addrs[0]);
}

static void
test_address_bound (void)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (0);
  g_auto (GStrv) addrs = NULL;

  for (guint port = 1; port <= MERO_PEER_STORE_MAX_ADDRESSES + 3; port++)
    {
      g_autofree char *a = g_strdup_printf ("/ip4/127.0.0.1/tcp/%u", port);

      g_assert_true (mero_peer_store_learn (store, PEER_A, a, port * 10));
    }
  addrs = mero_peer_store_lookup (store, PEER_A);
  g_assert_cmpuint (g_strv_length (addrs), ==, MERO_PEER_STORE_MAX_ADDRESSES);
  /* The three least recently seen went. */
  for (guint i = 0; addrs[i] != NULL; i++)
    g_assert_false (g_str_has_prefix (addrs[i], "/ip4/127.0.0.1/tcp/1/")
                    || g_str_has_prefix (addrs[i], "/ip4/127.0.0.1/tcp/2/")
                    || g_str_has_prefix (addrs[i], "/ip4/127.0.0.1/tcp/3/"));
  g_assert_true (g_str_has_prefix (addrs[0], "/ip4/127.0.0.1/tcp/11/"));
}

static void
test_eviction (void)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (16);
  g_auto (GStrv) changed = NULL;
  g_auto (GStrv) evicted = NULL;

  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *id = peer_name (i);

      /* peer-0003 is the least recently seen. */
      g_assert_true (mero_peer_store_learn (store, id, "/ip4/10.0.0.1/tcp/4001",
                                            i == 3 ? 5 : 100 + i));
    }
  mero_peer_store_take_changes (store, &changed, &evicted);
  g_assert_cmpuint (g_strv_length (changed), ==, 16);
  g_assert_cmpuint (g_strv_length (evicted), ==, 0);
  g_clear_pointer (&changed, g_strfreev);
  g_clear_pointer (&evicted, g_strfreev);
  g_assert_false (mero_peer_store_has_changes (store));

  /* A known peer seen again: no eviction. */
  g_assert_true (mero_peer_store_learn (store, "peer-0000", "/ip4/10.0.0.2/tcp/4001", 500));
  g_assert_cmpuint (mero_peer_store_get_evictions (store), ==, 0);
  /* A 17th peer: the least recently seen one goes, and is reported. */
  g_assert_true (mero_peer_store_learn (store, "peer-new", "/ip4/10.0.0.9/tcp/4001", 600));
  g_assert_cmpuint (mero_peer_store_count (store), ==, 16);
  g_assert_cmpuint (mero_peer_store_get_evictions (store), ==, 1);
  g_assert_cmpint (mero_peer_store_last_seen (store, "peer-0003"), ==, 0);
  mero_peer_store_take_changes (store, &changed, &evicted);
  g_assert_cmpuint (g_strv_length (evicted), ==, 1);
  g_assert_cmpstr (evicted[0], ==, "peer-0003");
  g_assert_true (g_strv_contains ((const char *const *) changed, "peer-new"));
  g_assert_true (g_strv_contains ((const char *const *) changed, "peer-0000"));
}

/* Members of our groups are evicted only when nothing else is left:
 * strangers with fresh keys cannot push them out. */
static void
test_eviction_keeps_members (void)
{
  g_autoptr (MeroPeerStore) store = mero_peer_store_new (16);
  const char *const members[] = { "peer-0000", "peer-0001", NULL };

  mero_peer_store_set_kept (store, members);
  for (guint i = 0; i < 16; i++)
    {
      g_autofree char *id = peer_name (i);

      g_assert_true (mero_peer_store_learn (store, id, "/ip4/10.0.0.1/tcp/4001", 100 + i));
    }
  for (guint i = 0; i < 64; i++)
    {
      g_autofree char *id = g_strdup_printf ("stranger-%u", i);

      g_assert_true (mero_peer_store_learn (store, id, "/ip4/10.0.0.2/tcp/4001", 1000 + i));
    }
  g_assert_cmpuint (mero_peer_store_count (store), ==, 16);
  g_assert_cmpint (mero_peer_store_last_seen (store, "peer-0000"), ==, 100);
  g_assert_cmpint (mero_peer_store_last_seen (store, "peer-0001"), ==, 101);
  g_assert_cmpint (mero_peer_store_last_seen (store, "peer-0002"), ==, 0);
  g_assert_cmpuint (mero_peer_store_get_evictions (store), ==, 64);
  /* No longer kept: the oldest goes like any other. */
  mero_peer_store_set_kept (store, NULL);
  g_assert_true (mero_peer_store_learn (store, "late", "/ip4/10.0.0.3/tcp/4001", 5000));
  g_assert_cmpint (mero_peer_store_last_seen (store, "peer-0000"), ==, 0);
}

static void
test_record_round_trip (void)
{
  g_autoptr (MeroPeerStore) a = mero_peer_store_new (0);
  g_autoptr (MeroPeerStore) b = mero_peer_store_new (0);
  g_autoptr (GBytes) record = NULL;
  g_autoptr (GBytes) again = NULL;
  g_auto (GStrv) addrs_a = NULL;
  g_auto (GStrv) addrs_b = NULL;
  g_auto (GStrv) changed = NULL;
  g_auto (GStrv) evicted = NULL;
  const guint8 *data;
  gsize len;

  g_assert_true (mero_peer_store_learn (a, PEER_A, "/ip4/127.0.0.1/tcp/1111", 1700000000000));
  g_assert_true (mero_peer_store_learn (a, PEER_A, "/ip6/::1/tcp/2222", 1700000000500));
  record = mero_peer_store_encode_peer (a, PEER_A);
  g_assert_nonnull (record);
  g_assert_null (mero_peer_store_encode_peer (a, PEER_B));
  data = g_bytes_get_data (record, &len);
  g_assert_cmpuint (data[0], ==, MERO_PEER_STORE_RECORD_VERSION);
  g_assert_cmpuint (data[1], ==, 2);

  g_assert_true (mero_peer_store_load_peer (b, PEER_A, data, len));
  addrs_a = mero_peer_store_lookup (a, PEER_A);
  addrs_b = mero_peer_store_lookup (b, PEER_A);
  g_assert_cmpstrv (addrs_a, addrs_b);
  g_assert_cmpint (mero_peer_store_last_seen (b, PEER_A), ==, 1700000000500);
  again = mero_peer_store_encode_peer (b, PEER_A);
  g_assert_true (g_bytes_equal (record, again));
  /* Loading is not a change to write back. */
  mero_peer_store_take_changes (b, &changed, &evicted);
  g_assert_null (changed[0]);

  /* Damaged records are refused whole. */
  {
    g_autofree guint8 *copy = g_memdup2 (data, len);
    g_autofree guint8 *longer = g_malloc (len + 1);

    g_assert_false (mero_peer_store_load_peer (b, PEER_B, data, len - 1));
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, data, 1));
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, NULL, 0));
    memcpy (longer, data, len);
    longer[len] = 0;
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, longer, len + 1));
    copy[0] = 2;
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, copy, len));
    copy[0] = MERO_PEER_STORE_RECORD_VERSION;
    copy[1] = MERO_PEER_STORE_MAX_ADDRESSES + 1;
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, copy, len));
    copy[1] = 0;
    g_assert_false (mero_peer_store_load_peer (b, PEER_B, copy, len));
    g_assert_cmpint (mero_peer_store_last_seen (b, PEER_B), ==, 0);
  }
}

typedef struct {
  char *dir;
  char *db;
  MeroMetrics *metrics;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->dir = mero_test_make_tmpdir ("mero-peer-store");
  f->db = g_build_filename (f->dir, "db", NULL);
  f->metrics = mero_metrics_new ();
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mero_metrics_unref (f->metrics);
  mero_test_remove_tree (f->dir);
  g_free (f->db);
  g_free (f->dir);
}

static MeroStore *
open_store (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  MeroStore *store = mero_store_open (&mero_store_rocksdb_vtable, NULL, f->db, NULL, &error);

  g_assert_no_error (error);
  return store;
}

static guint
count_records (MeroStore *store)
{
  MeroKey prefix = mero_key_prefix_peers ();
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (store, NULL, &prefix);
  guint n = 0;

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    n++;
  g_assert_true (mero_store_iter_check (it, NULL));
  return n;
}

static double
gauge (Fixture *f, const char *name)
{
  double value = -1;

  g_assert_true (mero_metrics_lookup (f->metrics, name, NULL, NULL, &value));
  return value;
}

/* Written in one batch when flushed (not on every learn), read back by
 * the next start, evictions deleted from disk. */
static void
test_persisted (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (MeroStore) store = open_store (f);
    g_autoptr (MeroNodePeerStore) peers = mero_node_peer_store_new (store, 16, f->metrics,
                                                                   &error);

    g_assert_no_error (error);
    g_assert_true (mero_node_peer_store_learn (peers, PEER_A, "/ip4/127.0.0.1/tcp/40001"));
    g_assert_true (mero_node_peer_store_learn (peers, PEER_A, "/ip4/127.0.0.1/tcp/40002"));
    g_assert_true (mero_node_peer_store_learn (peers, PEER_B, "/ip6/::1/tcp/40003"));
    g_assert_false (mero_node_peer_store_learn (peers, PEER_B, "/ip4/0.0.0.0/tcp/40004"));
    /* Coalesced: nothing is on disk before the flush. */
    g_assert_cmpuint (count_records (store), ==, 0);
    g_assert_true (mero_node_peer_store_flush (peers, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (count_records (store), ==, 2);
    g_assert_cmpfloat (gauge (f, "mero_peer_store_peers"), ==, 2);
    /* What a stop leaves unflushed is written by _free. */
    g_assert_true (mero_node_peer_store_learn (peers, PEER_B, "/ip4/127.0.0.1/tcp/40005"));
  }
  {
    g_autoptr (MeroStore) store = open_store (f);
    g_autoptr (MeroNodePeerStore) peers = mero_node_peer_store_new (store, 16, f->metrics,
                                                                   &error);
    g_auto (GStrv) a = NULL;
    g_auto (GStrv) b = NULL;

    g_assert_no_error (error);
    a = mero_node_peer_store_lookup (peers, PEER_A);
    b = mero_node_peer_store_lookup (peers, PEER_B);
    g_assert_cmpuint (g_strv_length (a), ==, 2);
    g_assert_true (g_strv_contains ((const char *const *) a,
                                    "/ip4/127.0.0.1/tcp/40001/p2p/" PEER_A));
    g_assert_true (g_strv_contains ((const char *const *) a,
                                    "/ip4/127.0.0.1/tcp/40002/p2p/" PEER_A));
    g_assert_cmpuint (g_strv_length (b), ==, 2);
    g_assert_cmpstr (b[0], ==, "/ip4/127.0.0.1/tcp/40005/p2p/" PEER_B);
    g_assert_cmpfloat (gauge (f, "mero_peer_store_peers"), ==, 2);
  }
  /* A smaller bound at the next start: the least recently seen peer (A)
   * is forgotten, on disk too. */
  {
    g_autoptr (MeroStore) store = open_store (f);
    g_autoptr (MeroNodePeerStore) peers = NULL;
    MeroPeerStore *core;

    /* The bound is at least 1; a store of one peer keeps B. */
    peers = mero_node_peer_store_new (store, 1, f->metrics, &error);
    g_assert_no_error (error);
    core = mero_node_peer_store_get_core (peers);
    g_assert_cmpuint (mero_peer_store_count (core), ==, 1);
    g_assert_cmpint (mero_peer_store_last_seen (core, PEER_A), ==, 0);
    g_assert_cmpuint (count_records (store), ==, 1);
  }
}

/* A corrupt record is dropped at load, not fatal. */
static void
test_corrupt_record (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStore) store = open_store (f);
  g_autoptr (MeroNodePeerStore) peers = NULL;
  MeroKey key;
  static const guint8 bad_id[] = { 0x00, 0x03, 1, 2, 3 };

  g_assert_true (mero_key_peer (&key, bad_id, sizeof bad_id));
  g_assert_true (mero_store_put (store, &key, (const guint8 *) "x", 1, &error));
  /* Its deletion is logged as a warning: expected here, not fatal. */
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  peers = mero_node_peer_store_new (store, 0, f->metrics, &error);
  g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  g_assert_no_error (error);
  g_assert_nonnull (peers);
  g_assert_cmpuint (count_records (store), ==, 0);
}

/* ---- the redial of members: run-time bootstrap entries ---- */

typedef struct {
  GPtrArray *dialled;
} Dials;

static gboolean
record_dial (const char *multiaddr, gpointer user_data, GError **error)
{
  Dials *d = user_data;

  g_ptr_array_add (d->dialled, g_strdup (multiaddr));
  return TRUE;
}

static void
test_bootstrap_add (void)
{
  Dials d = { g_ptr_array_new_with_free_func (g_free) };
  g_autoptr (MeroNodeBootstrap) bootstrap =
      mero_node_bootstrap_new (NULL, 10 * G_USEC_PER_SEC, record_dial, &d);
  const char *a1 = "/ip4/127.0.0.1/tcp/1111/p2p/" PEER_A;
  const char *b1 = "/ip4/127.0.0.1/tcp/2222/p2p/" PEER_B;

  /* Before start: kept, dialled by start. */
  g_assert_true (mero_node_bootstrap_add (bootstrap, a1, MERO_NODE_BOOTSTRAP_MEMBER));
  g_assert_false (mero_node_bootstrap_add (bootstrap, a1, MERO_NODE_BOOTSTRAP_MEMBER));
  g_assert_false (mero_node_bootstrap_add (bootstrap, "/ip4/127.0.0.1/tcp/1",
                                           MERO_NODE_BOOTSTRAP_MEMBER));
  g_assert_cmpuint (d.dialled->len, ==, 0);
  mero_node_bootstrap_start (bootstrap);
  g_assert_cmpuint (d.dialled->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (d.dialled, 0), ==, a1);
  g_assert_true (mero_node_bootstrap_tracks (bootstrap, PEER_A));
  g_assert_false (mero_node_bootstrap_tracks (bootstrap, PEER_B));

  /* After start, for a connected peer: tracked, not dialled. */
  mero_node_bootstrap_peer_connected (bootstrap, PEER_B);
  g_assert_true (mero_node_bootstrap_add (bootstrap, b1, MERO_NODE_BOOTSTRAP_MEMBER));
  g_assert_cmpuint (d.dialled->len, ==, 1);
  g_assert_cmpuint (mero_node_bootstrap_count_pending (bootstrap), ==, 1);
  /* A connects: nothing pending; B leaves: redialled (after back-off). */
  mero_node_bootstrap_peer_connected (bootstrap, PEER_A);
  g_assert_cmpuint (mero_node_bootstrap_count_pending (bootstrap), ==, 0);
  mero_node_bootstrap_peer_disconnected (bootstrap, PEER_B);
  g_assert_cmpuint (mero_node_bootstrap_count_pending (bootstrap), ==, 1);
  g_assert_false (mero_node_bootstrap_is_connected (bootstrap, PEER_B));
  g_assert_true (mero_node_bootstrap_is_connected (bootstrap, PEER_A));

  /* Bounded. */
  for (guint i = 0; i < MERO_BOOTSTRAP_MAX_ADDED; i++)
    {
      g_autofree char *a = g_strdup_printf ("/ip4/10.0.%u.%u/tcp/1/p2p/%s", i / 250, i % 250,
                                            PEER_A);

      mero_node_bootstrap_add (bootstrap, a, MERO_NODE_BOOTSTRAP_MEMBER);
    }
  g_assert_false (mero_node_bootstrap_add (bootstrap, "/ip4/10.9.9.9/tcp/1/p2p/" PEER_A,
                                           MERO_NODE_BOOTSTRAP_MEMBER));
  g_clear_pointer (&bootstrap, mero_node_bootstrap_free);
  g_ptr_array_unref (d.dialled);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/peer-store/refuses-unusable", test_refuses_unusable);
  g_test_add_func ("/peer-store/merge", test_merge);
  g_test_add_func ("/peer-store/address-bound", test_address_bound);
  g_test_add_func ("/peer-store/eviction", test_eviction);
  g_test_add_func ("/peer-store/eviction-keeps-members", test_eviction_keeps_members);
  g_test_add_func ("/peer-store/record-round-trip", test_record_round_trip);
  g_test_add ("/peer-store/persisted", Fixture, NULL, fixture_set_up, test_persisted,
              fixture_tear_down);
  g_test_add ("/peer-store/corrupt-record", Fixture, NULL, fixture_set_up, test_corrupt_record,
              fixture_tear_down);
  g_test_add_func ("/peer-store/bootstrap-add", test_bootstrap_add);
  return g_test_run ();
}
