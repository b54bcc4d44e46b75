/* ctl-blob-http.c: meroctl --url URL blob …, over the admin API.
 *
 * Uploads stream the file as the request body (PUT /admin-api/blobs) and
 * downloads stream the response into the file, so neither holds the blob
 * in memory; progress comes from the bytes libsoup reports.  A download
 * with --context has the node fetch the blob from the context first. */
#include "ctl-commands.h"

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

#include "ctl-progress.h"
#include "mero-build-config.h"

#define COPY_BUFFER (256 * 1024)
/* JSON answers of the blob endpoints (a list of many blobs included). */
#define MAX_JSON_REPLY (64 * 1024 * 1024)

typedef struct {
  SoupSession *session;
  const char *url;
  const char *token;
} Http;

static SoupMessage *
new_message (Http *h, const char *method, const char *path)
{
  g_autofree char *full = g_strconcat (h->url, g_str_has_suffix (h->url, "/") ? path + 1 : path,
                                       NULL);
  SoupMessage *msg = soup_message_new (method, full);

  if (msg == NULL)
    {
      g_printerr (_("meroctl: invalid URL “%s”\n"), h->url);
      return NULL;
    }
  if (h->token != NULL && h->token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", h->token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  return msg;
}

/* The node's {"error":{"message"}} or a generic line; returns CTL_EXIT_FAILED. */
static int
print_http_failure (SoupMessage *msg, GBytes *body, const GError *error)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;

  if (error != NULL)
    {
      g_printerr (_("meroctl: no node answers: %s\n"), error->message);
      return CTL_EXIT_FAILED;
    }
  if (body != NULL
      && json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                     (gssize) g_bytes_get_size (body), NULL)
      && (root = json_parser_get_root (parser)) != NULL && JSON_NODE_HOLDS_OBJECT (root)
      && json_object_has_member (json_node_get_object (root), "error"))
    {
      JsonObject *e = json_object_get_object_member (json_node_get_object (root), "error");

      g_printerr ("meroctl: %s\n", json_object_get_string_member_with_default (e, "message", ""));
      return CTL_EXIT_FAILED;
    }
  g_printerr (_("meroctl: unexpected answer (HTTP %u)\n"), soup_message_get_status (msg));
  return CTL_EXIT_FAILED;
}

/* Sends a request without a body; the parsed JSON on 2xx, else NULL with
 * the failure printed. */
static JsonNode *
request_json (Http *h, const char *method, const char *path)
{
  g_autoptr (SoupMessage) msg = new_message (h, method, path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();

  if (msg == NULL)
    return NULL;
  body = soup_session_send_and_read (h->session, msg, NULL, &error);
  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg))
      || g_bytes_get_size (body) > MAX_JSON_REPLY
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      (gssize) g_bytes_get_size (body), NULL))
    {
      print_http_failure (msg, body, error);
      return NULL;
    }
  return json_node_copy (json_parser_get_root (parser));
}

static void
on_wrote_body_data (SoupMessage *msg, guint chunk_size, gpointer user_data)
{
  guint64 *done = g_object_get_data (G_OBJECT (msg), "mero-done");

  *done += chunk_size;
  ctl_progress_update (user_data, *done);
}

/* @several: one of several files, so the line names the file too
 * ("ID  FILE"; JSON gains "file"), as over D-Bus. */
static int
http_upload (Http *h, const CtlOptions *options, const char *path, gboolean several)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GError) error = NULL;
  g_autoptr (GFileInputStream) in = g_file_read (file, NULL, &error);
  g_autoptr (GFileInfo) info = NULL;
  g_autoptr (SoupMessage) msg = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  guint64 done = 0;
  goffset size;
  CtlProgress *progress;
  JsonObject *reply;

  if (options->blob_public && options->watch_context == NULL)
    return ctl_usage_error (_("--public needs --context: a blob is public to a context"));
  if (in == NULL
      || (info = g_file_input_stream_query_info (in, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL,
                                                 &error)) == NULL)
    {
      g_printerr (_("meroctl: cannot read %s: %s\n"), path, error->message);
      return CTL_EXIT_FAILED;
    }
  size = g_file_info_get_size (info);
  if (options->watch_context != NULL)
    {
      /* Shared in a context: the node announces it there. */
      g_autofree char *escaped = g_uri_escape_string (options->watch_context, NULL, FALSE);
      g_autofree char *resource = g_strconcat ("/admin-api/blobs?context=", escaped,
                                               options->blob_public ? "&public=true" : "",
                                               NULL);

      msg = new_message (h, "PUT", resource);
    }
  else
    msg = new_message (h, "PUT", "/admin-api/blobs");
  if (msg == NULL)
    return CTL_EXIT_FAILED;
  soup_message_set_request_body (msg, "application/octet-stream", G_INPUT_STREAM (in), size);
  progress = ctl_progress_new (_("uploaded"), (guint64) size);
  g_object_set_data (G_OBJECT (msg), "mero-done", &done);
  g_signal_connect (msg, "wrote-body-data", G_CALLBACK (on_wrote_body_data), progress);
  body = soup_session_send_and_read (h->session, msg, NULL, &error);
  if (body == NULL || soup_message_get_status (msg) != SOUP_STATUS_CREATED
      || !json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                      (gssize) g_bytes_get_size (body), NULL)
      || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    {
      ctl_progress_finish (progress, done, FALSE);
      return print_http_failure (msg, body, error);
    }
  ctl_progress_finish (progress, (guint64) size, TRUE);
  reply = json_node_get_object (json_parser_get_root (parser));
  if (several)
    json_object_set_string_member (reply, "file", path);
  if (options->json)
    ctl_print_json_node (json_parser_get_root (parser));
  else if (several)
    g_print ("%s  %s\n", json_object_get_string_member_with_default (reply, "blob_id", ""), path);
  else
    g_print ("%s\n", json_object_get_string_member_with_default (reply, "blob_id", ""));
  return CTL_EXIT_OK;
}

/* With --context, the node first fetches the blob from the context's
 * providers unless it holds it (POST /admin-api/blobs/{id}/fetch, as
 * FetchBlob over D-Bus); FALSE with the failure printed. */
static gboolean
http_fetch (Http *h, const char *context_id, const char *blob_id)
{
  /* A large fetch may take minutes (the node bounds it): no socket
   * timeout while the node answers. */
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "user-agent", "meroctl/" MERO_VERSION, "timeout", 0, NULL);
  Http fetch = { session, h->url, h->token };
  g_autofree char *escaped = g_uri_escape_string (blob_id, NULL, FALSE);
  g_autofree char *resource = g_strconcat ("/admin-api/blobs/", escaped, "/fetch", NULL);
  g_autoptr (SoupMessage) msg = new_message (&fetch, "POST", resource);
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) request = NULL;
  g_autoptr (GBytes) body = NULL;
  char *json;

  if (msg == NULL)
    return FALSE;
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "context_id");
  json_builder_add_string_value (builder, context_id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  request = g_bytes_new_take (json, strlen (json));
  soup_message_set_request_body_from_bytes (msg, "application/json", request);
  body = soup_session_send_and_read (session, msg, NULL, &error);
  if (body == NULL || !SOUP_STATUS_IS_SUCCESSFUL (soup_message_get_status (msg)))
    {
      print_http_failure (msg, body, error);
      return FALSE;
    }
  return TRUE;
}

static int
http_download (Http *h, const CtlOptions *options, const char *blob_id, const char *path)
{
  g_autofree char *resource = g_strconcat ("/admin-api/blobs/", blob_id, NULL);
  g_autoptr (SoupMessage) msg = new_message (h, "GET", resource);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) in = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileOutputStream) out = NULL;
  g_autofree guint8 *buf = g_malloc (COPY_BUFFER);
  CtlProgress *progress;
  guint64 done = 0, total;
  gboolean ok = TRUE;

  if (msg == NULL)
    return CTL_EXIT_FAILED;
  if (options->watch_context != NULL && !http_fetch (h, options->watch_context, blob_id))
    return CTL_EXIT_FAILED;
  in = soup_session_send (h->session, msg, NULL, &error);
  if (in == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_autoptr (GBytes) body = NULL;

      if (in != NULL)
        body = g_input_stream_read_bytes (in, 64 * 1024, NULL, NULL);
      return print_http_failure (msg, body, error);
    }
  out = g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL, &error);
  if (out == NULL)
    {
      g_printerr (_("meroctl: cannot write %s: %s\n"), path, error->message);
      return CTL_EXIT_FAILED;
    }
  total = (guint64) soup_message_headers_get_content_length (soup_message_get_response_headers (msg));
  progress = ctl_progress_new (_("downloaded"), total);
  for (;;)
    {
      gssize n = g_input_stream_read (in, buf, COPY_BUFFER, NULL, &error);

      if (n <= 0)
        {
          ok = n == 0;
          break;
        }
      if (!g_output_stream_write_all (G_OUTPUT_STREAM (out), buf, (gsize) n, NULL, NULL, &error))
        {
          ok = FALSE;
          break;
        }
      done += (guint64) n;
      ctl_progress_update (progress, done);
    }
  /* A short body means the node stopped (a chunk failed its check). */
  if (ok && done != total)
    {
      ok = FALSE;
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                   _("the node sent %llu of %llu bytes"), (unsigned long long) done,
                   (unsigned long long) total);
    }
  ctl_progress_finish (progress, done, ok);
  if (ok)
    ok = g_output_stream_close (G_OUTPUT_STREAM (out), NULL, &error);
  if (!ok)
    {
      g_output_stream_close (G_OUTPUT_STREAM (out), NULL, NULL);
      g_unlink (path);
      g_printerr (_("meroctl: download of %s failed: %s\n"), blob_id, error->message);
      return CTL_EXIT_FAILED;
    }
  if (options->json)
    g_print ("{\"blob_id\":\"%s\",\"size\":%" G_GUINT64_FORMAT "}\n", blob_id, done);
  return CTL_EXIT_OK;
}

static void
print_info_object (JsonObject *o)
{
  g_print ("%-46s %14" G_GINT64_FORMAT " %4" G_GINT64_FORMAT "\n",
           json_object_get_string_member_with_default (o, "blob_id", ""),
           json_object_get_int_member_with_default (o, "size", 0),
           json_object_get_int_member_with_default (o, "refcount", 0));
}

int
ctl_blob_http (const CtlOptions *options, const char *url, const char *token, char **args)
{
  g_autoptr (SoupSession) session = soup_session_new_with_options (
      "user-agent", "meroctl/" MERO_VERSION, NULL);
  Http h = { session, url, token };
  const char *sub = args[0];
  guint n = g_strv_length (args);
  g_autoptr (JsonNode) root = NULL;

  if (g_strcmp0 (sub, "upload") == 0 && n == 2)
    return http_upload (&h, options, args[1], FALSE);
  if (g_strcmp0 (sub, "upload") == 0 && n > 2)
    {
      /* One PUT per file: each is streamed, never held whole. */
      int status = CTL_EXIT_OK;

      for (guint i = 1; i < n; i++)
        if (http_upload (&h, options, args[i], TRUE) != CTL_EXIT_OK)
          status = CTL_EXIT_FAILED;
      return status;
    }
  if (g_strcmp0 (sub, "download") == 0 && n == 3)
    return http_download (&h, options, args[1], args[2]);
  if (g_strcmp0 (sub, "list") == 0 && n == 1)
    {
      JsonArray *array;

      root = request_json (&h, "GET", "/admin-api/blobs");
      if (root == NULL || !JSON_NODE_HOLDS_ARRAY (root))
        return CTL_EXIT_FAILED;
      array = json_node_get_array (root);
      for (guint i = 0; i < json_array_get_length (array); i++)
        if (options->json)
          ctl_print_json_node (json_array_get_element (array, i));
        else
          print_info_object (json_array_get_object_element (array, i));
      return CTL_EXIT_OK;
    }
  if ((g_strcmp0 (sub, "info") == 0 || g_strcmp0 (sub, "delete") == 0) && n == 2)
    {
      gboolean info = g_str_equal (sub, "info");
      g_autofree char *resource = NULL;

      /* info: HEAD would do, but the list entry carries the record. */
      resource = g_strconcat ("/admin-api/blobs", info ? "" : "/", info ? "" : args[1], NULL);
      root = request_json (&h, info ? "GET" : "DELETE", resource);
      if (root == NULL)
        return CTL_EXIT_FAILED;
      if (info)
        {
          JsonArray *array = JSON_NODE_HOLDS_ARRAY (root) ? json_node_get_array (root) : NULL;

          for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
            {
              JsonObject *o = json_array_get_object_element (array, i);

              if (g_strcmp0 (json_object_get_string_member_with_default (o, "blob_id", ""),
                             args[1]) != 0)
                continue;
              if (options->json)
                ctl_print_json_node (json_array_get_element (array, i));
              else
                print_info_object (o);
              return CTL_EXIT_OK;
            }
          g_printerr (_("meroctl: No blob %s\n"), args[1]);
          return CTL_EXIT_FAILED;
        }
      if (options->json)
        ctl_print_json_node (root);
      else
        {
          long long left = json_object_get_int_member_with_default (json_node_get_object (root),
                                                                    "refcount", 0);

          if (left == 0)
            g_print (_("Deleted %s\n"), args[1]);
          else
            g_print (_("%s: %lld references left\n"), args[1], left);
        }
      return CTL_EXIT_OK;
    }
  if (g_strcmp0 (sub, "providers") == 0 && n == 2)
    {
      g_autofree char *escaped_id = NULL, *escaped_ctx = NULL, *resource = NULL;
      JsonArray *peers;

      if (options->watch_context == NULL)
        return ctl_usage_error (_("usage: meroctl blob providers ID --context CONTEXT"));
      escaped_id = g_uri_escape_string (args[1], NULL, FALSE);
      escaped_ctx = g_uri_escape_string (options->watch_context, NULL, FALSE);
      resource = g_strdup_printf ("/admin-api/blobs/%s/providers?context_id=%s", escaped_id,
                                  escaped_ctx);
      root = request_json (&h, "GET", resource);
      if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
        return CTL_EXIT_FAILED;
      if (options->json)
        {
          ctl_print_json_node (root);
          return CTL_EXIT_OK;
        }
      peers = json_object_has_member (json_node_get_object (root), "providers")
                  ? json_object_get_array_member (json_node_get_object (root), "providers")
                  : NULL;
      if (peers == NULL || json_array_get_length (peers) == 0)
        g_printerr (_("No member of the context is known to hold %s\n"), args[1]);
      for (guint i = 0; peers != NULL && i < json_array_get_length (peers); i++)
        g_print ("%s\n", json_array_get_string_element (peers, i));
      return CTL_EXIT_OK;
    }
  return ctl_usage_error (_("usage: meroctl blob upload FILE... [--context CONTEXT [--public]] | "
                            "download ID FILE [--context CONTEXT] | list | info ID | delete ID "
                            "| providers ID --context CONTEXT"));
}
