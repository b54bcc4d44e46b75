/* mero-tls.h: libp2p TLS 1.3 (/tls/1.0.0, tls/tls.md; reference §2.4),
 * both roles, sans-IO, on GnuTLS.
 *
 * GnuTLS reads and writes through push/pull functions over memory
 * buffers, never a socket: the host feeds received bytes with
 * mero_tls_recv(), which appends any decrypted plaintext to the caller's
 * array, sends what mero_tls_pull_send() returns, and once ESTABLISHED
 * encrypts with mero_tls_write().  TLS 1.3 only; the server requires a
 * client certificate; no SNI, no session tickets.
 *
 * Both sides verify the peer's single certificate in GnuTLS's verify
 * callback (mero_tls_cert_verify(): validity at the configured wall-clock
 * time, self-signature, the libp2p extension and its signature, and the
 * dialed peer id), so a bad certificate aborts the handshake with an
 * alert and an error naming the reason.
 *
 * ALPN carries early muxer negotiation as js does: each side lists the
 * muxers it speaks and then "libp2p"; the server picks by its own order.
 * A selected muxer means no multistream-select round for it; "libp2p"
 * means the muxer is negotiated with multistream-select inside TLS.
 *
 * Randomness (keys, nonces) comes from GnuTLS itself; time is an input.
 * Any failure is final: the state becomes FAILED. */
#pragma once

#include <glib.h>

#include "net/core/mero-tls-cert.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_TLS_PROTOCOL_ID "/tls/1.0.0"
#define MERO_TLS_ALPN_LIBP2P "libp2p"
/* Plaintext bytes per TLS record. */
#define MERO_TLS_MAX_RECORD_PLAINTEXT 16384u
/* Muxers offered in ALPN, at most. */
#define MERO_TLS_MAX_ALPN_MUXERS 4u

typedef enum {
  MERO_TLS_ROLE_CLIENT, /* the dialer */
  MERO_TLS_ROLE_SERVER,
} MeroTlsRole;

typedef enum {
  MERO_TLS_STATE_HANDSHAKING,
  MERO_TLS_STATE_ESTABLISHED,
  MERO_TLS_STATE_FAILED,
} MeroTlsState;

/* Our certificate and its key, shared by every session of a node run
 * (the spec allows reuse; it is signed once by the host key).  Thread-safe
 * refcount; otherwise used from one thread. */
typedef struct _MeroTlsCredentials MeroTlsCredentials;

/* Generates the key and certificate for host key @host_key_pb (PublicKey
 * protobuf), signing with @sign at wall-clock time @now_unix. */
MeroTlsCredentials *mero_tls_credentials_new (const guint8    *host_key_pb,
                                              gsize            host_key_pb_len,
                                              MeroTlsSignFunc  sign,
                                              gpointer         sign_data,
                                              gint64           now_unix,
                                              GError         **error);
/* Tests: the same with MeroTlsCertFlags to make broken certificates. */
MeroTlsCredentials *mero_tls_credentials_new_full (const guint8    *host_key_pb,
                                                   gsize            host_key_pb_len,
                                                   MeroTlsSignFunc  sign,
                                                   gpointer         sign_data,
                                                   gint64           now_unix,
                                                   MeroTlsCertFlags flags,
                                                   GError         **error);
MeroTlsCredentials *mero_tls_credentials_ref (MeroTlsCredentials *creds);
void mero_tls_credentials_unref (MeroTlsCredentials *creds);
/* (transfer full) our certificate, DER. */
GBytes *mero_tls_credentials_get_certificate (MeroTlsCredentials *creds);

typedef struct
{
  MeroTlsCredentials *credentials;   /* ref'd */
  /* (nullable) the peer we dialed: any other identity fails. */
  const MeroPeerId *expected_peer;
  /* (nullable) muxer ids to offer (client) or accept (server) in ALPN
   * before "libp2p"; NULL: "libp2p" only. */
  const char *const *alpn_muxers;
  /* Wall-clock time, Unix seconds, for the peer certificate's validity. */
  gint64 now_unix;
} MeroTlsConfig;

typedef struct _MeroTls MeroTls;

/* The client's ClientHello is ready to pull at once.  NULL with @error
 * only if GnuTLS cannot set up a session. */
MeroTls *mero_tls_new (MeroTlsRole role, const MeroTlsConfig *config, GError **error);
void mero_tls_free (MeroTls *self);

/* Processes @data (any split of the byte stream).  Plaintext is appended
 * to @plaintext.  Returns FALSE with @error once the session has failed
 * or the peer closed it (MERO_TLS_ERROR_CLOSED). */
gboolean mero_tls_recv (MeroTls      *self,
                        const guint8 *data,
                        gsize         len,
                        GByteArray   *plaintext,
                        GError      **error);

/* (transfer full) (nullable) bytes to send, or NULL if none. */
GBytes *mero_tls_pull_send (MeroTls *self);
gboolean mero_tls_wants_send (const MeroTls *self);

/* Encrypts @data (any length) into records; only once ESTABLISHED. */
gboolean mero_tls_write (MeroTls *self, const guint8 *data, gsize len, GError **error);

/* Like mero_tls_write(), but the records are appended to @out (the
 * caller's socket buffer) instead of queued for mero_tls_pull_send():
 * no copy of each byte through the session's queue.  Only while
 * mero_tls_wants_send() is FALSE, or the bytes would leave out of order.
 * Each record adds at most MERO_TLS_RECORD_OVERHEAD bytes. */
#define MERO_TLS_RECORD_OVERHEAD 32u
gboolean mero_tls_write_into (MeroTls      *self,
                              const guint8 *data,
                              gsize         len,
                              GByteArray   *out,
                              GError      **error);

MeroTlsState mero_tls_get_state (const MeroTls *self);
/* (transfer none) (nullable) the verified peer, once ESTABLISHED. */
const MeroPeerId *mero_tls_get_remote_peer (const MeroTls *self);
/* (transfer none) (nullable) the ALPN protocol agreed, once ESTABLISHED:
 * a muxer id, "libp2p", or NULL if the peer did not use ALPN. */
const char *mero_tls_get_alpn (const MeroTls *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTls, mero_tls_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroTlsCredentials, mero_tls_credentials_unref)

G_END_DECLS
