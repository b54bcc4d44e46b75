/* mero-test-bus.h: a private D-Bus session bus for one test (GTestDBus)
 * and a client connection to it, set up and torn down the same way by
 * every integration test. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Starts a private bus (its address becomes DBUS_SESSION_BUS_ADDRESS for
 * the merod processes the test spawns) and connects to it. */
void mero_test_bus_up (GTestDBus **bus, GDBusConnection **connection);
/* Closes the connection and stops the bus; both pointers are cleared. */
void mero_test_bus_down (GTestDBus **bus, GDBusConnection **connection);

G_END_DECLS
