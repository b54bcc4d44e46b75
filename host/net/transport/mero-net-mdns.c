/* mero-net-mdns.c: UDP 5353 sockets, interfaces and timers around the
 * mDNS core (see the header). */
/* struct in6_pktinfo (RFC 3542) */
#define _GNU_SOURCE
#define G_LOG_DOMAIN "merod-net"
#include "net/transport/mero-net-mdns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/core/mero-mdns-message.h"
#include "net/core/mero-mdns.h"
#include "net/core/mero-multiaddr.h"

/* Interfaces joined and remembered; more are ignored (and logged once). */
#define NET_MDNS_MAX_INTERFACES MERO_MDNS_MAX_INTERFACES
/* Addresses remembered per interface. */
#define NET_MDNS_MAX_IFACE_ADDRS 16u
/* Datagrams read per wakeup, so a flood cannot starve the thread. */
#define NET_MDNS_MAX_READS 64u
/* Random peer-name length (js uses 63; 32 is plenty of entropy). */
#define NET_MDNS_PEER_NAME_LEN 32u

typedef struct
{
  guint index;
  char name[IF_NAMESIZE];
  GPtrArray *v4;      /* GInetAddress */
  GPtrArray *v6;      /* GInetAddress, link-local left out */
  gboolean joined4, joined6;
  gboolean send_failed4, send_failed6; /* logged once, not every query */
  gboolean present;   /* seen in the last scan */
} Iface;

struct _NetMdns
{
  MeroNetwork *net;
  MeroMdns *core;
  int fd4, fd6;       /* -1 when absent */
  GSocket *sock4, *sock6;
  GSource *source4, *source6;
  GSource *timer;
  GPtrArray *ifaces;  /* Iface */
  gboolean warned_ifaces;
  MeroMdnsStats exported;
};

static void
iface_free (gpointer data)
{
  Iface *iface = data;

  g_ptr_array_unref (iface->v4);
  g_ptr_array_unref (iface->v6);
  g_free (iface);
}

static Iface *
find_iface (NetMdns *self, guint index)
{
  for (guint i = 0; i < self->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (self->ifaces, i);

      if (iface->index == index)
        return iface;
    }
  return NULL;
}

/* --- metrics --- */

static void
export_counter (NetMdns *self, const char *name, const char *labels, guint64 now_value,
                guint64 *exported)
{
  if (now_value > *exported)
    mero_metrics_counter_add (self->net->metrics, name, labels, now_value - *exported, NULL);
  *exported = now_value;
}

static void
export_stats (NetMdns *self)
{
  const MeroMdnsStats *s = mero_mdns_get_stats (self->core);
  MeroMdnsStats *e = &self->exported;

  export_counter (self, "mero_mdns_queries_total", "direction=\"sent\"", s->queries_sent,
                  &e->queries_sent);
  export_counter (self, "mero_mdns_queries_total", "direction=\"received\"",
                  s->queries_received, &e->queries_received);
  export_counter (self, "mero_mdns_responses_total", "direction=\"sent\"", s->responses_sent,
                  &e->responses_sent);
  export_counter (self, "mero_mdns_responses_total", "direction=\"received\"",
                  s->responses_received, &e->responses_received);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"malformed\"", s->packets_malformed,
                  &e->packets_malformed);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"not-ours\"", s->packets_ignored,
                  &e->packets_ignored);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"own\"", s->own_responses,
                  &e->own_responses);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"rate-limited\"",
                  s->responses_rate_limited, &e->responses_rate_limited);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"invalid-addr\"", s->addrs_invalid,
                  &e->addrs_invalid);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"too-many-addrs\"",
                  s->addrs_dropped, &e->addrs_dropped);
  export_counter (self, "mero_mdns_dropped_total", "reason=\"table-full\"", s->peers_dropped,
                  &e->peers_dropped);
  export_counter (self, "mero_mdns_peers_expired_total", NULL, s->peers_expired,
                  &e->peers_expired);
}

/* --- interfaces --- */

static void
join (NetMdns *self, Iface *iface)
{
  if (self->fd4 >= 0 && !iface->joined4 && iface->v4->len > 0)
    {
      struct ip_mreqn mreq = { 0 };

      inet_pton (AF_INET, MERO_MDNS_IPV4_GROUP, &mreq.imr_multiaddr);
      mreq.imr_ifindex = (int) iface->index;
      if (setsockopt (self->fd4, IPPROTO_IP, IP_ADD_MEMBERSHIP, &mreq, sizeof mreq) == 0 ||
          errno == EADDRINUSE)
        iface->joined4 = TRUE;
      else
        g_debug ("mDNS: cannot join %s on %s: %s", MERO_MDNS_IPV4_GROUP, iface->name,
                 g_strerror (errno));
    }
  if (self->fd6 >= 0 && !iface->joined6 && iface->v6->len > 0)
    {
      struct ipv6_mreq mreq = { 0 };

      inet_pton (AF_INET6, MERO_MDNS_IPV6_GROUP, &mreq.ipv6mr_multiaddr);
      mreq.ipv6mr_interface = iface->index;
      if (setsockopt (self->fd6, IPPROTO_IPV6, IPV6_JOIN_GROUP, &mreq, sizeof mreq) == 0 ||
          errno == EADDRINUSE)
        iface->joined6 = TRUE;
      else
        g_debug ("mDNS: cannot join %s on %s: %s", MERO_MDNS_IPV6_GROUP, iface->name,
                 g_strerror (errno));
    }
}

/* Re-reads the interfaces that are up and can multicast, joins the new
 * ones and forgets the ones that went away (the kernel drops their
 * memberships itself). */
static void
scan_interfaces (NetMdns *self)
{
  struct ifaddrs *list = NULL;

  if (getifaddrs (&list) != 0)
    {
      g_debug ("mDNS: getifaddrs: %s", g_strerror (errno));
      return;
    }
  for (guint i = 0; i < self->ifaces->len; i++)
    {
      Iface *iface = g_ptr_array_index (self->ifaces, i);

      iface->present = FALSE;
      g_ptr_array_set_size (iface->v4, 0);
      g_ptr_array_set_size (iface->v6, 0);
    }
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      guint index;
      Iface *iface;
      GInetAddress *address;
      GSocketFamily family;

      if (ifa->ifa_addr == NULL || (ifa->ifa_flags & IFF_UP) == 0 ||
          (ifa->ifa_flags & IFF_MULTICAST) == 0 ||
          (ifa->ifa_addr->sa_family != AF_INET && ifa->ifa_addr->sa_family != AF_INET6))
        continue;
      index = if_nametoindex (ifa->ifa_name);
      if (index == 0)
        continue;
      iface = find_iface (self, index);
      if (iface == NULL)
        {
          if (self->ifaces->len >= NET_MDNS_MAX_INTERFACES)
            {
              if (!self->warned_ifaces)
                g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_WARNING, "MERO_EVENT",
                                  "mdns-interfaces", "MESSAGE",
                                  "mDNS: more than %u interfaces; the others are not used",
                                  NET_MDNS_MAX_INTERFACES);
              self->warned_ifaces = TRUE;
              continue;
            }
          iface = g_new0 (Iface, 1);
          iface->index = index;
          g_strlcpy (iface->name, ifa->ifa_name, sizeof iface->name);
          iface->v4 = g_ptr_array_new_with_free_func (g_object_unref);
          iface->v6 = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (self->ifaces, iface);
        }
      iface->present = TRUE;
      family = ifa->ifa_addr->sa_family == AF_INET ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6;
      address = g_inet_address_new_from_bytes (
          family == G_SOCKET_FAMILY_IPV4
              ? (const guint8 *) &((struct sockaddr_in *) ifa->ifa_addr)->sin_addr
              : (const guint8 *) &((struct sockaddr_in6 *) ifa->ifa_addr)->sin6_addr,
          family);
      /* IPv6 link-local addresses are kept: they show the interface
       * has IPv6, so ff02::fb is joined; addrs_for_iface skips them. */
      {
        GPtrArray *list_for = family == G_SOCKET_FAMILY_IPV4 ? iface->v4 : iface->v6;

        if (list_for->len < NET_MDNS_MAX_IFACE_ADDRS)
          g_ptr_array_add (list_for, address);
        else
          g_object_unref (address);
      }
    }
  freeifaddrs (list);
  for (guint i = 0; i < self->ifaces->len;)
    {
      Iface *iface = g_ptr_array_index (self->ifaces, i);

      if (!iface->present)
        {
          g_ptr_array_remove_index_fast (self->ifaces, i);
          continue;
        }
      join (self, iface);
      i++;
    }
}

/* Our listen addresses usable on @iface, as multiaddrs without /p2p/. */
static GStrv
addrs_for_iface (NetMdns *self, const Iface *iface)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; self->net->listen_addrs != NULL && self->net->listen_addrs[i] != NULL; i++)
    {
      g_autoptr (MeroMultiaddr) ma = mero_multiaddr_new_from_string (self->net->listen_addrs[i],
                                                                     NULL);
      g_autoptr (GInetAddress) listen = NULL;
      const guint8 *value;
      gsize len;
      MeroMultiaddrProto proto;
      guint16 port;
      GPtrArray *candidates;

      if (ma == NULL || mero_multiaddr_get_n_components (ma) != 2)
        continue;
      proto = mero_multiaddr_get_component (ma, 0, &value, &len);
      if (proto != MERO_MULTIADDR_PROTO_IP4 && proto != MERO_MULTIADDR_PROTO_IP6)
        continue;
      listen = g_inet_address_new_from_bytes (value, proto == MERO_MULTIADDR_PROTO_IP4
                                                         ? G_SOCKET_FAMILY_IPV4
                                                         : G_SOCKET_FAMILY_IPV6);
      if (mero_multiaddr_get_component (ma, 1, &value, &len) != MERO_MULTIADDR_PROTO_TCP)
        continue;
      port = (guint16) (value[0] << 8 | value[1]);
      candidates = proto == MERO_MULTIADDR_PROTO_IP4 ? iface->v4 : iface->v6;
      for (guint k = 0; k < candidates->len; k++)
        {
          GInetAddress *have = g_ptr_array_index (candidates, k);
          g_autofree char *text = NULL;
          g_autofree char *multiaddr = NULL;

          if (g_inet_address_get_is_link_local (have) && proto == MERO_MULTIADDR_PROTO_IP6)
            continue;
          if (!g_inet_address_get_is_any (listen) && !g_inet_address_equal (listen, have))
            continue;
          text = g_inet_address_to_string (have);
          multiaddr = g_strdup_printf ("/%s/%s/tcp/%u",
                                       proto == MERO_MULTIADDR_PROTO_IP4 ? "ip4" : "ip6", text,
                                       port);
          g_strv_builder_add (builder, multiaddr);
        }
    }
  return g_strv_builder_end (builder);
}

/* --- sending --- */

static void
send_multicast (NetMdns *self, Iface *iface, gboolean v6, GBytes *packet)
{
  gsize len;
  const guint8 *data = g_bytes_get_data (packet, &len);
  ssize_t n;

  if (!v6)
    {
      struct ip_mreqn mreq = { 0 };
      struct sockaddr_in to = { 0 };

      mreq.imr_ifindex = (int) iface->index;
      if (setsockopt (self->fd4, IPPROTO_IP, IP_MULTICAST_IF, &mreq, sizeof mreq) != 0)
        return;
      to.sin_family = AF_INET;
      to.sin_port = htons (MERO_MDNS_PORT);
      inet_pton (AF_INET, MERO_MDNS_IPV4_GROUP, &to.sin_addr);
      n = sendto (self->fd4, data, len, 0, (struct sockaddr *) &to, sizeof to);
    }
  else
    {
      int index = (int) iface->index;
      struct sockaddr_in6 to = { 0 };

      if (setsockopt (self->fd6, IPPROTO_IPV6, IPV6_MULTICAST_IF, &index, sizeof index) != 0)
        return;
      to.sin6_family = AF_INET6;
      to.sin6_port = htons (MERO_MDNS_PORT);
      to.sin6_scope_id = iface->index;
      inet_pton (AF_INET6, MERO_MDNS_IPV6_GROUP, &to.sin6_addr);
      n = sendto (self->fd6, data, len, 0, (struct sockaddr *) &to, sizeof to);
    }
  if (n >= 0)
    {
      *(v6 ? &iface->send_failed6 : &iface->send_failed4) = FALSE;
      return;
    }
  /* A namespace's loopback has no IPv6 multicast route, for one: say so
   * once per interface, not at every query. */
  if (!(v6 ? iface->send_failed6 : iface->send_failed4))
    g_debug ("mDNS: send on %s (%s) failed: %s", iface->name, v6 ? "IPv6" : "IPv4",
             g_strerror (errno));
  *(v6 ? &iface->send_failed6 : &iface->send_failed4) = TRUE;
}

/* --- receiving --- */

static void
emit_discovered (NetMdns *self)
{
  MeroMdnsPeer *peer;

  while ((peer = mero_mdns_pop_discovered (self->core)) != NULL)
    {
      MeroNetEvent *ev = g_new0 (MeroNetEvent, 1);

      ev->type = MERO_NET_EVENT_PEER_DISCOVERED;
      ev->peer_id = g_steal_pointer (&peer->peer_id);
      ev->addresses = g_steal_pointer (&peer->addrs);
      g_debug ("mDNS: peer %s at %s", ev->peer_id, ev->addresses[0]);
      net_emit (self->net, ev);
      mero_mdns_peer_free (peer);
    }
}

static void
handle_datagram (NetMdns *self, int fd, gboolean v6, const guint8 *data, gsize len,
                 guint ifindex, const struct sockaddr_storage *from, socklen_t from_len)
{
  g_autoptr (GError) error = NULL;
  gboolean wants_response = FALSE;
  guint16 id = 0;
  gint64 now = g_get_monotonic_time ();
  guint16 from_port = v6 ? ntohs (((const struct sockaddr_in6 *) from)->sin6_port)
                         : ntohs (((const struct sockaddr_in *) from)->sin_port);
  Iface *iface;

  if (!mero_mdns_receive (self->core, data, len, now, &wants_response, &id, &error))
    {
      g_debug ("mDNS: dropped a datagram on interface %u: %s", ifindex, error->message);
      return;
    }
  emit_discovered (self);
  if (!wants_response)
    return;
  iface = find_iface (self, ifindex);
  if (iface == NULL)
    {
      /* An interface that appeared since the last scan. */
      scan_interfaces (self);
      iface = find_iface (self, ifindex);
    }
  if (iface == NULL)
    return;
  {
    g_auto (GStrv) addrs = addrs_for_iface (self, iface);
    gboolean legacy = from_port != MERO_MDNS_PORT;
    g_autoptr (GBytes) response =
        mero_mdns_build_response (self->core, (const char *const *) addrs, ifindex,
                                  legacy ? id : 0, now);

    if (response == NULL)
      return;
    if (legacy)
      {
        gsize n;
        const guint8 *bytes = g_bytes_get_data (response, &n);

        if (sendto (fd, bytes, n, 0, (const struct sockaddr *) from, from_len) < 0)
          g_debug ("mDNS: unicast answer failed: %s", g_strerror (errno));
      }
    else
      {
        send_multicast (self, iface, v6, response);
      }
  }
}

static gboolean
on_readable (GSocket *socket, GIOCondition condition, gpointer data)
{
  NetMdns *self = data;
  gboolean v6 = socket == self->sock6;
  int fd = v6 ? self->fd6 : self->fd4;

  for (guint i = 0; i < NET_MDNS_MAX_READS; i++)
    {
      guint8 buf[MERO_DNS_MAX_MESSAGE + 1];
      union {
        char buf[CMSG_SPACE (sizeof (struct in6_pktinfo)) + CMSG_SPACE (sizeof (struct in_pktinfo))];
        struct cmsghdr align;
      } control;
      struct sockaddr_storage from = { 0 };
      struct iovec iov = { buf, sizeof buf };
      struct msghdr msg = { 0 };
      ssize_t n;
      guint ifindex = 0;

      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &iov;
      msg.msg_iovlen = 1;
      msg.msg_control = control.buf;
      msg.msg_controllen = sizeof control.buf;
      n = recvmsg (fd, &msg, MSG_DONTWAIT);
      if (n < 0)
        break;
      for (struct cmsghdr *c = CMSG_FIRSTHDR (&msg); c != NULL; c = CMSG_NXTHDR (&msg, c))
        {
          if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
            {
              struct in_pktinfo info;

              memcpy (&info, CMSG_DATA (c), sizeof info);
              ifindex = (guint) info.ipi_ifindex;
            }
          else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO)
            {
              struct in6_pktinfo info;

              memcpy (&info, CMSG_DATA (c), sizeof info);
              ifindex = info.ipi6_ifindex;
            }
        }
      /* A datagram larger than an mDNS message is malformed; the core
       * says so (and counts it) from its length. */
      if ((msg.msg_flags & MSG_TRUNC) != 0)
        n = MERO_DNS_MAX_MESSAGE + 1;
      handle_datagram (self, fd, v6, buf, (gsize) MIN ((gsize) n, sizeof buf), ifindex, &from,
                       msg.msg_namelen);
    }
  export_stats (self);
  return G_SOURCE_CONTINUE;
}

/* --- timer --- */

static gboolean on_timer (gpointer data);

static void
schedule (NetMdns *self)
{
  gint64 deadline = mero_mdns_next_deadline (self->core);
  gint64 now = g_get_monotonic_time ();
  gint64 wait_ms = deadline <= now ? 0 : (deadline - now + 999) / 1000;

  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  self->timer = g_timeout_source_new ((guint) MIN (wait_ms, (gint64) G_MAXUINT));
  g_source_set_callback (self->timer, on_timer, self, NULL);
  g_source_attach (self->timer, self->net->context);
}

static gboolean
on_timer (gpointer data)
{
  NetMdns *self = data;
  g_autoptr (GBytes) query = NULL;

  query = mero_mdns_handle_timeout (self->core, g_get_monotonic_time ());
  if (query != NULL)
    {
      scan_interfaces (self);
      for (guint i = 0; i < self->ifaces->len; i++)
        {
          Iface *iface = g_ptr_array_index (self->ifaces, i);

          if (iface->joined4)
            send_multicast (self, iface, FALSE, query);
          if (iface->joined6)
            send_multicast (self, iface, TRUE, query);
        }
    }
  export_stats (self);
  schedule (self);
  return G_SOURCE_REMOVE;
}

/* --- set-up --- */

static int
open_socket (gboolean v6, GError **error)
{
  int one = 1;
  int ttl = 255;
  int fd = socket (v6 ? AF_INET6 : AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  struct sockaddr_storage addr = { 0 };
  socklen_t addr_len;
  gboolean ok;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errno), "mDNS socket: %s",
                   g_strerror (errno));
      return -1;
    }
  if (v6)
    {
      struct sockaddr_in6 *a = (struct sockaddr_in6 *) &addr;

      a->sin6_family = AF_INET6;
      a->sin6_port = htons (MERO_MDNS_PORT);
      a->sin6_addr = in6addr_any;
      addr_len = sizeof *a;
      ok = setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) == 0 &&
           setsockopt (fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one) == 0 &&
           setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &ttl, sizeof ttl) == 0 &&
           setsockopt (fd, IPPROTO_IPV6, IPV6_MULTICAST_LOOP, &one, sizeof one) == 0;
    }
  else
    {
      struct sockaddr_in *a = (struct sockaddr_in *) &addr;
      unsigned char ttl4 = 255;
      unsigned char loop4 = 1;

      a->sin_family = AF_INET;
      a->sin_port = htons (MERO_MDNS_PORT);
      a->sin_addr.s_addr = htonl (INADDR_ANY);
      addr_len = sizeof *a;
      ok = setsockopt (fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == 0 &&
           setsockopt (fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl4, sizeof ttl4) == 0 &&
           setsockopt (fd, IPPROTO_IP, IP_MULTICAST_LOOP, &loop4, sizeof loop4) == 0;
    }
  /* Share the port with avahi, other libp2p peers and js's
   * multicast-dns (which sets SO_REUSEADDR only). */
  ok = ok && setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0;
#ifdef SO_REUSEPORT
  ok = ok && setsockopt (fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == 0;
#endif
  ok = ok && bind (fd, (struct sockaddr *) &addr, addr_len) == 0;
  if (!ok)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "mDNS %s port %u: %s",
                   v6 ? "IPv6" : "IPv4", MERO_MDNS_PORT, g_strerror (saved));
      close (fd);
      return -1;
    }
  return fd;
}

static gboolean
attach_socket (NetMdns *self, int fd, GSocket **sock, GSource **source, GError **error)
{
  *sock = g_socket_new_from_fd (fd, error);
  if (*sock == NULL)
    return FALSE;
  *source = g_socket_create_source (*sock, G_IO_IN, NULL);
  g_source_set_callback (*source, (GSourceFunc) (void (*) (void)) on_readable, self, NULL);
  g_source_attach (*source, self->net->context);
  return TRUE;
}

static char *
random_peer_name (void)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  char *name = g_malloc (NET_MDNS_PEER_NAME_LEN + 1);

  for (guint i = 0; i < NET_MDNS_PEER_NAME_LEN; i++)
    name[i] = alphabet[g_random_int_range (0, (gint32) (sizeof alphabet - 1))];
  name[NET_MDNS_PEER_NAME_LEN] = '\0';
  return name;
}

NetMdns *
net_mdns_new (MeroNetwork *net, gint64 query_interval_us, GError **error)
{
  g_autofree char *peer_id = mero_peer_id_to_string (mero_identity_get_peer_id (net->identity));
  g_autofree char *peer_name = random_peer_name ();
  MeroMdnsConfig config = { .peer_id = peer_id, .peer_name = peer_name,
                            .query_interval_us = query_interval_us };
  g_autoptr (GError) v6_error = NULL;
  NetMdns *self;
  MeroMdns *core;

  core = mero_mdns_new (&config, error);
  if (core == NULL)
    return NULL;
  self = g_new0 (NetMdns, 1);
  self->net = net;
  self->core = core;
  self->ifaces = g_ptr_array_new_with_free_func (iface_free);
  self->fd6 = -1;
  self->fd4 = open_socket (FALSE, error);
  if (self->fd4 < 0 || !attach_socket (self, self->fd4, &self->sock4, &self->source4, error))
    {
      net_mdns_free (self);
      return NULL;
    }
  /* IPv6 is optional: hosts (and test namespaces) without it run on v4. */
  self->fd6 = open_socket (TRUE, &v6_error);
  if (self->fd6 < 0 || !attach_socket (self, self->fd6, &self->sock6, &self->source6, &v6_error))
    g_debug ("mDNS without IPv6: %s", v6_error->message);
  scan_interfaces (self);
  g_log_structured (G_LOG_DOMAIN, G_LOG_LEVEL_INFO, "MERO_EVENT", "mdns-started", "MESSAGE",
                    "mDNS discovery on UDP %u as %s, %u interface(s), query every %" G_GINT64_FORMAT
                    " ms", MERO_MDNS_PORT, peer_name, self->ifaces->len,
                    query_interval_us / 1000);
  schedule (self);
  return self;
}

void
net_mdns_free (NetMdns *self)
{
  if (self == NULL)
    return;
  if (self->timer != NULL)
    {
      g_source_destroy (self->timer);
      g_source_unref (self->timer);
    }
  if (self->source4 != NULL)
    {
      g_source_destroy (self->source4);
      g_source_unref (self->source4);
    }
  if (self->source6 != NULL)
    {
      g_source_destroy (self->source6);
      g_source_unref (self->source6);
    }
  /* The GSockets own their fds once made. */
  if (self->sock4 != NULL)
    g_object_unref (self->sock4);
  else if (self->fd4 >= 0)
    close (self->fd4);
  if (self->sock6 != NULL)
    g_object_unref (self->sock6);
  else if (self->fd6 >= 0)
    close (self->fd6);
  g_ptr_array_unref (self->ifaces);
  mero_mdns_free (self->core);
  g_free (self);
}
