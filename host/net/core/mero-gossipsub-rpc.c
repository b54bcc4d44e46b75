/* mero-gossipsub-rpc.c: RPC protobuf through protobuf-c, bounds first. */
#include "net/core/mero-gossipsub-rpc.h"

#include <string.h>

#include "gossipsub-rpc.pb-c.h"

static void
rpc_pb_free (RPC *msg)
{
  if (msg != NULL)
    rpc__free_unpacked (msg, NULL);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC (RPC, rpc_pb_free)

static void
subscription_free (gpointer data)
{
  MeroGossipsubSubscription *s = data;

  g_free (s->topic);
  g_free (s);
}

static void
ihave_free (gpointer data)
{
  MeroGossipsubIHave *ih = data;

  g_free (ih->topic);
  g_ptr_array_unref (ih->message_ids);
  g_free (ih);
}

static void
prune_free (gpointer data)
{
  MeroGossipsubPrune *p = data;

  g_free (p->topic);
  g_free (p);
}

static GPtrArray *
bytes_array (void)
{
  return g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
}

MeroGossipsubRpc *
mero_gossipsub_rpc_new (void)
{
  MeroGossipsubRpc *rpc = g_new0 (MeroGossipsubRpc, 1);

  rpc->subscriptions = g_ptr_array_new_with_free_func (subscription_free);
  rpc->messages = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_gossipsub_message_free);
  rpc->ihave = g_ptr_array_new_with_free_func (ihave_free);
  rpc->iwant = bytes_array ();
  rpc->graft = g_ptr_array_new_with_free_func (g_free);
  rpc->prune = g_ptr_array_new_with_free_func (prune_free);
  rpc->idontwant = bytes_array ();
  return rpc;
}

void
mero_gossipsub_rpc_free (MeroGossipsubRpc *rpc)
{
  if (rpc == NULL)
    return;
  g_ptr_array_unref (rpc->subscriptions);
  g_ptr_array_unref (rpc->messages);
  g_ptr_array_unref (rpc->ihave);
  g_ptr_array_unref (rpc->iwant);
  g_ptr_array_unref (rpc->graft);
  g_ptr_array_unref (rpc->prune);
  g_ptr_array_unref (rpc->idontwant);
  g_free (rpc);
}

void
mero_gossipsub_rpc_add_subscription (MeroGossipsubRpc *rpc, gboolean subscribe, const char *topic)
{
  MeroGossipsubSubscription *s = g_new0 (MeroGossipsubSubscription, 1);

  s->subscribe = subscribe;
  s->topic = g_strdup (topic);
  g_ptr_array_add (rpc->subscriptions, s);
}

void
mero_gossipsub_rpc_add_prune (MeroGossipsubRpc *rpc, const char *topic, gboolean has_backoff,
                              guint64 backoff_s)
{
  MeroGossipsubPrune *p = g_new0 (MeroGossipsubPrune, 1);

  p->topic = g_strdup (topic);
  p->has_backoff = has_backoff;
  p->backoff_s = backoff_s;
  g_ptr_array_add (rpc->prune, p);
}

guint
mero_gossipsub_rpc_count_ids (const MeroGossipsubRpc *rpc)
{
  guint n = rpc->iwant->len + rpc->idontwant->len;

  for (guint i = 0; i < rpc->ihave->len; i++)
    n += ((MeroGossipsubIHave *) g_ptr_array_index (rpc->ihave, i))->message_ids->len;
  return n;
}

/* --- encoding --- */

static void
set_bin (ProtobufCBinaryData *dst, GBytes *src)
{
  dst->data = (guint8 *) g_bytes_get_data (src, &dst->len);
}

/* Keeps the temporary protobuf-c structs of one encode alive. */
typedef struct
{
  GPtrArray *allocs;
} Arena;

static gpointer
arena_new0 (Arena *a, gsize size)
{
  gpointer p = g_malloc0 (size);

  g_ptr_array_add (a->allocs, p);
  return p;
}

static ProtobufCBinaryData *
ids_to_pb (Arena *a, GPtrArray *ids)
{
  ProtobufCBinaryData *out = arena_new0 (a, sizeof *out * (ids->len + 1));

  for (guint i = 0; i < ids->len; i++)
    set_bin (&out[i], g_ptr_array_index (ids, i));
  return out;
}

GBytes *
mero_gossipsub_rpc_encode (const MeroGossipsubRpc *rpc)
{
  RPC msg = RPC__INIT;
  RPC__ControlMessage control = RPC__CONTROL_MESSAGE__INIT;
  Arena a = { g_ptr_array_new_with_free_func (g_free) };
  guint8 *buf;
  gsize len;

  g_return_val_if_fail (rpc != NULL, NULL);

  msg.n_subscriptions = rpc->subscriptions->len;
  msg.subscriptions = arena_new0 (&a, sizeof (gpointer) * (rpc->subscriptions->len + 1));
  for (guint i = 0; i < rpc->subscriptions->len; i++)
    {
      MeroGossipsubSubscription *s = g_ptr_array_index (rpc->subscriptions, i);
      RPC__SubOpts *pb = arena_new0 (&a, sizeof *pb);

      rpc__sub_opts__init (pb);
      pb->has_subscribe = TRUE;
      pb->subscribe = s->subscribe;
      pb->topic = s->topic;
      msg.subscriptions[i] = pb;
    }
  msg.n_messages = rpc->messages->len;
  msg.messages = arena_new0 (&a, sizeof (gpointer) * (rpc->messages->len + 1));
  for (guint i = 0; i < rpc->messages->len; i++)
    {
      MeroGossipsubMessage *m = g_ptr_array_index (rpc->messages, i);
      RPC__Message *pb = arena_new0 (&a, sizeof *pb);

      rpc__message__init (pb);
      if ((pb->has_from = m->from != NULL))
        set_bin (&pb->from, m->from);
      if ((pb->has_data = m->data != NULL))
        set_bin (&pb->data, m->data);
      if ((pb->has_seqno = m->seqno != NULL))
        set_bin (&pb->seqno, m->seqno);
      pb->topic = m->topic;
      if ((pb->has_signature = m->signature != NULL))
        set_bin (&pb->signature, m->signature);
      if ((pb->has_key = m->key != NULL))
        set_bin (&pb->key, m->key);
      msg.messages[i] = pb;
    }
  if (rpc->ihave->len + rpc->iwant->len + rpc->graft->len + rpc->prune->len +
      rpc->idontwant->len > 0)
    {
      msg.control = &control;
      control.n_ihave = rpc->ihave->len;
      control.ihave = arena_new0 (&a, sizeof (gpointer) * (rpc->ihave->len + 1));
      for (guint i = 0; i < rpc->ihave->len; i++)
        {
          MeroGossipsubIHave *ih = g_ptr_array_index (rpc->ihave, i);
          RPC__ControlIHave *pb = arena_new0 (&a, sizeof *pb);

          rpc__control_ihave__init (pb);
          pb->topicid = ih->topic;
          pb->n_messageids = ih->message_ids->len;
          pb->messageids = ids_to_pb (&a, ih->message_ids);
          control.ihave[i] = pb;
        }
      if (rpc->iwant->len > 0)
        {
          RPC__ControlIWant *pb = arena_new0 (&a, sizeof *pb);

          rpc__control_iwant__init (pb);
          pb->n_messageids = rpc->iwant->len;
          pb->messageids = ids_to_pb (&a, rpc->iwant);
          control.n_iwant = 1;
          control.iwant = arena_new0 (&a, sizeof (gpointer));
          control.iwant[0] = pb;
        }
      control.n_graft = rpc->graft->len;
      control.graft = arena_new0 (&a, sizeof (gpointer) * (rpc->graft->len + 1));
      for (guint i = 0; i < rpc->graft->len; i++)
        {
          RPC__ControlGraft *pb = arena_new0 (&a, sizeof *pb);

          rpc__control_graft__init (pb);
          pb->topicid = g_ptr_array_index (rpc->graft, i);
          control.graft[i] = pb;
        }
      control.n_prune = rpc->prune->len;
      control.prune = arena_new0 (&a, sizeof (gpointer) * (rpc->prune->len + 1));
      for (guint i = 0; i < rpc->prune->len; i++)
        {
          MeroGossipsubPrune *p = g_ptr_array_index (rpc->prune, i);
          RPC__ControlPrune *pb = arena_new0 (&a, sizeof *pb);

          rpc__control_prune__init (pb);
          pb->topicid = p->topic;
          pb->has_backoff = p->has_backoff;
          pb->backoff = p->backoff_s;
          control.prune[i] = pb;
        }
      if (rpc->idontwant->len > 0)
        {
          RPC__ControlIDontWant *pb = arena_new0 (&a, sizeof *pb);

          rpc__control_idont_want__init (pb);
          pb->n_messageids = rpc->idontwant->len;
          pb->messageids = ids_to_pb (&a, rpc->idontwant);
          control.n_idontwant = 1;
          control.idontwant = arena_new0 (&a, sizeof (gpointer));
          control.idontwant[0] = pb;
        }
    }
  len = rpc__get_packed_size (&msg);
  buf = g_malloc (len > 0 ? len : 1);
  rpc__pack (&msg, buf);
  g_ptr_array_unref (a.allocs);
  return g_bytes_new_take (buf, len);
}

/* --- decoding --- */

static gboolean
too_large (GError **error, const char *what, gsize n, gsize max)
{
  g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_TOO_LARGE,
               "gossipsub RPC: %s %zu exceeds %zu", what, n, max);
  return FALSE;
}

static gboolean
check_topic (const char *topic, GError **error)
{
  if (topic == NULL)
    return TRUE;
  if (strlen (topic) > MERO_GOSSIPSUB_MAX_TOPIC_LEN)
    return too_large (error, "topic length", strlen (topic), MERO_GOSSIPSUB_MAX_TOPIC_LEN);
  if (!g_utf8_validate (topic, -1, NULL))
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_MALFORMED,
                   "gossipsub RPC: topic is not UTF-8");
      return FALSE;
    }
  return TRUE;
}

static gboolean
copy_ids (GPtrArray *dst, ProtobufCBinaryData *ids, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    {
      if (ids[i].len > MERO_GOSSIPSUB_MAX_MESSAGE_ID_LEN)
        return too_large (error, "message id length", ids[i].len, MERO_GOSSIPSUB_MAX_MESSAGE_ID_LEN);
      g_ptr_array_add (dst, g_bytes_new (ids[i].data, ids[i].len));
    }
  return TRUE;
}

static GBytes *
opt_bytes (protobuf_c_boolean has, const ProtobufCBinaryData *b)
{
  return has ? g_bytes_new (b->data, b->len) : NULL;
}

/* Counts before copying anything, so a hostile RPC costs no allocation
 * beyond protobuf-c's own (itself bounded by the RPC size). */
static gboolean
check_counts (const RPC *msg, GError **error)
{
  gsize ids = 0, entries = 0;

  if (msg->n_subscriptions > MERO_GOSSIPSUB_MAX_SUBSCRIPTIONS)
    return too_large (error, "subscriptions", msg->n_subscriptions, MERO_GOSSIPSUB_MAX_SUBSCRIPTIONS);
  if (msg->n_messages > MERO_GOSSIPSUB_MAX_MESSAGES)
    return too_large (error, "messages", msg->n_messages, MERO_GOSSIPSUB_MAX_MESSAGES);
  for (gsize i = 0; i < msg->n_messages; i++)
    if (msg->messages[i]->has_data && msg->messages[i]->data.len > MERO_GOSSIPSUB_MAX_MESSAGE_DATA)
      return too_large (error, "message data", msg->messages[i]->data.len,
                        MERO_GOSSIPSUB_MAX_MESSAGE_DATA);
  if (msg->control == NULL)
    return TRUE;
  entries = msg->control->n_ihave + msg->control->n_iwant + msg->control->n_graft +
            msg->control->n_prune + msg->control->n_idontwant;
  if (entries > MERO_GOSSIPSUB_MAX_CONTROL_ENTRIES)
    return too_large (error, "control entries", entries, MERO_GOSSIPSUB_MAX_CONTROL_ENTRIES);
  for (gsize i = 0; i < msg->control->n_ihave; i++)
    ids += msg->control->ihave[i]->n_messageids;
  for (gsize i = 0; i < msg->control->n_iwant; i++)
    ids += msg->control->iwant[i]->n_messageids;
  for (gsize i = 0; i < msg->control->n_idontwant; i++)
    ids += msg->control->idontwant[i]->n_messageids;
  if (ids > MERO_GOSSIPSUB_MAX_IDS)
    return too_large (error, "message ids", ids, MERO_GOSSIPSUB_MAX_IDS);
  return TRUE;
}

static gboolean
decode_control (MeroGossipsubRpc *rpc, const RPC__ControlMessage *c, GError **error)
{
  for (gsize i = 0; i < c->n_ihave; i++)
    {
      MeroGossipsubIHave *ih = g_new0 (MeroGossipsubIHave, 1);

      ih->topic = g_strdup (c->ihave[i]->topicid);
      ih->message_ids = bytes_array ();
      g_ptr_array_add (rpc->ihave, ih);
      if (!check_topic (ih->topic, error) ||
          !copy_ids (ih->message_ids, c->ihave[i]->messageids, c->ihave[i]->n_messageids, error))
        return FALSE;
    }
  for (gsize i = 0; i < c->n_iwant; i++)
    if (!copy_ids (rpc->iwant, c->iwant[i]->messageids, c->iwant[i]->n_messageids, error))
      return FALSE;
  for (gsize i = 0; i < c->n_graft; i++)
    {
      if (!check_topic (c->graft[i]->topicid, error))
        return FALSE;
      g_ptr_array_add (rpc->graft, g_strdup (c->graft[i]->topicid != NULL ? c->graft[i]->topicid : ""));
    }
  for (gsize i = 0; i < c->n_prune; i++)
    {
      if (!check_topic (c->prune[i]->topicid, error))
        return FALSE;
      /* PX peers are ignored: we do not do peer exchange. */
      mero_gossipsub_rpc_add_prune (rpc, c->prune[i]->topicid != NULL ? c->prune[i]->topicid : "",
                                    c->prune[i]->has_backoff, c->prune[i]->backoff);
    }
  for (gsize i = 0; i < c->n_idontwant; i++)
    if (!copy_ids (rpc->idontwant, c->idontwant[i]->messageids, c->idontwant[i]->n_messageids, error))
      return FALSE;
  return TRUE;
}

MeroGossipsubRpc *
mero_gossipsub_rpc_decode (const guint8 *data, gsize len, GError **error)
{
  g_autoptr(RPC) msg = NULL;
  g_autoptr(MeroGossipsubRpc) rpc = NULL;

  g_return_val_if_fail (data != NULL || len == 0, NULL);

  if (len > MERO_GOSSIPSUB_MAX_RPC_SIZE)
    {
      too_large (error, "RPC size", len, MERO_GOSSIPSUB_MAX_RPC_SIZE);
      return NULL;
    }
  msg = rpc__unpack (NULL, len, data != NULL ? data : (const guint8 *) "");
  if (msg == NULL)
    {
      g_set_error (error, MERO_GOSSIPSUB_ERROR, MERO_GOSSIPSUB_ERROR_MALFORMED,
                   "gossipsub RPC is not a valid protobuf");
      return NULL;
    }
  if (!check_counts (msg, error))
    return NULL;

  rpc = mero_gossipsub_rpc_new ();
  for (gsize i = 0; i < msg->n_subscriptions; i++)
    {
      if (!check_topic (msg->subscriptions[i]->topic, error))
        return NULL;
      mero_gossipsub_rpc_add_subscription (rpc, msg->subscriptions[i]->subscribe,
                                           msg->subscriptions[i]->topic != NULL
                                           ? msg->subscriptions[i]->topic : "");
    }
  for (gsize i = 0; i < msg->n_messages; i++)
    {
      const RPC__Message *pb = msg->messages[i];
      MeroGossipsubMessage *m = mero_gossipsub_message_new ();

      g_ptr_array_add (rpc->messages, m);
      if (!check_topic (pb->topic, error))
        return NULL;
      m->from = opt_bytes (pb->has_from, &pb->from);
      m->data = opt_bytes (pb->has_data, &pb->data);
      m->seqno = opt_bytes (pb->has_seqno, &pb->seqno);
      m->topic = g_strdup (pb->topic);
      m->signature = opt_bytes (pb->has_signature, &pb->signature);
      m->key = opt_bytes (pb->has_key, &pb->key);
    }
  if (msg->control != NULL && !decode_control (rpc, msg->control, error))
    return NULL;
  return g_steal_pointer (&rpc);
}
