/* test-blob-share.c: the blob-share plugin's sessions in memory, a
 * responder and an initiator over an in-memory stream with integer time,
 * each with its own fake host (blob-share-fake-host.h): a blob moves
 * range by range and arrives identical; a non-member is refused (and
 * counted); a corrupt chunk is refused before it is written (and
 * counted); a blob over the receiver's bound is refused; the bounds on
 * ranges and time hold; the wire codec round-trips and refuses what is
 * over its bounds. */
#include <string.h>

#include "blob-share-core.h"
#include "blob-share-fake-host.h"
#include "blob-share-wire.h"
#include "blob/mero-blob-tree.h"

const MeroPluginDescriptor *mero_plugin_blob_share_get_descriptor (void);

#define CHUNK MERO_BLOB_XFER_CHUNK_LEN

typedef struct {
  FakeBlobHost *provider, *fetcher;
  MeroHostServices *provider_services, *fetcher_services;
  void *provider_data, *fetcher_data;
  guint8 *data;
  gsize len;
} Fixture;

/* A provider holding the first @len bytes of f->data, a fetcher for it
 * (a member), and the plugin initialised on both. */
static void
hosts_new (Fixture *f, gsize len)
{
  const MeroPluginDescriptor *d = mero_plugin_blob_share_get_descriptor ();

  f->len = len;
  f->provider = fake_blob_host_new (f->data, f->len, G_MAXUINT64);
  f->fetcher = fake_blob_host_new (NULL, 0, G_MAXUINT64);
  memcpy (f->fetcher->blob_id, f->provider->blob_id, 32);
  memcpy (f->provider->member_pk, f->fetcher->pk, 32);
  f->provider_services = fake_blob_host_services (f->provider);
  f->fetcher_services = fake_blob_host_services (f->fetcher);
  g_assert_true (d->init (f->provider_services, &f->provider_data, NULL));
  g_assert_true (d->init (f->fetcher_services, &f->fetcher_data, NULL));
}

static void
hosts_free (Fixture *f)
{
  const MeroPluginDescriptor *d = mero_plugin_blob_share_get_descriptor ();

  d->finalize (f->provider_data);
  d->finalize (f->fetcher_data);
  g_free (f->provider_services);
  g_free (f->fetcher_services);
  fake_blob_host_free (f->provider);
  fake_blob_host_free (f->fetcher);
}

static void
fixture_set_up (Fixture *f, gconstpointer user_data)
{
  gsize len = 3 * CHUNK + 1000;   /* four chunks, the last short */

  f->data = g_malloc (len);
  for (gsize i = 0; i < len; i++)
    f->data[i] = (guint8) (i * 7 + i / 251);
  hosts_new (f, len);
}

static void
fixture_tear_down (Fixture *f, gconstpointer user_data)
{
  hosts_free (f);
  g_free (f->data);
}

/* Runs one request from @peer for [first, first + count) with @flags
 * (MeroBlobSessionFlags) to its end;
 * the statuses of both sides come back. */
static void
exchange (Fixture *f, const char *peer, guint64 first, guint64 count, guint32 flags,
          MeroSyncStatus *initiator_status, MeroSyncStatus *responder_status)
{
  const MeroSyncProtocolVTable *vt = mero_plugin_blob_share_get_descriptor ()->vtable;
  MeroSyncSessionParams ip = { .struct_size = sizeof ip }, rp = { .struct_size = sizeof rp };
  MeroSyncSession *ini, *res;
  GBytes *b;
  gint64 now = 2000;

  memset (ip.context_id, 0xcc, 32);
  ip.role = MERO_SYNC_ROLE_INITIATOR;
  ip.peer_id = "provider";
  ip.now_us = now;
  ip.blobs = (MeroBlobHandle *) f->fetcher;
  memcpy (ip.blob_id, f->fetcher->blob_id, 32);
  ip.chunk_first = first;
  ip.chunk_count = count;
  ip.blob_flags = flags;   /* TRUE is MERO_BLOB_SESSION_WANT_LEAVES */
  rp.role = MERO_SYNC_ROLE_RESPONDER;
  rp.peer_id = peer;
  rp.now_us = now;
  rp.blobs = (MeroBlobHandle *) f->provider;
  ini = vt->session_new (f->fetcher_data, &ip, NULL);
  res = vt->session_new (f->provider_data, &rp, NULL);
  g_assert_nonnull (ini);
  g_assert_nonnull (res);
  /* Bounded: every round moves at least one frame or ends. */
  for (guint round = 0; round < 100; round++)
    {
      gboolean moved = FALSE;

      now += 10;
      while ((b = vt->pull_send (ini)) != NULL)
        {
          vt->recv (res, g_bytes_get_data (b, NULL), g_bytes_get_size (b), now, NULL);
          g_bytes_unref (b);
          moved = TRUE;
        }
      while ((b = vt->pull_send (res)) != NULL)
        {
          /* Split each frame in two: the decoder takes any split. */
          gsize n = g_bytes_get_size (b);
          const guint8 *p = g_bytes_get_data (b, NULL);

          if (vt->status (ini) == MERO_SYNC_STATUS_RUNNING)
            vt->recv (ini, p, n / 2, now, NULL);
          if (vt->status (ini) == MERO_SYNC_STATUS_RUNNING)
            vt->recv (ini, p + n / 2, n - n / 2, now, NULL);
          g_bytes_unref (b);
          moved = TRUE;
        }
      if (!moved)
        break;
    }
  *initiator_status = vt->status (ini);
  *responder_status = vt->status (res);
  vt->session_free (ini);
  vt->session_free (res);
}

static void
test_transfer (Fixture *f, gconstpointer user_data)
{
  MeroSyncStatus i, r;

  /* The header first (size and leaves, checked against the id). */
  exchange (f, "member", 0, 0, TRUE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (r, ==, MERO_SYNC_STATUS_DONE);
  g_assert_true (f->fetcher->open);
  g_assert_cmpuint (f->fetcher->written, ==, 0);
  /* Then two ranges, the second past the end (clipped by the provider). */
  exchange (f, "member", 0, 2, FALSE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  exchange (f, "member", 2, 16, FALSE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (r, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpuint (f->fetcher->written, ==, 4);
  g_assert_cmpmem (f->fetcher->received, f->len, f->data, f->len);
  g_assert_cmpuint (fake_blob_host_counter (f->provider, "mero_blob_chunks_served_total{}"), ==,
                    4);
  g_assert_cmpuint (fake_blob_host_counter (f->fetcher, "mero_blob_chunks_received_total{}"), ==,
                    4);
  g_assert_cmpuint (
      fake_blob_host_counter (f->provider, "mero_blob_requests_total{result=\"served\"}"), ==, 3);
}

/* WHOLE_IF_FITS: a first request asks for chunk 0 with the header; a blob
 * of more chunks gets the header alone (nothing sent it did not need),
 * a blob of one chunk arrives whole in that one exchange. */
static void
test_whole_if_fits (Fixture *f, gconstpointer user_data)
{
  const guint32 probe = MERO_BLOB_SESSION_WANT_LEAVES | MERO_BLOB_SESSION_WHOLE_IF_FITS;
  MeroSyncStatus i, r;

  exchange (f, "member", 0, 1, probe, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (r, ==, MERO_SYNC_STATUS_DONE);
  g_assert_true (f->fetcher->open);
  g_assert_cmpuint (f->fetcher->written, ==, 0);
  g_assert_cmpuint (fake_blob_host_counter (f->provider, "mero_blob_chunks_served_total{}"), ==,
                    0);

  /* The same request for a blob of one chunk: header and chunk. */
  hosts_free (f);
  hosts_new (f, 1000);
  exchange (f, "member", 0, 1, probe, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (r, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpuint (f->fetcher->written, ==, 1);
  g_assert_cmpmem (f->fetcher->received, f->len, f->data, f->len);
}

static void
test_non_member_refused (Fixture *f, gconstpointer user_data)
{
  MeroSyncStatus i, r;

  exchange (f, "stranger", 0, 4, TRUE, &i, &r);
  /* The refusal is an answer: the responder ends cleanly, the fetcher
   * fails knowing why, nothing was served or written. */
  g_assert_cmpint (r, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (f->fetcher->failure, ==, MERO_BLOB_FAILURE_REFUSED);
  g_assert_false (f->fetcher->open);
  g_assert_cmpuint (
      fake_blob_host_counter (f->provider, "mero_blob_requests_total{result=\"refused\"}"), ==, 1);
  g_assert_cmpuint (fake_blob_host_counter (f->provider, "mero_blob_chunks_served_total{}"), ==,
                    0);
}

static void
test_corrupt_chunk_refused (Fixture *f, gconstpointer user_data)
{
  MeroSyncStatus i, r;

  f->provider->corrupt_chunk = 1;
  exchange (f, "member", 0, 4, TRUE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (f->fetcher->failure, ==, MERO_BLOB_FAILURE_CORRUPT);
  /* Chunk 0 was kept, chunk 1 never written. */
  g_assert_cmpuint (f->fetcher->written, ==, 1);
  g_assert_true (f->fetcher->have[0]);
  g_assert_false (f->fetcher->have[1]);
  g_assert_cmpuint (
      fake_blob_host_counter (f->fetcher, "mero_blob_fetch_refused_total{reason=\"corrupt\"}"),
      ==, 1);
  /* Refetched intact (from a provider that serves it right). */
  f->provider->corrupt_chunk = -1;
  exchange (f, "member", 1, 3, FALSE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpmem (f->fetcher->received, f->len, f->data, f->len);
}

static void
test_too_large_refused (Fixture *f, gconstpointer user_data)
{
  MeroSyncStatus i, r;

  f->fetcher->max_size = f->len - 1;
  exchange (f, "member", 0, 4, TRUE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (f->fetcher->failure, ==, MERO_BLOB_FAILURE_TOO_LARGE);
  g_assert_cmpuint (f->fetcher->written, ==, 0);
  g_assert_cmpuint (
      fake_blob_host_counter (f->fetcher, "mero_blob_fetch_refused_total{reason=\"too_large\"}"),
      ==, 1);
}

static void
test_not_found (Fixture *f, gconstpointer user_data)
{
  MeroSyncStatus i, r;

  f->provider->blob_id[0] ^= 1;   /* it holds another blob */
  exchange (f, "member", 0, 4, TRUE, &i, &r);
  g_assert_cmpint (i, ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (f->fetcher->failure, ==, MERO_BLOB_FAILURE_NOT_FOUND);
}

static void
test_range_bound (Fixture *f, gconstpointer user_data)
{
  const MeroSyncProtocolVTable *vt = mero_plugin_blob_share_get_descriptor ()->vtable;
  MeroSyncSessionParams ip = { .struct_size = sizeof ip };
  g_autoptr (GError) error = NULL;

  /* An initiator never asks for more than one range's worth. */
  ip.role = MERO_SYNC_ROLE_INITIATOR;
  ip.peer_id = "provider";
  ip.blobs = (MeroBlobHandle *) f->fetcher;
  ip.chunk_count = BLOB_SHARE_MAX_RANGE + 1;
  g_assert_null (vt->session_new (f->fetcher_data, &ip, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_LIMIT);
}

static void
test_timeouts (Fixture *f, gconstpointer user_data)
{
  const MeroSyncProtocolVTable *vt = mero_plugin_blob_share_get_descriptor ()->vtable;
  MeroSyncSessionParams ip = { .struct_size = sizeof ip }, rp = { .struct_size = sizeof rp };
  MeroSyncSession *ini, *res;
  GBytes *b;

  ip.role = MERO_SYNC_ROLE_INITIATOR;
  ip.peer_id = "provider";
  ip.now_us = 0;
  ip.blobs = (MeroBlobHandle *) f->fetcher;
  ip.chunk_count = 1;
  ini = vt->session_new (f->fetcher_data, &ip, NULL);
  while ((b = vt->pull_send (ini)) != NULL)
    g_bytes_unref (b);
  g_assert_cmpint (vt->next_deadline (ini), ==, BLOB_SHARE_IDLE_TIMEOUT_US);
  g_assert_true (vt->handle_deadline (ini, BLOB_SHARE_IDLE_TIMEOUT_US - 1, NULL));
  g_assert_cmpint (vt->status (ini), ==, MERO_SYNC_STATUS_RUNNING);
  g_assert_false (vt->handle_deadline (ini, BLOB_SHARE_IDLE_TIMEOUT_US, NULL));
  g_assert_cmpint (vt->status (ini), ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (f->fetcher->failure, ==, MERO_BLOB_FAILURE_TIMEOUT);
  vt->session_free (ini);
  /* A responder that hears no request gives up too. */
  rp.role = MERO_SYNC_ROLE_RESPONDER;
  rp.peer_id = "member";
  rp.now_us = 0;
  rp.blobs = (MeroBlobHandle *) f->provider;
  res = vt->session_new (f->provider_data, &rp, NULL);
  g_assert_cmpint (vt->next_deadline (res), ==, BLOB_SHARE_REQUEST_TIMEOUT_US);
  g_assert_false (vt->handle_deadline (res, BLOB_SHARE_REQUEST_TIMEOUT_US, NULL));
  g_assert_cmpint (vt->status (res), ==, MERO_SYNC_STATUS_FAILED);
  vt->session_free (res);
}

/* A served chunk goes out as its header, then its own bytes: together
 * they are exactly the frame blob_wire_encode() makes, and a decoded
 * chunk reads its bytes in place. */
static void
test_wire_chunk_split (void)
{
  guint8 data[1000];
  g_autoptr (GBytes) chunk = NULL, frame = NULL, header = NULL;
  g_autoptr (GByteArray) split = g_byte_array_new ();
  BlobMsg m = { .type = BLOB_MSG_CHUNK, .index = 0x0102030405060708ull }, out = { 0 };
  const char *reason = NULL;
  size_t used = 0;

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) (i * 13);
  chunk = g_bytes_new (data, sizeof data);
  m.data = chunk;
  frame = blob_wire_encode (&m);
  header = blob_wire_encode_chunk_header (m.index, sizeof data);
  g_assert_cmpuint (g_bytes_get_size (header), ==, BLOB_WIRE_CHUNK_HEADER_LEN);
  g_byte_array_append (split, g_bytes_get_data (header, NULL), g_bytes_get_size (header));
  g_byte_array_append (split, data, sizeof data);
  g_assert_cmpmem (split->data, split->len, g_bytes_get_data (frame, NULL),
                   g_bytes_get_size (frame));
  g_assert_cmpint (blob_wire_decode (split->data, split->len, &used, &out, &reason, NULL), ==,
                   BLOB_DECODE_OK);
  g_assert_cmpuint (used, ==, split->len);
  g_assert_cmpuint (out.index, ==, m.index);
  g_assert_true (g_bytes_get_data (out.data, NULL) == split->data + BLOB_WIRE_CHUNK_HEADER_LEN);
  g_assert_cmpmem (g_bytes_get_data (out.data, NULL), g_bytes_get_size (out.data), data,
                   sizeof data);
  blob_msg_clear (&out);
}

static void
test_wire (void)
{
  BlobMsg m = { .type = BLOB_MSG_REQUEST }, out;
  g_autoptr (GBytes) frame = NULL;
  const char *reason = NULL;
  size_t used = 0;
  guint8 huge[8] = { 0x7f, 0xff, 0xff, 0xff, BLOB_MSG_CHUNK };
  guint8 unknown[5] = { 0, 0, 0, 1, 99 };

  memset (m.context_id, 1, 32);
  memset (m.blob_id, 2, 32);
  m.first = 5;
  m.count = 7;
  m.flags = BLOB_REQ_WANT_LEAVES;
  m.timestamp_us = -3;
  memset (m.signer, 4, 32);
  memset (m.signature, 5, 64);
  frame = blob_wire_encode (&m);
  g_assert_cmpuint (g_bytes_get_size (frame), ==, 5 + BLOB_WIRE_REQUEST_LEN);
  /* Incomplete is "more", never an error. */
  g_assert_cmpint (blob_wire_decode (g_bytes_get_data (frame, NULL), 10, &used, &out, &reason,
                                     NULL),
                   ==, BLOB_DECODE_NEED_MORE);
  g_assert_cmpint (blob_wire_decode (g_bytes_get_data (frame, NULL), g_bytes_get_size (frame),
                                     &used, &out, &reason, NULL),
                   ==, BLOB_DECODE_OK);
  g_assert_cmpuint (used, ==, g_bytes_get_size (frame));
  g_assert_cmpuint (out.first, ==, 5);
  g_assert_cmpuint (out.count, ==, 7);
  g_assert_cmpint (out.timestamp_us, ==, -3);
  g_assert_cmpmem (out.signature, 64, m.signature, 64);
  blob_msg_clear (&out);
  /* A length over the bound is refused before anything is buffered. */
  g_assert_cmpint (blob_wire_decode (huge, sizeof huge, &used, &out, &reason, NULL), ==,
                   BLOB_DECODE_ERROR);
  g_assert_cmpstr (reason, ==, "too_large");
  g_assert_cmpint (blob_wire_decode (unknown, sizeof unknown, &used, &out, &reason, NULL), ==,
                   BLOB_DECODE_ERROR);
  g_assert_cmpstr (reason, ==, "unknown_type");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/blob-share/transfer", test_transfer);
  ADD ("/blob-share/whole-if-fits", test_whole_if_fits);
  ADD ("/blob-share/non-member-refused", test_non_member_refused);
  ADD ("/blob-share/corrupt-chunk-refused", test_corrupt_chunk_refused);
  ADD ("/blob-share/too-large-refused", test_too_large_refused);
  ADD ("/blob-share/not-found", test_not_found);
  ADD ("/blob-share/range-bound", test_range_bound);
  ADD ("/blob-share/timeouts", test_timeouts);
  g_test_add_func ("/blob-share/wire", test_wire);
  g_test_add_func ("/blob-share/wire-chunk-split", test_wire_chunk_split);
  return g_test_run ();
}
