/* mero-node-bootstrap.c: dialling bootstrap peers with exponential back-off. */
#define G_LOG_DOMAIN "merod"
#include "node/mero-node-bootstrap.h"

#include <sodium.h>
#include <string.h>

#include "metrics/mero-metrics.h"
#include "net/mero-peer-id.h"

typedef enum {
  ENTRY_WAITING,    /* timer = next attempt */
  ENTRY_DIALING,    /* timer = attempt deadline */
  ENTRY_CONNECTED,  /* no timer */
} EntryState;

typedef struct {
  MeroNodeBootstrap *owner;
  char *address;      /* as configured, with /p2p/ */
  char *transport;    /* the part before /p2p/ */
  char *peer_id;      /* canonical text of the /p2p/ id */
  MeroNodeBootstrapKind kind;
  EntryState state;
  gint64 backoff_us;  /* delay before the next retry, before jitter */
  guint failures;     /* in a row; the first one of a streak is a warning */
  GSource *timer;
} Entry;

struct _MeroNodeBootstrap {
  GPtrArray *entries;  /* Entry* */
  GHashTable *connected; /* peer ids with a connection */
  guint n_added;
  gboolean started;
  gint64 attempt_timeout_us;
  MeroNodeBootstrapDialFunc dial;
  gpointer user_data;
};

static void attempt (Entry *entry);

static const char *
entry_what (const Entry *entry)
{
  return entry->kind == MERO_NODE_BOOTSTRAP_MEMBER ? "group member" : "bootstrap peer";
}

static void
entry_clear_timer (Entry *entry)
{
  if (entry->timer == NULL)
    return;
  g_source_destroy (entry->timer);
  g_clear_pointer (&entry->timer, g_source_unref);
}

static void
entry_free (Entry *entry)
{
  entry_clear_timer (entry);
  g_free (entry->address);
  g_free (entry->transport);
  g_free (entry->peer_id);
  g_free (entry);
}

static void
entry_set_timer (Entry *entry, gint64 delay_us, GSourceFunc func)
{
  entry_clear_timer (entry);
  entry->timer = g_timeout_source_new ((guint) MAX (delay_us / 1000, 1));
  g_source_set_callback (entry->timer, func, entry, NULL);
  g_source_attach (entry->timer, g_main_context_get_thread_default ());
}

gint64
mero_node_bootstrap_jittered (gint64 backoff_us, guint32 random)
{
  guint span = 2 * MERO_BOOTSTRAP_JITTER_PERCENT + 1;
  guint percent = 100 - MERO_BOOTSTRAP_JITTER_PERCENT + random % span;

  return backoff_us / 100 * percent;
}

static gboolean
on_retry_due (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->timer, g_source_unref);
  attempt (entry);
  return G_SOURCE_REMOVE;
}

/* Waits, then dials again; the next wait is twice as long, up to the cap. */
static void
schedule_retry (Entry *entry)
{
  gint64 delay_us = mero_node_bootstrap_jittered (entry->backoff_us, randombytes_random ());

  entry->state = ENTRY_WAITING;
  entry->backoff_us = MIN (entry->backoff_us * 2, MERO_BOOTSTRAP_BACKOFF_MAX_US);
  entry_set_timer (entry, delay_us, on_retry_due);
}

static void
entry_failed (Entry *entry, const char *message)
{
  gint64 next_us;

  entry->failures++;
  schedule_retry (entry);
  next_us = g_source_get_ready_time (entry->timer) - g_get_monotonic_time ();
  g_log_structured (G_LOG_DOMAIN,
                    entry->failures == 1 && entry->kind == MERO_NODE_BOOTSTRAP_CONFIGURED
                        ? G_LOG_LEVEL_WARNING
                        : G_LOG_LEVEL_INFO,
                    "MERO_EVENT", "bootstrap-dial-failed", "MERO_PEER", entry->peer_id,
                    "MESSAGE",
                    "%s %s: dial failed (attempt %u): %s; next attempt in %.1f s",
                    entry_what (entry), entry->address, entry->failures, message,
                    (double) MAX (next_us, 0) / G_USEC_PER_SEC);
}

static gboolean
on_attempt_timeout (gpointer data)
{
  Entry *entry = data;

  g_clear_pointer (&entry->timer, g_source_unref);
  entry_failed (entry, "no connection within the dial timeout");
  return G_SOURCE_REMOVE;
}

static void
attempt (Entry *entry)
{
  g_autoptr (GError) error = NULL;

  entry->state = ENTRY_DIALING;
  entry_set_timer (entry, entry->owner->attempt_timeout_us, on_attempt_timeout);
  mero_metrics_counter_add (NULL, "mero_node_redial_attempts_total",
                            entry->kind == MERO_NODE_BOOTSTRAP_MEMBER ? "kind=\"member\""
                                                                      : "kind=\"bootstrap\"",
                            1, NULL);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_DEBUG, "MERO_EVENT", "bootstrap-dial",
                    "MESSAGE", "dialling %s %s", entry_what (entry), entry->address);
  if (!entry->owner->dial (entry->address, entry->owner->user_data, &error))
    entry_failed (entry, error->message);
}

static Entry *
entry_new (MeroNodeBootstrap *owner, const char *address, MeroNodeBootstrapKind kind)
{
  const char *p2p = g_strrstr (address, "/p2p/");
  g_autoptr (GError) error = NULL;
  g_autoptr (MeroPeerId) peer_id = p2p != NULL ? mero_peer_id_parse (p2p + 5, &error) : NULL;
  Entry *entry;

  if (peer_id == NULL)
    {
      /* A configured entry is the operator's to fix; one added at run
       * time came from the peer store, which only keeps valid ones. */
      g_log_structured (G_LOG_DOMAIN,
                        kind == MERO_NODE_BOOTSTRAP_CONFIGURED ? G_LOG_LEVEL_WARNING
                                                               : G_LOG_LEVEL_DEBUG,
                        "MERO_EVENT", "bootstrap-invalid",
                        "MESSAGE", "%s %s skipped: no valid /p2p/ id%s%s",
                        kind == MERO_NODE_BOOTSTRAP_CONFIGURED ? "bootstrap peer" : "address",
                        address,
                        error != NULL ? ": " : "", error != NULL ? error->message : "");
      return NULL;
    }
  entry = g_new0 (Entry, 1);
  entry->owner = owner;
  entry->address = g_strdup (address);
  entry->transport = g_strndup (address, p2p - address);
  entry->peer_id = mero_peer_id_to_string (peer_id);
  entry->kind = kind;
  entry->backoff_us = MERO_BOOTSTRAP_BACKOFF_INITIAL_US;
  return entry;
}

MeroNodeBootstrap *
mero_node_bootstrap_new (const char *const *multiaddrs, gint64 dial_timeout_us,
                         MeroNodeBootstrapDialFunc dial, gpointer user_data)
{
  MeroNodeBootstrap *self;

  g_return_val_if_fail (dial != NULL, NULL);
  g_return_val_if_fail (dial_timeout_us > 0, NULL);

  self = g_new0 (MeroNodeBootstrap, 1);
  self->entries = g_ptr_array_new_with_free_func ((GDestroyNotify) entry_free);
  self->connected = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->attempt_timeout_us = dial_timeout_us + MERO_BOOTSTRAP_HANDSHAKE_GRACE_US;
  self->dial = dial;
  self->user_data = user_data;
  for (gsize i = 0; multiaddrs != NULL && multiaddrs[i] != NULL; i++)
    {
      Entry *entry = entry_new (self, multiaddrs[i], MERO_NODE_BOOTSTRAP_CONFIGURED);

      if (entry != NULL)
        g_ptr_array_add (self->entries, entry);
    }
  return self;
}

void
mero_node_bootstrap_start (MeroNodeBootstrap *self)
{
  g_return_if_fail (self != NULL);

  self->started = TRUE;
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry->state != ENTRY_CONNECTED)
        attempt (entry);
    }
}

gboolean
mero_node_bootstrap_add (MeroNodeBootstrap *self, const char *multiaddr,
                         MeroNodeBootstrapKind kind)
{
  Entry *entry;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (multiaddr != NULL, FALSE);

  for (guint i = 0; i < self->entries->len; i++)
    if (g_str_equal (((Entry *) g_ptr_array_index (self->entries, i))->address, multiaddr))
      return FALSE;
  if (self->n_added >= MERO_BOOTSTRAP_MAX_ADDED)
    {
      g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "bootstrap-full",
                        "MESSAGE", "%s not redialled: %u addresses are already kept dialled",
                        multiaddr, MERO_BOOTSTRAP_MAX_ADDED);
      return FALSE;
    }
  entry = entry_new (self, multiaddr, kind);
  if (entry == NULL)
    return FALSE;
  self->n_added++;
  g_ptr_array_add (self->entries, entry);
  if (g_hash_table_contains (self->connected, entry->peer_id))
    entry->state = ENTRY_CONNECTED;
  else if (self->started)
    attempt (entry);
  return TRUE;
}

gboolean
mero_node_bootstrap_tracks (MeroNodeBootstrap *self, const char *peer_id)
{
  g_return_val_if_fail (self != NULL, FALSE);

  for (guint i = 0; peer_id != NULL && i < self->entries->len; i++)
    if (g_str_equal (((Entry *) g_ptr_array_index (self->entries, i))->peer_id, peer_id))
      return TRUE;
  return FALSE;
}

gboolean
mero_node_bootstrap_is_connected (MeroNodeBootstrap *self, const char *peer_id)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return peer_id != NULL && g_hash_table_contains (self->connected, peer_id);
}

void
mero_node_bootstrap_dial_failed (MeroNodeBootstrap *self, const char *address,
                                 const char *message)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (address != NULL);

  /* A dial that failed before connecting names the configured address;
   * one that failed in the handshake (a wrong /p2p/ id among others)
   * names the remote socket address, i.e. the entry's transport part. */
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry->state == ENTRY_DIALING
          && (g_str_equal (entry->address, address) || g_str_equal (entry->transport, address)))
        entry_failed (entry, message != NULL ? message : "failed");
    }
}

void
mero_node_bootstrap_peer_connected (MeroNodeBootstrap *self, const char *peer_id)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (peer_id != NULL);

  g_hash_table_add (self->connected, g_strdup (peer_id));
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (!g_str_equal (entry->peer_id, peer_id))
        continue;
      /* Connected either way (it may have dialled us): stop dialling. */
      entry_clear_timer (entry);
      entry->state = ENTRY_CONNECTED;
      entry->backoff_us = MERO_BOOTSTRAP_BACKOFF_INITIAL_US;
      entry->failures = 0;
    }
}

void
mero_node_bootstrap_peer_disconnected (MeroNodeBootstrap *self, const char *peer_id)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (peer_id != NULL);

  g_hash_table_remove (self->connected, peer_id);
  for (guint i = 0; i < self->entries->len; i++)
    {
      Entry *entry = g_ptr_array_index (self->entries, i);

      if (entry->state == ENTRY_CONNECTED && g_str_equal (entry->peer_id, peer_id))
        {
          schedule_retry (entry);
          g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "bootstrap-redial",
                            "MERO_PEER", entry->peer_id, "MESSAGE",
                            "%s %s left; redialling with back-off", entry_what (entry),
                            entry->address);
        }
    }
}

guint
mero_node_bootstrap_count_pending (MeroNodeBootstrap *self)
{
  guint n = 0;

  g_return_val_if_fail (self != NULL, 0);

  for (guint i = 0; i < self->entries->len; i++)
    if (((Entry *) g_ptr_array_index (self->entries, i))->state != ENTRY_CONNECTED)
      n++;
  return n;
}

void
mero_node_bootstrap_free (MeroNodeBootstrap *self)
{
  if (self == NULL)
    return;
  g_ptr_array_unref (self->entries);
  g_hash_table_unref (self->connected);
  g_free (self);
}
