/* Unit tests for the gossipsub seen cache and message cache. */
#include "net/core/mero-gossipsub-mcache.h"
#include "net/core/mero-gossipsub-seen.h"

#define SEC G_USEC_PER_SEC

static GBytes *
id_of (guint n)
{
  return g_bytes_new (&n, sizeof n);
}

static void
test_seen_ttl (void)
{
  g_autoptr(MeroGossipsubSeen) seen = mero_gossipsub_seen_new (120 * SEC, 100);
  g_autoptr(GBytes) a = id_of (1);
  g_autoptr(GBytes) b = id_of (2);

  g_assert_true (mero_gossipsub_seen_add (seen, a, 0));
  g_assert_false (mero_gossipsub_seen_add (seen, a, 10 * SEC));
  g_assert_true (mero_gossipsub_seen_add (seen, b, 60 * SEC));
  g_assert_true (mero_gossipsub_seen_contains (seen, a));
  /* a expires at 120 s, b at 180 s. */
  mero_gossipsub_seen_expire (seen, 120 * SEC - 1);
  g_assert_true (mero_gossipsub_seen_contains (seen, a));
  mero_gossipsub_seen_expire (seen, 120 * SEC);
  g_assert_false (mero_gossipsub_seen_contains (seen, a));
  g_assert_true (mero_gossipsub_seen_contains (seen, b));
  g_assert_true (mero_gossipsub_seen_add (seen, a, 130 * SEC));
  g_assert_cmpuint (mero_gossipsub_seen_get_size (seen), ==, 2);
  g_assert_cmpuint (mero_gossipsub_seen_get_evicted (seen), ==, 0);
}

static void
test_seen_bound (void)
{
  g_autoptr(MeroGossipsubSeen) seen = mero_gossipsub_seen_new (120 * SEC, 3);

  for (guint i = 0; i < 5; i++)
    {
      g_autoptr(GBytes) id = id_of (i);

      g_assert_true (mero_gossipsub_seen_add (seen, id, 0));
    }
  g_assert_cmpuint (mero_gossipsub_seen_get_size (seen), ==, 3);
  g_assert_cmpuint (mero_gossipsub_seen_get_evicted (seen), ==, 2);
  {
    g_autoptr(GBytes) oldest = id_of (0);
    g_autoptr(GBytes) newest = id_of (4);

    g_assert_false (mero_gossipsub_seen_contains (seen, oldest));
    g_assert_true (mero_gossipsub_seen_contains (seen, newest));
  }
}

static MeroGossipsubMessage *
message_on (const char *topic)
{
  MeroGossipsubMessage *m = mero_gossipsub_message_new ();

  m->topic = g_strdup (topic);
  m->data = g_bytes_new_static ("d", 1);
  return m;
}

static void
test_mcache_windows (void)
{
  g_autoptr(MeroGossipsubMcache) mc = mero_gossipsub_mcache_new (5, 3, 100);
  g_autoptr(MeroGossipsubMessage) on_a = message_on ("a");
  g_autoptr(MeroGossipsubMessage) on_b = message_on ("b");
  g_autoptr(GBytes) first = id_of (1);
  g_autoptr(GBytes) second = id_of (2);
  g_autoptr(GBytes) other = id_of (3);
  g_autoptr(GPtrArray) ids = NULL;

  g_assert_true (mero_gossipsub_mcache_put (mc, first, on_a));
  g_assert_false (mero_gossipsub_mcache_put (mc, first, on_a));
  g_assert_true (mero_gossipsub_mcache_put (mc, other, on_b));
  mero_gossipsub_mcache_shift (mc);
  g_assert_true (mero_gossipsub_mcache_put (mc, second, on_a));

  ids = mero_gossipsub_mcache_get_gossip_ids (mc, "a");
  g_assert_cmpuint (ids->len, ==, 2);
  g_assert_true (g_bytes_equal (g_ptr_array_index (ids, 0), second)); /* newest first */
  g_clear_pointer (&ids, g_ptr_array_unref);

  /* After 3 shifts `first` is out of the gossip windows but still
   * answers IWANT; after 5 it is gone. */
  mero_gossipsub_mcache_shift (mc);
  mero_gossipsub_mcache_shift (mc);
  ids = mero_gossipsub_mcache_get_gossip_ids (mc, "a");
  g_assert_cmpuint (ids->len, ==, 1);
  g_clear_pointer (&ids, g_ptr_array_unref);
  g_assert_nonnull (mero_gossipsub_mcache_get (mc, first));
  mero_gossipsub_mcache_shift (mc);
  mero_gossipsub_mcache_shift (mc);
  g_assert_null (mero_gossipsub_mcache_get (mc, first));
  g_assert_null (mero_gossipsub_mcache_get (mc, other));
  g_assert_nonnull (mero_gossipsub_mcache_get (mc, second));
  g_assert_cmpuint (mero_gossipsub_mcache_get_size (mc), ==, 1);
}

static void
test_mcache_limits (void)
{
  g_autoptr(MeroGossipsubMcache) mc = mero_gossipsub_mcache_new (5, 3, 2);
  g_autoptr(MeroGossipsubMessage) m = message_on ("a");
  g_autoptr(GBytes) peer = g_bytes_new_static ("peer", 4);
  g_autoptr(GBytes) other_peer = g_bytes_new_static ("other", 5);

  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(GBytes) id = id_of (i);

      g_assert_true (mero_gossipsub_mcache_put (mc, id, m) == (i < 2));
    }
  g_assert_cmpuint (mero_gossipsub_mcache_get_refused (mc), ==, 1);

  {
    g_autoptr(GBytes) id = id_of (0);

    for (guint i = 0; i < 3; i++)
      g_assert_nonnull (mero_gossipsub_mcache_get_for_peer (mc, id, peer, 3));
    g_assert_null (mero_gossipsub_mcache_get_for_peer (mc, id, peer, 3));
    g_assert_nonnull (mero_gossipsub_mcache_get_for_peer (mc, id, other_peer, 3));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/net/gossipsub-cache/seen-ttl", test_seen_ttl);
  g_test_add_func ("/net/gossipsub-cache/seen-bound", test_seen_bound);
  g_test_add_func ("/net/gossipsub-cache/mcache-windows", test_mcache_windows);
  g_test_add_func ("/net/gossipsub-cache/mcache-limits", test_mcache_limits);
  return g_test_run ();
}
