/* mero-connection.h: one libp2p connection, sans-IO.
 *
 * Glues the cores the way js-libp2p stacks them on TCP (reference §2.0):
 *
 *   multistream-select (/noise or /tls/1.0.0) → Noise XX or TLS 1.3 →
 *   multistream-select (/yamux/1.0.0, inside the encrypted channel) →
 *   yamux → per-stream multistream-select → identify, identify push,
 *   ping, or an application protocol.
 *
 * The dialer is the multistream initiator, the Noise initiator (TLS
 * client) and the yamux client; the listener the opposite.  The dialer
 * proposes the security protocols in the order `security` says (Noise
 * first by default, then TLS if we have TLS credentials); the listener
 * accepts whichever of them `security` allows.  With inline_muxer set (and
 * "/yamux/1.0.0" in our Noise payload's stream_muxers, or in our TLS ALPN
 * list), a peer that offers yamux the same way skips the muxer's
 * multistream-select round ("inlined"/early negotiation, as js does);
 * otherwise the muxer is negotiated with multistream-select inside the
 * encrypted channel.
 *
 * Built in: identify is asked as soon as yamux is up, answered for the
 * peer (with its observed address), and pushes are merged; ping is
 * echoed (at most MERO_PING_MAX_INBOUND_STREAMS streams) and sent on
 * request, each ping on a new stream as js does, and MERO_PING_MAX_FAILURES
 * failures in a row close the connection.  Application streams are handed to the host.
 *
 * The host feeds socket bytes to mero_connection_recv(), writes what
 * mero_connection_pull_send() yields, and calls handle_deadline() at
 * next_deadline().  Time and keys are inputs; nothing here does I/O. */
#pragma once

#include <glib.h>

#include "net/core/mero-identify.h"
#include "net/core/mero-multiaddr.h"
#include "net/core/mero-multistream.h"
#include "net/core/mero-net-limits.h"
#include "net/core/mero-noise.h"
#include "net/core/mero-tls.h"

G_BEGIN_DECLS

#define MERO_CONNECTION_ERROR (mero_connection_error_quark ())
GQuark mero_connection_error_quark (void);

typedef enum {
  MERO_CONNECTION_ERROR_NEGOTIATION, /* security or muxer negotiation failed */
  MERO_CONNECTION_ERROR_SECURITY,    /* Noise or TLS failed (message says why) */
  MERO_CONNECTION_ERROR_MUXER,       /* yamux failed (message says why) */
  MERO_CONNECTION_ERROR_TIMEOUT,     /* handshake took too long */
  MERO_CONNECTION_ERROR_PING,        /* too many failed pings */
  MERO_CONNECTION_ERROR_CLOSED,      /* closed or failed earlier */
  MERO_CONNECTION_ERROR_NOT_READY,   /* streams need a ready connection */
  MERO_CONNECTION_ERROR_INVALID_STREAM, /* not an application stream */
} MeroConnectionError;

typedef enum {
  MERO_CONNECTION_ROLE_DIALER,
  MERO_CONNECTION_ROLE_LISTENER,
} MeroConnectionRole;

typedef enum {
  MERO_CONNECTION_STATE_HANDSHAKING, /* before yamux is up */
  MERO_CONNECTION_STATE_READY,
  MERO_CONNECTION_STATE_CLOSED,      /* closed by us, by GoAway, or failed */
} MeroConnectionState;

/* Which security protocols a connection offers (dialer, in this order)
 * or accepts (listener). */
typedef enum {
  MERO_CONNECTION_SECURITY_NOISE_FIRST, /* /noise, then /tls/1.0.0 */
  MERO_CONNECTION_SECURITY_TLS_FIRST,   /* /tls/1.0.0, then /noise */
  MERO_CONNECTION_SECURITY_NOISE_ONLY,
  MERO_CONNECTION_SECURITY_TLS_ONLY,
} MeroConnectionSecurity;

typedef struct
{
  /* Keys, our signed payload and (dialer) the expected peer.  Copied.
   * expected_peer applies to TLS as well. */
  MeroNoiseConfig noise;
  /* What we answer identify with: publicKey, listenAddrs, protocols,
   * versions (observedAddr is filled in per connection).  Copied. */
  const MeroIdentifyInfo *local_identify;
  /* (nullable) the peer's address as we see it, for observedAddr. */
  const MeroMultiaddr *remote_addr;
  /* (nullable) application protocol ids and prefixes we accept. */
  const char *const *app_protocols;
  const char *const *app_prefixes;
  /* Our payload offers stream_muxers ["/yamux/1.0.0"]: use the inlined
   * muxer negotiation when the peer offers it too. */
  gboolean inline_muxer;
  /* (nullable) our TLS certificate (ref'd): without it TLS is neither
   * offered nor accepted, whatever `security` says. */
  MeroTlsCredentials *tls_credentials;
  MeroConnectionSecurity security;
  /* Wall-clock time, Unix seconds: TLS certificate validity. */
  gint64 now_unix;
} MeroConnectionConfig;

typedef enum {
  MERO_CONNECTION_EVENT_SECURED,        /* Noise or TLS done: get_remote_peer() is set */
  MERO_CONNECTION_EVENT_READY,          /* yamux up: streams may be opened */
  MERO_CONNECTION_EVENT_IDENTIFIED,     /* identify reply or push: get_remote_identify() */
  MERO_CONNECTION_EVENT_PING,           /* our ping came back: rtt_us */
  MERO_CONNECTION_EVENT_PING_FAILED,    /* our ping failed: message */
  MERO_CONNECTION_EVENT_STREAM_OPENED,  /* app stream agreed: stream_id, protocol, inbound */
  MERO_CONNECTION_EVENT_STREAM_REFUSED, /* our app stream was refused: stream_id, protocol */
  MERO_CONNECTION_EVENT_STREAM_DATA,    /* app stream has bytes to read */
  MERO_CONNECTION_EVENT_STREAM_CLOSED,  /* peer half-closed an app stream (EOF after data) */
  MERO_CONNECTION_EVENT_STREAM_RESET,   /* app stream reset; it is gone */
  MERO_CONNECTION_EVENT_CLOSED,         /* the connection ended: message */
} MeroConnectionEventType;

typedef struct
{
  MeroConnectionEventType type;
  guint32 stream_id;
  gboolean inbound;
  gint64 rtt_us;
  char *protocol; /* owned by the array */
  char *message;  /* owned by the array */
} MeroConnectionEvent;

/* Counters of what the connection refused or dropped, for metrics.  They
 * only grow, so a host may fold the difference to what it saw last into
 * its metrics while the connection lives. */
typedef struct
{
  guint64 streams_refused;      /* over a per-protocol limit (ping) */
  guint64 streams_failed;       /* negotiation failed or malformed data */
  guint64 identify_failures;    /* bad, mismatched or late identify replies */
  guint64 pings_failed;
  guint64 security_failures;    /* Noise or TLS handshake or record failed */
  /* Multistream-select for the security protocol failed (for a listener:
   * what came before any handshake was not a libp2p dialer's), indexed by
   * MeroMultistreamError. */
  guint64 security_negotiation_failures[MERO_MULTISTREAM_ERROR_FAILED + 1];
  guint64 handshake_timeouts;   /* not READY within MERO_CONNECTION_HANDSHAKE_TIMEOUT_US */
  /* Inbound yamux streams refused (MeroYamuxStats, copied by get_stats). */
  guint64 yamux_refused_limit;
  guint64 yamux_refused_going_away;
} MeroConnectionStats;

typedef struct _MeroConnection MeroConnection;

/* (transfer full) a GArray of MeroConnectionEvent that frees the strings. */
GArray *mero_connection_events_new (void);

MeroConnection *mero_connection_new (MeroConnectionRole          role,
                                     const MeroConnectionConfig *config,
                                     gint64                      now);
void mero_connection_free (MeroConnection *self);

/* Processes socket bytes.  Returns FALSE once the connection has failed
 * (a CLOSED event says why); pull_send may still yield a GoAway. */
gboolean mero_connection_recv (MeroConnection *self,
                               const guint8   *data,
                               gsize           len,
                               gint64          now,
                               GArray         *events,
                               GError        **error);

/* Appends at most @max bytes for the socket to @out; returns how many. */
gsize mero_connection_pull_send (MeroConnection *self, GByteArray *out, gsize max);
gboolean mero_connection_wants_send (MeroConnection *self);

gint64 mero_connection_next_deadline (const MeroConnection *self);
/* Timeouts (handshake, yamux ping, our ping, identify). */
void mero_connection_handle_deadline (MeroConnection *self, gint64 now, GArray *events);

/* Opens an application stream; STREAM_OPENED or STREAM_REFUSED follows,
 * and only after STREAM_OPENED may it be written (we wait for the
 * peer's answer, as js does).  Returns the stream id, or 0 with @error. */
guint32 mero_connection_open_stream (MeroConnection *self, const char *protocol, GError **error);
/* App stream I/O, as the yamux calls of the same name. */
gssize mero_connection_stream_write (MeroConnection *self, guint32 stream_id,
                                     const guint8 *data, gsize len, GError **error);
gsize mero_connection_stream_read (MeroConnection *self, guint32 stream_id, guint8 *buf, gsize len);
gboolean mero_connection_stream_close (MeroConnection *self, guint32 stream_id, GError **error);
void mero_connection_stream_reset (MeroConnection *self, guint32 stream_id);

/* Sends a ping with @payload (32 random bytes) on a new ping stream,
 * closed once answered.  A PING or PING_FAILED event follows. */
gboolean mero_connection_ping (MeroConnection *self, const guint8 payload[MERO_PING_PAYLOAD_LEN],
                               gint64 now, GError **error);

/* Sends GoAway: no new streams; the host closes the socket once
 * pull_send has nothing left. */
void mero_connection_close (MeroConnection *self);

/* Replaces what inbound streams may negotiate (application ids and
 * prefixes, as in the config; at most MERO_CONNECTION_MAX_APP_PROTOCOLS
 * each) and what we answer identify with (copied).  Streams still
 * negotiating keep the old lists.  With @push and a ready connection the
 * peer is told at once: a /ipfs/id/push/1.0.0 stream carries our new
 * identify (a peer that refuses push counts as an identify failure). */
gboolean mero_connection_set_local_protocols (MeroConnection *self,
                                              const char *const *app_protocols,
                                              const char *const *app_prefixes,
                                              const MeroIdentifyInfo *local_identify,
                                              gboolean push);

MeroConnectionState mero_connection_get_state (const MeroConnection *self);
MeroConnectionRole mero_connection_get_role (const MeroConnection *self);
/* (transfer none) (nullable) */
const MeroPeerId *mero_connection_get_remote_peer (const MeroConnection *self);
/* (transfer none) (nullable) what the peer told us in identify. */
const MeroIdentifyInfo *mero_connection_get_remote_identify (const MeroConnection *self);
/* (transfer none) (nullable) why the connection closed. */
const char *mero_connection_get_close_reason (const MeroConnection *self);
const MeroConnectionStats *mero_connection_get_stats (const MeroConnection *self);
/* Streams the connection still keeps a record of (built-in and
 * application ones, open or not yet drained). */
guint mero_connection_get_n_streams (const MeroConnection *self);
/* (transfer none) (nullable) the agreed security protocol id
 * (MERO_NOISE_PROTOCOL_ID or MERO_TLS_PROTOCOL_ID). */
const char *mero_connection_get_security (const MeroConnection *self);
/* TRUE once READY if the muxer was agreed inside the Noise handshake or
 * by TLS ALPN. */
gboolean mero_connection_get_muxer_inlined (const MeroConnection *self);
/* Last RTT of our ping, or -1. */
gint64 mero_connection_get_ping_rtt (const MeroConnection *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroConnection, mero_connection_free)

G_END_DECLS
