/* mero-test-js-peer.h: a js-libp2p peer (a script in tests/interop run
 * with node) whose stdout lines of JSON are collected as it runs.
 *
 * The lines are read asynchronously on the default main context, so a
 * test that iterates it (waiting for its own network's events) sees js's
 * events arrive in between. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

typedef struct {
  GSubprocess *process;
  GDataInputStream *out;
  GPtrArray *events;   /* JsonObject: every stdout line that is a JSON object */
  gboolean eof;        /* js closed stdout (exited) */
  GCancellable *cancellable;
  char *label;         /* prefixes each line logged with g_test_message */
} MeroTestJsPeer;

/* The tests/interop directory (MERO_INTEROP_DIR, else "."), (transfer
 * full), if node_modules/@module is installed there (`npm ci --prefix
 * tests/interop`) and node is in PATH; otherwise NULL, with (transfer
 * full) the reason to skip in @skip_reason. */
char *mero_test_js_interop_dir (const char *module, char **skip_reason);

/* Makes the (empty) event list; no process yet.  @label may be NULL. */
void mero_test_js_peer_init (MeroTestJsPeer *peer, const char *label);
/* Runs @argv (NULL-terminated, argv[0] the program, e.g. "node") in @dir
 * with stdout piped, and starts reading its lines.  Fails the test if it
 * cannot be spawned. */
void mero_test_js_peer_spawn (MeroTestJsPeer *peer, const char *dir, const char *const *argv);
/* Kills a running js, lets the cancelled read finish (bounded), and
 * frees everything init and spawn made. */
void mero_test_js_peer_clear (MeroTestJsPeer *peer);

G_END_DECLS
