/* mero-gossipsub-queue.c: what waits to be sent to each peer.  Control
 * and subscriptions piggyback on the next RPC to the peer, with as many
 * queued messages as fit one RPC.  Every per-peer queue is bounded (a
 * peer that never reads must not grow our memory), and every RPC built
 * here stays inside the bounds our own decoder (and js's) enforces. */
#include "net/core/mero-gossipsub-router-private.h"

#include <string.h>

static void
mark_pending (MeroGossipsubRouter *self, GossipPeer *peer)
{
  if (peer->pending)
    return;
  peer->pending = TRUE;
  g_queue_push_tail (&self->pending, peer);
}

static guint
control_entries (const GossipPeer *peer)
{
  return peer->out_ctl->ihave->len + peer->out_ctl->graft->len + peer->out_ctl->prune->len;
}

static gboolean
control_has_room (MeroGossipsubRouter *self, GossipPeer *peer)
{
  if (control_entries (peer) < MERO_GOSSIPSUB_MAX_PEER_QUEUE_CONTROL)
    return TRUE;
  mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_CONTROL_QUEUE_FULL);
  return FALSE;
}

void
mero_gossipsub_queue_subscription (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic,
                                   gboolean subscribe)
{
  if (peer->out_ctl->subscriptions->len >= MERO_GOSSIPSUB_MAX_PEER_QUEUE_SUBSCRIPTIONS)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_CONTROL_QUEUE_FULL);
      return;
    }
  mero_gossipsub_rpc_add_subscription (peer->out_ctl, subscribe, topic);
  mark_pending (self, peer);
}

void
mero_gossipsub_queue_graft (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic)
{
  if (!control_has_room (self, peer))
    return;
  g_ptr_array_add (peer->out_ctl->graft, g_strdup (topic));
  mark_pending (self, peer);
}

void
mero_gossipsub_queue_prune (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic,
                            guint64 backoff_s)
{
  if (!control_has_room (self, peer))
    return;
  mero_gossipsub_rpc_add_prune (peer->out_ctl, topic, TRUE, backoff_s);
  mark_pending (self, peer);
}

void
mero_gossipsub_queue_ihave (MeroGossipsubRouter *self, GossipPeer *peer, const char *topic,
                            GPtrArray *ids)
{
  MeroGossipsubIHave *ih;
  guint room = MERO_GOSSIPSUB_MAX_IDS - peer->out_ids;
  guint n = MIN (MIN (ids->len, room), MERO_GOSSIPSUB_MAX_IHAVE_LENGTH);

  if (n == 0 || !control_has_room (self, peer))
    return;
  ih = g_new0 (MeroGossipsubIHave, 1);
  ih->topic = g_strdup (topic);
  ih->message_ids = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  for (guint i = 0; i < n; i++)
    g_ptr_array_add (ih->message_ids, g_bytes_ref (g_ptr_array_index (ids, i)));
  g_ptr_array_add (peer->out_ctl->ihave, ih);
  peer->out_ids += n;
  mark_pending (self, peer);
}

gboolean
mero_gossipsub_queue_iwant (MeroGossipsubRouter *self, GossipPeer *peer, GBytes *id)
{
  if (peer->out_ctl->iwant->len >= MERO_GOSSIPSUB_MAX_PEER_QUEUE_IWANT ||
      peer->out_ids >= MERO_GOSSIPSUB_MAX_IDS)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_CONTROL_QUEUE_FULL);
      return FALSE;
    }
  g_ptr_array_add (peer->out_ctl->iwant, g_bytes_ref (id));
  peer->out_ids++;
  mark_pending (self, peer);
  return TRUE;
}

static gsize
message_size (const MeroGossipsubMessage *msg)
{
  return msg->data != NULL ? g_bytes_get_size (msg->data) : 0;
}

gboolean
mero_gossipsub_queue_message (MeroGossipsubRouter *self, GossipPeer *peer,
                              const MeroGossipsubMessage *msg)
{
  gsize size = message_size (msg);

  if (g_queue_get_length (&peer->out_msgs) >= MERO_GOSSIPSUB_MAX_PEER_QUEUE_MESSAGES ||
      peer->out_bytes + size > MERO_GOSSIPSUB_MAX_PEER_QUEUE_BYTES)
    {
      mero_gossipsub_count_drop (self, MERO_GOSSIPSUB_DROP_SEND_QUEUE_FULL);
      return FALSE;
    }
  g_queue_push_tail (&peer->out_msgs, mero_gossipsub_message_copy (msg));
  peer->out_bytes += size;
  mark_pending (self, peer);
  return TRUE;
}

void
mero_gossipsub_queue_clear (MeroGossipsubRouter *self, GossipPeer *peer)
{
  g_queue_clear_full (&peer->out_msgs, (GDestroyNotify) mero_gossipsub_message_free);
  peer->out_bytes = 0;
  g_clear_pointer (&peer->out_ctl, mero_gossipsub_rpc_free);
  peer->out_ctl = mero_gossipsub_rpc_new ();
  peer->out_ids = 0;
  if (peer->pending)
    {
      g_queue_remove (&self->pending, peer);
      peer->pending = FALSE;
    }
}

static gboolean
peer_has_output (GossipPeer *peer)
{
  const MeroGossipsubRpc *c = peer->out_ctl;

  return !g_queue_is_empty (&peer->out_msgs) || c->subscriptions->len > 0 || c->ihave->len > 0 ||
         c->iwant->len > 0 || c->graft->len > 0 || c->prune->len > 0;
}

GBytes *
mero_gossipsub_queue_pull (MeroGossipsubRouter *self, MeroPeerId **peer_out)
{
  g_autoptr(MeroGossipsubRpc) rpc = NULL;
  GossipPeer *peer = NULL;
  gsize data = 0;

  /* Skip peers whose queue emptied (e.g. nothing left after a clear). */
  while ((peer = g_queue_pop_head (&self->pending)) != NULL)
    {
      peer->pending = FALSE;
      if (peer_has_output (peer))
        break;
    }
  if (peer == NULL)
    return NULL;

  rpc = g_steal_pointer (&peer->out_ctl);
  peer->out_ctl = mero_gossipsub_rpc_new ();
  peer->out_ids = 0;
  while (!g_queue_is_empty (&peer->out_msgs))
    {
      MeroGossipsubMessage *m = g_queue_peek_head (&peer->out_msgs);
      gsize size = message_size (m);

      if (rpc->messages->len > 0 && data + size > MERO_GOSSIPSUB_MAX_OUT_RPC_DATA)
        break;
      g_queue_pop_head (&peer->out_msgs);
      g_ptr_array_add (rpc->messages, m);
      data += size;
      peer->out_bytes -= size;
    }
  if (!g_queue_is_empty (&peer->out_msgs))
    mark_pending (self, peer);

  self->stats.rpcs_sent++;
  if (peer_out != NULL)
    *peer_out = mero_peer_id_copy (peer->id);
  return mero_gossipsub_rpc_encode (rpc);
}
