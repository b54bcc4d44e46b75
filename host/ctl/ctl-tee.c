/* ctl-tee.c: meroctl tee info|attest|fleet-join|policy — TEE admission
 * over D-Bus (info and attest: this node; fleet-join: ask in by
 * attestation; policy: the policy of a context's group, SetTeePolicy).
 *
 *   meroctl tee policy CONTEXT [mrtd=HEX]... [tcb=STATUS]...
 *                      [rtmrs=R0,R1,R2,R3] [accept-mock]
 *
 * Words instead of --options so the shared option table stays as it is;
 * an empty RTMR in rtmrs= leaves that register unchecked. */
#include <glib/gi18n.h>
#include <string.h>

#include "ctl-commands.h"
#include "tee/mero-tee-verify.h"

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
  guint n = args != NULL ? g_strv_length (args) : 0;

  if (n != 4 && n != 5)
    return ctl_usage_error (
      _("usage: meroctl tee fleet-join CONTEXT GROUP APPLICATION ADDRESS [QUOTE_FILE]"));
  if (n == 5)
    {
      /* A quote made elsewhere (binary or hex file), announced instead of
       * the node's own. */
      g_autoptr (GBytes) quote = mero_tee_quote_load (args[4], &error);
      g_autoptr (GString) hex = g_string_new (NULL);
      const guint8 *data;
      gsize len = 0;

      if (quote == NULL)
        return ctl_print_error (error);
      data = g_bytes_get_data (quote, &len);
      for (gsize i = 0; i < len; i++)
        g_string_append_printf (hex, "%02x", data[i]);
      if (!mero_dbus_node1_call_tee_fleet_join_with_quote_sync (node, args[0], args[1], args[2],
                                                                args[3], hex->str, NULL, &error))
        return ctl_print_error (error);
    }
  else if (!mero_dbus_node1_call_tee_fleet_join_sync (node, args[0], args[1], args[2], args[3],
                                                      NULL, &error))
    return ctl_print_error (error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print (_("Announced this node's attestation for context %s; an admin admits it "
               "read-only\n"), args[0]);
  return CTL_EXIT_OK;
}

static int
tee_info (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GVariant) info = NULL;
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (args != NULL && args[0] != NULL)
    return ctl_usage_error (_("usage: meroctl tee info"));
  if (!mero_dbus_node1_call_tee_info_sync (node, &info, NULL, &error))
    return ctl_print_error (error);
  if (options->json)
    {
      ctl_print_json_variant (info);
      return CTL_EXIT_OK;
    }
  g_variant_iter_init (&iter, info);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      g_autofree char *text = ctl_format_value (value, "  ");

      ctl_print_labelled (key, text);
      g_variant_unref (value);
    }
  return CTL_EXIT_OK;
}

/* The quote in hex on stdout (e.g. for merod tee verify on another host). */
static int
tee_attest (MeroDBusNode1 *node, const CtlOptions *options, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *quote = NULL, *report_data = NULL;

  if (args != NULL && args[0] != NULL && args[1] != NULL)
    return ctl_usage_error (_("usage: meroctl tee attest [NONCE_HEX]"));
  if (!mero_dbus_node1_call_tee_attest_sync (node, args != NULL && args[0] != NULL ? args[0] : "",
                                             &quote, &report_data, NULL, &error))
    return ctl_print_error (error);
  if (options->json)
    g_print ("{\"quote\":\"%s\",\"report_data\":\"%s\"}\n", quote, report_data);
  else
    g_print ("%s\n", quote);
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
  if (g_strcmp0 (verb, "info") == 0)
    return tee_info (node, options, args + 1);
  if (g_strcmp0 (verb, "attest") == 0)
    return tee_attest (node, options, args + 1);
  return ctl_usage_error (_("usage: meroctl tee info|attest|fleet-join|policy …"));
}
