/* mero-peer-store.c: the bounded PeerId → addresses table and its record. */
#include "node/mero-peer-store.h"

#include <gio/gio.h>
#include <string.h>

typedef struct {
  char *text;         /* without /p2p/ */
  gint64 seen_ms;
} Address;

typedef struct {
  GPtrArray *addresses; /* Address*, most recently seen first */
} Peer;

struct _MeroPeerStore {
  guint max_peers;
  GHashTable *peers;    /* peer id → Peer */
  GHashTable *changed;  /* peer id set */
  GHashTable *evicted;  /* peer id set */
  GHashTable *kept;     /* peer id set: evicted only when nothing else is left */
  guint64 evictions;
};

static void
address_free (Address *address)
{
  g_free (address->text);
  g_free (address);
}

static void
peer_free (Peer *peer)
{
  g_ptr_array_unref (peer->addresses);
  g_free (peer);
}

static Peer *
peer_new (void)
{
  Peer *peer = g_new0 (Peer, 1);

  peer->addresses = g_ptr_array_new_with_free_func ((GDestroyNotify) address_free);
  return peer;
}

static gint64
peer_seen (const Peer *peer)
{
  return peer->addresses->len > 0 ? ((Address *) g_ptr_array_index (peer->addresses, 0))->seen_ms
                                   : 0;
}

MeroPeerStore *
mero_peer_store_new (guint max_peers)
{
  MeroPeerStore *self = g_new0 (MeroPeerStore, 1);

  self->max_peers = max_peers > 0 ? max_peers : MERO_PEER_STORE_DEFAULT_MAX_PEERS;
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) peer_free);
  self->changed = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->evicted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->kept = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  return self;
}

void
mero_peer_store_free (MeroPeerStore *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->peers);
  g_hash_table_unref (self->changed);
  g_hash_table_unref (self->evicted);
  g_hash_table_unref (self->kept);
  g_free (self);
}

static gboolean
host_is_dialable (const char *proto, const char *host)
{
  g_autoptr (GInetAddress) inet = NULL;

  if (host[0] == '\0')
    return FALSE;
  if (g_str_has_prefix (proto, "dns"))
    return TRUE;
  inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    return FALSE;
  if (g_inet_address_get_family (inet)
      != (g_str_equal (proto, "ip4") ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6))
    return FALSE;
  /* 0.0.0.0 and :: stand for "every interface" on the side that listens;
   * link-local needs a zone a multiaddr here does not carry. */
  return !g_inet_address_get_is_any (inet) && !g_inet_address_get_is_multicast (inet)
         && !g_inet_address_get_is_link_local (inet);
}

/* The transport part of @address (up to /p2p/) if it is
 * /{ip4,ip6,dns,dns4,dns6}/<host>/tcp/<port 1-65535>[/p2p/<id>]; @p2p
 * gets the id text (or NULL). */
static char *
transport_part (const char *address, char **p2p)
{
  g_auto (GStrv) parts = NULL;
  guint n;
  guint64 port;
  char *end = NULL;

  *p2p = NULL;
  if (address == NULL || address[0] != '/' || strlen (address) > 512)
    return NULL;
  parts = g_strsplit (address + 1, "/", 8);
  n = g_strv_length (parts);
  if (n != 4 && n != 6)
    return NULL;
  if (!g_str_equal (parts[0], "ip4") && !g_str_equal (parts[0], "ip6")
      && !g_str_equal (parts[0], "dns") && !g_str_equal (parts[0], "dns4")
      && !g_str_equal (parts[0], "dns6"))
    return NULL;
  if (!host_is_dialable (parts[0], parts[1]) || !g_str_equal (parts[2], "tcp"))
    return NULL;
  port = g_ascii_strtoull (parts[3], &end, 10);
  if (parts[3][0] == '\0' || *end != '\0' || port == 0 || port > 65535)
    return NULL;
  if (n == 6)
    {
      if (!g_str_equal (parts[4], "p2p") || parts[5][0] == '\0')
        return NULL;
      *p2p = g_strdup (parts[5]);
    }
  {
    char *transport = g_strdup_printf ("/%s/%s/tcp/%s", parts[0], parts[1], parts[3]);

    if (strlen (transport) > MERO_PEER_STORE_MAX_ADDRESS_LEN)
      {
        g_free (transport);
        g_clear_pointer (p2p, g_free);
        return NULL;
      }
    return transport;
  }
}

gboolean
mero_peer_store_address_is_dialable (const char *address)
{
  g_autofree char *p2p = NULL;
  g_autofree char *transport = transport_part (address, &p2p);

  return transport != NULL;
}

static void
mark_changed (MeroPeerStore *self, const char *peer_id)
{
  g_hash_table_remove (self->evicted, peer_id);
  g_hash_table_add (self->changed, g_strdup (peer_id));
}

/* Makes room for one more peer: the least recently seen one goes. */
static void
evict_one (MeroPeerStore *self)
{
  GHashTableIter iter;
  gpointer key, value;
  const char *oldest = NULL;
  gint64 oldest_ms = G_MAXINT64;
  gboolean oldest_kept = TRUE;
  g_autofree char *victim = NULL;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      gint64 seen = peer_seen (value);
      gboolean kept = g_hash_table_contains (self->kept, key);

      /* Strangers before kept peers, then the least recently seen; ties
       * broken by id so eviction does not depend on hash order. */
      if (oldest == NULL || (oldest_kept && !kept)
          || (kept == oldest_kept
              && (seen < oldest_ms || (seen == oldest_ms && strcmp (key, oldest) < 0))))
        {
          oldest = key;
          oldest_ms = seen;
          oldest_kept = kept;
        }
    }
  if (oldest == NULL)
    return;
  victim = g_strdup (oldest);
  g_hash_table_remove (self->peers, victim);
  g_hash_table_remove (self->changed, victim);
  g_hash_table_add (self->evicted, g_steal_pointer (&victim));
  self->evictions++;
}

static gint
compare_seen_desc (gconstpointer a, gconstpointer b)
{
  const Address *x = *(Address *const *) a;
  const Address *y = *(Address *const *) b;

  if (x->seen_ms != y->seen_ms)
    return x->seen_ms > y->seen_ms ? -1 : 1;
  return strcmp (x->text, y->text);
}

/* Adds or refreshes @transport in @peer; TRUE if anything changed. */
static gboolean
peer_merge (Peer *peer, const char *transport, gint64 seen_ms)
{
  for (guint i = 0; i < peer->addresses->len; i++)
    {
      Address *address = g_ptr_array_index (peer->addresses, i);

      if (!g_str_equal (address->text, transport))
        continue;
      if (seen_ms <= address->seen_ms)
        return FALSE;
      address->seen_ms = seen_ms;
      g_ptr_array_sort (peer->addresses, compare_seen_desc);
      return TRUE;
    }
  {
    Address *address = g_new0 (Address, 1);

    address->text = g_strdup (transport);
    address->seen_ms = seen_ms;
    g_ptr_array_add (peer->addresses, address);
  }
  g_ptr_array_sort (peer->addresses, compare_seen_desc);
  /* The least recently seen address goes: the peer moved away from it. */
  if (peer->addresses->len > MERO_PEER_STORE_MAX_ADDRESSES)
    g_ptr_array_set_size (peer->addresses, MERO_PEER_STORE_MAX_ADDRESSES);
  return TRUE;
}

static Peer *
peer_ensure (MeroPeerStore *self, const char *peer_id)
{
  Peer *peer = g_hash_table_lookup (self->peers, peer_id);

  if (peer != NULL)
    return peer;
  while (g_hash_table_size (self->peers) >= self->max_peers)
    evict_one (self);
  peer = peer_new ();
  g_hash_table_insert (self->peers, g_strdup (peer_id), peer);
  return peer;
}

gboolean
mero_peer_store_learn (MeroPeerStore *self, const char *peer_id, const char *address,
                       gint64 now_ms)
{
  g_autofree char *p2p = NULL;
  g_autofree char *transport = NULL;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer_id != NULL && peer_id[0] != '\0', FALSE);

  transport = transport_part (address, &p2p);
  if (transport == NULL || (p2p != NULL && !g_str_equal (p2p, peer_id)))
    return FALSE;
  if (!peer_merge (peer_ensure (self, peer_id), transport, now_ms))
    return FALSE;
  mark_changed (self, peer_id);
  return TRUE;
}

gboolean
mero_peer_store_load_peer (MeroPeerStore *self, const char *peer_id, const guint8 *record,
                           gsize len)
{
  gsize pos = 2;
  guint n;
  g_autoptr (GPtrArray) loaded = g_ptr_array_new_with_free_func ((GDestroyNotify) address_free);
  Peer *peer;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (peer_id != NULL, FALSE);

  if (record == NULL || len < 2 || record[0] != MERO_PEER_STORE_RECORD_VERSION)
    return FALSE;
  n = record[1];
  if (n == 0 || n > MERO_PEER_STORE_MAX_ADDRESSES)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      guint64 seen = 0;
      guint alen;
      g_autofree char *text = NULL;
      g_autofree char *p2p = NULL;
      g_autofree char *transport = NULL;

      if (len - pos < 9)
        return FALSE;
      for (guint b = 0; b < 8; b++)
        seen = seen << 8 | record[pos + b];
      alen = record[pos + 8];
      pos += 9;
      if (alen == 0 || alen > MERO_PEER_STORE_MAX_ADDRESS_LEN || len - pos < alen
          || memchr (record + pos, '\0', alen) != NULL)
        return FALSE;
      text = g_strndup ((const char *) record + pos, alen);
      pos += alen;
      transport = transport_part (text, &p2p);
      if (transport != NULL && p2p == NULL && (gint64) seen > 0)
        {
          Address *address = g_new0 (Address, 1);

          address->text = g_steal_pointer (&transport);
          address->seen_ms = (gint64) seen;
          g_ptr_array_add (loaded, address);
        }
    }
  if (pos != len)
    return FALSE;
  if (loaded->len == 0)
    return TRUE;
  peer = peer_ensure (self, peer_id);
  for (guint i = 0; i < loaded->len; i++)
    {
      Address *address = g_ptr_array_index (loaded, i);

      peer_merge (peer, address->text, address->seen_ms);
    }
  return TRUE;
}

GBytes *
mero_peer_store_encode_peer (MeroPeerStore *self, const char *peer_id)
{
  Peer *peer;
  GByteArray *out;

  g_return_val_if_fail (self != NULL, NULL);

  peer = g_hash_table_lookup (self->peers, peer_id);
  if (peer == NULL || peer->addresses->len == 0)
    return NULL;
  out = g_byte_array_new ();
  g_byte_array_append (out, (const guint8[]) { MERO_PEER_STORE_RECORD_VERSION,
                                               (guint8) peer->addresses->len },
                       2);
  for (guint i = 0; i < peer->addresses->len; i++)
    {
      Address *address = g_ptr_array_index (peer->addresses, i);
      guint8 head[9];
      guint64 seen = (guint64) address->seen_ms;

      for (guint b = 0; b < 8; b++)
        head[b] = (guint8) (seen >> (56 - 8 * b));
      head[8] = (guint8) strlen (address->text);
      g_byte_array_append (out, head, sizeof head);
      g_byte_array_append (out, (const guint8 *) address->text, head[8]);
    }
  return g_byte_array_free_to_bytes (out);
}

GStrv
mero_peer_store_lookup (MeroPeerStore *self, const char *peer_id)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  Peer *peer;

  g_return_val_if_fail (self != NULL, NULL);

  peer = peer_id != NULL ? g_hash_table_lookup (self->peers, peer_id) : NULL;
  for (guint i = 0; peer != NULL && i < peer->addresses->len; i++)
    {
      Address *address = g_ptr_array_index (peer->addresses, i);

      g_autofree char *full = g_strdup_printf ("%s/p2p/%s", address->text, peer_id);

      g_strv_builder_add (builder, full);
    }
  return g_strv_builder_end (builder);
}

gint64
mero_peer_store_last_seen (MeroPeerStore *self, const char *peer_id)
{
  Peer *peer;

  g_return_val_if_fail (self != NULL, 0);
  peer = g_hash_table_lookup (self->peers, peer_id);
  return peer != NULL ? peer_seen (peer) : 0;
}

guint
mero_peer_store_count (MeroPeerStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->peers);
}

void
mero_peer_store_set_kept (MeroPeerStore *self, const char *const *peer_ids)
{
  g_return_if_fail (self != NULL);

  g_hash_table_remove_all (self->kept);
  for (guint i = 0; peer_ids != NULL && peer_ids[i] != NULL; i++)
    g_hash_table_add (self->kept, g_strdup (peer_ids[i]));
}

guint64
mero_peer_store_get_evictions (MeroPeerStore *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->evictions;
}

static GStrv
take_set (GHashTable *set)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, set);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_strv_builder_add (builder, key);
  g_hash_table_remove_all (set);
  return g_strv_builder_end (builder);
}

void
mero_peer_store_take_changes (MeroPeerStore *self, GStrv *changed, GStrv *evicted)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (changed != NULL && evicted != NULL);

  *changed = take_set (self->changed);
  *evicted = take_set (self->evicted);
}

gboolean
mero_peer_store_has_changes (MeroPeerStore *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return g_hash_table_size (self->changed) > 0 || g_hash_table_size (self->evicted) > 0;
}
