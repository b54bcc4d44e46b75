/* mero-mdns.c: libp2p mDNS discovery state machine (see the header). */
#include "net/core/mero-mdns.h"

#include <string.h>

#include "net/core/mero-mdns-message.h"
#include "net/core/mero-multiaddr.h"
#include "net/mero-peer-id.h"

G_DEFINE_QUARK (mero-mdns-error-quark, mero_mdns_error)

#define DNSADDR_PREFIX "dnsaddr="

typedef struct
{
  char *peer_id;
  GStrv addrs;           /* sorted, so sets compare with one walk */
  gint64 expires_at;
  gint64 last_reported;
} Entry;

typedef struct
{
  guint iface;
  gint64 at;
} Responded;

struct _MeroMdns
{
  char *peer_id;
  char *instance;        /* <peer-name>._p2p._udp.local */
  gint64 query_interval_us;
  guint max_peers;
  gint64 next_query;     /* G_MININT64: at once */
  GHashTable *peers;     /* peer id → Entry */
  GQueue discovered;     /* MeroMdnsPeer */
  Responded responded[MERO_MDNS_MAX_INTERFACES];
  guint n_responded;
  MeroMdnsStats stats;
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->peer_id);
  g_strfreev (e->addrs);
  g_free (e);
}

void
mero_mdns_peer_free (MeroMdnsPeer *peer)
{
  if (peer == NULL)
    return;
  g_free (peer->peer_id);
  g_strfreev (peer->addrs);
  g_free (peer);
}

static gboolean
valid_peer_name (const char *name)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len < MERO_MDNS_MIN_PEER_NAME || len > MERO_MDNS_MAX_PEER_NAME)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_islower (name[i]) && !g_ascii_isdigit (name[i]))
      return FALSE;
  return TRUE;
}

MeroMdns *
mero_mdns_new (const MeroMdnsConfig *config, GError **error)
{
  g_autoptr (MeroPeerId) peer = NULL;
  MeroMdns *self;

  g_return_val_if_fail (config != NULL, NULL);

  if (config->peer_id == NULL || (peer = mero_peer_id_parse (config->peer_id, NULL)) == NULL)
    {
      g_set_error (error, MERO_MDNS_ERROR, MERO_MDNS_ERROR_CONFIG, "mDNS: bad peer id");
      return NULL;
    }
  if (!valid_peer_name (config->peer_name))
    {
      g_set_error (error, MERO_MDNS_ERROR, MERO_MDNS_ERROR_CONFIG,
                   "mDNS: the peer name must be %u to %u characters of a-z and 0-9",
                   MERO_MDNS_MIN_PEER_NAME, MERO_MDNS_MAX_PEER_NAME);
      return NULL;
    }
  self = g_new0 (MeroMdns, 1);
  self->peer_id = mero_peer_id_to_string (peer);
  self->instance = g_strconcat (config->peer_name, ".", MERO_MDNS_SERVICE, NULL);
  self->query_interval_us = config->query_interval_us > 0 ? config->query_interval_us
                                                          : MERO_MDNS_DEFAULT_QUERY_INTERVAL_US;
  self->max_peers = config->max_peers > 0 ? config->max_peers : MERO_MDNS_DEFAULT_MAX_PEERS;
  self->next_query = G_MININT64;
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, entry_free);
  g_queue_init (&self->discovered);
  return self;
}

void
mero_mdns_free (MeroMdns *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->peers);
  g_queue_clear_full (&self->discovered, (GDestroyNotify) mero_mdns_peer_free);
  g_free (self->peer_id);
  g_free (self->instance);
  g_free (self);
}

gint64
mero_mdns_next_deadline (const MeroMdns *self)
{
  gint64 next = self->next_query;
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    next = MIN (next, ((Entry *) value)->expires_at);
  return next;
}

static guint
expire_peers (MeroMdns *self, gint64 now)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    if (((Entry *) value)->expires_at <= now)
      {
        g_hash_table_iter_remove (&iter);
        n++;
      }
  self->stats.peers_expired += n;
  return n;
}

GBytes *
mero_mdns_handle_timeout (MeroMdns *self, gint64 now)
{
  g_autoptr (MeroDnsMessage) query = NULL;
  GBytes *bytes;

  g_return_val_if_fail (self != NULL, NULL);

  expire_peers (self, now);
  if (self->next_query != G_MININT64 && now < self->next_query)
    return NULL;
  self->next_query = now + self->query_interval_us;
  query = mero_dns_message_new ();
  mero_dns_message_add_question (query, MERO_MDNS_SERVICE, MERO_DNS_TYPE_PTR);
  bytes = mero_dns_message_encode (query, NULL);
  g_assert (bytes != NULL);
  self->stats.queries_sent++;
  return bytes;
}

/* --- receiving --- */

static gboolean
asks_for_service (const MeroDnsMessage *msg)
{
  for (guint i = 0; i < msg->questions->len; i++)
    {
      const MeroDnsQuestion *q = g_ptr_array_index (msg->questions, i);

      if (mero_dns_name_equal (q->name, MERO_MDNS_SERVICE) &&
          (q->type == MERO_DNS_TYPE_PTR || q->type == MERO_DNS_TYPE_ANY) &&
          (q->klass == MERO_DNS_CLASS_IN || q->klass == MERO_DNS_CLASS_ANY))
        return TRUE;
    }
  return FALSE;
}

/* The PeerId text of a multiaddr ending in /p2p/<id>, else NULL. */
static char *
peer_of_multiaddr (const MeroMultiaddr *ma, const char *text)
{
  guint n = mero_multiaddr_get_n_components (ma);
  const char *at;

  if (n < 2 || mero_multiaddr_get_component (ma, n - 1, NULL, NULL) != MERO_MULTIADDR_PROTO_P2P)
    return NULL;
  at = g_strrstr (text, "/p2p/");
  return at != NULL ? g_strdup (at + strlen ("/p2p/")) : NULL;
}

/* Adds the dnsaddr strings of every TXT record named @instance in
 * @section to @addrs; the first valid one fixes *@peer_id. */
static void
collect_addrs (MeroMdns *self, const GPtrArray *section, const char *instance, char **peer_id,
               GPtrArray *addrs)
{
  for (guint i = 0; i < section->len; i++)
    {
      const MeroDnsRecord *rec = g_ptr_array_index (section, i);

      if (rec->type != MERO_DNS_TYPE_TXT || rec->txt == NULL ||
          !mero_dns_name_equal (rec->name, instance))
        continue;
      for (guint k = 0; k < rec->txt->len; k++)
        {
          gsize len;
          const char *s = g_bytes_get_data (g_ptr_array_index (rec->txt, k), &len);
          g_autofree char *text = NULL;
          g_autofree char *canonical = NULL;
          g_autofree char *peer = NULL;
          g_autoptr (MeroMultiaddr) ma = NULL;

          if (len < strlen (DNSADDR_PREFIX) || memcmp (s, DNSADDR_PREFIX, strlen (DNSADDR_PREFIX)) != 0)
            continue; /* other TXT keys are DNS-SD's business */
          text = g_strndup (s + strlen (DNSADDR_PREFIX), len - strlen (DNSADDR_PREFIX));
          if (strlen (text) != len - strlen (DNSADDR_PREFIX) ||
              (ma = mero_multiaddr_new_from_string (text, NULL)) == NULL)
            {
              self->stats.addrs_invalid++;
              continue;
            }
          canonical = mero_multiaddr_to_string (ma);
          peer = peer_of_multiaddr (ma, canonical);
          if (peer == NULL || (*peer_id != NULL && !g_str_equal (peer, *peer_id)))
            {
              self->stats.addrs_invalid++;
              continue;
            }
          if (*peer_id == NULL)
            *peer_id = g_steal_pointer (&peer);
          if (g_ptr_array_find_with_equal_func (addrs, canonical, g_str_equal, NULL))
            continue;
          if (addrs->len >= MERO_MDNS_MAX_ADDRS_PER_PEER)
            {
              self->stats.addrs_dropped++;
              continue;
            }
          g_ptr_array_add (addrs, g_steal_pointer (&canonical));
        }
    }
}

static void
report (MeroMdns *self, Entry *e, gint64 now)
{
  MeroMdnsPeer *peer = g_new0 (MeroMdnsPeer, 1);

  peer->peer_id = g_strdup (e->peer_id);
  peer->addrs = g_strdupv (e->addrs);
  peer->expires_at = e->expires_at;
  e->last_reported = now;
  /* The host pops after every datagram, so this only trims a queue it
   * does not drain. */
  while (g_queue_get_length (&self->discovered) >= self->max_peers)
    {
      mero_mdns_peer_free (g_queue_pop_head (&self->discovered));
      self->stats.peers_dropped++;
    }
  g_queue_push_tail (&self->discovered, peer);
}

static gboolean
same_addrs (const char *const *a, const char *const *b)
{
  guint n = g_strv_length ((GStrv) a);

  if (n != g_strv_length ((GStrv) b))
    return FALSE;
  for (guint i = 0; i < n; i++)
    if (!g_str_equal (a[i], b[i]))
      return FALSE;
  return TRUE;
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* One PTR answer for our service: a peer (or ourselves). */
static gboolean
handle_instance (MeroMdns *self, const MeroDnsMessage *msg, const MeroDnsRecord *ptr, gint64 now)
{
  g_autoptr (GPtrArray) addrs = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *peer_id = NULL;
  g_auto (GStrv) sorted = NULL;
  Entry *e;
  guint32 ttl;

  if (mero_dns_name_equal (ptr->target, self->instance))
    {
      self->stats.own_responses++;
      return FALSE;
    }
  collect_addrs (self, msg->answers, ptr->target, &peer_id, addrs);
  collect_addrs (self, msg->additionals, ptr->target, &peer_id, addrs);
  if (peer_id == NULL)
    return FALSE;
  if (g_str_equal (peer_id, self->peer_id))
    {
      self->stats.own_responses++;
      return FALSE;
    }
  if (ptr->ttl == 0)
    {
      /* Goodbye (RFC 6762 §10.1). */
      if (g_hash_table_remove (self->peers, peer_id))
        self->stats.peers_goodbye++;
      return TRUE;
    }
  g_ptr_array_sort (addrs, compare_strings);
  g_ptr_array_add (addrs, NULL);
  sorted = (GStrv) g_ptr_array_steal (addrs, NULL);
  ttl = MIN (ptr->ttl, MERO_MDNS_MAX_TTL_S);

  e = g_hash_table_lookup (self->peers, peer_id);
  if (e == NULL)
    {
      if (g_hash_table_size (self->peers) >= self->max_peers)
        expire_peers (self, now);
      if (g_hash_table_size (self->peers) >= self->max_peers)
        {
          self->stats.peers_dropped++;
          return TRUE;
        }
      e = g_new0 (Entry, 1);
      e->peer_id = g_steal_pointer (&peer_id);
      e->addrs = g_steal_pointer (&sorted);
      e->expires_at = now + (gint64) ttl * G_USEC_PER_SEC;
      g_hash_table_insert (self->peers, e->peer_id, e);
      report (self, e, now);
      return TRUE;
    }
  e->expires_at = now + (gint64) ttl * G_USEC_PER_SEC;
  if (!same_addrs ((const char *const *) e->addrs, (const char *const *) sorted))
    {
      g_strfreev (e->addrs);
      e->addrs = g_steal_pointer (&sorted);
      report (self, e, now);
    }
  else if (now - e->last_reported >= MERO_MDNS_REREPORT_INTERVAL_US)
    {
      report (self, e, now);
    }
  return TRUE;
}

gboolean
mero_mdns_receive (MeroMdns *self, const guint8 *data, gsize len, gint64 now,
                   gboolean *wants_response, guint16 *query_id, GError **error)
{
  g_autoptr (MeroDnsMessage) msg = NULL;
  gboolean any = FALSE;

  g_return_val_if_fail (self != NULL && wants_response != NULL, FALSE);

  *wants_response = FALSE;
  msg = mero_dns_message_decode (data, len, error);
  if (msg == NULL)
    {
      self->stats.packets_malformed++;
      return FALSE;
    }
  if (query_id != NULL)
    *query_id = msg->id;
  if ((msg->flags & MERO_DNS_OPCODE_MASK) != 0)
    {
      /* RFC 6762 §18.3: only standard queries and responses. */
      self->stats.packets_ignored++;
      return TRUE;
    }
  if (!mero_dns_message_is_response (msg))
    {
      if (asks_for_service (msg))
        {
          self->stats.queries_received++;
          *wants_response = TRUE;
        }
      else
        {
          self->stats.packets_ignored++;
        }
      return TRUE;
    }
  for (guint i = 0; i < msg->answers->len; i++)
    {
      const MeroDnsRecord *rec = g_ptr_array_index (msg->answers, i);

      if (rec->type == MERO_DNS_TYPE_PTR && mero_dns_name_equal (rec->name, MERO_MDNS_SERVICE))
        any |= handle_instance (self, msg, rec, now);
    }
  if (any)
    self->stats.responses_received++;
  else
    self->stats.packets_ignored++;
  return TRUE;
}

/* --- answering --- */

static gboolean
is_unspecified (const MeroMultiaddr *ma)
{
  static const guint8 zero[16] = { 0 };
  const guint8 *value;
  gsize len;
  MeroMultiaddrProto proto = mero_multiaddr_get_component (ma, 0, &value, &len);

  return (proto == MERO_MULTIADDR_PROTO_IP4 || proto == MERO_MULTIADDR_PROTO_IP6) &&
         memcmp (value, zero, len) == 0;
}

static Responded *
responded_slot (MeroMdns *self, guint iface)
{
  Responded *oldest = NULL;

  for (guint i = 0; i < self->n_responded; i++)
    if (self->responded[i].iface == iface)
      return &self->responded[i];
  if (self->n_responded < MERO_MDNS_MAX_INTERFACES)
    {
      Responded *slot = &self->responded[self->n_responded++];

      slot->iface = iface;
      slot->at = G_MININT64;
      return slot;
    }
  for (guint i = 0; i < self->n_responded; i++)
    if (oldest == NULL || self->responded[i].at < oldest->at)
      oldest = &self->responded[i];
  oldest->iface = iface;
  oldest->at = G_MININT64;
  return oldest;
}

GBytes *
mero_mdns_build_response (MeroMdns *self, const char *const *addrs, guint iface, guint16 id,
                          gint64 now)
{
  g_autoptr (MeroDnsMessage) msg = mero_dns_message_new ();
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  MeroDnsRecord *ptr;
  Responded *slot = NULL;
  GBytes *bytes;

  g_return_val_if_fail (self != NULL, NULL);

  if (id == 0)
    {
      slot = responded_slot (self, iface);
      if (slot->at != G_MININT64 && now - slot->at < MERO_MDNS_MIN_RESPONSE_INTERVAL_US)
        {
          self->stats.responses_rate_limited++;
          return NULL;
        }
    }
  msg->id = id;
  msg->flags = MERO_DNS_FLAG_RESPONSE | MERO_DNS_FLAG_AUTHORITATIVE;
  ptr = mero_dns_message_add_record (msg, msg->answers, MERO_MDNS_SERVICE, MERO_DNS_TYPE_PTR,
                                     MERO_MDNS_TTL_S);
  ptr->target = g_strdup (self->instance);
  for (gsize i = 0; addrs != NULL && addrs[i] != NULL; i++)
    {
      g_autoptr (MeroMultiaddr) ma = mero_multiaddr_new_from_string (addrs[i], NULL);
      g_autofree char *canonical = NULL;
      g_autofree char *txt = NULL;
      MeroDnsRecord *rec;

      if (ma == NULL || is_unspecified (ma) || seen->len >= MERO_MDNS_MAX_ADDRS_PER_PEER)
        continue;
      canonical = mero_multiaddr_to_string (ma);
      if (g_ptr_array_find_with_equal_func (seen, canonical, g_str_equal, NULL))
        continue;
      txt = g_strconcat (DNSADDR_PREFIX, canonical, "/p2p/", self->peer_id, NULL);
      if (strlen (txt) > MERO_MDNS_MAX_TXT)
        continue;
      rec = mero_dns_message_add_record (msg, msg->additionals, self->instance,
                                         MERO_DNS_TYPE_TXT, MERO_MDNS_TTL_S);
      mero_dns_record_add_txt (rec, (const guint8 *) txt, strlen (txt));
      g_ptr_array_add (seen, g_steal_pointer (&canonical));
    }
  if (seen->len == 0)
    return NULL;
  bytes = mero_dns_message_encode (msg, NULL);
  g_assert (bytes != NULL);
  if (slot != NULL)
    slot->at = now;
  self->stats.responses_sent++;
  return bytes;
}

MeroMdnsPeer *
mero_mdns_pop_discovered (MeroMdns *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return g_queue_pop_head (&self->discovered);
}

guint
mero_mdns_get_n_peers (const MeroMdns *self)
{
  return g_hash_table_size (self->peers);
}

const MeroMdnsStats *
mero_mdns_get_stats (const MeroMdns *self)
{
  return &self->stats;
}
