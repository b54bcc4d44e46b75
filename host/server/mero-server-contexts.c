/* mero-server-contexts.c: the contexts and groups routes of the admin API.
 *
 * Each handler calls the node's own operation (host/node/mero-contexts.h),
 * the one D-Bus calls, and answers its result as JSON; a failure is a JSON
 * error whose code and status come from mero_server_reply_contexts_error,
 * so HTTP and D-Bus refuse the same things.  The routes and bodies are in
 * README.md ("HTTP routes"). */
#define G_LOG_DOMAIN "merod"
#include "server/mero-server-private.h"

/* The contexts exist from before the server starts until after it stops;
 * a server built without them (tests of the server alone) says so. */
static gboolean
have_contexts (MeroServer *server, SoupServerMessage *msg)
{
  if (server->contexts != NULL)
    return TRUE;
  mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not-ready",
                           "the node's contexts are not open");
  return FALSE;
}

/* Replies @variant (taken if floating) as JSON: a{sv} becomes an object,
 * arrays arrays. */
static void
reply_variant (SoupServerMessage *msg, guint status, GVariant *variant)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (variant);
  g_autoptr (JsonNode) node = json_gvariant_serialize (owned);

  mero_server_reply_json (msg, status, node);
}

/* Replies {@name: @variant}. */
static void
reply_wrapped (SoupServerMessage *msg, guint status, const char *name, GVariant *variant)
{
  g_autoptr (GVariant) owned = g_variant_ref_sink (variant);
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);

  json_object_set_member (object, name, json_gvariant_serialize (owned));
  json_node_set_object (root, object);
  mero_server_reply_json (msg, status, root);
}

static void
reply_object (SoupServerMessage *msg, guint status, const char *name, const char *value)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  if (name != NULL)
    {
      json_builder_set_member_name (builder, name);
      json_builder_add_string_value (builder, value);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, status, root);
}

/* A string member of a request body; NULL after replying 400 when it is
 * missing (and @required) or not a string. */
static gboolean
body_string (SoupServerMessage *msg, JsonObject *body, const char *name, gboolean required,
             const char **value)
{
  JsonNode *node = json_object_get_member (body, name);

  *value = NULL;
  if (node == NULL && !required)
    return TRUE;
  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node)
      || json_node_get_value_type (node) != G_TYPE_STRING)
    {
      g_autofree char *message = g_strdup_printf ("“%s” must be %s string", name,
                                                  required ? "a" : "absent or a");

      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-argument", message);
      return FALSE;
    }
  *value = json_node_get_string (node);
  return TRUE;
}

void
mero_server_handle_contexts_list (MeroServer *server, SoupServerMessage *msg,
                                  const char *const *args)
{
  if (have_contexts (server, msg))
    reply_wrapped (msg, SOUP_STATUS_OK, "contexts", mero_contexts_list (server->contexts));
}

/* {"application": "kv"} → 201 {"context_id", "group_id"} */
void
mero_server_handle_contexts_create (MeroServer *server, SoupServerMessage *msg,
                                    const char *const *args)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (JsonBuilder) builder = NULL;
  g_autoptr (JsonNode) root = NULL;
  g_autofree char *context_id = NULL, *group_id = NULL;
  JsonObject *body;
  const char *application;
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  body = mero_server_read_json_object (msg, parser);
  if (body == NULL || !body_string (msg, body, "application", TRUE, &application))
    return;
  if (!mero_contexts_create (server->contexts, application, &context_id, &group_id, &error))
    {
      mero_server_reply_contexts_error (msg, error);
      return;
    }
  builder = json_builder_new ();
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "context_id");
  json_builder_add_string_value (builder, context_id);
  json_builder_set_member_name (builder, "group_id");
  json_builder_add_string_value (builder, group_id);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_CREATED, root);
}

typedef struct {
  SoupServerMessage *msg;
  GCancellable *alive;          /* cancelled when the server goes */
} Join;

static void
on_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Join *join = user_data;
  GError *error = NULL;
  g_autofree char *context_id = mero_contexts_join_finish (NULL, result, &error);

  if (g_cancellable_is_cancelled (join->alive))
    {
      /* The server stopped meanwhile: its connections are gone. */
      g_clear_error (&error);
    }
  else
    {
      if (context_id == NULL)
        mero_server_reply_contexts_error (join->msg, error);
      else
        reply_object (join->msg, SOUP_STATUS_OK, "context_id", context_id);
      soup_server_message_unpause (join->msg);
    }
  g_object_unref (join->msg);
  g_object_unref (join->alive);
  g_free (join);
}

/* {"invitation": "mero-invite1:…"} → {"context_id"} once the join is
 * accepted locally (the request waits for the inviter, as D-Bus does). */
void
mero_server_handle_contexts_join (MeroServer *server, SoupServerMessage *msg,
                                  const char *const *args)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *body;
  const char *invitation;
  Join *join;

  if (!have_contexts (server, msg))
    return;
  body = mero_server_read_json_object (msg, parser);
  if (body == NULL || !body_string (msg, body, "invitation", TRUE, &invitation))
    return;
  join = g_new0 (Join, 1);
  join->msg = g_object_ref (msg);
  join->alive = g_object_ref (server->alive);
  soup_server_message_pause (msg);
  mero_contexts_join_async (server->contexts, invitation, on_joined, join);
}

void
mero_server_handle_context_get (MeroServer *server, SoupServerMessage *msg,
                                const char *const *args)
{
  GError *error = NULL;
  GVariant *info;

  if (!have_contexts (server, msg))
    return;
  info = mero_contexts_info (server->contexts, args[0], &error);
  if (info == NULL)
    mero_server_reply_contexts_error (msg, error);
  else
    reply_variant (msg, SOUP_STATUS_OK, info);
}

/* Leaves the context and drops its local state (mero_contexts_delete). */
void
mero_server_handle_context_delete (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args)
{
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  if (!mero_contexts_delete (server->contexts, args[0], &error))
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_OK, "context_id", args[0]);
}

/* {"invitee"?: PeerId ("" or absent: anyone), "expiry_secs"?: n (0 or
 * absent: one day)} → {"invitation"} */
void
mero_server_handle_context_invite (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autofree char *invitation = NULL;
  JsonObject *body;
  JsonNode *expiry;
  const char *invitee;
  gint64 expiry_secs = 0;
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  body = mero_server_read_json_object (msg, parser);
  if (body == NULL || !body_string (msg, body, "invitee", FALSE, &invitee))
    return;
  expiry = json_object_get_member (body, "expiry_secs");
  if (expiry != NULL)
    {
      if (!JSON_NODE_HOLDS_VALUE (expiry) || json_node_get_value_type (expiry) != G_TYPE_INT64
          || json_node_get_int (expiry) < 0 || json_node_get_int (expiry) > G_MAXUINT32)
        {
          mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-argument",
                                   "“expiry_secs” must be a number of seconds");
          return;
        }
      expiry_secs = json_node_get_int (expiry);
    }
  invitation = mero_contexts_invite (server->contexts, args[0], invitee != NULL ? invitee : "",
                                     (guint) expiry_secs, &error);
  if (invitation == NULL)
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_OK, "invitation", invitation);
}

void
mero_server_handle_context_leave (MeroServer *server, SoupServerMessage *msg,
                                  const char *const *args)
{
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  if (!mero_contexts_leave (server->contexts, args[0], &error))
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_OK, "context_id", args[0]);
}

/* Asks the connected members for what this node misses; 202: the sync
 * runs in the background (state-changed events follow). */
void
mero_server_handle_context_sync (MeroServer *server, SoupServerMessage *msg,
                                 const char *const *args)
{
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  if (!mero_contexts_sync (server->contexts, args[0], &error))
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_ACCEPTED, "context_id", args[0]);
}

/* Replaces the context's state by a connected member's (a snapshot sync
 * with the resync flag); 202, as for a sync. */
void
mero_server_handle_context_resync (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args)
{
  GError *error = NULL;

  if (!have_contexts (server, msg))
    return;
  if (!mero_contexts_resync (server->contexts, args[0], &error))
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_ACCEPTED, "context_id", args[0]);
}

void
mero_server_handle_context_members (MeroServer *server, SoupServerMessage *msg,
                                    const char *const *args)
{
  GError *error = NULL;
  g_autoptr (GVariant) info = NULL;
  GVariant *members;

  if (!have_contexts (server, msg))
    return;
  info = mero_contexts_info (server->contexts, args[0], &error);
  if (info == NULL)
    {
      mero_server_reply_contexts_error (msg, error);
      return;
    }
  g_variant_ref_sink (info);
  members = g_variant_lookup_value (info, "members", G_VARIANT_TYPE_STRING_ARRAY);
  reply_wrapped (msg, SOUP_STATUS_OK, "members", members);
}

/* A group of ListGroups with "members" as [{"peer_id","role"}]. */
static JsonNode *
group_json (GVariant *group)
{
  g_autoptr (GVariant) members = g_variant_lookup_value (group, "members",
                                                         G_VARIANT_TYPE ("a(ss)"));
  JsonNode *node = json_gvariant_serialize (group);
  JsonObject *object = json_node_get_object (node);
  JsonArray *array = json_array_new ();
  GVariantIter iter;
  const char *peer, *role;

  g_variant_iter_init (&iter, members);
  while (g_variant_iter_next (&iter, "(&s&s)", &peer, &role))
    {
      JsonObject *member = json_object_new ();

      json_object_set_string_member (member, "peer_id", peer);
      json_object_set_string_member (member, "role", role);
      json_array_add_object_element (array, member);
    }
  json_object_set_array_member (object, "members", array);
  return node;
}

/* (transfer full) the group @group_id of @groups, NULL if none. */
static GVariant *
find_group (GVariant *groups, const char *group_id)
{
  GVariantIter iter;
  GVariant *group;

  g_variant_iter_init (&iter, groups);
  while ((group = g_variant_iter_next_value (&iter)) != NULL)
    {
      const char *id = NULL;

      if (g_variant_lookup (group, "group_id", "&s", &id) && g_strcmp0 (id, group_id) == 0)
        return group;
      g_variant_unref (group);
    }
  return NULL;
}

void
mero_server_handle_groups_list (MeroServer *server, SoupServerMessage *msg,
                                const char *const *args)
{
  g_autoptr (GVariant) groups = NULL;
  g_autoptr (JsonArray) array = json_array_new ();
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);
  GVariantIter iter;
  GVariant *group;

  if (!have_contexts (server, msg))
    return;
  groups = g_variant_ref_sink (mero_contexts_list_groups (server->contexts));
  g_variant_iter_init (&iter, groups);
  while ((group = g_variant_iter_next_value (&iter)) != NULL)
    {
      json_array_add_element (array, group_json (group));
      g_variant_unref (group);
    }
  json_object_set_array_member (object, "groups", json_array_ref (array));
  json_node_set_object (root, object);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

/* (transfer full) the group of args[0], NULL after replying 404. */
static GVariant *
lookup_group (MeroServer *server, SoupServerMessage *msg, const char *group_id)
{
  g_autoptr (GVariant) groups = NULL;
  GVariant *group;

  if (!have_contexts (server, msg))
    return NULL;
  groups = g_variant_ref_sink (mero_contexts_list_groups (server->contexts));
  group = find_group (groups, group_id);
  if (group == NULL)
    mero_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "unknown-group",
                             "this node is not in that group");
  return group;
}

void
mero_server_handle_group_get (MeroServer *server, SoupServerMessage *msg,
                              const char *const *args)
{
  g_autoptr (GVariant) group = lookup_group (server, msg, args[0]);
  g_autoptr (JsonNode) root = NULL;

  if (group == NULL)
    return;
  root = group_json (group);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

void
mero_server_handle_group_members (MeroServer *server, SoupServerMessage *msg,
                                  const char *const *args)
{
  g_autoptr (GVariant) group = lookup_group (server, msg, args[0]);
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonObject) object = json_object_new ();
  g_autoptr (JsonNode) root = json_node_new (JSON_NODE_OBJECT);

  if (group == NULL)
    return;
  node = group_json (group);
  json_object_set_array_member (
      object, "members",
      json_array_ref (json_object_get_array_member (json_node_get_object (node), "members")));
  json_node_set_object (root, object);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

/* Removes a member from the group through one of the group's contexts
 * (RemoveMember works on the context's group and rotates its key). */
void
mero_server_handle_group_remove_member (MeroServer *server, SoupServerMessage *msg,
                                        const char *const *args)
{
  g_autoptr (GVariant) group = lookup_group (server, msg, args[0]);
  g_autofree const char **contexts = NULL;
  GError *error = NULL;

  if (group == NULL)
    return;
  if (!g_variant_lookup (group, "contexts", "^a&s", &contexts) || contexts[0] == NULL)
    {
      mero_server_reply_error (msg, SOUP_STATUS_CONFLICT, "no-context",
                               "this node holds no context of the group to act through");
      return;
    }
  if (!mero_contexts_remove_member (server->contexts, contexts[0], args[1], &error))
    mero_server_reply_contexts_error (msg, error);
  else
    reply_object (msg, SOUP_STATUS_OK, "peer_id", args[1]);
}
