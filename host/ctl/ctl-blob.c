/* ctl-blob.c: meroctl blob upload|download|list|info|delete over D-Bus.
 *
 * The file itself never crosses the bus: its descriptor does, and the
 * node reads or writes it.  The descriptor shares its file offset with
 * ours, so polling the offset shows how far the node has got (the
 * progress bar); a pipe has no offset and shows bytes only at the end. */
#include "ctl-commands.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl-progress.h"

typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
  int fd;
  CtlProgress *progress;
} Transfer;

static void
on_call_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Transfer *t = user_data;

  t->result = g_object_ref (result);
  g_main_loop_quit (t->loop);
}

static gboolean
on_poll (gpointer user_data)
{
  Transfer *t = user_data;
  off_t offset = lseek (t->fd, 0, SEEK_CUR);

  if (offset >= 0)
    ctl_progress_update (t->progress, (guint64) offset);
  return G_SOURCE_CONTINUE;
}

/* Runs the loop until the call started with on_call_done finishes,
 * showing progress meanwhile. */
static void
wait_transfer (Transfer *t)
{
  g_autoptr (GSource) poll = g_timeout_source_new (CTL_PROGRESS_REDRAW_MS);

  g_source_set_callback (poll, on_poll, t, NULL);
  g_source_attach (poll, NULL);
  g_main_loop_run (t->loop);
  g_source_destroy (poll);
}

static GUnixFDList *
fd_list_for (int fd, GVariant **handle, GError **error)
{
  g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();
  int index = g_unix_fd_list_append (list, fd, error);

  if (index < 0)
    return NULL;
  *handle = g_variant_new_handle (index);
  return g_steal_pointer (&list);
}

/* One added blob: its id (and, for one of several files, the file:
 * "ID  FILE"; JSON: blob_id, size and file). */
static void
print_added (const CtlOptions *options, const char *blob_id, guint64 size, const char *path)
{
  if (options->json)
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "blob_id");
      json_builder_add_string_value (b, blob_id);
      json_builder_set_member_name (b, "size");
      json_builder_add_int_value (b, (gint64) size);
      if (path != NULL)
        {
          json_builder_set_member_name (b, "file");
          json_builder_add_string_value (b, path);
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      ctl_print_json_node (root);
    }
  else if (path != NULL)
    g_print ("%s  %s\n", blob_id, path);
  else
    g_print ("%s\n", blob_id);
}

static int
blob_upload (MeroDBusNode1 *node, const CtlOptions *options, const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GUnixFDList) list = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autofree char *blob_id = NULL;
  GVariantDict dict;
  GVariant *handle = NULL;
  Transfer t = { .loop = loop };
  struct stat st;
  guint64 size = 0;
  gboolean ok;

  if (options->blob_public && options->watch_context == NULL)
    return ctl_usage_error (_("--public needs --context: a blob is public to a context"));
  t.fd = open (path, O_RDONLY | O_CLOEXEC);
  if (t.fd < 0 || fstat (t.fd, &st) != 0)
    {
      g_printerr (_("meroctl: cannot read %s: %s\n"), path, g_strerror (errno));
      if (t.fd >= 0)
        close (t.fd);
      return CTL_EXIT_FAILED;
    }
  list = fd_list_for (t.fd, &handle, &error);
  if (list == NULL)
    {
      close (t.fd);
      return ctl_print_error (error);
    }
  g_variant_dict_init (&dict, NULL);
  if (options->watch_context != NULL)
    g_variant_dict_insert (&dict, "context", "s", options->watch_context);
  if (options->blob_public)
    g_variant_dict_insert (&dict, "public", "b", TRUE);
  t.progress = ctl_progress_new (_("uploaded"), S_ISREG (st.st_mode) ? (guint64) st.st_size : 0);
  mero_dbus_node1_call_add_blob (node, handle, g_variant_dict_end (&dict), list, NULL,
                                 on_call_done, &t);
  wait_transfer (&t);
  ok = mero_dbus_node1_call_add_blob_finish (node, &blob_id, &size, NULL, t.result, &error);
  g_object_unref (t.result);
  close (t.fd);
  ctl_progress_finish (t.progress, size, ok);
  if (!ok)
    return ctl_print_error (error);
  print_added (options, blob_id, size, NULL);
  return CTL_EXIT_OK;
}

typedef struct {
  GMainLoop *loop;
  GAsyncResult *result;
  const char *blob_id;
  CtlProgress *progress;
  guint64 total;
} Fetch;

static void
on_fetch_done (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fetch *f = user_data;

  f->result = g_object_ref (result);
  g_main_loop_quit (f->loop);
}

static void
on_fetch_progress (MeroDBusNode1 *node, const char *blob_id, guint64 done, guint64 total,
                   guint providers, gpointer user_data)
{
  Fetch *f = user_data;

  if (g_strcmp0 (blob_id, f->blob_id) != 0)
    return;
  /* The size is known from the first signal on. */
  if (f->progress == NULL)
    {
      f->total = total;
      f->progress = ctl_progress_new (_("fetched"), total);
    }
  ctl_progress_update (f->progress, done);
}

/* A blob not held by the node is fetched from the context's providers
 * first (FetchBlob), with its progress from BlobFetchProgress. */
static gboolean
blob_fetch (MeroDBusNode1 *node, const CtlOptions *options, const char *blob_id,
            GError **error)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Fetch f = { .loop = loop, .blob_id = blob_id };
  GVariantDict dict;
  gulong handler;
  guint64 size = 0;
  gboolean ok;

  handler = g_signal_connect (node, "blob-fetch-progress", G_CALLBACK (on_fetch_progress), &f);
  g_variant_dict_init (&dict, NULL);
  mero_dbus_node1_call_fetch_blob (node, options->watch_context, blob_id,
                                   g_variant_dict_end (&dict), NULL, on_fetch_done, &f);
  g_main_loop_run (loop);
  g_signal_handler_disconnect (node, handler);
  ok = mero_dbus_node1_call_fetch_blob_finish (node, &size, f.result, error);
  g_object_unref (f.result);
  /* A blob of one chunk comes without progress signals: the summary
   * still says what was fetched. */
  if (f.progress == NULL && ok)
    f.progress = ctl_progress_new (_("fetched"), size);
  if (f.progress != NULL)
    ctl_progress_finish (f.progress, ok ? size : 0, ok);
  return ok;
}

static int
blob_download (MeroDBusNode1 *node, const CtlOptions *options, const char *blob_id,
               const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GUnixFDList) list = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  GVariant *handle = NULL;
  Transfer t = { .loop = loop };
  guint64 size = 0, written = 0;
  gboolean ok;

  if (!mero_dbus_node1_call_get_blob_info_sync (node, blob_id, &info, NULL, &error))
    {
      g_autofree char *remote = g_dbus_error_get_remote_error (error);

      /* Not here: fetched from the context's members, then read. */
      if (options->watch_context == NULL
          || g_strcmp0 (remote, "network.calimero.Node1.Error.BlobNotFound") != 0)
        return ctl_print_error (error);
      g_clear_error (&error);
      if (!blob_fetch (node, options, blob_id, &error)
          || !mero_dbus_node1_call_get_blob_info_sync (node, blob_id, &info, NULL, &error))
        return ctl_print_error (error);
    }
  g_variant_lookup (info, "size", "t", &size);
  t.fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (t.fd < 0)
    {
      g_printerr (_("meroctl: cannot write %s: %s\n"), path, g_strerror (errno));
      return CTL_EXIT_FAILED;
    }
  list = fd_list_for (t.fd, &handle, &error);
  if (list == NULL)
    {
      close (t.fd);
      return ctl_print_error (error);
    }
  t.progress = ctl_progress_new (_("downloaded"), size);
  mero_dbus_node1_call_get_blob (node, blob_id, handle, 0, 0, list, NULL, on_call_done, &t);
  wait_transfer (&t);
  ok = mero_dbus_node1_call_get_blob_finish (node, &written, NULL, t.result, &error);
  g_object_unref (t.result);
  close (t.fd);
  ctl_progress_finish (t.progress, written, ok);
  if (!ok)
    {
      /* No half-written file is left to be mistaken for the blob. */
      g_unlink (path);
      return ctl_print_error (error);
    }
  if (options->json)
    {
      g_autoptr (GVariant) reply = g_variant_ref_sink (
          g_variant_new_parsed ("{'blob_id': <%s>, 'size': <%t>}", blob_id, written));

      ctl_print_json_variant (reply);
    }
  return CTL_EXIT_OK;
}

static void
print_info_text (GVariant *info)
{
  guint64 size = 0, chunks = 0;
  guint32 refcount = 0;
  gint64 created = 0, accessed = 0;
  g_autofree char *size_text = NULL, *human = NULL;
  g_autoptr (GDateTime) c = NULL, a = NULL;
  g_autofree char *c_text = NULL, *a_text = NULL, *chunks_text = NULL, *refs_text = NULL;

  g_variant_lookup (info, "size", "t", &size);
  g_variant_lookup (info, "chunks", "t", &chunks);
  g_variant_lookup (info, "refcount", "u", &refcount);
  g_variant_lookup (info, "created", "x", &created);
  g_variant_lookup (info, "accessed", "x", &accessed);
  human = g_format_size_full (size, G_FORMAT_SIZE_IEC_UNITS);
  size_text = g_strdup_printf ("%" G_GUINT64_FORMAT " (%s)", size, human);
  c = g_date_time_new_from_unix_utc (created / G_USEC_PER_SEC);
  a = g_date_time_new_from_unix_utc (accessed / G_USEC_PER_SEC);
  c_text = g_date_time_format_iso8601 (c);
  a_text = g_date_time_format_iso8601 (a);
  chunks_text = g_strdup_printf ("%" G_GUINT64_FORMAT, chunks);
  refs_text = g_strdup_printf ("%u", refcount);
  ctl_print_labelled (_("Blob"), ctl_dict_string (info, "blob_id"));
  ctl_print_labelled (_("Size"), size_text);
  ctl_print_labelled (_("Chunks"), chunks_text);
  ctl_print_labelled (_("References"), refs_text);
  ctl_print_labelled (_("Created"), c_text);
  ctl_print_labelled (_("Last read"), a_text);
}

/* One PeerId a line, best first (or one JSON object). */
static void
print_providers (const CtlOptions *options, const char *blob_id, const char *context_id,
                 const char *const *peers)
{
  if (options->json)
    {
      GVariantDict dict;
      g_autoptr (GVariant) value = NULL;

      g_variant_dict_init (&dict, NULL);
      g_variant_dict_insert (&dict, "blob_id", "s", blob_id);
      g_variant_dict_insert (&dict, "context_id", "s", context_id);
      g_variant_dict_insert_value (&dict, "providers", g_variant_new_strv (peers, -1));
      value = g_variant_ref_sink (g_variant_dict_end (&dict));
      ctl_print_json_variant (value);
      return;
    }
  if (peers[0] == NULL)
    g_printerr (_("No member of the context is known to hold %s\n"), blob_id);
  for (guint i = 0; peers[i] != NULL; i++)
    g_print ("%s\n", peers[i]);
}

static int
blob_list (MeroDBusNode1 *node, const CtlOptions *options)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) blobs = NULL;
  GVariantIter iter;
  GVariant *info;

  if (!mero_dbus_node1_call_list_blobs_sync (node, &blobs, NULL, &error))
    return ctl_print_error (error);
  g_variant_iter_init (&iter, blobs);
  while ((info = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 size = 0;
      guint32 refcount = 0;

      if (options->json)
        ctl_print_json_variant (info);
      else
        {
          g_variant_lookup (info, "size", "t", &size);
          g_variant_lookup (info, "refcount", "u", &refcount);
          g_print ("%-46s %14" G_GUINT64_FORMAT " %4u\n", ctl_dict_string (info, "blob_id"),
                   size, refcount);
        }
      g_variant_unref (info);
    }
  return CTL_EXIT_OK;
}

/* Several files: AddBlobs, up to MERO_DBUS_ADD_BLOBS_MAX per call, one
 * round trip each.  Prints "ID  FILE" per file added (JSON: blob_id, size,
 * file), each failure on stderr; fails if any failed. */
#define UPLOAD_BATCH 16

static int
blob_upload_many (MeroDBusNode1 *node, const CtlOptions *options, char **paths, guint n)
{
  int status = CTL_EXIT_OK;

  if (options->blob_public && options->watch_context == NULL)
    return ctl_usage_error (_("--public needs --context: a blob is public to a context"));
  for (guint start = 0; start < n; start += UPLOAD_BATCH)
    {
      g_autoptr (GUnixFDList) list = g_unix_fd_list_new ();
      g_autoptr (GVariant) results = NULL;
      g_autoptr (GError) error = NULL;
      guint count = MIN (UPLOAD_BATCH, n - start);
      const char *sent[UPLOAD_BATCH];
      guint n_sent = 0;
      GVariantBuilder handles;
      GVariantDict dict;

      g_variant_builder_init (&handles, G_VARIANT_TYPE ("ah"));
      for (guint i = 0; i < count; i++)
        {
          const char *path = paths[start + i];
          int fd = open (path, O_RDONLY | O_CLOEXEC);
          int index;

          if (fd < 0)
            {
              g_printerr (_("meroctl: cannot read %s: %s\n"), path, g_strerror (errno));
              status = CTL_EXIT_FAILED;
              continue;
            }
          index = g_unix_fd_list_append (list, fd, &error);
          close (fd);
          if (index < 0)
            return ctl_print_error (error);
          g_variant_builder_add (&handles, "h", index);
          sent[n_sent++] = path;
        }
      if (n_sent == 0)
        {
          g_variant_builder_clear (&handles);
          continue;
        }
      g_variant_dict_init (&dict, NULL);
      if (options->watch_context != NULL)
        g_variant_dict_insert (&dict, "context", "s", options->watch_context);
      if (options->blob_public)
        g_variant_dict_insert (&dict, "public", "b", TRUE);
      if (!mero_dbus_node1_call_add_blobs_sync (node, g_variant_builder_end (&handles),
                                                g_variant_dict_end (&dict), list, &results,
                                                NULL, NULL, &error))
        return ctl_print_error (error);
      for (guint i = 0; i < n_sent && i < g_variant_n_children (results); i++)
        {
          const char *blob_id, *message;
          guint64 size;

          g_variant_get_child (results, i, "(&st&s)", &blob_id, &size, &message);
          if (*message != '\0')
            {
              g_printerr ("meroctl: %s: %s\n", sent[i], message);
              status = CTL_EXIT_FAILED;
            }
          else
            print_added (options, blob_id, size, sent[i]);
        }
    }
  return status;
}

int
ctl_blob (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  const char *sub = args[0];
  guint n = g_strv_length (args);
  g_autoptr (GError) error = NULL;

  /* Transfers take as long as the file does. */
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (node), G_MAXINT);
  if (g_strcmp0 (sub, "upload") == 0 && n == 2)
    return blob_upload (node, options, args[1]);
  if (g_strcmp0 (sub, "upload") == 0 && n > 2)
    return blob_upload_many (node, options, args + 1, n - 1);
  if (g_strcmp0 (sub, "download") == 0 && n == 3)
    return blob_download (node, options, args[1], args[2]);
  if (g_strcmp0 (sub, "list") == 0 && n == 1)
    return blob_list (node, options);
  if (g_strcmp0 (sub, "info") == 0 && n == 2)
    {
      g_autoptr (GVariant) info = NULL;

      if (!mero_dbus_node1_call_get_blob_info_sync (node, args[1], &info, NULL, &error))
        return ctl_print_error (error);
      if (options->json)
        ctl_print_json_variant (info);
      else
        print_info_text (info);
      return CTL_EXIT_OK;
    }
  if (g_strcmp0 (sub, "delete") == 0 && n == 2)
    {
      guint left = 0;

      if (!mero_dbus_node1_call_delete_blob_sync (node, args[1], &left, NULL, &error))
        return ctl_print_error (error);
      if (options->json)
        g_print ("{\"blob_id\":\"%s\",\"refcount\":%u}\n", args[1], left);
      else if (left == 0)
        g_print (_("Deleted %s\n"), args[1]);
      else
        g_print (_("%s: %u references left\n"), args[1], left);
      return CTL_EXIT_OK;
    }
  if (g_strcmp0 (sub, "providers") == 0 && n == 2)
    {
      g_auto (GStrv) peers = NULL;

      if (options->watch_context == NULL)
        return ctl_usage_error (_("usage: meroctl blob providers ID --context CONTEXT"));
      if (!mero_dbus_node1_call_find_blob_providers_sync (node, options->watch_context, args[1],
                                                          &peers, NULL, &error))
        return ctl_print_error (error);
      print_providers (options, args[1], options->watch_context,
                       (const char *const *) peers);
      return CTL_EXIT_OK;
    }
  return ctl_usage_error (_("usage: meroctl blob upload FILE... [--context CONTEXT [--public]] | "
                            "download ID FILE [--context CONTEXT] | list | info ID | delete ID "
                            "| providers ID --context CONTEXT"));
}
