/* mero-plugin-abi.h: checks a plugin's descriptor and vtable against ABI 1.
 *
 * Every SDK struct only grows at the end, so "ABI-1 size" means the end of
 * the last member ABI 1 defined (not sizeof, which later minors grow).  A
 * plugin's struct must be at least that long; the host then copies it into
 * a zeroed struct of its own latest layout, so members the plugin predates
 * read as NULL and are checked before use. */
#pragma once

#include <glib.h>
#include <mero-sdk.h>

G_BEGIN_DECLS

#define MERO_ABI_END_OF(type, member) \
  (G_STRUCT_OFFSET (type, member) + sizeof (((type *) NULL)->member))

#define MERO_PLUGIN_DESCRIPTOR_ABI1_SIZE MERO_ABI_END_OF (MeroPluginDescriptor, finalize)
#define MERO_STORAGE_BACKEND_VTABLE_ABI1_SIZE \
  MERO_ABI_END_OF (MeroStorageBackendVTable, iter_free)
#define MERO_SYNC_PROTOCOL_VTABLE_ABI1_SIZE MERO_ABI_END_OF (MeroSyncProtocolVTable, session_free)
#define MERO_TEE_VERIFIER_VTABLE_ABI1_SIZE MERO_ABI_END_OF (MeroTeeVerifierVTable, verify)

/* The host's copy of a plugin vtable, whatever its kind. */
typedef union {
  uint32_t struct_size;   /* the plugin's own struct_size, kept as reported */
  MeroStorageBackendVTable storage;
  MeroSyncProtocolVTable sync;
  MeroTeeVerifierVTable tee;
} MeroPluginVTableCopy;

/* Checks abi_major (MERO_PLUGIN_ERROR_ABI_MAJOR), abi_minor
 * (ABI_MINOR), struct_size (SHORT_STRUCT) and kind (BAD_KIND), in that
 * order, reading no member the plugin's struct_size does not cover.  On
 * success *out is a zero-padded copy in the host's layout.  @file names the
 * module in messages. */
gboolean mero_plugin_abi_check_descriptor (const MeroPluginDescriptor *descriptor,
                                           const char *file, MeroPluginDescriptor *out,
                                           GError **error);

/* The descriptor must say what the .plugin file said:
 * MERO_PLUGIN_ERROR_METADATA_MISMATCH naming the member otherwise. */
gboolean mero_plugin_abi_check_identity (const MeroPluginDescriptor *descriptor,
                                         const char *file, const char *name,
                                         MeroPluginKind kind, const char *version,
                                         GError **error);

/* Copies the plugin's vtable of @kind into *out (zeroed first) and checks
 * it: non-NULL and at least the ABI-1 size (SHORT_STRUCT), then every
 * ABI-1 method and data member present (MISSING_METHOD naming it). */
gboolean mero_plugin_abi_copy_vtable (MeroPluginKind kind, const void *vtable, const char *file,
                                      MeroPluginVTableCopy *out, GError **error);

G_END_DECLS
