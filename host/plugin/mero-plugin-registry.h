/* mero-plugin-registry.h: finds, vets, loads and keeps the plugins.
 *
 * Plugins are found through their `<name>.plugin` keyfiles (so they can be
 * listed without dlopen) in the search path: MERO_PLUGIN_DIR
 * (colon-separated), then the installed MERO_PLUGINDIR.  A plugin that
 * fails any check is recorded with its error (MERO_PLUGIN_ERROR_*) and
 * skipped; the host keeps running. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

typedef struct _MeroPluginRegistry MeroPluginRegistry;

typedef enum {
  MERO_PLUGIN_STATUS_LOADED = 0,
  MERO_PLUGIN_STATUS_FAILED = 1,
  MERO_PLUGIN_STATUS_DISABLED = 2,  /* listed, not loaded (config) */
} MeroPluginStatus;

/* One row of `merod plugins`.  Owned by the registry. */
typedef struct {
  char *name;
  MeroPluginKind kind;
  char *version;
  char *description;
  char *metadata_file;    /* the .plugin file */
  char *module_file;      /* the shared object */
  MeroPluginStatus status;
  int error_code;         /* MeroPluginError, 0 if loaded */
  char *error_message;    /* NULL if loaded */
} MeroPluginInfo;

/* A loaded plugin's kind-specific vtable, copied into a zeroed struct of
 * the host's latest layout, with the plugin's data. */
typedef struct {
  const MeroPluginInfo *info;
  const MeroStorageBackendVTable *vtable;
  void *plugin_data;
} MeroLoadedStorageBackend;

typedef struct {
  const MeroPluginInfo *info;
  const MeroSyncProtocolVTable *vtable;
  void *plugin_data;
} MeroLoadedSyncProtocol;

typedef struct {
  const MeroPluginInfo *info;
  const MeroTeeVerifierVTable *vtable;
  void *plugin_data;
} MeroLoadedTeeVerifier;

MeroPluginRegistry *mero_plugin_registry_new (void);
/* Finalizes every loaded plugin and closes the modules; NULL-safe. */
void mero_plugin_registry_free (MeroPluginRegistry *registry);

/* MERO_PLUGIN_DIR entries, then MERO_PLUGINDIR.  (transfer full) */
char **mero_plugin_registry_default_search_path (void);

/* Scans @dirs (NULL = default path) for *.plugin files and loads each.
 * Returns the number loaded.  Failures are recorded and logged. */
guint mero_plugin_registry_load_path (MeroPluginRegistry *registry, const char *const *dirs);
/* Loads one plugin from its .plugin file.  On failure records the plugin
 * as FAILED and returns FALSE with @error (MERO_PLUGIN_ERROR). */
gboolean mero_plugin_registry_load_file (MeroPluginRegistry *registry,
                                         const char *metadata_file, GError **error);

/* (transfer container) of const MeroPluginInfo *, sorted by name. */
GPtrArray *mero_plugin_registry_list (MeroPluginRegistry *registry);

/* Lookup of loaded plugins; NULL with @error MERO_PLUGIN_ERROR_NOT_FOUND. */
const MeroLoadedStorageBackend *mero_plugin_registry_get_storage_backend (
    MeroPluginRegistry *registry, const char *name, GError **error);
/* (transfer container) of const MeroLoadedSyncProtocol *. */
GPtrArray *mero_plugin_registry_get_sync_protocols (MeroPluginRegistry *registry);
const MeroLoadedTeeVerifier *mero_plugin_registry_get_tee_verifier (
    MeroPluginRegistry *registry, const char *name, GError **error);

const char *mero_plugin_kind_to_string (MeroPluginKind kind);
const char *mero_plugin_status_to_string (MeroPluginStatus status);

/* Additions beyond the first interface. */

/* Plugins named in @names (NULL-terminated, copied; NULL clears) are listed
 * as DISABLED by later loads and their modules are never opened. */
void mero_plugin_registry_set_disabled (MeroPluginRegistry *registry, const char *const *names);
/* Where plugins' counters/gauges and the loader's own metrics go (NULL =
 * the default instance).  Call before loading; a reference is taken. */
void mero_plugin_registry_set_metrics (MeroPluginRegistry *registry, MeroMetrics *metrics);
/* State access handed to SYNC_PROTOCOL plugins at init (borrowed; must
 * outlive the registry).  Call before loading. */
void mero_plugin_registry_set_state_access (MeroPluginRegistry *registry,
                                            const MeroStateAccess *state);
/* (transfer none) the row of the plugin recorded under @name (loaded,
 * failed or disabled; a loaded one wins over a failed duplicate), or NULL. */
const MeroPluginInfo *mero_plugin_registry_lookup (MeroPluginRegistry *registry,
                                                   const char *name);
/* "abi-major" etc. for a MeroPluginError code, "none" for 0. */
const char *mero_plugin_error_code_to_string (int code);

/* Log domain and structured fields of the loader's warnings. */
#define MERO_PLUGIN_LOADER_LOG_DOMAIN "merod-plugin-loader"
#define MERO_PLUGIN_LOADER_FIELD_FILE "MERO_PLUGIN_FILE"
#define MERO_PLUGIN_LOADER_FIELD_ERROR "MERO_PLUGIN_ERROR_CODE"
/* Metrics the loader maintains. */
#define MERO_PLUGIN_METRIC_FAILURES "mero_plugin_load_failures_total" /* {reason="abi-major"} */
#define MERO_PLUGIN_METRIC_LOADED "mero_plugins_loaded"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPluginRegistry, mero_plugin_registry_free)

G_END_DECLS
