/* mero-server-blobs.c: the blob endpoints of the admin API.
 *
 *   PUT    /admin-api/blobs        body = the blob; 201 {"blob_id","size","refcount"}
 *          ?context=CTX            announced to CTX's members once committed
 *          &public=true            and public to CTX (400 without context)
 *   GET    /admin-api/blobs        [{"blob_id","size","refcount","chunks","created","accessed"}]
 *   GET    /admin-api/blobs/{id}   the bytes (Range: bytes=… gives 206, one range)
 *   HEAD   /admin-api/blobs/{id}   the headers of GET
 *   DELETE /admin-api/blobs/{id}   drops one reference; {"refcount": left}
 *   POST   /admin-api/blobs/{id}/fetch  {"context_id", "providers"?}: fetched from
 *                                  the network if not held; {"blob_id","size"}
 *
 * Uploads are streamed: the body is not accumulated; each piece libsoup
 * reads goes to a worker that hashes and writes it, and reading pauses
 * while more than MERO_SERVER_BLOB_MAX_QUEUED bytes wait for the disk,
 * so memory stays bounded whatever the blob's size.  The body limit of
 * this one route is blob.max_size_mb instead of MERO_SERVER_MAX_BODY_BYTES.
 * Downloads go out one verified chunk at a time, read on a worker. */
#define G_LOG_DOMAIN "merod"
#include <glib/gi18n.h>
#include <string.h>

#include "blob/mero-blob-fetch.h"
#include "blob/mero-blob-manager.h"
#include "server/mero-server-limits.h"
#include "server/mero-server-private.h"

#define BLOBS_PATH "/admin-api/blobs"
#define BLOB_PREFIX "/admin-api/blobs/"

static void
reply_blob_error (SoupServerMessage *msg, const GError *error)
{
  guint status = SOUP_STATUS_INTERNAL_SERVER_ERROR;
  const char *code = "failed";

  if (error->domain == MERO_BLOB_ERROR)
    switch ((MeroBlobError) error->code)
      {
      case MERO_BLOB_ERROR_NOT_FOUND:
        status = SOUP_STATUS_NOT_FOUND, code = "blob-not-found";
        break;
      case MERO_BLOB_ERROR_INVALID:
        status = SOUP_STATUS_BAD_REQUEST, code = "invalid-blob-id";
        break;
      case MERO_BLOB_ERROR_RANGE:
        status = SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, code = "range";
        break;
      case MERO_BLOB_ERROR_TOO_LARGE:
        status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE, code = "blob-too-large";
        break;
      case MERO_BLOB_ERROR_CORRUPT:
        code = "blob-corrupt";
        break;
      case MERO_BLOB_ERROR_CLOSED:
        status = SOUP_STATUS_SERVICE_UNAVAILABLE, code = "not-ready";
        break;
      case MERO_BLOB_ERROR_REFUSED:
        status = SOUP_STATUS_FORBIDDEN, code = "blob-refused";
        break;
      case MERO_BLOB_ERROR_TIMED_OUT:
        status = SOUP_STATUS_GATEWAY_TIMEOUT, code = "timed-out";
        break;
      case MERO_BLOB_ERROR_IO:
      default:
        break;
      }
  mero_server_reply_error (msg, status, code, error->message);
}

static JsonNode *
info_to_json (const MeroBlobMeta *meta)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree char *id = mero_blob_id_to_string (meta->id);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "blob_id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, (gint64) meta->size);
  json_builder_set_member_name (b, "refcount");
  json_builder_add_int_value (b, meta->refcount);
  json_builder_set_member_name (b, "chunks");
  json_builder_add_int_value (b, (gint64) meta->n_leaves);
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, meta->created_us);
  json_builder_set_member_name (b, "accessed");
  json_builder_add_int_value (b, meta->accessed_us);
  json_builder_end_object (b);
  return json_builder_get_root (b);
}

/* ---- uploads ---- */

typedef struct {
  MeroServer *server;
  MeroBlobManager *manager;
  SoupServerMessage *msg;       /* ref */
  MeroBlobWriter *writer;       /* created by the first write, on a worker */
  GQueue queued;                /* GBytes read but not yet written */
  gsize queued_bytes;
  gboolean writing;
  gboolean paused;              /* reading paused for back-pressure */
  gboolean body_done;           /* the handler ran: the whole body is in */
  gboolean finished;            /* the exchange ended (answered or dropped) */
  gboolean has_context;         /* ?context=: announced there once committed */
  gboolean is_public;           /* &public=true: public to the context once committed */
  guint8 context[32];
  GError *error;                /* first write error; later pieces are dropped */
} Upload;

static void
upload_free (Upload *u)
{
  g_queue_clear_full (&u->queued, (GDestroyNotify) g_bytes_unref);
  mero_blob_writer_free (u->writer);
  g_clear_error (&u->error);
  mero_blob_manager_unref (u->manager);
  g_object_unref (u->msg);
}

static Upload *
upload_ref (Upload *u)
{
  return g_atomic_rc_box_acquire (u);
}

static void
upload_unref (Upload *u)
{
  g_atomic_rc_box_release_full (u, (GDestroyNotify) upload_free);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Upload, upload_unref)

static void start_write (Upload *u);

static void
on_committed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Upload) u = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonNode) root = NULL;
  MeroBlobMeta info;

  if (!mero_blob_manager_add_finish (u->manager, result, &info, &error))
    reply_blob_error (u->msg, error);
  /* Before the answer, as over D-Bus; on failure the blob stays added. */
  else if (u->is_public && !mero_blob_manager_set_public (u->manager, u->context, info.id, &error))
    {
      g_prefix_error (&error, _("The blob was added but not made public: "));
      reply_blob_error (u->msg, error);
    }
  else
    {
      /* Shared in a context: its members learn that we hold it. */
      if (u->has_context && !u->finished && u->server->providers != NULL)
        mero_blob_providers_announce (u->server->providers, u->context, info.id, info.size);
      root = info_to_json (&info);
      mero_server_reply_json (u->msg, SOUP_STATUS_CREATED, root);
    }
  if (!u->finished)
    soup_server_message_unpause (u->msg);
}

/* Once the body is in and written: commit, or answer the error. */
static void
maybe_finish (Upload *u)
{
  if (!u->body_done || u->writing || u->queued.length > 0 || u->finished)
    return;
  if (u->error != NULL || u->writer == NULL)
    {
      if (u->error != NULL)
        reply_blob_error (u->msg, u->error);
      else
        mero_server_reply_error (u->msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "failed",
                                 "the upload was not written");
      soup_server_message_unpause (u->msg);
      return;
    }
  mero_blob_writer_commit_async (g_steal_pointer (&u->writer), u->manager, on_committed,
                                 upload_ref (u));
}

static void
write_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  Upload *u = g_object_get_data (G_OBJECT (task), "mero-upload");
  GPtrArray *pieces = task_data;
  GError *error = NULL;

  if (u->writer == NULL)
    u->writer = mero_blob_writer_new (u->manager, &error);
  for (guint i = 0; error == NULL && i < pieces->len; i++)
    {
      GBytes *piece = g_ptr_array_index (pieces, i);

      mero_blob_writer_write (u->writer, g_bytes_get_data (piece, NULL),
                              g_bytes_get_size (piece), &error);
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_written (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Upload) u = user_data;
  GError *error = NULL;

  u->writing = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_clear_pointer (&u->writer, mero_blob_writer_free);
      if (u->error == NULL)
        u->error = error;
      else
        g_error_free (error);
    }
  if (u->queued.length > 0)
    {
      start_write (u);
      return;
    }
  if (u->paused && !u->body_done && !u->finished)
    {
      u->paused = FALSE;
      soup_server_message_unpause (u->msg);
    }
  maybe_finish (u);
}

static void
start_write (Upload *u)
{
  g_autoptr (GTask) task = g_task_new (NULL, NULL, on_written, upload_ref (u));
  GPtrArray *pieces = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);

  /* After an error the pieces only need dropping (the body is still read
   * to its end so the client gets an answer). */
  while (u->queued.length > 0)
    {
      GBytes *piece = g_queue_pop_head (&u->queued);

      if (u->error == NULL)
        g_ptr_array_add (pieces, piece);
      else
        g_bytes_unref (piece);
    }
  u->queued_bytes = 0;
  u->writing = TRUE;
  g_object_set_data (G_OBJECT (task), "mero-upload", u);
  g_task_set_task_data (task, pieces, (GDestroyNotify) g_ptr_array_unref);
  g_task_run_in_thread (task, write_thread);
}

static void
on_got_chunk (SoupServerMessage *msg, GBytes *chunk, gpointer user_data)
{
  Upload *u = user_data;

  g_queue_push_tail (&u->queued, g_bytes_ref (chunk));
  u->queued_bytes += g_bytes_get_size (chunk);
  if (!u->writing)
    start_write (u);
  else if (u->queued_bytes > MERO_SERVER_BLOB_MAX_QUEUED && !u->paused)
    {
      u->paused = TRUE;
      soup_server_message_pause (msg);
    }
}

static void
on_upload_finished (SoupServerMessage *msg, gpointer user_data)
{
  Upload *u = user_data;

  u->finished = TRUE;
}

gboolean
mero_server_blobs_is_upload (SoupServerMessage *msg)
{
  GUri *uri = soup_server_message_get_uri (msg);

  return g_str_equal (soup_server_message_get_method (msg), "PUT") && uri != NULL
         && g_strcmp0 (g_uri_get_path (uri), BLOBS_PATH) == 0;
}

/* ?public=true|1|false|0, absent = FALSE; FALSE for any other value. */
static gboolean
query_public (SoupServerMessage *msg, gboolean *is_public)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_autoptr (GHashTable) params = NULL;
  const char *value;

  *is_public = FALSE;
  if (query != NULL)
    params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  value = params != NULL ? g_hash_table_lookup (params, "public") : NULL;
  if (value == NULL || g_str_equal (value, "false") || g_str_equal (value, "0"))
    return TRUE;
  *is_public = g_str_equal (value, "true") || g_str_equal (value, "1");
  return *is_public;
}

/* The query of a PUT: ?context= and &public=; on a bad one, what to answer. */
static gboolean
upload_query (Upload *u, SoupServerMessage *msg, char **message)
{
  if (!mero_server_blobs_query_context (msg, &u->has_context, u->context))
    {
      *message = g_strdup (_("The context given is not a context id"));
      return FALSE;
    }
  if (!query_public (msg, &u->is_public))
    {
      *message = g_strdup (_("“public” must be true or false"));
      return FALSE;
    }
  /* Public is always to one context: the one a fetcher names. */
  if (u->is_public && !u->has_context)
    {
      *message = g_strdup (_("public=true needs context=CONTEXT: a blob is public to a "
                             "context"));
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_server_blobs_begin_upload (MeroServer *server, SoupServerMessage *msg, guint *status,
                                const char **code, char **message)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);
  Upload *u;
  guint64 max;

  if (server->blobs == NULL)
    {
      *status = SOUP_STATUS_SERVICE_UNAVAILABLE;
      *code = "not-ready";
      *message = g_strdup (_("The node is not ready for blobs"));
      return FALSE;
    }
  max = mero_blob_manager_get_max_size (server->blobs);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH
      && (guint64) soup_message_headers_get_content_length (headers) > max)
    {
      mero_metrics_counter_add (NULL, MERO_BLOB_REFUSED_METRIC, "reason=\"too_large\"", 1, NULL);
      *status = SOUP_STATUS_REQUEST_ENTITY_TOO_LARGE;
      *code = "blob-too-large";
      *message = g_strdup_printf (_("The blob is larger than the limit of %llu bytes "
                                    "(blob.max_size_mb)"), (unsigned long long) max);
      return FALSE;
    }
  u = g_atomic_rc_box_new0 (Upload);
  if (!upload_query (u, msg, message))
    {
      g_atomic_rc_box_release (u);
      *status = SOUP_STATUS_BAD_REQUEST;
      *code = "invalid-argument";
      return FALSE;
    }
  u->server = server;
  u->manager = mero_blob_manager_ref (server->blobs);
  u->msg = g_object_ref (msg);
  g_queue_init (&u->queued);
  soup_message_body_set_accumulate (soup_server_message_get_request_body (msg), FALSE);
  g_signal_connect (msg, "got-chunk", G_CALLBACK (on_got_chunk), u);
  g_signal_connect (msg, "finished", G_CALLBACK (on_upload_finished), u);
  g_object_set_data_full (G_OBJECT (msg), "mero-blob-upload", u,
                          (GDestroyNotify) upload_unref);
  return TRUE;
}

static void
handle_upload (MeroServer *server, SoupServerMessage *msg)
{
  Upload *u = g_object_get_data (G_OBJECT (msg), "mero-blob-upload");

  if (u == NULL)
    {
      mero_server_reply_error (msg, SOUP_STATUS_INTERNAL_SERVER_ERROR, "failed",
                               "upload not set up");
      return;
    }
  u->body_done = TRUE;
  if (u->paused)
    u->paused = FALSE;   /* the handler's own pause takes over */
  soup_server_message_pause (msg);
  /* An empty body got no chunk: still create the (empty) blob. */
  if (u->writer == NULL && !u->writing && u->error == NULL)
    start_write (u);
  else
    maybe_finish (u);
}

/* ---- downloads ---- */

typedef struct {
  SoupServerMessage *msg;       /* ref */
  MeroBlobReader *reader;
  gboolean finished;
  gboolean reading;
} Download;

static void
download_free (Download *d)
{
  mero_blob_reader_free (d->reader);
  g_object_unref (d->msg);
}

static Download *
download_ref (Download *d)
{
  return g_atomic_rc_box_acquire (d);
}

static void
download_unref (Download *d)
{
  g_atomic_rc_box_release_full (d, (GDestroyNotify) download_free);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Download, download_unref)

static void read_next (Download *d);

static void
on_piece (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Download) d = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) piece = mero_blob_reader_next_finish (d->reader, result, &error);
  SoupMessageBody *body = soup_server_message_get_response_body (d->msg);

  d->reading = FALSE;
  if (d->finished)
    return;
  if (error != NULL)
    {
      /* Headers are out: a short body tells the client (Content-Length). */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "blob-download-cut",
                        "MESSAGE", "blob download stopped: %s", error->message);
      soup_message_body_complete (body);
    }
  else if (piece == NULL)
    soup_message_body_complete (body);
  else
    soup_message_body_append_bytes (body, piece);
  soup_server_message_unpause (d->msg);
}

static void
read_next (Download *d)
{
  d->reading = TRUE;
  soup_server_message_pause (d->msg);
  mero_blob_reader_next_async (d->reader, NULL, on_piece, download_ref (d));
}

static void
on_wrote_chunk (SoupServerMessage *msg, gpointer user_data)
{
  Download *d = user_data;

  if (!d->reading && !d->finished)
    read_next (d);
}

static void
on_download_finished (SoupServerMessage *msg, gpointer user_data)
{
  Download *d = user_data;

  d->finished = TRUE;
}

static void
handle_get (MeroServer *server, SoupServerMessage *msg, const guint8 id[32], gboolean head)
{
  SoupMessageHeaders *req = soup_server_message_get_request_headers (msg);
  SoupMessageHeaders *resp = soup_server_message_get_response_headers (msg);
  g_autoptr (GError) error = NULL;
  g_autofree char *etag = NULL, *text = NULL;
  MeroBlobMeta info;
  SoupRange *ranges = NULL;
  int n_ranges = 0;
  guint64 offset = 0, length;
  guint status = SOUP_STATUS_OK;
  Download *d;

  /* One record read (the store's point lookup) on the main thread, as
   * the other admin endpoints do; the bytes are read on workers. */
  if (!mero_blob_manager_info (server->blobs, id, &info, &error))
    {
      reply_blob_error (msg, error);
      return;
    }
  length = info.size;
  if (soup_message_headers_get_one (req, "Range") != NULL)
    {
      if (!soup_message_headers_get_ranges (req, (goffset) info.size, &ranges, &n_ranges))
        {
          g_autofree char *range = g_strdup_printf ("bytes */%" G_GUINT64_FORMAT, info.size);

          soup_message_headers_replace (resp, "Content-Range", range);
          mero_server_reply_error (msg, SOUP_STATUS_REQUESTED_RANGE_NOT_SATISFIABLE, "range",
                                   "the range lies outside the blob");
          return;
        }
      /* Several ranges would need multipart/byteranges: serve them whole. */
      if (n_ranges == 1)
        {
          offset = (guint64) ranges[0].start;
          length = (guint64) (ranges[0].end - ranges[0].start + 1);
          status = SOUP_STATUS_PARTIAL_CONTENT;
          soup_message_headers_set_content_range (resp, ranges[0].start, ranges[0].end,
                                                  (goffset) info.size);
        }
      soup_message_headers_free_ranges (req, ranges);
    }
  text = mero_blob_id_to_string (id);
  etag = g_strdup_printf ("\"%s\"", text);
  soup_message_headers_replace (resp, "ETag", etag);
  soup_message_headers_replace (resp, "Accept-Ranges", "bytes");
  soup_message_headers_set_content_type (resp, "application/octet-stream", NULL);
  soup_server_message_set_status (msg, status, NULL);
  if (head || length == 0)
    {
      /* libsoup sends no body for HEAD but keeps the length we give. */
      soup_message_headers_set_content_length (resp, (goffset) length);
      return;
    }
  d = g_atomic_rc_box_new0 (Download);
  d->msg = g_object_ref (msg);
  d->reader = mero_blob_reader_open (server->blobs, id, offset, length, &error);
  if (d->reader == NULL)
    {
      download_unref (d);
      reply_blob_error (msg, error);
      return;
    }
  soup_message_headers_set_encoding (resp, SOUP_ENCODING_CONTENT_LENGTH);
  soup_message_headers_set_content_length (resp, (goffset) length);
  soup_message_body_set_accumulate (soup_server_message_get_response_body (msg), FALSE);
  g_signal_connect (msg, "wrote-chunk", G_CALLBACK (on_wrote_chunk), d);
  g_signal_connect (msg, "finished", G_CALLBACK (on_download_finished), d);
  g_object_set_data_full (G_OBJECT (msg), "mero-blob-download", d,
                          (GDestroyNotify) download_unref);
  read_next (d);
}

static void
handle_list (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) list = mero_blob_manager_list (server->blobs, &error);
  g_autoptr (JsonNode) root = NULL;
  JsonArray *array;

  if (list == NULL)
    {
      reply_blob_error (msg, error);
      return;
    }
  root = json_node_new (JSON_NODE_ARRAY);
  array = json_array_sized_new (list->len);
  for (guint i = 0; i < list->len; i++)
    json_array_add_element (array, info_to_json (&g_array_index (list, MeroBlobMeta, i)));
  json_node_take_array (root, array);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

static void
on_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupServerMessage) msg = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  guint32 left = 0;

  if (!mero_blob_manager_delete_finish (NULL, result, &left, &error))
    reply_blob_error (msg, error);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "refcount");
      json_builder_add_int_value (b, left);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      mero_server_reply_json (msg, SOUP_STATUS_OK, root);
    }
  soup_server_message_unpause (msg);
}

void
mero_server_handle_blobs (MeroServer *server, SoupServerMessage *msg, const char *path)
{
  const char *method = soup_server_message_get_method (msg);
  g_autoptr (GError) error = NULL;
  guint8 id[32];

  if (server->blobs == NULL)
    {
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not-ready",
                               _("The node is not ready for blobs"));
      return;
    }
  if (g_str_equal (path, BLOBS_PATH))
    {
      if (g_str_equal (method, "PUT"))
        handle_upload (server, msg);
      else if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
        handle_list (server, msg);
      else
        {
          soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                        "GET, HEAD, PUT");
          mero_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                                   "method not allowed on this endpoint");
        }
      return;
    }
  if (!g_str_equal (method, "GET") && !g_str_equal (method, "HEAD")
      && !g_str_equal (method, "DELETE"))
    {
      soup_message_headers_replace (soup_server_message_get_response_headers (msg), "Allow",
                                    "GET, HEAD, DELETE");
      mero_server_reply_error (msg, SOUP_STATUS_METHOD_NOT_ALLOWED, "method-not-allowed",
                               "method not allowed on this endpoint");
      return;
    }
  if (!mero_blob_id_parse (path + strlen (BLOB_PREFIX), id, &error))
    {
      reply_blob_error (msg, error);
      return;
    }
  if (g_str_equal (method, "GET") || g_str_equal (method, "HEAD"))
    handle_get (server, msg, id, g_str_equal (method, "HEAD"));
  else
    {
      soup_server_message_pause (msg);
      mero_blob_manager_delete_async (server->blobs, id, on_deleted, g_object_ref (msg));
    }
}

static void
on_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (SoupServerMessage) msg = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  const char *blob_id = g_object_get_data (G_OBJECT (msg), "mero-blob-id");
  guint64 size = 0;

  if (!mero_blob_net_fetch_finish (NULL, result, &size, &error))
    reply_blob_error (msg, error);
  else
    {
      json_builder_begin_object (b);
      json_builder_set_member_name (b, "blob_id");
      json_builder_add_string_value (b, blob_id);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) size);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      mero_server_reply_json (msg, SOUP_STATUS_OK, root);
    }
  soup_server_message_unpause (msg);
}

/* The D-Bus FetchBlob over HTTP: answers once the blob is held. */
void
mero_server_handle_blob_fetch (MeroServer *server, SoupServerMessage *msg,
                               const char *const *args)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GPtrArray) providers = g_ptr_array_new ();
  JsonObject *body;
  JsonNode *node;

  if (server->blobs == NULL || server->blob_net == NULL)
    {
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not-ready",
                               _("The node is not ready to fetch blobs"));
      return;
    }
  body = mero_server_read_json_object (msg, parser);
  if (body == NULL)
    return;
  node = json_object_get_member (body, "context_id");
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-argument",
                               "\"context_id\" (string) is required");
      return;
    }
  node = json_object_get_member (body, "providers");
  if (node != NULL && JSON_NODE_HOLDS_ARRAY (node))
    {
      JsonArray *array = json_node_get_array (node);

      for (guint i = 0; i < json_array_get_length (array) && i < 64; i++)
        {
          const char *peer = json_node_get_string (json_array_get_element (array, i));

          if (peer != NULL)
            g_ptr_array_add (providers, (gpointer) peer);
        }
    }
  g_ptr_array_add (providers, NULL);
  g_object_set_data_full (G_OBJECT (msg), "mero-blob-id", g_strdup (args[0]), g_free);
  soup_server_message_pause (msg);
  mero_blob_net_fetch_async (server->blob_net, json_object_get_string_member (body, "context_id"),
                             args[0], (const char *const *) providers->pdata, NULL, on_fetched,
                             g_object_ref (msg));
}
