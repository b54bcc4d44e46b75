/* ctl-common.c: errors and output shared by the meroctl commands. */
#include "ctl-common.h"

#include <glib/gi18n.h>

int
ctl_print_error (const GError *error)
{
  g_autoptr (GError) copy = g_error_copy (error);

  /* A node's error arrives as "GDBus.Error:network.calimero…: text"; the
   * user wants the text. */
  if (g_dbus_error_is_remote_error (copy))
    g_dbus_error_strip_remote_error (copy);
  g_printerr ("meroctl: %s\n", copy->message);
  return CTL_EXIT_FAILED;
}

int
ctl_usage_error (const char *message)
{
  g_printerr ("meroctl: %s\n", message);
  g_printerr (_("Run “meroctl --help” for the commands.\n"));
  return CTL_EXIT_USAGE;
}

void
ctl_print_json_node (JsonNode *node)
{
  g_autoptr (JsonGenerator) generator = json_generator_new ();
  g_autofree char *text = NULL;

  json_generator_set_root (generator, node);
  text = json_generator_to_data (generator, NULL);
  g_print ("%s\n", text);
}

void
ctl_print_json_variant (GVariant *value)
{
  g_autoptr (JsonNode) node = json_gvariant_serialize (value);

  ctl_print_json_node (node);
}

char *
ctl_format_value (GVariant *value, const char *indent)
{
  GString *out = g_string_new (NULL);

  if (g_variant_is_of_type (value, G_VARIANT_TYPE_VARIANT))
    {
      g_autoptr (GVariant) inner = g_variant_get_variant (value);

      g_string_free (out, TRUE);
      return ctl_format_value (inner, indent);
    }
  if (g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    g_string_append (out, g_variant_get_string (value, NULL));
  else if (g_variant_is_of_type (value, G_VARIANT_TYPE_BOOLEAN))
    g_string_append (out, g_variant_get_boolean (value) ? _("yes") : _("no"));
  else if (g_variant_is_container (value) && g_variant_n_children (value) == 0)
    g_string_append (out, _("(none)"));
  else if (g_variant_is_container (value))
    {
      GVariantIter iter;
      GVariant *child;

      g_variant_iter_init (&iter, value);
      while ((child = g_variant_iter_next_value (&iter)) != NULL)
        {
          g_autofree char *text = NULL;

          if (g_variant_is_of_type (child, G_VARIANT_TYPE_TUPLE))
            {
              /* (peer, role) and the like: space separated. */
              GString *row = g_string_new (NULL);
              GVariantIter fields;
              GVariant *field;

              g_variant_iter_init (&fields, child);
              while ((field = g_variant_iter_next_value (&fields)) != NULL)
                {
                  g_autofree char *part = ctl_format_value (field, "");

                  if (row->len > 0)
                    g_string_append_c (row, ' ');
                  g_string_append (row, part);
                  g_variant_unref (field);
                }
              text = g_string_free (row, FALSE);
            }
          else
            text = ctl_format_value (child, "");
          g_string_append_printf (out, "\n%s%s", indent, text);
          g_variant_unref (child);
        }
    }
  else
    {
      /* Integers: print without GVariant's type annotations. */
      g_autofree char *text = g_variant_print (value, FALSE);

      g_string_append (out, text);
    }
  return g_string_free (out, FALSE);
}

void
ctl_print_labelled (const char *label, const char *text)
{
  /* A list starts on the next line, one item a line. */
  g_print ("%s:%s%s\n", label, text[0] == '\n' ? "" : " ", text);
}

const char *
ctl_dict_string (GVariant *dict, const char *key)
{
  const char *value = NULL;

  if (!g_variant_lookup (dict, key, "&s", &value))
    return "";
  return value;
}
