/* mero-test-netns.h: run a test binary inside a network namespace of its
 * own, so multicast (mDNS) never reaches the machine's real interfaces.
 *
 * Call mero_test_netns_enter (argv) first thing in main(): outside a
 * namespace it re-executes the program under `unshare -rn` (user +
 * network namespace, works without root where user namespaces are
 * allowed) or, failing that, `unshare -n` (root), with
 * MERO_TEST_IN_NETNS=1 set; it only returns when no namespace could be
 * made.  Inside, it brings loopback up with multicast on and routes
 * 224.0.0.0/4 to it.  It returns NULL when the test can go ahead in a
 * fresh namespace, else (transfer full) the reason it cannot, which
 * the caller passes to g_test_skip in each test. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

char *mero_test_netns_enter (char **argv);

G_END_DECLS
