/* mero-plugin-metadata.h: reads a `<name>.plugin` keyfile.
 *
 *   [Plugin]
 *   Name=store-rocksdb          # [a-z0-9-]+, 1..64 chars
 *   Kind=storage-backend        # sync-protocol | storage-backend | tee-verifier
 *   Version=0.1.0
 *   Description=RocksDB storage backend
 *   Module=mero-store-rocksdb.so  # a file name in the same directory
 *
 * All five keys are required.  Module must be a bare file name (no '/'),
 * so a .plugin file can only point at a module beside it. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

#define MERO_PLUGIN_METADATA_GROUP "Plugin"
#define MERO_PLUGIN_METADATA_SUFFIX ".plugin"
/* A .plugin file is a few lines; anything bigger is not one. */
#define MERO_PLUGIN_METADATA_MAX_BYTES (64 * 1024)
#define MERO_PLUGIN_NAME_MAX_LEN 64

typedef struct {
  char *file;          /* the .plugin path */
  char *name;
  MeroPluginKind kind;
  char *version;
  char *description;
  char *module_file;   /* absolute or relative like @file: dirname(file)/Module */
} MeroPluginMetadata;

/* (transfer full) or NULL with MERO_PLUGIN_ERROR_BAD_METADATA (unreadable,
 * not a keyfile, missing or invalid key; the message names the file and the
 * key) or MERO_PLUGIN_ERROR_BAD_KIND (Kind names no kind this host knows). */
MeroPluginMetadata *mero_plugin_metadata_load (const char *file, GError **error);
void mero_plugin_metadata_free (MeroPluginMetadata *metadata);

/* "sync-protocol" etc. -> kind; MERO_PLUGIN_KIND_INVALID if unknown. */
MeroPluginKind mero_plugin_kind_from_string (const char *string);
gboolean mero_plugin_name_is_valid (const char *name);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPluginMetadata, mero_plugin_metadata_free)

G_END_DECLS
