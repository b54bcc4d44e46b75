/* mero-config-schema.c: every merod.conf key, its type, bounds, default
 * and documentation.  Adding a key means adding one row here and a field
 * in MeroConfig; loading, `config get/set` and `merod init` follow. */
#include "config/mero-config-schema.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <string.h>

#include "net/mero-peer-id.h"

static gboolean
check_non_empty (const char *value, char **expected)
{
  if (value[0] != '\0')
    return TRUE;
  *expected = g_strdup (_("a non-empty string"));
  return FALSE;
}

static gboolean
check_dbus_name (const char *value, char **expected)
{
  if (g_dbus_is_name (value) && !g_dbus_is_unique_name (value))
    return TRUE;
  *expected = g_strdup (_("a well-known D-Bus name such as network.calimero.Node1"));
  return FALSE;
}

static gboolean
check_plugin_name (const char *value, char **expected)
{
  gboolean ok = value[0] != '\0';

  for (const char *p = value; *p != '\0'; p++)
    if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '-')
      ok = FALSE;
  if (!ok)
    *expected = g_strdup (_("a plugin name ([a-z0-9-]+)"));
  return ok;
}

static gboolean
check_ip_address (const char *value, char **expected)
{
  g_autoptr (GInetAddress) address = g_inet_address_new_from_string (value);

  if (address != NULL)
    return TRUE;
  *expected = g_strdup (_("an IPv4 or IPv6 address"));
  return FALSE;
}

/* Each ;-separated item is ADDRESS:PORT with a numeric host: the admin API
 * must not depend on name resolution at start-up.  The value stays one
 * string (not a LIST) so `config get` shows it as written. */
static gboolean
check_host_port_list (const char *value, char **expected)
{
  g_auto (GStrv) items = g_strsplit (value, ";", -1);
  guint n = 0;

  for (gsize i = 0; items[i] != NULL; i++)
    {
      g_strstrip (items[i]);
      if (items[i][0] == '\0')
        continue;
      if (!mero_config_parse_host_port (items[i], NULL, NULL))
        {
          *expected = g_strdup (_("ADDRESS:PORT, e.g. 127.0.0.1:2528 or [::1]:2528"));
          return FALSE;
        }
      n++;
    }
  if (n > 0)
    return TRUE;
  *expected = g_strdup (_("ADDRESS:PORT, e.g. 127.0.0.1:2528 or [::1]:2528"));
  return FALSE;
}

/* A bootstrap peer must name the peer it dials, or Noise cannot check it. */
static gboolean
check_bootstrap_multiaddr (const char *value, char **expected)
{
  const char *p2p = g_strrstr (value, "/p2p/");
  g_autoptr (MeroPeerId) peer_id = NULL;

  if (value[0] == '/' && p2p != NULL)
    peer_id = mero_peer_id_parse (p2p + 5, NULL);
  if (peer_id != NULL)
    return TRUE;
  *expected = g_strdup (_("a multiaddr ending in /p2p/<PeerId>"));
  return FALSE;
}

/* Listening needs an address and a port, nothing else: /ip4|ip6/ADDR/tcp/PORT. */
static gboolean
check_listen_multiaddr (const char *value, char **expected)
{
  g_auto (GStrv) parts = g_strsplit (value, "/", -1);
  g_autoptr (GInetAddress) address = NULL;
  guint64 port = 0;
  gboolean ok = g_strv_length (parts) == 5 && parts[0][0] == '\0'
                && (g_str_equal (parts[1], "ip4") || g_str_equal (parts[1], "ip6"))
                && g_str_equal (parts[3], "tcp")
                && g_ascii_string_to_unsigned (parts[4], 10, 0, 65535, &port, NULL);

  if (ok)
    {
      address = g_inet_address_new_from_string (parts[2]);
      ok = address != NULL
           && (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
                  == g_str_equal (parts[1], "ip6");
    }
  if (!ok)
    *expected = g_strdup (_("a multiaddr /ip4/ADDRESS/tcp/PORT or /ip6/ADDRESS/tcp/PORT"));
  return ok;
}

static const char *const encryption_choices[] = { "none", "passphrase", "key-file", NULL };
static const char *const bus_choices[] = { "session", "system", "none", NULL };
/* In MeroNodeLogLevel order. */
static const char *const log_level_choices[] = { "message", "info", "debug", NULL };
/* In MeroNetSecurity order. */
static const char *const security_choices[] = { "noise-first", "tls-first", "noise", "tls", NULL };

static const char *const sections[] = {
  "node", "network", "store", "server", "dbus", "plugins", "sync", "gc", "blob", "tee", "log", "debug", NULL,
};

#define FIELD(f) G_STRUCT_OFFSET (MeroConfig, f)

static const MeroConfigKey keys[] = {
  { "node", "name", MERO_CONFIG_TYPE_STRING, TRUE, NULL,
    N_("Human-readable name of this node, shown to peers in the identify agent version "
       "(\"merod/VERSION (NAME)\")."),
    FIELD (node_name), 0, 0, NULL, check_non_empty },

  { "network", "port", MERO_CONFIG_TYPE_UINT, TRUE, "2428",
    N_("TCP port for libp2p connections (1-65535)."),
    FIELD (network_port), 1, 65535, NULL, NULL },
  { "network", "listen", MERO_CONFIG_TYPE_LIST, FALSE, "0.0.0.0;::;",
    N_("IPv4 and IPv6 addresses to listen on, separated by “;”."),
    FIELD (network_listen), 0, 0, NULL, check_ip_address },
  { "network", "bootstrap", MERO_CONFIG_TYPE_LIST, FALSE, "",
    N_("Peers to dial at start-up, as multiaddrs ending in /p2p/<PeerId>, separated by “;”."),
    FIELD (network_bootstrap), 0, 0, NULL, check_bootstrap_multiaddr },
  { "network", "enabled", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "true",
    N_("Start the libp2p network with the node (true or false); without it the node "
       "neither listens nor dials."),
    FIELD (network_enabled), 0, 0, NULL, NULL },
  { "network", "listen_multiaddrs", MERO_CONFIG_TYPE_LIST, FALSE, "",
    N_("Multiaddrs to listen on, separated by “;” (e.g. /ip4/0.0.0.0/tcp/2428;/ip6/::/tcp/2428; "
       "tcp port 0 picks a free port). When set, it replaces listen and port; empty: every "
       "address in listen on port."),
    FIELD (network_listen_multiaddrs), 0, 0, NULL, check_listen_multiaddr },
  { "network", "max_connections", MERO_CONFIG_TYPE_UINT, FALSE, "128",
    N_("Most connections open at once, inbound and outbound (1-65536); more are refused."),
    FIELD (network_max_connections), 1, 65536, NULL, NULL },
  { "network", "dial_timeout_secs", MERO_CONFIG_TYPE_UINT, FALSE, "10",
    N_("Seconds one dial may take, connect and handshake, before it counts as failed (1-300)."),
    FIELD (network_dial_timeout_secs), 1, 300, NULL, NULL },
  { "network", "security", MERO_CONFIG_TYPE_ENUM, FALSE, "noise-first",
    N_("Security protocols: noise-first (dial with Noise, then TLS 1.3; accept both), "
       "tls-first (the other way round), noise (Noise only) or tls (TLS 1.3 only)."),
    FIELD (network_security), 0, 0, security_choices, NULL },
  { "network", "mdns", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "true",
    N_("Discover peers on the local network with mDNS (true or false) and dial them; "
       "false opens no mDNS socket."),
    FIELD (network_mdns), 0, 0, NULL, NULL },
  { "network", "mdns_interval_secs", MERO_CONFIG_TYPE_UINT, FALSE, "10",
    N_("Seconds between mDNS queries for peers on the local network (1-3600)."),
    FIELD (network_mdns_interval_secs), 1, 3600, NULL, NULL },
  { "network", "peer_store_max", MERO_CONFIG_TYPE_UINT, FALSE, "1024",
    N_("Most peers whose addresses the node remembers across restarts, to find the members "
       "of its groups again (16-65536); the least recently seen are forgotten first."),
    FIELD (network_peer_store_max), 16, 65536, NULL, NULL },

  { "store", "backend", MERO_CONFIG_TYPE_STRING, TRUE, "store-rocksdb",
    N_("Storage backend plugin: store-rocksdb (on disk) or store-memory (nothing is kept)."),
    FIELD (store_backend), 0, 0, NULL, check_plugin_name },
  { "store", "path", MERO_CONFIG_TYPE_STRING, TRUE, "data",
    N_("Database directory, relative to the home directory unless absolute."),
    FIELD (store_path), 0, 0, NULL, check_non_empty },
  { "store", "encryption", MERO_CONFIG_TYPE_ENUM, FALSE, "none",
    N_("Encryption of values at rest: none, passphrase (taken from the environment variable "
       "MERO_STORE_PASSPHRASE) or key-file (see key_file)."),
    FIELD (store_encryption), 0, 0, encryption_choices, NULL },
  { "store", "key_file", MERO_CONFIG_TYPE_STRING, FALSE, "",
    N_("With encryption=key-file: file holding the 32-byte key (raw or 64 hex digits)."),
    FIELD (store_key_file), 0, 0, NULL, NULL },
  { "store", "cache_mb", MERO_CONFIG_TYPE_UINT, FALSE, "8",
    N_("Block cache of the storage backend in MiB (0 = backend default)."),
    FIELD (store_cache_mb), 0, 65536, NULL, NULL },

  { "server", "enabled", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "true",
    N_("Run the HTTP server (admin API, JSON-RPC, events, metrics): true or false."),
    FIELD (server_enabled), 0, 0, NULL, NULL },
  { "server", "listen", MERO_CONFIG_TYPE_STRING, FALSE, "127.0.0.1:2528",
    N_("Addresses of the HTTP server as ADDRESS:PORT, separated by “;” (IPv6 as [::1]:2528); "
       "port 0 picks a free port, written to http.address in the home."),
    FIELD (server_listen), 0, 0, NULL, check_host_port_list },
  { "server", "trust_loopback", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "true",
    N_("Serve clients on loopback addresses without a token (true or false); every other "
       "client must send “Authorization: Bearer” with the token in http.token."),
    FIELD (server_trust_loopback), 0, 0, NULL, NULL },

  { "dbus", "bus", MERO_CONFIG_TYPE_ENUM, FALSE, "session",
    N_("Bus on which the node owns network.calimero.Node1: session, system or none."),
    FIELD (dbus_bus), 0, 0, bus_choices, NULL },
  { "dbus", "name", MERO_CONFIG_TYPE_STRING, FALSE, "network.calimero.Node1",
    N_("Well-known name the node owns on that bus (another name lets several nodes share "
       "one bus, as tests do); clients pick it with meroctl --dbus-name."),
    FIELD (dbus_name), 0, 0, NULL, check_dbus_name },

  { "plugins", "disabled", MERO_CONFIG_TYPE_LIST, FALSE, "",
    N_("Plugins not to load, by name, separated by “;”."),
    FIELD (plugins_disabled), 0, 0, NULL, check_plugin_name },

  { "sync", "interval_secs", MERO_CONFIG_TYPE_UINT, FALSE, "30",
    N_("Seconds between periodic synchronisations of each context."),
    FIELD (sync_interval_secs), 1, 86400, NULL, NULL },
  { "sync", "heartbeat_interval_secs", MERO_CONFIG_TYPE_UINT, FALSE, "30",
    N_("Seconds between the root-hash heartbeats of each context and the heads heartbeats of "
       "each group that peers compare to catch up (1-86400)."),
    FIELD (sync_heartbeat_interval_secs), 1, 86400, NULL, NULL },
  { "sync", "protocols", MERO_CONFIG_TYPE_LIST, FALSE, "",
    N_("Sync protocol plugins this node uses, starting and answering sessions, separated by "
       "“;”, in the order it tries them (each where it applies); empty: every loaded one, "
       "the cheapest first by its cost estimate."),
    FIELD (sync_protocols), 0, 0, NULL, check_plugin_name },

  { "gc", "interval_secs", MERO_CONFIG_TYPE_UINT, FALSE, "43200",
    N_("Seconds between garbage-collection passes over tombstones."),
    FIELD (gc_interval_secs), 60, 604800, NULL, NULL },

  { "tee", "accept_mock", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "false",
    N_("Accept mock TDX quotes (MOCK_TDX_QUOTE_V1, no attestation at all) from the tee-mock "
       "verifier: true or false. Every accepted mock quote is logged. Never on a production "
       "node."),
    FIELD (tee_accept_mock), 0, 0, NULL, NULL },
  { "tee", "collateral_dir", MERO_CONFIG_TYPE_STRING, FALSE, "tee-collateral",
    N_("Directory of the Intel collateral (*.json in dcap-qvl's QuoteCollateralV3 format, one "
       "per platform FMSPC) that TDX quotes are verified against, relative to the home unless "
       "absolute; the operator refreshes it, the node never fetches it."),
    FIELD (tee_collateral_dir), 0, 0, NULL, check_non_empty },
  { "blob", "dir", MERO_CONFIG_TYPE_STRING, FALSE, "blobstore",
    N_("Directory of the blob store, relative to the home directory unless absolute."),
    FIELD (blob_dir), 0, 0, NULL, check_non_empty },
  { "blob", "max_size_mb", MERO_CONFIG_TYPE_UINT, FALSE, "4096",
    N_("Largest blob the node accepts, in MiB (1-1048576), from D-Bus, HTTP or peers."),
    FIELD (blob_max_size_mb), 1, 1048576, NULL, NULL },
  { "blob", "cache_max_age_secs", MERO_CONFIG_TYPE_UINT, FALSE, "300",
    N_("Seconds a blob read whole into memory stays cached after its last read (1-86400)."),
    FIELD (blob_cache_max_age_secs), 1, 86400, NULL, NULL },
  { "blob", "cache_max_entries", MERO_CONFIG_TYPE_UINT, FALSE, "100",
    N_("Most blobs kept in the memory cache at once (0-100000; 0 disables the cache)."),
    FIELD (blob_cache_max_entries), 0, 100000, NULL, NULL },
  { "blob", "cache_max_mb", MERO_CONFIG_TYPE_UINT, FALSE, "500",
    N_("Most MiB of blobs kept in the memory cache at once (0-65536); larger blobs are "
       "streamed, not cached."),
    FIELD (blob_cache_max_mb), 0, 65536, NULL, NULL },
  { "log", "level", MERO_CONFIG_TYPE_ENUM, FALSE, "message",
    N_("What merod run logs: message (warnings, ready, start and stop), info (also peers, "
       "contexts, deltas applied and syncs) or debug (everything); merod run -v is info."),
    FIELD (log_level), 0, 0, log_level_choices, NULL },

  { "debug", "test_hooks", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "false",
    N_("Enable D-Bus methods meant for tests only (SkipNextBroadcasts): true or false. "
       "Never on a production node."),
    FIELD (debug_test_hooks), 0, 0, NULL, NULL },
  { "debug", "blob_serve_max_chunks", MERO_CONFIG_TYPE_UINT, FALSE, "0",
    N_("With test_hooks: serve at most this many blob chunks to peers, then fail (a transfer "
       "cut half-way); 0 = no limit."),
    FIELD (debug_blob_serve_max_chunks), 0, G_MAXUINT32, NULL, NULL },
  { "debug", "blob_serve_unverified", MERO_CONFIG_TYPE_BOOLEAN, FALSE, "false",
    N_("With test_hooks: serve blob chunks to peers without checking them (a provider serving "
       "a damaged chunk)."),
    FIELD (debug_blob_serve_unverified), 0, 0, NULL, NULL },
};

static const struct {
  const char *section;
  const char *comment;
} section_comments[] = {
  { "node", N_("This node.") },
  { "network", N_("Peer-to-peer networking (libp2p).") },
  { "store", N_("Where and how the node keeps its data.") },
  { "server", N_("Local HTTP server.") },
  { "dbus", N_("D-Bus control interface.") },
  { "plugins", N_("Plugins found in MERO_PLUGIN_DIR and the installed plugin directory.") },
  { "sync", N_("State synchronisation between peers.") },
  { "gc", N_("Garbage collection.") },
  { "tee", N_("Verification of TEE attestation quotes (TEE_VERIFIER plugins).") },
  { "blob", N_("Content-addressed blobs (files) the node stores and shares.") },
  { "log", N_("Logging.") },
  { "debug", N_("Debugging aids for tests.") },
};

const char *const *
mero_config_schema_sections (void)
{
  return sections;
}

const char *
mero_config_schema_section_comment (const char *section)
{
  for (gsize i = 0; i < G_N_ELEMENTS (section_comments); i++)
    if (g_str_equal (section_comments[i].section, section))
      return section_comments[i].comment;
  return NULL;
}

const MeroConfigKey *
mero_config_schema_keys (gsize *n_keys)
{
  *n_keys = G_N_ELEMENTS (keys);
  return keys;
}

const MeroConfigKey *
mero_config_schema_lookup (const char *section, const char *key)
{
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    if (g_str_equal (keys[i].section, section) && g_str_equal (keys[i].key, key))
      return &keys[i];
  return NULL;
}
