/* ctl-progress.c: progress bar or plain progress lines. */
#include "ctl-progress.h"

#include <glib/gi18n.h>
#include <unistd.h>

struct _CtlProgress {
  char *verb;
  guint64 total;
  gint64 start_us;
  gint64 last_us;
  gboolean tty;
  gboolean drawn;
};

char *
ctl_progress_format (const char *verb, guint64 done, guint64 total, gint64 elapsed_us,
                     gboolean bar)
{
  GString *s = g_string_new (verb);
  g_autofree char *done_text = g_format_size_full (done, G_FORMAT_SIZE_IEC_UNITS);
  guint64 rate = elapsed_us > 0 ? done * G_USEC_PER_SEC / (guint64) elapsed_us : 0;
  g_autofree char *rate_text = g_format_size_full (rate, G_FORMAT_SIZE_IEC_UNITS);

  if (total > 0)
    {
      g_autofree char *total_text = g_format_size_full (total, G_FORMAT_SIZE_IEC_UNITS);
      guint percent = (guint) (MIN (done, total) * 100 / total);

      if (bar)
        {
          guint filled = (guint) (MIN (done, total) * CTL_PROGRESS_BAR_WIDTH / total);

          g_string_append (s, " [");
          for (guint i = 0; i < CTL_PROGRESS_BAR_WIDTH; i++)
            g_string_append_c (s, i < filled ? '#' : '-');
          g_string_append_c (s, ']');
        }
      g_string_append_printf (s, " %3u%% %s / %s, %s/s", percent, done_text, total_text,
                              rate_text);
      if (rate > 0 && done < total)
        g_string_append_printf (s, _(", ETA %llu s"),
                                (unsigned long long) ((total - done + rate - 1) / rate));
    }
  else
    g_string_append_printf (s, " %s, %s/s", done_text, rate_text);
  return g_string_free (s, FALSE);
}

CtlProgress *
ctl_progress_new (const char *verb, guint64 total)
{
  CtlProgress *p = g_new0 (CtlProgress, 1);

  p->verb = g_strdup (verb);
  p->total = total;
  p->start_us = p->last_us = g_get_monotonic_time ();
  p->tty = isatty (STDERR_FILENO);
  return p;
}

void
ctl_progress_update (CtlProgress *p, guint64 done)
{
  gint64 now = g_get_monotonic_time ();
  g_autofree char *line = NULL;

  if (now - p->last_us < (p->tty ? CTL_PROGRESS_REDRAW_MS : CTL_PROGRESS_LINE_MS) * 1000)
    return;
  p->last_us = now;
  line = ctl_progress_format (p->verb, done, p->total, now - p->start_us, p->tty);
  if (p->tty)
    g_printerr ("\r%s\033[K", line);
  else
    g_printerr ("%s\n", line);
  p->drawn = TRUE;
}

void
ctl_progress_finish (CtlProgress *p, guint64 done, gboolean ok)
{
  if (p->tty && p->drawn)
    g_printerr ("\r\033[K");
  if (ok)
    {
      g_autofree char *line = ctl_progress_format (p->verb, done, done, g_get_monotonic_time ()
                                                                           - p->start_us,
                                                   FALSE);

      g_printerr ("%s\n", line);
    }
  g_free (p->verb);
  g_free (p);
}
