/* mero-server-admin.c: the read-only admin endpoints and /metrics. */
#define G_LOG_DOMAIN "merod"
#include <string.h>

#include "metrics/mero-metrics.h"
#include "server/mero-server-private.h"

void
mero_server_handle_health (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "status");
  json_builder_add_string_value (builder, "ok");
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

JsonNode *
mero_server_node_info (MeroServer *server)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  gint64 uptime_us = MAX (g_get_monotonic_time () - server->started_us, 0);
  const char *const *urls = mero_server_get_urls (server);

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "peer_id");
  json_builder_add_string_value (builder, server->peer_id);
  json_builder_set_member_name (builder, "version");
  json_builder_add_string_value (builder, server->version);
  json_builder_set_member_name (builder, "home");
  json_builder_add_string_value (builder, server->home);
  json_builder_set_member_name (builder, "uptime_secs");
  json_builder_add_int_value (builder, uptime_us / G_USEC_PER_SEC);
  json_builder_set_member_name (builder, "http_addresses");
  json_builder_begin_array (builder);
  for (gsize i = 0; urls[i] != NULL; i++)
    json_builder_add_string_value (builder, urls[i]);
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  return json_builder_get_root (builder);
}

void
mero_server_handle_node (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonNode) root = mero_server_node_info (server);

  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

static void
add_nullable_string (JsonBuilder *builder, const char *name, const char *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

void
mero_server_handle_plugins (MeroServer *server, SoupServerMessage *msg)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) root = NULL;
  g_autoptr (GPtrArray) plugins = NULL;

  if (server->registry != NULL)
    plugins = mero_plugin_registry_list (server->registry);
  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "plugins");
  json_builder_begin_array (builder);
  for (guint i = 0; plugins != NULL && i < plugins->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (plugins, i);

      json_builder_begin_object (builder);
      add_nullable_string (builder, "name", info->name);
      add_nullable_string (builder, "kind", mero_plugin_kind_to_string (info->kind));
      add_nullable_string (builder, "version", info->version);
      add_nullable_string (builder, "description", info->description);
      add_nullable_string (builder, "file", info->module_file);
      add_nullable_string (builder, "status", mero_plugin_status_to_string (info->status));
      json_builder_set_member_name (builder, "error");
      if (info->error_code != 0 || info->error_message != NULL)
        {
          json_builder_begin_object (builder);
          add_nullable_string (builder, "code",
                               mero_plugin_error_code_to_string (info->error_code));
          add_nullable_string (builder, "message", info->error_message);
          json_builder_end_object (builder);
        }
      else
        {
          json_builder_add_null_value (builder);
        }
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  mero_server_reply_json (msg, SOUP_STATUS_OK, root);
}

void
mero_server_handle_metrics (MeroServer *server, SoupServerMessage *msg)
{
  char *text = mero_metrics_render (NULL);

  soup_server_message_set_status (msg, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (msg, "text/plain; version=0.0.4; charset=utf-8",
                                    SOUP_MEMORY_TAKE, text, strlen (text));
}
