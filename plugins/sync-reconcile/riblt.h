/* riblt.h: rateless invertible Bloom lookup table (Yang, Gilad, Alizadeh,
 * "Practical Rateless Set Reconciliation", SIGCOMM 2024), our own
 * implementation.  Sans-IO and deterministic: no clock, no randomness
 * except the 128-bit key both peers derive from the context.
 *
 * An item (RIBLT_ITEM_SIZE bytes) maps to an infinite, increasing sequence of coded
 * symbol indices: index 0 always, then a random walk whose density at
 * index i is about 1/(1 + i/2), so the first m symbols hold each item
 * about 2 ln(m) times.  A coded symbol is (xor of its items, xor of their
 * keyed 64-bit hashes, signed count).  The symbols of A minus those of B
 * (xor, xor, subtract) are the symbols of the symmetric difference, which
 * a peeling decoder recovers from about 1.35-1.45 symbols per difference
 * for large differences (the paper's figure; tested here). */
#pragma once

#include <glib.h>
#include <stdint.h>

G_BEGIN_DECLS

/* Bytes of an item (a multiple of 8: the SipHash below reads words).  24:
 * sync-reconcile's version items (reconcile-index.h); a coded symbol on
 * the wire is the item size plus 5 bytes (RIBLT_CHECKSUM_BITS and
 * RIBLT_COUNT_BITS below). */
#define RIBLT_ITEM_SIZE 24u

typedef struct {
  uint8_t sum[RIBLT_ITEM_SIZE];
  uint64_t checksum;
  int64_t count;
} RibltSymbol;

/* What the decoder reads of a cell to find a pure one (count +-1 and the
 * item's hash equal to the checksum) and to see the difference is empty:
 * the low RIBLT_CHECKSUM_BITS of the checksum and the low RIBLT_COUNT_BITS
 * of the count, so a wire format need carry no more of a symbol than
 * that (sync-reconcile sends 24 + 4 + 1 bytes).  An impure cell passes the
 * check with probability 2^-32 per look (a few times per symbol): a
 * session of d differences is undecodable by chance about once in
 * 2^32 / (10 d) (the caller ends it with a counted failure and a retry
 * converges, nothing wrong is kept: the keyed items then do not match a
 * version either side holds).  The item, not the checksum, is what a
 * decoded difference names, so a 32-bit checksum loses no identity.  The
 * whole count stays in the cell where the caller knows it (the estimate
 * reads it: riblt_count_unwrap). */
#define RIBLT_CHECKSUM_BITS 32u
#define RIBLT_CHECKSUM_MASK G_GUINT64_CONSTANT (0xffffffff)
#define RIBLT_COUNT_BITS 8u
#define RIBLT_COUNT_MASK 0xffu

/* The expected share of the items in the coded symbol @index. */
double riblt_density (uint64_t index);
/* The integer congruent to @low modulo 2^RIBLT_COUNT_BITS nearest to
 * @near (ties to the larger): a count sent as its low bits, given what
 * the receiver expects it to be. */
int64_t riblt_count_unwrap (uint8_t low, double near);

/* Keyed 64-bit hash of an item (SipHash-2-4): the symbol checksum and the
 * seed of the item's index walk. */
uint64_t riblt_item_hash (const uint8_t key[16], const uint8_t item[RIBLT_ITEM_SIZE]);

/* The walk over one item's symbol indices. */
typedef struct {
  uint64_t prng;
  uint64_t index;             /* the current index */
} RibltMapping;

void riblt_mapping_init (RibltMapping *m, uint64_t item_hash);
/* Advances to the next index (strictly larger). */
void riblt_mapping_next (RibltMapping *m);

/* Applies @item (its @hash) with @sign (+1 add, -1 remove) to @sym. */
void riblt_symbol_apply (RibltSymbol *sym, const uint8_t item[RIBLT_ITEM_SIZE], uint64_t hash,
                         int sign);
/* @a minus @b into @a. */
void riblt_symbol_subtract (RibltSymbol *a, const RibltSymbol *b);
gboolean riblt_symbol_is_zero (const RibltSymbol *sym);

/* ---- encoder: the first n_symbols coded symbols of a set ---------------- */

typedef struct _RibltEncoder RibltEncoder;

RibltEncoder *riblt_encoder_new (const uint8_t key[16]);
void riblt_encoder_free (RibltEncoder *enc);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RibltEncoder, riblt_encoder_free)
/* Adds (@sign +1) or removes (-1) one item: updates every symbol of the
 * current prefix it maps to and remembers it for the prefix to come. */
void riblt_encoder_apply (RibltEncoder *enc, const uint8_t item[RIBLT_ITEM_SIZE], int sign);
/* Extends the prefix to @n_symbols (never shrinks). */
void riblt_encoder_extend (RibltEncoder *enc, size_t n_symbols);
size_t riblt_encoder_len (const RibltEncoder *enc);
const RibltSymbol *riblt_encoder_symbols (const RibltEncoder *enc);
size_t riblt_encoder_n_items (const RibltEncoder *enc);

/* ---- decoder: the difference from remote symbols and a local encoder ---- */

typedef struct _RibltDecoder RibltDecoder;

/* The decoder extends @local as far as the remote symbols go; @local must
 * outlive it.  NULL: the caller gives each local symbol itself
 * (riblt_decoder_add_local), e.g. from a stored prefix. */
RibltDecoder *riblt_decoder_new (RibltEncoder *local, const uint8_t key[16], size_t max_symbols,
                                 size_t max_items);
void riblt_decoder_free (RibltDecoder *dec);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RibltDecoder, riblt_decoder_free)

typedef enum {
  RIBLT_DECODE_MORE = 0,      /* needs more symbols */
  RIBLT_DECODE_DONE = 1,      /* the difference is complete */
  RIBLT_DECODE_OVER_BOUND = 2 /* max_symbols or max_items reached undecoded */
} RibltDecodeStatus;

/* Adds the next remote symbol (index = riblt_decoder_len before the call)
 * and peels.  Once DONE or OVER_BOUND, further symbols are ignored. */
RibltDecodeStatus riblt_decoder_add (RibltDecoder *dec, const RibltSymbol *remote);
/* The same with the local symbol of that index given (@local: the
 * symbol riblt_decoder_len of the local set). */
RibltDecodeStatus riblt_decoder_add_local (RibltDecoder *dec, const RibltSymbol *remote,
                                           const RibltSymbol *local);
RibltDecodeStatus riblt_decoder_status (const RibltDecoder *dec);
size_t riblt_decoder_len (const RibltDecoder *dec);
/* Symbols that had arrived when the difference was complete (0 before). */
size_t riblt_decoder_symbols_used (const RibltDecoder *dec);

/* An estimate of the size of the whole difference from the symbols so
 * far, for sizing the next request while undecoded: the items recovered
 * plus, for the cells not yet peeled, sum(count^2) / sum(density), since a
 * cell's count is a sum of about d x density(i) signed items (density(i)
 * = 1/(1 + i/2)).  Rough (a factor ~1.5), and high when the difference is
 * one-sided, which errs on the side of fewer round trips.  Reads the whole
 * counts: remote counts sent as their low bits must be unwrapped first
 * (riblt_count_unwrap; cell 0's in full). */
size_t riblt_decoder_estimate_difference (const RibltDecoder *dec);

/* Items only the remote side has (@sign +1) or only the local side (-1):
 * RIBLT_ITEM_SIZE bytes each. */
size_t riblt_decoder_n_recovered (const RibltDecoder *dec);
const uint8_t *riblt_decoder_recovered (const RibltDecoder *dec, size_t i, int *sign);

G_END_DECLS
