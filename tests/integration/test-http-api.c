/* test-http-api.c: the admin API's contexts and groups routes and
 * JSON-RPC execute/sync_status/batches, driven over HTTP against real
 * merod processes (mero-test-cluster: two nodes on a private bus, libp2p
 * on 127.0.0.1), with D-Bus as the independent witness of what HTTP did.
 * Every wait is bounded. */
#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <libsoup/soup.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "mero-test-cluster.h"

/* Fixture data: flags. */
#define TWO_NODES 1
#define QUIET 2

typedef struct {
  MeroTestCluster *cluster;
  MeroTestNode *a, *b;
  SoupSession *session;
} Fixture;

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

typedef struct {
  guint status;
  JsonParser *parser;
  JsonNode *root;       /* owned by parser; NULL if the body was empty */
  char *allow;
} Reply;

static void
reply_clear (Reply *reply)
{
  g_clear_object (&reply->parser);
  g_clear_pointer (&reply->allow, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Reply, reply_clear)

/* @method @path on @node with @body (JSON text, NULL for none). */
static void
request (Fixture *f, MeroTestNode *node, const char *method, const char *path,
         const char *body, Reply *reply)
{
  g_autofree char *base = http_url (node);
  g_autofree char *full = g_strconcat (base, path, NULL);
  g_autoptr (SoupMessage) msg = soup_message_new (method, full);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (msg);
  if (body != NULL)
    {
      g_autoptr (GBytes) request_body = g_bytes_new (body, strlen (body));

      soup_message_set_request_body_from_bytes (msg, "application/json", request_body);
    }
  bytes = soup_session_send_and_read (f->session, msg, NULL, &error);
  g_assert_no_error (error);
  reply->status = soup_message_get_status (msg);
  reply->allow = g_strdup (
      soup_message_headers_get_one (soup_message_get_response_headers (msg), "Allow"));
  reply->parser = json_parser_new ();
  reply->root = NULL;
  if (g_bytes_get_size (bytes) > 0)
    {
      json_parser_load_from_data (reply->parser, g_bytes_get_data (bytes, NULL),
                                  g_bytes_get_size (bytes), &error);
      g_assert_no_error (error);
      reply->root = json_parser_get_root (reply->parser);
    }
  g_test_message ("%s %s -> %u", method, path, reply->status);
}

static JsonObject *
object_of (Reply *reply)
{
  g_assert_nonnull (reply->root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (reply->root));
  return json_node_get_object (reply->root);
}

/* Asserts @status and, for an error, its stable @code. */
static void
assert_error (Fixture *f, MeroTestNode *node, const char *method, const char *path,
              const char *body, guint status, const char *code)
{
  g_auto (Reply) reply = { 0 };
  JsonObject *error;

  request (f, node, method, path, body, &reply);
  g_assert_cmpuint (reply.status, ==, status);
  error = json_object_get_object_member (object_of (&reply), "error");
  g_assert_nonnull (error);
  g_assert_cmpstr (json_object_get_string_member (error, "code"), ==, code);
  g_assert_nonnull (json_object_get_string_member (error, "message"));
}

static gboolean
array_has_string (JsonArray *array, const char *value)
{
  for (guint i = 0; i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), value) == 0)
      return TRUE;
  return FALSE;
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->cluster = mero_test_cluster_new ();
  /* Thousands of calls: a node logging at debug level would fill its
   * pipe while this process waits in a synchronous call. */
  if (GPOINTER_TO_INT (data) & QUIET)
    mero_test_cluster_set_verbose (f->cluster, FALSE);
  f->a = mero_test_cluster_add_node (f->cluster, "a", 0);
  mero_test_node_start (f->cluster, f->a);
  if (GPOINTER_TO_INT (data) & TWO_NODES)
    {
      f->b = mero_test_cluster_add_node (f->cluster, "b", 0);
      mero_test_node_start (f->cluster, f->b);
    }
  f->session = soup_session_new_with_options ("timeout", MERO_TEST_TIMEOUT_MS / 1000, NULL);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  if (g_test_failed ())
    mero_test_cluster_dump_logs (f->cluster);
  g_clear_object (&f->session);
  g_clear_pointer (&f->cluster, mero_test_cluster_free);
}

typedef struct {
  Fixture *f;
  MeroTestNode *node;
  const char *context_id;
  const char *key;
  const char *expected;
} KvWait;

static gboolean
kv_has (gpointer data)
{
  KvWait *wait = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *args = g_strdup_printf ("{\"key\":\"%s\"}", wait->key);
  g_autofree char *value = mero_test_node_kv (wait->f->cluster, wait->node, wait->context_id,
                                              "get", args, &error);

  return value != NULL && g_strcmp0 (value, wait->expected) == 0;
}

/* Node status, contexts, invite/join, members, sync, groups, leave and
 * delete over HTTP; each result checked through D-Bus or the other node. */
static void
test_admin_routes (Fixture *f, gconstpointer data)
{
  g_auto (Reply) reply = { 0 };
  g_autofree char *context_id = NULL, *group_id = NULL, *invitation = NULL;
  g_autofree char *path = NULL, *body = NULL;
  g_autoptr (GVariant) info = NULL;
  JsonObject *object;

  request (f, f->a, "GET", "/admin-api/ready", NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_true (json_object_get_boolean_member (object_of (&reply), "ready"));
  reply_clear (&reply);

  request (f, f->a, "GET", "/admin-api/identity", NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object_of (&reply), "peer_id"), ==,
                   f->a->peer_id);
  g_assert_cmpuint (strlen (json_object_get_string_member (object_of (&reply), "public_key")),
                    ==, 64);
  reply_clear (&reply);

  request (f, f->a, "GET", "/admin-api/network/status", NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  object = object_of (&reply);
  g_assert_true (json_object_get_boolean_member (object, "enabled"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object,
                                                                         "listen_addresses")),
                    >, 0);
  g_assert_cmpint (json_object_get_int_member (object, "contexts"), ==, 0);
  reply_clear (&reply);

  /* Create: 201 and the context is on D-Bus. */
  request (f, f->a, "POST", "/admin-api/contexts", "{\"application\":\"kv\"}", &reply);
  g_assert_cmpuint (reply.status, ==, 201);
  context_id = g_strdup (json_object_get_string_member (object_of (&reply), "context_id"));
  group_id = g_strdup (json_object_get_string_member (object_of (&reply), "group_id"));
  reply_clear (&reply);
  info = mero_test_node_info (f->cluster, f->a, context_id);
  g_assert_nonnull (info);

  request (f, f->a, "GET", "/admin-api/contexts", NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  {
    JsonArray *contexts = json_object_get_array_member (object_of (&reply), "contexts");

    g_assert_cmpuint (json_array_get_length (contexts), ==, 1);
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (contexts, 0),
                                                    "context_id"),
                     ==, context_id);
  }
  reply_clear (&reply);

  /* A set over D-Bus shows in the context's root over HTTP. */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "k", "\"v1\"");
  {
    g_autofree char *root = mero_test_node_root (f->cluster, f->a, context_id);

    path = g_strdup_printf ("/admin-api/contexts/%s", context_id);
    request (f, f->a, "GET", path, NULL, &reply);
    g_assert_cmpuint (reply.status, ==, 200);
    g_assert_cmpstr (json_object_get_string_member (object_of (&reply), "root_hash"), ==, root);
    g_assert_cmpstr (root, !=, "");
    g_assert_true (array_has_string (json_object_get_array_member (object_of (&reply),
                                                                   "members"),
                                     f->a->peer_id));
    reply_clear (&reply);
    g_clear_pointer (&path, g_free);
  }

  /* Invite b, b joins over HTTP (the request waits for the inviter). */
  path = g_strdup_printf ("/admin-api/contexts/%s/invite", context_id);
  body = g_strdup_printf ("{\"invitee\":\"%s\",\"expiry_secs\":600}", f->b->peer_id);
  request (f, f->a, "POST", path, body, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  invitation = g_strdup (json_object_get_string_member (object_of (&reply), "invitation"));
  g_assert_true (g_str_has_prefix (invitation, "mero-invite1:"));
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);
  g_clear_pointer (&body, g_free);

  body = g_strdup_printf ("{\"invitation\":\"%s\"}", invitation);
  request (f, f->b, "POST", "/admin-api/contexts/join", body, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object_of (&reply), "context_id"), ==,
                   context_id);
  reply_clear (&reply);
  g_clear_pointer (&body, g_free);

  /* b catches up: its sync route is accepted and a's value reaches it. */
  path = g_strdup_printf ("/admin-api/contexts/%s/sync", context_id);
  request (f, f->b, "POST", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 202);
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);
  {
    KvWait wait = { f, f->b, context_id, "k", "\"v1\"" };

    g_assert_true (mero_test_wait_until (kv_has, &wait, MERO_TEST_TIMEOUT_MS));
  }

  /* b tells a its node.name in identify's agent version. */
  {
    g_autofree char *name = NULL;
    g_autofree char *agent = NULL;
    JsonArray *peers;

    g_assert_cmpint (mero_test_run_merod ((const char *[]) { "config", "get", "--home",
                                          f->b->home, "node.name", NULL },
                                          NULL, &name, NULL),
                     ==, 0);
    g_strstrip (name);
    request (f, f->a, "GET", "/admin-api/peers", NULL, &reply);
    peers = json_object_get_array_member (object_of (&reply), "peers");
    for (guint i = 0; i < json_array_get_length (peers); i++)
      {
        JsonObject *peer = json_array_get_object_element (peers, i);

        if (g_strcmp0 (json_object_get_string_member (peer, "peer_id"), f->b->peer_id) == 0)
          agent = g_strdup (json_object_get_string_member (peer, "agent_version"));
      }
    reply_clear (&reply);
    g_assert_nonnull (agent);
    g_assert_true (g_str_has_prefix (agent, "merod/"));
    g_assert_cmpstr (name, !=, "");
    {
      g_autofree char *tail = g_strdup_printf ("(%s)", name);

      g_assert_true (g_str_has_suffix (agent, tail));
    }
  }

  path = g_strdup_printf ("/admin-api/contexts/%s/members", context_id);
  request (f, f->b, "GET", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_true (array_has_string (json_object_get_array_member (object_of (&reply), "members"),
                                   f->a->peer_id));
  g_assert_true (array_has_string (json_object_get_array_member (object_of (&reply), "members"),
                                   f->b->peer_id));
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);

  /* Groups: list, get, members with roles, remove b. */
  request (f, f->a, "GET", "/admin-api/groups", NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object_of (&reply),
                                                                         "groups")),
                    ==, 1);
  reply_clear (&reply);
  path = g_strdup_printf ("/admin-api/groups/%s", group_id);
  request (f, f->a, "GET", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpstr (json_object_get_string_member (object_of (&reply), "owner"), ==,
                   f->a->peer_id);
  g_assert_true (array_has_string (json_object_get_array_member (object_of (&reply), "contexts"),
                                   context_id));
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);
  path = g_strdup_printf ("/admin-api/groups/%s/members", group_id);
  request (f, f->a, "GET", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object_of (&reply),
                                                                         "members")),
                    ==, 2);
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);

  path = g_strdup_printf ("/admin-api/groups/%s/members/%s", group_id, f->b->peer_id);
  request (f, f->a, "DELETE", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);
  {
    g_autoptr (GVariant) after = mero_test_node_info (f->cluster, f->a, context_id);
    g_autofree const char **members = NULL;

    g_assert_true (g_variant_lookup (after, "members", "^a&s", &members));
    g_assert_false (g_strv_contains (members, f->b->peer_id));
    g_assert_true (g_strv_contains (members, f->a->peer_id));
  }

  /* b leaves; the context is gone from b's D-Bus list. */
  path = g_strdup_printf ("/admin-api/contexts/%s/leave", context_id);
  request (f, f->b, "POST", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  reply_clear (&reply);
  g_clear_pointer (&path, g_free);
  {
    g_autoptr (GError) error = NULL;
    g_autoptr (GVariant) gone = mero_test_node_call (
        f->cluster, f->b, "GetContextInfo", g_variant_new ("(s)", context_id), NULL, &error);

    g_assert_null (gone);
    g_assert_nonnull (error);
  }

  /* The owner deletes its context here (the group refuses its LEAVE). */
  path = g_strdup_printf ("/admin-api/contexts/%s", context_id);
  request (f, f->a, "DELETE", path, NULL, &reply);
  g_assert_cmpuint (reply.status, ==, 200);
  reply_clear (&reply);
  assert_error (f, f->a, "GET", path, NULL, 404, "unknown-context");
  g_clear_pointer (&path, g_free);
}

/* Every refusal is JSON with a stable code and the right status. */
static void
test_admin_errors (Fixture *f, gconstpointer data)
{
  g_auto (Reply) reply = { 0 };

  assert_error (f, f->a, "GET", "/admin-api/contexts/4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi",
                NULL, 404, "unknown-context");
  assert_error (f, f->a, "GET", "/admin-api/contexts/not-base58!", NULL, 404,
                "unknown-context");
  assert_error (f, f->a, "POST", "/admin-api/contexts", "{}", 400, "invalid-argument");
  assert_error (f, f->a, "POST", "/admin-api/contexts", "{\"application\":5}", 400,
                "invalid-argument");
  assert_error (f, f->a, "POST", "/admin-api/contexts", "{\"application\":", 400,
                "invalid-json");
  assert_error (f, f->a, "POST", "/admin-api/contexts", "[1]", 400, "invalid-json");
  assert_error (f, f->a, "POST", "/admin-api/contexts", "{\"application\":\"no-such-app\"}", 400,
                "invalid-argument");
  assert_error (f, f->a, "POST", "/admin-api/contexts/join", "{\"invitation\":\"garbage\"}",
                400, "invalid-invitation");
  assert_error (f, f->a, "GET", "/admin-api/groups/00ff", NULL, 404, "unknown-group");
  assert_error (f, f->a, "GET", "/admin-api/no-such", NULL, 404, "not-found");
  assert_error (f, f->a, "PUT", "/admin-api/contexts", "{}", 405, "method-not-allowed");
  request (f, f->a, "PUT", "/admin-api/contexts", "{}", &reply);
  g_assert_cmpstr (reply.allow, ==, "GET, POST");
  reply_clear (&reply);

  /* A page of another site cannot drive the node; the node's own page can. */
  {
    g_autofree char *base = http_url (f->a);
    g_autofree char *full = g_strconcat (base, "/admin-api/contexts", NULL);
    g_autofree char *own = g_strdup (base);
    const char *origins[] = { "http://evil.example", own };
    const guint expected[] = { 403, 201 };

    for (guint i = 0; i < G_N_ELEMENTS (origins); i++)
      {
        g_autoptr (SoupMessage) msg = soup_message_new ("POST", full);
        static const char create[] = "{\"application\":\"kv\"}";
        g_autoptr (GBytes) body = g_bytes_new_static (create, strlen (create));
        g_autoptr (GBytes) answer = NULL;
        g_autoptr (GError) error = NULL;

        soup_message_set_request_body_from_bytes (msg, "text/plain", body);
        soup_message_headers_replace (soup_message_get_request_headers (msg), "Origin",
                                      origins[i]);
        answer = soup_session_send_and_read (f->session, msg, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpuint (soup_message_get_status (msg), ==, expected[i]);
      }
  }
}

/* (transfer full) the JSON-RPC reply to @body on @node (200, JSON). */
static void
jsonrpc (Fixture *f, MeroTestNode *node, const char *body, Reply *reply)
{
  request (f, node, "POST", "/jsonrpc", body, reply);
  g_assert_cmpuint (reply->status, ==, 200);
  g_assert_nonnull (reply->root);
}

static void
assert_rpc_error (JsonObject *response, gint64 code, const char *data_code)
{
  JsonObject *error = json_object_get_object_member (response, "error");

  g_assert_nonnull (error);
  g_assert_cmpint (json_object_get_int_member (error, "code"), ==, code);
  if (data_code != NULL)
    g_assert_cmpstr (json_object_get_string_member (
                         json_object_get_object_member (error, "data"), "code"),
                     ==, data_code);
}

static void
test_jsonrpc_execute (Fixture *f, gconstpointer data)
{
  g_autoptr (GVariant) created = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (Reply) reply = { 0 };
  g_autofree char *body = NULL;
  g_autofree char *value = NULL;
  g_autofree char *root = NULL;
  const char *context_id;
  JsonArray *batch;

  created = mero_test_node_call (f->cluster, f->a, "CreateContext", g_variant_new ("(s)", "kv"),
                                 G_VARIANT_TYPE ("(ss)"), &error);
  g_assert_no_error (error);
  g_variant_get (created, "(&s&s)", &context_id, NULL);

  /* execute set (argsJson as text): the value is there over D-Bus. */
  body = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"execute\",\"params\":"
                          "{\"contextId\":\"%s\",\"method\":\"set\",\"argsJson\":"
                          "\"{\\\"key\\\":\\\"x\\\",\\\"value\\\":{\\\"n\\\":42}}\"}}",
                          context_id);
  jsonrpc (f, f->a, body, &reply);
  g_assert_true (json_object_has_member (object_of (&reply), "result"));
  g_assert_cmpint (json_object_get_int_member (object_of (&reply), "id"), ==, 1);
  reply_clear (&reply);
  g_clear_pointer (&body, g_free);
  value = mero_test_node_kv (f->cluster, f->a, context_id, "get", "{\"key\":\"x\"}", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "{\"n\":42}");

  /* A batch: execute get (argsJson as an object), sync_status, node_info
   * and a notification (no answer); answers in order. */
  body = g_strdup_printf (
      "[{\"jsonrpc\":\"2.0\",\"id\":\"g\",\"method\":\"execute\",\"params\":{\"contextId\":"
      "\"%s\",\"method\":\"get\",\"argsJson\":{\"key\":\"x\"}}},"
      "{\"jsonrpc\":\"2.0\",\"id\":\"s\",\"method\":\"sync_status\",\"params\":{\"contextId\":"
      "\"%s\"}},"
      "{\"jsonrpc\":\"2.0\",\"method\":\"node_info\"},"
      "{\"jsonrpc\":\"2.0\",\"id\":\"n\",\"method\":\"node_info\"}]",
      context_id, context_id);
  jsonrpc (f, f->a, body, &reply);
  g_clear_pointer (&body, g_free);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (reply.root));
  batch = json_node_get_array (reply.root);
  g_assert_cmpuint (json_array_get_length (batch), ==, 3);
  {
    JsonObject *get = json_array_get_object_element (batch, 0);
    JsonObject *status = json_array_get_object_element (batch, 1);
    JsonObject *node = json_array_get_object_element (batch, 2);

    g_assert_cmpstr (json_object_get_string_member (get, "id"), ==, "g");
    g_assert_cmpint (json_object_get_int_member (json_object_get_object_member (get, "result"),
                                                 "n"),
                     ==, 42);
    root = mero_test_node_root (f->cluster, f->a, context_id);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (status,
                                                                                   "result"),
                                                    "root_hash"),
                     ==, root);
    g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (node,
                                                                                   "result"),
                                                    "peer_id"),
                     ==, f->a->peer_id);
  }
  reply_clear (&reply);

  /* Errors: unknown context, bad arguments (the kv's own check, as on
   * D-Bus), missing parameters, unknown method. */
  jsonrpc (f, f->a,
           "{\"jsonrpc\":\"2.0\",\"id\":2,\"method\":\"execute\",\"params\":{\"contextId\":"
           "\"4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi\",\"method\":\"get\",\"argsJson\":"
           "\"{}\"}}",
           &reply);
  assert_rpc_error (object_of (&reply), -32001, "unknown-context");
  reply_clear (&reply);
  body = g_strdup_printf ("{\"jsonrpc\":\"2.0\",\"id\":3,\"method\":\"execute\",\"params\":"
                          "{\"contextId\":\"%s\",\"method\":\"set\",\"argsJson\":\"{\"}}",
                          context_id);
  jsonrpc (f, f->a, body, &reply);
  assert_rpc_error (object_of (&reply), -32602, "invalid-argument");
  reply_clear (&reply);
  g_clear_pointer (&body, g_free);
  jsonrpc (f, f->a, "{\"jsonrpc\":\"2.0\",\"id\":4,\"method\":\"execute\",\"params\":{}}",
           &reply);
  assert_rpc_error (object_of (&reply), -32602, NULL);
  reply_clear (&reply);
  jsonrpc (f, f->a, "{\"jsonrpc\":\"2.0\",\"id\":5,\"method\":\"sync_status\"}", &reply);
  assert_rpc_error (object_of (&reply), -32602, NULL);
  reply_clear (&reply);
}

typedef struct {
  GQueue messages;              /* JsonNode* (objects) */
  SoupWebsocketConnection *connection;
  GError *error;
  gboolean done;
} WsClient;

static void
on_ws_message (SoupWebsocketConnection *connection, gint type, GBytes *message,
               gpointer user_data)
{
  WsClient *client = user_data;
  g_autoptr (JsonParser) parser = json_parser_new ();

  g_assert_cmpint (type, ==, SOUP_WEBSOCKET_DATA_TEXT);
  g_assert_true (json_parser_load_from_data (parser, g_bytes_get_data (message, NULL),
                                             g_bytes_get_size (message), NULL));
  g_queue_push_tail (&client->messages, json_node_copy (json_parser_get_root (parser)));
}

static void
on_ws_connected (GObject *source, GAsyncResult *result, gpointer user_data)
{
  WsClient *client = user_data;

  client->connection = soup_session_websocket_connect_finish (SOUP_SESSION (source), result,
                                                              &client->error);
  if (client->connection != NULL)
    g_signal_connect (client->connection, "message", G_CALLBACK (on_ws_message), client);
  client->done = TRUE;
}

static gboolean
ws_done (gpointer data)
{
  return ((WsClient *) data)->done;
}

static void
ws_connect (Fixture *f, MeroTestNode *node, const char *origin, WsClient *client)
{
  g_autofree char *base = http_url (node);
  g_autofree char *url = g_strconcat ("ws", base + strlen ("http"), "/ws", NULL);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);

  soup_session_websocket_connect_async (f->session, msg, origin, NULL, G_PRIORITY_DEFAULT, NULL,
                                        on_ws_connected, client);
  g_assert_true (mero_test_wait_until (ws_done, client, MERO_TEST_TIMEOUT_MS));
}

typedef struct {
  WsClient *client;
  const char *type;
  const char *event;
} WsWait;

static gboolean
ws_has (gpointer data)
{
  WsWait *wait = data;

  for (GList *l = wait->client->messages.head; l != NULL; l = l->next)
    {
      JsonObject *object = json_node_get_object (l->data);

      if (g_strcmp0 (json_object_get_string_member_with_default (object, "type", ""), wait->type)
              == 0
          && (wait->event == NULL
              || g_strcmp0 (json_object_get_string_member_with_default (object, "event", ""),
                            wait->event)
                     == 0))
        return TRUE;
    }
  return FALSE;
}

/* (transfer full) the first message of @type (and @event), dropping what
 * came before it; waits for it within the timeout. */
static JsonNode *
ws_next (WsClient *client, const char *type, const char *event)
{
  WsWait wait = { client, type, event };

  g_assert_true (mero_test_wait_until (ws_has, &wait, MERO_TEST_TIMEOUT_MS));
  for (;;)
    {
      JsonNode *node = g_queue_pop_head (&client->messages);
      JsonObject *object = json_node_get_object (node);

      if (g_str_equal (json_object_get_string_member_with_default (object, "type", ""), type)
          && (event == NULL
              || g_str_equal (json_object_get_string_member_with_default (object, "event", ""),
                              event)))
        return node;
      json_node_unref (node);
    }
}

static void
ws_send (WsClient *client, const char *text)
{
  soup_websocket_connection_send_text (client->connection, text);
}

static char *
create_context (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) created = mero_test_node_call (
      f->cluster, f->a, "CreateContext", g_variant_new ("(s)", "kv"), G_VARIANT_TYPE ("(ss)"),
      &error);
  char *context_id = NULL;

  g_assert_no_error (error);
  g_variant_get (created, "(ss)", &context_id, NULL);
  return context_id;
}

/* A WebSocket subscription receives a state change made over D-Bus (with
 * its root and heads), and only for the contexts it follows; execute,
 * ping/pong; a page of another origin is refused. */
static void
test_websocket (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = create_context (f);
  g_autofree char *other = create_context (f);
  g_autofree char *subscribe = NULL, *execute = NULL, *root = NULL;
  WsClient client = { G_QUEUE_INIT, NULL, NULL, FALSE };
  WsClient foreign = { G_QUEUE_INIT, NULL, NULL, FALSE };
  g_autoptr (JsonNode) hello = NULL, subscribed = NULL, event = NULL, result = NULL;
  g_autoptr (JsonNode) pong = NULL;
  JsonObject *data_object;

  ws_connect (f, f->a, NULL, &client);
  g_assert_no_error (client.error);
  hello = ws_next (&client, "hello", NULL);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (hello), "peerId"), ==,
                   f->a->peer_id);

  subscribe = g_strdup_printf ("{\"type\":\"subscribe\",\"contextIds\":[\"%s\"]}", context_id);
  ws_send (&client, subscribe);
  subscribed = ws_next (&client, "subscribed", NULL);
  g_assert_cmpstr (json_array_get_string_element (
                       json_object_get_array_member (json_node_get_object (subscribed),
                                                     "contextIds"),
                       0),
                   ==, context_id);

  /* A change of a context not followed, then one of the followed: the
   * first state-changed to arrive is the followed one's. */
  mero_test_node_kv_set (f->cluster, f->a, other, "k", "1");
  mero_test_node_kv_set (f->cluster, f->a, context_id, "k", "2");
  root = mero_test_node_root (f->cluster, f->a, context_id);
  event = ws_next (&client, "event", "state-changed");
  data_object = json_object_get_object_member (json_node_get_object (event), "data");
  g_assert_cmpstr (json_object_get_string_member (data_object, "context_id"), ==, context_id);
  g_assert_cmpstr (json_object_get_string_member (data_object, "root_hash"), ==, root);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (data_object, "heads")),
                    ==, 1);

  execute = g_strdup_printf ("{\"type\":\"execute\",\"id\":9,\"contextId\":\"%s\","
                             "\"method\":\"set\",\"argsJson\":{\"key\":\"ws\",\"value\":true}}",
                             context_id);
  ws_send (&client, execute);
  result = ws_next (&client, "result", NULL);
  g_assert_cmpint (json_object_get_int_member (json_node_get_object (result), "id"), ==, 9);
  {
    g_autofree char *value = mero_test_node_kv (f->cluster, f->a, context_id, "get",
                                                "{\"key\":\"ws\"}", NULL);

    g_assert_cmpstr (value, ==, "true");
  }
  ws_send (&client, "{\"type\":\"ping\"}");
  pong = ws_next (&client, "pong", NULL);

  ws_connect (f, f->a, "http://evil.example", &foreign);
  g_assert_null (foreign.connection);
  g_assert_nonnull (foreign.error);

  soup_websocket_connection_close (client.connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&client.connection);
  g_queue_clear_full (&client.messages, (GDestroyNotify) json_node_unref);
  g_clear_error (&foreign.error);
}

/* A subscriber of a context hears its group's members join and leave. */
static void
test_websocket_members (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = create_context (f);
  g_autofree char *subscribe = NULL;
  g_autofree char *invitation = NULL, *joined_id = NULL;
  g_autoptr (GVariant) invited = NULL, joined = NULL, removed = NULL;
  g_autoptr (JsonNode) subscribed = NULL, join_event = NULL, leave_event = NULL;
  g_autoptr (JsonNode) subscribed_b = NULL, sync_event = NULL;
  WsClient client_b = { G_QUEUE_INIT, NULL, NULL, FALSE };
  g_autoptr (GError) error = NULL;
  WsClient client = { G_QUEUE_INIT, NULL, NULL, FALSE };
  JsonObject *event_data;

  ws_connect (f, f->a, NULL, &client);
  g_assert_no_error (client.error);
  subscribe = g_strdup_printf ("{\"type\":\"subscribe\",\"contextIds\":[\"%s\"]}", context_id);
  ws_send (&client, subscribe);
  subscribed = ws_next (&client, "subscribed", NULL);

  /* History for b to catch up, and a subscriber on b (ids are not
   * checked: b learns the context by joining). */
  mero_test_node_kv_set (f->cluster, f->a, context_id, "before", "1");
  ws_connect (f, f->b, NULL, &client_b);
  g_assert_no_error (client_b.error);
  ws_send (&client_b, subscribe);
  subscribed_b = ws_next (&client_b, "subscribed", NULL);

  invited = mero_test_node_call (f->cluster, f->a, "InviteToContext",
                                 g_variant_new ("(ssu)", context_id, f->b->peer_id, 0),
                                 G_VARIANT_TYPE ("(s)"), &error);
  g_assert_no_error (error);
  g_variant_get (invited, "(s)", &invitation);
  joined = mero_test_node_call (f->cluster, f->b, "JoinContext", g_variant_new ("(s)", invitation),
                                G_VARIANT_TYPE ("(s)"), &error);
  g_assert_no_error (error);
  join_event = ws_next (&client, "event", "member-joined");
  /* b's catch-up from a ends with sync-finished on b. */
  sync_event = ws_next (&client_b, "event", "sync-finished");
  g_assert_cmpstr (json_object_get_string_member (
                       json_object_get_object_member (json_node_get_object (sync_event), "data"),
                       "context_id"),
                   ==, context_id);
  event_data = json_object_get_object_member (json_node_get_object (join_event), "data");
  g_assert_cmpstr (json_object_get_string_member (event_data, "context_id"), ==, context_id);
  g_assert_cmpstr (json_object_get_string_member (event_data, "peer_id"), ==, f->b->peer_id);

  removed = mero_test_node_call (f->cluster, f->a, "RemoveMember",
                                 g_variant_new ("(ss)", context_id, f->b->peer_id), NULL, &error);
  g_assert_no_error (error);
  leave_event = ws_next (&client, "event", "member-left");
  event_data = json_object_get_object_member (json_node_get_object (leave_event), "data");
  g_assert_cmpstr (json_object_get_string_member (event_data, "peer_id"), ==, f->b->peer_id);
  soup_websocket_connection_close (client_b.connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&client_b.connection);
  g_queue_clear_full (&client_b.messages, (GDestroyNotify) json_node_unref);

  soup_websocket_connection_close (client.connection, SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
  g_clear_object (&client.connection);
  g_queue_clear_full (&client.messages, (GDestroyNotify) json_node_unref);
}

/* A WebSocket client that stops reading (a 4 KiB receive buffer, never
 * read) is cut off once it is MERO_SERVER_WS_MAX_QUEUED events behind and
 * counted; the node keeps answering.  Bounded: at most 4000 sets. */
static void
test_websocket_slow (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = create_context (f);
  g_autofree char *base = http_url (f->a);
  g_autofree char *subscribe = g_strdup_printf ("{\"type\":\"subscribe\",\"contextIds\":[\"%s\"]}",
                                                context_id);
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) address = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) handshake = g_string_new (NULL);
  g_autoptr (GString) frame = g_string_new (NULL);
  const char *port = strrchr (base, ':') + 1;
  const guint8 mask[4] = { 0x12, 0x34, 0x56, 0x78 };
  char reply[1024];
  gssize n;
  guint sets = 0;
  guint64 cut = 0;

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                         &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_set_option (socket, SOL_SOCKET, SO_RCVBUF, 4096, &error));
  address = g_inet_socket_address_new_from_string ("127.0.0.1", atoi (port));
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_socket_set_timeout (socket, MERO_TEST_TIMEOUT_MS / 1000);
  g_string_printf (handshake,
                   "GET /ws HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\n"
                   "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                   "Sec-WebSocket-Version: 13\r\n\r\n",
                   port);
  g_assert_cmpint (g_socket_send (socket, handshake->str, handshake->len, NULL, &error), ==,
                   (gssize) handshake->len);
  n = g_socket_receive (socket, reply, sizeof reply - 1, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (n, >, 12);
  reply[n] = '\0';
  g_assert_true (g_str_has_prefix (reply, "HTTP/1.1 101"));
  /* One masked text frame (client frames must be masked). */
  g_assert_cmpuint (strlen (subscribe), <, 126);
  g_string_append_c (frame, (char) 0x81);
  g_string_append_c (frame, (char) (0x80 | strlen (subscribe)));
  g_string_append_len (frame, (const char *) mask, 4);
  for (gsize i = 0; subscribe[i] != '\0'; i++)
    g_string_append_c (frame, (char) (subscribe[i] ^ mask[i % 4]));
  g_assert_cmpint (g_socket_send (socket, frame->str, frame->len, NULL, &error), ==,
                   (gssize) frame->len);

  {
    g_autoptr (GString) seen = g_string_new (NULL);

    while (strstr (seen->str, "subscribed") == NULL)
      {
        n = g_socket_receive (socket, reply, sizeof reply, NULL, &error);
        g_assert_no_error (error);
        g_assert_cmpint (n, >, 0);
        g_string_append_len (seen, reply, n);
        g_assert_cmpuint (seen->len, <, 4096);
      }
  }
  while (cut == 0)
    {
      g_autofree char *key = g_strdup_printf ("key-%u", sets);

      if (sets >= 4000)
        {
          g_test_message ("ws clients %" G_GUINT64_FORMAT ", connections %" G_GUINT64_FORMAT
                          ", dropped %" G_GUINT64_FORMAT,
                          mero_test_node_metric (f->cluster, f->a, "mero_http_ws_clients"),
                          mero_test_node_metric (f->cluster, f->a,
                                                 "mero_http_ws_connections_total"),
                          mero_test_node_metric (f->cluster, f->a,
                                                 "mero_node_events_dropped_total"));
          g_assert_cmpuint (sets, <, 4000);
        }
      mero_test_node_kv_set (f->cluster, f->a, context_id, key, "\"a value that makes the "
                                                               "event a bit longer\"");
      if (++sets % 100 == 0)
        cut = mero_test_node_metric (f->cluster, f->a,
                                     "mero_http_ws_disconnects_total{reason=\"slow\"}");
    }
  g_test_message ("slow WebSocket client cut off after %u state changes", sets);
  g_assert_cmpuint (sets, >, 256);
  /* The node still serves. */
  {
    g_auto (Reply) ready = { 0 };

    request (f, f->a, "GET", "/admin-api/ready", NULL, &ready);
    g_assert_cmpuint (ready.status, ==, 200);
  }
}

/* /sse?context=X carries X's state changes and not another context's. */
static void
test_sse_context (Fixture *f, gconstpointer data)
{
  g_autofree char *context_id = create_context (f);
  g_autofree char *other = create_context (f);
  g_autofree char *base = http_url (f->a);
  g_autofree char *url = g_strdup_printf ("%s/sse?context=%s", base, context_id);
  g_autoptr (SoupMessage) msg = soup_message_new ("GET", url);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = soup_session_send (f->session, msg, NULL, &error);
  g_autoptr (GDataInputStream) lines = NULL;
  gboolean in_state_changed = FALSE;
  guint n_lines = 0;

  g_assert_no_error (error);
  g_assert_cmpuint (soup_message_get_status (msg), ==, 200);
  lines = g_data_input_stream_new (stream);
  mero_test_node_kv_set (f->cluster, f->a, other, "k", "1");
  mero_test_node_kv_set (f->cluster, f->a, context_id, "k", "2");
  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line_utf8 (lines, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_assert_cmpuint (++n_lines, <, 1000);
      if (g_str_equal (line, "event: state-changed"))
        in_state_changed = TRUE;
      else if (in_state_changed && g_str_has_prefix (line, "data: "))
        {
          g_assert_nonnull (strstr (line, context_id));
          g_assert_null (strstr (line, other));
          break;
        }
    }
  g_input_stream_close (stream, NULL, NULL);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/http-api/admin-routes", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_admin_routes, fixture_tear_down);
  g_test_add ("/http-api/admin-errors", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up,
              test_admin_errors, fixture_tear_down);
  g_test_add ("/http-api/jsonrpc-execute", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up,
              test_jsonrpc_execute, fixture_tear_down);
  g_test_add ("/http-api/websocket", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up,
              test_websocket, fixture_tear_down);
  g_test_add ("/http-api/websocket-members", Fixture, GINT_TO_POINTER (TRUE), fixture_set_up,
              test_websocket_members, fixture_tear_down);
  g_test_add ("/http-api/websocket-slow", Fixture, GINT_TO_POINTER (QUIET), fixture_set_up,
              test_websocket_slow, fixture_tear_down);
  g_test_add ("/http-api/sse-context", Fixture, GINT_TO_POINTER (FALSE), fixture_set_up,
              test_sse_context, fixture_tear_down);
  return g_test_run ();
}
