/* mero-peer-store.h: what this node remembers of other peers' addresses
 * across restarts (DESIGN §6), as a sans-IO core.
 *
 * A bounded table PeerId → addresses, each address with the last time it
 * was seen (ms, the caller's clock), learned from identify listenAddrs,
 * outbound connections, invitations and bootstrap entries.  Without it a
 * restarted node on a new port (or whose peers moved) finds nobody again
 * unless mDNS or network.bootstrap names them.
 *
 * Bounds: at most @max_peers peers (the least recently seen goes first,
 * counted in _get_evictions; peers marked kept, the members of our
 * groups, go only when nothing else is left, so strangers connecting with
 * fresh keys cannot push our members out), MERO_PEER_STORE_MAX_ADDRESSES per peer (the
 * least recently seen address goes), MERO_PEER_STORE_MAX_ADDRESS_LEN bytes
 * per address.  Only dialable TCP multiaddrs are kept: an unspecified
 * host (0.0.0.0, ::), a multicast or IPv6 link-local host, or port 0 is
 * refused, as is anything a dial could not use.  Inbound connections'
 * remote addresses are not fed here at all (their port is ephemeral).
 *
 * Changes are tracked, not written: the host takes the changed and the
 * evicted peers (mero_peer_store_take_changes) and writes them in one
 * batch when it chooses, so a burst of identify messages costs one write.
 * A peer's record (mero_peer_store_encode_peer) is:
 *   version u8 (1) || n u8 || n × (last_seen_ms i64 BE || len u8 || address)
 * and mero_peer_store_load_peer refuses anything else. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_PEER_STORE_DEFAULT_MAX_PEERS 1024u
#define MERO_PEER_STORE_MAX_ADDRESSES 8u
#define MERO_PEER_STORE_MAX_ADDRESS_LEN 128u
#define MERO_PEER_STORE_RECORD_VERSION 1u

typedef struct _MeroPeerStore MeroPeerStore;

/* @max_peers: 0 = MERO_PEER_STORE_DEFAULT_MAX_PEERS. */
MeroPeerStore *mero_peer_store_new (guint max_peers);
void mero_peer_store_free (MeroPeerStore *self); /* NULL-safe */

/* TRUE if @address (a tcp multiaddr, with or without a trailing
 * /p2p/<id>) is one a dial could use; used to filter before learning. */
gboolean mero_peer_store_address_is_dialable (const char *address);

/* Remembers @address for @peer_id (canonical PeerId text) as seen at
 * @now_ms.  A trailing /p2p/ must name @peer_id; it is not stored.
 * FALSE (nothing changed) if the address is refused. */
gboolean mero_peer_store_learn (MeroPeerStore *self, const char *peer_id, const char *address,
                                gint64 now_ms);
/* Reads a persisted record back (at start); FALSE if it does not decode
 * (the caller drops it).  Refused addresses in it are skipped. */
gboolean mero_peer_store_load_peer (MeroPeerStore *self, const char *peer_id,
                                    const guint8 *record, gsize len);
/* (transfer full) the record of @peer_id, NULL if unknown. */
GBytes *mero_peer_store_encode_peer (MeroPeerStore *self, const char *peer_id);

/* (transfer full) @peer_id's addresses, most recently seen first, each
 * ending in /p2p/<peer_id>; NULL-terminated, empty if unknown. */
GStrv mero_peer_store_lookup (MeroPeerStore *self, const char *peer_id);
/* Last time any address of @peer_id was seen, 0 if unknown. */
gint64 mero_peer_store_last_seen (MeroPeerStore *self, const char *peer_id);
guint mero_peer_store_count (MeroPeerStore *self);
/* Replaces the set of peers evicted last (NULL-terminated; NULL: none). */
void mero_peer_store_set_kept (MeroPeerStore *self, const char *const *peer_ids);
/* Peers evicted for room since creation. */
guint64 mero_peer_store_get_evictions (MeroPeerStore *self);

/* (transfer full) peer ids changed and peer ids evicted since the last
 * call (a peer evicted and learned again is in @changed only); each
 * NULL-terminated. */
void mero_peer_store_take_changes (MeroPeerStore *self, GStrv *changed, GStrv *evicted);
gboolean mero_peer_store_has_changes (MeroPeerStore *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPeerStore, mero_peer_store_free)

G_END_DECLS
