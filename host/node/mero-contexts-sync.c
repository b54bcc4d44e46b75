/* mero-contexts-sync.c: what the sync manager (host/sync) needs from the
 * contexts: their states, their members, and a way to report a state a
 * sync changed. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <stdlib.h>
#include <string.h>

static int
compare_strings (const void *a, const void *b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

GStrv
mero_contexts_list_synced_ids (MeroContexts *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GHashTableIter iter;
  Ctx *ctx;
  GStrv out;

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &ctx))
    if (ctx->ds != NULL)
      g_strv_builder_add (builder, ctx->b58);
  out = g_strv_builder_end (builder);
  qsort (out, g_strv_length (out), sizeof (char *), compare_strings);
  return out;
}

static Ctx *
lookup (MeroContexts *self, const char *context_id)
{
  if (self == NULL || self->closed || context_id == NULL)
    return NULL;
  return g_hash_table_lookup (self->contexts, context_id);
}

MeroDeltaStore *
mero_contexts_get_delta_store (MeroContexts *self, const char *context_id)
{
  Ctx *ctx = lookup (self, context_id);

  return ctx != NULL ? ctx->ds : NULL;
}

gboolean
mero_contexts_context_has_member (MeroContexts *self, const char *context_id,
                                  const char *peer_id)
{
  Ctx *ctx = lookup (self, context_id);

  return ctx != NULL && mero_contexts_group_has_peer (ctx->group, peer_id);
}

GStrv
mero_contexts_context_member_peers (MeroContexts *self, const char *context_id)
{
  Ctx *ctx = lookup (self, context_id);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  if (ctx != NULL)
    {
      g_autoptr (GArray) members =
          mero_group_state_members (mero_group_dag_state (ctx->group->dag));

      for (guint i = 0; i < members->len; i++)
        {
          const guint8 *m = (const guint8 *) members->data + i * ID_LEN;

          if (memcmp (m, self->pk, ID_LEN) != 0)
            {
              g_autofree char *peer = mero_contexts_peer_of_key (m);

              g_strv_builder_add (builder, peer);
            }
        }
    }
  return g_strv_builder_end (builder);
}

GStrv
mero_contexts_context_topic_peers (MeroContexts *self, const char *context_id)
{
  Ctx *ctx = lookup (self, context_id);

  if (ctx == NULL)
    return g_new0 (char *, 1);
  return self->transport->topic_peers (self->transport_data, ctx->b58);
}

void
mero_contexts_state_synced (MeroContexts *self, const char *context_id,
                            const guint8 *peer_root, const guint8 *peer_heads, guint n_heads)
{
  Ctx *ctx = lookup (self, context_id);
  g_autoptr (GError) error = NULL;
  guint added = 0;

  if (ctx == NULL || ctx->ds == NULL)
    return;
  if (!mero_delta_store_reload_root (ctx->ds, &error))
    g_warning ("context %s: cannot read the root after a sync: %s", ctx->b58, error->message);
  else if (peer_root != NULL
           && !mero_delta_store_add_checkpoints (ctx->ds, peer_heads, n_heads, peer_root, &added,
                                                 &error))
    g_warning ("context %s: cannot record the peer's heads as checkpoints: %s", ctx->b58,
               error->message);
  else if (added > 0)
    g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "sync-checkpoints",
                      "MERO_CONTEXT", ctx->b58, "MESSAGE",
                      "context %s: %u heads of the synced peer are checkpoints now", ctx->b58,
                      added);
  mero_contexts_report_state (self, ctx);
  mero_contexts_schedule_hash_heartbeat (self, ctx);
}

/* A state sync session ended in agreement (@changed: it changed our
 * state): the node's "sync-finished" event, as a delta catch-up reports. */
void
mero_contexts_sync_finished (MeroContexts *self, const char *context_id, const char *peer_id,
                             gboolean changed)
{
  if (self->sync_finished != NULL && !self->closed)
    self->sync_finished (context_id, peer_id, changed, self->sync_finished_data);
}

void
mero_contexts_set_state_sync (MeroContexts *self, gboolean enabled)
{
  self->state_sync = enabled;
}

gboolean
mero_contexts_joins_by_state_sync (MeroContexts *self, Ctx *ctx)
{
  static const guint8 zero_root[ID_LEN];
  guint8 root[ID_LEN];

  if (!self->state_sync || ctx->ds == NULL)
    return FALSE;
  mero_delta_store_root (ctx->ds, root);
  return memcmp (root, zero_root, ID_LEN) == 0;
}

void
mero_contexts_set_info_extra (MeroContexts *self,
                              GVariant *(*func) (const char *context_id, gpointer data),
                              gpointer data)
{
  self->info_extra = func;
  self->info_extra_data = data;
}

gboolean
mero_contexts_has_context (MeroContexts *self, const char *context_id)
{
  return lookup (self, context_id) != NULL;
}

void
mero_contexts_set_blob_providers (
    MeroContexts *self,
    void (*record) (gpointer data, const char *topic, const char *from_peer, GBytes *payload),
    GBytes *(*serve) (gpointer data, const char *peer_id, const guint8 *request, gsize len),
    gpointer data)
{
  g_return_if_fail (self != NULL);

  self->blob_record = record;
  self->blob_serve = serve;
  self->blob_data = data;
}
