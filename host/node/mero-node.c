/* mero-node.c: bootstrapping and stopping a node. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node.h"

#include <errno.h>
#include <sodium.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "blob/mero-blob-providers.h"
#include "dbus/mero-dbus-service.h"
#include "mero-build-config.h"
#include "node/mero-home-lock.h"
#include "node/mero-home.h"
#include "tee/mero-tee-verify.h"
#include "node/mero-contexts.h"
#include "node/mero-log.h"
#include "node/mero-node-client.h"
#include "node/mero-node-network.h"
#include "node/mero-node-plugins.h"
#include "server/mero-server.h"
#include "sync/mero-sync-manager.h"
#include "blob/mero-blob-net.h"
#include "context/state/mero-state-access.h"

#define MERO_STORE_PASSPHRASE_ENV "MERO_STORE_PASSPHRASE"
/* How long a missing delta may take to arrive by gossip before the node
 * fetches it (loopback delivers in well under a millisecond, a wide-area
 * mesh in tens). */
#define MERO_NODE_FETCH_GRACE_MS 100

struct _MeroNode {
  char *home;
  gboolean bus_set;
  MeroConfigBus bus;

  MeroHomeLock *lock;
  MeroConfig *config;
  MeroIdentity *identity;
  MeroPluginRegistry *registry;
  MeroStore *store;
  MeroDBusService *dbus;
  MeroNodeNetwork *network;   /* NULL while network.enabled=false */
  MeroNodePeerStore *peer_store; /* with the network: addresses across restarts */
  MeroNodeClient *client;     /* NodeClient over the network (or none) */
  MeroContexts *contexts;     /* NodeManager of contexts and groups */
  MeroSyncManager *sync;      /* state syncs with the contexts' members */
  MeroNodeEvents *events;
  MeroServer *server;
  MeroBlobManager *blobs;     /* BlobManager, once the store is open */
  MeroBlobProviders *providers;  /* who holds which blob, with the contexts */
  MeroBlobNet *blob_net;      /* blobs over /calimero/blob/ (with the contexts) */
  gboolean init_if_fresh;     /* a fresh home is initialised, else refused */
  gint64 started_us;          /* monotonic, for the uptime the server reports */

  GTask *start_task;          /* pending start */
  GCancellable *alive;        /* cancelled by stop: late callbacks bail out */
  gboolean store_opening;     /* a worker is inside mero_store_open */
  gboolean stopped;
};

/* What the worker needs to open the store; owns copies of everything so
 * the node may change meanwhile. */
typedef struct {
  const MeroStorageBackendVTable *vtable;
  void *plugin_data;
  char *path;
  char *passphrase;
  char *key_file;
  MeroStoreOptions options;
  GBytes *peer_id;            /* multihash of the node's identity */
  char *peer_id_text;
} StoreOpenData;

static void
store_open_data_free (StoreOpenData *data)
{
  if (data == NULL)
    return;
  g_free (data->path);
  if (data->passphrase != NULL)
    memset (data->passphrase, 0, strlen (data->passphrase));
  g_free (data->passphrase);
  g_free (data->key_file);
  g_clear_pointer (&data->peer_id, g_bytes_unref);
  g_free (data->peer_id_text);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreOpenData, store_open_data_free)

MeroNode *
mero_node_new (const MeroNodeOptions *options)
{
  MeroNode *node;
  g_autofree char *home = NULL;

  g_return_val_if_fail (options != NULL, NULL);

  home = options->home != NULL ? g_strdup (options->home) : mero_config_default_home ();
  node = g_new0 (MeroNode, 1);
  node->home = g_canonicalize_filename (home, NULL);
  node->bus_set = options->bus_set;
  node->init_if_fresh = options->init_if_fresh;
  node->bus = options->bus;
  node->alive = g_cancellable_new ();
  node->events = mero_node_events_new ();
  node->started_us = g_get_monotonic_time ();
  return node;
}

static void
fail_start (MeroNode *node, GError *error)
{
  g_autoptr (GTask) task = g_steal_pointer (&node->start_task);

  if (task != NULL)
    g_task_return_error (task, error);
  else
    g_error_free (error);
}

static void
node_ready (MeroNode *node)
{
  g_autoptr (GTask) task = g_steal_pointer (&node->start_task);
  g_autofree char *peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  g_autofree char *store_dir = mero_config_get_store_dir (node->config, node->home);
  MeroConfigBus bus = node->bus_set ? node->bus : (MeroConfigBus) node->config->dbus_bus;
  g_autofree char *http = node->server != NULL
                              ? g_strjoinv (" ", (char **) mero_server_get_urls (node->server))
                              : g_strdup ("off");
  g_autofree char *event = g_strdup_printf ("{\"peer_id\":\"%s\"}", peer_id);
  g_autofree char *p2p = node->network != NULL
                             ? g_strjoinv (" ", (char **) mero_node_network_get_listen_addrs (
                                                    node->network))
                             : g_strdup ("off");

  /* The one line tests, benchmarks and operators wait for. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE,
                    "MERO_EVENT", "ready",
                    "MERO_PEER_ID", peer_id,
                    "MERO_HOME", node->home,
                    "MERO_HTTP_ADDRESS", http,
                    "MERO_LISTEN", p2p,
                    "MESSAGE",
                    "ready: peer id %s, home %s, store %s (%s), D-Bus %s, HTTP %s, P2P %s",
                    peer_id, node->home, store_dir, node->config->store_backend,
                    mero_config_bus_to_string (bus), http, p2p);
  mero_node_events_publish (node->events, "node-ready", event);
  if (node->server != NULL)
    mero_server_set_ready (node->server, TRUE);
  if (task != NULL)
    g_task_return_boolean (task, TRUE);
}

/* After D-Bus, so a second node on the same bus is refused for the name,
 * not for the port; before "ready", so the address is in the ready line
 * and in HttpAddress when clients look. */
static void
start_server (MeroNode *node)
{
  GError *error = NULL;
  g_autofree char *peer_id = NULL;
  MeroServerOptions options = { 0 };

  if (!node->config->server_enabled)
    {
      node_ready (node);
      return;
    }
  peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  options.listen = node->config->server_listen;
  options.config_file = node->config->file;
  options.trust_loopback = node->config->server_trust_loopback;
  options.home = node->home;
  options.peer_id = peer_id;
  options.version = MERO_VERSION;
  options.started_us = node->started_us;
  options.registry = node->registry;
  options.events = node->events;
  options.blobs = node->blobs;
  options.providers = node->providers;
  options.blob_net = node->blob_net;
  options.contexts = node->contexts;
  options.public_key = mero_identity_get_public_key (node->identity);
  if (node->network != NULL)
    {
      options.network = mero_node_network_get_network (node->network);
      options.p2p_addresses = mero_node_network_get_listen_addrs (node->network);
    }
  node->server = mero_server_new (&options);
  if (!mero_server_start (node->server, &error))
    {
      fail_start (node, error);
      return;
    }
  if (node->dbus != NULL)
    mero_dbus_service_set_http_address (node->dbus, mero_server_get_urls (node->server)[0]);
  node_ready (node);
}

static void
on_state_changed (const char *context_id, const char *root_hash, const char *const *heads,
                  gpointer user_data)
{
  MeroNode *node = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  if (node->dbus != NULL)
    mero_dbus_service_emit_state_changed (node->dbus, context_id, root_hash, heads);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "context_id");
  json_builder_add_string_value (builder, context_id);
  json_builder_set_member_name (builder, "root_hash");
  json_builder_add_string_value (builder, root_hash);
  json_builder_set_member_name (builder, "heads");
  json_builder_begin_array (builder);
  for (guint i = 0; heads != NULL && heads[i] != NULL; i++)
    json_builder_add_string_value (builder, heads[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  mero_node_events_publish (node->events, "state-changed", json);
}

/* Members joining and leaving a context's group go to the event bus. */
static void
on_member_changed (const char *context_id, const char *group_id, const char *peer_id,
                   gboolean joined, gpointer user_data)
{
  MeroNode *node = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "context_id");
  json_builder_add_string_value (builder, context_id);
  json_builder_set_member_name (builder, "group_id");
  json_builder_add_string_value (builder, group_id);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, peer_id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  mero_node_events_publish (node->events, joined ? "member-joined" : "member-left", json);
}

static void
on_sync_finished (const char *context_id, const char *peer_id, gboolean changed,
                  gpointer user_data)
{
  MeroNode *node = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "context_id");
  json_builder_add_string_value (builder, context_id);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, peer_id);
  json_builder_set_member_name (builder, "changed");
  json_builder_add_boolean_value (builder, changed);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  mero_node_events_publish (node->events, "sync-finished", json);
}

static const char *const *
contexts_listen_addresses (gpointer user_data)
{
  MeroNode *node = user_data;
  static const char *const none[] = { NULL };

  return node->network != NULL ? mero_node_network_get_listen_addrs (node->network) : none;
}

static void
remember_peer (gpointer user_data, const char *peer_id, const char *const *addresses)
{
  MeroNode *node = user_data;

  for (guint i = 0; node->peer_store != NULL && addresses != NULL && addresses[i] != NULL; i++)
    mero_node_peer_store_learn (node->peer_store, peer_id, addresses[i]);
}

static GStrv
reach_peer (gpointer user_data, const char *peer_id)
{
  MeroNode *node = user_data;

  return node->network != NULL ? mero_node_network_redial_peer (node->network, peer_id)
                               : g_new0 (char *, 1);
}

/* The members of our groups are kept dialled from the peer store: after
 * a restart nothing else (no mDNS, no bootstrap entry) may know where
 * they are. */
static void
redial_members (MeroNode *node)
{
  g_auto (GStrv) members = NULL;
  guint n_addresses = 0;

  if (node->network == NULL || node->contexts == NULL)
    return;
  members = mero_contexts_list_member_peers (node->contexts);
  mero_peer_store_set_kept (mero_node_peer_store_get_core (node->peer_store),
                            (const char *const *) members);
  for (guint i = 0; members[i] != NULL; i++)
    {
      g_auto (GStrv) addresses = mero_node_network_redial_peer (node->network, members[i]);

      n_addresses += g_strv_length (addresses);
    }
  if (members[0] != NULL)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "members-redial", "MESSAGE",
                      "redialling %u group members at %u stored addresses",
                      g_strv_length (members), n_addresses);
}

static void
on_network_event (const MeroNetEvent *event, gpointer user_data)
{
  MeroNode *node = user_data;

  if (node->client != NULL)
    mero_node_client_handle_event (node->client, event);
}

/* The SyncManager over the contexts and the sync plugins; their stream
 * protocols are announced (the /calimero/stream/ prefix already admits
 * them). */
static void
start_sync (MeroNode *node)
{
  MeroSyncManagerConfig config = { 0 };
  g_autofree char *peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  g_auto (GStrv) protocols = NULL;

  config.client = node->client;
  config.contexts = node->contexts;
  config.registry = node->registry;
  config.self_peer_id = peer_id;
  config.interval_secs = node->config->sync_interval_secs;
  config.protocols = (const char *const *) node->config->sync_protocols;
  config.seed = g_random_int ();
  node->sync = mero_sync_manager_new (&config);
  protocols = mero_sync_manager_protocols (node->sync);
  for (guint i = 0; node->network != NULL && protocols[i] != NULL; i++)
    {
      g_autoptr (GError) error = NULL;

      if (!mero_network_add_stream_protocol (mero_node_network_get_network (node->network),
                                             protocols[i], FALSE, &error))
        g_warning ("cannot announce %s: %s", protocols[i], error->message);
    }
}

/* TEE admission: the loaded verifier for the quote's format, the home's
 * collateral (read per quote: the operator refreshes it), now, and
 * tee.accept_mock. */
static gboolean
tee_verify (gpointer user_data, GBytes *quote, MeroTeeVerdict *verdict, GError **error)
{
  MeroNode *node = user_data;
  g_autofree char *dir = g_path_is_absolute (node->config->tee_collateral_dir)
                             ? g_strdup (node->config->tee_collateral_dir)
                             : g_build_filename (node->home, node->config->tee_collateral_dir, NULL);
  g_autoptr (GPtrArray) collateral = mero_tee_collateral_load (dir, error);
  const MeroLoadedTeeVerifier *verifier;

  if (collateral == NULL)
    return FALSE;
  verifier = mero_tee_pick_verifier (node->registry, quote, error);
  return verifier != NULL
         && mero_tee_verify_quote (verifier, quote, collateral, g_get_real_time () / G_USEC_PER_SEC,
                                   node->config->tee_accept_mock ? MERO_TEE_VERIFY_ACCEPT_MOCK : 0,
                                   verdict, error);
}

/* /calimero/stream/key/1 belongs to the key-share plugin, which the
 * contexts run (one request, one answer) when they need a group key: it
 * is not a state sync the SyncManager selects. */
static void
attach_key_share (MeroNode *node)
{
  g_autoptr (GPtrArray) protocols = mero_plugin_registry_get_sync_protocols (node->registry);

  for (guint i = 0; i < protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (protocols, i);

      if (g_strcmp0 (p->vtable->protocol_id, MERO_STREAM_PROTOCOL_KEY) != 0)
        continue;
      mero_contexts_set_key_share (node->contexts, p);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "key-share", "MESSAGE",
                        "group keys over %s by plugin %s", MERO_STREAM_PROTOCOL_KEY,
                        p->info->name);
      return;
    }
  g_warning ("the key-share plugin is not loaded: group keys cannot be fetched from or served "
             "to other members, so a node that joins after a key rotation cannot read what was "
             "written before it");
}

static gboolean
providers_peer_connected (gpointer data, const char *peer_id)
{
  MeroNode *node = data;

  return node->client != NULL && mero_node_client_is_connected (node->client, peer_id);
}

/* Blob providers ride on the contexts: their records on the context
 * topics, blob-have on the contexts' stream server. */
static void
start_providers (MeroNode *node, const guint8 sk[64])
{
  MeroBlobProvidersConfig config = { 0 };

  config.contexts = node->contexts;
  config.transport = mero_node_client_transport ();
  config.transport_data = node->client;
  config.is_connected = providers_peer_connected;
  config.is_connected_data = node;
  config.blobs = node->blobs;
  config.secret_key = sk;
  node->providers = mero_blob_providers_new (&config);
  mero_contexts_set_blob_providers (node->contexts, mero_blob_providers_on_record,
                                    mero_blob_providers_serve_have, node->providers);
  if (node->dbus != NULL)
    mero_dbus_service_set_blob_providers (node->dbus, node->providers);
}

/* BlobFetchProgress on D-Bus. */
static void
on_blob_progress (const char *blob_id, guint64 done, guint64 total, guint providers,
                  gpointer user_data)
{
  MeroNode *node = user_data;

  if (node->dbus != NULL)
    mero_dbus_service_emit_blob_fetch_progress (node->dbus, blob_id, done, total, providers);
}

/* A fetched blob is announced in its context: this node now provides it. */
static void
on_blob_fetched (const guint8 context_id[32], const guint8 blob_id[32], gpointer user_data)
{
  MeroNode *node = user_data;
  MeroBlobMeta meta = { 0 };

  if (node->providers != NULL && node->blobs != NULL
      && mero_blob_manager_info (node->blobs, blob_id, &meta, NULL))
    mero_blob_providers_announce (node->providers, context_id, blob_id, meta.size);
}

/* Blobs over /calimero/blob/1, served and fetched with the blob-share
 * plugin; without it blobs stay local (and fetches say why). */
static void
start_blob_net (MeroNode *node)
{
  g_autoptr (GPtrArray) protocols = mero_plugin_registry_get_sync_protocols (node->registry);
  MeroBlobNetConfig config = { 0 };

  if (node->blobs == NULL)
    return;
  for (guint i = 0; i < protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (protocols, i);

      if (g_strcmp0 (p->vtable->protocol_id, MERO_BLOB_NET_PROTOCOL) == 0)
        config.protocol = p;
    }
  if (config.protocol == NULL)
    g_warning ("the blob-share plugin is not loaded: blobs can be neither fetched from nor "
               "served to other nodes (%s)", MERO_BLOB_NET_PROTOCOL);
  config.blobs = node->blobs;
  config.client = node->client;
  config.contexts = node->contexts;
  config.identity = node->identity;
  if (node->config->debug_test_hooks)
    {
      config.debug_serve_max_chunks = node->config->debug_blob_serve_max_chunks;
      config.debug_serve_unverified = node->config->debug_blob_serve_unverified;
    }
  node->blob_net = mero_blob_net_new (&config);
  mero_blob_net_set_progress_func (node->blob_net, on_blob_progress, node);
  /* Providers: the signed records members announced, else asking them. */
  if (node->providers != NULL)
    {
      mero_blob_net_set_provider_lookup (node->blob_net, mero_blob_providers_lookup,
                                         node->providers);
      mero_blob_net_set_fetched_func (node->blob_net, on_blob_fetched, node);
    }
  if (node->dbus != NULL)
    mero_dbus_service_set_blob_net (node->dbus, node->blob_net);
  if (config.protocol != NULL && node->network != NULL)
    {
      g_autoptr (GError) error = NULL;

      if (!mero_network_add_stream_protocol (mero_node_network_get_network (node->network),
                                             MERO_BLOB_NET_PROTOCOL, FALSE, &error))
        g_warning ("cannot announce %s: %s", MERO_BLOB_NET_PROTOCOL, error->message);
    }
}

/* After the network (contexts subscribe to their topics as they reopen),
 * before the HTTP server and "ready". */
static gboolean
start_contexts (MeroNode *node, GError **error)
{
  MeroContextsConfig config = { 0 };
  guint8 seed[32], pk[32], sk[64];

  node->client = mero_node_client_new (
      node->network != NULL ? mero_node_network_get_network (node->network) : NULL, NULL);
  if (node->network != NULL)
    mero_node_network_set_event_hook (node->network, on_network_event, node);
  mero_identity_copy_seed (node->identity, seed);
  crypto_sign_seed_keypair (pk, sk, seed);
  sodium_memzero (seed, sizeof seed);
  config.store = node->store;
  config.secret_key = sk;
  config.transport = mero_node_client_transport ();
  config.transport_data = node->client;
  config.state_changed = on_state_changed;
  config.state_changed_data = node;
  config.member_changed = on_member_changed;
  config.member_changed_data = node;
  config.sync_finished = on_sync_finished;
  config.sync_finished_data = node;
  config.heartbeat_interval_secs = node->config->sync_heartbeat_interval_secs;
  config.fetch_grace_ms = MERO_NODE_FETCH_GRACE_MS;
  config.gc_interval_secs = node->config->gc_interval_secs;
  config.listen_addresses = contexts_listen_addresses;
  config.listen_addresses_data = node;
  config.remember_peer = remember_peer;
  config.reach_peer = reach_peer;
  config.peer_store_data = node;
  config.tee_verify = tee_verify;
  config.tee_verify_data = node;
  config.tee_accept_mock = node->config->tee_accept_mock;
  /* Every loaded sync protocol: mero_state_index_attach ignores those
   * without a state index. */
  config.state_index_protocols = mero_plugin_registry_get_sync_protocols (node->registry);
  node->contexts = mero_contexts_new (&config, error);
  g_clear_pointer (&config.state_index_protocols, g_ptr_array_unref);
  if (node->contexts == NULL)
    {
      sodium_memzero (sk, sizeof sk);
      return FALSE;
    }
  mero_node_client_set_contexts (node->client, node->contexts);
  attach_key_share (node);
  start_providers (node, sk);
  sodium_memzero (sk, sizeof sk);
  if (node->dbus != NULL)
    mero_dbus_service_set_contexts (node->dbus, node->contexts, node->config->debug_test_hooks);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "contexts-opened", "MESSAGE",
                    "%u contexts reopened", mero_contexts_count (node->contexts));
  start_sync (node);
  start_blob_net (node);
  redial_members (node);
  return TRUE;
}

/* Peers joining and leaving go to D-Bus signals and the event bus. */
static void
on_peer_changed (const char *peer_id, gboolean connected, const char *detail,
                 gpointer user_data)
{
  MeroNode *node = user_data;
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *json = NULL;

  if (node->dbus != NULL)
    mero_dbus_service_emit_peer (node->dbus, peer_id, connected, detail);
  /* A member that connected after our start is kept dialled from now on
   * too (its addresses arrive with this connection and its identify). */
  if (connected && node->contexts != NULL && node->network != NULL)
    {
      g_auto (GStrv) members = mero_contexts_list_member_peers (node->contexts);

      if (g_strv_contains ((const char *const *) members, peer_id))
        {
          /* Membership changes as people join: refresh who is kept. */
          mero_peer_store_set_kept (mero_node_peer_store_get_core (node->peer_store),
                                    (const char *const *) members);
          g_strfreev (mero_node_network_redial_peer (node->network, peer_id));
        }
    }
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, peer_id);
  json_builder_set_member_name (builder, connected ? "address" : "reason");
  json_builder_add_string_value (builder, detail != NULL ? detail : "");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  mero_node_events_publish (node->events, connected ? "peer-joined" : "peer-left", json);
}

/* After D-Bus, so a second node on the same bus is refused for the name
 * rather than for the p2p port; before the HTTP server, so
 * /admin-api/peers has the network from its first request. */
static void
start_network (MeroNode *node)
{
  GError *error = NULL;

  if (!node->config->network_enabled)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "network-disabled",
                        "MESSAGE", "libp2p network disabled (network.enabled=false)");
      if (!start_contexts (node, &error))
        {
          fail_start (node, error);
          return;
        }
      start_server (node);
      return;
    }
  node->peer_store = mero_node_peer_store_new (node->store, node->config->network_peer_store_max,
                                               NULL, &error);
  if (node->peer_store == NULL)
    {
      g_prefix_error (&error, _("Cannot read the peer store: "));
      fail_start (node, error);
      return;
    }
  node->network = mero_node_network_new (node->config, node->identity);
  mero_node_network_set_peer_store (node->network, node->peer_store);
  if (!mero_node_network_start (node->network, on_peer_changed, node, &error))
    {
      g_prefix_error (&error, _("Cannot start the libp2p network (network.listen in %s): "),
                      node->config->file);
      fail_start (node, error);
      return;
    }
  if (node->dbus != NULL)
    mero_dbus_service_set_network (node->dbus, mero_node_network_get_network (node->network),
                                   mero_node_network_get_listen_addrs (node->network));
  if (!start_contexts (node, &error))
    {
      fail_start (node, error);
      return;
    }
  start_server (node);
}

static void
on_dbus_started (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GCancellable) alive = user_data;
  MeroNode *node;
  GError *error = NULL;

  if (g_cancellable_is_cancelled (alive))
    return;
  node = g_object_get_data (G_OBJECT (alive), "mero-node");
  if (!mero_dbus_service_start_finish (node->dbus, result, &error))
    {
      fail_start (node, error);
      return;
    }
  start_network (node);
}

static void
start_dbus (MeroNode *node)
{
  MeroConfigBus bus = node->bus_set ? node->bus : (MeroConfigBus) node->config->dbus_bus;
  g_autofree char *peer_id = NULL;

  if (bus == MERO_CONFIG_BUS_NONE)
    {
      start_network (node);
      return;
    }
  peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (node->identity));
  node->dbus = mero_dbus_service_new (bus == MERO_CONFIG_BUS_SYSTEM ? G_BUS_TYPE_SYSTEM
                                                                    : G_BUS_TYPE_SESSION,
                                      peer_id, MERO_VERSION, node->home, node->registry);
  mero_dbus_service_set_blobs (node->dbus, node->blobs);
  mero_dbus_service_set_name (node->dbus, node->config->dbus_name);
  mero_dbus_service_start_async (node->dbus, NULL, on_dbus_started, g_object_ref (node->alive));
}

/* A store belongs to one identity: contexts, memberships and keys in it
 * were made for that PeerId.  The first start records it; later starts
 * refuse a store written by another identity instead of mixing the two. */
static gboolean
bind_store_to_identity (MeroStore *store, StoreOpenData *data, GError **error)
{
  MeroKey key;
  g_autoptr (GBytes) recorded = NULL;

  if (!mero_key_identity (&key, MERO_STORE_PEER_ID_KEY))
    g_error ("identity key name “%s” rejected by the key builder", MERO_STORE_PEER_ID_KEY);
  if (!mero_store_get (store, &key, &recorded, error))
    return FALSE;
  if (recorded == NULL)
    return mero_store_put_bytes (store, &key, data->peer_id, error)
           && mero_store_flush (store, error);
  if (!g_bytes_equal (recorded, data->peer_id))
    {
      g_autoptr (GError) parse_error = NULL;
      g_autoptr (MeroPeerId) owner = mero_peer_id_new_from_multihash (
          g_bytes_get_data (recorded, NULL), g_bytes_get_size (recorded), &parse_error);
      g_autofree char *owner_text = owner != NULL ? mero_peer_id_to_string (owner)
                                                  : g_strdup (_("an unknown node"));

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("The store %s belongs to node %s, but this node's identity is %s; "
                     "restore the matching identity.key or use another store.path"),
                   data->path, owner_text, data->peer_id_text);
      return FALSE;
    }
  return TRUE;
}

static void
open_store_in_thread (GTask *task, gpointer source, gpointer task_data,
                      GCancellable *cancellable)
{
  StoreOpenData *data = task_data;
  GError *error = NULL;
  MeroStore *store;

  store = mero_store_open (data->vtable, data->plugin_data, data->path, &data->options, &error);
  if (store != NULL && !bind_store_to_identity (store, data, &error))
    g_clear_pointer (&store, mero_store_close);
  if (store == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, store, (GDestroyNotify) mero_store_close);
}

/* The blob directory is created (and its tmp/ emptied) once at start. */
static gboolean
open_blobs (MeroNode *node, GError **error)
{
  g_autofree char *dir = mero_config_get_blob_dir (node->config, node->home);
  const MeroConfig *c = node->config;
  MeroBlobManagerOptions options = {
    .dir = dir,
    .max_size = (guint64) c->blob_max_size_mb * 1024 * 1024,
    .fsync = TRUE,
    .cache_max_age_secs = c->blob_cache_max_age_secs,
    .cache_max_entries = c->blob_cache_max_entries,
    .cache_max_bytes = (guint64) c->blob_cache_max_mb * 1024 * 1024,
  };

  node->blobs = mero_blob_manager_new (node->store, &options, error);
  if (node->blobs == NULL)
    {
      g_prefix_error (error, _("Cannot open the blob store: "));
      return FALSE;
    }
  return TRUE;
}

static void
on_store_opened (GObject *source, GAsyncResult *result, gpointer user_data)
{
  MeroNode *node = user_data;
  GError *error = NULL;
  StoreOpenData *data = g_task_get_task_data (G_TASK (result));
  MeroStore *store = g_task_propagate_pointer (G_TASK (result), &error);

  /* The node waits for this callback in mero_node_stop, so it is alive. */
  node->store_opening = FALSE;
  if (store == NULL)
    {
      /* The store names its path in its own errors. */
      g_prefix_error (&error, _("Cannot open the store: "));
      fail_start (node, error);
      return;
    }
  node->store = store;
  if (node->stopped)
    return;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "store-opened",
                    "MERO_STORE_PATH", data->path, "MESSAGE", "store opened at %s%s",
                    data->path, mero_store_is_encrypted (store) ? " (encrypted)" : "");
  if (!open_blobs (node, &error))
    {
      fail_start (node, error);
      return;
    }
  start_dbus (node);
}

static gboolean
open_store (MeroNode *node, GError **error)
{
  const MeroLoadedStorageBackend *backend;
  g_autoptr (StoreOpenData) data = g_new0 (StoreOpenData, 1);
  g_autoptr (GTask) task = NULL;

  if (mero_config_plugin_is_disabled (node->config, node->config->store_backend))
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_INVALID_VALUE,
                   _("%s: key “store.backend”: the plugin “%s” is listed in plugins.disabled"),
                   node->config->file, node->config->store_backend);
      return FALSE;
    }
  backend = mero_plugin_registry_get_storage_backend (node->registry,
                                                      node->config->store_backend, error);
  if (backend == NULL)
    {
      g_prefix_error (error, _("%s: key “store.backend”: cannot use “%s”: "), node->config->file,
                      node->config->store_backend);
      return FALSE;
    }

  data->vtable = backend->vtable;
  data->plugin_data = backend->plugin_data;
  data->path = mero_config_get_store_dir (node->config, node->home);
  {
    const MeroPeerId *peer_id = mero_identity_get_peer_id (node->identity);
    gsize len;
    const guint8 *bytes = mero_peer_id_get_bytes (peer_id, &len);

    data->peer_id = g_bytes_new (bytes, len);
    data->peer_id_text = mero_peer_id_to_string (peer_id);
  }
  data->options.cache_bytes = (guint64) node->config->store_cache_mb * 1024 * 1024;
  switch ((MeroConfigEncryption) node->config->store_encryption)
    {
    case MERO_CONFIG_ENCRYPTION_NONE:
      data->options.key_source = MERO_STORE_KEY_SOURCE_NONE;
      break;
    case MERO_CONFIG_ENCRYPTION_PASSPHRASE:
      data->passphrase = g_strdup (g_getenv (MERO_STORE_PASSPHRASE_ENV));
      if (data->passphrase == NULL || data->passphrase[0] == '\0')
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("The store is encrypted with a passphrase (store.encryption in %s) "
                         "but %s is not set"),
                       node->config->file, MERO_STORE_PASSPHRASE_ENV);
          return FALSE;
        }
      data->options.key_source = MERO_STORE_KEY_SOURCE_PASSPHRASE;
      data->options.passphrase = data->passphrase;
      break;
    case MERO_CONFIG_ENCRYPTION_KEY_FILE:
      data->key_file = g_path_is_absolute (node->config->store_key_file)
                           ? g_strdup (node->config->store_key_file)
                           : g_build_filename (node->home, node->config->store_key_file, NULL);
      data->options.key_source = MERO_STORE_KEY_SOURCE_KEY_FILE;
      data->options.key_file = data->key_file;
      break;
    default:
      g_assert_not_reached ();
    }

  /* Opening replays the WAL and, with a passphrase, runs Argon2id: both
   * too slow for the main loop. */
  task = g_task_new (NULL, NULL, on_store_opened, node);
  g_task_set_task_data (task, g_steal_pointer (&data), (GDestroyNotify) store_open_data_free);
  node->store_opening = TRUE;
  g_task_run_in_thread (task, open_store_in_thread);
  return TRUE;
}

/* The synchronous part: small files and dlopen, all fast. */
static gboolean
bootstrap (MeroNode *node, GError **error)
{
  g_autofree char *config_path = mero_config_path_for_home (node->home);
  g_autofree char *identity_path = mero_home_identity_path (node->home);
  gboolean fresh = mero_home_is_fresh (node->home);

  /* Only the default home is set up on its first run (as the README
   * says): a --home that was never initialised is more likely a typo
   * than a wish for a new identity. */
  if (fresh && !node->init_if_fresh)
    {
      g_set_error (error, MERO_CONFIG_ERROR, MERO_CONFIG_ERROR_NOT_FOUND,
                   _("The home %s was never initialised: run “merod init --home %s” first"),
                   node->home, node->home);
      return FALSE;
    }
  if (fresh && g_mkdir_with_parents (node->home, 0700) != 0)
    {
      int errsv = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
                   _("Cannot create the home directory %s: %s"), node->home,
                   g_strerror (errsv));
      return FALSE;
    }
  /* Lock before init so two first runs cannot both initialise. */
  node->lock = mero_home_lock_acquire (node->home, error);
  if (node->lock == NULL)
    return FALSE;
  if (fresh)
    {
      g_autoptr (MeroIdentity) identity = mero_home_init (node->home, FALSE, error);

      if (identity == NULL)
        return FALSE;
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "home-initialised",
                        "MERO_HOME", node->home, "MESSAGE", "initialised a new home in %s",
                        node->home);
    }

  node->config = mero_config_load (config_path, error);
  if (node->config == NULL)
    return FALSE;
  mero_log_raise_level ((MeroNodeLogLevel) node->config->log_level);
  node->identity = mero_identity_load (identity_path, error);
  if (node->identity == NULL)
    return FALSE;

  node->registry = mero_plugin_registry_new ();
  /* Sync protocol plugins read and merge contexts' states through it. */
  mero_plugin_registry_set_state_access (node->registry, mero_state_access_get ());
  mero_node_load_plugins (node->registry, (const char *const *) node->config->plugins_disabled);
  return open_store (node, error);
}

void
mero_node_start_async (MeroNode *node, GCancellable *cancellable, GAsyncReadyCallback callback,
                       gpointer user_data)
{
  GError *error = NULL;

  g_return_if_fail (node != NULL);
  g_return_if_fail (node->start_task == NULL && !node->stopped);

  node->start_task = g_task_new (NULL, cancellable, callback, user_data);
  g_object_set_data (G_OBJECT (node->alive), "mero-node", node);
  if (!bootstrap (node, &error))
    fail_start (node, error);
}

gboolean
mero_node_start_finish (MeroNode *node, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
mero_node_stop (MeroNode *node, GError **error)
{
  gboolean ok = TRUE;

  g_return_val_if_fail (node != NULL, FALSE);

  if (node->stopped)
    return TRUE;
  node->stopped = TRUE;
  g_cancellable_cancel (node->alive);

  /* A store still opening on a worker must be closed properly, so wait
   * for it; the loop has stopped, so this blocks nobody. */
  while (node->store_opening)
    g_main_context_iteration (NULL, TRUE);

  /* The server goes first: no request may reach a closing store. */
  if (node->server != NULL)
    {
      mero_node_events_publish (node->events, "node-stopping", "{}");
      g_clear_pointer (&node->server, mero_server_free);
    }
  /* Joins in flight answer their D-Bus callers before the name goes (a
   * GTask completes from an idle: let the idles run, a bounded number). */
  mero_contexts_cancel_joins (node->contexts);
  for (guint i = 0; i < 100 && g_main_context_iteration (NULL, FALSE); i++)
    ;
  if (node->dbus != NULL)
    {
      mero_dbus_service_set_contexts (node->dbus, NULL, FALSE);
      mero_dbus_service_set_blobs (node->dbus, NULL);
      mero_dbus_service_set_blob_providers (node->dbus, NULL);
      mero_dbus_service_set_blob_net (node->dbus, NULL);
    }
  g_clear_pointer (&node->dbus, mero_dbus_service_free);
  /* Sync sessions end before the contexts whose states they use. */
  g_clear_pointer (&node->sync, mero_sync_manager_free);
  /* Blob fetches end (their partials stay for a resume) before the
   * BlobManager closes. */
  g_clear_pointer (&node->blob_net, mero_blob_net_free);
  /* Providers answer their lookups and go before the contexts and blobs. */
  if (node->contexts != NULL)
    mero_contexts_set_blob_providers (node->contexts, NULL, NULL, NULL);
  g_clear_pointer (&node->providers, mero_blob_providers_free);
  /* Blob adds in flight are committed before the store closes. */
  g_clear_pointer (&node->blobs, mero_blob_manager_free);
  /* Contexts close before the network and the store they use. */
  if (node->client != NULL)
    mero_node_client_set_contexts (node->client, NULL);
  g_clear_pointer (&node->contexts, mero_contexts_free);
  if (node->network != NULL)
    mero_node_network_set_event_hook (node->network, NULL, NULL);
  g_clear_pointer (&node->client, mero_node_client_free);
  /* Peers are told goodbye before the store closes: nothing a peer says
   * can reach a closed store. */
  g_clear_pointer (&node->network, mero_node_network_free);
  /* Written back before the store closes (the network can no longer
   * teach it anything). */
  g_clear_pointer (&node->peer_store, mero_node_peer_store_free);
  if (node->store != NULL)
    {
      ok = mero_store_flush (node->store, error);
      g_clear_pointer (&node->store, mero_store_close);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "store-closed", "MESSAGE",
                        "store flushed and closed");
    }
  g_clear_pointer (&node->lock, mero_home_lock_release);
  return ok;
}

void
mero_node_free (MeroNode *node)
{
  g_autoptr (GError) error = NULL;

  if (node == NULL)
    return;
  if (!mero_node_stop (node, &error))
    g_warning ("stopping the node: %s", error->message);
  if (node->start_task != NULL)
    fail_start (node, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                           _("The node stopped while starting")));
  /* Plugins go last: the store's vtable lives in a plugin module. */
  g_clear_pointer (&node->registry, mero_plugin_registry_free);
  mero_node_events_free (node->events);
  mero_identity_free (node->identity);
  mero_config_free (node->config);
  g_object_unref (node->alive);
  g_free (node->home);
  g_free (node);
}

const char *
mero_node_get_home (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->home;
}

const MeroIdentity *
mero_node_get_identity (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->identity;
}

const MeroConfig *
mero_node_get_config (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->config;
}

MeroPluginRegistry *
mero_node_get_registry (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->registry;
}

MeroNodeEvents *
mero_node_get_events (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->events;
}

const char *const *
mero_node_get_http_urls (MeroNode *node)
{
  static const char *const none[] = { NULL };

  g_return_val_if_fail (node != NULL, NULL);
  return node->server != NULL ? mero_server_get_urls (node->server) : none;
}

MeroBlobManager *
mero_node_get_blobs (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);

  return node->blobs;
}

MeroBlobProviders *
mero_node_get_blob_providers (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);

  return node->providers;
}

MeroStore *
mero_node_get_store (MeroNode *node)
{
  g_return_val_if_fail (node != NULL, NULL);
  return node->store;
}
