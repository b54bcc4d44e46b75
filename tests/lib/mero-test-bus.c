#include "mero-test-bus.h"

void
mero_test_bus_up (GTestDBus **bus, GDBusConnection **connection)
{
  g_autoptr (GError) error = NULL;

  *bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (*bus);
  *connection = g_dbus_connection_new_for_address_sync (
      g_test_dbus_get_bus_address (*bus),
      G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT
          | G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
      NULL, NULL, &error);
  g_assert_no_error (error);
}

void
mero_test_bus_down (GTestDBus **bus, GDBusConnection **connection)
{
  if (*connection != NULL)
    g_dbus_connection_close_sync (*connection, NULL, NULL);
  g_clear_object (connection);
  if (*bus != NULL)
    g_test_dbus_down (*bus);
  g_clear_object (bus);
}
