/* mero-dbus-blobs.c: the blob methods of network.calimero.Node1.
 *
 * File descriptors come over the bus (`h`), so no blob passes through
 * the bus itself; the manager reads and writes them on its workers.
 * Errors carry the names network.calimero.Node1.Error.{BlobNotFound,
 * BlobCorrupt, BlobTooLarge, BlobRange, BlobInvalid, BlobFailed,
 * BlobNotReady, BlobRefused, BlobTimedOut}: names of their own, because GDBus maps each name to one
 * error domain only and the contexts methods already own InvalidArgument
 * and Failed. */
#define G_LOG_DOMAIN "merod"
#include "dbus/mero-dbus-service-private.h"

#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-fetch.h"
#include "blob/mero-blob-manager.h"
#include "blob/mero-blob-providers.h"
#include "net/mero-base58.h"

static const GDBusErrorEntry blob_errors[] = {
  { MERO_BLOB_ERROR_NOT_FOUND, "network.calimero.Node1.Error.BlobNotFound" },
  { MERO_BLOB_ERROR_CORRUPT, "network.calimero.Node1.Error.BlobCorrupt" },
  { MERO_BLOB_ERROR_TOO_LARGE, "network.calimero.Node1.Error.BlobTooLarge" },
  { MERO_BLOB_ERROR_RANGE, "network.calimero.Node1.Error.BlobRange" },
  { MERO_BLOB_ERROR_INVALID, "network.calimero.Node1.Error.BlobInvalid" },
  { MERO_BLOB_ERROR_IO, "network.calimero.Node1.Error.BlobFailed" },
  { MERO_BLOB_ERROR_CLOSED, "network.calimero.Node1.Error.BlobNotReady" },
  { MERO_BLOB_ERROR_REFUSED, "network.calimero.Node1.Error.BlobRefused" },
  { MERO_BLOB_ERROR_TIMED_OUT, "network.calimero.Node1.Error.BlobTimedOut" },
};

static void
register_errors (void)
{
  static gsize once = 0;
  static volatile gsize quark = 0;

  if (g_once_init_enter (&once))
    {
      g_dbus_error_register_error_domain ("mero-blob-error-quark", &quark, blob_errors,
                                          G_N_ELEMENTS (blob_errors));
      g_once_init_leave (&once, 1);
    }
}

static gboolean
return_error (GDBusMethodInvocation *invocation, GError *error)
{
  /* I/O errors of the fd itself (GIO) report as Failed. */
  if (error->domain != MERO_BLOB_ERROR)
    {
      GError *mapped = g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO, error->message);

      g_error_free (error);
      error = mapped;
    }
  g_dbus_method_invocation_take_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static MeroBlobManager *
manager_or_error (gpointer service, GDBusMethodInvocation *invocation)
{
  MeroBlobManager *manager = mero_dbus_service_get_blobs (service);

  if (manager == NULL)
    return_error (invocation, g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED,
                                                   _("The node is not ready for blobs")));
  return manager;
}

static gboolean
parse_id (GDBusMethodInvocation *invocation, const char *text, guint8 id[32])
{
  GError *error = NULL;

  if (mero_blob_id_parse (text, id, &error))
    return TRUE;
  return_error (invocation, error);
  return FALSE;
}

static int
take_fd (GDBusMethodInvocation *invocation, GUnixFDList *fd_list, GVariant *handle)
{
  GError *error = NULL;
  int fd = -1;
  gint32 index = g_variant_get_handle (handle);

  if (fd_list != NULL && index >= 0 && index < g_unix_fd_list_get_length (fd_list))
    fd = g_unix_fd_list_get (fd_list, index, &error);
  if (fd < 0)
    return_error (invocation,
                  error != NULL ? error
                                : g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                                       _("No file descriptor was passed")));
  return fd;
}

GVariant *
mero_dbus_blob_info_to_variant (const MeroBlobMeta *meta)
{
  GVariantDict dict;
  g_autofree char *id = mero_blob_id_to_string (meta->id);

  g_variant_dict_init (&dict, NULL);
  g_variant_dict_insert (&dict, "blob_id", "s", id);
  g_variant_dict_insert (&dict, "size", "t", meta->size);
  g_variant_dict_insert (&dict, "refcount", "u", meta->refcount);
  g_variant_dict_insert (&dict, "chunks", "t", meta->n_leaves);
  g_variant_dict_insert (&dict, "chunk_size", "u", (guint32) MERO_BLOB_CHUNK_SIZE);
  g_variant_dict_insert (&dict, "created", "x", meta->created_us);
  g_variant_dict_insert (&dict, "accessed", "x", meta->accessed_us);
  return g_variant_dict_end (&dict);
}

typedef struct {
  MeroDBusNode1 *skeleton;
  GDBusMethodInvocation *invocation;
  MeroBlobNet *net;          /* FetchBlob only */
} Pending;

static Pending *
pending_new (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation)
{
  Pending *p = g_new (Pending, 1);

  p->skeleton = g_object_ref (skeleton);
  p->invocation = invocation;
  return p;
}

static void
pending_free (Pending *p)
{
  g_object_unref (p->skeleton);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pending, pending_free)

typedef struct {
  Pending *pending;
  MeroBlobManager *manager;  /* ref: writes the public mark */
  gboolean has_context;
  gboolean is_public;        /* "public": marked public to the context once added */
  guint8 context[32];
} Add;

static void
add_free (Add *add)
{
  mero_blob_manager_unref (add->manager);
  g_free (add);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Add, add_free)

static void
on_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Add) add = user_data;
  g_autoptr (Pending) p = add->pending;
  GError *error = NULL;
  MeroBlobMeta info;
  g_autofree char *id = NULL;
  /* Through the skeleton (which p holds): the service may be gone by
   * now, and stopping sets this to NULL first. */
  MeroBlobProviders *providers = g_object_get_data (G_OBJECT (p->skeleton),
                                                    MERO_DBUS_PROVIDERS_KEY);

  if (!mero_blob_manager_add_finish (NULL, result, &info, &error))
    {
      return_error (p->invocation, error);
      return;
    }
  /* Before the reply, so that a caller told the id can hand it out and
   * have it served.  On failure the blob stays added (the caller may
   * retry, which only adds a reference) but the call fails. */
  if (add->is_public && !mero_blob_manager_set_public (add->manager, add->context, info.id, &error))
    {
      g_prefix_error (&error, _("The blob was added but not made public: "));
      return_error (p->invocation, error);
      return;
    }
  /* Shared in a context: its members learn that we hold it. */
  if (add->has_context && providers != NULL)
    mero_blob_providers_announce (providers, add->context, info.id, info.size);
  id = mero_blob_id_to_string (info.id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "blob-added", "MERO_BLOB", id,
                    "MESSAGE", "blob %s added (%" G_GUINT64_FORMAT " bytes, %u references)", id,
                    info.size, info.refcount);
  mero_dbus_node1_complete_add_blob (p->skeleton, p->invocation, NULL, id, info.size);
}

/* AddBlob's "public" (b), absent = FALSE; any other type is refused. */
static gboolean
lookup_public (GDBusMethodInvocation *invocation, GVariant *options, gboolean *is_public)
{
  g_autoptr (GVariant) value = g_variant_lookup_value (options, "public", NULL);

  *is_public = FALSE;
  if (value == NULL)
    return TRUE;
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    {
      return_error (invocation,
                    g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                         _("The option “public” must be a boolean")));
      return FALSE;
    }
  *is_public = g_variant_get_boolean (value);
  return TRUE;
}

/* AddBlob's and AddBlobs' options, checked before any fd is read so that
 * nothing is stored for a bad call; FALSE once the error is returned. */
typedef struct {
  gboolean has_context;
  gboolean is_public;
  guint8 context[32];
} AddOptions;

static gboolean
parse_add_options (GDBusMethodInvocation *invocation, GVariant *options, AddOptions *out)
{
  const char *context = NULL;

  memset (out, 0, sizeof *out);
  if (!lookup_public (invocation, options, &out->is_public))
    return FALSE;
  /* The context the blob is shared in: checked now, announced there
   * once the blob is on disk. */
  if (g_variant_lookup (options, "context", "&s", &context)
      || g_variant_lookup (options, "context_id", "&s", &context))
    {
      g_autoptr (GBytes) raw = mero_base58_decode (context);

      if (raw == NULL || g_bytes_get_size (raw) != 32)
        {
          return_error (invocation, g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                                 _("“%s” is not a context id"), context));
          return FALSE;
        }
      memcpy (out->context, g_bytes_get_data (raw, NULL), sizeof out->context);
      out->has_context = TRUE;
    }
  /* Public is always to one context: the one a fetcher names. */
  if (out->is_public && !out->has_context)
    {
      return_error (invocation,
                    g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                         _("The option “public” needs “context”: a blob "
                                           "is public to a context")));
      return FALSE;
    }
  return TRUE;
}

static gboolean
on_add (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
        GVariant *handle, GVariant *options, gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  AddOptions opts;
  int fd;
  Add *add;

  if (manager == NULL || !parse_add_options (invocation, options, &opts))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  fd = take_fd (invocation, fd_list, handle);
  if (fd < 0)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  add = g_new0 (Add, 1);
  add->pending = pending_new (skeleton, invocation);
  add->manager = mero_blob_manager_ref (manager);
  add->is_public = opts.is_public;
  add->has_context = opts.has_context;
  memcpy (add->context, opts.context, sizeof add->context);
  mero_blob_manager_add_fd_async (manager, fd, NULL, on_added, add);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

/* ---- AddBlobs: several fds in one call ---- */

typedef struct {
  char *id;                  /* NULL if this one failed */
  guint64 size;
  char *error;               /* NULL if it was added */
} AddResult;

typedef struct {
  Pending *pending;
  MeroBlobManager *manager;
  AddOptions opts;
  guint n, left;
  AddResult *results;        /* n, in the order of the fds */
} AddMany;

typedef struct {
  AddMany *many;
  guint index;
} AddItem;

static void
add_many_free (AddMany *m)
{
  for (guint i = 0; i < m->n; i++)
    {
      g_free (m->results[i].id);
      g_free (m->results[i].error);
    }
  g_free (m->results);
  mero_blob_manager_unref (m->manager);
  pending_free (m->pending);
  g_free (m);
}

static void
add_many_reply (AddMany *m)
{
  GVariantBuilder builder;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sts)"));
  for (guint i = 0; i < m->n; i++)
    g_variant_builder_add (&builder, "(sts)", m->results[i].id != NULL ? m->results[i].id : "",
                           m->results[i].size,
                           m->results[i].error != NULL ? m->results[i].error : "");
  mero_dbus_node1_complete_add_blobs (m->pending->skeleton, m->pending->invocation, NULL,
                                      g_variant_builder_end (&builder));
  add_many_free (m);
}

static void
on_many_added (GObject *source, GAsyncResult *result, gpointer user_data)
{
  AddItem *item = user_data;
  AddMany *m = item->many;
  AddResult *r = &m->results[item->index];
  g_autoptr (GError) error = NULL;
  MeroBlobProviders *providers = g_object_get_data (G_OBJECT (m->pending->skeleton),
                                                    MERO_DBUS_PROVIDERS_KEY);
  MeroBlobMeta info;

  g_free (item);
  if (!mero_blob_manager_add_finish (NULL, result, &info, &error))
    r->error = g_strdup (error->message);
  else if (m->opts.is_public
           && !mero_blob_manager_set_public (m->manager, m->opts.context, info.id, &error))
    r->error = g_strdup_printf (_("The blob was added but not made public: %s"),
                                error->message);
  else
    {
      if (m->opts.has_context && providers != NULL)
        mero_blob_providers_announce (providers, m->opts.context, info.id, info.size);
      r->id = mero_blob_id_to_string (info.id);
      r->size = info.size;
    }
  if (--m->left == 0)
    add_many_reply (m);
}

/* One call, one round trip through the bus for up to
 * MERO_DBUS_ADD_BLOBS_MAX files: the bus costs more than adding a small
 * blob, so a bulk import of small files goes several times faster. */
static gboolean
on_add_many (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
             GVariant *handles, GVariant *options, gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  gsize n = g_variant_n_children (handles);
  g_autofree int *fds = NULL;
  AddOptions opts;
  AddMany *m;

  if (manager == NULL || !parse_add_options (invocation, options, &opts))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (n == 0 || n > MERO_DBUS_ADD_BLOBS_MAX)
    return return_error (invocation,
                         g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                      _("AddBlobs takes 1 to %u file descriptors, not %zu"),
                                      MERO_DBUS_ADD_BLOBS_MAX, n));
  /* Every fd is taken before any is read: a bad handle fails the call
   * with nothing stored. */
  fds = g_new (int, n);
  for (gsize i = 0; i < n; i++)
    {
      g_autoptr (GVariant) handle = g_variant_get_child_value (handles, i);

      fds[i] = take_fd (invocation, fd_list, handle);
      if (fds[i] < 0)
        {
          for (gsize j = 0; j < i; j++)
            close (fds[j]);
          return G_DBUS_METHOD_INVOCATION_HANDLED;
        }
    }
  m = g_new0 (AddMany, 1);
  m->pending = pending_new (skeleton, invocation);
  m->manager = mero_blob_manager_ref (manager);
  m->opts = opts;
  m->n = m->left = (guint) n;
  m->results = g_new0 (AddResult, n);
  for (gsize i = 0; i < n; i++)
    {
      AddItem *item = g_new (AddItem, 1);

      item->many = m;
      item->index = (guint) i;
      mero_blob_manager_add_fd_async (manager, fds[i], NULL, on_many_added, item);
    }
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_read (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Pending) p = user_data;
  GError *error = NULL;
  guint64 written = 0;

  if (!mero_blob_manager_read_finish (NULL, result, &written, &error))
    {
      return_error (p->invocation, error);
      return;
    }
  mero_dbus_node1_complete_get_blob (p->skeleton, p->invocation, NULL, written);
}

static gboolean
on_get (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, GUnixFDList *fd_list,
        const char *blob_id, GVariant *handle, guint64 offset, guint64 length,
        gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  guint8 id[32];
  int fd;

  if (manager == NULL || !parse_id (invocation, blob_id, id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  fd = take_fd (invocation, fd_list, handle);
  if (fd < 0)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  mero_blob_manager_read_to_fd_async (manager, id, offset, length == 0 ? G_MAXUINT64 : length,
                                      fd, NULL, on_read, pending_new (skeleton, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_deleted (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (Pending) p = user_data;
  GError *error = NULL;
  guint32 left = 0;

  if (!mero_blob_manager_delete_finish (NULL, result, &left, &error))
    {
      return_error (p->invocation, error);
      return;
    }
  mero_dbus_node1_complete_delete_blob (p->skeleton, p->invocation, left);
}

static gboolean
on_delete (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *blob_id,
           gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  guint8 id[32];

  if (manager == NULL || !parse_id (invocation, blob_id, id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  mero_blob_manager_delete_async (manager, id, on_deleted, pending_new (skeleton, invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_list (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  GError *error = NULL;
  g_autoptr (GArray) list = NULL;
  GVariantBuilder builder;

  if (manager == NULL)
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  list = mero_blob_manager_list (manager, &error);
  if (list == NULL)
    return return_error (invocation, error);
  g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < list->len; i++)
    g_variant_builder_add_value (&builder, mero_dbus_blob_info_to_variant (
                                               &g_array_index (list, MeroBlobMeta, i)));
  mero_dbus_node1_complete_list_blobs (skeleton, invocation, g_variant_builder_end (&builder));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_info (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *blob_id,
         gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  GError *error = NULL;
  MeroBlobMeta info;
  guint8 id[32];

  if (manager == NULL || !parse_id (invocation, blob_id, id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (!mero_blob_manager_info (manager, id, &info, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_get_blob_info (skeleton, invocation,
                                          mero_dbus_blob_info_to_variant (&info));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_fetched (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Pending *p = user_data;
  GError *error = NULL;
  guint64 size = 0;

  if (!mero_blob_net_fetch_finish (p->net, result, &size, &error))
    return_error (p->invocation, error);
  else
    mero_dbus_node1_complete_fetch_blob (p->skeleton, p->invocation, size);
  pending_free (p);
}

static gboolean
on_fetch (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
          const char *blob_id, GVariant *options, gpointer user_data)
{
  MeroBlobManager *manager = manager_or_error (user_data, invocation);
  MeroBlobNet *net = mero_dbus_service_get_blob_net (user_data);
  g_autofree const char **providers = NULL;
  guint8 id[32];

  if (manager == NULL || !parse_id (invocation, blob_id, id))
    return G_DBUS_METHOD_INVOCATION_HANDLED;
  if (net == NULL)
    return return_error (invocation,
                         g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED,
                                              _("The node is not ready to fetch blobs")));
  g_variant_lookup (options, "providers", "^a&s", &providers);
  {
    Pending *p = pending_new (skeleton, invocation);

    p->net = net;
    mero_blob_net_fetch_async (net, context_id, blob_id, providers, NULL, on_fetched, p);
  }
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
mero_dbus_blobs_connect (MeroDBusService *service, MeroDBusNode1 *skeleton)
{
  register_errors ();
  g_signal_connect (skeleton, "handle-add-blob", G_CALLBACK (on_add), service);
  g_signal_connect (skeleton, "handle-add-blobs", G_CALLBACK (on_add_many), service);
  g_signal_connect (skeleton, "handle-get-blob", G_CALLBACK (on_get), service);
  g_signal_connect (skeleton, "handle-delete-blob", G_CALLBACK (on_delete), service);
  g_signal_connect (skeleton, "handle-list-blobs", G_CALLBACK (on_list), service);
  g_signal_connect (skeleton, "handle-get-blob-info", G_CALLBACK (on_info), service);
  g_signal_connect (skeleton, "handle-fetch-blob", G_CALLBACK (on_fetch), service);
}
