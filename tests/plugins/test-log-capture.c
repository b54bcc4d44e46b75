/* test-log-capture.c: see test-log-capture.h. */
#include "test-log-capture.h"

#include <string.h>

static GMutex capture_lock;
static GPtrArray *records;

static void
test_log_record_free (TestLogRecord *record)
{
  if (record == NULL)
    return;
  g_free (record->domain);
  g_free (record->message);
  g_free (record->priority);
  g_free (record->plugin);
  g_free (record->file);
  g_free (record->error_code);
  g_free (record);
}

static char *
field_dup (const GLogField *field)
{
  return field->length < 0 ? g_strdup (field->value)
                           : g_strndup (field->value, (gsize) field->length);
}

static GLogWriterOutput
capture_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields,
                gpointer user_data)
{
  TestLogRecord *record = g_new0 (TestLogRecord, 1);

  record->level = level & G_LOG_LEVEL_MASK;
  for (gsize i = 0; i < n_fields; i++)
    {
      char **slot = NULL;

      if (strcmp (fields[i].key, "GLIB_DOMAIN") == 0)
        slot = &record->domain;
      else if (strcmp (fields[i].key, "MESSAGE") == 0)
        slot = &record->message;
      else if (strcmp (fields[i].key, "PRIORITY") == 0)
        slot = &record->priority;
      else if (strcmp (fields[i].key, "MERO_PLUGIN") == 0)
        slot = &record->plugin;
      else if (strcmp (fields[i].key, "MERO_PLUGIN_FILE") == 0)
        slot = &record->file;
      else if (strcmp (fields[i].key, "MERO_PLUGIN_ERROR_CODE") == 0)
        slot = &record->error_code;
      if (slot != NULL && *slot == NULL)
        *slot = field_dup (&fields[i]);
    }
  if (g_test_verbose ())
    g_test_message ("log[%d] %s: %s", (int) record->level,
                    record->domain != NULL ? record->domain : "-",
                    record->message != NULL ? record->message : "");

  g_mutex_lock (&capture_lock);
  g_ptr_array_add (records, record);
  g_mutex_unlock (&capture_lock);

  /* Criticals are still bugs in the code under test. */
  if ((level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_ERROR)) != 0)
    return g_log_writer_default (level, fields, n_fields, user_data);
  return G_LOG_WRITER_HANDLED;
}

void
test_log_capture_install (void)
{
  records = g_ptr_array_new_with_free_func ((GDestroyNotify) test_log_record_free);
  g_log_set_writer_func (capture_writer, NULL, NULL);
}

void
test_log_capture_clear (void)
{
  g_mutex_lock (&capture_lock);
  g_ptr_array_set_size (records, 0);
  g_mutex_unlock (&capture_lock);
}

GPtrArray *
test_log_capture_get (void)
{
  GPtrArray *copy;

  g_mutex_lock (&capture_lock);
  copy = g_ptr_array_copy (records, NULL, NULL);
  g_mutex_unlock (&capture_lock);
  return copy;
}

static const char *
record_field (const TestLogRecord *record, const char *key)
{
  if (strcmp (key, "GLIB_DOMAIN") == 0)
    return record->domain;
  if (strcmp (key, "MESSAGE") == 0)
    return record->message;
  if (strcmp (key, "PRIORITY") == 0)
    return record->priority;
  if (strcmp (key, "MERO_PLUGIN") == 0)
    return record->plugin;
  if (strcmp (key, "MERO_PLUGIN_FILE") == 0)
    return record->file;
  if (strcmp (key, "MERO_PLUGIN_ERROR_CODE") == 0)
    return record->error_code;
  return NULL;
}

guint
test_log_capture_count (GLogLevelFlags level, const char *key, const char *value)
{
  guint n = 0;

  g_mutex_lock (&capture_lock);
  for (guint i = 0; i < records->len; i++)
    {
      const TestLogRecord *record = g_ptr_array_index (records, i);

      if (record->level != level)
        continue;
      if (key == NULL || g_strcmp0 (record_field (record, key), value) == 0)
        n++;
    }
  g_mutex_unlock (&capture_lock);
  return n;
}
