/* reconcile-index.c: sync-reconcile's per-context state index (SDK ABI
 * 1.2, see reconcile-index.h). */
#include "reconcile-index.h"

#include <string.h>

#define KEY_SYMBOL 'S'
#define KEY_ITEM 'I'
/* Entities read per read-view page during a rebuild or a full build. */
#define PAGE 512u

void
reconcile_context_key (const uint8_t ctx[32], uint8_t key[16])
{
  g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  uint8_t digest[32];
  gsize dlen = sizeof digest;

  /* The item hash key is per context: symbols crafted to collide in one
   * context do not carry to another. */
  g_checksum_update (ck, (const guchar *) "mero-sync-reconcile-1", 21);
  g_checksum_update (ck, ctx, 32);
  g_checksum_get_digest (ck, digest, &dlen);
  memcpy (key, digest, 16);
}

void
reconcile_version_item (const MeroStateEntity *e, uint8_t out[RIBLT_ITEM_SIZE])
{
  g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  const uint64_t times[6] = { GUINT64_TO_BE (e->updated_at), GUINT64_TO_BE (e->updated_node),
                              GUINT64_TO_BE (e->deleted_at), GUINT64_TO_BE (e->deleted_node),
                              GUINT64_TO_BE (e->cleared_at), GUINT64_TO_BE (e->cleared_node) };
  uint64_t newest = MAX (e->updated_at, MAX (e->deleted_at, e->cleared_at));
  uint8_t digest[32];
  gsize len = sizeof digest;

  g_checksum_update (ck, e->id, 32);
  g_checksum_update (ck, e->own_hash, 32);
  g_checksum_update (ck, (const guchar *) times, sizeof times);
  g_checksum_get_digest (ck, digest, &len);
  memcpy (out, e->id, RECONCILE_ITEM_ID_LEN);
  for (unsigned i = 0; i < RECONCILE_ITEM_TIME_LEN; i++)
    out[RECONCILE_ITEM_ID_LEN + i] = (uint8_t) (newest >> (56 - 8 * i));
  memcpy (out + RECONCILE_ITEM_ID_LEN + RECONCILE_ITEM_TIME_LEN, digest,
          RIBLT_ITEM_SIZE - RECONCILE_ITEM_ID_LEN - RECONCILE_ITEM_TIME_LEN);
}

void
reconcile_symbol_key (uint32_t index, uint8_t key[RECONCILE_SYMBOL_KEY_LEN])
{
  key[0] = KEY_SYMBOL;
  key[1] = (uint8_t) (index >> 24);
  key[2] = (uint8_t) (index >> 16);
  key[3] = (uint8_t) (index >> 8);
  key[4] = (uint8_t) index;
}

void
reconcile_item_key (uint64_t hash, uint8_t key[RECONCILE_ITEM_KEY_LEN])
{
  key[0] = KEY_ITEM;
  for (int i = 0; i < 8; i++)
    key[1 + i] = (uint8_t) (hash >> (56 - 8 * i));
}

void
reconcile_symbol_encode (const RibltSymbol *sym, uint8_t out[RECONCILE_SYMBOL_RECORD_LEN])
{
  uint64_t ck = GUINT64_TO_LE (sym->checksum), count = GUINT64_TO_LE ((uint64_t) sym->count);

  memcpy (out, sym->sum, RIBLT_ITEM_SIZE);
  memcpy (out + RIBLT_ITEM_SIZE, &ck, 8);
  memcpy (out + RIBLT_ITEM_SIZE + 8, &count, 8);
}

gboolean
reconcile_symbol_decode (const uint8_t *data, size_t len, RibltSymbol *out)
{
  uint64_t ck, count;

  if (len != RECONCILE_SYMBOL_RECORD_LEN)
    return FALSE;
  memcpy (out->sum, data, RIBLT_ITEM_SIZE);
  memcpy (&ck, data + RIBLT_ITEM_SIZE, 8);
  memcpy (&count, data + RIBLT_ITEM_SIZE + 8, 8);
  out->checksum = GUINT64_FROM_LE (ck);
  out->count = (int64_t) GUINT64_FROM_LE (count);
  return TRUE;
}

static gboolean
corrupt (GError **error, const char *what)
{
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "sync-reconcile index: %s", what);
  return FALSE;
}

/* Adds (@sign +1) or removes (-1) @e's version in the stored prefix and
 * the item -> id records. */
static gboolean
apply_entity (const MeroStateAccess *sa, const uint8_t key[16], MeroIndexBatch *batch,
              const MeroStateEntity *e, const uint8_t item[RIBLT_ITEM_SIZE], int sign,
              GError **error)
{
  uint64_t hash = riblt_item_hash (key, item);
  uint8_t ikey[RECONCILE_ITEM_KEY_LEN];
  RibltMapping m;

  riblt_mapping_init (&m, hash);
  while (m.index < RECONCILE_INDEX_SYMBOLS)
    {
      uint8_t skey[RECONCILE_SYMBOL_KEY_LEN], rec[RECONCILE_SYMBOL_RECORD_LEN];
      g_autoptr (GBytes) old = NULL;
      RibltSymbol sym;

      memset (&sym, 0, sizeof sym);
      reconcile_symbol_key ((uint32_t) m.index, skey);
      if (!sa->index_batch_get (batch, skey, sizeof skey, &old, error))
        return FALSE;
      if (old != NULL
          && !reconcile_symbol_decode (g_bytes_get_data (old, NULL), g_bytes_get_size (old), &sym))
        return corrupt (error, "bad symbol record");
      riblt_symbol_apply (&sym, item, hash, sign);
      /* Absent = zero: an emptied symbol leaves no record. */
      if (riblt_symbol_is_zero (&sym))
        sa->index_batch_delete (batch, skey, sizeof skey);
      else
        {
          reconcile_symbol_encode (&sym, rec);
          sa->index_batch_put (batch, skey, sizeof skey, rec, sizeof rec);
        }
      riblt_mapping_next (&m);
    }
  reconcile_item_key (hash, ikey);
  if (sign > 0)
    sa->index_batch_put (batch, ikey, sizeof ikey, e->id, 32);
  else
    sa->index_batch_delete (batch, ikey, sizeof ikey);
  return TRUE;
}

gboolean
reconcile_index_update (const ReconcileConfig *config, const uint8_t ctx[32],
                        MeroIndexBatch *batch, const MeroStateEntity *old_e,
                        const MeroStateEntity *new_e, GError **error)
{
  const MeroStateAccess *sa = config->host->state;
  uint8_t key[16], old_item[RIBLT_ITEM_SIZE], new_item[RIBLT_ITEM_SIZE];

  if (old_e != NULL)
    reconcile_version_item (old_e, old_item);
  if (new_e != NULL)
    reconcile_version_item (new_e, new_item);
  /* Most records a commit writes keep their version (an ancestor whose
   * hash moved): nothing to do. */
  if (old_e != NULL && new_e != NULL && memcmp (old_item, new_item, RIBLT_ITEM_SIZE) == 0)
    return TRUE;
  reconcile_context_key (ctx, key);
  if (old_e != NULL && !apply_entity (sa, key, batch, old_e, old_item, -1, error))
    return FALSE;
  if (new_e != NULL && !apply_entity (sa, key, batch, new_e, new_item, +1, error))
    return FALSE;
  return TRUE;
}

gboolean
reconcile_for_each_record (const MeroStateAccess *sa, MeroStateHandle *state,
                           ReconcileRecordFunc func, void *data, GError **error)
{
  MeroStateReadView *view = NULL;
  g_autofree MeroStateEntity *page = g_new0 (MeroStateEntity, PAGE);
  uint8_t cursor[32];
  gboolean first = TRUE, more = TRUE, ok = TRUE;

  if (!MERO_STATE_ACCESS_HAS (sa, read_view_free))
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_UNSUPPORTED,
                   "sync-reconcile needs the read view of ABI 1.1");
      return FALSE;
    }
  view = sa->read_view_new (state, error);
  if (view == NULL)
    return FALSE;
  while (ok && more)
    {
      size_t n = 0;

      for (guint i = 0; i < PAGE; i++)
        page[i].struct_size = sizeof page[i];
      ok = sa->read_view_page (view, first ? NULL : cursor, page, PAGE, &n, &more, error);
      for (size_t i = 0; ok && i < n; i++)
        ok = func (&page[i], data, error);
      if (!ok || n == 0)
        break;
      memcpy (cursor, page[n - 1].id, 32);
      first = FALSE;
    }
  sa->read_view_free (view);
  return ok;
}

typedef struct {
  const MeroStateAccess *sa;
  MeroIndexBatch *batch;
  uint8_t key[16];
  RibltSymbol *symbols;       /* RECONCILE_INDEX_SYMBOLS */
  uint64_t n;
} Rebuild;

static gboolean
rebuild_one (const MeroStateEntity *e, void *data, GError **error)
{
  Rebuild *r = data;
  uint8_t item[RIBLT_ITEM_SIZE], ikey[RECONCILE_ITEM_KEY_LEN];
  uint64_t hash;
  RibltMapping m;

  (void) error;
  reconcile_version_item (e, item);
  hash = riblt_item_hash (r->key, item);
  riblt_mapping_init (&m, hash);
  while (m.index < RECONCILE_INDEX_SYMBOLS)
    {
      riblt_symbol_apply (&r->symbols[m.index], item, hash, 1);
      riblt_mapping_next (&m);
    }
  reconcile_item_key (hash, ikey);
  r->sa->index_batch_put (r->batch, ikey, sizeof ikey, e->id, 32);
  r->n++;
  return TRUE;
}

gboolean
reconcile_index_rebuild (const ReconcileConfig *config, const uint8_t ctx[32],
                         MeroStateHandle *state, MeroIndexBatch *batch, GError **error)
{
  Rebuild r = { .sa = config->host->state, .batch = batch };
  g_autofree RibltSymbol *symbols = g_new0 (RibltSymbol, RECONCILE_INDEX_SYMBOLS);

  r.symbols = symbols;
  reconcile_context_key (ctx, r.key);
  if (!reconcile_for_each_record (r.sa, state, rebuild_one, &r, error))
    return FALSE;
  for (uint32_t i = 0; i < RECONCILE_INDEX_SYMBOLS; i++)
    if (!riblt_symbol_is_zero (&symbols[i]))
      {
        uint8_t skey[RECONCILE_SYMBOL_KEY_LEN], rec[RECONCILE_SYMBOL_RECORD_LEN];

        reconcile_symbol_key (i, skey);
        reconcile_symbol_encode (&symbols[i], rec);
        r.sa->index_batch_put (batch, skey, sizeof skey, rec, sizeof rec);
      }
  mero_plugin_log (config->host, MERO_LOG_LEVEL_INFO, config->name,
                   "index rebuilt from %" G_GUINT64_FORMAT " entity records", r.n);
  return TRUE;
}

gboolean
reconcile_index_usable (const ReconcileConfig *config, MeroStateHandle *state, GError **error)
{
  const MeroStateAccess *sa = config->host->state;
  uint32_t version = 0;

  if (!MERO_STATE_ACCESS_HAS (sa, index_batch_delete))
    return FALSE;
  if (!sa->index_version (state, config->name, &version, error))
    return FALSE;
  return version == RECONCILE_INDEX_VERSION;
}

typedef struct {
  RibltSymbol *symbols;
  gboolean bad;
} Load;

static gboolean
load_one (const uint8_t *key, size_t key_len, const uint8_t *value, size_t value_len, void *data)
{
  Load *l = data;
  uint32_t index;

  if (key_len != RECONCILE_SYMBOL_KEY_LEN || key[0] != KEY_SYMBOL)
    return TRUE;
  index = (uint32_t) key[1] << 24 | (uint32_t) key[2] << 16 | (uint32_t) key[3] << 8 | key[4];
  if (index >= RECONCILE_INDEX_SYMBOLS
      || !reconcile_symbol_decode (value, value_len, &l->symbols[index]))
    {
      l->bad = TRUE;
      return FALSE;
    }
  return TRUE;
}

gboolean
reconcile_index_load_prefix (const ReconcileConfig *config, MeroStateHandle *state,
                             RibltSymbol *out, GError **error)
{
  const MeroStateAccess *sa = config->host->state;
  Load l = { .symbols = out };
  const uint8_t prefix = KEY_SYMBOL;

  memset (out, 0, sizeof (RibltSymbol) * RECONCILE_INDEX_SYMBOLS);
  /* One scan: one consistent view of the whole prefix. */
  if (!sa->index_scan (state, config->name, &prefix, 1, load_one, &l, error))
    return FALSE;
  if (l.bad)
    return corrupt (error, "bad symbol record");
  return TRUE;
}

gboolean
reconcile_index_find (const ReconcileConfig *config, MeroStateHandle *state, uint64_t hash,
                      uint8_t id[32], gboolean *found, GError **error)
{
  const MeroStateAccess *sa = config->host->state;
  uint8_t ikey[RECONCILE_ITEM_KEY_LEN];
  g_autoptr (GBytes) v = NULL;

  *found = FALSE;
  reconcile_item_key (hash, ikey);
  if (!sa->index_get (state, config->name, ikey, sizeof ikey, &v, error))
    return FALSE;
  if (v == NULL)
    return TRUE;
  if (g_bytes_get_size (v) != 32)
    return corrupt (error, "bad item record");
  memcpy (id, g_bytes_get_data (v, NULL), 32);
  *found = TRUE;
  return TRUE;
}
