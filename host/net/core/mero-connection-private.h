/* mero-connection-private.h: state shared by mero-connection.c (the
 * layers: security, muxer, bytes in and out) and
 * mero-connection-streams.c (what runs on each yamux stream). */
#pragma once

#include "net/core/mero-connection.h"
#include "net/core/mero-lp-frame.h"
#include "net/core/mero-multistream.h"
#include "net/core/mero-ping.h"
#include "net/core/mero-yamux.h"

G_BEGIN_DECLS

typedef enum {
  PHASE_SECURITY,  /* multistream-select for /noise or /tls/1.0.0 on the raw socket */
  PHASE_HANDSHAKE, /* Noise or TLS handshake */
  PHASE_MUXER,     /* multistream-select for /yamux/1.0.0, encrypted */
  PHASE_MUXED,     /* yamux */
  PHASE_DONE,      /* failed or closed: nothing more is read */
} Phase;

typedef enum {
  KIND_NEGOTIATING,
  KIND_APP,
  KIND_IDENTIFY_ASK,   /* we asked: read one message */
  KIND_IDENTIFY_SERVE, /* they asked: we wrote one message */
  KIND_IDENTIFY_PUSH,  /* they push: read one message */
  KIND_IDENTIFY_PUSH_SEND, /* we push: write one message */
  KIND_PING_SERVE,     /* echo */
  KIND_PING_CLIENT,    /* our ping stream, one ping each */
  KIND_DRAINING,       /* done on our side; waits for the peer's FIN */
} StreamKind;

typedef struct
{
  guint32 id;
  gboolean inbound;
  StreamKind kind;
  char *protocol;          /* proposed (outbound) or agreed */
  MeroMultistream *ms;     /* while negotiating */
  MeroLpDecoder *lp;       /* identify and push */
  GByteArray *pending_in;  /* app: bytes that came with the negotiation */
  GByteArray *pending_out; /* bytes the yamux send queue did not take yet */
  gboolean local_closed;   /* we sent FIN (or will, after pending_out) */
  gboolean close_after_pending;
  gboolean remote_closed;
  gboolean push_out;       /* ours, opened to push identify */
} ConnStream;

struct _MeroConnection
{
  MeroConnectionRole role;
  MeroConnectionState state;
  Phase phase;
  gint64 created;
  MeroNoiseConfig noise_config;
  MeroMultistream *ms;     /* security, then muxer negotiation */
  MeroNoise *noise;        /* one of noise and tls, once agreed */
  MeroTls *tls;
  MeroTlsCredentials *tls_credentials;
  MeroConnectionSecurity security;
  gint64 now_unix;
  MeroYamuxSession *yamux;
  GByteArray *raw_tx;      /* bytes for the socket */
  GByteArray *plain;       /* scratch: decrypted bytes */
  GByteArray *plain_spare; /* the other plain buffer, kept to reuse its memory */
  GByteArray *yamux_out;   /* scratch: one Noise frame's worth of yamux frames */
  GArray *yamux_events;    /* scratch */
  MeroIdentifyInfo *local_identify;
  MeroMultiaddr *remote_addr;
  MeroIdentifyInfo *remote_identify;
  GStrv inbound_protocols; /* built-ins + app protocols */
  GStrv app_protocols;
  GStrv app_prefixes;
  GHashTable *streams;     /* id → ConnStream */
  guint n_ping_serve;
  guint32 identify_stream; /* 0 once answered or given up */
  gint64 identify_deadline;
  guint32 ping_stream;     /* 0 if none */
  gboolean ping_agreed;
  guint8 ping_payload[MERO_PING_PAYLOAD_LEN];
  gboolean ping_payload_pending; /* write it once the stream is agreed */
  MeroPingClient *ping;
  MeroConnectionStats stats;
  char *close_reason;
  gboolean inline_muxer;   /* offered in our payload */
  gboolean muxer_inlined;  /* agreed that way */
};

void conn_push_event (GArray *events, MeroConnectionEventType type, guint32 stream_id,
                      gboolean inbound, const char *protocol, const char *message);
void conn_fail (MeroConnection *self, GArray *events, const char *format, ...) G_GNUC_PRINTF (3, 4);

/* mero-connection-streams.c */
void conn_streams_on_ready (MeroConnection *self, gint64 now, GArray *events);
void conn_streams_handle_yamux_event (MeroConnection *self, const MeroYamuxEvent *ev, gint64 now,
                                      GArray *events);
/* Opens a stream that pushes our identify (/ipfs/id/push/1.0.0). */
void conn_streams_push_identify (MeroConnection *self);
/* Retries writes the yamux send queues did not take. */
void conn_streams_flush (MeroConnection *self);
ConnStream *conn_stream_new (guint32 id, gboolean inbound, StreamKind kind, const char *protocol);
void conn_stream_free (gpointer data);
void conn_stream_input (MeroConnection *self, ConnStream *cs, gint64 now, GArray *events);
void conn_streams_forget (MeroConnection *self, ConnStream *cs);

G_END_DECLS
