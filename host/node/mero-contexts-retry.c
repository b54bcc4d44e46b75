/* mero-contexts-retry.c: who to fetch missing deltas from, and fetching
 * again when that fails.
 *
 * Only current members are asked (a member's key is its node identity
 * key, so a PeerId is a member or not in one hash lookup).  Each context
 * remembers the few members that most recently announced heads it lacks;
 * a fetch that fails (no answer, refused, undecodable) is tried again
 * against another of them with a doubling back-off, until what was
 * missing is there or a pending delta would have aged out
 * (MERO_DELTA_PENDING_MAX_AGE_MS after the first failure). */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <string.h>

#include "context/delta/mero-delta-limits.h"

void
mero_contexts_note_announcer (Ctx *ctx, const char *peer)
{
  for (guint i = 0; i < ctx->announcers->len; i++)
    if (g_str_equal (g_ptr_array_index (ctx->announcers, i), peer))
      {
        if (i + 1 == ctx->announcers->len)
          return;
        g_ptr_array_remove_index (ctx->announcers, i);
        break;
      }
  if (ctx->announcers->len >= MERO_CONTEXTS_ANNOUNCERS_MAX)
    g_ptr_array_remove_index (ctx->announcers, 0);
  g_ptr_array_add (ctx->announcers, g_strdup (peer));
}

char *
mero_contexts_pick_member (Ctx *ctx, const char *peer, const char *avoid)
{
  if (peer != NULL && g_strcmp0 (peer, avoid) != 0
      && mero_contexts_group_has_peer (ctx->group, peer))
    return g_strdup (peer);
  for (guint i = ctx->announcers->len; i > 0; i--)
    {
      const char *a = g_ptr_array_index (ctx->announcers, i - 1);

      if (g_strcmp0 (a, avoid) != 0 && mero_contexts_group_has_peer (ctx->group, a))
        return g_strdup (a);
    }
  return NULL;
}

static void
retry_reset (Ctx *ctx)
{
  ctx->retry_delay_ms = 0;
  ctx->retry_since_ms = 0;
  g_clear_pointer (&ctx->retry_ids, g_array_unref);
  g_clear_pointer (&ctx->retry_failed_peer, g_free);
}

static gboolean
on_retry (gpointer user_data)
{
  Ctx *ctx = user_data;
  MeroContexts *self = ctx->self;
  g_autoptr (GArray) ids = g_steal_pointer (&ctx->retry_ids);
  g_autofree char *failed = g_steal_pointer (&ctx->retry_failed_peer);
  g_autofree char *target = NULL;

  g_clear_pointer (&ctx->retry_source, g_source_unref);
  if (self->closed || ctx->ds == NULL)
    return G_SOURCE_REMOVE;
  if (g_get_monotonic_time () / 1000 - ctx->retry_since_ms
      > (gint64) MERO_DELTA_PENDING_MAX_AGE_MS)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "fetch-gave-up",
                        "MERO_CONTEXT", ctx->b58, "MESSAGE",
                        "context %s: no member answered for missing deltas; giving up until "
                        "one announces them again",
                        ctx->b58);
      mero_contexts_count_drop (self, "fetch_gave_up");
      retry_reset (ctx);
      return G_SOURCE_REMOVE;
    }
  /* Another member if one announced; the same one only if it is all we
   * have (its failure may have been passing). */
  target = mero_contexts_pick_member (ctx, NULL, failed);
  if (target == NULL)
    target = mero_contexts_pick_member (ctx, failed, NULL);
  if (target == NULL
      || !mero_contexts_fetch_missing (self, ctx, target, ids, MERO_CONTEXTS_DEPTH_HEADS))
    retry_reset (ctx);   /* nothing missing any more, or nobody to ask */
  else
    g_debug ("context %s: retrying the fetch of missing deltas from %s", ctx->b58, target);
  return G_SOURCE_REMOVE;
}

void
mero_contexts_fetch_failed (MeroContexts *self, Ctx *ctx, const char *peer, const GArray *ids)
{
  if (self->closed)
    return;
  if (ctx->retry_ids == NULL)
    ctx->retry_ids = mero_id_array_new ();
  for (guint i = 0; ids != NULL && i < ids->len && ctx->retry_ids->len < MERO_STREAM_MAX_IDS; i++)
    if (!mero_id_array_contains (ctx->retry_ids, mero_id_array_get (ids, i)))
      mero_id_array_add (ctx->retry_ids, mero_id_array_get (ids, i));
  g_free (ctx->retry_failed_peer);
  ctx->retry_failed_peer = g_strdup (peer);
  if (ctx->retry_source != NULL)
    return;   /* the armed retry takes these ids too */
  if (ctx->retry_delay_ms == 0)
    {
      ctx->retry_delay_ms = MERO_CONTEXTS_RETRY_FIRST_MS;
      ctx->retry_since_ms = g_get_monotonic_time () / 1000;
    }
  else
    ctx->retry_delay_ms = MIN (2 * ctx->retry_delay_ms, MERO_CONTEXTS_RETRY_MAX_MS);
  ctx->retry_source = g_timeout_source_new (ctx->retry_delay_ms);
  g_source_set_callback (ctx->retry_source, on_retry, ctx, NULL);
  g_source_attach (ctx->retry_source, NULL);
}

void
mero_contexts_fetch_succeeded (MeroContexts *self, Ctx *ctx)
{
  /* An armed retry still runs: it finds nothing missing and stops, or
   * fetches what this answer did not bring. */
  ctx->retry_delay_ms = 0;
  ctx->retry_since_ms = 0;
  g_clear_pointer (&ctx->retry_failed_peer, g_free);
}

void
mero_contexts_retry_clear (Ctx *ctx)
{
  if (ctx->retry_source != NULL)
    {
      g_source_destroy (ctx->retry_source);
      g_clear_pointer (&ctx->retry_source, g_source_unref);
    }
  retry_reset (ctx);
}
