/* ctl-client.c: meroctl's node operations over D-Bus (the generated
 * proxy) or HTTP (admin API routes, JSON-RPC execute for call). */
#include "ctl-client.h"

#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mero-build-config.h"

/* Admin API answers are small; a larger one is not from a node. */
#define MAX_HTTP_REPLY_BYTES (4 * 1024 * 1024)

struct _CtlClient {
  MeroDBusNode1 *node;          /* D-Bus, or NULL */
  SoupSession *session;         /* HTTP, or NULL */
  char *url;
  char *token;
};

CtlClient *
ctl_client_new_dbus (MeroDBusNode1 *node)
{
  CtlClient *client = g_new0 (CtlClient, 1);

  client->node = g_object_ref (node);
  return client;
}

CtlClient *
ctl_client_new_http (const char *url, const char *token)
{
  CtlClient *client = g_new0 (CtlClient, 1);

  /* Joining waits for the inviter: the longest call sets the timeout. */
  client->session = soup_session_new_with_options ("timeout", CTL_JOIN_TIMEOUT_MS / 1000,
                                                   "user-agent", "meroctl/" MERO_VERSION, NULL);
  client->url = g_strdup (url);
  if (g_str_has_suffix (client->url, "/"))
    client->url[strlen (client->url) - 1] = '\0';
  client->token = g_strdup (token);
  return client;
}

void
ctl_client_free (CtlClient *client)
{
  if (client == NULL)
    return;
  g_clear_object (&client->node);
  g_clear_object (&client->session);
  g_free (client->url);
  g_free (client->token);
  g_free (client);
}

/* @method @path with @body (a JSON object, or NULL); (transfer full) the
 * JSON answer, or NULL with the node's error message. */
static JsonNode *
http_request (CtlClient *client, const char *method, const char *path, JsonNode *body,
              GError **error)
{
  g_autofree char *full = g_strconcat (client->url, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, full);
  g_autoptr (GBytes) reply = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonNode *root;
  guint status;

  if (msg == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, _("invalid URL “%s”"),
                   client->url);
      return NULL;
    }
  if (client->token != NULL && client->token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", client->token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  if (body != NULL)
    {
      g_autofree char *text = json_to_string (body, FALSE);
      gsize length = strlen (text);
      g_autoptr (GBytes) bytes = g_bytes_new_take (g_steal_pointer (&text), length);

      soup_message_set_request_body_from_bytes (msg, "application/json", bytes);
    }
  reply = soup_session_send_and_read (client->session, msg, NULL, error);
  if (reply == NULL)
    {
      g_prefix_error (error, _("no node answers at %s: "), client->url);
      return NULL;
    }
  status = soup_message_get_status (msg);
  if (status == SOUP_STATUS_UNAUTHORIZED)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("the node at %s refused the request: pass its token with --token or %s "
                     "(the token is in http.token in the node's home)"),
                   client->url, MERO_TOKEN_ENV);
      return NULL;
    }
  if (g_bytes_get_size (reply) > MAX_HTTP_REPLY_BYTES
      || !json_parser_load_from_data (parser, g_bytes_get_data (reply, NULL),
                                      g_bytes_get_size (reply), NULL)
      || (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("unexpected answer from %s (HTTP %u)"), full, status);
      return NULL;
    }
  if (!SOUP_STATUS_IS_SUCCESSFUL (status))
    {
      JsonObject *object = json_object_get_object_member (json_node_get_object (root), "error");
      const char *message = object != NULL
                                ? json_object_get_string_member_with_default (object, "message",
                                                                              NULL)
                                : NULL;

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                   message != NULL ? message : soup_status_get_phrase (status));
      return NULL;
    }
  return json_node_copy (root);
}

static JsonNode *
object_node (JsonObject *object)
{
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);

  json_node_take_object (node, object);
  return node;
}

static char *
escape (const char *segment)
{
  return g_uri_escape_string (segment, NULL, FALSE);
}

static GVariant *variant_of_json (JsonNode *node);

/* Arrays of strings are "as", of [peer, role] objects "a(ss)" (group
 * members), of objects "aa{sv}": the D-Bus shapes. */
static GVariant *
variant_of_array (JsonArray *array)
{
  GVariantBuilder builder;
  guint n = json_array_get_length (array);
  JsonNode *first = n > 0 ? json_array_get_element (array, 0) : NULL;

  if (first != NULL && JSON_NODE_HOLDS_OBJECT (first)
      && json_object_has_member (json_node_get_object (first), "role"))
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ss)"));
      for (guint i = 0; i < n; i++)
        {
          JsonObject *member = json_array_get_object_element (array, i);

          g_variant_builder_add (&builder, "(ss)",
                                 json_object_get_string_member_with_default (member, "peer_id",
                                                                             ""),
                                 json_object_get_string_member_with_default (member, "role",
                                                                             ""));
        }
      return g_variant_builder_end (&builder);
    }
  if (first != NULL && JSON_NODE_HOLDS_OBJECT (first))
    {
      g_variant_builder_init (&builder, G_VARIANT_TYPE ("aa{sv}"));
      for (guint i = 0; i < n; i++)
        g_variant_builder_add_value (&builder, variant_of_json (json_array_get_element (array, i)));
      return g_variant_builder_end (&builder);
    }
  g_variant_builder_init (&builder, G_VARIANT_TYPE_STRING_ARRAY);
  for (guint i = 0; i < n; i++)
    {
      const char *text = json_array_get_string_element (array, i);

      g_variant_builder_add (&builder, "s", text != NULL ? text : "");
    }
  return g_variant_builder_end (&builder);
}

static GVariant *
variant_of_json (JsonNode *node)
{
  if (JSON_NODE_HOLDS_OBJECT (node))
    {
      GVariantBuilder builder;
      JsonObjectIter iter;
      const char *name;
      JsonNode *member;

      g_variant_builder_init (&builder, G_VARIANT_TYPE_VARDICT);
      json_object_iter_init (&iter, json_node_get_object (node));
      while (json_object_iter_next (&iter, &name, &member))
        g_variant_builder_add (&builder, "{sv}", name, variant_of_json (member));
      return g_variant_builder_end (&builder);
    }
  if (JSON_NODE_HOLDS_ARRAY (node))
    return variant_of_array (json_node_get_array (node));
  if (JSON_NODE_HOLDS_NULL (node))
    return g_variant_new_string ("");
  switch (json_node_get_value_type (node))
    {
    case G_TYPE_BOOLEAN:
      return g_variant_new_boolean (json_node_get_boolean (node));
    case G_TYPE_INT64:
      return json_node_get_int (node) >= 0 ? g_variant_new_uint64 (json_node_get_int (node))
                                           : g_variant_new_int64 (json_node_get_int (node));
    case G_TYPE_DOUBLE:
      return g_variant_new_double (json_node_get_double (node));
    default:
      return g_variant_new_string (json_node_get_string (node));
    }
}

/* (transfer full) member @name of the answer as a D-Bus value. */
static GVariant *
http_member (CtlClient *client, const char *method, const char *path, JsonNode *body,
             const char *name, GError **error)
{
  g_autoptr (JsonNode) reply = http_request (client, method, path, body, error);
  JsonNode *member;

  if (reply == NULL)
    return NULL;
  member = name != NULL ? json_object_get_member (json_node_get_object (reply), name) : reply;
  if (member == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("the node's answer has no “%s”"),
                   name);
      return NULL;
    }
  return g_variant_ref_sink (variant_of_json (member));
}

static char *
http_string (CtlClient *client, const char *method, const char *path, JsonNode *body,
             const char *name, GError **error)
{
  g_autoptr (GVariant) value = http_member (client, method, path, body, name, error);

  return value != NULL && g_variant_is_of_type (value, G_VARIANT_TYPE_STRING)
             ? g_variant_dup_string (value, NULL)
             : NULL;
}

gboolean
ctl_client_create_context (CtlClient *client, const char *application, char **context_id,
                           char **group_id, GError **error)
{
  JsonObject *body;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) reply = NULL;

  if (client->node != NULL)
    return mero_dbus_node1_call_create_context_sync (client->node, application, context_id,
                                                     group_id, NULL, error);
  body = json_object_new ();
  json_object_set_string_member (body, "application", application);
  node = object_node (body);
  reply = http_request (client, "POST", "/admin-api/contexts", node, error);
  if (reply == NULL)
    return FALSE;
  *context_id = g_strdup (json_object_get_string_member_with_default (
      json_node_get_object (reply), "context_id", ""));
  *group_id = g_strdup (json_object_get_string_member_with_default (json_node_get_object (reply),
                                                                    "group_id", ""));
  return TRUE;
}

GVariant *
ctl_client_list_contexts (CtlClient *client, GError **error)
{
  GVariant *contexts = NULL;
  g_autoptr (GVariant) value = NULL;

  if (client->node != NULL)
    return mero_dbus_node1_call_list_contexts_sync (client->node, &contexts, NULL, error)
               ? contexts
               : NULL;
  value = http_member (client, "GET", "/admin-api/contexts", NULL, "contexts", error);
  if (value == NULL)
    return NULL;
  /* An empty JSON array carries no element type. */
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("aa{sv}")))
    return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
  return g_steal_pointer (&value);
}

GVariant *
ctl_client_context_info (CtlClient *client, const char *context_id, GError **error)
{
  GVariant *info = NULL;
  g_autofree char *id = NULL, *path = NULL;

  if (client->node != NULL)
    return mero_dbus_node1_call_get_context_info_sync (client->node, context_id, &info, NULL,
                                                       error)
               ? info
               : NULL;
  id = escape (context_id);
  path = g_strdup_printf ("/admin-api/contexts/%s", id);
  return http_member (client, "GET", path, NULL, NULL, error);
}

char *
ctl_client_invite (CtlClient *client, const char *context_id, const char *invitee,
                   guint expiry_secs, GError **error)
{
  char *invitation = NULL;
  g_autofree char *id = NULL, *path = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *body;

  if (client->node != NULL)
    return mero_dbus_node1_call_invite_to_context_sync (client->node, context_id, invitee,
                                                        expiry_secs, &invitation, NULL, error)
               ? invitation
               : NULL;
  id = escape (context_id);
  path = g_strdup_printf ("/admin-api/contexts/%s/invite", id);
  body = json_object_new ();
  json_object_set_string_member (body, "invitee", invitee);
  json_object_set_int_member (body, "expiry_secs", expiry_secs);
  node = object_node (body);
  return http_string (client, "POST", path, node, "invitation", error);
}

char *
ctl_client_join (CtlClient *client, const char *invitation, GError **error)
{
  char *context_id = NULL;
  g_autoptr (JsonNode) node = NULL;
  JsonObject *body;

  if (client->node != NULL)
    {
      /* Joining dials the inviter and waits for the join to be accepted. */
      g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (client->node), CTL_JOIN_TIMEOUT_MS);
      return mero_dbus_node1_call_join_context_sync (client->node, invitation, &context_id, NULL,
                                                     error)
                 ? context_id
                 : NULL;
    }
  body = json_object_new ();
  json_object_set_string_member (body, "invitation", invitation);
  node = object_node (body);
  return http_string (client, "POST", "/admin-api/contexts/join", node, "context_id", error);
}

static gboolean
http_context_action (CtlClient *client, const char *method, const char *context_id,
                     const char *suffix, GError **error)
{
  g_autofree char *id = escape (context_id);
  g_autofree char *path = g_strdup_printf ("/admin-api/contexts/%s%s", id, suffix);
  g_autoptr (JsonNode) reply = http_request (client, method, path, NULL, error);

  return reply != NULL;
}

gboolean
ctl_client_leave (CtlClient *client, const char *context_id, GError **error)
{
  if (client->node != NULL)
    return mero_dbus_node1_call_leave_context_sync (client->node, context_id, NULL, error);
  return http_context_action (client, "POST", context_id, "/leave", error);
}

gboolean
ctl_client_delete (CtlClient *client, const char *context_id, GError **error)
{
  if (client->node != NULL)
    return mero_dbus_node1_call_delete_context_sync (client->node, context_id, NULL, error);
  return http_context_action (client, "DELETE", context_id, "", error);
}

gboolean
ctl_client_sync (CtlClient *client, const char *context_id, GError **error)
{
  if (client->node != NULL)
    return mero_dbus_node1_call_sync_context_sync (client->node, context_id, NULL, error);
  return http_context_action (client, "POST", context_id, "/sync", error);
}

gboolean
ctl_client_resync (CtlClient *client, const char *context_id, GError **error)
{
  if (client->node != NULL)
    return mero_dbus_node1_call_resync_context_sync (client->node, context_id, NULL, error);
  return http_context_action (client, "POST", context_id, "/resync", error);
}

/* Over HTTP a member is removed from the context's group. */
gboolean
ctl_client_remove_member (CtlClient *client, const char *context_id, const char *member,
                          GError **error)
{
  g_autoptr (GVariant) info = NULL;
  g_autofree char *peer = NULL, *path = NULL;
  g_autoptr (JsonNode) reply = NULL;
  const char *group_id = NULL;

  if (client->node != NULL)
    return mero_dbus_node1_call_remove_member_sync (client->node, context_id, member, NULL,
                                                    error);
  info = ctl_client_context_info (client, context_id, error);
  if (info == NULL)
    return FALSE;
  if (!g_variant_lookup (info, "group_id", "&s", &group_id))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("the node's answer has no “%s”"),
                   "group_id");
      return FALSE;
    }
  peer = escape (member);
  path = g_strdup_printf ("/admin-api/groups/%s/members/%s", group_id, peer);
  reply = http_request (client, "DELETE", path, NULL, error);
  return reply != NULL;
}

/* Over HTTP: JSON-RPC execute, whose error message is the node's. */
char *
ctl_client_call (CtlClient *client, const char *context_id, const char *method,
                 const char *args, GError **error)
{
  char *result = NULL;
  g_autoptr (JsonNode) node = NULL;
  g_autoptr (JsonNode) reply = NULL;
  JsonObject *request, *params, *answer;

  if (client->node != NULL)
    return mero_dbus_node1_call_call_sync (client->node, context_id, method, args, &result, NULL,
                                           error)
               ? result
               : NULL;
  params = json_object_new ();
  json_object_set_string_member (params, "contextId", context_id);
  json_object_set_string_member (params, "method", method);
  json_object_set_string_member (params, "argsJson", args);
  request = json_object_new ();
  json_object_set_string_member (request, "jsonrpc", "2.0");
  json_object_set_int_member (request, "id", 1);
  json_object_set_string_member (request, "method", "execute");
  json_object_set_object_member (request, "params", params);
  node = object_node (request);
  reply = http_request (client, "POST", "/jsonrpc", node, error);
  if (reply == NULL)
    return NULL;
  answer = json_node_get_object (reply);
  if (json_object_has_member (answer, "error"))
    {
      JsonObject *failure = json_object_get_object_member (answer, "error");

      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                   failure != NULL ? json_object_get_string_member_with_default (
                                         failure, "message", _("the call failed"))
                                   : _("the call failed"));
      return NULL;
    }
  if (!json_object_has_member (answer, "result"))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("the node's answer has no “%s”"),
                   "result");
      return NULL;
    }
  return json_to_string (json_object_get_member (answer, "result"), FALSE);
}

GVariant *
ctl_client_list_groups (CtlClient *client, GError **error)
{
  GVariant *groups = NULL;
  g_autoptr (GVariant) value = NULL;

  if (client->node != NULL)
    return mero_dbus_node1_call_list_groups_sync (client->node, &groups, NULL, error) ? groups
                                                                                       : NULL;
  value = http_member (client, "GET", "/admin-api/groups", NULL, "groups", error);
  if (value == NULL)
    return NULL;
  if (!g_variant_is_of_type (value, G_VARIANT_TYPE ("aa{sv}")))
    return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE_VARDICT, NULL, 0));
  return g_steal_pointer (&value);
}
