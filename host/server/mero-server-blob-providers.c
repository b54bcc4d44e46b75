/* mero-server-blob-providers.c: who holds a blob, over HTTP.
 *
 *   GET /admin-api/blobs/{id}/providers?context_id=CTX
 *       {"blob_id","context_id","providers":[PeerId,…]}, best first
 *
 * The answer may wait for the members to be asked (blob-have, at most
 * MERO_BLOB_PROVIDERS_QUERY_TIMEOUT_MS); the request is paused meanwhile. */
#define G_LOG_DOMAIN "merod"
#include <glib/gi18n.h>
#include <string.h>

#include "net/mero-base58.h"
#include "server/mero-server-private.h"

static gboolean
parse_context (const char *text, guint8 context[32])
{
  g_autoptr (GBytes) raw = text != NULL ? mero_base58_decode (text) : NULL;

  if (raw == NULL || g_bytes_get_size (raw) != 32)
    return FALSE;
  memcpy (context, g_bytes_get_data (raw, NULL), 32);
  return TRUE;
}

/* (transfer full) the value of @key in @msg's query, NULL if absent. */
static char *
query_value (SoupServerMessage *msg, const char *key)
{
  GUri *uri = soup_server_message_get_uri (msg);
  const char *query = uri != NULL ? g_uri_get_query (uri) : NULL;
  g_autoptr (GHashTable) params = NULL;

  if (query == NULL)
    return NULL;
  params = g_uri_parse_params (query, -1, "&", G_URI_PARAMS_NONE, NULL);
  return params != NULL ? g_strdup (g_hash_table_lookup (params, key)) : NULL;
}

gboolean
mero_server_blobs_query_context (SoupServerMessage *msg, gboolean *has, guint8 context[32])
{
  g_autofree char *text = query_value (msg, "context");

  if (text == NULL)
    text = query_value (msg, "context_id");
  *has = text != NULL;
  return text == NULL || parse_context (text, context);
}

typedef struct {
  SoupServerMessage *msg;
  GCancellable *alive;
  char *blob_id;
  char *context_id;
} Find;

static void
on_found (GPtrArray *peers, gpointer data)
{
  Find *find = data;

  if (!g_cancellable_is_cancelled (find->alive))
    {
      g_autoptr (JsonBuilder) b = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "blob_id");
      json_builder_add_string_value (b, find->blob_id);
      json_builder_set_member_name (b, "context_id");
      json_builder_add_string_value (b, find->context_id);
      json_builder_set_member_name (b, "providers");
      json_builder_begin_array (b);
      for (guint i = 0; i < peers->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (peers, i));
      json_builder_end_array (b);
      json_builder_end_object (b);
      root = json_builder_get_root (b);
      mero_server_reply_json (find->msg, SOUP_STATUS_OK, root);
      soup_server_message_unpause (find->msg);
    }
  g_object_unref (find->msg);
  g_object_unref (find->alive);
  g_free (find->blob_id);
  g_free (find->context_id);
  g_free (find);
}

void
mero_server_handle_blob_providers (MeroServer *server, SoupServerMessage *msg,
                                   const char *const *args)
{
  g_autofree char *context_id = query_value (msg, "context_id");
  g_autoptr (GError) error = NULL;
  guint8 blob[32], context[32];
  Find *find;

  if (server->providers == NULL || server->contexts == NULL)
    {
      mero_server_reply_error (msg, SOUP_STATUS_SERVICE_UNAVAILABLE, "not-ready",
                               _("The node is not ready for blobs"));
      return;
    }
  if (!mero_blob_id_parse (args[0], blob, &error))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-blob-id", error->message);
      return;
    }
  if (context_id == NULL)
    context_id = query_value (msg, "context");
  if (!parse_context (context_id, context))
    {
      mero_server_reply_error (msg, SOUP_STATUS_BAD_REQUEST, "invalid-argument",
                               _("Give the context as ?context_id=CONTEXT"));
      return;
    }
  if (!mero_contexts_has_context (server->contexts, context_id))
    {
      mero_server_reply_error (msg, SOUP_STATUS_NOT_FOUND, "unknown-context",
                               _("Not a context of this node"));
      return;
    }
  find = g_new0 (Find, 1);
  find->msg = g_object_ref (msg);
  find->alive = g_object_ref (server->alive);
  find->blob_id = g_strdup (args[0]);
  find->context_id = g_steal_pointer (&context_id);
  soup_server_message_pause (msg);
  mero_blob_providers_lookup (server->providers, context, blob, on_found, find);
}
