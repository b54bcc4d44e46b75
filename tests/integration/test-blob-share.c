/* test-blob-share.c: blobs between real merod processes over
 * /calimero/blob/1 (the blob-share plugin), on 127.0.0.1.
 *
 * Checked: a member downloads a multi-chunk blob another member uploaded
 * (meroctl blob download --context, over D-Bus and over --url) and gets
 * identical bytes, every chunk served once; a second download is local
 * (nothing served); a node that is not a member is refused (BlobRefused) and
 * the refusal is counted on the provider, but fetches a blob uploaded with
 * --public (counted as such), though not under another context; a blob over the fetcher's
 * blob.max_size_mb is refused (BlobTooLarge).  With two providers, one serving
 * a damaged chunk (a byte flipped in its blob file, served unchecked by a
 * test hook), the chunk is refused and counted and the blob still arrives
 * intact from the other.  A transfer cut half-way (a test hook makes the
 * provider fail after some chunks) leaves its verified chunks, and the next
 * fetch asks only for the rest: the provider serves exactly the missing
 * chunks.  Every wait is bounded. */
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "blob/mero-blob-tree.h"
#include "mero-test-cluster.h"
#include "net/mero-base58.h"
#include "mero-test-fs.h"

#define CHUNK MERO_BLOB_CHUNK_SIZE
#define SMALL_CHUNKS 12              /* 3 MiB */
#define BIG_CHUNKS 20                /* 5 MiB: over a 4 MiB blob.max_size_mb */
#define HTTP_CHUNKS 6                /* fetched by meroctl --url blob download */
#define SERVE_LIMIT 5
#define WAIT_MS 10000
#define SERVED "mero_blob_chunks_served_total"
#define CORRUPT_REFUSED "mero_blob_fetch_refused_total{reason=\"corrupt\"}"
#define CORRUPT_RECEIVED "mero_blob_corrupt_chunks_total{source=\"received\"}"
#define NOT_MEMBER "mero_blob_serve_refused_total{reason=\"not_member\"}"
#define PUBLIC "mero_blob_serve_public_total"

typedef struct {
  MeroTestCluster *cluster;
  char *tmp;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  f->tmp = mero_test_make_tmpdir ("blob-share");
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
  mero_test_remove_tree (f->tmp);
  g_free (f->tmp);
}

static GBytes *
pattern (gsize len, guint seed)
{
  guint8 *p = g_malloc (len);

  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) (i * 131 + seed + i / 4093);
  return g_bytes_new_take (p, len);
}

static char *
write_file (Fixture *f, const char *name, GBytes *bytes)
{
  char *path = g_build_filename (f->tmp, name, NULL);

  g_assert_true (g_file_set_contents (path, g_bytes_get_data (bytes, NULL),
                                      (gssize) g_bytes_get_size (bytes), NULL));
  return path;
}

/* meroctl blob upload --context: the blob id it prints. */
static char *
upload (Fixture *f, MeroTestNode *node, const char *context_id, const char *path)
{
  g_autofree char *out = NULL, *err = NULL;
  int status = mero_test_node_meroctl (
      node, (const char *[]) { "blob", "upload", path, "--context", context_id, NULL }, &out,
      &err);

  if (status != 0)
    g_error ("upload on %s failed: %s", node->label, err);
  return g_strstrip (g_steal_pointer (&out));
}

static void
assert_file_equals (const char *path, GBytes *want)
{
  g_autofree char *contents = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (want, NULL), g_bytes_get_size (want));
}

/* FetchBlob on @node; the D-Bus error name (transfer full) or NULL. */
static char *
fetch (Fixture *f, MeroTestNode *node, const char *context_id, const char *blob_id,
       const char *const *providers, guint64 *size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL;
  GVariantDict options;

  g_variant_dict_init (&options, NULL);
  if (providers != NULL)
    g_variant_dict_insert (&options, "providers", "^as", providers);
  reply = mero_test_node_call (f->cluster, node, "FetchBlob",
                               g_variant_new ("(ss@a{sv})", context_id, blob_id,
                                              g_variant_dict_end (&options)),
                               G_VARIANT_TYPE ("(t)"), &error);
  if (reply == NULL)
    {
      g_test_message ("FetchBlob on %s: %s", node->label, error->message);
      return g_dbus_error_get_remote_error (error);
    }
  if (size != NULL)
    g_variant_get (reply, "(t)", size);
  return NULL;
}

/* GetBlob of @node into a file, compared with @want. */
static void
assert_blob (Fixture *f, MeroTestNode *node, const char *blob_id, GBytes *want)
{
  g_autofree char *path = g_build_filename (f->tmp, "check", NULL);
  g_autofree char *out = NULL, *err = NULL;

  g_assert_cmpint (mero_test_node_meroctl (
                       node, (const char *[]) { "blob", "download", blob_id, path, NULL }, &out,
                       &err),
                   ==, 0);
  assert_file_equals (path, want);
}

static GVariant *
property (Fixture *f, MeroTestNode *node, const char *name)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
      mero_test_cluster_get_connection (f->cluster), node->bus_name, "/network/calimero/Node1",
      "org.freedesktop.DBus.Properties", "Get",
      g_variant_new ("(ss)", "network.calimero.Node1", name), G_VARIANT_TYPE ("(v)"),
      G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, &error);
  GVariant *value = NULL;

  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  return value;
}

/* POST /admin-api/blobs/{id}/fetch on @node: the status, *body the answer. */
static guint
http_fetch (Fixture *f, MeroTestNode *node, const char *context_id, const char *blob_id,
            char **body)
{
  g_autoptr (GVariant) address = property (f, node, "HttpAddress");
  g_autofree char *url = g_strdup_printf ("%s/admin-api/blobs/%s/fetch",
                                          g_variant_get_string (address, NULL), blob_id);
  g_autofree char *json = g_strdup_printf ("{\"context_id\":\"%s\"}", context_id);
  g_autoptr (SoupSession) session = soup_session_new_with_options ("timeout", 30, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("POST", url);
  g_autoptr (GBytes) request = g_bytes_new (json, strlen (json));
  g_autoptr (GBytes) answer = NULL;
  g_autoptr (GError) error = NULL;

  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  answer = soup_session_send_and_read (session, msg, NULL, &error);
  g_assert_no_error (error);
  *body = g_strndup (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer));
  return soup_message_get_status (msg);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *series;
  guint64 at_least;
} MetricWait;

static gboolean
metric_reached (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, w->series) >= w->at_least;
}

static gboolean
metric_zero (gpointer data)
{
  MetricWait *w = data;

  return mero_test_node_metric (w->f->cluster, w->node, w->series) == 0;
}

static void
wait_metric_zero (Fixture *f, MeroTestNode *node, const char *series)
{
  MetricWait w = { f, node, series, 0 };

  if (!mero_test_wait_until (metric_zero, &w, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("%s: %s never fell to 0", node->label, series);
    }
}

static void
wait_metric (Fixture *f, MeroTestNode *node, const char *series, guint64 at_least)
{
  MetricWait w = { f, node, series, at_least };

  if (!mero_test_wait_until (metric_reached, &w, WAIT_MS))
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("%s: %s never reached %" G_GUINT64_FORMAT, node->label, series, at_least);
    }
}

/* A member fetches, a non-member is refused, oversize is refused. */
static void
test_member_fetch (Fixture *f, gconstpointer data)
{
  MeroTestNode *a = mero_test_cluster_add_node (f->cluster, "a", 0);
  MeroTestNode *b = mero_test_cluster_add_node (f->cluster, "b", 0);
  MeroTestNode *c = mero_test_cluster_add_node (f->cluster, "c", 0);
  g_autoptr (GBytes) small = pattern (SMALL_CHUNKS * CHUNK - 77, 1);
  g_autoptr (GBytes) big = pattern (BIG_CHUNKS * CHUNK, 2);
  g_autofree char *small_path = write_file (f, "small", small);
  g_autofree char *big_path = write_file (f, "big", big);
  g_autofree char *down = g_build_filename (f->tmp, "down", NULL);
  g_autofree char *context_id = NULL, *small_id = NULL, *big_id = NULL, *a_addr = NULL;
  g_autofree char *out = NULL, *err = NULL, *refusal = NULL, *too_large = NULL, *body = NULL;

  mero_test_node_config_set (b, "blob.max_size_mb", "4");
  mero_test_node_start (f->cluster, a);
  mero_test_node_start (f->cluster, b);
  context_id = mero_test_cluster_share_context (f->cluster, a, (MeroTestNode *[]) { b, NULL });
  small_id = upload (f, a, context_id, small_path);
  big_id = upload (f, a, context_id, big_path);

  /* b is a member: the download fetches over the network first. */
  g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "blob", "download", small_id,
                                                                 down, "--context", context_id,
                                                                 NULL },
                                           &out, &err),
                   ==, 0);
  assert_file_equals (down, small);
  /* The fetch's progress came as BlobFetchProgress signals: meroctl's
   * summary of the fetch (a plain line, not a terminal) shows it. */
  g_assert_nonnull (strstr (err, "fetched"));
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==, SMALL_CHUNKS);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, b, "mero_blob_chunks_received_total"), ==,
                    SMALL_CHUNKS);
  /* Held now: a second download needs no network. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (mero_test_node_meroctl (b, (const char *[]) { "blob", "download", small_id,
                                                                 down, "--context", context_id,
                                                                 NULL },
                                           &out, &err),
                   ==, 0);
  assert_file_equals (down, small);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==, SMALL_CHUNKS);

  /* Over b's blob.max_size_mb (4): refused, nothing written. */
  too_large = fetch (f, b, context_id, big_id, NULL, NULL);
  g_assert_cmpstr (too_large, ==, "network.calimero.Node1.Error.BlobTooLarge");
  g_assert_cmpuint (mero_test_node_metric (f->cluster, b,
                                           "mero_blob_fetch_refused_total{reason=\"too_large\"}"),
                    ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==, SMALL_CHUNKS);
  /* The same over HTTP (POST /admin-api/blobs/{id}/fetch). */
  g_assert_cmpuint (http_fetch (f, b, context_id, big_id, &body), ==, 413);
  g_assert_nonnull (strstr (body, "blob-too-large"));
  g_clear_pointer (&body, g_free);
  g_assert_cmpuint (http_fetch (f, b, context_id, small_id, &body), ==, 200);
  g_assert_nonnull (strstr (body, small_id));

  /* meroctl --url … blob download --context: b fetches a blob it does not
   * hold over the network first, as over D-Bus. */
  {
    g_autoptr (GVariant) address = property (f, b, "HttpAddress");
    g_autoptr (GBytes) other = pattern (HTTP_CHUNKS * CHUNK - 9, 4);
    g_autofree char *other_path = write_file (f, "other", other);
    g_autofree char *other_id = upload (f, a, context_id, other_path);

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    if (mero_test_node_meroctl (b, (const char *[]) { "--url", g_variant_get_string (address, NULL),
                                                      "blob", "download", other_id, down,
                                                      "--context", context_id, NULL },
                                &out, &err)
        != 0)
      g_error ("meroctl --url blob download --context failed: %s", err);
    assert_file_equals (down, other);
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==,
                      SMALL_CHUNKS + HTTP_CHUNKS);
  }

  /* A blob small enough to live inline in its record (no file) is served
   * from the record. */
  {
    g_autoptr (GBytes) tiny = pattern (3000, 5);
    g_autofree char *tiny_path = write_file (f, "tiny", tiny);
    g_autofree char *tiny_id = upload (f, a, context_id, tiny_path);

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    if (mero_test_node_meroctl (b, (const char *[]) { "blob", "download", tiny_id, down,
                                                      "--context", context_id, NULL },
                                &out, &err)
        != 0)
      g_error ("download of an inline blob failed: %s", err);
    assert_file_equals (down, tiny);
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==,
                      SMALL_CHUNKS + HTTP_CHUNKS + 1);
  }

  /* c is connected to a but no member of the context: refused, counted. */
  a_addr = mero_test_node_listen_address (f->cluster, a);
  mero_test_node_config_set (c, "network.bootstrap", a_addr);
  mero_test_node_start (f->cluster, c);
  wait_metric (f, c, "mero_node_connected_peers", 1);
  refusal = fetch (f, c, context_id, small_id, (const char *[]) { a->peer_id, NULL }, NULL);
  g_assert_cmpstr (refusal, ==, "network.calimero.Node1.Error.BlobRefused");
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, NOT_MEMBER), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==,
                    SMALL_CHUNKS + HTTP_CHUNKS + 1);

  /* A blob public to the context: c, still no member, fetches it by
   * naming the context and a provider (it knows no members); naming
   * another context does not let it in. */
  {
    g_autoptr (GBytes) open = pattern (5000, 6);
    g_autofree char *open_path = write_file (f, "open", open);
    g_autofree char *open_id = NULL, *error_name = NULL, *other_ctx = NULL;
    guint8 raw[32];
    guint64 size = 0;

    g_clear_pointer (&out, g_free);
    g_clear_pointer (&err, g_free);
    if (mero_test_node_meroctl (a, (const char *[]) { "blob", "upload", open_path, "--context",
                                                      context_id, "--public", NULL },
                                &out, &err)
        != 0)
      g_error ("blob upload --public failed: %s", err);
    open_id = g_strstrip (g_steal_pointer (&out));
    /* Public to context_id only: under another context it is refused
     * (asked first: once c holds the blob, FetchBlob answers locally). */
    memset (raw, 0x5a, sizeof raw);
    other_ctx = mero_base58_encode (raw, sizeof raw);
    error_name = fetch (f, c, other_ctx, open_id, (const char *[]) { a->peer_id, NULL }, NULL);
    g_assert_cmpstr (error_name, ==, "network.calimero.Node1.Error.BlobRefused");
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, NOT_MEMBER), ==, 2);
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, PUBLIC), ==, 0);
    g_clear_pointer (&error_name, g_free);
    /* Under its context: served, counted as public, no new refusal. */
    error_name = fetch (f, c, context_id, open_id, (const char *[]) { a->peer_id, NULL }, &size);
    g_assert_null (error_name);
    g_assert_cmpuint (size, ==, g_bytes_get_size (open));
    assert_blob (f, c, open_id, open);
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, NOT_MEMBER), ==, 2);
    g_assert_cmpuint (mero_test_node_metric (f->cluster, a, PUBLIC), ==, 1);

    /* The same made public over HTTP (meroctl --url: PUT ?context=&public=true). */
    {
      g_autoptr (GVariant) address = property (f, a, "HttpAddress");
      g_autoptr (GBytes) open2 = pattern (6000, 7);
      g_autofree char *open2_path = write_file (f, "open2", open2);
      g_autofree char *open2_id = NULL, *error2 = NULL;

      g_clear_pointer (&err, g_free);
      if (mero_test_node_meroctl (a, (const char *[]) { "--url",
                                                        g_variant_get_string (address, NULL),
                                                        "blob", "upload", open2_path,
                                                        "--context", context_id, "--public",
                                                        NULL },
                                  &out, &err)
          != 0)
        g_error ("meroctl --url blob upload --public failed: %s", err);
      open2_id = g_strstrip (g_steal_pointer (&out));
      error2 = fetch (f, c, context_id, open2_id, (const char *[]) { a->peer_id, NULL }, NULL);
      g_assert_null (error2);
      assert_blob (f, c, open2_id, open2);
      g_assert_cmpuint (mero_test_node_metric (f->cluster, a, PUBLIC), ==, 2);
      g_assert_cmpuint (mero_test_node_metric (f->cluster, a, NOT_MEMBER), ==, 2);
    }
  }
}

/* Two providers, one serving a damaged chunk: refused, counted, and the
 * blob arrives from the other. */
static void
test_corrupt_provider (Fixture *f, gconstpointer data)
{
  MeroTestNode *a = mero_test_cluster_add_node (f->cluster, "a", 0);
  MeroTestNode *b = mero_test_cluster_add_node (f->cluster, "b", 0);
  MeroTestNode *c = mero_test_cluster_add_node (f->cluster, "c", 0);
  g_autoptr (GBytes) blob = pattern (SMALL_CHUNKS * CHUNK, 3);
  g_autofree char *path = write_file (f, "blob", blob);
  g_autofree char *context_id = NULL, *id = NULL, *id_b = NULL, *error_name = NULL;
  g_autofree char *file = NULL, *hex = NULL, *contents = NULL, *b_addr = NULL;
  guint8 raw[32];
  gsize len = 0;
  guint64 size = 0;

  mero_test_node_config_set (a, "debug.blob_serve_unverified", "true");
  mero_test_node_start (f->cluster, a);
  mero_test_node_start (f->cluster, b);
  /* The fetch asks providers it is connected to: c dials b at start, and
   * a (the inviter) when it joins. */
  b_addr = mero_test_node_listen_address (f->cluster, b);
  mero_test_node_config_set (c, "network.bootstrap", b_addr);
  mero_test_node_start (f->cluster, c);
  context_id = mero_test_cluster_share_context (f->cluster, a, (MeroTestNode *[]) { b, c, NULL });
  id = upload (f, a, context_id, path);
  id_b = upload (f, b, context_id, path);
  g_assert_cmpstr (id, ==, id_b);
  /* Flip one byte of chunk 0 in a's blob file. */
  {
    g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
    g_autoptr (GBytes) leaves = NULL;
    guint64 n = 0;

    mero_blob_chunker_feed (chunker, g_bytes_get_data (blob, NULL), g_bytes_get_size (blob));
    leaves = mero_blob_chunker_finish (chunker, raw, &n);
  }
  hex = g_strdup_printf ("%02x", raw[0]);
  {
    GString *full = g_string_new (NULL);

    for (guint i = 0; i < 32; i++)
      g_string_append_printf (full, "%02x", raw[i]);
    file = g_build_filename (a->home, "blobstore", hex, full->str, NULL);
    g_string_free (full, TRUE);
  }
  g_assert_true (g_file_get_contents (file, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, g_bytes_get_size (blob));
  contents[100] ^= 0x40;
  g_chmod (file, 0644);
  g_assert_true (g_file_set_contents (file, contents, (gssize) len, NULL));

  wait_metric (f, c, "mero_node_connected_peers", 2);
  /* a first: it gets the first range, and its chunk 0 is refused. */
  error_name = fetch (f, c, context_id, id, (const char *[]) { a->peer_id, b->peer_id, NULL },
                      &size);
  if (error_name != NULL)
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("fetch failed: %s", error_name);
    }
  g_assert_cmpuint (size, ==, g_bytes_get_size (blob));
  g_assert_cmpuint (mero_test_node_metric (f->cluster, c, CORRUPT_REFUSED), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, c, CORRUPT_RECEIVED), ==, 1);
  g_assert_cmpuint (mero_test_node_metric (f->cluster, b, SERVED), >, 0);
  assert_blob (f, c, id, blob);
}

/* A transfer cut half-way resumes from its verified chunks. */
static void
test_resume (Fixture *f, gconstpointer data)
{
  MeroTestNode *a = mero_test_cluster_add_node (f->cluster, "a", 0);
  MeroTestNode *b = mero_test_cluster_add_node (f->cluster, "b", 0);
  g_autoptr (GBytes) blob = pattern (SMALL_CHUNKS * CHUNK - 1, 4);
  g_autofree char *path = write_file (f, "blob", blob);
  g_autofree char *context_id = NULL, *id = NULL, *first = NULL, *second = NULL;

  mero_test_node_config_set (a, "debug.blob_serve_max_chunks", G_STRINGIFY (SERVE_LIMIT));
  mero_test_node_start (f->cluster, a);
  mero_test_node_start (f->cluster, b);
  context_id = mero_test_cluster_share_context (f->cluster, a, (MeroTestNode *[]) { b, NULL });
  id = upload (f, a, context_id, path);
  /* a stops serving after SERVE_LIMIT chunks: the fetch fails... */
  first = fetch (f, b, context_id, id, NULL, NULL);
  g_assert_cmpstr (first, ==, "network.calimero.Node1.Error.BlobFailed");
  g_assert_cmpuint (mero_test_node_metric (f->cluster, b, "mero_blob_chunks_received_total"), ==,
                    SERVE_LIMIT);
  /* ...and after a restart without the limit, only the rest is asked for. */
  mero_test_node_stop (f->cluster, a);
  wait_metric_zero (f, b, "mero_node_connected_peers");
  mero_test_node_config_set (a, "debug.blob_serve_max_chunks", "0");
  mero_test_node_start (f->cluster, a);
  wait_metric (f, b, "mero_node_connected_peers", 1);
  second = fetch (f, b, context_id, id, NULL, NULL);
  if (second != NULL)
    {
      mero_test_cluster_dump_logs (f->cluster);
      g_error ("resumed fetch failed: %s", second);
    }
  g_assert_cmpuint (mero_test_node_metric (f->cluster, a, SERVED), ==,
                    SMALL_CHUNKS - SERVE_LIMIT);
  assert_blob (f, b, id, blob);
}

/* Opt-in measurement (MERO_BLOB_SHARE_MEASURE_MB=N): N MiB uploaded on a,
 * fetched by b over loopback; prints MB/s of the fetch (verified and
 * committed on b's disk). */
static void
test_throughput (Fixture *f, gconstpointer data)
{
  const char *mb = g_getenv ("MERO_BLOB_SHARE_MEASURE_MB");
  gsize len = (gsize) g_ascii_strtoull (mb != NULL ? mb : "0", NULL, 10) * 1024 * 1024;
  MeroTestNode *a, *b;
  g_autoptr (GBytes) blob = NULL;
  g_autofree char *path = NULL, *context_id = NULL, *id = NULL;
  gint64 start, us;
  guint64 size = 0;

  if (len == 0)
    {
      g_test_skip ("set MERO_BLOB_SHARE_MEASURE_MB to measure");
      return;
    }
  mero_test_cluster_set_verbose (f->cluster, g_getenv ("MERO_BLOB_SHARE_VERBOSE") != NULL);
  a = mero_test_cluster_add_node (f->cluster, "a", 0);
  b = mero_test_cluster_add_node (f->cluster, "b", 0);
  blob = pattern (len, 5);
  path = write_file (f, "blob", blob);
  mero_test_node_start (f->cluster, a);
  mero_test_node_start (f->cluster, b);
  context_id = mero_test_cluster_share_context (f->cluster, a, (MeroTestNode *[]) { b, NULL });
  id = upload (f, a, context_id, path);
  start = g_get_monotonic_time ();
  {
    /* Not mero_test_node_call: its 10 s bound is for small calls. */
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) reply = g_dbus_connection_call_sync (
        mero_test_cluster_get_connection (f->cluster), b->bus_name, "/network/calimero/Node1",
        "network.calimero.Node1", "FetchBlob",
        g_variant_new ("(ss@a{sv})", context_id, id, g_variant_new_array (G_VARIANT_TYPE ("{sv}"),
                                                                          NULL, 0)),
        G_VARIANT_TYPE ("(t)"), G_DBUS_CALL_FLAGS_NONE, 600 * 1000, NULL, &error);

    if (error != NULL)
      {
        mero_test_cluster_dump_logs (f->cluster);
        g_error ("fetch failed: %s", error->message);
      }
    g_variant_get (reply, "(t)", &size);
  }
  us = g_get_monotonic_time () - start;
  g_assert_cmpuint (size, ==, len);
  g_test_message ("fetched %" G_GSIZE_FORMAT " MiB in %.3f s: %.1f MB/s", len >> 20,
                  us / 1e6, (double) len / us);
  g_printerr ("blob-share: %" G_GSIZE_FORMAT " MiB in %.3f s = %.1f MB/s\n", len >> 20,
              us / 1e6, (double) len / us);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/blob-share/member-fetch", Fixture, NULL, fixture_set_up, test_member_fetch,
              fixture_tear_down);
  g_test_add ("/blob-share/corrupt-provider", Fixture, NULL, fixture_set_up,
              test_corrupt_provider, fixture_tear_down);
  g_test_add ("/blob-share/resume", Fixture, NULL, fixture_set_up, test_resume,
              fixture_tear_down);
  g_test_add ("/blob-share/throughput", Fixture, NULL, fixture_set_up, test_throughput,
              fixture_tear_down);
  return g_test_run ();
}
