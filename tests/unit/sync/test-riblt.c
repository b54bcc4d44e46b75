/* test-riblt.c: property tests of the RIBLT core (plugins/sync-reconcile/
 * riblt.c): round trips for random sets and differences, the symbols per
 * difference the paper promises, the incremental encoder equal to a fresh
 * one, symbols that never decode ending at the bound, and symbols cut to
 * the bits a wire carries decoding as whole ones. */
#include <string.h>

#include "riblt.h"
#include "sync-sim.h"

static const uint8_t key[16] = "riblt-test-key!";

static void
random_item (GRand *rand, uint8_t out[RIBLT_ITEM_SIZE])
{
  for (size_t i = 0; i < RIBLT_ITEM_SIZE; i += 4)
    {
      guint32 v = g_rand_int (rand);

      memcpy (out + i, &v, 4);
    }
}

/* Decodes A's symbols against B; returns the symbols used, checks the
 * recovered items are exactly @only_a (+1) and @only_b (-1). */
static size_t
reconcile (GArray *common, GArray *only_a, GArray *only_b)
{
  g_autoptr (RibltEncoder) a = riblt_encoder_new (key);
  g_autoptr (RibltEncoder) b = riblt_encoder_new (key);
  g_autoptr (RibltDecoder) dec = NULL;
  g_autoptr (GHashTable) want_a = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  g_autoptr (GHashTable) want_b = g_hash_table_new (g_bytes_hash, g_bytes_equal);
  g_autoptr (GPtrArray) keep = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  size_t d = only_a->len + only_b->len;

  for (guint i = 0; i < common->len / RIBLT_ITEM_SIZE; i++)
    {
      riblt_encoder_apply (a, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
      riblt_encoder_apply (b, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
    }
  for (guint i = 0; i < only_a->len / RIBLT_ITEM_SIZE; i++)
    {
      GBytes *k = g_bytes_new (only_a->data + i * RIBLT_ITEM_SIZE, RIBLT_ITEM_SIZE);

      riblt_encoder_apply (a, (const uint8_t *) only_a->data + i * RIBLT_ITEM_SIZE, 1);
      g_hash_table_add (want_a, k);
      g_ptr_array_add (keep, k);
    }
  for (guint i = 0; i < only_b->len / RIBLT_ITEM_SIZE; i++)
    {
      GBytes *k = g_bytes_new (only_b->data + i * RIBLT_ITEM_SIZE, RIBLT_ITEM_SIZE);

      riblt_encoder_apply (b, (const uint8_t *) only_b->data + i * RIBLT_ITEM_SIZE, 1);
      g_hash_table_add (want_b, k);
      g_ptr_array_add (keep, k);
    }
  d /= RIBLT_ITEM_SIZE;
  dec = riblt_decoder_new (b, key, 100 + 3 * d, d + 1);
  for (size_t i = 0; riblt_decoder_status (dec) == RIBLT_DECODE_MORE; i++)
    {
      riblt_encoder_extend (a, i + 1);
      riblt_decoder_add (dec, &riblt_encoder_symbols (a)[i]);
    }
  g_assert_cmpint (riblt_decoder_status (dec), ==, RIBLT_DECODE_DONE);
  g_assert_cmpuint (riblt_decoder_n_recovered (dec), ==, d);
  for (size_t i = 0; i < riblt_decoder_n_recovered (dec); i++)
    {
      int sign = 0;
      const uint8_t *item = riblt_decoder_recovered (dec, i, &sign);
      g_autoptr (GBytes) k = g_bytes_new (item, RIBLT_ITEM_SIZE);

      g_assert_true (g_hash_table_remove (sign > 0 ? want_a : want_b, k));
    }
  g_assert_cmpuint (g_hash_table_size (want_a), ==, 0);
  g_assert_cmpuint (g_hash_table_size (want_b), ==, 0);
  return riblt_decoder_symbols_used (dec);
}

static GArray *
random_items (GRand *rand, guint n)
{
  GArray *a = g_array_sized_new (FALSE, FALSE, 1, n * RIBLT_ITEM_SIZE);

  g_array_set_size (a, n * RIBLT_ITEM_SIZE);
  for (guint i = 0; i < n; i++)
    random_item (rand, (uint8_t *) a->data + i * RIBLT_ITEM_SIZE);
  return a;
}

static void
test_round_trips (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (12));

  for (guint round = 0; round < 60; round++)
    {
      g_autoptr (GArray) common = random_items (rand, g_rand_int_range (rand, 0, 2000));
      g_autoptr (GArray) a = random_items (rand, g_rand_int_range (rand, 0, 40));
      g_autoptr (GArray) b = random_items (rand, g_rand_int_range (rand, 0, 40));

      reconcile (common, a, b);
    }
}

/* The paper: about 1.35-1.45 symbols per difference for large d (and a
 * larger overhead for small d).  The average over the runs must stay in
 * that range; the plugin's first batch is sized on it. */
static void
test_symbols_per_difference (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (13));
  guint64 used = 0, diffs = 0;

  for (guint round = 0; round < 10; round++)
    {
      g_autoptr (GArray) common = random_items (rand, 1000);
      g_autoptr (GArray) a = random_items (rand, 500);
      g_autoptr (GArray) b = random_items (rand, 500);

      used += reconcile (common, a, b);
      diffs += 1000;
    }
  g_test_message ("%.3f symbols per difference (d = 1000)", (double) used / (double) diffs);
  g_assert_cmpfloat ((double) used / (double) diffs, >=, 1.30);
  g_assert_cmpfloat ((double) used / (double) diffs, <=, 1.50);
}

/* The estimate from 240 symbols (the plugin's first batch) of a
 * difference too large to decode from them is within a factor 2, balanced
 * between the sides or not. */
static void
test_estimate (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (17));
  static const guint ds[] = { 400, 1000, 3000, 600 };

  for (guint k = 0; k < G_N_ELEMENTS (ds); k++)
    {
      g_autoptr (GArray) common = random_items (rand, 2000);
      /* Balanced, and the last all on one side (the imbalance taken out). */
      guint na = k + 1 == G_N_ELEMENTS (ds) ? ds[k] : ds[k] / 2;
      g_autoptr (GArray) only_a = random_items (rand, na);
      g_autoptr (GArray) only_b = random_items (rand, ds[k] - na);
      g_autoptr (RibltEncoder) a = riblt_encoder_new (key);
      g_autoptr (RibltEncoder) b = riblt_encoder_new (key);
      g_autoptr (RibltDecoder) dec = NULL;
      size_t est;

      for (guint i = 0; i < 2000; i++)
        {
          riblt_encoder_apply (a, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
          riblt_encoder_apply (b, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
        }
      for (guint i = 0; i < na; i++)
        riblt_encoder_apply (a, (const uint8_t *) only_a->data + i * RIBLT_ITEM_SIZE, 1);
      for (guint i = 0; i < ds[k] - na; i++)
        riblt_encoder_apply (b, (const uint8_t *) only_b->data + i * RIBLT_ITEM_SIZE, 1);
      riblt_encoder_extend (a, 240);
      dec = riblt_decoder_new (b, key, 100000, 100000);
      for (guint i = 0; i < 240; i++)
        riblt_decoder_add (dec, &riblt_encoder_symbols (a)[i]);
      g_assert_cmpint (riblt_decoder_status (dec), ==, RIBLT_DECODE_MORE);
      est = riblt_decoder_estimate_difference (dec);
      g_test_message ("d = %u: estimate %" G_GSIZE_FORMAT, ds[k], est);
      g_assert_cmpuint (est, >=, ds[k] / 2);
      g_assert_cmpuint (est, <=, ds[k] * 2);
    }
}

/* Adding and removing items on a built prefix gives the prefix a fresh
 * encoder of the final set builds: what lets a store keep it current. */
static void
test_incremental_prefix (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (14));
  g_autoptr (GArray) items = random_items (rand, 300);
  g_autoptr (RibltEncoder) inc = riblt_encoder_new (key);
  g_autoptr (RibltEncoder) fresh = riblt_encoder_new (key);

  for (guint i = 0; i < 200; i++)
    riblt_encoder_apply (inc, (const uint8_t *) items->data + i * RIBLT_ITEM_SIZE, 1);
  riblt_encoder_extend (inc, 500);
  for (guint i = 200; i < 300; i++)
    riblt_encoder_apply (inc, (const uint8_t *) items->data + i * RIBLT_ITEM_SIZE, 1);
  for (guint i = 0; i < 100; i++)
    riblt_encoder_apply (inc, (const uint8_t *) items->data + i * RIBLT_ITEM_SIZE, -1);
  riblt_encoder_extend (inc, 800);
  for (guint i = 100; i < 300; i++)
    riblt_encoder_apply (fresh, (const uint8_t *) items->data + i * RIBLT_ITEM_SIZE, 1);
  riblt_encoder_extend (fresh, 800);
  g_assert_cmpuint (riblt_encoder_n_items (inc), ==, 200);
  g_assert_cmpmem (riblt_encoder_symbols (inc), 800 * sizeof (RibltSymbol),
                   riblt_encoder_symbols (fresh), 800 * sizeof (RibltSymbol));
  /* Every item is in symbol 0; density falls like 1/(1 + i/2). */
  g_assert_cmpint (riblt_encoder_symbols (fresh)[0].count, ==, 200);
  g_assert_cmpint (riblt_encoder_symbols (fresh)[798].count, <, 10);
}

/* Symbols from a peer that never decode (random garbage, or an adversary
 * replaying one symbol) end at the decoder's bound, not later. */
static void
test_garbage_ends_at_bound (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (15));
  g_autoptr (GArray) items = random_items (rand, 100);
  g_autoptr (RibltEncoder) local = riblt_encoder_new (key);
  g_autoptr (RibltDecoder) dec = NULL;
  g_autoptr (RibltDecoder) dec2 = NULL;
  RibltSymbol garbage;
  size_t fed = 0;

  for (guint i = 0; i < 100; i++)
    riblt_encoder_apply (local, (const uint8_t *) items->data + i * RIBLT_ITEM_SIZE, 1);
  dec = riblt_decoder_new (local, key, 256, 1000);
  while (riblt_decoder_add (dec, (random_item (rand, garbage.sum),
                                  garbage.checksum = g_rand_int (rand),
                                  garbage.count = g_rand_int_range (rand, -5, 5), &garbage))
         == RIBLT_DECODE_MORE)
    fed++;
  g_assert_cmpint (riblt_decoder_status (dec), ==, RIBLT_DECODE_OVER_BOUND);
  g_assert_cmpuint (fed, ==, 256);
  g_assert_cmpuint (riblt_decoder_len (dec), ==, 256);
  /* Further symbols are ignored. */
  g_assert_cmpint (riblt_decoder_add (dec, &garbage), ==, RIBLT_DECODE_OVER_BOUND);
  g_assert_cmpuint (riblt_decoder_len (dec), ==, 256);

  /* Every symbol the same: never a zero symbol 0 after the first. */
  dec2 = riblt_decoder_new (local, key, 64, 1000);
  fed = 0;
  while (riblt_decoder_add (dec2, &garbage) == RIBLT_DECODE_MORE)
    fed++;
  g_assert_cmpint (riblt_decoder_status (dec2), ==, RIBLT_DECODE_OVER_BOUND);
  g_assert_cmpuint (fed, ==, 64);
}

/* The low 32 bits of a checksum and the low byte of a count are all the
 * decoder reads (riblt.h): symbols cut to them, the counts unwrapped
 * around the local count plus the imbalance's share (as sync-reconcile's
 * responder does), decode the same difference from the same number of
 * symbols as whole ones, and give the same estimate while undecoded,
 * whether the difference is balanced or all on one side (counts far past
 * a byte in the first cells). */
static void
test_wire_bits (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (18));
  static const struct {
    guint only_a, only_b;
  } cases[] = { { 80, 80 }, { 700, 0 }, { 0, 300 }, { 1500, 500 } };

  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autoptr (GArray) common = random_items (rand, 3000);
      g_autoptr (GArray) only_a = random_items (rand, cases[c].only_a);
      g_autoptr (GArray) only_b = random_items (rand, cases[c].only_b);
      g_autoptr (RibltEncoder) a = riblt_encoder_new (key);
      g_autoptr (RibltEncoder) b = riblt_encoder_new (key);
      g_autoptr (RibltDecoder) whole = NULL;
      g_autoptr (RibltDecoder) cut = NULL;
      int64_t imbalance = 0;
      size_t d = cases[c].only_a + cases[c].only_b;

      for (guint i = 0; i < 3000; i++)
        {
          riblt_encoder_apply (a, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
          riblt_encoder_apply (b, (const uint8_t *) common->data + i * RIBLT_ITEM_SIZE, 1);
        }
      for (guint i = 0; i < cases[c].only_a; i++)
        riblt_encoder_apply (a, (const uint8_t *) only_a->data + i * RIBLT_ITEM_SIZE, 1);
      for (guint i = 0; i < cases[c].only_b; i++)
        riblt_encoder_apply (b, (const uint8_t *) only_b->data + i * RIBLT_ITEM_SIZE, 1);
      riblt_encoder_extend (a, 4 * d);
      riblt_encoder_extend (b, 4 * d);
      whole = riblt_decoder_new (NULL, key, 4 * d, d + 1);
      cut = riblt_decoder_new (NULL, key, 4 * d, d + 1);
      for (size_t i = 0; riblt_decoder_status (whole) == RIBLT_DECODE_MORE; i++)
        {
          const RibltSymbol *remote = &riblt_encoder_symbols (a)[i];
          const RibltSymbol *local = &riblt_encoder_symbols (b)[i];
          RibltSymbol sent = *remote;

          sent.checksum &= RIBLT_CHECKSUM_MASK;
          if (i == 0)
            imbalance = remote->count - local->count;
          else
            sent.count = riblt_count_unwrap ((uint8_t) (remote->count & RIBLT_COUNT_MASK),
                                             (double) local->count
                                               + (double) imbalance * riblt_density (i));
          riblt_decoder_add_local (whole, remote, local);
          riblt_decoder_add_local (cut, &sent, local);
          if (i == d / 2 && riblt_decoder_status (whole) == RIBLT_DECODE_MORE)
            g_assert_cmpuint (riblt_decoder_estimate_difference (cut), ==,
                              riblt_decoder_estimate_difference (whole));
        }
      g_assert_cmpint (riblt_decoder_status (whole), ==, RIBLT_DECODE_DONE);
      g_assert_cmpint (riblt_decoder_status (cut), ==, RIBLT_DECODE_DONE);
      g_assert_cmpuint (riblt_decoder_symbols_used (cut), ==,
                        riblt_decoder_symbols_used (whole));
      g_assert_cmpuint (riblt_decoder_n_recovered (cut), ==, d);
      for (size_t i = 0; i < d; i++)
        {
          int sw = 0, sc = 0;
          const uint8_t *w = riblt_decoder_recovered (whole, i, &sw);
          const uint8_t *k = riblt_decoder_recovered (cut, i, &sc);

          g_assert_cmpmem (w, RIBLT_ITEM_SIZE, k, RIBLT_ITEM_SIZE);
          g_assert_cmpint (sw, ==, sc);
        }
    }
}

/* A count is the value of its low byte nearest to what is expected. */
static void
test_count_unwrap (void)
{
  g_assert_cmpint (riblt_count_unwrap (5, 5.0), ==, 5);
  g_assert_cmpint (riblt_count_unwrap (0xff, 0.0), ==, -1);
  g_assert_cmpint (riblt_count_unwrap (0x01, 300.0), ==, 257);
  g_assert_cmpint (riblt_count_unwrap (0x80, 0.0), ==, -128);
  g_assert_cmpint (riblt_count_unwrap (0x7f, 0.0), ==, 127);
  g_assert_cmpint (riblt_count_unwrap ((uint8_t) (100000 & 0xff), 100000.0 - 120.4), ==, 100000);
  g_assert_cmpint (riblt_count_unwrap ((uint8_t) (-70000 & 0xff), -70000.0 + 127.0), ==, -70000);
  /* Out of range (a peer's count may be anything): some congruent value. */
  g_assert_cmpint (riblt_count_unwrap (7, 1e300) & 0xff, ==, 7);
  g_assert_cmpint (riblt_count_unwrap (7, -1e300) & 0xff, ==, 7);
}

/* Identical sets decode from the first symbol. */
static void
test_equal_sets (void)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (sync_sim_seed (16));
  g_autoptr (GArray) common = random_items (rand, 500);
  g_autoptr (GArray) none = random_items (rand, 0);

  g_assert_cmpuint (reconcile (common, none, none), ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/riblt/round-trips", test_round_trips);
  g_test_add_func ("/riblt/symbols-per-difference", test_symbols_per_difference);
  g_test_add_func ("/riblt/incremental-prefix", test_incremental_prefix);
  g_test_add_func ("/riblt/estimate", test_estimate);
  g_test_add_func ("/riblt/garbage-ends-at-bound", test_garbage_ends_at_bound);
  g_test_add_func ("/riblt/equal-sets", test_equal_sets);
  g_test_add_func ("/riblt/wire-bits", test_wire_bits);
  g_test_add_func ("/riblt/count-unwrap", test_count_unwrap);
  return g_test_run ();
}
