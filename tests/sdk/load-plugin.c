/* load-plugin.c: loads one .plugin file through the real registry and
 * reports the outcome; exit status 0 only if the plugin loaded.  Used by
 * the out-of-tree SDK test.
 *
 *   load-plugin FILE.plugin [QUOTE]
 *   load-plugin --sync-select FILE.plugin
 *
 * For a TEE verifier, QUOTE is then verified too (exit 1 if rejected).
 * With --sync-select the plugins of the default search path (the build
 * tree's sync-hash and sync-levelwise in the tests) are loaded too, the
 * SyncManager's selection (mero_sync_select_protocols) runs over every
 * sync protocol's cost() for two handshakes with differing roots, and the
 * one selected runs a whole session, initiator against responder, through
 * the host's session adapter (sync/mero-sync-session.h). */
#include <stdio.h>
#include <string.h>

#include "context/state/mero-state-access.h"
#include "plugin/mero-plugin-registry.h"
#include "sync/mero-sync-sched.h"
#include "sync/mero-sync-session.h"

typedef struct {
  MeroSyncDriver *self;
  MeroSyncDriver *peer;
  MeroSyncStatus status;
  gboolean ended;
} Side;

static void
side_write (GBytes *data, gpointer user_data)
{
  Side *side = user_data;

  mero_sync_driver_feed (side->peer, g_bytes_get_data (data, NULL), g_bytes_get_size (data));
}

static void
side_end (MeroSyncDriver *driver, MeroSyncStatus status, const char *reason, const char *message,
          gpointer user_data)
{
  Side *side = user_data;

  side->status = status;
  side->ended = TRUE;
  if (message != NULL)
    printf ("message=%s\n", message);
}

static int
sync_select (const char *file)
{
  g_autoptr (MeroPluginRegistry) registry = mero_plugin_registry_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) protocols = NULL;
  g_autoptr (GArray) order = NULL;
  g_autofree guint64 *costs = NULL;
  MeroSyncHandshake local = { .struct_size = sizeof local, .entity_count = 100, .max_depth = 2 };
  MeroSyncHandshake remote = local;
  MeroSyncSessionParams params = { .struct_size = sizeof params, .peer_id = "peer" };
  const MeroLoadedSyncProtocol *chosen;
  Side init = { 0 }, resp = { 0 };
  MeroSyncSessionStats stats;

  mero_plugin_registry_set_state_access (registry, mero_state_access_get ());
  mero_plugin_registry_load_path (registry, NULL);
  if (!mero_plugin_registry_load_file (registry, file, &error))
    {
      printf ("load=failed (%s)\n", error->message);
      return 1;
    }
  /* Two members that diverged: neither side is fresh (a fresh node takes
   * a snapshot, whatever else is loaded). */
  local.root_hash[0] = 2;
  remote.root_hash[0] = 1;
  protocols = mero_plugin_registry_get_sync_protocols (registry);
  costs = g_new0 (guint64, MAX (protocols->len, 1));
  for (guint i = 0; i < protocols->len; i++)
    {
      const MeroLoadedSyncProtocol *p = g_ptr_array_index (protocols, i);

      costs[i] = p->vtable->cost (p->plugin_data, &local, &remote);
      printf ("protocol=%s cost=%" G_GUINT64_FORMAT "\n", p->info->name, costs[i]);
    }
  order = mero_sync_select_protocols (costs, protocols->len);
  if (order->len == 0)
    {
      printf ("selected=none\n");
      return 1;
    }
  chosen = g_ptr_array_index (protocols, g_array_index (order, guint, 0));
  printf ("selected=%s\n", chosen->info->name);

  params.local = &local;
  params.remote = &remote;
  params.now_us = g_get_monotonic_time ();
  params.role = MERO_SYNC_ROLE_RESPONDER;
  resp.self = mero_sync_driver_new (chosen, &params, side_write, side_end, &resp, &error);
  params.local = &remote;
  params.remote = &local;
  params.role = MERO_SYNC_ROLE_INITIATOR;
  init.self = resp.self != NULL
                  ? mero_sync_driver_new (chosen, &params, side_write, side_end, &init, &error)
                  : NULL;
  if (init.self == NULL)
    {
      printf ("session=not started (%s)\n", error != NULL ? error->message : "?");
      mero_sync_driver_free (resp.self);
      return 1;
    }
  init.peer = resp.self;
  resp.peer = init.self;
  mero_sync_driver_start (resp.self);
  mero_sync_driver_start (init.self);
  mero_sync_driver_get_stats (init.self, &stats);
  printf ("initiator=%s responder=%s round_trips=%" G_GUINT64_FORMAT "\n",
          init.ended && init.status == MERO_SYNC_STATUS_DONE ? "done" : "not-done",
          resp.ended && resp.status == MERO_SYNC_STATUS_DONE ? "done" : "not-done",
          stats.round_trips);
  mero_sync_driver_free (init.self);
  mero_sync_driver_free (resp.self);
  return init.status == MERO_SYNC_STATUS_DONE && resp.status == MERO_SYNC_STATUS_DONE ? 0 : 1;
}

int
main (int argc, char **argv)
{
  g_autoptr (MeroPluginRegistry) registry = NULL;
  g_autoptr (GError) error = NULL;
  const MeroPluginInfo *info;
  g_autofree char *name = NULL;

  if (argc == 3 && g_str_equal (argv[1], "--sync-select"))
    return sync_select (argv[2]);
  if (argc < 2 || argc > 3)
    {
      fprintf (stderr, "usage: %s FILE.plugin [QUOTE]\n", argv[0]);
      return 2;
    }

  registry = mero_plugin_registry_new ();
  (void) mero_plugin_registry_load_file (registry, argv[1], &error);

  /* The record carries the outcome whatever it was. */
  {
    g_autoptr (GPtrArray) list = mero_plugin_registry_list (registry);

    info = list->len == 1 ? g_ptr_array_index (list, 0) : NULL;
  }
  if (info == NULL)
    {
      fprintf (stderr, "%s: no record\n", argv[1]);
      return 1;
    }
  printf ("name=%s kind=%s version=%s status=%s error=%s\n", info->name,
          mero_plugin_kind_to_string (info->kind), info->version != NULL ? info->version : "-",
          mero_plugin_status_to_string (info->status),
          mero_plugin_error_code_to_string (info->error_code));
  if (info->status != MERO_PLUGIN_STATUS_LOADED)
    {
      printf ("message=%s\n", info->error_message != NULL ? info->error_message : "-");
      return 1;
    }

  if (argc == 3 && info->kind == MERO_PLUGIN_KIND_TEE_VERIFIER)
    {
      MeroTeeVerdict verdict = { .struct_size = sizeof verdict };
      const MeroLoadedTeeVerifier *tee;

      name = g_strdup (info->name);
      tee = mero_plugin_registry_get_tee_verifier (registry, name, &error);
      if (tee == NULL ||
          !tee->vtable->verify (tee->plugin_data, (const guint8 *) argv[2], strlen (argv[2]),
                                NULL, 0, &verdict, &error))
        {
          printf ("verify=rejected (%s)\n", error != NULL ? error->message : "?");
          return 1;
        }
      printf ("verify=ok report_data=%s\n", (const char *) verdict.report_data);
    }
  return 0;
}
