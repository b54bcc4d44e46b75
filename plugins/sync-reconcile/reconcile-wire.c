/* reconcile-wire.c: see reconcile-wire.h. */
#include "reconcile-wire.h"

#include <string.h>
#include <zstd.h>

ReconcileMsg *
reconcile_msg_new (uint8_t type)
{
  ReconcileMsg *m = g_new0 (ReconcileMsg, 1);

  m->type = type;
  m->symbols = g_array_new (FALSE, FALSE, sizeof (RibltSymbol));
  m->wants = g_array_new (FALSE, FALSE, sizeof (uint64_t));
  m->entities = g_ptr_array_new_with_free_func ((GDestroyNotify) reconcile_entity_free);
  return m;
}

void
reconcile_msg_free (ReconcileMsg *m)
{
  if (m == NULL)
    return;
  g_array_unref (m->symbols);
  g_array_unref (m->wants);
  g_ptr_array_unref (m->entities);
  g_free (m);
}

static ReconcileEntity *
entity_take (const MeroStateEntity *e, GBytes *data)
{
  ReconcileEntity *we = g_new0 (ReconcileEntity, 1);
  gsize len = 0;

  we->e = *e;
  we->e.struct_size = sizeof (MeroStateEntity);
  we->data = data;
  we->e.data = g_bytes_get_data (data, &len);
  we->e.data_len = len;
  we->e.child_ids = NULL;
  we->e.n_children = 0;
  return we;
}

ReconcileEntity *
reconcile_entity_new (const MeroStateEntity *e)
{
  return entity_take (e, g_bytes_new (e->data, e->data_len));
}

void
reconcile_entity_free (ReconcileEntity *we)
{
  if (we == NULL)
    return;
  g_bytes_unref (we->data);
  g_free (we);
}

size_t
reconcile_entity_wire_size (const MeroStateEntity *e)
{
  return 32 + 32 + 1 + 3 * 16 + 4 + e->data_len;
}

/* ---- encode ------------------------------------------------------------- */

static void
put_u8 (GByteArray *o, uint8_t v)
{
  g_byte_array_append (o, &v, 1);
}

static void
put_u32 (GByteArray *o, uint32_t v)
{
  uint8_t b[4] = { v >> 24, v >> 16, v >> 8, v };

  g_byte_array_append (o, b, 4);
}

static void
put_u64 (GByteArray *o, uint64_t v)
{
  put_u32 (o, (uint32_t) (v >> 32));
  put_u32 (o, (uint32_t) v);
}

static void
put_varint (GByteArray *o, uint64_t v)
{
  while (v >= 0x80)
    {
      put_u8 (o, (uint8_t) (v | 0x80));
      v >>= 7;
    }
  put_u8 (o, (uint8_t) v);
}

static void
put_entity (GByteArray *o, const MeroStateEntity *e)
{
  g_byte_array_append (o, e->id, 32);
  g_byte_array_append (o, e->parent_id, 32);
  put_u8 (o, (uint8_t) e->crdt_type);
  /* No created_at: a merge never reads it (the receiver's is the
   * sender's updated_at, mero-state-access.h). */
  put_u64 (o, e->updated_at);
  put_u64 (o, e->updated_node);
  put_u64 (o, e->deleted_at);
  put_u64 (o, e->deleted_node);
  put_u64 (o, e->cleared_at);
  put_u64 (o, e->cleared_node);
  put_u32 (o, (uint32_t) e->data_len);
  if (e->data_len > 0)
    g_byte_array_append (o, e->data, (guint) e->data_len);
}

/* u32 raw_len || zstd(raw) to the end of the body, raw = u32 n ||
 * n x entity.  The level is fixed so the compressed bytes are a function
 * of raw: the decoder compresses again and refuses anything else (one
 * encoding per message, which the fuzz target checks). */
static void
compress_into (GByteArray *o, const GByteArray *raw)
{
  size_t bound = ZSTD_compressBound (raw->len), written;

  put_u32 (o, raw->len);
  g_byte_array_set_size (o, (guint) (o->len + bound));
  written = ZSTD_compress (o->data + o->len - bound, bound, raw->data, raw->len,
                           RECONCILE_ZSTD_LEVEL);
  /* Compressing bytes we made into a buffer of the bound cannot fail. */
  g_assert (!ZSTD_isError (written));
  g_byte_array_set_size (o, (guint) (o->len - bound + written));
}

static void
put_entities (GByteArray *o, GPtrArray *entities)
{
  g_autoptr (GByteArray) raw = g_byte_array_new ();

  put_u32 (raw, entities->len);
  for (guint i = 0; i < entities->len; i++)
    put_entity (raw, &((ReconcileEntity *) entities->pdata[i])->e);
  compress_into (o, raw);
}

void
reconcile_msg_encode (const ReconcileMsg *m, GByteArray *out)
{
  guint start = out->len;
  uint32_t body;

  put_u32 (out, 0);
  put_u8 (out, m->type);
  switch (m->type)
    {
    case RECONCILE_MSG_SYMBOLS:
      put_u32 (out, m->first_index);
      put_u32 (out, m->symbols->len);
      for (guint i = 0; i < m->symbols->len; i++)
        {
          const RibltSymbol *s = &g_array_index (m->symbols, RibltSymbol, i);

          g_byte_array_append (out, s->sum, RIBLT_ITEM_SIZE);
          put_u64 (out, s->checksum);
          /* Zigzag: counts near zero (most symbols past the first few)
           * take one byte whatever their sign. */
          put_varint (out, ((uint64_t) s->count << 1) ^ (uint64_t) (s->count >> 63));
        }
      break;
    case RECONCILE_MSG_MORE:
      put_u32 (out, m->n_more);
      break;
    case RECONCILE_MSG_RESULT:
      put_u8 (out, m->more);
      put_u32 (out, m->symbols_used);
      put_u32 (out, m->wants->len);
      for (guint i = 0; i < m->wants->len; i++)
        put_u64 (out, g_array_index (m->wants, uint64_t, i));
      put_entities (out, m->entities);
      break;
    default:
      put_u8 (out, m->more);
      put_entities (out, m->entities);
      break;
    }
  body = out->len - start - 4;
  out->data[start] = (uint8_t) (body >> 24);
  out->data[start + 1] = (uint8_t) (body >> 16);
  out->data[start + 2] = (uint8_t) (body >> 8);
  out->data[start + 3] = (uint8_t) body;
}

/* ---- decode ------------------------------------------------------------- */

typedef struct {
  const uint8_t *p;
  size_t left;
} Reader;

static gboolean
fail (GError **error, int code, const char *what)
{
  g_set_error_literal (error, MERO_SYNC_ERROR, code, what);
  return FALSE;
}

static gboolean
get_bytes (Reader *r, void *out, size_t n)
{
  if (r->left < n)
    return FALSE;
  memcpy (out, r->p, n);
  r->p += n;
  r->left -= n;
  return TRUE;
}

static gboolean
get_u32 (Reader *r, uint32_t *v)
{
  uint8_t b[4];

  if (!get_bytes (r, b, 4))
    return FALSE;
  *v = (uint32_t) b[0] << 24 | (uint32_t) b[1] << 16 | (uint32_t) b[2] << 8 | b[3];
  return TRUE;
}

static gboolean
get_u64 (Reader *r, uint64_t *v)
{
  uint32_t hi, lo;

  if (!get_u32 (r, &hi) || !get_u32 (r, &lo))
    return FALSE;
  *v = (uint64_t) hi << 32 | lo;
  return TRUE;
}

static gboolean
get_varint (Reader *r, uint64_t *v)
{
  *v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7)
    {
      uint8_t b;

      if (!get_bytes (r, &b, 1))
        return FALSE;
      /* The tenth byte may only carry the top bit. */
      if (shift == 63 && b > 1)
        return FALSE;
      *v |= (uint64_t) (b & 0x7f) << shift;
      /* Minimal encodings only (a trailing zero byte is not): one value,
       * one encoding. */
      if ((b & 0x80) == 0)
        return b != 0 || shift == 0;
    }
  return FALSE;
}

static gboolean
get_entity (Reader *r, GPtrArray *out, GError **error)
{
  MeroStateEntity e = { 0 };
  uint8_t type;
  uint32_t len;

  if (!get_bytes (r, e.id, 32) || !get_bytes (r, e.parent_id, 32) || !get_bytes (r, &type, 1)
      || !get_u64 (r, &e.updated_at) || !get_u64 (r, &e.updated_node)
      || !get_u64 (r, &e.deleted_at) || !get_u64 (r, &e.deleted_node)
      || !get_u64 (r, &e.cleared_at) || !get_u64 (r, &e.cleared_node) || !get_u32 (r, &len))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity");
  if (len > RECONCILE_MAX_DATA)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "entity data over RECONCILE_MAX_DATA");
  if (r->left < len)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity data");
  e.crdt_type = type;
  g_ptr_array_add (out, entity_take (&e, g_bytes_new (r->p, len)));
  r->p += len;
  r->left -= len;
  return TRUE;
}

static gboolean
get_entities_raw (Reader *r, GPtrArray *out, GError **error)
{
  uint32_t n;

  if (!get_u32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity count");
  if (n > RECONCILE_MAX_ENTITIES_PER_MESSAGE)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "over RECONCILE_MAX_ENTITIES_PER_MESSAGE");
  /* Each entity takes at least its fixed part: a count the bytes cannot
   * hold is refused before anything is allocated. */
  if ((uint64_t) n * reconcile_entity_wire_size (&(MeroStateEntity){ 0 }) > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entity count over the message");
  for (uint32_t i = 0; i < n; i++)
    if (!get_entity (r, out, error))
      return FALSE;
  return TRUE;
}

/* The compressed entities: the rest of the body. */
static gboolean
get_entities (Reader *r, GPtrArray *out, GError **error)
{
  uint32_t raw_len;
  unsigned long long declared;
  g_autofree uint8_t *raw = NULL;
  g_autoptr (GByteArray) again = NULL;
  Reader rr;
  size_t got;

  if (!get_u32 (r, &raw_len))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entities");
  /* Bounded before anything is allocated: a frame's worth at most. */
  if (raw_len > RECONCILE_MAX_FRAME)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "entities over RECONCILE_MAX_FRAME");
  declared = ZSTD_getFrameContentSize (r->p, r->left);
  if (declared != raw_len)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "compressed size does not match");
  raw = g_malloc (MAX (raw_len, 1u));
  got = ZSTD_decompress (raw, raw_len, r->p, r->left);
  if (ZSTD_isError (got) || got != raw_len)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entities do not decompress");
  again = g_byte_array_new ();
  compress_into (again, &(GByteArray){ .data = raw, .len = raw_len });
  if (again->len - 4 != r->left || memcmp (again->data + 4, r->p, r->left) != 0)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entities not in their canonical compression");
  r->p += r->left;
  r->left = 0;
  rr = (Reader){ raw, raw_len };
  if (!get_entities_raw (&rr, out, error))
    return FALSE;
  if (rr.left != 0)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "trailing entity bytes");
  return TRUE;
}

ReconcileMsg *
reconcile_msg_decode (const uint8_t *body, size_t len, GError **error)
{
  Reader r = { body, len };
  g_autoptr (ReconcileMsg) m = NULL;
  uint8_t type;
  uint32_t n;

  if (!get_bytes (&r, &type, 1))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "empty message"), NULL;
  m = reconcile_msg_new (type);
  switch (type)
    {
    case RECONCILE_MSG_SYMBOLS:
      if (!get_u32 (&r, &m->first_index) || !get_u32 (&r, &n))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated symbols"), NULL;
      if (n > RECONCILE_MAX_SYMBOLS_PER_MESSAGE)
        return fail (error, MERO_SYNC_ERROR_LIMIT, "over RECONCILE_MAX_SYMBOLS_PER_MESSAGE"),
               NULL;
      if ((uint64_t) n * (RIBLT_ITEM_SIZE + 9) > r.left)
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "symbol count over the message"), NULL;
      g_array_set_size (m->symbols, n);
      for (uint32_t i = 0; i < n; i++)
        {
          RibltSymbol *s = &g_array_index (m->symbols, RibltSymbol, i);
          uint64_t z;

          if (!get_bytes (&r, s->sum, RIBLT_ITEM_SIZE) || !get_u64 (&r, &s->checksum)
              || !get_varint (&r, &z))
            return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated symbol"), NULL;
          s->count = (int64_t) (z >> 1) ^ -(int64_t) (z & 1);
        }
      break;
    case RECONCILE_MSG_MORE:
      if (!get_u32 (&r, &m->n_more))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated more"), NULL;
      break;
    case RECONCILE_MSG_RESULT:
      if (!get_bytes (&r, &m->more, 1) || m->more > 1 || !get_u32 (&r, &m->symbols_used)
          || !get_u32 (&r, &n))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated result"), NULL;
      if (n > RECONCILE_MAX_WANTS_PER_MESSAGE)
        return fail (error, MERO_SYNC_ERROR_LIMIT, "over RECONCILE_MAX_WANTS_PER_MESSAGE"), NULL;
      if ((uint64_t) n * 8 > r.left)
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "want count over the message"), NULL;
      g_array_set_size (m->wants, n);
      for (uint32_t i = 0; i < n; i++)
        get_u64 (&r, &g_array_index (m->wants, uint64_t, i));
      if (!get_entities (&r, m->entities, error))
        return NULL;
      break;
    case RECONCILE_MSG_ENTITIES:
    case RECONCILE_MSG_FIN:
      if (!get_bytes (&r, &m->more, 1) || m->more > 1)
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entities"), NULL;
      if (!get_entities (&r, m->entities, error))
        return NULL;
      break;
    default:
      return fail (error, MERO_SYNC_ERROR_PROTOCOL, "unknown message type"), NULL;
    }
  if (r.left != 0)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "trailing bytes"), NULL;
  return g_steal_pointer (&m);
}
