/* ctl-tee.c: meroctl tee policy and tee fleet-join — the TEE admission policy of a
 * context's group (SetTeePolicy over D-Bus).
 *
 *   meroctl tee policy CONTEXT [mrtd=HEX]... [tcb=STATUS]...
 *                      [rtmrs=R0,R1,R2,R3] [accept-mock]
 *
 * Words instead of --options so the shared option table stays as it is;
 * an empty RTMR in rtmrs= leaves that register unchecked. */
#include <glib/gi18n.h>
#include <string.h>

#include "ctl-commands.h"

static int
policy_usage (void)
{
  return ctl_usage_error (_("usage: meroctl tee policy CONTEXT [mrtd=HEX]... [tcb=STATUS]... "
                            "[rtmrs=R0,R1,R2,R3] [accept-mock]"));
}

static int
tee_policy (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  g_autoptr (GPtrArray) mrtds = g_ptr_array_new ();
  g_autoptr (GPtrArray) statuses = g_ptr_array_new ();
  g_auto (GStrv) rtmrs = NULL;
  g_autoptr (GError) error = NULL;
  gboolean accept_mock = FALSE;

  if (args == NULL || args[0] == NULL)
    return policy_usage ();
  for (guint i = 1; args[i] != NULL; i++)
    {
      if (g_str_has_prefix (args[i], "mrtd="))
        g_ptr_array_add (mrtds, args[i] + strlen ("mrtd="));
      else if (g_str_has_prefix (args[i], "tcb="))
        g_ptr_array_add (statuses, args[i] + strlen ("tcb="));
      else if (g_str_has_prefix (args[i], "rtmrs=") && rtmrs == NULL)
        rtmrs = g_strsplit (args[i] + strlen ("rtmrs="), ",", -1);
      else if (g_str_equal (args[i], "accept-mock"))
        accept_mock = TRUE;
      else
        return policy_usage ();
    }
  g_ptr_array_add (mrtds, NULL);
  g_ptr_array_add (statuses, NULL);
  if (rtmrs == NULL)
    rtmrs = g_new0 (char *, 1);
  if (!mero_dbus_node1_call_set_tee_policy_sync (node, args[0], (const char *const *) mrtds->pdata,
                                                 (const char *const *) statuses->pdata,
                                                 (const char *const *) rtmrs, accept_mock, NULL,
                                                 &error))
    return ctl_print_error (error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_("TEE admission policy of context %s set\n"), args[0]);
  return CTL_EXIT_OK;
}

static int
tee_fleet_join (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  g_autoptr (GError) error = NULL;

  if (args == NULL || g_strv_length (args) != 4)
    return ctl_usage_error (_("usage: meroctl tee fleet-join CONTEXT GROUP APPLICATION ADDRESS"));
  if (!mero_dbus_node1_call_tee_fleet_join_sync (node, args[0], args[1], args[2], args[3], NULL,
                                                 &error))
    return ctl_print_error (error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_("Announced this node's attestation for context %s; an admin admits it "
               "read-only\n"), args[0]);
  return CTL_EXIT_OK;
}

int
ctl_tee (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  const char *verb = args != NULL ? args[0] : NULL;

  if (g_strcmp0 (verb, "policy") == 0)
    return tee_policy (node, options, args + 1);
  if (g_strcmp0 (verb, "fleet-join") == 0)
    return tee_fleet_join (node, options, args + 1);
  return ctl_usage_error (_("usage: meroctl tee policy|fleet-join …"));
}
