/* mero-host-services.c: see mero-host-services.h. */
#include "plugin/mero-host-services.h"

#include <sodium.h>

#include "mero-build-config.h"
#include "blob/mero-blob-net.h"
#include "node/mero-contexts-keys.h"

/* The public table comes first so that a MeroHostServices * handed to a
 * plugin can be turned back into ours. */
typedef struct {
  MeroHostServices table;
  char *plugin_name;
  MeroMetrics *metrics;
} MeroHostServicesImpl;

/* From the table pointer, not host->host_data: the pointer is ours even if
 * a plugin scribbled over the table. */
static const MeroHostServicesImpl *
impl_of (const MeroHostServices *host)
{
  return (const MeroHostServicesImpl *) host;
}

static void
host_log (const MeroHostServices *host, MeroLogLevel level, const char *domain,
          const char *message)
{
  const MeroHostServicesImpl *self = impl_of (host);
  GLogLevelFlags glib_level;
  const char *priority;
  GLogField fields[5];

  if (self == NULL)
    return;
  /* A plugin's "error" is its own failure, not a host bug: it must never
   * reach G_LOG_LEVEL_ERROR (which aborts) or CRITICAL (fatal under
   * G_DEBUG=fatal-criticals).  journald still sees priority 3 (err). */
  switch (level)
    {
    case MERO_LOG_LEVEL_ERROR:
      glib_level = G_LOG_LEVEL_WARNING;
      priority = "3";
      break;
    case MERO_LOG_LEVEL_WARNING:
      glib_level = G_LOG_LEVEL_WARNING;
      priority = "4";
      break;
    case MERO_LOG_LEVEL_INFO:
      glib_level = G_LOG_LEVEL_INFO;
      priority = "6";
      break;
    case MERO_LOG_LEVEL_DEBUG:
    default:
      glib_level = G_LOG_LEVEL_DEBUG;
      priority = "7";
      break;
    }

  /* The message goes in as a field, never as a format string. */
  fields[0] = (GLogField) { "MESSAGE", message != NULL ? message : "", -1 };
  fields[1] = (GLogField) { "PRIORITY", priority, -1 };
  fields[2] = (GLogField) { "GLIB_DOMAIN", MERO_HOST_LOG_DOMAIN_PLUGINS, -1 };
  fields[3] = (GLogField) { MERO_HOST_LOG_FIELD_PLUGIN, self->plugin_name, -1 };
  fields[4] = (GLogField) { "MERO_PLUGIN_DOMAIN",
                            domain != NULL ? domain : self->plugin_name, -1 };
  g_log_structured_array (glib_level, fields, G_N_ELEMENTS (fields));
}

static int64_t
host_now_monotonic_us (const MeroHostServices *host)
{
  return g_get_monotonic_time ();
}

static int64_t
host_now_real_us (const MeroHostServices *host)
{
  return g_get_real_time ();
}

static void
host_random_bytes (const MeroHostServices *host, uint8_t *buf, size_t len)
{
  if (buf == NULL || len == 0)
    return;
  randombytes_buf (buf, len);
}

static void
host_counter_add (const MeroHostServices *host, const char *name, const char *labels,
                  uint64_t delta)
{
  const MeroHostServicesImpl *self = impl_of (host);
  g_autoptr (GError) error = NULL;

  if (self == NULL)
    return;
  if (!mero_metrics_counter_add (self->metrics, name, labels, delta, &error))
    g_log_structured (MERO_HOST_LOG_DOMAIN_PLUGINS, G_LOG_LEVEL_WARNING,
                      MERO_HOST_LOG_FIELD_PLUGIN, self->plugin_name,
                      "MESSAGE", "plugin %s: counter update rejected: %s",
                      self->plugin_name, error->message);
}

static void
host_gauge_set (const MeroHostServices *host, const char *name, const char *labels,
                double value)
{
  const MeroHostServicesImpl *self = impl_of (host);
  g_autoptr (GError) error = NULL;

  if (self == NULL)
    return;
  if (!mero_metrics_gauge_set (self->metrics, name, labels, value, &error))
    g_log_structured (MERO_HOST_LOG_DOMAIN_PLUGINS, G_LOG_LEVEL_WARNING,
                      MERO_HOST_LOG_FIELD_PLUGIN, self->plugin_name,
                      "MESSAGE", "plugin %s: gauge update rejected: %s",
                      self->plugin_name, error->message);
}

MeroHostServices *
mero_host_services_new (const char *plugin_name, MeroPluginKind kind, MeroMetrics *metrics,
                        const MeroStateAccess *state)
{
  MeroHostServicesImpl *self;

  g_return_val_if_fail (plugin_name != NULL, NULL);

  /* randombytes_buf needs the library initialised; sodium_init is
   * idempotent and thread-safe.  It fails only if /dev/urandom and
   * getrandom are both unusable, and then no randomness is safe. */
  if (sodium_init () < 0)
    g_error ("libsodium could not be initialised: no secure randomness");

  self = g_new0 (MeroHostServicesImpl, 1);
  self->plugin_name = g_strdup (plugin_name);
  self->metrics = mero_metrics_ref (metrics != NULL ? metrics : mero_metrics_get_default ());

  self->table.struct_size = sizeof (MeroHostServices);
  self->table.abi_major = MERO_PLUGIN_ABI_MAJOR;
  self->table.abi_minor = MERO_PLUGIN_ABI_MINOR;
  self->table.host_version = MERO_VERSION;
  self->table.log = host_log;
  self->table.now_monotonic_us = host_now_monotonic_us;
  self->table.now_real_us = host_now_real_us;
  self->table.random_bytes = host_random_bytes;
  self->table.counter_add = host_counter_add;
  self->table.gauge_set = host_gauge_set;
  self->table.state = kind == MERO_PLUGIN_KIND_SYNC_PROTOCOL ? state : NULL;
  self->table.host_data = self;
  /* Group keys, sealed and opened here: the handle sessions get is the
   * node's contexts (MeroSyncSessionParams.keys). */
  self->table.keys = kind == MERO_PLUGIN_KIND_SYNC_PROTOCOL ? mero_contexts_key_access_get ()
                                                            : NULL;
  /* ABI 1.2: blobs, served and received through the node's BlobManager
   * (MeroSyncSessionParams.blobs names the session's side). */
  self->table.blobs = kind == MERO_PLUGIN_KIND_SYNC_PROTOCOL ? mero_blob_net_access_get ()
                                                             : NULL;
  return &self->table;
}

void
mero_host_services_free (MeroHostServices *services)
{
  MeroHostServicesImpl *self;

  if (services == NULL)
    return;
  self = (MeroHostServicesImpl *) services;
  g_free (self->plugin_name);
  mero_metrics_unref (self->metrics);
  g_free (self);
}

const char *
mero_host_services_get_plugin_name (const MeroHostServices *services)
{
  const MeroHostServicesImpl *self = impl_of (services);

  return self != NULL ? self->plugin_name : NULL;
}
