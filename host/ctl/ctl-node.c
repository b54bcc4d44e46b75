/* ctl-node.c: meroctl info, plugins and peers over D-Bus. */
#include "ctl-commands.h"

#include <glib/gi18n.h>

int
ctl_info (MeroDBusNode1 *node, const CtlOptions *options)
{
  if (options->json)
    {
      g_autoptr (JsonBuilder) builder = json_builder_new ();
      g_autoptr (JsonNode) root = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "peer_id");
      json_builder_add_string_value (builder, mero_dbus_node1_get_peer_id (node));
      json_builder_set_member_name (builder, "version");
      json_builder_add_string_value (builder, mero_dbus_node1_get_version (node));
      json_builder_set_member_name (builder, "home");
      json_builder_add_string_value (builder, mero_dbus_node1_get_home_dir (node));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      ctl_print_json_node (root);
      return CTL_EXIT_OK;
    }
  g_print ("%s: %s\n", _("PeerId"), mero_dbus_node1_get_peer_id (node));
  g_print ("%s: %s\n", _("Version"), mero_dbus_node1_get_version (node));
  g_print ("%s: %s\n", _("Home"), mero_dbus_node1_get_home_dir (node));
  return CTL_EXIT_OK;
}

int
ctl_plugins (MeroDBusNode1 *node, const CtlOptions *options)
{
  g_autoptr (GVariant) plugins = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  const char *name, *kind, *version, *file, *status;

  if (!mero_dbus_node1_call_list_plugins_sync (node, &plugins, NULL, &error))
    return ctl_print_error (error);
  if (options->json)
    {
      ctl_print_json_variant (plugins);
      return CTL_EXIT_OK;
    }
  if (g_variant_n_children (plugins) == 0)
    {
      g_print ("%s\n", _("(none)"));
      return CTL_EXIT_OK;
    }
  g_print ("%-20s %-16s %-10s %-9s %s\n", _("NAME"), _("KIND"), _("VERSION"), _("STATUS"),
           _("FILE"));
  g_variant_iter_init (&iter, plugins);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &name, &kind, &version, &file, &status))
    g_print ("%-20s %-16s %-10s %-9s %s\n", name, kind, version, status, file);
  return CTL_EXIT_OK;
}

static void
print_peer_row (const char *peer_id, const char *address, const char *score,
                const char *protocols)
{
  g_print ("%-52s %-28s %8s %s\n", peer_id, address, score, protocols);
}

/* (transfer full) a{sd} peer id → gossip score; empty from a node that
 * predates ListPeerScores, so that its peers still list. */
static GVariant *
fetch_scores (MeroDBusNode1 *node)
{
  GVariant *scores = NULL;

  if (!mero_dbus_node1_call_list_peer_scores_sync (node, &scores, NULL, NULL))
    return g_variant_ref_sink (g_variant_new_array (G_VARIANT_TYPE ("{sd}"), NULL, 0));
  return scores;
}

/* ListPeers' rows with the score appended (null when the peer has none):
 * readers of the first three fields see what they always did. */
static GVariant *
peers_with_scores (GVariant *peers, GVariant *scores)
{
  GVariantBuilder builder;
  GVariantIter iter;
  const char *peer_id, *address;
  GVariant *protocols;

  g_variant_builder_init (&builder, G_VARIANT_TYPE ("a(ssasmd)"));
  g_variant_iter_init (&iter, peers);
  while (g_variant_iter_next (&iter, "(&s&s@as)", &peer_id, &address, &protocols))
    {
      double score = 0;
      gboolean has = g_variant_lookup (scores, peer_id, "d", &score);

      g_variant_builder_add (&builder, "(ss@asmd)", peer_id, address, protocols, has, score);
      g_variant_unref (protocols);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

int
ctl_peers (MeroDBusNode1 *node, const CtlOptions *options)
{
  g_autoptr (GVariant) peers = NULL;
  g_autoptr (GVariant) scores = NULL;
  g_autoptr (GError) error = NULL;
  const char *const *listen = mero_dbus_node1_get_listen_addresses (node);
  GVariantIter iter;
  const char *peer_id, *address;
  g_autofree const char **protocols = NULL;

  if (!mero_dbus_node1_call_list_peers_sync (node, &peers, NULL, &error))
    return ctl_print_error (error);
  scores = fetch_scores (node);
  if (options->json)
    {
      g_autoptr (GVariant) rows = peers_with_scores (peers, scores);

      ctl_print_json_variant (rows);
      return CTL_EXIT_OK;
    }
  for (gsize i = 0; listen != NULL && listen[i] != NULL; i++)
    g_print ("%s: %s\n", _("Listening on"), listen[i]);
  if (g_variant_n_children (peers) == 0)
    {
      g_print ("%s\n", _("(none)"));
      return CTL_EXIT_OK;
    }
  print_peer_row (_("PEER ID"), _("ADDRESS"), _("SCORE"), _("PROTOCOLS"));
  g_variant_iter_init (&iter, peers);
  while (g_variant_iter_next (&iter, "(&s&s^a&s)", &peer_id, &address, &protocols))
    {
      g_autofree char *joined = g_strjoinv (" ", (char **) protocols);
      g_autofree char *score_text = NULL;
      double score;

      if (g_variant_lookup (scores, peer_id, "d", &score))
        score_text = g_strdup_printf ("%.1f", score);
      print_peer_row (peer_id, address, score_text != NULL ? score_text : "-", joined);
      g_clear_pointer (&protocols, g_free);
    }
  return CTL_EXIT_OK;
}
