/* mero-multiaddr.h: multiaddr text <-> binary (multiformats/multiaddr).
 *
 * Supported protocols: ip4, ip6, tcp, udp, dns, dns4, dns6, dnsaddr and
 * p2p (whose old name /ipfs/ is accepted on input and printed as /p2p/).
 * Anything else, and any malformed value, is refused: a multiaddr from a
 * peer (identify's listenAddrs, mDNS TXT records) is only ever used to
 * dial, and we cannot dial what we do not understand.
 *
 * The text form is strict: it starts with '/', has no empty components
 * (so no trailing '/'), ports are decimal without leading zeros, and the
 * p2p value is a base58btc multihash. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

#define MERO_MULTIADDR_ERROR (mero_multiaddr_error_quark ())
GQuark mero_multiaddr_error_quark (void);

typedef enum {
  MERO_MULTIADDR_ERROR_SYNTAX,           /* malformed text */
  MERO_MULTIADDR_ERROR_UNKNOWN_PROTOCOL, /* name or code we do not support */
  MERO_MULTIADDR_ERROR_BAD_VALUE,        /* value of the wrong length or form */
  MERO_MULTIADDR_ERROR_TRUNCATED,        /* binary ends inside a component */
  MERO_MULTIADDR_ERROR_TOO_LARGE,        /* beyond a MERO_MULTIADDR_MAX_* bound */
} MeroMultiaddrError;

/* Protocol codes (multiformats protocols.csv). */
typedef enum {
  MERO_MULTIADDR_PROTO_IP4 = 4,
  MERO_MULTIADDR_PROTO_TCP = 6,
  MERO_MULTIADDR_PROTO_IP6 = 41,
  MERO_MULTIADDR_PROTO_DNS = 53,
  MERO_MULTIADDR_PROTO_DNS4 = 54,
  MERO_MULTIADDR_PROTO_DNS6 = 55,
  MERO_MULTIADDR_PROTO_DNSADDR = 56,
  MERO_MULTIADDR_PROTO_UDP = 273,
  MERO_MULTIADDR_PROTO_P2P = 421,
} MeroMultiaddrProto;

typedef struct _MeroMultiaddr MeroMultiaddr;

/* Both constructors return (transfer full) a validated multiaddr, or NULL
 * with @error set. */
MeroMultiaddr *mero_multiaddr_new_from_string (const char *text, GError **error);
MeroMultiaddr *mero_multiaddr_new_from_bytes (const guint8 *data,
                                              gsize         len,
                                              GError      **error);
void mero_multiaddr_free (MeroMultiaddr *self);

/* (transfer full) canonical text form. */
char *mero_multiaddr_to_string (const MeroMultiaddr *self);
/* (transfer none) binary form. */
GBytes *mero_multiaddr_get_bytes (const MeroMultiaddr *self);

guint mero_multiaddr_get_n_components (const MeroMultiaddr *self);
/* Returns the code of component @index and points *value (transfer none,
 * into the binary form) at its value, without a length prefix. */
MeroMultiaddrProto mero_multiaddr_get_component (const MeroMultiaddr *self,
                                                 guint                index,
                                                 const guint8       **value,
                                                 gsize               *value_len);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMultiaddr, mero_multiaddr_free)

G_END_DECLS
