/* mero-tls-cert.h: the libp2p TLS certificate (tls/tls.md; reference §2.4).
 *
 * Each side presents one self-signed X.509 certificate for a key of its
 * own (here ECDSA P-256, as js uses), which carries the libp2p Public Key
 * Extension (OID 1.3.6.1.4.1.53594.1.1, placed first because js reads only
 * extensions[0]):
 *
 *   SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING }
 *
 * publicKey is the host's PublicKey protobuf and signature the host key's
 * signature over "libp2p-tls-handshake:" || DER(SubjectPublicKeyInfo).
 * That binds the TLS key, which TLS proves possession of, to the libp2p
 * identity.  Verification walks the peer's DER with our own strict reader
 * (mero-tls-der.h) and uses GnuTLS only for X.509 import, times and the
 * certificate's self-signature. */
#pragma once

#include <glib.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include "net/mero-key-codec.h"
#include "net/mero-peer-id.h"

G_BEGIN_DECLS

#define MERO_TLS_EXTENSION_OID "1.3.6.1.4.1.53594.1.1"
#define MERO_TLS_SIGNATURE_PREFIX "libp2p-tls-handshake:"
#define MERO_TLS_SIGNATURE_PREFIX_LEN 21
#define MERO_TLS_ED25519_SIGNATURE_LEN 64
/* A libp2p certificate is a few hundred bytes; refuse to parse more. */
#define MERO_TLS_MAX_CERTIFICATE_SIZE (16u * 1024u)
/* js: valid from an hour ago for 100 years (clocks may be skewed). */
#define MERO_TLS_CERT_BACKDATE_SECS (60 * 60)
#define MERO_TLS_CERT_LIFETIME_SECS ((gint64) 100 * 365 * 24 * 60 * 60)

#define MERO_TLS_ERROR (mero_tls_error_quark ())
GQuark mero_tls_error_quark (void);

typedef enum {
  MERO_TLS_ERROR_MALFORMED_CERTIFICATE, /* not DER X.509, or a bad SignedKey */
  MERO_TLS_ERROR_NO_EXTENSION,          /* no libp2p public key extension */
  MERO_TLS_ERROR_UNKNOWN_CRITICAL,      /* a critical extension we do not know */
  MERO_TLS_ERROR_NOT_VALID_NOW,         /* outside NotBefore .. NotAfter */
  MERO_TLS_ERROR_BAD_SELF_SIGNATURE,    /* not self-signed, or a weak hash */
  MERO_TLS_ERROR_UNSUPPORTED_KEY,       /* host key type we cannot verify */
  MERO_TLS_ERROR_BAD_SIGNATURE,         /* SignedKey.signature does not verify */
  MERO_TLS_ERROR_PEER_MISMATCH,         /* not the peer we dialed */
  MERO_TLS_ERROR_CERTIFICATE_COUNT,     /* none, or more than one */
  MERO_TLS_ERROR_HANDSHAKE,             /* TLS itself failed (message says why) */
  MERO_TLS_ERROR_CLOSED,                /* the peer closed the session */
  MERO_TLS_ERROR_STATE,                 /* call not valid in this state */
  MERO_TLS_ERROR_FAILED,                /* the session failed earlier */
} MeroTlsError;

/* Signs @message with the host identity (Ed25519: 64 bytes). */
typedef void (*MeroTlsSignFunc) (const guint8 *message,
                                 gsize         len,
                                 guint8        signature[MERO_TLS_ED25519_SIGNATURE_LEN],
                                 gpointer      user_data);

typedef enum {
  MERO_TLS_CERT_FLAGS_NONE = 0,
  /* Tests only: leave the libp2p extension out. */
  MERO_TLS_CERT_FLAGS_OMIT_EXTENSION = 1 << 0,
  /* Tests only: add an unknown critical extension after ours. */
  MERO_TLS_CERT_FLAGS_UNKNOWN_CRITICAL = 1 << 1,
} MeroTlsCertFlags;

/* Where the pieces of a certificate are, pointing into its DER. */
typedef struct
{
  const guint8 *tbs;        /* tbsCertificate TLV: what the self-signature covers */
  gsize tbs_len;
  const guint8 *spki;       /* SubjectPublicKeyInfo TLV: what the host key signs */
  gsize spki_len;
  const guint8 *signature;  /* signatureValue bits */
  gsize signature_len;
  const guint8 *host_key;   /* SignedKey.publicKey (PublicKey protobuf) */
  gsize host_key_len;
  const guint8 *host_signature;
  gsize host_signature_len;
  guint extension_index;    /* position of ours among the extensions */
} MeroTlsCertParts;

/* Walks @der (our reader, no GnuTLS) down to the libp2p extension. */
gboolean mero_tls_cert_parse (const guint8     *der,
                              gsize             len,
                              MeroTlsCertParts *parts,
                              GError          **error);

/* Full verification of a peer's certificate at @now_unix (seconds):
 * structure, validity period, self-signature, the extension's signature
 * and, if @expected_peer is set, the identity.  Returns the peer's id
 * (transfer full) or NULL with @error naming the reason. */
MeroPeerId *mero_tls_cert_verify (const guint8     *der,
                                  gsize             len,
                                  gint64            now_unix,
                                  const MeroPeerId *expected_peer,
                                  GError          **error);

/* Generates a fresh P-256 key and the certificate for it, valid from
 * @now_unix - 1 h for 100 years, signed for the host key @host_key_pb by
 * @sign.  On success *crt and *key are set (caller frees them). */
gboolean mero_tls_cert_generate (const guint8         *host_key_pb,
                                 gsize                 host_key_pb_len,
                                 MeroTlsSignFunc       sign,
                                 gpointer              sign_data,
                                 gint64                now_unix,
                                 MeroTlsCertFlags      flags,
                                 gnutls_x509_crt_t    *crt,
                                 gnutls_x509_privkey_t *key,
                                 GError              **error);

G_END_DECLS
