/* ctl-client.h: the node operations meroctl's context, call and group
 * commands use, over D-Bus or over HTTP (--url) alike.  Both return the
 * D-Bus shapes (a{sv} dictionaries as in network.calimero.Node1.xml), so
 * each command prints the same whichever way it reached the node. */
#pragma once

#include "ctl-common.h"

G_BEGIN_DECLS

typedef struct _CtlClient CtlClient;

/* (transfer full) a client over @node's proxy (a ref is taken). */
CtlClient *ctl_client_new_dbus (MeroDBusNode1 *node);
/* (transfer full) a client of the admin API and JSON-RPC at @url. */
CtlClient *ctl_client_new_http (const char *url, const char *token);
void ctl_client_free (CtlClient *client);

gboolean ctl_client_create_context (CtlClient *client, const char *application,
                                    char **context_id, char **group_id, GError **error);
/* (transfer full) aa{sv} */
GVariant *ctl_client_list_contexts (CtlClient *client, GError **error);
/* (transfer full) a{sv} */
GVariant *ctl_client_context_info (CtlClient *client, const char *context_id, GError **error);
char *ctl_client_invite (CtlClient *client, const char *context_id, const char *invitee,
                         guint expiry_secs, GError **error);
char *ctl_client_join (CtlClient *client, const char *invitation, GError **error);
gboolean ctl_client_leave (CtlClient *client, const char *context_id, GError **error);
gboolean ctl_client_delete (CtlClient *client, const char *context_id, GError **error);
gboolean ctl_client_remove_member (CtlClient *client, const char *context_id,
                                   const char *member, GError **error);
gboolean ctl_client_sync (CtlClient *client, const char *context_id, GError **error);
/* Replaces the context's state by a member's (a snapshot sync). */
gboolean ctl_client_resync (CtlClient *client, const char *context_id, GError **error);
/* (transfer full) the JSON result text. */
char *ctl_client_call (CtlClient *client, const char *context_id, const char *method,
                       const char *args, GError **error);
/* (transfer full) aa{sv} */
GVariant *ctl_client_list_groups (CtlClient *client, GError **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CtlClient, ctl_client_free)

G_END_DECLS
