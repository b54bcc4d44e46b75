/* mero-plugin.h: the plugin descriptor, the one thing a plugin exports.
 *
 * A plugin is a shared module exporting exactly one symbol,
 * mero_plugin_get_descriptor(), which returns a pointer to a static const
 * MeroPluginDescriptor.  Write it with MERO_PLUGIN_DEFINE().
 *
 * ABI rules (ABI 1):
 *  - abi_major must equal the host's; abi_minor may not be newer.
 *  - Every struct starts with its struct_size and only grows at the end.
 *    The host copies the plugin's vtable into a zeroed struct of its own
 *    latest layout and checks each method before calling it.
 *  - Enum values are append-only. */
#pragma once

#include <glib.h>
#include <stdint.h>

#include <mero-sdk/mero-host-services.h>
#include <mero-sdk/mero-version.h>

G_BEGIN_DECLS

/* Append-only: values are part of ABI 1. */
typedef enum {
  MERO_PLUGIN_KIND_INVALID = 0,
  MERO_PLUGIN_KIND_SYNC_PROTOCOL = 1,
  MERO_PLUGIN_KIND_STORAGE_BACKEND = 2,
  MERO_PLUGIN_KIND_TEE_VERIFIER = 3,
} MeroPluginKind;

typedef struct _MeroPluginDescriptor MeroPluginDescriptor;

struct _MeroPluginDescriptor {
  uint32_t abi_major;
  uint32_t abi_minor;
  uint32_t struct_size;        /* sizeof (MeroPluginDescriptor) at build time */
  uint32_t kind;               /* MeroPluginKind */
  const char *name;            /* unique, [a-z0-9-]+, matches the .plugin file */
  const char *version;
  const char *license;         /* SPDX identifier */
  const void *vtable;          /* kind-specific, starts with uint32_t struct_size */

  /* Called once after the checks pass.  @host stays valid until finalize.
   * Store per-plugin state in *plugin_data; it is passed back to every
   * vtable method that takes plugin_data.  May be NULL. */
  gboolean (*init) (const MeroHostServices *host, void **plugin_data, GError **error);
  /* Called once before the module is closed.  May be NULL. */
  void (*finalize) (void *plugin_data);
};

/* The symbol the loader looks up. */
#define MERO_PLUGIN_ENTRY_SYMBOL "mero_plugin_get_descriptor"

typedef const MeroPluginDescriptor *(*MeroPluginGetDescriptorFunc) (void);

#if defined(_WIN32)
#define MERO_PLUGIN_EXPORT __declspec (dllexport)
#else
#define MERO_PLUGIN_EXPORT __attribute__ ((visibility ("default")))
#endif

/* MERO_PLUGIN_DEFINE (id, kind, name, version, license, vtable, init, finalize)
 *
 * Writes the descriptor and two functions: mero_plugin_<id>_get_descriptor(),
 * with hidden visibility so tests can link the plugin statically, and the
 * exported entry point mero_plugin_get_descriptor() unless
 * MERO_PLUGIN_STATIC is defined (so several plugins can be linked into one
 * test binary).  @id is a C identifier, @name the plugin name. */
#define MERO_PLUGIN_DEFINE(id, kind_, name_, version_, license_, vtable_, init_, finalize_) \
  static const MeroPluginDescriptor mero_plugin_##id##_descriptor = {                  \
    .abi_major = MERO_PLUGIN_ABI_MAJOR,                                                \
    .abi_minor = MERO_PLUGIN_ABI_MINOR,                                                \
    .struct_size = sizeof (MeroPluginDescriptor),                                      \
    .kind = (kind_),                                                                   \
    .name = (name_),                                                                   \
    .version = (version_),                                                             \
    .license = (license_),                                                             \
    .vtable = (vtable_),                                                               \
    .init = (init_),                                                                   \
    .finalize = (finalize_),                                                           \
  };                                                                                   \
  const MeroPluginDescriptor *mero_plugin_##id##_get_descriptor (void);                \
  const MeroPluginDescriptor *mero_plugin_##id##_get_descriptor (void)                 \
  {                                                                                    \
    return &mero_plugin_##id##_descriptor;                                             \
  }                                                                                    \
  MERO_PLUGIN_DEFINE_ENTRY_ (id)

#ifdef MERO_PLUGIN_STATIC
#define MERO_PLUGIN_DEFINE_ENTRY_(id) G_STATIC_ASSERT (TRUE)
#else
#define MERO_PLUGIN_DEFINE_ENTRY_(id)                                                  \
  MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void);    \
  MERO_PLUGIN_EXPORT const MeroPluginDescriptor *mero_plugin_get_descriptor (void)     \
  {                                                                                    \
    return mero_plugin_##id##_get_descriptor ();                                       \
  }                                                                                    \
  G_STATIC_ASSERT (TRUE)
#endif

/* Log through the host with printf-style formatting. */
static inline void mero_plugin_log (const MeroHostServices *host, MeroLogLevel level,
                                    const char *domain, const char *format, ...)
    G_GNUC_PRINTF (4, 5);
static inline void
mero_plugin_log (const MeroHostServices *host, MeroLogLevel level, const char *domain,
                 const char *format, ...)
{
  va_list ap;
  char *msg;

  if (host == NULL || host->log == NULL)
    return;
  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  host->log (host, level, domain, msg);
  g_free (msg);
}

G_END_DECLS
