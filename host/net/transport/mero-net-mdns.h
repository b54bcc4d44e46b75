/* mero-net-mdns.h: mDNS discovery on the network thread (GIO adapter of
 * host/net/core/mero-mdns.h).
 *
 * Binds UDP 5353 on 0.0.0.0 (and [::] when the host has IPv6) with
 * SO_REUSEADDR and SO_REUSEPORT, so it shares the port with avahi and
 * other libp2p peers; joins 224.0.0.251 (ff02::fb) on every interface
 * that is up and multicast-capable, and re-reads the interface list at
 * every query, so interfaces that appear later are joined then.
 *
 * A query is answered on the interface it came in on, with only the
 * listen addresses usable there: a wildcard listen address (0.0.0.0, ::)
 * becomes each address of that interface of its family (IPv6 link-local
 * addresses are left out: they need a zone a multiaddr cannot carry); a
 * specific one is advertised only on the interface that has it.
 * Queries from a port other than 5353 get a unicast answer with their id
 * (RFC 6762 §6.7).  Each peer found is emitted as
 * MERO_NET_EVENT_PEER_DISCOVERED; dialing is the node's decision.
 * Counters go to the metrics as mero_mdns_*_total. */
#pragma once

#include "net/transport/mero-network-private.h"

G_BEGIN_DECLS

typedef struct _NetMdns NetMdns;

/* Runs on @net's thread and context.  NULL with @error set when no
 * socket could be opened (the network runs on without mDNS). */
NetMdns *net_mdns_new (MeroNetwork *net, gint64 query_interval_us, GError **error);
void net_mdns_free (NetMdns *self);

G_END_DECLS
