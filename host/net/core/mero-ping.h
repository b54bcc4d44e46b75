/* mero-ping.h: the client side of /ipfs/ping/1.0.0 (ping/ping.md;
 * reference §2.7), sans-IO.
 *
 * The client writes 32 random bytes (an input: this core has no
 * randomness) and expects the same 32 back within MERO_PING_TIMEOUT_US.
 * Each ping that times out, comes back wrong, or whose stream fails is a
 * failure; MERO_PING_MAX_FAILURES in a row mean the connection is dead
 * and should be closed.  A success resets the count.  The server side is
 * an echo and lives in the connection core. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

#define MERO_PING_PROTOCOL_ID "/ipfs/ping/1.0.0"

#define MERO_PING_ERROR (mero_ping_error_quark ())
GQuark mero_ping_error_quark (void);

typedef enum {
  MERO_PING_ERROR_BUSY,     /* a ping is already outstanding */
  MERO_PING_ERROR_MISMATCH, /* the echo differs from what we sent */
  MERO_PING_ERROR_TIMEOUT,  /* no echo within MERO_PING_TIMEOUT_US */
  MERO_PING_ERROR_UNEXPECTED, /* bytes arrived with no ping outstanding */
} MeroPingError;

typedef enum {
  MERO_PING_RESULT_PENDING, /* need more bytes */
  MERO_PING_RESULT_OK,      /* echo complete; *rtt_us set */
  MERO_PING_RESULT_FAILED,  /* error set; counted as a failure */
} MeroPingResult;

typedef struct _MeroPingClient MeroPingClient;

MeroPingClient *mero_ping_client_new (void);
void mero_ping_client_free (MeroPingClient *self);

/* Starts a ping with @payload (32 random bytes) at @now; the caller
 * writes the same 32 bytes to the stream.  FALSE if one is outstanding. */
gboolean mero_ping_client_start (MeroPingClient *self,
                                 const guint8    payload[MERO_PING_PAYLOAD_LEN],
                                 gint64          now,
                                 GError        **error);

/* Feeds echoed bytes.  Bytes beyond the echo are an error. */
MeroPingResult mero_ping_client_recv (MeroPingClient *self,
                                      const guint8   *data,
                                      gsize           len,
                                      gint64          now,
                                      gint64         *rtt_us,
                                      GError        **error);

/* The ping's stream failed (reset, `na`, closed early): one failure. */
void mero_ping_client_fail (MeroPingClient *self);

gboolean mero_ping_client_is_outstanding (const MeroPingClient *self);
/* When the outstanding ping times out, or G_MAXINT64. */
gint64 mero_ping_client_next_deadline (const MeroPingClient *self);
/* Counts a timeout if the deadline passed; returns FALSE then. */
gboolean mero_ping_client_handle_deadline (MeroPingClient *self, gint64 now, GError **error);

/* Failures in a row since the last success. */
guint mero_ping_client_get_failures (const MeroPingClient *self);
/* TRUE once MERO_PING_MAX_FAILURES pings in a row failed. */
gboolean mero_ping_client_is_dead (const MeroPingClient *self);
/* Round-trip time of the last successful ping, or -1. */
gint64 mero_ping_client_get_last_rtt (const MeroPingClient *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroPingClient, mero_ping_client_free)

G_END_DECLS
