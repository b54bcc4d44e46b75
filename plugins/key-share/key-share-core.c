/* key-share-core.c: see key-share-core.h. */
#include "key-share-core.h"

#include <string.h>

#include "key-share-wire.h"

struct _KeyShareSession {
  KeyShareConfig config;
  const MeroKeyAccess *keys;
  MeroKeyHandle *handle;
  MeroSyncRole role;
  MeroSyncStatus status;
  MeroSyncSessionStats stats;
  char *peer_id;
  GByteArray *inbuf;
  GQueue outq;                  /* GBytes, whole frames */
  int64_t deadline;

  /* Initiator. */
  uint8_t group_id[KEY_SHARE_ID_LEN];
  uint8_t *key_ids;             /* n_key_ids x 32: what was asked for */
  size_t n_key_ids;
  guint installed;
};

static void
count (KeyShareSession *s, const char *metric, const char *reason)
{
  g_autofree char *labels = NULL;

  if (s->config.host == NULL || s->config.host->counter_add == NULL)
    return;
  labels = g_strdup_printf ("protocol=\"" KEY_SHARE_PROTOCOL_LABEL "\",reason=\"%s\"", reason);
  s->config.host->counter_add (s->config.host, metric, labels, 1);
}

static const char *
role_name (KeyShareSession *s)
{
  return s->role == MERO_SYNC_ROLE_INITIATOR ? "requester" : "server";
}

/* Ends the session: counted in mero_sync_failures_total{reason}, logged,
 * reported through @error.  Returns FALSE for the caller to return. */
static gboolean G_GNUC_PRINTF (5, 6)
fail (KeyShareSession *s, GError **error, int code, const char *reason, const char *format, ...)
{
  g_autofree char *msg = NULL;
  va_list ap;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  if (s->status == MERO_SYNC_STATUS_RUNNING)
    {
      s->status = MERO_SYNC_STATUS_FAILED;
      count (s, "mero_sync_failures_total", reason);
      /* Info, not warning: a peer can cause it at will. */
      mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                       "%s session with %s failed (%s): %s", role_name (s), s->peer_id, reason,
                       msg);
    }
  g_set_error_literal (error, MERO_SYNC_ERROR, code, msg);
  return FALSE;
}

static void
queue (KeyShareSession *s, GBytes *frame)
{
  s->stats.messages_sent++;
  s->stats.bytes_sent += g_bytes_get_size (frame);
  g_queue_push_tail (&s->outq, frame);
}

uint64_t
key_share_cost (const KeyShareConfig *config, const MeroSyncHandshake *local,
                const MeroSyncHandshake *remote)
{
  /* Keys are fetched when the node needs one, never as a state sync. */
  return MERO_SYNC_COST_NOT_APPLICABLE;
}

KeyShareSession *
key_share_session_new (const KeyShareConfig *config, const MeroSyncSessionParams *params,
                       GError **error)
{
  const MeroHostServices *host = config->host;
  const MeroKeyAccess *keys = host != NULL && MERO_HOST_SERVICES_HAS (host, keys) ? host->keys
                                                                                  : NULL;
  KeyShareSession *s;

  if (keys == NULL || !MERO_KEY_ACCESS_HAS (keys, open_install)
      || !MERO_SYNC_SESSION_PARAMS_HAS (params, n_key_ids) || params->keys == NULL)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "%s needs the host's key access (SDK 1.1) and a key handle", config->name);
      return NULL;
    }
  if (params->role == MERO_SYNC_ROLE_INITIATOR
      && (params->n_key_ids == 0 || params->n_key_ids > KEY_SHARE_MAX_KEYS
          || params->key_ids == NULL))
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "a key request names 1 to %u key ids", KEY_SHARE_MAX_KEYS);
      return NULL;
    }
  s = g_new0 (KeyShareSession, 1);
  s->config = *config;
  s->keys = keys;
  s->handle = params->keys;
  s->role = params->role;
  s->peer_id = g_strdup (params->peer_id != NULL ? params->peer_id : "?");
  s->inbuf = g_byte_array_new ();
  g_queue_init (&s->outq);
  s->deadline = params->now_us + KEY_SHARE_SESSION_TIMEOUT_US;
  if (s->role == MERO_SYNC_ROLE_INITIATOR)
    {
      memcpy (s->group_id, params->context_id, KEY_SHARE_ID_LEN);
      s->key_ids = g_memdup2 (params->key_ids, params->n_key_ids * KEY_SHARE_ID_LEN);
      s->n_key_ids = params->n_key_ids;
      queue (s, key_share_wire_encode_request (s->group_id, s->key_ids, s->n_key_ids));
    }
  return s;
}

void
key_share_session_free (KeyShareSession *s)
{
  if (s == NULL)
    return;
  g_byte_array_unref (s->inbuf);
  g_queue_clear_full (&s->outq, (GDestroyNotify) g_bytes_unref);
  g_free (s->key_ids);
  g_free (s->peer_id);
  g_free (s);
}

static gboolean
asked_for (KeyShareSession *s, const uint8_t key_id[KEY_SHARE_ID_LEN])
{
  for (size_t i = 0; i < s->n_key_ids; i++)
    if (memcmp (s->key_ids + i * KEY_SHARE_ID_LEN, key_id, KEY_SHARE_ID_LEN) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
initiator_handle (KeyShareSession *s, const KeyShareMsg *m, GError **error)
{
  if (m->kind == KEY_SHARE_MSG_ERROR)
    return fail (s, error, MERO_SYNC_ERROR_REFUSED, "refused", "the server refused: %s",
                 m->reason);
  if (m->kind != KEY_SHARE_MSG_RESPONSE)
    return fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "a request sent to the requester");
  if (memcmp (m->group_id, s->group_id, KEY_SHARE_ID_LEN) != 0)
    return fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "wrong-group",
                 "an answer for another group");
  for (size_t i = 0; i < m->n_keys; i++)
    {
      g_autoptr (GError) local = NULL;

      /* Only what we asked for: a server does not get to plant keys. */
      if (!asked_for (s, m->sealed[i].key_id))
        {
          count (s, "mero_sync_refusals_total", "unrequested-key");
          continue;
        }
      if (!s->keys->open_install (s->handle, s->group_id, m->sealed[i].key_id,
                                  m->sealed[i].sealed, &local))
        {
          count (s, "mero_sync_refusals_total", "unopened");
          mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                           "a key from %s not installed: %s", s->peer_id, local->message);
          continue;
        }
      s->installed++;
    }
  if (s->installed == 0)
    return fail (s, error, MERO_SYNC_ERROR_FAILED, "no-key",
                 "%s had none of the %" G_GSIZE_FORMAT " keys asked for (or none opened)",
                 s->peer_id, s->n_key_ids);
  s->stats.entities_transferred += s->installed;
  s->status = MERO_SYNC_STATUS_DONE;
  return TRUE;
}

static gboolean
responder_handle (KeyShareSession *s, const KeyShareMsg *m, GError **error)
{
  g_autofree KeyShareSealed *out = NULL;
  size_t n = 0;

  if (m->kind != KEY_SHARE_MSG_REQUEST)
    {
      queue (s, key_share_wire_encode_error ("wrong request for protocol"));
      return fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol", "not a key request");
    }
  out = g_new0 (KeyShareSealed, MAX (m->n_keys, 1));
  for (size_t i = 0; i < m->n_keys; i++)
    {
      g_autoptr (GError) local = NULL;
      gboolean found = FALSE;
      const uint8_t *key_id = m->key_ids + i * KEY_SHARE_ID_LEN;

      if (!s->keys->seal_for_peer (s->handle, m->group_id, s->peer_id, key_id, out[n].sealed,
                                   &found, &local))
        {
          if (g_error_matches (local, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED))
            {
              /* The same answer the host gave before this plugin. */
              count (s, "mero_sync_refusals_total",
                     g_str_equal (local->message, "unknown group") ? "unknown-group"
                                                                   : "not-a-member");
              mero_plugin_log (s->config.host, MERO_LOG_LEVEL_INFO, s->config.name,
                               "key request from %s refused: %s", s->peer_id, local->message);
              queue (s, key_share_wire_encode_error (local->message));
              s->status = MERO_SYNC_STATUS_DONE;
              return TRUE;
            }
          queue (s, key_share_wire_encode_error ("internal error"));
          return fail (s, error, MERO_SYNC_ERROR_STATE, "state", "sealing a key: %s",
                       local->message);
        }
      if (!found)
        continue;
      memcpy (out[n].key_id, key_id, KEY_SHARE_ID_LEN);
      n++;
    }
  /* An empty request still learns whether it is a member (the host's
   * check runs once per key): check with no key asked. */
  if (m->n_keys == 0)
    {
      g_autoptr (GError) local = NULL;
      static const uint8_t no_key[KEY_SHARE_ID_LEN];
      uint8_t scratch[MERO_KEY_SEALED_LEN];
      gboolean found = FALSE;

      if (!s->keys->seal_for_peer (s->handle, m->group_id, s->peer_id, no_key, scratch, &found,
                                   &local))
        {
          count (s, "mero_sync_refusals_total",
                 g_str_equal (local->message, "unknown group") ? "unknown-group" : "not-a-member");
          queue (s, key_share_wire_encode_error (local->message));
          s->status = MERO_SYNC_STATUS_DONE;
          return TRUE;
        }
    }
  s->stats.entities_transferred += n;
  queue (s, key_share_wire_encode_response (m->group_id, out, n));
  s->status = MERO_SYNC_STATUS_DONE;
  return TRUE;
}

gboolean
key_share_session_recv (KeyShareSession *s, const uint8_t *data, size_t len, int64_t now_us,
                        GError **error)
{
  KeyShareMsg m;
  g_autoptr (GError) local = NULL;
  const char *reason = NULL;
  size_t used = 0;
  KeyShareDecode r;
  gboolean ok;

  if (s->status != MERO_SYNC_STATUS_RUNNING)
    {
      if (len == 0)
        return TRUE;
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                   "bytes after the session ended");
      return FALSE;
    }
  if (now_us >= s->deadline)
    return key_share_session_handle_deadline (s, now_us, error);
  s->stats.bytes_received += len;
  g_byte_array_append (s->inbuf, data, (guint) len);
  r = key_share_wire_decode (s->inbuf->data, s->inbuf->len, &used, &m, &reason, &local);
  if (r == KEY_SHARE_DECODE_NEED_MORE)
    return TRUE;
  if (r == KEY_SHARE_DECODE_ERROR)
    {
      if (s->role == MERO_SYNC_ROLE_RESPONDER)
        queue (s, key_share_wire_encode_error ("malformed request"));
      count (s, "mero_sync_refusals_total", reason);
      return fail (s, error, local->code, reason, "%s", local->message);
    }
  /* One message each way: anything after it is not this protocol. */
  if (used != s->inbuf->len)
    {
      key_share_msg_clear (&m);
      return fail (s, error, MERO_SYNC_ERROR_PROTOCOL, "protocol",
                   "bytes after the one message of the exchange");
    }
  s->stats.messages_received++;
  s->stats.round_trips = 1;
  ok = s->role == MERO_SYNC_ROLE_INITIATOR ? initiator_handle (s, &m, error)
                                           : responder_handle (s, &m, error);
  key_share_msg_clear (&m);
  return ok;
}

GBytes *
key_share_session_pull_send (KeyShareSession *s)
{
  return g_queue_pop_head (&s->outq);
}

int64_t
key_share_session_next_deadline (KeyShareSession *s)
{
  return s->status == MERO_SYNC_STATUS_RUNNING ? s->deadline : MERO_SYNC_NO_DEADLINE;
}

gboolean
key_share_session_handle_deadline (KeyShareSession *s, int64_t now_us, GError **error)
{
  if (s->status != MERO_SYNC_STATUS_RUNNING || now_us < s->deadline)
    return TRUE;
  return fail (s, error, MERO_SYNC_ERROR_TIMEOUT, "timeout",
               "no complete message within KEY_SHARE_SESSION_TIMEOUT_US");
}

MeroSyncStatus
key_share_session_status (KeyShareSession *s)
{
  return s->status;
}

void
key_share_session_get_stats (KeyShareSession *s, MeroSyncSessionStats *out)
{
  *out = s->stats;
}

guint
key_share_session_installed (KeyShareSession *s)
{
  return s->installed;
}
