/* mero-blob-providers.c: provider records on the context topics, the
 * provider table behind them, and the blob-have question to members. */
#define G_LOG_DOMAIN "merod"
#include "blob/mero-blob-providers.h"

#include <sodium.h>
#include <string.h>

#include "blob/mero-blob-provider-record.h"
#include "net/mero-base58.h"
#include "net/mero-peer-id.h"
#include "node/mero-broadcast.h"

#define ID_LEN 32
#define DROPPED_METRIC "mero_blob_provider_records_dropped_total"
#define ACCEPTED_METRIC "mero_blob_provider_records_accepted_total"
#define PUBLISHED_METRIC "mero_blob_provider_records_published_total"
#define ANNOUNCES_METRIC "mero_blob_provider_announces_total"
#define QUERIES_METRIC "mero_blob_provider_queries_total"
#define QUERIES_DROPPED_METRIC "mero_blob_provider_queries_dropped_total"
#define LOOKUPS_METRIC "mero_blob_provider_lookups_total"
#define PENDING_METRIC "mero_blob_provider_announces_pending"

typedef struct _Lookup Lookup;

struct _MeroBlobProviders {
  MeroContexts *contexts;
  const MeroNodeTransport *transport;
  gpointer transport_data;
  gboolean (*is_connected) (gpointer data, const char *peer_id);
  gpointer is_connected_data;
  MeroBlobManager *blobs;
  MeroMetrics *metrics;
  guint8 sk[64];
  char *peer_id;
  MeroBlobProviderTable *table;
  MeroBlobAnnounceQueue *queue;
  GSource *flush_timer;
  GSource *expire_timer;
  GPtrArray *lookups;        /* Lookup, in flight (ref held) */
  GQueue waiting;            /* Waiting, for a free lookup slot, oldest first */
};

/* A lookup that found no record while every slot was asking: it waits
 * rather than answering "nobody", since a provider record or an earlier
 * answer may well name a provider by the time a slot frees. */
typedef struct {
  guint8 ctx[32];
  guint8 blob[32];
  MeroBlobProvidersFound found;
  gpointer found_data;
} Waiting;

struct _Lookup {
  gint refs;                 /* the providers' list + each request in flight */
  MeroBlobProviders *self;   /* NULL once answered */
  char *ctx_b58;
  guint8 ctx[ID_LEN];
  guint8 blob[ID_LEN];
  MeroBlobProvidersFound found;
  gpointer found_data;
  GPtrArray *yes;            /* PeerIds that said they hold it */
  guint outstanding;
  GSource *timeout;
};

/* Unix time: record timestamps and the table, which compares them. */
static gint64
now_ms (void)
{
  return g_get_real_time () / 1000;
}

/* The announce queue's clock: a wall clock stepping back must not stall it. */
static gint64
mono_ms (void)
{
  return g_get_monotonic_time () / 1000;
}

static void
count (MeroBlobProviders *self, const char *metric, const char *label, const char *value)
{
  g_autofree char *labels = g_strdup_printf ("%s=\"%s\"", label, value);

  mero_metrics_counter_add (self->metrics, metric, labels, 1, NULL);
}

static void
count_drop (MeroBlobProviders *self, const char *reason, const char *from_peer)
{
  count (self, DROPPED_METRIC, "reason", reason);
  g_debug ("blob provider record from %s dropped: %s", from_peer != NULL ? from_peer : "?",
           reason);
}

static char *
peer_of_key (const guint8 pk[ID_LEN])
{
  g_autoptr (MeroPeerId) id = mero_peer_id_new_from_ed25519 (pk);

  return id != NULL ? mero_peer_id_to_string (id) : NULL;
}

static void
destroy_source (GSource **source)
{
  if (*source == NULL)
    return;
  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* ---- announce ---- */

static gboolean on_flush (gpointer data);

static void
schedule_flush (MeroBlobProviders *self)
{
  gint64 now = mono_ms ();
  gint64 next = mero_blob_announce_queue_next_ms (self->queue, now);

  destroy_source (&self->flush_timer);
  mero_metrics_gauge_set (self->metrics, PENDING_METRIC, NULL,
                          mero_blob_announce_queue_pending (self->queue), NULL);
  if (next < 0)
    return;
  self->flush_timer = g_timeout_source_new ((guint) CLAMP (next - now, 0, G_MAXINT));
  g_source_set_callback (self->flush_timer, on_flush, self, NULL);
  g_source_attach (self->flush_timer, NULL);
}

static void
publish (MeroBlobProviders *self, const guint8 ctx[ID_LEN], GArray *held)
{
  g_autoptr (MeroBlobProviderRecord) record = mero_blob_provider_record_new ();
  g_autoptr (MeroBroadcast) msg = mero_broadcast_new (MERO_BROADCAST_BLOB_PROVIDERS);
  g_autoptr (GBytes) data = NULL;
  g_autofree char *topic = mero_base58_encode (ctx, ID_LEN);

  memcpy (record->context_id, ctx, ID_LEN);
  record->timestamp_ms = (guint64) now_ms ();
  g_array_append_vals (record->blobs, held->data, held->len);
  mero_blob_provider_record_sign (record, self->sk);
  msg->payload = mero_blob_provider_record_encode (record);
  data = mero_broadcast_encode (msg);
  self->transport->publish (self->transport_data, topic, data);
  mero_metrics_counter_add (self->metrics, PUBLISHED_METRIC, NULL, 1, NULL);
  g_debug ("context %s: announced %u blobs", topic, held->len);
}

static gboolean
on_flush (gpointer data)
{
  MeroBlobProviders *self = data;
  gint64 now = mono_ms ();
  guint8 ctx[ID_LEN];
  GArray *held = NULL;

  g_clear_pointer (&self->flush_timer, g_source_unref);
  while (mero_blob_announce_queue_pop (self->queue, now, ctx, &held))
    {
      publish (self, ctx, held);
      g_array_unref (held);
    }
  schedule_flush (self);
  return G_SOURCE_REMOVE;
}

void
mero_blob_providers_announce (MeroBlobProviders *self, const guint8 context_id[32],
                              const guint8 blob_id[32], guint64 size)
{
  g_autofree char *b58 = NULL;

  g_return_if_fail (self != NULL && context_id != NULL && blob_id != NULL);

  b58 = mero_base58_encode (context_id, ID_LEN);
  /* The others would drop a record of a non-member: not worth a message. */
  if (!mero_contexts_context_has_member (self->contexts, b58, self->peer_id))
    {
      count (self, ANNOUNCES_METRIC, "result", "not_member");
      g_debug ("context %s: not announcing a blob: this node is not a member", b58);
      return;
    }
  if (!mero_blob_announce_queue_push (self->queue, context_id, blob_id, size, mono_ms ()))
    {
      /* Still held; members find it by asking (blob-have). */
      count (self, ANNOUNCES_METRIC, "result", "queue_full");
      return;
    }
  count (self, ANNOUNCES_METRIC, "result", "queued");
  if (self->flush_timer == NULL)
    schedule_flush (self);
  else
    mero_metrics_gauge_set (self->metrics, PENDING_METRIC, NULL,
                            mero_blob_announce_queue_pending (self->queue), NULL);
}

/* ---- records heard ---- */

void
mero_blob_providers_on_record (gpointer data, const char *topic, const char *from_peer,
                               GBytes *payload)
{
  MeroBlobProviders *self = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroBlobProviderRecord) record = NULL;
  g_autofree char *b58 = NULL, *author = NULL;
  gint64 now = now_ms ();

  record = mero_blob_provider_record_decode (g_bytes_get_data (payload, NULL),
                                             g_bytes_get_size (payload), &error);
  if (record == NULL)
    {
      count_drop (self, mero_blob_provider_error_reason (error), from_peer);
      return;
    }
  b58 = mero_base58_encode (record->context_id, ID_LEN);
  if (g_strcmp0 (topic, b58) != 0)
    {
      count_drop (self, "wrong_topic", from_peer);
      return;
    }
  if (!mero_contexts_has_context (self->contexts, b58))
    {
      count_drop (self, "unknown_context", from_peer);
      return;
    }
  author = peer_of_key (record->member);
  if (author == NULL)
    {
      count_drop (self, "bad_key", from_peer);
      return;
    }
  if (g_strcmp0 (author, self->peer_id) == 0)
    return;   /* our own, come back around */
  if ((gint64) MIN (record->timestamp_ms, (guint64) G_MAXINT64 / 2)
      > now + MERO_BLOB_PROVIDERS_MAX_FUTURE_MS)
    {
      count_drop (self, "future", from_peer);
      return;
    }
  if ((gint64) record->timestamp_ms + MERO_BLOB_PROVIDERS_MAX_AGE_MS < now)
    {
      count_drop (self, "stale", from_peer);
      return;
    }
  /* Only members' records: anyone else could fill the table. */
  if (!mero_contexts_context_has_member (self->contexts, b58, author))
    {
      count_drop (self, "non_member", from_peer);
      return;
    }
  if (!mero_blob_provider_record_verify (record, &error))
    {
      count_drop (self, mero_blob_provider_error_reason (error), from_peer);
      return;
    }
  for (guint i = 0; i < record->blobs->len; i++)
    {
      const MeroBlobHeld *h = &g_array_index (record->blobs, MeroBlobHeld, i);

      mero_blob_provider_table_add (self->table, record->context_id, h->id, author, h->size,
                                    (gint64) record->timestamp_ms, now, NULL);
    }
  mero_metrics_counter_add (self->metrics, ACCEPTED_METRIC, NULL, 1, NULL);
  g_debug ("context %s: %s holds %u blobs (via %s)", b58, author, record->blobs->len,
           from_peer != NULL ? from_peer : "?");
}

/* ---- blob-have, serving ---- */

static GBytes *
have_answer (gboolean have, guint64 size, const char *refusal)
{
  MeroBlobHave a = { .is_request = FALSE, .have = have, .size = size };

  a.error = (char *) refusal;
  return mero_blob_have_encode (&a);
}

GBytes *
mero_blob_providers_serve_have (gpointer data, const char *peer_id, const guint8 *request,
                                gsize len)
{
  MeroBlobProviders *self = data;
  g_auto (MeroBlobHave) q = { 0 };
  g_autoptr (GError) error = NULL;
  g_autofree char *b58 = NULL;
  MeroBlobMeta info;

  if (!mero_blob_have_decode (request, len, TRUE, &q, &error))
    {
      count (self, QUERIES_DROPPED_METRIC, "reason", mero_blob_provider_error_reason (error));
      return have_answer (FALSE, 0, "malformed request");
    }
  b58 = mero_base58_encode (q.context_id, ID_LEN);
  /* What a node holds is its members' business only. */
  if (!mero_contexts_context_has_member (self->contexts, b58, peer_id))
    {
      count (self, QUERIES_DROPPED_METRIC, "reason", "non_member");
      g_debug ("blob-have from %s refused: not a member of %s", peer_id, b58);
      return have_answer (FALSE, 0, "not a member");
    }
  count (self, QUERIES_METRIC, "result", "served");
  /* One record read (a point lookup in the store), as the delta
   * responder's envelope reads. */
  if (self->blobs != NULL && mero_blob_manager_info (self->blobs, q.blob_id, &info, NULL))
    return have_answer (TRUE, info.size, NULL);
  return have_answer (FALSE, 0, NULL);
}

/* ---- lookup ---- */

static Lookup *
lookup_ref (Lookup *l)
{
  l->refs++;
  return l;
}

static void
lookup_unref (Lookup *l)
{
  if (--l->refs > 0)
    return;
  destroy_source (&l->timeout);
  g_ptr_array_unref (l->yes);
  g_free (l->ctx_b58);
  g_free (l);
}

/* Runs the waiting lookups while slots are free: each answers from the
 * table now or takes a slot. */
static void
start_waiting (MeroBlobProviders *self)
{
  while (self->lookups->len < MERO_BLOB_PROVIDERS_MAX_LOOKUPS
         && !g_queue_is_empty (&self->waiting))
    {
      Waiting *w = g_queue_pop_head (&self->waiting);

      mero_blob_providers_lookup (self, w->ctx, w->blob, w->found, w->found_data);
      g_free (w);
    }
}

/* Answers once; the lookup stays alive while requests are in flight. */
static void
lookup_finish (Lookup *l)
{
  MeroBlobProviders *self = l->self;

  if (self == NULL)
    return;
  l->self = NULL;
  destroy_source (&l->timeout);
  count (self, LOOKUPS_METRIC, "result", l->yes->len > 0 ? "asked_found" : "asked_none");
  l->found (l->yes, l->found_data);
  if (g_ptr_array_remove (self->lookups, l))
    lookup_unref (l);
  start_waiting (self);
}

static gboolean
on_lookup_timeout (gpointer data)
{
  Lookup *l = data;

  g_clear_pointer (&l->timeout, g_source_unref);
  lookup_finish (l);
  return G_SOURCE_REMOVE;
}

typedef struct {
  Lookup *lookup;
  char *peer;
} Ask;

static void
on_have (GBytes *response, const GError *error, gpointer user_data)
{
  Ask *ask = user_data;
  Lookup *l = ask->lookup;
  MeroBlobProviders *self = l->self;
  g_auto (MeroBlobHave) a = { 0 };
  g_autoptr (GError) local = NULL;

  l->outstanding--;
  if (self != NULL)
    {
      if (response == NULL)
        count (self, QUERIES_METRIC, "result", "failed");
      else if (!mero_blob_have_decode (g_bytes_get_data (response, NULL),
                                       g_bytes_get_size (response), FALSE, &a, &local))
        count (self, QUERIES_METRIC, "result", "bad_response");
      else if (a.error != NULL)
        {
          count (self, QUERIES_METRIC, "result", "refused");
          g_debug ("blob-have refused by %s: %s", ask->peer, a.error);
        }
      else
        {
          count (self, QUERIES_METRIC, "result", a.have ? "yes" : "no");
          if (a.have)
            {
              gint64 now = now_ms ();

              g_ptr_array_add (l->yes, g_strdup (ask->peer));
              /* Next time, no question needed. */
              mero_blob_provider_table_add (self->table, l->ctx, l->blob, ask->peer, a.size, now,
                                            now, NULL);
            }
        }
      if (l->outstanding == 0)
        lookup_finish (l);
    }
  lookup_unref (l);
  g_free (ask->peer);
  g_free (ask);
}

static gboolean
connected (MeroBlobProviders *self, const char *peer, const char *const *topic_peers)
{
  if (self->is_connected != NULL)
    return self->is_connected (self->is_connected_data, peer);
  return topic_peers != NULL && g_strv_contains (topic_peers, peer);
}

void
mero_blob_providers_lookup (gpointer lookup_data, const guint8 context_id[32],
                            const guint8 blob_id[32], MeroBlobProvidersFound found,
                            gpointer found_data)
{
  MeroBlobProviders *self = lookup_data;
  g_autofree char *b58 = mero_base58_encode (context_id, ID_LEN);
  g_autoptr (GPtrArray) known = NULL;
  g_autoptr (GPtrArray) out = g_ptr_array_new_with_free_func (g_free);
  g_auto (GStrv) topic_peers = NULL, members = NULL;
  g_autoptr (GPtrArray) later = g_ptr_array_new ();
  g_autoptr (GBytes) request = NULL;
  MeroBlobHave q = { .is_request = TRUE };
  Lookup *l;

  g_return_if_fail (self != NULL && found != NULL);

  topic_peers = mero_contexts_context_topic_peers (self->contexts, b58);
  known = mero_blob_provider_table_lookup (self->table, context_id, blob_id, now_ms ());
  /* Connected first, each part most recent first (the table's order);
   * a provider that is no longer a member is not named. */
  for (guint i = 0; i < known->len; i++)
    {
      const MeroBlobProviderEntry *e = g_ptr_array_index (known, i);

      if (!mero_contexts_context_has_member (self->contexts, b58, e->peer))
        continue;
      if (connected (self, e->peer, (const char *const *) topic_peers))
        g_ptr_array_add (out, g_strdup (e->peer));
      else
        g_ptr_array_add (later, e->peer);
    }
  for (guint i = 0; i < later->len; i++)
    g_ptr_array_add (out, g_strdup (g_ptr_array_index (later, i)));
  if (out->len == 0 && self->lookups->len >= MERO_BLOB_PROVIDERS_MAX_LOOKUPS
      && self->waiting.length < MERO_BLOB_PROVIDERS_MAX_WAITING)
    {
      Waiting *w = g_new0 (Waiting, 1);

      memcpy (w->ctx, context_id, ID_LEN);
      memcpy (w->blob, blob_id, ID_LEN);
      w->found = found;
      w->found_data = found_data;
      g_queue_push_tail (&self->waiting, w);
      count (self, LOOKUPS_METRIC, "result", "waited");
      return;
    }
  if (out->len > 0 || self->lookups->len >= MERO_BLOB_PROVIDERS_MAX_LOOKUPS)
    {
      count (self, LOOKUPS_METRIC, "result", out->len > 0 ? "known" : "busy");
      found (out, found_data);
      return;
    }
  /* None known: ask the connected members. */
  l = g_new0 (Lookup, 1);
  l->refs = 1;
  l->self = self;
  l->ctx_b58 = g_strdup (b58);
  memcpy (l->ctx, context_id, ID_LEN);
  memcpy (l->blob, blob_id, ID_LEN);
  l->found = found;
  l->found_data = found_data;
  l->yes = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (self->lookups, l);
  memcpy (q.context_id, context_id, ID_LEN);
  memcpy (q.blob_id, blob_id, ID_LEN);
  request = mero_blob_have_encode (&q);
  members = mero_contexts_context_member_peers (self->contexts, b58);
  for (guint i = 0; members[i] != NULL && l->outstanding < MERO_BLOB_PROVIDERS_QUERY_PEERS; i++)
    {
      Ask *ask;

      if (g_strcmp0 (members[i], self->peer_id) == 0
          || !connected (self, members[i], (const char *const *) topic_peers))
        continue;
      ask = g_new0 (Ask, 1);
      ask->lookup = lookup_ref (l);
      ask->peer = g_strdup (members[i]);
      l->outstanding++;
      self->transport->request (self->transport_data, members[i], NULL,
                                MERO_STREAM_PROTOCOL_BLOB_HAVE, request, on_have, ask);
    }
  if (l->outstanding == 0)
    {
      lookup_finish (l);
      return;
    }
  l->timeout = g_timeout_source_new (MERO_BLOB_PROVIDERS_QUERY_TIMEOUT_MS);
  g_source_set_callback (l->timeout, on_lookup_timeout, l, NULL);
  g_source_attach (l->timeout, NULL);
}

/* ---- life ---- */

static gboolean
on_expire (gpointer data)
{
  MeroBlobProviders *self = data;

  mero_blob_provider_table_expire (self->table, now_ms ());
  return G_SOURCE_CONTINUE;
}

MeroBlobProviders *
mero_blob_providers_new (const MeroBlobProvidersConfig *config)
{
  MeroBlobProviders *self;
  guint8 pk[ID_LEN];

  g_return_val_if_fail (config != NULL && config->contexts != NULL, NULL);
  g_return_val_if_fail (config->transport != NULL && config->secret_key != NULL, NULL);

  self = g_new0 (MeroBlobProviders, 1);
  self->contexts = config->contexts;
  self->transport = config->transport;
  self->transport_data = config->transport_data;
  self->is_connected = config->is_connected;
  self->is_connected_data = config->is_connected_data;
  self->blobs = config->blobs;
  self->metrics = mero_metrics_ref (config->metrics != NULL ? config->metrics
                                                            : mero_metrics_get_default ());
  memcpy (self->sk, config->secret_key, sizeof self->sk);
  crypto_sign_ed25519_sk_to_pk (pk, self->sk);
  self->peer_id = peer_of_key (pk);
  self->table = mero_blob_provider_table_new (config->limits);
  self->queue = mero_blob_announce_queue_new (config->announce_limits);
  self->lookups = g_ptr_array_new ();
  g_queue_init (&self->waiting);
  self->expire_timer = g_timeout_source_new_seconds (MERO_BLOB_PROVIDERS_EXPIRE_INTERVAL_S);
  g_source_set_callback (self->expire_timer, on_expire, self, NULL);
  g_source_attach (self->expire_timer, NULL);
  return self;
}

void
mero_blob_providers_free (MeroBlobProviders *self)
{
  if (self == NULL)
    return;
  /* Waiting lookups are answered "nobody" first, so that finishing the
   * running ones cannot start them. */
  while (!g_queue_is_empty (&self->waiting))
    {
      g_autofree Waiting *w = g_queue_pop_head (&self->waiting);
      g_autoptr (GPtrArray) none = g_ptr_array_new ();

      w->found (none, w->found_data);
    }
  while (self->lookups->len > 0)
    lookup_finish (g_ptr_array_index (self->lookups, 0));
  g_ptr_array_unref (self->lookups);
  destroy_source (&self->flush_timer);
  destroy_source (&self->expire_timer);
  mero_blob_provider_table_free (self->table);
  mero_blob_announce_queue_free (self->queue);
  mero_metrics_unref (self->metrics);
  sodium_memzero (self->sk, sizeof self->sk);
  g_free (self->peer_id);
  g_free (self);
}
