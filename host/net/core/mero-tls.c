/* mero-tls.c: a libp2p TLS 1.3 session on GnuTLS over memory buffers. */
#include "net/core/mero-tls.h"

#include <errno.h>
#include <string.h>

/* TLS 1.3 and nothing older (the spec and js forbid lower versions). */
#define MERO_TLS_MAX_NON_FATAL 64
#define PRIORITIES "NORMAL:-VERS-ALL:+VERS-TLS1.3"

struct _MeroTlsCredentials
{
  gatomicrefcount ref;
  gnutls_certificate_credentials_t xcred;
  GBytes *certificate;
};

struct _MeroTls
{
  MeroTlsRole role;
  MeroTlsState state;
  gnutls_session_t session;
  MeroTlsCredentials *credentials;
  MeroPeerId *expected_peer;
  gint64 now_unix;
  GByteArray *in;        /* received, not yet read by GnuTLS */
  gsize in_pos;
  /* During mero_tls_recv() with nothing left in @in: the caller's bytes,
   * read by GnuTLS where they are (what it leaves goes to @in). */
  const guint8 *ext;
  gsize ext_len, ext_pos;
  GByteArray *out;       /* written by GnuTLS, for the socket */
  MeroPeerId *remote_peer;
  GError *verify_error;  /* why the verify callback refused the peer */
  GError *error;         /* why the session failed (repeated later) */
  char *alpn;
};

static int verify_peer (gnutls_session_t session);

MeroTlsCredentials *
mero_tls_credentials_new_full (const guint8    *host_key_pb,
                               gsize            host_key_pb_len,
                               MeroTlsSignFunc  sign,
                               gpointer         sign_data,
                               gint64           now_unix,
                               MeroTlsCertFlags flags,
                               GError         **error)
{
  gnutls_x509_crt_t crt = NULL;
  gnutls_x509_privkey_t key = NULL;
  gnutls_datum_t der = { NULL, 0 };
  MeroTlsCredentials *creds;
  int ret;

  if (!mero_tls_cert_generate (host_key_pb, host_key_pb_len, sign, sign_data, now_unix, flags,
                               &crt, &key, error))
    return NULL;
  creds = g_new0 (MeroTlsCredentials, 1);
  g_atomic_ref_count_init (&creds->ref);
  ret = gnutls_certificate_allocate_credentials (&creds->xcred);
  if (ret >= 0)
    ret = gnutls_certificate_set_x509_key (creds->xcred, &crt, 1, key);
  if (ret >= 0)
    ret = gnutls_x509_crt_export2 (crt, GNUTLS_X509_FMT_DER, &der);
  gnutls_x509_crt_deinit (crt);
  gnutls_x509_privkey_deinit (key);
  if (ret < 0)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE,
                   "cannot set up TLS credentials: %s", gnutls_strerror (ret));
      gnutls_free (der.data);
      mero_tls_credentials_unref (creds);
      return NULL;
    }
  creds->certificate = g_bytes_new (der.data, der.size);
  gnutls_free (der.data);
  /* Our own check replaces the CA-based one (self-signed certificates). */
  gnutls_certificate_set_verify_function (creds->xcred, verify_peer);
  return creds;
}

MeroTlsCredentials *
mero_tls_credentials_new (const guint8   *host_key_pb,
                          gsize           host_key_pb_len,
                          MeroTlsSignFunc sign,
                          gpointer        sign_data,
                          gint64          now_unix,
                          GError        **error)
{
  return mero_tls_credentials_new_full (host_key_pb, host_key_pb_len, sign, sign_data, now_unix,
                                        MERO_TLS_CERT_FLAGS_NONE, error);
}

MeroTlsCredentials *
mero_tls_credentials_ref (MeroTlsCredentials *creds)
{
  g_return_val_if_fail (creds != NULL, NULL);

  g_atomic_ref_count_inc (&creds->ref);
  return creds;
}

void
mero_tls_credentials_unref (MeroTlsCredentials *creds)
{
  if (creds == NULL || !g_atomic_ref_count_dec (&creds->ref))
    return;
  if (creds->xcred != NULL)
    gnutls_certificate_free_credentials (creds->xcred);
  g_clear_pointer (&creds->certificate, g_bytes_unref);
  g_free (creds);
}

GBytes *
mero_tls_credentials_get_certificate (MeroTlsCredentials *creds)
{
  g_return_val_if_fail (creds != NULL, NULL);

  return g_bytes_ref (creds->certificate);
}

/* --- transport over memory --- */

static ssize_t
push_func (gnutls_transport_ptr_t ptr, const void *data, size_t len)
{
  MeroTls *self = ptr;

  g_byte_array_append (self->out, data, (guint) len);
  return (ssize_t) len;
}

static ssize_t
pull_func (gnutls_transport_ptr_t ptr, void *data, size_t len)
{
  MeroTls *self = ptr;
  gsize avail = self->in->len - self->in_pos;

  if (avail == 0 && self->ext_pos < self->ext_len)
    {
      len = MIN (len, self->ext_len - self->ext_pos);
      memcpy (data, self->ext + self->ext_pos, len);
      self->ext_pos += len;
      return (ssize_t) len;
    }
  if (avail == 0)
    {
      gnutls_transport_set_errno (self->session, EAGAIN);
      return -1;
    }
  len = MIN (len, avail);
  memcpy (data, self->in->data + self->in_pos, len);
  self->in_pos += len;
  return (ssize_t) len;
}

/* TRUE while some received bytes are still unread by GnuTLS. */
static gboolean
input_left (const MeroTls *self)
{
  return self->in_pos < self->in->len || self->ext_pos < self->ext_len;
}

static int
pull_timeout_func (gnutls_transport_ptr_t ptr, unsigned int ms)
{
  MeroTls *self = ptr;

  return self->in->len > self->in_pos || self->ext_len > self->ext_pos ? 1 : 0;
}

/* --- verification --- */

static int
verify_peer (gnutls_session_t session)
{
  MeroTls *self = gnutls_session_get_ptr (session);
  const gnutls_datum_t *certs;
  unsigned int n = 0;

  g_clear_error (&self->verify_error);
  certs = gnutls_certificate_get_peers (session, &n);
  if (certs == NULL || n != 1)
    {
      g_set_error (&self->verify_error, MERO_TLS_ERROR, MERO_TLS_ERROR_CERTIFICATE_COUNT,
                   "peer sent %u certificates (exactly one is required)", n);
      return GNUTLS_E_CERTIFICATE_ERROR;
    }
  g_clear_pointer (&self->remote_peer, mero_peer_id_free);
  self->remote_peer = mero_tls_cert_verify (certs[0].data, certs[0].size, self->now_unix,
                                            self->expected_peer, &self->verify_error);
  return self->remote_peer != NULL ? 0 : GNUTLS_E_CERTIFICATE_ERROR;
}

/* --- session --- */

MeroTls *
mero_tls_new (MeroTlsRole role, const MeroTlsConfig *config, GError **error)
{
  gnutls_datum_t alpn[MERO_TLS_MAX_ALPN_MUXERS + 1];
  guint n_alpn = 0;
  MeroTls *self;
  int ret;

  g_return_val_if_fail (config != NULL && config->credentials != NULL, NULL);

  self = g_new0 (MeroTls, 1);
  self->role = role;
  self->state = MERO_TLS_STATE_HANDSHAKING;
  self->credentials = mero_tls_credentials_ref (config->credentials);
  self->expected_peer = config->expected_peer != NULL ? mero_peer_id_copy (config->expected_peer)
                                                      : NULL;
  self->now_unix = config->now_unix;
  self->in = g_byte_array_new ();
  self->out = g_byte_array_new ();

  for (guint i = 0; config->alpn_muxers != NULL && config->alpn_muxers[i] != NULL &&
                    n_alpn < MERO_TLS_MAX_ALPN_MUXERS; i++)
    {
      alpn[n_alpn].data = (unsigned char *) config->alpn_muxers[i];
      alpn[n_alpn++].size = (unsigned int) strlen (config->alpn_muxers[i]);
    }
  alpn[n_alpn].data = (unsigned char *) MERO_TLS_ALPN_LIBP2P;
  alpn[n_alpn++].size = sizeof MERO_TLS_ALPN_LIBP2P - 1;

  ret = gnutls_init (&self->session, (role == MERO_TLS_ROLE_SERVER ? GNUTLS_SERVER : GNUTLS_CLIENT) |
                                       GNUTLS_NONBLOCK | GNUTLS_NO_TICKETS);
  if (ret >= 0)
    ret = gnutls_priority_set_direct (self->session, PRIORITIES, NULL);
  if (ret >= 0)
    ret = gnutls_credentials_set (self->session, GNUTLS_CRD_CERTIFICATE,
                                  self->credentials->xcred);
  if (ret >= 0)
    ret = gnutls_alpn_set_protocols (self->session, alpn, n_alpn, GNUTLS_ALPN_SERVER_PRECEDENCE);
  if (ret < 0)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE,
                   "cannot set up a TLS session: %s", gnutls_strerror (ret));
      mero_tls_free (self);
      return NULL;
    }
  /* The spec: servers MUST require client authentication. */
  if (role == MERO_TLS_ROLE_SERVER)
    gnutls_certificate_server_set_request (self->session, GNUTLS_CERT_REQUIRE);
  gnutls_session_set_ptr (self->session, self);
  gnutls_transport_set_ptr (self->session, self);
  gnutls_transport_set_push_function (self->session, push_func);
  gnutls_transport_set_pull_function (self->session, pull_func);
  gnutls_transport_set_pull_timeout_function (self->session, pull_timeout_func);
  /* The handshake deadline is the connection's, not GnuTLS's. */
  gnutls_handshake_set_timeout (self->session, 0);

  if (role == MERO_TLS_ROLE_CLIENT)
    {
      /* Writes the ClientHello and stops for lack of input. */
      ret = gnutls_handshake (self->session);
      if (ret < 0 && gnutls_error_is_fatal (ret))
        {
          g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE,
                       "TLS handshake could not start: %s", gnutls_strerror (ret));
          mero_tls_free (self);
          return NULL;
        }
    }
  return self;
}

void
mero_tls_free (MeroTls *self)
{
  if (self == NULL)
    return;
  if (self->session != NULL)
    gnutls_deinit (self->session);
  g_clear_pointer (&self->credentials, mero_tls_credentials_unref);
  g_clear_pointer (&self->expected_peer, mero_peer_id_free);
  g_clear_pointer (&self->remote_peer, mero_peer_id_free);
  g_clear_pointer (&self->in, g_byte_array_unref);
  g_clear_pointer (&self->out, g_byte_array_unref);
  g_clear_error (&self->verify_error);
  g_clear_error (&self->error);
  g_free (self->alpn);
  g_free (self);
}

static gboolean
report_failed (MeroTls *self, GError **error)
{
  if (error != NULL)
    *error = g_error_copy (self->error);
  return FALSE;
}

static gboolean
fail (MeroTls *self, GError **error, int ret, const char *when)
{
  if (self->verify_error != NULL)
    self->error = g_steal_pointer (&self->verify_error);
  else if (ret == GNUTLS_E_FATAL_ALERT_RECEIVED)
    self->error = g_error_new (MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE,
                               "%s: the peer sent a fatal alert (%s)", when,
                               gnutls_alert_get_name (gnutls_alert_get (self->session)));
  else
    self->error = g_error_new (MERO_TLS_ERROR, MERO_TLS_ERROR_HANDSHAKE, "%s: %s", when,
                               gnutls_strerror (ret));
  /* Tell the peer why, where TLS has an alert for it. */
  if (ret != GNUTLS_E_FATAL_ALERT_RECEIVED && ret != GNUTLS_E_PREMATURE_TERMINATION)
    gnutls_alert_send_appropriate (self->session, ret);
  self->state = MERO_TLS_STATE_FAILED;
  return report_failed (self, error);
}

static gboolean
finish_handshake (MeroTls *self, GError **error)
{
  gnutls_datum_t proto = { NULL, 0 };

  /* The verify callback ran and accepted, or there was no certificate. */
  if (self->remote_peer == NULL)
    {
      self->error = g_error_new (MERO_TLS_ERROR, MERO_TLS_ERROR_CERTIFICATE_COUNT,
                                 "TLS handshake finished without a verified peer certificate");
      gnutls_alert_send (self->session, GNUTLS_AL_FATAL, GNUTLS_A_CERTIFICATE_REQUIRED);
      self->state = MERO_TLS_STATE_FAILED;
      return report_failed (self, error);
    }
  if (gnutls_alpn_get_selected_protocol (self->session, &proto) == 0 && proto.size > 0)
    self->alpn = g_strndup ((const char *) proto.data, proto.size);
  self->state = MERO_TLS_STATE_ESTABLISHED;
  return TRUE;
}

gboolean
mero_tls_recv (MeroTls      *self,
               const guint8 *data,
               gsize         len,
               GByteArray   *plaintext,
               GError      **error)
{
  gboolean ok = TRUE;
  /* Non-fatal results that consume no input (warning alerts, ignored
   * post-handshake messages) may repeat; a peer gets this many per call. */
  guint non_fatal = 0;

  g_return_val_if_fail (self != NULL && plaintext != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);

  if (self->state == MERO_TLS_STATE_FAILED)
    return report_failed (self, error);
  /* Nothing held back from before: GnuTLS reads @data in place, and only
   * what it leaves (a record's start) is copied, below. */
  if (self->in_pos == self->in->len)
    {
      g_byte_array_set_size (self->in, 0);
      self->in_pos = 0;
      self->ext = data;
      self->ext_len = len;
      self->ext_pos = 0;
    }
  else
    g_byte_array_append (self->in, data, (guint) len);

  /* Bounded: every round consumes input, ends the loop or counts. */
  while (ok && self->state == MERO_TLS_STATE_HANDSHAKING)
    {
      int ret = gnutls_handshake (self->session);

      if (ret == 0)
        ok = finish_handshake (self, error);
      else if (ret == GNUTLS_E_AGAIN || ret == GNUTLS_E_INTERRUPTED)
        break;
      else if (gnutls_error_is_fatal (ret))
        ok = fail (self, error, ret, "TLS handshake failed");
      else if (!input_left (self) || ++non_fatal > MERO_TLS_MAX_NON_FATAL)
        break; /* a warning alert; continue when more arrives */
    }
  while (ok && self->state == MERO_TLS_STATE_ESTABLISHED)
    {
      /* Decrypted straight into @plaintext, not through a buffer here. */
      guint before = plaintext->len;
      ssize_t n;

      g_byte_array_set_size (plaintext, before + MERO_TLS_MAX_RECORD_PLAINTEXT);
      n = gnutls_record_recv (self->session, plaintext->data + before,
                              MERO_TLS_MAX_RECORD_PLAINTEXT);
      g_byte_array_set_size (plaintext, before + (guint) MAX (n, 0));
      if (n > 0)
        continue;
      else if (n == 0)
        {
          self->error = g_error_new (MERO_TLS_ERROR, MERO_TLS_ERROR_CLOSED,
                                     "the peer closed the TLS session");
          self->state = MERO_TLS_STATE_FAILED;
          ok = report_failed (self, error);
        }
      else if (n == GNUTLS_E_AGAIN || n == GNUTLS_E_INTERRUPTED)
        break;
      else if (gnutls_error_is_fatal ((int) n))
        ok = fail (self, error, (int) n, "TLS record");
      else if (!input_left (self) || ++non_fatal > MERO_TLS_MAX_NON_FATAL)
        break;
    }
  g_byte_array_remove_range (self->in, 0, (guint) self->in_pos);
  self->in_pos = 0;
  if (self->ext_pos < self->ext_len)
    g_byte_array_append (self->in, self->ext + self->ext_pos, (guint) (self->ext_len - self->ext_pos));
  self->ext = NULL;
  self->ext_len = self->ext_pos = 0;
  return ok;
}

GBytes *
mero_tls_pull_send (MeroTls *self)
{
  GBytes *out;

  g_return_val_if_fail (self != NULL, NULL);

  if (self->out->len == 0)
    return NULL;
  out = g_byte_array_free_to_bytes (g_steal_pointer (&self->out));
  self->out = g_byte_array_new ();
  return out;
}

gboolean
mero_tls_wants_send (const MeroTls *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->out->len > 0;
}

gboolean
mero_tls_write (MeroTls *self, const guint8 *data, gsize len, GError **error)
{
  gsize off = 0;

  g_return_val_if_fail (self != NULL && (data != NULL || len == 0), FALSE);

  if (self->state == MERO_TLS_STATE_FAILED)
    return report_failed (self, error);
  if (self->state != MERO_TLS_STATE_ESTABLISHED)
    {
      g_set_error (error, MERO_TLS_ERROR, MERO_TLS_ERROR_STATE,
                   "TLS session is not established yet");
      return FALSE;
    }
  while (off < len)
    {
      ssize_t n = gnutls_record_send (self->session, data + off,
                                      MIN (len - off, MERO_TLS_MAX_RECORD_PLAINTEXT));

      /* Pushing to memory never blocks, so AGAIN is an error too. */
      if (n <= 0)
        return fail (self, error, (int) n, "TLS write");
      off += (gsize) n;
    }
  return TRUE;
}

gboolean
mero_tls_write_into (MeroTls *self, const guint8 *data, gsize len, GByteArray *out,
                     GError **error)
{
  GByteArray *queue;
  gboolean ok;

  g_return_val_if_fail (self != NULL && out != NULL, FALSE);

  /* push_func appends wherever self->out points: here, @out. */
  queue = self->out;
  self->out = out;
  ok = mero_tls_write (self, data, len, error);
  self->out = queue;
  return ok;
}

MeroTlsState
mero_tls_get_state (const MeroTls *self)
{
  g_return_val_if_fail (self != NULL, MERO_TLS_STATE_FAILED);

  return self->state;
}

const MeroPeerId *
mero_tls_get_remote_peer (const MeroTls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->state == MERO_TLS_STATE_ESTABLISHED ? self->remote_peer : NULL;
}

const char *
mero_tls_get_alpn (const MeroTls *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->alpn;
}
