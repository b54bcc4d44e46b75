/* mero-blob-net.c: serving blobs over /calimero/blob/, the NodeClient's
 * blob stream handler, and the host's MeroBlobAccess (see
 * mero-blob-net.h). */
#define G_LOG_DOMAIN "merod"
#include "blob/mero-blob-net-private.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <string.h>
#include <unistd.h>

#include "blob/mero-blob-files.h"
#include "net/mero-base58.h"
#include "net/mero-peer-id.h"

#define STREAMS_METRIC "mero_node_streams_dropped_total"

G_STATIC_ASSERT (MERO_BLOB_XFER_CHUNK_LEN == MERO_BLOB_CHUNK_SIZE);
G_STATIC_ASSERT (MERO_BLOB_XFER_ID_LEN == MERO_BLOB_ID_LEN);

/* One inbound stream: one responder session of the plugin. */
typedef struct {
  Handle base;
  MeroNetStream *stream;
  char *peer;
  gboolean member;             /* holds a member's slot, else a non-member's */
  MeroSyncDriver *driver;
  GSource *watchdog;
  /* The blob this session serves, its record and file opened once (not
   * per chunk: the record's leaf check alone is linear in the blob). */
  MeroBlobMeta meta;
  int fd;
} Serve;

static void
count (MeroBlobNet *net, const char *metric, const char *label, const char *value)
{
  g_autofree char *labels = g_strdup_printf ("%s=\"%s\"", label, value);

  mero_metrics_counter_add (net->metrics, metric, labels, 1, NULL);
}

/* ---- serving ---- */

static void
serve_free (Serve *s)
{
  MeroBlobNet *net = s->base.net;

  if (s->member)
    net->serves_members--;
  else
    net->serves_others--;
  if (s->watchdog != NULL)
    {
      g_source_destroy (s->watchdog);
      g_source_unref (s->watchdog);
    }
  mero_sync_driver_free (s->driver);
  mero_blob_meta_clear (&s->meta);
  if (s->fd >= 0)
    close (s->fd);
  mero_net_stream_unref (s->stream);
  g_free (s->peer);
  g_free (s);
}

/* Closed after a whole answer (a refusal too), else reset. */
static void
serve_drop (Serve *s, gboolean clean)
{
  MeroBlobNet *net = s->base.net;

  if (clean)
    mero_node_client_stream_close (net->config.client, s->stream);
  else
    mero_node_client_stream_reset (net->config.client, s->stream);
  g_hash_table_remove (net->serves, s->stream);
}

static void
serve_write (GBytes *data, gpointer user_data)
{
  Serve *s = user_data;

  mero_node_client_stream_write (s->base.net->config.client, s->stream, data);
}

static void
serve_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason,
           const char *message, gpointer user_data)
{
  Serve *s = user_data;

  if (status != MERO_SYNC_STATUS_DONE)
    g_debug ("blob stream from %s ended: %s", s->peer, message != NULL ? message : "?");
  serve_drop (s, status == MERO_SYNC_STATUS_DONE);
}

static gboolean
on_serve_watchdog (gpointer user_data)
{
  Serve *s = user_data;

  g_clear_pointer (&s->watchdog, g_source_unref);
  count (s->base.net, STREAMS_METRIC, "reason", "blob_deadline");
  mero_sync_driver_abort (s->driver, "watchdog", "blob stream past its deadline");
  return G_SOURCE_REMOVE;
}

static guint
serves_of_peer (MeroBlobNet *net, const char *peer)
{
  GHashTableIter iter;
  Serve *s;
  guint n = 0;

  g_hash_table_iter_init (&iter, net->serves);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &s))
    n += g_strcmp0 (s->peer, peer) == 0;
  return n;
}

/* The same slot rules as the node's other streams: members of our groups
 * and everyone else draw from separate shares, so others can never take
 * the members' slots.  A non-member gets its (counted) refusal from the
 * plugin, as an answer. */
static void
serve_inbound (MeroBlobNet *net, MeroNetStream *stream)
{
  const char *peer = mero_net_stream_get_peer_id (stream);
  gboolean member = mero_contexts_peer_is_member (net->config.contexts, peer);
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  g_autoptr (GError) error = NULL;
  Serve *s;

  if (net->config.protocol == NULL
      || g_strcmp0 (mero_net_stream_get_protocol (stream), MERO_BLOB_NET_PROTOCOL) != 0)
    {
      count (net, STREAMS_METRIC, "reason", "refused");
      mero_node_client_stream_reset (net->config.client, stream);
      return;
    }
  if (member ? (net->serves_members >= MERO_NODE_MAX_INBOUND_STREAMS
                || serves_of_peer (net, peer) >= MERO_NODE_MAX_INBOUND_PER_PEER)
             : (net->serves_others >= MERO_NODE_MAX_INBOUND_NON_MEMBERS
                || serves_of_peer (net, peer) >= MERO_NODE_MAX_INBOUND_PER_NON_MEMBER))
    {
      count (net, STREAMS_METRIC, "reason", member ? "busy" : "non_member_busy");
      mero_node_client_stream_reset (net->config.client, stream);
      return;
    }
  s = g_new0 (Serve, 1);
  s->fd = -1;
  s->base.kind = HANDLE_SERVE;
  s->base.net = net;
  s->stream = mero_net_stream_ref (stream);
  s->peer = g_strdup (peer);
  s->member = member;
  if (member)
    net->serves_members++;
  else
    net->serves_others++;
  g_hash_table_insert (net->serves, s->stream, s);
  params.role = MERO_SYNC_ROLE_RESPONDER;
  params.peer_id = s->peer;
  params.now_us = g_get_monotonic_time ();
  params.blobs = (MeroBlobHandle *) s;
  s->driver = mero_sync_driver_new (net->config.protocol, &params, serve_write, serve_end, s,
                                    &error);
  if (s->driver == NULL)
    {
      g_warning ("blob-share responder not started: %s", error->message);
      serve_drop (s, FALSE);
      return;
    }
  s->watchdog = g_timeout_source_new (MERO_BLOB_NET_SERVE_DEADLINE_MS);
  g_source_set_callback (s->watchdog, on_serve_watchdog, s, NULL);
  g_source_attach (s->watchdog, NULL);
  mero_sync_driver_start (s->driver);
}

/* ---- the NodeClient's blob stream handler ---- */

static gboolean
handler_owns (gpointer data, const char *protocol)
{
  return g_str_has_prefix (protocol, MERO_BLOB_NET_PREFIX);
}

static void
handler_inbound (gpointer data, MeroNetStream *stream)
{
  serve_inbound (data, stream);
}

static gboolean
handler_opened (gpointer data, guint64 request_id, MeroNetStream *stream)
{
  MeroBlobNet *net = data;
  FetchSession *fs = g_hash_table_lookup (net->opening, &request_id);

  if (fs == NULL)
    return FALSE;
  g_hash_table_remove (net->opening, &request_id);
  fs->request_id = 0;
  mero_blob_fetch_session_opened (fs, stream);
  return TRUE;
}

static gboolean
handler_open_failed (gpointer data, guint64 request_id, const char *message)
{
  MeroBlobNet *net = data;
  FetchSession *fs = g_hash_table_lookup (net->opening, &request_id);

  if (fs == NULL)
    return FALSE;
  g_hash_table_remove (net->opening, &request_id);
  fs->request_id = 0;
  mero_blob_fetch_session_open_failed (fs, message);
  return TRUE;
}

static gboolean
handler_data (gpointer data, MeroNetStream *stream, GBytes *bytes)
{
  MeroBlobNet *net = data;
  Serve *s = g_hash_table_lookup (net->serves, stream);
  FetchSession *fs;

  if (s != NULL)
    {
      mero_sync_driver_feed (s->driver, g_bytes_get_data (bytes, NULL),
                             g_bytes_get_size (bytes));
      return TRUE;
    }
  fs = g_hash_table_lookup (net->streams, stream);
  if (fs == NULL)
    return FALSE;
  mero_blob_fetch_session_data (fs, bytes);
  return TRUE;
}

static gboolean
handler_ended (gpointer data, MeroNetStream *stream, gboolean reset)
{
  MeroBlobNet *net = data;
  Serve *s = g_hash_table_lookup (net->serves, stream);
  FetchSession *fs;

  if (s != NULL)
    {
      mero_sync_driver_stream_ended (s->driver, reset);
      return TRUE;
    }
  fs = g_hash_table_lookup (net->streams, stream);
  if (fs == NULL)
    return FALSE;
  mero_blob_fetch_session_ended (fs, reset);
  return TRUE;
}

static const MeroNodeStreamHandler blob_stream_handler = {
  .owns = handler_owns,
  .inbound = handler_inbound,
  .opened = handler_opened,
  .open_failed = handler_open_failed,
  .data = handler_data,
  .ended = handler_ended,
};

/* ---- the host's MeroBlobAccess ---- */

static gboolean
refused (MeroBlobNet *net, GError **error, const char *reason, const char *message)
{
  count (net, MERO_BLOB_NET_REFUSED_METRIC, "reason", reason);
  g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_REFUSED, message);
  return FALSE;
}

/* A non-member (whose signature, signer and timestamp were already
 * checked) gets in only when the blob is public to the context it named:
 * the mark is per context, so naming another context does not help. */
static gboolean
authorize_public (MeroBlobNet *net, const uint8_t context_id[32], const uint8_t blob_id[32],
                  GError **error)
{
  g_autoptr (GError) local = NULL;
  gboolean is_public = FALSE;

  if (!mero_blob_manager_is_public (net->config.blobs, context_id, blob_id, &is_public, &local))
    {
      g_warning ("blob request refused: cannot read its public mark: %s", local->message);
      return refused (net, error, "store", "cannot check the blob's access");
    }
  if (!is_public)
    return refused (net, error, "not_member", "not a member of the context");
  mero_metrics_counter_add (net->metrics, MERO_BLOB_NET_PUBLIC_METRIC, NULL, 1, NULL);
  return TRUE;
}

static gboolean
access_authorize (MeroBlobHandle *blobs, const char *peer_id, const uint8_t context_id[32],
                  const uint8_t blob_id[32], int64_t timestamp_us, const uint8_t signer[32],
                  const uint8_t signature[64], GError **error)
{
  Handle *h = (Handle *) blobs;
  MeroBlobNet *net = h->net;
  g_autoptr (MeroPeerId) pid = mero_peer_id_parse (peer_id, NULL);
  guint8 pk[32];
  guint8 msg[MERO_BLOB_REQUEST_MESSAGE_LEN];
  g_autofree char *ctx_b58 = mero_base58_encode (context_id, 32);
  gint64 skew = g_get_real_time () - timestamp_us;

  /* The signer is the peer the connection authenticated, nobody else. */
  if (pid == NULL || !mero_peer_id_get_ed25519_public_key (pid, pk)
      || sodium_memcmp (pk, signer, 32) != 0)
    return refused (net, error, "wrong_signer", "request not signed by the requesting peer");
  mero_blob_request_message (blob_id, context_id, timestamp_us, msg);
  if (crypto_sign_verify_detached (signature, msg, sizeof msg, signer) != 0)
    return refused (net, error, "bad_signature", "bad request signature");
  if (skew > MERO_BLOB_NET_REQUEST_WINDOW_US || skew < -MERO_BLOB_NET_REQUEST_WINDOW_US)
    return refused (net, error, "expired", "request timestamp outside the window");
  if (mero_contexts_context_has_member (net->config.contexts, ctx_b58, peer_id))
    return TRUE;
  return authorize_public (net, context_id, blob_id, error);
}

static gboolean
access_get_blob (MeroBlobHandle *blobs, const uint8_t blob_id[32], uint64_t *size,
                 GBytes **leaves, gboolean *found, GError **error)
{
  Handle *h = (Handle *) blobs;
  g_autoptr (GError) local = NULL;
  MeroBlobMeta meta = { 0 };

  *found = FALSE;
  if (!mero_blob_manager_info (h->net->config.blobs, blob_id, &meta, &local))
    {
      if (g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND))
        return TRUE;
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, local->message);
      return FALSE;
    }
  *leaves = mero_blob_manager_get_leaves (h->net->config.blobs, blob_id, &local);
  if (*leaves == NULL)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, local->message);
      return FALSE;
    }
  *size = meta.size;
  *found = TRUE;
  if (h->kind == HANDLE_SERVE)
    {
      Serve *s = (Serve *) h;

      mero_blob_meta_clear (&s->meta);
      s->meta = meta;
      s->meta.leaves = g_bytes_ref (*leaves);
    }
  return TRUE;
}

/* Test hook: the chunk as the file holds it, unchecked. */
static GBytes *
read_unverified (MeroBlobNet *net, const uint8_t blob_id[32], uint64_t index, GError **error)
{
  g_autofree char *path = mero_blob_files_path (mero_blob_manager_get_dir (net->config.blobs),
                                                blob_id);
  MeroBlobMeta meta = { 0 };
  gsize len;
  guint8 *buf;
  ssize_t n;
  int fd;

  if (!mero_blob_manager_info (net->config.blobs, blob_id, &meta, error))
    return NULL;
  len = mero_blob_chunk_len (meta.size, index);
  fd = open (path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      g_set_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "%s", g_strerror (errno));
      return NULL;
    }
  buf = g_malloc (MAX (len, 1));
  n = pread (fd, buf, len, (off_t) (index * MERO_BLOB_CHUNK_SIZE));
  close (fd);
  if (n < 0 || (gsize) n != len)
    {
      g_free (buf);
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, "short read");
      return NULL;
    }
  return g_bytes_new_take (buf, len);
}

/* Chunk @index of the session's blob, checked against its leaf. */
static GBytes *
serve_read_chunk (Serve *s, guint64 index, GError **error)
{
  MeroBlobNet *net = s->base.net;
  GError *local = NULL;
  GBytes *chunk;

  if (index >= s->meta.n_leaves)
    {
      g_set_error_literal (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_RANGE, "chunk out of range");
      return NULL;
    }
  if (s->fd < 0)
    {
      g_autofree char *path = mero_blob_files_path (mero_blob_manager_get_dir (net->config.blobs),
                                                    s->meta.id);

      s->fd = open (path, O_RDONLY | O_CLOEXEC);
      if (s->fd < 0)
        {
          g_set_error (error, MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO, "cannot open %s: %s", path,
                       g_strerror (errno));
          return NULL;
        }
    }
  chunk = mero_blob_files_read_chunk (s->fd, &s->meta, index, &local);
  if (chunk == NULL && g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT))
    {
      /* Counted as the manager counts a damaged chunk it reads. */
      mero_metrics_counter_add (net->metrics, MERO_BLOB_CORRUPT_METRIC, "source=\"disk\"", 1,
                                NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "blob-corrupt",
                        "MESSAGE", "%s", local->message);
    }
  if (local != NULL)
    g_propagate_error (error, local);
  return chunk;
}

static GBytes *
access_read_chunk (MeroBlobHandle *blobs, const uint8_t blob_id[32], uint64_t index,
                   GError **error)
{
  Handle *h = (Handle *) blobs;
  MeroBlobNet *net = h->net;
  g_autoptr (GError) local = NULL;
  GBytes *chunk;

  if (net->config.debug_serve_max_chunks > 0
      && net->served_chunks >= net->config.debug_serve_max_chunks)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                           "test hook: blob serve limit reached");
      return NULL;
    }
  if (net->config.debug_serve_unverified)
    chunk = read_unverified (net, blob_id, index, &local);
  /* A blob of at most MERO_BLOB_INLINE_MAX bytes has no file: its bytes
   * are in its record, which the manager reads (and checks). */
  else if (h->kind == HANDLE_SERVE && ((Serve *) h)->meta.leaves != NULL
           && !((Serve *) h)->meta.is_inline
           && memcmp (((Serve *) h)->meta.id, blob_id, 32) == 0)
    chunk = serve_read_chunk ((Serve *) h, index, &local);
  else
    chunk = mero_blob_manager_read_chunk (net->config.blobs, blob_id, index, &local);
  if (chunk == NULL)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE, local->message);
      return NULL;
    }
  net->served_chunks++;
  return chunk;
}

static gboolean
access_sign_request (MeroBlobHandle *blobs, const uint8_t context_id[32],
                     const uint8_t blob_id[32], int64_t timestamp_us, uint8_t signer[32],
                     uint8_t signature[64], GError **error)
{
  Handle *h = (Handle *) blobs;
  guint8 msg[MERO_BLOB_REQUEST_MESSAGE_LEN];

  mero_blob_request_message (blob_id, context_id, timestamp_us, msg);
  memcpy (signer, mero_identity_get_public_key (h->net->config.identity), 32);
  mero_identity_sign (h->net->config.identity, msg, sizeof msg, signature);
  return TRUE;
}

static FetchSession *
fetch_of (MeroBlobHandle *blobs, GError **error)
{
  Handle *h = (Handle *) blobs;

  if (h->kind != HANDLE_FETCH)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                           "not a fetch session");
      return NULL;
    }
  return (FetchSession *) h;
}

static gboolean
access_partial_open (MeroBlobHandle *blobs, uint64_t size, GBytes *leaves, GError **error)
{
  FetchSession *fs = fetch_of (blobs, error);

  return fs != NULL && mero_blob_fetch_partial_open (fs, size, leaves, error);
}

static gboolean
access_write_chunk (MeroBlobHandle *blobs, uint64_t index, const uint8_t *data, size_t len,
                    GError **error)
{
  FetchSession *fs = fetch_of (blobs, error);

  return fs != NULL && mero_blob_fetch_write_chunk (fs, index, data, len, error);
}

static uint64_t
access_next_missing (MeroBlobHandle *blobs, uint64_t from)
{
  FetchSession *fs = fetch_of (blobs, NULL);

  return fs != NULL ? mero_blob_fetch_next_missing (fs, from) : UINT64_MAX;
}

static gboolean
access_commit (MeroBlobHandle *blobs, GError **error)
{
  FetchSession *fs = fetch_of (blobs, error);

  return fs != NULL && mero_blob_fetch_commit (fs, error);
}

static void
access_note_failure (MeroBlobHandle *blobs, MeroBlobFailure failure, const char *message)
{
  FetchSession *fs = fetch_of (blobs, NULL);

  if (fs == NULL || fs->failure != MERO_BLOB_FAILURE_NONE)
    return;
  fs->failure = failure;
  fs->failure_message = g_strdup (message);
}

static const MeroBlobAccess blob_access = {
  .struct_size = sizeof (MeroBlobAccess),
  .authorize = access_authorize,
  .get_blob = access_get_blob,
  .read_chunk = access_read_chunk,
  .sign_request = access_sign_request,
  .partial_open = access_partial_open,
  .write_chunk = access_write_chunk,
  .next_missing = access_next_missing,
  .commit = access_commit,
  .note_failure = access_note_failure,
};

const MeroBlobAccess *
mero_blob_net_access_get (void)
{
  return &blob_access;
}

/* ---- the service ---- */

MeroBlobNet *
mero_blob_net_new (const MeroBlobNetConfig *config)
{
  MeroBlobNet *net = g_new0 (MeroBlobNet, 1);

  net->config = *config;
  net->metrics = mero_metrics_ref (config->metrics != NULL ? config->metrics
                                                           : mero_metrics_get_default ());
  net->serves = g_hash_table_new_full (g_direct_hash, g_direct_equal, NULL,
                                       (GDestroyNotify) serve_free);
  net->streams = g_hash_table_new (g_direct_hash, g_direct_equal);
  net->opening = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
  net->fetches = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  net->peer_streams = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_queue_init (&net->waiting);
  net->lookups = g_ptr_array_new ();
  mero_node_client_set_blob_handler (config->client, &blob_stream_handler, net);
  return net;
}

void
mero_blob_net_free (MeroBlobNet *net)
{
  if (net == NULL)
    return;
  mero_node_client_set_blob_handler (net->config.client, NULL, NULL);
  /* A commit on a worker calls back here: let it (it is bounded by one
   * file's sync). */
  while (net->commits > 0)
    g_main_context_iteration (NULL, TRUE);
  mero_blob_fetch_fail_all (net);
  mero_blob_fetch_forget_lookups (net);
  g_ptr_array_unref (net->lookups);
  g_clear_handle_id (&net->wake_id, g_source_remove);
  g_hash_table_unref (net->peer_streams);
  g_hash_table_unref (net->serves);
  g_hash_table_unref (net->streams);
  g_hash_table_unref (net->opening);
  g_hash_table_unref (net->fetches);
  mero_metrics_unref (net->metrics);
  g_free (net);
}

void
mero_blob_net_set_provider_lookup (MeroBlobNet *net, MeroBlobProviderLookup lookup,
                                   gpointer lookup_data)
{
  net->lookup = lookup;
  net->lookup_data = lookup_data;
}

void
mero_blob_net_set_progress_func (MeroBlobNet *net, MeroBlobFetchProgressFunc func,
                                 gpointer user_data)
{
  net->progress = func;
  net->progress_data = user_data;
}

void
mero_blob_net_set_fetched_func (MeroBlobNet *net, MeroBlobFetchedFunc func, gpointer user_data)
{
  net->fetched = func;
  net->fetched_data = user_data;
}
