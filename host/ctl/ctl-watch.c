/* ctl-watch.c: meroctl watch: one line per StateChanged signal, until
 * SIGINT/SIGTERM, --count signals, or the node leaving the bus. */
#include "ctl-commands.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <libsoup/soup.h>
#include <stdio.h>

typedef struct {
  const CtlOptions *options;
  GMainLoop *loop;
  gint64 seen;
  int status;
} Watch;

static void
print_state_changed (const Watch *watch, const char *context_id, const char *root_hash,
                     const char *const *heads)
{
  gint64 now_us = g_get_real_time ();

  if (watch->options->json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "time_us");
      json_builder_add_int_value (builder, now_us);
      json_builder_set_member_name (builder, "context_id");
      json_builder_add_string_value (builder, context_id);
      json_builder_set_member_name (builder, "root_hash");
      json_builder_add_string_value (builder, root_hash);
      json_builder_set_member_name (builder, "heads");
      json_builder_begin_array (builder);
      for (gsize i = 0; heads != NULL && heads[i] != NULL; i++)
        json_builder_add_string_value (builder, heads[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      ctl_print_json_node (root);
    }
  else
    {
      g_autoptr (GDateTime) time = g_date_time_new_from_unix_local (now_us / G_USEC_PER_SEC);
      g_autofree char *clock = g_date_time_format (time, "%H:%M:%S");
      g_autofree char *joined = g_strjoinv (",", (char **) heads);

      g_print ("%s.%03d %s %s %s %s\n", clock, (int) (now_us % G_USEC_PER_SEC / 1000), context_id,
               root_hash[0] != '\0' ? root_hash : "-", _("heads"), joined);
    }
  /* A pipe reader (a script, a test) sees every line as it happens. */
  fflush (stdout);
}

static void
on_state_changed (MeroDBusNode1 *node, const char *context_id, const char *root_hash,
                  const char *const *heads, gpointer user_data)
{
  Watch *watch = user_data;

  if (watch->options->watch_context != NULL
      && !g_str_equal (watch->options->watch_context, context_id))
    return;
  print_state_changed (watch, context_id, root_hash, heads);
  watch->seen++;
  if (watch->options->count > 0 && watch->seen >= watch->options->count)
    g_main_loop_quit (watch->loop);
}

static void
on_owner_changed (GObject *proxy, GParamSpec *pspec, gpointer user_data)
{
  Watch *watch = user_data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (proxy));

  if (owner != NULL)
    return;
  g_printerr (_("meroctl: the node left the bus\n"));
  watch->status = CTL_EXIT_FAILED;
  g_main_loop_quit (watch->loop);
}

static gboolean
on_signal (gpointer user_data)
{
  Watch *watch = user_data;

  g_main_loop_quit (watch->loop);
  return G_SOURCE_CONTINUE;
}

/* Over --url: the node's event stream (GET /admin-api/events), read
 * line by line until --count changes or the stream ends. */
static int
watch_http (const char *url, const char *token, const CtlOptions *options)
{
  g_autoptr (SoupSession) session = soup_session_new ();
  g_autofree char *full = g_strconcat (url, g_str_has_suffix (url, "/") ? "" : "/",
                                       "admin-api/events", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", full);
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GDataInputStream) lines = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *event = NULL;
  Watch watch = { options, NULL, 0, CTL_EXIT_OK };

  if (msg == NULL)
    {
      g_printerr (_("meroctl: invalid URL “%s”\n"), url);
      return CTL_EXIT_USAGE;
    }
  if (token != NULL && token[0] != '\0')
    {
      g_autofree char *value = g_strdup_printf ("Bearer %s", token);

      soup_message_headers_replace (soup_message_get_request_headers (msg), "Authorization",
                                    value);
    }
  stream = soup_session_send (session, msg, NULL, &error);
  if (stream == NULL || soup_message_get_status (msg) != SOUP_STATUS_OK)
    {
      g_printerr (_("meroctl: cannot watch the node at %s: %s\n"), url,
                  error != NULL ? error->message : soup_message_get_reason_phrase (msg));
      return CTL_EXIT_FAILED;
    }
  g_printerr (_("meroctl: watching %s (Ctrl-C to stop)\n"), url);
  lines = g_data_input_stream_new (stream);
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);

      if (line == NULL)
        break;
      if (g_str_has_prefix (line, "event: "))
        {
          g_free (event);
          event = g_strdup (line + 7);
        }
      else if (g_str_has_prefix (line, "data: ") && g_strcmp0 (event, "state-changed") == 0)
        {
          g_autoptr (JsonParser) parser = json_parser_new ();
          JsonObject *data;
          JsonArray *array;
          g_autoptr (GPtrArray) heads = g_ptr_array_new ();
          const char *context_id;

          if (!json_parser_load_from_data (parser, line + 6, -1, NULL)
              || !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
            continue;
          data = json_node_get_object (json_parser_get_root (parser));
          context_id = json_object_get_string_member_with_default (data, "context_id", "");
          if (options->watch_context != NULL && g_strcmp0 (options->watch_context, context_id))
            continue;
          array = json_object_get_array_member (data, "heads");
          for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
            g_ptr_array_add (heads, (gpointer) json_array_get_string_element (array, i));
          g_ptr_array_add (heads, NULL);
          print_state_changed (&watch, context_id,
                               json_object_get_string_member_with_default (data, "root_hash", ""),
                               (const char *const *) heads->pdata);
          if (options->count > 0 && ++watch.seen >= options->count)
            return CTL_EXIT_OK;
        }
      else if (g_strcmp0 (event, "shutdown") == 0)
        break;
    }
  g_printerr (_("meroctl: the node closed the event stream\n"));
  return CTL_EXIT_FAILED;
}

int
ctl_watch (MeroDBusNode1 *node, CtlClient *client, const char *url, const char *token,
           const CtlOptions *options)
{
  g_autoptr (GMainLoop) loop = NULL;
  Watch watch = { options, NULL, 0, CTL_EXIT_OK };
  guint sigint, sigterm;
  gulong changed, owner;

  if (options->count < 0)
    return ctl_usage_error (_("--count must not be negative"));
  /* Watching a context the node does not have would wait for ever. */
  if (options->watch_context != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GVariant) info = ctl_client_context_info (client, options->watch_context,
                                                           &error);

      if (info == NULL)
        return ctl_print_error (error);
    }
  if (node == NULL)
    return watch_http (url, token, options);
  loop = g_main_loop_new (NULL, FALSE);
  watch.loop = loop;
  sigint = g_unix_signal_add (SIGINT, on_signal, &watch);
  sigterm = g_unix_signal_add (SIGTERM, on_signal, &watch);
  changed = g_signal_connect (node, "state-changed", G_CALLBACK (on_state_changed), &watch);
  owner = g_signal_connect (node, "notify::g-name-owner", G_CALLBACK (on_owner_changed), &watch);
  /* The proxy's match rule reached the bus before its properties were
   * read, so from here on no signal is missed: say so, for scripts that
   * wait before they write. */
  g_printerr (_("meroctl: watching %s (Ctrl-C to stop)\n"),
              g_dbus_proxy_get_name (G_DBUS_PROXY (node)));
  g_main_loop_run (loop);
  g_signal_handler_disconnect (node, changed);
  g_signal_handler_disconnect (node, owner);
  g_source_remove (sigint);
  g_source_remove (sigterm);
  return watch.status;
}
