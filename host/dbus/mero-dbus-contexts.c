/* mero-dbus-contexts.c: the contexts methods of network.calimero.Node1.
 *
 * Errors carry D-Bus names clients can match:
 * network.calimero.Node1.Error.{InvalidArgument, UnknownContext,
 * NotAllowed, NoKey, Invitation, Peer, Failed, NotEnabled}. */
#define G_LOG_DOMAIN "merod"
#include "dbus/mero-dbus-service-private.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

#include "context/group/mero-group-types.h"
#include "context/kv/mero-kv.h"
#include "node/mero-contexts-tee.h"
#include "tee/mero-tee-admission.h"
#include "tee/mero-tee-quote.h"
#include "context/state/mero-state.h"

static const GDBusErrorEntry contexts_errors[] = {
  { MERO_CONTEXTS_ERROR_INVALID_ARGUMENT, "network.calimero.Node1.Error.InvalidArgument" },
  { MERO_CONTEXTS_ERROR_UNKNOWN_CONTEXT, "network.calimero.Node1.Error.UnknownContext" },
  { MERO_CONTEXTS_ERROR_NOT_ALLOWED, "network.calimero.Node1.Error.NotAllowed" },
  { MERO_CONTEXTS_ERROR_NO_KEY, "network.calimero.Node1.Error.NoKey" },
  { MERO_CONTEXTS_ERROR_INVITATION, "network.calimero.Node1.Error.Invitation" },
  { MERO_CONTEXTS_ERROR_PEER, "network.calimero.Node1.Error.Peer" },
  { MERO_CONTEXTS_ERROR_FAILED, "network.calimero.Node1.Error.Failed" },
};

static void
register_errors (void)
{
  static gsize once = 0;
  static volatile gsize quark = 0;

  if (g_once_init_enter (&once))
    {
      g_dbus_error_register_error_domain ("mero-contexts-error-quark", &quark, contexts_errors,
                                          G_N_ELEMENTS (contexts_errors));
      g_once_init_leave (&once, 1);
    }
}

#define CONTEXTS(service) mero_dbus_service_get_contexts (service)

/* Every reply carries one of the names above. */
static GError *
to_contexts_error (GError *error)
{
  return mero_contexts_error_normalize (error);
}

static gboolean
return_error (GDBusMethodInvocation *invocation, GError *error)
{
  g_dbus_method_invocation_take_error (invocation, to_contexts_error (error));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_create (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *application,
           gpointer user_data)
{
  GError *error = NULL;
  g_autofree char *context_id = NULL, *group_id = NULL;

  if (!mero_contexts_create (CONTEXTS (user_data), application, &context_id, &group_id, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_create_context (skeleton, invocation, context_id, group_id);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_list (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  mero_dbus_node1_complete_list_contexts (skeleton, invocation,
                                          mero_contexts_list (CONTEXTS (user_data)));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_info (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
         gpointer user_data)
{
  GError *error = NULL;
  GVariant *info = mero_contexts_info (CONTEXTS (user_data), context_id, &error);

  if (info == NULL)
    return return_error (invocation, error);
  mero_dbus_node1_complete_get_context_info (skeleton, invocation, info);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_invite (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
           const char *invitee, guint expiry_secs, gpointer user_data)
{
  GError *error = NULL;
  g_autofree char *invitation = mero_contexts_invite (CONTEXTS (user_data), context_id, invitee,
                                                      expiry_secs, &error);

  if (invitation == NULL)
    return return_error (invocation, error);
  mero_dbus_node1_complete_invite_to_context (skeleton, invocation, invitation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
on_joined (GObject *source, GAsyncResult *result, gpointer user_data)
{
  g_autoptr (GDBusMethodInvocation) invocation = user_data;
  MeroDBusService *service = g_object_get_data (G_OBJECT (invocation), "mero-service");
  GError *error = NULL;
  g_autofree char *context_id = NULL;

  context_id = mero_contexts_join_finish (NULL, result, &error);
  if (context_id == NULL)
    {
      g_dbus_method_invocation_take_error (g_steal_pointer (&invocation),
                                           to_contexts_error (error));
      return;
    }
  mero_dbus_node1_complete_join_context (mero_dbus_service_get_skeleton (service),
                                         g_steal_pointer (&invocation), context_id);
}

static gboolean
on_join (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *invitation,
         gpointer user_data)
{
  g_object_set_data (G_OBJECT (invocation), "mero-service", user_data);
  mero_contexts_join_async (CONTEXTS (user_data), invitation, on_joined,
                            g_object_ref (invocation));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_leave (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
          gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_leave (CONTEXTS (user_data), context_id, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_leave_context (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_delete (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
           gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_delete (CONTEXTS (user_data), context_id, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_delete_context (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_remove (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
           const char *member, gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_remove_member (CONTEXTS (user_data), context_id, member, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_remove_member (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_set_tee_policy (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                   const char *context_id, const char *const *mrtds,
                   const char *const *tcb_statuses, const char *const *rtmrs,
                   gboolean accept_mock, gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_set_tee_policy (CONTEXTS (user_data), context_id, mrtds, tcb_statuses, rtmrs,
                                     accept_mock, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_set_tee_policy (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_tee_fleet_join (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                   const char *context_id, const char *group_id, const char *application,
                   const char *address, gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_tee_fleet_join (CONTEXTS (user_data), context_id, group_id, application,
                                     address, NULL, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_tee_fleet_join (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_tee_fleet_join_with_quote (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation,
                              const char *context_id, const char *group_id,
                              const char *application, const char *address,
                              const char *quote_hex, gpointer user_data)
{
  GError *error = NULL;
  g_autoptr (GBytes) quote = mero_tee_quote_from_hex (quote_hex, MERO_TEE_ANNOUNCE_QUOTE_MAX_BYTES,
                                                      &error);

  if (quote == NULL)
    return return_error (invocation, error);
  if (!mero_contexts_tee_fleet_join (CONTEXTS (user_data), context_id, group_id, application,
                                     address, quote, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_tee_fleet_join_with_quote (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_tee_info (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  mero_dbus_node1_complete_tee_info (skeleton, invocation,
                                     mero_contexts_tee_info (CONTEXTS (user_data)));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_tee_attest (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *nonce,
               gpointer user_data)
{
  GError *error = NULL;
  guint8 report_data[64];
  g_autoptr (GBytes) quote = mero_contexts_tee_attest (CONTEXTS (user_data), nonce, report_data,
                                                       &error);
  g_autoptr (GString) quote_hex = g_string_new (NULL);
  g_autoptr (GString) rd_hex = g_string_new (NULL);
  gsize len = 0;
  const guint8 *data;

  if (quote == NULL)
    return return_error (invocation, error);
  data = g_bytes_get_data (quote, &len);
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (quote_hex, "%02x", data[i]);
  for (gsize i = 0; i < sizeof report_data; i++)
    g_string_append_printf (rd_hex, "%02x", report_data[i]);
  mero_dbus_node1_complete_tee_attest (skeleton, invocation, quote_hex->str, rd_hex->str);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_call (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
         const char *method, const char *args, gpointer user_data)
{
  GError *error = NULL;
  g_autofree char *result = mero_contexts_call (CONTEXTS (user_data), context_id, method, args,
                                                &error);

  if (result == NULL)
    return return_error (invocation, error);
  mero_dbus_node1_complete_call (skeleton, invocation, result);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_sync (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
         gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_sync (CONTEXTS (user_data), context_id, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_sync_context (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_resync (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
           gpointer user_data)
{
  GError *error = NULL;

  if (!mero_contexts_resync (CONTEXTS (user_data), context_id, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_resync_context (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_list_groups (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, gpointer user_data)
{
  mero_dbus_node1_complete_list_groups (skeleton, invocation,
                                        mero_contexts_list_groups (CONTEXTS (user_data)));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_skip (MeroDBusNode1 *skeleton, GDBusMethodInvocation *invocation, const char *context_id,
         guint count, gpointer user_data)
{
  GError *error = NULL;

  if (!mero_dbus_service_get_test_hooks (user_data))
    {
      g_dbus_method_invocation_return_dbus_error (
          invocation, "network.calimero.Node1.Error.NotEnabled",
          _("Test hooks are off (set [debug] test_hooks=true in merod.conf)"));
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  if (!mero_contexts_skip_broadcasts (CONTEXTS (user_data), context_id, count, &error))
    return return_error (invocation, error);
  mero_dbus_node1_complete_skip_next_broadcasts (skeleton, invocation);
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

void
mero_dbus_contexts_connect (MeroDBusService *service, MeroDBusNode1 *skeleton)
{
  register_errors ();
  g_signal_connect (skeleton, "handle-create-context", G_CALLBACK (on_create), service);
  g_signal_connect (skeleton, "handle-list-contexts", G_CALLBACK (on_list), service);
  g_signal_connect (skeleton, "handle-get-context-info", G_CALLBACK (on_info), service);
  g_signal_connect (skeleton, "handle-invite-to-context", G_CALLBACK (on_invite), service);
  g_signal_connect (skeleton, "handle-join-context", G_CALLBACK (on_join), service);
  g_signal_connect (skeleton, "handle-leave-context", G_CALLBACK (on_leave), service);
  g_signal_connect (skeleton, "handle-delete-context", G_CALLBACK (on_delete), service);
  g_signal_connect (skeleton, "handle-remove-member", G_CALLBACK (on_remove), service);
  g_signal_connect (skeleton, "handle-call", G_CALLBACK (on_call), service);
  g_signal_connect (skeleton, "handle-set-tee-policy", G_CALLBACK (on_set_tee_policy), service);
  g_signal_connect (skeleton, "handle-tee-fleet-join", G_CALLBACK (on_tee_fleet_join), service);
  g_signal_connect (skeleton, "handle-tee-fleet-join-with-quote",
                    G_CALLBACK (on_tee_fleet_join_with_quote), service);
  g_signal_connect (skeleton, "handle-tee-info", G_CALLBACK (on_tee_info), service);
  g_signal_connect (skeleton, "handle-tee-attest", G_CALLBACK (on_tee_attest), service);
  g_signal_connect (skeleton, "handle-sync-context", G_CALLBACK (on_sync), service);
  g_signal_connect (skeleton, "handle-resync-context", G_CALLBACK (on_resync), service);
  g_signal_connect (skeleton, "handle-list-groups", G_CALLBACK (on_list_groups), service);
  g_signal_connect (skeleton, "handle-skip-next-broadcasts", G_CALLBACK (on_skip), service);
}
