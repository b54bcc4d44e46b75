/* mero-acceptor.h: accepting TCP connections on a listening socket we own,
 * for the HTTP server and the libp2p network alike.
 *
 * Why not GSocketService or libsoup's own listener: on a failed accept()
 * GSocketService logs and retries at once, so EMFILE turns into a busy loop
 * that floods the log; libsoup 3.2's listener removes its watch and never
 * accepts again.  Both listen with GLib's default backlog of 10, so a burst
 * of connections has SYNs dropped and legitimate clients wait for TCP's
 * 1 s, 3 s, 7 s retransmissions.
 *
 * An acceptor:
 *  - listens with a full backlog (MERO_ACCEPTOR_BACKLOG, clamped by the
 *    kernel to net.core.somaxconn);
 *  - accepts at most MERO_ACCEPTOR_MAX_PER_WAKEUP connections per wakeup,
 *    so a burst is spread over main-loop iterations and the connections
 *    already accepted get their turn (handshakes, requests) in between;
 *  - when accept() fails for lack of resources (EMFILE, ENFILE, ENOBUFS,
 *    ENOMEM) stops watching the socket for a pause that starts at
 *    MERO_ACCEPTOR_PAUSE_MIN_MS and doubles to MERO_ACCEPTOR_PAUSE_MAX_MS
 *    while failures go on (reset by a successful accept).  Waiting
 *    connections stay in the kernel's backlog meanwhile;
 *  - counts every failed accept() in the counter it was given, labelled
 *    reason="emfile"|"enfile"|"nomem"|"aborted"|"other", and logs the first
 *    failure at once and later ones at most once per
 *    MERO_ACCEPTOR_LOG_INTERVAL_US, with how many there were.
 *
 * It runs on the GMainContext it is created with; every function must be
 * called from that context's thread. */
#pragma once

#include <gio/gio.h>

#include "metrics/mero-metrics.h"

G_BEGIN_DECLS

/* listen(2) backlog; Linux clamps it to net.core.somaxconn (4096). */
#define MERO_ACCEPTOR_BACKLOG 4096
/* Connections accepted per wakeup of the listening socket. */
#define MERO_ACCEPTOR_MAX_PER_WAKEUP 16
/* Pause after an accept() that failed for lack of descriptors or memory. */
#define MERO_ACCEPTOR_PAUSE_MIN_MS 50
#define MERO_ACCEPTOR_PAUSE_MAX_MS 1000
/* Failed accepts are logged at most once per interval (with a count). */
#define MERO_ACCEPTOR_LOG_INTERVAL_US (10 * G_USEC_PER_SEC)

typedef struct _MeroAcceptor MeroAcceptor;

/* @connection: (transfer none) a new non-blocking connection; ref it to
 * keep it. */
typedef void (*MeroAcceptorFunc) (GSocketConnection *connection, gpointer user_data);

/* A TCP socket bound to @address (IPv6 sockets take IPv6 only, so :: and
 * 0.0.0.0 can share a port) and listening with MERO_ACCEPTOR_BACKLOG. */
GSocket *mero_acceptor_listen (GSocketAddress *address, GError **error);

/* Starts accepting on @socket (a listening socket: ref'd) in @context
 * (NULL: the global default).  @name says which listener it is in logs
 * ("HTTP", "libp2p"); @errors_metric is the counter of failed accepts in
 * @metrics (NULL: the default registry), with @errors_help as its help. */
MeroAcceptor *mero_acceptor_new (GSocket *socket, GMainContext *context, const char *name,
                                 MeroMetrics *metrics, const char *errors_metric,
                                 const char *errors_help, MeroAcceptorFunc func,
                                 gpointer user_data);
/* Stops accepting and closes the listening socket; NULL-safe. */
void mero_acceptor_free (MeroAcceptor *acceptor);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroAcceptor, mero_acceptor_free)

G_END_DECLS
