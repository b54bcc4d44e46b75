#include "context/state/mero-entity.h"

#include <string.h>

#include "context/state/mero-state.h"
#include "crypto/mero-sha256.h"

/* 2: cleared_at after deleted_at (MERO_STATE_FORMAT 3). */
#define RECORD_VERSION 2
#define FLAG_HAS_PARENT 0x01
#define HEADER_LEN (1 + 1 + 1 + 1 + 1 + 3 * MERO_ENTITY_ID_LEN + 4 * MERO_HLC_ENCODED_LEN \
                    + 2 * MERO_HASH_LEN)

/* sha256 of no data, the own hash of every bucket and new entity:
 * computed once rather than on every new or decoded entity. */
static const guint8 *
empty_own_hash (void)
{
  static guint8 hash[MERO_HASH_LEN];
  static gsize done = 0;

  if (g_once_init_enter (&done))
    {
      mero_entity_own_hash (NULL, 0, hash);
      g_once_init_leave (&done, 1);
    }
  return hash;
}

MeroEntity *
mero_entity_new (void)
{
  MeroEntity *e = g_new0 (MeroEntity, 1);

  e->data = g_bytes_new (NULL, 0);
  memcpy (e->own_hash, empty_own_hash (), MERO_HASH_LEN);
  return e;
}

MeroEntity *
mero_entity_copy (const MeroEntity *entity)
{
  MeroEntity *e = g_memdup2 (entity, sizeof *entity);

  g_bytes_ref (e->data);
  return e;
}

void
mero_entity_free (MeroEntity *entity)
{
  if (entity == NULL)
    return;
  g_bytes_unref (entity->data);
  g_free (entity);
}

void
mero_entity_set_data (MeroEntity *entity, const guint8 *data, gsize len)
{
  g_bytes_unref (entity->data);
  entity->data = g_bytes_new (data, len);
  mero_entity_own_hash (data, len, entity->own_hash);
}

gboolean
mero_entity_is_self_live (const MeroEntity *entity)
{
  return mero_hlc_compare (&entity->updated_at, &entity->deleted_at) > 0;
}

static guint8 *
put_hlc (guint8 *p, const MeroHlc *ts)
{
  mero_hlc_encode (ts, p);
  return p + MERO_HLC_ENCODED_LEN;
}

static guint8 *
put_bytes (guint8 *p, const guint8 *src, gsize len)
{
  memcpy (p, src, len);
  return p + len;
}

GBytes *
mero_entity_encode (const MeroEntity *e)
{
  gsize data_len = 0;
  const guint8 *data = g_bytes_get_data (e->data, &data_len);
  guint8 *buf = g_malloc (HEADER_LEN + data_len);
  guint8 *p = buf;

  *p++ = RECORD_VERSION;
  *p++ = e->crdt_type;
  *p++ = e->has_parent ? FLAG_HAS_PARENT : 0;
  *p++ = e->depth;
  *p++ = e->phys_depth;
  p = put_bytes (p, e->id, MERO_ENTITY_ID_LEN);
  p = put_bytes (p, e->parent, MERO_ENTITY_ID_LEN);
  p = put_bytes (p, e->phys_parent, MERO_ENTITY_ID_LEN);
  p = put_hlc (p, &e->created_at);
  p = put_hlc (p, &e->updated_at);
  p = put_hlc (p, &e->deleted_at);
  p = put_hlc (p, &e->cleared_at);
  p = put_bytes (p, e->own_hash, MERO_HASH_LEN);
  p = put_bytes (p, e->full_hash, MERO_HASH_LEN);
  if (data_len > 0)
    memcpy (p, data, data_len);
  return g_bytes_new_take (buf, HEADER_LEN + data_len);
}

MeroEntity *
mero_entity_decode (const guint8 *bytes, gsize len, GError **error)
{
  g_autoptr (MeroEntity) e = NULL;
  const guint8 *p = bytes;

  if (len < HEADER_LEN || bytes[0] != RECORD_VERSION || bytes[1] >= MERO_CRDT_N_TYPES)
    {
      g_set_error (error, MERO_STATE_ERROR, MERO_STATE_ERROR_CORRUPT,
                   "entity record of %" G_GSIZE_FORMAT " bytes is not format %d", len,
                   RECORD_VERSION);
      return NULL;
    }
  /* Not mero_entity_new(): every field is read below. */
  e = g_new0 (MeroEntity, 1);
  p++;
  e->crdt_type = *p++;
  e->has_parent = (*p & FLAG_HAS_PARENT) != 0;
  p++;
  e->depth = *p++;
  e->phys_depth = *p++;
  memcpy (e->id, p, MERO_ENTITY_ID_LEN), p += MERO_ENTITY_ID_LEN;
  memcpy (e->parent, p, MERO_ENTITY_ID_LEN), p += MERO_ENTITY_ID_LEN;
  memcpy (e->phys_parent, p, MERO_ENTITY_ID_LEN), p += MERO_ENTITY_ID_LEN;
  e->created_at = mero_hlc_decode (p), p += MERO_HLC_ENCODED_LEN;
  e->updated_at = mero_hlc_decode (p), p += MERO_HLC_ENCODED_LEN;
  e->deleted_at = mero_hlc_decode (p), p += MERO_HLC_ENCODED_LEN;
  e->cleared_at = mero_hlc_decode (p), p += MERO_HLC_ENCODED_LEN;
  memcpy (e->own_hash, p, MERO_HASH_LEN), p += MERO_HASH_LEN;
  memcpy (e->full_hash, p, MERO_HASH_LEN), p += MERO_HASH_LEN;
  e->data = g_bytes_new (p, len - HEADER_LEN);
  return g_steal_pointer (&e);
}

static void
tagged_id (const guint8 parent[MERO_ENTITY_ID_LEN], const char *tag, const guint8 *suffix,
           gsize suffix_len, guint8 out[MERO_ENTITY_ID_LEN])
{
  g_autoptr (MeroSha256) ctx = mero_sha256_new ();

  mero_sha256_update (ctx, parent, MERO_ENTITY_ID_LEN);
  mero_sha256_update (ctx, tag, strlen (tag));
  mero_sha256_update (ctx, suffix, suffix_len);
  mero_sha256_finish (ctx, out);
}

void
mero_entity_bucket_id (const guint8 parent[MERO_ENTITY_ID_LEN],
                       const guint8 child[MERO_ENTITY_ID_LEN], guint level,
                       guint8 out[MERO_ENTITY_ID_LEN])
{
  guint8 nibbles[MERO_ENTITY_BUCKET_LEVELS];

  g_return_if_fail (level >= 1 && level <= MERO_ENTITY_BUCKET_LEVELS);
  for (guint i = 0; i < level; i++)
    nibbles[i] = (child[i / 2] >> (i % 2 == 0 ? 4 : 0)) & 0x0f;
  tagged_id (parent, "bucket", nibbles, level, out);
}

void
mero_entity_entry_id (const guint8 parent[MERO_ENTITY_ID_LEN], const guint8 *key, gsize key_len,
                      guint8 out[MERO_ENTITY_ID_LEN])
{
  tagged_id (parent, "entry", key, key_len, out);
}

guint
mero_id_hash (gconstpointer id)
{
  guint h;

  /* Ids are sha256 outputs (or test patterns): mix a few words. */
  memcpy (&h, (const guint8 *) id + 28, sizeof h);
  return h ^ ((const guint8 *) id)[0] ^ ((guint) ((const guint8 *) id)[1] << 8);
}

gboolean
mero_id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, MERO_ENTITY_ID_LEN) == 0;
}
