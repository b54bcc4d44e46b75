/* test-dashboard.c: the admin dashboard in a real headless Chromium,
 * driven over the DevTools protocol (a libsoup WebSocket client): merod
 * serves the page, the page shows the node and its context, a `set` is
 * made by filling the page's call form and clicking its Set button (the
 * page's own code sends it over /ws), the value is read back through
 * D-Bus, and the page lists the resulting state change as a live event.
 * A screenshot goes to $MERO_TEST_ARTIFACT_DIR/admin-dashboard.png (CI
 * keeps meson-logs/).  Skips when no Chromium is installed. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <string.h>

#include "mero-test-cluster.h"

#define CHROMIUM_START_MS 20000

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a;
  SoupSession *session;
  GSubprocess *chromium;
  char *profile;
  SoupWebsocketConnection *cdp;
  GHashTable *replies;          /* id → JsonNode* (the "result" or "error" object) */
  guint next_id;
  gboolean connected;
  GError *error;
} Fixture;

static const char *
find_chromium (void)
{
  static const char *const names[] = { "chromium", "chromium-browser", "google-chrome", NULL };

  for (guint i = 0; names[i] != NULL; i++)
    {
      g_autofree char *path = g_find_program_in_path (names[i]);

      if (path != NULL)
        return names[i];
    }
  return NULL;
}

static char *
http_url (MeroTestNode *node)
{
  g_autofree char *file = g_build_filename (node->home, "http.address", NULL);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  g_assert_true (g_file_get_contents (file, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", 2);
  return g_strdup (lines[0]);
}

static void
on_cdp_message (SoupWebsocketConnection *connection, gint type, GBytes *message,
                gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();
  JsonObject *object;

  if (!json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                                   g_bytes_get_size (message), NULL))
    return;
  object = json_node_get_object (json_parser_get_root (parser));
  if (!json_object_has_member (object, "id"))
    return;                     /* an event */
  g_hash_table_insert (f->replies, GINT_TO_POINTER (json_object_get_int_member (object, "id")),
                       json_node_copy (json_parser_get_root (parser)));
}

static void
on_cdp_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->cdp = soup_session_websocket_connect_finish (SOUP_SESSION (source), result, &f->error);
  if (f->cdp != NULL)
    {
      soup_websocket_connection_set_max_incoming_payload_size (f->cdp, 64 * 1024 * 1024);
      g_signal_connect (f->cdp, "message", G_CALLBACK (on_cdp_message), f);
    }
  f->connected = TRUE;
}

static gboolean
cdp_connected (gpointer data)
{
  return ((Fixture *) data)->connected;
}

typedef struct {
  Fixture *f;
  guint id;
} ReplyWait;

static gboolean
has_reply (gpointer data)
{
  ReplyWait *wait = data;

  return g_hash_table_contains (wait->f->replies, GUINT_TO_POINTER (wait->id));
}

/* (transfer full) the "result" of DevTools @method with @params (JSON). */
static JsonNode *
cdp_call (Fixture *f, const char *method, const char *params)
{
  guint id = ++f->next_id;
  g_autofree char *text = g_strdup_printf ("{\"id\":%u,\"method\":\"%s\",\"params\":%s}", id,
                                           method, params != NULL ? params : "{}");
  ReplyWait wait = { f, id };
  JsonNode *reply;
  JsonObject *object;
  JsonNode *result;

  soup_websocket_connection_send_text (f->cdp, text);
  g_assert_true (mero_test_wait_until (has_reply, &wait, MERO_TEST_TIMEOUT_MS));
  g_hash_table_steal_extended (f->replies, GUINT_TO_POINTER (id), NULL, (gpointer *) &reply);
  object = json_node_get_object (reply);
  if (json_object_has_member (object, "error"))
    g_error ("DevTools %s failed: %s", method, json_to_string (reply, FALSE));
  result = json_node_copy (json_object_get_member (object, "result"));
  json_node_unref (reply);
  return result;
}

/* (transfer full) the value of @expression in the page, as JSON text. */
static char *
page_eval (Fixture *f, const char *expression)
{
  g_autoptr (JsonBuilder) builder = json_builder_new ();
  g_autoptr (JsonNode) params = NULL;
  g_autofree char *params_text = NULL;
  g_autoptr (JsonNode) result = NULL;
  JsonObject *remote;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "expression");
  json_builder_add_string_value (builder, expression);
  json_builder_set_member_name (builder, "returnByValue");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_set_member_name (builder, "awaitPromise");
  json_builder_add_boolean_value (builder, TRUE);
  json_builder_end_object (builder);
  params = json_builder_get_root (builder);
  params_text = json_to_string (params, FALSE);
  result = cdp_call (f, "Runtime.evaluate", params_text);
  remote = json_object_get_object_member (json_node_get_object (result), "result");
  if (!json_object_has_member (remote, "value"))
    return g_strdup ("null");
  return json_to_string (json_object_get_member (remote, "value"), FALSE);
}

typedef struct {
  Fixture *f;
  const char *expression;
  const char *expected;
} EvalWait;

static gboolean
page_has (gpointer data)
{
  EvalWait *wait = data;
  g_autofree char *value = page_eval (wait->f, wait->expression);

  return g_strcmp0 (value, wait->expected) == 0;
}

static void
wait_page (Fixture *f, const char *expression, const char *expected)
{
  EvalWait wait = { f, expression, expected };

  if (!mero_test_wait_until (page_has, &wait, MERO_TEST_TIMEOUT_MS))
    {
      g_autofree char *value = page_eval (f, expression);

      g_error ("page: %s is %s, expected %s", expression, value, expected);
    }
}

/* Starts Chromium on @url; returns the DevTools WebSocket URL of its page. */
static char *
start_chromium (Fixture *f, const char *browser, const char *url)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GDataInputStream) err = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *port_text = NULL;
  g_autofree char *list_url = NULL;
  g_autofree char *profile_arg = NULL;
  g_autoptr (SoupMessage) list = NULL;
  g_autoptr (GBytes) body = NULL;
  g_autoptr (JsonParser) parser = json_parser_new ();
  gint64 deadline = g_get_monotonic_time () + CHROMIUM_START_MS * 1000;
  JsonArray *targets;

  f->profile = g_dir_make_tmp ("merod-chromium-XXXXXX", &error);
  g_assert_no_error (error);
  profile_arg = g_strconcat ("--user-data-dir=", f->profile, NULL);
  f->chromium = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE
                                      | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                                  &error, browser, "--headless=new", "--no-sandbox",
                                  "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                                  "--no-default-browser-check", "--remote-debugging-port=0",
                                  "--remote-debugging-address=127.0.0.1",
                                  "--window-size=1280,900",
                                  profile_arg, url, NULL);
  g_assert_no_error (error);
  /* Chromium writes its DevTools port to DevToolsActivePort in the
   * profile once it listens. */
  port_file = g_build_filename (f->profile, "DevToolsActivePort", NULL);
  while (!g_file_get_contents (port_file, &port_text, NULL, NULL)
         || strchr (port_text, '\n') == NULL)
    {
      g_clear_pointer (&port_text, g_free);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
  *strchr (port_text, '\n') = '\0';
  list_url = g_strdup_printf ("http://127.0.0.1:%s/json/list", port_text);
  /* The page target appears once the first navigation started. */
  for (;;)
    {
      g_clear_object (&list);
      g_clear_pointer (&body, g_bytes_unref);
      list = soup_message_new ("GET", list_url);
      body = soup_session_send_and_read (f->session, list, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (body, NULL),
                                                 g_bytes_get_size (body), NULL));
      targets = json_node_get_array (json_parser_get_root (parser));
      for (guint i = 0; i < json_array_get_length (targets); i++)
        {
          JsonObject *target = json_array_get_object_element (targets, i);

          if (g_strcmp0 (json_object_get_string_member_with_default (target, "type", ""), "page")
              == 0)
            return g_strdup (json_object_get_string_member (target, "webSocketDebuggerUrl"));
        }
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (50 * 1000);
    }
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->session = soup_session_new_with_options ("timeout", MERO_TEST_TIMEOUT_MS / 1000, NULL);
  f->replies = g_hash_table_new_full (NULL, NULL, NULL, (GDestroyNotify) json_node_unref);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (f->cluster != NULL && g_test_failed ())
    mero_test_cluster_dump_logs (f->cluster);
  if (f->cdp != NULL)
    soup_websocket_connection_close (f->cdp, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&f->cdp);
  if (f->chromium != NULL)
    {
      g_subprocess_force_exit (f->chromium);
      g_subprocess_wait (f->chromium, NULL, NULL);
      g_clear_object (&f->chromium);
    }
  if (f->profile != NULL)
    mero_test_remove_tree (f->profile);
  g_free (f->profile);
  g_clear_error (&f->error);
  g_hash_table_unref (f->replies);
  g_clear_object (&f->session);
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

static void
save_screenshot (Fixture *f)
{
  const char *dir = g_getenv ("MERO_TEST_ARTIFACT_DIR");
  g_autoptr (JsonNode) shot = cdp_call (f, "Page.captureScreenshot", "{\"format\":\"png\"}");
  const char *data = json_object_get_string_member (json_node_get_object (shot), "data");
  g_autofree char *path = NULL;
  g_autofree guchar *png = NULL;
  gsize length = 0;
  g_autoptr (GError) error = NULL;

  png = g_base64_decode (data, &length);
  g_assert_cmpuint (length, >, 1000);
  g_assert_cmpmem (png, 4, "\x89PNG", 4);
  path = g_build_filename (dir != NULL ? dir : g_get_tmp_dir (), "admin-dashboard.png", NULL);
  g_file_set_contents (path, (const char *) png, length, &error);
  g_assert_no_error (error);
  g_test_message ("screenshot: %s (%" G_GSIZE_FORMAT " bytes)", path, length);
}

static void
test_dashboard (Fixture *f, gconstpointer data)
{
  const char *browser = find_chromium ();
  g_autofree char *base = NULL, *page = NULL, *devtools = NULL, *context_id = NULL;
  g_autofree char *fill = NULL, *has_event = NULL, *shows_context = NULL;
  g_autoptr (GVariant) created = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (SoupMessage) connect = NULL;
  gint64 started = g_get_monotonic_time ();

  if (browser == NULL)
    {
      g_test_skip ("no chromium in PATH (tools/dev installs it)");
      return;
    }
  f->cluster = mero_test_cluster_new ();
  f->a = mero_test_cluster_add_node (f->cluster, "a", 0);
  mero_test_node_start (f->cluster, f->a);
  created = mero_test_node_call (f->cluster, f->a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(ss)", &context_id, NULL);

  base = http_url (f->a);
  page = g_strconcat (base, "/admin-dashboard", NULL);
  devtools = start_chromium (f, browser, page);
  connect = soup_message_new ("GET", devtools);
  soup_session_websocket_connect_async (f->session, connect, NULL, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_cdp_connected, f);
  g_assert_true (mero_test_wait_until (cdp_connected, f, MERO_TEST_TIMEOUT_MS));
  g_assert_no_error (f->error);

  /* Loaded from merod, node shown, event stream live, context listed. */
  wait_page (f, "document.body.dataset.ready === 'yes'", "true");
  {
    g_autofree char *peer = page_eval (f, "document.getElementById('peer-id').textContent");
    g_autofree char *expected = g_strdup_printf ("\"%s\"", f->a->peer_id);

    g_assert_cmpstr (peer, ==, expected);
  }
  shows_context = g_strdup_printf (
      "document.getElementById('contexts').tBodies[0].textContent.includes('%s')", context_id);
  wait_page (f, shows_context, "true");

  /* The set goes through the page's form and button. */
  fill = g_strdup_printf ("(() => { const form = document.getElementById('call-form').elements;"
                          " form.context.value = '%s'; form.key.value = 'ui-key';"
                          " form.value.value = '\"from the dashboard\"';"
                          " document.getElementById('call-set').click(); return true; })()",
                          context_id);
  g_free (page_eval (f, fill));
  wait_page (f, "document.getElementById('call-result').dataset.state", "\"done\"");
  {
    g_autofree char *value = mero_test_node_kv (f->cluster, f->a, context_id, "get",
                                                "{\"key\":\"ui-key\"}", &error);

    g_assert_no_error (error);
    g_assert_cmpstr (value, ==, "\"from the dashboard\"");
  }
  /* The resulting state change arrives as a live event, and the
   * contexts table shows the new root. */
  has_event = g_strdup_printf ("[...document.querySelectorAll('#events li')].some(li => "
                               "li.dataset.event === 'state-changed' && li.dataset.context === "
                               "'%s')",
                               context_id);
  wait_page (f, has_event, "true");
  {
    g_autofree char *root = mero_test_node_root (f->cluster, f->a, context_id);
    g_autofree char *shows_root = g_strdup_printf (
        "document.getElementById('contexts').tBodies[0].textContent.includes('%s')", root);

    wait_page (f, shows_root, "true");
  }
  save_screenshot (f);
  g_test_message ("dashboard test took %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - started) / 1000);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/dashboard/set-through-ui", Fixture, NULL, fixture_set_up, test_dashboard,
              fixture_tear_down);
  return g_test_run ();
}
