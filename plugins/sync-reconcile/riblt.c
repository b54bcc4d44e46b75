/* riblt.c: see riblt.h. */
#include "riblt.h"

#include <math.h>
#include <string.h>

/* ---- SipHash-2-4 (Aumasson, Bernstein), the keyed item hash ------------- */

#define ROTL(x, b) (uint64_t) (((x) << (b)) | ((x) >> (64 - (b))))

static uint64_t
load_le64 (const uint8_t *p)
{
  uint64_t v = 0;

  for (int i = 7; i >= 0; i--)
    v = v << 8 | p[i];
  return v;
}

#define SIPROUND                                                                                \
  do                                                                                            \
    {                                                                                           \
      v0 += v1;                                                                                 \
      v1 = ROTL (v1, 13);                                                                       \
      v1 ^= v0;                                                                                 \
      v0 = ROTL (v0, 32);                                                                       \
      v2 += v3;                                                                                 \
      v3 = ROTL (v3, 16);                                                                       \
      v3 ^= v2;                                                                                 \
      v0 += v3;                                                                                 \
      v3 = ROTL (v3, 21);                                                                       \
      v3 ^= v0;                                                                                 \
      v2 += v1;                                                                                 \
      v1 = ROTL (v1, 17);                                                                       \
      v1 ^= v2;                                                                                 \
      v2 = ROTL (v2, 32);                                                                       \
    }                                                                                           \
  while (0)

uint64_t
riblt_item_hash (const uint8_t key[16], const uint8_t item[RIBLT_ITEM_SIZE])
{
  uint64_t k0 = load_le64 (key), k1 = load_le64 (key + 8);
  uint64_t v0 = k0 ^ 0x736f6d6570736575ull, v1 = k1 ^ 0x646f72616e646f6dull;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ull, v3 = k1 ^ 0x7465646279746573ull;
  /* RIBLT_ITEM_SIZE bytes: whole words, then the length word. */
  uint64_t b = (uint64_t) RIBLT_ITEM_SIZE << 56;

  for (size_t i = 0; i < RIBLT_ITEM_SIZE; i += 8)
    {
      uint64_t m = load_le64 (item + i);

      v3 ^= m;
      SIPROUND;
      SIPROUND;
      v0 ^= m;
    }
  v3 ^= b;
  SIPROUND;
  SIPROUND;
  v0 ^= b;
  v2 ^= 0xff;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  SIPROUND;
  return v0 ^ v1 ^ v2 ^ v3;
}

/* ---- the index walk ----------------------------------------------------- */

void
riblt_mapping_init (RibltMapping *m, uint64_t item_hash)
{
  m->prng = item_hash;
  m->index = 0;
}

/* The paper's generator (and its reference implementation's): the gap
 * after index i is ceil((i + 1.5) * (2^32 / sqrt(r + 1) - 1)) for a
 * uniform 64-bit r, which gives the density 1/(1 + i/2).  IEEE sqrt and
 * products are correctly rounded, so every platform walks the same way. */
void
riblt_mapping_next (RibltMapping *m)
{
  uint64_t r = m->prng * 0xda942042e4dd58b5ull;
  double gap;

  m->prng = r;
  gap = ceil (((double) m->index + 1.5) * (4294967296.0 / sqrt ((double) r + 1.0) - 1.0));
  /* A tiny r jumps past any prefix we will ever build: saturate instead
   * of converting an out-of-range double. */
  if (!(gap < 9.0e18) || (double) m->index + gap >= 9.0e18)
    m->index = G_GUINT64_CONSTANT (9000000000000000000);
  else
    m->index += gap < 1.0 ? 1 : (uint64_t) gap;
}

void
riblt_symbol_apply (RibltSymbol *sym, const uint8_t item[RIBLT_ITEM_SIZE], uint64_t hash,
                    int sign)
{
  for (size_t i = 0; i < RIBLT_ITEM_SIZE; i++)
    sym->sum[i] ^= item[i];
  sym->checksum ^= hash;
  /* Wrapping: a peer's count may be anything (near INT64_MIN too), and
   * signed overflow is undefined; a wrapped count is as wrong as the
   * peer's input was, and such a session ends at its bound. */
  sym->count = (int64_t) ((uint64_t) sym->count + (uint64_t) (int64_t) sign);
}

void
riblt_symbol_subtract (RibltSymbol *a, const RibltSymbol *b)
{
  for (size_t i = 0; i < RIBLT_ITEM_SIZE; i++)
    a->sum[i] ^= b->sum[i];
  a->checksum ^= b->checksum;
  a->count = (int64_t) ((uint64_t) a->count - (uint64_t) b->count);   /* wrapping, see above */
}

gboolean
riblt_symbol_is_zero (const RibltSymbol *sym)
{
  static const uint8_t zero[RIBLT_ITEM_SIZE];

  return sym->count == 0 && sym->checksum == 0 && memcmp (sym->sum, zero, RIBLT_ITEM_SIZE) == 0;
}

double
riblt_density (uint64_t index)
{
  return 1.0 / (1.0 + (double) index / 2.0);
}

int64_t
riblt_count_unwrap (uint8_t low, double near)
{
  /* Counts are set sizes (a peer's may be anything): far out of range,
   * any congruent value will do, and the conversion must stay defined. */
  int64_t base = near > -4.0e18 && near < 4.0e18 ? (int64_t) floor (near + 0.5) : 0;
  /* low - base modulo 2^8, taken into [-128, 127] around base. */
  int64_t diff = (int64_t) (int8_t) (uint8_t) ((uint64_t) low - (uint64_t) base);

  return base + diff;
}

/* ---- encoder ------------------------------------------------------------ */

typedef struct {
  uint8_t item[RIBLT_ITEM_SIZE];
  uint64_t hash;
  RibltMapping next;          /* first index at or past the prefix */
} EncItem;

struct _RibltEncoder {
  uint8_t key[16];
  GArray *items;              /* EncItem */
  GHashTable *where;          /* item bytes (in a GBytes-free copy) -> index + 1 */
  GArray *symbols;            /* RibltSymbol */
};

static guint
item_key_hash (gconstpointer p)
{
  guint h;

  memcpy (&h, p, sizeof h);
  return h;
}

static gboolean
item_key_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, RIBLT_ITEM_SIZE) == 0;
}

RibltEncoder *
riblt_encoder_new (const uint8_t key[16])
{
  RibltEncoder *enc = g_new0 (RibltEncoder, 1);

  memcpy (enc->key, key, 16);
  enc->items = g_array_new (FALSE, FALSE, sizeof (EncItem));
  enc->where = g_hash_table_new_full (item_key_hash, item_key_equal, g_free, NULL);
  enc->symbols = g_array_new (FALSE, TRUE, sizeof (RibltSymbol));
  return enc;
}

void
riblt_encoder_free (RibltEncoder *enc)
{
  if (enc == NULL)
    return;
  g_array_unref (enc->items);
  g_hash_table_unref (enc->where);
  g_array_unref (enc->symbols);
  g_free (enc);
}

/* Applies @it with @sign to every symbol of the prefix it maps to; leaves
 * @m at its first index past the prefix. */
static void
walk_prefix (GArray *symbols, const uint8_t *item, uint64_t hash, RibltMapping *m, int sign)
{
  RibltSymbol *sym = (RibltSymbol *) (void *) symbols->data;

  while (m->index < symbols->len)
    {
      riblt_symbol_apply (&sym[m->index], item, hash, sign);
      riblt_mapping_next (m);
    }
}

void
riblt_encoder_apply (RibltEncoder *enc, const uint8_t item[RIBLT_ITEM_SIZE], int sign)
{
  uint64_t hash = riblt_item_hash (enc->key, item);
  RibltMapping m;

  riblt_mapping_init (&m, hash);
  walk_prefix (enc->symbols, item, hash, &m, sign > 0 ? 1 : -1);
  if (sign > 0)
    {
      EncItem it;

      memcpy (it.item, item, RIBLT_ITEM_SIZE);
      it.hash = hash;
      it.next = m;
      g_array_append_val (enc->items, it);
      g_hash_table_replace (enc->where, g_memdup2 (item, RIBLT_ITEM_SIZE),
                            GUINT_TO_POINTER (enc->items->len));
    }
  else
    {
      guint pos = GPOINTER_TO_UINT (g_hash_table_lookup (enc->where, item));
      guint last = enc->items->len;

      /* Removing an item the set does not hold is still applied to the
       * symbols (the caller's difference), it just has nothing to forget. */
      if (pos == 0)
        return;
      g_hash_table_remove (enc->where, item);
      if (pos != last)
        {
          EncItem *moved = &g_array_index (enc->items, EncItem, last - 1);

          g_array_index (enc->items, EncItem, pos - 1) = *moved;
          g_hash_table_replace (enc->where, g_memdup2 (moved->item, RIBLT_ITEM_SIZE),
                                GUINT_TO_POINTER (pos));
        }
      g_array_set_size (enc->items, last - 1);
    }
}

void
riblt_encoder_extend (RibltEncoder *enc, size_t n_symbols)
{
  if (n_symbols <= enc->symbols->len)
    return;
  g_array_set_size (enc->symbols, (guint) n_symbols);
  for (guint i = 0; i < enc->items->len; i++)
    {
      EncItem *it = &g_array_index (enc->items, EncItem, i);

      walk_prefix (enc->symbols, it->item, it->hash, &it->next, 1);
    }
}

size_t
riblt_encoder_len (const RibltEncoder *enc)
{
  return enc->symbols->len;
}

const RibltSymbol *
riblt_encoder_symbols (const RibltEncoder *enc)
{
  return (const RibltSymbol *) (const void *) enc->symbols->data;
}

size_t
riblt_encoder_n_items (const RibltEncoder *enc)
{
  return enc->items->len;
}

/* ---- decoder ------------------------------------------------------------ */

typedef struct {
  uint8_t item[RIBLT_ITEM_SIZE];
  uint64_t hash;
  int sign;                   /* +1 remote only, -1 local only */
  RibltMapping next;
} DecItem;

struct _RibltDecoder {
  uint8_t key[16];
  RibltEncoder *local;
  size_t max_symbols;
  size_t max_items;
  GArray *cells;              /* RibltSymbol: remote - local - recovered */
  GArray *recovered;          /* DecItem */
  GArray *heap;               /* guint into recovered, min-heap on next.index */
  GArray *pending;            /* guint cell indices to check for purity */
  RibltDecodeStatus status;
  size_t used;
};

RibltDecoder *
riblt_decoder_new (RibltEncoder *local, const uint8_t key[16], size_t max_symbols,
                   size_t max_items)
{
  RibltDecoder *dec = g_new0 (RibltDecoder, 1);

  memcpy (dec->key, key, 16);
  dec->local = local;
  dec->max_symbols = max_symbols;
  dec->max_items = max_items;
  dec->cells = g_array_new (FALSE, TRUE, sizeof (RibltSymbol));
  dec->recovered = g_array_new (FALSE, FALSE, sizeof (DecItem));
  dec->heap = g_array_new (FALSE, FALSE, sizeof (guint));
  dec->pending = g_array_new (FALSE, FALSE, sizeof (guint));
  return dec;
}

void
riblt_decoder_free (RibltDecoder *dec)
{
  if (dec == NULL)
    return;
  g_array_unref (dec->cells);
  g_array_unref (dec->recovered);
  g_array_unref (dec->heap);
  g_array_unref (dec->pending);
  g_free (dec);
}

static uint64_t
heap_key (RibltDecoder *dec, guint pos)
{
  guint r = g_array_index (dec->heap, guint, pos);

  return g_array_index (dec->recovered, DecItem, r).next.index;
}

static void
heap_swap (RibltDecoder *dec, guint a, guint b)
{
  guint t = g_array_index (dec->heap, guint, a);

  g_array_index (dec->heap, guint, a) = g_array_index (dec->heap, guint, b);
  g_array_index (dec->heap, guint, b) = t;
}

static void
heap_push (RibltDecoder *dec, guint r)
{
  guint pos = dec->heap->len;

  g_array_append_val (dec->heap, r);
  while (pos > 0 && heap_key (dec, (pos - 1) / 2) > heap_key (dec, pos))
    {
      heap_swap (dec, pos, (pos - 1) / 2);
      pos = (pos - 1) / 2;
    }
}

static void
heap_sift_down (RibltDecoder *dec)
{
  guint pos = 0, n = dec->heap->len;

  for (;;)
    {
      guint l = 2 * pos + 1, r = l + 1, m = pos;

      if (l < n && heap_key (dec, l) < heap_key (dec, m))
        m = l;
      if (r < n && heap_key (dec, r) < heap_key (dec, m))
        m = r;
      if (m == pos)
        return;
      heap_swap (dec, pos, m);
      pos = m;
    }
}

/* Pure: its count is +-1 and its checksum the hash of its sum, read to
 * the bits a wire carries (riblt.h).  The item's whole hash and sign into
 * @hash and @sign. */
static gboolean
cell_is_pure (const RibltDecoder *dec, const RibltSymbol *c, uint64_t *hash, int *sign)
{
  uint64_t low = (uint64_t) c->count & RIBLT_COUNT_MASK;

  if (low != 1 && low != RIBLT_COUNT_MASK)
    return FALSE;
  *hash = riblt_item_hash (dec->key, c->sum);
  *sign = low == 1 ? 1 : -1;
  return ((*hash ^ c->checksum) & RIBLT_CHECKSUM_MASK) == 0;
}

/* Cell 0 holds every item not yet peeled: the difference is complete
 * when it is empty (its count is the whole one: the caller gives it). */
static gboolean
cell_is_empty (const RibltSymbol *c)
{
  static const uint8_t zero[RIBLT_ITEM_SIZE];

  return c->count == 0 && (c->checksum & RIBLT_CHECKSUM_MASK) == 0
         && memcmp (c->sum, zero, RIBLT_ITEM_SIZE) == 0;
}

static void
peel (RibltDecoder *dec)
{
  while (dec->pending->len > 0 && dec->status == RIBLT_DECODE_MORE)
    {
      guint j = g_array_index (dec->pending, guint, dec->pending->len - 1);
      RibltSymbol *c = &g_array_index (dec->cells, RibltSymbol, j);
      DecItem it;

      g_array_set_size (dec->pending, dec->pending->len - 1);
      if (!cell_is_pure (dec, c, &it.hash, &it.sign))
        continue;
      if (dec->recovered->len >= dec->max_items)
        {
          dec->status = RIBLT_DECODE_OVER_BOUND;
          return;
        }
      memcpy (it.item, c->sum, RIBLT_ITEM_SIZE);
      riblt_mapping_init (&it.next, it.hash);
      /* Take the item out of every cell it is in, so far: each one may
       * turn pure. */
      while (it.next.index < dec->cells->len)
        {
          guint k = (guint) it.next.index;

          riblt_symbol_apply (&g_array_index (dec->cells, RibltSymbol, k), it.item, it.hash,
                              -it.sign);
          g_array_append_val (dec->pending, k);
          riblt_mapping_next (&it.next);
        }
      g_array_append_val (dec->recovered, it);
      heap_push (dec, dec->recovered->len - 1);
    }
}

RibltDecodeStatus
riblt_decoder_add (RibltDecoder *dec, const RibltSymbol *remote)
{
  size_t i = dec->cells->len;

  if (dec->status != RIBLT_DECODE_MORE)
    return dec->status;
  if (i >= dec->max_symbols)
    {
      dec->status = RIBLT_DECODE_OVER_BOUND;
      return dec->status;
    }
  /* The local prefix grows by doubling: each extension walks every local
   * item once, so n log(m) in all rather than n per symbol. */
  if (riblt_encoder_len (dec->local) <= i)
    riblt_encoder_extend (dec->local, MAX (64u, 2 * i));
  return riblt_decoder_add_local (dec, remote, &riblt_encoder_symbols (dec->local)[i]);
}

RibltDecodeStatus
riblt_decoder_add_local (RibltDecoder *dec, const RibltSymbol *remote, const RibltSymbol *local)
{
  guint i = dec->cells->len;
  RibltSymbol cell;

  if (dec->status != RIBLT_DECODE_MORE)
    return dec->status;
  if (i >= dec->max_symbols)
    {
      dec->status = RIBLT_DECODE_OVER_BOUND;
      return dec->status;
    }
  cell = *remote;
  riblt_symbol_subtract (&cell, local);
  /* Items already recovered that map here. */
  while (dec->heap->len > 0 && heap_key (dec, 0) == i)
    {
      DecItem *it = &g_array_index (dec->recovered, DecItem,
                                    g_array_index (dec->heap, guint, 0));

      riblt_symbol_apply (&cell, it->item, it->hash, -it->sign);
      riblt_mapping_next (&it->next);
      heap_sift_down (dec);
    }
  g_array_append_val (dec->cells, cell);
  g_array_append_val (dec->pending, i);
  peel (dec);
  if (dec->status == RIBLT_DECODE_MORE
      && cell_is_empty (&g_array_index (dec->cells, RibltSymbol, 0)))
    {
      dec->status = RIBLT_DECODE_DONE;
      dec->used = dec->cells->len;
    }
  return dec->status;
}

RibltDecodeStatus
riblt_decoder_status (const RibltDecoder *dec)
{
  return dec->status;
}

size_t
riblt_decoder_len (const RibltDecoder *dec)
{
  return dec->cells->len;
}

size_t
riblt_decoder_symbols_used (const RibltDecoder *dec)
{
  return dec->used;
}

size_t
riblt_decoder_estimate_difference (const RibltDecoder *dec)
{
  double squares = 0, variance = 0, k, est;

  if (dec->cells->len == 0)
    return dec->recovered->len;
  /* Cell 0 holds every item still unpeeled: its count is the imbalance k
   * (remote-only minus local-only).  A cell i holds each with probability
   * p = 1/(1 + i/2), so its count has mean k p and variance d p (1 - p). */
  k = (double) g_array_index (dec->cells, RibltSymbol, 0).count;
  for (guint i = 1; i < dec->cells->len; i++)
    {
      double c = (double) g_array_index (dec->cells, RibltSymbol, i).count;
      double p = riblt_density (i);

      /* Centred on its mean k p: the same expectation as c^2 - k^2 p^2,
       * without its variance when the difference is one-sided. */
      squares += (c - k * p) * (c - k * p);
      variance += p * (1.0 - p);
    }
  est = variance > 0 ? squares / variance : 0;
  est = MAX (est, fabs (k));
  return dec->recovered->len + (size_t) (est + 0.5);
}

size_t
riblt_decoder_n_recovered (const RibltDecoder *dec)
{
  return dec->recovered->len;
}

const uint8_t *
riblt_decoder_recovered (const RibltDecoder *dec, size_t i, int *sign)
{
  const DecItem *it = &g_array_index (dec->recovered, DecItem, i);

  if (sign != NULL)
    *sign = it->sign;
  return it->item;
}
