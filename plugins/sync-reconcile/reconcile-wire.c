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
  return 32 + 32 + 1 + 6 * 8 + 5 + e->data_len;
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

static uint64_t
zigzag (int64_t v)
{
  return ((uint64_t) v << 1) ^ (uint64_t) (v >> 63);
}

/* zstd(raw) to the end of the body.  The level is fixed so
 * the compressed bytes are a function of raw: the decoder compresses
 * again and refuses anything else (one encoding per message, which the
 * fuzz target checks). */
static void
compress_into (GByteArray *o, const GByteArray *raw)
{
  size_t bound = ZSTD_compressBound (raw->len), written;

  g_byte_array_set_size (o, (guint) (o->len + bound));
  written = ZSTD_compress (o->data + o->len - bound, bound, raw->data, raw->len,
                           RECONCILE_ZSTD_LEVEL);
  /* Compressing bytes we made into a buffer of the bound cannot fail. */
  g_assert (!ZSTD_isError (written));
  g_byte_array_set_size (o, (guint) (o->len - bound + written));
}

#define ENTITY(entities, i) (&((ReconcileEntity *) (entities)->pdata[i])->e)

/* Columns, not rows: the ids are random (zstd cannot shrink them, and
 * mixed into the rest they cost it ~4 bytes an entity in its literal
 * tables), the rest is parents mostly shared, small types, times that
 * differ in their low bytes and text-like data, each column compressing
 * best next to its kind (measured: 64 -> 59 bytes an entity in the
 * benchmark's sessions).  No created_at: a merge never reads it (the
 * receiver's is the sender's updated_at, mero-state-access.h). */
static void
put_entities (GByteArray *o, GPtrArray *entities)
{
  g_autoptr (GByteArray) raw = NULL;
  guint n = entities->len;

  put_varint (o, n);
  if (n == 0)
    return;
  for (guint i = 0; i < n; i++)
    g_byte_array_append (o, ENTITY (entities, i)->id, 32);
  raw = g_byte_array_new ();
  for (guint i = 0; i < n; i++)
    g_byte_array_append (raw, ENTITY (entities, i)->parent_id, 32);
  for (guint i = 0; i < n; i++)
    put_u8 (raw, (uint8_t) ENTITY (entities, i)->crdt_type);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->updated_at);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->updated_node);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->deleted_at);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->deleted_node);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->cleared_at);
  for (guint i = 0; i < n; i++)
    put_u64 (raw, ENTITY (entities, i)->cleared_node);
  for (guint i = 0; i < n; i++)
    put_varint (raw, ENTITY (entities, i)->data_len);
  for (guint i = 0; i < n; i++)
    if (ENTITY (entities, i)->data_len > 0)
      g_byte_array_append (raw, ENTITY (entities, i)->data,
                           (guint) ENTITY (entities, i)->data_len);
  compress_into (o, raw);
}

/* Symbols carry what the decoder reads (riblt.h): the sum, the low 32
 * bits of the checksum and the low 8 bits of the count; the batch's first
 * count goes in full (the receiver unwraps the others around what it
 * expects from it, reconcile-responder.c). */
static void
put_symbols (GByteArray *o, const ReconcileMsg *m)
{
  put_varint (o, m->first_index);
  put_varint (o, m->symbols->len);
  if (m->symbols->len == 0)
    return;
  put_varint (o, zigzag (g_array_index (m->symbols, RibltSymbol, 0).count));
  for (guint i = 0; i < m->symbols->len; i++)
    {
      const RibltSymbol *s = &g_array_index (m->symbols, RibltSymbol, i);

      g_byte_array_append (o, s->sum, RIBLT_ITEM_SIZE);
      put_u32 (o, (uint32_t) (s->checksum & RIBLT_CHECKSUM_MASK));
      put_u8 (o, (uint8_t) ((uint64_t) s->count & RIBLT_COUNT_MASK));
    }
}

size_t
reconcile_msg_overhead (const ReconcileMsg *m)
{
  g_autoptr (GByteArray) o = g_byte_array_new ();

  /* The frame without its entities: their columns are all that
   * follows the fields below. */
  put_u32 (o, 0);
  put_u8 (o, m->type);
  put_u8 (o, m->more);
  if (m->type == RECONCILE_MSG_RESULT)
    {
      put_varint (o, m->symbols_used);
      put_varint (o, m->wants->len);
    }
  return o->len + 8 * (size_t) m->wants->len;
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
      put_symbols (out, m);
      break;
    case RECONCILE_MSG_MORE:
      put_varint (out, m->n_more);
      break;
    case RECONCILE_MSG_RESULT:
      put_u8 (out, m->more);
      put_varint (out, m->symbols_used);
      put_varint (out, m->wants->len);
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
get_varint32 (Reader *r, uint32_t *v)
{
  uint64_t w;

  if (!get_varint (r, &w) || w > G_MAXUINT32)
    return FALSE;
  *v = (uint32_t) w;
  return TRUE;
}

/* The columns after the ids (see put_entities), all of @raw. */
static gboolean
get_columns (const uint8_t *raw, size_t raw_len, const uint8_t *ids, uint32_t n,
             GPtrArray *out, GError **error)
{
  /* parents, types and the six time columns: fixed widths. */
  size_t fixed = (size_t) n * (32 + 1 + 6 * 8);
  g_autofree uint32_t *lens = g_new (uint32_t, n);
  Reader r;
  uint64_t total = 0;

  if (raw_len < fixed)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entities");
  r = (Reader){ raw + fixed, raw_len - fixed };
  for (uint32_t i = 0; i < n; i++)
    {
      if (!get_varint32 (&r, &lens[i]))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity length");
      if (lens[i] > RECONCILE_MAX_DATA)
        return fail (error, MERO_SYNC_ERROR_LIMIT, "entity data over RECONCILE_MAX_DATA");
      total += lens[i];
    }
  if (total != r.left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entity data does not fill the message");
  for (uint32_t i = 0; i < n; i++)
    {
      MeroStateEntity e = { 0 };
      uint64_t *times[6] = { &e.updated_at, &e.updated_node, &e.deleted_at,
                             &e.deleted_node, &e.cleared_at, &e.cleared_node };

      memcpy (e.id, ids + 32 * (size_t) i, 32);
      memcpy (e.parent_id, raw + 32 * (size_t) i, 32);
      e.crdt_type = raw[32 * (size_t) n + i];
      for (guint k = 0; k < 6; k++)
        {
          /* Column k, row i: within the fixed part checked above. */
          Reader t = { raw + 33 * (size_t) n + 8 * ((size_t) k * n + i), 8 };

          get_u64 (&t, times[k]);
        }
      g_ptr_array_add (out, entity_take (&e, g_bytes_new (r.p, lens[i])));
      r.p += lens[i];
      r.left -= lens[i];
    }
  return TRUE;
}

/* The entities: the rest of the body. */
static gboolean
get_entities (Reader *r, GPtrArray *out, GError **error)
{
  uint32_t n;
  const uint8_t *ids;
  unsigned long long declared;
  g_autofree uint8_t *raw = NULL;
  g_autoptr (GByteArray) again = NULL;
  size_t got;

  if (!get_varint32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated entity count");
  if (n > RECONCILE_MAX_ENTITIES_PER_MESSAGE)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "over RECONCILE_MAX_ENTITIES_PER_MESSAGE");
  if (n == 0)
    return TRUE;
  if ((uint64_t) n * 32 > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entity count over the message");
  ids = r->p;
  r->p += 32 * (size_t) n;
  r->left -= 32 * (size_t) n;
  declared = ZSTD_getFrameContentSize (r->p, r->left);
  if (declared == ZSTD_CONTENTSIZE_ERROR || declared == ZSTD_CONTENTSIZE_UNKNOWN)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entities do not decompress");
  /* Bounded before anything is allocated: a frame's worth at most, and
   * at least the fixed columns of n entities. */
  if (declared > RECONCILE_MAX_FRAME)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "entities over RECONCILE_MAX_FRAME");
  if (declared < (uint64_t) n * (32 + 1 + 6 * 8 + 1))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entity count over the message");
  raw = g_malloc ((size_t) declared);
  got = ZSTD_decompress (raw, (size_t) declared, r->p, r->left);
  if (ZSTD_isError (got) || got != declared)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entities do not decompress");
  again = g_byte_array_new ();
  compress_into (again, &(GByteArray){ .data = raw, .len = (guint) declared });
  if (again->len != r->left || memcmp (again->data, r->p, r->left) != 0)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "entities not in their canonical compression");
  r->p += r->left;
  r->left = 0;
  return get_columns (raw, (size_t) declared, ids, n, out, error);
}

static gboolean
get_symbols (Reader *r, ReconcileMsg *m, GError **error)
{
  uint32_t n;
  uint64_t first = 0;

  if (!get_varint32 (r, &m->first_index) || !get_varint32 (r, &n))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated symbols");
  if (n > RECONCILE_MAX_SYMBOLS_PER_MESSAGE)
    return fail (error, MERO_SYNC_ERROR_LIMIT, "over RECONCILE_MAX_SYMBOLS_PER_MESSAGE");
  if (n > 0 && !get_varint (r, &first))
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated symbols");
  if ((uint64_t) n * RECONCILE_WIRE_SYMBOL_BYTES > r->left)
    return fail (error, MERO_SYNC_ERROR_PROTOCOL, "symbol count over the message");
  g_array_set_size (m->symbols, n);
  for (uint32_t i = 0; i < n; i++)
    {
      RibltSymbol *s = &g_array_index (m->symbols, RibltSymbol, i);
      uint32_t checksum;
      uint8_t low;

      if (!get_bytes (r, s->sum, RIBLT_ITEM_SIZE) || !get_u32 (r, &checksum)
          || !get_bytes (r, &low, 1))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated symbol");
      s->checksum = checksum;
      s->count = low;
    }
  if (n > 0)
    {
      RibltSymbol *s0 = &g_array_index (m->symbols, RibltSymbol, 0);
      int64_t count = (int64_t) (first >> 1) ^ -(int64_t) (first & 1);

      /* One value, one encoding: the full count and its low byte agree. */
      if (((uint64_t) count & RIBLT_COUNT_MASK) != (uint64_t) s0->count)
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "first count does not match its symbol");
      s0->count = count;
    }
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
      if (!get_symbols (&r, m, error))
        return NULL;
      break;
    case RECONCILE_MSG_MORE:
      if (!get_varint32 (&r, &m->n_more))
        return fail (error, MERO_SYNC_ERROR_PROTOCOL, "truncated more"), NULL;
      break;
    case RECONCILE_MSG_RESULT:
      if (!get_bytes (&r, &m->more, 1) || m->more > 1 || !get_varint32 (&r, &m->symbols_used)
          || !get_varint32 (&r, &n))
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
