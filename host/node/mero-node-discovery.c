/* mero-node-discovery.c: dial policy for discovered peers (see header). */
#include "node/mero-node-discovery.h"

typedef struct
{
  guint attempts;
  guint next_addr;
  gint64 next_at;
  char *address;  /* the last one returned */
} Entry;

struct _MeroNodeDiscovery
{
  GHashTable *peers; /* peer id → Entry */
  guint64 dropped;
};

static void
entry_free (gpointer data)
{
  Entry *e = data;

  g_free (e->address);
  g_free (e);
}

MeroNodeDiscovery *
mero_node_discovery_new (void)
{
  MeroNodeDiscovery *self = g_new0 (MeroNodeDiscovery, 1);

  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
  return self;
}

void
mero_node_discovery_free (MeroNodeDiscovery *self)
{
  if (self == NULL)
    return;
  g_hash_table_unref (self->peers);
  g_free (self);
}

/* Frees a slot whose back-off has run out (the oldest such), if any. */
static gboolean
evict_one (MeroNodeDiscovery *self, gint64 now)
{
  GHashTableIter iter;
  gpointer key, value;
  gpointer victim = NULL;
  gint64 oldest = G_MAXINT64;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      Entry *e = value;

      if (e->next_at <= now && e->next_at < oldest)
        {
          oldest = e->next_at;
          victim = key;
        }
    }
  return victim != NULL && g_hash_table_remove (self->peers, victim);
}

const char *
mero_node_discovery_next_dial (MeroNodeDiscovery *self, const char *peer_id,
                               const char *const *addrs, gboolean connected, gint64 now)
{
  Entry *e;
  guint n;
  gint64 backoff;

  g_return_val_if_fail (self != NULL && peer_id != NULL, NULL);

  n = addrs != NULL ? g_strv_length ((GStrv) addrs) : 0;
  if (connected)
    {
      g_hash_table_remove (self->peers, peer_id);
      return NULL;
    }
  if (n == 0)
    return NULL;
  e = g_hash_table_lookup (self->peers, peer_id);
  if (e == NULL)
    {
      if (g_hash_table_size (self->peers) >= MERO_NODE_DISCOVERY_MAX_PEERS &&
          !evict_one (self, now))
        {
          self->dropped++;
          return NULL;
        }
      e = g_new0 (Entry, 1);
      e->next_at = G_MININT64;
      g_hash_table_insert (self->peers, g_strdup (peer_id), e);
    }
  if (now < e->next_at)
    return NULL;
  g_free (e->address);
  e->address = g_strdup (addrs[e->next_addr % n]);
  e->next_addr = (e->next_addr + 1) % n;
  /* In 64 bits: G_USEC_PER_SEC is an int, and 10^6 << 12 overflows it
   * (undefined; UBSan in net-mdns-dial). */
  backoff = (gint64) MERO_NODE_DISCOVERY_BACKOFF_MIN_US << MIN (e->attempts, 16u);
  e->next_at = now + MIN (backoff, MERO_NODE_DISCOVERY_BACKOFF_MAX_US);
  e->attempts++;
  return e->address;
}

void
mero_node_discovery_connected (MeroNodeDiscovery *self, const char *peer_id)
{
  g_return_if_fail (self != NULL);
  g_hash_table_remove (self->peers, peer_id);
}

guint64
mero_node_discovery_get_dropped (const MeroNodeDiscovery *self)
{
  return self->dropped;
}
