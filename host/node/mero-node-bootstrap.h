/* mero-node-bootstrap.h: keeps the configured bootstrap peers connected.
 *
 * Every entry of network.bootstrap (a multiaddr ending in /p2p/<PeerId>)
 * is dialled at start.  An attempt that fails, or is not answered within
 * the attempt timeout, is retried after a back-off that starts at
 * MERO_BOOTSTRAP_BACKOFF_INITIAL_US and doubles up to
 * MERO_BOOTSTRAP_BACKOFF_MAX_US, each delay spread by ±
 * MERO_BOOTSTRAP_JITTER_PERCENT so that nodes restarted together do not
 * redial in lock-step.  A connection to the peer resets the back-off; when
 * the peer leaves, redialling starts again from the initial delay.
 *
 * The network checks the /p2p/ id during the handshake (a peer with
 * another key is refused), so a wrong id shows up here as a failed dial
 * and is retried like any other failure: the entry may just be stale.
 *
 * The same redial serves the members of our groups after a restart:
 * their addresses from the persisted peer store (mero-peer-store.h) are
 * added with mero_node_bootstrap_add (kind MEMBER), at most
 * MERO_BOOTSTRAP_MAX_ADDED of them, and are kept connected the same way.
 * Each attempt is counted in
 * mero_node_redial_attempts_total{kind="bootstrap"|"member"}.
 *
 * Sans-IO apart from its GSource timers on the thread-default context;
 * dialling goes through the caller's function, outcomes come back through
 * the _dial_failed / _peer_connected / _peer_disconnected calls. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MERO_BOOTSTRAP_BACKOFF_INITIAL_US (1 * G_USEC_PER_SEC)
#define MERO_BOOTSTRAP_BACKOFF_MAX_US (300 * G_USEC_PER_SEC)
#define MERO_BOOTSTRAP_JITTER_PERCENT 20u
/* What an attempt may take beyond the dial timeout: the dial timeout
 * covers the TCP connect, the handshake after it needs a little more. */
#define MERO_BOOTSTRAP_HANDSHAKE_GRACE_US (5 * G_USEC_PER_SEC)

/* Entries added at run time (members' stored addresses), beyond the
 * configured ones. */
#define MERO_BOOTSTRAP_MAX_ADDED 256u

typedef struct _MeroNodeBootstrap MeroNodeBootstrap;

typedef enum {
  MERO_NODE_BOOTSTRAP_CONFIGURED, /* network.bootstrap */
  MERO_NODE_BOOTSTRAP_MEMBER,     /* a group member's address from the peer store */
} MeroNodeBootstrapKind;

/* Queues a dial of @multiaddr; FALSE with @error if it cannot even be
 * queued (counts as a failed attempt). */
typedef gboolean (*MeroNodeBootstrapDialFunc) (const char *multiaddr, gpointer user_data,
                                               GError **error);

/* @multiaddrs: validated by the config schema (each ends in /p2p/<id>);
 * entries whose id does not parse are skipped with a warning.
 * @dial_timeout_us: the network's dial timeout. */
MeroNodeBootstrap *mero_node_bootstrap_new (const char *const *multiaddrs,
                                            gint64 dial_timeout_us,
                                            MeroNodeBootstrapDialFunc dial,
                                            gpointer user_data);
/* Dials every entry now. */
void mero_node_bootstrap_start (MeroNodeBootstrap *self);
/* Keeps @multiaddr (ending in /p2p/<id>) dialled from now on, dialling it
 * at once unless its peer is connected; FALSE if it is already an entry,
 * does not parse, or MERO_BOOTSTRAP_MAX_ADDED entries were added. */
gboolean mero_node_bootstrap_add (MeroNodeBootstrap *self, const char *multiaddr,
                                  MeroNodeBootstrapKind kind);
/* Whether some entry dials @peer_id. */
gboolean mero_node_bootstrap_tracks (MeroNodeBootstrap *self, const char *peer_id);
/* Whether @peer_id is connected (as far as the _peer_* calls said). */
gboolean mero_node_bootstrap_is_connected (MeroNodeBootstrap *self, const char *peer_id);
/* A dial of @address (as dialled, or the remote socket address once the
 * handshake began) failed. */
void mero_node_bootstrap_dial_failed (MeroNodeBootstrap *self, const char *address,
                                      const char *message);
/* @peer_id has its first connection now / lost its last one. */
void mero_node_bootstrap_peer_connected (MeroNodeBootstrap *self, const char *peer_id);
void mero_node_bootstrap_peer_disconnected (MeroNodeBootstrap *self, const char *peer_id);
/* Number of entries being dialled or waiting for their next attempt. */
guint mero_node_bootstrap_count_pending (MeroNodeBootstrap *self);
/* Cancels every timer; NULL-safe. */
void mero_node_bootstrap_free (MeroNodeBootstrap *self);

/* The delay after @backoff_us with jitter from @random (0 … 2^32-1);
 * exposed for the unit of doubling and spreading. */
gint64 mero_node_bootstrap_jittered (gint64 backoff_us, guint32 random);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroNodeBootstrap, mero_node_bootstrap_free)

G_END_DECLS
