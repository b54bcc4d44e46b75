/* mero-node-plugins.h: loading the plugins a node's config allows. */
#pragma once

#include <glib.h>

#include "plugin/mero-plugin-registry.h"

G_BEGIN_DECLS

/* Loads every plugin of the default search path except those named in
 * @disabled (may be NULL), which are listed as disabled and never opened,
 * so a broken plugin can be switched off from the config.  Failures are
 * recorded in @registry, not returned: a bad plugin never stops a node.
 * Returns the number loaded. */
guint mero_node_load_plugins (MeroPluginRegistry *registry, const char *const *disabled);

G_END_DECLS
