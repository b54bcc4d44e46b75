/* mero-contexts-streams.c: catch-up over the /calimero/stream/ protocols,
 * both sides: deltas by id walking back towards the roots (delta/1),
 * group ops a peer lacks (group/1), older group keys sealed to a
 * current member (key/1).  One request and one bounded answer each. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <string.h>

#include "context/delta/mero-delta-body.h"
#include "node/mero-contexts-keys.h"

#define REQUESTS_METRIC "mero_node_stream_requests_total"
/* At most one key request per context in this window. */
#define KEY_REQUEST_INTERVAL_US (2 * G_USEC_PER_SEC)

static void
count_request (MeroContexts *self, const char *protocol, const char *result)
{
  g_autofree char *labels = g_strdup_printf ("protocol=\"%s\",result=\"%s\"", protocol, result);

  mero_metrics_counter_add (self->metrics, REQUESTS_METRIC, labels, 1, NULL);
}

typedef struct {
  MeroContexts *self;
  guint8 ctx_id[ID_LEN];
  char *peer;
  GArray *ids;               /* what a delta fetch asked for (retried if it fails) */
} FetchData;

static void
fetch_data_free (FetchData *f)
{
  mero_contexts_unref (f->self);
  g_free (f->peer);
  g_clear_pointer (&f->ids, g_array_unref);
  g_free (f);
}

static void
on_deltas (GBytes *response, const GError *error, gpointer user_data)
{
  FetchData *f = user_data;
  MeroContexts *self = f->self;
  Ctx *ctx = self->closed ? NULL : mero_contexts_lookup_id (self, f->ctx_id);
  g_autoptr (MeroStreamMsg) msg = NULL;
  g_autoptr (GError) local = NULL;
  gboolean applied = FALSE;
  gboolean again;

  if (ctx == NULL)
    goto out;
  ctx->fetching = FALSE;
  if (response == NULL)
    {
      g_debug ("context %s: fetching deltas from %s failed: %s", ctx->b58, f->peer,
               error != NULL ? error->message : "?");
      count_request (self, MERO_STREAM_PROTOCOL_DELTA, "failed");
      mero_contexts_fetch_failed (self, ctx, f->peer, f->ids);
      goto out;
    }
  msg = mero_stream_msg_decode (g_bytes_get_data (response, NULL), g_bytes_get_size (response),
                                &local);
  if (msg == NULL || msg->kind != MERO_STREAM_DELTA_RESPONSE
      || memcmp (msg->id, ctx->id, ID_LEN) != 0)
    {
      count_request (self, MERO_STREAM_PROTOCOL_DELTA,
                     msg != NULL && msg->kind == MERO_STREAM_ERROR ? "refused" : "bad_response");
      mero_contexts_fetch_failed (self, ctx, f->peer, f->ids);
      goto out;
    }
  count_request (self, MERO_STREAM_PROTOCOL_DELTA, "ok");
  mero_contexts_fetch_succeeded (self, ctx);
  if (ctx->sync_buffer != NULL)
    {
      /* A snapshot is replacing the state: this history is in it (or, if
       * it fails, fetched again by the next heartbeat or sync). */
      mero_contexts_count_drop (self, "state_replacing");
      ctx->rounds = 0;
      goto out;
    }
  applied = mero_contexts_receive_batch (self, ctx, msg->blobs, f->peer);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "sync-fetched", "MERO_CONTEXT",
                    ctx->b58, "MESSAGE", "context %s: synced %u deltas from %s", ctx->b58,
                    msg->blobs != NULL ? msg->blobs->len : 0, f->peer);
  /* Heads the peer has that we neither hold nor wait for: one more round. */
  again = ctx->refetch;
  ctx->refetch = FALSE;
  if (ctx->ds != NULL && ++ctx->rounds < MERO_CONTEXTS_FETCH_ROUNDS)
    {
      g_autoptr (GArray) ids = mero_id_array_new ();
      g_autoptr (GPtrArray) missing = mero_delta_store_missing_parents (ctx->ds);

      for (guint i = 0; i < missing->len && ids->len < MERO_STREAM_MAX_IDS; i++)
        if (!mero_id_array_contains (msg->ids,
                                     g_bytes_get_data (g_ptr_array_index (missing, i), NULL)))
          mero_id_array_add (ids, g_bytes_get_data (g_ptr_array_index (missing, i), NULL));
      for (guint i = 0; i < msg->heads->len && ids->len < MERO_STREAM_MAX_IDS; i++)
        {
          const guint8 *h = mero_id_array_get (msg->heads, i);
          gboolean have = FALSE;

          if (!mero_delta_store_is_applied (ctx->ds, h, &have, NULL) || have
              || mero_delta_store_is_pending (ctx->ds, h) || mero_id_array_contains (ids, h))
            continue;
          mero_id_array_add (ids, h);
        }
      if (ids->len > 0 && (msg->blobs->len > 0 || again))
        {
          if (applied)
            mero_contexts_report_state (self, ctx);
          mero_contexts_fetch_deltas (self, ctx, f->peer, NULL, ids, ctx->fetch_depth);
          goto out;
        }
    }
  ctx->rounds = 0;
  if (applied)
    {
      mero_contexts_report_state (self, ctx);
      mero_contexts_schedule_hash_heartbeat (self, ctx);
    }
  if (self->sync_finished != NULL)
    self->sync_finished (ctx->b58, f->peer, applied, self->sync_finished_data);
out:
  fetch_data_free (f);
}

void
mero_contexts_fetch_deltas (MeroContexts *self, Ctx *ctx, const char *peer,
                            const char *const *addresses, const GArray *ids, guint depth)
{
  g_autoptr (MeroStreamMsg) req = NULL;
  g_autoptr (GBytes) bytes = NULL;
  FetchData *f;
  guint n = 0;
  const guint8 *heads;

  if (self->closed || peer == NULL || g_strcmp0 (peer, self->peer_id) == 0)
    return;
  if (ctx->sync_buffer != NULL)
    {
      g_debug ("context %s: not fetching deltas while a snapshot replaces the state", ctx->b58);
      return;
    }
  /* Members only: they are the ones that hold (and may serve) the deltas. */
  if (!mero_contexts_group_has_peer (ctx->group, peer))
    {
      g_debug ("context %s: not fetching deltas from %s (not a member)", ctx->b58, peer);
      return;
    }
  if (ctx->fetching)
    {
      ctx->refetch = TRUE;   /* one session per context at a time */
      return;
    }
  req = mero_stream_msg_new (MERO_STREAM_DELTA_REQUEST);
  memcpy (req->id, ctx->id, ID_LEN);
  g_array_append_vals (req->ids, ids->data, MIN (ids->len, MERO_STREAM_MAX_IDS));
  req->want_heads = TRUE;
  req->max_depth = depth;
  ctx->fetch_depth = depth;
  if (ctx->ds != NULL)
    {
      heads = mero_delta_store_heads (ctx->ds, &n);
      g_array_append_vals (req->have, heads, MIN (n, MERO_STREAM_MAX_IDS));
    }
  bytes = mero_stream_msg_encode (req);
  f = g_new0 (FetchData, 1);
  f->self = mero_contexts_ref (self);
  memcpy (f->ctx_id, ctx->id, ID_LEN);
  f->peer = g_strdup (peer);
  f->ids = mero_id_array_new ();
  g_array_append_vals (f->ids, req->ids->data, req->ids->len);
  ctx->fetching = TRUE;
  self->transport->request (self->transport_data, peer, addresses, MERO_STREAM_PROTOCOL_DELTA,
                            bytes, on_deltas, f);
}

/* The parents of a delta we hold (to walk back for a peer). */
static GArray *
parents_of (MeroContexts *self, Ctx *ctx, GBytes *envelope)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (envelope, &len);
  g_autoptr (MeroDeltaOpened) opened = mero_delta_envelope_open (data, len, ctx->id,
                                                                 mero_contexts_key_lookup, ctx,
                                                                 NULL);
  g_autoptr (MeroDeltaBody) body = NULL;
  GArray *out = mero_id_array_new ();

  if (opened == NULL)
    return out;
  body = mero_delta_body_decode (g_bytes_get_data (opened->body, NULL),
                                 g_bytes_get_size (opened->body), NULL);
  for (guint i = 0; body != NULL && i < mero_delta_body_n_parents (body); i++)
    mero_id_array_add (out, mero_delta_body_parent (body, i));
  return out;
}

static GBytes *
serve_deltas (MeroContexts *self, const char *peer, const MeroStreamMsg *req)
{
  Ctx *ctx = mero_contexts_lookup_id (self, req->id);
  g_autoptr (MeroStreamMsg) resp = mero_stream_msg_new (MERO_STREAM_DELTA_RESPONSE);
  g_autoptr (GArray) queue = mero_id_array_new ();
  g_autoptr (GArray) depths = g_array_new (FALSE, TRUE, sizeof (guint));
  g_autoptr (GArray) seen = mero_id_array_new ();
  g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  gsize bytes = 0;
  guint n = 0;
  const guint8 *heads;

  guint8 pk[ID_LEN];

  memcpy (resp->id, req->id, ID_LEN);
  if (ctx == NULL || ctx->ds == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      err->reason = g_strdup ("unknown context");
      return mero_stream_msg_encode (err);
    }
  /* Deltas go to current members only (a joiner is one here once its
   * JOIN arrived, which it hands over before asking): sealed as they
   * are, their authors, times and shape are still the group's business. */
  if (!mero_contexts_key_of_peer (peer, pk)
      || mero_group_state_member (mero_group_dag_state (ctx->group->dag), pk) == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      err->reason = g_strdup ("not a member");
      count_request (self, MERO_STREAM_PROTOCOL_DELTA, "refused");
      return mero_stream_msg_encode (err);
    }
  heads = mero_delta_store_heads (ctx->ds, &n);
  g_array_append_vals (resp->heads, heads, MIN (n, MERO_STREAM_MAX_IDS));
  resp->has_root = TRUE;
  mero_delta_store_root (ctx->ds, resp->root);
  g_array_append_vals (queue, req->ids->data, req->ids->len);
  if (queue->len == 0 && req->want_heads)
    g_array_append_vals (queue, heads, MIN (n, MERO_STREAM_MAX_IDS));
  g_array_set_size (depths, queue->len);
  /* Breadth-first from what was asked towards the roots, stopping at the
   * requester's heads, at max_depth levels and at the bounds; sent
   * oldest first. */
  for (guint q = 0; q < queue->len && found->len < MERO_CONTEXTS_SERVE_MAX
                    && bytes < MERO_CONTEXTS_SERVE_MAX_BYTES;
       q++)
    {
      const guint8 *id = mero_id_array_get (queue, q);
      guint depth = g_array_index (depths, guint, q);
      g_autoptr (GBytes) env = NULL;
      g_autoptr (GArray) parents = NULL;

      if (mero_id_array_contains (seen, id) || mero_id_array_contains (req->have, id))
        continue;
      mero_id_array_add (seen, id);
      if (!mero_delta_store_get_envelope (ctx->ds, id, &env, NULL) || env == NULL)
        {
          if (q < req->ids->len && resp->ids->len < MERO_STREAM_MAX_IDS)
            mero_id_array_add (resp->ids, id);
          continue;
        }
      bytes += g_bytes_get_size (env);
      if (req->max_depth == 0 || depth < req->max_depth)
        parents = parents_of (self, ctx, env);
      g_ptr_array_add (found, g_steal_pointer (&env));
      for (guint i = 0; parents != NULL && i < parents->len
                        && queue->len < 4 * MERO_CONTEXTS_SERVE_MAX;
           i++)
        {
          guint next = depth + 1;

          mero_id_array_add (queue, mero_id_array_get (parents, i));
          g_array_append_val (depths, next);
        }
    }
  for (guint i = found->len; i > 0; i--)
    g_ptr_array_add (resp->blobs, g_bytes_ref (g_ptr_array_index (found, i - 1)));
  count_request (self, MERO_STREAM_PROTOCOL_DELTA, "served");
  return mero_stream_msg_encode (resp);
}

/* ---- group ops ---- */

typedef struct {
  MeroContexts *self;
  guint8 group_id[ID_LEN];
  char *peer;
  MeroNodeResponseFunc then;
  gpointer then_data;
} GroupFetch;

static void
on_group_ops (GBytes *response, const GError *error, gpointer user_data)
{
  GroupFetch *f = user_data;
  MeroContexts *self = f->self;
  Group *group = self->closed ? NULL : mero_contexts_group_lookup (self, f->group_id);
  g_autoptr (MeroStreamMsg) msg = NULL;
  gboolean more = FALSE;

  if (group == NULL)
    goto out;
  group->ops_fetching = FALSE;
  if (response != NULL)
    msg = mero_stream_msg_decode (g_bytes_get_data (response, NULL), g_bytes_get_size (response),
                                  NULL);
  if (msg == NULL || msg->kind != MERO_STREAM_GROUP_OPS_RESPONSE
      || memcmp (msg->id, group->id, ID_LEN) != 0)
    {
      count_request (self, MERO_STREAM_PROTOCOL_GROUP, response == NULL ? "failed"
                                                       : "bad_response");
      goto out;
    }
  count_request (self, MERO_STREAM_PROTOCOL_GROUP, "ok");
  for (guint i = 0; i < msg->blobs->len; i++)
    mero_contexts_group_receive (self, group, g_ptr_array_index (msg->blobs, i), NULL, NULL);
  for (guint i = 0; i < msg->heads->len; i++)
    if (!mero_group_dag_has_op (group->dag, mero_id_array_get (msg->heads, i)))
      more = TRUE;
  if (more && msg->blobs->len > 0 && ++group->ops_rounds < MERO_CONTEXTS_FETCH_ROUNDS)
    {
      mero_contexts_fetch_group (self, group, f->peer, NULL, NULL, f->then, f->then_data);
      f->then = NULL;
      goto out;
    }
  group->ops_rounds = 0;
out:
  if (f->then != NULL)
    f->then (response, error, f->then_data);
  mero_contexts_unref (f->self);
  g_free (f->peer);
  g_free (f);
}

void
mero_contexts_fetch_group (MeroContexts *self, Group *group, const char *peer,
                           const char *const *addresses, GPtrArray *extra_ops,
                           MeroNodeResponseFunc then, gpointer then_data)
{
  g_autoptr (MeroStreamMsg) req = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GArray) heads = NULL;
  GroupFetch *f;

  if (self->closed || peer == NULL || g_strcmp0 (peer, self->peer_id) == 0)
    {
      if (then != NULL)
        {
          g_autoptr (GError) error = g_error_new_literal (MERO_CONTEXTS_ERROR,
                                                          MERO_CONTEXTS_ERROR_PEER,
                                                          "no peer to ask");
          then (NULL, error, then_data);
        }
      return;
    }
  /* Background catch-ups do not pile up; explicit ones (join) always go. */
  if (group->ops_fetching && then == NULL && extra_ops == NULL)
    return;
  req = mero_stream_msg_new (MERO_STREAM_GROUP_OPS_REQUEST);
  memcpy (req->id, group->id, ID_LEN);
  heads = mero_group_dag_heads (group->dag);
  g_array_append_vals (req->heads, heads->data, MIN (heads->len, MERO_STREAM_MAX_IDS));
  for (guint i = 0; extra_ops != NULL && i < extra_ops->len; i++)
    g_ptr_array_add (req->blobs, g_bytes_ref (g_ptr_array_index (extra_ops, i)));
  bytes = mero_stream_msg_encode (req);
  f = g_new0 (GroupFetch, 1);
  f->self = mero_contexts_ref (self);
  memcpy (f->group_id, group->id, ID_LEN);
  f->peer = g_strdup (peer);
  f->then = then;
  f->then_data = then_data;
  group->ops_fetching = TRUE;
  self->transport->request (self->transport_data, peer, addresses, MERO_STREAM_PROTOCOL_GROUP,
                            bytes, on_group_ops, f);
}

static GBytes *
serve_group (MeroContexts *self, const char *peer, const MeroStreamMsg *req)
{
  Group *group = mero_contexts_group_lookup (self, req->id);
  g_autoptr (MeroStreamMsg) resp = mero_stream_msg_new (MERO_STREAM_GROUP_OPS_RESPONSE);
  g_autoptr (GPtrArray) ops = NULL;
  g_autoptr (GArray) heads = NULL;

  if (group == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      err->reason = g_strdup ("unknown group");
      return mero_stream_msg_encode (err);
    }
  /* Ops the requester brings (its JOIN) first, so the answer covers
   * what they cause here (the key rotation). */
  for (guint i = 0; i < req->blobs->len; i++)
    mero_contexts_group_receive (self, group, g_ptr_array_index (req->blobs, i), peer, NULL);
  memcpy (resp->id, group->id, ID_LEN);
  ops = mero_group_dag_ops_for_peer (group->dag, (const guint8 *) req->heads->data,
                                     req->heads->len, MERO_CONTEXTS_SERVE_MAX);
  /* Parents first, so a prefix is always usable: cut at the byte bound. */
  for (gsize i = 0, bytes = 0; i < ops->len; i++)
    {
      GBytes *op = g_ptr_array_index (ops, i);

      bytes += g_bytes_get_size (op);
      if (bytes > MERO_CONTEXTS_SERVE_MAX_BYTES && resp->blobs->len > 0)
        break;
      g_ptr_array_add (resp->blobs, g_bytes_ref (op));
    }
  heads = mero_group_dag_heads (group->dag);
  g_array_append_vals (resp->heads, heads->data, MIN (heads->len, MERO_STREAM_MAX_IDS));
  count_request (self, MERO_STREAM_PROTOCOL_GROUP, "served");
  return mero_stream_msg_encode (resp);
}

/* ---- keys ----
 *
 * key/1 is the key-share plugin's protocol: one request, one answer, so
 * its sans-IO sessions are driven right here, around the node's
 * request/answer transport (which frames and bounds the stream).  The
 * plugin frames, checks and counts; the host seals to a current member
 * and opens with our own secret (mero-contexts-keys.c). */

static MeroSyncSessionParams
key_share_params (MeroContexts *self, MeroSyncRole role, const char *peer)
{
  MeroSyncSessionParams params = { .struct_size = sizeof params };

  params.role = role;
  params.peer_id = peer;
  params.now_us = g_get_monotonic_time ();
  params.keys = mero_contexts_key_handle (self);
  return params;
}

/* Everything @session wants to send, unframed: the one message. */
static GBytes *
key_share_take_message (MeroContexts *self, MeroSyncSession *session)
{
  const MeroSyncProtocolVTable *vt = self->key_share->vtable;
  g_autoptr (GByteArray) out = g_byte_array_new ();
  GBytes *message = NULL;
  GBytes *b;

  while ((b = vt->pull_send (session)) != NULL)
    {
      g_byte_array_append (out, g_bytes_get_data (b, NULL), g_bytes_get_size (b));
      g_bytes_unref (b);
    }
  if (!mero_stream_frame_pop (out, &message, NULL))
    return NULL;
  return message;
}

/* Feeds the peer's whole message to @session, framed as on the stream. */
static void
key_share_feed (MeroContexts *self, MeroSyncSession *session, GBytes *message)
{
  g_autoptr (GBytes) framed = mero_stream_frame (message);
  g_autoptr (GError) error = NULL;

  /* A failure is the plugin's to count and log; its status says it. */
  self->key_share->vtable->recv (session, g_bytes_get_data (framed, NULL),
                                 g_bytes_get_size (framed), g_get_monotonic_time (), &error);
}

static void
key_share_unavailable (MeroContexts *self, const char *what)
{
  count_request (self, MERO_STREAM_PROTOCOL_KEY, "unavailable");
  if (self->key_share_warned)
    return;
  self->key_share_warned = TRUE;
  g_warning ("%s: the key-share plugin is not loaded, so group keys cannot be fetched from or "
             "served to other members (/calimero/stream/key/1)", what);
}

typedef struct {
  MeroContexts *self;
  guint8 ctx_id[ID_LEN];
  char *peer;
  MeroSyncSession *session;
} KeyFetch;

static void
key_fetch_free (KeyFetch *f)
{
  f->self->key_share->vtable->session_free (f->session);
  mero_contexts_unref (f->self);
  g_free (f->peer);
  g_free (f);
}

static void
on_keys (GBytes *response, const GError *error, gpointer user_data)
{
  KeyFetch *f = user_data;
  MeroContexts *self = f->self;
  Ctx *ctx = self->closed ? NULL : mero_contexts_lookup_id (self, f->ctx_id);
  const MeroSyncProtocolVTable *vt = self->key_share->vtable;

  if (ctx == NULL)
    goto out;
  if (response == NULL)
    {
      g_debug ("context %s: asking %s for a group key failed: %s", ctx->b58, f->peer,
               error != NULL ? error->message : "?");
      count_request (self, MERO_STREAM_PROTOCOL_KEY, "failed");
      goto out;
    }
  /* The plugin installs what opens (and the host replays what waited). */
  key_share_feed (self, f->session, response);
  /* Still running after one whole message is a bad answer too. */
  count_request (self, MERO_STREAM_PROTOCOL_KEY,
                 vt->status (f->session) == MERO_SYNC_STATUS_DONE ? "ok" : "bad_response");
out:
  key_fetch_free (f);
}

void
mero_contexts_fetch_keys (MeroContexts *self, Ctx *ctx, const char *peer,
                          const guint8 key_id[ID_LEN])
{
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  MeroSyncSessionParams params;
  MeroSyncSession *session;
  KeyFetch *f;
  gint64 now = g_get_monotonic_time ();

  if (self->closed || peer == NULL || g_strcmp0 (peer, self->peer_id) == 0)
    return;
  if (ctx->key_requested_us != 0 && now - ctx->key_requested_us < KEY_REQUEST_INTERVAL_US)
    return;
  ctx->key_requested_us = now;
  if (self->key_share == NULL)
    {
      key_share_unavailable (self, ctx->b58);
      return;
    }
  params = key_share_params (self, MERO_SYNC_ROLE_INITIATOR, peer);
  memcpy (params.context_id, ctx->group->id, ID_LEN);
  params.key_ids = key_id;
  params.n_key_ids = 1;
  session = self->key_share->vtable->session_new (self->key_share->plugin_data, &params, &error);
  if (session == NULL)
    {
      g_warning ("context %s: key-share session not started: %s", ctx->b58, error->message);
      count_request (self, MERO_STREAM_PROTOCOL_KEY, "failed");
      return;
    }
  f = g_new0 (KeyFetch, 1);
  f->self = mero_contexts_ref (self);
  memcpy (f->ctx_id, ctx->id, ID_LEN);
  f->peer = g_strdup (peer);
  f->session = session;
  bytes = key_share_take_message (self, session);
  if (bytes == NULL)
    {
      count_request (self, MERO_STREAM_PROTOCOL_KEY, "failed");
      key_fetch_free (f);
      return;
    }
  self->transport->request (self->transport_data, peer, NULL, MERO_STREAM_PROTOCOL_KEY, bytes,
                            on_keys, f);
}

/* The plugin's responder: only current members get keys, each sealed by
 * the host to the requester's own key (the PeerId the connection
 * authenticated); others get the error answer they always got. */
static GBytes *
serve_keys (MeroContexts *self, const char *peer, const guint8 *request, gsize len)
{
  g_autoptr (GBytes) in = g_bytes_new (request, len);
  g_autoptr (GError) error = NULL;
  MeroSyncSessionParams params;
  MeroSyncSession *session;
  GBytes *answer;

  if (self->key_share == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      key_share_unavailable (self, "a key request");
      err->reason = g_strdup ("keys not served here");
      return mero_stream_msg_encode (err);
    }
  params = key_share_params (self, MERO_SYNC_ROLE_RESPONDER, peer);
  session = self->key_share->vtable->session_new (self->key_share->plugin_data, &params, &error);
  if (session == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      g_warning ("key-share responder not started: %s", error->message);
      err->reason = g_strdup ("internal error");
      return mero_stream_msg_encode (err);
    }
  key_share_feed (self, session, in);
  answer = key_share_take_message (self, session);
  self->key_share->vtable->session_free (session);
  if (answer == NULL)
    {
      g_autoptr (MeroStreamMsg) err = mero_stream_msg_new (MERO_STREAM_ERROR);

      count_request (self, MERO_STREAM_PROTOCOL_KEY, "refused");
      err->reason = g_strdup ("malformed request");
      return mero_stream_msg_encode (err);
    }
  /* A refusal is an answer too: counted as before the plugin. */
  {
    g_autoptr (MeroStreamMsg) sent = mero_stream_msg_decode (g_bytes_get_data (answer, NULL),
                                                             g_bytes_get_size (answer), NULL);

    count_request (self, MERO_STREAM_PROTOCOL_KEY,
                   sent != NULL && sent->kind == MERO_STREAM_KEY_RESPONSE ? "served" : "refused");
  }
  return answer;
}

GBytes *
mero_contexts_serve (MeroContexts *self, const char *peer_id, const char *protocol,
                     const guint8 *request, gsize len)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroStreamMsg) req = NULL;
  g_autoptr (MeroStreamMsg) err = NULL;

  /* The plugin decodes its own requests (bounded, counted). */
  if (g_strcmp0 (protocol, MERO_STREAM_PROTOCOL_KEY) == 0)
    return serve_keys (self, peer_id, request, len);
  if (g_strcmp0 (protocol, MERO_STREAM_PROTOCOL_BLOB_HAVE) == 0 && self->blob_serve != NULL)
    return self->blob_serve (self->blob_data, peer_id, request, len);
  req = mero_stream_msg_decode (request, len, &error);
  if (req != NULL)
    {
      if (g_strcmp0 (protocol, MERO_STREAM_PROTOCOL_DELTA) == 0
          && req->kind == MERO_STREAM_DELTA_REQUEST)
        return serve_deltas (self, peer_id, req);
      if (g_strcmp0 (protocol, MERO_STREAM_PROTOCOL_GROUP) == 0
          && req->kind == MERO_STREAM_GROUP_OPS_REQUEST)
        return serve_group (self, peer_id, req);
    }
  mero_contexts_count_drop (self, req == NULL ? mero_broadcast_error_reason (error)
                                              : "wrong_request");
  err = mero_stream_msg_new (MERO_STREAM_ERROR);
  err->reason = g_strdup (req == NULL ? "malformed request" : "wrong request for protocol");
  return mero_stream_msg_encode (err);
}

