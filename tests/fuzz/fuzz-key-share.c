/* Fuzz target: what a key-share (/calimero/stream/key/1) peer sends.
 *  - every frame the plugin's codec decodes re-encodes to a frame that
 *    it decodes to the same message, and that the host's protobuf codec
 *    (mero_stream_msg_decode) reads as the same message: the two codecs
 *    agree on every message the plugin writes;
 *  - the input fed to a requester and to a server, in one piece and
 *    split in two, never crashes either; a requester only ends DONE
 *    having installed a key it asked for, and a server never answers
 *    with more keys than were asked for.
 * The key services are a small real implementation over libsodium
 * (sealed boxes to this harness's own key pair). */
#include <sodium.h>
#include <string.h>

#include "fuzz-target.h"
#include "key-share-core.h"
#include "key-share-wire.h"
#include "node/mero-broadcast.h"
#include "plugin/mero-host-services.h"

const MeroPluginDescriptor *mero_plugin_key_share_get_descriptor (void);

#define MEMBER "member"

typedef struct {
  uint8_t pk[crypto_box_PUBLICKEYBYTES];
  uint8_t sk[crypto_box_SECRETKEYBYTES];
  uint8_t key_id[32];
  uint8_t key[32];
  guint installed;
} Keys;

static gboolean
seal_for_peer (MeroKeyHandle *handle, const uint8_t group_id[32], const char *peer,
               const uint8_t key_id[32], uint8_t sealed[MERO_KEY_SEALED_LEN], gboolean *found,
               GError **error)
{
  Keys *k = (Keys *) handle;

  *found = FALSE;
  if (g_strcmp0 (peer, MEMBER) != 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, "not a member");
      return FALSE;
    }
  if (memcmp (key_id, k->key_id, 32) != 0)
    return TRUE;
  crypto_box_seal (sealed, k->key, 32, k->pk);
  *found = TRUE;
  return TRUE;
}

static gboolean
open_install (MeroKeyHandle *handle, const uint8_t group_id[32], const uint8_t key_id[32],
              const uint8_t sealed[MERO_KEY_SEALED_LEN], GError **error)
{
  Keys *k = (Keys *) handle;
  uint8_t key[32];

  if (crypto_box_seal_open (key, sealed, MERO_KEY_SEALED_LEN, k->pk, k->sk) != 0
      || memcmp (key_id, k->key_id, 32) != 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL, "does not open");
      return FALSE;
    }
  k->installed++;
  return TRUE;
}

static const MeroKeyAccess fuzz_keys = {
  .struct_size = sizeof (MeroKeyAccess),
  .seal_for_peer = seal_for_peer,
  .open_install = open_install,
};

static void
check_roundtrip (const uint8_t *data, size_t size)
{
  KeyShareMsg m, again;
  const char *reason = NULL;
  size_t used = 0, used2 = 0;
  g_autoptr (GBytes) out = NULL;
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (GBytes) body = NULL;
  g_autoptr (MeroStreamMsg) host = NULL;
  const uint8_t *o;
  size_t olen;

  if (key_share_wire_decode (data, size, &used, &m, &reason, NULL) != KEY_SHARE_DECODE_OK)
    return;
  g_assert_cmpuint (used, <=, size);
  if (m.kind == KEY_SHARE_MSG_REQUEST)
    out = key_share_wire_encode_request (m.group_id, m.key_ids, m.n_keys);
  else if (m.kind == KEY_SHARE_MSG_RESPONSE)
    out = key_share_wire_encode_response (m.group_id, m.sealed, m.n_keys);
  else
    out = key_share_wire_encode_error (m.reason);
  o = g_bytes_get_data (out, &olen);
  g_assert_cmpint (key_share_wire_decode (o, olen, &used2, &again, &reason, NULL), ==,
                   KEY_SHARE_DECODE_OK);
  g_assert_cmpuint (used2, ==, olen);
  g_assert_cmpint (again.kind, ==, m.kind);
  g_assert_cmpuint (again.n_keys, ==, m.n_keys);
  /* The host's codec reads what the plugin wrote as the same message. */
  g_byte_array_append (buf, o, (guint) olen);
  g_assert_true (mero_stream_frame_pop (buf, &body, NULL));
  g_assert_nonnull (body);
  host = mero_stream_msg_decode (g_bytes_get_data (body, NULL), g_bytes_get_size (body), NULL);
  g_assert_nonnull (host);
  if (m.kind == KEY_SHARE_MSG_REQUEST)
    {
      g_assert_cmpint (host->kind, ==, MERO_STREAM_KEY_REQUEST);
      g_assert_cmpmem (host->id, 32, m.group_id, 32);
      g_assert_cmpuint (host->ids->len, ==, m.n_keys);
      g_assert_true (m.n_keys == 0 || memcmp (host->ids->data, m.key_ids, 32 * m.n_keys) == 0);
    }
  else if (m.kind == KEY_SHARE_MSG_RESPONSE)
    {
      g_assert_cmpint (host->kind, ==, MERO_STREAM_KEY_RESPONSE);
      g_assert_cmpmem (host->id, 32, m.group_id, 32);
      g_assert_cmpuint (host->keys->len, ==, m.n_keys);
      for (size_t i = 0; i < m.n_keys; i++)
        {
          const MeroStreamSealedKey *hk = &g_array_index (host->keys, MeroStreamSealedKey, i);

          g_assert_cmpmem (hk->key_id, 32, m.sealed[i].key_id, 32);
          g_assert_cmpmem (hk->sealed, MERO_KEY_SEALED_LEN, m.sealed[i].sealed,
                           MERO_KEY_SEALED_LEN);
        }
    }
  else
    {
      g_assert_cmpint (host->kind, ==, MERO_STREAM_ERROR);
      g_assert_cmpstr (host->reason, ==, m.reason);
    }
  key_share_msg_clear (&again);
  key_share_msg_clear (&m);
}

static void
run (const MeroHostServices *host, void *plugin_data, Keys *keys, MeroSyncRole role,
     const uint8_t *data, size_t size, size_t split)
{
  const MeroPluginDescriptor *d = mero_plugin_key_share_get_descriptor ();
  const MeroSyncProtocolVTable *vt = d->vtable;
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  MeroSyncSession *s;
  GBytes *b;
  guint answers = 0;

  params.role = role;
  params.peer_id = MEMBER;
  params.now_us = 1;
  params.keys = (MeroKeyHandle *) keys;
  params.key_ids = keys->key_id;
  params.n_key_ids = 1;
  keys->installed = 0;
  s = vt->session_new (plugin_data, &params, NULL);
  g_assert_nonnull (s);
  vt->recv (s, data, split, 2, NULL);
  if (vt->status (s) == MERO_SYNC_STATUS_RUNNING)
    vt->recv (s, data + split, size - split, 3, NULL);
  while ((b = vt->pull_send (s)) != NULL)
    {
      if (role == MERO_SYNC_ROLE_RESPONDER)
        {
          KeyShareMsg m;
          const char *reason = NULL;
          size_t used = 0;

          /* What the server says is always a well-formed message. */
          g_assert_cmpint (key_share_wire_decode (g_bytes_get_data (b, NULL), g_bytes_get_size (b),
                                                  &used, &m, &reason, NULL),
                           ==, KEY_SHARE_DECODE_OK);
          g_assert_cmpuint (m.n_keys, <=, 1 + KEY_SHARE_MAX_KEYS);
          key_share_msg_clear (&m);
          answers++;
        }
      g_bytes_unref (b);
    }
  if (role == MERO_SYNC_ROLE_INITIATOR && vt->status (s) == MERO_SYNC_STATUS_DONE)
    g_assert_cmpuint (keys->installed, >, 0);
  if (role == MERO_SYNC_ROLE_RESPONDER)
    g_assert_cmpuint (answers, <=, 1);
  vt->handle_deadline (s, G_MAXINT64 - 1, NULL);
  g_assert_cmpint (vt->status (s), !=, MERO_SYNC_STATUS_RUNNING);
  vt->session_free (s);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  static MeroHostServices *host;
  static void *plugin_data;
  static Keys keys;

  if (host == NULL)
    {
      const MeroPluginDescriptor *d = mero_plugin_key_share_get_descriptor ();

      if (sodium_init () < 0)
        return 0;
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      host = mero_host_services_new (d->name, d->kind, NULL, NULL);
      /* Our own key services, not the node's. */
      host->keys = &fuzz_keys;
      d->init (host, &plugin_data, NULL);
      crypto_box_keypair (keys.pk, keys.sk);
      memset (keys.key_id, 0x11, 32);
      memset (keys.key, 0x22, 32);
    }
  check_roundtrip (data, size);
  run (host, plugin_data, &keys, MERO_SYNC_ROLE_INITIATOR, data, size, size);
  run (host, plugin_data, &keys, MERO_SYNC_ROLE_RESPONDER, data, size, size);
  run (host, plugin_data, &keys, MERO_SYNC_ROLE_INITIATOR, data, size, size / 2);
  run (host, plugin_data, &keys, MERO_SYNC_ROLE_RESPONDER, data, size, size / 2);
  return 0;
}
