/* mero-test-js-peer.c: spawning a js peer and collecting its JSON lines. */
#include "mero-test-js-peer.h"

static void read_line (MeroTestJsPeer *peer);

static void
on_line (GObject *source, GAsyncResult *result, gpointer data)
{
  MeroTestJsPeer *peer = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *line = g_data_input_stream_read_line_finish (G_DATA_INPUT_STREAM (source),
                                                                result, NULL, &error);
  g_autoptr (JsonParser) parser = NULL;

  if (line == NULL)
    {
      peer->eof = TRUE;
      return;
    }
  if (peer->label != NULL)
    g_test_message ("%s js: %s", peer->label, line);
  else
    g_test_message ("js: %s", line);
  parser = json_parser_new ();
  if (json_parser_load_from_data (parser, line, -1, NULL)
      && JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    g_ptr_array_add (peer->events,
                     json_object_ref (json_node_get_object (json_parser_get_root (parser))));
  read_line (peer);
}

static void
read_line (MeroTestJsPeer *peer)
{
  g_data_input_stream_read_line_async (peer->out, G_PRIORITY_DEFAULT, peer->cancellable, on_line,
                                       peer);
}

char *
mero_test_js_interop_dir (const char *module, char **skip_reason)
{
  const char *dir = g_getenv ("MERO_INTEROP_DIR");
  g_autofree char *interop_dir = g_strdup (dir != NULL ? dir : ".");
  g_autofree char *modules = g_build_filename (interop_dir, "node_modules", module, NULL);
  g_autofree char *node = g_find_program_in_path ("node");

  *skip_reason = NULL;
  if (!g_file_test (modules, G_FILE_TEST_IS_DIR))
    *skip_reason = g_strdup_printf ("%s missing; run `npm ci --prefix tests/interop` first",
                                    modules);
  else if (node == NULL)
    *skip_reason = g_strdup ("node (Node.js 20) not in PATH");
  else
    return g_steal_pointer (&interop_dir);
  return NULL;
}

void
mero_test_js_peer_init (MeroTestJsPeer *peer, const char *label)
{
  peer->process = NULL;
  peer->out = NULL;
  peer->events = g_ptr_array_new_with_free_func ((GDestroyNotify) json_object_unref);
  peer->eof = FALSE;
  peer->cancellable = g_cancellable_new ();
  peer->label = g_strdup (label);
}

void
mero_test_js_peer_spawn (MeroTestJsPeer *peer, const char *dir, const char *const *argv)
{
  g_autoptr (GSubprocessLauncher) launcher =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GError) error = NULL;

  g_assert_null (peer->process);
  g_subprocess_launcher_set_cwd (launcher, dir);
  peer->process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  peer->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (peer->process));
  read_line (peer);
}

void
mero_test_js_peer_clear (MeroTestJsPeer *peer)
{
  if (peer->cancellable != NULL)
    g_cancellable_cancel (peer->cancellable);
  if (peer->process != NULL)
    {
      g_subprocess_force_exit (peer->process);
      g_subprocess_wait (peer->process, NULL, NULL);
    }
  /* Let the cancelled read finish before its stream goes. */
  for (guint i = 0; i < 100 && !peer->eof && g_main_context_pending (NULL); i++)
    g_main_context_iteration (NULL, FALSE);
  g_clear_object (&peer->out);
  g_clear_object (&peer->process);
  g_clear_object (&peer->cancellable);
  g_clear_pointer (&peer->events, g_ptr_array_unref);
  g_clear_pointer (&peer->label, g_free);
}
