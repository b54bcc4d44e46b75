/* mero-log.h: how much merod logs.
 *
 * GLib prints info and debug messages only when G_MESSAGES_DEBUG names
 * their domain.  merod run installs a writer that also prints them when
 * the node's level asks for it (merod run -v, or log.level in merod.conf):
 *   message  warnings, the ready line, start and stop (the default)
 *   info     + peers joining and leaving, contexts created, joined, left,
 *              deltas applied (each state change), syncs and fetches
 *   debug    + everything
 * G_MESSAGES_DEBUG, when set, still decides on its own (tests set it). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum {
  MERO_NODE_LOG_MESSAGE = 0,
  MERO_NODE_LOG_INFO = 1,
  MERO_NODE_LOG_DEBUG = 2,
} MeroNodeLogLevel;

/* Installs the writer (once, before anything logs). */
void mero_log_install (void);
/* Raises the level to at least @level (never lowers it: -v beats the
 * file's "message"). */
void mero_log_raise_level (MeroNodeLogLevel level);

G_END_DECLS
