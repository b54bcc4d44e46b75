/* mero-identify.h: the libp2p identify message (identify/README.md;
 * reference §2.6), encoding, bounded decoding, peer check and push merge.
 *
 * Whoever opens /ipfs/id/1.0.0 asks; the other side writes one
 * `uvarint(len) || Identify` and closes.  On /ipfs/id/push/1.0.0 the
 * opener writes one unsolicited message whose absent fields mean
 * "unchanged".  Framing is mero-lp-frame with MERO_IDENTIFY_MAX_MESSAGE. */
#pragma once

#include <glib.h>

#include "net/core/mero-multiaddr.h"
#include "net/core/mero-net-limits.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_IDENTIFY_PROTOCOL_ID "/ipfs/id/1.0.0"
#define MERO_IDENTIFY_PUSH_PROTOCOL_ID "/ipfs/id/push/1.0.0"

#define MERO_IDENTIFY_ERROR (mero_identify_error_quark ())
GQuark mero_identify_error_quark (void);

typedef enum {
  MERO_IDENTIFY_ERROR_MALFORMED,     /* not an Identify protobuf, or a bad field */
  MERO_IDENTIFY_ERROR_TOO_LARGE,     /* beyond a MERO_IDENTIFY_MAX_* bound */
  MERO_IDENTIFY_ERROR_NO_PUBLIC_KEY, /* a reply must carry publicKey */
  MERO_IDENTIFY_ERROR_PEER_MISMATCH, /* publicKey is not the connection's peer */
} MeroIdentifyError;

typedef struct
{
  GBytes *public_key;       /* (nullable) PublicKey protobuf */
  GPtrArray *listen_addrs;  /* MeroMultiaddr*; empty if none were sent */
  GStrv protocols;          /* never NULL; empty if none were sent */
  MeroMultiaddr *observed_addr; /* (nullable) */
  char *protocol_version;   /* (nullable) */
  char *agent_version;      /* (nullable) */
  /* listenAddrs the sender listed that we cannot parse (e.g. transports
   * we do not speak); skipped rather than failing the message. */
  guint n_skipped_addrs;
} MeroIdentifyInfo;

MeroIdentifyInfo *mero_identify_info_new (void);
/* NULL-safe. */
void mero_identify_info_free (MeroIdentifyInfo *info);

/* (transfer full) the Identify protobuf (without length prefix).  At most
 * MERO_IDENTIFY_MAX_ADDRS addresses and MERO_IDENTIFY_MAX_PROTOCOLS
 * protocols are written. */
GBytes *mero_identify_info_encode (const MeroIdentifyInfo *info);

/* (transfer full) the decoded message, or NULL with @error.  Enforces
 * every MERO_IDENTIFY_MAX_* bound. */
MeroIdentifyInfo *mero_identify_info_decode (const guint8 *data, gsize len, GError **error);

/* A reply is only believed if its publicKey gives the connection's peer
 * (js does the same). */
gboolean mero_identify_info_verify_peer (const MeroIdentifyInfo *info,
                                         const MeroPeerId       *peer,
                                         GError                **error);

/* Applies an identify push to @dst: every field @push carries replaces
 * the one in @dst; absent ones (and empty lists) leave @dst unchanged. */
void mero_identify_info_merge_push (MeroIdentifyInfo *dst, const MeroIdentifyInfo *push);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroIdentifyInfo, mero_identify_info_free)

G_END_DECLS
