/* mero-contexts-peers.c: the members of our groups as peers to reach
 * (the redial after a restart, SyncContext with nobody connected). */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <stdlib.h>
#include <string.h>

/* Addresses named in one error message at most: enough to see which
 * ports were stale, short enough for a terminal. */
#define MAX_ADDRESSES_NAMED 8u

static void
add_other_members (MeroContexts *self, Group *group, GHashTable *peers)
{
  g_autoptr (GArray) members = mero_group_state_members (mero_group_dag_state (group->dag));

  for (guint i = 0; i < members->len; i++)
    {
      const guint8 *m = (const guint8 *) members->data + i * ID_LEN;

      if (memcmp (m, self->pk, ID_LEN) != 0)
        g_hash_table_add (peers, mero_contexts_peer_of_key (m));
    }
}

static int
compare_strings (const void *a, const void *b)
{
  return g_strcmp0 (*(char *const *) a, *(char *const *) b);
}

static GStrv
sorted_keys (GHashTable *set)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (set, NULL);
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GStrv out;

  g_strv_builder_addv (builder, (const char **) keys);
  out = g_strv_builder_end (builder);
  qsort (out, g_strv_length (out), sizeof (char *), compare_strings);
  return out;
}

GStrv
mero_contexts_list_member_peers (MeroContexts *self)
{
  g_autoptr (GHashTable) peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  GHashTableIter iter;
  gpointer value;
  GStrv out;

  g_return_val_if_fail (self != NULL, NULL);

  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      Group *group = value;

      if (mero_group_state_member (mero_group_dag_state (group->dag), self->pk) != NULL)
        add_other_members (self, group, peers);
    }
  out = (GStrv) g_hash_table_get_keys_as_array (peers, NULL);
  g_hash_table_steal_all (peers);
  qsort (out, g_strv_length (out), sizeof (char *), compare_strings);
  return out;
}

gboolean
mero_contexts_check_members_reachable (MeroContexts *self, Ctx *ctx, GError **error)
{
  g_autoptr (GHashTable) set = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_auto (GStrv) members = NULL;
  g_autoptr (GString) tried = g_string_new (NULL);
  guint named = 0, known = 0;

  add_other_members (self, ctx->group, set);
  if (g_hash_table_size (set) == 0)
    return TRUE; /* alone in the context: nobody to sync with */
  members = sorted_keys (set);
  for (guint i = 0; members[i] != NULL; i++)
    {
      g_auto (GStrv) addresses = self->reach_peer != NULL
                                     ? self->reach_peer (self->peer_store_data, members[i])
                                     : NULL;

      for (guint a = 0; addresses != NULL && addresses[a] != NULL; a++, known++)
        if (named < MAX_ADDRESSES_NAMED)
          {
            g_string_append_printf (tried, "%s%s", named > 0 ? ", " : "", addresses[a]);
            named++;
          }
    }
  if (known > named)
    g_string_append_printf (tried, _(" and %u more"), known - named);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "sync-no-peers",
                    "MERO_CONTEXT", ctx->b58, "MESSAGE",
                    "context %s: sync asked, but none of its %u other members is connected",
                    ctx->b58, g_strv_length (members));
  if (known == 0)
    g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_PEER,
                 _("No member of context %s is connected, and no address of its %u other "
                   "members is known (they are found again when they dial this node, or "
                   "through network.bootstrap or mDNS)"),
                 ctx->b58, g_strv_length (members));
  else
    g_set_error (error, MERO_CONTEXTS_ERROR, MERO_CONTEXTS_ERROR_PEER,
                 _("No member of context %s is connected; known addresses tried (redialling "
                   "with back-off): %s"),
                 ctx->b58, tried->str);
  return FALSE;
}
