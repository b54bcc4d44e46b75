/* Restart on RocksDB: reopening gives the same root, heads and pending
 * set; a writer SIGKILLed between commits leaves a store whose root is
 * exactly the replay of the deltas it holds. */
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "context-test-util.h"

typedef struct {
  TestClock clock;
  char *dir;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  f->clock.now_ms = 1700000000000;
  f->dir = mero_test_make_tmpdir ("mero-context-test");
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  mero_test_remove_tree (f->dir);
  g_free (f->dir);
}

static GBytes *
kv_set (TestReplica *r, const char *key, const char *value)
{
  g_autoptr (GError) error = NULL;
  GBytes *env = NULL;

  mero_kv_set (r->ds, key, (const guint8 *) value, strlen (value), &env, &error);
  g_assert_no_error (error);
  return env;
}

typedef struct {
  char *root;
  char *kv;
  GBytes *heads;
  guint pending;
  GPtrArray *missing;
} View;

static void
view_take (TestReplica *r, View *v)
{
  guint n;
  const guint8 *h = mero_delta_store_heads (r->ds, &n);

  v->root = test_root_hex (r);
  v->kv = test_kv_dump (r);
  v->heads = g_bytes_new (h, n * 32);
  v->pending = mero_delta_store_pending_count (r->ds);
  v->missing = mero_delta_store_missing_parents (r->ds);
}

static void
view_assert_equal (View *a, View *b)
{
  g_assert_cmpstr (a->root, ==, b->root);
  g_assert_cmpstr (a->kv, ==, b->kv);
  g_assert_true (g_bytes_equal (a->heads, b->heads));
  g_assert_cmpuint (a->pending, ==, b->pending);
  g_assert_cmpuint (a->missing->len, ==, b->missing->len);
  for (guint i = 0; i < a->missing->len; i++)
    g_assert_true (g_bytes_equal (g_ptr_array_index (a->missing, i),
                                  g_ptr_array_index (b->missing, i)));
}

static void
view_clear (View *v)
{
  g_free (v->root);
  g_free (v->kv);
  g_bytes_unref (v->heads);
  g_ptr_array_unref (v->missing);
}

static void
test_reopen (Fixture *f, gconstpointer data)
{
  g_autoptr (TestReplica) src = test_replica_new (1, &f->clock, NULL);
  g_autoptr (TestReplica) disk = test_replica_new (2, &f->clock, f->dir);
  GBytes *d[6];
  View before, after;
  g_autofree char *want = NULL, *got = NULL;

  for (guint i = 0; i < 6; i++)
    {
      g_autofree char *k = g_strdup_printf ("k%u", i);

      d[i] = kv_set (src, k, "v");
    }
  /* 0, 1 applied; 3, 4, 5 pending (2 missing). */
  test_replica_receive (disk, d[0]);
  test_replica_receive (disk, d[1]);
  for (guint i = 3; i < 6; i++)
    g_assert_cmpint (test_replica_receive (disk, d[i]), ==, MERO_DELTA_OUTCOME_PENDING);
  g_bytes_unref (kv_set (disk, "local", "x"));   /* a local head beside */
  view_take (disk, &before);
  g_assert_cmpuint (before.pending, ==, 3);

  test_replica_reopen (disk, &f->clock);
  view_take (disk, &after);
  view_assert_equal (&before, &after);
  view_clear (&after);
  view_clear (&before);

  /* The missing parent arrives after the restart: the cascade runs. */
  g_assert_cmpint (test_replica_receive (disk, d[2]), ==, MERO_DELTA_OUTCOME_APPLIED);
  g_assert_cmpuint (mero_delta_store_pending_count (disk->ds), ==, 0);
  want = test_kv_dump (src);
  got = test_kv_dump (disk);
  g_assert_nonnull (strstr (got, "k5=v;"));
  g_assert_nonnull (strstr (got, "local=x;"));
  for (guint i = 0; i < 6; i++)
    g_bytes_unref (d[i]);
}

/* Child: writes until killed, reporting each committed call on @fd. */
static void G_GNUC_NORETURN
writer_child (const char *dir, int fd)
{
  TestClock clock = { 1700000000000 };
  TestReplica *r = test_replica_new (7, &clock, dir);

  for (guint i = 0;; i++)
    {
      g_autofree char *k = g_strdup_printf ("key%u", i % 50);
      g_autofree char *v = g_strdup_printf ("value%u", i);
      g_autoptr (GBytes) env = NULL;
      g_autoptr (GError) error = NULL;
      gboolean removed;
      char one = 1;

      clock.now_ms++;
      if (i % 7 == 3)
        mero_kv_remove (r->ds, k, &removed, &env, &error);
      else
        mero_kv_set (r->ds, k, (const guint8 *) v, strlen (v), &env, &error);
      if (error != NULL)
        _exit (2);
      /* Acknowledge commits only (removing an absent key commits none). */
      if (env != NULL && write (fd, &one, 1) != 1)
        _exit (3);
    }
}

static void
test_kill_between_writes (Fixture *f, gconstpointer data)
{
  int fds[2];
  pid_t pid;
  guint acked = 0;
  int status = 0;
  char c;
  g_autoptr (TestReplica) disk = NULL;
  g_autoptr (TestReplica) replay = NULL;
  g_autoptr (MeroStoreIter) it = NULL;
  MeroKey prefix = mero_key_prefix_deltas (test_context_id);
  g_autofree char *r1 = NULL, *r2 = NULL, *k1 = NULL, *k2 = NULL;
  guint n_deltas = 0;
  guint kill_after = 150 + (guint) g_test_rand_int_range (0, 100);

  g_assert_cmpint (pipe (fds), ==, 0);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      close (fds[0]);
      writer_child (f->dir, fds[1]);
    }
  close (fds[1]);
  while (acked < kill_after && read (fds[0], &c, 1) == 1)
    acked++;
  g_assert_cmpuint (acked, ==, kill_after);
  kill (pid, SIGKILL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFSIGNALED (status));
  /* The child kept committing between our last read and the kill (on a
   * loaded machine, several calls): its acknowledgements are still in the
   * pipe, and the writer end is closed now, so read them to EOF. */
  while (read (fds[0], &c, 1) == 1)
    acked++;
  close (fds[0]);

  disk = test_replica_new (8, &f->clock, f->dir);
  replay = test_replica_new (9, &f->clock, NULL);
  /* Every delta the store holds, replayed into a fresh replica in key
   * (that is, random) order, must give the same root and contents. */
  it = mero_store_iter_new (disk->store, NULL, &prefix);
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *k = mero_store_iter_key (it, &klen);
      g_autoptr (GBytes) env = NULL;
      g_autoptr (GError) error = NULL;
      gboolean applied = FALSE;

      mero_delta_store_is_applied (disk->ds, k + 32, &applied, &error);
      g_assert_no_error (error);
      g_assert_true (applied);
      mero_delta_store_get_envelope (disk->ds, k + 32, &env, &error);
      g_assert_no_error (error);
      test_replica_receive (replay, env);
      n_deltas++;
    }
  /* Acknowledged commits survived; at most the one in flight more. */
  g_assert_cmpuint (n_deltas, >=, acked);
  g_assert_cmpuint (n_deltas, <=, acked + 1);
  g_assert_cmpuint (mero_delta_store_pending_count (replay->ds), ==, 0);
  r1 = test_root_hex (disk);
  r2 = test_root_hex (replay);
  g_assert_cmpstr (r1, ==, r2);
  k1 = test_kv_dump (disk);
  k2 = test_kv_dump (replay);
  g_assert_cmpstr (k1, ==, k2);
  {
    guint n1, n2;
    const guint8 *h1 = mero_delta_store_heads (disk->ds, &n1);
    const guint8 *h2 = mero_delta_store_heads (replay->ds, &n2);

    g_assert_cmpuint (n1, ==, 1);
    g_assert_cmpmem (h1, n1 * 32, h2, n2 * 32);
  }
  /* And it keeps working. */
  g_bytes_unref (kv_set (disk, "after", "restart"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/restart/reopen", Fixture, NULL, fixture_setup, test_reopen, fixture_teardown);
  g_test_add ("/restart/kill-between-writes", Fixture, NULL, fixture_setup,
              test_kill_between_writes, fixture_teardown);
  return g_test_run ();
}
