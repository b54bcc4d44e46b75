/* reconcile-set.c: the local set of entity versions.  Sessions read the
 * stored prefix of its coded symbols (reconcile-index.h) and look items
 * up in the index; only a session that needs symbols past the prefix (or
 * a host without the index) builds the whole set from every entity record
 * (O(n) work and memory, once per session).  Nothing of it goes on the
 * wire. */
#include "reconcile-session.h"

#include <string.h>

static guint
u64_hash (gconstpointer p)
{
  uint64_t v;

  memcpy (&v, p, sizeof v);
  return (guint) (v ^ (v >> 32));
}

static gboolean
u64_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, sizeof (uint64_t)) == 0;
}

static gboolean
add_record (const MeroStateEntity *e, void *data, GError **error)
{
  ReconcileSession *s = data;
  uint8_t item[RIBLT_ITEM_SIZE];
  uint64_t hash;

  /* Counted in entities (ids and items are byte arrays). */
  if (s->set.hashes->len >= RECONCILE_MAX_SET)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                   "more than RECONCILE_MAX_SET entities");
      return FALSE;
    }
  reconcile_version_item (e, item);
  hash = riblt_item_hash (s->key, item);
  g_array_append_vals (s->set.items, item, RIBLT_ITEM_SIZE);
  g_array_append_vals (s->set.ids, e->id, 32);
  g_array_append_val (s->set.hashes, hash);
  return TRUE;
}

gboolean
reconcile_set_build (ReconcileSession *s, GError **error)
{
  if (s->set.hashes != NULL)
    return TRUE;
  s->set.items = g_array_new (FALSE, FALSE, 1);
  s->set.ids = g_array_new (FALSE, FALSE, 1);
  s->set.hashes = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  if (!reconcile_for_each_record (s->sa, s->state, add_record, s, error))
    return FALSE;
  s->set.by_hash = g_hash_table_new (u64_hash, u64_equal);
  for (guint i = 0; i < s->set.hashes->len; i++)
    g_hash_table_insert (s->set.by_hash, &g_array_index (s->set.hashes, uint64_t, i),
                         GUINT_TO_POINTER (i + 1));
  s->encoder = riblt_encoder_new (s->key);
  for (guint i = 0; i < s->set.hashes->len; i++)
    riblt_encoder_apply (s->encoder, (const uint8_t *) s->set.items->data + i * RIBLT_ITEM_SIZE,
                         1);
  return TRUE;
}

const RibltSymbol *
reconcile_local_symbols (ReconcileSession *s, size_t upto, GError **error)
{
  if (s->index == 0)
    {
      g_autoptr (GError) local_error = NULL;

      s->index = reconcile_index_usable (&s->config, s->state, &local_error) ? 1 : -1;
      if (local_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  /* Once the whole set was built, it alone answers: the prefix may have
   * moved on since (local writes between messages). */
  if (s->index > 0 && s->set.hashes == NULL && upto <= RECONCILE_INDEX_SYMBOLS)
    {
      if (s->prefix == NULL)
        {
          s->prefix = g_new0 (RibltSymbol, RECONCILE_INDEX_SYMBOLS);
          if (!reconcile_index_load_prefix (&s->config, s->state, s->prefix, error))
            {
              g_clear_pointer (&s->prefix, g_free);
              return NULL;
            }
        }
      return s->prefix;
    }
  if (s->set.hashes == NULL)
    {
      if (s->index > 0)
        mero_plugin_log (s->config.host, MERO_LOG_LEVEL_DEBUG, s->config.name,
                         "%zu symbols asked for, past the stored %u: building the whole set",
                         upto, RECONCILE_INDEX_SYMBOLS);
      if (!reconcile_set_build (s, error))
        return NULL;
    }
  /* By doubling: each extension walks every local item once. */
  if (riblt_encoder_len (s->encoder) < upto)
    riblt_encoder_extend (s->encoder, MAX (upto, MIN (2 * riblt_encoder_len (s->encoder),
                                                      (size_t) RECONCILE_MAX_SYMBOLS_PER_SESSION)));
  return riblt_encoder_symbols (s->encoder);
}

gboolean
reconcile_local_find (ReconcileSession *s, uint64_t hash, uint8_t id[32], gboolean *found,
                      GError **error)
{
  gssize at;

  *found = FALSE;
  if (s->index == 0 && reconcile_local_symbols (s, 0, error) == NULL)
    return FALSE;
  if (s->set.hashes == NULL && s->index > 0)
    return reconcile_index_find (&s->config, s->state, hash, id, found, error);
  if (s->set.hashes == NULL && !reconcile_set_build (s, error))
    return FALSE;
  at = reconcile_set_find (&s->set, hash, NULL);
  if (at < 0)
    return TRUE;
  memcpy (id, (const uint8_t *) s->set.ids->data + at * 32, 32);
  *found = TRUE;
  return TRUE;
}

void
reconcile_set_clear (ReconcileSet *set)
{
  g_clear_pointer (&set->items, g_array_unref);
  g_clear_pointer (&set->ids, g_array_unref);
  g_clear_pointer (&set->hashes, g_array_unref);
  g_clear_pointer (&set->by_hash, g_hash_table_unref);
}

gssize
reconcile_set_find (const ReconcileSet *set, uint64_t hash, const uint8_t *item)
{
  guint pos;

  if (set->by_hash == NULL)
    return -1;
  pos = GPOINTER_TO_UINT (g_hash_table_lookup (set->by_hash, &hash));
  if (pos == 0)
    return -1;
  if (item != NULL
      && memcmp (set->items->data + (pos - 1) * RIBLT_ITEM_SIZE, item, RIBLT_ITEM_SIZE) != 0)
    return -1;
  return (gssize) pos - 1;
}

static guint
id_hash (gconstpointer p)
{
  guint h;

  memcpy (&h, p, sizeof h);
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, 32) == 0;
}

GHashTable *
reconcile_id_table_new (void)
{
  return g_hash_table_new (id_hash, id_equal);
}
