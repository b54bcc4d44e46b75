/* mero-metrics.c: see mero-metrics.h. */
#include "metrics/mero-metrics.h"

#include <math.h>
#include <string.h>

/* Bounds on what a caller (possibly a plugin) can make us store. */
#define MERO_METRICS_MAX_NAME_LEN 200
#define MERO_METRICS_MAX_LABELS_LEN 1024
#define MERO_METRICS_MAX_LABELS 16

G_DEFINE_QUARK (mero-metrics-error-quark, mero_metrics_error)

typedef struct {
  MeroMetricType type;
  char *help;
  GHashTable *series;   /* canonical labels (char *) -> MeroMetricSeries * */
} MeroMetricFamily;

typedef struct {
  guint64 counter;
  double gauge;
} MeroMetricSeries;

struct _MeroMetrics {
  gint ref_count;
  GMutex lock;
  GHashTable *families; /* name -> MeroMetricFamily * */
};

static void
mero_metric_family_free (MeroMetricFamily *family)
{
  if (family == NULL)
    return;
  g_free (family->help);
  g_clear_pointer (&family->series, g_hash_table_unref);
  g_free (family);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MeroMetricFamily, mero_metric_family_free)

MeroMetrics *
mero_metrics_new (void)
{
  MeroMetrics *metrics = g_new0 (MeroMetrics, 1);

  metrics->ref_count = 1;
  g_mutex_init (&metrics->lock);
  metrics->families = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) mero_metric_family_free);
  return metrics;
}

MeroMetrics *
mero_metrics_ref (MeroMetrics *metrics)
{
  g_return_val_if_fail (metrics != NULL, NULL);
  g_atomic_int_inc (&metrics->ref_count);
  return metrics;
}

void
mero_metrics_unref (MeroMetrics *metrics)
{
  if (metrics == NULL || !g_atomic_int_dec_and_test (&metrics->ref_count))
    return;
  g_clear_pointer (&metrics->families, g_hash_table_unref);
  g_mutex_clear (&metrics->lock);
  g_free (metrics);
}

MeroMetrics *
mero_metrics_get_default (void)
{
  static MeroMetrics *default_metrics;

  if (g_once_init_enter (&default_metrics))
    g_once_init_leave (&default_metrics, mero_metrics_new ());
  return default_metrics;
}

static MeroMetrics *
resolve (MeroMetrics *metrics)
{
  return metrics != NULL ? metrics : mero_metrics_get_default ();
}

static gboolean
name_is_valid (const char *name)
{
  size_t len;

  if (name == NULL || name[0] == '\0' || g_ascii_isdigit (name[0]))
    return FALSE;
  len = strlen (name);
  if (len > MERO_METRICS_MAX_NAME_LEN)
    return FALSE;
  for (size_t i = 0; i < len; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '_' && name[i] != ':')
      return FALSE;
  return TRUE;
}

typedef struct {
  const char *name;
  size_t name_len;
  const char *value;   /* escaped, as given, between the quotes */
  size_t value_len;
} LabelPair;

static int
label_pair_compare (const void *a, const void *b)
{
  const LabelPair *pa = a, *pb = b;
  int c = strncmp (pa->name, pb->name, MIN (pa->name_len, pb->name_len));

  if (c != 0)
    return c;
  return (pa->name_len > pb->name_len) - (pa->name_len < pb->name_len);
}

/* Parses one `name="value"` at *p and advances past it.  Label names
 * beginning with "__" are reserved by Prometheus. */
static gboolean
parse_label_pair (const char **p_inout, LabelPair *pair)
{
  const char *p = *p_inout;

  pair->name = p;
  if (!(g_ascii_isalpha (*p) || *p == '_'))
    return FALSE;
  while (g_ascii_isalnum (*p) || *p == '_')
    p++;
  pair->name_len = (size_t) (p - pair->name);
  if (pair->name_len >= 2 && pair->name[0] == '_' && pair->name[1] == '_')
    return FALSE;
  if (p[0] != '=' || p[1] != '"')
    return FALSE;
  p += 2;
  pair->value = p;
  while (*p != '"')
    {
      if (*p == '\0' || *p == '\n')
        return FALSE;
      if (*p == '\\')
        {
          if (p[1] != '\\' && p[1] != '"' && p[1] != 'n')
            return FALSE;
          p++;
        }
      p++;
    }
  pair->value_len = (size_t) (p - pair->value);
  *p_inout = p + 1;
  return TRUE;
}

/* Parses `k="v",k2="v2"` (trailing comma allowed, as Prometheus does) into
 * its canonical form: pairs sorted by name, values kept escaped. */
static char *
canonical_labels (const char *labels, GError **error)
{
  LabelPair pairs[MERO_METRICS_MAX_LABELS];
  size_t n = 0;
  const char *p = labels;
  GString *out;

  if (labels == NULL || labels[0] == '\0')
    return g_strdup ("");
  if (strlen (labels) > MERO_METRICS_MAX_LABELS_LEN)
    {
      g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_LABELS,
                   "label set longer than %d bytes", MERO_METRICS_MAX_LABELS_LEN);
      return NULL;
    }

  while (*p != '\0')
    {
      gboolean ok = n < MERO_METRICS_MAX_LABELS && parse_label_pair (&p, &pairs[n]);

      for (size_t i = 0; ok && i < n; i++)
        ok = label_pair_compare (&pairs[i], &pairs[n]) != 0;
      if (ok && *p == ',')
        p++;
      else if (ok && *p != '\0')
        ok = FALSE;
      if (!ok)
        {
          g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_LABELS,
                       "malformed label set “%s” (expected at most %d distinct "
                       "name=\"value\" pairs)", labels, MERO_METRICS_MAX_LABELS);
          return NULL;
        }
      n++;
    }

  qsort (pairs, n, sizeof pairs[0], label_pair_compare);
  out = g_string_new (NULL);
  for (size_t i = 0; i < n; i++)
    g_string_append_printf (out, "%s%.*s=\"%.*s\"", i > 0 ? "," : "", (int) pairs[i].name_len,
                            pairs[i].name, (int) pairs[i].value_len, pairs[i].value);
  return g_string_free (out, FALSE);
}

/* Called with the lock held. */
static void
count_rejection_locked (MeroMetrics *metrics)
{
  MeroMetricFamily *family = g_hash_table_lookup (metrics->families, MERO_METRICS_REJECTED_NAME);
  MeroMetricSeries *series;

  if (family == NULL)
    {
      family = g_new0 (MeroMetricFamily, 1);
      family->type = MERO_METRIC_TYPE_COUNTER;
      family->help = g_strdup ("Metric updates rejected for a bad name, label set or type");
      family->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (metrics->families, g_strdup (MERO_METRICS_REJECTED_NAME), family);
    }
  series = g_hash_table_lookup (family->series, "");
  if (series == NULL)
    {
      series = g_new0 (MeroMetricSeries, 1);
      g_hash_table_insert (family->series, g_strdup (""), series);
    }
  if (series->counter < G_MAXUINT64)
    series->counter++;
}

/* Finds or creates the series; called with the lock held.  On error the
 * rejection is counted. */
static MeroMetricSeries *
series_get_locked (MeroMetrics *metrics, const char *name, const char *labels,
                   MeroMetricType type, GError **error)
{
  g_autofree char *canon = NULL;
  MeroMetricFamily *family;
  MeroMetricSeries *series;

  if (!name_is_valid (name))
    {
      g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_NAME,
                   "invalid metric name “%s”", name != NULL ? name : "(null)");
      count_rejection_locked (metrics);
      return NULL;
    }
  canon = canonical_labels (labels, error);
  if (canon == NULL)
    {
      count_rejection_locked (metrics);
      return NULL;
    }

  family = g_hash_table_lookup (metrics->families, name);
  if (family == NULL)
    {
      family = g_new0 (MeroMetricFamily, 1);
      family->type = type;
      family->series = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      g_hash_table_insert (metrics->families, g_strdup (name), family);
    }
  else if (family->type != type)
    {
      g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_TYPE_MISMATCH,
                   "metric “%s” is a %s, not a %s", name,
                   family->type == MERO_METRIC_TYPE_COUNTER ? "counter" : "gauge",
                   type == MERO_METRIC_TYPE_COUNTER ? "counter" : "gauge");
      count_rejection_locked (metrics);
      return NULL;
    }

  series = g_hash_table_lookup (family->series, canon);
  if (series == NULL)
    {
      series = g_new0 (MeroMetricSeries, 1);
      g_hash_table_insert (family->series, g_steal_pointer (&canon), series);
    }
  return series;
}

gboolean
mero_metrics_counter_add (MeroMetrics *metrics, const char *name, const char *labels,
                          guint64 delta, GError **error)
{
  MeroMetricSeries *series;

  metrics = resolve (metrics);
  g_mutex_lock (&metrics->lock);
  series = series_get_locked (metrics, name, labels, MERO_METRIC_TYPE_COUNTER, error);
  if (series != NULL)
    series->counter = series->counter > G_MAXUINT64 - delta ? G_MAXUINT64 : series->counter + delta;
  g_mutex_unlock (&metrics->lock);
  return series != NULL;
}

gboolean
mero_metrics_gauge_set (MeroMetrics *metrics, const char *name, const char *labels,
                        double value, GError **error)
{
  MeroMetricSeries *series;

  metrics = resolve (metrics);
  g_mutex_lock (&metrics->lock);
  series = series_get_locked (metrics, name, labels, MERO_METRIC_TYPE_GAUGE, error);
  if (series != NULL)
    series->gauge = value;
  g_mutex_unlock (&metrics->lock);
  return series != NULL;
}

gboolean
mero_metrics_gauge_add (MeroMetrics *metrics, const char *name, const char *labels,
                        double delta, GError **error)
{
  MeroMetricSeries *series;

  metrics = resolve (metrics);
  g_mutex_lock (&metrics->lock);
  series = series_get_locked (metrics, name, labels, MERO_METRIC_TYPE_GAUGE, error);
  if (series != NULL)
    series->gauge += delta;
  g_mutex_unlock (&metrics->lock);
  return series != NULL;
}

gboolean
mero_metrics_set_help (MeroMetrics *metrics, const char *name, const char *help,
                       GError **error)
{
  MeroMetricFamily *family;

  g_return_val_if_fail (help != NULL, FALSE);

  metrics = resolve (metrics);
  if (!name_is_valid (name) || strchr (help, '\n') != NULL)
    {
      g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_NAME,
                   "invalid metric name or multi-line help for “%s”",
                   name != NULL ? name : "(null)");
      return FALSE;
    }
  g_mutex_lock (&metrics->lock);
  family = g_hash_table_lookup (metrics->families, name);
  if (family != NULL)
    {
      g_free (family->help);
      family->help = g_strdup (help);
    }
  g_mutex_unlock (&metrics->lock);
  if (family == NULL)
    {
      /* HELP without a type would have to guess one; ask the caller to
       * create the metric first so the type is always the caller's. */
      g_set_error (error, MERO_METRICS_ERROR, MERO_METRICS_ERROR_INVALID_NAME,
                   "metric “%s” does not exist yet", name);
      return FALSE;
    }
  return TRUE;
}

gboolean
mero_metrics_lookup (MeroMetrics *metrics, const char *name, const char *labels,
                     MeroMetricType *out_type, double *out_value)
{
  g_autofree char *canon = NULL;
  MeroMetricFamily *family;
  MeroMetricSeries *series = NULL;

  metrics = resolve (metrics);
  if (name == NULL)
    return FALSE;
  canon = canonical_labels (labels, NULL);
  if (canon == NULL)
    return FALSE;

  g_mutex_lock (&metrics->lock);
  family = g_hash_table_lookup (metrics->families, name);
  if (family != NULL)
    series = g_hash_table_lookup (family->series, canon);
  if (series != NULL)
    {
      if (out_type != NULL)
        *out_type = family->type;
      if (out_value != NULL)
        *out_value = family->type == MERO_METRIC_TYPE_COUNTER ? (double) series->counter
                                                              : series->gauge;
    }
  g_mutex_unlock (&metrics->lock);
  return series != NULL;
}

guint64
mero_metrics_get_counter (MeroMetrics *metrics, const char *name, const char *labels)
{
  g_autofree char *canon = NULL;
  MeroMetricFamily *family;
  guint64 value = 0;

  metrics = resolve (metrics);
  if (name == NULL)
    return 0;
  canon = canonical_labels (labels, NULL);
  if (canon == NULL)
    return 0;

  g_mutex_lock (&metrics->lock);
  family = g_hash_table_lookup (metrics->families, name);
  if (family != NULL && family->type == MERO_METRIC_TYPE_COUNTER)
    {
      MeroMetricSeries *series = g_hash_table_lookup (family->series, canon);

      if (series != NULL)
        value = series->counter;
    }
  g_mutex_unlock (&metrics->lock);
  return value;
}

static void
append_double (GString *out, double value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (isnan (value))
    g_string_append (out, "NaN");
  else if (isinf (value))
    g_string_append (out, value > 0 ? "+Inf" : "-Inf");
  else
    g_string_append (out, g_ascii_dtostr (buf, sizeof buf, value));
}

static void
append_help (GString *out, const char *help)
{
  /* The exposition format escapes only backslash and newline in HELP. */
  for (const char *p = help; *p != '\0'; p++)
    {
      if (*p == '\\')
        g_string_append (out, "\\\\");
      else
        g_string_append_c (out, *p);
    }
}

static int
compare_strings (const void *a, const void *b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

char *
mero_metrics_render (MeroMetrics *metrics)
{
  g_autofree const char **names = NULL;
  guint n_names = 0;
  GString *out = g_string_new (NULL);

  metrics = resolve (metrics);
  g_mutex_lock (&metrics->lock);
  names = (const char **) g_hash_table_get_keys_as_array (metrics->families, &n_names);
  qsort (names, n_names, sizeof names[0], compare_strings);
  for (guint i = 0; i < n_names; i++)
    {
      MeroMetricFamily *family = g_hash_table_lookup (metrics->families, names[i]);
      g_autofree const char **labels = NULL;
      guint n_labels = 0;

      if (family->help != NULL)
        {
          g_string_append_printf (out, "# HELP %s ", names[i]);
          append_help (out, family->help);
          g_string_append_c (out, '\n');
        }
      g_string_append_printf (out, "# TYPE %s %s\n", names[i],
                              family->type == MERO_METRIC_TYPE_COUNTER ? "counter" : "gauge");
      labels = (const char **) g_hash_table_get_keys_as_array (family->series, &n_labels);
      qsort (labels, n_labels, sizeof labels[0], compare_strings);
      for (guint j = 0; j < n_labels; j++)
        {
          MeroMetricSeries *series = g_hash_table_lookup (family->series, labels[j]);

          g_string_append (out, names[i]);
          if (labels[j][0] != '\0')
            g_string_append_printf (out, "{%s}", labels[j]);
          g_string_append_c (out, ' ');
          if (family->type == MERO_METRIC_TYPE_COUNTER)
            g_string_append_printf (out, "%" G_GUINT64_FORMAT, series->counter);
          else
            append_double (out, series->gauge);
          g_string_append_c (out, '\n');
        }
    }
  g_mutex_unlock (&metrics->lock);
  return g_string_free (out, FALSE);
}
