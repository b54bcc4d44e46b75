/* mero-identify.c: Identify protobuf through protobuf-c, with the bounds
 * of mero-net-limits.h applied before anything is kept. */
#include "net/core/mero-identify.h"

#include <string.h>

#include "identify.pb-c.h"
#include "net/core/mero-multistream.h"

G_DEFINE_QUARK (mero-identify-error-quark, mero_identify_error)

static void
identify_pb_free (Identify *msg)
{
  if (msg != NULL)
    identify__free_unpacked (msg, NULL);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Identify, identify_pb_free)

MeroIdentifyInfo *
mero_identify_info_new (void)
{
  MeroIdentifyInfo *info = g_new0 (MeroIdentifyInfo, 1);

  info->listen_addrs = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_multiaddr_free);
  info->protocols = g_new0 (char *, 1);
  return info;
}

void
mero_identify_info_free (MeroIdentifyInfo *info)
{
  if (info == NULL)
    return;
  g_clear_pointer (&info->public_key, g_bytes_unref);
  g_clear_pointer (&info->listen_addrs, g_ptr_array_unref);
  g_clear_pointer (&info->protocols, g_strfreev);
  g_clear_pointer (&info->observed_addr, mero_multiaddr_free);
  g_clear_pointer (&info->protocol_version, g_free);
  g_clear_pointer (&info->agent_version, g_free);
  g_free (info);
}

GBytes *
mero_identify_info_encode (const MeroIdentifyInfo *info)
{
  Identify msg = IDENTIFY__INIT;
  g_autofree ProtobufCBinaryData *addrs = NULL;
  g_autoptr(GBytes) observed = NULL;
  guint n_addrs, n_protocols;
  guint8 *buf;
  gsize len;

  g_return_val_if_fail (info != NULL, NULL);

  if (info->public_key != NULL)
    {
      msg.has_publickey = TRUE;
      msg.publickey.data = (guint8 *) g_bytes_get_data (info->public_key, &msg.publickey.len);
    }
  n_addrs = MIN (info->listen_addrs->len, MERO_IDENTIFY_MAX_ADDRS);
  addrs = g_new0 (ProtobufCBinaryData, n_addrs + 1);
  for (guint i = 0; i < n_addrs; i++)
    {
      GBytes *b = mero_multiaddr_get_bytes (g_ptr_array_index (info->listen_addrs, i));

      addrs[i].data = (guint8 *) g_bytes_get_data (b, &addrs[i].len);
    }
  msg.n_listenaddrs = n_addrs;
  msg.listenaddrs = addrs;
  n_protocols = MIN (g_strv_length (info->protocols), MERO_IDENTIFY_MAX_PROTOCOLS);
  msg.n_protocols = n_protocols;
  msg.protocols = info->protocols;
  if (info->observed_addr != NULL)
    {
      GBytes *b = mero_multiaddr_get_bytes (info->observed_addr);

      msg.has_observedaddr = TRUE;
      msg.observedaddr.data = (guint8 *) g_bytes_get_data (b, &msg.observedaddr.len);
    }
  msg.protocolversion = info->protocol_version;
  msg.agentversion = info->agent_version;

  len = identify__get_packed_size (&msg);
  buf = g_malloc (len);
  identify__pack (&msg, buf);
  return g_bytes_new_take (buf, len);
}

static gboolean
check_version (const char *value, const char *what, GError **error)
{
  if (value != NULL && strlen (value) > MERO_IDENTIFY_MAX_VERSION_STRING)
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE,
                   "identify %s longer than %u bytes", what, MERO_IDENTIFY_MAX_VERSION_STRING);
      return FALSE;
    }
  if (value != NULL && !g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_MALFORMED,
                   "identify %s is not UTF-8", what);
      return FALSE;
    }
  return TRUE;
}

MeroIdentifyInfo *
mero_identify_info_decode (const guint8 *data, gsize len, GError **error)
{
  g_autoptr(Identify) msg = NULL;
  g_autoptr(MeroIdentifyInfo) info = NULL;
  g_autoptr(GStrvBuilder) protocols = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > MERO_IDENTIFY_MAX_MESSAGE)
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE,
                   "identify message of %zu bytes (at most %u)", len, MERO_IDENTIFY_MAX_MESSAGE);
      return NULL;
    }
  msg = identify__unpack (NULL, len, data != NULL ? data : (const guint8 *) "");
  if (msg == NULL)
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_MALFORMED,
                   "identify message is not a valid protobuf");
      return NULL;
    }
  if (msg->n_listenaddrs > MERO_IDENTIFY_MAX_ADDRS || msg->n_protocols > MERO_IDENTIFY_MAX_PROTOCOLS)
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_TOO_LARGE,
                   "identify lists %zu addresses and %zu protocols (at most %u and %u)",
                   msg->n_listenaddrs, msg->n_protocols, MERO_IDENTIFY_MAX_ADDRS,
                   MERO_IDENTIFY_MAX_PROTOCOLS);
      return NULL;
    }
  if (!check_version (msg->protocolversion, "protocolVersion", error) ||
      !check_version (msg->agentversion, "agentVersion", error))
    return NULL;

  info = mero_identify_info_new ();
  if (msg->has_publickey)
    info->public_key = g_bytes_new (msg->publickey.data, msg->publickey.len);
  for (gsize i = 0; i < msg->n_listenaddrs; i++)
    {
      MeroMultiaddr *addr = mero_multiaddr_new_from_bytes (msg->listenaddrs[i].data,
                                                           msg->listenaddrs[i].len, NULL);

      if (addr != NULL)
        g_ptr_array_add (info->listen_addrs, addr);
      else
        info->n_skipped_addrs++;
    }
  protocols = g_strv_builder_new ();
  for (gsize i = 0; i < msg->n_protocols; i++)
    {
      g_autoptr(GByteArray) line = g_byte_array_new ();

      /* Each entry must be something multistream-select could carry. */
      if (!mero_multistream_encode_line (line, msg->protocols[i]))
        {
          g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_MALFORMED,
                       "identify protocol %zu is not a valid protocol id", i);
          return NULL;
        }
      g_strv_builder_add (protocols, msg->protocols[i]);
    }
  g_strfreev (info->protocols);
  info->protocols = g_strv_builder_end (protocols);
  if (msg->has_observedaddr)
    {
      /* An address we cannot parse is only advisory: drop it. */
      info->observed_addr = mero_multiaddr_new_from_bytes (msg->observedaddr.data,
                                                           msg->observedaddr.len, NULL);
    }
  info->protocol_version = g_strdup (msg->protocolversion);
  info->agent_version = g_strdup (msg->agentversion);
  return g_steal_pointer (&info);
}

gboolean
mero_identify_info_verify_peer (const MeroIdentifyInfo *info,
                                const MeroPeerId       *peer,
                                GError                **error)
{
  g_autoptr(MeroPeerId) claimed = NULL;
  gsize len;
  const guint8 *key;

  g_return_val_if_fail (info != NULL && peer != NULL, FALSE);

  if (info->public_key == NULL)
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_NO_PUBLIC_KEY,
                   "identify reply carries no publicKey");
      return FALSE;
    }
  key = g_bytes_get_data (info->public_key, &len);
  claimed = mero_peer_id_new_from_public_key (key, len);
  if (claimed == NULL || !mero_peer_id_equal (claimed, peer))
    {
      g_set_error (error, MERO_IDENTIFY_ERROR, MERO_IDENTIFY_ERROR_PEER_MISMATCH,
                   "identify publicKey does not belong to the connection's peer");
      return FALSE;
    }
  return TRUE;
}

void
mero_identify_info_merge_push (MeroIdentifyInfo *dst, const MeroIdentifyInfo *push)
{
  g_return_if_fail (dst != NULL && push != NULL);

  if (push->public_key != NULL)
    {
      g_clear_pointer (&dst->public_key, g_bytes_unref);
      dst->public_key = g_bytes_ref (push->public_key);
    }
  if (push->listen_addrs->len > 0)
    {
      g_ptr_array_set_size (dst->listen_addrs, 0);
      for (guint i = 0; i < push->listen_addrs->len; i++)
        {
          GBytes *b = mero_multiaddr_get_bytes (g_ptr_array_index (push->listen_addrs, i));
          gsize len;
          const guint8 *data = g_bytes_get_data (b, &len);

          g_ptr_array_add (dst->listen_addrs, mero_multiaddr_new_from_bytes (data, len, NULL));
        }
    }
  if (push->protocols[0] != NULL)
    {
      g_strfreev (dst->protocols);
      dst->protocols = g_strdupv (push->protocols);
    }
  if (push->observed_addr != NULL)
    {
      GBytes *b = mero_multiaddr_get_bytes (push->observed_addr);
      gsize len;
      const guint8 *data = g_bytes_get_data (b, &len);

      g_clear_pointer (&dst->observed_addr, mero_multiaddr_free);
      dst->observed_addr = mero_multiaddr_new_from_bytes (data, len, NULL);
    }
  if (push->protocol_version != NULL)
    {
      g_free (dst->protocol_version);
      dst->protocol_version = g_strdup (push->protocol_version);
    }
  if (push->agent_version != NULL)
    {
      g_free (dst->agent_version);
      dst->agent_version = g_strdup (push->agent_version);
    }
}
