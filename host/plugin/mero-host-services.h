/* mero-host-services.h: builds the MeroHostServices table one plugin gets.
 *
 * Each loaded plugin gets its own table so that everything it logs or
 * counts can be attributed to it: log lines carry MERO_PLUGIN=<name> as a
 * structured field.  The table is owned by the registry and outlives the
 * plugin's finalize. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

/* Structured log field naming the plugin a line came from. */
#define MERO_HOST_LOG_FIELD_PLUGIN "MERO_PLUGIN"
/* GLib log domain used for every line a plugin logs. */
#define MERO_HOST_LOG_DOMAIN_PLUGINS "merod-plugin"

/* (transfer full) a table for @plugin_name.
 * @metrics: where counter_add/gauge_set go (NULL = default instance);
 * a reference is taken.
 * @state: state access, given only to SYNC_PROTOCOL plugins (the table's
 * state member is NULL for other kinds whatever is passed); borrowed, must
 * outlive the table. */
MeroHostServices *mero_host_services_new (const char *plugin_name, MeroPluginKind kind,
                                          MeroMetrics *metrics, const MeroStateAccess *state);
/* NULL-safe. */
void mero_host_services_free (MeroHostServices *services);

/* The plugin name a table was made for. */
const char *mero_host_services_get_plugin_name (const MeroHostServices *services);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroHostServices, mero_host_services_free)

G_END_DECLS
