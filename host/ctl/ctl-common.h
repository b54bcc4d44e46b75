/* ctl-common.h: what every meroctl command shares: the parsed global
 * options, exit codes, error printing and the two output styles (aligned
 * text for people, one JSON document per line for scripts). */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "dbus/mero-dbus-node1-generated.h"

G_BEGIN_DECLS

/* Exit statuses, documented in meroctl.c's header and meroctl(1). */
#define CTL_EXIT_OK 0
#define CTL_EXIT_FAILED 1   /* no node, or the node refused / failed the call */
#define CTL_EXIT_USAGE 2    /* bad command line (nothing was sent) */

/* A node that does not answer within this is as good as absent.  Joining
 * dials the inviter and waits for the join to be accepted: longer. */
#define CTL_CALL_TIMEOUT_MS 10000
#define CTL_JOIN_TIMEOUT_MS 60000
/* call --args-file: larger arguments are refused before anything is sent
 * (the node's HTTP bodies are limited to 1 MiB too). */
#define CTL_MAX_ARGS_BYTES (1024 * 1024)
/* Where --url's bearer token comes from when --token is not given. */
#define MERO_TOKEN_ENV "MERO_TOKEN"

typedef struct {
  gboolean json;          /* --json */
  char *invitee;          /* context invite --invitee */
  gint64 expiry_secs;     /* context invite --expiry (-1: unset) */
  gint64 count;           /* watch --count (0: until interrupted) */
  char *watch_context;    /* watch --context */
  char *args_file;        /* call --args-file (a path, or "-": stdin) */
  gboolean resync;        /* context sync --resync */
  gboolean blob_public;   /* blob upload --public (with --context) */
} CtlOptions;

/* Prints "meroctl: <message>" (a node's D-Bus error without its
 * "GDBus.Error:…:" prefix) and returns CTL_EXIT_FAILED. */
int ctl_print_error (const GError *error);
/* Prints "meroctl: <message>" and the usage hint; returns CTL_EXIT_USAGE. */
int ctl_usage_error (const char *message);

/* Writes @node as one line of compact JSON to stdout. */
void ctl_print_json_node (JsonNode *node);
/* Writes @value (any D-Bus value, a{sv} as an object) as one line of JSON. */
void ctl_print_json_variant (GVariant *value);

/* Human text for one a{sv} value: strings as is, arrays one per line
 * (indented), numbers and booleans in decimal / yes-no.  (transfer full) */
char *ctl_format_value (GVariant *value, const char *indent);
/* "Label: text", or "Label:" and the lines of a list. */
void ctl_print_labelled (const char *label, const char *text);
/* A string entry of an a{sv} dictionary, "" if missing or not a string. */
const char *ctl_dict_string (GVariant *dict, const char *key);

G_END_DECLS
