/* ctl-commands.h: meroctl's commands.  Each takes the words after the
 * command name (@args, NULL-terminated) and returns an exit status. */
#pragma once

#include "ctl-client.h"
#include "ctl-common.h"

G_BEGIN_DECLS

/* ctl-node.c: the node itself, over D-Bus. */
int ctl_info (MeroDBusNode1 *node, const CtlOptions *options);
int ctl_plugins (MeroDBusNode1 *node, const CtlOptions *options);
int ctl_peers (MeroDBusNode1 *node, const CtlOptions *options);

/* ctl-http.c: info, plugins and peers over the admin API (--url). */
int ctl_http_run (const char *command, const char *url, const char *token,
                  const CtlOptions *options);

/* ctl-context.c: context …, call, group …, over D-Bus or HTTP. */
int ctl_context (CtlClient *client, const CtlOptions *options, char **args);
int ctl_call (CtlClient *client, const CtlOptions *options, char **args);
int ctl_group (CtlClient *client, const CtlOptions *options, char **args);

/* ctl-blob.c, ctl-blob-http.c: blob upload|download|list|info|delete,
 * over D-Bus or the admin API (--url). */
int ctl_blob (MeroDBusNode1 *node, const CtlOptions *options, char **args);
int ctl_blob_http (const CtlOptions *options, const char *url, const char *token, char **args);
/* ctl-tee.c: tee policy. */
int ctl_tee (MeroDBusNode1 *node, const CtlOptions *options, char **args);

/* ctl-watch.c: StateChanged signals (D-Bus, @node) or state-changed
 * events (the event stream at @url when @node is NULL) until interrupted
 * or --count. */
int ctl_watch (MeroDBusNode1 *node, CtlClient *client, const char *url, const char *token,
               const CtlOptions *options);

G_END_DECLS
