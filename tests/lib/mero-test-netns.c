/* mero-test-netns.c: see the header. */
#include "mero-test-netns.h"

#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define NETNS_ENV "MERO_TEST_IN_NETNS"

/* Loopback up, multicast on, 224.0.0.0/4 routed to it.  ioctls rather
 * than `ip`, so iproute2 is not needed. */
static char *
setup_loopback (void)
{
  struct ifreq ifr = { 0 };
  struct rtentry route = { 0 };
  struct sockaddr_in *sin;
  int fd = socket (AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

  if (fd < 0)
    return g_strdup_printf ("socket: %s", g_strerror (errno));
  g_strlcpy (ifr.ifr_name, "lo", sizeof ifr.ifr_name);
  if (ioctl (fd, SIOCGIFFLAGS, &ifr) != 0)
    {
      int saved = errno;

      close (fd);
      return g_strdup_printf ("reading the flags of lo: %s", g_strerror (saved));
    }
  ifr.ifr_flags |= IFF_UP | IFF_MULTICAST;
  if (ioctl (fd, SIOCSIFFLAGS, &ifr) != 0)
    {
      int saved = errno;

      close (fd);
      return g_strdup_printf ("bringing lo up with multicast: %s", g_strerror (saved));
    }
  sin = (struct sockaddr_in *) &route.rt_dst;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl (0xe0000000u);
  sin = (struct sockaddr_in *) &route.rt_genmask;
  sin->sin_family = AF_INET;
  sin->sin_addr.s_addr = htonl (0xf0000000u);
  route.rt_flags = RTF_UP;
  route.rt_dev = (char *) "lo";
  if (ioctl (fd, SIOCADDRT, &route) != 0 && errno != EEXIST)
    {
      int saved = errno;

      close (fd);
      return g_strdup_printf ("routing 224.0.0.0/4 to lo: %s", g_strerror (saved));
    }
  close (fd);
  return NULL;
}

static gboolean
unshare_works (const char *flag, char **why)
{
  const char *argv[] = { "unshare", flag, "true", NULL };
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = -1;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                     NULL, NULL, NULL, &err, &status, &error))
    {
      g_free (*why);
      *why = g_strdup (error->message);
      return FALSE;
    }
  if (!g_spawn_check_wait_status (status, NULL))
    {
      g_free (*why);
      *why = g_strdup_printf ("unshare %s: %s", flag, g_strstrip (err));
      return FALSE;
    }
  return TRUE;
}

char *
mero_test_netns_enter (char **argv)
{
  static const char *const flags[] = { "-rn", "-n" };
  g_autofree char *why = NULL;

  if (g_getenv (NETNS_ENV) != NULL)
    return setup_loopback ();
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_autoptr (GPtrArray) args = NULL;
      g_autofree char *unshare = NULL;
      g_autofree char *self = NULL;

      if (!unshare_works (flags[i], &why))
        continue;
      unshare = g_find_program_in_path ("unshare");
      self = g_file_read_link ("/proc/self/exe", NULL);
      if (unshare == NULL || self == NULL)
        break;
      args = g_ptr_array_new ();
      g_ptr_array_add (args, unshare);
      g_ptr_array_add (args, (gpointer) flags[i]);
      g_ptr_array_add (args, self);
      for (guint k = 1; argv[k] != NULL; k++)
        g_ptr_array_add (args, argv[k]);
      g_ptr_array_add (args, NULL);
      g_setenv (NETNS_ENV, "1", TRUE);
      execv (unshare, (char **) args->pdata);
      g_free (why);
      why = g_strdup_printf ("exec %s: %s", unshare, g_strerror (errno));
      g_unsetenv (NETNS_ENV);
      break;
    }
  return g_strdup_printf ("no network namespace could be made (%s)",
                          why != NULL ? why : "unshare not found");
}
