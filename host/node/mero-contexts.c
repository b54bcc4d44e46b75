/* mero-contexts.c: the registry of contexts and groups, their keys, and
 * the control operations (create, call, info, leave, remove). */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "context/group/mero-group-envelope.h"
#include "context/state/mero-state-index.h"
#include "crypto/mero-sha256.h"
#include "net/mero-base58.h"
#include "net/mero-peer-id.h"
#include "store/mero-store-keys.h"
#include "tee/mero-tee-refusal.h"

G_DEFINE_QUARK (mero-contexts-error-quark, mero_contexts_error)

#define KV_APPLICATION "kv"
/* Registry record (META, context meta(ctx)): version 1 || group id[32]
 * || application (UTF-8, rest of the value). */
#define REGISTRY_VERSION 1
/* Fetched group keys: GENERIC, scope = group id, fragment "key" || key id. */
#define KEYRING_FRAGMENT "key"

gint64
mero_contexts_now_ms (void)
{
  return g_get_real_time () / 1000;
}

void
mero_contexts_count_drop (MeroContexts *self, const char *reason)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);

  mero_metrics_counter_add (self->metrics, DROPPED_METRIC, labels, 1, NULL);
  g_debug ("dropped a node message: %s", reason);
}

char *
mero_contexts_peer_of_key (const guint8 pk[ID_LEN])
{
  g_autoptr (MeroPeerId) id = mero_peer_id_new_from_ed25519 (pk);

  return mero_peer_id_to_string (id);
}

gboolean
mero_contexts_key_of_peer (const char *peer_id, guint8 pk[ID_LEN])
{
  g_autoptr (MeroPeerId) id = peer_id != NULL ? mero_peer_id_parse (peer_id, NULL) : NULL;

  return id != NULL && mero_peer_id_get_ed25519_public_key (id, pk);
}

static void
application_id (const char *application, guint8 out[ID_LEN])
{
  g_autofree char *text = g_strconcat ("mero/application/v1", application, NULL);

  mero_sha256 (text, strlen (text), out);
}

char *
mero_contexts_root_text (const guint8 root[ID_LEN])
{
  static const guint8 zero[ID_LEN] = { 0 };

  return memcmp (root, zero, ID_LEN) == 0 ? g_strdup ("") : mero_base58_encode (root, ID_LEN);
}

gboolean
mero_contexts_group_has_peer (Group *group, const char *peer)
{
  guint8 pk[ID_LEN];

  return mero_contexts_key_of_peer (peer, pk)
         && mero_group_state_member (mero_group_dag_state (group->dag), pk) != NULL;
}

gboolean
mero_contexts_peer_is_member (MeroContexts *self, const char *peer_id)
{
  GHashTableIter iter;
  Group *group;
  guint8 pk[ID_LEN];

  if (self->closed || !mero_contexts_key_of_peer (peer_id, pk))
    return FALSE;
  /* One lookup per group we are in (a handful), not a scan of members. */
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &group))
    if (mero_group_state_member (mero_group_dag_state (group->dag), pk) != NULL)
      return TRUE;
  return FALSE;
}

static guint
id_hash (gconstpointer key)
{
  guint h;

  memcpy (&h, key, sizeof h);
  return h;
}

static gboolean
id_equal (gconstpointer a, gconstpointer b)
{
  return memcmp (a, b, ID_LEN) == 0;
}

/* ---- lifetime ---- */

MeroContexts *
mero_contexts_ref (MeroContexts *self)
{
  g_atomic_int_inc (&self->refs);
  return self;
}

static void
group_free (Group *group)
{
  mero_group_dag_free (group->dag);
  g_hash_table_unref (group->keys);
  g_clear_pointer (&group->known_members, g_hash_table_unref);
  g_free (group->hex);
  g_free (group->topic);
  g_free (group);
}

void
mero_contexts_buffered_free (Buffered *b)
{
  g_bytes_unref (b->envelope);
  g_free (b->peer);
  g_free (b);
}

static void
ctx_free (Ctx *ctx)
{
  if (ctx->heartbeat_soon != 0)
    g_source_remove (ctx->heartbeat_soon);
  if (ctx->deferred_source != 0)
    g_source_remove (ctx->deferred_source);
  g_clear_pointer (&ctx->deferred_ids, g_array_unref);
  g_free (ctx->deferred_peer);
  mero_contexts_retry_clear (ctx);
  g_ptr_array_unref (ctx->announcers);
  mero_delta_buffer_free (ctx->sync_buffer);
  mero_delta_store_free (ctx->ds);
  g_clear_pointer (&ctx->gc_cursor, g_bytes_unref);
  g_mutex_clear (&ctx->lock);
  g_ptr_array_unref (ctx->buffered);
  g_free (ctx->b58);
  g_free (ctx->application);
  g_free (ctx);
}

void
mero_contexts_unref (MeroContexts *self)
{
  if (!g_atomic_int_dec_and_test (&self->refs))
    return;
  g_hash_table_unref (self->contexts);
  g_hash_table_unref (self->groups);
  g_ptr_array_unref (self->joins);
  g_ptr_array_unref (self->tee_announcers);
  mero_tee_refusal_limiter_free (self->tee_refusal_limiter);
  g_clear_pointer (&self->state_index_protocols, g_ptr_array_unref);
  mero_metrics_unref (self->metrics);
  sodium_memzero (self->sk, sizeof self->sk);
  g_free (self->peer_id);
  g_free (self);
}

void
mero_contexts_cancel_joins (MeroContexts *self)
{
  g_autoptr (GPtrArray) joins = NULL;

  if (self == NULL || self->joins->len == 0)
    return;
  joins = g_steal_pointer (&self->joins);
  self->joins = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < joins->len; i++)
    g_task_return_new_error (g_ptr_array_index (joins, i), G_IO_ERROR, G_IO_ERROR_CANCELLED,
                             "%s", _("The node is stopping"));
}

void
mero_contexts_free (MeroContexts *self)
{
  if (self == NULL)
    return;
  self->closed = TRUE;
  if (self->heartbeat_source != 0)
    g_source_remove (self->heartbeat_source);
  self->heartbeat_source = 0;
  if (self->gc_source != 0)
    g_source_remove (self->gc_source);
  if (self->gc_idle != 0)
    g_source_remove (self->gc_idle);
  self->gc_source = self->gc_idle = 0;
  mero_contexts_cancel_joins (self);
  g_ptr_array_set_size (self->tee_announcers, 0);
  /* Delta stores borrow the store: close them now, whoever still holds
   * a reference to the manager. */
  g_hash_table_remove_all (self->contexts);
  g_hash_table_remove_all (self->groups);
  mero_contexts_unref (self);
}

/* ---- groups and keys ---- */

Group *
mero_contexts_group_lookup (MeroContexts *self, const guint8 id[ID_LEN])
{
  g_autofree char *hex = g_malloc (2 * ID_LEN + 1);

  for (guint i = 0; i < ID_LEN; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", id[i]);
  return g_hash_table_lookup (self->groups, hex);
}

static void
keyring_load (MeroContexts *self, Group *group)
{
  MeroKey prefix;
  g_autoptr (MeroStoreIter) it = NULL;
  gsize flen = strlen (KEYRING_FRAGMENT);

  if (!mero_key_generic (&prefix, group->id, (const guint8 *) KEYRING_FRAGMENT, flen))
    return;
  it = mero_store_iter_new (self->store, NULL, &prefix);
  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len;
      const guint8 *key = mero_store_iter_key (it, &len);
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      guint8 check[ID_LEN];

      if (len != ID_LEN + flen + ID_LEN || g_bytes_get_size (value) != ID_LEN)
        continue;
      mero_group_key_id (g_bytes_get_data (value, NULL), check);
      if (memcmp (check, key + ID_LEN + flen, ID_LEN) != 0)
        continue;
      g_hash_table_insert (group->keys, g_memdup2 (check, ID_LEN),
                           g_memdup2 (g_bytes_get_data (value, NULL), ID_LEN));
    }
}

void
mero_contexts_key_store (MeroContexts *self, Group *group, const guint8 key_id[ID_LEN],
                         const guint8 key[ID_LEN])
{
  MeroKey k;
  guint8 frag[sizeof KEYRING_FRAGMENT - 1 + ID_LEN];
  g_autoptr (GError) error = NULL;

  if (g_hash_table_contains (group->keys, key_id))
    return;
  memcpy (frag, KEYRING_FRAGMENT, sizeof KEYRING_FRAGMENT - 1);
  memcpy (frag + sizeof KEYRING_FRAGMENT - 1, key_id, ID_LEN);
  if (mero_key_generic (&k, group->id, frag, sizeof frag)
      && !mero_store_put (self->store, &k, key, ID_LEN, &error))
    g_warning ("cannot keep a group key: %s", error->message);
  g_hash_table_insert (group->keys, g_memdup2 (key_id, ID_LEN), g_memdup2 (key, ID_LEN));
}

/* The key ring of a group, for its DeltaStores: the keys its DAG opened
 * and the ones fetched from other members. */
static const guint8 *
group_key_lookup (Group *group, const guint8 key_id[ID_LEN])
{
  const guint8 *key = g_hash_table_lookup (group->keys, key_id);
  guint8 found[ID_LEN];

  if (key != NULL)
    return key;
  if (!mero_group_dag_key (group->dag, key_id, found))
    return NULL;
  key = g_memdup2 (found, ID_LEN);
  g_hash_table_insert (group->keys, g_memdup2 (key_id, ID_LEN), (gpointer) key);
  sodium_memzero (found, sizeof found);
  return key;
}

const guint8 *
mero_contexts_key_lookup (const guint8 key_id[ID_LEN], gpointer user_data)
{
  Ctx *ctx = user_data;
  const guint8 *key;

  /* mero_delta_store_receive_many() opens envelopes on worker threads
   * while the main thread waits in it: one lookup at a time.  Keys, once
   * in the ring, are never freed before the group, so the pointer stays
   * good. */
  g_mutex_lock (&ctx->lock);
  key = group_key_lookup (ctx->group, key_id);
  if (key == NULL)
    {
      ctx->unknown_key = TRUE;
      memcpy (ctx->missing_key, key_id, ID_LEN);
    }
  g_mutex_unlock (&ctx->lock);
  return key;
}

Group *
mero_contexts_group_ensure (MeroContexts *self, const guint8 id[ID_LEN], GError **error)
{
  Group *group = mero_contexts_group_lookup (self, id);

  if (group != NULL)
    return group;
  group = g_new0 (Group, 1);
  group->self = self;
  memcpy (group->id, id, ID_LEN);
  group->hex = g_malloc (2 * ID_LEN + 1);
  for (guint i = 0; i < ID_LEN; i++)
    g_snprintf (group->hex + 2 * i, 3, "%02x", id[i]);
  group->topic = g_strconcat ("group/", group->hex, NULL);
  group->keys = g_hash_table_new_full (id_hash, id_equal,
                                       g_free, (GDestroyNotify) g_free);
  group->dag = mero_group_dag_open (self->store, id, self->metrics, error);
  if (group->dag == NULL || !mero_group_dag_set_identity (group->dag, self->sk, error))
    {
      group_free (group);
      return NULL;
    }
  keyring_load (self, group);
  group->was_member = mero_group_state_member (mero_group_dag_state (group->dag), self->pk)
                      != NULL;
  g_hash_table_insert (self->groups, group->hex, group);
  self->transport->subscribe (self->transport_data, group->topic);
  return group;
}

/* ---- contexts ---- */

Ctx *
mero_contexts_lookup_id (MeroContexts *self, const guint8 id[ID_LEN])
{
  g_autofree char *b58 = mero_base58_encode (id, ID_LEN);

  return g_hash_table_lookup (self->contexts, b58);
}

Ctx *
mero_contexts_lookup_text (MeroContexts *self, const char *context_id, GError **error)
{
  Ctx *ctx = context_id != NULL ? g_hash_table_lookup (self->contexts, context_id) : NULL;

  if (ctx == NULL)
    g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT,
                 _("No context “%s” on this node"), context_id != NULL ? context_id : "");
  return ctx;
}

static gboolean
authorize (const guint8 context_id[MERO_DELTA_ID_LEN], const guint8 author[MERO_DELTA_AUTHOR_LEN],
           const guint8 *heads, guint n_heads, gpointer user_data, GError **error)
{
  Ctx *ctx = user_data;
  gboolean can_write = FALSE;
  g_autoptr (GError) local = NULL;

  /* The verdict depends only on the delta and the governance it cites,
   * so every replica reaches the same one whatever the arrival order
   * (judging by the current membership instead would let replicas that
   * saw a removal before or after a delta disagree forever).  A removed
   * member is kept out by what it can no longer do: it refuses to write
   * once it knows, and it never gets the rotated key. */
  gboolean ok;

  /* The group DAG is not thread-safe; key lookups for the same store may
   * be running on its workers (see mero_contexts_key_lookup). */
  g_mutex_lock (&ctx->lock);
  ok = mero_group_dag_can_write_at (ctx->group->dag, author, heads, n_heads, &can_write, &local);
  g_mutex_unlock (&ctx->lock);
  if (!ok)
    {
      if (g_error_matches (local, MERO_GROUP_ERROR, MERO_GROUP_ERROR_UNKNOWN_CUT))
        ctx->unknown_cut = TRUE;
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
  if (!can_write)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NOT_ALLOWED,
                   "the author could not write at the delta's governance cut");
      return FALSE;
    }
  return TRUE;
}

/* Opens the DeltaStore once the group key is held; keeps its sealing key
 * current after rotations. */
static void
ctx_update_key (MeroContexts *self, Ctx *ctx)
{
  guint8 key_id[ID_LEN], key[ID_LEN];
  MeroDeltaStoreConfig config = { 0 };
  g_autoptr (GError) error = NULL;

  if (!mero_group_dag_current_key (ctx->group->dag, key_id, key))
    return;
  if (ctx->ds != NULL)
    {
      mero_delta_store_set_context_key (ctx->ds, key);
      sodium_memzero (key, sizeof key);
      return;
    }
  config.context_key = key;
  config.author_sk = self->sk;
  config.authorize = authorize;
  config.authorize_data = ctx;
  config.key_lookup = mero_contexts_key_lookup;
  config.key_lookup_data = ctx;
  config.metrics = self->metrics;
  config.tombstone_retention_ms = self->tombstone_retention_ms;
  ctx->ds = mero_delta_store_open (self->store, ctx->id, &config, &error);
  sodium_memzero (key, sizeof key);
  if (ctx->ds == NULL)
    {
      g_warning ("cannot open the deltas of context %s: %s", ctx->b58, error->message);
      return;
    }
  /* Plugin state indexes follow every commit of this state from now on;
   * one missing or of another version is rebuilt here, once.  A failure
   * only costs the plugin's sessions their shortcut (they read the state). */
  for (guint i = 0; self->state_index_protocols != NULL && i < self->state_index_protocols->len;
       i++)
    {
      const MeroLoadedSyncProtocol *p = self->state_index_protocols->pdata[i];
      g_autoptr (GError) ix_error = NULL;

      if (!mero_state_index_attach (mero_delta_store_get_state (ctx->ds), p->info->name,
                                    p->vtable, p->plugin_data, &ix_error))
        g_warning ("context %s: %s state index not built: %s", ctx->b58, p->info->name,
                   ix_error->message);
    }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-key",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE",
                    "context %s: group key held, deltas open", ctx->b58);
  mero_delta_store_root (ctx->ds, ctx->root);
}

static gboolean
registry_put (MeroContexts *self, Ctx *ctx, GError **error)
{
  MeroKey key = mero_key_context_meta (ctx->id);
  g_autoptr (GByteArray) value = g_byte_array_new ();
  guint8 version = REGISTRY_VERSION;

  g_byte_array_append (value, &version, 1);
  g_byte_array_append (value, ctx->group->id, ID_LEN);
  g_byte_array_append (value, (const guint8 *) ctx->application, strlen (ctx->application));
  return mero_store_put (self->store, &key, value->data, value->len, error);
}

Ctx *
mero_contexts_ctx_add (MeroContexts *self, const guint8 id[ID_LEN], Group *group,
                       const char *application, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_id (self, id);

  if (ctx != NULL)
    return ctx;
  ctx = g_new0 (Ctx, 1);
  ctx->self = self;
  memcpy (ctx->id, id, ID_LEN);
  ctx->b58 = mero_base58_encode (id, ID_LEN);
  ctx->group = group;
  ctx->application = g_strdup (application);
  ctx->buffered = g_ptr_array_new_with_free_func ((GDestroyNotify) mero_contexts_buffered_free);
  ctx->announcers = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&ctx->lock);
  if (!registry_put (self, ctx, error))
    {
      ctx_free (ctx);
      return NULL;
    }
  g_hash_table_insert (self->contexts, ctx->b58, ctx);
  ctx_update_key (self, ctx);
  self->transport->subscribe (self->transport_data, ctx->b58);
  return ctx;
}

static gboolean
registry_load (MeroContexts *self, GError **error)
{
  MeroKey prefix = mero_key_prefix_context_metas ();
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (self->store, NULL, &prefix);

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    {
      gsize len, vlen;
      const guint8 *key = mero_store_iter_key (it, &len);
      g_autoptr (GBytes) value = mero_store_iter_value (it);
      const guint8 *v = g_bytes_get_data (value, &vlen);
      guint8 ctx_id[ID_LEN];
      g_autofree char *application = NULL;
      Group *group;
      Ctx *ctx;

      if (len != 1 + ID_LEN || vlen < 1 + ID_LEN || v[0] != REGISTRY_VERSION)
        continue;
      memcpy (ctx_id, key + 1, ID_LEN);
      application = g_strndup ((const char *) v + 1 + ID_LEN, vlen - 1 - ID_LEN);
      group = mero_contexts_group_ensure (self, v + 1, error);
      if (group == NULL)
        return FALSE;
      ctx = mero_contexts_ctx_add (self, ctx_id, group, application, error);
      if (ctx == NULL)
        return FALSE;
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-reopened",
                        "MERO_CONTEXT", ctx->b58, "MESSAGE", "context %s (group %s) reopened%s",
                        ctx->b58, group->hex, ctx->ds != NULL ? "" : ", waiting for its key");
    }
  return mero_store_iter_check (it, error);
}

static gboolean
on_heartbeat (gpointer user_data)
{
  mero_contexts_heartbeat (user_data);
  return G_SOURCE_CONTINUE;
}

MeroContexts *
mero_contexts_new (const MeroContextsConfig *config, GError **error)
{
  MeroContexts *self;

  g_return_val_if_fail (config != NULL && config->store != NULL, NULL);
  g_return_val_if_fail (config->secret_key != NULL && config->transport != NULL, NULL);

  self = g_new0 (MeroContexts, 1);
  self->refs = 1;
  self->store = config->store;
  self->metrics = mero_metrics_ref (config->metrics != NULL ? config->metrics
                                                            : mero_metrics_get_default ());
  memcpy (self->sk, config->secret_key, 64);
  crypto_sign_ed25519_sk_to_pk (self->pk, self->sk);
  self->peer_id = mero_contexts_peer_of_key (self->pk);
  self->transport = config->transport;
  self->transport_data = config->transport_data;
  self->state_changed = config->state_changed;
  self->state_changed_data = config->state_changed_data;
  self->member_changed = config->member_changed;
  self->member_changed_data = config->member_changed_data;
  self->sync_finished = config->sync_finished;
  self->sync_finished_data = config->sync_finished_data;
  self->fetch_grace_ms = config->fetch_grace_ms;
  self->tombstone_retention_ms = config->tombstone_retention_ms;
  self->listen_addresses = config->listen_addresses;
  self->listen_addresses_data = config->listen_addresses_data;
  self->remember_peer = config->remember_peer;
  self->reach_peer = config->reach_peer;
  self->tee_verify = config->tee_verify;
  self->tee_verify_data = config->tee_verify_data;
  self->tee_accept_mock = config->tee_accept_mock;
  if (config->state_index_protocols != NULL)
    self->state_index_protocols = g_ptr_array_ref (config->state_index_protocols);
  self->tee_announcers = mero_contexts_tee_announcers_new ();
  self->tee_refusal_limiter = mero_tee_refusal_limiter_new ();
  self->peer_store_data = config->peer_store_data;
  self->groups = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) group_free);
  self->contexts = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) ctx_free);
  self->joins = g_ptr_array_new_with_free_func (g_object_unref);
  mero_metrics_set_help (self->metrics, DROPPED_METRIC,
                         "Node protocol messages dropped, by reason", NULL);
  mero_metrics_set_help (self->metrics, "mero_tee_refusals_total",
                         "TEE admission refusals sent back by this admin, rate-limited, or "
                         "received about this node's announces, by reason", NULL);
  if (!registry_load (self, error))
    {
      mero_contexts_free (self);
      return NULL;
    }
  if (config->heartbeat_interval_secs > 0)
    self->heartbeat_source = g_timeout_add_seconds (config->heartbeat_interval_secs,
                                                    on_heartbeat, self);
  if (config->gc_interval_secs > 0)
    self->gc_source = g_timeout_add_seconds (config->gc_interval_secs, mero_contexts_on_gc_timer,
                                             self);
  return self;
}

guint
mero_contexts_count (MeroContexts *self)
{
  return g_hash_table_size (self->contexts);
}

void
mero_contexts_report_state (MeroContexts *self, Ctx *ctx)
{
  guint8 root[ID_LEN];
  guint n = 0;
  const guint8 *heads;
  g_autoptr (GStrvBuilder) builder = NULL;
  g_auto (GStrv) strv = NULL;
  g_autofree char *root_b58 = NULL;

  if (ctx->ds == NULL)
    return;
  mero_delta_store_root (ctx->ds, root);
  if (memcmp (root, ctx->root, ID_LEN) == 0)
    return;
  memcpy (ctx->root, root, ID_LEN);
  heads = mero_delta_store_heads (ctx->ds, &n);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *h = mero_base58_encode (heads + i * ID_LEN, ID_LEN);

      g_strv_builder_add (builder, h);
    }
  strv = g_strv_builder_end (builder);
  root_b58 = mero_contexts_root_text (root);
  /* Info: what merod run -v shows of delta activity. */
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "state-changed",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE", "context %s: root %s, %u heads",
                    ctx->b58, root_b58, n);
  if (self->state_changed != NULL)
    self->state_changed (ctx->b58, root_b58, (const char *const *) strv,
                         self->state_changed_data);
}

/* ---- group ops ---- */

static gboolean
am_admin (MeroContexts *self, Group *group)
{
  const MeroGroupMember *me = mero_group_state_member (mero_group_dag_state (group->dag), self->pk);

  return me != NULL && me->role == MERO_GROUP_ROLE_ADMIN;
}

static void
rotate_key (MeroContexts *self, Group *group, const char *why)
{
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_ROTATE_KEY);
  g_autoptr (GArray) members = mero_group_state_members (mero_group_dag_state (group->dag));
  g_autoptr (GError) error = NULL;
  guint8 key[ID_LEN];

  mero_group_key_generate (key, op->key_id);
  for (guint i = 0; i < members->len; i++)
    {
      MeroGroupEnvelope e;

      if (mero_group_envelope_seal ((const guint8 *) members->data + i * ID_LEN, key, &e, NULL))
        mero_group_op_add_envelope (op, &e);
    }
  sodium_memzero (key, sizeof key);
  if (!mero_contexts_author (self, group, op, &error))
    g_warning ("group %s: cannot rotate the key after %s: %s", group->hex, why, error->message);
  else
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "group-key-rotated",
                      "MERO_GROUP", group->hex, "MESSAGE",
                      "group %s: key rotated after %s (%u members)", group->hex, why,
                      members->len);
}

/* The duties an accepted op gives this node. */
static void
after_op (MeroContexts *self, Group *group, const MeroGroupOp *op)
{
  if (op->kind == MERO_GROUP_OP_JOIN && memcmp (op->invitation.inviter, self->pk, ID_LEN) == 0
      && am_admin (self, group))
    rotate_key (self, group, "a join");
  else if (op->kind == MERO_GROUP_OP_LEAVE
           && memcmp (mero_group_state_owner (mero_group_dag_state (group->dag)), self->pk,
                      ID_LEN) == 0)
    rotate_key (self, group, "a leave");
}

gboolean
mero_contexts_group_receive (MeroContexts *self, Group *group, GBytes *op_bytes,
                             const char *peer, gboolean *accepted)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (op_bytes, &len);
  MeroGroupReceiveResult result = 0;
  g_autoptr (MeroGroupMutation) mutation = mero_group_mutation_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroGroupOp) op = NULL;

  if (accepted != NULL)
    *accepted = FALSE;
  if (!mero_group_dag_receive (group->dag, data, len, mero_contexts_now_ms (), &result, mutation,
                               &error))
    {
      g_debug ("group %s: op from %s refused: %s", group->hex, peer ? peer : "us",
               error->message);
      mero_contexts_count_drop (self, "group_op_refused");
      return FALSE;
    }
  if (result == MERO_GROUP_RECEIVE_PENDING && peer != NULL)
    mero_contexts_fetch_group (self, group, peer, NULL, NULL, NULL, NULL);
  if (result != MERO_GROUP_RECEIVE_ACCEPTED)
    return TRUE;
  if (accepted != NULL)
    *accepted = TRUE;
  op = mero_group_op_decode (data, len, NULL);
  if (!mero_group_mutation_is_empty (mutation) && op != NULL)
    {
      MeroBroadcast *note = mero_broadcast_new (MERO_BROADCAST_GROUP_NOTIFICATION);

      memcpy (note->id, group->id, ID_LEN);
      memcpy (note->op_id, op->id, ID_LEN);
      g_array_append_vals (note->added, mutation->added->data, mutation->added->len);
      g_array_append_vals (note->removed, mutation->removed->data, mutation->removed->len);
      g_array_append_vals (note->changed, mutation->changed->data, mutation->changed->len);
      if (peer == NULL)
        mero_contexts_publish (self, group->topic, note);
      mero_broadcast_free (note);
    }
  mero_contexts_group_changed (self, group);
  if (op != NULL)
    after_op (self, group, op);
  return TRUE;
}

gboolean
mero_contexts_author (MeroContexts *self, Group *group, MeroGroupOp *op, GError **error)
{
  g_autoptr (GBytes) encoded = NULL;
  gboolean accepted = FALSE;
  MeroBroadcast *msg;

  mero_group_dag_author (group->dag, op, self->sk, mero_contexts_now_ms ());
  encoded = mero_group_op_encode (op);
  {
    gsize len;
    const guint8 *data = g_bytes_get_data (encoded, &len);
    MeroGroupReceiveResult result = 0;
    g_autoptr (MeroGroupMutation) mutation = mero_group_mutation_new ();

    if (!mero_group_dag_receive (group->dag, data, len, mero_contexts_now_ms (), &result,
                                 mutation, error))
      return FALSE;
    accepted = result == MERO_GROUP_RECEIVE_ACCEPTED;
  }
  msg = mero_broadcast_new (MERO_BROADCAST_GROUP_OP);
  msg->payload = g_bytes_ref (encoded);
  mero_contexts_publish (self, group->topic, msg);
  mero_broadcast_free (msg);
  if (accepted)
    {
      mero_contexts_group_changed (self, group);
      after_op (self, group, op);
    }
  return TRUE;
}

/* Tells member_changed what changed in @group's member set since the
 * last call (the first call only takes the snapshot). */
static void
report_members (MeroContexts *self, Group *group, GPtrArray *contexts)
{
  g_autoptr (GArray) members = mero_group_state_members (mero_group_dag_state (group->dag));
  GHashTable *now = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  const char *peer;

  for (guint i = 0; i < members->len; i++)
    g_hash_table_add (now, mero_contexts_peer_of_key ((const guint8 *) members->data
                                                      + i * ID_LEN));
  if (group->known_members != NULL && self->member_changed != NULL)
    {
      g_hash_table_iter_init (&iter, now);
      while (g_hash_table_iter_next (&iter, (gpointer *) &peer, NULL))
        if (!g_hash_table_contains (group->known_members, peer))
          for (guint i = 0; i < contexts->len; i++)
            self->member_changed (((Ctx *) g_ptr_array_index (contexts, i))->b58, group->hex,
                                  peer, TRUE, self->member_changed_data);
      g_hash_table_iter_init (&iter, group->known_members);
      while (g_hash_table_iter_next (&iter, (gpointer *) &peer, NULL))
        if (!g_hash_table_contains (now, peer))
          for (guint i = 0; i < contexts->len; i++)
            self->member_changed (((Ctx *) g_ptr_array_index (contexts, i))->b58, group->hex,
                                  peer, FALSE, self->member_changed_data);
    }
  g_clear_pointer (&group->known_members, g_hash_table_unref);
  group->known_members = now;
}

void
mero_contexts_group_changed (MeroContexts *self, Group *group)
{
  GHashTableIter iter;
  Ctx *ctx;
  gboolean member = mero_group_state_member (mero_group_dag_state (group->dag), self->pk) != NULL;
  g_autoptr (GPtrArray) touched = g_ptr_array_new ();

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ctx))
    if (ctx->group == group)
      g_ptr_array_add (touched, ctx);
  /* Re-evaluate subscriptions: a node removed from the group leaves its
   * context topics (it could read nothing new there); re-added, it comes
   * back and catches up.  The group topic is kept, so it still learns
   * what governance does. */
  if (group->was_member && !member)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_MESSAGE, "MERO_EVENT", "group-removed",
                      "MERO_GROUP", group->hex, "MESSAGE",
                      "this node is no longer a member of group %s: leaving its contexts' topics",
                      group->hex);
  if (member)
    group->was_member = TRUE;
  report_members (self, group, touched);
  for (guint i = 0; i < touched->len; i++)
    {
      ctx = g_ptr_array_index (touched, i);
      if (group->was_member && !member && !ctx->left_topic)
        {
          self->transport->unsubscribe (self->transport_data, ctx->b58);
          ctx->left_topic = TRUE;
        }
      else if (member && ctx->left_topic)
        {
          self->transport->subscribe (self->transport_data, ctx->b58);
          ctx->left_topic = FALSE;
        }
      ctx_update_key (self, ctx);
      if (!member && mero_group_state_is_created (mero_group_dag_state (group->dag)))
        continue;
      mero_contexts_replay (self, ctx);
    }
}

gboolean
mero_contexts_set_sync_active (MeroContexts *self, const char *context_id, gboolean active,
                               GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  g_autoptr (GPtrArray) drained = NULL;

  if (ctx == NULL)
    return FALSE;
  if (active)
    {
      if (ctx->sync_buffer == NULL)
        ctx->sync_buffer = mero_delta_buffer_new (0, self->metrics);
      return TRUE;
    }
  if (ctx->sync_buffer == NULL)
    return TRUE;
  drained = mero_delta_buffer_drain (ctx->sync_buffer);
  g_clear_pointer (&ctx->sync_buffer, mero_delta_buffer_free);
  for (guint i = 0; i < drained->len; i++)
    mero_contexts_receive_envelope (self, ctx, g_ptr_array_index (drained, i), NULL, TRUE);
  mero_contexts_report_state (self, ctx);
  return TRUE;
}

/* ---- control ---- */

static void
random_id (guint8 out[ID_LEN])
{
  randombytes_buf (out, ID_LEN);
}

gboolean
mero_contexts_create (MeroContexts *self, const char *application, char **context_id,
                      char **group_id, GError **error)
{
  guint8 gid[ID_LEN], cid[ID_LEN], key[ID_LEN];
  Group *group;
  Ctx *ctx;
  MeroGroupEnvelope e;
  g_autoptr (MeroGroupOp) create = mero_group_op_new (MERO_GROUP_OP_CREATE_GROUP);
  g_autoptr (MeroGroupOp) reg = mero_group_op_new (MERO_GROUP_OP_REGISTER_CONTEXT);

  if (g_strcmp0 (application, KV_APPLICATION) != 0)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("Unknown application “%s” (only “kv” is built in)"),
                   application != NULL ? application : "");
      return FALSE;
    }
  random_id (gid);
  random_id (cid);
  group = mero_contexts_group_ensure (self, gid, error);
  if (group == NULL)
    return FALSE;
  mero_group_key_generate (key, create->key_id);
  if (!mero_group_envelope_seal (self->pk, key, &e, error))
    return FALSE;
  sodium_memzero (key, sizeof key);
  mero_group_op_add_envelope (create, &e);
  if (!mero_contexts_author (self, group, create, error))
    return FALSE;
  memcpy (reg->context_id, cid, ID_LEN);
  application_id (application, reg->application_id);
  if (!mero_contexts_author (self, group, reg, error))
    return FALSE;
  ctx = mero_contexts_ctx_add (self, cid, group, application, error);
  if (ctx == NULL)
    return FALSE;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-created",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE", "context %s created in group %s",
                    ctx->b58, group->hex);
  if (context_id != NULL)
    *context_id = g_strdup (ctx->b58);
  if (group_id != NULL)
    *group_id = g_strdup (group->hex);
  return TRUE;
}

/* ---- leave and remove ---- */

static void
forget_context (MeroContexts *self, Ctx *ctx)
{
  MeroKey key = mero_key_context_meta (ctx->id);
  g_autoptr (GError) error = NULL;
  /* Its plugin state indexes go with its state (a rejoin rebuilds them). */
  MeroKey prefixes[] = { mero_key_prefix_state (ctx->id), mero_key_prefix_deltas (ctx->id),
                         mero_key_prefix_deltas_pending (ctx->id),
                         mero_state_index_prefix (ctx->id) };
  g_autoptr (MeroStoreBatch) batch = mero_store_batch_new (self->store);

  self->transport->unsubscribe (self->transport_data, ctx->b58);
  g_clear_pointer (&ctx->ds, mero_delta_store_free);
  mero_store_batch_delete (batch, &key);
  {
    MeroKey dag = mero_key_context_dag (ctx->id);

    mero_store_batch_delete (batch, &dag);
  }
  for (guint p = 0; p < G_N_ELEMENTS (prefixes); p++)
    {
      g_autoptr (MeroStoreIter) it = mero_store_iter_new (self->store, NULL, &prefixes[p]);

      for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
        {
          gsize len;
          const guint8 *bytes = mero_store_iter_key (it, &len);
          MeroKey k;

          if (mero_key_from_bytes (&k, prefixes[p].column, bytes, len))
            mero_store_batch_delete (batch, &k);
        }
    }
  if (!mero_store_batch_commit (batch, &error))
    g_warning ("context %s: cannot forget its state: %s", ctx->b58, error->message);
  g_hash_table_remove (self->contexts, ctx->b58);
}

void
mero_contexts_join_undo (MeroContexts *self, const guint8 ctx_id[ID_LEN], gboolean context,
                         const guint8 group_id[ID_LEN], gboolean group)
{
  Ctx *ctx = context ? mero_contexts_lookup_id (self, ctx_id) : NULL;
  Group *g = group ? mero_contexts_group_lookup (self, group_id) : NULL;

  if (ctx != NULL)
    forget_context (self, ctx);
  if (g != NULL)
    {
      self->transport->unsubscribe (self->transport_data, g->topic);
      g_hash_table_remove (self->groups, g->hex);
    }
}

/* @delete: a LEAVE the group refuses (the owner's) does not stop the
 * local state from going. */
static gboolean
leave_context (MeroContexts *self, const char *context_id, gboolean delete, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  Group *group;
  g_autoptr (MeroGroupOp) op = NULL;
  g_autofree char *b58 = NULL;

  if (ctx == NULL)
    return FALSE;
  group = ctx->group;
  b58 = g_strdup (ctx->b58);
  if (mero_group_state_member (mero_group_dag_state (group->dag), self->pk) != NULL)
    {
      g_autoptr (GError) local_error = NULL;

      op = mero_group_op_new (MERO_GROUP_OP_LEAVE);
      if (!mero_contexts_author (self, group, op, &local_error))
        {
          if (!delete || local_error->domain != MERO_GROUP_ERROR
              || local_error->code == MERO_GROUP_ERROR_STORE)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return FALSE;
            }
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-delete-local",
                            "MERO_CONTEXT", b58, "MESSAGE",
                            "context %s deleted locally without leaving its group: %s", b58,
                            local_error->message);
        }
    }
  forget_context (self, ctx);
  /* The group goes too when no other context of ours is in it (its ops
   * stay in the store: a later join finds them). */
  {
    GHashTableIter iter;
    Ctx *other;
    gboolean used = FALSE;

    g_hash_table_iter_init (&iter, self->contexts);
    while (!used && g_hash_table_iter_next (&iter, NULL, (gpointer *) &other))
      used = other->group == group;
    if (!used)
      {
        self->transport->unsubscribe (self->transport_data, group->topic);
        g_hash_table_remove (self->groups, group->hex);
      }
  }
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "context-left",
                    "MERO_CONTEXT", b58, "MESSAGE", "left context %s", b58);
  return TRUE;
}

gboolean
mero_contexts_leave (MeroContexts *self, const char *context_id, GError **error)
{
  return leave_context (self, context_id, FALSE, error);
}

gboolean
mero_contexts_delete (MeroContexts *self, const char *context_id, GError **error)
{
  return leave_context (self, context_id, TRUE, error);
}

gboolean
mero_contexts_remove_member (MeroContexts *self, const char *context_id, const char *member,
                             GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  guint8 pk[ID_LEN], key[ID_LEN];
  g_autoptr (MeroGroupOp) op = mero_group_op_new (MERO_GROUP_OP_REMOVE_MEMBER);
  g_autoptr (GArray) members = NULL;

  if (ctx == NULL)
    return FALSE;
  if (!mero_contexts_key_of_peer (member, pk))
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an Ed25519 PeerId"), member);
      return FALSE;
    }
  members = mero_group_state_members (mero_group_dag_state (ctx->group->dag));
  if (!mero_id_array_contains (members, pk))
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("%s is not a member of context %s"), member, ctx->b58);
      return FALSE;
    }
  memcpy (op->member, pk, ID_LEN);
  mero_group_key_generate (key, op->key_id);
  for (guint i = 0; i < members->len; i++)
    {
      const guint8 *m = mero_id_array_get (members, i);
      MeroGroupEnvelope e;

      if (memcmp (m, pk, ID_LEN) != 0 && mero_group_envelope_seal (m, key, &e, NULL))
        mero_group_op_add_envelope (op, &e);
    }
  sodium_memzero (key, sizeof key);
  if (!mero_contexts_author (self, ctx->group, op, error))
    {
      g_prefix_error (error, _("Cannot remove %s: "), member);
      return FALSE;
    }
  return TRUE;
}
