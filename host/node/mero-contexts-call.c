/* mero-contexts-call.c: Call on a context (the built-in kv application),
 * broadcasting the delta it commits; the SkipNextBroadcasts test hook;
 * SyncContext. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "net/mero-base58.h"
#include <json-glib/json-glib.h>

#include "context/kv/mero-kv.h"

/* ---- Call: the kv application ---- */

static const char *
member_string (JsonObject *args, const char *name, GError **error)
{
  JsonNode *node = args != NULL ? json_object_get_member (args, name) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                   _("The argument “%s” must be a string"), name);
      return NULL;
    }
  return json_node_get_string (node);
}

static char *
node_to_json (JsonNode *node)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();

  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

static char *
run_kv (Ctx *ctx, const char *method, JsonObject *args, GBytes **envelope, GError **error)
{
  if (g_str_equal (method, "set"))
    {
      const char *key = member_string (args, "key", error);
      JsonNode *value = args != NULL ? json_object_get_member (args, "value") : NULL;

      if (key == NULL)
        return NULL;
      if (value == NULL)
        {
          g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                       _("The argument “%s” is missing"), "value");
          return NULL;
        }
      return mero_kv_set_json (ctx->ds, key, value, envelope, error) ? g_strdup ("null") : NULL;
    }
  if (g_str_equal (method, "get"))
    {
      const char *key = member_string (args, "key", error);
      g_autoptr (JsonNode) value = NULL;

      if (key == NULL || !mero_kv_get_json (ctx->ds, key, &value, error))
        return NULL;
      return value != NULL ? node_to_json (value) : g_strdup ("null");
    }
  if (g_str_equal (method, "remove"))
    {
      const char *key = member_string (args, "key", error);
      gboolean removed = FALSE;

      if (key == NULL || !mero_kv_remove (ctx->ds, key, &removed, envelope, error))
        return NULL;
      return g_strdup (removed ? "true" : "false");
    }
  if (g_str_equal (method, "entries"))
    {
      g_autoptr (GPtrArray) entries = NULL;
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      if (!mero_kv_entries (ctx->ds, &entries, error))
        return NULL;
      json_builder_begin_object (b);
      for (guint i = 0; i < entries->len; i++)
        {
          MeroMapEntry *e = g_ptr_array_index (entries, i);
          g_autofree char *k = g_strndup (g_bytes_get_data (e->key, NULL),
                                          g_bytes_get_size (e->key));
          g_autoptr (JsonNode) v = json_from_string (
              g_bytes_get_size (e->value) > 0
                  ? g_strndup (g_bytes_get_data (e->value, NULL), g_bytes_get_size (e->value))
                  : "null",
              NULL);

          json_builder_set_member_name (b, k);
          if (v != NULL)
            json_builder_add_value (b, g_steal_pointer (&v));
          else
            json_builder_add_string_value (b, "");
        }
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      return node_to_json (root);
    }
  if (g_str_equal (method, "len"))
    {
      guint64 n = 0;

      if (!mero_kv_len (ctx->ds, &n, error))
        return NULL;
      return g_strdup_printf ("%" G_GUINT64_FORMAT, n);
    }
  if (g_str_equal (method, "clear"))
    {
      guint n = 0;

      if (!mero_kv_clear (ctx->ds, &n, envelope, error))
        return NULL;
      return g_strdup_printf ("%u", n);
    }
  g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
               _("Unknown method “%s” of application kv"), method);
  return NULL;
}

static void
broadcast_delta (MeroContexts *self, Ctx *ctx, GBytes *envelope)
{
  MeroBroadcast *msg = mero_broadcast_new (MERO_BROADCAST_STATE_DELTA);
  guint n = 0;
  const guint8 *heads = mero_delta_store_heads (ctx->ds, &n);

  memcpy (msg->id, ctx->id, ID_LEN);
  msg->payload = g_bytes_ref (envelope);
  g_array_append_vals (msg->heads, heads, MIN (n, MERO_BROADCAST_MAX_HEADS));
  msg->has_root = TRUE;
  mero_delta_store_root (ctx->ds, msg->root);
  {
    g_autoptr (GBytes) data = mero_broadcast_encode (msg);

    /* Too big for gossip: announce the new heads instead; peers fetch the
     * delta over the delta stream, which takes up to 8 MiB. */
    if (g_bytes_get_size (data) > MERO_BROADCAST_GOSSIP_MAX)
      mero_contexts_publish_hash_heartbeat (self, ctx);
    else
      mero_contexts_publish (self, ctx->b58, msg);
  }
  mero_broadcast_free (msg);
}

char *
mero_contexts_call (MeroContexts *self, const char *context_id, const char *method,
                    const char *args, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  g_autoptr (JsonNode) parsed = NULL;
  g_autoptr (GBytes) envelope = NULL;
  g_autoptr (GArray) gov = NULL;
  char *result;

  if (ctx == NULL)
    return NULL;
  if (ctx->ds == NULL)
    {
      if (self->key_share == NULL)
        g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NO_KEY,
                     _("Context %s: the group key has not reached this node, and it cannot be "
                       "fetched: the key-share plugin is not loaded"),
                     ctx->b58);
      else
        g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NO_KEY,
                     _("Context %s: the group key has not reached this node yet"), ctx->b58);
      return NULL;
    }
  if (args != NULL && args[0] != '\0')
    {
      parsed = json_from_string (args, error);
      if (parsed == NULL && error != NULL && *error == NULL)
        parsed = json_node_new (JSON_NODE_NULL);
      if (parsed == NULL)
        return NULL;
      if (!JSON_NODE_HOLDS_OBJECT (parsed) && !JSON_NODE_HOLDS_NULL (parsed))
        {
          g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_INVALID_ARGUMENT,
                       _("The arguments must be a JSON object"));
          return NULL;
        }
    }
  gov = mero_group_dag_heads (ctx->group->dag);
  mero_delta_store_set_governance_heads (ctx->ds, (const guint8 *) gov->data, gov->len);
  if (!g_str_equal (method, "get") && !g_str_equal (method, "entries")
      && !g_str_equal (method, "len")
      && !mero_group_state_can_write (mero_group_dag_state (ctx->group->dag), self->pk))
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_NOT_ALLOWED,
                   _("This node may not write context %s"), ctx->b58);
      return NULL;
    }
  result = run_kv (ctx, method,
                   parsed != NULL && JSON_NODE_HOLDS_OBJECT (parsed) ? json_node_get_object (parsed)
                                                                     : NULL,
                   &envelope, error);
  if (result == NULL)
    return NULL;
  if (envelope != NULL)
    {
      /* Merge deltas the commit needed (more heads than one delta may
       * cite) go out first, so peers have the parents before the child. */
      g_autoptr (GPtrArray) merges = mero_delta_store_take_merges (ctx->ds);

      for (guint i = 0; merges != NULL && i < merges->len; i++)
        broadcast_delta (self, ctx, g_ptr_array_index (merges, i));
      if (ctx->skip_broadcasts > 0)
        ctx->skip_broadcasts--;
      else
        broadcast_delta (self, ctx, envelope);
      mero_contexts_report_state (self, ctx);
    }
  return result;
}

gboolean
mero_contexts_skip_broadcasts (MeroContexts *self, const char *context_id, guint count,
                               GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);

  if (ctx == NULL)
    return FALSE;
  ctx->skip_broadcasts = count;
  return TRUE;
}

static gboolean
request_sync (MeroContexts *self, const char *context_id, gboolean resync, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  g_auto (GStrv) peers = NULL;
  g_autoptr (GArray) none = mero_id_array_new ();

  if (ctx == NULL)
    return FALSE;
  peers = self->transport->topic_peers (self->transport_data, ctx->b58);
  if ((peers == NULL || peers[0] == NULL)
      && !mero_contexts_check_members_reachable (self, ctx, error))
    return FALSE;
  for (guint i = 0; peers != NULL && peers[i] != NULL; i++)
    {
      mero_contexts_fetch_group (self, ctx->group, peers[i], NULL, NULL, NULL, NULL);
      /* Deltas and state come from members only (see mero-contexts-retry.c). */
      if (!mero_contexts_group_has_peer (ctx->group, peers[i]))
        continue;
      /* A resync replaces the state: history fetched now would only be
       * applied to the state about to go. */
      if (resync)
        {
          self->transport->resync_requested (self->transport_data, ctx->b58, peers[i]);
          continue;
        }
      if (ctx->ds != NULL)
        mero_contexts_fetch_deltas (self, ctx, peers[i], NULL, none, 0);
      (self->transport->sync_requested_by_operator != NULL
           ? self->transport->sync_requested_by_operator
           : self->transport->sync_requested) (self->transport_data, ctx->b58, peers[i]);
    }
  return TRUE;
}

gboolean
mero_contexts_sync (MeroContexts *self, const char *context_id, GError **error)
{
  return request_sync (self, context_id, FALSE, error);
}

gboolean
mero_contexts_resync (MeroContexts *self, const char *context_id, GError **error)
{
  if (self->transport->resync_requested == NULL)
    {
      g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_FAILED,
                   _("This node cannot resync (no sync manager)"));
      return FALSE;
    }
  return request_sync (self, context_id, TRUE, error);
}

