/* reconcile-set.c: the local set of entity versions, built per session
 * by a walk of the live tree (every bucket level, every logical level).
 * O(n) work and memory per session; nothing of it goes on the wire. */
#include "reconcile-session.h"

#include <string.h>

/* Local children are read from the host in pages of this many. */
#define LIST_PAGE 256u
/* Deeper than any tree a state may hold (16 logical levels x a few bucket
 * levels): a state that answers deeper is refused, not recursed into. */
#define MAX_WALK_DEPTH 256u

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

void
reconcile_version_item (const MeroStateEntity *e, uint8_t out[RIBLT_ITEM_SIZE])
{
  g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  const uint64_t times[6] = { GUINT64_TO_BE (e->updated_at), GUINT64_TO_BE (e->updated_node),
                              GUINT64_TO_BE (e->deleted_at), GUINT64_TO_BE (e->deleted_node),
                              GUINT64_TO_BE (e->cleared_at), GUINT64_TO_BE (e->cleared_node) };
  gsize len = RIBLT_ITEM_SIZE;

  g_checksum_update (ck, e->id, 32);
  g_checksum_update (ck, e->own_hash, 32);
  g_checksum_update (ck, (const guchar *) times, sizeof times);
  g_checksum_get_digest (ck, out, &len);
}

static gboolean
add_entity (ReconcileSession *s, const uint8_t id[32], GError **error)
{
  MeroStateEntity e = { .struct_size = sizeof e };
  gboolean found = FALSE;
  uint8_t item[RIBLT_ITEM_SIZE];
  uint64_t hash;

  if (!s->sa->get_entity (s->state, id, &e, &found, error))
    return FALSE;
  if (!found)
    return TRUE;
  /* Counted in entities (ids and items are byte arrays). */
  if (s->set.hashes->len >= RECONCILE_MAX_SET)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT,
                   "more than RECONCILE_MAX_SET entities");
      return FALSE;
    }
  reconcile_version_item (&e, item);
  hash = riblt_item_hash (s->key, item);
  g_array_append_vals (s->set.items, item, RIBLT_ITEM_SIZE);
  g_array_append_vals (s->set.ids, id, 32);
  g_array_append_val (s->set.hashes, hash);
  return TRUE;
}

/* Every live entity under the physical node @owner/@path. */
static gboolean
walk (ReconcileSession *s, const uint8_t owner[32], uint8_t *path, size_t path_len, guint depth,
      GError **error)
{
  MeroStateChild page[LIST_PAGE];
  uint8_t after[32];
  gboolean first = TRUE, more = TRUE;
  uint32_t levels = MIN (s->layout_levels, 8u);

  if (depth > MAX_WALK_DEPTH)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT, "tree deeper than %u",
                   MAX_WALK_DEPTH);
      return FALSE;
    }
  while (more)
    {
      size_t n = 0;

      if (!s->sa->list_children (s->state, owner, path, path_len, first ? NULL : after, page,
                                 LIST_PAGE, &n, &more, error))
        return FALSE;
      for (size_t i = 0; i < n; i++)
        {
          if (path_len < levels && page[i].kind == MERO_STATE_NODE_BUCKET)
            {
              uint8_t sub[8] = { 0 };

              if (path_len > 0)
                memcpy (sub, path, path_len);
              sub[path_len] = (uint8_t) page[i].slot;
              if (!walk (s, owner, sub, path_len + 1, depth + 1, error))
                return FALSE;
              continue;
            }
          if (!add_entity (s, page[i].id, error))
            return FALSE;
          if (!walk (s, page[i].id, NULL, 0, depth + 1, error))
            return FALSE;
        }
      if (n == 0)
        break;
      memcpy (after, page[n - 1].id, 32);
      first = FALSE;
    }
  return TRUE;
}

gboolean
reconcile_set_build (ReconcileSession *s, GError **error)
{
  MeroStateLayout layout = { .struct_size = sizeof layout };

  s->set.items = g_array_new (FALSE, FALSE, 1);
  s->set.ids = g_array_new (FALSE, FALSE, 1);
  s->set.hashes = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  s->sa->get_layout (s->state, &layout);
  s->layout_levels = layout.bucket_levels;
  if (!add_entity (s, s->ctx, error) || !walk (s, s->ctx, NULL, 0, 0, error))
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
