/* mero-plugin-registry.c: the load sequence and the registry's records.
 *
 * The checks themselves live in mero-plugin-metadata.c (the keyfile),
 * mero-plugin-vet.c (file type, mode, owner) and mero-plugin-abi.c
 * (descriptor and vtable); this file runs them in order:
 *
 *   vet .plugin -> metadata -> disabled? -> duplicate name -> vet module ->
 *   g_module_open -> entry symbol -> descriptor (major, minor, size, kind)
 *   -> identity vs metadata -> vtable copy and methods -> init
 *
 * A duplicate name is caught from the metadata, before the module is
 * opened, so a shadowed copy never runs its constructors.  Any failure is
 * recorded (status FAILED, its own code and message), logged once at
 * warning level and counted; the module is closed and loading goes on.
 *
 * Locking: loads and reads take the registry lock; records are never
 * removed before mero_plugin_registry_free, so the pointers handed out
 * stay valid for the registry's lifetime. */
#include "plugin/mero-plugin-registry.h"

#include <gmodule.h>
#include <string.h>

#include "mero-build-config.h"
#include "plugin/mero-host-services.h"
#include "plugin/mero-plugin-abi.h"
#include "plugin/mero-plugin-metadata.h"
#include "plugin/mero-plugin-vet.h"

typedef struct {
  MeroPluginInfo info;
  GModule *module;
  MeroPluginDescriptor descriptor;   /* zero-padded copy */
  MeroPluginVTableCopy vtable;       /* zero-padded copy in the host layout */
  MeroHostServices *host;
  void *plugin_data;
  gboolean initialized;
  union {
    MeroLoadedStorageBackend storage;
    MeroLoadedSyncProtocol sync;
    MeroLoadedTeeVerifier tee;
  } loaded;
} MeroPluginEntry;

struct _MeroPluginRegistry {
  GMutex lock;
  GPtrArray *entries;       /* MeroPluginEntry *, in load order */
  GHashTable *by_name;      /* name -> loaded MeroPluginEntry * */
  char **disabled;
  MeroMetrics *metrics;
  const MeroStateAccess *state;
};

const char *
mero_plugin_kind_to_string (MeroPluginKind kind)
{
  switch (kind)
    {
    case MERO_PLUGIN_KIND_SYNC_PROTOCOL:
      return "sync-protocol";
    case MERO_PLUGIN_KIND_STORAGE_BACKEND:
      return "storage-backend";
    case MERO_PLUGIN_KIND_TEE_VERIFIER:
      return "tee-verifier";
    case MERO_PLUGIN_KIND_INVALID:
    default:
      return "invalid";
    }
}

const char *
mero_plugin_status_to_string (MeroPluginStatus status)
{
  switch (status)
    {
    case MERO_PLUGIN_STATUS_LOADED:
      return "loaded";
    case MERO_PLUGIN_STATUS_FAILED:
      return "failed";
    case MERO_PLUGIN_STATUS_DISABLED:
      return "disabled";
    default:
      return "unknown";
    }
}

const char *
mero_plugin_error_code_to_string (int code)
{
  switch (code)
    {
    case 0:
      return "none";
    case MERO_PLUGIN_ERROR_NOT_FOUND:
      return "not-found";
    case MERO_PLUGIN_ERROR_BAD_METADATA:
      return "bad-metadata";
    case MERO_PLUGIN_ERROR_UNSAFE_FILE:
      return "unsafe-file";
    case MERO_PLUGIN_ERROR_OPEN_FAILED:
      return "open-failed";
    case MERO_PLUGIN_ERROR_MISSING_SYMBOL:
      return "missing-symbol";
    case MERO_PLUGIN_ERROR_ABI_MAJOR:
      return "abi-major";
    case MERO_PLUGIN_ERROR_ABI_MINOR:
      return "abi-minor";
    case MERO_PLUGIN_ERROR_SHORT_STRUCT:
      return "short-struct";
    case MERO_PLUGIN_ERROR_BAD_KIND:
      return "bad-kind";
    case MERO_PLUGIN_ERROR_METADATA_MISMATCH:
      return "metadata-mismatch";
    case MERO_PLUGIN_ERROR_MISSING_METHOD:
      return "missing-method";
    case MERO_PLUGIN_ERROR_INIT_FAILED:
      return "init-failed";
    case MERO_PLUGIN_ERROR_DUPLICATE:
      return "duplicate";
    default:
      return "unknown";
    }
}

/* Finalize must already have run (or init never succeeded). */
static void
mero_plugin_entry_free (MeroPluginEntry *entry)
{
  if (entry == NULL)
    return;
  g_clear_pointer (&entry->host, mero_host_services_free);
  if (entry->module != NULL)
    g_module_close (entry->module);
  g_free (entry->info.name);
  g_free (entry->info.version);
  g_free (entry->info.description);
  g_free (entry->info.metadata_file);
  g_free (entry->info.module_file);
  g_free (entry->info.error_message);
  g_free (entry);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPluginEntry, mero_plugin_entry_free)

MeroPluginRegistry *
mero_plugin_registry_new (void)
{
  MeroPluginRegistry *registry = g_new0 (MeroPluginRegistry, 1);

  g_mutex_init (&registry->lock);
  registry->entries = g_ptr_array_new ();
  registry->by_name = g_hash_table_new (g_str_hash, g_str_equal);
  registry->metrics = mero_metrics_ref (mero_metrics_get_default ());
  return registry;
}

void
mero_plugin_registry_free (MeroPluginRegistry *registry)
{
  if (registry == NULL)
    return;

  /* Finalize everything first, newest first, then close the modules: a
   * plugin's finalize may still use code or data of an earlier one's
   * module through pointers the host passed along. */
  for (guint i = registry->entries->len; i > 0; i--)
    {
      MeroPluginEntry *entry = g_ptr_array_index (registry->entries, i - 1);

      if (entry->initialized && entry->descriptor.finalize != NULL)
        entry->descriptor.finalize (entry->plugin_data);
      entry->initialized = FALSE;
    }
  for (guint i = registry->entries->len; i > 0; i--)
    mero_plugin_entry_free (g_ptr_array_index (registry->entries, i - 1));

  g_ptr_array_unref (registry->entries);
  g_hash_table_unref (registry->by_name);
  g_strfreev (registry->disabled);
  mero_metrics_unref (registry->metrics);
  g_mutex_clear (&registry->lock);
  g_free (registry);
}

void
mero_plugin_registry_set_disabled (MeroPluginRegistry *registry, const char *const *names)
{
  g_return_if_fail (registry != NULL);

  g_mutex_lock (&registry->lock);
  g_strfreev (registry->disabled);
  registry->disabled = g_strdupv ((char **) names);
  g_mutex_unlock (&registry->lock);
}

void
mero_plugin_registry_set_metrics (MeroPluginRegistry *registry, MeroMetrics *metrics)
{
  g_return_if_fail (registry != NULL);

  g_mutex_lock (&registry->lock);
  mero_metrics_unref (registry->metrics);
  registry->metrics = mero_metrics_ref (metrics != NULL ? metrics : mero_metrics_get_default ());
  g_mutex_unlock (&registry->lock);
}

void
mero_plugin_registry_set_state_access (MeroPluginRegistry *registry,
                                       const MeroStateAccess *state)
{
  g_return_if_fail (registry != NULL);

  g_mutex_lock (&registry->lock);
  registry->state = state;
  g_mutex_unlock (&registry->lock);
}

/* A merod run from a meson build directory (<build>/host/merod next to
 * <build>/build.ninja) without `meson devenv` finds the plugins built
 * beside it, <build>/plugins/<name>/, not an older installed copy. */
static void
add_build_tree_plugins (GStrvBuilder *builder, GHashTable *seen, GPtrArray *owned)
{
  g_autofree char *exe = g_file_read_link ("/proc/self/exe", NULL);
  g_autofree char *host_dir = NULL, *root = NULL, *ninja = NULL, *plugins = NULL;
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (exe == NULL)
    return;
  host_dir = g_path_get_dirname (exe);
  root = g_path_get_dirname (host_dir);
  ninja = g_build_filename (root, "build.ninja", NULL);
  plugins = g_build_filename (root, "plugins", NULL);
  if (!g_str_has_suffix (host_dir, G_DIR_SEPARATOR_S "host")
      || !g_file_test (ninja, G_FILE_TEST_IS_REGULAR)
      || (dir = g_dir_open (plugins, 0, NULL)) == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      char *path = g_build_filename (plugins, name, NULL);

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        g_ptr_array_add (found, path);
      else
        g_free (path);
    }
  g_ptr_array_sort (found, (GCompareFunc) g_strcmp0);
  for (guint i = 0; i < found->len; i++)
    {
      char *path = g_strdup (g_ptr_array_index (found, i));

      g_ptr_array_add (owned, path);
      if (g_hash_table_add (seen, path))
        g_strv_builder_add (builder, path);
    }
}

char **
mero_plugin_registry_default_search_path (void)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  const char *env = g_getenv ("MERO_PLUGIN_DIR");
  g_auto (GStrv) parts = NULL;

  /* Empty entries are skipped (a stray ':' must not mean the current
   * directory) and repeats dropped, so nothing is scanned twice. */
  parts = g_strsplit (env != NULL ? env : "", G_SEARCHPATH_SEPARATOR_S, -1);
  g_autoptr (GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; parts[i] != NULL; i++)
    if (parts[i][0] != '\0' && g_hash_table_add (seen, parts[i]))
      g_strv_builder_add (builder, parts[i]);
  if (env == NULL || env[0] == '\0')
    add_build_tree_plugins (builder, seen, owned);
  if (!g_hash_table_contains (seen, MERO_PLUGINDIR))
    g_strv_builder_add (builder, MERO_PLUGINDIR);
  return g_strv_builder_end (builder);
}

/* Called with the lock held. */
static gboolean
is_disabled_locked (MeroPluginRegistry *registry, const char *name)
{
  return registry->disabled != NULL &&
         g_strv_contains ((const char *const *) registry->disabled, name);
}

/* Called with the lock held. */
static void
update_loaded_gauge_locked (MeroPluginRegistry *registry)
{
  mero_metrics_gauge_set (registry->metrics, MERO_PLUGIN_METRIC_LOADED, NULL,
                          (double) g_hash_table_size (registry->by_name), NULL);
}

/* Records @entry as FAILED with @error: logs, counts, releases what the
 * load had acquired.  Called with the lock held. */
static void
record_failure_locked (MeroPluginRegistry *registry, MeroPluginEntry *entry,
                       const GError *error)
{
  g_autofree char *reason = NULL;

  entry->info.status = MERO_PLUGIN_STATUS_FAILED;
  entry->info.error_code = error->code;
  entry->info.error_message = g_strdup (error->message);

  /* Nothing of a failed plugin may stay mapped. */
  g_clear_pointer (&entry->host, mero_host_services_free);
  if (entry->module != NULL)
    {
      g_module_close (entry->module);
      entry->module = NULL;
    }
  memset (&entry->descriptor, 0, sizeof entry->descriptor);
  memset (&entry->vtable, 0, sizeof entry->vtable);

  g_log_structured (MERO_PLUGIN_LOADER_LOG_DOMAIN, G_LOG_LEVEL_WARNING,
                    MERO_PLUGIN_LOADER_FIELD_FILE, entry->info.metadata_file,
                    MERO_PLUGIN_LOADER_FIELD_ERROR,
                    mero_plugin_error_code_to_string (error->code),
                    "MESSAGE", "Plugin “%s” not loaded (%s): %s", entry->info.name,
                    mero_plugin_error_code_to_string (error->code), error->message);
  reason = g_strdup_printf ("reason=\"%s\"", mero_plugin_error_code_to_string (error->code));
  mero_metrics_counter_add (registry->metrics, MERO_PLUGIN_METRIC_FAILURES, reason, 1, NULL);
}

/* Opens the module and runs every descriptor and vtable check.  On
 * success entry->module, descriptor and vtable are set. */
static gboolean
open_and_check (MeroPluginEntry *entry, const MeroPluginMetadata *metadata, GError **error)
{
  const char *file = entry->info.module_file;
  g_autoptr (GError) local_error = NULL;
  MeroPluginGetDescriptorFunc get_descriptor = NULL;
  gpointer symbol = NULL;

  if (!mero_plugin_vet_file (file, "module", error))
    return FALSE;

  /* LOCAL: plugins must not see each other's symbols (they all export
   * the same entry point). */
  entry->module = g_module_open_full (file, G_MODULE_BIND_LOCAL, &local_error);
  if (entry->module == NULL)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_OPEN_FAILED,
                   "%s: cannot open module: %s", file, local_error->message);
      return FALSE;
    }
  if (!g_module_symbol (entry->module, MERO_PLUGIN_ENTRY_SYMBOL, &symbol) || symbol == NULL)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_MISSING_SYMBOL,
                   "%s: module does not export %s()", file, MERO_PLUGIN_ENTRY_SYMBOL);
      return FALSE;
    }
  /* dlsym returns an object pointer; POSIX guarantees it converts to a
   * function pointer.  memcpy avoids the ISO C cast warning. */
  memcpy (&get_descriptor, &symbol, sizeof get_descriptor);

  return mero_plugin_abi_check_descriptor (get_descriptor (), file, &entry->descriptor,
                                           error) &&
         mero_plugin_abi_check_identity (&entry->descriptor, file, metadata->name,
                                         metadata->kind, metadata->version, error) &&
         mero_plugin_abi_copy_vtable (metadata->kind, entry->descriptor.vtable, file,
                                      &entry->vtable, error);
}

/* Calls the plugin's init with its own host services table. */
static gboolean
init_plugin (MeroPluginRegistry *registry, MeroPluginEntry *entry, GError **error)
{
  g_autoptr (GError) plugin_error = NULL;

  entry->host = mero_host_services_new (entry->info.name, entry->info.kind, registry->metrics,
                                        registry->state);
  if (entry->descriptor.init == NULL)
    return TRUE;
  if (entry->descriptor.init (entry->host, &entry->plugin_data, &plugin_error))
    {
      if (plugin_error != NULL)
        g_log_structured (MERO_PLUGIN_LOADER_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                          MERO_PLUGIN_LOADER_FIELD_FILE, entry->info.module_file,
                          "MESSAGE", "Plugin “%s” init succeeded but set an error: %s",
                          entry->info.name, plugin_error->message);
      return TRUE;
    }
  g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_INIT_FAILED,
               "%s: init failed: %s", entry->info.module_file,
               plugin_error != NULL ? plugin_error->message : "(the plugin gave no reason)");
  return FALSE;
}

/* Makes the record of a loaded plugin visible through the getters. */
static void
publish_locked (MeroPluginRegistry *registry, MeroPluginEntry *entry)
{
  entry->initialized = TRUE;
  entry->info.status = MERO_PLUGIN_STATUS_LOADED;
  switch (entry->info.kind)
    {
    case MERO_PLUGIN_KIND_STORAGE_BACKEND:
      entry->loaded.storage = (MeroLoadedStorageBackend) {
        &entry->info, &entry->vtable.storage, entry->plugin_data };
      break;
    case MERO_PLUGIN_KIND_SYNC_PROTOCOL:
      entry->loaded.sync = (MeroLoadedSyncProtocol) {
        &entry->info, &entry->vtable.sync, entry->plugin_data };
      break;
    case MERO_PLUGIN_KIND_TEE_VERIFIER:
      entry->loaded.tee = (MeroLoadedTeeVerifier) {
        &entry->info, &entry->vtable.tee, entry->plugin_data };
      break;
    case MERO_PLUGIN_KIND_INVALID:
    default:
      g_assert_not_reached ();
    }
  g_hash_table_insert (registry->by_name, entry->info.name, entry);
  update_loaded_gauge_locked (registry);
}

/* The body of load_file, with the lock held.  Every outcome, including
 * failure, leaves exactly one record in registry->entries, returned in
 * *out_entry.  Returns FALSE only for a failure (DISABLED is not one). */
static gboolean
load_file_locked (MeroPluginRegistry *registry, const char *metadata_file,
                  MeroPluginEntry **out_entry, GError **error)
{
  g_autoptr (MeroPluginEntry) owned = g_new0 (MeroPluginEntry, 1);
  MeroPluginEntry *entry = owned;
  g_autoptr (MeroPluginMetadata) metadata = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *basename = g_path_get_basename (metadata_file);

  /* Until the metadata is read, the record is named after its file. */
  if (g_str_has_suffix (basename, MERO_PLUGIN_METADATA_SUFFIX))
    basename[strlen (basename) - strlen (MERO_PLUGIN_METADATA_SUFFIX)] = '\0';
  entry->info.name = g_strdup (basename);
  entry->info.metadata_file = g_strdup (metadata_file);
  g_ptr_array_add (registry->entries, g_steal_pointer (&owned));
  *out_entry = entry;

  if (!mero_plugin_vet_file (metadata_file, "metadata", &local_error) ||
      (metadata = mero_plugin_metadata_load (metadata_file, &local_error)) == NULL)
    {
      record_failure_locked (registry, entry, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  g_free (entry->info.name);
  entry->info.name = g_strdup (metadata->name);
  entry->info.kind = metadata->kind;
  entry->info.version = g_strdup (metadata->version);
  entry->info.description = g_strdup (metadata->description);
  entry->info.module_file = g_strdup (metadata->module_file);

  if (is_disabled_locked (registry, metadata->name))
    {
      entry->info.status = MERO_PLUGIN_STATUS_DISABLED;
      g_log_structured (MERO_PLUGIN_LOADER_LOG_DOMAIN, G_LOG_LEVEL_INFO,
                        MERO_PLUGIN_LOADER_FIELD_FILE, metadata_file,
                        "MESSAGE", "Plugin “%s” is disabled; not loaded", metadata->name);
      return TRUE;
    }

  if (g_hash_table_contains (registry->by_name, metadata->name))
    {
      const MeroPluginEntry *first = g_hash_table_lookup (registry->by_name, metadata->name);

      g_set_error (&local_error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_DUPLICATE,
                   "%s: a plugin named “%s” is already loaded from %s", metadata_file,
                   metadata->name, first->info.metadata_file);
    }
  else if (open_and_check (entry, metadata, &local_error))
    {
      (void) init_plugin (registry, entry, &local_error);
    }

  if (local_error != NULL)
    {
      record_failure_locked (registry, entry, local_error);
      g_propagate_error (error, g_steal_pointer (&local_error));
      return FALSE;
    }

  publish_locked (registry, entry);
  g_log_structured (MERO_PLUGIN_LOADER_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                    MERO_PLUGIN_LOADER_FIELD_FILE, metadata_file,
                    "MESSAGE", "Plugin “%s” %s (%s) loaded from %s", entry->info.name,
                    entry->info.version, mero_plugin_kind_to_string (entry->info.kind),
                    entry->info.module_file);
  return TRUE;
}

gboolean
mero_plugin_registry_load_file (MeroPluginRegistry *registry, const char *metadata_file,
                                GError **error)
{
  MeroPluginEntry *entry = NULL;
  gboolean ok;

  g_return_val_if_fail (registry != NULL, FALSE);
  g_return_val_if_fail (metadata_file != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_mutex_lock (&registry->lock);
  ok = load_file_locked (registry, metadata_file, &entry, error);
  g_mutex_unlock (&registry->lock);
  return ok;
}

static int
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The *.plugin files of @dir, sorted so the load order (and so which of
 * two same-named plugins wins inside one directory) is deterministic. */
static GPtrArray *
list_metadata_files (const char *dir)
{
  g_autoptr (GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GError) error = NULL;
  const char *name;

  handle = g_dir_open (dir, 0, &error);
  if (handle == NULL)
    {
      /* A missing directory is normal (nothing installed yet). */
      g_log_structured (MERO_PLUGIN_LOADER_LOG_DOMAIN, G_LOG_LEVEL_DEBUG,
                        MERO_PLUGIN_LOADER_FIELD_FILE, dir,
                        "MESSAGE", "Skipping plugin directory %s: %s", dir, error->message);
      return g_steal_pointer (&files);
    }
  while ((name = g_dir_read_name (handle)) != NULL)
    if (g_str_has_suffix (name, MERO_PLUGIN_METADATA_SUFFIX) &&
        strlen (name) > strlen (MERO_PLUGIN_METADATA_SUFFIX))
      g_ptr_array_add (files, g_build_filename (dir, name, NULL));
  g_ptr_array_sort (files, compare_strings);
  return g_steal_pointer (&files);
}

guint
mero_plugin_registry_load_path (MeroPluginRegistry *registry, const char *const *dirs)
{
  g_auto (GStrv) default_dirs = NULL;
  guint n_loaded = 0;

  g_return_val_if_fail (registry != NULL, 0);

  if (dirs == NULL)
    {
      default_dirs = mero_plugin_registry_default_search_path ();
      dirs = (const char *const *) default_dirs;
    }
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autoptr (GPtrArray) files = list_metadata_files (dirs[i]);

      for (guint j = 0; j < files->len; j++)
        {
          const char *file = g_ptr_array_index (files, j);
          MeroPluginEntry *entry = NULL;

          g_mutex_lock (&registry->lock);
          (void) load_file_locked (registry, file, &entry, NULL);
          n_loaded += entry->info.status == MERO_PLUGIN_STATUS_LOADED ? 1 : 0;
          g_mutex_unlock (&registry->lock);
        }
    }
  return n_loaded;
}

static int
compare_info_by_name (gconstpointer a, gconstpointer b)
{
  const MeroPluginInfo *ia = *(const MeroPluginInfo *const *) a;
  const MeroPluginInfo *ib = *(const MeroPluginInfo *const *) b;
  int c = strcmp (ia->name, ib->name);

  if (c != 0)
    return c;
  /* Same name: the loaded one first, then by file, for a stable listing. */
  if (ia->status != ib->status)
    return (int) ia->status - (int) ib->status;
  return strcmp (ia->metadata_file, ib->metadata_file);
}

GPtrArray *
mero_plugin_registry_list (MeroPluginRegistry *registry)
{
  GPtrArray *list;

  g_return_val_if_fail (registry != NULL, NULL);

  g_mutex_lock (&registry->lock);
  list = g_ptr_array_sized_new (registry->entries->len);
  for (guint i = 0; i < registry->entries->len; i++)
    g_ptr_array_add (list, &((MeroPluginEntry *) g_ptr_array_index (registry->entries, i))->info);
  g_mutex_unlock (&registry->lock);
  g_ptr_array_sort (list, compare_info_by_name);
  return list;
}

const MeroPluginInfo *
mero_plugin_registry_lookup (MeroPluginRegistry *registry, const char *name)
{
  const MeroPluginInfo *found = NULL;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  g_mutex_lock (&registry->lock);
  if (g_hash_table_contains (registry->by_name, name))
    found = &((MeroPluginEntry *) g_hash_table_lookup (registry->by_name, name))->info;
  for (guint i = 0; found == NULL && i < registry->entries->len; i++)
    {
      MeroPluginEntry *entry = g_ptr_array_index (registry->entries, i);

      if (strcmp (entry->info.name, name) == 0)
        found = &entry->info;
    }
  g_mutex_unlock (&registry->lock);
  return found;
}

/* A loaded plugin of @kind named @name, or NULL with NOT_FOUND. */
static MeroPluginEntry *
get_loaded (MeroPluginRegistry *registry, MeroPluginKind kind, const char *name,
            GError **error)
{
  MeroPluginEntry *entry;

  g_mutex_lock (&registry->lock);
  entry = g_hash_table_lookup (registry->by_name, name);
  g_mutex_unlock (&registry->lock);
  if (entry == NULL || entry->info.kind != kind)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_NOT_FOUND,
                   "no %s plugin named “%s” is loaded", mero_plugin_kind_to_string (kind), name);
      return NULL;
    }
  return entry;
}

const MeroLoadedStorageBackend *
mero_plugin_registry_get_storage_backend (MeroPluginRegistry *registry, const char *name,
                                          GError **error)
{
  MeroPluginEntry *entry;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  entry = get_loaded (registry, MERO_PLUGIN_KIND_STORAGE_BACKEND, name, error);
  return entry != NULL ? &entry->loaded.storage : NULL;
}

const MeroLoadedTeeVerifier *
mero_plugin_registry_get_tee_verifier (MeroPluginRegistry *registry, const char *name,
                                       GError **error)
{
  MeroPluginEntry *entry;

  g_return_val_if_fail (registry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  entry = get_loaded (registry, MERO_PLUGIN_KIND_TEE_VERIFIER, name, error);
  return entry != NULL ? &entry->loaded.tee : NULL;
}

GPtrArray *
mero_plugin_registry_get_sync_protocols (MeroPluginRegistry *registry)
{
  GPtrArray *list;

  g_return_val_if_fail (registry != NULL, NULL);

  g_mutex_lock (&registry->lock);
  list = g_ptr_array_new ();
  /* Load order, which is search-path order: deterministic for selection
   * ties. */
  for (guint i = 0; i < registry->entries->len; i++)
    {
      MeroPluginEntry *entry = g_ptr_array_index (registry->entries, i);

      if (entry->info.status == MERO_PLUGIN_STATUS_LOADED &&
          entry->info.kind == MERO_PLUGIN_KIND_SYNC_PROTOCOL)
        g_ptr_array_add (list, &entry->loaded.sync);
    }
  g_mutex_unlock (&registry->lock);
  return list;
}
