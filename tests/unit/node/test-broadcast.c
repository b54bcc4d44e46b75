/* test-broadcast.c: the node protocol codec (mero-broadcast.h): every
 * variant round-trips, every bound is enforced with its reason, frames
 * split and join at any byte. */
#include <string.h>

#include "node/mero-broadcast.h"

static void
fill (guint8 id[32], guint8 v)
{
  memset (id, v, 32);
}

static MeroBroadcast *
roundtrip (const MeroBroadcast *msg)
{
  g_autoptr (GBytes) bytes = mero_broadcast_encode (msg);
  g_autoptr (GError) error = NULL;
  MeroBroadcast *back = mero_broadcast_decode (g_bytes_get_data (bytes, NULL),
                                               g_bytes_get_size (bytes), &error);

  g_assert_no_error (error);
  g_assert_nonnull (back);
  g_assert_cmpint (back->kind, ==, msg->kind);
  return back;
}

static void
test_broadcast_roundtrip (void)
{
  guint8 id[32], h[32];
  g_autoptr (MeroBroadcast) sd = mero_broadcast_new (MERO_BROADCAST_STATE_DELTA);
  g_autoptr (MeroBroadcast) hb = mero_broadcast_new (MERO_BROADCAST_HASH_HEARTBEAT);
  g_autoptr (MeroBroadcast) op = mero_broadcast_new (MERO_BROADCAST_GROUP_OP);
  g_autoptr (MeroBroadcast) gh = mero_broadcast_new (MERO_BROADCAST_GROUP_HEARTBEAT);
  g_autoptr (MeroBroadcast) gd = mero_broadcast_new (MERO_BROADCAST_GROUP_DELTA);
  g_autoptr (MeroBroadcast) gn = mero_broadcast_new (MERO_BROADCAST_GROUP_NOTIFICATION);
  g_autoptr (MeroBroadcast) b1 = NULL, b2 = NULL, b3 = NULL, b4 = NULL, b5 = NULL, b6 = NULL;

  fill (id, 7);
  fill (h, 9);
  memcpy (sd->id, id, 32);
  sd->payload = g_bytes_new_static ("envelope bytes", 14);
  mero_id_array_add (sd->heads, h);
  sd->has_root = TRUE;
  fill (sd->root, 3);
  b1 = roundtrip (sd);
  g_assert_cmpmem (b1->id, 32, id, 32);
  g_assert_true (g_bytes_equal (b1->payload, sd->payload));
  g_assert_cmpuint (b1->heads->len, ==, 1);
  g_assert_true (b1->has_root);
  g_assert_cmpmem (b1->root, 32, sd->root, 32);

  memcpy (hb->id, id, 32);
  b2 = roundtrip (hb);
  g_assert_false (b2->has_root);   /* uninitialised: no root sent */
  g_assert_cmpuint (b2->heads->len, ==, 0);

  op->payload = g_bytes_new_static ("op", 2);
  b3 = roundtrip (op);
  g_assert_true (g_bytes_equal (b3->payload, op->payload));

  memcpy (gh->id, id, 32);
  gh->n_ops = 42;
  mero_id_array_add (gh->heads, h);
  mero_id_array_add (gh->heads, id);
  b4 = roundtrip (gh);
  g_assert_cmpuint (b4->n_ops, ==, 42);
  g_assert_cmpuint (b4->heads->len, ==, 2);
  g_assert_cmpmem (mero_id_array_get (b4->heads, 1), 32, id, 32);

  memcpy (gd->id, id, 32);
  g_ptr_array_add (gd->ops, g_bytes_new_static ("a", 1));
  g_ptr_array_add (gd->ops, g_bytes_new_static ("bb", 2));
  b5 = roundtrip (gd);
  g_assert_cmpuint (b5->ops->len, ==, 2);

  memcpy (gn->id, id, 32);
  fill (gn->op_id, 5);
  mero_id_array_add (gn->added, h);
  mero_id_array_add (gn->removed, id);
  b6 = roundtrip (gn);
  g_assert_cmpmem (b6->op_id, 32, gn->op_id, 32);
  g_assert_cmpuint (b6->added->len, ==, 1);
  g_assert_cmpuint (b6->removed->len, ==, 1);
  g_assert_cmpuint (b6->changed->len, ==, 0);

  /* a TEE announce travels verbatim; an empty one is refused */
  {
    g_autoptr (MeroBroadcast) ta = mero_broadcast_new (MERO_BROADCAST_TEE_ANNOUNCE);
    g_autoptr (MeroBroadcast) b7 = NULL;
    static const guint8 empty_announce[] = { 0x3a, 0x00 };
    g_autoptr (GError) error = NULL;
    g_autoptr (MeroBroadcast) none = NULL;

    ta->payload = g_bytes_new_static ("announce", 8);
    b7 = roundtrip (ta);
    g_assert_cmpint (b7->kind, ==, MERO_BROADCAST_TEE_ANNOUNCE);
    g_assert_true (g_bytes_equal (b7->payload, ta->payload));
    none = mero_broadcast_decode (empty_announce, sizeof empty_announce, &error);
    g_assert_null (none);
    g_assert_error (error, MERO_BROADCAST_ERROR, MERO_BROADCAST_ERROR_MALFORMED);
  }

  /* a blob provider record travels verbatim (field 8); an empty one is refused */
  {
    g_autoptr (MeroBroadcast) bp = mero_broadcast_new (MERO_BROADCAST_BLOB_PROVIDERS);
    g_autoptr (MeroBroadcast) b8 = NULL;
    static const guint8 empty_record[] = { 0x42, 0x00 };
    g_autoptr (GError) error = NULL;
    g_autoptr (MeroBroadcast) none = NULL;

    bp->payload = g_bytes_new_static ("record", 6);
    b8 = roundtrip (bp);
    g_assert_cmpint (b8->kind, ==, MERO_BROADCAST_BLOB_PROVIDERS);
    g_assert_true (g_bytes_equal (b8->payload, bp->payload));
    none = mero_broadcast_decode (empty_record, sizeof empty_record, &error);
    g_assert_null (none);
    g_assert_error (error, MERO_BROADCAST_ERROR, MERO_BROADCAST_ERROR_MALFORMED);
  }
  /* so does an admin's TEE refusal (field 9) */
  {
    g_autoptr (MeroBroadcast) tr = mero_broadcast_new (MERO_BROADCAST_TEE_REFUSAL);
    g_autoptr (MeroBroadcast) b9 = NULL;
    static const guint8 empty_refusal[] = { 0x4a, 0x00 };
    g_autoptr (GError) error = NULL;
    g_autoptr (MeroBroadcast) none = NULL;

    tr->payload = g_bytes_new_static ("refusal", 7);
    b9 = roundtrip (tr);
    g_assert_cmpint (b9->kind, ==, MERO_BROADCAST_TEE_REFUSAL);
    g_assert_true (g_bytes_equal (b9->payload, tr->payload));
    none = mero_broadcast_decode (empty_refusal, sizeof empty_refusal, &error);
    g_assert_null (none);
    g_assert_error (error, MERO_BROADCAST_ERROR, MERO_BROADCAST_ERROR_MALFORMED);
  }
}

static void
expect_error (GBytes *bytes, MeroBroadcastError code, const char *reason)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroBroadcast) msg = mero_broadcast_decode (g_bytes_get_data (bytes, NULL),
                                                         g_bytes_get_size (bytes), &error);

  g_assert_null (msg);
  g_assert_error (error, MERO_BROADCAST_ERROR, (gint) code);
  g_assert_cmpstr (mero_broadcast_error_reason (error), ==, reason);
}

static void
test_broadcast_bounds (void)
{
  g_autoptr (MeroBroadcast) hb = mero_broadcast_new (MERO_BROADCAST_HASH_HEARTBEAT);
  g_autoptr (GBytes) too_many = NULL, garbage = NULL, empty = NULL, short_id = NULL;
  g_autoptr (GBytes) newer = NULL;
  /* field 20 (varint 1): a variant a later version may add */
  static const guint8 newer_variant[] = { 0xa0, 0x01, 0x01 };
  guint8 h[32] = { 1 };
  static const guint8 junk[] = { 0xff, 0xff, 0xff, 0x01, 0x02 };
  /* field 2 (hash_heartbeat), a message whose context_id is 3 bytes */
  static const guint8 short_ctx[] = { 0x12, 0x05, 0x0a, 0x03, 1, 2, 3 };

  for (guint i = 0; i <= MERO_BROADCAST_MAX_HEADS; i++)
    mero_id_array_add (hb->heads, h);
  too_many = mero_broadcast_encode (hb);
  expect_error (too_many, MERO_BROADCAST_ERROR_TOO_LARGE, "too_large");

  garbage = g_bytes_new_static (junk, sizeof junk);
  expect_error (garbage, MERO_BROADCAST_ERROR_MALFORMED, "malformed");
  empty = g_bytes_new_static ("", 0);
  expect_error (empty, MERO_BROADCAST_ERROR_MALFORMED, "malformed");
  short_id = g_bytes_new_static (short_ctx, sizeof short_ctx);
  expect_error (short_id, MERO_BROADCAST_ERROR_BAD_ID, "bad_id");
  newer = g_bytes_new_static (newer_variant, sizeof newer_variant);
  expect_error (newer, MERO_BROADCAST_ERROR_UNKNOWN_VARIANT, "unknown_variant");
}

static void
test_stream_roundtrip (void)
{
  g_autoptr (MeroStreamMsg) req = mero_stream_msg_new (MERO_STREAM_DELTA_REQUEST);
  g_autoptr (MeroStreamMsg) keys = mero_stream_msg_new (MERO_STREAM_KEY_RESPONSE);
  g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);
  g_autoptr (GBytes) b1 = NULL, b2 = NULL, b3 = NULL;
  g_autoptr (MeroStreamMsg) r1 = NULL, r2 = NULL, r3 = NULL;
  MeroStreamSealedKey k;
  guint8 h[32];

  fill (req->id, 1);
  fill (h, 2);
  mero_id_array_add (req->ids, h);
  mero_id_array_add (req->have, req->id);
  req->want_heads = TRUE;
  b1 = mero_stream_msg_encode (req);
  r1 = mero_stream_msg_decode (g_bytes_get_data (b1, NULL), g_bytes_get_size (b1), NULL);
  g_assert_nonnull (r1);
  g_assert_cmpint (r1->kind, ==, MERO_STREAM_DELTA_REQUEST);
  g_assert_true (r1->want_heads);
  g_assert_cmpuint (r1->ids->len, ==, 1);
  g_assert_cmpuint (r1->have->len, ==, 1);

  fill (keys->id, 4);
  fill (k.key_id, 5);
  memset (k.sealed, 6, sizeof k.sealed);
  g_array_append_val (keys->keys, k);
  b2 = mero_stream_msg_encode (keys);
  r2 = mero_stream_msg_decode (g_bytes_get_data (b2, NULL), g_bytes_get_size (b2), NULL);
  g_assert_nonnull (r2);
  g_assert_cmpuint (r2->keys->len, ==, 1);
  g_assert_cmpmem (&g_array_index (r2->keys, MeroStreamSealedKey, 0), sizeof k, &k, sizeof k);

  err->reason = g_strdup ("not a member");
  b3 = mero_stream_msg_encode (err);
  r3 = mero_stream_msg_decode (g_bytes_get_data (b3, NULL), g_bytes_get_size (b3), NULL);
  g_assert_nonnull (r3);
  g_assert_cmpstr (r3->reason, ==, "not a member");
}

static void
test_frames (void)
{
  g_autoptr (GBytes) m1 = g_bytes_new_static ("hello", 5);
  g_autoptr (GBytes) m2 = g_bytes_new (NULL, 0);
  g_autoptr (GBytes) f1 = mero_stream_frame (m1);
  g_autoptr (GBytes) f2 = mero_stream_frame (m2);
  g_autoptr (GByteArray) buf = g_byte_array_new ();
  g_autoptr (GByteArray) all = g_byte_array_new ();
  guint got = 0;

  g_byte_array_append (all, g_bytes_get_data (f1, NULL), g_bytes_get_size (f1));
  g_byte_array_append (all, g_bytes_get_data (f2, NULL), g_bytes_get_size (f2));
  g_byte_array_append (all, g_bytes_get_data (f1, NULL), g_bytes_get_size (f1));
  /* One byte at a time: frames come out whole and in order. */
  for (guint i = 0; i < all->len; i++)
    {
      g_autoptr (GBytes) m = NULL;

      g_byte_array_append (buf, all->data + i, 1);
      do
        {
          g_clear_pointer (&m, g_bytes_unref);
          g_assert_true (mero_stream_frame_pop (buf, &m, NULL));
          if (m != NULL)
            {
              g_assert_true (g_bytes_equal (m, got == 1 ? m2 : m1));
              got++;
            }
        }
      while (m != NULL);
    }
  g_assert_cmpuint (got, ==, 3);
  g_assert_cmpuint (buf->len, ==, 0);
}

static void
test_frame_bounds (void)
{
  /* 8 MiB + 1 as a uvarint, and a 6-byte varint: refused at once. */
  static const guint8 over[] = { 0x81, 0x80, 0x80, 0x04 };
  static const guint8 endless[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x01 };
  static const guint8 padded[] = { 0x85, 0x00 };
  const guint8 *cases[] = { over, endless, padded };
  gsize sizes[] = { sizeof over, sizeof endless, sizeof padded };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GByteArray) buf = g_byte_array_new ();
      g_autoptr (GBytes) m = NULL;
      g_autoptr (GError) error = NULL;

      g_byte_array_append (buf, cases[i], sizes[i]);
      g_assert_false (mero_stream_frame_pop (buf, &m, &error));
      g_assert_nonnull (error);
      g_assert_null (m);
    }
  {
    /* Exactly 8 MiB announced: accepted, waits for the bytes. */
    static const guint8 max[] = { 0x80, 0x80, 0x80, 0x04 };
    g_autoptr (GByteArray) buf = g_byte_array_new ();
    g_autoptr (GBytes) m = NULL;

    g_byte_array_append (buf, max, sizeof max);
    g_assert_true (mero_stream_frame_pop (buf, &m, NULL));
    g_assert_null (m);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/broadcast/roundtrip", test_broadcast_roundtrip);
  g_test_add_func ("/broadcast/bounds", test_broadcast_bounds);
  g_test_add_func ("/broadcast/stream-roundtrip", test_stream_roundtrip);
  g_test_add_func ("/broadcast/frames", test_frames);
  g_test_add_func ("/broadcast/frame-bounds", test_frame_bounds);
  return g_test_run ();
}
