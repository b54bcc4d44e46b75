/* test-plugin-loader.c: the loader against real good and broken modules
 * (tests/plugins/modules), one scan of all of them, and file vetting on
 * copies made at test time (git does not keep modes). */
#include <errno.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mero-build-config.h"
#include "metrics/mero-metrics.h"
#include "plugin/mero-plugin-registry.h"
#include "test-log-capture.h"

#include "modules/echo-core.h"
#include "modules/tee-core.h"

/* Set by meson: where tests/plugins/modules was built. */
#ifndef TEST_PLUGIN_DIR
#error "TEST_PLUGIN_DIR must be defined"
#endif

typedef struct {
  MeroMetrics *metrics;
  MeroPluginRegistry *registry;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  test_log_capture_clear ();
  fixture->metrics = mero_metrics_new ();
  fixture->registry = mero_plugin_registry_new ();
  mero_plugin_registry_set_metrics (fixture->registry, fixture->metrics);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_pointer (&fixture->registry, mero_plugin_registry_free);
  g_clear_pointer (&fixture->metrics, mero_metrics_unref);
}

static char *
plugin_file (const char *name)
{
  g_autofree char *base = g_strconcat (name, ".plugin", NULL);

  return g_build_filename (TEST_PLUGIN_DIR, base, NULL);
}

static const MeroPluginInfo *
find_info_by_file (MeroPluginRegistry *registry, const char *basename)
{
  g_autoptr (GPtrArray) list = mero_plugin_registry_list (registry);

  for (guint i = 0; i < list->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (list, i);
      g_autofree char *base = g_path_get_basename (info->metadata_file);

      if (strcmp (base, basename) == 0)
        return info;
    }
  return NULL;
}

/* ---- one broken plugin at a time ---------------------------------- */

typedef struct {
  const char *name;         /* .plugin file name without the suffix */
  int code;
  const char *substring;    /* must appear in the message */
  const char *names_file;   /* basename the message must contain */
} BrokenCase;

static const BrokenCase broken_cases[] = {
  { "broken-missing-symbol", MERO_PLUGIN_ERROR_MISSING_SYMBOL,
    "does not export mero_plugin_get_descriptor()", "mero-broken-missing-symbol.so" },
  { "broken-wrong-major", MERO_PLUGIN_ERROR_ABI_MAJOR,
    "built for plugin ABI 2, this host speaks ABI 1", "mero-broken-wrong-major.so" },
  { "broken-newer-minor", MERO_PLUGIN_ERROR_ABI_MINOR,
    "built for plugin ABI 1.3, newer than this host's 1.2", "mero-broken-newer-minor.so" },
  { "broken-short-struct", MERO_PLUGIN_ERROR_SHORT_STRUCT,
    "descriptor struct_size 48 is smaller than the ABI 1 descriptor (64)",
    "mero-broken-short-struct.so" },
  { "broken-short-vtable", MERO_PLUGIN_ERROR_SHORT_STRUCT,
    "sync-protocol vtable struct_size 24 is smaller than the ABI 1 vtable (88)",
    "mero-broken-short-vtable.so" },
  { "broken-init-fails", MERO_PLUGIN_ERROR_INIT_FAILED,
    "init failed: refusing to start: no licence for broken-init-fails",
    "mero-broken-init-fails.so" },
  { "broken-missing-method", MERO_PLUGIN_ERROR_MISSING_METHOD,
    "sync-protocol vtable lacks required member “pull_send”", "mero-broken-missing-method.so" },
  { "broken-unknown-kind", MERO_PLUGIN_ERROR_BAD_KIND, "unknown plugin kind 77",
    "mero-broken-unknown-kind.so" },
  { "broken-metadata-mismatch", MERO_PLUGIN_ERROR_METADATA_MISMATCH,
    "descriptor name “someone-else” differs from the .plugin Name “broken-metadata-mismatch”",
    "mero-broken-metadata-mismatch.so" },
  { "broken-bad-metadata", MERO_PLUGIN_ERROR_BAD_METADATA,
    "missing or empty key “Module” in group [Plugin]", "broken-bad-metadata.plugin" },
  { "broken-no-module", MERO_PLUGIN_ERROR_NOT_FOUND, "module file cannot be inspected",
    "mero-broken-no-module.so" },
  { "broken-not-elf", MERO_PLUGIN_ERROR_OPEN_FAILED, "cannot open module",
    "mero-broken-not-elf.so" },
};

static void
test_broken_one (Fixture *fixture, gconstpointer data)
{
  const BrokenCase *bc = data;
  g_autofree char *file = plugin_file (bc->name);
  g_autoptr (GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autoptr (GPtrArray) sync = NULL;
  const MeroPluginInfo *info;

  g_assert_false (mero_plugin_registry_load_file (fixture->registry, file, &error));
  g_assert_error (error, MERO_PLUGIN_ERROR, bc->code);
  g_assert_nonnull (strstr (error->message, bc->substring));
  g_assert_nonnull (strstr (error->message, bc->names_file));

  info = mero_plugin_registry_lookup (fixture->registry, bc->name);
  g_assert_nonnull (info);
  g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_FAILED);
  g_assert_cmpint (info->error_code, ==, bc->code);
  g_assert_cmpstr (info->error_message, ==, error->message);
  g_assert_cmpstr (info->metadata_file, ==, file);

  /* Logged once at warning level, with the file and code as fields. */
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, NULL, NULL), ==, 1);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, "MERO_PLUGIN_FILE", file), ==,
                    1);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, "MERO_PLUGIN_ERROR_CODE",
                                            mero_plugin_error_code_to_string (bc->code)),
                    ==, 1);
  reason = g_strdup_printf ("reason=\"%s\"", mero_plugin_error_code_to_string (bc->code));
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, MERO_PLUGIN_METRIC_FAILURES,
                                              reason), ==, 1);

  /* Nothing of it is reachable, and the host carries on: a good plugin
   * still loads into the same registry. */
  sync = mero_plugin_registry_get_sync_protocols (fixture->registry);
  g_assert_cmpuint (sync->len, ==, 0);
  g_clear_error (&error);
  g_clear_pointer (&file, g_free);
  file = plugin_file ("test-echo");
  g_assert_true (mero_plugin_registry_load_file (fixture->registry, file, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mero_plugin_registry_lookup (fixture->registry, "test-echo")->status, ==,
                   MERO_PLUGIN_STATUS_LOADED);
}

static void
test_init_failure_does_not_finalize (Fixture *fixture, gconstpointer data)
{
  g_autofree char *file = plugin_file ("broken-init-fails");

  g_assert_false (mero_plugin_registry_load_file (fixture->registry, file, NULL));
  g_clear_pointer (&fixture->registry, mero_plugin_registry_free);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics,
                                              "mero_test_init_fails_init_total", NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics,
                                              "mero_test_echo_finalize_total", NULL), ==, 0);
}

/* ---- one scan of everything --------------------------------------- */

static void
test_scan_all (Fixture *fixture, gconstpointer data)
{
  const char *dirs[] = { TEST_PLUGIN_DIR, NULL };
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GPtrArray) sync = NULL;
  g_autoptr (GError) error = NULL;
  const MeroPluginInfo *info;
  guint n_failed = 0;

  g_assert_cmpuint (mero_plugin_registry_load_path (fixture->registry, dirs), ==, 2);

  list = mero_plugin_registry_list (fixture->registry);
  g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (broken_cases) + 3);
  for (guint i = 1; i < list->len; i++)
    {
      const MeroPluginInfo *a = g_ptr_array_index (list, i - 1);
      const MeroPluginInfo *b = g_ptr_array_index (list, i);

      g_assert_cmpint (strcmp (a->name, b->name), <=, 0);
    }

  for (gsize i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      g_autofree char *base = g_strconcat (broken_cases[i].name, ".plugin", NULL);

      info = find_info_by_file (fixture->registry, base);
      g_assert_nonnull (info);
      g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_FAILED);
      g_assert_cmpint (info->error_code, ==, broken_cases[i].code);
      g_assert_nonnull (strstr (info->error_message, broken_cases[i].substring));
    }

  info = find_info_by_file (fixture->registry, "zz-test-echo-again.plugin");
  g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_FAILED);
  g_assert_cmpint (info->error_code, ==, MERO_PLUGIN_ERROR_DUPLICATE);
  g_assert_nonnull (strstr (info->error_message, "a plugin named “test-echo” is already loaded"));

  info = mero_plugin_registry_lookup (fixture->registry, "test-echo");
  g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_LOADED);
  g_assert_cmpint (info->kind, ==, MERO_PLUGIN_KIND_SYNC_PROTOCOL);
  g_assert_cmpstr (info->version, ==, "1.0.0");
  g_assert_cmpint (info->error_code, ==, 0);
  g_assert_null (info->error_message);
  g_assert_true (g_str_has_suffix (info->module_file, "/mero-test-echo.so"));

  for (guint i = 0; i < list->len; i++)
    n_failed += ((const MeroPluginInfo *) g_ptr_array_index (list, i))->status ==
                MERO_PLUGIN_STATUS_FAILED;
  g_assert_cmpuint (n_failed, ==, G_N_ELEMENTS (broken_cases) + 1);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, "GLIB_DOMAIN",
                                            MERO_PLUGIN_LOADER_LOG_DOMAIN), ==, n_failed);

  sync = mero_plugin_registry_get_sync_protocols (fixture->registry);
  g_assert_cmpuint (sync->len, ==, 1);
  g_assert_cmpstr (((const MeroLoadedSyncProtocol *) g_ptr_array_index (sync, 0))->info->name,
                   ==, "test-echo");
  g_assert_nonnull (mero_plugin_registry_get_tee_verifier (fixture->registry, "test-tee",
                                                           &error));
  g_assert_no_error (error);
  g_assert_null (mero_plugin_registry_get_storage_backend (fixture->registry, "test-echo",
                                                           &error));
  g_assert_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_NOT_FOUND);

  {
    double loaded = 0;

    g_assert_true (mero_metrics_lookup (fixture->metrics, MERO_PLUGIN_METRIC_LOADED, NULL, NULL,
                                        &loaded));
    g_assert_cmpfloat (loaded, ==, 2.0);
  }
}

#define N_READERS 4

static gpointer
reader_thread (gpointer data)
{
  MeroPluginRegistry *registry = data;

  for (int i = 0; i < 2000; i++)
    {
      g_autoptr (GPtrArray) list = mero_plugin_registry_list (registry);
      g_autoptr (GPtrArray) sync = mero_plugin_registry_get_sync_protocols (registry);
      const MeroPluginInfo *info = mero_plugin_registry_lookup (registry, "test-echo");

      g_assert_cmpuint (list->len, ==, G_N_ELEMENTS (broken_cases) + 3);
      g_assert_cmpuint (sync->len, ==, 1);
      g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_LOADED);
      g_assert_nonnull (mero_plugin_registry_get_tee_verifier (registry, "test-tee", NULL));
    }
  return NULL;
}

/* After loading, the registry is read from several threads at once. */
static void
test_concurrent_reads (Fixture *fixture, gconstpointer data)
{
  const char *dirs[] = { TEST_PLUGIN_DIR, NULL };
  GThread *threads[N_READERS];

  g_assert_cmpuint (mero_plugin_registry_load_path (fixture->registry, dirs), ==, 2);
  for (int i = 0; i < N_READERS; i++)
    threads[i] = g_thread_new ("reader", reader_thread, fixture->registry);
  for (int i = 0; i < N_READERS; i++)
    g_thread_join (threads[i]);
}

static void
test_disabled (Fixture *fixture, gconstpointer data)
{
  const char *dirs[] = { TEST_PLUGIN_DIR, NULL };
  const char *disabled[] = { "test-tee", "broken-wrong-major", NULL };
  g_autoptr (GError) error = NULL;
  const MeroPluginInfo *info;

  mero_plugin_registry_set_disabled (fixture->registry, disabled);
  g_assert_cmpuint (mero_plugin_registry_load_path (fixture->registry, dirs), ==, 1);

  info = mero_plugin_registry_lookup (fixture->registry, "test-tee");
  g_assert_cmpint (info->status, ==, MERO_PLUGIN_STATUS_DISABLED);
  g_assert_cmpint (info->error_code, ==, 0);
  g_assert_cmpint (mero_plugin_registry_lookup (fixture->registry, "broken-wrong-major")->status,
                   ==, MERO_PLUGIN_STATUS_DISABLED);
  /* Never opened, so never initialised. */
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_tee_init_total",
                                              NULL), ==, 0);
  g_assert_null (mero_plugin_registry_get_tee_verifier (fixture->registry, "test-tee", &error));
  g_assert_error (error, MERO_PLUGIN_ERROR, MERO_PLUGIN_ERROR_NOT_FOUND);
}

static void
test_search_path (void)
{
  g_auto (GStrv) path = NULL;

  g_setenv ("MERO_PLUGIN_DIR", "/tmp/a::/tmp/b:/tmp/a:", TRUE);
  path = mero_plugin_registry_default_search_path ();
  g_assert_cmpuint (g_strv_length (path), ==, 3);
  g_assert_cmpstr (path[0], ==, "/tmp/a");
  g_assert_cmpstr (path[1], ==, "/tmp/b");
  g_assert_cmpstr (path[2], ==, MERO_PLUGINDIR);
  g_clear_pointer (&path, g_strfreev);

  g_unsetenv ("MERO_PLUGIN_DIR");
  path = mero_plugin_registry_default_search_path ();
  g_assert_cmpuint (g_strv_length (path), ==, 1);
  g_assert_cmpstr (path[0], ==, MERO_PLUGINDIR);
}

static void
test_load_path_default (Fixture *fixture, gconstpointer data)
{
  g_setenv ("MERO_PLUGIN_DIR", "/nonexistent/merod-test:" TEST_PLUGIN_DIR, TRUE);
  g_assert_cmpuint (mero_plugin_registry_load_path (fixture->registry, NULL), >=, 2);
  g_unsetenv ("MERO_PLUGIN_DIR");
  g_assert_cmpint (mero_plugin_registry_lookup (fixture->registry, "test-echo")->status, ==,
                   MERO_PLUGIN_STATUS_LOADED);
}

/* MERO_PLUGIN_DIR as the test started (test_env points it at the real
 * plugins of this build); other tests change the variable. */
static char *real_plugin_dirs;

/* Every plugin this build ships loads, with the checks of this loader. */
static void
test_real_plugins (Fixture *fixture, gconstpointer data)
{
  g_auto (GStrv) dirs = NULL;
  g_autoptr (GPtrArray) list = NULL;
  guint n_seen = 0;

  if (real_plugin_dirs == NULL || real_plugin_dirs[0] == '\0')
    {
      g_test_skip ("MERO_PLUGIN_DIR is not set (run through meson test)");
      return;
    }
  dirs = g_strsplit (real_plugin_dirs, G_SEARCHPATH_SEPARATOR_S, -1);
  mero_plugin_registry_load_path (fixture->registry, (const char *const *) dirs);
  list = mero_plugin_registry_list (fixture->registry);
  for (guint i = 0; i < list->len; i++)
    {
      const MeroPluginInfo *info = g_ptr_array_index (list, i);

      if (info->status != MERO_PLUGIN_STATUS_LOADED)
        g_error ("shipped plugin %s (%s) did not load: %s", info->name, info->metadata_file,
                 info->error_message);
      g_test_message ("%s %s %s loaded", info->name, mero_plugin_kind_to_string (info->kind),
                      info->version);
      n_seen++;
    }
  if (n_seen == 0)
    g_test_incomplete ("no plugin is built yet");
}

/* ---- the good plugins, through the registry ----------------------- */

static gboolean
dummy_root_hash (MeroStateHandle *state, uint8_t out_hash[32], GError **error)
{
  memset (out_hash, 0, 32);
  return TRUE;
}

static const MeroStateAccess dummy_state = {
  .struct_size = sizeof (MeroStateAccess),
  .get_root_hash = dummy_root_hash,
};

static const MeroLoadedSyncProtocol *
load_echo (Fixture *fixture)
{
  g_autofree char *file = plugin_file ("test-echo");
  g_autoptr (GPtrArray) sync = NULL;
  g_autoptr (GError) error = NULL;

  mero_plugin_registry_set_state_access (fixture->registry, &dummy_state);
  g_assert_true (mero_plugin_registry_load_file (fixture->registry, file, &error));
  g_assert_no_error (error);
  sync = mero_plugin_registry_get_sync_protocols (fixture->registry);
  g_assert_cmpuint (sync->len, ==, 1);
  return g_ptr_array_index (sync, 0);
}

static void
test_init_finalize_and_services (Fixture *fixture, gconstpointer data)
{
  g_autofree char *tee_file = plugin_file ("test-tee");
  double has_state = -1;

  load_echo (fixture);
  g_assert_true (mero_plugin_registry_load_file (fixture->registry, tee_file, NULL));

  /* init ran once and reached the host: metrics and a log line tagged
   * with the plugin's name. */
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_init_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_tee_init_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_finalize_total",
                                              NULL), ==, 0);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_INFO, "MERO_PLUGIN", "test-echo"), ==,
                    1);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_INFO, "MESSAGE",
                                            "test-echo ready on host " MERO_VERSION), ==, 1);
  /* Only the sync protocol gets state access. */
  g_assert_true (mero_metrics_lookup (fixture->metrics, "mero_test_echo_has_state", NULL, NULL,
                                      &has_state));
  g_assert_cmpfloat (has_state, ==, 1.0);
  g_assert_true (mero_metrics_lookup (fixture->metrics, "mero_test_tee_has_state", NULL, NULL,
                                      &has_state));
  g_assert_cmpfloat (has_state, ==, 0.0);

  g_clear_pointer (&fixture->registry, mero_plugin_registry_free);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_init_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_finalize_total",
                                              NULL), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_tee_finalize_total",
                                              NULL), ==, 1);
}

static MeroSyncSession *
new_session (const MeroLoadedSyncProtocol *proto, MeroSyncRole role,
             const MeroSyncHandshake *local, const MeroSyncHandshake *remote, int64_t now)
{
  MeroSyncSessionParams params = {
    .struct_size = sizeof params,
    .role = role,
    .peer_id = "12D3KooWTestPeer",
    .local = local,
    .remote = remote,
    .now_us = now,
  };
  g_autoptr (GError) error = NULL;
  MeroSyncSession *session = proto->vtable->session_new (proto->plugin_data, &params, &error);

  g_assert_no_error (error);
  g_assert_nonnull (session);
  return session;
}

/* Moves everything @from wants to send into @to, one byte per recv so
 * the session's reassembly is exercised. */
static gsize
pump (const MeroSyncProtocolVTable *vt, MeroSyncSession *from, MeroSyncSession *to,
      int64_t now)
{
  g_autoptr (GBytes) bytes = vt->pull_send (from);
  const guint8 *data;
  gsize len = 0;

  if (bytes == NULL)
    return 0;
  data = g_bytes_get_data (bytes, &len);
  for (gsize i = 0; i < len; i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (vt->recv (to, data + i, 1, now, &error));
      g_assert_no_error (error);
    }
  return len;
}

static void
test_echo_session (Fixture *fixture, gconstpointer data)
{
  const MeroLoadedSyncProtocol *proto = load_echo (fixture);
  const MeroSyncProtocolVTable *vt = proto->vtable;
  MeroSyncHandshake local = { .struct_size = sizeof local, .entity_count = 5 };
  MeroSyncHandshake remote = { .struct_size = sizeof remote, .entity_count = 7 };
  MeroSyncSession *initiator, *responder;
  MeroSyncSessionStats stats;
  int64_t now = 1000;
  guint rounds = 0;

  /* The host's copy, in its own layout, not the plugin's struct. */
  g_assert_cmpuint (vt->struct_size, ==, sizeof (MeroSyncProtocolVTable));
  g_assert_cmpstr (vt->protocol_id, ==, TEST_ECHO_PROTOCOL_ID);
  g_assert_cmpuint (vt->cost (proto->plugin_data, &local, &local), ==,
                    MERO_SYNC_COST_NOT_APPLICABLE);
  remote.root_hash[0] = 1;
  g_assert_cmpuint (vt->cost (proto->plugin_data, &local, &remote), ==, 17);

  initiator = new_session (proto, MERO_SYNC_ROLE_INITIATOR, &local, &remote, now);
  responder = new_session (proto, MERO_SYNC_ROLE_RESPONDER, &remote, &local, now);
  g_assert_cmpint (vt->next_deadline (initiator), ==, now + TEST_ECHO_TIMEOUT_US);

  while (vt->status (initiator) == MERO_SYNC_STATUS_RUNNING ||
         vt->status (responder) == MERO_SYNC_STATUS_RUNNING)
    {
      gsize moved;

      now += 10;
      moved = pump (vt, initiator, responder, now);
      moved += pump (vt, responder, initiator, now);
      g_assert_cmpuint (moved, >, 0);
      g_assert_cmpuint (++rounds, <=, 2 * TEST_ECHO_PINGS + 1);
    }
  g_assert_cmpint (vt->status (initiator), ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (vt->status (responder), ==, MERO_SYNC_STATUS_DONE);
  g_assert_cmpint (vt->next_deadline (initiator), ==, MERO_SYNC_NO_DEADLINE);
  g_assert_null (vt->pull_send (initiator));

  vt->get_stats (initiator, &stats);
  g_assert_cmpuint (stats.round_trips, ==, TEST_ECHO_PINGS);
  g_assert_cmpuint (stats.messages_sent, ==, TEST_ECHO_PINGS + 1);
  g_assert_cmpuint (stats.messages_received, ==, TEST_ECHO_PINGS);
  g_assert_cmpuint (stats.bytes_sent, ==, TEST_ECHO_PINGS * (2 + TEST_ECHO_NONCE_LEN) + 2);
  vt->get_stats (responder, &stats);
  g_assert_cmpuint (stats.messages_received, ==, TEST_ECHO_PINGS + 1);
  g_assert_cmpuint (stats.bytes_received, ==, TEST_ECHO_PINGS * (2 + TEST_ECHO_NONCE_LEN) + 2);

  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_sessions_total",
                                              "role=\"initiator\""), ==, 1);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_echo_sessions_total",
                                              "role=\"responder\""), ==, 1);
  vt->session_free (initiator);
  vt->session_free (responder);
  vt->session_free (NULL);
}

static void
test_echo_deadline_and_errors (Fixture *fixture, gconstpointer data)
{
  const MeroLoadedSyncProtocol *proto = load_echo (fixture);
  const MeroSyncProtocolVTable *vt = proto->vtable;
  MeroSyncHandshake hs = { .struct_size = sizeof hs };
  const guint8 garbage[] = { 'X', 0 };
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) first = NULL;
  MeroSyncSession *session;

  session = new_session (proto, MERO_SYNC_ROLE_INITIATOR, &hs, &hs, 0);
  first = vt->pull_send (session);
  g_assert_cmpuint (g_bytes_get_size (first), ==, 2 + TEST_ECHO_NONCE_LEN);
  g_assert_cmpint (vt->next_deadline (session), ==, TEST_ECHO_TIMEOUT_US);
  /* Early: nothing happens. */
  g_assert_true (vt->handle_deadline (session, TEST_ECHO_TIMEOUT_US - 1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (vt->status (session), ==, MERO_SYNC_STATUS_RUNNING);
  g_assert_false (vt->handle_deadline (session, TEST_ECHO_TIMEOUT_US, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_TIMEOUT);
  g_assert_cmpint (vt->status (session), ==, MERO_SYNC_STATUS_FAILED);
  g_assert_cmpint (vt->next_deadline (session), ==, MERO_SYNC_NO_DEADLINE);
  vt->session_free (session);
  g_clear_error (&error);

  session = new_session (proto, MERO_SYNC_ROLE_RESPONDER, &hs, &hs, 0);
  g_assert_false (vt->recv (session, garbage, sizeof garbage, 1, &error));
  g_assert_error (error, MERO_SYNC_ERROR, MERO_SYNC_ERROR_PROTOCOL);
  g_assert_cmpint (vt->status (session), ==, MERO_SYNC_STATUS_FAILED);
  vt->session_free (session);
}

static GBytes *
make_quote (guint8 tcb, const guint8 report_data[64])
{
  guint8 quote[TEST_TEE_QUOTE_LEN] = { 0 };
  g_autoptr (GHmac) hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) TEST_TEE_KEY,
                                       strlen (TEST_TEE_KEY));
  gsize mac_len = 32;

  memcpy (quote, TEST_TEE_MAGIC, 4);
  quote[4] = tcb;
  quote[5] = 4;
  memcpy (quote + 6, "\xde\xad\xbe\xef", 4);
  memcpy (quote + 54, report_data, 64);
  g_hmac_update (hmac, quote, TEST_TEE_SIGNED_LEN);
  g_hmac_get_digest (hmac, quote + TEST_TEE_SIGNED_LEN, &mac_len);
  return g_bytes_new (quote, sizeof quote);
}

static void
test_tee_verifier (Fixture *fixture, gconstpointer data)
{
  g_autofree char *file = plugin_file ("test-tee");
  const MeroLoadedTeeVerifier *tee;
  guint8 report_data[64];
  g_autoptr (GBytes) quote = NULL;
  g_autoptr (GBytes) revoked = NULL;
  g_autoptr (GError) error = NULL;
  MeroTeeVerdict verdict = { .struct_size = sizeof verdict };
  g_autofree guint8 *tampered = NULL;
  const guint8 *q;
  gsize len;

  g_assert_true (mero_plugin_registry_load_file (fixture->registry, file, NULL));
  tee = mero_plugin_registry_get_tee_verifier (fixture->registry, "test-tee", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tee->vtable->quote_format, ==, TEST_TEE_QUOTE_FORMAT);

  for (guint i = 0; i < sizeof report_data; i++)
    report_data[i] = (guint8) i;
  quote = make_quote (MERO_TEE_TCB_UP_TO_DATE, report_data);
  q = g_bytes_get_data (quote, &len);

  g_assert_true (tee->vtable->verify (tee->plugin_data, q, len, report_data, 64, &verdict,
                                      &error));
  g_assert_no_error (error);
  g_assert_cmpuint (verdict.tcb_status, ==, MERO_TEE_TCB_UP_TO_DATE);
  g_assert_cmpuint (verdict.measurement_len, ==, 4);
  g_assert_cmpmem (verdict.measurement, 4, "\xde\xad\xbe\xef", 4);
  g_assert_cmpmem (verdict.report_data, 64, report_data, 64);

  tampered = g_memdup2 (q, len);
  tampered[7] ^= 1;
  g_assert_false (tee->vtable->verify (tee->plugin_data, tampered, len, NULL, 0, &verdict,
                                       &error));
  g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_SIGNATURE);
  g_clear_error (&error);
  g_assert_cmpuint (mero_metrics_get_counter (fixture->metrics, "mero_test_tee_rejected_total",
                                              "reason=\"signature\""), ==, 1);

  g_assert_false (tee->vtable->verify (tee->plugin_data, q, len - 1, NULL, 0, &verdict, &error));
  g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_MALFORMED);
  g_clear_error (&error);

  g_assert_false (tee->vtable->verify (tee->plugin_data, q, len, (const guint8 *) "other", 5,
                                       &verdict, &error));
  g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_REPORT_DATA);
  g_clear_error (&error);

  revoked = make_quote (MERO_TEE_TCB_REVOKED, report_data);
  q = g_bytes_get_data (revoked, &len);
  g_assert_false (tee->vtable->verify (tee->plugin_data, q, len, NULL, 0, &verdict, &error));
  g_assert_error (error, MERO_TEE_ERROR, MERO_TEE_ERROR_POLICY);
}

/* ---- file vetting, on copies in a temporary directory ------------- */

typedef struct {
  Fixture base;
  char *dir;
  char *metadata;   /* <dir>/test-echo.plugin */
  char *module;     /* <dir>/mero-test-echo.so */
} TempFixture;

static void
copy_file (const char *from, const char *to, mode_t mode)
{
  g_autofree char *contents = NULL;
  g_autoptr (GError) error = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (from, &contents, &len, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_set_contents_full (to, contents, (gssize) len,
                                           G_FILE_SET_CONTENTS_NONE, (int) mode, &error));
  g_assert_no_error (error);
  /* The umask may have taken bits away or the file may have existed. */
  g_assert_cmpint (g_chmod (to, mode), ==, 0);
}

static void
temp_set_up (TempFixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *src_metadata = plugin_file ("test-echo");
  g_autofree char *src_module = g_build_filename (TEST_PLUGIN_DIR, "mero-test-echo.so", NULL);

  fixture_set_up (&fixture->base, data);
  fixture->dir = g_dir_make_tmp ("merod-plugin-test-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->metadata = g_build_filename (fixture->dir, "test-echo.plugin", NULL);
  fixture->module = g_build_filename (fixture->dir, "mero-test-echo.so", NULL);
  copy_file (src_metadata, fixture->metadata, 0644);
  copy_file (src_module, fixture->module, 0755);
}

static void
remove_tree (const char *path)
{
  g_autoptr (GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        remove_tree (child);
      else
        g_assert_cmpint (g_unlink (child), ==, 0);
    }
  g_assert_cmpint (g_rmdir (path), ==, 0);
}

static void
temp_tear_down (TempFixture *fixture, gconstpointer data)
{
  fixture_tear_down (&fixture->base, data);
  remove_tree (fixture->dir);
  g_free (fixture->dir);
  g_free (fixture->metadata);
  g_free (fixture->module);
}

static void
assert_temp_fails (TempFixture *fixture, int code, const char *substring, const char *names)
{
  g_autoptr (GError) error = NULL;

  g_assert_false (mero_plugin_registry_load_file (fixture->base.registry, fixture->metadata,
                                                  &error));
  g_assert_error (error, MERO_PLUGIN_ERROR, code);
  if (strstr (error->message, substring) == NULL || strstr (error->message, names) == NULL)
    g_error ("message “%s” lacks “%s” or “%s”", error->message, substring, names);
  g_assert_cmpuint (test_log_capture_count (G_LOG_LEVEL_WARNING, "MERO_PLUGIN_FILE",
                                            fixture->metadata), ==, 1);
}

static void
test_copy_loads (TempFixture *fixture, gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (mero_plugin_registry_load_file (fixture->base.registry, fixture->metadata,
                                                 &error));
  g_assert_no_error (error);
}

static void
test_world_writable_module (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_chmod (fixture->module, 0757), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE, "module file is world-writable",
                     fixture->module);
}

static void
test_group_writable_module (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_chmod (fixture->module, 0775), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE, "module file is group-writable",
                     fixture->module);
}

static void
test_world_writable_metadata (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_chmod (fixture->metadata, 0646), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE, "metadata file is world-writable",
                     fixture->metadata);
}

static void
test_module_is_directory (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_unlink (fixture->module), ==, 0);
  g_assert_cmpint (g_mkdir (fixture->module, 0755), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE, "module file is a directory",
                     fixture->module);
}

static void
test_module_is_fifo (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_unlink (fixture->module), ==, 0);
  g_assert_cmpint (mkfifo (fixture->module, 0644), ==, 0);
  /* Must fail without opening it (opening a FIFO would block). */
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE, "module file is a FIFO",
                     fixture->module);
}

static void
test_module_symlink (TempFixture *fixture, gconstpointer data)
{
  g_autofree char *real = g_build_filename (fixture->dir, "real.so", NULL);
  g_autofree char *subdir = g_build_filename (fixture->dir, "subdir", NULL);

  g_assert_cmpint (g_rename (fixture->module, real), ==, 0);
  g_assert_cmpint (symlink ("real.so", fixture->module), ==, 0);
  test_copy_loads (fixture, data);

  /* A link to something that is not a regular file is refused. */
  g_clear_pointer (&fixture->base.registry, mero_plugin_registry_free);
  fixture->base.registry = mero_plugin_registry_new ();
  g_assert_cmpint (g_unlink (fixture->module), ==, 0);
  g_assert_cmpint (g_mkdir (subdir, 0755), ==, 0);
  g_assert_cmpint (symlink ("subdir", fixture->module), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_UNSAFE_FILE,
                     "module file is a symbolic link to a directory", fixture->module);
}

static void
write_metadata (TempFixture *fixture, const char *contents)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (fixture->metadata, contents, -1, &error));
  g_assert_no_error (error);
  g_assert_cmpint (g_chmod (fixture->metadata, 0644), ==, 0);
}

static void
test_metadata_variants (TempFixture *fixture, gconstpointer data)
{
  struct {
    const char *contents;
    int code;
    const char *substring;
  } cases[] = {
    { "[Plugin]\nName=test-echo\nKind=quantum-oracle\nVersion=1.0.0\nDescription=x\n"
      "Module=mero-test-echo.so\n", MERO_PLUGIN_ERROR_BAD_KIND,
      "key “Kind”: unknown plugin kind “quantum-oracle”" },
    { "[Plugin]\nName=test-echo\nKind=sync-protocol\nVersion=1.0.0\nDescription=x\n"
      "Module=../mero-test-echo.so\n", MERO_PLUGIN_ERROR_BAD_METADATA,
      "key “Module”: “../mero-test-echo.so” must be a file name in the same directory" },
    { "[Plugin]\nName=Test Echo\nKind=sync-protocol\nVersion=1.0.0\nDescription=x\n"
      "Module=mero-test-echo.so\n", MERO_PLUGIN_ERROR_BAD_METADATA,
      "key “Name”: “Test Echo” is not a plugin name" },
    { "[Plugin]\nName=test-echo\nKind=sync-protocol\nDescription=x\nModule=mero-test-echo.so\n",
      MERO_PLUGIN_ERROR_BAD_METADATA, "missing or empty key “Version”" },
    { "[Plugin]\nName=test-echo\nKind=sync-protocol\nVersion=9.9.9\nDescription=x\n"
      "Module=mero-test-echo.so\n", MERO_PLUGIN_ERROR_METADATA_MISMATCH,
      "descriptor version “1.0.0” differs from the .plugin Version “9.9.9”" },
    { "[Plugin]\nName=test-echo\nKind=storage-backend\nVersion=1.0.0\nDescription=x\n"
      "Module=mero-test-echo.so\n", MERO_PLUGIN_ERROR_METADATA_MISMATCH,
      "descriptor kind “sync-protocol” differs from the .plugin Kind “storage-backend”" },
    { "[Other]\nName=test-echo\n", MERO_PLUGIN_ERROR_BAD_METADATA, "missing group [Plugin]" },
    { "this is not a keyfile\n", MERO_PLUGIN_ERROR_BAD_METADATA, "not a valid keyfile" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_clear_pointer (&fixture->base.registry, mero_plugin_registry_free);
      fixture->base.registry = mero_plugin_registry_new ();
      test_log_capture_clear ();
      write_metadata (fixture, cases[i].contents);
      assert_temp_fails (fixture, cases[i].code, cases[i].substring,
                         cases[i].code == MERO_PLUGIN_ERROR_METADATA_MISMATCH
                             ? fixture->module : fixture->metadata);
    }
}

static void
test_missing_metadata (TempFixture *fixture, gconstpointer data)
{
  g_assert_cmpint (g_unlink (fixture->metadata), ==, 0);
  assert_temp_fails (fixture, MERO_PLUGIN_ERROR_NOT_FOUND, "metadata file cannot be inspected",
                     fixture->metadata);
}

static void
test_strings (void)
{
  g_assert_cmpstr (mero_plugin_kind_to_string (MERO_PLUGIN_KIND_SYNC_PROTOCOL), ==,
                   "sync-protocol");
  g_assert_cmpstr (mero_plugin_kind_to_string (MERO_PLUGIN_KIND_STORAGE_BACKEND), ==,
                   "storage-backend");
  g_assert_cmpstr (mero_plugin_kind_to_string (MERO_PLUGIN_KIND_TEE_VERIFIER), ==,
                   "tee-verifier");
  g_assert_cmpstr (mero_plugin_kind_to_string (99), ==, "invalid");
  g_assert_cmpstr (mero_plugin_status_to_string (MERO_PLUGIN_STATUS_LOADED), ==, "loaded");
  g_assert_cmpstr (mero_plugin_status_to_string (MERO_PLUGIN_STATUS_FAILED), ==, "failed");
  g_assert_cmpstr (mero_plugin_status_to_string (MERO_PLUGIN_STATUS_DISABLED), ==, "disabled");
  for (int code = MERO_PLUGIN_ERROR_NOT_FOUND; code <= MERO_PLUGIN_ERROR_DUPLICATE; code++)
    g_assert_cmpstr (mero_plugin_error_code_to_string (code), !=, "unknown");
  g_assert_cmpstr (mero_plugin_error_code_to_string (MERO_PLUGIN_ERROR_SHORT_STRUCT), ==,
                   "short-struct");
  mero_plugin_registry_free (NULL);
}

/* Build trees made with a umask of 002 leave modules group-writable, which
 * the loader rightly refuses; make the fixtures safe before using them. */
static void
make_fixtures_safe (void)
{
  g_autoptr (GDir) dir = g_dir_open (TEST_PLUGIN_DIR, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (TEST_PLUGIN_DIR, name, NULL);
      struct stat st;

      if (lstat (path, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 022) != 0)
        g_assert_cmpint (g_chmod (path, st.st_mode & 07755), ==, 0);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  test_log_capture_install ();
  make_fixtures_safe ();
  real_plugin_dirs = g_strdup (g_getenv ("MERO_PLUGIN_DIR"));

  g_test_add_func ("/plugins/strings", test_strings);
  g_test_add_func ("/plugins/search-path", test_search_path);
  for (gsize i = 0; i < G_N_ELEMENTS (broken_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/plugins/broken/%s", broken_cases[i].name);

      g_test_add (path, Fixture, &broken_cases[i], fixture_set_up, test_broken_one,
                  fixture_tear_down);
    }
  g_test_add ("/plugins/broken/init-fails-no-finalize", Fixture, NULL, fixture_set_up,
              test_init_failure_does_not_finalize, fixture_tear_down);
  g_test_add ("/plugins/scan-all", Fixture, NULL, fixture_set_up, test_scan_all,
              fixture_tear_down);
  g_test_add ("/plugins/concurrent-reads", Fixture, NULL, fixture_set_up,
              test_concurrent_reads, fixture_tear_down);
  g_test_add ("/plugins/disabled", Fixture, NULL, fixture_set_up, test_disabled,
              fixture_tear_down);
  g_test_add ("/plugins/load-path-default", Fixture, NULL, fixture_set_up,
              test_load_path_default, fixture_tear_down);
  g_test_add ("/plugins/real-plugins", Fixture, NULL, fixture_set_up, test_real_plugins,
              fixture_tear_down);
  g_test_add ("/plugins/good/init-finalize-services", Fixture, NULL, fixture_set_up,
              test_init_finalize_and_services, fixture_tear_down);
  g_test_add ("/plugins/good/echo-session", Fixture, NULL, fixture_set_up, test_echo_session,
              fixture_tear_down);
  g_test_add ("/plugins/good/echo-deadline-errors", Fixture, NULL, fixture_set_up,
              test_echo_deadline_and_errors, fixture_tear_down);
  g_test_add ("/plugins/good/tee-verifier", Fixture, NULL, fixture_set_up, test_tee_verifier,
              fixture_tear_down);

  g_test_add ("/plugins/vet/copy-loads", TempFixture, NULL, temp_set_up, test_copy_loads,
              temp_tear_down);
  g_test_add ("/plugins/vet/world-writable-module", TempFixture, NULL, temp_set_up,
              test_world_writable_module, temp_tear_down);
  g_test_add ("/plugins/vet/group-writable-module", TempFixture, NULL, temp_set_up,
              test_group_writable_module, temp_tear_down);
  g_test_add ("/plugins/vet/world-writable-metadata", TempFixture, NULL, temp_set_up,
              test_world_writable_metadata, temp_tear_down);
  g_test_add ("/plugins/vet/module-is-directory", TempFixture, NULL, temp_set_up,
              test_module_is_directory, temp_tear_down);
  g_test_add ("/plugins/vet/module-is-fifo", TempFixture, NULL, temp_set_up,
              test_module_is_fifo, temp_tear_down);
  g_test_add ("/plugins/vet/module-symlink", TempFixture, NULL, temp_set_up,
              test_module_symlink, temp_tear_down);
  g_test_add ("/plugins/vet/missing-metadata", TempFixture, NULL, temp_set_up,
              test_missing_metadata, temp_tear_down);
  g_test_add ("/plugins/metadata/variants", TempFixture, NULL, temp_set_up,
              test_metadata_variants, temp_tear_down);

  {
    int ret = g_test_run ();

    g_free (real_plugin_dirs);
    return ret;
  }
}
