/* mero-blob-fetch.c: see mero-blob-fetch.h. */
#define G_LOG_DOMAIN "merod"
#include "blob/mero-blob-fetch.h"

#include <glib/gi18n.h>
#include <string.h>

#include "blob/mero-blob-manager-private.h"
#include "blob/mero-blob-net-private.h"
#include "net/mero-base58.h"

/* BlobFetchProgress at most this often (and once at the end). */
#define PROGRESS_INTERVAL_US (100 * 1000)

struct _Fetch {
  MeroBlobNet *net;
  guint8 ctx[32], blob[32];
  char *ctx_b58, *blob_b58;
  GPtrArray *waiters;          /* GTask */
  GPtrArray *candidates;       /* char *: providers to probe, in order */
  guint probe_next;
  gboolean looking_up;
  MeroBlobPartial *partial;
  guint64 size, n_chunks;
  MeroBlobSched *sched;
  GPtrArray *sessions;         /* FetchSession (owned) */
  gint64 last_progress_us;
  /* How providers failed, for the error when nobody is left. */
  guint refused, not_found, corrupt, unreachable, timeouts, too_large, broken;
  gboolean committing;         /* every chunk in: the commit runs on a worker */
  char *too_large_message;
  char *last_failure;          /* the last provider failure, for the error */
};

static void pump (Fetch *f);
static void probe_next (Fetch *f);

/* ---- sessions ---- */

/* Open or opening streams to @peer over every fetch. */
static guint
peer_streams (MeroBlobNet *net, const char *peer)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (net->peer_streams, peer));
}

static void
peer_streams_add (MeroBlobNet *net, const char *peer, gint delta)
{
  guint n = peer_streams (net, peer) + (guint) delta;

  if (n == 0)
    g_hash_table_remove (net->peer_streams, peer);
  else
    g_hash_table_insert (net->peer_streams, g_strdup (peer), GUINT_TO_POINTER (n));
}

static gboolean start_waiting (gpointer user_data);

static void
session_free (FetchSession *fs)
{
  MeroBlobNet *net = fs->base.net;

  if (fs->queued)
    g_queue_remove (&net->waiting, fs);
  if (fs->counted)
    {
      peer_streams_add (net, fs->peer, -1);
      /* A slot is free: waiting sessions start from the main loop, never
       * from inside this free (it may run while a fetch is being ended). */
      if (net->waiting.length > 0 && net->wake_id == 0)
        net->wake_id = g_idle_add (start_waiting, net);
    }
  if (fs->request_id != 0)
    g_hash_table_remove (net->opening, &fs->request_id);
  if (fs->stream != NULL)
    {
      g_hash_table_remove (net->streams, fs->stream);
      mero_net_stream_unref (fs->stream);
    }
  mero_sync_driver_free (fs->driver);
  g_free (fs->peer);
  g_free (fs->failure_message);
  g_free (fs);
}

static void session_done (FetchSession *fs, gboolean ok);

/* Asks the network for @fs's stream and takes a slot to its peer. */
static gboolean
session_open (FetchSession *fs)
{
  MeroBlobNet *net = fs->base.net;
  guint64 *key;

  fs->request_id = mero_node_client_open_stream (net->config.client, fs->peer,
                                                 MERO_BLOB_NET_PROTOCOL);
  if (fs->request_id == 0)
    return FALSE;
  key = g_new (guint64, 1);
  *key = fs->request_id;
  g_hash_table_insert (net->opening, key, fs);
  fs->counted = TRUE;
  peer_streams_add (net, fs->peer, 1);
  return TRUE;
}

static FetchSession *
session_start (Fetch *f, const char *peer, gboolean probe, guint64 first, guint64 count)
{
  MeroBlobNet *net = f->net;
  FetchSession *fs;

  if (!mero_node_client_is_connected (net->config.client, peer))
    return NULL;
  fs = g_new0 (FetchSession, 1);
  fs->base.kind = HANDLE_FETCH;
  fs->base.net = net;
  fs->fetch = f;
  fs->peer = g_strdup (peer);
  fs->probe = probe;
  fs->first = first;
  fs->count = count;
  if (peer_streams (net, peer) >= MERO_BLOB_NET_STREAMS_PER_PEER)
    {
      fs->queued = TRUE;
      g_queue_push_tail (&net->waiting, fs);
      g_ptr_array_add (f->sessions, fs);
      return fs;
    }
  if (!session_open (fs))
    {
      session_free (fs);
      return NULL;
    }
  g_ptr_array_add (f->sessions, fs);
  return fs;
}

/* Starts sessions that waited for a stream slot to their provider, in
 * order; one whose stream cannot be opened fails as an open failure. */
static gboolean
start_waiting (gpointer user_data)
{
  MeroBlobNet *net = user_data;

  net->wake_id = 0;
  for (;;)
    {
      FetchSession *fs = NULL;

      for (GList *l = net->waiting.head; l != NULL; l = l->next)
        if (peer_streams (net, ((FetchSession *) l->data)->peer) < MERO_BLOB_NET_STREAMS_PER_PEER)
          {
            fs = l->data;
            break;
          }
      if (fs == NULL)
        break;
      g_queue_remove (&net->waiting, fs);
      fs->queued = FALSE;
      if (!session_open (fs))
        mero_blob_fetch_session_open_failed (fs, "the network is not running");
    }
  return G_SOURCE_REMOVE;
}

static void
session_write (GBytes *data, gpointer user_data)
{
  FetchSession *fs = user_data;

  mero_node_client_stream_write (fs->base.net->config.client, fs->stream, data);
}

static void
session_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason,
             const char *message, gpointer user_data)
{
  FetchSession *fs = user_data;
  gboolean ok = status == MERO_SYNC_STATUS_DONE;

  if (!ok && fs->failure == MERO_BLOB_FAILURE_NONE)
    {
      /* Cut before the plugin could say why: the stream, or a deadline. */
      fs->failure = g_strcmp0 (reason, "deadline") == 0 ? MERO_BLOB_FAILURE_TIMEOUT
                                                         : MERO_BLOB_FAILURE_PROTOCOL;
      fs->failure_message = g_strdup (message);
    }
  if (ok)
    mero_node_client_stream_close (fs->base.net->config.client, fs->stream);
  else
    mero_node_client_stream_reset (fs->base.net->config.client, fs->stream);
  session_done (fs, ok);
}

void
mero_blob_fetch_session_opened (FetchSession *fs, MeroNetStream *stream)
{
  Fetch *f = fs->fetch;
  MeroSyncSessionParams params = { .struct_size = sizeof params };
  g_autoptr (GError) error = NULL;

  fs->stream = mero_net_stream_ref (stream);
  g_hash_table_insert (fs->base.net->streams, fs->stream, fs);
  params.role = MERO_SYNC_ROLE_INITIATOR;
  memcpy (params.context_id, f->ctx, 32);
  params.peer_id = fs->peer;
  params.now_us = g_get_monotonic_time ();
  params.blobs = (MeroBlobHandle *) fs;
  memcpy (params.blob_id, f->blob, 32);
  params.chunk_first = fs->first;
  params.chunk_count = fs->count;
  params.blob_flags = fs->probe ? MERO_BLOB_SESSION_WANT_LEAVES | MERO_BLOB_SESSION_WHOLE_IF_FITS
                                : 0;
  fs->driver = mero_sync_driver_new (fs->base.net->config.protocol, &params, session_write,
                                     session_end, fs, &error);
  if (fs->driver == NULL)
    {
      g_warning ("blob %s: fetch session not started: %s", f->blob_b58, error->message);
      mero_node_client_stream_reset (fs->base.net->config.client, fs->stream);
      fs->failure = MERO_BLOB_FAILURE_LOCAL;
      session_done (fs, FALSE);
      return;
    }
  mero_sync_driver_start (fs->driver);
}

void
mero_blob_fetch_session_open_failed (FetchSession *fs, const char *message)
{
  g_info ("blob %s: cannot open a stream to %s: %s", fs->fetch->blob_b58, fs->peer, message);
  fs->failure = MERO_BLOB_FAILURE_REFUSED;
  fs->failure_message = g_strdup_printf ("cannot open a stream: %s", message);
  fs->fetch->unreachable++;
  session_done (fs, FALSE);
}

void
mero_blob_fetch_session_data (FetchSession *fs, GBytes *bytes)
{
  if (fs->driver != NULL)
    mero_sync_driver_feed (fs->driver, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

void
mero_blob_fetch_session_ended (FetchSession *fs, gboolean reset)
{
  if (fs->driver != NULL)
    mero_sync_driver_stream_ended (fs->driver, reset);
}

/* ---- the fetch ---- */

static void
fetch_free (Fetch *f)
{
  g_ptr_array_unref (f->sessions);
  g_ptr_array_unref (f->waiters);
  g_ptr_array_unref (f->candidates);
  mero_blob_partial_free (f->partial);
  mero_blob_sched_free (f->sched);
  g_free (f->ctx_b58);
  g_free (f->blob_b58);
  g_free (f->too_large_message);
  g_free (f->last_failure);
  g_free (f);
}

/* Ends @f: every waiter gets @size or @error (taken). */
static void
fetch_finish (Fetch *f, guint64 size, GError *error)
{
  MeroBlobNet *net = f->net;
  g_autoptr (GPtrArray) waiters = g_steal_pointer (&f->waiters);

  f->waiters = g_ptr_array_new ();
  g_hash_table_steal (net->fetches, f->blob_b58);
  /* Sessions still running are cut (their partial chunks stay). */
  for (guint i = 0; i < f->sessions->len; i++)
    {
      FetchSession *fs = g_ptr_array_index (f->sessions, i);

      if (fs->stream != NULL)
        mero_node_client_stream_reset (net->config.client, fs->stream);
    }
  g_ptr_array_set_free_func (f->sessions, (GDestroyNotify) session_free);
  for (guint i = 0; i < waiters->len; i++)
    {
      GTask *task = g_ptr_array_index (waiters, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        {
          guint64 *out = g_new (guint64, 1);

          *out = size;
          g_task_return_pointer (task, out, g_free);
        }
      g_object_unref (task);
    }
  if (error != NULL)
    {
      g_info ("blob %s: fetch failed: %s", f->blob_b58, error->message);
      g_error_free (error);
    }
  fetch_free (f);
}

static guint64
done_bytes (Fetch *f)
{
  guint64 have = f->sched != NULL ? mero_blob_sched_have_count (f->sched) : 0;
  guint64 last = f->n_chunks - 1;

  if (have == 0)
    return 0;
  /* Every chunk is whole but the last. */
  if (f->partial != NULL && mero_blob_partial_has_chunk (f->partial, last))
    return (have - 1) * MERO_BLOB_CHUNK_SIZE + mero_blob_chunk_len (f->size, last);
  return MIN (have * MERO_BLOB_CHUNK_SIZE, f->size);
}

static void
report_progress (Fetch *f, gboolean force)
{
  MeroBlobNet *net = f->net;
  gint64 now = g_get_monotonic_time ();

  /* A blob of one chunk arrives all at once: no progress to tell, and a
   * signal per small fetch would cost more than the fetch (the reply to
   * FetchBlob carries the size). */
  if (f->n_chunks <= 1)
    return;
  if (net->progress == NULL || (!force && now - f->last_progress_us < PROGRESS_INTERVAL_US))
    return;
  f->last_progress_us = now;
  net->progress (f->blob_b58, f->sched != NULL ? done_bytes (f) : 0, f->size,
                 f->sched != NULL ? mero_blob_sched_serving (f->sched) : 0, net->progress_data);
}

typedef struct {
  MeroBlobNet *net;
  char *blob_b58;
  MeroBlobPartial *partial;
} Commit;

static void
commit_free (Commit *c)
{
  mero_blob_partial_free (c->partial);
  g_free (c->blob_b58);
  g_free (c);
}

static void
on_committed (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Commit *c = g_task_get_task_data (G_TASK (result));
  MeroBlobNet *net = c->net;
  Fetch *f = g_hash_table_lookup (net->fetches, c->blob_b58);
  GError *error = NULL;

  g_autofree MeroBlobMeta *meta = NULL;

  net->commits--;
  if (f == NULL)
    return;
  meta = g_task_propagate_pointer (G_TASK (result), &error);
  if (meta == NULL)
    {
      fetch_finish (f, 0, error);
      return;
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "blob-fetched", "MESSAGE",
                    "blob %s: fetched %" G_GUINT64_FORMAT " bytes", f->blob_b58, f->size);
  if (f->net->fetched != NULL)
    f->net->fetched (f->ctx, f->blob, f->net->fetched_data);
  fetch_finish (f, f->size, NULL);
}

/* Every chunk is verified: the committer makes the file durable (one
 * syncfs per batch of commits) on its own thread; nothing waits for it
 * here, nor does a worker thread sit blocked on it, so commits of many
 * small fetches share a batch. */
static void
fetch_complete (Fetch *f)
{
  GTask *task = g_task_new (NULL, NULL, on_committed, NULL);
  Commit *c = g_new0 (Commit, 1);
  GError *error = NULL;

  report_progress (f, TRUE);
  f->committing = TRUE;
  c->net = f->net;
  c->blob_b58 = g_strdup (f->blob_b58);
  c->partial = g_steal_pointer (&f->partial);
  f->net->commits++;
  g_task_set_task_data (task, c, (GDestroyNotify) commit_free);
  /* The committer's done callback returns the task and drops its ref. */
  if (!mero_blob_partial_commit_start (c->partial, mero_blob_manager_task_done, task, &error))
    {
      g_task_return_error (task, error);
      g_object_unref (task);
    }
}

/* The error when no provider is left: the most telling failure. */
static GError *
nobody_left (Fetch *f)
{
  if (f->too_large > 0)
    return g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE,
                                f->too_large_message);
  if (f->corrupt > 0 && f->refused == 0 && f->not_found == 0)
    return g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT,
                        _("No provider served blob %s intact"), f->blob_b58);
  if (f->refused > 0 && f->not_found == 0)
    return g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_REFUSED,
                        _("Every provider refused to serve blob %s (last: %s)"), f->blob_b58,
                        f->last_failure != NULL ? f->last_failure : "?");
  if (f->timeouts > 0 && f->not_found == 0)
    return g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_TIMED_OUT,
                        _("Fetching blob %s timed out"), f->blob_b58);
  if (f->broken > 0 && f->sched != NULL)
    return g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO,
                        _("The providers of blob %s failed while serving it (last: %s); %llu "
                          "of %llu chunks are verified and kept for the next fetch"),
                        f->blob_b58, f->last_failure != NULL ? f->last_failure : "?",
                        (unsigned long long) mero_blob_sched_have_count (f->sched),
                        (unsigned long long) f->n_chunks);
  return g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND,
                      _("No reachable provider holds blob %s"), f->blob_b58);
}

static void
note_failure (Fetch *f, FetchSession *fs)
{
  switch (fs->failure)
    {
    case MERO_BLOB_FAILURE_REFUSED:
      f->refused++;
      break;
    case MERO_BLOB_FAILURE_NOT_FOUND:
      f->not_found++;
      break;
    case MERO_BLOB_FAILURE_CORRUPT:
      f->corrupt++;
      break;
    case MERO_BLOB_FAILURE_TIMEOUT:
      f->timeouts++;
      break;
    case MERO_BLOB_FAILURE_BUSY:
    case MERO_BLOB_FAILURE_PROTOCOL:
      f->broken++;
      break;
    case MERO_BLOB_FAILURE_TOO_LARGE:
      f->too_large++;
      if (f->too_large_message == NULL)
        f->too_large_message = g_strdup (fs->failure_message);
      break;
    default:
      break;
    }
  g_info ("blob %s: provider %s failed: %s", f->blob_b58, fs->peer,
          fs->failure_message != NULL ? fs->failure_message : "?");
  g_free (f->last_failure);
  f->last_failure = g_strdup (fs->failure_message);
}

/* A provider serves a peer MERO_NODE_MAX_INBOUND_PER_PEER blob streams at
 * once and resets the rest as busy: one fetch stays well under that,
 * leaving room for a probe or another blob fetched from it meanwhile. */
G_STATIC_ASSERT (MERO_BLOB_SCHED_MAX_RANGES_PER_PEER * 2 < MERO_NODE_MAX_INBOUND_PER_PEER);
/* Over every fetch, too: concurrent fetches from one provider queue. */
G_STATIC_ASSERT (MERO_BLOB_NET_STREAMS_PER_PEER < MERO_NODE_MAX_INBOUND_PER_PEER);

static void
start_ranges (Fetch *f, const char *first_provider)
{
  MeroBlobSchedLimits limits;

  mero_blob_sched_limits_default (&limits);
  f->sched = mero_blob_sched_new (f->n_chunks, &limits, g_get_monotonic_time ());
  /* Resume: what the partial verified is not asked for again. */
  for (guint64 i = 0; i < f->n_chunks; i++)
    if (mero_blob_partial_has_chunk (f->partial, i))
      mero_blob_sched_mark_have (f->sched, i);
  mero_blob_sched_add_provider (f->sched, first_provider);
  /* The others not probed yet may hold it too (if not, they say so and
   * are dropped); those whose probe failed are not asked again. */
  for (guint i = f->probe_next; i < f->candidates->len; i++)
    mero_blob_sched_add_provider (f->sched, g_ptr_array_index (f->candidates, i));
  report_progress (f, TRUE);
  pump (f);
}

static void
session_done (FetchSession *fs, gboolean ok)
{
  Fetch *f = fs->fetch;
  g_autofree char *peer = g_strdup (fs->peer);
  gboolean probe = fs->probe;
  guint64 first = fs->first, count = fs->count;
  MeroBlobFailure failure = fs->failure;

  if (!ok)
    note_failure (f, fs);
  /* Its driver may be freed from inside its end callback. */
  g_ptr_array_remove_fast (f->sessions, fs);
  session_free (fs);
  if (f->committing)
    return;
  if (probe)
    {
      if (ok && f->partial != NULL)
        {
          start_ranges (f, peer);
          return;
        }
      if (failure == MERO_BLOB_FAILURE_TOO_LARGE)
        {
          fetch_finish (f, 0, nobody_left (f));
          return;
        }
      probe_next (f);
      return;
    }
  mero_blob_sched_range_ended (f->sched, peer, first, count,
                               ok ? MERO_BLOB_RANGE_OK
                               : failure == MERO_BLOB_FAILURE_CORRUPT ? MERO_BLOB_RANGE_CORRUPT
                               : failure == MERO_BLOB_FAILURE_REFUSED
                                       || failure == MERO_BLOB_FAILURE_NOT_FOUND
                                   ? MERO_BLOB_RANGE_REFUSED
                                   : MERO_BLOB_RANGE_TRANSIENT,
                               g_get_monotonic_time ());
  if (!ok && mero_blob_sched_is_dropped (f->sched, peer))
    g_info ("blob %s: provider %s dropped", f->blob_b58, peer);
  pump (f);
}

static void
pump (Fetch *f)
{
  const char *peer;
  guint64 first, count;
  gint64 now = g_get_monotonic_time ();

  if (f->committing)
    return;
  while (mero_blob_sched_next (f->sched, now, &peer, &first, &count))
    if (session_start (f, peer, FALSE, first, count) == NULL)
      {
        f->unreachable++;
        mero_blob_sched_range_ended (f->sched, peer, first, count, MERO_BLOB_RANGE_REFUSED,
                                     now);
      }
  switch (mero_blob_sched_state (f->sched, now))
    {
    case MERO_BLOB_SCHED_DONE:
      fetch_complete (f);
      break;
    case MERO_BLOB_SCHED_NO_PROVIDER:
      fetch_finish (f, 0, nobody_left (f));
      break;
    case MERO_BLOB_SCHED_TIMED_OUT:
      fetch_finish (f, 0,
                    g_error_new (MERO_BLOB_ERROR, MERO_BLOB_ERROR_TIMED_OUT,
                                 _("Fetching blob %s timed out"), f->blob_b58));
      break;
    case MERO_BLOB_SCHED_RUNNING:
    default:
      break;
    }
}

/* Asks the next candidate for the size and leaves, and with them the
 * whole blob if it is at most MERO_BLOB_NET_PROBE_CHUNKS chunks, unless an
 * earlier transfer left some to resume from (those are never asked for
 * again): a small blob then takes one stream, not two, and a large one
 * (perhaps over blob.max_size) costs no chunk it did not ask for. */
static void
probe_next (Fetch *f)
{
  while (f->probe_next < f->candidates->len)
    {
      const char *peer = g_ptr_array_index (f->candidates, f->probe_next++);
      guint64 count = f->partial == NULL
                              && !mero_blob_partial_exists (f->net->config.blobs, f->blob)
                          ? MERO_BLOB_NET_PROBE_CHUNKS
                          : 0;

      if (session_start (f, peer, TRUE, 0, count) != NULL)
        return;
      f->unreachable++;
    }
  fetch_finish (f, 0, nobody_left (f));
}

static void
add_candidate (Fetch *f, const char *peer)
{
  if (peer == NULL || *peer == '\0')
    return;
  for (guint i = 0; i < f->candidates->len; i++)
    if (g_str_equal (g_ptr_array_index (f->candidates, i), peer))
      return;
  g_ptr_array_add (f->candidates, g_strdup (peer));
}

/* A provider lookup in flight. The lookup may answer after the service
 * is gone (the providers close after it and answer what is still
 * running): the service then clears ->net and the answer is dropped. */
struct _LookupData {
  MeroBlobNet *net;            /* NULL once the service is gone */
  char *blob_b58;
};

static void
on_providers_found (GPtrArray *peers, gpointer found_data)
{
  LookupData *ld = found_data;
  MeroBlobNet *net = ld->net;
  Fetch *f = NULL;

  if (net != NULL)
    {
      g_ptr_array_remove_fast (net->lookups, ld);
      f = g_hash_table_lookup (net->fetches, ld->blob_b58);
    }
  g_free (ld->blob_b58);
  g_free (ld);
  if (f == NULL)
    return;
  f->looking_up = FALSE;
  for (guint i = 0; peers != NULL && i < peers->len; i++)
    add_candidate (f, g_ptr_array_index (peers, i));
  probe_next (f);
}

/* The default lookup: the context's members we are connected to. */
static void
members_lookup (gpointer lookup_data, const guint8 context_id[32], const guint8 blob_id[32],
                MeroBlobProvidersFound found, gpointer found_data)
{
  MeroBlobNet *net = lookup_data;
  g_autofree char *ctx = mero_base58_encode (context_id, 32);
  g_auto (GStrv) members = mero_contexts_context_member_peers (net->config.contexts, ctx);
  g_autoptr (GPtrArray) peers = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *self = mero_peer_id_to_string (
      mero_identity_get_peer_id (net->config.identity));

  for (guint i = 0; members != NULL && members[i] != NULL; i++)
    if (g_strcmp0 (members[i], self) != 0
        && mero_node_client_is_connected (net->config.client, members[i]))
      g_ptr_array_add (peers, g_strdup (members[i]));
  found (peers, found_data);
}

void
mero_blob_net_fetch_async (MeroBlobNet *net, const char *context_id, const char *blob_id,
                           const char *const *providers, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  /* The service is no GObject: the task has no source object. */
  g_autoptr (GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) ctx = NULL;
  MeroBlobMeta meta = { 0 };
  guint8 blob[32];
  Fetch *f;
  LookupData *ld;

  if (!mero_blob_id_parse (blob_id, blob, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  /* Held here already: no network. */
  if (mero_blob_manager_info (net->config.blobs, blob, &meta, NULL))
    {
      guint64 *out = g_new (guint64, 1);

      *out = meta.size;
      g_task_return_pointer (task, out, g_free);
      return;
    }
  ctx = context_id != NULL ? mero_base58_decode (context_id) : NULL;
  if (ctx == NULL || g_bytes_get_size (ctx) != 32)
    {
      g_task_return_new_error (task, MERO_BLOB_ERROR, MERO_BLOB_ERROR_INVALID,
                               _("A blob is fetched within a context: give a valid context id"));
      return;
    }
  if (net->config.protocol == NULL)
    {
      g_task_return_new_error (task, MERO_BLOB_ERROR, MERO_BLOB_ERROR_NOT_FOUND,
                               _("Blob %s is not held here and the blob-share plugin is not "
                                 "loaded to fetch it"),
                               blob_id);
      return;
    }
  f = g_hash_table_lookup (net->fetches, blob_id);
  if (f != NULL)
    {
      /* One transfer per blob: this caller waits for it too. */
      g_ptr_array_add (f->waiters, g_steal_pointer (&task));
      for (guint i = 0; providers != NULL && providers[i] != NULL; i++)
        {
          add_candidate (f, providers[i]);
          if (f->sched != NULL)
            mero_blob_sched_add_provider (f->sched, providers[i]);
        }
      return;
    }
  f = g_new0 (Fetch, 1);
  f->net = net;
  memcpy (f->ctx, g_bytes_get_data (ctx, NULL), 32);
  memcpy (f->blob, blob, 32);
  f->ctx_b58 = g_strdup (context_id);
  f->blob_b58 = g_strdup (blob_id);
  f->waiters = g_ptr_array_new ();
  f->candidates = g_ptr_array_new_with_free_func (g_free);
  f->sessions = g_ptr_array_new ();
  g_ptr_array_add (f->waiters, g_steal_pointer (&task));
  for (guint i = 0; providers != NULL && providers[i] != NULL; i++)
    add_candidate (f, providers[i]);
  g_hash_table_insert (net->fetches, g_strdup (blob_id), f);
  f->looking_up = TRUE;
  ld = g_new0 (LookupData, 1);
  ld->net = net;
  ld->blob_b58 = g_strdup (blob_id);
  g_ptr_array_add (net->lookups, ld);
  if (net->lookup != NULL)
    net->lookup (net->lookup_data, f->ctx, f->blob, on_providers_found, ld);
  else
    members_lookup (net, f->ctx, f->blob, on_providers_found, ld);
}

gboolean
mero_blob_net_fetch_finish (MeroBlobNet *net, GAsyncResult *result, guint64 *size,
                            GError **error)
{
  g_autofree guint64 *out = g_task_propagate_pointer (G_TASK (result), error);

  if (out == NULL)
    return FALSE;
  if (size != NULL)
    *size = *out;
  return TRUE;
}

void
mero_blob_fetch_forget_lookups (MeroBlobNet *net)
{
  for (guint i = 0; i < net->lookups->len; i++)
    ((LookupData *) g_ptr_array_index (net->lookups, i))->net = NULL;
  g_ptr_array_set_size (net->lookups, 0);
}

void
mero_blob_fetch_fail_all (MeroBlobNet *net)
{
  GHashTableIter iter;
  gpointer value;

  while (g_hash_table_size (net->fetches) > 0)
    {
      g_hash_table_iter_init (&iter, net->fetches);
      g_hash_table_iter_next (&iter, NULL, &value);
      fetch_finish (value, 0,
                    g_error_new_literal (MERO_BLOB_ERROR, MERO_BLOB_ERROR_CLOSED,
                                         _("The node is stopping")));
    }
}

/* ---- the fetch side of MeroBlobAccess ---- */

gboolean
mero_blob_fetch_partial_open (FetchSession *fs, guint64 size, GBytes *leaves, GError **error)
{
  Fetch *f = fs->fetch;
  g_autoptr (GError) local = NULL;

  if (f->partial != NULL)
    {
      if (size != f->size)
        {
          g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                               "the provider describes another size");
          return FALSE;
        }
      return TRUE;
    }
  f->partial = mero_blob_partial_open (f->net->config.blobs, f->blob, size, leaves, &local);
  if (f->partial == NULL)
    {
      int code = g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_TOO_LARGE)
                     ? MERO_SYNC_ERROR_LIMIT
                 : g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_CORRUPT)
                     ? MERO_SYNC_ERROR_PROTOCOL
                     : MERO_SYNC_ERROR_STATE;

      g_set_error_literal (error, MERO_SYNC_ERROR, code, local->message);
      return FALSE;
    }
  f->size = size;
  f->n_chunks = mero_blob_chunk_count (size);
  return TRUE;
}

gboolean
mero_blob_fetch_write_chunk (FetchSession *fs, guint64 index, const guint8 *data, gsize len,
                             GError **error)
{
  Fetch *f = fs->fetch;
  g_autoptr (GError) local = NULL;

  /* A probe may carry the first chunks: there is no schedule yet, and
   * the one made after the probe starts from what the partial holds. */
  if (f->partial == NULL || (f->sched == NULL && !fs->probe))
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL,
                           "a chunk before the blob's header");
      return FALSE;
    }
  if (!mero_blob_partial_write_chunk (f->partial, index, data, len, &local))
    {
      g_set_error_literal (error, MERO_SYNC_ERROR,
                           g_error_matches (local, MERO_BLOB_ERROR, MERO_BLOB_ERROR_IO)
                               ? MERO_SYNC_ERROR_STATE
                               : MERO_SYNC_ERROR_PROTOCOL,
                           local->message);
      return FALSE;
    }
  if (f->sched != NULL)
    mero_blob_sched_chunk_done (f->sched, fs->peer, index);
  report_progress (f, FALSE);
  return TRUE;
}

guint64
mero_blob_fetch_next_missing (FetchSession *fs, guint64 from)
{
  Fetch *f = fs->fetch;
  guint64 i;

  if (f->partial == NULL)
    return G_MAXUINT64;
  i = mero_blob_partial_next_missing (f->partial, from);
  return i == MERO_BLOB_PARTIAL_DONE ? G_MAXUINT64 : i;
}

gboolean
mero_blob_fetch_commit (FetchSession *fs, GError **error)
{
  Fetch *f = fs->fetch;
  g_autoptr (GError) local = NULL;

  /* The fetch commits once every provider's ranges are in; a session
   * asking early is told what is missing. */
  if (f->partial == NULL || mero_blob_partial_missing_count (f->partial) > 0)
    {
      g_set_error_literal (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_STATE,
                           "chunks are still missing");
      return FALSE;
    }
  return TRUE;
}
