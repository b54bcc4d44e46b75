/* mero-yamux.h: a yamux session (yamux/README.md, reference §2.5), sans-IO.
 *
 * The host feeds received bytes with mero_yamux_session_recv(), which
 * appends what happened to an array of MeroYamuxEvent; it sends whatever
 * mero_yamux_session_pull_send() yields, and calls
 * mero_yamux_session_handle_deadline() when mero_yamux_session_next_deadline()
 * has passed.  Time is always an argument (monotonic microseconds).
 *
 * Choices, where the spec leaves room:
 *  - Inbound streams are accepted at once: the SYN is answered by a
 *    Window Update carrying ACK, so no accept backlog builds up.  Beyond
 *    the stream limit, or after we sent GoAway, a SYN is answered by RST.
 *  - The receive window stays at 256 KiB (no auto-tuning); credit is
 *    returned in batches of MERO_YAMUX_CREDIT_BATCH (32 KiB) read by the
 *    application.  Data
 *    beyond the granted window is a protocol error: we send GoAway
 *    (protocol error) and the session fails.
 *  - Any protocol error fails the whole session (as js does): recv returns
 *    FALSE with a reason, a GoAway is queued for pull_send, and every
 *    later call reports the same failure.
 *  - A stream is forgotten once both directions are closed and its data
 *    read, or on RST from either side. */
#pragma once

#include <glib.h>

#include "net/core/mero-net-limits.h"

G_BEGIN_DECLS

#define MERO_YAMUX_PROTOCOL_ID "/yamux/1.0.0"

#define MERO_YAMUX_ERROR (mero_yamux_error_quark ())
GQuark mero_yamux_error_quark (void);

typedef enum {
  MERO_YAMUX_ERROR_PROTOCOL,        /* malformed or illegal frame from the peer */
  MERO_YAMUX_ERROR_FLOW_CONTROL,    /* peer sent beyond the window we granted */
  MERO_YAMUX_ERROR_NOT_READING,     /* control backlog full: host stopped pulling */
  MERO_YAMUX_ERROR_PING_TIMEOUT,    /* our ping went unanswered */
  MERO_YAMUX_ERROR_SESSION_CLOSED,  /* failed earlier, or GoAway forbids new streams */
  MERO_YAMUX_ERROR_STREAM_LIMIT,    /* too many streams open or unacknowledged */
  MERO_YAMUX_ERROR_INVALID_STREAM,  /* no such stream, or its write side is closed */
} MeroYamuxError;

typedef enum {
  MERO_YAMUX_ROLE_CLIENT, /* the dialer: odd stream ids */
  MERO_YAMUX_ROLE_SERVER, /* the listener: even stream ids */
} MeroYamuxRole;

/* GoAway codes. */
typedef enum {
  MERO_YAMUX_GOAWAY_NORMAL = 0,
  MERO_YAMUX_GOAWAY_PROTOCOL_ERROR = 1,
  MERO_YAMUX_GOAWAY_INTERNAL_ERROR = 2,
} MeroYamuxGoAway;

typedef enum {
  MERO_YAMUX_EVENT_STREAM_OPENED, /* the peer opened stream_id */
  MERO_YAMUX_EVENT_STREAM_ACKED,  /* the peer accepted our stream_id */
  MERO_YAMUX_EVENT_STREAM_DATA,   /* stream_id has bytes to read */
  MERO_YAMUX_EVENT_STREAM_CLOSED, /* the peer half-closed stream_id (FIN): EOF after the data */
  MERO_YAMUX_EVENT_STREAM_RESET,  /* the peer reset stream_id; it is gone */
  MERO_YAMUX_EVENT_PING,          /* our ping was answered; rtt_us is set */
  MERO_YAMUX_EVENT_GOAWAY,        /* the peer sent GoAway; code is set */
} MeroYamuxEventType;

typedef struct
{
  MeroYamuxEventType type;
  guint32 stream_id;
  guint32 code;
  gint64 rtt_us;
} MeroYamuxEvent;

/* Inbound streams the session refused (answered SYN with RST), by why. */
typedef struct
{
  guint64 streams_refused_limit;      /* MERO_YAMUX_DEFAULT_MAX_STREAMS (or the set max) open */
  guint64 streams_refused_going_away; /* after we sent GoAway */
} MeroYamuxStats;

typedef struct _MeroYamuxSession MeroYamuxSession;

MeroYamuxSession *mero_yamux_session_new (MeroYamuxRole role);
void mero_yamux_session_free (MeroYamuxSession *self);

/* Caps streams per direction (default MERO_YAMUX_DEFAULT_MAX_STREAMS). */
void mero_yamux_session_set_max_streams (MeroYamuxSession *self, guint max_streams);

/* Sends a keepalive ping every @interval_us (0, the default, disables). */
void mero_yamux_session_set_keepalive (MeroYamuxSession *self, gint64 interval_us, gint64 now);

/* Processes @data (any split of the byte stream).  Appends events to
 * @events (a GArray of MeroYamuxEvent).  Returns FALSE once the session
 * has failed; pull_send then still yields our GoAway. */
gboolean mero_yamux_session_recv (MeroYamuxSession *self,
                                  const guint8     *data,
                                  gsize             len,
                                  gint64            now,
                                  GArray           *events,
                                  GError          **error);

/* Appends at most @max bytes of outgoing frames to @out (@max of at least
 * MERO_YAMUX_HEADER_SIZE + 1 lets data through).  Returns how many. */
gsize mero_yamux_session_pull_send (MeroYamuxSession *self, GByteArray *out, gsize max);

/* TRUE if pull_send would yield something now. */
gboolean mero_yamux_session_wants_send (const MeroYamuxSession *self);

/* Opens an outbound stream; returns its id, or 0 with @error. */
guint32 mero_yamux_session_open_stream (MeroYamuxSession *self, GError **error);

/* Queues up to MERO_YAMUX_MAX_STREAM_SEND_QUEUE bytes on the stream and
 * returns how many were taken (possibly fewer than @len: retry after
 * pulling), or -1 with @error if the stream cannot be written. */
gssize mero_yamux_stream_write (MeroYamuxSession *self,
                                guint32           stream_id,
                                const guint8     *data,
                                gsize             len,
                                GError          **error);

/* Copies up to @len received bytes into @buf and returns how many
 * (0: nothing buffered, or no such stream).  Reading returns window
 * credit to the peer. */
gsize mero_yamux_stream_read (MeroYamuxSession *self,
                              guint32           stream_id,
                              guint8           *buf,
                              gsize             len);

/* Bytes buffered for reading on the stream. */
gsize mero_yamux_stream_get_readable (const MeroYamuxSession *self, guint32 stream_id);

/* Half-closes our side: FIN follows the queued data. */
gboolean mero_yamux_stream_close (MeroYamuxSession *self, guint32 stream_id, GError **error);

/* Resets the stream (RST) and forgets it; unsent data is dropped. */
void mero_yamux_stream_reset (MeroYamuxSession *self, guint32 stream_id);

/* Number of streams the session currently tracks. */
guint mero_yamux_session_get_n_streams (const MeroYamuxSession *self);
/* (transfer none) what the session refused so far. */
const MeroYamuxStats *mero_yamux_session_get_stats (const MeroYamuxSession *self);

/* Sends a ping (at most one outstanding); its ACK produces a PING event
 * with the round-trip time.  FALSE with @error if the session failed. */
gboolean mero_yamux_session_ping (MeroYamuxSession *self, gint64 now, GError **error);

/* Sends GoAway with @code: no new streams either way afterwards. */
void mero_yamux_session_go_away (MeroYamuxSession *self, MeroYamuxGoAway code);

/* When handle_deadline must next run, or G_MAXINT64 if never. */
gint64 mero_yamux_session_next_deadline (const MeroYamuxSession *self);

/* Fails the session if a ping timed out; sends a keepalive ping if due. */
gboolean mero_yamux_session_handle_deadline (MeroYamuxSession *self, gint64 now, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroYamuxSession, mero_yamux_session_free)

G_END_DECLS
