/* mero-sync-history.c: see mero-sync-history.h. */
#include "sync/mero-sync-history.h"

typedef struct {
  char *peer;               /* NULL in a context's own record */
  gint64 last_sync;
  char *last_protocol;
  char *last_result;
  gint64 last_duration_us;
  guint failures;
  guint64 sessions;
} Record;

typedef struct {
  Record own;
  GPtrArray *peers;         /* Record, least recent first */
} CtxHistory;

struct _MeroSyncHistory {
  GHashTable *contexts;     /* id → CtxHistory */
};

static void
record_clear (Record *r)
{
  g_free (r->peer);
  g_free (r->last_protocol);
  g_free (r->last_result);
}

static void
record_free (Record *r)
{
  record_clear (r);
  g_free (r);
}

static void
ctx_history_free (CtxHistory *h)
{
  record_clear (&h->own);
  g_ptr_array_unref (h->peers);
  g_free (h);
}

MeroSyncHistory *
mero_sync_history_new (void)
{
  MeroSyncHistory *history = g_new0 (MeroSyncHistory, 1);

  history->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) ctx_history_free);
  return history;
}

void
mero_sync_history_free (MeroSyncHistory *history)
{
  if (history == NULL)
    return;
  g_hash_table_unref (history->contexts);
  g_free (history);
}

static void
update (Record *r, const char *protocol, const char *result, gboolean failure, gint64 when,
        gint64 duration)
{
  r->last_sync = when;
  g_free (r->last_protocol);
  r->last_protocol = g_strdup (protocol != NULL ? protocol : "");
  g_free (r->last_result);
  r->last_result = g_strdup (result);
  r->last_duration_us = duration;
  r->failures = failure ? r->failures + 1 : 0;
  r->sessions++;
}

void
mero_sync_history_record (MeroSyncHistory *history, const char *context_id, const char *peer,
                          const char *protocol, const char *result, gboolean failure,
                          gint64 when_real_us, gint64 duration_us)
{
  CtxHistory *h = g_hash_table_lookup (history->contexts, context_id);
  Record *r = NULL;

  if (h == NULL)
    {
      h = g_new0 (CtxHistory, 1);
      h->peers = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
      g_hash_table_insert (history->contexts, g_strdup (context_id), h);
    }
  update (&h->own, protocol, result, failure, when_real_us, duration_us);
  g_free (h->own.peer);
  h->own.peer = g_strdup (peer);
  if (peer == NULL)
    return;
  for (guint i = 0; i < h->peers->len && r == NULL; i++)
    if (g_str_equal (((Record *) g_ptr_array_index (h->peers, i))->peer, peer))
      r = g_ptr_array_steal_index (h->peers, i);
  if (r == NULL)
    {
      if (h->peers->len >= MERO_SYNC_HISTORY_MAX_PEERS)
        g_ptr_array_remove_index (h->peers, 0);
      r = g_new0 (Record, 1);
      r->peer = g_strdup (peer);
    }
  update (r, protocol, result, failure, when_real_us, duration_us);
  g_ptr_array_add (h->peers, r);
}

void
mero_sync_history_forget (MeroSyncHistory *history, const char *context_id)
{
  g_hash_table_remove (history->contexts, context_id);
}

static void
add_record (GVariantBuilder *b, const Record *r)
{
  g_variant_builder_add (b, "{sv}", "last_sync", g_variant_new_int64 (r->last_sync));
  g_variant_builder_add (b, "{sv}", "last_protocol", g_variant_new_string (r->last_protocol));
  g_variant_builder_add (b, "{sv}", "last_result", g_variant_new_string (r->last_result));
  g_variant_builder_add (b, "{sv}", "last_duration_ms",
                         g_variant_new_uint64 ((guint64) r->last_duration_us / 1000));
  g_variant_builder_add (b, "{sv}", "failures", g_variant_new_uint32 (r->failures));
  g_variant_builder_add (b, "{sv}", "sessions", g_variant_new_uint64 (r->sessions));
}

GVariant *
mero_sync_history_to_variant (MeroSyncHistory *history, const char *context_id)
{
  CtxHistory *h = g_hash_table_lookup (history->contexts, context_id);
  GVariantBuilder b, peers;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (h == NULL)
    return g_variant_builder_end (&b);
  add_record (&b, &h->own);
  g_variant_builder_add (&b, "{sv}", "last_peer",
                         g_variant_new_string (h->own.peer != NULL ? h->own.peer : ""));
  g_variant_builder_init (&peers, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = h->peers->len; i > 0; i--)
    {
      const Record *r = g_ptr_array_index (h->peers, i - 1);
      GVariantBuilder one;

      g_variant_builder_init (&one, G_VARIANT_TYPE_VARDICT);
      g_variant_builder_add (&one, "{sv}", "peer", g_variant_new_string (r->peer));
      add_record (&one, r);
      g_variant_builder_add_value (&peers, g_variant_builder_end (&one));
    }
  g_variant_builder_add (&b, "{sv}", "peers", g_variant_builder_end (&peers));
  return g_variant_builder_end (&b);
}

guint
mero_sync_history_peer_failures (MeroSyncHistory *history, const char *context_id,
                                 const char *peer)
{
  CtxHistory *h = g_hash_table_lookup (history->contexts, context_id);

  for (guint i = 0; h != NULL && peer != NULL && i < h->peers->len; i++)
    {
      const Record *r = g_ptr_array_index (h->peers, i);

      if (g_str_equal (r->peer, peer))
        return r->failures;
    }
  return 0;
}

void
mero_sync_history_order_peers (MeroSyncHistory *history, const char *context_id, char **peers)
{
  guint n = peers != NULL ? g_strv_length (peers) : 0;

  /* Insertion sort: a handful of peers, and stable. */
  for (guint i = 1; i < n; i++)
    {
      char *p = peers[i];
      guint f = mero_sync_history_peer_failures (history, context_id, p);
      guint j = i;

      while (j > 0 && mero_sync_history_peer_failures (history, context_id, peers[j - 1]) > f)
        {
          peers[j] = peers[j - 1];
          j--;
        }
      peers[j] = p;
    }
}
