/* mero-state-index.c: see mero-state-index.h. */
#include "context/state/mero-state-index.h"

#include <string.h>

#include "context/state/mero-state-access.h"
#include "context/state/mero-state-private.h"

#define FRAGMENT "state-index/"
#define FRAGMENT_LEN (sizeof FRAGMENT - 1)
#define TAG_LEN 8u

struct _MeroStateIndex {
  char *name;
  guint8 tag[TAG_LEN];
  const MeroSyncProtocolVTable *vtable;
  void *plugin_data;
  /* The store holds this index at vtable->index_version: maintained and
   * readable.  Cleared by a drop until the next rebuild. */
  gboolean valid;
};

struct _MeroIndexBatch {
  MeroState *state;
  MeroStateIndex *index;
  MeroStoreBatch *batch;
  /* Plugin key (GBytes) -> value (GBytes; &deleted_marker = deleted):
   * read your writes within one commit, and the writes themselves, put
   * into the store batch once per key by index_batch_flush.  A plugin
   * that updates one record many times in a commit (sync-reconcile's
   * first symbols are touched by every item) costs one put per record,
   * not one per update. */
  GHashTable *overlay;
};

struct _MeroStateIndexCommit {
  MeroState *state;
  MeroStoreBatch *batch;
  GPtrArray *batches;        /* MeroIndexBatch *, one per valid index */
};

static const guint8 deleted_marker;

void
mero_state_index_free (MeroStateIndex *idx)
{
  if (idx == NULL)
    return;
  g_free (idx->name);
  g_free (idx);
}

static void
name_tag (const char *name, guint8 tag[TAG_LEN])
{
  g_autoptr (GChecksum) ck = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 digest[32];
  gsize len = sizeof digest;

  g_checksum_update (ck, (const guchar *) name, (gssize) strlen (name));
  g_checksum_get_digest (ck, digest, &len);
  memcpy (tag, digest, TAG_LEN);
}

/* "state-index/" || tag || @kind || @key. */
static gboolean
index_key (MeroState *state, const guint8 tag[TAG_LEN], char kind, const guint8 *key,
           gsize key_len, MeroKey *out)
{
  guint8 frag[FRAGMENT_LEN + TAG_LEN + 1 + MERO_INDEX_KEY_MAX];

  if (key_len > MERO_INDEX_KEY_MAX)
    return FALSE;
  memcpy (frag, FRAGMENT, FRAGMENT_LEN);
  memcpy (frag + FRAGMENT_LEN, tag, TAG_LEN);
  frag[FRAGMENT_LEN + TAG_LEN] = (guint8) kind;
  if (key_len > 0)
    memcpy (frag + FRAGMENT_LEN + TAG_LEN + 1, key, key_len);
  return mero_key_generic (out, state->ctx, frag, FRAGMENT_LEN + TAG_LEN + 1 + key_len);
}

static gboolean
bad_key (GError **error)
{
  g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
               "index key longer than MERO_INDEX_KEY_MAX");
  return FALSE;
}

static gboolean
read_version (MeroState *state, const guint8 tag[TAG_LEN], guint32 *out, GError **error)
{
  MeroKey k;
  g_autoptr (GBytes) v = NULL;
  const guint8 *p;

  *out = 0;
  index_key (state, tag, 'v', NULL, 0, &k);
  if (!mero_store_get (state->store, &k, &v, error))
    return FALSE;
  if (v == NULL || g_bytes_get_size (v) != 4)
    return TRUE;
  p = g_bytes_get_data (v, NULL);
  *out = (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
  return TRUE;
}

/* Deletes every record and the version of @tag into @batch. */
static gboolean
queue_clear (MeroState *state, const guint8 tag[TAG_LEN], MeroStoreBatch *batch,
             GError **error)
{
  MeroKey prefix;
  g_autoptr (MeroStoreIter) it = NULL;

  index_key (state, tag, 'v', NULL, 0, &prefix);
  mero_store_batch_delete (batch, &prefix);
  /* The prefix without the kind byte covers the records too. */
  prefix.len--;
  it = mero_store_iter_new (state->store, NULL, &prefix);
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len = 0;
      const guint8 *kb = mero_store_iter_key (it, &len);
      MeroKey k;

      if (mero_key_from_bytes (&k, MERO_COLUMN_GENERIC, kb, len))
        mero_store_batch_delete (batch, &k);
    }
  return mero_store_iter_check (it, error);
}

static MeroIndexBatch *
index_batch_new (MeroState *state, MeroStateIndex *idx, MeroStoreBatch *batch)
{
  MeroIndexBatch *b = g_new0 (MeroIndexBatch, 1);

  b->state = state;
  b->index = idx;
  b->batch = batch;
  b->overlay = g_hash_table_new_full (g_bytes_hash, g_bytes_equal,
                                      (GDestroyNotify) g_bytes_unref,
                                      (GDestroyNotify) g_bytes_unref);
  return b;
}

/* The commit's index writes into the store batch, once per key. */
static void
index_batch_flush (MeroIndexBatch *b)
{
  GHashTableIter it;
  gpointer k, v;

  g_hash_table_iter_init (&it, b->overlay);
  while (g_hash_table_iter_next (&it, &k, &v))
    {
      gsize klen, vlen;
      const guint8 *key = g_bytes_get_data (k, &klen);
      const guint8 *value = g_bytes_get_data (v, &vlen);
      MeroKey sk;

      /* Checked when the plugin wrote it. */
      if (!index_key (b->state, b->index->tag, 'r', key, klen, &sk))
        continue;
      if (value == &deleted_marker)
        mero_store_batch_delete (b->batch, &sk);
      else
        mero_store_batch_put (b->batch, &sk, value, vlen);
    }
  g_hash_table_remove_all (b->overlay);
}

static void
index_batch_free (MeroIndexBatch *b)
{
  if (b == NULL)
    return;
  g_hash_table_unref (b->overlay);
  g_free (b);
}

/* Clears @idx's range and runs the plugin's rebuild over the whole state,
 * in one batch with the version record. */
static gboolean
rebuild (MeroState *state, MeroStateIndex *idx, GError **error)
{
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (state->store);
  g_autoptr (MeroStateHandle) handle = mero_state_handle_new (state, NULL);
  MeroIndexBatch *b;
  guint8 ver[4];
  MeroKey vk;
  gint64 t0 = g_get_monotonic_time ();
  gboolean ok;

  idx->valid = FALSE;
  if (!queue_clear (state, idx->tag, batch, error))
    return FALSE;
  b = index_batch_new (state, idx, batch);
  ok = idx->vtable->index_rebuild (idx->plugin_data, state->ctx, handle, b, error);
  if (ok)
    index_batch_flush (b);
  index_batch_free (b);
  if (!ok)
    return FALSE;
  ver[0] = (guint8) (idx->vtable->index_version >> 24);
  ver[1] = (guint8) (idx->vtable->index_version >> 16);
  ver[2] = (guint8) (idx->vtable->index_version >> 8);
  ver[3] = (guint8) idx->vtable->index_version;
  index_key (state, idx->tag, 'v', NULL, 0, &vk);
  mero_store_batch_put (batch, &vk, ver, sizeof ver);
  if (!mero_store_batch_commit (batch, error))
    return FALSE;
  idx->valid = TRUE;
  g_info ("context state: %s index (version %u) rebuilt in %.1f ms", idx->name,
          idx->vtable->index_version, (double) (g_get_monotonic_time () - t0) / 1000.0);
  return TRUE;
}

gboolean
mero_state_index_attach (MeroState *state, const char *name,
                         const MeroSyncProtocolVTable *vtable, void *plugin_data,
                         GError **error)
{
  MeroStateIndex *idx;
  guint32 stored = 0;

  g_return_val_if_fail (state != NULL && name != NULL && vtable != NULL, FALSE);
  if (!MERO_SYNC_PROTOCOL_VTABLE_HAS (vtable, index_rebuild) || vtable->index_version == 0
      || vtable->index_update == NULL || vtable->index_rebuild == NULL)
    return TRUE;
  for (guint i = 0; i < state->indexes->len; i++)
    if (g_strcmp0 (((MeroStateIndex *) state->indexes->pdata[i])->name, name) == 0)
      return TRUE;
  idx = g_new0 (MeroStateIndex, 1);
  idx->name = g_strdup (name);
  name_tag (name, idx->tag);
  idx->vtable = vtable;
  idx->plugin_data = plugin_data;
  g_ptr_array_add (state->indexes, idx);
  if (!read_version (state, idx->tag, &stored, error))
    return FALSE;
  if (stored == vtable->index_version)
    {
      idx->valid = TRUE;
      return TRUE;
    }
  g_info ("context state: %s index %s (stored version %u, plugin %u): rebuilding", name,
          stored == 0 ? "missing" : "of another version", stored, vtable->index_version);
  return rebuild (state, idx, error);
}

MeroKey
mero_state_index_prefix (const guint8 ctx[MERO_ENTITY_ID_LEN])
{
  MeroKey k;

  mero_key_generic (&k, ctx, (const guint8 *) FRAGMENT, FRAGMENT_LEN);
  return k;
}

guint
mero_state_index_count (MeroState *state)
{
  return state->indexes->len;
}

gboolean
mero_state_indexes_ensure (MeroState *state, GError **error)
{
  for (guint i = 0; i < state->indexes->len; i++)
    {
      MeroStateIndex *idx = state->indexes->pdata[i];
      guint32 stored = 0;

      if (!read_version (state, idx->tag, &stored, error))
        return FALSE;
      idx->valid = stored == idx->vtable->index_version;
      if (!idx->valid && !rebuild (state, idx, error))
        return FALSE;
    }
  return TRUE;
}

gboolean
mero_state_indexes_queue_drop (MeroState *state, MeroStoreBatch *batch, GError **error)
{
  for (guint i = 0; i < state->indexes->len; i++)
    {
      MeroStateIndex *idx = state->indexes->pdata[i];

      if (!queue_clear (state, idx->tag, batch, error))
        return FALSE;
      idx->valid = FALSE;
    }
  return TRUE;
}

/* ---- per commit ---------------------------------------------------------- */

MeroStateIndexCommit *
mero_state_index_commit_new (MeroState *state, MeroStoreBatch *batch)
{
  MeroStateIndexCommit *c;

  if (state->indexes->len == 0)
    return NULL;
  c = g_new0 (MeroStateIndexCommit, 1);
  c->state = state;
  c->batch = batch;
  c->batches = g_ptr_array_new_with_free_func ((GDestroyNotify) index_batch_free);
  for (guint i = 0; i < state->indexes->len; i++)
    {
      MeroStateIndex *idx = state->indexes->pdata[i];

      /* An index without its version record is not maintained: the
       * rebuild that restores it reads the state as committed. */
      if (idx->valid)
        g_ptr_array_add (c->batches, index_batch_new (state, idx, batch));
    }
  return c;
}

void
mero_state_entity_to_sdk (const MeroEntity *e, MeroStateEntity *out)
{
  gsize len = 0;

  memset (out, 0, sizeof *out);
  out->struct_size = sizeof *out;
  out->crdt_type = e->crdt_type;
  memcpy (out->id, e->id, 32);
  if (e->has_parent)
    memcpy (out->parent_id, e->parent, 32);
  memcpy (out->own_hash, e->own_hash, 32);
  out->created_at = e->created_at.time;
  out->created_node = e->created_at.node;
  out->updated_at = e->updated_at.time;
  out->updated_node = e->updated_at.node;
  out->deleted_at = e->deleted_at.time;
  out->deleted_node = e->deleted_at.node;
  out->cleared_at = e->cleared_at.time;
  out->cleared_node = e->cleared_at.node;
  out->data = e->data != NULL ? g_bytes_get_data (e->data, &len) : NULL;
  out->data_len = len;
}

gboolean
mero_state_index_commit_record (MeroStateIndexCommit *c, const MeroEntity *old_e,
                                const MeroEntity *new_e, GError **error)
{
  MeroStateEntity o, n;

  if (c == NULL || c->batches->len == 0)
    return TRUE;
  if (old_e != NULL)
    mero_state_entity_to_sdk (old_e, &o);
  if (new_e != NULL)
    mero_state_entity_to_sdk (new_e, &n);
  for (guint i = 0; i < c->batches->len; i++)
    {
      MeroIndexBatch *b = c->batches->pdata[i];

      if (!b->index->vtable->index_update (b->index->plugin_data, c->state->ctx, b,
                                           old_e != NULL ? &o : NULL,
                                           new_e != NULL ? &n : NULL, error))
        return FALSE;
    }
  return TRUE;
}

void
mero_state_index_commit_finish (MeroStateIndexCommit *c)
{
  for (guint i = 0; c != NULL && i < c->batches->len; i++)
    index_batch_flush (c->batches->pdata[i]);
}

void
mero_state_index_commit_free (MeroStateIndexCommit *c)
{
  if (c == NULL)
    return;
  g_ptr_array_unref (c->batches);
  g_free (c);
}

/* ---- the plugin's batch ------------------------------------------------- */

gboolean
mero_index_batch_get (MeroIndexBatch *batch, const uint8_t *key, size_t key_len, GBytes **out,
                      GError **error)
{
  g_autoptr (GBytes) k = g_bytes_new (key, key_len);
  GBytes *v;
  MeroKey sk;

  *out = NULL;
  v = g_hash_table_lookup (batch->overlay, k);
  if (v != NULL)
    {
      if (g_bytes_get_data (v, NULL) != &deleted_marker)
        *out = g_bytes_ref (v);
      return TRUE;
    }
  if (!index_key (batch->state, batch->index->tag, 'r', key, key_len, &sk))
    return bad_key (error);
  return mero_store_get (batch->state->store, &sk, out, error);
}

void
mero_index_batch_put (MeroIndexBatch *batch, const uint8_t *key, size_t key_len,
                      const uint8_t *value, size_t value_len)
{
  MeroKey sk;

  if (!index_key (batch->state, batch->index->tag, 'r', key, key_len, &sk))
    {
      g_critical ("index %s: key longer than MERO_INDEX_KEY_MAX", batch->index->name);
      return;
    }
  g_hash_table_replace (batch->overlay, g_bytes_new (key, key_len),
                        g_bytes_new (value, value_len));
}

void
mero_index_batch_delete (MeroIndexBatch *batch, const uint8_t *key, size_t key_len)
{
  MeroKey sk;

  if (!index_key (batch->state, batch->index->tag, 'r', key, key_len, &sk))
    {
      g_critical ("index %s: key longer than MERO_INDEX_KEY_MAX", batch->index->name);
      return;
    }
  g_hash_table_replace (batch->overlay, g_bytes_new (key, key_len),
                        g_bytes_new_static (&deleted_marker, 1));
}

/* ---- committed reads (MeroStateAccess) ---------------------------------- */

gboolean
mero_state_index_read_version (MeroState *state, const char *plugin, uint32_t *out,
                               GError **error)
{
  guint8 tag[TAG_LEN];

  name_tag (plugin, tag);
  return read_version (state, tag, out, error);
}

gboolean
mero_state_index_read (MeroState *state, const char *plugin, const uint8_t *key, size_t key_len,
                       GBytes **out, GError **error)
{
  guint8 tag[TAG_LEN];
  MeroKey sk;

  *out = NULL;
  name_tag (plugin, tag);
  if (!index_key (state, tag, 'r', key, key_len, &sk))
    return bad_key (error);
  return mero_store_get (state->store, &sk, out, error);
}

gboolean
mero_state_index_scan (MeroState *state, const char *plugin, const uint8_t *prefix,
                       size_t prefix_len, MeroIndexScanFunc func, void *data, GError **error)
{
  guint8 tag[TAG_LEN];
  MeroKey sk;
  g_autoptr (MeroStoreIter) it = NULL;
  gsize skip;

  name_tag (plugin, tag);
  if (!index_key (state, tag, 'r', prefix, prefix_len, &sk))
    return bad_key (error);
  /* The key bytes are ctx || fragment: the plugin's key follows. */
  skip = MERO_KEY_ID_LEN + FRAGMENT_LEN + TAG_LEN + 1;
  it = mero_store_iter_new (state->store, NULL, &sk);
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len = 0;
      const guint8 *kb = mero_store_iter_key (it, &len);
      g_autoptr (GBytes) v = NULL;

      if (len < skip)
        continue;
      v = mero_store_iter_value (it);
      if (!func (kb + skip, len - skip, g_bytes_get_data (v, NULL), g_bytes_get_size (v), data))
        break;
    }
  return mero_store_iter_check (it, error);
}
