/* mero-contexts-info.c: what the node tells about its contexts and groups
 * (ListContexts, GetContextInfo, ListGroups as GVariant dictionaries). */
#define G_LOG_DOMAIN "merod"
#include "node/mero-contexts-private.h"

#include <glib/gi18n.h>
#include <sodium.h>
#include <string.h>

#include "net/mero-base58.h"
#include "node/mero-contexts-tee.h"
#include "store/mero-store-keys.h"

static GVariant *
heads_variant (Ctx *ctx)
{
  GVariantBuilder b;
  guint n = 0;
  const guint8 *heads = ctx->ds != NULL ? mero_delta_store_heads (ctx->ds, &n) : NULL;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("as"));
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *h = mero_base58_encode (heads + i * ID_LEN, ID_LEN);

      g_variant_builder_add (&b, "s", h);
    }
  return g_variant_builder_end (&b);
}

static guint64
count_deltas (MeroContexts *self, Ctx *ctx)
{
  MeroKey prefix = mero_key_prefix_deltas (ctx->id);
  g_autoptr (MeroStoreIter) it = mero_store_iter_new (self->store, NULL, &prefix);
  guint64 n = 0;

  for (gboolean ok = mero_store_iter_first (it); ok; ok = mero_store_iter_next (it))
    n++;
  return n;
}

static void
add_summary (MeroContexts *self, Ctx *ctx, GVariantBuilder *b)
{
  guint8 root[ID_LEN] = { 0 };
  g_autofree char *root_b58 = NULL;

  if (ctx->ds != NULL)
    mero_delta_store_root (ctx->ds, root);
  root_b58 = mero_contexts_root_text (root);
  g_variant_builder_add (b, "{sv}", "context_id", g_variant_new_string (ctx->b58));
  g_variant_builder_add (b, "{sv}", "group_id", g_variant_new_string (ctx->group->hex));
  g_variant_builder_add (b, "{sv}", "application", g_variant_new_string (ctx->application));
  g_variant_builder_add (b, "{sv}", "root_hash", g_variant_new_string (root_b58));
  g_variant_builder_add (b, "{sv}", "heads", heads_variant (ctx));
  g_variant_builder_add (b, "{sv}", "n_deltas", g_variant_new_uint64 (count_deltas (self, ctx)));
  g_variant_builder_add (b, "{sv}", "n_pending",
                         g_variant_new_uint32 (ctx->ds != NULL
                                                   ? mero_delta_store_pending_count (ctx->ds)
                                                   : ctx->buffered->len));
  g_variant_builder_add (b, "{sv}", "can_write",
                         g_variant_new_boolean (ctx->ds != NULL
                                                && mero_group_state_can_write (
                                                    mero_group_dag_state (ctx->group->dag),
                                                    self->pk)));
}

static int
compare_ctx (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 ((*(Ctx *const *) a)->b58, (*(Ctx *const *) b)->b58);
}

GVariant *
mero_contexts_list (MeroContexts *self)
{
  GVariantBuilder list;
  g_autoptr (GPtrArray) all = g_ptr_array_new ();
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->contexts);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (all, value);

  g_ptr_array_sort (all, compare_ctx);
  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  for (guint i = 0; i < all->len; i++)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
      add_summary (self, g_ptr_array_index (all, i), &b);
      g_variant_builder_add_value (&list, g_variant_builder_end (&b));
    }
  return g_variant_builder_end (&list);
}

static GVariant *
members_variant (Group *group, gboolean with_roles)
{
  const MeroGroupState *state = mero_group_dag_state (group->dag);
  g_autoptr (GArray) members = mero_group_state_members (state);
  GVariantBuilder b;

  g_variant_builder_init (&b, with_roles ? G_VARIANT_TYPE ("a(ss)") : G_VARIANT_TYPE ("as"));
  for (guint i = 0; i < members->len; i++)
    {
      const guint8 *m = (const guint8 *) members->data + i * ID_LEN;
      g_autofree char *peer = mero_contexts_peer_of_key (m);

      if (with_roles)
        g_variant_builder_add (&b, "(ss)", peer,
                               mero_group_role_name (mero_group_state_member (state, m)->role));
      else
        g_variant_builder_add (&b, "s", peer);
    }
  return g_variant_builder_end (&b);
}

GVariant *
mero_contexts_info (MeroContexts *self, const char *context_id, GError **error)
{
  Ctx *ctx = mero_contexts_lookup_text (self, context_id, error);
  GVariantBuilder b;
  g_auto (GStrv) peers = NULL;
  static const char *const none[] = { NULL };

  if (ctx == NULL)
    return NULL;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
  add_summary (self, ctx, &b);
  g_variant_builder_add (&b, "{sv}", "members", members_variant (ctx->group, FALSE));
  if (mero_group_state_tee_policy (mero_group_dag_state (ctx->group->dag)) != NULL)
    g_variant_builder_add (&b, "{sv}", "tee_policy",
                           mero_contexts_tee_policy_variant (
                             mero_group_state_tee_policy (mero_group_dag_state (ctx->group->dag))));
  peers = self->transport->topic_peers (self->transport_data, ctx->b58);
  g_variant_builder_add (&b, "{sv}", "peers",
                         g_variant_new_strv (peers != NULL ? (const char *const *) peers : none,
                                             -1));
  if (self->info_extra != NULL)
    {
      GVariant *extra = self->info_extra (ctx->b58, self->info_extra_data);

      if (extra != NULL)
        g_variant_builder_add (&b, "{sv}", "sync", extra);
    }
  return g_variant_builder_end (&b);
}

GVariant *
mero_contexts_list_groups (MeroContexts *self)
{
  GVariantBuilder list;
  GHashTableIter iter;
  Group *group;

  g_variant_builder_init (&list, G_VARIANT_TYPE ("aa{sv}"));
  g_hash_table_iter_init (&iter, self->groups);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &group))
    {
      const MeroGroupState *state = mero_group_dag_state (group->dag);
      GVariantBuilder b, ctxs, heads;
      g_autoptr (GArray) h = mero_group_dag_heads (group->dag);
      g_autoptr (GArray) registered = mero_group_state_contexts (state);
      const guint8 *owner = mero_group_state_owner (state);
      g_autofree char *owner_peer = owner != NULL ? mero_contexts_peer_of_key (owner)
                                                  : g_strdup ("");
      guint8 key_id[ID_LEN], key[ID_LEN];
      g_autofree char *key_hex = NULL;

      /* "Every group this node belongs to": not one it is still joining
       * or was removed from. */
      if (mero_group_state_member (state, self->pk) == NULL)
        continue;
      g_variant_builder_init (&b, G_VARIANT_TYPE ("a{sv}"));
      g_variant_builder_add (&b, "{sv}", "group_id", g_variant_new_string (group->hex));
      g_variant_builder_add (&b, "{sv}", "owner", g_variant_new_string (owner_peer));
      g_variant_builder_add (&b, "{sv}", "members", members_variant (group, TRUE));
      g_variant_builder_init (&ctxs, G_VARIANT_TYPE ("as"));
      for (guint i = 0; i < registered->len; i++)
        {
          g_autofree char *c = mero_base58_encode ((const guint8 *) registered->data + i * 64,
                                                   ID_LEN);

          g_variant_builder_add (&ctxs, "s", c);
        }
      g_variant_builder_add (&b, "{sv}", "contexts", g_variant_builder_end (&ctxs));
      g_variant_builder_init (&heads, G_VARIANT_TYPE ("as"));
      for (guint i = 0; i < h->len; i++)
        {
          g_autofree char *x = g_malloc (2 * ID_LEN + 1);

          for (guint j = 0; j < ID_LEN; j++)
            g_snprintf (x + 2 * j, 3, "%02x", ((const guint8 *) h->data)[i * ID_LEN + j]);
          g_variant_builder_add (&heads, "s", x);
        }
      g_variant_builder_add (&b, "{sv}", "heads", g_variant_builder_end (&heads));
      g_variant_builder_add (&b, "{sv}", "n_ops",
                             g_variant_new_uint32 (mero_group_dag_n_ops (group->dag)));
      if (mero_group_dag_current_key (group->dag, key_id, key))
        {
          key_hex = g_malloc (2 * ID_LEN + 1);
          for (guint j = 0; j < ID_LEN; j++)
            g_snprintf (key_hex + 2 * j, 3, "%02x", key_id[j]);
          sodium_memzero (key, sizeof key);
        }
      g_variant_builder_add (&b, "{sv}", "key_id",
                             g_variant_new_string (key_hex != NULL ? key_hex : ""));
      g_variant_builder_add_value (&list, g_variant_builder_end (&b));
    }
  return g_variant_builder_end (&list);
}

