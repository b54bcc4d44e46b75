/* mero-dbus-service.c: exports network.calimero.Node1 and owns its name. */
#define G_LOG_DOMAIN "merod"
#include "dbus/mero-dbus-service.h"

#include <glib/gi18n.h>

#include "dbus/mero-dbus-service-private.h"

G_DEFINE_QUARK (mero-dbus-service-error-quark, mero_dbus_service_error)

struct _MeroDBusService {
  GBusType bus_type;
  MeroPluginRegistry *registry;   /* borrowed */
  MeroNetwork *network;           /* borrowed, nullable */
  MeroDBusNode1 *skeleton;
  GDBusConnection *connection;
  guint owner_id;                 /* g_bus_own_name has no GSource to hold */
  gboolean exported;
  gboolean name_owned;
  GTask *start_task;              /* pending start, NULL otherwise */
  char *name;                     /* well-known name (dbus.name) */
  MeroContexts *contexts;         /* borrowed, nullable */
  MeroBlobManager *blobs;         /* borrowed, nullable */
  struct _MeroBlobNet *blob_net;  /* borrowed, nullable */
  gboolean blobs_connected;
  MeroBlobProviders *providers;   /* borrowed, nullable */
  gboolean providers_connected;
  gboolean test_hooks;
  GCancellable *alive;            /* cancelled when the service is freed */
};

static const char *
bus_name (GBusType bus_type)
{
  return bus_type == G_BUS_TYPE_SYSTEM ? _("system") : _("session");
}

GVariant *
mero_dbus_service_plugins_to_variant (MeroPluginRegistry *registry)
{
  GVariantBuilder builder;
  g_autoptr (GPtrArray) plugins = NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(sssss)"));
  if (registry != NULL)
    plugins = mero_plugin_registry_list (registry);
  for (guint i = 0; plugins != NULL && i < plugins->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (plugins, i);

      g_variant_builder_add (&builder, "(sssss)", info->name ? info->name : "",
                             mero_plugin_kind_to_string (info->kind),
                             info->version ? info->version : "",
                             info->module_file ? info->module_file : "",
                             mero_plugin_status_to_string (info->status));
    }
  return g_variant_builder_end (&builder);
}

static int
compare_peer_info (gconstpointer a, gconstpointer b)
{
  const MeroNetPeerInfo *pa = *(MeroNetPeerInfo *const *) a;
  const MeroNetPeerInfo *pb = *(MeroNetPeerInfo *const *) b;

  return g_strcmp0 (pa->peer_id, pb->peer_id);
}

GVariant *
mero_dbus_service_peers_to_variant (MeroNetwork *network)
{
  GVariantBuilder builder;
  g_autoptr (GPtrArray) peers = NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssas)"));
  if (network != NULL)
    {
      peers = mero_network_list_peers (network);
      g_ptr_array_sort (peers, compare_peer_info);
    }
  for (guint i = 0; peers != NULL && i < peers->len; i++)
    {
      const MeroNetPeerInfo *info = g_ptr_array_index (peers, i);
      static const char *const none[] = { NULL };

      g_variant_builder_add (&builder, "(ss^as)", info->peer_id ? info->peer_id : "",
                             info->address ? info->address : "",
                             info->protocols != NULL ? (const char *const *) info->protocols
                                                     : none);
    }
  return g_variant_builder_end (&builder);
}

GVariant *
mero_dbus_service_peer_scores_to_variant (MeroNetwork *network)
{
  GVariantBuilder builder;
  g_autoptr (GPtrArray) peers = NULL;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a{sd}"));
  if (network != NULL)
    peers = mero_network_list_peers (network);
  for (guint i = 0; peers != NULL && i < peers->len; i++)
    {
      const MeroNetPeerInfo *info = g_ptr_array_index (peers, i);

      if (info->has_gossip_score && info->peer_id != NULL)
        g_variant_builder_add (&builder, "{sd}", info->peer_id, info->gossip_score);
    }
  return g_variant_builder_end (&builder);
}

static gboolean
on_handle_list_peer_scores (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                            gpointer user_data)
{
  MeroDBusService *service = user_data;

  mero_dbus_node1_complete_list_peer_scores (
      skeleton, invocation, mero_dbus_service_peer_scores_to_variant (service->network));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_handle_list_peers (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                      gpointer user_data)
{
  MeroDBusService *service = user_data;

  mero_dbus_node1_complete_list_peers (skeleton, invocation,
                                       mero_dbus_service_peers_to_variant (service->network));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
mero_dbus_service_set_network (MeroDBusService *service, MeroNetwork *network,
                               const char *const *listen_addrs)
{
  static const char *const none[] = { NULL };

  g_return_if_fail (service != NULL);

  service->network = network;
  mero_dbus_node1_set_listen_addresses (service->skeleton,
                                        listen_addrs != NULL ? listen_addrs : none);
}

void
mero_dbus_service_emit_peer (MeroDBusService *service, const char *peer_id, gboolean connected,
                             const char *detail)
{
  g_return_if_fail (service != NULL);
  g_return_if_fail (peer_id != NULL);

  if (!service->exported)
    return;
  if (connected)
    mero_dbus_node1_emit_peer_connected (service->skeleton, peer_id, detail ? detail : "");
  else
    mero_dbus_node1_emit_peer_disconnected (service->skeleton, peer_id, detail ? detail : "");
}

static gboolean
on_handle_list_plugins (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                        gpointer user_data)
{
  MeroDBusService *service = user_data;

  mero_dbus_node1_complete_list_plugins (
      skeleton, invocation, mero_dbus_service_plugins_to_variant (service->registry));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

MeroDBusService *
mero_dbus_service_new (GBusType bus_type, const char *peer_id, const char *version,
                       const char *home_dir, MeroPluginRegistry *registry)
{
  MeroDBusService *service;

  g_return_val_if_fail (peer_id != NULL, NULL);
  g_return_val_if_fail (version != NULL, NULL);
  g_return_val_if_fail (home_dir != NULL, NULL);

  service = g_new0 (MeroDBusService, 1);
  service->bus_type = bus_type;
  service->registry = registry;
  service->skeleton = mero_dbus_node1_skeleton_new ();
  service->name = g_strdup (MERO_DBUS_NAME);
  mero_dbus_node1_set_peer_id (service->skeleton, peer_id);
  mero_dbus_node1_set_version (service->skeleton, version);
  mero_dbus_node1_set_home_dir (service->skeleton, home_dir);
  mero_dbus_node1_set_http_address (service->skeleton, "");
  mero_dbus_node1_set_listen_addresses (service->skeleton, (const char *const[]) { NULL });
  g_signal_connect (service->skeleton, "handle-list-peers", G_CALLBACK (on_handle_list_peers),
                    service);
  g_signal_connect (service->skeleton, "handle-list-peer-scores",
                    G_CALLBACK (on_handle_list_peer_scores), service);
  g_signal_connect (service->skeleton, "handle-list-plugins",
                    G_CALLBACK (on_handle_list_plugins), service);
  return service;
}

static void
finish_start (MeroDBusService *service, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&service->start_task);

  if (task == NULL)
    {
      if (error != NULL)
        g_error_free (error);
      return;
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
on_name_acquired (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MeroDBusService *service = user_data;

  service->name_owned = TRUE;
  finish_start (service, NULL);
}

static void
on_name_lost (GDBusConnection *connection, const char *name, gpointer user_data)
{
  MeroDBusService *service = user_data;

  if (service->start_task != NULL)
    {
      finish_start (service,
                    g_error_new (MERO_DBUS_SERVICE_ERROR, MERO_DBUS_SERVICE_ERROR_NAME_TAKEN,
                                 connection != NULL
                                     ? _("The name %s is already owned on the %s bus: "
                                         "another node is running there")
                                     : _("Lost the connection to the %s bus before owning %s"),
                                 connection != NULL ? name : bus_name (service->bus_type),
                                 connection != NULL ? bus_name (service->bus_type) : name));
      return;
    }
  if (service->name_owned)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "dbus-name-lost",
                      "MESSAGE", "lost the D-Bus name %s; the node keeps running", name);
  service->name_owned = FALSE;
}

static void
on_bus_ready (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GCancellable) alive = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDBusConnection) connection = g_bus_get_finish (result, &error);
  MeroDBusService *service;

  /* Cancelled means the service was freed while we waited. */
  if (g_cancellable_is_cancelled (alive))
    return;
  service = g_object_get_data (G_OBJECT (alive), "mero-dbus-service");
  service->connection = g_steal_pointer (&connection);
  if (service->connection == NULL)
    {
      finish_start (service,
                    g_error_new (MERO_DBUS_SERVICE_ERROR, MERO_DBUS_SERVICE_ERROR_BUS,
                                 _("Cannot connect to the %s bus: %s"),
                                 bus_name (service->bus_type), error->message));
      return;
    }
  /* Export before owning the name, so a client that sees the name appear
   * always finds the object. */
  if (!g_dbus_interface_skeleton_export (G_DBUS_INTERFACE_SKELETON (service->skeleton),
                                         service->connection, MERO_DBUS_PATH, &error))
    {
      finish_start (service,
                    g_error_new (MERO_DBUS_SERVICE_ERROR, MERO_DBUS_SERVICE_ERROR_BUS,
                                 _("Cannot export %s: %s"), MERO_DBUS_PATH, error->message));
      return;
    }
  service->exported = TRUE;
  service->owner_id = g_bus_own_name_on_connection (
      service->connection, service->name, G_BUS_NAME_OWNER_FLAGS_DO_NOT_QUEUE, on_name_acquired,
      on_name_lost, service, NULL);
}

void
mero_dbus_service_start_async (MeroDBusService *service, GCancellable *cancellable,
                               GAsyncReadyCallback callback, gpointer user_data)
{
  g_return_if_fail (service != NULL);
  g_return_if_fail (service->start_task == NULL && service->connection == NULL);

  service->start_task = g_task_new (NULL, cancellable, callback, user_data);
  /* The lookup holds a cancellable, not the service: freeing the service
   * cancels it, which tells on_bus_ready the service is gone. */
  service->alive = g_cancellable_new ();
  g_object_set_data (G_OBJECT (service->alive), "mero-dbus-service", service);
  g_bus_get (service->bus_type, service->alive, on_bus_ready, g_object_ref (service->alive));
}

gboolean
mero_dbus_service_start_finish (MeroDBusService *service, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
mero_dbus_service_set_http_address (MeroDBusService *service, const char *url)
{
  g_return_if_fail (service != NULL);
  g_return_if_fail (url != NULL);

  mero_dbus_node1_set_http_address (service->skeleton, url);
}

void
mero_dbus_service_set_name (MeroDBusService *service, const char *name)
{
  g_return_if_fail (service != NULL && name != NULL);
  g_return_if_fail (service->connection == NULL);

  g_free (service->name);
  service->name = g_strdup (name);
}

MeroDBusNode1 *
mero_dbus_service_get_skeleton (MeroDBusService *service)
{
  return service->skeleton;
}

void
mero_dbus_service_set_contexts (MeroDBusService *service, MeroContexts *contexts,
                                gboolean test_hooks)
{
  g_return_if_fail (service != NULL);

  service->contexts = contexts;
  service->test_hooks = test_hooks;
  if (contexts != NULL)
    mero_dbus_contexts_connect (service, service->skeleton);
}

void
mero_dbus_service_set_blobs (MeroDBusService *service, MeroBlobManager *blobs)
{
  g_return_if_fail (service != NULL);

  service->blobs = blobs;
  if (blobs != NULL && !service->blobs_connected)
    {
      mero_dbus_blobs_connect (service, service->skeleton);
      service->blobs_connected = TRUE;
    }
}

void
mero_dbus_service_set_blob_providers (MeroDBusService *service, MeroBlobProviders *providers)
{
  g_return_if_fail (service != NULL);

  service->providers = providers;
  g_object_set_data (G_OBJECT (service->skeleton), MERO_DBUS_PROVIDERS_KEY, providers);
  if (providers != NULL && !service->providers_connected)
    {
      mero_dbus_blob_providers_connect (service, service->skeleton);
      service->providers_connected = TRUE;
    }
}

MeroBlobProviders *
mero_dbus_service_get_blob_providers (MeroDBusService *service)
{
  return service->providers;
}

MeroBlobManager *
mero_dbus_service_get_blobs (MeroDBusService *service)
{
  return service->blobs;
}

void
mero_dbus_service_set_blob_net (MeroDBusService *service, struct _MeroBlobNet *net)
{
  g_return_if_fail (service != NULL);
  service->blob_net = net;
}

struct _MeroBlobNet *
mero_dbus_service_get_blob_net (MeroDBusService *service)
{
  return service->blob_net;
}

void
mero_dbus_service_emit_blob_fetch_progress (MeroDBusService *service, const char *blob_id,
                                            guint64 done, guint64 total, guint providers)
{
  g_return_if_fail (service != NULL);
  if (service->exported)
    mero_dbus_node1_emit_blob_fetch_progress (service->skeleton, blob_id, done, total,
                                              providers);
}

MeroContexts *
mero_dbus_service_get_contexts (MeroDBusService *service)
{
  return service->contexts;
}

gboolean
mero_dbus_service_get_test_hooks (MeroDBusService *service)
{
  return service->test_hooks;
}

void
mero_dbus_service_emit_state_changed (MeroDBusService *service, const char *context_id,
                                      const char *root_hash, const char *const *heads)
{
  g_return_if_fail (service != NULL);

  if (service->exported)
    mero_dbus_node1_emit_state_changed (service->skeleton, context_id, root_hash, heads);
}

GDBusConnection *
mero_dbus_service_get_connection (MeroDBusService *service)
{
  g_return_val_if_fail (service != NULL, NULL);

  return service->connection;
}

void
mero_dbus_service_free (MeroDBusService *service)
{
  if (service == NULL)
    return;
  if (service->start_task != NULL)
    finish_start (service, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                                _("The node stopped before owning its D-Bus name")));
  if (service->alive != NULL)
    {
      g_cancellable_cancel (service->alive);
      g_object_unref (service->alive);
    }
  if (service->owner_id != 0)
    g_bus_unown_name (service->owner_id);
  if (service->exported)
    g_dbus_interface_skeleton_unexport (G_DBUS_INTERFACE_SKELETON (service->skeleton));
  if (service->connection != NULL)
    {
      /* Push out the name release before exiting, or the bus only notices
       * when the socket closes. */
      g_dbus_connection_flush_sync (service->connection, NULL, NULL);
      g_object_unref (service->connection);
    }
  g_signal_handlers_disconnect_by_data (service->skeleton, service);
  g_object_unref (service->skeleton);
  g_free (service->name);
  g_free (service);
}
