/* test-blobs.c: the blob surfaces of a real merod on a private D-Bus
 * (GTestDBus) and its HTTP server on 127.0.0.1:0.
 *
 * D-Bus: AddBlob with a file descriptor passed over the bus; AddBlobs with
 * several in one call (results in order, one failing fd reported alone,
 * over the limit refused with nothing stored); GetBlob into
 * a passed descriptor (whole and a range), GetBlobInfo, ListBlobs,
 * DeleteBlob and the error names.  HTTP: a 64 MiB PUT, far above the
 * 1 MiB body limit of the other routes, streamed to disk (merod's peak
 * RSS grows by far less than the upload), GET with Range, HEAD, DELETE,
 * 404.  meroctl blob upload (one file and several)|list|info|download|
 * delete over D-Bus and --url.  "public" without a context is refused on every surface.  Blob ids are checked against the tree computed here with the
 * same code path as a receiver would (host/blob/mero-blob-tree.c). */
#include <fcntl.h>
#include <gio/gio.h>
#include <gio/gunixfdlist.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-error.h"
#include "blob/mero-blob-tree.h"
#include "mero-test-bus.h"
#include "mero-test-daemon.h"

#define NODE_NAME "network.calimero.Node1"
#define NODE_PATH "/network/calimero/Node1"
#define NODE_IFACE "network.calimero.Node1"
#define BIG_UPLOAD (64 * 1024 * 1024)
/* Peak RSS growth allowed for the 64 MiB upload: the streaming path keeps
 * a few MiB in flight (MERO_SERVER_BLOB_MAX_QUEUED and libsoup's
 * buffers); a body held whole would add 64 MiB. */
#define MAX_RSS_GROWTH_KB (24 * 1024)

typedef struct {
  GTestDBus *bus;
  GDBusConnection *connection;
  char *tmp;
  char *home;
  MeroTestDaemon *daemon;
  char *url;
  SoupSession *session;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL, value = NULL;
  g_autofree char *peer = NULL;

  mero_test_bus_up (&f->bus, &f->connection);
  f->tmp = mero_test_make_tmpdir ("merod-blobs");
  f->home = g_build_filename (f->tmp, "home", NULL);
  peer = mero_test_home_init (f->home, NULL);
  f->daemon = mero_test_daemon_spawn ((const char *[]) { "run", "--home", f->home, NULL }, NULL,
                                      &error);
  g_assert_no_error (error);
  g_assert_true (mero_test_daemon_wait_for_stderr (f->daemon, "ready: ", MERO_TEST_TIMEOUT_MS));
  g_assert_true (mero_test_wait_for_name (f->connection, NODE_NAME, MERO_TEST_TIMEOUT_MS));
  reply = g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH,
                                       "org.freedesktop.DBus.Properties", "Get",
                                       g_variant_new ("(ss)", NODE_IFACE, "HttpAddress"),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       MERO_TEST_TIMEOUT_MS, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(v)", &value);
  f->url = g_variant_dup_string (value, NULL);
  f->session = soup_session_new_with_options ("timeout", 60, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  mero_test_daemon_stop (f->daemon);
  g_clear_pointer (&f->daemon, mero_test_daemon_free);
  g_clear_object (&f->session);
  mero_test_bus_down (&f->bus, &f->connection);
  mero_test_remove_tree (f->tmp);
  g_free (f->url);
  g_free (f->home);
  g_free (f->tmp);
}

static GBytes *
pattern (gsize len, guint seed)
{
  guint8 *d = g_malloc (len);
  guint32 x = seed * 2654435761u + 1;

  for (gsize i = 0; i < len; i++)
    {
      x = x * 1103515245u + 12345u;
      d[i] = (guint8) (x >> 16);
    }
  return g_bytes_new_take (d, len);
}

static char *
write_temp_file (Fixture *f, const char *name, GBytes *bytes)
{
  char *path = g_build_filename (f->tmp, name, NULL);
  g_autoptr (GError) error = NULL;

  g_file_set_contents (path, g_bytes_get_data (bytes, NULL), (gssize) g_bytes_get_size (bytes),
                       &error);
  g_assert_no_error (error);
  return path;
}

static char *
expected_id (GBytes *bytes)
{
  g_autoptr (MeroBlobChunker) chunker = mero_blob_chunker_new ();
  g_autoptr (GBytes) leaves = NULL;
  guint8 id[32];

  mero_blob_chunker_feed (chunker, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  leaves = mero_blob_chunker_finish (chunker, id, NULL);
  return mero_blob_id_to_string (id);
}

static GVariant *
call_with_fd (Fixture *f, const char *method, GVariant *args, int fd, const char *reply_type,
              GError **error)
{
  g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();

  g_assert_cmpint (g_unix_fd_list_append (list, fd, NULL), ==, 0);
  return g_dbus_connection_call_with_unix_fd_list_sync (
      f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, method, args,
      G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, list, NULL,
      NULL, error);
}

static GVariant *
call (Fixture *f, const char *method, GVariant *args, const char *reply_type, GError **error)
{
  return g_dbus_connection_call_sync (f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, method,
                                      args, G_VARIANT_TYPE (reply_type), G_DBUS_CALL_FLAGS_NONE,
                                      MERO_TEST_TIMEOUT_MS, NULL, error);
}

static GBytes *
dbus_get (Fixture *f, const char *id, guint64 offset, guint64 length, GError **error)
{
  g_autofree char *path = g_build_filename (f->tmp, "dbus-get", NULL);
  g_autoptr (GVariant) reply = NULL;
  g_autofree char *contents = NULL;
  gsize len = 0;
  guint64 written = 0;
  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  reply = call_with_fd (f, "GetBlob", g_variant_new ("(shtt)", id, 0, offset, length), fd,
                        "(t)", error);
  close (fd);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(t)", &written);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpuint (len, ==, written);
  return g_bytes_new_take (g_steal_pointer (&contents), len);
}

/* AddBlob reads the passed fd; GetBlob writes into one, whole or a range;
 * info, list, refcounted delete and the error names. */
static void
test_dbus (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (3 * MERO_BLOB_CHUNK_SIZE + 777, 1);
  g_autofree char *path = write_temp_file (f, "in", bytes);
  g_autofree char *want = expected_id (bytes);
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) reply = NULL, info = NULL, list = NULL;
  g_autoptr (GBytes) whole = NULL, part = NULL, want_part = NULL;
  g_autofree char *id = NULL;
  guint64 size = 0;
  guint32 refcount = 0;

  for (guint i = 0; i < 2; i++)
    {
      int fd = open (path, O_RDONLY);

      g_clear_pointer (&reply, g_variant_unref);
      g_clear_pointer (&id, g_free);
      reply = call_with_fd (f, "AddBlob",
                            g_variant_new ("(h@a{sv})", 0, g_variant_new ("a{sv}", NULL)), fd,
                            "(st)", &error);
      close (fd);
      g_assert_no_error (error);
      g_variant_get (reply, "(st)", &id, &size);
      g_assert_cmpstr (id, ==, want);
      g_assert_cmpuint (size, ==, g_bytes_get_size (bytes));
    }

  whole = dbus_get (f, id, 0, 0, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (whole, bytes));
  part = dbus_get (f, id, MERO_BLOB_CHUNK_SIZE - 5, 2 * MERO_BLOB_CHUNK_SIZE + 10, &error);
  g_assert_no_error (error);
  want_part = g_bytes_new_from_bytes (bytes, MERO_BLOB_CHUNK_SIZE - 5,
                                      2 * MERO_BLOB_CHUNK_SIZE + 10);
  g_assert_true (g_bytes_equal (part, want_part));
  g_assert_null (dbus_get (f, id, g_bytes_get_size (bytes), 1, &error));
  g_assert_true (g_dbus_error_is_remote_error (error));
  g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                   "network.calimero.Node1.Error.BlobRange");
  g_clear_error (&error);

  reply = call (f, "GetBlobInfo", g_variant_new ("(s)", id), "(a{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a{sv})", &info);
  g_assert_true (g_variant_lookup (info, "refcount", "u", &refcount));
  g_assert_cmpuint (refcount, ==, 2);
  g_assert_true (g_variant_lookup (info, "size", "t", &size));
  g_assert_cmpuint (size, ==, g_bytes_get_size (bytes));
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (f, "ListBlobs", NULL, "(aa{sv})", &error);
  g_variant_get (reply, "(@aa{sv})", &list);
  g_assert_cmpuint (g_variant_n_children (list), ==, 1);

  for (guint expect = 1; expect != G_MAXUINT; expect--)
    {
      g_clear_pointer (&reply, g_variant_unref);
      reply = call (f, "DeleteBlob", g_variant_new ("(s)", id), "(u)", &error);
      g_assert_no_error (error);
      g_variant_get (reply, "(u)", &refcount);
      g_assert_cmpuint (refcount, ==, expect);
    }
  g_clear_pointer (&reply, g_variant_unref);
  reply = call (f, "GetBlobInfo", g_variant_new ("(s)", id), "(a{sv})", &error);
  g_assert_null (reply);
  g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                   "network.calimero.Node1.Error.BlobNotFound");
  g_clear_error (&error);
  reply = call (f, "GetBlobInfo", g_variant_new ("(s)", "not-base58!"), "(a{sv})", &error);
  g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                   "network.calimero.Node1.Error.BlobInvalid");
  g_clear_error (&error);
  {
    GVariantDict opts;
    int fd = open (path, O_RDONLY);

    g_variant_dict_init (&opts, NULL);
    g_variant_dict_insert (&opts, "context", "s", "3mJr7AoUXx2Wqd");
    reply = call_with_fd (f, "AddBlob", g_variant_new ("(h@a{sv})", 0, g_variant_dict_end (&opts)),
                          fd, "(st)", &error);
    close (fd);
    g_assert_null (reply);
    g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                     "network.calimero.Node1.Error.BlobInvalid");
  }
  g_clear_error (&error);
  /* "public" is to a context: without one, refused before anything is stored. */
  {
    GVariantDict opts;
    int fd = open (path, O_RDONLY);

    g_variant_dict_init (&opts, NULL);
    g_variant_dict_insert (&opts, "public", "b", TRUE);
    reply = call_with_fd (f, "AddBlob", g_variant_new ("(h@a{sv})", 0, g_variant_dict_end (&opts)),
                          fd, "(st)", &error);
    close (fd);
    g_assert_null (reply);
    g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                     "network.calimero.Node1.Error.BlobInvalid");
    g_assert_nonnull (strstr (error->message, "context"));
    g_clear_error (&error);
    reply = call (f, "GetBlobInfo", g_variant_new ("(s)", id), "(a{sv})", &error);
    g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                     "network.calimero.Node1.Error.BlobNotFound");
  }
}

/* AddBlobs: four descriptors in one call, one of a file open for writing
 * only. That one cannot be read: its own result says so and the others
 * are added, with the ids AddBlob gives. An empty call is refused. */
static void
test_dbus_many (Fixture *f, gconstpointer data)
{
  g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();
  g_autoptr (GVariant) reply = NULL, results = NULL, listed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) want = g_ptr_array_new_with_free_func (g_free);
  GVariantBuilder handles;
  const char *id, *message;
  guint64 size;

  g_variant_builder_init (&handles, G_VARIANT_TYPE ("ah"));
  for (guint i = 0; i < 4; i++)
    {
      int fd;

      if (i == 2)
        {
          g_autofree char *path = g_build_filename (f->tmp, "write-only", NULL);

          fd = open (path, O_WRONLY | O_CREAT, 0600);
        }
      else
        {
          g_autoptr (GBytes) bytes = pattern (1000 + i * 3000, 20 + i);
          g_autofree char *name = g_strdup_printf ("many-%u", i);
          g_autofree char *path = write_temp_file (f, name, bytes);

          fd = open (path, O_RDONLY);
          g_ptr_array_add (want, expected_id (bytes));
        }
      g_assert_cmpint (fd, >=, 0);
      g_variant_builder_add (&handles, "h", g_unix_fd_list_append (list, fd, NULL));
      close (fd);
    }
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, "AddBlobs",
      g_variant_new ("(@ah@a{sv})", g_variant_builder_end (&handles),
                     g_variant_new ("a{sv}", NULL)),
      G_VARIANT_TYPE ("(a(sts))"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, list, NULL, NULL,
      &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@a(sts))", &results);
  g_assert_cmpuint (g_variant_n_children (results), ==, 4);
  for (guint i = 0, w = 0; i < 4; i++)
    {
      g_variant_get_child (results, i, "(&st&s)", &id, &size, &message);
      if (i == 2)
        {
          g_assert_cmpstr (id, ==, "");
          g_assert_cmpstr (message, !=, "");
          continue;
        }
      g_assert_cmpstr (message, ==, "");
      g_assert_cmpstr (id, ==, g_ptr_array_index (want, w++));
      g_assert_cmpuint (size, ==, 1000 + i * 3000);
    }

  /* None: refused.  (Over 16 cannot be tried here: dbus-daemon drops a
   * client that sends more descriptors than its limit, 16 by default.) */
  g_clear_pointer (&reply, g_variant_unref);
  reply = g_dbus_connection_call_with_unix_fd_list_sync (
      f->connection, NODE_NAME, NODE_PATH, NODE_IFACE, "AddBlobs",
      g_variant_new ("(@ah@a{sv})", g_variant_new ("ah", NULL), g_variant_new ("a{sv}", NULL)),
      G_VARIANT_TYPE ("(a(sts))"), G_DBUS_CALL_FLAGS_NONE, MERO_TEST_TIMEOUT_MS, NULL, NULL, NULL,
      &error);
  g_assert_null (reply);
  g_assert_cmpstr (g_dbus_error_get_remote_error (error), ==,
                   "network.calimero.Node1.Error.BlobInvalid");
  g_clear_error (&error);
  reply = call (f, "ListBlobs", NULL, "(aa{sv})", &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(@aa{sv})", &listed);
  g_assert_cmpuint (g_variant_n_children (listed), ==, 3);
}

static guint64
vm_hwm_kb (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, "VmHWM:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

static SoupMessage *
http_message (Fixture *f, const char *method, const char *path)
{
  g_autofree char *full = g_strconcat (f->url, path, NULL);

  return soup_message_new (method, full);
}

static GBytes *
http_send (Fixture *f, SoupMessage *msg)
{
  g_autoptr (GError) error = NULL;
  GBytes *body = soup_session_send_and_read (f->session, msg, NULL, &error);

  g_assert_no_error (error);
  return body;
}

/* A 64 MiB PUT (64 times the body limit of the other routes) is streamed:
 * the blob arrives intact while merod's peak RSS grows by far less than
 * the upload.  Then Range, HEAD, DELETE and 404. */
static void
test_http (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (BIG_UPLOAD, 2);
  g_autofree char *path = write_temp_file (f, "big", bytes);
  g_autofree char *want = expected_id (bytes);
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, NULL);
  g_autoptr (SoupMessage) put = http_message (f, "PUT", "/admin-api/blobs");
  g_autoptr (GBytes) reply = NULL, range = NULL, want_range = NULL, gone = NULL, head = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *resource = g_strconcat ("/admin-api/blobs/", want, NULL);
  g_autoptr (SoupMessage) get = NULL, head_msg = NULL, del = NULL, missing = NULL;
  GPid pid = mero_test_daemon_get_pid (f->daemon);
  guint64 before = vm_hwm_kb (pid), after;
  JsonObject *o;

  soup_message_set_request_body (put, "application/octet-stream", G_INPUT_STREAM (in),
                                 BIG_UPLOAD);
  reply = http_send (f, put);
  g_assert_cmpuint (soup_message_get_status (put), ==, 201);
  after = vm_hwm_kb (pid);
  g_test_message ("merod VmHWM %" G_GUINT64_FORMAT " kB before, %" G_GUINT64_FORMAT
                  " kB after a %d MiB upload", before, after, BIG_UPLOAD >> 20);
  g_assert_cmpuint (after - before, <, MAX_RSS_GROWTH_KB);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL),
                                             (gssize) g_bytes_get_size (reply), NULL));
  o = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (o, "blob_id"), ==, want);
  g_assert_cmpint (json_object_get_int_member (o, "size"), ==, BIG_UPLOAD);

  get = http_message (f, "GET", resource);
  soup_message_headers_set_range (soup_message_get_request_headers (get), 1000000, 3000000);
  range = http_send (f, get);
  g_assert_cmpuint (soup_message_get_status (get), ==, 206);
  want_range = g_bytes_new_from_bytes (bytes, 1000000, 2000001);
  g_assert_true (g_bytes_equal (range, want_range));
  g_assert_cmpstr (soup_message_headers_get_one (soup_message_get_response_headers (get),
                                                 "Content-Range"),
                   ==, "bytes 1000000-3000000/67108864");

  head_msg = http_message (f, "HEAD", resource);
  head = http_send (f, head_msg);
  g_assert_cmpuint (soup_message_get_status (head_msg), ==, 200);
  g_assert_cmpuint (g_bytes_get_size (head), ==, 0);
  g_assert_cmpint (soup_message_headers_get_content_length (
                       soup_message_get_response_headers (head_msg)),
                   ==, BIG_UPLOAD);

  del = http_message (f, "DELETE", resource);
  g_bytes_unref (http_send (f, del));
  g_assert_cmpuint (soup_message_get_status (del), ==, 200);
  missing = http_message (f, "GET", resource);
  gone = http_send (f, missing);
  g_assert_cmpuint (soup_message_get_status (missing), ==, 404);

  /* public=true is to a context: refused without one, and a value that
   * is not a boolean is refused too (both before the body is read). */
  for (guint i = 0; i < 2; i++)
    {
      static const char *const paths[] = {
        "/admin-api/blobs?public=true",
        "/admin-api/blobs?context=5TeWSsjg2gbxCyWVniXeCmwM7UtHTCK7svzJr5xYJzHf&public=maybe",
      };
      g_autoptr (SoupMessage) bad = http_message (f, "PUT", paths[i]);
      g_autoptr (GBytes) small = g_bytes_new_static ("x", 1);
      g_autoptr (GBytes) answer = NULL;

      soup_message_set_request_body_from_bytes (bad, "application/octet-stream", small);
      answer = http_send (f, bad);
      g_assert_cmpuint (soup_message_get_status (bad), ==, 400);
      g_assert_nonnull (g_strstr_len (g_bytes_get_data (answer, NULL), g_bytes_get_size (answer),
                                      "public"));
    }
}

static char *
run_meroctl (const char *const *argv, int expect_status)
{
  g_autofree char *err = NULL;
  char *out = NULL;
  int status = -1;

  g_assert_true (mero_test_run_sync (argv, NULL, MERO_TEST_TIMEOUT_MS, &out, &err, &status));
  if (status != expect_status)
    g_error ("meroctl exited %d: %s", status, err);
  return out;
}

/* meroctl blob upload|list|info|download|delete over D-Bus, and upload
 * and download over --url; the downloads equal the file. */
static void
test_meroctl (Fixture *f, gconstpointer data)
{
  g_autoptr (GBytes) bytes = pattern (2 * MERO_BLOB_CHUNK_SIZE + 3, 3);
  g_autofree char *path = write_temp_file (f, "up", bytes);
  g_autofree char *want = expected_id (bytes);
  g_autofree char *down = g_build_filename (f->tmp, "down", NULL);
  g_autofree char *down2 = g_build_filename (f->tmp, "down2", NULL);
  const char *ctl = mero_test_meroctl_path ();
  g_autofree char *out = NULL, *contents = NULL;
  gsize len = 0;

  out = run_meroctl ((const char *[]) { ctl, "blob", "upload", path, NULL }, 0);
  g_assert_cmpstr (g_strstrip (out), ==, want);
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "blob", "list", NULL }, 0);
  g_assert_nonnull (strstr (out, want));
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "--json", "blob", "info", want, NULL }, 0);
  g_assert_nonnull (strstr (out, "\"size\":524291"));
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "blob", "download", want, down, NULL }, 0);
  g_assert_true (g_file_get_contents (down, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_clear_pointer (&contents, g_free);
  g_free (out);

  out = run_meroctl ((const char *[]) { ctl, "--url", f->url, "blob", "upload", path, NULL }, 0);
  g_assert_cmpstr (g_strstrip (out), ==, want);
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "--url", f->url, "blob", "download", want, down2,
                                        NULL }, 0);
  g_assert_true (g_file_get_contents (down2, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_free (out);

  out = run_meroctl ((const char *[]) { ctl, "--json", "blob", "delete", want, NULL }, 0);
  g_assert_nonnull (strstr (out, "\"refcount\":1"));
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "--url", f->url, "blob", "delete", want, NULL }, 0);
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "blob", "info", want, NULL }, 1);
  g_free (out);
  /* --public needs --context: a usage error on both transports. */
  out = run_meroctl ((const char *[]) { ctl, "blob", "upload", path, "--public", NULL }, 2);
  g_free (out);
  out = run_meroctl ((const char *[]) { ctl, "--url", f->url, "blob", "upload", path, "--public",
                                        NULL }, 2);
  g_free (out);
  /* Several files: one "ID  FILE" line each, on both transports. */
  {
    g_autoptr (GBytes) other = pattern (5000, 9);
    g_autofree char *other_path = write_temp_file (f, "up-other", other);
    g_autofree char *other_id = expected_id (other);
    g_autofree char *lines = g_strdup_printf ("%s  %s\n%s  %s\n", want, path, other_id,
                                              other_path);

    out = run_meroctl ((const char *[]) { ctl, "blob", "upload", path, other_path, NULL }, 0);
    g_assert_cmpstr (out, ==, lines);
    g_free (out);
    out = run_meroctl ((const char *[]) { ctl, "--url", f->url, "blob", "upload", path,
                                          other_path, NULL }, 0);
    g_assert_cmpstr (out, ==, lines);
    g_free (out);
    /* One missing file: the other is still added, the status says so. */
    out = run_meroctl ((const char *[]) { ctl, "blob", "upload", "/nonexistent/file",
                                          other_path, NULL }, 1);
    g_assert_nonnull (strstr (out, other_id));
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/blobs/dbus", Fixture, NULL, fixture_set_up, test_dbus, fixture_tear_down);
  g_test_add ("/blobs/dbus-many", Fixture, NULL, fixture_set_up, test_dbus_many,
              fixture_tear_down);
  g_test_add ("/blobs/http", Fixture, NULL, fixture_set_up, test_http, fixture_tear_down);
  g_test_add ("/blobs/meroctl", Fixture, NULL, fixture_set_up, test_meroctl,
              fixture_tear_down);
  return g_test_run ();
}
