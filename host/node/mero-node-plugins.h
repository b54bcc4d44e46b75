/* mero-node-plugins.h: loading the plugins a node's config allows. */
#pragma once

#include <glib.h>

#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

/* Loads every plugin of the default search path whose name (the .plugin
 * file's base name) is not in @disabled (may be NULL).  Failures are
 * recorded in @registry, not returned: a bad plugin never stops a node.
 * The .plugin files skipped as disabled are appended to @skipped (may be
 * NULL; element type char *, caller frees).  Returns the number loaded. */
guint mero_node_load_plugins (MeroPluginRegistry *registry, const char *const *disabled,
                              GPtrArray *skipped);

G_END_DECLS
