/* mero-node-peer-store.c: loading the peer store and writing it back in batches. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-peer-store.h"

#include "net/mero-peer-id.h"

#define PEERS_GAUGE "mero_peer_store_peers"
#define EVICTIONS_COUNTER "mero_peer_store_evictions_total"

struct _MeroNodePeerStore {
  MeroStore *store;
  MeroMetrics *metrics;
  MeroPeerStore *core;
  guint64 evictions_counted;
  GSource *flush_timer;
};

static gboolean
peer_key (MeroKey *key, const char *peer_id)
{
  g_autoptr (MeroPeerId) id = mero_peer_id_parse (peer_id, NULL);
  gsize len = 0;
  const guint8 *bytes = id != NULL ? mero_peer_id_get_bytes (id, &len) : NULL;

  return bytes != NULL && mero_key_peer (key, bytes, len);
}

static void
update_metrics (MeroNodePeerStore *self)
{
  guint64 evictions = mero_peer_store_get_evictions (self->core);

  mero_metrics_gauge_set (self->metrics, PEERS_GAUGE, NULL,
                          (double) mero_peer_store_count (self->core), NULL);
  if (evictions > self->evictions_counted)
    {
      mero_metrics_counter_add (self->metrics, EVICTIONS_COUNTER, NULL,
                                evictions - self->evictions_counted, NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-store-evicted",
                        "MESSAGE",
                        "peer store full (network.peer_store_max = %u): %" G_GUINT64_FORMAT
                        " least recently seen peers forgotten",
                        mero_peer_store_count (self->core), evictions - self->evictions_counted);
      self->evictions_counted = evictions;
    }
}

static gboolean
load (MeroNodePeerStore *self, GError **error)
{
  MeroKey prefix = mero_key_prefix_peers ();
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (self->store, NULL, &prefix);
  g_autoptr (GPtrArray) bad = g_ptr_array_new_with_free_func (g_free);
  guint loaded = 0;

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize klen = 0;
      const guint8 *kbytes = mero_store_iter_key (it, &klen);
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      g_autoptr (MeroPeerId) id = klen > 1 ? mero_peer_id_new_from_multihash (kbytes + 1,
                                                                            klen - 1, NULL)
                                           : NULL;
      g_autofree char *peer_id = id != NULL ? mero_peer_id_to_string (id) : NULL;
      gsize vlen = 0;
      const guint8 *vbytes = value != NULL ? g_bytes_get_data (value, &vlen) : NULL;

      if (peer_id == NULL || !mero_peer_store_load_peer (self->core, peer_id, vbytes, vlen))
        {
          MeroKey *key = g_new0 (MeroKey, 1);

          if (mero_key_from_bytes (key, MERO_COLUMN_META, kbytes, klen))
            g_ptr_array_add (bad, key);
          else
            g_free (key);
          continue;
        }
      loaded++;
    }
  if (!mero_store_iter_check (it, error))
    return FALSE;
  if (bad->len > 0)
    {
      g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (self->store);

      for (guint i = 0; i < bad->len; i++)
        mero_store_batch_delete (batch, g_ptr_array_index (bad, i));
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "peer-store-corrupt",
                        "MESSAGE", "peer store: %u records that do not decode deleted", bad->len);
      if (!mero_store_batch_commit (batch, error))
        return FALSE;
    }
  /* Loading may evict (a lowered network.peer_store_max): write that. */
  {
    g_auto (GStrv) changed = NULL;
    g_auto (GStrv) evicted = NULL;

    mero_peer_store_take_changes (self->core, &changed, &evicted);
    if (evicted[0] != NULL)
      {
        g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (self->store);

        for (guint i = 0; evicted[i] != NULL; i++)
          {
            MeroKey key;

            if (peer_key (&key, evicted[i]))
              mero_store_batch_delete (batch, &key);
          }
        if (!mero_store_batch_commit (batch, error))
          return FALSE;
      }
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "peer-store-loaded", "MESSAGE",
                    "peer store: %u peers known", loaded);
  update_metrics (self);
  return TRUE;
}

MeroNodePeerStore *
mero_node_peer_store_new (MeroStore *store, guint max_peers, MeroMetrics *metrics,
                          GError **error)
{
  g_autoptr (MeroNodePeerStore) self = NULL;

  g_return_val_if_fail (store != NULL, NULL);

  self = g_new0 (MeroNodePeerStore, 1);
  self->store = store;
  self->metrics = mero_metrics_ref (metrics != NULL ? metrics : mero_metrics_get_default ());
  self->core = mero_peer_store_new (max_peers);
  mero_metrics_set_help (self->metrics, PEERS_GAUGE,
                         "Peers whose addresses the persisted peer store holds", NULL);
  mero_metrics_set_help (self->metrics, EVICTIONS_COUNTER,
                         "Peers forgotten to make room in the peer store", NULL);
  if (!load (self, error))
    return NULL;
  return g_steal_pointer (&self);
}

gboolean
mero_node_peer_store_flush (MeroNodePeerStore *self, GError **error)
{
  g_auto (GStrv) changed = NULL;
  g_auto (GStrv) evicted = NULL;
  g_autoptr (MeroStoreBatch) batch = NULL;

  g_return_val_if_fail (self != NULL, FALSE);

  if (self->flush_timer != NULL)
    {
      g_source_destroy (self->flush_timer);
      g_clear_pointer (&self->flush_timer, g_source_unref);
    }
  if (!mero_peer_store_has_changes (self->core))
    return TRUE;
  mero_peer_store_take_changes (self->core, &changed, &evicted);
  batch = mero_store_batch_new (self->store);
  for (guint i = 0; changed[i] != NULL; i++)
    {
      MeroKey key;
      g_autoptr (GBytes) record = mero_peer_store_encode_peer (self->core, changed[i]);

      if (record != NULL && peer_key (&key, changed[i]))
        mero_store_batch_put (batch, &key, g_bytes_get_data (record, NULL),
                              g_bytes_get_size (record));
    }
  for (guint i = 0; evicted[i] != NULL; i++)
    {
      MeroKey key;

      if (peer_key (&key, evicted[i]))
        mero_store_batch_delete (batch, &key);
    }
  update_metrics (self);
  return mero_store_batch_commit (batch, error);
}

static gboolean
on_flush_due (gpointer data)
{
  MeroNodePeerStore *self = data;
  g_autoptr (GError) error = NULL;

  g_clear_pointer (&self->flush_timer, g_source_unref);
  if (!mero_node_peer_store_flush (self, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "peer-store-write-failed",
                      "MESSAGE", "peer store: cannot write: %s", error->message);
  return G_SOURCE_REMOVE;
}

gboolean
mero_node_peer_store_learn (MeroNodePeerStore *self, const char *peer_id, const char *address)
{
  g_return_val_if_fail (self != NULL, FALSE);

  if (!mero_peer_store_learn (self->core, peer_id, address, g_get_real_time () / 1000))
    return FALSE;
  if (self->flush_timer == NULL)
    {
      self->flush_timer = g_timeout_source_new (MERO_NODE_PEER_STORE_FLUSH_DELAY_MS);
      g_source_set_callback (self->flush_timer, on_flush_due, self, NULL);
      g_source_attach (self->flush_timer, g_main_context_get_thread_default ());
    }
  return TRUE;
}

GStrv
mero_node_peer_store_lookup (MeroNodePeerStore *self, const char *peer_id)
{
  g_return_val_if_fail (self != NULL, NULL);
  return mero_peer_store_lookup (self->core, peer_id);
}

MeroPeerStore *
mero_node_peer_store_get_core (MeroNodePeerStore *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->core;
}

void
mero_node_peer_store_free (MeroNodePeerStore *self)
{
  g_autoptr (GError) error = NULL;

  if (self == NULL)
    return;
  if (!mero_node_peer_store_flush (self, &error))
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "peer-store-write-failed",
                      "MESSAGE", "peer store: cannot write at stop: %s", error->message);
  mero_peer_store_free (self->core);
  mero_metrics_unref (self->metrics);
  g_free (self);
}
