/* mero-network-pubsub.c: the gossipsub router driven on the network
 * thread: streams and frames from mero-net-conn.c in, framed RPCs out on
 * our /meshsub streams, deliveries and peers' subscriptions out to the
 * node as events, a heartbeat timer at the router's deadline. */
#define G_LOG_DOMAIN "merod-net"
#include "net/transport/mero-network-pubsub.h"

#include <sodium.h>

#include "net/core/mero-gossipsub-router.h"

typedef struct
{
  MeroPeerId *id;
  char *id_text;
  guint64 conn_id;
  guint32 stream_id;    /* our outbound meshsub stream */
  gboolean opened;      /* agreed: frames go straight to it */
  GByteArray *pending;  /* frames queued before it was agreed */
  GHashTable *topics;   /* topic → NULL: what the peer told us */
  /* Frames dropped in a row because its stream backlog was full, since
   * when (0: the last frame was taken). */
  gint64 stalled_since;
  guint64 stall_drops;
} PsPeer;

#define PEER_TEXT_CACHE 4

struct _NetPubsub
{
  MeroNetwork *net;
  MeroGossipsubRouter *router;
  GHashTable *peers;        /* id text → PsPeer */
  GHashTable *own_topics;   /* topic → NULL */
  GHashTable *topic_counts; /* topic → GUINT count of peers in it */
  GSource *heartbeat;
  guint64 exported_drops[MERO_GOSSIPSUB_N_DROPS];
  MeroGossipsubStats exported; /* scoring counters already exported */
  gboolean view_dirty;
  /* Base58 of the last few peer ids turned to text: every delivery
   * names its sender and author, mostly the same few peers, and base58
   * is quadratic in the id's length. */
  MeroPeerId *text_ids[PEER_TEXT_CACHE];
  char *texts[PEER_TEXT_CACHE];
  guint text_next;
};

/* (transfer none) @id as text, valid until PEER_TEXT_CACHE other ids
 * were asked for. */
static const char *
peer_text (NetPubsub *self, const MeroPeerId *id)
{
  guint slot;

  for (guint i = 0; i < PEER_TEXT_CACHE; i++)
    if (self->text_ids[i] != NULL && mero_peer_id_equal (self->text_ids[i], id))
      return self->texts[i];
  slot = self->text_next;
  self->text_next = (slot + 1) % PEER_TEXT_CACHE;
  g_clear_pointer (&self->text_ids[slot], mero_peer_id_free);
  g_free (self->texts[slot]);
  self->text_ids[slot] = mero_peer_id_copy (id);
  self->texts[slot] = mero_peer_id_to_string (id);
  return self->texts[slot];
}

static void
ps_peer_free (PsPeer *peer)
{
  mero_peer_id_free (peer->id);
  g_free (peer->id_text);
  g_clear_pointer (&peer->pending, g_byte_array_unref);
  g_clear_pointer (&peer->topics, g_hash_table_unref);
  g_free (peer);
}

static void
emit_subscription (NetPubsub *self, PsPeer *peer, const char *topic, gboolean subscribed)
{
  MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);
  guint count = GPOINTER_TO_UINT (g_hash_table_lookup (self->topic_counts, topic));

  if (subscribed)
    count++;
  else if (count > 0)
    count--;
  if (count > 0)
    g_hash_table_insert (self->topic_counts, g_strdup (topic), GUINT_TO_POINTER (count));
  else
    g_hash_table_remove (self->topic_counts, topic);
  self->view_dirty = TRUE;

  ev->type = subscribed ? MERO_NET_EVENT_SUBSCRIBED : MERO_NET_EVENT_UNSUBSCRIBED;
  ev->peer_id = g_strdup (peer->id_text);
  ev->topic = g_strdup (topic);
  net_emit (self->net, ev);
}

/* Brings our copy of @peer's topics in line with the router's view and
 * tells the node what changed.  Bounded by MAX_TOPICS_PER_PEER. */
static void
sync_peer_topics (NetPubsub *self, PsPeer *peer)
{
  g_auto(GStrv) now = mero_gossipsub_router_get_peer_topics (self->router, peer->id);
  g_autoptr(GHashTable) fresh = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer key;

  for (guint i = 0; now != NULL && now[i] != NULL; i++)
    {
      g_hash_table_add (fresh, g_strdup (now[i]));
      if (!g_hash_table_contains (peer->topics, now[i]))
        emit_subscription (self, peer, now[i], TRUE);
    }
  g_hash_table_iter_init (&iter, peer->topics);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    if (!g_hash_table_contains (fresh, key))
      emit_subscription (self, peer, key, FALSE);
  g_clear_pointer (&peer->topics, g_hash_table_unref);
  peer->topics = g_steal_pointer (&fresh);
}

static void
drop_peer (NetPubsub *self, PsPeer *peer, const char *why)
{
  GHashTableIter iter;
  gpointer key;

  g_debug ("gossipsub: %s leaves the router: %s", peer->id_text, why);
  mero_gossipsub_router_remove_peer (self->router, peer->id);
  net_peer_gossip_score (self->net, peer->id_text, FALSE, 0);
  /* The node hears that a departed peer left each of its topics. */
  g_hash_table_iter_init (&iter, peer->topics);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    emit_subscription (self, peer, key, FALSE);
  self->view_dirty = TRUE;
  g_hash_table_remove (self->peers, peer->id_text);
}

/* Rebuilds the snapshot mero_network_get_mesh_peers() and
 * get_topic_peer_count() read from the node thread. */
static void
refresh_view (NetPubsub *self)
{
  GHashTable *view = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) net_topic_view_free);
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->topic_counts);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      NetTopicView *tv = g_new0 (NetTopicView, 1);

      tv->n_peers = GPOINTER_TO_UINT (value);
      g_hash_table_insert (view, g_strdup (key), tv);
    }
  g_hash_table_iter_init (&iter, self->own_topics);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    {
      g_autoptr(GPtrArray) mesh = mero_gossipsub_router_get_mesh_peers (self->router, key);
      g_autoptr(GStrvBuilder) ids = g_strv_builder_new ();
      NetTopicView *tv = g_hash_table_lookup (view, key);

      if (tv == NULL)
        {
          tv = g_new0 (NetTopicView, 1);
          g_hash_table_insert (view, g_strdup (key), tv);
        }
      for (guint i = 0; mesh != NULL && i < mesh->len; i++)
        {
          g_autofree char *text = mero_peer_id_to_string (g_ptr_array_index (mesh, i));

          g_strv_builder_add (ids, text);
        }
      tv->mesh = g_strv_builder_end (ids);
    }
  g_mutex_lock (&self->net->lock);
  g_clear_pointer (&self->net->topic_view, g_hash_table_unref);
  self->net->topic_view = view;
  g_mutex_unlock (&self->net->lock);
  self->view_dirty = FALSE;
}

static void
export_counter (NetPubsub *self, const char *name, const char *labels, guint64 now_value,
                guint64 *exported)
{
  if (now_value <= *exported)
    return;
  mero_metrics_counter_add (self->net->metrics, name, labels, now_value - *exported, NULL);
  *exported = now_value;
}

/* Adds the router's new drops to mero_gossipsub_dropped_total{reason},
 * and its scoring counters to theirs. */
static void
export_drops (NetPubsub *self)
{
  const MeroGossipsubStats *stats = mero_gossipsub_router_get_stats (self->router);

  export_counter (self, "mero_gossip_peers_graylisted_total", NULL, stats->peers_graylisted,
                  &self->exported.peers_graylisted);
  export_counter (self, "mero_gossip_rpcs_ignored_total", "reason=\"graylist\"",
                  stats->rpcs_ignored_graylist, &self->exported.rpcs_ignored_graylist);
  export_counter (self, "mero_gossip_broken_promises_total", NULL, stats->broken_promises,
                  &self->exported.broken_promises);
  export_counter (self, "mero_gossip_opportunistic_grafts_total", NULL,
                  stats->opportunistic_grafts, &self->exported.opportunistic_grafts);

  for (guint i = 0; i < MERO_GOSSIPSUB_N_DROPS; i++)
    {
      if (stats->drops[i] > self->exported_drops[i])
        {
          g_autofree char *labels =
            g_strdup_printf ("reason=\"%s\"", mero_gossipsub_drop_to_string (i));

          mero_metrics_counter_add (self->net->metrics, "mero_gossipsub_dropped_total", labels,
                                    stats->drops[i] - self->exported_drops[i], NULL);
          self->exported_drops[i] = stats->drops[i];
        }
    }
}

static NetConn *
peer_conn (NetPubsub *self, PsPeer *peer)
{
  return g_hash_table_lookup (self->net->conns, &peer->conn_id);
}

/* Moves the router's output to the streams and its deliveries to the
 * node, then re-arms the heartbeat.  Deliveries wait in the router
 * (bounded, drops counted there) while the event channel is full. */
/* One more frame @peer's full backlog could not take.  TRUE once it has
 * taken none for the stall limit: the peer is not reading. */
static gboolean
peer_stalled (NetPubsub *self, PsPeer *peer, gint64 now)
{
  mero_metrics_counter_add (self->net->metrics, "mero_net_gossip_frames_dropped_total", NULL, 1,
                            NULL);
  if (peer->stalled_since == 0)
    peer->stalled_since = now;
  peer->stall_drops++;
  return now - peer->stalled_since >= self->net->gossip_stall_us;
}

/* Closes the connections of peers that stopped reading (after the frame
 * loop: closing re-enters the pubsub). */
static void
close_stalled (NetPubsub *self, GArray *conn_ids)
{
  for (guint i = 0; i < conn_ids->len; i++)
    {
      guint64 id = g_array_index (conn_ids, guint64, i);
      NetConn *conn = g_hash_table_lookup (self->net->conns, &id);
      const char *peer_id = conn != NULL ? net_conn_get_peer_id (conn) : NULL;
      PsPeer *peer = peer_id != NULL ? g_hash_table_lookup (self->peers, peer_id) : NULL;
      g_autofree char *reason = NULL;
      g_autofree char *who = NULL;

      if (peer == NULL)
        continue;
      reason = g_strdup_printf ("gossip peer not reading: %" G_GUINT64_FORMAT
                                " frames dropped over %.1f s with its backlog full",
                                peer->stall_drops,
                                (g_get_monotonic_time () - peer->stalled_since) / 1e6);
      who = g_strdup (peer_id);
      mero_metrics_counter_add (self->net->metrics, "mero_net_gossip_peers_closed_total", NULL, 1,
                                NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "gossip-peer-stalled",
                        "MERO_PEER", who, "MESSAGE", "closing %s: %s", who, reason);
      net_conn_close_for (conn, reason);
    }
}

static void
pump (NetPubsub *self)
{
  MeroPeerId *to = NULL;
  GBytes *frame;
  g_autoptr(GArray) stalled = NULL;
  gint64 now = g_get_monotonic_time ();

  while ((frame = mero_gossipsub_router_pull_frame (self->router, &to)) != NULL)
    {
      g_autoptr(GBytes) owned = frame;
      g_autoptr(MeroPeerId) target = g_steal_pointer (&to);
      PsPeer *peer;
      NetConn *conn;
      gsize len;
      const guint8 *bytes = g_bytes_get_data (owned, &len);

      peer = g_hash_table_lookup (self->peers, peer_text (self, target));
      if (peer == NULL)
        continue;
      if (!peer->opened)
        {
          /* Early frames: our subscriptions and maybe GRAFTs, small. */
          if (peer->pending->len + len > MERO_NET_STREAM_MAX_PENDING_WRITE)
            {
              mero_metrics_counter_add (self->net->metrics, "mero_net_gossip_peers_dropped_total",
                                        NULL, 1, NULL);
              drop_peer (self, peer, "too much queued before its stream opened");
              continue;
            }
          g_byte_array_append (peer->pending, bytes, (guint) len);
          continue;
        }
      conn = peer_conn (self, peer);
      if (conn == NULL)
        {
          drop_peer (self, peer, "connection gone");
        }
      else if (net_conn_gossip_write (conn, peer->stream_id, owned))
        {
          peer->stalled_since = 0;
          peer->stall_drops = 0;
        }
      else if (peer_stalled (self, peer, now))
        {
          /* Closed after this loop, once. */
          guint64 id = peer->conn_id;

          if (stalled == NULL)
            stalled = g_array_new (FALSE, FALSE, sizeof (guint64));
          for (guint i = 0; i < stalled->len && id != 0; i++)
            if (g_array_index (stalled, guint64, i) == id)
              id = 0;
          if (id != 0)
            g_array_append_val (stalled, id);
        }
      /* Otherwise a burst beyond what the peer takes: this RPC is lost,
       * like the router's own queue-full drops; the peer stays. */
    }
  if (stalled != NULL)
    close_stalled (self, stalled);

  while (mero_event_channel_has_room (self->net->events))
    {
      g_autoptr(MeroGossipsubDelivery) d = mero_gossipsub_router_pull_delivery (self->router);
      MeroNetEvent *ev;

      if (d == NULL)
        break;
      ev = g_new0 (MeroNetEvent, 1);
      ev->type = MERO_NET_EVENT_MESSAGE;
      ev->topic = g_strdup (d->topic);
      ev->peer_id = g_strdup (peer_text (self, d->received_from));
      ev->author = g_strdup (peer_text (self, d->author));
      ev->data = g_bytes_ref (d->data);
      ev->message_id = g_bytes_ref (d->id);
      net_emit (self->net, ev);
    }

  if (self->view_dirty)
    refresh_view (self);
  {
    gint64 deadline = mero_gossipsub_router_next_deadline (self->router);

    g_source_set_ready_time (self->heartbeat, deadline == G_MAXINT64 ? -1 : deadline);
  }
}

/* Closes the connections of the peers the router found still
 * graylisted at its heartbeat.  Their score stays in the router, so a
 * reconnect starts graylisted. */
static void
disconnect_graylisted (NetPubsub *self, gint64 now)
{
  MeroPeerId *id;

  while ((id = mero_gossipsub_router_pull_disconnect (self->router)) != NULL)
    {
      g_autoptr(MeroPeerId) owned = id;
      g_autofree char *who = mero_peer_id_to_string (owned);
      g_autofree char *reason = NULL;
      PsPeer *peer = g_hash_table_lookup (self->peers, who);
      NetConn *conn = peer != NULL ? peer_conn (self, peer) : NULL;
      double score = 0;

      if (conn == NULL)
        continue;
      mero_gossipsub_router_get_peer_score (self->router, owned, now, &score);
      reason = g_strdup_printf ("gossip score %.1f below the graylist threshold %.1f "
                                "for a heartbeat (its RPCs were being ignored)",
                                score, MERO_GOSSIPSUB_SCORE_GRAYLIST_THRESHOLD);
      mero_metrics_counter_add (self->net->metrics, "mero_gossip_peers_disconnected_total",
                                "reason=\"score\"", 1, NULL);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "gossip-peer-score-closed",
                        "MERO_PEER", who, "MESSAGE", "closing %s: %s", who, reason);
      /* Re-enters the pubsub (conn_closed): @peer is gone after this. */
      net_conn_close_for (conn, reason);
    }
}

/* Publishes every peer's score to the peer table the reports read. */
static void
export_scores (NetPubsub *self, gint64 now)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PsPeer *peer = value;
      double score;

      if (mero_gossipsub_router_get_peer_score (self->router, peer->id, now, &score))
        net_peer_gossip_score (self->net, peer->id_text, TRUE, score);
    }
}

static gboolean
on_heartbeat (gpointer data)
{
  NetPubsub *self = data;
  gint64 now = g_get_monotonic_time ();

  mero_gossipsub_router_handle_deadline (self->router, now);
  /* The heartbeat grafts and prunes: the mesh snapshot may be stale. */
  self->view_dirty = TRUE;
  export_scores (self, now);
  /* Counters first: whoever sees a disconnect for a score sees the
   * graylisting counted. */
  export_drops (self);
  disconnect_graylisted (self, now);
  pump (self);
  return G_SOURCE_CONTINUE;
}

static gboolean
heartbeat_dispatch (GSource *source, GSourceFunc callback, gpointer data)
{
  g_source_set_ready_time (source, -1);
  return callback (data);
}

static GSourceFuncs heartbeat_funcs = { NULL, NULL, heartbeat_dispatch, NULL, NULL, NULL };

NetPubsub *
net_pubsub_new (MeroNetwork *net)
{
  NetPubsub *self = g_new0 (NetPubsub, 1);
  MeroGossipsubConfig config;
  guint8 seed[MERO_ED25519_SEED_LEN];
  guint64 rng_seed;

  self->net = net;
  mero_gossipsub_config_init (&config);
  mero_identity_copy_seed (net->identity, seed);
  randombytes_buf (&rng_seed, sizeof rng_seed);
  /* Seqnos must not repeat across restarts, or peers' seen caches would
   * drop our new messages as duplicates: start at wall-clock µs × 1000. */
  self->router = mero_gossipsub_router_new (&config, seed, (guint64) g_get_real_time () * 1000u,
                                            rng_seed, g_get_monotonic_time ());
  sodium_memzero (seed, sizeof seed);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL,
                                       (GDestroyNotify) ps_peer_free);
  self->own_topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->topic_counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->heartbeat = g_source_new (&heartbeat_funcs, sizeof (GSource));
  g_source_set_callback (self->heartbeat, on_heartbeat, self, NULL);
  g_source_attach (self->heartbeat, net->context);
  g_source_set_ready_time (self->heartbeat, mero_gossipsub_router_next_deadline (self->router));
  return self;
}

void
net_pubsub_free (NetPubsub *self)
{
  if (self == NULL)
    return;
  if (self->heartbeat != NULL)
    {
      g_source_destroy (self->heartbeat);
      g_source_unref (self->heartbeat);
    }
  g_clear_pointer (&self->peers, g_hash_table_unref);
  g_clear_pointer (&self->own_topics, g_hash_table_unref);
  g_clear_pointer (&self->topic_counts, g_hash_table_unref);
  g_clear_pointer (&self->router, mero_gossipsub_router_free);
  for (guint i = 0; i < PEER_TEXT_CACHE; i++)
    {
      g_clear_pointer (&self->text_ids[i], mero_peer_id_free);
      g_free (self->texts[i]);
    }
  g_free (self);
}

void
net_pubsub_peer_supports (NetPubsub *self, NetConn *conn)
{
  const char *peer_id = net_conn_get_peer_id (conn);
  g_autoptr(MeroPeerId) id = NULL;
  PsPeer *peer;
  guint32 stream_id;

  if (peer_id == NULL || g_hash_table_contains (self->peers, peer_id))
    return;
  id = mero_peer_id_parse (peer_id, NULL);
  if (id == NULL)
    return;
  stream_id = net_conn_open_gossip_stream (conn);
  if (stream_id == 0)
    return;
  if (!mero_gossipsub_router_add_peer (self->router, id, net_conn_is_outbound (conn),
                                       g_get_monotonic_time ()))
    {
      /* Counted by the router (too many peers); our stream stays idle. */
      return;
    }
  peer = g_new0 (PsPeer, 1);
  peer->id = g_steal_pointer (&id);
  peer->id_text = g_strdup (peer_id);
  peer->conn_id = net_conn_get_id (conn);
  peer->stream_id = stream_id;
  peer->pending = g_byte_array_new ();
  peer->topics = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_insert (self->peers, peer->id_text, peer);
  {
    g_autofree char *ip = net_conn_get_remote_ip (conn);

    mero_gossipsub_router_set_peer_ip (self->router, peer->id, ip);
  }
  self->view_dirty = TRUE;
  pump (self);
}

static PsPeer *
find_stream_peer (NetPubsub *self, NetConn *conn, guint32 stream_id)
{
  const char *peer_id = net_conn_get_peer_id (conn);
  PsPeer *peer = peer_id != NULL ? g_hash_table_lookup (self->peers, peer_id) : NULL;

  if (peer == NULL || peer->conn_id != net_conn_get_id (conn) || peer->stream_id != stream_id)
    return NULL;
  return peer;
}

void
net_pubsub_stream_opened (NetPubsub *self, NetConn *conn, guint32 stream_id)
{
  PsPeer *peer = find_stream_peer (self, conn, stream_id);

  if (peer == NULL)
    return;
  peer->opened = TRUE;
  if (peer->pending->len > 0)
    {
      g_autoptr(GBytes) early = g_byte_array_free_to_bytes (g_steal_pointer (&peer->pending));

      peer->pending = g_byte_array_new ();
      /* Fits: early frames are bounded by the same limit. */
      if (!net_conn_gossip_write (conn, stream_id, early))
        mero_metrics_counter_add (self->net->metrics, "mero_net_gossip_frames_dropped_total",
                                  NULL, 1, NULL);
    }
  pump (self);
}

void
net_pubsub_stream_gone (NetPubsub *self, NetConn *conn, guint32 stream_id)
{
  PsPeer *peer = find_stream_peer (self, conn, stream_id);

  if (peer == NULL)
    return;
  drop_peer (self, peer, "its meshsub stream failed");
  pump (self);
}

void
net_pubsub_conn_closed (NetPubsub *self, NetConn *conn)
{
  GHashTableIter iter;
  gpointer value;
  g_autofree char *peer_id = NULL;
  NetConn *other;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      PsPeer *peer = value;

      if (peer->conn_id == net_conn_get_id (conn))
        {
          peer_id = g_strdup (peer->id_text);
          drop_peer (self, peer, "connection closed");
          break;
        }
    }
  /* Another connection to the same peer carries on the gossip. */
  if (peer_id != NULL && (other = net_find_conn_by_peer (self->net, peer_id)) != NULL &&
      net_conn_speaks_gossip (other))
    net_pubsub_peer_supports (self, other);
  pump (self);
}

gboolean
net_pubsub_receive (NetPubsub *self, NetConn *conn, GBytes *rpc)
{
  g_autoptr(GError) error = NULL;
  const char *peer_id = net_conn_get_peer_id (conn);
  PsPeer *peer = peer_id != NULL ? g_hash_table_lookup (self->peers, peer_id) : NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (rpc, &len);
  gboolean ok;
  guint64 graylisted;
  gint64 now;

  if (peer == NULL)
    return FALSE;
  graylisted = mero_gossipsub_router_get_stats (self->router)->peers_graylisted;
  now = g_get_monotonic_time ();
  ok = mero_gossipsub_router_receive (self->router, peer->id, bytes, len, now, &error);
  if (!ok)
    g_debug ("gossipsub RPC from %s refused: %s", peer_id, error->message);
  if (mero_gossipsub_router_get_stats (self->router)->peers_graylisted != graylisted)
    {
      double score = 0;

      /* Once per fall: from here its RPCs are dropped undecoded. */
      mero_gossipsub_router_get_peer_score (self->router, peer->id, now, &score);
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "gossip-peer-graylisted",
                        "MERO_PEER", peer_id, "MESSAGE",
                        "gossip peer %s graylisted (score %.1f): its RPCs are ignored until "
                        "it is disconnected at the next heartbeat", peer_id, score);
    }
  sync_peer_topics (self, peer);
  pump (self);
  return ok;
}

void
net_pubsub_resume (NetPubsub *self)
{
  pump (self);
}

void
net_pubsub_subscribe (NetPubsub *self, const char *topic)
{
  g_autoptr(GError) error = NULL;

  if (!mero_gossipsub_router_subscribe (self->router, topic, g_get_monotonic_time (), &error))
    {
      g_warning ("gossipsub: cannot subscribe to %s: %s", topic, error->message);
      return;
    }
  g_hash_table_add (self->own_topics, g_strdup (topic));
  self->view_dirty = TRUE;
  pump (self);
}

void
net_pubsub_unsubscribe (NetPubsub *self, const char *topic)
{
  mero_gossipsub_router_unsubscribe (self->router, topic, g_get_monotonic_time ());
  g_hash_table_remove (self->own_topics, topic);
  self->view_dirty = TRUE;
  pump (self);
}

void
net_pubsub_publish (NetPubsub *self, const char *topic, GBytes *data)
{
  g_autoptr(GError) error = NULL;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (data, &len);
  g_autoptr(GBytes) id = mero_gossipsub_router_publish (self->router, topic, bytes, len,
                                                        g_get_monotonic_time (), &error);

  if (id == NULL)
    {
      mero_metrics_counter_add (self->net->metrics, "mero_net_publish_failed_total", NULL, 1, NULL);
      g_warning ("gossipsub: publish on %s failed: %s", topic, error->message);
    }
  pump (self);
}

void
net_pubsub_reject (NetPubsub *self, const char *peer_id, const char *topic)
{
  PsPeer *peer = g_hash_table_lookup (self->peers, peer_id);

  if (peer == NULL)
    return;
  mero_gossipsub_router_reject_message (self->router, peer->id, topic, g_get_monotonic_time ());
  mero_metrics_counter_add (self->net->metrics, "mero_gossip_messages_rejected_total", NULL, 1,
                            NULL);
}
