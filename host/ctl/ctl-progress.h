/* ctl-progress.h: the progress of an upload or download on stderr.
 *
 * On a terminal, one line redrawn in place at most every
 * CTL_PROGRESS_REDRAW_MS: a bar, bytes done of the total, rate and ETA.
 * Otherwise (a log, a pipe) a plain line every CTL_PROGRESS_LINE_MS, so
 * logs are not flooded.  Either way a final summary line. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define CTL_PROGRESS_REDRAW_MS 100
#define CTL_PROGRESS_LINE_MS 1000
#define CTL_PROGRESS_BAR_WIDTH 24

typedef struct _CtlProgress CtlProgress;

/* @total 0 = unknown (a pipe): no bar, no ETA. */
CtlProgress *ctl_progress_new (const char *verb, guint64 total);
void ctl_progress_update (CtlProgress *progress, guint64 done);
/* Prints the summary line and frees. */
void ctl_progress_finish (CtlProgress *progress, guint64 done, gboolean ok);

/* The text of one progress line (no newline) for @done of @total bytes
 * after @elapsed_us: pure, for tests.  (transfer full) */
char *ctl_progress_format (const char *verb, guint64 done, guint64 total, gint64 elapsed_us,
                           gboolean bar);

G_END_DECLS
