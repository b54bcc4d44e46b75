/* mero-errors.h: error domains shared by the host and plugins.
 *
 * The quark functions are static inline so that the SDK stays header-only:
 * a quark is identified by its string, so every module that calls them
 * gets the same GQuark value.
 *
 * They use g_quark_from_string(), never g_quark_from_static_string(): the
 * first module to create a quark may be a plugin, and GLib would keep a
 * pointer into that plugin's read-only data after the module is closed. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Errors of the plugin loader (returned by the host, see mero-plugin.h). */
#define MERO_PLUGIN_ERROR (mero_plugin_error_quark ())
static inline GQuark
mero_plugin_error_quark (void)
{
  return g_quark_from_string ("mero-plugin-error-quark");
}

/* Append-only: values are part of ABI 1. */
typedef enum {
  MERO_PLUGIN_ERROR_NOT_FOUND = 1,        /* no such plugin / module file */
  MERO_PLUGIN_ERROR_BAD_METADATA = 2,     /* .plugin keyfile unreadable or incomplete */
  MERO_PLUGIN_ERROR_UNSAFE_FILE = 3,      /* not a regular file, or group/world-writable */
  MERO_PLUGIN_ERROR_OPEN_FAILED = 4,      /* dlopen failed */
  MERO_PLUGIN_ERROR_MISSING_SYMBOL = 5,   /* no mero_plugin_get_descriptor */
  MERO_PLUGIN_ERROR_ABI_MAJOR = 6,        /* abi_major differs from the host's */
  MERO_PLUGIN_ERROR_ABI_MINOR = 7,        /* abi_minor newer than the host's */
  MERO_PLUGIN_ERROR_SHORT_STRUCT = 8,     /* descriptor or vtable smaller than ABI 1 */
  MERO_PLUGIN_ERROR_BAD_KIND = 9,         /* unknown kind for this host */
  MERO_PLUGIN_ERROR_METADATA_MISMATCH = 10, /* descriptor disagrees with the .plugin file */
  MERO_PLUGIN_ERROR_MISSING_METHOD = 11,  /* a required vtable method is NULL */
  MERO_PLUGIN_ERROR_INIT_FAILED = 12,     /* the plugin's init returned FALSE */
  MERO_PLUGIN_ERROR_DUPLICATE = 13,       /* a plugin of that name is already loaded */
} MeroPluginError;

/* Errors a storage backend reports. */
#define MERO_STORE_ERROR (mero_store_error_quark ())
static inline GQuark
mero_store_error_quark (void)
{
  return g_quark_from_string ("mero-store-error-quark");
}

typedef enum {
  MERO_STORE_ERROR_FAILED = 1,     /* backend failure; message says what */
  MERO_STORE_ERROR_IO = 2,         /* disk or filesystem error */
  MERO_STORE_ERROR_CORRUPT = 3,    /* data does not decode / checksum mismatch */
  MERO_STORE_ERROR_LOCKED = 4,     /* the database is in use by another process */
  MERO_STORE_ERROR_WRONG_KEY = 5,  /* encrypted store, key does not match */
  MERO_STORE_ERROR_NEEDS_KEY = 6,  /* encrypted store opened without a key */
  MERO_STORE_ERROR_NOT_ENCRYPTED = 7, /* key given for a non-empty plaintext store */
  MERO_STORE_ERROR_INVALID = 8,    /* bad argument from the caller (bad key length, ...) */
} MeroStoreError;

/* Errors a sync protocol session reports. */
#define MERO_SYNC_ERROR (mero_sync_error_quark ())
static inline GQuark
mero_sync_error_quark (void)
{
  return g_quark_from_string ("mero-sync-error-quark");
}

typedef enum {
  MERO_SYNC_ERROR_FAILED = 1,
  MERO_SYNC_ERROR_PROTOCOL = 2,    /* peer sent something malformed or out of order */
  MERO_SYNC_ERROR_LIMIT = 3,       /* peer exceeded a named bound */
  MERO_SYNC_ERROR_TIMEOUT = 4,     /* a session deadline passed */
  MERO_SYNC_ERROR_UNSUPPORTED = 5, /* protocol not applicable to this handshake */
  MERO_SYNC_ERROR_STATE = 6,       /* local state access failed */
  MERO_SYNC_ERROR_REFUSED = 7,     /* ABI 1.1: the state refused one entity (unknown
                                    * parent, bad type, moved); the writer is intact */
} MeroSyncError;

/* Errors a TEE verifier reports. */
#define MERO_TEE_ERROR (mero_tee_error_quark ())
static inline GQuark
mero_tee_error_quark (void)
{
  return g_quark_from_string ("mero-tee-error-quark");
}

typedef enum {
  MERO_TEE_ERROR_FAILED = 1,
  MERO_TEE_ERROR_MALFORMED = 2,    /* quote does not parse */
  MERO_TEE_ERROR_SIGNATURE = 3,    /* quote signature or chain invalid */
  MERO_TEE_ERROR_POLICY = 4,       /* valid quote, but measurement/TCB not accepted */
  MERO_TEE_ERROR_REPORT_DATA = 5,  /* report data does not bind the expected value */
} MeroTeeError;

G_END_DECLS
