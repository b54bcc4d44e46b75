/* mero-mdns.h: libp2p mDNS peer discovery (libp2p specs discovery/mdns.md,
 * reference §10), sans-IO with integer time.
 *
 * Wire behaviour, as js-libp2p's @libp2p/mdns and rust-libp2p do it:
 *   - query: one question "_p2p._udp.local" PTR (class IN), id 0, sent
 *     at start and then every query interval;
 *   - response (QR|AA): the answer "_p2p._udp.local PTR
 *     <peer-name>._p2p._udp.local" and, in the additional section as the
 *     spec says, one TXT record "<peer-name>._p2p._udp.local" per address
 *     holding the single string "dnsaddr=<multiaddr>/p2p/<PeerId>"; TTL
 *     MERO_MDNS_TTL_S.  <peer-name> is a random label (the caller's
 *     randomness), not the PeerId;
 *   - receiving: TXT records are read from the answer *and* additional
 *     sections (js puts them in the answers).  A response that names our
 *     peer-name or carries our PeerId is ours, looped back, and ignored.
 *
 * Which of our addresses are usable on the interface a query came in on
 * is the host's knowledge (it knows the interfaces), so the host passes
 * them to mero_mdns_build_response; this core never advertises an
 * unspecified address (0.0.0.0, ::) whatever it is given.
 *
 * Everything a remote sender controls is bounded: the peer table
 * (config max_peers), addresses kept per peer, the TTL believed, the
 * discovery queue, and responses sent per interface per second.  Every
 * drop is counted in MeroMdnsStats. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_MDNS_SERVICE "_p2p._udp.local"
#define MERO_MDNS_PORT 5353
#define MERO_MDNS_IPV4_GROUP "224.0.0.251"
#define MERO_MDNS_IPV6_GROUP "ff02::fb"

/* js: 10 s. */
#define MERO_MDNS_DEFAULT_QUERY_INTERVAL_US (10 * G_USEC_PER_SEC)
/* TTL of our records (js and the spec: 120 s). */
#define MERO_MDNS_TTL_S 120u
/* A TTL above this is believed only this long: a stale peer costs a
 * table slot at most this long after it went quiet. */
#define MERO_MDNS_MAX_TTL_S 600u
#define MERO_MDNS_DEFAULT_MAX_PEERS 64u
/* Addresses remembered per peer; more in one response are dropped. */
#define MERO_MDNS_MAX_ADDRS_PER_PEER 16u
/* A TXT string is at most 255 bytes (RFC 6763 §6.1). */
#define MERO_MDNS_MAX_TXT 255u
/* Peer names are DNS labels: js uses 63 random characters. */
#define MERO_MDNS_MIN_PEER_NAME 8u
#define MERO_MDNS_MAX_PEER_NAME 63u
/* RFC 6762 §6: at most one multicast response per record per second;
 * we keep it per interface. */
#define MERO_MDNS_MIN_RESPONSE_INTERVAL_US G_USEC_PER_SEC
/* Interfaces whose last response time is remembered for that limit. */
#define MERO_MDNS_MAX_INTERFACES 32u
/* A known peer with unchanged addresses is reported again at most this
 * often, so the host can redial a peer it lost without being flooded by
 * every response. */
#define MERO_MDNS_REREPORT_INTERVAL_US (30 * G_USEC_PER_SEC)

#define MERO_MDNS_ERROR (mero_mdns_error_quark ())
GQuark mero_mdns_error_quark (void);

typedef enum {
  MERO_MDNS_ERROR_CONFIG, /* bad peer id or peer name */
} MeroMdnsError;

typedef struct
{
  const char *peer_id;        /* our PeerId, base58 text */
  const char *peer_name;      /* MERO_MDNS_MIN..MAX_PEER_NAME chars of [a-z0-9] */
  gint64 query_interval_us;   /* 0: MERO_MDNS_DEFAULT_QUERY_INTERVAL_US */
  guint max_peers;            /* 0: MERO_MDNS_DEFAULT_MAX_PEERS */
} MeroMdnsConfig;

/* Counters; each drop has its own. */
typedef struct
{
  guint64 queries_sent;
  guint64 queries_received;     /* asking for our service */
  guint64 responses_sent;
  guint64 responses_received;   /* with at least one peer for our service */
  guint64 packets_malformed;    /* undecodable: dropped */
  guint64 packets_ignored;      /* decodable but not about our service */
  guint64 own_responses;        /* ours, looped back */
  guint64 responses_rate_limited; /* a query we did not answer (too soon) */
  guint64 addrs_invalid;        /* dnsaddr we cannot parse or without /p2p/ */
  guint64 addrs_dropped;        /* beyond MERO_MDNS_MAX_ADDRS_PER_PEER */
  guint64 peers_dropped;        /* the table was full */
  guint64 peers_expired;
  guint64 peers_goodbye;        /* TTL 0 */
} MeroMdnsStats;

/* A peer found (or found again, or with new addresses). */
typedef struct
{
  char *peer_id;
  GStrv addrs;      /* multiaddrs with /p2p/<peer_id>, as announced */
  gint64 expires_at;
} MeroMdnsPeer;

void mero_mdns_peer_free (MeroMdnsPeer *peer);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMdnsPeer, mero_mdns_peer_free)

typedef struct _MeroMdns MeroMdns;

/* NULL with @error set if the peer id or name is unusable. */
MeroMdns *mero_mdns_new (const MeroMdnsConfig *config, GError **error);
void mero_mdns_free (MeroMdns *self);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMdns, mero_mdns_free)

/* When mero_mdns_handle_timeout wants to run next (the next query or
 * peer expiry).  A fresh core is due at once. */
gint64 mero_mdns_next_deadline (const MeroMdns *self);

/* Expires peers and, when a query is due, returns (transfer full) it, to
 * be multicast on every interface; NULL otherwise. */
GBytes *mero_mdns_handle_timeout (MeroMdns *self, gint64 now);

/* Feeds one received datagram.  FALSE with @error set when it does not
 * decode (counted).  *@wants_response: it asked for our service; the host
 * answers with mero_mdns_build_response for the interface it came on.
 * Peers found are queued for mero_mdns_pop_discovered.  @query_id: the
 * message id, for a legacy unicast answer (RFC 6762 §6.7). */
gboolean mero_mdns_receive (MeroMdns     *self,
                            const guint8 *data,
                            gsize         len,
                            gint64        now,
                            gboolean     *wants_response,
                            guint16      *query_id,
                            GError      **error);

/* (transfer full) our response, advertising @addrs (multiaddrs without
 * /p2p/, e.g. "/ip4/192.168.1.2/tcp/2428"); NULL when no address is
 * usable or a response went out on @iface less than
 * MERO_MDNS_MIN_RESPONSE_INTERVAL_US ago (counted).  @id: 0 for
 * multicast, the query's id for a legacy unicast answer. */
GBytes *mero_mdns_build_response (MeroMdns          *self,
                                  const char *const *addrs,
                                  guint              iface,
                                  guint16            id,
                                  gint64             now);

/* (transfer full) the next discovered peer, or NULL. */
MeroMdnsPeer *mero_mdns_pop_discovered (MeroMdns *self);

guint mero_mdns_get_n_peers (const MeroMdns *self);
const MeroMdnsStats *mero_mdns_get_stats (const MeroMdns *self);

G_END_DECLS
