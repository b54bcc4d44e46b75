/* mero-tls-cert.c: build and verify the libp2p TLS certificate. */
#include "net/core/mero-tls-cert.h"

#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <sodium.h>
#include <string.h>

#include "net/core/mero-tls-der.h"

G_DEFINE_QUARK (mero-tls-error-quark, mero_tls_error)

/* DER contents of the OIDs we look for. */
static const guint8 libp2p_oid[] = { 0x2b, 0x06, 0x01, 0x04, 0x01, 0x83, 0xa2, 0x5a, 0x01, 0x01 };
/* Critical extensions we understand well enough to accept (they do not
 * weaken anything here): keyUsage, basicConstraints, extKeyUsage. */
static const guint8 known_critical[][3] = {
  { 0x55, 0x1d, 0x0f }, { 0x55, 0x1d, 0x13 }, { 0x55, 0x1d, 0x25 },
};

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_MALFORMED_CERTIFICATE,
               "certificate is malformed: %s", what);
  return FALSE;
}

static gboolean
oid_is (const MeroDerItem *oid, const guint8 *want, gsize want_len)
{
  return oid->len == want_len && memcmp (oid->value, want, want_len) == 0;
}

static gboolean
known_critical_oid (const MeroDerItem *oid)
{
  for (guint i = 0; i < G_N_ELEMENTS (known_critical); i++)
    if (oid_is (oid, known_critical[i], sizeof known_critical[i]))
      return TRUE;
  return FALSE;
}

/* SignedKey ::= SEQUENCE { publicKey OCTET STRING, signature OCTET STRING } */
static gboolean
parse_signed_key (const MeroDerItem *ext_value, MeroTlsCertParts *parts, GError **error)
{
  MeroDerReader r, seq;
  MeroDerItem item, key, sig;

  mero_der_reader_enter (&r, ext_value);
  if (!mero_der_expect (&r, MERO_DER_TAG_SEQUENCE, &item) || !mero_der_at_end (&r))
    return malformed (error, "libp2p extension is not one SignedKey sequence");
  mero_der_reader_enter (&seq, &item);
  if (!mero_der_expect (&seq, MERO_DER_TAG_OCTET_STRING, &key) ||
      !mero_der_expect (&seq, MERO_DER_TAG_OCTET_STRING, &sig) || !mero_der_at_end (&seq))
    return malformed (error, "SignedKey is not two octet strings");
  parts->host_key = key.value;
  parts->host_key_len = key.len;
  parts->host_signature = sig.value;
  parts->host_signature_len = sig.len;
  return TRUE;
}

/* Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE,
 *                          extnValue OCTET STRING } */
static gboolean
parse_extensions (const MeroDerItem *explicit3, MeroTlsCertParts *parts, GError **error)
{
  MeroDerReader r, list;
  MeroDerItem seq;
  gboolean found = FALSE;

  mero_der_reader_enter (&r, explicit3);
  if (!mero_der_expect (&r, MERO_DER_TAG_SEQUENCE, &seq) || !mero_der_at_end (&r))
    return malformed (error, "extensions are not a sequence");
  mero_der_reader_enter (&list, &seq);
  for (guint index = 0; !mero_der_at_end (&list); index++)
    {
      MeroDerReader er;
      MeroDerItem ext, oid, value, item;
      gboolean critical = FALSE;

      if (!mero_der_expect (&list, MERO_DER_TAG_SEQUENCE, &ext))
        return malformed (error, "an extension is not a sequence");
      mero_der_reader_enter (&er, &ext);
      if (!mero_der_expect (&er, MERO_DER_TAG_OID, &oid) || oid.len == 0)
        return malformed (error, "an extension has no OID");
      if (mero_der_peek_tag (&er) == MERO_DER_TAG_BOOLEAN)
        {
          mero_der_next (&er, &item);
          /* DER: only 0xff is TRUE, and FALSE (the default) is omitted. */
          if (item.len != 1 || item.value[0] != 0xff)
            return malformed (error, "an extension's critical flag is not DER");
          critical = TRUE;
        }
      if (!mero_der_expect (&er, MERO_DER_TAG_OCTET_STRING, &value) || !mero_der_at_end (&er))
        return malformed (error, "an extension has no value");
      if (oid_is (&oid, libp2p_oid, sizeof libp2p_oid))
        {
          if (found)
            return malformed (error, "the libp2p extension appears twice");
          if (!parse_signed_key (&value, parts, error))
            return FALSE;
          parts->extension_index = index;
          found = TRUE;
        }
      else if (critical && !known_critical_oid (&oid))
        {
          g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_UNKNOWN_CRITICAL,
                       "certificate has a critical extension we do not understand");
          return FALSE;
        }
    }
  if (!found)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_NO_EXTENSION,
                   "certificate has no libp2p public key extension");
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_tls_cert_parse (const guint8 *der, gsize len, MeroTlsCertParts *parts, GError **error)
{
  MeroDerReader r, cert, tbs;
  MeroDerItem item, cert_seq, tbs_seq, sigval;
  static const guint8 tbs_fields[] = {
    MERO_DER_TAG_INTEGER,  /* serialNumber */
    MERO_DER_TAG_SEQUENCE, /* signature AlgorithmIdentifier */
    MERO_DER_TAG_SEQUENCE, /* issuer */
    MERO_DER_TAG_SEQUENCE, /* validity */
    MERO_DER_TAG_SEQUENCE, /* subject */
  };

  g_return_val_if_fail (parts != NULL, FALSE);

  memset (parts, 0, sizeof *parts);
  if (len > MERO_TLS_MAX_CERTIFICATE_SIZE)
    return malformed (error, "larger than 16 KiB");
  mero_der_reader_init (&r, der, len);
  if (!mero_der_expect (&r, MERO_DER_TAG_SEQUENCE, &cert_seq) || !mero_der_at_end (&r))
    return malformed (error, "not one DER sequence");
  mero_der_reader_enter (&cert, &cert_seq);
  if (!mero_der_expect (&cert, MERO_DER_TAG_SEQUENCE, &tbs_seq) ||
      !mero_der_expect (&cert, MERO_DER_TAG_SEQUENCE, &item) ||
      !mero_der_expect (&cert, MERO_DER_TAG_BIT_STRING, &sigval) || !mero_der_at_end (&cert))
    return malformed (error, "not tbsCertificate, algorithm, signature");
  /* A signature is whole bytes: the unused-bits count must be 0. */
  if (sigval.len < 2 || sigval.value[0] != 0)
    return malformed (error, "signature bit string");
  parts->tbs = tbs_seq.raw;
  parts->tbs_len = tbs_seq.raw_len;
  parts->signature = sigval.value + 1;
  parts->signature_len = sigval.len - 1;

  mero_der_reader_enter (&tbs, &tbs_seq);
  if (mero_der_peek_tag (&tbs) == MERO_DER_TAG_CONTEXT (0) && !mero_der_next (&tbs, &item))
    return malformed (error, "version");
  for (guint i = 0; i < G_N_ELEMENTS (tbs_fields); i++)
    if (!mero_der_expect (&tbs, tbs_fields[i], &item))
      return malformed (error, "tbsCertificate fields");
  if (!mero_der_expect (&tbs, MERO_DER_TAG_SEQUENCE, &item))
    return malformed (error, "subjectPublicKeyInfo");
  parts->spki = item.raw;
  parts->spki_len = item.raw_len;
  /* issuerUniqueID [1] and subjectUniqueID [2] (implicit, primitive or
   * constructed) may precede the extensions; the spec deprecates them but
   * only allows us to refuse, so they are skipped. */
  while (!mero_der_at_end (&tbs))
    {
      if (!mero_der_next (&tbs, &item))
        return malformed (error, "tbsCertificate trailer");
      if (item.tag == MERO_DER_TAG_CONTEXT (3))
        {
          if (!mero_der_at_end (&tbs))
            return malformed (error, "data after the extensions");
          return parse_extensions (&item, parts, error);
        }
      if ((item.tag & 0xdf) != 0x81 && (item.tag & 0xdf) != 0x82)
        return malformed (error, "unexpected field in tbsCertificate");
    }
  g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_NO_EXTENSION,
               "certificate has no extensions (the libp2p public key extension is missing)");
  return FALSE;
}

static void
crt_free (gnutls_x509_crt_t crt)
{
  if (crt != NULL)
    gnutls_x509_crt_deinit (crt);
}

static void
pubkey_free (gnutls_pubkey_t key)
{
  if (key != NULL)
    gnutls_pubkey_deinit (key);
}

static gboolean
check_self_signature (gnutls_x509_crt_t crt, const MeroTlsCertParts *parts, GError **error)
{
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t tbs = { (unsigned char *) parts->tbs, (unsigned int) parts->tbs_len };
  gnutls_datum_t sig = { (unsigned char *) parts->signature, (unsigned int) parts->signature_len };
  gnutls_datum_t issuer, subject;
  int algo = gnutls_x509_crt_get_signature_algorithm (crt);
  gnutls_digest_algorithm_t hash = gnutls_sign_get_hash_algorithm (algo);
  int ret;

  if (algo < 0 || algo == GNUTLS_SIGN_UNKNOWN)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SELF_SIGNATURE,
                   "certificate uses an unknown signature algorithm");
      return FALSE;
    }
  /* The spec forbids hashes shorter than 256 bits (MD5, SHA-1); EdDSA
   * has no separate hash (GNUTLS_DIG_UNKNOWN). */
  if (hash == GNUTLS_DIG_MD5 || hash == GNUTLS_DIG_SHA1 || hash == GNUTLS_DIG_MD2 ||
      hash == GNUTLS_DIG_RMD160 || hash == GNUTLS_DIG_SHA224)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SELF_SIGNATURE,
                   "certificate is signed with a hash shorter than 256 bits (%s)",
                   gnutls_digest_get_name (hash));
      return FALSE;
    }
  if (gnutls_x509_crt_get_raw_issuer_dn (crt, &issuer) < 0)
    return malformed (error, "issuer");
  if (gnutls_x509_crt_get_raw_dn (crt, &subject) < 0)
    {
      gnutls_free (issuer.data);
      return malformed (error, "subject");
    }
  ret = issuer.size == subject.size && memcmp (issuer.data, subject.data, issuer.size) == 0;
  gnutls_free (issuer.data);
  gnutls_free (subject.data);
  if (!ret)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SELF_SIGNATURE,
                   "certificate is not self-signed (issuer differs from subject)");
      return FALSE;
    }
  if (gnutls_pubkey_init (&pub) < 0)
    return malformed (error, "out of memory");
  ret = gnutls_pubkey_import_x509 (pub, crt, 0);
  if (ret >= 0)
    ret = gnutls_pubkey_verify_data2 (pub, algo, 0, &tbs, &sig);
  pubkey_free (pub);
  if (ret < 0)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SELF_SIGNATURE,
                   "certificate self-signature does not verify: %s", gnutls_strerror (ret));
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_host_signature (const MeroTlsCertParts *parts, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree guint8 *message = NULL;
  MeroKeyType type;
  const guint8 *key;
  gsize key_len;

  if (!mero_key_codec_decode_public (parts->host_key, parts->host_key_len, &type, &key, &key_len,
                                     &local_error))
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_MALFORMED_CERTIFICATE,
                   "certificate's libp2p public key: %s", local_error->message);
      return FALSE;
    }
  if (type != MERO_KEY_TYPE_ED25519 || key_len != crypto_sign_PUBLICKEYBYTES)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_UNSUPPORTED_KEY,
                   "certificate's libp2p key type %d is not supported (Ed25519 only)", type);
      return FALSE;
    }
  message = g_malloc (MERO_TLS_SIGNATURE_PREFIX_LEN + parts->spki_len);
  memcpy (message, MERO_TLS_SIGNATURE_PREFIX, MERO_TLS_SIGNATURE_PREFIX_LEN);
  memcpy (message + MERO_TLS_SIGNATURE_PREFIX_LEN, parts->spki, parts->spki_len);
  if (parts->host_signature_len != crypto_sign_BYTES ||
      crypto_sign_verify_detached (parts->host_signature, message,
                                   MERO_TLS_SIGNATURE_PREFIX_LEN + parts->spki_len, key) != 0)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_BAD_SIGNATURE,
                   "certificate's libp2p signature does not sign its public key");
      return FALSE;
    }
  return TRUE;
}

MeroPeerId *
mero_tls_cert_verify (const guint8     *der,
                      gsize             len,
                      gint64            now_unix,
                      const MeroPeerId *expected_peer,
                      GError          **error)
{
  MeroTlsCertParts parts;
  gnutls_x509_crt_t crt = NULL;
  gnutls_datum_t datum = { (unsigned char *) der, (unsigned int) len };
  g_autoptr(MeroPeerId) peer = NULL;
  gint64 not_before, not_after;
  gboolean ok;

  if (!mero_tls_cert_parse (der, len, &parts, error))
    return NULL;
  if (gnutls_x509_crt_init (&crt) < 0)
    {
      malformed (error, "out of memory");
      return NULL;
    }
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) < 0)
    {
      crt_free (crt);
      malformed (error, "not an X.509 certificate GnuTLS accepts");
      return NULL;
    }
  not_before = gnutls_x509_crt_get_activation_time (crt);
  not_after = gnutls_x509_crt_get_expiration_time (crt);
  if (not_before == -1 || not_after == -1 || now_unix < not_before || now_unix > not_after)
    {
      crt_free (crt);
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_NOT_VALID_NOW,
                   "certificate is not valid now (valid from %" G_GINT64_FORMAT
                   " to %" G_GINT64_FORMAT ", now %" G_GINT64_FORMAT ")",
                   not_before, not_after, now_unix);
      return NULL;
    }
  ok = check_self_signature (crt, &parts, error);
  crt_free (crt);
  if (!ok || !check_host_signature (&parts, error))
    return NULL;
  peer = mero_peer_id_new_from_public_key (parts.host_key, parts.host_key_len);
  if (peer == NULL)
    {
      malformed (error, "libp2p public key gives no peer id");
      return NULL;
    }
  if (expected_peer != NULL && !mero_peer_id_equal (peer, expected_peer))
    {
      g_autofree char *got = mero_peer_id_to_string (peer);
      g_autofree char *want = mero_peer_id_to_string (expected_peer);

      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_PEER_MISMATCH,
                   "peer is %s, not the %s we dialed", got, want);
      return NULL;
    }
  return g_steal_pointer (&peer);
}

/* --- generation --- */

static void
der_put_header (GByteArray *out, guint8 tag, gsize len)
{
  guint8 hdr[6];
  guint n = 0;

  hdr[n++] = tag;
  if (len < 0x80)
    hdr[n++] = (guint8) len;
  else if (len < 0x100)
    {
      hdr[n++] = 0x81;
      hdr[n++] = (guint8) len;
    }
  else
    {
      g_assert (len < 0x10000);
      hdr[n++] = 0x82;
      hdr[n++] = (guint8) (len >> 8);
      hdr[n++] = (guint8) len;
    }
  g_byte_array_append (out, hdr, n);
}

static GByteArray *
signed_key_encode (const guint8 *key, gsize key_len, const guint8 *sig, gsize sig_len)
{
  g_autoptr(GByteArray) inner = g_byte_array_new ();
  GByteArray *out = g_byte_array_new ();

  der_put_header (inner, MERO_DER_TAG_OCTET_STRING, key_len);
  g_byte_array_append (inner, key, (guint) key_len);
  der_put_header (inner, MERO_DER_TAG_OCTET_STRING, sig_len);
  g_byte_array_append (inner, sig, (guint) sig_len);
  der_put_header (out, MERO_DER_TAG_SEQUENCE, inner->len);
  g_byte_array_append (out, inner->data, inner->len);
  return out;
}

static gboolean
gnutls_failed (GError **error, const char *what, int ret)
{
  g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE,
               "cannot create the TLS certificate (%s): %s", what, gnutls_strerror (ret));
  return FALSE;
}

gboolean
mero_tls_cert_generate (const guint8          *host_key_pb,
                        gsize                  host_key_pb_len,
                        MeroTlsSignFunc        sign,
                        gpointer               sign_data,
                        gint64                 now_unix,
                        MeroTlsCertFlags       flags,
                        gnutls_x509_crt_t     *crt_out,
                        gnutls_x509_privkey_t *key_out,
                        GError               **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_x509_crt_t crt = NULL;
  gnutls_pubkey_t pub = NULL;
  gnutls_datum_t spki = { NULL, 0 };
  g_autoptr(GByteArray) message = g_byte_array_new ();
  g_autoptr(GByteArray) ext = NULL;
  guint8 serial[16];
  guint8 host_sig[MERO_TLS_ED25519_SIGNATURE_LEN];
  int ret;

  g_return_val_if_fail (host_key_pb != NULL && sign != NULL, FALSE);

  if ((ret = gnutls_x509_privkey_init (&key)) < 0 ||
      (ret = gnutls_x509_privkey_generate2 (key, GNUTLS_PK_ECDSA,
                                            GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_SECP256R1),
                                            0, NULL, 0)) < 0)
    {
      gnutls_failed (error, "key", ret);
      goto fail;
    }
  if ((ret = gnutls_x509_crt_init (&crt)) < 0 || (ret = gnutls_x509_crt_set_version (crt, 3)) < 0)
    {
      gnutls_failed (error, "certificate", ret);
      goto fail;
    }
  /* A large positive random serial (first bit clear, first byte non-zero). */
  if ((ret = gnutls_rnd (GNUTLS_RND_NONCE, serial, sizeof serial)) < 0)
    {
      gnutls_failed (error, "serial", ret);
      goto fail;
    }
  serial[0] = (serial[0] & 0x7f) | 0x01;
  if ((ret = gnutls_x509_crt_set_serial (crt, serial, sizeof serial)) < 0 ||
      (ret = gnutls_x509_crt_set_activation_time (crt, (time_t) (now_unix - MERO_TLS_CERT_BACKDATE_SECS))) < 0 ||
      (ret = gnutls_x509_crt_set_expiration_time (crt, (time_t) (now_unix + MERO_TLS_CERT_LIFETIME_SECS))) < 0 ||
      (ret = gnutls_x509_crt_set_key (crt, key)) < 0)
    {
      gnutls_failed (error, "fields", ret);
      goto fail;
    }
  if ((ret = gnutls_pubkey_init (&pub)) < 0 || (ret = gnutls_pubkey_import_x509 (pub, crt, 0)) < 0 ||
      (ret = gnutls_pubkey_export2 (pub, GNUTLS_X509_FMT_DER, &spki)) < 0)
    {
      gnutls_failed (error, "public key", ret);
      goto fail;
    }
  g_byte_array_append (message, (const guint8 *) MERO_TLS_SIGNATURE_PREFIX,
                       MERO_TLS_SIGNATURE_PREFIX_LEN);
  g_byte_array_append (message, spki.data, spki.size);
  sign (message->data, message->len, host_sig, sign_data);
  ext = signed_key_encode (host_key_pb, host_key_pb_len, host_sig, sizeof host_sig);
  /* Ours first: js looks at extensions[0] only.  Critical, as js and go. */
  if (!(flags & MERO_TLS_CERT_FLAGS_OMIT_EXTENSION) &&
      (ret = gnutls_x509_crt_set_extension_by_oid (crt, MERO_TLS_EXTENSION_OID, ext->data,
                                                   ext->len, 1)) < 0)
    {
      gnutls_failed (error, "extension", ret);
      goto fail;
    }
  if (flags & (MERO_TLS_CERT_FLAGS_UNKNOWN_CRITICAL | MERO_TLS_CERT_FLAGS_OMIT_EXTENSION))
    {
      static const guint8 null_value[] = { 0x05, 0x00 };

      /* Flagged certificates get one more (private-arc) extension, so
       * "no libp2p extension" is tested with other extensions present. */
      ret = gnutls_x509_crt_set_extension_by_oid (crt, "1.3.6.1.4.1.53594.9.9", null_value,
                                                  sizeof null_value,
                                                  (flags & MERO_TLS_CERT_FLAGS_UNKNOWN_CRITICAL) != 0);
      if (ret < 0)
        {
          gnutls_failed (error, "test extension", ret);
          goto fail;
        }
    }
  if ((ret = gnutls_x509_crt_sign2 (crt, crt, key, GNUTLS_DIG_SHA256, 0)) < 0)
    {
      gnutls_failed (error, "self-signature", ret);
      goto fail;
    }
  gnutls_free (spki.data);
  pubkey_free (pub);
  sodium_memzero (host_sig, sizeof host_sig);
  *crt_out = crt;
  *key_out = key;
  return TRUE;

fail:
  gnutls_free (spki.data);
  pubkey_free (pub);
  crt_free (crt);
  if (key != NULL)
    gnutls_x509_privkey_deinit (key);
  return FALSE;
}
