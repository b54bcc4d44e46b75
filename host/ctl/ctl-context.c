/* ctl-context.c: meroctl context …, call and group list: thin wrappers
 * around the node's D-Bus methods (data/dbus/network.calimero.Node1.xml)
 * that check the command line before anything is sent. */
#include "ctl-commands.h"

#include <gio/gunixinputstream.h>
#include <glib/gi18n.h>

/* The labels of GetContextInfo's keys, in the order people read them. */
static const struct {
  const char *key;
  const char *label;
} info_labels[] = {
  { "context_id", N_("Context") },   { "group_id", N_("Group") },
  { "application", N_("Application") }, { "root_hash", N_("Root hash") },
  { "heads", N_("Heads") },          { "n_deltas", N_("Deltas applied") },
  { "n_pending", N_("Deltas pending") }, { "members", N_("Members") },
  { "peers", N_("Peers") },          { "can_write", N_("Can write") },
  { "sync", N_("Last sync") },
};

static gsize
count_args (char **args)
{
  return args != NULL ? g_strv_length (args) : 0;
}

/* @args must hold exactly @n words; otherwise a usage error naming @synopsis. */
static gboolean
want_args (char **args, gsize n, const char *synopsis, int *status)
{
  if (count_args (args) == n)
    return TRUE;
  {
    g_autofree char *message = g_strdup_printf (_("usage: meroctl %s"), synopsis);

    *status = ctl_usage_error (message);
  }
  return FALSE;
}

static int
print_context_info (GVariant *info, const CtlOptions *options)
{
  GVariantIter iter;
  const char *key;
  GVariant *value;

  if (options->json)
    {
      ctl_print_json_variant (info);
      return CTL_EXIT_OK;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (info_labels); i++)
    {
      g_autoptr (GVariant) item = g_variant_lookup_value (info, info_labels[i].key, NULL);
      g_autofree char *text = NULL;

      if (item == NULL)
        continue;
      if (g_str_equal (info_labels[i].key, "root_hash")
          && g_str_equal (g_variant_get_string (item, NULL), ""))
        text = g_strdup (_("(uninitialised)"));
      else
        text = ctl_format_value (item, "  ");
      ctl_print_labelled (_(info_labels[i].label), text);
    }
  /* Keys a newer node adds, under their own names. */
  g_variant_iter_init (&iter, info);
  while (g_variant_iter_next (&iter, "{&sv}", &key, &value))
    {
      gboolean known = FALSE;

      for (gsize i = 0; i < G_N_ELEMENTS (info_labels); i++)
        known = known || g_str_equal (key, info_labels[i].key);
      if (!known)
        {
          g_autofree char *text = ctl_format_value (value, "  ");

          ctl_print_labelled (key, text);
        }
      g_variant_unref (value);
    }
  return CTL_EXIT_OK;
}

static int
context_create (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autofree char *context_id = NULL;
  g_autofree char *group_id = NULL;
  g_autoptr (GError) error = NULL;
  gsize n = count_args (args);

  if (n > 1)
    return ctl_usage_error (_("usage: meroctl context create [APPLICATION]"));
  if (!ctl_client_create_context (client, n == 1 ? args[0] : "kv", &context_id, &group_id,
                                  &error))
    return ctl_print_error (error);
  if (options->json)
    {
      g_autoptr (GVariant) reply = g_variant_ref_sink (g_variant_new_parsed (
          "{'context_id': <%s>, 'group_id': <%s>}", context_id, group_id));

      ctl_print_json_variant (reply);
      return CTL_EXIT_OK;
    }
  g_print ("%s: %s\n", _("Context"), context_id);
  g_print ("%s: %s\n", _("Group"), group_id);
  return CTL_EXIT_OK;
}

static int
context_list (CtlClient *client, const CtlOptions *options)
{
  g_autoptr (GVariant) contexts = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  GVariant *context;

  contexts = ctl_client_list_contexts (client, &error);
  if (contexts == NULL)
    return ctl_print_error (error);
  if (options->json)
    {
      ctl_print_json_variant (contexts);
      return CTL_EXIT_OK;
    }
  if (g_variant_n_children (contexts) == 0)
    {
      g_print ("%s\n", _("(none)"));
      return CTL_EXIT_OK;
    }
  g_print ("%-46s %-6s %-8s %s\n", _("CONTEXT"), _("APP"), _("DELTAS"), _("ROOT HASH"));
  g_variant_iter_init (&iter, contexts);
  while ((context = g_variant_iter_next_value (&iter)) != NULL)
    {
      guint64 n_deltas = 0;
      const char *root = ctl_dict_string (context, "root_hash");

      g_variant_lookup (context, "n_deltas", "t", &n_deltas);
      g_print ("%-46s %-6s %-8" G_GUINT64_FORMAT " %s\n", ctl_dict_string (context, "context_id"),
               ctl_dict_string (context, "application"), n_deltas,
               root[0] != '\0' ? root : _("(uninitialised)"));
      g_variant_unref (context);
    }
  return CTL_EXIT_OK;
}

static int
context_info (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autoptr (GVariant) info = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!want_args (args, 1, "context info CONTEXT", &status))
    return status;
  info = ctl_client_context_info (client, args[0], &error);
  if (info == NULL)
    return ctl_print_error (error);
  return print_context_info (info, options);
}

static int
context_invite (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autofree char *invitation = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!want_args (args, 1, "context invite CONTEXT [--invitee PEERID] [--expiry SECONDS]",
                  &status))
    return status;
  if (options->expiry_secs < -1 || options->expiry_secs > G_MAXUINT32)
    return ctl_usage_error (_("--expiry must be between 0 and 4294967295 seconds"));
  invitation = ctl_client_invite (client, args[0],
                                  options->invitee != NULL ? options->invitee : "",
                                  options->expiry_secs < 0 ? 0 : (guint32) options->expiry_secs,
                                  &error);
  if (invitation == NULL)
    return ctl_print_error (error);
  if (options->json)
    {
      g_autoptr (GVariant) reply =
          g_variant_ref_sink (g_variant_new_parsed ("{'invitation': <%s>}", invitation));

      ctl_print_json_variant (reply);
      return CTL_EXIT_OK;
    }
  /* Alone on its line, so that `$(meroctl context invite …)` is the
   * invitation. */
  g_print ("%s\n", invitation);
  return CTL_EXIT_OK;
}

static int
context_join (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autofree char *context_id = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!want_args (args, 1, "context join INVITATION", &status))
    return status;
  if (!g_str_has_prefix (args[0], "mero-invite1:"))
    return ctl_usage_error (_("an invitation starts with “mero-invite1:” (from meroctl context "
                              "invite on the inviting node)"));
  context_id = ctl_client_join (client, args[0], &error);
  if (context_id == NULL)
    return ctl_print_error (error);
  if (options->json)
    {
      g_autoptr (GVariant) reply =
          g_variant_ref_sink (g_variant_new_parsed ("{'context_id': <%s>}", context_id));

      ctl_print_json_variant (reply);
      return CTL_EXIT_OK;
    }
  g_print ("%s: %s\n", _("Joined context"), context_id);
  return CTL_EXIT_OK;
}

/* leave, delete, remove-member and sync: nothing comes back but success. */
static int
context_simple (CtlClient *client, const CtlOptions *options, const char *verb, char **args)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *done = NULL;
  gboolean ok;
  int status;

  if (g_str_equal (verb, "remove-member"))
    {
      if (!want_args (args, 2, "context remove-member CONTEXT PEERID", &status))
        return status;
      ok = ctl_client_remove_member (client, args[0], args[1], &error);
      done = g_strdup_printf (_("Removed %s from context %s"), args[1], args[0]);
    }
  else if (g_str_equal (verb, "leave"))
    {
      if (!want_args (args, 1, "context leave CONTEXT", &status))
        return status;
      ok = ctl_client_leave (client, args[0], &error);
      done = g_strdup_printf (_("Left context %s"), args[0]);
    }
  else if (g_str_equal (verb, "delete"))
    {
      if (!want_args (args, 1, "context delete CONTEXT", &status))
        return status;
      ok = ctl_client_delete (client, args[0], &error);
      done = g_strdup_printf (_("Deleted context %s"), args[0]);
    }
  else
    {
      if (!want_args (args, 1, "context sync CONTEXT [--resync]", &status))
        return status;
      if (options->resync)
        {
          ok = ctl_client_resync (client, args[0], &error);
          done = g_strdup_printf (_("Asked a member of context %s for its whole state"),
                                  args[0]);
        }
      else
        {
          ok = ctl_client_sync (client, args[0], &error);
          done = g_strdup_printf (_("Asked the peers of context %s for their heads"), args[0]);
        }
    }
  if (!ok)
    return ctl_print_error (error);
  if (options->json)
    g_print ("{}\n");
  else
    g_print ("%s\n", done);
  return CTL_EXIT_OK;
}

int
ctl_context (CtlClient *client, const CtlOptions *options, char **args)
{
  const char *verb = args != NULL ? args[0] : NULL;
  char **rest = verb != NULL ? args + 1 : NULL;

  if (g_strcmp0 (verb, "create") == 0)
    return context_create (client, options, rest);
  if (g_strcmp0 (verb, "list") == 0)
    return count_args (rest) == 0 ? context_list (client, options)
                                  : ctl_usage_error (_("usage: meroctl context list"));
  if (g_strcmp0 (verb, "info") == 0)
    return context_info (client, options, rest);
  if (g_strcmp0 (verb, "invite") == 0)
    return context_invite (client, options, rest);
  if (g_strcmp0 (verb, "join") == 0)
    return context_join (client, options, rest);
  if (g_strcmp0 (verb, "leave") == 0 || g_strcmp0 (verb, "remove-member") == 0
      || g_strcmp0 (verb, "sync") == 0 || g_strcmp0 (verb, "delete") == 0)
    return context_simple (client, options, verb, rest);
  if (verb == NULL)
    return ctl_usage_error (_("missing argument: context needs a subcommand "
                              "(create|list|info|invite|join|leave|delete|remove-member|sync)"));
  {
    g_autofree char *message = g_strdup_printf (
        _("unknown command “context %s” (expected create|list|info|invite|join|leave|delete|"
          "remove-member|sync)"),
        verb);

    return ctl_usage_error (message);
  }
}

/* The JSON arguments of call from --args-file (a file, or "-" for
 * stdin), bounded like a D-Bus message the node would accept. */
static char *
read_args_file (const char *path, GError **error)
{
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GByteArray) data = g_byte_array_new ();
  guint8 buffer[8192];

  if (g_str_equal (path, "-"))
    stream = g_unix_input_stream_new (0, FALSE);
  else
    {
      g_autoptr (GFile) file = g_file_new_for_commandline_arg (path);

      stream = G_INPUT_STREAM (g_file_read (file, NULL, error));
      if (stream == NULL)
        return NULL;
    }
  for (;;)
    {
      gssize n = g_input_stream_read (stream, buffer, sizeof buffer, NULL, error);

      if (n < 0)
        return NULL;
      if (n == 0)
        break;
      g_byte_array_append (data, buffer, n);
      if (data->len > CTL_MAX_ARGS_BYTES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_MESSAGE_TOO_LARGE,
                       _("the arguments are larger than %d bytes"), CTL_MAX_ARGS_BYTES);
          return NULL;
        }
    }
  g_byte_array_append (data, (const guint8 *) "", 1);
  return (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
}

int
ctl_call (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autoptr (JsonParser) parser = json_parser_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *result = NULL;
  g_autofree char *from_file = NULL;
  gsize n = count_args (args);
  const char *json = "{}";
  JsonNode *root;

  if (n < 2)
    return ctl_usage_error (n == 0 ? _("missing argument: call needs CONTEXT and METHOD")
                                   : _("missing argument: call needs METHOD after CONTEXT"));
  if (n > 3 || (n == 3 && options->args_file != NULL))
    return ctl_usage_error (_("usage: meroctl call CONTEXT METHOD [JSON | --args-file FILE|-]"));
  if (n == 3)
    json = args[2];
  if (options->args_file != NULL)
    {
      from_file = read_args_file (options->args_file, &error);
      if (from_file == NULL)
        {
          g_autofree char *message = g_strdup_printf (_("cannot read the arguments from %s: %s"),
                                                      options->args_file, error->message);

          return ctl_usage_error (message);
        }
      json = from_file;
    }
  /* Refuse what the node would refuse anyway, with a clearer message. */
  if (!json_parser_load_from_data (parser, json, -1, &error))
    {
      g_autofree char *message =
          g_strdup_printf (_("the arguments are not JSON: %s"), error->message);

      return ctl_usage_error (message);
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return ctl_usage_error (_("the arguments must be a JSON object, e.g. "
                              "'{\"key\": \"k\", \"value\": \"v\"}'"));
  result = ctl_client_call (client, args[0], args[1], json, &error);
  if (result == NULL)
    return ctl_print_error (error);
  /* The result is JSON already: the same for people and scripts. */
  g_print ("%s\n", result);
  return CTL_EXIT_OK;
}

static void
print_group (GVariant *group)
{
  static const struct {
    const char *key;
    const char *label;
  } labels[] = {
    { "group_id", N_("Group") },  { "owner", N_("Owner") }, { "members", N_("Members") },
    { "contexts", N_("Contexts") }, { "heads", N_("Heads") }, { "n_ops", N_("Operations") },
    { "key_id", N_("Key") },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (labels); i++)
    {
      g_autoptr (GVariant) item = g_variant_lookup_value (group, labels[i].key, NULL);
      g_autofree char *text = NULL;

      if (item == NULL)
        continue;
      if (g_str_equal (labels[i].key, "key_id")
          && g_str_equal (g_variant_get_string (item, NULL), ""))
        text = g_strdup (_("(none held)"));
      else
        text = ctl_format_value (item, "  ");
      ctl_print_labelled (_(labels[i].label), text);
    }
}

int
ctl_group (CtlClient *client, const CtlOptions *options, char **args)
{
  g_autoptr (GVariant) groups = NULL;
  g_autoptr (GError) error = NULL;
  GVariantIter iter;
  GVariant *group;
  gboolean first = TRUE;

  if (count_args (args) == 0)
    return ctl_usage_error (_("missing argument: group needs a subcommand (list)"));
  if (!g_str_equal (args[0], "list"))
    {
      g_autofree char *message =
          g_strdup_printf (_("unknown command “group %s” (expected list)"), args[0]);

      return ctl_usage_error (message);
    }
  if (count_args (args) != 1)
    return ctl_usage_error (_("usage: meroctl group list"));
  groups = ctl_client_list_groups (client, &error);
  if (groups == NULL)
    return ctl_print_error (error);
  if (options->json)
    {
      ctl_print_json_variant (groups);
      return CTL_EXIT_OK;
    }
  if (g_variant_n_children (groups) == 0)
    g_print ("%s\n", _("(none)"));
  g_variant_iter_init (&iter, groups);
  while ((group = g_variant_iter_next_value (&iter)) != NULL)
    {
      if (!first)
        g_print ("\n");
      first = FALSE;
      print_group (group);
      g_variant_unref (group);
    }
  return CTL_EXIT_OK;
}
