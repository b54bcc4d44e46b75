/* test-log-capture.h: records structured log lines so tests can assert on
 * them.  GLib's g_test_expect_message() does not see g_log_structured(), and
 * the default writer would make every loader warning fatal under GTest. */
#pragma once

#include <glib.h>

typedef struct {
  GLogLevelFlags level;
  char *domain;      /* GLIB_DOMAIN */
  char *message;     /* MESSAGE */
  char *priority;    /* PRIORITY */
  char *plugin;      /* MERO_PLUGIN, or NULL */
  char *file;        /* MERO_PLUGIN_FILE, or NULL */
  char *error_code;  /* MERO_PLUGIN_ERROR_CODE, or NULL */
} TestLogRecord;

/* Installs the writer; call once, after g_test_init. */
void test_log_capture_install (void);
/* Forgets every record. */
void test_log_capture_clear (void);
/* (transfer container) the records so far, oldest first. */
GPtrArray *test_log_capture_get (void);
/* Number of records at @level whose field @key equals @value (NULL: any). */
guint test_log_capture_count (GLogLevelFlags level, const char *key, const char *value);
