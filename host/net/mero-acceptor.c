/* mero-acceptor.c: bounded, back-off accepting on a listening socket
 * (see the header for why GSocketService is not enough). */
#define _GNU_SOURCE 1 /* accept4 */
#define G_LOG_DOMAIN "merod"
#include "net/mero-acceptor.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct _MeroAcceptor
{
  GSocket *socket;
  GMainContext *context;
  char *name;
  MeroMetrics *metrics;
  char *errors_metric;
  char *errors_help;
  MeroAcceptorFunc func;
  gpointer user_data;

  GSource *watch;        /* while accepting */
  GSource *pause;        /* while paused */
  guint pause_ms;        /* the next pause */
  gint64 last_log;       /* monotonic µs of the last logged failure, 0: none */
  guint64 unlogged;      /* failures since then */
};

GSocket *
mero_acceptor_listen (GSocketAddress *address, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (address);
  g_autoptr (GSocket) socket = g_socket_new (family, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, error);

  if (socket == NULL)
    return NULL;
  if (family == G_SOCKET_FAMILY_IPV6
      && !g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, 1, error))
    return NULL;
  g_socket_set_listen_backlog (socket, MERO_ACCEPTOR_BACKLOG);
  if (!g_socket_bind (socket, address, TRUE, error) || !g_socket_listen (socket, error))
    return NULL;
  return g_steal_pointer (&socket);
}

static void start_watch (MeroAcceptor *self);

static gboolean
on_pause_over (gpointer data)
{
  MeroAcceptor *self = data;

  g_clear_pointer (&self->pause, g_source_unref);
  start_watch (self);
  return G_SOURCE_REMOVE;
}

static void
stop_watch (MeroAcceptor *self)
{
  if (self->watch != NULL)
    {
      g_source_destroy (self->watch);
      g_clear_pointer (&self->watch, g_source_unref);
    }
}

static void
pause_accepting (MeroAcceptor *self)
{
  stop_watch (self);
  if (self->pause != NULL)
    return;
  self->pause = g_timeout_source_new (self->pause_ms);
  g_source_set_callback (self->pause, on_pause_over, self, NULL);
  g_source_set_static_name (self->pause, "mero-acceptor-pause");
  g_source_attach (self->pause, self->context);
  self->pause_ms = MIN (self->pause_ms * 2, MERO_ACCEPTOR_PAUSE_MAX_MS);
}

static const char *
reason_for_errno (int err, gboolean *pause)
{
  *pause = TRUE;
  switch (err)
    {
    case EMFILE:
      return "emfile";
    case ENFILE:
      return "enfile";
    case ENOBUFS:
    case ENOMEM:
      return "nomem";
    /* The connection died in the backlog, or (Linux passes these on) a
     * network error for it: that client is gone, the next may be fine. */
    case ECONNABORTED:
    case EPROTO:
    case EPERM:
    case ENETDOWN:
    case ENOPROTOOPT:
    case EHOSTDOWN:
    case ENONET:
    case EHOSTUNREACH:
    case EOPNOTSUPP:
    case ENETUNREACH:
      *pause = FALSE;
      return "aborted";
    default:
      return "other";
    }
}

/* Counted always; logged at once the first time, then at most once per
 * MERO_ACCEPTOR_LOG_INTERVAL_US with the number seen meanwhile. */
static void
report_failure (MeroAcceptor *self, int err, const char *reason, gboolean paused)
{
  g_autofree char *labels = g_strdup_printf ("reason=\"%s\"", reason);
  gint64 now = g_get_monotonic_time ();

  mero_metrics_counter_add (self->metrics, self->errors_metric, labels, 1, NULL);
  mero_metrics_set_help (self->metrics, self->errors_metric, self->errors_help, NULL);
  self->unlogged++;
  if (self->last_log != 0 && now - self->last_log < MERO_ACCEPTOR_LOG_INTERVAL_US)
    return;
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT", "accept-failed",
                    "MESSAGE", "%s: accept() failed: %s (%" G_GUINT64_FORMAT
                    " time(s) since the last report)%s",
                    self->name, g_strerror (err), self->unlogged,
                    paused ? "; accepting paused, retried with back-off" : "");
  self->last_log = now;
  self->unlogged = 0;
}

static gboolean
on_acceptable (GSocket *socket, GIOCondition condition, gpointer data)
{
  MeroAcceptor *self = data;

  /* Bounded per wakeup: the rest waits in the backlog for the next
   * iteration, after the connections already accepted had theirs. */
  for (guint i = 0; i < MERO_ACCEPTOR_MAX_PER_WAKEUP; i++)
    {
      g_autoptr (GSocket) client = NULL;
      g_autoptr (GSocketConnection) connection = NULL;
      g_autoptr (GError) error = NULL;
      int fd = accept4 (g_socket_get_fd (socket), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

      if (fd < 0)
        {
          int err = errno;
          gboolean pause;
          const char *reason;

          if (err == EAGAIN || err == EWOULDBLOCK)
            return G_SOURCE_CONTINUE;
          if (err == EINTR)
            continue;
          reason = reason_for_errno (err, &pause);
          report_failure (self, err, reason, pause);
          if (pause)
            {
              /* Destroys this source: GLib drops it when we return. */
              pause_accepting (self);
              return G_SOURCE_REMOVE;
            }
          continue;
        }
      client = g_socket_new_from_fd (fd, &error);
      if (client == NULL)
        {
          close (fd);
          report_failure (self, EINVAL, "other", FALSE);
          continue;
        }
      self->pause_ms = MERO_ACCEPTOR_PAUSE_MIN_MS;
      connection = g_socket_connection_factory_create_connection (client);
      self->func (connection, self->user_data);
    }
  return G_SOURCE_CONTINUE;
}

static void
start_watch (MeroAcceptor *self)
{
  if (self->watch != NULL)
    return;
  self->watch = g_socket_create_source (self->socket, G_IO_IN, NULL);
  g_source_set_callback (self->watch, G_SOURCE_FUNC (on_acceptable), self, NULL);
  g_source_set_static_name (self->watch, "mero-acceptor");
  g_source_attach (self->watch, self->context);
}

MeroAcceptor *
mero_acceptor_new (GSocket *socket, GMainContext *context, const char *name,
                   MeroMetrics *metrics, const char *errors_metric, const char *errors_help,
                   MeroAcceptorFunc func, gpointer user_data)
{
  MeroAcceptor *self;

  g_return_val_if_fail (G_IS_SOCKET (socket), NULL);
  g_return_val_if_fail (name != NULL && errors_metric != NULL && func != NULL, NULL);

  self = g_new0 (MeroAcceptor, 1);
  self->socket = g_object_ref (socket);
  self->context = context != NULL ? g_main_context_ref (context) : NULL;
  self->name = g_strdup (name);
  self->metrics = metrics != NULL ? mero_metrics_ref (metrics) : NULL;
  self->errors_metric = g_strdup (errors_metric);
  self->errors_help = g_strdup (errors_help);
  self->func = func;
  self->user_data = user_data;
  self->pause_ms = MERO_ACCEPTOR_PAUSE_MIN_MS;
  g_socket_set_blocking (socket, FALSE);
  start_watch (self);
  return self;
}

void
mero_acceptor_free (MeroAcceptor *acceptor)
{
  if (acceptor == NULL)
    return;
  stop_watch (acceptor);
  if (acceptor->pause != NULL)
    {
      g_source_destroy (acceptor->pause);
      g_clear_pointer (&acceptor->pause, g_source_unref);
    }
  g_socket_close (acceptor->socket, NULL);
  g_object_unref (acceptor->socket);
  g_clear_pointer (&acceptor->context, g_main_context_unref);
  g_clear_pointer (&acceptor->metrics, mero_metrics_unref);
  g_free (acceptor->name);
  g_free (acceptor->errors_metric);
  g_free (acceptor->errors_help);
  g_free (acceptor);
}
