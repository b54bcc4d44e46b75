/* The host's MeroStateAccess (ABI 1.1) over the real state engine: the
 * tree walk by owner and slots in bounded pages, refusals that leave a
 * writer usable, all-or-nothing commits, and merges that keep the CRDT
 * rules (an older write never overwrites, a delete wins a tie, the writer
 * id breaks ties, merging twice changes nothing). */
#include <string.h>

#include "context/state/mero-state-access.h"
#include "sync-sim.h"

static const MeroStateAccess *sa;

static MeroStateEntity
entity (guint8 id_byte, const guint8 parent[32], guint64 updated, guint64 node, const char *data)
{
  MeroStateEntity e = { .struct_size = sizeof e, .crdt_type = 1 };

  memset (e.id, id_byte, 32);
  memcpy (e.parent_id, parent, 32);
  e.updated_at = updated << 16;
  e.updated_node = node;
  e.created_at = e.updated_at;
  e.data = (const uint8_t *) data;
  e.data_len = strlen (data);
  return e;
}

static void
merge_commit (MeroStateHandle *h, const MeroStateEntity *e)
{
  g_autoptr (GError) error = NULL;

  sa->merge_entity (h, e, &error);
  g_assert_no_error (error);
}

static void
root_of (MeroStateHandle *h, guint8 out[32])
{
  g_autoptr (GError) error = NULL;

  sa->get_root_hash (h, out, &error);
  g_assert_no_error (error);
}

static void
test_layout (void)
{
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (1);
  MeroStateLayout l;

  sa->get_layout (sync_sim_replica_handle (r), &l);
  g_assert_cmpuint (l.struct_size, ==, sizeof l);
  g_assert_cmpuint (l.bucket_levels, ==, 4);
  g_assert_cmpuint (l.bucket_fanout, ==, 16);
  g_assert_cmpuint (l.max_depth, ==, 16);
  g_assert_cmpuint (l.max_data, ==, 256 * 1024);
}

/* Walks the node with pages of one child, checking every page; returns
 * the entity children found (id + hash) in @out. */
static void
walk (MeroStateHandle *h, const guint8 owner[32], guint8 *path, gsize path_len, GArray *out)
{
  guint8 after[32];
  gboolean first = TRUE, more = TRUE;
  guint seen_slots = 0;

  while (more)
    {
      MeroStateChild c;
      gsize n = 0;
      g_autoptr (GError) error = NULL;

      sa->list_children (h, owner, path, path_len, first ? NULL : after, &c, 1, &n, &more,
                         &error);
      g_assert_no_error (error);
      if (n == 0)
        {
          g_assert_false (more);
          break;
        }
      g_assert_cmpuint (n, ==, 1);
      if (!first)
        g_assert_cmpint (memcmp (c.id, after, 32), >, 0);
      memcpy (after, c.id, 32);
      first = FALSE;
      if (path_len < 4)
        {
          g_assert_cmpuint (c.kind, ==, MERO_STATE_NODE_BUCKET);
          g_assert_cmpuint (c.slot, <, 16);
          /* Each slot once. */
          g_assert_false (seen_slots & (1u << c.slot));
          seen_slots |= 1u << c.slot;
          path[path_len] = (guint8) c.slot;
          walk (h, owner, path, path_len + 1, out);
        }
      else
        {
          g_assert_cmpuint (c.kind, ==, MERO_STATE_NODE_ENTITY);
          g_assert_cmpuint (c.slot, ==, 0);
          g_array_append_val (out, c);
        }
    }
}

static void
test_list_children (void)
{
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (1);
  MeroStateHandle *h = sync_sim_replica_handle (r);
  g_autoptr (GArray) found = g_array_new (FALSE, FALSE, sizeof (MeroStateChild));
  g_autoptr (GError) error = NULL;
  guint8 path[8] = { 0 };
  guint8 bad[5] = { 0 };
  guint8 unknown[32];
  MeroStateChild c;
  gsize n = 9;
  gboolean more = TRUE;

  for (guint i = 1; i <= 40; i++)
    {
      g_autofree char *data = g_strdup_printf ("v%u", i);
      MeroStateEntity e = entity ((guint8) i, sync_sim_context_id, i, 1, data);

      merge_commit (h, &e);
    }
  walk (h, sync_sim_context_id, path, 0, found);
  g_assert_cmpuint (found->len, ==, 40);
  for (guint i = 0; i < found->len; i++)
    {
      const MeroStateChild *fc = &g_array_index (found, MeroStateChild, i);
      MeroStateEntity e = { .struct_size = sizeof e };
      gboolean ok = FALSE;

      sa->get_entity (h, fc->id, &e, &ok, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      /* The hash in the listing is the entity's full hash. */
      g_assert_cmpmem (e.full_hash, 32, fc->full_hash, 32);
    }

  /* Bounds: deeper than the bucket levels, a slot out of range. */
  g_assert_false (sa->list_children (h, sync_sim_context_id, bad, 5, NULL, &c, 1, &n, &more,
                                     &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE);
  g_clear_error (&error);
  bad[0] = 16;
  g_assert_false (sa->list_children (h, sync_sim_context_id, bad, 1, NULL, &c, 1, &n, &more,
                                     &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE);
  g_clear_error (&error);
  /* A node the state does not have has no children. */
  memset (unknown, 0x77, 32);
  g_assert_true (sa->list_children (h, unknown, NULL, 0, NULL, &c, 1, &n, &more, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);
  g_assert_false (more);
}

static void
test_writer (void)
{
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (1);
  g_autoptr (SyncSimReplica) ref = sync_sim_replica_new (2);
  MeroStateHandle *h = sync_sim_replica_handle (r);
  MeroStateWriter *w;
  g_autoptr (GError) error = NULL;
  guint8 before[32], after[32], committed[32], expected[32];
  guint8 parent_id[32];
  MeroStateEntity parent = entity (0x10, sync_sim_context_id, 5, 1, "map");
  MeroStateEntity child;
  MeroStateEntity moved;

  memset (parent_id, 0x10, 32);
  child = entity (0x11, parent_id, 6, 1, "leaf");
  root_of (h, before);

  w = sa->writer_new (h);
  /* The child first: its parent is unknown, refused, writer still usable. */
  g_assert_false (sa->writer_merge (w, &child, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED);
  g_clear_error (&error);
  g_assert_true (sa->writer_merge (w, &parent, &error));
  g_assert_true (sa->writer_merge (w, &child, &error));
  g_assert_no_error (error);
  /* Nothing reaches the state before commit. */
  root_of (h, after);
  g_assert_cmpmem (before, 32, after, 32);
  g_assert_true (sa->writer_commit (w, committed, &error));
  g_assert_no_error (error);
  root_of (h, after);
  g_assert_cmpmem (committed, 32, after, 32);
  g_assert_false (memcmp (before, after, 32) == 0);

  /* The same entities merged one by one elsewhere: the same root. */
  merge_commit (sync_sim_replica_handle (ref), &parent);
  merge_commit (sync_sim_replica_handle (ref), &child);
  root_of (sync_sim_replica_handle (ref), expected);
  g_assert_cmpmem (expected, 32, after, 32);

  /* Moving an entity to another parent is refused on its own. */
  moved = entity (0x11, sync_sim_context_id, 9, 1, "moved");
  g_assert_false (sa->writer_merge (w, &moved, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED);
  g_clear_error (&error);

  /* An uncommitted writer is dropped whole. */
  {
    MeroStateEntity more = entity (0x12, parent_id, 7, 1, "dropped");

    g_assert_true (sa->writer_merge (w, &more, &error));
    sa->writer_free (w);
    root_of (h, before);
    g_assert_cmpmem (before, 32, after, 32);
  }
}

static void
test_merge_rules (void)
{
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (1);
  MeroStateHandle *h = sync_sim_replica_handle (r);
  g_autoptr (GError) error = NULL;
  MeroStateEntity got = { .struct_size = sizeof got };
  gboolean found = FALSE;
  guint8 a[32], b[32];
  MeroStateEntity v1 = entity (0x20, sync_sim_context_id, 10, 1, "new");
  MeroStateEntity old = entity (0x20, sync_sim_context_id, 5, 1, "old");
  MeroStateEntity tie_low = entity (0x21, sync_sim_context_id, 10, 1, "low");
  MeroStateEntity tie_high = entity (0x21, sync_sim_context_id, 10, 2, "high");
  MeroStateEntity dead = entity (0x20, sync_sim_context_id, 10, 1, "new");

  merge_commit (h, &v1);
  merge_commit (h, &old);
  sa->get_entity (h, v1.id, &got, &found, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (got.data, got.data_len, "new", 3);

  /* Same time, different writers: the higher writer id wins, in any order. */
  merge_commit (h, &tie_high);
  merge_commit (h, &tie_low);
  sa->get_entity (h, tie_low.id, &got, &found, &error);
  g_assert_cmpmem (got.data, got.data_len, "high", 4);
  g_assert_cmpuint (got.updated_node, ==, 2);

  /* A delete at the update's own time wins the tie (a tombstone). */
  dead.deleted_at = dead.updated_at;
  dead.deleted_node = dead.updated_node;
  merge_commit (h, &dead);
  sa->get_entity (h, dead.id, &got, &found, &error);
  g_assert_true (found);
  g_assert_cmpuint (got.deleted_at, ==, dead.deleted_at);

  /* Merging again changes nothing. */
  root_of (h, a);
  merge_commit (h, &dead);
  merge_commit (h, &tie_high);
  root_of (h, b);
  g_assert_cmpmem (a, 32, b, 32);
}

static void
test_no_dag_heads (void)
{
  g_autoptr (SyncSimReplica) r = sync_sim_replica_new (1);
  g_autoptr (GError) error = NULL;
  guint8 heads[64];
  gsize n = 5;

  g_assert_true (sa->get_dag_heads (sync_sim_replica_handle (r), heads, 2, &n, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  sa = mero_state_access_get ();
  g_test_add_func ("/state-access/layout", test_layout);
  g_test_add_func ("/state-access/list-children", test_list_children);
  g_test_add_func ("/state-access/writer", test_writer);
  g_test_add_func ("/state-access/merge-rules", test_merge_rules);
  g_test_add_func ("/state-access/no-dag-heads", test_no_dag_heads);
  return g_test_run ();
}
