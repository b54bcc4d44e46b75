/* mero-log.c: the log writer of merod run (see mero-log.h). */
#include "node/mero-log.h"

#include <stdio.h>
#include <unistd.h>

static gint level = MERO_NODE_LOG_MESSAGE;

static GLogWriterOutput
write_log (GLogLevelFlags log_level, const GLogField *fields, gsize n_fields,
           gpointer user_data)
{
  const char *debug_env = g_getenv ("G_MESSAGES_DEBUG");
  gint wanted = g_atomic_int_get (&level);

  if ((debug_env != NULL && debug_env[0] != '\0')
      || (log_level & (G_LOG_LEVEL_INFO | G_LOG_LEVEL_DEBUG)) == 0)
    return g_log_writer_default (log_level, fields, n_fields, user_data);
  if ((log_level & G_LOG_LEVEL_DEBUG) != 0 ? wanted < MERO_NODE_LOG_DEBUG
                                           : wanted < MERO_NODE_LOG_INFO)
    return G_LOG_WRITER_HANDLED;
  /* g_log_writer_default would drop it (G_MESSAGES_DEBUG is unset). */
  if (g_log_writer_is_journald (fileno (stderr))
      && g_log_writer_journald (log_level, fields, n_fields, user_data) == G_LOG_WRITER_HANDLED)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_standard_streams (log_level, fields, n_fields, user_data);
}

void
mero_log_install (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once))
    {
      g_log_set_writer_func (write_log, NULL, NULL);
      g_once_init_leave (&once, 1);
    }
}

void
mero_log_raise_level (MeroNodeLogLevel new_level)
{
  gint current = g_atomic_int_get (&level);

  while (current < (gint) new_level
         && !g_atomic_int_compare_and_exchange (&level, current, (gint) new_level))
    current = g_atomic_int_get (&level);
}
