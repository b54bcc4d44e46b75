#define _GNU_SOURCE /* memmem */
/* test-contexts.c: the NodeManager (mero-contexts.h) of three nodes over
 * an in-memory transport: real stores (memory backend), real groups,
 * deltas and crypto; gossip and stream requests are delivered from the
 * main loop, so ordering and re-entrancy are as with the network.
 *
 * Checked: join with an invitation and catch up history sealed under the
 * key before the join; writes reach everyone and roots converge; a delta
 * whose broadcast was skipped is fetched as a missing parent; a removed
 * member's later writes are refused and it cannot read new ones; a
 * forged invitation and undecodable gossip are refused and counted (and
 * gossipsub told to reject the latter); a non-member's HashHeartbeats
 * start no fetch and are counted, relayed by a member too (membership is
 * the author's), and its
 * subscription to the context topic queues no sync; a failed
 * fetch is retried, after a back-off, against another member that
 * announced the head; a heartbeat naming a head that is pending (its
 * parent's fetch failed) fetches the missing ancestry at once. */
#include <sodium.h>
#include <string.h>

#include "node/mero-broadcast.h"
#include "net/mero-base58.h"
#include "net/mero-peer-id.h"
#include "node/mero-contexts.h"
#include "node/mero-contexts-keys.h"
#include "node/mero-contexts-private.h"
#include "plugin/mero-host-services.h"
#include "key-share-core.h"
#include "key-share-wire.h"
#include "store-memory-core.h"
#include "node/mero-contexts-tee.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-quote.h"
#include "tee/mero-tee-refusal.h"

/* plugins/key-share, linked in (MERO_PLUGIN_STATIC). */
const MeroPluginDescriptor *mero_plugin_key_share_get_descriptor (void);

#define N_NODES 3
/* fetch_grace_ms of the managers the next fixture starts. */
static guint test_grace_ms;
/* TRUE: the next fixture's nodes run without the key-share plugin. */
static gboolean test_no_key_share;
/* tombstone_retention_ms of the managers the next fixture starts. */
static guint64 test_retention_ms;
#define WAIT_ITERATIONS 20000

typedef struct _Hub Hub;

typedef struct {
  Hub *hub;
  guint index;
  char *peer_id;
  MeroStore *store;
  MeroMetrics *metrics;
  MeroContexts *contexts;
  GHashTable *topics;     /* subscribed */
  guint syncs;
  GPtrArray *rejected;    /* "peer topic" of each message it rejected */
  gboolean deaf;          /* gossip to this node is lost */
  char *listen[2];        /* what the node says it listens on */
  GStrv dialled;          /* addresses of the last request that had some */
  guint state_changes;
  gboolean refuse_streams; /* requests to this node fail (it does not answer) */
  GPtrArray *asked;        /* peer ids this node sent requests to, in order */
  GPtrArray *asked_for;    /* and the protocol of each */
  GArray *asked_us;        /* and when (monotonic µs) */
  MeroHostServices *ks_host;  /* the key-share plugin this node runs key/1 with */
  MeroLoadedSyncProtocol ks;
} Node;

struct _Hub {
  Node nodes[N_NODES];
  guint in_flight;
};

typedef struct {
  Node *to;
  char *topic;
  char *from;
  GBytes *data;
} Delivery;

static gboolean
deliver (gpointer user_data)
{
  Delivery *d = user_data;

  if (d->to->contexts != NULL && g_hash_table_contains (d->to->topics, d->topic))
    mero_contexts_handle_message (d->to->contexts, d->topic, d->from, d->from,
                                  g_bytes_get_data (d->data, NULL), g_bytes_get_size (d->data));
  d->to->hub->in_flight--;
  g_free (d->topic);
  g_free (d->from);
  g_bytes_unref (d->data);
  g_free (d);
  return G_SOURCE_REMOVE;
}

static void
t_subscribe (gpointer self, const char *topic)
{
  Node *n = self;

  g_hash_table_add (n->topics, g_strdup (topic));
}

static void
t_unsubscribe (gpointer self, const char *topic)
{
  Node *n = self;

  g_hash_table_remove (n->topics, topic);
}

static void
t_publish (gpointer self, const char *topic, GBytes *data)
{
  Node *n = self;

  for (guint i = 0; i < N_NODES; i++)
    {
      Node *to = &n->hub->nodes[i];
      Delivery *d;

      if (to == n || to->contexts == NULL || to->deaf
          || !g_hash_table_contains (to->topics, topic))
        continue;
      d = g_new0 (Delivery, 1);
      d->to = to;
      d->topic = g_strdup (topic);
      d->from = g_strdup (n->peer_id);
      d->data = g_bytes_ref (data);
      n->hub->in_flight++;
      g_idle_add (deliver, d);
    }
}

typedef struct {
  Node *from;
  Node *to;
  char *protocol;
  GBytes *request;
  MeroNodeResponseFunc done;
  gpointer data;
} Exchange;

static gboolean
exchange (gpointer user_data)
{
  Exchange *x = user_data;
  g_autoptr (GBytes) response = NULL;
  g_autoptr (GError) error = NULL;

  if (x->to != NULL && x->to->refuse_streams)
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED, "stream refused");
  else if (x->to != NULL && x->to->contexts != NULL)
    response = mero_contexts_serve (x->to->contexts, x->from->peer_id, x->protocol,
                                    g_bytes_get_data (x->request, NULL),
                                    g_bytes_get_size (x->request));
  else
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no such peer");
  x->done (response, error, x->data);
  x->from->hub->in_flight--;
  g_free (x->protocol);
  g_bytes_unref (x->request);
  g_free (x);
  return G_SOURCE_REMOVE;
}

static void
t_request (gpointer self, const char *peer_id, const char *const *addresses, const char *protocol,
           GBytes *request, MeroNodeResponseFunc done, gpointer user_data)
{
  Node *n = self;
  Exchange *x = g_new0 (Exchange, 1);

  x->from = n;
  {
    gint64 now = g_get_monotonic_time ();

    g_ptr_array_add (n->asked, g_strdup (peer_id));
    g_ptr_array_add (n->asked_for, g_strdup (protocol));
    g_array_append_val (n->asked_us, now);
  }
  if (addresses != NULL)
    {
      g_strfreev (n->dialled);
      n->dialled = g_strdupv ((char **) addresses);
    }
  for (guint i = 0; i < N_NODES; i++)
    if (g_strcmp0 (n->hub->nodes[i].peer_id, peer_id) == 0)
      x->to = &n->hub->nodes[i];
  x->protocol = g_strdup (protocol);
  x->request = g_bytes_ref (request);
  x->done = done;
  x->data = user_data;
  n->hub->in_flight++;
  g_idle_add (exchange, x);
}

static GStrv
t_topic_peers (gpointer self, const char *topic)
{
  Node *n = self;
  g_autoptr (GStrvBuilder) b = g_strv_builder_new ();

  for (guint i = 0; i < N_NODES; i++)
    if (&n->hub->nodes[i] != n && n->hub->nodes[i].contexts != NULL
        && g_hash_table_contains (n->hub->nodes[i].topics, topic))
      g_strv_builder_add (b, n->hub->nodes[i].peer_id);
  return g_strv_builder_end (b);
}

static void
t_sync (gpointer self, const char *context_id, const char *peer_id)
{
  ((Node *) self)->syncs++;
}

static void
t_reject (gpointer self, const char *peer_id, const char *topic)
{
  g_ptr_array_add (((Node *) self)->rejected, g_strdup_printf ("%s %s", peer_id, topic));
}

static const MeroNodeTransport memory_transport = {
  t_subscribe, t_unsubscribe, t_publish, t_request, t_topic_peers, t_sync, NULL, NULL,
  t_reject,
};

static void
on_state (const char *context_id, const char *root, const char *const *heads, gpointer data)
{
  ((Node *) data)->state_changes++;
}

static const char *const *
listen_addresses (gpointer data)
{
  return (const char *const *) ((Node *) data)->listen;
}

static void
hub_up (Hub *hub)
{
  for (guint i = 0; i < N_NODES; i++)
    {
      Node *n = &hub->nodes[i];
      guint8 seed[32] = { 0 }, pk[32], sk[64];
      g_autoptr (GError) error = NULL;
      MeroContextsConfig config = { 0 };

      seed[0] = i + 1;
      crypto_sign_seed_keypair (pk, sk, seed);
      n->hub = hub;
      n->index = i;
      n->store = mero_store_open (&mero_store_memory_vtable, NULL, "memory", NULL, &error);
      g_assert_no_error (error);
      n->metrics = mero_metrics_new ();
      n->topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      n->rejected = g_ptr_array_new_with_free_func (g_free);
      n->asked = g_ptr_array_new_with_free_func (g_free);
      n->asked_for = g_ptr_array_new_with_free_func (g_free);
      n->asked_us = g_array_new (FALSE, FALSE, sizeof (gint64));
      config.store = n->store;
      config.metrics = n->metrics;
      config.secret_key = sk;
      config.transport = &memory_transport;
      config.transport_data = n;
      config.state_changed = on_state;
      config.state_changed_data = n;
      n->listen[0] = g_strdup_printf ("/ip4/0.0.0.0/tcp/%u/p2p/%s", 2428 + i, n->peer_id);
      config.fetch_grace_ms = test_grace_ms;
      config.tombstone_retention_ms = test_retention_ms;
      config.listen_addresses = listen_addresses;
      config.listen_addresses_data = n;
      n->contexts = mero_contexts_new (&config, &error);
      g_assert_no_error (error);
      {
        const MeroPluginDescriptor *d = mero_plugin_key_share_get_descriptor ();

        n->ks_host = mero_host_services_new (d->name, d->kind, n->metrics, NULL);
        g_assert_true (d->init (n->ks_host, &n->ks.plugin_data, &error));
        g_assert_no_error (error);
        n->ks.vtable = d->vtable;
        if (!test_no_key_share)
          mero_contexts_set_key_share (n->contexts, &n->ks);
      }
    }
}

static void
hub_down (Hub *hub)
{
  for (guint i = 0; i < N_NODES; i++)
    {
      Node *n = &hub->nodes[i];

      g_clear_pointer (&n->contexts, mero_contexts_free);
    }
  /* Let deliveries in flight drain into nothing. */
  while (hub->in_flight > 0)
    g_main_context_iteration (NULL, TRUE);
  for (guint i = 0; i < N_NODES; i++)
    {
      Node *n = &hub->nodes[i];

      mero_plugin_key_share_get_descriptor ()->finalize (n->ks.plugin_data);
      mero_host_services_free (n->ks_host);
      mero_store_close (n->store);
      mero_metrics_unref (n->metrics);
      g_hash_table_unref (n->topics);
      g_clear_pointer (&n->rejected, g_ptr_array_unref);
      g_ptr_array_unref (n->asked);
      g_ptr_array_unref (n->asked_for);
      g_array_unref (n->asked_us);
      g_free (n->listen[0]);
      g_strfreev (n->dialled);
      g_free (n->peer_id);
    }
}

/* Runs the loop until nothing is in flight (bounded). */
static void
settle (Hub *hub)
{
  for (guint i = 0; i < WAIT_ITERATIONS && (hub->in_flight > 0 || g_main_context_pending (NULL));
       i++)
    g_main_context_iteration (NULL, FALSE);
  g_assert_cmpuint (hub->in_flight, ==, 0);
}

static char *
call (Node *n, const char *ctx, const char *method, const char *args, GError **error)
{
  return mero_contexts_call (n->contexts, ctx, method, args, error);
}

static char *
get (Node *n, const char *ctx, const char *key)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", key);

  return call (n, ctx, "get", args, NULL);
}

static void
set (Node *n, const char *ctx, const char *key, const char *json)
{
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\",\"value\":%s}", key, json);
  g_autoptr (GError) error = NULL;
  g_autofree char *r = call (n, ctx, "set", args, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (r, ==, "null");
}

static char *
root (Node *n, const char *ctx)
{
  g_autoptr (GVariant) info = mero_contexts_info (n->contexts, ctx, NULL);
  char *r = NULL;

  g_assert_nonnull (info);
  g_variant_lookup (info, "root_hash", "s", &r);
  return r;
}

static void
on_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  char **out = user_data;
  g_autoptr (GError) error = NULL;

  *out = mero_contexts_join_finish (NULL, result, &error);
  g_assert_no_error (error);
}

static void
join (Hub *hub, Node *inviter, Node *joiner, const char *ctx)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *inv = mero_contexts_invite (inviter->contexts, ctx, joiner->peer_id, 0, &error);
  g_autofree char *joined = NULL;

  g_assert_no_error (error);
  mero_contexts_join_async (joiner->contexts, inv, on_joined, &joined);
  settle (hub);
  g_assert_cmpstr (joined, ==, ctx);
}

static void
set_peer_ids (Hub *hub)
{
  for (guint i = 0; i < N_NODES; i++)
    {
      guint8 seed[32] = { 0 }, pk[32], sk[64];
      g_autoptr (MeroPeerId) id = NULL;

      seed[0] = i + 1;
      crypto_sign_seed_keypair (pk, sk, seed);
      id = mero_peer_id_new_from_ed25519 (pk);
      hub->nodes[i].peer_id = mero_peer_id_to_string (id);
    }
}

typedef struct {
  Hub hub;
  char *ctx;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *group = NULL;

  memset (&f->hub, 0, sizeof f->hub);
  set_peer_ids (&f->hub);
  hub_up (&f->hub);
  g_assert_true (mero_contexts_create (f->hub.nodes[0].contexts, "kv", &f->ctx, &group, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (group), ==, 64);
}

static void
fixture_set_up_grace (Fixture *f, gconstpointer data)
{
  test_grace_ms = 20;
  fixture_set_up (f, data);
  test_grace_ms = 0;
}

static void
fixture_set_up_short_retention (Fixture *f, gconstpointer data)
{
  test_retention_ms = 1;
  fixture_set_up (f, data);
  test_retention_ms = 0;
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  hub_down (&f->hub);
  g_free (f->ctx);
}

static void
test_join_and_converge (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autofree char *ra = NULL, *rb = NULL, *rc = NULL, *v = NULL, *w = NULL, *x = NULL;

  set (a, f->ctx, "early", "1");
  set (a, f->ctx, "early2", "\"two\"");
  settle (&f->hub);
  join (&f->hub, a, b, f->ctx);
  v = get (b, f->ctx, "early2");
  g_assert_cmpstr (v, ==, "\"two\"");   /* history under the pre-join key */
  /* The invitation carried dialable addresses: the wildcard listen
   * address became interface addresses, loopback among them. */
  g_assert_nonnull (b->dialled);
  {
    g_autofree char *all = g_strjoinv (" ", b->dialled);
    g_autofree char *loop = g_strdup_printf ("/ip4/127.0.0.1/tcp/2428/p2p/%s", a->peer_id);

    g_assert_null (strstr (all, "0.0.0.0"));
    g_assert_true (g_strv_contains ((const char *const *) b->dialled, loop)
                   || g_strv_length (b->dialled) == 3);
  }
  join (&f->hub, a, c, f->ctx);
  set (b, f->ctx, "b", "[1]");
  set (c, f->ctx, "c", "{\"x\":1}");
  set (a, f->ctx, "same", "\"a\"");
  set (b, f->ctx, "same", "\"b\"");
  settle (&f->hub);
  w = get (a, f->ctx, "c");
  g_assert_cmpstr (w, ==, "{\"x\":1}");
  x = get (c, f->ctx, "b");
  g_assert_cmpstr (x, ==, "[1]");
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  rc = root (c, f->ctx);
  g_assert_cmpstr (ra, !=, "");
  g_assert_cmpstr (ra, ==, rb);
  g_assert_cmpstr (ra, ==, rc);
  g_assert_cmpuint (b->state_changes, >, 0);
  {
    g_autofree char *va = get (a, f->ctx, "same"), *vc = get (c, f->ctx, "same");

    g_assert_cmpstr (va, ==, vc);   /* concurrent writes converge to one value */
  }
}

static void
test_long_history (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autofree char *ra = NULL, *rb = NULL, *first = NULL, *last = NULL;

  /* More than one answer's worth and one rotation in the middle: B walks
   * back over several rounds and needs both keys. */
  for (guint i = 0; i < 300; i++)
    {
      g_autofree char *key = g_strdup_printf ("k%u", i);
      g_autofree char *value = g_strdup_printf ("%u", i);

      set (a, f->ctx, key, value);
      if (i == 150)
        {
          join (&f->hub, a, &f->hub.nodes[2], f->ctx);
          settle (&f->hub);
        }
    }
  settle (&f->hub);
  join (&f->hub, a, b, f->ctx);
  settle (&f->hub);
  first = get (b, f->ctx, "k0");
  last = get (b, f->ctx, "k299");
  g_assert_cmpstr (first, ==, "0");
  g_assert_cmpstr (last, ==, "299");
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  g_assert_cmpstr (ra, ==, rb);
}

typedef struct {
  Node *node;
  const char *ctx;
  const char *key;
  const char *expect;
} KeyWait;

/* Runs the loop (timers included) until @w's key has its value, at most
 * 5 s of real time. */
static gboolean
wait_key (Hub *hub, KeyWait *w)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < deadline)
    {
      g_autofree char *v = get (w->node, w->ctx, w->key);

      if (g_strcmp0 (v, w->expect) == 0)
        return TRUE;
      g_main_context_iteration (NULL, hub->in_flight == 0 ? TRUE : FALSE);
    }
  return FALSE;
}

static gboolean
wake (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_missing_parent_after_grace (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  KeyWait w = { b, f->ctx, "hidden", "1" };
  guint tick = g_timeout_add (5, wake, NULL);
  guint64 before;

  join (&f->hub, a, b, f->ctx);
  g_assert_true (mero_contexts_skip_broadcasts (a->contexts, f->ctx, 1, NULL));
  set (a, f->ctx, "hidden", "1");
  set (a, f->ctx, "visible", "2");
  before = mero_metrics_get_counter (b->metrics, "mero_node_stream_requests_total",
                                     "protocol=\"/calimero/stream/delta/1\",result=\"ok\"");
  settle (&f->hub);
  /* The parent that never came by gossip is fetched once the grace is
   * over (once: the grace gathers what is missing into one request). */
  g_assert_true (wait_key (&f->hub, &w));
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_stream_requests_total",
                                              "protocol=\"/calimero/stream/delta/1\",result=\"ok\""),
                    ==, before + 1);
  g_source_remove (tick);
}

static void
test_tombstone_gc (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autofree char *ra = NULL, *rb = NULL, *ra2 = NULL, *rb2 = NULL, *r = NULL, *len = NULL;
  guint removed_a, removed_b;

  join (&f->hub, a, b, f->ctx);
  for (guint i = 0; i < 20; i++)
    {
      g_autofree char *key = g_strdup_printf ("t%u", i);
      g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", key);
      g_autofree char *gone = NULL;

      set (a, f->ctx, key, "1");
      gone = call (a, f->ctx, "remove", args, NULL);
      g_assert_cmpstr (gone, ==, "true");
    }
  set (a, f->ctx, "kept", "2");
  settle (&f->hub);
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  g_assert_cmpstr (ra, ==, rb);
  g_usleep (20 * 1000);   /* past the 1 ms retention of this fixture */
  removed_a = mero_contexts_gc (a->contexts);
  removed_b = mero_contexts_gc (b->contexts);
  g_assert_cmpuint (removed_a, >=, 20);
  g_assert_cmpuint (removed_b, >=, 20);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_node_gc_removed_total", NULL),
                    ==, removed_a);
  /* Collection changes no hash, and the context still works. */
  ra2 = root (a, f->ctx);
  rb2 = root (b, f->ctx);
  g_assert_cmpstr (ra2, ==, ra);
  g_assert_cmpstr (rb2, ==, rb);
  len = call (b, f->ctx, "len", "{}", NULL);
  g_assert_cmpstr (len, ==, "1");
  set (b, f->ctx, "after", "3");
  settle (&f->hub);
  r = get (a, f->ctx, "after");
  g_assert_cmpstr (r, ==, "3");
}

static void
test_join_again_is_a_no_op (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autofree char *inv = NULL, *again = NULL, *joined_c = NULL;
  guint ops_before;
  g_autoptr (GVariant) groups = NULL, first = NULL;

  join (&f->hub, a, b, f->ctx);
  inv = mero_contexts_invite (a->contexts, f->ctx, "", 0, NULL);
  groups = mero_contexts_list_groups (a->contexts);
  first = g_variant_get_child_value (groups, 0);
  g_assert_true (g_variant_lookup (first, "n_ops", "u", &ops_before));
  /* B, already a member: the context id at once, nothing published... */
  mero_contexts_join_async (b->contexts, inv, on_joined, &again);
  settle (&f->hub);
  g_assert_cmpstr (again, ==, f->ctx);
  {
    g_autoptr (GVariant) groups2 = mero_contexts_list_groups (a->contexts);
    g_autoptr (GVariant) first2 = g_variant_get_child_value (groups2, 0);
    guint ops_after = 0;

    g_assert_true (g_variant_lookup (first2, "n_ops", "u", &ops_after));
    g_assert_cmpuint (ops_after, ==, ops_before);
  }
  /* ...and the invitation is still good for C. */
  mero_contexts_join_async (c->contexts, inv, on_joined, &joined_c);
  settle (&f->hub);
  g_assert_cmpstr (joined_c, ==, f->ctx);
}

static void
test_large_value (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  GString *big = g_string_new ("\"");
  g_autofree char *args = NULL, *r = NULL, *len_b = NULL;
  g_autoptr (GError) error = NULL;

  join (&f->hub, a, b, f->ctx);
  /* Close to the entity bound (256 KiB): one delta, replicated whole. */
  while (big->len < 250 * 1000)
    g_string_append (big, "0123456789abcdef");
  g_string_append_c (big, '"');
  args = g_strdup_printf ("{\"key\":\"big\",\"value\":%s}", big->str);
  g_string_free (big, TRUE);
  r = call (a, f->ctx, "set", args, &error);
  g_assert_no_error (error);
  settle (&f->hub);
  len_b = call (b, f->ctx, "len", "{}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (len_b, ==, "1");
}

static void
test_missing_parent_fetched (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autofree char *v1 = NULL, *v2 = NULL, *ra = NULL, *rb = NULL;

  join (&f->hub, a, b, f->ctx);
  g_assert_true (mero_contexts_skip_broadcasts (a->contexts, f->ctx, 1, NULL));
  set (a, f->ctx, "hidden", "1");
  settle (&f->hub);
  v1 = get (b, f->ctx, "hidden");
  g_assert_cmpstr (v1, ==, "null");   /* never broadcast: B cannot know yet */
  set (a, f->ctx, "visible", "2");
  settle (&f->hub);
  v2 = get (b, f->ctx, "hidden");
  g_assert_cmpstr (v2, ==, "1");      /* fetched as the missing parent */
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  g_assert_cmpstr (ra, ==, rb);
}

static void
test_removed_member (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autoptr (GError) error = NULL;
  g_autofree char *evil = NULL, *seen = NULL, *secret = NULL;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  g_assert_true (mero_contexts_remove_member (a->contexts, f->ctx, c->peer_id, &error));
  g_assert_no_error (error);
  settle (&f->hub);
  /* C knows it is out: it refuses to write. */
  evil = call (c, f->ctx, "set", "{\"key\":\"evil\",\"value\":1}", &error);
  g_assert_null (evil);
  g_assert_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NOT_ALLOWED);
  g_clear_error (&error);
  set (a, f->ctx, "secret", "\"ab\"");
  settle (&f->hub);
  secret = get (b, f->ctx, "secret");
  g_assert_cmpstr (secret, ==, "\"ab\"");
  seen = get (c, f->ctx, "secret");
  g_assert_cmpstr (seen, ==, "null");   /* sealed under a key C never got */
  /* C left the context topic; the group topic stays (it hears governance). */
  g_assert_false (g_hash_table_contains (c->topics, f->ctx));
  g_assert_true (g_hash_table_contains (a->topics, f->ctx));
  {
    g_autoptr (GVariant) groups_c = mero_contexts_list_groups (c->contexts);
    g_autoptr (GVariant) groups_b = mero_contexts_list_groups (b->contexts);

    g_assert_cmpuint (g_variant_n_children (groups_c), ==, 0);
    g_assert_cmpuint (g_variant_n_children (groups_b), ==, 1);
  }
}

static void
test_snapshot_buffer (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autofree char *during = NULL, *after = NULL, *ra = NULL, *rb = NULL;

  join (&f->hub, a, b, f->ctx);
  g_assert_true (mero_contexts_set_sync_active (b->contexts, f->ctx, TRUE, NULL));
  set (a, f->ctx, "k1", "1");
  set (a, f->ctx, "k2", "2");
  settle (&f->hub);
  during = get (b, f->ctx, "k2");
  g_assert_cmpstr (during, ==, "null");   /* buffered, not applied */
  g_assert_true (mero_contexts_set_sync_active (b->contexts, f->ctx, FALSE, NULL));
  settle (&f->hub);
  after = get (b, f->ctx, "k2");
  g_assert_cmpstr (after, ==, "2");       /* replayed in (hlc, id) order */
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  g_assert_cmpstr (ra, ==, rb);
}

static void
test_group_heartbeat_catch_up (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autoptr (GVariant) info = NULL;
  g_autofree const char **members = NULL;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  c->deaf = TRUE;   /* C misses the removal of B */
  g_assert_true (mero_contexts_remove_member (a->contexts, f->ctx, b->peer_id, NULL));
  settle (&f->hub);
  c->deaf = FALSE;
  info = mero_contexts_info (c->contexts, f->ctx, NULL);
  g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
  g_assert_true (g_strv_contains (members, b->peer_id));
  g_clear_pointer (&info, g_variant_unref);
  g_clear_pointer (&members, g_free);
  /* A's periodic GroupStateHeartbeat names a head C lacks: C fetches
   * (and C's own heartbeat, with heads A knows, makes A push the ops). */
  mero_contexts_heartbeat (a->contexts);
  settle (&f->hub);
  info = mero_contexts_info (c->contexts, f->ctx, NULL);
  g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
  g_assert_false (g_strv_contains (members, b->peer_id));
}

static void
test_group_delta_push (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autoptr (GVariant) info = NULL;
  g_autofree const char **members = NULL;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  c->deaf = TRUE;
  g_assert_true (mero_contexts_remove_member (a->contexts, f->ctx, b->peer_id, NULL));
  settle (&f->hub);
  c->deaf = FALSE;
  /* C's heartbeat shows old heads: A answers with a GroupGovernanceDelta. */
  mero_contexts_heartbeat (c->contexts);
  settle (&f->hub);
  info = mero_contexts_info (c->contexts, f->ctx, NULL);
  g_assert_true (g_variant_lookup (info, "members", "^a&s", &members));
  g_assert_false (g_strv_contains (members, b->peer_id));
}

static void
test_root_mismatch (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autoptr (GVariant) info = NULL;
  g_autoptr (MeroBroadcast) hb = mero_broadcast_new (MERO_BROADCAST_HASH_HEARTBEAT);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) ctx_id = NULL;
  g_autofree const char **heads = NULL;
  guint syncs;

  join (&f->hub, a, b, f->ctx);
  set (a, f->ctx, "x", "1");
  settle (&f->hub);
  /* Same heads as B, another root: non-determinism, logged and counted. */
  info = mero_contexts_info (b->contexts, f->ctx, NULL);
  g_assert_true (g_variant_lookup (info, "heads", "^a&s", &heads));
  g_assert_cmpuint (g_strv_length ((char **) heads), ==, 1);
  {
    g_autoptr (GBytes) head = mero_base58_decode (heads[0]);

    ctx_id = mero_base58_decode (f->ctx);
    memcpy (hb->id, g_bytes_get_data (ctx_id, NULL), 32);
    mero_id_array_add (hb->heads, g_bytes_get_data (head, NULL));
  }
  hb->has_root = TRUE;
  memset (hb->root, 0x42, 32);
  bytes = mero_broadcast_encode (hb);
  syncs = b->syncs;
  /* The warning it logs must not abort the test (structured logging has
   * no g_test_expect_message). */
  {
    GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);

    mero_contexts_handle_message (b->contexts, f->ctx, a->peer_id, a->peer_id,
                                  g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    g_log_set_always_fatal (fatal);
  }
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_root_mismatch_total", NULL),
                    ==, 1);
  g_assert_cmpuint (b->syncs, ==, syncs + 1);
  /* On the wrong topic the same message is dropped and counted. */
  mero_contexts_handle_message (b->contexts, "elsewhere", a->peer_id, a->peer_id,
                                g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"wrong_topic\""),
                    ==, 1);
}

static void
test_bad_input (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  static const guint8 junk[] = { 0xde, 0xad, 0xbe, 0xef };
  g_autoptr (GError) error = NULL;
  g_autofree char *inv = mero_contexts_invite (a->contexts, f->ctx, "", 0, &error);
  g_autofree char *forged = NULL;
  g_autofree char *joined = NULL;
  g_autoptr (GBytes) resp = NULL;
  g_autoptr (MeroStreamMsg) msg = NULL;

  g_assert_no_error (error);
  mero_contexts_handle_message (a->contexts, f->ctx, b->peer_id, b->peer_id, junk, sizeof junk);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"malformed\""),
                    ==, 1);
  /* Gossipsub is told to reject it (validation result "reject": the
   * relay's P4), once, naming the relay and the topic. */
  {
    g_autofree char *expected = g_strdup_printf ("%s %s", b->peer_id, f->ctx);

    g_assert_cmpuint (a->rejected->len, ==, 1);
    g_assert_cmpstr (g_ptr_array_index (a->rejected, 0), ==, expected);
  }
  /* A variant of a later version (a field we do not know) is dropped
   * and counted, but not rejected: its relay did nothing wrong. */
  {
    static const guint8 newer[] = { 0xa0, 0x01, 0x01 };

    mero_contexts_handle_message (a->contexts, f->ctx, b->peer_id, b->peer_id, newer,
                                  sizeof newer);
    g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_node_messages_dropped_total",
                                                "reason=\"unknown_variant\""),
                      ==, 1);
    g_assert_cmpuint (a->rejected->len, ==, 1);
  }
  /* One character changed in the middle of the base58. */
  forged = g_strdup (inv);
  forged[strlen (forged) / 2] = forged[strlen (forged) / 2] == 'A' ? 'B' : 'A';
  mero_contexts_join_async (b->contexts, forged, (GAsyncReadyCallback) NULL, NULL);
  settle (&f->hub);
  g_assert_cmpuint (mero_contexts_count (b->contexts), ==, 0);
  /* A key request from a non-member is refused. */
  {
    g_autoptr (MeroStreamMsg) req = mero_stream_msg_new (MERO_STREAM_KEY_REQUEST);
    g_autoptr (GBytes) bytes = NULL;
    g_autoptr (GVariant) groups = mero_contexts_list_groups (a->contexts);
    g_autoptr (GVariant) first = g_variant_get_child_value (groups, 0);
    const char *hex = NULL;

    g_assert_true (g_variant_lookup (first, "group_id", "&s", &hex));
    for (guint i = 0; i < 32; i++)
      sscanf (hex + 2 * i, "%2hhx", &req->id[i]);
    mero_id_array_add (req->ids, req->id);
    bytes = mero_stream_msg_encode (req);
    resp = mero_contexts_serve (a->contexts, b->peer_id, "/calimero/stream/key/1",
                                g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    msg = mero_stream_msg_decode (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp), NULL);
    g_assert_nonnull (msg);
    g_assert_cmpint (msg->kind, ==, MERO_STREAM_ERROR);
    g_assert_cmpstr (msg->reason, ==, "not a member");    /* Refused by the key-share plugin, counted by it and by the node. */
    g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_sync_refusals_total",
                                                "protocol=\"key-share\",reason=\"not-a-member\""),
                      ==, 1);
    g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_node_stream_requests_total",
                                                "protocol=\"/calimero/stream/key/1\","
                                                "result=\"refused\""),
                      ==, 1);
  }
  /* So is its request for deltas. */
  {
    g_autoptr (MeroStreamMsg) req = mero_stream_msg_new (MERO_STREAM_DELTA_REQUEST);
    g_autoptr (GBytes) ctx_id = mero_base58_decode (f->ctx);
    g_autoptr (GBytes) bytes = NULL, answer = NULL;
    g_autoptr (MeroStreamMsg) refused = NULL;

    memcpy (req->id, g_bytes_get_data (ctx_id, NULL), 32);
    req->want_heads = TRUE;
    bytes = mero_stream_msg_encode (req);
    answer = mero_contexts_serve (a->contexts, b->peer_id, "/calimero/stream/delta/1",
                                  g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    refused = mero_stream_msg_decode (g_bytes_get_data (answer, NULL),
                                      g_bytes_get_size (answer), NULL);
    g_assert_nonnull (refused);
    g_assert_cmpint (refused->kind, ==, MERO_STREAM_ERROR);
    g_assert_cmpstr (refused->reason, ==, "not a member");
  }
}

/* A HashHeartbeat naming @head for @ctx, as @author published it and
 * @from relayed it. */
static void
hear_relayed_heartbeat (Node *to, const char *ctx, const char *from, const char *author,
                        const guint8 head[32])
{
  g_autoptr (MeroBroadcast) hb = mero_broadcast_new (MERO_BROADCAST_HASH_HEARTBEAT);
  g_autoptr (GBytes) ctx_id = mero_base58_decode (ctx);
  g_autoptr (GBytes) bytes = NULL;

  memcpy (hb->id, g_bytes_get_data (ctx_id, NULL), 32);
  mero_id_array_add (hb->heads, head);
  hb->has_root = TRUE;
  memset (hb->root, 0x42, 32);
  bytes = mero_broadcast_encode (hb);
  mero_contexts_handle_message (to->contexts, ctx, from, author, g_bytes_get_data (bytes, NULL),
                                g_bytes_get_size (bytes));
}

/* … as @from published it. */
static void
hear_heartbeat (Node *to, const char *ctx, const char *from, const guint8 head[32])
{
  hear_relayed_heartbeat (to, ctx, from, from, head);
}

static void
test_non_member_heartbeat (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  guint8 head[32];
  guint asked, syncs;

  join (&f->hub, a, b, f->ctx);
  randombytes_buf (head, sizeof head);
  asked = b->asked->len;
  /* C is no member: the head it names (real or not) is nobody's business
   * here: no fetch, no sync, one counted drop per heartbeat. */
  for (guint i = 0; i < 3; i++)
    hear_heartbeat (b, f->ctx, c->peer_id, head);
  settle (&f->hub);
  g_assert_cmpuint (b->asked->len, ==, asked);
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"non_member_heartbeat\""),
                    ==, 3);
  /* Nor does C subscribing to the context topic queue a sync with it
   * (the queue holds one trigger per context: it would stand in for a
   * member's). */
  syncs = b->syncs;
  mero_contexts_peer_subscribed (b->contexts, c->peer_id, f->ctx);
  settle (&f->hub);
  g_assert_cmpuint (b->syncs, ==, syncs);
  mero_contexts_peer_subscribed (b->contexts, a->peer_id, f->ctx);
  settle (&f->hub);
  g_assert_cmpuint (b->syncs, ==, syncs + 1);
  /* The same heartbeat from the member A is acted on: B asks A. */
  hear_heartbeat (b, f->ctx, a->peer_id, head);
  settle (&f->hub);
  g_assert_cmpuint (b->asked->len, ==, asked + 1);
  g_assert_cmpstr (g_ptr_array_index (b->asked, asked), ==, a->peer_id);
}

/* Membership is the heartbeat's author's (the signed publisher), not the
 * relay's: gossip relays whatever it hears. */
static void
test_relayed_heartbeat (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  guint8 head[32];
  guint asked;

  join (&f->hub, a, b, f->ctx);
  asked = b->asked->len;
  /* C (no member) wrote it, the member A relays it: dropped and counted,
   * no fetch. */
  randombytes_buf (head, sizeof head);
  hear_relayed_heartbeat (b, f->ctx, a->peer_id, c->peer_id, head);
  settle (&f->hub);
  g_assert_cmpuint (b->asked->len, ==, asked);
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"non_member_heartbeat\""),
                    ==, 1);
  /* Without an author (an unsigned message) it is no member's either. */
  hear_relayed_heartbeat (b, f->ctx, a->peer_id, NULL, head);
  settle (&f->hub);
  g_assert_cmpuint (b->asked->len, ==, asked);
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"non_member_heartbeat\""),
                    ==, 2);
  /* The member A wrote it, C relays it: acted on, and B asks A (the
   * author), not the non-member that relayed it. */
  hear_relayed_heartbeat (b, f->ctx, c->peer_id, a->peer_id, head);
  settle (&f->hub);
  g_assert_cmpuint (b->asked->len, ==, asked + 1);
  g_assert_cmpstr (g_ptr_array_index (b->asked, asked), ==, a->peer_id);
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_messages_dropped_total",
                                              "reason=\"non_member_heartbeat\""),
                    ==, 2);
}

static void
test_fetch_retried (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  KeyWait w = { b, f->ctx, "late", "1" };
  guint tick = g_timeout_add (5, wake, NULL);
  guint asked;
  gint64 failed_at, retried_at;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  b->deaf = TRUE;   /* B misses the write; A and C have it */
  set (a, f->ctx, "late", "1");
  settle (&f->hub);
  b->deaf = FALSE;
  c->refuse_streams = TRUE;
  asked = b->asked->len;
  /* C announces first (B asks it, and it fails), then A. */
  mero_contexts_heartbeat (c->contexts);
  mero_contexts_heartbeat (a->contexts);
  g_assert_true (wait_key (&f->hub, &w));
  /* B asked C (maybe twice: C's own post-apply heartbeat also names the
   * head) and failed, then A, which answered, once the back-off was over. */
  failed_at = retried_at = 0;
  for (guint i = asked; i < b->asked->len; i++)
    {
      const char *to = g_ptr_array_index (b->asked, i);
      gint64 at = g_array_index (b->asked_us, gint64, i);

      if (!g_str_equal (g_ptr_array_index (b->asked_for, i), "/calimero/stream/delta/1"))
        continue;
      if (g_str_equal (to, c->peer_id) && failed_at == 0)
        failed_at = at;
      else if (g_str_equal (to, a->peer_id) && retried_at == 0)
        retried_at = at;
    }
  g_assert_cmpint (failed_at, !=, 0);
  g_assert_cmpint (retried_at, >, failed_at);
  g_assert_cmpint (retried_at - failed_at, >=, 150 * 1000);
  g_assert_cmpuint (mero_metrics_get_counter (b->metrics, "mero_node_stream_requests_total",
                                              "protocol=\"/calimero/stream/delta/1\","
                                              "result=\"failed\""),
                    >=, 1);
  g_source_remove (tick);
}

static void
test_pending_head_named_again (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autofree char *before = NULL, *after = NULL, *ra = NULL, *rb = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autofree const char **heads = NULL;
  g_autoptr (GBytes) head = NULL;

  join (&f->hub, a, b, f->ctx);
  g_assert_true (mero_contexts_skip_broadcasts (a->contexts, f->ctx, 1, NULL));
  set (a, f->ctx, "hidden", "1");
  a->refuse_streams = TRUE;
  set (a, f->ctx, "visible", "2");   /* pending at B; its parent's fetch fails */
  settle (&f->hub);
  before = get (b, f->ctx, "visible");
  g_assert_cmpstr (before, ==, "null");
  a->refuse_streams = FALSE;
  /* A names its head, the delta B holds but cannot apply: B fetches the
   * missing ancestry now (not only when some retry timer fires). */
  info = mero_contexts_info (a->contexts, f->ctx, NULL);
  g_assert_true (g_variant_lookup (info, "heads", "^a&s", &heads));
  head = mero_base58_decode (heads[0]);
  hear_heartbeat (b, f->ctx, a->peer_id, g_bytes_get_data (head, NULL));
  settle (&f->hub);
  after = get (b, f->ctx, "hidden");
  g_assert_cmpstr (after, ==, "1");
  ra = root (a, f->ctx);
  rb = root (b, f->ctx);
  g_assert_cmpstr (ra, ==, rb);
}

/* ---- key-share: host key services and the plugin's sessions ---- */

/* The group of @n's only context, its current key id and (if @key) key. */
static Group *
only_group (Node *n, guint8 key_id[32], guint8 key[32])
{
  g_autoptr (GVariant) groups = mero_contexts_list_groups (n->contexts);
  g_autoptr (GVariant) first = g_variant_get_child_value (groups, 0);
  const char *hex = NULL;
  guint8 gid[32], scratch[32];
  Group *group;

  g_assert_true (g_variant_lookup (first, "group_id", "&s", &hex));
  for (guint i = 0; i < 32; i++)
    g_assert_cmpint (sscanf (hex + 2 * i, "%2hhx", &gid[i]), ==, 1);
  group = mero_contexts_group_lookup (n->contexts, gid);
  g_assert_nonnull (group);
  g_assert_true (mero_group_dag_current_key (group->dag, key_id, key != NULL ? key : scratch));
  return group;
}

/* A PeerId no node of the hub has (so a member of nothing). */
static char *
stranger_peer_id (void)
{
  guint8 seed[32] = { 0 }, pk[32], sk[64];
  g_autoptr (MeroPeerId) id = NULL;

  seed[0] = 0x77;
  crypto_sign_seed_keypair (pk, sk, seed);
  id = mero_peer_id_new_from_ed25519 (pk);
  return mero_peer_id_to_string (id);
}

static void
test_key_services (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autofree char *stranger = stranger_peer_id ();
  g_autoptr (GError) error = NULL;
  guint8 key_id[32], key[32], sealed[MERO_KEY_SEALED_LEN], garbage[MERO_KEY_SEALED_LEN];
  guint8 unknown[32];
  gboolean found = TRUE;
  Group *ga, *gb;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  ga = only_group (a, key_id, key);
  gb = only_group (b, key_id, NULL);
  /* Not a member: refused, nothing sealed. */
  g_assert_false (mero_contexts_key_seal_for_peer (a->contexts, ga->id, stranger, key_id, sealed,
                                                   &found, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED);
  g_assert_cmpstr (error->message, ==, "not a member");
  g_assert_false (found);
  g_clear_error (&error);
  /* A key this node does not hold: not found, not an error. */
  memset (unknown, 0x5a, sizeof unknown);
  g_assert_true (mero_contexts_key_seal_for_peer (a->contexts, ga->id, b->peer_id, unknown, sealed,
                                                  &found, &error));
  g_assert_no_error (error);
  g_assert_false (found);
  /* A member gets it sealed to itself and installs it. */
  g_assert_true (mero_contexts_key_seal_for_peer (a->contexts, ga->id, b->peer_id, key_id, sealed,
                                                  &found, &error));
  g_assert_no_error (error);
  g_assert_true (found);
  g_assert_null (memmem (sealed, sizeof sealed, key, sizeof key));
  /* c cannot open a box sealed to b. */
  g_assert_false (mero_contexts_key_open_install (c->contexts, ga->id, key_id, sealed, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* Nor does b accept it as another key id, or garbage. */
  g_assert_false (mero_contexts_key_open_install (b->contexts, ga->id, unknown, sealed, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  memset (garbage, 0xa5, sizeof garbage);
  g_assert_false (mero_contexts_key_open_install (b->contexts, ga->id, key_id, garbage, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
  g_clear_error (&error);
  /* b drops its copy; the box puts the very key back. */
  g_hash_table_remove (gb->keys, key_id);
  g_assert_true (mero_contexts_key_open_install (b->contexts, ga->id, key_id, sealed, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (g_hash_table_lookup (gb->keys, key_id), 32, key, 32);
}

typedef struct {
  MeroHostServices *host;
  void *plugin_data;
  const MeroSyncProtocolVTable *vt;
} KeyShare;

static void
key_share_up (KeyShare *k, Node *n)
{
  const MeroPluginDescriptor *d = mero_plugin_key_share_get_descriptor ();
  g_autoptr (GError) error = NULL;

  k->host = mero_host_services_new (d->name, d->kind, n->metrics, NULL);
  g_assert_true (d->init (k->host, &k->plugin_data, &error));
  g_assert_no_error (error);
  k->vt = d->vtable;
  g_assert_cmpstr (k->vt->protocol_id, ==, "/calimero/stream/key/1");
}

static void
key_share_down (KeyShare *k)
{
  mero_plugin_key_share_get_descriptor ()->finalize (k->plugin_data);
  mero_host_services_free (k->host);
}

static MeroSyncSession *
key_session (KeyShare *k, Node *n, MeroSyncRole role, const char *peer, const guint8 group_id[32],
             const guint8 *key_ids, gsize n_key_ids)
{
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  g_autoptr (GError) error = NULL;
  MeroSyncSession *s;

  params.role = role;
  if (group_id != NULL)
    memcpy (params.context_id, group_id, 32);
  params.peer_id = peer;
  params.now_us = 1000;
  params.keys = mero_contexts_key_handle (n->contexts);
  params.key_ids = key_ids;
  params.n_key_ids = n_key_ids;
  s = k->vt->session_new (k->plugin_data, &params, &error);
  g_assert_no_error (error);
  g_assert_nonnull (s);
  return s;
}

/* Everything @s wants to send, as one buffer. */
static GBytes *
drain (KeyShare *k, MeroSyncSession *s)
{
  GByteArray *out = g_byte_array_new ();
  GBytes *b;

  while ((b = k->vt->pull_send (s)) != NULL)
    {
      g_byte_array_append (out, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      g_bytes_unref (b);
    }
  return g_byte_array_free_to_bytes (out);
}

static void
test_key_share_plugin (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1], *c = &f->hub.nodes[2];
  g_autofree char *stranger = stranger_peer_id ();
  KeyShare ka, kb, kc;
  guint8 key_id[32], key[32];
  MeroSyncSession *req, *srv;
  g_autoptr (GBytes) ask = NULL, answer = NULL;
  g_autoptr (GError) error = NULL;
  MeroSyncSessionStats stats;
  Group *ga, *gb;

  join (&f->hub, a, b, f->ctx);
  join (&f->hub, a, c, f->ctx);
  ga = only_group (a, key_id, key);
  gb = only_group (b, key_id, NULL);
  key_share_up (&ka, a);
  key_share_up (&kb, b);
  key_share_up (&kc, c);
  g_assert_cmpuint (ka.vt->cost (ka.plugin_data, NULL, NULL), ==, MERO_SYNC_COST_NOT_APPLICABLE);

  /* A member (b) asks a: the key comes back sealed, b installs it. */
  g_hash_table_remove (gb->keys, key_id);
  req = key_session (&kb, b, MERO_SYNC_ROLE_INITIATOR, a->peer_id, ga->id, key_id, 1);
  ask = drain (&kb, req);
  {
    /* The very bytes the host's codec writes for the same request. */
    g_autoptr (MeroStreamMsg) m = mero_stream_msg_new (MERO_STREAM_KEY_REQUEST);
    g_autoptr (GBytes) enc = NULL, framed = NULL;

    memcpy (m->id, ga->id, 32);
    mero_id_array_add (m->ids, key_id);
    enc = mero_stream_msg_encode (m);
    framed = mero_stream_frame (enc);
    g_assert_true (g_bytes_equal (ask, framed));
  }
  srv = key_session (&ka, a, MERO_SYNC_ROLE_RESPONDER, b->peer_id, NULL, NULL, 0);
  g_assert_true (ka.vt->recv (srv, g_bytes_get_data (ask, NULL), g_bytes_get_size (ask), 2000,
                              &error));
  g_assert_no_error (error);
  g_assert_cmpint (ka.vt->status (srv), ==, MERO_SYNC_STATUS_DONE);
  answer = drain (&ka, srv);
  {
    /* The host's codec reads the answer: one key, sealed, not in clear. */
    g_autoptr (GByteArray) buf = g_byte_array_new ();
    g_autoptr (GBytes) body = NULL;
    g_autoptr (MeroStreamMsg) m = NULL;

    g_byte_array_append (buf, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
    g_assert_true (mero_stream_frame_pop (buf, &body, &error));
    g_assert_nonnull (body);
    m = mero_stream_msg_decode (g_bytes_get_data (body, NULL), g_bytes_get_size (body), &error);
    g_assert_no_error (error);
    g_assert_cmpint (m->kind, ==, MERO_STREAM_KEY_RESPONSE);
    g_assert_cmpuint (m->keys->len, ==, 1);
    g_assert_null (memmem (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer), key, 32));
  }
  ka.vt->session_free (srv);
  /* Split anywhere: the first byte alone, then the rest. */
  g_assert_true (kb.vt->recv (req, g_bytes_get_data (answer, NULL), 1, 3000, &error));
  g_assert_cmpint (kb.vt->status (req), ==, MERO_SYNC_STATUS_RUNNING);
  g_assert_true (kb.vt->recv (req, (const guint8 *) g_bytes_get_data (answer, NULL) + 1,
                              g_bytes_get_size (answer) - 1, 3000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (kb.vt->status (req), ==, MERO_SYNC_STATUS_DONE);
  kb.vt->get_stats (req, &stats);
  g_assert_cmpuint (stats.entities_transferred, ==, 1);
  g_assert_cmpmem (g_hash_table_lookup (gb->keys, key_id), 32, key, 32);
  kb.vt->session_free (req);

  /* The same answer fed to c (a member, but the box is b's) opens nothing. */
  {
    MeroSyncSession *rc = key_session (&kc, c, MERO_SYNC_ROLE_INITIATOR, a->peer_id, ga->id,
                                       key_id, 1);
    g_autoptr (GBytes) ignored = drain (&kc, rc);

    g_assert_false (kc.vt->recv (rc, g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                                 3000, &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    g_assert_cmpint (kc.vt->status (rc), ==, MERO_SYNC_STATUS_FAILED);
    g_assert_cmpuint (mero_metrics_get_counter (c->metrics, "mero_sync_refusals_total",
                                                "protocol=\"key-share\",reason=\"unopened\""),
                      ==, 1);
    kc.vt->session_free (rc);
  }

  /* Garbage and a truncated answer are refused; nothing installed. */
  {
    static const guint8 junk[] = { 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00 };
    MeroSyncSession *rg = key_session (&kb, b, MERO_SYNC_ROLE_INITIATOR, a->peer_id, ga->id,
                                       key_id, 1);
    MeroSyncSession *rt = key_session (&kb, b, MERO_SYNC_ROLE_INITIATOR, a->peer_id, ga->id,
                                       key_id, 1);

    g_assert_false (kb.vt->recv (rg, junk, sizeof junk, 3000, &error));
    g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
    g_clear_error (&error);
    g_assert_cmpint (kb.vt->status (rg), ==, MERO_SYNC_STATUS_FAILED);
    g_assert_true (kb.vt->recv (rt, g_bytes_get_data (answer, NULL),
                                g_bytes_get_size (answer) - 1, 3000, &error));
    g_assert_cmpint (kb.vt->status (rt), ==, MERO_SYNC_STATUS_RUNNING);
    g_assert_cmpint (kb.vt->next_deadline (rt), ==, 1000 + KEY_SHARE_SESSION_TIMEOUT_US);
    g_assert_false (kb.vt->handle_deadline (rt, 1000 + KEY_SHARE_SESSION_TIMEOUT_US, &error));
    g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_TIMEOUT);
    g_clear_error (&error);
    g_assert_cmpint (kb.vt->status (rt), ==, MERO_SYNC_STATUS_FAILED);
    kb.vt->session_free (rg);
    kb.vt->session_free (rt);
  }

  /* A stranger is refused with the host's words, and it is counted. */
  {
    MeroSyncSession *rs = key_session (&kb, b, MERO_SYNC_ROLE_INITIATOR, a->peer_id, ga->id,
                                       key_id, 1);
    g_autoptr (GBytes) q = drain (&kb, rs);
    g_autoptr (GBytes) no = NULL;

    srv = key_session (&ka, a, MERO_SYNC_ROLE_RESPONDER, stranger, NULL, NULL, 0);
    g_assert_true (ka.vt->recv (srv, g_bytes_get_data (q, NULL), g_bytes_get_size (q), 2000,
                                &error));
    g_assert_no_error (error);
    no = drain (&ka, srv);
    g_assert_null (memmem (g_bytes_get_data (no, NULL), g_bytes_get_size (no), key, 32));
    g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_sync_refusals_total",
                                                "protocol=\"key-share\",reason=\"not-a-member\""),
                      ==, 1);
    g_assert_false (kb.vt->recv (rs, g_bytes_get_data (no, NULL), g_bytes_get_size (no), 3000,
                                 &error));
    g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED);
    g_assert_nonnull (strstr (error->message, "not a member"));
    g_clear_error (&error);
    ka.vt->session_free (srv);
    kb.vt->session_free (rs);
  }
  key_share_down (&ka);
  key_share_down (&kb);
  key_share_down (&kc);
}

static void
fixture_set_up_no_key_share (Fixture *f, gconstpointer data)
{
  test_no_key_share = TRUE;
  fixture_set_up (f, data);
  test_no_key_share = FALSE;
}

/* Without the plugin a key request is answered with an error (no key
 * leaves the node), counted, and the node says once, loudly, why. */
static void
test_key_share_not_loaded (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *b = &f->hub.nodes[1];
  g_autoptr (MeroStreamMsg) req = mero_stream_msg_new (MERO_STREAM_KEY_REQUEST);
  g_autoptr (GBytes) bytes = NULL, resp = NULL;
  g_autoptr (MeroStreamMsg) msg = NULL;
  guint8 key_id[32];
  Group *ga;

  join (&f->hub, a, b, f->ctx);
  ga = only_group (a, key_id, NULL);
  memcpy (req->id, ga->id, 32);
  mero_id_array_add (req->ids, key_id);
  bytes = mero_stream_msg_encode (req);
  /* Its warning must not abort the test (structured logging has no
   * g_test_expect_message); that it was given is in key_share_warned. */
  g_assert_false (a->contexts->key_share_warned);
  {
    GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);

    resp = mero_contexts_serve (a->contexts, b->peer_id, "/calimero/stream/key/1",
                                g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
    g_log_set_always_fatal (fatal);
  }
  g_assert_true (a->contexts->key_share_warned);
  msg = mero_stream_msg_decode (g_bytes_get_data (resp, NULL), g_bytes_get_size (resp), NULL);
  g_assert_nonnull (msg);
  g_assert_cmpint (msg->kind, ==, MERO_STREAM_ERROR);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_node_stream_requests_total",
                                              "protocol=\"/calimero/stream/key/1\","
                                              "result=\"unavailable\""),
                    ==, 1);
}

/* The join state of @n's only fleet-join; @announcing: whether it goes on. */
static char *
tee_join_state (Node *n, gboolean *announcing)
{
  g_autoptr (GVariant) info = g_variant_ref_sink (mero_contexts_tee_info (n->contexts));
  g_autoptr (GVariant) joins = g_variant_lookup_value (info, "fleet_joins",
                                                       G_VARIANT_TYPE ("aa{sv}"));
  g_autoptr (GVariant) join = NULL;
  char *state = NULL;

  g_assert_cmpuint (g_variant_n_children (joins), ==, 1);
  join = g_variant_get_child_value (joins, 0);
  g_assert_true (g_variant_lookup (join, "state", "s", &state));
  g_assert_true (g_variant_lookup (join, "announcing", "b", announcing));
  return state;
}

/* @refusal, signed by @sk (and then spoiled when @forge), as gossip on
 * @topic to @to. */
static void
send_refusal (Node *to, const char *topic, const char *from, MeroTeeRefusal *refusal,
              const guint8 sk[64], gboolean forge)
{
  g_autoptr (MeroBroadcast) msg = mero_broadcast_new (MERO_BROADCAST_TEE_REFUSAL);
  g_autoptr (GBytes) bytes = NULL;

  mero_tee_refusal_sign (refusal, sk);
  if (forge)
    refusal->signature[7] ^= 0x01;
  msg->payload = mero_tee_refusal_encode (refusal);
  bytes = mero_broadcast_encode (msg);
  mero_contexts_handle_message (to->contexts, topic, from, from, g_bytes_get_data (bytes, NULL),
                                g_bytes_get_size (bytes));
}

static guint64
dropped (Node *n, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  return mero_metrics_get_counter (n->metrics, "mero_node_messages_dropped_total", labels);
}

/* A TEE node (c) asks into a's group with a quote made elsewhere: a, the
 * admin, has no policy set, refuses (no_policy) and its signed refusal
 * comes back to c, which shows it and goes on announcing.  Refusals with
 * a spoiled signature, by a key that is not an admin, or for another
 * quote are dropped and counted; an admin's definitive one (replayed)
 * stops c's announces. */
static void
test_tee_refusal (Fixture *f, gconstpointer data)
{
  Node *a = &f->hub.nodes[0], *c = &f->hub.nodes[2];
  GLogLevelFlags fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK);
  guint8 seed[32] = { 0 }, a_pk[32], a_sk[64], c_pk[32], c_sk[64], x_pk[32], x_sk[64];
  guint8 nonce[32], report_data[64], group_id[32];
  g_autoptr (GVariant) info = mero_contexts_info (a->contexts, f->ctx, NULL);
  g_autoptr (GBytes) quote = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroTeeRefusal) refusal = mero_tee_refusal_new ();
  g_autofree char *state = NULL, *state2 = NULL;
  const char *group_hex = NULL, *topic;
  gboolean announcing = FALSE;

  seed[0] = 1;
  crypto_sign_seed_keypair (a_pk, a_sk, seed);
  seed[0] = 3;
  crypto_sign_seed_keypair (c_pk, c_sk, seed);
  seed[0] = 9;
  crypto_sign_seed_keypair (x_pk, x_sk, seed);
  g_assert_true (g_variant_lookup (info, "group_id", "&s", &group_hex));
  for (guint i = 0; i < 32; i++)
    group_id[i] = (guint8) (g_ascii_xdigit_value (group_hex[2 * i]) << 4
                            | g_ascii_xdigit_value (group_hex[2 * i + 1]));
  memset (nonce, 0x5a, sizeof nonce);
  mero_group_tee_report_data (nonce, c_pk, report_data);
  quote = mero_tee_quote_mock (report_data);
  g_assert_true (mero_contexts_tee_fleet_join (c->contexts, f->ctx, group_hex, "kv",
                                               a->listen[0], quote, &error));
  g_assert_no_error (error);
  settle (&f->hub);
  g_assert_cmpuint (mero_metrics_get_counter (a->metrics, "mero_tee_refusals_total",
                                              "event=\"sent\",reason=\"no_policy\""),
                    ==, 1);
  state = tee_join_state (c, &announcing);
  g_assert_cmpstr (state, ==, "refused: no_policy");
  g_assert_true (announcing);
  topic = mero_contexts_group_lookup (c->contexts, group_id)->topic;

  memcpy (refusal->group_id, group_id, 32);
  memcpy (refusal->member, c_pk, 32);
  mero_tee_quote_hash (quote, refusal->quote_hash);
  refusal->reason = MERO_GROUP_TEE_ADMIT_REPLAYED;
  send_refusal (c, topic, a->peer_id, refusal, a_sk, TRUE);
  g_assert_cmpuint (dropped (c, "tee_refusal_forged"), ==, 1);
  send_refusal (c, topic, a->peer_id, refusal, x_sk, FALSE);
  g_assert_cmpuint (dropped (c, "tee_refusal_not_admin"), ==, 1);
  refusal->quote_hash[0] ^= 0x01;
  send_refusal (c, topic, a->peer_id, refusal, a_sk, FALSE);
  g_assert_cmpuint (dropped (c, "tee_refusal_stale"), ==, 1);
  refusal->quote_hash[0] ^= 0x01;
  send_refusal (c, "elsewhere", a->peer_id, refusal, a_sk, FALSE);
  g_assert_cmpuint (dropped (c, "wrong_topic"), ==, 1);
  state2 = tee_join_state (c, &announcing);
  g_assert_cmpstr (state2, ==, "refused: no_policy");
  g_assert_true (announcing);

  /* the admin's own, definitive: c stops */
  send_refusal (c, topic, a->peer_id, refusal, a_sk, FALSE);
  g_clear_pointer (&state2, g_free);
  state2 = tee_join_state (c, &announcing);
  g_assert_cmpstr (state2, ==, "refused: replayed");
  g_assert_false (announcing);
  g_assert_cmpuint (mero_metrics_get_counter (c->metrics, "mero_tee_refusals_total",
                                              "event=\"received\",reason=\"replayed\""),
                    ==, 1);
  g_log_set_always_fatal (fatal);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/contexts/join-and-converge", Fixture, NULL, fixture_set_up,
              test_join_and_converge, fixture_tear_down);
  g_test_add ("/contexts/long-history", Fixture, NULL, fixture_set_up, test_long_history,
              fixture_tear_down);
  g_test_add ("/contexts/missing-parent-after-grace", Fixture, NULL, fixture_set_up_grace,
              test_missing_parent_after_grace, fixture_tear_down);
  g_test_add ("/contexts/tombstone-gc", Fixture, NULL, fixture_set_up_short_retention,
              test_tombstone_gc, fixture_tear_down);
  g_test_add ("/contexts/join-again-is-a-no-op", Fixture, NULL, fixture_set_up,
              test_join_again_is_a_no_op, fixture_tear_down);
  g_test_add ("/contexts/large-value", Fixture, NULL, fixture_set_up, test_large_value,
              fixture_tear_down);
  g_test_add ("/contexts/missing-parent-fetched", Fixture, NULL, fixture_set_up,
              test_missing_parent_fetched, fixture_tear_down);
  g_test_add ("/contexts/removed-member", Fixture, NULL, fixture_set_up, test_removed_member,
              fixture_tear_down);
  g_test_add ("/contexts/snapshot-buffer", Fixture, NULL, fixture_set_up, test_snapshot_buffer,
              fixture_tear_down);
  g_test_add ("/contexts/group-heartbeat-catch-up", Fixture, NULL, fixture_set_up,
              test_group_heartbeat_catch_up, fixture_tear_down);
  g_test_add ("/contexts/group-delta-push", Fixture, NULL, fixture_set_up, test_group_delta_push,
              fixture_tear_down);
  g_test_add ("/contexts/root-mismatch", Fixture, NULL, fixture_set_up, test_root_mismatch,
              fixture_tear_down);
  g_test_add ("/contexts/key-share/services", Fixture, NULL, fixture_set_up, test_key_services,
              fixture_tear_down);
  g_test_add ("/contexts/key-share/plugin", Fixture, NULL, fixture_set_up,
              test_key_share_plugin, fixture_tear_down);
  g_test_add ("/contexts/key-share/not-loaded", Fixture, NULL, fixture_set_up_no_key_share,
              test_key_share_not_loaded, fixture_tear_down);
  g_test_add ("/contexts/bad-input", Fixture, NULL, fixture_set_up, test_bad_input,
              fixture_tear_down);
  g_test_add ("/contexts/non-member-heartbeat", Fixture, NULL, fixture_set_up,
              test_non_member_heartbeat, fixture_tear_down);
  g_test_add ("/contexts/relayed-heartbeat", Fixture, NULL, fixture_set_up,
              test_relayed_heartbeat, fixture_tear_down);
  g_test_add ("/contexts/fetch-retried", Fixture, NULL, fixture_set_up, test_fetch_retried,
              fixture_tear_down);
  g_test_add ("/contexts/pending-head-named-again", Fixture, NULL, fixture_set_up,
              test_pending_head_named_again, fixture_tear_down);
  g_test_add ("/contexts/tee-refusal", Fixture, NULL, fixture_set_up, test_tee_refusal,
              fixture_tear_down);
  return g_test_run ();
}
