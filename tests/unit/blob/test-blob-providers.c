/* test-blob-providers.c: the provider record (codec, signature, bounds),
 * the provider table and the announce rate limiter, in memory with
 * integer time. */
#include <sodium.h>
#include <string.h>

#include "blob/mero-blob-provider-record.h"
#include "blob/mero-blob-provider-table.h"
#include "blob/mero-blob-providers.h"

static void
fill_id (guint8 id[32], guint n)
{
  memset (id, 0, 32);
  id[0] = (guint8) (n >> 24), id[1] = (guint8) (n >> 16), id[2] = (guint8) (n >> 8);
  id[3] = (guint8) n;
  id[31] = 0xaa;
}

static MeroBlobProviderRecord *
signed_record (guint8 sk[64], guint n_blobs)
{
  MeroBlobProviderRecord *r = mero_blob_provider_record_new ();
  guint8 pk[32];

  crypto_sign_keypair (pk, sk);
  fill_id (r->context_id, 7);
  r->timestamp_ms = 1700000000000ull;
  for (guint i = 0; i < n_blobs; i++)
    {
      MeroBlobHeld h = { .size = 1000 + i };

      fill_id (h.id, 100 + i);
      g_array_append_val (r->blobs, h);
    }
  mero_blob_provider_record_sign (r, sk);
  return r;
}

/* ---- record ---- */

static void
test_record_roundtrip (void)
{
  guint8 sk[64];
  g_autoptr (MeroBlobProviderRecord) r = signed_record (sk, 3);
  g_autoptr (GBytes) bytes = mero_blob_provider_record_encode (r);
  g_autoptr (MeroBlobProviderRecord) back = NULL;
  g_autoptr (GError) error = NULL;

  back = mero_blob_provider_record_decode (g_bytes_get_data (bytes, NULL),
                                           g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  g_assert_cmpmem (back->context_id, 32, r->context_id, 32);
  g_assert_cmpmem (back->member, 32, r->member, 32);
  g_assert_cmpuint (back->timestamp_ms, ==, r->timestamp_ms);
  g_assert_cmpuint (back->blobs->len, ==, 3);
  g_assert_cmpuint (g_array_index (back->blobs, MeroBlobHeld, 2).size, ==, 1002);
  g_assert_true (mero_blob_provider_record_verify (back, &error));
  g_assert_no_error (error);
}

static void
test_record_tampered (void)
{
  guint8 sk[64], other_sk[64], other_pk[32];
  g_autoptr (MeroBlobProviderRecord) r = signed_record (sk, 2);
  g_autoptr (GError) error = NULL;

  /* Each signed field counts: size, time, context, and the signer. */
  g_array_index (r->blobs, MeroBlobHeld, 1).size++;
  g_assert_false (mero_blob_provider_record_verify (r, &error));
  g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_BAD_SIGNATURE);
  g_assert_cmpstr (mero_blob_provider_error_reason (error), ==, "bad_signature");
  g_clear_error (&error);
  g_array_index (r->blobs, MeroBlobHeld, 1).size--;
  g_assert_true (mero_blob_provider_record_verify (r, NULL));
  r->timestamp_ms++;
  g_assert_false (mero_blob_provider_record_verify (r, NULL));
  r->timestamp_ms--;
  r->context_id[5] ^= 1;
  g_assert_false (mero_blob_provider_record_verify (r, NULL));
  r->context_id[5] ^= 1;
  crypto_sign_keypair (other_pk, other_sk);
  memcpy (r->member, other_pk, 32);   /* claims another member's key */
  g_assert_false (mero_blob_provider_record_verify (r, NULL));
}

static void
test_record_bounds (void)
{
  guint8 sk[64];
  g_autoptr (MeroBlobProviderRecord) r = signed_record (sk, MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS);
  g_autoptr (GBytes) bytes = mero_blob_provider_record_encode (r);
  g_autoptr (GError) error = NULL;
  MeroBlobProviderRecord *back;
  GByteArray *more;
  static const guint8 junk[] = { 0xff, 0xff, 0xff };

  g_assert_cmpuint (g_bytes_get_size (bytes), <=, MERO_BLOB_PROVIDER_RECORD_MAX_SIZE);
  back = mero_blob_provider_record_decode (g_bytes_get_data (bytes, NULL),
                                           g_bytes_get_size (bytes), &error);
  g_assert_no_error (error);
  mero_blob_provider_record_free (back);
  /* One blob more than allowed: appended as field 4 (protobuf merges). */
  more = g_byte_array_new ();
  g_byte_array_append (more, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  {
    guint8 entry[2 + 2 + 32 + 2] = { 0x22, 36, 0x0a, 32 };

    memset (entry + 4, 0x11, 32);
    entry[36] = 0x10, entry[37] = 0x05;
    g_byte_array_append (more, entry, sizeof entry);
  }
  back = mero_blob_provider_record_decode (more->data, more->len, &error);
  g_assert_null (back);
  g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_TOO_LARGE);
  g_clear_error (&error);
  g_byte_array_unref (more);
  g_assert_null (mero_blob_provider_record_decode (junk, sizeof junk, &error));
  g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_MALFORMED);
  g_clear_error (&error);
  /* A record naming no blob says nothing. */
  {
    g_autoptr (MeroBlobProviderRecord) empty = signed_record (sk, 0);
    g_autoptr (GBytes) e = mero_blob_provider_record_encode (empty);

    g_assert_null (mero_blob_provider_record_decode (g_bytes_get_data (e, NULL),
                                                     g_bytes_get_size (e), &error));
    g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_MALFORMED);
    g_clear_error (&error);
  }
  /* An id of 31 bytes. */
  {
    static const guint8 short_ctx[] = { 0x0a, 31, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
                                        15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,
                                        29, 30, 31 };

    g_assert_null (mero_blob_provider_record_decode (short_ctx, sizeof short_ctx, &error));
    g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_BAD_ID);
  }
}

static void
test_have_messages (void)
{
  MeroBlobHave q = { .is_request = TRUE }, a = { .is_request = FALSE, .have = TRUE, .size = 42 };
  g_auto (MeroBlobHave) back = { 0 };
  g_autoptr (GBytes) qb = NULL, ab = NULL, rb = NULL;
  g_autoptr (GError) error = NULL;

  fill_id (q.context_id, 1);
  fill_id (q.blob_id, 2);
  qb = mero_blob_have_encode (&q);
  g_assert_true (mero_blob_have_decode (g_bytes_get_data (qb, NULL), g_bytes_get_size (qb), TRUE,
                                        &back, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back.blob_id, 32, q.blob_id, 32);
  mero_blob_have_clear (&back);
  ab = mero_blob_have_encode (&a);
  g_assert_true (mero_blob_have_decode (g_bytes_get_data (ab, NULL), g_bytes_get_size (ab), FALSE,
                                        &back, &error));
  g_assert_true (back.have);
  g_assert_cmpuint (back.size, ==, 42);
  g_assert_null (back.error);
  mero_blob_have_clear (&back);
  /* A refusal never reads as "yes". */
  a.error = (char *) "not a member";
  rb = mero_blob_have_encode (&a);
  g_assert_true (mero_blob_have_decode (g_bytes_get_data (rb, NULL), g_bytes_get_size (rb), FALSE,
                                        &back, &error));
  g_assert_false (back.have);
  g_assert_cmpstr (back.error, ==, "not a member");
  mero_blob_have_clear (&back);
  /* A request without its ids is malformed. */
  g_assert_false (mero_blob_have_decode (g_bytes_get_data (ab, NULL), 0, TRUE, &back, &error));
  g_assert_error (error, MERO_BLOB_PROVIDER_ERROR, MERO_BLOB_PROVIDER_ERROR_BAD_ID);
}

/* ---- table ---- */

static const guint8 *
ctx_id (guint n)
{
  static guint8 ids[4][32];

  fill_id (ids[n % 4], 1000 + n);
  return ids[n % 4];
}

static const guint8 *
blob_id (guint n)
{
  static guint8 ids[4][32];

  fill_id (ids[n % 4], n);
  return ids[n % 4];
}

static void
test_table_order_and_refresh (void)
{
  g_autoptr (MeroBlobProviderTable) t = mero_blob_provider_table_new (NULL);
  g_autoptr (GPtrArray) found = NULL;

  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "A", 5, 100, 100,
                                                 NULL), ==, MERO_BLOB_PROVIDER_ADDED);
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "B", 5, 300, 300,
                                                 NULL), ==, MERO_BLOB_PROVIDER_ADDED);
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "C", 5, 200, 300,
                                                 NULL), ==, MERO_BLOB_PROVIDER_ADDED);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (1), 400);
  g_assert_cmpuint (found->len, ==, 3);
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[0])->peer, ==, "B");
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[1])->peer, ==, "C");
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[2])->peer, ==, "A");
  g_clear_pointer (&found, g_ptr_array_unref);
  /* A replayed older record changes nothing; a newer one moves A up. */
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "A", 5, 50, 400,
                                                 NULL), ==, MERO_BLOB_PROVIDER_STALE);
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "A", 6, 500, 500,
                                                 NULL), ==, MERO_BLOB_PROVIDER_REFRESHED);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (1), 500);
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[0])->peer, ==, "A");
  g_assert_cmpuint (((MeroBlobProviderEntry *) found->pdata[0])->size, ==, 6);
  g_clear_pointer (&found, g_ptr_array_unref);
  /* Other blobs and other contexts are apart. */
  found = mero_blob_provider_table_lookup (t, ctx_id (1), blob_id (1), 500);
  g_assert_cmpuint (found->len, ==, 0);
  g_clear_pointer (&found, g_ptr_array_unref);
  g_assert_cmpuint (mero_blob_provider_table_forget_peer (t, ctx_id (0), "B"), ==, 1);
  g_assert_cmpuint (mero_blob_provider_table_size (t), ==, 2);
}

static void
test_table_bounds (void)
{
  MeroBlobProviderLimits limits;
  g_autoptr (MeroBlobProviderTable) t = NULL;
  g_autoptr (GPtrArray) found = NULL;
  guint evicted = 0;
  char peer[16];

  mero_blob_provider_limits_init (&limits);
  limits.max_per_blob = 3;
  limits.max_per_context = 10;
  limits.max_total = 15;
  limits.max_contexts = 2;
  t = mero_blob_provider_table_new (&limits);
  /* Per blob: the fourth provider pushes out the one with the oldest record. */
  for (guint i = 0; i < 4; i++)
    {
      g_snprintf (peer, sizeof peer, "P%u", i);
      mero_blob_provider_table_add (t, ctx_id (0), blob_id (0), peer, 1, 10 + i, 20, &evicted);
    }
  g_assert_cmpuint (evicted, ==, 1);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (0), 20);
  g_assert_cmpuint (found->len, ==, 3);
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[2])->peer, ==, "P1");
  g_clear_pointer (&found, g_ptr_array_unref);
  /* A record older than every kept one does not get in. */
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (0), "late", 1, 5, 20,
                                                 NULL), ==, MERO_BLOB_PROVIDER_STALE);
  /* Per context: 10 entries at most, the oldest arrivals go. */
  for (guint i = 0; i < 20; i++)
    {
      g_snprintf (peer, sizeof peer, "Q%u", i);
      mero_blob_provider_table_add (t, ctx_id (0), blob_id (1 + i), peer, 1, 30 + i, 40, NULL);
      g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (0)), <=, 10);
    }
  g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (0)), ==, 10);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (20), 40);
  g_assert_cmpuint (found->len, ==, 1);   /* the newest is kept */
  g_clear_pointer (&found, g_ptr_array_unref);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (0), 40);
  g_assert_cmpuint (found->len, ==, 0);   /* the oldest went */
  g_clear_pointer (&found, g_ptr_array_unref);
  /* In all: 15. */
  for (guint i = 0; i < 10; i++)
    {
      g_snprintf (peer, sizeof peer, "R%u", i);
      mero_blob_provider_table_add (t, ctx_id (1), blob_id (100 + i), peer, 1, 50 + i, 60, NULL);
      g_assert_cmpuint (mero_blob_provider_table_size (t), <=, 15);
    }
  g_assert_cmpuint (mero_blob_provider_table_size (t), ==, 15);
  g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (1)), ==, 10);
  g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (0)), ==, 5);
  /* A third context makes room by dropping the context heard from least
   * recently (context 0). */
  mero_blob_provider_table_add (t, ctx_id (2), blob_id (0), "S", 1, 70, 70, &evicted);
  g_assert_cmpuint (evicted, ==, 5);
  g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (0)), ==, 0);
  g_assert_cmpuint (mero_blob_provider_table_context_size (t, ctx_id (2)), ==, 1);
  g_assert_cmpuint (mero_blob_provider_table_size (t), ==, 11);
}

static void
test_table_expiry (void)
{
  MeroBlobProviderLimits limits;
  g_autoptr (MeroBlobProviderTable) t = NULL;
  g_autoptr (GPtrArray) found = NULL;

  mero_blob_provider_limits_init (&limits);
  limits.ttl_ms = 1000;
  t = mero_blob_provider_table_new (&limits);
  /* Already past its life: not kept. */
  g_assert_cmpint (mero_blob_provider_table_add (t, ctx_id (0), blob_id (0), "old", 1, 0, 1000,
                                                 NULL), ==, MERO_BLOB_PROVIDER_EXPIRED);
  mero_blob_provider_table_add (t, ctx_id (0), blob_id (0), "A", 1, 1000, 1000, NULL);
  mero_blob_provider_table_add (t, ctx_id (0), blob_id (0), "B", 1, 1500, 1500, NULL);
  mero_blob_provider_table_add (t, ctx_id (0), blob_id (1), "C", 1, 1200, 1500, NULL);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (0), 1999);
  g_assert_cmpuint (found->len, ==, 2);
  g_clear_pointer (&found, g_ptr_array_unref);
  found = mero_blob_provider_table_lookup (t, ctx_id (0), blob_id (0), 2000);
  g_assert_cmpuint (found->len, ==, 1);
  g_assert_cmpstr (((MeroBlobProviderEntry *) found->pdata[0])->peer, ==, "B");
  g_assert_cmpuint (mero_blob_provider_table_size (t), ==, 2);   /* lookup dropped A */
  g_assert_cmpuint (mero_blob_provider_table_expire (t, 2300), ==, 1);   /* C */
  g_assert_cmpuint (mero_blob_provider_table_expire (t, 2500), ==, 1);   /* B */
  g_assert_cmpuint (mero_blob_provider_table_size (t), ==, 0);
}

/* ---- announce queue ---- */

/* Drives @q from @now until nothing waits (bounded), as the node's timer
 * does; returns the records published and their blobs in @n_blobs. */
static guint
drain (MeroBlobAnnounceQueue *q, gint64 *now, guint *n_blobs, gint64 until)
{
  guint records = 0;
  guint8 ctx[32];
  GArray *held;

  *n_blobs = 0;
  for (guint step = 0; step < 100000; step++)
    {
      gint64 next = mero_blob_announce_queue_next_ms (q, *now);

      if (next < 0 || next > until)
        break;
      g_assert_cmpint (next, >=, *now);
      *now = next;
      while (mero_blob_announce_queue_pop (q, *now, ctx, &held))
        {
          records++;
          g_assert_cmpuint (held->len, <=, MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS);
          *n_blobs += held->len;
          g_array_unref (held);
        }
    }
  return records;
}

static void
test_announce_burst_coalesced (void)
{
  g_autoptr (MeroBlobAnnounceQueue) q = mero_blob_announce_queue_new (NULL);
  gint64 now = 1000;
  guint8 ctx[32];
  GArray *held = NULL;
  guint n_blobs = 0, records;

  /* 1,000 uploads within one second in one context. */
  for (guint i = 0; i < 1000; i++)
    g_assert_true (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (i), i, 1000 + i));
  /* The same blob again is not queued twice. */
  g_assert_true (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (999), 999, 2000));
  g_assert_cmpuint (mero_blob_announce_queue_pending (q), ==, 1000);
  /* Nothing goes before the coalescing delay unless a batch is full:
   * full batches go at once. */
  g_assert_true (mero_blob_announce_queue_pop (q, 2000, ctx, &held));
  g_assert_cmpuint (held->len, ==, MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS);
  g_array_unref (held);
  now = 2000;
  records = 1 + drain (q, &now, &n_blobs, G_MAXINT64);
  n_blobs += MERO_BLOB_PROVIDER_RECORD_MAX_BLOBS;
  g_assert_cmpuint (n_blobs, ==, 1000);
  /* 1,000 blobs in 8 records, not 1,000 messages; the context's bucket
   * (4 at once, then one per 500 ms) spreads them over ~2 s. */
  g_assert_cmpuint (records, ==, 8);
  g_assert_cmpint (now, <=, 2000 + 4 * 500);
  g_assert_cmpint (now, >=, 2000 + 3 * 500);
  g_assert_cmpuint (mero_blob_announce_queue_pending (q), ==, 0);
}

static void
test_announce_small_waits_coalesce (void)
{
  g_autoptr (MeroBlobAnnounceQueue) q = mero_blob_announce_queue_new (NULL);
  guint8 ctx[32];
  GArray *held = NULL;

  g_assert_cmpint (mero_blob_announce_queue_next_ms (q, 0), ==, -1);
  g_assert_true (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (1), 1, 0));
  g_assert_true (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (2), 1, 10));
  g_assert_cmpint (mero_blob_announce_queue_next_ms (q, 10), ==, 50);
  g_assert_false (mero_blob_announce_queue_pop (q, 49, ctx, &held));
  g_assert_true (mero_blob_announce_queue_pop (q, 50, ctx, &held));
  g_assert_cmpuint (held->len, ==, 2);   /* both in one record */
  g_assert_cmpmem (ctx, 32, ctx_id (0), 32);
  g_array_unref (held);
}

static void
test_announce_rates_and_bounds (void)
{
  MeroBlobAnnounceLimits limits;
  g_autoptr (MeroBlobAnnounceQueue) q = NULL;
  gint64 now = 0;
  guint n_blobs = 0, records;

  mero_blob_announce_limits_init (&limits);
  limits.max_pending_per_context = 300;
  limits.max_pending_total = 500;
  q = mero_blob_announce_queue_new (&limits);
  /* Bounded per context and in all: refused, counted by the caller. */
  for (guint i = 0; i < 300; i++)
    g_assert_true (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (i), 1, 0));
  g_assert_false (mero_blob_announce_queue_push (q, ctx_id (0), blob_id (300), 1, 0));
  for (guint i = 0; i < 200; i++)
    g_assert_true (mero_blob_announce_queue_push (q, ctx_id (1), blob_id (i), 1, 0));
  g_assert_false (mero_blob_announce_queue_push (q, ctx_id (2), blob_id (0), 1, 0));
  g_assert_cmpuint (mero_blob_announce_queue_pending (q), ==, 500);
  /* Everything goes out, and never faster than the node's bucket: 16 at
   * once, then one per 100 ms. */
  records = drain (q, &now, &n_blobs, 100000);
  g_assert_cmpuint (n_blobs, ==, 500);
  g_assert_cmpuint (records, ==, 3 + 2);
  /* Many contexts, one blob each: the node's bucket holds them back. */
  for (guint c = 0; c < 40; c++)
    {
      guint8 id[32];

      fill_id (id, 5000 + c);
      g_assert_true (mero_blob_announce_queue_push (q, id, blob_id (1), 1, now));
    }
  {
    gint64 start = now;

    records = drain (q, &now, &n_blobs, G_MAXINT64);
    g_assert_cmpuint (records, ==, 40);
    /* 40 records: at most 16 at once, the other 24 at 100 ms each. */
    g_assert_cmpint (now - start, >=, (40 - 16 - 5) * 100);
  }
}

/* The node's lookup is of the type the fetch takes (iface-blob): this
 * assignment is the compile-time check. */
static void
test_lookup_type (void)
{
  MeroBlobProviderLookup lookup = mero_blob_providers_lookup;

  g_assert_nonnull (lookup);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/blob-providers/lookup-type", test_lookup_type);
  g_assert_cmpint (sodium_init (), >=, 0);
  g_test_add_func ("/blob-providers/record/roundtrip", test_record_roundtrip);
  g_test_add_func ("/blob-providers/record/tampered", test_record_tampered);
  g_test_add_func ("/blob-providers/record/bounds", test_record_bounds);
  g_test_add_func ("/blob-providers/have", test_have_messages);
  g_test_add_func ("/blob-providers/table/order-refresh", test_table_order_and_refresh);
  g_test_add_func ("/blob-providers/table/bounds", test_table_bounds);
  g_test_add_func ("/blob-providers/table/expiry", test_table_expiry);
  g_test_add_func ("/blob-providers/announce/burst", test_announce_burst_coalesced);
  g_test_add_func ("/blob-providers/announce/coalesce", test_announce_small_waits_coalesce);
  g_test_add_func ("/blob-providers/announce/rates-bounds", test_announce_rates_and_bounds);
  return g_test_run ();
}
