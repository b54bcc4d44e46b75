/* mero-node-network.c: starting the network and handling its events. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-network.h"

#include <gio/gio.h>

#include "mero-build-config.h"
#include "metrics/mero-metrics.h"
#include "node/mero-node-bootstrap.h"
#include "node/mero-node-discovery.h"

/* What the node knows of a connected peer.  Bounded by the network's
 * connection limit: an entry exists only while a connection does. */
typedef struct {
  guint n_connections;
  char *address;       /* of its first connection */
  gboolean identified; /* protocols logged once per join */
} NodePeer;

struct _MeroNodeNetwork {
  const MeroIdentity *identity;
  char *peer_id;
  GStrv config_listen;           /* multiaddrs to bind */
  GStrv bootstrap_addrs;
  guint max_connections;
  gint64 dial_timeout_us;
  gboolean mdns;
  gint64 mdns_interval_us;
  guint security;                /* MeroNetSecurity */
  char *agent_version;           /* identify: "merod/VERSION (node.name)" */

  MeroNetwork *network;
  MeroNodeBootstrap *bootstrap;
  MeroNodeDiscovery *discovery;  /* dial policy for mDNS peers */
  MeroNodePeerStore *peer_store; /* borrowed, nullable */
  GStrv listen_addrs;            /* bound, with /p2p/ */
  GHashTable *peers;             /* peer id → NodePeer */
  MeroNodePeerFunc func;
  gpointer user_data;
  MeroNodeNetEventFunc hook;
  gpointer hook_data;
  gboolean stopped;
};

static void
node_peer_free (NodePeer *peer)
{
  g_free (peer->address);
  g_free (peer);
}

/* network.listen_multiaddrs when set, else each network.listen address on
 * network.port. */
static GStrv
listen_multiaddrs_from_config (const MeroConfig *config)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (config->network_listen_multiaddrs != NULL && config->network_listen_multiaddrs[0] != NULL)
    return g_strdupv (config->network_listen_multiaddrs);
  for (gsize i = 0; config->network_listen != NULL && config->network_listen[i] != NULL; i++)
    {
      g_autoptr (GInetAddress) address = g_inet_address_new_from_string (config->network_listen[i]);
      gboolean v6 = address != NULL
                    && g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6;

      g_autofree char *multiaddr = g_strdup_printf ("/%s/%s/tcp/%u", v6 ? "ip6" : "ip4",
                                                    config->network_listen[i],
                                                    config->network_port);

      g_strv_builder_add (builder, multiaddr);
    }
  return g_strv_builder_end (builder);
}

/* Longest node.name put into the identify agent version. */
#define AGENT_NAME_MAX 64

/* "merod/VERSION (NAME)": peers (and their /admin-api/peers) see which
 * node this is.  The name is the user's: printable ASCII only, bounded. */
static char *
agent_version_for (const char *node_name)
{
  g_autoptr (GString) name = g_string_new (NULL);

  for (const char *p = node_name != NULL ? node_name : "";
       *p != '\0' && name->len < AGENT_NAME_MAX; p++)
    g_string_append_c (name, g_ascii_isprint (*p) && *p != '(' && *p != ')' ? *p : '_');
  if (name->len == 0)
    return g_strdup ("merod/" MERO_VERSION);
  return g_strdup_printf ("merod/%s (%s)", MERO_VERSION, name->str);
}

MeroNodeNetwork *
mero_node_network_new (const MeroConfig *config, const MeroIdentity *identity)
{
  MeroNodeNetwork *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (identity != NULL, NULL);

  self = g_new0 (MeroNodeNetwork, 1);
  self->identity = identity;
  self->peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (identity));
  self->config_listen = listen_multiaddrs_from_config (config);
  self->bootstrap_addrs = g_strdupv (config->network_bootstrap);
  self->max_connections = config->network_max_connections;
  self->dial_timeout_us = (gint64) config->network_dial_timeout_secs * G_USEC_PER_SEC;
  self->mdns = config->network_mdns;
  self->mdns_interval_us = (gint64) config->network_mdns_interval_secs * G_USEC_PER_SEC;
  self->discovery = mero_node_discovery_new ();
  self->security = config->network_security;
  self->agent_version = agent_version_for (config->node_name);
  self->listen_addrs = g_new0 (char *, 1);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) node_peer_free);
  return self;
}

static char *
join_protocols (const char *const *protocols)
{
  if (protocols == NULL || protocols[0] == NULL)
    return g_strdup ("none");
  return g_strjoinv (" ", (char **) protocols);
}

static void
on_peer_connected (MeroNodeNetwork *self, const MeroNetEvent *event)
{
  NodePeer *peer = g_hash_table_lookup (self->peers, event->peer_id);

  if (peer != NULL)
    {
      peer->n_connections++;
      return;
    }
  peer = g_new0 (NodePeer, 1);
  peer->n_connections = 1;
  peer->address = g_strdup (event->address);
  /* Where we reached it is where it listens (inbound: an ephemeral port). */
  if (!event->inbound && self->peer_store != NULL && event->address != NULL)
    mero_node_peer_store_learn (self->peer_store, event->peer_id, event->address);
  g_hash_table_insert (self->peers, g_strdup (event->peer_id), peer);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-connected", "MERO_PEER",
                    event->peer_id, "MESSAGE", "peer %s joined at %s (%s)", event->peer_id,
                    event->address, event->inbound ? "inbound" : "outbound");
  if (self->bootstrap != NULL)
    mero_node_bootstrap_peer_connected (self->bootstrap, event->peer_id);
  mero_node_discovery_connected (self->discovery, event->peer_id);
  if (self->func != NULL)
    self->func (event->peer_id, TRUE, event->address, self->user_data);
}

static void
on_peer_identified (MeroNodeNetwork *self, const MeroNetEvent *event)
{
  NodePeer *peer = g_hash_table_lookup (self->peers, event->peer_id);
  g_autofree char *protocols = NULL;

  for (guint i = 0; self->peer_store != NULL && peer != NULL && event->addresses != NULL
                   && event->addresses[i] != NULL;
       i++)
    mero_node_peer_store_learn (self->peer_store, event->peer_id, event->addresses[i]);
  /* A peer kept dialled (a member) is kept dialled at its new addresses too. */
  if (peer != NULL && event->addresses != NULL && self->bootstrap != NULL
      && mero_node_bootstrap_tracks (self->bootstrap, event->peer_id))
    g_strfreev (mero_node_network_redial_peer (self, event->peer_id));
  /* Identify push repeats this on every change; one line per join is
   * what an operator needs, the rest is debug. */
  protocols = join_protocols ((const char *const *) event->protocols);
  if (peer == NULL || peer->identified)
    {
      g_debug ("peer %s re-identified: %s", event->peer_id, protocols);
      return;
    }
  peer->identified = TRUE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-identified",
                    "MERO_PEER", event->peer_id, "MESSAGE",
                    "peer %s at %s is %s, speaking %s", event->peer_id, peer->address,
                    event->message != NULL && event->message[0] != '\0' ? event->message
                                                                        : "an unnamed agent",
                    protocols);
}

static void
on_peer_disconnected (MeroNodeNetwork *self, const MeroNetEvent *event)
{
  NodePeer *peer = g_hash_table_lookup (self->peers, event->peer_id);
  const char *reason = event->message != NULL ? event->message : "closed";
  g_autofree char *peer_id = NULL;

  if (peer == NULL)
    return;
  if (--peer->n_connections > 0)
    return;
  peer_id = g_strdup (event->peer_id);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-disconnected",
                    "MERO_PEER", peer_id, "MESSAGE", "peer %s left (%s): %s", peer_id,
                    peer->address, reason);
  g_hash_table_remove (self->peers, peer_id);
  if (self->bootstrap != NULL)
    mero_node_bootstrap_peer_disconnected (self->bootstrap, peer_id);
  if (self->func != NULL)
    self->func (peer_id, FALSE, reason, self->user_data);
}

/* mDNS found a peer: dial it unless connected or backing off. */
static void
on_peer_discovered (MeroNodeNetwork *self, const MeroNetEvent *event)
{
  g_autoptr (GError) error = NULL;
  guint64 dropped = mero_node_discovery_get_dropped (self->discovery);
  const char *address = mero_node_discovery_next_dial (
      self->discovery, event->peer_id, (const char *const *) event->addresses,
      g_hash_table_contains (self->peers, event->peer_id), g_get_monotonic_time ());

  if (mero_node_discovery_get_dropped (self->discovery) > dropped)
    {
      mero_metrics_counter_add (mero_metrics_get_default (), "mero_mdns_dropped_total",
                                "reason=\"dial-table-full\"", 1, NULL);
      g_debug ("mDNS peer %s not dialed: %u peers already tracked", event->peer_id,
               MERO_NODE_DISCOVERY_MAX_PEERS);
    }
  if (address == NULL)
    return;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "mdns-dial", "MERO_PEER",
                    event->peer_id, "MESSAGE", "peer %s found by mDNS, dialing %s",
                    event->peer_id, address);
  if (!mero_network_dial (self->network, address, &error))
    g_debug ("mDNS address %s not dialable: %s", address, error->message);
}

static void
on_net_event (MeroNetEvent *event, gpointer user_data)
{
  g_autoptr (MeroNetEvent) owned = event;
  MeroNodeNetwork *self = user_data;

  if (self->stopped)
    return;
  switch (event->type)
    {
    case MERO_NET_EVENT_PEER_CONNECTED:
      on_peer_connected (self, event);
      break;
    case MERO_NET_EVENT_PEER_IDENTIFIED:
      on_peer_identified (self, event);
      break;
    case MERO_NET_EVENT_PEER_DISCONNECTED:
      on_peer_disconnected (self, event);
      break;
    case MERO_NET_EVENT_DIAL_FAILED:
      if (self->bootstrap != NULL && event->address != NULL)
        mero_node_bootstrap_dial_failed (self->bootstrap, event->address, event->message);
      break;
    case MERO_NET_EVENT_STREAM_OPENED:
      /* The hook (NodeClient) serves /calimero/stream/; without it any
       * stream here is refused. */
      if (self->hook == NULL && event->stream != NULL)
        mero_network_stream_reset (self->network, event->stream);
      break;
    case MERO_NET_EVENT_SUBSCRIBED:
    case MERO_NET_EVENT_UNSUBSCRIBED:
      /* Who is in which topic is what an operator debugs pubsub with. */
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT",
                        event->type == MERO_NET_EVENT_SUBSCRIBED ? "topic-joined" : "topic-left",
                        "MERO_PEER", event->peer_id, "MESSAGE", "peer %s %s topic %s",
                        event->peer_id,
                        event->type == MERO_NET_EVENT_SUBSCRIBED ? "joined" : "left",
                        event->topic);
      break;
    case MERO_NET_EVENT_MESSAGE:
      g_debug ("gossip message on %s from %s (author %s), %" G_GSIZE_FORMAT " bytes",
               event->topic, event->peer_id, event->author, g_bytes_get_size (event->data));
      break;
    case MERO_NET_EVENT_PEER_DISCOVERED:
      on_peer_discovered (self, event);
      break;
    case MERO_NET_EVENT_LISTENING_ON:
    case MERO_NET_EVENT_PING:
    case MERO_NET_EVENT_STREAM_FAILED:
    case MERO_NET_EVENT_STREAM_DATA:
    case MERO_NET_EVENT_STREAM_CLOSED:
    case MERO_NET_EVENT_STREAM_RESET:
    default:
      break;
    }
  if (self->hook != NULL && !self->stopped)
    self->hook (event, self->hook_data);
}

void
mero_node_network_set_event_hook (MeroNodeNetwork *self, MeroNodeNetEventFunc func,
                                  gpointer user_data)
{
  g_return_if_fail (self != NULL);
  self->hook = func;
  self->hook_data = user_data;
}

static gboolean
dial_bootstrap (const char *multiaddr, gpointer user_data, GError **error)
{
  MeroNodeNetwork *self = user_data;

  return mero_network_dial (self->network, multiaddr, error);
}

void
mero_node_network_set_peer_store (MeroNodeNetwork *self, MeroNodePeerStore *peer_store)
{
  g_return_if_fail (self != NULL);
  self->peer_store = peer_store;
}

GStrv
mero_node_network_redial_peer (MeroNodeNetwork *self, const char *peer_id)
{
  GStrv addresses;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (peer_id != NULL, NULL);

  if (self->peer_store == NULL || self->bootstrap == NULL || self->stopped)
    return g_new0 (char *, 1);
  addresses = mero_node_peer_store_lookup (self->peer_store, peer_id);
  for (guint i = 0; addresses[i] != NULL; i++)
    mero_node_bootstrap_add (self->bootstrap, addresses[i], MERO_NODE_BOOTSTRAP_MEMBER);
  return addresses;
}

gboolean
mero_node_network_start (MeroNodeNetwork *self, MeroNodePeerFunc func, gpointer user_data,
                         GError **error)
{
  MeroNetworkConfig config = { 0 };
  g_auto (GStrv) bound = NULL;
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *joined = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->network == NULL && !self->stopped, FALSE);

  config.listen_addrs = (const char *const *) self->config_listen;
  config.max_connections = self->max_connections;
  config.dial_timeout_us = self->dial_timeout_us;
  config.mdns = self->mdns;
  config.mdns_query_interval_us = self->mdns_interval_us;
  config.stream_prefixes = (const char *const[]) { "/calimero/stream/", "/calimero/blob/", NULL };
  config.security = (MeroNetSecurity) self->security;
  config.agent_version = self->agent_version;
  self->func = func;
  self->user_data = user_data;
  self->network = mero_network_new (&config, self->identity);
  if (!mero_network_start (self->network, g_main_context_get_thread_default (), on_net_event,
                           self, error))
    {
      g_clear_pointer (&self->network, mero_network_free);
      return FALSE;
    }
  bound = mero_network_get_listen_addrs (self->network);
  for (gsize i = 0; bound != NULL && bound[i] != NULL; i++)
    {
      g_autofree char *multiaddr = g_strdup_printf ("%s/p2p/%s", bound[i], self->peer_id);

      g_strv_builder_add (builder, multiaddr);
    }
  g_strfreev (self->listen_addrs);
  self->listen_addrs = g_strv_builder_end (builder);
  joined = g_strjoinv (" ", self->listen_addrs);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "network-listening",
                    "MERO_LISTEN", joined, "MESSAGE", "libp2p listening on %s", joined);

  self->bootstrap = mero_node_bootstrap_new ((const char *const *) self->bootstrap_addrs,
                                             self->dial_timeout_us, dial_bootstrap, self);
  mero_node_bootstrap_start (self->bootstrap);
  return TRUE;
}

const char *const *
mero_node_network_get_listen_addrs (MeroNodeNetwork *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return (const char *const *) self->listen_addrs;
}

MeroNetwork *
mero_node_network_get_network (MeroNodeNetwork *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->network;
}

void
mero_node_network_stop (MeroNodeNetwork *self)
{
  g_return_if_fail (self != NULL);

  if (self->stopped)
    return;
  self->stopped = TRUE;
  /* Timers first: nothing may dial a stopping network. */
  g_clear_pointer (&self->bootstrap, mero_node_bootstrap_free);
  if (self->network != NULL)
    {
      mero_network_stop (self->network);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "network-stopped",
                        "MESSAGE", "libp2p network stopped (%u peers disconnected)",
                        g_hash_table_size (self->peers));
    }
  g_hash_table_remove_all (self->peers);
}

void
mero_node_network_free (MeroNodeNetwork *self)
{
  if (self == NULL)
    return;
  mero_node_network_stop (self);
  g_clear_pointer (&self->network, mero_network_free);
  g_hash_table_unref (self->peers);
  mero_node_discovery_free (self->discovery);
  g_strfreev (self->listen_addrs);
  g_strfreev (self->config_listen);
  g_strfreev (self->bootstrap_addrs);
  g_free (self->peer_id);
  g_free (self->agent_version);
  g_free (self);
}
