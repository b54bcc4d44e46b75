/* mero-plugin-abi.c: see mero-plugin-abi.h. */
#include "plugin/mero-plugin-abi.h"

#include <string.h>

#include "plugin/mero-plugin-registry.h"

/* A member every ABI-1 plugin of a kind must fill in. */
typedef struct {
  const char *name;
  size_t offset;
} RequiredMember;

#define REQUIRED(type, member) { #member, G_STRUCT_OFFSET (type, member) }

static const RequiredMember storage_required[] = {
  REQUIRED (MeroStorageBackendVTable, open),
  REQUIRED (MeroStorageBackendVTable, close),
  REQUIRED (MeroStorageBackendVTable, flush),
  REQUIRED (MeroStorageBackendVTable, get),
  REQUIRED (MeroStorageBackendVTable, put),
  REQUIRED (MeroStorageBackendVTable, delete_key),
  REQUIRED (MeroStorageBackendVTable, batch_new),
  REQUIRED (MeroStorageBackendVTable, batch_put),
  REQUIRED (MeroStorageBackendVTable, batch_delete),
  REQUIRED (MeroStorageBackendVTable, batch_commit),
  REQUIRED (MeroStorageBackendVTable, batch_free),
  REQUIRED (MeroStorageBackendVTable, snapshot_new),
  REQUIRED (MeroStorageBackendVTable, snapshot_free),
  REQUIRED (MeroStorageBackendVTable, iter_new),
  REQUIRED (MeroStorageBackendVTable, iter_seek_first),
  REQUIRED (MeroStorageBackendVTable, iter_seek),
  REQUIRED (MeroStorageBackendVTable, iter_valid),
  REQUIRED (MeroStorageBackendVTable, iter_next),
  REQUIRED (MeroStorageBackendVTable, iter_key),
  REQUIRED (MeroStorageBackendVTable, iter_value),
  REQUIRED (MeroStorageBackendVTable, iter_check),
  REQUIRED (MeroStorageBackendVTable, iter_free),
};

static const RequiredMember sync_required[] = {
  REQUIRED (MeroSyncProtocolVTable, protocol_id),
  REQUIRED (MeroSyncProtocolVTable, cost),
  REQUIRED (MeroSyncProtocolVTable, session_new),
  REQUIRED (MeroSyncProtocolVTable, recv),
  REQUIRED (MeroSyncProtocolVTable, pull_send),
  REQUIRED (MeroSyncProtocolVTable, next_deadline),
  REQUIRED (MeroSyncProtocolVTable, handle_deadline),
  REQUIRED (MeroSyncProtocolVTable, status),
  REQUIRED (MeroSyncProtocolVTable, get_stats),
  REQUIRED (MeroSyncProtocolVTable, session_free),
};

static const RequiredMember tee_required[] = {
  REQUIRED (MeroTeeVerifierVTable, quote_format),
  REQUIRED (MeroTeeVerifierVTable, verify),
};

static gboolean
kind_is_known (uint32_t kind)
{
  return kind == MERO_PLUGIN_KIND_SYNC_PROTOCOL || kind == MERO_PLUGIN_KIND_STORAGE_BACKEND ||
         kind == MERO_PLUGIN_KIND_TEE_VERIFIER;
}

gboolean
mero_plugin_abi_check_descriptor (const MeroPluginDescriptor *descriptor, const char *file,
                                  MeroPluginDescriptor *out, GError **error)
{
  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  if (descriptor == NULL)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_MISSING_SYMBOL,
                   "%s: %s() returned NULL", file, MERO_PLUGIN_ENTRY_SYMBOL);
      return FALSE;
    }
  /* abi_major, abi_minor and struct_size lead every version of the
   * descriptor, so they can be read before the size is known. */
  if (descriptor->abi_major != MERO_PLUGIN_ABI_MAJOR)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_ABI_MAJOR,
                   "%s: built for plugin ABI %u, this host speaks ABI %d", file,
                   descriptor->abi_major, MERO_PLUGIN_ABI_MAJOR);
      return FALSE;
    }
  if (descriptor->abi_minor > MERO_PLUGIN_ABI_MINOR)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_ABI_MINOR,
                   "%s: built for plugin ABI %u.%u, newer than this host's %d.%d", file,
                   descriptor->abi_major, descriptor->abi_minor, MERO_PLUGIN_ABI_MAJOR,
                   MERO_PLUGIN_ABI_MINOR);
      return FALSE;
    }
  if (descriptor->struct_size < MERO_PLUGIN_DESCRIPTOR_ABI1_SIZE)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_SHORT_STRUCT,
                   "%s: descriptor struct_size %u is smaller than the ABI 1 descriptor (%zu)",
                   file, descriptor->struct_size, (size_t) MERO_PLUGIN_DESCRIPTOR_ABI1_SIZE);
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  memcpy (out, descriptor, MIN ((size_t) descriptor->struct_size, sizeof *out));

  if (!kind_is_known (out->kind))
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_KIND,
                   "%s: unknown plugin kind %u", file, out->kind);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_plugin_abi_check_identity (const MeroPluginDescriptor *descriptor, const char *file,
                                const char *name, MeroPluginKind kind, const char *version,
                                GError **error)
{
  g_return_val_if_fail (descriptor != NULL, FALSE);

  if (g_strcmp0 (descriptor->name, name) != 0)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_METADATA_MISMATCH,
                   "%s: descriptor name “%s” differs from the .plugin Name “%s”", file,
                   descriptor->name != NULL ? descriptor->name : "(null)", name);
      return FALSE;
    }
  if (descriptor->kind != (uint32_t) kind)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_METADATA_MISMATCH,
                   "%s: descriptor kind “%s” differs from the .plugin Kind “%s”", file,
                   mero_plugin_kind_to_string ((MeroPluginKind) descriptor->kind),
                   mero_plugin_kind_to_string (kind));
      return FALSE;
    }
  if (g_strcmp0 (descriptor->version, version) != 0)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_METADATA_MISMATCH,
                   "%s: descriptor version “%s” differs from the .plugin Version “%s”", file,
                   descriptor->version != NULL ? descriptor->version : "(null)", version);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_plugin_abi_copy_vtable (MeroPluginKind kind, const void *vtable, const char *file,
                             MeroPluginVTableCopy *out, GError **error)
{
  const RequiredMember *required;
  size_t n_required, min_size, host_size;
  uint32_t plugin_size;

  g_return_val_if_fail (file != NULL, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);

  switch (kind)
    {
    case MERO_PLUGIN_KIND_STORAGE_BACKEND:
      required = storage_required;
      n_required = G_N_ELEMENTS (storage_required);
      min_size = MERO_STORAGE_BACKEND_VTABLE_ABI1_SIZE;
      host_size = sizeof (MeroStorageBackendVTable);
      break;
    case MERO_PLUGIN_KIND_SYNC_PROTOCOL:
      required = sync_required;
      n_required = G_N_ELEMENTS (sync_required);
      min_size = MERO_SYNC_PROTOCOL_VTABLE_ABI1_SIZE;
      host_size = sizeof (MeroSyncProtocolVTable);
      break;
    case MERO_PLUGIN_KIND_TEE_VERIFIER:
      required = tee_required;
      n_required = G_N_ELEMENTS (tee_required);
      min_size = MERO_TEE_VERIFIER_VTABLE_ABI1_SIZE;
      host_size = sizeof (MeroTeeVerifierVTable);
      break;
    case MERO_PLUGIN_KIND_INVALID:
    default:
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_BAD_KIND,
                   "%s: unknown plugin kind %d", file, (int) kind);
      return FALSE;
    }

  if (vtable == NULL)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_SHORT_STRUCT,
                   "%s: descriptor has no %s vtable", file, mero_plugin_kind_to_string (kind));
      return FALSE;
    }
  memcpy (&plugin_size, vtable, sizeof plugin_size);
  if (plugin_size < min_size)
    {
      g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_SHORT_STRUCT,
                   "%s: %s vtable struct_size %u is smaller than the ABI 1 vtable (%zu)", file,
                   mero_plugin_kind_to_string (kind), plugin_size, min_size);
      return FALSE;
    }

  memset (out, 0, sizeof *out);
  memcpy (out, vtable, MIN ((size_t) plugin_size, host_size));

  for (size_t i = 0; i < n_required; i++)
    {
      const void *slot = (const char *) out + required[i].offset;
      gboolean present = FALSE;

      /* Function and data pointers share size and null representation on
       * every platform GModule supports; test the bytes, not a typed load. */
      for (size_t b = 0; b < sizeof (void *); b++)
        present |= ((const guint8 *) slot)[b] != 0;
      if (!present)
        {
          g_set_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_MISSING_METHOD,
                       "%s: %s vtable lacks required member “%s”", file,
                       mero_plugin_kind_to_string (kind), required[i].name);
          return FALSE;
        }
    }
  return TRUE;
}
