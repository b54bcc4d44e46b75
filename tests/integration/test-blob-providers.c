/* test-blob-providers.c: who holds a blob, between real merod processes
 * (one private bus, loopback only), and an in-process libp2p node with a
 * fresh key as the outsider.
 *
 * - record path: A uploads with --context (meroctl over D-Bus, and over
 *   HTTP with ?context=); B accepts A's signed provider record and
 *   FindBlobProviders names A without asking anyone (no blob-have
 *   question served by A); meroctl blob providers prints it, plain,
 *   --json and over HTTP.
 * - query path: a blob A holds but never announced (no --context): B's
 *   lookup asks A over /calimero/stream/blob-have/1 and finds it; a blob
 *   nobody holds gives an empty answer.
 * - concurrent questions: 80 lookups of unannounced blobs at once all
 *   find A. B keeps at most MERO_NODE_MAX_REQUESTS_PER_PEER questions
 *   open to A, queueing the rest (mero_node_requests_queued_total), so A,
 *   which serves a peer 8 requests at once, resets none as busy. (Before,
 *   questions over 8 were reset: a fetch of a blob A held failed with "no
 *   reachable provider".) Lookups over MERO_BLOB_PROVIDERS_MAX_LOOKUPS (64)
 *   wait for a slot too, but whether 64 are ever in flight at once depends
 *   on how the calls arrive, so that is not asserted here.
 * - burst: 300 uploads with ?context= in a row become a few records
 *   (bounded by the context's announce bucket), every blob of them known
 *   to B without a question; a malformed ?context= is refused (400).
 * - outsiders: a validly signed record from a non-member, published on
 *   the context's topic, is dropped and counted by B
 *   (mero_blob_provider_records_dropped_total{reason="non_member"}), and
 *   names nobody; its blob-have question gets "not a member" and is
 *   counted (mero_blob_provider_queries_dropped_total{reason="non_member"}). */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <glib/gstdio.h>
#include <sodium.h>
#include <string.h>

#include "blob/mero-blob-error.h"
#include "blob/mero-blob-provider-record.h"
#include "mero-test-cluster.h"
#include "mero-test-net-node.h"
#include "net/mero-base58.h"
#include "node/mero-identity.h"
#include "node/mero-broadcast.h"
#include "node/mero-node-transport.h"

#define LONG_HEARTBEAT_SECS 3600
#define WAIT_MS 8000
#define REPUBLISH_MS 250
/* Uploads in the burst part; announces must coalesce into far fewer records. */
#define BURST 300
#define PUBLISHED "mero_blob_provider_records_published_total"
#define ACCEPTED "mero_blob_provider_records_accepted_total"
#define DROPPED(reason) "mero_blob_provider_records_dropped_total{reason=\"" reason "\"}"
#define QUERIES(result) "mero_blob_provider_queries_total{result=\"" result "\"}"
#define QUERIES_DROPPED(reason) \
  "mero_blob_provider_queries_dropped_total{reason=\"" reason "\"}"

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
  char *context_id;
  char *tmp;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  MeroTestNode *joiners[3] = { NULL };
  g_autoptr (GError) error = NULL;

  f->tmp = g_dir_make_tmp ("mero-blob-providers-XXXXXX", &error);
  g_assert_no_error (error);
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", LONG_HEARTBEAT_SECS);
  f->b = mero_test_cluster_add_node (f->cluster, "b", LONG_HEARTBEAT_SECS);
  mero_test_node_start (f->cluster, f->a);
  mero_test_node_start (f->cluster, f->b);
  joiners[0] = f->b;
  f->context_id = mero_test_cluster_share_context (f->cluster, f->a, joiners);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
  g_free (f->context_id);
  if (f->tmp != NULL)
    {
      g_autoptr (GDir) dir = g_dir_open (f->tmp, 0, NULL);
      const char *name;

      while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *path = g_build_filename (f->tmp, name, NULL);

          g_unlink (path);
        }
      g_rmdir (f->tmp);
      g_free (f->tmp);
    }
}

/* Writes @size bytes seeded by @seed into a file; returns its path. */
static char *
make_file (Fixture *f, const char *name, guint seed, gsize size)
{
  g_autofree guint8 *data = g_malloc (size);
  char *path = g_build_filename (f->tmp, name, NULL);
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (seed * 31 + i * 7 + (i >> 8));
  g_file_set_contents (path, (const char *) data, (gssize) size, &error);
  g_assert_no_error (error);
  return path;
}

/* meroctl blob upload on @node (extra args before the command); the id. */
static char *
upload (Fixture *f, MeroTestNode *node, const char *path, const char *url, const char *context)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  int status;

  if (url != NULL)
    {
      g_ptr_array_add (args, (gpointer) "--url");
      g_ptr_array_add (args, (gpointer) url);
    }
  g_ptr_array_add (args, (gpointer) "blob");
  g_ptr_array_add (args, (gpointer) "upload");
  g_ptr_array_add (args, (gpointer) path);
  if (context != NULL)
    {
      g_ptr_array_add (args, (gpointer) "--context");
      g_ptr_array_add (args, (gpointer) context);
    }
  g_ptr_array_add (args, NULL);
  status = mero_test_node_meroctl (node, (const char *const *) args->pdata, &out, &err);
  if (status != 0)
    g_error ("meroctl blob upload exited %d: %s", status, err);
  return g_strstrip (g_steal_pointer (&out));
}

/* (transfer full) FindBlobProviders on @node. */
static GStrv
find (Fixture *f, MeroTestNode *node, const char *blob_id)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = mero_test_node_call (
      f->cluster, node, "FindBlobProviders", g_variant_new ("(ss)", f->context_id, blob_id),
      G_VARIANT_TYPE ("(as)"), &error);
  GStrv peers = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(^as)", &peers);
  return peers;
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *series;
  guint64 value;
} MetricWait;

static gboolean
metric_reached (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, w->series) >= w->value;
}

static void
wait_metric (Fixture *f, MeroTestNode *node, const char *series, guint64 value)
{
  MetricWait w = { f, node, series, value };

  if (!mero_test_wait_until (metric_reached, &w, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("%s on %s did not reach %" G_GUINT64_FORMAT, series, node->label, value);
    }
}

static gboolean
metric_below (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, w->series) < w->value;
}

static void
wait_metric_below (Fixture *f, MeroTestNode *node, const char *series, guint64 value)
{
  MetricWait w = { f, node, series, value };

  if (!mero_test_wait_until (metric_below, &w, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("%s on %s did not fall below %" G_GUINT64_FORMAT, series, node->label, value);
    }
}

static char *
http_url (Fixture *f, MeroTestNode *node)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      mero_test_cluster_get_connection (f->cluster), node->bus_name, "/network/calimero/Node1",
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "network.calimero.Node1", "HttpAddress"), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_autoptr (GVariant) value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return g_variant_dup_string (value, NULL);
}

static void
test_record_path (Fixture *f, gconstpointer data)
{
  g_autofree char *path = make_file (f, "shared.bin", 1, 300 * 1024);
  g_autofree char *path2 = make_file (f, "shared-http.bin", 2, 1000);
  g_autofree char *url = http_url (f, f->a);
  g_autofree char *burl = http_url (f, f->b);
  g_autofree char *id = NULL, *id2 = NULL, *out = NULL, *err = NULL;
  g_auto (GStrv) peers = NULL;
  g_autofree char *json_want = NULL;

  id = upload (f, f->a, path, NULL, f->context_id);
  wait_metric (f, f->b, ACCEPTED, 1);
  peers = find (f, f->b, id);
  g_assert_cmpuint (g_strv_length (peers), ==, 1);
  g_assert_cmpstr (peers[0], ==, f->a->peer_id);
  /* Known from the record: nobody was asked. */
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, QUERIES ("served")), ==, 0);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, QUERIES ("yes")), ==, 0);

  /* The same over HTTP: PUT ?context= announces too. */
  id2 = upload (f, f->a, path2, url, f->context_id);
  wait_metric (f, f->b, ACCEPTED, 2);
  g_clear_pointer (&peers, g_strfreev);
  peers = find (f, f->b, id2);
  g_assert_cmpuint (g_strv_length (peers), ==, 1);
  g_assert_cmpstr (peers[0], ==, f->a->peer_id);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, QUERIES ("served")), ==, 0);

  /* meroctl blob providers: plain, --json, and over HTTP. */
  g_assert_cmpint (mero_test_node_meroctl (f->b, (const char *[]) { "blob", "providers", id,
                                                                    "--context", f->context_id,
                                                                    NULL },
                                           &out, &err), ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, f->a->peer_id);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  json_want = g_strdup_printf ("\"%s\"", f->a->peer_id);
  g_assert_cmpint (mero_test_node_meroctl (f->b, (const char *[]) { "--json", "blob",
                                                                    "providers", id,
                                                                    "--context", f->context_id,
                                                                    NULL },
                                           &out, &err), ==, 0);
  g_assert_nonnull (strstr (out, "\"providers\""));
  g_assert_nonnull (strstr (out, json_want));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mero_test_node_meroctl (f->b, (const char *[]) { "--url", burl, "blob",
                                                                    "providers", id2,
                                                                    "--context", f->context_id,
                                                                    NULL },
                                           &out, &err), ==, 0);
  g_assert_cmpstr (g_strstrip (out), ==, f->a->peer_id);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  /* Without --context it is a usage error. */
  g_assert_cmpint (mero_test_node_meroctl (f->b, (const char *[]) { "blob", "providers", id,
                                                                    NULL },
                                           &out, &err), ==, 2);
}

static void
test_query_path (Fixture *f, gconstpointer data)
{
  g_autofree char *path = make_file (f, "private.bin", 3, 5000);
  g_autofree char *id = NULL;
  g_auto (GStrv) peers = NULL, none = NULL;
  static const guint8 nobody[32] = { 0x42, 0x42 };
  g_autofree char *nobody_id = mero_blob_id_to_string (nobody);

  guint64 accepted = mero_test_node_metric (f->cluster, f->b, ACCEPTED);

  id = upload (f, f->a, path, NULL, NULL);   /* held, never announced */
  peers = find (f, f->b, id);
  g_assert_cmpuint (g_strv_length (peers), ==, 1);
  g_assert_cmpstr (peers[0], ==, f->a->peer_id);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, QUERIES ("served")), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, QUERIES ("yes")), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, ACCEPTED), ==, accepted);
  /* Remembered: the next lookup needs no question. */
  g_clear_pointer (&peers, g_strfreev);
  peers = find (f, f->b, id);
  g_assert_cmpuint (g_strv_length (peers), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, QUERIES ("served")), ==, 1);
  /* Nobody holds it: asked, answered no, empty. */
  none = find (f, f->b, nobody_id);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, QUERIES ("no")), ==, 1);
}

/* ---- the outsider ---- */

typedef struct {
  MeroTestNetNode node;
  gboolean connected;
  gboolean ended;          /* the node closed or reset our blob-have stream */
  guint8 context[32];
  guint8 blob[32];
  GByteArray *answer;
} Outsider;

static void
on_outsider_event (MeroNetEvent *event, gpointer user_data)
{
  Outsider *o = user_data;

  switch (event->type)
    {
    case MERO_NET_EVENT_PEER_CONNECTED:
      o->connected = TRUE;
      break;
    case MERO_NET_EVENT_STREAM_OPENED:
      if (event->request_id != 0)
        {
          MeroBlobHave q = { .is_request = TRUE };
          g_autoptr (GBytes) body = NULL, frame = NULL;

          memcpy (q.context_id, o->context, 32);
          memcpy (q.blob_id, o->blob, 32);
          body = mero_blob_have_encode (&q);
          frame = mero_stream_frame (body);
          mero_network_stream_write (o->node.net, event->stream, frame);
          mero_network_stream_close (o->node.net, event->stream);
        }
      break;
    case MERO_NET_EVENT_STREAM_DATA:
      g_byte_array_append (o->answer, g_bytes_get_data (event->data, NULL),
                           g_bytes_get_size (event->data));
      break;
    case MERO_NET_EVENT_STREAM_CLOSED:
    case MERO_NET_EVENT_STREAM_RESET:
    case MERO_NET_EVENT_STREAM_FAILED:
      o->ended = TRUE;
      break;
    default:
      break;
    }
  mero_net_event_free (event);
}

static gboolean
outsider_connected (gpointer data)
{
  return ((Outsider *) data)->connected;
}

static gboolean
outsider_answered (gpointer data)
{
  return ((Outsider *) data)->ended;
}

/* A record the outsider signs with its own (valid, non-member) key. */
static GBytes *
outsider_record (Outsider *o)
{
  g_autoptr (MeroBlobProviderRecord) record = mero_blob_provider_record_new ();
  g_autoptr (MeroBroadcast) msg = mero_broadcast_new (MERO_BROADCAST_BLOB_PROVIDERS);
  MeroBlobHeld held = { .size = 123 };
  guint8 seed[32], pk[32], sk[64];

  mero_identity_copy_seed (o->node.identity, seed);
  crypto_sign_seed_keypair (pk, sk, seed);
  memcpy (record->context_id, o->context, 32);
  memcpy (held.id, o->blob, 32);
  g_array_append_val (record->blobs, held);
  record->timestamp_ms = (guint64) (g_get_real_time () / 1000);
  mero_blob_provider_record_sign (record, sk);
  sodium_memzero (sk, sizeof sk);
  msg->payload = mero_blob_provider_record_encode (record);
  return mero_broadcast_encode (msg);
}

static void
check_outsider (Fixture *f)
{
  Outsider o = { 0 };
  g_autoptr (GBytes) ctx = mero_base58_decode (f->context_id);
  g_autofree char *address = mero_test_node_listen_address (f->cluster, f->b);
  g_autofree char *blob_text = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) message = NULL;
  g_auto (MeroBlobHave) answer = { 0 };
  g_auto (GStrv) peers = NULL;
  gint64 deadline;

  memcpy (o.context, g_bytes_get_data (ctx, NULL), 32);
  memset (o.blob, 0x77, 32);
  blob_text = mero_blob_id_to_string (o.blob);
  o.answer = g_byte_array_new ();
  /* Subscribed to the context's topic, as a member would be. */
  mero_test_net_node_start (&o.node, 0xb7, f->context_id, on_outsider_event, &o);
  g_assert_true (mero_network_dial (o.node.net, address, &error));
  g_assert_no_error (error);
  g_assert_true (mero_test_wait_until (outsider_connected, &o, WAIT_MS));

  /* Its record reaches B (the mesh forms within a heartbeat or two, so
   * it is published again until B has judged one) and is dropped. */
  deadline = g_get_monotonic_time () + (gint64) WAIT_MS * 1000;
  while (mero_test_node_metric (f->cluster, f->b, DROPPED ("non_member")) == 0)
    {
      g_autoptr (GBytes) data = outsider_record (&o);
      gint64 next = g_get_monotonic_time () + REPUBLISH_MS * 1000;

      if (g_get_monotonic_time () > deadline)
        {
          mero_test_cluster_dump_logs (f->cluster);
          g_error ("B did not drop the outsider's record within %u ms", WAIT_MS);
        }
      g_assert_true (mero_network_publish (o.node.net, f->context_id, data, &error));
      g_assert_no_error (error);
      while (g_get_monotonic_time () < next)
        if (!g_main_context_iteration (NULL, FALSE))
          g_usleep (10 * 1000);
    }
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, DROPPED ("bad_signature")), ==, 0);
  /* It names nobody (A, asked, does not hold it either). */
  peers = find (f, f->b, blob_text);
  g_assert_cmpuint (g_strv_length (peers), ==, 0);

  /* Its blob-have question is refused and counted. */
  mero_network_open_stream (o.node.net, f->b->peer_id, MERO_STREAM_PROTOCOL_BLOB_HAVE);
  g_assert_true (mero_test_wait_until (outsider_answered, &o, WAIT_MS));
  g_assert_true (mero_stream_frame_pop (o.answer, &message, &error));
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_assert_true (mero_blob_have_decode (g_bytes_get_data (message, NULL),
                                        g_bytes_get_size (message), FALSE, &answer, &error));
  g_assert_no_error (error);
  g_assert_false (answer.have);
  g_assert_cmpstr (answer.error, ==, "not a member");
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, QUERIES_DROPPED ("non_member")), ==,
                    1);
  mero_test_net_node_stop (&o.node);
  g_byte_array_unref (o.answer);
}

/* PUT @data to @url's /admin-api/blobs?context=…; the blob id. */
static char *
put_blob (SoupSession *session, const char *url, const char *context_id, const char *data,
          gsize len)
{
  g_autofree char *uri = g_strdup_printf ("%s/admin-api/blobs?context=%s", url, context_id);
  g_autoptr (SoupMessage) msg = soup_message_new ("PUT", uri);
  g_autoptr (GBytes) body = g_bytes_new (data, len);
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  soup_message_set_request_body_from_bytes (msg, "application/octet-stream", body);
  reply = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_CREATED);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL),
                                             (gssize) g_bytes_get_size (reply), NULL));
  return g_strdup (json_object_get_string_member (
      json_node_get_object (json_parser_get_root (parser)), "blob_id"));
}

/* A burst of uploads in one context becomes a few records, and every
 * blob of it is still known to B from them. */
static void
check_burst (Fixture *f)
{
  g_autofree char *url = http_url (f, f->a);
  g_autoptr (SoupSession) session = soup_session_new ();
  guint64 published = mero_test_node_metric (f->cluster, f->a, PUBLISHED);
  guint64 accepted = mero_test_node_metric (f->cluster, f->b, ACCEPTED);
  guint64 served = mero_test_node_metric (f->cluster, f->a, QUERIES ("served"));
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  gint64 start = g_get_monotonic_time ();
  guint64 records, took_ms;

  /* A context that is not an id is refused before anything is stored. */
  {
    g_autofree char *uri = g_strdup_printf ("%s/admin-api/blobs?context=not-an-id", url);
    g_autoptr (SoupMessage) msg = soup_message_new ("PUT", uri);
    g_autoptr (GBytes) body = g_bytes_new_static ("x", 1);
    g_autoptr (GBytes) reply = NULL;

    soup_message_set_request_body_from_bytes (msg, "application/octet-stream", body);
    reply = soup_session_send_and_read (session, msg, NULL, NULL);
    g_assert_cmpuint (soup_message_get_status (msg), ==, SOUP_STATUS_BAD_REQUEST);
  }
  for (guint i = 0; i < BURST; i++)
    {
      g_autofree char *data = g_strdup_printf ("burst blob %u", i);

      g_ptr_array_add (ids, put_blob (session, url, f->context_id, data, strlen (data)));
    }
  took_ms = (guint64) (g_get_monotonic_time () - start) / 1000;
  /* A's queue drains, and B accepts every record A published. */
  wait_metric_below (f, f->a, "mero_blob_provider_announces_pending", 1);
  records = mero_test_node_metric (f->cluster, f->a, PUBLISHED) - published;
  wait_metric (f, f->b, ACCEPTED, accepted + records);
  g_test_message ("%u uploads with a context in %" G_GUINT64_FORMAT " ms became %" G_GUINT64_FORMAT
                  " provider records", BURST, took_ms, records);
  /* At most the context's bucket: 4 at once, then one per 500 ms (the
   * queue drains up to BURST / 128 + 1 batches after the last upload). */
  g_assert_cmpuint (records, <=, 4 + took_ms / 500 + BURST / 128 + 2);
  g_assert_cmpuint (records, <, BURST / 10);
  for (guint i = 0; i < ids->len; i += 37)
    {
      g_auto (GStrv) peers = find (f, f->b, g_ptr_array_index (ids, i));

      g_assert_cmpuint (g_strv_length (peers), ==, 1);
      g_assert_cmpstr (peers[0], ==, f->a->peer_id);
    }
  /* All known from records: nobody was asked. */
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, QUERIES ("served")), ==, served);
}

#define CONCURRENT 80

typedef struct {
  guint pending;
  guint found_a;
  const char *a_peer;
} Concurrent;

static void
on_found (GObject *source, GAsyncResult *result, gpointer data)
{
  Concurrent *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (source), result,
                                                              &error);
  g_auto (GStrv) peers = NULL;

  c->pending--;
  g_assert_no_error (error);
  g_variant_get (reply, "(^as)", &peers);
  if (g_strv_length (peers) == 1 && g_str_equal (peers[0], c->a_peer))
    c->found_a++;
}

static gboolean
all_answered (gpointer data)
{
  return ((Concurrent *) data)->pending == 0;
}

static void
check_concurrent_queries (Fixture *f)
{
  const char *busy = "mero_node_streams_dropped_total{reason=\"busy\"}";
  const char *queued = "mero_node_requests_queued_total";
  g_autoptr (GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  Concurrent c = { .a_peer = f->a->peer_id };
  guint64 busy_before = mero_test_node_metric (f->cluster, f->a, busy);
  guint64 queued_before = mero_test_node_metric (f->cluster, f->b, queued);

  for (guint i = 0; i < CONCURRENT; i++)
    {
      g_autofree char *name = g_strdup_printf ("many-%u.bin", i);
      g_autofree char *path = make_file (f, name, 1000 + i, 300);

      g_ptr_array_add (ids, upload (f, f->a, path, NULL, NULL));   /* not announced */
    }
  for (guint i = 0; i < CONCURRENT; i++)
    {
      c.pending++;
      g_dbus_connection_call (mero_test_cluster_get_connection (f->cluster), f->b->bus_name,
                              "/network/calimero/Node1", "network.calimero.Node1",
                              "FindBlobProviders",
                              g_variant_new ("(ss)", f->context_id,
                                             (const char *) g_ptr_array_index (ids, i)),
                              G_VARIANT_TYPE ("(as)"), G_DBUS_CALL_FLAGS_NONE,
                              MERO_TEST_TIMEOUT_MS, NULL, on_found, &c);
    }
  if (!mero_test_wait_until (all_answered, &c, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("%u of %u concurrent lookups unanswered", c.pending, CONCURRENT);
    }
  g_assert_cmpuint (c.found_a, ==, CONCURRENT);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->a, busy), ==, busy_before);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, f->b, queued), >, queued_before);
}

/* One cluster for all parts: each node start costs seconds. */
static void
test_providers (Fixture *f, gconstpointer data)
{
  test_record_path (f, data);
  test_query_path (f, data);
  check_concurrent_queries (f);
  check_burst (f);
  check_outsider (f);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add ("/blob-providers/record-query-outsider", Fixture, NULL, fixture_set_up,
              test_providers, fixture_tear_down);
  return g_test_run ();
}
