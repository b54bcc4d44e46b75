/* mero-store-keys.c: typed key builders (layouts in mero-store-keys.h). */
#include "store/mero-store-keys.h"

#include <string.h>

/* Stored as column family names: never rename one. */
static const char *const column_names[MERO_N_COLUMNS + 1] = {
  [MERO_COLUMN_META] = "meta",
  [MERO_COLUMN_CONFIG] = "config",
  [MERO_COLUMN_IDENTITY] = "identity",
  [MERO_COLUMN_STATE] = "state",
  [MERO_COLUMN_DELTA] = "delta",
  [MERO_COLUMN_BLOBS] = "blobs",
  [MERO_COLUMN_APPLICATION] = "application",
  [MERO_COLUMN_ALIAS] = "alias",
  [MERO_COLUMN_GROUP] = "group",
  [MERO_COLUMN_GENERIC] = "generic",
  [MERO_N_COLUMNS] = NULL,
};

const char *
mero_column_name (MeroColumn column)
{
  g_return_val_if_fail ((guint) column < MERO_N_COLUMNS, NULL);
  return column_names[column];
}

const char *const *
mero_column_names (void)
{
  return column_names;
}

/* Appends to a key under construction; the callers have checked the
 * total length against MERO_KEY_MAX. */
static inline void
key_append (MeroKey *key, const void *bytes, gsize len)
{
  if (len == 0)
    return;
  memcpy (key->bytes + key->len, bytes, len);
  key->len += (guint16) len;
}

static inline void
key_start (MeroKey *key, MeroColumn column)
{
  key->column = column;
  key->len = 0;
}

/* Valid names are non-empty UTF-8 that fit after @fixed bytes. */
static gboolean
name_fits (const char *name, gsize fixed, gsize *out_len)
{
  gsize len;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len == 0 || len > MERO_KEY_MAX - fixed)
    return FALSE;
  if (!g_utf8_validate (name, (gssize) len, NULL))
    return FALSE;
  *out_len = len;
  return TRUE;
}

static gboolean
name_key (MeroKey *key, MeroColumn column, const guint8 *tag, const char *name)
{
  gsize fixed = tag != NULL ? 1 : 0;
  gsize len;

  if (!name_fits (name, fixed, &len))
    return FALSE;
  key_start (key, column);
  key_append (key, tag, fixed);
  key_append (key, name, len);
  return TRUE;
}

gboolean
mero_key_meta (MeroKey *key, const char *name)
{
  static const guint8 tag = MERO_KEY_META_TAG_NAME;

  g_return_val_if_fail (key != NULL, FALSE);
  return name_key (key, MERO_COLUMN_META, &tag, name);
}

MeroKey
mero_key_context_meta (const guint8 ctx[MERO_KEY_ID_LEN])
{
  static const guint8 tag = MERO_KEY_META_TAG_CONTEXT;
  MeroKey key;

  key_start (&key, MERO_COLUMN_META);
  g_return_val_if_fail (ctx != NULL, key);
  key_append (&key, &tag, 1);
  key_append (&key, ctx, MERO_KEY_ID_LEN);
  return key;
}

gboolean
mero_key_config (MeroKey *key, const char *name)
{
  g_return_val_if_fail (key != NULL, FALSE);
  return name_key (key, MERO_COLUMN_CONFIG, NULL, name);
}

gboolean
mero_key_identity (MeroKey *key, const char *name)
{
  g_return_val_if_fail (key != NULL, FALSE);
  return name_key (key, MERO_COLUMN_IDENTITY, NULL, name);
}

/* A key made of one leading id; the other id-led layouts extend it. */
static MeroKey
id_key (MeroColumn column, const guint8 *id)
{
  MeroKey key;

  key_start (&key, column);
  g_return_val_if_fail (id != NULL, key);
  key_append (&key, id, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_state (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 entity[MERO_KEY_ID_LEN])
{
  MeroKey key = id_key (MERO_COLUMN_STATE, ctx);

  g_return_val_if_fail (entity != NULL, key);
  key_append (&key, entity, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_delta (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 delta[MERO_KEY_ID_LEN])
{
  MeroKey key = id_key (MERO_COLUMN_DELTA, ctx);

  g_return_val_if_fail (delta != NULL, key);
  key_append (&key, delta, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_blob (const guint8 blob[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_BLOBS, blob);
}

MeroKey
mero_key_application (const guint8 app[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_APPLICATION, app);
}

gboolean
mero_key_alias (MeroKey *key, guint8 kind, const guint8 scope[MERO_KEY_ID_LEN],
                const char *name)
{
  gsize len;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (scope != NULL, FALSE);

  if (!name_fits (name, 1 + MERO_KEY_ID_LEN, &len))
    return FALSE;
  key_start (key, MERO_COLUMN_ALIAS);
  key_append (key, &kind, 1);
  key_append (key, scope, MERO_KEY_ID_LEN);
  key_append (key, name, len);
  return TRUE;
}

gboolean
mero_key_group (MeroKey *key, const guint8 group[MERO_KEY_ID_LEN], guint8 record,
                const guint8 *suffix, gsize suffix_len)
{
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (group != NULL, FALSE);
  g_return_val_if_fail (suffix != NULL || suffix_len == 0, FALSE);

  if (suffix_len > MERO_KEY_MAX - MERO_KEY_ID_LEN - 1)
    return FALSE;
  key_start (key, MERO_COLUMN_GROUP);
  key_append (key, group, MERO_KEY_ID_LEN);
  key_append (key, &record, 1);
  key_append (key, suffix, suffix_len);
  return TRUE;
}

gboolean
mero_key_generic (MeroKey *key, const guint8 scope[MERO_KEY_ID_LEN], const guint8 *fragment,
                  gsize fragment_len)
{
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (scope != NULL, FALSE);
  g_return_val_if_fail (fragment != NULL || fragment_len == 0, FALSE);

  if (fragment_len > MERO_KEY_MAX - MERO_KEY_ID_LEN)
    return FALSE;
  key_start (key, MERO_COLUMN_GENERIC);
  key_append (key, scope, MERO_KEY_ID_LEN);
  key_append (key, fragment, fragment_len);
  return TRUE;
}

MeroKey
mero_key_prefix_column (MeroColumn column)
{
  MeroKey key;

  key_start (&key, column);
  g_return_val_if_fail ((guint) column < MERO_N_COLUMNS, key);
  return key;
}

MeroKey
mero_key_prefix_meta_names (void)
{
  static const guint8 tag = MERO_KEY_META_TAG_NAME;
  MeroKey key;

  key_start (&key, MERO_COLUMN_META);
  key_append (&key, &tag, 1);
  return key;
}

MeroKey
mero_key_prefix_context_metas (void)
{
  static const guint8 tag = MERO_KEY_META_TAG_CONTEXT;
  MeroKey key;

  key_start (&key, MERO_COLUMN_META);
  key_append (&key, &tag, 1);
  return key;
}

MeroKey
mero_key_prefix_state (const guint8 ctx[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_STATE, ctx);
}

MeroKey
mero_key_prefix_deltas (const guint8 ctx[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_DELTA, ctx);
}

MeroKey
mero_key_prefix_aliases (guint8 kind)
{
  MeroKey key;

  key_start (&key, MERO_COLUMN_ALIAS);
  key_append (&key, &kind, 1);
  return key;
}

MeroKey
mero_key_prefix_aliases_in_scope (guint8 kind, const guint8 scope[MERO_KEY_ID_LEN])
{
  MeroKey key = mero_key_prefix_aliases (kind);

  g_return_val_if_fail (scope != NULL, key);
  key_append (&key, scope, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_prefix_group (const guint8 group[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_GROUP, group);
}

MeroKey
mero_key_prefix_group_record (const guint8 group[MERO_KEY_ID_LEN], guint8 record)
{
  MeroKey key = id_key (MERO_COLUMN_GROUP, group);

  key_append (&key, &record, 1);
  return key;
}

MeroKey
mero_key_prefix_generic (const guint8 scope[MERO_KEY_ID_LEN])
{
  return id_key (MERO_COLUMN_GENERIC, scope);
}

gboolean
mero_key_from_bytes (MeroKey *key, MeroColumn column, const guint8 *bytes, gsize len)
{
  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (bytes != NULL || len == 0, FALSE);

  if ((guint) column >= MERO_N_COLUMNS || len > MERO_KEY_MAX)
    return FALSE;
  /* The store's own records are out of callers' reach. */
  if (column == MERO_COLUMN_META && len > 0 && bytes[0] == MERO_KEY_META_TAG_RESERVED)
    return FALSE;
  key_start (key, column);
  key_append (key, bytes, len);
  return TRUE;
}

gboolean
mero_key_equal (const MeroKey *a, const MeroKey *b)
{
  g_return_val_if_fail (a != NULL && b != NULL, FALSE);
  return a->column == b->column && a->len == b->len && memcmp (a->bytes, b->bytes, a->len) == 0;
}

gboolean
mero_key_has_prefix (const MeroKey *key, const MeroKey *prefix)
{
  g_return_val_if_fail (key != NULL && prefix != NULL, FALSE);
  return key->column == prefix->column && key->len >= prefix->len
         && memcmp (key->bytes, prefix->bytes, prefix->len) == 0;
}

static MeroKey
meta_ctx_key (guint8 tag, const guint8 ctx[MERO_KEY_ID_LEN])
{
  MeroKey key;

  key_start (&key, MERO_COLUMN_META);
  key_append (&key, &tag, 1);
  key_append (&key, ctx, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_context_dag (const guint8 ctx[MERO_KEY_ID_LEN])
{
  g_return_val_if_fail (ctx != NULL, mero_key_prefix_column (MERO_COLUMN_META));
  return meta_ctx_key (MERO_KEY_META_TAG_CONTEXT_DAG, ctx);
}

MeroKey
mero_key_delta_pending (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 delta[MERO_KEY_ID_LEN])
{
  MeroKey key;

  g_return_val_if_fail (ctx != NULL && delta != NULL, mero_key_prefix_column (MERO_COLUMN_META));
  key = meta_ctx_key (MERO_KEY_META_TAG_DELTA_PENDING, ctx);
  key_append (&key, delta, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_prefix_deltas_pending (const guint8 ctx[MERO_KEY_ID_LEN])
{
  g_return_val_if_fail (ctx != NULL, mero_key_prefix_column (MERO_COLUMN_META));
  return meta_ctx_key (MERO_KEY_META_TAG_DELTA_PENDING, ctx);
}

gboolean
mero_key_peer (MeroKey *key, const guint8 *multihash, gsize len)
{
  g_return_val_if_fail (key != NULL, FALSE);

  if (multihash == NULL || len == 0 || len > MERO_KEY_PEER_MAX)
    return FALSE;
  *key = mero_key_prefix_peers ();
  key_append (key, multihash, len);
  return TRUE;
}

MeroKey
mero_key_prefix_peers (void)
{
  MeroKey key;
  guint8 tag = MERO_KEY_META_TAG_PEER;

  key_start (&key, MERO_COLUMN_META);
  key_append (&key, &tag, 1);
  return key;
}

MeroKey
mero_key_state_child (const guint8 ctx[MERO_KEY_ID_LEN], const guint8 parent[MERO_KEY_ID_LEN],
                      const guint8 child[MERO_KEY_ID_LEN])
{
  MeroKey key = mero_key_state (ctx, parent);

  g_return_val_if_fail (child != NULL, key);
  key_append (&key, child, MERO_KEY_ID_LEN);
  return key;
}

MeroKey
mero_key_prefix_state_children (const guint8 ctx[MERO_KEY_ID_LEN],
                                const guint8 parent[MERO_KEY_ID_LEN])
{
  return mero_key_state (ctx, parent);
}
