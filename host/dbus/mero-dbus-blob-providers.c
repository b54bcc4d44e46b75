/* mero-dbus-blob-providers.c: FindBlobProviders of network.calimero.Node1
 * (host/blob/mero-blob-providers.h does the finding). */
#define G_LOG_DOMAIN "merod"
#include "dbus/mero-dbus-service-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "blob/mero-blob-error.h"
#include "blob/mero-blob-providers.h"
#include "net/mero-base58.h"

typedef struct {
  MeroDBusNode1 *skeleton;
  GDBusMethodInvocation *invocation;
} Find;

static void
on_found (GPtrArray *peers, gpointer data)
{
  Find *find = data;
  g_autoptr (GPtrArray) strv = g_ptr_array_new ();

  for (guint i = 0; i < peers->len; i++)
    g_ptr_array_add (strv, g_ptr_array_index (peers, i));
  g_ptr_array_add (strv, NULL);
  mero_dbus_node1_complete_find_blob_providers (find->skeleton, find->invocation,
                                                (const char *const *) strv->pdata);
  g_object_unref (find->skeleton);
  g_free (find);
}

static gboolean
refuse (GDBusMethodInvocation *invocation, GError *error)
{
  g_dbus_method_invocation_take_error (invocation, error);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_find (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
         const char *blob_id, gpointer user_data)
{
  MeroBlobProviders *providers = mero_dbus_service_get_blob_providers (user_data);
  MeroContexts *contexts = mero_dbus_service_get_contexts (user_data);
  g_autoptr (GBytes) ctx = mero_base58_decode (context_id);
  GError *error = NULL;
  guint8 blob[32];
  Find *find;

  if (providers == NULL || contexts == NULL)
    return refuse (invocation, g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED,
                                                    _("The node is not ready for blobs")));
  if (!mero_blob_id_parse (blob_id, blob, &error))
    return refuse (invocation, error);
  if (ctx == NULL || g_bytes_get_size (ctx) != 32)
    return refuse (invocation, g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                            _("“%s” is not a context id"), context_id));
  if (!mero_contexts_has_context (contexts, context_id))
    return refuse (invocation, g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                                            _("“%s” is not a context of this node"),
                                            context_id));
  find = g_new0 (Find, 1);
  find->skeleton = g_object_ref (skeleton);
  find->invocation = invocation;
  mero_blob_providers_lookup (providers, g_bytes_get_data (ctx, NULL), blob, on_found, find);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
mero_dbus_blob_providers_connect (MeroDBusService *service, MeroDBusNode1 *skeleton)
{
  g_signal_connect (skeleton, "handle-find-blob-providers", G_CALLBACK (on_find), service);
}
