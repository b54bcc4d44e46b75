/* mero-config.h: merod.conf, the node's GKeyFile configuration.
 *
 * The file lives in the node's home (default $XDG_DATA_HOME/merod, i.e.
 * g_get_user_data_dir()/merod).  Every key is described once, in the schema
 * in mero-config-schema.c: its type, bounds, default and the comment that
 * `merod init` writes above it.  Loading is strict: an unparseable file, a
 * missing required key, an unknown key or a bad value is an error naming
 * the file and the key (and the value), and merod exits 2 on it.
 * `merod config set` validates through the same schema and keeps the
 * file's comments. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_CONFIG_FILE_NAME "merod.conf"
#define MERO_CONFIG_DEFAULT_PORT 2428

#define MERO_CONFIG_ERROR (mero_config_error_quark ())
GQuark mero_config_error_quark (void);

typedef enum {
  MERO_CONFIG_ERROR_NOT_FOUND = 1,   /* no config file */
  MERO_CONFIG_ERROR_PARSE = 2,       /* not a valid key file */
  MERO_CONFIG_ERROR_MISSING_KEY = 3,
  MERO_CONFIG_ERROR_UNKNOWN_KEY = 4,
  MERO_CONFIG_ERROR_INVALID_VALUE = 5,
  MERO_CONFIG_ERROR_IO = 6,
} MeroConfigError;

typedef enum {
  MERO_CONFIG_ENCRYPTION_NONE = 0,
  MERO_CONFIG_ENCRYPTION_PASSPHRASE = 1,
  MERO_CONFIG_ENCRYPTION_KEY_FILE = 2,
} MeroConfigEncryption;

typedef enum {
  MERO_CONFIG_BUS_SESSION = 0,
  MERO_CONFIG_BUS_SYSTEM = 1,
  MERO_CONFIG_BUS_NONE = 2,
} MeroConfigBus;

/* The typed, validated configuration.  Strings are owned. */
typedef struct {
  char *file;                  /* the file it was loaded from */

  char *node_name;

  guint network_port;
  char **network_listen;       /* IP addresses */
  char **network_bootstrap;    /* multiaddrs ending in /p2p/<PeerId> */
  gboolean network_mdns;
  guint network_mdns_interval_secs;
  gboolean network_enabled;
  char **network_listen_multiaddrs; /* empty: network_listen × network_port */
  guint network_max_connections;
  guint network_dial_timeout_secs;
  guint network_security;      /* MeroNetSecurity */
  guint network_peer_store_max; /* peers the persisted peer store keeps */

  char *store_backend;         /* plugin name */
  char *store_path;            /* relative to the home unless absolute */
  guint store_encryption;      /* MeroConfigEncryption */
  char *store_key_file;
  guint store_cache_mb;        /* backend block cache; 0 = backend default */

  gboolean server_enabled;
  char *server_listen;         /* ADDRESS:PORT items separated by ";" */
  gboolean server_trust_loopback;

  guint dbus_bus;              /* MeroConfigBus */
  guint log_level;             /* MeroNodeLogLevel */
  char *dbus_name;             /* well-known name owned on that bus */

  char **plugins_disabled;

  guint sync_interval_secs;
  guint sync_heartbeat_interval_secs;
  char **sync_protocols;       /* allow-list in preference order; empty: all, by cost */
  guint gc_interval_secs;

  char *blob_dir;              /* relative to the home unless absolute */
  guint blob_max_size_mb;
  guint blob_cache_max_age_secs;
  guint blob_cache_max_entries;
  guint blob_cache_max_mb;

  gboolean debug_test_hooks;   /* D-Bus test hooks (SkipNextBroadcasts) */
  guint debug_blob_serve_max_chunks;   /* test hook: blob chunks served, then fail */
  gboolean debug_blob_serve_unverified; /* test hook: serve chunks unchecked */

  gboolean tee_accept_mock;    /* pass MERO_TEE_VERIFY_ACCEPT_MOCK to verifiers */
  char *tee_collateral_dir;    /* relative to the home unless absolute */
} MeroConfig;

/* (transfer full) g_get_user_data_dir()/merod */
char *mero_config_default_home (void);
/* (transfer full) <home>/merod.conf */
char *mero_config_path_for_home (const char *home);

MeroConfig *mero_config_load (const char *path, GError **error);
void mero_config_free (MeroConfig *config);

/* (transfer full) the documented default file `merod init` writes. */
char *mero_config_default_contents (void);
/* Writes the default file atomically; refuses to replace one unless @force. */
gboolean mero_config_write_default (const char *path, gboolean force, GError **error);

/* KEY is "section.key".  get returns the value as written in the file (or
 * the default of an optional key the file leaves out).  set validates
 * @value like the loader, then rewrites the file atomically keeping its
 * comments. */
char *mero_config_get_value (const char *path, const char *key, GError **error);
gboolean mero_config_set_value (const char *path, const char *key, const char *value,
                                GError **error);

/* Absolute store directory: store_path resolved against @home. */
char *mero_config_get_store_dir (const MeroConfig *config, const char *home);
/* (transfer full) blob.dir resolved against @home. */
char *mero_config_get_blob_dir (const MeroConfig *config, const char *home);
gboolean mero_config_plugin_is_disabled (const MeroConfig *config, const char *name);

/* Parses one ADDRESS:PORT ("127.0.0.1:2528", "[::1]:0"; numeric host,
 * port 0-65535).  @host (transfer full, without brackets) and @port may
 * be NULL.  FALSE if @text is not of that form. */
gboolean mero_config_parse_host_port (const char *text, char **host, guint16 *port);

const char *mero_config_bus_to_string (MeroConfigBus bus);
gboolean mero_config_bus_from_string (const char *text, MeroConfigBus *bus);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroConfig, mero_config_free)

G_END_DECLS
